import { type TimeInput, toEpochMs } from './config.js';
import { generateBarColumns, generateTickColumns } from './data/generate.js';
import { loadNative } from './engine/native.js';
import { type EngineChoice, selectEngine } from './engine/select.js';
import { ValidationError } from './errors.js';
import { preset } from './instruments.js';
import { type BarData, TIMEFRAMES, type TickData, type Timeframe } from './types.js';

export interface GenerateTicksOptions {
  symbol?: string;
  /** First day (UTC); default 2024-01-01. */
  start?: TimeInput;
  /** Calendar days to cover; weekends have no ticks. Default 30. */
  days?: number;
  /** Integer in [0, 2^32). Default 1. */
  seed?: number;
  startPrice?: number;
  digits?: number;
  /** Mean milliseconds between ticks (default 900, about 96,000 ticks a weekday). */
  meanIntervalMs?: number;
  /** Largest move per tick, in points (default 3). */
  stepPoints?: number;
  /** Which implementation generates (identical output); default auto. */
  engine?: EngineChoice;
}

export interface GenerateBarsOptions extends Omit<GenerateTicksOptions, 'days' | 'meanIntervalMs'> {
  timeframe?: Timeframe;
  /** Number of bars. Default 1000. */
  count?: number;
}

/** The most rows one call generates (ticks on average, or bars): beyond it the columns alone pass 2 GiB. */
export const MAX_GENERATED_ROWS = 100_000_000;

function common(o: GenerateTicksOptions) {
  const symbol = (o.symbol ?? 'EURUSD').toUpperCase();
  const p = preset(symbol);
  const seed = o.seed ?? 1;
  if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) {
    throw ValidationError.at('seed', `${seed} is not an integer in [0, 2^32)`);
  }
  const startPrice = o.startPrice ?? p?.startPrice;
  const digits = o.digits ?? p?.digits;
  if (startPrice === undefined || digits === undefined) {
    throw ValidationError.at('startPrice', `required for symbol '${symbol}', which has no preset`);
  }
  if (!(Number.isFinite(startPrice) && startPrice > 0)) {
    throw ValidationError.at('startPrice', `${startPrice} is not a positive price`);
  }
  if (!(Number.isInteger(digits) && digits >= 0 && digits <= 8)) {
    throw ValidationError.at('digits', `${digits} is not an integer in [0, 8]`);
  }
  const stepPoints = o.stepPoints ?? 3;
  if (!(Number.isInteger(stepPoints) && stepPoints >= 1)) {
    throw ValidationError.at('stepPoints', `${stepPoints} is not an integer >= 1`);
  }
  const start = toEpochMs(o.start ?? '2024-01-01', 'start');
  if (!Number.isInteger(start)) throw ValidationError.at('start', `${start} is not a whole number of milliseconds`);
  return { symbol, seed, startPrice, digits, stepPoints, start };
}

/** Seeded synthetic ticks (docs/semantics.md section 9): the same output from both engines. */
export function generateTicks(options: GenerateTicksOptions = {}): TickData {
  const c = common(options);
  const days = options.days ?? 30;
  if (!(Number.isFinite(days) && days > 0)) throw ValidationError.at('days', `${days} is not a positive number`);
  const meanIntervalMs = options.meanIntervalMs ?? 900;
  if (!(Number.isInteger(meanIntervalMs) && meanIntervalMs >= 1)) {
    throw ValidationError.at('meanIntervalMs', `${meanIntervalMs} is not an integer >= 1`);
  }
  if ((days * 86_400_000) / meanIntervalMs > MAX_GENERATED_ROWS) {
    throw ValidationError.at(
      'days',
      `${days} days at one tick every ${meanIntervalMs} ms is more than ${MAX_GENERATED_ROWS.toLocaleString('en-US')} ticks`,
    );
  }
  const input = { ...c, days, meanIntervalMs };
  const cols =
    selectEngine(options.engine) === 'native' ? loadNative()!.generateTicks(input) : generateTickColumns(input);
  return { symbol: c.symbol, time: cols.time, bid: cols.bid, ask: cols.ask };
}

/** Seeded synthetic bars (docs/semantics.md section 9), weekdays only. */
export function generateBars(options: GenerateBarsOptions = {}): BarData {
  const c = common(options);
  const timeframe = options.timeframe ?? 'H1';
  if (!TIMEFRAMES.includes(timeframe)) {
    throw ValidationError.at('timeframe', `'${timeframe}' is not one of ${TIMEFRAMES.join(', ')}`);
  }
  const count = options.count ?? 1000;
  if (!(Number.isInteger(count) && count >= 1 && count <= MAX_GENERATED_ROWS)) {
    throw ValidationError.at('count', `${count} is not an integer from 1 to ${MAX_GENERATED_ROWS}`);
  }
  const input = { ...c, timeframe, count };
  const cols =
    selectEngine(options.engine) === 'native' ? loadNative()!.generateBars(input) : generateBarColumns(input);
  return { symbol: c.symbol, timeframe, ...cols };
}
