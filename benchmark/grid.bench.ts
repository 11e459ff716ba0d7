/**
 * The grid a new user tries first: every pair of SMA windows 2..100 with fast < slow (4,851
 * combinations) on 2,978 seeded daily bars, long only, all in (`lots = equity / ask` on a
 * one-unit contract), fills at the close, commission 0.1%. The whole `optimize()` call timed four
 * ways in one process: native threads, native on one thread, pure-TS worker threads and pure-TS
 * sequential, with pairs per second, ratios, each row's peak RSS and a check that every row ranks
 * the same way. Prints tables and writes benchmark/results/grid.json.
 *
 *   BENCH=grid npm run bench
 *   BENCH=grid GRID_ROUNDS=3 GRID_JS_ROUNDS=1 npm run bench   (quicker)
 *
 * Environment:
 *   GRID_ROUNDS     timed rounds of each native row (default 7); the table shows best and median
 *   GRID_JS_ROUNDS  timed rounds of each pure-TS row (default 2)
 */
import { availableParallelism } from 'node:os';
import {
  type BarData,
  backtestSync,
  generateBars,
  type OptimizeOptions,
  type OptimizeResult,
  optimize,
  type StrategyIR,
} from '../src/index.js';
import { type Agreement, assertSame, checkRun, MiB, machine, rssSampler, writeResult } from './common.js';

const ROUNDS = Number(process.env.GRID_ROUNDS ?? 7);
const JS_ROUNDS = Number(process.env.GRID_JS_ROUNDS ?? 2);
const WORKERS = 2;
const BARS = 2978;
const MIN_WINDOW = 2;
const MAX_WINDOW = 100;
const TARGETS = { nativeThreadsMs: 150, threadsOverOneThread: 1.8, nativeOverPureTs: 5 };

/** SMA(fast) crossing SMA(slow) on daily bars: in on a cross above with all the equity, out on a cross below. */
export const smaCross: StrategyIR = {
  version: 1,
  name: 'sma-cross',
  params: {
    fast: { default: 10, type: 'int', min: 2 },
    slow: { default: 30, type: 'int', min: 3 },
  },
  decision: { timeframe: 'D1', on: 'bar' },
  workers: [
    { id: 'fast', kind: 'sma', timeframe: 'D1', params: { period: { param: 'fast' } } },
    { id: 'slow', kind: 'sma', timeframe: 'D1', params: { period: { param: 'slow' } } },
  ],
  rules: [
    {
      when: {
        op: 'and',
        args: [
          { op: '==', args: [{ position: 'side' }, 0] },
          { op: 'crossAbove', args: [{ worker: 'fast' }, { worker: 'slow' }] },
        ],
      },
      then: [{ action: 'buy', lots: { op: '/', args: [{ account: 'equity' }, { quote: 'ask' }] } }],
    },
    {
      when: {
        op: 'and',
        args: [
          { op: '==', args: [{ position: 'side' }, 1] },
          { op: 'crossBelow', args: [{ worker: 'fast' }, { worker: 'slow' }] },
        ],
      },
      then: [{ action: 'close' }],
    },
  ],
} as StrategyIR;

/** A stock-like daily series from the generator: no download, the same bars on every machine. */
export function dailyBars(): BarData {
  return generateBars({
    symbol: 'SPY',
    timeframe: 'D1',
    count: BARS,
    seed: 42,
    start: '2012-01-02',
    startPrice: 100,
    digits: 2,
    stepPoints: 20,
  });
}

/** A cash account holding fractional units of a one-unit contract: `equity / ask` buys all in. */
const SETTINGS = {
  symbol: 'SPY',
  instrument: {
    pipSize: 0.01,
    contractSize: 1,
    lotStep: 1e-6,
    minLot: 1e-6,
    maxLot: 1e9,
    marginRate: 1,
    commissionPercent: 0.1,
    spreadPips: 0,
  },
  account: { balance: 10_000 },
  fillAt: 'close' as const,
};

interface RowSpec {
  name: string;
  engine: 'native' | 'js';
  parallelism: 'threads' | 'none';
  rounds: number;
}

