//! Daily indicators over a series (docs/symphony.md section 3) and the per-ticker indicator
//! series a run reads, computed once and shared.
//!
//! `sma`, `ema` and `rsi` are the engine's own incremental indicators; the others keep a ring of
//! recent values and sum it oldest to newest from 0 at every update, as the contract writes.

use super::data::DailyData;
use super::ir::{Indicator, IndicatorRef};
use crate::indicators::{max2, Ema, Rsi, Sma};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The last `m` values in arrival order, each stored twice (at `i` and `i + m`) so that the
/// window is always one contiguous slice.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    buf: Box<[f64]>,
    m: usize,
    /// Next slot to write; the oldest value once the ring is full.
    pos: usize,
    filled: usize,
}

impl Ring {
    fn new(m: usize) -> Ring {
        Ring {
            buf: vec![0.0; 2 * m].into_boxed_slice(),
            m,
            pos: 0,
            filled: 0,
        }
    }

    #[inline]
    fn push(&mut self, x: f64) {
        self.buf[self.pos] = x;
        self.buf[self.pos + self.m] = x;
        self.pos += 1;
        if self.pos == self.m {
            self.pos = 0;
        }
        if self.filled < self.m {
            self.filled += 1;
        }
    }

    #[inline]
    fn full(&self) -> bool {
        self.filled == self.m
    }

    /// The values oldest to newest, once full.
    #[inline]
    fn window(&self) -> &[f64] {
        &self.buf[self.pos..self.pos + self.m]
    }

    /// The oldest value, once full.
    #[inline]
    fn oldest(&self) -> f64 {
        self.buf[self.pos]
    }
}

/// `sum` from 0, in order.
#[inline]
fn sum(xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for &x in xs {
        s += x;
    }
    s
}

/// Population deviation: `m = sum / w`, `ss = ss + (x - m) * (x - m)` in order, `sqrt(ss / w)`.
#[inline]
fn population_sd(xs: &[f64]) -> f64 {
    let w = xs.len() as f64;
    let m = sum(xs) / w;
    let mut ss = 0.0;
    for &x in xs {
        ss += (x - m) * (x - m);
    }
    (ss / w).sqrt()
}

/// Max drawdown in percent over the window: `peak = x_first`, then for each value in order
/// `peak = max(peak, v)`, `dd = max(dd, (peak - v) / peak)` from 0.
#[inline]
fn max_drawdown(xs: &[f64]) -> f64 {
    let mut peak = xs[0];
    let mut dd = 0.0;
    for &v in xs {
        peak = max2(peak, v);
        dd = max2(dd, (peak - v) / peak);
    }
    dd * 100.0
}

/// Daily returns `x_t / x_(t-1) - 1` from the series' second value.
#[derive(Debug, Clone)]
pub(crate) struct Returns {
    prev: f64,
    has_prev: bool,
    ring: Ring,
}

impl Returns {
    fn new(w: usize) -> Returns {
        Returns {
            prev: 0.0,
            has_prev: false,
            ring: Ring::new(w),
        }
    }

    /// Records `x`; true once the ring holds `w` returns.
    #[inline]
    fn push(&mut self, x: f64) -> bool {
        if self.has_prev {
            self.ring.push(x / self.prev - 1.0);
        }
        self.prev = x;
        self.has_prev = true;
        self.ring.full()
    }
}

/// One indicator fed one value per day; `update` returns its value (NaN until ready).
#[derive(Debug, Clone)]
pub(crate) enum IndicatorState {
    CurrentPrice,
    Sma(Sma),
    Ema(Ema),
    Rsi(Rsi),
    MovingAverageReturn(Returns),
    CumulativeReturn(Ring),
    StdevReturn(Returns),
    StdevPrice(Ring),
    MaxDrawdown(Ring),
    /// The window needs more values than the series can have: always NaN.
    Never,
}

