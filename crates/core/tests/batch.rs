//! Batches: grid and scenario runs on a dedicated pool, their order, determinism, isolation,
//! cancellation, and indicator series shared across a grid.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tickforge_core::bars::{aggregate, render_ticks};
use tickforge_core::indicators::Indicator;
use tickforge_core::series::{run_base, series_keys};
use tickforge_core::{
    compile, run, run_grid, run_jobs, run_with_cache, BarData, BatchOptions, Fault, JobResult, JobStatus,
    MarketData, Metrics, Program, RunConfig, RunControl, RunOutput, SeriesCache, Strategy, TickData,
    Timeframe,
};

// ------------------------------------------------------------------------------------ helpers

fn metric_bits(m: &Metrics) -> Vec<u64> {
    m.row().iter().map(|x| x.to_bits()).collect()
}

/// Every number a run produced, as bits (NaN-safe, unlike `==`); profile times left out, their
/// counts kept.
fn output_bits(out: &RunOutput) -> Vec<u64> {
    let mut v = vec![out.events];
    for t in &out.trades {
        v.extend([u64::from(t.id), t.side as u64, t.reason as u64]);
        v.extend(
            [
                t.lots,
                t.entry_time,
                t.entry_price,
                t.exit_time,
                t.exit_price,
                t.sl,
                t.tp,
                t.gross_pnl,
                t.commission,
                t.pnl,
                t.pips,
            ]
            .map(f64::to_bits),
        );
    }
    for r in &out.rejections {
        v.extend([r.side as u64, r.reason as u64]);
        v.extend([r.time, r.lots, r.required, r.free].map(f64::to_bits));
    }
    for col in [&out.equity.time, &out.equity.equity, &out.equity.balance] {
        v.push(col.len() as u64);
        v.extend(col.iter().map(|x| x.to_bits()));
    }
    v.extend(metric_bits(&out.metrics));
    if let Some(p) = &out.profile {
        v.extend(p.steps.iter().map(|s| s.count));
    }
    v
}

fn result_bits(r: &JobResult) -> Vec<u64> {
    let mut v = vec![r.status as u64, u64::from(r.trade_count)];
    if let Some(m) = &r.metrics {
        v.extend(metric_bits(m));
    }
    if let Some(out) = &r.output {
        v.extend(output_bits(out));
    }
    v
}

fn combo(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|&(k, x)| (k.to_string(), x)).collect()
}

fn strategy(value: &Value) -> Strategy {
    Strategy::from_json(&value.to_string()).expect("strategy parses")
}

/// rsiPeriod x slPips on the reference strategy (0.1% envelope, so that it trades).
fn reference_grid(rsi: &[f64], sl: &[f64]) -> Vec<BTreeMap<String, f64>> {
    rsi.iter()
        .flat_map(|&r| sl.iter().map(move |&s| combo(&[("rsiPeriod", r), ("slPips", s)])))
        .collect()
}

fn standalone(data: &MarketData, s: &Strategy, c: &BTreeMap<String, f64>, config: &RunConfig) -> RunOutput {
    run(data, &compile(s, c).expect("compiles"), config).expect("runs")
}

fn opts(threads: usize) -> BatchOptions {
    BatchOptions {
        threads,
        keep_output: true,
        ..BatchOptions::default()
    }
}

fn ignore(_: usize, _: &JobResult) {}

fn completed_output(r: &JobResult) -> &RunOutput {
    assert_eq!(r.status, JobStatus::Completed, "{:?}", r.message);
    r.output.as_ref().expect("output kept")
}

fn statuses(results: &[JobResult]) -> Vec<JobStatus> {
    results.iter().map(|r| r.status).collect()
}

// ------------------------------------------------------------------------------------ order

