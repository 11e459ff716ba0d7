//! Metrics on small cases worked out by hand, and the NaN / Infinity edge rules.

use tickforge_core::metrics::{compute, MetricsInput};
use tickforge_core::{EquityCurve, ExitReason, Metrics, Trade};

const HOUR: f64 = 3_600_000.0;
const DAY: f64 = 86_400_000.0;
/// 2024-01-01T00:00:00Z, a Monday.
const D0: f64 = 1_704_067_200_000.0;

fn at(day: f64, hour: f64) -> f64 {
    D0 + day * DAY + hour * HOUR
}

fn trade(id: u32, pnl: f64, entry_time: f64, exit_time: f64) -> Trade {
    Trade {
        id,
        side: 1,
        lots: 1.0,
        entry_time,
        entry_price: 1.1,
        exit_time,
        exit_price: 1.1,
        sl: f64::NAN,
        tp: f64::NAN,
        gross_pnl: pnl,
        commission: 0.0,
        pnl,
        pips: 0.0,
        reason: ExitReason::Signal,
    }
}

fn curve(samples: &[(f64, f64)]) -> EquityCurve {
    EquityCurve {
        time: samples.iter().map(|s| s.0).collect(),
        equity: samples.iter().map(|s| s.1).collect(),
        balance: samples.iter().map(|s| s.1).collect(),
    }
}

fn run(b0: f64, bf: f64, t0: f64, t1: f64, equity: &EquityCurve, trades: &[Trade]) -> Metrics {
    compute(&MetricsInput {
        initial_balance: b0,
        final_balance: bf,
        t0,
        t1,
        equity,
        trades,
        rejected_orders: 0,
        total_commission: 0.0,
        periods_per_year: 252.0,
    })
}

fn assert_rel(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol * want.abs(),
        "{what}: got {got}, want {want}"
    );
}

/// Three trades over three days, balance 10000 -> 10150.
///
/// Trades: +300 (day 0, 00:30-02:00), -100 (day 1, 00:00-02:00), -50 (day 2, 01:00-02:00).
/// Equity samples: day 0: 10100, 10300; day 1: 10250, 10200; day 2: 10120, 10150.
fn three_trades() -> (EquityCurve, Vec<Trade>) {
    let equity = curve(&[
        (at(0.0, 1.0), 10100.0),
        (at(0.0, 2.0), 10300.0),
        (at(1.0, 1.0), 10250.0),
        (at(1.0, 2.0), 10200.0),
        (at(2.0, 1.0), 10120.0),
        (at(2.0, 2.0), 10150.0),
    ]);
    let trades = vec![
        trade(0, 300.0, at(0.0, 0.5), at(0.0, 2.0)),
        trade(1, -100.0, at(1.0, 0.0), at(1.0, 2.0)),
        trade(2, -50.0, at(2.0, 1.0), at(2.0, 2.0)),
    ];
    (equity, trades)
}

