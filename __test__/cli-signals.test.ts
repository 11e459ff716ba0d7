/**
 * The CLI stops gracefully on SIGINT and SIGTERM: the run is aborted, what finished is printed and
 * written marked partial, the pools are ended (no child process remains) and the exit code is
 * 130 / 143. A pool's child processes leave by themselves when their parent is killed outright.
 * Each test signals only after the command has reported progress, never after a fixed sleep.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childrenOf, goneWithin, SOME_DONE, start } from './helpers/cli-process.js';

function tmpDir(): string {
  return mkdtempSync(join(tmpdir(), 'tickforge-sig-'));
}

function scenario(dir: string, parallelism: 'threads' | 'processes', engine: 'native' | 'js'): string {
  const file = join(dir, 'opt.json');
  writeFileSync(
    file,
    JSON.stringify({
      data: { ticks: { synthetic: { symbol: 'EURUSD', start: '2024-01-01', days: 400, seed: 7, stepPoints: 8 } } },
      strategy: 'reference',
      account: { balance: 10000 },
      engine,
      optimize: {
        grid: {
          rsiPeriod: { from: 6, to: 20, step: 2 },
          slPips: [15, 20, 30, 40],
          tpPips: { from: 20, to: 60, step: 10 },
        },
        target: 'netProfit',
        topK: 3,
        parallelism,
        maxWorkers: 2,
      },
      windows: { inSample: '14d', outOfSample: '7d', anchored: false },
    }),
  );
  return file;
}

describe('tickforge on SIGINT and SIGTERM', () => {
  for (const [sig, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`optimize (processes) stops on ${sig}: partial results printed and written, exit ${code}, no child left`, async () => {
      const dir = tmpDir();
      const json = join(dir, 'r.json');
      const r = start(['optimize', scenario(dir, 'processes', 'native'), '--json', json]);
      await r.waitFor(SOME_DONE);
      const children = childrenOf(r.child.pid as number);
      expect(children.length).toBeGreaterThan(0);
      r.child.kill(sig);
      const { code: exit } = await r.exited;
      expect(exit).toBe(code);
      expect(r.stderr()).toContain(`${sig} received`);
      expect(r.stdout()).toMatch(/combinations \(grid 160\), [1-9]\d* completed, .*cancelled \(partial\)/);
      const result = JSON.parse(readFileSync(json, 'utf8'));
      expect(result.partial).toBe(true);
      expect(result.completed).toBeGreaterThan(0);
      expect(result.completed).toBeLessThan(result.total);
      expect(await goneWithin(children, 3000)).toEqual([]);
    }, 120_000);
  }

  it('a second signal while stopping exits at once with the same code', async () => {
    const dir = tmpDir();
    const r = start(['optimize', scenario(dir, 'processes', 'js'), '--json', join(dir, 'r.json')]);
    await r.waitFor(SOME_DONE);
    const children = childrenOf(r.child.pid as number);
    r.child.kill('SIGINT');
    await r.waitFor(/SIGINT received/);
    r.child.kill('SIGINT');
    const { code } = await r.exited;
    expect(code).toBe(130);
    expect(await goneWithin(children, 5000)).toEqual([]);
  }, 120_000);

  it('walk-forward stops on SIGTERM with the finished windows, exit 143', async () => {
    const dir = tmpDir();
    const json = join(dir, 'wf.json');
    const r = start(['-v', 'walk-forward', scenario(dir, 'threads', 'native'), '--json', json]);
    // The first log record (JSON on stderr) says the run is under way.
    await r.waitFor(/"msg"/);
    r.child.kill('SIGTERM');
    const { code } = await r.exited;
    expect(code).toBe(143);
    expect(r.stderr()).toContain('SIGTERM received');
    expect(r.stdout()).toMatch(/walk-forward .*\(partial\)/);
    expect(JSON.parse(readFileSync(json, 'utf8')).partial).toBe(true);
  }, 120_000);
});

describe('pool child processes', () => {
  it('leave by themselves, also in the middle of a job, when their parent is killed outright', async () => {
    const dir = tmpDir();
    // The pure-TS engine runs a job synchronously in the child: only its stop checks can notice.
    const r = start(['optimize', scenario(dir, 'processes', 'js')]);
    await r.waitFor(SOME_DONE);
    const children = childrenOf(r.child.pid as number);
    expect(children.length).toBeGreaterThan(0);
    r.child.kill('SIGKILL');
    const { signal } = await r.exited;
    expect(signal).toBe('SIGKILL');
    expect(await goneWithin(children, 5000)).toEqual([]);
  }, 120_000);
});
