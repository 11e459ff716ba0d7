//! Release-mode wall time of a 200-combination grid (RSI period 5..24 x SL pips 10..28 step 2) of
//! the reference strategy over the 10 million synthetic ticks of the `throughput` example, with 1
//! and 2 threads, indicator series shared and not. For contrast, a bar-mode grid where indicator
//! updates are a larger share of the work: an EMA cross (fast 5..24 x slow 30..120) on 200,000 M1
//! bars.
//!
//! `cargo run --release -p tickforge-core --example grid`

// The figures are the output of this program.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::time::Instant;
mod common;

use common::{reference_ticks, REFERENCE, TICKS};
use tickforge_core::generate::{generate_bars, BarGenOptions};
use tickforge_core::series::{run_base, series_keys};
use tickforge_core::{
    compile, run_grid, BarData, BatchOptions, JobStatus, MarketData, RunConfig, SeriesCache, Strategy,
    Timeframe,
};

const ROUNDS: usize = 5;
const BARS: usize = 200_000;

/// EMA cross on M1 with an ATR(14) on M5 read by the rules: three indicators per job, two of them
/// on grid parameters.
const EMA_CROSS: &str = r#"{
  "version": 1,
  "name": "ema-cross",
  "params": { "fast": { "default": 12, "type": "int", "min": 1 }, "slow": { "default": 48, "type": "int", "min": 2 } },
  "decision": { "timeframe": "M1", "on": "bar" },
  "workers": [
    { "id": "fast", "kind": "ema", "timeframe": "M1", "params": { "period": { "param": "fast" } } },
    { "id": "slow", "kind": "ema", "timeframe": "M1", "params": { "period": { "param": "slow" } } },
    { "id": "atr", "kind": "atr", "timeframe": "M5", "params": { "period": 14 } }
  ],
  "rules": [
    { "when": { "op": "and", "args": [
        { "op": "crossAbove", "args": [{ "worker": "fast" }, { "worker": "slow" }] },
        { "op": ">", "args": [{ "worker": "atr" }, 0] } ] },
      "then": [{ "action": "buy", "lots": 1, "sl": { "pips": 20 }, "tp": { "pips": 40 } }] },
    { "when": { "op": "and", "args": [
        { "op": "crossBelow", "args": [{ "worker": "fast" }, { "worker": "slow" }] },
        { "op": ">", "args": [{ "worker": "atr" }, 0] } ] },
      "then": [{ "action": "sell", "lots": 1, "sl": { "pips": 20 }, "tp": { "pips": 40 } }] }
  ]
}"#;

fn grid(a: (&str, Vec<u32>), b: (&str, Vec<u32>)) -> Vec<BTreeMap<String, f64>> {
    let mut combos = Vec::new();
    for &x in &a.1 {
        for &y in &b.1 {
            let mut c = BTreeMap::new();
            c.insert(a.0.to_string(), f64::from(x));
            c.insert(b.0.to_string(), f64::from(y));
            combos.push(c);
        }
    }
    combos
}

fn main() {
    let ticks = reference_ticks();
    let reference_grid = grid(
        ("rsiPeriod", (5..=24).collect()),
        ("slPips", (10..=28).step_by(2).collect()),
    );
    let reference = Strategy::from_json(REFERENCE).expect("strategy");
    measure("ticks, envelope 2%", &ticks, &reference, &reference_grid, TICKS);
    // On this data the 2% envelope is never reached; 0.1% trades.
    let trading =
        Strategy::from_json(&REFERENCE.replace("\"percent\": 2.0", "\"percent\": 0.1")).expect("strategy");
    measure("ticks, envelope 0.1%", &ticks, &trading, &reference_grid, TICKS);
    drop(ticks);

    let b = generate_bars(&BarGenOptions {
        timeframe: Timeframe::M1,
        start: 1_704_067_200_000.0,
        count: BARS,
        seed: 7,
        start_price: 1.1,
        digits: 5,
        step_points: 3.0,
    });
    let bars = MarketData::Bars(
        BarData::new(Timeframe::M1, b.time, b.open, b.high, b.low, b.close, b.volume).expect("valid bars"),
    );
    let cross = Strategy::from_json(EMA_CROSS).expect("strategy");
    let cross_grid = grid(
        ("fast", (5..=24).collect()),
        ("slow", (30..=120).step_by(10).collect()),
    );
    measure("M1 bars, EMA cross", &bars, &cross, &cross_grid, BARS);
}

fn measure(
    label: &str,
    data: &MarketData,
    strategy: &Strategy,
    combos: &[BTreeMap<String, f64>],
    events: usize,
) {
    let config = RunConfig::default();
    // What sharing costs up front: the series of every key the grid reads.
    let programs: Vec<_> = combos
        .iter()
        .map(|c| compile(strategy, c).expect("compiles"))
        .collect();
    let keys: Vec<_> = programs.iter().flat_map(series_keys).collect();
    let mut build_ms = Vec::new();
    let mut held = 0;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let cache = SeriesCache::build(data, &config, run_base(data, &programs[0]), &keys);
        build_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        held = cache.len();
    }
    eprintln!(
        "[{label}] building the {held} shared series: median {:.1} ms",
        median(&mut build_ms)
    );

    // The settings take turns within each round, so that a slow spell of a shared machine falls
    // on all of them rather than on one.
    let settings = [(1, false), (1, true), (2, false), (2, true)];
    let mut times = vec![Vec::new(); settings.len()];
    let mut reference: Option<Vec<u64>> = None;
    let mut trades = 0;
    for _ in 0..ROUNDS {
        for (k, &(threads, share_series)) in settings.iter().enumerate() {
            let opts = BatchOptions {
                threads,
                share_series,
                ..BatchOptions::default()
            };
            let started = Instant::now();
            let results = run_grid(data, strategy, combos, &config, &opts, &|_, _| {});
            times[k].push(started.elapsed().as_secs_f64() * 1000.0);
            assert!(results.iter().all(|r| r.status == JobStatus::Completed));
            let fingerprint: Vec<u64> = results
                .iter()
                .flat_map(|r| {
                    let m = r.metrics.as_ref().expect("metrics");
                    [
                        m.final_balance.to_bits(),
                        m.sharpe.to_bits(),
                        u64::from(r.trade_count),
                    ]
                })
                .collect();
            // Every setting must give the same results; a figure for a wrong answer is no figure.
            match &reference {
                Some(r) => assert_eq!(r, &fingerprint, "results differ"),
                None => reference = Some(fingerprint),
            }
            trades = results.iter().map(|r| u64::from(r.trade_count)).sum::<u64>();
        }
    }
    for (k, &(threads, share_series)) in settings.iter().enumerate() {
        let best = times[k].iter().copied().fold(f64::INFINITY, f64::min);
        let med = median(&mut times[k]);
        eprintln!(
            "[{label}] {} combinations x {events} events, {threads} thread(s), shared series {}: \
             median {med:.0} ms, best {best:.0} ms of {ROUNDS} ({:.2} ms per job), {trades} trades in all",
            combos.len(),
            if share_series { "on " } else { "off" },
            med / combos.len() as f64,
        );
    }
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