#[test]
fn grid_results_follow_the_combinations_not_the_completion_order() {
    let data = generated(3, 1.0);
    let s = strategy(&reference(0.1));
    let combos = reference_grid(&[5.0, 9.0, 14.0], &[10.0, 20.0]);
    let config = RunConfig::default();
    let finished = Mutex::new(Vec::new());
    // Job 0 hangs until its timeout, long after the others are done.
    let o = BatchOptions {
        job_timeout: Some(Duration::from_millis(800)),
        fault: Some(Fault {
            panic_at: vec![],
            hang_at: vec![0],
        }),
        ..opts(2)
    };
    let results = run_grid(&data, &s, &combos, &config, &o, &|i, _| {
        finished.lock().unwrap().push(i)
    });
    let finished = finished.into_inner().unwrap();
    assert_eq!(finished.len(), combos.len());
    assert_eq!(finished.last(), Some(&0), "job 0 ends last: {finished:?}");
    assert_eq!(results[0].status, JobStatus::TimedOut);
    for (i, c) in combos.iter().enumerate().skip(1) {
        let want = standalone(&data, &s, c, &config);
        assert_eq!(
            output_bits(completed_output(&results[i])),
            output_bits(&want),
            "combination {i}"
        );
        assert_eq!(
            results[i].metrics.as_ref().map(metric_bits),
            Some(metric_bits(&want.metrics))
        );
        assert_eq!(results[i].trade_count as usize, want.trades.len());
    }
}

#[test]
fn scenario_results_follow_the_jobs_when_a_long_job_finishes_last() {
    let long = generated(5, 8.0);
    let short = generated(6, 0.3);
    let p = program(&reference(0.1));
    let config = RunConfig::default();
    let mut jobs = vec![(long.clone(), p.clone(), config.clone())];
    for _ in 0..6 {
        jobs.push((short.clone(), p.clone(), config.clone()));
    }
    let finished = Mutex::new(Vec::new());
    let results = run_jobs(&jobs, &opts(2), &|i, _| finished.lock().unwrap().push(i));
    let finished = finished.into_inner().unwrap();
    assert_ne!(finished[0], 0, "the long job cannot finish first: {finished:?}");
    for (i, (data, program, config)) in jobs.iter().enumerate() {
        let want = run(data, program, config).expect("runs");
        assert_eq!(
            output_bits(completed_output(&results[i])),
            output_bits(&want),
            "job {i}"
        );
    }
    assert_ne!(
        results[0].output.as_ref().unwrap().events,
        results[1].output.as_ref().unwrap().events
    );
}

// ------------------------------------------------------------------------------------ determinism

#[test]
fn results_are_identical_for_any_thread_count_and_across_repeated_runs() {
    let data = generated(11, 1.0);
    let s = strategy(&reference(0.1));
    let combos = reference_grid(&[5.0, 8.0, 14.0, 21.0], &[10.0, 16.0, 30.0]);
    let config = RunConfig::default();
    let bits = |o: &BatchOptions| -> Vec<Vec<u64>> {
        run_grid(&data, &s, &combos, &config, o, &ignore)
            .iter()
            .map(result_bits)
            .collect()
    };
    let reference = bits(&opts(1));
    assert!(reference.iter().all(|r| r[0] == JobStatus::Completed as u64));
    assert_eq!(bits(&opts(2)), reference, "2 threads");
    assert_eq!(bits(&opts(4)), reference, "4 threads");
    for repeat in 0..20 {
        let threads = [1, 2, 4][repeat % 3];
        let o = BatchOptions {
            share_series: repeat % 2 == 0,
            ..opts(threads)
        };
        assert_eq!(bits(&o), reference, "repeat {repeat}, {threads} threads");
    }
}

#[test]
fn one_thread_and_one_job_run_on_the_calling_thread() {
    let data = generated(2, 0.2);
    let s = strategy(&reference(0.1));
    let caller = std::thread::current().id();
    let on_caller = AtomicUsize::new(0);
    let check = |_: usize, _: &JobResult| {
        if std::thread::current().id() == caller {
            on_caller.fetch_add(1, Ordering::Relaxed);
        }
    };
    run_grid(
        &data,
        &s,
        &reference_grid(&[5.0, 9.0], &[10.0]),
        &RunConfig::default(),
        &opts(1),
        &check,
    );
    run_grid(
        &data,
        &s,
        &reference_grid(&[5.0], &[10.0]),
        &RunConfig::default(),
        &opts(4),
        &check,
    );
    assert_eq!(on_caller.load(Ordering::Relaxed), 3);
    let names = Mutex::new(Vec::new());
    run_grid(
        &data,
        &s,
        &reference_grid(&[5.0, 9.0], &[10.0]),
        &RunConfig::default(),
        &opts(2),
        &|_, _| {
            names
                .lock()
                .unwrap()
                .push(std::thread::current().name().map(str::to_string))
        },
    );
    for name in names.into_inner().unwrap() {
        assert!(
            name.as_deref().is_some_and(|n| n.starts_with("tickforge-batch-")),
            "{name:?}"
        );
    }
}

// ------------------------------------------------------------------------------------ isolation

