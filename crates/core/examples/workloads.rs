//! The three workloads of `BENCH=backtest` in Rust alone, for profilers: the reference strategy
//! and rules on every tick over 10 million ticks, and an EMA cross over one million M1 bars.
//!
//! `cargo run --release -p tickforge-core --example workloads [reference|tick|bars] [runs]`
//! `perf record -g target/release/examples/workloads bars 20` then `perf report`.
//!
//! `... --example workloads bandwidth` measures what bounds them: this machine's memory bandwidth
//! for reading, for rewriting memory already mapped, and for writing fresh pages (what a run's
//! output columns cost, page faults included), on buffers far larger than the caches.

// The figures are the output of this program.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::time::Instant;
// Only the reference strategy is used here: the ticks are the bench's own series.
#[allow(dead_code)]
mod common;

use common::REFERENCE;
use tickforge_core::generate::{generate_bars, generate_ticks, BarGenOptions, TickGenOptions};
use tickforge_core::{
    compile, run, run_grid, BarData, BatchOptions, MarketData, RunConfig, Strategy, TickData, Timeframe,
};

const EVERY_TICK: &str = r#"{
  "version": 1, "name": "tick-fade", "decision": { "timeframe": "M1", "on": "tick" },
  "workers": [{ "id": "ema", "kind": "ema", "timeframe": "M1", "params": { "period": 20 } }],
  "rules": [
    { "when": { "op": "and", "args": [
        { "op": "==", "args": [{ "position": "side" }, 0] },
        { "op": "<", "args": [{ "op": "-", "args": [{ "quote": "bid" }, { "worker": "ema" }] }, -0.0003] },
        { "op": "<", "args": [{ "quote": "spread" }, 0.00015] } ] },
      "then": [{ "action": "buy", "lots": 0.01, "sl": { "pips": 10 }, "tp": { "pips": 10 } }] },
    { "when": { "op": "and", "args": [
        { "op": "==", "args": [{ "position": "side" }, 0] },
        { "op": ">", "args": [{ "op": "-", "args": [{ "quote": "bid" }, { "worker": "ema" }] }, 0.0003] },
        { "op": "<", "args": [{ "quote": "spread" }, 0.00015] } ] },
      "then": [{ "action": "sell", "lots": 0.01, "sl": { "pips": 10 }, "tp": { "pips": 10 } }] }
  ]
}"#;

const EMA_CROSS_M1: &str = r#"{
  "version": 1, "name": "ema-cross",
  "params": { "fast": { "default": 12, "type": "int", "min": 2 }, "slow": { "default": 48, "type": "int", "min": 3 },
              "atrStop": { "default": 2.0, "min": 0.5 } },
  "decision": { "timeframe": "M1" },
  "workers": [
    { "id": "fast", "kind": "ema", "timeframe": "H1", "params": { "period": { "param": "fast" } } },
    { "id": "slow", "kind": "ema", "timeframe": "H1", "params": { "period": { "param": "slow" } } },
    { "id": "atr", "kind": "atr", "timeframe": "H4", "params": { "period": 14 } }
  ],
  "rules": [
    { "when": { "op": "crossAbove", "args": [{ "worker": "fast" }, { "worker": "slow" }] },
      "then": [{ "action": "buy", "lots": 0.1, "sl": { "price": { "op": "-", "args": [{ "quote": "ask" },
        { "op": "*", "args": [{ "param": "atrStop" }, { "worker": "atr" }] }] } } }] },
    { "when": { "op": "crossBelow", "args": [{ "worker": "fast" }, { "worker": "slow" }] },
      "then": [{ "action": "sell", "lots": 0.1, "sl": { "price": { "op": "+", "args": [{ "quote": "bid" },
        { "op": "*", "args": [{ "param": "atrStop" }, { "worker": "atr" }] }] } } }] }
  ]
}"#;

