// biome-ignore-all lint/suspicious/noThenProperty: `then` is the symphony IR's field name
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { generateDaily } from '../src/symphony/data.js';
import { DEFAULT_SYMPHONY_CONFIG, runSymphonyJs } from '../src/symphony/engine.js';
import { nativeSymphony } from '../src/symphony/native.js';
import { resolveSymphony } from '../src/symphony/resolve.js';
import { optimizeSymphony, registerSymphonyCompiler, runSymphonies } from '../src/symphony/run.js';
import type { DailyData, SymphonyIR, SymphonyNode } from '../src/symphony/types.js';

const DAY = 86_400_000;
const D0 = Date.UTC(2024, 0, 1);

const asset = (ticker: string): SymphonyNode => ({ type: 'asset', ticker });

function sym(name: string, root: SymphonyNode, tickers: string[], extra: Partial<SymphonyIR> = {}): SymphonyIR {
  return { version: 1, kind: 'symphony', name, tickers, root, ...extra };
}

/** Three days, A and B priced throughout. */
const tiny: DailyData = {
  dates: Float64Array.from([D0, D0 + DAY, D0 + 2 * DAY]),
  tickers: ['A', 'B', 'C'],
  open: [Float64Array.from([10, 11, 12]), Float64Array.from([20, 19, 21]), Float64Array.from([5, 5, 5])],
  close: [Float64Array.from([10, 11, 12]), Float64Array.from([20, 19, 21]), Float64Array.from([5, 5, 5])],
};

const allA = sym('all-a', asset('A'), ['A']);
const halves = sym('halves', { type: 'weight-equal', children: [asset('A'), asset('B')] }, ['A', 'B']);
const allC = sym('all-c', asset('C'), ['C']);

afterEach(() => registerSymphonyCompiler(null));