interface Row {
  row: string;
  engine: 'native' | 'js';
  parallelism: string;
  workers: number;
  combinations: number;
  rounds: number;
  /** Wall time of the whole optimize() call (grid expansion, jobs, ranking, re-runs of the top 10). */
  bestMs: number;
  medianMs: number;
  pairsPerSecond: number;
  trades: number;
  /** This process's RSS sampled every 20 ms during the row's rounds. */
  peakRssMiB: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function optionsOf(spec: RowSpec, bars: BarData): OptimizeOptions {
  return {
    ...SETTINGS,
    bars,
    strategy: smaCross,
    grid: {
      fast: { from: MIN_WINDOW, to: MAX_WINDOW - 1, step: 1 },
      slow: { from: MIN_WINDOW + 1, to: MAX_WINDOW, step: 1 },
    },
    constraints: ['fast < slow'],
    engine: spec.engine,
    parallelism: spec.parallelism,
    maxWorkers: spec.parallelism === 'none' ? undefined : WORKERS,
  };
}

/**
 * Times the rows' rounds in turn (round 1 of each row, then round 2 of each, ...), so that a
 * machine whose speed drifts during the run slows every row alike, and each round of one row has
 * a round of the others next to it (`times[k]` of every row were measured together).
 */
async function runRows(specs: RowSpec[], bars: BarData) {
  const rounds = Math.max(...specs.map((s) => s.rounds));
  const state = specs.map((spec) => ({
    spec,
    options: optionsOf(spec, bars),
    times: [] as number[],
    peak: 0,
    result: undefined as OptimizeResult | undefined,
  }));
  console.error(`grid bench: ${specs.map((s) => s.name).join(' / ')}, ${rounds} round(s) in turn ...`);
  for (let k = 0; k < rounds; k++) {
    for (const row of state) {
      if (k >= row.spec.rounds) continue;
      const stopSampling = rssSampler();
      const t0 = performance.now();
      row.result = await optimize(row.options);
      row.times.push(performance.now() - t0);
      row.peak = Math.max(row.peak, stopSampling());
    }
  }
  return state.map(({ spec, times, peak, result }) => {
    const r = result as OptimizeResult;
    checkRun(spec, WORKERS, r);
    const best = Math.min(...times);
    const row: Row = {
      row: spec.name,
      engine: r.engine,
      parallelism: r.parallelism,
      workers: r.workers,
      combinations: r.total,
      rounds: spec.rounds,
      bestMs: best,
      medianMs: median(times),
      pairsPerSecond: r.total / (best / 1000),
      trades: r.results.reduce((s, j) => s + (j.tradeCount ?? 0), 0),
      peakRssMiB: peak,
    };
    return { row, result: r, times };
  });
}

/** Throws unless both rank the same combinations in the same order. */
function assertSameRanking(a: OptimizeResult, aName: string, b: OptimizeResult, bName: string): void {
  const order = (r: OptimizeResult) => r.ranked.map((x) => x.index).join(',');
  if (order(a) !== order(b)) throw new Error(`${aName} ranks ${order(a)}, ${bName} ranks ${order(b)}`);
}

export async function benchGrid() {
  for (const [name, v] of [
    ['GRID_ROUNDS', ROUNDS],
    ['GRID_JS_ROUNDS', JS_ROUNDS],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name}=${v}: expected an integer >= 1`);
  }
  const m = machine();
  const bars = dailyBars();
  // The first native call on a data object copies its columns into Rust; do it outside the rows.
  backtestSync({ ...SETTINGS, bars, strategy: smaCross, engine: 'native' });
  const specs: RowSpec[] = [
    { name: 'native, threads', engine: 'native', parallelism: 'threads', rounds: ROUNDS },
    { name: 'native, one thread', engine: 'native', parallelism: 'none', rounds: ROUNDS },
    { name: 'pure-TS, worker threads', engine: 'js', parallelism: 'threads', rounds: JS_ROUNDS },
    { name: 'pure-TS, sequential', engine: 'js', parallelism: 'none', rounds: JS_ROUNDS },
  ];
  // The two native rows in turn, then the two pure-TS rows in turn.
  const runs = [...(await runRows(specs.slice(0, 2), bars)), ...(await runRows(specs.slice(2), bars))];
  const pairs: [number, number][] = [
    [0, 1],
    [2, 3],
    [0, 2],
    [1, 3],
  ];
  const agreement: Agreement[] = pairs.map(([i, j]) => {
    const a = runs[i];
    const b = runs[j];
    if (!a || !b) throw new Error('missing row');
    assertSameRanking(a.result, a.row.row, b.result, b.row.row);
    return assertSame(a.result, a.row.row, b.result, b.row.row);
  });
  const rows = runs.map((r) => r.row);
  const [nativeThreads, nativeOne, jsThreads, jsSeq] = rows as [Row, Row, Row, Row];
  // Ratios of medians, every row measured in this process in this run; threads over one thread
  // also as the median of the ratios of rounds measured together.
  const paired = (runs[0]?.times ?? []).map((t, k) => (runs[1]?.times[k] ?? Number.NaN) / t);
  const ratios = {
    nativeThreadsOverOneThread: nativeOne.medianMs / nativeThreads.medianMs,
    nativeThreadsOverOneThreadPaired: median(paired),
    nativeOverPureTsThreads: jsThreads.medianMs / nativeThreads.medianMs,
    nativeOverPureTsSequential: jsSeq.medianMs / nativeOne.medianMs,
    pureTsThreadsOverSequential: jsSeq.medianMs / jsThreads.medianMs,
  };
  const top = runs[0]?.result.ranked[0];

  console.log(
    `\nGrid: SMA cross, ${nativeThreads.combinations} pairs (windows ${MIN_WINDOW}..${MAX_WINDOW}, fast < slow) on ` +
      `${BARS.toLocaleString('en-US')} daily bars, all in, fills at the close, commission 0.1%; wall time of ` +
      `optimize(), ${m.cpu}, ${m.cores} cores.`,
  );
  console.log(
    `Same ranking and metrics in every row; best ${top ? JSON.stringify(top.params) : 'none'} ` +
      `(score ${top?.score.toFixed(4) ?? '-'}).`,
  );
  console.table(
    rows.map((r) => ({
      row: r.row,
      workers: r.workers,
      rounds: r.rounds,
      'best ms': Math.round(r.bestMs),
      'median ms': Math.round(r.medianMs),
      'pairs/s': Math.round(r.pairsPerSecond).toLocaleString('en-US'),
      'peak RSS MiB': Math.round(r.peakRssMiB),
    })),
  );
  console.log(
    `native threads, median: ${Math.round(nativeThreads.medianMs)} ms (target <= ${TARGETS.nativeThreadsMs} ms)`,
  );
  console.log(
    `native threads ÷ one thread: ${ratios.nativeThreadsOverOneThread.toFixed(2)}x, median of paired rounds ` +
      `${ratios.nativeThreadsOverOneThreadPaired.toFixed(2)}x (target >= ` +
      `${TARGETS.threadsOverOneThread}x on 2 cores; this machine has ${availableParallelism()})`,
  );
  console.log(
    `native ÷ pure-TS, threads: ${ratios.nativeOverPureTsThreads.toFixed(2)}x; sequential: ` +
      `${ratios.nativeOverPureTsSequential.toFixed(2)}x (target >= ${TARGETS.nativeOverPureTs}x)`,
  );

  const report = {
    benchmark: 'grid',
    machine: m,
    config: {
      strategy: smaCross.name,
      windows: [MIN_WINDOW, MAX_WINDOW],
      combinations: nativeThreads.combinations,
      bars: BARS,
      data: { symbol: 'SPY', timeframe: 'D1', seed: 42, start: '2012-01-02', startPrice: 100, stepPoints: 20 },
      settings: SETTINGS,
      maxWorkers: WORKERS,
      timing:
        'wall time of the whole optimize() call, best and median of the rounds; the native rows run their rounds in turn, as do the pure-TS rows; ratios of medians, and threads over one thread also as the median of paired rounds',
    },
    rows,
    agreement,
    ratios,
    best: top ? { params: top.params, score: top.score } : null,
    targets: {
      nativeThreadsMs: {
        target: TARGETS.nativeThreadsMs,
        measured: nativeThreads.medianMs,
        met: nativeThreads.medianMs <= TARGETS.nativeThreadsMs,
      },
      threadsOverOneThread: {
        target: TARGETS.threadsOverOneThread,
        measured: ratios.nativeThreadsOverOneThread,
        met: ratios.nativeThreadsOverOneThread >= TARGETS.threadsOverOneThread,
      },
      nativeOverPureTs: {
        target: TARGETS.nativeOverPureTs,
        measured: ratios.nativeOverPureTsThreads,
        met: ratios.nativeOverPureTsThreads >= TARGETS.nativeOverPureTs,
      },
      sameRanking: { met: true },
    },
    memory: { units: 'MiB', dataBytes: BARS * 6 * 8, note: `RSS sampled every 20 ms; 1 MiB = ${MiB} bytes` },
  };
  writeResult('grid', report);
  return report;
}
