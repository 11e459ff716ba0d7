/**
 * The limits of a strategy, read from the file the Rust engine reads too
 * (crates/core/limits.json): both engines refuse exactly what lies outside them
 * (docs/semantics.md section 4.6).
 */
import shared from '../../crates/core/limits.json' with { type: 'json' };

export interface Limits {
  /** Every indicator period (`period`, MACD's `fast`, `slow`, `signal`). */
  readonly period: { readonly min: number; readonly max: number };
  /** How many closed bars (or indicator values) back a reference may read. */
  readonly offset: { readonly max: number };
  /** Levels of one expression, a leaf being level 1. */
  readonly expressionDepth: number;
  /** Arguments of one operation. */
  readonly operationArgs: number;
}

export const LIMITS: Limits = Object.freeze({
  period: Object.freeze({ min: shared.period.min, max: shared.period.max }),
  offset: Object.freeze({ max: shared.offset.max }),
  expressionDepth: shared.expressionDepth,
  operationArgs: shared.operationArgs,
});

/** A lone UTF-16 surrogate: a string with one cannot be written as UTF-8 (nor read by the native engine). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}
