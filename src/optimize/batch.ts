import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  type BacktestOptions,
  type BacktestResult,
  backtestSync,
  fromNativeError,
  fromNativeOutput,
  type Prepared,
  prepare,
  resultOf,
  toNative,
} from '../backtest.js';
import { loadNative, type NativeBinding } from '../engine/native.js';
import { type Issue, ValidationError } from '../errors.js';
import { runTasks } from '../executor.js';
import { newRunId, runLogger, startCapture, stopCapture } from '../log.js';
import { WorkerPool } from '../parallel/pool.js';
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
 * with `none`, one after another on this thread.
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
  const settle = (item: BatchItem) => {
    items[item.index] = item;
    if (item.status === 'completed') counts.completed++;
    else if (item.status === 'failed') counts.failed++;
    else if (item.status === 'timed_out') counts.timedOut++;
    else counts.cancelled++;
    progress.update({ ...counts });
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

    // Native scenarios share the binding's per-call thread pool; child processes (either engine)
    // and pure-TS worker threads go through worker pools, one per data set and engine.
    const pooled = (v: { p: Prepared }) =>
      plan.mode === 'processes' || (plan.mode === 'threads' && v.p.engine === 'js');
    const native = valid.filter((v) => !pooled(v) && v.p.engine === 'native');
    const js = valid.filter((v) => !pooled(v) && v.p.engine === 'js');
    await runPooled(
      valid.filter(pooled),
      plan.mode === 'processes' ? 'processes' : 'threads',
      plan.workers,
      timeoutMs,
      options,
      logs,
      settle,
    );
    if (native.length > 0) {
      await runNativeJobs(native, plan.mode === 'none' ? 1 : plan.workers, timeoutMs, options, logs, settle);
    }
    // In-process pure-TS scenarios run one at a time through the task executor, which records
    // each one's timing and error and stops starting new ones once the signal fires.
    const records = await runTasks(
      js.map(({ p, index }) => async () => {
        await yieldToLoop();
        return backtestSync({
          ...options.scenarios[index],
          runId: p.runId,
          engine: 'js',
          timeoutMs,
        } as BacktestOptions);
      }),
      { concurrency: 1, merge: 'all-settled', signal: options.signal },
    );
    records.forEach((r, k) => {
      const { p, index } = js[k] as { p: Prepared; index: number };
      const base = { index, runId: p.runId, logs: logs[index] as string[], elapsedMs: r.elapsedMs };
      if (r.status === 'fulfilled' && r.value) settle({ ...base, status: 'completed', result: r.value });
      else if (r.status === 'cancelled' || r.error?.type === 'CancelledError') settle({ ...base, status: 'cancelled' });
      else if (r.status === 'timed_out' || r.error?.type === 'TimeoutError') settle({ ...base, status: 'timed_out' });
      else settle({ ...base, status: 'failed', error: r.error ?? { type: 'Error', message: r.status } });
    });
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
        const results = await pool.run(
          group.map(({ p, index }) => ({
            index,
            strategy: p.strategy,
            params: p.params,
            config: p.config,
            keepOutput: true,
          })),
          { signal: options.signal },
        );
        results.forEach((r, k) => {
          const { p, index } = group[k] as { p: Prepared; index: number };
          const base = { index, runId: p.runId, logs: logs[index] as string[], elapsedMs: r.elapsedMs };
          if (r.status === 'completed' && r.output) {
            runLogger(p.runId).info({ trades: r.output.trades.length, events: r.output.events }, 'scenario finished');
            settle({ ...base, status: 'completed', result: resultOf(p, r.output, r.elapsedMs, r.elapsedMs) });
          } else {
            runLogger(p.runId).warn({ status: r.status, error: r.error }, 'scenario did not complete');
            settle({ ...base, status: r.status, error: r.error });
          }
        });
      } finally {
        await pool.close();
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
  settle: (item: BatchItem) => void,
): Promise<void> {
  const binding = loadNative() as NativeBinding;
  const token = new binding.CancelToken();
  const onAbort = () => token.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) token.cancel();
  try {
    const r = await binding.runJobs(
      jobs.map(({ p }) => ({
        data: toNative(binding, p.market),
        strategyJson: JSON.stringify(p.strategy),
        paramsJson: JSON.stringify(p.params),
        configJson: JSON.stringify(p.config),
      })),
      { threads, timeoutMs, keepOutput: true },
      token,
    );
    if (!r.results) throw fromNativeError(r.errorCode, r.errorMessage);
    r.results.forEach((j, k) => {
      const { p, index } = jobs[k] as { p: Prepared; index: number };
      const base = { index, runId: p.runId, logs: logs[index] as string[], elapsedMs: j.elapsedMs };
      if (j.status === 'completed' && j.output) {
        const output = fromNativeOutput(j.output);
        const result = resultOf(p, output, j.elapsedMs, j.output.engineMs);
        runLogger(p.runId).info({ trades: output.trades.length, events: output.events }, 'scenario finished');
        settle({ ...base, status: 'completed', result });
      } else {
        const error = j.errorType ? { type: j.errorType, message: j.message ?? '' } : undefined;
        runLogger(p.runId).warn({ status: j.status, error }, 'scenario did not complete');
        settle({ ...base, status: j.status as JobStatus, error });
      }
    });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
