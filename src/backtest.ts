import { buildRunConfig, type RunSettings } from './config.js';
import { isBarData, isTickData, validateBars, validateTicks } from './data/validate.js';
import { checkTimeframes, runJs } from './engine/js/index.js';
import { loadNative, type NativeBinding } from './engine/native.js';
import { type EngineChoice, type EngineName, selectEngine } from './engine/select.js';
import { CancelledError, EngineError, type Issue, TickforgeError, TimeoutError, ValidationError } from './errors.js';
import { parseStrategy, resolveParams } from './ir/validate.js';
import { newRunId, runLogger } from './log.js';
import { WorkerPool } from './parallel/pool.js';
import { validateRunConfig } from './run-config.js';
import {
  type BarData,
  type EngineOutput,
  EXIT_REASONS,
  type MarketData,
  type Params,
  PROFILE_STEPS,
  type Profile,
  REJECT_REASONS,
  type Rejection,
  type RunConfig,
  type StrategyIR,
  type TickData,
  type Trade,
} from './types.js';

export interface BacktestOptions extends RunSettings {
  /** Columnar ticks (tick mode). Give `ticks` or `bars`, not both. */
  ticks?: TickData;
  /** Columnar bars of one timeframe (bar mode). */
  bars?: BarData;
  /** The strategy IR (JSON object, docs/semantics.md section 4). */
  strategy: StrategyIR;
  /** Values for the strategy's parameters; the rest take their defaults. */
  params?: Params;
  /** `auto` (default): native when the binary loads, else the pure-TypeScript engine. */
  engine?: EngineChoice;
  /** Cancels the run; the promise rejects with CancelledError. */
  signal?: AbortSignal;
  /** Stops the run with TimeoutError after this many milliseconds (checked inside the loop). */
  timeoutMs?: number;
  /** Correlation id for logs and the result; generated when absent. */
  runId?: string;
  /** @internal Testing aid: `'panic'` makes the native engine panic inside its thread. */
  _fault?: 'panic';
}

export interface BacktestResult extends EngineOutput {
  runId: string;
  engine: EngineName;
  /** `tick` for tick data, `bar` for bar data: what `events` counts. */
  mode: 'tick' | 'bar';
  strategy: string;
  /** Every parameter's value in this run (given or default). */
  params: Params;
  config: RunConfig;
  /** Wall time of the whole call. */
  elapsedMs: number;
  /** Wall time of the simulation loop alone. */
  engineMs: number;
  /** Ticks (tick mode) or bars (bar mode) per second of the simulation loop. */
  eventsPerSecond: number;
}

/** What both the sync and async paths need, checked before anything runs. */
export interface Prepared {
  runId: string;
  engine: EngineName;
  market: MarketData;
  strategy: StrategyIR;
  params: Params;
  config: RunConfig;
  started: number;
}

type NativeHandle = InstanceType<NativeBinding['NativeMarketData']>;
const nativeData = new WeakMap<TickData | BarData, NativeHandle>();
/** Copies into the native engine under way, so that concurrent first runs share one. */
const nativeCopies = new WeakMap<TickData | BarData, Promise<NativeHandle>>();
/** Rows per piece of the asynchronous copy (half a MiB a column: a millisecond or so, page faults included). */
const COPY_ROWS = 1 << 16;
/** The asynchronous copy yields to the event loop after this long. */
const COPY_SLICE_MS = 4;
const validatedData = new WeakSet<TickData | BarData>();

function marketOf(options: BacktestOptions): MarketData {
  const { ticks, bars } = options;
  if (ticks && bars) throw ValidationError.at('ticks', 'give either ticks or bars, not both');
  if (ticks) {
    isTickData(ticks);
    return { kind: 'ticks', ticks };
  }
  if (bars) {
    isBarData(bars);
    return { kind: 'bars', bars };
  }
  throw ValidationError.at('ticks', 'no market data: give ticks or bars');
}

