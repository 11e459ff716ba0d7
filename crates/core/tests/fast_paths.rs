//! The engine skips work no rule can read: runs of quiet ticks and bars are scanned many lanes at
//! a time, rules whose gate is false are not evaluated, and unread history is not kept. A
//! profiled run takes the plain path, one event at a time through every step, so the two must
//! agree to the bit on every strategy: these tests draw random strategies, data and settings and
//! compare them.

mod common;

use common::{op, MIN, T0};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tickforge_core::config::FillAt;
use tickforge_core::generate::{generate_ticks, Sfc32, TickGenOptions};
use tickforge_core::{compile, run, MarketData, RunConfig, RunOutput, Strategy, TickData, Timeframe};

struct Rng(Sfc32);

impl Rng {
    fn new(seed: u32) -> Self {
        Rng(Sfc32::new(seed))
    }
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u32() as usize) % n
    }
    fn chance(&mut self, p: f64) -> bool {
        f64::from(self.0.next_u32()) / 4_294_967_296.0 < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * f64::from(self.0.next_u32()) / 4_294_967_296.0
    }
}

/// Timeframes at least as large as `base`, in minutes.
fn frames_from(base: &str) -> Vec<&'static str> {
    const ALL: [(&str, u32); 5] = [("M1", 1), ("M5", 5), ("M15", 15), ("M30", 30), ("H1", 60)];
    let min = ALL.iter().find(|f| f.0 == base).expect("known frame").1;
    ALL.iter().filter(|f| f.1 >= min).map(|f| f.0).collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Scale {
    /// On the price's scale (moving averages, bands): compared with bars and quotes.
    Price,
    /// 0..100 (RSI).
    Oscillator,
    /// Small positive (ATR) or around zero (MACD).
    Small,
}

struct Worker {
    id: String,
    output: Option<&'static str>,
    scale: Scale,
}

fn random_workers(
    rng: &mut Rng,
    decision: &str,
    params: &mut serde_json::Map<String, Value>,
) -> (Vec<Value>, Vec<Worker>) {
    let frames = frames_from(decision);
    let count = 1 + rng.below(4);
    let mut specs = Vec::new();
    let mut refs = Vec::new();
    for i in 0..count {
        let id = format!("w{i}");
        // The decision frame most of the time, so the fast lanes see base-frame workers.
        let timeframe = if rng.chance(0.6) {
            decision
        } else {
            *rng.pick(&frames)
        };
        let period = json!(2 + rng.below(20));
        let period = if rng.chance(0.3) {
            let name = format!("p{i}");
            params.insert(
                name.clone(),
                json!({ "default": period, "type": "int", "min": 1 }),
            );
            json!({ "param": name })
        } else {
            period
        };
        let (kind, p, output, scale) = match rng.below(7) {
            0 => ("sma", json!({ "period": period }), None, Scale::Price),
            1 => (
                "ema",
                json!({ "period": period, "source": *rng.pick(&["close", "high", "low"]) }),
                None,
                Scale::Price,
            ),
            2 => ("rsi", json!({ "period": period }), None, Scale::Oscillator),
            3 => ("atr", json!({ "period": period }), None, Scale::Small),
            4 => (
                "bollinger",
                json!({ "period": period, "deviations": rng.range(0.5, 2.5) }),
                Some(*rng.pick(&["upper", "middle", "lower"])),
                Scale::Price,
            ),
            5 => (
                "envelope",
                json!({ "period": period, "percent": rng.range(0.01, 0.2) }),
                Some(*rng.pick(&["upper", "middle", "lower"])),
                Scale::Price,
            ),
            _ => (
                "macd",
                json!({ "fast": 3, "slow": 8, "signal": 4 }),
                Some(*rng.pick(&["macd", "signal", "hist"])),
                Scale::Small,
            ),
        };
        specs.push(json!({ "id": id, "kind": kind, "timeframe": timeframe, "params": p }));
        refs.push(Worker { id, output, scale });
    }
    (specs, refs)
}

fn worker_ref(w: &Worker, offset: usize) -> Value {
    let mut v = json!({ "worker": w.id });
    if let Some(o) = w.output {
        v["output"] = json!(o);
    }
    if offset > 0 {
        v["offset"] = json!(offset);
    }
    v
}

const CMPS: [&str; 6] = ["<", "<=", ">", ">=", "==", "!="];

