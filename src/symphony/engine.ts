/**
 * The pure-TypeScript symphony engine (docs/symphony.md sections 3 to 6). The tree is compiled
 * once into a flat post-order plan with one preallocated weight vector per node; each day feeds
 * the indicators, updates the synthetic prices, evaluates every node and simulates the account
 * without allocating. Every sum runs in the order the page states, so the Rust twin agrees to the
 * bit on weights.
 */

import { type Bar, Ema, Rsi, Sma } from '../engine/js/indicators.js';
import { maxDrawdowns, returnRatios, YEAR_MS } from '../engine/js/metrics.js';
import { CancelledError, TimeoutError, ValidationError } from '../errors.js';
import { checkDailyData, DAY_MS } from './data.js';
import { checkResolvedSymphony } from './resolve.js';
import {
  type DailyData,
  DEFAULT_WINDOWS,
  REBALANCE_PERIODS,
  type RebalancePeriod,
  type SymphonyIndicator,
  type SymphonyIR,
  type SymphonyMetrics,
  type SymphonyNode,
  type SymphonyOutput,
  type SymphonyRunConfig,
  type SymphonyValue,
} from './types.js';

export const DEFAULT_SYMPHONY_CONFIG: Readonly<SymphonyRunConfig> = {
  rebalance: null,
  fillAt: 'close',
  commissionPct: 0,
  initialCapital: 10_000,
  start: null,
  end: null,
  periodsPerYear: 252,
};

// ---------------------------------------------------------------- series indicators

/** An indicator fed one series value per day from the series' start; `value` is NaN until ready. */
export interface SeriesIndicator {
  value: number;
  push(x: number): void;
}

class CurrentPrice implements SeriesIndicator {
  value = Number.NaN;
  push(x: number): void {
    this.value = x;
  }
}

/** A window longer than the calendar: never ready, and no ring to allocate. */
class NeverReady implements SeriesIndicator {
  value = Number.NaN;
  push(_x: number): void {}
}

