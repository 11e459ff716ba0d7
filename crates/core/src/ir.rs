//! The strategy IR (JSON, version 1) and its compilation into a `Program`
//! (docs/semantics.md sections 3 and 4).
//!
//! `Strategy::from_json` checks the shape of the document; `compile` substitutes a run's
//! parameters, resolves every name, type-checks the expressions and sizes the histories. A grid
//! optimizer compiles once per parameter combination, so `compile` only walks the (small) tree.

use crate::config::{from_json_nested, json_message};
use crate::error::{js_number, Error, ErrorKind};
use crate::expr::{AccountField, BarField, Cmp, Code, Op, PositionField, QuoteField, TimeField};
use crate::indicators::{IndicatorSpec, Source};
use crate::limits::limits;
use crate::timeframe::Timeframe;
use crate::vm::{split, Block, Split};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    Int,
    #[default]
    Float,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    pub default: f64,
    #[serde(rename = "type", default)]
    pub kind: ParamType,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecideOn {
    #[default]
    Bar,
    Tick,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub timeframe: Timeframe,
    #[serde(default)]
    pub on: DecideOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkerKind {
    Sma,
    Ema,
    Rsi,
    Atr,
    Bollinger,
    Envelope,
    Macd,
}

impl WorkerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerKind::Sma => "sma",
            WorkerKind::Ema => "ema",
            WorkerKind::Rsi => "rsi",
            WorkerKind::Atr => "atr",
            WorkerKind::Bollinger => "bollinger",
            WorkerKind::Envelope => "envelope",
            WorkerKind::Macd => "macd",
        }
    }

    /// Parameter names a worker of this kind accepts.
    pub fn params(self) -> &'static [&'static str] {
        match self {
            WorkerKind::Sma | WorkerKind::Ema | WorkerKind::Rsi => &["period", "source"],
            WorkerKind::Atr => &["period"],
            WorkerKind::Bollinger => &["period", "deviations", "source"],
            WorkerKind::Envelope => &["period", "percent", "source"],
            WorkerKind::Macd => &["fast", "slow", "signal", "source"],
        }
    }
}

