//! Rule expressions as flat register code (docs/semantics.md section 4, "Evaluation").
//!
//! `Block::compile` turns a resolved `Code` tree into a list of instructions over a file of
//! registers, once per compiled program. Evaluating a block is one loop over that list: no
//! recursion, no boxes to follow, and the shapes strategies are made of run as one instruction
//! each (a worker against a constant, a cross of two workers, a test of the position's side).
//! `and`/`or` chains jump past their remaining arguments once decided, as the tree did.
//!
//! The same code also runs over `LANES` events at once (`Block::run_lanes`): the tick loop uses it
//! to find the next tick on which a rule can fire without stopping at every tick. Expressions have
//! no side effects and every operation is a plain IEEE operation on each lane, so the lanes give,
//! event for event, the value the scalar loop gives; a lane evaluation ignores the jumps, which
//! only skip work whose value cannot change the result.
//!
//! Values are doubles and booleans exactly 1 or 0, as in the tree: NaN comparisons are false,
//! arithmetic folds left, and no operation is fused into a multiply-add.

use crate::expr::{
    compare, js_max, js_min, truth, AccountField, BarField, Cmp, Code, Env, PositionField, QuoteField,
    TimeField,
};
use crate::timeframe::Timeframe;

/// Events a lane evaluation covers at once.
pub(crate) const LANES: usize = 16;
pub(crate) type Lane = [f64; LANES];

/// Blocks with at most this many registers run on a register file on the stack.
const STACK_REGS: usize = 32;

type Reg = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
}

impl Arith {
    #[inline(always)]
    fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Arith::Add => a + b,
            Arith::Sub => a - b,
            Arith::Mul => a * b,
            Arith::Div => a / b,
            Arith::Min => js_min(a, b),
            Arith::Max => js_max(a, b),
        }
    }
}

/// One worker output at one offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WorkerRef {
    pub worker: u32,
    pub output: u32,
    pub offset: u32,
}

