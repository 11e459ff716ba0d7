import {
  type BacktestOptions,
  type BacktestResult,
  fromNativeError,
  fromNativeOutput,
  type Prepared,
  prepare,
  resultOf,
  toNativeAsync,
} from '../backtest.js';
import { loadNative, type NativeBinding } from '../engine/native.js';
import { type Issue, ValidationError } from '../errors.js';
import { newRunId, runLogger, startCapture, stopCapture } from '../log.js';
import { WorkerPool } from '../parallel/pool.js';
import type { PoolResult } from '../parallel/protocol.js';
import { closePool, untilAborted } from './abort.js';
import type { JobError, JobStatus } from './optimize.js';
import { DEFAULT_JOB_TIMEOUT_MS } from './optimize.js';
import { type Parallelism, planParallelism } from './parallelism.js';
import { type Progress, ProgressReporter } from './progress.js';

export interface BatchOptions {
  scenarios: BacktestOptions[];
  parallelism?: Parallelism;
  maxWorkers?: number;
  /** Per scenario; default 300,000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
  runId?: string;
}

export interface BatchItem {
  index: number;
  /** The scenario's own run id (`<batch run id>/<index>`): in its result and its log lines. */
  runId: string;
  status: JobStatus;
  result?: BacktestResult;
  /** For a scenario that failed validation, every problem found. */
  issues?: Issue[];
  error?: JobError;
  elapsedMs: number;
  /** The scenario's own log records (JSON lines). */
  logs: string[];
}

export interface BatchResult {
  runId: string;
  items: BatchItem[];
  completed: number;
  failed: number;
  timedOut: number;
  cancelled: number;
  partial: boolean;
  elapsedMs: number;
}

function errorOf(e: unknown): JobError {
  if (e instanceof Error) return { type: e.name, message: e.message, stack: e.stack };
  return { type: 'Error', message: String(e) };
}

/**
 * Runs a list of unrelated scenarios (symbols, windows, strategies). Each is validated first: an
 * invalid one becomes a failed item of type ValidationError listing every problem, and does not
 * run. Items come back in input order. With `threads`, native scenarios run on a thread pool built
 * for the call and pure-TS ones on worker threads; with `processes`, both run in child processes;
 * with `none`, one at a time (native ones on one engine thread, pure-TS ones on one worker
 * thread). Each item settles, and counts in the progress, as soon as its outcome is known. An
 * abort settles the batch promptly: finished items are kept, the rest are `cancelled`, and no
 * scenario starts afterwards.
 */
