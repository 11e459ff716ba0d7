#!/usr/bin/env node
// `npm test`: the engine's cargo tests, then the vitest suites (boundary, parity, end to end) and a
// strict type check. The native addon must already be built (`npm install` builds it).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);

function step(what, cmd, args) {
  console.error(`\n== ${what}: ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error(`== ${what} failed`);
    process.exit(r.status ?? 1);
  }
}

if (spawnSync('cargo', ['--version']).status !== 0) {
  console.error('tickforge: cargo is required for the engine tests (install Rust stable with rustup)');
  process.exit(1);
}
step('engine tests', 'cargo', ['test', '--workspace', '--exclude', 'tickforge-node']);
step('type check', bin('tsc'), ['--noEmit', '-p', '.']);
step('vitest', bin('vitest'), ['run']);