/// A worker parameter as written: a number, a reference to a strategy parameter, or a name
/// (`source`).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Number(f64),
    Param(String),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkerDef {
    pub id: String,
    pub kind: WorkerKind,
    pub timeframe: Timeframe,
    pub params: BTreeMap<String, ParamValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(f64),
    Bool(bool),
    Param(String),
    Worker {
        id: String,
        output: Option<String>,
        offset: usize,
    },
    Bar {
        field: BarField,
        timeframe: Option<Timeframe>,
        offset: usize,
    },
    Forming {
        field: BarField,
        timeframe: Option<Timeframe>,
    },
    Quote(QuoteField),
    Position(PositionField),
    Account(AccountField),
    Time(TimeField),
    Op {
        op: Op,
        args: Vec<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Level {
    Pips(Expr),
    Price(Expr),
}

/// How a buy/sell enters: at once, or as a pending order at a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderType {
    #[default]
    Market,
    Limit,
    Stop,
}

impl OrderType {
    pub const NAMES: [&'static str; 3] = ["market", "limit", "stop"];
    pub fn parse(s: &str) -> Option<OrderType> {
        Some(match s {
            "market" => OrderType::Market,
            "limit" => OrderType::Limit,
            "stop" => OrderType::Stop,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Market => "market",
            OrderType::Limit => "limit",
            OrderType::Stop => "stop",
        }
    }
}

/// The size of an order: lots, or a percentage of equity risked at the stop-loss.
#[derive(Debug, Clone, PartialEq)]
pub enum Sizing {
    Lots(Expr),
    Risk(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub order: OrderType,
    /// Limit and stop orders only.
    pub price: Option<Expr>,
    pub sizing: Sizing,
    pub sl: Option<Level>,
    pub tp: Option<Level>,
    /// The trailing distance in pips.
    pub trail: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Buy(Order),
    Sell(Order),
    Close,
    Cancel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub when: Expr,
    pub then: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Strategy {
    pub version: u32,
    pub name: String,
    /// Metadata only: the instrument the strategy is meant for.
    pub symbol: Option<String>,
    pub params: BTreeMap<String, ParamDef>,
    pub decision: Decision,
    pub workers: Vec<WorkerDef>,
    pub rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorker {
    id: String,
    kind: WorkerKind,
    timeframe: Timeframe,
    #[serde(default)]
    params: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    when: Value,
    then: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStrategy {
    version: u32,
    #[serde(default)]
    name: String,
    #[serde(default)]
    symbol: Option<String>,
    #[serde(default)]
    params: BTreeMap<String, ParamDef>,
    decision: Decision,
    #[serde(default)]
    workers: Vec<RawWorker>,
    rules: Vec<RawRule>,
}

pub(crate) fn err(path: &str, message: impl Into<String>) -> Error {
    Error::strategy(path, message)
}

/// How a JSON value's type is named in messages (`a number`, `an object`, `null`).
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Checks a number against a parameter's declared type and range; the message names the problem.
fn param_problem(def: &ParamDef, x: f64) -> Option<String> {
    if !x.is_finite() {
        return Some(format!("expected a finite number, got {}", js_number(x)));
    }
    if def.kind == ParamType::Int && x.fract() != 0.0 {
        return Some(format!("expected an integer, got {}", js_number(x)));
    }
    if let Some(min) = def.min {
        if x < min {
            return Some(format!(
                "{} is below the minimum {}",
                js_number(x),
                js_number(min)
            ));
        }
    }
    if let Some(max) = def.max {
        if x > max {
            return Some(format!(
                "{} is above the maximum {}",
                js_number(x),
                js_number(max)
            ));
        }
    }
    None
}

fn names(list: &[&str]) -> String {
    list.join(", ")
}

impl Strategy {
    /// Parses and shape-checks a strategy; errors name their path under `strategy`.
    pub fn from_json(json: &str) -> Result<Strategy, Error> {
        let raw: RawStrategy =
            from_json_nested(json, "strategy", ErrorKind::Strategy, limits().json_depth())?;
        if raw.version != 1 {
            return Err(err(
                "strategy.version",
                format!("unsupported version {} (expected 1)", raw.version),
            ));
        }
        if raw.symbol.as_deref() == Some("") {
            return Err(err("strategy.symbol", "expected a non-empty string"));
        }
        for (name, def) in &raw.params {
            let path = format!("strategy.params.{name}");
            for (key, bound) in [("min", def.min), ("max", def.max)] {
                if let Some(b) = bound {
                    if !b.is_finite() {
                        return Err(err(
                            &format!("{path}.{key}"),
                            format!("{} is not finite", js_number(b)),
                        ));
                    }
                }
            }
            if let (Some(min), Some(max)) = (def.min, def.max) {
                if min > max {
                    return Err(err(
                        &format!("{path}.min"),
                        format!("{} is above max ({})", js_number(min), js_number(max)),
                    ));
                }
            }
            if let Some(problem) = param_problem(def, def.default) {
                return Err(err(&format!("{path}.default"), problem));
            }
        }
        let mut path = String::with_capacity(64);
        let mut workers = Vec::with_capacity(raw.workers.len());
        for (i, w) in raw.workers.into_iter().enumerate() {
            if !valid_id(&w.id) {
                return Err(err(
                    &format!("strategy.workers[{i}].id"),
                    format!(
                        "'{}' is not a valid id (a letter or _, then letters, digits, _ or -)",
                        w.id
                    ),
                ));
            }
            let mut params = BTreeMap::new();
            for (key, v) in w.params {
                let p = format!("strategy.workers[{i}].params.{key}");
                let value = match &v {
                    Value::Number(n) => ParamValue::Number(n.as_f64().unwrap_or(f64::NAN)),
                    Value::String(s) => ParamValue::Text(s.clone()),
                    Value::Object(map) => ParamValue::Param(param_ref(map, &p)?),
                    other => {
                        return Err(err(
                            &p,
                            format!(
                                "expected a number, a name or {{ \"param\": name }}, got {}",
                                json_type(other)
                            ),
                        ))
                    }
                };
                params.insert(key, value);
            }
            workers.push(WorkerDef {
                id: w.id,
                kind: w.kind,
                timeframe: w.timeframe,
                params,
            });
        }
        let mut rules = Vec::with_capacity(raw.rules.len());
        for (i, r) in raw.rules.into_iter().enumerate() {
            path.clear();
            let _ = write!(path, "strategy.rules[{i}].when");
            let when = parse_expr(&r.when, &mut path)?;
            if r.then.is_empty() {
                return Err(err(
                    &format!("strategy.rules[{i}].then"),
                    "expected at least one action",
                ));
            }
            let mut then = Vec::with_capacity(r.then.len());
            for (j, a) in r.then.iter().enumerate() {
                path.clear();
                let _ = write!(path, "strategy.rules[{i}].then[{j}]");
                then.push(parse_action(a, &mut path)?);
            }
            rules.push(Rule { when, then });
        }
        Ok(Strategy {
            version: raw.version,
            name: raw.name,
            symbol: raw.symbol,
            params: raw.params,
            decision: raw.decision,
            workers,
            rules,
        })
    }
}

/// `{ "param": name }` and nothing else.
fn param_ref(map: &Map<String, Value>, path: &str) -> Result<String, Error> {
    for key in map.keys() {
        if key != "param" {
            return Err(err(
                &format!("{path}.{key}"),
                format!("unknown field '{key}' in a param reference"),
            ));
        }
    }
    match map.get("param") {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(err(
            &format!("{path}.param"),
            format!("expected a name, got {}", json_type(other)),
        )),
        None => Err(err(path, "expected a number, a name or { \"param\": name }")),
    }
}

/// Runs `f` with `.key` appended to `path`, restoring it afterwards.
fn at<T>(path: &mut String, key: &str, f: impl FnOnce(&mut String) -> T) -> T {
    let len = path.len();
    path.push('.');
    path.push_str(key);
    let out = f(path);
    path.truncate(len);
    out
}

fn at_index<T>(path: &mut String, key: &str, i: usize, f: impl FnOnce(&mut String) -> T) -> T {
    let len = path.len();
    // By hand rather than `write!`: compiling a grid's programs appends thousands of these, and
    // the formatting machinery cost more than the rest of the step.
    path.push('.');
    path.push_str(key);
    path.push('[');
    push_decimal(path, i);
    path.push(']');
    let out = f(path);
    path.truncate(len);
    out
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let mut k = digits.len();
    let mut n = n;
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[k..].iter().map(|&d| char::from(d)));
}

fn get_str<'a>(map: &'a Map<String, Value>, key: &str, path: &mut String) -> Result<&'a str, Error> {
    match map.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(at(path, key, |p| {
            err(p, format!("expected a name, got {}", json_type(other)))
        })),
        None => Err(err(path, format!("missing field '{key}'"))),
    }
}

fn get_field<T: Copy>(
    map: &Map<String, Value>,
    key: &str,
    what: &str,
    parse: fn(&str) -> Option<T>,
    choices: &[&str],
    path: &mut String,
) -> Result<T, Error> {
    let s = get_str(map, key, path)?;
    parse(s).ok_or_else(|| {
        at(path, key, |p| {
            err(
                p,
                format!("unknown {what} '{s}' (expected one of {})", names(choices)),
            )
        })
    })
}

fn get_offset(map: &Map<String, Value>, path: &mut String) -> Result<usize, Error> {
    match map.get("offset") {
        None => Ok(0),
        Some(Value::Number(n)) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            let max = limits().offset.max;
            if x >= 0.0 && x.fract() == 0.0 && x <= max as f64 {
                Ok(x as usize)
            } else {
                Err(at(path, "offset", |p| {
                    err(
                        p,
                        format!("expected an integer from 0 to {max}, got {}", js_number(x)),
                    )
                }))
            }
        }
        Some(other) => Err(at(path, "offset", |p| {
            err(
                p,
                format!("expected a non-negative integer, got {}", json_type(other)),
            )
        })),
    }
}

fn get_timeframe(map: &Map<String, Value>, path: &mut String) -> Result<Option<Timeframe>, Error> {
    if !map.contains_key("timeframe") {
        return Ok(None);
    }
    let s = get_str(map, "timeframe", path)?;
    match Timeframe::parse(s) {
        Some(tf) => Ok(Some(tf)),
        None => Err(at(path, "timeframe", |p| {
            let all: Vec<&str> = Timeframe::ALL.iter().map(|tf| tf.as_str()).collect();
            err(
                p,
                format!("unknown timeframe '{s}' (expected one of {})", names(&all)),
            )
        })),
    }
}

fn only_keys(map: &Map<String, Value>, allowed: &[&str], form: &str, path: &mut String) -> Result<(), Error> {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(at(path, key, |p| {
                err(p, format!("unknown field '{key}' in {form}"))
            }));
        }
    }
    Ok(())
}

