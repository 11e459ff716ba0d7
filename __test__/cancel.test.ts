/**
 * Cancelling batch work: `optimize`, `runBatch` and `walkForward` settle within 250 ms of an
 * abort in every parallelism mode and engine, keep what finished, mark the rest cancelled, and
 * start no job afterwards. Every abort is triggered by a finished job (from the progress
 * callback), never by a fixed sleep, so the run is mid-way whatever the machine's speed.
 */
import { describe, expect, it } from 'vitest';
import { backtestSync } from '../src/backtest.js';
import { generateTicks } from '../src/generate.js';
import { startCapture, stopCapture } from '../src/log.js';
import { runBatch } from '../src/optimize/batch.js';
import { startOptimize } from '../src/optimize/optimize.js';
import type { Progress } from '../src/optimize/progress.js';
import { walkForward } from '../src/optimize/walk-forward.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import type { StrategyIR, TickData } from '../src/types.js';

const SETTLE_MS = 250;
const MODES = ['none', 'threads', 'processes'] as const;
const ENGINES = ['native', 'js'] as const;
type Engine = (typeof ENGINES)[number];

/**
 * The reference strategy deciding on every tick, with a third rule that sums `width` quotes on
 * every tick and never fires (the spread is never negative): the width sets a job's cost (about
 * 100–300 ms on two days of ticks, per engine), without changing what it trades. The rule buys,
 * so that the native engine, which skips a rule whose firing would change nothing, evaluates it
 * while flat.
 */
function slowStrategy(width: number): StrategyIR {
  const s = structuredClone(referenceStrategy) as StrategyIR & { rules: unknown[] };
  s.decision = { ...s.decision, on: 'tick' };
  const wide = { op: '>', args: [{ op: '+', args: new Array(width).fill({ quote: 'mid' }) }, 0] };
  const never = { op: '<', args: [{ quote: 'spread' }, 0] };
  s.rules.push({ when: { op: 'and', args: [wide, never] }, then: [{ action: 'buy', lots: 1 }] });
  return s;
}

const strategies: Record<Engine, StrategyIR> = { native: slowStrategy(1000), js: slowStrategy(30) };
const ticks: TickData = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days: 2, seed: 21, stepPoints: 8 });
const grid = { rsiPeriod: [6, 7, 8, 9, 10, 11, 12, 13, 14, 15] };

