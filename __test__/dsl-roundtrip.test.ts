// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
/**
 * IR -> DSL -> IR is the identity: for the reference strategy, for hand-written IRs that use every
 * expression, action and option (and the spellings needed for awkward names and explicit optional
 * fields), and for randomly generated valid IRs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, toDsl } from '../src/dsl/index.js';
import { parseStrategy } from '../src/ir/validate.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import type {
  Action,
  Expr,
  Level,
  ParamSpec,
  Rule,
  StrategyIR,
  Timeframe,
  WorkerKind,
  WorkerSpec,
} from '../src/types.js';
import { TIMEFRAMES } from '../src/types.js';

function roundTrip(ir: StrategyIR): { text: string; back: StrategyIR } {
  const text = toDsl(ir);
  const r = compile(text, { file: 'roundtrip.clj' });
  if (r.kind !== 'strategy') throw new Error('not a strategy');
  return { text, back: r.ir };
}

function expectRoundTrip(ir: StrategyIR): string {
  parseStrategy(ir);
  const { text, back } = roundTrip(ir);
  expect(back).toStrictEqual(ir);
  return text;
}

const hour: Expr = { time: 'hour' };

/** Every expression form and operator, every action and option. */
const everything: StrategyIR = {
  version: 1,
  name: 'everything',
  symbol: 'XAUUSD',
  params: {
    n: { default: 14, type: 'int', min: 2, max: 100 },
    f: { default: 0.5, type: 'float' },
    lo: { default: -3, min: -10 },
    hi: { default: 1e-7, max: 1e21 },
  },
  decision: { timeframe: 'M15', on: 'tick' },
  workers: [
    { id: 'a', kind: 'sma', timeframe: 'M1', params: { period: { param: 'n' }, source: 'open' } },
    { id: 'b', kind: 'ema', timeframe: 'M5', params: { period: 3 } },
    { id: 'c', kind: 'rsi', timeframe: 'M15', params: { period: 14, source: 'close' } },
    { id: 'd', kind: 'atr', timeframe: 'M30', params: { period: 14 } },
    { id: 'e', kind: 'bollinger', timeframe: 'H1', params: { period: 20, deviations: 2.5, source: 'high' } },
    { id: 'g', kind: 'envelope', timeframe: 'H4', params: { percent: 0.25, period: 10, source: 'low' } },
    { id: 'h', kind: 'macd', timeframe: 'D1', params: { fast: 12, slow: 26, signal: 9 } },
  ],
  rules: [
    {
      when: {
        op: 'and',
        args: [
          { op: '>', args: [{ worker: 'a' }, { worker: 'a', offset: 0 }] },
          {
            op: '>=',
            args: [
              { worker: 'c', output: 'value' },
              { worker: 'c', output: 'value', offset: 3 },
            ],
          },
          {
            op: '<',
            args: [
              { worker: 'e', output: 'upper' },
              { worker: 'e', output: 'middle' },
            ],
          },
          {
            op: '<=',
            args: [
              { worker: 'e', output: 'lower' },
              { worker: 'h', output: 'hist' },
            ],
          },
          {
            op: '==',
            args: [
              { worker: 'h', output: 'macd' },
              { worker: 'h', output: 'signal', offset: 1 },
            ],
          },
          { op: '!=', args: [{ worker: 'g', output: 'upper' }, -0] },
        ],
      },
      then: [
        { action: 'buy', lots: 1 },
        { action: 'sell', lots: { param: 'f' }, sl: { pips: 20 }, tp: { price: { quote: 'bid' } } },
      ],
    },
    {
      when: {
        op: 'or',
        args: [
          { op: 'not', args: [true] },
          false,
          { op: 'crossAbove', args: [{ bar: 'close' }, { bar: 'close', offset: 1 }] },
          {
            op: 'crossBelow',
            args: [
              { op: '+', args: [{ bar: 'high', timeframe: 'H1' }, { bar: 'low', timeframe: 'H1', offset: 0 }, 1] },
              {
                op: '-',
                args: [
                  { op: '*', args: [{ param: 'f' }, { worker: 'd' }] },
                  { op: '/', args: [{ op: 'neg', args: [{ param: 'lo' }] }, 2] },
                ],
              },
            ],
          },
          {
            op: '>',
            args: [
              { op: 'min', args: [{ op: 'abs', args: [{ bar: 'open' }] }, { bar: 'time' }, { bar: 'volume' }] },
              { op: 'max', args: [{ forming: 'close' }, { forming: 'high', timeframe: 'D1' }] },
            ],
          },
        ],
      },
      then: [
        { action: 'buy', order: 'market', risk: 2, sl: { price: { quote: 'ask' } }, trail: { pips: 15 } },
        { action: 'sell', order: 'limit', price: { quote: 'mid' }, lots: 0.1 },
        { action: 'buy', order: 'stop', price: { op: '+', args: [{ quote: 'ask' }, { quote: 'spread' }] }, lots: 1 },
        { action: 'close' },
        { action: 'cancel' },
      ],
    },
    {
      when: {
        op: 'and',
        args: [
          { op: '>', args: [{ position: 'side' }, { position: 'lots' }] },
          { op: '>', args: [{ position: 'entryPrice' }, { position: 'pnl' }] },
          { op: '>', args: [{ position: 'pnlPips' }, { account: 'balance' }] },
          { op: '>', args: [{ account: 'equity' }, hour] },
          { op: '>', args: [{ time: 'minute' }, { time: 'weekday' }] },
          { op: '>', args: [{ time: 'minuteOfDay' }, 0] },
        ],
      },
      then: [{ action: 'sell', risk: { param: 'hi' }, sl: { pips: { param: 'n' } }, tp: { pips: 3 } }],
    },
  ],
};