/// One conjunct of a rule's condition.
fn conjunct(rng: &mut Rng, workers: &[Worker], decision: &str) -> Value {
    let w = rng.pick(workers);
    let offset = if rng.chance(0.2) { 1 + rng.below(2) } else { 0 };
    let cmp = *rng.pick(&CMPS[..4]);
    match rng.below(12) {
        0 | 1 => op(
            "==",
            vec![json!({ "position": "side" }), json!(*rng.pick(&[0, 1, -1]))],
        ),
        2 | 3 => match w.scale {
            Scale::Price => op(cmp, vec![json!({ "bar": "close" }), worker_ref(w, offset)]),
            Scale::Oscillator => {
                let level = rng.range(25.0, 75.0).round();
                // A constant on either side exercises both orders of the fused comparison.
                if rng.chance(0.5) {
                    op(cmp, vec![worker_ref(w, offset), json!(level)])
                } else {
                    op(cmp, vec![json!(level), worker_ref(w, offset)])
                }
            }
            Scale::Small => op(
                cmp,
                vec![worker_ref(w, offset), json!(*rng.pick(&[0.0, 0.0002, -0.0001]))],
            ),
        },
        4 => {
            let same: Vec<&Worker> = workers.iter().filter(|x| x.scale == w.scale).collect();
            let v = rng.pick(&same);
            let name = *rng.pick(&["crossAbove", "crossBelow"]);
            if w.scale == Scale::Price && rng.chance(0.5) {
                op(name, vec![json!({ "bar": "close" }), worker_ref(w, 0)])
            } else {
                op(name, vec![worker_ref(w, 0), worker_ref(v, 0)])
            }
        }
        5 => {
            let field = *rng.pick(&["bid", "ask", "mid"]);
            match w.scale {
                Scale::Price => op(cmp, vec![json!({ "quote": field }), worker_ref(w, 0)]),
                _ => op(cmp, vec![json!({ "quote": "spread" }), json!(0.0002)]),
            }
        }
        6 => {
            let field = *rng.pick(&["hour", "minute", "weekday", "minuteOfDay"]);
            let level = match field {
                "hour" => rng.below(24),
                "minute" => rng.below(60),
                "weekday" => rng.below(7),
                _ => rng.below(1440),
            };
            op(cmp, vec![json!({ "time": field }), json!(level)])
        }
        7 => op(
            cmp,
            vec![
                json!({ "position": "pnlPips" }),
                json!(rng.range(-15.0, 15.0).round()),
            ],
        ),
        8 => {
            let frames = frames_from(decision);
            let tf = *rng.pick(&frames);
            let field = *rng.pick(&["open", "high", "low", "close"]);
            let forming = json!({ "forming": field, "timeframe": tf });
            match w.scale {
                Scale::Price => op(cmp, vec![forming, worker_ref(w, 0)]),
                _ => op(cmp, vec![forming, json!({ "bar": "open", "offset": 1 })]),
            }
        }
        9 => op(
            cmp,
            vec![
                json!({ "account": *rng.pick(&["balance", "equity"]) }),
                json!(10_000),
            ],
        ),
        10 => op(
            "or",
            vec![
                op(
                    cmp,
                    vec![json!({ "bar": "high" }), json!({ "bar": "high", "offset": 1 })],
                ),
                op("==", vec![json!({ "position": "side" }), json!(0)]),
            ],
        ),
        _ => op(
            cmp,
            vec![
                op("-", vec![json!({ "bar": "close" }), json!({ "bar": "open" })]),
                op(
                    "*",
                    vec![
                        json!(0.5),
                        op("abs", vec![json!({ "bar": "close", "offset": 1 })]),
                    ],
                ),
            ],
        ),
    }
}

fn random_action(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 | 1 => json!({ "action": "close" }),
        2 => json!({ "action": "cancel" }),
        _ => {
            let side = *rng.pick(&["buy", "sell"]);
            let mut a = json!({ "action": side, "lots": *rng.pick(&[0.5, 1.0, 2.0]) });
            if rng.chance(0.5) {
                a["sl"] = json!({ "pips": rng.range(5.0, 30.0).round() });
            }
            if rng.chance(0.5) {
                a["tp"] = json!({ "pips": rng.range(5.0, 40.0).round() });
            }
            if rng.chance(0.2) {
                a["trail"] = json!({ "pips": rng.range(5.0, 20.0).round() });
            }
            if rng.chance(0.2) {
                // A limit a few pips through the market, so some fill and some wait.
                let away = if side == "buy" { -0.0003 } else { 0.0003 };
                a["order"] = json!("limit");
                a["price"] = op("+", vec![json!({ "bar": "close" }), json!(away)]);
            }
            a
        }
    }
}

