use serde::Deserialize;
use std::fmt;

/// A UTC-aligned bar timeframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Timeframe {
    M1,
    M5,
    M15,
    M30,
    H1,
    H4,
    D1,
}

impl Timeframe {
    pub const ALL: [Timeframe; 7] = [
        Timeframe::M1,
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::M30,
        Timeframe::H1,
        Timeframe::H4,
        Timeframe::D1,
    ];

    pub fn ms(self) -> f64 {
        match self {
            Timeframe::M1 => 60_000.0,
            Timeframe::M5 => 300_000.0,
            Timeframe::M15 => 900_000.0,
            Timeframe::M30 => 1_800_000.0,
            Timeframe::H1 => 3_600_000.0,
            Timeframe::H4 => 14_400_000.0,
            Timeframe::D1 => 86_400_000.0,
        }
    }

    /// The open time of the bar containing `t`.
    #[inline(always)]
    pub fn bucket(self, t: f64) -> f64 {
        let ms = self.ms();
        floor(t / ms) * ms
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Timeframe::M1 => "M1",
            Timeframe::M5 => "M5",
            Timeframe::M15 => "M15",
            Timeframe::M30 => "M30",
            Timeframe::H1 => "H1",
            Timeframe::H4 => "H4",
            Timeframe::D1 => "D1",
        }
    }

    pub fn parse(s: &str) -> Option<Timeframe> {
        Timeframe::ALL.into_iter().find(|tf| tf.as_str() == s)
    }

    /// Position in `ALL`, for per-timeframe arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `f64::floor`, bit for bit, without a library call: on the baseline x86-64 target (no SSE4.1
/// `roundsd`) `f64::floor` is a call into compiler-builtins that costs more than the rest of a
/// bar's work. From 2^52 on every double is an integer; below, truncation through an integer is
/// exact and is corrected down for negative fractions. Zeros, NaN and infinities pass unchanged.
#[inline(always)]
// One comparison that is also false for NaN.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub fn floor(x: f64) -> f64 {
    if !(x.abs() < 4_503_599_627_370_496.0) || x == 0.0 {
        return x;
    }
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::floor;

    #[test]
    fn floor_is_the_standard_floor_bit_for_bit() {
        let mut edge = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            1e-300,
            -1e-300,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            -4_503_599_627_370_497.0,
            9.3e18,
            -9.3e18,
            1e300,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut s: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            edge.push(f64::from_bits(s));
            edge.push((s % 4_000_000_000_000) as f64 / 7.0 - 2e11);
        }
        for x in edge {
            let (want, got) = (x.floor(), floor(x));
            assert!(
                want.to_bits() == got.to_bits() || (want.is_nan() && got.is_nan()),
                "floor({x:e}) gave {got:e}, not {want:e}"
            );
        }
    }
}
