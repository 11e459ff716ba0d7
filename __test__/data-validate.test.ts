import { describe, expect, it } from 'vitest';
import {
  barDataIssue,
  isBarData,
  isTickData,
  tickDataIssue,
  validateBars,
  validateTicks,
} from '../src/data/validate.js';
import { ValidationError } from '../src/errors.js';
import type { BarData, TickData, Timeframe } from '../src/types.js';

const f = (xs: number[]) => Float64Array.from(xs);

/** Runs `fn` and checks it throws a ValidationError with exactly this one issue. */
function expectIssue(fn: () => void, path: string, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ValidationError);
  const err = caught as ValidationError;
  expect(err.code).toBe('ERR_TICKFORGE_VALIDATION');
  expect(err.issues).toEqual([{ path, message }]);
  expect(err.message).toBe(`${path}: ${message}`);
}

function ticks(over: Partial<Record<'time' | 'bid' | 'ask' | 'volume', number[]>> = {}): TickData {
  const t: TickData = {
    time: f(over.time ?? [1700000000000, 1700000000500, 1700000001000]),
    bid: f(over.bid ?? [1.1, 1.2, 1.3]),
    ask: f(over.ask ?? [1.1002, 1.2002, 1.3002]),
  };
  if (over.volume) t.volume = f(over.volume);
  return t;
}

// Three M5 bars; 1699999800000 = 5666666 * 300000.
const T0 = 1699999800000;
const T1 = 1700000100000;
const T2 = 1700000400000;

function bars(
  over: Partial<Record<'time' | 'open' | 'high' | 'low' | 'close' | 'volume', number[]>> = {},
  timeframe: Timeframe = 'M5',
): BarData {
  return {
    timeframe,
    time: f(over.time ?? [T0, T1, T2]),
    open: f(over.open ?? [1.1, 1.2, 1.15]),
    high: f(over.high ?? [1.25, 1.3, 1.2]),
    low: f(over.low ?? [1.05, 1.1, 1.1]),
    close: f(over.close ?? [1.2, 1.15, 1.12]),
    volume: f(over.volume ?? [10, 0, 3]),
  };
}

