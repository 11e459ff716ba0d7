// biome-ignore-all lint/suspicious/noExplicitAny: the tests edit deep copies of JSON documents
/**
 * Bad input through the public API, on both engines: each case is a ValidationError whose issues
 * name the exact path and problem. The data rows are checked by each engine on its own side (the
 * Rust core for `native`, src/data/validate.ts for `js`), so for them the two engines must also
 * agree with each other word for word (docs/semantics.md section 1).
 */
import { describe, expect, it } from 'vitest';
import { type BacktestOptions, backtest, backtestSync } from '../src/backtest.js';
import { type Issue, ValidationError } from '../src/errors.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import type { BarData, StrategyIR, TickData, Timeframe } from '../src/types.js';

type Engine = 'native' | 'js';
const ENGINES: Engine[] = ['native', 'js'];

const D = Date.UTC(2024, 0, 1); // 1704067200000, a Monday
const f64 = (xs: number[]) => Float64Array.from(xs);

function ticks(time: number[], bid: number[], ask: number[], volume?: number[]): TickData {
  return { time: f64(time), bid: f64(bid), ask: f64(ask), ...(volume ? { volume: f64(volume) } : {}) };
}

function bars(timeframe: Timeframe, rows: [number, number, number, number, number][], volume?: number[]): BarData {
  return {
    timeframe,
    time: f64(rows.map((r) => r[0])),
    open: f64(rows.map((r) => r[1])),
    high: f64(rows.map((r) => r[2])),
    low: f64(rows.map((r) => r[3])),
    close: f64(rows.map((r) => r[4])),
    volume: f64(volume ?? rows.map(() => 1)),
  };
}

const GOOD_TICKS = ticks([D, D + 1000, D + 2000], [1.1, 1.1, 1.1], [1.1002, 1.1002, 1.1002]);
const M5 = 300_000;

/** The reference strategy with one change (on a copy). */
function strategyWith(patch: (s: Record<string, any>) => void): StrategyIR {
  const s = structuredClone(referenceStrategy) as unknown as Record<string, any>;
  patch(s);
  return s as unknown as StrategyIR;
}

const ref = referenceStrategy;

interface Case {
  name: string;
  options: BacktestOptions;
  issues: Issue[];
}

/** The issues of the ValidationError that `options` raises on `engine`; fails the test if there is none. */
function issuesOf(options: BacktestOptions, engine: Engine): Issue[] {
  try {
    backtestSync({ ...options, engine });
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues;
  }
  return expect.unreachable(`${engine}: the run succeeded, expected a ValidationError`);
}

/** One test per case and engine: the run fails with exactly the case's issues. */
function runCases(cases: readonly Case[], bothEngines: boolean): void {
  const engines: Engine[] = bothEngines ? ENGINES : ['js'];
  for (const c of cases) {
    for (const engine of engines) {
      it(`${c.name} (${engine})`, () => {
        expect(issuesOf(c.options, engine)).toEqual(c.issues);
      });
    }
  }
}

/**
 * Data rows are checked on each engine's own side: one test per case that runs both engines and
 * wants the same single issue from each, word for word.
 */
function dataRowCases(cases: readonly { name: string; options: BacktestOptions; issue: Issue }[]): void {
  for (const c of cases) {
    it(`${c.name}: native and js agree`, () => {
      const native = issuesOf(c.options, 'native');
      const js = issuesOf(c.options, 'js');
      expect(native).toEqual(js);
      expect(native).toEqual([c.issue]);
    });
  }
}