describe('IR -> DSL -> IR', () => {
  it('is the identity for the reference strategy', () => {
    expectRoundTrip(referenceStrategy);
  });

  it('prints the reference strategy as the demo file (without its comments and symbol)', () => {
    const text = toDsl({ ...referenceStrategy, symbol: 'EURUSD' });
    const demo = readFileSync(join(__dirname, '..', 'examples', 'rsi-envelope.clj'), 'utf8');
    const code = demo
      .split('\n')
      .filter((l) => !l.trimStart().startsWith(';'))
      .join('\n')
      .replace(':percent 2.0', ':percent 2');
    expect(text).toBe(code);
  });

  it('is the identity for every expression, action and option', () => {
    const text = expectRoundTrip(everything);
    expect(text).toContain('(prev a 0)');
    expect(text).toContain(':order :market');
    expect(text).toContain(':limit (tick :mid)');
    expect(text).toContain(':stop (+ (tick :ask) (tick :spread))');
    expect(text).toContain('(position :entry-price)');
    expect(text).toContain('(time :minute-of-day)');
    expect(text).toContain('{:type :float}');
    expect(text).toContain('(not= (g :upper) -0)');
  });

  it('keeps explicitly empty params and workers, and their absence', () => {
    const base: StrategyIR = { version: 1, name: 's', decision: { timeframe: 'M1' }, rules: [] };
    expect(expectRoundTrip(base)).toBe('(defstrategy s {:timeframe :M1})\n');
    expect(expectRoundTrip({ ...base, params: {}, workers: [] })).toBe(
      '(defstrategy s {:timeframe :M1 :params {} :workers []})\n',
    );
  });

  it('spells out a name that is both a param and a worker (examples/ema-cross.strategy.json)', () => {
    const ir = JSON.parse(readFileSync(join(__dirname, '..', 'examples', 'ema-cross.strategy.json'), 'utf8'));
    const text = expectRoundTrip(ir);
    expect(text).toContain('(worker fast (ema :H1 {:period fast}))');
    expect(text).toContain('(cross-above (worker fast) (worker slow))');
  });

  it('writes names the reader would not give back as symbols as strings', () => {
    const ir: StrategyIR = {
      version: 1,
      name: 'my strategy; v2',
      params: {
        'two words': { default: 1 },
        true: { default: 2 },
        '1st': { default: 3 },
        ':k': { default: 4 },
        '': { default: 5 },
        max: { default: 6 },
      },
      decision: { timeframe: 'H1' },
      workers: [
        { id: 'nil', kind: 'ema', timeframe: 'H1', params: { period: { param: 'two words' } } },
        { id: 'bar', kind: 'bollinger', timeframe: 'H1', params: { period: { param: '1st' }, deviations: 2 } },
        { id: 'prev', kind: 'sma', timeframe: 'H1', params: { period: { param: 'true' } } },
      ],
      rules: [
        {
          when: {
            op: '>',
            args: [
              {
                op: '+',
                args: [{ param: 'two words' }, { param: 'true' }, { param: '1st' }, { param: ':k' }, { param: '' }],
              },
              {
                op: '+',
                args: [
                  { worker: 'nil' },
                  { worker: 'bar', output: 'upper', offset: 2 },
                  { param: 'max' },
                  { worker: 'prev' },
                ],
              },
            ],
          },
          then: [{ action: 'buy', lots: { param: 'max' } }],
        },
      ],
    };
    const text = expectRoundTrip(ir);
    expect(text).toContain('(defstrategy "my strategy; v2"');
    expect(text).toContain('(prev ("bar" :upper) 2)');
    expect(text).toContain('(worker "nil" (ema :H1 {:period "two words"}))');
  });
});

