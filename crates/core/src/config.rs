//! Run configuration as both engines receive it (docs/semantics.md section 7).

use crate::error::{js_number, Error, ErrorKind};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Instrument {
    pub symbol: String,
    pub pip_size: f64,
    /// Units per lot.
    pub contract_size: f64,
    pub lot_step: f64,
    pub min_lot: f64,
    pub max_lot: f64,
    pub margin_rate: f64,
    pub commission_per_lot: f64,
    pub commission_percent: f64,
    pub slippage_pips: f64,
    /// Only used in bar mode, where the data carries bid prices alone.
    pub spread_pips: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Account {
    pub balance: f64,
}

/// Where bar-mode market orders fill: the next bar's open or the decision bar's close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FillAt {
    #[default]
    Open,
    Close,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RunConfig {
    pub instrument: Instrument,
    pub account: Account,
    /// Epoch ms; `None` means the first event's time.
    #[serde(deserialize_with = "required_option")]
    pub start: Option<f64>,
    /// Epoch ms; `None` means the last event's time.
    #[serde(deserialize_with = "required_option")]
    pub end: Option<f64>,
    pub fill_at: FillAt,
    pub periods_per_year: f64,
    pub profile: bool,
}

// A plain `Option` field may be left out of the JSON; the engines require every field, `null`
// included, so the key must be present.
fn required_option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d)
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            instrument: Instrument {
                symbol: "EURUSD".into(),
                pip_size: 0.0001,
                contract_size: 100_000.0,
                lot_step: 0.01,
                min_lot: 0.01,
                max_lot: 100.0,
                margin_rate: 0.01,
                commission_per_lot: 0.0,
                commission_percent: 0.0,
                slippage_pips: 0.0,
                spread_pips: 1.0,
            },
            account: Account { balance: 10_000.0 },
            start: None,
            end: None,
            fill_at: FillAt::Open,
            periods_per_year: 252.0,
            profile: false,
        }
    }
}

impl RunConfig {
    /// Parses and checks a configuration; errors name their path under `config`.
    pub fn from_json(json: &str) -> Result<RunConfig, Error> {
        let config: RunConfig = from_json_at(json, "config", ErrorKind::Config)?;
        config.validate()?;
        Ok(config)
    }

    /// The semantic checks of section 7, in the order they are listed there.
    pub fn validate(&self) -> Result<(), Error> {
        let i = &self.instrument;
        let positive = [
            ("config.instrument.pipSize", i.pip_size),
            ("config.instrument.contractSize", i.contract_size),
            ("config.instrument.lotStep", i.lot_step),
            ("config.instrument.minLot", i.min_lot),
            ("config.instrument.maxLot", i.max_lot),
            ("config.account.balance", self.account.balance),
            ("config.periodsPerYear", self.periods_per_year),
        ];
        for (path, x) in positive {
            if !(x.is_finite() && x > 0.0) {
                return Err(Error::config(
                    path,
                    format!("{} is not a positive finite number", js_number(x)),
                ));
            }
        }
        if i.min_lot > i.max_lot {
            return Err(Error::config(
                "config.instrument.minLot",
                format!(
                    "{} is above maxLot ({})",
                    js_number(i.min_lot),
                    js_number(i.max_lot)
                ),
            ));
        }
        if !(i.margin_rate > 0.0 && i.margin_rate <= 1.0) {
            return Err(Error::config(
                "config.instrument.marginRate",
                format!("{} is not in (0, 1]", js_number(i.margin_rate)),
            ));
        }
        let non_negative = [
            ("config.instrument.commissionPerLot", i.commission_per_lot),
            ("config.instrument.commissionPercent", i.commission_percent),
            ("config.instrument.slippagePips", i.slippage_pips),
            ("config.instrument.spreadPips", i.spread_pips),
        ];
        for (path, x) in non_negative {
            if !(x.is_finite() && x >= 0.0) {
                return Err(Error::config(
                    path,
                    format!("{} is not a finite non-negative number", js_number(x)),
                ));
            }
        }
        for (path, x) in [("config.start", self.start), ("config.end", self.end)] {
            if let Some(x) = x {
                if !x.is_finite() {
                    return Err(Error::config(
                        path,
                        format!("{} is not a finite time", js_number(x)),
                    ));
                }
            }
        }
        if let (Some(start), Some(end)) = (self.start, self.end) {
            if start > end {
                return Err(Error::config(
                    "config.start",
                    format!("{} is after config.end ({})", js_number(start), js_number(end)),
                ));
            }
        }
        Ok(())
    }
}

/// Deserializes `json` into `T`, reporting the first problem at its path under `root`
/// (`config.instrument.pipSize`, `strategy.workers[1].kind`) without serde_json's line and
/// column, which mean nothing to a caller that built the JSON from an object.
/// Whether `json` nests arrays and objects deeper than `limit` levels, counting the brackets
/// outside strings. Malformed JSON is left to the parser.
pub(crate) fn nests_deeper_than(json: &str, limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in json.as_bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

pub(crate) fn from_json_at<T: DeserializeOwned>(json: &str, root: &str, kind: ErrorKind) -> Result<T, Error> {
    from_json_nested(json, root, kind, SERDE_DEPTH)
}

/// serde_json's own recursion limit, which `from_json_at` keeps.
const SERDE_DEPTH: usize = 128;

/// Like `from_json_at`, for documents that may nest up to `max_depth` arrays and objects: deeper
/// ones are refused before they are parsed, so the parser's recursion stays bounded.
pub(crate) fn from_json_nested<T: DeserializeOwned>(
    json: &str,
    root: &str,
    kind: ErrorKind,
    max_depth: usize,
) -> Result<T, Error> {
    if nests_deeper_than(json, max_depth) {
        return Err(Error::new(
            kind,
            root,
            format!("the document nests arrays and objects deeper than {max_depth} levels"),
        ));
    }
    let mut de = serde_json::Deserializer::from_str(json);
    de.disable_recursion_limit();
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let mut path = String::from(root);
        for segment in e.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                serde_path_to_error::Segment::Map { key } => {
                    path.push('.');
                    path.push_str(key);
                }
                serde_path_to_error::Segment::Enum { variant } => {
                    path.push('.');
                    path.push_str(variant);
                }
                serde_path_to_error::Segment::Unknown => path.push_str(".?"),
            }
        }
        Error::new(kind, path, json_message(e.inner()))
    })?;
    de.end().map_err(|e| Error::new(kind, root, json_message(&e)))?;
    Ok(value)
}

/// `json` as a JSON value; a syntax error is reported at `root` as `invalid JSON: ...`.
pub(crate) fn parse_json(json: &str, root: &str, kind: ErrorKind) -> Result<serde_json::Value, Error> {
    serde_json::from_str(json)
        .map_err(|e| Error::new(kind, root, format!("invalid JSON: {}", json_message(&e))))
}

/// serde_json's message without its ` at line L column C` suffix.
pub(crate) fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match full.strip_suffix(&suffix) {
        Some(message) if e.line() != 0 => message.to_string(),
        _ => full,
    }
}
