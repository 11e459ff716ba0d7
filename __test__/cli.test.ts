import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const cli = join(root, 'bin', 'tickforge.cjs');

function tickforge(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
}

function scenarioFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'tickforge-cli-'));
  const file = join(dir, 'scenario.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('tickforge CLI', () => {
  it('demo prints the summary and the per-step profile', () => {
    const r = tickforge(['demo', '--days', '5', '--seed', '7']);
    expect(r.status).toBe(0);
    for (const label of ['Trades', 'Net profit', 'Max drawdown', 'Sharpe', 'Win rate', 'Profit factor', 'ticks/s']) {
      expect(r.stdout).toContain(label);
    }
    for (const step of [
      'updatePrices',
      'barRendering',
      'barHistory',
      'workerDecision',
      'orderExecution',
      'liveUpdate',
    ]) {
      expect(r.stdout).toContain(step);
    }
  });

  it('demo --json prints a result whose figures agree with a run of the same scenario file', () => {
    const demo = JSON.parse(tickforge(['demo', '--days', '4', '--seed', '11', '--json']).stdout);
    const file = scenarioFile({
      data: { ticks: { synthetic: { symbol: 'EURUSD', start: '2024-01-01', days: 4, seed: 11, stepPoints: 8 } } },
      strategy: 'reference',
      account: { balance: 10000 },
    });
    const run = JSON.parse(tickforge(['run', file, '--json']).stdout);
    expect(run.trades).toEqual(demo.trades);
    expect(run.metrics).toEqual(demo.metrics);
    expect(run.events).toBe(demo.events);
  });

  it('run gives the same trades on both engines', () => {
    const file = scenarioFile({
      data: { ticks: { synthetic: { days: 6, seed: 2, stepPoints: 8 } } },
      strategy: 'reference',
      instrument: { commissionPerLot: 7, slippagePips: 0.1 },
      start: '2024-01-03',
    });
    const native = JSON.parse(tickforge(['run', file, '--json', '--engine', 'native']).stdout);
    const js = JSON.parse(tickforge(['run', file, '--json', '--engine', 'js']).stdout);
    expect(native.engine).toBe('native');
    expect(js.engine).toBe('js');
    expect(js.trades).toEqual(native.trades);
  });

  it('runs bar scenarios', () => {
    const file = scenarioFile({
      data: { bars: { synthetic: { timeframe: 'M5', count: 20000, seed: 4 } } },
      strategy: 'reference',
      fillAt: 'close',
    });
    const r = tickforge(['run', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('20,000 M5 bars');
  });

  it('names the problem and where it is for a bad scenario, with exit code 2', () => {
    const file = scenarioFile({ data: { ticks: { synthetic: { days: -1 } } }, strategy: 'reference' });
    const r = tickforge(['run', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file}: data.ticks.synthetic.days`);
  });

  it('reports invalid JSON and unknown params with their location', () => {
    const broken = scenarioFile('{ "data": ');
    const r1 = tickforge(['run', broken]);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toContain('not valid JSON');

    const unknownParam = scenarioFile({
      data: { ticks: { synthetic: { days: 2 } } },
      strategy: 'reference',
      params: { rsiPeriodd: 10 },
    });
    const r2 = tickforge(['run', unknownParam]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('params.rsiPeriodd');
  });
});
