//! The event loop and the trade simulator (docs/semantics.md sections 2, 4, 5, 6 and 8).
//!
//! The per-tick path only compares the tick's time with the next base-bar boundary, updates the
//! forming base bar and, while a position is open, compares one price with its exit levels.
//! Everything else (closing bars, workers, rules, orders) happens at bar closes, except while a
//! pending order or a trailing stop is active: then every tick also checks the order's trigger
//! and moves the stop, and no tick is skipped as ordinary. The loop is
//! compiled once with profiling and once without, so the timers cost nothing when off.

use crate::bars::{add_price, extend_bar, open_bar, Aggregate, Ring};
use crate::config::{FillAt, RunConfig};
use crate::data::{Bar, BarData, MarketData, TickData};
use crate::error::{Error, ErrorKind};
use crate::expr::{js_max, js_min, AccountField, BarField, Env, PositionField, QuoteField};
use crate::indicators::Indicator;
use crate::ir::{CompiledAction, CompiledLevel, CompiledOrder, CompiledSizing, OrderType, Program};
use crate::metrics::{compute_with, DayEnds, MetricsInput};
use crate::profile::{Profile, Step};
use crate::results::{EquityCurve, ExitReason, RejectReason, Rejection, RunOutput, Trade};
use crate::series::{first_at_or_after, SeriesCache, SharedSeries};
use crate::timeframe::Timeframe;
use crate::vm::{Block, Lane, LaneQuotes, Lanes, TickLanes, WorkerRef, LANES};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events before the first look at the cancel flag and the deadline.
const FIRST_CHECK: usize = 256;
/// The most events between two looks, however cheap they are.
const MAX_CHECK_EVERY: usize = 1 << 20;
/// The time between two looks that the pacing aims at: a stop or a deadline is seen within about
/// this long (plus one event), whatever an event costs.
const CHECK_AIM: Duration = Duration::from_millis(1);

/// Cooperative stops: a cancel flag and a deadline, looked at by the event loops at a pace that
/// adapts to the cost of an event (`Pacer`).
#[derive(Debug, Clone, Default)]
pub struct RunControl {
    pub cancel: Option<Arc<AtomicBool>>,
    pub deadline: Option<Instant>,
}

impl RunControl {
    fn check(&self) -> Result<(), Error> {
        if self.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(Error::new(ErrorKind::Cancelled, "run", "cancelled"));
        }
        self.check_deadline()
    }

    fn check_deadline(&self) -> Result<(), Error> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Error::new(ErrorKind::Timeout, "run", "deadline exceeded"));
        }
        Ok(())
    }
}

/// How many events run between two looks at a `RunControl`: doubled while looks come sooner than
/// `CHECK_AIM` apart, halved when they come later, so a slow rule is looked at as often as a cheap
/// one is. The pace changes only where the loops pause to look, never what they compute.
struct Pacer {
    every: usize,
    last: Option<Instant>,
}

impl Pacer {
    fn new(control: &RunControl) -> Pacer {
        match control.cancel.is_some() || control.deadline.is_some() {
            true => Pacer {
                every: FIRST_CHECK,
                last: Some(Instant::now()),
            },
            false => Pacer {
                every: usize::MAX,
                last: None,
            },
        }
    }

    /// Looks at `control`; returns how many events may run before the next look.
    fn check(&mut self, control: &RunControl) -> Result<usize, Error> {
        let Some(last) = self.last else {
            return Ok(self.every);
        };
        control.check()?;
        let now = Instant::now();
        let gap = now - last;
        self.last = Some(now);
        if gap < CHECK_AIM / 2 {
            self.every = (self.every * 2).min(MAX_CHECK_EVERY);
        } else if gap > CHECK_AIM * 2 {
            self.every = (self.every / 2).max(1);
        }
        Ok(self.every)
    }
}

pub fn run(data: &MarketData, program: &Program, config: &RunConfig) -> Result<RunOutput, Error> {
    run_with_control(data, program, config, &RunControl::default())
}

pub fn run_with_control(
    data: &MarketData,
    program: &Program,
    config: &RunConfig,
    control: &RunControl,
) -> Result<RunOutput, Error> {
    run_inner(data, program, config, control, None)
}

/// `run_with_control` reading worker outputs from `cache` where it holds them, instead of
/// updating the worker's own indicator. The output is identical; a cache built for other data,
/// another `end` or another base timeframe is ignored.
pub fn run_with_cache(
    data: &MarketData,
    program: &Program,
    config: &RunConfig,
    control: &RunControl,
    cache: &SeriesCache,
) -> Result<RunOutput, Error> {
    run_inner(data, program, config, control, Some(cache))
}

fn run_inner(
    data: &MarketData,
    program: &Program,
    config: &RunConfig,
    control: &RunControl,
    cache: Option<&SeriesCache>,
) -> Result<RunOutput, Error> {
    config.validate()?;
    match data {
        MarketData::Ticks(ticks) => {
            if config.profile {
                run_ticks::<true>(ticks, program, config, control, cache)
            } else {
                run_ticks::<false>(ticks, program, config, control, cache)
            }
        }
        MarketData::Bars(bars) => {
            program.check_bar_timeframe(bars.timeframe)?;
            if config.profile {
                run_bars::<true>(bars, program, config, control, cache)
            } else {
                run_bars::<false>(bars, program, config, control, cache)
            }
        }
    }
}

/// The events read: those up to `end` (a binary search; later ones are never touched).
pub(crate) fn read_count(time: &[f64], config: &RunConfig) -> usize {
    match config.end {
        Some(end) => time.partition_point(|&t| t <= end),
        None => time.len(),
    }
}

/// The effective start, the first event at or after it, and whether one was read.
fn first_live(time: &[f64], n: usize, config: &RunConfig) -> (f64, Option<usize>) {
    let start = config.start.unwrap_or(time[0]);
    let i = time[..n].partition_point(|&t| t < start);
    (start, (i < n).then_some(i))
}

#[derive(Debug, Clone, Copy)]
struct Quotes {
    bid: f64,
    ask: f64,
    /// The event's time, which is also the time of any fill it makes.
    time: f64,
}

#[derive(Debug, Clone, Copy)]
struct Position {
    /// 1 long, -1 short, 0 flat.
    side: i8,
    lots: f64,
    units: f64,
    entry: f64,
    entry_time: f64,
    entry_commission: f64,
    sl: f64,
    tp: f64,
    /// The trailing distance in price units; NaN without a trailing stop.
    trail: f64,
}

const FLAT: Position = Position {
    side: 0,
    lots: 0.0,
    units: 0.0,
    entry: f64::NAN,
    entry_time: f64::NAN,
    entry_commission: 0.0,
    sl: f64::NAN,
    tp: f64::NAN,
    trail: f64::NAN,
};

/// An order's size as evaluated: lots, or the percentage of equity risked at the stop-loss.
#[derive(Debug, Clone, Copy)]
enum Size {
    Lots(f64),
    Risk(f64),
}

/// A level as evaluated, before it is placed relative to a fill.
#[derive(Debug, Clone, Copy)]
enum LevelValue {
    None,
    Pips(f64),
    Price(f64),
}

/// Everything an opening needs besides the side and the fill, evaluated at the decision.
#[derive(Debug, Clone, Copy)]
struct Entry {
    size: Size,
    sl: LevelValue,
    tp: LevelValue,
    /// The trailing distance in pips, if the order trails.
    trail: Option<f64>,
}

/// A limit or stop order waiting for its price.
#[derive(Debug, Clone, Copy)]
struct Pending {
    side: i8,
    stop: bool,
    price: f64,
    entry: Entry,
    /// The event that placed it; it triggers from the next event on.
    placed: usize,
}

/// Where a worker's outputs come from.
enum Feed<'a> {
    Own(Indicator),
    /// Computed once for the batch; read by the count of closed bars of the worker's timeframe.
    Shared(&'a SharedSeries),
}

struct Worker<'a> {
    feed: Feed<'a>,
    outputs: usize,
    history: Ring<[f64; 3]>,
}

/// One built timeframe: slot 0 is the base, then the larger ones in ascending order.
struct Frame {
    tf: Timeframe,
    ms: f64,
    /// The forming aggregate (larger timeframes only; the base bar lives in the event loop).
    forming: Aggregate,
    history: Ring<Bar>,
    workers: Vec<usize>,
    /// Bars closed so far: the index into shared series.
    closed: usize,
}

