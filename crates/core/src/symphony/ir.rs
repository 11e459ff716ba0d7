//! The symphony IR (JSON, version 1) after parameter resolution (docs/symphony.md section 1).
//!
//! The document is read into a `serde_json::Value` and walked by hand so that every problem is
//! reported at its JSON path (`root.children[2].window`, `rebalance.threshold`, `tickers[3]`).

use crate::config::{json_message, nests_deeper_than};
use crate::error::{js_number, Error};
use crate::ir::{err, json_type};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::fmt::Write as _;

/// The indicators a condition, a filter or an inverse-volatility node can read (section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Indicator {
    CurrentPrice,
    MovingAveragePrice,
    ExponentialMovingAveragePrice,
    Rsi,
    MovingAverageReturn,
    CumulativeReturn,
    StdevReturn,
    StdevPrice,
    MaxDrawdown,
}

impl Indicator {
    pub const ALL: [Indicator; 9] = [
        Indicator::Rsi,
        Indicator::CurrentPrice,
        Indicator::MovingAveragePrice,
        Indicator::ExponentialMovingAveragePrice,
        Indicator::MovingAverageReturn,
        Indicator::CumulativeReturn,
        Indicator::StdevReturn,
        Indicator::StdevPrice,
        Indicator::MaxDrawdown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::CurrentPrice => "current-price",
            Indicator::MovingAveragePrice => "moving-average-price",
            Indicator::ExponentialMovingAveragePrice => "exponential-moving-average-price",
            Indicator::Rsi => "rsi",
            Indicator::MovingAverageReturn => "moving-average-return",
            Indicator::CumulativeReturn => "cumulative-return",
            Indicator::StdevReturn => "stdev-return",
            Indicator::StdevPrice => "stdev-price",
            Indicator::MaxDrawdown => "max-drawdown",
        }
    }

    pub fn parse(s: &str) -> Option<Indicator> {
        Indicator::ALL.into_iter().find(|i| i.as_str() == s)
    }

    /// Composer's default window; 0 for `current-price`, which has none.
    pub fn default_window(self) -> usize {
        match self {
            Indicator::CurrentPrice => 0,
            Indicator::MovingAveragePrice => 200,
            Indicator::ExponentialMovingAveragePrice => 12,
            Indicator::Rsi => 14,
            Indicator::MovingAverageReturn => 21,
            Indicator::CumulativeReturn => 60,
            Indicator::StdevReturn => 6,
            Indicator::StdevPrice => 6,
            Indicator::MaxDrawdown => 60,
        }
    }
}

/// An indicator with its window resolved (the default applied; 0 for `current-price`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IndicatorRef {
    pub func: Indicator,
    pub window: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Number(f64),
    Series { ind: IndicatorRef, ticker: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Gt,
    Lt,
    Ge,
    Le,
    Eq,
}

impl CompareOp {
    fn parse(s: &str) -> Option<CompareOp> {
        Some(match s {
            ">" => CompareOp::Gt,
            "<" => CompareOp::Lt,
            ">=" => CompareOp::Ge,
            "<=" => CompareOp::Le,
            "=" => CompareOp::Eq,
            _ => return None,
        })
    }

