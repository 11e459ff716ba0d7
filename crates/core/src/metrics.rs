//! Metrics from the equity curve and the trades (docs/semantics.md section 6).
//!
//! Sums start from 0.0 and run in index order, and each formula is evaluated in the order the
//! contract writes it, so the TypeScript engine reproduces every figure except CAGR (which uses
//! `pow`) to the bit.

use crate::results::{EquityCurve, Metrics, Trade};
use crate::timeframe::floor;
use std::sync::OnceLock;

const MS_PER_DAY: f64 = 86_400_000.0;
/// Julian year, as in the contract's CAGR.
pub(crate) const MS_PER_YEAR: f64 = 31_557_600_000.0;

pub struct MetricsInput<'a> {
    pub initial_balance: f64,
    pub final_balance: f64,
    /// Time of the first event at or after `start`.
    pub t0: f64,
    /// Time of the last event (bar mode: last bar time + base timeframe).
    pub t1: f64,
    pub equity: &'a EquityCurve,
    pub trades: &'a [Trade],
    pub rejected_orders: u32,
    pub total_commission: f64,
    pub periods_per_year: f64,
}

pub fn compute(input: &MetricsInput<'_>) -> Metrics {
    compute_with(input, None)
}

/// The last sample of each UTC day of one time column, found once for the runs of a batch: the
/// jobs of a grid over one data set sample their equity at the same times. A run whose times
/// differ (bit for bit) from the first run's finds its own.
#[derive(Debug, Default)]
pub struct DayEnds {
    first: OnceLock<(Vec<f64>, Vec<usize>)>,
}

impl DayEnds {
    /// The day ends of `time`: the first caller's column sets them, others compare with it.
    fn of(&self, time: &[f64]) -> Option<&[usize]> {
        let (kept, ends) = self.first.get_or_init(|| (time.to_vec(), day_ends(time)));
        same_bits(kept, time).then_some(ends.as_slice())
    }
}

/// Whether two columns hold the same values bit for bit (NaN equal to itself), without an early
/// exit so that the comparison runs in wide steps.
fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(true, |same, (x, y)| same & (x.to_bits() == y.to_bits()))
}

/// `compute`, reading the day ends from `days` when they were found for the same times.
pub fn compute_with(input: &MetricsInput<'_>, days: Option<&DayEnds>) -> Metrics {
    let b0 = input.initial_balance;
    let bf = input.final_balance;

    let net_profit = bf - b0;
    let return_pct = (bf - b0) / b0 * 100.0;

    let years = (input.t1 - input.t0) / MS_PER_YEAR;
    let cagr_pct = if years <= 0.0 {
        f64::NAN
    } else if bf <= 0.0 {
        -100.0
    } else {
        (pow(bf / b0, 1.0 / years) - 1.0) * 100.0
    };

    let (max_drawdown, max_drawdown_pct) = drawdown(b0, &input.equity.equity);

    let time = &input.equity.time;
    let returns = match days.and_then(|d| d.of(time)) {
        Some(ends) => returns_at(b0, &input.equity.equity, ends),
        None => daily_returns(b0, time, &input.equity.equity),
    };
    let sqrt_ppy = input.periods_per_year.sqrt();
    let (sharpe, sortino, _) = return_ratios(&returns, sqrt_ppy);

    let calmar = if max_drawdown_pct == 0.0 {
        f64::NAN
    } else {
        cagr_pct / max_drawdown_pct
    };

    let trades = trade_stats(input.trades);
    let profit_factor = if trades.gross_loss == 0.0 {
        if trades.gross_profit > 0.0 {
            f64::INFINITY
        } else {
            f64::NAN
        }
    } else {
        trades.gross_profit / trades.gross_loss
    };
    let count = input.trades.len();
    let n = count as f64;
    let win_rate_pct = if count == 0 {
        f64::NAN
    } else {
        trades.wins as f64 / n * 100.0
    };
    let avg_win = if trades.wins == 0 {
        f64::NAN
    } else {
        trades.gross_profit / trades.wins as f64
    };
    let avg_loss = if trades.losses == 0 {
        f64::NAN
    } else {
        trades.loss_sum / trades.losses as f64
    };
    let expectancy = if count == 0 { f64::NAN } else { trades.pnl_sum / n };
    let sqn = if count < 2 {
        f64::NAN
    } else {
        let sd = sample_sd(input.trades.iter().map(|t| t.pnl), expectancy, n);
        if sd == 0.0 {
            f64::NAN
        } else {
            expectancy / sd * n.sqrt()
        }
    };

    let span = input.t1 - input.t0;
    let exposure_pct = if span == 0.0 {
        0.0
    } else {
        trades.time_in_market / span * 100.0
    };

    Metrics {
        net_profit,
        return_pct,
        cagr_pct,
        max_drawdown,
        max_drawdown_pct,
        sharpe,
        sortino,
        calmar,
        profit_factor,
        win_rate_pct,
        trade_count: count as u32,
        wins: trades.wins,
        losses: trades.losses,
        avg_win,
        avg_loss,
        expectancy,
        sqn,
        exposure_pct,
        max_consecutive_losses: trades.max_consecutive_losses,
        gross_profit: trades.gross_profit,
        gross_loss: trades.gross_loss,
        total_commission: input.total_commission,
        final_balance: bf,
        rejected_orders: input.rejected_orders,
    }
}

