import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { BacktestOptions } from './backtest.js';
import {
  type BarLoadOptions,
  type LoadReport,
  loadBarsSync,
  loadTicksSync,
  type TickLoadOptions,
} from './data/load/index.js';
import { loadStrategyFile } from './dsl/strategy-file.js';
import { type Issue, ValidationError } from './errors.js';
import { generateBars, generateTicks } from './generate.js';
import { logger } from './log.js';
import { referenceStrategy } from './strategies/reference.js';
import { type BarData, type StrategyIR, TIMEFRAMES, type TickData, type Timeframe } from './types.js';

const time = z.union([z.number(), z.string()]);
const timeframe = z.enum(TIMEFRAMES as [Timeframe, ...Timeframe[]]);

const syntheticTicks = z
  .object({
    symbol: z.string().optional(),
    start: time.optional(),
    days: z.number().positive().optional(),
    seed: z.number().int().nonnegative().optional(),
    startPrice: z.number().positive().optional(),
    meanIntervalMs: z.number().int().positive().optional(),
    stepPoints: z.number().int().positive().optional(),
  })
  .strict();

const syntheticBars = syntheticTicks
  .omit({ days: true, meanIntervalMs: true })
  .extend({ timeframe: timeframe.optional(), count: z.number().int().positive().optional() })
  .strict();

const columnRef = z.union([z.string(), z.number().int().nonnegative()]);

/** How a data file is read (docs/data.md section 1), next to `file`. */
const fileOptions = {
  format: z.enum(['auto', 'dukascopy', 'histdata', 'mt5', 'csv', 'arrow', 'parquet']).optional(),
  timezone: z.string().optional(),
  policy: z.enum(['error', 'skip']).optional(),
  delimiter: z.enum([',', ';', '\t']).optional(),
  header: z.boolean().optional(),
  timeFormat: z.enum(['auto', 'epoch-ms', 'epoch-s', 'datetime']).optional(),
};

const FILE_OPTIONS = [...Object.keys(fileOptions), 'columns'];

/**
 * One data source: `synthetic` or `file` (with its reading options), never both. A single object
 * rather than a union keeps zod's error paths on the offending key.
 */
function exactlyOneSource(s: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const has = (k: string) => s[k] !== undefined;
  if (has('synthetic') === has('file')) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give exactly one of synthetic and file' });
    return;
  }
  if (has('synthetic')) {
    for (const k of [...FILE_OPTIONS, 'timeframe'].filter(has)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k], message: `${k} goes with file, not synthetic` });
    }
  }
}