    /// Every comparison with a NaN side is false.
    #[inline]
    pub fn test(self, a: f64, b: f64) -> bool {
        match self {
            CompareOp::Gt => a > b,
            CompareOp::Lt => a < b,
            CompareOp::Ge => a >= b,
            CompareOp::Le => a <= b,
            CompareOp::Eq => a == b,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub op: CompareOp,
    pub left: Operand,
    pub right: Operand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    Top,
    Bottom,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Asset {
        ticker: String,
        name: Option<String>,
    },
    WeightEqual {
        children: Vec<Node>,
    },
    WeightSpecified {
        weights: Vec<f64>,
        children: Vec<Node>,
    },
    WeightInverseVolatility {
        window: usize,
        children: Vec<Node>,
    },
    Filter {
        ind: IndicatorRef,
        select: Select,
        count: usize,
        children: Vec<Node>,
    },
    Group {
        name: String,
        children: Vec<Node>,
    },
    If {
        cond: Condition,
        then: Vec<Node>,
        otherwise: Option<Vec<Node>>,
    },
}

impl Node {
    /// The label a filter breaks score ties with: an asset's ticker, a group's name, else "".
    pub fn label(&self) -> &str {
        match self {
            Node::Asset { ticker, .. } => ticker,
            Node::Group { name, .. } => name,
            _ => "",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rebalance {
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
    /// Only on the first simulated day (buy and hold).
    None,
    Threshold(f64),
}

/// The deepest nesting of arrays and objects a symphony document may have, the document itself
/// being level 1. Deeper documents are rejected before they are parsed.
pub const MAX_DEPTH: usize = 2048;

/// Parses a symphony document of at most `MAX_DEPTH` levels, without serde_json's recursion limit
/// (128 levels, which trees the DSL writes exceed).
fn parse_document(json: &str) -> Result<Value, Error> {
    if nests_deeper_than(json, MAX_DEPTH) {
        return Err(err(
            "symphony",
            format!(
                "the document nests arrays and objects deeper than {MAX_DEPTH} levels (the limit of a symphony IR)"
            ),
        ));
    }
    let mut de = serde_json::Deserializer::from_str(json);
    de.disable_recursion_limit();
    Value::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| err("symphony", format!("invalid JSON: {}", json_message(&e))))
}

/// A resolved, validated symphony.
#[derive(Debug, Clone, PartialEq)]
pub struct SymphonyProgram {
    pub name: String,
    pub rebalance: Rebalance,
    /// Sorted ascending by UTF-16 code units, without duplicates; the output's weight columns.
    pub tickers: Vec<String>,
    pub root: Node,
}

/// Orders two strings by their UTF-16 code units, as JavaScript's `<` on strings does.
pub fn cmp_utf16(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `path.key`, or `key` at the top level.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Runs `f` with `.key` appended to `path`, restoring it afterwards.
fn at<T>(path: &mut String, key: &str, f: impl FnOnce(&mut String) -> T) -> T {
    let len = path.len();
    if len > 0 {
        path.push('.');
    }
    path.push_str(key);
    let out = f(path);
    path.truncate(len);
    out
}

fn at_index<T>(path: &mut String, i: usize, f: impl FnOnce(&mut String) -> T) -> T {
    let len = path.len();
    let _ = write!(path, "[{i}]");
    let out = f(path);
    path.truncate(len);
    out
}

fn only_keys(map: &Map<String, Value>, allowed: &[&str], form: &str, path: &str) -> Result<(), Error> {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(err(&join(path, key), format!("unknown field '{key}' in {form}")));
        }
    }
    Ok(())
}

fn required<'a>(map: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a Value, Error> {
    map.get(key)
        .ok_or_else(|| err(path, format!("missing field '{key}'")))
}

fn get_string(map: &Map<String, Value>, key: &str, path: &str) -> Result<String, Error> {
    match required(map, key, path)? {
        Value::String(s) => Ok(s.clone()),
        other => Err(err(
            &join(path, key),
            format!("expected a string, got {}", json_type(other)),
        )),
    }
}

/// The message for a `{ "param": p }` the resolution left behind, or `None` for another value.
fn unresolved(v: &Value) -> Option<String> {
    let Value::Object(map) = v else { return None };
    let name = map.get("param")?;
    Some(match name {
        Value::String(s) => format!("unresolved parameter reference '{s}' (the engine needs a resolved IR)"),
        _ => "unresolved parameter reference (the engine needs a resolved IR)".to_string(),
    })
}

/// A number, rejecting a leftover parameter reference.
fn number(v: &Value, path: &str) -> Result<f64, Error> {
    match v {
        Value::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN)),
        other => Err(err(
            path,
            unresolved(other).unwrap_or_else(|| format!("expected a number, got {}", json_type(other))),
        )),
    }
}

/// An integer >= 1 (windows, counts), saturating at `usize::MAX`.
fn positive_int(v: &Value, path: &str) -> Result<usize, Error> {
    let x = number(v, path)?;
    if x.is_finite() && x >= 1.0 && x.fract() == 0.0 {
        Ok(x as usize)
    } else {
        Err(err(
            path,
            format!("expected an integer >= 1, got {}", js_number(x)),
        ))
    }
}