// ---------------------------------------------------------------- random valid IRs

const KINDS: Record<WorkerKind, { numbers: string[]; source: boolean; outputs: string[] }> = {
  sma: { numbers: ['period'], source: true, outputs: ['value'] },
  ema: { numbers: ['period'], source: true, outputs: ['value'] },
  rsi: { numbers: ['period'], source: true, outputs: ['value'] },
  atr: { numbers: ['period'], source: false, outputs: ['value'] },
  bollinger: { numbers: ['period', 'deviations'], source: true, outputs: ['upper', 'middle', 'lower'] },
  envelope: { numbers: ['period', 'percent'], source: true, outputs: ['upper', 'middle', 'lower'] },
  macd: { numbers: ['fast', 'slow', 'signal'], source: true, outputs: ['macd', 'signal', 'hist'] },
};

/** Names that exercise the printer: operators, reserved words, strings, and plain names. */
const NAME_POOL = ['x', 'fast', 'max', 'bar', 'prev', 'param', 'worker', 'when', 'true', 'nil', 'a-b', '_q', 'tick'];
const paramName = fc.oneof(
  fc.constantFrom(...NAME_POOL, 'two words', '', '1x', ':k', 'é'),
  fc.string({ maxLength: 6 }),
);
const workerId = fc.oneof(fc.constantFrom(...NAME_POOL), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,5}$/));
const timeframe = fc.constantFrom(...TIMEFRAMES) as fc.Arbitrary<Timeframe>;
const finite = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
/** Drops keys whose value is undefined, so optional fields are absent rather than undefined. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const paramSpec: fc.Arbitrary<ParamSpec> = fc
  .record({
    int: fc.boolean(),
    type: fc.constantFrom(undefined, 'given'),
    base: finite,
    below: opt(fc.nat(50)),
    above: opt(fc.nat(50)),
  })
  .map(({ int, type, base, below, above }) => {
    const d = int ? Math.round(base) : base;
    return compact({
      default: d,
      type: int ? 'int' : type === 'given' ? 'float' : undefined,
      min: below === undefined ? undefined : d - below,
      max: above === undefined ? undefined : d + above,
    } as ParamSpec);
  });

function workerArb(id: string, params: string[]): fc.Arbitrary<WorkerSpec> {
  const ref = params.length > 0 ? [fc.constantFrom(...params).map((p) => ({ param: p }))] : [];
  const period = fc.oneof(fc.integer({ min: 1, max: 200 }), ...ref);
  return fc.constantFrom(...(Object.keys(KINDS) as WorkerKind[])).chain((kind) => {
    const k = KINDS[kind];
    const values: Record<string, fc.Arbitrary<unknown>> = {};
    if (kind === 'macd') {
      values.fast = fc.oneof(fc.constant(12), ...ref);
      values.slow = fc.oneof(fc.constant(26), ...ref);
      values.signal = period;
    } else {
      values.period = period;
      if (kind === 'bollinger') values.deviations = fc.oneof(fc.double({ min: 0.1, max: 5, noNaN: true }), ...ref);
      if (kind === 'envelope') values.percent = fc.oneof(fc.double({ min: 0.01, max: 99, noNaN: true }), ...ref);
    }
    if (k.source) values.source = opt(fc.constantFrom('open', 'high', 'low', 'close'));
    return fc
      .record({ timeframe, params: fc.record(values) })
      .map(
        ({ timeframe: tf, params: p }) =>
          ({ id, kind, timeframe: tf, params: compact(p as Record<string, unknown>) }) as WorkerSpec,
      );
  });
}

interface Scope {
  params: string[];
  workers: WorkerSpec[];
}

function exprArbs(scope: Scope, depth: number) {
  const number = finite.map((x) => x as Expr);
  const params = scope.params.length > 0 ? [fc.constantFrom(...scope.params).map((p) => ({ param: p }) as Expr)] : [];
  const workers =
    scope.workers.length > 0
      ? [
          fc
            .record({
              w: fc.constantFrom(...scope.workers),
              pick: fc.nat(2),
              explicit: fc.boolean(),
              offset: opt(fc.nat(5)),
            })
            .map(({ w, pick, explicit, offset }) => {
              const outs = KINDS[w.kind].outputs;
              const output = outs.length > 1 || explicit ? outs[pick % outs.length] : undefined;
              return compact({ worker: w.id, output, offset }) as Expr;
            }),
        ]
      : [];
  const field = fc.constantFrom('time', 'open', 'high', 'low', 'close', 'volume');
  const bar = fc
    .record({ bar: field, timeframe: opt(timeframe), offset: opt(fc.nat(5)) })
    .map((r) => compact(r) as Expr);
  const forming = fc.record({ forming: field, timeframe: opt(timeframe) }).map((r) => compact(r) as Expr);
  const state = fc.oneof(
    fc.constantFrom('bid', 'ask', 'mid', 'spread').map((q) => ({ quote: q }) as Expr),
    fc.constantFrom('side', 'lots', 'entryPrice', 'pnl', 'pnlPips').map((p) => ({ position: p }) as Expr),
    fc.constantFrom('balance', 'equity').map((a) => ({ account: a }) as Expr),
    fc.constantFrom('hour', 'minute', 'weekday', 'minuteOfDay').map((t) => ({ time: t }) as Expr),
  );
  const crossLeaf = fc.oneof(number, bar, ...params, ...workers);
  const numLeaf = fc.oneof(crossLeaf, forming, state);
  const boolLeaf = fc.boolean().map((b) => b as Expr);

  let num: fc.Arbitrary<Expr> = numLeaf;
  let cross: fc.Arbitrary<Expr> = crossLeaf;
  let bool: fc.Arbitrary<Expr> = boolLeaf;
  const arith = (inner: fc.Arbitrary<Expr>) =>
    fc.oneof(
      fc
        .record({
          op: fc.constantFrom('+', '-', '*', '/', 'min', 'max'),
          args: fc.array(inner, { minLength: 2, maxLength: 3 }),
        })
        .map((r) => r as Expr),
      fc.record({ op: fc.constantFrom('neg', 'abs'), args: fc.tuple(inner) }).map((r) => r as Expr),
    );
  for (let d = 0; d < depth; d++) {
    const [n, c, b] = [num, cross, bool];
    num = fc.oneof({ weight: 2, arbitrary: numLeaf }, { weight: 1, arbitrary: arith(n) });
    cross = fc.oneof({ weight: 2, arbitrary: crossLeaf }, { weight: 1, arbitrary: arith(c) });
    bool = fc.oneof(
      boolLeaf,
      fc.record({ op: fc.constantFrom('>', '>=', '<', '<=', '==', '!='), args: fc.tuple(n, n) }).map((r) => r as Expr),
      fc.record({ op: fc.constantFrom('crossAbove', 'crossBelow'), args: fc.tuple(c, c) }).map((r) => r as Expr),
      fc
        .record({ op: fc.constantFrom('and', 'or'), args: fc.array(b, { minLength: 2, maxLength: 3 }) })
        .map((r) => r as Expr),
      fc.record({ op: fc.constant('not'), args: fc.tuple(b) }).map((r) => r as Expr),
    );
  }
  return { num, bool };
}

function actionArb(num: fc.Arbitrary<Expr>): fc.Arbitrary<Action> {
  const level: fc.Arbitrary<Level> = fc.oneof(
    num.map((e) => ({ pips: e })),
    num.map((e) => ({ price: e })),
  );
  const order = fc
    .record({
      action: fc.constantFrom('buy', 'sell'),
      order: fc.constantFrom(undefined, 'market', 'limit', 'stop'),
      price: num,
      sizing: fc.constantFrom('lots', 'risk'),
      size: num,
      sl: opt(level),
      slForRisk: level,
      tp: opt(level),
      trail: opt(num.map((e) => ({ pips: e }))),
    })
    .map(
      (r) =>
        compact({
          action: r.action,
          order: r.order,
          price: r.order === 'limit' || r.order === 'stop' ? r.price : undefined,
          lots: r.sizing === 'lots' ? r.size : undefined,
          risk: r.sizing === 'risk' ? r.size : undefined,
          sl: r.sizing === 'risk' ? (r.sl ?? r.slForRisk) : r.sl,
          tp: r.tp,
          trail: r.trail,
        }) as Action,
    );
  return fc.oneof(
    { weight: 4, arbitrary: order },
    fc.constant({ action: 'close' } as Action),
    fc.constant({ action: 'cancel' } as Action),
  );
}

const strategyArb: fc.Arbitrary<StrategyIR> = fc
  .record({
    name: fc.oneof(fc.constantFrom('s', 'rsi-envelope', 'two words'), fc.string({ maxLength: 8 })),
    symbol: opt(fc.string({ minLength: 1, maxLength: 6 })),
    params: opt(fc.uniqueArray(fc.tuple(paramName, paramSpec), { maxLength: 4, selector: ([n]) => n })),
    workerIds: opt(fc.uniqueArray(workerId, { maxLength: 4 })),
    decision: fc.record({ timeframe, on: opt(fc.constantFrom('bar', 'tick')) }).map((d) => compact(d)),
  })
  .chain(({ name, symbol, params, workerIds, decision }) => {
    const paramNames = (params ?? []).map(([n]) => n);
    const workers =
      workerIds === undefined ? fc.constant(undefined) : fc.tuple(...workerIds.map((id) => workerArb(id, paramNames)));
    return workers.chain((ws) => {
      const { num, bool } = exprArbs({ params: paramNames, workers: ws ?? [] }, 3);
      const rule: fc.Arbitrary<Rule> = fc.record({
        when: bool,
        then: fc.array(actionArb(num), { minLength: 1, maxLength: 3 }),
      });
      return fc.array(rule, { maxLength: 3 }).map((rules) => {
        const ir: StrategyIR = { version: 1, name, decision: decision as StrategyIR['decision'], rules };
        const out = compact({
          version: 1,
          name,
          symbol,
          params: params === undefined ? undefined : Object.fromEntries(params),
          decision: ir.decision,
          workers: ws === undefined ? undefined : [...ws],
          rules,
        }) as StrategyIR;
        return out;
      });
    });
  });

describe('IR -> DSL -> IR on random valid strategies', () => {
  it('is the identity', () => {
    fc.assert(
      fc.property(strategyArb, (generated) => {
        // fast-check builds records without a prototype; the IR is plain objects.
        const ir = structuredClone(generated);
        parseStrategy(ir);
        const { text, back } = roundTrip(ir);
        expect(back, text).toStrictEqual(ir);
      }),
      { seed: 20261122, numRuns: 300 },
    );
  });
});