/// `x ** y` as the contract (and JavaScript's `**`) defines it: as `powf`, except that a base
/// of 1 to an infinite or NaN power is NaN, where `powf` gives 1. A span of a few subnormal
/// milliseconds makes the exponent of CAGR infinite.
pub(crate) fn pow(x: f64, y: f64) -> f64 {
    if x == 1.0 && !y.is_finite() {
        f64::NAN
    } else {
        x.powf(y)
    }
}

/// Peak-to-trough drawdown, in money and in percent of the peak; the peak starts at the initial
/// balance so a curve that only falls still shows its loss.
///
/// The percentage's division is made only where it can give a new maximum. `skip_below` is the
/// current maximum times the peak, less a relative margin of 1e-9: a drawdown with
/// `dd * 100 < skip_below` has `dd / peak * 100` below the maximum by far more than the few
/// units in the last place the three roundings can move it. The bound is 0 (nothing skipped)
/// while it would be subnormal, where products lose their relative precision.
pub(crate) fn drawdown(b0: f64, equity: &[f64]) -> (f64, f64) {
    let mut peak = b0;
    let mut max_dd = 0.0;
    let mut max_dd_pct: f64 = 0.0;
    let bound = |max_dd_pct: f64, peak: f64| {
        let b = max_dd_pct * peak * (1.0 - 1e-9);
        if b >= MIN_BOUND {
            b
        } else {
            0.0
        }
    };
    let mut skip_below = 0.0;
    for &e in equity {
        if e > peak {
            peak = e;
            skip_below = bound(max_dd_pct, peak);
        }
        let dd = peak - e;
        // The percentage can only be a new maximum (>= 0) when the drawdown is positive, the
        // peak being at least the initial balance, which is positive: the division is skipped
        // at every new high and while the curve is flat.
        if dd > 0.0 {
            if dd > max_dd {
                max_dd = dd;
            }
            if dd * 100.0 < skip_below {
                continue;
            }
            let dd_pct = dd / peak * 100.0;
            if dd_pct > max_dd_pct {
                max_dd_pct = dd_pct;
                skip_below = bound(max_dd_pct, peak);
            }
        }
    }
    (max_dd, max_dd_pct)
}

/// Below this (2^-1000), products may be subnormal.
const MIN_BOUND: f64 = 9.332_636_185_032_189e-302;

/// Days (2^24) below which the day windows of `daily_returns` hold.
const DAY_LIMIT: f64 = 16_777_216.0;

/// Returns between the last samples of consecutive UTC days, the first against the initial
/// balance.
fn daily_returns(b0: f64, time: &[f64], equity: &[f64]) -> Vec<f64> {
    let len = time.len().min(equity.len());
    returns_at(b0, &equity[..len], &day_ends(&time[..len]))
}

/// The returns from one day end to the next of `equity`, the first against `b0`.
fn returns_at(b0: f64, equity: &[f64], ends: &[usize]) -> Vec<f64> {
    let mut prev = b0;
    ends.iter()
        .map(|&i| {
            let v = equity[i];
            let r = v / prev - 1.0;
            prev = v;
            r
        })
        .collect()
}

