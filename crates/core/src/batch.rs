//! Many runs at once: a parameter grid over one data set, or unrelated scenarios
//! (docs/optimization.md, "Jobs and results" and "Parallelism").
//!
//! Each call builds its own Rayon pool and drops it when done: never the global pool, which other
//! code in the process shares and which is torn down at exit. Jobs are isolated from each other:
//! a panic, an invalid parameter set, a timeout or a cancellation becomes that job's result and
//! the others go on. Results come back in job order whatever order the jobs finish in.

use crate::config::RunConfig;
use crate::data::MarketData;
use crate::engine::{run_with_cache, run_with_control, RunControl};
use crate::error::{panic_message, Error, ErrorKind};
use crate::ir::{compile, Program, Strategy};
use crate::pool::{call_pool, map_jobs};
use crate::results::{Metrics, RunOutput};
use crate::series::{run_base, series_keys, SeriesCache, SeriesKey};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `error_type` of a job that panicked.
pub const ENGINE_PANIC: &str = "EnginePanic";
/// `error_type` of a job whose parameters, strategy, config or data were rejected.
pub const VALIDATION_ERROR: &str = "ValidationError";

/// Testing aid, off unless set: makes chosen jobs misbehave so that isolation, timeouts and
/// cancellation can be checked end to end. Indices are job indices.
#[derive(Debug, Clone, Default)]
pub struct Fault {
    /// These jobs panic inside the worker thread, where an engine bug would.
    pub panic_at: Vec<usize>,
    /// These jobs never finish on their own: they sleep 1 ms per turn and look at the deadline and
    /// the cancel flag each turn, as the engine does every 65,536 events.
    pub hang_at: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Threads of the pool built for the call; 0 or 1 runs every job on the calling thread.
    pub threads: usize,
    /// Per job, from the moment it starts.
    pub job_timeout: Option<Duration>,
    /// Once set, running jobs stop at their next check and jobs not yet started do not start.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Keep each job's full output (trades, equity); otherwise only metrics, so that memory stays
    /// bounded for large grids.
    pub keep_output: bool,
    /// Grids only: compute indicator series that several combinations share once for the batch.
    pub share_series: bool,
    pub fault: Option<Fault>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            threads: 1,
            job_timeout: None,
            cancel: None,
            keep_output: false,
            share_series: true,
            fault: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Completed,
    Failed,
    TimedOut,
    Cancelled,
}

impl JobStatus {
    /// Every status, in the order of `code`.
    pub const ALL: [JobStatus; 4] = [
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::TimedOut,
        JobStatus::Cancelled,
    ];

    /// The status's place in `ALL`: how a table of jobs stores it.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::TimedOut => "timed_out",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone)]
pub struct JobResult {
    pub status: JobStatus,
    /// Set when completed.
    pub metrics: Option<Metrics>,
    pub trade_count: u32,
    /// Set when completed with `keep_output`.
    pub output: Option<RunOutput>,
    /// `EnginePanic` or `ValidationError` when failed.
    pub error_type: Option<String>,
    /// Why the job did not complete: the panic message, `path: message` of a validation error,
    /// or the stop that ended it.
    pub message: Option<String>,
    /// Wall time from the job's start (compilation included); 0 for a job that never started.
    pub elapsed_ms: f64,
}

impl JobResult {
    fn stopped(status: JobStatus, error_type: Option<&str>, message: String, elapsed_ms: f64) -> Self {
        JobResult {
            status,
            metrics: None,
            trade_count: 0,
            output: None,
            error_type: error_type.map(str::to_string),
            message: Some(message),
            elapsed_ms,
        }
    }
}

/// Runs `strategy` on `data` once per parameter combination, in parallel on a pool of
/// `opts.threads` threads built for this call. `result[i]` belongs to `combos[i]`.
/// `on_done(i, result)` is called on the worker thread as each job ends (cancelled ones
/// included), so it must be cheap and must not block.
pub fn run_grid(
    data: &MarketData,
    strategy: &Strategy,
    combos: &[BTreeMap<String, f64>],
    config: &RunConfig,
    opts: &BatchOptions,
    on_done: &(dyn Fn(usize, &JobResult) + Sync),
) -> Vec<JobResult> {
    let pool = call_pool(opts.threads, combos.len(), "tickforge-batch");
    let (cache, programs) = if opts.share_series && combos.len() > 1 && !cancelled(opts) {
        shared_series(
            data,
            strategy,
            combos,
            config,
            pool.as_ref(),
            PROGRAM_BUDGET_BYTES,
        )
    } else {
        (None, Vec::new())
    };
    map_jobs(pool.as_ref(), combos.len(), |i| {
        run_job(i, opts, on_done, |control| {
            let compiled;
            let program = match programs.get(i).and_then(Option::as_ref) {
                Some(program) => program,
                None => {
                    compiled = compile(strategy, &combos[i])?;
                    &compiled
                }
            };
            match &cache {
                Some(cache) => run_with_cache(data, program, config, control, cache),
                None => run_with_control(data, program, config, control),
            }
        })
    })
}

/// Runs unrelated scenarios, each with its own data, compiled program and config, with the pool,
/// order and isolation of `run_grid`. Series are not shared here (`share_series` is ignored):
/// scenarios rarely have the data, `end` and indicators in common.
pub fn run_jobs(
    jobs: &[(MarketData, Program, RunConfig)],
    opts: &BatchOptions,
    on_done: &(dyn Fn(usize, &JobResult) + Sync),
) -> Vec<JobResult> {
    let pool = call_pool(opts.threads, jobs.len(), "tickforge-batch");
    map_jobs(pool.as_ref(), jobs.len(), |i| {
        let (data, program, config) = &jobs[i];
        run_job(i, opts, on_done, |control| {
            run_with_control(data, program, config, control)
        })
    })
}

fn cancelled(opts: &BatchOptions) -> bool {
    opts.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed))
}

