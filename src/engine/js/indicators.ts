/**
 * Incremental indicators with TA-Lib's definitions and seeding (docs/semantics.md section 3).
 * Each update is O(1) and allocates nothing: rings are Float64Arrays sized at construction, and
 * every formula is evaluated in the written order so the Rust twin agrees to the bit.
 */

import type { PriceSource } from '../../types.js';

/** One closed bar (bid prices); `time` is its open. */
export interface Bar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** A fully resolved indicator definition (parameters substituted and validated). */
export type IndicatorSpec =
  | { kind: 'sma'; period: number; source: PriceSource }
  | { kind: 'ema'; period: number; source: PriceSource }
  | { kind: 'rsi'; period: number; source: PriceSource }
  | { kind: 'atr'; period: number }
  | { kind: 'bollinger'; period: number; deviations: number; source: PriceSource }
  | { kind: 'envelope'; period: number; percent: number; source: PriceSource }
  | { kind: 'macd'; fast: number; slow: number; signal: number; source: PriceSource };

/** A running indicator: `update` takes one closed bar; `output(i)` is NaN until ready. */
export interface Indicator {
  update(bar: Bar): void;
  output(index: number): number;
}

const VALUE = ['value'] as const;
const BANDS = ['upper', 'middle', 'lower'] as const;
const MACD = ['macd', 'signal', 'hist'] as const;

/** Output names in output-index order. */
export function outputNames(spec: IndicatorSpec): readonly string[] {
  switch (spec.kind) {
    case 'sma':
    case 'ema':
    case 'rsi':
    case 'atr':
      return VALUE;
    case 'bollinger':
    case 'envelope':
      return BANDS;
    case 'macd':
      return MACD;
  }
}

function sourceOf(bar: Bar, source: PriceSource): number {
  switch (source) {
    case 'open':
      return bar.open;
    case 'high':
      return bar.high;
    case 'low':
      return bar.low;
    case 'close':
      return bar.close;
  }
}

/**
 * The last `n` values and their running sum (optionally of squares too). Subtracting the oldest
 * before adding the newest is part of the contract: it fixes the rounding.
 */
class RollingSum {
  readonly n: number;
  private readonly ring: Float64Array;
  private head = 0;
  count = 0;
  sum = 0;
  sumSq = 0;

  constructor(n: number) {
    // Specs are validated upstream; a zero-length ring would silently corrupt the sum.
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`indicator period must be an integer >= 1, got ${n}`);
    this.n = n;
    this.ring = new Float64Array(n);
  }

  push(x: number, squares: boolean): void {
    this.count++;
    const oldest = this.ring[this.head] as number;
    if (this.count > this.n) {
      this.sum = this.sum - oldest;
      if (squares) this.sumSq = this.sumSq - oldest * oldest;
    }
    this.sum = this.sum + x;
    if (squares) this.sumSq = this.sumSq + x * x;
    this.ring[this.head] = x;
    this.head = this.head + 1 === this.n ? 0 : this.head + 1;
  }
}

export class Sma implements Indicator {
  private readonly roll: RollingSum;
  private readonly source: PriceSource;
  private value = Number.NaN;

  constructor(period: number, source: PriceSource) {
    this.roll = new RollingSum(period);
    this.source = source;
  }

  update(bar: Bar): void {
    const r = this.roll;
    r.push(sourceOf(bar, this.source), false);
    if (r.count >= r.n) this.value = r.sum / r.n;
  }

  output(index: number): number {
    return index === 0 ? this.value : Number.NaN;
  }
}

export class Ema implements Indicator {
  private readonly n: number;
  private readonly k: number;
  private readonly source: PriceSource;
  private count = 0;
  private seed = 0;
  private ema = Number.NaN;

  constructor(period: number, source: PriceSource) {
    this.n = period;
    this.k = 2 / (period + 1);
    this.source = source;
  }

  update(bar: Bar): void {
    const x = sourceOf(bar, this.source);
    this.count++;
    if (this.count <= this.n) {
      // The seed is the mean of the first n values, this one included (TA-Lib).
      this.seed = this.seed + x;
      if (this.count === this.n) this.ema = this.seed / this.n;
    } else {
      this.ema = (x - this.ema) * this.k + this.ema;
    }
  }

