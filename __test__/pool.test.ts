/**
 * The worker pool (src/parallel): the same results as backtestSync on every engine and kind, in job
 * order; failures, crashes and hangs isolated to their job; cancellation keeping finished results;
 * no child process or worker thread left behind; the run id in the workers' log records.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backtestSync } from '../src/backtest.js';
import { buildRunConfig, type RunSettings } from '../src/config.js';
import { generateTicks } from '../src/generate.js';
import {
  type PoolJob,
  type PoolKind,
  type PoolResult,
  WorkerPool,
  type WorkerPoolOptions,
} from '../src/parallel/index.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import type { MarketData, Params, TickData } from '../src/types.js';

type Engine = 'native' | 'js';
const KINDS: PoolKind[] = ['processes', 'threads'];
const ENGINES: Engine[] = ['native', 'js'];
const HOUR = 3_600_000;

const ticks = generateTicks({ days: 3, seed: 1, stepPoints: 8 });
const market: MarketData = { kind: 'ticks', ticks };
const first = ticks.time[0] as number;

/** A job and the settings it was built from, so the expected result comes from backtestSync. */
interface Case {
  job: PoolJob;
  settings: RunSettings;
}

function job(index: number, params: Params, settings: RunSettings = {}, keepOutput = false): Case {
  const config = buildRunConfig(settings, ticks.symbol);
  return { job: { index, strategy: referenceStrategy, params, config, keepOutput }, settings };
}

/** A job over the first two hours only: a small fraction of a full run's work. */
const light = (index: number, params: Params = {}) => job(index, params, { end: first + 2 * HOUR });

function expected(c: Case, engine: Engine, data: TickData = ticks) {
  const { __fault: _fault, ...params } = c.job.params;
  return backtestSync({ ticks: data, strategy: referenceStrategy, params, engine, ...c.settings });
}

function pool(kind: PoolKind, engine: Engine, extra: Partial<WorkerPoolOptions> = {}): WorkerPool {
  return new WorkerPool({
    kind,
    size: 2,
    engine,
    market,
    runId: `pool-test-${kind}-${engine}`,
    timeoutMs: 60_000,
    ...extra,
  });
}

function osThreads(): number | undefined {
  return existsSync('/proc/self/task') ? readdirSync('/proc/self/task').length : undefined;
}

/**
 * Expects the process to be back to `base` OS threads. A thread that has settled its last promise
 * may still be on its way out when the awaited call returns, so the count is given a few seconds to
 * come down; a worker that is never joined keeps it up and fails the test.
 */
async function expectThreadsBackTo(base: number | undefined): Promise<void> {
  if (base === undefined) return;
  const until = performance.now() + 5_000;
  while ((osThreads() ?? 0) > base && performance.now() < until) await new Promise((r) => setTimeout(r, 25));
  expect(osThreads()).toBe(base);
}

/** Closes the pool and checks that none of its workers is left. */
async function closeAndCheck(p: WorkerPool): Promise<void> {
  await p.close();
  expect(p.liveWorkers).toBe(0);
  for (const pid of p.childPids) {
    let code: string | undefined;
    try {
      process.kill(pid, 0);
    } catch (e) {
      code = (e as NodeJS.ErrnoException).code;
    }
    expect(code, `child ${pid} is still there`).toBe('ESRCH');
  }
}

function expectMatches(r: PoolResult, c: Case, engine: Engine, data: TickData = ticks): void {
  const want = expected(c, engine, data);
  expect(r.index).toBe(c.job.index);
  expect(r.status, r.error?.message).toBe('completed');
  expect(r.metrics).toEqual(want.metrics);
  expect(r.tradeCount).toBe(want.trades.length);
}

