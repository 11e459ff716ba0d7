/**
 * `tickforge symphony FILE...`: runs symphony files together over daily bars, prints each file's
 * metrics (a failing file with its error, the others still run) and the consolidated allocation
 * of one day. The bars come from `--data DIR` (one file per ticker), else they are synthetic,
 * seeded, one series per ticker named.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { loadBars } from '../data/load/index.js';
import type { Form } from '../dsl/ast.js';
import { compile, DslError, read } from '../dsl/index.js';
import type { EngineChoice } from '../engine/select.js';
import { ValidationError } from '../errors.js';
import { alignDaily, type DailySeries, generateDaily } from '../symphony/data.js';
import { runSymphonies, type SymphonyBook, type SymphonySettings } from '../symphony/run.js';
import type { DailyData } from '../symphony/types.js';
import { stoppable } from './signals.js';

interface SymphonyCliOptions {
  data?: string;
  start?: string;
  end?: string;
  days: number;
  seed: number;
  rebalance?: SymphonySettings['rebalance'];
  fillAt: 'close' | 'open';
  commission: number;
  capital: number;
  date?: string;
  engine: EngineChoice;
  json?: boolean;
  progress?: boolean;
}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be an integer >= 1`);
    return n;
  };
}

function nonNegative(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number >= 0`);
    return n;
  };
}

function fillAtOption(v: string): 'close' | 'open' {
  if (v !== 'close' && v !== 'open') throw new InvalidArgumentError('fill-at must be close or open');
  return v;
}

const PERIODS = ['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'none'] as const;

function rebalanceOption(v: string): SymphonySettings['rebalance'] {
  const period = PERIODS.find((p) => p === v);
  if (period !== undefined) return period;
  const x = Number(v);
  if (Number.isFinite(x) && x > 0) return { threshold: x };
  throw new InvalidArgumentError(
    'rebalance must be daily, weekly, monthly, quarterly, yearly, none or a drift threshold such as 0.05',
  );
}

const pct = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}%` : '—');
const num = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A failed file's error: DSL problems with their excerpts, anything else as its message. */
function describeFailure(file: string, sources: Map<string, string>, message: string, tickers: string[]): string {
  const text = sources.get(file);
  if (text !== undefined) {
    try {
      compile(text, { file, tickers });
    } catch (e) {
      if (e instanceof DslError) return e.format();
    }
  }
  return `${file}: error: ${message}`;
}

export function printBook(
  book: SymphonyBook,
  sources: Map<string, string>,
  date: string | undefined,
  tickers: string[],
): string {
  const out: string[] = [];
  const rows = [['file', 'return', 'CAGR', 'max DD', 'Sharpe', 'rebalances']];
  for (const f of book.files) {
    if (f.status !== 'ok' || !f.output) continue;
    const m = f.output.metrics;
    rows.push([f.label, pct(m.returnPct), pct(m.cagrPct), pct(m.maxDrawdownPct), num(m.sharpe), String(m.rebalances)]);
  }
  const ok = rows.length - 1;
  const partial = book.cancelled ? ' (partial: stopped before every file finished)' : '';
  out.push(`${ok} of ${book.files.length} symphonies ran (${book.engine} engine, run ${book.runId})${partial}`);
  if (ok > 0) out.push('', table(rows));
  const failed = book.files.filter((f) => f.status === 'failed');
  for (const f of failed) out.push('', describeFailure(f.label, sources, f.error?.message ?? 'failed', tickers));
  if (ok > 0 && book.dates.length > 0) {
    const s = book.signals(date ?? (book.dates[book.dates.length - 1] as number));
    const held = Object.entries(s.weights).filter(([, w]) => w > 0);
    const cash = 1 - held.reduce((a, [, w]) => a + w, 0);
    out.push('', `Consolidated allocation on ${new Date(s.date).toISOString().slice(0, 10)}:`);
    const lines = held.map(([t, w]) => [t, `${(w * 100).toFixed(2)}%`]);
    if (cash > 1e-12) lines.push(['cash', `${(cash * 100).toFixed(2)}%`]);
    out.push(table(lines.length > 0 ? lines : [['cash', '100.00%']]));
  }
  return out.join('\n');
}

/**
 * The tickers a file names: its IR's when it compiles; otherwise every string that follows an
 * operator (`(asset "SPY")`, `(rsi "QQQ" 10)`), so that a file failing for another reason is not
 * also told its tickers are missing. Nothing for a file that does not even read.
 */
function namedTickers(text: string, file: string): string[] {
  try {
    const r = compile(text, { file });
    return r.kind === 'symphony' ? r.ir.tickers : [];
  } catch {
    // reported by runSymphonies, in file order
  }
  const out: string[] = [];
  const walk = (forms: Form[]) => {
    for (const f of forms) {
      if (f.kind !== 'list' && f.kind !== 'vector' && f.kind !== 'map') continue;
      const [head, arg] = f.items;
      if (f.kind === 'list' && head?.kind === 'symbol' && arg?.kind === 'string' && arg.value !== '')
        out.push(arg.value);
      walk(f.items);
    }
  };
  try {
    walk(read(text, { file }));
  } catch {
    // a syntax error: runSymphonies reports it
  }
  return out;
}

