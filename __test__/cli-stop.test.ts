/**
 * More of the CLI's stop on SIGINT and SIGTERM (cli-signals.test.ts has optimize and
 * walk-forward): batch, symphony and run; the CSV of a stopped optimize; a second signal that
 * exits at once although the work ignores the first; and pool children that leave in the middle
 * of a long job when their parent is killed outright, with either engine. Each test signals only
 * after the command has reported progress, never after a fixed sleep.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { childrenOf, goneWithin, root, start } from './helpers/cli-process.js';

function tmpDir(): string {
  return mkdtempSync(join(tmpdir(), 'tickforge-stop-'));
}

function writeJson(dir: string, name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

const ticks = (days: number) => ({ ticks: { synthetic: { symbol: 'EURUSD', start: '2024-01-01', days, seed: 7 } } });

/**
 * A rule on every tick that sums a thousand quotes: milliseconds per thousand ticks, seconds per
 * job. The quote changes every tick, so both engines evaluate the sum on every tick (a sum of
 * closed bars would be evaluated only when a bar closes).
 */
const slow = {
  version: 1,
  name: 'slow',
  params: { k: { default: 0 } },
  decision: { timeframe: 'M5', on: 'tick' },
  workers: [],
  rules: [
    {
      when: { op: '<', args: [{ op: '+', args: new Array(1000).fill({ quote: 'mid' }) }, { param: 'k' }] },
      then: [{ action: 'buy', lots: 1 }],
    },
  ],
};