/// The keys that say which form an expression object has, in the order they are tried.
const FORMS: [&str; 9] = [
    "op", "param", "worker", "bar", "forming", "quote", "position", "account", "time",
];

fn parse_expr(v: &Value, path: &mut String) -> Result<Expr, Error> {
    parse_expr_at(v, path, 1)
}

/// `v` as an expression at `depth` levels (1 for a whole expression).
fn parse_expr_at(v: &Value, path: &mut String, depth: usize) -> Result<Expr, Error> {
    let map = match v {
        Value::Number(n) => return Ok(Expr::Number(n.as_f64().unwrap_or(f64::NAN))),
        Value::Bool(b) => return Ok(Expr::Bool(*b)),
        Value::Object(map) => map,
        other => {
            return Err(err(
                path,
                format!(
                    "expected an expression (a number, true, false or an object), got {}",
                    json_type(other)
                ),
            ))
        }
    };
    let Some(form) = FORMS.into_iter().find(|k| map.contains_key(*k)) else {
        return Err(err(
            path,
            format!("expected an expression object with one of: {}", names(&FORMS)),
        ));
    };
    match form {
        "op" => {
            only_keys(map, &["op", "args"], "an operation", path)?;
            let name = get_str(map, "op", path)?;
            let op = Op::parse(name).ok_or_else(|| {
                let all: Vec<&str> = Op::ALL.iter().map(|o| o.as_str()).collect();
                at(path, "op", |p| {
                    err(
                        p,
                        format!("unknown operator '{name}' (expected one of {})", all.join(" ")),
                    )
                })
            })?;
            let args = match map.get("args") {
                Some(Value::Array(args)) => args,
                Some(other) => {
                    return Err(at(path, "args", |p| {
                        err(p, format!("expected an array, got {}", json_type(other)))
                    }))
                }
                None => return Err(err(path, "missing field 'args'")),
            };
            let most = limits().operation_args;
            if args.len() > most {
                return Err(at(path, "args", |p| {
                    err(
                        p,
                        format!("{} arguments, more than the limit of {most}", args.len()),
                    )
                }));
            }
            let deepest = limits().expression_depth;
            if depth >= deepest {
                return Err(err(
                    path,
                    format!("the expression nests deeper than {deepest} levels (the limit)"),
                ));
            }
            let (min, max) = op.arity();
            if args.len() < min || max.is_some_and(|m| args.len() > m) {
                let wanted = match max {
                    Some(m) if m == min => format!("{min}"),
                    _ => format!("at least {min}"),
                };
                return Err(at(path, "args", |p| {
                    err(
                        p,
                        format!("'{}' takes {wanted} argument(s), got {}", op.as_str(), args.len()),
                    )
                }));
            }
            let mut parsed = Vec::with_capacity(args.len());
            for (i, a) in args.iter().enumerate() {
                parsed.push(at_index(path, "args", i, |p| parse_expr_at(a, p, depth + 1))?);
            }
            Ok(Expr::Op { op, args: parsed })
        }
        "param" => {
            only_keys(map, &["param"], "a param reference", path)?;
            Ok(Expr::Param(get_str(map, "param", path)?.to_string()))
        }
        "worker" => {
            only_keys(map, &["worker", "output", "offset"], "a worker reference", path)?;
            let id = get_str(map, "worker", path)?.to_string();
            let output = match map.contains_key("output") {
                true => Some(get_str(map, "output", path)?.to_string()),
                false => None,
            };
            let offset = get_offset(map, path)?;
            Ok(Expr::Worker { id, output, offset })
        }
        "bar" => {
            only_keys(map, &["bar", "timeframe", "offset"], "a bar reference", path)?;
            let field = get_field(map, "bar", "bar field", BarField::parse, &BarField::NAMES, path)?;
            let timeframe = get_timeframe(map, path)?;
            let offset = get_offset(map, path)?;
            Ok(Expr::Bar {
                field,
                timeframe,
                offset,
            })
        }
        "forming" => {
            only_keys(map, &["forming", "timeframe"], "a forming-bar reference", path)?;
            let field = get_field(
                map,
                "forming",
                "bar field",
                BarField::parse,
                &BarField::NAMES,
                path,
            )?;
            let timeframe = get_timeframe(map, path)?;
            Ok(Expr::Forming { field, timeframe })
        }
        "quote" => {
            only_keys(map, &["quote"], "a quote reference", path)?;
            Ok(Expr::Quote(get_field(
                map,
                "quote",
                "quote",
                QuoteField::parse,
                &QuoteField::NAMES,
                path,
            )?))
        }
        "position" => {
            only_keys(map, &["position"], "a position reference", path)?;
            let f = get_field(
                map,
                "position",
                "position field",
                PositionField::parse,
                &PositionField::NAMES,
                path,
            )?;
            Ok(Expr::Position(f))
        }
        "account" => {
            only_keys(map, &["account"], "an account reference", path)?;
            let f = get_field(
                map,
                "account",
                "account field",
                AccountField::parse,
                &AccountField::NAMES,
                path,
            )?;
            Ok(Expr::Account(f))
        }
        _ => {
            only_keys(map, &["time"], "a time reference", path)?;
            Ok(Expr::Time(get_field(
                map,
                "time",
                "time field",
                TimeField::parse,
                &TimeField::NAMES,
                path,
            )?))
        }
    }
}

