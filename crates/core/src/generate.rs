//! Seeded synthetic ticks and bars that the TypeScript engine reproduces exactly
//! (docs/semantics.md section 9).
//!
//! Prices are walked in integer points held in doubles, and every step uses only `+ - * /`,
//! `floor`, `%` and `sqrt` on exact values, so the output does not depend on the language.

use crate::expr::rem_int;
use crate::timeframe::{floor, Timeframe};

const MS_PER_DAY: f64 = 86_400_000.0;
const MS_PER_HOUR: f64 = 3_600_000.0;

/// The sfc32 small fast counter generator (32-bit words, wrapping arithmetic).
#[derive(Debug, Clone)]
pub struct Sfc32 {
    a: u32,
    b: u32,
    c: u32,
    d: u32,
}

impl Sfc32 {
    pub fn new(seed: u32) -> Self {
        let mut rng = Sfc32 {
            a: 0x9E37_79B9,
            b: 0x243F_6A88,
            c: 0xB7E1_5162,
            d: seed,
        };
        // The first outputs still show the fixed constants; skip them to mix the seed in.
        for _ in 0..15 {
            rng.next_u32();
        }
        rng
    }

    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let t = self.a.wrapping_add(self.b).wrapping_add(self.d);
        self.d = self.d.wrapping_add(1);
        self.a = self.b ^ (self.b >> 9);
        self.b = self.c.wrapping_add(self.c << 3);
        self.c = self.c.rotate_left(21);
        self.c = self.c.wrapping_add(t);
        t
    }

    /// The next output as a double, which is how the price arithmetic consumes it.
    #[inline]
    fn next_f64(&mut self) -> f64 {
        f64::from(self.next_u32())
    }
}

pub struct TickGenOptions {
    pub start: f64,
    pub days: f64,
    pub seed: u32,
    pub start_price: f64,
    pub digits: u32,
    pub mean_interval_ms: f64,
    pub step_points: f64,
}

pub struct BarGenOptions {
    pub timeframe: Timeframe,
    pub start: f64,
    pub count: usize,
    pub seed: u32,
    pub start_price: f64,
    pub digits: u32,
    pub step_points: f64,
}

pub struct TickColumns {
    pub time: Vec<f64>,
    pub bid: Vec<f64>,
    pub ask: Vec<f64>,
}