/// The index of the last sample of each UTC day, in order (the last sample's included).
///
/// A sample's day is `floor(t / MS_PER_DAY)`, but the division is made only for samples outside
/// the current day and the next. For an integer day `d` with `|d| < 2^24`, `d * MS_PER_DAY` is
/// exact, and every `t` in `[d * MS_PER_DAY, (d + 1) * MS_PER_DAY - 1)` divides to a quotient in
/// `[d, d + 1)`: the exact quotient is at least `1 / MS_PER_DAY` (about 2^-26.4) below `d + 1`,
/// more than the quotient's unit in the last place (at most 2^-29), so it cannot round up to
/// `d + 1`. The last millisecond before each boundary, NaN and days out of that range take the
/// division.
fn day_ends(time: &[f64]) -> Vec<usize> {
    let len = time.len();
    if len == 0 {
        return Vec::new();
    }
    let mut ends = Vec::new();
    let day_of = |t: f64| floor(t / MS_PER_DAY);
    // Where the day `d` starts, when its windows hold; +inf (no window holds) otherwise.
    let start_of = |d: f64| {
        if d.abs() < DAY_LIMIT {
            d * MS_PER_DAY
        } else {
            f64::INFINITY
        }
    };
    let mut day = day_of(time[0]);
    let mut lo = start_of(day);
    for (i, &t) in time.iter().enumerate().skip(1) {
        // In the current day's window: the same day.
        if t >= lo && t < lo + (MS_PER_DAY - 1.0) {
            continue;
        }
        let next = lo + MS_PER_DAY;
        let (d, d_lo) = if t >= next && t < next + (MS_PER_DAY - 1.0) && day + 1.0 < DAY_LIMIT {
            (day + 1.0, next)
        } else {
            let d = day_of(t);
            (d, start_of(d))
        };
        // NaN days differ from every day, themselves included, as in `!=`.
        if d != day {
            ends.push(i - 1);
            day = d;
            lo = d_lo;
        }
    }
    ends.push(len - 1);
    ends
}

/// Sharpe and Sortino of `returns` annualized by `sqrt_ppy`, and the returns' sample deviation;
/// all NaN with fewer than two returns.
pub(crate) fn return_ratios(returns: &[f64], sqrt_ppy: f64) -> (f64, f64, f64) {
    let count = returns.len();
    if count < 2 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let n = count as f64;
    let mut sum = 0.0;
    for &r in returns {
        sum += r;
    }
    let mean = sum / n;
    // The squared deviations (as `sample_sd` sums them) and the squared downside, in one pass:
    // two independent chains of adds, each in order.
    let (mut ss, mut down_sq) = (0.0, 0.0);
    for &r in returns {
        let d = r - mean;
        ss += d * d;
        let m = if r < 0.0 { r } else { 0.0 };
        down_sq += m * m;
    }
    let sd = (ss / (n - 1.0)).sqrt();
    let sharpe = if sd == 0.0 { f64::NAN } else { mean / sd * sqrt_ppy };
    let dd = (down_sq / n).sqrt();
    let sortino = if dd == 0.0 { f64::NAN } else { mean / dd * sqrt_ppy };
    (sharpe, sortino, sd)
}

/// `sqrt(sum((x - mean)^2) / (n - 1))`, summed in order from 0.
fn sample_sd(values: impl Iterator<Item = f64>, mean: f64, n: f64) -> f64 {
    let mut ss = 0.0;
    for x in values {
        let d = x - mean;
        ss += d * d;
    }
    (ss / (n - 1.0)).sqrt()
}

struct TradeStats {
    gross_profit: f64,
    gross_loss: f64,
    /// Sum of the losing pnls (negative).
    loss_sum: f64,
    pnl_sum: f64,
    wins: u32,
    losses: u32,
    time_in_market: f64,
    max_consecutive_losses: u32,
}

