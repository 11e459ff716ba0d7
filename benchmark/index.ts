/**
 * `npm run bench`. BENCH picks the benchmarks to run, comma-separated: BENCH=backtest,optimize,grid,cancel,symphony,load
 * (the default runs all, in that order).
 */
import { benchBacktest } from './backtest.bench.js';
import { benchCancel } from './cancel.bench.js';
import { benchGrid } from './grid.bench.js';
import { benchLoad } from './load.bench.js';
import { benchOptimize } from './optimize.bench.js';
import { benchSymphony } from './symphony.bench.js';

const BENCHMARKS: Record<string, () => Promise<unknown>> = {
  backtest: benchBacktest,
  optimize: benchOptimize,
  grid: benchGrid,
  cancel: benchCancel,
  symphony: benchSymphony,
  load: benchLoad,
};

const picked = (process.env.BENCH ?? Object.keys(BENCHMARKS).join(','))
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
const unknown = picked.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0 || picked.length === 0) {
  throw new Error(
    `BENCH=${process.env.BENCH}: expected a comma-separated list of ${Object.keys(BENCHMARKS).join(', ')}`,
  );
}

for (const name of Object.keys(BENCHMARKS)) {
  if (picked.includes(name)) await BENCHMARKS[name]?.();
}