fn parse_level(v: &Value, path: &mut String) -> Result<Level, Error> {
    let Value::Object(map) = v else {
        return Err(err(
            path,
            format!(
                "expected {{ \"pips\": expr }} or {{ \"price\": expr }}, got {}",
                json_type(v)
            ),
        ));
    };
    only_keys(map, &["pips", "price"], "a level", path)?;
    match (map.get("pips"), map.get("price")) {
        (Some(e), None) => Ok(Level::Pips(at(path, "pips", |p| parse_expr(e, p))?)),
        (None, Some(e)) => Ok(Level::Price(at(path, "price", |p| parse_expr(e, p))?)),
        _ => Err(err(path, "expected exactly one of 'pips' and 'price'")),
    }
}

fn parse_action(v: &Value, path: &mut String) -> Result<Action, Error> {
    let Value::Object(map) = v else {
        return Err(err(
            path,
            format!("expected an action object, got {}", json_type(v)),
        ));
    };
    let kind = get_str(map, "action", path)?;
    match kind {
        "close" => {
            only_keys(map, &["action"], "a close action", path)?;
            Ok(Action::Close)
        }
        "cancel" => {
            only_keys(map, &["action"], "a cancel action", path)?;
            Ok(Action::Cancel)
        }
        "buy" | "sell" => {
            only_keys(
                map,
                &["action", "order", "price", "lots", "risk", "sl", "tp", "trail"],
                "an order action",
                path,
            )?;
            let order = if map.contains_key("order") {
                get_field(
                    map,
                    "order",
                    "order type",
                    OrderType::parse,
                    &OrderType::NAMES,
                    path,
                )?
            } else {
                OrderType::Market
            };
            let price = match (order, map.get("price")) {
                (OrderType::Market, Some(_)) => {
                    return Err(at(path, "price", |p| {
                        err(p, "a market order takes no price (use order 'limit' or 'stop')")
                    }))
                }
                (OrderType::Market, None) => None,
                (_, Some(e)) => Some(at(path, "price", |p| parse_expr(e, p))?),
                (_, None) => {
                    return Err(err(
                        path,
                        format!("missing field 'price' (required for a {} order)", order.as_str()),
                    ))
                }
            };
            let sizing = match (map.get("lots"), map.get("risk")) {
                (Some(e), None) => Sizing::Lots(at(path, "lots", |p| parse_expr(e, p))?),
                (None, Some(e)) => Sizing::Risk(at(path, "risk", |p| parse_expr(e, p))?),
                (Some(_), Some(_)) => return Err(err(path, "expected exactly one of 'lots' and 'risk'")),
                (None, None) => return Err(err(path, "missing field 'lots'")),
            };
            let sl = map
                .get("sl")
                .map(|l| at(path, "sl", |p| parse_level(l, p)))
                .transpose()?;
            if matches!(sizing, Sizing::Risk(_)) && sl.is_none() {
                return Err(err(path, "missing field 'sl' (required with 'risk')"));
            }
            let tp = map
                .get("tp")
                .map(|l| at(path, "tp", |p| parse_level(l, p)))
                .transpose()?;
            let trail = map
                .get("trail")
                .map(|t| at(path, "trail", |p| parse_trail(t, p)))
                .transpose()?;
            let order = Order {
                order,
                price,
                sizing,
                sl,
                tp,
                trail,
            };
            Ok(if kind == "buy" {
                Action::Buy(order)
            } else {
                Action::Sell(order)
            })
        }
        other => Err(at(path, "action", |p| {
            err(
                p,
                format!("unknown action '{other}' (expected one of buy, sell, close, cancel)"),
            )
        })),
    }
}

/// `{ "pips": expr }`.
fn parse_trail(v: &Value, path: &mut String) -> Result<Expr, Error> {
    let Value::Object(map) = v else {
        return Err(err(
            path,
            format!("expected {{ \"pips\": expr }}, got {}", json_type(v)),
        ));
    };
    only_keys(map, &["pips"], "a trail", path)?;
    match map.get("pips") {
        Some(e) => at(path, "pips", |p| parse_expr(e, p)),
        None => Err(err(path, "missing field 'pips'")),
    }
}

/// Parses a run's parameter values: a JSON object of numbers.
pub fn parse_params(json: &str) -> Result<BTreeMap<String, f64>, Error> {
    let value: Value = serde_json::from_str(json).map_err(|e| Error::params("params", json_message(&e)))?;
    let Value::Object(map) = value else {
        return Err(Error::params(
            "params",
            format!("expected an object, got {}", json_type(&value)),
        ));
    };
    let mut out = BTreeMap::new();
    for (name, v) in map {
        match v.as_f64() {
            Some(x) if v.is_number() => {
                out.insert(name, x);
            }
            _ => {
                let got = match &v {
                    Value::Null => "null",
                    Value::Bool(_) => "boolean",
                    Value::String(_) => "string",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                    Value::Number(_) => "number",
                };
                return Err(Error::params(
                    format!("params.{name}"),
                    format!("expected a number, got {got}"),
                ));
            }
        }
    }
    Ok(out)
}