#[test]
fn three_trade_example_by_hand() {
    let (equity, trades) = three_trades();
    // T0 = day 0 00:00, T1 = day 2 02:00: 50 hours.
    let m = compute(&MetricsInput {
        initial_balance: 10000.0,
        final_balance: 10150.0,
        t0: at(0.0, 0.0),
        t1: at(2.0, 2.0),
        equity: &equity,
        trades: &trades,
        rejected_orders: 2,
        total_commission: 7.5,
        periods_per_year: 252.0,
    });

    // 10150 - 10000 = 150; 150 / 10000 * 100 = 1.5 %.
    assert_eq!(m.net_profit, 150.0);
    assert_eq!(m.return_pct, 1.5);

    // years = 50 h / 8766 h = 0.0057038558...; 1.015^(1 / years) = 13.6027..., so about
    // +1260.27 %. `pow` is the one place allowed to differ in the last bits.
    assert_rel(m.cagr_pct, 1260.2744072206358, 1e-9, "cagr");

    // Peak 10300 after the second sample; the deepest point is 10120: 180 below the peak,
    // 180 / 10300 * 100 = 1.7475728... %.
    assert_eq!(m.max_drawdown, 180.0);
    assert_eq!(m.max_drawdown_pct, 180.0 / 10300.0 * 100.0);
    assert_rel(m.max_drawdown_pct, 1.7475728155339807, 1e-15, "dd pct");

    // Daily closes 10300, 10200, 10150 after B0 = 10000:
    // r = 0.03, -0.0097087379, -0.0049019608; mean = 0.0051297671.
    // Sample sd = sqrt(sum((r - mean)^2) / 2) = 0.0216719321; sharpe = mean / sd * sqrt(252)
    // = 3.7575112468. Downside: sqrt((0.0097087^2 + 0.0049020^2) / 3) = 0.0062792996;
    // sortino = mean / 0.0062792996 * sqrt(252) = 12.9684094767.
    assert_eq!(m.sharpe, 3.7575112467988476);
    assert_eq!(m.sortino, 12.968409476656646);

    // calmar = cagr / ddPct = 1260.274 / 1.74757 = 721.157.
    assert_rel(m.calmar, 721.157021909586, 1e-9, "calmar");

    // Gross profit 300, gross loss 100 + 50 = 150: profit factor 2.
    assert_eq!(m.gross_profit, 300.0);
    assert_eq!(m.gross_loss, 150.0);
    assert_eq!(m.profit_factor, 2.0);

    // 1 win of 3 trades.
    assert_eq!((m.trade_count, m.wins, m.losses), (3, 1, 2));
    assert_eq!(m.win_rate_pct, 1.0 / 3.0 * 100.0);

    // avg win 300, avg loss (-100 - 50) / 2 = -75, expectancy (300 - 100 - 50) / 3 = 50.
    assert_eq!(m.avg_win, 300.0);
    assert_eq!(m.avg_loss, -75.0);
    assert_eq!(m.expectancy, 50.0);

    // Pnl deviations from 50: 250, -150, -100; squares sum to 95000; sd = sqrt(47500)
    // = 217.9449; sqn = 50 / 217.9449 * sqrt(3) = 0.3973597.
    assert_eq!(m.sqn, 50.0 / 47500.0_f64.sqrt() * 3.0_f64.sqrt());
    assert_rel(m.sqn, 0.39735970711951313, 1e-15, "sqn");

    // In the market 1.5 h + 2 h + 1 h = 4.5 h of 50 h: 9 %.
    assert_eq!(m.exposure_pct, 9.0);

    // The last two trades lose in a row.
    assert_eq!(m.max_consecutive_losses, 2);

    assert_eq!(m.total_commission, 7.5);
    assert_eq!(m.final_balance, 10150.0);
    assert_eq!(m.rejected_orders, 2);
}

#[test]
fn no_trades() {
    let equity = curve(&[(at(0.0, 1.0), 10000.0), (at(1.0, 1.0), 10000.0)]);
    let m = run(10000.0, 10000.0, at(0.0, 0.0), at(1.0, 1.0), &equity, &[]);
    assert_eq!(
        (m.trade_count, m.wins, m.losses, m.max_consecutive_losses),
        (0, 0, 0, 0)
    );
    assert!(m.win_rate_pct.is_nan());
    assert!(m.profit_factor.is_nan());
    assert!(m.avg_win.is_nan() && m.avg_loss.is_nan());
    assert!(m.expectancy.is_nan());
    assert!(m.sqn.is_nan());
    assert_eq!(m.exposure_pct, 0.0);
    assert_eq!(m.gross_profit, 0.0);
    assert_eq!(m.gross_loss, 0.0);
    assert_eq!(m.net_profit, 0.0);
    // Flat equity: no drawdown (calmar NaN), zero returns (sharpe and sortino NaN), CAGR 0.
    assert_eq!(m.max_drawdown, 0.0);
    assert_eq!(m.max_drawdown_pct, 0.0);
    assert!(m.calmar.is_nan());
    assert!(m.sharpe.is_nan() && m.sortino.is_nan());
    assert_eq!(m.cagr_pct, 0.0);
}

