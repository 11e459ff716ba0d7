import { describe, expect, it } from 'vitest';
import { Sfc32 } from '../src/data/generate.js';
import { ValidationError } from '../src/errors.js';
import { expandGrid, type Grid, MAX_COMBINATIONS, samplePositions } from '../src/optimize/grid.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import type { Params, StrategyIR } from '../src/types.js';

const S = referenceStrategy;

/** The issues `f` throws, as `path: message` lines. */
function issues(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ValidationError');
}

const pick = (combos: Params[], keys: string[]) => combos.map((c) => keys.map((k) => c[k]));

describe('expandGrid: expansion and order', () => {
  it('expands lists and ranges as a cartesian product, last key fastest', () => {
    const { combos, gridSize } = expandGrid(S, { rsiPeriod: [7, 14], slPips: { from: 10, to: 20, step: 5 } });
    expect(gridSize).toBe(6);
    expect(pick(combos, ['rsiPeriod', 'slPips'])).toEqual([
      [7, 10],
      [7, 15],
      [7, 20],
      [14, 10],
      [14, 15],
      [14, 20],
    ]);
  });

  it("follows the grid's key order, not the strategy's", () => {
    const { combos } = expandGrid(S, { slPips: [1, 2], rsiPeriod: [7, 14] });
    expect(pick(combos, ['slPips', 'rsiPeriod'])).toEqual([
      [1, 7],
      [1, 14],
      [2, 7],
      [2, 14],
    ]);
    // Every combination lists all parameters in the strategy's declaration order.
    expect(Object.keys(combos[0] as Params)).toEqual(['rsiPeriod', 'slPips', 'tpPips', 'lots']);
  });

  it('fills parameters outside the grid from base, then from the defaults; the grid overrides base', () => {
    const { combos } = expandGrid(S, { slPips: [5] }, { base: { lots: 0.5, slPips: 99 } });
    expect(combos).toEqual([{ rsiPeriod: 14, slPips: 5, tpPips: 40, lots: 0.5 }]);
  });

  it('an empty grid is the single base combination', () => {
    expect(expandGrid(S, {})).toEqual({ combos: [{ rsiPeriod: 14, slPips: 20, tpPips: 40, lots: 1 }], gridSize: 1 });
  });

  it('rounds range values to 12 significant digits', () => {
    const { combos } = expandGrid(S, { slPips: { from: 0.1, to: 0.5, step: 0.1 } });
    expect(combos.map((c) => c.slPips)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    const tenths = expandGrid(S, { slPips: { from: 0, to: 1, step: 0.1 } }).combos.map((c) => c.slPips);
    expect(tenths).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(tenths).not.toContain(0.30000000000000004);
  });

  it('includes `to` only when a step lands on it (within step * 1e-9)', () => {
    expect(expandGrid(S, { slPips: { from: 10, to: 40, step: 7 } }).combos.map((c) => c.slPips)).toEqual([
      10, 17, 24, 31, 38,
    ]);
    expect(expandGrid(S, { slPips: { from: 10, to: 40, step: 5 } }).combos.map((c) => c.slPips)).toEqual([
      10, 15, 20, 25, 30, 35, 40,
    ]);
    expect(expandGrid(S, { slPips: { from: 3, to: 3, step: 1 } }).combos.map((c) => c.slPips)).toEqual([3]);
    // 0.7 / 0.1 is 6.999…; the tolerance still takes the last step.
    expect(expandGrid(S, { slPips: { from: 0, to: 0.7, step: 0.1 } }).combos).toHaveLength(8);
  });
});

describe('expandGrid: constraints', () => {
  const grid: Grid = { slPips: [10, 20, 30], tpPips: [10, 20, 30] };

  it('drops combinations a function rejects, keeping grid order', () => {
    const { combos, gridSize } = expandGrid(S, grid, {
      constraints: [(p) => (p.tpPips as number) > (p.slPips as number)],
    });
    expect(gridSize).toBe(9);
    expect(pick(combos, ['slPips', 'tpPips'])).toEqual([
      [10, 20],
      [10, 30],
      [20, 30],
    ]);
  });

  it('parses string constraints with names and numbers, every operator', () => {
    const run = (c: string) => pick(expandGrid(S, grid, { constraints: [c] }).combos, ['slPips', 'tpPips']);
    expect(run('slPips < tpPips')).toEqual([
      [10, 20],
      [10, 30],
      [20, 30],
    ]);
    expect(run('tpPips<=slPips')).toHaveLength(6);
    expect(run('slPips > 15')).toHaveLength(6);
    expect(run('20 >= slPips')).toHaveLength(6);
    expect(run('slPips == tpPips')).toEqual([
      [10, 10],
      [20, 20],
      [30, 30],
    ]);
    expect(run('slPips != tpPips')).toHaveLength(6);
    expect(run('tpPips >= 2.5e1')).toHaveLength(3);
    // A parameter outside the grid takes its default (lots = 1).
    expect(run('lots > 1')).toEqual([]);
  });

  it('applies every constraint (a conjunction)', () => {
    const { combos } = expandGrid(S, grid, { constraints: ['slPips < tpPips', (p) => p.slPips !== 20] });
    expect(pick(combos, ['slPips', 'tpPips'])).toEqual([
      [10, 20],
      [10, 30],
    ]);
  });

  it('reports unparsable strings, unknown names and wrong types at constraints[i]', () => {
    expect(
      issues(() =>
        expandGrid(S, grid, {
          constraints: ['slPips < tpPips', 'slPips = 3', 'slPip < 3', 'a < b < c', 42 as never, 'stop < 2'],
        }),
      ),
    ).toEqual([
      "constraints[1]: cannot parse 'slPips = 3' (expected '<a> <op> <b>' with parameter names or numbers and op one of < <= > >= == !=)",
      "constraints[2]: unknown parameter 'slPip' (strategy has: rsiPeriod, slPips, tpPips, lots); did you mean 'slPips'?",
      "constraints[3]: cannot parse 'a < b < c' (expected '<a> <op> <b>' with parameter names or numbers and op one of < <= > >= == !=)",
      "constraints[4]: expected a function or a string '<a> <op> <b>', got 42",
      "constraints[5]: unknown parameter 'stop' (strategy has: rsiPeriod, slPips, tpPips, lots)",
    ]);
  });

  it('turns a throwing constraint function into a ValidationError at its index', () => {
    const lines = issues(() =>
      expandGrid(S, grid, {
        constraints: [
          'slPips < 99',
          () => {
            throw new Error('nope');
          },
        ],
      }),
    );
    expect(lines).toEqual(['constraints[1]: threw for {"rsiPeriod":14,"slPips":10,"tpPips":10,"lots":1}: nope']);
  });
});

describe('expandGrid: sampling', () => {
  const grid: Grid = { rsiPeriod: { from: 2, to: 30, step: 1 }, slPips: { from: 5, to: 50, step: 5 } };
  const full = expandGrid(S, grid).combos;

  it('is deterministic per seed, without replacement, in grid order', () => {
    const a = expandGrid(S, grid, { sample: { count: 25, seed: 7 } });
    const b = expandGrid(S, grid, { sample: { count: 25, seed: 7 } });
    const c = expandGrid(S, grid, { sample: { count: 25, seed: 8 } });
    expect(a.gridSize).toBe(290);
    expect(a.combos).toHaveLength(25);
    expect(a.combos).toEqual(b.combos);
    expect(c.combos).not.toEqual(a.combos);
    const positions = a.combos.map((p) => full.findIndex((q) => q.rsiPeriod === p.rsiPeriod && q.slPips === p.slPips));
    expect(positions.every((x) => x >= 0)).toBe(true);
    expect(new Set(positions).size).toBe(25);
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
  });

  it('keeps everything when count >= the number of combinations', () => {
    expect(expandGrid(S, grid, { sample: { count: 290, seed: 1 } }).combos).toEqual(full);
    expect(expandGrid(S, grid, { sample: { count: 10_000, seed: 1 } }).combos).toEqual(full);
    // With constraints, count at or above the survivors keeps every survivor.
    const constraints = ['rsiPeriod > 25'];
    const survivors = expandGrid(S, grid, { constraints }).combos;
    expect(survivors).toHaveLength(50);
    expect(expandGrid(S, grid, { constraints, sample: { count: 60, seed: 3 } }).combos).toEqual(survivors);
  });

  it('samples among the combinations the constraints keep, exactly count of them', () => {
    const { combos } = expandGrid(S, grid, { constraints: ['rsiPeriod > 25'], sample: { count: 10, seed: 3 } });
    expect(combos).toHaveLength(10);
    expect(combos.every((p) => (p.rsiPeriod as number) > 25)).toBe(true);
  });

  it('follows the documented partial Fisher-Yates over positions', () => {
    // A direct transcription of the algorithm in samplePositions' comment, on a dense array.
    const reference = (size: number, count: number, seed: number, accept: (p: number) => boolean) => {
      const rng = new Sfc32(seed);
      const P = Array.from({ length: size }, (_, k) => k);
      const kept: number[] = [];
      for (let i = 0; i < size && kept.length < count; i++) {
        const j = i + (rng.next() % (size - i));
        [P[i], P[j]] = [P[j] as number, P[i] as number];
        if (accept(P[i] as number)) kept.push(P[i] as number);
      }
      return kept.sort((x, y) => x - y);
    };
    for (const [size, count, seed] of [
      [10, 3, 0],
      [290, 25, 7],
      [1000, 999, 42],
      [5000, 4000, 0xffffffff],
    ] as const) {
      expect(samplePositions(size, count, seed).positions).toEqual(reference(size, count, seed, () => true));
      const odd = (p: number) => p % 2 === 1;
      expect(samplePositions(size, count, seed, odd).positions).toEqual(reference(size, count, seed, odd));
    }
    // The grid's sample is exactly those positions of the full product.
    const s = expandGrid(S, grid, { sample: { count: 25, seed: 7 } }).combos;
    expect(s).toEqual(reference(290, 25, 7, () => true).map((p) => full[p]));
  });

  it('is roughly uniform over positions', () => {
    const hits = new Array(10).fill(0);
    for (let seed = 0; seed < 4000; seed++) {
      for (const p of samplePositions(10, 2, seed).positions) hits[p]++;
    }
    // 800 expected per position; a fair sampler stays well inside ±15%.
    for (const h of hits) expect(Math.abs(h - 800)).toBeLessThan(120);
  });

  it('stops after maxDraws', () => {
    const r = samplePositions(1000, 10, 1, () => false, 100);
    expect(r).toEqual({ positions: [], draws: 100 });
  });

  it('samples a grid far beyond the limit without enumerating it', () => {
    const huge: Grid = {
      rsiPeriod: { from: 2, to: 1001, step: 1 },
      slPips: { from: 1, to: 100_000, step: 1 },
      tpPips: { from: 1, to: 100_000, step: 1 },
    };
    const a = expandGrid(S, huge, { sample: { count: 50, seed: 11 }, constraints: ['slPips < tpPips'] });
    expect(a.gridSize).toBe(1000 * 100_000 * 100_000);
    expect(a.combos).toHaveLength(50);
    expect(a.combos.every((p) => (p.slPips as number) < (p.tpPips as number))).toBe(true);
    expect(expandGrid(S, huge, { sample: { count: 50, seed: 11 }, constraints: ['slPips < tpPips'] }).combos).toEqual(
      a.combos,
    );
    const order = a.combos.map((p) => [p.rsiPeriod, p.slPips, p.tpPips] as number[]);
    const sorted = [...order].sort(
      (x, y) =>
        (x[0] as number) - (y[0] as number) ||
        (x[1] as number) - (y[1] as number) ||
        (x[2] as number) - (y[2] as number),
    );
    expect(order).toEqual(sorted);
  });
});

describe('expandGrid: validation', () => {
  it('reports every problem of the grid at once, each at its path', () => {
    expect(
      issues(() =>
        expandGrid(S, {
          slPip: [1],
          rsiPeriod: [],
          tpPips: { from: 40, to: 10, step: 0 },
          lots: [1, 'x' as never, Number.NaN, 1],
        }),
      ),
    ).toEqual([
      "grid.slPip: unknown parameter (strategy has: rsiPeriod, slPips, tpPips, lots); did you mean 'slPips'?",
      'grid.rsiPeriod: empty list (give at least one value)',
      'grid.tpPips.step: must be > 0',
      'grid.tpPips.from: must be <= to (10)',
      "grid.lots[1]: expected a finite number, got 'x'",
      'grid.lots[2]: expected a finite number, got NaN',
      'grid.lots[3]: duplicate value 1 (also at [0])',
    ]);
  });

  it('checks range fields', () => {
    expect(
      issues(() =>
        expandGrid(S, {
          slPips: { from: 1, to: 5 } as never,
          tpPips: { from: 1, to: Number.POSITIVE_INFINITY, step: 1, stp: 2 } as never,
          lots: 'many' as never,
          rsiPeriod: { from: 2, to: 10, step: -1 },
        }),
      ),
    ).toEqual([
      'grid.slPips.step: missing required field',
      "grid.tpPips.stp: unknown field 'stp' (expected one of from, to, step); did you mean 'step'?",
      'grid.tpPips.to: expected a finite number, got Infinity',
      "grid.lots: expected a list of numbers or { from, to, step }, got 'many'",
      'grid.rsiPeriod.step: must be > 0',
    ]);
    expect(issues(() => expandGrid(S, [1, 2] as never))).toEqual([
      'grid: expected an object of parameter values, got an array',
    ]);
  });

  it("checks each value against the parameter's type, min and max", () => {
    const bounded: StrategyIR = {
      ...S,
      params: { ...S.params, slPips: { default: 20, min: 5, max: 100 } },
    };
    expect(
      issues(() =>
        expandGrid(bounded, {
          rsiPeriod: [1, 2.5, 14],
          slPips: { from: 0, to: 150, step: 10 },
        }),
      ),
    ).toEqual([
      'grid.rsiPeriod[0]: 1 is below min 2',
      'grid.rsiPeriod[1]: 2.5 is not an integer',
      'grid.slPips: 0 is below min 5',
      'grid.slPips: 150 is above max 100',
    ]);
    // A range of an int parameter with a fractional step.
    expect(issues(() => expandGrid(S, { rsiPeriod: { from: 2, to: 4, step: 0.5 } }))).toEqual([
      'grid.rsiPeriod: 2.5 is not an integer',
    ]);
  });

  it('caps the reports per grid key and counts the rest', () => {
    expect(issues(() => expandGrid(S, { rsiPeriod: [-1, -2, -3, -4, -5, 7] }))).toEqual([
      'grid.rsiPeriod[0]: -1 is below min 2',
      'grid.rsiPeriod[1]: -2 is below min 2',
      'grid.rsiPeriod[2]: -3 is below min 2',
      'grid.rsiPeriod: … and 2 more',
    ]);
    const noMin: StrategyIR = { ...S, params: { ...S.params, rsiPeriod: { default: 14 } } };
    // Worker checks (section 3) run per combination and are traced back to the grid key.
    expect(issues(() => expandGrid(noMin, { rsiPeriod: [0, -1, -2, -3, -4, 14], slPips: [1, 2] }))).toEqual([
      "grid.rsiPeriod: strategy.workers[0].params.period: period must be an integer from 1 to 100000, got 0 (from param 'rsiPeriod') with rsiPeriod=0",
      "grid.rsiPeriod: strategy.workers[0].params.period: period must be an integer from 1 to 100000, got -1 (from param 'rsiPeriod') with rsiPeriod=-1",
      "grid.rsiPeriod: strategy.workers[0].params.period: period must be an integer from 1 to 100000, got -2 (from param 'rsiPeriod') with rsiPeriod=-2",
      'grid.rsiPeriod: … and 2 more',
    ]);
    // Constraints can drop the combinations a worker would reject.
    expect(expandGrid(noMin, { rsiPeriod: [0, 14] }, { constraints: ['rsiPeriod >= 1'] }).combos).toHaveLength(1);
  });

  it('finds every worker problem once, each worker checked on its own values', () => {
    // Two workers on their own grid keys and a macd on both: each bad value of each worker is
    // found, however the values of the other keys vary.
    const two: StrategyIR = {
      ...S,
      params: { a: { default: 5 }, b: { default: 9 } },
      workers: [
        { id: 'wa', kind: 'sma', timeframe: 'M5', params: { period: { param: 'a' } } },
        { id: 'wb', kind: 'ema', timeframe: 'M5', params: { period: { param: 'b' } } },
        { id: 'm', kind: 'macd', timeframe: 'M5', params: { fast: { param: 'a' }, slow: { param: 'b' }, signal: 3 } },
      ],
      rules: [],
    } as StrategyIR;
    const found = issues(() => expandGrid(two, { a: [0, 4, 8], b: [6, 0, 20] }));
    // A worker's problem names the values of its own keys, so it is one problem, not one per
    // value of the other key.
    expect(found.filter((m) => m.includes('workers[0]'))).toEqual([
      "grid.a: strategy.workers[0].params.period: period must be an integer from 1 to 100000, got 0 (from param 'a') with a=0",
    ]);
    expect(found.filter((m) => m.includes('workers[1]'))).toEqual([
      "grid.b: strategy.workers[1].params.period: period must be an integer from 1 to 100000, got 0 (from param 'b') with b=0",
    ]);
    // The macd reads both keys: its problem is found with both values.
    expect(issues(() => expandGrid(two, { a: [4, 8], b: [6, 20] }))).toEqual([
      "grid.a: strategy.workers[2].params.fast: fast (8) must be less than slow (6) (from param 'a') with a=8, b=6",
    ]);
    expect(expandGrid(two, { a: [2, 4], b: [6, 20] }).combos).toHaveLength(4);
  });

  it('checks base values, options and sample settings', () => {
    expect(
      issues(() =>
        expandGrid(
          S,
          { slPips: [1] },
          {
            base: { rsiPeriods: 3, tpPips: Number.NaN },
            constraints: 'slPips < 3' as never,
            sample: { count: 0, seed: 2 ** 32 },
          },
        ),
      ),
    ).toEqual([
      "params.rsiPeriods: unknown parameter (strategy has: rsiPeriod, slPips, tpPips, lots); did you mean 'rsiPeriod'?",
      'params.tpPips: expected a finite number, got NaN',
      "constraints: expected a list of constraints, got 'slPips < 3'",
      'sample.count: expected an integer >= 1, got 0',
      'sample.seed: expected an integer in [0, 2^32), got 4294967296',
    ]);
    expect(issues(() => expandGrid(S, {}, { sample: 5 as never }))).toEqual([
      'sample: expected { count, seed }, got 5',
    ]);
  });

  it(`rejects a grid above ${MAX_COMBINATIONS.toLocaleString('en-US')} combinations unless sampling brings it down`, () => {
    const big: Grid = { slPips: { from: 1, to: 10_000, step: 1 }, tpPips: { from: 1, to: 1001, step: 1 } };
    expect(issues(() => expandGrid(S, big))).toEqual([
      'grid: 10,010,000 combinations exceed the limit of 10,000,000; narrow the grid or add sample: { count, seed }',
    ]);
    expect(issues(() => expandGrid(S, big, { sample: { count: 10_000_001, seed: 1 } }))).toEqual([
      'grid: 10,010,000 combinations exceed the limit of 10,000,000; sample.count must be <= 10,000,000',
    ]);
    const r = expandGrid(S, big, { sample: { count: 3, seed: 1 } });
    expect(r.gridSize).toBe(10_010_000);
    expect(r.combos).toHaveLength(3);
  });
});
