/** The pure-TypeScript engine: the same contract as the Rust core (docs/semantics.md). */
import { type Issue, ValidationError } from '../../errors.js';
import { parseStrategy, resolveParams } from '../../ir/validate.js';
import { validateRunConfig } from '../../run-config.js';
import {
  type EngineOutput,
  type MarketData,
  type Params,
  type RunConfig,
  type StrategyIR,
  TIMEFRAME_MS,
} from '../../types.js';
import { Ctx, compile, usedTimeframes } from './compile.js';
import { Engine, type RunControl } from './engine.js';

export { type RunControl, StopError, type StopReason } from './engine.js';

function collect<T>(issues: Issue[], f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof ValidationError) {
      issues.push(...e.issues);
      return undefined;
    }
    throw e;
  }
}

/**
 * Bar mode: every timeframe the strategy uses must be at least the data's own. Shared by both
 * engines' callers so that every offending path is reported at once.
 */
export function checkTimeframes(strategy: StrategyIR, data: MarketData): void {
  if (data.kind !== 'bars') return;
  const base = data.bars.timeframe;
  const min = TIMEFRAME_MS[base];
  const issues: Issue[] = [];
  for (const u of usedTimeframes(strategy)) {
    if (TIMEFRAME_MS[u.tf] < min)
      issues.push({ path: u.path, message: `${u.tf} is smaller than the data's timeframe ${base}` });
  }
  if (issues.length > 0) throw new ValidationError(issues);
}

/**
 * Runs one backtest. The strategy, params and config are checked here (cheap); the market data is
 * not: the caller validated it.
 */
export function runJs(
  data: MarketData,
  ir: StrategyIR,
  params: Params,
  config: RunConfig,
  control?: RunControl,
): EngineOutput {
  const issues: Issue[] = [];
  const strategy = collect(issues, () => parseStrategy(ir));
  const cfg = collect(issues, () => validateRunConfig(config));
  const resolved = strategy ? collect(issues, () => resolveParams(strategy, params)) : undefined;
  if (issues.length > 0 || !strategy || !cfg || !resolved) throw new ValidationError(issues);

  checkTimeframes(strategy, data);
  const uses = usedTimeframes(strategy);
  const base =
    data.kind === 'bars'
      ? data.bars.timeframe
      : uses.reduce((m, u) => (TIMEFRAME_MS[u.tf] < TIMEFRAME_MS[m] ? u.tf : m), strategy.decision.timeframe);

  const ctx = new Ctx(cfg.instrument.pipSize, cfg.account.balance);
  const program = compile(strategy, resolved, base, ctx);
  const decMs = TIMEFRAME_MS[strategy.decision.timeframe];
  if (data.kind === 'ticks') {
    const time = data.ticks.time;
    const span = time.length > 0 ? (time[time.length - 1] as number) - (time[0] as number) : 0;
    const engine = new Engine(program, ctx, cfg, Math.ceil(span / decMs) + 2);
    return engine.runTicks(data.ticks, cfg.start, cfg.end, control);
  }
  const time = data.bars.time;
  const span = time.length > 0 ? (time[time.length - 1] as number) - (time[0] as number) : 0;
  const engine = new Engine(program, ctx, cfg, Math.ceil(span / decMs) + 2);
  return engine.runBars(data.bars, cfg.start, cfg.end, cfg.fillAt, control);
}
