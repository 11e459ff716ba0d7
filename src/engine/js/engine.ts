/**
 * The simulation loops (docs/semantics.md sections 2, 4 to 6 and 8): tick mode and bar mode event
 * orders, orders and accounting, equity samples and the profile. Every formula is written in the
 * spec's order so that the Rust engine, evaluating the same text, agrees to the bit.
 */
import { TickforgeError } from '../../errors.js';
import type {
  BarData,
  EngineOutput,
  ExitReason,
  Instrument,
  Profile,
  Rejection,
  RejectReason,
  RunConfig,
  TickData,
  Trade,
} from '../../types.js';
import type { Frame } from './bars.js';
import {
  ACTION_CANCEL,
  ACTION_CLOSE,
  type CompiledAction,
  type Ctx,
  LEVEL_NONE,
  LEVEL_PIPS,
  ORDER_MARKET,
  ORDER_STOP,
  type Program,
} from './compile.js';
import { computeMetrics } from './metrics.js';

export type StopReason = 'cancelled' | 'timeout';

export interface RunControl {
  shouldStop?: () => StopReason | null;
}

/** The run was stopped from outside (the control's `shouldStop`). */
export class StopError extends TickforgeError {
  override name = 'StopError';
  readonly reason: StopReason;
  constructor(reason: StopReason) {
    super(
      reason === 'cancelled' ? 'ERR_TICKFORGE_CANCELLED' : 'ERR_TICKFORGE_TIMEOUT',
      reason === 'cancelled' ? 'the run was cancelled' : 'the run timed out',
    );
    this.reason = reason;
  }
}

/** Events before the first poll of the control. */
const FIRST_POLL = 256;
/** The most events between two polls, however cheap they are. */
const MAX_POLL_EVERY = 1 << 20;
/** The time between two polls that the pacing aims at, in milliseconds. */
const POLL_AIM_MS = 1;

/**
 * When the event loops poll the control: the number of events between two polls doubles while
 * polls come sooner than POLL_AIM_MS apart and halves when they come later, so a slow rule is
 * polled as often as a cheap one (the Rust engine paces its checks the same way). The pace only
 * moves where a loop pauses, never what it computes.
 */
class Pacer {
  private every: number;
  private last = now();
  constructor(private readonly shouldStop: (() => StopReason | null) | undefined) {
    this.every = shouldStop === undefined ? Number.POSITIVE_INFINITY : FIRST_POLL;
  }

  /** Polls at event `i` (throws StopError on a stop); returns the event of the next poll. */
  poll(i: number): number {
    const shouldStop = this.shouldStop;
    if (shouldStop === undefined) return Number.POSITIVE_INFINITY;
    const r = shouldStop();
    if (r !== null) throw new StopError(r);
    const t = now();
    const gap = t - this.last;
    this.last = t;
    if (gap < POLL_AIM_MS / 2) this.every = Math.min(this.every * 2, MAX_POLL_EVERY);
    else if (gap > POLL_AIM_MS * 2) this.every = Math.max(Math.floor(this.every / 2), 1);
    return i + this.every;
  }

  /** After the loop: a run that ended past its deadline is not reported as finished. */
  finish(): void {
    if (this.shouldStop?.() === 'timeout') throw new StopError('timeout');
  }
}

// Profile steps, in PROFILE_STEPS order.
const P_PRICES = 0;
const P_RENDER = 1;
const P_HISTORY = 2;
const P_WORKER = 3;
const P_ORDER = 4;
const P_LIVE = 5;

const now = () => performance.now();

/** What an opening needs besides the side and the fill, evaluated at the decision. */
interface Entry {
  /** Whether `size` is a risk percentage rather than lots. */
  risk: boolean;
  size: number;
  slKind: number;
  sl: number;
  tpKind: number;
  tp: number;
  hasTrail: boolean;
  /** The trailing distance in pips. */
  trail: number;
}

/** A limit or stop order waiting for its price. */
interface Pending {
  dir: 1 | -1;
  stop: boolean;
  price: number;
  entry: Entry;
  /** The event that placed it; it triggers from the next event on. */
  placed: number;
}

export class Engine {
  readonly ctx: Ctx;
  readonly frames: Frame[];
  readonly base: Frame;
  readonly decision: Frame;
  readonly onTick: boolean;
  readonly rules: Program['rules'];
  readonly initialBalance: number;
  readonly periodsPerYear: number;