/// How many series values `ind` needs before its first value.
fn needed(ind: IndicatorRef) -> usize {
    let w = ind.window;
    match ind.func {
        Indicator::CurrentPrice => 1,
        Indicator::MovingAveragePrice | Indicator::ExponentialMovingAveragePrice | Indicator::StdevPrice => w,
        Indicator::Rsi
        | Indicator::MovingAverageReturn
        | Indicator::CumulativeReturn
        | Indicator::StdevReturn
        | Indicator::MaxDrawdown => w.saturating_add(1),
    }
}

impl IndicatorState {
    /// A fresh indicator for a series of at most `max_len` values.
    pub(crate) fn new(ind: IndicatorRef, max_len: usize) -> IndicatorState {
        if needed(ind) > max_len {
            return IndicatorState::Never;
        }
        let w = ind.window;
        match ind.func {
            Indicator::CurrentPrice => IndicatorState::CurrentPrice,
            Indicator::MovingAveragePrice => IndicatorState::Sma(Sma::new(w)),
            Indicator::ExponentialMovingAveragePrice => IndicatorState::Ema(Ema::new(w)),
            Indicator::Rsi => IndicatorState::Rsi(Rsi::new(w)),
            Indicator::MovingAverageReturn => IndicatorState::MovingAverageReturn(Returns::new(w)),
            Indicator::CumulativeReturn => IndicatorState::CumulativeReturn(Ring::new(w + 1)),
            Indicator::StdevReturn => IndicatorState::StdevReturn(Returns::new(w)),
            Indicator::StdevPrice => IndicatorState::StdevPrice(Ring::new(w)),
            Indicator::MaxDrawdown => IndicatorState::MaxDrawdown(Ring::new(w + 1)),
        }
    }

    #[inline]
    pub(crate) fn update(&mut self, x: f64) -> f64 {
        match self {
            IndicatorState::CurrentPrice => x,
            IndicatorState::Sma(s) => {
                s.update(x);
                s.value()
            }
            IndicatorState::Ema(e) => {
                e.update(x);
                e.value()
            }
            IndicatorState::Rsi(r) => {
                r.update(x);
                r.value()
            }
            IndicatorState::MovingAverageReturn(r) => {
                if r.push(x) {
                    sum(r.ring.window()) / r.ring.m as f64 * 100.0
                } else {
                    f64::NAN
                }
            }
            IndicatorState::CumulativeReturn(ring) => {
                ring.push(x);
                if ring.full() {
                    (x / ring.oldest() - 1.0) * 100.0
                } else {
                    f64::NAN
                }
            }
            IndicatorState::StdevReturn(r) => {
                if r.push(x) {
                    population_sd(r.ring.window()) * 100.0
                } else {
                    f64::NAN
                }
            }
            IndicatorState::StdevPrice(ring) => {
                ring.push(x);
                if ring.full() {
                    population_sd(ring.window())
                } else {
                    f64::NAN
                }
            }
            IndicatorState::MaxDrawdown(ring) => {
                ring.push(x);
                if ring.full() {
                    max_drawdown(ring.window())
                } else {
                    f64::NAN
                }
            }
            IndicatorState::Never => f64::NAN,
        }
    }
}

/// What a window indicator computes from its window.
#[derive(Debug, Clone, Copy)]
enum WindowFn {
    /// `sum / w * 100` (moving-average-return).
    MeanPct,
    /// `population_sd * 100` (stdev-return).
    SdPct,
    /// `population_sd` (stdev-price).
    Sd,
    /// `max_drawdown` (max-drawdown).
    Drawdown,
}

impl WindowFn {
    #[inline]
    fn eval(self, xs: &[f64]) -> f64 {
        match self {
            WindowFn::MeanPct => sum(xs) / xs.len() as f64 * 100.0,
            WindowFn::SdPct => population_sd(xs) * 100.0,
            WindowFn::Sd => population_sd(xs),
            WindowFn::Drawdown => max_drawdown(xs),
        }
    }
}

/// Windows computed side by side: each lane runs the scalar formula for its own window, in the
/// same order, so the values are the scalar ones while independent additions overlap.
const LANES: usize = 8;

