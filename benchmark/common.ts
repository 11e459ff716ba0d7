import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { OptimizeResult } from '../src/index.js';

/** What the figures were measured on; BENCHMARKS.md quotes these with the numbers. */
export function machine() {
  let rustc = 'unknown';
  try {
    rustc = execSync('rustc --version', { encoding: 'utf8' }).trim();
  } catch {
    // rustc is not needed to run the benchmark
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    rustc,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
  };
}

export function writeResult(name: string, report: unknown): void {
  const dir = join('benchmark', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

export const MiB = 2 ** 20;
/** Peak resident set of this process so far (a high-water mark, never decreasing), in MiB. */
export const maxRssMiB = () => (process.resourceUsage().maxRSS * 1024) / MiB;

/** Samples this process's resident set while a row runs: that row's own peak, roughly. */
export function rssSampler() {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  timer.unref();
  return () => {
    clearInterval(timer);
    return Math.max(peak, process.memoryUsage.rss()) / MiB;
  };
}

/**
 * Metrics computed through `pow`: docs/semantics.md lets the two engines differ there by 1e-9
 * relative (CAGR, and Calmar, which divides it). Every other figure must agree to the bit.
 */
export const POW_METRICS = new Set(['cagrPct', 'calmar']);
export const POW_TOLERANCE = 1e-9;

export interface Agreement {
  rows: [string, string];
  /** Metric values compared. */
  compared: number;
  /** Values that differ bitwise but within the contract's pow tolerance (always 0 within an engine). */
  withinPowTolerance: number;
  maxRelativeDifference: number;
}

/**
 * Throws unless both runs give the same params, trade count and metrics, compared with Object.is
 * per field. Across engines (`acrossEngines`), the pow-based metrics may differ by 1e-9 relative,
 * as the contract allows; such differences are counted in the returned record.
 */
export function assertSame(a: OptimizeResult, aName: string, b: OptimizeResult, bName: string): Agreement {
  const acrossEngines = a.engine !== b.engine;
  const agreement: Agreement = { rows: [aName, bName], compared: 0, withinPowTolerance: 0, maxRelativeDifference: 0 };
  if (a.results.length !== b.results.length) {
    throw new Error(`${aName}: ${a.results.length} results, ${bName}: ${b.results.length}`);
  }
  a.results.forEach((x, i) => {
    const y = b.results[i];
    const where = `combination ${i} (${JSON.stringify(x.params)})`;
    if (!y || JSON.stringify(x.params) !== JSON.stringify(y.params)) {
      throw new Error(`${aName} and ${bName}: different params at ${where}`);
    }
    if (x.tradeCount !== y.tradeCount) {
      throw new Error(`${aName} and ${bName} differ at ${where}: tradeCount ${x.tradeCount} vs ${y.tradeCount}`);
    }
    const mx = (x.metrics ?? {}) as unknown as Record<string, unknown>;
    const my = (y.metrics ?? {}) as unknown as Record<string, unknown>;
    const keys = new Set([...Object.keys(mx), ...Object.keys(my)]);
    if (keys.size === 0) throw new Error(`${aName} and ${bName}: no metrics at ${where}`);
    for (const k of keys) {
      agreement.compared++;
      const u = mx[k];
      const v = my[k];
      if (Object.is(u, v)) continue;
      if (acrossEngines && POW_METRICS.has(k) && typeof u === 'number' && typeof v === 'number') {
        const rel = Math.abs(u - v) / Math.max(Math.abs(u), Math.abs(v));
        if (rel <= POW_TOLERANCE) {
          agreement.withinPowTolerance++;
          agreement.maxRelativeDifference = Math.max(agreement.maxRelativeDifference, rel);
          continue;
        }
      }
      throw new Error(`${aName} and ${bName} differ at ${where}: ${k} ${String(u)} vs ${String(v)}`);
    }
  });
  return agreement;
}

/**
 * Throws unless the run used the engine, parallelism and worker count its row names
 * (`maxWorkers` for parallel rows, capped by the jobs) and every job completed.
 */
export function checkRun(
  spec: { name: string; engine: 'native' | 'js'; parallelism: 'threads' | 'none' },
  maxWorkers: number,
  r: OptimizeResult,
): void {
  const wantWorkers = spec.parallelism === 'none' ? 1 : Math.min(maxWorkers, r.total);
  if (r.engine !== spec.engine || r.parallelism !== spec.parallelism || r.workers !== wantWorkers) {
    throw new Error(
      `${spec.name}: ran as engine ${r.engine}, ${r.parallelism}, ${r.workers} workers; expected ` +
        `${spec.engine}, ${spec.parallelism}, ${wantWorkers} (TICKFORGE_PARALLELISM or TICKFORGE_MAX_WORKERS set?)`,
    );
  }
  const bad = r.results.find((j) => j.status !== 'completed');
  if (bad) throw new Error(`${spec.name}: job ${bad.index} ${bad.status}: ${bad.error?.message ?? ''}`);
}
