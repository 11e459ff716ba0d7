/**
 * Deadlines are measured in time: both engines pace their checks by the clock (about one a
 * millisecond, whatever an event costs), so a deliberately slow rule overshoots `timeoutMs` by
 * little, in tick and in bar mode; and a run that ends past its deadline is a timeout, never a
 * completed run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { backtestSync } from '../src/backtest.js';
import { TimeoutError } from '../src/errors.js';
import { generateBars, generateTicks } from '../src/generate.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import type { StrategyIR } from '../src/types.js';

/**
 * A rule on every event that sums a thousand prices: microseconds per event, not nanoseconds. In
 * tick mode it sums the quote, which changes on every tick (a sum of closed bars would be
 * evaluated only when a bar closes); in bar mode the base bar's close, which changes on every bar.
 */
function slow(timeframe: 'M1' | 'M5', price: { quote: 'mid' } | { bar: 'close' }): StrategyIR {
  return {
    version: 1,
    name: 'slow',
    decision: { timeframe, on: 'tick' },
    workers: [],
    rules: [
      {
        when: { op: '<', args: [{ op: '+', args: new Array(1000).fill(price) }, 0] },
        then: [{ action: 'buy', lots: 1 }],
      },
    ],
  };
}

const ticks = generateTicks({ days: 40, seed: 11 });
const bars = generateBars({ timeframe: 'M1', count: 400_000, seed: 11 });
const TIMEOUT_MS = 120;

describe.each(['native', 'js'] as const)('%s engine', (engine) => {
  // The first run on new data copies (native) or validates (pure-TS) it before the clock starts.
  beforeAll(() => {
    backtestSync({ ticks, strategy: referenceStrategy, engine });
    backtestSync({ bars, strategy: { ...referenceStrategy, decision: { timeframe: 'M5' } }, engine });
  });

  for (const [mode, data] of [
    ['tick', { ticks, strategy: slow('M5', { quote: 'mid' }) }],
    ['bar', { bars, strategy: slow('M1', { bar: 'close' }) }],
  ] as const) {
    it(`stops a slow ${mode}-mode rule within 50 ms of timeoutMs`, () => {
      // The best of three: checks paced by event counts overshoot by seconds every time, while a
      // busy machine may delay one stop.
      let best = Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < 3 && best >= 50; attempt++) {
        const t0 = performance.now();
        expect(() => backtestSync({ ...data, engine, timeoutMs: TIMEOUT_MS })).toThrow(TimeoutError);
        best = Math.min(best, performance.now() - t0 - TIMEOUT_MS);
      }
      expect(best).toBeLessThan(50);
    });
  }

  it('times out a run of a few events given a deadline shorter than it', () => {
    // Too short for any run to finish in: a timeout however few events there are.
    const few = { time: ticks.time.subarray(0, 50), bid: ticks.bid.subarray(0, 50), ask: ticks.ask.subarray(0, 50) };
    expect(() =>
      backtestSync({ ticks: few, strategy: slow('M5', { quote: 'mid' }), engine, timeoutMs: 0.001 }),
    ).toThrow(TimeoutError);
  });
});
