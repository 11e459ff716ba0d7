//! Daily bars of several tickers on one calendar (docs/symphony.md section 2), validated once and
//! shared read-only by every run.

use crate::error::{js_number, Error};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct DailyData {
    dates: Arc<[f64]>,
    tickers: Arc<[String]>,
    open: Arc<[Arc<[f64]>]>,
    close: Arc<[Arc<[f64]>]>,
}

impl DailyData {
    /// Builds the data from one column per ticker (`open[k][t]`, `close[k][t]`).
    ///
    /// Checks, in order: at least one day; dates finite and strictly increasing; ticker names
    /// unique; one open and one close column per ticker, each as long as `dates`; then per ticker,
    /// from its first finite close on, every close and open finite and > 0 (before it, the values
    /// are not read).
    pub fn new(
        dates: Vec<f64>,
        tickers: Vec<String>,
        open: Vec<Vec<f64>>,
        close: Vec<Vec<f64>>,
    ) -> Result<DailyData, Error> {
        validate_dates(&dates)?;
        validate_tickers(&tickers)?;
        let days = dates.len();
        for (name, cols) in [("open", &open), ("close", &close)] {
            if cols.len() != tickers.len() {
                return Err(Error::data(
                    format!("data.{name}"),
                    format!(
                        "{} columns for {} tickers (expected one per ticker)",
                        cols.len(),
                        tickers.len()
                    ),
                ));
            }
            for (k, col) in cols.iter().enumerate() {
                if col.len() != days {
                    return Err(Error::data(
                        format!("data.{name}[{}]", tickers[k]),
                        format!("length {} differs from data.dates length {days}", col.len()),
                    ));
                }
            }
        }
        for k in 0..tickers.len() {
            validate_prices(&tickers[k], &open[k], &close[k])?;
        }
        Ok(DailyData {
            dates: dates.into(),
            tickers: tickers.into(),
            open: open.into_iter().map(Arc::from).collect(),
            close: close.into_iter().map(Arc::from).collect(),
        })
    }

    /// Builds the data from ticker-major flat columns: `close[k * days + t]`.
    pub fn from_flat(
        dates: &[f64],
        tickers: Vec<String>,
        open: &[f64],
        close: &[f64],
    ) -> Result<DailyData, Error> {
        let days = dates.len();
        let expected = tickers.len().checked_mul(days);
        for (name, col) in [("open", open), ("close", close)] {
            if Some(col.len()) != expected {
                return Err(Error::data(
                    format!("data.{name}"),
                    format!(
                        "length {} is not tickers ({}) x days ({days})",
                        col.len(),
                        tickers.len()
                    ),
                ));
            }
        }
        let split = |col: &[f64]| -> Vec<Vec<f64>> {
            if days == 0 {
                return vec![Vec::new(); tickers.len()];
            }
            col.chunks(days).map(<[f64]>::to_vec).collect()
        };
        let open = split(open);
        let close = split(close);
        DailyData::new(dates.to_vec(), tickers, open, close)
    }

    pub fn days(&self) -> usize {
        self.dates.len()
    }

    pub fn dates(&self) -> &[f64] {
        &self.dates
    }

    pub fn tickers(&self) -> &[String] {
        &self.tickers
    }

    /// The column of `ticker`, if the data has it.
    pub fn column(&self, ticker: &str) -> Option<usize> {
        self.tickers.iter().position(|t| t == ticker)
    }

    pub fn open(&self, column: usize) -> &[f64] {
        &self.open[column]
    }

    pub fn close(&self, column: usize) -> &[f64] {
        &self.close[column]
    }

    pub(crate) fn close_arc(&self, column: usize) -> Arc<[f64]> {
        self.close[column].clone()
    }

    pub(crate) fn open_arc(&self, column: usize) -> Arc<[f64]> {
        self.open[column].clone()
    }
}

fn validate_dates(dates: &[f64]) -> Result<(), Error> {
    if dates.is_empty() {
        return Err(Error::data("data.dates", "no days"));
    }
    for (t, &d) in dates.iter().enumerate() {
        if !d.is_finite() {
            return Err(Error::data(
                format!("data.dates[{t}]"),
                format!("{} is not a finite time", js_number(d)),
            ));
        }
        if t > 0 && d <= dates[t - 1] {
            return Err(Error::data(
                format!("data.dates[{t}]"),
                format!(
                    "{} is not after data.dates[{}] ({})",
                    js_number(d),
                    t - 1,
                    js_number(dates[t - 1])
                ),
            ));
        }
    }
    Ok(())
}

fn validate_tickers(tickers: &[String]) -> Result<(), Error> {
    for (k, name) in tickers.iter().enumerate() {
        if tickers[..k].contains(name) {
            return Err(Error::data(
                format!("data.tickers[{k}]"),
                format!("duplicate ticker '{name}'"),
            ));
        }
    }
    Ok(())
}

fn validate_prices(ticker: &str, open: &[f64], close: &[f64]) -> Result<(), Error> {
    let Some(first) = close.iter().position(|c| c.is_finite()) else {
        return Ok(());
    };
    for t in first..close.len() {
        for (name, x) in [("close", close[t]), ("open", open[t])] {
            if !(x.is_finite() && x > 0.0) {
                return Err(Error::data(
                    format!("data.{name}[{ticker}][{t}]"),
                    format!(
                        "{} is not a positive finite price (the ticker is priced from day {first})",
                        js_number(x)
                    ),
                ));
            }
        }
    }
    Ok(())
}