describe('runSymphonies', () => {
  it('reports a bad file, skips it, and consolidates the rest in file order', async () => {
    const bad = sym('bad', { type: 'weight-inverse-volatility', window: 0, children: [asset('A')] }, ['A']);
    const missing = sym('missing', asset('Z'), ['Z']);
    const book = await runSymphonies([allA, bad, { ir: halves, label: 'H' }, missing, allC], tiny, { engine: 'js' });
    expect(book.engine).toBe('js');
    expect(book.files.map((f) => [f.index, f.label, f.status])).toEqual([
      [0, 'all-a', 'ok'],
      [1, 'bad', 'failed'],
      [2, 'H', 'ok'],
      [3, 'missing', 'failed'],
      [4, 'all-c', 'ok'],
    ]);
    expect(book.files[1]?.error).toMatchObject({
      code: 'ERR_TICKFORGE_VALIDATION',
      message: expect.stringMatching(/symphony.root.window/),
    });
    expect(book.files[3]?.error?.message).toMatch(/ticker 'Z' is not in the data/);
    expect(book.tickers).toEqual(['A', 'B', 'C']);
    expect(Array.from(book.dates)).toEqual(Array.from(tiny.dates));
    // mean of [1,0,0], [0.5,0.5,0], [0,0,1]: A (1 + 0.5 + 0)/3 = 0.5, B 0.5/3, C 1/3
    expect(book.consolidated(0)).toEqual({ A: (1 + 0.5 + 0) / 3, B: (0 + 0.5 + 0) / 3, C: (0 + 0 + 1) / 3 });
    expect(book.cancelled).toBe(false);
  });

  it('weights files in the consolidated allocation', async () => {
    const book = await runSymphonies(
      [
        { ir: allA, weight: 3 },
        { ir: allC, weight: 1 },
      ],
      tiny,
      { engine: 'js' },
    );
    // (3 * 1 + 1 * 0) / 4 = 0.75 for A, (3 * 0 + 1 * 1) / 4 = 0.25 for C
    expect(book.consolidated(2)).toEqual({ A: 0.75, C: 0.25 });
    expect(() => book.consolidated(3)).toThrow(ValidationError);
    const bad = await runSymphonies([{ ir: allA, weight: -1 }], tiny, { engine: 'js' });
    expect(bad.files[0]?.error?.message).toMatch(/files\[0\].weight/);
  });

  it('passes params and run settings to each file', async () => {
    const ir = sym(
      'p',
      { type: 'weight-specified', weights: [{ param: 'a' }, 1], children: [asset('A'), asset('B')] },
      ['A', 'B'],
      {
        params: { a: { default: 1 } },
      },
    );
    const book = await runSymphonies([{ ir, params: { a: 3 } }], tiny, {
      engine: 'js',
      start: '2024-01-02',
      initialCapital: 1000,
    });
    const out = book.files[0]?.output;
    expect(Array.from(out?.time ?? [])).toEqual([D0 + DAY, D0 + 2 * DAY]);
    expect(out?.equity[0]).toBe(1000);
    expect(book.consolidated(0)).toEqual({ A: 0.75, B: 0.25 });
  });

  it('matches single runs of the engine', async () => {
    const data = generateDaily(['A', 'B', 'C'], { days: 300, seed: 11 });
    const ir = sym(
      'f',
      {
        type: 'filter',
        fn: 'moving-average-return',
        window: 10,
        select: 'top',
        count: 2,
        children: [asset('A'), asset('B'), { type: 'weight-equal', children: [asset('A'), asset('C')] }],
      },
      ['A', 'B', 'C'],
    );
    const book = await runSymphonies([ir, ir], data, {
      engine: 'js',
      fillAt: 'open',
      commissionPct: 0.1,
      maxWorkers: 2,
    });
    const direct = runSymphonyJs(resolveSymphony(ir), data, {
      ...DEFAULT_SYMPHONY_CONFIG,
      fillAt: 'open',
      commissionPct: 0.1,
    });
    expect(book.files[0]?.output).toEqual(direct);
    expect(book.files[1]?.output).toEqual(direct);
  });

  it('signals(date): the last simulated day at or before the date', async () => {
    const bad = sym('bad', asset('Z'), ['Z']);
    const book = await runSymphonies([allA, allC, bad], tiny, { engine: 'js' });
    const s = book.signals(D0 + DAY + 5 * 3_600_000);
    expect(s.date).toBe(D0 + DAY);
    expect(s.weights).toEqual({ A: 0.5, C: 0.5 });
    expect(s.files).toEqual([
      { label: 'all-a', weights: { A: 1 } },
      { label: 'all-c', weights: { C: 1 } },
    ]);
    expect(s.failed.map((f) => f.label)).toEqual(['bad']);
    expect(book.signals('2030-01-01').date).toBe(D0 + 2 * DAY);
    expect(book.signals(new Date(D0)).date).toBe(D0);
    expect(() => book.signals('2023-12-31')).toThrow(/before the first simulated day/);
  });

  it('compiles DSL sources with the registered compiler; a compile error carries its location', async () => {
    registerSymphonyCompiler((source, path) => {
      if (source.includes('oops')) {
        const e = new ValidationError([{ path: `${path}:3:7`, message: 'unknown form oops' }]);
        throw e;
      }
      return source.includes('halves') ? halves : allA;
    });
    const book = await runSymphonies(
      [
        { source: '(defsymphony halves ...)', path: 'a.edn' },
        { source: '(oops)', path: 'b.edn' },
        { source: '(defsymphony a ...)', path: 'c.edn', label: 'third' },
      ],
      tiny,
      { engine: 'js' },
    );
    expect(book.files.map((f) => [f.label, f.status])).toEqual([
      ['a.edn', 'ok'],
      ['b.edn', 'failed'],
      ['third', 'ok'],
    ]);
    expect(book.files[1]?.error).toMatchObject({
      code: 'ERR_TICKFORGE_VALIDATION',
      file: 'b.edn',
      line: 3,
      column: 7,
    });
  });

  it('takes the location from DSL diagnostics', async () => {
    registerSymphonyCompiler(() => {
      const e = new ValidationError([{ path: 'x', message: 'bad' }]) as ValidationError & { diagnostics: unknown[] };
      e.diagnostics = [{ file: 'd.edn', line: 9, column: 2, length: 1, message: 'bad' }];
      throw e;
    });
    const book = await runSymphonies([{ source: '(x)', path: 'd.edn' }], tiny, { engine: 'js' });
    expect(book.files[0]?.error).toMatchObject({ file: 'd.edn', line: 9, column: 2 });
  });

  it('cancellation keeps the files that finished', async () => {
    const data = generateDaily(['A', 'B'], { days: 400, seed: 2 });
    const ir = sym('x', { type: 'weight-equal', children: [asset('A'), asset('B')] }, ['A', 'B']);
    const controller = new AbortController();
    const book = await runSymphonies([ir, ir, ir, ir], data, {
      engine: 'js',
      parallelism: 'none',
      signal: controller.signal,
      onProgress: (done) => {
        if (done === 2) controller.abort();
      },
    });
    expect(book.files.map((f) => f.status)).toEqual(['ok', 'ok', 'failed', 'failed']);
    expect(book.files[2]?.error?.code).toBe('ERR_TICKFORGE_CANCELLED');
    expect(book.cancelled).toBe(true);
    expect(book.consolidated(0)).toEqual({ A: 0.5, B: 0.5 });
  });

  it('an already aborted signal runs nothing', async () => {
    const book = await runSymphonies([allA], tiny, { engine: 'js', signal: AbortSignal.abort() });
    expect(book.files[0]?.error?.code).toBe('ERR_TICKFORGE_CANCELLED');
  });

  it('a file past timeoutMs fails with a timeout', async () => {
    const data = generateDaily(['A', 'B'], { days: 20_000, seed: 5 });
    const ir = sym(
      'slow',
      {
        type: 'filter',
        fn: 'stdev-return',
        window: 200,
        select: 'top',
        count: 1,
        children: [
          { type: 'weight-equal', children: [asset('A'), asset('B')] },
          { type: 'group', name: 'g', children: [asset('B')] },
        ],
      },
      ['A', 'B'],
    );
    const book = await runSymphonies([ir], data, { engine: 'js', timeoutMs: 1 });
    expect(book.files[0]?.error?.code).toBe('ERR_TICKFORGE_TIMEOUT');
  });

  it('checks settings and refuses a native engine it cannot load', async () => {
    await expect(runSymphonies([allA], tiny, { engine: 'js', fillAt: 'noon' as 'open' })).rejects.toThrow(/fillAt/);
    await expect(runSymphonies([allA], tiny, { engine: 'js', maxWorkers: 0 })).rejects.toThrow(/maxWorkers/);
    await expect(runSymphonies([allA], tiny, { engine: 'js', start: 'not a date' })).rejects.toThrow(/start/);
    if (!nativeSymphony() && !process.env.TICKFORGE_ENGINE) {
      await expect(runSymphonies([allA], tiny, { engine: 'native' })).rejects.toMatchObject({
        code: 'ERR_TICKFORGE_NATIVE_UNAVAILABLE',
      });
    }
  });
});