  readonly pipSize: number;
  readonly contractSize: number;
  readonly lotStep: number;
  readonly minLot: number;
  readonly maxLot: number;
  readonly marginRate: number;
  readonly commissionPerLot: number;
  readonly commissionPercent: number;
  readonly slippage: number;
  readonly spread: number;

  readonly trades: Trade[] = [];
  readonly rejections: Rejection[] = [];

  // Equity samples, grown by doubling.
  sTime: Float64Array;
  sEquity: Float64Array;
  sBalance: Float64Array;
  sN = 0;

  /** Time of the decision bar closed by the latest roll. */
  decisionTime = 0;

  pending: Pending | null = null;
  /** Index of the event being decided on (for pending orders placed on an earlier one). */
  event = 0;

  readonly prof: boolean;
  readonly pMs = new Float64Array(6);
  readonly pCount = new Float64Array(6);

  constructor(program: Program, ctx: Ctx, config: RunConfig, sampleCapacity: number) {
    this.ctx = ctx;
    this.frames = program.frames;
    this.base = program.frames[0] as Frame;
    this.decision = program.decision;
    this.onTick = program.onTick;
    this.rules = program.rules;
    this.initialBalance = config.account.balance;
    this.periodsPerYear = config.periodsPerYear;
    const ins: Instrument = config.instrument;
    this.pipSize = ins.pipSize;
    this.contractSize = ins.contractSize;
    this.lotStep = ins.lotStep;
    this.minLot = ins.minLot;
    this.maxLot = ins.maxLot;
    this.marginRate = ins.marginRate;
    this.commissionPerLot = ins.commissionPerLot;
    this.commissionPercent = ins.commissionPercent;
    this.slippage = ins.slippagePips * ins.pipSize;
    this.spread = ins.spreadPips * ins.pipSize;
    this.prof = config.profile;
    const cap = Math.max(16, Math.min(sampleCapacity, 1 << 22));
    this.sTime = new Float64Array(cap);
    this.sEquity = new Float64Array(cap);
    this.sBalance = new Float64Array(cap);
  }

  private addMs(k: number, ms: number): void {
    this.pMs[k] = (this.pMs[k] as number) + ms;
  }

  private addCount(k: number, n: number): void {
    this.pCount[k] = (this.pCount[k] as number) + n;
  }

  // ------------------------------------------------------------ bars

  private closeFrame(f: Frame): boolean {
    f.push();
    if (this.prof) {
      const w0 = now();
      f.updateWorkers();
      const dt = now() - w0;
      this.addMs(P_WORKER, dt);
      this.addMs(P_HISTORY, -dt);
      this.addCount(P_WORKER, f.workers.length);
      this.addCount(P_HISTORY, 1);
    } else {
      f.updateWorkers();
    }
    if (f === this.decision) {
      this.decisionTime = f.time;
      return true;
    }
    return false;
  }

  /** Step 1: the base bar closes; larger timeframes whose bucket `t` leaves close too. Returns whether the decision bar closed. */
  roll(t: number): boolean {
    const frames = this.frames;
    const base = this.base;
    let decided = this.closeFrame(base);
    for (let i = 1; i < frames.length; i++) (frames[i] as Frame).aggregate(base);
    for (let i = 1; i < frames.length; i++) {
      const f = frames[i] as Frame;
      if (f.has && t >= f.end) decided = this.closeFrame(f) || decided;
    }
    return decided;
  }

  /** End of data: every forming bar closes, smallest first. Returns whether the decision timeframe had one. */
  closeAll(): boolean {
    const frames = this.frames;
    const base = this.base;
    let decided = false;
    if (base.has) {
      decided = this.closeFrame(base);
      for (let i = 1; i < frames.length; i++) (frames[i] as Frame).aggregate(base);
    }
    for (let i = 1; i < frames.length; i++) {
      const f = frames[i] as Frame;
      if (f.has) decided = this.closeFrame(f) || decided;
    }
    return decided;
  }

  // ------------------------------------------------------------ equity

  sample(time: number, bid: number, ask: number): void {
    const c = this.ctx;
    let pnl = 0;
    if (c.side === 1) pnl = (bid - c.entry) * c.units;
    else if (c.side === -1) pnl = (c.entry - ask) * c.units;
    if (this.sN === this.sTime.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.sTime = grow(this.sTime);
      this.sEquity = grow(this.sEquity);
      this.sBalance = grow(this.sBalance);
    }
    const n = this.sN++;
    this.sTime[n] = time;
    this.sEquity[n] = c.balance + pnl;
    this.sBalance[n] = c.balance;
  }

