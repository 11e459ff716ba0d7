/**
 * Turns a validated strategy into closures over the run state (docs/semantics.md section 4). Every
 * reference is resolved here (worker rings, bar rings, constants), so a decision does no lookups by
 * name; each operator evaluates exactly the formula of the spec, folded left.
 */
import { KIND_OUTPUTS, workerNumber } from '../../ir/validate.js';
import {
  type Action,
  type BarField,
  type Expr,
  type Level,
  type Params,
  type PriceSource,
  type StrategyIR,
  TIMEFRAME_MS,
  type Timeframe,
  type WorkerSpec,
} from '../../types.js';
import { Frame, WorkerSlot } from './bars.js';
import { createIndicator, type IndicatorSpec } from './indicators.js';

/** What expressions read at a decision: the event, the position and the account. */
export class Ctx {
  /** Time of the current event (bar mode: the fill time). */
  t = 0;
  bid = Number.NaN;
  ask = Number.NaN;
  balance = 0;
  /** 1 long, -1 short, 0 flat. */
  side = 0;
  lots = 0;
  /** lots * contractSize. */
  units = 0;
  entry = Number.NaN;
  entryTime = 0;
  sl = Number.NaN;
  tp = Number.NaN;
  /** The trailing distance in price units; NaN without a trailing stop. */
  trail = Number.NaN;
  entryCommission = 0;
  readonly pipSize: number;

  constructor(pipSize: number, balance: number) {
    this.pipSize = pipSize;
    this.balance = balance;
  }

  pnl(): number {
    if (this.side === 1) return (this.bid - this.entry) * this.units;
    if (this.side === -1) return (this.entry - this.ask) * this.units;
    return 0;
  }

  pnlPips(): number {
    if (this.side === 1) return (this.bid - this.entry) / this.pipSize;
    if (this.side === -1) return (this.entry - this.ask) / this.pipSize;
    return 0;
  }
}

export type Num = () => number;

/** A level's form: none, pips from the fill, or an absolute price. */
export const LEVEL_NONE = 0;
export const LEVEL_PIPS = 1;
export const LEVEL_PRICE = 2;

/** Action kinds besides buy (1) and sell (-1). */
export const ACTION_CLOSE = 0;
export const ACTION_CANCEL = 2;

/** Order types. */
export const ORDER_MARKET = 0;
export const ORDER_LIMIT = 1;
export const ORDER_STOP = 2;

export interface CompiledAction {
  /** 1 buy, -1 sell, ACTION_CLOSE, ACTION_CANCEL. */
  dir: number;
  order: number;
  /** Limit and stop orders: the order's price. */
  price: Num;
  /** Whether `size` is a risk percentage rather than lots. */
  risk: boolean;
  size: Num;
  slKind: number;
  sl: Num;
  tpKind: number;
  tp: Num;
  /** The trailing distance in pips, or null without a trailing stop. */
  trail: Num | null;
}

export interface CompiledRule {
  when: Num;
  actions: CompiledAction[];
}

export interface Program {
  /** Ascending by length; `frames[0]` is the base timeframe. */
  frames: Frame[];
  decision: Frame;
  onTick: boolean;
  rules: CompiledRule[];
}

/** A timeframe the strategy uses and where it is named. */
export interface TimeframeUse {
  tf: Timeframe;
  path: string;
}

function isObj(e: unknown): e is Record<string, unknown> {
  return typeof e === 'object' && e !== null;
}