/** The tick engine's sma, ema and rsi, fed through one reused bar. */
class BarIndicator implements SeriesIndicator {
  value = Number.NaN;
  private readonly bar: Bar = { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
  constructor(private readonly ind: Sma | Ema | Rsi) {}
  push(x: number): void {
    this.bar.close = x;
    this.ind.update(this.bar);
    this.value = this.ind.output(0);
  }
}

/** The sum of a full ring of `w` entries, from the oldest (at `head`) to the newest. */
function ringSum(ring: Float64Array, head: number, w: number): number {
  let s = 0;
  let j = head;
  for (let i = 0; i < w; i++) {
    s = s + (ring[j] as number);
    j = j + 1 === w ? 0 : j + 1;
  }
  return s;
}

/** A ring of the last `w` daily returns `x_t / x_(t-1) - 1`. */
abstract class ReturnRing implements SeriesIndicator {
  value = Number.NaN;
  protected readonly ring: Float64Array;
  protected head = 0;
  protected count = 0;
  private started = false;
  private prev = 0;
  constructor(protected readonly w: number) {
    this.ring = new Float64Array(w);
  }
  push(x: number): void {
    if (!this.started) {
      this.started = true;
      this.prev = x;
      return;
    }
    const r = x / this.prev - 1;
    this.prev = x;
    this.ring[this.head] = r;
    this.head = this.head + 1 === this.w ? 0 : this.head + 1;
    this.count++;
    // Once full, `head` points at the oldest entry.
    if (this.count >= this.w) this.value = this.compute();
  }
  protected sum(): number {
    return ringSum(this.ring, this.head, this.w);
  }
  protected abstract compute(): number;
}

class MovingAverageReturn extends ReturnRing {
  protected compute(): number {
    return (this.sum() / this.w) * 100;
  }
}

/** Population deviation of the ring around its mean; `scale` 100 for returns, 1 for prices. */
function ringStdev(ring: Float64Array, head: number, w: number, sum: number, scale: number): number {
  const m = sum / w;
  let ss = 0;
  let j = head;
  for (let i = 0; i < w; i++) {
    const d = (ring[j] as number) - m;
    ss = ss + d * d;
    j = j + 1 === w ? 0 : j + 1;
  }
  return scale === 1 ? Math.sqrt(ss / w) : Math.sqrt(ss / w) * scale;
}

class StdevReturn extends ReturnRing {
  protected compute(): number {
    return ringStdev(this.ring, this.head, this.w, this.sum(), 100);
  }
}

/** A ring of the last `m` series values. */
abstract class ValueRing implements SeriesIndicator {
  value = Number.NaN;
  protected readonly ring: Float64Array;
  protected head = 0;
  protected count = 0;
  constructor(protected readonly m: number) {
    this.ring = new Float64Array(m);
  }
  push(x: number): void {
    this.ring[this.head] = x;
    this.head = this.head + 1 === this.m ? 0 : this.head + 1;
    this.count++;
    if (this.count >= this.m) this.value = this.compute(x);
  }
  protected abstract compute(latest: number): number;
}

class StdevPrice extends ValueRing {
  protected compute(): number {
    return ringStdev(this.ring, this.head, this.m, ringSum(this.ring, this.head, this.m), 1);
  }
}

class CumulativeReturn extends ValueRing {
  protected compute(latest: number): number {
    return (latest / (this.ring[this.head] as number) - 1) * 100;
  }
}

class MaxDrawdown extends ValueRing {
  protected compute(): number {
    let j = this.head;
    let peak = this.ring[j] as number;
    let dd = 0;
    for (let i = 0; i < this.m; i++) {
      const v = this.ring[j] as number;
      peak = Math.max(peak, v);
      dd = Math.max(dd, (peak - v) / peak);
      j = j + 1 === this.m ? 0 : j + 1;
    }
    return dd * 100;
  }
}

/** The window `fn` uses: the given one, else the default; current-price has none (0). */
export function effectiveWindow(fn: SymphonyIndicator, window: unknown): number {
  if (fn === 'current-price') return 0;
  return typeof window === 'number' ? window : DEFAULT_WINDOWS[fn];
}

/** A fresh indicator for `fn` with window `w` over a series of at most `days` values. */
export function createSeriesIndicator(fn: SymphonyIndicator, w: number, days: number): SeriesIndicator {
  if (fn === 'current-price') return new CurrentPrice();
  // Each needs at least w values to be ready; a longer window never is.
  if (w > days) return new NeverReady();
  switch (fn) {
    case 'moving-average-price':
      return new BarIndicator(new Sma(w, 'close'));
    case 'exponential-moving-average-price':
      return new BarIndicator(new Ema(w, 'close'));
    case 'rsi':
      return new BarIndicator(new Rsi(w, 'close'));
    case 'moving-average-return':
      return new MovingAverageReturn(w);
    case 'stdev-return':
      return new StdevReturn(w);
    case 'stdev-price':
      return new StdevPrice(w);
    case 'cumulative-return':
      return new CumulativeReturn(w + 1);
    case 'max-drawdown':
      return new MaxDrawdown(w + 1);
  }
}

// ---------------------------------------------------------------- plan

const ASSET = 0;
const EQUAL = 1;
const SPECIFIED = 2;
const INVERSE_VOL = 3;
const FILTER = 4;
const IF = 5;

const OP_GT = 0;
const OP_LT = 1;
const OP_GE = 2;
const OP_LE = 3;
const OP_EQ = 4;
const OPS: Readonly<Record<string, number>> = { '>': OP_GT, '<': OP_LT, '>=': OP_GE, '<=': OP_LE, '=': OP_EQ };

interface PlanNode {
  kind: number;
  /** This node's weights over the symphony's tickers; only `ks` entries are ever non-zero. */
  out: Float64Array;
  /** IR indices of the tickers in this subtree, ascending. */
  ks: Int32Array;
  /** Child node ids; for `if`, the then list followed by the else list. */
  children: Int32Array;
  /** Asset: IR ticker index. */
  ticker: number;
  /** Weight-specified: `w_i / s` per child. */
  shares: Float64Array;
  /** Filter and inverse volatility: per child, the slot holding its score (or stdev-return). */
  scoreSlots: Int32Array;
  /** Filter: descending (top) or not; how many to keep; child labels. */
  top: boolean;
  count: number;
  labels: string[];
  /** Filter scratch: eligible child positions, their scores, which are selected. */
  order: Int32Array;
  scores: Float64Array;
  picked: Uint8Array;
  /** If: then-list length, comparison, operands (slot, or -1 with a constant). */
  nThen: number;
  op: number;
  leftSlot: number;
  leftConst: number;
  rightSlot: number;
  rightConst: number;
  /** Index into the synthetic series, or -1. */
  synth: number;
}

interface Feed {
  ind: SeriesIndicator;
  slot: number;
}

interface Plan {
  nodes: PlanNode[];
  /** Post-order: children before parents; the root last. */
  root: number;
  /** Per IR ticker, its data column. */
  cols: Int32Array;
  /** Per IR ticker, the indicators on its closes. */
  tickerFeeds: Feed[][];
  /** Per synthetic series: its node and the indicators on its prices. */
  synthNodes: Int32Array;
  synthFeeds: Feed[][];
  nSlots: number;
}

function emptyNode(kind: number, nT: number): PlanNode {
  return {
    kind,
    out: new Float64Array(nT),
    ks: new Int32Array(0),
    children: new Int32Array(0),
    ticker: -1,
    shares: new Float64Array(0),
    scoreSlots: new Int32Array(0),
    top: true,
    count: 0,
    labels: [],
    order: new Int32Array(0),
    scores: new Float64Array(0),
    picked: new Uint8Array(0),
    nThen: 0,
    op: 0,
    leftSlot: -1,
    leftConst: 0,
    rightSlot: -1,
    rightConst: 0,
    synth: -1,
  };
}

function labelOf(n: SymphonyNode): string {
  if (n.type === 'asset') return n.ticker;
  if (n.type === 'group') return n.name;
  return '';
}

function compilePlan(ir: SymphonyIR, data: DailyData): Plan {
  const nT = ir.tickers.length;
  const days = data.dates.length;
  const tickerIndex = new Map<string, number>();
  ir.tickers.forEach((t, k) => {
    tickerIndex.set(t, k);
  });
  const dataIndex = new Map<string, number>();
  data.tickers.forEach((t, k) => {
    dataIndex.set(t, k);
  });
  const cols = new Int32Array(nT);
  const missing: { path: string; message: string }[] = [];
  ir.tickers.forEach((t, k) => {
    const c = dataIndex.get(t);
    if (c === undefined) missing.push({ path: `symphony.tickers[${k}]`, message: `ticker '${t}' is not in the data` });
    else cols[k] = c;
  });
  if (missing.length > 0) throw new ValidationError(missing);

  let nSlots = 0;
  const tickerFeeds: Feed[][] = ir.tickers.map(() => []);
  const tickerCache = new Map<string, number>();
  /** The slot of `fn` with window `w` on ticker `k`'s closes, shared by every reader. */
  const tickerSlot = (fn: SymphonyIndicator, window: unknown, k: number): number => {
    const w = effectiveWindow(fn, window);
    const key = `${fn}\u0000${w}\u0000${k}`;
    let slot = tickerCache.get(key);
    if (slot === undefined) {
      slot = nSlots++;
      tickerCache.set(key, slot);
      (tickerFeeds[k] as Feed[]).push({ ind: createSeriesIndicator(fn, w, days), slot });
    }
    return slot;
  };
  const synthNodes: number[] = [];
  const synthFeeds: Feed[][] = [];
  const nodes: PlanNode[] = [];

  /** The slot of `fn`/`window` on a child's series: the ticker's closes or the node's synthetic price. */
  const seriesSlot = (child: SymphonyNode, id: number, fn: SymphonyIndicator, window: unknown): number => {
    if (child.type === 'asset') return tickerSlot(fn, window, tickerIndex.get(child.ticker) as number);
    const node = nodes[id] as PlanNode;
    if (node.synth < 0) {
      node.synth = synthNodes.length;
      synthNodes.push(id);
      synthFeeds.push([]);
    }
    const slot = nSlots++;
    (synthFeeds[node.synth] as Feed[]).push({
      ind: createSeriesIndicator(fn, effectiveWindow(fn, window), days),
      slot,
    });
    return slot;
  };

  const operand = (v: SymphonyValue): { slot: number; value: number } => {
    if (typeof v === 'number') return { slot: -1, value: v };
    if ('fn' in v) return { slot: tickerSlot(v.fn, v.window, tickerIndex.get(v.ticker) as number), value: 0 };
    throw ValidationError.at('symphony.root', `unresolved parameter '${v.param}'`);
  };

  const union = (ids: number[]): Int32Array => {
    const set = new Set<number>();
    for (const id of ids) for (const k of (nodes[id] as PlanNode).ks) set.add(k);
    return Int32Array.from([...set].sort((a, b) => a - b));
  };

  const build = (n: SymphonyNode): number => {
    if (n.type === 'asset') {
      const node = emptyNode(ASSET, nT);
      node.ticker = tickerIndex.get(n.ticker) as number;
      node.ks = Int32Array.of(node.ticker);
      nodes.push(node);
      return nodes.length - 1;
    }
    if (n.type === 'if') {
      const thenIds = n.then.map(build);
      const elseIds = (n.else ?? []).map(build);
      const node = emptyNode(IF, nT);
      node.children = Int32Array.from([...thenIds, ...elseIds]);
      node.nThen = thenIds.length;
      node.ks = union([...thenIds, ...elseIds]);
      node.op = OPS[n.cond.op] as number;
      const l = operand(n.cond.left);
      const r = operand(n.cond.right);
      node.leftSlot = l.slot;
      node.leftConst = l.value;
      node.rightSlot = r.slot;
      node.rightConst = r.value;
      nodes.push(node);
      return nodes.length - 1;
    }
    const ids = n.children.map(build);
    const kind =
      n.type === 'weight-specified'
        ? SPECIFIED
        : n.type === 'weight-inverse-volatility'
          ? INVERSE_VOL
          : n.type === 'filter'
            ? FILTER
            : EQUAL;
    const node = emptyNode(kind, nT);
    node.children = Int32Array.from(ids);
    node.ks = union(ids);
    const m = ids.length;
    if (n.type === 'weight-specified') {
      let s = 0;
      for (const w of n.weights) s = s + (w as number);
      node.shares = Float64Array.from(n.weights, (w) => (w as number) / s);
    } else if (n.type === 'weight-inverse-volatility') {
      node.scoreSlots = Int32Array.from(n.children, (c, i) =>
        seriesSlot(c, ids[i] as number, 'stdev-return', n.window as number),
      );
    } else if (n.type === 'filter') {
      node.scoreSlots = Int32Array.from(n.children, (c, i) => seriesSlot(c, ids[i] as number, n.fn, n.window));
      node.top = n.select === 'top';
      node.count = n.count as number;
      node.labels = n.children.map(labelOf);
      node.order = new Int32Array(m);
      node.scores = new Float64Array(m);
      node.picked = new Uint8Array(m);
    }
    nodes.push(node);
    return nodes.length - 1;
  };
  const root = build(ir.root);
  return {
    nodes,
    root,
    cols,
    tickerFeeds,
    synthNodes: Int32Array.from(synthNodes),
    synthFeeds,
    nSlots,
  };
}

// ---------------------------------------------------------------- allocation

/** `out[k] = out[k] + share * child[k]` over the child's tickers (other entries of the child are 0). */
function addShare(out: Float64Array, child: PlanNode, share: number): void {
  const c = child.out;
  const ks = child.ks;
  for (let i = 0; i < ks.length; i++) {
    const k = ks[i] as number;
    out[k] = (out[k] as number) + share * (c[k] as number);
  }
}

function compare(op: number, a: number, b: number): boolean {
  switch (op) {
    case OP_GT:
      return a > b;
    case OP_LT:
      return a < b;
    case OP_GE:
      return a >= b;
    case OP_LE:
      return a <= b;
    default:
      return a === b;
  }
}

/** Whether child `a` ranks before child `b` in a filter (score, then label, then position). */
function before(node: PlanNode, a: number, b: number): boolean {
  const sa = node.scores[a] as number;
  const sb = node.scores[b] as number;
  if (sa !== sb) return node.top ? sa > sb : sa < sb;
  const la = node.labels[a] as string;
  const lb = node.labels[b] as string;
  if (la !== lb) return la < lb;
  return a < b;
}

/** Evaluates every node on day `t` (children first); `close` holds the IR tickers' closes. */
function allocate(plan: Plan, vals: Float64Array, close: Float64Array[], t: number): void {
  const nodes = plan.nodes;
  for (let id = 0; id < nodes.length; id++) {
    const node = nodes[id] as PlanNode;
    const out = node.out;
    const ks = node.ks;
    for (let i = 0; i < ks.length; i++) out[ks[i] as number] = 0;
    const ch = node.children;
    switch (node.kind) {
      case ASSET: {
        const c = (close[node.ticker] as Float64Array)[t] as number;
        if (Number.isFinite(c)) out[node.ticker] = 1;
        break;
      }
      case EQUAL: {
        const share = 1 / ch.length;
        for (let i = 0; i < ch.length; i++) addShare(out, nodes[ch[i] as number] as PlanNode, share);
        break;
      }
      case SPECIFIED: {
        for (let i = 0; i < ch.length; i++) addShare(out, nodes[ch[i] as number] as PlanNode, node.shares[i] as number);
        break;
      }
      case INVERSE_VOL: {
        let s = 0;
        for (let i = 0; i < ch.length; i++) {
          const v = vals[node.scoreSlots[i] as number] as number;
          if (!Number.isNaN(v) && v !== 0) s = s + 1 / v;
        }
        if (s === 0) break;
        for (let i = 0; i < ch.length; i++) {
          const v = vals[node.scoreSlots[i] as number] as number;
          if (!Number.isNaN(v) && v !== 0) addShare(out, nodes[ch[i] as number] as PlanNode, 1 / v / s);
        }
        break;
      }
      case FILTER: {
        const order = node.order;
        const scores = node.scores;
        const picked = node.picked;
        let m = 0;
        for (let i = 0; i < ch.length; i++) {
          const v = vals[node.scoreSlots[i] as number] as number;
          scores[i] = v;
          picked[i] = 0;
          if (Number.isNaN(v)) continue;
          // Insertion into the ranked list of eligible children.
          let j = m++;
          while (j > 0 && before(node, i, order[j - 1] as number)) {
            order[j] = order[j - 1] as number;
            j--;
          }
          order[j] = i;
        }
        const k = Math.min(node.count, m);
        if (k === 0) break;
        for (let j = 0; j < k; j++) picked[order[j] as number] = 1;
        const share = 1 / k;
        for (let i = 0; i < ch.length; i++) {
          if (picked[i] === 1) addShare(out, nodes[ch[i] as number] as PlanNode, share);
        }
        break;
      }
      case IF: {
        const a = node.leftSlot < 0 ? node.leftConst : (vals[node.leftSlot] as number);
        const b = node.rightSlot < 0 ? node.rightConst : (vals[node.rightSlot] as number);
        const from = compare(node.op, a, b) ? 0 : node.nThen;
        const to = from === 0 ? node.nThen : ch.length;
        if (to === from) break;
        const share = 1 / (to - from);
        for (let i = from; i < to; i++) addShare(out, nodes[ch[i] as number] as PlanNode, share);
        break;
      }
    }
  }
}

// ---------------------------------------------------------------- simulation

/** The UTC month of a day number (days since 1970-01-01) as `year * 12 + month`. */
function monthKey(day: number): number {
  // Civil-from-days (H. Hinnant), integer arithmetic only.
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y * 12 + (m - 1);
}

/** How each calendar rule is numbered in the daily loop; `{ threshold }` is `RULE_THRESHOLD`. */
const RULE_KIND: Readonly<Record<RebalancePeriod, number>> = {
  daily: 0,
  weekly: 1,
  monthly: 2,
  quarterly: 3,
  yearly: 4,
  none: 5,
};
const RULE_NONE = 5;
const RULE_THRESHOLD = 6;

const weekOf = (date: number): number => Math.floor((Math.floor(date / DAY_MS) + 3) / 7);

/** Checks a run configuration (engine input); throws one ValidationError listing every problem. */
export function checkSymphonyConfig(config: SymphonyRunConfig): void {
  const issues: { path: string; message: string }[] = [];
  const at = (path: string, message: string) => issues.push({ path: `config.${path}`, message });
  const r = config.rebalance;
  if (r !== null && !(REBALANCE_PERIODS as readonly unknown[]).includes(r)) {
    const x = typeof r === 'object' && r !== null ? (r as { threshold?: unknown }).threshold : undefined;
    if (typeof x !== 'number' || !(Number.isFinite(x) && x > 0)) {
      at(
        'rebalance',
        `expected daily, weekly, monthly, quarterly, yearly, none or { threshold: x > 0 }, got ${JSON.stringify(r)}`,
      );
    }
  }
  if (config.fillAt !== 'close' && config.fillAt !== 'open') {
    at('fillAt', `expected 'close' or 'open', got ${JSON.stringify(config.fillAt)}`);
  }
  if (!(Number.isFinite(config.commissionPct) && config.commissionPct >= 0)) {
    at('commissionPct', `expected a finite number >= 0, got ${config.commissionPct}`);
  }
  if (!(Number.isFinite(config.initialCapital) && config.initialCapital > 0)) {
    at('initialCapital', `expected a finite number > 0, got ${config.initialCapital}`);
  }
  if (!(Number.isFinite(config.periodsPerYear) && config.periodsPerYear > 0)) {
    at('periodsPerYear', `expected a finite number > 0, got ${config.periodsPerYear}`);
  }
  for (const k of ['start', 'end'] as const) {
    const v = config[k];
    if (v !== null && !(typeof v === 'number' && Number.isFinite(v))) {
      at(k, `expected finite epoch milliseconds or null, got ${String(v)}`);
    }
  }
  if (typeof config.start === 'number' && typeof config.end === 'number' && config.start > config.end) {
    at('start', `${config.start} is after config.end (${config.end})`);
  }
  if (issues.length > 0) throw new ValidationError(issues);
}

/** Indices `[s0, s1]` of the simulated days (`s1 < s0` when start..end holds no day). */
export function simulatedRange(dates: Float64Array, start: number | null, end: number | null): [number, number] {
  const lo = start ?? Number.NEGATIVE_INFINITY;
  const hi = end ?? Number.POSITIVE_INFINITY;
  let s0 = 0;
  while (s0 < dates.length && (dates[s0] as number) < lo) s0++;
  let s1 = dates.length - 1;
  while (s1 >= 0 && (dates[s1] as number) > hi) s1--;
  return [s0, Math.max(s1, s0 - 1)];
}

/** Lets a long run stop early: checked every few hundred days. */
export interface RunControl {
  signal?: AbortSignal;
  /** `performance.now()` after which the run throws a TimeoutError. */
  deadline?: number;
  onTimeout?: () => Error;
}

const CHECK_EVERY = 256;

/** Runs one resolved symphony over `data` (docs/symphony.md sections 3 to 6). */
export function runSymphonyJs(
  irInput: SymphonyIR,
  data: DailyData,
  config: SymphonyRunConfig,
  control?: RunControl,
): SymphonyOutput {
  const ir = checkResolvedSymphony(irInput);
  checkDailyData(data);
  checkSymphonyConfig(config);
  const plan = compilePlan(ir, data);
  const dates = data.dates;
  const [s0, s1] = simulatedRange(dates, config.start, config.end);
  const nT = ir.tickers.length;
  const nSim = s1 - s0 + 1;
  const cols = plan.cols;
  const close: Float64Array[] = Array.from(cols, (c) => data.close[c] as Float64Array);
  const open: Float64Array[] = Array.from(cols, (c) => data.open[c] as Float64Array);

  const rule = config.rebalance ?? ir.rebalance ?? 'daily';
  const ruleKind = typeof rule === 'object' ? RULE_THRESHOLD : RULE_KIND[rule];
  const threshold = typeof rule === 'object' ? (rule.threshold as number) : 0;
  const atOpen = config.fillAt === 'open';
  const commissionPct = config.commissionPct;

  const vals = new Float64Array(plan.nSlots).fill(Number.NaN);
  const synthPrice = new Float64Array(plan.synthNodes.length);
  const nodes = plan.nodes;
  const rootOut = (nodes[plan.root] as PlanNode).out;
  const needWarmupAlloc = plan.synthNodes.length > 0;

  const time = dates.slice(s0, s1 + 1);
  const equity = new Float64Array(nSim);
  const weights = new Float64Array(nSim * nT);
  const rebalanceDays = new Int32Array(nSim);
  let nRebalanceDays = 0;

  const units = new Float64Array(nT);
  const target = new Float64Array(nT);
  let cash = config.initialCapital;
  let pending = false;
  let rebalances = 0;
  let turnover = 0;
  let totalCommission = 0;

  /** `cash + sum_k units_k * p_k`, the sum from 0 in ticker order over held tickers. */
  const value = (p: Float64Array[], t: number): number => {
    let s = 0;
    for (let k = 0; k < nT; k++) {
      const u = units[k] as number;
      if (u !== 0) s = s + u * ((p[k] as Float64Array)[t] as number);
    }
    return cash + s;
  };

  /** Trades to the target `w` (row `row` of `weights`) at prices `p[k][t]`. */
  const trade = (row: number, p: Float64Array[], t: number): void => {
    const base = row * nT;
    const v = value(p, t);
    for (let k = 0; k < nT; k++) {
      const w = weights[base + k] as number;
      target[k] = w > 0 ? (w * v) / ((p[k] as Float64Array)[t] as number) : 0;
    }
    let traded = 0;
    for (let k = 0; k < nT; k++) {
      const tg = target[k] as number;
      const u = units[k] as number;
      if (tg === 0 && u === 0) continue;
      traded = traded + Math.abs(tg - u) * ((p[k] as Float64Array)[t] as number);
    }
    const commission = (traded * commissionPct) / 100;
    let spent = 0;
    for (let k = 0; k < nT; k++) {
      const tg = target[k] as number;
      if (tg !== 0) spent = spent + tg * ((p[k] as Float64Array)[t] as number);
    }
    cash = v - spent - commission;
    units.set(target);
    turnover = turnover + traded / v;
    totalCommission = totalCommission + commission;
    rebalances++;
  };

  const tickerFeeds = plan.tickerFeeds;
  const synthFeeds = plan.synthFeeds;
  const synthNodes = plan.synthNodes;
  for (let t = 0; nSim > 0 && t <= s1; t++) {
    if (control && t % CHECK_EVERY === 0) {
      if (control.signal?.aborted) throw new CancelledError();
      if (control.deadline !== undefined && performance.now() > control.deadline) {
        throw control.onTimeout ? control.onTimeout() : new TimeoutError();
      }
    }
    // Indicators on the tickers' closes, from each ticker's first priced day.
    for (let k = 0; k < nT; k++) {
      const feeds = tickerFeeds[k] as Feed[];
      if (feeds.length === 0) continue;
      const x = (close[k] as Float64Array)[t] as number;
      if (!Number.isFinite(x)) continue;
      for (let f = 0; f < feeds.length; f++) {
        const feed = feeds[f] as Feed;
        feed.ind.push(x);
        vals[feed.slot] = feed.ind.value;
      }
    }
    // Synthetic prices from yesterday's allocations (still in each node's vector), then their indicators.
    for (let s = 0; s < synthNodes.length; s++) {
      let p = 1;
      if (t > 0) {
        const node = nodes[synthNodes[s] as number] as PlanNode;
        const a = node.out;
        const ks = node.ks;
        let g = 0;
        for (let i = 0; i < ks.length; i++) {
          const k = ks[i] as number;
          const ak = a[k] as number;
          if (ak > 0) {
            const c = close[k] as Float64Array;
            g = g + ak * ((c[t] as number) / (c[t - 1] as number) - 1);
          }
        }
        p = (synthPrice[s] as number) * (1 + g);
      }
      synthPrice[s] = p;
      const feeds = synthFeeds[s] as Feed[];
      for (let f = 0; f < feeds.length; f++) {
        const feed = feeds[f] as Feed;
        feed.ind.push(p);
        vals[feed.slot] = feed.ind.value;
      }
    }
    if (t < s0) {
      if (needWarmupAlloc) allocate(plan, vals, close, t);
      continue;
    }

    const d = t - s0;
    // 1. Fill at open: yesterday's decision at today's opens.
    if (pending) {
      trade(d - 1, open, t);
      pending = false;
    }
    // 2. Target.
    allocate(plan, vals, close, t);
    weights.set(rootOut, d * nT);
    // 3. Decide.
    let due: boolean;
    if (d === 0) due = true;
    else if (ruleKind === 0) due = true;
    else if (ruleKind === 1) due = weekOf(dates[t] as number) !== weekOf(dates[t - 1] as number);
    else if (ruleKind === RULE_NONE) due = false;
    else if (ruleKind !== RULE_THRESHOLD) {
      // Monthly, quarterly or yearly: the UTC month, quarter or year differs from the previous day's.
      const span = ruleKind === 2 ? 1 : ruleKind === 3 ? 3 : 12;
      const m0 = monthKey(Math.floor((dates[t - 1] as number) / DAY_MS));
      const m1 = monthKey(Math.floor((dates[t] as number) / DAY_MS));
      due = Math.floor(m1 / span) !== Math.floor(m0 / span);
    } else {
      const eq = value(close, t);
      let dev = 0;
      for (let k = 0; k < nT; k++) {
        const u = units[k] as number;
        const h = u === 0 ? 0 : (u * ((close[k] as Float64Array)[t] as number)) / eq;
        const x = Math.abs(h - (rootOut[k] as number));
        if (x > dev) dev = x;
      }
      due = dev > threshold;
    }
    if (due) {
      rebalanceDays[nRebalanceDays++] = d;
      // 4. Fill at close, or wait for the next simulated day's open.
      if (atOpen) pending = true;
      else trade(d, close, t);
    }
    // 5. Mark.
    equity[d] = value(close, t);
  }

  const metrics = symphonyMetrics(
    time,
    equity,
    config.initialCapital,
    config.periodsPerYear,
    rebalances,
    turnover,
    totalCommission,
  );
  return {
    tickers: [...ir.tickers],
    time,
    equity,
    weights,
    rebalanceDays: rebalanceDays.slice(0, nRebalanceDays),
    metrics,
  };
}

/**
 * Section 6: docs/semantics.md's formulas on one equity sample per simulated day (the returns
 * are per sample, never grouped by UTC day), plus volatility.
 */
export function symphonyMetrics(
  time: Float64Array,
  equity: Float64Array,
  b0: number,
  periodsPerYear: number,
  rebalances: number,
  turnover: number,
  totalCommission: number,
): SymphonyMetrics {
  const n = equity.length;
  const last = n === 0 ? b0 : (equity[n - 1] as number);
  const returnPct = ((last - b0) / b0) * 100;

  const years = n === 0 ? Number.NaN : ((time[n - 1] as number) - (time[0] as number)) / YEAR_MS;
  let cagrPct: number;
  if (Number.isNaN(years) || years <= 0) cagrPct = Number.NaN;
  else if (last <= 0) cagrPct = -100;
  else cagrPct = ((last / b0) ** (1 / years) - 1) * 100;

  const { maxDrawdown, maxDrawdownPct } = maxDrawdowns(equity, b0);

  const rets = new Float64Array(n);
  let prev = b0;
  for (let j = 0; j < n; j++) {
    const e = equity[j] as number;
    rets[j] = e / prev - 1;
    prev = e;
  }
  const sqrtPeriods = Math.sqrt(periodsPerYear);
  const { sharpe, sortino, sd } = returnRatios(rets, sqrtPeriods);
  const volatilityPct = sd * sqrtPeriods * 100;
  const calmar = maxDrawdownPct === 0 ? Number.NaN : cagrPct / maxDrawdownPct;
  return {
    returnPct,
    cagrPct,
    maxDrawdown,
    maxDrawdownPct,
    sharpe,
    sortino,
    calmar,
    volatilityPct,
    rebalances,
    turnover,
    totalCommission,
    finalEquity: last,
  };
}