#[test]
fn all_winners_give_infinite_profit_factor() {
    let trades = [
        trade(0, 10.0, at(0.0, 1.0), at(0.0, 2.0)),
        trade(1, 5.0, at(0.0, 3.0), at(0.0, 4.0)),
    ];
    let equity = curve(&[(at(0.0, 5.0), 10015.0)]);
    let m = run(10000.0, 10015.0, at(0.0, 0.0), at(0.0, 5.0), &equity, &trades);
    assert_eq!(m.profit_factor, f64::INFINITY);
    assert_eq!(m.win_rate_pct, 100.0);
    assert_eq!(m.avg_win, 7.5);
    assert!(m.avg_loss.is_nan());
    assert_eq!(m.losses, 0);
    assert_eq!(m.max_consecutive_losses, 0);
    // 2 h of 5 h in the market.
    assert_eq!(m.exposure_pct, 40.0);
}

#[test]
fn only_breakeven_trades_give_nan_profit_factor() {
    let trades = [
        trade(0, 0.0, at(0.0, 1.0), at(0.0, 2.0)),
        trade(1, 0.0, at(0.0, 3.0), at(0.0, 4.0)),
    ];
    let equity = curve(&[(at(0.0, 5.0), 10000.0)]);
    let m = run(10000.0, 10000.0, at(0.0, 0.0), at(0.0, 5.0), &equity, &trades);
    assert!(m.profit_factor.is_nan());
    // A zero pnl is neither a win nor a loss.
    assert_eq!((m.trade_count, m.wins, m.losses), (2, 0, 0));
    assert_eq!(m.win_rate_pct, 0.0);
    assert_eq!(m.expectancy, 0.0);
    // Equal pnls: sd 0, so no SQN.
    assert!(m.sqn.is_nan());
}

#[test]
fn single_day_has_no_sharpe_or_sortino() {
    // Many samples, but all on one UTC day: one daily return.
    let equity = curve(&[
        (at(0.0, 1.0), 10100.0),
        (at(0.0, 2.0), 9900.0),
        (at(0.0, 23.0), 10050.0),
    ]);
    let m = run(10000.0, 10050.0, at(0.0, 0.0), at(0.0, 23.0), &equity, &[]);
    assert!(m.sharpe.is_nan());
    assert!(m.sortino.is_nan());
}

#[test]
fn daily_value_is_the_last_sample_of_the_day() {
    // Day 0 ends at 10100 whatever happened earlier; day 1 ends at 9999.
    // r = 10100 / 10000 - 1 = 0.01, 9999 / 10100 - 1 = -0.01; mean 0 (up to rounding).
    let equity = curve(&[
        (at(0.0, 1.0), 5000.0),
        (at(0.0, 23.5), 10100.0),
        (at(1.0, 0.0), 20000.0),
        (at(1.0, 12.0), 9999.0),
    ]);
    let m = run(10000.0, 9999.0, at(0.0, 0.0), at(1.0, 12.0), &equity, &[]);
    let r: [f64; 2] = [10100.0 / 10000.0 - 1.0, 9999.0 / 10100.0 - 1.0];
    let mean = (0.0 + r[0] + r[1]) / 2.0;
    let sd = ((0.0 + (r[0] - mean) * (r[0] - mean) + (r[1] - mean) * (r[1] - mean)) / 1.0).sqrt();
    assert_eq!(m.sharpe, mean / sd * 252.0_f64.sqrt());
    let dd = ((0.0 + r[1] * r[1]) / 2.0).sqrt();
    assert_eq!(m.sortino, mean / dd * 252.0_f64.sqrt());
}

#[test]
fn rising_days_have_no_sortino() {
    // No negative daily return: downside deviation 0.
    let equity = curve(&[
        (at(0.0, 1.0), 10100.0),
        (at(1.0, 1.0), 10300.0),
        (at(2.0, 1.0), 10400.0),
    ]);
    let m = run(10000.0, 10400.0, at(0.0, 0.0), at(2.0, 1.0), &equity, &[]);
    assert!(m.sortino.is_nan());
    assert!(m.sharpe > 0.0);
}

