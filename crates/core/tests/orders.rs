//! Pending (limit and stop) orders, risk sizing, trailing stops and their IR checks
//! (docs/semantics.md sections 4 and 5), on hand-computed scenarios.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tickforge_core::profile::Step;
use tickforge_core::{compile, ExitReason, RejectReason, Strategy, Timeframe, Trade};

const M1: f64 = 60_000.0;
const SPREAD: f64 = 1.0 * PIP;

fn bid_is(x: f64) -> Value {
    op("==", vec![json!({ "quote": "bid" }), x.into()])
}

/// Tick decisions on M1: at the tick whose bid is `x`, do `actions`.
fn at_bid(x: f64, actions: Value) -> Value {
    rules("M1", "tick", json!([{ "when": bid_is(x), "then": actions }]))
}

/// Several `(bid, actions)` rules on tick decisions.
fn at_bids(list: &[(f64, Value)]) -> Value {
    let rules_json: Vec<Value> = list
        .iter()
        .map(|(x, a)| json!({ "when": bid_is(*x), "then": a }))
        .collect();
    rules("M1", "tick", Value::Array(rules_json))
}

/// Ticks one second apart from `(bid, ask)` pairs.
fn quotes(rows: &[(f64, f64)]) -> tickforge_core::MarketData {
    let rows: Vec<(f64, f64, f64)> = rows
        .iter()
        .enumerate()
        .map(|(i, &(b, a))| (T0 + i as f64 * SEC, b, a))
        .collect();
    ticks(&rows)
}

fn only_trade(trades: &[Trade]) -> &Trade {
    assert_eq!(trades.len(), 1, "{trades:?}");
    &trades[0]
}

// ---------------------------------------------------------------- tick mode triggers

#[test]
fn a_buy_limit_fills_at_the_ask_once_the_ask_reaches_its_price() {
    let data = quotes(&[(1.1, 1.1002), (1.0996, 1.0998), (1.0992, 1.0994), (1.1, 1.1002)]);
    let s = at_bid(
        1.1,
        json!([{ "action": "buy", "order": "limit", "price": 1.0995, "lots": 1 }]),
    );
    let out = run_ok(&data, &s, &config(|c| c.instrument.slippage_pips = 0.5));
    let t = only_trade(&out.trades);
    // A limit fill takes no slippage; the market close at the end does.
    assert_eq!((t.side, t.entry_time, t.entry_price), (1, T0 + 2.0 * SEC, 1.0994));
    assert_eq!((t.exit_price, t.reason), (1.1 - 0.5 * PIP, ExitReason::End));
    assert!(out.rejections.is_empty());
}

#[test]
fn an_order_placed_at_a_decision_first_fills_on_the_next_tick() {
    // The limit price is already above the ask when the order is placed.
    let data = quotes(&[(1.1, 1.1002), (1.1001, 1.1003), (1.1004, 1.1006)]);
    let s = at_bid(
        1.1,
        json!([{ "action": "buy", "order": "limit", "price": 1.101, "lots": 1 }]),
    );
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    assert_eq!((t.entry_time, t.entry_price), (T0 + SEC, 1.1003));
}

#[test]
fn a_buy_stop_fills_at_the_ask_plus_slippage() {
    let data = quotes(&[
        (1.1, 1.1002),
        (1.1006, 1.1008),
        (1.1011, 1.1013),
        (1.1012, 1.1014),
    ]);
    let s = at_bid(
        1.1,
        json!([{ "action": "buy", "order": "stop", "price": 1.101, "lots": 1 }]),
    );
    let out = run_ok(&data, &s, &config(|c| c.instrument.slippage_pips = 0.5));
    let t = only_trade(&out.trades);
    assert_eq!(
        (t.entry_time, t.entry_price),
        (T0 + 2.0 * SEC, 1.1013 + 0.5 * PIP)
    );
}

#[test]
fn a_sell_limit_fills_at_the_bid_and_a_sell_stop_at_the_bid_minus_slippage() {
    let data = quotes(&[(1.1, 1.1002), (1.1004, 1.1006), (1.1007, 1.1009), (1.1, 1.1002)]);
    let cfg = config(|c| c.instrument.slippage_pips = 1.0);
    let s = at_bid(
        1.1,
        json!([{ "action": "sell", "order": "limit", "price": 1.1005, "lots": 1 }]),
    );
    let t = only_trade(&run_ok(&data, &s, &cfg).trades).clone();
    assert_eq!(
        (t.side, t.entry_time, t.entry_price),
        (-1, T0 + 2.0 * SEC, 1.1007)
    );

    let data = quotes(&[
        (1.1, 1.1002),
        (1.0996, 1.0998),
        (1.0994, 1.0996),
        (1.0990, 1.0992),
    ]);
    let s = at_bid(
        1.1,
        json!([{ "action": "sell", "order": "stop", "price": 1.0995, "lots": 1 }]),
    );
    let t = only_trade(&run_ok(&data, &s, &cfg).trades).clone();
    assert_eq!((t.entry_time, t.entry_price), (T0 + 2.0 * SEC, 1.0994 - PIP));
}