  output(index: number): number {
    return index === 0 ? this.ema : Number.NaN;
  }
}

export class Rsi implements Indicator {
  private readonly n: number;
  private readonly source: PriceSource;
  private changes = 0;
  private started = false;
  private prev = 0;
  private sg = 0;
  private sl = 0;
  private ag = 0;
  private al = 0;
  private value = Number.NaN;

  constructor(period: number, source: PriceSource) {
    this.n = period;
    this.source = source;
  }

  update(bar: Bar): void {
    const x = sourceOf(bar, this.source);
    if (!this.started) {
      this.started = true;
      this.prev = x;
      return;
    }
    const d = x - this.prev;
    this.prev = x;
    // Written as in the contract (a NaN change would count as 0, not propagate).
    // biome-ignore lint/complexity/useMathMinMax: keep the contract's form
    const gain = d > 0 ? d : 0;
    const loss = d < 0 ? -d : 0;
    const n = this.n;
    this.changes++;
    if (this.changes <= n) {
      this.sg = this.sg + gain;
      this.sl = this.sl + loss;
      if (this.changes < n) return;
      this.ag = this.sg / n;
      this.al = this.sl / n;
    } else {
      this.ag = (this.ag * (n - 1) + gain) / n;
      this.al = (this.al * (n - 1) + loss) / n;
    }
    const s = this.ag + this.al;
    this.value = s > -1e-8 && s < 1e-8 ? 0 : 100 * (this.ag / s);
  }

  output(index: number): number {
    return index === 0 ? this.value : Number.NaN;
  }
}

export class Atr implements Indicator {
  private readonly n: number;
  private started = false;
  private prevClose = 0;
  private trs = 0;
  private s = 0;
  private atr = Number.NaN;

  constructor(period: number) {
    this.n = period;
  }

  update(bar: Bar): void {
    if (!this.started) {
      this.started = true;
      this.prevClose = bar.close;
      return;
    }
    const a = bar.high - bar.low;
    const b = Math.abs(bar.high - this.prevClose);
    const c = Math.abs(bar.low - this.prevClose);
    // The operands are finite (validated data), where Math.max agrees with Rust's f64::max.
    const tr = Math.max(Math.max(a, b), c);
    this.prevClose = bar.close;
    const n = this.n;
    this.trs++;
    if (this.trs <= n) {
      this.s = this.s + tr;
      if (this.trs === n) this.atr = this.s / n;
    } else {
      this.atr = (this.atr * (n - 1) + tr) / n;
    }
  }

  output(index: number): number {
    return index === 0 ? this.atr : Number.NaN;
  }
}

/** Upper, middle and lower bands (outputs 0, 1, 2), shared by Bollinger and envelope. */
abstract class Bands implements Indicator {
  protected upper = Number.NaN;
  protected middle = Number.NaN;
  protected lower = Number.NaN;

  abstract update(bar: Bar): void;

  output(index: number): number {
    switch (index) {
      case 0:
        return this.upper;
      case 1:
        return this.middle;
      case 2:
        return this.lower;
      default:
        return Number.NaN;
    }
  }
}

export class Bollinger extends Bands {
  private readonly roll: RollingSum;
  private readonly deviations: number;
  private readonly source: PriceSource;

  constructor(period: number, deviations: number, source: PriceSource) {
    super();
    this.roll = new RollingSum(period);
    this.deviations = deviations;
    this.source = source;
  }

  update(bar: Bar): void {
    const r = this.roll;
    r.push(sourceOf(bar, this.source), true);
    if (r.count < r.n) return;
    const mean = r.sum / r.n;
    const variance = r.sumSq / r.n - mean * mean;
    // Cancellation can leave a tiny negative variance; a flat window has no width.
    const sd = variance > 0 ? Math.sqrt(variance) : 0;
    this.middle = mean;
    this.upper = mean + this.deviations * sd;
    this.lower = mean - this.deviations * sd;
  }
}

