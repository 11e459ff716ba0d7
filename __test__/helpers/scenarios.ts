// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
/**
 * Seeded random scenarios for the engine parity and look-ahead suites: a market data set, a
 * strategy in the IR of docs/semantics.md section 4 and run settings, all derived from one integer
 * seed. The strategies are meant to be valid and to trade (they exercise the engines, not the
 * validators); a few orders are deliberately malformed so that every rejection reason shows up.
 */
import type { BacktestOptions } from '../../src/backtest.js';
import { generateBars, generateTicks } from '../../src/generate.js';
import {
  type Action,
  type BarData,
  type Expr,
  type Level,
  type ParamSpec,
  type Params,
  type PriceSource,
  type Rule,
  type StrategyIR,
  TIMEFRAME_MS,
  type TickData,
  type Timeframe,
  type WorkerKind,
  type WorkerSpec,
} from '../../src/types.js';

// ---------------------------------------------------------------- PRNG

/**
 * A small deterministic generator: a 32-bit xorshift state advanced by a Weyl increment, with a
 * multiplicative output mix. Plenty for picking test cases; not for anything else.
 */
export class Rng {
  private x: number;
  private w: number;

  constructor(seed: number) {
    this.x = (Math.imul(seed >>> 0, 0x2c1b3c6d) ^ 0x6a09e667) >>> 0 || 1;
    this.w = (seed >>> 0) ^ 0xbb67ae85;
    for (let i = 0; i < 8; i++) this.u32();
  }

  u32(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    this.w = (this.w + 0x61c88647) >>> 0;
    let z = (this.x + this.w) >>> 0;
    z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d);
    z = Math.imul(z ^ (z >>> 12), 0x297a2d39);
    return (z ^ (z >>> 15)) >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + this.float() * (hi - lo);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }
}

// ---------------------------------------------------------------- market data

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

interface SymbolInfo {
  symbol: string;
  pipSize: number;
  contractSize: number;
  price: number;
  digits: number;
}

const SYMBOLS: readonly SymbolInfo[] = [
  { symbol: 'EURUSD', pipSize: 0.0001, contractSize: 100_000, price: 1.1, digits: 5 },
  { symbol: 'EURUSD', pipSize: 0.0001, contractSize: 100_000, price: 1.1, digits: 5 },
  { symbol: 'GBPUSD', pipSize: 0.0001, contractSize: 100_000, price: 1.27, digits: 5 },
  { symbol: 'USDJPY', pipSize: 0.01, contractSize: 100_000, price: 150, digits: 3 },
  { symbol: 'XAUUSD', pipSize: 0.1, contractSize: 100, price: 2000, digits: 2 },
];

/** A weekday (Monday to Thursday) midnight in the first half of 2024, plus `extraMs`. */
function weekdayStart(rng: Rng, extraMs = 0): number {
  for (;;) {
    const day = Math.floor(Date.UTC(2024, 0, 1) / DAY) + rng.int(0, 180);
    const wd = (day + 4) % 7;
    if (wd >= 1 && wd <= 4) return day * DAY + extraMs;
  }
}

/**
 * A hand-made tick vector: a random walk in points with runs of equal timestamps, short and long
 * gaps, a spread that sometimes collapses to zero (ask == bid) and an optional volume column.
 */
export function handMadeTicks(seed: number, n: number, info: SymbolInfo, withVolume: boolean): TickData {
  const rng = new Rng(seed ^ 0x5eed);
  const scale = 10 ** info.digits;
  const time = new Float64Array(n);
  const bid = new Float64Array(n);
  const ask = new Float64Array(n);
  const volume = withVolume ? new Float64Array(n) : undefined;
  let t = weekdayStart(rng, rng.int(0, 20) * HOUR + rng.int(0, 3_599_999));
  let pts = Math.floor(info.price * scale + 0.5);
  const step = rng.int(2, 9);
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const r = rng.float();
      if (r < 0.12) t += 0;
      else if (r < 0.135) t += rng.int(2, 90) * MINUTE + rng.int(0, 59_999);
      else if (r < 0.137) t += rng.int(3, 40) * HOUR + rng.int(0, 59_999);
      else t += rng.int(1, 9000);
      pts += rng.int(-step, step);
      if (pts < 10) pts = 10 + (10 - pts);
    }
    const spread = rng.chance(0.03) ? 0 : rng.int(3, rng.chance(0.05) ? 60 : 20);
    time[i] = t;
    bid[i] = pts / scale;
    ask[i] = (pts + spread) / scale;
    if (volume) volume[i] = rng.chance(0.5) ? rng.int(0, 10) : rng.int(0, 400) / 8;
  }
  return { symbol: info.symbol, time, bid, ask, ...(volume ? { volume } : {}) };
}