fn run_job(
    index: usize,
    opts: &BatchOptions,
    on_done: &(dyn Fn(usize, &JobResult) + Sync),
    work: impl FnOnce(&RunControl) -> Result<RunOutput, Error>,
) -> JobResult {
    let result = if cancelled(opts) {
        JobResult::stopped(
            JobStatus::Cancelled,
            None,
            "run: cancelled before it started".into(),
            0.0,
        )
    } else {
        let started = Instant::now();
        let control = RunControl {
            cancel: opts.cancel.clone(),
            deadline: opts.job_timeout.and_then(|t| started.checked_add(t)),
        };
        let fault = opts.fault.as_ref();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            if fault.is_some_and(|f| f.panic_at.contains(&index)) {
                panic!("injected fault at job {index}");
            }
            if fault.is_some_and(|f| f.hang_at.contains(&index)) {
                return hang(&control);
            }
            work(&control)
        }));
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        match outcome {
            Ok(Ok(output)) => JobResult {
                status: JobStatus::Completed,
                metrics: Some(output.metrics.clone()),
                trade_count: output.trades.len() as u32,
                output: opts.keep_output.then_some(output),
                error_type: None,
                message: None,
                elapsed_ms,
            },
            Ok(Err(e)) => {
                let (status, error_type) = match e.kind {
                    ErrorKind::Timeout => (JobStatus::TimedOut, None),
                    ErrorKind::Cancelled => (JobStatus::Cancelled, None),
                    _ => (JobStatus::Failed, Some(VALIDATION_ERROR)),
                };
                JobResult::stopped(status, error_type, e.to_string(), elapsed_ms)
            }
            Err(payload) => JobResult::stopped(
                JobStatus::Failed,
                Some(ENGINE_PANIC),
                panic_message(payload.as_ref()),
                elapsed_ms,
            ),
        }
    };
    on_done(index, &result);
    result
}

