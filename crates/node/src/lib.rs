//! Thin Node.js binding of `tickforge-core`: converts types, runs work on a Rayon pool this binding
//! owns, and turns engine errors and panics into JavaScript errors with typed codes. No engine
//! logic lives here.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::JsDeferred;
use napi_derive::napi;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tickforge_core::generate::{self, BarGenOptions, TickGenOptions};
use tickforge_core::profile::Step;
use tickforge_core::{
    compile, panic_message, run_grid, run_jobs as run_jobs_core, run_with_control, BarData, BatchOptions,
    ErrorKind, Fault, JobResult, JobStatus, MarketData, Metrics, Program, RunConfig, RunControl, RunOutput,
    Strategy, TickData, Timeframe,
};

mod load;
mod symphony;

/// Error codes the TypeScript layer maps to its error classes.
const CODE_VALIDATION: &str = "ERR_TICKFORGE_VALIDATION";
const CODE_PANIC: &str = "ERR_TICKFORGE_PANIC";
const CODE_CANCELLED: &str = "ERR_TICKFORGE_CANCELLED";
const CODE_TIMEOUT: &str = "ERR_TICKFORGE_TIMEOUT";

/// An error with one of the codes above, before it reaches JavaScript.
#[derive(Debug)]
struct Failure {
    code: &'static str,
    message: String,
}

fn failure(code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

fn engine_error(e: tickforge_core::Error) -> Failure {
    let code = match e.kind {
        ErrorKind::Cancelled => CODE_CANCELLED,
        ErrorKind::Timeout => CODE_TIMEOUT,
        _ => CODE_VALIDATION,
    };
    failure(code, e.to_string())
}

/// Throws `f` as a JavaScript Error whose `code` is the failure's code.
fn throw(env: &Env, f: Failure) -> Error {
    match env.throw_error(&f.message, Some(f.code)) {
        Ok(()) => Error::from_status(Status::PendingException),
        Err(e) => e,
    }
}

/// The binding's own pool: never the libuv pool (long jobs there starve fs and dns) and never
/// Rayon's global pool (shared with any other addon in the process, and torn down at exit).
fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("tickforge-{i}"))
            .build()
            .expect("the tickforge thread pool could not start")
    })
}

// ------------------------------------------------------------------------------------ market data

/// Validated market data held on the Rust side, copied once from the typed arrays and shared
/// read-only by every run that uses it.
#[napi]
pub struct NativeMarketData {
    inner: MarketData,
}

#[napi]
impl NativeMarketData {
    #[napi(factory)]
    pub fn from_ticks(
        env: Env,
        time: Float64ArraySlice,
        bid: Float64ArraySlice,
        ask: Float64ArraySlice,
        volume: Option<Float64ArraySlice>,
    ) -> Result<Self> {
        TickData::from_slices(&time, &bid, &ask, volume.as_deref())
            .map(|ticks| NativeMarketData {
                inner: MarketData::Ticks(ticks),
            })
            .map_err(|e| throw(&env, engine_error(e)))
    }

    #[napi(factory)]
    #[allow(clippy::too_many_arguments)]
    pub fn from_bars(
        env: Env,
        timeframe: String,
        time: Float64ArraySlice,
        open: Float64ArraySlice,
        high: Float64ArraySlice,
        low: Float64ArraySlice,
        close: Float64ArraySlice,
        volume: Float64ArraySlice,
    ) -> Result<Self> {
        let tf = parse_timeframe(&timeframe, "bars.timeframe").map_err(|f| throw(&env, f))?;
        BarData::from_slices(tf, &time, &open, &high, &low, &close, &volume)
            .map(|bars| NativeMarketData {
                inner: MarketData::Bars(bars),
            })
            .map_err(|e| throw(&env, engine_error(e)))
    }

    /// Number of ticks or bars.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.inner.len() as u32
    }
}

/// Market data copied in pieces: each `push` copies one slice of one column, so no call blocks the
/// event loop for long however large the data; `finish` validates the columns on the binding's
/// pool and resolves with the data (the async twin of the `from_*` factories).
#[napi]
pub struct NativeDataBuilder {
    columns: Vec<Vec<f64>>,
}

/// What `NativeDataBuilder.finish` resolves with: the data, or why it is invalid.
#[napi(object, object_from_js = false)]
pub struct NativeDataResult {
    pub data: Option<NativeMarketData>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[napi]
impl NativeDataBuilder {
    /// `columns` columns of `rows` rows each: ticks are time, bid, ask and an optional volume;
    /// bars are time, open, high, low, close, volume.
    #[napi(constructor)]
    pub fn new(columns: u32, rows: u32) -> Self {
        NativeDataBuilder {
            columns: (0..columns).map(|_| Vec::with_capacity(rows as usize)).collect(),
        }
    }

