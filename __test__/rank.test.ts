import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { checkRankOptions, passes, type RankOptions, rank, score, TopK } from '../src/optimize/rank.js';
import { METRIC_KEYS, type Metrics } from '../src/types.js';

interface Item {
  index: number;
  metrics: Metrics;
}

function metrics(over: Partial<Metrics> = {}): Metrics {
  const m = Object.fromEntries(METRIC_KEYS.map((k) => [k, 0])) as unknown as Metrics;
  return { ...m, tradeCount: 10, ...over };
}

const item = (index: number, over: Partial<Metrics>): Item => ({ index, metrics: metrics(over) });
const indices = (xs: Item[]) => xs.map((x) => x.index);

describe('score', () => {
  it('is the target metric, sharpe by default', () => {
    expect(score(metrics({ sharpe: 1.5, netProfit: 900 }))).toBe(1.5);
    expect(score(metrics({ sharpe: 1.5, netProfit: 900 }), { target: 'netProfit' })).toBe(900);
    // The direction does not change the score, only the order.
    expect(score(metrics({ maxDrawdownPct: 12 }), { target: 'maxDrawdownPct', direction: 'min' })).toBe(12);
  });

  it('is a weighted sum for weights; a zero weight leaves its metric out', () => {
    const m = metrics({ sharpe: 2, maxDrawdownPct: 10, profitFactor: Number.POSITIVE_INFINITY });
    expect(score(m, { target: { weights: { sharpe: 1, maxDrawdownPct: -0.5 } } })).toBe(-3);
    expect(score(m, { target: { weights: { sharpe: 1, profitFactor: 0 } } })).toBe(2);
  });

  it('is NaN when a metric it uses is not finite', () => {
    expect(score(metrics({ sharpe: Number.NaN }))).toBeNaN();
    expect(score(metrics({ profitFactor: Number.POSITIVE_INFINITY }), { target: 'profitFactor' })).toBeNaN();
    expect(score(metrics({ calmar: Number.NaN }), { target: { weights: { sharpe: 1, calmar: 1 } } })).toBeNaN();
  });
});

describe('passes', () => {
  it('applies minTrades and maxDrawdownPct', () => {
    const opts: RankOptions = { minTrades: 5, maxDrawdownPct: 20 };
    expect(passes(metrics({ tradeCount: 5, maxDrawdownPct: 20 }), opts)).toBe(true);
    expect(passes(metrics({ tradeCount: 4, maxDrawdownPct: 1 }), opts)).toBe(false);
    expect(passes(metrics({ tradeCount: 50, maxDrawdownPct: 20.01 }), opts)).toBe(false);
    expect(passes(metrics({ tradeCount: 50, maxDrawdownPct: Number.NaN }), opts)).toBe(false);
    expect(passes(metrics({ tradeCount: 0, maxDrawdownPct: 99 }))).toBe(true);
  });
});

