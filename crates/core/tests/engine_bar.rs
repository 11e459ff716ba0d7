//! Bar mode: fills at the next open or at the close, intrabar exits from high and low.

mod common;

use common::*;
use serde_json::{json, Value};
use tickforge_core::config::FillAt;
use tickforge_core::{run, ErrorKind, ExitReason, Timeframe};

const M5: f64 = 300_000.0;
const SPREAD: f64 = 1.0 * PIP;

/// Buys (or sells) once, at the decision that sees the bar opened at `T0` closed.
fn once(action: &str, sl_pips: f64, tp_pips: f64) -> Value {
    rules(
        "M5",
        "bar",
        json!([{
            "when": op("==", vec![json!({ "bar": "time" }), T0.into()]),
            "then": [{ "action": action, "lots": 1, "sl": { "pips": sl_pips }, "tp": { "pips": tp_pips } }]
        }]),
    )
}

#[test]
fn market_orders_fill_at_the_next_bars_open() {
    // A gap between the bars shows which time the fill takes.
    let data = bars(
        Timeframe::M5,
        &[
            (T0, 1.1, 1.101, 1.0995, 1.1005),
            (T0 + 2.0 * M5, 1.1006, 1.1012, 1.1001, 1.1008),
        ],
    );
    let out = run_ok(&data, &once("buy", 20.0, 40.0), &config(|_| {}));
    let t = &out.trades[0];
    assert_eq!((t.entry_time, t.entry_price), (T0 + 2.0 * M5, 1.1006 + SPREAD));
    // End of data: the last close, bid side, time = last bar + base.
    assert_eq!(
        (t.exit_time, t.exit_price, t.reason),
        (T0 + 3.0 * M5, 1.1008, ExitReason::End)
    );
    assert_eq!(out.events, 2);
}

#[test]
fn fill_at_close_fills_at_the_decision_bars_close() {
    let data = bars(
        Timeframe::M5,
        &[
            (T0, 1.1, 1.101, 1.0995, 1.1005),
            (T0 + 2.0 * M5, 1.1006, 1.1012, 1.1001, 1.1008),
        ],
    );
    let cfg = config(|c| {
        c.fill_at = FillAt::Close;
        c.instrument.slippage_pips = 0.5;
    });
    let out = run_ok(&data, &once("sell", 20.0, 40.0), &cfg);
    let t = &out.trades[0];
    assert_eq!(
        (t.side, t.entry_time, t.entry_price),
        (-1, T0 + M5, 1.1005 - 0.5 * PIP)
    );
    assert_eq!(t.exit_price, 1.1008 + SPREAD + 0.5 * PIP);
}

fn three_bars(third: (f64, f64, f64, f64)) -> Vec<(f64, f64, f64, f64, f64)> {
    vec![
        (T0, 1.1, 1.101, 1.0995, 1.1005),
        (T0 + M5, 1.1006, 1.1012, 1.1001, 1.1008),
        (T0 + 2.0 * M5, third.0, third.1, third.2, third.3),
        (T0 + 3.0 * M5, 1.1, 1.1001, 1.0999, 1.1),
    ]
}

fn long_exit(third: (f64, f64, f64, f64)) -> tickforge_core::Trade {
    let data = bars(Timeframe::M5, &three_bars(third));
    let out = run_ok(&data, &once("buy", 20.0, 40.0), &config(|_| {}));
    assert_eq!(out.trades.len(), 1);
    out.trades[0].clone()
}

#[test]
fn intrabar_stop_loss_from_the_low() {
    let fill = 1.1006 + SPREAD;
    let sl = fill - 20.0 * PIP;
    let t = long_exit((1.1, 1.1003, 1.098, 1.099));
    assert_eq!(
        (t.exit_time, t.exit_price, t.reason),
        (T0 + 2.0 * M5, sl, ExitReason::StopLoss)
    );
}

#[test]
fn intrabar_take_profit_from_the_high() {
    let tp = (1.1006 + SPREAD) + 40.0 * PIP;
    let t = long_exit((1.1009, 1.106, 1.1005, 1.105));
    assert_eq!((t.exit_price, t.reason), (tp, ExitReason::TakeProfit));
}

#[test]
fn stop_loss_wins_when_one_bar_reaches_both_levels() {
    let sl = (1.1006 + SPREAD) - 20.0 * PIP;
    let t = long_exit((1.1009, 1.106, 1.098, 1.1));
    assert_eq!((t.exit_price, t.reason), (sl, ExitReason::StopLoss));
}

#[test]
fn a_gap_open_beyond_the_stop_fills_at_the_open() {
    let t = long_exit((1.097, 1.0975, 1.0965, 1.097));
    assert_eq!((t.exit_price, t.reason), (1.097, ExitReason::StopLoss));
    let t = long_exit((1.107, 1.108, 1.1065, 1.107));
    assert_eq!((t.exit_price, t.reason), (1.107, ExitReason::TakeProfit));
}