describe('market data', () => {
  describe('shape (checked before either engine runs)', () => {
    runCases(
      [
        {
          name: 'no data given',
          options: { strategy: ref },
          issues: [{ path: 'ticks', message: 'no market data: give ticks or bars' }],
        },
        {
          name: 'both ticks and bars given',
          options: { ticks: GOOD_TICKS, bars: bars('M5', [[D, 1.1, 1.1, 1.1, 1.1]]), strategy: ref },
          issues: [{ path: 'ticks', message: 'give either ticks or bars, not both' }],
        },
        {
          name: 'a tick column that is a plain array',
          options: {
            ticks: { ...GOOD_TICKS, bid: [1.1, 1.1, 1.1] as unknown as Float64Array },
            strategy: ref,
          },
          issues: [{ path: 'ticks.bid', message: 'expected a Float64Array' }],
        },
        {
          name: 'a bar column that is a plain array',
          options: {
            bars: { ...bars('M5', [[D, 1.1, 1.1, 1.1, 1.1]]), close: [1.1] as unknown as Float64Array },
            strategy: ref,
          },
          issues: [{ path: 'bars.close', message: 'expected a Float64Array' }],
        },
        {
          name: 'unknown bar timeframe',
          options: { bars: bars('M7' as Timeframe, [[D, 1.1, 1.1, 1.1, 1.1]]), strategy: ref },
          issues: [{ path: 'bars.timeframe', message: 'expected one of M1, M5, M15, M30, H1, H4, D1' }],
        },
      ],
      true,
    );
  });

  describe('ticks', () => {
    dataRowCases([
      {
        name: 'empty columns',
        options: { ticks: ticks([], [], []), strategy: ref },
        issue: { path: 'ticks', message: 'no rows' },
      },
      {
        name: 'column length mismatch',
        options: { ticks: ticks([D, D + 1000, D + 2000], [1.1, 1.1, 1.1], [1.1002, 1.1002]), strategy: ref },
        issue: { path: 'ticks.ask', message: 'length 2 differs from ticks.time length 3' },
      },
      {
        name: 'volume column length mismatch',
        options: { ticks: ticks([D, D + 1000], [1.1, 1.1], [1.1002, 1.1002], [1]), strategy: ref },
        issue: { path: 'ticks.volume', message: 'length 1 differs from ticks.time length 2' },
      },
      {
        name: 'unsorted time names the row and the previous row',
        options: { ticks: ticks([D, D + 1000, D + 500], [1.1, 1.1, 1.1], [1.1002, 1.1002, 1.1002]), strategy: ref },
        issue: { path: 'ticks.time[2]', message: `${D + 500} is earlier than ticks.time[1] (${D + 1000})` },
      },
      {
        name: 'NaN bid',
        options: {
          ticks: ticks([D, D + 1000, D + 2000], [1.1, Number.NaN, 1.1], [1.1002, 1.1002, 1.1002]),
          strategy: ref,
        },
        issue: { path: 'ticks.bid[1]', message: 'NaN is not a positive finite price' },
      },
      {
        name: 'zero bid',
        options: { ticks: ticks([D, D + 1000], [0, 1.1], [1.1002, 1.1002]), strategy: ref },
        issue: { path: 'ticks.bid[0]', message: '0 is not a positive finite price' },
      },
      {
        name: 'negative ask',
        options: { ticks: ticks([D, D + 1000, D + 2000], [1.1, 1.1, 1.1], [1.1002, 1.1002, -1.1002]), strategy: ref },
        issue: { path: 'ticks.ask[2]', message: '-1.1002 is not a positive finite price' },
      },
      {
        name: 'ask below bid',
        options: { ticks: ticks([D, D + 1000], [1.1, 1.1], [1.1002, 1.0999]), strategy: ref },
        issue: { path: 'ticks.ask[1]', message: '1.0999 is below ticks.bid[1] (1.1)' },
      },
      {
        name: 'negative volume',
        options: { ticks: ticks([D, D + 1000], [1.1, 1.1], [1.1002, 1.1002], [1, -1]), strategy: ref },
        issue: { path: 'ticks.volume[1]', message: '-1 is not a finite non-negative volume' },
      },
      {
        name: 'NaN volume',
        options: { ticks: ticks([D, D + 1000], [1.1, 1.1], [1.1002, 1.1002], [Number.NaN, 1]), strategy: ref },
        issue: { path: 'ticks.volume[0]', message: 'NaN is not a finite non-negative volume' },
      },
      {
        name: 'within a row the time is checked before the prices',
        options: { ticks: ticks([D, D + 1000, D + 500], [1.1, 1.1, 0], [1.1002, 1.1002, 1.1002]), strategy: ref },
        issue: { path: 'ticks.time[2]', message: `${D + 500} is earlier than ticks.time[1] (${D + 1000})` },
      },
    ]);

    it('the async backtest rejects with the same issues on both engines', async () => {
      const options: BacktestOptions = {
        ticks: ticks([D, D + 1000], [1.1, 1.1], [1.1002, 1.0999]),
        strategy: ref,
      };
      const issues = [{ path: 'ticks.ask[1]', message: '1.0999 is below ticks.bid[1] (1.1)' }];
      for (const engine of ENGINES) {
        const run = backtest({ ...options, engine });
        await expect(run).rejects.toBeInstanceOf(ValidationError);
        await expect(run).rejects.toMatchObject({ code: 'ERR_TICKFORGE_VALIDATION', issues });
      }
    });
  });

  describe('bars', () => {
    dataRowCases([
      {
        name: 'empty columns',
        options: { bars: bars('M5', []), strategy: ref },
        issue: { path: 'bars', message: 'no rows' },
      },
      {
        name: 'column length mismatch',
        options: { bars: bars('M5', [[D, 1.1, 1.1, 1.1, 1.1]], [1, 1]), strategy: ref },
        issue: { path: 'bars.volume', message: 'length 2 differs from bars.time length 1' },
      },
      {
        name: 'time not aligned to the timeframe',
        options: {
          bars: bars('M5', [
            [D, 1.1, 1.1, 1.1, 1.1],
            [D + 60_000, 1.1, 1.1, 1.1, 1.1],
          ]),
          strategy: ref,
        },
        issue: { path: 'bars.time[1]', message: `${D + 60_000} is not aligned to M5` },
      },
      {
        name: 'time not increasing (a repeated bar)',
        options: {
          bars: bars('M5', [
            [D, 1.1, 1.1, 1.1, 1.1],
            [D + M5, 1.1, 1.1, 1.1, 1.1],
            [D + M5, 1.1, 1.1, 1.1, 1.1],
          ]),
          strategy: ref,
        },
        issue: { path: 'bars.time[2]', message: `${D + M5} is not after bars.time[1] (${D + M5})` },
      },
      {
        name: 'high below max(open, close)',
        options: {
          bars: bars('M5', [
            [D, 1.1, 1.12, 1.09, 1.11],
            [D + M5, 1.1, 1.105, 1.09, 1.11],
          ]),
          strategy: ref,
        },
        issue: { path: 'bars.high[1]', message: '1.105 is below max(open, close) (1.11)' },
      },
      {
        name: 'low above min(open, close)',
        options: {
          bars: bars('M5', [
            [D, 1.12, 1.13, 1.115, 1.11],
            [D + M5, 1.1, 1.12, 1.09, 1.11],
          ]),
          strategy: ref,
        },
        issue: { path: 'bars.low[0]', message: '1.115 is above min(open, close) (1.11)' },
      },
      {
        name: 'zero open',
        options: { bars: bars('M5', [[D, 0, 1.1, 1.1, 1.1]]), strategy: ref },
        issue: { path: 'bars.open[0]', message: '0 is not a positive finite price' },
      },
      {
        name: 'negative volume',
        options: {
          bars: bars(
            'M5',
            [
              [D, 1.1, 1.1, 1.1, 1.1],
              [D + M5, 1.1, 1.1, 1.1, 1.1],
            ],
            [3, -2],
          ),
          strategy: ref,
        },
        issue: { path: 'bars.volume[1]', message: '-2 is not a finite non-negative volume' },
      },
    ]);
  });
});