#[test]
fn an_order_that_never_triggers_is_discarded_at_the_end() {
    let data = quotes(&[(1.1, 1.1002), (1.0996, 1.0998), (1.0997, 1.0999)]);
    let s = at_bid(
        1.1,
        json!([{ "action": "buy", "order": "limit", "price": 1.099, "lots": 1 }]),
    );
    let out = run_ok(&data, &s, &config(|_| {}));
    assert!(out.trades.is_empty() && out.rejections.is_empty());
    assert_eq!(out.metrics.final_balance, 10_000.0);
}

#[test]
fn a_trigger_reverses_an_opposite_position_at_the_trigger_tick() {
    // Long by market at the first tick, with a sell stop below it.
    let data = quotes(&[(1.1, 1.1002), (1.0995, 1.0997), (1.0988, 1.099), (1.0985, 1.0987)]);
    let s = at_bid(
        1.1,
        json!([
            { "action": "buy", "lots": 1 },
            { "action": "sell", "order": "stop", "price": 1.099, "lots": 2 }
        ]),
    );
    let slip = PIP;
    let out = run_ok(&data, &s, &config(|c| c.instrument.slippage_pips = 1.0));
    assert_eq!(out.trades.len(), 2);
    let (long, short) = (&out.trades[0], &out.trades[1]);
    assert_eq!(
        (long.entry_price, long.reason),
        (1.1002 + slip, ExitReason::Reverse)
    );
    assert_eq!((long.exit_time, long.exit_price), (T0 + 2.0 * SEC, 1.0988 - slip));
    assert_eq!((short.side, short.lots), (-1, 2.0));
    assert_eq!(
        (short.entry_time, short.entry_price),
        (T0 + 2.0 * SEC, 1.0988 - slip)
    );
    assert_eq!((short.exit_price, short.reason), (1.0987 + slip, ExitReason::End));
}

#[test]
fn a_new_order_replaces_the_pending_one_and_cancel_removes_it() {
    let data = quotes(&[
        (1.1, 1.1002),
        (1.0999, 1.1001),
        (1.0987, 1.0989),
        (1.0977, 1.0979),
    ]);
    let limit = |price: f64| json!([{ "action": "buy", "order": "limit", "price": price, "lots": 1 }]);
    // Replaced at the second tick by a lower limit: the third tick would have filled the first.
    let s = at_bids(&[(1.1, limit(1.099)), (1.0999, limit(1.098))]);
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    assert_eq!((t.entry_time, t.entry_price), (T0 + 3.0 * SEC, 1.0979));

    // A market order replaces it too (and fills at once).
    let s = at_bids(&[
        (1.1, limit(1.099)),
        (1.0999, json!([{ "action": "sell", "lots": 1 }])),
    ]);
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    assert_eq!((t.side, t.entry_time), (-1, T0 + SEC));

    let s = at_bids(&[(1.1, limit(1.099)), (1.0999, json!([{ "action": "cancel" }]))]);
    let out = run_ok(&data, &s, &config(|_| {}));
    assert!(out.trades.is_empty());
    // Cancel with nothing pending does nothing.
    let s = at_bid(1.1, json!([{ "action": "cancel" }]));
    assert!(run_ok(&data, &s, &config(|_| {})).trades.is_empty());
}

#[test]
fn close_leaves_the_pending_order_alone() {
    let data = quotes(&[
        (1.1, 1.1002),
        (1.1001, 1.1003),
        (1.0987, 1.0989),
        (1.0986, 1.0988),
    ]);
    let s = at_bids(&[
        (
            1.1,
            json!([
                { "action": "sell", "lots": 1 },
                { "action": "buy", "order": "limit", "price": 1.099, "lots": 1 }
            ]),
        ),
        (1.1001, json!([{ "action": "close" }])),
    ]);
    let out = run_ok(&data, &s, &config(|_| {}));
    assert_eq!(out.trades.len(), 2);
    assert_eq!(
        (out.trades[0].reason, out.trades[0].exit_time),
        (ExitReason::Signal, T0 + SEC)
    );
    assert_eq!((out.trades[1].side, out.trades[1].entry_price), (1, 1.0989));
}

