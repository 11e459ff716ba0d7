// biome-ignore-all lint/suspicious/noExplicitAny: the tests edit deep copies of JSON documents
// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { editDistance, parseStrategy, resolveParams, suggest } from '../src/ir/validate.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import type { StrategyIR } from '../src/types.js';

/** The issues `f` throws, as `path: message` lines. */
function issues(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ValidationError');
}

const clone = (): Record<string, any> => structuredClone(referenceStrategy) as unknown as Record<string, any>;
const parseIssues = (s: unknown) => issues(() => parseStrategy(s));
/** A strategy whose first rule's condition is `when`. */
const withWhen = (when: unknown) => {
  const s = clone();
  s.rules[0].when = when;
  return s;
};

describe('parseStrategy', () => {
  it('accepts the reference strategy and returns a copy', () => {
    const ir = parseStrategy(referenceStrategy);
    expect(ir).toEqual(referenceStrategy);
    expect(ir).not.toBe(referenceStrategy);
  });

  it('rejects a non-object and missing top-level fields', () => {
    expect(parseIssues(42)).toEqual(['strategy: expected a strategy object, got 42']);
    expect(parseIssues({})).toEqual([
      'strategy.version: missing required field',
      'strategy.name: missing required field',
      'strategy.decision: missing required field',
      'strategy.rules: missing required field',
    ]);
  });

  it('reports unknown fields with a near-miss suggestion', () => {
    const s = clone();
    s.nmae = 'x';
    s.rules[0].then[0].slip = 1;
    s.rules[0].when.args[1].args[0].outptu = 'value';
    expect(parseIssues(s)).toEqual([
      "strategy.nmae: unknown field 'nmae' (expected one of version, name, symbol, params, decision, workers, rules); did you mean 'name'?",
      "strategy.rules[0].when.args[1].args[0].outptu: unknown field 'outptu' (expected one of worker, output, offset); did you mean 'output'?",
      "strategy.rules[0].then[0].slip: unknown field 'slip' (expected one of action, order, price, lots, risk, sl, tp, trail)",
    ]);
  });

  it('checks version, timeframes and the decision trigger', () => {
    const s = clone();
    s.version = 2;
    s.decision = { timeframe: 'M2', on: 'bars' };
    s.workers[1].timeframe = 'h1';
    expect(parseIssues(s)).toEqual([
      'strategy.version: unsupported version 2 (expected 1)',
      "strategy.decision.timeframe: unknown timeframe 'M2' (expected one of M1, M5, M15, M30, H1, H4, D1); did you mean 'M1'?",
      "strategy.decision.on: unknown decision trigger 'bars' (expected one of bar, tick)",
      "strategy.workers[1].timeframe: unknown timeframe 'h1' (expected one of M1, M5, M15, M30, H1, H4, D1); did you mean 'H1'?",
    ]);
  });

  it('rejects an unknown worker kind, suggesting the closest', () => {
    const s = clone();
    s.workers[1].kind = 'rsii';
    expect(parseIssues(s)).toEqual([
      "strategy.workers[1].kind: unknown worker kind 'rsii' (expected one of sma, ema, rsi, atr, bollinger, envelope, macd); did you mean 'rsi'?",
    ]);
  });

  it('rejects invalid and duplicate worker ids', () => {
    const s = clone();
    s.workers[1].id = 'rsi';
    s.workers.push({ id: '9x', kind: 'sma', timeframe: 'M5', params: { period: 3 } });
    const out = parseIssues(s);
    expect(out[0]).toBe("strategy.workers[1].id: duplicate worker id 'rsi'");
    expect(out[1]).toMatch(/^strategy\.workers\[2\]\.id: invalid worker id '9x'/);
    // The references to the lost 'env' are reported too.
    expect(out.slice(2)).toEqual([
      "strategy.rules[0].when.args[2].args[1].worker: unknown worker 'env' (workers: rsi)",
      "strategy.rules[1].when.args[2].args[1].worker: unknown worker 'env' (workers: rsi)",
    ]);
  });

  it('reports unknown worker references with the declared ids and a suggestion', () => {
    const s = withWhen({ op: '<', args: [30, { worker: 'rsii' }] });
    expect(parseIssues(s)).toEqual([
      "strategy.rules[0].when.args[1].worker: unknown worker 'rsii' (workers: rsi, env); did you mean 'rsi'?",
    ]);
  });

  it('checks output names: unknown, and required for multi-output kinds', () => {
    const s = clone();
    s.rules[0].when.args[2].args[1].output = 'lowr';
    delete s.rules[1].when.args[2].args[1].output;
    s.rules[1].when.args[1].args[0].output = 'signal';
    expect(parseIssues(s)).toEqual([
      "strategy.rules[0].when.args[2].args[1].output: unknown output 'lowr' for envelope worker 'env' (outputs: upper, middle, lower); did you mean 'lower'?",
      "strategy.rules[1].when.args[1].args[0].output: unknown output 'signal' for rsi worker 'rsi' (outputs: value)",
      "strategy.rules[1].when.args[2].args[1].output: envelope worker 'env' has several outputs; 'output' is required (one of upper, middle, lower)",
    ]);
  });

  it('checks worker parameters: missing, unknown, out of the table, bad source, unknown param refs', () => {
    const s = clone();
    s.workers = [
      { id: 'a', kind: 'rsi', timeframe: 'M5', params: { perod: 14 } },
      { id: 'b', kind: 'envelope', timeframe: 'M5', params: { period: 0, percent: 100, source: 'hl2' } },
      { id: 'c', kind: 'macd', timeframe: 'M5', params: { fast: 26, slow: 12, signal: 9 } },
      { id: 'd', kind: 'bollinger', timeframe: 'M5', params: { period: 2.5, deviations: 0 } },
      { id: 'e', kind: 'atr', timeframe: 'M5', params: { period: { param: 'rsiPeriodd' }, source: 'close' } },
      { id: 'f', kind: 'sma', timeframe: 'M5', params: { period: '3' } },
    ];
    s.rules = [{ when: true, then: [{ action: 'close' }] }];
    expect(parseIssues(s)).toEqual([
      "strategy.workers[0].params.perod: unknown parameter 'perod' for rsi (expected one of period, source); did you mean 'period'?",
      "strategy.workers[0].params.period: missing required parameter 'period' for rsi",
      "strategy.workers[1].params.source: unknown source 'hl2' (expected one of open, high, low, close)",
      'strategy.workers[1].params.period: period must be an integer from 1 to 100000, got 0',
      'strategy.workers[1].params.percent: percent must be > 0 and < 100, got 100',
      'strategy.workers[2].params.fast: fast (26) must be less than slow (12)',
      'strategy.workers[3].params.period: period must be an integer from 1 to 100000, got 2.5',
      'strategy.workers[3].params.deviations: deviations must be a finite number > 0, got 0',
      "strategy.workers[4].params.source: unknown parameter 'source' for atr (expected one of period)",
      "strategy.workers[4].params.period.param: unknown parameter 'rsiPeriodd' (strategy has: rsiPeriod, slPips, tpPips, lots); did you mean 'rsiPeriod'?",
      'strategy.workers[5].params.period: expected a number or { "param": name }, got \'3\'',
    ]);
  });

  it('checks the param specs', () => {
    const s = clone();
    s.params = {
      a: { default: 2.5, type: 'int' },
      b: { default: 1, min: 2 },
      c: { default: 5, min: 3, max: 1 },
      d: { type: 'double', default: 'x' },
    };
    s.workers = [];
    s.rules = [];
    expect(parseIssues(s)).toEqual([
      'strategy.params.a.default: 2.5 is not an integer',
      'strategy.params.b.default: 1 is below min 2',
      'strategy.params.c.min: min 3 is above max 1',
      'strategy.params.c.default: 5 is above max 1',
      "strategy.params.d.default: expected a finite number, got 'x'",
      "strategy.params.d.type: unknown parameter type 'double' (expected one of int, float)",
    ]);
  });

  it('types expressions: number versus boolean at the offending path', () => {
    expect(parseIssues(withWhen({ worker: 'rsi' }))).toEqual([
      'strategy.rules[0].when: expected a boolean expression, got a number expression',
    ]);
    expect(
      parseIssues(
        withWhen({
          op: '>',
          args: [
            { op: '+', args: [true, 1] },
            { op: 'not', args: [1] },
          ],
        }),
      ),
    ).toEqual([
      'strategy.rules[0].when.args[0].args[0]: expected a number expression, got a boolean expression',
      'strategy.rules[0].when.args[1].args[0]: expected a boolean expression, got a number expression',
      'strategy.rules[0].when.args[1]: expected a number expression, got a boolean expression',
    ]);
    const s = clone();
    s.rules[0].then[0].lots = { op: '<', args: [1, 2] };
    expect(parseIssues(s)).toEqual([
      'strategy.rules[0].then[0].lots: expected a number expression, got a boolean expression',
    ]);
  });

  it('checks operator arity', () => {
    const when = {
      op: 'and',
      args: [
        { op: '<', args: [1, 2, 3] },
        { op: 'not', args: [true, false] },
        { op: 'or', args: [true] },
        { op: '+', args: [1] },
        { op: 'neg', args: [] },
      ],
    };
    expect(parseIssues(withWhen(when))).toEqual([
      "strategy.rules[0].when.args[0].args: '<' takes exactly 2 arguments, got 3",
      "strategy.rules[0].when.args[1].args: 'not' takes exactly 1 argument, got 2",
      "strategy.rules[0].when.args[2].args: 'or' takes at least 2 arguments, got 1",
      "strategy.rules[0].when.args[3].args: '+' takes at least 2 arguments, got 1",
      'strategy.rules[0].when.args[3]: expected a boolean expression, got a number expression',
      "strategy.rules[0].when.args[4].args: 'neg' takes exactly 1 argument, got 0",
      'strategy.rules[0].when.args[4]: expected a boolean expression, got a number expression',
    ]);
  });

  it('rejects unknown operators and malformed expressions', () => {
    const when = {
      op: 'adn',
      args: [],
    };
    expect(parseIssues(withWhen(when))).toEqual([
      "strategy.rules[0].when.op: unknown operator 'adn' (expected one of +, -, *, /, min, max, >, >=, <, <=, ==, !=, and, or, not, neg, abs, crossAbove, crossBelow); did you mean 'and'?",
    ]);
    expect(parseIssues(withWhen({ op: '>', args: [{ workr: 'rsi' }, null] }))).toEqual([
      "strategy.rules[0].when.args[0]: unknown expression (expected an object with one of op, param, worker, bar, forming, quote, position, account, time); did you mean 'worker'?",
      'strategy.rules[0].when.args[1]: expected an expression (number, true/false or object), got null',
    ]);
    expect(
      parseIssues(
        withWhen({
          op: '>',
          args: [
            { bar: 'clos', offset: -1 },
            { quote: 'mid', timeframe: 'M5' },
          ],
        }),
      ),
    ).toEqual([
      "strategy.rules[0].when.args[0].bar: unknown bar field 'clos' (expected one of time, open, high, low, close, volume); did you mean 'close'?",
      'strategy.rules[0].when.args[0].offset: expected an integer from 0 to 100000, got -1',
      "strategy.rules[0].when.args[1].timeframe: unknown field 'timeframe' (expected one of quote)",
    ]);
    expect(parseIssues(withWhen({ op: '>', args: [{ param: 'slpips' }, Number.NaN] }))).toEqual([
      "strategy.rules[0].when.args[0].param: unknown parameter 'slpips' (strategy has: rsiPeriod, slPips, tpPips, lots); did you mean 'slPips'?",
      'strategy.rules[0].when.args[1]: expected a finite number, got NaN',
    ]);
  });

  it('restricts cross arguments', () => {
    const when = {
      op: 'crossAbove',
      args: [
        { op: '+', args: [{ worker: 'rsi', offset: 2 }, { param: 'slPips' }] },
        { op: 'max', args: [{ quote: 'bid' }, 1] },
      ],
    };
    expect(parseIssues(withWhen(when))).toEqual([
      "strategy.rules[0].when.args[1].args[0]: 'quote' is not allowed inside crossAbove (its arguments may contain only numbers, params, worker and bar references and + - * / neg abs min max)",
    ]);
    const nested = { op: 'crossBelow', args: [{ forming: 'close' }, { op: 'crossAbove', args: [1, 2] }] };
    const out = parseIssues(withWhen(nested));
    expect(out[0]).toMatch(/^strategy\.rules\[0\]\.when\.args\[0\]: 'forming' is not allowed inside crossBelow/);
    expect(out[1]).toMatch(
      /^strategy\.rules\[0\]\.when\.args\[1\]: operator 'crossAbove' is not allowed inside crossBelow/,
    );
    expect(out[2]).toBe('strategy.rules[0].when.args[1]: expected a number expression, got a boolean expression');
  });

  it('checks actions and levels', () => {
    const s = clone();
    s.rules[0].then = [];
    s.rules[1].then = [
      { action: 'buyy', lots: 1 },
      { action: 'sell' },
      { action: 'close', lots: 1 },
      { action: 'buy', lots: 1, sl: { pips: 10, price: 1.1 }, tp: 40 },
    ];
    expect(parseIssues(s)).toEqual([
      'strategy.rules[0].then: a rule needs at least one action',
      "strategy.rules[1].then[0].action: unknown action 'buyy' (expected one of buy, sell, close, cancel); did you mean 'buy'?",
      'strategy.rules[1].then[1].lots: missing required field',
      "strategy.rules[1].then[2].lots: unknown field 'lots' (expected one of action)",
      "strategy.rules[1].then[3].sl: give either 'pips' or 'price', not both",
      'strategy.rules[1].then[3].tp: expected { "pips": Expr } or { "price": Expr }, got 40',
    ]);
  });

  it('collects several problems from different places in one error', () => {
    const s = clone();
    s.workers[0].kind = 'rsii';
    s.workers[1].params.percent = -2;
    s.rules[0].when.args[1] = { op: '<', args: [{ worker: 'rsi' }] };
    s.rules[1].then[0].tp = { pips: true };
    const e = (() => {
      try {
        parseStrategy(s);
      } catch (err) {
        return err as ValidationError;
      }
      throw new Error('expected a ValidationError');
    })();
    expect(e.code).toBe('ERR_TICKFORGE_VALIDATION');
    expect(e.issues.map((i) => i.path)).toEqual([
      'strategy.workers[0].kind',
      'strategy.workers[1].params.percent',
      'strategy.rules[0].when.args[1].args',
      'strategy.rules[1].then[0].tp.pips',
    ]);
    expect(e.message.split('\n')).toHaveLength(4);
  });
});

