//! Symphonies (docs/symphony.md): each node type's allocation, synthetic series, rebalance rules,
//! fills, commission, metrics, validation errors, batches and determinism.

use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tickforge_core::generate::Sfc32;
use tickforge_core::symphony::{
    run_symphonies, run_symphonies_json, run_symphony, DailyData, Node, Rebalance, SymphonyBatchOptions,
    SymphonyConfig, SymphonyError, SymphonyOutput, SymphonyProgram,
};

const DAY: f64 = 86_400_000.0;
/// Monday 2024-01-01 00:00:00 UTC.
const T0: f64 = 1_704_067_200_000.0;
const NAN: f64 = f64::NAN;

// ------------------------------------------------------------------------------------ helpers

fn dates(n: usize, first: f64) -> Vec<f64> {
    (0..n).map(|i| first + i as f64 * DAY).collect()
}

/// Data whose opens equal its closes, from `T0` on.
fn data(tickers: &[&str], close: &[&[f64]]) -> DailyData {
    data_oc(tickers, close, close, T0)
}

fn data_oc(tickers: &[&str], open: &[&[f64]], close: &[&[f64]], first: f64) -> DailyData {
    DailyData::new(
        dates(close[0].len(), first),
        tickers.iter().map(|t| t.to_string()).collect(),
        open.iter().map(|c| c.to_vec()).collect(),
        close.iter().map(|c| c.to_vec()).collect(),
    )
    .expect("valid data")
}

fn symphony(tickers: &[&str], root: Value) -> Value {
    json!({ "version": 1, "kind": "symphony", "name": "test", "tickers": tickers, "root": root })
}

fn asset(t: &str) -> Value {
    json!({ "type": "asset", "ticker": t })
}

fn program(ir: &Value) -> SymphonyProgram {
    SymphonyProgram::from_json(&ir.to_string()).expect("valid symphony")
}

fn config(v: Value) -> SymphonyConfig {
    SymphonyConfig::from_json(&v.to_string()).expect("valid config")
}

fn run(d: &DailyData, ir: &Value, cfg: Value) -> SymphonyOutput {
    run_symphony(d, &program(ir), &config(cfg), None).expect("runs")
}

/// The weights of simulated day `day`.
fn day_weights(out: &SymphonyOutput, day: usize) -> Vec<f64> {
    let n = out.tickers.len();
    out.weights[day * n..(day + 1) * n].to_vec()
}

fn same(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits(),
            "index {i}: {x} != {y} ({a:?} vs {b:?})"
        );
    }
}

fn same_f(a: f64, b: f64) {
    same(&[a], &[b]);
}

fn metric_bits(out: &SymphonyOutput) -> Vec<u64> {
    let m = &out.metrics;
    [
        m.return_pct,
        m.cagr_pct,
        m.max_drawdown,
        m.max_drawdown_pct,
        m.sharpe,
        m.sortino,
        m.calmar,
        m.volatility_pct,
        f64::from(m.rebalances),
        m.turnover,
        m.total_commission,
        m.final_equity,
    ]
    .iter()
    .map(|x| x.to_bits())
    .collect()
}

fn assert_same_output(a: &SymphonyOutput, b: &SymphonyOutput) {
    assert_eq!(a.tickers, b.tickers);
    same(&a.time, &b.time);
    same(&a.equity, &b.equity);
    same(&a.weights, &b.weights);
    assert_eq!(a.rebalance_days, b.rebalance_days);
    assert_eq!(metric_bits(a), metric_bits(b));
}

/// `stdev-return` by its definition, on the last `w + 1` values of `xs`.
fn stdev_return(xs: &[f64], w: usize) -> f64 {
    let xs = &xs[xs.len() - (w + 1)..];
    let r: Vec<f64> = xs.windows(2).map(|p| p[1] / p[0] - 1.0).collect();
    let mut sum = 0.0;
    for &x in &r {
        sum += x;
    }
    let m = sum / w as f64;
    let mut ss = 0.0;
    for &x in &r {
        ss += (x - m) * (x - m);
    }
    (ss / w as f64).sqrt() * 100.0
}

// ------------------------------------------------------------------------------------ allocation

#[test]
fn an_asset_needs_a_price_and_weight_equal_leaves_the_rest_in_cash() {
    let d = data(&["A", "B"], &[&[1.0, 2.0, 3.0, 4.0], &[NAN, NAN, 10.0, 11.0]]);
    let ir = symphony(
        &["A", "B"],
        json!({ "type": "weight-equal", "children": [asset("A"), asset("B")] }),
    );
    let out = run(&d, &ir, json!({}));
    same(&day_weights(&out, 0), &[0.5, 0.0]);
    same(&day_weights(&out, 1), &[0.5, 0.0]);
    same(&day_weights(&out, 2), &[0.5, 0.5]);
    same(&day_weights(&out, 3), &[0.5, 0.5]);
}

#[test]
fn weight_specified_normalises_its_weights() {
    let d = data(&["A", "B"], &[&[1.0, 2.0], &[3.0, 4.0]]);
    for weights in [json!([60, 40]), json!([0.6, 0.4])] {
        let ir = symphony(
            &["A", "B"],
            json!({ "type": "weight-specified", "weights": weights, "children": [asset("A"), asset("B")] }),
        );
        let out = run(&d, &ir, json!({}));
        same(&day_weights(&out, 1), &[0.6, 0.4]);
    }
    let ir = symphony(
        &["A", "B"],
        json!({ "type": "weight-specified", "weights": [1, 2], "children": [asset("A"), asset("B")] }),
    );
    let out = run(&d, &ir, json!({}));
    same(&day_weights(&out, 0), &[1.0 / 3.0, 2.0 / 3.0]);
}

#[test]
fn a_group_and_a_branch_list_split_equally() {
    let d = data(&["A", "B", "C"], &[&[1.0, 2.0], &[3.0, 4.0], &[5.0, 6.0]]);
    let ir = symphony(
        &["A", "B", "C"],
        json!({ "type": "group", "name": "g", "children": [
            asset("A"),
            { "type": "if", "cond": { "op": ">", "left": 1, "right": 0 }, "then": [asset("B"), asset("C")] }
        ] }),
    );
    let out = run(&d, &ir, json!({}));
    same(&day_weights(&out, 0), &[0.5, 0.5 * 0.5, 0.5 * 0.5]);
}

#[test]
fn inverse_volatility_weights_by_the_inverse_deviation_of_returns() {
    let a = [100.0, 110.0, 99.0, 99.0];
    let b = [50.0, 51.0, 50.0, 52.0];
    let c = [10.0, 10.0, 10.0, 10.0];
    let d = data(&["A", "B", "C"], &[&a, &b, &c]);
    let ir = symphony(
        &["A", "B", "C"],
        json!({ "type": "weight-inverse-volatility", "window": 2,
                "children": [asset("A"), asset("B"), asset("C")] }),
    );
    let out = run(&d, &ir, json!({}));
    // Not ready before two returns: cash.
    same(&day_weights(&out, 0), &[0.0, 0.0, 0.0]);
    same(&day_weights(&out, 1), &[0.0, 0.0, 0.0]);
    for t in [2, 3] {
        let va = stdev_return(&a[..=t], 2);
        let vb = stdev_return(&b[..=t], 2);
        // C never moves: a deviation of 0 gets nothing.
        let s = 0.0 + 1.0 / va + 1.0 / vb;
        same(&day_weights(&out, t), &[(1.0 / va) / s, (1.0 / vb) / s, 0.0]);
    }
}