#[test]
fn orders_of_the_held_side_are_skipped_and_still_cancel_the_pending_order() {
    let data = quotes(&[
        (1.1, 1.1002),
        (1.1001, 1.1003),
        (1.0987, 1.0989),
        (1.0986, 1.0988),
    ]);
    // Long with a sell stop; a buy limit at the next tick is skipped (long already) but it still
    // cancels the sell stop, which would have reversed at the third tick.
    let s = at_bids(&[
        (
            1.1,
            json!([
                { "action": "buy", "lots": 1 },
                { "action": "sell", "order": "stop", "price": 1.099, "lots": 1 }
            ]),
        ),
        (
            1.1001,
            json!([{ "action": "buy", "order": "limit", "price": 1.0995, "lots": 1 }]),
        ),
    ]);
    let out = run_ok(&data, &s, &config(|_| {}));
    let t = only_trade(&out.trades);
    assert_eq!((t.side, t.reason), (1, ExitReason::End));
    assert!(out.rejections.is_empty());
}

#[test]
fn an_invalid_price_is_rejected_at_placement() {
    let data = quotes(&[(1.1, 1.1002), (1.0, 1.0002)]);
    for price in [json!(0), op("/", vec![0.into(), 0.into()]), json!(-1.1)] {
        let s = at_bid(
            1.1,
            json!([{ "action": "buy", "order": "limit", "price": price, "lots": 0.5 }]),
        );
        let out = run_ok(&data, &s, &config(|_| {}));
        assert!(out.trades.is_empty());
        assert_eq!(out.rejections.len(), 1);
        let r = &out.rejections[0];
        assert_eq!(
            (r.time, r.side, r.lots, r.reason),
            (T0, 1, 0.5, RejectReason::InvalidPrice)
        );
        assert!(r.required.is_nan() && r.free.is_nan());
    }
    // With risk sizing the lots are not known at placement.
    let s = at_bid(
        1.1,
        json!([{ "action": "sell", "order": "stop", "price": 0, "risk": 1, "sl": { "pips": 10 } }]),
    );
    let r = run_ok(&data, &s, &config(|_| {})).rejections[0].clone();
    assert_eq!((r.side, r.reason), (-1, RejectReason::InvalidPrice));
    assert!(r.lots.is_nan());
}

#[test]
fn a_fill_is_checked_like_an_opening_at_the_trigger_time() {
    let data = quotes(&[(1.1, 1.1002), (1.0987, 1.0989), (1.0986, 1.0988)]);
    // Levels measured from the fill; a stop-loss price above the fill is refused at the trigger.
    let s = at_bid(
        1.1,
        json!([{ "action": "buy", "order": "limit", "price": 1.099, "lots": 1, "sl": { "price": 1.0995 } }]),
    );
    let out = run_ok(&data, &s, &config(|_| {}));
    assert!(out.trades.is_empty());
    let r = &out.rejections[0];
    assert_eq!(
        (r.time, r.lots, r.reason),
        (T0 + SEC, 1.0, RejectReason::InvalidSl)
    );

    let s = at_bid(
        1.1,
        json!([{ "action": "buy", "order": "limit", "price": 1.099, "lots": 1.237,
                 "sl": { "pips": 10 }, "tp": { "pips": 20 } }]),
    );
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    assert_eq!(t.lots, 1.23);
    assert_eq!((t.sl, t.tp), (1.0989 - 10.0 * PIP, 1.0989 + 20.0 * PIP));

    // Margin against the balance at the trigger.
    let s = at_bid(
        1.1,
        json!([{ "action": "buy", "order": "limit", "price": 1.099, "lots": 95 }]),
    );
    let out = run_ok(&data, &s, &config(|_| {}));
    let r = &out.rejections[0];
    assert_eq!(
        (r.time, r.reason, r.free),
        (T0 + SEC, RejectReason::Margin, 10_000.0)
    );
    assert_eq!(r.required, 95.0 * 100_000.0 * 1.0989 * 0.01);
}