/// A worker ready to run: its resolved indicator and how many past outputs the rules read.
#[derive(Debug, Clone)]
pub struct WorkerPlan {
    pub id: String,
    pub timeframe: Timeframe,
    pub spec: IndicatorSpec,
    pub outputs: usize,
    /// Outputs kept: the deepest offset read plus one (plus one more under a cross); 0 if unread.
    pub depth: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum CompiledLevel {
    Pips(Block),
    Price(Block),
}

#[derive(Debug, Clone)]
pub(crate) enum CompiledSizing {
    Lots(Block),
    Risk(Block),
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledOrder {
    pub order: OrderType,
    /// Limit and stop orders: the order's price.
    pub price: Option<Block>,
    pub sizing: CompiledSizing,
    pub sl: Option<CompiledLevel>,
    pub tp: Option<CompiledLevel>,
    /// The trailing distance in pips.
    pub trail: Option<Block>,
}

#[derive(Debug, Clone)]
pub(crate) enum CompiledAction {
    /// The side is 1 for buy, -1 for sell. Boxed: an order is large and the other actions are not.
    Open(i8, Box<CompiledOrder>),
    Close,
    Cancel,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub when: Block,
    /// `when` split into what changes only at bar closes and fills, and the rest.
    pub split: Split,
    pub then: Vec<CompiledAction>,
}

impl CompiledRule {
    /// Firing would change nothing: with no order pending, every action opens on the side already
    /// held, closes a flat position or cancels.
    pub fn inert(&self, side: i8, pending: bool) -> bool {
        !pending
            && self.then.iter().all(|a| match a {
                CompiledAction::Open(s, _) => *s == side,
                CompiledAction::Close => side == 0,
                CompiledAction::Cancel => true,
            })
    }
}

/// A strategy with a run's parameters substituted, every name resolved and every history sized.
#[derive(Debug, Clone)]
pub struct Program {
    pub(crate) decision: Timeframe,
    pub(crate) on_tick: bool,
    pub(crate) workers: Vec<WorkerPlan>,
    /// Closed bars kept per timeframe (`Timeframe::index`); 0 where no `bar` expression reads.
    pub(crate) bar_depth: [usize; 7],
    pub(crate) used: [bool; 7],
    pub(crate) rules: Vec<CompiledRule>,
    /// Every timeframe named in an expression, with the path where it is named, for the bar-mode
    /// check that the data's timeframe is not larger.
    pub(crate) named_timeframes: Vec<(Timeframe, String)>,
}

impl Program {
    pub fn decision_timeframe(&self) -> Timeframe {
        self.decision
    }
    pub fn decides_on_tick(&self) -> bool {
        self.on_tick
    }
    pub fn workers(&self) -> &[WorkerPlan] {
        &self.workers
    }
    /// Closed bars of `tf` kept for `bar` expressions.
    pub fn bar_depth(&self, tf: Timeframe) -> usize {
        self.bar_depth[tf.index()]
    }
    /// The used timeframes in ascending order (decision, workers', and those expressions name).
    pub fn used_timeframes(&self) -> Vec<Timeframe> {
        Timeframe::ALL
            .into_iter()
            .filter(|tf| self.used[tf.index()])
            .collect()
    }
    /// About how many bytes the program holds: its blocks and lists, each string counted at
    /// its length. A batch keeps compiled programs only while they fit its budget.
    pub fn approx_bytes(&self) -> usize {
        let block = |b: &Option<Block>| b.as_ref().map_or(0, Block::bytes);
        let level = |l: &Option<CompiledLevel>| match l {
            Some(CompiledLevel::Pips(b) | CompiledLevel::Price(b)) => b.bytes(),
            None => 0,
        };
        let action = |a: &CompiledAction| match a {
            CompiledAction::Open(_, o) => {
                let sizing = match &o.sizing {
                    CompiledSizing::Lots(b) | CompiledSizing::Risk(b) => b.bytes(),
                };
                std::mem::size_of::<CompiledOrder>()
                    + block(&o.price)
                    + sizing
                    + level(&o.sl)
                    + level(&o.tp)
                    + block(&o.trail)
            }
            CompiledAction::Close | CompiledAction::Cancel => 0,
        };
        let rules: usize = self
            .rules
            .iter()
            .map(|r| {
                let s = &r.split;
                std::mem::size_of::<CompiledRule>()
                    + r.when.bytes()
                    + block(&s.gate)
                    + block(&s.fast)
                    + block(&s.fixed)
                    + block(&s.moving)
                    + r.then.len() * std::mem::size_of::<CompiledAction>()
                    + r.then.iter().map(action).sum::<usize>()
            })
            .sum();
        let workers: usize = self
            .workers
            .iter()
            .map(|w| std::mem::size_of::<WorkerPlan>() + w.id.len())
            .sum();
        let names: usize = self
            .named_timeframes
            .iter()
            .map(|(_, path)| std::mem::size_of::<(Timeframe, String)>() + path.len())
            .sum();
        std::mem::size_of::<Program>() + rules + workers + names
    }

    /// The base timeframe of a tick-mode run: the smallest used one.
    pub fn tick_base(&self) -> Timeframe {
        Timeframe::ALL
            .into_iter()
            .find(|tf| self.used[tf.index()])
            .unwrap_or(self.decision)
    }