export class Envelope extends Bands {
  private readonly roll: RollingSum;
  private readonly upFactor: number;
  private readonly downFactor: number;
  private readonly source: PriceSource;

  constructor(period: number, percent: number, source: PriceSource) {
    super();
    this.roll = new RollingSum(period);
    this.upFactor = 1 + percent / 100;
    this.downFactor = 1 - percent / 100;
    this.source = source;
  }

  update(bar: Bar): void {
    const r = this.roll;
    r.push(sourceOf(bar, this.source), false);
    if (r.count < r.n) return;
    const middle = r.sum / r.n;
    this.middle = middle;
    this.upper = middle * this.upFactor;
    this.lower = middle * this.downFactor;
  }
}

export class Macd implements Indicator {
  private readonly fast: number;
  private readonly slow: number;
  private readonly signal: number;
  private readonly kf: number;
  private readonly ks: number;
  private readonly kg: number;
  private readonly source: PriceSource;
  /** The last `fast` values, needed only to seed the fast EMA. */
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;
  private slowSum = 0;
  private fastEma = 0;
  private slowEma = 0;
  private ms = 0;
  private sigSum = 0;
  private sig = 0;
  private macd = Number.NaN;
  private sigOut = Number.NaN;
  private hist = Number.NaN;

  constructor(fast: number, slow: number, signal: number, source: PriceSource) {
    this.fast = fast;
    this.slow = slow;
    this.signal = signal;
    this.kf = 2 / (fast + 1);
    this.ks = 2 / (slow + 1);
    this.kg = 2 / (signal + 1);
    this.source = source;
    this.ring = new Float64Array(fast);
  }

  update(bar: Bar): void {
    const x = sourceOf(bar, this.source);
    this.count++;
    if (this.count < this.slow) {
      this.slowSum = this.slowSum + x;
      this.ring[this.head] = x;
      this.head = this.head + 1 === this.fast ? 0 : this.head + 1;
      return;
    }
    if (this.count === this.slow) {
      this.slowSum = this.slowSum + x;
      this.ring[this.head] = x;
      this.head = this.head + 1 === this.fast ? 0 : this.head + 1;
      // After the write, `head` points at the oldest of the last `fast` values.
      let fs = 0;
      let j = this.head;
      for (let i = 0; i < this.fast; i++) {
        fs = fs + (this.ring[j] as number);
        j = j + 1 === this.fast ? 0 : j + 1;
      }
      this.fastEma = fs / this.fast;
      this.slowEma = this.slowSum / this.slow;
    } else {
      this.fastEma = (x - this.fastEma) * this.kf + this.fastEma;
      this.slowEma = (x - this.slowEma) * this.ks + this.slowEma;
    }
    const m = this.fastEma - this.slowEma;
    this.ms++;
    if (this.ms < this.signal) {
      this.sigSum = this.sigSum + m;
      return;
    }
    if (this.ms === this.signal) {
      this.sigSum = this.sigSum + m;
      this.sig = this.sigSum / this.signal;
    } else {
      this.sig = (m - this.sig) * this.kg + this.sig;
    }
    this.macd = m;
    this.sigOut = this.sig;
    this.hist = m - this.sig;
  }

  output(index: number): number {
    switch (index) {
      case 0:
        return this.macd;
      case 1:
        return this.sigOut;
      case 2:
        return this.hist;
      default:
        return Number.NaN;
    }
  }
}

export function createIndicator(spec: IndicatorSpec): Indicator {
  switch (spec.kind) {
    case 'sma':
      return new Sma(spec.period, spec.source);
    case 'ema':
      return new Ema(spec.period, spec.source);
    case 'rsi':
      return new Rsi(spec.period, spec.source);
    case 'atr':
      return new Atr(spec.period);
    case 'bollinger':
      return new Bollinger(spec.period, spec.deviations, spec.source);
    case 'envelope':
      return new Envelope(spec.period, spec.percent, spec.source);
    case 'macd':
      return new Macd(spec.fast, spec.slow, spec.signal, spec.source);
  }
}
