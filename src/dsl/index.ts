/**
 * The DSL's entry points: compile a file (one `defstrategy` or one `defsymphony`) to its IR,
 * check it (every problem at once), print it canonically, and print an IR back as DSL text.
 */

import type { SymphonyIR } from '../symphony/types.js';
import type { StrategyIR } from '../types.js';
import { type Form, withoutComments } from './ast.js';
import { type Diagnostic, Diagnostics, DslError } from './errors.js';
import { type PrintOptions, printForms } from './print.js';
import { read } from './reader.js';
import { compileStrategyForm, strategyToForm } from './strategy.js';
import { compileSymphonyForm, symphonyToForm } from './symphony.js';

export type Compiled = { kind: 'strategy'; ir: StrategyIR } | { kind: 'symphony'; ir: SymphonyIR };

export interface CompileOptions {
  /** Shown in every location (default `<input>`). */
  file?: string;
  /** Tickers present in the data: a symphony naming another ticker is an error. */
  tickers?: readonly string[];
}

const DEFINERS = ['defstrategy', 'defsymphony'];

/** Compiles one DSL file. Throws a DslError listing every problem found. */
export function compile(source: string, options: CompileOptions = {}): Compiled {
  const file = options.file ?? '<input>';
  const forms = withoutComments(read(source, { file }));
  const diags = new Diagnostics(source);
  const defs = forms.filter((f): f is Extract<Form, { kind: 'list' }> => f.kind === 'list');
  for (const f of forms) {
    if (f.kind !== 'list')
      diags.at(f, 'only a (defstrategy ...) or (defsymphony ...) form may appear at the top level');
  }
  if (defs.length === 0 && diags.empty) {
    diags.at(
      { file, line: 1, column: 1, start: 0, end: 1 },
      'no (defstrategy ...) or (defsymphony ...) form in this file',
    );
  }
  for (const extra of defs.slice(1)) diags.at(extra, 'a file holds one definition; this is a second one');
  const def = defs[0];
  let result: Compiled | null = null;
  if (def) {
    const head = def.items[0];
    if (head?.kind === 'symbol' && head.name === 'defstrategy') {
      const ir = compileStrategyForm(def, diags);
      if (ir) result = { kind: 'strategy', ir };
    } else if (head?.kind === 'symbol' && head.name === 'defsymphony') {
      const ir = compileSymphonyForm(def, diags, options.tickers ? { tickers: options.tickers } : {});
      if (ir) result = { kind: 'symphony', ir };
    } else {
      const name = head?.kind === 'symbol' ? head.name : '';
      const hint = name ? nearDefiner(name) : undefined;
      diags.at(head ?? def, 'a file starts with (defstrategy ...) or (defsymphony ...)', hint);
    }
  }
  diags.throwIfAny();
  if (!result) throw new DslError([], source);
  return result;
}

function nearDefiner(name: string): string | undefined {
  for (const d of DEFINERS) {
    if (d !== name && d.slice(0, 5) === name.slice(0, 5)) return `did you mean \`${d}\`?`;
  }
  return undefined;
}

/** Every problem in a file (empty when it compiles). Never throws for bad input. */
export function check(source: string, options: CompileOptions = {}): Diagnostic[] {
  try {
    compile(source, options);
    return [];
  } catch (e) {
    if (e instanceof DslError) return e.diagnostics;
    throw e;
  }
}

/** The canonical text of a file, comments kept. Throws a DslError on a syntax error. */
export function format(source: string, options: PrintOptions & { file?: string } = {}): string {
  return printForms(read(source, { file: options.file ?? '<input>', comments: true }), options);
}

/** DSL text for an IR; compiling it gives the same IR back. */
export function toDsl(ir: StrategyIR | SymphonyIR, options: PrintOptions = {}): string {
  const form = 'kind' in ir && ir.kind === 'symphony' ? symphonyToForm(ir) : strategyToForm(ir as StrategyIR);
  return printForms([form], options);
}

export { type Diagnostic, DslError, formatDiagnostic } from './errors.js';
export { printForms } from './print.js';
export { read } from './reader.js';