/** Keeps about `keep` of the bars (the first always), which leaves gaps of random length. */
function thinBars(b: BarData, seed: number, keep: number): BarData {
  const rng = new Rng(seed ^ 0xba55);
  const idx: number[] = [];
  for (let i = 0; i < b.time.length; i++) if (i === 0 || rng.chance(keep)) idx.push(i);
  const take = (c: Float64Array) => Float64Array.from(idx, (i) => c[i] as number);
  return {
    symbol: b.symbol,
    timeframe: b.timeframe,
    time: take(b.time),
    open: take(b.open),
    high: take(b.high),
    low: take(b.low),
    close: take(b.close),
    volume: take(b.volume),
  };
}

// ---------------------------------------------------------------- scenario

export type Mode = 'ticks' | 'bars';

export interface Scenario {
  seed: number;
  mode: Mode;
  /** A short description of the data, the strategy shape and the settings. */
  label: string;
  /** Everything `backtestSync` needs except the engine. */
  options: Omit<BacktestOptions, 'engine' | 'signal'>;
}

const STRATEGY_TFS: readonly Timeframe[] = ['M1', 'M5', 'M15', 'M30', 'H1'];

interface DataPlan {
  mode: Mode;
  info: SymbolInfo;
  ticks?: TickData;
  bars?: BarData;
  /** The data timeframe (bar mode) or null. */
  dataTf: Timeframe | null;
  first: number;
  last: number;
  label: string;
}

function planData(rng: Rng, mode: Mode): DataPlan {
  const info = rng.pick(SYMBOLS);
  if (mode === 'ticks') {
    if (rng.chance(0.65)) {
      const seed = rng.u32();
      const days = rng.pick([1, 1, 2, 2, 3]);
      const meanIntervalMs = rng.pick([900, 900, 2500, 6000]);
      const stepPoints = rng.pick([3, 5, 8, 8]);
      const start = weekdayStart(rng);
      const ticks = generateTicks({ symbol: info.symbol, seed, days, meanIntervalMs, stepPoints, start, engine: 'js' });
      return {
        mode,
        info,
        ticks,
        dataTf: null,
        first: ticks.time[0] as number,
        last: ticks.time[ticks.time.length - 1] as number,
        label: `gen ticks ${info.symbol} seed=${seed} days=${days} interval=${meanIntervalMs} step=${stepPoints} n=${ticks.time.length}`,
      };
    }
    const seed = rng.u32();
    const n = rng.int(3000, 14_000);
    const withVolume = rng.chance(0.4);
    const ticks = handMadeTicks(seed, n, info, withVolume);
    return {
      mode,
      info,
      ticks,
      dataTf: null,
      first: ticks.time[0] as number,
      last: ticks.time[n - 1] as number,
      label: `hand ticks ${info.symbol} seed=${seed} n=${n}${withVolume ? ' +volume' : ''}`,
    };
  }
  const timeframe = rng.pick(['M1', 'M1', 'M5', 'M5', 'M15', 'M30', 'H1'] as const);
  const count = rng.int(timeframe === 'H1' ? 600 : 1500, timeframe === 'H1' ? 2000 : 5000);
  const seed = rng.u32();
  const stepPoints = rng.pick([3, 5, 8, 8]);
  const start = weekdayStart(rng, rng.int(0, 23) * HOUR);
  const keep = rng.chance(0.25) ? rng.pick([0.5, 0.8, 0.95]) : 1;
  const generated = generateBars({ symbol: info.symbol, timeframe, count, seed, stepPoints, start, engine: 'js' });
  const bars = keep < 1 ? thinBars(generated, seed, keep) : generated;
  return {
    mode,
    info,
    bars,
    dataTf: timeframe,
    first: bars.time[0] as number,
    last: (bars.time[bars.time.length - 1] as number) + TIMEFRAME_MS[timeframe],
    label: `gen bars ${info.symbol} ${timeframe} seed=${seed} n=${bars.time.length}${keep < 1 ? ` keep=${keep}` : ''} step=${stepPoints}`,
  };
}

