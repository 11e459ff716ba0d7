import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cachePath } from '../src/data/load/index.js';
import { nativeLoader } from '../src/data/load/native.js';
import { loadTicks } from '../src/index.js';

const ROWS = 10_000_000;
const T0 = 1704153600000;
const hasNative = nativeLoader() !== null;
const file = join(tmpdir(), `tickforge-large-${String(process.pid)}.csv`);

afterAll(() => {
  rmSync(file, { force: true });
  rmSync(cachePath(file), { force: true });
});

/** Row i: time T0 + 100 i, bid `1.1xxxx` from i mod 1000, ask 0.0002 above, volumes 1 and (i mod 7). */
function writeFile(): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, 'time,ask,bid,ask_volume,bid_volume\n');
    const chunk = 200_000;
    for (let start = 0; start < ROWS; start += chunk) {
      const parts: string[] = [];
      for (let i = start; i < start + chunk; i++) {
        const m = i % 1000;
        const bid = `1.${String(10000 + m)}`;
        const ask = `1.${String(10020 + m)}`;
        parts.push(`${String(T0 + 100 * i)},${ask},${bid},1,${String(i % 7)}\n`);
      }
      writeSync(fd, parts.join(''));
    }
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!hasNative)('a 10-million-row Dukascopy file (native parser)', () => {
  it('loads, then loads again from the cache', { timeout: 600_000 }, async () => {
    writeFile();
    const a = await loadTicks(file, { engine: 'native' });
    expect(a.report.engine).toBe('native');
    expect(a.report.fromCache).toBe(false);
    expect(a.report.rows).toBe(ROWS);
    expect(a.report.rowsRead).toBe(ROWS);
    expect(a.time.length).toBe(ROWS);
    expect([a.time[0], a.bid[0], a.ask[0], a.volume?.[0]]).toEqual([T0, 1.1, 1.1002, 1]);
    const last = ROWS - 1;
    expect([a.time[last], a.bid[last], a.ask[last], a.volume?.[last]]).toEqual([
      T0 + 100 * last,
      1.10999,
      1.11019,
      1 + (last % 7),
    ]);
    const b = await loadTicks(file, { engine: 'native' });
    expect(b.report.fromCache).toBe(true);
    expect(b.report.rows).toBe(ROWS);
    expect(
      Buffer.compare(Buffer.from(b.time.buffer, b.time.byteOffset, b.time.byteLength), Buffer.from(a.time.buffer)),
    ).toBe(0);
    expect(
      Buffer.compare(Buffer.from(b.bid.buffer, b.bid.byteOffset, b.bid.byteLength), Buffer.from(a.bid.buffer)),
    ).toBe(0);
    expect(
      Buffer.compare(Buffer.from(b.ask.buffer, b.ask.byteOffset, b.ask.byteLength), Buffer.from(a.ask.buffer)),
    ).toBe(0);
    const av = a.volume as Float64Array;
    const bv = b.volume as Float64Array;
    expect(
      Buffer.compare(
        Buffer.from(bv.buffer, bv.byteOffset, bv.byteLength),
        Buffer.from(av.buffer, av.byteOffset, av.byteLength),
      ),
    ).toBe(0);
  });
});

describe.skipIf(hasNative)('a 10-million-row Dukascopy file (native parser)', () => {
  it.skip('skipped: the loaded binding has no loadCsv (build it with `npm run build:native`)', () => {});
});