struct Sim<'a, const P: bool> {
    program: &'a Program,
    pip: f64,
    contract: f64,
    lot_step: f64,
    min_lot: f64,
    max_lot: f64,
    margin_rate: f64,
    commission_per_lot: f64,
    commission_percent: f64,
    slippage: f64,
    frames: Vec<Frame>,
    /// `frames` index per `Timeframe::index`, `usize::MAX` where not built.
    slot: [usize; 7],
    decision_slot: usize,
    workers: Vec<Worker<'a>>,
    pos: Position,
    pending: Option<Pending>,
    /// A pending order or a trailing stop is active: every event needs the full steps.
    busy: bool,
    /// The index of the current event (for pending orders placed on an earlier one).
    event: usize,
    /// The price an open position exits on (bid for long, ask for short) and the levels it exits
    /// at or beyond; NaN levels never trigger, which is also how a flat account skips the check.
    exit_on_ask: bool,
    exit_low: f64,
    exit_high: f64,
    balance: f64,
    trades: Vec<Trade>,
    rejections: Vec<Rejection>,
    equity: EquityCurve,
    /// The day ends of the batch's equity times, when the run belongs to a batch that shares them.
    days: Option<&'a DayEnds>,
    /// Per rule: whether its gate (`vm::Split`) is true and it would do something if it fired.
    /// A rule whose gate is closed cannot fire until a bar that the gate reads closes or the
    /// position or balance changes, which set `gates_dirty`. Off when profiling, whose step
    /// counts follow the plain loop.
    gates: Vec<bool>,
    gates_dirty: bool,
    /// Per frame slot: a gate reads that timeframe.
    gate_slots: Vec<bool>,
    /// Lane registers for `quiet_ticks`.
    lane_regs: Vec<Lane>,
    /// The conditions a quiet run of bars scans (`quiet_bars`), kept so that a run allocates
    /// nothing.
    active: Vec<&'a Block>,
    /// Ticks left before `quiet_ticks` looks again, after a look found a rule firing at once.
    scan_backoff: usize,
    scan_skip: usize,
    spent: [Duration; 6],
    counts: [u64; 6],
    mark: Option<Instant>,
}

impl<'a, const P: bool> Sim<'a, P> {
    fn new(
        program: &'a Program,
        config: &RunConfig,
        base: Timeframe,
        cache: Option<&'a SeriesCache>,
        own: &'a [Option<SharedSeries>],
    ) -> Self {
        let i = &config.instrument;
        let mut frames = Vec::new();
        let mut slot = [usize::MAX; 7];
        for tf in Timeframe::ALL {
            if tf == base || (tf > base && program.used[tf.index()]) {
                slot[tf.index()] = frames.len();
                frames.push(Frame {
                    tf,
                    ms: tf.ms(),
                    forming: Aggregate::NONE,
                    history: Ring::new(program.bar_depth[tf.index()]),
                    workers: Vec::new(),
                    closed: 0,
                });
            }
        }
        let workers = program
            .workers
            .iter()
            .enumerate()
            .map(|(w, plan)| {
                // An unread worker changes nothing; the profiled loop still updates it, as the
                // step counts of the plain loop include it.
                if plan.depth > 0 || P {
                    frames[slot[plan.timeframe.index()]].workers.push(w);
                }
                // An unread worker keeps no history, so it needs no values at all.
                let shared = cache
                    .filter(|_| plan.depth > 0)
                    .and_then(|c| c.get(plan.timeframe, &plan.spec))
                    .or_else(|| own.get(w).and_then(Option::as_ref));
                Worker {
                    feed: match shared {
                        Some(series) => Feed::Shared(series),
                        None => Feed::Own(Indicator::new(&plan.spec)),
                    },
                    outputs: plan.outputs,
                    history: Ring::new(plan.depth),
                }
            })
            .collect();
        let mut gate_slots = vec![false; frames.len()];
        for rule in &program.rules {
            for tf in Timeframe::ALL {
                if rule.split.gate_timeframes[tf.index()] && slot[tf.index()] != usize::MAX {
                    gate_slots[slot[tf.index()]] = true;
                }
            }
        }
        let lanes = program
            .rules
            .iter()
            .filter_map(|r| r.split.fast.as_ref())
            .map(Block::regs)
            .max()
            .unwrap_or(0);
        let lane_regs = vec![[0.0; LANES]; lanes];
        Sim {
            program,
            pip: i.pip_size,
            contract: i.contract_size,
            lot_step: i.lot_step,
            min_lot: i.min_lot,
            max_lot: i.max_lot,
            margin_rate: i.margin_rate,
            commission_per_lot: i.commission_per_lot,
            commission_percent: i.commission_percent,
            slippage: i.slippage_pips * i.pip_size,
            decision_slot: slot[program.decision.index()],
            frames,
            slot,
            workers,
            pos: FLAT,
            pending: None,
            busy: false,
            event: 0,
            exit_on_ask: false,
            exit_low: f64::NAN,
            exit_high: f64::NAN,
            balance: config.account.balance,
            trades: Vec::new(),
            rejections: Vec::new(),
            equity: EquityCurve::default(),
            days: cache.map(SeriesCache::days),
            gates: vec![true; program.rules.len()],
            gates_dirty: true,
            gate_slots,
            lane_regs,
            active: Vec::with_capacity(program.rules.len()),
            scan_backoff: 1,
            scan_skip: 0,
            spent: [Duration::ZERO; 6],
            counts: [0; 6],
            mark: None,
        }
    }

    /// Reserves the equity columns for a run over `time`: one sample per decision bar at most,
    /// so that the loop never grows them.
    fn reserve_equity(&mut self, time: &[f64]) {
        let (Some(first), Some(last)) = (time.first(), time.last()) else {
            return;
        };
        let decision_ms = self.program.decision.ms();
        let bars = ((last - first) / decision_ms).max(0.0) + 2.0;
        let cap = (bars.min(time.len() as f64 + 1.0)) as usize;
        let e = &mut self.equity;
        e.time.reserve_exact(cap);
        e.equity.reserve_exact(cap);
        e.balance.reserve_exact(cap);
    }

    /// Profiling: charges the time since the previous lap to `step`. A no-op when off.
    #[inline(always)]
    fn lap(&mut self, step: Step, count: u64) {
        if P {
            let now = Instant::now();
            if let Some(mark) = self.mark {
                self.spent[step as usize] += now - mark;
            }
            self.mark = Some(now);
            self.counts[step as usize] += count;
        }
    }

    fn profile(&self) -> Option<Profile> {
        P.then(|| {
            let mut profile = Profile::default();
            for (k, stats) in profile.steps.iter_mut().enumerate() {
                stats.ms = self.spent[k].as_secs_f64() * 1000.0;
                stats.count = self.counts[k];
            }
            profile
        })
    }

    /// Pushes a closed bar to its timeframe's history and updates that timeframe's workers.
    fn close_in(&mut self, slot: usize, bar: Bar) {
        self.gates_dirty |= self.gate_slots[slot];
        self.frames[slot].history.push(bar);
        self.lap(Step::BarHistory, 1);
        let k = self.frames[slot].closed;
        self.frames[slot].closed = k + 1;
        let frame = &self.frames[slot];
        for &w in &frame.workers {
            let worker = &mut self.workers[w];
            match &mut worker.feed {
                Feed::Own(indicator) => {
                    indicator.update(&bar);
                    if worker.history.capacity() > 0 {
                        let mut out = [f64::NAN; 3];
                        for (i, o) in out.iter_mut().enumerate().take(worker.outputs) {
                            *o = indicator.output(i);
                        }
                        worker.history.push(out);
                    }
                }
                Feed::Shared(series) => worker.history.push(series.at(k)),
            }
        }
        let n = frame.workers.len() as u64;
        self.lap(Step::WorkerDecision, n);
    }

    /// Step 1: the base bar closes, feeds the larger aggregates, and those whose bucket `t` has
    /// left close too. Returns the open time of the decision bar if one closed.
    fn roll(&mut self, base_bar: Bar, t: f64) -> Option<f64> {
        self.close_in(0, base_bar);
        let mut decided = (self.decision_slot == 0).then_some(base_bar.time);
        for s in 1..self.frames.len() {
            let tf = self.frames[s].tf;
            self.frames[s].forming.add(tf, &base_bar);
        }
        self.lap(Step::BarHistory, 0);
        for s in 1..self.frames.len() {
            let ms = self.frames[s].ms;
            if let Some(bar) = self.frames[s].forming.close_before(t, ms) {
                self.close_in(s, bar);
                if s == self.decision_slot {
                    decided = Some(bar.time);
                }
            }
        }
        decided
    }

