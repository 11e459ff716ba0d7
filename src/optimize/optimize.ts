import {
  type BacktestOptions,
  type BacktestResult,
  backtest,
  fromNativeError,
  type Prepared,
  prepare,
  resultOf,
  toNativeAsync,
} from '../backtest.js';
import { loadNative, type NativeBinding } from '../engine/native.js';
import { ValidationError } from '../errors.js';
import { runTasks } from '../executor.js';
import { runLogger } from '../log.js';
import { WorkerPool } from '../parallel/pool.js';
import { METRIC_KEYS, type Metrics, type Params } from '../types.js';
import { closePool, untilAborted } from './abort.js';
import { type Constraint, expandGrid, type Grid } from './grid.js';
import { metricsReader, tableJobs } from './job-table.js';
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
  /**
   * The full run (trades, equity curve) of this combination, re-run once the grid is done. Absent
   * when the signal fired before its re-run finished (after an abort the re-runs are skipped, and
   * an abort during them stops them; the output is then `partial`), or when the re-run itself
   * failed (logged as a warning).
   */
  result?: BacktestResult;
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
  /** @internal Leave `ranked` without full results (walk-forward needs only the parameters). */
  _skipRankedRuns?: boolean;
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
  /**
   * True when the signal fired before the run was over: some jobs are `cancelled`, or the ranked
   * re-runs were skipped or cut short (those `ranked` entries carry no `result`).
   */
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
  (globalThis as any).__T = [['start', started]];
  const base = prepare({ ...options, params: options.params, timeoutMs: undefined, profile: false });
  const { combos, gridSize } = expandGrid(base.strategy, options.grid, {
    base: base.params,
    constraints: options.constraints,
    sample: options.sample,
  });
  (globalThis as any).__T.push(['expanded', performance.now()]);
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
    /** Records a job; `quiet` leaves the progress to a later update (the engine reported it already). */
    const record = (index: number, reported: Outcome, quiet = false) => {
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
      if (!quiet) report();
    };
    /** Hands the current counts and best to the progress (a final state is kept for finish()). */
    const report = () => {
      const best = top.best();
      progress.update({
        ...counts,
        best: best ? { index: best.index, params: best.params, score: best.score ?? Number.NaN } : undefined,
      });
    };
    // Pure-TS jobs never run on this thread: `none` is one worker thread, one job at a time, so
    // an abort is seen inside the running job and the event loop stays free. The pool is kept
    // for the ranked re-runs: its workers already hold the data.
    const pool =
      base.engine === 'native' && plan.mode !== 'processes'
        ? undefined
        : new WorkerPool({
            kind: plan.mode === 'processes' ? 'processes' : 'threads',
            size: plan.mode === 'none' ? 1 : plan.workers,
            engine: base.engine,
            market: base.market,
            runId: base.runId,
            timeoutMs,
            allowFaults: options._faults !== undefined,
          });
    let ranked: RankedResult[];
    let rerunsCut = false;
    try {
      try {
        if (pool) await runPool(pool, base, combos, options, record);
        else await runNative(base, combos, plan.workers, timeoutMs, options, record, report, progress, rankOptions);
      } finally {
        progress.finish();
      }
      (globalThis as any).__T.push(['jobs', performance.now()]);
      ranked = top.sorted().map((r, i) => ({
        rank: i + 1,
        index: r.index,
        params: r.params,
        score: r.score ?? Number.NaN,
        metrics: r.metrics,
      }));
      if (ranked.length > 0 && !options._skipRankedRuns) {
        // The full runs of the top K, off this thread and under the same signal; none after an abort.
        if (options.signal?.aborted) rerunsCut = true;
        else if (pool) rerunsCut = await rerunOnPool(pool, base, options, ranked);
        else rerunsCut = await rerunNative(base, options, ranked, plan.workers);
      }
    } finally {
      // After an abort the workers are killed at once and reaped in the background: settling does
      // not wait on them, and a killed worker can start nothing.
      await closePool(pool, options.signal);
    }
    (globalThis as any).__T.push(['reruns', performance.now()]);
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
      partial: counts.cancelled > 0 || rerunsCut,
      elapsedMs: performance.now() - started,
    };
    log.info({ ...counts, partial: result.partial, elapsedMs: result.elapsedMs }, 'optimize finished');
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

/**
 * The ranked re-runs with the native engine: the asynchronous `backtest()` (the addon's pool), at
 * most `concurrency` at a time. An abort settles at once; unfinished entries keep no result.
 * Returns whether the abort cut the re-runs short.
 */
async function rerunNative(
  base: Prepared,
  options: OptimizeOptions,
  ranked: RankedResult[],
  concurrency: number,
): Promise<boolean> {
  const records = await runTasks(
    ranked.map(
      (r) => (_ctx: undefined, info: { signal: AbortSignal }) =>
        backtest({
          ...options,
          params: r.params,
          engine: base.engine,
          runId: base.runId,
          timeoutMs: undefined,
          signal: info.signal,
        }),
    ),
    { concurrency: Math.max(1, concurrency), merge: 'all-settled', signal: options.signal },
  );
  let cut = false;
  records.forEach((rec, i) => {
    const entry = ranked[i] as RankedResult;
    if (rec.status === 'fulfilled' && rec.value) entry.result = rec.value;
    else if (rec.status === 'cancelled' || rec.error?.type === 'CancelledError') cut = true;
    else rerunFailed(base, entry, rec.error);
  });
  return cut;
}

