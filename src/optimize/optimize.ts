import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  type BacktestOptions,
  type BacktestResult,
  backtestSync,
  fromNativeError,
  type Prepared,
  prepare,
  toNative,
} from '../backtest.js';
import { loadNative, type NativeBinding } from '../engine/native.js';
import { CancelledError, TimeoutError, ValidationError } from '../errors.js';
import { runLogger } from '../log.js';
import { WorkerPool } from '../parallel/pool.js';
import { METRIC_KEYS, type Metrics, type Params } from '../types.js';
import { type Constraint, expandGrid, type Grid } from './grid.js';
import { type Parallelism, planParallelism } from './parallelism.js';
import { type Progress, ProgressReporter } from './progress.js';
import { checkRankOptions, passes, type RankOptions, score, TopK } from './rank.js';

export const DEFAULT_JOB_TIMEOUT_MS = 300_000;

export type JobStatus = 'completed' | 'failed' | 'timed_out' | 'cancelled';

export interface JobError {
  type: string;
  message: string;
  stack?: string;
}

/** One combination's outcome; `results` holds these in index order. */
export interface JobResult {
  /** The optimization's run id (also in every log record of its jobs). */
  runId: string;
  index: number;
  params: Params;
  status: JobStatus;
  metrics?: Metrics;
  tradeCount?: number;
  /** The ranking score (NaN when filtered out or not finite). */
  score?: number;
  error?: JobError;
  elapsedMs: number;
}

export interface RankedResult {
  rank: number;
  index: number;
  params: Params;
  score: number;
  metrics: Metrics;
  /** The full run (trades, equity curve) of this combination. */
  result: BacktestResult;
}

export interface OptimizeOptions extends Omit<BacktestOptions, 'params' | 'timeoutMs' | 'profile'>, RankOptions {
  /** Values of parameters the grid does not vary (the rest take their defaults). */
  params?: Params;
  grid: Grid;
  constraints?: Constraint[];
  sample?: { count: number; seed: number };
  /** Ranking and filters, as one object (the same fields are accepted at the top level). */
  rank?: RankOptions;
  parallelism?: Parallelism;
  maxWorkers?: number;
  /** Per job; default 300,000 ms. */
  timeoutMs?: number;
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
  /** @internal Testing aid: make the jobs at these indices panic (native), throw, or hang. */
  _faults?: { panicAt?: number[]; throwAt?: number[]; hangAt?: number[] };
}

export interface OptimizeResult {
  runId: string;
  strategy: string;
  engine: 'native' | 'js';
  parallelism: Parallelism;
  workers: number;
  /** Combinations run (after constraints and sampling). */
  total: number;
  /** Size of the full grid before constraints and sampling. */
  gridSize: number;
  results: JobResult[];
  ranked: RankedResult[];
  completed: number;
  failed: number;
  timedOut: number;
  cancelled: number;
  /** True when the run was cancelled before every job finished. */
  partial: boolean;
  elapsedMs: number;
}

/** A started optimization: its progress as a stream and events, and its result. */
export interface OptimizeRun {
  runId: string;
  total: number;
  progress: ProgressReporter;
  done: Promise<OptimizeResult>;
}

export interface Outcome {
  status: JobStatus;
  metrics?: Metrics;
  tradeCount?: number;
  error?: JobError;
  elapsedMs: number;
}

/** Runs a grid and resolves with every result in combination order plus the ranked top K. */
export async function optimize(options: OptimizeOptions): Promise<OptimizeResult> {
  return startOptimize(options).done;
}

/**
 * Validates everything synchronously (a bad grid, strategy or setting throws here, before any job
 * runs), then starts the jobs and returns at once.
 */
