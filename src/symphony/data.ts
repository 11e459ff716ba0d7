/**
 * Daily multi-asset data (docs/symphony.md section 2): aligning per-ticker daily bars on one
 * calendar, checking a DailyData built by hand, and seeded synthetic daily data.
 */
import { type Issue, ValidationError } from '../errors.js';
import { generateBars } from '../generate.js';
import type { BarData } from '../types.js';
import type { DailyData } from './types.js';

export const DAY_MS = 86_400_000;

/** What `alignDaily` accepts per ticker: full bars, or just the columns it reads. */
export type DailySeries = BarData | { time: ArrayLike<number>; open: ArrayLike<number>; close: ArrayLike<number> };

/** Problems reported per ticker before the rest are summarised in one line. */
const REPORT_PER_TICKER = 5;

const iso = (t: number): string => (Number.isFinite(t) ? new Date(t).toISOString().slice(0, 10) : String(t));

/**
 * One calendar for several tickers: the union of their days (UTC midnight, ascending). Before a
 * ticker's first bar its values are NaN; a day it lacks after that repeats its last close as both
 * open and close. Throws one ValidationError naming the ticker and row of every problem.
 */
export function alignDaily(series: Record<string, DailySeries>): DailyData {
  const issues: Issue[] = [];
  if (series === null || typeof series !== 'object' || Array.isArray(series)) {
    throw ValidationError.at('series', 'expected an object of per-ticker daily bars');
  }
  const tickers = Object.keys(series).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const ticker of tickers) {
    const s = series[ticker] as DailySeries;
    const found: Issue[] = [];
    const at = (path: string, message: string) => found.push({ path: `series.${ticker}${path}`, message });
    if (s === null || typeof s !== 'object') {
      at('', 'expected { time, open, close } columns');
      issues.push(...found);
      continue;
    }
    const tf = (s as { timeframe?: unknown }).timeframe;
    if (tf !== undefined && tf !== 'D1') at('.timeframe', `expected daily bars (D1), got ${String(tf)}`);
    const { time, open, close } = s;
    if (!time || !open || !close || typeof time.length !== 'number') {
      at('', 'expected { time, open, close } columns');
      issues.push(...found);
      continue;
    }
    if (open.length !== time.length) at('.open', `has ${open.length} rows, time has ${time.length}`);
    if (close.length !== time.length) at('.close', `has ${close.length} rows, time has ${time.length}`);
    if (found.length === 0) {
      for (let i = 0; i < time.length; i++) {
        const t = time[i] as number;
        if (!Number.isFinite(t) || t % DAY_MS !== 0) {
          at(`.time[${i}]`, `${t} is not a UTC midnight (daily bars open at 00:00 UTC)`);
        } else if (i > 0) {
          const p = time[i - 1] as number;
          if (t === p) at(`.time[${i}]`, `duplicate day ${iso(t)} (also at row ${i - 1})`);
          else if (t < p)
            at(`.time[${i}]`, `day ${iso(t)} comes before the previous row's ${iso(p)} (rows must be sorted)`);
        }
        const o = open[i] as number;
        const c = close[i] as number;
        if (!(Number.isFinite(o) && o > 0)) at(`.open[${i}]`, `expected a finite price > 0, got ${o}`);
        if (!(Number.isFinite(c) && c > 0)) at(`.close[${i}]`, `expected a finite price > 0, got ${c}`);
      }
    }
    issues.push(...found.slice(0, REPORT_PER_TICKER));
    if (found.length > REPORT_PER_TICKER) {
      issues.push({ path: `series.${ticker}`, message: `… and ${found.length - REPORT_PER_TICKER} more` });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);

  let total = 0;
  for (const t of tickers) total += (series[t] as DailySeries).time.length;
  const all = new Float64Array(total);
  let m = 0;
  for (const t of tickers) {
    const time = (series[t] as DailySeries).time;
    for (let i = 0; i < time.length; i++) all[m++] = time[i] as number;
  }
  all.sort();
  let n = 0;
  for (let i = 0; i < total; i++) if (n === 0 || all[i] !== all[n - 1]) all[n++] = all[i] as number;
  const dates = all.slice(0, n);

  const open: Float64Array[] = [];
  const close: Float64Array[] = [];
  for (const ticker of tickers) {
    const s = series[ticker] as DailySeries;
    const o = new Float64Array(n).fill(Number.NaN);
    const c = new Float64Array(n).fill(Number.NaN);
    let j = 0;
    let last = Number.NaN;
    for (let t = 0; t < n; t++) {
      if (j < s.time.length && s.time[j] === dates[t]) {
        o[t] = s.open[j] as number;
        last = s.close[j] as number;
        c[t] = last;
        j++;
      } else if (!Number.isNaN(last)) {
        o[t] = last;
        c[t] = last;
      }
    }
    open.push(o);
    close.push(c);
  }
  return { dates, tickers, open, close };
}

const checked = new WeakSet<DailyData>();

/**
 * Checks a DailyData (from `alignDaily` or built by hand) once per object (docs/symphony.md
 * section 8): at least one day, dates finite and strictly increasing; tickers unique; per ticker, open and close
 * columns of the calendar's length, finite and > 0 from the first finite close on.
 */
