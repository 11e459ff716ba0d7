/**
 * Running many symphonies over one DailyData (docs/symphony.md section 7): each file compiled or
 * resolved on its own (a bad file is reported and skipped), the rest evaluated in parallel on the
 * native engine's pool or the task executor, and the results consolidated into one allocation.
 * Also a grid optimizer over a symphony's params.
 */
import { availableParallelism } from 'node:os';
import { type TimeInput, toEpochMs } from '../config.js';
import type { EngineChoice, EngineName } from '../engine/select.js';
import { CancelledError, EngineError, type Issue, TimeoutError, ValidationError } from '../errors.js';
import { runTasks, type TaskError } from '../executor.js';
import { describe as describeValue, isPlainObject } from '../ir/validate.js';
import { newRunId, runLogger } from '../log.js';
import { type Constraint, expandGrid, type Grid } from '../optimize/grid.js';
import type { StrategyIR } from '../types.js';
import { checkDailyData } from './data.js';
import { checkSymphonyConfig, DEFAULT_SYMPHONY_CONFIG, runSymphonyJs, simulatedRange } from './engine.js';
import {
  configJson,
  fromNativeSymphony,
  type NativeSymphonyResult,
  nativeSymphony,
  selectSymphonyEngine,
  toNativeDaily,
} from './native.js';
import { resolveSymphony, validateSymphonyIR } from './resolve.js';
import { runOnThreads } from './threads.js';
import {
  type DailyData,
  SYMPHONY_METRIC_KEYS,
  type SymphonyIR,
  type SymphonyMetrics,
  type SymphonyOutput,
  type SymphonyRunConfig,
} from './types.js';

// ---------------------------------------------------------------- inputs and results

/** One file: an IR, an IR with options, or DSL source compiled by the registered compiler. */
export type SymphonyFile =
  | SymphonyIR
  | { ir: SymphonyIR; label?: string; params?: Record<string, number>; weight?: number }
  | { source: string; path?: string; label?: string; params?: Record<string, number>; weight?: number };

export interface SymphonyFileError {
  code: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  /** Every problem, for validation errors. */
  issues?: Issue[];
}

export interface SymphonyFileResult {
  index: number;
  label: string;
  status: 'ok' | 'failed';
  /** The file's weight in the consolidated allocation (default 1). */
  weight: number;
  output?: SymphonyOutput;
  error?: SymphonyFileError;
}

export interface SymphonySignals {
  /** The simulated day used: the last at or before the requested date. */
  date: number;
  /** The consolidated allocation on that day, over the union of the successful files' tickers. */
  weights: Record<string, number>;
  files: Array<{ label: string; weights: Record<string, number> }>;
  failed: Array<{ label: string; error: SymphonyFileError }>;
}

export interface SymphonyBook {
  runId: string;
  engine: EngineName;
  /** Whether the signal fired before every file finished (finished files keep their results). */
  cancelled: boolean;
  files: SymphonyFileResult[];
  /** Union of the successful files' tickers, ascending. */
  tickers: string[];
  /** The simulated days. */
  dates: Float64Array;
  /** Weighted mean of the successful files' target weights on simulated day `dayIndex`. */
  consolidated(dayIndex: number): Record<string, number>;
  signals(date: number | Date | string): SymphonySignals;
}

/** Run settings shared by `runSymphonies` and `optimizeSymphony`. */
export interface SymphonySettings {
  engine?: EngineChoice;
  rebalance?: 'daily' | 'weekly' | 'monthly' | 'quarterly' | 'yearly' | 'none' | { threshold: number } | null;
  fillAt?: 'close' | 'open';
  commissionPct?: number;
  initialCapital?: number;
  start?: TimeInput | null;
  end?: TimeInput | null;
  periodsPerYear?: number;
  /**
   * `none` runs one file at a time; `threads` (default) up to `maxWorkers` at once (native: the
   * engine's pool; pure-TS: worker threads).
   */
  parallelism?: 'none' | 'threads';
  /** Default: the available cores (1 with parallelism `none`). */
  maxWorkers?: number;
  signal?: AbortSignal;
  /** Per file (per combination when optimizing); the TypeScript engine only. */
  timeoutMs?: number;
  /** Called as files finish (native: once, when the batch is done). */
  onProgress?: (done: number, total: number) => void;
}