    fn pnl(&self, bid: f64, ask: f64) -> f64 {
        match self.pos.side {
            1 => (bid - self.pos.entry) * self.pos.units,
            -1 => (self.pos.entry - ask) * self.pos.units,
            _ => 0.0,
        }
    }

    fn sample(&mut self, time: f64, bid: f64, ask: f64) {
        let equity = self.balance + self.pnl(bid, ask);
        self.equity.time.push(time);
        self.equity.equity.push(equity);
        self.equity.balance.push(self.balance);
        self.lap(Step::LiveUpdate, 1);
    }

    fn commission(&self, lots: f64, price: f64) -> f64 {
        lots * self.commission_per_lot + lots * self.contract * price * self.commission_percent / 100.0
    }

    fn set_exit_levels(&mut self) {
        match self.pos.side {
            1 => (self.exit_on_ask, self.exit_low, self.exit_high) = (false, self.pos.sl, self.pos.tp),
            -1 => (self.exit_on_ask, self.exit_low, self.exit_high) = (true, self.pos.tp, self.pos.sl),
            _ => (self.exit_on_ask, self.exit_low, self.exit_high) = (false, f64::NAN, f64::NAN),
        }
        self.set_busy();
    }

    fn set_busy(&mut self) {
        self.busy = self.pending.is_some() || !self.pos.trail.is_nan();
    }

    fn set_pending(&mut self, pending: Option<Pending>) {
        // Whether an order is pending decides which rules are inert (`refresh_gates`).
        if self.pending.is_some() != pending.is_some() {
            self.gates_dirty = true;
        }
        self.pending = pending;
        self.set_busy();
    }

    fn close_position(&mut self, exit: f64, time: f64, reason: ExitReason) {
        let p = self.pos;
        let long = p.side == 1;
        let gross = if long {
            (exit - p.entry) * p.units
        } else {
            (p.entry - exit) * p.units
        };
        let exit_commission = self.commission(p.lots, exit);
        self.balance = self.balance + gross - exit_commission;
        let commission = p.entry_commission + exit_commission;
        let pips = if long {
            (exit - p.entry) / self.pip
        } else {
            (p.entry - exit) / self.pip
        };
        self.trades.push(Trade {
            id: self.trades.len() as u32,
            side: p.side,
            lots: p.lots,
            entry_time: p.entry_time,
            entry_price: p.entry,
            exit_time: time,
            exit_price: exit,
            sl: p.sl,
            tp: p.tp,
            gross_pnl: gross,
            commission,
            pnl: gross - commission,
            pips,
            reason,
        });
        self.pos = FLAT;
        self.gates_dirty = true;
        self.set_exit_levels();
    }

    /// A market close: a long sells at the bid, a short buys at the ask, both with slippage.
    fn market_close(&mut self, q: Quotes, reason: ExitReason) {
        let exit = if self.pos.side == 1 {
            q.bid - self.slippage
        } else {
            q.ask + self.slippage
        };
        self.close_position(exit, q.time, reason);
    }

    /// Tick mode step 3, once the fast check in the loop saw a level reached.
    #[cold]
    fn exit_tick(&mut self, bid: f64, ask: f64, time: f64) {
        let (sl_hit, tp_hit, price) = if self.pos.side == 1 {
            (bid <= self.pos.sl, bid >= self.pos.tp, bid)
        } else {
            (ask >= self.pos.sl, ask <= self.pos.tp, ask)
        };
        if sl_hit {
            self.close_position(price, time, ExitReason::StopLoss);
        } else if tp_hit {
            self.close_position(price, time, ExitReason::TakeProfit);
        }
    }

    /// Bar mode step 4: intrabar levels from the bar's bid range plus the spread for shorts.
    fn exit_bar(&mut self, bar: &Bar, spread: f64) {
        let (p, o) = (self.pos, bar.open);
        if p.side == 1 {
            if bar.low <= p.sl {
                self.close_position(js_min(o, p.sl), bar.time, ExitReason::StopLoss);
            } else if bar.high >= p.tp {
                self.close_position(js_max(o, p.tp), bar.time, ExitReason::TakeProfit);
            }
        } else if p.side == -1 {
            if bar.high + spread >= p.sl {
                self.close_position(js_max(o + spread, p.sl), bar.time, ExitReason::StopLoss);
            } else if bar.low + spread <= p.tp {
                self.close_position(js_min(o + spread, p.tp), bar.time, ExitReason::TakeProfit);
            }
        }
    }

    /// Step 3 (tick mode) after the stop-loss/take-profit check: the pending order's trigger, then
    /// the trailing stop of the position open at that point.
    #[cold]
    fn busy_tick(&mut self, bid: f64, ask: f64, time: f64) {
        if let Some(p) = self.pending.filter(|p| p.placed < self.event) {
            // The trigger price is the tick's executable price: the ask for a buy, the bid for a sell.
            let at = if p.side == 1 { ask } else { bid };
            let hit = match (p.side == 1, p.stop) {
                (true, false) => ask <= p.price,
                (true, true) => ask >= p.price,
                (false, false) => bid >= p.price,
                (false, true) => bid <= p.price,
            };
            if hit {
                let fill = match (p.side == 1, p.stop) {
                    (true, true) => at + self.slippage,
                    (false, true) => at - self.slippage,
                    _ => at,
                };
                self.trigger(p, at, fill, time);
            }
        }
        let d = self.pos.trail;
        if !d.is_nan() {
            self.pos.sl = if self.pos.side == 1 {
                js_max(self.pos.sl, bid - d)
            } else {
                js_min(self.pos.sl, ask + d)
            };
            self.set_exit_levels();
        }
        self.lap(Step::OrderExecution, 0);
    }

    /// Step 4 (bar mode) after the intrabar stop-loss/take-profit check: the pending order's
    /// trigger inside the bar, then the trailing stop of the position open at that point, moved
    /// with the bar's close.
    #[cold]
    fn busy_bar(&mut self, bar: &Bar, spread: f64) {
        if let Some(p) = self.pending.filter(|p| p.placed < self.event) {
            let o = bar.open;
            // The price the order executes at before slippage: an ask for a buy, a bid for a sell.
            let at = match (p.side == 1, p.stop) {
                (true, false) => (bar.low + spread <= p.price).then(|| js_min(o + spread, p.price)),
                (true, true) => (bar.high + spread >= p.price).then(|| js_max(o + spread, p.price)),
                (false, false) => (bar.high >= p.price).then(|| js_max(o, p.price)),
                (false, true) => (bar.low <= p.price).then(|| js_min(o, p.price)),
            };
            if let Some(at) = at {
                let fill = match (p.side == 1, p.stop) {
                    (true, true) => at + self.slippage,
                    (false, true) => at - self.slippage,
                    _ => at,
                };
                self.trigger(p, at, fill, bar.time);
            }
        }
        let d = self.pos.trail;
        if !d.is_nan() {
            self.pos.sl = if self.pos.side == 1 {
                js_max(self.pos.sl, bar.close - d)
            } else {
                js_min(self.pos.sl, bar.close + spread + d)
            };
            self.set_exit_levels();
        }
        self.lap(Step::OrderExecution, 0);
    }

    /// A triggered pending order: removed; dropped against a position on its side; otherwise an
    /// opposite position closes at the trigger price `at` (with market slippage) and the order
    /// opens at `fill`.
    fn trigger(&mut self, p: Pending, at: f64, fill: f64, time: f64) {
        self.set_pending(None);
        if self.pos.side == p.side {
            return;
        }
        if self.pos.side == -p.side {
            let exit = if self.pos.side == 1 {
                at - self.slippage
            } else {
                at + self.slippage
            };
            self.close_position(exit, time, ExitReason::Reverse);
            self.lap(Step::OrderExecution, 1);
        }
        self.open_at(p.side, fill, p.entry, time);
    }

    fn reject(&mut self, time: f64, side: i8, lots: f64, reason: RejectReason, required: f64, free: f64) {
        self.rejections.push(Rejection {
            time,
            side,
            lots,
            reason,
            required,
            free,
        });
    }

