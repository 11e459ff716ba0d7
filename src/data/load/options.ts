/** Checking and normalizing load options (docs/data.md section 1). */

import type { EngineChoice } from '../../engine/select.js';
import { ValidationError } from '../../errors.js';
import { TIMEFRAMES, type Timeframe } from '../../types.js';
import type { Kind } from './collector.js';
import { parseTimezone } from './time.js';
import type { ColumnRef, LoadFormat, LoadPolicy, TimeFormat } from './types.js';

export const FORMATS: readonly LoadFormat[] = ['auto', 'dukascopy', 'histdata', 'mt5', 'csv', 'arrow', 'parquet'];
const TIME_FORMATS: readonly TimeFormat[] = ['auto', 'epoch-ms', 'epoch-s', 'datetime'];
const DELIMITERS = [',', ';', '\t'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

export const TICK_COLUMNS = ['time', 'bid', 'ask', 'volume'] as const;
export const BAR_COLUMNS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

const KNOWN = new Set([
  'format',
  'columns',
  'header',
  'delimiter',
  'timeFormat',
  'timezone',
  'symbol',
  'policy',
  'gapMs',
  'cache',
  'engine',
  'timeframe',
  'name',
]);

/** Options checked, defaults not yet filled where they depend on the format. */
export interface Resolved {
  kind: Kind;
  format: LoadFormat;
  columns: Record<string, ColumnRef> | null;
  header: boolean;
  delimiter: Delimiter | null;
  timeFormat: TimeFormat;
  timezone: string | null;
  /** Offset (ms east of UTC) of `timezone`, null when not given. */
  offsetMs: number | null;
  symbol: string | undefined;
  /** How a stream is named in messages. */
  name: string;
  policy: LoadPolicy;
  gapMs: number | null;
  cache: boolean;
  engine: EngineChoice;
  timeframe: Timeframe | null;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const shown = allowed.map((a) => JSON.stringify(a)).join(', ');
    throw ValidationError.at(`options.${name}`, `${JSON.stringify(value) ?? String(value)} is not one of ${shown}`);
  }
  return value as T;
}

function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw ValidationError.at(`options.${name}`, 'expected true or false');
  return value;
}

/** Throws a ValidationError naming the first bad option. */
export function resolveOptions(kind: Kind, options: unknown): Resolved {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw ValidationError.at('options', 'expected an object');
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key) || (key === 'timeframe' && kind === 'ticks')) {
      throw ValidationError.at(`options.${key}`, 'unknown option');
    }
  }
  const format = oneOf('format', o.format, FORMATS, 'auto');
  let columns: Record<string, ColumnRef> | null = null;
  if (o.columns !== undefined) {
    if (typeof o.columns !== 'object' || o.columns === null || Array.isArray(o.columns)) {
      throw ValidationError.at('options.columns', 'expected an object');
    }
    const allowed: readonly string[] = kind === 'ticks' ? TICK_COLUMNS : BAR_COLUMNS;
    columns = {};
    for (const [k, v] of Object.entries(o.columns as Record<string, unknown>)) {
      if (!allowed.includes(k)) {
        throw ValidationError.at(`options.columns.${k}`, `unknown column (expected one of ${allowed.join(', ')})`);
      }
      if (v === undefined) continue;
      const okName = typeof v === 'string' && v.length > 0;
      const okIndex = typeof v === 'number' && Number.isInteger(v) && v >= 0;
      if (!okName && !okIndex) {
        throw ValidationError.at(`options.columns.${k}`, 'expected a column name or a non-negative integer index');
      }
      columns[k] = v as ColumnRef;
    }
  }
  const header = bool('header', o.header, true);
  const delimiter = o.delimiter === undefined ? null : oneOf('delimiter', o.delimiter, DELIMITERS, ',');
  const timeFormat = oneOf('timeFormat', o.timeFormat, TIME_FORMATS, 'auto');
  let timezone: string | null = null;
  let offsetMs: number | null = null;
  if (o.timezone !== undefined) {
    const off = typeof o.timezone === 'string' ? parseTimezone(o.timezone) : null;
    if (off === null) {
      throw ValidationError.at(
        'options.timezone',
        `${JSON.stringify(o.timezone) ?? String(o.timezone)} is not 'UTC', 'EST', '+HH:MM' or '-HH:MM'`,
      );
    }
    timezone = o.timezone as string;
    offsetMs = off;
  }
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) {
    throw ValidationError.at('options.name', 'expected a non-empty string');
  }
  if (o.symbol !== undefined && typeof o.symbol !== 'string') {
    throw ValidationError.at('options.symbol', 'expected a string');
  }
  const policy = oneOf('policy', o.policy, ['error', 'skip'] as const, 'error');
  let gapMs: number | null = null;
  if (o.gapMs !== undefined) {
    if (typeof o.gapMs !== 'number' || !Number.isFinite(o.gapMs) || o.gapMs <= 0) {
      throw ValidationError.at('options.gapMs', 'expected a finite number > 0');
    }
    gapMs = o.gapMs;
  }
  const cache = bool('cache', o.cache, true);
  const engine = oneOf('engine', o.engine, ['native', 'js', 'auto'] as const, 'auto');
  const timeframe = o.timeframe === undefined ? null : oneOf('timeframe', o.timeframe, TIMEFRAMES, 'M1');
  return {
    kind,
    format,
    columns,
    header,
    delimiter,
    timeFormat,
    timezone,
    offsetMs,
    symbol: o.symbol as string | undefined,
    name: (o.name as string | undefined) ?? '<stream>',
    policy,
    gapMs,
    cache,
    engine,
    timeframe,
  };
}

/** The options that change a load's result, as JSON (the native call's options and the cache fingerprint). */
export function resultOptionsJson(r: Resolved, format: LoadFormat): string {
  return JSON.stringify({
    kind: r.kind,
    format,
    columns: r.columns,
    header: r.header,
    delimiter: r.delimiter,
    timeFormat: r.timeFormat,
    timezone: r.timezone,
    policy: r.policy,
    gapMs: r.gapMs,
    timeframe: r.timeframe,
  });
}
