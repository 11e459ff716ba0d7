/**
 * No look-ahead (docs/semantics.md section 2): what happens up to an event depends only on the
 * events before it. Running on a prefix of the data (rows 0..cut) must therefore reproduce the
 * full run's trades, rejections and equity samples up to the time of row `cut`, on both engines.
 *
 * What the prefix run may legitimately do differently, and is left out of the comparison:
 * - its final trade, if it is the position closed at the end of data (reason `end`);
 * - its final equity sample, taken at the end of data with the last row's quotes;
 * - anything at or after the cut time.
 * In bar mode the cut time is `bars.time[cut - 1] + base` (the close of the last bar in the
 * prefix), not `bars.time[cut]`: with `fillAt: "close"` a decision made at bar `cut` fills at the
 * previous bar's close time, which lies before `bars.time[cut]` when there is a gap.
 */
import { describe, expect, it } from 'vitest';
import { type BacktestOptions, backtestSync } from '../src/backtest.js';
import { generateBars, generateTicks } from '../src/generate.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import { type BarData, TIMEFRAME_MS, type TickData } from '../src/types.js';
import { buildScenario } from './helpers/scenarios.js';

type Engine = 'native' | 'js';
type RunOptions = Omit<BacktestOptions, 'engine' | 'signal'>;

function prefixTicks(t: TickData, cut: number): TickData {
  return {
    ...(t.symbol !== undefined ? { symbol: t.symbol } : {}),
    time: t.time.subarray(0, cut),
    bid: t.bid.subarray(0, cut),
    ask: t.ask.subarray(0, cut),
    ...(t.volume ? { volume: t.volume.subarray(0, cut) } : {}),
  };
}

function prefixBars(b: BarData, cut: number): BarData {
  return {
    ...(b.symbol !== undefined ? { symbol: b.symbol } : {}),
    timeframe: b.timeframe,
    time: b.time.subarray(0, cut),
    open: b.open.subarray(0, cut),
    high: b.high.subarray(0, cut),
    low: b.low.subarray(0, cut),
    close: b.close.subarray(0, cut),
    volume: b.volume.subarray(0, cut),
  };
}

const totals = { cases: 0, trades: 0, samples: 0, rejections: 0 };

/** Full run vs prefix run at `cut` on one engine; returns how many trades were compared. */
function checkPrefix(options: RunOptions, cut: number, engine: Engine): number {
  const { ticks, bars } = options;
  let cutTime: number;
  let prefix: RunOptions;
  if (ticks) {
    cutTime = ticks.time[cut] as number;
    prefix = { ...options, ticks: prefixTicks(ticks, cut) };
  } else if (bars) {
    cutTime = (bars.time[cut - 1] as number) + TIMEFRAME_MS[bars.timeframe];
    prefix = { ...options, bars: prefixBars(bars, cut) };
  } else throw new Error('no data');
  const full = backtestSync({ ...options, engine });
  const part = backtestSync({ ...prefix, engine });
  expect(part.events).toBe(cut);

  const lastPart = part.trades[part.trades.length - 1];
  const partTrades = part.trades.filter((t) => t.exitTime < cutTime && !(t === lastPart && t.reason === 'end'));
  const fullTrades = full.trades.filter((t) => t.exitTime < cutTime);
  expect(partTrades).toStrictEqual(fullTrades);
  // Trades are recorded in exit order, so the compared ones are a common prefix of both lists.
  expect(fullTrades).toStrictEqual(full.trades.slice(0, fullTrades.length));

  expect(part.rejections.filter((r) => r.time < cutTime)).toStrictEqual(
    full.rejections.filter((r) => r.time < cutTime),
  );

  // Every sample of the prefix run but its last (the end-of-data one) is a sample of the full run.
  const k = part.equity.time.length - 1;
  expect(k).toBeGreaterThanOrEqual(0);
  expect(full.equity.time.length).toBeGreaterThan(k);
  for (const col of ['time', 'equity', 'balance'] as const) {
    const a = part.equity[col].subarray(0, k);
    const b = full.equity[col].subarray(0, k);
    expect(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
    ).toBe(true);
  }
  // The last sample covers the same decision bar in both runs (same stamp), up to the cut time.
  expect(part.equity.time[k]).toBe(full.equity.time[k]);
  expect(part.equity.time[k] as number).toBeLessThan(cutTime);

  totals.cases++;
  totals.trades += fullTrades.length;
  totals.samples += k;
  totals.rejections += part.rejections.length;
  return fullTrades.length;
}

/** Cut points at these fractions of the rows, kept after `start` (so that the prefix has decisions). */
function cuts(times: Float64Array, start: number | undefined, fractions: number[]): number[] {
  const n = times.length;
  let first = 2;
  if (start !== undefined) while (first < n && (times[first - 1] as number) < start) first++;
  return fractions.map((f) => Math.max(first + 1, Math.min(n - 1, Math.floor(n * f))));
}