    /// Bar mode: every used timeframe must be at least the data's; the first offender is named at
    /// the path where it is used (decision, then workers, then expressions in rule order).
    pub fn check_bar_timeframe(&self, strategy_base: Timeframe) -> Result<(), Error> {
        let too_small = |tf: Timeframe, path: &str| {
            err(
                path,
                format!("{tf} is smaller than the data's timeframe {strategy_base}"),
            )
        };
        if self.decision < strategy_base {
            return Err(too_small(self.decision, "strategy.decision.timeframe"));
        }
        for (i, w) in self.workers.iter().enumerate() {
            if w.timeframe < strategy_base {
                return Err(too_small(
                    w.timeframe,
                    &format!("strategy.workers[{i}].timeframe"),
                ));
            }
        }
        for (tf, path) in &self.named_timeframes {
            if *tf < strategy_base {
                return Err(too_small(*tf, path));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Number,
    Boolean,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Number => "a number",
            Ty::Boolean => "a boolean",
        }
    }
}

struct Compiler<'a> {
    strategy: &'a Strategy,
    params: &'a BTreeMap<String, f64>,
    worker_depth: Vec<usize>,
    bar_depth: [usize; 7],
    used: [bool; 7],
    named_timeframes: Vec<(Timeframe, String)>,
    specs: Vec<IndicatorSpec>,
}

/// Substitutes `params` into `strategy` and checks everything that can be checked before a run.
pub fn compile(strategy: &Strategy, params: &BTreeMap<String, f64>) -> Result<Program, Error> {
    for (name, &x) in params {
        let Some(def) = strategy.params.get(name) else {
            let declared: Vec<&str> = strategy.params.keys().map(String::as_str).collect();
            let list = if declared.is_empty() {
                "none".to_string()
            } else {
                declared.join(", ")
            };
            return Err(Error::params(
                format!("params.{name}"),
                format!("unknown parameter (declared: {list})"),
            ));
        };
        if let Some(problem) = param_problem(def, x) {
            return Err(Error::params(format!("params.{name}"), problem));
        }
    }
    let mut c = Compiler {
        strategy,
        params,
        worker_depth: vec![0; strategy.workers.len()],
        bar_depth: [0; 7],
        used: [false; 7],
        named_timeframes: Vec::new(),
        specs: Vec::with_capacity(strategy.workers.len()),
    };
    c.used[strategy.decision.timeframe.index()] = true;
    for (i, w) in strategy.workers.iter().enumerate() {
        if let Some(j) = strategy.workers[..i].iter().position(|o| o.id == w.id) {
            return Err(err(
                &format!("strategy.workers[{i}].id"),
                format!("duplicate worker id '{}' (also strategy.workers[{j}])", w.id),
            ));
        }
        c.used[w.timeframe.index()] = true;
        let spec = c.worker_spec(i, w)?;
        c.specs.push(spec);
    }
    let worker_tf: Vec<Timeframe> = strategy.workers.iter().map(|w| w.timeframe).collect();
    let mut path = String::with_capacity(64);
    let mut rules = Vec::with_capacity(strategy.rules.len());
    for (i, rule) in strategy.rules.iter().enumerate() {
        path.clear();
        let _ = write!(path, "strategy.rules[{i}].when");
        let when = c.boolean(&rule.when, &mut path)?;
        let mut then = Vec::with_capacity(rule.then.len());
        for (j, action) in rule.then.iter().enumerate() {
            path.clear();
            let _ = write!(path, "strategy.rules[{i}].then[{j}]");
            then.push(match action {
                Action::Close => CompiledAction::Close,
                Action::Cancel => CompiledAction::Cancel,
                Action::Buy(o) => c.order(1, o, &mut path)?,
                Action::Sell(o) => c.order(-1, o, &mut path)?,
            });
        }
        rules.push(CompiledRule {
            split: split(&when, &worker_tf),
            when: Block::compile(&when),
            then,
        });
    }
    let workers = strategy
        .workers
        .iter()
        .zip(c.specs)
        .zip(&c.worker_depth)
        .map(|((w, spec), &depth)| WorkerPlan {
            id: w.id.clone(),
            timeframe: w.timeframe,
            outputs: spec.output_names().len(),
            spec,
            depth,
        })
        .collect();
    Ok(Program {
        decision: strategy.decision.timeframe,
        on_tick: strategy.decision.on == DecideOn::Tick,
        workers,
        bar_depth: c.bar_depth,
        used: c.used,
        rules,
        named_timeframes: c.named_timeframes,
    })
}

impl Compiler<'_> {
    fn param(&self, name: &str, path: &str) -> Result<f64, Error> {
        match self.strategy.params.get(name) {
            Some(def) => Ok(self.params.get(name).copied().unwrap_or(def.default)),
            None => {
                let declared: Vec<&str> = self.strategy.params.keys().map(String::as_str).collect();
                let list = if declared.is_empty() {
                    "none".to_string()
                } else {
                    declared.join(", ")
                };
                Err(err(
                    path,
                    format!("unknown parameter '{name}' (declared: {list})"),
                ))
            }
        }
    }

