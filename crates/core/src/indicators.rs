//! Incremental indicators with TA-Lib's definitions and seeding (docs/semantics.md section 3).
//!
//! Every update is O(1) and allocation-free: rings are sized once at construction. The
//! arithmetic follows the contract's formulas operation by operation, because the TypeScript
//! engine evaluates the same expressions and both must agree to the bit.

use crate::data::Bar;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Open,
    High,
    Low,
    Close,
}

impl Source {
    #[inline(always)]
    pub fn of(self, bar: &Bar) -> f64 {
        match self {
            Source::Open => bar.open,
            Source::High => bar.high,
            Source::Low => bar.low,
            Source::Close => bar.close,
        }
    }
}

/// A fully resolved indicator definition (parameters already substituted and validated).
#[derive(Debug, Clone, PartialEq)]
pub enum IndicatorSpec {
    Sma {
        period: usize,
        source: Source,
    },
    Ema {
        period: usize,
        source: Source,
    },
    Rsi {
        period: usize,
        source: Source,
    },
    Atr {
        period: usize,
    },
    Bollinger {
        period: usize,
        deviations: f64,
        source: Source,
    },
    Envelope {
        period: usize,
        percent: f64,
        source: Source,
    },
    Macd {
        fast: usize,
        slow: usize,
        signal: usize,
        source: Source,
    },
}

const VALUE: &[&str] = &["value"];
const BANDS: &[&str] = &["upper", "middle", "lower"];
const MACD: &[&str] = &["macd", "signal", "hist"];

impl IndicatorSpec {
    /// Output names in output-index order.
    pub fn output_names(&self) -> &'static [&'static str] {
        match self {
            IndicatorSpec::Sma { .. }
            | IndicatorSpec::Ema { .. }
            | IndicatorSpec::Rsi { .. }
            | IndicatorSpec::Atr { .. } => VALUE,
            IndicatorSpec::Bollinger { .. } | IndicatorSpec::Envelope { .. } => BANDS,
            IndicatorSpec::Macd { .. } => MACD,
        }
    }
}

/// The last `n` values and their sum, updated as the contract's "rolling sum": the oldest value
/// leaves before the new one joins, which fixes the rounding both engines must reproduce.
#[derive(Debug, Clone)]
struct RollingWindow {
    ring: Box<[f64]>,
    /// Slot of the oldest value once the ring is full; the next slot to write either way.
    pos: usize,
    /// Values received, saturating at the period (only "full or not" matters after that).
    filled: usize,
    sum: f64,
    /// Sum of squares, kept only when `with_squares` (Bollinger).
    sum_sq: f64,
    with_squares: bool,
}

impl RollingWindow {
    fn new(period: usize, with_squares: bool) -> Self {
        assert!(period >= 1, "indicator period must be at least 1");
        RollingWindow {
            ring: vec![0.0; period].into_boxed_slice(),
            pos: 0,
            filled: 0,
            sum: 0.0,
            sum_sq: 0.0,
            with_squares,
        }
    }

    /// Adds `x`; returns true once `period` values have been received.
    #[inline(always)]
    fn push(&mut self, x: f64) -> bool {
        let n = self.ring.len();
        if self.filled == n {
            let oldest = self.ring[self.pos];
            self.sum -= oldest;
            if self.with_squares {
                self.sum_sq -= oldest * oldest;
            }
        } else {
            self.filled += 1;
        }
        self.sum += x;
        if self.with_squares {
            self.sum_sq += x * x;
        }
        self.ring[self.pos] = x;
        self.pos += 1;
        if self.pos == n {
            self.pos = 0;
        }
        self.filled == n
    }
}

/// Simple moving average.
#[derive(Debug, Clone)]
pub struct Sma {
    window: RollingWindow,
    n: f64,
    value: f64,
}

impl Sma {
    pub fn new(period: usize) -> Self {
        Sma {
            window: RollingWindow::new(period, false),
            n: period as f64,
            value: f64::NAN,
        }
    }

    #[inline]
    pub fn update(&mut self, x: f64) {
        if self.window.push(x) {
            self.value = self.window.sum / self.n;
        }
    }

    pub fn value(&self) -> f64 {
        self.value
    }
}