    /// Appends `piece` to column `column`.
    #[napi]
    pub fn push(&mut self, env: Env, column: u32, piece: Float64ArraySlice) -> Result<()> {
        match self.columns.get_mut(column as usize) {
            Some(c) => {
                c.extend_from_slice(&piece);
                Ok(())
            }
            None => Err(throw(
                &env,
                failure(CODE_VALIDATION, format!("no column {column}")),
            )),
        }
    }

    /// Validates the columns pushed as ticks (`timeframe` absent) or as bars of `timeframe`, off
    /// the event loop; the builder is empty afterwards.
    #[napi(ts_return_type = "Promise<NativeDataResult>")]
    pub fn finish<'env>(&mut self, env: &'env Env, timeframe: Option<String>) -> Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred::<NativeDataResult, _>()?;
        let columns = std::mem::take(&mut self.columns);
        pool().spawn(move || {
            let result = build_market(columns, timeframe.as_deref());
            deferred.resolve(move |_| {
                Ok(match result {
                    Ok(inner) => NativeDataResult {
                        data: Some(NativeMarketData { inner }),
                        error_code: None,
                        error_message: None,
                    },
                    Err(f) => NativeDataResult {
                        data: None,
                        error_code: Some(f.code.to_string()),
                        error_message: Some(f.message),
                    },
                })
            })
        });
        Ok(promise)
    }
}

fn build_market(columns: Vec<Vec<f64>>, timeframe: Option<&str>) -> std::result::Result<MarketData, Failure> {
    let has_volume = columns.len() > 3;
    let mut it = columns.into_iter();
    let mut next = || it.next().unwrap_or_default();
    match timeframe {
        None => {
            let (time, bid, ask) = (next(), next(), next());
            let volume = has_volume.then(next);
            TickData::new(time, bid, ask, volume)
                .map(MarketData::Ticks)
                .map_err(engine_error)
        }
        Some(tf) => {
            let tf = parse_timeframe(tf, "bars.timeframe")?;
            BarData::new(tf, next(), next(), next(), next(), next(), next())
                .map(MarketData::Bars)
                .map_err(engine_error)
        }
    }
}

fn parse_timeframe(s: &str, path: &str) -> std::result::Result<Timeframe, Failure> {
    Timeframe::parse(s).ok_or_else(|| {
        failure(
            CODE_VALIDATION,
            format!("{path}: unknown timeframe '{s}' (expected one of M1, M5, M15, M30, H1, H4, D1)"),
        )
    })
}

// ------------------------------------------------------------------------------------ cancellation

/// A flag the TypeScript wrapper sets when the caller's AbortSignal fires; the engine polls it.
#[napi]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
}

#[napi]
impl CancelToken {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        CancelToken {
            flag: Arc::new(AtomicBool::new(false)),
        }
    }

    #[napi]
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }
}

// ------------------------------------------------------------------------------------ runs

#[napi(object)]
pub struct RunOptions {
    /// Stop with ERR_TICKFORGE_TIMEOUT after this many milliseconds (checked inside the loop).
    pub timeout_ms: Option<f64>,
    /// Testing aid: `"panic"` makes the run panic inside the engine thread, to prove that a panic
    /// becomes a rejected promise and never crosses into Node.
    pub fault: Option<String>,
}

#[napi(object)]
pub struct NativeTrades {
    pub id: Uint32Array,
    pub side: Int8Array,
    pub lots: Float64Array,
    pub entry_time: Float64Array,
    pub entry_price: Float64Array,
    pub exit_time: Float64Array,
    pub exit_price: Float64Array,
    pub sl: Float64Array,
    pub tp: Float64Array,
    pub gross_pnl: Float64Array,
    pub commission: Float64Array,
    pub pnl: Float64Array,
    pub pips: Float64Array,
    /// Exit reasons as codes: 0 sl, 1 tp, 2 signal, 3 reverse, 4 end.
    pub reason: Uint8Array,
}

/// Rejected orders, columnar: a strategy that keeps ordering on a drained account can produce
/// millions, which as one JavaScript object each would cost more than the run.
#[napi(object)]
pub struct NativeRejections {
    pub time: Float64Array,
    pub side: Int8Array,
    pub lots: Float64Array,
    /// Codes: 0 invalid_lots, 1 min_lot, 2 max_lot, 3 invalid_sl, 4 invalid_tp, 5 margin,
    /// 6 invalid_price.
    pub reason: Uint8Array,
    pub required: Float64Array,
    pub free: Float64Array,
}

#[napi(object)]
pub struct NativeProfileStep {
    pub name: String,
    pub ms: f64,
    pub count: f64,
}

#[napi(object)]
pub struct NativeMetrics {
    pub net_profit: f64,
    pub return_pct: f64,
    pub cagr_pct: f64,
    pub max_drawdown: f64,
    pub max_drawdown_pct: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub calmar: f64,
    pub profit_factor: f64,
    pub win_rate_pct: f64,
    pub trade_count: u32,
    pub wins: u32,
    pub losses: u32,
    pub avg_win: f64,
    pub avg_loss: f64,
    pub expectancy: f64,
    pub sqn: f64,
    pub exposure_pct: f64,
    pub max_consecutive_losses: u32,
    pub gross_profit: f64,
    pub gross_loss: f64,
    pub total_commission: f64,
    pub final_balance: f64,
    pub rejected_orders: u32,
}