export async function runBatch(options: BatchOptions): Promise<BatchResult> {
  const started = performance.now();
  const runId = options.runId ?? newRunId();
  const timeoutMs = options.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
  const n = options.scenarios.length;
  const items: BatchItem[] = new Array(n);
  const prepared: (Prepared | undefined)[] = new Array(n);
  const counts = { completed: 0, failed: 0, timedOut: 0, cancelled: 0 };
  const progress = new ProgressReporter({
    total: n,
    intervalMs: options.progressIntervalMs,
    onProgress: options.onProgress,
  });
  /** Records an item; `quiet` leaves the progress to a later update (a group reported per job already). */
  const settle = (item: BatchItem, quiet = false) => {
    items[item.index] = item;
    if (item.status === 'completed') counts.completed++;
    else if (item.status === 'failed') counts.failed++;
    else if (item.status === 'timed_out') counts.timedOut++;
    else counts.cancelled++;
    if (!quiet) progress.update({ ...counts });
  };

  const logs = options.scenarios.map((_, i) => startCapture(`${runId}/${i}`));
  try {
    options.scenarios.forEach((scenario, index) => {
      const id = `${runId}/${index}`;
      const t0 = performance.now();
      try {
        prepared[index] = prepare({ ...scenario, runId: id, timeoutMs: undefined });
      } catch (e) {
        const issues = e instanceof ValidationError ? e.issues : undefined;
        runLogger(id).warn({ issues }, 'scenario rejected before running');
        settle({
          index,
          runId: id,
          status: 'failed',
          issues,
          error: errorOf(e),
          elapsedMs: performance.now() - t0,
          logs: logs[index] as string[],
        });
      }
    });
    const valid = prepared.flatMap((p, index) => (p ? [{ p, index }] : []));
    const plan = planParallelism({
      parallelism: options.parallelism,
      maxWorkers: options.maxWorkers,
      jobs: valid.length,
      bytesPerWorker: 16 * 1024 * 1024,
    });
    runLogger(runId).info(
      { scenarios: n, valid: valid.length, parallelism: plan.mode, workers: plan.workers },
      'batch started',
    );

    // Native scenarios share the binding's per-call thread pool (one thread with `none`); child
    // processes (either engine) and pure-TS worker threads go through worker pools, one per data
    // set and engine. Pure-TS scenarios never run on this thread: with `none` they take turns on
    // one worker thread, so an abort stops the running one at once and the event loop stays free.
    const pooled = (v: { p: Prepared }) => plan.mode === 'processes' || v.p.engine === 'js';
    const native = valid.filter((v) => !pooled(v));
    await runPooled(
      valid.filter(pooled),
      plan.mode === 'processes' ? 'processes' : 'threads',
      plan.mode === 'none' ? 1 : plan.workers,
      timeoutMs,
      options,
      logs,
      settle,
    );
    if (native.length > 0) {
      const before = { ...counts };
      await runNativeJobs(native, plan.mode === 'none' ? 1 : plan.workers, timeoutMs, options, logs, settle, (run) =>
        progress.update({ completed: before.completed + run.completed, failed: before.failed + run.failed }),
      );
      // The per-job counts came from the engine as jobs ended; this state adds their final statuses.
      progress.update({ ...counts });
    }
  } finally {
    for (let i = 0; i < n; i++) stopCapture(`${runId}/${i}`);
    progress.finish();
  }
  const result: BatchResult = {
    runId,
    items,
    ...counts,
    partial: counts.cancelled > 0,
    elapsedMs: performance.now() - started,
  };
  runLogger(runId).info({ ...counts, elapsedMs: result.elapsedMs }, 'batch finished');
  return result;
}

async function runPooled(
  jobs: { p: Prepared; index: number }[],
  kind: 'threads' | 'processes',
  workers: number,
  timeoutMs: number,
  options: BatchOptions,
  logs: string[][],
  settle: (item: BatchItem) => void,
): Promise<void> {
  const groups = new Map<unknown, Map<'native' | 'js', { p: Prepared; index: number }[]>>();
  for (const j of jobs) {
    const data = j.p.market.kind === 'ticks' ? j.p.market.ticks : j.p.market.bars;
    const byEngine = groups.get(data) ?? new Map();
    groups.set(data, byEngine);
    byEngine.set(j.p.engine, [...(byEngine.get(j.p.engine) ?? []), j]);
  }
  for (const byEngine of groups.values()) {
    for (const [engine, group] of byEngine) {
      // After an abort no further pool is started: its scenarios are cancelled without running.
      if (options.signal?.aborted) {
        cancelAll(group, logs, settle);
        continue;
      }
      const first = group[0] as { p: Prepared; index: number };
      const pool = new WorkerPool({
        kind,
        size: Math.min(workers, group.length),
        engine,
        market: first.p.market,
        runId: first.p.runId,
        timeoutMs,
      });
      try {
        const byIndex = new Map(group.map((j) => [j.index, j.p]));
        // Each scenario settles (and counts in the progress) as its outcome is known.
        const onDone = (r: PoolResult) => {
          const p = byIndex.get(r.index) as Prepared;
          const index = r.index;
          const base = { index, runId: p.runId, logs: logs[index] as string[], elapsedMs: r.elapsedMs };
          if (r.status === 'completed' && r.output) {
            runLogger(p.runId).info({ trades: r.output.trades.length, events: r.output.events }, 'scenario finished');
            settle({ ...base, status: 'completed', result: resultOf(p, r.output, r.elapsedMs, r.elapsedMs) });
          } else {
            runLogger(p.runId).warn({ status: r.status, error: r.error }, 'scenario did not complete');
            settle({ ...base, status: r.status, error: r.error });
          }
        };
        await pool.run(
          group.map(({ p, index }) => ({
            index,
            strategy: p.strategy,
            params: p.params,
            config: p.config,
            keepOutput: true,
          })),
          // The pool is ended after an abort, so running jobs are killed rather than waited for.
          { signal: options.signal, killOnAbort: true, onDone },
        );
      } finally {
        // After an abort the workers are killed at once and reaped in the background: settling does
        // not wait on them, and a killed worker can start nothing.
        await closePool(pool, options.signal);
      }
    }
  }
}

