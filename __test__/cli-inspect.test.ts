import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const cli = join(root, 'bin', 'tickforge.cjs');
const dir = mkdtempSync(join(tmpdir(), 'tickforge-inspect-'));

function tickforge(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const T0 = Date.UTC(2024, 0, 2, 10, 0, 0);

/** Dukascopy ticks, one a second, spread 1.2 pips. */
function dukascopy(rows: number, at = T0): string[] {
  const lines = ['timestamp,askPrice,bidPrice,askVolume,bidVolume'];
  for (let i = 0; i < rows; i++) {
    const bid = 1.1 + i * 0.00001;
    lines.push(`${at + i * 1000},${(bid + 0.00012).toFixed(5)},${bid.toFixed(5)},1.5,2.25`);
  }
  return lines;
}

describe('tickforge inspect', () => {
  it('reports a clean Dukascopy file: format, rows, range, spread in pips, exit code 0', () => {
    const path = file('EURUSD_clean.csv', `${dukascopy(5).join('\n')}\n`);
    const r = tickforge(['inspect', path]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('dukascopy (ticks)');
    expect(r.stdout).toMatch(/Rows read\s+5\n/);
    expect(r.stdout).toMatch(/Rows kept\s+5\n/);
    expect(r.stdout).toMatch(/Rows skipped\s+0\n/);
    expect(r.stdout).toContain(new Date(T0).toISOString());
    expect(r.stdout).toContain(new Date(T0 + 4000).toISOString());
    expect(r.stdout).toContain('1.20 / 1.20 / 1.20 pips, EURUSD');
    expect(r.stdout).toMatch(/Gaps\s+none/);
    expect(r.stdout).not.toContain('First problems');
  });

  it('lists the bad rows with their line numbers and exits with code 1', () => {
    const lines = dukascopy(8);
    lines[3] = `${T0 + 2000},1.10000,1.10010,1,1`; // crossed: ask < bid
    lines[5] = `${T0 + 4000},abc,1.10004,1,1`; // unparseable ask
    lines[7] = `${T0},1.10020,1.10008,1,1`; // earlier than the last kept row
    const path = file('bad.csv', `${lines.join('\n')}\n`);
    const r = tickforge(['inspect', path]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/Rows read\s+8\n/);
    expect(r.stdout).toMatch(/Rows kept\s+5\n/);
    expect(r.stdout).toContain('Rows skipped');
    expect(r.stdout).toMatch(/crossed 1/);
    expect(r.stdout).toMatch(/unparseable 1/);
    expect(r.stdout).toMatch(/time_backwards 1/);
    expect(r.stdout).toMatch(/row 4: crossed/);
    expect(r.stdout).toMatch(/row 6: unparseable/);
    expect(r.stdout).toMatch(/row 8: time_backwards/);
  });

  it('reports bars with their timeframe and gaps', () => {
    const lines = ['time,open,high,low,close,volume'];
    const t = Date.UTC(2024, 0, 1);
    for (let i = 0; i < 12; i++) {
      const at = t + (i < 6 ? i : i + 20) * 300_000;
      lines.push(`${new Date(at).toISOString().replace('.000Z', '')},1.1,1.1005,1.0995,1.1002,${10 + i}`);
    }
    const path = file('bars.csv', `${lines.join('\n')}\n`);
    const r = tickforge(['inspect', path]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('csv (bars)');
    expect(r.stdout).toMatch(/Timeframe\s+M5/);
    expect(r.stdout).toMatch(/Gaps\s+1 over 15\.0 min, largest 1\.8 h/);
  });

  it('counts MT5 rows before both sides are known as incomplete, not as problems', () => {
    const lines = ['<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>'];
    lines.push('2024.01.02\t10:00:00.000\t1.10000\t\t\t\t2');
    lines.push('2024.01.02\t10:00:00.500\t1.10001\t\t\t\t2');
    lines.push('2024.01.02\t10:00:01.000\t\t1.10013\t\t\t4');
    lines.push('2024.01.02\t10:00:02.000\t1.10002\t1.10014\t\t\t6');
    const path = file('EURUSD_mt5.csv', `${lines.join('\r\n')}\r\n`);
    const r = tickforge(['inspect', path, '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.format).toBe('mt5');
    expect(report.incomplete).toBe(2);
    expect(report.rows).toBe(2);
    expect(report.skipped.total).toBe(0);
  });

  it('--json prints the loader report', () => {
    const lines = dukascopy(6);
    lines[2] = `${T0 + 1000},1.10013,-1,1,1`;
    const path = file('GBPUSD-ticks.csv', `${lines.join('\n')}\n`);
    const r = tickforge(['inspect', path, '--json']);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      path: expect.stringContaining('GBPUSD-ticks.csv'),
      format: 'dukascopy',
      kind: 'ticks',
      fromCache: false,
      rowsRead: 6,
      rows: 5,
      skipped: { total: 1, byReason: { bad_price: 1 }, first: [{ row: 3, reason: 'bad_price' }] },
      first: T0,
      last: T0 + 5000,
      symbol: 'GBPUSD',
    });
    expect(report.spread.min).toBeCloseTo(0.00012, 10);
    expect(report.spreadPips.mean).toBeCloseTo(1.2, 6);
    expect(report.gaps).toMatchObject({ count: 0 });
  });

  it('an HistData file with --timezone shifts the times', () => {
    const path = file('histdata.csv', '20240102 100000000,1.10000,1.10010,0\n20240102 100001000,1.10001,1.10011,0\n');
    const est = JSON.parse(tickforge(['inspect', path, '--json']).stdout);
    const utc = JSON.parse(tickforge(['inspect', path, '--json', '--timezone', 'UTC']).stdout);
    expect(est.format).toBe('histdata');
    expect(utc.first).toBe(Date.UTC(2024, 0, 2, 10));
    expect(est.first).toBe(Date.UTC(2024, 0, 2, 15));
  });

  it('a missing or unrecognisable file is a clear error with exit code 2', () => {
    const missing = tickforge(['inspect', join(dir, 'nope.csv')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('nope.csv');
    expect(missing.stdout).toBe('');

    const text = file('notes.txt', 'hello world\nthis is not market data\n');
    const unknown = tickforge(['inspect', text]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('notes.txt');

    const badFormat = tickforge(['inspect', text, '--format', 'xlsx']);
    expect(badFormat.status).not.toBe(0);
    expect(badFormat.stderr).toContain('format must be one of');
  });
});

describe('tickforge inspect, an empty file', () => {
  it('says a header-only file has no data rows and exits 1', () => {
    const path = file('EURUSD_empty.csv', 'timestamp,askPrice,bidPrice,askVolume,bidVolume\n');
    const r = tickforge(['inspect', path]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${path}: no data rows to use`);
  });
});
