//! Thin Node.js binding of `tickforge-core`: converts types, runs work on a Rayon pool this binding
//! owns, and turns engine errors and panics into JavaScript errors with typed codes. No engine
//! logic lives here.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tickforge_core::generate::{self, BarGenOptions, TickGenOptions};
use tickforge_core::profile::Step;
use tickforge_core::{
    compile, run_with_control, BarData, ErrorKind, MarketData, Program, RunConfig, RunControl, RunOutput,
    Strategy, TickData, Timeframe,
};

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

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "engine panicked".to_string()
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
    /// Codes: 0 invalid_lots, 1 min_lot, 2 max_lot, 3 invalid_sl, 4 invalid_tp, 5 margin.
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
            format!("engine panicked: {}", panic_message(payload)),
        )),
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
    let m = &out.metrics;
    let metrics = NativeMetrics {
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
    };
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
