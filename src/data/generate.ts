/**
 * Seeded synthetic ticks and bars (docs/semantics.md section 9). Every step uses integers held in
 * doubles (exact), so crates/core/src/generate.rs produces the same columns bit for bit.
 */

import { ValidationError } from '../errors.js';
import { TIMEFRAME_MS, type Timeframe } from '../types.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** sfc32 with the fixed key of section 9; the seed is the initial counter. */
export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    checkSeed(seed);
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** The next u32 (0 <= x < 2^32). */
  next(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const t = (a + b + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = (b ^ (b >>> 9)) >>> 0;
    this.b = (c + (c << 3)) >>> 0;
    this.c = ((((c << 21) | (c >>> 11)) >>> 0) + t) >>> 0;
    return t;
  }

  /** The current state `[a, b, c, d]`, for loops that step the generator inline. */
  snapshot(): Uint32Array {
    return Uint32Array.of(this.a, this.b, this.c, this.d);
  }
}

function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw ValidationError.at('seed', `${String(seed)} is not an integer in [0, 2^32)`);
  }
}

function checkInteger(name: string, x: number, min: number, max: number): void {
  if (!Number.isInteger(x) || x < min || x > max) {
    throw ValidationError.at(name, `${String(x)} is not an integer in [${min}, ${max}]`);
  }
}

function checkPositive(name: string, x: number): void {
  if (!(Number.isFinite(x) && x > 0)) throw ValidationError.at(name, `${String(x)} is not a positive finite number`);
}

/** 10^digits by repeated multiplication: exact for digits <= 22, independent of any pow(). */
function pow10(digits: number): number {
  let s = 1;
  for (let k = 0; k < digits; k++) s *= 10;
  return s;
}

export interface TickGenOptions {
  start: number;
  days: number;
  seed: number;
  startPrice: number;
  digits: number;
  meanIntervalMs: number;
  stepPoints: number;
}

export interface TickColumns {
  time: Float64Array;
  bid: Float64Array;
  ask: Float64Array;
}

/** Expected tick count: weekday milliseconds in [start, end) over the mean interval, with slack. */
function estimateTicks(start: number, end: number, meanIntervalMs: number): number {
  let weekdayMs = 0;
  for (let day = Math.floor(start / DAY_MS); day * DAY_MS < end; day++) {
    const wd = (((day + 4) % 7) + 7) % 7;
    if (wd === 0 || wd === 6) continue;
    weekdayMs += Math.min(end, (day + 1) * DAY_MS) - Math.max(start, day * DAY_MS);
  }
  return Math.ceil((weekdayMs / meanIntervalMs) * 1.02) + 64;
}

/** Copies only when much of the buffer would be wasted; otherwise a view is cheaper. */
function trim(a: Float64Array, n: number): Float64Array {
  if (n === a.length) return a;
  return a.length - n > a.length / 8 ? a.slice(0, n) : a.subarray(0, n);
}

function grow(a: Float64Array, capacity: number): Float64Array {
  const b = new Float64Array(capacity);
  b.set(a);
  return b;
}