/** Job starts in captured log lines: pool dispatches and `backtest()` calls. */
function starts(lines: string[]): number {
  return lines.filter((l) => l.includes('"msg":"pool job started"') || l.includes('"msg":"backtest started"')).length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Aborts on the turn of the loop after the first progress state with a finished job (by then the
 * next job has been handed out, so one is running); remembers when.
 */
function abortOnFirstDone(controller: AbortController, when: (p: Progress) => boolean = (p) => p.completed >= 1) {
  const state = { abortedAt: 0, armed: false };
  const onProgress = (p: Progress) => {
    if (state.armed || !when(p)) return;
    state.armed = true;
    setImmediate(() => {
      state.abortedAt = performance.now();
      controller.abort();
    });
  };
  return { state, onProgress };
}

/**
 * One worker: two busy workers and the main thread on a two-core machine would measure the
 * scheduler, not the library. With one, the main thread keeps a core to itself.
 */
const WORKERS = 1;

describe.each(ENGINES)('optimize cancellation, %s engine', (engine) => {
  it.each(MODES)('parallelism %s: settles within 250 ms, keeps what finished, starts nothing after', async (mode) => {
    const runId = `cancel-optimize-${engine}-${mode}`;
    const lines = startCapture(runId);
    try {
      const controller = new AbortController();
      const { state, onProgress } = abortOnFirstDone(controller);
      const run = startOptimize({
        ticks,
        strategy: strategies[engine],
        grid,
        engine,
        parallelism: mode,
        maxWorkers: WORKERS,
        runId,
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress,
      });
      const r = await run.done;
      const settleMs = performance.now() - state.abortedAt;
      const startsAtSettle = starts(lines);
      await sleep(500);
      expect(starts(lines)).toBe(startsAtSettle);
      expect(state.abortedAt).toBeGreaterThan(0);
      expect(settleMs).toBeLessThan(SETTLE_MS);

      expect(r.partial).toBe(true);
      expect(r.completed).toBeGreaterThanOrEqual(1);
      expect(r.cancelled).toBeGreaterThanOrEqual(1);
      expect(r.completed + r.failed + r.timedOut + r.cancelled).toBe(r.total);
      expect(r.results.map((j) => j.index)).toEqual(grid.rsiPeriod.map((_, i) => i));
      for (const j of r.results) {
        expect(['completed', 'cancelled']).toContain(j.status);
        if (j.status === 'completed') expect(j.metrics).toBeDefined();
      }
      // A kept result is the real one.
      const done = r.results.find((j) => j.status === 'completed');
      const sync = backtestSync({ ticks, strategy: strategies[engine], engine, params: done?.params });
      expect(done?.metrics).toEqual(sync.metrics);
      // The top-K re-runs are skipped after an abort: the ranked entries carry no full result.
      expect(r.ranked.length).toBeGreaterThanOrEqual(1);
      expect(r.ranked.every((x) => x.result === undefined)).toBe(true);
    } finally {
      stopCapture(runId);
    }
  });
});

describe('optimize ranked re-runs', () => {
  it.each(ENGINES)(
    '%s: an abort during the re-runs settles at once and leaves them without results',
    async (engine) => {
      const controller = new AbortController();
      const runId = `cancel-rerun-${engine}`;
      const lines = startCapture(runId);
      try {
        let abortedAt = 0;
        const run = startOptimize({
          ticks,
          strategy: strategies[engine],
          grid: { rsiPeriod: [6, 7, 8, 9] },
          engine,
          parallelism: 'threads',
          maxWorkers: WORKERS,
          runId,
          topK: 4,
          signal: controller.signal,
        });
        // The final progress state comes once every job is settled, before the re-runs start.
        run.progress.once('done', () => {
          setImmediate(() => {
            abortedAt = performance.now();
            controller.abort();
          });
        });
        const r = await run.done;
        const settleMs = performance.now() - abortedAt;
        const startsAtSettle = starts(lines);
        await sleep(500);
        expect(starts(lines)).toBe(startsAtSettle);
        expect(abortedAt).toBeGreaterThan(0);
        expect(settleMs).toBeLessThan(SETTLE_MS);
        expect(r.completed).toBe(4);
        expect(r.partial).toBe(true);
        expect(r.ranked.some((x) => x.result === undefined)).toBe(true);
      } finally {
        stopCapture(runId);
      }
    },
  );

  it('runs the top K with full results when not aborted', async () => {
    const r = await startOptimize({
      ticks,
      strategy: referenceStrategy,
      grid: { rsiPeriod: [6, 7, 8] },
      engine: 'js',
      parallelism: 'threads',
      maxWorkers: WORKERS,
      topK: 2,
    }).done;
    expect(r.partial).toBe(false);
    expect(r.ranked).toHaveLength(2);
    for (const x of r.ranked) {
      expect(x.result?.metrics).toEqual(r.results[x.index]?.metrics);
      expect(x.result?.params).toEqual(r.results[x.index]?.params);
      expect(x.result?.trades.length).toBe(r.results[x.index]?.tradeCount);
    }
  });
});

describe.each(ENGINES)('runBatch cancellation, %s engine', (engine) => {
  it.each(MODES)('parallelism %s: settles within 250 ms, keeps what finished, starts nothing after', async (mode) => {
    const runId = `cancel-batch-${engine}-${mode}`;
    const controller = new AbortController();
    const { state, onProgress } = abortOnFirstDone(controller);
    const scenarios = grid.rsiPeriod.map((rsiPeriod) => ({
      ticks,
      strategy: strategies[engine],
      engine,
      params: { rsiPeriod },
    }));
    const r = await runBatch({
      scenarios,
      parallelism: mode,
      maxWorkers: WORKERS,
      runId,
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress,
    });
    const settleMs = performance.now() - state.abortedAt;
    // A pool's records go to its first scenario's lines, even after the batch returned.
    const all = () => r.items.flatMap((i) => i.logs);
    const startsAtSettle = starts(all());
    await sleep(500);
    expect(starts(all())).toBe(startsAtSettle);
    expect(state.abortedAt).toBeGreaterThan(0);
    expect(settleMs).toBeLessThan(SETTLE_MS);

    expect(r.partial).toBe(true);
    expect(r.completed).toBeGreaterThanOrEqual(1);
    expect(r.cancelled).toBeGreaterThanOrEqual(1);
    expect(r.completed + r.failed + r.timedOut + r.cancelled).toBe(scenarios.length);
    expect(r.items.map((i) => i.index)).toEqual(scenarios.map((_, i) => i));
    for (const item of r.items) {
      expect(['completed', 'cancelled']).toContain(item.status);
      if (item.status === 'completed') expect(item.result?.trades).toBeDefined();
      else expect(item.result).toBeUndefined();
    }
  });
});

/**
 * Records progress calls and whether the event loop turned between the first one and the last
 * one before the final state: reports made as jobs finish come in separate turns, reports made
 * from the results once the batch is over come in one synchronous burst.
 */
function progressLog() {
  const calls: Progress[] = [];
  const seen = { turned: false, turnedBeforeLast: false };
  const onProgress = (p: Progress) => {
    if (calls.length === 0) setImmediate(() => (seen.turned = true));
    calls.push(p);
    if (p.completed + p.failed + p.timedOut + p.cancelled < p.total) seen.turnedBeforeLast = seen.turned;
  };
  return { calls, seen, onProgress };
}

describe('runBatch progress', () => {
  it.each(MODES)('reports each finished scenario as it finishes (js, %s)', async (mode) => {
    const { calls, seen, onProgress } = progressLog();
    const scenarios = [6, 7, 8, 9].map((rsiPeriod) => ({
      ticks,
      strategy: strategies.js,
      engine: 'js' as const,
      params: { rsiPeriod },
    }));
    const r = await runBatch({
      scenarios,
      parallelism: mode,
      maxWorkers: 2,
      progressIntervalMs: 0,
      onProgress,
    });
    expect(r.completed).toBe(4);
    expect(seen.turnedBeforeLast).toBe(true);
    // With no throttle, every finished scenario but the last is one call; the last is the final one.
    expect(calls.map((p) => p.completed)).toEqual([1, 2, 3, 4]);
    expect(calls[calls.length - 1]?.etaMs).toBe(0);
  });

  it('reports native scenarios as they finish', async () => {
    const { calls, seen, onProgress } = progressLog();
    const scenarios = [6, 7, 8].map((rsiPeriod) => ({
      ticks,
      strategy: strategies.native,
      engine: 'native' as const,
      params: { rsiPeriod },
    }));
    const r = await runBatch({
      scenarios,
      parallelism: 'none',
      progressIntervalMs: 0,
      onProgress,
    });
    expect(r.completed).toBe(3);
    expect(seen.turnedBeforeLast).toBe(true);
    // One engine thread, jobs far apart: each one's report arrives before the batch ends.
    const before = calls.slice(0, -1).map((p) => p.completed);
    expect(before).toEqual([1, 2]);
    expect(calls[calls.length - 1]?.completed).toBe(3);
  });

  it.each(ENGINES)('optimize reports each finished job once, in order (%s, none)', async (engine) => {
    const calls: Progress[] = [];
    const r = await startOptimize({
      ticks,
      strategy: strategies[engine],
      grid: { rsiPeriod: [6, 7, 8] },
      engine,
      parallelism: 'none',
      topK: 1,
      progressIntervalMs: 0,
      onProgress: (p) => calls.push(p),
    }).done;
    expect(r.completed).toBe(3);
    expect(calls.map((p) => p.completed)).toEqual([1, 2, 3]);
  });
});

describe.each(ENGINES)('walkForward cancellation, %s engine', (engine) => {
  it.each(MODES)('parallelism %s: settles within 250 ms, keeps finished windows', async (mode) => {
    const runId = `cancel-wf-${engine}-${mode}`;
    const lines = startCapture(runId);
    try {
      const controller = new AbortController();
      // Abort in the second window, at its first finished job (a final state ends the first).
      let windowsEnded = 0;
      const { state, onProgress } = abortOnFirstDone(controller, (p) => {
        if (p.completed + p.failed + p.timedOut + p.cancelled === p.total) windowsEnded++;
        return windowsEnded >= 1 && p.completed >= 1 && p.completed < p.total;
      });
      const r = await walkForward({
        ticks: wfTicks,
        strategy: strategies[engine],
        grid: { rsiPeriod: [6, 7, 8, 9] },
        engine,
        parallelism: mode,
        maxWorkers: WORKERS,
        runId,
        target: 'netProfit',
        windows: { inSample: '1d', outOfSample: '12h' },
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress,
      });
      const settleMs = performance.now() - state.abortedAt;
      const startsAtSettle = starts(lines);
      await sleep(500);
      expect(starts(lines)).toBe(startsAtSettle);
      expect(state.abortedAt).toBeGreaterThan(0);
      expect(settleMs).toBeLessThan(SETTLE_MS);

      expect(r.partial).toBe(true);
      expect(r.windows.length).toBeGreaterThanOrEqual(3);
      expect(['completed', 'no_result']).toContain(r.windows[0]?.status);
      expect(r.windows.slice(1).every((w) => w.status === 'cancelled')).toBe(true);
      if (r.windows[0]?.status === 'completed') expect(r.windows[0].result?.trades).toBeDefined();
    } finally {
      stopCapture(runId);
    }
  });
});

const wfTicks: TickData = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days: 3, seed: 22, stepPoints: 8 });