#[test]
fn a_panic_a_validation_error_and_a_hang_fail_only_their_own_jobs() {
    let data = generated(4, 0.5);
    let s = strategy(&reference(0.1));
    let mut combos = reference_grid(&[5.0, 9.0, 14.0], &[10.0, 20.0]);
    combos[2] = combo(&[("rsiPeriod", 1.0), ("slPips", 10.0)]);
    let config = RunConfig::default();
    let o = BatchOptions {
        job_timeout: Some(Duration::from_millis(1500)),
        fault: Some(Fault {
            panic_at: vec![1],
            hang_at: vec![3],
        }),
        ..opts(2)
    };
    let done = AtomicUsize::new(0);
    let results = run_grid(&data, &s, &combos, &config, &o, &|_, _| {
        done.fetch_add(1, Ordering::Relaxed);
    });
    assert_eq!(done.load(Ordering::Relaxed), combos.len());
    use JobStatus::*;
    assert_eq!(
        statuses(&results),
        [Completed, Failed, Failed, TimedOut, Completed, Completed]
    );
    assert_eq!(results[1].error_type.as_deref(), Some("EnginePanic"));
    assert_eq!(results[1].message.as_deref(), Some("injected fault at job 1"));
    assert_eq!(results[2].error_type.as_deref(), Some("ValidationError"));
    assert_eq!(
        results[2].message.as_deref(),
        Some("params.rsiPeriod: 1 is below the minimum 2")
    );
    assert_eq!(results[3].error_type, None);
    assert_eq!(results[3].message.as_deref(), Some("run: deadline exceeded"));
    assert!(results[3].elapsed_ms >= 1500.0);
    for r in &results[1..4] {
        assert!(r.metrics.is_none() && r.output.is_none() && r.trade_count == 0);
    }
    for i in [0, 4, 5] {
        let want = standalone(&data, &s, &combos[i], &config);
        assert_eq!(
            output_bits(completed_output(&results[i])),
            output_bits(&want),
            "job {i}"
        );
        assert!(results[i].error_type.is_none() && results[i].message.is_none());
    }
}

#[test]
fn scenarios_are_isolated_too() {
    let ticks = generated(8, 0.3);
    let m5 = MarketData::Bars(bar_data(Timeframe::M5, 500, 3));
    let p = program(&reference(0.1));
    let m1_rules = program(&rules("M1", "bar", json!([])));
    let config = RunConfig::default();
    let jobs = vec![
        (ticks.clone(), p.clone(), config.clone()),
        (m5.clone(), m1_rules, config.clone()),
        (ticks.clone(), p.clone(), config.clone()),
        (m5.clone(), p.clone(), config.clone()),
    ];
    let o = BatchOptions {
        fault: Some(Fault {
            panic_at: vec![2],
            hang_at: vec![],
        }),
        ..opts(2)
    };
    let results = run_jobs(&jobs, &o, &ignore);
    use JobStatus::*;
    assert_eq!(statuses(&results), [Completed, Failed, Failed, Completed]);
    assert_eq!(results[1].error_type.as_deref(), Some("ValidationError"));
    assert_eq!(
        results[1].message.as_deref(),
        Some("strategy.decision.timeframe: M1 is smaller than the data's timeframe M5")
    );
    assert_eq!(results[2].error_type.as_deref(), Some("EnginePanic"));
    for i in [0, 3] {
        let (data, program, config) = &jobs[i];
        let want = run(data, program, config).expect("runs");
        assert_eq!(
            output_bits(completed_output(&results[i])),
            output_bits(&want),
            "job {i}"
        );
    }
}

#[test]
fn a_zero_timeout_stops_every_engine_run_at_its_first_check() {
    let data = generated(4, 0.2);
    let s = strategy(&reference(0.1));
    let o = BatchOptions {
        job_timeout: Some(Duration::ZERO),
        ..opts(2)
    };
    let results = run_grid(
        &data,
        &s,
        &reference_grid(&[5.0, 9.0], &[10.0, 20.0]),
        &RunConfig::default(),
        &o,
        &ignore,
    );
    assert!(results
        .iter()
        .all(|r| r.status == JobStatus::TimedOut && r.message.as_deref() == Some("run: deadline exceeded")));
}