#[napi(object)]
pub struct NativeRunOutput {
    pub trades: NativeTrades,
    pub equity_time: Float64Array,
    pub equity: Float64Array,
    pub balance: Float64Array,
    pub metrics: NativeMetrics,
    pub rejections: NativeRejections,
    pub profile: Option<Vec<NativeProfileStep>>,
    pub events: f64,
    /// Wall time of the engine loop alone (no conversion), for throughput figures.
    pub engine_ms: f64,
}

/// Everything a run needs, parsed and compiled on the calling thread so that bad input is
/// reported synchronously and the worker thread only simulates.
struct Job {
    data: MarketData,
    program: Program,
    config: RunConfig,
    control: RunControl,
    fault: Option<String>,
}

fn prepare(
    data: &NativeMarketData,
    strategy_json: &str,
    params_json: &str,
    config_json: &str,
    cancel: Option<&CancelToken>,
    options: Option<RunOptions>,
) -> std::result::Result<Job, Failure> {
    let strategy = Strategy::from_json(strategy_json).map_err(engine_error)?;
    let params: BTreeMap<String, f64> =
        tickforge_core::ir::parse_params(params_json).map_err(engine_error)?;
    let program = compile(&strategy, &params).map_err(engine_error)?;
    let config = RunConfig::from_json(config_json).map_err(engine_error)?;
    let options = options.unwrap_or(RunOptions {
        timeout_ms: None,
        fault: None,
    });
    let deadline = match options.timeout_ms {
        Some(ms) if ms.is_finite() && ms >= 0.0 => {
            Some(Instant::now() + Duration::from_secs_f64(ms / 1000.0))
        }
        Some(ms) => {
            return Err(failure(
                CODE_VALIDATION,
                format!("options.timeoutMs: {ms} is not a finite non-negative number"),
            ))
        }
        None => None,
    };
    let control = RunControl {
        cancel: cancel.map(|c| c.flag.clone()),
        deadline,
    };
    Ok(Job {
        data: data.inner.clone(),
        program,
        config,
        control,
        fault: options.fault,
    })
}

/// Runs a job with panics caught: a panic becomes an error result, never an unwind into Node.
fn execute(job: &Job) -> std::result::Result<(RunOutput, f64), Failure> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        if job.fault.as_deref() == Some("panic") {
            panic!("injected fault");
        }
        let started = Instant::now();
        let out = run_with_control(&job.data, &job.program, &job.config, &job.control);
        (out, started.elapsed().as_secs_f64() * 1000.0)
    }));
    match outcome {
        Ok((Ok(out), ms)) => Ok((out, ms)),
        Ok((Err(e), _)) => Err(engine_error(e)),
        Err(payload) => Err(failure(
            CODE_PANIC,
            format!("engine panicked: {}", panic_message(payload.as_ref())),
        )),
    }
}

fn metrics_to_js(m: &Metrics) -> NativeMetrics {
    NativeMetrics {
        net_profit: m.net_profit,
        return_pct: m.return_pct,
        cagr_pct: m.cagr_pct,
        max_drawdown: m.max_drawdown,
        max_drawdown_pct: m.max_drawdown_pct,
        sharpe: m.sharpe,
        sortino: m.sortino,
        calmar: m.calmar,
        profit_factor: m.profit_factor,
        win_rate_pct: m.win_rate_pct,
        trade_count: m.trade_count,
        wins: m.wins,
        losses: m.losses,
        avg_win: m.avg_win,
        avg_loss: m.avg_loss,
        expectancy: m.expectancy,
        sqn: m.sqn,
        exposure_pct: m.exposure_pct,
        max_consecutive_losses: m.max_consecutive_losses,
        gross_profit: m.gross_profit,
        gross_loss: m.gross_loss,
        total_commission: m.total_commission,
        final_balance: m.final_balance,
        rejected_orders: m.rejected_orders,
    }
}