/// Exponential moving average seeded with the simple average of the first `n` values.
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    n: f64,
    k: f64,
    count: usize,
    seed: f64,
    value: f64,
}

impl Ema {
    pub fn new(period: usize) -> Self {
        assert!(period >= 1, "indicator period must be at least 1");
        let n = period as f64;
        Ema {
            period,
            n,
            k: 2.0 / (n + 1.0),
            count: 0,
            seed: 0.0,
            value: f64::NAN,
        }
    }

    #[inline]
    pub fn update(&mut self, x: f64) {
        if self.count < self.period {
            self.count += 1;
            // The n-th value belongs to the seed too: the seed is the mean of the first n values.
            self.seed += x;
            if self.count == self.period {
                self.value = self.seed / self.n;
            }
        } else {
            self.value = (x - self.value) * self.k + self.value;
        }
    }

    pub fn value(&self) -> f64 {
        self.value
    }
}

/// Wilder's relative strength index, as TA-Lib computes it.
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    n: f64,
    n_minus_1: f64,
    has_prev: bool,
    prev: f64,
    changes: usize,
    sum_gain: f64,
    sum_loss: f64,
    avg_gain: f64,
    avg_loss: f64,
    value: f64,
}

impl Rsi {
    pub fn new(period: usize) -> Self {
        assert!(period >= 1, "indicator period must be at least 1");
        let n = period as f64;
        Rsi {
            period,
            n,
            n_minus_1: n - 1.0,
            has_prev: false,
            prev: 0.0,
            changes: 0,
            sum_gain: 0.0,
            sum_loss: 0.0,
            avg_gain: 0.0,
            avg_loss: 0.0,
            value: f64::NAN,
        }
    }

    #[inline]
    pub fn update(&mut self, x: f64) {
        if !self.has_prev {
            self.has_prev = true;
            self.prev = x;
            return;
        }
        let d = x - self.prev;
        self.prev = x;
        let gain = if d > 0.0 { d } else { 0.0 };
        let loss = if d < 0.0 { -d } else { 0.0 };
        if self.changes < self.period {
            self.changes += 1;
            self.sum_gain += gain;
            self.sum_loss += loss;
            if self.changes < self.period {
                return;
            }
            self.avg_gain = self.sum_gain / self.n;
            self.avg_loss = self.sum_loss / self.n;
        } else {
            self.avg_gain = (self.avg_gain * self.n_minus_1 + gain) / self.n;
            self.avg_loss = (self.avg_loss * self.n_minus_1 + loss) / self.n;
        }
        let s = self.avg_gain + self.avg_loss;
        // TA-Lib's "is zero" test: a flat market reads 0, not NaN.
        self.value = if s > -1e-8 && s < 1e-8 {
            0.0
        } else {
            100.0 * (self.avg_gain / s)
        };
    }

    pub fn value(&self) -> f64 {
        self.value
    }
}

/// Wilder's average true range, as TA-Lib computes it.
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    n: f64,
    n_minus_1: f64,
    has_prev: bool,
    prev_close: f64,
    ranges: usize,
    sum: f64,
    value: f64,
}

impl Atr {
    pub fn new(period: usize) -> Self {
        assert!(period >= 1, "indicator period must be at least 1");
        let n = period as f64;
        Atr {
            period,
            n,
            n_minus_1: n - 1.0,
            has_prev: false,
            prev_close: 0.0,
            ranges: 0,
            sum: 0.0,
            value: f64::NAN,
        }
    }

    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) {
        if !self.has_prev {
            self.has_prev = true;
            self.prev_close = close;
            return;
        }
        let a = high - low;
        let b = (high - self.prev_close).abs();
        let c = (low - self.prev_close).abs();
        let tr = max2(max2(a, b), c);
        self.prev_close = close;
        if self.ranges < self.period {
            self.ranges += 1;
            self.sum += tr;
            if self.ranges == self.period {
                self.value = self.sum / self.n;
            }
        } else {
            self.value = (self.value * self.n_minus_1 + tr) / self.n;
        }
    }

    pub fn value(&self) -> f64 {
        self.value
    }
}

/// `Math.max` of two doubles, so a NaN propagates the same way in both engines.
#[inline(always)]
pub(crate) fn max2(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a >= b {
        a
    } else {
        b
    }
}

