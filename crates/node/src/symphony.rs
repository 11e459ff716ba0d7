//! Symphonies (docs/symphony.md) for Node.js: daily multi-ticker data held on the Rust side and
//! batches of resolved symphony IRs run on a pool built for each call. Per-job problems come back
//! as data (`ok: false` with a code); only an invalid call throws.

// Under `cfg(test)` napi-derive registers nothing, so the exported items look unused.
#![cfg_attr(test, allow(dead_code))]

use crate::{failure, throw, CancelToken, CODE_CANCELLED, CODE_PANIC, CODE_VALIDATION};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tickforge_core::symphony::{
    run_symphonies_json, DailyData, SymphonyBatchOptions, SymphonyError, SymphonyOutput,
};
use tickforge_core::{panic_message, THREAD_STACK_BYTES};

/// Daily opens and closes of several tickers on one calendar, validated once and shared
/// read-only by every symphony run that uses it.
#[napi]
pub struct NativeDailyData {
    inner: DailyData,
}

#[napi]
impl NativeDailyData {
    /// `dates`: each day's UTC midnight in epoch ms, strictly increasing. `open` and `close` are
    /// ticker-major, `close[k * days + t]` for `tickers[k]` on day `t`, NaN before a ticker's first
    /// bar. Throws ERR_TICKFORGE_VALIDATION naming the problem (`data.dates[3]: ...`).
    #[napi(factory)]
    pub fn from_columns(
        env: Env,
        dates: Float64ArraySlice,
        tickers: Vec<String>,
        open: Float64ArraySlice,
        close: Float64ArraySlice,
    ) -> Result<Self> {
        DailyData::from_flat(&dates, tickers, &open, &close)
            .map(|inner| NativeDailyData { inner })
            .map_err(|e| throw(&env, failure(CODE_VALIDATION, e.to_string())))
    }

    /// Number of days.
    #[napi(getter)]
    pub fn days(&self) -> u32 {
        self.inner.days() as u32
    }

    /// Ticker names, in column order.
    #[napi(getter)]
    pub fn tickers(&self) -> Vec<String> {
        self.inner.tickers().to_vec()
    }
}

/// Options of `runSymphonies` and `runSymphoniesSync`.
#[napi(object)]
pub struct NativeSymphonyOptions {
    /// Threads of the pool built for the call (an integer >= 1; 1 runs on a single thread).
    pub threads: f64,
}

#[napi(object)]
pub struct NativeSymphonyMetrics {
    pub return_pct: f64,
    pub cagr_pct: f64,
    pub max_drawdown: f64,
    pub max_drawdown_pct: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub calmar: f64,
    pub volatility_pct: f64,
    pub rebalances: f64,
    pub turnover: f64,
    pub total_commission: f64,
    pub final_equity: f64,
}

/// One job's outcome. `ok: true`: `tickers`, `time`, `equity`, `weights`, `rebalanceDays` and
/// `metrics` are set. `ok: false`: `errorCode` (ERR_TICKFORGE_VALIDATION, ERR_TICKFORGE_CANCELLED
/// or ERR_TICKFORGE_PANIC) and `errorMessage` (`root.children[2].window: ...`) are set.
#[napi(object)]
pub struct NativeSymphonyResult {
    pub ok: bool,
    /// The symphony's tickers (IR order): the columns of `weights`.
    pub tickers: Option<Vec<String>>,
    /// Dates of the simulated days.
    pub time: Option<Float64Array>,
    /// Closing equity of each simulated day.
    pub equity: Option<Float64Array>,
    /// Target weights decided at each simulated day's close, `weights[d * tickers.length + k]`.
    pub weights: Option<Float64Array>,
    /// Indices into `time` of the days a rebalance was decided.
    pub rebalance_days: Option<Int32Array>,
    pub metrics: Option<NativeSymphonyMetrics>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

fn failed(code: &str, message: String) -> NativeSymphonyResult {
    NativeSymphonyResult {
        ok: false,
        tickers: None,
        time: None,
        equity: None,
        weights: None,
        rebalance_days: None,
        metrics: None,
        error_code: Some(code.to_string()),
        error_message: Some(message),
    }
}

fn to_js(result: std::result::Result<SymphonyOutput, SymphonyError>) -> NativeSymphonyResult {
    match result {
        Ok(out) => {
            let m = out.metrics;
            NativeSymphonyResult {
                ok: true,
                tickers: Some(out.tickers),
                time: Some(Float64Array::new(out.time)),
                equity: Some(Float64Array::new(out.equity)),
                weights: Some(Float64Array::new(out.weights)),
                rebalance_days: Some(Int32Array::new(out.rebalance_days)),
                metrics: Some(NativeSymphonyMetrics {
                    return_pct: m.return_pct,
                    cagr_pct: m.cagr_pct,
                    max_drawdown: m.max_drawdown,
                    max_drawdown_pct: m.max_drawdown_pct,
                    sharpe: m.sharpe,
                    sortino: m.sortino,
                    calmar: m.calmar,
                    volatility_pct: m.volatility_pct,
                    rebalances: f64::from(m.rebalances),
                    turnover: m.turnover,
                    total_commission: m.total_commission,
                    final_equity: m.final_equity,
                }),
                error_code: None,
                error_message: None,
            }
        }
        Err(e) => {
            let code = match e {
                SymphonyError::Invalid(_) => CODE_VALIDATION,
                SymphonyError::Cancelled => CODE_CANCELLED,
                SymphonyError::Panicked(_) => CODE_PANIC,
            };
            failed(code, e.to_string())
        }
    }
}

type Outcomes = Vec<std::result::Result<SymphonyOutput, SymphonyError>>;

/// A batch checked on the calling thread, ready to run anywhere.
struct Batch {
    data: DailyData,
    jobs: Vec<String>,
    configs: Vec<String>,
    opts: SymphonyBatchOptions,
}

impl Batch {
    fn new(
        env: &Env,
        data: &NativeDailyData,
        jobs: Vec<String>,
        configs: Vec<String>,
        options: &NativeSymphonyOptions,
        cancel: Option<&CancelToken>,
    ) -> Result<Batch> {
        let threads = options.threads;
        if !(threads.is_finite() && threads >= 1.0 && threads.fract() == 0.0) {
            return Err(throw(
                env,
                failure(
                    CODE_VALIDATION,
                    format!("options.threads: {threads} is not an integer >= 1"),
                ),
            ));
        }
        if configs.len() != 1 && configs.len() != jobs.len() {
            return Err(throw(
                env,
                failure(
                    CODE_VALIDATION,
                    format!(
                        "configs: {} configurations for {} symphonies (expected 1 or {})",
                        configs.len(),
                        jobs.len(),
                        jobs.len()
                    ),
                ),
            ));
        }
        Ok(Batch {
            data: data.inner.clone(),
            jobs,
            configs,
            opts: SymphonyBatchOptions {
                threads: threads.min(usize::MAX as f64) as usize,
                cancel: cancel.map(|c| -> Arc<AtomicBool> { c.flag.clone() }),
            },
        })
    }

