/**
 * Metrics from the equity curve and the trades (docs/semantics.md section 6). Sums run in index
 * order from 0 and every formula is evaluated as written, so the Rust twin agrees to the bit
 * (CAGR, which uses pow, within 1e-9 relative).
 */

import type { EquityCurve, Metrics, Trade } from '../../types.js';

export interface MetricsInput {
  initialBalance: number;
  finalBalance: number;
  /** Time of the first event at or after `start`. */
  t0: number;
  /** Time of the last event (bar mode: last bar time + base timeframe). */
  t1: number;
  equity: EquityCurve;
  trades: Trade[];
  rejectedOrders: number;
  totalCommission: number;
  periodsPerYear: number;
}

const DAY_MS = 86_400_000;
/** Julian year, as in the contract's CAGR. */
export const YEAR_MS = 31_557_600_000;

/** Returns of each UTC day's last equity sample against the previous day's (the first against B0). */
function dailyReturns(equity: EquityCurve, b0: number): Float64Array {
  const { time, equity: eq } = equity;
  const n = time.length;
  const out = new Float64Array(n);
  let m = 0;
  let prev = b0;
  for (let i = 0; i < n; i++) {
    // Samples are in time order, so a day's last sample is the one before the day changes.
    const last =
      i + 1 === n || Math.floor((time[i + 1] as number) / DAY_MS) !== Math.floor((time[i] as number) / DAY_MS);
    if (!last) continue;
    const v = eq[i] as number;
    out[m++] = v / prev - 1;
    prev = v;
  }
  return out.subarray(0, m);
}

/**
 * Peak-to-trough drawdown, in money and in percent of the peak; the peak starts at `b0` so a
 * curve that only falls still shows its loss. Comparisons rather than Math.max so a NaN sample is
 * skipped, as Rust's f64::max does.
 */
export function maxDrawdowns(equity: ArrayLike<number>, b0: number): { maxDrawdown: number; maxDrawdownPct: number } {
  let peak = b0;
  let maxDrawdown = 0;
  let maxDrawdownPct = 0;
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i] as number;
    if (e > peak) peak = e;
    const dd = peak - e;
    const ddPct = (dd / peak) * 100;
    if (dd > maxDrawdown) maxDrawdown = dd;
    if (ddPct > maxDrawdownPct) maxDrawdownPct = ddPct;
  }
  return { maxDrawdown, maxDrawdownPct };
}

/**
 * Sharpe and Sortino of `rets` annualized by `sqrtPeriods`, and the returns' sample deviation;
 * all NaN with fewer than two returns.
 */
export function returnRatios(
  rets: ArrayLike<number>,
  sqrtPeriods: number,
): { sharpe: number; sortino: number; sd: number } {
  const n = rets.length;
  let sharpe = Number.NaN;
  let sortino = Number.NaN;
  let sd = Number.NaN;
  if (n >= 2) {
    let sum = 0;
    let down = 0;
    for (let i = 0; i < n; i++) {
      const r = rets[i] as number;
      sum = sum + r;
      // min(r, 0) as Rust's f64::min computes it (a NaN r gives 0, where Math.min gives NaN).
      // biome-ignore lint/complexity/useMathMinMax: NaN handling differs
      const neg = r < 0 ? r : 0;
      down = down + neg * neg;
    }
    const mean = sum / n;
    sd = sampleSd(rets, mean);
    if (sd !== 0) sharpe = (mean / sd) * sqrtPeriods;
    const dd = Math.sqrt(down / n);
    if (dd !== 0) sortino = (mean / dd) * sqrtPeriods;
  }
  return { sharpe, sortino, sd };
}

/** Sample standard deviation (n - 1) around `mean`; the caller ensures n >= 2. */
function sampleSd(xs: ArrayLike<number>, mean: number): number {
  let ss = 0;
  for (let i = 0; i < xs.length; i++) {
    const d = (xs[i] as number) - mean;
    ss = ss + d * d;
  }
  return Math.sqrt(ss / (xs.length - 1));
}

export function computeMetrics(input: MetricsInput): Metrics {
  const { initialBalance: b0, finalBalance: bf, t0, t1, equity, trades, periodsPerYear } = input;

  const netProfit = bf - b0;
  const returnPct = ((bf - b0) / b0) * 100;

  const years = (t1 - t0) / YEAR_MS;
  let cagrPct: number;
  if (years <= 0) cagrPct = Number.NaN;
  else if (bf <= 0) cagrPct = -100;
  else cagrPct = ((bf / b0) ** (1 / years) - 1) * 100;

  const { maxDrawdown, maxDrawdownPct } = maxDrawdowns(equity.equity, b0);
  const { sharpe, sortino } = returnRatios(dailyReturns(equity, b0), Math.sqrt(periodsPerYear));

  const calmar = maxDrawdownPct === 0 ? Number.NaN : cagrPct / maxDrawdownPct;

  const n = trades.length;
  let grossProfit = 0;
  let grossLoss = 0;
  let winSum = 0;
  let lossSum = 0;
  let pnlSum = 0;
  let wins = 0;
  let losses = 0;
  let held = 0;
  let run = 0;
  let maxConsecutiveLosses = 0;
  for (let i = 0; i < n; i++) {
    const tr = trades[i] as Trade;
    const p = tr.pnl;
    pnlSum = pnlSum + p;
    if (p > 0) {
      grossProfit = grossProfit + p;
      winSum = winSum + p;
      wins++;
    } else if (p < 0) {
      grossLoss = grossLoss + -p;
      lossSum = lossSum + p;
      losses++;
    }
    if (p < 0) {
      run++;
      if (run > maxConsecutiveLosses) maxConsecutiveLosses = run;
    } else {
      run = 0;
    }
    held = held + (tr.exitTime - tr.entryTime);
  }

  let profitFactor: number;
  if (grossLoss === 0) profitFactor = grossProfit > 0 ? Number.POSITIVE_INFINITY : Number.NaN;
  else profitFactor = grossProfit / grossLoss;

  const winRatePct = n === 0 ? Number.NaN : (wins / n) * 100;
  const avgWin = wins === 0 ? Number.NaN : winSum / wins;
  const avgLoss = losses === 0 ? Number.NaN : lossSum / losses;
  const expectancy = n === 0 ? Number.NaN : pnlSum / n;

  let sqn = Number.NaN;
  if (n >= 2) {
    const pnls = trades.map((t) => t.pnl);
    const sd = sampleSd(pnls, expectancy);
    if (sd !== 0) sqn = (expectancy / sd) * Math.sqrt(n);
  }

  const exposurePct = t1 === t0 ? 0 : (held / (t1 - t0)) * 100;

  return {
    netProfit,
    returnPct,
    cagrPct,
    maxDrawdown,
    maxDrawdownPct,
    sharpe,
    sortino,
    calmar,
    profitFactor,
    winRatePct,
    tradeCount: n,
    wins,
    losses,
    avgWin,
    avgLoss,
    expectancy,
    sqn,
    exposurePct,
    maxConsecutiveLosses,
    grossProfit,
    grossLoss,
    totalCommission: input.totalCommission,
    finalBalance: bf,
    rejectedOrders: input.rejectedOrders,
  };
}