describe.each(KINDS)('WorkerPool (%s)', (kind) => {
  it.each(ENGINES)('gives backtestSync results for every job, in job order (%s engine)', async (engine) => {
    // Job 0 covers all the data and waits 250 ms first (fault 4), the light ones two hours each:
    // it finishes last although it starts first, however the machine schedules the threads.
    const cases = [
      job(0, { rsiPeriod: 9, __fault: 4 }),
      light(1, { rsiPeriod: 5 }),
      light(2, { rsiPeriod: 7, slPips: 10 }),
      light(3, { rsiPeriod: 21 }),
      job(4, { rsiPeriod: 14, tpPips: 25 }, {}, true),
      job(5, { rsiPeriod: 6 }, { account: { balance: 5000 }, start: first + 12 * HOUR }),
    ];
    const p = pool(kind, engine, { allowFaults: true });
    const order: number[] = [];
    try {
      // Both workers hold their data before the batch, so job 0 and job 1 start together.
      await p.ready();
      const results = await p.run(
        cases.map((c) => c.job),
        { onDone: (r) => order.push(r.index) },
      );
      expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
      for (const [i, r] of results.entries()) expectMatches(r, cases[i] as Case, engine);
      if (engine === 'js') expect(order.indexOf(0)).toBeGreaterThan(order.indexOf(1));
      expect([...order].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      // keepOutput brings the whole output back; the others carry metrics only.
      const full = expected(cases[4] as Case, engine);
      expect(results[4]?.output?.trades).toEqual(full.trades);
      expect(results[4]?.output?.equity.equity).toEqual(full.equity.equity);
      expect(results[4]?.output?.events).toBe(full.events);
      expect(results[0]?.output).toBeUndefined();
      // The pool serves a second batch with the same workers.
      const again = await p.run([light(7, { rsiPeriod: 8 }).job]);
      expectMatches(again[0] as PoolResult, light(7, { rsiPeriod: 8 }), engine);
    } finally {
      await closeAndCheck(p);
    }
  });

  it('isolates a throwing job, a worker that exits and a job that hangs', async () => {
    const base = osThreads();
    const p = pool(kind, 'js', { allowFaults: true, timeoutMs: 1500, graceMs: 300 });
    const cases = [
      light(0),
      light(1, { __fault: 1 }),
      light(2, { rsiPeriod: 6 }),
      light(3, { __fault: 2 }),
      light(4, { rsiPeriod: 10 }),
      light(5, { __fault: 3 }),
      light(6, { rsiPeriod: 12 }),
      light(7, { rsiPeriod: 16 }),
    ];
    try {
      const t0 = performance.now();
      const results = await p.run(cases.map((c) => c.job));
      const ms = performance.now() - t0;
      expect(results.map((r) => r.status)).toEqual([
        'completed',
        'failed',
        'completed',
        'failed',
        'completed',
        'timed_out',
        'completed',
        'completed',
      ]);
      for (const i of [0, 2, 4, 6, 7]) expectMatches(results[i] as PoolResult, cases[i] as Case, 'js');
      expect(results[1]?.error).toMatchObject({ type: 'Error', message: 'injected fault: the job threw' });
      expect(results[1]?.error?.stack).toContain('injected fault');
      expect(results[3]?.error?.type).toBe('WorkerCrash');
      expect(results[3]?.error?.message).toContain('code 7');
      expect(results[5]?.error?.type).toBe('TimeoutError');
      expect(results[5]?.error?.message).toContain(kind === 'processes' ? 'killed' : 'terminated');
      // The hang is ended at its timeout (threads: timeout + grace), not left to run.
      expect(results[5]?.elapsedMs).toBeGreaterThanOrEqual(1400);
      expect(ms).toBeLessThan(10_000);
      // The exited worker was replaced while jobs were waiting; the killed one at once if jobs were
      // still waiting, else when the next batch starts.
      const started = () => (kind === 'processes' ? p.childPids.length : p.workerThreadIds.length);
      expect([3, 4]).toContain(started());
      const [next] = await p.run([light(8, { rsiPeriod: 4 }).job]);
      expectMatches(next as PoolResult, light(8, { rsiPeriod: 4 }), 'js');
      expect(started()).toBe(4);
      expect(p.liveWorkers).toBe(2);
    } finally {
      await closeAndCheck(p);
    }
    // Worker threads are joined: the process is back to its own threads.
    if (kind === 'threads') await expectThreadsBackTo(base);
  });

  it('ignores __fault unless the pool allows faults', async () => {
    const p = pool(kind, 'native');
    try {
      const [bad, good] = await p.run([light(0, { __fault: 2 }).job, light(1).job]);
      expect(bad?.status).toBe('failed');
      expect(bad?.error?.type).toBe('ValidationError');
      expect(bad?.error?.message).toContain('params.__fault');
      expectMatches(good as PoolResult, light(1), 'native');
      expect(p.childPids.length + p.workerThreadIds.length).toBe(2);
    } finally {
      await closeAndCheck(p);
    }
  });

  it('cancels mid-run, keeping finished results', async () => {
    // More data and rules evaluated on every tick, so a full run is long enough (several hundred
    // milliseconds even on the fast pure-TS loop) to be caught running.
    const big = generateTicks({ days: 60, seed: 3, stepPoints: 8 });
    const everyTick = { ...referenceStrategy, decision: { ...referenceStrategy.decision, on: 'tick' as const } };
    const heavy = (index: number): Case => ({
      job: {
        index,
        strategy: everyTick,
        params: {},
        config: buildRunConfig({}, big.symbol),
        keepOutput: false,
      },
      settings: {},
    });
    const short = (index: number): Case => {
      const settings = { end: (big.time[0] as number) + HOUR };
      const config = buildRunConfig(settings, big.symbol);
      return { job: { index, strategy: referenceStrategy, params: {}, config, keepOutput: false }, settings };
    };
    const cases = [short(0), short(1), heavy(2), heavy(3), heavy(4), heavy(5), heavy(6)];
    const base = osThreads();
    // A long grace: a thread must stop through its stop flag, not through terminate().
    const p = new WorkerPool({
      kind,
      size: 2,
      engine: 'js',
      market: { kind: 'ticks', ticks: big },
      runId: 'pool-test-cancel',
      timeoutMs: 60_000,
      graceMs: 20_000,
    });
    try {
      await p.ready();
      const ac = new AbortController();
      let abortedAt = 0;
      let done = 0;
      // Each worker takes a full run as soon as its short one is done: abort just after both are.
      const results = await p.run(
        cases.map((c) => c.job),
        {
          signal: ac.signal,
          onDone: () => {
            if (++done === 2)
              setTimeout(() => {
                abortedAt = performance.now();
                ac.abort();
              }, 60);
          },
        },
      );
      const stopMs = performance.now() - abortedAt;
      expect(abortedAt).toBeGreaterThan(0);
      expect(stopMs).toBeLessThan(2000);
      expectMatches(results[0] as PoolResult, cases[0] as Case, 'js', big);
      expectMatches(results[1] as PoolResult, cases[1] as Case, 'js', big);
      // Both workers were in the middle of a full run when the signal fired.
      expect(results[2]?.status).toBe('cancelled');
      expect(results[3]?.status).toBe('cancelled');
      for (const r of results.slice(4)) expect(r).toMatchObject({ status: 'cancelled', elapsedMs: 0 });
      expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      // An already aborted signal starts nothing; a later batch still runs.
      const none = await p.run([short(9).job], { signal: AbortSignal.abort() });
      expect(none[0]?.status).toBe('cancelled');
      const after = await p.run([short(8).job]);
      expectMatches(after[0] as PoolResult, short(8), 'js', big);
    } finally {
      await closeAndCheck(p);
    }
    if (kind === 'threads') await expectThreadsBackTo(base);
  });
});

describe('WorkerPool (threads) cancel backstop', () => {
  it('terminates a cancelled job that misses its stop checks after cancelGraceMs', async () => {
    // Job 1 spins without any stop check (fault 3): only terminate() can end it.
    const p = pool('threads', 'js', { allowFaults: true, cancelGraceMs: 100 });
    try {
      await p.ready();
      const ac = new AbortController();
      let abortedAt = 0;
      const results = await p.run([light(0).job, light(1, { __fault: 3 }).job, light(2).job, light(3).job], {
        signal: ac.signal,
        onDone: (r) => {
          if (r.index !== 0 || abortedAt > 0) return;
          abortedAt = performance.now();
          ac.abort();
        },
      });
      const stopMs = performance.now() - abortedAt;
      expect(abortedAt).toBeGreaterThan(0);
      // The backstop (100 ms) plus the thread's exit, far below the 2 s timeout grace.
      expect(stopMs).toBeLessThan(250);
      expectMatches(results[0] as PoolResult, light(0), 'js');
      expect(results[1]?.status).toBe('cancelled');
      // The abort came from job 0's report, before its worker could take another job.
      for (const r of results.slice(2)) expect(r).toMatchObject({ status: 'cancelled', elapsedMs: 0 });
    } finally {
      await closeAndCheck(p);
    }
  });
});

describe('WorkerPool logging', () => {
  const records = (text: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it("puts the run id in the child processes' log records", async () => {
    let stderr = '';
    const p = pool('processes', 'native', {
      runId: 'run-id-in-children',
      env: { TICKFORGE_LOG_LEVEL: 'info' },
      onStderr: (t) => {
        stderr += t;
      },
    });
    try {
      await p.ready();
      const [r] = await p.run([light(0).job]);
      expect(r?.status).toBe('completed');
    } finally {
      await closeAndCheck(p);
    }
    const lines = records(stderr);
    const ready = lines.filter((l) => l.msg === 'pool worker ready');
    expect(ready.map((l) => l.pid).sort()).toEqual([...p.childPids].sort());
    const finished = lines.filter((l) => l.msg === 'backtest finished');
    expect(finished).toHaveLength(1);
    for (const l of lines) expect(l.runId).toBe('run-id-in-children');
  });

  it("puts the run id in the worker threads' log records", () => {
    // Threads write to the process's own stderr, so this runs the pool in a separate process.
    const src = (f: string) => JSON.stringify(pathToFileURL(join(__dirname, '..', 'src', f)).href);
    const script = [
      `import { WorkerPool } from ${src('parallel/index.ts')};`,
      `import { generateTicks } from ${src('generate.ts')};`,
      `import { buildRunConfig } from ${src('config.ts')};`,
      `import { referenceStrategy } from ${src('strategies/reference.ts')};`,
      `const ticks = generateTicks({ days: 1, seed: 2 });`,
      `const pool = new WorkerPool({ kind: 'threads', size: 2, engine: 'js', runId: 'run-id-in-threads',`,
      `  market: { kind: 'ticks', ticks }, timeoutMs: 60000 });`,
      `const config = buildRunConfig({}, ticks.symbol);`,
      `try { await pool.ready(); await pool.run([0, 1].map((index) => ({ index, strategy: referenceStrategy, params: {}, config, keepOutput: false }))); }`,
      `finally { await pool.close(); }`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(__dirname, '..'),
      encoding: 'utf8',
      env: { ...process.env, TICKFORGE_LOG_LEVEL: 'info' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = records(r.stderr);
    const ready = lines.filter((l) => l.msg === 'pool worker ready');
    expect(ready, r.stderr).toHaveLength(2);
    for (const l of ready) expect(l.threadId).toBeGreaterThan(0);
    expect(
      lines.filter((l) => l.msg === 'backtest finished'),
      r.stderr,
    ).toHaveLength(2);
    for (const l of lines) expect(l.runId).toBe('run-id-in-threads');
  });
});