fn to_js(out: RunOutput, engine_ms: f64) -> NativeRunOutput {
    let t = &out.trades;
    let col = |f: &dyn Fn(&tickforge_core::Trade) -> f64| Float64Array::new(t.iter().map(f).collect());
    let trades = NativeTrades {
        id: Uint32Array::new(t.iter().map(|x| x.id).collect()),
        side: Int8Array::new(t.iter().map(|x| x.side).collect()),
        lots: col(&|x| x.lots),
        entry_time: col(&|x| x.entry_time),
        entry_price: col(&|x| x.entry_price),
        exit_time: col(&|x| x.exit_time),
        exit_price: col(&|x| x.exit_price),
        sl: col(&|x| x.sl),
        tp: col(&|x| x.tp),
        gross_pnl: col(&|x| x.gross_pnl),
        commission: col(&|x| x.commission),
        pnl: col(&|x| x.pnl),
        pips: col(&|x| x.pips),
        reason: Uint8Array::new(t.iter().map(|x| x.reason as u8).collect()),
    };
    let metrics = metrics_to_js(&out.metrics);
    let r = &out.rejections;
    let rcol = |f: &dyn Fn(&tickforge_core::Rejection) -> f64| Float64Array::new(r.iter().map(f).collect());
    let rejections = NativeRejections {
        time: rcol(&|x| x.time),
        side: Int8Array::new(r.iter().map(|x| x.side).collect()),
        lots: rcol(&|x| x.lots),
        reason: Uint8Array::new(r.iter().map(|x| x.reason as u8).collect()),
        required: rcol(&|x| x.required),
        free: rcol(&|x| x.free),
    };
    let profile = out.profile.as_ref().map(|p| {
        Step::ALL
            .iter()
            .map(|&s| NativeProfileStep {
                name: s.name().to_string(),
                ms: p.get(s).ms,
                count: p.get(s).count as f64,
            })
            .collect()
    });
    NativeRunOutput {
        trades,
        equity_time: Float64Array::new(out.equity.time),
        equity: Float64Array::new(out.equity.equity),
        balance: Float64Array::new(out.equity.balance),
        metrics,
        rejections,
        profile,
        events: out.events as f64,
        engine_ms,
    }
}

/// A run's outcome as data: either `output`, or `errorCode` and `errorMessage`. Returning errors
/// as data keeps the sync and async paths identical and lets the TypeScript layer raise its own
/// error classes.
#[napi(object)]
pub struct NativeRunResult {
    pub output: Option<NativeRunOutput>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

impl NativeRunResult {
    fn from(result: std::result::Result<(RunOutput, f64), Failure>) -> Self {
        match result {
            Ok((out, ms)) => NativeRunResult {
                output: Some(to_js(out, ms)),
                error_code: None,
                error_message: None,
            },
            Err(f) => NativeRunResult {
                output: None,
                error_code: Some(f.code.to_string()),
                error_message: Some(f.message),
            },
        }
    }
}

/// Runs one backtest on the calling thread (for small runs and scripts).
#[napi]
pub fn backtest_sync(
    data: &NativeMarketData,
    strategy_json: String,
    params_json: String,
    config_json: String,
    cancel: Option<&CancelToken>,
    options: Option<RunOptions>,
) -> NativeRunResult {
    let result = prepare(data, &strategy_json, &params_json, &config_json, cancel, options)
        .and_then(|job| execute(&job));
    NativeRunResult::from(result)
}

/// Runs one backtest on the binding's pool. Input is checked on the calling thread; the promise
/// settles on the JavaScript thread once the pool thread is done.
#[napi(ts_return_type = "Promise<NativeRunResult>")]
#[allow(clippy::too_many_arguments)]
pub fn backtest<'env>(
    env: &'env Env,
    data: &NativeMarketData,
    strategy_json: String,
    params_json: String,
    config_json: String,
    cancel: Option<&CancelToken>,
    options: Option<RunOptions>,
) -> Result<Object<'env>> {
    let (deferred, promise) = env.create_deferred::<NativeRunResult, _>()?;
    let prepared = prepare(data, &strategy_json, &params_json, &config_json, cancel, options);
    pool().spawn(move || {
        let result = prepared.and_then(|job| execute(&job));
        deferred.resolve(move |_| Ok(NativeRunResult::from(result)))
    });
    Ok(promise)
}

// ------------------------------------------------------------------------------------ batches

/// Options of `optimizeGrid` and `runJobs`.
#[napi(object)]
pub struct NativeBatchOptions {
    /// Threads of the pool built for the call (an integer >= 1).
    pub threads: f64,
    /// Per job, from its start; a job past it ends `timed_out` at its next check.
    pub timeout_ms: Option<f64>,
    /// Keep each job's full output (trades, equity); by default only metrics.
    pub keep_output: Option<bool>,
    /// Grids only: compute indicator series that several combinations share once (default true).
    pub share_series: Option<bool>,
    /// The shortest gap between two progress calls, in milliseconds (default 20); 0 calls once
    /// per job.
    pub progress_interval_ms: Option<f64>,
    /// Return the jobs as one `table` of columns rather than an object per job (`results` is then
    /// left out): a grid of thousands of short jobs otherwise spends more time building objects
    /// on the JavaScript thread than running.
    pub table: Option<bool>,
    /// Testing aid: these job indices panic inside the engine thread.
    pub fault_panic_at: Option<Vec<u32>>,
    /// Testing aid: these job indices never finish on their own (only a timeout or a cancel ends
    /// them).
    pub fault_hang_at: Option<Vec<u32>>,
}

