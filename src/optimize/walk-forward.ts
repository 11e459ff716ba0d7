import { type BacktestResult, backtest } from '../backtest.js';
import { toEpochMs } from '../config.js';
import { ValidationError } from '../errors.js';
import { newRunId, runLogger } from '../log.js';
import type { Metrics, Params } from '../types.js';
import { isCancellation, untilAborted } from './abort.js';
import { type OptimizeOptions, optimize } from './optimize.js';

/** Milliseconds, or a string such as `90d`, `12h`, `2w`, `30m`. */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function durationMs(value: Duration, path: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return value;
  } else {
    const m = /^(\d+(?:\.\d+)?)\s*([mhdw])$/.exec(value.trim());
    if (m) return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  throw ValidationError.at(path, `${JSON.stringify(value)} is not a positive duration (ms, or like 90d, 12h, 2w, 30m)`);
}

export interface WalkForwardOptions extends Omit<OptimizeOptions, 'start' | 'end'> {
  windows: { inSample: Duration; outOfSample: Duration; step?: Duration; anchored?: boolean };
  /** First in-sample start; default the first event. */
  start?: number | string | Date;
  /** Last time considered; default the last event. */
  end?: number | string | Date;
}

export interface WalkForwardWindow {
  index: number;
  inSample: { start: number; end: number };
  outOfSample: { start: number; end: number };
  /** The in-sample winner; absent when no combination passed the ranking filters. */
  best?: { index: number; params: Params; score: number; metrics: Metrics };
  /** The winner's run on the out-of-sample window. */
  result?: BacktestResult;
  status: 'completed' | 'no_result' | 'cancelled';
}

export interface WalkForwardResult {
  runId: string;
  windows: WalkForwardWindow[];
  /** Out-of-sample equity of every window chained by returns, from the starting balance. */
  equity: { time: Float64Array; equity: Float64Array };
  partial: boolean;
  elapsedMs: number;
}

interface Window {
  isStart: number;
  isEnd: number;
  oosEnd: number;
}

/** Rolling (or anchored) windows over [first, last]: each in-sample span followed by its out-of-sample span. */
export function windowsOf(first: number, last: number, w: WalkForwardOptions['windows']): Window[] {
  const is = durationMs(w.inSample, 'windows.inSample');
  const oos = durationMs(w.outOfSample, 'windows.outOfSample');
  const step = w.step === undefined ? oos : durationMs(w.step, 'windows.step');
  const out: Window[] = [];
  for (let k = 0; ; k++) {
    const isStart = w.anchored ? first : first + k * step;
    const isEnd = w.anchored ? first + is + k * step : isStart + is;
    if (isEnd > last) break;
    out.push({ isStart, isEnd, oosEnd: Math.min(isEnd + oos, last + 1) });
    if (out.length > 10_000) throw ValidationError.at('windows', 'more than 10,000 windows: make the step longer');
  }
  if (out.length === 0) {
    throw ValidationError.at('windows.inSample', 'the data is shorter than one in-sample window');
  }
  return out;
}

/**
 * Walk-forward analysis: for each window, optimize on the in-sample span (earlier data primes the
 * indicators), run the best parameters on the following out-of-sample span, and stitch the
 * out-of-sample equity curves. An abort settles promptly: finished windows are kept, the one
 * running and the rest are `cancelled`, and the result is `partial`.
 */
export async function walkForward(options: WalkForwardOptions): Promise<WalkForwardResult> {
  const started = performance.now();
  const runId = options.runId ?? newRunId();
  const log = runLogger(runId);
  const time = options.ticks?.time ?? options.bars?.time;
  if (!time || time.length === 0) throw ValidationError.at('ticks', 'no market data: give ticks or bars');
  const first = options.start === undefined ? (time[0] as number) : toEpochMs(options.start, 'start');
  const last = options.end === undefined ? (time[time.length - 1] as number) : toEpochMs(options.end, 'end');
  const windows = windowsOf(first, last, options.windows);
  const { windows: _w, ...rest } = options;
  const out: WalkForwardWindow[] = [];
  for (const [index, w] of windows.entries()) {
    const inSample = { start: w.isStart, end: w.isEnd - 1 };
    const outOfSample = { start: w.isEnd, end: w.oosEnd - 1 };
    if (options.signal?.aborted) {
      out.push({ index, inSample, outOfSample, status: 'cancelled' });
      continue;
    }
    // Only the winner's parameters are needed here, not its full in-sample run.
    const opt = await optimize({
      ...rest,
      runId,
      start: inSample.start,
      end: inSample.end,
      topK: 1,
      _skipRankedRuns: true,
    });
    const top = opt.ranked[0];
    if (opt.partial) {
      out.push({ index, inSample, outOfSample, status: 'cancelled' });
      continue;
    }
    if (!top) {
      out.push({ index, inSample, outOfSample, status: 'no_result' });
      continue;
    }
    // Off the event loop and under the same signal; an abort settles the window at once.
    const oos = await untilAborted(
      backtest({
        ...rest,
        params: top.params,
        runId,
        start: outOfSample.start,
        end: outOfSample.end,
        timeoutMs: undefined,
      }),
      options.signal,
    );
    if (oos.kind === 'aborted' || (oos.kind === 'error' && isCancellation(oos.error))) {
      out.push({ index, inSample, outOfSample, status: 'cancelled' });
      continue;
    }
    if (oos.kind === 'error') throw oos.error;
    const result = oos.value;
    out.push({
      index,
      inSample,
      outOfSample,
      best: { index: top.index, params: top.params, score: top.score, metrics: top.metrics },
      result,
      status: 'completed',
    });
    log.info({ window: index, params: top.params, oosNetProfit: result.metrics.netProfit }, 'walk-forward window');
  }
  return {
    runId,
    windows: out,
    equity: stitch(out),
    partial: out.some((w) => w.status === 'cancelled'),
    elapsedMs: performance.now() - started,
  };
}

/** Chains the out-of-sample curves by returns: each window starts where the previous ended. */
export function stitch(windows: WalkForwardWindow[]): { time: Float64Array; equity: Float64Array } {
  const times: number[] = [];
  const values: number[] = [];
  let level = Number.NaN;
  for (const w of windows) {
    const r = w.result;
    if (!r) continue;
    const b0 = r.config.account.balance;
    if (Number.isNaN(level)) level = b0;
    const curve = r.equity;
    for (let i = 0; i < curve.time.length; i++) {
      times.push(curve.time[i] as number);
      values.push((level * (curve.equity[i] as number)) / b0);
    }
    level = (level * r.metrics.finalBalance) / b0;
  }
  return { time: Float64Array.from(times), equity: Float64Array.from(values) };
}
