/**
 * `tickforge inspect FILE`: loads a market data file with `policy: 'skip'` and no cache and prints
 * what the loader found (format, engine, rows kept and skipped, time range, spread or timeframe,
 * gaps). Exit code 1 when any row had a problem, 0 otherwise; a file that cannot be read or
 * recognised is a ValidationError, which `main` reports with exit code 2.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { BacktestOptions } from '../backtest.js';
import { type LoadReport, loadBars, loadTicks } from '../data/load/index.js';
import { loadStrategyFile } from '../dsl/strategy-file.js';
import { ValidationError } from '../errors.js';
import { PRESETS, preset } from '../instruments.js';

type Kind = 'ticks' | 'bars';
type Format = 'auto' | 'dukascopy' | 'histdata' | 'mt5' | 'csv' | 'arrow' | 'parquet';

const FORMATS: readonly Format[] = ['auto', 'dukascopy', 'histdata', 'mt5', 'csv', 'arrow', 'parquet'];

function formatOption(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`format must be one of ${FORMATS.join(', ')}`);
  }
  return value as Format;
}

function kindOption(value: string): Kind {
  if (value !== 'ticks' && value !== 'bars') throw new InvalidArgumentError('kind must be ticks or bars');
  return value;
}

/** The preset symbol named in a file's base name (`EURUSD_ticks_2024.csv` → `EURUSD`), if any. */
export function symbolFromPath(path: string): string | undefined {
  const name = basename(path).toUpperCase();
  return Object.keys(PRESETS)
    .filter((s) => name.includes(s))
    .sort((a, b) => b.length - a.length)[0];
}

const BINARY_EXTENSIONS = new Set(['.arrow', '.feather', '.arrows', '.parquet']);