/// The injected hang: stops only through the deadline or the cancel flag, with the engine's
/// errors.
fn hang(control: &RunControl) -> Result<RunOutput, Error> {
    loop {
        if control.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(Error::new(ErrorKind::Cancelled, "run", "cancelled"));
        }
        if control.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::new(ErrorKind::Timeout, "run", "deadline exceeded"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// How many workers across the grid read each series, and the first combination that does.
type Uses = HashMap<SeriesKey, (usize, usize)>;

/// Programs compiled to count the shared series are kept for the jobs up to this many bytes
/// (`Program::approx_bytes`); the jobs of the rest compile their own.
const PROGRAM_BUDGET_BYTES: usize = 64 << 20;

/// Combinations compiled at a time by the counting pass, so that the programs not kept never
/// pile up.
const COUNT_CHUNK: usize = 1024;

/// The series that at least two workers of the grid read, computed once, and the programs
/// compiled to find them (`None` past `budget` bytes, or where compiling failed).
/// Problems are left to the jobs to report: a combination that does not compile is skipped, and
/// if building the cache fails every job computes its own series and compiles its own program.
fn shared_series(
    data: &MarketData,
    strategy: &Strategy,
    combos: &[BTreeMap<String, f64>],
    config: &RunConfig,
    pool: Option<&rayon::ThreadPool>,
    budget: usize,
) -> (Option<SeriesCache>, Vec<Option<Program>>) {
    let built = catch_unwind(AssertUnwindSafe(|| {
        let compile_one = |i: usize| {
            catch_unwind(AssertUnwindSafe(|| compile(strategy, &combos[i]).ok()))
                .ok()
                .flatten()
        };
        let mut uses = Uses::new();
        let mut programs: Vec<Option<Program>> = Vec::with_capacity(combos.len());
        let mut kept_bytes = 0;
        // Every combination of one strategy uses the same timeframes, so the first program's
        // base is every program's.
        let mut base = None;
        for lo in (0..combos.len()).step_by(COUNT_CHUNK) {
            let hi = (lo + COUNT_CHUNK).min(combos.len());
            let chunk: Vec<Option<Program>> = match pool {
                Some(pool) => pool.install(|| (lo..hi).into_par_iter().map(compile_one).collect()),
                None => (lo..hi).map(compile_one).collect(),
            };
            for (i, program) in (lo..hi).zip(chunk) {
                let Some(program) = program else {
                    programs.push(None);
                    continue;
                };
                let run = run_base(data, &program);
                if *base.get_or_insert(run) == run {
                    for key in series_keys(&program) {
                        let entry = uses.entry(key).or_insert((0, i));
                        entry.0 += 1;
                    }
                }
                kept_bytes += program.approx_bytes();
                programs.push((kept_bytes <= budget).then_some(program));
            }
        }
        // Most used first, so that the memory budget goes where it saves the most; the rest of
        // the order only makes the choice reproducible.
        let mut shared: Vec<(SeriesKey, (usize, usize))> =
            uses.into_iter().filter(|(_, (n, _))| *n >= 2).collect();
        shared.sort_by(|(ka, (na, fa)), (kb, (nb, fb))| nb.cmp(na).then(fa.cmp(fb)).then(ka.cmp(kb)));
        let keys: Vec<SeriesKey> = shared.into_iter().map(|(k, _)| k).collect();
        let cache = base.map(|base| SeriesCache::build_on(data, config, base, &keys, pool));
        (cache.filter(|cache| !cache.is_empty()), programs)
    }));
    built.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::BarData;
    use crate::timeframe::Timeframe;

    fn sma_cross() -> Strategy {
        let w = |id: &str| serde_json::json!({ "worker": id });
        let cross = |op: &str| serde_json::json!({ "op": op, "args": [w("fast"), w("slow")] });
        let json = serde_json::json!({
            "version": 1,
            "name": "sma-cross",
            "params": { "fast": { "default": 5, "type": "int" }, "slow": { "default": 20, "type": "int" } },
            "decision": { "timeframe": "H1", "on": "bar" },
            "workers": [
                { "id": "fast", "kind": "sma", "timeframe": "H1", "params": { "period": { "param": "fast" } } },
                { "id": "slow", "kind": "sma", "timeframe": "H1", "params": { "period": { "param": "slow" } } }
            ],
            "rules": [
                { "when": cross("crossAbove"), "then": [{ "action": "buy", "lots": 1 }] },
                { "when": cross("crossBelow"), "then": [{ "action": "close" }] }
            ]
        });
        Strategy::from_json(&json.to_string()).expect("strategy parses")
    }

    fn data() -> MarketData {
        let n = 200;
        let time: Vec<f64> = (0..n).map(|i| i as f64 * 3_600_000.0).collect();
        let close: Vec<f64> = (0..n).map(|i| 100.0 + (i as f64 * 0.3).sin() * 5.0).collect();
        let bars = BarData::new(
            Timeframe::H1,
            time,
            close.clone(),
            close.iter().map(|c| c + 0.5).collect(),
            close.iter().map(|c| c - 0.5).collect(),
            close,
            vec![1.0; n],
        )
        .expect("valid bars");
        MarketData::Bars(bars)
    }

    /// The counting pass keeps the programs it compiled while they fit the budget, in order, and
    /// none for a combination that does not compile; the shared series do not depend on it.
    #[test]
    fn counted_programs_are_kept_up_to_the_budget() {
        let (data, strategy) = (data(), sma_cross());
        let mut combos: Vec<BTreeMap<String, f64>> = (2..8)
            .map(|f| [("fast".to_string(), f as f64), ("slow".to_string(), 20.0)].into())
            .collect();
        combos.insert(2, [("nope".to_string(), 1.0)].into());
        let config = RunConfig::default();
        let one = compile(&strategy, &combos[0]).expect("compiles").approx_bytes();
        assert!(one > std::mem::size_of::<Program>());
        let kept = |budget: usize| {
            let (cache, programs) = shared_series(&data, &strategy, &combos, &config, None, budget);
            let series = cache.map_or(0, |c| c.len());
            (series, programs.iter().map(Option::is_some).collect::<Vec<_>>())
        };
        let all = [true, true, false, true, true, true, true];
        assert_eq!(kept(usize::MAX), (1, all.to_vec()));
        assert_eq!(kept(0), (1, vec![false; 7]));
        assert_eq!(
            kept(3 * one),
            (1, vec![true, true, false, true, false, false, false])
        );
    }
}