#[napi(object)]
pub struct NativeJobResult {
    /// `completed`, `failed`, `timed_out` or `cancelled`.
    pub status: String,
    pub metrics: Option<NativeMetrics>,
    pub trade_count: u32,
    /// With `keepOutput`, for completed jobs.
    pub output: Option<NativeRunOutput>,
    /// `EnginePanic` or `ValidationError` for failed jobs.
    pub error_type: Option<String>,
    pub message: Option<String>,
    pub elapsed_ms: f64,
}

/// A job that did not complete with a reason, in a `NativeJobTable`.
#[napi(object)]
pub struct NativeJobError {
    pub index: u32,
    /// `EnginePanic` or `ValidationError` for failed jobs.
    pub error_type: Option<String>,
    pub message: String,
}

/// Every job of a batch as columns, in job order: what `NativeJobResult` holds but `output`.
#[napi(object)]
pub struct NativeJobTable {
    /// Each job's status as its place in `statusNames`.
    pub status: Uint8Array,
    pub status_names: Vec<String>,
    pub trade_count: Uint32Array,
    pub elapsed_ms: Float64Array,
    /// `metricNames.length` values per job, the names those of `NativeMetrics`; a job without
    /// metrics has a row of NaN.
    pub metrics: Float64Array,
    pub metric_names: Vec<String>,
    /// The jobs with an error type or a message, in job order.
    pub errors: Vec<NativeJobError>,
}

/// A batch's outcome as data: `results` in job order (or `table` when asked for), or `errorCode`
/// and `errorMessage` when the call itself was invalid (then no job ran).
#[napi(object)]
pub struct NativeBatchResult {
    pub results: Option<Vec<NativeJobResult>>,
    pub table: Option<NativeJobTable>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// One scenario of `runJobs`.
#[napi(object, object_to_js = false)]
pub struct NativeJobInput<'a> {
    pub data: ClassInstance<'a, NativeMarketData>,
    pub strategy_json: String,
    pub params_json: String,
    pub config_json: String,
}

fn job_to_js(r: JobResult) -> NativeJobResult {
    NativeJobResult {
        status: r.status.as_str().to_string(),
        metrics: r.metrics.as_ref().map(metrics_to_js),
        trade_count: r.trade_count,
        output: r.output.map(|out| to_js(out, r.elapsed_ms)),
        error_type: r.error_type,
        message: r.message,
        elapsed_ms: r.elapsed_ms,
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| n.to_string()).collect()
}

impl NativeJobTable {
    fn from(results: Vec<JobResult>) -> Self {
        let n = results.len();
        let (mut status, mut trades, mut elapsed) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut metrics = Vec::with_capacity(n * Metrics::NAMES.len());
        let mut errors = Vec::new();
        for (i, r) in results.into_iter().enumerate() {
            status.push(r.status.code());
            trades.push(r.trade_count);
            elapsed.push(r.elapsed_ms);
            match &r.metrics {
                Some(m) => metrics.extend(m.row()),
                None => metrics.extend([f64::NAN; Metrics::NAMES.len()]),
            }
            if r.error_type.is_some() || r.message.is_some() {
                errors.push(NativeJobError {
                    index: i as u32,
                    error_type: r.error_type,
                    message: r.message.unwrap_or_default(),
                });
            }
        }
        let statuses: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
        NativeJobTable {
            status: Uint8Array::new(status),
            status_names: names(&statuses),
            trade_count: Uint32Array::new(trades),
            elapsed_ms: Float64Array::new(elapsed),
            metrics: Float64Array::new(metrics),
            metric_names: names(&Metrics::NAMES),
            errors,
        }
    }
}

impl NativeBatchResult {
    fn from(outcome: std::result::Result<Vec<JobResult>, Failure>, table: bool) -> Self {
        match outcome {
            Ok(results) if table => NativeBatchResult {
                results: None,
                table: Some(NativeJobTable::from(results)),
                error_code: None,
                error_message: None,
            },
            Ok(results) => NativeBatchResult {
                results: Some(results.into_iter().map(job_to_js).collect()),
                table: None,
                error_code: None,
                error_message: None,
            },
            Err(f) => NativeBatchResult {
                results: None,
                table: None,
                error_code: Some(f.code.to_string()),
                error_message: Some(f.message),
            },
        }
    }
}

/// The names of the metrics in a row of a `NativeJobTable` or of a progress call, in order.
#[napi]
pub fn metric_names() -> Vec<String> {
    names(&Metrics::NAMES)
}

/// The progress callback: weak, so that a pending one never keeps Node alive (napi-rs#1732);
/// called without an error argument; at most 64 calls queued, and a call that finds the queue
/// full is dropped, so a worker never waits for JavaScript.
type ProgressArgs = FnArgs<(u32, u32, Uint32Array, Float64Array)>;
type ProgressFn = ThreadsafeFunction<ProgressArgs, Unknown<'static>, ProgressArgs, Status, false, true, 64>;

