// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
import { describe, expect, it } from 'vitest';
import { generateTickColumns } from '../src/data/generate.js';
import { runJs, StopError } from '../src/engine/js/index.js';
import { ValidationError } from '../src/errors.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import type {
  Action,
  BarData,
  EngineOutput,
  Expr,
  Instrument,
  MarketData,
  Rule,
  RunConfig,
  StrategyIR,
  Timeframe,
} from '../src/types.js';

const D = Date.UTC(2024, 0, 1); // a Monday, 00:00 UTC
const S = 1000;
const MIN = 60_000;
const PIP = 0.0001;

type Row = [time: number, bid: number, ask?: number];

function ticks(rows: Row[], volume?: number[]): MarketData {
  return {
    kind: 'ticks',
    ticks: {
      time: Float64Array.from(rows.map((r) => r[0])),
      bid: Float64Array.from(rows.map((r) => r[1])),
      ask: Float64Array.from(rows.map((r) => r[2] ?? r[1] + 0.0002)),
      ...(volume ? { volume: Float64Array.from(volume) } : {}),
    },
  };
}

type BarRow = [time: number, open: number, high: number, low: number, close: number];

function bars(timeframe: Timeframe, rows: BarRow[]): MarketData {
  const col = (k: number) => Float64Array.from(rows.map((r) => r[k] as number));
  const data: BarData = {
    timeframe,
    time: col(0),
    open: col(1),
    high: col(2),
    low: col(3),
    close: col(4),
    volume: Float64Array.from(rows.map(() => 1)),
  };
  return { kind: 'bars', bars: data };
}

function config(over: Partial<Omit<RunConfig, 'instrument'>> = {}, ins: Partial<Instrument> = {}): RunConfig {
  return {
    instrument: {
      symbol: 'EURUSD',
      pipSize: PIP,
      contractSize: 100_000,
      lotStep: 0.01,
      minLot: 0.01,
      maxLot: 100,
      marginRate: 0.01,
      commissionPerLot: 0,
      commissionPercent: 0,
      slippagePips: 0,
      spreadPips: 1,
      ...ins,
    },
    account: { balance: 10_000 },
    start: null,
    end: null,
    fillAt: 'open',
    periodsPerYear: 252,
    profile: false,
    ...over,
  };
}

function strategy(rules: Rule[], extra: Partial<StrategyIR> = {}): StrategyIR {
  return { version: 1, name: 'test', decision: { timeframe: 'M1' }, rules, ...extra };
}

const run = (data: MarketData, s: StrategyIR, cfg = config(), params = {}): EngineOutput => runJs(data, s, params, cfg);

/** A rule whose buy is always rejected (`invalid_lots`) with lots = -x: records x at each decision. */
const probe = (x: Expr): Rule => ({ when: true, then: [{ action: 'buy', lots: { op: 'neg', args: [x] } }] });
const probed = (out: EngineOutput) => out.rejections.map((r) => [r.time, -r.lots]);
/** A rule that marks the decisions where `when` holds with an `invalid_lots` rejection. */
const marker = (when: Expr): Rule => ({ when, then: [{ action: 'buy', lots: -1 }] });

const flat: Expr = { op: '==', args: [{ position: 'side' }, 0] };
const atMinute = (m: number): Expr => ({ op: '==', args: [{ time: 'minute' }, m] });
const buy = (extra: Partial<Extract<Action, { action: 'buy' | 'sell' }>> = {}): Action => ({
  action: 'buy',
  lots: 1,
  ...extra,
});
const sell = (extra: Partial<Extract<Action, { action: 'buy' | 'sell' }>> = {}): Action => ({
  action: 'sell',
  lots: 1,
  ...extra,
});