describe('strategy', () => {
  runCases(
    [
      {
        name: 'unknown worker kind, with the near miss',
        options: {
          ticks: GOOD_TICKS,
          strategy: strategyWith((s) => {
            s.workers[0].kind = 'rsii';
          }),
        },
        issues: [
          {
            path: 'strategy.workers[0].kind',
            message:
              "unknown worker kind 'rsii' (expected one of sma, ema, rsi, atr, bollinger, envelope, macd); did you mean 'rsi'?",
          },
        ],
      },
      {
        name: 'missing required worker param',
        options: {
          ticks: GOOD_TICKS,
          strategy: strategyWith((s) => {
            delete s.workers[1].params.percent;
          }),
        },
        issues: [
          { path: 'strategy.workers[1].params.percent', message: "missing required parameter 'percent' for envelope" },
        ],
      },
      {
        name: 'worker param given as a string',
        options: {
          ticks: GOOD_TICKS,
          strategy: strategyWith((s) => {
            s.workers[1].params.period = '20';
          }),
        },
        issues: [
          { path: 'strategy.workers[1].params.period', message: 'expected a number or { "param": name }, got \'20\'' },
        ],
      },
      {
        name: 'unknown worker in a rule, with the near miss',
        options: {
          ticks: GOOD_TICKS,
          strategy: strategyWith((s) => {
            s.rules[0].when.args[1].args[0] = { worker: 'rsl' };
          }),
        },
        issues: [
          {
            path: 'strategy.rules[0].when.args[1].args[0].worker',
            message: "unknown worker 'rsl' (workers: rsi, env); did you mean 'rsi'?",
          },
        ],
      },
      {
        name: 'unknown output of a multi-output worker',
        options: {
          ticks: GOOD_TICKS,
          strategy: strategyWith((s) => {
            s.rules[1].when.args[2].args[1].output = 'uper';
          }),
        },
        issues: [
          {
            path: 'strategy.rules[1].when.args[2].args[1].output',
            message:
              "unknown output 'uper' for envelope worker 'env' (outputs: upper, middle, lower); did you mean 'upper'?",
          },
        ],
      },
      {
        name: 'a number where a boolean when is needed',
        options: {
          ticks: GOOD_TICKS,
          strategy: strategyWith((s) => {
            s.rules[0].when = { op: '-', args: [{ worker: 'rsi' }, 30] };
          }),
        },
        issues: [{ path: 'strategy.rules[0].when', message: 'expected a boolean expression, got a number expression' }],
      },
      {
        name: 'an operator with the wrong arity',
        options: {
          ticks: GOOD_TICKS,
          strategy: strategyWith((s) => {
            s.rules[0].when.args[1].args.push(40);
          }),
        },
        issues: [{ path: 'strategy.rules[0].when.args[1].args', message: "'<' takes exactly 2 arguments, got 3" }],
      },
      {
        name: 'unknown timeframe',
        options: {
          ticks: GOOD_TICKS,
          strategy: strategyWith((s) => {
            s.workers[1].timeframe = 'm30';
          }),
        },
        issues: [
          {
            path: 'strategy.workers[1].timeframe',
            message: "unknown timeframe 'm30' (expected one of M1, M5, M15, M30, H1, H4, D1); did you mean 'M30'?",
          },
        ],
      },
      {
        name: 'several problems in one error',
        options: {
          ticks: GOOD_TICKS,
          strategy: strategyWith((s) => {
            s.decision.timeframe = 'h4';
            s.workers[0].params.period = -3;
            s.rules[1].when = 1;
          }),
        },
        issues: [
          {
            path: 'strategy.decision.timeframe',
            message: "unknown timeframe 'h4' (expected one of M1, M5, M15, M30, H1, H4, D1); did you mean 'H4'?",
          },
          { path: 'strategy.workers[0].params.period', message: 'period must be an integer from 1 to 100000, got -3' },
          { path: 'strategy.rules[1].when', message: 'expected a boolean expression, got a number expression' },
        ],
      },
    ],
    true,
  );
});