export function prepare(options: BacktestOptions): Prepared {
  const started = performance.now();
  const runId = options.runId ?? newRunId();
  const issues: Issue[] = [];
  const collect = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ValidationError) {
        issues.push(...e.issues);
        return undefined;
      }
      throw e;
    }
  };
  const market = collect(() => marketOf(options));
  const strategy = collect(() => parseStrategy(options.strategy));
  const params = strategy ? collect(() => resolveParams(strategy, options.params ?? {})) : undefined;
  const symbol = market?.kind === 'ticks' ? market.ticks.symbol : market?.bars.symbol;
  // The finished config mirrors the caller's options, so its problems are named by option path.
  const config = collect(() => {
    try {
      return validateRunConfig(buildRunConfig(options, symbol));
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      throw new ValidationError(e.issues.map((i) => ({ ...i, path: i.path.replace(/^config\./, '') })));
    }
  });
  if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs >= 0)) {
    issues.push({ path: 'timeoutMs', message: `${options.timeoutMs} is not a finite non-negative number` });
  }
  if (market && strategy) collect(() => checkTimeframes(strategy, market));
  if (issues.length > 0 || !market || !strategy || !params || !config) throw new ValidationError(issues);
  const engine = selectEngine(options.engine);
  if (engine === 'js') validateOnce(market);
  return { runId, engine, market, strategy, params, config, started };
}

function validateOnce(market: MarketData): void {
  const data = market.kind === 'ticks' ? market.ticks : market.bars;
  if (validatedData.has(data)) return;
  if (market.kind === 'ticks') validateTicks(market.ticks);
  else validateBars(market.bars);
  validatedData.add(data);
}

/** Copies the columns into the native engine once per data object; later runs share that copy. */
export function toNative(binding: NativeBinding, market: MarketData) {
  const data = market.kind === 'ticks' ? market.ticks : market.bars;
  let handle = nativeData.get(data);
  if (!handle) {
    try {
      handle =
        market.kind === 'ticks'
          ? binding.NativeMarketData.fromTicks(
              market.ticks.time,
              market.ticks.bid,
              market.ticks.ask,
              market.ticks.volume,
            )
          : binding.NativeMarketData.fromBars(
              market.bars.timeframe,
              market.bars.time,
              market.bars.open,
              market.bars.high,
              market.bars.low,
              market.bars.close,
              market.bars.volume,
            );
    } catch (e) {
      throw fromNativeError((e as { code?: string }).code, (e as Error).message);
    }
    nativeData.set(data, handle);
  }
  return handle;
}

/**
 * `toNative` without blocking the event loop: the columns are copied in pieces between turns of
 * the loop, then validated on the addon's pool. Later runs share the copy, as with `toNative`.
 */
export async function toNativeAsync(binding: NativeBinding, market: MarketData): Promise<NativeHandle> {
  const data = market.kind === 'ticks' ? market.ticks : market.bars;
  const have = nativeData.get(data);
  if (have) return have;
  let copy = nativeCopies.get(data);
  if (!copy) {
    copy = copyIn(binding, market).finally(() => nativeCopies.delete(data));
    nativeCopies.set(data, copy);
  }
  return copy;
}

async function copyIn(binding: NativeBinding, market: MarketData): Promise<NativeHandle> {
  const columns =
    market.kind === 'ticks'
      ? [market.ticks.time, market.ticks.bid, market.ticks.ask, ...(market.ticks.volume ? [market.ticks.volume] : [])]
      : [market.bars.time, market.bars.open, market.bars.high, market.bars.low, market.bars.close, market.bars.volume];
  const rows = Math.max(...columns.map((c) => c.length));
  const builder = new binding.NativeDataBuilder(columns.length, rows);
  let slice = performance.now();
  for (let at = 0; at < rows; at += COPY_ROWS) {
    columns.forEach((c, i) => {
      builder.push(i, c.subarray(at, at + COPY_ROWS));
    });
    if (performance.now() - slice > COPY_SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      slice = performance.now();
    }
  }
  const r = await builder.finish(market.kind === 'bars' ? market.bars.timeframe : null);
  if (!r.data) throw fromNativeError(r.errorCode, r.errorMessage);
  nativeData.set(market.kind === 'ticks' ? market.ticks : market.bars, r.data);
  return r.data;
}

/** Maps a native error code and message to this library's error classes. */
export function fromNativeError(code: string | undefined | null, message: string | undefined | null): TickforgeError {
  const text = message ?? 'unknown native error';
  switch (code) {
    case 'ERR_TICKFORGE_VALIDATION': {
      const at = text.indexOf(': ');
      return at > 0
        ? new ValidationError([{ path: text.slice(0, at), message: text.slice(at + 2) }])
        : ValidationError.at('input', text);
    }
    case 'ERR_TICKFORGE_CANCELLED':
      return new CancelledError();
    case 'ERR_TICKFORGE_TIMEOUT':
      return new TimeoutError();
    case 'ERR_TICKFORGE_PANIC':
      return new EngineError('ERR_TICKFORGE_PANIC', text);
    default:
      return new EngineError('ERR_TICKFORGE_ENGINE', `${code ?? 'error'}: ${text}`);
  }
}