#[inline]
fn lane_rows(x: &[f64], start: usize, m: usize) -> impl Iterator<Item = &[f64; LANES]> {
    (0..m).map(move |i| {
        <&[f64; LANES]>::try_from(&x[start + i..start + i + LANES]).expect("a full row of lanes")
    })
}

/// `f` of the windows starting at `start .. start + LANES`, each `m` long.
#[inline]
fn lanes(x: &[f64], start: usize, m: usize, f: WindowFn) -> [f64; LANES] {
    let w = m as f64;
    let mut acc = [0.0; LANES];
    match f {
        WindowFn::MeanPct | WindowFn::SdPct | WindowFn::Sd => {
            for row in lane_rows(x, start, m) {
                for j in 0..LANES {
                    acc[j] += row[j];
                }
            }
            if let WindowFn::MeanPct = f {
                return acc.map(|s| s / w * 100.0);
            }
            let mean = acc.map(|s| s / w);
            let mut ss = [0.0; LANES];
            for row in lane_rows(x, start, m) {
                for j in 0..LANES {
                    ss[j] += (row[j] - mean[j]) * (row[j] - mean[j]);
                }
            }
            let scale = if let WindowFn::SdPct = f { 100.0 } else { 1.0 };
            if scale == 1.0 {
                ss.map(|s| (s / w).sqrt())
            } else {
                ss.map(|s| (s / w).sqrt() * 100.0)
            }
        }
        WindowFn::Drawdown => {
            let mut peak: [f64; LANES] = x[start..start + LANES].try_into().expect("a full row of lanes");
            for row in lane_rows(x, start, m) {
                for j in 0..LANES {
                    let v = row[j];
                    peak[j] = max2(peak[j], v);
                    acc[j] = max2(acc[j], (peak[j] - v) / peak[j]);
                }
            }
            acc.map(|dd| dd * 100.0)
        }
    }
}

/// `out[e] = f(x[e + 1 - m ..= e])` for every `e >= m - 1`; `out` is as long as `x`.
fn windows(x: &[f64], m: usize, f: WindowFn, out: &mut [f64]) {
    if m == 0 || m > x.len() {
        return;
    }
    let mut start = 0;
    let count = x.len() - m + 1;
    while start + LANES <= count {
        let values = lanes(x, start, m, f);
        out[start + m - 1..start + m - 1 + LANES].copy_from_slice(&values);
        start += LANES;
    }
    for s in start..count {
        out[s + m - 1] = f.eval(&x[s..s + m]);
    }
}

/// `ind` over the closes of data column `column`: NaN before the ticker's first priced day, then
/// fed one close per day.
pub fn ticker_series(data: &DailyData, column: usize, ind: IndicatorRef) -> Vec<f64> {
    let close = data.close(column);
    let mut out = vec![f64::NAN; close.len()];
    let Some(first) = close.iter().position(|c| c.is_finite()) else {
        return out;
    };
    let values = &close[first..];
    if needed(ind) > values.len() {
        return out;
    }
    let series = &mut out[first..];
    let w = ind.window;
    let returns = || -> Vec<f64> { values.windows(2).map(|p| p[1] / p[0] - 1.0).collect() };
    match ind.func {
        // The value on series day `s` reads the returns `r[s - w .. s]`.
        Indicator::MovingAverageReturn => windows(&returns(), w, WindowFn::MeanPct, &mut series[1..]),
        Indicator::StdevReturn => windows(&returns(), w, WindowFn::SdPct, &mut series[1..]),
        Indicator::StdevPrice => windows(values, w, WindowFn::Sd, series),
        Indicator::MaxDrawdown => windows(values, w + 1, WindowFn::Drawdown, series),
        _ => {
            let mut state = IndicatorState::new(ind, values.len());
            for (o, &x) in series.iter_mut().zip(values) {
                *o = state.update(x);
            }
        }
    }
    out
}

/// An indicator over one data column; `current-price` needs none (it is the close column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    pub ind: IndicatorRef,
    pub column: usize,
}

