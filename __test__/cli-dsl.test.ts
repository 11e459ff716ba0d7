/**
 * The DSL through the built CLI: `check` and `fmt` on .clj files, and `run`, `optimize`, `batch`
 * with a strategy written in the DSL (named by the scenario or given with --strategy).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const cli = join(root, 'bin', 'tickforge.cjs');
const demo = join(root, 'examples', 'rsi-envelope.clj');

function tickforge(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 180_000 });
}

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'tickforge-dsl-'));
}

function write(d: string, name: string, content: unknown): string {
  const file = join(d, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const BAD = `(defstrategy bad
  {:timeframe :M5}
  (param n 14)
  (worker rsi (rsi :M5 {:period n}))
  (when (crosss-above rsi 30)
    (buy :lots 1 :risk 2)))
`;

const data = { ticks: { synthetic: { days: 4, seed: 11, stepPoints: 8 } } };

describe('tickforge check', () => {
  it('accepts the demo file', () => {
    const r = tickforge(['check', demo]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('rsi-envelope.clj: ok (strategy rsi-envelope)');
    expect(r.stdout).toContain('checked 1 file: no errors');
  });

  it('prints every problem with its excerpt, names an unreadable file, and exits 1', () => {
    const d = dir();
    const bad = write(d, 'bad.clj', BAD);
    const missing = join(d, 'missing.clj');
    const r = tickforge(['check', demo, bad, missing]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      [
        `${bad}:5:10: error: unknown operator \`crosss-above\``,
        '  |',
        '5 |   (when (crosss-above rsi 30)',
        '  |          ^^^^^^^^^^^^',
        '  = did you mean `cross-above`?',
      ].join('\n'),
    );
    expect(r.stdout).toContain(`${bad}:6:18: error: give either \`:lots\` or \`:risk\`, not both`);
    expect(r.stdout).toContain(`${bad}:6:18: error: \`:risk\` (percent of equity lost at the stop-loss) needs \`:sl\``);
    expect(r.stdout).toContain(`${missing}: error: cannot read the file`);
    expect(r.stdout).toContain('checked 3 files: 4 errors in 2 files');
  });
});

describe('tickforge fmt', () => {
  const ugly = '(defstrategy   s {:timeframe :M5}\n;; why\n(when (> (bar :close) 1.5)   (close)))';
  const pretty = '(defstrategy s\n  {:timeframe :M5}\n  ; why\n  (when (> (bar :close) 1.5) (close)))\n';

  it('prints the canonical text', () => {
    const file = write(dir(), 'u.clj', ugly);
    const r = tickforge(['fmt', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(pretty);
  });

  it('--check fails on a file that is not canonical and passes on the demo', () => {
    const file = write(dir(), 'u.clj', ugly);
    const r = tickforge(['fmt', '--check', file, demo]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${file}: not formatted`);
    expect(r.stdout).not.toContain(`${demo}: not formatted`);
    const ok = tickforge(['fmt', '--check', demo]);
    expect(ok.status).toBe(0);
  });

  it('--write rewrites the file, after which --check passes', () => {
    const file = write(dir(), 'u.clj', ugly);
    const r = tickforge(['fmt', '--write', file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`formatted ${file}`);
    expect(readFileSync(file, 'utf8')).toBe(pretty);
    expect(tickforge(['fmt', '--check', file]).status).toBe(0);
  });

  it('reports a syntax error with its excerpt and exits 1', () => {
    const file = write(dir(), 'broken.clj', '(defstrategy s\n  {:timeframe :M5}\n  (when (> 1 2) (close))');
    const r = tickforge(['fmt', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:1:1: error: \`(\` is never closed`);
  });
});

describe('tickforge run / optimize / batch with a .clj strategy', () => {
  it('runs a scenario naming a .clj strategy exactly like the reference IR', () => {
    const d = dir();
    copyFileSync(demo, join(d, 'rsi-envelope.clj'));
    const dsl = write(d, 'dsl.json', { data, strategy: 'rsi-envelope.clj', account: { balance: 10000 } });
    const ref = write(d, 'ref.json', { data, strategy: 'reference', account: { balance: 10000 } });
    const a = tickforge(['run', dsl, '--json']);
    expect(a.status).toBe(0);
    const b = JSON.parse(tickforge(['run', ref, '--json']).stdout);
    const ra = JSON.parse(a.stdout);
    expect(ra.strategy).toBe('rsi-envelope');
    expect(ra.trades).toEqual(b.trades);
    expect(ra.metrics).toEqual(b.metrics);
    const c = JSON.parse(tickforge(['run', ref, '--strategy', demo, '--json']).stdout);
    expect(c.trades).toEqual(b.trades);
  });

  it('runs a .clj file on the demo market, or on the data of --scenario', () => {
    const direct = tickforge(['run', demo, '--json']);
    expect(direct.status).toBe(0);
    const demoRun = JSON.parse(tickforge(['demo', '--json']).stdout);
    const a = JSON.parse(direct.stdout);
    expect(a.trades.length).toBeGreaterThan(0);
    expect(a.trades).toEqual(demoRun.trades);
    expect(a.metrics).toEqual(demoRun.metrics);
    const text = tickforge(['run', demo]);
    expect(text.stdout).toContain('rsi-envelope, 2,');
    expect(text.stdout).toContain('(synthetic EURUSD, seed 7, step 8 points, as the demo)');

    const d = dir();
    const ref = write(d, 'ref.json', { data, strategy: 'reference', account: { balance: 10000 } });
    const b = JSON.parse(tickforge(['run', demo, '--scenario', ref, '--json']).stdout);
    const c = JSON.parse(tickforge(['run', ref, '--json']).stdout);
    expect(b.trades).toEqual(c.trades);
  });

  it('prints DSL errors with excerpts and exits 2', () => {
    const d = dir();
    write(d, 'bad.clj', BAD);
    const scenario = write(d, 's.json', { data, strategy: 'bad.clj' });
    const r = tickforge(['run', scenario]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('tickforge: invalid strategy file');
    expect(r.stderr).toContain(`${join(d, 'bad.clj')}:5:10: error: unknown operator \`crosss-above\``);
    expect(r.stderr).toContain('  = did you mean `cross-above`?');
  });

  it('refuses a symphony file, pointing to the symphony command', () => {
    const d = dir();
    const sym = write(d, 'sym.clj', '(defsymphony s {:rebalance :daily} (asset "SPY"))');
    const scenario = write(d, 's.json', { data, strategy: 'reference' });
    const r = tickforge(['run', scenario, '--strategy', sym]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('defines a symphony');
    expect(r.stderr).toContain('tickforge symphony');
  });

  it('keeps scenario errors pointing at the scenario file, with data paths relative to it', () => {
    const d = dir();
    copyFileSync(demo, join(d, 'rsi-envelope.clj'));
    const scenario = write(d, 's.json', {
      data: { ticks: { file: 'missing-ticks.json' } },
      strategy: 'rsi-envelope.clj',
    });
    const r = tickforge(['run', scenario]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(join(d, 'missing-ticks.json'));
    const bad = write(d, 'bad.json', { data: { ticks: { synthetic: { days: -1 } } }, strategy: 'rsi-envelope.clj' });
    const r2 = tickforge(['run', bad]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain(`${bad}: data.ticks.synthetic.days`);
  });

  it('optimizes a .clj strategy over its params', () => {
    const d = dir();
    copyFileSync(demo, join(d, 'rsi-envelope.clj'));
    const file = write(d, 'opt.json', {
      data,
      strategy: 'rsi-envelope.clj',
      optimize: { grid: { rsiPeriod: [7, 14], slPips: [10, 20] }, target: 'netProfit', parallelism: 'none' },
    });
    const r = tickforge(['optimize', file, '--no-progress']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/rsi-envelope: 4 combinations \(grid 4\), 4 completed, 0 failed/);
  });

  it('batch reports a scenario whose .clj strategy does not compile, and runs the others', () => {
    const d = dir();
    copyFileSync(demo, join(d, 'rsi-envelope.clj'));
    write(d, 'bad.clj', BAD);
    const good = write(d, 'good.json', { data, strategy: 'rsi-envelope.clj' });
    const bad = write(d, 'bad.json', { data, strategy: 'bad.clj' });
    const batch = write(d, 'batch.json', { scenarios: [good, bad] });
    const r = tickforge(['batch', batch]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/1 completed, 1 failed/);
    expect(r.stdout).toMatch(/1 +\S+bad\.json +failed +\S+bad\.clj:5:10: unknown operator `crosss-above`/);
  });
});