    fn eval(&self, block: &Block, q: Quotes, forming: Option<&Bar>) -> f64 {
        block.eval(&View {
            sim: self,
            q,
            forming,
        })
    }

    /// Whether a decision at this event can do anything: some rule has an open gate. Always true
    /// when profiling.
    fn may_decide(&mut self, q: Quotes) -> bool {
        if P {
            return true;
        }
        self.refresh_gates(q);
        self.gates.contains(&true)
    }

    /// Re-evaluates the gates if something they read changed. A rule is also closed while firing
    /// it would change nothing: every action opens on the side already held, closes a flat
    /// account or cancels no pending order.
    fn refresh_gates(&mut self, q: Quotes) {
        if !self.gates_dirty {
            return;
        }
        self.gates_dirty = false;
        let program = self.program;
        let (side, pending) = (self.pos.side, self.pending.is_some());
        for (r, rule) in program.rules.iter().enumerate() {
            self.gates[r] = !rule.inert(side, pending)
                && rule
                    .split
                    .gate
                    .as_ref()
                    .map_or(true, |g| self.eval(g, q, None) != 0.0);
        }
    }

    /// Tick mode with decisions on every tick: how many leading ticks of a run no rule fires on,
    /// the run holding no bar boundary and no exit (`ordinary_run`) so that nothing a gate reads
    /// changes inside it. The rules with an open gate have their other conjuncts evaluated over
    /// lanes of ticks; a tick before `start` never decides.
    fn quiet_ticks(&mut self, time: &[f64], bid: &[f64], ask: &[f64], start: f64) -> usize {
        let n = time.len();
        if self.scan_skip > 0 {
            self.scan_skip -= 1;
            return 0;
        }
        let q = Quotes {
            bid: bid[0],
            ask: ask[0],
            time: time[0],
        };
        self.refresh_gates(q);
        let program = self.program;
        let live = time.partition_point(|&t| t < start);
        let mut open = program
            .rules
            .iter()
            .zip(&self.gates)
            .filter(|(_, &g)| g)
            .map(|(r, _)| r.split.fast.as_ref().filter(|b| b.lanes()))
            .peekable();
        if open.peek().is_none() {
            return n;
        }
        let quiet = if open.clone().any(|f| f.is_none()) {
            live
        } else {
            let mut regs = std::mem::take(&mut self.lane_regs);
            let view = View {
                sim: self,
                q,
                forming: None,
            };
            let mut k = live;
            'scan: while k < n {
                let lanes = LaneQuotes::load(&time[k..], &bid[k..], &ask[k..]);
                let m = (n - k).min(LANES);
                let mut fire = [false; LANES];
                let env = TickLanes {
                    env: &view,
                    q: &lanes,
                };
                for fast in open.clone().flatten() {
                    let out = fast.run_lanes(&env, &mut regs);
                    for l in 0..LANES {
                        fire[l] |= out[l] != 0.0;
                    }
                }
                if let Some(l) = fire[..m].iter().position(|&f| f) {
                    k += l;
                    break 'scan;
                }
                k += m;
            }
            self.lane_regs = regs;
            k.min(n)
        };
        // A rule that fires at once, tick after tick, is better served by the plain loop.
        if quiet == 0 {
            self.scan_skip = self.scan_backoff;
            self.scan_backoff = (self.scan_backoff * 2).min(64);
        } else {
            self.scan_backoff = 1;
        }
        quiet
    }

    fn level_value(&self, level: &Option<CompiledLevel>, q: Quotes, forming: Option<&Bar>) -> LevelValue {
        match level {
            None => LevelValue::None,
            Some(CompiledLevel::Pips(c)) => LevelValue::Pips(self.eval(c, q, forming)),
            Some(CompiledLevel::Price(c)) => LevelValue::Price(self.eval(c, q, forming)),
        }
    }

    /// The order's size, levels and trail evaluated with the decision's state.
    fn entry(&self, order: &CompiledOrder, q: Quotes, forming: Option<&Bar>) -> Entry {
        Entry {
            size: match &order.sizing {
                CompiledSizing::Lots(c) => Size::Lots(self.eval(c, q, forming)),
                CompiledSizing::Risk(c) => Size::Risk(self.eval(c, q, forming)),
            },
            sl: self.level_value(&order.sl, q, forming),
            tp: self.level_value(&order.tp, q, forming),
            trail: order.trail.as_ref().map(|c| self.eval(c, q, forming)),
        }
    }

    /// A level as a price: the price form as given, the pips form measured from the fill, below
    /// it for a long's stop-loss and a short's take-profit, above it otherwise.
    fn level(&self, level: LevelValue, below: bool, fill: f64) -> Option<f64> {
        match level {
            LevelValue::None => None,
            LevelValue::Price(x) => Some(x),
            LevelValue::Pips(pips) => Some(if below {
                fill - pips * self.pip
            } else {
                fill + pips * self.pip
            }),
        }
    }

    /// Opening step 1 on a requested size: the lots rounded down to the step, or why not.
    fn round_lots(&self, requested: f64) -> Result<f64, RejectReason> {
        if requested.is_nan() || requested <= 0.0 {
            return Err(RejectReason::InvalidLots);
        }
        let lots = (requested / self.lot_step + 1e-9).floor() * self.lot_step;
        if lots < self.min_lot {
            Err(RejectReason::MinLot)
        } else if lots > self.max_lot {
            Err(RejectReason::MaxLot)
        } else {
            Ok(lots)
        }
    }

    /// A buy or sell action: replaces the pending order; skipped on a position of its side; a
    /// market order reverses and opens here, a limit or stop order waits for its price.
    fn order(&mut self, side: i8, order: &CompiledOrder, q: Quotes, forming: Option<&Bar>) {
        self.set_pending(None);
        if self.pos.side == side {
            return;
        }
        match (order.order, &order.price) {
            (OrderType::Limit | OrderType::Stop, Some(price)) => {
                let price = self.eval(price, q, forming);
                let entry = self.entry(order, q, forming);
                self.lap(Step::WorkerDecision, 0);
                if price.is_nan() || price <= 0.0 {
                    let lots = match entry.size {
                        Size::Lots(x) => x,
                        Size::Risk(_) => f64::NAN,
                    };
                    self.reject(q.time, side, lots, RejectReason::InvalidPrice, f64::NAN, f64::NAN);
                    self.lap(Step::OrderExecution, 1);
                    return;
                }
                self.set_pending(Some(Pending {
                    side,
                    stop: order.order == OrderType::Stop,
                    price,
                    entry,
                    placed: self.event,
                }));
            }
            _ => {
                if self.pos.side == -side {
                    self.market_close(q, ExitReason::Reverse);
                    self.lap(Step::OrderExecution, 1);
                }
                let entry = self.entry(order, q, forming);
                self.lap(Step::WorkerDecision, 0);
                let fill = if side == 1 {
                    q.ask + self.slippage
                } else {
                    q.bid - self.slippage
                };
                self.open_at(side, fill, entry, q.time);
            }
        }
    }

    /// Opening steps 1 to 5 of section 4 at `fill`, on a flat account.
    fn open_at(&mut self, side: i8, fill: f64, entry: Entry, time: f64) {
        // The size as requested (what a rejection records) and the rounded lots; with risk
        // sizing both are known only once the stop-loss is.
        let (mut requested, mut lots) = (f64::NAN, f64::NAN);
        match entry.size {
            Size::Lots(x) => {
                requested = x;
                match self.round_lots(x) {
                    Ok(l) => lots = l,
                    Err(reason) => return self.refuse(time, side, x, reason),
                }
            }
            Size::Risk(r) => {
                if r.is_nan() || r <= 0.0 {
                    return self.refuse(time, side, f64::NAN, RejectReason::InvalidLots);
                }
            }
        }
        let long = side == 1;
        // NaN fails both comparisons, so a NaN level is rejected too.
        let on_side = |l: f64, below: bool| if below { l < fill } else { l > fill };
        let mut sl = f64::NAN;
        if let Some(l) = self.level(entry.sl, long, fill) {
            if !on_side(l, long) {
                return self.refuse(time, side, requested, RejectReason::InvalidSl);
            }
            sl = l;
        }
        let mut trail = f64::NAN;
        if let Some(pips) = entry.trail {
            let d = pips * self.pip;
            let l = if long { fill - d } else { fill + d };
            if !on_side(l, long) {
                return self.refuse(time, side, requested, RejectReason::InvalidSl);
            }
            sl = if sl.is_nan() {
                l
            } else if long {
                js_max(sl, l)
            } else {
                js_min(sl, l)
            };
            trail = d;
        }
        let tp = match self.level(entry.tp, !long, fill) {
            Some(l) if !on_side(l, !long) => {
                return self.refuse(time, side, requested, RejectReason::InvalidTp);
            }
            Some(l) => l,
            None => f64::NAN,
        };
        if let Size::Risk(r) = entry.size {
            // The account is flat here, so its equity is its balance.
            requested = self.balance * r / 100.0 / ((fill - sl).abs() * self.contract);
            match self.round_lots(requested) {
                Ok(l) => lots = l,
                Err(reason) => return self.refuse(time, side, requested, reason),
            }
        }
        let required = lots * self.contract * fill * self.margin_rate;
        let free = self.balance;
        if required > free {
            self.reject(time, side, requested, RejectReason::Margin, required, free);
            self.lap(Step::OrderExecution, 1);
            return;
        }
        let entry_commission = self.commission(lots, fill);
        self.balance -= entry_commission;
        self.pos = Position {
            side,
            lots,
            units: lots * self.contract,
            entry: fill,
            entry_time: time,
            entry_commission,
            sl,
            tp,
            trail,
        };
        self.gates_dirty = true;
        self.set_exit_levels();
        self.lap(Step::OrderExecution, 1);
    }

    /// A rejection other than `margin`.
    fn refuse(&mut self, time: f64, side: i8, lots: f64, reason: RejectReason) {
        self.reject(time, side, lots, reason, f64::NAN, f64::NAN);
        self.lap(Step::OrderExecution, 1);
    }

    /// Step 5: every rule in order, each seeing what the previous ones did.
    fn decide(&mut self, q: Quotes, forming: Option<&Bar>) {
        let program = self.program;
        for (r, rule) in program.rules.iter().enumerate() {
            // While the gates are current (nothing they read changed since `refresh_gates`, not
            // even through an earlier rule here), a closed gate or an inert rule cannot fire and
            // an open one fires exactly when its fast part is true.
            let fires = if !P && !self.gates_dirty {
                self.gates[r]
                    && rule
                        .split
                        .fast
                        .as_ref()
                        .map_or(true, |f| self.eval(f, q, forming) != 0.0)
            } else {
                self.eval(&rule.when, q, forming) != 0.0
            };
            if !fires {
                continue;
            }
            for action in &rule.then {
                match action {
                    CompiledAction::Close => {
                        if self.pos.side != 0 {
                            self.lap(Step::WorkerDecision, 0);
                            self.market_close(q, ExitReason::Signal);
                            self.lap(Step::OrderExecution, 1);
                        }
                    }
                    CompiledAction::Open(side, order) => {
                        self.lap(Step::WorkerDecision, 0);
                        self.order(*side, order, q, forming);
                    }
                    CompiledAction::Cancel => self.set_pending(None),
                }
            }
        }
        self.lap(Step::WorkerDecision, 1);
    }

    /// End of data: every forming bar closes; returns the decision bar's time if one closed.
    fn close_all(&mut self, base_bar: Bar) -> Option<f64> {
        self.roll(base_bar, f64::INFINITY)
    }

    fn finish(self, events: usize, t0: f64, t1: f64, periods_per_year: f64, initial: f64) -> RunOutput {
        let total_commission = self.trades.iter().fold(0.0, |sum, t| sum + t.commission);
        let input = MetricsInput {
            initial_balance: initial,
            final_balance: self.balance,
            t0,
            t1,
            equity: &self.equity,
            trades: &self.trades,
            rejected_orders: self.rejections.len() as u32,
            total_commission,
            periods_per_year,
        };
        let metrics = compute_with(&input, self.days);
        let profile = self.profile();
        RunOutput {
            trades: self.trades,
            equity: self.equity,
            metrics,
            rejections: self.rejections,
            profile,
            events: events as u64,
        }
    }
}

