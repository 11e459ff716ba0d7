// biome-ignore-all lint/suspicious/noExplicitAny: the tests build JSON documents of any shape
/**
 * The one table of limits (crates/core/limits.json): the TypeScript validator and the Rust engine
 * read the same file and refuse exactly the same strategies, each refusal a ValidationError naming
 * the path; nothing allocates in proportion to a number before it is checked. The property test
 * sends random strategies straight to the native binding (past the TypeScript checks), so the
 * Rust engine's own checks are compared with the validator's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import shared from '../crates/core/limits.json' with { type: 'json' };
import { backtestSync, prepare, toNative } from '../src/backtest.js';
import { check } from '../src/dsl/index.js';
import { loadNative, type NativeBinding } from '../src/engine/native.js';
import { ValidationError } from '../src/errors.js';
import { generateTicks } from '../src/generate.js';
import { LIMITS } from '../src/ir/limits.js';
import { parseStrategy, resolveParams } from '../src/ir/validate.js';
import type { StrategyIR } from '../src/types.js';

const ticks = generateTicks({ symbol: 'EURUSD', start: Date.UTC(2024, 0, 1), days: 0.25, seed: 3 });
const ENGINES = ['native', 'js'] as const;

function strategy(workers: any[], when: any, extra: Record<string, any> = {}): StrategyIR {
  return {
    version: 1,
    name: 'limits',
    decision: { timeframe: 'M5' },
    workers,
    rules: [{ when, then: [{ action: 'buy', lots: 1 }] }],
    ...extra,
  } as StrategyIR;
}
const sma = (period: unknown) => ({ id: 's', kind: 'sma', timeframe: 'M5', params: { period } });
const closeAbove = { op: '>', args: [{ bar: 'close' }, { worker: 's' }] };

/** `(> (+ (+ ... 1 ...)) 0)` of `depth` levels, the leaf `1` being level `depth`. */
function nested(depth: number): any {
  let e: any = 1;
  for (let d = 2; d < depth; d++) e = { op: '+', args: [e, 1] };
  return { op: '>', args: [e, 0] };
}

/** The issues each engine raises for `s` (undefined when it runs). */
function outcome(s: StrategyIR, engine: 'native' | 'js', params?: Record<string, number>) {
  try {
    backtestSync({ ticks, strategy: s, engine, ...(params ? { params } : {}) });
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as Error).name).toBe('ValidationError');
    return (e as ValidationError).issues;
  }
}

describe('the shared table', () => {
  it('is the file both engines read', () => {
    expect(LIMITS).toEqual({
      period: shared.period,
      offset: shared.offset,
      expressionDepth: shared.expressionDepth,
      operationArgs: shared.operationArgs,
    });
  });
});

