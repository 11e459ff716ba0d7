/**
 * Fifty symphony files over ten years of daily bars (2,520 days) for twenty tickers: the native
 * engine against the pure-TypeScript engine, all cores against one, side by side in one process.
 * Prints a table and writes benchmark/results/symphony.json.
 *
 *   BENCH=symphony npm run bench
 *   SYMPHONY_FILES=20 SYMPHONY_DAYS=1260 BENCH=symphony npm run bench   (quicker)
 */
import { availableParallelism } from 'node:os';
import { Bench } from 'tinybench';
import { compile } from '../src/dsl/index.js';
import { generateDaily, resolveSymphony, runSymphonies, type SymphonyBook, type SymphonyIR } from '../src/index.js';
import { configJson, nativeSymphony, toNativeDaily } from '../src/symphony/native.js';
import { buildSymphonyConfig } from '../src/symphony/run.js';
import { machine, writeResult } from './common.js';
import { BENCH_TICKERS, benchSymphonyFiles } from './symphony-files.js';

const FILES = Number(process.env.SYMPHONY_FILES ?? 50);
const DAYS = Number(process.env.SYMPHONY_DAYS ?? 2520);

interface Mode {
  name: string;
  engine: 'native' | 'js';
  parallelism: 'none' | 'threads';
}

function sameWeights(a: SymphonyBook, b: SymphonyBook): boolean {
  return a.files.every((f, i) => {
    const g = b.files[i];
    const x = f.output?.weights;
    const y = g?.output?.weights;
    return x !== undefined && y !== undefined && x.length === y.length && x.every((v, k) => Object.is(v, y[k]));
  });
}

export async function benchSymphony() {
  const cores = availableParallelism();
  const data = generateDaily([...BENCH_TICKERS], { days: DAYS, seed: 11 });
  const sources = benchSymphonyFiles(FILES);

  const c0 = performance.now();
  const irs: SymphonyIR[] = sources.map((f) => {
    const r = compile(f.source, { file: f.path, tickers: BENCH_TICKERS });
    if (r.kind !== 'symphony') throw new Error(`${f.path} is not a symphony`);
    return r.ir;
  });
  const compileMs = performance.now() - c0;

  const modes: Mode[] = [
    { name: `native, ${cores} threads`, engine: 'native', parallelism: 'threads' },
    { name: 'native, 1 thread', engine: 'native', parallelism: 'none' },
    { name: `pure-TS, ${cores} worker threads`, engine: 'js', parallelism: 'threads' },
    { name: 'pure-TS, sequential', engine: 'js', parallelism: 'none' },
  ];
  const run = (m: Mode) =>
    runSymphonies(irs, data, {
      engine: m.engine,
      parallelism: m.parallelism,
      maxWorkers: m.parallelism === 'none' ? 1 : cores,
    });

  // Every mode must give the same allocations before any of them is timed.
  const reference = await run(modes[0] as Mode);
  const failed = reference.files.filter((f) => f.status !== 'ok');
  if (failed.length > 0) throw new Error(`${failed.length} bench files failed: ${failed[0]?.error?.message}`);
  for (const m of modes.slice(1)) {
    if (!sameWeights(reference, await run(m))) throw new Error(`${m.name}: allocations differ from ${modes[0]?.name}`);
  }

  const bench = new Bench({ iterations: 15, warmupIterations: 3, time: 0 });
  for (const m of modes) bench.add(m.name, async () => void (await run(m)));
  // The binding's call alone (resolved IR in, typed arrays out): what the API adds is the rest.
  const binding = nativeSymphony();
  if (binding) {
    const handle = toNativeDaily(binding, data);
    const jobs = irs.map((ir) => JSON.stringify(resolveSymphony(ir)));
    const configs = [configJson(buildSymphonyConfig())];
    bench.add(`native engine call only, ${cores} threads`, () => {
      binding.runSymphoniesSync(handle, jobs, configs, { threads: cores });
    });
    bench.add('native engine call only, 1 thread', () => {
      binding.runSymphoniesSync(handle, jobs, configs, { threads: 1 });
    });
  }
  await bench.run();
  const p50 = (i: number) => bench.tasks[i]?.result?.latency.p50 ?? Number.NaN;
  const results = bench.tasks.map((t, i) => ({
    mode: t.name,
    engine: modes[i]?.engine ?? 'native',
    parallelism: modes[i]?.parallelism ?? (i === modes.length ? 'threads' : 'none'),
    medianMs: p50(i),
    fileDaysPerSecond: (FILES * DAYS) / (p50(i) / 1000),
  }));
  const ratios = {
    nativeVsJsParallel: p50(2) / p50(0),
    nativeVsJsSequential: p50(3) / p50(1),
    nativeThreadsVsOneThread: p50(1) / p50(0),
    jsThreadsVsSequential: p50(3) / p50(2),
    engineCallThreadsVsOneThread: binding ? p50(5) / p50(4) : Number.NaN,
  };

  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(
    `\nSymphonies: ${FILES} files x ${DAYS} days x ${BENCH_TICKERS.length} tickers, median of 15 runs, ${machine().cpu}`,
  );
  console.table(
    results.map((r) => ({
      mode: r.mode,
      'median ms': r.medianMs.toFixed(1),
      'file-days /s': fmt(r.fileDaysPerSecond),
    })),
  );
  console.log(
    `native ÷ pure-TS: ${ratios.nativeVsJsSequential.toFixed(2)}x sequential, ${ratios.nativeVsJsParallel.toFixed(2)}x parallel; ` +
      `native ${cores} threads ÷ 1 thread: ${ratios.nativeThreadsVsOneThread.toFixed(2)}x (engine call only: ` +
      `${ratios.engineCallThreadsVsOneThread.toFixed(2)}x); compiling ${FILES} files: ${compileMs.toFixed(1)} ms`,
  );
  const report = {
    benchmark: 'symphony',
    machine: machine(),
    files: FILES,
    days: DAYS,
    tickers: BENCH_TICKERS.length,
    compileMs,
    results,
    ratios,
  };
  writeResult('symphony', report);
  return report;
}
