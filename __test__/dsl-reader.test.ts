import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Form } from '../src/dsl/ast.js';
import { DslError, formatDiagnostic } from '../src/dsl/errors.js';
import { format } from '../src/dsl/index.js';
import { printForms } from '../src/dsl/print.js';
import { MAX_DEPTH, read } from '../src/dsl/reader.js';

/** A form without locations, for comparisons. */
function bare(f: Form): unknown {
  switch (f.kind) {
    case 'list':
    case 'vector':
    case 'map':
      return { [f.kind]: f.items.map(bare) };
    case 'number':
      return f.value;
    case 'string':
      return { str: f.value };
    case 'keyword':
      return `:${f.name}`;
    case 'symbol':
      return `sym:${f.name}`;
    case 'boolean':
      return f.value;
    case 'nil':
      return null;
    case 'comment':
      return { comment: f.text };
  }
}

function readErr(src: string): DslError {
  try {
    read(src, { file: 'x.clj' });
  } catch (e) {
    expect(e).toBeInstanceOf(DslError);
    return e as DslError;
  }
  throw new Error(`no error for ${JSON.stringify(src)}`);
}

describe('reader', () => {
  it('reads every kind of form', () => {
    const forms = read('(a [1 -2.5 3e2 +4 -1.5E-3] {:k "s"} true false nil sym-x? :kw)');
    expect(forms.map(bare)).toEqual([
      {
        list: [
          'sym:a',
          { vector: [1, -2.5, 300, 4, -0.0015] },
          { map: [':k', { str: 's' }] },
          true,
          false,
          null,
          'sym:sym-x?',
          ':kw',
        ],
      },
    ]);
  });

  it('treats commas as whitespace and drops comments unless asked', () => {
    expect(read('{:a 1, :b 2} ; trailing').map(bare)).toEqual([{ map: [':a', 1, ':b', 2] }]);
    expect(read(';; head\n(x ; inner\n y)', { comments: true }).map(bare)).toEqual([
      { comment: 'head' },
      { list: ['sym:x', { comment: 'inner' }, 'sym:y'] },
    ]);
  });

  it('decodes string escapes', () => {
    const [f] = read('"a\\"b\\\\c\\nd\\te\\u0041"');
    expect(f).toMatchObject({ kind: 'string', value: 'a"b\\c\nd\teA' });
  });

  it('keeps file, line and column on every form', () => {
    const [list] = read('\n  (foo\n     :bar "baz")', { file: 'f.clj' });
    expect(list?.loc).toMatchObject({ file: 'f.clj', line: 2, column: 3 });
    const items = (list as Extract<Form, { kind: 'list' }>).items;
    expect(items[0]?.loc).toMatchObject({ line: 2, column: 4 });
    expect(items[1]?.loc).toMatchObject({ line: 3, column: 6 });
    expect(items[2]?.loc).toMatchObject({ line: 3, column: 11, end: (items[2]?.loc.start ?? 0) + 5 });
  });

  it.each([
    ['(a b', 1, 1, '`(` is never closed'],
    ['[a\n  b', 1, 1, '`[` is never closed'],
    ['(a ]', 1, 4, '`]` closes `(` opened at 1:1'],
    [')', 1, 1, 'unexpected `)` with nothing open'],
    ['"abc', 1, 1, 'string is never closed'],
    ['"a\\qb"', 1, 3, 'invalid escape `\\q`'],
    ['"\\u12"', 1, 2, 'invalid `\\u` escape'],
    ['{:a 1 :b}', 1, 7, 'a map needs a value for every key'],
    ['(x 1.2.3)', 1, 4, 'invalid number `1.2.3`'],
    ['(x 12abc)', 1, 4, 'invalid number `12abc`'],
    ['(x 1e999)', 1, 4, 'out of range'],
    ['(x #{})', 1, 4, 'unexpected character `#`'],
    ['(> x .5)', 1, 6, 'invalid number `.5`'],
    ['(> x -.5)', 1, 6, 'invalid number `-.5`'],
    ['(x :)', 1, 4, 'invalid keyword'],
  ])('rejects %j at %i:%i', (src, line, column, message) => {
    const e = readErr(src);
    expect(e.diagnostics).toHaveLength(1);
    expect(e.diagnostics[0]).toMatchObject({ file: 'x.clj', line, column });
    expect(e.diagnostics[0]?.message).toContain(message);
    expect(e.issues[0]?.path).toBe(`x.clj:${line}:${column}`);
  });

  it('refuses nesting deeper than the limit with a DSL error', () => {
    const deep = `${'('.repeat(MAX_DEPTH + 5)}${')'.repeat(MAX_DEPTH + 5)}`;
    expect(readErr(deep).diagnostics[0]?.message).toContain('nesting deeper');
    expect(() => read(`${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`)).not.toThrow();
  });
});

