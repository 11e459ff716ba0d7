/** The report of a load and the columns it returns (docs/data.md sections 3, 4 and 6). */

import { type Issue, ValidationError } from '../../errors.js';
import { TIMEFRAME_MS, TIMEFRAMES, type Timeframe } from '../../types.js';
import { type Collector, MAX_FIRST } from './collector.js';
import type { Resolved } from './options.js';
import type { LoadReport } from './types.js';

/** Columns by name: time, then bid, ask[, volume] or open, high, low, close, volume. */
export type Columns = Record<string, Float64Array>;

export interface Loaded {
  columns: Columns;
  report: LoadReport;
}

/** The ValidationError of `policy: 'error'`: the first problems, then the total when there are more. */
export function problemsError(file: string, c: Collector): ValidationError {
  const issues: Issue[] = c.first.map((p) => ({
    path: `${file}:${String(p.row)}`,
    message: `${p.reason}: ${p.message}`,
  }));
  if (c.skippedTotal > MAX_FIRST) issues.push({ path: file, message: `${String(c.skippedTotal)} problems in total` });
  return new ValidationError(issues);
}

function detectTimeframe(file: string, time: Float64Array): Timeframe {
  let step = Number.POSITIVE_INFINITY;
  for (let i = 1; i < time.length; i++) {
    const d = (time[i] as number) - (time[i - 1] as number);
    if (d > 0 && d < step) step = d;
  }
  if (!Number.isFinite(step)) {
    throw ValidationError.at(file, 'cannot detect the timeframe: fewer than two distinct bar times; pass timeframe');
  }
  const tf = TIMEFRAMES.find((t) => TIMEFRAME_MS[t] === step);
  if (tf === undefined) {
    throw ValidationError.at(
      file,
      `the smallest step between bars, ${String(step)} ms, is not a timeframe (M1, M5, M15, M30, H1, H4, D1); pass timeframe`,
    );
  }
  return tf;
}

/** Counts by reason with the keys sorted, as the native report's. */
function sortedCounts(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(counts).sort()) out[k] = counts[k] as number;
  return out;
}

/** Builds the columns and the report; throws the problems under `policy: 'error'`. */
export function finish(file: string, format: string, opts: Resolved, c: Collector): Loaded {
  c.settleHeld();
  if (opts.policy === 'error' && c.skippedTotal > 0) throw problemsError(file, c);
  const time = c.time.finish();
  const values = c.values.map((v) => v.finish());
  const n = time.length;
  const columns: Columns = { time };
  let timeframe: Timeframe | undefined;
  let spread: LoadReport['spread'];
  if (c.kind === 'ticks') {
    const bid = values[0] as Float64Array;
    const ask = values[1] as Float64Array;
    columns.bid = bid;
    columns.ask = ask;
    if (values[2]) columns.volume = values[2];
    if (n > 0) {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const s = (ask[i] as number) - (bid[i] as number);
        if (s < min) min = s;
        if (s > max) max = s;
        sum += s;
      }
      spread = { min, mean: sum / n, max };
    }
  } else {
    ['open', 'high', 'low', 'close', 'volume'].forEach((name, k) => {
      columns[name] = values[k] as Float64Array;
    });
    timeframe = opts.timeframe ?? detectTimeframe(file, time);
  }
  const thresholdMs = opts.gapMs ?? (timeframe ? 3 * TIMEFRAME_MS[timeframe] : 600_000);
  let count = 0;
  let largestMs = 0;
  let largestAt: number | null = null;
  for (let i = 1; i < n; i++) {
    const d = (time[i] as number) - (time[i - 1] as number);
    if (d > thresholdMs) {
      count++;
      if (d > largestMs) {
        largestMs = d;
        largestAt = time[i] as number;
      }
    }
  }
  const report: LoadReport = {
    path: file,
    format,
    kind: c.kind,
    engine: 'js',
    fromCache: false,
    elapsedMs: 0,
    rowsRead: c.rowsRead,
    rows: n,
    skipped: { total: c.skippedTotal, byReason: sortedCounts(c.byReason), first: [...c.first] },
    incomplete: c.incomplete,
    first: n > 0 ? (time[0] as number) : null,
    last: n > 0 ? (time[n - 1] as number) : null,
    gaps: { thresholdMs, count, largestMs, largestAt },
  };
  if (timeframe !== undefined) report.timeframe = timeframe;
  if (spread !== undefined) report.spread = spread;
  return { columns, report };
}