fn random_strategy(rng: &mut Rng, decision: &str, on: &str) -> Value {
    let mut params = serde_json::Map::new();
    let (workers, refs) = random_workers(rng, decision, &mut params);
    let rules: Vec<Value> = (0..1 + rng.below(4))
        .map(|_| {
            let n = 1 + rng.below(4);
            let parts: Vec<Value> = (0..n).map(|_| conjunct(rng, &refs, decision)).collect();
            let when = if n == 1 {
                parts[0].clone()
            } else {
                op("and", parts)
            };
            let then: Vec<Value> = (0..1 + rng.below(2)).map(|_| random_action(rng)).collect();
            json!({ "when": when, "then": then })
        })
        .collect();
    json!({
        "version": 1,
        "params": params,
        "decision": { "timeframe": decision, "on": on },
        "workers": workers,
        "rules": rules,
    })
}

/// `random_config` over the span of generated bars, one minute past the last.
fn bar_config(rng: &mut Rng, data: &MarketData) -> RunConfig {
    match data {
        MarketData::Bars(b) => random_config(rng, b.time[0], *b.time.last().expect("bars") + MIN),
        MarketData::Ticks(_) => unreachable!("bar cases generate bars"),
    }
}

fn random_config(rng: &mut Rng, first: f64, last: f64) -> RunConfig {
    let fill_at = if rng.chance(0.5) {
        FillAt::Open
    } else {
        FillAt::Close
    };
    let mut c = RunConfig {
        fill_at,
        ..RunConfig::default()
    };
    c.instrument.spread_pips = *rng.pick(&[0.0, 1.0, 2.5]);
    c.instrument.commission_per_lot = *rng.pick(&[0.0, 3.5]);
    if rng.chance(0.4) {
        c.start = Some(first + (last - first) * rng.range(0.0, 0.5));
    }
    if rng.chance(0.3) {
        c.end = Some(first + (last - first) * rng.range(0.6, 1.0));
    }
    c
}

/// Everything a run returns but its timings, in a form where NaN equals NaN and -0 differs from 0.
fn fingerprint(out: &RunOutput) -> String {
    format!(
        "events {}\ntrades {:?}\nrejections {:?}\nequity {:?}\nmetrics {:?}",
        out.events, out.trades, out.rejections, out.equity, out.metrics
    )
}

fn assert_paths_agree(data: &MarketData, strategy: &Value, config: &RunConfig, label: &str) -> usize {
    let parsed = Strategy::from_json(&strategy.to_string()).expect("strategy parses");
    let program = compile(&parsed, &BTreeMap::new()).expect("strategy compiles");
    let fast = run(data, &program, config).expect("run succeeds");
    let plain = run(
        data,
        &program,
        &RunConfig {
            profile: true,
            ..config.clone()
        },
    )
    .expect("profiled run succeeds");
    let (a, b) = (fingerprint(&fast), fingerprint(&plain));
    if a != b {
        let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
        panic!(
            "{label}: the fast path and the plain path differ (section {line})\nstrategy: {strategy}\nfast:  {}\nplain: {}",
            a.lines().nth(line).unwrap_or("").chars().take(2000).collect::<String>(),
            b.lines().nth(line).unwrap_or("").chars().take(2000).collect::<String>()
        );
    }
    fast.trades.len()
}