#[test]
fn a_position_from_a_fill_is_not_checked_for_exits_on_the_fill_tick() {
    // The stop price is reached on the fill tick itself by its bid: no exit there.
    let data = quotes(&[(1.1, 1.1002), (1.0985, 1.0995), (1.1, 1.1002)]);
    let s = at_bid(
        1.1,
        json!([{ "action": "buy", "order": "limit", "price": 1.0995, "lots": 1, "sl": { "pips": 5 } }]),
    );
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    assert_eq!(
        (t.entry_time, t.sl, t.reason),
        (T0 + SEC, 1.0995 - 5.0 * PIP, ExitReason::End)
    );
}

#[test]
fn a_trigger_inside_a_quiet_stretch_is_seen_with_bar_decisions() {
    // Decisions at M1 closes; the order rests through many ordinary ticks and fills mid-bar.
    let mut rows = vec![(T0, 1.1, 1.1002)];
    for i in 1..200 {
        rows.push((T0 + M1 + i as f64 * 100.0, 1.1, 1.1002));
    }
    rows.push((T0 + M1 + 25_000.0, 1.0989, 1.0991));
    rows.push((T0 + M1 + 26_000.0, 1.1, 1.1002));
    let data = ticks(&rows);
    let s = rules(
        "M1",
        "bar",
        json!([{ "when": flat(), "then": [{ "action": "buy", "order": "limit", "price": 1.0995, "lots": 1 }] }]),
    );
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    assert_eq!((t.entry_time, t.entry_price), (T0 + M1 + 25_000.0, 1.0991));
}

// ---------------------------------------------------------------- bar mode triggers

/// At the decision that sees the bar opened at `T0` closed (the second bar's open), do `actions`.
fn bar_once(actions: Value) -> Value {
    rules(
        "M1",
        "bar",
        json!([{ "when": op("==", vec![json!({ "bar": "time" }), T0.into()]), "then": actions }]),
    )
}

fn m1(rows: &[(f64, f64, f64, f64)]) -> tickforge_core::MarketData {
    let rows: Vec<(f64, f64, f64, f64, f64)> = rows
        .iter()
        .enumerate()
        .map(|(i, &(o, h, l, c))| (T0 + i as f64 * M1, o, h, l, c))
        .collect();
    bars(Timeframe::M1, &rows)
}

#[test]
fn bar_mode_buy_limit_fills_inside_the_bar_or_at_a_gapped_open() {
    let action = json!([{ "action": "buy", "order": "limit", "price": 1.095, "lots": 1 }]);
    // The bar of the placing decision reaches the price but is not checked; the next one that
    // reaches it (low + spread <= price) fills at the price.
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1, 1.09, 1.096),
        (1.096, 1.097, 1.0952, 1.096),
        (1.096, 1.097, 1.094, 1.095),
    ]);
    let t = only_trade(&run_ok(&data, &bar_once(action.clone()), &config(|_| {})).trades).clone();
    assert_eq!((t.entry_time, t.entry_price), (T0 + 3.0 * M1, 1.095));

    // A gap below the price fills at the open's ask.
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1, 1.099, 1.1),
        (1.093, 1.094, 1.092, 1.093),
    ]);
    let t = only_trade(&run_ok(&data, &bar_once(action), &config(|_| {})).trades).clone();
    assert_eq!((t.entry_time, t.entry_price), (T0 + 2.0 * M1, 1.093 + SPREAD));
}

#[test]
fn bar_mode_stops_fill_at_the_price_or_the_gapped_open_with_slippage() {
    let cfg = config(|c| c.instrument.slippage_pips = 0.5);
    let slip = 0.5 * PIP;
    let buy = json!([{ "action": "buy", "order": "stop", "price": 1.101, "lots": 1 }]);
    // High + spread reaches 1.101 in the third bar: fill at the price.
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1005, 1.0995, 1.1),
        (1.1, 1.1012, 1.0995, 1.1),
    ]);
    let t = only_trade(&run_ok(&data, &bar_once(buy.clone()), &cfg).trades).clone();
    assert_eq!((t.entry_time, t.entry_price), (T0 + 2.0 * M1, 1.101 + slip));
    // A gap above: the open's ask.
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1005, 1.0995, 1.1),
        (1.102, 1.103, 1.1015, 1.102),
    ]);
    let t = only_trade(&run_ok(&data, &bar_once(buy), &cfg).trades).clone();
    assert_eq!(t.entry_price, 1.102 + SPREAD + slip);

    let sell = json!([{ "action": "sell", "order": "stop", "price": 1.099, "lots": 1 }]);
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1005, 1.0995, 1.1),
        (1.1, 1.1005, 1.0985, 1.099),
    ]);
    let t = only_trade(&run_ok(&data, &bar_once(sell.clone()), &cfg).trades).clone();
    assert_eq!((t.side, t.entry_price), (-1, 1.099 - slip));
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1005, 1.0995, 1.1),
        (1.098, 1.0985, 1.097, 1.098),
    ]);
    let t = only_trade(&run_ok(&data, &bar_once(sell), &cfg).trades).clone();
    assert_eq!(t.entry_price, 1.098 - slip);
}