describe('bars in tick mode', () => {
  it('builds base bars from bids, closes them on the next bucket and invents none for a gap', () => {
    const data = ticks([
      [D + 10 * S, 1.1],
      [D + 20 * S, 1.101],
      [D + 50 * S, 1.099],
      [D + 59_999, 1.1005],
      [D + MIN, 1.1002],
      [D + 5 * MIN + S, 1.102],
      [D + 5 * MIN + 2 * S, 1.103],
    ]);
    const fields = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;
    const out = run(data, strategy(fields.map((f) => probe({ bar: f }))));
    expect(probed(out)).toEqual([
      ...[D, 1.1, 1.101, 1.099, 1.1005, 4].map((v) => [D + MIN, v]),
      ...[D + MIN, 1.1002, 1.1002, 1.1002, 1.1002, 1].map((v) => [D + 5 * MIN + S, v]),
    ]);
    // One sample per closed decision bar (the last at the end of data), none for 00:02 to 00:04.
    expect([...out.equity.time]).toEqual([D, D + MIN, D + 5 * MIN]);
    expect([...out.equity.equity]).toEqual([10_000, 10_000, 10_000]);
    expect(out.events).toBe(7);
  });

  it('aggregates M5 bars into M30 from closed base bars only, summing the volume column', () => {
    const data = ticks(
      [
        [D + 1 * MIN, 1.1],
        [D + 7 * MIN, 1.105],
        [D + 12 * MIN, 1.095],
        [D + 29 * MIN, 1.101],
        [D + 31 * MIN, 1.102],
        [D + 37 * MIN, 1.103],
      ],
      [2, 3, 1, 4, 5, 1],
    );
    const fields = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;
    const s = strategy(
      [...fields.map((f) => probe({ bar: f, timeframe: 'M30' })), probe({ forming: 'high', timeframe: 'M30' })],
      { decision: { timeframe: 'M5' } },
    );
    const out = run(data, s);
    const at = (t: number) =>
      probed(out)
        .filter((r) => r[0] === t)
        .map((r) => r[1]);
    expect(at(D + 29 * MIN)).toEqual([NaN, NaN, NaN, NaN, NaN, NaN, 1.105]);
    expect(at(D + 31 * MIN)).toEqual([D, 1.1, 1.105, 1.095, 1.101, 10, NaN]);
    expect(at(D + 37 * MIN)).toEqual([D, 1.1, 1.105, 1.095, 1.101, 10, 1.102]);
  });

  it('runs workers through the warmup but no rule and no sample before start', () => {
    const data = ticks([
      [D + 30 * S, 1],
      [D + 90 * S, 1.25],
      [D + 150 * S, 1.5],
      [D + 210 * S, 1.75],
      [D + 270 * S, 2],
    ]);
    const s = strategy([probe({ worker: 'ma' })], {
      workers: [{ id: 'ma', kind: 'sma', timeframe: 'M1', params: { period: 2 } }],
    });
    const out = run(data, s, config({ start: D + 3 * MIN }));
    expect(probed(out)).toEqual([
      [D + 210 * S, 1.375],
      [D + 270 * S, 1.625],
    ]);
    expect([...out.equity.time]).toEqual([D + 2 * MIN, D + 3 * MIN, D + 4 * MIN]);
    expect(out.events).toBe(5);
  });

  it('stops reading after end', () => {
    const data = ticks([
      [D + 10 * S, 1.1],
      [D + 70 * S, 1.1],
      [D + 130 * S, 1.1],
      [D + 190 * S, 1.1],
    ]);
    const out = run(data, strategy([probe({ bar: 'time' })]), config({ end: D + 130 * S }));
    expect(out.events).toBe(3);
    expect([...out.equity.time]).toEqual([D, D + MIN, D + 2 * MIN]);
  });
});

