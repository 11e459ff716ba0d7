//! Tick mode: fills, exits, sizing, rejections, accounting, samples and run control.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;
use tickforge_core::profile::Step;
use tickforge_core::{run, run_with_control, ErrorKind, ExitReason, RejectReason, RunControl};

fn bid() -> Value {
    json!({ "quote": "bid" })
}

/// One rule on every tick: when flat and `when` holds, do `action`.
fn on_tick_when(when: Value, action: Value) -> Value {
    rules(
        "M1",
        "tick",
        json!([{ "when": op("and", vec![flat(), when]), "then": [action] }]),
    )
}

fn buy(lots: Value) -> Value {
    json!({ "action": "buy", "lots": lots })
}

#[test]
fn buy_fills_at_ask_plus_slippage_and_the_end_closes_at_bid_minus_slippage() {
    let data = ticks(&[
        (T0, 1.1, 1.1002),
        (T0 + SEC, 1.1003, 1.1005),
        (T0 + 2.0 * SEC, 1.1004, 1.1006),
    ]);
    let cfg = config(|c| c.instrument.slippage_pips = 0.5);
    let out = run_ok(&data, &on_tick_when(true.into(), buy(1.into())), &cfg);
    let slip = 0.5 * PIP;
    assert_eq!(out.trades.len(), 1);
    let t = &out.trades[0];
    let (entry, exit) = (1.1002 + slip, 1.1004 - slip);
    assert_eq!((t.side, t.lots, t.entry_time, t.entry_price), (1, 1.0, T0, entry));
    assert_eq!(
        (t.exit_time, t.exit_price, t.reason),
        (T0 + 2.0 * SEC, exit, ExitReason::End)
    );
    assert_eq!(t.gross_pnl, (exit - entry) * (1.0 * 100_000.0));
    assert_eq!(t.pips, (exit - entry) / PIP);
    assert!(t.sl.is_nan() && t.tp.is_nan());
    assert_eq!(out.metrics.final_balance, 10_000.0 + t.gross_pnl - 0.0);
    assert_eq!(out.events, 3);
}

#[test]
fn sell_fills_at_bid_minus_slippage_and_closes_at_ask_plus_slippage() {
    let data = ticks(&[(T0, 1.1, 1.1002), (T0 + SEC, 1.1003, 1.1005)]);
    let cfg = config(|c| c.instrument.slippage_pips = 2.0);
    let out = run_ok(
        &data,
        &on_tick_when(true.into(), json!({ "action": "sell", "lots": 0.5 })),
        &cfg,
    );
    let slip = 2.0 * PIP;
    let t = &out.trades[0];
    assert_eq!((t.side, t.lots, t.entry_price), (-1, 0.5, 1.1 - slip));
    assert_eq!(t.exit_price, 1.1005 + slip);
    assert_eq!(t.gross_pnl, ((1.1 - slip) - (1.1005 + slip)) * (0.5 * 100_000.0));
}

fn bracket_buy() -> Value {
    json!({ "action": "buy", "lots": 1, "sl": { "pips": 20 }, "tp": { "pips": 40 } })
}

#[test]
fn stop_loss_fills_on_a_later_tick_at_that_ticks_bid_beyond_the_level() {
    let data = ticks(&[
        (T0, 1.1, 1.1002),
        (T0 + SEC, 1.0990, 1.0992),
        (T0 + 2.0 * SEC, 1.0975, 1.0977),
        (T0 + 3.0 * SEC, 1.0980, 1.0982),
    ]);
    let strategy = on_tick_when(op(">=", vec![bid(), 1.1.into()]), bracket_buy());
    let out = run_ok(&data, &strategy, &config(|_| {}));
    assert_eq!(out.trades.len(), 1);
    let t = &out.trades[0];
    assert_eq!(t.sl, 1.1002 - 20.0 * PIP);
    assert_eq!(t.tp, 1.1002 + 40.0 * PIP);
    assert_eq!(
        (t.exit_time, t.exit_price, t.reason),
        (T0 + 2.0 * SEC, 1.0975, ExitReason::StopLoss)
    );
}