#[test]
fn bar_mode_sell_limit_fills_at_the_price_or_the_gapped_open() {
    let sell = json!([{ "action": "sell", "order": "limit", "price": 1.101, "lots": 1 }]);
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1005, 1.0995, 1.1),
        (1.1, 1.1012, 1.0995, 1.1),
    ]);
    let t = only_trade(&run_ok(&data, &bar_once(sell.clone()), &config(|_| {})).trades).clone();
    assert_eq!((t.entry_time, t.entry_price), (T0 + 2.0 * M1, 1.101));
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1005, 1.0995, 1.1),
        (1.102, 1.103, 1.1015, 1.102),
    ]);
    let t = only_trade(&run_ok(&data, &bar_once(sell), &config(|_| {})).trades).clone();
    assert_eq!(t.entry_price, 1.102);
}

#[test]
fn bar_mode_no_trigger_and_reversal_at_the_trigger_price() {
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1005, 1.0995, 1.1),
        (1.1, 1.1005, 1.0995, 1.1),
    ]);
    let s = bar_once(json!([{ "action": "sell", "order": "stop", "price": 1.099, "lots": 1 }]));
    assert!(run_ok(&data, &s, &config(|_| {})).trades.is_empty());

    // Long by market at the second bar's open, a sell stop at 1.099 reached in the third bar:
    // the long closes at the trigger price (with slippage), the short opens there.
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1005, 1.0995, 1.1),
        (1.1, 1.1005, 1.0985, 1.0988),
    ]);
    let s = bar_once(json!([
        { "action": "buy", "lots": 1 },
        { "action": "sell", "order": "stop", "price": 1.099, "lots": 1 }
    ]));
    let cfg = config(|c| c.instrument.slippage_pips = 1.0);
    let out = run_ok(&data, &s, &cfg);
    assert_eq!(out.trades.len(), 2);
    let (long, short) = (&out.trades[0], &out.trades[1]);
    assert_eq!((long.entry_time, long.entry_price), (T0 + M1, 1.1 + SPREAD + PIP));
    assert_eq!(
        (long.exit_time, long.exit_price, long.reason),
        (T0 + 2.0 * M1, 1.099 - PIP, ExitReason::Reverse)
    );
    assert_eq!(
        (short.entry_time, short.entry_price),
        (T0 + 2.0 * M1, 1.099 - PIP)
    );
    // The end closes the short at the last close's ask plus slippage.
    assert_eq!(short.exit_price, 1.0988 + SPREAD + PIP);
}

#[test]
fn bar_mode_a_fill_is_not_checked_for_exits_in_its_own_bar() {
    // The limit fills at 1.095 and the same bar's low is below its stop-loss.
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1, 1.099, 1.1),
        (1.096, 1.097, 1.09, 1.096),
        (1.096, 1.097, 1.095, 1.096),
    ]);
    let s = bar_once(
        json!([{ "action": "buy", "order": "limit", "price": 1.095, "lots": 1, "sl": { "pips": 20 } }]),
    );
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    assert_eq!((t.entry_time, t.entry_price), (T0 + 2.0 * M1, 1.095));
    assert_eq!(t.reason, ExitReason::End);
}

// ---------------------------------------------------------------- risk sizing

fn risk_lots(balance: f64, risk: f64, fill: f64, sl: f64) -> (f64, f64) {
    let raw = balance * risk / 100.0 / ((fill - sl).abs() * 100_000.0);
    (raw, (raw / 0.01 + 1e-9).floor() * 0.01)
}

#[test]
fn risk_sizes_the_lots_from_the_stop_distance() {
    let data = quotes(&[(1.1, 1.1002), (1.1001, 1.1003)]);
    let s = at_bid(1.1, json!([{ "action": "buy", "risk": 1, "sl": { "pips": 20 } }]));
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    let fill = 1.1002;
    let (_, lots) = risk_lots(10_000.0, 1.0, fill, fill - 20.0 * PIP);
    assert_eq!(t.lots, lots);
    assert_eq!(t.lots, 0.5);

    // A price-form stop, a sell, and a size that rounds down.
    let s = at_bid(
        1.1,
        json!([{ "action": "sell", "risk": 2.5, "sl": { "price": 1.1033 } }]),
    );
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    let (raw, lots) = risk_lots(10_000.0, 2.5, 1.1, 1.1033);
    assert_eq!(t.lots, lots);
    assert_eq!(t.lots, 0.75);
    assert!(raw > 0.7575 && raw < 0.7576);
}