/// The default shortest gap between two progress calls: a call per job would cost the JavaScript
/// thread (which shares the cores with the pool) more than a short job costs to run.
const PROGRESS_EVERY: Duration = Duration::from_millis(20);

/// What the next progress call carries.
struct TallyState {
    ended: u32,
    not_completed: u32,
    last_call: Option<Instant>,
    /// Jobs completed since the last call, and their metrics as rows in `Metrics::NAMES` order.
    indices: Vec<u32>,
    metrics: Vec<f64>,
}

/// Counts jobs as they end and reports `(ended, not completed, indices, metrics)`: `ended` counts
/// every status, the second every status but `completed`; `indices` are the jobs completed since
/// the previous call and `metrics` their rows (`metricNames()` values each), so the caller can
/// track the best so far. Calls come at
/// most every `every`, the first job and the last (`total`) always making one. The
/// counts and the call share one short lock so that calls are queued in the order of their counts
/// and never report a smaller count after a larger one; the call itself only enqueues.
struct Tally {
    state: std::sync::Mutex<TallyState>,
    total: u32,
    every: Duration,
    progress: Option<ProgressFn>,
}

impl Tally {
    fn new(progress: Option<ProgressFn>, total: usize, options: &NativeBatchOptions) -> Self {
        let every = options
            .progress_interval_ms
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map_or(PROGRESS_EVERY, |ms| Duration::from_secs_f64(ms / 1000.0));
        Tally {
            state: std::sync::Mutex::new(TallyState {
                ended: 0,
                not_completed: 0,
                last_call: None,
                indices: Vec::new(),
                metrics: Vec::new(),
            }),
            total: u32::try_from(total).unwrap_or(u32::MAX),
            every,
            progress,
        }
    }

    fn done(&self, index: usize, result: &JobResult) {
        let mut s = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        s.ended += 1;
        if result.status != JobStatus::Completed {
            s.not_completed += 1;
        }
        let Some(progress) = &self.progress else {
            return;
        };
        if let (JobStatus::Completed, Some(m)) = (result.status, &result.metrics) {
            s.indices.push(index as u32);
            s.metrics.extend(m.row());
        }
        let now = Instant::now();
        let due = s.ended == self.total || !matches!(s.last_call, Some(t) if now - t < self.every);
        if !due {
            return;
        }
        s.last_call = Some(now);
        let indices = std::mem::take(&mut s.indices);
        let metrics = std::mem::take(&mut s.metrics);
        // A full queue (QueueFull) or a closing environment only loses this update.
        let args = FnArgs::from((
            s.ended,
            s.not_completed,
            Uint32Array::new(indices),
            Float64Array::new(metrics),
        ));
        let _ = progress.call(args, ThreadsafeFunctionCallMode::NonBlocking);
    }
}

/// Options shared by both batch kinds, checked on the calling thread.
fn batch_options(
    options: &NativeBatchOptions,
    cancel: Option<&CancelToken>,
) -> std::result::Result<BatchOptions, Failure> {
    let threads = options.threads;
    if !(threads.is_finite() && threads >= 1.0 && threads.fract() == 0.0) {
        return Err(failure(
            CODE_VALIDATION,
            format!("options.threads: {threads} is not an integer >= 1"),
        ));
    }
    let job_timeout = match options.timeout_ms {
        // A limit too large for a Duration is no limit.
        Some(ms) if ms.is_finite() && ms >= 0.0 => Duration::try_from_secs_f64(ms / 1000.0).ok(),
        Some(ms) => {
            return Err(failure(
                CODE_VALIDATION,
                format!("options.timeoutMs: {ms} is not a finite non-negative number"),
            ))
        }
        None => None,
    };
    let indices = |v: &Option<Vec<u32>>| -> Vec<usize> { v.iter().flatten().map(|&i| i as usize).collect() };
    let fault = (options.fault_panic_at.is_some() || options.fault_hang_at.is_some()).then(|| Fault {
        panic_at: indices(&options.fault_panic_at),
        hang_at: indices(&options.fault_hang_at),
    });
    Ok(BatchOptions {
        threads: threads.min(usize::MAX as f64) as usize,
        job_timeout,
        cancel: cancel.map(|c| c.flag.clone()),
        keep_output: options.keep_output.unwrap_or(false),
        share_series: options.share_series.unwrap_or(true),
        fault,
    })
}

