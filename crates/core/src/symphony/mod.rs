//! Composer-style symphonies: allocation trees evaluated once per day over daily bars of several
//! tickers, simulated as a rebalanced portfolio (docs/symphony.md). The pure-TypeScript engine in
//! `src/symphony/engine.ts` implements the same contract.
//!
//! A batch runs many symphonies over one `DailyData` on a Rayon pool built for the call (never
//! the global pool): the ticker indicator series every job names are computed once for the batch,
//! each job runs under `catch_unwind` (a panic becomes that job's error), a cancel flag is read
//! between days, and results come back in job order.

mod config;
mod data;
mod ir;
mod metrics;
mod plan;
mod series;
mod sim;

pub use config::{SymphonyConfig, SymphonyFill};
pub use data::DailyData;
pub use ir::{
    cmp_utf16, CompareOp, Condition, Indicator, IndicatorRef, Node, Operand, Rebalance, Select,
    SymphonyProgram, MAX_DEPTH,
};
pub use metrics::SymphonyMetrics;
pub use series::{ticker_series, SeriesCache, SeriesKey};
pub use sim::SymphonyOutput;

use crate::error::{panic_message, Error};
use crate::pool::{call_pool, map_jobs};
use plan::Plan;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Why a symphony job produced no output.
#[derive(Debug, Clone, PartialEq)]
pub enum SymphonyError {
    /// The IR, the configuration or the data was rejected (the error names the path).
    Invalid(Error),
    /// The cancel flag was set before or during the run.
    Cancelled,
    /// The engine panicked; the payload's message.
    Panicked(String),
}

impl SymphonyError {
    /// `validation`, `cancelled` or `panic`.
    pub fn kind(&self) -> &'static str {
        match self {
            SymphonyError::Invalid(_) => "validation",
            SymphonyError::Cancelled => "cancelled",
            SymphonyError::Panicked(_) => "panic",
        }
    }
}

impl fmt::Display for SymphonyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SymphonyError::Invalid(e) => write!(f, "{e}"),
            SymphonyError::Cancelled => write!(f, "run: cancelled"),
            SymphonyError::Panicked(m) => write!(f, "engine panicked: {m}"),
        }
    }
}

impl std::error::Error for SymphonyError {}

impl From<Error> for SymphonyError {
    fn from(e: Error) -> Self {
        SymphonyError::Invalid(e)
    }
}

/// `work()` with a panic turned into `SymphonyError::Panicked`.
fn guarded<T>(work: impl FnOnce() -> Result<T, SymphonyError>) -> Result<T, SymphonyError> {
    catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|payload| Err(SymphonyError::Panicked(panic_message(payload.as_ref()))))
}

fn is_cancelled(cancel: Option<&AtomicBool>) -> bool {
    cancel.is_some_and(|c| c.load(Ordering::Relaxed))
}

/// Binds and simulates one job; `shared` supplies ticker series computed for the batch.
fn run_bound(
    data: &DailyData,
    program: &SymphonyProgram,
    config: &SymphonyConfig,
    columns: &[usize],
    shared: Option<&SeriesCache>,
    cancel: Option<&AtomicBool>,
) -> Result<SymphonyOutput, SymphonyError> {
    if is_cancelled(cancel) {
        return Err(SymphonyError::Cancelled);
    }
    let plan = Plan::build(program, data, columns, shared);
    let rule = config.rebalance.unwrap_or(program.rebalance);
    sim::simulate(&plan, &program.tickers, data, rule, config, cancel)
}

/// Runs one symphony on the calling thread.
pub fn run_symphony(
    data: &DailyData,
    program: &SymphonyProgram,
    config: &SymphonyConfig,
    cancel: Option<&AtomicBool>,
) -> Result<SymphonyOutput, SymphonyError> {
    guarded(|| {
        config.validate()?;
        let columns = plan::columns(program, data)?;
        run_bound(data, program, config, &columns, None, cancel)
    })
}