describe('tickforge stops on SIGINT and SIGTERM', () => {
  it('optimize writes every combination to the CSV, the unfinished ones cancelled', async () => {
    const dir = tmpDir();
    const file = writeJson(dir, 'opt.json', {
      data: ticks(20),
      strategy: 'reference',
      engine: 'js',
      optimize: {
        grid: { rsiPeriod: { from: 6, to: 45, step: 1 }, slPips: [10, 20, 30, 40], tpPips: [20, 40, 60, 80] },
        parallelism: 'threads',
        maxWorkers: 2,
      },
    });
    const csv = join(dir, 'r.csv');
    const json = join(dir, 'r.json');
    const r = start(['optimize', file, '--csv', csv, '--json', json]);
    // Some done, not all (the progress line comes every two seconds when stderr is no terminal).
    await r.waitFor(/\b(?!640\/)[1-9]\d*\/640 jobs/);
    r.child.kill('SIGINT');
    expect((await r.exited).code).toBe(130);
    expect(r.stdout()).toMatch(/640 combinations \(grid 640\), [1-9]\d* completed, .*cancelled \(partial\)/);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    const status = rows[0]?.split(',').indexOf('status') ?? -1;
    const counts = new Map<string, number>();
    for (const row of rows.slice(1)) {
      const s = row.split(',')[status] as string;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect(rows).toHaveLength(641);
    expect(counts.get('completed')).toBeGreaterThan(0);
    expect(counts.get('cancelled')).toBeGreaterThan(0);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.partial).toBe(true);
    expect(result.completed).toBe(counts.get('completed'));
  }, 120_000);

  it('batch (processes) on SIGTERM: the finished scenarios printed and written, exit 143, no child left', async () => {
    const dir = tmpDir();
    const one = writeJson(dir, 'one.json', { data: ticks(20), strategy: 'reference', engine: 'js' });
    const batch = writeJson(dir, 'batch.json', {
      scenarios: new Array(120).fill(one),
      parallelism: 'processes',
      maxWorkers: 2,
    });
    const json = join(dir, 'b.json');
    const r = start(['batch', batch, '--json', json]);
    // Some done, not all: enough scenarios that the first progress line (after two seconds when
    // stderr is no terminal) comes long before the last, even on a fast machine.
    await r.waitFor(/\b(?!120\/)[1-9]\d*\/120 jobs/);
    const children = childrenOf(r.child.pid as number);
    expect(children.length).toBeGreaterThan(0);
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(143);
    expect(r.stderr()).toContain('SIGTERM received');
    expect(r.stdout()).toMatch(/batch \S+: [1-9]\d* completed, 0 failed, 0 timed out, [1-9]\d* cancelled \(partial\)/);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.partial).toBe(true);
    expect(result.items).toHaveLength(120);
    expect(result.items.some((i: { status: string }) => i.status === 'completed')).toBe(true);
    expect(await goneWithin(children, 3000)).toEqual([]);
  }, 120_000);

  it('symphony on SIGINT: the finished files printed as JSON marked partial, exit 130', async () => {
    const dir = tmpDir();
    // A filter over forty groups: a fraction of a second per file on this calendar.
    const groups = Array.from(
      { length: 40 },
      (_, g) =>
        `(group "g${g}" [(filter (rsi ${5 + g}) (select-top 2) [(asset "SPY") (asset "QQQ") (asset "TLT") (asset "GLD")])])`,
    ).join(' ');
    const sym = join(dir, 'heavy.clj');
    writeFileSync(sym, `(defsymphony "heavy" {} (filter (stdev-return 30) (select-bottom 3) [${groups}]))`);
    const files = new Array(60).fill(sym);
    const r = start(['symphony', ...files, '--engine', 'js', '--days', '5000', '--progress', '--json']);
    await r.waitFor(/\b[1-9]\d*\/60 files finished/);
    r.child.kill('SIGINT');
    expect((await r.exited).code).toBe(130);
    const out = JSON.parse(r.stdout());
    expect(out.partial).toBe(true);
    const statuses = out.files.map((f: { status: string }) => f.status);
    expect(statuses).toHaveLength(60);
    expect(statuses).toContain('ok');
    expect(statuses).toContain('failed');
    for (const f of out.files.filter((x: { status: string }) => x.status === 'failed')) {
      expect(f.error.code).toBe('ERR_TICKFORGE_CANCELLED');
    }
  }, 120_000);

  it('run on SIGTERM: nothing had finished, one line says so, exit 143', async () => {
    const dir = tmpDir();
    const file = writeJson(dir, 'run.json', { data: ticks(10), strategy: slow, engine: 'js' });
    const r = start(['-v', 'run', file]);
    await r.waitFor(/"msg":"backtest started"/);
    r.child.kill('SIGTERM');
    expect((await r.exited).code).toBe(143);
    expect(r.stderr()).toContain('tickforge: stopped by SIGTERM before any result was finished');
    expect(r.stdout()).toBe('');
  }, 120_000);

  it('a second signal exits at once with the code of the first, even if the work ignores the stop', async () => {
    const signals = pathToFileURL(join(root, 'src', 'cli', 'signals.ts')).href;
    // An action that takes a minute whatever its signal says.
    const code = [
      `const { stoppable } = await import(${JSON.stringify(signals)});`,
      `await stoppable(async () => {`,
      `  process.stderr.write('working\\n');`,
      `  await new Promise((resolve) => setTimeout(resolve, 60_000));`,
      `})();`,
    ].join('\n');
    const t0 = Date.now();
    const r = start([], ['--import', 'tsx', '--input-type=module', '-e', code]);
    await r.waitFor(/working/);
    r.child.kill('SIGTERM');
    await r.waitFor(/SIGTERM received/);
    r.child.kill('SIGINT');
    expect((await r.exited).code).toBe(143);
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 60_000);
});

describe('pool child processes in the middle of a long job', () => {
  for (const engine of ['js', 'native'] as const) {
    it(`leave within seconds when their parent is killed outright (${engine} engine)`, async () => {
      const dir = tmpDir();
      const file = writeJson(dir, 'slow.json', {
        data: ticks(10),
        strategy: slow,
        engine,
        optimize: { grid: { k: [0, 1, 2, 3] }, parallelism: 'processes', maxWorkers: 2 },
      });
      const r = start(['-v', 'optimize', file, '--no-progress']);
      // Each job runs for seconds; the parent logs a job's start as it hands it to a child.
      await r.waitFor(/pool job started[\s\S]*pool job started/);
      const children = childrenOf(r.child.pid as number);
      expect(children.length).toBe(2);
      r.child.kill('SIGKILL');
      expect((await r.exited).signal).toBe('SIGKILL');
      expect(await goneWithin(children, 3000)).toEqual([]);
    }, 120_000);
  }
});
