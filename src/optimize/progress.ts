/**
 * Progress of a batch or optimization (docs/optimization.md, "Progress"): throttled and lossy while
 * jobs run, then exactly one final state where every job is settled. The same states reach the
 * callback, `progress` events and every async iterator, in the same order.
 */
import { EventEmitter } from 'node:events';
import { logger } from '../log.js';
import type { Params } from '../types.js';

export interface Progress {
  completed: number;
  total: number;
  failed: number;
  timedOut: number;
  cancelled: number;
  elapsedMs: number;
  /** Estimated time left from the settle rate so far: NaN before the first settled job, 0 at the end. */
  etaMs: number;
  best?: { index: number; params: Params; score: number };
}

export type ProgressUpdate = Partial<Pick<Progress, 'completed' | 'failed' | 'timedOut' | 'cancelled' | 'best'>>;

/** Time source and timers, injectable so tests can drive the throttle deterministically. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending progress tick must never keep the process alive.
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface ProgressReporterOptions {
  total: number;
  /** Minimum time between two emissions before the final one (default 300). */
  intervalMs?: number;
  onProgress?: (p: Progress) => unknown;
  clock?: Clock;
}

const COUNT_KEYS = ['completed', 'failed', 'timedOut', 'cancelled'] as const;

/**
 * Throttles progress states. `update` records the latest counts (absolute, not increments); a state
 * is emitted at once when the interval since the last emission has passed, otherwise a timer emits
 * the latest state when it has (earlier states in between are dropped). `finish` emits the final
 * state once and ends every stream. Listeners run synchronously and are never awaited; one that
 * throws (or returns a rejected promise) is logged once and otherwise ignored.
 */
export class ProgressReporter extends EventEmitter<{ progress: [Progress]; done: [Progress] }> {
  readonly total: number;
  readonly intervalMs: number;
  private readonly onProgress: ((p: Progress) => unknown) | undefined;
  private readonly clock: Clock;
  private readonly started: number;
  private counts = { completed: 0, failed: 0, timedOut: 0, cancelled: 0 };
  private bestSoFar: Progress['best'];
  private lastEmit = Number.NEGATIVE_INFINITY;
  private pending = false;
  private timer: unknown = null;
  private finished: Progress | null = null;
  private warned = false;
  private readonly queues = new Set<{ items: Progress[]; wake: (() => void) | null }>();

  constructor(options: ProgressReporterOptions) {
    super();
    const { total, intervalMs = 300, onProgress, clock = systemClock } = options;
    if (!Number.isInteger(total) || total < 0) throw new RangeError(`total: expected an integer >= 0, got ${total}`);
    if (!(Number.isFinite(intervalMs) && intervalMs >= 0)) {
      throw new RangeError(`intervalMs: expected a number >= 0, got ${intervalMs}`);
    }
    this.total = total;
    this.intervalMs = intervalMs;
    this.onProgress = onProgress;
    this.clock = clock;
    this.started = clock.now();
  }

  /** Whether `finish` has been called. */
  get done(): boolean {
    return this.finished !== null;
  }

  /** The current state (not an emission; for polling). */
  snapshot(): Progress {
    return this.state(false);
  }

