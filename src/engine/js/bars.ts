/**
 * Bars of one timeframe (docs/semantics.md section 2): the forming bar, a ring of the most recent
 * closed bars and the workers fed by each close. Rings are sized once from the deepest offset any
 * expression reads, so closing a bar allocates nothing.
 */
import type { Bar, Indicator } from './indicators.js';

/** One worker's indicator plus a ring of its last outputs (one slot per output per update). */
export class WorkerSlot {
  readonly ind: Indicator;
  readonly nOut: number;
  readonly depth: number;
  /** Output `o` of the update `k` ago lives at `ring[o * depth + ((head - 1 - k) mod depth)]`. */
  readonly ring: Float64Array;
  head = 0;
  count = 0;

  constructor(ind: Indicator, nOut: number, depth: number) {
    this.ind = ind;
    this.nOut = nOut;
    this.depth = depth;
    this.ring = new Float64Array(nOut * depth).fill(Number.NaN);
  }

  update(bar: Bar): void {
    this.ind.update(bar);
    const h = this.head;
    for (let o = 0; o < this.nOut; o++) this.ring[o * this.depth + h] = this.ind.output(o);
    this.head = h + 1 === this.depth ? 0 : h + 1;
    this.count++;
  }
}

export class Frame {
  /** Length in milliseconds. */
  readonly tf: number;
  readonly depth: number;
  readonly workers: WorkerSlot[] = [];

  // The forming bar. `end` is its bucket's end, or -Infinity while none forms so that the next
  // event's `t >= end` test starts one without a separate check.
  has = false;
  time = 0;
  end = Number.NEGATIVE_INFINITY;
  open = Number.NaN;
  high = Number.NaN;
  low = Number.NaN;
  close = Number.NaN;
  volume = 0;

  // Closed bars, most recent at `head - 1`.
  readonly hTime: Float64Array;
  readonly hOpen: Float64Array;
  readonly hHigh: Float64Array;
  readonly hLow: Float64Array;
  readonly hClose: Float64Array;
  readonly hVolume: Float64Array;
  head = 0;
  count = 0;

  /** The object handed to indicators, reused for every close. */
  private readonly bar: Bar = { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };

  constructor(tf: number, depth: number) {
    this.tf = tf;
    this.depth = depth;
    this.hTime = new Float64Array(depth);
    this.hOpen = new Float64Array(depth);
    this.hHigh = new Float64Array(depth);
    this.hLow = new Float64Array(depth);
    this.hClose = new Float64Array(depth);
    this.hVolume = new Float64Array(depth);
  }

  /** Starts the forming bar from its first values (a tick's bid, a data bar, or a closed base bar). */
  start(time: number, open: number, high: number, low: number, close: number, volume: number): void {
    this.has = true;
    this.time = time;
    this.end = time + this.tf;
    this.open = open;
    this.high = high;
    this.low = low;
    this.close = close;
    this.volume = volume;
  }

  /** Adds a closed base bar to this (larger) timeframe's forming aggregate. */
  aggregate(src: Frame): void {
    if (!this.has) {
      const tf = this.tf;
      this.start(Math.floor(src.time / tf) * tf, src.open, src.high, src.low, src.close, src.volume);
      return;
    }
    if (src.high > this.high) this.high = src.high;
    if (src.low < this.low) this.low = src.low;
    this.close = src.close;
    this.volume = this.volume + src.volume;
  }

  /** Pushes the forming bar to history and clears it; the caller updates the workers. */
  push(): void {
    const h = this.head;
    this.hTime[h] = this.time;
    this.hOpen[h] = this.open;
    this.hHigh[h] = this.high;
    this.hLow[h] = this.low;
    this.hClose[h] = this.close;
    this.hVolume[h] = this.volume;
    this.head = h + 1 === this.depth ? 0 : h + 1;
    this.count++;
    this.has = false;
    this.end = Number.NEGATIVE_INFINITY;
  }

  /** The bar just pushed, as the indicators read it. */
  lastBar(): Bar {
    const b = this.bar;
    const h = (this.head === 0 ? this.depth : this.head) - 1;
    b.time = this.hTime[h] as number;
    b.open = this.hOpen[h] as number;
    b.high = this.hHigh[h] as number;
    b.low = this.hLow[h] as number;
    b.close = this.hClose[h] as number;
    b.volume = this.hVolume[h] as number;
    return b;
  }

  updateWorkers(): void {
    const ws = this.workers;
    if (ws.length === 0) return;
    const b = this.lastBar();
    for (let i = 0; i < ws.length; i++) (ws[i] as WorkerSlot).update(b);
  }
}
