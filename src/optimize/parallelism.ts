import inspector from 'node:inspector';
import { availableParallelism, freemem } from 'node:os';
import { ValidationError } from '../errors.js';
import { logger } from '../log.js';

export type Parallelism = 'none' | 'threads' | 'processes';
const MODES: readonly Parallelism[] = ['none', 'threads', 'processes'];

export interface ParallelPlan {
  mode: Parallelism;
  workers: number;
  /** Why the plan differs from the request, when it does. */
  notes: string[];
}

export interface PlanRequest {
  parallelism?: Parallelism;
  maxWorkers?: number;
  jobs: number;
  /** Estimated bytes one worker needs (its own data copy, rings, outputs). */
  bytesPerWorker: number;
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw ValidationError.at(name, `'${value}' is not a positive integer`);
  return n;
}

/** True when a debugger is attached (or listening): killing children would kill its sessions. */
export function debuggerAttached(): boolean {
  return inspector.url() !== undefined || process.execArgv.some((a) => a.startsWith('--inspect'));
}

/**
 * Decides the mode and worker count. Environment variables win over arguments
 * (TICKFORGE_PARALLELISM, TICKFORGE_MAX_WORKERS); one job always runs sequentially; `processes`
 * under a debugger becomes `threads`; the default worker count is bounded by the jobs, the cores,
 * and half the free memory divided by what one worker needs.
 */
export function planParallelism(req: PlanRequest): ParallelPlan {
  const notes: string[] = [];
  let mode: Parallelism = req.parallelism ?? 'threads';
  const envMode = process.env.TICKFORGE_PARALLELISM;
  if (envMode) {
    if (!MODES.includes(envMode as Parallelism)) {
      throw ValidationError.at('TICKFORGE_PARALLELISM', `'${envMode}' is not one of none, threads, processes`);
    }
    mode = envMode as Parallelism;
  } else if (!MODES.includes(mode)) {
    throw ValidationError.at('parallelism', `'${String(mode)}' is not one of none, threads, processes`);
  }
  let max = req.maxWorkers;
  const envMax = process.env.TICKFORGE_MAX_WORKERS;
  if (envMax) max = positiveInt(envMax, 'TICKFORGE_MAX_WORKERS');
  else if (max !== undefined && !(Number.isInteger(max) && max >= 1)) {
    throw ValidationError.at('maxWorkers', `${max} is not a positive integer`);
  }

  if (req.jobs <= 1) {
    if (mode !== 'none') notes.push('one job runs sequentially');
    return { mode: 'none', workers: 1, notes };
  }
  if (mode === 'processes' && debuggerAttached()) {
    notes.push('a debugger is attached: processes fall back to threads');
    logger().warn('a debugger is attached: parallelism "processes" falls back to "threads"');
    mode = 'threads';
  }
  if (mode === 'none') return { mode, workers: 1, notes };

  const cores = availableParallelism();
  const budget = freemem() / 2;
  const byMemory = Math.max(1, Math.floor(budget / Math.max(1, req.bytesPerWorker)));
  let workers = max ?? Math.min(req.jobs, cores, byMemory);
  if (max === undefined && byMemory < Math.min(req.jobs, cores)) {
    notes.push(`memory allows ${byMemory} workers`);
  }
  workers = Math.max(1, Math.min(workers, req.jobs));
  return { mode, workers, notes };
}
