/** Public entry points of the market data loaders (docs/data.md). */

import { extname } from 'node:path';
import { ValidationError } from '../../errors.js';
import type { BarData, TickData, Timeframe } from '../../types.js';
import { cachePath, fingerprint, readCache, type SourceStamp, stamp, writeCache } from './cache.js';
import type { Kind } from './collector.js';
import { arrowFromBytes, loadArrow, loadArrowSync, loadParquet } from './columnar.js';
import type { CsvFormat } from './csv.js';
import { fromNative, nativeLoader, selectLoadEngine } from './native.js';
import { type Resolved, resolveOptions, resultOptionsJson } from './options.js';
import { type ChunkSource, parseCsv, parseCsvStream, parseCsvSync } from './read.js';
import type { Loaded } from './report.js';
import type { BarLoadOptions, LoadedBars, LoadedTicks, LoadFormat, LoadSource, TickLoadOptions } from './types.js';

export type {
  BarColumns,
  BarLoadOptions,
  ColumnRef,
  LoadedBars,
  LoadedTicks,
  LoadFormat,
  LoadOptions,
  LoadPolicy,
  LoadReport,
  LoadSource,
  SkippedRow,
  TickColumns,
  TickLoadOptions,
  TimeFormat,
} from './types.js';
export { cachePath };

/** The format after the extension rule of `auto`. */
function byExtension(file: string, format: LoadFormat): LoadFormat {
  if (format !== 'auto') return format;
  const ext = extname(file).toLowerCase();
  if (ext === '.arrow' || ext === '.feather' || ext === '.arrows') return 'arrow';
  if (ext === '.parquet') return 'parquet';
  return 'auto';
}

function checkPath(file: unknown): asserts file is string {
  if (typeof file !== 'string' || file.length === 0) throw ValidationError.at('path', 'expected a file path');
}

function build(kind: Kind, opts: Resolved, loaded: Loaded): LoadedTicks | LoadedBars {
  const c = loaded.columns;
  const report = loaded.report;
  if (kind === 'ticks') {
    const out: TickData = { time: c.time as Float64Array, bid: c.bid as Float64Array, ask: c.ask as Float64Array };
    if (opts.symbol !== undefined) out.symbol = opts.symbol;
    if (c.volume !== undefined) out.volume = c.volume;
    return { ...out, report };
  }
  const out: BarData = {
    timeframe: report.timeframe as Timeframe,
    time: c.time as Float64Array,
    open: c.open as Float64Array,
    high: c.high as Float64Array,
    low: c.low as Float64Array,
    close: c.close as Float64Array,
    volume: c.volume as Float64Array,
  };
  if (opts.symbol !== undefined) out.symbol = opts.symbol;
  return { ...out, report };
}

interface CsvPlan {
  format: CsvFormat | 'auto';
  engine: 'native' | 'js';
  optionsJson: string;
  fp: string;
  src: SourceStamp | null;
}

function planCsv(file: string, opts: Resolved, format: LoadFormat): CsvPlan {
  const engine = selectLoadEngine(opts.engine);
  const optionsJson = resultOptionsJson(opts, format);
  const src = opts.cache ? stamp(file) : null;
  return { format: format as CsvFormat | 'auto', engine, optionsJson, fp: fingerprint(optionsJson), src };
}

function cached(file: string, plan: CsvPlan, t0: number): Loaded | null {
  if (plan.src === null) return null;
  const hit = readCache(file, plan.src, plan.fp);
  if (hit === null) return null;
  // The report is the original load's (its `engine` is the parser that made the columns), for the
  // path as given this time.
  hit.report = { ...hit.report, path: file, fromCache: true, elapsedMs: performance.now() - t0 };
  return hit;
}

function done(file: string, plan: CsvPlan, loaded: Loaded, t0: number): Loaded {
  loaded.report.engine = plan.engine;
  loaded.report.fromCache = false;
  loaded.report.elapsedMs = performance.now() - t0;
  if (plan.src !== null) writeCache(file, plan.src, plan.fp, loaded);
  return loaded;
}

function isChunkSource(v: unknown): v is ChunkSource {
  return typeof v === 'object' && v !== null && typeof (v as ChunkSource)[Symbol.asyncIterator] === 'function';
}

const ARROW_FILE = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const PARQUET = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

/** All of a stream's bytes (Arrow and Parquet need the whole file). */
async function gather(name: string, first: Uint8Array, rest: AsyncIterator<Buffer | Uint8Array | string>) {
  const parts: Buffer[] = [Buffer.from(first)];
  try {
    for (let r = await rest.next(); !r.done; r = await rest.next()) {
      parts.push(typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : Buffer.from(r.value));
    }
  } catch (e) {
    throw ValidationError.at(name, `cannot read the stream: ${e instanceof Error ? e.message : String(e)}`);
  }
  return Buffer.concat(parts);
}

