//! What a run produces. Field meanings: docs/semantics.md sections 4 to 6.

use crate::profile::Profile;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    StopLoss,
    TakeProfit,
    Signal,
    Reverse,
    End,
}

impl ExitReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ExitReason::StopLoss => "sl",
            ExitReason::TakeProfit => "tp",
            ExitReason::Signal => "signal",
            ExitReason::Reverse => "reverse",
            ExitReason::End => "end",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    InvalidLots,
    MinLot,
    MaxLot,
    InvalidSl,
    InvalidTp,
    Margin,
    InvalidPrice,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::InvalidLots => "invalid_lots",
            RejectReason::MinLot => "min_lot",
            RejectReason::MaxLot => "max_lot",
            RejectReason::InvalidSl => "invalid_sl",
            RejectReason::InvalidTp => "invalid_tp",
            RejectReason::Margin => "margin",
            RejectReason::InvalidPrice => "invalid_price",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    pub id: u32,
    /// 1 long, -1 short.
    pub side: i8,
    pub lots: f64,
    pub entry_time: f64,
    pub entry_price: f64,
    pub exit_time: f64,
    pub exit_price: f64,
    /// The stop-loss in force at the exit (a trailing stop's last level); NaN when not set.
    pub sl: f64,
    /// NaN when not set.
    pub tp: f64,
    pub gross_pnl: f64,
    pub commission: f64,
    pub pnl: f64,
    pub pips: f64,
    pub reason: ExitReason,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub time: f64,
    pub side: i8,
    pub lots: f64,
    pub reason: RejectReason,
    pub required: f64,
    pub free: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EquityCurve {
    pub time: Vec<f64>,
    pub equity: Vec<f64>,
    pub balance: Vec<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    pub net_profit: f64,
    pub return_pct: f64,
    pub cagr_pct: f64,
    pub max_drawdown: f64,
    pub max_drawdown_pct: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub calmar: f64,
    pub profit_factor: f64,
    pub win_rate_pct: f64,
    pub trade_count: u32,
    pub wins: u32,
    pub losses: u32,
    pub avg_win: f64,
    pub avg_loss: f64,
    pub expectancy: f64,
    pub sqn: f64,
    pub exposure_pct: f64,
    pub max_consecutive_losses: u32,
    pub gross_profit: f64,
    pub gross_loss: f64,
    pub total_commission: f64,
    pub final_balance: f64,
    pub rejected_orders: u32,
}

impl Metrics {
    /// The fields as JavaScript names them, in declaration order: the order of `row`.
    pub const NAMES: [&'static str; 24] = [
        "netProfit",
        "returnPct",
        "cagrPct",
        "maxDrawdown",
        "maxDrawdownPct",
        "sharpe",
        "sortino",
        "calmar",
        "profitFactor",
        "winRatePct",
        "tradeCount",
        "wins",
        "losses",
        "avgWin",
        "avgLoss",
        "expectancy",
        "sqn",
        "exposurePct",
        "maxConsecutiveLosses",
        "grossProfit",
        "grossLoss",
        "totalCommission",
        "finalBalance",
        "rejectedOrders",
    ];

    /// Every field as a double (counts exactly), in `NAMES` order.
    pub fn row(&self) -> [f64; 24] {
        [
            self.net_profit,
            self.return_pct,
            self.cagr_pct,
            self.max_drawdown,
            self.max_drawdown_pct,
            self.sharpe,
            self.sortino,
            self.calmar,
            self.profit_factor,
            self.win_rate_pct,
            f64::from(self.trade_count),
            f64::from(self.wins),
            f64::from(self.losses),
            self.avg_win,
            self.avg_loss,
            self.expectancy,
            self.sqn,
            self.exposure_pct,
            f64::from(self.max_consecutive_losses),
            self.gross_profit,
            self.gross_loss,
            self.total_commission,
            self.final_balance,
            f64::from(self.rejected_orders),
        ]
    }
}

#[derive(Debug, Clone)]
pub struct RunOutput {
    pub trades: Vec<Trade>,
    pub equity: EquityCurve,
    pub metrics: Metrics,
    pub rejections: Vec<Rejection>,
    pub profile: Option<Profile>,
    /// Ticks (or bars) read, warmup included.
    pub events: u64,
}