describe('diagnostic excerpts', () => {
  it('underlines the span with carets and shows the hint', () => {
    const text = formatDiagnostic(
      {
        file: 'a.clj',
        line: 2,
        column: 4,
        length: 5,
        message: 'unknown operator `crosz`',
        hint: 'did you mean `cross`?',
      },
      '(when\n  (crosz a b))',
    );
    expect(text).toBe(
      [
        'a.clj:2:4: error: unknown operator `crosz`',
        '  |',
        '2 |   (crosz a b))',
        '  |    ^^^^^',
        '  = did you mean `cross`?',
      ].join('\n'),
    );
  });
});

describe('printer', () => {
  it('prints short forms on one line and breaks long ones canonically', () => {
    expect(format('( a   b\n c )')).toBe('(a b c)\n');
    const long = `(when (and (> (bar :close) (env :upper)) (> rsi 70) (= (position :side) 0)) (sell :lots lots :sl (pips slPips) :tp (pips tpPips)))`;
    expect(format(long)).toBe(
      [
        '(when (and (> (bar :close) (env :upper)) (> rsi 70) (= (position :side) 0))',
        '  (sell :lots lots :sl (pips slPips) :tp (pips tpPips)))',
        '',
      ].join('\n'),
    );
  });

  it('keeps comments, each on its own line, and never swallows a closing bracket', () => {
    const out = format('(a 1 ; one\n 2 ;two\n)\n;; end');
    expect(out).toBe('(a 1\n  ; one\n  2\n  ; two\n  )\n\n; end\n');
    expect(format(out)).toBe(out);
    expect(read(out, { comments: true }).map(bare)).toEqual([
      { list: ['sym:a', 1, { comment: 'one' }, 2, { comment: 'two' }] },
      { comment: 'end' },
    ]);
  });

  it('puts map entries and vector items one per line when they do not fit', () => {
    const src = `{:asset-class "EQUITIES" :rebalance-frequency :daily :params {ma-window 200 rsi-window 10}}`;
    expect(format(src, { width: 40 })).toBe(
      ['{:asset-class "EQUITIES"', ' :rebalance-frequency :daily', ' :params {ma-window 200 rsi-window 10}}', ''].join(
        '\n',
      ),
    );
  });

  it('escapes strings so they read back unchanged', () => {
    const forms = read('"tab\\there \\"q\\" \\u0001"');
    const printed = printForms(forms);
    expect(printed).toBe('"tab\\there \\"q\\" \\u0001"\n');
    expect(read(printed).map(bare)).toEqual(forms.map(bare));
  });
});

describe('the shipped DSL files', () => {
  it('are in canonical form (tickforge fmt --check passes)', () => {
    const dirs = [join(__dirname, '..', 'examples'), join(__dirname, 'fixtures', 'symphonies')];
    const files = dirs.flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith('.clj'))
        .map((f) => join(d, f)),
    );
    expect(files.length).toBeGreaterThanOrEqual(14);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(format(text, { file: f }), f).toBe(text);
    }
  });
});