/**
 * The ranked re-runs on the pool that ran the jobs (its workers hold the data), with full output.
 * The pool stops with the signal as for the jobs. Returns whether the abort cut them short.
 */
async function rerunOnPool(
  pool: WorkerPool,
  base: Prepared,
  options: OptimizeOptions,
  ranked: RankedResult[],
): Promise<boolean> {
  const results = await pool.run(
    ranked.map((r, k) => ({
      index: k,
      strategy: base.strategy,
      params: r.params,
      config: base.config,
      keepOutput: true,
    })),
    { signal: options.signal, killOnAbort: true },
  );
  let cut = false;
  results.forEach((r, k) => {
    const entry = ranked[k] as RankedResult;
    if (r.status === 'completed' && r.output) {
      const p: Prepared = { ...base, params: entry.params };
      entry.result = resultOf(p, r.output, r.elapsedMs, r.elapsedMs);
    } else if (r.status === 'cancelled') cut = true;
    else rerunFailed(base, entry, r.error);
  });
  return cut;
}

function rerunFailed(base: Prepared, entry: RankedResult, error: unknown): void {
  runLogger(base.runId).warn({ index: entry.index, error }, 'the re-run of a ranked combination failed');
}

/** Rough bytes one worker holds: its own copy of the data unless threads share it natively. */
function estimateBytes(p: Prepared, mode: Parallelism): number {
  const events = p.market.kind === 'ticks' ? p.market.ticks.time.length : p.market.bars.time.length;
  const columns = p.market.kind === 'ticks' ? 3 : 6;
  const dataBytes = events * columns * 8;
  const ownCopy = mode === 'processes' || p.engine === 'js';
  return (ownCopy ? dataBytes : 0) + 16 * 1024 * 1024;
}

async function runNative(
  base: Prepared,
  combos: Params[],
  threads: number,
  timeoutMs: number,
  options: OptimizeOptions,
  record: (index: number, o: Outcome, quiet?: boolean) => void,
  report: () => void,
  progress: ProgressReporter,
  rank: RankOptions,
): Promise<void> {
  const binding = loadNative() as NativeBinding;
  const readRow = metricsReader(binding.metricNames());
  const live = new TopK<{ index: number; params: Params; metrics: Metrics; score: number }>({ ...rank, topK: 1 });
  // The first run on new data copies it in pieces between turns of the loop; an abort meanwhile
  // settles at once, every job cancelled.
  const copied = await untilAborted(toNativeAsync(binding, base.market), options.signal);
  if (copied.kind === 'aborted') {
    combos.forEach((_, index) => {
      record(index, { status: 'cancelled', elapsedMs: 0 });
    });
    return;
  }
  if (copied.kind === 'error') throw copied.error;
  const handle = copied.value;
  (globalThis as any).__T.push(['copied', performance.now()]);
  const token = new binding.CancelToken();
  const onAbort = () => token.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) token.cancel();
  // Progress calls still queued when the call returns are dropped: the results hold the counts.
  let listening = true;
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
        table: true,
        // The engine reports no more often than the reporter emits, and at least every 20 ms.
        progressIntervalMs: Math.min(progress.intervalMs, 20),
        faultPanicAt: options._faults?.panicAt,
        faultHangAt: options._faults?.hangAt,
      },
      token,
      // The engine calls at most every 20 ms with the jobs completed since its last call.
      (ended: number, notCompleted: number, indices: Uint32Array, rows: Float64Array) => {
        if (!listening) return;
        // Progress is lossy: a dropped call only delays the counts, and the best so far is the
        // best of the jobs whose call arrived (the final ranking uses every result).
        indices.forEach((index, k) => {
          const m = readRow(rows, k);
          if (m && passes(m, rank)) {
            live.offer({ index, params: combos[index] as Params, metrics: m, score: score(m, rank) });
          }
        });
        const best = live.best();
        progress.update({
          completed: ended - notCompleted,
          failed: notCompleted,
          best: best ? { index: best.index, params: best.params, score: best.score } : undefined,
        });
      },
    );
    (globalThis as any).__T.push(['binding', performance.now()]);
    if (!r.table) throw fromNativeError(r.errorCode, r.errorMessage);
    listening = false;
    // Each job's progress came from the engine as it ended; one state then adds the final statuses.
    tableJobs(r.table, combos.length).forEach((j, index) => {
      record(index, { ...j, status: j.status as JobStatus }, true);
    });
    report();
  } finally {
    listening = false;
    options.signal?.removeEventListener('abort', onAbort);
  }
}

async function runPool(
  pool: WorkerPool,
  base: Prepared,
  combos: Params[],
  options: OptimizeOptions,
  record: (index: number, o: Outcome) => void,
): Promise<void> {
  const faults = options._faults;
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
  // The pool is ended after an abort, so running jobs are killed rather than waited for.
  await pool.run(jobs, {
    signal: options.signal,
    killOnAbort: true,
    onDone: (r) =>
      record(r.index, {
        status: r.status,
        metrics: r.metrics,
        tradeCount: r.tradeCount,
        error: r.error,
        elapsedMs: r.elapsedMs,
      }),
  });
}