impl WorkerRef {
    #[inline(always)]
    pub(crate) fn read<E: Env>(self, env: &E) -> f64 {
        env.worker(self.worker as usize, self.output as usize, self.offset as usize)
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Ins {
    Worker {
        dst: Reg,
        at: WorkerRef,
    },
    Bar {
        dst: Reg,
        tf: Timeframe,
        field: BarField,
        offset: u32,
    },
    Forming {
        dst: Reg,
        tf: Timeframe,
        field: BarField,
    },
    Quote {
        dst: Reg,
        field: QuoteField,
    },
    Position {
        dst: Reg,
        field: PositionField,
    },
    Account {
        dst: Reg,
        field: AccountField,
    },
    Time {
        dst: Reg,
        field: TimeField,
    },
    Arith {
        op: Arith,
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    Neg {
        dst: Reg,
        a: Reg,
    },
    Abs {
        dst: Reg,
        a: Reg,
    },
    Not {
        dst: Reg,
        a: Reg,
    },
    Cmp {
        op: Cmp,
        dst: Reg,
        a: Reg,
        b: Reg,
    },
    /// Fused: a worker output compared with a register (a constant, in practice).
    WorkerCmp {
        op: Cmp,
        dst: Reg,
        at: WorkerRef,
        b: Reg,
    },
    /// Fused: the position's side compared with a register.
    SideCmp {
        op: Cmp,
        dst: Reg,
        b: Reg,
    },
    /// `[a, b, a', b']` as in `Code::Cross`.
    Cross {
        above: bool,
        dst: Reg,
        args: [Reg; 4],
    },
    /// Fused: a cross of two worker outputs; the previous values are one update further back.
    CrossWorkers {
        above: bool,
        dst: Reg,
        a: WorkerRef,
        b: WorkerRef,
    },
    /// One argument of an `and` (`and` true) or `or` chain: the first sets `dst` to the
    /// argument's truth, later ones combine it into `dst`. Once `dst` is decided (false for `and`,
    /// true for `or`) the scalar loop jumps to `end`, past the remaining arguments.
    Chain {
        and: bool,
        first: bool,
        dst: Reg,
        a: Reg,
        end: u32,
    },
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// Registers that hold constants, set before each evaluation.
    consts: Box<[(Reg, f64)]>,
    ins: Box<[Ins]>,
    regs: usize,
    out: Reg,
    /// Every read can be evaluated over lanes of ticks: quotes and time vary by lane, and the
    /// rest (workers, closed bars, the position's side, lots and entry, the balance) is the same
    /// on every lane. A forming bar, a position's profit or the equity is not.
    lanes: bool,
}

struct Builder {
    consts: Vec<(Reg, f64)>,
    ins: Vec<Ins>,
    next: Reg,
    lanes: bool,
}

impl Builder {
    fn reg(&mut self) -> Reg {
        let r = self.next;
        self.next += 1;
        r
    }

    fn push(&mut self, make: impl FnOnce(Reg) -> Ins) -> Reg {
        let dst = self.reg();
        self.ins.push(make(dst));
        dst
    }

    fn worker_ref(code: &Code) -> Option<WorkerRef> {
        match *code {
            Code::Worker {
                worker,
                output,
                offset,
            } => Some(WorkerRef {
                worker: worker as u32,
                output: output as u32,
                offset: offset as u32,
            }),
            _ => None,
        }
    }

    fn fold(&mut self, op: Arith, args: &[Code]) -> Reg {
        let mut acc = self.code(&args[0]);
        for a in &args[1..] {
            let b = self.code(a);
            acc = self.push(|dst| Ins::Arith { op, dst, a: acc, b });
        }
        acc
    }

    fn chain(&mut self, and: bool, args: &[Code]) -> Reg {
        let dst = self.reg();
        let start = self.ins.len();
        for (i, arg) in args.iter().enumerate() {
            let a = self.code(arg);
            self.ins.push(Ins::Chain {
                and,
                first: i == 0,
                dst,
                a,
                end: 0,
            });
        }
        let end = self.ins.len() as u32;
        for ins in &mut self.ins[start..] {
            if let Ins::Chain { dst: d, end: e, .. } = ins {
                if *d == dst {
                    *e = end;
                }
            }
        }
        dst
    }

    fn code(&mut self, code: &Code) -> Reg {
        match code {
            &Code::Const(x) => {
                let r = self.reg();
                self.consts.push((r, x));
                r
            }
            Code::Worker { .. } => {
                let at = Builder::worker_ref(code).unwrap_or(WorkerRef {
                    worker: 0,
                    output: 0,
                    offset: 0,
                });
                self.push(|dst| Ins::Worker { dst, at })
            }
            &Code::Bar { tf, field, offset } => self.push(|dst| Ins::Bar {
                dst,
                tf,
                field,
                offset: offset as u32,
            }),
            &Code::Forming { tf, field } => {
                self.lanes = false;
                self.push(|dst| Ins::Forming { dst, tf, field })
            }
            &Code::Quote(field) => self.push(|dst| Ins::Quote { dst, field }),
            &Code::Position(field) => {
                if matches!(field, PositionField::Pnl | PositionField::PnlPips) {
                    self.lanes = false;
                }
                self.push(|dst| Ins::Position { dst, field })
            }
            &Code::Account(field) => {
                if field == AccountField::Equity {
                    self.lanes = false;
                }
                self.push(|dst| Ins::Account { dst, field })
            }
            &Code::Time(field) => self.push(|dst| Ins::Time { dst, field }),
            Code::Add(args) => self.fold(Arith::Add, args),
            Code::Sub(args) => self.fold(Arith::Sub, args),
            Code::Mul(args) => self.fold(Arith::Mul, args),
            Code::Div(args) => self.fold(Arith::Div, args),
            Code::Min(args) => self.fold(Arith::Min, args),
            Code::Max(args) => self.fold(Arith::Max, args),
            Code::Neg(a) => {
                let a = self.code(a);
                self.push(|dst| Ins::Neg { dst, a })
            }
            Code::Abs(a) => {
                let a = self.code(a);
                self.push(|dst| Ins::Abs { dst, a })
            }
            Code::Not(a) => {
                let a = self.code(a);
                self.push(|dst| Ins::Not { dst, a })
            }
            Code::Cmp(op, args) => self.compare(*op, &args[0], &args[1]),
            Code::And(args) => self.chain(true, args),
            Code::Or(args) => self.chain(false, args),
            Code::Cross { above, args } => {
                let refs = [0, 1, 2, 3].map(|k| Builder::worker_ref(&args[k]));
                if let [Some(a), Some(b), Some(a1), Some(b1)] = refs {
                    let back = |r: WorkerRef| WorkerRef {
                        offset: r.offset + 1,
                        ..r
                    };
                    if a1 == back(a) && b1 == back(b) {
                        let above = *above;
                        return self.push(|dst| Ins::CrossWorkers { above, dst, a, b });
                    }
                }
                let regs = [0, 1, 2, 3].map(|k| self.code(&args[k]));
                let above = *above;
                self.push(|dst| Ins::Cross {
                    above,
                    dst,
                    args: regs,
                })
            }
        }
    }

    fn compare(&mut self, op: Cmp, x: &Code, y: &Code) -> Reg {
        // `k < w` is `w > k`: each comparison is false on NaN either way round.
        let swapped = match op {
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Eq => Cmp::Eq,
            Cmp::Ne => Cmp::Ne,
        };
        match (x, y) {
            (Code::Worker { .. }, Code::Const(_)) | (Code::Const(_), Code::Worker { .. }) => {
                let (w, k, op) = match x {
                    Code::Worker { .. } => (x, y, op),
                    _ => (y, x, swapped),
                };
                let at = Builder::worker_ref(w).unwrap_or(WorkerRef {
                    worker: 0,
                    output: 0,
                    offset: 0,
                });
                let b = self.code(k);
                self.push(|dst| Ins::WorkerCmp { op, dst, at, b })
            }
            (Code::Position(PositionField::Side), Code::Const(_)) => {
                let b = self.code(y);
                self.push(|dst| Ins::SideCmp { op, dst, b })
            }
            (Code::Const(_), Code::Position(PositionField::Side)) => {
                let b = self.code(x);
                self.push(|dst| Ins::SideCmp { op: swapped, dst, b })
            }
            _ => {
                let a = self.code(x);
                let b = self.code(y);
                self.push(|dst| Ins::Cmp { op, dst, a, b })
            }
        }
    }
}

#[inline(always)]
fn cross(above: bool, a: f64, b: f64, a1: f64, b1: f64) -> f64 {
    let before = if above { a1 <= b1 } else { a1 >= b1 };
    let now = if above { a > b } else { a < b };
    truth(before && now)
}

#[inline(always)]
fn side<E: Env>(env: &E) -> f64 {
    env.position(PositionField::Side)
}

/// The quotes of up to `LANES` consecutive ticks; unused lanes repeat the last tick.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LaneQuotes {
    pub bid: Lane,
    pub ask: Lane,
    pub time: Lane,
}

impl LaneQuotes {
    pub(crate) fn load(time: &[f64], bid: &[f64], ask: &[f64]) -> LaneQuotes {
        let n = time.len().min(bid.len()).min(ask.len()).min(LANES);
        let mut q = LaneQuotes {
            bid: [0.0; LANES],
            ask: [0.0; LANES],
            time: [0.0; LANES],
        };
        if n == 0 {
            return q;
        }
        q.bid[..n].copy_from_slice(&bid[..n]);
        q.ask[..n].copy_from_slice(&ask[..n]);
        q.time[..n].copy_from_slice(&time[..n]);
        for l in n..LANES {
            q.bid[l] = bid[n - 1];
            q.ask[l] = ask[n - 1];
            q.time[l] = time[n - 1];
        }
        q
    }
}

#[inline(always)]
pub(crate) fn map1(a: &Lane, f: impl Fn(f64) -> f64) -> Lane {
    let mut out = [0.0; LANES];
    for l in 0..LANES {
        out[l] = f(a[l]);
    }
    out
}

#[inline(always)]
pub(crate) fn map2(a: &Lane, b: &Lane, f: impl Fn(f64, f64) -> f64) -> Lane {
    let mut out = [0.0; LANES];
    for l in 0..LANES {
        out[l] = f(a[l], b[l]);
    }
    out
}

/// A comparison on every lane, with the operator chosen once outside the loop.
#[inline(always)]
fn compare_lanes(op: Cmp, a: &Lane, b: &Lane) -> Lane {
    match op {
        Cmp::Gt => map2(a, b, |x, y| truth(x > y)),
        Cmp::Ge => map2(a, b, |x, y| truth(x >= y)),
        Cmp::Lt => map2(a, b, |x, y| truth(x < y)),
        Cmp::Le => map2(a, b, |x, y| truth(x <= y)),
        Cmp::Eq => map2(a, b, |x, y| truth(x == y)),
        Cmp::Ne => map2(a, b, |x, y| truth(compare(Cmp::Ne, x, y))),
    }
}

impl Block {
    pub(crate) fn compile(code: &Code) -> Block {
        let mut b = Builder {
            consts: Vec::new(),
            ins: Vec::new(),
            next: 0,
            lanes: true,
        };
        let out = b.code(code);
        Block {
            consts: b.consts.into_boxed_slice(),
            ins: b.ins.into_boxed_slice(),
            regs: b.next as usize,
            out,
            lanes: b.lanes,
        }
    }

    /// The block can run over lanes of ticks (`run_lanes`).
    pub(crate) fn lanes(&self) -> bool {
        self.lanes
    }

    /// The block's size in memory, its own fields and what they point to.
    pub(crate) fn bytes(&self) -> usize {
        std::mem::size_of::<Block>()
            + std::mem::size_of_val(&*self.consts)
            + std::mem::size_of_val(&*self.ins)
    }

    pub(crate) fn regs(&self) -> usize {
        self.regs
    }

    /// The value of the expression at one event.
    #[inline]
    pub(crate) fn eval<E: Env>(&self, env: &E) -> f64 {
        if self.regs <= STACK_REGS {
            let mut r = [0.0; STACK_REGS];
            self.run(env, &mut r)
        } else {
            let mut r = vec![0.0; self.regs];
            self.run(env, &mut r)
        }
    }

    fn run<E: Env>(&self, env: &E, r: &mut [f64]) -> f64 {
        for &(k, x) in self.consts.iter() {
            r[k as usize] = x;
        }
        let ins = &*self.ins;
        let mut pc = 0;
        while let Some(&i) = ins.get(pc) {
            pc += 1;
            match i {
                Ins::Worker { dst, at } => r[dst as usize] = at.read(env),
                Ins::Bar {
                    dst,
                    tf,
                    field,
                    offset,
                } => r[dst as usize] = env.bar(tf, field, offset as usize),
                Ins::Forming { dst, tf, field } => r[dst as usize] = env.forming(tf, field),
                Ins::Quote { dst, field } => r[dst as usize] = env.quote(field),
                Ins::Position { dst, field } => r[dst as usize] = env.position(field),
                Ins::Account { dst, field } => r[dst as usize] = env.account(field),
                Ins::Time { dst, field } => r[dst as usize] = field.of(env.time()),
                Ins::Arith { op, dst, a, b } => r[dst as usize] = op.apply(r[a as usize], r[b as usize]),
                Ins::Neg { dst, a } => r[dst as usize] = -r[a as usize],
                Ins::Abs { dst, a } => r[dst as usize] = r[a as usize].abs(),
                Ins::Not { dst, a } => r[dst as usize] = truth(r[a as usize] == 0.0),
                Ins::Cmp { op, dst, a, b } => {
                    r[dst as usize] = truth(compare(op, r[a as usize], r[b as usize]))
                }
                Ins::WorkerCmp { op, dst, at, b } => {
                    r[dst as usize] = truth(compare(op, at.read(env), r[b as usize]));
                }
                Ins::SideCmp { op, dst, b } => r[dst as usize] = truth(compare(op, side(env), r[b as usize])),
                Ins::Cross { above, dst, args } => {
                    let [a, b, a1, b1] = args.map(|k| r[k as usize]);
                    r[dst as usize] = cross(above, a, b, a1, b1);
                }
                Ins::CrossWorkers { above, dst, a, b } => {
                    let back = |w: WorkerRef| WorkerRef {
                        offset: w.offset + 1,
                        ..w
                    };
                    let (a1, b1) = (back(a).read(env), back(b).read(env));
                    r[dst as usize] = cross(above, a.read(env), b.read(env), a1, b1);
                }
                Ins::Chain {
                    and,
                    first,
                    dst,
                    a,
                    end,
                } => {
                    let v = r[a as usize] != 0.0;
                    let acc = if first {
                        v
                    } else if and {
                        r[dst as usize] != 0.0 && v
                    } else {
                        r[dst as usize] != 0.0 || v
                    };
                    r[dst as usize] = truth(acc);
                    if acc != and {
                        pc = end as usize;
                    }
                }
            }
        }
        r[self.out as usize]
    }

    /// `(above, a, b)` when the block is one cross of two workers and nothing else: the shape a
    /// scan can run over two columns directly.
    pub(crate) fn single_cross(&self) -> Option<(bool, WorkerRef, WorkerRef)> {
        match *self.ins {
            [Ins::CrossWorkers { above, dst, a, b }] if dst == self.out && self.consts.is_empty() => {
                Some((above, a, b))
            }
            _ => None,
        }
    }

    /// The value of the expression at each of `LANES` consecutive events read through `env`.
    /// Only for blocks with `lanes()`; `r` needs `regs()` lanes.
    pub(crate) fn run_lanes<E: Lanes>(&self, env: &E, r: &mut [Lane]) -> Lane {
        for &(k, x) in self.consts.iter() {
            r[k as usize] = [x; LANES];
        }
        for &i in self.ins.iter() {
            match i {
                Ins::Worker { dst, at } => r[dst as usize] = env.worker(at),
                Ins::Bar {
                    dst,
                    tf,
                    field,
                    offset,
                } => r[dst as usize] = env.bar(tf, field, offset as usize),
                // Not lane code (`lanes()` is false); kept total with the scalar value.
                Ins::Forming { dst, tf, field } => r[dst as usize] = [env.scalar().forming(tf, field); LANES],
                Ins::Quote { dst, field } => r[dst as usize] = env.quote(field),
                Ins::Position { dst, field } => r[dst as usize] = [env.scalar().position(field); LANES],
                Ins::Account { dst, field } => r[dst as usize] = [env.scalar().account(field); LANES],
                Ins::Time { dst, field } => r[dst as usize] = map1(&env.time(), |t| field.of(t)),
                Ins::Arith { op, dst, a, b } => {
                    let (x, y) = (r[a as usize], r[b as usize]);
                    r[dst as usize] = match op {
                        Arith::Add => map2(&x, &y, |u, v| u + v),
                        Arith::Sub => map2(&x, &y, |u, v| u - v),
                        Arith::Mul => map2(&x, &y, |u, v| u * v),
                        Arith::Div => map2(&x, &y, |u, v| u / v),
                        Arith::Min => map2(&x, &y, js_min),
                        Arith::Max => map2(&x, &y, js_max),
                    };
                }
                Ins::Neg { dst, a } => r[dst as usize] = map1(&r[a as usize], |x| -x),
                Ins::Abs { dst, a } => r[dst as usize] = map1(&r[a as usize], f64::abs),
                Ins::Not { dst, a } => r[dst as usize] = map1(&r[a as usize], |x| truth(x == 0.0)),
                Ins::Cmp { op, dst, a, b } => {
                    r[dst as usize] = compare_lanes(op, &r[a as usize], &r[b as usize])
                }
                Ins::WorkerCmp { op, dst, at, b } => {
                    r[dst as usize] = compare_lanes(op, &env.worker(at), &r[b as usize]);
                }
                Ins::SideCmp { op, dst, b } => {
                    r[dst as usize] = compare_lanes(op, &[side(env.scalar()); LANES], &r[b as usize]);
                }
                Ins::Cross { above, dst, args } => {
                    let [a, b, a1, b1] = args.map(|k| r[k as usize]);
                    let mut out = [0.0; LANES];
                    for l in 0..LANES {
                        out[l] = cross(above, a[l], b[l], a1[l], b1[l]);
                    }
                    r[dst as usize] = out;
                }
                Ins::CrossWorkers { above, dst, a, b } => {
                    let back = |w: WorkerRef| WorkerRef {
                        offset: w.offset + 1,
                        ..w
                    };
                    let (x, y, x1, y1) = (
                        env.worker(a),
                        env.worker(b),
                        env.worker(back(a)),
                        env.worker(back(b)),
                    );
                    let mut out = [0.0; LANES];
                    for l in 0..LANES {
                        out[l] = cross(above, x[l], y[l], x1[l], y1[l]);
                    }
                    r[dst as usize] = out;
                }
                Ins::Chain {
                    and, first, dst, a, ..
                } => {
                    let x = r[a as usize];
                    r[dst as usize] = if first {
                        map1(&x, |v| truth(v != 0.0))
                    } else if and {
                        map2(&r[dst as usize], &x, |d, v| truth(d != 0.0 && v != 0.0))
                    } else {
                        map2(&r[dst as usize], &x, |d, v| truth(d != 0.0 || v != 0.0))
                    };
                }
            }
        }
        r[self.out as usize]
    }
}

/// What lane code reads at `LANES` consecutive events: each read gives one value per lane. The
/// position and the account are the same on every lane (lane code reads only their parts that
/// change with a fill, and no lane run spans one), as is a forming bar (never read by lane code).
pub(crate) trait Lanes {
    type Scalar: Env;
    fn scalar(&self) -> &Self::Scalar;
    fn worker(&self, at: WorkerRef) -> Lane;
    fn bar(&self, tf: Timeframe, field: BarField, offset: usize) -> Lane;
    fn quote(&self, field: QuoteField) -> Lane;
    fn time(&self) -> Lane;
}

/// Ticks between two bar closes: quotes and time vary by lane, workers and bars do not.
pub(crate) struct TickLanes<'a, E: Env> {
    pub env: &'a E,
    pub q: &'a LaneQuotes,
}

impl<E: Env> Lanes for TickLanes<'_, E> {
    type Scalar = E;
    #[inline(always)]
    fn scalar(&self) -> &E {
        self.env
    }
    #[inline(always)]
    fn worker(&self, at: WorkerRef) -> Lane {
        [at.read(self.env); LANES]
    }
    #[inline(always)]
    fn bar(&self, tf: Timeframe, field: BarField, offset: usize) -> Lane {
        [self.env.bar(tf, field, offset); LANES]
    }
    #[inline(always)]
    fn quote(&self, field: QuoteField) -> Lane {
        let q = self.q;
        match field {
            QuoteField::Bid => q.bid,
            QuoteField::Ask => q.ask,
            QuoteField::Mid => map2(&q.bid, &q.ask, |b, a| (b + a) / 2.0),
            QuoteField::Spread => map2(&q.bid, &q.ask, |b, a| a - b),
        }
    }
    #[inline(always)]
    fn time(&self) -> Lane {
        self.q.time
    }
}