describe('validateTicks', () => {
  it('accepts good ticks, equal times and an optional volume', () => {
    expect(() => validateTicks(ticks())).not.toThrow();
    expect(() => validateTicks(ticks({ time: [5, 5, 5] }))).not.toThrow();
    expect(() => validateTicks(ticks({ volume: [0, 1.5, 2] }))).not.toThrow();
    expect(() => validateTicks(ticks({ bid: [1, 1, 1], ask: [1, 1, 1] }))).not.toThrow();
  });

  it('rejects no rows', () => {
    expectIssue(() => validateTicks(ticks({ time: [], bid: [], ask: [] })), 'ticks', 'no rows');
  });

  it('rejects column length mismatches, bid before ask before volume', () => {
    expectIssue(() => validateTicks(ticks({ bid: [1, 2] })), 'ticks.bid', 'length 2 differs from ticks.time length 3');
    expectIssue(
      () => validateTicks(ticks({ ask: [1, 2, 3, 4] })),
      'ticks.ask',
      'length 4 differs from ticks.time length 3',
    );
    expectIssue(
      () => validateTicks(ticks({ volume: [1] })),
      'ticks.volume',
      'length 1 differs from ticks.time length 3',
    );
    expectIssue(
      () => validateTicks(ticks({ bid: [1], ask: [1], volume: [1] })),
      'ticks.bid',
      'length 1 differs from ticks.time length 3',
    );
    // A length problem wins over a bad value in an earlier row.
    expectIssue(
      () => validateTicks(ticks({ time: [Number.NaN, 1, 2], volume: [1, 1] })),
      'ticks.volume',
      'length 2 differs from ticks.time length 3',
    );
  });

  it('rejects a non-finite time', () => {
    expectIssue(() => validateTicks(ticks({ time: [1, Number.NaN, 3] })), 'ticks.time[1]', 'NaN is not a finite time');
    expectIssue(
      () => validateTicks(ticks({ time: [1, 2, Number.POSITIVE_INFINITY] })),
      'ticks.time[2]',
      'Infinity is not a finite time',
    );
    expectIssue(
      () => validateTicks(ticks({ time: [Number.NEGATIVE_INFINITY, 2, 3] })),
      'ticks.time[0]',
      '-Infinity is not a finite time',
    );
  });

  it('rejects decreasing time', () => {
    expectIssue(
      () => validateTicks(ticks({ time: [1700000000000, 1700000000500, 1700000000000] })),
      'ticks.time[2]',
      '1700000000000 is earlier than ticks.time[1] (1700000000500)',
    );
  });

  it('rejects NaN, zero, negative and infinite prices', () => {
    expectIssue(
      () => validateTicks(ticks({ bid: [1.1, Number.NaN, 1.3] })),
      'ticks.bid[1]',
      'NaN is not a positive finite price',
    );
    expectIssue(() => validateTicks(ticks({ bid: [0, 1.2, 1.3] })), 'ticks.bid[0]', '0 is not a positive finite price');
    expectIssue(
      () => validateTicks(ticks({ bid: [1.1, 1.2, -1.5] })),
      'ticks.bid[2]',
      '-1.5 is not a positive finite price',
    );
    expectIssue(
      () => validateTicks(ticks({ ask: [1.2, Number.POSITIVE_INFINITY, 1.4] })),
      'ticks.ask[1]',
      'Infinity is not a positive finite price',
    );
    expectIssue(() => validateTicks(ticks({ ask: [1.2, 1.3, 0] })), 'ticks.ask[2]', '0 is not a positive finite price');
  });

  it('rejects ask below bid', () => {
    expectIssue(
      () => validateTicks(ticks({ bid: [1.1, 1.2, 1.3], ask: [1.2, 1.1, 1.4] })),
      'ticks.ask[1]',
      '1.1 is below ticks.bid[1] (1.2)',
    );
  });

  it('rejects a bad volume', () => {
    expectIssue(
      () => validateTicks(ticks({ volume: [1, 2, -1] })),
      'ticks.volume[2]',
      '-1 is not a finite non-negative volume',
    );
    expectIssue(
      () => validateTicks(ticks({ volume: [Number.NaN, 2, 3] })),
      'ticks.volume[0]',
      'NaN is not a finite non-negative volume',
    );
    expectIssue(
      () => validateTicks(ticks({ volume: [1, Number.POSITIVE_INFINITY, 3] })),
      'ticks.volume[1]',
      'Infinity is not a finite non-negative volume',
    );
  });

  it('checks row by row: time, bid, ask, ask-vs-bid, volume', () => {
    // Row 1 has a bad time and a bad bid: time first.
    expectIssue(
      () => validateTicks(ticks({ time: [10, 5, 20], bid: [1, 0, 1] })),
      'ticks.time[1]',
      '5 is earlier than ticks.time[0] (10)',
    );
    // Bad bid and bad ask: bid first.
    expectIssue(
      () => validateTicks(ticks({ bid: [1, -1, 1], ask: [2, -2, 2] })),
      'ticks.bid[1]',
      '-1 is not a positive finite price',
    );
    // Ask below bid and bad volume in the same row: ask first.
    expectIssue(
      () => validateTicks(ticks({ bid: [1, 2, 1], ask: [2, 1, 2], volume: [0, -1, 0] })),
      'ticks.ask[1]',
      '1 is below ticks.bid[1] (2)',
    );
    // An earlier row's volume problem comes before a later row's time problem.
    expectIssue(
      () => validateTicks(ticks({ time: [1, 2, 0], volume: [0, -3, 0] })),
      'ticks.volume[1]',
      '-3 is not a finite non-negative volume',
    );
  });

  it('formats numbers as String(x) does', () => {
    expectIssue(
      () => validateTicks(ticks({ bid: [2e-7, 1, 1], ask: [1e-7, 1, 1] })),
      'ticks.ask[0]',
      '1e-7 is below ticks.bid[0] (2e-7)',
    );
    expectIssue(
      () => validateTicks(ticks({ time: [1e21, 1, 2] })),
      'ticks.time[1]',
      '1 is earlier than ticks.time[0] (1e+21)',
    );
  });
});