/// Collects the tickers the tree names, for the check against `tickers`.
struct Walk {
    named: Vec<(String, String)>,
}

impl SymphonyProgram {
    /// Parses and checks a resolved symphony IR.
    pub fn from_json(json: &str) -> Result<SymphonyProgram, Error> {
        SymphonyProgram::from_value(&parse_document(json)?)
    }

    pub fn from_value(value: &Value) -> Result<SymphonyProgram, Error> {
        let Value::Object(map) = value else {
            return Err(err(
                "symphony",
                format!("expected an object, got {}", json_type(value)),
            ));
        };
        only_keys(
            map,
            &[
                "version",
                "kind",
                "name",
                "params",
                "rebalance",
                "tickers",
                "root",
            ],
            "a symphony",
            "",
        )?;
        match required(map, "version", "symphony")? {
            Value::Number(n) if n.as_f64() == Some(1.0) => {}
            other => {
                return Err(err(
                    "version",
                    format!("unsupported version {other} (expected 1)"),
                ))
            }
        }
        match required(map, "kind", "symphony")? {
            Value::String(s) if s == "symphony" => {}
            other => return Err(err("kind", format!("expected \"symphony\", got {other}"))),
        }
        let name = match map.get("name") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(err(
                    "name",
                    format!("expected a string, got {}", json_type(other)),
                ))
            }
        };
        match map.get("params") {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(other) => {
                return Err(err(
                    "params",
                    format!("expected an object, got {}", json_type(other)),
                ))
            }
        }
        let rebalance = match map.get("rebalance") {
            None | Some(Value::Null) => Rebalance::Daily,
            Some(v) => parse_rebalance(v, "rebalance")?,
        };
        let tickers = parse_tickers(required(map, "tickers", "symphony")?)?;
        let mut walk = Walk { named: Vec::new() };
        let mut path = String::from("root");
        let root = parse_node(required(map, "root", "symphony")?, &mut path, &mut walk)?;
        for (ticker, path) in &walk.named {
            let listed = tickers.binary_search_by(|t| cmp_utf16(t, ticker)).is_ok();
            if !listed {
                return Err(err(path, format!("ticker '{ticker}' is not listed in tickers")));
            }
        }
        Ok(SymphonyProgram {
            name,
            rebalance,
            tickers,
            root,
        })
    }
}

/// `"daily" | "weekly" | "monthly" | "quarterly" | "yearly" | "none" | { "threshold": x }`,
/// shared with the run configuration.
pub(crate) fn parse_rebalance(v: &Value, path: &str) -> Result<Rebalance, Error> {
    const EXPECTED: &str = "expected \"daily\", \"weekly\", \"monthly\", \"quarterly\", \"yearly\", \"none\" or { \"threshold\": x }";
    match v {
        Value::String(s) => match s.as_str() {
            "daily" => Ok(Rebalance::Daily),
            "weekly" => Ok(Rebalance::Weekly),
            "monthly" => Ok(Rebalance::Monthly),
            "quarterly" => Ok(Rebalance::Quarterly),
            "yearly" => Ok(Rebalance::Yearly),
            "none" => Ok(Rebalance::None),
            _ => Err(err(path, format!("unknown rebalance rule '{s}' ({EXPECTED})"))),
        },
        Value::Object(map) => {
            only_keys(map, &["threshold"], "a rebalance rule", path)?;
            let p = join(path, "threshold");
            let x = number(required(map, "threshold", path)?, &p)?;
            if x.is_finite() && x > 0.0 {
                Ok(Rebalance::Threshold(x))
            } else {
                Err(err(
                    &p,
                    format!("expected a finite number > 0, got {}", js_number(x)),
                ))
            }
        }
        other => Err(err(path, format!("{EXPECTED}, got {}", json_type(other)))),
    }
}

