//! Indicator series shared by the jobs of a batch ("computed once per batch", DESIGN.md).
//!
//! Bars do not depend on parameters: for one data set, one `end` and one base timeframe, every
//! timeframe closes the same bars in the same order in every job. A worker's outputs therefore
//! depend only on its timeframe and its resolved `IndicatorSpec`, and a batch can compute them
//! once. The engine then reads the outputs after its k-th closed bar of that timeframe instead of
//! updating its own indicator. The series are made by the same `Indicator` code over the same
//! bars, so a run reading them gives bit-for-bit the output of a run that does not.

use crate::bars::{aggregate, extend_bar, open_bar};
use crate::config::RunConfig;
use crate::data::{Bar, BarData, MarketData, TickData};
use crate::engine::read_count;
use crate::indicators::{Indicator, IndicatorSpec, Source};
use crate::ir::Program;
use crate::metrics::DayEnds;
use crate::timeframe::Timeframe;
use rayon::prelude::*;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Memory a cache may hold. A batch on long bar data with many distinct specs would otherwise keep
/// every series alive for the whole batch; keys past the budget are simply not shared (their jobs
/// compute them, with the same result).
pub const SERIES_BUDGET_BYTES: usize = 256 << 20;

/// A worker's timeframe and resolved indicator: what its output sequence depends on.
#[derive(Debug, Clone)]
pub struct SeriesKey {
    timeframe: Timeframe,
    spec: IndicatorSpec,
    /// The key as bits, for hashing and equality (`IndicatorSpec` holds doubles, which are
    /// validated finite and positive, so bit equality is value equality).
    id: [u64; 6],
}

impl SeriesKey {
    pub fn new(timeframe: Timeframe, spec: IndicatorSpec) -> SeriesKey {
        let tf = timeframe.index() as u64;
        let src = |s: Source| s as u64;
        let id = match spec {
            IndicatorSpec::Sma { period, source } => [tf, 0, period as u64, src(source), 0, 0],
            IndicatorSpec::Ema { period, source } => [tf, 1, period as u64, src(source), 0, 0],
            IndicatorSpec::Rsi { period, source } => [tf, 2, period as u64, src(source), 0, 0],
            IndicatorSpec::Atr { period } => [tf, 3, period as u64, 0, 0, 0],
            IndicatorSpec::Bollinger {
                period,
                deviations,
                source,
            } => [tf, 4, period as u64, deviations.to_bits(), src(source), 0],
            IndicatorSpec::Envelope {
                period,
                percent,
                source,
            } => [tf, 5, period as u64, percent.to_bits(), src(source), 0],
            IndicatorSpec::Macd {
                fast,
                slow,
                signal,
                source,
            } => [tf, 6, fast as u64, slow as u64, signal as u64, src(source)],
        };
        SeriesKey { timeframe, spec, id }
    }

    pub fn timeframe(&self) -> Timeframe {
        self.timeframe
    }

    pub fn spec(&self) -> &IndicatorSpec {
        &self.spec
    }
}

impl PartialEq for SeriesKey {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for SeriesKey {}

impl PartialOrd for SeriesKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// An arbitrary but fixed order, for reproducible choices among keys.
impl Ord for SeriesKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

impl Hash for SeriesKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// The keys of a program's workers that its rules read (an unread worker needs no values).
pub fn series_keys(program: &Program) -> impl Iterator<Item = SeriesKey> + '_ {
    program
        .workers()
        .iter()
        .filter(|w| w.depth > 0)
        .map(|w| SeriesKey::new(w.timeframe, w.spec.clone()))
}

/// The base timeframe a run of `program` on `data` builds its bars from.
pub fn run_base(data: &MarketData, program: &Program) -> Timeframe {
    match data {
        MarketData::Ticks(_) => program.tick_base(),
        MarketData::Bars(bars) => bars.timeframe,
    }
}

/// A worker's outputs after each closed bar of its timeframe, `outputs` values per bar.
#[derive(Debug)]
pub struct SharedSeries {
    outputs: usize,
    values: Vec<f64>,
}

impl SharedSeries {
    fn compute(spec: &IndicatorSpec, bars: &[Bar]) -> SharedSeries {
        let outputs = spec.output_names().len();
        let mut indicator = Indicator::new(spec);
        let mut values = Vec::with_capacity(bars.len() * outputs);
        for bar in bars {
            indicator.update(bar);
            for k in 0..outputs {
                values.push(indicator.output(k));
            }
        }
        SharedSeries { outputs, values }
    }

    /// The series over the first `n` bars of `bars`, read from the columns in place (a run's own
    /// series for the bar-mode fast path; same updates, same values as `compute`).
    pub(crate) fn of_bars(spec: &IndicatorSpec, bars: &BarData, n: usize) -> SharedSeries {
        let outputs = spec.output_names().len();
        let mut indicator = Indicator::new(spec);
        let mut values = Vec::with_capacity(n * outputs);
        for i in 0..n {
            indicator.update(&bars.bar(i));
            for k in 0..outputs {
                values.push(indicator.output(k));
            }
        }
        SharedSeries { outputs, values }
    }