/// The expression reads nothing that changes between two bar closes of the timeframes it names,
/// other than through a fill: workers, closed bars, constants, the position's side, lots and
/// entry price, and the balance. Such an expression has one value from one of those changes to
/// the next.
pub(crate) fn is_slow(code: &Code) -> bool {
    match code {
        Code::Const(_) | Code::Worker { .. } | Code::Bar { .. } => true,
        Code::Forming { .. } | Code::Quote(_) | Code::Time(_) => false,
        Code::Position(p) => matches!(
            p,
            PositionField::Side | PositionField::Lots | PositionField::EntryPrice
        ),
        Code::Account(a) => *a == AccountField::Balance,
        _ => code.children().iter().all(is_slow),
    }
}

/// The timeframes whose closes change the expression's value: of the workers and bars it reads.
pub(crate) fn read_timeframes(code: &Code, worker_tf: &[Timeframe], out: &mut [bool; 7]) {
    match code {
        Code::Worker { worker, .. } => {
            if let Some(tf) = worker_tf.get(*worker) {
                out[tf.index()] = true;
            }
        }
        Code::Bar { tf, .. } | Code::Forming { tf, .. } => out[tf.index()] = true,
        _ => code
            .children()
            .iter()
            .for_each(|a| read_timeframes(a, worker_tf, out)),
    }
}