pub struct BarColumns {
    pub time: Vec<f64>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

/// `10^digits` by repeated multiplication, exact for every digit count a price can have.
fn pow10(digits: u32) -> f64 {
    let mut scale = 1.0;
    for _ in 0..digits {
        scale *= 10.0;
    }
    scale
}

/// Start price and floor, in points: `(pts, minPts)`.
fn points(start_price: f64, scale: f64) -> (f64, f64) {
    let pts = (start_price * scale + 0.5).floor();
    let min_pts = max2(1.0, (scale / 100.0).floor());
    (pts, min_pts)
}

#[inline(always)]
fn max2(a: f64, b: f64) -> f64 {
    if a >= b {
        a
    } else {
        b
    }
}

/// 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday).
#[inline(always)]
fn weekday(day: f64) -> f64 {
    rem_int(day + 4.0, 7.0)
}

/// Reflects a walk that went below the floor back above it.
#[inline(always)]
fn reflect(pts: f64, min_pts: f64) -> f64 {
    if pts < min_pts {
        min_pts + (min_pts - pts)
    } else {
        pts
    }
}

pub fn generate_ticks(opts: &TickGenOptions) -> TickColumns {
    let mut rng = Sfc32::new(opts.seed);
    let scale = pow10(opts.digits);
    let (mut pts, min_pts) = points(opts.start_price, scale);
    let t = opts.start;
    let end = opts.start + opts.days * MS_PER_DAY;
    let mut vol = 1.0;
    let span = 2.0 * opts.step_points + 1.0;
    let gap_mod = 2.0 * opts.mean_interval_ms - 1.0;

    let expected = if opts.mean_interval_ms > 0.0 {
        opts.days * MS_PER_DAY / opts.mean_interval_ms
    } else {
        0.0
    };
    let capacity = if expected.is_finite() && expected > 0.0 {
        expected as usize + 16
    } else {
        0
    };
    let mut out = TickColumns {
        time: Vec::with_capacity(capacity),
        bid: Vec::with_capacity(capacity),
        ask: Vec::with_capacity(capacity),
    };

    // Every operand below is an integer under 2^53, so integer remainders give exactly the values
    // the spec's double arithmetic gives, without a libm `fmod` call per operation.
    // Options are integers (the TypeScript layer checks); the floors of 1 keep a bad direct call from
    // dividing by zero.
    let gap_mod = (gap_mod as u64).max(1);
    let span = (span as u64).max(1);
    let step_points = opts.step_points;
    let mut t = t as i64;
    // `t >= end` for an integer t is `t >= ceil(end)`.
    let end = if end.is_nan() { i64::MIN } else { end.ceil() as i64 };
    const DAY: i64 = MS_PER_DAY as i64;
    const HOUR: i64 = MS_PER_HOUR as i64;
    loop {
        let r = u64::from(rng.next_u32());
        t += 1 + (r % gap_mod) as i64;
        let day = t.div_euclid(DAY);
        match (day + 4).rem_euclid(7) {
            6 => t = (day + 2) * DAY + (r % 1000) as i64,
            0 => t = (day + 1) * DAY + (r % 1000) as i64,
            _ => {}
        }
        if t >= end {
            break;
        }
        let r = rng.next_u32();
        if r % 20000 == 0 {
            vol = 1.0 + f64::from(rng.next_u32() % 3);
        }
        pts += (((u64::from(r) >> 8) % span) as f64 - step_points) * vol;
        pts = reflect(pts, min_pts);
        let r = rng.next_u32();
        let mut spread = 8.0 + f64::from(r % 5);
        // Rollover hour: spreads widen as they do around the daily swap.
        if t.div_euclid(HOUR).rem_euclid(24) == 21 {
            spread *= 3.0;
        }
        out.time.push(t as f64);
        out.bid.push(pts / scale);
        out.ask.push((pts + spread) / scale);
    }
    out
}

pub fn generate_bars(opts: &BarGenOptions) -> BarColumns {
    const SUB_STEPS: usize = 8;
    let mut rng = Sfc32::new(opts.seed);
    let scale = pow10(opts.digits);
    let (mut close, min_pts) = points(opts.start_price, scale);
    let tf = opts.timeframe.ms();
    let step_scale = ((tf / 60_000.0).sqrt() * opts.step_points / 2.0).floor() + 1.0;
    let n = opts.count;
    let mut out = BarColumns {
        time: Vec::with_capacity(n),
        open: Vec::with_capacity(n),
        high: Vec::with_capacity(n),
        low: Vec::with_capacity(n),
        close: Vec::with_capacity(n),
        volume: Vec::with_capacity(n),
    };
    let mut t = opts.timeframe.bucket(opts.start);
    for _ in 0..n {
        loop {
            let wd = weekday(floor(t / MS_PER_DAY));
            if wd != 6.0 && wd != 0.0 {
                break;
            }
            t += tf;
        }
        let open = close;
        let mut high = open;
        let mut low = open;
        for _ in 0..SUB_STEPS {
            let r = rng.next_f64();
            close += (rem_int(r, 7.0) - 3.0) * step_scale;
            close = reflect(close, min_pts);
            if close > high {
                high = close;
            }
            if close < low {
                low = close;
            }
        }
        let volume = 1.0 + rem_int(rng.next_f64(), 1000.0);
        out.time.push(t);
        out.open.push(open / scale);
        out.high.push(high / scale);
        out.low.push(low / scale);
        out.close.push(close / scale);
        out.volume.push(volume);
        t += tf;
    }
    out
}
