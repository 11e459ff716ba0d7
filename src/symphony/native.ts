/**
 * The native symphony engine, feature-detected on the loaded binding (`NativeDailyData.fromColumns`,
 * `runSymphonies`, `runSymphoniesSync`): older binaries without it fall back to the TypeScript
 * engine under `auto`.
 */

import { loadNative, nativeLoadFailure } from '../engine/native.js';
import { type EngineChoice, type EngineName, engineSelector } from '../engine/select.js';
import type { DailyData, SymphonyOutput, SymphonyRunConfig } from './types.js';

/** The binding's handle on daily data (opaque here). */
export type NativeDailyDataHandle = object;

export interface NativeCancelToken {
  cancel(): void;
  readonly cancelled: boolean;
}

/** A job's result from the binding: the engines' common output, or the job's error. */
export type NativeSymphonyResult =
  | ({ ok: true } & SymphonyOutput)
  | { ok: false; errorCode: string; errorMessage: string };

export interface NativeSymphonyOptions {
  threads: number;
}

export interface NativeSymphonyBinding {
  NativeDailyData: {
    fromColumns(dates: Float64Array, tickers: string[], open: Float64Array, close: Float64Array): NativeDailyDataHandle;
  };
  CancelToken: new () => NativeCancelToken;
  runSymphonies(
    data: NativeDailyDataHandle,
    jobs: string[],
    configs: string[],
    options: NativeSymphonyOptions,
    cancel?: NativeCancelToken | null,
  ): Promise<NativeSymphonyResult[]>;
  runSymphoniesSync(
    data: NativeDailyDataHandle,
    jobs: string[],
    configs: string[],
    options: NativeSymphonyOptions,
    cancel?: NativeCancelToken | null,
  ): NativeSymphonyResult[];
}

/** The binding when it has the symphony functions, else null. */
export function nativeSymphony(): NativeSymphonyBinding | null {
  const b = loadNative() as unknown as Partial<NativeSymphonyBinding> | null;
  if (
    !b ||
    typeof b.runSymphonies !== 'function' ||
    typeof b.runSymphoniesSync !== 'function' ||
    typeof b.NativeDailyData?.fromColumns !== 'function' ||
    typeof b.CancelToken !== 'function'
  ) {
    return null;
  }
  return b as NativeSymphonyBinding;
}

function unavailableReason(): string {
  const failure = nativeLoadFailure();
  if (failure) return failure;
  return 'the loaded binary has no runSymphonies (rebuild it with `npm run build:native`)';
}

const selectSymphony = engineSelector({
  present: () => nativeSymphony() !== null,
  reason: unavailableReason,
  unavailable: (reason) => `the native symphony engine is not available (${reason}); use engine: 'js'`,
  fallback: 'native symphony engine unavailable; using the pure-TypeScript engine (same results, slower)',
});

/** As `selectEngine`, but native only when the binding has the symphony engine. */
export function selectSymphonyEngine(requested: EngineChoice = 'auto'): EngineName {
  return selectSymphony(requested);
}

const handles = new WeakMap<DailyData, NativeDailyDataHandle>();

/** The binding's copy of `data`, made once per DailyData object (ticker-major flat columns). */
export function toNativeDaily(binding: NativeSymphonyBinding, data: DailyData): NativeDailyDataHandle {
  let h = handles.get(data);
  if (h === undefined) {
    const n = data.dates.length;
    const m = data.tickers.length;
    const open = new Float64Array(n * m);
    const close = new Float64Array(n * m);
    for (let k = 0; k < m; k++) {
      open.set(data.open[k] as Float64Array, k * n);
      close.set(data.close[k] as Float64Array, k * n);
    }
    h = binding.NativeDailyData.fromColumns(data.dates, [...data.tickers], open, close);
    handles.set(data, h);
  }
  return h;
}

/** The config as the binding reads it (JSON: no undefined; NaN is never valid here). */
export function configJson(config: SymphonyRunConfig): string {
  return JSON.stringify({
    rebalance: config.rebalance,
    fillAt: config.fillAt,
    commissionPct: config.commissionPct,
    initialCapital: config.initialCapital,
    start: config.start,
    end: config.end,
    periodsPerYear: config.periodsPerYear,
  });
}

const f64 = (v: ArrayLike<number>): Float64Array => (v instanceof Float64Array ? v : Float64Array.from(v));
const i32 = (v: ArrayLike<number>): Int32Array => (v instanceof Int32Array ? v : Int32Array.from(v));

/** A successful native result in the engines' common shape. */
export function fromNativeSymphony(r: Extract<NativeSymphonyResult, { ok: true }>): SymphonyOutput {
  return {
    tickers: [...r.tickers],
    time: f64(r.time),
    equity: f64(r.equity),
    weights: f64(r.weights),
    rebalanceDays: i32(r.rebalanceDays),
    metrics: { ...r.metrics },
  };
}