#[test]
fn filter_selects_by_score_then_label_then_position() {
    // cumulative-return over 1 day: A +10%, B +10% (the same double), C 0%.
    let d = data(&["A", "B", "C"], &[&[10.0, 11.0], &[20.0, 22.0], &[30.0, 30.0]]);
    let filter = |select: &str, count: u32| {
        symphony(
            &["A", "B", "C"],
            json!({ "type": "filter", "fn": "cumulative-return", "window": 1, "select": select,
                    "count": count, "children": [asset("B"), asset("C"), asset("A")] }),
        )
    };
    // Day 0 has no score yet: cash.
    let out = run(&d, &filter("top", 1), json!({}));
    same(&day_weights(&out, 0), &[0.0, 0.0, 0.0]);
    // A and B tie; A wins on its label although B comes first.
    same(&day_weights(&out, 1), &[1.0, 0.0, 0.0]);
    let out = run(&d, &filter("top", 2), json!({}));
    same(&day_weights(&out, 1), &[0.5, 0.5, 0.0]);
    let out = run(&d, &filter("bottom", 1), json!({}));
    same(&day_weights(&out, 1), &[0.0, 0.0, 1.0]);
    let out = run(&d, &filter("bottom", 2), json!({}));
    same(&day_weights(&out, 1), &[0.5, 0.0, 0.5]);
    // More than eligible: every eligible child, equally.
    let out = run(&d, &filter("top", 5), json!({}));
    same(&day_weights(&out, 1), &[1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]);
}

#[test]
fn if_takes_then_or_else_and_holds_cash_without_else() {
    let a = [100.0, 101.0, 99.0];
    let d = data(
        &["A", "B", "C", "D"],
        &[&a, &[1.0, 1.0, 1.0], &[2.0, 2.0, 2.0], &[3.0, 3.0, 3.0]],
    );
    let cond = json!({ "op": ">", "left": { "fn": "current-price", "ticker": "A" }, "right": 100 });
    let ir = symphony(
        &["A", "B", "C", "D"],
        json!({ "type": "if", "cond": cond, "then": [asset("B")], "else": [asset("C")] }),
    );
    let out = run(&d, &ir, json!({}));
    same(&day_weights(&out, 0), &[0.0, 0.0, 1.0, 0.0]);
    same(&day_weights(&out, 1), &[0.0, 1.0, 0.0, 0.0]);
    same(&day_weights(&out, 2), &[0.0, 0.0, 1.0, 0.0]);

    // Without else, the if's share stays in cash; its sibling keeps its own half.
    let ir = symphony(
        &["A", "B", "C", "D"],
        json!({ "type": "weight-equal", "children": [
            { "type": "if", "cond": cond, "then": [asset("B")], "else": null },
            asset("D")
        ] }),
    );
    let out = run(&d, &ir, json!({}));
    same(&day_weights(&out, 0), &[0.0, 0.0, 0.0, 0.5]);
    same(&day_weights(&out, 1), &[0.0, 0.5, 0.0, 0.5]);
}

#[test]
fn comparisons_with_nan_are_false_and_equality_is_exact() {
    // moving-average-price over 3 days is NaN on days 0 and 1.
    let d = data(&["A", "B"], &[&[1.0, 2.0, 3.0, 2.0], &[1.0, 1.0, 1.0, 1.0]]);
    let ir = |op: &str, right: Value| {
        symphony(
            &["A", "B"],
            json!({ "type": "if",
                    "cond": { "op": op, "left": { "fn": "moving-average-price", "ticker": "A", "window": 3 },
                              "right": right },
                    "then": [asset("A")], "else": [asset("B")] }),
        )
    };
    let out = run(&d, &ir("<=", json!(100)), json!({}));
    same(&out.weights, &[0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0]);
    let out = run(&d, &ir("=", json!(2)), json!({}));
    // sma(3) = 2 on day 2, (2 + 3 + 2) / 3 on day 3.
    same(&out.weights, &[0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]);
}

// ------------------------------------------------------------------------------------ synthetic series

#[test]
fn a_filter_scores_groups_by_their_synthetic_price() {
    let a = [10.0, 20.0, 20.0, 20.0];
    let b = [10.0, 10.0, 30.0, 30.0];
    let d = data(&["A", "B"], &[&a, &b]);
    let ir = symphony(
        &["A", "B"],
        json!({ "type": "filter", "fn": "current-price", "select": "top", "count": 1, "children": [
            { "type": "group", "name": "g2", "children": [asset("B")] },
            { "type": "group", "name": "g1", "children": [asset("A")] }
        ] }),
    );
    let out = run(&d, &ir, json!({}));
    // Day 0: both synthetic prices are 1; g1 wins on its label.
    same(&day_weights(&out, 0), &[1.0, 0.0]);
    // Day 1: g1 = 2, g2 = 1. Day 2: g1 = 2, g2 = 3.
    same(&day_weights(&out, 1), &[1.0, 0.0]);
    same(&day_weights(&out, 2), &[0.0, 1.0]);
    same(&day_weights(&out, 3), &[0.0, 1.0]);
}

#[test]
fn a_synthetic_price_moves_with_the_previous_days_allocation() {
    // The if node holds B on day 0 and A from day 1: P1 = 1 * (1 + (5 / 10 - 1)) = 0.5,
    // P2 = 0.5 * (1 + (40 / 20 - 1)) = 1. The constant group z stays at 1.
    let d = data(
        &["A", "B", "C"],
        &[&[10.0, 20.0, 40.0], &[10.0, 5.0, 5.0], &[10.0, 10.0, 10.0]],
    );
    let ir = symphony(
        &["A", "B", "C"],
        json!({ "type": "filter", "fn": "current-price", "select": "top", "count": 1, "children": [
            { "type": "group", "name": "z", "children": [asset("C")] },
            { "type": "if", "cond": { "op": ">", "left": { "fn": "current-price", "ticker": "A" }, "right": 15 },
              "then": [asset("A")], "else": [asset("B")] }
        ] }),
    );
    let out = run(&d, &ir, json!({}));
    // Ties go to the if node (label "" sorts before "z").
    same(&day_weights(&out, 0), &[0.0, 1.0, 0.0]);
    same(&day_weights(&out, 1), &[0.0, 0.0, 1.0]);
    same(&day_weights(&out, 2), &[1.0, 0.0, 0.0]);
}

#[test]
fn inverse_volatility_of_synthetic_children() {
    let a = [100.0, 110.0, 99.0, 105.0];
    let b = [50.0, 51.0, 50.0, 52.0];
    let d = data(&["A", "B"], &[&a, &b]);
    let ir = symphony(
        &["A", "B"],
        json!({ "type": "weight-inverse-volatility", "window": 2, "children": [
            { "type": "weight-equal", "children": [asset("A")] },
            { "type": "group", "name": "b", "children": [asset("B")] }
        ] }),
    );
    let out = run(&d, &ir, json!({}));
    // Each child holds its single ticker every day, so its synthetic price is
    // P_t = P_(t-1) * (1 + (x_t / x_(t-1) - 1)).
    let synth = |x: &[f64]| -> Vec<f64> {
        let mut p = vec![1.0];
        for t in 1..x.len() {
            let prev = p[t - 1];
            p.push(prev * (1.0 + (x[t] / x[t - 1] - 1.0)));
        }
        p
    };
    let (pa, pb) = (synth(&a), synth(&b));
    let va = stdev_return(&pa, 2);
    let vb = stdev_return(&pb, 2);
    let s = 0.0 + 1.0 / va + 1.0 / vb;
    same(&day_weights(&out, 3), &[(1.0 / va) / s, (1.0 / vb) / s]);
}

#[test]
fn warmup_before_start_feeds_indicators_and_synthetic_series() {
    let a = [10.0, 20.0, 20.0, 20.0];
    let b = [10.0, 10.0, 30.0, 30.0];
    let d = data(&["A", "B"], &[&a, &b]);
    let ir = symphony(
        &["A", "B"],
        json!({ "type": "filter", "fn": "current-price", "select": "top", "count": 1, "children": [
            { "type": "group", "name": "g2", "children": [asset("B")] },
            { "type": "group", "name": "g1", "children": [asset("A")] }
        ] }),
    );
    let full = run(&d, &ir, json!({}));
    let part = run(&d, &ir, json!({ "start": T0 + DAY, "end": T0 + 2.0 * DAY }));
    same(&part.time, &[T0 + DAY, T0 + 2.0 * DAY]);
    same(&part.weights, &full.weights[2..6]);
}