#[test]
fn drawdown_is_measured_from_the_initial_balance() {
    // The curve never rises above B0 = 10000, so the peak stays 10000: 10000 - 9800 = 200, 2 %.
    let equity = curve(&[
        (at(0.0, 1.0), 9900.0),
        (at(0.0, 2.0), 9800.0),
        (at(0.0, 3.0), 9850.0),
    ]);
    let m = run(10000.0, 9850.0, at(0.0, 0.0), at(0.0, 3.0), &equity, &[]);
    assert_eq!(m.max_drawdown, 200.0);
    assert_eq!(m.max_drawdown_pct, 2.0);
}

#[test]
fn drawdown_amount_and_percent_are_separate_maxima() {
    // Peak 10000: dip to 9000 (1000, 10 %). Peak 20000: dip to 18500 (1500, 7.5 %).
    let equity = curve(&[
        (at(0.0, 1.0), 9000.0),
        (at(0.0, 2.0), 20000.0),
        (at(0.0, 3.0), 18500.0),
        (at(0.0, 4.0), 19000.0),
    ]);
    let m = run(10000.0, 19000.0, at(0.0, 0.0), at(0.0, 4.0), &equity, &[]);
    assert_eq!(m.max_drawdown, 1500.0);
    assert_eq!(m.max_drawdown_pct, 10.0);
}

#[test]
fn max_consecutive_losses_counts_the_longest_run() {
    // pnls: - - + - - - 0 - : runs of 2, then 3 (a zero pnl ends a run), then 1.
    let pnls = [-1.0, -2.0, 5.0, -1.0, -1.0, -3.0, 0.0, -4.0];
    let trades: Vec<Trade> = pnls
        .iter()
        .enumerate()
        .map(|(i, &p)| trade(i as u32, p, at(0.0, i as f64), at(0.0, i as f64 + 0.5)))
        .collect();
    let equity = curve(&[(at(0.0, 9.0), 9993.0)]);
    let m = run(10000.0, 9993.0, at(0.0, 0.0), at(0.0, 10.0), &equity, &trades);
    assert_eq!(m.max_consecutive_losses, 3);
    assert_eq!((m.trade_count, m.wins, m.losses), (8, 1, 6));
    // (-1 - 2 - 1 - 1 - 3 - 4) / 6 = -2.
    assert_eq!(m.avg_loss, -2.0);
    // 8 trades of 0.5 h in 10 h: 40 %.
    assert_eq!(m.exposure_pct, 40.0);
}

#[test]
fn cagr_edge_rules() {
    let equity = curve(&[(at(0.0, 0.0), 10000.0)]);
    // No elapsed time: NaN (and so calmar NaN), exposure 0.
    let m = run(10000.0, 11000.0, at(0.0, 0.0), at(0.0, 0.0), &equity, &[]);
    assert!(m.cagr_pct.is_nan());
    assert!(m.calmar.is_nan());
    assert_eq!(m.exposure_pct, 0.0);
    // Account wiped out: -100 %.
    let m = run(10000.0, -50.0, at(0.0, 0.0), at(10.0, 0.0), &equity, &[]);
    assert_eq!(m.cagr_pct, -100.0);
    assert_eq!(m.net_profit, -10050.0);
    assert_eq!(m.return_pct, -10050.0 / 10000.0 * 100.0);
    assert_rel(m.return_pct, -100.5, 1e-15, "return");
    // Exactly one Julian year doubling: +100 %.
    let m = run(10000.0, 20000.0, 0.0, 31_557_600_000.0, &equity, &[]);
    assert_rel(m.cagr_pct, 100.0, 1e-12, "one-year cagr");
}

#[test]
fn sharpe_uses_the_given_periods_per_year() {
    let (equity, trades) = three_trades();
    let base = run(10000.0, 10150.0, at(0.0, 0.0), at(2.0, 2.0), &equity, &trades);
    let weekly = compute(&MetricsInput {
        initial_balance: 10000.0,
        final_balance: 10150.0,
        t0: at(0.0, 0.0),
        t1: at(2.0, 2.0),
        equity: &equity,
        trades: &trades,
        rejected_orders: 0,
        total_commission: 0.0,
        periods_per_year: 52.0,
    });
    assert_rel(
        weekly.sharpe / base.sharpe,
        (52.0_f64 / 252.0).sqrt(),
        1e-12,
        "sharpe ratio",
    );
}
