//! Helpers shared by the engine's behaviour tests.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use tickforge_core::generate::{generate_bars, generate_ticks, BarGenOptions, TickGenOptions};
use tickforge_core::{
    compile, run, BarData, MarketData, Program, RunConfig, RunOutput, Strategy, TickData, Timeframe,
};

/// Monday 2024-01-01 00:00:00 UTC.
pub const T0: f64 = 1_704_067_200_000.0;
pub const SEC: f64 = 1_000.0;
pub const MIN: f64 = 60_000.0;
pub const PIP: f64 = 0.0001;

/// Ticks from `(time, bid, ask)` rows.
pub fn ticks(rows: &[(f64, f64, f64)]) -> MarketData {
    let time = rows.iter().map(|r| r.0).collect();
    let bid = rows.iter().map(|r| r.1).collect();
    let ask = rows.iter().map(|r| r.2).collect();
    MarketData::Ticks(TickData::new(time, bid, ask, None).expect("valid ticks"))
}

/// Bars from `(time, open, high, low, close)` rows, volume 1.
pub fn bars(tf: Timeframe, rows: &[(f64, f64, f64, f64, f64)]) -> MarketData {
    let col = |k: usize| -> Vec<f64> { rows.iter().map(|r| [r.0, r.1, r.2, r.3, r.4][k]).collect() };
    let volume = vec![1.0; rows.len()];
    MarketData::Bars(BarData::new(tf, col(0), col(1), col(2), col(3), col(4), volume).expect("valid bars"))
}

pub fn generated(seed: u32, days: f64) -> MarketData {
    let cols = generate_ticks(&TickGenOptions {
        start: T0,
        days,
        seed,
        start_price: 1.1,
        digits: 5,
        mean_interval_ms: 900.0,
        step_points: 3.0,
    });
    MarketData::Ticks(TickData::new(cols.time, cols.bid, cols.ask, None).expect("valid ticks"))
}

/// `count` generated bars of `tf` from T0 (EURUSD-like, step 3 points).
pub fn generated_bars(tf: Timeframe, count: usize, seed: u32) -> MarketData {
    let c = generate_bars(&BarGenOptions {
        timeframe: tf,
        start: T0,
        count,
        seed,
        start_price: 1.1,
        digits: 5,
        step_points: 3.0,
    });
    MarketData::Bars(BarData::new(tf, c.time, c.open, c.high, c.low, c.close, c.volume).expect("valid bars"))
}

/// Compiles a strategy given as a JSON value with its default parameters.
pub fn program(strategy: &Value) -> Program {
    let strategy = Strategy::from_json(&strategy.to_string()).expect("strategy parses");
    compile(&strategy, &BTreeMap::new()).expect("strategy compiles")
}

/// A strategy with no workers deciding on `timeframe` (`on`: "bar" or "tick").
pub fn rules(timeframe: &str, on: &str, rules: Value) -> Value {
    serde_json::json!({
        "version": 1,
        "decision": { "timeframe": timeframe, "on": on },
        "rules": rules,
    })
}

pub fn config(edit: impl FnOnce(&mut RunConfig)) -> RunConfig {
    let mut c = RunConfig::default();
    edit(&mut c);
    c
}

pub fn run_ok(data: &MarketData, strategy: &Value, config: &RunConfig) -> RunOutput {
    run(data, &program(strategy), config).expect("run succeeds")
}

/// `{ op: [args] }` in the IR's shape.
pub fn op(name: &str, args: Vec<Value>) -> Value {
    serde_json::json!({ "op": name, "args": args })
}

pub fn flat() -> Value {
    op("==", vec![serde_json::json!({ "position": "side" }), 0.into()])
}

/// The reference strategy of the docs (RSI(14) on M5, envelope(20, percent) on M30, decisions
/// at M5 closes, SL 20 / TP 40 pips), long and short.
pub fn reference(percent: f64) -> Value {
    let side_rule = |cmp: &str, level: f64, band: &str, bar_cmp: &str, action: &str| {
        serde_json::json!({
            "when": op("and", vec![
                flat(),
                op(cmp, vec![serde_json::json!({ "worker": "rsi" }), level.into()]),
                op(bar_cmp, vec![
                    serde_json::json!({ "bar": "close" }),
                    serde_json::json!({ "worker": "env", "output": band }),
                ]),
            ]),
            "then": [{ "action": action, "lots": 1, "sl": { "pips": { "param": "slPips" } }, "tp": { "pips": 40 } }],
        })
    };
    serde_json::json!({
        "version": 1,
        "name": "rsi-envelope",
        "params": {
            "rsiPeriod": { "default": 14, "type": "int", "min": 2 },
            "slPips": { "default": 20 }
        },
        "decision": { "timeframe": "M5", "on": "bar" },
        "workers": [
            { "id": "rsi", "kind": "rsi", "timeframe": "M5", "params": { "period": { "param": "rsiPeriod" } } },
            { "id": "env", "kind": "envelope", "timeframe": "M30", "params": { "period": 20, "percent": percent } }
        ],
        "rules": [
            side_rule("<", 30.0, "lower", "<", "buy"),
            side_rule(">", 70.0, "upper", ">", "sell"),
        ],
    })
}
