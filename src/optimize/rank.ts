/**
 * Ranking of optimization results (docs/optimization.md, "Ranking"): a score from one metric or a
 * weighted sum, filters, and an order where NaN scores come last and ties go to the lower index.
 * TopK keeps the best K of a stream in a bounded binary heap so huge grids stay in bounded memory.
 */
import { type Issue, ValidationError } from '../errors.js';
import { describe, isPlainObject, suggest } from '../ir/validate.js';
import { METRIC_KEYS, type Metrics } from '../types.js';

export type Target = keyof Metrics | { weights: Partial<Record<keyof Metrics, number>> };

export interface RankOptions {
  /** A metric name (default `sharpe`) or a weighted sum of metrics. */
  target?: Target;
  /** Whether a higher (default) or a lower score is better; applies to weighted targets too. */
  direction?: 'max' | 'min';
  /** Results with fewer trades are not ranked. */
  minTrades?: number;
  /** Results with a deeper drawdown (percent) are not ranked. */
  maxDrawdownPct?: number;
  /** How many results TopK keeps (default 10). */
  topK?: number;
}

export const DEFAULT_TARGET: keyof Metrics = 'sharpe';
export const DEFAULT_TOP_K = 10;

/** Throws one ValidationError listing every problem with the options, each at its path. */
export function checkRankOptions(opts: RankOptions): void {
  const issues: Issue[] = [];
  const metricHint = (name: string) => `(expected one of ${METRIC_KEYS.join(', ')})${suggest(name, METRIC_KEYS)}`;
  const t: unknown = opts.target;
  if (typeof t === 'string') {
    if (!(METRIC_KEYS as readonly string[]).includes(t)) {
      issues.push({ path: 'target', message: `unknown metric '${t}' ${metricHint(t)}` });
    }
  } else if (t !== undefined) {
    if (!isPlainObject(t) || !isPlainObject(t.weights)) {
      issues.push({
        path: 'target',
        message: `expected a metric name or { weights: { metric: number } }, got ${describe(t)}`,
      });
    } else {
      const entries = Object.entries(t.weights);
      if (entries.length === 0) issues.push({ path: 'target.weights', message: 'expected at least one weight' });
      for (const [k, w] of entries) {
        const path = `target.weights.${k}`;
        if (!(METRIC_KEYS as readonly string[]).includes(k))
          issues.push({ path, message: `unknown metric ${metricHint(k)}` });
        else if (typeof w !== 'number' || !Number.isFinite(w)) {
          issues.push({ path, message: `expected a finite number, got ${describe(w)}` });
        }
      }
    }
  }
  if (opts.direction !== undefined && opts.direction !== 'max' && opts.direction !== 'min') {
    issues.push({ path: 'direction', message: `expected 'max' or 'min', got ${describe(opts.direction)}` });
  }
  const nonNegative = (k: 'minTrades' | 'maxDrawdownPct' | 'topK', integer: boolean) => {
    const v: unknown = opts[k];
    if (v === undefined) return;
    const ok = typeof v === 'number' && Number.isFinite(v) && v >= 0 && (!integer || Number.isInteger(v));
    if (!ok)
      issues.push({
        path: k,
        message: `expected a ${integer ? 'non-negative integer' : 'number >= 0'}, got ${describe(v)}`,
      });
  };
  nonNegative('minTrades', true);
  nonNegative('maxDrawdownPct', false);
  nonNegative('topK', true);
  if (issues.length > 0) throw new ValidationError(issues);
}

/**
 * The ranking score: the target metric, or the weighted sum of the weighted metrics (a zero weight
 * leaves its metric out). NaN when a metric it uses is not finite (profit factor with no losses,
 * calmar with no drawdown, …), so such results rank last instead of first. The sign is the raw
 * value; `direction` decides whether higher or lower is better.
 */
export function score(metrics: Metrics, opts: RankOptions = {}): number {
  const t = opts.target ?? DEFAULT_TARGET;
  if (typeof t === 'string') {
    const v = metrics[t];
    return Number.isFinite(v) ? v : Number.NaN;
  }
  let sum = 0;
  for (const [k, w] of Object.entries(t.weights)) {
    if (w === undefined || w === 0) continue;
    const v = metrics[k as keyof Metrics];
    if (!Number.isFinite(v)) return Number.NaN;
    sum += w * v;
  }
  return sum;
}