    fn worker_spec(&self, i: usize, w: &WorkerDef) -> Result<IndicatorSpec, Error> {
        // Paths are written only for an error: a grid compiles its strategy once per job.
        let base = || format!("strategy.workers[{i}].params");
        let allowed = w.kind.params();
        for key in w.params.keys() {
            if !allowed.contains(&key.as_str()) {
                return Err(err(
                    &format!("{}.{key}", base()),
                    format!(
                        "unknown parameter '{key}' for {} (expected {})",
                        w.kind.as_str(),
                        names(allowed)
                    ),
                ));
            }
        }
        // A value, and the parameter it came from (for messages).
        let number = |key: &str| -> Result<(f64, Option<&str>), Error> {
            let path = || format!("{}.{key}", base());
            match w.params.get(key) {
                Some(ParamValue::Number(x)) => Ok((*x, None)),
                Some(ParamValue::Param(name)) => match self.strategy.params.get(name) {
                    Some(def) => Ok((self.params.get(name).copied().unwrap_or(def.default), Some(name))),
                    // Undeclared: `param` writes the error.
                    None => self
                        .param(name, &format!("{}.param", path()))
                        .map(|x| (x, Some(name.as_str()))),
                },
                Some(ParamValue::Text(s)) => Err(err(&path(), format!("expected a number, got '{s}'"))),
                None => Err(err(&base(), format!("missing '{key}'"))),
            }
        };
        let from = |name: Option<&str>| name.map_or(String::new(), |n| format!(" (from parameter '{n}')"));
        let int = |key: &str| -> Result<usize, Error> {
            let (x, name) = number(key)?;
            let range = limits().period;
            if x.is_finite() && x >= range.min as f64 && x.fract() == 0.0 && x <= range.max as f64 {
                Ok(x as usize)
            } else {
                Err(err(
                    &format!("{}.{key}", base()),
                    format!(
                        "expected an integer from {} to {}, got {}{}",
                        range.min,
                        range.max,
                        js_number(x),
                        from(name)
                    ),
                ))
            }
        };
        let source = || -> Result<Source, Error> {
            match w.params.get("source") {
                None => Ok(Source::Close),
                Some(ParamValue::Text(s)) => match s.as_str() {
                    "open" => Ok(Source::Open),
                    "high" => Ok(Source::High),
                    "low" => Ok(Source::Low),
                    "close" => Ok(Source::Close),
                    _ => Err(err(
                        &format!("{}.source", base()),
                        format!("unknown source '{s}' (expected one of open, high, low, close)"),
                    )),
                },
                Some(_) => Err(err(
                    &format!("{}.source", base()),
                    "expected one of open, high, low, close",
                )),
            }
        };
        Ok(match w.kind {
            WorkerKind::Sma => IndicatorSpec::Sma {
                period: int("period")?,
                source: source()?,
            },
            WorkerKind::Ema => IndicatorSpec::Ema {
                period: int("period")?,
                source: source()?,
            },
            WorkerKind::Rsi => IndicatorSpec::Rsi {
                period: int("period")?,
                source: source()?,
            },
            WorkerKind::Atr => IndicatorSpec::Atr {
                period: int("period")?,
            },
            WorkerKind::Bollinger => {
                let period = int("period")?;
                let (deviations, name) = number("deviations")?;
                if !(deviations.is_finite() && deviations > 0.0) {
                    return Err(err(
                        &format!("{}.deviations", base()),
                        format!(
                            "expected a number > 0, got {}{}",
                            js_number(deviations),
                            from(name)
                        ),
                    ));
                }
                IndicatorSpec::Bollinger {
                    period,
                    deviations,
                    source: source()?,
                }
            }
            WorkerKind::Envelope => {
                let period = int("period")?;
                let (percent, name) = number("percent")?;
                if !(percent > 0.0 && percent < 100.0) {
                    return Err(err(
                        &format!("{}.percent", base()),
                        format!(
                            "expected a number > 0 and < 100, got {}{}",
                            js_number(percent),
                            from(name)
                        ),
                    ));
                }
                IndicatorSpec::Envelope {
                    period,
                    percent,
                    source: source()?,
                }
            }
            WorkerKind::Macd => {
                let fast = int("fast")?;
                let slow = int("slow")?;
                let signal = int("signal")?;
                if fast >= slow {
                    return Err(err(
                        &format!("{}.fast", base()),
                        format!("fast ({fast}) must be smaller than slow ({slow})"),
                    ));
                }
                IndicatorSpec::Macd {
                    fast,
                    slow,
                    signal,
                    source: source()?,
                }
            }
        })
    }

    fn order(&mut self, side: i8, o: &Order, path: &mut String) -> Result<CompiledAction, Error> {
        let price = match &o.price {
            Some(e) => Some(at(path, "price", |p| self.block(e, p))?),
            None => None,
        };
        let sizing = match &o.sizing {
            Sizing::Lots(e) => CompiledSizing::Lots(at(path, "lots", |p| self.block(e, p))?),
            Sizing::Risk(e) => CompiledSizing::Risk(at(path, "risk", |p| self.block(e, p))?),
        };
        let mut level = |l: &Option<Level>, key: &str, path: &mut String| -> Result<_, Error> {
            match l {
                None => Ok(None),
                Some(Level::Pips(e)) => at(path, key, |p| at(p, "pips", |p| self.block(e, p)))
                    .map(|c| Some(CompiledLevel::Pips(c))),
                Some(Level::Price(e)) => at(path, key, |p| at(p, "price", |p| self.block(e, p)))
                    .map(|c| Some(CompiledLevel::Price(c))),
            }
        };
        let sl = level(&o.sl, "sl", path)?;
        let tp = level(&o.tp, "tp", path)?;
        let trail = match &o.trail {
            Some(e) => Some(at(path, "trail", |p| at(p, "pips", |p| self.block(e, p)))?),
            None => None,
        };
        Ok(CompiledAction::Open(
            side,
            Box::new(CompiledOrder {
                order: o.order,
                price,
                sizing,
                sl,
                tp,
                trail,
            }),
        ))
    }

    fn number(&mut self, e: &Expr, path: &mut String) -> Result<Code, Error> {
        self.typed(e, Ty::Number, path, None)
    }

    fn block(&mut self, e: &Expr, path: &mut String) -> Result<Block, Error> {
        self.number(e, path).map(|c| Block::compile(&c))
    }

    fn boolean(&mut self, e: &Expr, path: &mut String) -> Result<Code, Error> {
        self.typed(e, Ty::Boolean, path, None)
    }

    /// `cross` is `Some(shift)` inside a cross argument, where only values with a history are
    /// allowed and every offset is moved back by `shift`.
    fn typed(&mut self, e: &Expr, want: Ty, path: &mut String, cross: Option<usize>) -> Result<Code, Error> {
        let (code, ty) = self.expr(e, path, cross)?;
        if ty != want {
            return Err(err(path, format!("expected {}, got {}", want.name(), ty.name())));
        }
        Ok(code)
    }

    fn args(
        &mut self,
        args: &[Expr],
        want: Ty,
        path: &mut String,
        cross: Option<usize>,
    ) -> Result<Box<[Code]>, Error> {
        let mut out = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            out.push(at_index(path, "args", i, |p| self.typed(a, want, p, cross))?);
        }
        Ok(out.into_boxed_slice())
    }

    fn name_timeframe(&mut self, tf: Option<Timeframe>, path: &mut String) -> Timeframe {
        match tf {
            Some(tf) => {
                self.used[tf.index()] = true;
                self.named_timeframes.push((tf, format!("{path}.timeframe")));
                tf
            }
            None => self.strategy.decision.timeframe,
        }
    }