describe('both engines refuse what lies outside the limits, at its path', () => {
  for (const engine of ENGINES) {
    it(`periods (${engine})`, () => {
      for (const period of [2 ** 32, 2 ** 52, 1e300, LIMITS.period.max + 1, 0, 1.5]) {
        expect(outcome(strategy([sma(period)], closeAbove), engine)).toEqual([
          {
            path: 'strategy.workers[0].params.period',
            message: `period must be an integer from ${LIMITS.period.min} to ${LIMITS.period.max}, got ${period}`,
          },
        ]);
      }
      expect(outcome(strategy([sma(LIMITS.period.max)], closeAbove), engine)).toBeUndefined();
      const ema = { id: 's', kind: 'ema', timeframe: 'M5', params: { period: 1e300 } };
      expect(outcome(strategy([ema], closeAbove), engine)?.[0]?.path).toBe('strategy.workers[0].params.period');
    });

    it(`periods that come from a parameter value (${engine})`, () => {
      const s = strategy([sma({ param: 'p' })], closeAbove, { params: { p: { default: 20, type: 'int' } } });
      expect(outcome(s, engine, { p: 20 })).toBeUndefined();
      const issues = outcome(s, engine, { p: 2 ** 32 });
      expect(issues?.[0]?.message).toContain(`from ${LIMITS.period.min} to ${LIMITS.period.max}`);
    });

    it(`offsets (${engine})`, () => {
      const at = (offset: number) =>
        strategy([sma(3)], {
          op: '>',
          args: [
            { bar: 'close', offset },
            { worker: 's', offset },
          ],
        });
      expect(outcome(at(LIMITS.offset.max), engine)).toBeUndefined();
      expect(outcome(at(2 ** 40), engine)?.map((i) => i.path)).toEqual([
        'strategy.rules[0].when.args[0].offset',
        'strategy.rules[0].when.args[1].offset',
      ]);
    });

    it(`expression depth (${engine})`, () => {
      expect(outcome(strategy([], nested(LIMITS.expressionDepth)), engine)).toBeUndefined();
      for (const depth of [LIMITS.expressionDepth + 1, 2000, 100_000]) {
        const issues = outcome(strategy([], nested(depth)), engine);
        expect(issues).toHaveLength(1);
        expect(issues?.[0]?.message).toBe(
          `the expression nests deeper than ${LIMITS.expressionDepth} levels (the limit)`,
        );
        expect(issues?.[0]?.path).toMatch(/^strategy\.rules\[0\]\.when(\.args\[0\])+$/);
      }
    });

    it(`operation width (${engine})`, () => {
      const wide = (n: number) => strategy([], { op: '>', args: [{ op: '+', args: new Array(n).fill(1) }, 0] });
      expect(outcome(wide(LIMITS.operationArgs), engine)).toBeUndefined();
      expect(outcome(wide(10_000), engine)).toEqual([
        {
          path: 'strategy.rules[0].when.args[0].args',
          message: `10000 arguments, more than the limit of ${LIMITS.operationArgs}`,
        },
      ]);
    });

    it(`strings with a lone surrogate (${engine})`, () => {
      expect(outcome(strategy([sma(3)], closeAbove, { name: 'x\uD800y' }), engine)).toEqual([
        { path: 'strategy.name', message: 'the string holds a lone UTF-16 surrogate' },
      ]);
      expect(outcome(strategy([sma(3)], closeAbove, { name: 'emoji \u{1F600}' }), engine)).toBeUndefined();
    });
  }
});

describe('the DSL checker shares the depth limit', () => {
  const file = (depth: number) => {
    let e = '1';
    for (let d = 2; d < depth; d++) e = `(+ ${e} 1)`;
    return `(defstrategy deep {:timeframe :M5}\n  (when (> ${e} 0) (buy :lots 1)))\n`;
  };
  it('accepts what both engines run and refuses one level more, at line:column', () => {
    expect(check(file(LIMITS.expressionDepth), { file: 'deep.clj' })).toEqual([]);
    const found = check(file(LIMITS.expressionDepth + 1), { file: 'deep.clj' });
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toContain(`deeper than ${LIMITS.expressionDepth} levels`);
    expect(found[0]).toMatchObject({ file: 'deep.clj', line: 2 });
  });
});

// ---------------------------------------------------------------- property: same verdict natively

const EDGE_INTS = [
  0,
  1,
  2,
  14,
  LIMITS.period.max - 1,
  LIMITS.period.max,
  LIMITS.period.max + 1,
  2 ** 31,
  2 ** 32,
  2 ** 52,
  2 ** 53 + 2,
  1e300,
  -1,
  -0,
  1.5,
  5e-324,
];
const KINDS = ['sma', 'ema', 'rsi', 'atr', 'bollinger', 'envelope', 'macd', 'vwap'];

const arbNumber = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...EDGE_INTS) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 60 }) },
  { weight: 1, arbitrary: fc.double() },
);

const arbWorker = fc
  .record({
    kind: fc.constantFrom(...KINDS),
    timeframe: fc.constantFrom('M5', 'M15', 'H1', 'M1', 'W1'),
    period: fc.oneof(arbNumber, fc.constant({ param: 'p' })),
    fast: arbNumber,
    slow: arbNumber,
    signal: arbNumber,
    deviations: arbNumber,
    percent: arbNumber,
  })
  .map((w) => {
    const params: Record<string, unknown> =
      w.kind === 'macd'
        ? { fast: w.fast, slow: w.slow, signal: w.signal }
        : w.kind === 'bollinger'
          ? { period: w.period, deviations: w.deviations }
          : w.kind === 'envelope'
            ? { period: w.period, percent: w.percent }
            : { period: w.period };
    return { kind: w.kind, timeframe: w.timeframe, params };
  });

