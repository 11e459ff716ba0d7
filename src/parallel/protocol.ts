/**
 * What the pool and its workers say to each other, and the job/result shapes the optimizer sees.
 * Shared by both sides so the two ends cannot drift apart.
 */
import type { RunSettings } from '../config.js';
import type { EngineName } from '../engine/select.js';
import type { EngineOutput, MarketData, Metrics, Params, RunConfig, StrategyIR, Timeframe } from '../types.js';

export type PoolKind = 'processes' | 'threads';

export interface PoolJob {
  /** The caller's number for this job (a combination or scenario index); copied to its result. */
  index: number;
  strategy: StrategyIR;
  params: Params;
  /** The fully built run configuration (as `buildRunConfig` returns it). */
  config: RunConfig;
  /** Return the whole EngineOutput (trades, equity), not only metrics and the trade count. */
  keepOutput: boolean;
}

export type PoolStatus = 'completed' | 'failed' | 'timed_out' | 'cancelled';

export interface PoolError {
  type: string;
  message: string;
  stack?: string;
}

export interface PoolResult {
  index: number;
  status: PoolStatus;
  metrics?: Metrics;
  tradeCount?: number;
  output?: EngineOutput;
  error?: PoolError;
  /** Wall time from handing the job to a worker until its outcome was known (0 if never started). */
  elapsedMs: number;
}

/** Column names and scalar fields of market data, so it can travel in pieces. */
export interface MarketShape {
  kind: MarketData['kind'];
  symbol?: string;
  timeframe?: Timeframe;
  /** Column name -> length. */
  columns: Record<string, number>;
}

/** The first message a worker gets. Threads receive the columns in it; processes get chunks after. */
export interface InitMessage {
  type: 'init';
  runId: string;
  engine: EngineName;
  kind: PoolKind;
  allowFaults: boolean;
  shape: MarketShape;
  /** Threads only: the columns (copies, transferred). */
  columns?: Record<string, Float64Array>;
  /** Threads only: one Int32 slot; non-zero asks the running job to stop (read at engine checks). */
  stopFlag?: SharedArrayBuffer;
}

export type ToWorker =
  | InitMessage
  | { type: 'chunk'; column: string; at: number; data: Float64Array }
  | { type: 'start' }
  | { type: 'job'; job: PoolJob; timeoutMs?: number }
  | { type: 'cancel' }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; pid: number; threadId: number }
  | {
      type: 'result';
      index: number;
      status: PoolStatus;
      metrics?: Metrics;
      tradeCount?: number;
      output?: EngineOutput;
      error?: PoolError;
    };

/** Columns of market data by name, in a fixed order. */
export function columnsOf(market: MarketData): [string, Float64Array][] {
  if (market.kind === 'ticks') {
    const t = market.ticks;
    const cols: [string, Float64Array][] = [
      ['time', t.time],
      ['bid', t.bid],
      ['ask', t.ask],
    ];
    if (t.volume) cols.push(['volume', t.volume]);
    return cols;
  }
  const b = market.bars;
  return [
    ['time', b.time],
    ['open', b.open],
    ['high', b.high],
    ['low', b.low],
    ['close', b.close],
    ['volume', b.volume],
  ];
}

export function shapeOf(market: MarketData): MarketShape {
  const columns: Record<string, number> = {};
  for (const [name, col] of columnsOf(market)) columns[name] = col.length;
  if (market.kind === 'ticks') return { kind: 'ticks', symbol: market.ticks.symbol, columns };
  return { kind: 'bars', symbol: market.bars.symbol, timeframe: market.bars.timeframe, columns };
}

/** Rebuilds market data from its shape and columns (the inverse of shapeOf + columnsOf). */
export function marketFrom(shape: MarketShape, cols: Record<string, Float64Array>): MarketData {
  const col = (name: string) => {
    const c = cols[name];
    if (!c) throw new Error(`market column '${name}' is missing`);
    return c;
  };
  const symbol = shape.symbol === undefined ? {} : { symbol: shape.symbol };
  if (shape.kind === 'ticks') {
    const volume = cols.volume === undefined ? {} : { volume: cols.volume };
    return { kind: 'ticks', ticks: { ...symbol, time: col('time'), bid: col('bid'), ask: col('ask'), ...volume } };
  }
  return {
    kind: 'bars',
    bars: {
      ...symbol,
      timeframe: shape.timeframe as Timeframe,
      time: col('time'),
      open: col('open'),
      high: col('high'),
      low: col('low'),
      close: col('close'),
      volume: col('volume'),
    },
  };
}

/**
 * The caller-facing settings that rebuild exactly `config` through `buildRunConfig`: the whole
 * instrument is given, so no preset or default can change it. This lets a worker run a job through
 * the public `backtestSync` path with an already built configuration.
 */
export function settingsOf(config: RunConfig): RunSettings {
  return {
    instrument: { ...config.instrument },
    account: { balance: config.account.balance },
    start: config.start,
    end: config.end,
    fillAt: config.fillAt,
    periodsPerYear: config.periodsPerYear,
    profile: config.profile,
  };
}

/** An error as plain data; the engine's panics are named `EnginePanic` as in docs/optimization.md. */
export function errorOf(e: unknown): PoolError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const type = code === 'ERR_TICKFORGE_PANIC' ? 'EnginePanic' : e.name;
    return e.stack === undefined ? { type, message: e.message } : { type, message: e.message, stack: e.stack };
  }
  return { type: 'Error', message: String(e) };
}