describe('orders in tick mode', () => {
  const path: Row[] = [
    [D + 10 * S, 1.1, 1.1002],
    [D + 70 * S, 1.101, 1.1012],
    [D + 100 * S, 1.103, 1.1032],
    [D + 125 * S, 1.104, 1.1042],
  ];

  it('buys at ask + slippage, marks samples with the previous tick and closes at the end', () => {
    const cfg = config({}, { slippagePips: 1 });
    const out = run(ticks(path), strategy([{ when: flat, then: [buy()] }]), cfg);
    const slip = 1 * PIP;
    const entry = 1.1012 + slip;
    const exit = 1.104 - slip;
    expect(out.trades).toHaveLength(1);
    const tr = out.trades[0]!;
    expect(tr).toMatchObject({ id: 0, side: 1, lots: 1, entryTime: D + 70 * S, exitTime: D + 125 * S, reason: 'end' });
    expect(tr.entryPrice).toBe(entry);
    expect(tr.exitPrice).toBe(exit);
    expect(tr.grossPnl).toBe((exit - entry) * 100_000);
    expect(tr.pips).toBe((exit - entry) / PIP);
    expect(tr.sl).toBeNaN();
    expect(tr.tp).toBeNaN();
    // 00:01 closes at 00:02:05, marked with the 00:01:40 quotes; the end sample follows the close.
    expect([...out.equity.time]).toEqual([D, D + MIN, D + 2 * MIN]);
    expect(out.equity.equity[1]).toBe(10_000 + (1.103 - entry) * 100_000);
    expect(out.equity.equity[2]).toBe(10_000 + (exit - entry) * 100_000);
    expect(out.metrics.finalBalance).toBe(10_000 + (exit - entry) * 100_000);
  });

  it('sells at bid - slippage and closes a short at ask + slippage', () => {
    const cfg = config({}, { slippagePips: 1 });
    const out = run(ticks(path), strategy([{ when: flat, then: [sell()] }]), cfg);
    const tr = out.trades[0]!;
    expect(tr.side).toBe(-1);
    expect(tr.entryPrice).toBe(1.101 - 1 * PIP);
    expect(tr.exitPrice).toBe(1.1042 + 1 * PIP);
    expect(tr.grossPnl).toBe((1.101 - 1 * PIP - (1.1042 + 1 * PIP)) * 100_000);
  });

  it('takes profit on a later tick at that tick bid', () => {
    const rows: Row[] = [
      [D + 10 * S, 1.1, 1.1002],
      [D + 70 * S, 1.101, 1.1012],
      [D + 75 * S, 1.102, 1.1022],
      [D + 80 * S, 1.104, 1.1042],
      [D + 85 * S, 1.105, 1.1052],
    ];
    const s = strategy([{ when: flat, then: [buy({ sl: { pips: 10 }, tp: { pips: 20 } })] }]);
    const tr = run(ticks(rows), s).trades[0]!;
    expect(tr.sl).toBe(1.1012 - 10 * PIP);
    expect(tr.tp).toBe(1.1012 + 20 * PIP);
    expect(tr).toMatchObject({ reason: 'tp', exitTime: D + 80 * S, exitPrice: 1.104 });
  });

  it('stops out a short on the ask, filling beyond the level on a gap', () => {
    const rows: Row[] = [
      [D + 10 * S, 1.1, 1.1002],
      [D + 70 * S, 1.101, 1.1012],
      [D + 75 * S, 1.1015, 1.1017],
      [D + 80 * S, 1.108, 1.1082],
    ];
    const s = strategy([{ when: flat, then: [sell({ sl: { pips: 10 }, tp: { price: 1.09 } })] }]);
    const tr = run(ticks(rows), s).trades[0]!;
    expect(tr.sl).toBe(1.101 + 10 * PIP);
    expect(tr.tp).toBe(1.09);
    expect(tr).toMatchObject({ reason: 'sl', exitTime: D + 80 * S, exitPrice: 1.1082 });
  });

  it('does not check the stops of a position on the tick that opened it', () => {
    // The opening tick's bid is already below the stop; only the next tick with that bid stops out.
    const rows: Row[] = [
      [D + 10 * S, 1.1, 1.1002],
      [D + 70 * S, 1.101, 1.1012],
      [D + 71 * S, 1.1, 1.1002],
    ];
    const s = strategy([{ when: flat, then: [buy({ sl: { price: 1.1001 } })] }], {
      decision: { timeframe: 'M1', on: 'tick' },
    });
    const out = run(ticks(rows), s);
    expect(out.trades.map((t) => [t.entryTime, t.exitTime, t.reason, t.exitPrice])).toEqual([
      [D + 10 * S, D + 71 * S, 'sl', 1.1],
      [D + 71 * S, D + 71 * S, 'end', 1.1],
    ]);
  });

  it('reverses a long into a short and skips a second buy while long', () => {
    const rows: Row[] = [
      [D + 10 * S, 1.1, 1.1002],
      [D + 61 * S, 1.101, 1.1012],
      [D + 121 * S, 1.102, 1.1022],
      [D + 181 * S, 1.103, 1.1032],
      [D + 190 * S, 1.104, 1.1042],
    ];
    const s = strategy([
      { when: atMinute(1), then: [buy()] },
      // Skipped before its lots are evaluated: no invalid_lots rejection.
      { when: atMinute(1), then: [{ action: 'buy', lots: -5 }] },
      { when: atMinute(2), then: [sell({ lots: 2 })] },
      { when: atMinute(3), then: [sell({ lots: -1 })] },
    ]);
    const cfg = config({}, { slippagePips: 0.5 });
    const out = run(ticks(rows), s, cfg);
    const slip = 0.5 * PIP;
    expect(out.rejections).toEqual([]);
    expect(out.trades).toHaveLength(2);
    expect(out.trades[0]).toMatchObject({
      side: 1,
      lots: 1,
      reason: 'reverse',
      exitTime: D + 121 * S,
      exitPrice: 1.102 - slip,
    });
    expect(out.trades[0]!.entryPrice).toBe(1.1012 + slip);
    expect(out.trades[1]).toMatchObject({ id: 1, side: -1, lots: 2, entryTime: D + 121 * S, entryPrice: 1.102 - slip });
    expect(out.trades[1]).toMatchObject({ reason: 'end', exitTime: D + 190 * S, exitPrice: 1.1042 + slip });
  });

  it('closes on a close action and does nothing when flat', () => {
    const rows: Row[] = [
      [D + 10 * S, 1.1, 1.1002],
      [D + 61 * S, 1.101, 1.1012],
      [D + 121 * S, 1.102, 1.1022],
      [D + 181 * S, 1.103, 1.1032],
    ];
    const s = strategy([
      { when: atMinute(1), then: [buy(), { action: 'close' }, { action: 'close' }] },
      { when: atMinute(2), then: [{ action: 'close' }, sell()] },
    ]);
    const out = run(ticks(rows), s);
    expect(out.trades.map((t) => [t.side, t.reason, t.entryTime, t.exitTime])).toEqual([
      [1, 'signal', D + 61 * S, D + 61 * S],
      [-1, 'end', D + 121 * S, D + 181 * S],
    ]);
  });

  it('rejects for margin with required and free', () => {
    const cfg = config({ account: { balance: 1000 } });
    const out = run(ticks(path), strategy([{ when: flat, then: [buy()] }]), cfg);
    expect(out.trades).toEqual([]);
    expect(out.rejections[0]).toEqual({
      time: D + 70 * S,
      side: 1,
      lots: 1,
      reason: 'margin',
      required: 1 * 100_000 * 1.1012 * 0.01,
      free: 1000,
    });
    expect(out.metrics.rejectedOrders).toBe(out.rejections.length);
  });

  it('rounds lots down to the step and rejects below min, above max, NaN and <= 0', () => {
    const once = (lots: Expr) =>
      run(ticks(path.slice(0, 3)), strategy([{ when: flat, then: [{ action: 'buy', lots }] }]));
    expect(once(0.129).trades[0]!.lots).toBe(Math.floor(0.129 / 0.01 + 1e-9) * 0.01);
    expect(once(0.129).trades[0]!.lots).toBeCloseTo(0.12, 12);
    // 0.29 / 0.01 is just below 29: the 1e-9 keeps it at 0.29.
    expect(once(0.29).trades[0]!.lots).toBe(29 * 0.01);
    const rej = (lots: Expr) => {
      const r = once(lots).rejections[0]!;
      return [r.reason, r.lots];
    };
    expect(rej(0.005)).toEqual(['min_lot', 0.005]);
    expect(rej(150)).toEqual(['max_lot', 150]);
    expect(rej(0)).toEqual(['invalid_lots', 0]);
    expect(rej(-2)).toEqual(['invalid_lots', -2]);
    expect(rej({ bar: 'close', offset: 9 })).toEqual(['invalid_lots', NaN]);
  });

  it('rejects levels on the wrong side of the fill or NaN', () => {
    const once = (a: Action) =>
      run(ticks(path.slice(0, 3)), strategy([{ when: flat, then: [a] }])).rejections.map((r) => r.reason);
    expect(once(buy({ sl: { price: 1.2 } }))).toEqual(['invalid_sl']);
    expect(once(buy({ sl: { pips: 0 } }))).toEqual(['invalid_sl']);
    expect(once(buy({ tp: { price: 1.1012 } }))).toEqual(['invalid_tp']);
    expect(once(sell({ tp: { pips: -3 } }))).toEqual(['invalid_tp']);
    expect(once(sell({ sl: { price: { bar: 'close', offset: 9 } } }))).toEqual(['invalid_sl']);
  });

  it('charges commissions on both sides', () => {
    const cfg = config({}, { commissionPerLot: 7, commissionPercent: 0.002 });
    const out = run(ticks(path), strategy([{ when: flat, then: [buy({ lots: 2 })] }]), cfg);
    const tr = out.trades[0]!;
    const entry = 1.1012;
    const exit = 1.104;
    const cEntry = 2 * 7 + (2 * 100_000 * entry * 0.002) / 100;
    const cExit = 2 * 7 + (2 * 100_000 * exit * 0.002) / 100;
    const gross = (exit - entry) * (2 * 100_000);
    expect(tr.commission).toBe(cEntry + cExit);
    expect(tr.grossPnl).toBe(gross);
    expect(tr.pnl).toBe(gross - (cEntry + cExit));
    expect(out.metrics.finalBalance).toBe(10_000 - cEntry + gross - cExit);
    expect(out.metrics.totalCommission).toBe(cEntry + cExit);
  });
});

