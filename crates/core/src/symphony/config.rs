//! The run configuration of a symphony (docs/symphony.md section 5).

use super::ir::{parse_rebalance, Rebalance};
use crate::config::parse_json;
use crate::error::{js_number, Error, ErrorKind};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymphonyFill {
    Close,
    Open,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SymphonyConfig {
    /// Overrides the symphony's own rule when set.
    pub rebalance: Option<Rebalance>,
    pub fill_at: SymphonyFill,
    /// Percent of traded notional.
    pub commission_pct: f64,
    pub initial_capital: f64,
    /// Epoch ms; `None` is the first day.
    pub start: Option<f64>,
    /// Epoch ms; `None` is the last day.
    pub end: Option<f64>,
    pub periods_per_year: f64,
}

impl Default for SymphonyConfig {
    fn default() -> Self {
        SymphonyConfig {
            rebalance: None,
            fill_at: SymphonyFill::Close,
            commission_pct: 0.0,
            initial_capital: 10_000.0,
            start: None,
            end: None,
            periods_per_year: 252.0,
        }
    }
}

fn err(path: &str, message: impl Into<String>) -> Error {
    Error::config(path, message)
}

fn number(v: &Value, path: &str) -> Result<f64, Error> {
    match v {
        Value::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN)),
        Value::Object(map) if map.contains_key("param") => Err(err(
            path,
            "unresolved parameter reference (the engine needs a resolved configuration)",
        )),
        other => Err(err(path, format!("expected a number, got {other}"))),
    }
}

impl SymphonyConfig {
    /// Parses and checks a configuration; errors name their path under `config`. Missing fields
    /// take the defaults of section 5 (`fillAt` defaults to `"close"`).
    pub fn from_json(json: &str) -> Result<SymphonyConfig, Error> {
        SymphonyConfig::from_value(&parse_json(json, "config", ErrorKind::Config)?)
    }

    pub fn from_value(value: &Value) -> Result<SymphonyConfig, Error> {
        let Value::Object(map) = value else {
            return Err(err("config", format!("expected an object, got {value}")));
        };
        let mut config = SymphonyConfig::default();
        for (key, v) in map {
            let path = format!("config.{key}");
            match key.as_str() {
                "rebalance" => {
                    config.rebalance = match v {
                        Value::Null => None,
                        v => Some(parse_rebalance(v, &path).map_err(|e| err(&e.path, e.message))?),
                    }
                }
                "fillAt" => {
                    config.fill_at = match v {
                        Value::String(s) if s == "close" => SymphonyFill::Close,
                        Value::String(s) if s == "open" => SymphonyFill::Open,
                        other => {
                            return Err(err(&path, format!("expected \"close\" or \"open\", got {other}")))
                        }
                    }
                }
                "commissionPct" => config.commission_pct = number(v, &path)?,
                "initialCapital" => config.initial_capital = number(v, &path)?,
                "periodsPerYear" => config.periods_per_year = number(v, &path)?,
                "start" | "end" => {
                    let x = match v {
                        Value::Null => None,
                        v => Some(number(v, &path)?),
                    };
                    if key == "start" {
                        config.start = x;
                    } else {
                        config.end = x;
                    }
                }
                _ => {
                    return Err(err(
                        &path,
                        format!("unknown field '{key}' in a symphony run configuration"),
                    ))
                }
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks in field order: commission, capital, periods per year, start, end, start <= end.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(Rebalance::Threshold(x)) = self.rebalance {
            if !(x.is_finite() && x > 0.0) {
                return Err(err(
                    "config.rebalance.threshold",
                    format!("expected a finite number > 0, got {}", js_number(x)),
                ));
            }
        }
        if !(self.commission_pct.is_finite() && self.commission_pct >= 0.0) {
            return Err(err(
                "config.commissionPct",
                format!(
                    "{} is not a finite non-negative number",
                    js_number(self.commission_pct)
                ),
            ));
        }
        for (path, x) in [
            ("config.initialCapital", self.initial_capital),
            ("config.periodsPerYear", self.periods_per_year),
        ] {
            if !(x.is_finite() && x > 0.0) {
                return Err(err(
                    path,
                    format!("{} is not a positive finite number", js_number(x)),
                ));
            }
        }
        for (path, x) in [("config.start", self.start), ("config.end", self.end)] {
            if let Some(x) = x {
                if !x.is_finite() {
                    return Err(err(path, format!("{} is not a finite time", js_number(x))));
                }
            }
        }
        if let (Some(start), Some(end)) = (self.start, self.end) {
            if start > end {
                return Err(err(
                    "config.start",
                    format!("{} is after config.end ({})", js_number(start), js_number(end)),
                ));
            }
        }
        Ok(())
    }
}