export type RunSymphoniesOptions = SymphonySettings;

// ---------------------------------------------------------------- DSL compiler hook

/** Compiles DSL source; `tickers` are the data's, so a ticker the data lacks is a located error. */
export type SymphonyCompiler = (source: string, path: string, tickers: readonly string[]) => SymphonyIR;
let compiler: SymphonyCompiler | null = null;

/** Installs the DSL compiler used for `{ source, path }` files (the DSL module calls this). */
export function registerSymphonyCompiler(fn: SymphonyCompiler | null): void {
  compiler = fn;
}

/**
 * The registered compiler; else the DSL's registration module is loaded (it registers itself),
 * else the DSL module's `compile` is adapted; else null.
 */
async function findCompiler(): Promise<SymphonyCompiler | null> {
  if (compiler) return compiler;
  try {
    await import('../dsl/symphony-register.js');
  } catch {
    // The DSL may be absent from this build; the next step tries its entry point.
  }
  if (compiler) return compiler;
  try {
    const mod = (await import('../dsl/index.js')) as unknown as { compile?: unknown };
    if (compiler) return compiler;
    const compile = mod.compile;
    if (typeof compile !== 'function') return null;
    return (source, path, tickers) => {
      const r = (compile as (s: string, o: { file: string; tickers: readonly string[] }) => unknown)(source, {
        file: path,
        tickers,
      });
      if (isPlainObject(r) && r.kind === 'symphony' && isPlainObject(r.ir)) return r.ir as unknown as SymphonyIR;
      if (isPlainObject(r) && r.kind === 'strategy') {
        throw ValidationError.at(`${path}:1:1`, 'this file defines a strategy, not a symphony');
      }
      return r as SymphonyIR;
    };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- errors

const CODE_BY_TYPE: Readonly<Record<string, string>> = {
  ValidationError: 'ERR_TICKFORGE_VALIDATION',
  DslError: 'ERR_TICKFORGE_VALIDATION',
  CancelledError: 'ERR_TICKFORGE_CANCELLED',
  TimeoutError: 'ERR_TICKFORGE_TIMEOUT',
};

const LOCATION_RE = /^(.*):(\d+):(\d+)$/;

/** A thrown value as a file error; a location (DSL diagnostics or a `file:line:column` path) is kept. */
export function fileError(e: unknown, file?: string): SymphonyFileError {
  const out: SymphonyFileError = {
    code: 'ERR_TICKFORGE_ENGINE',
    message: e instanceof Error ? e.message : String(e),
  };
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    out.code = typeof code === 'string' && code.startsWith('ERR_') ? code : (CODE_BY_TYPE[e.name] ?? out.code);
  }
  if (file !== undefined) out.file = file;
  if (e instanceof ValidationError) {
    out.issues = e.issues.map((i) => ({ ...i }));
    const m = e.issues.length > 0 ? LOCATION_RE.exec((e.issues[0] as Issue).path) : null;
    if (m) {
      out.file = m[1] as string;
      out.line = Number(m[2]);
      out.column = Number(m[3]);
    }
  }
  const o = e as { diagnostics?: unknown; file?: unknown; line?: unknown; column?: unknown };
  const d = Array.isArray(o?.diagnostics) ? (o.diagnostics[0] as Record<string, unknown> | undefined) : undefined;
  const loc = d ?? (isPlainObject(o) || e instanceof Error ? (o as Record<string, unknown>) : undefined);
  if (loc && typeof loc.line === 'number' && typeof loc.column === 'number') {
    if (typeof loc.file === 'string') out.file = loc.file;
    out.line = loc.line;
    out.column = loc.column;
  }
  return out;
}

function fromTaskError(status: string, err: TaskError | undefined): SymphonyFileError {
  if (status === 'cancelled') return { code: 'ERR_TICKFORGE_CANCELLED', message: err?.message ?? 'cancelled' };
  if (status === 'timed_out') return { code: 'ERR_TICKFORGE_TIMEOUT', message: err?.message ?? 'timed out' };
  const code = CODE_BY_TYPE[err?.type ?? ''] ?? 'ERR_TICKFORGE_ENGINE';
  return { code, message: err?.message ?? 'unknown error' };
}

// ---------------------------------------------------------------- settings

/** The engine configuration from the caller's settings (defaults of docs/symphony.md section 5). */
export function buildSymphonyConfig(s: SymphonySettings = {}): SymphonyRunConfig {
  const issues: Issue[] = [];
  let start: number | null = null;
  let end: number | null = null;
  try {
    start = s.start == null ? null : toEpochMs(s.start, 'start');
  } catch (e) {
    if (e instanceof ValidationError) issues.push(...e.issues);
    else throw e;
  }
  try {
    end = s.end == null ? null : toEpochMs(s.end, 'end');
  } catch (e) {
    if (e instanceof ValidationError) issues.push(...e.issues);
    else throw e;
  }
  if (issues.length > 0) throw new ValidationError(issues);
  const config: SymphonyRunConfig = {
    rebalance: s.rebalance ?? DEFAULT_SYMPHONY_CONFIG.rebalance,
    fillAt: s.fillAt ?? DEFAULT_SYMPHONY_CONFIG.fillAt,
    commissionPct: s.commissionPct ?? DEFAULT_SYMPHONY_CONFIG.commissionPct,
    initialCapital: s.initialCapital ?? DEFAULT_SYMPHONY_CONFIG.initialCapital,
    start,
    end,
    periodsPerYear: s.periodsPerYear ?? DEFAULT_SYMPHONY_CONFIG.periodsPerYear,
  };
  if (isPlainObject(config.rebalance)) config.rebalance = { threshold: config.rebalance.threshold as number };
  checkSymphonyConfig(config);
  return config;
}

function workersOf(s: SymphonySettings): number {
  const p = s.parallelism ?? 'threads';
  if (p !== 'none' && p !== 'threads') {
    throw ValidationError.at('parallelism', `expected 'none' or 'threads', got ${describeValue(p)}`);
  }
  if (s.maxWorkers !== undefined && !(Number.isInteger(s.maxWorkers) && s.maxWorkers >= 1)) {
    throw ValidationError.at('maxWorkers', `expected an integer >= 1, got ${describeValue(s.maxWorkers)}`);
  }
  if (p === 'none') return 1;
  return s.maxWorkers ?? availableParallelism();
}

function checkTimeout(t: number | undefined): void {
  if (t !== undefined && !(Number.isFinite(t) && t > 0)) {
    throw ValidationError.at('timeoutMs', `expected a positive number of milliseconds, got ${describeValue(t)}`);
  }
}

// ---------------------------------------------------------------- batch evaluation

type Outcome = { output: SymphonyOutput } | { error: SymphonyFileError };

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Evaluates resolved IRs (null entries are skipped and left undefined) with one engine. Never
 * throws for one job; finished jobs keep their outputs when the signal fires.
 */
async function evaluate(
  irs: (SymphonyIR | null)[],
  data: DailyData,
  config: SymphonyRunConfig,
  engine: EngineName,
  workers: number,
  s: SymphonySettings,
): Promise<(Outcome | undefined)[]> {
  const idx: number[] = [];
  irs.forEach((ir, i) => {
    if (ir) idx.push(i);
  });
  const out: (Outcome | undefined)[] = new Array(irs.length);
  const total = idx.length;
  if (total === 0) return out;

  if (engine === 'native') {
    const binding = nativeSymphony();
    if (!binding) throw new EngineError('ERR_TICKFORGE_ENGINE', 'the native symphony engine went away');
    const token = new binding.CancelToken();
    const onAbort = () => token.cancel();
    s.signal?.addEventListener('abort', onAbort, { once: true });
    if (s.signal?.aborted) token.cancel();
    try {
      const options = { threads: workers };
      let results: NativeSymphonyResult[];
      try {
        const handle = toNativeDaily(binding, data);
        results = await binding.runSymphonies(
          handle,
          idx.map((i) => JSON.stringify(irs[i])),
          [configJson(config)],
          options,
          token,
        );
      } catch (e) {
        const error = fileError(e);
        for (const i of idx) out[i] = { error };
        s.onProgress?.(total, total);
        return out;
      }
      if (!Array.isArray(results) || results.length !== total) {
        throw new EngineError(
          'ERR_TICKFORGE_ENGINE',
          `runSymphonies returned ${results?.length} results for ${total} jobs`,
        );
      }
      results.forEach((r, j) => {
        const i = idx[j] as number;
        out[i] = r.ok
          ? { output: fromNativeSymphony(r) }
          : { error: { code: r.errorCode || 'ERR_TICKFORGE_ENGINE', message: r.errorMessage } };
      });
      s.onProgress?.(total, total);
      return out;
    } finally {
      s.signal?.removeEventListener('abort', onAbort);
    }
  }

  if (workers > 1 && total > 1) {
    const outcomes = await runOnThreads(
      idx.map((i) => ({ index: i, ir: irs[i] as SymphonyIR })),
      data,
      config,
      Math.min(workers, total),
      {
        ...(s.signal ? { signal: s.signal } : {}),
        ...(s.timeoutMs !== undefined ? { timeoutMs: s.timeoutMs } : {}),
        onSettled: (n) => s.onProgress?.(n, total),
      },
    );
    for (const i of idx) {
      const o = outcomes.get(i);
      out[i] =
        o?.status === 'fulfilled' ? { output: o.output } : { error: fromTaskError(o?.status ?? 'cancelled', o?.error) };
    }
    return out;
  }

  let done = 0;
  const timeoutMs = s.timeoutMs;
  // A file that finished keeps its output even if an abort from onProgress lands before the
  // executor records it.
  const finished: (SymphonyOutput | undefined)[] = new Array(irs.length);
  const tasks = idx.map((i) => async (_ctx: unknown, info: { signal: AbortSignal }) => {
    // One turn of the event loop per file, so an abort or a timer can land between files.
    await turn();
    if (info.signal.aborted) throw new CancelledError();
    const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
    const output = runSymphonyJs(irs[i] as SymphonyIR, data, config, {
      signal: info.signal,
      ...(deadline !== undefined ? { deadline, onTimeout: () => new TimeoutError(`file passed ${timeoutMs} ms`) } : {}),
    });
    finished[i] = output;
    done++;
    s.onProgress?.(done, total);
    return output;
  });
  const records = await runTasks(tasks, {
    concurrency: Math.max(1, Math.min(workers, total)),
    ...(s.signal ? { signal: s.signal } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  records.forEach((r, j) => {
    const i = idx[j] as number;
    const f = finished[i];
    out[i] = f ? { output: f } : { error: fromTaskError(r.status, r.error) };
  });
  return out;
}

// ---------------------------------------------------------------- runSymphonies

interface Prepared {
  label: string;
  weight: number;
  ir: SymphonyIR | null;
  error?: SymphonyFileError;
}

async function prepareFile(f: unknown, index: number, data: DailyData): Promise<Prepared> {
  let label = `file ${index}`;
  let weight = 1;
  let file: string | undefined;
  try {
    if (!isPlainObject(f)) throw ValidationError.at(`files[${index}]`, `expected a symphony, got ${describeValue(f)}`);
    let ir: unknown;
    let params: unknown;
    if (typeof f.source === 'string') {
      file = typeof f.path === 'string' ? f.path : `<file ${index}>`;
      label = typeof f.label === 'string' ? f.label : file;
      params = f.params;
      weight = fileWeight(f.weight, index);
      const compile = await findCompiler();
      if (!compile) {
        throw ValidationError.at(`files[${index}].source`, 'no DSL compiler is registered (registerSymphonyCompiler)');
      }
      try {
        ir = compile(f.source, file, data.tickers);
      } catch (e) {
        return { label, weight, ir: null, error: fileError(e, file) };
      }
    } else if (Object.hasOwn(f, 'ir')) {
      ir = f.ir;
      params = f.params;
      if (isPlainObject(ir) && typeof ir.name === 'string') label = ir.name;
      if (typeof f.label === 'string') label = f.label;
      weight = fileWeight(f.weight, index);
    } else {
      ir = f;
      if (typeof f.name === 'string') label = f.name;
    }
    if (params !== undefined && params !== null && !isPlainObject(params)) {
      throw ValidationError.at(`files[${index}].params`, `expected an object of numbers, got ${describeValue(params)}`);
    }
    const resolved = resolveSymphony(ir as SymphonyIR, params as Record<string, number> | undefined);
    const have = new Set(data.tickers);
    const missing = resolved.tickers
      .map((t, k) => ({ t, k }))
      .filter(({ t }) => !have.has(t))
      .map(({ t, k }) => ({ path: `symphony.tickers[${k}]`, message: `ticker '${t}' is not in the data` }));
    if (missing.length > 0) throw new ValidationError(missing);
    return { label, weight, ir: resolved };
  } catch (e) {
    return { label, weight, ir: null, error: fileError(e, file) };
  }
}

function fileWeight(w: unknown, index: number): number {
  if (w === undefined || w === null) return 1;
  if (typeof w !== 'number' || !(Number.isFinite(w) && w > 0)) {
    throw ValidationError.at(`files[${index}].weight`, `expected a finite number > 0, got ${describeValue(w)}`);
  }
  return w;
}

/**
 * Compiles or resolves each file (a failing one becomes a failed entry), evaluates the rest in
 * parallel, and returns them in file order with their consolidated allocation.
 */
export async function runSymphonies(
  files: SymphonyFile[],
  data: DailyData,
  options: RunSymphoniesOptions = {},
): Promise<SymphonyBook> {
  if (!Array.isArray(files))
    throw ValidationError.at('files', `expected a list of symphonies, got ${describeValue(files)}`);
  checkDailyData(data);
  const config = buildSymphonyConfig(options);
  const [s0, s1] = simulatedRange(data.dates, config.start, config.end);
  const workers = workersOf(options);
  checkTimeout(options.timeoutMs);
  const engine = selectSymphonyEngine(options.engine);
  const runId = newRunId();
  const log = runLogger(runId);
  log.info({ engine, files: files.length }, 'symphonies started');

  const prepared: Prepared[] = [];
  for (let i = 0; i < files.length; i++) prepared.push(await prepareFile(files[i], i, data));
  const outcomes = await evaluate(
    prepared.map((p) => p.ir),
    data,
    config,
    engine,
    workers,
    options,
  );
  const results: SymphonyFileResult[] = prepared.map((p, index) => {
    const o = outcomes[index];
    const r: SymphonyFileResult = { index, label: p.label, status: 'failed', weight: p.weight };
    if (o && 'output' in o) {
      r.status = 'ok';
      r.output = o.output;
    } else {
      r.error = o?.error ?? p.error ?? { code: 'ERR_TICKFORGE_ENGINE', message: 'not evaluated' };
    }
    return r;
  });
  const cancelled = results.some((r) => r.error?.code === 'ERR_TICKFORGE_CANCELLED');
  log.info({ ok: results.filter((r) => r.status === 'ok').length, cancelled }, 'symphonies finished');
  return makeBook(runId, engine, cancelled, results, data.dates.slice(s0, s1 + 1));
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function makeBook(
  runId: string,
  engine: EngineName,
  cancelled: boolean,
  files: SymphonyFileResult[],
  dates: Float64Array,
): SymphonyBook {
  const ok = files.filter((f) => f.status === 'ok');
  const tickers = [...new Set(ok.flatMap((f) => (f.output as SymphonyOutput).tickers))].sort(byCodeUnits);
  const column = new Map<string, number>();
  tickers.forEach((t, k) => {
    column.set(t, k);
  });
  const maps = ok.map((f) => Int32Array.from((f.output as SymphonyOutput).tickers, (t) => column.get(t) as number));
  const nDays = dates.length;

  const checkDay = (i: number) => {
    if (!(Number.isInteger(i) && i >= 0 && i < nDays)) {
      throw ValidationError.at('dayIndex', `expected an integer in [0, ${nDays - 1}], got ${describeValue(i)}`);
    }
  };
  const fileWeights = (f: SymphonyFileResult, i: number): Record<string, number> => {
    const o = f.output as SymphonyOutput;
    const n = o.tickers.length;
    const rec: Record<string, number> = {};
    o.tickers.forEach((t, k) => {
      rec[t] = o.weights[i * n + k] as number;
    });
    return rec;
  };
  const checkAny = () => {
    if (ok.length === 0) {
      // An empty allocation would read as 100% cash to a live consumer.
      const why = files.length === 0 ? 'no symphony was given' : `all ${files.length} symphonies failed`;
      throw ValidationError.at('files', `${why}: there is no allocation to consolidate`);
    }
  };
  const consolidated = (dayIndex: number): Record<string, number> => {
    checkAny();
    checkDay(dayIndex);
    const acc = new Float64Array(tickers.length);
    let total = 0;
    ok.forEach((f, j) => {
      const o = f.output as SymphonyOutput;
      const map = maps[j] as Int32Array;
      const n = o.tickers.length;
      total = total + f.weight;
      for (let k = 0; k < n; k++) {
        const c = map[k] as number;
        acc[c] = (acc[c] as number) + f.weight * (o.weights[dayIndex * n + k] as number);
      }
    });
    const rec: Record<string, number> = {};
    tickers.forEach((t, k) => {
      rec[t] = (acc[k] as number) / total;
    });
    return rec;
  };
  const signals = (date: number | Date | string): SymphonySignals => {
    checkAny();
    const ms = toEpochMs(date, 'date');
    let lo = 0;
    let hi = nDays;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((dates[mid] as number) <= ms) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    if (i < 0) {
      const first = nDays > 0 ? new Date(dates[0] as number).toISOString() : 'none';
      throw ValidationError.at('date', `${new Date(ms).toISOString()} is before the first simulated day (${first})`);
    }
    return {
      date: dates[i] as number,
      weights: consolidated(i),
      files: ok.map((f) => ({ label: f.label, weights: fileWeights(f, i) })),
      failed: files
        .filter((f) => f.status === 'failed')
        .map((f) => ({ label: f.label, error: f.error as SymphonyFileError })),
    };
  };
  return { runId, engine, cancelled, files, tickers, dates, consolidated, signals };
}

// ---------------------------------------------------------------- optimizeSymphony

export interface SymphonyRankOptions {
  /** Default `sharpe`. */
  target?: keyof SymphonyMetrics;
  /** Default `max` (higher is better). */
  direction?: 'max' | 'min';
}

export interface OptimizeSymphonyOptions extends SymphonySettings {
  grid: Grid;
  constraints?: Constraint[];
  sample?: { count: number; seed: number };
  rank?: SymphonyRankOptions;
  /** Keep each combination's full output (weights, equity); by default only metrics. */
  keepOutput?: boolean;
}

export interface SymphonyComboResult {
  /** Position in grid order. */
  index: number;
  params: Record<string, number>;
  status: 'ok' | 'failed';
  metrics?: SymphonyMetrics;
  output?: SymphonyOutput;
  error?: SymphonyFileError;
}

export interface SymphonyRanked extends SymphonyComboResult {
  metrics: SymphonyMetrics;
  score: number;
}

export interface OptimizeSymphonyResult {
  runId: string;
  engine: EngineName;
  cancelled: boolean;
  /** Size of the full cartesian product (before constraints and sampling). */
  gridSize: number;
  /** Every combination, in grid order. */
  results: SymphonyComboResult[];
  /** The successful ones, best first: score (NaN last), then lower index. */
  ranked: SymphonyRanked[];
  best: SymphonyRanked | undefined;
}

function checkRank(r: SymphonyRankOptions | undefined): Required<SymphonyRankOptions> {
  const target = r?.target ?? 'sharpe';
  const direction = r?.direction ?? 'max';
  const issues: Issue[] = [];
  if (!(SYMPHONY_METRIC_KEYS as readonly string[]).includes(target)) {
    issues.push({
      path: 'rank.target',
      message: `unknown metric ${describeValue(target)} (expected one of ${SYMPHONY_METRIC_KEYS.join(', ')})`,
    });
  }
  if (direction !== 'max' && direction !== 'min') {
    issues.push({ path: 'rank.direction', message: `expected 'max' or 'min', got ${describeValue(direction)}` });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return { target, direction };
}

/**
 * Runs every combination of `grid` over the symphony's params (windows, counts, weights,
 * thresholds and constants can all be params) as one batch and ranks them by `rank.target`.
 */
export async function optimizeSymphony(
  ir: SymphonyIR,
  data: DailyData,
  options: OptimizeSymphonyOptions,
): Promise<OptimizeSymphonyResult> {
  const shaped = validateSymphonyIR(ir);
  checkDailyData(data);
  const config = buildSymphonyConfig(options);
  const workers = workersOf(options);
  checkTimeout(options.timeoutMs);
  const { target, direction } = checkRank(options.rank);
  const engine = selectSymphonyEngine(options.engine);

  const shim = {
    version: 1,
    name: shaped.name,
    params: shaped.params ?? {},
    decision: { timeframe: 'D1' },
    workers: [],
    rules: [],
  } as unknown as StrategyIR;
  const { combos, gridSize } = expandGrid(shim, options.grid, {
    owner: 'symphony',
    ...(options.constraints ? { constraints: options.constraints } : {}),
    ...(options.sample ? { sample: options.sample } : {}),
  });
  const runId = newRunId();
  runLogger(runId).info({ engine, combinations: combos.length }, 'symphony optimization started');

  const irs: (SymphonyIR | null)[] = [];
  const errors: (SymphonyFileError | undefined)[] = [];
  for (const p of combos) {
    try {
      irs.push(resolveSymphony(shaped, p));
      errors.push(undefined);
    } catch (e) {
      irs.push(null);
      errors.push(fileError(e));
    }
  }
  const outcomes = await evaluate(irs, data, config, engine, workers, options);
  const results: SymphonyComboResult[] = combos.map((params, index) => {
    const o = outcomes[index];
    const r: SymphonyComboResult = { index, params, status: 'failed' };
    if (o && 'output' in o) {
      r.status = 'ok';
      r.metrics = o.output.metrics;
      if (options.keepOutput) r.output = o.output;
    } else {
      r.error = o?.error ?? errors[index] ?? { code: 'ERR_TICKFORGE_ENGINE', message: 'not evaluated' };
    }
    return r;
  });
  const sign = direction === 'min' ? 1 : -1;
  const ranked: SymphonyRanked[] = results
    .filter((r): r is SymphonyComboResult & { metrics: SymphonyMetrics } => r.status === 'ok')
    .map((r) => {
      const v = r.metrics[target];
      return { ...r, score: Number.isFinite(v) ? v : Number.NaN };
    })
    .sort((a, b) => {
      const an = Number.isNaN(a.score);
      const bn = Number.isNaN(b.score);
      if (an !== bn) return an ? 1 : -1;
      if (!an && a.score !== b.score) return a.score < b.score ? -sign : sign;
      return a.index - b.index;
    });
  const cancelled = results.some((r) => r.error?.code === 'ERR_TICKFORGE_CANCELLED');
  return { runId, engine, cancelled, gridSize, results, ranked, best: ranked[0] };
}