describe('bar mode', () => {
  const M5 = 5 * MIN;
  const SP = 1 * PIP;

  it('fills at the next open, or at the previous close with fillAt close', () => {
    const data = bars('M5', [
      [D, 1.1, 1.101, 1.099, 1.1005],
      [D + 2 * M5, 1.102, 1.103, 1.1015, 1.1025],
      [D + 3 * M5, 1.1025, 1.104, 1.102, 1.1035],
    ]);
    const s = strategy([{ when: flat, then: [buy()] }], { decision: { timeframe: 'M5' } });
    const open = run(data, s).trades[0]!;
    expect(open).toMatchObject({ entryTime: D + 2 * M5, entryPrice: 1.102 + SP });
    expect(open).toMatchObject({ reason: 'end', exitTime: D + 4 * M5, exitPrice: 1.1035 });
    const close = run(data, s, config({ fillAt: 'close' })).trades[0]!;
    expect(close).toMatchObject({ entryTime: D + M5, entryPrice: 1.1005 + SP });
    expect([...run(data, s).equity.time]).toEqual([D, D + 2 * M5, D + 3 * M5]);
  });

  it('takes intrabar stops, the stop-loss winning a tie and gaps filling at the open', () => {
    const mk = (third: BarRow) => bars('M5', [[D, 1.1, 1.1, 1.1, 1.1], [D + M5, 1.1, 1.1, 1.1, 1.1], third]);
    const long = strategy([{ when: flat, then: [buy({ sl: { price: 1.099 }, tp: { price: 1.102 } })] }], {
      decision: { timeframe: 'M5' },
    });
    const cfg = config({ fillAt: 'close' });
    const exit = (third: BarRow, s = long) => {
      const t = run(mk(third), s, cfg).trades[0]!;
      return [t.reason, t.exitPrice, t.exitTime];
    };
    // Opened at bar 0's close (filled at bar 1's time); bar 1 stays inside.
    expect(exit([D + 2 * M5, 1.1, 1.103, 1.1, 1.101])).toEqual(['tp', 1.102, D + 2 * M5]);
    expect(exit([D + 2 * M5, 1.1, 1.103, 1.098, 1.101])).toEqual(['sl', 1.099, D + 2 * M5]);
    expect(exit([D + 2 * M5, 1.097, 1.1, 1.096, 1.1])).toEqual(['sl', 1.097, D + 2 * M5]);
    expect(exit([D + 2 * M5, 1.105, 1.106, 1.1, 1.1])).toEqual(['tp', 1.105, D + 2 * M5]);

    const short = strategy([{ when: flat, then: [sell({ sl: { price: 1.102 }, tp: { price: 1.098 } })] }], {
      decision: { timeframe: 'M5' },
    });
    // Short levels compare the ask (bid + spread) and fill at it.
    expect(exit([D + 2 * M5, 1.1, 1.1025, 1.097, 1.1], short)).toEqual(['sl', 1.102, D + 2 * M5]);
    expect(exit([D + 2 * M5, 1.1, 1.101, 1.097, 1.1], short)).toEqual(['tp', 1.098, D + 2 * M5]);
    expect(exit([D + 2 * M5, 1.103, 1.104, 1.1, 1.1], short)).toEqual(['sl', 1.103 + SP, D + 2 * M5]);
  });

  it('checks stops in the bar where a next-open fill happened', () => {
    const data = bars('M5', [
      [D, 1.1, 1.1, 1.1, 1.1],
      [D + M5, 1.1, 1.1, 1.095, 1.1],
    ]);
    const s = strategy([{ when: flat, then: [buy({ sl: { pips: 20 } })] }], { decision: { timeframe: 'M5' } });
    const t = run(data, s).trades[0]!;
    expect(t).toMatchObject({ entryTime: D + M5, entryPrice: 1.1 + SP, reason: 'sl', exitTime: D + M5 });
    expect(t.exitPrice).toBe(1.1 + SP - 20 * PIP);
  });

  it('rejects used timeframes below the data timeframe at their paths', () => {
    const data = bars('M5', [[D, 1.1, 1.1, 1.1, 1.1]]);
    const s = strategy([marker({ op: '>', args: [{ bar: 'close', timeframe: 'M1' }, 0] })], {
      decision: { timeframe: 'M1' },
      workers: [
        { id: 'a', kind: 'sma', timeframe: 'M1', params: { period: 3 } },
        { id: 'b', kind: 'sma', timeframe: 'M15', params: { period: 3 } },
      ],
    });
    try {
      run(data, s);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).issues.map((i) => i.path)).toEqual([
        'strategy.decision.timeframe',
        'strategy.workers[0].timeframe',
        'strategy.rules[0].when.args[0].timeframe',
      ]);
      expect((e as ValidationError).issues[0]!.message).toBe("M1 is smaller than the data's timeframe M5");
    }
  });
});