export function checkDailyData(data: DailyData): void {
  if (checked.has(data)) return;
  const issues: Issue[] = [];
  if (data === null || typeof data !== 'object' || !(data.dates instanceof Float64Array)) {
    throw ValidationError.at('data', 'expected DailyData { dates: Float64Array, tickers, open, close }');
  }
  const { dates, tickers, open, close } = data;
  const n = dates.length;
  if (n === 0) issues.push({ path: 'data.dates', message: 'expected at least one day' });
  for (let t = 0; t < n; t++) {
    const d = dates[t] as number;
    if (!Number.isFinite(d)) {
      issues.push({ path: `data.dates[${t}]`, message: `${d} is not a finite time` });
      break;
    }
    if (t > 0 && !(d > (dates[t - 1] as number))) {
      issues.push({ path: `data.dates[${t}]`, message: `${iso(d)} is not after ${iso(dates[t - 1] as number)}` });
      break;
    }
  }
  if (!Array.isArray(tickers) || !Array.isArray(open) || !Array.isArray(close)) {
    throw new ValidationError([...issues, { path: 'data', message: 'tickers, open and close must be arrays' }]);
  }
  const seen = new Set<string>();
  tickers.forEach((tk, k) => {
    if (typeof tk !== 'string' || tk === '')
      issues.push({ path: `data.tickers[${k}]`, message: 'expected a ticker name' });
    else if (seen.has(tk)) issues.push({ path: `data.tickers[${k}]`, message: `duplicate ticker '${tk}'` });
    seen.add(tk);
    const o = open[k];
    const c = close[k];
    if (!(o instanceof Float64Array) || o.length !== n) {
      issues.push({ path: `data.open[${k}]`, message: `expected a Float64Array of ${n} values` });
      return;
    }
    if (!(c instanceof Float64Array) || c.length !== n) {
      issues.push({ path: `data.close[${k}]`, message: `expected a Float64Array of ${n} values` });
      return;
    }
    let started = false;
    for (let t = 0; t < n; t++) {
      const ov = o[t] as number;
      const cv = c[t] as number;
      // Values before the first finite close are never read.
      if (!started && !Number.isFinite(cv)) continue;
      started = true;
      if (!(Number.isFinite(cv) && cv > 0 && Number.isFinite(ov) && ov > 0)) {
        issues.push({
          path: `data.close[${k}][${t}]`,
          message: `ticker '${tk}': open ${ov} / close ${cv} on ${iso(dates[t] as number)} (prices are finite and > 0 from the first priced day on)`,
        });
        return;
      }
    }
  });
  if (open.length !== tickers.length || close.length !== tickers.length) {
    issues.push({ path: 'data', message: 'open and close need one column per ticker' });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  checked.add(data);
}

export interface GenerateDailyOptions {
  /** Bars per ticker (weekdays). */
  days: number;
  /** Integer in [0, 2^32); default 1. */
  seed?: number;
  /** First day, epoch ms (default 2020-01-01). */
  start?: number;
}

/**
 * The generator seed of a ticker under `seed`: a fixed integer mix of the seed and the name's
 * UTF-16 code units, in [0, 2^32). It depends on the name alone, so a ticker's series is the same
 * whichever other tickers are generated with it.
 */
export function tickerSeed(seed: number, ticker: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  for (let i = 0; i < ticker.length; i++) {
    h = (h + Math.imul(ticker.charCodeAt(i) + 1, 0xc2b2ae35)) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f) >>> 0;
  }
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Seeded synthetic daily data: each ticker is the seeded D1 bar generator (docs/semantics.md
 * section 9) with its own seed `tickerSeed(seed, ticker)` and start price `500 + (that seed mod
 * 500)`, aligned with `alignDaily`. A ticker's series depends only on its name, the seed, `days`
 * and `start`.
 */
export function generateDaily(tickers: string[], opts: GenerateDailyOptions): DailyData {
  const seed = opts.seed ?? 1;
  if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) {
    throw ValidationError.at('seed', `${seed} is not an integer in [0, 2^32)`);
  }
  if (!(Number.isInteger(opts.days) && opts.days >= 1)) {
    throw ValidationError.at('days', `${opts.days} is not an integer >= 1`);
  }
  const names = new Set<string>();
  const series: Record<string, DailySeries> = {};
  tickers.forEach((t, i) => {
    if (typeof t !== 'string' || t === '') throw ValidationError.at(`tickers[${i}]`, 'expected a ticker name');
    if (names.has(t)) throw ValidationError.at(`tickers[${i}]`, `duplicate ticker '${t}'`);
    names.add(t);
    const bars = generateBars({
      symbol: t,
      timeframe: 'D1',
      count: opts.days,
      seed: tickerSeed(seed, t),
      startPrice: 500 + (tickerSeed(seed, t) % 500),
      digits: 2,
      start: opts.start ?? Date.UTC(2020, 0, 1),
      engine: 'js',
    });
    series[t] = { time: bars.time, open: bars.open, close: bars.close };
  });
  return alignDaily(series);
}