#[derive(Debug, Clone, Default)]
pub struct SymphonyBatchOptions {
    /// Threads of the pool built for the call; 0 or 1 runs every job on the calling thread.
    pub threads: usize,
    /// Once set, running jobs stop at their next day and jobs not yet started do not start.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// A job's symphony and configuration, borrowed or parsed for the batch.
type Job<'a> = (Cow<'a, SymphonyProgram>, Cow<'a, SymphonyConfig>);

/// The shared part of a batch: each job prepared (parsed, its tickers mapped to columns), then
/// the ticker series of all prepared jobs computed once, then every job simulated.
fn run_prepared<'a, P>(
    data: &DailyData,
    n: usize,
    prepare: P,
    pool: Option<&rayon::ThreadPool>,
    cancel: Option<&AtomicBool>,
) -> Vec<Result<SymphonyOutput, SymphonyError>>
where
    P: Fn(usize) -> Result<Job<'a>, SymphonyError> + Sync + Send,
{
    let prepared = map_jobs(pool, n, |i| {
        guarded(|| {
            let (program, config) = prepare(i)?;
            config.validate()?;
            let columns = plan::columns(&program, data)?;
            Ok((program, config, columns))
        })
    });
    let shared = if n > 1 && !is_cancelled(cancel) {
        catch_unwind(AssertUnwindSafe(|| {
            let mut keys = BTreeSet::new();
            for (program, _, columns) in prepared.iter().flatten() {
                plan::series_keys(program, columns, &mut keys);
            }
            SeriesCache::build(data, &keys, pool, cancel)
        }))
        .ok()
    } else {
        None
    };
    let prepared = &prepared;
    map_jobs(pool, n, |i| match &prepared[i] {
        Ok((program, config, columns)) => {
            guarded(|| run_bound(data, program, config, columns, shared.as_ref(), cancel))
        }
        Err(e) => Err(e.clone()),
    })
}

/// Runs parsed symphonies over `data`, `result[i]` for `jobs[i]`, on a pool of `opts.threads`
/// threads built for the call.
pub fn run_symphonies(
    data: &DailyData,
    jobs: &[(SymphonyProgram, SymphonyConfig)],
    opts: &SymphonyBatchOptions,
) -> Vec<Result<SymphonyOutput, SymphonyError>> {
    let pool = call_pool(opts.threads, jobs.len(), "tickforge-symphony");
    run_symphonies_on(data, jobs, pool.as_ref(), opts.cancel.as_deref())
}

/// As `run_symphonies`, on the caller's pool (or the calling thread with `None`).
pub fn run_symphonies_on(
    data: &DailyData,
    jobs: &[(SymphonyProgram, SymphonyConfig)],
    pool: Option<&rayon::ThreadPool>,
    cancel: Option<&AtomicBool>,
) -> Vec<Result<SymphonyOutput, SymphonyError>> {
    run_prepared(
        data,
        jobs.len(),
        |i| Ok((Cow::Borrowed(&jobs[i].0), Cow::Borrowed(&jobs[i].1))),
        pool,
        cancel,
    )
}

/// Runs symphonies given as resolved IR JSON, parsing each inside its job. `configs` holds one
/// `SymphonyRunConfig` JSON per job, or a single one that every job shares; any other length
/// makes every job fail with a validation error at `configs`.
pub fn run_symphonies_json(
    data: &DailyData,
    programs: &[String],
    configs: &[String],
    opts: &SymphonyBatchOptions,
) -> Vec<Result<SymphonyOutput, SymphonyError>> {
    let pool = call_pool(opts.threads, programs.len(), "tickforge-symphony");
    run_symphonies_json_on(data, programs, configs, pool.as_ref(), opts.cancel.as_deref())
}

/// As `run_symphonies_json`, on the caller's pool (or the calling thread with `None`).
pub fn run_symphonies_json_on(
    data: &DailyData,
    programs: &[String],
    configs: &[String],
    pool: Option<&rayon::ThreadPool>,
    cancel: Option<&AtomicBool>,
) -> Vec<Result<SymphonyOutput, SymphonyError>> {
    let n = programs.len();
    if configs.len() != 1 && configs.len() != n {
        let e = SymphonyError::Invalid(Error::config(
            "configs",
            format!(
                "{} configurations for {n} symphonies (expected 1 or {n})",
                configs.len()
            ),
        ));
        return vec![Err(e); n];
    }
    let shared_config = (configs.len() == 1 && n > 1).then(|| SymphonyConfig::from_json(&configs[0]));
    run_prepared(
        data,
        n,
        |i| {
            let program = SymphonyProgram::from_json(&programs[i])?;
            let config = match &shared_config {
                Some(Ok(c)) => c.clone(),
                Some(Err(e)) => return Err(e.clone().into()),
                None => SymphonyConfig::from_json(&configs[i])?,
            };
            Ok((Cow::Owned(program), Cow::Owned(config)))
        },
        pool,
        cancel,
    )
}