describe('optimizeSymphony', () => {
  const data = generateDaily(['A', 'B', 'C'], { days: 260, seed: 21 });
  const ir = sym(
    'opt',
    {
      type: 'if',
      cond: {
        op: '>',
        left: { fn: 'current-price', ticker: 'A' },
        right: { fn: 'moving-average-price', ticker: 'A', window: { param: 'ma' } },
      },
      then: [
        {
          type: 'filter',
          fn: 'cumulative-return',
          window: { param: 'lb' },
          select: 'top',
          count: 1,
          children: [asset('B'), asset('C')],
        },
      ],
      else: [{ type: 'weight-specified', weights: [{ param: 'wa' }, 0], children: [asset('A'), asset('C')] }],
    },
    ['A', 'B', 'C'],
    {
      params: { ma: { default: 20, type: 'int', min: 2 }, lb: { default: 5, type: 'int', min: 1 }, wa: { default: 1 } },
    },
  );

  it('runs every combination, ranks by the target, and matches single runs', async () => {
    const r = await optimizeSymphony(ir, data, {
      engine: 'js',
      grid: { ma: [10, 30], lb: { from: 5, to: 15, step: 5 } },
    });
    expect(r.gridSize).toBe(6);
    expect(r.results.map((x) => x.params)).toEqual([
      { ma: 10, lb: 5, wa: 1 },
      { ma: 10, lb: 10, wa: 1 },
      { ma: 10, lb: 15, wa: 1 },
      { ma: 30, lb: 5, wa: 1 },
      { ma: 30, lb: 10, wa: 1 },
      { ma: 30, lb: 15, wa: 1 },
    ]);
    for (const x of r.results) {
      const direct = runSymphonyJs(resolveSymphony(ir, x.params), data, DEFAULT_SYMPHONY_CONFIG);
      expect(x.metrics).toEqual(direct.metrics);
    }
    const scores = r.ranked.map((x) => x.score);
    const finite = scores.filter((s) => !Number.isNaN(s));
    expect(finite).toEqual([...finite].sort((a, b) => b - a));
    expect(r.best?.index).toBe(r.ranked[0]?.index);
    const byReturn = await optimizeSymphony(ir, data, {
      engine: 'js',
      grid: { ma: [10, 30] },
      rank: { target: 'returnPct', direction: 'min' },
    });
    expect(byReturn.ranked[0]?.metrics.returnPct).toBeLessThanOrEqual(byReturn.ranked[1]?.metrics.returnPct as number);
  });

  it('a combination that fails resolution is reported, the rest run', async () => {
    // wa = 0 leaves weights [0, 0]: no positive sum
    const r = await optimizeSymphony(ir, data, { engine: 'js', grid: { wa: [0, 2] } });
    expect(r.results.map((x) => x.status)).toEqual(['failed', 'ok']);
    expect(r.results[0]?.error?.message).toMatch(/positive sum/);
    expect(r.ranked.map((x) => x.index)).toEqual([1]);
  });

  it('checks the grid and the rank target', async () => {
    await expect(optimizeSymphony(ir, data, { engine: 'js', grid: { nope: [1] } })).rejects.toThrow(/grid.nope/);
    await expect(
      optimizeSymphony(ir, data, { engine: 'js', grid: { ma: [5] }, rank: { target: 'sharp' as 'sharpe' } }),
    ).rejects.toThrow(/rank.target/);
  });
});

describe('resolveSymphony: current-price', () => {
  it('rejects a window on current-price, in a condition and in a filter', () => {
    const cond: SymphonyIR = {
      version: 1,
      kind: 'symphony',
      name: 'cp',
      tickers: ['SPY'],
      root: {
        type: 'if',
        cond: { op: '>', left: { fn: 'current-price', ticker: 'SPY', window: 3 }, right: 1 },
        then: [{ type: 'asset', ticker: 'SPY' }],
      },
    };
    expect(() => resolveSymphony(cond)).toThrow(/cond\.left\.window: current-price takes no window/);
    const filter: SymphonyIR = {
      ...cond,
      root: {
        type: 'filter',
        fn: 'current-price',
        window: 2,
        select: 'top',
        count: 1,
        children: [{ type: 'asset', ticker: 'SPY' }],
      },
    };
    expect(() => resolveSymphony(filter)).toThrow(/root\.window: current-price takes no window/);
  });
});