    fn expr(&mut self, e: &Expr, path: &mut String, cross: Option<usize>) -> Result<(Code, Ty), Error> {
        if cross.is_some() {
            let allowed = match e {
                Expr::Number(_) | Expr::Param(_) | Expr::Worker { .. } | Expr::Bar { .. } => true,
                Expr::Op { op, .. } => {
                    matches!(
                        op,
                        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Neg | Op::Abs | Op::Min | Op::Max
                    )
                }
                _ => false,
            };
            if !allowed {
                return Err(err(
                    path,
                    "a cross argument may contain only numbers, params, worker and bar references and \
                     arithmetic (+ - * / neg abs min max)",
                ));
            }
        }
        let shift = cross.unwrap_or(0);
        Ok(match e {
            Expr::Number(x) => (Code::Const(*x), Ty::Number),
            Expr::Bool(b) => (Code::Const(if *b { 1.0 } else { 0.0 }), Ty::Boolean),
            Expr::Param(name) => {
                let x = at(path, "param", |p| self.param(name, p))?;
                (Code::Const(x), Ty::Number)
            }
            Expr::Worker { id, output, offset } => {
                let strategy = self.strategy;
                let Some(worker) = strategy.workers.iter().position(|w| &w.id == id) else {
                    let ids: Vec<&str> = strategy.workers.iter().map(|w| w.id.as_str()).collect();
                    let list = if ids.is_empty() {
                        "none".to_string()
                    } else {
                        ids.join(", ")
                    };
                    return Err(at(path, "worker", |p| {
                        err(p, format!("unknown worker '{id}' (workers: {list})"))
                    }));
                };
                let outputs = self.specs[worker].output_names();
                let output = match output {
                    Some(o) => outputs.iter().position(|n| n == o).ok_or_else(|| {
                        at(path, "output", |p| {
                            err(
                                p,
                                format!(
                                    "unknown output '{o}' of worker '{id}' (outputs: {})",
                                    names(outputs)
                                ),
                            )
                        })
                    })?,
                    None if outputs.len() == 1 => 0,
                    None => {
                        return Err(err(
                            path,
                            format!("worker '{id}' has several outputs; name one ({})", names(outputs)),
                        ))
                    }
                };
                let offset = offset + shift;
                let depth = &mut self.worker_depth[worker];
                *depth = (*depth).max(offset + 1);
                (
                    Code::Worker {
                        worker,
                        output,
                        offset,
                    },
                    Ty::Number,
                )
            }
            Expr::Bar {
                field,
                timeframe,
                offset,
            } => {
                let tf = self.name_timeframe(*timeframe, path);
                let offset = offset + shift;
                let depth = &mut self.bar_depth[tf.index()];
                *depth = (*depth).max(offset + 1);
                (
                    Code::Bar {
                        tf,
                        field: *field,
                        offset,
                    },
                    Ty::Number,
                )
            }
            Expr::Forming { field, timeframe } => {
                let tf = self.name_timeframe(*timeframe, path);
                (Code::Forming { tf, field: *field }, Ty::Number)
            }
            Expr::Quote(q) => (Code::Quote(*q), Ty::Number),
            Expr::Position(p) => (Code::Position(*p), Ty::Number),
            Expr::Account(a) => (Code::Account(*a), Ty::Number),
            Expr::Time(u) => (Code::Time(*u), Ty::Number),
            Expr::Op { op, args } => {
                let n = Ty::Number;
                match op {
                    Op::Add => (Code::Add(self.args(args, n, path, cross)?), n),
                    Op::Sub => (Code::Sub(self.args(args, n, path, cross)?), n),
                    Op::Mul => (Code::Mul(self.args(args, n, path, cross)?), n),
                    Op::Div => (Code::Div(self.args(args, n, path, cross)?), n),
                    Op::Min => (Code::Min(self.args(args, n, path, cross)?), n),
                    Op::Max => (Code::Max(self.args(args, n, path, cross)?), n),
                    Op::Neg | Op::Abs => {
                        let mut a = self.args(args, n, path, cross)?.into_vec();
                        let a = Box::new(a.remove(0));
                        (
                            if *op == Op::Neg {
                                Code::Neg(a)
                            } else {
                                Code::Abs(a)
                            },
                            n,
                        )
                    }
                    Op::Gt | Op::Ge | Op::Lt | Op::Le | Op::Eq | Op::Ne => {
                        let cmp = match op {
                            Op::Gt => Cmp::Gt,
                            Op::Ge => Cmp::Ge,
                            Op::Lt => Cmp::Lt,
                            Op::Le => Cmp::Le,
                            Op::Eq => Cmp::Eq,
                            _ => Cmp::Ne,
                        };
                        (
                            Code::Cmp(cmp, pair(self.args(args, n, path, cross)?)),
                            Ty::Boolean,
                        )
                    }
                    Op::And => (Code::And(self.args(args, Ty::Boolean, path, cross)?), Ty::Boolean),
                    Op::Or => (Code::Or(self.args(args, Ty::Boolean, path, cross)?), Ty::Boolean),
                    Op::Not => {
                        let mut a = self.args(args, Ty::Boolean, path, cross)?.into_vec();
                        (Code::Not(Box::new(a.remove(0))), Ty::Boolean)
                    }
                    Op::CrossAbove | Op::CrossBelow => {
                        let [a, b] = *pair(self.args(args, n, path, Some(0))?);
                        let [a1, b1] = *pair(self.args(args, n, path, Some(1))?);
                        let above = *op == Op::CrossAbove;
                        (
                            Code::Cross {
                                above,
                                args: Box::new([a, b, a1, b1]),
                            },
                            Ty::Boolean,
                        )
                    }
                }
            }
        })
    }
}

/// The two arguments of a binary operator (the parser checked the count).
fn pair(args: Box<[Code]>) -> Box<[Code; 2]> {
    match args.try_into() {
        Ok(two) => two,
        Err(_) => unreachable!("binary operators are parsed with exactly two arguments"),
    }
}

#[cfg(test)]
mod tests {
    use super::{at_index, push_decimal};

    #[test]
    fn decimals_and_index_paths_equal_the_formatted_ones() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, 1 << 40, usize::MAX] {
            let mut s = String::from("x");
            push_decimal(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
        let mut path = String::from("strategy.rules[3].when");
        let inner = at_index(&mut path, "args", 17, |p| p.clone());
        assert_eq!(inner, "strategy.rules[3].when.args[17]");
        assert_eq!(path, "strategy.rules[3].when");
    }
}
