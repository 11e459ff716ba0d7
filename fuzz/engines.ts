/** Running one backtest on both engines and comparing what they did. */
import { type BacktestOptions, type BacktestResult, backtest, backtestSync, ValidationError } from '../dist/index.js';
import { attempt, attemptAsync, foreign, type Outcome, summary } from './outcome.js';
import type { Failure } from './types.js';

type Options = Omit<BacktestOptions, 'engine' | 'signal'>;

/** Relative difference, NaN equal to NaN and equal infinities equal. */
function relDiff(a: number, b: number): number {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  if (a === b) return 0;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return Math.abs(a - b) / (scale === 0 ? 1 : scale);
}

/**
 * The first path where `a` and `b` differ, or null: numbers within `tol` relative (0: exactly, NaN
 * equal to NaN), typed arrays and arrays element by element, objects key by key.
 */
function firstDiff(a: unknown, b: unknown, tol: number, path: string): string | null {
  if (typeof a === 'number' && typeof b === 'number') {
    return relDiff(a, b) <= tol ? null : `${path}: ${String(a)} vs ${String(b)}`;
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b) || Array.isArray(a) || Array.isArray(b)) {
    const xa = a as ArrayLike<unknown> | undefined;
    const xb = b as ArrayLike<unknown> | undefined;
    if (typeof xa?.length !== 'number' || typeof xb?.length !== 'number') return `${path}: ${typeof a} vs ${typeof b}`;
    if (xa.length !== xb.length) return `${path}.length: ${xa.length} vs ${xb.length}`;
    for (let i = 0; i < xa.length; i++) {
      const d = firstDiff(xa[i], xb[i], tol, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = new Set(
      [...Object.keys(ra), ...Object.keys(rb)].filter((k) => ra[k] !== undefined || rb[k] !== undefined),
    );
    for (const k of keys) {
      const d = firstDiff(ra[k], rb[k], tol, `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${String(a).slice(0, 80)} vs ${String(b).slice(0, 80)}`;
}

/**
 * The first way two runs differ, or null (docs/semantics.md: trade lists equal exactly, floats
 * within 1e-9 relative between engines; `tol` 0 for two runs of one engine, which are bitwise
 * equal): every field of every trade and rejection, the event count, the metrics and the equity
 * curve.
 */
function runDiff(a: BacktestResult, b: BacktestResult, tol: number): string | null {
  return (
    firstDiff(a.trades, b.trades, 0, 'trades') ??
    firstDiff(a.rejections, b.rejections, 0, 'rejections') ??
    firstDiff(a.events, b.events, 0, 'events') ??
    firstDiff(a.metrics, b.metrics, tol, 'metrics') ??
    firstDiff(a.equity.time, b.equity.time, tol, 'equity.time') ??
    firstDiff(a.equity.equity, b.equity.equity, tol, 'equity.equity') ??
    firstDiff(a.equity.balance, b.equity.balance, tol, 'equity.balance')
  );
}

function firstPath(e: unknown): string {
  return e instanceof ValidationError ? (e.issues[0]?.path ?? '') : '';
}

/**
 * Both engines refuse with a ValidationError, or both run with the same results (runDiff). With `samePath`,
 * the refusals must also name the same first path.
 */
export function compare(
  label: string,
  native: Outcome<BacktestResult>,
  js: Outcome<BacktestResult>,
  samePath: boolean,
): Failure | null {
  const f = foreign(`${label} native`, native) ?? foreign(`${label} js`, js);
  if (f) return f;
  if (native.ok && js.ok) {
    const d = runDiff(native.value, js.value, 1e-9);
    return d ? { kind: 'disagree', detail: `${label}: native vs js ${d}` } : null;
  }
  if (!native.ok && !js.ok && native.error instanceof ValidationError && js.error instanceof ValidationError) {
    if (samePath && firstPath(native.error) !== firstPath(js.error)) {
      return {
        kind: 'disagree',
        detail: `${label}: native refused at ${firstPath(native.error)}, js at ${firstPath(js.error)}`,
      };
    }
    return null;
  }
  return { kind: 'disagree', detail: `${label}: native ${summary(native)} / js ${summary(js)}` };
}

export function runSync(options: Options): { native: Outcome<BacktestResult>; js: Outcome<BacktestResult> } {
  return {
    native: attempt(() => backtestSync({ ...options, engine: 'native' })),
    js: attempt(() => backtestSync({ ...options, engine: 'js' })),
  };
}

export async function runAsync(
  options: Options,
): Promise<{ native: Outcome<BacktestResult>; js: Outcome<BacktestResult> }> {
  return {
    native: await attemptAsync(() => backtest({ ...options, engine: 'native' })),
    js: await attemptAsync(() => backtest({ ...options, engine: 'js' })),
  };
}

/** The sync and async runs of one engine agree: both refuse, or the same results bit for bit. */
export function sameRun(label: string, a: Outcome<BacktestResult>, b: Outcome<BacktestResult>): Failure | null {
  const f = foreign(label, b);
  if (f) return f;
  if (a.ok !== b.ok) return { kind: 'disagree', detail: `${label}: sync ${summary(a)} / async ${summary(b)}` };
  const d = a.ok && b.ok ? runDiff(a.value, b.value, 0) : null;
  return d ? { kind: 'disagree', detail: `${label}: sync vs async ${d}` } : null;
}