#[test]
fn take_profit_fills_at_the_ticks_bid() {
    let data = ticks(&[
        (T0, 1.1, 1.1002),
        (T0 + SEC, 1.1030, 1.1032),
        (T0 + 2.0 * SEC, 1.1050, 1.1052),
    ]);
    let strategy = on_tick_when(op("<", vec![bid(), 1.1001.into()]), bracket_buy());
    let out = run_ok(&data, &strategy, &config(|_| {}));
    let t = &out.trades[0];
    assert_eq!(
        (t.exit_price, t.reason, t.exit_time),
        (1.1050, ExitReason::TakeProfit, T0 + 2.0 * SEC)
    );
    assert_eq!(out.trades.len(), 1);
}

#[test]
fn a_short_exits_on_the_ask() {
    // The bid stays below the stop; the ask reaches it.
    let data = ticks(&[
        (T0, 1.1, 1.1002),
        (T0 + SEC, 1.1015, 1.1021),
        (T0 + 2.0 * SEC, 1.1010, 1.1012),
    ]);
    let sell = json!({ "action": "sell", "lots": 1, "sl": { "pips": 20 }, "tp": { "pips": 40 } });
    let out = run_ok(
        &data,
        &on_tick_when(op("<", vec![bid(), 1.1001.into()]), sell),
        &config(|_| {}),
    );
    let t = &out.trades[0];
    assert_eq!(t.sl, 1.1 + 20.0 * PIP);
    assert_eq!((t.exit_price, t.reason), (1.1021, ExitReason::StopLoss));
}

#[test]
fn a_position_opened_on_a_tick_is_not_exited_on_that_tick() {
    // The level is checked from the next tick on: the entry tick cannot exit by itself.
    let data = ticks(&[(T0, 1.1, 1.1002), (T0 + SEC, 1.1, 1.1002)]);
    let buy = json!({ "action": "buy", "lots": 1, "sl": { "price": 1.0999 } });
    let out = run_ok(&data, &on_tick_when(true.into(), buy), &config(|_| {}));
    assert_eq!(out.trades.len(), 1);
    assert_eq!(out.trades[0].reason, ExitReason::End);
}

#[test]
fn an_opposite_order_reverses_at_the_same_tick() {
    let data = ticks(&[
        (T0, 1.1, 1.1002),
        (T0 + SEC, 1.1010, 1.1012),
        (T0 + 2.0 * SEC, 1.1008, 1.1010),
    ]);
    let strategy = rules(
        "M1",
        "tick",
        json!([
            { "when": op("<", vec![bid(), 1.1001.into()]), "then": [buy(1.into())] },
            { "when": op(">", vec![bid(), 1.1005.into()]), "then": [{ "action": "sell", "lots": 2 }] }
        ]),
    );
    let out = run_ok(&data, &strategy, &config(|_| {}));
    assert_eq!(out.trades.len(), 2);
    let (long, short) = (&out.trades[0], &out.trades[1]);
    assert_eq!(
        (long.side, long.exit_time, long.exit_price, long.reason),
        (1, T0 + SEC, 1.1010, ExitReason::Reverse)
    );
    assert_eq!(
        (short.side, short.lots, short.entry_time, short.entry_price),
        (-1, 2.0, T0 + SEC, 1.1010)
    );
    assert_eq!((short.exit_price, short.reason), (1.1010, ExitReason::End));
    assert_eq!((long.id, short.id), (0, 1));
}

#[test]
fn an_order_in_the_direction_already_held_is_skipped() {
    let data = ticks(&[
        (T0, 1.1, 1.1002),
        (T0 + SEC, 1.1010, 1.1012),
        (T0 + 2.0 * SEC, 1.1008, 1.1010),
    ]);
    let strategy = rules("M1", "tick", json!([{ "when": true, "then": [buy(1.into())] }]));
    let out = run_ok(&data, &strategy, &config(|_| {}));
    assert_eq!(out.trades.len(), 1);
    assert!(out.rejections.is_empty());
    assert_eq!(out.trades[0].entry_time, T0);
}