const DATA_EXTENSIONS = ['.csv', '.txt', '.arrow', '.feather', '.parquet'];

/**
 * Daily bars of `tickers` from `dir`: `TICKER.csv` (or .txt, .arrow, .feather, .parquet), any
 * format the loader reads. A ticker without a file is left out, so the files naming it fail at
 * the string that names it; a file that does not load is an error naming it.
 */
export async function loadDailyDir(dir: string, tickers: string[]): Promise<DailyData> {
  const series: Record<string, DailySeries> = {};
  for (const ticker of tickers) {
    const file = DATA_EXTENSIONS.map((ext) => join(dir, `${ticker}${ext}`)).find((f) => existsSync(f));
    if (file === undefined) continue;
    series[ticker] = await loadBars(file, { timeframe: 'D1' });
  }
  if (Object.keys(series).length === 0) {
    throw ValidationError.at(
      dir,
      `no daily bar file for any of ${tickers.join(', ')} (expected TICKER.csv and the like)`,
    );
  }
  return alignDaily(series);
}

export function registerSymphony(program: Command): void {
  program
    .command('symphony')
    .description('run symphony files (defsymphony) together and print the consolidated allocation')
    .argument('<files...>', 'symphony files (.clj)')
    .option('--data <dir>', 'daily bars per ticker: DIR/TICKER.csv (any format tickforge reads)')
    .option('--days <n>', 'synthetic daily bars per ticker (without --data)', positiveInt('days'), 2520)
    .option('--seed <n>', 'seed of the synthetic bars', positiveInt('seed'), 1)
    .option(
      '--rebalance <rule>',
      'daily, weekly, monthly, quarterly, yearly, none or a drift threshold (overrides the files)',
      rebalanceOption,
    )
    .option('--fill-at <when>', 'close (same day) or open (next day)', fillAtOption, 'close')
    .option('--commission <pct>', 'percent of traded notional', nonNegative('commission'), 0)
    .option('--capital <amount>', 'initial capital per file', nonNegative('capital'), 10_000)
    .option('--start <date>', 'first simulated day (earlier days warm the indicators up)')
    .option('--end <date>', 'last simulated day')
    .option('--date <date>', 'day of the consolidated allocation (default: the last day)')
    .option('--engine <engine>', 'native, js or auto', 'auto')
    .option('--json', 'print the results as JSON')
    .option('--progress', 'print a line on stderr as each file finishes')
    .action(
      stoppable(async (stop, files: string[], opts: SymphonyCliOptions) => {
        const sources = new Map<string, string>();
        const tickers = new Set<string>();
        const inputs: Array<{ source: string; path: string }> = [];
        for (const file of files) {
          let text: string;
          try {
            text = readFileSync(file, 'utf8');
          } catch (e) {
            // An unreadable file is reported like a file that does not compile; the rest still run.
            text = '';
            process.stderr.write(`${file}: error: cannot read the file: ${(e as Error).message}\n`);
          }
          sources.set(file, text);
          inputs.push({ source: text, path: file });
          for (const t of namedTickers(text, file)) tickers.add(t);
        }
        const named = [...tickers].sort();
        const data =
          opts.data !== undefined
            ? await loadDailyDir(opts.data, named)
            : generateDaily(named, { days: opts.days, seed: opts.seed });
        const book = await runSymphonies(inputs, data, {
          engine: opts.engine,
          fillAt: opts.fillAt,
          commissionPct: opts.commission,
          initialCapital: opts.capital,
          ...(opts.start !== undefined ? { start: opts.start } : {}),
          ...(opts.end !== undefined ? { end: opts.end } : {}),
          ...(opts.rebalance !== undefined ? { rebalance: opts.rebalance } : {}),
          signal: stop.signal,
          ...(opts.progress
            ? { onProgress: (done: number, total: number) => process.stderr.write(`${done}/${total} files finished\n`) }
            : {}),
        });
        const failed = book.files.some((f) => f.status === 'failed');
        if (opts.json) {
          const last =
            book.dates.length > 0 ? book.signals(opts.date ?? (book.dates[book.dates.length - 1] as number)) : null;
          process.stdout.write(
            `${JSON.stringify(
              {
                runId: book.runId,
                engine: book.engine,
                partial: book.cancelled,
                files: book.files.map((f) => ({
                  label: f.label,
                  status: f.status,
                  metrics: f.output?.metrics,
                  error: f.error,
                })),
                signals: last,
              },
              null,
              2,
            )}\n`,
          );
        } else {
          process.stdout.write(`${printBook(book, sources, opts.date, data.tickers)}\n`);
        }
        if (failed) process.exitCode = 1;
      }),
    );
}