#[test]
fn without_keep_output_only_metrics_are_kept() {
    let data = generated(4, 0.3);
    let s = strategy(&reference(0.1));
    let combos = reference_grid(&[5.0, 9.0], &[10.0]);
    let o = BatchOptions {
        keep_output: false,
        ..opts(2)
    };
    let results = run_grid(&data, &s, &combos, &RunConfig::default(), &o, &ignore);
    for (r, c) in results.iter().zip(&combos) {
        let want = standalone(&data, &s, c, &RunConfig::default());
        assert!(r.output.is_none());
        assert_eq!(
            r.metrics.as_ref().map(metric_bits),
            Some(metric_bits(&want.metrics))
        );
        assert_eq!(r.trade_count as usize, want.trades.len());
    }
}

// ------------------------------------------------------------------------------------ cancellation

#[test]
fn cancelling_mid_run_keeps_finished_results_and_cancels_the_rest() {
    let data = generated(9, 0.3);
    let s = strategy(&reference(0.1));
    let combos = reference_grid(&[5.0, 7.0, 9.0, 11.0, 14.0, 21.0], &[10.0, 20.0]);
    let config = RunConfig::default();
    let cancel = Arc::new(AtomicBool::new(false));
    let completed = AtomicUsize::new(0);
    // Job 0 is running (hanging) when the flag is set, so it must stop at its next check.
    let o = BatchOptions {
        cancel: Some(cancel.clone()),
        fault: Some(Fault {
            panic_at: vec![],
            hang_at: vec![0],
        }),
        ..opts(2)
    };
    let results = run_grid(&data, &s, &combos, &config, &o, &|_, r| {
        if r.status == JobStatus::Completed && completed.fetch_add(1, Ordering::Relaxed) + 1 == 3 {
            cancel.store(true, Ordering::Relaxed);
        }
    });
    assert_eq!(results[0].status, JobStatus::Cancelled);
    assert_eq!(results[0].message.as_deref(), Some("run: cancelled"));
    let finished: Vec<usize> = (0..combos.len())
        .filter(|&i| results[i].status == JobStatus::Completed)
        .collect();
    assert!(finished.len() >= 3, "{:?}", statuses(&results));
    for &i in &finished {
        let want = standalone(&data, &s, &combos[i], &config);
        assert_eq!(
            output_bits(completed_output(&results[i])),
            output_bits(&want),
            "job {i}"
        );
    }
    let not_started: Vec<&JobResult> = results
        .iter()
        .filter(|r| r.message.as_deref() == Some("run: cancelled before it started"))
        .collect();
    assert!(!not_started.is_empty());
    assert!(not_started.iter().all(|r| r.elapsed_ms == 0.0));
    assert!(results
        .iter()
        .all(|r| matches!(r.status, JobStatus::Completed | JobStatus::Cancelled)));
}

#[test]
fn a_batch_cancelled_before_it_starts_runs_nothing() {
    let data = generated(9, 0.3);
    let s = strategy(&reference(0.1));
    let cancel = Arc::new(AtomicBool::new(true));
    let o = BatchOptions {
        cancel: Some(cancel),
        ..opts(2)
    };
    let done = AtomicUsize::new(0);
    let results = run_grid(
        &data,
        &s,
        &reference_grid(&[5.0, 9.0, 14.0], &[10.0]),
        &RunConfig::default(),
        &o,
        &|_, _| {
            done.fetch_add(1, Ordering::Relaxed);
        },
    );
    assert_eq!(done.load(Ordering::Relaxed), 3);
    assert!(results
        .iter()
        .all(|r| r.status == JobStatus::Cancelled && r.elapsed_ms == 0.0));
}

// ------------------------------------------------------------------------------------ shared series

fn bar_data(tf: Timeframe, count: usize, seed: u32) -> BarData {
    match common::generated_bars(tf, count, seed) {
        MarketData::Bars(b) => b,
        MarketData::Ticks(_) => unreachable!("bars were generated"),
    }
}