fn parse_tickers(v: &Value) -> Result<Vec<String>, Error> {
    let Value::Array(items) = v else {
        return Err(err(
            "tickers",
            format!("expected an array of strings, got {}", json_type(v)),
        ));
    };
    let mut tickers: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("tickers[{i}]");
        let Value::String(s) = item else {
            return Err(err(&path, format!("expected a string, got {}", json_type(item))));
        };
        if let Some(prev) = tickers.last() {
            if cmp_utf16(prev, s) != Ordering::Less {
                return Err(err(
                    &path,
                    format!("'{s}' is not after '{prev}' (tickers are sorted ascending, without duplicates)"),
                ));
            }
        }
        tickers.push(s.clone());
    }
    Ok(tickers)
}

const NODE_TYPES: &str =
    "asset, weight-equal, weight-specified, weight-inverse-volatility, filter, group, if";

fn parse_node(v: &Value, path: &mut String, walk: &mut Walk) -> Result<Node, Error> {
    let Value::Object(map) = v else {
        return Err(err(path, format!("expected a node object, got {}", json_type(v))));
    };
    let kind = get_string(map, "type", path)?;
    let node = match kind.as_str() {
        "asset" => {
            only_keys(map, &["type", "ticker", "name"], "an asset node", path)?;
            let ticker = get_string(map, "ticker", path)?;
            let name = match map.get("name") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    return Err(err(
                        &join(path, "name"),
                        format!("expected a string or null, got {}", json_type(other)),
                    ))
                }
            };
            walk.named.push((ticker.clone(), join(path, "ticker")));
            Node::Asset { ticker, name }
        }
        "weight-equal" => {
            only_keys(map, &["type", "children"], "a weight-equal node", path)?;
            Node::WeightEqual {
                children: parse_list(map, "children", path, walk)?,
            }
        }
        "weight-specified" => {
            only_keys(
                map,
                &["type", "weights", "children"],
                "a weight-specified node",
                path,
            )?;
            let weights = parse_weights(required(map, "weights", path)?, path)?;
            let children = parse_list(map, "children", path, walk)?;
            if weights.len() != children.len() {
                return Err(err(
                    &join(path, "weights"),
                    format!(
                        "{} weights for {} children (expected one weight per child)",
                        weights.len(),
                        children.len()
                    ),
                ));
            }
            Node::WeightSpecified { weights, children }
        }
        "weight-inverse-volatility" => {
            only_keys(
                map,
                &["type", "window", "children"],
                "a weight-inverse-volatility node",
                path,
            )?;
            let window = positive_int(required(map, "window", path)?, &join(path, "window"))?;
            Node::WeightInverseVolatility {
                window,
                children: parse_list(map, "children", path, walk)?,
            }
        }
        "filter" => {
            only_keys(
                map,
                &["type", "fn", "window", "select", "count", "children"],
                "a filter node",
                path,
            )?;
            let ind = parse_indicator(map, path)?;
            let select = match get_string(map, "select", path)?.as_str() {
                "top" => Select::Top,
                "bottom" => Select::Bottom,
                other => {
                    return Err(err(
                        &join(path, "select"),
                        format!("unknown selection '{other}' (expected top or bottom)"),
                    ))
                }
            };
            let count = positive_int(required(map, "count", path)?, &join(path, "count"))?;
            Node::Filter {
                ind,
                select,
                count,
                children: parse_list(map, "children", path, walk)?,
            }
        }
        "group" => {
            only_keys(map, &["type", "name", "children"], "a group node", path)?;
            let name = get_string(map, "name", path)?;
            Node::Group {
                name,
                children: parse_list(map, "children", path, walk)?,
            }
        }
        "if" => {
            only_keys(map, &["type", "cond", "then", "else"], "an if node", path)?;
            let cond_value = required(map, "cond", path)?;
            let cond = at(path, "cond", |p| parse_condition(cond_value, p, walk))?;
            let then = parse_list(map, "then", path, walk)?;
            let otherwise = match map.get("else") {
                None | Some(Value::Null) => None,
                Some(_) => Some(parse_list(map, "else", path, walk)?),
            };
            Node::If {
                cond,
                then,
                otherwise,
            }
        }
        other => {
            return Err(err(
                &join(path, "type"),
                format!("unknown node type '{other}' (expected one of {NODE_TYPES})"),
            ))
        }
    };
    Ok(node)
}

