/**
 * A grid of the reference strategy (1,000 combinations by default) on 10 million ticks, timed
 * through `optimize` four ways: native threads, native on one thread, pure-TS worker threads and
 * pure-TS sequential. Then the large target (1,000 combinations over 30 million ticks with
 * native threads, at most 30 s), and, on request, the gain from shared indicator series measured by
 * the Rust example crates/core/examples/grid.rs. Prints tables and writes
 * benchmark/results/optimize.json.
 *
 *   BENCH=optimize npm run bench
 *   BENCH=optimize GRID_TICKS=500000 GRID_COMBOS=40 GRID_BIG_TICKS=0 npm run bench   (quick check)
 *
 * Environment:
 *   GRID_TICKS      ticks of the four compared rows (default 10,000,000)
 *   GRID_COMBOS     combinations, at most 1,000; fewer takes a seeded sample of the grid
 *   GRID_BIG_TICKS  ticks of the native-threads row checked against 30 s (default 30,000,000; 0 skips)
 *   GRID_SERIES=1   also runs `cargo run --release -p tickforge-core --example grid` (several minutes)
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import {
  backtestSync,
  type Grid,
  generateTicks,
  type OptimizeOptions,
  optimize,
  referenceStrategy,
  type TickData,
} from '../src/index.js';
import { assertSame, checkRun, MiB, machine, maxRssMiB, POW_TOLERANCE, rssSampler, writeResult } from './common.js';

const FULL_COMBOS = 1000;
const GRID_TICKS = Number(process.env.GRID_TICKS ?? 10_000_000);
const GRID_COMBOS = Number(process.env.GRID_COMBOS ?? FULL_COMBOS);
const GRID_BIG_TICKS = Number(process.env.GRID_BIG_TICKS ?? 30_000_000);
const GRID_SERIES = process.env.GRID_SERIES === '1';
/** Workers of the parallel rows: the targets are for a 2-core machine. */
const WORKERS = 2;
const SAMPLE_SEED = 7;
const TARGET_SPEEDUP = 1.8;
const TARGET_BIG_SECONDS = 30;
const TARGET_BIG_TICKS = 30_000_000;

/** 20 RSI periods x 10 stops x 5 targets = 1,000 combinations. */
const GRID: Grid = {
  rsiPeriod: { from: 5, to: 24, step: 1 },
  slPips: { from: 10, to: 55, step: 5 },
  tpPips: [30, 40, 50, 60, 80],
};

const SERIES_COMMAND = ['cargo', 'run', '--release', '-p', 'tickforge-core', '--example', 'grid'] as const;

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new Error(`${name}=${value}: expected an integer >= ${min}`);
}

/**
 * The demo's EURUSD series (seed 7, step 8 points), generated with a few days to spare and cut to
 * exactly n ticks. The cut is a copy, so that the process holds n ticks and not the generated
 * surplus, and the memory figures refer to the data actually used.
 */
function ticksOf(n: number): TickData {
  // Roughly 96,000 ticks per weekday.
  const days = Math.ceil((n / 96_000) * (7 / 5)) + 3;
  const g = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days, seed: 7, stepPoints: 8 });
  if (g.time.length < n) throw new Error(`generated ${g.time.length} ticks, wanted ${n}`);
  return { symbol: 'EURUSD', time: g.time.slice(0, n), bid: g.bid.slice(0, n), ask: g.ask.slice(0, n) };
}

function bytesOf(t: TickData): number {
  return t.time.byteLength + t.bid.byteLength + t.ask.byteLength + (t.volume?.byteLength ?? 0);
}

interface RowSpec {
  name: string;
  engine: 'native' | 'js';
  parallelism: 'threads' | 'none';
}

interface Row {
  row: string;
  engine: 'native' | 'js';
  parallelism: string;
  workers: number;
  ticks: number;
  combinations: number;
  /** Wall time of the whole `optimize` call, including the re-run of the top 10 with full output. */
  seconds: number;
  /** `elapsedMs` as reported by `optimize` itself. */
  optimizeElapsedMs: number;
  combinationsPerSecond: number;
  tickCombinationsPerSecond: number;
  /** Trades summed over all combinations. */
  trades: number;
  /** This process's peak RSS since it started, read after the row. */
  maxRssAfterMiB: number;
  /** This process's RSS sampled every 20 ms during the row. */
  rowPeakRssMiB: number;
}

