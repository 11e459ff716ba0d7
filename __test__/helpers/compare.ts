import { expect } from 'vitest';
import { type EngineOutput, METRIC_KEYS } from '../../src/types.js';

/** Relative difference with NaN == NaN and equal infinities treated as equal. */
export function relDiff(a: number, b: number): number {
  if (Number.isNaN(a) && Number.isNaN(b)) return 0;
  if (a === b) return 0;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return Math.abs(a - b) / (scale === 0 ? 1 : scale);
}

export function expectClose(a: number, b: number, tol: number, what: string): void {
  const d = relDiff(a, b);
  if (!(d <= tol)) expect.fail(`${what}: ${a} vs ${b} (relative difference ${d})`);
}

/** Trades equal exactly (NaN-aware), metrics and equity within `tol` relative. */
export function expectSameOutput(a: EngineOutput, b: EngineOutput, tol = 1e-9): void {
  expect(a.trades.length).toBe(b.trades.length);
  for (let i = 0; i < a.trades.length; i++) {
    expect(a.trades[i]).toStrictEqual(b.trades[i]);
  }
  expect(a.rejections).toStrictEqual(b.rejections);
  expect(a.events).toBe(b.events);
  for (const k of METRIC_KEYS) expectClose(a.metrics[k], b.metrics[k], tol, `metrics.${k}`);
  expect(a.equity.time.length).toBe(b.equity.time.length);
  for (const col of ['time', 'equity', 'balance'] as const) {
    for (let i = 0; i < a.equity[col].length; i++) {
      expectClose(a.equity[col][i] as number, b.equity[col][i] as number, tol, `equity.${col}[${i}]`);
    }
  }
}

/** Bitwise identity of two runs of one engine (NaN-aware via Object.is). */
export function expectIdentical(a: EngineOutput, b: EngineOutput): void {
  expect(a.trades).toStrictEqual(b.trades);
  expect(a.rejections).toStrictEqual(b.rejections);
  for (const k of METRIC_KEYS) {
    if (!Object.is(a.metrics[k], b.metrics[k])) expect.fail(`metrics.${k}: ${a.metrics[k]} vs ${b.metrics[k]}`);
  }
  for (const col of ['time', 'equity', 'balance'] as const) {
    expect(Buffer.from(a.equity[col].buffer, a.equity[col].byteOffset, a.equity[col].byteLength)).toStrictEqual(
      Buffer.from(b.equity[col].buffer, b.equity[col].byteOffset, b.equity[col].byteLength),
    );
  }
}

/**
 * Bitwise equality: numbers by Object.is (NaN equals NaN, 0 differs from -0), typed arrays by their
 * bytes, arrays and plain objects key by key.
 */
export function bitwiseEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!(ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) || a.constructor !== b.constructor) return false;
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!bitwiseEqual(a[i], b[i])) return false;
    return true;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) {
      if (!Object.hasOwn(b, k) || !bitwiseEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) {
        return false;
      }
    }
    return true;
  }
  return a === b;
}

/**
 * `expectIdentical` plus the event count, checked with a fast bitwise pass first: only outputs that
 * differ pay for `expectIdentical`'s detailed report (its byte-by-byte matcher is slow on long
 * equity curves).
 */
export function expectIdenticalFast(a: EngineOutput, b: EngineOutput): void {
  const same =
    a.events === b.events &&
    bitwiseEqual(a.trades, b.trades) &&
    bitwiseEqual(a.rejections, b.rejections) &&
    METRIC_KEYS.every((k) => Object.is(a.metrics[k], b.metrics[k])) &&
    bitwiseEqual(a.equity.time, b.equity.time) &&
    bitwiseEqual(a.equity.equity, b.equity.equity) &&
    bitwiseEqual(a.equity.balance, b.equity.balance);
  if (same) return;
  expectIdentical(a, b);
  expect(a.events).toBe(b.events);
  expect.fail('the outputs differ bitwise');
}
