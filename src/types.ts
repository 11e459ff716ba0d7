/** Public and engine-facing types. The JSON shapes follow docs/semantics.md exactly. */

export type Timeframe = 'M1' | 'M5' | 'M15' | 'M30' | 'H1' | 'H4' | 'D1';

export const TIMEFRAMES: readonly Timeframe[] = ['M1', 'M5', 'M15', 'M30', 'H1', 'H4', 'D1'];

export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  M1: 60_000,
  M5: 300_000,
  M15: 900_000,
  M30: 1_800_000,
  H1: 3_600_000,
  H4: 14_400_000,
  D1: 86_400_000,
};

/** Columnar ticks: epoch milliseconds UTC and bid/ask quotes, sorted by time. */
export interface TickData {
  symbol?: string;
  time: Float64Array;
  bid: Float64Array;
  ask: Float64Array;
  volume?: Float64Array;
}

/** Columnar bars of one base timeframe; `time` is the bar open, prices are bids. */
export interface BarData {
  symbol?: string;
  timeframe: Timeframe;
  time: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

export type MarketData = { kind: 'ticks'; ticks: TickData } | { kind: 'bars'; bars: BarData };

// ---------------------------------------------------------------- strategy IR (version 1)

export type ParamRef = { param: string };
export type NumberOrParam = number | ParamRef;

export interface ParamSpec {
  default: number;
  type?: 'int' | 'float';
  min?: number;
  max?: number;
}

export type WorkerKind = 'sma' | 'ema' | 'rsi' | 'atr' | 'bollinger' | 'envelope' | 'macd';
export type PriceSource = 'open' | 'high' | 'low' | 'close';

export interface WorkerSpec {
  id: string;
  kind: WorkerKind;
  timeframe: Timeframe;
  params: Record<string, NumberOrParam | PriceSource>;
}

export type BarField = 'time' | 'open' | 'high' | 'low' | 'close' | 'volume';
export type BinaryOp = '+' | '-' | '*' | '/' | 'min' | 'max';
export type CompareOp = '>' | '>=' | '<' | '<=' | '==' | '!=';
export type LogicOp = 'and' | 'or' | 'not';
export type Op = BinaryOp | CompareOp | LogicOp | 'neg' | 'abs' | 'crossAbove' | 'crossBelow';

export type Expr =
  | number
  | boolean
  | ParamRef
  | { worker: string; output?: string; offset?: number }
  | { bar: BarField; timeframe?: Timeframe; offset?: number }
  | { forming: BarField; timeframe?: Timeframe }
  | { quote: 'bid' | 'ask' | 'mid' | 'spread' }
  | { position: 'side' | 'lots' | 'entryPrice' | 'pnl' | 'pnlPips' }
  | { account: 'balance' | 'equity' }
  | { time: 'hour' | 'minute' | 'weekday' | 'minuteOfDay' }
  | { op: Op; args: Expr[] };

export type Level = { pips: Expr } | { price: Expr };

/** How a buy/sell enters: at once (market), or as a pending order at `price` (limit or stop). */
export type OrderType = 'market' | 'limit' | 'stop';

/**
 * A buy/sell has exactly one of `lots` and `risk` (percent of equity risked at the stop-loss; needs
 * `sl`); `price` is required for limit and stop orders and not allowed for market ones.
 */
export type Action =
  | {
      action: 'buy' | 'sell';
      order?: OrderType;
      price?: Expr;
      lots?: Expr;
      risk?: Expr;
      sl?: Level;
      tp?: Level;
      trail?: { pips: Expr };
    }
  | { action: 'close' }
  | { action: 'cancel' };

export interface Rule {
  when: Expr;
  then: Action[];
}

export interface StrategyIR {
  version: 1;
  name: string;
  /** Metadata only: the instrument the strategy is meant for. */
  symbol?: string;
  params?: Record<string, ParamSpec>;
  decision: { timeframe: Timeframe; on?: 'bar' | 'tick' };
  workers?: WorkerSpec[];
  rules: Rule[];
}

export type Params = Record<string, number>;

// ---------------------------------------------------------------- run configuration

export interface Instrument {
  symbol: string;
  pipSize: number;
  contractSize: number;
  lotStep: number;
  minLot: number;
  maxLot: number;
  marginRate: number;
  commissionPerLot: number;
  commissionPercent: number;
  slippagePips: number;
  spreadPips: number;
}

/** Fully specified configuration, as both engines receive it (docs/semantics.md section 7). */
export interface RunConfig {
  instrument: Instrument;
  account: { balance: number };
  start: number | null;
  end: number | null;
  fillAt: 'open' | 'close';
  periodsPerYear: number;
  profile: boolean;
}

// ---------------------------------------------------------------- results

export type ExitReason = 'sl' | 'tp' | 'signal' | 'reverse' | 'end';
export const EXIT_REASONS: readonly ExitReason[] = ['sl', 'tp', 'signal', 'reverse', 'end'];

export interface Trade {
  id: number;
  side: 1 | -1;
  lots: number;
  entryTime: number;
  entryPrice: number;
  exitTime: number;
  exitPrice: number;
  sl: number;
  tp: number;
  grossPnl: number;
  commission: number;
  pnl: number;
  pips: number;
  reason: ExitReason;
}

export type RejectReason =
  | 'invalid_lots'
  | 'min_lot'
  | 'max_lot'
  | 'invalid_sl'
  | 'invalid_tp'
  | 'margin'
  | 'invalid_price';
export const REJECT_REASONS: readonly RejectReason[] = [
  'invalid_lots',
  'min_lot',
  'max_lot',
  'invalid_sl',
  'invalid_tp',
  'margin',
  'invalid_price',
];

export interface Rejection {
  time: number;
  side: 1 | -1;
  lots: number;
  reason: RejectReason;
  required: number;
  free: number;
}

export interface EquityCurve {
  time: Float64Array;
  equity: Float64Array;
  balance: Float64Array;
}

export interface Metrics {
  netProfit: number;
  returnPct: number;
  cagrPct: number;
  maxDrawdown: number;
  maxDrawdownPct: number;
  sharpe: number;
  sortino: number;
  calmar: number;
  profitFactor: number;
  winRatePct: number;
  tradeCount: number;
  wins: number;
  losses: number;
  avgWin: number;
  avgLoss: number;
  expectancy: number;
  sqn: number;
  exposurePct: number;
  maxConsecutiveLosses: number;
  grossProfit: number;
  grossLoss: number;
  totalCommission: number;
  finalBalance: number;
  rejectedOrders: number;
}

export const METRIC_KEYS: readonly (keyof Metrics)[] = [
  'netProfit',
  'returnPct',
  'cagrPct',
  'maxDrawdown',
  'maxDrawdownPct',
  'sharpe',
  'sortino',
  'calmar',
  'profitFactor',
  'winRatePct',
  'tradeCount',
  'wins',
  'losses',
  'avgWin',
  'avgLoss',
  'expectancy',
  'sqn',
  'exposurePct',
  'maxConsecutiveLosses',
  'grossProfit',
  'grossLoss',
  'totalCommission',
  'finalBalance',
  'rejectedOrders',
];

export type ProfileStep =
  | 'updatePrices'
  | 'barRendering'
  | 'barHistory'
  | 'workerDecision'
  | 'orderExecution'
  | 'liveUpdate';

export const PROFILE_STEPS: readonly ProfileStep[] = [
  'updatePrices',
  'barRendering',
  'barHistory',
  'workerDecision',
  'orderExecution',
  'liveUpdate',
];

export type Profile = Record<ProfileStep, { ms: number; count: number }>;

/** What one engine run produces (both engines return exactly this shape). */
export interface EngineOutput {
  trades: Trade[];
  equity: EquityCurve;
  metrics: Metrics;
  rejections: Rejection[];
  profile: Profile | null;
  /** Ticks (or bars) read, warmup included. */
  events: number;
}
