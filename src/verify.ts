import { createHash } from 'node:crypto';
import { type BacktestOptions, backtest, backtestSync, prepare } from './backtest.js';
import { loadNative } from './engine/native.js';
import { runTasks } from './executor.js';
import { newRunId } from './log.js';
import { runBatch } from './optimize/batch.js';
import { WorkerPool } from './parallel/pool.js';
import type { EngineOutput } from './types.js';

export interface VerifyRow {
  engine: 'native' | 'js';
  mode: string;
  hash: string;
  trades: number;
  elapsedMs: number;
  error?: string;
}

export interface VerifyResult {
  runId: string;
  rows: VerifyRow[];
  /** True when every mode that ran gave the same hash. */
  agree: boolean;
}

/**
 * A result's fingerprint: trades exactly, other floats to 12 significant digits (the engines agree
 * bitwise in practice, but the contract allows 1e-9 between them, e.g. CAGR goes through pow).
 */
export function resultHash(out: Pick<EngineOutput, 'trades' | 'metrics' | 'equity' | 'rejections' | 'events'>): string {
  const round = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(12)) : String(x));
  const text = JSON.stringify({
    trades: out.trades.map((t) =>
      JSON.stringify(t, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
    ),
    rejections: out.rejections.length,
    events: out.events,
    metrics: Object.entries(out.metrics).map(([k, v]) => [k, round(v)]),
    equity: Array.from(out.equity.equity, round),
    time: Array.from(out.equity.time),
  });
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Runs one scenario in every mode and on every engine available (sync, async, threads, processes)
 * and checks that all give the same result. Modes run one after another (the executor with
 * concurrency 1), so timings are comparable.
 */
export async function verify(options: BacktestOptions): Promise<VerifyResult> {
  const runId = newRunId();
  const engines: ('native' | 'js')[] = loadNative() ? ['native', 'js'] : ['js'];
  const p = prepare({ ...options, engine: 'js', runId });
  const tasks: { engine: 'native' | 'js'; mode: string; run: () => Promise<EngineOutput> }[] = [];
  for (const engine of engines) {
    const one = { ...options, engine, runId };
    tasks.push({ engine, mode: 'sync', run: async () => backtestSync(one) });
    tasks.push({ engine, mode: 'async', run: () => backtest(one) });
    tasks.push({
      engine,
      mode: 'batch (threads)',
      run: async () => {
        const b = await runBatch({ scenarios: [one, one], parallelism: 'threads', maxWorkers: 2, runId });
        const [a, c] = b.items;
        if (!a?.result || !c?.result) throw new Error(a?.error?.message ?? c?.error?.message ?? 'batch item failed');
        if (resultHash(a.result) !== resultHash(c.result)) throw new Error('the two copies in the batch differ');
        return a.result;
      },
    });
    for (const kind of ['threads', 'processes'] as const) {
      tasks.push({
        engine,
        mode: `pool (${kind})`,
        run: async () => {
          const pool = new WorkerPool({ kind, size: 2, engine, market: p.market, runId, timeoutMs: 300_000 });
          try {
            const job = { strategy: p.strategy, params: p.params, config: p.config, keepOutput: true };
            const [a, c] = await pool.run([
              { ...job, index: 0 },
              { ...job, index: 1 },
            ]);
            if (!a?.output || !c?.output) throw new Error(a?.error?.message ?? c?.error?.message ?? 'pool job failed');
            if (resultHash(a.output) !== resultHash(c.output)) throw new Error('the two copies in the pool differ');
            return a.output;
          } finally {
            await pool.close();
          }
        },
      });
    }
  }
  const records = await runTasks(
    tasks.map((t) => async () => t.run()),
    { concurrency: 1, merge: 'all-settled' },
  );
  const rows: VerifyRow[] = records.map((r, i) => {
    const t = tasks[i] as (typeof tasks)[number];
    if (r.status === 'fulfilled' && r.value) {
      return {
        engine: t.engine,
        mode: t.mode,
        hash: resultHash(r.value),
        trades: r.value.trades.length,
        elapsedMs: r.elapsedMs,
      };
    }
    return {
      engine: t.engine,
      mode: t.mode,
      hash: '',
      trades: 0,
      elapsedMs: r.elapsedMs,
      error: r.error?.message ?? r.status,
    };
  });
  const hashes = new Set(rows.map((r) => r.hash));
  return { runId, rows, agree: hashes.size === 1 && !hashes.has('') };
}
