/**
 * DSL text: the example strategy, the symphony fixtures and the documentation's examples with
 * characters cut, tokens inserted, numbers swapped for edge values, forms nested deep or widened.
 * `compile`, `check`, `format` and `toDsl` may throw only tickforge errors (DslError is one);
 * what compiles must print back (`toDsl`, `format`) to text that compiles to the same IR, and a
 * compiled strategy must run on both engines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BacktestResult,
  check,
  compile,
  format,
  generateTicks,
  type StrategyIR,
  type TickData,
  toDsl,
} from '../../dist/index.js';
import { compare, runSync } from '../engines.js';
import { attempt, foreign, type Outcome, summary } from '../outcome.js';
import { caseRng, type Rng } from '../prng.js';
import type { Failure, Family } from '../types.js';
import { BASES } from './ir.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function docBlocks(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/```clojure\n([\s\S]*?)```/g)]
    .map((m) => m[1] as string)
    .filter((b) => /^\s*\((defstrategy|defsymphony)/.test(b));
}

let seeds: { strategies: string[]; symphonies: string[] } | undefined;
function seedTexts(): { strategies: string[]; symphonies: string[] } {
  if (seeds) return seeds;
  const dir = join(ROOT, '__test__/fixtures/symphonies');
  const fixtures = readdirSync(dir)
    .filter((f) => f.endsWith('.clj'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8'));
  seeds = {
    strategies: [
      readFileSync(join(ROOT, 'examples/rsi-envelope.clj'), 'utf8'),
      ...docBlocks('docs/dsl-strategy.md'),
      // The IR family's hand-written strategies (crosses, offsets, pending orders), as DSL.
      ...BASES.map((ir) => toDsl(ir as unknown as StrategyIR)),
    ],
    symphonies: [...fixtures, ...docBlocks('docs/dsl-symphony.md')],
  };
  return seeds;
}

const TOKENS = [
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  '"',
  '\\',
  ':',
  ';',
  '#',
  '#_',
  '^',
  '@',
  '~',
  '`',
  "'",
  ',',
  ' ',
  '\n',
  'nil',
  'true',
  'false',
  '-0',
  '0',
  '1e309',
  '-1e309',
  '1e300',
  '5e-324',
  'NaN',
  '##Inf',
  '##NaN',
  '1/0',
  '0x10',
  '4294967296',
  '4503599627370496',
  '100001',
  '9'.repeat(400),
  '"\\uD800"',
  '"\\u{D800}"',
  '"\\x"',
  '"\uD800"',
  '\uD800',
  '💥',
  ':M5',
  ':bar',
  ':tick',
  'rsi',
  '(+ 1 2)',
  '(param p 1)',
  '(worker w (sma :M1 {:period 2}))',
  '{:window 10}',
  '(asset "SPY")',
  '[(asset "SPY")]',
  ':lots',
  ':offset 100001',
];
const NUMBERS = ['0', '-1', '1.5', '2147483648', '4294967296', '4503599627370496', '1e300', '-0', '100000', '100001'];
const DEPTHS = [2, 60, 61, 247, 248, 255, 256, 257, 264, 265, 1000, 3000];
const WIDTHS = [1023, 1024, 1025, 10_000];

const span = (s: string, rng: Rng) => {
  const a = rng.int(s.length + 1);
  return [a, Math.min(s.length, a + rng.int(40))] as const;
};

function mutate(s: string, rng: Rng): string {
  const r = rng.int(10);
  const numbers = [...s.matchAll(/-?\b\d+(\.\d+)?\b/g)];
  const pickNumber = () => (numbers.length ? rng.pick(numbers) : undefined);
  const splice = (at: number, len: number, text: string) => s.slice(0, at) + text + s.slice(at + len);
  if (r < 2) {
    const [a, b] = span(s, rng);
    return s.slice(0, a) + s.slice(b);
  }
  if (r < 5) return splice(rng.int(s.length + 1), 0, rng.pick(TOKENS));
  if (r < 6) {
    const m = pickNumber();
    return m ? splice(m.index ?? 0, m[0].length, rng.pick(NUMBERS)) : s;
  }
  if (r < 7) {
    // A symbol or keyword replaced by another of the file.
    const words = [...s.matchAll(/:?[A-Za-z][A-Za-z0-9-]*/g)];
    if (words.length < 2) return s;
    const w = rng.pick(words);
    return splice(w.index ?? 0, w[0].length, rng.pick(words)[0]);
  }
  if (r < 8) {
    const [a, b] = span(s, rng);
    return splice(rng.int(s.length + 1), 0, s.slice(a, b));
  }
  if (r < 9) {
    // A number nested deep: in arithmetic, or in bare brackets.
    const m = pickNumber();
    const d = rng.pick(DEPTHS);
    const kind = rng.int(3);
    const deep =
      kind === 0
        ? `${'(+ '.repeat(d)}${m?.[0] ?? '1'}${' 0)'.repeat(d)}`
        : kind === 1
          ? `${'(- '.repeat(d)}${m?.[0] ?? '1'}${')'.repeat(d)}`
          : `${'['.repeat(d)}${']'.repeat(d)}`;
    return m ? splice(m.index ?? 0, m[0].length, deep) : splice(rng.int(s.length + 1), 0, deep);
  }
  const m = pickNumber();
  const w = rng.pick(WIDTHS);
  const wide = `(${rng.pick(['+', 'max', 'and'])} ${`${m?.[0] ?? '1'} `.repeat(w)})`;
  return m ? splice(m.index ?? 0, m[0].length, wide) : s;
}

