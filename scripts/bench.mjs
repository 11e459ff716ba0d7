#!/usr/bin/env node
// `npm run bench`: runs benchmark/index.ts with the native addon built in release mode.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tsx.cmd' : 'tsx');
const r = spawnSync(tsx, ['benchmark/index.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TICKFORGE_ENGINE: '' },
});
process.exit(r.status ?? 1);