describe('decisions', () => {
  it('runs on every tick with on: "tick"', () => {
    const rows: Row[] = [
      [D + 1 * S, 1.1],
      [D + 2 * S, 1.1003],
      [D + 3 * S, 1.1007],
      [D + 4 * S, 1.1008],
    ];
    const when: Expr = { op: 'and', args: [flat, { op: '>', args: [{ quote: 'bid' }, 1.1005] }] };
    const s = strategy([{ when, then: [buy()] }], { decision: { timeframe: 'M5', on: 'tick' } });
    const out = run(ticks(rows), s);
    expect(out.trades[0]).toMatchObject({ entryTime: D + 3 * S, entryPrice: 1.1007 + 0.0002 });
  });

  it('evaluates time fields and quotes of the current event', () => {
    const t = D + 10 * 3_600_000 + 31 * MIN + 5 * S;
    const s = strategy(
      [
        probe({ time: 'hour' }),
        probe({ time: 'minute' }),
        probe({ time: 'weekday' }),
        probe({ time: 'minuteOfDay' }),
        probe({ quote: 'mid' }),
        probe({ quote: 'spread' }),
      ],
      { decision: { timeframe: 'M1', on: 'tick' } },
    );
    const out = run(ticks([[t, 1.1, 1.1003]]), s);
    expect(probed(out).map((r) => r[1])).toEqual([10, 31, 1, 631, (1.1 + 1.1003) / 2, 1.1003 - 1.1]);
  });

  it('filters by time of day', () => {
    const rows: Row[] = [];
    for (let m = 0; m < 6; m++) rows.push([D + 9 * 3_600_000 + 58 * MIN + m * MIN + S, 1.1]);
    const s = strategy([marker({ op: '==', args: [{ time: 'hour' }, 10] })]);
    expect(run(ticks(rows), s).rejections.map((r) => r.time)).toEqual(rows.slice(2).map((r) => r[0]));
  });

  it('detects crosses with offsets one step back and treats NaN comparisons as false', () => {
    const closes = [1.1, 1.1004, 1.1006, 1.1003, 1.1008, 1.1009];
    const rows: Row[] = closes.map((c, i) => [D + i * MIN + S, c]);
    rows.push([D + 6 * MIN + S, 1.1]);
    const s = strategy([
      marker({ op: 'crossAbove', args: [{ bar: 'close' }, 1.1005] }),
      marker({ op: 'crossBelow', args: [{ bar: 'close' }, { op: '+', args: [1.1, 0.0005] }] }),
      marker({ op: '!=', args: [{ bar: 'close', offset: 9 }, 1] }),
      marker({
        op: '==',
        args: [
          { bar: 'close', offset: 9 },
          { bar: 'close', offset: 9 },
        ],
      }),
    ]);
    const out = run(ticks(rows), s);
    // Bars close at the next minute: crosses above after 00:02 and 00:04, below after 00:03.
    expect(out.rejections.map((r) => r.time)).toEqual([D + 3 * MIN + S, D + 4 * MIN + S, D + 5 * MIN + S]);
  });

  it('reads worker outputs at offsets and min/max/abs/neg arithmetic', () => {
    const rows: Row[] = [1, 2, 3, 4, 5].map((x, i) => [D + i * MIN + S, x]);
    const s = strategy(
      [
        probe({ worker: 'ma', offset: 1 }),
        probe({ op: 'max', args: [{ worker: 'ma' }, 0.5, { op: 'abs', args: [-4] }] }),
        probe({ op: 'min', args: [{ worker: 'ma' }, { worker: 'ma', offset: 3 }] }),
        probe({ op: '-', args: [10, 1, 2, { op: 'neg', args: [3] }] }),
      ],
      { workers: [{ id: 'ma', kind: 'sma', timeframe: 'M1', params: { period: 1, source: 'close' } }] },
    );
    const out = run(ticks(rows), s);
    const last = probed(out)
      .slice(-4)
      .map((r) => r[1]);
    expect(last).toEqual([3, 4, 1, 10]);
    expect(
      probed(out)
        .slice(0, 4)
        .map((r) => r[1]),
    ).toEqual([NaN, 4, NaN, 10]);
  });
});

