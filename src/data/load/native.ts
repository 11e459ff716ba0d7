/**
 * The native streaming CSV parser, feature-detected on the loaded binding (`loadCsv`,
 * `loadCsvSync`); without it `auto` uses the TypeScript parser.
 */

import { loadNative, nativeLoadFailure } from '../../engine/native.js';
import { type EngineChoice, type EngineName, engineSelector } from '../../engine/select.js';
import { type Issue, ValidationError } from '../../errors.js';
import type { Columns, Loaded } from './report.js';
import type { LoadReport } from './types.js';

export type NativeLoadResult =
  | {
      ok: true;
      time: Float64Array;
      bid?: Float64Array;
      ask?: Float64Array;
      volume?: Float64Array;
      open?: Float64Array;
      high?: Float64Array;
      low?: Float64Array;
      close?: Float64Array;
      reportJson: string;
    }
  | { ok: false; errorCode: string; errorMessage: string; issuesJson?: string };

export interface NativeLoadBinding {
  loadCsv(path: string, optionsJson: string): Promise<NativeLoadResult>;
  loadCsvSync(path: string, optionsJson: string): NativeLoadResult;
}

/** The binding when it has the CSV loader, else null. */
export function nativeLoader(): NativeLoadBinding | null {
  const b = loadNative() as unknown as Partial<NativeLoadBinding> | null;
  if (!b || typeof b.loadCsv !== 'function' || typeof b.loadCsvSync !== 'function') return null;
  return b as NativeLoadBinding;
}

const select = engineSelector({
  present: () => nativeLoader() !== null,
  reason: () => nativeLoadFailure() ?? 'the loaded binary has no loadCsv (rebuild it with `npm run build:native`)',
  unavailable: (reason) => `the native CSV parser is not available (${reason}); use engine: 'js'`,
  fallback: 'native CSV parser unavailable; using the pure-TypeScript parser (same results, slower)',
});

export function selectLoadEngine(requested: EngineChoice): EngineName {
  return select(requested);
}

const TICK_NAMES = ['time', 'bid', 'ask', 'volume'] as const;
const BAR_NAMES = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

function f64(x: unknown): Float64Array {
  if (x instanceof Float64Array) return x;
  return Float64Array.from(x as ArrayLike<number>);
}

/** A native result as columns and report, or its ValidationError thrown. */
export function fromNative(file: string, r: NativeLoadResult): Loaded {
  if (!r.ok) {
    let issues: Issue[] | null = null;
    if (r.issuesJson) {
      try {
        const parsed = JSON.parse(r.issuesJson) as unknown;
        if (Array.isArray(parsed) && parsed.length > 0) issues = parsed as Issue[];
      } catch {
        issues = null;
      }
    }
    throw new ValidationError(issues ?? [{ path: file, message: r.errorMessage }]);
  }
  const report = JSON.parse(r.reportJson) as LoadReport;
  report.engine = 'native';
  report.fromCache = false;
  report.elapsedMs = 0;
  const columns: Columns = {};
  const names = report.kind === 'ticks' ? TICK_NAMES : BAR_NAMES;
  for (const name of names) {
    const col = r[name];
    if (col !== undefined && col !== null) columns[name] = f64(col);
  }
  return { columns, report };
}