/// The grid of `BENCH=grid`: SMA(fast) against SMA(slow) on daily bars, long only, all in.
const SMA_CROSS_D1: &str = r#"{
  "version": 1, "name": "sma-cross",
  "params": { "fast": { "default": 10, "type": "int", "min": 2 }, "slow": { "default": 30, "type": "int", "min": 3 } },
  "decision": { "timeframe": "D1", "on": "bar" },
  "workers": [
    { "id": "fast", "kind": "sma", "timeframe": "D1", "params": { "period": { "param": "fast" } } },
    { "id": "slow", "kind": "sma", "timeframe": "D1", "params": { "period": { "param": "slow" } } }
  ],
  "rules": [
    { "when": { "op": "and", "args": [{ "op": "==", "args": [{ "position": "side" }, 0] },
        { "op": "crossAbove", "args": [{ "worker": "fast" }, { "worker": "slow" }] }] },
      "then": [{ "action": "buy", "lots": { "op": "/", "args": [{ "account": "equity" }, { "quote": "ask" }] } }] },
    { "when": { "op": "and", "args": [{ "op": "==", "args": [{ "position": "side" }, 1] },
        { "op": "crossBelow", "args": [{ "worker": "fast" }, { "worker": "slow" }] }] },
      "then": [{ "action": "close" }] }
  ]
}"#;

fn sma_grid(runs: usize) {
    let c = generate_bars(&BarGenOptions {
        timeframe: Timeframe::D1,
        start: 1_325_462_400_000.0,
        count: 2_978,
        seed: 42,
        start_price: 100.0,
        digits: 2,
        step_points: 20.0,
    });
    let data = MarketData::Bars(
        BarData::new(Timeframe::D1, c.time, c.open, c.high, c.low, c.close, c.volume).expect("valid bars"),
    );
    let mut combos = Vec::new();
    for fast in 2..100u32 {
        for slow in fast + 1..=100 {
            combos.push(BTreeMap::from([
                ("fast".to_string(), f64::from(fast)),
                ("slow".to_string(), f64::from(slow)),
            ]));
        }
    }
    let strategy = Strategy::from_json(SMA_CROSS_D1).expect("strategy");
    let mut config = RunConfig::default();
    config.fill_at = tickforge_core::config::FillAt::Close;
    config.instrument.contract_size = 1.0;
    config.instrument.lot_step = 1e-6;
    config.instrument.min_lot = 1e-6;
    config.instrument.margin_rate = 1.0;
    config.instrument.commission_percent = 0.1;
    config.instrument.spread_pips = 0.0;
    config.instrument.pip_size = 0.01;
    config.instrument.max_lot = 1e9;
    for threads in [1, 2] {
        // As `optimize()` calls it: a job time limit and a cancel flag, so the runs are paced.
        let opts = BatchOptions {
            threads,
            job_timeout: Some(std::time::Duration::from_secs(300)),
            cancel: Some(std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false))),
            ..BatchOptions::default()
        };
        let mut best = f64::INFINITY;
        let mut trades = 0;
        for _ in 0..runs {
            let started = Instant::now();
            let out = run_grid(&data, &strategy, &combos, &config, &opts, &|_, _| {});
            let took = started.elapsed().as_secs_f64();
            eprint!("{:.0} ms  ", took * 1e3);
            best = best.min(took);
            trades = out.iter().map(|r| r.trade_count).sum::<u32>();
        }
        eprintln!(
            "sma grid: {} combinations x 2978 bars, {threads} thread(s), {trades} trades, best of {runs} {:.1} ms ({:.1} us a job)",
            combos.len(),
            best * 1e3,
            best * 1e6 / combos.len() as f64 * threads as f64
        );
    }
}

fn ticks(n: usize) -> MarketData {
    let days = ((n as f64 / 96_000.0) * (7.0 / 5.0)).ceil() + 3.0;
    let mut c = generate_ticks(&TickGenOptions {
        start: 1_704_067_200_000.0,
        days,
        seed: 7,
        start_price: 1.1,
        digits: 5,
        mean_interval_ms: 900.0,
        step_points: 8.0,
    });
    c.time.truncate(n);
    c.bid.truncate(n);
    c.ask.truncate(n);
    MarketData::Ticks(TickData::new(c.time, c.bid, c.ask, None).expect("valid ticks"))
}