describe('bar mode timeframes', () => {
  const m15 = bars('M15', [
    [D, 1.1, 1.102, 1.099, 1.101],
    [D + 3 * M5, 1.101, 1.103, 1.1, 1.102],
  ]);
  /** The reference strategy as it is: M5 decision, M5 rsi worker, M30 envelope. */
  const below = strategyWith(() => {});
  const FIRST = { path: 'strategy.decision.timeframe', message: "M5 is smaller than the data's timeframe M15" };

  it('bar mode: a decision timeframe below the data timeframe is the first issue on both engines', () => {
    for (const engine of ENGINES) expect(issuesOf({ bars: m15, strategy: below }, engine)[0]).toEqual(FIRST);
  });

  it('bar mode: every used timeframe below the data timeframe is listed on both engines', () => {
    const all = [
      FIRST,
      { path: 'strategy.workers[0].timeframe', message: "M5 is smaller than the data's timeframe M15" },
    ];
    for (const engine of ENGINES) expect(issuesOf({ bars: m15, strategy: below }, engine)).toEqual(all);
  });
});

describe('run parameters', () => {
  runCases(
    [
      {
        name: 'unknown name, with the near miss',
        options: { ticks: GOOD_TICKS, strategy: ref, params: { rsiPeriodd: 3 } },
        issues: [
          {
            path: 'params.rsiPeriodd',
            message: "unknown parameter (strategy has: rsiPeriod, slPips, tpPips, lots); did you mean 'rsiPeriod'?",
          },
        ],
      },
      {
        name: 'below min',
        options: { ticks: GOOD_TICKS, strategy: ref, params: { rsiPeriod: 1 } },
        issues: [{ path: 'params.rsiPeriod', message: '1 is below min 2' }],
      },
      {
        name: 'not an integer for an int param',
        options: { ticks: GOOD_TICKS, strategy: ref, params: { rsiPeriod: 14.5 } },
        issues: [{ path: 'params.rsiPeriod', message: '14.5 is not an integer' }],
      },
      {
        name: 'wrongly typed value',
        options: { ticks: GOOD_TICKS, strategy: ref, params: { slPips: '20' as unknown as number } },
        issues: [{ path: 'params.slPips', message: "expected a finite number, got '20'" }],
      },
      {
        name: 'a value that breaks the worker table, named at the worker',
        options: {
          ticks: GOOD_TICKS,
          strategy: strategyWith((s) => {
            s.params.envPeriod = { default: 20 };
            s.workers[1].params.period = { param: 'envPeriod' };
          }),
          params: { envPeriod: 2.5 },
        },
        issues: [
          {
            path: 'strategy.workers[1].params.period',
            message: "period must be an integer from 1 to 100000, got 2.5 (from param 'envPeriod')",
          },
        ],
      },
    ],
    true,
  );
});