/// Bollinger bands with the population deviation.
#[derive(Debug, Clone)]
pub struct Bollinger {
    window: RollingWindow,
    n: f64,
    deviations: f64,
    upper: f64,
    middle: f64,
    lower: f64,
}

impl Bollinger {
    pub fn new(period: usize, deviations: f64) -> Self {
        Bollinger {
            window: RollingWindow::new(period, true),
            n: period as f64,
            deviations,
            upper: f64::NAN,
            middle: f64::NAN,
            lower: f64::NAN,
        }
    }

    #[inline]
    pub fn update(&mut self, x: f64) {
        if self.window.push(x) {
            let mean = self.window.sum / self.n;
            let var = self.window.sum_sq / self.n - mean * mean;
            // Cancellation can leave a tiny negative variance for a flat window.
            let sd = if var > 0.0 { var.sqrt() } else { 0.0 };
            self.middle = mean;
            self.upper = mean + self.deviations * sd;
            self.lower = mean - self.deviations * sd;
        }
    }

    pub fn upper(&self) -> f64 {
        self.upper
    }
    pub fn middle(&self) -> f64 {
        self.middle
    }
    pub fn lower(&self) -> f64 {
        self.lower
    }
}

/// Moving-average envelope: the simple average and fixed percentage bands around it.
#[derive(Debug, Clone)]
pub struct Envelope {
    window: RollingWindow,
    n: f64,
    up: f64,
    down: f64,
    upper: f64,
    middle: f64,
    lower: f64,
}

impl Envelope {
    pub fn new(period: usize, percent: f64) -> Self {
        Envelope {
            window: RollingWindow::new(period, false),
            n: period as f64,
            up: 1.0 + percent / 100.0,
            down: 1.0 - percent / 100.0,
            upper: f64::NAN,
            middle: f64::NAN,
            lower: f64::NAN,
        }
    }

    #[inline]
    pub fn update(&mut self, x: f64) {
        if self.window.push(x) {
            let middle = self.window.sum / self.n;
            self.middle = middle;
            self.upper = middle * self.up;
            self.lower = middle * self.down;
        }
    }

    pub fn upper(&self) -> f64 {
        self.upper
    }
    pub fn middle(&self) -> f64 {
        self.middle
    }
    pub fn lower(&self) -> f64 {
        self.lower
    }
}

/// MACD aligned as TA-Lib aligns it: both averages seed on the `slow`-th value, the fast one
/// from the last `fast` values only.
#[derive(Debug, Clone)]
pub struct Macd {
    fast: usize,
    slow: usize,
    signal: usize,
    kf: f64,
    ks: f64,
    kg: f64,
    /// The last `fast` values, needed only until the fast average seeds.
    ring: Box<[f64]>,
    pos: usize,
    count: usize,
    slow_sum: f64,
    fast_ema: f64,
    slow_ema: f64,
    signal_count: usize,
    signal_sum: f64,
    signal_ema: f64,
    macd: f64,
    signal_out: f64,
    hist: f64,
}

impl Macd {
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        assert!(
            fast >= 1 && signal >= 1 && fast < slow,
            "macd needs 1 <= fast < slow and signal >= 1"
        );
        Macd {
            fast,
            slow,
            signal,
            kf: 2.0 / (fast as f64 + 1.0),
            ks: 2.0 / (slow as f64 + 1.0),
            kg: 2.0 / (signal as f64 + 1.0),
            ring: vec![0.0; fast].into_boxed_slice(),
            pos: 0,
            count: 0,
            slow_sum: 0.0,
            fast_ema: 0.0,
            slow_ema: 0.0,
            signal_count: 0,
            signal_sum: 0.0,
            signal_ema: 0.0,
            macd: f64::NAN,
            signal_out: f64::NAN,
            hist: f64::NAN,
        }
    }

    #[inline]
    pub fn update(&mut self, x: f64) {
        if self.count < self.slow {
            self.count += 1;
            self.slow_sum += x;
            self.ring[self.pos] = x;
            self.pos += 1;
            if self.pos == self.fast {
                self.pos = 0;
            }
            if self.count < self.slow {
                return;
            }
            self.slow_ema = self.slow_sum / self.slow as f64;
            // Runs once: `pos` now points at the oldest of the last `fast` values.
            let mut s = 0.0;
            for i in 0..self.fast {
                s += self.ring[(self.pos + i) % self.fast];
            }
            self.fast_ema = s / self.fast as f64;
        } else {
            self.fast_ema = (x - self.fast_ema) * self.kf + self.fast_ema;
            self.slow_ema = (x - self.slow_ema) * self.ks + self.slow_ema;
        }
        let m = self.fast_ema - self.slow_ema;
        if self.signal_count < self.signal {
            self.signal_count += 1;
            self.signal_sum += m;
            if self.signal_count < self.signal {
                return;
            }
            self.signal_ema = self.signal_sum / self.signal as f64;
        } else {
            self.signal_ema = (m - self.signal_ema) * self.kg + self.signal_ema;
        }
        self.macd = m;
        self.signal_out = self.signal_ema;
        self.hist = m - self.signal_ema;
    }

    pub fn macd(&self) -> f64 {
        self.macd
    }
    pub fn signal(&self) -> f64 {
        self.signal_out
    }
    pub fn hist(&self) -> f64 {
        self.hist
    }
}

