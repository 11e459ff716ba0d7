/**
 * Row checks and column building shared by every format (docs/data.md sections 3 and 6): a row
 * that fails a check is counted and dropped, a row that passes is appended to the columns.
 */

import type { SkippedRow } from './types.js';

export const MAX_FIRST = 10;

/** A growable float64 column. */
export class Column {
  data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }
  push(x: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
  /** The values as an exact-length array of their own. */
  finish(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

export type Kind = 'ticks' | 'bars';

function finiteNonNegative(x: number): boolean {
  return Number.isFinite(x) && x >= 0;
}

function positivePrice(x: number): boolean {
  return Number.isFinite(x) && x > 0;
}

/** The state of one load: counters, the first problems and the kept columns. */
export class Collector {
  rowsRead = 0;
  incomplete = 0;
  skippedTotal = 0;
  readonly byReason: Record<string, number> = {};
  readonly first: SkippedRow[] = [];
  readonly time = new Column();
  /** Ticks: bid, ask[, volume]; bars: open, high, low, close, volume. */
  readonly values: Column[];
  private lastRow = 0;
  private lastTime = 0;
  private readonly last: number[];

  constructor(
    readonly kind: Kind,
    readonly hasVolume: boolean,
  ) {
    const n = kind === 'ticks' ? (hasVolume ? 3 : 2) : 5;
    this.values = Array.from({ length: n }, () => new Column());
    this.last = new Array<number>(n).fill(0);
  }

  /** Counts a dropped row; returns false (the row is not kept). */
  problem(row: number, reason: string, message: string): false {
    this.skippedTotal++;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    if (this.first.length < MAX_FIRST) this.first.push({ row, reason, message });
    return false;
  }

  /** The time checks against the last kept row, then the append. */
  private keep(row: number, t: number, vals: number[]): boolean {
    if (this.lastRow > 0) {
      if (t < this.lastTime) {
        return this.problem(
          row,
          'time_backwards',
          `time ${String(t)} is earlier than the previous row's ${String(this.lastTime)} (row ${String(this.lastRow)})`,
        );
      }
      if (t === this.lastTime) {
        let same = true;
        for (let k = 0; k < vals.length; k++) {
          if (vals[k] !== this.last[k]) {
            same = false;
            break;
          }
        }
        if (same) return this.problem(row, 'duplicate', `same time and values as row ${String(this.lastRow)}`);
      }
    }
    this.lastRow = row;
    this.lastTime = t;
    this.time.push(t);
    for (let k = 0; k < vals.length; k++) {
      const v = vals[k] as number;
      this.last[k] = v;
      (this.values[k] as Column).push(v);
    }
    return true;
  }

  /** A tick whose fields parsed; `vol` is ignored when the format has no volume. True when kept. */
  tick(row: number, t: number, bid: number, ask: number, vol: number): boolean {
    if (!positivePrice(bid)) return this.problem(row, 'bad_price', `bid ${String(bid)} is not a positive finite price`);
    if (!positivePrice(ask)) return this.problem(row, 'bad_price', `ask ${String(ask)} is not a positive finite price`);
    if (this.hasVolume && !finiteNonNegative(vol)) {
      return this.problem(row, 'bad_price', `volume ${String(vol)} is not a finite non-negative volume`);
    }
    if (ask < bid) return this.problem(row, 'crossed', `ask ${String(ask)} is below bid ${String(bid)}`);
    return this.keep(row, t, this.hasVolume ? [bid, ask, vol] : [bid, ask]);
  }

  /** A bar whose fields parsed (volume 0 when the file has none). True when kept. */
  bar(row: number, t: number, o: number, h: number, l: number, c: number, vol: number): boolean {
    if (!positivePrice(o)) return this.problem(row, 'bad_price', `open ${String(o)} is not a positive finite price`);
    if (!positivePrice(h)) return this.problem(row, 'bad_price', `high ${String(h)} is not a positive finite price`);
    if (!positivePrice(l)) return this.problem(row, 'bad_price', `low ${String(l)} is not a positive finite price`);
    if (!positivePrice(c)) return this.problem(row, 'bad_price', `close ${String(c)} is not a positive finite price`);
    const hi = Math.max(o, c);
    const lo = Math.min(o, c);
    if (h < hi) return this.problem(row, 'bad_bar', `high ${String(h)} is below max(open, close) (${String(hi)})`);
    if (l > lo) return this.problem(row, 'bad_bar', `low ${String(l)} is above min(open, close) (${String(lo)})`);
    if (!finiteNonNegative(vol)) {
      return this.problem(row, 'bad_bar', `volume ${String(vol)} is not a finite non-negative volume`);
    }
    return this.keep(row, t, [o, h, l, c, vol]);
  }
}
