// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
/**
 * Pending (limit and stop) orders, risk sizing and trailing stops (docs/semantics.md sections 4 and
 * 5) on hand-computed scenarios, each run on both engines, and the IR checks of the new fields.
 */
import { describe, expect, it } from 'vitest';
import { type BacktestResult, backtestSync } from '../src/backtest.js';
import { ValidationError } from '../src/errors.js';
import { parseStrategy } from '../src/ir/validate.js';
import type { Action, BarData, Expr, Instrument, Rule, StrategyIR, TickData, Trade } from '../src/types.js';

const T0 = Date.UTC(2024, 0, 1); // a Monday, 00:00 UTC
const S = 1000;
const M1 = 60_000;
const PIP = 0.0001;
const SPREAD = 1 * PIP;
const ENGINES = ['native', 'js'] as const;

const bidIs = (x: number): Expr => ({ op: '==', args: [{ quote: 'bid' }, x] });

/** Tick decisions on M1: at each tick whose bid is `x`, do the actions. */
function atBids(list: [number, Action[]][]): StrategyIR {
  return {
    version: 1,
    name: 'orders',
    decision: { timeframe: 'M1', on: 'tick' },
    rules: list.map(([x, then]): Rule => ({ when: bidIs(x), then })),
  };
}

/** Bar decisions on M1: at the decision that sees the bar opened at T0 closed, do the actions. */
function barOnce(then: Action[]): StrategyIR {
  return {
    version: 1,
    name: 'orders',
    decision: { timeframe: 'M1' },
    rules: [{ when: { op: '==', args: [{ bar: 'time' }, T0] }, then }],
  };
}

/** Ticks one second apart from `[bid, ask]` pairs. */
function quotes(rows: [number, number][]): TickData {
  return {
    time: Float64Array.from(rows.map((_, i) => T0 + i * S)),
    bid: Float64Array.from(rows.map((r) => r[0])),
    ask: Float64Array.from(rows.map((r) => r[1])),
  };
}

/** M1 bars from `[open, high, low, close]` rows starting at T0. */
function m1(rows: [number, number, number, number][]): BarData {
  const col = (k: number) => Float64Array.from(rows.map((r) => r[k] as number));
  return {
    timeframe: 'M1',
    time: Float64Array.from(rows.map((_, i) => T0 + i * M1)),
    open: col(0),
    high: col(1),
    low: col(2),
    close: col(3),
    volume: Float64Array.from(rows.map(() => 1)),
  };
}

function instrument(over: Partial<Instrument> = {}): Partial<Instrument> {
  return {
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
    ...over,
  };
}

type Data = { ticks: TickData } | { bars: BarData };

/** Runs on both engines, checks that they agree exactly, and returns the native result. */
function run(data: Data, strategy: StrategyIR, ins: Partial<Instrument> = {}): BacktestResult {
  const [native, js] = ENGINES.map((engine) =>
    backtestSync({ ...data, strategy, engine, instrument: instrument(ins), account: { balance: 10_000 } }),
  ) as [BacktestResult, BacktestResult];
  expect(js.trades).toStrictEqual(native.trades);
  expect(js.rejections).toStrictEqual(native.rejections);
  expect(js.metrics.finalBalance).toBe(native.metrics.finalBalance);
  return native;
}

function onlyTrade(r: BacktestResult): Trade {
  expect(r.trades).toHaveLength(1);
  return r.trades[0] as Trade;
}

// ---------------------------------------------------------------- tick mode

