/**
 * How long an optimization takes to stop after its AbortSignal fires, on the demo workload (the
 * reference strategy on 2.1 million ticks), in every mode. `BENCH=cancel npm run bench`.
 */
import { generateTicks, referenceStrategy, startOptimize } from '../src/index.js';
import { machine, writeResult } from './common.js';

const MODES = [
  { engine: 'native', parallelism: 'threads' },
  { engine: 'native', parallelism: 'processes' },
  { engine: 'js', parallelism: 'none' },
  { engine: 'js', parallelism: 'threads' },
  { engine: 'js', parallelism: 'processes' },
] as const;

export async function benchCancel() {
  const ticks = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days: 30, seed: 7, stepPoints: 8 });
  const grid = { rsiPeriod: { from: 5, to: 44, step: 1 }, slPips: { from: 10, to: 50, step: 5 } };
  const rows = [];
  for (const mode of MODES) {
    const latencies: number[] = [];
    for (let round = 0; round < 3; round++) {
      const controller = new AbortController();
      let abortedAt = 0;
      const run = startOptimize({
        ticks,
        strategy: referenceStrategy,
        grid,
        ...mode,
        maxWorkers: 2,
        signal: controller.signal,
        progressIntervalMs: 1,
        onProgress: (p) => {
          // Abort once a few jobs are done, so workers are mid-job when the signal fires.
          if (abortedAt === 0 && p.completed >= 4) {
            abortedAt = performance.now();
            controller.abort();
          }
        },
      });
      const r = await run.done;
      if (abortedAt === 0) throw new Error(`${mode.engine}/${mode.parallelism}: finished before the abort`);
      // Abort to result: after an abort the ranked re-runs are skipped.
      latencies.push(performance.now() - abortedAt);
      if (!r.partial) throw new Error(`${mode.engine}/${mode.parallelism}: not marked partial`);
    }
    latencies.sort((a, b) => a - b);
    rows.push({
      engine: mode.engine,
      parallelism: mode.parallelism,
      'median ms': latencies[1]?.toFixed(0),
      'max ms': latencies[2]?.toFixed(0),
    });
  }
  console.log(`\nCancellation latency (abort to result), ${ticks.time.length.toLocaleString('en-US')} ticks per job`);
  console.table(rows);
  writeResult('cancel', { benchmark: 'cancel', machine: machine(), ticks: ticks.time.length, rows });
}