#[test]
fn margin_rejection_records_required_and_free() {
    let data = ticks(&[(T0, 1.1, 1.1002)]);
    let cfg = config(|c| c.account.balance = 100.0);
    let out = run_ok(&data, &on_tick_when(true.into(), buy(1.into())), &cfg);
    assert!(out.trades.is_empty());
    assert_eq!(out.rejections.len(), 1);
    let r = &out.rejections[0];
    assert_eq!(
        (r.time, r.side, r.lots, r.reason),
        (T0, 1, 1.0, RejectReason::Margin)
    );
    assert_eq!(r.required, 1.0 * 100_000.0 * 1.1002 * 0.01);
    assert_eq!(r.free, 100.0);
    assert_eq!(out.metrics.rejected_orders, 1);
}

fn one_order(lots: Value, extra: Value) -> (Vec<tickforge_core::Trade>, Vec<tickforge_core::Rejection>) {
    let data = ticks(&[(T0, 1.1, 1.1002), (T0 + SEC, 1.1003, 1.1005)]);
    let mut action = json!({ "action": "buy", "lots": lots });
    if let Value::Object(extra) = extra {
        action.as_object_mut().unwrap().extend(extra);
    }
    let strategy = json!({
        "version": 1,
        "decision": { "timeframe": "M1", "on": "tick" },
        "workers": [{ "id": "slow", "kind": "sma", "timeframe": "M1", "params": { "period": 50 } }],
        "rules": [{ "when": op("==", vec![json!({ "time": "minute" }), 0.into()]), "then": [action] }],
    });
    let out = run_ok(&data, &strategy, &config(|_| {}));
    (out.trades, out.rejections)
}

#[test]
fn lots_round_down_to_the_lot_step() {
    let (trades, rejections) = one_order(0.017.into(), json!({}));
    assert!(rejections.is_empty());
    assert_eq!(trades[0].lots, (0.017_f64 / 0.01 + 1e-9).floor() * 0.01);
    assert_eq!(trades[0].lots, 0.01);
    // The 1e-9 nudge keeps a step that division leaves just below an integer.
    let (trades, _) = one_order(0.29.into(), json!({}));
    assert_eq!(trades[0].lots, 29.0 * 0.01);
}

#[test]
fn lot_limits_and_invalid_lots_are_rejected_with_the_lots_as_evaluated() {
    let cases: [(Value, RejectReason); 5] = [
        (0.005.into(), RejectReason::MinLot),
        (150.into(), RejectReason::MaxLot),
        (0.into(), RejectReason::InvalidLots),
        ((-1).into(), RejectReason::InvalidLots),
        (json!({ "worker": "slow" }), RejectReason::InvalidLots),
    ];
    for (lots, reason) in cases {
        let (trades, rejections) = one_order(lots.clone(), json!({}));
        assert!(trades.is_empty(), "{lots}");
        // The rule fires on both ticks (minute 0), so each records a rejection.
        assert_eq!(rejections.len(), 2, "{lots}");
        let r = &rejections[0];
        assert_eq!(r.reason, reason, "{lots}");
        assert!(r.required.is_nan() && r.free.is_nan());
        match lots.as_f64() {
            Some(x) => assert_eq!(r.lots, x),
            None => assert!(r.lots.is_nan()),
        }
    }
}

#[test]
fn levels_on_the_wrong_side_or_nan_are_rejected() {
    let cases = [
        (json!({ "sl": { "price": 1.2 } }), RejectReason::InvalidSl),
        (json!({ "sl": { "price": 1.1005 } }), RejectReason::InvalidSl),
        (json!({ "tp": { "price": 1.0 } }), RejectReason::InvalidTp),
        (json!({ "sl": { "pips": -5 } }), RejectReason::InvalidSl),
        (
            json!({ "sl": { "pips": { "worker": "slow" } } }),
            RejectReason::InvalidSl,
        ),
        (
            json!({ "sl": { "pips": 10 }, "tp": { "price": 1.1 } }),
            RejectReason::InvalidTp,
        ),
    ];
    for (extra, reason) in cases {
        let (trades, rejections) = one_order(1.into(), extra.clone());
        assert!(trades.is_empty(), "{extra}");
        assert_eq!(rejections[0].reason, reason, "{extra}");
    }
}

