import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { backtest } from '../backtest.js';
import { DslError } from '../dsl/errors.js';
import { isDslFile, loadStrategyFile } from '../dsl/strategy-file.js';
import type { EngineChoice } from '../engine/select.js';
import { TickforgeError, ValidationError } from '../errors.js';
import { generateTicks } from '../generate.js';
import { preset } from '../instruments.js';
import { setLogLevel } from '../log.js';
import { untilAborted } from '../optimize/abort.js';
import type { LoadedScenario } from '../scenario.js';
import { referenceStrategy } from '../strategies/reference.js';
import { verify } from '../verify.js';
import { registerDsl } from './dsl.js';
import { describeBars, describeTicks, formatProfile, formatSummary, toJson } from './format.js';
import { dataFileRun, registerInspect } from './inspect.js';
import { registerBatch, registerOptimize, registerWalkForward } from './optimize.js';
import { loadScenarioFile } from './scenario-file.js';
import { stopExitCode, stoppable } from './signals.js';
import { registerSymphony } from './symphony.js';

function version(): string {
  const dir = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(dir, '..', 'package.json'), join(dir, '..', '..', 'package.json')]) {
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}

function integer(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

function engineOption(value: string): EngineChoice {
  if (value !== 'native' && value !== 'js' && value !== 'auto') {
    throw new InvalidArgumentError('engine must be native, js or auto');
  }
  return value;
}

/**
 * The reference strategy's envelope is 2% wide on M30, a distance calm EURUSD (step 3) almost never
 * travels from its 10-hour mean, so the demo's series moves more per tick to make the strategy
 * trade. `--step-points 3` shows the calm market.
 */
const DEMO_STEP_POINTS = 8;

const program = new Command()
  .name('tickforge')
  .description('Backtest and optimize trading strategies at native speed')
  .version(version())
  .option('-v, --verbose', 'log progress records (JSON, to stderr)')
  .hook('preAction', (cmd) => {
    if (cmd.opts().verbose) setLogLevel('info');
  });

program
  .command('demo')
  .description('generate seeded synthetic EURUSD ticks and run the reference strategy (RSI M5 + envelope M30)')
  .option('--days <n>', 'calendar days of ticks', integer('days'), 30)
  .option('--seed <n>', 'generator seed', integer('seed'), 7)
  .option(
    '--step-points <n>',
    'largest price move per tick, in points (3 is calm EURUSD; the default 8 is volatile enough for the 2% envelope to be reached)',
    integer('step-points'),
    DEMO_STEP_POINTS,
  )
  .option('--engine <engine>', 'native, js or auto', engineOption, 'auto' as EngineChoice)
  .option('--json', 'print the full result as JSON')
  .action(
    stoppable(
      async (stop, opts: { days: number; seed: number; stepPoints: number; engine: EngineChoice; json?: boolean }) => {
        const t0 = performance.now();
        const ticks = generateTicks({
          symbol: 'EURUSD',
          start: '2024-01-01',
          days: opts.days,
          seed: opts.seed,
          stepPoints: opts.stepPoints,
        });
        const genMs = performance.now() - t0;
        const base = {
          ticks,
          strategy: referenceStrategy,
          engine: opts.engine,
          account: { balance: 10_000 },
          signal: stop.signal,
        };
        const result = await backtest(base);
        if (opts.json) {
          process.stdout.write(`${toJson(result)}\n`);
          return;
        }
        const title =
          `tickforge demo: ${result.strategy} on synthetic EURUSD (seed ${opts.seed}, step ${opts.stepPoints} points)\n` +
          `  ${describeTicks(ticks.time)} (generated in ${genMs.toFixed(0)} ms)`;
        // A stop during the profiled re-run keeps the finished run: its summary without the profile.
        const profiled = await backtest({ ...base, profile: true }).catch((e: unknown) => {
          if (stop.received === undefined) throw e;
          return undefined;
        });
        const profile = profiled
          ? formatProfile(profiled)
          : `(partial: stopped by ${stop.received} before the profile)`;
        process.stdout.write(`${formatSummary(result, title)}\n\n${profile}\n`);
      },
    ),
  );

program
  .command('run')
  .description(
    "run a scenario file (data source, strategy, params, account), or a .clj strategy on a scenario's data or on the demo market",
  )
  .argument(
    '<file>',
    'a scenario JSON file (its strategy may be a .clj file), or a strategy .clj file (IR JSON too with --ticks or --bars)',
  )
  .option('--strategy <file>', "run this strategy (IR JSON or .clj) instead of the scenario's")
  .option('--scenario <file>', 'with a .clj argument: take the data and settings from this scenario')
  .option('--ticks <file>', 'with a strategy argument: run it on this tick data file (docs/data.md)')
  .option('--bars <file>', 'with a strategy argument: run it on this bar data file (docs/data.md)')
  .option('--format <format>', 'the format of --ticks or --bars (default auto)')
  .option('--engine <engine>', 'native, js or auto (overrides the file)', engineOption)
  .option('--json', 'print the full result as JSON')
  .option('--profile', 'record the per-step profile')
  .action(
    stoppable(
      async (
        stop,
        file: string,
        opts: {
          strategy?: string;
          scenario?: string;
          ticks?: string;
          bars?: string;
          format?: string;
          engine?: EngineChoice;
          json?: boolean;
          profile?: boolean;
        },
      ) => {
        const { scenario, market } =
          opts.ticks !== undefined || opts.bars !== undefined ? await dataFileRun(file, opts) : runInput(file, opts);
        const result = await backtest({
          ...scenario,
          engine: opts.engine ?? scenario.engine,
          profile: opts.profile ?? scenario.profile,
          signal: stop.signal,
        });
        if (opts.json) {
          process.stdout.write(`${toJson(result)}\n`);
          return;
        }
        const data = scenario.ticks
          ? describeTicks(scenario.ticks.time)
          : describeBars(scenario.bars?.timeframe ?? '', scenario.bars?.time ?? new Float64Array());
        const title = `tickforge run ${file}: ${result.strategy}, ${data}${market ? ` (${market})` : ''}`;
        const profile = result.profile ? `\n\n${formatProfile(result)}` : '';
        process.stdout.write(`${formatSummary(result, title)}${profile}\n`);
      },
    ),
  );

/**
 * What `run` runs. A scenario file, possibly with its strategy replaced; or a strategy .clj file on
 * the data and settings of `--scenario`, or else on the demo's market: seeded synthetic ticks of
 * the strategy's symbol (EURUSD when it names none), 30 days from 2024-01-01, a 10,000 balance.
 */
function runInput(
  file: string,
  opts: { strategy?: string; scenario?: string },
): { scenario: Omit<LoadedScenario, 'optimize' | 'windows'>; market?: string } {
  if (!isDslFile(file)) {
    if (opts.scenario) throw ValidationError.at('--scenario', 'goes with a .clj strategy argument');
    return { scenario: loadScenarioFile(file, opts.strategy) };
  }
  if (opts.strategy) throw ValidationError.at('--strategy', 'the argument is already a strategy file');
  if (opts.scenario) return { scenario: loadScenarioFile(opts.scenario, file) };
  const strategy = loadStrategyFile(file);
  const symbol = (strategy.symbol ?? 'EURUSD').toUpperCase();
  if (!preset(symbol)) {
    throw ValidationError.at(
      file,
      `no synthetic market for symbol '${symbol}'; give the data with --scenario (see README, Scenario files)`,
    );
  }
  const ticks = generateTicks({ symbol, start: '2024-01-01', days: 30, seed: 7, stepPoints: DEMO_STEP_POINTS });
  return {
    scenario: { ticks, strategy, symbol, account: { balance: 10_000 } },
    market: `synthetic ${symbol}, seed 7, step ${DEMO_STEP_POINTS} points, as the demo`,
  };
}

registerOptimize(program, engineOption);
registerBatch(program, engineOption);
registerWalkForward(program, engineOption);
registerDsl(program);
registerSymphony(program);
registerInspect(program);

program
  .command('verify')
  .description('run a scenario on every engine and in every mode and check that all results agree')
  .argument('<scenario>', 'path to a scenario JSON file (its strategy may be a .clj file)')
  .option('--strategy <file>', "verify this strategy (IR JSON or .clj) instead of the scenario's")
  .action(
    stoppable(async (stop, file: string, opts: { strategy?: string }) => {
      const { optimize: _o, windows: _w, ...scenario } = loadScenarioFile(file, opts.strategy);
      // verify runs its modes one after another and reports them together: a stop ends the wait
      // (the modes that honour the signal stop with it) and nothing is reported.
      const raced = await untilAborted(verify({ ...scenario, signal: stop.signal }), stop.signal);
      if (raced.kind === 'aborted') {
        process.stderr.write(`tickforge verify: stopped by ${stop.received} before every mode had run\n`);
        return;
      }
      if (raced.kind === 'error') throw raced.error;
      const r = raced.value;
      const rows = r.rows.map(
        (x) =>
          `  ${x.engine.padEnd(7)}${x.mode.padEnd(18)}${x.error ? `error: ${x.error}` : `${x.hash.slice(0, 16)}  ${x.trades} trades  ${x.elapsedMs.toFixed(0)} ms`}`,
      );
      process.stdout.write(
        `tickforge verify ${file} (run ${r.runId})\n${rows.join('\n')}\n${r.agree ? 'all results agree' : 'RESULTS DIFFER'}\n`,
      );
      if (!r.agree) process.exitCode = 1;
    }),
  );

export async function main(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof DslError) {
      process.stderr.write(`tickforge: invalid strategy file\n${e.format()}\n`);
      process.exitCode = 2;
    } else if (e instanceof ValidationError) {
      process.stderr.write(
        `tickforge: invalid input\n${e.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}\n`,
      );
      process.exitCode = 2;
    } else if (e instanceof TickforgeError) {
      process.stderr.write(`tickforge: ${e.code}: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      throw e;
    }
  } finally {
    // A command stopped by a signal exits with that signal's code, whatever else it reported.
    const code = stopExitCode();
    if (code !== undefined) process.exitCode = code;
  }
}

main(process.argv);
