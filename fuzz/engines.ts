/** Running one backtest on both engines and comparing what they did. */
import { type BacktestOptions, type BacktestResult, backtest, backtestSync, ValidationError } from '../dist/index.js';
import { attempt, attemptAsync, foreign, type Outcome, summary } from './outcome.js';
import type { Failure } from './types.js';

type Options = Omit<BacktestOptions, 'engine' | 'signal'>;

function tradesKey(r: BacktestResult): string {
  return r.trades.map((t) => `${t.side}@${t.entryTime}-${t.exitTime}`).join(',');
}

/** The first way two trade lists differ, or null. */
function tradeDiff(a: BacktestResult, b: BacktestResult): string | null {
  if (a.trades.length !== b.trades.length) return `trade count native ${a.trades.length} vs js ${b.trades.length}`;
  for (let i = 0; i < a.trades.length; i++) {
    const x = a.trades[i]!;
    const y = b.trades[i]!;
    if (x.side !== y.side || x.entryTime !== y.entryTime || x.exitTime !== y.exitTime) {
      return `trade ${i}: native ${x.side}@${x.entryTime}-${x.exitTime} vs js ${y.side}@${y.entryTime}-${y.exitTime}`;
    }
  }
  return null;
}

function firstPath(e: unknown): string {
  return e instanceof ValidationError ? (e.issues[0]?.path ?? '') : '';
}

/**
 * Both engines refuse with a ValidationError, or both run with the same trades. With `samePath`,
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
    const d = tradeDiff(native.value, js.value);
    return d ? { kind: 'disagree', detail: `${label}: ${d}` } : null;
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

/** The sync and async runs of one engine agree (both refuse or the same trades). */
export function sameRun(label: string, a: Outcome<BacktestResult>, b: Outcome<BacktestResult>): Failure | null {
  const f = foreign(label, b);
  if (f) return f;
  if (a.ok !== b.ok) return { kind: 'disagree', detail: `${label}: sync ${summary(a)} / async ${summary(b)}` };
  if (a.ok && b.ok && tradesKey(a.value) !== tradesKey(b.value)) {
    return { kind: 'disagree', detail: `${label}: sync and async trades differ` };
  }
  return null;
}