// ------------------------------------------------------------------------------------ simulation

#[test]
fn fill_at_close_trades_the_days_target_at_its_close() {
    let d = data(&["A"], &[&[10.0, 12.0, 9.0, 11.0]]);
    let ir = symphony(&["A"], asset("A"));
    let out = run(&d, &ir, json!({ "fillAt": "close", "initialCapital": 1000 }));
    same(&out.time, &dates(4, T0));
    same(&out.equity, &[1000.0, 1200.0, 900.0, 1100.0]);
    assert_eq!(out.rebalance_days, vec![0, 1, 2, 3]);
    assert_eq!(out.metrics.rebalances, 4);
    same_f(out.metrics.turnover, 1.0);
    same_f(out.metrics.final_equity, 1100.0);
}

#[test]
fn fill_at_open_trades_the_previous_target_at_the_next_open() {
    let open = [9.5, 10.5, 11.5];
    let close = [10.0, 11.0, 12.1];
    let d = data_oc(&["A"], &[&open], &[&close], T0);
    let ir = symphony(&["A"], asset("A"));
    let out = run(&d, &ir, json!({ "fillAt": "open", "initialCapital": 1000 }));
    // Day 1: the day-0 target trades at 10.5.
    let v1 = 1000.0;
    let u1 = 1.0 * v1 / 10.5;
    let cash1 = v1 - (0.0 + u1 * 10.5) - 0.0;
    let e1 = cash1 + (0.0 + u1 * 11.0);
    // Day 2: the day-1 target trades at 11.5; the day-2 target is never traded.
    let v2 = cash1 + (0.0 + u1 * 11.5);
    let u2 = 1.0 * v2 / 11.5;
    let cash2 = v2 - (0.0 + u2 * 11.5) - 0.0;
    let e2 = cash2 + (0.0 + u2 * 12.1);
    same(&out.equity, &[1000.0, e1, e2]);
    assert_eq!(out.rebalance_days, vec![0, 1, 2]);
    assert_eq!(out.metrics.rebalances, 2);
    let turnover = 0.0 + (0.0 + (u1 - 0.0f64).abs() * 10.5) / v1 + (0.0 + (u2 - u1).abs() * 11.5) / v2;
    same_f(out.metrics.turnover, turnover);
}

#[test]
fn commission_is_a_percent_of_traded_notional() {
    let d = data(&["A"], &[&[10.0, 11.0]]);
    let ir = symphony(&["A"], asset("A"));
    let out = run(
        &d,
        &ir,
        json!({ "fillAt": "close", "initialCapital": 1000, "commissionPct": 1 }),
    );
    // Day 0: 100 units for 1000, commission 10.
    let c0 = 1000.0 * 1.0 / 100.0;
    let cash0 = 1000.0 - 1000.0 - c0;
    let e0 = cash0 + 100.0 * 10.0;
    // Day 1: back to weight 1 at 11.
    let v1 = cash0 + 100.0 * 11.0;
    let u1 = 1.0 * v1 / 11.0;
    let traded1 = (u1 - 100.0f64).abs() * 11.0;
    let c1 = traded1 * 1.0 / 100.0;
    let cash1 = v1 - u1 * 11.0 - c1;
    let e1 = cash1 + u1 * 11.0;
    same(&out.equity, &[e0, e1]);
    same_f(out.metrics.total_commission, 0.0 + c0 + c1);
    same_f(out.metrics.turnover, 0.0 + 1000.0 / 1000.0 + traded1 / v1);
}

#[test]
fn weekly_rebalances_on_the_first_day_of_each_week() {
    let n = 10;
    let prices: Vec<f64> = (0..n).map(|i| 10.0 + i as f64).collect();
    let d = data(&["A"], &[&prices]);
    let ir = symphony(&["A"], asset("A"));
    let out = run(&d, &ir, json!({ "rebalance": "weekly" }));
    // T0 is a Monday; day 7 is the next Monday.
    assert_eq!(out.rebalance_days, vec![0, 7]);
    let out = run(&d, &ir, json!({ "rebalance": "weekly", "start": T0 + 2.0 * DAY }));
    assert_eq!(out.rebalance_days, vec![0, 5]);
}

#[test]
fn monthly_rebalances_when_the_utc_month_changes() {
    // 2024-01-29 .. 2024-02-03.
    let first = T0 + 28.0 * DAY;
    let prices = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0];
    let d = data_oc(&["A"], &[&prices], &[&prices], first);
    let ir = json!({ "version": 1, "kind": "symphony", "name": "m", "rebalance": "monthly",
                     "tickers": ["A"], "root": asset("A") });
    let out = run(&d, &ir, json!({}));
    assert_eq!(out.rebalance_days, vec![0, 3]);
    // The run configuration overrides the symphony's rule.
    let out = run(&d, &ir, json!({ "rebalance": "daily" }));
    assert_eq!(out.rebalance_days, vec![0, 1, 2, 3, 4, 5]);
}

/// Ten days across quarter and year boundaries, with one price per day.
fn calendar_data() -> DailyData {
    let dates = vec![
        1_703_894_400_000.0, // 0: 2023-12-30
        1_703_980_800_000.0, // 1: 2023-12-31
        1_704_153_600_000.0, // 2: 2024-01-02 (new quarter, new year)
        1_711_843_200_000.0, // 3: 2024-03-31
        1_711_929_600_000.0, // 4: 2024-04-01 (new quarter)
        1_719_705_600_000.0, // 5: 2024-06-30
        1_719_792_000_000.0, // 6: 2024-07-01 (new quarter)
        1_735_603_200_000.0, // 7: 2024-12-31 (new quarter)
        1_735_689_600_000.0, // 8: 2025-01-01 (new quarter, new year)
        1_738_368_000_000.0, // 9: 2025-02-01
    ];
    let prices: Vec<f64> = (0..dates.len()).map(|i| 10.0 + i as f64).collect();
    DailyData::new(dates, vec!["A".into()], vec![prices.clone()], vec![prices]).expect("valid data")
}