// ---------------------------------------------------------------- strategy pieces

const op = (o: string, ...args: Expr[]): Expr => ({ op: o, args }) as Expr;
const and = (...args: Expr[]): Expr => (args.length === 1 ? (args[0] as Expr) : op('and', ...args));
const or = (...args: Expr[]): Expr => (args.length === 1 ? (args[0] as Expr) : op('or', ...args));
const side: Expr = { position: 'side' };

interface Worker {
  spec: WorkerSpec;
  /** The outputs that are prices (comparable with bar fields and quotes); empty for rsi, atr and macd. */
  prices: string[];
}

/** Builds strategies for one data plan; all choices come from `rng`. */
class StrategyBuilder {
  readonly params: Record<string, ParamSpec> = {};
  readonly runParams: Params = {};
  readonly workers: Worker[] = [];
  private paramCount = 0;
  readonly pip: number;
  decisionTf: Timeframe = 'M1';
  /** The starting balance, which some filters compare the account with. */
  balance = 0;
  /** Timeframes with enough bars for indicators, smallest first. */
  readonly tfs: Timeframe[];
  readonly spanMs: number;

  constructor(
    private readonly rng: Rng,
    plan: DataPlan,
  ) {
    this.pip = plan.info.pipSize;
    this.spanMs = plan.last - plan.first;
    const min = plan.dataTf ? TIMEFRAME_MS[plan.dataTf] : 0;
    this.tfs = STRATEGY_TFS.filter((tf) => TIMEFRAME_MS[tf] >= min && this.spanMs / TIMEFRAME_MS[tf] >= 40);
    if (this.tfs.length === 0) this.tfs.push(plan.dataTf ?? 'M1');
  }

  /** How many bars of `tf` the data spans (roughly; gaps make it fewer). */
  barsOf(tf: Timeframe): number {
    return Math.floor(this.spanMs / TIMEFRAME_MS[tf]);
  }

  /** A literal, or a reference to a new strategy parameter with this default (sometimes overridden per run). */
  num(value: number, isInt: boolean, alt?: number): number | { param: string } {
    if (!this.rng.chance(0.3)) return value;
    const name = `p${this.paramCount++}`;
    const spec: ParamSpec = { default: value };
    if (isInt) spec.type = 'int';
    if (this.rng.chance(0.5)) spec.min = isInt ? 1 : 0;
    this.params[name] = spec;
    if (alt !== undefined && this.rng.chance(0.4)) this.runParams[name] = alt;
    return { param: name };
  }

