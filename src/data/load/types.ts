/** Options, report and result types of the market data loaders (docs/data.md). */

import type { EngineChoice } from '../../engine/select.js';
import type { BarData, TickData, Timeframe } from '../../types.js';

export type LoadFormat = 'auto' | 'dukascopy' | 'histdata' | 'mt5' | 'csv' | 'arrow' | 'parquet';
export type TimeFormat = 'auto' | 'epoch-ms' | 'epoch-s' | 'datetime';
export type LoadPolicy = 'error' | 'skip';
export type ColumnRef = string | number;

export interface TickColumns {
  time?: ColumnRef;
  bid?: ColumnRef;
  ask?: ColumnRef;
  volume?: ColumnRef;
}

export interface BarColumns {
  time?: ColumnRef;
  open?: ColumnRef;
  high?: ColumnRef;
  low?: ColumnRef;
  close?: ColumnRef;
  volume?: ColumnRef;
}

interface CommonLoadOptions {
  /** Default 'auto': by extension, else by the first line. */
  format?: LoadFormat;
  /** Generic CSV: whether the first line names the columns (default true). */
  header?: boolean;
  /** Generic CSV: default detected from the first line. */
  delimiter?: ',' | ';' | '\t';
  timeFormat?: TimeFormat;
  /** 'UTC' (default; HistData: 'EST'), 'EST' (UTC-5, no DST), '+02:00', '-05:00'. */
  timezone?: string;
  symbol?: string;
  /** Default 'error'. */
  policy?: LoadPolicy;
  /** Gap threshold in ms (default ticks 600000, bars 3 x timeframe). */
  gapMs?: number;
  /** Read and write `FILE.tfcache` (default true; never for a stream). */
  cache?: boolean;
  engine?: EngineChoice;
  /** A stream's name in messages and the report (default `<stream>`); ignored for a path. */
  name?: string;
}

/**
 * What `loadTicks`/`loadBars` read besides a path: a Node Readable, a web ReadableStream, or any
 * async iterable of Buffers or strings. Streams are parsed by the TypeScript parser (Arrow and
 * Parquet are gathered first, as their formats need the whole file).
 */
export type LoadSource = string | AsyncIterable<Buffer | Uint8Array | string>;

export interface TickLoadOptions extends CommonLoadOptions {
  columns?: TickColumns;
}

export interface BarLoadOptions extends CommonLoadOptions {
  columns?: BarColumns;
  timeframe?: Timeframe;
}

/** Options of loadTicks and loadBars. */
export type LoadOptions = TickLoadOptions | BarLoadOptions;

export interface SkippedRow {
  row: number;
  reason: string;
  message: string;
}

export interface LoadReport {
  path: string;
  format: string;
  kind: 'ticks' | 'bars';
  engine: 'native' | 'js';
  fromCache: boolean;
  elapsedMs: number;
  /** Data rows (not the header, not blank lines). */
  rowsRead: number;
  /** Rows kept. */
  rows: number;
  skipped: { total: number; byReason: Record<string, number>; first: SkippedRow[] };
  /** MT5 rows before both sides were known. */
  incomplete: number;
  first: number | null;
  last: number | null;
  /** largestAt: the time after the largest gap. */
  gaps: { thresholdMs: number; count: number; largestMs: number; largestAt: number | null };
  /** Bars: given or detected (the smallest positive step between rows). */
  timeframe?: Timeframe;
  /** Ticks: ask - bid. */
  spread?: { min: number; mean: number; max: number };
}

export type LoadedTicks = TickData & { report: LoadReport };
export type LoadedBars = BarData & { report: LoadReport };
