// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
/**
 * Engine parity (docs/semantics.md, preamble): the Rust core and the pure-TypeScript engine give the
 * same trades, rejections, events and equity/metrics on the same input, and each engine gives
 * bitwise-identical results when it runs the same input twice.
 */
import { describe, expect, it } from 'vitest';
import { type BacktestOptions, type BacktestResult, backtest, backtestSync } from '../src/backtest.js';
import { generateBars, generateTicks } from '../src/generate.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import type {
  EngineOutput,
  ExitReason,
  Expr,
  RejectReason,
  Rule,
  StrategyIR,
  TickData,
  Timeframe,
} from '../src/types.js';
import { bitwiseEqual, expectIdentical, expectIdenticalFast, expectSameOutput } from './helpers/compare.js';
import { buildScenario, isLongLiteral, Rng, type Scenario, shortNumber } from './helpers/scenarios.js';

type Engine = 'native' | 'js';
type RunOptions = Omit<BacktestOptions, 'engine' | 'signal'>;

const run = (options: RunOptions, engine: Engine): BacktestResult => backtestSync({ ...options, engine });

/** Runs each engine twice: native == js (within 1e-9, trades exact) and each engine bitwise stable. */
function checkParity(options: RunOptions): { native: EngineOutput; js: EngineOutput } {
  const native = run(options, 'native');
  const js = run(options, 'js');
  expectSameOutput(native, js);
  expectIdenticalFast(native, run(options, 'native'));
  expectIdenticalFast(js, run(options, 'js'));
  return { native, js };
}

/** Prefixes an assertion failure with the scenario's description, so a failure names its seed. */
function labelled<T>(label: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error) e.message = `${label}\n${e.message}`;
    throw e;
  }
}

// ---------------------------------------------------------------- the checks themselves