    /// One output after the `k`-th closed bar.
    #[inline(always)]
    pub(crate) fn value(&self, k: usize, output: usize) -> f64 {
        self.values[k * self.outputs + output]
    }

    /// `out[l] = value(first + l, output)` for every lane; the caller knows the bars exist.
    #[inline(always)]
    pub(crate) fn lanes(&self, first: usize, output: usize, out: &mut [f64]) {
        let o = self.outputs;
        if o == 1 {
            out.copy_from_slice(&self.values[first..first + out.len()]);
        } else {
            let v = &self.values[first * o + output..];
            for (l, x) in out.iter_mut().enumerate() {
                *x = v[l * o];
            }
        }
    }

    /// The values of a one-output series, one per closed bar.
    pub(crate) fn column(&self) -> Option<&[f64]> {
        (self.outputs == 1).then_some(&self.values[..])
    }

    /// Closed bars covered.
    pub fn len(&self) -> usize {
        self.values.len() / self.outputs
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The outputs after the `k`-th closed bar (from 0), NaN-padded to three as the engine keeps them.
    #[inline]
    pub fn at(&self, k: usize) -> [f64; 3] {
        // Every kind has one or three outputs; spelling both out avoids a variable-length copy on
        // each closed bar, which costs about as much as updating a simple indicator.
        match self.outputs {
            1 => [self.values[k], f64::NAN, f64::NAN],
            3 => {
                let v = &self.values[3 * k..3 * k + 3];
                [v[0], v[1], v[2]]
            }
            n => {
                let mut out = [f64::NAN; 3];
                out[..n].copy_from_slice(&self.values[k * n..(k + 1) * n]);
                out
            }
        }
    }
}

/// Shared series for runs of one data set with one `end` and one base timeframe. The engine
/// uses it only for runs that match all three, so a cache handed to another run is ignored.
#[derive(Debug)]
pub struct SeriesCache {
    /// Kept for identity: the columns are compared by address, never by content.
    data: MarketData,
    events: usize,
    base: Timeframe,
    series: Vec<(SeriesKey, SharedSeries)>,
    /// The day ends of the equity times of the runs that read this cache.
    days: DayEnds,
}

impl SeriesCache {
    /// Computes the series of `keys` (duplicates once, in the order given, up to
    /// `SERIES_BUDGET_BYTES`) over the bars a run of `data` with `config` and base timeframe
    /// `base` closes, the bars closed at the end of data included. Keys of a timeframe smaller
    /// than the base (which no run accepts) are skipped.
    pub fn build(data: &MarketData, config: &RunConfig, base: Timeframe, keys: &[SeriesKey]) -> SeriesCache {
        Self::build_on(data, config, base, keys, None)
    }

    /// `build`, computing the series in parallel on `pool` when given.
    pub(crate) fn build_on(
        data: &MarketData,
        config: &RunConfig,
        base: Timeframe,
        keys: &[SeriesKey],
        pool: Option<&rayon::ThreadPool>,
    ) -> SeriesCache {
        let events = match data {
            MarketData::Ticks(t) => read_count(&t.time, config),
            MarketData::Bars(b) => read_count(&b.time, config),
        };
        let mut cache = SeriesCache {
            data: data.clone(),
            events,
            base,
            series: Vec::new(),
            days: DayEnds::default(),
        };
        let mut wanted: Vec<&SeriesKey> = Vec::new();
        for key in keys {
            if key.timeframe >= base && !wanted.contains(&key) {
                wanted.push(key);
            }
        }
        if wanted.is_empty() {
            return cache;
        }
        let base_bars = match data {
            MarketData::Ticks(t) => tick_bars(t, events, base),
            MarketData::Bars(b) => (0..events).map(|i| b.bar(i)).collect(),
        };
        // The closed bars per timeframe, the base first; larger ones aggregated from it.
        let mut frames: Vec<(Timeframe, Vec<Bar>)> = vec![(base, base_bars)];
        // Which keys fit the budget, with the bars of their timeframe.
        let mut chosen: Vec<(&SeriesKey, usize)> = Vec::new();
        let mut spent = 0;
        for key in wanted {
            let tf = key.timeframe;
            let frame = match frames.iter().position(|(t, _)| *t == tf) {
                Some(i) => i,
                None => {
                    let bars = aggregate(&frames[0].1, tf);
                    frames.push((tf, bars));
                    frames.len() - 1
                }
            };
            let size = frames[frame].1.len() * key.spec.output_names().len() * std::mem::size_of::<f64>();
            if spent + size <= SERIES_BUDGET_BYTES {
                spent += size;
                chosen.push((key, frame));
            }
        }
        let compute = |&(key, frame): &(&SeriesKey, usize)| {
            (key.clone(), SharedSeries::compute(&key.spec, &frames[frame].1))
        };
        cache.series = match pool {
            Some(pool) => pool.install(|| chosen.par_iter().map(compute).collect()),
            None => chosen.iter().map(compute).collect(),
        };
        cache
    }

