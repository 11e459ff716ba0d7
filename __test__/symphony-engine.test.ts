// biome-ignore-all lint/suspicious/noThenProperty: `then` is the symphony IR's field name
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { alignDaily, checkDailyData, generateDaily } from '../src/symphony/data.js';
import {
  createSeriesIndicator,
  DEFAULT_SYMPHONY_CONFIG,
  runSymphonyJs,
  type SeriesIndicator,
} from '../src/symphony/engine.js';
import { resolveSymphony, validateSymphonyIR } from '../src/symphony/resolve.js';
import type {
  DailyData,
  SymphonyIndicator,
  SymphonyIR,
  SymphonyNode,
  SymphonyOutput,
  SymphonyRunConfig,
} from '../src/symphony/types.js';

const DAY = 86_400_000;
const D0 = Date.UTC(2024, 0, 1); // a Monday
const N = Number.NaN;

/** Consecutive calendar days from `start`; `null` is no price. */
function daily(
  closes: Record<string, (number | null)[]>,
  opens: Record<string, (number | null)[]> = {},
  start = D0,
): DailyData {
  const tickers = Object.keys(closes).sort();
  const n = (closes[tickers[0] as string] as unknown[]).length;
  const col = (xs: (number | null)[]) => Float64Array.from(xs, (x) => (x === null ? N : x));
  return {
    dates: Float64Array.from({ length: n }, (_, i) => start + i * DAY),
    tickers,
    close: tickers.map((t) => col(closes[t] as (number | null)[])),
    open: tickers.map((t) => col(opens[t] ?? (closes[t] as (number | null)[]))),
  };
}

function sym(root: SymphonyNode, tickers: string[], extra: Partial<SymphonyIR> = {}): SymphonyIR {
  return { version: 1, kind: 'symphony', name: 'test', tickers, root, ...extra };
}

function run(ir: SymphonyIR, data: DailyData, config: Partial<SymphonyRunConfig> = {}): SymphonyOutput {
  return runSymphonyJs(resolveSymphony(ir), data, { ...DEFAULT_SYMPHONY_CONFIG, ...config });
}

/** Row `d` of the weights. */
function row(out: SymphonyOutput, d: number): number[] {
  const n = out.tickers.length;
  return Array.from(out.weights.subarray(d * n, (d + 1) * n));
}

function rows(out: SymphonyOutput): number[][] {
  return Array.from({ length: out.time.length }, (_, d) => row(out, d));
}

const asset = (ticker: string): SymphonyNode => ({ type: 'asset', ticker });
const price = (ticker: string) => ({ fn: 'current-price' as const, ticker });

function feed(fn: SymphonyIndicator, w: number, xs: number[]): number[] {
  const ind: SeriesIndicator = createSeriesIndicator(fn, w, xs.length);
  return xs.map((x) => {
    ind.push(x);
    return ind.value;
  });
}

// ---------------------------------------------------------------- indicators

describe('indicators', () => {
  it('current-price is the latest value', () => {
    expect(feed('current-price', 0, [3, 1, 2])).toEqual([3, 1, 2]);
  });

  it('moving-average-price is the rolling mean of w values', () => {
    // (2+4+6)/3 = 4, (4+6+5)/3 = 5, (6+5+10)/3 = 7
    expect(feed('moving-average-price', 3, [2, 4, 6, 5, 10])).toEqual([N, N, 4, 5, 7]);
  });

  it('exponential-moving-average-price is SMA-seeded with k = 2 / (w + 1)', () => {
    // seed (2+4+6)/3 = 4; k = 0.5: (5-4)*0.5+4 = 4.5; (9-4.5)*0.5+4.5 = 6.75
    expect(feed('exponential-moving-average-price', 3, [2, 4, 6, 5, 9])).toEqual([N, N, 4, 4.5, 6.75]);
  });

  it('rsi is Wilder RSI', () => {
    // changes +1, -0.5, +1.5, -1 with w = 2:
    // ag = 1/2 = 0.5, al = 0.5/2 = 0.25 -> 100 * 0.5/0.75
    // ag = (0.5*1 + 1.5)/2 = 1, al = (0.25*1 + 0)/2 = 0.125 -> 100 * 1/1.125
    // ag = (1*1 + 0)/2 = 0.5, al = (0.125*1 + 1)/2 = 0.5625 -> 100 * 0.5/1.0625
    expect(feed('rsi', 2, [10, 11, 10.5, 12, 11])).toEqual([
      N,
      N,
      100 * (0.5 / 0.75),
      100 * (1 / 1.125),
      100 * (0.5 / 1.0625),
    ]);
  });

  // Prices with exact binary returns: 64 -> 80 is +0.25, 80 -> 60 is -0.25, 60 -> 75 is +0.25.
  const xs = [64, 80, 60, 75];

  it('moving-average-return is the mean of the last w returns, in percent', () => {
    // w = 2: (0.25 + -0.25)/2*100 = 0; (-0.25 + 0.25)/2*100 = 0; w = 1: each return * 100
    expect(feed('moving-average-return', 2, xs)).toEqual([N, N, 0, 0]);
    expect(feed('moving-average-return', 1, xs)).toEqual([N, 25, -25, 25]);
  });

  it('cumulative-return compares with the value w days back, in percent', () => {
    // w = 2: (60/64 - 1)*100 = -6.25; (75/80 - 1)*100 = -6.25
    expect(feed('cumulative-return', 2, xs)).toEqual([N, N, -6.25, -6.25]);
    // w = 3: (75/64 - 1)*100 = 17.1875
    expect(feed('cumulative-return', 3, xs)).toEqual([N, N, N, 17.1875]);
  });

  it('stdev-return is the population deviation of the last w returns, in percent', () => {
    // w = 2: returns [0.25, -0.25], mean 0, ss = 0.125, sqrt(0.125/2) = 0.25 -> 25
    expect(feed('stdev-return', 2, xs)).toEqual([N, N, 25, 25]);
    // w = 1: a single return deviates 0 from itself
    expect(feed('stdev-return', 1, xs)).toEqual([N, 0, 0, 0]);
  });

  it('stdev-price is the population deviation of the last w values', () => {
    // [2, 4, 6]: mean 4, ss = 4 + 0 + 4 = 8 -> sqrt(8/3); [4, 6, 8] the same; [6, 8, 8]: mean 22/3
    const m = 22 / 3;
    const ss = (6 - m) * (6 - m) + (8 - m) * (8 - m) + (8 - m) * (8 - m);
    expect(feed('stdev-price', 3, [2, 4, 6, 8, 8])).toEqual([
      N,
      N,
      Math.sqrt(8 / 3),
      Math.sqrt(8 / 3),
      Math.sqrt(ss / 3),
    ]);
  });

  it('max-drawdown is the deepest fall from a running peak over w + 1 values, in percent', () => {
    // w = 3: [100 120 90 60]: peak 120, (120-60)/120 = 0.5 -> 50
    // [120 90 60 150]: 50; [90 60 150 140]: (90-60)/90 = 1/3 beats (150-140)/150 -> 100/3
    expect(feed('max-drawdown', 3, [100, 120, 90, 60, 150, 140])).toEqual([N, N, N, 50, 50, (30 / 90) * 100]);
  });

  it('a window longer than the series is never ready', () => {
    expect(feed('moving-average-price', 5, [1, 2, 3])).toEqual([N, N, N]);
    expect(feed('max-drawdown', 3, [1, 2, 3])).toEqual([N, N, N]);
  });
});