#[test]
fn risk_uses_the_balance_after_a_reversal_and_the_pending_fill() {
    let data = quotes(&[(1.1, 1.1002), (1.0987, 1.0989), (1.0986, 1.0988)]);
    let s = at_bid(
        1.1,
        json!([
            { "action": "sell", "lots": 1 },
            { "action": "buy", "order": "limit", "price": 1.099, "risk": 1, "sl": { "pips": 10 } }
        ]),
    );
    let out = run_ok(&data, &s, &config(|_| {}));
    assert_eq!(out.trades.len(), 2);
    let balance = 10_000.0 + out.trades[0].pnl;
    let fill = 1.0989;
    let (_, lots) = risk_lots(balance, 1.0, fill, fill - 10.0 * PIP);
    assert_eq!(out.trades[1].lots, lots);
}

#[test]
fn risk_rejections_record_the_computed_lots() {
    let data = quotes(&[(1.1, 1.1002), (1.1001, 1.1003)]);
    let one = |action: Value| {
        let out = run_ok(&data, &at_bid(1.1, json!([action])), &config(|_| {}));
        assert!(out.trades.is_empty());
        out.rejections[0].clone()
    };
    let r = one(json!({ "action": "buy", "risk": 0.001, "sl": { "pips": 20 } }));
    let (raw, _) = risk_lots(10_000.0, 0.001, 1.1002, 1.1002 - 20.0 * PIP);
    assert_eq!((r.reason, r.lots), (RejectReason::MinLot, raw));
    let r = one(json!({ "action": "buy", "risk": 100, "sl": { "pips": 0.1 } }));
    assert_eq!(r.reason, RejectReason::MaxLot);
    let r = one(json!({ "action": "buy", "risk": 0, "sl": { "pips": 20 } }));
    assert_eq!(r.reason, RejectReason::InvalidLots);
    assert!(r.lots.is_nan());
    let r = one(json!({ "action": "buy", "risk": 1, "sl": { "pips": -3 } }));
    assert_eq!(r.reason, RejectReason::InvalidSl);
    assert!(r.lots.is_nan());
    let r = one(json!({ "action": "buy", "risk": 60, "sl": { "pips": 10 } }));
    let (raw, lots) = risk_lots(10_000.0, 60.0, 1.1002, 1.1002 - 10.0 * PIP);
    assert_eq!((r.reason, r.lots), (RejectReason::Margin, raw));
    assert_eq!(r.required, lots * 100_000.0 * 1.1002 * 0.01);
}

// ---------------------------------------------------------------- trailing stops

#[test]
fn a_trailing_stop_ratchets_never_loosens_and_exits_at_the_trailed_level() {
    let data = quotes(&[
        (1.1, 1.1002),
        (1.101, 1.1012),
        (1.1005, 1.1007),
        (1.102, 1.1022),
        (1.1012, 1.1014),
        (1.1009, 1.1011),
    ]);
    let s = at_bid(
        1.1,
        json!([{ "action": "buy", "lots": 1, "trail": { "pips": 10 } }]),
    );
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    let d = 10.0 * PIP;
    assert_eq!(t.sl, 1.102 - d);
    assert_eq!(
        (t.exit_time, t.exit_price, t.reason),
        (T0 + 5.0 * SEC, 1.1009, ExitReason::StopLoss)
    );
}

#[test]
fn a_short_trails_on_the_ask_and_a_given_stop_caps_the_start() {
    let data = quotes(&[(1.1, 1.1002), (1.099, 1.0992), (1.0995, 1.0997), (1.0998, 1.1003)]);
    // sl 5 pips is tighter than the 10-pip trail: it is the start.
    let s = at_bid(
        1.1,
        json!([{ "action": "sell", "lots": 1, "sl": { "pips": 5 }, "trail": { "pips": 10 } }]),
    );
    let d = 10.0 * PIP;
    let out = run_ok(&data, &s, &config(|_| {}));
    let t = only_trade(&out.trades);
    // After tick 1: min(1.1005, 1.0992 + d); tick 3's ask 1.1003 reaches it.
    let sl = f64::min(1.1 + 5.0 * PIP, 1.0992 + d);
    assert_eq!(t.sl, sl);
    assert_eq!(
        (t.exit_time, t.exit_price, t.reason),
        (T0 + 3.0 * SEC, 1.1003, ExitReason::StopLoss)
    );

    // A looser given stop: the trail's start wins.
    let s = at_bid(
        1.1,
        json!([{ "action": "sell", "lots": 1, "sl": { "pips": 30 }, "trail": { "pips": 10 } }]),
    );
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    assert_eq!(t.sl, 1.0992 + d);
}

