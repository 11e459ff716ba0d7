//! Metrics of a symphony run (docs/symphony.md section 6, with the formulas of
//! docs/semantics.md section 6 applied to one equity sample per simulated day).

use crate::metrics::{drawdown, pow, return_ratios, MS_PER_YEAR};

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
        (pow(e_last / b0, 1.0 / years) - 1.0) * 100.0
    };

    let (max_drawdown, max_drawdown_pct) = drawdown(b0, input.equity);

    let sqrt_ppy = input.periods_per_year.sqrt();
    let (sharpe, sortino, sd) = return_ratios(&returns(b0, input.equity), sqrt_ppy);
    let volatility_pct = sd * sqrt_ppy * 100.0;

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

/// `r_j = e_j / e_(j-1) - 1` for each simulated day, the first against `b0`.
fn returns(b0: f64, equity: &[f64]) -> Vec<f64> {
    let mut prev = b0;
    equity
        .iter()
        .map(|&e| {
            let r = e / prev - 1.0;
            prev = e;
            r
        })
        .collect()
}