/** Calls `f` on every expression node of the strategy with its path and cross shift (0, or 1 inside a cross). */
function walkStrategy(ir: StrategyIR, f: (e: Expr, path: string, shift: number) => void): void {
  const walk = (e: Expr, path: string, shift: number): void => {
    f(e, path, shift);
    if (isObj(e) && 'op' in e) {
      const cross = e.op === 'crossAbove' || e.op === 'crossBelow';
      e.args.forEach((a, i) => {
        walk(a, `${path}.args[${i}]`, shift);
        if (cross) walk(a, `${path}.args[${i}]`, shift + 1);
      });
    }
  };
  const level = (lv: Level | undefined, path: string) => {
    if (lv === undefined) return;
    if ('pips' in lv) walk(lv.pips, `${path}.pips`, 0);
    else walk(lv.price, `${path}.price`, 0);
  };
  ir.rules.forEach((r, i) => {
    walk(r.when, `strategy.rules[${i}].when`, 0);
    r.then.forEach((a, j) => {
      if (a.action === 'close') return;
      if (a.action === 'cancel') return;
      const p = `strategy.rules[${i}].then[${j}]`;
      if (a.price !== undefined) walk(a.price, `${p}.price`, 0);
      if (a.lots !== undefined) walk(a.lots, `${p}.lots`, 0);
      if (a.risk !== undefined) walk(a.risk, `${p}.risk`, 0);
      level(a.sl, `${p}.sl`);
      level(a.tp, `${p}.tp`);
      if (a.trail !== undefined) walk(a.trail.pips, `${p}.trail.pips`, 0);
    });
  });
}

/** Every used timeframe (section 2) with the path naming it; `bar`/`forming` without one use the decision's. */
export function usedTimeframes(ir: StrategyIR): TimeframeUse[] {
  const out: TimeframeUse[] = [{ tf: ir.decision.timeframe, path: 'strategy.decision.timeframe' }];
  (ir.workers ?? []).forEach((w, i) => {
    out.push({ tf: w.timeframe, path: `strategy.workers[${i}].timeframe` });
  });
  walkStrategy(ir, (e, path, shift) => {
    if (shift !== 0 || !isObj(e)) return;
    if (('bar' in e || 'forming' in e) && 'timeframe' in e && e.timeframe !== undefined) {
      out.push({ tf: e.timeframe, path: `${path}.timeframe` });
    }
  });
  return out;
}

function indicatorSpec(w: WorkerSpec, params: Params): IndicatorSpec {
  const n = (k: string) => workerNumber(w.params[k], params);
  const source = (w.params.source ?? 'close') as PriceSource;
  switch (w.kind) {
    case 'sma':
    case 'ema':
    case 'rsi':
      return { kind: w.kind, period: n('period'), source };
    case 'atr':
      return { kind: 'atr', period: n('period') };
    case 'bollinger':
      return { kind: 'bollinger', period: n('period'), deviations: n('deviations'), source };
    case 'envelope':
      return { kind: 'envelope', period: n('period'), percent: n('percent'), source };
    case 'macd':
      return { kind: 'macd', fast: n('fast'), slow: n('slow'), signal: n('signal'), source };
  }
}

const nanIfNone: Num = () => Number.NaN;

// min/max by comparison rather than Math.min/max: with equal operands (0 and -0) the left one is
// kept, a rule simple to state for the Rust engine.
function minOf(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
  // biome-ignore lint/complexity/useMathMinMax: see above
  return y < x ? y : x;
}

function maxOf(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.NaN;
  // biome-ignore lint/complexity/useMathMinMax: see above
  return y > x ? y : x;
}

function binary(op: string, a: Num, b: Num): Num {
  switch (op) {
    case '+':
      return () => a() + b();
    case '-':
      return () => a() - b();
    case '*':
      return () => a() * b();
    case '/':
      return () => a() / b();
    case 'min':
      return () => minOf(a(), b());
    case 'max':
      return () => maxOf(a(), b());
    case '>':
      return () => (a() > b() ? 1 : 0);
    case '>=':
      return () => (a() >= b() ? 1 : 0);
    case '<':
      return () => (a() < b() ? 1 : 0);
    case '<=':
      return () => (a() <= b() ? 1 : 0);
    case '==':
      return () => (a() === b() ? 1 : 0);
    case '!=':
      // False when either side is NaN, unlike IEEE `!=`.
      return () => {
        const x = a();
        const y = b();
        return x < y || x > y ? 1 : 0;
      };
    default:
      throw new Error(`not a binary operator: ${op}`);
  }
}