  private profiledSample(time: number, bid: number, ask: number): void {
    const s0 = now();
    this.sample(time, bid, ask);
    this.addMs(P_LIVE, now() - s0);
    this.addCount(P_LIVE, 1);
  }

  // ------------------------------------------------------------ orders

  /** Closes the position at `exit` (section 5). */
  closeAt(exit: number, reason: ExitReason, time: number): void {
    const c = this.ctx;
    const side = c.side as 1 | -1;
    const lots = c.lots;
    const entry = c.entry;
    const gross = side === 1 ? (exit - entry) * c.units : (entry - exit) * c.units;
    const exitCommission =
      lots * this.commissionPerLot + (lots * this.contractSize * exit * this.commissionPercent) / 100;
    c.balance = c.balance + gross - exitCommission;
    const commission = c.entryCommission + exitCommission;
    this.trades.push({
      id: this.trades.length,
      side,
      lots,
      entryTime: c.entryTime,
      entryPrice: entry,
      exitTime: time,
      exitPrice: exit,
      sl: c.sl,
      tp: c.tp,
      grossPnl: gross,
      commission,
      pnl: gross - commission,
      pips: side === 1 ? (exit - entry) / this.pipSize : (entry - exit) / this.pipSize,
      reason,
    });
    c.side = 0;
    c.lots = 0;
    c.units = 0;
    c.entry = Number.NaN;
    c.sl = Number.NaN;
    c.tp = Number.NaN;
    c.trail = Number.NaN;
    c.entryCommission = 0;
    if (this.prof) this.addCount(P_ORDER, 1);
  }

  /** A market close at the context's quotes: long at `bid - slippage`, short at `ask + slippage`. */
  closeMarket(reason: ExitReason, time: number): void {
    const c = this.ctx;
    this.closeAt(c.side === 1 ? c.bid - this.slippage : c.ask + this.slippage, reason, time);
  }

  private reject(time: number, side: 1 | -1, lots: number, reason: RejectReason, required: number, free: number): void {
    this.rejections.push({ time, side, lots, reason, required, free });
    if (this.prof) this.addCount(P_ORDER, 1);
  }

  /** The action's size, levels and trail evaluated with the decision's state. */
  private entry(a: CompiledAction): Entry {
    const trail = a.trail;
    return {
      risk: a.risk,
      size: a.size(),
      slKind: a.slKind,
      sl: a.slKind === LEVEL_NONE ? Number.NaN : a.sl(),
      tpKind: a.tpKind,
      tp: a.tpKind === LEVEL_NONE ? Number.NaN : a.tp(),
      hasTrail: trail !== null,
      trail: trail === null ? Number.NaN : trail(),
    };
  }

  /**
   * A buy (`dir` 1) or sell (-1) action at the context's quotes (section 4, "Actions"): replaces the
   * pending order; skipped on a position of its side; a market order reverses and opens here, a
   * limit or stop order waits for its price.
   */
  order(a: CompiledAction, time: number): void {
    const c = this.ctx;
    const dir = a.dir as 1 | -1;
    this.pending = null;
    if (c.side === dir) return;
    if (a.order !== ORDER_MARKET) {
      const price = a.price();
      const e = this.entry(a);
      if (!(price > 0)) {
        this.reject(time, dir, e.risk ? Number.NaN : e.size, 'invalid_price', Number.NaN, Number.NaN);
        return;
      }
      this.pending = { dir, stop: a.order === ORDER_STOP, price, entry: e, placed: this.event };
      return;
    }
    if (c.side === -dir) this.closeMarket('reverse', time);
    const e = this.entry(a);
    this.openAt(dir, dir === 1 ? c.ask + this.slippage : c.bid - this.slippage, e, time);
  }

  /** Opening step 1 on a requested size: the lots rounded down to the step, or why not. */
  private roundLots(raw: number): number | RejectReason {
    if (!(raw > 0)) return 'invalid_lots';
    const lots = Math.floor(raw / this.lotStep + 1e-9) * this.lotStep;
    if (lots < this.minLot) return 'min_lot';
    if (lots > this.maxLot) return 'max_lot';
    return lots;
  }

