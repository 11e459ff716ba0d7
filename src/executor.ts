/**
 * A generic executor for independent async tasks: bounded concurrency, a private deep copy of a
 * shared context per task, per-task timeout and cancellation, per-task records in input order, and
 * a choice of how the outcomes merge into one answer.
 */
import { createHash } from 'node:crypto';
import { CancelledError, TimeoutError, ValidationError } from './errors.js';

export type TaskStatus = 'fulfilled' | 'rejected' | 'timed_out' | 'cancelled';
export type MergeStrategy = 'all-success' | 'first-success' | 'majority' | 'all-settled';

/** What a task receives besides its context: its position and a signal that fires on timeout or abort. */
export interface TaskInfo {
  index: number;
  signal: AbortSignal;
}

export type Task<C, R> = (ctx: C, info: TaskInfo) => Promise<R> | R;

export interface TaskError {
  type: string;
  message: string;
  stack: string;
}

export interface TaskRecord<R> {
  index: number;
  status: TaskStatus;
  value?: R;
  error?: TaskError;
  /** Epoch milliseconds when the task started; null for a task that never started. */
  startedAt: number | null;
  /** Milliseconds from start until it settled (or timed out, or was cancelled); 0 if never started. */
  elapsedMs: number;
}

export interface RunTasksOptions<C, R = unknown> {
  /** Tasks running at once, at most (an integer >= 1). */
  concurrency: number;
  /** Shared input; each task gets its own `structuredClone` of it when it starts. */
  context?: C;
  /** Default `all-settled`. */
  merge?: MergeStrategy;
  /** Stops starting tasks; running ones are marked cancelled and their signal fires. */
  signal?: AbortSignal;
  /** Per task; a task past it is marked timed_out and its signal fires. */
  timeoutMs?: number;
  /**
   * Called once per task as soon as its record is final (in settling order), including the tasks
   * an abort marks cancelled. A callback that throws stops the run, which rejects with its error.
   */
  onSettle?: (record: TaskRecord<R>) => void;
}

/** Raised when a merge cannot produce its answer; carries every record for inspection. */
export class TaskBatchError<R = unknown> extends AggregateError {
  readonly records: TaskRecord<R>[];
  /** Indices of the tasks that did not fulfil (all-success, first-success) or of the largest group (majority). */
  readonly indices: number[];
  constructor(message: string, records: TaskRecord<R>[], indices: number[], errors: unknown[]) {
    super(errors, message);
    this.name = 'TaskBatchError';
    this.records = records;
    this.indices = indices;
  }
}

export function runTasks<C, R>(
  tasks: Task<C, R>[],
  options: RunTasksOptions<C, R> & { merge: 'all-success' },
): Promise<R[]>;
export function runTasks<C, R>(
  tasks: Task<C, R>[],
  options: RunTasksOptions<C, R> & { merge: 'first-success' | 'majority' },
): Promise<R>;
export function runTasks<C, R>(
  tasks: Task<C, R>[],
  options: RunTasksOptions<C, R> & { merge?: 'all-settled' },
): Promise<TaskRecord<R>[]>;
export function runTasks<C, R>(tasks: Task<C, R>[], options: RunTasksOptions<C, R>): Promise<R[] | R | TaskRecord<R>[]>;
/**
 * Runs `tasks` with at most `concurrency` in flight, starting them in input order. A timed-out or
 * cancelled task frees its slot at once (a task that ignores its signal may still be running in the
 * background; its late outcome is ignored), so one hung task cannot stall the batch.
 *
 * Merges: `all-success` resolves with every value in input order, or throws a TaskBatchError naming
 * the tasks that did not fulfil; `first-success` resolves with the first value to fulfil and starts
 * nothing more (running tasks are left alone; their outcomes are ignored), throwing when none does;
 * `majority` resolves with the value that more than half of all tasks returned, values being equal
 * when the SHA-256 of their canonical JSON (sorted keys) is; `all-settled` resolves with the records.
 */