/**
 * A stream: the format is the option, else Arrow or Parquet by their magic bytes, else CSV detected
 * from the first line; parsed by the TypeScript parser, never cached.
 */
async function loadStream(source: ChunkSource, opts: Resolved, t0: number): Promise<Loaded> {
  const name = opts.name;
  const it = source[Symbol.asyncIterator]();
  let first: Uint8Array = new Uint8Array(0);
  try {
    const r = await it.next();
    if (!r.done) first = typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : r.value;
  } catch (e) {
    throw ValidationError.at(name, `cannot read the stream: ${e instanceof Error ? e.message : String(e)}`);
  }
  let format = opts.format;
  if (format === 'auto' && startsWith(first, ARROW_FILE)) format = 'arrow';
  if (format === 'auto' && first.length >= 4 && first[0] === 0xff && first[1] === 0xff) format = 'arrow';
  if (format === 'auto' && startsWith(first, PARQUET)) format = 'parquet';
  let loaded: Loaded;
  if (format === 'arrow') loaded = arrowFromBytes(name, await gather(name, first, it), opts);
  else if (format === 'parquet') loaded = await loadParquet(name, opts, await gather(name, first, it));
  else {
    const rest: ChunkSource = { [Symbol.asyncIterator]: () => it };
    loaded = await parseCsvStream(name, rest, opts, format as CsvFormat | 'auto', first);
    loaded.report.engine = 'js';
  }
  loaded.report.fromCache = false;
  loaded.report.elapsedMs = performance.now() - t0;
  return loaded;
}

async function load(kind: Kind, file: unknown, options: unknown): Promise<LoadedTicks | LoadedBars> {
  const t0 = performance.now();
  const opts = resolveOptions(kind, options);
  if (isChunkSource(file)) return build(kind, opts, await loadStream(file, opts, t0));
  checkPath(file);
  const format = byExtension(file, opts.format);
  if (format === 'arrow' || format === 'parquet') {
    const loaded = format === 'arrow' ? await loadArrow(file, opts) : await loadParquet(file, opts);
    loaded.report.elapsedMs = performance.now() - t0;
    return build(kind, opts, loaded);
  }
  const plan = planCsv(file, opts, format);
  const hit = cached(file, plan, t0);
  if (hit) return build(kind, opts, hit);
  const loaded =
    plan.engine === 'native'
      ? fromNative(
          file,
          await (nativeLoader() as NonNullable<ReturnType<typeof nativeLoader>>).loadCsv(file, plan.optionsJson),
        )
      : await parseCsv(file, opts, plan.format);
  return build(kind, opts, done(file, plan, loaded, t0));
}

function loadSync(kind: Kind, file: unknown, options: unknown): LoadedTicks | LoadedBars {
  const t0 = performance.now();
  const opts = resolveOptions(kind, options);
  checkPath(file);
  const format = byExtension(file, opts.format);
  if (format === 'parquet') {
    throw ValidationError.at('format', 'Parquet files load only asynchronously (use loadTicks or loadBars)');
  }
  if (format === 'arrow') {
    const loaded = loadArrowSync(file, opts);
    loaded.report.elapsedMs = performance.now() - t0;
    return build(kind, opts, loaded);
  }
  const plan = planCsv(file, opts, format);
  const hit = cached(file, plan, t0);
  if (hit) return build(kind, opts, hit);
  const loaded =
    plan.engine === 'native'
      ? fromNative(
          file,
          (nativeLoader() as NonNullable<ReturnType<typeof nativeLoader>>).loadCsvSync(file, plan.optionsJson),
        )
      : parseCsvSync(file, opts, plan.format);
  return build(kind, opts, done(file, plan, loaded, t0));
}

/**
 * Reads a tick file (a path) or stream into columns with a report; throws a ValidationError on bad
 * options or rows.
 */
export async function loadTicks(source: LoadSource, options: TickLoadOptions = {}): Promise<LoadedTicks> {
  return (await load('ticks', source, options)) as LoadedTicks;
}

/** Reads a bar file (a path) or stream into columns with a report; throws a ValidationError on bad options or rows. */
export async function loadBars(source: LoadSource, options: BarLoadOptions = {}): Promise<LoadedBars> {
  return (await load('bars', source, options)) as LoadedBars;
}

/** As loadTicks, synchronously (no Parquet). */
export function loadTicksSync(path: string, options: TickLoadOptions = {}): LoadedTicks {
  return loadSync('ticks', path, options) as LoadedTicks;
}

/** As loadBars, synchronously (no Parquet). */
export function loadBarsSync(path: string, options: BarLoadOptions = {}): LoadedBars {
  return loadSync('bars', path, options) as LoadedBars;
}
