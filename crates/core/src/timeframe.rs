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
        (t / ms).floor() * ms
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
