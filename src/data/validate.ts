/**
 * Market data validation (docs/semantics.md section 1). The checks, their order and their messages
 * mirror crates/core/src/data.rs so that both engines reject the same input with the same words.
 */

import { type Issue, ValidationError } from '../errors.js';
import { type BarData, TIMEFRAME_MS, TIMEFRAMES, type TickData } from '../types.js';

function checkLength(name: string, col: Float64Array, expected: number, against: string): void {
  if (col.length !== expected) {
    throw ValidationError.at(name, `length ${String(col.length)} differs from ${against} length ${String(expected)}`);
  }
}

function checkPrice(col: string, i: number, x: number): void {
  // Written as a negated conjunction so NaN fails it, as in the Rust check.
  if (!(Number.isFinite(x) && x > 0)) {
    throw ValidationError.at(`${col}[${i}]`, `${String(x)} is not a positive finite price`);
  }
}

function checkVolume(col: string, i: number, x: number): void {
  if (!(Number.isFinite(x) && x >= 0)) {
    throw ValidationError.at(`${col}[${i}]`, `${String(x)} is not a finite non-negative volume`);
  }
}

/** Throws a ValidationError naming the first problem in `t`, checked row by row. */
export function validateTicks(t: TickData): void {
  const { time, bid, ask, volume } = t;
  const n = time.length;
  if (n === 0) throw ValidationError.at('ticks', 'no rows');
  checkLength('ticks.bid', bid, n, 'ticks.time');
  checkLength('ticks.ask', ask, n, 'ticks.time');
  if (volume !== undefined) checkLength('ticks.volume', volume, n, 'ticks.time');
  let prev = Number.NaN;
  for (let i = 0; i < n; i++) {
    const ti = time[i] as number;
    if (!Number.isFinite(ti)) {
      throw ValidationError.at(`ticks.time[${i}]`, `${String(ti)} is not a finite time`);
    }
    if (i > 0 && ti < prev) {
      throw ValidationError.at(
        `ticks.time[${i}]`,
        `${String(ti)} is earlier than ticks.time[${i - 1}] (${String(prev)})`,
      );
    }
    prev = ti;
    const b = bid[i] as number;
    const a = ask[i] as number;
    checkPrice('ticks.bid', i, b);
    checkPrice('ticks.ask', i, a);
    if (a < b) {
      throw ValidationError.at(`ticks.ask[${i}]`, `${String(a)} is below ticks.bid[${i}] (${String(b)})`);
    }
    if (volume !== undefined) checkVolume('ticks.volume', i, volume[i] as number);
  }
}

/** Throws a ValidationError naming the first problem in `b`, checked row by row. */
export function validateBars(b: BarData): void {
  const { timeframe, time, open, high, low, close, volume } = b;
  const n = time.length;
  if (n === 0) throw ValidationError.at('bars', 'no rows');
  checkLength('bars.open', open, n, 'bars.time');
  checkLength('bars.high', high, n, 'bars.time');
  checkLength('bars.low', low, n, 'bars.time');
  checkLength('bars.close', close, n, 'bars.time');
  checkLength('bars.volume', volume, n, 'bars.time');
  const tf = TIMEFRAME_MS[timeframe];
  let prev = Number.NaN;
  for (let i = 0; i < n; i++) {
    const ti = time[i] as number;
    if (!Number.isFinite(ti)) {
      throw ValidationError.at(`bars.time[${i}]`, `${String(ti)} is not a finite time`);
    }
    // `%` on doubles is fmod in both languages; -0 compares equal to 0.
    if (ti % tf !== 0) {
      throw ValidationError.at(`bars.time[${i}]`, `${String(ti)} is not aligned to ${timeframe}`);
    }
    if (i > 0 && ti <= prev) {
      throw ValidationError.at(`bars.time[${i}]`, `${String(ti)} is not after bars.time[${i - 1}] (${String(prev)})`);
    }
    prev = ti;
    const o = open[i] as number;
    const h = high[i] as number;
    const l = low[i] as number;
    const c = close[i] as number;
    checkPrice('bars.open', i, o);
    checkPrice('bars.high', i, h);
    checkPrice('bars.low', i, l);
    checkPrice('bars.close', i, c);
    // Prices are finite here, so Math.min/max agree with Rust's f64::min/max.
    const lo = Math.min(o, c);
    const hi = Math.max(o, c);
    if (l > lo) {
      throw ValidationError.at(`bars.low[${i}]`, `${String(l)} is above min(open, close) (${String(lo)})`);
    }
    if (h < hi) {
      throw ValidationError.at(`bars.high[${i}]`, `${String(h)} is below max(open, close) (${String(hi)})`);
    }
    checkVolume('bars.volume', i, volume[i] as number);
  }
}

// ---------------------------------------------------------------- shape checks

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

const EXPECTED_F64 = 'expected a Float64Array';

/**
 * The first shape problem of a would-be TickData (not an object, or a missing or
 * non-Float64Array column), or null when the shape is right. Values are not looked at.
 */
export function tickDataIssue(x: unknown): Issue | null {
  if (!isRecord(x)) return { path: 'ticks', message: 'expected an object' };
  for (const col of ['time', 'bid', 'ask'] as const) {
    if (!(x[col] instanceof Float64Array)) return { path: `ticks.${col}`, message: EXPECTED_F64 };
  }
  if (x.volume !== undefined && !(x.volume instanceof Float64Array)) {
    return { path: 'ticks.volume', message: EXPECTED_F64 };
  }
  if (x.symbol !== undefined && typeof x.symbol !== 'string') {
    return { path: 'ticks.symbol', message: 'expected a string' };
  }
  return null;
}

/** As tickDataIssue, for BarData; the timeframe must be one of the seven names. */
export function barDataIssue(x: unknown): Issue | null {
  if (!isRecord(x)) return { path: 'bars', message: 'expected an object' };
  if (typeof x.timeframe !== 'string' || !(TIMEFRAMES as readonly string[]).includes(x.timeframe)) {
    return { path: 'bars.timeframe', message: `expected one of ${TIMEFRAMES.join(', ')}` };
  }
  for (const col of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
    if (!(x[col] instanceof Float64Array)) return { path: `bars.${col}`, message: EXPECTED_F64 };
  }
  if (x.symbol !== undefined && typeof x.symbol !== 'string') {
    return { path: 'bars.symbol', message: 'expected a string' };
  }
  return null;
}

/** Throws a ValidationError naming the first shape problem (e.g. `ticks.bid: expected a Float64Array`). */
export function isTickData(x: unknown): asserts x is TickData {
  const issue = tickDataIssue(x);
  if (issue !== null) throw new ValidationError([issue]);
}

/** Throws a ValidationError naming the first shape problem (e.g. `bars.close: expected a Float64Array`). */
export function isBarData(x: unknown): asserts x is BarData {
  const issue = barDataIssue(x);
  if (issue !== null) throw new ValidationError([issue]);
}
