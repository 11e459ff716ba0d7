import { describe, expect, it } from 'vitest';
import { computeMetrics, type MetricsInput } from '../src/engine/js/metrics.js';
import type { EquityCurve, Trade } from '../src/types.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const YEAR = 31_557_600_000;

function curve(points: [number, number][]): EquityCurve {
  return {
    time: Float64Array.from(points.map((p) => p[0])),
    equity: Float64Array.from(points.map((p) => p[1])),
    balance: Float64Array.from(points.map((p) => p[1])),
  };
}

function trade(id: number, pnl: number, entryTime = id * DAY, held = HOUR): Trade {
  return {
    id,
    side: 1,
    lots: 1,
    entryTime,
    entryPrice: 1,
    exitTime: entryTime + held,
    exitPrice: 1,
    sl: Number.NaN,
    tp: Number.NaN,
    grossPnl: pnl,
    commission: 0,
    pnl,
    pips: 0,
    reason: 'signal',
  };
}

function input(over: Partial<MetricsInput> = {}): MetricsInput {
  return {
    initialBalance: 1000,
    finalBalance: 1000,
    t0: 0,
    t1: YEAR,
    equity: curve([]),
    trades: [],
    rejectedOrders: 0,
    totalCommission: 0,
    periodsPerYear: 252,
    ...over,
  };
}

describe('computeMetrics: a hand-checked run', () => {
  // B0 = 1000, Bf = 1089, one year from t0 = 0 to t1 = 31557600000.
  // Samples (day: equity): 0: 1050, 1100 | 1: 1210, 990 | 2: 1089.
  const equity = curve([
    [HOUR, 1050],
    [2 * HOUR, 1100],
    [DAY + HOUR, 1210],
    [DAY + 2 * HOUR, 990],
    [2 * DAY + HOUR, 1089],
  ]);
  // Trade pnls; each held one hour.
  const pnls = [50, -20, -10, 0, -5, -5, -5, 30];
  const m = computeMetrics(
    input({
      finalBalance: 1089,
      equity,
      trades: pnls.map((p, i) => trade(i, p)),
      rejectedOrders: 3,
      totalCommission: 12.5,
    }),
  );

  it('profit, return and CAGR', () => {
    expect(m.netProfit).toBe(89);
    // 89 / 1000 * 100
    expect(m.returnPct).toBeCloseTo(8.9, 12);
    // years = 1: (1.089^1 - 1) * 100 = 8.9
    expect(m.cagrPct).toBeCloseTo(8.9, 12);
  });

  it('drawdown from the running peak, starting at B0', () => {
    // peak 1000 -> 1050 -> 1100 -> 1210; at 990: dd = 220, 220 / 1210 * 100 = 18.1818...
    // at 1089: dd = 121, 10% (smaller)
    expect(m.maxDrawdown).toBe(220);
    expect(m.maxDrawdownPct).toBe((220 / 1210) * 100);
    // calmar = 8.9 / 18.1818... = 0.4895
    expect(m.calmar).toBeCloseTo(0.4895, 12);
  });

  it('sharpe and sortino from daily last samples', () => {
    // Day values 1100, 990, 1089 after B0 = 1000: returns 0.1, -0.1, 0.1 (to rounding).
    // mean = 1/30; deviations 1/15, -2/15, 1/15; sum of squares 6/225; / (3 - 1) -> sd = 0.2/sqrt(3)
    // sharpe = (1/30) / (0.2/sqrt(3)) * sqrt(252) = sqrt(3)/6 * sqrt(252) = sqrt(756)/6 = 4.5825757
    expect(m.sharpe).toBeCloseTo(Math.sqrt(756) / 6, 10);
    // downside: sqrt(0.01 / 3) = 0.057735; (1/30) / 0.057735 = 1/sqrt(3); * sqrt(252) = sqrt(84)
    expect(m.sortino).toBeCloseTo(Math.sqrt(84), 10);
  });

  it('trade statistics', () => {
    expect(m.tradeCount).toBe(8);
    expect(m.wins).toBe(2);
    // 0 is neither a win nor a loss
    expect(m.losses).toBe(5);
    // 50 + 30
    expect(m.grossProfit).toBe(80);
    // 20 + 10 + 5 + 5 + 5
    expect(m.grossLoss).toBe(45);
    // 80 / 45
    expect(m.profitFactor).toBe(80 / 45);
    // 2 / 8 * 100
    expect(m.winRatePct).toBe(25);
    // 80 / 2, -45 / 5
    expect(m.avgWin).toBe(40);
    expect(m.avgLoss).toBe(-9);
    // 35 / 8
    expect(m.expectancy).toBe(4.375);
    // deviations from 4.375 squared sum to 3821.875; / 7 = 545.98214; sd = 23.366261
    // sqn = 4.375 / 23.366261 * sqrt(8) = 0.529583
    expect(m.sqn).toBeCloseTo(0.5295827512611798, 12);
    // runs of pnl < 0: [-20, -10] = 2, the 0 breaks it, then [-5, -5, -5] = 3
    expect(m.maxConsecutiveLosses).toBe(3);
    // 8 trades * 1 hour = 28800000 ms of 31557600000: 0.0912617%
    expect(m.exposurePct).toBeCloseTo(0.0912617, 7);
  });

  it('passes through counters', () => {
    expect(m.totalCommission).toBe(12.5);
    expect(m.finalBalance).toBe(1089);
    expect(m.rejectedOrders).toBe(3);
  });
});