/** The scenario's settings without `end` (the prefix defines its own end); start kept as epoch ms. */
function forLookahead(seed: number): { options: RunOptions; start: number | undefined; label: string } {
  const sc = buildScenario(seed);
  const { end: _end, ...options } = sc.options;
  const s = options.start;
  const start = s == null ? undefined : typeof s === 'number' ? s : new Date(s).getTime();
  return { options, start, label: sc.label };
}

function labelled(label: string, f: () => void): void {
  try {
    f();
  } catch (e) {
    if (e instanceof Error) e.message = `${label}\n${e.message}`;
    throw e;
  }
}

const ENGINES: Engine[] = ['native', 'js'];

describe('tick mode: a prefix of the ticks reproduces the full run up to the cut', () => {
  for (const engine of ENGINES) {
    it(`reference strategy on generated ticks (${engine})`, () => {
      let compared = 0;
      for (const seed of [1, 2, 3]) {
        const ticks = generateTicks({ seed, days: 4, stepPoints: 8 });
        for (const cut of cuts(ticks.time, undefined, [0.3, 0.55, 0.8])) {
          compared += checkPrefix({ ticks, strategy: referenceStrategy }, cut, engine);
        }
      }
      expect(compared).toBeGreaterThan(20);
    });

    it(`random tick scenarios (${engine})`, () => {
      let compared = 0;
      for (const seed of [2, 4, 6, 8, 10, 12, 14, 16, 18, 22, 30, 42]) {
        const { options, start, label } = forLookahead(seed);
        const ticks = options.ticks as TickData;
        labelled(label, () => {
          for (const cut of cuts(ticks.time, start, [0.4, 0.7, 0.93])) compared += checkPrefix(options, cut, engine);
        });
      }
      expect(compared).toBeGreaterThan(1000);
    });
  }

  it('cuts inside runs of equal timestamps and right after gaps, on hand-made ticks (both engines)', () => {
    const handMade = [];
    for (let seed = 2; handMade.length < 4; seed += 2) {
      const sc = forLookahead(seed);
      if (sc.label.includes('hand ticks')) handMade.push(sc);
    }
    for (const { options, start, label } of handMade) {
      const t = (options.ticks as TickData).time;
      const picked: number[] = [];
      for (let i = Math.floor(t.length / 5); i < t.length - 1 && picked.length < 6; i++) {
        const equalRun = t[i] === t[i - 1] && t[i] === t[i + 1];
        const gap = (t[i] as number) - (t[i - 1] as number) > 600_000;
        if ((equalRun || gap) && (start === undefined || (t[i - 1] as number) >= start)) {
          picked.push(i);
          i += Math.floor(t.length / 8);
        }
      }
      expect(picked.length).toBeGreaterThanOrEqual(3);
      labelled(label, () => {
        for (const engine of ENGINES) for (const cut of picked) checkPrefix(options, cut, engine);
      });
    }
  });
});

describe('bar mode: a prefix of the bars reproduces the full run up to the cut', () => {
  // The reference strategy with a narrower envelope, so that it trades on generated bars.
  const narrow = structuredClone(referenceStrategy);
  const env = narrow.workers?.find((w) => w.id === 'env');
  if (env) env.params.percent = 0.2;

  for (const engine of ENGINES) {
    it(`reference strategy on generated M1/M5 bars, both fill modes (${engine})`, () => {
      let compared = 0;
      for (const [seed, timeframe] of [
        [5, 'M1'],
        [6, 'M5'],
      ] as const) {
        const bars = generateBars({ seed, timeframe, count: 15_000, stepPoints: 8 });
        for (const fillAt of ['open', 'close'] as const) {
          for (const cut of cuts(bars.time, undefined, [0.35, 0.6, 0.85])) {
            compared += checkPrefix({ bars, strategy: narrow, fillAt }, cut, engine);
          }
        }
      }
      expect(compared).toBeGreaterThan(100);
    });

    it(`random bar scenarios (${engine})`, () => {
      let compared = 0;
      for (const seed of [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 39, 43]) {
        const { options, start, label } = forLookahead(seed);
        const bars = options.bars as BarData;
        labelled(label, () => {
          for (const cut of cuts(bars.time, start, [0.4, 0.7, 0.93])) compared += checkPrefix(options, cut, engine);
        });
      }
      expect(compared).toBeGreaterThan(1000);
    });
  }
});

// Runs last (tests in a file run in order).
it('compared a healthy amount of history', () => {
  expect(totals.cases).toBeGreaterThan(150);
  expect(totals.trades).toBeGreaterThan(5000);
  expect(totals.samples).toBeGreaterThan(10_000);
});