/// Cases per test: `FAST_PATH_CASES=2000 cargo test --release --test fast_paths` for a longer search.
fn cases(default: u32) -> u32 {
    std::env::var("FAST_PATH_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn tick_data(seed: u32, days: f64) -> MarketData {
    let c = generate_ticks(&TickGenOptions {
        start: T0,
        days,
        seed,
        start_price: 1.1,
        digits: 5,
        mean_interval_ms: 2_000.0,
        step_points: 4.0,
    });
    MarketData::Ticks(TickData::new(c.time, c.bid, c.ask, None).expect("valid ticks"))
}

#[test]
fn tick_mode_fast_path_equals_the_plain_path() {
    let mut rng = Rng::new(0x7e57_0001);
    let mut trades = 0;
    for case in 0..cases(200) {
        let data = tick_data(1_000 + case, rng.range(0.3, 1.2));
        let decision = *rng.pick(&["M1", "M5", "M15"]);
        let on = if rng.chance(0.5) { "tick" } else { "bar" };
        let strategy = random_strategy(&mut rng, decision, on);
        let (first, last) = match &data {
            MarketData::Ticks(t) => (t.time[0], *t.time.last().expect("ticks")),
            MarketData::Bars(_) => unreachable!(),
        };
        let config = random_config(&mut rng, first, last);
        trades += assert_paths_agree(&data, &strategy, &config, &format!("tick case {case}"));
    }
    // The cases must trade, or they compare nothing but warmup.
    assert!(trades > 200, "only {trades} trades over all cases");
}

#[test]
fn bar_mode_fast_path_equals_the_plain_path() {
    let mut rng = Rng::new(0x7e57_0002);
    let mut trades = 0;
    for case in 0..cases(300) {
        let (tf, base) = *rng.pick(&[(Timeframe::parse("M1"), "M1"), (Timeframe::parse("M5"), "M5")]);
        let tf = tf.expect("known frame");
        let data = common::generated_bars(tf, 500 + rng.below(4_000), 2_000 + case);
        let frames = frames_from(base);
        // Mostly the data's own frame: decisions on every bar are what the lane scan serves.
        let decision = if rng.chance(0.6) {
            base
        } else {
            *rng.pick(&frames[..frames.len().min(3)])
        };
        let on = if rng.chance(0.3) { "tick" } else { "bar" };
        let strategy = random_strategy(&mut rng, decision, on);
        let config = bar_config(&mut rng, &data);
        trades += assert_paths_agree(&data, &strategy, &config, &format!("bar case {case}"));
    }
    assert!(trades > 500, "only {trades} trades over all cases");
}

/// The shape most grids run: a cross of two base-frame averages gated by the position's side,
/// read at random offsets, with or without the side test, next to limit orders and a rule that
/// cancels them (whose gate opens only while an order is pending).
fn cross_strategy(rng: &mut Rng, decision: &str) -> Value {
    let kinds = ["sma", "ema"];
    let workers: Vec<Value> = (0..2)
        .map(|i| {
            let period = if i == 0 {
                2 + rng.below(8)
            } else {
                6 + rng.below(30)
            };
            json!({ "id": format!("w{i}"), "kind": *rng.pick(&kinds), "timeframe": decision,
                    "params": { "period": period } })
        })
        .collect();
    let refs: Vec<Worker> = (0..2)
        .map(|i| Worker {
            id: format!("w{i}"),
            output: None,
            scale: Scale::Price,
        })
        .collect();
    let offset = |rng: &mut Rng| if rng.chance(0.3) { 1 + rng.below(3) } else { 0 };
    let cross = |rng: &mut Rng, name: &str| {
        let (a, b) = (offset(rng), offset(rng));
        op(name, vec![worker_ref(&refs[0], a), worker_ref(&refs[1], b)])
    };
    let gated = |rng: &mut Rng, side: i32, cond: Value| {
        if rng.chance(0.7) {
            op(
                "and",
                vec![op("==", vec![json!({ "position": "side" }), json!(side)]), cond],
            )
        } else {
            cond
        }
    };
    let entry = if rng.chance(0.3) {
        json!({ "action": "buy", "lots": 1.0, "order": "limit",
                "price": op("-", vec![json!({ "bar": "close" }), json!(0.0002)]) })
    } else {
        json!({ "action": "buy", "lots": 1.0 })
    };
    let (up, down) = (cross(rng, "crossAbove"), cross(rng, "crossBelow"));
    let mut rules = vec![
        json!({ "when": gated(rng, 0, up), "then": [entry] }),
        json!({ "when": gated(rng, 1, down), "then": [{ "action": "close" }] }),
    ];
    if rng.chance(0.5) {
        rules.push(
            json!({ "when": op("==", vec![json!({ "position": "side" }), json!(0)]),
                           "then": [{ "action": "cancel" }] }),
        );
    }
    json!({
        "version": 1,
        "params": {},
        "decision": { "timeframe": decision, "on": "bar" },
        "workers": workers,
        "rules": rules,
    })
}

#[test]
fn cross_scans_equal_the_plain_path() {
    let mut rng = Rng::new(0x7e57_0003);
    let mut trades = 0;
    for case in 0..cases(150) {
        let (tf, base) = *rng.pick(&[(Timeframe::parse("M1"), "M1"), (Timeframe::parse("M5"), "M5")]);
        let data = common::generated_bars(tf.expect("known frame"), 200 + rng.below(3_000), 5_000 + case);
        let strategy = cross_strategy(&mut rng, base);
        let config = bar_config(&mut rng, &data);
        trades += assert_paths_agree(&data, &strategy, &config, &format!("cross case {case}"));
    }
    assert!(trades > 1_000, "only {trades} trades over all cases");
}
