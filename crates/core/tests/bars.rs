//! Bars: UTC buckets, gaps, aggregation from closed base bars, warmup before `start`.

mod common;

use common::*;
use serde_json::json;
use tickforge_core::bars::{aggregate, render_ticks};
use tickforge_core::{MarketData, TickData, Timeframe};

fn tick_data(data: &MarketData) -> &TickData {
    match data {
        MarketData::Ticks(t) => t,
        MarketData::Bars(_) => unreachable!("tick data"),
    }
}

#[test]
fn bars_open_on_utc_buckets_of_their_timeframe() {
    let data = ticks(&[
        (T0 + 3.0 * MIN + 17.0 * SEC, 1.1, 1.1002),
        (T0 + 4.0 * MIN + 59.0 * SEC, 1.1004, 1.1006),
        (T0 + 5.0 * MIN, 1.0999, 1.1001),
        (T0 + 7.0 * MIN, 1.1001, 1.1003),
    ]);
    let m5 = render_ticks(tick_data(&data), Timeframe::M5);
    assert_eq!(m5.len(), 2);
    assert_eq!(
        (m5[0].time, m5[0].open, m5[0].high, m5[0].low, m5[0].close),
        (T0, 1.1, 1.1004, 1.1, 1.1004)
    );
    assert_eq!(m5[0].volume, 2.0);
    assert_eq!(
        (m5[1].time, m5[1].open, m5[1].close, m5[1].low),
        (T0 + 5.0 * MIN, 1.0999, 1.1001, 1.0999)
    );
    let h1 = render_ticks(tick_data(&data), Timeframe::H1);
    assert_eq!((h1.len(), h1[0].time, h1[0].volume), (1, T0, 4.0));
}

#[test]
fn gaps_make_no_bars() {
    let data = ticks(&[
        (T0 + 5.0 * SEC, 1.1, 1.1002),
        (T0 + MIN, 1.1001, 1.1003),
        (T0 + 21.0 * MIN, 1.1, 1.1002),
    ]);
    let m5 = render_ticks(tick_data(&data), Timeframe::M5);
    let times: Vec<f64> = m5.iter().map(|b| b.time).collect();
    assert_eq!(times, vec![T0, T0 + 20.0 * MIN]);
}

#[test]
fn volume_is_the_tick_count_or_the_summed_column() {
    let with_volume = TickData::new(
        vec![T0, T0 + SEC, T0 + MIN],
        vec![1.1, 1.1, 1.1],
        vec![1.1002, 1.1002, 1.1002],
        Some(vec![2.5, 1.0, 4.0]),
    )
    .unwrap();
    let m1 = render_ticks(&with_volume, Timeframe::M1);
    assert_eq!((m1[0].volume, m1[1].volume), (2.5 + 1.0, 4.0));
}

#[test]
fn aggregating_closed_base_bars_equals_building_from_the_ticks() {
    for seed in [1, 2] {
        let data = generated(seed, 4.0);
        let ticks = tick_data(&data);
        for (i, &small) in Timeframe::ALL.iter().enumerate() {
            let base = render_ticks(ticks, small);
            for &large in &Timeframe::ALL[i + 1..] {
                assert_eq!(
                    aggregate(&base, large),
                    render_ticks(ticks, large),
                    "{small} -> {large}"
                );
            }
        }
    }
}

#[test]
fn the_base_timeframe_does_not_change_what_a_larger_one_sees() {
    // Decisions at M5 closes read M30 bars and an M30 worker; a dummy M1 worker moves the base
    // from M5 to M1, which changes how the M30 bars are built but not the bars themselves.
    let data = generated(5, 3.0);
    let mut strategy = reference(0.05);
    strategy["rules"][0]["when"]["args"]
        .as_array_mut()
        .unwrap()
        .push(op(
            ">",
            vec![
                json!({ "bar": "close", "timeframe": "M30", "offset": 1 }),
                0.into(),
            ],
        ));
    let on_m5 = run_ok(&data, &strategy, &config(|_| {}));
    strategy["workers"].as_array_mut().unwrap().push(json!(
        { "id": "unused", "kind": "ema", "timeframe": "M1", "params": { "period": 3 } }
    ));
    let on_m1 = run_ok(&data, &strategy, &config(|_| {}));
    assert!(
        on_m5.trades.len() > 5,
        "the strategy trades ({})",
        on_m5.trades.len()
    );
    assert_eq!(on_m5.trades, on_m1.trades);
    assert_eq!(on_m5.equity, on_m1.equity);
}

fn sma_buyer() -> serde_json::Value {
    json!({
        "version": 1,
        "decision": { "timeframe": "M1" },
        "workers": [{ "id": "sma", "kind": "sma", "timeframe": "M1", "params": { "period": 5 } }],
        "rules": [{
            "when": op("and", vec![flat(), op(">", vec![json!({ "worker": "sma" }), 0.into()])]),
            "then": [{ "action": "buy", "lots": 1 }]
        }]
    })
}

#[test]
fn warmup_primes_workers_before_start_without_trading_or_sampling() {
    let rows: Vec<_> = (0..90)
        .map(|i| (T0 + f64::from(i) * 20.0 * SEC, 1.1, 1.1002))
        .collect();
    let start = T0 + 10.0 * MIN;
    let cfg = config(|c| c.start = Some(start));

    let warmed = run_ok(&ticks(&rows), &sma_buyer(), &cfg);
    // The SMA had ten closed bars by `start`: the first decision at `start` already trades.
    assert_eq!(warmed.trades[0].entry_time, start);
    assert_eq!(warmed.equity.time[0], start - MIN);
    assert_eq!(warmed.events, 90);

    let cold_rows: Vec<_> = rows.iter().copied().filter(|r| r.0 >= start).collect();
    let cold = run_ok(&ticks(&cold_rows), &sma_buyer(), &cfg);
    // Without warmup the SMA needs five closes after `start`.
    assert_eq!(cold.trades[0].entry_time, start + 5.0 * MIN);
}

#[test]
fn nothing_trades_when_every_event_is_before_start() {
    let rows: Vec<_> = (0..10)
        .map(|i| (T0 + f64::from(i) * 20.0 * SEC, 1.1, 1.1002))
        .collect();
    let cfg = config(|c| c.start = Some(T0 + 10.0 * MIN));
    let out = run_ok(&ticks(&rows), &sma_buyer(), &cfg);
    assert!(out.trades.is_empty() && out.equity.time.is_empty());
    assert_eq!(out.events, 10);
}