export async function runTasks<C, R>(
  tasks: Task<C, R>[],
  options: RunTasksOptions<C, R>,
): Promise<R[] | R | TaskRecord<R>[]> {
  const { concurrency, context, signal, timeoutMs, onSettle } = options;
  const merge = options.merge ?? 'all-settled';
  checkOptions(tasks, options, merge);
  // Cloning once up front turns an uncloneable context into one clear error instead of n failed tasks.
  if (context !== undefined) structuredClone(context);

  const n = tasks.length;
  const records: (TaskRecord<R> | undefined)[] = new Array(n);
  const running = new Map<
    number,
    { controller: AbortController; t0: number; startedAt: number; timer?: NodeJS.Timeout }
  >();
  let next = 0;
  let stopped = false;
  let winner: { value: R } | null = null;

  return new Promise((resolve, reject) => {
    let finished = false;
    const fail = (e: unknown) => {
      if (finished) return;
      finished = true;
      stopped = true;
      signal?.removeEventListener('abort', onAbort);
      for (const [, r] of running) {
        if (r.timer) clearTimeout(r.timer);
        r.controller.abort(new CancelledError());
      }
      running.clear();
      reject(e);
    };
    const report = (rec: TaskRecord<R>) => {
      records[rec.index] = rec;
      if (!onSettle || finished) return;
      try {
        onSettle(rec);
      } catch (e) {
        fail(e);
      }
    };
    const onAbort = () => {
      stopped = true;
      const reason = new CancelledError();
      for (const [index, r] of running) settle(index, { status: 'cancelled', error: toTaskError(reason) }, r);
      const from = next;
      next = n;
      for (let i = from; i < n; i++) report({ index: i, status: 'cancelled', startedAt: null, elapsedMs: 0 });
      done();
    };

    const done = () => {
      if (finished) return;
      if (winner === null && (next < n || running.size > 0)) return;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      try {
        resolve(mergeRecords(merge, records as TaskRecord<R>[], winner));
      } catch (e) {
        reject(e);
      }
    };

    const settle = (
      index: number,
      outcome: Pick<TaskRecord<R>, 'status' | 'value' | 'error'>,
      r: { controller: AbortController; t0: number; startedAt: number; timer?: NodeJS.Timeout },
    ) => {
      if (running.get(index) !== r) return;
      running.delete(index);
      if (r.timer) clearTimeout(r.timer);
      const rec: TaskRecord<R> = {
        index,
        status: outcome.status,
        startedAt: r.startedAt,
        elapsedMs: performance.now() - r.t0,
      };
      if (outcome.status === 'fulfilled') rec.value = outcome.value;
      if (outcome.error) rec.error = outcome.error;
      if (outcome.status !== 'fulfilled')
        r.controller.abort(outcome.status === 'timed_out' ? new TimeoutError() : new CancelledError());
      if (merge === 'first-success' && outcome.status === 'fulfilled' && winner === null) {
        winner = { value: outcome.value as R };
        stopped = true;
      }
      report(rec);
    };

    const pump = () => {
      while (!stopped && !finished && running.size < concurrency && next < n) start(next++);
      done();
    };

    const start = (index: number) => {
      const controller = new AbortController();
      const r: { controller: AbortController; t0: number; startedAt: number; timer?: NodeJS.Timeout } = {
        controller,
        t0: performance.now(),
        startedAt: Date.now(),
      };
      running.set(index, r);
      if (timeoutMs !== undefined) {
        r.timer = setTimeout(() => {
          settle(
            index,
            { status: 'timed_out', error: toTaskError(new TimeoutError(`task ${index} passed ${timeoutMs} ms`)) },
            r,
          );
          pump();
        }, timeoutMs);
      }
      let result: Promise<R>;
      try {
        // Copy-on-execute: the clone is taken when the task starts, so no task sees another's edits.
        const ctx = structuredClone(context) as C;
        result = Promise.resolve(tasks[index]?.(ctx, { index, signal: controller.signal }) as R | Promise<R>);
      } catch (e) {
        result = Promise.reject(e);
      }
      result.then(
        (value) => {
          settle(index, { status: 'fulfilled', value }, r);
          pump();
        },
        (e: unknown) => {
          settle(index, { status: 'rejected', error: toTaskError(e) }, r);
          pump();
        },
      );
    };

    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    pump();
  });
}

function checkOptions<C, R>(tasks: Task<C, R>[], options: RunTasksOptions<C, R>, merge: string): void {
  const issues: { path: string; message: string }[] = [];
  if (!Array.isArray(tasks)) issues.push({ path: 'tasks', message: 'expected an array of functions' });
  else {
    tasks.forEach((t, i) => {
      if (typeof t !== 'function')
        issues.push({ path: `tasks[${i}]`, message: `expected a function, got ${typeof t}` });
    });
  }
  const c = options.concurrency;
  if (!(Number.isInteger(c) && c >= 1) && c !== Number.POSITIVE_INFINITY) {
    issues.push({ path: 'concurrency', message: `expected an integer >= 1, got ${String(c)}` });
  }
  if (!['all-success', 'first-success', 'majority', 'all-settled'].includes(merge)) {
    issues.push({
      path: 'merge',
      message: `expected all-success, first-success, majority or all-settled, got ${merge}`,
    });
  }
  const t = options.timeoutMs;
  if (t !== undefined && !(Number.isFinite(t) && t > 0)) {
    issues.push({ path: 'timeoutMs', message: `expected a positive number of milliseconds, got ${String(t)}` });
  }
  if (issues.length > 0) throw new ValidationError(issues);
}