/** Whether a result is ranked at all: enough trades and a drawdown within the limit. */
export function passes(metrics: Metrics, opts: RankOptions = {}): boolean {
  if (opts.minTrades !== undefined && !(metrics.tradeCount >= opts.minTrades)) return false;
  // A NaN drawdown fails the comparison, so an unmeasurable result is not ranked under a limit.
  if (opts.maxDrawdownPct !== undefined && !(metrics.maxDrawdownPct <= opts.maxDrawdownPct)) return false;
  return true;
}

interface Entry<T> {
  item: T;
  score: number;
}

/** Negative when `a` ranks before `b`: better score first, NaN last, then lower index. */
function comparator(direction: 'max' | 'min') {
  const sign = direction === 'min' ? 1 : -1;
  return <T extends { index: number }>(a: Entry<T>, b: Entry<T>): number => {
    const an = Number.isNaN(a.score);
    const bn = Number.isNaN(b.score);
    if (an !== bn) return an ? 1 : -1;
    if (!an && a.score !== b.score) return a.score < b.score ? -sign : sign;
    return a.item.index - b.item.index;
  };
}

/** Every item that passes the filters, sorted best first (a full sort; `topK` is not applied). */
export function rank<T extends { index: number; metrics: Metrics }>(items: Iterable<T>, opts: RankOptions = {}): T[] {
  checkRankOptions(opts);
  const cmp = comparator(opts.direction ?? 'max');
  const entries: Entry<T>[] = [];
  for (const item of items) {
    if (passes(item.metrics, opts)) entries.push({ item, score: score(item.metrics, opts) });
  }
  return entries.sort(cmp).map((e) => e.item);
}

/**
 * The best K items of a stream in O(K) memory and O(log K) per offer. The heap's root is the worst
 * kept item, so a newcomer is compared with it once and either dropped or swapped in.
 */
export class TopK<T extends { index: number; metrics: Metrics }> {
  readonly k: number;
  private readonly opts: RankOptions;
  private readonly cmp: (a: Entry<T>, b: Entry<T>) => number;
  private readonly heap: Entry<T>[] = [];

  constructor(opts: RankOptions = {}) {
    checkRankOptions(opts);
    this.opts = { ...opts };
    this.k = opts.topK ?? DEFAULT_TOP_K;
    this.cmp = comparator(opts.direction ?? 'max');
  }

  get size(): number {
    return this.heap.length;
  }

  /** Considers `item`; returns whether it is among the best K so far. Filtered-out items are dropped. */
  offer(item: T): boolean {
    if (this.k === 0 || !passes(item.metrics, this.opts)) return false;
    const e: Entry<T> = { item, score: score(item.metrics, this.opts) };
    const h = this.heap;
    if (h.length < this.k) {
      h.push(e);
      this.up(h.length - 1);
      return true;
    }
    // The root ranks last among the kept; only something ranking before it gets in.
    if (this.cmp(e, h[0] as Entry<T>) >= 0) return false;
    h[0] = e;
    this.down(0);
    return true;
  }

  /** The best item so far, or undefined when nothing passed. */
  best(): T | undefined {
    return this.bestEntry()?.item;
  }

  /** The best item with its score. */
  bestEntry(): { item: T; score: number } | undefined {
    let b: Entry<T> | undefined;
    for (const e of this.heap) if (b === undefined || this.cmp(e, b) < 0) b = e;
    return b && { item: b.item, score: b.score };
  }

  /** The kept items, best first. */
  sorted(): T[] {
    return [...this.heap].sort(this.cmp).map((e) => e.item);
  }

  // A max-heap on rank order: a parent ranks after (is worse than) its children.
  private worse(i: number, j: number): boolean {
    return this.cmp(this.heap[i] as Entry<T>, this.heap[j] as Entry<T>) > 0;
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    const t = h[i] as Entry<T>;
    h[i] = h[j] as Entry<T>;
    h[j] = t;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.worse(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < n && this.worse(l, w)) w = l;
      if (r < n && this.worse(r, w)) w = r;
      if (w === i) return;
      this.swap(i, w);
      i = w;
    }
  }
}