  addWorker(kind: WorkerKind): Worker {
    const rng = this.rng;
    const id = `${kind}${this.workers.length}`;
    const tf = rng.pick(this.tfs.slice(0, Math.max(1, this.tfs.length - (rng.chance(0.6) ? 1 : 0))));
    const maxPeriod = Math.max(2, Math.min(30, Math.floor(this.barsOf(tf) / 4)));
    const period = () => {
      const p = rng.int(2, maxPeriod);
      return this.num(p, true, Math.max(1, Math.min(maxPeriod, p + rng.int(-2, 2))));
    };
    const params: WorkerSpec['params'] = {};
    let prices: string[] = [];
    switch (kind) {
      case 'sma':
      case 'ema':
      case 'rsi':
        params.period = period();
        prices = kind === 'rsi' ? [] : ['value'];
        break;
      case 'atr':
        params.period = period();
        break;
      case 'bollinger':
        params.period = period();
        params.deviations = this.num(rng.pick([1, 1.5, 2, 2.5, rng.range(0.5, 3)]), false, 2);
        prices = ['upper', 'middle', 'lower'];
        break;
      case 'envelope':
        params.period = period();
        params.percent = this.num(rng.pick([0.02, 0.05, 0.1, rng.range(0.01, 0.3)]), false, 0.08);
        prices = ['upper', 'middle', 'lower'];
        break;
      case 'macd': {
        const slowMax = Math.max(4, Math.min(30, Math.floor(this.barsOf(tf) / 5)));
        const slow = rng.int(3, slowMax);
        const fast = rng.int(1, slow - 1);
        params.fast = this.num(fast, true);
        params.slow = this.num(slow, true);
        params.signal = this.num(rng.int(1, 9), true, rng.int(1, 9));
        break;
      }
    }
    if (kind !== 'atr' && rng.chance(0.4)) params.source = rng.pick(['open', 'high', 'low', 'close'] as PriceSource[]);
    const w: Worker = { spec: { id, kind, timeframe: tf, params }, prices };
    this.workers.push(w);
    return w;
  }

  ref(w: Worker, output?: string, offset = 0): Expr {
    const e: { worker: string; output?: string; offset?: number } = { worker: w.spec.id };
    if (output !== undefined && (output !== 'value' || this.rng.chance(0.3))) e.output = output;
    if (offset > 0) e.offset = offset;
    else if (this.rng.chance(0.1)) e.offset = 0;
    return e;
  }

  /** A closed-bar field of the decision timeframe or another usable one. */
  bar(field: 'open' | 'high' | 'low' | 'close' | 'volume' | 'time', offset = 0): Expr {
    const e: { bar: typeof field; timeframe?: Timeframe; offset?: number } = { bar: field };
    const other = this.rng.chance(0.2);
    if (other) e.timeframe = this.rng.pick(this.tfs);
    else if (this.rng.chance(0.2)) e.timeframe = this.decisionTf;
    if (offset > 0) e.offset = offset;
    return e;
  }

  /** A price-valued expression usable inside a cross (bars, workers, arithmetic). */
  crossPrice(): Expr {
    const rng = this.rng;
    const priced = this.workers.filter((w) => w.prices.length > 0);
    if (priced.length > 0 && rng.chance(0.6)) {
      const w = rng.pick(priced);
      return this.ref(w, rng.pick(w.prices));
    }
    const r = rng.float();
    if (r < 0.55) return this.bar('close');
    if (r < 0.7) return op('/', op('+', this.bar('high'), this.bar('low')), 2);
    if (r < 0.8) return op('/', op('+', this.bar('high'), this.bar('low'), this.bar('close')), 3);
    return op('+', this.bar('close', 1), rng.int(-3, 3) * this.pip);
  }

  /** A price-valued expression for plain comparisons (may read quotes and forming bars). */
  price(): Expr {
    const rng = this.rng;
    const r = rng.float();
    if (r < 0.15) return { quote: rng.pick(['bid', 'ask', 'mid'] as const) };
    // The base timeframe's forming bar exists at every decision; a larger one's forming bar
    // does not right after its own close (it starts with its first closed base bar), so those
    // read NaN at times, which is part of what is tested.
    if (r < 0.25)
      return { forming: rng.pick(['open', 'high', 'low', 'close'] as const), timeframe: this.tfs[0] as Timeframe };
    if (r < 0.28) return { forming: 'close', timeframe: rng.pick(this.tfs) };
    return this.crossPrice();
  }

