//! Compiled strategy expressions and their evaluation (docs/semantics.md section 4).
//!
//! `ir::compile` turns the JSON expressions into a `Code` tree with every name resolved (params
//! become constants, workers become indices), so evaluating a rule does no lookup and allocates
//! nothing. Every value is a double; booleans are exactly 1 or 0.

use crate::timeframe::Timeframe;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarField {
    Time,
    Open,
    High,
    Low,
    Close,
    Volume,
}

impl BarField {
    pub const NAMES: [&'static str; 6] = ["time", "open", "high", "low", "close", "volume"];
    pub fn parse(s: &str) -> Option<BarField> {
        Some(match s {
            "time" => BarField::Time,
            "open" => BarField::Open,
            "high" => BarField::High,
            "low" => BarField::Low,
            "close" => BarField::Close,
            "volume" => BarField::Volume,
            _ => return None,
        })
    }
    #[inline(always)]
    pub fn of(self, bar: &crate::data::Bar) -> f64 {
        match self {
            BarField::Time => bar.time,
            BarField::Open => bar.open,
            BarField::High => bar.high,
            BarField::Low => bar.low,
            BarField::Close => bar.close,
            BarField::Volume => bar.volume,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteField {
    Bid,
    Ask,
    Mid,
    Spread,
}

impl QuoteField {
    pub const NAMES: [&'static str; 4] = ["bid", "ask", "mid", "spread"];
    pub fn parse(s: &str) -> Option<QuoteField> {
        Some(match s {
            "bid" => QuoteField::Bid,
            "ask" => QuoteField::Ask,
            "mid" => QuoteField::Mid,
            "spread" => QuoteField::Spread,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionField {
    Side,
    Lots,
    EntryPrice,
    Pnl,
    PnlPips,
}

impl PositionField {
    pub const NAMES: [&'static str; 5] = ["side", "lots", "entryPrice", "pnl", "pnlPips"];
    pub fn parse(s: &str) -> Option<PositionField> {
        Some(match s {
            "side" => PositionField::Side,
            "lots" => PositionField::Lots,
            "entryPrice" => PositionField::EntryPrice,
            "pnl" => PositionField::Pnl,
            "pnlPips" => PositionField::PnlPips,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountField {
    Balance,
    Equity,
}

impl AccountField {
    pub const NAMES: [&'static str; 2] = ["balance", "equity"];
    pub fn parse(s: &str) -> Option<AccountField> {
        Some(match s {
            "balance" => AccountField::Balance,
            "equity" => AccountField::Equity,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    Hour,
    Minute,
    Weekday,
    MinuteOfDay,
}

impl TimeField {
    pub const NAMES: [&'static str; 4] = ["hour", "minute", "weekday", "minuteOfDay"];
    pub fn parse(s: &str) -> Option<TimeField> {
        Some(match s {
            "hour" => TimeField::Hour,
            "minute" => TimeField::Minute,
            "weekday" => TimeField::Weekday,
            "minuteOfDay" => TimeField::MinuteOfDay,
            _ => return None,
        })
    }
    /// Exactly the formulas of section 4, on the event's epoch milliseconds. Not inlined: the
    /// optimizer would otherwise compute all four fields ahead of an expression's loop, on every
    /// evaluation, whether or not the expression reads the time.
    #[inline(never)]
    pub fn of(self, t: f64) -> f64 {
        use crate::timeframe::floor;
        match self {
            TimeField::Hour => rem_int(floor(t / 3_600_000.0), 24.0),
            TimeField::Minute => rem_int(floor(t / 60_000.0), 60.0),
            TimeField::Weekday => rem_int(floor(t / 86_400_000.0) + 4.0, 7.0),
            TimeField::MinuteOfDay => rem_int(floor(t / 60_000.0), 1440.0),
        }
    }
}

/// `x % m` (the IEEE remainder of truncated division, as JavaScript's `%`) for an integral `x` and
/// a small positive integral `m`, without the library call. Below 2^53 `x / m` rounds to no
/// integer it is not, so its truncation is the exact quotient and `x - q * m` is exact; a zero
/// takes the sign of `x` as `fmod`'s does. Anything else goes to `%`.
#[inline(always)]
pub(crate) fn rem_int(x: f64, m: f64) -> f64 {
    if x.abs() < 9_007_199_254_740_992.0 {
        let q = (x / m) as i64 as f64;
        let r = x - q * m;
        if r == 0.0 {
            0.0f64.copysign(x)
        } else {
            r
        }
    } else {
        x % m
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Neg,
    Abs,
    Min,
    Max,
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    And,
    Or,
    Not,
    CrossAbove,
    CrossBelow,
}

impl Op {
    pub const ALL: [Op; 19] = [
        Op::Add,
        Op::Sub,
        Op::Mul,
        Op::Div,
        Op::Neg,
        Op::Abs,
        Op::Min,
        Op::Max,
        Op::Gt,
        Op::Ge,
        Op::Lt,
        Op::Le,
        Op::Eq,
        Op::Ne,
        Op::And,
        Op::Or,
        Op::Not,
        Op::CrossAbove,
        Op::CrossBelow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Neg => "neg",
            Op::Abs => "abs",
            Op::Min => "min",
            Op::Max => "max",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::And => "and",
            Op::Or => "or",
            Op::Not => "not",
            Op::CrossAbove => "crossAbove",
            Op::CrossBelow => "crossBelow",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == s)
    }

    /// `(min, max)` argument counts.
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            Op::Neg | Op::Abs | Op::Not => (1, Some(1)),
            Op::Gt | Op::Ge | Op::Lt | Op::Le | Op::Eq | Op::Ne | Op::CrossAbove | Op::CrossBelow => {
                (2, Some(2))
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Min | Op::Max | Op::And | Op::Or => (2, None),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

/// A resolved expression. Offsets are counted in updates (workers) or closed bars.
#[derive(Debug, Clone)]
pub(crate) enum Code {
    Const(f64),
    Worker {
        worker: usize,
        output: usize,
        offset: usize,
    },
    Bar {
        tf: Timeframe,
        field: BarField,
        offset: usize,
    },
    Forming {
        tf: Timeframe,
        field: BarField,
    },
    Quote(QuoteField),
    Position(PositionField),
    Account(AccountField),
    Time(TimeField),
    Add(Box<[Code]>),
    Sub(Box<[Code]>),
    Mul(Box<[Code]>),
    Div(Box<[Code]>),
    Min(Box<[Code]>),
    Max(Box<[Code]>),
    Neg(Box<Code>),
    Abs(Box<Code>),
    Cmp(Cmp, Box<[Code; 2]>),
    And(Box<[Code]>),
    Or(Box<[Code]>),
    Not(Box<Code>),
    /// `[a, b, a', b']`, the primed pair with every offset one step further back.
    Cross {
        above: bool,
        args: Box<[Code; 4]>,
    },
}

impl Code {
    /// The operands, in order; none for a leaf.
    pub(crate) fn children(&self) -> &[Code] {
        match self {
            Code::Add(args)
            | Code::Sub(args)
            | Code::Mul(args)
            | Code::Div(args)
            | Code::Min(args)
            | Code::Max(args)
            | Code::And(args)
            | Code::Or(args) => args,
            Code::Neg(a) | Code::Abs(a) | Code::Not(a) => std::slice::from_ref(a),
            Code::Cmp(_, args) => &args[..],
            Code::Cross { args, .. } => &args[..],
            Code::Const(_)
            | Code::Worker { .. }
            | Code::Bar { .. }
            | Code::Forming { .. }
            | Code::Quote(_)
            | Code::Position(_)
            | Code::Account(_)
            | Code::Time(_) => &[],
        }
    }
}

/// What an expression can read at a decision; implemented by the engine.
pub(crate) trait Env {
    fn worker(&self, worker: usize, output: usize, offset: usize) -> f64;
    fn bar(&self, tf: Timeframe, field: BarField, offset: usize) -> f64;
    fn forming(&self, tf: Timeframe, field: BarField) -> f64;
    fn quote(&self, field: QuoteField) -> f64;
    fn position(&self, field: PositionField) -> f64;
    fn account(&self, field: AccountField) -> f64;
    fn time(&self) -> f64;
}

#[inline]
pub(crate) fn truth(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// JavaScript's `Math.min` for two values: NaN wins, and -0 is below +0.
#[inline]
pub fn js_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a < b {
        a
    } else if b < a {
        b
    } else if a.is_sign_negative() {
        a
    } else {
        b
    }
}

/// JavaScript's `Math.max` for two values: NaN wins, and +0 is above -0.
#[inline]
pub fn js_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a > b {
        a
    } else if b > a {
        b
    } else if a.is_sign_positive() {
        a
    } else {
        b
    }
}

/// The tree walk that `vm::Block` replaced, kept as the reference its tests compare with.
#[cfg(test)]
#[inline]
fn fold<E: Env>(args: &[Code], env: &E, f: impl Fn(f64, f64) -> f64) -> f64 {
    let mut acc = eval(&args[0], env);
    for a in &args[1..] {
        acc = f(acc, eval(a, env));
    }
    acc
}

/// Comparisons are false whenever a side is NaN, `!=` included.
#[inline]
pub(crate) fn compare(op: Cmp, a: f64, b: f64) -> bool {
    match op {
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Eq => a == b,
        Cmp::Ne => a != b && !a.is_nan() && !b.is_nan(),
    }
}

#[cfg(test)]
pub(crate) fn eval<E: Env>(code: &Code, env: &E) -> f64 {
    match code {
        Code::Const(x) => *x,
        Code::Worker {
            worker,
            output,
            offset,
        } => env.worker(*worker, *output, *offset),
        Code::Bar { tf, field, offset } => env.bar(*tf, *field, *offset),
        Code::Forming { tf, field } => env.forming(*tf, *field),
        Code::Quote(q) => env.quote(*q),
        Code::Position(p) => env.position(*p),
        Code::Account(a) => env.account(*a),
        Code::Time(u) => u.of(env.time()),
        Code::Add(args) => fold(args, env, |a, b| a + b),
        Code::Sub(args) => fold(args, env, |a, b| a - b),
        Code::Mul(args) => fold(args, env, |a, b| a * b),
        Code::Div(args) => fold(args, env, |a, b| a / b),
        Code::Min(args) => fold(args, env, js_min),
        Code::Max(args) => fold(args, env, js_max),
        Code::Neg(a) => -eval(a, env),
        Code::Abs(a) => eval(a, env).abs(),
        Code::Cmp(op, args) => truth(compare(*op, eval(&args[0], env), eval(&args[1], env))),
        Code::And(args) => truth(args.iter().all(|a| eval(a, env) != 0.0)),
        Code::Or(args) => truth(args.iter().any(|a| eval(a, env) != 0.0)),
        Code::Not(a) => truth(eval(a, env) == 0.0),
        Code::Cross { above, args } => {
            let (a1, b1) = (eval(&args[2], env), eval(&args[3], env));
            let before = if *above { a1 <= b1 } else { a1 >= b1 };
            truth(
                before && {
                    let (a, b) = (eval(&args[0], env), eval(&args[1], env));
                    if *above {
                        a > b
                    } else {
                        a < b
                    }
                },
            )
        }
    }
}

#[cfg(test)]
mod time_tests {
    use super::{rem_int, TimeField};

    /// The section 4 formulas as written, with the library's floor and remainder.
    fn reference(f: TimeField, t: f64) -> f64 {
        match f {
            TimeField::Hour => (t / 3_600_000.0).floor() % 24.0,
            TimeField::Minute => (t / 60_000.0).floor() % 60.0,
            TimeField::Weekday => ((t / 86_400_000.0).floor() + 4.0) % 7.0,
            TimeField::MinuteOfDay => (t / 60_000.0).floor() % 1440.0,
        }
    }

    #[test]
    fn time_fields_are_the_library_formulas_bit_for_bit() {
        let fields = [
            TimeField::Hour,
            TimeField::Minute,
            TimeField::Weekday,
            TimeField::MinuteOfDay,
        ];
        let mut times = vec![
            0.0,
            -0.0,
            -1.0,
            1.0,
            86_400_000.0,
            -86_400_000.0,
            1_704_067_200_000.0,
            -62_135_596_800_000.0,
            8.64e15,
            -8.64e15,
            9.1e18,
            -9.1e18,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            // Epoch milliseconds around the present, either sign, and raw doubles.
            let t = (s % 4_000_000_000_000) as f64 - 2_000_000_000_000.0 + (s >> 60) as f64 / 16.0;
            times.push(t);
            times.push(f64::from_bits(s));
        }
        for &t in &times {
            for f in fields {
                let (a, b) = (f.of(t), reference(f, t));
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{f:?} of {t}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn the_integer_remainder_is_the_library_remainder_on_integers() {
        let mut s: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            // Random u32 draws (the generators' case), day numbers of either sign, and large values.
            let xs = [
                f64::from(s as u32),
                (s % 2_000_000) as f64 - 1_000_000.0,
                (s >> 11) as f64 * if s & 1 == 0 { 1.0 } else { -1.0 },
            ];
            for x in xs {
                for m in [7.0, 24.0, 60.0, 1000.0, 1440.0] {
                    assert_eq!(rem_int(x, m).to_bits(), (x % m).to_bits(), "{x} % {m}");
                }
            }
        }
    }

    #[test]
    fn the_integer_remainder_keeps_the_sign_of_zero() {
        for (x, m) in [(-24.0, 24.0), (24.0, 24.0), (-0.0, 7.0), (0.0, 7.0), (-7.0, 7.0)] {
            assert_eq!(rem_int(x, m).to_bits(), (x % m).to_bits(), "{x} % {m}");
        }
    }
}