const tickSource = z
  .object({
    synthetic: syntheticTicks.optional(),
    file: z.string().optional(),
    ...fileOptions,
    columns: z
      .object({
        time: columnRef.optional(),
        bid: columnRef.optional(),
        ask: columnRef.optional(),
        volume: columnRef.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine(exactlyOneSource);

const barSource = z
  .object({
    synthetic: syntheticBars.optional(),
    file: z.string().optional(),
    ...fileOptions,
    columns: z
      .object({
        time: columnRef.optional(),
        open: columnRef.optional(),
        high: columnRef.optional(),
        low: columnRef.optional(),
        close: columnRef.optional(),
        volume: columnRef.optional(),
      })
      .strict()
      .optional(),
    timeframe: timeframe.optional(),
  })
  .strict()
  .superRefine(exactlyOneSource);

const data = z
  .object({ ticks: tickSource.optional(), bars: barSource.optional() })
  .strict()
  .superRefine((d, ctx) => {
    if ((d.ticks === undefined) === (d.bars === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give exactly one of ticks and bars' });
    }
  });

const gridValue = z.union([
  z.array(z.number()).nonempty(),
  z.object({ from: z.number(), to: z.number(), step: z.number() }).strict(),
]);

/** The `optimize` section of a scenario file (docs/optimization.md). */
const optimizeSection = z
  .object({
    grid: z.record(gridValue),
    constraints: z.array(z.string()).optional(),
    sample: z.object({ count: z.number().int().positive(), seed: z.number().int().nonnegative() }).strict().optional(),
    target: z.union([z.string(), z.object({ weights: z.record(z.number()) }).strict()]).optional(),
    direction: z.enum(['max', 'min']).optional(),
    minTrades: z.number().nonnegative().optional(),
    maxDrawdownPct: z.number().positive().optional(),
    topK: z.number().int().positive().optional(),
    parallelism: z.enum(['none', 'threads', 'processes']).optional(),
    maxWorkers: z.number().int().positive().optional(),
    timeoutMs: z.number().positive().optional(),
  })
  .strict();

const windowsSection = z
  .object({
    inSample: z.union([z.number().positive(), z.string()]),
    outOfSample: z.union([z.number().positive(), z.string()]),
    step: z.union([z.number().positive(), z.string()]).optional(),
    anchored: z.boolean().optional(),
  })
  .strict();

const scenarioSchema = z
  .object({
    data,
    /** `"reference"`, a path to an IR JSON file (relative to the scenario), or the IR itself. */
    strategy: z.union([z.string(), z.record(z.unknown())]),
    params: z.record(z.number()).optional(),
    symbol: z.string().optional(),
    instrument: z.record(z.unknown()).optional(),
    account: z.object({ balance: z.number().optional(), leverage: z.number().optional() }).strict().optional(),
    start: time.nullable().optional(),
    end: time.nullable().optional(),
    fillAt: z.enum(['open', 'close']).optional(),
    periodsPerYear: z.number().positive().optional(),
    profile: z.boolean().optional(),
    engine: z.enum(['native', 'js', 'auto']).optional(),
    optimize: optimizeSection.optional(),
    windows: windowsSection.optional(),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type OptimizeSection = z.infer<typeof optimizeSection>;
export type WindowsSection = z.infer<typeof windowsSection>;

function zodIssues(file: string, error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({
    path: `${file}: ${i.path.length ? i.path.join('.') : '(root)'}`,
    message: i.message,
  }));
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw ValidationError.at(file, `cannot read the ${what}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw ValidationError.at(file, `not valid JSON: ${(e as Error).message}`);
  }
}

function columns(file: string, raw: unknown, names: readonly string[]): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  const obj = raw as Record<string, unknown>;
  for (const name of names) {
    const col = obj?.[name];
    if (!Array.isArray(col) || col.some((x) => typeof x !== 'number')) {
      throw ValidationError.at(`${file}: ${name}`, 'expected an array of numbers');
    }
    out[name] = Float64Array.from(col as number[]);
  }
  return out;
}

type TickSource = z.infer<typeof tickSource>;
type BarSource = z.infer<typeof barSource>;
type FileSource<S> = S & { file: string };

/** Columnar JSON (`{ "time": [...], ... }`) is read as before; every other file goes to the loaders. */
function isColumnarJson(src: { file: string; format?: string }): boolean {
  return src.format === undefined && /\.json$/i.test(src.file);
}

function loadOptions(src: TickSource | BarSource, symbol: string | undefined) {
  const out: Record<string, unknown> = {};
  for (const k of FILE_OPTIONS) {
    const v = (src as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  if (symbol !== undefined) out.symbol = symbol;
  return out;
}

/**
 * Checks a file source before loading: columnar JSON takes no reading options, and Parquet needs
 * the asynchronous loader, which scenario loading (synchronous) cannot use.
 */
function checkFileSource(scenario: string, key: 'ticks' | 'bars', src: FileSource<TickSource | BarSource>): void {
  const at = (k: string) => `${scenario}: data.${key}.${k}`;
  if (isColumnarJson(src)) {
    const given = FILE_OPTIONS.filter((k) => (src as Record<string, unknown>)[k] !== undefined);
    if (given.length > 0) {
      throw new ValidationError(
        given.map((k) => ({
          path: at(k),
          message: `a columnar JSON file takes no reading options; ${k} goes with CSV, MT5, Dukascopy, HistData or Arrow files`,
        })),
      );
    }
    return;
  }
  if (src.format === 'parquet' || ((src.format ?? 'auto') === 'auto' && /\.parquet$/i.test(src.file))) {
    throw ValidationError.at(
      at('file'),
      `${src.file}: Parquet files load asynchronously, which scenario files cannot do; use load${key === 'ticks' ? 'Ticks' : 'Bars'}() from the API, or convert the file to Arrow IPC or CSV`,
    );
  }
}

/**
 * Runs a loader. When it refuses the file, its issues about options (`options.timezone`) are put
 * under the scenario key (`data.ticks.timezone`); other issues follow one naming the key: the
 * `columns` entry whose column the loader's messages quote, else `file`.
 */
function withSource<T>(
  scenario: string,
  key: 'ticks' | 'bars',
  src: { file: string; columns?: Record<string, string | number | undefined> },
  load: () => T,
): T {
  try {
    return load();
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    const issues = e.issues.map((i) =>
      i.path.startsWith('options.') ? { ...i, path: `${scenario}: data.${key}.${i.path.slice(8)}` } : i,
    );
    if (issues.some((i, n) => i !== e.issues[n])) throw new ValidationError(issues);
    const text = e.issues.map((i) => i.message).join('\n');
    const mapped = Object.entries(src.columns ?? {}).find(
      ([, ref]) => typeof ref === 'string' && text.includes(`'${ref}'`),
    );
    const path = mapped ? `data.${key}.columns.${mapped[0]}` : `data.${key}.file`;
    throw new ValidationError([{ path: `${scenario}: ${path}`, message: `cannot load ${src.file}` }, ...issues]);
  }
}

/**
 * Rows a `policy: 'skip'` load dropped are never silent: a warning (on stderr, at the default log
 * level) names the file, the count by reason and the first rows.
 */
function noteSkipped(scenario: string, key: 'ticks' | 'bars', report: LoadReport): void {
  const { total, byReason, first } = report.skipped;
  if (total === 0) return;
  const reasons = Object.entries(byReason)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const rows = first
    .slice(0, 3)
    .map((r) => r.row)
    .join(', ');
  logger().warn(
    { scenario, data: key, file: report.path, skipped: report.skipped },
    `${report.path}: ${total} of ${report.rowsRead} rows skipped (${reasons}; first at rows ${rows}); \`tickforge inspect\` lists them`,
  );
}

function tickFileData(scenario: string, base: string, t: FileSource<TickSource>, symbol?: string): TickData {
  checkFileSource(scenario, 'ticks', t);
  const path = resolve(base, t.file);
  if (isColumnarJson(t)) {
    const c = columns(t.file, readJson(path, 'tick file'), ['time', 'bid', 'ask']);
    return { symbol, time: c.time!, bid: c.bid!, ask: c.ask! };
  }
  const { report, ...loaded } = withSource(scenario, 'ticks', t, () =>
    loadTicksSync(path, loadOptions(t, symbol) as TickLoadOptions),
  );
  noteSkipped(scenario, 'ticks', report);
  return loaded;
}

function barFileData(scenario: string, base: string, b: FileSource<BarSource>, symbol?: string): BarData {
  checkFileSource(scenario, 'bars', b);
  const path = resolve(base, b.file);
  if (isColumnarJson(b)) {
    if (b.timeframe === undefined) {
      throw ValidationError.at(`${scenario}: data.bars.timeframe`, 'required with a columnar JSON bar file');
    }
    const c = columns(b.file, readJson(path, 'bar file'), ['time', 'open', 'high', 'low', 'close', 'volume']);
    return {
      symbol,
      timeframe: b.timeframe,
      time: c.time!,
      open: c.open!,
      high: c.high!,
      low: c.low!,
      close: c.close!,
      volume: c.volume!,
    };
  }
  const options = { ...loadOptions(b, symbol), ...(b.timeframe !== undefined ? { timeframe: b.timeframe } : {}) };
  const { report, ...loaded } = withSource(scenario, 'bars', b, () => loadBarsSync(path, options as BarLoadOptions));
  noteSkipped(scenario, 'bars', report);
  return loaded;
}

export interface LoadedScenario extends BacktestOptions {
  optimize?: OptimizeSection;
  windows?: WindowsSection;
}

/**
 * Loads a scenario file: its data (synthetic, a columnar JSON file, or a market data file read by
 * the synchronous loaders of docs/data.md), strategy and settings, and the `optimize` and `windows`
 * sections when present.
 */
export function loadScenario(file: string): LoadedScenario {
  const parsed = scenarioSchema.safeParse(readJson(file, 'scenario'));
  if (!parsed.success) throw new ValidationError(zodIssues(file, parsed.error));
  const s = parsed.data;
  const base = dirname(resolve(file));

  let strategy: StrategyIR;
  if (typeof s.strategy === 'string') {
    // A DSL file (`.clj`) is compiled; any other path is read as IR JSON.
    strategy = s.strategy === 'reference' ? referenceStrategy : loadStrategyFile(resolve(base, s.strategy));
  } else {
    strategy = s.strategy as unknown as StrategyIR;
  }

  let ticks: TickData | undefined;
  let bars: BarData | undefined;
  if (s.data.ticks) {
    const t = s.data.ticks;
    if (t.synthetic) ticks = generateTicks({ symbol: s.symbol, ...t.synthetic });
    else ticks = tickFileData(file, base, t as FileSource<typeof t>, s.symbol);
  } else if (s.data.bars) {
    const b = s.data.bars;
    if (b.synthetic) bars = generateBars({ symbol: s.symbol, ...b.synthetic });
    else bars = barFileData(file, base, b as FileSource<typeof b>, s.symbol);
  }

  return {
    ticks,
    bars,
    strategy,
    params: s.params,
    symbol: s.symbol,
    instrument: s.instrument as BacktestOptions['instrument'],
    account: s.account,
    start: s.start,
    end: s.end,
    fillAt: s.fillAt,
    periodsPerYear: s.periodsPerYear,
    profile: s.profile,
    engine: s.engine,
    optimize: s.optimize,
    windows: s.windows,
  };
}