#[test]
fn a_short_exits_against_high_and_low_plus_the_spread() {
    let data = bars(Timeframe::M5, &three_bars((1.1, 1.10255, 1.099, 1.1)));
    let out = run_ok(&data, &once("sell", 20.0, 40.0), &config(|_| {}));
    let t = &out.trades[0];
    let fill = 1.1006;
    assert_eq!(t.entry_price, fill);
    // High + spread reaches the stop (fill + 20 pips) although the high alone does not.
    assert!(1.10255 < t.sl && 1.10255 + SPREAD >= t.sl && 1.1 + SPREAD < t.sl);
    assert_eq!((t.exit_price, t.reason), (t.sl, ExitReason::StopLoss));
}

#[test]
fn a_position_opened_at_the_open_can_exit_within_the_same_bar() {
    let data = bars(
        Timeframe::M5,
        &[
            (T0, 1.1, 1.101, 1.0995, 1.1005),
            (T0 + M5, 1.1006, 1.1012, 1.098, 1.1008),
        ],
    );
    let out = run_ok(&data, &once("buy", 20.0, 40.0), &config(|_| {}));
    let t = &out.trades[0];
    assert_eq!(
        (t.entry_time, t.exit_time, t.reason),
        (T0 + M5, T0 + M5, ExitReason::StopLoss)
    );
}

#[test]
fn no_decision_at_the_first_bar_and_samples_use_the_closing_quotes() {
    let data = bars(Timeframe::M5, &three_bars((1.1009, 1.101, 1.1005, 1.1007)));
    let strategy = rules(
        "M5",
        "tick",
        json!([{ "when": flat(), "then": [{ "action": "buy", "lots": 1 }] }]),
    );
    let out = run_ok(&data, &strategy, &config(|_| {}));
    assert_eq!(out.trades[0].entry_time, T0 + M5);
    assert_eq!(out.equity.time, vec![T0, T0 + M5, T0 + 2.0 * M5, T0 + 3.0 * M5]);
    let units = 100_000.0;
    // The sample stamped with bar 1 is marked at bar 1's close.
    assert_eq!(
        out.equity.equity[1],
        10_000.0 + (1.1008 - (1.1006 + SPREAD)) * units
    );
}

#[test]
fn larger_timeframes_aggregate_from_the_data_timeframe() {
    // An M15 bar from three M5 bars. Prices are binary fractions so the comparisons are exact.
    let rows: Vec<_> = (0..7)
        .map(|i| {
            let p = 1.5 + f64::from(i) * 0.125;
            (T0 + f64::from(i) * M5, p, p + 0.0625, p - 0.0625, p + 0.03125)
        })
        .collect();
    let data = bars(Timeframe::M5, &rows);
    let m15 = |field: &str| json!({ "bar": field, "timeframe": "M15" });
    let when = op(
        "and",
        vec![
            flat(),
            op("==", vec![m15("time"), T0.into()]),
            op("==", vec![m15("open"), 1.5.into()]),
            op("==", vec![m15("high"), (1.75 + 0.0625).into()]),
            op("==", vec![m15("low"), (1.5 - 0.0625).into()]),
            op("==", vec![m15("close"), (1.75 + 0.03125).into()]),
            op("==", vec![m15("volume"), 3.into()]),
        ],
    );
    let then = json!([{ "action": "buy", "lots": 1 }]);
    let out = run_ok(
        &data,
        &rules("M5", "bar", json!([{ "when": when, "then": then }])),
        &config(|_| {}),
    );
    // The M15 bar closes when bar 3 arrives; the order fills at bar 3's open.
    assert_eq!(out.trades[0].entry_time, T0 + 3.0 * M5);
}

#[test]
fn a_timeframe_below_the_datas_is_refused_where_it_is_used() {
    let data = bars(Timeframe::M5, &[(T0, 1.1, 1.101, 1.0995, 1.1005)]);
    let cfg = config(|_| {});
    let check = |strategy: Value, path: &str| {
        let e = run(&data, &program(&strategy), &cfg).unwrap_err();
        assert_eq!(
            (e.kind, e.path.as_str()),
            (ErrorKind::Strategy, path),
            "{}",
            e.message
        );
    };
    check(rules("M1", "bar", json!([])), "strategy.decision.timeframe");
    let mut s = rules("M5", "bar", json!([]));
    s["workers"] = json!([
        { "id": "a", "kind": "sma", "timeframe": "M5", "params": { "period": 3 } },
        { "id": "b", "kind": "sma", "timeframe": "M1", "params": { "period": 3 } }
    ]);
    check(s, "strategy.workers[1].timeframe");
    let when = op(
        ">",
        vec![
            json!({ "quote": "bid" }),
            json!({ "forming": "high", "timeframe": "M1" }),
        ],
    );
    check(
        rules(
            "M5",
            "bar",
            json!([{ "when": when, "then": [{ "action": "close" }] }]),
        ),
        "strategy.rules[0].when.args[1].timeframe",
    );
}
