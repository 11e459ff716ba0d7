/**
 * Installs the DSL as the compiler of `{ source, path }` files in `runSymphonies`. Importing this
 * module registers it; `compileSymphonySource` is the function registered.
 */
import { registerSymphonyCompiler } from '../symphony/run.js';
import type { SymphonyIR } from '../symphony/types.js';
import { withoutComments } from './ast.js';
import { DslError, diagnosticAt } from './errors.js';
import { compile } from './index.js';
import { read } from './reader.js';

/**
 * Compiles a `defsymphony` file to its IR (a ticker not in `tickers`, when given, is an error at
 * the string naming it). Throws a DslError listing every problem, or naming the
 * definition when the file holds a `defstrategy`.
 */
export function compileSymphonySource(source: string, path: string, tickers?: readonly string[]): SymphonyIR {
  const compiled = compile(source, tickers ? { file: path, tickers } : { file: path });
  if (compiled.kind === 'symphony') return compiled.ir;
  const def = withoutComments(read(source, { file: path })).find((f) => f.kind === 'list');
  const loc = def?.loc ?? { file: path, line: 1, column: 1, start: 0, end: 1 };
  throw new DslError(
    [diagnosticAt(loc, 'this file defines a strategy, not a symphony', 'a symphony file holds (defsymphony ...)')],
    source,
  );
}

registerSymphonyCompiler(compileSymphonySource);