function mergeRecords<R>(
  merge: MergeStrategy,
  records: TaskRecord<R>[],
  winner: { value: R } | null,
): R[] | R | TaskRecord<R>[] {
  const n = records.length;
  if (merge === 'all-settled') return records;
  if (merge === 'first-success') {
    if (winner) return winner.value;
    const bad = records.filter((r) => r.status !== 'fulfilled');
    throw new TaskBatchError(
      `none of the ${n} tasks succeeded: ${describeFailures(bad)}`,
      records,
      bad.map((r) => r.index),
      errorsOf(bad),
    );
  }
  if (merge === 'all-success') {
    const bad = records.filter((r) => r.status !== 'fulfilled');
    if (bad.length === 0) return records.map((r) => r.value as R);
    throw new TaskBatchError(
      `${bad.length} of ${n} tasks did not succeed: ${describeFailures(bad)}`,
      records,
      bad.map((r) => r.index),
      errorsOf(bad),
    );
  }
  // majority: groups of equal values; the winner needs more than half of all tasks, failures included.
  const groups = new Map<string, number[]>();
  for (const r of records) {
    if (r.status !== 'fulfilled') continue;
    const h = valueHash(r.value);
    const g = groups.get(h);
    if (g) g.push(r.index);
    else groups.set(h, [r.index]);
  }
  let largest: number[] = [];
  for (const g of groups.values()) if (g.length > largest.length) largest = g;
  if (largest.length * 2 > n) return (records[largest[0] as number] as TaskRecord<R>).value as R;
  throw new TaskBatchError(
    `no value was returned by more than half of the ${n} tasks (largest agreeing group: ${largest.length}, tasks [${largest.join(', ')}])`,
    records,
    largest,
    errorsOf(records.filter((r) => r.status !== 'fulfilled')),
  );
}

function describeFailures<R>(bad: TaskRecord<R>[]): string {
  const shown = bad
    .slice(0, 10)
    .map((r) => `#${r.index} ${r.status}${r.error ? ` (${r.error.type}: ${r.error.message})` : ''}`);
  if (bad.length > 10) shown.push(`… and ${bad.length - 10} more`);
  return shown.join('; ');
}

function errorsOf<R>(bad: TaskRecord<R>[]): Error[] {
  return bad.map((r) => {
    const e = new Error(`task ${r.index} ${r.status}${r.error ? `: ${r.error.message}` : ''}`);
    e.name = r.error?.type ?? 'Error';
    if (r.error?.stack) e.stack = r.error.stack;
    return e;
  });
}

/** A thrown value as plain data (it must survive JSON and structured clone). */
export function toTaskError(e: unknown): TaskError {
  if (e instanceof Error) return { type: e.name || e.constructor.name, message: e.message, stack: e.stack ?? '' };
  return { type: 'Error', message: typeof e === 'string' ? e : safeJson(e), stack: '' };
}

function safeJson(v: unknown): string {
  try {
    return canonicalJson(v);
  } catch {
    return String(v);
  }
}

/**
 * JSON with object keys sorted at every level, so equal values print equally whatever their key
 * order. Beyond JSON it tells apart undefined, NaN, ±Infinity and bigint (JSON would print null for
 * them, merging distinct values), and prints typed arrays, Maps and Sets by content.
 */
export function canonicalJson(v: unknown): string {
  const seen = new Set<object>();
  const walk = (x: unknown): string => {
    if (x === undefined) return 'undefined';
    if (x === null || typeof x === 'boolean' || typeof x === 'string') return JSON.stringify(x);
    if (typeof x === 'number') return Number.isFinite(x) ? JSON.stringify(x) : String(x);
    if (typeof x === 'bigint') return `${x}n`;
    if (typeof x !== 'object') throw new TypeError(`cannot hash a ${typeof x}`);
    if (seen.has(x)) throw new TypeError('cannot hash a cyclic value');
    seen.add(x);
    let out: string;
    if (x instanceof Date) out = `Date(${JSON.stringify(x.toISOString())})`;
    else if (ArrayBuffer.isView(x)) out = `${x.constructor.name}${walk(Array.from(x as unknown as ArrayLike<number>))}`;
    else if (x instanceof Map) out = `Map${walk([...x.entries()].map(([k, val]) => [walk(k), val]).sort(byFirst))}`;
    else if (x instanceof Set) out = `Set${walk([...x].map(walk).sort())}`;
    else if (Array.isArray(x)) out = `[${x.map(walk).join(',')}]`;
    else {
      const o = x as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort();
      out = `{${keys.map((k) => `${JSON.stringify(k)}:${walk(o[k])}`).join(',')}}`;
    }
    seen.delete(x);
    return out;
  };
  return walk(v);
}

function byFirst(a: unknown[], b: unknown[]): number {
  const x = a[0] as string;
  const y = b[0] as string;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** SHA-256 of the canonical JSON; the key `majority` groups values by. */
export function valueHash(v: unknown): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex');
}