#[test]
fn quarterly_yearly_and_none_follow_the_utc_calendar() {
    let d = calendar_data();
    let ir = symphony(&["A"], asset("A"));
    let days = |rule: &str, start: Option<f64>| {
        let cfg = match start {
            Some(s) => json!({ "rebalance": rule, "start": s }),
            None => json!({ "rebalance": rule }),
        };
        run(&d, &ir, cfg).rebalance_days
    };
    assert_eq!(days("monthly", None), vec![0, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(days("quarterly", None), vec![0, 2, 4, 6, 7, 8]);
    assert_eq!(days("yearly", None), vec![0, 2, 8]);
    assert_eq!(days("none", None), vec![0]);
    // From 2024-03-31: the first simulated day, then 04-01, 07-01, 12-31 and 2025-01-01.
    let start = Some(1_711_843_200_000.0);
    assert_eq!(days("quarterly", start), vec![0, 1, 3, 4, 5]);
    assert_eq!(days("yearly", start), vec![0, 5]);
    assert_eq!(days("none", start), vec![0]);

    // The IR's own rule; buy and hold lets the weights drift and trades once.
    let two = DailyData::new(
        dates(4, T0),
        vec!["A".into(), "B".into()],
        vec![vec![10.0, 20.0, 20.0, 40.0], vec![10.0; 4]],
        vec![vec![10.0, 20.0, 20.0, 40.0], vec![10.0; 4]],
    )
    .expect("valid data");
    let held = json!({ "version": 1, "kind": "symphony", "name": "h", "rebalance": "none",
                       "tickers": ["A", "B"],
                       "root": { "type": "weight-equal", "children": [asset("A"), asset("B")] } });
    let out = run(&two, &held, json!({ "initialCapital": 1000 }));
    assert_eq!(out.rebalance_days, vec![0]);
    assert_eq!(out.metrics.rebalances, 1);
    same(&out.equity, &[1000.0, 1500.0, 1500.0, 2500.0]);
    // With fills at the open, the only trade happens on day 1.
    let out = run(&two, &held, json!({ "initialCapital": 1000, "fillAt": "open" }));
    assert_eq!(out.rebalance_days, vec![0]);
    assert_eq!(out.metrics.rebalances, 1);
    same(&out.equity, &[1000.0, 1000.0, 1000.0, 1500.0]);
}

#[test]
fn threshold_rebalances_when_held_weights_drift_too_far() {
    let d = data(&["A", "B"], &[&[10.0, 20.0, 20.0], &[10.0, 10.0, 10.0]]);
    let ir = symphony(
        &["A", "B"],
        json!({ "type": "weight-equal", "children": [asset("A"), asset("B")] }),
    );
    // Day 1: held A = 50 * 20 / 1500 = 2/3, target 1/2.
    let out = run(
        &d,
        &ir,
        json!({ "rebalance": { "threshold": 0.1 }, "initialCapital": 1000 }),
    );
    assert_eq!(out.rebalance_days, vec![0, 1]);
    let out = run(
        &d,
        &ir,
        json!({ "rebalance": { "threshold": 0.2 }, "initialCapital": 1000 }),
    );
    assert_eq!(out.rebalance_days, vec![0]);
    same(&out.equity, &[1000.0, 1500.0, 1500.0]);
}

#[test]
fn start_and_end_select_the_simulated_days() {
    let d = data(&["A"], &[&[10.0, 12.0, 9.0, 11.0]]);
    let ir = symphony(&["A"], asset("A"));
    let out = run(
        &d,
        &ir,
        json!({ "start": T0 + DAY, "end": T0 + 2.0 * DAY, "initialCapital": 1200 }),
    );
    same(&out.time, &[T0 + DAY, T0 + 2.0 * DAY]);
    same(&out.equity, &[1200.0, 900.0]);
    // No simulated day: empty output, the capital unchanged.
    let out = run(&d, &ir, json!({ "start": T0 + 10.0 * DAY }));
    assert!(out.time.is_empty() && out.weights.is_empty() && out.rebalance_days.is_empty());
    same_f(out.metrics.final_equity, 10_000.0);
    same_f(out.metrics.return_pct, 0.0);
    assert!(out.metrics.cagr_pct.is_nan() && out.metrics.sharpe.is_nan());
}

#[test]
fn metrics_follow_the_contract() {
    let d = data(&["A"], &[&[10.0, 12.0, 9.0, 11.0]]);
    let ir = symphony(&["A"], asset("A"));
    let out = run(&d, &ir, json!({ "initialCapital": 1000, "periodsPerYear": 252 }));
    let e = [1000.0, 1200.0, 900.0, 1100.0];
    same(&out.equity, &e);
    let m = &out.metrics;
    let b0 = 1000.0;
    same_f(m.return_pct, (1100.0 - b0) / b0 * 100.0);
    let years = (3.0 * DAY) / 31_557_600_000.0;
    same_f(m.cagr_pct, ((1100.0f64 / b0).powf(1.0 / years) - 1.0) * 100.0);
    same_f(m.max_drawdown, 300.0);
    same_f(m.max_drawdown_pct, 300.0 / 1200.0 * 100.0);
    let r = [
        1000.0 / b0 - 1.0,
        1200.0 / 1000.0 - 1.0,
        900.0 / 1200.0 - 1.0,
        1100.0 / 900.0 - 1.0,
    ];
    let n = 4.0;
    let mut sum = 0.0;
    for x in r {
        sum += x;
    }
    let mean = sum / n;
    let mut ss = 0.0;
    for x in r {
        ss += (x - mean) * (x - mean);
    }
    let sd = (ss / (n - 1.0)).sqrt();
    let sq = 252.0f64.sqrt();
    same_f(m.sharpe, mean / sd * sq);
    let mut down = 0.0;
    for x in r {
        let v = if x < 0.0 { x } else { 0.0 };
        down += v * v;
    }
    same_f(m.sortino, mean / (down / n).sqrt() * sq);
    same_f(m.calmar, m.cagr_pct / m.max_drawdown_pct);
    same_f(m.volatility_pct, sd * sq * 100.0);
    same_f(m.final_equity, 1100.0);
}

// ------------------------------------------------------------------------------------ validation

fn ir_error(ir: Value) -> (String, String) {
    let e = SymphonyProgram::from_json(&ir.to_string()).expect_err("rejected");
    (e.path, e.message)
}

#[test]
fn ir_problems_are_reported_at_their_path() {
    let ab = ["A", "B"];
    let we = |children: Value| symphony(&ab, json!({ "type": "weight-equal", "children": children }));
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            we(
                json!([asset("A"), { "type": "filter", "fn": "rsi", "window": { "param": "w" },
                                     "select": "top", "count": 1, "children": [asset("B")] }]),
            ),
            "root.children[1].window",
            "unresolved parameter reference 'w'",
        ),
        (
            we(json!([{ "type": "weight-inverse-volatility", "window": 2.5, "children": [asset("A")] }])),
            "root.children[0].window",
            "expected an integer >= 1, got 2.5",
        ),
        (
            we(
                json!([{ "type": "filter", "fn": "rsi", "window": 0, "select": "top", "count": 1,
                        "children": [asset("A")] }]),
            ),
            "root.children[0].window",
            "expected an integer >= 1, got 0",
        ),
        (
            we(
                json!([{ "type": "filter", "fn": "rsi", "select": "top", "count": 0, "children": [asset("A")] }]),
            ),
            "root.children[0].count",
            "expected an integer >= 1",
        ),
        (
            we(
                json!([{ "type": "filter", "fn": "nope", "select": "top", "count": 1, "children": [asset("A")] }]),
            ),
            "root.children[0].fn",
            "unknown indicator 'nope'",
        ),
        (
            we(
                json!([{ "type": "filter", "fn": "rsi", "select": "middle", "count": 1, "children": [asset("A")] }]),
            ),
            "root.children[0].select",
            "unknown selection 'middle'",
        ),
        (
            symphony(
                &ab,
                json!({ "type": "weight-specified", "weights": [1, -1], "children": [asset("A"), asset("B")] }),
            ),
            "root.weights[1]",
            "expected a finite number >= 0, got -1",
        ),
        (
            symphony(
                &ab,
                json!({ "type": "weight-specified", "weights": [0, 0], "children": [asset("A"), asset("B")] }),
            ),
            "root.weights",
            "positive sum",
        ),
        (
            symphony(
                &ab,
                json!({ "type": "weight-specified", "weights": [1], "children": [asset("A"), asset("B")] }),
            ),
            "root.weights",
            "1 weights for 2 children",
        ),
        (
            symphony(
                &ab,
                json!({ "type": "if", "cond": { "op": ">", "left": { "fn": "current-price", "ticker": "A" },
                                                            "right": { "param": "level" } },
                                  "then": [asset("A")] }),
            ),
            "root.cond.right",
            "unresolved parameter reference 'level'",
        ),
        (
            symphony(
                &ab,
                json!({ "type": "if", "cond": { "op": "!=", "left": 1, "right": 2 }, "then": [asset("A")] }),
            ),
            "root.cond.op",
            "unknown comparison '!='",
        ),
        (
            symphony(
                &ab,
                json!({ "type": "if", "cond": { "op": ">", "left": 1, "right": 2 },
                                  "then": [asset("A")], "else": [] }),
            ),
            "root.else",
            "expected at least one node",
        ),
        (
            symphony(
                &ab,
                json!({ "type": "if", "cond": { "op": ">", "left": { "fn": "rsi", "ticker": "Z" }, "right": 2 },
                                  "then": [asset("A")] }),
            ),
            "root.cond.left.ticker",
            "ticker 'Z' is not listed in tickers",
        ),
        (we(json!([])), "root.children", "expected at least one node"),
        (
            we(json!([asset("C")])),
            "root.children[0].ticker",
            "ticker 'C' is not listed",
        ),
        (
            we(json!([{ "type": "weight-unequal", "children": [asset("A")] }])),
            "root.children[0].type",
            "unknown node type 'weight-unequal'",
        ),
        (
            we(json!([{ "type": "asset", "ticker": "A", "weight": 1 }])),
            "root.children[0].weight",
            "unknown field 'weight'",
        ),
        (
            we(json!([{ "type": "group", "children": [asset("A")] }])),
            "root.children[0]",
            "missing field 'name'",
        ),
        (
            symphony(&["B", "A"], asset("A")),
            "tickers[1]",
            "'A' is not after 'B'",
        ),
        (
            symphony(&["A", "A"], asset("A")),
            "tickers[1]",
            "'A' is not after 'A'",
        ),
        (
            json!({ "version": 2, "kind": "symphony", "name": "x", "tickers": ["A"], "root": asset("A") }),
            "version",
            "unsupported version 2",
        ),
        (
            json!({ "version": 1, "kind": "symphony", "name": "x", "tickers": ["A"], "root": asset("A"),
                    "rebalance": { "threshold": 0 } }),
            "rebalance.threshold",
            "expected a finite number > 0, got 0",
        ),
        (
            json!({ "version": 1, "kind": "symphony", "name": "x", "tickers": ["A"], "root": asset("A"),
                    "rebalance": { "threshold": { "param": "t" } } }),
            "rebalance.threshold",
            "unresolved parameter reference 't'",
        ),
        (
            json!({ "version": 1, "kind": "symphony", "name": "x", "tickers": ["A"], "root": asset("A"),
                    "rebalance": "hourly" }),
            "rebalance",
            "unknown rebalance rule 'hourly'",
        ),
    ];
    for (ir, path, message) in cases {
        let (p, m) = ir_error(ir.clone());
        assert_eq!(p, path, "{ir}: {m}");
        assert!(m.contains(message), "{ir}: '{m}' lacks '{message}'");
    }
}