describe('pending orders in tick mode', () => {
  it('a buy limit fills at the ask once the ask reaches its price, without slippage', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.0996, 1.0998],
        [1.0992, 1.0994],
        [1.1, 1.1002],
      ]),
    };
    const s = atBids([[1.1, [{ action: 'buy', order: 'limit', price: 1.0995, lots: 1 }]]]);
    const t = onlyTrade(run(data, s, { slippagePips: 0.5 }));
    expect([t.side, t.entryTime, t.entryPrice]).toEqual([1, T0 + 2 * S, 1.0994]);
    expect([t.exitPrice, t.reason]).toEqual([1.1 - 0.5 * PIP, 'end']);
  });

  it('an order placed at a decision can first fill on the next tick', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.1001, 1.1003],
        [1.1004, 1.1006],
      ]),
    };
    const s = atBids([[1.1, [{ action: 'buy', order: 'limit', price: 1.101, lots: 1 }]]]);
    const t = onlyTrade(run(data, s));
    expect([t.entryTime, t.entryPrice]).toEqual([T0 + S, 1.1003]);
  });

  it('stops fill with slippage: buy at ask + slippage, sell at bid - slippage', () => {
    const up = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.1006, 1.1008],
        [1.1011, 1.1013],
        [1.1012, 1.1014],
      ]),
    };
    const buy = atBids([[1.1, [{ action: 'buy', order: 'stop', price: 1.101, lots: 1 }]]]);
    const t = onlyTrade(run(up, buy, { slippagePips: 0.5 }));
    expect([t.entryTime, t.entryPrice]).toEqual([T0 + 2 * S, 1.1013 + 0.5 * PIP]);

    const down = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.0996, 1.0998],
        [1.0994, 1.0996],
        [1.099, 1.0992],
      ]),
    };
    const sell = atBids([[1.1, [{ action: 'sell', order: 'stop', price: 1.0995, lots: 1 }]]]);
    const u = onlyTrade(run(down, sell, { slippagePips: 1 }));
    expect([u.side, u.entryTime, u.entryPrice]).toEqual([-1, T0 + 2 * S, 1.0994 - PIP]);
  });

  it('a sell limit fills at the bid once the bid reaches its price', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.1004, 1.1006],
        [1.1007, 1.1009],
        [1.1, 1.1002],
      ]),
    };
    const s = atBids([[1.1, [{ action: 'sell', order: 'limit', price: 1.1005, lots: 1 }]]]);
    const t = onlyTrade(run(data, s, { slippagePips: 1 }));
    expect([t.side, t.entryTime, t.entryPrice]).toEqual([-1, T0 + 2 * S, 1.1007]);
  });

  it('an order that never triggers is discarded at the end', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.0996, 1.0998],
        [1.0997, 1.0999],
      ]),
    };
    const r = run(data, atBids([[1.1, [{ action: 'buy', order: 'limit', price: 1.099, lots: 1 }]]]));
    expect(r.trades).toEqual([]);
    expect(r.rejections).toEqual([]);
    expect(r.metrics.finalBalance).toBe(10_000);
  });

  it('a trigger reverses an opposite position at the trigger tick', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.0995, 1.0997],
        [1.0988, 1.099],
        [1.0985, 1.0987],
      ]),
    };
    const s = atBids([
      [
        1.1,
        [
          { action: 'buy', lots: 1 },
          { action: 'sell', order: 'stop', price: 1.099, lots: 2 },
        ],
      ],
    ]);
    const r = run(data, s, { slippagePips: 1 });
    expect(r.trades).toHaveLength(2);
    const [long, short] = r.trades as [Trade, Trade];
    expect([long.entryPrice, long.exitTime, long.exitPrice, long.reason]).toEqual([
      1.1002 + PIP,
      T0 + 2 * S,
      1.0988 - PIP,
      'reverse',
    ]);
    expect([short.side, short.lots, short.entryTime, short.entryPrice]).toEqual([-1, 2, T0 + 2 * S, 1.0988 - PIP]);
    expect([short.exitPrice, short.reason]).toEqual([1.0987 + PIP, 'end']);
  });

  it('a new order replaces the pending one; cancel removes it; close leaves it', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.0999, 1.1001],
        [1.0987, 1.0989],
        [1.0977, 1.0979],
      ]),
    };
    const limit = (price: number): Action[] => [{ action: 'buy', order: 'limit', price, lots: 1 }];
    const replaced = onlyTrade(
      run(
        data,
        atBids([
          [1.1, limit(1.099)],
          [1.0999, limit(1.098)],
        ]),
      ),
    );
    expect([replaced.entryTime, replaced.entryPrice]).toEqual([T0 + 3 * S, 1.0979]);

    const cancelled = run(
      data,
      atBids([
        [1.1, limit(1.099)],
        [1.0999, [{ action: 'cancel' }]],
      ]),
    );
    expect(cancelled.trades).toEqual([]);

    // Short by market with a buy limit below; a close at the second tick leaves the limit, which
    // then opens the long.
    const closed = run(
      data,
      atBids([
        [1.1, [{ action: 'sell', lots: 1 }, ...limit(1.099)]],
        [1.0999, [{ action: 'close' }]],
      ]),
    );
    expect(closed.trades.map((t) => [t.side, t.reason, t.entryPrice])).toEqual([
      [-1, 'signal', 1.1],
      [1, 'end', 1.0989],
    ]);
  });

  it('an order of the held side is skipped, and still cancels the pending order', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.1001, 1.1003],
        [1.0987, 1.0989],
        [1.0986, 1.0988],
      ]),
    };
    const s = atBids([
      [
        1.1,
        [
          { action: 'buy', lots: 1 },
          { action: 'sell', order: 'stop', price: 1.099, lots: 1 },
        ],
      ],
      [1.1001, [{ action: 'buy', order: 'limit', price: 1.0995, lots: 1 }]],
    ]);
    const r = run(data, s);
    const t = onlyTrade(r);
    expect([t.side, t.reason]).toEqual([1, 'end']);
    expect(r.rejections).toEqual([]);
  });

  it('a NaN or non-positive price is rejected at placement as invalid_price', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.0, 1.0002],
      ]),
    };
    for (const price of [0, -1.1, { op: '/', args: [0, 0] } as Expr]) {
      const r = run(data, atBids([[1.1, [{ action: 'buy', order: 'limit', price, lots: 0.5 }]]]));
      expect(r.trades).toEqual([]);
      expect(r.rejections).toEqual([
        { time: T0, side: 1, lots: 0.5, reason: 'invalid_price', required: Number.NaN, free: Number.NaN },
      ]);
    }
  });

  it('the opening at the trigger uses the fill for levels and records failures at the trigger time', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.0987, 1.0989],
        [1.0986, 1.0988],
      ]),
    };
    const bad = run(
      data,
      atBids([[1.1, [{ action: 'buy', order: 'limit', price: 1.099, lots: 1, sl: { price: 1.0995 } }]]]),
    );
    expect(bad.trades).toEqual([]);
    expect(bad.rejections.map((r) => [r.time, r.lots, r.reason])).toEqual([[T0 + S, 1, 'invalid_sl']]);

    const t = onlyTrade(
      run(
        data,
        atBids([
          [1.1, [{ action: 'buy', order: 'limit', price: 1.099, lots: 1.237, sl: { pips: 10 }, tp: { pips: 20 } }]],
        ]),
      ),
    );
    expect([t.lots, t.sl, t.tp]).toEqual([1.23, 1.0989 - 10 * PIP, 1.0989 + 20 * PIP]);
  });

  it('a position opened by a fill is not checked for exits on the fill tick', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.0985, 1.0995],
        [1.1, 1.1002],
      ]),
    };
    const s = atBids([[1.1, [{ action: 'buy', order: 'limit', price: 1.0995, lots: 1, sl: { pips: 5 } }]]]);
    const t = onlyTrade(run(data, s));
    expect([t.entryTime, t.reason]).toEqual([T0 + S, 'end']);
  });

  it('an order resting through a quiet stretch fills mid-bar with bar decisions', () => {
    const time = [T0];
    for (let i = 1; i < 200; i++) time.push(T0 + M1 + i * 100);
    time.push(T0 + M1 + 25_000, T0 + M1 + 26_000);
    const bid = time.map((_, i) => (i === 200 ? 1.0989 : 1.1));
    const data = {
      ticks: {
        time: Float64Array.from(time),
        bid: Float64Array.from(bid),
        ask: Float64Array.from(bid.map((b) => b + 0.0002)),
      },
    };
    const s: StrategyIR = {
      version: 1,
      name: 'quiet',
      decision: { timeframe: 'M1' },
      rules: [
        {
          when: { op: '==', args: [{ position: 'side' }, 0] },
          then: [{ action: 'buy', order: 'limit', price: 1.0995, lots: 1 }],
        },
      ],
    };
    const t = onlyTrade(run(data, s));
    expect([t.entryTime, t.entryPrice]).toEqual([T0 + M1 + 25_000, 1.0989 + 0.0002]);
  });
});

