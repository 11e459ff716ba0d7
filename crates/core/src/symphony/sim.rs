//! The daily loop: allocation, rebalance decisions, fills and marking (docs/symphony.md
//! section 5).

use super::config::{SymphonyConfig, SymphonyFill};
use super::data::DailyData;
use super::ir::Rebalance;
use super::metrics::{self, MetricsInput, SymphonyMetrics};
use super::plan::{Evaluator, Plan};
use super::SymphonyError;
use std::sync::atomic::{AtomicBool, Ordering};

const MS_PER_DAY: f64 = 86_400_000.0;

/// What one run of one symphony produces.
#[derive(Debug, Clone, PartialEq)]
pub struct SymphonyOutput {
    /// The symphony's tickers (IR order): the columns of `weights`.
    pub tickers: Vec<String>,
    /// Dates of the simulated days.
    pub time: Vec<f64>,
    /// Closing equity of each simulated day.
    pub equity: Vec<f64>,
    /// Target weights decided at each simulated day's close: `weights[d * tickers.len() + k]`.
    pub weights: Vec<f64>,
    /// Indices into `time` of the days a rebalance was decided.
    pub rebalance_days: Vec<i32>,
    pub metrics: SymphonyMetrics,
}

/// Monday-based week number: `floor((floor(date / 86400000) + 3) / 7)`.
#[inline]
fn week(date: f64) -> f64 {
    (((date / MS_PER_DAY).floor() + 3.0) / 7.0).floor()
}

/// `year * 12 + month0` of the UTC date (days-to-civil, proleptic Gregorian); its Euclidean
/// quotient by 3 numbers the quarters, by 12 the years.
#[inline]
fn month(date: f64) -> i64 {
    let z = (date / MS_PER_DAY).floor() as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    y * 12 + (m - 1)
}

/// The simulated account: cash, units per ticker (IR order) and the running totals.
struct Account {
    cash: f64,
    units: Vec<f64>,
    commission_pct: f64,
    rebalances: u32,
    turnover: f64,
    total_commission: f64,
}

impl Account {
    /// `cash + sum_k units_k * p_k`, the sum from 0 in ticker order over held tickers.
    #[inline]
    fn value(&self, prices: &[&[f64]], t: usize) -> f64 {
        let mut s = 0.0;
        for (k, &u) in self.units.iter().enumerate() {
            if u != 0.0 {
                s += u * prices[k][t];
            }
        }
        self.cash + s
    }

    /// Trades to `target` weights at `prices[k][t]`.
    fn trade(&mut self, target: &[f64], prices: &[&[f64]], t: usize) {
        let v = self.value(prices, t);
        let mut traded = 0.0;
        let mut held = 0.0;
        for (k, units) in self.units.iter_mut().enumerate() {
            let w = target[k];
            let goal = if w > 0.0 { w * v / prices[k][t] } else { 0.0 };
            if goal != 0.0 || *units != 0.0 {
                let p = prices[k][t];
                traded += (goal - *units).abs() * p;
                if goal != 0.0 {
                    held += goal * p;
                }
            }
            *units = goal;
        }
        let commission = traded * self.commission_pct / 100.0;
        self.cash = v - held - commission;
        self.turnover += traded / v;
        self.total_commission += commission;
        self.rebalances += 1;
    }

    /// `max_k |h_k - w_k|` with `h_k = units_k * close_k / equity` (0 for a ticker not held);
    /// NaN differences are skipped.
    fn drift(&self, target: &[f64], closes: &[&[f64]], t: usize) -> f64 {
        let equity = self.value(closes, t);
        let mut m = 0.0;
        for (k, &u) in self.units.iter().enumerate() {
            let h = if u != 0.0 { u * closes[k][t] / equity } else { 0.0 };
            let d = (h - target[k]).abs();
            if d > m {
                m = d;
            }
        }
        m
    }
}