async function runRow(spec: RowSpec, ticks: TickData, sample: OptimizeOptions['sample']) {
  const n = ticks.time.length;
  const options: OptimizeOptions = {
    ticks,
    strategy: referenceStrategy,
    grid: GRID,
    sample,
    engine: spec.engine,
    parallelism: spec.parallelism,
    maxWorkers: spec.parallelism === 'none' ? undefined : WORKERS,
  };
  console.error(`optimize bench: ${spec.name}, ${n.toLocaleString('en-US')} ticks ...`);
  const stopSampling = rssSampler();
  const t0 = performance.now();
  const r = await optimize(options);
  const ms = performance.now() - t0;
  const rowPeak = stopSampling();

  checkRun(spec, WORKERS, r);

  const row: Row = {
    row: spec.name,
    engine: r.engine,
    parallelism: r.parallelism,
    workers: r.workers,
    ticks: n,
    combinations: r.total,
    seconds: ms / 1000,
    optimizeElapsedMs: r.elapsedMs,
    combinationsPerSecond: r.total / (ms / 1000),
    tickCombinationsPerSecond: (n * r.total) / (ms / 1000),
    trades: r.results.reduce((s, j) => s + (j.tradeCount ?? 0), 0),
    maxRssAfterMiB: maxRssMiB(),
    rowPeakRssMiB: rowPeak,
  };
  return { row, result: r };
}

/** One line of the grid example's output. */
export interface SeriesLine {
  workload: string;
  combinations: number;
  events: number;
  threads: number;
  sharedSeries: boolean;
  medianMs: number;
  bestMs: number;
  rounds: number;
  msPerJob: number;
  trades: number;
}

export interface SeriesGain {
  workload: string;
  threads: number;
  offMedianMs: number;
  onMedianMs: number;
  /** Median without sharing divided by median with sharing. */
  gain: number;
}

const LINE =
  /^\[(.+?)\] (\d+) combinations x (\d+) events, (\d+) thread\(s\), shared series (on|off)\s*: median ([\d.]+) ms, best ([\d.]+) ms of (\d+) \(([\d.]+) ms per job\), (\d+) trades in all$/;
const BUILD = /^\[(.+?)\] building the (\d+) shared series: median ([\d.]+) ms$/;

/** Reads the figures grid.rs prints (to stderr) and pairs shared on/off per workload and thread count. */
export function parseGridOutput(text: string) {
  const lines: SeriesLine[] = [];
  const builds: { workload: string; series: number; medianMs: number }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const s = raw.trim();
    const m = LINE.exec(s);
    if (m) {
      lines.push({
        workload: m[1] as string,
        combinations: Number(m[2]),
        events: Number(m[3]),
        threads: Number(m[4]),
        sharedSeries: m[5] === 'on',
        medianMs: Number(m[6]),
        bestMs: Number(m[7]),
        rounds: Number(m[8]),
        msPerJob: Number(m[9]),
        trades: Number(m[10]),
      });
      continue;
    }
    const b = BUILD.exec(s);
    if (b) builds.push({ workload: b[1] as string, series: Number(b[2]), medianMs: Number(b[3]) });
  }
  const gains: SeriesGain[] = [];
  for (const off of lines.filter((l) => !l.sharedSeries)) {
    const on = lines.find((l) => l.sharedSeries && l.workload === off.workload && l.threads === off.threads);
    if (on) {
      gains.push({
        workload: off.workload,
        threads: off.threads,
        offMedianMs: off.medianMs,
        onMedianMs: on.medianMs,
        gain: off.medianMs / on.medianMs,
      });
    }
  }
  return { lines, builds, gains };
}

/** Runs the Rust example, echoing its output, and returns what it printed to stderr. */
function runGridExample(): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = SERIES_COMMAND;
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      err += chunk;
      process.stderr.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(err);
      else reject(new Error(`${SERIES_COMMAND.join(' ')} exited with code ${code}`));
    });
  });
}

async function sharedSeries() {
  const source = {
    program: 'crates/core/examples/grid.rs',
    command: SERIES_COMMAND.join(' '),
    note:
      'optimize() always shares indicator series, so the gain is measured at the Rust level: the same ' +
      'grid with sharing on and off (its own 200-combination grid and data, see the file).',
  };
  if (!GRID_SERIES) {
    console.log(
      `\nShared indicator series: not measured in this run. The figure comes from \`${source.command}\` ` +
        `(${source.program}), run here with GRID_SERIES=1.`,
    );
    return { measured: false, ...source };
  }
  console.error(`optimize bench: ${source.command} ...`);
  const parsed = parseGridOutput(await runGridExample());
  if (parsed.gains.length === 0) throw new Error(`${source.command}: no figures found in its output`);
  console.log('\nShared indicator series (Rust example, median of its rounds), gain = off ÷ on:');
  console.table(
    parsed.gains.map((g) => ({
      workload: g.workload,
      threads: g.threads,
      'off ms': Math.round(g.offMedianMs),
      'on ms': Math.round(g.onMedianMs),
      gain: `${g.gain.toFixed(2)}x`,
    })),
  );
  return { measured: true, ...source, ...parsed };
}