/** Builds the program: frames for every used timeframe plus `base`, workers, rings and rule closures. */
export function compile(ir: StrategyIR, params: Params, base: Timeframe, ctx: Ctx): Program {
  const decisionTf = ir.decision.timeframe;
  const workers = ir.workers ?? [];

  // Ring depths: the deepest offset read (a cross reads one further back), plus one.
  const frameDepth = new Map<Timeframe, number>();
  const workerDepth = new Map<string, number>();
  const tfs = new Set<Timeframe>([base]);
  for (const u of usedTimeframes(ir)) tfs.add(u.tf);
  walkStrategy(ir, (e, _path, shift) => {
    if (!isObj(e)) return;
    if ('worker' in e) {
      const d = (e.offset ?? 0) + shift + 1;
      workerDepth.set(e.worker, Math.max(workerDepth.get(e.worker) ?? 1, d));
    } else if ('bar' in e) {
      const tf = e.timeframe ?? decisionTf;
      const d = (e.offset ?? 0) + shift + 1;
      frameDepth.set(tf, Math.max(frameDepth.get(tf) ?? 1, d));
    }
  });

  const ordered = [...tfs].sort((x, y) => TIMEFRAME_MS[x] - TIMEFRAME_MS[y]);
  const frames = ordered.map((tf) => new Frame(TIMEFRAME_MS[tf], frameDepth.get(tf) ?? 1));
  const frameOf = (tf: Timeframe) => frames[ordered.indexOf(tf)] as Frame;

  const slots = new Map<string, { slot: WorkerSlot; outputs: readonly string[] }>();
  for (const w of workers) {
    const outputs = KIND_OUTPUTS[w.kind];
    const slot = new WorkerSlot(createIndicator(indicatorSpec(w, params)), outputs.length, workerDepth.get(w.id) ?? 1);
    frameOf(w.timeframe).workers.push(slot);
    slots.set(w.id, { slot, outputs });
  }

  const expr = (e: Expr, shift: number): Num => {
    if (typeof e === 'number') return () => e;
    if (typeof e === 'boolean') return e ? () => 1 : () => 0;
    if ('param' in e) {
      const v = params[e.param] as number;
      return () => v;
    }
    if ('worker' in e) {
      const { slot, outputs } = slots.get(e.worker) as { slot: WorkerSlot; outputs: readonly string[] };
      const k = (e.offset ?? 0) + shift;
      const depth = slot.depth;
      const at = outputs.indexOf(e.output ?? 'value') * depth;
      const ring = slot.ring;
      return () => {
        if (k >= slot.count) return Number.NaN;
        let j = slot.head - 1 - k;
        if (j < 0) j += depth;
        return ring[at + j] as number;
      };
    }
    if ('bar' in e) {
      const f = frameOf(e.timeframe ?? decisionTf);
      const k = (e.offset ?? 0) + shift;
      const depth = f.depth;
      const ring = historyOf(f, e.bar);
      return () => {
        if (k >= f.count) return Number.NaN;
        let j = f.head - 1 - k;
        if (j < 0) j += depth;
        return ring[j] as number;
      };
    }
    if ('forming' in e) {
      const f = frameOf(e.timeframe ?? decisionTf);
      switch (e.forming) {
        case 'time':
          return () => (f.has ? f.time : Number.NaN);
        case 'open':
          return () => (f.has ? f.open : Number.NaN);
        case 'high':
          return () => (f.has ? f.high : Number.NaN);
        case 'low':
          return () => (f.has ? f.low : Number.NaN);
        case 'close':
          return () => (f.has ? f.close : Number.NaN);
        case 'volume':
          return () => (f.has ? f.volume : Number.NaN);
      }
    }
    if ('quote' in e) {
      switch (e.quote) {
        case 'bid':
          return () => ctx.bid;
        case 'ask':
          return () => ctx.ask;
        case 'mid':
          return () => (ctx.bid + ctx.ask) / 2;
        case 'spread':
          return () => ctx.ask - ctx.bid;
      }
    }
    if ('position' in e) {
      switch (e.position) {
        case 'side':
          return () => ctx.side;
        case 'lots':
          return () => ctx.lots;
        case 'entryPrice':
          return () => (ctx.side === 0 ? Number.NaN : ctx.entry);
        case 'pnl':
          return () => ctx.pnl();
        case 'pnlPips':
          return () => ctx.pnlPips();
      }
    }
    if ('account' in e) {
      return e.account === 'balance' ? () => ctx.balance : () => ctx.balance + ctx.pnl();
    }
    if ('time' in e) {
      switch (e.time) {
        case 'hour':
          return () => Math.floor(ctx.t / 3_600_000) % 24;
        case 'minute':
          return () => Math.floor(ctx.t / 60_000) % 60;
        case 'weekday':
          return () => (Math.floor(ctx.t / 86_400_000) + 4) % 7;
        case 'minuteOfDay':
          return () => Math.floor(ctx.t / 60_000) % 1440;
      }
    }
    if ('op' in e) {
      const op = e.op;
      if (op === 'crossAbove' || op === 'crossBelow') {
        const [a0, b0] = [expr(e.args[0] as Expr, shift), expr(e.args[1] as Expr, shift)];
        const [a1, b1] = [expr(e.args[0] as Expr, shift + 1), expr(e.args[1] as Expr, shift + 1)];
        if (op === 'crossAbove') return () => (a1() <= b1() && a0() > b0() ? 1 : 0);
        return () => (a1() >= b1() && a0() < b0() ? 1 : 0);
      }
      const fs = e.args.map((a) => expr(a, shift));
      const first = fs[0] as Num;
      switch (op) {
        case 'neg':
          return () => -first();
        case 'abs':
          return () => Math.abs(first());
        case 'not':
          return () => (first() !== 0 ? 0 : 1);
        case 'and':
          if (fs.length === 2) {
            const second = fs[1] as Num;
            return () => (first() !== 0 && second() !== 0 ? 1 : 0);
          }
          return () => {
            for (let i = 0; i < fs.length; i++) if ((fs[i] as Num)() === 0) return 0;
            return 1;
          };
        case 'or':
          if (fs.length === 2) {
            const second = fs[1] as Num;
            return () => (first() !== 0 || second() !== 0 ? 1 : 0);
          }
          return () => {
            for (let i = 0; i < fs.length; i++) if ((fs[i] as Num)() !== 0) return 1;
            return 0;
          };
        default: {
          // Arithmetic and min/max fold left; comparisons have exactly two arguments.
          let acc = first;
          for (let i = 1; i < fs.length; i++) acc = binary(op, acc, fs[i] as Num);
          return acc;
        }
      }
    }
    return nanIfNone;
  };

  const level = (lv: Level | undefined): [number, Num] => {
    if (lv === undefined) return [LEVEL_NONE, nanIfNone];
    if ('pips' in lv) return [LEVEL_PIPS, expr(lv.pips, 0)];
    return [LEVEL_PRICE, expr(lv.price, 0)];
  };
  const action = (a: Action): CompiledAction => {
    if (a.action === 'close' || a.action === 'cancel') {
      return {
        dir: a.action === 'close' ? ACTION_CLOSE : ACTION_CANCEL,
        order: ORDER_MARKET,
        price: nanIfNone,
        risk: false,
        size: nanIfNone,
        slKind: LEVEL_NONE,
        sl: nanIfNone,
        tpKind: LEVEL_NONE,
        tp: nanIfNone,
        trail: null,
      };
    }
    const [slKind, sl] = level(a.sl);
    const [tpKind, tp] = level(a.tp);
    const order = a.order === 'limit' ? ORDER_LIMIT : a.order === 'stop' ? ORDER_STOP : ORDER_MARKET;
    const risk = a.risk !== undefined;
    return {
      dir: a.action === 'buy' ? 1 : -1,
      order,
      price: a.price !== undefined && order !== ORDER_MARKET ? expr(a.price, 0) : nanIfNone,
      risk,
      size: expr((risk ? a.risk : a.lots) as Expr, 0),
      slKind,
      sl,
      tpKind,
      tp,
      trail: a.trail !== undefined ? expr(a.trail.pips, 0) : null,
    };
  };
  const rules = ir.rules.map((r) => ({ when: expr(r.when, 0), actions: r.then.map(action) }));

  return { frames, decision: frameOf(decisionTf), onTick: ir.decision.on === 'tick', rules };
}

function historyOf(f: Frame, field: BarField): Float64Array {
  switch (field) {
    case 'time':
      return f.hTime;
    case 'open':
      return f.hOpen;
    case 'high':
      return f.hHigh;
    case 'low':
      return f.hLow;
    case 'close':
      return f.hClose;
    case 'volume':
      return f.hVolume;
  }
}