/// Runs a bound plan over the data's calendar.
pub(crate) fn simulate(
    plan: &Plan,
    tickers: &[String],
    data: &DailyData,
    rule: Rebalance,
    config: &SymphonyConfig,
    cancel: Option<&AtomicBool>,
) -> Result<SymphonyOutput, SymphonyError> {
    let dates = data.dates();
    let start = config.start.unwrap_or(f64::NEG_INFINITY);
    let end = config.end.unwrap_or(f64::INFINITY);
    let first = dates.partition_point(|&d| d < start);
    let stop = dates.partition_point(|&d| d <= end);
    let simulated = stop.saturating_sub(first);
    let n = plan.tickers;

    let mut out = SymphonyOutput {
        tickers: tickers.to_vec(),
        time: Vec::with_capacity(simulated),
        equity: Vec::with_capacity(simulated),
        weights: Vec::with_capacity(simulated * n),
        rebalance_days: Vec::new(),
        metrics: metrics::compute(&MetricsInput {
            initial_capital: config.initial_capital,
            equity: &[],
            t0: f64::NAN,
            t1: f64::NAN,
            periods_per_year: config.periods_per_year,
            rebalances: 0,
            turnover: 0.0,
            total_commission: 0.0,
        }),
    };
    if simulated == 0 {
        return Ok(out);
    }

    let closes: Vec<&[f64]> = plan.closes.iter().map(|c| &c[..]).collect();
    let opens: Vec<&[f64]> = plan.opens.iter().map(|c| &c[..]).collect();
    let fill_open = config.fill_at == SymphonyFill::Open;
    let mut account = Account {
        cash: config.initial_capital,
        units: vec![0.0; n],
        commission_pct: config.commission_pct,
        rebalances: 0,
        turnover: 0.0,
        total_commission: 0.0,
    };
    let mut pending = false;
    let mut pending_target = vec![0.0; n];
    // Without synthetic series no state carries from one day to the next, so the days before
    // `start` need no evaluation.
    let from = if plan.has_synths() { 0 } else { first };
    let mut evaluator = Evaluator::new(plan, from, stop);

    for t in from..stop {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(SymphonyError::Cancelled);
        }
        evaluator.evaluate(plan, t, t >= first);
        if t < first {
            continue;
        }
        let day = t - first;
        if pending {
            account.trade(&pending_target, &opens, t);
            pending = false;
        }
        let target = plan.root_weights(&evaluator.weights);
        out.weights.extend_from_slice(target);
        let due = day == 0
            || match rule {
                Rebalance::Daily => true,
                Rebalance::Weekly => week(dates[t]) != week(dates[t - 1]),
                Rebalance::Monthly => month(dates[t]) != month(dates[t - 1]),
                Rebalance::Quarterly => month(dates[t]).div_euclid(3) != month(dates[t - 1]).div_euclid(3),
                Rebalance::Yearly => month(dates[t]).div_euclid(12) != month(dates[t - 1]).div_euclid(12),
                Rebalance::None => false,
                Rebalance::Threshold(x) => account.drift(target, &closes, t) > x,
            };
        if due {
            out.rebalance_days.push(day as i32);
            if fill_open {
                pending_target.copy_from_slice(target);
                pending = true;
            } else {
                account.trade(target, &closes, t);
            }
        }
        out.time.push(dates[t]);
        out.equity.push(account.value(&closes, t));
    }

    out.metrics = metrics::compute(&MetricsInput {
        initial_capital: config.initial_capital,
        equity: &out.equity,
        t0: dates[first],
        t1: dates[stop - 1],
        periods_per_year: config.periods_per_year,
        rebalances: account.rebalances,
        turnover: account.turnover,
        total_commission: account.total_commission,
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{month, week};

    #[test]
    fn weeks_start_on_monday() {
        let day = 86_400_000.0;
        // 2024-01-07 is a Sunday, 2024-01-08 a Monday.
        let sunday = 1_704_585_600_000.0;
        assert_eq!(week(sunday - 6.0 * day), week(sunday));
        assert_ne!(week(sunday), week(sunday + day));
        assert_eq!(week(sunday + day), week(sunday + 7.0 * day));
        // 1970-01-01 was a Thursday: the week began on Monday 1969-12-29.
        assert_eq!(week(0.0), week(-3.0 * day));
        assert_ne!(week(0.0), week(-4.0 * day));
    }

    #[test]
    fn months_follow_the_utc_calendar() {
        // 2024-02-29 and 2024-03-01, 1999-12-31 and 2000-01-01, 1969-12-31.
        let feb29 = 1_709_164_800_000.0;
        assert_eq!(month(feb29), 2024 * 12 + 1);
        assert_eq!(month(feb29 + 86_400_000.0), 2024 * 12 + 2);
        assert_eq!(month(946_684_800_000.0 - 1.0), 1999 * 12 + 11);
        assert_eq!(month(946_684_800_000.0), 2000 * 12);
        assert_eq!(month(-1.0), 1969 * 12 + 11);
    }
}