/// The parameter combinations: a JSON array of objects of numbers.
fn parse_combos(json: &str) -> std::result::Result<Vec<BTreeMap<String, f64>>, Failure> {
    let invalid = |path: String, message: String| failure(CODE_VALIDATION, format!("{path}: {message}"));
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| invalid("combos".into(), e.to_string()))?;
    let serde_json::Value::Array(items) = value else {
        return Err(invalid("combos".into(), "expected an array".into()));
    };
    let mut combos = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let serde_json::Value::Object(map) = item else {
            return Err(invalid(format!("combos[{i}]"), "expected an object".into()));
        };
        let mut combo = BTreeMap::new();
        for (name, v) in map {
            match v.as_f64() {
                Some(x) if v.is_number() => {
                    combo.insert(name, x);
                }
                _ => {
                    return Err(invalid(
                        format!("combos[{i}].{name}"),
                        format!("expected a number, got {v}"),
                    ))
                }
            }
        }
        combos.push(combo);
    }
    Ok(combos)
}

type Settle = Box<dyn FnOnce(Env) -> Result<NativeBatchResult> + Send>;

/// Runs `work` on a thread of its own, which owns the batch's pool for the whole call: never a
/// libuv thread (a long batch there starves fs and dns) and never a thread of the binding's pool
/// (which single backtests share). Settles the promise with the results, or with a panic that
/// escaped the per-job guards.
fn spawn_batch<'env, W>(env: &'env Env, table: bool, work: W) -> Result<Object<'env>>
where
    W: FnOnce() -> std::result::Result<Vec<JobResult>, Failure> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred::<NativeBatchResult, Settle>()?;
    let settle = move |outcome: std::result::Result<Vec<JobResult>, Failure>| -> Settle {
        Box::new(move |_| Ok(NativeBatchResult::from(outcome, table)))
    };
    // The work reaches the thread through a channel, so that it and the promise are still here to
    // report the failure if the thread cannot start.
    let (send, receive) = std::sync::mpsc::channel::<(W, JsDeferred<NativeBatchResult, Settle>)>();
    let started = std::thread::Builder::new()
        .name("tickforge-batch".into())
        .spawn(move || {
            if let Ok((work, deferred)) = receive.recv() {
                let outcome = catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| {
                    Err(failure(
                        CODE_PANIC,
                        format!("engine panicked: {}", panic_message(payload.as_ref())),
                    ))
                });
                deferred.resolve(settle(outcome));
            }
        });
    match started {
        Ok(_) => {
            // The thread is waiting on the channel, so the send cannot fail.
            let _ = send.send((work, deferred));
        }
        Err(e) => deferred.resolve(settle(Err(failure(
            CODE_PANIC,
            format!("could not start the batch thread: {e}"),
        )))),
    }
    Ok(promise)
}

/// Runs a strategy once per parameter combination on a pool of `options.threads` threads built
/// for the call. The strategy, config, combinations and options are checked here, on the calling
/// thread: a problem there resolves with `errorCode`/`errorMessage` and no job runs. A combination
/// that does not compile becomes a failed job (`ValidationError`). `onProgress(ended, notCompleted,
/// indices, metrics)` is called as jobs end, at most every 20 ms (lossy; calls are dropped while
/// JavaScript is busy), `metrics` holding a row of `metricNames()` per index; results come with
/// the promise, in combination order.
#[napi(
    ts_args_type = "data: NativeMarketData, strategyJson: string, combosJson: string, configJson: string, options: NativeBatchOptions, cancel?: CancelToken | undefined | null, onProgress?: ((ended: number, notCompleted: number, indices: Uint32Array, metrics: Float64Array) => void) | undefined | null",
    ts_return_type = "Promise<NativeBatchResult>"
)]
#[allow(clippy::too_many_arguments)]
pub fn optimize_grid<'env>(
    env: &'env Env,
    data: &NativeMarketData,
    strategy_json: String,
    combos_json: String,
    config_json: String,
    options: NativeBatchOptions,
    cancel: Option<&CancelToken>,
    on_progress: Option<ProgressFn>,
) -> Result<Object<'env>> {
    let prepared = (|| {
        let strategy = Strategy::from_json(&strategy_json).map_err(engine_error)?;
        let config = RunConfig::from_json(&config_json).map_err(engine_error)?;
        config.validate().map_err(engine_error)?;
        let combos = parse_combos(&combos_json)?;
        let opts = batch_options(&options, cancel)?;
        Ok((strategy, config, combos, opts))
    })();
    let data = data.inner.clone();
    let total = prepared.as_ref().map_or(0, |p| p.2.len());
    let tally = Tally::new(on_progress, total, &options);
    let table = options.table.unwrap_or(false);
    spawn_batch(env, table, move || {
        let (strategy, config, combos, opts) = prepared?;
        Ok(run_grid(&data, &strategy, &combos, &config, &opts, &|i, r| {
            tally.done(i, r)
        }))
    })
}