export function generateTickColumns(opts: TickGenOptions): TickColumns {
  const { start, days, seed, startPrice, digits, meanIntervalMs, stepPoints } = opts;
  checkSeed(seed);
  checkInteger('start', start, -8.64e15, 8.64e15);
  if (!(Number.isFinite(days) && days >= 0 && days <= 1e6)) {
    throw ValidationError.at('days', `${String(days)} is not a number in [0, 1000000]`);
  }
  checkPositive('startPrice', startPrice);
  checkInteger('digits', digits, 0, 15);
  checkInteger('meanIntervalMs', meanIntervalMs, 1, 2 ** 31);
  checkInteger('stepPoints', stepPoints, 0, 2 ** 20);

  const scale = pow10(digits);
  let pts = Math.floor(startPrice * scale + 0.5);
  const minPts = Math.max(1, Math.floor(scale / 100));
  let t = start;
  const end = start + days * DAY_MS;
  let vol = 1;
  const span = 2 * stepPoints + 1;
  const gapMod = 2 * meanIntervalMs - 1;

  let cap = estimateTicks(start, end, meanIntervalMs);
  let time: Float64Array = new Float64Array(cap);
  let bid: Float64Array = new Float64Array(cap);
  let ask: Float64Array = new Float64Array(cap);
  let n = 0;

  // The generator state lives in locals (int32, same bits as the u32 of Sfc32) so the loop stays
  // in small integers; each step below is Sfc32.next() written out, and `>>> 0` reads it unsigned.
  const st = new Sfc32(seed).snapshot();
  let a = (st[0] as number) | 0;
  let b = (st[1] as number) | 0;
  let c = (st[2] as number) | 0;
  let d = (st[3] as number) | 0;
  let r = 0;
  let x = 0;

  for (;;) {
    x = (a + b + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + x) | 0;
    r = x >>> 0;

    t = t + 1 + (r % gapMod);
    const day = Math.floor(t / DAY_MS);
    const wd = (day + 4) % 7;
    if (wd === 6) t = (day + 2) * DAY_MS + (r % 1000);
    else if (wd === 0) t = (day + 1) * DAY_MS + (r % 1000);
    if (t >= end) break;

    x = (a + b + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + x) | 0;
    r = x >>> 0;
    if (r % 20000 === 0) {
      x = (a + b + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (((c << 21) | (c >>> 11)) + x) | 0;
      vol = 1 + ((x >>> 0) % 3);
    }
    // floor(r / 256) of a u32 is exactly r >>> 8.
    pts = pts + (((r >>> 8) % span) - stepPoints) * vol;
    if (pts < minPts) pts = minPts + (minPts - pts);

    x = (a + b + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + x) | 0;
    r = x >>> 0;
    let spread = 8 + (r % 5);
    if (Math.floor(t / HOUR_MS) % 24 === 21) spread = spread * 3;

    if (n === cap) {
      cap *= 2;
      time = grow(time, cap);
      bid = grow(bid, cap);
      ask = grow(ask, cap);
    }
    time[n] = t;
    bid[n] = pts / scale;
    ask[n] = (pts + spread) / scale;
    n++;
  }
  return { time: trim(time, n), bid: trim(bid, n), ask: trim(ask, n) };
}

export interface BarGenOptions {
  timeframe: Timeframe;
  start: number;
  count: number;
  seed: number;
  startPrice: number;
  digits: number;
  stepPoints: number;
}

export interface BarColumns {
  time: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

export function generateBarColumns(opts: BarGenOptions): BarColumns {
  const { timeframe, start, count, seed, startPrice, digits, stepPoints } = opts;
  const tf = TIMEFRAME_MS[timeframe];
  if (tf === undefined) throw ValidationError.at('timeframe', `${String(timeframe)} is not a timeframe`);
  checkSeed(seed);
  checkInteger('start', start, -8.64e15, 8.64e15);
  checkInteger('count', count, 0, 2 ** 31);
  checkPositive('startPrice', startPrice);
  checkInteger('digits', digits, 0, 15);
  checkInteger('stepPoints', stepPoints, 0, 2 ** 20);

  const scale = pow10(digits);
  const minPts = Math.max(1, Math.floor(scale / 100));
  const stepScale = Math.floor((Math.sqrt(tf / 60000) * stepPoints) / 2) + 1;
  const rng = new Sfc32(seed);

  // The count is known, so the columns are allocated once at their final size.
  const time = new Float64Array(count);
  const open = new Float64Array(count);
  const high = new Float64Array(count);
  const low = new Float64Array(count);
  const close = new Float64Array(count);
  const volume = new Float64Array(count);

  let t = Math.floor(start / tf) * tf;
  let c = Math.floor(startPrice * scale + 0.5);
  for (let i = 0; i < count; i++) {
    // Every timeframe divides a day, so Monday 00:00 is on the grid: jumping there equals
    // stepping bar by bar over the weekend.
    const day = Math.floor(t / DAY_MS);
    const wd = (day + 4) % 7;
    if (wd === 6) t = (day + 2) * DAY_MS;
    else if (wd === 0) t = (day + 1) * DAY_MS;

    const o = c;
    let h = o;
    let l = o;
    for (let k = 0; k < 8; k++) {
      const r = rng.next();
      c = c + ((r % 7) - 3) * stepScale;
      if (c < minPts) c = minPts + (minPts - c);
      if (c > h) h = c;
      if (c < l) l = c;
    }
    time[i] = t;
    open[i] = o / scale;
    high[i] = h / scale;
    low[i] = l / scale;
    close[i] = c / scale;
    volume[i] = 1 + (rng.next() % 1000);
    t += tf;
  }
  return { time, open, high, low, close, volume };
}