export type NativeRunOutput = NonNullable<ReturnType<NativeBinding['backtestSync']>['output']>;

function rejectionsOf(r: NativeRunOutput['rejections']): Rejection[] {
  const out: Rejection[] = new Array(r.time.length);
  for (let i = 0; i < r.time.length; i++) {
    out[i] = {
      time: r.time[i] as number,
      side: r.side[i] === 1 ? 1 : -1,
      lots: r.lots[i] as number,
      reason: REJECT_REASONS[r.reason[i] as number] ?? 'margin',
      required: r.required[i] as number,
      free: r.free[i] as number,
    };
  }
  return out;
}

export function fromNativeOutput(out: NativeRunOutput): EngineOutput {
  const t = out.trades;
  const trades: Trade[] = new Array(t.id.length);
  for (let i = 0; i < t.id.length; i++) {
    trades[i] = {
      id: t.id[i] as number,
      side: t.side[i] === 1 ? 1 : -1,
      lots: t.lots[i] as number,
      entryTime: t.entryTime[i] as number,
      entryPrice: t.entryPrice[i] as number,
      exitTime: t.exitTime[i] as number,
      exitPrice: t.exitPrice[i] as number,
      sl: t.sl[i] as number,
      tp: t.tp[i] as number,
      grossPnl: t.grossPnl[i] as number,
      commission: t.commission[i] as number,
      pnl: t.pnl[i] as number,
      pips: t.pips[i] as number,
      reason: EXIT_REASONS[t.reason[i] as number] ?? 'end',
    };
  }
  let profile: Profile | null = null;
  if (out.profile) {
    profile = Object.fromEntries(PROFILE_STEPS.map((s) => [s, { ms: 0, count: 0 }])) as Profile;
    for (const step of out.profile) profile[step.name as keyof Profile] = { ms: step.ms, count: step.count };
  }
  return {
    trades,
    equity: { time: out.equityTime, equity: out.equity, balance: out.balance },
    metrics: { ...out.metrics },
    rejections: rejectionsOf(out.rejections),
    profile,
    events: out.events,
  };
}

/** A run's public result: the engine output with what identifies and times the run. */
export function resultOf(p: Prepared, output: EngineOutput, elapsedMs: number, engineMs: number): BacktestResult {
  return {
    ...output,
    runId: p.runId,
    engine: p.engine,
    mode: p.market.kind === 'ticks' ? 'tick' : 'bar',
    strategy: p.strategy.name,
    params: p.params,
    config: p.config,
    elapsedMs,
    engineMs,
    eventsPerSecond: engineMs > 0 ? output.events / (engineMs / 1000) : Number.POSITIVE_INFINITY,
  };
}

function finish(p: Prepared, output: EngineOutput, engineMs: number): BacktestResult {
  const result = resultOf(p, output, performance.now() - p.started, engineMs);
  runLogger(p.runId).info(
    { engine: p.engine, strategy: result.strategy, trades: output.trades.length, events: output.events, engineMs },
    'backtest finished',
  );
  return result;
}

function jsRun(p: Prepared, signal: AbortSignal | undefined, timeoutMs: number | undefined): BacktestResult {
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + timeoutMs;
  const t0 = performance.now();
  let output: EngineOutput;
  try {
    output = runJs(p.market, p.strategy, p.params, p.config, {
      shouldStop: () => (signal?.aborted ? 'cancelled' : performance.now() > deadline ? 'timeout' : null),
    });
  } catch (e) {
    throw fromJsStop(e);
  }
  return finish(p, output, performance.now() - t0);
}

/**
 * The pure-TypeScript engine reports stops with a `reason`; map them to the public classes. Any
 * other exception is a defect of the engine, not the caller's input.
 */
function fromJsStop(e: unknown): unknown {
  const reason = (e as { reason?: unknown } | null)?.reason;
  if (reason === 'cancelled') return new CancelledError();
  if (reason === 'timeout') return new TimeoutError();
  if (e instanceof TickforgeError) return e;
  return new EngineError('ERR_TICKFORGE_ENGINE', `the pure-TypeScript engine failed: ${String(e)}`, { cause: e });
}