describe('control, profile and the reference strategy', () => {
  const many = (n: number): MarketData => {
    const time = new Float64Array(n);
    const bid = new Float64Array(n);
    const ask = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      time[i] = D + i * 100;
      bid[i] = 1.1;
      ask[i] = 1.1002;
    }
    return { kind: 'ticks', ticks: { time, bid, ask } };
  };

  it('polls the control every 65536 events and throws StopError with its reason', () => {
    let calls = 0;
    const shouldStop = () => (++calls === 2 ? ('timeout' as const) : null);
    const data = many(70_000);
    let err: unknown;
    try {
      runJs(data, strategy([]), {}, config(), { shouldStop });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StopError);
    expect((err as StopError).reason).toBe('timeout');
    expect((err as StopError).code).toBe('ERR_TICKFORGE_TIMEOUT');
    expect(calls).toBe(2);
    expect(() => runJs(data, strategy([]), {}, config(), { shouldStop: () => 'cancelled' })).toThrow(StopError);
  });

  it('profiles only when asked', () => {
    const data = many(1000);
    expect(run(data, strategy([])).profile).toBeNull();
    const p = run(data, strategy([]), config({ profile: true })).profile!;
    expect(p.updatePrices.count).toBe(1000);
    expect(p.barRendering.count).toBe(1000);
    expect(p.barHistory.count).toBe(2);
    expect(p.liveUpdate.count).toBe(2);
  });

  it('validates strategy, params and config together', () => {
    try {
      runJs(many(1), { ...strategy([]), version: 2 } as unknown as StrategyIR, {}, {
        ...config(),
        fillAt: 'x',
      } as unknown as RunConfig);
      expect.unreachable();
    } catch (e) {
      expect((e as ValidationError).issues.map((i) => i.path)).toEqual(['strategy.version', 'config.fillAt']);
    }
  });

  it('runs the reference strategy on generated ticks, deterministically', () => {
    const cols = generateTickColumns({
      start: D,
      days: 10,
      seed: 7,
      startPrice: 1.1,
      digits: 5,
      meanIntervalMs: 900,
      stepPoints: 20,
    });
    const data: MarketData = { kind: 'ticks', ticks: cols };
    const a = run(data, referenceStrategy, config(), { rsiPeriod: 10, slPips: 15 });
    const b = run(data, referenceStrategy, config(), { rsiPeriod: 10, slPips: 15 });
    expect(a.events).toBe(cols.time.length);
    expect(a.trades).toEqual(b.trades);
    expect(a.equity).toEqual(b.equity);
    expect(a.trades.length).toBeGreaterThan(0);
    expect(a.metrics.tradeCount).toBe(a.trades.length);
    for (const t of a.trades) {
      expect(['sl', 'tp', 'end']).toContain(t.reason);
      expect(t.exitTime).toBeGreaterThanOrEqual(t.entryTime);
    }
    const n = a.equity.time.length;
    expect(a.equity.equity.length).toBe(n);
    expect(a.equity.balance[n - 1]).toBe(a.metrics.finalBalance);
  });

  it('gives the same results with the profile on (the plain tick-by-tick loop)', () => {
    const cols = generateTickColumns({
      start: D,
      days: 6,
      seed: 3,
      startPrice: 1.1,
      digits: 5,
      meanIntervalMs: 900,
      stepPoints: 20,
    });
    const volume = Float64Array.from(cols.time, (_, i) => (i % 7) * 0.5);
    const strategies: StrategyIR[] = [
      // Records every decision bar's volume and high, and the M30 forming aggregate's.
      {
        ...referenceStrategy,
        rules: [
          ...referenceStrategy.rules,
          probe({ bar: 'volume' }),
          probe({ bar: 'high' }),
          probe({ forming: 'volume', timeframe: 'M30' }),
        ],
      },
      {
        ...referenceStrategy,
        decision: { timeframe: 'M5', on: 'tick' },
        workers: [
          ...(referenceStrategy.workers ?? []),
          { id: 'v', kind: 'sma', timeframe: 'M1', params: { period: 3, source: 'high' } },
        ],
      },
    ];
    const ranges = [
      { start: null, end: null },
      { start: D + 86_400_000 + 123, end: D + 4 * 86_400_000 + 456 },
    ];
    for (const s of strategies) {
      for (const range of ranges) {
        for (const data of [
          { kind: 'ticks', ticks: cols },
          { kind: 'ticks', ticks: { ...cols, volume } },
        ] as MarketData[]) {
          const plain = run(data, s, config(range, { slippagePips: 0.3, commissionPerLot: 2 }), { rsiPeriod: 5 });
          const profiled = run(
            data,
            s,
            config({ ...range, profile: true }, { slippagePips: 0.3, commissionPerLot: 2 }),
            {
              rsiPeriod: 5,
            },
          );
          expect(plain.trades.length).toBeGreaterThan(0);
          expect(plain.rejections.length).toBeGreaterThan(0);
          expect(profiled.trades).toEqual(plain.trades);
          expect(profiled.rejections).toEqual(plain.rejections);
          expect(profiled.equity).toEqual(plain.equity);
          expect(profiled.metrics).toEqual(plain.metrics);
          expect(profiled.events).toBe(plain.events);
        }
      }
    }
  });
});
