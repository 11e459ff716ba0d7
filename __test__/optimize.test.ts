import { createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  backtestSync,
  generateTicks,
  type OptimizeOptions,
  type OptimizeResult,
  optimize,
  type Progress,
  referenceStrategy,
  resultHash,
  runBatch,
  startOptimize,
  type TickData,
  ValidationError,
  walkForward,
} from '../src/index.js';

let ticks: TickData;

beforeAll(() => {
  ticks = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days: 8, seed: 11, stepPoints: 8 });
});

afterEach(() => {
  delete process.env.TICKFORGE_PARALLELISM;
  delete process.env.TICKFORGE_MAX_WORKERS;
});

const grid = { rsiPeriod: [7, 14, 21], slPips: { from: 10, to: 30, step: 10 } };

function base(extra: Partial<OptimizeOptions> = {}): OptimizeOptions {
  return { ticks, strategy: referenceStrategy, grid, ...extra };
}

/** A hash of everything a job produced, NaN-safe and independent of timing fields. */
function hashOf(r: OptimizeResult): string {
  const jobs = r.results.map((j) => [j.index, j.params, j.status, j.metrics, j.tradeCount]);
  const top = r.ranked.map((x) => [x.index, x.score, x.result?.trades, Array.from(x.result?.equity.equity ?? [])]);
  const text = JSON.stringify([jobs, top], (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  return createHash('sha256').update(text).digest('hex');
}

describe('optimize', () => {
  it('numbers combinations in grid order and returns them in that order', async () => {
    const r = await optimize(base());
    expect(r.total).toBe(9);
    expect(r.results.map((j) => j.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.results.map((j) => [j.params.rsiPeriod, j.params.slPips])).toEqual([
      [7, 10],
      [7, 20],
      [7, 30],
      [14, 10],
      [14, 20],
      [14, 30],
      [21, 10],
      [21, 20],
      [21, 30],
    ]);
    expect(r.results.every((j) => j.status === 'completed')).toBe(true);
    expect(r.results.some((j) => (j.tradeCount ?? 0) > 0)).toBe(true);
  });

  it('gives identical results in every mode and on both engines', async () => {
    const hashes = new Set<string>();
    for (const engine of ['native', 'js'] as const) {
      for (const parallelism of ['none', 'threads', 'processes'] as const) {
        const r = await optimize(base({ engine, parallelism, maxWorkers: 2 }));
        expect(r.engine).toBe(engine);
        expect(r.parallelism).toBe(parallelism);
        hashes.add(hashOf(r));
      }
    }
    expect(hashes.size).toBe(1);
  });

  it('gives bitwise-identical results over 100 repeated parallel runs', async () => {
    const small = generateTicks({ days: 2, seed: 4, stepPoints: 8 });
    const first = hashOf(await optimize({ ticks: small, strategy: referenceStrategy, grid, parallelism: 'threads' }));
    for (let i = 0; i < 99; i++) {
      const r = await optimize({
        ticks: small,
        strategy: referenceStrategy,
        grid,
        parallelism: 'threads',
        maxWorkers: 2,
      });
      expect(hashOf(r)).toBe(first);
    }
  });

  it('ranks by the target with ties by index, and ranked results are full runs', async () => {
    const r = await optimize(base({ target: 'netProfit', topK: 3 }));
    const sorted = r.results
      .filter((j) => j.status === 'completed')
      .sort((a, b) => (b.metrics?.netProfit ?? 0) - (a.metrics?.netProfit ?? 0) || a.index - b.index);
    expect(r.ranked.map((x) => x.index)).toEqual(sorted.slice(0, 3).map((j) => j.index));
    const best = r.ranked[0];
    expect(best?.result?.metrics).toEqual(r.results[best?.index ?? -1]?.metrics);
    expect(best?.result?.trades.length).toBe(r.results[best?.index ?? -1]?.tradeCount);
  });

  it('isolates an injected panic, throw and hang; the others complete (threads, native)', async () => {
    const r = await optimize(base({ engine: 'native', timeoutMs: 500, _faults: { panicAt: [1], hangAt: [4] } }));
    expect(r.results[1]?.status).toBe('failed');
    expect(r.results[1]?.error?.type).toBe('EnginePanic');
    expect(r.results[4]?.status).toBe('timed_out');
    const others = r.results.filter((j) => j.index !== 1 && j.index !== 4);
    expect(others.every((j) => j.status === 'completed')).toBe(true);
    expect(r.failed).toBe(1);
    expect(r.timedOut).toBe(1);
  });

  it('isolates a throw and a hang in processes mode, killing the hung child', async () => {
    const r = await optimize(
      base({
        engine: 'js',
        parallelism: 'processes',
        maxWorkers: 2,
        timeoutMs: 1500,
        _faults: { throwAt: [2], hangAt: [5] },
      }),
    );
    expect(r.results[2]?.status).toBe('failed');
    expect(r.results[5]?.status).toBe('timed_out');
    expect(r.results.filter((j) => j.status === 'completed')).toHaveLength(7);
  });

  it('cancels mid-run, keeps what finished and marks the output partial', async () => {
    const controller = new AbortController();
    const big = { rsiPeriod: { from: 5, to: 40, step: 1 }, slPips: { from: 10, to: 40, step: 5 } };
    const run = startOptimize({
      ticks,
      strategy: referenceStrategy,
      grid: big,
      engine: 'native',
      maxWorkers: 1,
      signal: controller.signal,
      progressIntervalMs: 1,
      onProgress: (p) => {
        if (p.completed >= 3) controller.abort();
      },
    });
    const started = performance.now();
    const r = await run.done;
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(r.partial).toBe(true);
    expect(r.cancelled).toBeGreaterThan(0);
    expect(r.completed).toBeGreaterThanOrEqual(3);
    expect(r.completed + r.failed + r.timedOut + r.cancelled).toBe(r.total);
    for (const j of r.results) {
      if (j.status === 'completed') expect(j.metrics).toBeDefined();
    }
  });

  it('reports progress with exactly one final call that accounts for every job', async () => {
    const calls: Progress[] = [];
    const r = await optimize(base({ progressIntervalMs: 0, onProgress: (p) => calls.push(p) }));
    const finals = calls.filter((p) => p.completed + p.failed + p.timedOut + p.cancelled === r.total);
    expect(finals).toHaveLength(1);
    expect(calls[calls.length - 1]).toBe(finals[0]);
    const last = calls[calls.length - 1] as Progress;
    expect(last.completed).toBe(r.total);
    expect(last.best?.index).toBe(r.ranked[0]?.index);
  });

  it('also streams progress as an async iterator', async () => {
    const run = startOptimize(base({ engine: 'js', parallelism: 'none' }));
    const seen: Progress[] = [];
    for await (const p of run.progress) seen.push(p);
    const r = await run.done;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[seen.length - 1]?.completed).toBe(r.total);
  });

  it('honours TICKFORGE_PARALLELISM and TICKFORGE_MAX_WORKERS over the arguments', async () => {
    process.env.TICKFORGE_PARALLELISM = 'none';
    const a = await optimize(base({ parallelism: 'threads', maxWorkers: 2 }));
    expect(a.parallelism).toBe('none');
    delete process.env.TICKFORGE_PARALLELISM;
    process.env.TICKFORGE_MAX_WORKERS = '1';
    const b = await optimize(base({ parallelism: 'threads', maxWorkers: 2 }));
    expect(b.workers).toBe(1);
    process.env.TICKFORGE_PARALLELISM = 'sometimes';
    await expect(optimize(base())).rejects.toBeInstanceOf(ValidationError);
  });

  it('runs one job sequentially whatever the setting', async () => {
    const r = await optimize(base({ grid: { rsiPeriod: [14] }, parallelism: 'processes' }));
    expect(r.parallelism).toBe('none');
    expect(r.total).toBe(1);
  });

  it('rejects a bad grid before running anything', () => {
    expect(() => startOptimize(base({ grid: { rsiPeriodd: [3] } }))).toThrow(ValidationError);
    expect(() => startOptimize(base({ grid: { slPips: { from: 10, to: 5, step: 1 } } }))).toThrow(/grid\.slPips/);
  });
});

describe('job output check', () => {
  it('turns a completed job without a full set of metrics into a failed InvalidOutput result', async () => {
    const { checkOutcome } = await import('../src/optimize/optimize.js');
    const good = (await optimize(base({ grid: { rsiPeriod: [7, 14] } }))).results[0];
    const ok = { status: 'completed' as const, metrics: good?.metrics, tradeCount: 3, elapsedMs: 1 };
    expect(checkOutcome(ok)).toBe(ok);
    const { sharpe: _s, ...partial } = good?.metrics ?? ({} as never);
    const bad = checkOutcome({ status: 'completed', metrics: partial as never, tradeCount: 3, elapsedMs: 1 });
    expect(bad.status).toBe('failed');
    expect(bad.error).toEqual({ type: 'InvalidOutput', message: 'the job reported completion without metrics sharpe' });
    expect(checkOutcome({ status: 'completed', metrics: good?.metrics, elapsedMs: 1 }).error?.message).toMatch(
      /trade count/,
    );
  });
});

describe('runBatch', () => {
  it('runs valid scenarios, reports invalid ones without running, keeps input order', async () => {
    const other = generateTicks({ symbol: 'GBPUSD', days: 3, seed: 2, stepPoints: 8 });
    const r = await runBatch({
      scenarios: [
        { ticks, strategy: referenceStrategy },
        { ticks: other, strategy: referenceStrategy, params: { rsiPeriod: 1, lotz: 2 } },
        { ticks: other, strategy: referenceStrategy, engine: 'js' },
      ],
      parallelism: 'threads',
    });
    expect(r.items.map((i) => i.status)).toEqual(['completed', 'failed', 'completed']);
    expect(r.items[1]?.error?.type).toBe('ValidationError');
    expect(r.items[1]?.issues?.map((i) => i.path).sort()).toEqual(['params.lotz', 'params.rsiPeriod']);
    expect(r.items[0]?.result?.engine).toBe('native');
    expect(r.items[2]?.result?.engine).toBe('js');
    expect(r.items[0]?.runId).toBe(`${r.runId}/0`);
    expect(r.items[0]?.result?.runId).toBe(`${r.runId}/0`);
    expect(r.items[1]?.logs.some((l) => l.includes('"runId"') && l.includes('rejected'))).toBe(true);
  });
});

describe('runBatch across modes', () => {
  it('gives the same results in processes and threads mode, on both engines, in input order', async () => {
    const other = generateTicks({ symbol: 'USDJPY', days: 3, seed: 5, stepPoints: 8 });
    const scenarios = [
      { ticks, strategy: referenceStrategy, engine: 'native' as const },
      { ticks: other, strategy: referenceStrategy, engine: 'js' as const },
      { ticks, strategy: referenceStrategy, engine: 'js' as const, params: { rsiPeriod: 9 } },
      { ticks: other, strategy: referenceStrategy, engine: 'native' as const, params: { rsiPeriod: 0 } },
    ];
    const expected = scenarios.map((sc) => {
      try {
        return resultHash(backtestSync(sc));
      } catch {
        return 'invalid';
      }
    });
    for (const parallelism of ['processes', 'threads', 'none'] as const) {
      const r = await runBatch({ scenarios, parallelism, maxWorkers: 2 });
      const got = r.items.map((i) => (i.result ? resultHash(i.result) : i.status));
      expect(got.slice(0, 3)).toEqual(expected.slice(0, 3));
      expect(r.items[1]?.result?.engine).toBe('js');
      expect(r.items[3]?.status).toBe('failed');
      expect(r.items[3]?.issues?.[0]?.path).toBe('params.rsiPeriod');
    }
  });
});

describe('walkForward', () => {
  it('optimizes each in-sample window, tests out of sample and stitches the equity', async () => {
    const r = await walkForward({
      ticks,
      strategy: referenceStrategy,
      grid: { rsiPeriod: [7, 14] },
      target: 'netProfit',
      windows: { inSample: '3d', outOfSample: '1d' },
    });
    expect(r.windows.length).toBeGreaterThanOrEqual(3);
    for (const w of r.windows) {
      expect(w.outOfSample.start).toBe(w.inSample.end + 1);
      if (w.status === 'completed') {
        expect(w.result?.params.rsiPeriod).toBe(w.best?.params.rsiPeriod);
        const oosTimes = w.result?.equity.time ?? new Float64Array();
        // The first sample is stamped with the decision bar that was forming when the window
        // started: the bar of the last tick before it (across a weekend, Friday's last bar).
        let before = 0;
        for (const t of ticks.time) if (t < w.outOfSample.start) before = t;
        if (oosTimes.length > 0) expect(oosTimes[0]).toBe(Math.floor(before / 300_000) * 300_000);
      }
    }
    const completed = r.windows.filter((w) => w.result);
    const samples = completed.reduce((s, w) => s + (w.result?.equity.time.length ?? 0), 0);
    expect(r.equity.equity.length).toBe(samples);
    // Chained by returns: the stitched curve ends at the product of the windows' growth factors.
    const growth = completed.reduce((g, w) => g * ((w.result?.metrics.finalBalance ?? 0) / 10_000), 1);
    const end = r.equity.equity[r.equity.equity.length - 1] as number;
    expect(Math.abs(end - 10_000 * growth)).toBeLessThan(1e-6 * 10_000);
  });
});
