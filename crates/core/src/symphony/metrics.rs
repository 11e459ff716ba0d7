//! Metrics of a symphony run (docs/symphony.md section 6, with the formulas of
//! docs/semantics.md section 6 applied to one equity sample per simulated day).

/// Julian year, as in the contract's CAGR.
const MS_PER_YEAR: f64 = 31_557_600_000.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SymphonyMetrics {
    pub return_pct: f64,
    pub cagr_pct: f64,
    pub max_drawdown: f64,
    pub max_drawdown_pct: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub calmar: f64,
    pub volatility_pct: f64,
    pub rebalances: u32,
    pub turnover: f64,
    pub total_commission: f64,
    pub final_equity: f64,
}

pub(crate) struct MetricsInput<'a> {
    pub initial_capital: f64,
    /// Closing equity of each simulated day.
    pub equity: &'a [f64],
    /// First and last simulated dates (unused without simulated days).
    pub t0: f64,
    pub t1: f64,
    pub periods_per_year: f64,
    pub rebalances: u32,
    pub turnover: f64,
    pub total_commission: f64,
}

pub(crate) fn compute(input: &MetricsInput<'_>) -> SymphonyMetrics {
    let b0 = input.initial_capital;
    let e_last = input.equity.last().copied().unwrap_or(b0);
    let return_pct = (e_last - b0) / b0 * 100.0;

    let years = if input.equity.is_empty() {
        f64::NAN
    } else {
        (input.t1 - input.t0) / MS_PER_YEAR
    };
    let cagr_pct = if years.is_nan() || years <= 0.0 {
        f64::NAN
    } else if e_last <= 0.0 {
        -100.0
    } else {
        ((e_last / b0).powf(1.0 / years) - 1.0) * 100.0
    };

    let mut peak = b0;
    let mut max_drawdown = 0.0;
    let mut max_drawdown_pct = 0.0;
    for &e in input.equity {
        if e > peak {
            peak = e;
        }
        let dd = peak - e;
        let dd_pct = dd / peak * 100.0;
        if dd > max_drawdown {
            max_drawdown = dd;
        }
        if dd_pct > max_drawdown_pct {
            max_drawdown_pct = dd_pct;
        }
    }

    let sqrt_ppy = input.periods_per_year.sqrt();
    let (sharpe, sortino, volatility_pct) = returns_stats(b0, input.equity, sqrt_ppy);

    let calmar = if max_drawdown_pct == 0.0 {
        f64::NAN
    } else {
        cagr_pct / max_drawdown_pct
    };

    SymphonyMetrics {
        return_pct,
        cagr_pct,
        max_drawdown,
        max_drawdown_pct,
        sharpe,
        sortino,
        calmar,
        volatility_pct,
        rebalances: input.rebalances,
        turnover: input.turnover,
        total_commission: input.total_commission,
        final_equity: e_last,
    }
}

/// Sharpe, Sortino and annualized volatility of `r_j = e_j / e_(j-1) - 1`, the first against
/// `b0`; all NaN with fewer than two returns.
fn returns_stats(b0: f64, equity: &[f64], sqrt_ppy: f64) -> (f64, f64, f64) {
    let count = equity.len();
    if count < 2 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let n = count as f64;
    let returns = || {
        let mut prev = b0;
        equity.iter().map(move |&e| {
            let r = e / prev - 1.0;
            prev = e;
            r
        })
    };
    let mut sum = 0.0;
    for r in returns() {
        sum += r;
    }
    let mean = sum / n;
    let mut ss = 0.0;
    for r in returns() {
        let d = r - mean;
        ss += d * d;
    }
    let sd = (ss / (n - 1.0)).sqrt();
    let sharpe = if sd == 0.0 { f64::NAN } else { mean / sd * sqrt_ppy };
    let mut down_sq = 0.0;
    for r in returns() {
        let m = if r < 0.0 { r } else { 0.0 };
        down_sq += m * m;
    }
    let dd = (down_sq / n).sqrt();
    let sortino = if dd == 0.0 { f64::NAN } else { mean / dd * sqrt_ppy };
    let volatility_pct = sd * sqrt_ppy * 100.0;
    (sharpe, sortino, volatility_pct)
}