  /** A pair of conditions (long, short) from one signal family that the workers allow. */
  signal(): [Expr, Expr] {
    const rng = this.rng;
    const families: (() => [Expr, Expr])[] = [];
    for (const w of this.workers) {
      const k = w.spec.kind;
      if (k === 'sma' || k === 'ema') {
        families.push(() => {
          const x = this.ref(w, 'value');
          const r = rng.float();
          if (r < 0.4) return [op('crossAbove', this.bar('close'), x), op('crossBelow', this.bar('close'), x)];
          if (r < 0.7) return [op('>', this.price(), x), op('<', this.price(), x)];
          return [op('>', x, this.ref(w, 'value', rng.int(1, 3))), op('<', x, this.ref(w, 'value', rng.int(1, 3)))];
        });
      }
      if (k === 'bollinger' || k === 'envelope') {
        families.push(() => {
          const r = rng.float();
          if (r < 0.4)
            return [op('<', this.price(), this.ref(w, 'lower')), op('>', this.price(), this.ref(w, 'upper'))];
          if (r < 0.7) {
            return [
              op('crossAbove', this.bar('close'), this.ref(w, 'middle')),
              op('crossBelow', this.bar('close'), this.ref(w, 'middle')),
            ];
          }
          return [
            op('crossAbove', this.bar('close'), this.ref(w, 'upper')),
            op('crossBelow', this.bar('close'), this.ref(w, 'lower')),
          ];
        });
      }
      if (k === 'rsi') {
        families.push(() => {
          const lo = rng.int(30, 48);
          const loRef = this.num(lo, false, lo + 1);
          const r = rng.float();
          if (r < 0.5) return [op('<', this.ref(w), loRef), op('>', this.ref(w), op('-', 100, loRef))];
          return [op('crossAbove', this.ref(w), 50), op('crossBelow', this.ref(w), 50)];
        });
      }
      if (k === 'macd') {
        families.push(() => {
          const r = rng.float();
          if (r < 0.5) {
            return [
              op('crossAbove', this.ref(w, 'macd'), this.ref(w, 'signal')),
              op('crossBelow', this.ref(w, 'macd'), this.ref(w, 'signal')),
            ];
          }
          return [op('>', this.ref(w, 'hist'), 0), op('<', this.ref(w, 'hist'), 0)];
        });
      }
      if (k === 'atr') {
        families.push(() => {
          const f = rng.pick([0.1, 0.25, 0.5]);
          const move = op('-', this.bar('close'), this.bar('close', 1));
          return [op('>', move, op('*', this.ref(w), f)), op('<', move, op('*', op('neg', this.ref(w)), f))];
        });
      }
    }
    // Families without workers: momentum and breakouts.
    families.push(() => {
      const k = rng.int(1, 4);
      return [op('>', this.bar('close'), this.bar('close', k)), op('<', this.bar('close'), this.bar('close', k))];
    });
    families.push(() => [op('>', this.price(), this.bar('high', 1)), op('<', this.price(), this.bar('low', 1))]);
    families.push(() => [
      op('>', this.price(), op('max', this.bar('high', 1), this.bar('high', 2), this.bar('high', 3))),
      op('<', this.price(), op('min', this.bar('low', 1), this.bar('low', 2), this.bar('low', 3))),
    ]);
    families.push(() => [
      op('crossAbove', this.bar('close'), this.bar('open')),
      op('crossBelow', this.bar('close'), this.bar('open')),
    ]);
    const pickOne = () => (rng.pick(families) as () => [Expr, Expr])();
    const [l1, s1] = pickOne();
    if (rng.chance(0.5)) return [l1, s1];
    const [l2, s2] = pickOne();
    const r = rng.float();
    if (r < 0.55) return [or(l1, l2), or(s1, s2)];
    if (r < 0.8) return [and(l1, op('not', s2)), and(s1, op('not', l2))];
    return [and(l1, l2), and(s1, s2)];
  }