/// Every indicator kind on several timeframes, two of them on grid parameters, one read through a
/// cross (offset 1) and one never read, with rules that open and close positions.
fn many_workers() -> Value {
    let w = |id: &str| json!({ "worker": id });
    let wo = |id: &str, output: &str| json!({ "worker": id, "output": output });
    let close = json!({ "bar": "close" });
    let side = json!({ "position": "side" });
    json!({
        "version": 1,
        "params": {
            "rsiPeriod": { "default": 14, "type": "int", "min": 2 },
            "emaPeriod": { "default": 10, "type": "int", "min": 1 },
            "slPips": { "default": 15 }
        },
        "decision": { "timeframe": "M5", "on": "bar" },
        "workers": [
            { "id": "rsi", "kind": "rsi", "timeframe": "M5", "params": { "period": { "param": "rsiPeriod" } } },
            { "id": "env", "kind": "envelope", "timeframe": "M30", "params": { "period": 20, "percent": 0.1 } },
            { "id": "ema", "kind": "ema", "timeframe": "M15", "params": { "period": { "param": "emaPeriod" } } },
            { "id": "atr", "kind": "atr", "timeframe": "M15", "params": { "period": 14 } },
            { "id": "macd", "kind": "macd", "timeframe": "M5", "params": { "fast": 12, "slow": 26, "signal": 9 } },
            { "id": "boll", "kind": "bollinger", "timeframe": "H1", "params": { "period": 20, "deviations": 2, "source": "high" } },
            { "id": "sma", "kind": "sma", "timeframe": "M5", "params": { "period": 50 } },
            { "id": "unread", "kind": "sma", "timeframe": "M5", "params": { "period": 3 } }
        ],
        "rules": [
            { "when": op("and", vec![
                op("==", vec![side.clone(), 0.into()]),
                op("<", vec![w("rsi"), 40.into()]),
                op("<", vec![close.clone(), wo("env", "middle")]) ]),
              "then": [{ "action": "buy", "lots": 1, "sl": { "pips": { "param": "slPips" } }, "tp": { "pips": 30 } }] },
            { "when": op("and", vec![
                op("==", vec![side.clone(), 0.into()]),
                op(">", vec![w("rsi"), 60.into()]),
                op(">", vec![close.clone(), wo("boll", "middle")]),
                op(">", vec![w("atr"), 0.into()]) ]),
              "then": [{ "action": "sell", "lots": 1, "sl": { "pips": { "param": "slPips" } }, "tp": { "pips": 30 } }] },
            { "when": op("and", vec![
                op("==", vec![side.clone(), 1.into()]),
                op("crossBelow", vec![close.clone(), w("ema")]) ]),
              "then": [{ "action": "close" }] },
            { "when": op("and", vec![
                op("==", vec![side, (-1).into()]),
                op(">", vec![wo("macd", "hist"), 0.into()]),
                op(">", vec![close, json!({ "worker": "sma", "offset": 2 })]) ]),
              "then": [{ "action": "close" }] }
        ]
    })
}

fn many_grid() -> Vec<BTreeMap<String, f64>> {
    let mut out = Vec::new();
    for rsi in [5.0, 9.0, 14.0] {
        for ema in [8.0, 20.0] {
            for sl in [10.0, 25.0] {
                out.push(combo(&[("rsiPeriod", rsi), ("emaPeriod", ema), ("slPips", sl)]));
            }
        }
    }
    out
}

/// The grid with shared series and without gives the same bits in every job.
fn assert_sharing_changes_nothing(data: &MarketData, config: &RunConfig, label: &str) -> Vec<JobResult> {
    let s = strategy(&many_workers());
    let combos = many_grid();
    let run_with = |share: bool| {
        let o = BatchOptions {
            share_series: share,
            ..opts(2)
        };
        run_grid(data, &s, &combos, config, &o, &ignore)
    };
    let shared = run_with(true);
    let own = run_with(false);
    for (i, (a, b)) in shared.iter().zip(&own).enumerate() {
        assert_eq!(a.status, b.status, "{label}: job {i}: {:?}", a.message);
        assert_eq!(result_bits(a), result_bits(b), "{label}: job {i}");
    }
    shared
}

fn cache_for(data: &MarketData, config: &RunConfig) -> (SeriesCache, Vec<Program>) {
    let s = strategy(&many_workers());
    let programs: Vec<Program> = many_grid()
        .iter()
        .map(|c| compile(&s, c).expect("compiles"))
        .collect();
    let keys: Vec<_> = programs.iter().flat_map(series_keys).collect();
    let cache = SeriesCache::build(data, config, run_base(data, &programs[0]), &keys);
    (cache, programs)
}

