/**
 * The binding's batch calls as `optimize` and `runBatch` use them: jobs returned as one table of
 * columns equal the per-job objects bit for bit, and progress comes in batches that name every
 * completed job once, with its metrics row, at the requested pace.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { NativeBatchResult } from '../index.js';
import { prepare, toNativeAsync } from '../src/backtest.js';
import { loadNative, type NativeBinding } from '../src/engine/native.js';
import { generateBars } from '../src/generate.js';
import { metricsReader, tableJobs } from '../src/optimize/job-table.js';
import type { BarData, StrategyIR } from '../src/types.js';

const strategy: StrategyIR = {
  version: 1,
  name: 'sma-cross',
  params: { fast: { default: 5, type: 'int', min: 2 }, slow: { default: 20, type: 'int', min: 3 } },
  decision: { timeframe: 'H1', on: 'bar' },
  workers: [
    { id: 'fast', kind: 'sma', timeframe: 'H1', params: { period: { param: 'fast' } } },
    { id: 'slow', kind: 'sma', timeframe: 'H1', params: { period: { param: 'slow' } } },
  ],
  rules: [
    {
      when: { op: 'crossAbove', args: [{ worker: 'fast' }, { worker: 'slow' }] },
      then: [{ action: 'buy', lots: 1, sl: { pips: 30 } }],
    },
    { when: { op: 'crossBelow', args: [{ worker: 'fast' }, { worker: 'slow' }] }, then: [{ action: 'close' }] },
  ],
} as StrategyIR;

let binding: NativeBinding;
let bars: BarData;
const combos: { fast: number; slow: number }[] = [];

beforeAll(() => {
  binding = loadNative() as NativeBinding;
  bars = generateBars({ symbol: 'EURUSD', timeframe: 'H1', count: 3000, seed: 9 });
  for (let fast = 2; fast < 14; fast++) for (let slow = fast + 1; slow <= 15; slow++) combos.push({ fast, slow });
  // One combination that does not compile (a period below its minimum) fails without metrics.
  combos.push({ fast: 0, slow: 5 });
});

async function grid(
  options: { table?: boolean; progressIntervalMs?: number; threads?: number },
  list: { fast: number; slow: number }[] = combos,
) {
  const p = prepare({ bars, strategy });
  const handle = await toNativeAsync(binding, p.market);
  const calls: { ended: number; notCompleted: number; indices: number[]; metrics: Float64Array }[] = [];
  const r = await binding.optimizeGrid(
    handle,
    JSON.stringify(p.strategy),
    JSON.stringify(list),
    JSON.stringify(p.config),
    { threads: options.threads ?? 2, ...options },
    undefined,
    (ended, notCompleted, indices, metrics) =>
      calls.push({ ended, notCompleted, indices: Array.from(indices), metrics }),
  );
  // Let queued progress calls arrive: the last job always makes one.
  for (let waited = 0; calls[calls.length - 1]?.ended !== list.length && waited < 5000; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { r, calls };
}

describe('native batch results', () => {
  it('a table holds the same jobs as the per-job objects, NaN metric rows for jobs without metrics', async () => {
    const objects = (await grid({})).r;
    const r = (await grid({ table: true })).r;
    expect(objects.table).toBeUndefined();
    expect(r.results).toBeUndefined();
    const table = r.table as NonNullable<typeof r.table>;
    const names = table.metricNames;
    expect(names).toEqual(binding.metricNames());
    expect(table.statusNames).toEqual(['completed', 'failed', 'timed_out', 'cancelled']);
    expect(table.metrics.length).toBe(combos.length * names.length);
    const results = objects.results ?? [];
    expect(results.filter((j) => j.status === 'failed')).toHaveLength(1);
    const jobs = tableJobs(table, combos.length);
    results.forEach((j, i) => {
      const row = Array.from(table.metrics.subarray(i * names.length, (i + 1) * names.length));
      expect(table.statusNames[table.status[i] as number]).toBe(j.status);
      expect(jobs[i]?.status).toBe(j.status);
      expect(table.tradeCount[i]).toBe(j.tradeCount);
      expect(jobs[i]?.tradeCount).toBe(j.tradeCount);
      expect(table.elapsedMs[i]).toBeGreaterThanOrEqual(0);
      if (!j.metrics) {
        expect(row.every(Number.isNaN)).toBe(true);
        expect(jobs[i]?.metrics).toBeUndefined();
        expect(jobs[i]?.error).toEqual({ type: j.errorType, message: j.message });
        expect(table.errors.map((e) => e.index)).toEqual([i]);
        return;
      }
      expect(jobs[i]?.error).toBeUndefined();
      expect(Object.keys(j.metrics)).toEqual(names);
      expect(Object.keys(jobs[i]?.metrics ?? {})).toEqual(names);
      names.forEach((name, k) => {
        const want = (j.metrics as unknown as Record<string, number>)[name];
        expect(Object.is(row[k], want)).toBe(true);
        const got = jobs[i]?.metrics as unknown as Record<string, number> | undefined;
        expect(Object.is(got?.[name], want)).toBe(true);
      });
    });
  });

  it('refuses a table that does not hold the jobs it was asked for', async () => {
    const table = (await grid({ table: true })).r.table as NonNullable<NativeBatchResult['table']>;
    expect(() => tableJobs(table, combos.length + 1)).toThrow(/table of \d+ jobs/);
    expect(() => tableJobs({ ...table, status: Uint8Array.from(table.status, () => 9) }, combos.length)).toThrow(
      /status code 9 for job 0/,
    );
  });

  it('with no progress interval every job is reported once, in the order of its count', async () => {
    // Fewer jobs than the 64 calls the queue holds, so that no call is dropped; the failing one last.
    const few = combos.slice(-20);
    const { r, calls } = await grid({ progressIntervalMs: 0 }, few);
    expect(calls).toHaveLength(few.length);
    expect(calls.map((c) => c.ended)).toEqual(few.map((_, i) => i + 1));
    const completed = calls.flatMap((c) => c.indices).sort((a, b) => a - b);
    const want = (r.results ?? []).flatMap((j, i) => (j.status === 'completed' ? [i] : []));
    expect(completed).toEqual(want);
    expect(want).toHaveLength(few.length - 1);
    expect(calls[calls.length - 1]?.notCompleted).toBe(1);
  });

  it('by default calls come in batches, the last with the final counts, every completed job in one of them with its row', async () => {
    const { r, calls } = await grid({ threads: 1, table: true });
    const table = r.table as NonNullable<typeof r.table>;
    const completed = Array.from(table.status).filter((s) => table.statusNames[s] === 'completed').length;
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.length).toBeLessThan(combos.length);
    expect(calls[calls.length - 1]?.ended).toBe(combos.length);
    const indices = calls.flatMap((c) => c.indices);
    expect(new Set(indices).size).toBe(indices.length);
    expect(indices).toHaveLength(completed);
    // A progress row is the job's row of the final table.
    const read = metricsReader(binding.metricNames());
    for (const c of calls) {
      expect(c.metrics.length).toBe(c.indices.length * table.metricNames.length);
      c.indices.forEach((index, k) => {
        expect(read(c.metrics, k)).toEqual(read(table.metrics, index));
      });
    }
  });
});