async function runNativeJobs(
  jobs: { p: Prepared; index: number }[],
  threads: number,
  timeoutMs: number,
  options: BatchOptions,
  logs: string[][],
  settle: (item: BatchItem, quiet?: boolean) => void,
  progress: (running: { completed: number; failed: number }) => void,
): Promise<void> {
  const binding = loadNative() as NativeBinding;
  // The first run on new data copies it in pieces between turns of the loop; an abort meanwhile
  // settles at once, with every scenario cancelled.
  const handles: NativeHandle[] = [];
  for (const { p } of jobs) {
    const copied = await untilAborted(toNativeAsync(binding, p.market), options.signal);
    if (copied.kind === 'aborted') return cancelAll(jobs, logs, settle);
    if (copied.kind === 'error') throw copied.error;
    handles.push(copied.value);
  }
  if (options.signal?.aborted) return cancelAll(jobs, logs, settle);
  const token = new binding.CancelToken();
  const onAbort = () => token.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // Progress calls still queued when the call returns are dropped: the items then hold the counts.
  let live = true;
  try {
    const r = await binding.runJobs(
      jobs.map(({ p }, k) => ({
        data: handles[k] as NativeHandle,
        strategyJson: JSON.stringify(p.strategy),
        paramsJson: JSON.stringify(p.params),
        configJson: JSON.stringify(p.config),
      })),
      // The engine reports no more often than the reporter emits, and at least every 20 ms.
      { threads, timeoutMs, keepOutput: true, progressIntervalMs: Math.min(options.progressIntervalMs ?? 20, 20) },
      token,
      // Lossy counts while the jobs run (each job's item settles when the call returns).
      (ended: number, notCompleted: number) => {
        if (live) progress({ completed: ended - notCompleted, failed: notCompleted });
      },
    );
    live = false;
    if (!r.results) throw fromNativeError(r.errorCode, r.errorMessage);
    r.results.forEach((j, k) => {
      const { p, index } = jobs[k] as { p: Prepared; index: number };
      const base = { index, runId: p.runId, logs: logs[index] as string[], elapsedMs: j.elapsedMs };
      if (j.status === 'completed' && j.output) {
        const output = fromNativeOutput(j.output);
        const result = resultOf(p, output, j.elapsedMs, j.output.engineMs);
        runLogger(p.runId).info({ trades: output.trades.length, events: output.events }, 'scenario finished');
        settle({ ...base, status: 'completed', result }, true);
      } else {
        const error = j.errorType ? { type: j.errorType, message: j.message ?? '' } : undefined;
        runLogger(p.runId).warn({ status: j.status, error }, 'scenario did not complete');
        settle({ ...base, status: j.status as JobStatus, error }, true);
      }
    });
  } finally {
    live = false;
    options.signal?.removeEventListener('abort', onAbort);
  }
}

type NativeHandle = Awaited<ReturnType<typeof toNativeAsync>>;

/** Settles scenarios that never ran as cancelled. */
function cancelAll(jobs: { p: Prepared; index: number }[], logs: string[][], settle: (item: BatchItem) => void): void {
  for (const { p, index } of jobs) {
    settle({ index, runId: p.runId, status: 'cancelled', elapsedMs: 0, logs: logs[index] as string[] });
  }
}