describe('the comparison helpers', () => {
  it('see a one-ulp change, a sign of zero and a NaN anywhere in an output', () => {
    const sc = buildScenario(2);
    const out = run(sc.options, 'js');
    expect(out.trades.length).toBeGreaterThan(0);
    expect(out.rejections.length).toBeGreaterThan(0);
    const copy = (): EngineOutput => structuredClone(out);
    const up = (x: number) => (x === 0 || !Number.isFinite(x) ? 1 : x + Math.abs(x) * Number.EPSILON);
    const variants: ((o: EngineOutput) => void)[] = [
      (o) => (o.trades[0]!.exitPrice = up(o.trades[0]!.exitPrice)),
      (o) => (o.rejections[0]!.lots = up(o.rejections[0]!.lots)),
      (o) => (o.equity.equity[o.equity.equity.length - 1] = up(o.equity.equity[o.equity.equity.length - 1]!)),
      (o) => (o.metrics.sharpe = Number.NaN),
      (o) => (o.metrics.netProfit = up(o.metrics.netProfit)),
      (o) => (o.events += 1),
    ];
    expectIdenticalFast(out, copy());
    expectIdentical(out, copy());
    for (const change of variants) {
      const o = copy();
      change(o);
      expect(() => expectIdenticalFast(out, o)).toThrow();
    }
    expect(bitwiseEqual(0, -0)).toBe(false);
    expect(bitwiseEqual([Number.NaN], [Number.NaN])).toBe(true);
    expect(bitwiseEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
  });
});

// ---------------------------------------------------------------- seeded scenarios

/** Seeds 1..N; odd seeds are bar mode, even seeds tick mode. */
const SCENARIO_COUNT = 200;
const SEEDS = Array.from({ length: SCENARIO_COUNT }, (_, i) => i + 1);

/**
 * Seeds whose scenario shows a native/pure-TS discrepancy (marked `it.fails`), with the
 * discrepancy. None at present: every seeded scenario agrees. (The discrepancy found while writing
 * this suite, 17-digit literals read one ulp off natively, is fixed and guarded below.)
 */
const KNOWN_DISCREPANCIES: Readonly<Record<number, string>> = {};

const suite = {
  scenarios: { ticks: 0, bars: 0 },
  withTrades: 0,
  trades: { ticks: 0, bars: 0 },
  rejections: 0,
  exitReasons: new Set<ExitReason>(),
  rejectReasons: new Set<RejectReason>(),
  decideOnTick: 0,
};

function record(sc: Scenario, out: EngineOutput): void {
  suite.scenarios[sc.mode]++;
  suite.trades[sc.mode] += out.trades.length;
  if (out.trades.length > 0) suite.withTrades++;
  suite.rejections += out.rejections.length;
  for (const t of out.trades) suite.exitReasons.add(t.reason);
  for (const r of out.rejections) suite.rejectReasons.add(r.reason);
  if (sc.options.strategy.decision.on === 'tick') suite.decideOnTick++;
}

describe('seeded random scenarios: native == js, and each engine repeats itself bitwise', () => {
  for (const seed of SEEDS) {
    const mode = seed % 2 === 0 ? 'ticks' : 'bars';
    const known = KNOWN_DISCREPANCIES[seed];
    const test = known ? it.fails : it;
    test(`scenario ${seed} (${mode})${known ? ` — ${known}` : ''}`, () => {
      const sc = buildScenario(seed);
      labelled(sc.label, () => {
        const { native } = checkParity(sc.options);
        record(sc, native);
      });
    });
  }

  // Runs after the scenarios above (tests in a file run in order): the suite must have exercised
  // the engines, not compared empty runs.
  it('exercised both modes with many trades, every exit reason and every rejection reason', () => {
    const total = suite.trades.ticks + suite.trades.bars;
    expect(suite.scenarios.ticks + suite.scenarios.bars).toBe(SCENARIO_COUNT - Object.keys(KNOWN_DISCREPANCIES).length);
    expect(suite.scenarios.ticks).toBeGreaterThanOrEqual(90);
    expect(suite.scenarios.bars).toBeGreaterThanOrEqual(90);
    expect(total).toBeGreaterThan(40_000);
    expect(suite.trades.ticks).toBeGreaterThan(10_000);
    expect(suite.trades.bars).toBeGreaterThan(10_000);
    // Most scenarios trade (the rest are refused orders or quiet signals, also worth comparing).
    expect(suite.withTrades).toBeGreaterThanOrEqual(Math.ceil(0.8 * SCENARIO_COUNT));
    expect(suite.decideOnTick).toBeGreaterThanOrEqual(40);
    expect(suite.rejections).toBeGreaterThan(1_000);
    expect([...suite.exitReasons].sort()).toEqual(['end', 'reverse', 'signal', 'sl', 'tp']);
    expect([...suite.rejectReasons].sort()).toEqual([
      'invalid_lots',
      'invalid_sl',
      'invalid_tp',
      'margin',
      'max_lot',
      'min_lot',
    ]);
  });
});

// ---------------------------------------------------------------- the reference strategy

describe('the reference strategy', () => {
  const cases = [
    { seed: 1, stepPoints: 8, days: 5 },
    { seed: 2, stepPoints: 8, days: 4 },
    { seed: 3, stepPoints: 8, days: 6, symbol: 'GBPUSD' },
    { seed: 4, stepPoints: 3, days: 4 },
  ];
  for (const c of cases) {
    it(`agrees on generated ticks (seed ${c.seed}, stepPoints ${c.stepPoints})`, () => {
      const ticks = generateTicks({
        symbol: c.symbol ?? 'EURUSD',
        seed: c.seed,
        days: c.days,
        stepPoints: c.stepPoints,
      });
      const { native } = checkParity({ ticks, strategy: referenceStrategy });
      if (c.stepPoints === 8) expect(native.trades.length).toBeGreaterThan(5);
      expect(native.events).toBe(ticks.time.length);
    });
  }

  it('agrees with parameters, costs and a warmup window', () => {
    const ticks = generateTicks({ seed: 1, days: 5, stepPoints: 8 });
    const start = (ticks.time[0] as number) + 86_400_000;
    const { native } = checkParity({
      ticks,
      strategy: referenceStrategy,
      params: { rsiPeriod: 9, slPips: 15, tpPips: 25, lots: 0.5 },
      instrument: { commissionPerLot: 7, slippagePips: 0.5 },
      start,
    });
    expect(native.trades.length).toBeGreaterThan(5);
    expect(native.trades.every((t) => t.entryTime >= start)).toBe(true);
  });

  it('agrees on generated M1 and M5 bars with both fill modes (envelope narrowed so that it trades)', () => {
    // With a 2% envelope the generated bars never reach a band; 0.2% does.
    const narrow = structuredClone(referenceStrategy);
    const env = narrow.workers?.find((w) => w.id === 'env');
    if (env) env.params.percent = 0.2;
    for (const timeframe of ['M1', 'M5'] as const) {
      const bars = generateBars({ timeframe, count: 20_000, seed: 5, stepPoints: 8 });
      for (const fillAt of ['open', 'close'] as const) {
        const { native } = checkParity({ bars, strategy: narrow, fillAt, instrument: { spreadPips: 0.8 } });
        expect(native.trades.length).toBeGreaterThan(50);
      }
    }
  });
});

// ---------------------------------------------------------------- hand-written edge cases

describe('edge cases the random scenarios reach rarely', () => {
  const flat: Expr = { op: '==', args: [{ position: 'side' }, 0] };
  const side = (x: number): Expr => ({ op: '!=', args: [{ position: 'side' }, x] });
  const ir = (decision: StrategyIR['decision'], rules: Rule[], workers: StrategyIR['workers'] = []): StrategyIR => ({
    version: 1,
    name: 'edge',
    decision,
    workers,
    rules,
  });

  it('H4 and D1 timeframes aggregated from sparse ticks over weeks', () => {
    const ticks = generateTicks({ seed: 9, days: 60, meanIntervalMs: 30_000, stepPoints: 8 });
    const s = ir(
      { timeframe: 'H4' },
      [
        {
          when: { op: 'and', args: [side(1), { op: '>', args: [{ worker: 'h' }, { worker: 'd' }] }] },
          then: [{ action: 'buy', lots: 1, sl: { pips: { op: '/', args: [{ worker: 'a' }, 0.0001] } } }],
        },
        {
          when: { op: 'and', args: [side(-1), { op: '<', args: [{ worker: 'h' }, { worker: 'd' }] }] },
          then: [{ action: 'sell', lots: 1, tp: { pips: 80 } }],
        },
      ],
      [
        { id: 'd', kind: 'sma', timeframe: 'D1', params: { period: 5 } },
        { id: 'h', kind: 'ema', timeframe: 'H4', params: { period: 6 } },
        { id: 'a', kind: 'atr', timeframe: 'D1', params: { period: 3 } },
      ],
    );
    const { native } = checkParity({ ticks, strategy: s });
    expect(native.trades.length).toBeGreaterThan(5);
  });

  it('H1 bars with H4 and D1 workers, decisions on every bar, band levels from a D1 worker', () => {
    const bars = generateBars({ timeframe: 'H1', count: 3000, seed: 4, stepPoints: 8 });
    const s = ir(
      { timeframe: 'H4', on: 'tick' },
      [
        {
          when: {
            op: 'and',
            args: [
              flat,
              {
                op: 'crossAbove',
                args: [
                  { worker: 'm', output: 'macd' },
                  { worker: 'm', output: 'signal' },
                ],
              },
            ],
          },
          then: [
            {
              action: 'buy',
              lots: 1,
              sl: { price: { worker: 'd', output: 'lower' } },
              tp: { price: { worker: 'd', output: 'upper' } },
            },
          ],
        },
        {
          when: {
            op: 'and',
            args: [
              flat,
              {
                op: 'crossBelow',
                args: [
                  { worker: 'm', output: 'macd' },
                  { worker: 'm', output: 'signal' },
                ],
              },
            ],
          },
          then: [{ action: 'sell', lots: 1, sl: { pips: 30 }, tp: { pips: 30 } }],
        },
      ],
      [
        { id: 'd', kind: 'bollinger', timeframe: 'D1', params: { period: 5, deviations: 1 } },
        { id: 'm', kind: 'macd', timeframe: 'H4', params: { fast: 3, slow: 8, signal: 4 } },
      ],
    );
    for (const fillAt of ['open', 'close'] as const) {
      const { native } = checkParity({ bars, strategy: s, fillAt });
      expect(native.trades.length).toBeGreaterThan(50);
      expect(native.rejections.length).toBeGreaterThan(10);
    }
  });

  it('bar mode: stops and targets inside the entry bar, both hit in one bar, with spread and slippage', () => {
    const bars = generateBars({ timeframe: 'M5', count: 1200, seed: 8, stepPoints: 8 });
    const s = ir({ timeframe: 'M5', on: 'tick' }, [
      {
        when: { op: 'and', args: [flat, { op: '>', args: [{ bar: 'close' }, { bar: 'open' }] }] },
        then: [{ action: 'buy', lots: 1, sl: { pips: 1 }, tp: { pips: 1.5 } }],
      },
      {
        when: { op: 'and', args: [flat, { op: '<', args: [{ bar: 'close' }, { bar: 'open' }] }] },
        then: [{ action: 'sell', lots: 1, sl: { pips: 2 }, tp: { pips: 0.5 } }],
      },
    ]);
    for (const fillAt of ['open', 'close'] as const) {
      for (const spreadPips of [0, 2]) {
        const { native } = checkParity({
          bars,
          strategy: s,
          fillAt,
          instrument: { spreadPips, slippagePips: 0.5 },
          account: { balance: 1e6 },
        });
        expect(native.trades.length).toBeGreaterThan(100);
        // Levels this tight always hit: every position ends at its stop or its target.
        expect(native.trades.every((t) => t.reason === 'sl' || t.reason === 'tp')).toBe(true);
      }
    }
  });

  it('tick mode: decisions on every tick with one-pip levels and price-form levels from quotes', () => {
    const ticks = generateTicks({ seed: 21, days: 1, meanIntervalMs: 3000, stepPoints: 8 });
    const s = ir({ timeframe: 'M1', on: 'tick' }, [
      {
        when: { op: 'and', args: [flat, { op: '>', args: [{ quote: 'bid' }, { bar: 'close' }] }] },
        then: [{ action: 'buy', lots: 1, sl: { pips: 1 }, tp: { pips: 1 } }],
      },
      {
        when: { op: 'and', args: [flat, { op: '<', args: [{ quote: 'bid' }, { bar: 'close' }] }] },
        then: [
          {
            action: 'sell',
            lots: 1,
            sl: { price: { op: '+', args: [{ quote: 'ask' }, 0.0001] } },
            tp: { price: { op: '-', args: [{ quote: 'bid' }, 0.0001] } },
          },
        ],
      },
    ]);
    const { native } = checkParity({
      ticks,
      strategy: s,
      instrument: { slippagePips: 0.3 },
      account: { balance: 1e6 },
    });
    expect(native.trades.length).toBeGreaterThan(1000);
  });

  it('a warmup start and an end in the middle of bars, in both modes', () => {
    const rsiRules: Rule[] = [
      {
        when: { op: 'and', args: [flat, { op: '<', args: [{ worker: 'r' }, 35] }] },
        then: [{ action: 'buy', lots: 0.5, tp: { pips: 10 } }],
      },
      {
        when: {
          op: 'and',
          args: [
            { op: '==', args: [{ position: 'side' }, 1] },
            { op: '>', args: [{ worker: 'r' }, 60] },
          ],
        },
        then: [{ action: 'close' }],
      },
    ];
    const rsi: StrategyIR['workers'] = [{ id: 'r', kind: 'rsi', timeframe: 'M5', params: { period: 5 } }];
    const ticks = generateTicks({ seed: 21, days: 2, stepPoints: 8 });
    const start = (ticks.time[20_000] as number) + 17;
    const end = (ticks.time[150_000] as number) - 3;
    const t = checkParity({ ticks, start, end, strategy: ir({ timeframe: 'M15', on: 'tick' }, rsiRules, rsi) }).native;
    expect(t.trades.length).toBeGreaterThan(10);
    expect(t.trades.every((x) => x.entryTime >= start && x.exitTime <= end)).toBe(true);
    const bars = generateBars({ timeframe: 'M5', count: 5000, seed: 8, stepPoints: 8 });
    const b = checkParity({
      bars,
      start: (bars.time[300] as number) + 60_000,
      end: (bars.time[4000] as number) + 1,
      strategy: ir({ timeframe: 'M15' }, rsiRules, rsi),
    }).native;
    expect(b.trades.length).toBeGreaterThan(10);
  });

  it('NaN, infinite and negative-zero values in lots and levels, and != on NaN', () => {
    const ticks = generateTicks({ seed: 2, days: 1, stepPoints: 5 });
    const atMinute = (m: number): Expr => ({ op: '==', args: [{ time: 'minute' }, m] });
    const s = ir(
      { timeframe: 'M5' },
      [
        // `!=` is false while the worker is not ready (NaN).
        { when: { op: '!=', args: [{ worker: 's' }, 0] }, then: [{ action: 'buy', lots: { op: 'neg', args: [0] } }] },
        { when: atMinute(5), then: [{ action: 'buy', lots: { op: '/', args: [1, 0] } }] },
        { when: atMinute(10), then: [{ action: 'buy', lots: { op: '/', args: [0, 0] } }] },
        { when: atMinute(15), then: [{ action: 'sell', lots: { op: 'min', args: [{ worker: 's', offset: 50 }, 1] } }] },
        { when: atMinute(20), then: [{ action: 'sell', lots: { op: '*', args: [-1, 0] } }] },
        { when: atMinute(25), then: [{ action: 'sell', lots: 0.004 }] },
        { when: atMinute(30), then: [{ action: 'buy', lots: 0.07, sl: { price: { quote: 'ask' } } }] },
        { when: atMinute(35), then: [{ action: 'close' }] },
        { when: atMinute(40), then: [{ action: 'buy', lots: 1e300 }] },
        {
          when: atMinute(45),
          then: [
            {
              action: 'sell',
              lots: 0.07,
              tp: { price: { op: 'max', args: [{ quote: 'bid' }, { op: '/', args: [0, 0] }] } },
            },
          ],
        },
        { when: atMinute(50), then: [{ action: 'buy', lots: 0.07 }] },
      ],
      [{ id: 's', kind: 'sma', timeframe: 'M15', params: { period: 4 } }],
    );
    const { native, js } = checkParity({ ticks, strategy: s });
    const reasons = new Set(native.rejections.map((r) => r.reason));
    expect([...reasons].sort()).toEqual(['invalid_lots', 'invalid_sl', 'invalid_tp', 'max_lot', 'min_lot']);
    const negZero = native.rejections.filter((r) => Object.is(r.lots, -0));
    expect(negZero.length).toBeGreaterThan(10);
    expect(js.rejections.filter((r) => Object.is(r.lots, -0)).length).toBe(negZero.length);
    expect(native.rejections.some((r) => r.lots === Number.POSITIVE_INFINITY && r.reason === 'max_lot')).toBe(true);
    expect(native.rejections.some((r) => Number.isNaN(r.lots) && r.reason === 'invalid_lots')).toBe(true);
    expect(native.trades.length).toBeGreaterThan(5);
  });
});

// ---------------------------------------------------------------- the generator

function bytes(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe('generateTicks / generateBars: native and js columns are bitwise identical', () => {
  const tickCases = [
    { seed: 0, symbol: 'EURUSD', days: 2 },
    { seed: 1, symbol: 'EURUSD', days: 3, stepPoints: 8 },
    { seed: 42, symbol: 'USDJPY', days: 2, meanIntervalMs: 2500 },
    { seed: 2 ** 32 - 1, symbol: 'XAUUSD', days: 2, stepPoints: 5 },
    { seed: 123_456_789, symbol: 'GBPUSD', days: 1.5, meanIntervalMs: 300, start: '2024-03-08' },
    { seed: 7, symbol: 'AUDUSD', days: 9, meanIntervalMs: 20_000, start: '2024-02-03' },
  ];
  for (const c of tickCases) {
    it(`ticks ${JSON.stringify(c)}`, () => {
      const a = generateTicks({ ...c, engine: 'native' });
      const b = generateTicks({ ...c, engine: 'js' });
      expect(a.time.length).toBeGreaterThan(1000);
      expect(b.time.length).toBe(a.time.length);
      for (const col of ['time', 'bid', 'ask'] as const) expect(bytes(b[col]).equals(bytes(a[col]))).toBe(true);
      expect(b.symbol).toBe(a.symbol);
    });
  }

  const timeframes: Timeframe[] = ['M1', 'M5', 'M15', 'M30', 'H1', 'H4', 'D1'];
  const symbols = ['EURUSD', 'USDJPY', 'XAUUSD'];
  timeframes.forEach((timeframe, i) => {
    const symbol = symbols[i % symbols.length] as string;
    const seed = [3, 99, 2 ** 31, 17, 2 ** 32 - 2, 5, 1][i] as number;
    it(`bars ${timeframe} ${symbol} seed ${seed}`, () => {
      const opts = { timeframe, symbol, seed, count: 3000, stepPoints: 1 + (i % 8), start: '2024-01-05T13:00:00Z' };
      const a = generateBars({ ...opts, engine: 'native' });
      const b = generateBars({ ...opts, engine: 'js' });
      expect(a.time.length).toBe(3000);
      expect(b.timeframe).toBe(a.timeframe);
      for (const col of ['time', 'open', 'high', 'low', 'close', 'volume'] as const) {
        expect(bytes(b[col]).equals(bytes(a[col]))).toBe(true);
      }
    });
  });
});

// ---------------------------------------------------------------- async and sync

describe('backtest (async) gives what backtestSync gives', () => {
  for (const seed of [2, 3, 8, 9]) {
    it(`scenario ${seed}`, async () => {
      const sc = buildScenario(seed);
      for (const engine of ['native', 'js'] as const) {
        const sync = run(sc.options, engine);
        const done = await backtest({ ...sc.options, engine });
        expect(done.engine).toBe(engine);
        expectIdenticalFast(done, sync);
        expect(done.events).toBe(sync.events);
        expect(done.params).toEqual(sync.params);
        expect(done.config).toEqual(sync.config);
      }
    });
  }

  it('runs concurrent async calls on both engines to the same results', async () => {
    const scs = [4, 5, 6, 7].map((s) => buildScenario(s));
    const outs = await Promise.all(
      scs.flatMap((sc) => [backtest({ ...sc.options, engine: 'native' }), backtest({ ...sc.options, engine: 'js' })]),
    );
    scs.forEach((sc, i) => {
      const [n, j] = [outs[2 * i] as BacktestResult, outs[2 * i + 1] as BacktestResult];
      labelled(sc.label, () => {
        expectSameOutput(n, j);
        expectIdenticalFast(n, run(sc.options, 'native'));
      });
    });
  });
});

// ---------------------------------------------------------------- profile

describe('profile: true (section 8)', () => {
  it('changes no result and gives the same step counts on both engines', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const sc = buildScenario(seed);
      labelled(sc.label, () => {
        const [n, j] = (['native', 'js'] as const).map((engine) => run({ ...sc.options, profile: true }, engine)) as [
          BacktestResult,
          BacktestResult,
        ];
        expectIdenticalFast(n, run(sc.options, 'native'));
        expectIdenticalFast(j, run(sc.options, 'js'));
        const counts = (r: BacktestResult) =>
          Object.fromEntries(Object.entries(r.profile ?? {}).map(([k, v]) => [k, v.count]));
        expect(counts(n)).toEqual(counts(j));
        expect(n.profile?.updatePrices.count).toBe(n.events);
        expect(n.profile?.barRendering.count).toBe(n.events);
        expect(n.profile?.liveUpdate.count).toBe(n.equity.time.length);
      });
    }
  });
});