// ---------------------------------------------------------------- bar mode

describe('pending orders in bar mode', () => {
  const placeBar: [number, number, number, number] = [1.1, 1.1005, 1.0995, 1.1];
  const first: [number, number, number, number] = [1.1, 1.1, 1.1, 1.1];

  it('a buy limit is not checked in the bar of its decision, then fills at its price or a gapped open', () => {
    const limit: Action[] = [{ action: 'buy', order: 'limit', price: 1.095, lots: 1 }];
    const inside = m1([first, [1.1, 1.1, 1.09, 1.096], [1.096, 1.097, 1.0952, 1.096], [1.096, 1.097, 1.094, 1.095]]);
    const t = onlyTrade(run({ bars: inside }, barOnce(limit)));
    expect([t.entryTime, t.entryPrice]).toEqual([T0 + 3 * M1, 1.095]);

    const gap = m1([first, [1.1, 1.1, 1.099, 1.1], [1.093, 1.094, 1.092, 1.093]]);
    const u = onlyTrade(run({ bars: gap }, barOnce(limit)));
    expect([u.entryTime, u.entryPrice]).toEqual([T0 + 2 * M1, 1.093 + SPREAD]);
  });

  it('stops fill at max/min(open, price) with slippage; a sell limit at max(open, price)', () => {
    const slip = 0.5 * PIP;
    const buyStop: Action[] = [{ action: 'buy', order: 'stop', price: 1.101, lots: 1 }];
    let t = onlyTrade(
      run({ bars: m1([first, placeBar, [1.1, 1.1012, 1.0995, 1.1]]) }, barOnce(buyStop), { slippagePips: 0.5 }),
    );
    expect([t.entryTime, t.entryPrice]).toEqual([T0 + 2 * M1, 1.101 + slip]);
    t = onlyTrade(
      run({ bars: m1([first, placeBar, [1.102, 1.103, 1.1015, 1.102]]) }, barOnce(buyStop), { slippagePips: 0.5 }),
    );
    expect(t.entryPrice).toBe(1.102 + SPREAD + slip);

    const sellStop: Action[] = [{ action: 'sell', order: 'stop', price: 1.099, lots: 1 }];
    t = onlyTrade(
      run({ bars: m1([first, placeBar, [1.1, 1.1005, 1.0985, 1.099]]) }, barOnce(sellStop), { slippagePips: 0.5 }),
    );
    expect([t.side, t.entryPrice]).toEqual([-1, 1.099 - slip]);
    t = onlyTrade(
      run({ bars: m1([first, placeBar, [1.098, 1.0985, 1.097, 1.098]]) }, barOnce(sellStop), { slippagePips: 0.5 }),
    );
    expect(t.entryPrice).toBe(1.098 - slip);

    const sellLimit: Action[] = [{ action: 'sell', order: 'limit', price: 1.101, lots: 1 }];
    t = onlyTrade(run({ bars: m1([first, placeBar, [1.1, 1.1012, 1.0995, 1.1]]) }, barOnce(sellLimit)));
    expect(t.entryPrice).toBe(1.101);
    t = onlyTrade(run({ bars: m1([first, placeBar, [1.102, 1.103, 1.1015, 1.102]]) }, barOnce(sellLimit)));
    expect(t.entryPrice).toBe(1.102);
  });

  it('no trigger leaves no trade; a trigger reverses at the trigger price', () => {
    const sellStop: Action = { action: 'sell', order: 'stop', price: 1.099, lots: 1 };
    expect(run({ bars: m1([first, placeBar, placeBar]) }, barOnce([sellStop])).trades).toEqual([]);

    const r = run(
      { bars: m1([first, placeBar, [1.1, 1.1005, 1.0985, 1.0988]]) },
      barOnce([{ action: 'buy', lots: 1 }, sellStop]),
      {
        slippagePips: 1,
      },
    );
    const [long, short] = r.trades as [Trade, Trade];
    expect([long.entryPrice, long.exitTime, long.exitPrice, long.reason]).toEqual([
      1.1 + SPREAD + PIP,
      T0 + 2 * M1,
      1.099 - PIP,
      'reverse',
    ]);
    expect([short.entryTime, short.entryPrice, short.exitPrice]).toEqual([
      T0 + 2 * M1,
      1.099 - PIP,
      1.0988 + SPREAD + PIP,
    ]);
  });
});