  /** Opening steps 1 to 5 of section 4 at `fill`, on a flat account. */
  private openAt(dir: 1 | -1, fill: number, e: Entry, time: number): void {
    const c = this.ctx;
    // The size as requested (what a rejection records) and the rounded lots; with risk sizing
    // both are known only once the stop-loss is.
    let raw = Number.NaN;
    let lots = Number.NaN;
    if (e.risk) {
      if (!(e.size > 0)) {
        this.reject(time, dir, Number.NaN, 'invalid_lots', Number.NaN, Number.NaN);
        return;
      }
    } else {
      raw = e.size;
      const r = this.roundLots(raw);
      if (typeof r === 'string') {
        this.reject(time, dir, raw, r, Number.NaN, Number.NaN);
        return;
      }
      lots = r;
    }

    const pip = this.pipSize;
    let sl = Number.NaN;
    if (e.slKind !== LEVEL_NONE) {
      const v = e.sl;
      if (e.slKind === LEVEL_PIPS) sl = dir === 1 ? fill - v * pip : fill + v * pip;
      else sl = v;
      if (!(dir === 1 ? sl < fill : sl > fill)) {
        this.reject(time, dir, raw, 'invalid_sl', Number.NaN, Number.NaN);
        return;
      }
    }
    let trail = Number.NaN;
    if (e.hasTrail) {
      const d = e.trail * pip;
      const l = dir === 1 ? fill - d : fill + d;
      if (!(dir === 1 ? l < fill : l > fill)) {
        this.reject(time, dir, raw, 'invalid_sl', Number.NaN, Number.NaN);
        return;
      }
      if (Number.isNaN(sl)) sl = l;
      else sl = dir === 1 ? Math.max(sl, l) : Math.min(sl, l);
      trail = d;
    }
    let tp = Number.NaN;
    if (e.tpKind !== LEVEL_NONE) {
      const v = e.tp;
      if (e.tpKind === LEVEL_PIPS) tp = dir === 1 ? fill + v * pip : fill - v * pip;
      else tp = v;
      if (!(dir === 1 ? tp > fill : tp < fill)) {
        this.reject(time, dir, raw, 'invalid_tp', Number.NaN, Number.NaN);
        return;
      }
    }
    if (e.risk) {
      // The account is flat here, so its equity is its balance.
      raw = (c.balance * e.size) / 100 / (Math.abs(fill - sl) * this.contractSize);
      const r = this.roundLots(raw);
      if (typeof r === 'string') {
        this.reject(time, dir, raw, r, Number.NaN, Number.NaN);
        return;
      }
      lots = r;
    }

    const required = lots * this.contractSize * fill * this.marginRate;
    const free = c.balance;
    if (required > free) {
      this.reject(time, dir, raw, 'margin', required, free);
      return;
    }

    const commission = lots * this.commissionPerLot + (lots * this.contractSize * fill * this.commissionPercent) / 100;
    c.balance = c.balance - commission;
    c.side = dir;
    c.lots = lots;
    c.units = lots * this.contractSize;
    c.entry = fill;
    c.entryTime = time;
    c.sl = sl;
    c.tp = tp;
    c.trail = trail;
    c.entryCommission = commission;
    if (this.prof) this.addCount(P_ORDER, 1);
  }

  /**
   * A triggered pending order: removed; dropped against a position on its side; otherwise an
   * opposite position closes at the trigger price `at` (with market slippage) and the order opens
   * at `fill`.
   */
  private trigger(p: Pending, at: number, fill: number, time: number): void {
    this.pending = null;
    const c = this.ctx;
    if (c.side === p.dir) return;
    if (c.side === -p.dir) this.closeAt(c.side === 1 ? at - this.slippage : at + this.slippage, 'reverse', time);
    this.openAt(p.dir, fill, p.entry, time);
  }

  /** Tick mode, after the stop-loss/take-profit check: the pending order's trigger, then the trailing stop. */
  busyTick(t: number, bid: number, ask: number, event: number): void {
    const p = this.pending;
    if (p !== null && p.placed < event) {
      const at = p.dir === 1 ? ask : bid;
      let hit: boolean;
      if (p.dir === 1) hit = p.stop ? ask >= p.price : ask <= p.price;
      else hit = p.stop ? bid <= p.price : bid >= p.price;
      if (hit) {
        const fill = p.stop ? (p.dir === 1 ? at + this.slippage : at - this.slippage) : at;
        this.trigger(p, at, fill, t);
      }
    }
    const c = this.ctx;
    const d = c.trail;
    if (!Number.isNaN(d)) c.sl = c.side === 1 ? Math.max(c.sl, bid - d) : Math.min(c.sl, ask + d);
  }