const arbLeaf = fc.oneof(
  arbNumber,
  fc.record({
    bar: fc.constantFrom('close', 'high', 'close', 'nope'),
    offset: fc.constantFrom(0, 1, 100_000, 100_001, 2 ** 40, -1),
  }),
  fc.record({ worker: fc.constant('w0'), offset: fc.constantFrom(0, 3, 100_000, 100_001, 2 ** 40) }),
  fc.constant({ param: 'p' }),
  fc.constant({ quote: 'mid' }),
);

const arbExpr = fc.letrec((tie) => ({
  num: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    arbLeaf,
    fc.record({
      op: fc.constantFrom('+', '*', 'max', 'neg'),
      args: fc.array(tie('num'), { minLength: 1, maxLength: 3 }),
    }),
  ),
  bool: fc.record({ op: fc.constantFrom('>', '<', '>='), args: fc.array(tie('num'), { minLength: 2, maxLength: 2 }) }),
}));

const arbWhen = fc.oneof(
  { weight: 4, arbitrary: arbExpr.bool },
  {
    weight: 1,
    arbitrary: fc.integer({ min: LIMITS.expressionDepth - 2, max: LIMITS.expressionDepth + 2 }).map(nested),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(LIMITS.operationArgs - 1, LIMITS.operationArgs, LIMITS.operationArgs + 1)
      .map((n) => ({ op: '>', args: [{ op: 'min', args: new Array(n).fill(2) }, 1] })),
  },
);

const arbStrategy = fc.record({
  name: fc.oneof(
    { weight: 6, arbitrary: fc.constant('p') },
    { weight: 1, arbitrary: fc.constant('a\uDC00') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  ),
  workers: fc.array(arbWorker, { maxLength: 2 }).map((ws) => ws.map((w, i) => ({ id: `w${i}`, ...w }))),
  when: arbWhen,
  p: fc.oneof(fc.constantFrom(3, 2 ** 32, LIMITS.period.max + 1), fc.integer({ min: -2, max: 50 })),
});

describe('the Rust engine and the validator accept and refuse the same strategies', () => {
  const binding = loadNative() as NativeBinding;
  const base = prepare({ ticks, strategy: strategy([], nested(2)), engine: 'native' });
  const handle = toNative(binding, base.market);
  const config = JSON.stringify(base.config);

  it('over random strategies with the edge values', () => {
    const verdicts = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(arbStrategy, (a) => {
        const s = {
          version: 1,
          name: a.name,
          params: { p: { default: 3, type: 'int' } },
          decision: { timeframe: 'M5' },
          workers: a.workers,
          rules: [{ when: a.when, then: [{ action: 'buy', lots: 1 }] }],
        };
        let tsRefusal: string | undefined;
        try {
          resolveParams(parseStrategy(s), { p: a.p });
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
          tsRefusal = e.message;
        }
        const r = binding.backtestSync(handle, JSON.stringify(s), JSON.stringify({ p: a.p }), config, null, {});
        const nativeRefusal = r.errorCode === 'ERR_TICKFORGE_VALIDATION' ? (r.errorMessage ?? '') : undefined;
        if (r.errorCode && r.errorCode !== 'ERR_TICKFORGE_VALIDATION') {
          throw new Error(`native ${r.errorCode}: ${r.errorMessage}`);
        }
        if ((tsRefusal === undefined) !== (nativeRefusal === undefined)) {
          throw new Error(`validator: ${tsRefusal ?? 'accepts'}\nnative: ${nativeRefusal ?? 'accepts'}`);
        }
        verdicts[tsRefusal === undefined ? 'accepted' : 'refused']++;
      }),
      { seed: 9, numRuns: 600 },
    );
    // The generator reaches both sides of the limits.
    expect(verdicts.accepted).toBeGreaterThan(50);
    expect(verdicts.refused).toBeGreaterThan(50);
  });
});

describe('long names in errors', () => {
  it('get no near-miss suggestion (its distance would cost time in proportion to the length)', () => {
    const when = { op: '>', args: new Array(1000).fill({ account: 'x'.repeat(10_000) }) };
    let issues: { message: string }[] = [];
    try {
      parseStrategy(strategy([], when));
    } catch (e) {
      issues = (e as ValidationError).issues;
    }
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((i) => !i.message.includes('did you mean'))).toBe(true);
  });
});