fn trade_stats(trades: &[Trade]) -> TradeStats {
    let mut s = TradeStats {
        gross_profit: 0.0,
        gross_loss: 0.0,
        loss_sum: 0.0,
        pnl_sum: 0.0,
        wins: 0,
        losses: 0,
        time_in_market: 0.0,
        max_consecutive_losses: 0,
    };
    let mut run = 0u32;
    for t in trades {
        let pnl = t.pnl;
        s.pnl_sum += pnl;
        s.time_in_market += t.exit_time - t.entry_time;
        if pnl > 0.0 {
            s.wins += 1;
            s.gross_profit += pnl;
        } else if pnl < 0.0 {
            s.losses += 1;
            s.gross_loss += -pnl;
            s.loss_sum += pnl;
        }
        if pnl < 0.0 {
            run += 1;
            if run > s.max_consecutive_losses {
                s.max_consecutive_losses = run;
            }
        } else {
            run = 0;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definitions, written plainly: a division for every day and every drawdown.
    fn drawdown_reference(b0: f64, equity: &[f64]) -> (f64, f64) {
        let (mut peak, mut max_dd, mut max_dd_pct) = (b0, 0.0, 0.0);
        for &e in equity {
            if e > peak {
                peak = e;
            }
            let dd = peak - e;
            if dd > max_dd {
                max_dd = dd;
            }
            let dd_pct = dd / peak * 100.0;
            if dd_pct > max_dd_pct {
                max_dd_pct = dd_pct;
            }
        }
        (max_dd, max_dd_pct)
    }

    fn daily_returns_reference(b0: f64, time: &[f64], equity: &[f64]) -> Vec<f64> {
        let day = |t: f64| floor(t / MS_PER_DAY);
        let mut returns = Vec::new();
        let mut prev = b0;
        for i in 0..time.len() {
            if i + 1 == time.len() || day(time[i + 1]) != day(time[i]) {
                returns.push(equity[i] / prev - 1.0);
                prev = equity[i];
            }
        }
        returns
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    /// Times that land on, just before and just after day boundaries (by whole and fractional
    /// milliseconds and by one unit in the last place), in steps from a minute to a week, from
    /// before 1970 to far in the future, with NaN among them.
    fn times(rng: &mut Rng, n: usize) -> Vec<f64> {
        let starts = [-3.0e11, -1.0, 0.0, 1.7e12, 8.6e15, 9.0e15, 1e300];
        let mut t = starts[(rng.next() % starts.len() as u64) as usize];
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let boundary = (floor(t / MS_PER_DAY) + 1.0) * MS_PER_DAY;
            t = match rng.next() % 8 {
                0 => boundary,
                1 => boundary - 1.0,
                2 => boundary - 1e-3,
                3 => f64::from_bits(boundary.to_bits().saturating_sub(1)),
                4 => t + MS_PER_DAY * 7.0 * rng.unit(),
                5 => t + 60_000.0,
                6 => t + MS_PER_DAY,
                _ => t + MS_PER_DAY * rng.unit(),
            }
            .max(t);
            out.push(if rng.next() % 200 == 0 { f64::NAN } else { t });
        }
        out
    }

    #[test]
    fn cagr_of_an_unchanged_balance_over_a_subnormal_span_is_nan_as_in_javascript() {
        let equity = EquityCurve::default();
        let input = |t1: f64, bf: f64| MetricsInput {
            initial_balance: 10_000.0,
            final_balance: bf,
            t0: 0.0,
            t1,
            equity: &equity,
            trades: &[],
            rejected_orders: 0,
            total_commission: 0.0,
            periods_per_year: 252.0,
        };
        // 1 / years overflows to infinity: 1 ** Infinity is NaN in the contract.
        assert!(compute(&input(1e-298, 10_000.0)).cagr_pct.is_nan());
        assert_eq!(compute(&input(1e-298, 20_000.0)).cagr_pct, f64::INFINITY);
        assert_eq!(compute(&input(1e-298, 5_000.0)).cagr_pct, -100.0);
        // A finite exponent keeps powf's answer.
        assert_eq!(compute(&input(MS_PER_YEAR, 10_000.0)).cagr_pct, 0.0);
        assert!(pow(1.0, f64::NAN).is_nan() && pow(1.0, f64::NEG_INFINITY).is_nan());
        assert_eq!(pow(2.0, 10.0), 1024.0);
    }

    /// Drawdowns whose percentages lie within a few units in the last place of the maximum so
    /// far, where skipping a division would be wrong if the skip's margin were too thin.
    #[test]
    fn drawdowns_next_to_the_maximum_equal_the_definition() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let step = |x: f64, k: i64| f64::from_bits((x.to_bits() as i64 + k) as u64);
        for case in 0..20_000 {
            let b0 = [10_000.0, 1.0, 3e-290, 7.5e250][case % 4];
            let peak = b0 * (1.0 + 4.0 * rng.unit());
            let dd = peak * (0.001 + 0.9 * rng.unit());
            let mut equity = vec![peak, peak - dd];
            for _ in 0..6 {
                let k = (rng.next() % 17) as i64 - 8;
                equity.push(step(peak - dd, k));
            }
            let (got, want) = (drawdown(b0, &equity), drawdown_reference(b0, &equity));
            assert!(
                same(&[got.0, got.1], &[want.0, want.1]),
                "case {case}: {got:?} vs {want:?}"
            );
        }
    }

    /// Runs that share day ends get the metrics of runs that find their own, whether their times
    /// are the ones the ends were found for or not.
    #[test]
    fn shared_day_ends_give_the_metrics_of_a_run_alone() {
        let mut rng = Rng(0x0bad_5eed_1234_5678);
        for case in 0..500 {
            let n = 1 + (rng.next() % 300) as usize;
            let time = times(&mut rng, n);
            let mut other = time.clone();
            let k = (rng.next() % n as u64) as usize;
            other[k] = if case % 2 == 0 {
                f64::NAN
            } else {
                other[k] + MS_PER_DAY
            };
            let days = DayEnds::default();
            for (round, t) in [&time, &other, &time].into_iter().enumerate() {
                let mut e = 10_000.0;
                let equity = EquityCurve {
                    time: t.clone(),
                    equity: (0..n)
                        .map(|_| {
                            e *= 0.95 + 0.1 * rng.unit();
                            e
                        })
                        .collect(),
                    balance: vec![10_000.0; n],
                };
                let input = MetricsInput {
                    initial_balance: 10_000.0,
                    final_balance: e,
                    t0: t[0],
                    t1: t[n - 1],
                    equity: &equity,
                    trades: &[],
                    rejected_orders: 0,
                    total_commission: 0.0,
                    periods_per_year: 252.0,
                };
                let (alone, shared) = (compute(&input), compute_with(&input, Some(&days)));
                assert!(
                    same(&[alone.sharpe, alone.sortino], &[shared.sharpe, shared.sortino]),
                    "case {case}, round {round}: {alone:?} vs {shared:?}"
                );
            }
            assert!(days.of(&time).is_some() && (same(&time, &other) || days.of(&other).is_none()));
        }
    }

    #[test]
    fn drawdown_and_daily_returns_equal_the_definitions_bit_for_bit() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..3_000 {
            let n = 1 + (rng.next() % 400) as usize;
            let b0 = [10_000.0, 1.0, 1e-300, 1e300][case % 4];
            let mut e = b0;
            let equity: Vec<f64> = (0..n)
                .map(|_| {
                    e *= match rng.next() % 16 {
                        0 => 1.0,
                        1 => 0.0,
                        2 => -1.0,
                        3 => 1.0 + 1e-16,
                        // Drawdowns that deepen by a hair: each a new maximum.
                        4 | 5 => 1.0 - 1e-12,
                        6 => 1.0 - 1e-9,
                        _ => 0.9 + 0.2 * rng.unit(),
                    };
                    if rng.next() % 500 == 0 {
                        f64::NAN
                    } else {
                        e
                    }
                })
                .collect();
            let (got, want) = (drawdown(b0, &equity), drawdown_reference(b0, &equity));
            assert!(
                same(&[got.0, got.1], &[want.0, want.1]),
                "case {case}: {got:?} vs {want:?}"
            );
            let time = times(&mut rng, n);
            let (got, want) = (
                daily_returns(b0, &time, &equity),
                daily_returns_reference(b0, &time, &equity),
            );
            assert!(same(&got, &want), "case {case}: returns differ");
        }
    }
}