#[test]
fn shared_series_give_identical_results_in_tick_mode() {
    let data = generated(21, 2.0);
    let MarketData::Ticks(t) = &data else {
        unreachable!()
    };
    let last = t.time[t.time.len() - 1];
    let variants: Vec<(&str, RunConfig)> = vec![
        ("all data", RunConfig::default()),
        // Cut inside an M5, M15, M30 and H1 bar: the bars closed at the end differ from the
        // full run's.
        (
            "end cut",
            config(|c| c.end = Some(T0 + 86_400_000.0 + 37.0 * MIN + 12.0 * SEC)),
        ),
        ("late start", config(|c| c.start = Some(T0 + 20.0 * 60.0 * MIN))),
        ("profiled", config(|c| c.profile = true)),
        ("start after the data", config(|c| c.start = Some(last + 1.0))),
        ("end before the data", config(|c| c.end = Some(T0 - 1.0))),
    ];
    for (label, cfg) in &variants {
        let results = assert_sharing_changes_nothing(&data, cfg, label);
        if !label.ends_with("the data") {
            assert!(results.iter().any(|r| r.trade_count > 0), "{label}: trades");
        }
    }
}

#[test]
fn shared_series_give_identical_results_in_bar_mode() {
    let data = MarketData::Bars(bar_data(Timeframe::M1, 8_000, 5));
    let MarketData::Bars(b) = &data else {
        unreachable!()
    };
    let variants: Vec<(&str, RunConfig)> = vec![
        ("all data", RunConfig::default()),
        (
            "fill at close",
            config(|c| c.fill_at = tickforge_core::config::FillAt::Close),
        ),
        ("end cut", config(|c| c.end = Some(b.time[5_000] + 7.0 * MIN))),
        ("profiled", config(|c| c.profile = true)),
    ];
    for (label, cfg) in &variants {
        let results = assert_sharing_changes_nothing(&data, cfg, label);
        assert!(results.iter().any(|r| r.trade_count > 0), "{label}: trades");
    }
    // M5 bars, the decision timeframe itself as base.
    let m5 = MarketData::Bars(bar_data(Timeframe::M5, 3_000, 6));
    assert_sharing_changes_nothing(&m5, &RunConfig::default(), "M5 bars");
}

#[test]
fn shared_series_cover_every_closed_bar_including_those_closed_at_the_end() {
    let data = generated(22, 1.3);
    let config = RunConfig::default();
    let (cache, programs) = cache_for(&data, &config);
    // rsi x3, ema x2, env, atr, macd, boll, sma; the unread worker is not shared.
    assert_eq!(cache.len(), 3 + 2 + 5);
    let MarketData::Ticks(ticks) = &data else {
        unreachable!()
    };
    let m1 = render_ticks(ticks, Timeframe::M1);
    for w in programs[0].workers() {
        let series = cache.get(w.timeframe, &w.spec);
        if w.id == "unread" {
            assert!(series.is_none());
            continue;
        }
        let series = series.expect("shared");
        let bars = aggregate(&m1, w.timeframe);
        assert_eq!(series.len(), bars.len(), "{}", w.id);
        let mut ind = Indicator::new(&w.spec);
        for (k, bar) in bars.iter().enumerate() {
            ind.update(bar);
            for (o, got) in series.at(k).iter().enumerate().take(w.outputs) {
                assert_eq!(
                    got.to_bits(),
                    ind.output(o).to_bits(),
                    "{} bar {k} output {o}",
                    w.id
                );
            }
        }
    }
    for p in &programs {
        assert!(cache.applies_to(&data, p, &config));
        let with = run_with_cache(&data, p, &config, &RunControl::default(), &cache).expect("runs");
        let without = run(&data, p, &config).expect("runs");
        assert_eq!(output_bits(&with), output_bits(&without));
    }
}

#[test]
fn a_cache_made_for_other_data_or_another_end_is_ignored() {
    let data = generated(23, 1.0);
    let config = RunConfig::default();
    let (cache, programs) = cache_for(&data, &config);
    let MarketData::Ticks(t) = &data else {
        unreachable!()
    };
    // Equal columns in new storage: another data set as far as the cache can tell.
    let copy = MarketData::Ticks(
        TickData::new(t.time.to_vec(), t.bid.to_vec(), t.ask.to_vec(), None).expect("valid ticks"),
    );
    let cut = config_with_end(t.time[t.time.len() / 2]);
    for (data, config) in [(&copy, &config), (&data, &cut)] {
        assert!(!cache.applies_to(data, &programs[0], config));
        let with = run_with_cache(data, &programs[0], config, &RunControl::default(), &cache).expect("runs");
        let without = run(data, &programs[0], config).expect("runs");
        assert_eq!(output_bits(&with), output_bits(&without));
    }
}

fn config_with_end(end: f64) -> RunConfig {
    config(|c| c.end = Some(end))
}
