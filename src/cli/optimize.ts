import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { EngineChoice } from '../engine/select.js';
import { ValidationError } from '../errors.js';
import { runBatch } from '../optimize/batch.js';
import { type OptimizeOptions, type OptimizeResult, startOptimize } from '../optimize/optimize.js';
import type { Progress } from '../optimize/progress.js';
import type { Target } from '../optimize/rank.js';
import { walkForward } from '../optimize/walk-forward.js';
import type { LoadedScenario } from '../scenario.js';
import { toJson } from './format.js';
import { loadScenarioFile } from './scenario-file.js';
import { stoppable } from './signals.js';

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function fixed(x: number | undefined, digits = 2): string {
  if (x === undefined || Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  return x.toFixed(digits);
}

/** The options an `optimize` section of a scenario file describes. */
export function optimizeOptionsOf(file: string, s: LoadedScenario): OptimizeOptions {
  const o = s.optimize;
  if (!o) throw ValidationError.at(`${file}: optimize`, 'the scenario has no optimize section (grid, target, ...)');
  const { optimize: _o, windows: _w, profile: _p, ...base } = s;
  return {
    ...base,
    grid: o.grid,
    constraints: o.constraints,
    sample: o.sample,
    target: o.target as Target | undefined,
    direction: o.direction,
    minTrades: o.minTrades,
    maxDrawdownPct: o.maxDrawdownPct,
    topK: o.topK,
    parallelism: o.parallelism,
    maxWorkers: o.maxWorkers,
    timeoutMs: o.timeoutMs,
  };
}

/**
 * A progress bar on stderr (completed/total, rate, ETA, best so far). On a terminal it redraws in
 * place; otherwise it prints a line every two seconds, so logs of CI jobs stay readable.
 */
export function progressBar(total: number): { update: (p: Progress) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    {
      format: '{bar} {value}/{total} jobs | {rate} jobs/s | ETA {eta_formatted} | failed {failed} | best {best}',
      stream: process.stderr,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 2000,
      hideCursor: true,
      etaBuffer: 100,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { rate: '0', failed: 0, best: '-' });
  return {
    update: (p) => {
      const done = p.completed + p.failed + p.timedOut + p.cancelled;
      const rate = p.elapsedMs > 0 ? (done / p.elapsedMs) * 1000 : 0;
      const best = p.best ? `#${p.best.index} ${fixed(p.best.score, 3)}` : '-';
      bar.update(done, { rate: fixed(rate, 1), failed: p.failed + p.timedOut, best });
    },
    stop: () => bar.stop(),
  };
}

/** The ranked table printed on stdout. */
export function formatRanked(r: OptimizeResult): string {
  const names = Object.keys(r.ranked[0]?.params ?? r.results[0]?.params ?? {});
  const head = ['rank', 'index', ...names, 'score', 'net profit', 'return %', 'max DD %', 'sharpe', 'trades', 'win %'];
  const rows = r.ranked.map((x) => [
    String(x.rank),
    String(x.index),
    ...names.map((n) => String(x.params[n])),
    fixed(x.score, 3),
    fixed(x.metrics.netProfit),
    fixed(x.metrics.returnPct),
    fixed(x.metrics.maxDrawdownPct),
    fixed(x.metrics.sharpe, 3),
    String(x.metrics.tradeCount),
    fixed(x.metrics.winRatePct, 1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
  const summary =
    `${r.strategy}: ${int.format(r.total)} combinations (grid ${int.format(r.gridSize)}), ` +
    `${r.completed} completed, ${r.failed} failed, ${r.timedOut} timed out, ${r.cancelled} cancelled` +
    `${r.partial ? ' (partial)' : ''}; ${r.engine} engine, ${r.parallelism} x${r.workers}, ` +
    `${fixed(r.elapsedMs / 1000, 1)} s, run ${r.runId}`;
  if (rows.length === 0) return `${summary}\nno combination passed the ranking filters`;
  return [summary, '', line(head), ...rows.map(line)].join('\n');
}

/** Every combination as CSV: index, parameters, status, then the metrics. */
export function resultsCsv(r: OptimizeResult): string {
  const names = Object.keys(r.results[0]?.params ?? {});
  const metricNames = Object.keys(r.results.find((x) => x.metrics)?.metrics ?? {});
  const esc = (v: unknown) => {
    const s = v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [['index', ...names, 'status', 'score', ...metricNames, 'error'].join(',')];
  for (const x of r.results) {
    const m = x.metrics as Record<string, number> | undefined;
    lines.push(
      [
        x.index,
        ...names.map((n) => x.params[n]),
        x.status,
        x.score,
        ...metricNames.map((k) => m?.[k]),
        x.error ? `${x.error.type}: ${x.error.message}` : undefined,
      ]
        .map(esc)
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function registerOptimize(program: Command, engineOption: (v: string) => EngineChoice): void {
  program
    .command('optimize')
    .description('run a parameter grid from a scenario file with an optimize section; print the ranked table')
    .argument('<config>', 'scenario JSON with an "optimize" section (grid, constraints, target, ...)')
    .option('--strategy <file>', "optimize this strategy (IR JSON or .clj) instead of the scenario's")
    .option('--engine <engine>', 'native, js or auto (overrides the file)', engineOption)
    .option('--parallelism <mode>', 'none, threads or processes (overrides the file)')
    .option('--max-workers <n>', 'worker count (overrides the file)', (v) => Number(v))
    .option('--json <file>', 'write the full result as JSON (- for stdout)')
    .option('--csv <file>', 'write every combination as CSV (- for stdout)')
    .option('--no-progress', 'no progress bar')
    .action(
      stoppable(
        async (
          stop,
          file: string,
          opts: {
            strategy?: string;
            engine?: EngineChoice;
            parallelism?: 'none' | 'threads' | 'processes';
            maxWorkers?: number;
            json?: string;
            csv?: string;
            progress: boolean;
          },
        ) => {
          const scenario = loadScenarioFile(file, opts.strategy);
          const options = optimizeOptionsOf(file, scenario);
          let bar: ReturnType<typeof progressBar> | undefined;
          try {
            const run = startOptimize({
              ...options,
              engine: opts.engine ?? options.engine,
              parallelism: opts.parallelism ?? options.parallelism,
              maxWorkers: opts.maxWorkers ?? options.maxWorkers,
              signal: stop.signal,
              onProgress: opts.progress ? (p) => bar?.update(p) : undefined,
            });
            if (opts.progress) bar = progressBar(run.total);
            const result = await run.done;
            bar?.stop();
            bar = undefined;
            const toStdout = opts.json === '-' || opts.csv === '-';
            if (!toStdout) process.stdout.write(`${formatRanked(result)}\n`);
            if (opts.json) write(opts.json, toJson(result));
            if (opts.csv) write(opts.csv, resultsCsv(result));
          } finally {
            bar?.stop();
          }
        },
      ),
    );
}

function write(target: string, text: string): void {
  if (target === '-') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  else writeFileSync(target, text);
}

function readBatchFile(file: string): {
  scenarios: string[];
  parallelism?: 'none' | 'threads' | 'processes';
  maxWorkers?: number;
  timeoutMs?: number;
} {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw ValidationError.at(file, `cannot read the batch file: ${(e as Error).message}`);
  }
  const b = raw as { scenarios?: unknown };
  if (!b || !Array.isArray(b.scenarios) || b.scenarios.some((x) => typeof x !== 'string')) {
    throw ValidationError.at(`${file}: scenarios`, 'expected an array of scenario file paths');
  }
  return raw as ReturnType<typeof readBatchFile>;
}

export function registerBatch(program: Command, engineOption: (v: string) => EngineChoice): void {
  program
    .command('batch')
    .description('run many scenario files; an invalid one is reported and skipped, the others run')
    .argument('<batch>', 'JSON { "scenarios": ["a.json", ...], "parallelism"?, "maxWorkers"?, "timeoutMs"? }')
    .option('--engine <engine>', 'native, js or auto for every scenario', engineOption)
    .option('--json <file>', 'write the full result as JSON (- for stdout)')
    .option('--no-progress', 'no progress bar')
    .action(
      stoppable(async (stop, file: string, opts: { engine?: EngineChoice; json?: string; progress: boolean }) => {
        const spec = readBatchFile(file);
        const base = dirname(resolve(file));
        const scenarios = spec.scenarios.map((path) => {
          const full = resolve(base, path);
          try {
            const { optimize: _o, windows: _w, ...s } = loadScenarioFile(full);
            return { ...s, engine: opts.engine ?? s.engine };
          } catch (e) {
            // A scenario file that does not load is still one item of the batch: it fails alone.
            return { __loadError: e, strategy: undefined as never };
          }
        });
        const loadErrors = new Map<number, unknown>();
        scenarios.forEach((s, i) => {
          if ('__loadError' in s) loadErrors.set(i, s.__loadError);
        });
        const bar = opts.progress ? progressBar(scenarios.length) : undefined;
        let result: Awaited<ReturnType<typeof runBatch>>;
        try {
          result = await runBatch({
            scenarios: scenarios.map((s) => ('__loadError' in s ? { strategy: undefined as never } : s)),
            parallelism: spec.parallelism,
            maxWorkers: spec.maxWorkers,
            timeoutMs: spec.timeoutMs,
            signal: stop.signal,
            onProgress: bar ? (p) => bar.update(p) : undefined,
          });
        } finally {
          bar?.stop();
        }
        const lines = result.items.map((item) => {
          const name = spec.scenarios[item.index];
          const loadError = loadErrors.get(item.index);
          if (loadError instanceof ValidationError) {
            return `${item.index}  ${name}  failed  ${loadError.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
          }
          if (item.status === 'completed' && item.result) {
            const m = item.result.metrics;
            return `${item.index}  ${name}  completed  trades ${m.tradeCount}  net ${fixed(m.netProfit)}  return ${fixed(m.returnPct)}%  maxDD ${fixed(m.maxDrawdownPct)}%  sharpe ${fixed(m.sharpe, 3)}`;
          }
          const why = item.issues?.map((i) => `${i.path}: ${i.message}`).join('; ') ?? item.error?.message ?? '';
          return `${item.index}  ${name}  ${item.status}  ${why}`;
        });
        process.stdout.write(
          `batch ${result.runId}: ${result.completed} completed, ${result.failed} failed, ${result.timedOut} timed out, ${result.cancelled} cancelled${result.partial ? ' (partial)' : ''}\n${lines.join('\n')}\n`,
        );
        if (opts.json) write(opts.json, toJson(result));
        if (result.failed + result.timedOut > 0) process.exitCode = 1;
      }),
    );
}

export function registerWalkForward(program: Command, engineOption: (v: string) => EngineChoice): void {
  program
    .command('walk-forward')
    .description('optimize on rolling in-sample windows and test each winner out of sample')
    .argument('<config>', 'scenario JSON with "optimize" and "windows" sections')
    .option('--strategy <file>', "use this strategy (IR JSON or .clj) instead of the scenario's")
    .option('--engine <engine>', 'native, js or auto (overrides the file)', engineOption)
    .option('--json <file>', 'write the full result as JSON (- for stdout)')
    .action(
      stoppable(async (stop, file: string, opts: { strategy?: string; engine?: EngineChoice; json?: string }) => {
        const scenario = loadScenarioFile(file, opts.strategy);
        if (!scenario.windows) throw ValidationError.at(`${file}: windows`, 'the scenario has no windows section');
        const options = optimizeOptionsOf(file, scenario);
        const result = await walkForward({
          ...options,
          start: undefined,
          end: undefined,
          engine: opts.engine ?? options.engine,
          windows: scenario.windows,
          signal: stop.signal,
        });
        const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
        const lines = result.windows.map((w) => {
          const head = `${w.index}  in ${iso(w.inSample.start)}..${iso(w.inSample.end)}  out ${iso(w.outOfSample.start)}..${iso(w.outOfSample.end)}`;
          if (!w.best || !w.result) return `${head}  ${w.status}`;
          const m = w.result.metrics;
          return `${head}  best ${JSON.stringify(w.best.params)} (in-sample ${fixed(w.best.score, 3)})  out: trades ${m.tradeCount} net ${fixed(m.netProfit)} return ${fixed(m.returnPct)}%`;
        });
        const eq = result.equity.equity;
        const final = eq.length > 0 ? (eq[eq.length - 1] as number) : Number.NaN;
        process.stdout.write(
          `walk-forward ${result.runId}: ${result.windows.length} windows${result.partial ? ' (partial)' : ''}; stitched out-of-sample equity ends at ${fixed(final)}\n${lines.join('\n')}\n`,
        );
        if (opts.json) write(opts.json, toJson(result));
      }),
    );
}