    /// The day ends shared by the runs that read this cache (`metrics::compute_with`).
    pub fn days(&self) -> &DayEnds {
        &self.days
    }

    /// Number of series held.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The series of a worker on `timeframe` computing `spec`, if held.
    pub fn get(&self, timeframe: Timeframe, spec: &IndicatorSpec) -> Option<&SharedSeries> {
        let key = SeriesKey::new(timeframe, spec.clone());
        self.series.iter().find(|(k, _)| *k == key).map(|(_, s)| s)
    }

    /// Whether a run of `program` on `data` with `config` reads this cache (same data, `end` and
    /// base timeframe).
    pub fn applies_to(&self, data: &MarketData, program: &Program, config: &RunConfig) -> bool {
        match data {
            MarketData::Ticks(t) => self.fits_ticks(t, read_count(&t.time, config), program.tick_base()),
            MarketData::Bars(b) => self.fits_bars(b, read_count(&b.time, config)),
        }
    }

    pub(crate) fn fits_ticks(&self, ticks: &TickData, events: usize, base: Timeframe) -> bool {
        let same = match &self.data {
            MarketData::Ticks(t) => {
                Arc::ptr_eq(&t.time, &ticks.time)
                    && Arc::ptr_eq(&t.bid, &ticks.bid)
                    && Arc::ptr_eq(&t.ask, &ticks.ask)
                    && match (&t.volume, &ticks.volume) {
                        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                        (None, None) => true,
                        _ => false,
                    }
            }
            MarketData::Bars(_) => false,
        };
        same && self.events == events && self.base == base
    }

    pub(crate) fn fits_bars(&self, bars: &BarData, events: usize) -> bool {
        let same = match &self.data {
            MarketData::Bars(b) => {
                b.timeframe == bars.timeframe
                    && Arc::ptr_eq(&b.time, &bars.time)
                    && Arc::ptr_eq(&b.open, &bars.open)
                    && Arc::ptr_eq(&b.high, &bars.high)
                    && Arc::ptr_eq(&b.low, &bars.low)
                    && Arc::ptr_eq(&b.close, &bars.close)
                    && Arc::ptr_eq(&b.volume, &bars.volume)
            }
            MarketData::Ticks(_) => false,
        };
        same && self.events == events && self.base == bars.timeframe
    }
}

/// The base bars a tick-mode run closes over the first `n` ticks, the last one included. A bar
/// holds the ticks before its boundary; times never decrease, so a search finds each boundary
/// and `extend_bar` renders the run between (the engine's fast path, same result as adding the
/// prices one by one).
fn tick_bars(ticks: &TickData, n: usize, base: Timeframe) -> Vec<Bar> {
    let ms = base.ms();
    let time = &ticks.time[..n];
    let bid = &ticks.bid[..n];
    let volume = ticks.volume.as_deref().map(|v| &v[..n]);
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let mut bar = open_bar(base, time[i], bid[i], volume.map_or(1.0, |v| v[i]));
        let boundary = bar.time + ms;
        let j = i + 1 + first_at_or_after(&time[i + 1..], boundary);
        extend_bar(&mut bar, &bid[i + 1..j], volume.map(|v| &v[i + 1..j]));
        out.push(bar);
        i = j;
    }
    out
}

/// The index of the first time `>= boundary` (or the length). A bar holds a few hundred ticks, so
/// an exponential search from the start stays in a few cache lines where a binary search over
/// the whole remainder would miss on every step.
pub(crate) fn first_at_or_after(time: &[f64], boundary: f64) -> usize {
    let mut hi = 1;
    while hi < time.len() && time[hi] < boundary {
        hi *= 2;
    }
    // Nothing before `hi / 2` reaches the boundary; `time[hi]`, if any, does.
    let lo = hi / 2;
    let hi = hi.min(time.len());
    lo + time[lo..hi].partition_point(|&t| t < boundary)
}

#[cfg(test)]
mod tests {
    use super::first_at_or_after;

    #[test]
    fn finds_the_first_time_at_or_after_a_boundary() {
        let time: Vec<f64> = (0..100).map(|i| f64::from(i / 3)).collect();
        for boundary in [-1.0, 0.0, 0.5, 1.0, 7.0, 32.0, 33.0, 34.0, 1e9] {
            let want = time.iter().position(|&t| t >= boundary).unwrap_or(time.len());
            assert_eq!(first_at_or_after(&time, boundary), want, "{boundary}");
        }
        assert_eq!(first_at_or_after(&[], 1.0), 0);
    }
}