fn bars(n: usize) -> MarketData {
    let c = generate_bars(&BarGenOptions {
        timeframe: Timeframe::M1,
        start: 1_577_836_800_000.0,
        count: n,
        seed: 3,
        start_price: 1.1,
        digits: 5,
        step_points: 3.0,
    });
    let b =
        BarData::new(Timeframe::M1, c.time, c.open, c.high, c.low, c.close, c.volume).expect("valid bars");
    MarketData::Bars(b)
}

/// Best of `runs` timings of `f`, in seconds.
fn best_of(runs: usize, mut f: impl FnMut() -> f64) -> (f64, f64) {
    let mut best = f64::INFINITY;
    let mut check = 0.0;
    for _ in 0..runs {
        let started = Instant::now();
        check += f();
        best = best.min(started.elapsed().as_secs_f64());
    }
    (best, check)
}

fn bandwidth(runs: usize) {
    const BYTES: usize = 512 << 20;
    let n = BYTES / 8;
    let mut buf: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let gbs = |s: f64| BYTES as f64 / s / 1e9;
    // Integer sums of the bits vectorize, so the adds do not bound the read.
    let (read, c1) = best_of(runs, || {
        let sum = buf.iter().fold(0u64, |a, x| a.wrapping_add(x.to_bits()));
        (sum >> 40) as f64
    });
    let mut round = 0.0;
    let (rewrite, c2) = best_of(runs, || {
        round += 1.0;
        buf.fill(round);
        buf[n / 2]
    });
    drop(buf);
    let (fresh, c3) = best_of(runs, || {
        let mut v: Vec<f64> = Vec::with_capacity(n);
        v.extend(std::iter::repeat(1.5).take(n));
        std::hint::black_box(&v);
        v[n - 1]
    });
    eprintln!("bandwidth over {} MiB, best of {runs}:", BYTES >> 20);
    eprintln!("  read:               {:6.2} GB/s", gbs(read));
    eprintln!("  rewrite (mapped):   {:6.2} GB/s", gbs(rewrite));
    eprintln!("  write fresh pages:  {:6.2} GB/s", gbs(fresh));
    // A bar-mode run reads six 8-byte columns and writes three 8-byte equity columns per bar.
    let per_bar = 6.0 * 8.0 / (BYTES as f64 / read) + 3.0 * 8.0 / (BYTES as f64 / fresh);
    eprintln!(
        "  bound for a bar run (48 B read, 24 B written to fresh pages a bar): {:.0} million bars/s",
        1e-6 / per_bar
    );
    // A tick run reads three columns a tick and writes nothing a tick.
    eprintln!(
        "  bound for a tick run (24 B read a tick): {:.0} million ticks/s",
        BYTES as f64 / read / 24.0 / 1e6
    );
    std::hint::black_box(c1 + c2 + c3);
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "tick".into());
    let runs: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(7);
    if which == "bandwidth" {
        bandwidth(runs);
        return;
    }
    if which == "grid" {
        sma_grid(runs);
        return;
    }
    let (data, ir, events) = match which.as_str() {
        "reference" => (ticks(10_000_000), REFERENCE, 10_000_000),
        "bars" => (bars(1_000_000), EMA_CROSS_M1, 1_000_000),
        _ => (ticks(10_000_000), EVERY_TICK, 10_000_000),
    };
    let strategy = Strategy::from_json(ir).expect("strategy");
    let program = compile(&strategy, &BTreeMap::new()).expect("compiles");
    let config = RunConfig::default();
    let mut best = f64::INFINITY;
    let mut trades = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let out = run(&data, &program, &config).expect("runs");
        best = best.min(started.elapsed().as_secs_f64());
        trades = out.trades.len();
    }
    eprintln!(
        "{which}: {events} events, {trades} trades, best of {runs} runs {:.1} ms, {:.1} million events/s",
        best * 1000.0,
        events as f64 / best / 1e6
    );
}