#[test]
fn an_invalid_trail_is_an_invalid_stop_loss() {
    let data = quotes(&[(1.1, 1.1002), (1.1001, 1.1003)]);
    for pips in [json!(0), json!(-2), op("/", vec![0.into(), 0.into()])] {
        let s = at_bid(
            1.1,
            json!([{ "action": "buy", "lots": 1, "trail": { "pips": pips } }]),
        );
        let out = run_ok(&data, &s, &config(|_| {}));
        assert!(out.trades.is_empty());
        assert_eq!(out.rejections[0].reason, RejectReason::InvalidSl);
    }
}

#[test]
fn bar_mode_trails_with_the_close_after_the_bars_checks() {
    let d = 10.0 * PIP;
    // Long at the second bar's open (1.1 + spread); trailed to C - d after each bar.
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.102, 1.0995, 1.1015),
        (1.1015, 1.103, 1.101, 1.1025),
        (1.1025, 1.1026, 1.1005, 1.101),
    ]);
    let s = bar_once(json!([{ "action": "buy", "lots": 1, "trail": { "pips": 10 } }]));
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    assert_eq!(t.entry_price, 1.1 + SPREAD);
    assert_eq!(t.sl, 1.1025 - d);
    assert_eq!(
        (t.exit_time, t.exit_price, t.reason),
        (T0 + 3.0 * M1, 1.1025 - d, ExitReason::StopLoss)
    );

    // A short trails at C + s + d.
    let data = m1(&[
        (1.1, 1.1, 1.1, 1.1),
        (1.1, 1.1005, 1.098, 1.0985),
        (1.0985, 1.1, 1.098, 1.099),
    ]);
    let s = bar_once(json!([{ "action": "sell", "lots": 1, "trail": { "pips": 10 } }]));
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    let sl = 1.0985 + SPREAD + d;
    assert_eq!(t.sl, sl);
    assert_eq!(
        (t.exit_price, t.reason),
        (f64::max(1.0985 + SPREAD, sl), ExitReason::StopLoss)
    );
}

#[test]
fn a_pending_order_with_a_trail_trails_from_its_fill() {
    let data = quotes(&[(1.1, 1.1002), (1.0988, 1.099), (1.1, 1.1002), (1.0994, 1.0996)]);
    let s = at_bid(
        1.1,
        json!([{ "action": "buy", "order": "limit", "price": 1.099, "lots": 1, "trail": { "pips": 5 } }]),
    );
    let t = only_trade(&run_ok(&data, &s, &config(|_| {})).trades).clone();
    let d = 5.0 * PIP;
    assert_eq!((t.entry_time, t.entry_price), (T0 + SEC, 1.099));
    assert_eq!(t.sl, 1.1 - d);
    assert_eq!((t.exit_price, t.reason), (1.0994, ExitReason::StopLoss));
}

// ---------------------------------------------------------------- profile

#[test]
fn profiling_counts_pending_fills_and_changes_nothing() {
    let data = quotes(&[(1.1, 1.1002), (1.0995, 1.0997), (1.0988, 1.099), (1.0985, 1.0987)]);
    let s = at_bid(
        1.1,
        json!([
            { "action": "buy", "lots": 1, "trail": { "pips": 3 } },
            { "action": "sell", "order": "stop", "price": 1.099, "lots": 2 }
        ]),
    );
    let plain = run_ok(&data, &s, &config(|_| {}));
    let profiled = run_ok(&data, &s, &config(|c| c.profile = true));
    // Debug output compares NaN levels as equal.
    assert_eq!(format!("{:?}", plain.trades), format!("{:?}", profiled.trades));
    let p = profiled.profile.expect("profile");
    // The long stops out at tick 1, the sell stop opens a short at tick 2 that the end closes:
    // exit checks at ticks 1 and 3 (a position open), and four fills.
    assert_eq!(plain.trades.len(), 2);
    assert_eq!(plain.trades[0].reason, ExitReason::StopLoss);
    let fills = 4;
    let checks = 2;
    assert_eq!(p.get(Step::OrderExecution).count, checks + fills);
}

