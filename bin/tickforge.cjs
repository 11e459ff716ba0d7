#!/usr/bin/env node
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'cli.cjs');
if (!existsSync(cli)) {
  process.stderr.write('tickforge: the package is not built yet; run `npm install` (or `npm run build`) first\n');
  process.exit(1);
}
require(cli);