describe('run settings', () => {
  runCases(
    [
      {
        name: 'negative balance',
        options: { ticks: GOOD_TICKS, strategy: ref, account: { balance: -5 } },
        issues: [{ path: 'account.balance', message: 'expected a positive finite number, got -5' }],
      },
      {
        name: 'leverage below 1',
        options: { ticks: GOOD_TICKS, strategy: ref, account: { leverage: 0.5 } },
        issues: [{ path: 'account.leverage', message: '0.5 is not a number >= 1' }],
      },
      {
        name: 'margin rate 0',
        options: { ticks: GOOD_TICKS, strategy: ref, instrument: { marginRate: 0 } },
        issues: [{ path: 'instrument.marginRate', message: 'expected a number > 0 and <= 1, got 0' }],
      },
      {
        name: 'minLot above maxLot',
        options: { ticks: GOOD_TICKS, strategy: ref, instrument: { minLot: 5, maxLot: 1 } },
        issues: [{ path: 'instrument.minLot', message: '5 is above maxLot (1)' }],
      },
      {
        name: 'negative commission',
        options: { ticks: GOOD_TICKS, strategy: ref, instrument: { commissionPerLot: -1 } },
        issues: [{ path: 'instrument.commissionPerLot', message: 'expected a non-negative finite number, got -1' }],
      },
      {
        name: 'start after end',
        options: { ticks: GOOD_TICKS, strategy: ref, start: D + 5000, end: D },
        issues: [{ path: 'start', message: `${D + 5000} is after end (${D})` }],
      },
      {
        name: 'unparseable start',
        options: { ticks: GOOD_TICKS, strategy: ref, start: 'yesterday' },
        issues: [{ path: 'start', message: '"yesterday" is not a valid time (epoch ms or ISO date)' }],
      },
      {
        name: 'unknown fillAt',
        options: { ticks: GOOD_TICKS, strategy: ref, fillAt: 'middle' as 'open' },
        issues: [{ path: 'fillAt', message: "expected 'open' or 'close', got 'middle'" }],
      },
      {
        name: 'periodsPerYear 0',
        options: { ticks: GOOD_TICKS, strategy: ref, periodsPerYear: 0 },
        issues: [{ path: 'periodsPerYear', message: 'expected a positive finite number, got 0' }],
      },
    ],
    true,
  );
});