  /**
   * Bar mode, after the intrabar stop-loss/take-profit check: the pending order's trigger inside bar
   * `O H L C` (bids) with spread `s`, then the trailing stop moved with the close.
   */
  busyBar(t: number, o: number, h: number, l: number, cl: number, s: number, event: number): void {
    const p = this.pending;
    if (p !== null && p.placed < event) {
      const price = p.price;
      // The price the order executes at before slippage: an ask for a buy, a bid for a sell.
      let at = Number.NaN;
      if (p.dir === 1) {
        if (p.stop) {
          if (h + s >= price) at = Math.max(o + s, price);
        } else if (l + s <= price) at = Math.min(o + s, price);
      } else if (p.stop) {
        if (l <= price) at = Math.min(o, price);
      } else if (h >= price) at = Math.max(o, price);
      if (!Number.isNaN(at)) {
        const fill = p.stop ? (p.dir === 1 ? at + this.slippage : at - this.slippage) : at;
        this.trigger(p, at, fill, t);
      }
    }
    const c = this.ctx;
    const d = c.trail;
    if (!Number.isNaN(d)) c.sl = c.side === 1 ? Math.max(c.sl, cl - d) : Math.min(c.sl, cl + s + d);
  }

  private act(a: CompiledAction, time: number): void {
    if (a.dir === ACTION_CLOSE) {
      if (this.ctx.side !== 0) this.closeMarket('signal', time);
    } else if (a.dir === ACTION_CANCEL) {
      this.pending = null;
    } else {
      this.order(a, time);
    }
  }