/// A list of at least one node.
fn parse_list(
    map: &Map<String, Value>,
    key: &str,
    path: &mut String,
    walk: &mut Walk,
) -> Result<Vec<Node>, Error> {
    let v = required(map, key, path)?;
    at(path, key, |p| {
        let Value::Array(items) = v else {
            return Err(err(p, format!("expected a list of nodes, got {}", json_type(v))));
        };
        if items.is_empty() {
            return Err(err(p, "expected at least one node"));
        }
        let mut nodes = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            nodes.push(at_index(p, i, |p| parse_node(item, p, walk))?);
        }
        Ok(nodes)
    })
}

fn parse_weights(v: &Value, path: &str) -> Result<Vec<f64>, Error> {
    let p = join(path, "weights");
    let Value::Array(items) = v else {
        return Err(err(
            &p,
            format!("expected a list of numbers, got {}", json_type(v)),
        ));
    };
    let mut weights = Vec::with_capacity(items.len());
    let mut sum = 0.0;
    for (i, item) in items.iter().enumerate() {
        let pi = format!("{p}[{i}]");
        let w = number(item, &pi)?;
        if !(w.is_finite() && w >= 0.0) {
            return Err(err(
                &pi,
                format!("expected a finite number >= 0, got {}", js_number(w)),
            ));
        }
        sum += w;
        weights.push(w);
    }
    // An empty list is reported against the children count (or as an empty child list).
    if !weights.is_empty() && sum <= 0.0 {
        return Err(err(&p, "the weights must have a positive sum"));
    }
    Ok(weights)
}

/// `fn` and the optional `window` of a filter or a condition value.
fn parse_indicator(map: &Map<String, Value>, path: &str) -> Result<IndicatorRef, Error> {
    let name = get_string(map, "fn", path)?;
    let func = Indicator::parse(&name).ok_or_else(|| {
        let all: Vec<&str> = Indicator::ALL.iter().map(|i| i.as_str()).collect();
        err(
            &join(path, "fn"),
            format!("unknown indicator '{name}' (expected one of {})", all.join(", ")),
        )
    })?;
    let window = match map.get("window") {
        None | Some(Value::Null) => func.default_window(),
        Some(v) => positive_int(v, &join(path, "window"))?,
    };
    let window = if func == Indicator::CurrentPrice {
        0
    } else {
        window
    };
    Ok(IndicatorRef { func, window })
}

fn parse_condition(v: &Value, path: &mut String, walk: &mut Walk) -> Result<Condition, Error> {
    let Value::Object(map) = v else {
        return Err(err(
            path,
            format!("expected a condition object, got {}", json_type(v)),
        ));
    };
    only_keys(map, &["op", "left", "right"], "a condition", path)?;
    let op_name = get_string(map, "op", path)?;
    let op = CompareOp::parse(&op_name).ok_or_else(|| {
        err(
            &join(path, "op"),
            format!("unknown comparison '{op_name}' (expected one of >, <, >=, <=, =)"),
        )
    })?;
    let left = at(path, "left", |p| parse_operand(map.get("left"), p, walk))?;
    let right = at(path, "right", |p| parse_operand(map.get("right"), p, walk))?;
    Ok(Condition { op, left, right })
}

fn parse_operand(v: Option<&Value>, path: &str, walk: &mut Walk) -> Result<Operand, Error> {
    let Some(v) = v else {
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
        return Err(err(parent, format!("missing field '{key}'")));
    };
    match v {
        Value::Number(_) => {
            let x = number(v, path)?;
            if x.is_finite() {
                Ok(Operand::Number(x))
            } else {
                Err(err(
                    path,
                    format!("expected a finite number, got {}", js_number(x)),
                ))
            }
        }
        Value::Object(map) => {
            if let Some(message) = unresolved(v) {
                return Err(err(path, message));
            }
            only_keys(map, &["fn", "ticker", "window"], "an indicator value", path)?;
            let ind = parse_indicator(map, path)?;
            let ticker = get_string(map, "ticker", path)?;
            walk.named.push((ticker.clone(), join(path, "ticker")));
            Ok(Operand::Series { ind, ticker })
        }
        other => Err(err(
            path,
            format!(
                "expected a number or {{ \"fn\", \"ticker\", \"window\"? }}, got {}",
                json_type(other)
            ),
        )),
    }
}