// ---------------------------------------------------------------- risk sizing

function riskLots(balance: number, risk: number, fill: number, sl: number): [number, number] {
  const raw = (balance * risk) / 100 / (Math.abs(fill - sl) * 100_000);
  return [raw, Math.floor(raw / 0.01 + 1e-9) * 0.01];
}

describe('risk sizing', () => {
  const data = {
    ticks: quotes([
      [1.1, 1.1002],
      [1.1001, 1.1003],
    ]),
  };

  it('sizes the lots from the equity and the stop distance', () => {
    let t = onlyTrade(run(data, atBids([[1.1, [{ action: 'buy', risk: 1, sl: { pips: 20 } }]]])));
    expect(t.lots).toBe(riskLots(10_000, 1, 1.1002, 1.1002 - 20 * PIP)[1]);
    expect(t.lots).toBe(0.5);
    t = onlyTrade(run(data, atBids([[1.1, [{ action: 'sell', risk: 2.5, sl: { price: 1.1033 } }]]])));
    expect(t.lots).toBe(riskLots(10_000, 2.5, 1.1, 1.1033)[1]);
    expect(t.lots).toBe(0.75);
  });

  it('uses the balance after the reversal of a pending fill', () => {
    const d = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.0987, 1.0989],
        [1.0986, 1.0988],
      ]),
    };
    const r = run(
      d,
      atBids([
        [
          1.1,
          [
            { action: 'sell', lots: 1 },
            { action: 'buy', order: 'limit', price: 1.099, risk: 1, sl: { pips: 10 } },
          ],
        ],
      ]),
    );
    const balance = 10_000 + (r.trades[0] as Trade).pnl;
    expect((r.trades[1] as Trade).lots).toBe(riskLots(balance, 1, 1.0989, 1.0989 - 10 * PIP)[1]);
  });

  it('records the computed lots (NaN before they are known) in rejections', () => {
    const one = (a: Action) => {
      const r = run(data, atBids([[1.1, [a]]]));
      expect(r.trades).toEqual([]);
      return r.rejections[0];
    };
    const [raw] = riskLots(10_000, 0.001, 1.1002, 1.1002 - 20 * PIP);
    expect(one({ action: 'buy', risk: 0.001, sl: { pips: 20 } })).toMatchObject({ reason: 'min_lot', lots: raw });
    expect(one({ action: 'buy', risk: 100, sl: { pips: 0.1 } })?.reason).toBe('max_lot');
    expect(one({ action: 'buy', risk: 0, sl: { pips: 20 } })).toMatchObject({
      reason: 'invalid_lots',
      lots: Number.NaN,
    });
    expect(one({ action: 'buy', risk: 1, sl: { pips: -3 } })).toMatchObject({ reason: 'invalid_sl', lots: Number.NaN });
    const [raw60, lots60] = riskLots(10_000, 60, 1.1002, 1.1002 - 10 * PIP);
    expect(one({ action: 'buy', risk: 60, sl: { pips: 10 } })).toEqual({
      time: T0,
      side: 1,
      lots: raw60,
      reason: 'margin',
      required: lots60 * 100_000 * 1.1002 * 0.01,
      free: 10_000,
    });
  });
});