  /** Records the latest counts and best; emits now or later within the throttle. Ignored after finish. */
  update(partial: ProgressUpdate): void {
    if (this.finished) return;
    this.apply(partial);
    this.pending = true;
    // A state with every job settled is the final one: only finish() reports it, so a listener
    // sees the total reached exactly once.
    if (this.settled() === this.total) return;
    const wait = this.lastEmit + this.intervalMs - this.clock.now();
    if (wait <= 0) this.flush();
    else if (this.timer === null) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        if (this.pending && !this.finished && this.settled() < this.total) this.flush();
      }, wait);
    }
  }

  private settled(): number {
    const c = this.counts;
    return c.completed + c.failed + c.timedOut + c.cancelled;
  }

  private apply(partial: ProgressUpdate): void {
    const next = { ...this.counts };
    for (const k of COUNT_KEYS) {
      const v = partial[k];
      if (v === undefined) continue;
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`${k}: expected an integer >= 0, got ${v}`);
      next[k] = v;
    }
    const settled = next.completed + next.failed + next.timedOut + next.cancelled;
    // Counts above the total are a bug in the caller's bookkeeping; catching it here keeps the final invariant.
    if (settled > this.total) throw new RangeError(`${settled} settled jobs exceed the total of ${this.total}`);
    this.counts = next;
    if ('best' in partial) this.bestSoFar = partial.best;
  }

  /**
   * Emits the final state exactly once (later calls do nothing). `final` is applied first; jobs still
   * unaccounted for then count as cancelled, so the final state always settles every job.
   */
  finish(final: ProgressUpdate = {}): Progress {
    if (this.finished) return this.finished;
    this.apply(final);
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    const c = this.counts;
    c.cancelled += this.total - (c.completed + c.failed + c.timedOut + c.cancelled);
    const p = this.state(true);
    this.finished = p;
    this.deliver(p, true);
    for (const q of this.queues) q.wake?.();
    return p;
  }

  /** The emitted states from now on, ending after the final one; after finish, just the final one. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Progress> {
    const q: { items: Progress[]; wake: (() => void) | null } = { items: [], wake: null };
    if (this.finished) q.items.push(this.finished);
    else this.queues.add(q);
    const close = (): IteratorResult<Progress> => {
      this.queues.delete(q);
      q.items.length = 0;
      return { value: undefined, done: true };
    };
    const it: AsyncIterableIterator<Progress> = {
      next: async () => {
        for (;;) {
          const item = q.items.shift();
          if (item !== undefined) return { value: item, done: false };
          if (this.finished || !this.queues.has(q)) return close();
          await new Promise<void>((resolve) => {
            q.wake = resolve;
          });
          q.wake = null;
        }
      },
      return: async () => close(),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  private state(final: boolean): Progress {
    const elapsedMs = this.clock.now() - this.started;
    const c = this.counts;
    const ran = c.completed + c.failed + c.timedOut;
    const left = this.total - ran - c.cancelled;
    // Cancelled jobs never ran, so they neither speed up the rate nor remain to be done.
    const etaMs = final || left === 0 ? 0 : ran === 0 ? Number.NaN : (elapsedMs / ran) * left;
    const p: Progress = { ...c, total: this.total, elapsedMs, etaMs };
    if (this.bestSoFar !== undefined) p.best = { ...this.bestSoFar };
    return p;
  }

  private flush(): void {
    this.pending = false;
    this.lastEmit = this.clock.now();
    this.deliver(this.state(false), false);
  }

  /** Hands one frozen state to every consumer; nothing a consumer does can stop the others. */
  private deliver(p: Progress, final: boolean): void {
    if (p.best) Object.freeze(p.best);
    Object.freeze(p);
    if (this.onProgress) {
      try {
        const r = this.onProgress(p);
        if (r instanceof Promise) r.catch((e: unknown) => this.warn(e));
      } catch (e) {
        this.warn(e);
      }
    }
    for (const ev of final ? (['progress', 'done'] as const) : (['progress'] as const)) {
      // emit() would stop at the first throwing listener; each one is called on its own instead (raw
      // listeners, so `once` wrappers still remove themselves).
      for (const l of this.rawListeners(ev)) {
        try {
          (l as (p: Progress) => unknown)(p);
        } catch (e) {
          this.warn(e);
        }
      }
    }
    for (const q of this.queues) {
      q.items.push(p);
      q.wake?.();
    }
  }

  private warn(e: unknown): void {
    if (this.warned) return;
    this.warned = true;
    logger().warn({ err: e }, 'a progress listener threw; it keeps being called but further errors are not logged');
  }
}
