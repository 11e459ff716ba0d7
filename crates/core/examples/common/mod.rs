//! What the release-mode examples share: the reference strategy and the 10 million synthetic
//! EURUSD ticks they run it on.

use tickforge_core::generate::{generate_ticks, TickGenOptions};
use tickforge_core::{MarketData, TickData};

pub const TICKS: usize = 10_000_000;

/// The reference strategy: RSI on M5 (period from a parameter), envelope(20, 2%) on M30,
/// decisions at M5 closes, SL from a parameter, TP 40 pips.
pub const REFERENCE: &str = r#"{
  "version": 1,
  "name": "rsi-envelope",
  "params": { "rsiPeriod": { "default": 14, "type": "int", "min": 2 }, "slPips": { "default": 20 } },
  "decision": { "timeframe": "M5", "on": "bar" },
  "workers": [
    { "id": "rsi", "kind": "rsi", "timeframe": "M5", "params": { "period": { "param": "rsiPeriod" } } },
    { "id": "env", "kind": "envelope", "timeframe": "M30", "params": { "period": 20, "percent": 2.0 } }
  ],
  "rules": [
    { "when": { "op": "and", "args": [
        { "op": "==", "args": [{ "position": "side" }, 0] },
        { "op": "<", "args": [{ "worker": "rsi" }, 30] },
        { "op": "<", "args": [{ "bar": "close" }, { "worker": "env", "output": "lower" }] } ] },
      "then": [{ "action": "buy", "lots": 1, "sl": { "pips": { "param": "slPips" } }, "tp": { "pips": 40 } }] },
    { "when": { "op": "and", "args": [
        { "op": "==", "args": [{ "position": "side" }, 0] },
        { "op": ">", "args": [{ "worker": "rsi" }, 70] },
        { "op": ">", "args": [{ "bar": "close" }, { "worker": "env", "output": "upper" }] } ] },
      "then": [{ "action": "sell", "lots": 1, "sl": { "pips": { "param": "slPips" } }, "tp": { "pips": 40 } }] }
  ]
}"#;

/// The calm synthetic series (step 3 points, seed 7) cut to exactly `TICKS` ticks.
pub fn reference_ticks() -> MarketData {
    let mut cols = generate_ticks(&TickGenOptions {
        start: 1_704_067_200_000.0,
        days: 160.0,
        seed: 7,
        start_price: 1.1,
        digits: 5,
        mean_interval_ms: 900.0,
        step_points: 3.0,
    });
    assert!(
        cols.time.len() >= TICKS,
        "160 days gave only {} ticks",
        cols.time.len()
    );
    cols.time.truncate(TICKS);
    cols.bid.truncate(TICKS);
    cols.ask.truncate(TICKS);
    MarketData::Ticks(TickData::new(cols.time, cols.bid, cols.ask, None).expect("valid ticks"))
}