  /** A permissive filter (usually true) that still reads something. */
  filter(): Expr {
    const rng = this.rng;
    const r = rng.float();
    if (r < 0.2) {
      const a = rng.int(0, 8);
      return and(op('>=', { time: 'hour' }, a), op('<', { time: 'hour' }, a + rng.int(14, 16)));
    }
    if (r < 0.3) return op('not', op('==', { time: 'weekday' }, rng.pick([1, 5])));
    if (r < 0.38) return op('!=', { time: 'minute' }, rng.int(0, 59));
    if (r < 0.45) return op('<', { time: 'minuteOfDay' }, rng.int(1200, 1439));
    if (r < 0.6) return op('<', { quote: 'spread' }, rng.pick([2, 3, 5]) * this.pip);
    if (r < 0.7)
      return op('>', { account: rng.pick(['equity', 'balance'] as const) }, this.balance * rng.pick([0.3, 0.6, 0.95]));
    if (r < 0.8) return op('>=', this.bar('volume'), 0);
    if (r < 0.9) {
      const atr = this.workers.find((w) => w.spec.kind === 'atr');
      if (atr) return op('>', this.ref(atr), rng.pick([0, 0.2, 0.5]) * this.pip);
      return op('<=', op('-', this.bar('high'), this.bar('low')), rng.int(20, 80) * this.pip);
    }
    return op('>', op('abs', op('-', this.price(), this.bar('close'))), -1);
  }

  /** The lot size: a number, a parameter or an expression, scaled to the lot step. */
  lots(lotStep: number, minLot: number, maxLot: number, balance: number): Expr {
    const rng = this.rng;
    const steps = Math.max(1, Math.min(20, Math.floor(maxLot / lotStep / 3)));
    const base = Math.max(minLot, shortNumber(lotStep * rng.int(1, steps)));
    const r = rng.float();
    if (r < 0.4) return base;
    if (r < 0.55) {
      const name = `lots${this.paramCount++}`;
      this.params[name] = { default: base, min: 0 };
      if (rng.chance(0.4)) this.runParams[name] = base * 2;
      return { param: name };
    }
    if (r < 0.7) return op('*', op('/', { account: 'equity' }, balance), base);
    if (r < 0.8) return op('*', base, op('+', 0.5, op('/', { time: 'hour' }, 24)));
    if (r < 0.88) return op('+', base, op('*', lotStep, 0.3));
    if (r < 0.93) return op('max', base, op('*', op('/', { account: 'balance' }, balance), base / 2));
    // Now and then invalid: negative in the first minutes of each hour, below the minimum in the
    // next ones; or above the maximum late in each hour.
    if (r < 0.95) return op('*', base, op('/', op('-', { time: 'minute' }, 5), 30));
    if (r < 0.98) return op('*', base, op('+', 1, op('/', { time: 'minute' }, 8)));
    return minLot / 4;
  }

  /** A stop-loss or take-profit level for a long (dir 1) or short (dir -1); undefined for none. */
  level(kind: 'sl' | 'tp', dir: number): Level | undefined {
    const rng = this.rng;
    const r = rng.float();
    if (r < 0.18) return undefined;
    if (r < 0.55) return { pips: this.num(rng.int(4, 60), false, rng.int(4, 60)) };
    const atr = this.workers.find((w) => w.spec.kind === 'atr');
    if (r < 0.68 && atr) return { pips: op('*', op('/', this.ref(atr), this.pip), rng.pick([1, 2, 3])) };
    if (r < 0.85) {
      // Price form away from the current quotes (sl below for a long, tp above, mirrored for a short).
      const away = (kind === 'sl' ? -dir : dir) * rng.int(3, 50) * this.pip;
      const q: Expr = { quote: dir === 1 ? (kind === 'sl' ? 'bid' : 'ask') : kind === 'sl' ? 'ask' : 'bid' };
      return { price: op('+', q, away) };
    }
    if (r < 0.97) {
      // Price form from bars: can land on the wrong side of the fill now and then.
      const f = (kind === 'sl') === (dir === 1) ? 'low' : 'high';
      return { price: op('+', this.bar(f), (kind === 'sl' ? -dir : dir) * rng.int(0, 10) * this.pip) };
    }
    // Deliberately invalid: the wrong side, or NaN.
    return rng.chance(0.5) ? { pips: -rng.int(1, 10) } : { pips: op('/', 0, 0) };
  }

