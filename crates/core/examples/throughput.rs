//! Release-mode throughput of the reference strategy (RSI(14) on M5, envelope(20, 2%) on M30,
//! decisions at M5 closes, SL 20 / TP 40 pips) over 10 million synthetic EURUSD ticks.
//!
//! `cargo run --release -p tickforge-core --example throughput`

// The figure is the output of this program.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::time::Instant;
mod common;

use common::{reference_ticks, REFERENCE, TICKS};
use tickforge_core::{compile, run, MarketData, RunConfig, Strategy};

fn main() {
    let data = reference_ticks();
    memory_floor(&data);
    measure(&data, "reference", REFERENCE);
    // On this data the 2% envelope is never reached; a 0.1% one trades, which exercises the
    // open-position path (exit checks on every tick) as well.
    measure(
        &data,
        "envelope 0.1%",
        &REFERENCE.replace("\"percent\": 2.0", "\"percent\": 0.1"),
    );
}

fn measure(data: &MarketData, label: &str, ir: &str) {
    let strategy = Strategy::from_json(ir).expect("strategy");
    let program = compile(&strategy, &BTreeMap::new()).expect("compiles");
    let config = RunConfig::default();
    let mut best = f64::INFINITY;
    let mut trades = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let out = run(data, &program, &config).expect("runs");
        best = best.min(started.elapsed().as_secs_f64());
        trades = out.trades.len();
    }
    eprintln!(
        "{label}: {TICKS} ticks, {trades} trades, best of 5 runs {:.1} ms, {:.1} million ticks/s",
        best * 1000.0,
        TICKS as f64 / best / 1e6
    );
}

/// The floor under any tick loop: reading the time, bid and ask columns once, with the least work
/// per element that keeps the reads from being optimized away.
fn memory_floor(data: &MarketData) {
    let MarketData::Ticks(t) = data else { return };
    let mut best = f64::INFINITY;
    let mut sink = 0.0;
    for _ in 0..5 {
        let started = Instant::now();
        let mut acc = 0.0;
        for i in 0..t.time.len() {
            acc += t.time[i] + t.bid[i] + t.ask[i];
        }
        sink += acc;
        best = best.min(started.elapsed().as_secs_f64());
    }
    eprintln!(
        "memory floor (sum of 3 columns): {:.1} ms, {:.1} M ticks/s, {:.1} GB/s [{}]",
        best * 1e3,
        t.time.len() as f64 / best / 1e6,
        (t.time.len() * 24) as f64 / best / 1e9,
        sink.is_finite()
    );
}
