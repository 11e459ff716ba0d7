/**
 * Native engine against the pure-TypeScript engine, side by side in one process, on three
 * workloads: the reference strategy on 10 million ticks, a strategy whose rules run on every tick,
 * and an EMA cross on one million M1 bars. Prints a table per workload and writes
 * benchmark/results/backtest.json.
 *
 *   npm run bench                  (10M ticks)
 *   TICKS=2000000 npm run bench    (smaller and quicker)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import {
  type BacktestOptions,
  type BarData,
  backtestSync,
  generateBars,
  generateTicks,
  referenceStrategy,
  type StrategyIR,
  type TickData,
} from '../src/index.js';
import { machine, writeResult } from './common.js';

const TICKS = Number(process.env.TICKS ?? 10_000_000);
const BARS = Number(process.env.BARS ?? 1_000_000);

function ticksOf(n: number): TickData {
  // About 96k ticks per weekday: ask for enough days, then cut to exactly n. stepPoints 8 is the
  // demo's series, volatile enough for the reference strategy to trade.
  const days = Math.ceil((n / 96_000) * (7 / 5)) + 3;
  const t = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days, seed: 7, stepPoints: 8 });
  if (t.time.length < n) throw new Error(`generated ${t.time.length} ticks, wanted ${n}`);
  return { symbol: 'EURUSD', time: t.time.subarray(0, n), bid: t.bid.subarray(0, n), ask: t.ask.subarray(0, n) };
}

/** Rules on every tick: fade a 3-pip deviation of the bid from an M1 EMA, 10-pip stop and target. */
const everyTick: StrategyIR = {
  version: 1,
  name: 'tick-fade',
  decision: { timeframe: 'M1', on: 'tick' },
  workers: [{ id: 'ema', kind: 'ema', timeframe: 'M1', params: { period: 20 } }],
  rules: [
    {
      when: {
        op: 'and',
        args: [
          { op: '==', args: [{ position: 'side' }, 0] },
          { op: '<', args: [{ op: '-', args: [{ quote: 'bid' }, { worker: 'ema' }] }, -0.0003] },
          { op: '<', args: [{ quote: 'spread' }, 0.00015] },
        ],
      },
      then: [{ action: 'buy', lots: 0.01, sl: { pips: 10 }, tp: { pips: 10 } }],
    },
    {
      when: {
        op: 'and',
        args: [
          { op: '==', args: [{ position: 'side' }, 0] },
          { op: '>', args: [{ op: '-', args: [{ quote: 'bid' }, { worker: 'ema' }] }, 0.0003] },
          { op: '<', args: [{ quote: 'spread' }, 0.00015] },
        ],
      },
      then: [{ action: 'sell', lots: 0.01, sl: { pips: 10 }, tp: { pips: 10 } }],
    },
  ],
};

const emaCross = JSON.parse(readFileSync(join('examples', 'ema-cross.strategy.json'), 'utf8')) as StrategyIR;

interface Workload {
  name: string;
  events: number;
  unit: string;
  options: Omit<BacktestOptions, 'engine'>;
}

async function measure(w: Workload) {
  const run = (engine: 'native' | 'js') => backtestSync({ ...w.options, engine });
  // The first native call copies the columns into Rust (once per data object); time it apart.
  const t0 = performance.now();
  const first = run('native');
  const firstCallMs = performance.now() - t0;
  const js = run('js');
  if (first.trades.length !== js.trades.length || first.metrics.finalBalance !== js.metrics.finalBalance) {
    throw new Error(`${w.name}: native and pure-TS results differ; fix parity before benchmarking`);
  }
  const loop: Record<string, number[]> = { native: [], js: [] };
  const bench = new Bench({ iterations: 7, warmupIterations: 2, time: 0 });
  bench.add('native (1 thread)', () => {
    loop.native?.push(run('native').engineMs);
  });
  bench.add('pure-TS', () => {
    loop.js?.push(run('js').engineMs);
  });
  await bench.run();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const callMs = (i: number) => bench.tasks[i]?.result?.latency.p50 ?? Number.NaN;
  const nativeLoop = median(loop.native ?? []);
  const jsLoop = median(loop.js ?? []);
  return {
    workload: w.name,
    events: w.events,
    unit: w.unit,
    trades: first.trades.length,
    nativeCallMs: callMs(0),
    jsCallMs: callMs(1),
    nativeLoopMs: nativeLoop,
    jsLoopMs: jsLoop,
    nativePerSecond: w.events / (nativeLoop / 1000),
    jsPerSecond: w.events / (jsLoop / 1000),
    ratio: jsLoop / nativeLoop,
    firstNativeCallMs: firstCallMs,
  };
}

export async function benchBacktest() {
  const ticks = ticksOf(TICKS);
  const bars: BarData = generateBars({ symbol: 'EURUSD', timeframe: 'M1', start: '2020-01-01', count: BARS, seed: 3 });
  const workloads: Workload[] = [
    {
      name: 'reference strategy, tick mode',
      events: TICKS,
      unit: 'ticks',
      options: { ticks, strategy: referenceStrategy },
    },
    { name: 'rules on every tick', events: TICKS, unit: 'ticks', options: { ticks, strategy: everyTick } },
    {
      name: 'EMA cross on M1 bars (bar mode)',
      events: BARS,
      unit: 'bars',
      options: { bars, strategy: { ...emaCross, decision: { timeframe: 'M1' } }, params: { fast: 12, slow: 48 } },
    },
  ];
  const results = [];
  for (const w of workloads) results.push(await measure(w));

  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(`\nBacktest throughput, median of 7 runs (simulation loop only), ${machine().cpu}`);
  console.table(
    results.map((r) => ({
      workload: r.workload,
      events: fmt(r.events),
      trades: r.trades,
      'native /s': fmt(r.nativePerSecond),
      'pure-TS /s': fmt(r.jsPerSecond),
      'native ÷ pure-TS': `${r.ratio.toFixed(2)}x`,
      'native call ms': r.nativeCallMs.toFixed(1),
      'pure-TS call ms': r.jsCallMs.toFixed(1),
    })),
  );
  for (const r of results) {
    console.log(
      `${r.workload}: first native call ${r.firstNativeCallMs.toFixed(1)} ms (includes the one-time copy into Rust)`,
    );
  }
  const profiled = backtestSync({ ticks, strategy: referenceStrategy, engine: 'native', profile: true });
  console.log('\nWhere the native time goes, reference strategy (timers on, so slower than above):');
  console.table(profiled.profile);
  const report = { benchmark: 'backtest', machine: machine(), results, nativeProfile: profiled.profile };
  writeResult('backtest', report);
  return report;
}