// ---------------------------------------------------------------- the IR

fn parse_err(strategy: &Value) -> (String, String) {
    let e = Strategy::from_json(&strategy.to_string()).unwrap_err();
    (e.path, e.message)
}

fn with_action(action: Value) -> Value {
    rules("M1", "bar", json!([{ "when": true, "then": [action] }]))
}

#[test]
fn order_fields_are_checked_at_their_paths() {
    let at = "strategy.rules[0].then[0]";
    let cases = [
        (
            json!({ "action": "buy", "order": "limit", "lots": 1 }),
            at.to_string(),
            "missing field 'price' (required for a limit order)",
        ),
        (
            json!({ "action": "buy", "order": "stop", "lots": 1 }),
            at.to_string(),
            "missing field 'price' (required for a stop order)",
        ),
        (
            json!({ "action": "sell", "price": 1.1, "lots": 1 }),
            format!("{at}.price"),
            "a market order takes no price (use order 'limit' or 'stop')",
        ),
        (
            json!({ "action": "sell", "order": "market", "price": 1.1, "lots": 1 }),
            format!("{at}.price"),
            "a market order takes no price (use order 'limit' or 'stop')",
        ),
        (
            json!({ "action": "buy", "risk": 1 }),
            at.to_string(),
            "missing field 'sl' (required with 'risk')",
        ),
        (
            json!({ "action": "buy", "risk": 1, "lots": 1, "sl": { "pips": 5 } }),
            at.to_string(),
            "expected exactly one of 'lots' and 'risk'",
        ),
        (json!({ "action": "buy" }), at.to_string(), "missing field 'lots'"),
        (
            json!({ "action": "buy", "order": "iceberg", "lots": 1 }),
            format!("{at}.order"),
            "unknown order type 'iceberg' (expected one of market, limit, stop)",
        ),
        (
            json!({ "action": "buy", "lots": 1, "trail": 10 }),
            format!("{at}.trail"),
            "expected { \"pips\": expr }, got a number",
        ),
        (
            json!({ "action": "buy", "lots": 1, "trail": { "price": 1 } }),
            format!("{at}.trail.price"),
            "unknown field 'price' in a trail",
        ),
        (
            json!({ "action": "cancel", "lots": 1 }),
            format!("{at}.lots"),
            "unknown field 'lots' in a cancel action",
        ),
        (
            json!({ "action": "hold" }),
            format!("{at}.action"),
            "unknown action 'hold' (expected one of buy, sell, close, cancel)",
        ),
    ];
    for (action, path, message) in cases {
        let (p, m) = parse_err(&with_action(action.clone()));
        assert_eq!((p.as_str(), m.as_str()), (path.as_str(), message), "{action}");
    }
}

#[test]
fn new_fields_are_type_checked_and_the_symbol_is_metadata() {
    let s = with_action(json!({ "action": "buy", "order": "limit", "price": true, "lots": 1 }));
    let strategy = Strategy::from_json(&s.to_string()).unwrap();
    let e = compile(&strategy, &BTreeMap::new()).unwrap_err();
    assert_eq!(e.path, "strategy.rules[0].then[0].price");
    let s = with_action(json!({ "action": "buy", "risk": false, "sl": { "pips": 5 } }));
    let e = compile(&Strategy::from_json(&s.to_string()).unwrap(), &BTreeMap::new()).unwrap_err();
    assert_eq!(e.path, "strategy.rules[0].then[0].risk");
    let s = with_action(
        json!({ "action": "buy", "lots": 1, "trail": { "pips": { "op": "not", "args": [true] } } }),
    );
    let e = compile(&Strategy::from_json(&s.to_string()).unwrap(), &BTreeMap::new()).unwrap_err();
    assert_eq!(e.path, "strategy.rules[0].then[0].trail.pips");

    let mut s = with_action(json!({ "action": "cancel" }));
    s["symbol"] = "EURUSD".into();
    let strategy = Strategy::from_json(&s.to_string()).unwrap();
    assert_eq!(strategy.symbol.as_deref(), Some("EURUSD"));
    s["symbol"] = "".into();
    assert_eq!(parse_err(&s).0, "strategy.symbol");
    s["symbol"] = 3.into();
    assert_eq!(parse_err(&s).0, "strategy.symbol");
}
