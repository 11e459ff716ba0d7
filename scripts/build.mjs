#!/usr/bin/env node
// Builds what a fresh clone needs: the native addon (release mode) and the TypeScript bundle.
// Runs from `npm install` (the `prepare` script). A machine without a Rust toolchain still gets a
// working package: the native step is skipped with a clear message and `engine: 'auto'` falls back
// to the pure-TypeScript engine.
//
//   node scripts/build.mjs                 native + TypeScript
//   node scripts/build.mjs --native-only   native addon only
//   node scripts/build.mjs --ts-only       TypeScript only
//   TICKFORGE_SKIP_NATIVE=1                skip the native step
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const wantNative = !args.has('--ts-only') && process.env.TICKFORGE_SKIP_NATIVE !== '1';
const wantTs = !args.has('--native-only');
const bin = (name) => join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

function run(cmd, cmdArgs, what) {
  const started = Date.now();
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error(`tickforge: ${what} failed (${cmd} exited with ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
  console.error(`tickforge: ${what} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function hasCargo() {
  const r = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

if (wantNative) {
  const cargo = hasCargo();
  if (!cargo) {
    const requiredByCaller = args.has('--native-only') || process.env.TICKFORGE_REQUIRE_NATIVE === '1';
    console.error(
      'tickforge: cargo was not found, so the native engine was not built. ' +
        'Install Rust (rustup, stable) and run `npm run build:native`; until then the pure-TypeScript engine is used.',
    );
    if (requiredByCaller) process.exit(1);
  } else if (!existsSync(bin('napi'))) {
    console.error('tickforge: @napi-rs/cli is missing (run npm install first); skipping the native build.');
    if (args.has('--native-only')) process.exit(1);
  } else {
    console.error(`tickforge: building the native engine with ${cargo} (release)`);
    run(
      bin('napi'),
      [
        'build',
        '--platform',
        '--release',
        '--manifest-path',
        'crates/node/Cargo.toml',
        '--package-json-path',
        'package.json',
        '--output-dir',
        '.',
        '--js',
        'binding.cjs',
        '--dts',
        'index.d.ts',
      ],
      'native build',
    );
  }
}

if (wantTs) {
  if (!existsSync(bin('tsup'))) {
    console.error('tickforge: tsup is missing (run npm install first)');
    process.exit(1);
  }
  run(bin('tsup'), [], 'TypeScript build');
}