/// A rule's condition split for the loops: `gate` is the conjunction of its slow conjuncts (see
/// `is_slow`) and `fast` of the others, so `when` is true exactly when both are. `None` stands
/// for an empty conjunction (true).
#[derive(Debug, Clone)]
pub(crate) struct Split {
    pub gate: Option<Block>,
    pub fast: Option<Block>,
    /// The timeframes whose closes can change the gate (`read_timeframes`).
    pub gate_timeframes: [bool; 7],
    /// The slow conjuncts that read no timeframe (the position's side, lots and entry, the
    /// balance, constants): constant from one fill to the next. `when` is true exactly when
    /// `fixed` and `moving` (every other conjunct, in order) are.
    pub fixed: Option<Block>,
    pub moving: Option<Block>,
}

/// `worker_tf` is each worker's timeframe.
pub(crate) fn split(when: &Code, worker_tf: &[Timeframe]) -> Split {
    let conjuncts: &[Code] = match when {
        Code::And(args) => args,
        other => std::slice::from_ref(other),
    };
    let reads_timeframe = |c: &Code| {
        let mut tfs = [false; 7];
        read_timeframes(c, worker_tf, &mut tfs);
        tfs.iter().any(|&t| t)
    };
    let (slow, fast): (Vec<&Code>, Vec<&Code>) = conjuncts.iter().partition(|c| is_slow(c));
    let (fixed, moving): (Vec<&Code>, Vec<&Code>) =
        conjuncts.iter().partition(|c| is_slow(c) && !reads_timeframe(c));
    let mut gate_timeframes = [false; 7];
    for c in &slow {
        read_timeframes(c, worker_tf, &mut gate_timeframes);
    }
    let join = |parts: Vec<&Code>| match parts.len() {
        0 => None,
        1 => Some(Block::compile(parts[0])),
        _ => Some(Block::compile(&Code::And(parts.into_iter().cloned().collect()))),
    };
    Split {
        gate: join(slow),
        fast: join(fast),
        gate_timeframes,
        fixed: join(fixed),
        moving: join(moving),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::eval as tree_eval;

    /// A fixed environment whose quotes and time can be changed per lane.
    struct Fixed {
        workers: Vec<[f64; 3]>,
        bars: [f64; 6],
        forming: [f64; 6],
        bid: f64,
        ask: f64,
        time: f64,
        position: [f64; 5],
        account: [f64; 2],
    }

    impl Env for Fixed {
        fn worker(&self, worker: usize, output: usize, offset: usize) -> f64 {
            // Offsets 0 and 1 read different values; deeper ones are not kept yet.
            match offset {
                0 => self.workers[worker][output],
                1 => self.workers[worker][(output + 1) % 3],
                _ => f64::NAN,
            }
        }
        fn bar(&self, _tf: Timeframe, field: BarField, offset: usize) -> f64 {
            self.bars[field as usize] + offset as f64
        }
        fn forming(&self, _tf: Timeframe, field: BarField) -> f64 {
            self.forming[field as usize]
        }
        fn quote(&self, field: QuoteField) -> f64 {
            match field {
                QuoteField::Bid => self.bid,
                QuoteField::Ask => self.ask,
                QuoteField::Mid => (self.bid + self.ask) / 2.0,
                QuoteField::Spread => self.ask - self.bid,
            }
        }
        fn position(&self, field: PositionField) -> f64 {
            self.position[field as usize]
        }
        fn account(&self, field: AccountField) -> f64 {
            self.account[field as usize]
        }
        fn time(&self) -> f64 {
            self.time
        }
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> usize {
            (self.next() % n) as usize
        }
        /// Values that stress comparisons: equal ones, zeros of both signs, NaN and infinities.
        fn value(&mut self) -> f64 {
            const EDGE: [f64; 8] = [
                0.0,
                -0.0,
                1.0,
                -1.0,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                0.5,
            ];
            match self.below(3) {
                0 => EDGE[self.below(8)],
                _ => (self.below(2001) as f64 - 1000.0) / 64.0,
            }
        }
    }

    fn number(rng: &mut Rng, depth: usize) -> Code {
        let leaf = depth == 0 || rng.below(3) == 0;
        if leaf {
            return match rng.below(9) {
                0 | 1 => Code::Const(rng.value()),
                2 | 3 => Code::Worker {
                    worker: rng.below(2),
                    output: rng.below(3),
                    offset: rng.below(3),
                },
                4 => Code::Bar {
                    tf: Timeframe::M1,
                    field: [BarField::Open, BarField::Close, BarField::Time][rng.below(3)],
                    offset: rng.below(2),
                },
                5 => Code::Quote(
                    [
                        QuoteField::Bid,
                        QuoteField::Ask,
                        QuoteField::Mid,
                        QuoteField::Spread,
                    ][rng.below(4)],
                ),
                6 => Code::Position(
                    [
                        PositionField::Side,
                        PositionField::Lots,
                        PositionField::EntryPrice,
                        PositionField::Pnl,
                        PositionField::PnlPips,
                    ][rng.below(5)],
                ),
                7 => Code::Time([TimeField::Hour, TimeField::Minute, TimeField::Weekday][rng.below(3)]),
                _ => match rng.below(3) {
                    0 => Code::Forming {
                        tf: Timeframe::M1,
                        field: BarField::High,
                    },
                    _ => Code::Account([AccountField::Balance, AccountField::Equity][rng.below(2)]),
                },
            };
        }
        let args = |rng: &mut Rng| -> Box<[Code]> {
            (0..2 + rng.below(3)).map(|_| number(rng, depth - 1)).collect()
        };
        match rng.below(8) {
            0 => Code::Add(args(rng)),
            1 => Code::Sub(args(rng)),
            2 => Code::Mul(args(rng)),
            3 => Code::Div(args(rng)),
            4 => Code::Min(args(rng)),
            5 => Code::Max(args(rng)),
            6 => Code::Neg(Box::new(number(rng, depth - 1))),
            _ => Code::Abs(Box::new(number(rng, depth - 1))),
        }
    }

    fn boolean(rng: &mut Rng, depth: usize) -> Code {
        let cmp = [Cmp::Gt, Cmp::Ge, Cmp::Lt, Cmp::Le, Cmp::Eq, Cmp::Ne];
        if depth == 0 || rng.below(3) == 0 {
            return match rng.below(4) {
                0 => Code::Const(rng.below(2) as f64),
                1 => {
                    // The fused shapes: a worker against a constant, the side against one.
                    let w = number(rng, 0);
                    let k = Code::Const(rng.value());
                    let op = cmp[rng.below(6)];
                    match rng.below(2) {
                        0 => Code::Cmp(op, Box::new([w, k])),
                        _ => Code::Cmp(op, Box::new([k, w])),
                    }
                }
                2 => {
                    let (a, b) = (number(rng, 1), number(rng, 1));
                    Code::Cmp(cmp[rng.below(6)], Box::new([a, b]))
                }
                _ => {
                    let w = |_: &mut Rng, back: usize, k: usize| Code::Worker {
                        worker: k,
                        output: 0,
                        offset: back,
                    };
                    let (x, y) = (rng.below(2), rng.below(2));
                    let fused = rng.below(2) == 0;
                    Code::Cross {
                        above: rng.below(2) == 0,
                        args: Box::new([
                            w(rng, 0, x),
                            w(rng, 0, y),
                            w(rng, 1, x),
                            if fused {
                                w(rng, 1, y)
                            } else {
                                Code::Const(rng.value())
                            },
                        ]),
                    }
                }
            };
        }
        let args = |rng: &mut Rng| -> Box<[Code]> {
            (0..2 + rng.below(3)).map(|_| boolean(rng, depth - 1)).collect()
        };
        match rng.below(3) {
            0 => Code::And(args(rng)),
            1 => Code::Or(args(rng)),
            _ => Code::Not(Box::new(boolean(rng, depth - 1))),
        }
    }

    fn env(rng: &mut Rng) -> Fixed {
        let mut v = || [rng.value(), rng.value(), rng.value()];
        let workers = vec![v(), v()];
        Fixed {
            workers,
            bars: [1.7e12, 1.1, 1.2, 1.0, 1.15, 3.0],
            forming: [1.7e12, 1.1, rng.value(), 1.0, 1.15, 3.0],
            bid: rng.value(),
            ask: rng.value(),
            time: 1.7e12 + rng.below(1 << 30) as f64,
            position: [
                [-1.0, 0.0, 1.0][rng.below(3)],
                rng.value(),
                rng.value(),
                rng.value(),
                rng.value(),
            ],
            account: [rng.value(), rng.value()],
        }
    }

    #[test]
    fn blocks_give_the_tree_walks_value_bit_for_bit() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..20_000 {
            let code = if case % 2 == 0 {
                boolean(&mut rng, 4)
            } else {
                number(&mut rng, 4)
            };
            let block = Block::compile(&code);
            for _ in 0..4 {
                let e = env(&mut rng);
                let (want, got) = (tree_eval(&code, &e), block.eval(&e));
                assert!(
                    want.to_bits() == got.to_bits() || (want.is_nan() && got.is_nan()),
                    "case {case}: {code:?} gave {got}, the tree {want}"
                );
            }
        }
    }

    #[test]
    fn lanes_give_each_ticks_scalar_value() {
        let mut rng = Rng(42);
        let mut checked = 0;
        for case in 0..20_000 {
            let code = boolean(&mut rng, 3);
            let block = Block::compile(&code);
            if !block.lanes() {
                continue;
            }
            checked += 1;
            let mut e = env(&mut rng);
            let n = 1 + rng.below(LANES as u64);
            let ticks: Vec<(f64, f64, f64)> = (0..n)
                .map(|_| (1.7e12 + rng.below(1 << 30) as f64, rng.value(), rng.value()))
                .collect();
            let time: Vec<f64> = ticks.iter().map(|t| t.0).collect();
            let bid: Vec<f64> = ticks.iter().map(|t| t.1).collect();
            let ask: Vec<f64> = ticks.iter().map(|t| t.2).collect();
            let q = LaneQuotes::load(&time, &bid, &ask);
            let mut regs = vec![[0.0; LANES]; block.regs()];
            let lanes = block.run_lanes(&TickLanes { env: &e, q: &q }, &mut regs);
            for (l, &(t, b, a)) in ticks.iter().enumerate() {
                (e.time, e.bid, e.ask) = (t, b, a);
                let want = tree_eval(&code, &e);
                assert!(
                    want.to_bits() == lanes[l].to_bits() || (want.is_nan() && lanes[l].is_nan()),
                    "case {case} lane {l}: {code:?} gave {}, scalar {want}",
                    lanes[l]
                );
            }
        }
        assert!(checked > 1000, "only {checked} lane-able cases");
    }

    #[test]
    fn a_rule_splits_into_gate_and_fast_parts_whose_conjunction_is_the_rule() {
        let mut rng = Rng(7);
        for _ in 0..5_000 {
            let args: Box<[Code]> = (0..1 + rng.below(4)).map(|_| boolean(&mut rng, 2)).collect();
            let when = Code::And(args);
            let s = split(&when, &[Timeframe::M1, Timeframe::H1]);
            for _ in 0..4 {
                let e = env(&mut rng);
                let part = |b: &Option<Block>| b.as_ref().is_none_or(|b| b.eval(&e) != 0.0);
                assert_eq!(
                    tree_eval(&when, &e) != 0.0,
                    part(&s.gate) && part(&s.fast),
                    "{when:?}"
                );
            }
        }
    }
}
