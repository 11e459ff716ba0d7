/**
 * Where a pool worker starts from. The pool's code runs in two forms:
 *
 * - the published bundle (`dist/index.js`, `dist/index.cjs` or one of their chunks): the worker is
 *   the bundle's own `parallel-worker` entry beside it (tsup.config.ts), in the same module format;
 * - the TypeScript sources (tests, `node --import tsx`): the worker is `worker.ts` beside this
 *   file, run through tsx. Processes get tsx's loader with `--import`; worker threads of Node 20 do
 *   not apply loader hooks to their entry module, so a thread starts from a few lines of code that
 *   register tsx's CommonJS hook and then require the source.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ProcessEntry {
  file: string;
  execArgv: string[];
}

export interface ThreadEntry {
  /** A file path, or JavaScript source when `eval` is set. */
  code: string;
  eval: boolean;
}

interface Located {
  file: string;
  source: boolean;
}

let located: Located | undefined;

function locate(): Located {
  if (located) return located;
  // tsup shims import.meta.url in the CommonJS build.
  const self = fileURLToPath(import.meta.url);
  const dir = dirname(self);
  const ext = extname(self);
  const source = ext === '.ts' || ext === '.mts' || ext === '.cts';
  const file = source ? join(dir, `worker${ext}`) : join(dir, `parallel-worker${ext}`);
  if (!existsSync(file)) {
    throw new Error(
      `tickforge: the pool's worker entry ${file} is missing (rebuild the package with \`npm run build\`)`,
    );
  }
  located = { file, source };
  return located;
}

/** tsx is a development dependency: only the TypeScript sources need it. */
function resolveTsx(specifier: string): string {
  try {
    return createRequire(import.meta.url).resolve(specifier);
  } catch (e) {
    throw new Error(`tickforge: running the pool from TypeScript sources needs tsx (${(e as Error).message})`);
  }
}

export function processEntry(): ProcessEntry {
  const { file, source } = locate();
  return { file, execArgv: source ? ['--import', pathToFileURL(resolveTsx('tsx')).href] : [] };
}

export function threadEntry(): ThreadEntry {
  const { file, source } = locate();
  if (!source) return { code: file, eval: false };
  const api = JSON.stringify(resolveTsx('tsx/cjs/api'));
  // Dynamic import works whether the eval code is read as CommonJS or, when the parent runs with
  // `--input-type=module` (inherited by threads), as an ES module.
  const code = [
    `import('node:module').then(({ createRequire }) => {`,
    `  const load = createRequire(${JSON.stringify(file)});`,
    `  load(${api}).register();`,
    `  load(${JSON.stringify(file)});`,
    `});`,
  ].join('\n');
  return { code, eval: true };
}