#[test]
fn tickers_are_ordered_by_utf16_code_units() {
    // U+FF21 (one UTF-16 unit) sorts before U+1F600 (a surrogate pair starting 0xD83D) in
    // UTF-16, but after it in UTF-8 and in code points.
    let ir = symphony(&["\u{1F600}", "\u{FF21}"], asset("\u{FF21}"));
    assert!(SymphonyProgram::from_json(&ir.to_string()).is_ok());
    let ir = symphony(&["\u{FF21}", "\u{1F600}"], asset("\u{FF21}"));
    assert!(SymphonyProgram::from_json(&ir.to_string()).is_err());
}

#[test]
fn a_ticker_missing_from_the_data_is_named() {
    let d = data(&["A"], &[&[1.0, 2.0]]);
    let ir = symphony(
        &["A", "QQQ"],
        json!({ "type": "weight-equal", "children": [asset("A"), asset("QQQ")] }),
    );
    let e = run_symphony(&d, &program(&ir), &SymphonyConfig::default(), None).expect_err("rejected");
    let SymphonyError::Invalid(e) = e else {
        panic!("{e}")
    };
    assert_eq!(e.path, "tickers[1]");
    assert_eq!(e.message, "ticker 'QQQ' is not in the data");
}

#[test]
fn data_problems_are_reported() {
    let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases: Vec<(Result<DailyData, tickforge_core::Error>, &str, &str)> = vec![
        (
            DailyData::new(vec![], t(&[]), vec![], vec![]),
            "data.dates",
            "no days",
        ),
        (
            DailyData::new(
                vec![T0, T0],
                t(&["A"]),
                vec![vec![1.0, 1.0]],
                vec![vec![1.0, 1.0]],
            ),
            "data.dates[1]",
            "is not after data.dates[0]",
        ),
        (
            DailyData::new(vec![NAN], t(&["A"]), vec![vec![1.0]], vec![vec![1.0]]),
            "data.dates[0]",
            "NaN is not a finite time",
        ),
        (
            DailyData::new(vec![T0], t(&["A", "A"]), vec![vec![1.0]; 2], vec![vec![1.0]; 2]),
            "data.tickers[1]",
            "duplicate ticker 'A'",
        ),
        (
            DailyData::new(
                vec![T0, T0 + DAY],
                t(&["A"]),
                vec![vec![1.0, 1.0]],
                vec![vec![1.0]],
            ),
            "data.close[A]",
            "length 1 differs from data.dates length 2",
        ),
        (
            DailyData::new(
                vec![T0, T0 + DAY, T0 + 2.0 * DAY],
                t(&["A"]),
                vec![vec![NAN, 1.0, 1.0]],
                vec![vec![NAN, 1.0, NAN]],
            ),
            "data.close[A][2]",
            "NaN is not a positive finite price",
        ),
        (
            DailyData::new(
                vec![T0, T0 + DAY],
                t(&["A"]),
                vec![vec![1.0, 0.0]],
                vec![vec![1.0, 1.0]],
            ),
            "data.open[A][1]",
            "0 is not a positive finite price",
        ),
        (
            DailyData::from_flat(&[T0, T0 + DAY], t(&["A", "B"]), &[1.0; 4], &[1.0; 3]),
            "data.close",
            "length 3 is not tickers (2) x days (2)",
        ),
    ];
    for (result, path, message) in cases {
        let e = result.expect_err("rejected");
        assert_eq!(e.path, path, "{e}");
        assert!(e.message.contains(message), "'{}' lacks '{message}'", e.message);
    }
    // Flat columns are ticker-major.
    let d = DailyData::from_flat(
        &[T0, T0 + DAY],
        t(&["A", "B"]),
        &[1.0, 2.0, 3.0, 4.0],
        &[5.0, 6.0, 7.0, 8.0],
    )
    .expect("valid");
    assert_eq!(d.close(1), &[7.0, 8.0]);
    assert_eq!(d.open(0), &[1.0, 2.0]);
}

#[test]
fn config_problems_are_reported() {
    let cases = [
        (
            json!({ "commissionPct": -1 }),
            "config.commissionPct",
            "-1 is not a finite non-negative number",
        ),
        (
            json!({ "initialCapital": 0 }),
            "config.initialCapital",
            "0 is not a positive finite number",
        ),
        (
            json!({ "periodsPerYear": -252 }),
            "config.periodsPerYear",
            "is not a positive finite number",
        ),
        (
            json!({ "start": 5, "end": 4 }),
            "config.start",
            "5 is after config.end (4)",
        ),
        (
            json!({ "fillAt": "mid" }),
            "config.fillAt",
            "expected \"close\" or \"open\"",
        ),
        (
            json!({ "rebalance": { "threshold": -1 } }),
            "config.rebalance.threshold",
            "expected a finite number > 0",
        ),
        (
            json!({ "slippage": 1 }),
            "config.slippage",
            "unknown field 'slippage'",
        ),
    ];
    for (cfg, path, message) in cases {
        let e = SymphonyConfig::from_json(&cfg.to_string()).expect_err("rejected");
        assert_eq!(e.path, path, "{e}");
        assert!(e.message.contains(message), "'{}' lacks '{message}'", e.message);
    }
    let full = config(
        json!({ "rebalance": null, "fillAt": "open", "commissionPct": 0.1, "initialCapital": 5000,
                              "start": null, "end": null, "periodsPerYear": 365 }),
    );
    assert_eq!(full.rebalance, None);
    assert_eq!(full.initial_capital, 5000.0);
    assert_eq!(
        config(json!({ "rebalance": "weekly" })).rebalance,
        Some(Rebalance::Weekly)
    );
    for (name, rule) in [
        ("quarterly", Rebalance::Quarterly),
        ("yearly", Rebalance::Yearly),
        ("none", Rebalance::None),
    ] {
        assert_eq!(config(json!({ "rebalance": name })).rebalance, Some(rule));
    }
}

// ------------------------------------------------------------------------------------ batches

