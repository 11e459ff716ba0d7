/**
 * Form constructors for generated code, shared by the strategy and symphony decompilers, and how
 * numbers and names are written so that the reader gives them back unchanged.
 */
import { type Form, type FormOf, NO_LOC } from './ast.js';
import { SYMBOL_START } from './reader.js';

export const sym = (name: string): Form => ({ kind: 'symbol', name, loc: NO_LOC });
export const str = (value: string): Form => ({ kind: 'string', value, loc: NO_LOC });
export const kw = (name: string): Form => ({ kind: 'keyword', name, loc: NO_LOC });
export const bool = (value: boolean): Form => ({ kind: 'boolean', value, loc: NO_LOC });
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