export function build(seed: number, k: number): { text: string; runToo: boolean } {
  const rng = caseRng('dsl', seed, k);
  const all = seedTexts();
  let text = rng.pick(rng.chance(0.5) ? all.strategies : all.symphonies);
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) text = mutate(text, rng);
  return { text, runToo: rng.chance(0.25) };
}

let ticks: TickData | undefined;
function smallTicks(): TickData {
  ticks ??= generateTicks({ days: 0.02, seed: 7 });
  return ticks;
}

type Compiled = ReturnType<typeof compile>;
const same = (a: Compiled, b: Compiled) => JSON.stringify(a) === JSON.stringify(b);

export const dslFamily: Family = {
  name: 'dsl',
  async run(seed, k): Promise<Failure | null> {
    const { text, runToo } = build(seed, k);
    const compiled = attempt(() => compile(text, { file: 'fuzz.clj' }));
    const checked = attempt(() => check(text, { file: 'fuzz.clj' }));
    const formatted = attempt(() => format(text));
    const f = foreign('compile', compiled) ?? foreign('check', checked) ?? foreign('format', formatted);
    if (f) return f;
    if (checked.ok && compiled.ok !== (checked.value.length === 0)) {
      return {
        kind: 'disagree',
        detail: `check found ${checked.value.length} problems, compile ${compiled.ok ? 'succeeded' : summary(compiled)}`,
      };
    }
    if (!compiled.ok) return null;
    const ir = compiled.value.ir;
    const printed = attempt(() => toDsl(ir));
    const back = printed.ok ? attempt(() => compile(printed.value)) : undefined;
    const g = foreign('toDsl', printed) ?? (back ? foreign('compile(toDsl)', back) : null);
    if (g) return g;
    if (!printed.ok) return { kind: 'disagree', detail: `toDsl refused a compiled IR: ${summary(printed)}` };
    if (!back?.ok) return { kind: 'disagree', detail: `toDsl text does not compile: ${back ? summary(back) : ''}` };
    if (!same(compiled.value, back.value)) return { kind: 'disagree', detail: 'compile(toDsl(ir)) is not ir' };
    if (formatted.ok) {
      const again = attempt(() => compile(formatted.value));
      const h = foreign('compile(format)', again);
      if (h) return h;
      if (!again.ok || !same(compiled.value, again.value)) {
        return { kind: 'disagree', detail: `format changed the meaning: ${again.ok ? 'another IR' : summary(again)}` };
      }
    }
    if (runToo && compiled.value.kind === 'strategy') {
      const r = runSync({ ticks: smallTicks(), strategy: compiled.value.ir as StrategyIR });
      const c = compare('compiled strategy', r.native, r.js, false);
      if (c) return c;
      const refused = (o: Outcome<BacktestResult>) => !o.ok;
      if (refused(r.native))
        return { kind: 'disagree', detail: `check accepts, the engines refuse: ${summary(r.native)}` };
    }
    return null;
  },
  describe(seed, k) {
    const { text } = build(seed, k);
    return JSON.stringify(text.length > 4000 ? `${text.slice(0, 4000)}...(${text.length} chars)` : text);
  },
};
