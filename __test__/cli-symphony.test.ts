/**
 * Symphony files end to end: `tickforge symphony` through the built CLI, and a DSL source whose
 * ticker is not in the data, reported at the string that names it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, generateDaily, optimizeSymphony, runSymphonies, type SymphonyIR } from '../src/index.js';

const root = join(__dirname, '..');
const cli = join(root, 'bin', 'tickforge.cjs');
const fixtures = join(root, '__test__', 'fixtures', 'symphonies');

function tickforge(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 });
}

const TREND = `(defsymphony "trend"
  {:rebalance-frequency :weekly}
  (if (> (current-price "SPY") (moving-average-price "SPY" {:window 20}))
    [(asset "SPY")]
    [(asset "BIL")]))
`;

const BROKEN = `(defsymphony "broken"
  {}
  (weight-equal [(asset "SPY") (rsii "SPY" 10)]))
`;

describe('tickforge symphony', () => {
  it('runs files together, reports a broken one with its excerpt, and prints the consolidated allocation', () => {
    const d = mkdtempSync(join(tmpdir(), 'tickforge-sym-'));
    const good = join(d, 'trend.clj');
    const bad = join(d, 'broken.clj');
    writeFileSync(good, TREND);
    writeFileSync(bad, BROKEN);
    const r = tickforge(['symphony', good, bad, join(fixtures, 'risk-parity.clj'), '--days', '300', '--engine', 'js']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('2 of 3 symphonies ran');
    expect(r.stdout).toContain(`${bad}:3:33: error:`);
    expect(r.stdout).toMatch(/\^\^\^\^/);
    expect(r.stdout).toContain('Consolidated allocation on');
    // The trend file holds SPY or BIL in full: either shows up in the consolidated allocation.
    expect(r.stdout).toMatch(/\n(SPY|BIL) +\d+\.\d\d%/);
  });

  it('prints the same allocation on both engines, as JSON', () => {
    const d = mkdtempSync(join(tmpdir(), 'tickforge-sym-'));
    const good = join(d, 'trend.clj');
    writeFileSync(good, TREND);
    const files = [good, join(fixtures, 'tqqq-long-term.clj'), join(fixtures, 'sector-momentum.clj')];
    const run = (engine: string) => {
      const r = tickforge(['symphony', ...files, '--days', '400', '--engine', engine, '--json']);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { engine: string; signals: { date: number; weights: Record<string, number> } };
    };
    const js = run('js');
    const native = run('native');
    expect(js.engine).toBe('js');
    expect(native.engine).toBe('native');
    expect(native.signals).toEqual(js.signals);
    const total = Object.values(js.signals.weights).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(1 + 1e-12);
  });

  it('refuses a bad option with a message naming it, never a stack trace', () => {
    const r = tickforge(['symphony', join(fixtures, 'risk-parity.clj'), '--rebalance', 'hourly']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('rebalance must be daily, weekly, monthly, quarterly, yearly, none');
    const q = tickforge([
      'symphony',
      join(fixtures, 'risk-parity.clj'),
      '--days',
      '400',
      '--rebalance',
      'quarterly',
      '--json',
    ]);
    expect(q.status, q.stderr).toBe(0);
    // 400 weekdays from Wednesday 2020-01-01 are 80 weeks, up to July 2021: seven calendar
    // quarters (2020 Q1-Q4, 2021 Q1-Q3), so one trade at the start and one per new quarter.
    expect(JSON.parse(q.stdout).files[0].metrics.rebalances).toBe(7);
    const f = tickforge(['symphony', join(fixtures, 'risk-parity.clj'), '--fill-at', 'mid']);
    expect(f.status).not.toBe(0);
    expect(f.stderr).toContain('fill-at must be close or open');
    expect(f.stderr).not.toContain('    at ');
    const d = tickforge(['symphony', join(fixtures, 'risk-parity.clj'), '--days', '60', '--date', '2020-02-30']);
    expect(d.status).not.toBe(0);
    expect(d.stderr).toContain('"2020-02-30" is not a valid time');
  });

  it('gives a file the same synthetic bars whatever files run with it, and no spurious ticker errors', () => {
    const d = mkdtempSync(join(tmpdir(), 'tickforge-sym-'));
    const good = join(d, 'trend.clj');
    const typo = join(d, 'typo.clj');
    writeFileSync(good, TREND);
    writeFileSync(typo, TREND.replace('(asset "BIL")', '(asset "TLT")').replace('weight', 'x').replace('(if', '(iff'));
    const alone = JSON.parse(tickforge(['symphony', good, '--days', '300', '--json']).stdout);
    const withOthers = tickforge([
      'symphony',
      join(fixtures, 'sector-momentum.clj'),
      good,
      typo,
      '--days',
      '300',
      '--json',
    ]);
    const together = JSON.parse(withOthers.stdout);
    expect(together.files[1].metrics).toEqual(alone.files[0].metrics);
    const text = tickforge(['symphony', good, typo, '--days', '300']);
    expect(text.stdout).toContain('unknown operator `iff`');
    expect(text.stdout).not.toContain('is not in the data');
  });
});

describe('tickforge symphony --data', () => {
  it('reads one daily bar file per ticker and fails a file naming a ticker without one, at its string', () => {
    const d = mkdtempSync(join(tmpdir(), 'tickforge-daily-'));
    const data = generateDaily(['SPY', 'BIL'], { days: 80, seed: 5 });
    data.tickers.forEach((t, k) => {
      const rows = ['date,open,high,low,close'];
      data.dates.forEach((time, i) => {
        const o = data.open[k]?.[i] as number;
        const c = data.close[k]?.[i] as number;
        rows.push(`${new Date(time).toISOString().slice(0, 10)},${o},${Math.max(o, c)},${Math.min(o, c)},${c}`);
      });
      writeFileSync(join(d, `${t}.csv`), `${rows.join('\n')}\n`);
    });
    const good = join(d, 'trend.clj');
    const other = join(d, 'tlt.clj');
    writeFileSync(good, TREND);
    writeFileSync(other, TREND.replace('"BIL"', '"TLT"'));
    const fromFiles = tickforge(['symphony', good, other, '--data', d, '--json', '--engine', 'js']);
    expect(fromFiles.status).toBe(1);
    const out = JSON.parse(fromFiles.stdout) as {
      files: Array<{ status: string; error?: { line: number; column: number } }>;
      signals: { date: number; weights: Record<string, number> };
    };
    expect(out.files.map((f) => f.status)).toEqual(['ok', 'failed']);
    expect(out.files[1]?.error).toMatchObject({ line: 5, column: 13 });
    // The last day of the files is the last day of the data.
    expect(out.signals.date).toBe(data.dates[data.dates.length - 1]);

    const text = tickforge(['symphony', other, '--data', d]);
    expect(text.stdout).toContain(`${other}:5:13: error: ticker \`TLT\` is not in the data`);

    const none = tickforge(['symphony', good, '--data', join(d, 'missing')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('no daily bar file for any of BIL, SPY');
  });
});

describe('runSymphonies with DSL sources', () => {
  it('reports a ticker the data lacks at the string naming it, and runs the rest', async () => {
    const data = generateDaily(['SPY', 'BIL'], { days: 60, seed: 3 });
    const source = TREND.replace('[(asset "BIL")]', '[(asset "BILL")]');
    const book = await runSymphonies(
      [
        { source, path: 'typo.clj' },
        { source: TREND, path: 'trend.clj' },
      ],
      data,
      { engine: 'js' },
    );
    expect(book.files.map((f) => f.status)).toEqual(['failed', 'ok']);
    expect(book.files[0]?.error).toMatchObject({ file: 'typo.clj', line: 5, column: 13 });
    expect(book.files[0]?.error?.message).toContain('BILL');
    expect(book.tickers).toEqual(['BIL', 'SPY']);
  });

  it('refuses to consolidate when no file ran, rather than answer 100% cash', async () => {
    const data = generateDaily(['SPY', 'BIL'], { days: 30, seed: 3 });
    const book = await runSymphonies([{ source: '(defsymphony "x" {} (asset))', path: 'x.clj' }], data, {
      engine: 'js',
    });
    expect(book.files[0]?.status).toBe('failed');
    expect(() => book.signals('2020-01-20')).toThrow(/all 1 symphonies failed: there is no allocation to consolidate/);
  });
});

describe('tickforge check --tickers', () => {
  it('reports a symphony ticker the data lacks, at its string', () => {
    const d = mkdtempSync(join(tmpdir(), 'tickforge-sym-'));
    const file = join(d, 'trend.clj');
    writeFileSync(file, TREND);
    expect(tickforge(['check', file, '--tickers', 'SPY,BIL']).status).toBe(0);
    const r = tickforge(['check', file, '--tickers', 'SPY, QQQ']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${file}:5:13: error: ticker \`BIL\` is not in the data`);
  });
});

describe('tickforge symphony --start/--end', () => {
  it('simulates only the days between them, after warming up on the earlier ones', () => {
    const file = join(fixtures, 'risk-parity.clj');
    const whole = JSON.parse(tickforge(['symphony', file, '--days', '300', '--json']).stdout);
    const r = tickforge(['symphony', file, '--days', '300', '--start', '2020-06-01', '--end', '2020-09-30', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const part = JSON.parse(r.stdout);
    expect(part.signals.date).toBe(Date.UTC(2020, 8, 30));
    expect(part.files[0].metrics.rebalances).toBeLessThan(whole.files[0].metrics.rebalances);
  });
});

describe('optimizeSymphony messages', () => {
  it('name the symphony, not a strategy, for an unknown grid key', async () => {
    const data = generateDaily(['SPY', 'BIL'], { days: 40, seed: 3 });
    const ir = compile(
      '(defsymphony "t" {:params {w 10}} (if (> (current-price "SPY") (moving-average-price "SPY" {:window w})) [(asset "SPY")] [(asset "BIL")]))',
    ).ir as SymphonyIR;
    const e = await optimizeSymphony(ir, data, { grid: { ww: [5, 10] }, engine: 'js' }).catch((x: unknown) => x);
    expect((e as Error).message).toContain("grid.ww: unknown parameter (symphony has: w); did you mean 'w'?");
  });
});