// ---------------------------------------------------------------- trailing stops

describe('trailing stops', () => {
  it('ratchet with the bid, never loosen, and exit at the trailed level (tick mode)', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.101, 1.1012],
        [1.1005, 1.1007],
        [1.102, 1.1022],
        [1.1012, 1.1014],
        [1.1009, 1.1011],
      ]),
    };
    const t = onlyTrade(run(data, atBids([[1.1, [{ action: 'buy', lots: 1, trail: { pips: 10 } }]]])));
    expect([t.sl, t.exitTime, t.exitPrice, t.reason]).toEqual([1.102 - 10 * PIP, T0 + 5 * S, 1.1009, 'sl']);
  });

  it('a short trails on the ask; the tighter of a given stop and the trail starts', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.099, 1.0992],
        [1.0995, 1.0997],
        [1.0998, 1.1003],
      ]),
    };
    const d = 10 * PIP;
    let t = onlyTrade(run(data, atBids([[1.1, [{ action: 'sell', lots: 1, sl: { pips: 5 }, trail: { pips: 10 } }]]])));
    expect([t.sl, t.exitPrice, t.reason]).toEqual([Math.min(1.1 + 5 * PIP, 1.0992 + d), 1.1003, 'sl']);
    t = onlyTrade(run(data, atBids([[1.1, [{ action: 'sell', lots: 1, sl: { pips: 30 }, trail: { pips: 10 } }]]])));
    expect(t.sl).toBe(1.0992 + d);
  });

  it('a non-positive or NaN distance is an invalid stop-loss', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.1001, 1.1003],
      ]),
    };
    for (const pips of [0, -2, { op: '/', args: [0, 0] } as Expr]) {
      const r = run(data, atBids([[1.1, [{ action: 'buy', lots: 1, trail: { pips } }]]]));
      expect(r.rejections.map((x) => x.reason)).toEqual(['invalid_sl']);
    }
  });

  it('bar mode trails with the close after the bar and exits at the trailed level', () => {
    const d = 10 * PIP;
    const bars = m1([
      [1.1, 1.1, 1.1, 1.1],
      [1.1, 1.102, 1.0995, 1.1015],
      [1.1015, 1.103, 1.101, 1.1025],
      [1.1025, 1.1026, 1.1005, 1.101],
    ]);
    const t = onlyTrade(run({ bars }, barOnce([{ action: 'buy', lots: 1, trail: { pips: 10 } }])));
    expect([t.sl, t.exitTime, t.exitPrice, t.reason]).toEqual([1.1025 - d, T0 + 3 * M1, 1.1025 - d, 'sl']);

    const short = m1([
      [1.1, 1.1, 1.1, 1.1],
      [1.1, 1.1005, 1.098, 1.0985],
      [1.0985, 1.1, 1.098, 1.099],
    ]);
    const u = onlyTrade(run({ bars: short }, barOnce([{ action: 'sell', lots: 1, trail: { pips: 10 } }])));
    expect([u.sl, u.exitPrice, u.reason]).toEqual([1.0985 + SPREAD + d, 1.0985 + SPREAD + d, 'sl']);
  });

  it('a pending order with a trail trails from its fill', () => {
    const data = {
      ticks: quotes([
        [1.1, 1.1002],
        [1.0988, 1.099],
        [1.1, 1.1002],
        [1.0994, 1.0996],
      ]),
    };
    const t = onlyTrade(
      run(data, atBids([[1.1, [{ action: 'buy', order: 'limit', price: 1.099, lots: 1, trail: { pips: 5 } }]]])),
    );
    expect([t.entryPrice, t.sl, t.exitPrice, t.reason]).toEqual([1.099, 1.1 - 5 * PIP, 1.0994, 'sl']);
  });
});