/** The first line of a text file (at most 64 KiB read), or undefined when it cannot be read. */
function firstLine(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(65_536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf
      .subarray(0, n)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    return text.split(/\r?\n/).find((l) => l.trim() !== '');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Ticks or bars, decided from a CSV-like file's first line: bars when it names an `open` column
 * (`open`, `<OPEN>`), ticks otherwise. Arrow and Parquet files are tried as ticks first.
 */
function guessKind(path: string): Kind | undefined {
  if (BINARY_EXTENSIONS.has(extname(path).toLowerCase())) return undefined;
  const line = firstLine(path);
  if (line === undefined) return 'ticks';
  const fields = line.split(/[,;\t]/).map((f) => f.trim().replace(/^"|"$/g, '').toLowerCase());
  return fields.includes('open') || fields.includes('<open>') ? 'bars' : 'ticks';
}

export interface InspectOptions {
  format?: Format;
  kind?: Kind;
  timezone?: string;
  symbol?: string;
}

export interface Inspection {
  report: LoadReport;
  symbol?: string;
  pipSize?: number;
  spreadPips?: { min: number; mean: number; max: number };
}

/** Loads `path` as `tickforge inspect` does and returns the loader's report with the pip figures. */
export async function inspectFile(path: string, opts: InspectOptions = {}): Promise<Inspection> {
  const symbol = opts.symbol?.toUpperCase() ?? symbolFromPath(path);
  const options = {
    format: opts.format ?? 'auto',
    policy: 'skip' as const,
    cache: false,
    ...(opts.timezone !== undefined ? { timezone: opts.timezone } : {}),
    ...(symbol !== undefined ? { symbol } : {}),
  };
  const kind = opts.kind ?? guessKind(path);
  let report: LoadReport;
  if (kind === 'bars') report = (await loadBars(path, options)).report;
  else if (kind === 'ticks') report = (await loadTicks(path, options)).report;
  else {
    try {
      report = (await loadTicks(path, options)).report;
    } catch (ticksError) {
      try {
        report = (await loadBars(path, options)).report;
      } catch {
        throw ticksError;
      }
    }
  }
  const pipSize = symbol !== undefined ? preset(symbol)?.pipSize : undefined;
  const s = report.spread;
  return {
    report,
    ...(symbol !== undefined ? { symbol } : {}),
    ...(pipSize !== undefined ? { pipSize } : {}),
    ...(s && pipSize !== undefined
      ? { spreadPips: { min: s.min / pipSize, mean: s.mean / pipSize, max: s.max / pipSize } }
      : {}),
  };
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function iso(ms: number | null): string {
  return ms === null || !Number.isFinite(ms) ? 'n/a' : new Date(ms).toISOString();
}

/** A duration in the largest fitting unit: `850 ms`, `42.0 s`, `15.0 min`, `3.5 h`, `2.1 d`. */
function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${int.format(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (abs < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (abs < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** Enough significant digits for a price difference, without float noise. */
function price(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : 'n/a';
}

function rows(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/** The human report of `tickforge inspect`. */
export function formatInspection(x: Inspection): string {
  const r = x.report;
  const pairs: [string, string][] = [
    ['Format', `${r.format} (${r.kind})`],
    ['Engine', `${r.engine}${r.fromCache ? ', from cache' : ''}, ${r.elapsedMs.toFixed(1)} ms`],
    ['Rows read', int.format(r.rowsRead)],
    ['Rows kept', int.format(r.rows)],
  ];
  const reasons = Object.entries(r.skipped.byReason)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${int.format(n)}`);
  pairs.push(['Rows skipped', `${int.format(r.skipped.total)}${reasons.length ? ` (${reasons.join(', ')})` : ''}`]);
  if (r.incomplete > 0 || r.format === 'mt5') {
    pairs.push(['Incomplete (MT5)', `${int.format(r.incomplete)} (before both bid and ask were known; dropped)`]);
  }
  pairs.push(['From', iso(r.first)], ['To', iso(r.last)]);
  if (r.first !== null && r.last !== null) pairs.push(['Span', duration(r.last - r.first)]);
  if (r.kind === 'bars' && r.timeframe !== undefined) pairs.push(['Timeframe', r.timeframe]);
  if (r.spread) {
    const s = r.spread;
    const inPips = x.spreadPips
      ? ` (${x.spreadPips.min.toFixed(2)} / ${x.spreadPips.mean.toFixed(2)} / ${x.spreadPips.max.toFixed(2)} pips, ${x.symbol})`
      : '';
    pairs.push(['Spread min/mean/max', `${price(s.min)} / ${price(s.mean)} / ${price(s.max)}${inPips}`]);
  }
  const g = r.gaps;
  pairs.push([
    'Gaps',
    g.count === 0
      ? `none over ${duration(g.thresholdMs)}`
      : `${int.format(g.count)} over ${duration(g.thresholdMs)}, largest ${duration(g.largestMs)} ending ${iso(g.largestAt)}`,
  ]);
  const lines = [`tickforge inspect ${r.path}`, '', rows(pairs)];
  if (r.skipped.first.length > 0) {
    lines.push('', `First problems (row: line number in the file):`);
    for (const p of r.skipped.first) lines.push(`  row ${p.row}: ${p.reason}: ${p.message}`);
    if (r.skipped.total > r.skipped.first.length) {
      lines.push(`  ... ${int.format(r.skipped.total - r.skipped.first.length)} more`);
    }
  }
  return lines.join('\n');
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description(
      'load a market data file (CSV, Dukascopy, HistData, MT5, Arrow, Parquet) and report its format, rows, bad rows, time range, spread or timeframe, and gaps; exit code 1 when any row had a problem',
    )
    .argument('<file>', 'the data file')
    .option('--format <format>', `${FORMATS.join(', ')} (default auto)`, formatOption)
    .option('--kind <kind>', 'ticks or bars (default: bars when the header names an open column)', kindOption)
    .option('--timezone <tz>', "the file's timezone: UTC, EST, +02:00, ... (default UTC; HistData EST)")
    .option('--symbol <symbol>', 'the symbol, for the spread in pips (default: a known symbol in the file name)')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: InspectOptions & { json?: boolean }) => {
      let x: Inspection;
      try {
        x = await inspectFile(file, opts);
      } catch (e) {
        // Exit code 1 means bad rows; any failure to read the file at all is reported as bad input (2).
        if (e instanceof ValidationError) throw e;
        throw ValidationError.at(file, `cannot inspect the file: ${(e as Error).message}`);
      }
      if (opts.json) {
        const out = {
          ...x.report,
          ...(x.symbol !== undefined ? { symbol: x.symbol } : {}),
          ...(x.spreadPips ? { spreadPips: x.spreadPips } : {}),
        };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else {
        process.stdout.write(`${formatInspection(x)}\n`);
      }
      // A file with bad rows, or with no usable row at all, is not fit to run as it is.
      if (x.report.skipped.total > 0 || x.report.rows === 0) process.exitCode = 1;
      if (x.report.rows === 0 && !opts.json) process.stderr.write(`${file}: no data rows to use\n`);
    });
}

/**
 * What `tickforge run STRATEGY --ticks FILE` (or `--bars FILE`) runs: the strategy (IR JSON or
 * `.clj`) on the data file, loaded with `policy: 'error'`, on a 10,000 balance. The symbol is the
 * strategy's, else a known symbol in the file name. Parquet works here: the loader is the async one.
 */
export async function dataFileRun(
  strategyFile: string,
  opts: { ticks?: string; bars?: string; format?: string; strategy?: string; scenario?: string },
): Promise<{ scenario: BacktestOptions; market: string }> {
  if (opts.ticks !== undefined && opts.bars !== undefined) {
    throw ValidationError.at('--ticks', 'give one of --ticks and --bars');
  }
  if (opts.strategy !== undefined || opts.scenario !== undefined) {
    throw ValidationError.at(
      opts.strategy !== undefined ? '--strategy' : '--scenario',
      'with --ticks or --bars the argument is the strategy file and the data is the file given',
    );
  }
  const format = (opts.format ?? 'auto') as Format;
  if (!FORMATS.includes(format)) throw ValidationError.at('--format', `expected one of ${FORMATS.join(', ')}`);
  const strategy = loadStrategyFile(strategyFile);
  const path = (opts.ticks ?? opts.bars) as string;
  const symbol = strategy.symbol?.toUpperCase() ?? symbolFromPath(path);
  const options = { format, ...(symbol !== undefined ? { symbol } : {}) };
  const base: BacktestOptions = { strategy, account: { balance: 10_000 }, ...(symbol ? { symbol } : {}) };
  if (opts.ticks !== undefined) {
    const { report, ...ticks } = await loadTicks(path, options);
    return { scenario: { ...base, ticks }, market: `${path}, ${report.format}${symbol ? `, ${symbol}` : ''}` };
  }
  const { report, ...bars } = await loadBars(path, options);
  return { scenario: { ...base, bars }, market: `${path}, ${report.format}${symbol ? `, ${symbol}` : ''}` };
}