/// What the bar-mode loop and its quiet-bar scan share.
struct BarRun<'d> {
    bars: &'d BarData,
    n: usize,
    start: f64,
    spread: f64,
    base_ms: f64,
    fill_at_close: bool,
    /// Every bar after the first decides: on-tick decisions, or decisions on the base timeframe.
    every_bar: bool,
}

impl BarRun<'_> {
    /// The quotes a decision at bar `i` (> 0) sees: the previous close, or this bar's open.
    #[inline(always)]
    fn quotes(&self, i: usize) -> Quotes {
        let b = self.bars;
        if self.fill_at_close {
            let close = b.close[i - 1];
            Quotes {
                bid: close,
                ask: close + self.spread,
                time: b.time[i - 1] + self.base_ms,
            }
        } else {
            let open = b.open[i];
            Quotes {
                bid: open,
                ask: open + self.spread,
                time: b.time[i],
            }
        }
    }

    /// `quotes` for bars `k..k + LANES`, the lanes past the data repeating the last bar.
    fn lane_quotes(&self, k: usize) -> LaneQuotes {
        let mut q = LaneQuotes {
            bid: [0.0; LANES],
            ask: [0.0; LANES],
            time: [0.0; LANES],
        };
        if k >= 1 && k + LANES <= self.n {
            // All lanes inside the data: straight column reads.
            let b = self.bars;
            let (price, time, dt) = if self.fill_at_close {
                (
                    &b.close[k - 1..k - 1 + LANES],
                    &b.time[k - 1..k - 1 + LANES],
                    self.base_ms,
                )
            } else {
                (&b.open[k..k + LANES], &b.time[k..k + LANES], 0.0)
            };
            for l in 0..LANES {
                q.bid[l] = price[l];
                q.ask[l] = price[l] + self.spread;
                q.time[l] = if self.fill_at_close { time[l] + dt } else { time[l] };
            }
            return q;
        }
        for l in 0..LANES {
            let x = self.quotes((k + l).min(self.n - 1));
            (q.bid[l], q.ask[l], q.time[l]) = (x.bid, x.ask, x.time);
        }
        q
    }
}

/// Decisions at bars `k0..k0 + LANES` of a quiet run: the base timeframe's workers and bars as
/// they stand after each bar's roll (read from their columns), everything else as it stands now.
struct BarLanes<'v, 's, 'a, 'd, const P: bool> {
    view: &'v View<'s, 'a, P>,
    ctx: &'v BarRun<'d>,
    base: Timeframe,
    k0: usize,
    /// Filled on the first read: many rules read no quote.
    q: std::cell::OnceCell<LaneQuotes>,
}

impl<'s, 'a, const P: bool> BarLanes<'_, 's, 'a, '_, P> {
    /// The index of the closed base bar `offset` back at lane `l`'s decision, if there is one.
    #[inline(always)]
    fn closed(&self, l: usize, offset: usize) -> Option<usize> {
        // At the decision of bar k the base bars 0..k have closed, the newest being k - 1.
        let k = (self.k0 + l).min(self.ctx.n - 1);
        k.checked_sub(1 + offset)
    }

    /// The first lane's closed bar when every lane has one inside the data: lane `l` then reads
    /// bar `first + l`.
    #[inline(always)]
    fn contiguous(&self, offset: usize) -> Option<usize> {
        (self.k0 + LANES <= self.ctx.n)
            .then(|| self.k0.checked_sub(1 + offset))
            .flatten()
    }

    #[inline(always)]
    fn quotes(&self) -> &LaneQuotes {
        self.q.get_or_init(|| self.ctx.lane_quotes(self.k0))
    }
}

