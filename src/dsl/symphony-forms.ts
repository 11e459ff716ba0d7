/**
 * Names and small helpers shared by the symphony compiler and decompiler: the operator
 * vocabulary of `defsymphony`, form constructors for generated code, and how numbers and symbols
 * are written so that the reader gives them back unchanged.
 */
import { type Form, type FormOf, NO_LOC } from './ast.js';

export const NODE_OPS = [
  'asset',
  'weight-equal',
  'weight-specified',
  'weight-inverse-volatility',
  'filter',
  'group',
  'if',
] as const;
export type NodeOp = (typeof NODE_OPS)[number];

export const COMPARE_OPS = ['>', '<', '>=', '<=', '='] as const;
export const SELECT_OPS = ['select-top', 'select-bottom'] as const;
/** Composer operators this language does not have, with what to write instead. */
export const UNSUPPORTED_OPS: Readonly<Record<string, string>> = {
  and: 'combine conditions by nesting: (if A [(if B [...] [...])] [...])',
  or: 'combine conditions by nesting: (if A [...] [(if B [...] [...])])',
  not: 'negate a condition by swapping its branches or its comparison',
};

export const OPTION_KEYS = [
  'asset-class',
  'rebalance-frequency',
  'rebalance',
  'rebalance-threshold',
  'params',
] as const;
export const FREQUENCIES = ['daily', 'weekly', 'monthly'] as const;
export const PARAM_KEYS = ['default', 'type', 'min', 'max'] as const;

export const sym = (name: string): Form => ({ kind: 'symbol', name, loc: NO_LOC });
export const str = (value: string): Form => ({ kind: 'string', value, loc: NO_LOC });
export const kw = (name: string): Form => ({ kind: 'keyword', name, loc: NO_LOC });
export const nil = (): Form => ({ kind: 'nil', loc: NO_LOC });
export const list = (...items: Form[]): FormOf<'list'> => ({ kind: 'list', items, loc: NO_LOC });
export const vec = (items: Form[]): Form => ({ kind: 'vector', items, loc: NO_LOC });
export const map = (items: Form[]): Form => ({ kind: 'map', items, loc: NO_LOC });

/** The literal the reader turns back into exactly `n` (`-0` keeps its sign). */
export function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`cannot write ${n} as a DSL number`);
  return Object.is(n, -0) ? '-0' : String(n);
}

export const num = (n: number): Form => ({ kind: 'number', value: n, text: numberText(n), loc: NO_LOC });

const SYMBOL_START = /^[A-Za-z_*+!\-?<>=/.&%$]/;
const BREAKS = /[\s,()[\]{}";]/;

/** Whether the reader reads `name` back as a symbol of that name. */
export function isSymbolName(name: string): boolean {
  return (
    SYMBOL_START.test(name) &&
    !BREAKS.test(name) &&
    !/^[+-]?\d/.test(name) &&
    name !== 'true' &&
    name !== 'false' &&
    name !== 'nil'
  );
}