describe('computeMetrics: edge rules', () => {
  it('no trades, no samples', () => {
    const m = computeMetrics(input());
    expect(m.netProfit).toBe(0);
    expect(m.returnPct).toBe(0);
    expect(m.cagrPct).toBe(0);
    expect(m.maxDrawdown).toBe(0);
    expect(m.maxDrawdownPct).toBe(0);
    expect(m.sharpe).toBeNaN();
    expect(m.sortino).toBeNaN();
    expect(m.calmar).toBeNaN();
    expect(m.profitFactor).toBeNaN();
    expect(m.winRatePct).toBeNaN();
    expect(m.tradeCount).toBe(0);
    expect(m.wins).toBe(0);
    expect(m.losses).toBe(0);
    expect(m.avgWin).toBeNaN();
    expect(m.avgLoss).toBeNaN();
    expect(m.expectancy).toBeNaN();
    expect(m.sqn).toBeNaN();
    expect(m.exposurePct).toBe(0);
    expect(m.maxConsecutiveLosses).toBe(0);
    expect(m.grossProfit).toBe(0);
    expect(m.grossLoss).toBe(0);
  });

  it('CAGR: NaN when years <= 0, -100 when Bf <= 0, pow otherwise', () => {
    expect(computeMetrics(input({ t1: 0 })).cagrPct).toBeNaN();
    expect(computeMetrics(input({ t0: 10, t1: 5, finalBalance: 0 })).cagrPct).toBeNaN();
    expect(computeMetrics(input({ finalBalance: 0 })).cagrPct).toBe(-100);
    expect(computeMetrics(input({ finalBalance: -50 })).cagrPct).toBe(-100);
    // two years, 1000 -> 1210: (1.21^(1/2) - 1) * 100 = 10
    expect(computeMetrics(input({ t1: 2 * YEAR, finalBalance: 1210 })).cagrPct).toBeCloseTo(10, 10);
  });

  it('CAGR over a subnormal span: 1 ** Infinity is NaN (the native engine asserts the same)', () => {
    expect(computeMetrics(input({ t1: 1e-298 })).cagrPct).toBeNaN();
    expect(computeMetrics(input({ t1: 1e-298, finalBalance: 2000 })).cagrPct).toBe(Number.POSITIVE_INFINITY);
    expect(computeMetrics(input({ t1: 1e-298, finalBalance: 500 })).cagrPct).toBe(-100);
  });

  it('exposure is 0 when T1 == T0', () => {
    const m = computeMetrics(input({ t1: 0, trades: [trade(0, 5, 0, 0)] }));
    expect(m.exposurePct).toBe(0);
  });

  it('profit factor: Infinity with only wins, NaN with only zeros', () => {
    const wins = computeMetrics(input({ trades: [trade(0, 5), trade(1, 7)] }));
    expect(wins.profitFactor).toBe(Number.POSITIVE_INFINITY);
    expect(wins.avgLoss).toBeNaN();
    expect(wins.winRatePct).toBe(100);
    const flat = computeMetrics(input({ trades: [trade(0, 0)] }));
    expect(flat.profitFactor).toBeNaN();
    expect(flat.winRatePct).toBe(0);
    expect(flat.avgWin).toBeNaN();
    expect(flat.expectancy).toBe(0);
  });

  it('sqn: NaN below two trades or with zero deviation', () => {
    expect(computeMetrics(input({ trades: [trade(0, 5)] })).sqn).toBeNaN();
    expect(computeMetrics(input({ trades: [trade(0, 5), trade(1, 5)] })).sqn).toBeNaN();
    // pnls 1 and 3: mean 2, sd = sqrt((1 + 1) / 1) = sqrt(2); 2 / sqrt(2) * sqrt(2) = 2
    expect(computeMetrics(input({ trades: [trade(0, 1), trade(1, 3)] })).sqn).toBeCloseTo(2, 14);
  });

  it('sharpe and sortino need two days and a non-zero deviation', () => {
    // Many samples on one day: one return only.
    const oneDay = computeMetrics(
      input({
        equity: curve([
          [HOUR, 1100],
          [2 * HOUR, 900],
          [3 * HOUR, 1050],
        ]),
      }),
    );
    expect(oneDay.sharpe).toBeNaN();
    expect(oneDay.sortino).toBeNaN();
    // Flat equity: returns 0, 0 -> sd 0 and downside 0.
    const flat = computeMetrics(
      input({
        equity: curve([
          [HOUR, 1000],
          [DAY + HOUR, 1000],
        ]),
      }),
    );
    expect(flat.sharpe).toBeNaN();
    expect(flat.sortino).toBeNaN();
    // Only gains: sharpe defined, no downside -> sortino NaN.
    // returns 0.1 and 1320/1100 - 1 = 0.2: mean 0.15, sd = sqrt(2 * 0.05^2 / 1) = 0.0707107
    // sharpe = 0.15 / 0.0707107 * sqrt(252) = 2.1213203 * 15.8745079 = 33.674916
    const up = computeMetrics(
      input({
        equity: curve([
          [HOUR, 1100],
          [DAY + HOUR, 1320],
        ]),
      }),
    );
    expect(up.sharpe).toBeCloseTo(33.674916, 5);
    expect(up.sortino).toBeNaN();
  });

  it('sqrt(periodsPerYear) scales sharpe and sortino', () => {
    const eq = curve([
      [HOUR, 1100],
      [DAY, 990],
      [2 * DAY, 1089],
    ]);
    const a = computeMetrics(input({ equity: eq, periodsPerYear: 1 }));
    // sqrt(3)/6 and 1/sqrt(3) from the hand-checked run
    expect(a.sharpe).toBeCloseTo(Math.sqrt(3) / 6, 12);
    expect(a.sortino).toBeCloseTo(1 / Math.sqrt(3), 12);
  });

  it('drawdown below B0 counts from B0; a rising curve has none', () => {
    // 1000 -> 900: dd 100, 10%
    const down = computeMetrics(
      input({
        equity: curve([
          [HOUR, 900],
          [2 * HOUR, 950],
        ]),
      }),
    );
    expect(down.maxDrawdown).toBe(100);
    expect(down.maxDrawdownPct).toBe(10);
    const rising = computeMetrics(
      input({
        finalBalance: 1200,
        equity: curve([
          [HOUR, 1100],
          [DAY, 1200],
        ]),
      }),
    );
    expect(rising.maxDrawdown).toBe(0);
    expect(rising.maxDrawdownPct).toBe(0);
    expect(rising.calmar).toBeNaN();
  });

  it('the largest dd and the largest ddPct may come from different samples', () => {
    // peak 2000 then 1500: dd 500, 25%; later peak 4000 then 3200: dd 800, 20%.
    const m = computeMetrics(
      input({
        equity: curve([
          [1, 2000],
          [2, 1500],
          [3, 4000],
          [4, 3200],
        ]),
      }),
    );
    expect(m.maxDrawdown).toBe(800);
    expect(m.maxDrawdownPct).toBe(25);
  });

  it('sums run in index order from 0', () => {
    // (0.1 + 0.2) + 0.3 = 0.6000000000000001, whereas 0.1 + (0.2 + 0.3) = 0.6
    const m = computeMetrics(input({ trades: [trade(0, 0.1), trade(1, 0.2), trade(2, 0.3)] }));
    expect(m.grossProfit).toBe(0.6000000000000001);
    expect(m.avgWin).toBe(0.6000000000000001 / 3);
    const l = computeMetrics(input({ trades: [trade(0, -0.1), trade(1, -0.2), trade(2, -0.3)] }));
    expect(l.grossLoss).toBe(0.6000000000000001);
    expect(l.avgLoss).toBe(-0.6000000000000001 / 3);
    expect(l.maxConsecutiveLosses).toBe(3);
  });
});
