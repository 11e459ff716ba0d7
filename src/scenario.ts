import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { BacktestOptions } from './backtest.js';
import { loadStrategyFile } from './dsl/strategy-file.js';
import { type Issue, ValidationError } from './errors.js';
import { generateBars, generateTicks } from './generate.js';
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

const data = z.union([
  z.object({ ticks: z.object({ synthetic: syntheticTicks }).strict() }).strict(),
  z.object({ bars: z.object({ synthetic: syntheticBars }).strict() }).strict(),
  z.object({ ticks: z.object({ file: z.string() }).strict() }).strict(),
  z.object({ bars: z.object({ file: z.string(), timeframe }).strict() }).strict(),
]);

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

export interface LoadedScenario extends BacktestOptions {
  optimize?: OptimizeSection;
  windows?: WindowsSection;
}

/**
 * Loads a scenario file: its data (synthetic or a columnar JSON file), strategy and settings, and
 * the `optimize` and `windows` sections when present.
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
  if ('ticks' in s.data) {
    const t = s.data.ticks;
    if ('synthetic' in t) ticks = generateTicks({ symbol: s.symbol, ...t.synthetic });
    else {
      const path = resolve(base, t.file);
      const raw = readJson(path, 'tick file');
      const c = columns(t.file, raw, ['time', 'bid', 'ask']);
      ticks = { symbol: s.symbol, time: c.time!, bid: c.bid!, ask: c.ask! };
    }
  } else {
    const b = s.data.bars;
    if ('synthetic' in b) bars = generateBars({ symbol: s.symbol, ...b.synthetic });
    else {
      const raw = readJson(resolve(base, b.file), 'bar file');
      const c = columns(b.file, raw, ['time', 'open', 'high', 'low', 'close', 'volume']);
      bars = {
        symbol: s.symbol,
        timeframe: b.timeframe,
        time: c.time!,
        open: c.open!,
        high: c.high!,
        low: c.low!,
        close: c.close!,
        volume: c.volume!,
      };
    }
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
