//! Load options as the binding receives them (JSON), with the defaults of docs/data.md.

use super::text::{parse_timezone, TimeFormat};
use super::LoadError;
use crate::timeframe::Timeframe;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ticks,
    Bars,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ticks => "ticks",
            Kind::Bars => "bars",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Auto,
    Dukascopy,
    Histdata,
    Mt5,
    Csv,
    Arrow,
    Parquet,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "auto" => Format::Auto,
            "dukascopy" => Format::Dukascopy,
            "histdata" => Format::Histdata,
            "mt5" => Format::Mt5,
            "csv" => Format::Csv,
            "arrow" => Format::Arrow,
            "parquet" => Format::Parquet,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Dukascopy => "dukascopy",
            Format::Histdata => "histdata",
            Format::Mt5 => "mt5",
            Format::Csv => "csv",
            Format::Arrow => "arrow",
            Format::Parquet => "parquet",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Error,
    Skip,
}

/// A column named in the header (case-insensitive) or a 0-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRef {
    Name(String),
    Index(usize),
}

/// Options of one load; `None` means the doc's default.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub kind: Kind,
    pub format: Format,
    /// `(role, column)`: roles `time bid ask volume` or `time open high low close volume`.
    pub columns: Vec<(String, ColumnRef)>,
    pub header: bool,
    pub delimiter: Option<u8>,
    pub time_format: TimeFormat,
    /// Offset from UTC in ms; `None`: UTC, HistData EST.
    pub timezone_ms: Option<i64>,
    pub policy: Policy,
    pub gap_ms: Option<f64>,
    pub timeframe: Option<Timeframe>,
}

impl LoadOptions {
    pub fn new(kind: Kind) -> Self {
        LoadOptions {
            kind,
            format: Format::Auto,
            columns: Vec::new(),
            header: true,
            delimiter: None,
            time_format: TimeFormat::Auto,
            timezone_ms: None,
            policy: Policy::Error,
            gap_ms: None,
            timeframe: None,
        }
    }

    /// Parses the binding's options JSON; missing or null fields take their defaults, unknown
    /// fields (`symbol`, `cache`, `engine`) are ignored.
    pub fn from_json(json: &str) -> Result<Self, LoadError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            kind: Option<String>,
            format: Option<String>,
            columns: Option<serde_json::Map<String, Value>>,
            header: Option<bool>,
            delimiter: Option<String>,
            time_format: Option<String>,
            timezone: Option<String>,
            policy: Option<String>,
            gap_ms: Option<f64>,
            timeframe: Option<String>,
        }
        let bad = |field: &str, message: String| LoadError::at(format!("options.{field}"), message);
        let raw: Raw = serde_json::from_str(json).map_err(|e| LoadError::at("options", e.to_string()))?;
        let kind = match raw.kind.as_deref() {
            None | Some("ticks") => Kind::Ticks,
            Some("bars") => Kind::Bars,
            Some(k) => return Err(bad("kind", format!("'{k}' is not 'ticks' or 'bars'"))),
        };
        let mut o = LoadOptions::new(kind);
        if let Some(f) = raw.format {
            o.format = Format::parse(&f).ok_or_else(|| {
                bad(
                    "format",
                    format!("unknown format '{f}' (expected auto, dukascopy, histdata, mt5, csv, arrow or parquet)"),
                )
            })?;
        }
        let roles: &[&str] = match kind {
            Kind::Ticks => &["time", "bid", "ask", "volume"],
            Kind::Bars => &["time", "open", "high", "low", "close", "volume"],
        };
        for (role, v) in raw.columns.unwrap_or_default() {
            if v.is_null() {
                continue;
            }
            if !roles.contains(&role.as_str()) {
                return Err(bad(
                    &format!("columns.{role}"),
                    format!("unknown column role (expected one of {})", roles.join(", ")),
                ));
            }
            let r = match &v {
                Value::String(s) => ColumnRef::Name(s.clone()),
                Value::Number(n) => match n.as_u64() {
                    Some(i) => ColumnRef::Index(i as usize),
                    None => {
                        return Err(bad(
                            &format!("columns.{role}"),
                            format!("{n} is not a non-negative integer index"),
                        ))
                    }
                },
                _ => {
                    return Err(bad(
                        &format!("columns.{role}"),
                        "expected a column name or a 0-based index".into(),
                    ))
                }
            };
            o.columns.push((role, r));
        }
        o.header = raw.header.unwrap_or(true);
        if let Some(d) = raw.delimiter {
            o.delimiter = Some(match d.as_str() {
                "," => b',',
                ";" => b';',
                "\t" => b'\t',
                _ => return Err(bad("delimiter", format!("{d:?} is not ',', ';' or a tab"))),
            });
        }
        if let Some(t) = raw.time_format {
            o.time_format = TimeFormat::parse(&t).ok_or_else(|| {
                bad(
                    "timeFormat",
                    format!("unknown time format '{t}' (expected auto, epoch-ms, epoch-s or datetime)"),
                )
            })?;
        }
        if let Some(z) = raw.timezone {
            o.timezone_ms = Some(parse_timezone(&z).ok_or_else(|| {
                bad(
                    "timezone",
                    format!("unknown timezone '{z}' (expected UTC, EST or ±HH:MM)"),
                )
            })?);
        }
        o.policy = match raw.policy.as_deref() {
            None | Some("error") => Policy::Error,
            Some("skip") => Policy::Skip,
            Some(p) => return Err(bad("policy", format!("'{p}' is not 'error' or 'skip'"))),
        };
        if let Some(g) = raw.gap_ms {
            if !(g.is_finite() && g > 0.0) {
                return Err(bad(
                    "gapMs",
                    format!("{} is not a positive finite number", crate::error::js_number(g)),
                ));
            }
            o.gap_ms = Some(g);
        }
        if let Some(tf) = raw.timeframe {
            o.timeframe = Some(Timeframe::parse(&tf).ok_or_else(|| {
                bad(
                    "timeframe",
                    format!("unknown timeframe '{tf}' (expected one of M1, M5, M15, M30, H1, H4, D1)"),
                )
            })?);
        }
        Ok(o)
    }
}