/// Deterministic prices: a walk per ticker, ticker `k` priced from day `k * 7`.
fn walk_data(tickers: usize, days: usize, seed: u32) -> DailyData {
    let mut rng = Sfc32::new(seed);
    let mut open = Vec::new();
    let mut close = Vec::new();
    for k in 0..tickers {
        let mut p = 50.0 + k as f64;
        let (mut o, mut c) = (vec![NAN; days], vec![NAN; days]);
        for t in (k * 7).min(days)..days {
            let step = (f64::from(rng.next_u32() % 2001) - 1000.0) / 50_000.0;
            o[t] = p;
            p *= 1.0 + step;
            c[t] = p;
        }
        open.push(o);
        close.push(c);
    }
    let names = (0..tickers).map(|k| format!("T{k:02}")).collect();
    DailyData::new(dates(days, T0), names, open, close).expect("valid data")
}

const FNS: [&str; 9] = [
    "rsi",
    "current-price",
    "moving-average-price",
    "exponential-moving-average-price",
    "moving-average-return",
    "cumulative-return",
    "stdev-return",
    "stdev-price",
    "max-drawdown",
];

/// A random tree over `tickers` of depth at most `depth`.
fn random_node(rng: &mut Sfc32, tickers: &[String], depth: u32) -> Value {
    let pick = |rng: &mut Sfc32, n: usize| rng.next_u32() as usize % n;
    let ticker = |rng: &mut Sfc32| tickers[pick(rng, tickers.len())].clone();
    if depth == 0 || pick(rng, 5) == 0 {
        return json!({ "type": "asset", "ticker": ticker(rng) });
    }
    let children = |rng: &mut Sfc32, n: usize| -> Vec<Value> {
        (0..n).map(|_| random_node(rng, tickers, depth - 1)).collect()
    };
    let window = |rng: &mut Sfc32| 1 + pick(rng, 30);
    match pick(rng, 6) {
        0 => {
            let n = 1 + pick(rng, 3);
            json!({ "type": "weight-equal", "children": children(rng, n) })
        }
        1 => {
            let n = 1 + pick(rng, 3);
            let weights: Vec<u32> = (0..n).map(|_| 1 + rng.next_u32() % 9).collect();
            json!({ "type": "weight-specified", "weights": weights, "children": children(rng, n) })
        }
        2 => {
            let n = 2 + pick(rng, 3);
            json!({ "type": "weight-inverse-volatility", "window": window(rng), "children": children(rng, n) })
        }
        3 => {
            let n = 2 + pick(rng, 4);
            json!({ "type": "filter", "fn": FNS[pick(rng, FNS.len())], "window": window(rng),
                    "select": if pick(rng, 2) == 0 { "top" } else { "bottom" },
                    "count": 1 + pick(rng, 3), "children": children(rng, n) })
        }
        4 => {
            let n = 1 + pick(rng, 3);
            json!({ "type": "group", "name": format!("g{}", pick(rng, 4)), "children": children(rng, n) })
        }
        _ => {
            let left =
                json!({ "fn": FNS[pick(rng, FNS.len())], "ticker": ticker(rng), "window": window(rng) });
            let right = if pick(rng, 2) == 0 {
                json!(f64::from(rng.next_u32() % 100))
            } else {
                json!({ "fn": FNS[pick(rng, FNS.len())], "ticker": ticker(rng), "window": window(rng) })
            };
            let ops = [">", "<", ">=", "<=", "="];
            let n = 1 + pick(rng, 2);
            let then = children(rng, n);
            let otherwise = if pick(rng, 3) == 0 {
                Value::Null
            } else {
                json!(children(rng, 1))
            };
            json!({ "type": "if", "cond": { "op": ops[pick(rng, 5)], "left": left, "right": right },
                    "then": then, "else": otherwise })
        }
    }
}

fn random_symphony(seed: u32, tickers: &[String]) -> String {
    let mut rng = Sfc32::new(seed);
    let root = random_node(&mut rng, tickers, 4);
    let mut named = Vec::new();
    collect_tickers(&root, &mut named);
    named.sort_by(|a: &String, b| a.encode_utf16().cmp(b.encode_utf16()));
    named.dedup();
    json!({ "version": 1, "kind": "symphony", "name": format!("s{seed}"), "tickers": named, "root": root })
        .to_string()
}

fn collect_tickers(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(t)) = map.get("ticker") {
                out.push(t.clone());
            }
            for x in map.values() {
                collect_tickers(x, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_tickers(x, out)),
        _ => {}
    }
}

#[test]
fn batches_are_deterministic_across_thread_counts_and_match_single_runs() {
    let d = walk_data(8, 300, 11);
    let programs: Vec<String> = (0..16).map(|s| random_symphony(s, d.tickers())).collect();
    let configs = vec![json!({ "fillAt": "close", "commissionPct": 0.1 }).to_string()];
    let runs: Vec<Vec<Result<SymphonyOutput, SymphonyError>>> = [1, 2, 3]
        .iter()
        .map(|&threads| {
            run_symphonies_json(
                &d,
                &programs,
                &configs,
                &SymphonyBatchOptions {
                    threads,
                    cancel: None,
                },
            )
        })
        .collect();
    for (i, ir) in programs.iter().enumerate() {
        let single = run_symphony(
            &d,
            &SymphonyProgram::from_json(ir).expect("valid"),
            &SymphonyConfig::from_json(&configs[0]).expect("valid"),
            None,
        )
        .expect("runs");
        assert_eq!(single.time.len(), 300);
        for r in &runs {
            assert_same_output(r[i].as_ref().expect("runs"), &single);
        }
    }
}

#[test]
fn a_failed_job_keeps_its_slot_and_the_others_run() {
    let d = walk_data(4, 60, 3);
    let good = random_symphony(1, d.tickers());
    let programs = vec![
        good.clone(),
        "{".to_string(),
        good.clone(),
        symphony(&["ZZZ"], asset("ZZZ")).to_string(),
    ];
    let configs = vec![
        "{}".to_string(),
        "{}".to_string(),
        r#"{"fillAt":"noon"}"#.to_string(),
        "{}".to_string(),
    ];
    let out = run_symphonies_json(
        &d,
        &programs,
        &configs,
        &SymphonyBatchOptions {
            threads: 2,
            cancel: None,
        },
    );
    assert!(out[0].is_ok());
    let e = |r: &Result<SymphonyOutput, SymphonyError>| r.as_ref().expect_err("fails").to_string();
    assert!(e(&out[1]).starts_with("symphony: invalid JSON"), "{}", e(&out[1]));
    assert!(e(&out[2]).starts_with("config.fillAt:"), "{}", e(&out[2]));
    assert_eq!(e(&out[3]), "tickers[0]: ticker 'ZZZ' is not in the data");
    // A count of configurations other than 1 or one per job fails every job.
    let out = run_symphonies_json(&d, &programs, &configs[..2], &SymphonyBatchOptions::default());
    assert!(out
        .iter()
        .all(|r| matches!(r, Err(SymphonyError::Invalid(e)) if e.path == "configs")));
}

#[test]
fn a_panicking_job_becomes_its_error() {
    let d = walk_data(2, 30, 5);
    let good = program(&symphony(&["T00"], asset("T00")));
    // Built by hand past the checks: its asset names a ticker the symphony does not list.
    let bad = SymphonyProgram {
        name: "bad".into(),
        rebalance: Rebalance::Daily,
        tickers: vec!["T00".into()],
        root: Node::Asset {
            ticker: "T01".into(),
            name: None,
        },
    };
    let jobs = vec![
        (good.clone(), SymphonyConfig::default()),
        (bad, SymphonyConfig::default()),
        (good, SymphonyConfig::default()),
    ];
    let out = run_symphonies(
        &d,
        &jobs,
        &SymphonyBatchOptions {
            threads: 2,
            cancel: None,
        },
    );
    assert!(out[0].is_ok() && out[2].is_ok());
    assert!(
        matches!(&out[1], Err(SymphonyError::Panicked(m)) if m.contains("T01")),
        "{:?}",
        out[1]
    );
}