/// Ticker indicator series computed once and read by every run that names them.
#[derive(Debug, Default, Clone)]
pub struct SeriesCache {
    map: HashMap<SeriesKey, Arc<[f64]>>,
}

impl SeriesCache {
    pub fn new() -> SeriesCache {
        SeriesCache::default()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, key: &SeriesKey) -> Option<&Arc<[f64]>> {
        self.map.get(key)
    }

    pub fn insert(&mut self, key: SeriesKey, series: Arc<[f64]>) {
        self.map.insert(key, series);
    }

    /// Computes every key, on `pool` when given (one task per key). Once `cancel` is set the
    /// remaining keys are skipped.
    pub fn build(
        data: &DailyData,
        keys: &BTreeSet<SeriesKey>,
        pool: Option<&rayon::ThreadPool>,
        cancel: Option<&AtomicBool>,
    ) -> SeriesCache {
        use rayon::prelude::*;
        let keys: Vec<SeriesKey> = keys.iter().copied().collect();
        let compute = |key: &SeriesKey| -> Option<(SeriesKey, Arc<[f64]>)> {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return None;
            }
            Some((*key, ticker_series(data, key.column, key.ind).into()))
        };
        let computed: Vec<Option<(SeriesKey, Arc<[f64]>)>> = match pool {
            Some(pool) => pool.install(|| keys.par_iter().with_max_len(1).map(compute).collect()),
            None => keys.iter().map(compute).collect(),
        };
        SeriesCache {
            map: computed.into_iter().flatten().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(func: Indicator, window: usize, xs: &[f64]) -> Vec<f64> {
        let mut s = IndicatorState::new(IndicatorRef { func, window }, xs.len());
        xs.iter().map(|&x| s.update(x)).collect()
    }

    fn same(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits(),
                "index {i}: {x} != {y} ({a:?} vs {b:?})"
            );
        }
    }

    const N: f64 = f64::NAN;

    #[test]
    fn ring_orders_oldest_first() {
        let mut r = Ring::new(3);
        for x in [1.0, 2.0, 3.0, 4.0, 5.0] {
            r.push(x);
        }
        assert!(r.full());
        assert_eq!(r.window(), &[3.0, 4.0, 5.0]);
        assert_eq!(r.oldest(), 3.0);
        assert_eq!(sum(r.window()), 12.0);
    }

    #[test]
    fn current_price_is_the_value() {
        same(&run(Indicator::CurrentPrice, 0, &[1.0, 2.5]), &[1.0, 2.5]);
    }

    #[test]
    fn moving_average_price_is_the_rolling_sma() {
        same(
            &run(Indicator::MovingAveragePrice, 3, &[1.0, 2.0, 3.0, 4.0, 8.0]),
            &[N, N, 2.0, 3.0, 5.0],
        );
    }

    #[test]
    fn exponential_moving_average_is_sma_seeded() {
        // k = 2 / 3; seed (1 + 3) / 2 = 2; then (6 - 2) * k + 2.
        let k = 2.0 / 3.0;
        same(
            &run(Indicator::ExponentialMovingAveragePrice, 2, &[1.0, 3.0, 6.0]),
            &[N, 2.0, (6.0 - 2.0) * k + 2.0],
        );
    }

    #[test]
    fn rsi_is_wilder() {
        // Changes +1, -2, +3 with n = 2: ag = 0.5, al = 1 -> 100 * 0.5 / 1.5; then
        // ag = (0.5 * 1 + 3) / 2 = 1.75, al = (1 * 1 + 0) / 2 = 0.5 -> 100 * 1.75 / 2.25.
        same(
            &run(Indicator::Rsi, 2, &[10.0, 11.0, 9.0, 12.0]),
            &[N, N, 100.0 * (0.5 / 1.5), 100.0 * (1.75 / 2.25)],
        );
        same(&run(Indicator::Rsi, 1, &[5.0, 5.0]), &[N, 0.0]);
    }

    #[test]
    fn moving_average_return_sums_the_ring() {
        let xs = [100.0, 110.0, 99.0, 99.0];
        let r1 = 110.0 / 100.0 - 1.0;
        let r2 = 99.0 / 110.0 - 1.0;
        let r3 = 99.0 / 99.0 - 1.0;
        same(
            &run(Indicator::MovingAverageReturn, 2, &xs),
            &[N, N, (0.0 + r1 + r2) / 2.0 * 100.0, (0.0 + r2 + r3) / 2.0 * 100.0],
        );
    }

    #[test]
    fn cumulative_return_spans_w_days() {
        same(
            &run(Indicator::CumulativeReturn, 2, &[100.0, 50.0, 110.0, 55.0]),
            &[N, N, (110.0 / 100.0 - 1.0) * 100.0, (55.0 / 50.0 - 1.0) * 100.0],
        );
    }

    #[test]
    fn stdev_return_is_the_population_deviation_in_percent() {
        let xs = [100.0, 110.0, 99.0];
        let r1 = 110.0 / 100.0 - 1.0;
        let r2 = 99.0 / 110.0 - 1.0;
        let m = (0.0 + r1 + r2) / 2.0;
        let ss: f64 = 0.0 + (r1 - m) * (r1 - m) + (r2 - m) * (r2 - m);
        same(
            &run(Indicator::StdevReturn, 2, &xs),
            &[N, N, (ss / 2.0).sqrt() * 100.0],
        );
    }

    #[test]
    fn stdev_price_is_the_population_deviation() {
        // 2, 4, 4, 4, 5, 5, 7, 9: the textbook population deviation 2.
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let out = run(Indicator::StdevPrice, 8, &xs);
        same(&out, &[N, N, N, N, N, N, N, 2.0]);
        same(&run(Indicator::StdevPrice, 1, &[3.0, 4.0]), &[0.0, 0.0]);
    }

    #[test]
    fn max_drawdown_over_w_plus_one_values() {
        // Window 3 reads 4 values: 100, 120, 90, 110 -> peak 120, dd (120 - 90) / 120.
        let out = run(Indicator::MaxDrawdown, 3, &[100.0, 120.0, 90.0, 110.0, 130.0]);
        let d1 = (120.0 - 90.0) / 120.0 * 100.0;
        same(&out, &[N, N, N, d1, d1]);
        same(&run(Indicator::MaxDrawdown, 1, &[1.0, 2.0, 3.0]), &[N, 0.0, 0.0]);
    }

    #[test]
    fn batched_ticker_series_equal_the_incremental_ones() {
        let mut rng = crate::generate::Sfc32::new(9);
        let mut p = 100.0;
        let mut close = vec![f64::NAN; 5];
        for _ in 0..200 {
            p *= 1.0 + (f64::from(rng.next_u32() % 2001) - 1000.0) / 30_000.0;
            close.push(p);
        }
        let days = close.len();
        let dates = (0..days).map(|t| t as f64 * 86_400_000.0).collect();
        let data = DailyData::new(dates, vec!["X".into()], vec![close.clone()], vec![close.clone()])
            .expect("valid data");
        for func in Indicator::ALL {
            for window in [1, 2, 3, 7, 8, 9, 16, 21, 60, 199, 200, 201] {
                let ind = IndicatorRef { func, window };
                let batched = ticker_series(&data, 0, ind);
                let mut state = IndicatorState::new(ind, days - 5);
                let mut incremental = vec![f64::NAN; 5];
                incremental.extend(close[5..].iter().map(|&x| state.update(x)));
                same(&batched, &incremental);
            }
        }
    }

    #[test]
    fn a_window_longer_than_the_data_is_never_ready() {
        let s = IndicatorState::new(
            IndicatorRef {
                func: Indicator::MovingAveragePrice,
                window: usize::MAX,
            },
            10,
        );
        assert!(matches!(s, IndicatorState::Never));
        same(&run(Indicator::CumulativeReturn, 3, &[1.0, 2.0, 3.0]), &[N, N, N]);
        same(
            &run(Indicator::MovingAveragePrice, 3, &[1.0, 2.0, 3.0]),
            &[N, N, 2.0],
        );
    }
}