describe('validateBars', () => {
  it('accepts good bars, including flat ones', () => {
    expect(() => validateBars(bars())).not.toThrow();
    expect(() =>
      validateBars(bars({ open: [1, 1, 1], high: [1, 1, 1], low: [1, 1, 1], close: [1, 1, 1] })),
    ).not.toThrow();
    expect(() => validateBars(bars({ time: [0, 86400000, 259200000] }, 'D1'))).not.toThrow();
  });

  it('rejects no rows', () => {
    expectIssue(
      () => validateBars(bars({ time: [], open: [], high: [], low: [], close: [], volume: [] })),
      'bars',
      'no rows',
    );
  });

  it('rejects each column length mismatch, in column order', () => {
    for (const col of ['open', 'high', 'low', 'close', 'volume'] as const) {
      expectIssue(
        () => validateBars(bars({ [col]: [1, 1] })),
        `bars.${col}`,
        'length 2 differs from bars.time length 3',
      );
    }
    expectIssue(
      () => validateBars(bars({ high: [1], volume: [1] })),
      'bars.high',
      'length 1 differs from bars.time length 3',
    );
  });

  it('rejects a non-finite time', () => {
    expectIssue(() => validateBars(bars({ time: [T0, Number.NaN, T2] })), 'bars.time[1]', 'NaN is not a finite time');
  });

  it('rejects a time not aligned to the timeframe', () => {
    // 1700000160000 = 28333336 minutes, not a multiple of 5.
    expectIssue(
      () => validateBars(bars({ time: [T0, 1700000160000, T2] })),
      'bars.time[1]',
      '1700000160000 is not aligned to M5',
    );
    // T1 = 1700000100000 is on the M5 grid but not the M30 one (1700000100000 / 1800000 = 944444.5).
    expectIssue(
      () => validateBars(bars({ time: [1699999200000, T1, T2] }, 'M30')),
      'bars.time[1]',
      '1700000100000 is not aligned to M30',
    );
  });

  it('rejects a time not after the previous one', () => {
    expectIssue(
      () => validateBars(bars({ time: [T0, T1, T1] })),
      'bars.time[2]',
      '1700000100000 is not after bars.time[1] (1700000100000)',
    );
    expectIssue(
      () => validateBars(bars({ time: [T1, T0, T2] })),
      'bars.time[1]',
      '1699999800000 is not after bars.time[0] (1700000100000)',
    );
    // Misaligned and not after: alignment is checked first.
    expectIssue(() => validateBars(bars({ time: [T1, 60000, T2] })), 'bars.time[1]', '60000 is not aligned to M5');
  });

  it('rejects non-positive or non-finite prices, open high low close in order', () => {
    expectIssue(() => validateBars(bars({ open: [1.1, 0, 1.15] })), 'bars.open[1]', '0 is not a positive finite price');
    expectIssue(
      () => validateBars(bars({ high: [1.25, Number.NaN, 1.2] })),
      'bars.high[1]',
      'NaN is not a positive finite price',
    );
    expectIssue(() => validateBars(bars({ low: [1.05, 1.1, -1] })), 'bars.low[2]', '-1 is not a positive finite price');
    expectIssue(
      () => validateBars(bars({ close: [Number.POSITIVE_INFINITY, 1.15, 1.12] })),
      'bars.close[0]',
      'Infinity is not a positive finite price',
    );
    expectIssue(
      () => validateBars(bars({ high: [1.25, -1, 1.2], close: [1.2, 0, 1.12] })),
      'bars.high[1]',
      '-1 is not a positive finite price',
    );
  });

  it('rejects low above min(open, close) and high below max(open, close), low first', () => {
    expectIssue(
      () => validateBars(bars({ low: [1.05, 1.16, 1.1] })),
      'bars.low[1]',
      '1.16 is above min(open, close) (1.15)',
    );
    expectIssue(
      () => validateBars(bars({ high: [1.25, 1.3, 1.14] })),
      'bars.high[2]',
      '1.14 is below max(open, close) (1.15)',
    );
    // High below max(open, close) when the close is the larger one.
    expectIssue(
      () => validateBars(bars({ high: [1.19, 1.3, 1.2] })),
      'bars.high[0]',
      '1.19 is below max(open, close) (1.2)',
    );
    expectIssue(
      () => validateBars(bars({ low: [1.05, 1.2, 1.1], high: [1.25, 1.1, 1.2] })),
      'bars.low[1]',
      '1.2 is above min(open, close) (1.15)',
    );
  });

  it('rejects a bad volume', () => {
    expectIssue(
      () => validateBars(bars({ volume: [1, -0.5, 1] })),
      'bars.volume[1]',
      '-0.5 is not a finite non-negative volume',
    );
    expectIssue(
      () => validateBars(bars({ volume: [1, 1, Number.NaN] })),
      'bars.volume[2]',
      'NaN is not a finite non-negative volume',
    );
  });

  it('reports the earliest row first', () => {
    expectIssue(
      () => validateBars(bars({ volume: [-1, 1, 1], time: [T0, T1, T1] })),
      'bars.volume[0]',
      '-1 is not a finite non-negative volume',
    );
  });
});

describe('shape checks', () => {
  it('accepts well-formed data', () => {
    expect(() => isTickData(ticks())).not.toThrow();
    expect(() => isTickData(ticks({ volume: [1, 2, 3] }))).not.toThrow();
    expect(() => isBarData(bars())).not.toThrow();
    expect(tickDataIssue(ticks())).toBeNull();
    expect(barDataIssue(bars())).toBeNull();
  });

  it('names the first missing or non-Float64Array tick column', () => {
    expectIssue(() => isTickData(null), 'ticks', 'expected an object');
    expectIssue(() => isTickData(42), 'ticks', 'expected an object');
    const good = ticks();
    expectIssue(() => isTickData({ ...good, time: undefined }), 'ticks.time', 'expected a Float64Array');
    expectIssue(() => isTickData({ ...good, bid: [1.1, 1.2, 1.3] }), 'ticks.bid', 'expected a Float64Array');
    expectIssue(() => isTickData({ ...good, ask: new Float32Array(3) }), 'ticks.ask', 'expected a Float64Array');
    expectIssue(() => isTickData({ ...good, volume: [1, 2, 3] }), 'ticks.volume', 'expected a Float64Array');
    expectIssue(() => isTickData({ bid: good.bid }), 'ticks.time', 'expected a Float64Array');
  });

  it('names the first missing or non-Float64Array bar column, after the timeframe', () => {
    expectIssue(() => isBarData(undefined), 'bars', 'expected an object');
    const good = bars();
    expectIssue(
      () => isBarData({ ...good, timeframe: 'M2' }),
      'bars.timeframe',
      'expected one of M1, M5, M15, M30, H1, H4, D1',
    );
    for (const col of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
      expectIssue(() => isBarData({ ...good, [col]: Array.from(good[col]) }), `bars.${col}`, 'expected a Float64Array');
    }
    const { close: _close, ...noClose } = good;
    expectIssue(() => isBarData(noClose), 'bars.close', 'expected a Float64Array');
  });
});