/// Runs unrelated scenarios, each with its own data, strategy, parameters and config, on a pool
/// of `options.threads` threads built for the call (`shareSeries` does not apply). A scenario
/// whose strategy, parameters or config is invalid becomes a failed job (`ValidationError`)
/// without running; the others run. Progress and results as in `optimizeGrid`.
#[napi(
    ts_args_type = "jobs: Array<NativeJobInput>, options: NativeBatchOptions, cancel?: CancelToken | undefined | null, onProgress?: ((ended: number, notCompleted: number, indices: Uint32Array, metrics: Float64Array) => void) | undefined | null",
    ts_return_type = "Promise<NativeBatchResult>"
)]
pub fn run_jobs<'env>(
    env: &'env Env,
    jobs: Vec<NativeJobInput<'env>>,
    options: NativeBatchOptions,
    cancel: Option<&CancelToken>,
    on_progress: Option<ProgressFn>,
) -> Result<Object<'env>> {
    // Each job is checked here; an invalid one keeps its error in its slot.
    let checked: Vec<std::result::Result<(MarketData, Program, RunConfig), tickforge_core::Error>> = jobs
        .iter()
        .map(|job| {
            let strategy = Strategy::from_json(&job.strategy_json)?;
            let params = tickforge_core::ir::parse_params(&job.params_json)?;
            let program = compile(&strategy, &params)?;
            let config = RunConfig::from_json(&job.config_json)?;
            config.validate()?;
            Ok((job.data.inner.clone(), program, config))
        })
        .collect();
    let opts = batch_options(&options, cancel);
    let tally = Tally::new(on_progress, checked.len(), &options);
    let table = options.table.unwrap_or(false);
    spawn_batch(env, table, move || {
        let opts = opts?;
        let mut results: Vec<Option<JobResult>> = Vec::with_capacity(checked.len());
        let mut valid = Vec::new();
        let mut slots = Vec::new();
        for (i, job) in checked.into_iter().enumerate() {
            match job {
                Ok(job) => {
                    slots.push(i);
                    valid.push(job);
                    results.push(None);
                }
                Err(e) => {
                    let failed = JobResult {
                        status: JobStatus::Failed,
                        metrics: None,
                        trade_count: 0,
                        output: None,
                        error_type: Some(tickforge_core::batch::VALIDATION_ERROR.to_string()),
                        message: Some(e.to_string()),
                        elapsed_ms: 0.0,
                    };
                    tally.done(i, &failed);
                    results.push(Some(failed));
                }
            }
        }
        let ran = run_jobs_core(&valid, &opts, &|k, r| tally.done(slots[k], r));
        for (slot, result) in slots.into_iter().zip(ran) {
            results[slot] = Some(result);
        }
        Ok(results.into_iter().flatten().collect())
    })
}

// ------------------------------------------------------------------------------------ synthetic data

#[napi(object)]
pub struct TickGenInput {
    pub start: f64,
    pub days: f64,
    pub seed: u32,
    pub start_price: f64,
    pub digits: u32,
    pub mean_interval_ms: f64,
    pub step_points: f64,
}

#[napi(object)]
pub struct TickColumnsOutput {
    pub time: Float64Array,
    pub bid: Float64Array,
    pub ask: Float64Array,
}

#[napi(object)]
pub struct BarGenInput {
    pub timeframe: String,
    pub start: f64,
    pub count: u32,
    pub seed: u32,
    pub start_price: f64,
    pub digits: u32,
    pub step_points: f64,
}

#[napi(object)]
pub struct BarColumnsOutput {
    pub time: Float64Array,
    pub open: Float64Array,
    pub high: Float64Array,
    pub low: Float64Array,
    pub close: Float64Array,
    pub volume: Float64Array,
}

/// The seeded synthetic tick generator of docs/semantics.md section 9.
#[napi]
pub fn generate_ticks(input: TickGenInput) -> TickColumnsOutput {
    let cols = generate::generate_ticks(&TickGenOptions {
        start: input.start,
        days: input.days,
        seed: input.seed,
        start_price: input.start_price,
        digits: input.digits,
        mean_interval_ms: input.mean_interval_ms,
        step_points: input.step_points,
    });
    TickColumnsOutput {
        time: Float64Array::new(cols.time),
        bid: Float64Array::new(cols.bid),
        ask: Float64Array::new(cols.ask),
    }
}

/// The seeded synthetic bar generator of docs/semantics.md section 9.
#[napi]
pub fn generate_bars(env: Env, input: BarGenInput) -> Result<BarColumnsOutput> {
    let timeframe = parse_timeframe(&input.timeframe, "timeframe").map_err(|f| throw(&env, f))?;
    let cols = generate::generate_bars(&BarGenOptions {
        timeframe,
        start: input.start,
        count: input.count as usize,
        seed: input.seed,
        start_price: input.start_price,
        digits: input.digits,
        step_points: input.step_points,
    });
    Ok(BarColumnsOutput {
        time: Float64Array::new(cols.time),
        open: Float64Array::new(cols.open),
        high: Float64Array::new(cols.high),
        low: Float64Array::new(cols.low),
        close: Float64Array::new(cols.close),
        volume: Float64Array::new(cols.volume),
    })
}

/// Version of the native engine, to check that the loaded binary matches the package.
#[napi]
pub fn engine_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
