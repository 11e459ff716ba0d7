/**
 * Market data loading throughput (docs/data.md): the same ticks as a Dukascopy CSV file read by
 * the native parser and by the pure-TypeScript parser, as Arrow IPC, as Parquet, and from the
 * `.tfcache` beside the CSV. The files are generated once in os.tmpdir() and reused. Prints a
 * table of rows/s and writes benchmark/results/load.json.
 *
 *   BENCH=load npm run bench                     (2M rows)
 *   BENCH=load LOAD_ROWS=200000 npm run bench    (smaller and quicker)
 */
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { type LoadedTicks, loadTicks, type TickLoadOptions } from '../src/data/load/index.js';
import { generateTicks, type TickData } from '../src/index.js';
import { machine, writeResult } from './common.js';

const ROWS = Number(process.env.LOAD_ROWS ?? 2_000_000);

function ticksOf(n: number): TickData {
  const days = Math.ceil((n / 96_000) * (7 / 5)) + 3;
  const t = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days, seed: 7, stepPoints: 8 });
  if (t.time.length < n) throw new Error(`generated ${t.time.length} ticks, wanted ${n}`);
  return { symbol: 'EURUSD', time: t.time.subarray(0, n), bid: t.bid.subarray(0, n), ask: t.ask.subarray(0, n) };
}

/** Seeded volumes in lots with two decimals, as Dukascopy exports them. */
function volumes(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    out[i] = (1 + (s % 400)) / 100;
  }
  return out;
}

/** Writes through a temporary name, so an interrupted run leaves no half file to be reused. */
function writeOnce(path: string, make: () => Uint8Array | string): void {
  if (existsSync(path)) return;
  const tmp = `${path}.partial`;
  writeFileSync(tmp, make());
  renameSync(tmp, path);
}