export function startOptimize(options: OptimizeOptions): OptimizeRun {
  const started = performance.now();
  const base = prepare({ ...options, params: options.params, timeoutMs: undefined, profile: false });
  const { combos, gridSize } = expandGrid(base.strategy, options.grid, {
    base: base.params,
    constraints: options.constraints,
    sample: options.sample,
  });
  const timeoutMs = options.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw ValidationError.at('timeoutMs', `${timeoutMs} is not a positive number of milliseconds`);
  }
  const rankOptions: RankOptions = {
    target: options.target ?? options.rank?.target,
    direction: options.direction ?? options.rank?.direction,
    minTrades: options.minTrades ?? options.rank?.minTrades,
    maxDrawdownPct: options.maxDrawdownPct ?? options.rank?.maxDrawdownPct,
    topK: options.topK ?? options.rank?.topK,
  };
  checkRankOptions(rankOptions);
  const plan = planParallelism({
    parallelism: options.parallelism,
    maxWorkers: options.maxWorkers,
    jobs: combos.length,
    bytesPerWorker: estimateBytes(base, options.parallelism ?? 'threads'),
  });
  const log = runLogger(base.runId);
  const progress = new ProgressReporter({
    total: combos.length,
    intervalMs: options.progressIntervalMs,
    onProgress: options.onProgress,
  });
  log.info(
    { engine: base.engine, parallelism: plan.mode, workers: plan.workers, total: combos.length, notes: plan.notes },
    'optimize started',
  );

  const done = (async (): Promise<OptimizeResult> => {
    const top = new TopK<JobResult & { metrics: Metrics }>(rankOptions);
    const results: JobResult[] = new Array(combos.length);
    const counts = { completed: 0, failed: 0, timedOut: 0, cancelled: 0 };
    const record = (index: number, reported: Outcome) => {
      const o = checkOutcome(reported);
      const r: JobResult = { runId: base.runId, index, params: combos[index] as Params, ...o };
      if (o.metrics) {
        r.score = passes(o.metrics, rankOptions) ? score(o.metrics, rankOptions) : Number.NaN;
        if (o.status === 'completed' && passes(o.metrics, rankOptions))
          top.offer(r as JobResult & { metrics: Metrics });
      }
      results[index] = r;
      if (o.status === 'completed') counts.completed++;
      else if (o.status === 'failed') counts.failed++;
      else if (o.status === 'timed_out') counts.timedOut++;
      else counts.cancelled++;
      const best = top.best();
      progress.update({
        ...counts,
        best: best ? { index: best.index, params: best.params, score: best.score ?? Number.NaN } : undefined,
      });
    };
    try {
      if (base.engine === 'native' && plan.mode !== 'processes') {
        await runNative(base, combos, plan.workers, timeoutMs, options, record, progress, rankOptions);
      } else if (plan.mode === 'none') {
        await runSequentialJs(base, combos, timeoutMs, options, record);
      } else {
        await runPool(base, combos, plan.mode, plan.workers, timeoutMs, options, record);
      }
    } finally {
      progress.finish();
    }
    const ranked = top.sorted().map((r, i) => ({
      rank: i + 1,
      index: r.index,
      params: r.params,
      score: r.score ?? Number.NaN,
      metrics: r.metrics,
      result: backtestSync({
        ...options,
        params: r.params,
        engine: base.engine,
        runId: base.runId,
        timeoutMs: undefined,
      }),
    }));
    const result: OptimizeResult = {
      runId: base.runId,
      strategy: base.strategy.name,
      engine: base.engine,
      parallelism: plan.mode,
      workers: plan.workers,
      total: combos.length,
      gridSize,
      results,
      ranked,
      ...counts,
      partial: counts.cancelled > 0,
      elapsedMs: performance.now() - started,
    };
    log.info({ ...counts, elapsedMs: result.elapsedMs }, 'optimize finished');
    return result;
  })();
  return { runId: base.runId, total: combos.length, progress, done };
}

/**
 * A job reported as completed must carry a full set of finite-or-NaN numeric metrics and a trade
 * count; anything else (a worker that answered with something malformed) becomes a failed job.
 */
export function checkOutcome(o: Outcome): Outcome {
  if (o.status !== 'completed') return o;
  const m = o.metrics as Record<string, unknown> | undefined;
  const missing = m ? METRIC_KEYS.filter((k) => typeof m[k] !== 'number') : METRIC_KEYS;
  if (missing.length === 0 && typeof o.tradeCount === 'number') return o;
  const what = missing.length > 0 ? `metrics ${missing.slice(0, 3).join(', ')}` : 'the trade count';
  return {
    status: 'failed',
    error: { type: 'InvalidOutput', message: `the job reported completion without ${what}` },
    elapsedMs: o.elapsedMs,
  };
}

/** Rough bytes one worker holds: its own copy of the data unless threads share it natively. */
function estimateBytes(p: Prepared, mode: Parallelism): number {
  const events = p.market.kind === 'ticks' ? p.market.ticks.time.length : p.market.bars.time.length;
  const columns = p.market.kind === 'ticks' ? 3 : 6;
  const dataBytes = events * columns * 8;
  const ownCopy = mode === 'processes' || p.engine === 'js';
  return (ownCopy ? dataBytes : 0) + 16 * 1024 * 1024;
}

function errorOf(e: unknown): JobError {
  if (e instanceof Error) return { type: e.name, message: e.message, stack: e.stack };
  return { type: 'Error', message: String(e) };
}