describe('resolveParams', () => {
  const ir = parseStrategy(referenceStrategy);

  it('fills defaults and applies overrides', () => {
    expect(resolveParams(ir, undefined)).toEqual({ rsiPeriod: 14, slPips: 20, tpPips: 40, lots: 1 });
    expect(resolveParams(ir, { rsiPeriod: 7, lots: 0.5 })).toEqual({ rsiPeriod: 7, slPips: 20, tpPips: 40, lots: 0.5 });
  });

  it('collects unknown names, non-numbers, non-integers and out-of-range values', () => {
    expect(issues(() => resolveParams(ir, { rsiperiod: 3, slPips: '20', tpPips: Number.POSITIVE_INFINITY }))).toEqual([
      "params.rsiperiod: unknown parameter (strategy has: rsiPeriod, slPips, tpPips, lots); did you mean 'rsiPeriod'?",
      "params.slPips: expected a finite number, got '20'",
      'params.tpPips: expected a finite number, got Infinity',
    ]);
    expect(issues(() => resolveParams(ir, { rsiPeriod: 1.5 }))).toEqual([
      'params.rsiPeriod: 1.5 is not an integer',
      'params.rsiPeriod: 1.5 is below min 2',
    ]);
    const bounded = parseStrategy({
      ...referenceStrategy,
      params: { ...referenceStrategy.params, x: { default: 1, max: 3 } },
    });
    expect(issues(() => resolveParams(bounded, { x: 4 }))).toEqual(['params.x: 4 is above max 3']);
    expect(issues(() => resolveParams(ir, [1]))).toEqual([
      'params: expected an object of parameter values, got an array',
    ]);
  });

  it('checks worker parameters after substitution at the worker path', () => {
    const s: StrategyIR = {
      version: 1,
      name: 'p',
      params: { p: { default: 3 }, f: { default: 12, type: 'int' }, pct: { default: 1 } },
      decision: { timeframe: 'M1' },
      workers: [
        { id: 'a', kind: 'sma', timeframe: 'M1', params: { period: { param: 'p' } } },
        { id: 'm', kind: 'macd', timeframe: 'M1', params: { fast: { param: 'f' }, slow: 26, signal: 9 } },
        { id: 'e', kind: 'envelope', timeframe: 'M1', params: { period: 5, percent: { param: 'pct' } } },
      ],
      rules: [],
    };
    const ir2 = parseStrategy(s);
    expect(resolveParams(ir2, { p: 4 })).toEqual({ p: 4, f: 12, pct: 1 });
    expect(issues(() => resolveParams(ir2, { p: 2.5, f: 30, pct: 150 }))).toEqual([
      "strategy.workers[0].params.period: period must be an integer from 1 to 100000, got 2.5 (from param 'p')",
      "strategy.workers[1].params.fast: fast (30) must be less than slow (26) (from param 'f')",
      "strategy.workers[2].params.percent: percent must be > 0 and < 100, got 150 (from param 'pct')",
    ]);
  });
});

describe('near-miss suggestions', () => {
  it('uses a small edit distance', () => {
    expect(editDistance('rsii', 'rsi')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(suggest('rsii', ['sma', 'rsi'])).toBe("; did you mean 'rsi'?");
    expect(suggest('bolinger', ['bollinger', 'envelope'])).toBe("; did you mean 'bollinger'?");
    expect(suggest('xyz', ['sma', 'rsi'])).toBe('');
    expect(suggest('rsi', ['rsi'])).toBe('');
  });
});
