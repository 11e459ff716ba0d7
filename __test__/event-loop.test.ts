/**
 * The event loop stays free while a backtest runs, in both engines, and an abort settles at once:
 * the pure-TS `backtest()` runs on a worker thread whose engine polls its stop flag about once a
 * millisecond; the native first run copies the columns in pieces between turns of the loop.
 */
import { describe, expect, it } from 'vitest';
import { backtest, backtestSync, toNativeAsync } from '../src/backtest.js';
import { loadNative, type NativeBinding } from '../src/engine/native.js';
import { CancelledError } from '../src/errors.js';
import { generateTicks } from '../src/generate.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import type { StrategyIR } from '../src/types.js';

/** Rules on every tick over a wide sum: slow enough per event that pacing matters. */
const slow: StrategyIR = {
  version: 1,
  name: 'slow',
  decision: { timeframe: 'M5', on: 'tick' },
  workers: [],
  rules: [
    {
      when: { op: '<', args: [{ op: '+', args: new Array(200).fill({ quote: 'mid' }) }, 0] },
      then: [{ action: 'buy', lots: 1 }],
    },
  ],
};

/** Counts the turns of a 10 ms interval timer and the longest gap between two of them. */
function watchTimer() {
  let fires = 0;
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    fires++;
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return { fires, longest };
    },
  };
}

describe('pure-TS backtest() off the main thread', () => {
  const ticks = generateTicks({ days: 20, seed: 5, engine: 'js' });

  it('keeps a 10 ms timer firing and gives the same result as backtestSync', async () => {
    const strategy = referenceStrategy;
    const sync = backtestSync({ ticks, strategy, engine: 'js' });
    const watch = watchTimer();
    const t0 = performance.now();
    const r = await backtest({ ticks, strategy, engine: 'js' });
    const ms = performance.now() - t0;
    const { fires } = watch.stop();
    expect(r.trades).toEqual(sync.trades);
    expect(r.metrics).toEqual(sync.metrics);
    expect(Array.from(r.equity.equity)).toEqual(Array.from(sync.equity.equity));
    // The timer fired through the run (a blocked loop would let it fire about once).
    expect(fires).toBeGreaterThan(Math.floor(ms / 10 / 4));
  });

  it('settles within 100 ms of an abort', async () => {
    const long = generateTicks({ days: 120, seed: 6, engine: 'js' });
    // The best of three tries: a run that ignored its signal would take seconds every time, while a
    // busy machine may delay one answer.
    let best = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 3 && best >= 100; attempt++) {
      const controller = new AbortController();
      const run = backtest({ ticks: long, strategy: slow, engine: 'js', signal: controller.signal });
      // Well into the run (this slow rule takes several seconds over these ticks).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const aborted = performance.now();
      controller.abort();
      await expect(run).rejects.toBeInstanceOf(CancelledError);
      best = Math.min(best, performance.now() - aborted);
    }
    expect(best).toBeLessThan(100);
  });
});

describe('native first run', () => {
  it('copies 25M ticks without blocking the event loop for more than 50 ms', async () => {
    const binding = loadNative() as NativeBinding;
    const n = 25_000_000;
    // The best of three fresh copies: a blocking copy holds the loop for the whole copy (over a
    // second) every time, while a busy machine may stall one turn.
    const time = new Float64Array(n);
    const bid = new Float64Array(n);
    const ask = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      time[i] = 1_700_000_000_000 + i * 10;
      bid[i] = 1.1 + (i % 100) * 1e-5;
      ask[i] = (bid[i] as number) + 2e-4;
    }
    // Each try is a new data object over the same columns (the copy is cached per object); all
    // are kept alive so that no earlier copy is freed, on this thread, during a later one.
    const kept: object[] = [];
    let best = Number.POSITIVE_INFINITY;
    for (let attempt = 0; attempt < 3 && best >= 50; attempt++) {
      const ticks = { time, bid, ask };
      kept.push(ticks);
      let longest = 0;
      let turns = 0;
      let done = false;
      const spin = (async () => {
        let last = performance.now();
        while (!done) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          const now = performance.now();
          longest = Math.max(longest, now - last);
          last = now;
          turns++;
        }
      })();
      const handle = await toNativeAsync(binding, { kind: 'ticks', ticks });
      kept.push(handle);
      done = true;
      await spin;
      expect(handle.length).toBe(n);
      expect(turns).toBeGreaterThan(10);
      best = Math.min(best, longest);
    }
    expect(best).toBeLessThan(50);
  });

  it('reports invalid columns from the asynchronous copy as a ValidationError', async () => {
    const binding = loadNative() as NativeBinding;
    const bad = { time: Float64Array.of(2, 1), bid: Float64Array.of(1, 1), ask: Float64Array.of(1.1, 1.1) };
    await expect(toNativeAsync(binding, { kind: 'ticks', ticks: bad })).rejects.toMatchObject({
      name: 'ValidationError',
      issues: [{ path: 'ticks.time[1]' }],
    });
  });
});