describe('rank', () => {
  const items = [
    item(0, { sharpe: 1, netProfit: 10, maxDrawdownPct: 5 }),
    item(1, { sharpe: 3, netProfit: -5, maxDrawdownPct: 30 }),
    item(2, { sharpe: Number.NaN, netProfit: 50, maxDrawdownPct: 2 }),
    item(3, { sharpe: 2, netProfit: 20, maxDrawdownPct: 10, tradeCount: 2 }),
    item(4, { sharpe: 1, netProfit: 10, maxDrawdownPct: 5 }),
  ];

  it('sorts by a metric, best first, NaN last, ties by lower index', () => {
    expect(indices(rank(items))).toEqual([1, 3, 0, 4, 2]);
    expect(indices(rank([...items].reverse()))).toEqual([1, 3, 0, 4, 2]);
    expect(indices(rank(items, { target: 'netProfit' }))).toEqual([2, 3, 0, 4, 1]);
  });

  it('sorts ascending for direction min, NaN still last', () => {
    expect(indices(rank(items, { target: 'maxDrawdownPct', direction: 'min' }))).toEqual([2, 0, 4, 3, 1]);
    expect(indices(rank(items, { direction: 'min' }))).toEqual([0, 4, 3, 1, 2]);
  });

  it('sorts by weights', () => {
    // sharpe - 0.1 * maxDrawdownPct: 0.5, 0, NaN, 1, 0.5
    expect(indices(rank(items, { target: { weights: { sharpe: 1, maxDrawdownPct: -0.1 } } }))).toEqual([3, 0, 4, 1, 2]);
  });

  it('leaves out what the filters reject', () => {
    expect(indices(rank(items, { minTrades: 5 }))).toEqual([1, 0, 4, 2]);
    expect(indices(rank(items, { minTrades: 5, maxDrawdownPct: 10 }))).toEqual([0, 4, 2]);
  });

  it('rejects bad options with paths', () => {
    const lines = (o: unknown) => {
      try {
        checkRankOptions(o as RankOptions);
        return [];
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        return (e as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
      }
    };
    expect(lines({ target: 'sharp', direction: 'up', topK: -1, minTrades: 1.5, maxDrawdownPct: 'x' })).toEqual([
      `target: unknown metric 'sharp' (expected one of ${METRIC_KEYS.join(', ')}); did you mean 'sharpe'?`,
      "direction: expected 'max' or 'min', got 'up'",
      'minTrades: expected a non-negative integer, got 1.5',
      "maxDrawdownPct: expected a number >= 0, got 'x'",
      'topK: expected a non-negative integer, got -1',
    ]);
    expect(lines({ target: { weights: { sharpe: 'a', foo: 1 } } })).toEqual([
      "target.weights.sharpe: expected a finite number, got 'a'",
      `target.weights.foo: unknown metric (expected one of ${METRIC_KEYS.join(', ')})`,
    ]);
    expect(lines({ target: { weights: {} } })).toEqual(['target.weights: expected at least one weight']);
    expect(lines({ target: 3 })).toEqual(['target: expected a metric name or { weights: { metric: number } }, got 3']);
    expect(() => rank([], { target: 'nope' as never })).toThrow(ValidationError);
    expect(() => new TopK({ topK: 1.5 })).toThrow(ValidationError);
  });
});

describe('TopK', () => {
  it('keeps the best K, best first, and knows the best', () => {
    const top = new TopK<Item>({ topK: 2 });
    expect(top.best()).toBeUndefined();
    expect(top.sorted()).toEqual([]);
    for (const [i, s] of [0.5, 2, Number.NaN, 1, 3, 2].entries()) top.offer(item(i, { sharpe: s }));
    expect(top.size).toBe(2);
    expect(indices(top.sorted())).toEqual([4, 1]);
    expect(top.best()?.index).toBe(4);
    expect(top.bestEntry()?.score).toBe(3);
  });

  it('defaults to 10, drops filtered items, and topK 0 keeps nothing', () => {
    const top = new TopK<Item>({ minTrades: 1 });
    for (let i = 0; i < 30; i++) expect(top.offer(item(i, { sharpe: i, tradeCount: i % 2 }))).toBe(i % 2 === 1);
    expect(top.k).toBe(10);
    expect(indices(top.sorted())).toEqual([29, 27, 25, 23, 21, 19, 17, 15, 13, 11]);
    const none = new TopK<Item>({ topK: 0 });
    expect(none.offer(item(0, { sharpe: 1 }))).toBe(false);
    expect(none.size).toBe(0);
  });

  it('keeps NaN scores only while there is room, and ties go to the lower index', () => {
    const top = new TopK<Item>({ topK: 3 });
    top.offer(item(5, { sharpe: Number.NaN }));
    top.offer(item(9, { sharpe: 1 }));
    top.offer(item(7, { sharpe: 1 }));
    expect(indices(top.sorted())).toEqual([7, 9, 5]);
    top.offer(item(8, { sharpe: 1 }));
    expect(indices(top.sorted())).toEqual([7, 8, 9]);
    top.offer(item(10, { sharpe: 1 }));
    expect(indices(top.sorted())).toEqual([7, 8, 9]);
  });

  it("equals a full sort's first K on random data while holding at most K", () => {
    const value = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: -20, max: 20 }).map((x) => x / 4) },
      { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY) },
    );
    const row = fc.record({ sharpe: value, netProfit: value, tradeCount: fc.integer({ min: 0, max: 5 }) });
    const options = fc.record(
      {
        target: fc.oneof(
          fc.constantFrom<RankOptions['target']>('sharpe', 'netProfit'),
          fc.constant<RankOptions['target']>({ weights: { sharpe: 1, netProfit: -0.5 } }),
        ),
        direction: fc.constantFrom<'max' | 'min'>('max', 'min'),
        minTrades: fc.integer({ min: 0, max: 3 }),
        topK: fc.integer({ min: 0, max: 12 }),
      },
      { requiredKeys: ['topK'] },
    );
    fc.assert(
      fc.property(fc.array(row, { maxLength: 80 }), options, fc.integer(), (rows, opts, shuffleSeed) => {
        const items = rows.map((r, index) => item(index, r));
        // Arrival order differs from index order, as when jobs finish out of order.
        const arrival = [...items].sort(
          (a, b) => ((a.index * 7919 + shuffleSeed) % 97) - ((b.index * 7919 + shuffleSeed) % 97),
        );
        const top = new TopK<Item>(opts);
        let maxHeld = 0;
        for (const x of arrival) {
          top.offer(x);
          maxHeld = Math.max(maxHeld, top.size);
        }
        const expected = rank(items, opts).slice(0, opts.topK);
        expect(maxHeld).toBeLessThanOrEqual(opts.topK);
        expect(indices(top.sorted())).toEqual(indices(expected));
        expect(top.best()?.index).toBe(expected[0]?.index);
      }),
      { seed: 20240601, numRuns: 500 },
    );
  });
});
