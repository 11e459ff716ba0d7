export type { BacktestOptions, BacktestResult } from './backtest.js';
export { backtest, backtestSync } from './backtest.js';
export type { RunSettings, TimeInput } from './config.js';
export { buildRunConfig, toEpochMs } from './config.js';
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
export type { GenerateBarsOptions, GenerateTicksOptions } from './generate.js';
export { generateBars, generateTicks } from './generate.js';
export { PRESETS } from './instruments.js';
export { parseStrategy, resolveParams } from './ir/validate.js';
export { loadScenario } from './scenario.js';
export { referenceStrategy } from './strategies/reference.js';
export * from './types.js';
