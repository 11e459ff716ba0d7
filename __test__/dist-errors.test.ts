/**
 * The built package (dist/, as `npm install` builds it), ESM and CommonJS: every error class is
 * named for itself, whatever the bundler renamed the class to, and errors raised by a real run
 * carry that name (in `String(e)`, and as `error.type` of a failed batch item).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const CLASSES = ['TickforgeError', 'ValidationError', 'EngineError', 'CancelledError', 'TimeoutError', 'DslError'];

// biome-ignore lint/suspicious/noExplicitAny: the package as loaded
type Pkg = Record<string, any>;

const builds: [string, () => Promise<Pkg>][] = [
  ['esm', () => import(pathToFileURL(join(root, 'dist', 'index.js')).href)],
  ['cjs', async () => createRequire(import.meta.url)(join(root, 'dist', 'index.cjs'))],
];

function make(pkg: Pkg, name: string): Error {
  switch (name) {
    case 'TickforgeError':
      return new pkg.TickforgeError('ERR_TICKFORGE_ENGINE', 'x');
    case 'ValidationError':
      return pkg.ValidationError.at('here', 'x');
    case 'EngineError':
      return new pkg.EngineError('ERR_TICKFORGE_ENGINE', 'x');
    case 'DslError':
      return new pkg.DslError([{ file: 'f.clj', line: 1, column: 1, length: 1, message: 'x' }], '(');
    default:
      return new pkg[name]();
  }
}

describe.each(builds)('the built package (%s)', (_, load) => {
  it('names every error class after itself', async () => {
    const pkg = await load();
    for (const name of CLASSES) {
      const e = make(pkg, name);
      expect(e).toBeInstanceOf(pkg.TickforgeError);
      expect(e.name).toBe(name);
      expect(String(e)).toMatch(new RegExp(`^${name}: `));
    }
  });

  it('raises named errors from a real run and reports them by name in a batch', async () => {
    const pkg = await load();
    const ticks = pkg.generateTicks({ days: 0.1, seed: 1 });
    const bad = { ...pkg.referenceStrategy, version: 2 };
    for (const engine of ['native', 'js']) {
      let caught: unknown;
      try {
        pkg.backtestSync({ ticks, strategy: bad, engine });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(pkg.ValidationError);
      expect(String(caught)).toMatch(/^ValidationError: strategy\.version/);
    }
    const batch = await pkg.runBatch({
      scenarios: [{ ticks, strategy: bad, engine: 'js' }],
      parallelism: 'none',
    });
    expect(batch.items[0].error.type).toBe('ValidationError');
  });
});
