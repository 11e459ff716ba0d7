//! No look-ahead: a run on a prefix of the ticks agrees with the full run on everything that
//! happened before the cut.

mod common;

use common::*;
use serde_json::{json, Value};
use tickforge_core::{ExitReason, MarketData, TickData};

fn prefix(data: &MarketData, n: usize) -> MarketData {
    let MarketData::Ticks(t) = data else {
        unreachable!("tick data")
    };
    MarketData::Ticks(
        TickData::new(
            t.time[..n].to_vec(),
            t.bid[..n].to_vec(),
            t.ask[..n].to_vec(),
            None,
        )
        .unwrap(),
    )
}

/// Crosses, offsets, forming bars and quotes, decided on every tick.
fn busy_strategy() -> Value {
    let fast = json!({ "worker": "fast" });
    let slow = json!({ "worker": "slow" });
    let range = op(
        "-",
        vec![
            json!({ "forming": "high", "timeframe": "M5" }),
            json!({ "forming": "low", "timeframe": "M5" }),
        ],
    );
    json!({
        "version": 1,
        "decision": { "timeframe": "M1", "on": "tick" },
        "workers": [
            { "id": "fast", "kind": "ema", "timeframe": "M1", "params": { "period": 5 } },
            { "id": "slow", "kind": "sma", "timeframe": "M5", "params": { "period": 6 } },
            { "id": "band", "kind": "bollinger", "timeframe": "M15", "params": { "period": 10, "deviations": 2 } }
        ],
        "rules": [
            { "when": op("crossAbove", vec![fast.clone(), slow.clone()]),
              "then": [{ "action": "buy", "lots": 1, "sl": { "pips": 15 }, "tp": { "pips": 30 } }] },
            { "when": op("crossBelow", vec![fast.clone(), slow]),
              "then": [{ "action": "sell", "lots": 1, "sl": { "pips": 15 }, "tp": { "pips": 30 } }] },
            { "when": op("or", vec![
                op(">", vec![range, 0.0012.into()]),
                op(">", vec![json!({ "quote": "bid" }), json!({ "worker": "band", "output": "upper", "offset": 1 })]),
              ]),
              "then": [{ "action": "close" }] }
        ]
    })
}

#[test]
fn a_prefix_run_agrees_with_the_full_run_before_the_cut() {
    for seed in [11, 12, 13] {
        let data = generated(seed, 3.0);
        let n = data.len();
        for strategy in [reference(0.05), busy_strategy()] {
            let full = run_ok(&data, &strategy, &config(|_| {}));
            assert!(
                full.trades.len() > 3,
                "seed {seed}: the strategy trades ({})",
                full.trades.len()
            );
            for cut in [n / 7, n / 3, n / 2, n - n / 5, n - 1] {
                let part = run_ok(&prefix(&data, cut), &strategy, &config(|_| {}));
                let mut closed = part.trades.clone();
                if closed.last().is_some_and(|t| t.reason == ExitReason::End) {
                    closed.pop();
                }
                assert_eq!(closed[..], full.trades[..closed.len()], "seed {seed}, cut {cut}");
                let MarketData::Ticks(t) = &data else {
                    unreachable!()
                };
                let last = t.time[cut - 1];
                let before = full.trades.iter().filter(|t| t.exit_time < last).count();
                assert!(
                    closed.len() >= before,
                    "seed {seed}, cut {cut}: {} < {before}",
                    closed.len()
                );
                // Samples too, but for the prefix run's final one taken at its end of data.
                let k = part.equity.time.len() - 1;
                assert_eq!(part.equity.time[..k], full.equity.time[..k]);
                assert_eq!(part.equity.equity[..k], full.equity.equity[..k]);
            }
        }
    }
}