#[test]
fn a_cancelled_batch_stops_every_job() {
    let d = walk_data(4, 60, 3);
    let programs: Vec<String> = (0..4).map(|s| random_symphony(s, d.tickers())).collect();
    let cancel = Arc::new(AtomicBool::new(true));
    let out = run_symphonies_json(
        &d,
        &programs,
        &["{}".to_string()],
        &SymphonyBatchOptions {
            threads: 2,
            cancel: Some(cancel.clone()),
        },
    );
    assert!(out.iter().all(|r| matches!(r, Err(SymphonyError::Cancelled))));
    let single = run_symphony(
        &d,
        &SymphonyProgram::from_json(&programs[0]).expect("valid"),
        &SymphonyConfig::default(),
        Some(&cancel),
    );
    assert_eq!(single, Err(SymphonyError::Cancelled));
}

// ------------------------------------------------------------------------------------ reference

/// A direct transcription of docs/symphony.md sections 3 and 4: every node evaluated every day
/// with dense weight vectors, every indicator recomputed from the whole series each day.
struct Reference<'a> {
    data: &'a DailyData,
    columns: Vec<usize>,
    tickers: Vec<String>,
    /// Synthetic prices so far and the allocation of the day before, per scored non-asset node.
    synth: std::collections::HashMap<*const Value, (Vec<f64>, Vec<f64>)>,
}

fn reference_indicator(func: &str, w: usize, xs: &[f64]) -> f64 {
    use tickforge_core::indicators::{Ema, Rsi, Sma};
    let n = xs.len();
    if n == 0 {
        return NAN;
    }
    let returns =
        |m: usize| -> Vec<f64> { xs[n - (m + 1)..].windows(2).map(|p| p[1] / p[0] - 1.0).collect() };
    let pop_sd = |v: &[f64]| -> f64 {
        let mut sum = 0.0;
        for &x in v {
            sum += x;
        }
        let m = sum / v.len() as f64;
        let mut ss = 0.0;
        for &x in v {
            ss += (x - m) * (x - m);
        }
        (ss / v.len() as f64).sqrt()
    };
    match func {
        "current-price" => xs[n - 1],
        "moving-average-price" => {
            let mut s = Sma::new(w);
            xs.iter().for_each(|&x| s.update(x));
            s.value()
        }
        "exponential-moving-average-price" => {
            let mut s = Ema::new(w);
            xs.iter().for_each(|&x| s.update(x));
            s.value()
        }
        "rsi" => {
            let mut s = Rsi::new(w);
            xs.iter().for_each(|&x| s.update(x));
            s.value()
        }
        "moving-average-return" if n > w => {
            let mut sum = 0.0;
            for r in returns(w) {
                sum += r;
            }
            sum / w as f64 * 100.0
        }
        "cumulative-return" if n > w => (xs[n - 1] / xs[n - 1 - w] - 1.0) * 100.0,
        "stdev-return" if n > w => pop_sd(&returns(w)) * 100.0,
        "stdev-price" if n >= w => pop_sd(&xs[n - w..]),
        "max-drawdown" if n > w => {
            let v = &xs[n - (w + 1)..];
            let mut peak = v[0];
            let mut dd: f64 = 0.0;
            for &x in v {
                peak = peak.max(x);
                dd = dd.max((peak - x) / peak);
            }
            dd * 100.0
        }
        _ => NAN,
    }
}

fn default_window(func: &str) -> usize {
    match func {
        "rsi" => 14,
        "moving-average-price" => 200,
        "exponential-moving-average-price" => 12,
        "moving-average-return" => 21,
        "cumulative-return" => 60,
        "stdev-return" | "stdev-price" => 6,
        "max-drawdown" => 60,
        _ => 0,
    }
}

impl Reference<'_> {
    fn k(&self, ticker: &str) -> usize {
        self.tickers.iter().position(|t| t == ticker).expect("listed")
    }

    /// The ticker's closes from its first priced day to `t`.
    fn closes(&self, ticker: &str, t: usize) -> Vec<f64> {
        let close = self.data.close(self.columns[self.k(ticker)]);
        close[..=t].iter().copied().filter(|c| c.is_finite()).collect()
    }

    fn ticker_value(&self, func: &str, w: usize, ticker: &str, t: usize) -> f64 {
        if func == "current-price" {
            return self.data.close(self.columns[self.k(ticker)])[t];
        }
        reference_indicator(func, w, &self.closes(ticker, t))
    }

    fn child_score(&self, child: &Value, func: &str, w: usize, t: usize) -> f64 {
        if child["type"] == "asset" {
            self.ticker_value(func, w, child["ticker"].as_str().expect("ticker"), t)
        } else {
            reference_indicator(func, w, &self.synth[&(child as *const Value)].0)
        }
    }

    fn scored_nodes(node: &Value, out: &mut Vec<*const Value>) {
        let kind = node["type"].as_str().expect("type");
        for key in ["children", "then", "else"] {
            if let Some(children) = node[key].as_array() {
                for c in children {
                    if (kind == "filter" || kind == "weight-inverse-volatility") && c["type"] != "asset" {
                        out.push(c as *const Value);
                    }
                    Self::scored_nodes(c, out);
                }
            }
        }
    }

    fn combine(&mut self, result: &mut [f64], children: &[&Value], shares: &[f64], t: usize) {
        for (c, &share) in children.iter().zip(shares) {
            let child = self.alloc(c, t);
            for k in 0..result.len() {
                result[k] += share * child[k];
            }
        }
    }

    fn alloc(&mut self, node: &Value, t: usize) -> Vec<f64> {
        let n = self.tickers.len();
        let mut result = vec![0.0; n];
        let list = |key: &str| -> Vec<&Value> {
            node[key]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default()
        };
        let children = list("children");
        match node["type"].as_str().expect("type") {
            "asset" => {
                let ticker = node["ticker"].as_str().expect("ticker");
                if self.data.close(self.columns[self.k(ticker)])[t].is_finite() {
                    result[self.k(ticker)] = 1.0;
                }
            }
            "weight-equal" | "group" => {
                let shares = vec![1.0 / children.len() as f64; children.len()];
                self.combine(&mut result, &children, &shares, t);
            }
            "weight-specified" => {
                let w: Vec<f64> = node["weights"]
                    .as_array()
                    .expect("weights")
                    .iter()
                    .map(|x| x.as_f64().expect("w"))
                    .collect();
                let mut s = 0.0;
                for &x in &w {
                    s += x;
                }
                let shares: Vec<f64> = w.iter().map(|&x| x / s).collect();
                self.combine(&mut result, &children, &shares, t);
            }
            "weight-inverse-volatility" => {
                let w = node["window"].as_u64().expect("window") as usize;
                let v: Vec<f64> = children
                    .iter()
                    .map(|c| self.child_score(c, "stdev-return", w, t))
                    .collect();
                let mut s = 0.0;
                for &x in &v {
                    if !(x.is_nan() || x == 0.0) {
                        s += 1.0 / x;
                    }
                }
                let shares: Vec<f64> = v
                    .iter()
                    .map(|&x| {
                        if x.is_nan() || x == 0.0 {
                            0.0
                        } else {
                            (1.0 / x) / s
                        }
                    })
                    .collect();
                // Ineligible children are still evaluated: a zero share adds nothing.
                self.combine(&mut result, &children, &shares, t);
            }
            "filter" => {
                let func = node["fn"].as_str().expect("fn");
                let w = node["window"]
                    .as_u64()
                    .map_or(default_window(func), |w| w as usize);
                let count = node["count"].as_u64().expect("count") as usize;
                let label = |c: &Value| -> String {
                    match c["type"].as_str() {
                        Some("asset") => c["ticker"].as_str().unwrap_or("").to_string(),
                        Some("group") => c["name"].as_str().unwrap_or("").to_string(),
                        _ => String::new(),
                    }
                };
                let mut eligible: Vec<(f64, String, usize)> = children
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (self.child_score(c, func, w, t), label(c), i))
                    .filter(|e| !e.0.is_nan())
                    .collect();
                let top = node["select"] == "top";
                eligible.sort_by(|a, b| {
                    let s = if top {
                        b.0.partial_cmp(&a.0)
                    } else {
                        a.0.partial_cmp(&b.0)
                    };
                    s.expect("scores")
                        .then(a.1.encode_utf16().cmp(b.1.encode_utf16()))
                        .then(a.2.cmp(&b.2))
                });
                let k = count.min(eligible.len());
                let chosen: Vec<usize> = eligible[..k].iter().map(|e| e.2).collect();
                let shares: Vec<f64> = (0..children.len())
                    .map(|i| if chosen.contains(&i) { 1.0 / k as f64 } else { 0.0 })
                    .collect();
                // Skipped children are evaluated too (their synthetic series go on).
                for (c, &share) in children.iter().zip(&shares) {
                    let child = self.alloc(c, t);
                    if share > 0.0 {
                        for j in 0..n {
                            result[j] += share * child[j];
                        }
                    }
                }
            }
            "if" => {
                let cond = &node["cond"];
                let value = |v: &Value| -> f64 {
                    match v.as_f64() {
                        Some(x) => x,
                        None => {
                            let func = v["fn"].as_str().expect("fn");
                            let w = v["window"].as_u64().map_or(default_window(func), |w| w as usize);
                            self.ticker_value(func, w, v["ticker"].as_str().expect("ticker"), t)
                        }
                    }
                };
                let (a, b) = (value(&cond["left"]), value(&cond["right"]));
                let holds = match cond["op"].as_str().expect("op") {
                    ">" => a > b,
                    "<" => a < b,
                    ">=" => a >= b,
                    "<=" => a <= b,
                    _ => a == b,
                };
                let then = list("then");
                let otherwise = list("else");
                let (taken, other) = if holds {
                    (then, otherwise)
                } else {
                    (otherwise, then)
                };
                let shares = vec![1.0 / taken.len() as f64; taken.len()];
                self.combine(&mut result, &taken, &shares, t);
                // The branch not taken is evaluated as well.
                for c in other {
                    self.alloc(c, t);
                }
            }
            other => panic!("unknown node type {other}"),
        }
        let key = node as *const Value;
        if let Some(entry) = self.synth.get_mut(&key) {
            entry.1 = result.clone();
        }
        result
    }

    /// Root weights of every day.
    fn run(data: &DailyData, ir: &Value) -> Vec<f64> {
        let tickers: Vec<String> = ir["tickers"]
            .as_array()
            .expect("tickers")
            .iter()
            .map(|t| t.as_str().expect("t").to_string())
            .collect();
        let columns = tickers.iter().map(|t| data.column(t).expect("in data")).collect();
        let mut scored = Vec::new();
        Self::scored_nodes(&ir["root"], &mut scored);
        let n = tickers.len();
        let mut r = Reference {
            data,
            columns,
            tickers,
            synth: scored
                .into_iter()
                .map(|p| (p, (Vec::new(), vec![0.0; n])))
                .collect(),
        };
        let mut weights = Vec::new();
        for t in 0..data.days() {
            let keys: Vec<*const Value> = r.synth.keys().copied().collect();
            for key in keys {
                let g = if t == 0 {
                    None
                } else {
                    let prev = &r.synth[&key].1;
                    let mut g = 0.0;
                    for (k, &a) in prev.iter().enumerate() {
                        if a > 0.0 {
                            let close = data.close(r.columns[k]);
                            g += a * (close[t] / close[t - 1] - 1.0);
                        }
                    }
                    Some(g)
                };
                let prices = &mut r.synth.get_mut(&key).expect("synth").0;
                let p = match g {
                    None => 1.0,
                    Some(g) => prices[t - 1] * (1.0 + g),
                };
                prices.push(p);
            }
            weights.extend(r.alloc(&ir["root"], t));
        }
        weights
    }
}

