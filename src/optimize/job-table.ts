/**
 * Reading the native engine's batch results as columns (`NativeJobTable`) and its progress rows:
 * one small object per job built here, far cheaper than one built by the binding property by
 * property, which on a grid of thousands of short jobs would cost the JavaScript thread more than
 * the jobs cost to run.
 */
import type { NativeJobTable } from '../../index.js';
import type { Metrics } from '../types.js';

/** A job's row of `width` metric values at `row`, or undefined for a row of NaN (no metrics). */
export type MetricsReader = (values: Float64Array, index: number) => Metrics | undefined;

/** Reads rows whose columns are `names` (`metricNames()` of the binding). */
export function metricsReader(names: readonly string[]): MetricsReader {
  const width = names.length;
  const trades = names.indexOf('tradeCount');
  if (trades < 0) throw new Error(`the engine's metric names lack tradeCount: ${names.join(', ')}`);
  // One object literal with every field, so that all rows share one shape (an object filled key
  // by key costs several times more to build and to read).
  const fields = names.map((name, k) => `${JSON.stringify(name)}: v[r + ${k}]`).join(', ');
  const build = new Function('v', 'r', `return { ${fields} };`) as (v: Float64Array, r: number) => Metrics;
  return (values, index) => {
    const row = index * width;
    // Metrics always hold a trade count, so a NaN there marks a job without metrics.
    if (!(row + width <= values.length) || Number.isNaN(values[row + trades])) return undefined;
    return build(values, row);
  };
}

/** One job of a table. */
export interface TableJob {
  /** A name of `statusNames`: `completed`, `failed`, `timed_out` or `cancelled`. */
  status: string;
  metrics?: Metrics;
  tradeCount: number;
  error?: { type: string; message: string };
  elapsedMs: number;
}

/** The jobs of `table`, which must hold `jobs` of them. */
export function tableJobs(table: NativeJobTable, jobs: number): TableJob[] {
  const { status, statusNames, tradeCount, elapsedMs, metrics, metricNames } = table;
  const width = metricNames.length;
  if (
    status.length !== jobs ||
    tradeCount.length !== jobs ||
    elapsedMs.length !== jobs ||
    metrics.length !== jobs * width
  ) {
    throw new Error(
      `the engine returned a table of ${status.length} jobs and ${metrics.length} metric values for ${jobs} jobs`,
    );
  }
  const read = metricsReader(metricNames);
  const out: TableJob[] = new Array(jobs);
  for (let i = 0; i < jobs; i++) {
    const name = statusNames[status[i] as number];
    if (name === undefined) throw new Error(`the engine returned status code ${status[i]} for job ${i}`);
    out[i] = {
      status: name,
      metrics: read(metrics, i),
      tradeCount: tradeCount[i] as number,
      elapsedMs: elapsedMs[i] as number,
    };
  }
  for (const e of table.errors) {
    const job = out[e.index];
    if (job && e.errorType) job.error = { type: e.errorType, message: e.message };
  }
  return out;
}