// ---------------------------------------------------------------- allocation

describe('allocation', () => {
  // A and B priced from day 0, C from day 1.
  const data = daily({
    A: [10, 11, 12],
    B: [20, 19, 21],
    C: [null, 30, 33],
  });
  const T = ['A', 'B', 'C'];

  it('asset: weight 1 when priced, cash before', () => {
    expect(rows(run(sym(asset('A'), T), data))).toEqual([
      [1, 0, 0],
      [1, 0, 0],
      [1, 0, 0],
    ]);
    expect(rows(run(sym(asset('C'), T), data))).toEqual([
      [0, 0, 0],
      [0, 0, 1],
      [0, 0, 1],
    ]);
  });

  it('weight-equal and group: 1/n each, an unpriced child holds cash', () => {
    const third = 1 / 3;
    const expected = [
      [third, third, 0], // C unpriced: its third stays cash
      [third, third, third],
      [third, third, third],
    ];
    expect(rows(run(sym({ type: 'weight-equal', children: T.map(asset) }, T), data))).toEqual(expected);
    expect(rows(run(sym({ type: 'group', name: 'g', children: T.map(asset) }, T), data))).toEqual(expected);
  });

  it('nested weight-equal multiplies shares', () => {
    // [A, [B, C]]: A 1/2, B 1/2 * 1/2 = 0.25, C 0.25 (day 0: C is cash)
    const ir = sym(
      { type: 'weight-equal', children: [asset('A'), { type: 'weight-equal', children: [asset('B'), asset('C')] }] },
      T,
    );
    expect(rows(run(ir, data))).toEqual([
      [0.5, 0.25, 0],
      [0.5, 0.25, 0.25],
      [0.5, 0.25, 0.25],
    ]);
  });

  it('weight-specified: w_i / sum, [60 40] equals [0.6 0.4]', () => {
    // 60/100 = 0.6, 40/100 = 0.4
    const a = run(sym({ type: 'weight-specified', weights: [60, 40], children: [asset('A'), asset('B')] }, T), data);
    const b = run(sym({ type: 'weight-specified', weights: [0.6, 0.4], children: [asset('A'), asset('B')] }, T), data);
    expect(row(a, 0)).toEqual([0.6, 0.4, 0]);
    expect(rows(a)).toEqual(rows(b));
    // [3 1]: 3/4 = 0.75, 1/4 = 0.25; a zero weight gets nothing
    const c = run(
      sym({ type: 'weight-specified', weights: [3, 1, 0], children: [asset('A'), asset('B'), asset('C')] }, T),
      data,
    );
    expect(row(c, 1)).toEqual([0.75, 0.25, 0]);
  });

  it('if: then list when true, else list when false, 1/n within a list', () => {
    // A > 10.5: day 0 (10) false -> [B]; days 1, 2 true -> [A, C] half each
    const ir = sym(
      {
        type: 'if',
        cond: { op: '>', left: price('A'), right: 10.5 },
        then: [asset('A'), asset('C')],
        else: [asset('B')],
      },
      T,
    );
    expect(rows(run(ir, data))).toEqual([
      [0, 1, 0],
      [0.5, 0, 0.5],
      [0.5, 0, 0.5],
    ]);
  });

  it('if without else holds cash for its share when false', () => {
    // [if(A > 10.5) [A], B]: day 0: if is cash (1/2), B 1/2
    const ir = sym(
      {
        type: 'weight-equal',
        children: [{ type: 'if', cond: { op: '>', left: price('A'), right: 10.5 }, then: [asset('A')] }, asset('B')],
      },
      T,
    );
    expect(rows(run(ir, data))).toEqual([
      [0, 0.5, 0],
      [0.5, 0.5, 0],
      [0.5, 0.5, 0],
    ]);
  });

  it('if: a comparison with NaN is false; = is exact', () => {
    // C > 0 on day 0: C has no price (NaN) -> else
    const nan = sym(
      { type: 'if', cond: { op: '>', left: price('C'), right: 0 }, then: [asset('C')], else: [asset('A')] },
      T,
    );
    expect(row(run(nan, data), 0)).toEqual([1, 0, 0]);
    // A = 11 only on day 1; two indicator operands: A <= B always
    const eq = sym(
      { type: 'if', cond: { op: '=', left: price('A'), right: 11 }, then: [asset('A')], else: [asset('B')] },
      T,
    );
    expect(rows(run(eq, data)).map((r) => r[0])).toEqual([0, 1, 0]);
    const two = sym({ type: 'if', cond: { op: '<=', left: price('A'), right: price('B') }, then: [asset('A')] }, T);
    expect(rows(run(two, data)).map((r) => r[0])).toEqual([1, 1, 1]);
  });

  it('filter: top / bottom by score, NaN left out, 1/k each', () => {
    // current-price top 1: day 0 A 10, B 20, C NaN -> B; day 1 C 30 -> C
    const top = sym({ type: 'filter', fn: 'current-price', select: 'top', count: 1, children: T.map(asset) }, T);
    expect(rows(run(top, data))).toEqual([
      [0, 1, 0],
      [0, 0, 1],
      [0, 0, 1],
    ]);
    // bottom 2 on day 1: A 11, B 19 -> 1/2 each; day 0 only A, B eligible
    const bottom = sym({ type: 'filter', fn: 'current-price', select: 'bottom', count: 2, children: T.map(asset) }, T);
    expect(rows(run(bottom, data))).toEqual([
      [0.5, 0.5, 0],
      [0.5, 0.5, 0],
      [0.5, 0.5, 0],
    ]);
    // count above the eligible number: all eligible, 1/k with k = eligible (day 0: 2, then 3)
    const many = sym({ type: 'filter', fn: 'current-price', select: 'top', count: 5, children: T.map(asset) }, T);
    expect(row(run(many, data), 0)).toEqual([0.5, 0.5, 0]);
    expect(row(run(many, data), 1)).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('filter: none eligible is cash; the window defaults per indicator', () => {
    // cumulative-return defaults to 60 days: never ready on 3 days
    const ir = sym({ type: 'filter', fn: 'cumulative-return', select: 'top', count: 1, children: T.map(asset) }, T);
    expect(rows(run(ir, data))).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it('filter: equal scores go by label, then position', () => {
    const flat = daily({ D: [5, 5], E: [5, 5], F: [5, 5] });
    // children [E, D]: equal scores, label D < E -> D
    const ir = sym(
      { type: 'filter', fn: 'current-price', select: 'top', count: 1, children: [asset('E'), asset('D')] },
      ['D', 'E'],
    );
    expect(row(run(ir, flat), 0)).toEqual([1, 0]);
    // groups 'z' [E] and 'a' [F]: synthetic prices both 1 -> label 'a' -> F
    const groups = sym(
      {
        type: 'filter',
        fn: 'current-price',
        select: 'top',
        count: 1,
        children: [
          { type: 'group', name: 'z', children: [asset('E')] },
          { type: 'group', name: 'a', children: [asset('F')] },
        ],
      },
      ['E', 'F'],
    );
    expect(row(run(groups, flat), 0)).toEqual([0, 1]);
    // two unnamed nodes: both labelled '', position decides -> the first (E)
    const unnamed = sym(
      {
        type: 'filter',
        fn: 'current-price',
        select: 'bottom',
        count: 1,
        children: [
          { type: 'weight-equal', children: [asset('E')] },
          { type: 'weight-equal', children: [asset('F')] },
        ],
      },
      ['E', 'F'],
    );
    expect(row(run(unnamed, flat), 0)).toEqual([1, 0]);
  });

  it('weight-inverse-volatility: (1/v_i) / sum(1/v), v = stdev-return', () => {
    // A returns +0.25, -0.25 -> stdev-return(2) = 25; B returns +0.125, -0.125 -> 12.5
    const iv = daily({ A: [64, 80, 60], B: [64, 72, 63] });
    const ir = sym({ type: 'weight-inverse-volatility', window: 2, children: [asset('A'), asset('B')] }, ['A', 'B']);
    const out = run(ir, iv);
    // days 0 and 1: not ready -> cash; day 2: A (1/25)/(1/25 + 1/12.5), B (1/12.5)/(1/25 + 1/12.5)
    const s = 1 / 25 + 1 / 12.5;
    expect(rows(out)).toEqual([
      [0, 0],
      [0, 0],
      [1 / 25 / s, 1 / 12.5 / s],
    ]);
  });

  it('weight-inverse-volatility: a zero deviation gets nothing', () => {
    // window 1: every stdev-return is 0 -> no eligible child -> cash
    const iv = daily({ A: [64, 80, 60], B: [64, 72, 63] });
    const ir = sym({ type: 'weight-inverse-volatility', window: 1, children: [asset('A'), asset('B')] }, ['A', 'B']);
    expect(rows(run(ir, iv))).toEqual([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
  });
});

// ---------------------------------------------------------------- synthetic series

describe('synthetic series', () => {
  // A: +0.25, -0.25; B: +0.125, -0.125; C: +0.125, 0
  const data = daily({ A: [64, 80, 60], B: [64, 72, 63], C: [64, 72, 72] });
  const T = ['A', 'B', 'C'];

  it('a non-asset child is scored on its own daily-rebalanced price', () => {
    // X = [A, B] half each: P = 1, 1 + (0.5*0.25 + 0.5*0.125) = 1.1875, 1.1875 * (1 - 0.1875) = 0.96484375
    // Y = [C]: P = 1, 1.125, 1.125
    // top 1 by price: day 0 tie (labels '') -> X; day 1 X; day 2 Y
    const ir = sym(
      {
        type: 'filter',
        fn: 'current-price',
        select: 'top',
        count: 1,
        children: [
          { type: 'weight-equal', children: [asset('A'), asset('B')] },
          { type: 'weight-equal', children: [asset('C')] },
        ],
      },
      T,
    );
    expect(rows(run(ir, data))).toEqual([
      [0.5, 0.5, 0],
      [0.5, 0.5, 0],
      [0, 0, 1],
    ]);
  });

  it("a day's synthetic move uses the node's allocation of the day before", () => {
    // Z = if(A > 70) [A] else [B]: day 0 holds B; day 1 holds A.
    // P_Z: 1; 1 * (1 + (72/64 - 1)) = 1.125 (B's move, yesterday's pick); 1.125 * (1 + (60/80 - 1)) = 0.84375
    // Y = [C]: 1, 1.125, 1.125. Top 1: day 0 tie -> Z (B); day 1 tie -> Z (A); day 2 Y (C)
    const ir = sym(
      {
        type: 'filter',
        fn: 'current-price',
        select: 'top',
        count: 1,
        children: [
          { type: 'if', cond: { op: '>', left: price('A'), right: 70 }, then: [asset('A')], else: [asset('B')] },
          { type: 'weight-equal', children: [asset('C')] },
        ],
      },
      T,
    );
    expect(rows(run(ir, data))).toEqual([
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 1],
    ]);
  });

  it('branches not taken are still evaluated (series stay continuous)', () => {
    const filter: SymphonyNode = {
      type: 'filter',
      fn: 'current-price',
      select: 'top',
      count: 1,
      children: [
        { type: 'weight-equal', children: [asset('A'), asset('B')] },
        { type: 'weight-equal', children: [asset('C')] },
      ],
    };
    // The filter is only reached on day 2 (A < 70); its children's prices run from day 0 anyway.
    const ir = sym(
      { type: 'if', cond: { op: '<', left: price('A'), right: 61 }, then: [filter], else: [asset('A')] },
      T,
    );
    expect(row(run(ir, data), 2)).toEqual(row(run(sym(filter, T), data), 2));
    expect(row(run(ir, data), 2)).toEqual([0, 0, 1]);
  });

  it('inverse volatility of synthetic children', () => {
    // X = [A] via group: same moves as A (stdev-return(2) = 25 on day 2); B directly (12.5)
    const ir = sym(
      {
        type: 'weight-inverse-volatility',
        window: 2,
        children: [{ type: 'group', name: 'x', children: [asset('A')] }, asset('B')],
      },
      T,
    );
    const s = 1 / 25 + 1 / 12.5;
    expect(row(run(ir, data), 2)).toEqual([1 / 25 / s, 1 / 12.5 / s, 0]);
  });

  it('warmup days before start feed the series', () => {
    const ir = sym(
      {
        type: 'filter',
        fn: 'current-price',
        select: 'top',
        count: 1,
        children: [
          { type: 'weight-equal', children: [asset('A'), asset('B')] },
          { type: 'weight-equal', children: [asset('C')] },
        ],
      },
      T,
    );
    const out = run(ir, data, { start: D0 + 2 * DAY });
    expect(Array.from(out.time)).toEqual([D0 + 2 * DAY]);
    expect(rows(out)).toEqual([[0, 0, 1]]);
  });
});

// ---------------------------------------------------------------- simulation

describe('simulation', () => {
  it('fills at close: units = W * V / close, equity marked at closes', () => {
    const data = daily({ A: [100, 110, 99] }, { A: [100, 105, 100] });
    const out = run(sym(asset('A'), ['A']), data);
    // day 0: 100 units at 100; equity 100 * 110 = 11000, 100 * 99 = 9900
    expect(Array.from(out.equity)).toEqual([10_000, 11_000, 9_900]);
    expect(Array.from(out.rebalanceDays)).toEqual([0, 1, 2]);
    expect(out.metrics.rebalances).toBe(3);
  });

  it("fills at open: a day's target trades at the next day's open", () => {
    const data = daily({ A: [100, 110, 99] }, { A: [100, 105, 100] });
    const out = run(sym(asset('A'), ['A']), data, { fillAt: 'open', rebalance: 'weekly' });
    // day 0: decided, not traded (10000 cash); day 1: buy 10000/105 units at 105, mark at 110
    const units = 10_000 / 105;
    expect(out.equity[0]).toBe(10_000);
    expect(out.equity[1]).toBeCloseTo(units * 110, 9);
    expect(out.equity[2]).toBeCloseTo(units * 99, 9);
    expect(Array.from(out.rebalanceDays)).toEqual([0]);
    expect(out.metrics.rebalances).toBe(1);
  });

  it('fills at open: a decision on the last day is recorded but not traded', () => {
    const data = daily({ A: [100, 110] });
    const out = run(sym(asset('A'), ['A']), data, { fillAt: 'open' });
    expect(Array.from(out.rebalanceDays)).toEqual([0, 1]);
    expect(out.metrics.rebalances).toBe(1);
  });

  it('commission: percent of traded notional, taken from cash', () => {
    const data = daily({ A: [100, 100] });
    const out = run(sym(asset('A'), ['A']), data, { commissionPct: 1, rebalance: 'monthly' });
    // traded 100 units * 100 = 10000 -> commission 100; cash = 10000 - 10000 - 100 = -100
    expect(out.metrics.totalCommission).toBe(100);
    expect(out.metrics.turnover).toBe(1);
    expect(Array.from(out.equity)).toEqual([9_900, 9_900]);
  });

  it('daily rebalancing trades drift back to the target', () => {
    // [A, B] half each; A doubles on day 1: before trading A = 10000, B = 5000 (V 15000)
    const data = daily({ A: [100, 200], B: [100, 100] });
    const out = run(sym({ type: 'weight-equal', children: [asset('A'), asset('B')] }, ['A', 'B']), data, {
      commissionPct: 0.5,
    });
    // day 0: traded 10000, commission 50; cash -50; day 1: V = -50 + 10000 + 5000 = 14950
    // targets 7475 each: |37.375 - 50| * 200 + |74.75 - 50| * 100 = 2525 + 2475 = 5000 -> commission 25
    expect(out.metrics.totalCommission).toBe(75);
    expect(out.metrics.turnover).toBeCloseTo(1 + 5000 / 14_950, 14);
    expect(out.equity[1]).toBeCloseTo(14_950 - 25, 9);
  });

  it('weekly: the first day, then each day whose Monday-based week differs', () => {
    // From Thursday 2024-01-04: Mondays are 2024-01-08 (day 4) and 2024-01-15 (day 11)
    const n = 14;
    const data = daily({ A: Array.from({ length: n }, (_, i) => 100 + i) }, {}, Date.UTC(2024, 0, 4));
    const out = run(sym(asset('A'), ['A']), data, { rebalance: 'weekly' });
    expect(Array.from(out.rebalanceDays)).toEqual([0, 4, 11]);
  });

  it('weekly: a gap over a weekend still starts a new week', () => {
    const data: DailyData = {
      dates: Float64Array.from([Date.UTC(2024, 0, 5), Date.UTC(2024, 0, 9), Date.UTC(2024, 0, 10)]),
      tickers: ['A'],
      open: [Float64Array.from([1, 1, 1])],
      close: [Float64Array.from([1, 1, 1])],
    };
    expect(Array.from(run(sym(asset('A'), ['A']), data, { rebalance: 'weekly' }).rebalanceDays)).toEqual([0, 1]);
  });

  it('monthly: the first day, then the first day of each UTC month', () => {
    // 2024-01-30, 01-31, 02-01, 02-02, ... 03-01 is day 31
    const n = 33;
    const data = daily({ A: Array.from({ length: n }, () => 100) }, {}, Date.UTC(2024, 0, 30));
    const out = run(sym(asset('A'), ['A'], { rebalance: 'monthly' }), data);
    expect(Array.from(out.rebalanceDays)).toEqual([0, 2, 31]);
  });

  it('quarterly, yearly and none: the first day, then a new UTC quarter, a new UTC year, never', () => {
    const days = [
      [2023, 11, 30],
      [2023, 11, 31],
      [2024, 0, 2], // day 2: new quarter, new year
      [2024, 2, 31],
      [2024, 3, 1], // day 4: new quarter
      [2024, 5, 30],
      [2024, 6, 1], // day 6: new quarter
      [2024, 11, 31], // day 7: new quarter
      [2025, 0, 1], // day 8: new quarter, new year
      [2025, 1, 1],
    ] as const;
    const n = days.length;
    const data: DailyData = {
      dates: Float64Array.from(days, ([y, m, d]) => Date.UTC(y, m, d)),
      tickers: ['A'],
      open: [Float64Array.from({ length: n }, (_, i) => 10 + i)],
      close: [Float64Array.from({ length: n }, (_, i) => 10 + i)],
    };
    const ir = sym(asset('A'), ['A']);
    const at = (rebalance: SymphonyRunConfig['rebalance'], start: number | null = null) =>
      Array.from(run(ir, data, { rebalance, start }).rebalanceDays);
    expect(at('monthly')).toEqual([0, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(at('quarterly')).toEqual([0, 2, 4, 6, 7, 8]);
    expect(at('yearly')).toEqual([0, 2, 8]);
    expect(at('none')).toEqual([0]);
    // From 2024-03-31: days 3.. are simulated days 0..
    const start = Date.UTC(2024, 2, 31);
    expect(at('quarterly', start)).toEqual([0, 1, 3, 4, 5]);
    expect(at('yearly', start)).toEqual([0, 5]);
    expect(at('none', start)).toEqual([0]);
    // The IR's own rule applies without an override.
    expect(Array.from(run(sym(asset('A'), ['A'], { rebalance: 'yearly' }), data).rebalanceDays)).toEqual([0, 2, 8]);
  });

  it('none: buy and hold, the weights drift and nothing trades after the first fill', () => {
    const data = daily({ A: [10, 20, 20, 40], B: [10, 10, 10, 10] });
    const ir = sym({ type: 'weight-equal', children: [asset('A'), asset('B')] }, ['A', 'B'], { rebalance: 'none' });
    const out = run(ir, data, { initialCapital: 1000 });
    expect(Array.from(out.rebalanceDays)).toEqual([0]);
    expect(out.metrics.rebalances).toBe(1);
    expect(Array.from(out.equity)).toEqual([1000, 1500, 1500, 2500]);
    const atOpen = run(ir, data, { initialCapital: 1000, fillAt: 'open' });
    expect(atOpen.metrics.rebalances).toBe(1);
    expect(Array.from(atOpen.equity)).toEqual([1000, 1000, 1000, 1500]);
  });

  it('threshold: when a held weight drifts more than x from the target', () => {
    // [A, B]; A doubles on day 2: held A = 10000/15000 = 2/3, drift 1/6 > 0.1 -> rebalance
    const data = daily({ A: [100, 100, 200, 200, 210], B: [100, 100, 100, 100, 100] });
    const ir = sym({ type: 'weight-equal', children: [asset('A'), asset('B')] }, ['A', 'B'], {
      rebalance: { threshold: 0.1 },
    });
    const out = run(ir, data);
    // day 4: A 7500/100*... held A = 37.5*210/(37.5*210 + 75*100) = 7875/15375 = 0.512 -> no
    expect(Array.from(out.rebalanceDays)).toEqual([0, 2]);
    expect(out.metrics.rebalances).toBe(2);
    // the run configuration overrides the symphony's rule
    expect(Array.from(run(ir, data, { rebalance: 'daily' }).rebalanceDays)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(run(ir, data, { rebalance: { threshold: 0.2 } }).rebalanceDays)).toEqual([0]);
  });

  it('start and end select the simulated days; an empty range gives an empty output', () => {
    const data = daily({ A: [100, 110, 121, 133.1] });
    const out = run(sym(asset('A'), ['A']), data, { start: D0 + DAY, end: D0 + 2 * DAY });
    expect(Array.from(out.time)).toEqual([D0 + DAY, D0 + 2 * DAY]);
    expect(out.equity[0]).toBe(10_000);
    const empty = run(sym(asset('A'), ['A']), data, { start: D0 + 10 * DAY });
    expect(empty.time.length).toBe(0);
    expect(empty.metrics.finalEquity).toBe(10_000);
    expect(empty.metrics.returnPct).toBe(0);
    expect(Number.isNaN(empty.metrics.sharpe)).toBe(true);
    expect(() => run(sym(asset('A'), ['A']), data, { start: D0 + DAY, end: D0 })).toThrow(/config.start/);
  });

  it('rejects an unresolved IR and a ticker missing from the data', () => {
    const data = daily({ A: [1, 2] });
    const ir = sym({ type: 'weight-inverse-volatility', window: { param: 'w' }, children: [asset('A')] }, ['A'], {
      params: { w: { default: 2 } },
    });
    expect(() => runSymphonyJs(ir, data, DEFAULT_SYMPHONY_CONFIG)).toThrow(/unresolved parameter/);
    expect(() => run(sym(asset('Z'), ['Z']), data)).toThrow(/ticker 'Z' is not in the data/);
  });
});

// ---------------------------------------------------------------- metrics

describe('metrics', () => {
  it('follow docs/semantics.md section 6 on one sample per day', () => {
    const data = daily({ A: [100, 110, 99] });
    const m = run(sym(asset('A'), ['A']), data).metrics;
    // equity 10000, 11000, 9900; returns 0, 0.1, -0.1
    expect(m.finalEquity).toBe(9_900);
    expect(m.returnPct).toBeCloseTo(-1, 12);
    expect(m.maxDrawdown).toBe(1_100);
    expect(m.maxDrawdownPct).toBeCloseTo(10, 12);
    const r = [0, 11_000 / 10_000 - 1, 9_900 / 11_000 - 1];
    const mean = (r[0]! + r[1]! + r[2]!) / 3;
    const sd = Math.sqrt(r.reduce((s, x) => s + (x - mean) * (x - mean), 0) / 2);
    expect(m.sharpe).toBeCloseTo((mean / sd) * Math.sqrt(252), 12);
    expect(m.volatilityPct).toBeCloseTo(sd * Math.sqrt(252) * 100, 10);
    const down = Math.sqrt((r[2]! * r[2]!) / 3);
    expect(m.sortino).toBeCloseTo((mean / down) * Math.sqrt(252), 12);
    const years = (2 * DAY) / 31_557_600_000;
    expect(m.cagrPct).toBeCloseTo(((9_900 / 10_000) ** (1 / years) - 1) * 100, 8);
    expect(m.calmar).toBeCloseTo(m.cagrPct / m.maxDrawdownPct, 12);
  });

  it('one simulated day: NaN ratios, no drawdown', () => {
    const m = run(sym(asset('A'), ['A']), daily({ A: [100] })).metrics;
    expect(m.finalEquity).toBe(10_000);
    expect(Number.isNaN(m.sharpe)).toBe(true);
    expect(Number.isNaN(m.volatilityPct)).toBe(true);
    expect(Number.isNaN(m.cagrPct)).toBe(true);
    expect(m.maxDrawdownPct).toBe(0);
  });

  it('initialCapital and periodsPerYear', () => {
    const data = daily({ A: [100, 110, 99] });
    const a = run(sym(asset('A'), ['A']), data, { initialCapital: 1000, periodsPerYear: 365 });
    const b = run(sym(asset('A'), ['A']), data);
    expect(a.metrics.finalEquity).toBeCloseTo(990, 9);
    expect(a.metrics.sharpe / b.metrics.sharpe).toBeCloseTo(Math.sqrt(365 / 252), 12);
  });
});

// ---------------------------------------------------------------- data

describe('alignDaily', () => {
  const d = (i: number) => D0 + i * DAY;

  it('unions the calendars; NaN before the first bar, carry-forward after', () => {
    const data = alignDaily({
      B: { time: [d(1), d(3)], open: [20, 22], close: [21, 23] },
      A: { time: [d(0), d(1), d(2), d(3)], open: [1, 2, 3, 4], close: [1.5, 2.5, 3.5, 4.5] },
    });
    expect(data.tickers).toEqual(['A', 'B']);
    expect(Array.from(data.dates)).toEqual([d(0), d(1), d(2), d(3)]);
    expect(Array.from(data.close[1]!)).toEqual([N, 21, 21, 23]);
    // day 2: B has no bar -> open = close = previous close (21)
    expect(Array.from(data.open[1]!)).toEqual([N, 20, 21, 22]);
    checkDailyData(data);
  });

  it('checkDailyData: at least one day, increasing dates, prices from the first finite close', () => {
    const col = (...xs: number[]) => Float64Array.from(xs);
    const ok: DailyData = { dates: col(10, 20.5), tickers: ['A'], open: [col(N, 2)], close: [col(N, 2)] };
    expect(() => checkDailyData(ok)).not.toThrow();
    expect(() => run(sym(asset('A'), ['A']), ok)).not.toThrow();
    expect(() => checkDailyData({ dates: col(), tickers: [], open: [], close: [] })).toThrow(/at least one day/);
    expect(() => checkDailyData({ dates: col(2, 1), tickers: [], open: [], close: [] })).toThrow(/data.dates\[1\]/);
    expect(() => checkDailyData({ dates: col(1, 2), tickers: ['A'], open: [col(1, N)], close: [col(1, 2)] })).toThrow(
      /data.close\[0\]\[1\]/,
    );
  });

  it('accepts BarData of timeframe D1', () => {
    const data = generateDaily(['X', 'Y'], { days: 30, seed: 3 });
    expect(data.tickers).toEqual(['X', 'Y']);
    expect(data.close[0]![0]).not.toBe(data.close[1]![0]);
    // the same seed gives the same data, another seed other data
    expect(Array.from(generateDaily(['X', 'Y'], { days: 30, seed: 3 }).close[1]!)).toEqual(Array.from(data.close[1]!));
    expect(Array.from(generateDaily(['X', 'Y'], { days: 30, seed: 4 }).close[1]!)).not.toEqual(
      Array.from(data.close[1]!),
    );
  });

  function issues(f: () => unknown): { path: string; message: string }[] {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      return (e as ValidationError).issues;
    }
    throw new Error('expected a ValidationError');
  }

  it('names the ticker and row of unsorted and duplicate days', () => {
    const found = issues(() =>
      alignDaily({
        SPY: { time: [d(0), d(2), d(1)], open: [1, 1, 1], close: [1, 1, 1] },
        QQQ: { time: [d(0), d(0)], open: [1, 1], close: [1, 1] },
      }),
    );
    expect(found).toEqual([
      { path: 'series.QQQ.time[1]', message: expect.stringMatching(/duplicate day 2024-01-01/) },
      { path: 'series.SPY.time[2]', message: expect.stringMatching(/comes before/) },
    ]);
  });

  it('rejects non-daily bars and bad prices', () => {
    const h1 = issues(() =>
      alignDaily({
        A: {
          timeframe: 'H1',
          symbol: 'A',
          time: Float64Array.of(d(0)),
          open: Float64Array.of(1),
          high: Float64Array.of(1),
          low: Float64Array.of(1),
          close: Float64Array.of(1),
          volume: Float64Array.of(1),
        },
      }),
    );
    expect(h1[0]).toEqual({ path: 'series.A.timeframe', message: expect.stringMatching(/D1/) });
    const noon = issues(() => alignDaily({ A: { time: [d(0) + 12 * 3_600_000], open: [1], close: [1] } }));
    expect(noon[0]?.path).toBe('series.A.time[0]');
    const bad = issues(() => alignDaily({ A: { time: [d(0), d(1)], open: [1, 0], close: [1, N] } }));
    expect(bad.map((i) => i.path)).toEqual(['series.A.open[1]', 'series.A.close[1]']);
  });
});

// ---------------------------------------------------------------- resolution

describe('resolveSymphony', () => {
  const base = (root: SymphonyNode, extra: Partial<SymphonyIR> = {}): SymphonyIR =>
    sym(root, ['A', 'B'], {
      params: { w: { default: 5, type: 'int', min: 1, max: 50 }, k: { default: 1, type: 'int' }, x: { default: 0.5 } },
      ...extra,
    });

  function issues(f: () => unknown): { path: string; message: string }[] {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      return (e as ValidationError).issues;
    }
    throw new Error('expected a ValidationError');
  }

  it('substitutes every param: windows, counts, weights, thresholds, constants', () => {
    const ir = base(
      {
        type: 'if',
        cond: { op: '>', left: { fn: 'rsi', ticker: 'A', window: { param: 'w' } }, right: { param: 'x' } },
        then: [
          {
            type: 'filter',
            fn: 'stdev-return',
            window: { param: 'w' },
            select: 'top',
            count: { param: 'k' },
            children: [asset('A'), asset('B')],
          },
        ],
        else: [{ type: 'weight-specified', weights: [{ param: 'x' }, 1], children: [asset('A'), asset('B')] }],
      },
      { rebalance: { threshold: { param: 'x' } } },
    );
    const r = resolveSymphony(ir, { w: 10, x: 0.25 });
    expect(r.params).toBeUndefined();
    expect(r.rebalance).toEqual({ threshold: 0.25 });
    const root = r.root as Extract<SymphonyNode, { type: 'if' }>;
    expect(root.cond.left).toEqual({ fn: 'rsi', ticker: 'A', window: 10 });
    expect(root.cond.right).toBe(0.25);
    expect(root.then[0]).toMatchObject({ window: 10, count: 1 });
    expect(root.else?.[0]).toMatchObject({ weights: [0.25, 1] });
    // the input is not modified
    expect((ir.root as Extract<SymphonyNode, { type: 'if' }>).cond.right).toEqual({ param: 'x' });
  });

  it('checks given params like resolveParams', () => {
    const ir = base(asset('A'));
    expect(issues(() => resolveSymphony(ir, { nope: 1 }))[0]).toEqual({
      path: 'params.nope',
      message: expect.stringMatching(/unknown parameter/),
    });
    expect(issues(() => resolveSymphony(ir, { w: 2.5 }))[0]).toEqual({
      path: 'params.w',
      message: '2.5 is not an integer',
    });
    expect(issues(() => resolveSymphony(ir, { w: 0 }))[0]).toEqual({ path: 'params.w', message: '0 is below min 1' });
    expect(issues(() => resolveSymphony(ir, { w: 51 }))[0]).toEqual({
      path: 'params.w',
      message: '51 is above max 50',
    });
  });

  it('applies section 1 checks with JSON paths', () => {
    const found = issues(() =>
      resolveSymphony(
        base({
          type: 'weight-equal',
          children: [
            { type: 'weight-inverse-volatility', window: 0, children: [asset('A')] },
            { type: 'filter', fn: 'rsi', select: 'top', count: 1.5, children: [asset('B')] },
            { type: 'weight-specified', weights: [-1, 1], children: [asset('A'), asset('B')] },
            { type: 'weight-specified', weights: [0, 0], children: [asset('A'), asset('B')] },
            asset('C'),
          ],
        }),
      ),
    );
    expect(found).toEqual([
      { path: 'symphony.root.children[0].window', message: 'window must be an integer >= 1, got 0' },
      { path: 'symphony.root.children[1].count', message: 'count must be an integer >= 1, got 1.5' },
      { path: 'symphony.root.children[2].weights[0]', message: 'weight must be a finite number >= 0, got -1' },
      { path: 'symphony.root.children[3].weights', message: 'the weights must have a positive sum' },
      { path: 'symphony.root.children[4].ticker', message: expect.stringMatching(/^ticker 'C' is not listed/) },
    ]);
  });

  it('names the param a bad value came from', () => {
    const ir = sym({ type: 'weight-inverse-volatility', window: { param: 'w' }, children: [asset('A')] }, ['A'], {
      params: { w: { default: 0.5 } },
    });
    expect(issues(() => resolveSymphony(ir))).toEqual([
      { path: 'symphony.root.window', message: "window must be an integer >= 1, got 0.5 (from param 'w')" },
    ]);
  });

  it('rejects a threshold <= 0 and unsorted or duplicate tickers', () => {
    expect(issues(() => resolveSymphony(base(asset('A'), { rebalance: { threshold: 0 } })))).toEqual([
      { path: 'symphony.rebalance.threshold', message: 'threshold must be a finite number > 0, got 0' },
    ]);
    expect(issues(() => resolveSymphony(sym(asset('A'), ['B', 'A'])))[0]?.path).toBe('symphony.tickers[1]');
    expect(issues(() => resolveSymphony(sym(asset('A'), ['A', 'A'])))[0]).toEqual({
      path: 'symphony.tickers[1]',
      message: "duplicate ticker 'A'",
    });
  });

  it('reports unknown param references, node types and indicators', () => {
    const found = issues(() =>
      validateSymphonyIR(
        base({
          type: 'weight-equal',
          children: [
            { type: 'weight-inverse-volatility', window: { param: 'wx' }, children: [asset('A')] },
            { type: 'weight-eqaul', children: [] } as unknown as SymphonyNode,
            { type: 'filter', fn: 'rsx', select: 'top', count: 1, children: [asset('A')] } as unknown as SymphonyNode,
            { type: 'if', cond: { op: '!=', left: 1, right: 2 }, then: [] } as unknown as SymphonyNode,
          ],
        }),
      ),
    );
    expect(found.map((i) => i.path)).toEqual([
      'symphony.root.children[0].window',
      'symphony.root.children[1].type',
      'symphony.root.children[2].fn',
      'symphony.root.children[3].cond.op',
      'symphony.root.children[3].then',
    ]);
    expect(found[0]?.message).toMatch(/unknown parameter 'wx'.*did you mean 'w'/);
    expect(found[1]?.message).toMatch(/did you mean 'weight-equal'/);
  });

  it('accepts every rebalance rule and rejects an unknown one', () => {
    for (const rebalance of ['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'none'] as const) {
      expect(resolveSymphony(sym(asset('A'), ['A'], { rebalance })).rebalance).toBe(rebalance);
    }
    expect(issues(() => resolveSymphony(sym(asset('A'), ['A'], { rebalance: 'hourly' as 'daily' })))).toEqual([
      {
        path: 'symphony.rebalance',
        message:
          "unknown rebalance rule 'hourly' (expected one of daily, weekly, monthly, quarterly, yearly, none, { threshold })",
      },
    ]);
  });

  it('rejects a document nested deeper than 2048 levels, at the first container beyond the bound', () => {
    // 511 blocks of weight-equal / children / if / then nest 4 * 511 + 2 = 2046 levels: accepted.
    const nest = (blocks: number): SymphonyNode => {
      let node: SymphonyNode = asset('A');
      for (let i = 0; i < blocks; i++) {
        node = {
          type: 'weight-equal',
          children: [{ type: 'if', cond: { op: '>', left: price('A'), right: 1 }, then: [node] }],
        };
      }
      return node;
    };
    expect(() => resolveSymphony(sym(nest(511), ['A']))).not.toThrow();
    // 512 blocks reach level 2050; the first container at level 2049, in document order, is the
    // innermost condition (its `if` is at level 2048).
    const found = issues(() => resolveSymphony(sym(nest(512), ['A'])));
    expect(found).toHaveLength(1);
    expect(found[0]?.path).toBe(`symphony.root${'.children[0].then[0]'.repeat(511)}.children[0].cond`);
    expect(found[0]?.message).toBe('nested deeper than 2048 levels of arrays and objects (the limit of a symphony IR)');
    const arrays = JSON.parse(`{"root":${'['.repeat(3000)}1${']'.repeat(3000)}}`);
    expect(issues(() => validateSymphonyIR(arrays))[0]?.path).toBe(`symphony.root${'[0]'.repeat(2047)}`);
  });

  it('validateSymphonyIR reports shape errors at their paths', () => {
    expect(
      issues(() => validateSymphonyIR({ version: 2, kind: 'symphony', name: 1, tickers: 'A' })).map((i) => i.path),
    ).toEqual(['symphony.version', 'symphony.name', 'symphony.tickers', 'symphony.root']);
    expect(issues(() => validateSymphonyIR(null))[0]?.path).toBe('symphony');
    const ok = validateSymphonyIR(JSON.parse(JSON.stringify(base(asset('A')))));
    expect(ok.params?.w).toEqual({ default: 5, type: 'int', min: 1, max: 50 });
  });
});