#[test]
fn commissions_are_taken_on_both_sides() {
    let data = ticks(&[(T0, 1.1, 1.1002), (T0 + SEC, 1.1010, 1.1012)]);
    let cfg = config(|c| {
        c.instrument.commission_per_lot = 3.5;
        c.instrument.commission_percent = 0.002;
    });
    let out = run_ok(&data, &on_tick_when(true.into(), buy(2.into())), &cfg);
    let t = &out.trades[0];
    let entry_fee = 2.0 * 3.5 + 2.0 * 100_000.0 * 1.1002 * 0.002 / 100.0;
    let exit_fee = 2.0 * 3.5 + 2.0 * 100_000.0 * 1.1010 * 0.002 / 100.0;
    assert_eq!(t.commission, entry_fee + exit_fee);
    assert_eq!(t.gross_pnl, (1.1010 - 1.1002) * (2.0 * 100_000.0));
    assert_eq!(t.pnl, t.gross_pnl - t.commission);
    assert_eq!(
        out.metrics.final_balance,
        (10_000.0 - entry_fee) + t.gross_pnl - exit_fee
    );
    assert_eq!(out.metrics.total_commission, 0.0 + t.commission);
}

#[test]
fn equity_is_sampled_at_decision_closes_with_the_previous_ticks_quotes() {
    let data = ticks(&[
        (T0, 1.1, 1.1002),
        (T0 + 30.0 * SEC, 1.1001, 1.1003),
        (T0 + MIN, 1.1004, 1.1006),
        (T0 + 90.0 * SEC, 1.1007, 1.1009),
        (T0 + 150.0 * SEC, 1.1011, 1.1013),
    ]);
    let strategy = rules("M1", "bar", json!([{ "when": flat(), "then": [buy(1.into())] }]));
    let out = run_ok(&data, &strategy, &config(|_| {}));
    // The first decision is the close of the T0 bar, seen at T0 + 1 min; it fills at that tick.
    let t = &out.trades[0];
    assert_eq!((t.entry_time, t.entry_price), (T0 + MIN, 1.1006));
    assert_eq!(out.equity.time, vec![T0, T0 + MIN, T0 + 2.0 * MIN]);
    assert_eq!(out.equity.equity[0], 10_000.0 + 0.0);
    let units = 1.0 * 100_000.0;
    assert_eq!(out.equity.equity[1], 10_000.0 + (1.1007 - 1.1006) * units);
    // The end closes the position first, so the last sample is flat.
    assert_eq!(out.equity.equity[2], out.metrics.final_balance);
    assert_eq!(
        out.equity.balance,
        vec![10_000.0, 10_000.0, out.metrics.final_balance]
    );
}

#[test]
fn ticks_after_end_are_not_read_and_ticks_before_start_only_warm_up() {
    let rows: Vec<(f64, f64, f64)> = (0..10)
        .map(|i| (T0 + f64::from(i) * 20.0 * SEC, 1.1, 1.1002))
        .collect();
    let data = ticks(&rows);
    let strategy = rules("M1", "tick", json!([{ "when": flat(), "then": [buy(1.into())] }]));
    let cfg = config(|c| {
        c.start = Some(T0 + 60.0 * SEC);
        c.end = Some(T0 + 140.0 * SEC);
    });
    let out = run_ok(&data, &strategy, &cfg);
    assert_eq!(out.events, 8);
    assert_eq!(out.trades.len(), 1);
    assert_eq!(
        (out.trades[0].entry_time, out.trades[0].exit_time),
        (T0 + 60.0 * SEC, T0 + 140.0 * SEC)
    );
}

