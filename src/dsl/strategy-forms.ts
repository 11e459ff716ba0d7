/**
 * The vocabulary of `defstrategy` shared by its compiler and decompiler: clause, operator, action
 * and option names, and the keyword spellings of IR field names.
 */
import type { Op } from '../types.js';

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
