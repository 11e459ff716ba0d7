//! tickforge engine: columnar market data, bars rendered from ticks, incremental indicators, a
//! strategy IR, a trade simulator and metrics. The semantics are fixed by `docs/semantics.md`; the
//! pure TypeScript engine in `src/engine/js` implements the same contract.

pub mod bars;
pub mod batch;
pub mod config;
pub mod data;
pub mod engine;
pub mod error;
pub mod expr;
pub mod generate;
pub mod indicators;
pub mod ir;
pub mod limits;
pub mod load;
pub mod metrics;
mod pool;
pub mod profile;
pub mod results;
pub mod series;
pub mod symphony;
pub mod timeframe;
mod vm;

pub use batch::{run_grid, run_jobs, BatchOptions, Fault, JobResult, JobStatus};
pub use config::RunConfig;
pub use data::{Bar, BarData, MarketData, TickData};
pub use engine::{run, run_with_cache, run_with_control, RunControl};
pub use error::{panic_message, Error, ErrorKind};
pub use ir::{compile, parse_params, Program, Strategy};
pub use pool::THREAD_STACK_BYTES;
pub use results::{EquityCurve, ExitReason, Metrics, RejectReason, Rejection, RunOutput, Trade};
pub use series::SeriesCache;
pub use timeframe::Timeframe;