impl<'s, 'a, const P: bool> Lanes for BarLanes<'_, 's, 'a, '_, P> {
    type Scalar = View<'s, 'a, P>;
    #[inline(always)]
    fn scalar(&self) -> &View<'s, 'a, P> {
        self.view
    }
    #[inline(always)]
    fn worker(&self, at: WorkerRef) -> Lane {
        let sim = self.view.sim;
        let w = at.worker as usize;
        match &sim.workers[w].feed {
            Feed::Shared(series) if sim.program.workers[w].timeframe == self.base => {
                let mut out = [f64::NAN; LANES];
                if let Some(first) = self.contiguous(at.offset as usize) {
                    series.lanes(first, at.output as usize, &mut out);
                    return out;
                }
                for (l, o) in out.iter_mut().enumerate() {
                    if let Some(c) = self.closed(l, at.offset as usize) {
                        *o = series.value(c, at.output as usize);
                    }
                }
                out
            }
            _ => [at.read(self.view); LANES],
        }
    }
    #[inline(always)]
    fn bar(&self, tf: Timeframe, field: BarField, offset: usize) -> Lane {
        if tf != self.base {
            return [self.view.bar(tf, field, offset); LANES];
        }
        let mut out = [f64::NAN; LANES];
        if let Some(first) = self.contiguous(offset) {
            let b = self.ctx.bars;
            let column = match field {
                BarField::Time => &b.time,
                BarField::Open => &b.open,
                BarField::High => &b.high,
                BarField::Low => &b.low,
                BarField::Close => &b.close,
                BarField::Volume => &b.volume,
            };
            out.copy_from_slice(&column[first..first + LANES]);
            return out;
        }
        for (l, o) in out.iter_mut().enumerate() {
            if let Some(c) = self.closed(l, offset) {
                *o = field.of(&self.ctx.bars.bar(c));
            }
        }
        out
    }
    #[inline(always)]
    fn quote(&self, field: QuoteField) -> Lane {
        TickLanes {
            env: self.view,
            q: self.quotes(),
        }
        .quote(field)
    }
    #[inline(always)]
    fn time(&self) -> Lane {
        self.quotes().time
    }
}

impl<'a, const P: bool> Sim<'a, P> {
    /// Bar mode: the end of the run of bars from `i` (> 0) up to `end` on which nothing happens
    /// but rendering: no larger timeframe closes, no exit level is reached and no rule fires. The
    /// run is returned as the first bar that breaks it.
    fn quiet_bars(&mut self, ctx: &BarRun, i: usize, end: usize) -> usize {
        let time = &ctx.bars.time;
        let mut end = end;
        // A larger aggregate closes at the first bar past its bucket; bar i - 1 is the next one
        // it receives.
        for f in &self.frames[1..] {
            let open = if f.forming.open {
                f.forming.bar.time
            } else {
                f.tf.bucket(time[i - 1])
            };
            let boundary = open + f.ms;
            end = end.min(i + first_at_or_after(&time[i..end], boundary));
        }
        if end <= i {
            return i;
        }
        if !ctx.every_bar {
            return i + self.exit_free(ctx, i, end);
        }
        // Decisions on every bar: bars before `start` never decide. Exits are looked for only as
        // far as the scan goes, block by block: a rule that fires soon must not pay for a scan of
        // every bar to the end.
        let live = i + first_at_or_after(&time[i..end], ctx.start);
        let before = i + self.exit_free(ctx, i, live);
        if before < live || live == end {
            return before;
        }
        let q = ctx.quotes(live);
        let base = self.frames[0].tf;
        // The buffer is taken for the scan and put back, so that a run allocates nothing.
        let mut active = std::mem::take(&mut self.active);
        active.clear();
        let k = if self.open_conditions(q, base, &mut active) {
            live
        } else {
            self.scan_bars(ctx, &active, q, base, live, end)
        };
        self.active = active;
        k
    }

    /// The conditions of the rules that may fire in a quiet run of bars, into `active`; true
    /// when some rule fires at the run's first bar whatever the bar (nothing left to test, or a
    /// condition without a lane form, decided bar by bar).
    fn open_conditions(&self, q: Quotes, base: Timeframe, active: &mut Vec<&'a Block>) -> bool {
        let program = self.program;
        let (side, pending) = (self.pos.side, self.pending.is_some());
        for (r, rule) in program.rules.iter().enumerate() {
            if rule.inert(side, pending) {
                continue;
            }
            // A gate that reads no base bar stays as it is through the run: closed, the rule
            // cannot fire; open, the rule fires exactly when its fast part is true. Only these
            // gates are needed here (the others' parts are tested below), so stale gates are not
            // refreshed: a gate that reads the base frame is stale after every bar, and the
            // decision at the end of the run refreshes it anyway.
            let constant = !rule.split.gate_timeframes[base.index()];
            if constant {
                let open = if self.gates_dirty {
                    rule.split
                        .gate
                        .as_ref()
                        .map_or(true, |g| self.eval(g, q, None) != 0.0)
                } else {
                    self.gates[r]
                };
                if !open {
                    continue;
                }
            }
            // Otherwise the conjuncts that read no timeframe are constant through the run too
            // (no fill inside it): false, the rule cannot fire; true, it fires exactly when the
            // others are.
            if !constant
                && rule
                    .split
                    .fixed
                    .as_ref()
                    .is_some_and(|f| self.eval(f, q, None) == 0.0)
            {
                continue;
            }
            let rest = if constant {
                &rule.split.fast
            } else {
                &rule.split.moving
            };
            // Nothing else to test: the rule fires at the first bar.
            let Some(when) = rest else {
                return true;
            };
            // Base-frame workers read here are columns (`run_bars` gives every read one a series
            // outside the profiled loop); what has no lane form is decided bar by bar.
            if !when.lanes() {
                return true;
            }
            active.push(when);
        }
        false
    }

    /// The first bar in `live..end` at which one of `active` fires or an exit is reached (`end`
    /// if none).
    fn scan_bars(
        &mut self,
        ctx: &BarRun,
        active: &[&Block],
        q: Quotes,
        base: Timeframe,
        live: usize,
        end: usize,
    ) -> usize {
        if active.is_empty() {
            return live + self.exit_free(ctx, live, end);
        }
        if let [when] = active[..] {
            if let Some(k) = self.scan_cross(when, base, live, end) {
                return live + self.exit_free(ctx, live, k);
            }
        }
        let regs = active.iter().map(|b| b.regs()).max().unwrap_or(0);
        if self.lane_regs.len() < regs {
            self.lane_regs.resize(regs, [0.0; LANES]);
        }
        let mut lane_regs = std::mem::take(&mut self.lane_regs);
        let view = View {
            sim: self,
            q,
            forming: None,
        };
        let mut k = live;
        while k < end {
            let lanes = BarLanes {
                view: &view,
                ctx,
                base,
                k0: k,
                q: std::cell::OnceCell::new(),
            };
            let m = (end - k).min(LANES);
            // An exit inside the block ends the run there.
            let exit = self.exit_free(ctx, k, k + m);
            let mut fire = [false; LANES];
            for when in active {
                let out = when.run_lanes(&lanes, &mut lane_regs);
                for l in 0..LANES {
                    fire[l] |= out[l] != 0.0;
                }
            }
            if let Some(l) = fire[..exit].iter().position(|&f| f) {
                k += l;
                break;
            }
            if exit < m {
                k += exit;
                break;
            }
            k += m;
        }
        self.lane_regs = lane_regs;
        k.min(end)
    }

    /// The first decision bar in `i..end` (or `end`) at which `when`, one cross of two workers
    /// with batch-shared one-output series of the base timeframe, is true: the lane scan's
    /// answer, read from the two columns without lanes. `None` when the block is not of that
    /// shape or a read would fall before the first closed bar (the lane scan then decides).
    fn scan_cross(&self, when: &Block, base: Timeframe, i: usize, end: usize) -> Option<usize> {
        let (above, a, b) = when.single_cross()?;
        let column = |w: WorkerRef| match &self.workers[w.worker as usize].feed {
            Feed::Shared(series) if self.program.workers[w.worker as usize].timeframe == base => {
                series.column()
            }
            _ => None,
        };
        let (ca, cb) = (column(a)?, column(b)?);
        // At the decision of bar k the newest closed base bar is k - 1; a reference `offset`
        // back reads k - 1 - offset, and the cross's previous value the one before: bars
        // k - 2 - offset ..= k - 1 - offset for k in i..end.
        fn window(c: &[f64], offset: u32, i: usize, end: usize) -> Option<&[f64]> {
            let first = i.checked_sub(2 + offset as usize)?;
            c.get(first..end - 1 - offset as usize)
        }
        let (xa, xb) = (window(ca, a.offset, i, end)?, window(cb, b.offset, i, end)?);
        // Both windows hold `len + 1` values: bars i - 2 - offset .. end - 1 - offset.
        let len = end.checked_sub(i)?;
        // `vm::cross` at bar i + j, without branches: the previous and current values of both
        // sides as four slices of `len`, eight bars at a time in fixed-size blocks the compiler
        // checks no bound in.
        let (a0, a1, b0, b1) = (&xa[..len], &xa[1..], &xb[..len], &xb[1..]);
        let fires = |x1: f64, y1: f64, x: f64, y: f64| {
            if above {
                (x1 <= y1) & (x > y)
            } else {
                (x1 >= y1) & (x < y)
            }
        };
        let block = |s: &[f64]| -> [f64; 8] { s.try_into().unwrap_or([f64::NAN; 8]) };
        let blocks = a0
            .chunks_exact(8)
            .zip(a1.chunks_exact(8))
            .zip(b0.chunks_exact(8).zip(b1.chunks_exact(8)));
        let mut j = 0;
        for ((p, q), (r, t)) in blocks {
            let (p, q, r, t) = (block(p), block(q), block(r), block(t));
            let mut mask = 0u32;
            for l in 0..8 {
                mask |= u32::from(fires(p[l], r[l], q[l], t[l])) << l;
            }
            if mask != 0 {
                return Some(i + j + mask.trailing_zeros() as usize);
            }
            j += 8;
        }
        Some(
            i + (j..len)
                .find(|&j| fires(a0[j], b0[j], a1[j], b1[j]))
                .unwrap_or(len),
        )
    }