function dukascopyCsv(t: TickData, askVol: Float64Array, bidVol: Float64Array): string {
  const lines = ['timestamp,askPrice,bidPrice,askVolume,bidVolume'];
  for (let i = 0; i < t.time.length; i++) {
    lines.push(
      `${t.time[i]},${(t.ask[i] as number).toFixed(5)},${(t.bid[i] as number).toFixed(5)},${(askVol[i] as number).toFixed(2)},${(bidVol[i] as number).toFixed(2)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The CSV's values as parsed (prices rounded to 5 decimals), so every file holds the same data. */
function rounded(t: TickData, askVol: Float64Array, bidVol: Float64Array) {
  const r = (xs: Float64Array, d: number) => Float64Array.from(xs, (x) => Number(x.toFixed(d)));
  const a = r(askVol, 2);
  const b = r(bidVol, 2);
  return {
    time: Float64Array.from(t.time),
    bid: r(t.bid, 5),
    ask: r(t.ask, 5),
    volume: Float64Array.from(a, (x, i) => x + (b[i] as number)),
  };
}

type Columns = ReturnType<typeof rounded>;

async function writeArrow(path: string, c: Columns): Promise<boolean> {
  let arrow: typeof import('apache-arrow');
  try {
    arrow = await import('apache-arrow');
  } catch {
    console.log('apache-arrow is not installed: skipping the Arrow path');
    return false;
  }
  writeOnce(path, () => arrow.tableToIPC(arrow.tableFromArrays(c), 'file'));
  return true;
}

async function writeParquet(path: string, c: Columns): Promise<boolean> {
  let writer: typeof import('hyparquet-writer');
  try {
    writer = await import('hyparquet-writer');
  } catch {
    console.log('hyparquet-writer is not installed: skipping the Parquet path');
    return false;
  }
  writeOnce(
    path,
    () =>
      new Uint8Array(
        writer.parquetWriteBuffer({
          columnData: Object.entries(c).map(([name, data]) => ({ name, data: Array.from(data), type: 'DOUBLE' })),
        }),
      ),
  );
  return true;
}

interface Path {
  name: string;
  file: string;
  options: TickLoadOptions;
}

function sameColumns(a: LoadedTicks, b: LoadedTicks): boolean {
  const eq = (x: Float64Array | undefined, y: Float64Array | undefined) =>
    x !== undefined && y !== undefined && x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.time, b.time) && eq(a.bid, b.bid) && eq(a.ask, b.ask) && eq(a.volume, b.volume);
}

export async function benchLoad() {
  const dir = tmpdir();
  const stem = join(dir, `tickforge-load-bench-${ROWS}`);
  const csv = `${stem}.csv`;
  const arrowFile = `${stem}.arrow`;
  const parquetFile = `${stem}.parquet`;
  const t0 = performance.now();
  const need = [csv, arrowFile, parquetFile].some((f) => !existsSync(f));
  if (need) {
    const ticks = ticksOf(ROWS);
    const askVol = volumes(ROWS, 1);
    const bidVol = volumes(ROWS, 2);
    writeOnce(csv, () => dukascopyCsv(ticks, askVol, bidVol));
    const c = rounded(ticks, askVol, bidVol);
    await writeArrow(arrowFile, c);
    await writeParquet(parquetFile, c);
    console.log(
      `generated the ${ROWS.toLocaleString('en-US')}-row files in ${dir} (${(performance.now() - t0).toFixed(0)} ms)`,
    );
  }

  const paths: Path[] = [
    { name: 'Dukascopy CSV, native parser', file: csv, options: { engine: 'native', cache: false } },
    { name: 'Dukascopy CSV, pure-TS parser', file: csv, options: { engine: 'js', cache: false } },
  ];
  if (existsSync(arrowFile)) paths.push({ name: 'Arrow IPC', file: arrowFile, options: { cache: false } });
  else console.log('no Arrow file: skipping the Arrow path');
  if (existsSync(parquetFile)) paths.push({ name: 'Parquet', file: parquetFile, options: { cache: false } });
  else console.log('no Parquet file: skipping the Parquet path');

  // The cache path reads `FILE.tfcache`, written by one load with the cache on.
  rmSync(`${csv}.tfcache`, { force: true });
  const cacheHit: Path = { name: 'cache hit (.tfcache)', file: csv, options: { cache: true } };
  try {
    await loadTicks(csv, { cache: true });
    paths.push(cacheHit);
  } catch (e) {
    console.log(`skipping ${cacheHit.name}: writing the cache failed: ${(e as Error).message.split('\n')[0]}`);
  }

  // Every path must give the same columns as the native parser before it is timed; a path that
  // fails or disagrees is left out, with a printed note and an entry in the report.
  const reference = await loadTicks(csv, { engine: 'native', cache: false });
  if (reference.report.rows !== ROWS) throw new Error(`native parser kept ${reference.report.rows} of ${ROWS} rows`);
  const skipped: { path: string; reason: string }[] = [];
  const timed: Path[] = [];
  for (const p of paths) {
    let reason: string | undefined;
    try {
      const got = await loadTicks(p.file, p.options);
      if (!sameColumns(reference, got)) reason = "columns differ from the native parser's";
      else if (p.options.cache === true && !got.report.fromCache) reason = 'the cache was not used';
    } catch (e) {
      reason = `the load failed: ${(e as Error).message.split('\n')[0]}`;
    }
    if (reason === undefined) timed.push(p);
    else {
      console.log(`skipping ${p.name}: ${reason}`);
      skipped.push({ path: p.name, reason });
    }
  }

  const engines: Record<string, string> = {};
  const bench = new Bench({ iterations: 5, warmupIterations: 1, time: 0 });
  for (const p of timed) {
    bench.add(p.name, async () => {
      const r = await loadTicks(p.file, p.options);
      engines[p.name] = r.report.fromCache ? 'cache' : r.report.engine;
    });
  }
  await bench.run();

  const results = timed.map((p, i) => {
    const ms = bench.tasks[i]?.result?.latency.p50 ?? Number.NaN;
    return {
      path: p.name,
      engine: engines[p.name] ?? 'n/a',
      rows: ROWS,
      fileMiB: statSync(p.options.cache === true ? `${p.file}.tfcache` : p.file).size / 2 ** 20,
      medianMs: ms,
      rowsPerSecond: ROWS / (ms / 1000),
    };
  });
  const native = results.find((r) => r.engine === 'native' && r.path.includes('CSV'))?.medianMs ?? Number.NaN;
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const info = machine();
  console.log(`\nLoading ${fmt(ROWS)} ticks, median of 5 loads (whole call), ${info.cpu}`);
  console.table(
    results.map((r) => ({
      path: r.path,
      engine: r.engine,
      'file MiB': r.fileMiB.toFixed(1),
      'median ms': r.medianMs.toFixed(0),
      'rows/s': fmt(r.rowsPerSecond),
      'vs native CSV': `${(native / r.medianMs).toFixed(2)}x`,
    })),
  );
  const report = {
    benchmark: 'load',
    machine: info,
    rows: ROWS,
    files: { csv, arrow: arrowFile, parquet: parquetFile },
    results,
    skipped,
  };
  writeResult('load', report);
  return report;
}