  order(dir: 1 | -1, lots: { lotStep: number; minLot: number; maxLot: number }, balance: number): Action {
    const a: { action: 'buy' | 'sell'; lots: Expr; sl?: Level; tp?: Level } = {
      action: dir === 1 ? 'buy' : 'sell',
      lots: this.lots(lots.lotStep, lots.minLot, lots.maxLot, balance),
    };
    const sl = this.level('sl', dir);
    const tp = this.level('tp', dir);
    if (sl) a.sl = sl;
    if (tp) a.tp = tp;
    return a;
  }
}

const KINDS: readonly WorkerKind[] = ['sma', 'ema', 'rsi', 'atr', 'bollinger', 'envelope', 'macd'];

/** The scenario for `seed`; `mode` forces tick or bar mode (default: seed parity picks it). */
export function buildScenario(seed: number, mode?: Mode): Scenario {
  const rng = new Rng(seed);
  const m: Mode = mode ?? (seed % 2 === 0 ? 'ticks' : 'bars');
  const plan = planData(rng, m);
  const b = new StrategyBuilder(rng, plan);
  const info = plan.info;

  // Instrument and account.
  const lotRules = rng.pick([
    { lotStep: 0.01, minLot: 0.01, maxLot: 100 },
    { lotStep: 0.01, minLot: 0.01, maxLot: 100 },
    { lotStep: 0.1, minLot: 0.1, maxLot: 50 },
    { lotStep: 1, minLot: 1, maxLot: 10 },
    { lotStep: 0.01, minLot: 0.05, maxLot: 0.5 },
  ]);
  const notional = info.contractSize * info.price;
  const instrument: Record<string, number | string> = {
    spreadPips: rng.pick([0, 0.5, 1, 1.5, 3]),
    ...lotRules,
  };
  if (rng.chance(0.35)) instrument.commissionPerLot = rng.pick([2, 3.5, 7]);
  if (rng.chance(0.25)) instrument.commissionPercent = rng.pick([0.001, 0.002, 0.01]);
  if (rng.chance(0.35)) instrument.slippagePips = rng.pick([0.2, 0.5, 1]);
  let leverage: number | undefined;
  let balance = Math.round(notional * rng.pick([0.1, 0.2, 0.5, 1, 2]) * (1 + lotRules.lotStep * 5));
  const mr = rng.float();
  if (mr < 0.3) leverage = rng.pick([30, 100, 500]);
  else if (mr < 0.85) instrument.marginRate = rng.pick([0.01, 0.02, 0.05]);
  else {
    // Little leverage and a balance near the margin of a typical order: some orders are refused.
    const rate = rng.pick([0.2, 0.5, 1]);
    instrument.marginRate = rate;
    balance = Math.round(notional * rate * Math.max(lotRules.minLot, lotRules.lotStep * 5) * rng.pick([1.2, 2, 4]));
  }
  const account: { balance: number; leverage?: number } = { balance };
  if (leverage !== undefined) account.leverage = leverage;

  // Workers, decision, rules.
  b.balance = balance;
  const nWorkers = rng.int(1, 4);
  for (let i = 0; i < nWorkers; i++) b.addWorker(rng.pick(KINDS));
  b.decisionTf = rng.pick(b.tfs.slice(0, Math.min(3, b.tfs.length)));
  const onTick = rng.chance(0.3);

  const rules: Rule[] = [];
  const [long, short] = b.signal();
  const gate = rng.float();
  const gateLong: Expr[] = gate < 0.5 ? [op('==', side, 0)] : gate < 0.75 ? [op('!=', side, 1)] : [];
  const gateShort: Expr[] = gate < 0.5 ? [op('==', side, 0)] : gate < 0.75 ? [op('!=', side, -1)] : [];
  const filters: Expr[] = [];
  const nFilters = rng.int(0, 2);
  for (let i = 0; i < nFilters; i++) filters.push(b.filter());
  const longOnly = rng.chance(0.1);
  const entries: Rule[] = [{ when: and(...gateLong, long, ...filters), then: [b.order(1, lotRules, balance)] }];
  if (!longOnly) {
    entries.push({
      when: and(...gateShort, short, ...filters),
      then: [b.order(-1, lotRules, balance)],
    });
  }
  const exits: Rule[] = [];
  const nExits = rng.int(0, 2);
  for (let i = 0; i < nExits; i++) {
    const r = rng.float();
    if (r < 0.3) {
      exits.push({
        when: or(and(op('==', side, 1), short), and(op('==', side, -1), long)),
        then: [{ action: 'close' }],
      });
    } else if (r < 0.55) {
      const up = rng.int(5, 40);
      const down = rng.int(5, 40);
      exits.push({
        when: and(op('!=', side, 0), or(op('>', { position: 'pnlPips' }, up), op('<', { position: 'pnlPips' }, -down))),
        then: [{ action: 'close' }],
      });
    } else if (r < 0.7) {
      exits.push({
        when: and(
          op('>', { position: 'lots' }, 0),
          op('<', { position: 'pnl' }, op('*', { account: 'balance' }, -0.002)),
        ),
        then: [{ action: 'close' }],
      });
    } else if (r < 0.85) {
      exits.push({
        when: and(
          op('!=', side, 0),
          op('>', op('abs', op('-', { quote: 'mid' }, { position: 'entryPrice' })), rng.int(5, 30) * info.pipSize),
        ),
        then: [{ action: 'close' }],
      });
    } else {
      // Close, then re-enter the other way in the same rule.
      exits.push({
        when: and(op('==', side, 1), short),
        then: [{ action: 'close' }, b.order(-1, lotRules, balance)],
      });
    }
  }
  if (rng.chance(0.5)) rules.push(...exits, ...entries);
  else rules.push(...entries, ...exits);

  const strategy: StrategyIR = {
    version: 1,
    name: `scenario-${seed}`,
    ...(Object.keys(b.params).length > 0 ? { params: b.params } : {}),
    decision: onTick
      ? { timeframe: b.decisionTf, on: 'tick' }
      : rng.chance(0.5)
        ? { timeframe: b.decisionTf, on: 'bar' }
        : { timeframe: b.decisionTf },
    workers: b.workers.map((w) => w.spec),
    rules,
  };

  // Window and fills.
  const span = plan.last - plan.first;
  const options: Scenario['options'] = {
    strategy,
    instrument,
    account,
    fillAt: rng.chance(0.5) ? 'open' : 'close',
    periodsPerYear: rng.pick([252, 252, 365, 6240]),
  };
  if (plan.ticks) options.ticks = plan.ticks;
  if (plan.bars) options.bars = plan.bars;
  if (Object.keys(b.runParams).length > 0) options.params = b.runParams;
  if (rng.chance(0.35)) {
    const s = Math.floor(plan.first + span * rng.range(0.05, 0.3));
    options.start = rng.chance(0.3) ? new Date(s).toISOString() : s;
  }
  if (rng.chance(0.25)) options.end = Math.floor(plan.last - span * rng.range(0.05, 0.2));

  const w = b.workers.map((x) => `${x.spec.kind}@${x.spec.timeframe}`).join(',');
  const label = `#${seed} ${plan.label} | ${w} decide ${b.decisionTf}${onTick ? '/tick' : ''} | ${rules.length} rules`;
  return { seed, mode: m, label, options };
}

// ---------------------------------------------------------------- literal precision

/** `x` rounded to 15 significant digits (a literal as a person would write it). */
export function shortNumber(x: number): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(15)) : x;
}

/**
 * Whether `x` needs all 17 significant digits to round-trip (its shortest decimal form has a
 * significand above 2^53). Such literals are where a JSON reader that is not correctly rounded
 * can land one unit in the last place away.
 */
export function isLongLiteral(x: number): boolean {
  if (!Number.isFinite(x) || x === 0) return false;
  const digits = Math.abs(x).toExponential().replace(/e.*$/, '').replace('.', '');
  return digits.length >= 16 && Number(digits) > 2 ** 53;
}
