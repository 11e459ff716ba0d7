export type { BacktestOptions, BacktestResult } from './backtest.js';
export { backtest, backtestSync } from './backtest.js';
export type { RunSettings, TimeInput } from './config.js';
export { buildRunConfig, toEpochMs } from './config.js';
export type {
  BarLoadOptions,
  LoadedBars,
  LoadedTicks,
  LoadOptions,
  LoadReport,
  TickLoadOptions,
} from './data/load/index.js';
export { loadBars, loadBarsSync, loadTicks, loadTicksSync } from './data/load/index.js';
export type { Form, Loc } from './dsl/ast.js';
export type { Compiled, CompileOptions, Diagnostic } from './dsl/index.js';
export { check, compile, DslError, format, formatDiagnostic, read, toDsl } from './dsl/index.js';

// Installs the DSL compiler for symphony files given to runSymphonies as `{ source, path }`.
import './dsl/symphony-register.js';

export { loadNative, nativeLoadFailure } from './engine/native.js';
export type { EngineChoice, EngineName } from './engine/select.js';
export { selectEngine } from './engine/select.js';
export type { ErrorCode, Issue } from './errors.js';
export {
  CancelledError,
  EngineError,
  TickforgeError,
  TimeoutError,
  ValidationError,
} from './errors.js';
export { runTasks } from './executor.js';
export type { GenerateBarsOptions, GenerateTicksOptions } from './generate.js';
export { generateBars, generateTicks } from './generate.js';
export { PRESETS } from './instruments.js';
export { parseStrategy, resolveParams } from './ir/validate.js';
export type { BatchItem, BatchOptions, BatchResult } from './optimize/batch.js';
export { runBatch } from './optimize/batch.js';
export type { Constraint, Grid, GridValue } from './optimize/grid.js';
export { expandGrid } from './optimize/grid.js';
export type {
  JobResult,
  JobStatus,
  OptimizeOptions,
  OptimizeResult,
  OptimizeRun,
  RankedResult,
} from './optimize/optimize.js';
export { optimize, startOptimize } from './optimize/optimize.js';
export type { Parallelism } from './optimize/parallelism.js';
export type { Progress } from './optimize/progress.js';
export type { RankOptions, Target } from './optimize/rank.js';
export type { Duration, WalkForwardOptions, WalkForwardResult, WalkForwardWindow } from './optimize/walk-forward.js';
export { walkForward } from './optimize/walk-forward.js';
export { loadScenario } from './scenario.js';
export { referenceStrategy } from './strategies/reference.js';
export type { DailySeries, GenerateDailyOptions } from './symphony/data.js';
export { alignDaily, generateDaily } from './symphony/data.js';
export { runSymphonyJs } from './symphony/engine.js';
export { resolveSymphony, validateSymphonyIR } from './symphony/resolve.js';
export type {
  OptimizeSymphonyOptions,
  OptimizeSymphonyResult,
  RunSymphoniesOptions,
  SymphonyBook,
  SymphonyComboResult,
  SymphonyCompiler,
  SymphonyFile,
  SymphonyFileError,
  SymphonyFileResult,
  SymphonyRanked,
  SymphonyRankOptions,
  SymphonySettings,
  SymphonySignals,
} from './symphony/run.js';
export { optimizeSymphony, registerSymphonyCompiler, runSymphonies } from './symphony/run.js';
export * from './symphony/types.js';
export * from './types.js';
export type { VerifyResult, VerifyRow } from './verify.js';
export { resultHash, verify } from './verify.js';