  /** Step 5: the rules in order, each seeing the state the previous one left; orders fill at `time`. */
  decide(time: number): void {
    if (this.prof) {
      this.profiledDecide(time);
      return;
    }
    const rules = this.rules;
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r] as Program['rules'][number];
      if (rule.when() === 0) continue;
      const acts = rule.actions;
      for (let k = 0; k < acts.length; k++) this.act(acts[k] as CompiledAction, time);
    }
  }

  private profiledDecide(time: number): void {
    const d0 = now();
    let orderMs = 0;
    const rules = this.rules;
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r] as Program['rules'][number];
      if (rule.when() === 0) continue;
      const acts = rule.actions;
      for (let k = 0; k < acts.length; k++) {
        const o0 = now();
        this.act(acts[k] as CompiledAction, time);
        orderMs += now() - o0;
      }
    }
    this.addMs(P_WORKER, now() - d0 - orderMs);
    this.addMs(P_ORDER, orderMs);
    this.addCount(P_WORKER, 1);
  }

  /** Tick-mode stop-loss / take-profit at this tick's executable price; the stop-loss wins a tie. */
  exitTick(t: number, bid: number, ask: number): void {
    const c = this.ctx;
    if (c.side === 1) {
      if (bid <= c.sl) this.closeAt(bid, 'sl', t);
      else if (bid >= c.tp) this.closeAt(bid, 'tp', t);
    } else {
      if (ask >= c.sl) this.closeAt(ask, 'sl', t);
      else if (ask <= c.tp) this.closeAt(ask, 'tp', t);
    }
  }

  /** Bar-mode stop-loss / take-profit inside bar `O H L` (bids) with spread `s`; gaps fill at the open. */
  exitBar(t: number, o: number, h: number, l: number, s: number): void {
    const c = this.ctx;
    if (c.side === 1) {
      const sl = c.sl;
      const tp = c.tp;
      if (l <= sl) this.closeAt(Math.min(o, sl), 'sl', t);
      else if (h >= tp) this.closeAt(Math.max(o, tp), 'tp', t);
    } else {
      const sl = c.sl;
      const tp = c.tp;
      const oa = o + s;
      if (h + s >= sl) this.closeAt(Math.max(oa, sl), 'sl', t);
      else if (l + s <= tp) this.closeAt(Math.min(oa, tp), 'tp', t);
    }
  }

  // ------------------------------------------------------------ loops

  runTicks(d: TickData, startCfg: number | null, endCfg: number | null, control: RunControl | undefined): EngineOutput {
    if (this.prof) return this.runTicksProfiled(d, startCfg, endCfg, control);
    const time = d.time;
    const bids = d.bid;
    const asks = d.ask;
    const vols = d.volume;
    const n = time.length;
    const start = startCfg ?? (time[0] as number);
    const end = endCfg ?? Number.POSITIVE_INFINITY;
    const pacer = new Pacer(control?.shouldStop);
    let nextPoll = 0;
    const base = this.base;
    const tf = base.tf;
    const ctx = this.ctx;
    const onTick = this.onTick;

    // The base forming bar lives in locals and is written back before anything reads it (a roll,
    // a decision, the end of data).
    let bEnd = base.end;
    let bHigh = base.high;
    let bLow = base.low;
    let bClose = base.close;
    let bVolume = base.volume;
    let started = false;
    let t0 = 0;
    let i = 0;

    for (; i < n; i++) {
      if (i >= nextPoll) nextPoll = pacer.poll(i);
      const t = time[i] as number;
      if (t > end) break;
      const bid = bids[i] as number;
      const ask = asks[i] as number;
      const v = vols === undefined ? 1 : (vols[i] as number);

      let decClosed = false;
      if (t >= bEnd) {
        // A new base bucket (or the first tick): close what must close, then start the bar.
        if (base.has) {
          base.high = bHigh;
          base.low = bLow;
          base.close = bClose;
          base.volume = bVolume;
          decClosed = this.roll(t);
          if (decClosed && t >= start) this.sample(this.decisionTime, bids[i - 1] as number, asks[i - 1] as number);
        }
        if (ctx.side !== 0) this.exitTick(t, bid, ask);
        if (this.pending !== null || !Number.isNaN(ctx.trail)) this.busyTick(t, bid, ask, i);
        base.start(Math.floor(t / tf) * tf, bid, bid, bid, bid, v);
        bEnd = base.end;
        bHigh = bid;
        bLow = bid;
        bClose = bid;
        bVolume = v;
      } else {
        if (ctx.side !== 0) this.exitTick(t, bid, ask);
        if (this.pending !== null || !Number.isNaN(ctx.trail)) this.busyTick(t, bid, ask, i);
        if (bid > bHigh) bHigh = bid;
        else if (bid < bLow) bLow = bid;
        bClose = bid;
        bVolume = bVolume + v;
      }

      if (t >= start) {
        if (!started) {
          started = true;
          t0 = t;
        }
        if (decClosed || onTick) {
          base.high = bHigh;
          base.low = bLow;
          base.close = bClose;
          base.volume = bVolume;
          ctx.t = t;
          ctx.bid = bid;
          ctx.ask = ask;
          this.event = i;
          this.decide(t);
        }
      }

      // Until the base bar rolls, a stop level is touched, `start` or `end` is reached or the next
      // poll is due, the following ticks only render the base bar: no roll, no sample, no exit, no
      // decision (rules run at closes here). This inner loop does just that, with the same
      // arithmetic in the same order; the tick that ends it goes through the full steps above.
      // With a pending order or a trailing stop every tick takes the full steps.
      if (onTick || this.pending !== null || !Number.isNaN(ctx.trail)) continue;
      // Before start the first tick at or after it must also take the full steps (it sets T0).
      const until = started ? bEnd : Math.min(bEnd, start);
      const side = ctx.side;
      const sl = ctx.sl;
      const tp = ctx.tp;
      const stop = Math.min(n, nextPoll);
      let k = i + 1;
      for (; k < stop; k++) {
        const tk = time[k] as number;
        if (tk >= until || tk > end) break;
        const b = bids[k] as number;
        if (side === 1) {
          if (b <= sl || b >= tp) break;
        } else if (side === -1) {
          const a = asks[k] as number;
          if (a >= sl || a <= tp) break;
        }
        if (b > bHigh) bHigh = b;
        else if (b < bLow) bLow = b;
        bClose = b;
        if (vols !== undefined) bVolume = bVolume + (vols[k] as number);
      }
      // Without a volume column each tick counts 1; adding the count at once is exact.
      if (vols === undefined) bVolume = bVolume + (k - i - 1);
      i = k - 1;
    }

    pacer.finish();
    const events = i;
    base.high = bHigh;
    base.low = bLow;
    base.close = bClose;
    base.volume = bVolume;
    if (started) {
      const t1 = time[events - 1] as number;
      const lastBid = bids[events - 1] as number;
      const lastAsk = asks[events - 1] as number;
      ctx.t = t1;
      ctx.bid = lastBid;
      ctx.ask = lastAsk;
      this.finish(t1, lastBid, lastAsk);
      return this.output(t0, t1, events);
    }
    return this.output(0, 0, events);
  }

  /** `runTicks` tick by tick with each step timed (section 8): the same steps in the same order. */
  private runTicksProfiled(
    d: TickData,
    startCfg: number | null,
    endCfg: number | null,
    control: RunControl | undefined,
  ): EngineOutput {
    const time = d.time;
    const bids = d.bid;
    const asks = d.ask;
    const vols = d.volume;
    const n = time.length;
    const start = startCfg ?? (time[0] as number);
    const end = endCfg ?? Number.POSITIVE_INFINITY;
    const pacer = new Pacer(control?.shouldStop);
    let nextPoll = 0;
    const base = this.base;
    const tf = base.tf;
    const ctx = this.ctx;
    const onTick = this.onTick;

    let prevBid = Number.NaN;
    let prevAsk = Number.NaN;
    let started = false;
    let t0 = 0;
    let t1 = 0;
    let events = 0;
    let p0 = 0;

    for (let i = 0; i < n; i++) {
      if (i >= nextPoll) nextPoll = pacer.poll(i);
      p0 = now();
      const t = time[i] as number;
      if (t > end) break;
      const bid = bids[i] as number;
      const ask = asks[i] as number;
      const v = vols === undefined ? 1 : (vols[i] as number);
      this.addMs(P_PRICES, now() - p0);
      this.addCount(P_PRICES, 1);

      let decClosed = false;
      const rolls = t >= base.end;
      if (rolls && base.has) {
        p0 = now();
        decClosed = this.roll(t);
        this.addMs(P_HISTORY, now() - p0);
        if (decClosed && t >= start) this.profiledSample(this.decisionTime, prevBid, prevAsk);
      }
      if (ctx.side !== 0) {
        p0 = now();
        this.exitTick(t, bid, ask);
        this.addMs(P_ORDER, now() - p0);
        this.addCount(P_ORDER, 1);
      }
      if (this.pending !== null || !Number.isNaN(ctx.trail)) {
        p0 = now();
        this.busyTick(t, bid, ask, i);
        this.addMs(P_ORDER, now() - p0);
      }
      p0 = now();
      if (rolls) {
        base.start(Math.floor(t / tf) * tf, bid, bid, bid, bid, v);
      } else {
        if (bid > base.high) base.high = bid;
        else if (bid < base.low) base.low = bid;
        base.close = bid;
        base.volume = base.volume + v;
      }
      this.addMs(P_RENDER, now() - p0);
      this.addCount(P_RENDER, 1);

      if (t >= start) {
        if (!started) {
          started = true;
          t0 = t;
        }
        if (decClosed || onTick) {
          ctx.t = t;
          ctx.bid = bid;
          ctx.ask = ask;
          this.event = i;
          this.decide(t);
        }
      }
      prevBid = bid;
      prevAsk = ask;
      t1 = t;
      events++;
    }
    pacer.finish();

    if (started) {
      ctx.t = t1;
      ctx.bid = prevBid;
      ctx.ask = prevAsk;
      this.finish(t1, prevBid, prevAsk);
    }
    return this.output(started ? t0 : 0, started ? t1 : 0, events);
  }

  runBars(
    d: BarData,
    startCfg: number | null,
    endCfg: number | null,
    fillAt: 'open' | 'close',
    control: RunControl | undefined,
  ): EngineOutput {
    const time = d.time;
    const opens = d.open;
    const highs = d.high;
    const lows = d.low;
    const closes = d.close;
    const vols = d.volume;
    const n = time.length;
    const start = startCfg ?? (time[0] as number);
    const end = endCfg ?? Number.POSITIVE_INFINITY;
    const pacer = new Pacer(control?.shouldStop);
    let nextPoll = 0;
    const base = this.base;
    const tf = base.tf;
    const ctx = this.ctx;
    const onTick = this.onTick;
    const spread = this.spread;
    const atOpen = fillAt === 'open';
    const prof = this.prof;

    let started = false;
    let t0 = 0;
    let last = -1;
    let events = 0;
    let p0 = 0;

    for (let i = 0; i < n; i++) {
      if (i >= nextPoll) nextPoll = pacer.poll(i);
      if (prof) p0 = now();
      const t = time[i] as number;
      if (t > end) break;
      const o = opens[i] as number;
      const h = highs[i] as number;
      const l = lows[i] as number;
      if (prof) {
        this.addMs(P_PRICES, now() - p0);
        this.addCount(P_PRICES, 1);
      }

      let decClosed = false;
      if (i > 0) {
        if (prof) p0 = now();
        decClosed = this.roll(t);
        if (prof) this.addMs(P_HISTORY, now() - p0);
        if (decClosed && t >= start) {
          const c = closes[i - 1] as number;
          if (prof) this.profiledSample(this.decisionTime, c, c + spread);
          else this.sample(this.decisionTime, c, c + spread);
        }
      }
      if (t >= start) {
        if (!started) {
          started = true;
          t0 = t;
        }
        // With no closed bar yet (bar 0) there is nothing to decide on, nor quotes for fillAt close.
        if (i > 0 && (decClosed || onTick)) {
          if (atOpen) {
            ctx.t = t;
            ctx.bid = o;
            ctx.ask = o + spread;
          } else {
            const c = closes[i - 1] as number;
            ctx.t = (time[i - 1] as number) + tf;
            ctx.bid = c;
            ctx.ask = c + spread;
          }
          this.event = i;
          this.decide(ctx.t);
        }
      }
      if (ctx.side !== 0) {
        if (prof) {
          p0 = now();
          this.exitBar(t, o, h, l, spread);
          this.addMs(P_ORDER, now() - p0);
          this.addCount(P_ORDER, 1);
        } else {
          this.exitBar(t, o, h, l, spread);
        }
      }
      if (this.pending !== null || !Number.isNaN(ctx.trail)) {
        if (prof) p0 = now();
        this.busyBar(t, o, h, l, closes[i] as number, spread, i);
        if (prof) this.addMs(P_ORDER, now() - p0);
      }
      if (prof) p0 = now();
      base.start(t, o, h, l, closes[i] as number, vols[i] as number);
      if (prof) {
        this.addMs(P_RENDER, now() - p0);
        this.addCount(P_RENDER, 1);
      }
      last = i;
      events++;
    }
    pacer.finish();

    let t1 = 0;
    if (started) {
      const c = closes[last] as number;
      t1 = (time[last] as number) + tf;
      ctx.t = t1;
      ctx.bid = c;
      ctx.ask = c + spread;
      this.finish(t1, c, c + spread);
    }
    return this.output(started ? t0 : 0, t1, events);
  }

  /** End of data: close the position (reason `end`), close every bar, take the last sample. */
  private finish(time: number, bid: number, ask: number): void {
    const prof = this.prof;
    if (this.ctx.side !== 0) {
      const o0 = prof ? now() : 0;
      this.closeMarket('end', time);
      if (prof) this.addMs(P_ORDER, now() - o0);
    }
    const h0 = prof ? now() : 0;
    const decided = this.closeAll();
    if (prof) this.addMs(P_HISTORY, now() - h0);
    if (decided) {
      if (prof) this.profiledSample(this.decisionTime, bid, ask);
      else this.sample(this.decisionTime, bid, ask);
    }
  }

  private output(t0: number, t1: number, events: number): EngineOutput {
    const equity = {
      time: this.sTime.slice(0, this.sN),
      equity: this.sEquity.slice(0, this.sN),
      balance: this.sBalance.slice(0, this.sN),
    };
    let totalCommission = 0;
    for (let i = 0; i < this.trades.length; i++)
      totalCommission = totalCommission + (this.trades[i] as Trade).commission;
    const metrics = computeMetrics({
      initialBalance: this.initialBalance,
      finalBalance: this.ctx.balance,
      t0,
      t1,
      equity,
      trades: this.trades,
      rejectedOrders: this.rejections.length,
      totalCommission,
      periodsPerYear: this.periodsPerYear,
    });
    let profile: Profile | null = null;
    if (this.prof) {
      const step = (k: number) => ({ ms: this.pMs[k] as number, count: this.pCount[k] as number });
      profile = {
        updatePrices: step(P_PRICES),
        barRendering: step(P_RENDER),
        barHistory: step(P_HISTORY),
        workerDecision: step(P_WORKER),
        orderExecution: step(P_ORDER),
        liveUpdate: step(P_LIVE),
      };
    }
    return { trades: this.trades, equity, metrics, rejections: this.rejections, profile, events };
  }
}