/**
 * The pure-TypeScript engine on a worker thread, so the event loop stays free for the whole run.
 * An abort sets the thread's stop flag, which the engine reads at every poll (about once a
 * millisecond); a thread that does not answer is terminated.
 */
async function jsRunOffThread(
  p: Prepared,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): Promise<BacktestResult> {
  const pool = new WorkerPool({
    kind: 'threads',
    size: 1,
    engine: 'js',
    market: p.market,
    runId: p.runId,
    timeoutMs: timeoutMs ?? Number.POSITIVE_INFINITY,
    graceMs: THREAD_GRACE_MS,
  });
  try {
    const job = { index: 0, strategy: p.strategy, params: p.params, config: p.config, keepOutput: true };
    let r: Awaited<ReturnType<WorkerPool['run']>>[number] | undefined;
    try {
      [r] = await pool.run([job], { signal });
    } catch (e) {
      // The pool itself failed (its thread could not start): a defect, not the caller's input.
      throw fromJsStop(e);
    }
    if (r?.status === 'completed' && r.output) return finish(p, r.output, r.elapsedMs);
    if (r?.status === 'cancelled') throw new CancelledError();
    if (r?.status === 'timed_out') throw new TimeoutError();
    throw new EngineError('ERR_TICKFORGE_ENGINE', `${r?.error?.type ?? 'Error'}: ${r?.error?.message ?? 'no result'}`);
  } finally {
    void pool.close();
  }
}

/** How long a stopped engine thread may take to answer before it is terminated. */
const THREAD_GRACE_MS = 50;

function nativeArgs(p: Prepared) {
  return [JSON.stringify(p.strategy), JSON.stringify(p.params), JSON.stringify(p.config)] as const;
}

/**
 * Runs one backtest synchronously on the calling thread. Meant for small runs and scripts; use
 * `backtest` to keep the event loop free.
 */
export function backtestSync(options: Omit<BacktestOptions, 'signal'>): BacktestResult {
  const p = prepare(options);
  runLogger(p.runId).info({ engine: p.engine, strategy: p.strategy.name }, 'backtest started');
  if (p.engine === 'js') return jsRun(p, undefined, options.timeoutMs);
  const binding = loadNative() as NativeBinding;
  const handle = toNative(binding, p.market);
  const r = binding.backtestSync(handle, ...nativeArgs(p), null, {
    timeoutMs: options.timeoutMs,
    fault: options._fault,
  });
  if (!r.output) throw fromNativeError(r.errorCode, r.errorMessage);
  return finish(p, fromNativeOutput(r.output), r.output.engineMs);
}

/**
 * Runs one backtest without blocking the event loop: the native engine runs on a thread pool the
 * addon owns (its first run on new data copies the columns in pieces between turns of the loop),
 * the pure-TypeScript engine on a worker thread. `signal` stops either within milliseconds.
 */
export function backtest(options: BacktestOptions): Promise<BacktestResult> {
  return backtestOn(options, true);
}

/**
 * @internal `backtest` for code that already runs off the main thread (a pool's worker): the
 * pure-TypeScript engine runs on the calling thread, polling `signal` inside its loop.
 */
export function backtestHere(options: BacktestOptions): Promise<BacktestResult> {
  return backtestOn(options, false);
}

async function backtestOn(options: BacktestOptions, jsOffThread: boolean): Promise<BacktestResult> {
  const p = prepare(options);
  const { signal } = options;
  if (signal?.aborted) throw new CancelledError();
  runLogger(p.runId).info({ engine: p.engine, strategy: p.strategy.name }, 'backtest started');
  if (p.engine === 'js') {
    if (jsOffThread) return jsRunOffThread(p, signal, options.timeoutMs);
    // Give callers one turn of the event loop (an abort queued before this call is seen).
    await new Promise<void>((resolve) => setImmediate(resolve));
    return jsRun(p, signal, options.timeoutMs);
  }
  const binding = loadNative() as NativeBinding;
  const handle = await toNativeAsync(binding, p.market);
  if (signal?.aborted) throw new CancelledError();
  const token = new binding.CancelToken();
  const onAbort = () => token.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const r = await binding.backtest(handle, ...nativeArgs(p), token, {
      timeoutMs: options.timeoutMs,
      fault: options._fault,
    });
    if (!r.output) throw fromNativeError(r.errorCode, r.errorMessage);
    return finish(p, fromNativeOutput(r.output), r.output.engineMs);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
