//! Columnar market data, validated once and shared read-only by every job that reads it.

use crate::error::{js_number, Error};
use crate::timeframe::Timeframe;
use std::sync::Arc;

/// One bar (bid prices); `time` is the bar's open.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bar {
    pub time: f64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

#[derive(Debug, Clone)]
pub struct TickData {
    pub time: Arc<[f64]>,
    pub bid: Arc<[f64]>,
    pub ask: Arc<[f64]>,
    pub volume: Option<Arc<[f64]>>,
}

#[derive(Debug, Clone)]
pub struct BarData {
    pub timeframe: Timeframe,
    pub time: Arc<[f64]>,
    pub open: Arc<[f64]>,
    pub high: Arc<[f64]>,
    pub low: Arc<[f64]>,
    pub close: Arc<[f64]>,
    pub volume: Arc<[f64]>,
}

#[derive(Debug, Clone)]
pub enum MarketData {
    Ticks(TickData),
    Bars(BarData),
}

impl MarketData {
    pub fn len(&self) -> usize {
        match self {
            MarketData::Ticks(t) => t.time.len(),
            MarketData::Bars(b) => b.time.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn check_len(name: &str, col: &[f64], expected: usize, against: &str) -> Result<(), Error> {
    if col.len() != expected {
        return Err(Error::data(
            name,
            format!(
                "length {} differs from {} length {}",
                col.len(),
                against,
                expected
            ),
        ));
    }
    Ok(())
}

fn positive_price(col: &str, i: usize, x: f64) -> Result<(), Error> {
    if !(x.is_finite() && x > 0.0) {
        return Err(Error::data(
            format!("{col}[{i}]"),
            format!("{} is not a positive finite price", js_number(x)),
        ));
    }
    Ok(())
}

fn volume_ok(col: &str, i: usize, x: f64) -> Result<(), Error> {
    if !(x.is_finite() && x >= 0.0) {
        return Err(Error::data(
            format!("{col}[{i}]"),
            format!("{} is not a finite non-negative volume", js_number(x)),
        ));
    }
    Ok(())
}

impl TickData {
    /// Validates the columns (docs/semantics.md section 1) and takes ownership of them.
    pub fn new(
        time: Vec<f64>,
        bid: Vec<f64>,
        ask: Vec<f64>,
        volume: Option<Vec<f64>>,
    ) -> Result<Self, Error> {
        Self::validate(&time, &bid, &ask, volume.as_deref())?;
        Ok(TickData {
            time: time.into(),
            bid: bid.into(),
            ask: ask.into(),
            volume: volume.map(Into::into),
        })
    }

    /// Validates borrowed columns and copies each once into shared storage (the binding's path:
    /// the caller's typed arrays are read in place).
    pub fn from_slices(
        time: &[f64],
        bid: &[f64],
        ask: &[f64],
        volume: Option<&[f64]>,
    ) -> Result<Self, Error> {
        Self::validate(time, bid, ask, volume)?;
        Ok(TickData {
            time: time.into(),
            bid: bid.into(),
            ask: ask.into(),
            volume: volume.map(Into::into),
        })
    }

    pub fn validate(time: &[f64], bid: &[f64], ask: &[f64], volume: Option<&[f64]>) -> Result<(), Error> {
        let n = time.len();
        if n == 0 {
            return Err(Error::data("ticks", "no rows"));
        }
        check_len("ticks.bid", bid, n, "ticks.time")?;
        check_len("ticks.ask", ask, n, "ticks.time")?;
        if let Some(v) = volume {
            check_len("ticks.volume", v, n, "ticks.time")?;
        }
        for i in 0..n {
            let t = time[i];
            if !t.is_finite() {
                return Err(Error::data(
                    format!("ticks.time[{i}]"),
                    format!("{} is not a finite time", js_number(t)),
                ));
            }
            if i > 0 && t < time[i - 1] {
                return Err(Error::data(
                    format!("ticks.time[{i}]"),
                    format!(
                        "{} is earlier than ticks.time[{}] ({})",
                        js_number(t),
                        i - 1,
                        js_number(time[i - 1])
                    ),
                ));
            }
            positive_price("ticks.bid", i, bid[i])?;
            positive_price("ticks.ask", i, ask[i])?;
            if ask[i] < bid[i] {
                return Err(Error::data(
                    format!("ticks.ask[{i}]"),
                    format!(
                        "{} is below ticks.bid[{i}] ({})",
                        js_number(ask[i]),
                        js_number(bid[i])
                    ),
                ));
            }
            if let Some(v) = volume {
                volume_ok("ticks.volume", i, v[i])?;
            }
        }
        Ok(())
    }
}

impl BarData {
    /// Validates the columns (docs/semantics.md section 1) and takes ownership of them.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        timeframe: Timeframe,
        time: Vec<f64>,
        open: Vec<f64>,
        high: Vec<f64>,
        low: Vec<f64>,
        close: Vec<f64>,
        volume: Vec<f64>,
    ) -> Result<Self, Error> {
        Self::validate(timeframe, &time, &open, &high, &low, &close, &volume)?;
        Ok(BarData {
            timeframe,
            time: time.into(),
            open: open.into(),
            high: high.into(),
            low: low.into(),
            close: close.into(),
            volume: volume.into(),
        })
    }

    /// Validates borrowed columns and copies each once into shared storage.
    #[allow(clippy::too_many_arguments)]
    pub fn from_slices(
        timeframe: Timeframe,
        time: &[f64],
        open: &[f64],
        high: &[f64],
        low: &[f64],
        close: &[f64],
        volume: &[f64],
    ) -> Result<Self, Error> {
        Self::validate(timeframe, time, open, high, low, close, volume)?;
        Ok(BarData {
            timeframe,
            time: time.into(),
            open: open.into(),
            high: high.into(),
            low: low.into(),
            close: close.into(),
            volume: volume.into(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub fn validate(
        timeframe: Timeframe,
        time: &[f64],
        open: &[f64],
        high: &[f64],
        low: &[f64],
        close: &[f64],
        volume: &[f64],
    ) -> Result<(), Error> {
        let n = time.len();
        if n == 0 {
            return Err(Error::data("bars", "no rows"));
        }
        check_len("bars.open", open, n, "bars.time")?;
        check_len("bars.high", high, n, "bars.time")?;
        check_len("bars.low", low, n, "bars.time")?;
        check_len("bars.close", close, n, "bars.time")?;
        check_len("bars.volume", volume, n, "bars.time")?;
        let tf = timeframe.ms();
        for i in 0..n {
            let t = time[i];
            if !t.is_finite() {
                return Err(Error::data(
                    format!("bars.time[{i}]"),
                    format!("{} is not a finite time", js_number(t)),
                ));
            }
            if t.fract() != 0.0 || crate::expr::rem_int(t, tf) != 0.0 {
                return Err(Error::data(
                    format!("bars.time[{i}]"),
                    format!("{} is not aligned to {}", js_number(t), timeframe),
                ));
            }
            if i > 0 && t <= time[i - 1] {
                return Err(Error::data(
                    format!("bars.time[{i}]"),
                    format!(
                        "{} is not after bars.time[{}] ({})",
                        js_number(t),
                        i - 1,
                        js_number(time[i - 1])
                    ),
                ));
            }
            positive_price("bars.open", i, open[i])?;
            positive_price("bars.high", i, high[i])?;
            positive_price("bars.low", i, low[i])?;
            positive_price("bars.close", i, close[i])?;
            let lo = open[i].min(close[i]);
            let hi = open[i].max(close[i]);
            if low[i] > lo {
                return Err(Error::data(
                    format!("bars.low[{i}]"),
                    format!(
                        "{} is above min(open, close) ({})",
                        js_number(low[i]),
                        js_number(lo)
                    ),
                ));
            }
            if high[i] < hi {
                return Err(Error::data(
                    format!("bars.high[{i}]"),
                    format!(
                        "{} is below max(open, close) ({})",
                        js_number(high[i]),
                        js_number(hi)
                    ),
                ));
            }
            volume_ok("bars.volume", i, volume[i])?;
        }
        Ok(())
    }

    pub fn bar(&self, i: usize) -> Bar {
        Bar {
            time: self.time[i],
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
        }
    }
}
