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
  /** The row held back until the next row that passes its value checks (row 0: none). */
  private heldRow = 0;
  private heldTime = 0;
  private held: number[] = [];

  constructor(
    readonly kind: Kind,
    readonly hasVolume: boolean,
  ) {
    const n = kind === 'ticks' ? (hasVolume ? 3 : 2) : 5;
    this.values = Array.from({ length: n }, () => new Column());
    this.last = new Array<number>(n).fill(0);
  }

  /** Counts a dropped row (the held row is settled first, so problems stay in row order). */
  problem(row: number, reason: string, message: string): void {
    this.settleHeld();
    this.record(row, reason, message);
  }

  private record(row: number, reason: string, message: string): void {
    this.skippedTotal++;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    if (this.first.length < MAX_FIRST) this.first.push({ row, reason, message });
  }

  /** Settles the held row; called once the input ends, before the columns are read. */
  settleHeld(): void {
    if (this.heldRow > 0) {
      const row = this.heldRow;
      this.heldRow = 0;
      this.settle(row, this.heldTime, this.held);
    }
  }

  /**
   * A row that passed its value checks. The held row is a `time_backwards` problem when its time
   * is later than this row's and this row's time is not before the last kept row's; otherwise it
   * is settled by the last kept row. This row is held next.
   */
  private candidate(row: number, t: number, vals: number[]): void {
    if (this.heldRow > 0) {
      const hr = this.heldRow;
      this.heldRow = 0;
      if (this.heldTime > t && (this.lastRow === 0 || t >= this.lastTime)) {
        this.record(
          hr,
          'time_backwards',
          `time ${String(this.heldTime)} is later than the next row's ${String(t)} (row ${String(row)})`,
        );
      } else {
        this.settle(hr, this.heldTime, this.held);
      }
    }
    this.heldRow = row;
    this.heldTime = t;
    this.held = vals;
  }

  /** The time checks against the last kept row, then the append. */
  private settle(row: number, t: number, vals: number[]): void {
    if (this.lastRow > 0) {
      if (t < this.lastTime) {
        this.record(
          row,
          'time_backwards',
          `time ${String(t)} is earlier than the previous row's ${String(this.lastTime)} (row ${String(this.lastRow)})`,
        );
        return;
      }
      if (t === this.lastTime) {
        let same = true;
        for (let k = 0; k < vals.length; k++) {
          if (vals[k] !== this.last[k]) {
            same = false;
            break;
          }
        }
        if (same) {
          this.record(row, 'duplicate', `same time and values as row ${String(this.lastRow)}`);
          return;
        }
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
  }

  /** A tick whose fields parsed; `vol` is ignored when the format has no volume. */
  tick(row: number, t: number, bid: number, ask: number, vol: number): void {
    let bad: string | null = null;
    let reason = 'bad_price';
    if (!positivePrice(bid)) bad = `bid ${String(bid)} is not a positive finite price`;
    else if (!positivePrice(ask)) bad = `ask ${String(ask)} is not a positive finite price`;
    else if (this.hasVolume && !finiteNonNegative(vol))
      bad = `volume ${String(vol)} is not a finite non-negative volume`;
    else if (ask < bid) {
      reason = 'crossed';
      bad = `ask ${String(ask)} is below bid ${String(bid)}`;
    }
    if (bad !== null) this.problem(row, reason, bad);
    else this.candidate(row, t, this.hasVolume ? [bid, ask, vol] : [bid, ask]);
  }

  /** A bar whose fields parsed (volume 0 when the file has none). */
  bar(row: number, t: number, o: number, h: number, l: number, c: number, vol: number): void {
    const hi = Math.max(o, c);
    const lo = Math.min(o, c);
    let bad: string | null = null;
    let reason = 'bad_price';
    if (!positivePrice(o)) bad = `open ${String(o)} is not a positive finite price`;
    else if (!positivePrice(h)) bad = `high ${String(h)} is not a positive finite price`;
    else if (!positivePrice(l)) bad = `low ${String(l)} is not a positive finite price`;
    else if (!positivePrice(c)) bad = `close ${String(c)} is not a positive finite price`;
    else {
      reason = 'bad_bar';
      if (h < hi) bad = `high ${String(h)} is below max(open, close) (${String(hi)})`;
      else if (l > lo) bad = `low ${String(l)} is above min(open, close) (${String(lo)})`;
      else if (!finiteNonNegative(vol)) bad = `volume ${String(vol)} is not a finite non-negative volume`;
    }
    if (bad !== null) this.problem(row, reason, bad);
    else this.candidate(row, t, [o, h, l, c, vol]);
  }
}
