import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const cli = join(root, 'bin', 'tickforge.cjs');

function tickforge(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 });
}

function tmp(name: string, content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickforge-opt-'));
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

const small = {
  data: { ticks: { synthetic: { days: 5, seed: 3, stepPoints: 8 } } },
  strategy: 'reference',
  optimize: { grid: { rsiPeriod: [7, 14], slPips: { from: 10, to: 30, step: 10 } }, target: 'netProfit', topK: 3 },
};

describe('tickforge optimize', () => {
  it('prints the ranked table on stdout, progress on stderr, and writes JSON and CSV', () => {
    const file = tmp('opt.json', small);
    const json = join(mkdtempSync(join(tmpdir(), 'tickforge-out-')), 'r.json');
    const csv = join(mkdtempSync(join(tmpdir(), 'tickforge-out-')), 'r.csv');
    const r = tickforge(['optimize', file, '--json', json, '--csv', csv]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/6 combinations \(grid 6\), 6 completed, 0 failed/);
    expect(r.stdout).toMatch(/rank\s+index\s+rsiPeriod\s+slPips/);
    expect(r.stderr).toMatch(/6\/6 jobs/);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.results).toHaveLength(6);
    expect(result.ranked).toHaveLength(3);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatch(/^index,rsiPeriod,slPips,tpPips,lots,status,score,netProfit/);
    // The table's first row is the best net profit among the CSV rows.
    const col = lines[0]?.split(',').indexOf('netProfit') ?? -1;
    const best = Math.max(...lines.slice(1).map((l) => Number(l.split(',')[col])));
    expect(result.ranked[0].metrics.netProfit).toBeCloseTo(best, 6);
  });

  it('names a bad grid by its path, with exit code 2', () => {
    const file = tmp('bad.json', { ...small, optimize: { grid: { rsiPeriod: { from: 10, to: 5, step: 1 } } } });
    const r = tickforge(['optimize', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('grid.rsiPeriod');
  });
});

describe('tickforge batch, walk-forward and verify', () => {
  it('batch runs every scenario and reports the invalid one without stopping the others', () => {
    const good = tmp('good.json', { data: small.data, strategy: 'reference' });
    const bad = tmp('bad.json', { data: small.data, strategy: 'reference', params: { rsiPeriod: 0 } });
    const batch = tmp('batch.json', { scenarios: [good, bad, good] });
    const r = tickforge(['batch', batch]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/2 completed, 1 failed/);
    expect(r.stdout).toMatch(/1 +\S+bad\.json +failed +params\.rsiPeriod/);
  });

  it('walk-forward prints one line per window', () => {
    const file = tmp('wf.json', {
      ...small,
      data: { ticks: { synthetic: { days: 12, seed: 3, stepPoints: 8 } } },
      windows: { inSample: '4d', outOfSample: '2d' },
    });
    const r = tickforge(['walk-forward', file]);
    expect(r.status).toBe(0);
    const windows = r.stdout.split('\n').filter((l) => /^\d+ +in /.test(l));
    expect(windows.length).toBeGreaterThanOrEqual(3);
  });

  it('verify finds every engine and mode in agreement', () => {
    const r = tickforge(['verify', tmp('v.json', { data: small.data, strategy: 'reference' })]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('all results agree');
    expect(r.stdout.match(/pool \(processes\)/g)).toHaveLength(2);
  });
});