// ---------------------------------------------------------------- full-precision literals

/*
 * Numbers that need all 17 significant digits reach the native engine as JSON text (the strategy,
 * the run parameters and the run configuration); JSON.stringify writes the shortest form that
 * round-trips, so the native side must read it back correctly rounded to get the same double as
 * the pure-TypeScript engine. This was a real discrepancy: serde_json's default float reader is
 * not correctly rounded (serde_json issue #536) and turned e.g. 1.9000000000000001 (`0.1 * 19` in
 * JavaScript) into 1.9 and a commission of 3.9000000000000004 (`1.3 * 3`) into 3.9, one unit in
 * the last place off for about 1 in 15 random 17-digit values. The core crate now enables
 * serde_json's `float_roundtrip` feature; these tests keep it that way.
 */
describe('full-precision literals reach the native engine exactly', () => {
  const D = Date.UTC(2024, 0, 1);
  const twoTicks: TickData = {
    time: Float64Array.from([D, D + 61_000]),
    bid: Float64Array.from([1.1, 1.1]),
    ask: Float64Array.from([1.1002, 1.1002]),
  };
  /** One rule per value: each buys `-x` lots, which is refused and records `-x` as evaluated. */
  const probes = (xs: number[]): StrategyIR => ({
    version: 1,
    name: 'literal-probe',
    decision: { timeframe: 'M1' },
    rules: xs.map((x) => ({ when: true, then: [{ action: 'buy', lots: -x }] })),
  });
  const recorded = (engine: Engine, s: StrategyIR, extra: Partial<RunOptions> = {}) =>
    run({ ticks: twoTicks, strategy: s, ...extra }, engine).rejections.map((r) => r.lots);

  const rng = new Rng(2024);
  const long: number[] = [];
  while (long.length < 300) {
    const x = rng.float() * 10 ** rng.int(-6, 4);
    if (isLongLiteral(x)) long.push(x);
  }

  it('strategy literals: 0.1 * 19 and 300 random 17-digit values', () => {
    const xs = [0.1 * 19, 1.3 * 3, ...long];
    const expected = xs.map((x) => -x);
    expect(recorded('js', probes(xs))).toEqual(expected);
    expect(recorded('native', probes(xs))).toEqual(expected);
  });

  const paramProbe: StrategyIR = {
    version: 1,
    name: 'param-probe',
    params: { p: { default: 0.1 * 19 } },
    decision: { timeframe: 'M1' },
    rules: [{ when: true, then: [{ action: 'buy', lots: { op: 'neg', args: [{ param: 'p' }] } }] }],
  };

  it('a parameter default and a run parameter', () => {
    for (const engine of ['native', 'js'] as const) {
      expect(recorded(engine, paramProbe)).toEqual([-1.9000000000000001]);
      expect(recorded(engine, paramProbe, { params: { p: 1.3 * 3 } })).toEqual([-3.9000000000000004]);
    }
  });

  it('an instrument setting: commissionPerLot 1.3 * 3 (3.9000000000000004)', () => {
    const ticks = generateTicks({ seed: 3, days: 3, stepPoints: 8 });
    const { native } = checkParity({ ticks, strategy: referenceStrategy, instrument: { commissionPerLot: 1.3 * 3 } });
    expect(native.trades.length).toBeGreaterThan(5);
    expect(native.trades[0]?.commission).toBe(2 * (1 * (1.3 * 3)));
  });

  it('the same values at 15 significant digits agree too', () => {
    const short = long.map(shortNumber);
    expect(recorded('native', probes(short))).toEqual(short.map((x) => -x));
  });
});
