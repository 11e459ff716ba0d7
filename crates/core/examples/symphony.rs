//! Release-mode throughput of symphonies: 50 generated allocation trees over 2,520 days of 20
//! seeded tickers, on one thread and on every thread.
//!
//! `cargo run --release -p tickforge-core --example symphony`

// The figures are the output of this program.
#![allow(clippy::print_stderr)]

use serde_json::{json, Value};
use std::time::Instant;
use tickforge_core::generate::Sfc32;
use tickforge_core::symphony::{run_symphonies_json, DailyData, SymphonyBatchOptions};

const DAYS: usize = 2_520;
const TICKERS: usize = 20;
const FILES: usize = 50;
const DAY: f64 = 86_400_000.0;
/// 2015-01-01 00:00:00 UTC.
const START: f64 = 1_420_070_400_000.0;

/// A seeded walk per ticker (daily steps within +-2%), ticker `k` listed from day `k * 20`.
fn data() -> DailyData {
    let mut rng = Sfc32::new(2024);
    let dates: Vec<f64> = (0..DAYS).map(|t| START + t as f64 * DAY).collect();
    let mut open = Vec::with_capacity(TICKERS);
    let mut close = Vec::with_capacity(TICKERS);
    for k in 0..TICKERS {
        let (mut o, mut c) = (vec![f64::NAN; DAYS], vec![f64::NAN; DAYS]);
        let mut p = 20.0 + 5.0 * k as f64;
        for t in k * 20..DAYS {
            o[t] = p * (1.0 + (f64::from(rng.next_u32() % 201) - 100.0) / 20_000.0);
            p *= 1.0 + (f64::from(rng.next_u32() % 4001) - 2000.0) / 100_000.0;
            c[t] = p;
        }
        open.push(o);
        close.push(c);
    }
    let names = (0..TICKERS).map(|k| format!("T{k:02}")).collect();
    DailyData::new(dates, names, open, close).expect("valid data")
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
const WINDOWS: [u32; 8] = [5, 10, 14, 20, 21, 50, 60, 200];

fn pick(rng: &mut Sfc32, n: usize) -> usize {
    rng.next_u32() as usize % n
}

fn ticker(rng: &mut Sfc32) -> String {
    format!("T{:02}", pick(rng, TICKERS))
}

fn window(rng: &mut Sfc32) -> u32 {
    WINDOWS[pick(rng, WINDOWS.len())]
}

fn children(rng: &mut Sfc32, n: usize, depth: u32) -> Vec<Value> {
    (0..n).map(|_| node(rng, depth - 1)).collect()
}

/// A Composer-like tree: conditions on moving averages, RSI and returns near the top, filters
/// and weightings below them.
fn node(rng: &mut Sfc32, depth: u32) -> Value {
    if depth == 0 || pick(rng, 6) == 0 {
        return json!({ "type": "asset", "ticker": ticker(rng) });
    }
    match pick(rng, 7) {
        0 => {
            let n = 2 + pick(rng, 3);
            json!({ "type": "weight-equal", "children": children(rng, n, depth) })
        }
        1 => {
            let n = 2 + pick(rng, 2);
            let weights: Vec<u32> = (0..n).map(|_| 10 * (1 + rng.next_u32() % 9)).collect();
            json!({ "type": "weight-specified", "weights": weights, "children": children(rng, n, depth) })
        }
        2 => {
            let n = 2 + pick(rng, 3);
            json!({ "type": "weight-inverse-volatility", "window": window(rng), "children": children(rng, n, depth) })
        }
        3 => {
            let n = 3 + pick(rng, 5);
            let kids: Vec<Value> = (0..n)
                .map(|_| {
                    if pick(rng, 3) == 0 {
                        node(rng, depth - 1)
                    } else {
                        json!({ "type": "asset", "ticker": ticker(rng) })
                    }
                })
                .collect();
            json!({ "type": "filter", "fn": FNS[pick(rng, FNS.len())], "window": window(rng),
                    "select": if pick(rng, 2) == 0 { "top" } else { "bottom" },
                    "count": 1 + pick(rng, 3), "children": kids })
        }
        4 => {
            let n = 1 + pick(rng, 3);
            json!({ "type": "group", "name": format!("group {}", pick(rng, 10)), "children": children(rng, n, depth) })
        }
        _ => {
            let f = FNS[pick(rng, FNS.len())];
            let left = json!({ "fn": f, "ticker": ticker(rng), "window": window(rng) });
            let right = if pick(rng, 2) == 0 {
                json!(match f {
                    "rsi" => 30 + pick(rng, 40) as u32,
                    "moving-average-return" | "cumulative-return" => pick(rng, 10) as u32,
                    _ => 1 + pick(rng, 20) as u32,
                })
            } else {
                json!({ "fn": f, "ticker": ticker(rng), "window": window(rng) })
            };
            let then = children(rng, 1, depth);
            let otherwise = children(rng, 1, depth);
            json!({ "type": "if", "cond": { "op": if pick(rng, 2) == 0 { ">" } else { "<" }, "left": left, "right": right },
                    "then": then, "else": otherwise })
        }
    }
}

fn collect(v: &Value, tickers: &mut Vec<String>, nodes: &mut usize) {
    match v {
        Value::Object(map) => {
            if map.contains_key("type") {
                *nodes += 1;
            }
            if let Some(Value::String(t)) = map.get("ticker") {
                tickers.push(t.clone());
            }
            map.values().for_each(|x| collect(x, tickers, nodes));
        }
        Value::Array(items) => items.iter().for_each(|x| collect(x, tickers, nodes)),
        _ => {}
    }
}

fn symphony(seed: u32) -> (String, usize) {
    let mut rng = Sfc32::new(seed);
    let root = node(&mut rng, 5);
    let mut tickers = Vec::new();
    let mut nodes = 0;
    collect(&root, &mut tickers, &mut nodes);
    tickers.sort();
    tickers.dedup();
    let ir = json!({ "version": 1, "kind": "symphony", "name": format!("generated {seed}"),
                     "rebalance": "daily", "tickers": tickers, "root": root });
    (ir.to_string(), nodes)
}

fn main() {
    let data = data();
    let generated: Vec<(String, usize)> = (0..FILES as u32).map(symphony).collect();
    let nodes: usize = generated.iter().map(|g| g.1).sum();
    let programs: Vec<String> = generated.into_iter().map(|g| g.0).collect();
    let configs = vec![json!({ "fillAt": "close", "commissionPct": 0.05 }).to_string()];
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "{FILES} symphonies ({nodes} nodes, {:.1} per file) over {DAYS} days x {TICKERS} tickers",
        nodes as f64 / FILES as f64
    );
    for threads in [1, all] {
        let mut best = f64::INFINITY;
        let mut failed = 0;
        for _ in 0..5 {
            let started = Instant::now();
            let out = run_symphonies_json(
                &data,
                &programs,
                &configs,
                &SymphonyBatchOptions {
                    threads,
                    cancel: None,
                },
            );
            best = best.min(started.elapsed().as_secs_f64());
            failed = out.iter().filter(|r| r.is_err()).count();
        }
        eprintln!(
            "{threads} thread(s): best of 5 {:.1} ms, {:.2} million days x files/s{}",
            best * 1000.0,
            (DAYS * FILES) as f64 / best / 1e6,
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            }
        );
    }
}
