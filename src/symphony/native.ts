/**
 * The native symphony engine, feature-detected on the loaded binding (`NativeDailyData.fromColumns`,
 * `runSymphonies`, `runSymphoniesSync`): older binaries without it fall back to the TypeScript
 * engine under `auto`.
 */

import { loadNative, nativeLoadFailure } from '../engine/native.js';
import type { EngineChoice, EngineName } from '../engine/select.js';
import { TickforgeError, ValidationError } from '../errors.js';
import { logger } from '../log.js';
import type { DailyData, SymphonyMetrics, SymphonyOutput, SymphonyRunConfig } from './types.js';

/** The binding's handle on daily data (opaque here). */
export type NativeDailyDataHandle = object;

export interface NativeCancelToken {
  cancel(): void;
  readonly cancelled: boolean;
}

export type NativeSymphonyResult =
  | {
      ok: true;
      tickers: string[];
      time: Float64Array;
      equity: Float64Array;
      weights: Float64Array;
      rebalanceDays: Int32Array;
      metrics: SymphonyMetrics;
    }
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

const CHOICES: readonly EngineChoice[] = ['native', 'js', 'auto'];
let warned = false;

/** As `selectEngine`, but native only when the binding has the symphony engine. */
export function selectSymphonyEngine(requested: EngineChoice = 'auto'): EngineName {
  const fromEnv = process.env.TICKFORGE_ENGINE;
  let choice = requested;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!CHOICES.includes(fromEnv as EngineChoice)) {
      throw ValidationError.at('TICKFORGE_ENGINE', `'${fromEnv}' is not one of native, js, auto`);
    }
    choice = fromEnv as EngineChoice;
  } else if (!CHOICES.includes(choice)) {
    throw ValidationError.at('engine', `'${String(choice)}' is not one of native, js, auto`);
  }
  if (choice === 'js') return 'js';
  if (nativeSymphony()) return 'native';
  if (choice === 'native') {
    throw new TickforgeError(
      'ERR_TICKFORGE_NATIVE_UNAVAILABLE',
      `the native symphony engine is not available (${unavailableReason()}); use engine: 'js'`,
    );
  }
  if (!warned) {
    warned = true;
    logger().warn(
      { reason: unavailableReason() },
      'native symphony engine unavailable; using the pure-TypeScript engine (same results, slower)',
    );
  }
  return 'js';
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
