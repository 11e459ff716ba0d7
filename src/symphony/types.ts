/**
 * Symphony IR, daily multi-asset data and results. The semantics are fixed by docs/symphony.md;
 * both engines (Rust `crates/core/src/symphony`, TypeScript `src/symphony/engine.ts`) consume the
 * same JSON and must agree bit for bit on weights and within 1e-9 relative on money.
 */
import type { NumberOrParam, ParamSpec } from '../types.js';

export type SymphonyIndicator =
  | 'rsi'
  | 'current-price'
  | 'moving-average-price'
  | 'exponential-moving-average-price'
  | 'moving-average-return'
  | 'cumulative-return'
  | 'stdev-return'
  | 'stdev-price'
  | 'max-drawdown';

export const SYMPHONY_INDICATORS: readonly SymphonyIndicator[] = [
  'rsi',
  'current-price',
  'moving-average-price',
  'exponential-moving-average-price',
  'moving-average-return',
  'cumulative-return',
  'stdev-return',
  'stdev-price',
  'max-drawdown',
];

/** Composer's default windows (current-price has none). */
export const DEFAULT_WINDOWS: Readonly<Record<Exclude<SymphonyIndicator, 'current-price'>, number>> = {
  rsi: 14,
  'moving-average-price': 200,
  'exponential-moving-average-price': 12,
  'moving-average-return': 21,
  'cumulative-return': 60,
  'stdev-return': 6,
  'stdev-price': 6,
  'max-drawdown': 60,
};

export type SymphonyCompare = '>' | '<' | '>=' | '<=' | '=';

/** A value in a condition: a constant, a parameter, or an indicator of one ticker's closes. */
export type SymphonyValue =
  | number
  | { param: string }
  | { fn: SymphonyIndicator; ticker: string; window?: NumberOrParam };

export interface SymphonyCondition {
  op: SymphonyCompare;
  left: SymphonyValue;
  right: SymphonyValue;
}

/** Every node `type` of the IR. */
export const SYMPHONY_NODE_TYPES = [
  'asset',
  'weight-equal',
  'weight-specified',
  'weight-inverse-volatility',
  'filter',
  'group',
  'if',
] as const;

export type SymphonyNode =
  | { type: 'asset'; ticker: string; name?: string | null }
  | { type: 'weight-equal'; children: SymphonyNode[] }
  | { type: 'weight-specified'; weights: NumberOrParam[]; children: SymphonyNode[] }
  | { type: 'weight-inverse-volatility'; window: NumberOrParam; children: SymphonyNode[] }
  | {
      type: 'filter';
      fn: SymphonyIndicator;
      window?: NumberOrParam;
      select: 'top' | 'bottom';
      count: NumberOrParam;
      children: SymphonyNode[];
    }
  | { type: 'group'; name: string; children: SymphonyNode[] }
  | { type: 'if'; cond: SymphonyCondition; then: SymphonyNode[]; else?: SymphonyNode[] | null };

/** Calendar rules: rebalance on the first simulated day and when the UTC period changes; `none` only on the first day. */
export const REBALANCE_PERIODS = ['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'none'] as const;
export type RebalancePeriod = (typeof REBALANCE_PERIODS)[number];

export type RebalanceRule = RebalancePeriod | { threshold: NumberOrParam };

/**
 * The deepest nesting of arrays and objects a symphony IR may have, the IR object itself being
 * level 1 (docs/symphony.md section 1). Both engines reject deeper documents.
 */
export const MAX_SYMPHONY_DEPTH = 2048;

export interface SymphonyIR {
  version: 1;
  kind: 'symphony';
  name: string;
  params?: Record<string, ParamSpec>;
  /** Default rebalance rule; the run configuration may override it. Default 'daily'. */
  rebalance?: RebalanceRule;
  /** Every ticker the tree names, sorted ascending (UTF-16 code units), without duplicates. */
  tickers: string[];
  root: SymphonyNode;
}

/**
 * Daily closes and opens of several tickers on one calendar (ticker-major columns, NaN where a
 * ticker has no price yet). `alignDaily` builds it from per-ticker bars.
 */
export interface DailyData {
  /** Each day's UTC midnight, epoch milliseconds, strictly increasing. */
  dates: Float64Array;
  tickers: string[];
  /** `open[k][t]`, `close[k][t]` for ticker `tickers[k]` on day `t`. */
  open: Float64Array[];
  close: Float64Array[];
}

/** Everything a symphony run needs besides the tree (docs/symphony.md section 5). */
export interface SymphonyRunConfig {
  /** Overrides the symphony's own rule when given. */
  rebalance: RebalancePeriod | { threshold: number } | null;
  fillAt: 'close' | 'open';
  /** Percent of traded notional. */
  commissionPct: number;
  initialCapital: number;
  start: number | null;
  end: number | null;
  periodsPerYear: number;
}

export interface SymphonyMetrics {
  returnPct: number;
  cagrPct: number;
  maxDrawdown: number;
  maxDrawdownPct: number;
  sharpe: number;
  sortino: number;
  calmar: number;
  volatilityPct: number;
  rebalances: number;
  turnover: number;
  totalCommission: number;
  finalEquity: number;
}

export const SYMPHONY_METRIC_KEYS: readonly (keyof SymphonyMetrics)[] = [
  'returnPct',
  'cagrPct',
  'maxDrawdown',
  'maxDrawdownPct',
  'sharpe',
  'sortino',
  'calmar',
  'volatilityPct',
  'rebalances',
  'turnover',
  'totalCommission',
  'finalEquity',
];

/** What one engine run of one resolved symphony produces (both engines, this exact shape). */
export interface SymphonyOutput {
  /** The symphony's tickers (IR order); columns of `weights`. */
  tickers: string[];
  /** Simulated days (start..end): their dates and closing equity. */
  time: Float64Array;
  equity: Float64Array;
  /** Target weights decided at each simulated day's close, day-major: `weights[d * tickers.length + k]`. */
  weights: Float64Array;
  /** Indices into `time` of the days a rebalance was decided (with `fillAt: "open"` it trades the next day). */
  rebalanceDays: Int32Array;
  metrics: SymphonyMetrics;
}
