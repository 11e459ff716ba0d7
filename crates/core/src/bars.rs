//! Bars from prices and larger bars from closed smaller ones (docs/semantics.md section 2).
//!
//! The engine renders only the base timeframe from prices and aggregates every larger one from
//! closed base bars with `Aggregate`; `render_ticks` and `aggregate` run the same steps over
//! whole series, so the equivalence of the two routes can be checked directly.

use crate::data::{Bar, TickData};
use crate::timeframe::Timeframe;

/// A bar of `tf` opened by a price: `open = high = low = close = price`.
#[inline]
pub fn open_bar(tf: Timeframe, t: f64, price: f64, volume: f64) -> Bar {
    Bar {
        time: tf.bucket(t),
        open: price,
        high: price,
        low: price,
        close: price,
        volume,
    }
}

/// Adds one price to a forming bar (bid prices; volume is a tick count or the summed column).
#[inline(always)]
pub fn add_price(bar: &mut Bar, price: f64, volume: f64) {
    if price > bar.high {
        bar.high = price;
    }
    if price < bar.low {
        bar.low = price;
    }
    bar.close = price;
    bar.volume += volume;
}

/// Adds a run of prices to a forming bar: exactly what `add_price` on each would give (prices are
/// validated, never NaN, so max and min do not depend on the order), but with four independent
/// accumulators instead of one dependency chain per tick. Without a volume column each price
/// counts 1, and adding the count at once is exact below 2^53.
pub fn extend_bar(bar: &mut Bar, prices: &[f64], volume: Option<&[f64]>) {
    let Some(&last) = prices.last() else { return };
    let mut hi = [bar.high; 4];
    let mut lo = [bar.low; 4];
    let chunks = prices.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for u in 0..4 {
            if c[u] > hi[u] {
                hi[u] = c[u];
            }
            if c[u] < lo[u] {
                lo[u] = c[u];
            }
        }
    }
    for &x in rest {
        if x > hi[0] {
            hi[0] = x;
        }
        if x < lo[0] {
            lo[0] = x;
        }
    }
    for u in 1..4 {
        if hi[u] > hi[0] {
            hi[0] = hi[u];
        }
        if lo[u] < lo[0] {
            lo[0] = lo[u];
        }
    }
    bar.high = hi[0];
    bar.low = lo[0];
    bar.close = last;
    match volume {
        // Summed in order, as tick by tick, so the rounding is the same.
        Some(v) => {
            for &x in v {
                bar.volume += x;
            }
        }
        None => bar.volume += prices.len() as f64,
    }
}

/// The forming bar of a larger timeframe, built from closed base bars.
#[derive(Debug, Clone, Copy)]
pub struct Aggregate {
    pub bar: Bar,
    pub open: bool,
}

impl Aggregate {
    pub const NONE: Aggregate = Aggregate {
        bar: Bar {
            time: 0.0,
            open: 0.0,
            high: 0.0,
            low: 0.0,
            close: 0.0,
            volume: 0.0,
        },
        open: false,
    };

    /// Adds a closed bar: the first one starts the aggregate in its bucket of `tf`.
    #[inline]
    pub fn add(&mut self, tf: Timeframe, closed: &Bar) {
        if self.open {
            let b = &mut self.bar;
            if closed.high > b.high {
                b.high = closed.high;
            }
            if closed.low < b.low {
                b.low = closed.low;
            }
            b.close = closed.close;
            b.volume += closed.volume;
        } else {
            self.bar = Bar {
                time: tf.bucket(closed.time),
                ..*closed
            };
            self.open = true;
        }
    }

    /// `add` of bars `range` of the columns in turn: extremes are taken over the run at once
    /// (prices are validated, never NaN, so the order does not matter) and volumes summed in
    /// order, so the result is `add`'s bit for bit.
    pub fn add_run(&mut self, tf: Timeframe, bars: &crate::data::BarData, range: std::ops::Range<usize>) {
        if range.is_empty() {
            return;
        }
        let mut from = range.start;
        if !self.open {
            self.add(tf, &bars.bar(from));
            from += 1;
        }
        let to = range.end;
        let b = &mut self.bar;
        for &h in &bars.high[from..to] {
            if h > b.high {
                b.high = h;
            }
        }
        for &l in &bars.low[from..to] {
            if l < b.low {
                b.low = l;
            }
        }
        for &v in &bars.volume[from..to] {
            b.volume += v;
        }
        if from < to {
            b.close = bars.close[to - 1];
        }
    }

    /// Takes the aggregate out if `t` lies in a later bucket of a timeframe `ms` long.
    #[inline]
    pub fn close_before(&mut self, t: f64, ms: f64) -> Option<Bar> {
        if self.open && t >= self.bar.time + ms {
            self.open = false;
            Some(self.bar)
        } else {
            None
        }
    }
}

/// The last `capacity` items pushed, newest first by `get(0)`. Storage grows with what is
/// pushed, so a deep offset costs memory only once that many bars have closed.
#[derive(Debug, Clone)]
pub struct Ring<T> {
    buf: Vec<T>,
    capacity: usize,
    head: usize,
}

impl<T: Copy> Ring<T> {
    pub fn new(capacity: usize) -> Self {
        Ring {
            buf: Vec::new(),
            capacity,
            head: 0,
        }
    }

    #[inline]
    pub fn push(&mut self, x: T) {
        if self.buf.len() < self.capacity {
            self.buf.push(x);
            self.head = self.buf.len() - 1;
        } else if self.capacity > 0 {
            self.head = if self.head + 1 == self.capacity {
                0
            } else {
                self.head + 1
            };
            self.buf[self.head] = x;
        }
    }

    /// The item pushed `offset` pushes ago, if still kept.
    #[inline]
    pub fn get(&self, offset: usize) -> Option<T> {
        if offset >= self.buf.len() {
            return None;
        }
        let i = if offset <= self.head {
            self.head - offset
        } else {
            self.head + self.buf.len() - offset
        };
        Some(self.buf[i])
    }

    /// How many items are kept at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Every bar of `tf` built directly from the bids (the last one closed by the end of data).
pub fn render_ticks(ticks: &TickData, tf: Timeframe) -> Vec<Bar> {
    let ms = tf.ms();
    let mut out = Vec::new();
    let mut forming: Option<Bar> = None;
    for i in 0..ticks.time.len() {
        let (t, bid) = (ticks.time[i], ticks.bid[i]);
        let volume = ticks.volume.as_ref().map_or(1.0, |v| v[i]);
        match &mut forming {
            Some(bar) if t < bar.time + ms => add_price(bar, bid, volume),
            _ => {
                if let Some(bar) = forming {
                    out.push(bar);
                }
                forming = Some(open_bar(tf, t, bid, volume));
            }
        }
    }
    out.extend(forming);
    out
}

/// Closed bars of a smaller timeframe aggregated into `tf`, as the engine does it.
pub fn aggregate(bars: &[Bar], tf: Timeframe) -> Vec<Bar> {
    let ms = tf.ms();
    let mut out = Vec::new();
    let mut agg = Aggregate::NONE;
    for bar in bars {
        if let Some(closed) = agg.close_before(bar.time, ms) {
            out.push(closed);
        }
        agg.add(tf, bar);
    }
    if let Some(closed) = agg.close_before(f64::INFINITY, ms) {
        out.push(closed);
    }
    out
}
