/**
 * The vocabulary of `defstrategy` shared by its compiler and decompiler: clause, operator, action
 * and option names, the keyword spellings of IR field names, form constructors for generated code,
 * and how numbers and names are written so that the reader gives them back unchanged.
 */
import type { Op } from '../types.js';
import { type Form, type FormOf, NO_LOC } from './ast.js';

export const CLAUSES = ['param', 'worker', 'when', 'cond'] as const;
export const ACTIONS = ['buy', 'sell', 'close', 'cancel'] as const;
export const OPTION_KEYS = ['symbol', 'timeframe', 'on', 'params', 'workers'] as const;
export const PARAM_OPTION_KEYS = ['type', 'min', 'max'] as const;
/** Options of `buy` and `sell`, in the order the decompiler writes them. */
export const ORDER_OPTIONS = ['lots', 'risk', 'limit', 'stop', 'order', 'price', 'sl', 'tp', 'trail'] as const;
export const ORDER_TYPES = ['market', 'limit', 'stop'] as const;

/** DSL operator -> IR operator. */
export const OPERATORS: Readonly<Record<string, Op>> = {
  '+': '+',
  '-': '-',
  '*': '*',
  '/': '/',
  abs: 'abs',
  min: 'min',
  max: 'max',
  '>': '>',
  '>=': '>=',
  '<': '<',
  '<=': '<=',
  '=': '==',
  'not=': '!=',
  and: 'and',
  or: 'or',
  not: 'not',
  'cross-above': 'crossAbove',
  'cross-below': 'crossBelow',
};

/** IR operator -> DSL operator (`neg` is `-` with one argument). */
export const OPERATOR_NAMES: Readonly<Record<Op, string>> = {
  '+': '+',
  '-': '-',
  '*': '*',
  '/': '/',
  min: 'min',
  max: 'max',
  '>': '>',
  '>=': '>=',
  '<': '<',
  '<=': '<=',
  '==': '=',
  '!=': 'not=',
  and: 'and',
  or: 'or',
  not: 'not',
  neg: '-',
  abs: 'abs',
  crossAbove: 'cross-above',
  crossBelow: 'cross-below',
};

export const BAR_FIELDS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

/** The accessors with one keyword argument: DSL head -> IR key, and keyword -> IR value. */
export const STATE_KEYS = { tick: 'quote', position: 'position', account: 'account', time: 'time' } as const;
export type StateHead = keyof typeof STATE_KEYS;
export const STATE_FIELDS: Readonly<Record<StateHead, Readonly<Record<string, string>>>> = {
  tick: { bid: 'bid', ask: 'ask', mid: 'mid', spread: 'spread' },
  position: { side: 'side', lots: 'lots', 'entry-price': 'entryPrice', pnl: 'pnl', 'pnl-pips': 'pnlPips' },
  account: { balance: 'balance', equity: 'equity' },
  time: { hour: 'hour', minute: 'minute', weekday: 'weekday', 'minute-of-day': 'minuteOfDay' },
};

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** Every name that has a meaning at the head of an expression list. */
export const EXPRESSION_HEADS: readonly string[] = [
  'param',
  'worker',
  'bar',
  'forming',
  'prev',
  'tick',
  'position',
  'account',
  'time',
  ...Object.keys(OPERATORS),
  'hour-between',
  'weekday-in',
];

/** The keyword spelling of an IR field name (`entryPrice` -> `entry-price`). */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

// ---------------------------------------------------------------- form constructors

export const sym = (name: string): Form => ({ kind: 'symbol', name, loc: NO_LOC });
export const str = (value: string): Form => ({ kind: 'string', value, loc: NO_LOC });
export const kw = (name: string): Form => ({ kind: 'keyword', name, loc: NO_LOC });
export const bool = (value: boolean): Form => ({ kind: 'boolean', value, loc: NO_LOC });
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

/** A declared name as written: a symbol when the reader gives it back as one, else a string. */
export const nameForm = (name: string): Form => (isSymbolName(name) ? sym(name) : str(name));