    /// Runs every job; a panic that escapes the per-job guards fails every job with it.
    fn run(self) -> Outcomes {
        let n = self.jobs.len();
        catch_unwind(AssertUnwindSafe(|| {
            run_symphonies_json(&self.data, &self.jobs, &self.configs, &self.opts)
        }))
        .unwrap_or_else(|payload| vec![Err(SymphonyError::Panicked(panic_message(payload.as_ref()))); n])
    }
}

/// Runs resolved symphonies over `data` on a pool of `options.threads` threads built for the
/// call, owned by a thread of its own (never the libuv pool). `jobs[i]` is a resolved symphony
/// IR as JSON; `configs` holds one SymphonyRunConfig JSON per job, or one that every job shares.
/// Resolves on the JavaScript thread with one result per job, in job order; a job that is invalid,
/// cancelled or panics has `ok: false` and does not affect the others. Throws
/// ERR_TICKFORGE_VALIDATION for invalid options or a configs count other than 1 or `jobs.length`.
#[napi(ts_return_type = "Promise<Array<NativeSymphonyResult>>")]
pub fn run_symphonies<'env>(
    env: &'env Env,
    data: &NativeDailyData,
    jobs: Vec<String>,
    configs: Vec<String>,
    options: NativeSymphonyOptions,
    cancel: Option<&CancelToken>,
) -> Result<Object<'env>> {
    let batch = Batch::new(env, data, jobs, configs, &options, cancel)?;
    let n = batch.jobs.len();
    type Settle = Box<dyn FnOnce(Env) -> Result<Vec<NativeSymphonyResult>> + Send>;
    let (deferred, promise) = env.create_deferred::<Vec<NativeSymphonyResult>, Settle>()?;
    let settle =
        |outcomes: Outcomes| -> Settle { Box::new(move |_| Ok(outcomes.into_iter().map(to_js).collect())) };
    // The batch reaches the thread through a channel, so that it and the promise are still here
    // to report the failure if the thread cannot start.
    let (send, receive) =
        std::sync::mpsc::channel::<(Batch, napi::JsDeferred<Vec<NativeSymphonyResult>, Settle>)>();
    let started = std::thread::Builder::new()
        .name("tickforge-symphonies".into())
        .stack_size(THREAD_STACK_BYTES)
        .spawn(move || {
            if let Ok((batch, deferred)) = receive.recv() {
                deferred.resolve(settle(batch.run()));
            }
        });
    match started {
        Ok(_) => {
            // The thread is waiting on the channel, so the send cannot fail.
            let _ = send.send((batch, deferred));
        }
        Err(e) => {
            let message = format!("could not start the symphony thread: {e}");
            deferred.resolve(settle(vec![Err(SymphonyError::Panicked(message)); n]));
        }
    }
    Ok(promise)
}

/// `runSymphonies` on the calling thread (with a pool for `options.threads` > 1), returning the
/// results directly; for small runs and scripts.
#[napi]
pub fn run_symphonies_sync(
    env: Env,
    data: &NativeDailyData,
    jobs: Vec<String>,
    configs: Vec<String>,
    options: NativeSymphonyOptions,
    cancel: Option<&CancelToken>,
) -> Result<Vec<NativeSymphonyResult>> {
    let batch = Batch::new(&env, data, jobs, configs, &options, cancel)?;
    Ok(run_on_own_stack(batch).into_iter().map(to_js).collect())
}

/// Runs the batch on a scoped thread with `THREAD_STACK_BYTES` of stack (deep trees recurse
/// deeper than the calling thread's stack may allow), or on the calling thread if no thread can
/// be started.
fn run_on_own_stack(batch: Batch) -> Outcomes {
    let n = batch.jobs.len();
    let mut slot = Some(batch);
    let ran = std::thread::scope(|scope| {
        let slot = &mut slot;
        std::thread::Builder::new()
            .name("tickforge-symphonies".into())
            .stack_size(THREAD_STACK_BYTES)
            .spawn_scoped(scope, move || slot.take().map(Batch::run))
            .ok()
            .and_then(|handle| handle.join().ok().flatten())
    });
    match (ran, slot) {
        (Some(outcomes), _) => outcomes,
        (None, Some(batch)) => batch.run(),
        (None, None) => {
            let lost = SymphonyError::Panicked("the symphony thread stopped without a result".into());
            vec![Err(lost); n]
        }
    }
}