/// A running indicator. `update` takes one closed bar; `output(i)` is NaN until ready.
#[derive(Debug, Clone)]
pub enum Indicator {
    Sma(Sma, Source),
    Ema(Ema, Source),
    Rsi(Rsi, Source),
    Atr(Atr),
    Bollinger(Bollinger, Source),
    Envelope(Envelope, Source),
    Macd(Macd, Source),
}

impl Indicator {
    pub fn new(spec: &IndicatorSpec) -> Indicator {
        match *spec {
            IndicatorSpec::Sma { period, source } => Indicator::Sma(Sma::new(period), source),
            IndicatorSpec::Ema { period, source } => Indicator::Ema(Ema::new(period), source),
            IndicatorSpec::Rsi { period, source } => Indicator::Rsi(Rsi::new(period), source),
            IndicatorSpec::Atr { period } => Indicator::Atr(Atr::new(period)),
            IndicatorSpec::Bollinger {
                period,
                deviations,
                source,
            } => Indicator::Bollinger(Bollinger::new(period, deviations), source),
            IndicatorSpec::Envelope {
                period,
                percent,
                source,
            } => Indicator::Envelope(Envelope::new(period, percent), source),
            IndicatorSpec::Macd {
                fast,
                slow,
                signal,
                source,
            } => Indicator::Macd(Macd::new(fast, slow, signal), source),
        }
    }

    #[inline]
    pub fn update(&mut self, bar: &Bar) {
        match self {
            Indicator::Sma(ind, source) => ind.update(source.of(bar)),
            Indicator::Ema(ind, source) => ind.update(source.of(bar)),
            Indicator::Rsi(ind, source) => ind.update(source.of(bar)),
            Indicator::Atr(ind) => ind.update(bar.high, bar.low, bar.close),
            Indicator::Bollinger(ind, source) => ind.update(source.of(bar)),
            Indicator::Envelope(ind, source) => ind.update(source.of(bar)),
            Indicator::Macd(ind, source) => ind.update(source.of(bar)),
        }
    }

    /// Output `index` in the order of `IndicatorSpec::output_names`; NaN for an index the kind
    /// does not have.
    #[inline]
    pub fn output(&self, index: usize) -> f64 {
        match (self, index) {
            (Indicator::Sma(ind, _), 0) => ind.value(),
            (Indicator::Ema(ind, _), 0) => ind.value(),
            (Indicator::Rsi(ind, _), 0) => ind.value(),
            (Indicator::Atr(ind), 0) => ind.value(),
            (Indicator::Bollinger(ind, _), 0) => ind.upper(),
            (Indicator::Bollinger(ind, _), 1) => ind.middle(),
            (Indicator::Bollinger(ind, _), 2) => ind.lower(),
            (Indicator::Envelope(ind, _), 0) => ind.upper(),
            (Indicator::Envelope(ind, _), 1) => ind.middle(),
            (Indicator::Envelope(ind, _), 2) => ind.lower(),
            (Indicator::Macd(ind, _), 0) => ind.macd(),
            (Indicator::Macd(ind, _), 1) => ind.signal(),
            (Indicator::Macd(ind, _), 2) => ind.hist(),
            _ => f64::NAN,
        }
    }
}