// ---------------------------------------------------------------- the IR

function issues(s: unknown): string[] {
  try {
    parseStrategy(s);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

describe('IR checks of the order fields', () => {
  const withAction = (action: unknown, extra: Record<string, unknown> = {}) => ({
    version: 1,
    name: 'x',
    decision: { timeframe: 'M1' },
    rules: [{ when: true, then: [action] }],
    ...extra,
  });
  const at = 'strategy.rules[0].then[0]';

  it('accepts every new form, and the symbol as metadata', () => {
    for (const a of [
      { action: 'buy', order: 'limit', price: 1.1, lots: 1 },
      { action: 'sell', order: 'stop', price: { quote: 'bid' }, risk: 1, sl: { pips: 10 }, trail: { pips: 5 } },
      { action: 'buy', order: 'market', risk: { param: 'r' }, sl: { price: 1.09 } },
      { action: 'cancel' },
    ]) {
      expect(issues(withAction(a, { params: { r: { default: 1 } } }))).toEqual([]);
    }
    expect(issues(withAction({ action: 'cancel' }, { symbol: 'EURUSD' }))).toEqual([]);
    expect(issues(withAction({ action: 'cancel' }, { symbol: '' }))).toEqual([
      "strategy.symbol: expected a non-empty string, got ''",
    ]);
  });

  it('names each problem at its path', () => {
    const cases: [unknown, string][] = [
      [{ action: 'buy', order: 'limit', lots: 1 }, `${at}.price: missing required field (a limit order needs a price)`],
      [{ action: 'sell', order: 'stop', lots: 1 }, `${at}.price: missing required field (a stop order needs a price)`],
      [
        { action: 'buy', price: 1.1, lots: 1 },
        `${at}.price: a market order takes no price (use order 'limit' or 'stop')`,
      ],
      [{ action: 'buy', risk: 1 }, `${at}.sl: missing required field ('risk' is measured at the stop-loss)`],
      [{ action: 'buy', risk: 1, lots: 1, sl: { pips: 5 } }, `${at}: give either 'lots' or 'risk', not both`],
      [{ action: 'buy' }, `${at}.lots: missing required field`],
      [
        { action: 'buy', order: 'limt', price: 1, lots: 1 },
        `${at}.order: unknown order type 'limt' (expected one of market, limit, stop); did you mean 'limit'?`,
      ],
      [{ action: 'buy', lots: 1, trail: 10 }, `${at}.trail: expected { "pips": Expr }, got 10`],
      [{ action: 'buy', lots: 1, trail: {} }, `${at}.trail.pips: missing required field`],
      [
        { action: 'buy', lots: 1, trail: { pips: true } },
        `${at}.trail.pips: expected a number expression, got a boolean expression`,
      ],
      [{ action: 'cancel', lots: 1 }, `${at}.lots: unknown field 'lots' (expected one of action)`],
      [
        { action: 'buy', order: 'limit', price: { op: '>', args: [1, 0] }, lots: 1 },
        `${at}.price: expected a number expression, got a boolean expression`,
      ],
    ];
    for (const [action, expected] of cases) expect(issues(withAction(action))).toEqual([expected]);
  });
});
