/** Strategy files: a DSL file (`.clj`, one `defstrategy`) or an IR JSON file, read into an IR. */
import { readFileSync } from 'node:fs';
import { ValidationError } from '../errors.js';
import type { StrategyIR } from '../types.js';
import { compile } from './index.js';

/** Whether `path` names a DSL file (by its `.clj` extension). */
export function isDslFile(path: string): boolean {
  return /\.clj$/i.test(path);
}

/**
 * Reads a strategy file. A `.clj` file is compiled (a DslError lists every problem; a
 * `defsymphony` is refused); any other file is parsed as IR JSON, which the backtest validates.
 */
export function loadStrategyFile(path: string): StrategyIR {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw ValidationError.at(path, `cannot read the strategy: ${(e as Error).message}`);
  }
  if (isDslFile(path)) {
    const compiled = compile(text, { file: path });
    if (compiled.kind !== 'strategy') {
      throw ValidationError.at(
        path,
        'this file defines a symphony (defsymphony), not a strategy; symphonies run with `tickforge symphony`',
      );
    }
    return compiled.ir;
  }
  try {
    return JSON.parse(text) as StrategyIR;
  } catch (e) {
    throw ValidationError.at(path, `not valid JSON: ${(e as Error).message}`);
  }
}