async function runNative(
  base: Prepared,
  combos: Params[],
  threads: number,
  timeoutMs: number,
  options: OptimizeOptions,
  record: (index: number, o: Outcome) => void,
  progress: ProgressReporter,
  rank: RankOptions,
): Promise<void> {
  const binding = loadNative() as NativeBinding;
  const live = new TopK<{ index: number; params: Params; metrics: Metrics; score: number }>({ ...rank, topK: 1 });
  const handle = toNative(binding, base.market);
  const token = new binding.CancelToken();
  const onAbort = () => token.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) token.cancel();
  try {
    const r = await binding.optimizeGrid(
      handle,
      JSON.stringify(base.strategy),
      JSON.stringify(combos),
      JSON.stringify(base.config),
      {
        threads,
        timeoutMs,
        keepOutput: false,
        shareSeries: true,
        faultPanicAt: options._faults?.panicAt,
        faultHangAt: options._faults?.hangAt,
      },
      token,
      (ended: number, notCompleted: number, index: number, metrics?: Metrics | null) => {
        // Progress is lossy: a dropped call only delays the counts, and the best so far is the
        // best of the jobs whose call arrived (the final ranking uses every result).
        if (metrics && passes(metrics, rank)) {
          live.offer({ index, params: combos[index] as Params, metrics, score: score(metrics, rank) });
        }
        const best = live.best();
        progress.update({
          completed: ended - notCompleted,
          failed: notCompleted,
          best: best ? { index: best.index, params: best.params, score: best.score } : undefined,
        });
      },
    );
    if (!r.results) throw fromNativeError(r.errorCode, r.errorMessage);
    r.results.forEach((j, index) => {
      record(index, {
        status: j.status as JobStatus,
        metrics: j.metrics ? { ...j.metrics } : undefined,
        tradeCount: j.tradeCount,
        error: j.errorType ? { type: j.errorType, message: j.message ?? '' } : undefined,
        elapsedMs: j.elapsedMs,
      });
    });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

async function runSequentialJs(
  base: Prepared,
  combos: Params[],
  timeoutMs: number,
  options: OptimizeOptions,
  record: (index: number, o: Outcome) => void,
): Promise<void> {
  for (let index = 0; index < combos.length; index++) {
    if (options.signal?.aborted) {
      record(index, { status: 'cancelled', elapsedMs: 0 });
      continue;
    }
    const t0 = performance.now();
    try {
      if (options._faults?.throwAt?.includes(index)) throw new Error(`injected fault at job ${index}`);
      const r = backtestSync({
        ...options,
        params: combos[index],
        engine: base.engine,
        runId: base.runId,
        timeoutMs: options._faults?.hangAt?.includes(index) ? 0 : timeoutMs,
      });
      record(index, {
        status: 'completed',
        metrics: r.metrics,
        tradeCount: r.trades.length,
        elapsedMs: performance.now() - t0,
      });
    } catch (e) {
      const status: JobStatus =
        e instanceof TimeoutError ? 'timed_out' : e instanceof CancelledError ? 'cancelled' : 'failed';
      record(index, { status, error: status === 'failed' ? errorOf(e) : undefined, elapsedMs: performance.now() - t0 });
    }
    // Let an abort queued by the caller (or a timer) be seen between jobs.
    await yieldToLoop();
  }
}

async function runPool(
  base: Prepared,
  combos: Params[],
  kind: 'threads' | 'processes',
  size: number,
  timeoutMs: number,
  options: OptimizeOptions,
  record: (index: number, o: Outcome) => void,
): Promise<void> {
  const faults = options._faults;
  const pool = new WorkerPool({
    kind,
    size,
    engine: base.engine,
    market: base.market,
    runId: base.runId,
    timeoutMs,
    allowFaults: faults !== undefined,
  });
  try {
    const faultOf = (i: number) =>
      faults?.throwAt?.includes(i) ? 1 : faults?.hangAt?.includes(i) ? 3 : faults?.panicAt?.includes(i) ? 2 : undefined;
    const jobs = combos.map((params, index) => {
      const fault = faultOf(index);
      return {
        index,
        strategy: base.strategy,
        params: fault === undefined ? params : { ...params, __fault: fault },
        config: base.config,
        keepOutput: false,
      };
    });
    await pool.run(jobs, {
      signal: options.signal,
      onDone: (r) =>
        record(r.index, {
          status: r.status,
          metrics: r.metrics,
          tradeCount: r.tradeCount,
          error: r.error,
          elapsedMs: r.elapsedMs,
        }),
    });
  } finally {
    await pool.close();
  }
}