export async function benchOptimize() {
  checkCount('GRID_TICKS', GRID_TICKS, 1);
  checkCount('GRID_COMBOS', GRID_COMBOS, 2);
  checkCount('GRID_BIG_TICKS', GRID_BIG_TICKS, 0);
  if (GRID_COMBOS > FULL_COMBOS) throw new Error(`GRID_COMBOS=${GRID_COMBOS}: the grid has ${FULL_COMBOS}`);
  const sample = GRID_COMBOS < FULL_COMBOS ? { count: GRID_COMBOS, seed: SAMPLE_SEED } : undefined;
  const full = GRID_COMBOS === FULL_COMBOS;
  const m = machine();

  // The four compared rows, in a function of their own so that their data can be collected before
  // the large row allocates its own.
  const compared = async () => {
    const ticks = ticksOf(GRID_TICKS);
    // The first native call on a data object copies its columns into Rust; do it outside the rows.
    const t0 = performance.now();
    backtestSync({ ticks, strategy: referenceStrategy, engine: 'native' });
    const firstNativeCallMs = performance.now() - t0;
    const specs: RowSpec[] = [
      { name: 'native, threads', engine: 'native', parallelism: 'threads' },
      { name: 'native, one thread', engine: 'native', parallelism: 'none' },
      { name: 'pure-TS, worker threads', engine: 'js', parallelism: 'threads' },
      { name: 'pure-TS, sequential', engine: 'js', parallelism: 'none' },
    ];
    const runs: Awaited<ReturnType<typeof runRow>>[] = [];
    for (const spec of specs) runs.push(await runRow(spec, ticks, sample));
    // Within an engine bit for bit; native against pure-TS as the contract states (see POW_METRICS).
    const pairs: [number, number][] = [
      [0, 1],
      [2, 3],
      [0, 2],
      [1, 3],
    ];
    const agreement = pairs.map(([i, j]) => {
      const a = runs[i];
      const b = runs[j];
      if (!a || !b) throw new Error('missing row');
      return assertSame(a.result, a.row.row, b.result, b.row.row);
    });
    return { rows: runs.map((r) => r.row), dataBytes: bytesOf(ticks), firstNativeCallMs, agreement };
  };
  const { rows, dataBytes, firstNativeCallMs, agreement } = await compared();
  const [nativeThreads, nativeOne, jsThreads, jsSeq] = rows as [Row, Row, Row, Row];

  const ratios = {
    nativeThreadsOverOneThread: nativeOne.seconds / nativeThreads.seconds,
    nativeOverPureTsThreads: jsThreads.seconds / nativeThreads.seconds,
    nativeOverPureTsSequential: jsSeq.seconds / nativeOne.seconds,
    pureTsThreadsOverSequential: jsSeq.seconds / jsThreads.seconds,
  };

  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const table = (rs: Row[]) =>
    rs.map((r) => ({
      row: r.row,
      workers: r.workers,
      ticks: fmt(r.ticks),
      combos: r.combinations,
      seconds: r.seconds.toFixed(2),
      'combos/s': r.combinationsPerSecond.toFixed(1),
      'ticks×combos/s': fmt(r.tickCombinationsPerSecond),
      'peak RSS MiB (row)': fmt(r.rowPeakRssMiB),
      'maxRSS MiB (so far)': fmt(r.maxRssAfterMiB),
    }));
  console.log(
    `\nOptimize: reference strategy, ${nativeThreads.combinations} combinations on ` +
      `${fmt(GRID_TICKS)} ticks (data ${fmt(dataBytes / MiB)} MiB), each row timed once ` +
      `(wall time of optimize()), ${m.cpu}, ${m.cores} cores.`,
  );
  const powDiffs = agreement.reduce((s, a) => s + a.withinPowTolerance, 0);
  const maxRel = Math.max(...agreement.map((a) => a.maxRelativeDifference));
  console.log(
    'Identical metrics in every row (Object.is per field)' +
      (powDiffs === 0
        ? '.'
        : `, except ${powDiffs} pow-based values (cagrPct, calmar) that differ between native and pure-TS ` +
          `by at most ${maxRel.toExponential(1)} relative, within the contract's ${POW_TOLERANCE}.`),
  );
  console.table(table(rows));
  console.log(
    `native threads ÷ native one thread: ${ratios.nativeThreadsOverOneThread.toFixed(2)}x ` +
      `(target >= ${TARGET_SPEEDUP}x on 2 cores; this machine has ${availableParallelism()})`,
  );
  console.log(`native ÷ pure-TS, threads: ${ratios.nativeOverPureTsThreads.toFixed(2)}x`);
  console.log(`native ÷ pure-TS, sequential: ${ratios.nativeOverPureTsSequential.toFixed(2)}x`);
  console.log(`pure-TS worker threads ÷ sequential: ${ratios.pureTsThreadsOverSequential.toFixed(2)}x`);
  console.log(
    `first native call (copies the ${fmt(dataBytes / MiB)} MiB into Rust once): ${fmt(firstNativeCallMs)} ms`,
  );

  let big: (Row & { dataBytes: number }) | undefined;
  if (GRID_BIG_TICKS > 0) {
    const ticks = ticksOf(GRID_BIG_TICKS);
    const t0 = performance.now();
    backtestSync({ ticks, strategy: referenceStrategy, engine: 'native' });
    const copyMs = performance.now() - t0;
    const { row } = await runRow(
      { name: 'native, threads (large)', engine: 'native', parallelism: 'threads' },
      ticks,
      sample,
    );
    big = { ...row, dataBytes: bytesOf(ticks) };
    console.log(
      `\nLarge grid target: ${row.combinations} combinations over ${fmt(row.ticks)} ticks with native threads: ` +
        `${row.seconds.toFixed(2)} s (target <= ${TARGET_BIG_SECONDS} s for ${FULL_COMBOS} combinations over ` +
        `${fmt(TARGET_BIG_TICKS)} ticks; first native call ${fmt(copyMs)} ms, not included)`,
    );
    console.table(table([row]));
  }

  const applies = full && m.cores === 2;
  const targets = {
    threadsSpeedup: {
      target: TARGET_SPEEDUP,
      measured: ratios.nativeThreadsOverOneThread,
      met: ratios.nativeThreadsOverOneThread >= TARGET_SPEEDUP,
      note: applies
        ? 'full grid on a 2-core machine'
        : `indicative only: the target is for ${FULL_COMBOS} combinations on a 2-core machine`,
    },
    largeGrid: big
      ? {
          targetSeconds: TARGET_BIG_SECONDS,
          seconds: big.seconds,
          ticks: big.ticks,
          combinations: big.combinations,
          met:
            big.ticks === TARGET_BIG_TICKS && big.combinations === FULL_COMBOS
              ? big.seconds <= TARGET_BIG_SECONDS
              : null,
          note:
            big.ticks === TARGET_BIG_TICKS && big.combinations === FULL_COMBOS
              ? 'full size'
              : 'not the target size: met is null',
        }
      : { skipped: true, note: 'GRID_BIG_TICKS=0' },
  };

  const series = await sharedSeries();

  const report = {
    benchmark: 'optimize',
    machine: m,
    config: {
      strategy: referenceStrategy.name,
      grid: GRID,
      gridSize: FULL_COMBOS,
      combinations: nativeThreads.combinations,
      sample: sample ?? null,
      ticks: GRID_TICKS,
      bigTicks: GRID_BIG_TICKS,
      maxWorkers: WORKERS,
      data: { symbol: 'EURUSD', start: '2024-01-01', seed: 7, stepPoints: 8 },
      timing:
        'each row timed once: wall time of the whole optimize() call, which includes re-running the top 10 ' +
        'with full output; the first native call on each data object (copying it into Rust) is made before',
    },
    rows,
    agreement,
    ratios,
    firstNativeCallMs,
    large: big ?? null,
    targets,
    memory: {
      dataBytes,
      largeDataBytes: big?.dataBytes ?? null,
      units: 'MiB; maxRSS from process.resourceUsage() (KiB) converted',
      notes: [
        'maxRssAfterMiB is the process peak since it started, so it never decreases from row to row; ' +
          'rowPeakRssMiB samples the RSS every 20 ms during a row.',
        "Worker threads (the pure-TS threads row, each holding its own copy of the data) count in this process's RSS.",
        "Child processes (parallelism 'processes', not measured here) would not: their memory is separate.",
        'The native engine holds one copy of the data in Rust shared by all its threads; it counts in this RSS.',
      ],
    },
    sharedSeries: series,
  };
  writeResult('optimize', report);
  return report;
}
