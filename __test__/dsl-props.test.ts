/**
 * Properties of the DSL front end over random input (fast-check, fixed seed): nothing but a
 * DslError ever escapes, printing reads back to the same forms, and formatting is a fixed point.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Form } from '../src/dsl/ast.js';
import { DslError } from '../src/dsl/errors.js';
import { check, compile, format } from '../src/dsl/index.js';
import { printForms } from '../src/dsl/print.js';
import { read } from '../src/dsl/reader.js';

const SEED = 20261122;
const RUNS = 400;

const loc = { file: 'gen', line: 0, column: 0, start: 0, end: 0 };
const symbolChars = 'abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_?!*+<>=/.';
const symbolName = fc
  .tuple(
    fc.constantFrom(...'abcxyzQRS-_*+!?<>=/'.split('')),
    fc.array(fc.constantFrom(...symbolChars.split('')), { maxLength: 8 }),
  )
  .map(([h, t]) => h + t.join(''))
  // A sign followed by a digit reads as a number, and these three are literals.
  .filter((s) => !/^[+-]\d/.test(s) && !['true', 'false', 'nil'].includes(s));

const atom: fc.Arbitrary<Form> = fc.oneof(
  fc.oneof(fc.integer({ min: -1e9, max: 1e9 }), fc.double({ noNaN: true, noDefaultInfinity: true })).map((n) => {
    const v = Object.is(n, -0) ? 0 : n;
    return { kind: 'number', value: v, text: String(v), loc } as Form;
  }),
  fc.string({ unit: 'binary', maxLength: 12 }).map((value) => ({ kind: 'string', value, loc }) as Form),
  symbolName.map((name) => ({ kind: 'keyword', name, loc }) as Form),
  symbolName.map((name) => ({ kind: 'symbol', name, loc }) as Form),
  fc.boolean().map((value) => ({ kind: 'boolean', value, loc }) as Form),
  fc.constant({ kind: 'nil', loc } as Form),
);

const comment: fc.Arbitrary<Form> = fc
  .string({ maxLength: 20 })
  .map((s) => s.replace(/[\r\n\u2028\u2029]/g, ' ').trim())
  .filter((s) => !s.startsWith(';'))
  .map((text) => ({ kind: 'comment', text, loc }) as Form);

const { form } = fc.letrec<{ form: Form; coll: Form }>((tie) => ({
  form: fc.oneof({ depthSize: 'small', withCrossShrink: true }, atom, tie('coll')),
  coll: fc.oneof(
    fc
      .array(fc.oneof({ weight: 6, arbitrary: tie('form') }, { weight: 1, arbitrary: comment }), { maxLength: 6 })
      .map((items) => ({ kind: 'list', items, loc }) as Form),
    fc
      .array(fc.oneof({ weight: 6, arbitrary: tie('form') }, { weight: 1, arbitrary: comment }), { maxLength: 6 })
      .map((items) => ({ kind: 'vector', items, loc }) as Form),
    fc
      .array(fc.tuple(tie('form'), tie('form')), { maxLength: 4 })
      .map((pairs) => ({ kind: 'map', items: pairs.flat(), loc }) as Form),
  ),
}));

function bare(f: Form): unknown {
  switch (f.kind) {
    case 'list':
    case 'vector':
    case 'map':
      return [f.kind, f.items.map(bare)];
    case 'number':
      return ['n', f.value];
    case 'string':
      return ['s', f.value];
    case 'keyword':
    case 'symbol':
      return [f.kind, f.name];
    case 'boolean':
      return ['b', f.value];
    case 'nil':
      return ['nil'];
    case 'comment':
      return ['c', f.text];
  }
}

function onlyDslErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DslError)) throw e;
    expect(e.diagnostics.length).toBeGreaterThan(0);
    for (const d of e.diagnostics) {
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.column).toBeGreaterThanOrEqual(1);
    }
  }
}

/** Text that is mostly DSL-shaped: brackets, quotes, keywords, operator names, numbers. */
const dslish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '(',
        ')',
        '[',
        ']',
        '{',
        '}',
        '"',
        ';',
        '\n',
        ' ',
        ',',
        ':',
        '\\',
        '-',
        '1',
        '2.5',
        '1e3',
        'nil',
        'true',
        'defstrategy',
        'defsymphony',
        'param',
        'worker',
        'when',
        'cond',
        'buy',
        'sell',
        'rsi',
        'asset',
        'if',
        'filter',
        'weight-equal',
        'weight-specified',
        'select-top',
        ':timeframe',
        ':M5',
        ':window',
        '"SPY"',
        '>',
        'and',
      ),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

describe('DSL properties', () => {
  it('reading random text returns forms or throws a DslError, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(dslish, fc.string({ unit: 'binary', maxLength: 60 })), (src) => {
        onlyDslErrors(() => read(src, { file: 'p.clj' }));
        onlyDslErrors(() => read(src, { file: 'p.clj', comments: true }));
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  it('compiling, checking and formatting random text never throws anything but a DslError', () => {
    fc.assert(
      fc.property(dslish, (src) => {
        onlyDslErrors(() => compile(src, { file: 'p.clj', tickers: ['SPY', 'QQQ'] }));
        expect(Array.isArray(check(src, { file: 'p.clj' }))).toBe(true);
        onlyDslErrors(() => format(src));
      }),
      { seed: SEED, numRuns: RUNS * 2 },
    );
  });

  it('compiling random well-formed trees never throws anything but a DslError', () => {
    const def = fc.tuple(fc.constantFrom('defstrategy', 'defsymphony'), fc.array(form, { maxLength: 6 }));
    fc.assert(
      fc.property(def, ([head, items]) => {
        const src = printForms([{ kind: 'list', items: [{ kind: 'symbol', name: head, loc }, ...items], loc }]);
        onlyDslErrors(() => compile(src, { file: 'p.clj' }));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('printed forms read back to the same forms', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(form, comment), { maxLength: 4 }),
        fc.integer({ min: 20, max: 100 }),
        (forms, width) => {
          const text = printForms(forms, { width });
          expect(read(text, { comments: true }).map(bare)).toEqual(forms.map(bare));
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('formatting is a fixed point', () => {
    // Random layout: the canonical text of random forms with whitespace and commas shuffled in.
    const messy = fc
      .tuple(
        fc.array(fc.oneof(form, comment), { maxLength: 4 }),
        fc.array(fc.constantFrom(' ', '  ', ',', '\n', '\t'), { minLength: 1 }),
      )
      .map(([forms, spaces]) => {
        let i = 0;
        return printForms(forms, { width: 200 }).replace(/ /g, () => spaces[i++ % spaces.length] as string);
      });
    fc.assert(
      fc.property(messy, (src) => {
        let once: string;
        try {
          once = format(src);
        } catch (e) {
          // Whitespace shuffled into a string literal can make a raw newline, which is still valid.
          if (e instanceof DslError) return;
          throw e;
        }
        expect(format(once)).toBe(once);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
