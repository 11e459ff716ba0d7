//! Streaming loaders for CSV-like market data files (docs/data.md): Dukascopy, HistData, MT5 and
//! generic CSV, with format detection, integer time parsing, row validation, and a load report.
//! The file is read line by line through a buffer; only the output columns grow with its size.

mod decode;
mod options;
mod reader;
mod report;
pub mod text;

pub use options::{ColumnRef, Format, Kind, LoadOptions, Policy};
pub use report::{Gaps, LoadReport, Skipped, SkippedRow, Spread};
pub use text::TimeFormat;

use std::fmt;

/// One problem of a failed load: `path` is `file`, or `file:row` for a row's problem.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Issue {
    pub path: String,
    pub message: String,
}

/// Why a load failed: every variant names the file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub issues: Vec<Issue>,
}

impl LoadError {
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        LoadError {
            issues: vec![Issue {
                path: path.into(),
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, i) in self.issues.iter().enumerate() {
            if k > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}: {}", i.path, i.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// Loaded columns: ticks fill `bid`, `ask` and maybe `volume`; bars fill `open`, `high`, `low`,
/// `close` and `volume`. Unused columns are empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns {
    pub time: Vec<f64>,
    pub bid: Vec<f64>,
    pub ask: Vec<f64>,
    pub volume: Option<Vec<f64>>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
}

/// A successful load.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub columns: Columns,
    pub report: LoadReport,
}

/// Loads `path` with `options` (docs/data.md). `path` is used as given in messages and the
/// report.
pub fn load_file(path: &str, options: &LoadOptions) -> Result<Loaded, LoadError> {
    reader::load_file(path, options)
}

/// Loads from any buffered reader; `path` names the source in messages and selects the format
/// by extension under `format: 'auto'`.
pub fn load_reader<R: std::io::BufRead>(
    path: &str,
    input: R,
    options: &LoadOptions,
) -> Result<Loaded, LoadError> {
    reader::load_reader(path, input, options)
}