#[test]
fn time_fields_follow_utc() {
    // 2024-01-01 was a Monday; 13:47 UTC.
    let t = T0 + 13.0 * 3_600_000.0 + 47.0 * MIN;
    let data = ticks(&[(t, 1.1, 1.1002)]);
    let when = op(
        "and",
        vec![
            op("==", vec![json!({ "time": "hour" }), 13.into()]),
            op("==", vec![json!({ "time": "minute" }), 47.into()]),
            op("==", vec![json!({ "time": "weekday" }), 1.into()]),
            op(
                "==",
                vec![json!({ "time": "minuteOfDay" }), (13 * 60 + 47).into()],
            ),
        ],
    );
    let out = run_ok(&data, &on_tick_when(when, buy(1.into())), &config(|_| {}));
    assert_eq!(out.trades.len(), 1);
}

#[test]
fn position_and_account_fields_are_marked_at_the_current_quotes() {
    // The second rule closes once the long is 4.5 pips up (marked at the bid) and equity exceeds
    // the balance.
    let data = ticks(&[
        (T0, 1.1, 1.1002),
        (T0 + SEC, 1.1005, 1.1007),
        (T0 + 2.0 * SEC, 1.1007, 1.1009),
    ]);
    let strategy = rules(
        "M1",
        "tick",
        json!([
            { "when": flat(), "then": [buy(1.into())] },
            { "when": op("and", vec![
                op(">=", vec![json!({ "position": "pnlPips" }), 4.5.into()]),
                op(">", vec![json!({ "account": "equity" }), json!({ "account": "balance" })]),
              ]),
              "then": [{ "action": "close" }] }
        ]),
    );
    let out = run_ok(&data, &strategy, &config(|_| {}));
    // Tick 1 is 3 pips up; tick 2 is 5 up and closes. The first rule ran before the close on that
    // tick, so nothing reopens.
    assert_eq!(out.trades.len(), 1);
    let t = &out.trades[0];
    assert_eq!(
        (t.exit_time, t.exit_price, t.reason),
        (T0 + 2.0 * SEC, 1.1007, ExitReason::Signal)
    );
}

#[test]
fn cancel_and_deadline_stop_the_run() {
    let data = ticks(&[(T0, 1.1, 1.1002)]);
    let program = program(&rules("M1", "bar", json!([])));
    let cfg = config(|_| {});
    let cancelled = RunControl {
        cancel: Some(Arc::new(AtomicBool::new(true))),
        deadline: None,
    };
    let e = run_with_control(&data, &program, &cfg, &cancelled).unwrap_err();
    assert_eq!((e.kind, e.path.as_str()), (ErrorKind::Cancelled, "run"));
    let late = RunControl {
        cancel: None,
        deadline: Some(Instant::now()),
    };
    let e = run_with_control(&data, &program, &cfg, &late).unwrap_err();
    assert_eq!((e.kind, e.path.as_str()), (ErrorKind::Timeout, "run"));
    let free = RunControl {
        cancel: Some(Arc::new(AtomicBool::new(false))),
        deadline: None,
    };
    assert!(run_with_control(&data, &program, &cfg, &free).is_ok());
}

#[test]
fn profiling_changes_no_result_and_counts_events() {
    let data = generated(3, 2.0);
    let strategy = reference(0.1);
    let plain = run_ok(&data, &strategy, &config(|_| {}));
    let profiled = run_ok(&data, &strategy, &config(|c| c.profile = true));
    assert!(plain.profile.is_none());
    assert_eq!(plain.trades, profiled.trades);
    assert_eq!(plain.equity, profiled.equity);
    let p = profiled.profile.expect("profile");
    assert_eq!(p.get(Step::UpdatePrices).count, profiled.events);
    assert_eq!(p.get(Step::BarRendering).count, profiled.events);
    assert_eq!(p.get(Step::LiveUpdate).count, profiled.equity.time.len() as u64);
    assert!(p.get(Step::BarHistory).count > 0 && p.get(Step::WorkerDecision).count > 0);
}

#[test]
fn an_invalid_config_is_refused_before_running() {
    let data = ticks(&[(T0, 1.1, 1.1002)]);
    let program = program(&rules("M1", "bar", json!([])));
    let e = run(&data, &program, &config(|c| c.instrument.lot_step = 0.0)).unwrap_err();
    assert_eq!(
        (e.kind, e.path.as_str()),
        (ErrorKind::Config, "config.instrument.lotStep")
    );
}