#[test]
fn weights_match_a_direct_transcription_of_the_contract() {
    let d = walk_data(6, 150, 21);
    for seed in 0..60 {
        let ir: Value = serde_json::from_str(&random_symphony(seed, d.tickers())).expect("json");
        let out = run(&d, &ir, json!({}));
        let expected = Reference::run(&d, &ir);
        assert_eq!(out.weights.len(), expected.len());
        for (i, (a, b)) in out.weights.iter().zip(&expected).enumerate() {
            assert!(
                a.to_bits() == b.to_bits(),
                "seed {seed}: weights[{i}] (day {}) {a} != {b}\n{ir}",
                i / out.tickers.len()
            );
        }
    }
}

// ------------------------------------------------------------------------------------ deep trees

/// `blocks` nested `weight-equal [if (rsi SPY 10 > 1) [...] else [BIL]]` levels around `asset SPY`,
/// as the DSL compiles them.
fn nested_ifs(blocks: usize) -> String {
    let mut node = asset("SPY").to_string();
    for _ in 0..blocks {
        node = format!(
            r#"{{"type":"weight-equal","children":[{{"type":"if","cond":{{"op":">","left":{{"fn":"rsi","ticker":"SPY","window":10}},"right":1}},"then":[{node}],"else":[{{"type":"asset","ticker":"BIL"}}]}}]}}"#
        );
    }
    format!(r#"{{"version":1,"kind":"symphony","name":"deep","tickers":["BIL","SPY"],"root":{node}}}"#)
}

/// `f` on a thread with the stack the engine's threads have.
fn on_engine_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(tickforge_core::THREAD_STACK_BYTES)
        .spawn(f)
        .expect("thread")
        .join()
        .expect("no panic")
}

#[test]
fn deep_trees_parse_and_run() {
    let d = walk_data(2, 60, 7);
    let d = DailyData::new(
        d.dates().to_vec(),
        vec!["BIL".into(), "SPY".into()],
        (0..2).map(|k| d.open(k).to_vec()).collect(),
        (0..2).map(|k| d.close(k).to_vec()).collect(),
    )
    .expect("valid data");
    // 40 blocks nest 4 * 40 + 2 = 162 levels (beyond serde_json's default limit of 128).
    let json = nested_ifs(40);
    let shallow = SymphonyProgram::from_json(&json);
    assert!(shallow.is_ok(), "{:?}", shallow.err());
    let out = run_symphonies_json(
        &d,
        &[json.clone(), json],
        &["{}".to_string()],
        &SymphonyBatchOptions {
            threads: 2,
            cancel: None,
        },
    );
    let a = out[0].as_ref().expect("runs");
    let b = out[1].as_ref().expect("runs");
    assert_same_output(a, b);
    // Near the bound: 511 blocks nest 4 * 511 + 2 = 2046 levels, on the engine's stack.
    let deepest = on_engine_stack(move || {
        let json = nested_ifs(511);
        let program = SymphonyProgram::from_json(&json).map_err(|e| e.to_string())?;
        run_symphony(&d, &program, &SymphonyConfig::default(), None).map_err(|e| e.to_string())
    });
    assert!(deepest.is_ok(), "{:?}", deepest.err());
}

#[test]
fn documents_deeper_than_the_bound_are_rejected_before_parsing() {
    let deep = format!(
        r#"{{"version":1,"kind":"symphony","name":"x","tickers":["A"],"root":{}1{}}}"#,
        "[".repeat(3000),
        "]".repeat(3000)
    );
    let e = SymphonyProgram::from_json(&deep).expect_err("rejected");
    assert_eq!(e.path, "symphony");
    assert!(e.message.contains("deeper than 2048 levels"), "{}", e.message);
    assert_eq!(tickforge_core::symphony::MAX_DEPTH, 2048);
    // Exactly at the bound the document parses (and fails on its content instead).
    let at_bound = format!(
        r#"{{"version":1,"kind":"symphony","name":"x","tickers":["A"],"root":{}1{}}}"#,
        "[".repeat(2047),
        "]".repeat(2047)
    );
    let e = on_engine_stack(move || SymphonyProgram::from_json(&at_bound).expect_err("rejected"));
    assert_eq!(e.path, "root");
    // Brackets inside strings do not count.
    let quoted = format!(
        r#"{{"version":1,"kind":"symphony","name":"{}\"{}","tickers":["A"],"root":{{"type":"asset","ticker":"A"}}}}"#,
        "[".repeat(3000),
        "{".repeat(10)
    );
    assert!(SymphonyProgram::from_json(&quoted).is_ok());
}