    /// How many bars from `i` the open position's levels are not reached on (`exit_bar`).
    fn exit_free(&self, ctx: &BarRun, i: usize, end: usize) -> usize {
        let p = self.pos;
        // NaN levels are never reached.
        if p.side == 0 || (p.sl.is_nan() && p.tp.is_nan()) {
            return end - i;
        }
        let (low, high) = (&ctx.bars.low[i..end], &ctx.bars.high[i..end]);
        let s = ctx.spread;
        match p.side {
            1 => low.iter().zip(high).position(|(&l, &h)| l <= p.sl || h >= p.tp),
            -1 => low
                .iter()
                .zip(high)
                .position(|(&l, &h)| h + s >= p.sl || l + s <= p.tp),
            _ => None,
        }
        .unwrap_or(end - i)
    }

    /// Applies the quiet bars `i..j` (`quiet_bars`): each rolls the bar before it into the base
    /// history, its workers and the larger aggregates, and records the equity sample a decision
    /// bar records. Only what a later read can see is written: the last items of each history.
    fn skip_bars(&mut self, ctx: &BarRun, i: usize, j: usize) {
        let bars = ctx.bars;
        let count = j - i;
        // Bars i - 1 ..= j - 2 close.
        let (first, last) = (i - 1, j - 2);
        let base = &mut self.frames[0];
        let keep = base.history.capacity().min(count);
        for c in last + 1 - keep..=last {
            base.history.push(bars.bar(c));
        }
        let closed = base.closed;
        base.closed += count;
        self.gates_dirty |= self.gate_slots[0];
        for &w in &self.frames[0].workers {
            let worker = &mut self.workers[w];
            match &mut worker.feed {
                Feed::Shared(series) => {
                    let keep = worker.history.capacity().min(count);
                    for k in closed + count - keep..closed + count {
                        worker.history.push(series.at(k));
                    }
                }
                Feed::Own(indicator) => {
                    for c in first..=last {
                        indicator.update(&bars.bar(c));
                        let mut out = [f64::NAN; 3];
                        for (k, o) in out.iter_mut().enumerate().take(worker.outputs) {
                            *o = indicator.output(k);
                        }
                        worker.history.push(out);
                    }
                }
            }
        }
        for s in 1..self.frames.len() {
            let tf = self.frames[s].tf;
            self.frames[s].forming.add_run(tf, bars, first..last + 1);
        }
        if self.decision_slot == 0 {
            let time = &bars.time;
            let from = i + first_at_or_after(&time[i..j], ctx.start);
            // The samples of bars from - 1 ..= j - 2, the equity marked at each close.
            let closes = &bars.close[from - 1..j - 1];
            let (p, balance, spread) = (self.pos, self.balance, ctx.spread);
            let e = &mut self.equity;
            e.time.extend_from_slice(&time[from - 1..j - 1]);
            e.balance.extend(std::iter::repeat(balance).take(closes.len()));
            match p.side {
                1 => e
                    .equity
                    .extend(closes.iter().map(|&c| balance + (c - p.entry) * p.units)),
                -1 => e.equity.extend(
                    closes
                        .iter()
                        .map(|&c| balance + (p.entry - (c + spread)) * p.units),
                ),
                _ => e
                    .equity
                    .extend(std::iter::repeat(balance + 0.0).take(closes.len())),
            }
        }
    }
}

/// What an expression reads at one decision.
struct View<'s, 'a, const P: bool> {
    sim: &'s Sim<'a, P>,
    q: Quotes,
    forming: Option<&'s Bar>,
}

impl<const P: bool> Env for View<'_, '_, P> {
    #[inline]
    fn worker(&self, worker: usize, output: usize, offset: usize) -> f64 {
        self.sim.workers[worker]
            .history
            .get(offset)
            .map_or(f64::NAN, |o| o[output])
    }
    #[inline]
    fn bar(&self, tf: Timeframe, field: BarField, offset: usize) -> f64 {
        let slot = self.sim.slot[tf.index()];
        self.sim.frames[slot]
            .history
            .get(offset)
            .map_or(f64::NAN, |b| field.of(&b))
    }
    #[inline]
    fn forming(&self, tf: Timeframe, field: BarField) -> f64 {
        let slot = self.sim.slot[tf.index()];
        let bar = if slot == 0 {
            self.forming
        } else {
            let f = &self.sim.frames[slot].forming;
            f.open.then_some(&f.bar)
        };
        bar.map_or(f64::NAN, |b| field.of(b))
    }
    #[inline]
    fn quote(&self, field: QuoteField) -> f64 {
        let q = self.q;
        match field {
            QuoteField::Bid => q.bid,
            QuoteField::Ask => q.ask,
            QuoteField::Mid => (q.bid + q.ask) / 2.0,
            QuoteField::Spread => q.ask - q.bid,
        }
    }
    #[inline]
    fn position(&self, field: PositionField) -> f64 {
        let p = &self.sim.pos;
        if p.side == 0 {
            return if field == PositionField::EntryPrice {
                f64::NAN
            } else {
                0.0
            };
        }
        match field {
            PositionField::Side => f64::from(p.side),
            PositionField::Lots => p.lots,
            PositionField::EntryPrice => p.entry,
            PositionField::Pnl => self.sim.pnl(self.q.bid, self.q.ask),
            PositionField::PnlPips if p.side == 1 => (self.q.bid - p.entry) / self.sim.pip,
            PositionField::PnlPips => (p.entry - self.q.ask) / self.sim.pip,
        }
    }
    #[inline]
    fn account(&self, field: AccountField) -> f64 {
        match field {
            AccountField::Balance => self.sim.balance,
            AccountField::Equity => self.sim.balance + self.sim.pnl(self.q.bid, self.q.ask),
        }
    }
    #[inline]
    fn time(&self) -> f64 {
        self.q.time
    }
}

/// How many leading ticks are ordinary: before the next bar boundary and strictly inside the exit
/// levels (NaN levels, when flat, never trigger). Only used while no pending order or trailing
/// stop is active (a trigger or a trail move could happen on any tick). Checked eight at a time without branches, then
/// one at a time in the block that holds the first special tick.
#[inline]
fn ordinary_run(time: &[f64], price: &[f64], boundary: f64, low: f64, high: f64) -> usize {
    let n = time.len().min(price.len());
    let (time, price) = (&time[..n], &price[..n]);
    let mut k = 0;
    for (t8, p8) in time.chunks_exact(8).zip(price.chunks_exact(8)) {
        let mut special = false;
        for u in 0..8 {
            special |= (t8[u] >= boundary) | (p8[u] <= low) | (p8[u] >= high);
        }
        if special {
            break;
        }
        k += 8;
    }
    while k < n && !(time[k] >= boundary || price[k] <= low || price[k] >= high) {
        k += 1;
    }
    k
}

