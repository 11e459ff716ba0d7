import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type NativeBinding = typeof import('../../index.js');

let cached: NativeBinding | null | undefined;
let failure: string | undefined;

function here(): string {
  // tsup shims import.meta.url in the CommonJS build.
  return dirname(fileURLToPath(import.meta.url));
}

/**
 * Loads the napi-generated loader (`binding.cjs` at the package root), which picks the binary for
 * this platform: a local build (`tickforge.<platform>.node`) or an installed platform package.
 * Works from `src/engine` (tests) and from `dist` (the published bundle).
 */
export function loadNative(): NativeBinding | null {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const dir = here();
  const candidates = [join(dir, '..', 'binding.cjs'), join(dir, '..', '..', 'binding.cjs')];
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    failure = 'binding.cjs was not found next to the package';
    cached = null;
    return cached;
  }
  try {
    cached = require(path) as NativeBinding;
  } catch (e) {
    failure = e instanceof Error ? e.message.split('\n')[0] : String(e);
    cached = null;
  }
  return cached;
}

/** Why the native engine could not be loaded, if it could not. */
export function nativeLoadFailure(): string | undefined {
  loadNative();
  return failure;
}