fn run_ticks<const P: bool>(
    ticks: &TickData,
    program: &Program,
    config: &RunConfig,
    control: &RunControl,
    cache: Option<&SeriesCache>,
) -> Result<RunOutput, Error> {
    let n = read_count(&ticks.time, config);
    let (start, live) = first_live(&ticks.time, n, config);
    let base = program.tick_base();
    let base_ms = base.ms();
    let cache = cache.filter(|c| c.fits_ticks(ticks, n, base));
    let mut sim = Sim::<P>::new(program, config, base, cache, &[]);
    let time = &ticks.time[..n];
    sim.reserve_equity(time);
    let bid = &ticks.bid[..n];
    let ask = &ticks.ask[..n];
    let volume = ticks.volume.as_deref().map(|v| &v[..n]);
    let on_tick = program.on_tick;

    let mut bar = Bar::default();
    // The base boundary starts below every time so that the first tick opens the first bar.
    let mut next_boundary = f64::NEG_INFINITY;
    let mut started = false;
    let (mut prev_bid, mut prev_ask) = (f64::NAN, f64::NAN);
    sim.lap(Step::UpdatePrices, 0);
    let mut pacer = Pacer::new(control);
    let mut i = 0;
    while i < n {
        let stop = n.min(i.saturating_add(pacer.check(control)?));
        while i < stop {
            // Between bar boundaries and exit levels nothing can happen but rendering, so a run of
            // such ticks only extends the forming bar. The profiler times the run as a whole (a
            // timer per tick would mostly measure itself) and counts every tick in it.
            // With decisions on every tick, such a run is cut at the first tick a rule fires on
            // (the profiled loop, like the pure-TS one, decides on every tick instead).
            if !(sim.busy || (on_tick && P)) {
                let price = if sim.exit_on_ask { ask } else { bid };
                let mut j = ordinary_run(
                    &time[i..stop],
                    &price[i..stop],
                    next_boundary,
                    sim.exit_low,
                    sim.exit_high,
                );
                if on_tick && j > 0 {
                    j = sim.quiet_ticks(&time[i..i + j], &bid[i..i + j], &ask[i..i + j], start);
                }
                if j > 0 {
                    if P {
                        let exit_checks = if sim.pos.side != 0 { j as u64 } else { 0 };
                        sim.lap(Step::UpdatePrices, j as u64);
                        sim.lap(Step::OrderExecution, exit_checks);
                    }
                    extend_bar(&mut bar, &bid[i..i + j], volume.map(|v| &v[i..i + j]));
                    sim.lap(Step::BarRendering, j as u64);
                    prev_bid = bid[i + j - 1];
                    prev_ask = ask[i + j - 1];
                    i += j;
                    if i == stop {
                        break;
                    }
                }
            }
            let (t, b, a) = (time[i], bid[i], ask[i]);
            let v = match volume {
                Some(v) => v[i],
                None => 1.0,
            };
            sim.lap(Step::UpdatePrices, 1);
            let mut decision_closed = false;
            if t >= next_boundary {
                if started {
                    if let Some(decision_time) = sim.roll(bar, t) {
                        decision_closed = true;
                        if t >= start {
                            sim.sample(decision_time, prev_bid, prev_ask);
                        }
                    }
                }
                started = true;
                bar = open_bar(base, t, b, v);
                next_boundary = bar.time + base_ms;
            } else {
                add_price(&mut bar, b, v);
            }
            sim.lap(Step::BarRendering, 1);
            // Step 3 in its fast form: exits depend neither on the forming bar nor change it, so
            // checking after rendering gives the same result as before.
            let price = if sim.exit_on_ask { a } else { b };
            if P && sim.pos.side != 0 {
                sim.lap(Step::OrderExecution, 1);
            }
            if price <= sim.exit_low || price >= sim.exit_high {
                sim.exit_tick(b, a, t);
                sim.lap(Step::OrderExecution, 1);
            }
            if sim.busy {
                sim.event = i;
                sim.busy_tick(b, a, t);
            }
            let q = Quotes {
                bid: b,
                ask: a,
                time: t,
            };
            if (decision_closed || on_tick) && t >= start && sim.may_decide(q) {
                sim.event = i;
                sim.decide(q, Some(&bar));
            }
            prev_bid = b;
            prev_ask = a;
            i += 1;
        }
    }
    // A run that ended past its deadline is not reported as finished.
    control.check_deadline()?;

    let initial = config.account.balance;
    let Some(first) = live else {
        return Ok(sim.finish(n, start, start, config.periods_per_year, initial));
    };
    let last = Quotes {
        bid: bid[n - 1],
        ask: ask[n - 1],
        time: time[n - 1],
    };
    if sim.pos.side != 0 {
        sim.market_close(last, ExitReason::End);
        sim.lap(Step::OrderExecution, 1);
    }
    if let Some(decision_time) = sim.close_all(bar) {
        sim.sample(decision_time, last.bid, last.ask);
    }
    Ok(sim.finish(n, time[first], last.time, config.periods_per_year, initial))
}

fn run_bars<const P: bool>(
    bars: &BarData,
    program: &Program,
    config: &RunConfig,
    control: &RunControl,
    cache: Option<&SeriesCache>,
) -> Result<RunOutput, Error> {
    let n = read_count(&bars.time, config);
    let (start, live) = first_live(&bars.time, n, config);
    let base = bars.timeframe;
    let base_ms = base.ms();
    let spread = config.instrument.spread_pips * config.instrument.pip_size;
    let fill_at_close = config.fill_at == FillAt::Close;
    let on_tick = program.on_tick;
    let cache = cache.filter(|c| c.fits_bars(bars, n));
    // The base timeframe's read workers as columns, unless the batch shares them: the quiet-bar
    // scan reads them at any bar. The profiled loop updates its own indicators.
    let own: Vec<Option<SharedSeries>> = if P {
        Vec::new()
    } else {
        program
            .workers
            .iter()
            .map(|plan| {
                let shared = cache.and_then(|c| c.get(plan.timeframe, &plan.spec)).is_some();
                (plan.timeframe == base && plan.depth > 0 && !shared)
                    .then(|| SharedSeries::of_bars(&plan.spec, bars, n))
            })
            .collect()
    };
    let mut sim = Sim::<P>::new(program, config, base, cache, &own);
    sim.reserve_equity(&bars.time[..n]);
    sim.lap(Step::UpdatePrices, 0);
    let ctx = BarRun {
        bars,
        n,
        start,
        spread,
        base_ms,
        fill_at_close,
        every_bar: on_tick || program.decision == base,
    };

    let mut prev = Bar::default();
    let mut pacer = Pacer::new(control);
    let mut next_check = 0;
    let mut i = 0;
    while i < n {
        if i >= next_check {
            next_check = i.saturating_add(pacer.check(control)?);
        }
        // Bars on which nothing but rendering, aggregation and equity samples can happen are
        // applied as a run (the profiled loop, like the pure-TS one, goes bar by bar).
        if !P && i > 0 && !sim.busy {
            let j = sim.quiet_bars(&ctx, i, next_check.min(n));
            if j > i {
                sim.skip_bars(&ctx, i, j);
                prev = bars.bar(j - 1);
                i = j;
                continue;
            }
        }
        let bar = bars.bar(i);
        sim.lap(Step::UpdatePrices, 1);
        let mut decision_closed = false;
        if i > 0 {
            if let Some(decision_time) = sim.roll(prev, bar.time) {
                decision_closed = true;
                if bar.time >= start {
                    sim.sample(decision_time, prev.close, prev.close + spread);
                }
            }
        }
        if i > 0 && (decision_closed || on_tick) && bar.time >= start {
            let q = ctx.quotes(i);
            if sim.may_decide(q) {
                sim.event = i;
                sim.decide(q, None);
            }
        }
        if sim.pos.side != 0 {
            let before = sim.trades.len();
            sim.exit_bar(&bar, spread);
            let fills = (sim.trades.len() - before) as u64;
            sim.lap(Step::OrderExecution, 1 + fills);
        }
        if sim.busy {
            sim.event = i;
            sim.busy_bar(&bar, spread);
        }
        prev = bar;
        sim.lap(Step::BarRendering, 1);
        i += 1;
    }
    control.check_deadline()?;

    let initial = config.account.balance;
    let Some(first) = live else {
        return Ok(sim.finish(n, start, start, config.periods_per_year, initial));
    };
    let last = Quotes {
        bid: prev.close,
        ask: prev.close + spread,
        time: prev.time + base_ms,
    };
    if sim.pos.side != 0 {
        sim.market_close(last, ExitReason::End);
        sim.lap(Step::OrderExecution, 1);
    }
    if let Some(decision_time) = sim.close_all(prev) {
        sim.sample(decision_time, last.bid, last.ask);
    }
    Ok(sim.finish(n, bars.time[first], last.time, config.periods_per_year, initial))
}
