// biome-ignore-all lint/suspicious/noThenProperty: `then` is the symphony IR's field name
/**
 * Symphony engine parity (docs/symphony.md): on seeded random trees over generated data, the Rust
 * engine and the TypeScript engine give bitwise-equal weights and rebalance days, equity and
 * metrics within 1e-9 relative, at 1 and 2 threads, and each run repeats bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { Sfc32 } from '../src/data/generate.js';
import { compile } from '../src/dsl/index.js';
import { ValidationError } from '../src/errors.js';
import { generateDaily } from '../src/symphony/data.js';
import { DEFAULT_SYMPHONY_CONFIG, runSymphonyJs } from '../src/symphony/engine.js';
import {
  configJson,
  fromNativeSymphony,
  type NativeSymphonyBinding,
  nativeSymphony,
  toNativeDaily,
} from '../src/symphony/native.js';
import { checkResolvedSymphony, resolveSymphony } from '../src/symphony/resolve.js';
import { runSymphonies } from '../src/symphony/run.js';
import {
  type DailyData,
  SYMPHONY_INDICATORS,
  SYMPHONY_METRIC_KEYS,
  type SymphonyIndicator,
  type SymphonyIR,
  type SymphonyNode,
  type SymphonyOutput,
  type SymphonyRunConfig,
  type SymphonyValue,
} from '../src/symphony/types.js';

const binding = nativeSymphony();
const TICKERS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF', 'GGG'];

/** Generated data where two tickers start late (NaN before their first bar). */
function makeData(seed: number, days: number): DailyData {
  const d = generateDaily(TICKERS, { days, seed });
  const blank = (k: number, n: number) => {
    (d.open[k] as Float64Array).fill(Number.NaN, 0, n);
    (d.close[k] as Float64Array).fill(Number.NaN, 0, n);
  };
  blank(4, Math.floor(days / 3));
  blank(6, Math.floor(days / 2));
  return d;
}

class Gen {
  private readonly rng: Sfc32;
  readonly named = new Set<string>();
  constructor(seed: number) {
    this.rng = new Sfc32(seed);
  }
  int(lo: number, hi: number): number {
    return lo + (this.rng.next() % (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)] as T;
  }
  chance(p: number): boolean {
    return this.rng.next() / 2 ** 32 < p;
  }
  ticker(): string {
    const t = this.pick(TICKERS);
    this.named.add(t);
    return t;
  }
  window(fn: SymphonyIndicator): number | undefined {
    if (fn === 'current-price') return undefined;
    return this.chance(0.15) ? undefined : this.int(1, 25);
  }
  value(): SymphonyValue {
    const fn = this.pick(SYMPHONY_INDICATORS);
    const w = this.window(fn);
    const v: SymphonyValue = { fn, ticker: this.ticker() };
    if (w !== undefined) v.window = w;
    return v;
  }
  constant(left: SymphonyValue): number {
    if (typeof left === 'object' && 'fn' in left) {
      switch (left.fn) {
        case 'rsi':
          return this.int(30, 70);
        case 'moving-average-return':
        case 'cumulative-return':
          return this.int(-3, 3) / 2;
        case 'stdev-return':
        case 'max-drawdown':
          return this.int(0, 8) / 2;
        case 'stdev-price':
          return this.int(1, 20);
        default:
          return this.int(400, 1100);
      }
    }
    return 0;
  }
  list(depth: number, max: number): SymphonyNode[] {
    return Array.from({ length: this.int(1, max) }, () => this.node(depth + 1));
  }
  node(depth: number): SymphonyNode {
    if (depth >= 4 || this.chance(depth === 0 ? 0 : 0.35)) return { type: 'asset', ticker: this.ticker() };
    switch (this.int(0, 5)) {
      case 0:
        return { type: 'weight-equal', children: this.list(depth, 4) };
      case 1: {
        const children = this.list(depth, 4);
        const weights = children.map((_, i) => (i === 0 ? this.int(1, 60) : this.int(0, 60)) / this.pick([1, 10, 7]));
        return { type: 'weight-specified', weights, children };
      }
      case 2:
        return { type: 'weight-inverse-volatility', window: this.int(1, 20), children: this.list(depth, 4) };
      case 3: {
        const fn = this.pick(SYMPHONY_INDICATORS);
        const n: SymphonyNode = {
          type: 'filter',
          fn,
          select: this.chance(0.5) ? 'top' : 'bottom',
          count: this.int(1, 3),
          children: this.list(depth, 5),
        };
        const w = this.window(fn);
        if (w !== undefined) n.window = w;
        return n;
      }
      case 4:
        return { type: 'group', name: this.pick(['alpha', 'beta', 'Gamma', '']), children: this.list(depth, 3) };
      default: {
        const left = this.value();
        const right: SymphonyValue = this.chance(0.5) ? this.constant(left) : this.value();
        const n: SymphonyNode = {
          type: 'if',
          cond: { op: this.pick(['>', '<', '>=', '<=', '='] as const), left, right },
          then: this.list(depth, 3),
        };
        const r = this.int(0, 2);
        if (r === 1) n.else = this.list(depth, 3);
        else if (r === 2) n.else = null;
        return n;
      }
    }
  }
  symphony(name: string): SymphonyIR {
    const root = this.node(0);
    const rebalance = this.pick([
      'daily',
      'weekly',
      'monthly',
      'quarterly',
      'yearly',
      'none',
      { threshold: this.int(1, 20) / 100 },
    ] as const);
    return {
      version: 1,
      kind: 'symphony',
      name,
      rebalance,
      tickers: [...this.named].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      root,
    };
  }
  config(data: DailyData): SymphonyRunConfig {
    const n = data.dates.length;
    return {
      ...DEFAULT_SYMPHONY_CONFIG,
      rebalance: this.chance(0.3)
        ? this.pick(['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'none'] as const)
        : null,
      fillAt: this.chance(0.5) ? 'open' : 'close',
      commissionPct: this.pick([0, 0.05, 0.5]),
      start: this.chance(0.5) ? (data.dates[this.int(0, Math.floor(n / 2))] as number) : null,
      end: this.chance(0.3) ? (data.dates[this.int(Math.floor(n / 2), n - 1)] as number) : null,
    };
  }
}

function scenarios(seed: number, count: number, data: DailyData): { ir: SymphonyIR; config: SymphonyRunConfig }[] {
  return Array.from({ length: count }, (_, i) => {
    const g = new Gen((seed * 7919 + i * 104_729 + 1) >>> 0);
    const ir = resolveSymphony(g.symphony(`s${seed}-${i}`));
    return { ir, config: g.config(data) };
  });
}

function bitsEqual(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

function expectParity(label: string, native: SymphonyOutput, js: SymphonyOutput): void {
  expect(native.tickers, label).toEqual(js.tickers);
  expect(Array.from(native.time), label).toEqual(Array.from(js.time));
  if (!bitsEqual(native.weights, js.weights)) {
    const i = native.weights.findIndex((w, j) => !Object.is(w, js.weights[j]));
    const n = js.tickers.length;
    throw new Error(
      `${label}: weights differ at day ${Math.floor(i / n)} ticker ${js.tickers[i % n]}: native ${native.weights[i]} js ${js.weights[i]}`,
    );
  }
  expect(Array.from(native.rebalanceDays), label).toEqual(Array.from(js.rebalanceDays));
  const e = native.equity.findIndex((x, j) => !close(x, js.equity[j] as number));
  expect(e, `${label}: equity differs at day ${e}: ${native.equity[e]} vs ${js.equity[e]}`).toBe(-1);
  for (const k of SYMPHONY_METRIC_KEYS) {
    expect(close(native.metrics[k], js.metrics[k]), `${label}: ${k} ${native.metrics[k]} vs ${js.metrics[k]}`).toBe(
      true,
    );
  }
}

function expectIdentical(label: string, a: SymphonyOutput, b: SymphonyOutput): void {
  expect(bitsEqual(a.weights, b.weights), label).toBe(true);
  expect(bitsEqual(a.equity, b.equity), label).toBe(true);
  expect(Array.from(a.rebalanceDays), label).toEqual(Array.from(b.rebalanceDays));
  for (const k of SYMPHONY_METRIC_KEYS) expect(Object.is(a.metrics[k], b.metrics[k]), `${label}: ${k}`).toBe(true);
}

async function runNative(
  b: NativeSymphonyBinding,
  data: DailyData,
  jobs: { ir: SymphonyIR; config: SymphonyRunConfig }[],
  threads: number,
): Promise<SymphonyOutput[]> {
  const results = await b.runSymphonies(
    toNativeDaily(b, data),
    jobs.map((j) => JSON.stringify(j.ir)),
    jobs.map((j) => configJson(j.config)),
    { threads },
  );
  return results.map((r, i) => {
    if (!r.ok) throw new Error(`job ${i} failed natively: ${r.errorCode} ${r.errorMessage}`);
    return fromNativeSymphony(r);
  });
}

if (!binding) {
  describe('symphony parity', () => {
    it.skip('skipped: the native binding has no runSymphonies yet (rebuild it with `npm run build:native`)', () => {});
  });
} else {
  const b = binding;
  describe('symphony parity (native vs TypeScript)', () => {
    const data = makeData(17, 700);

    it.each([1, 2, 3])('random trees, seed %i: weights bitwise, money within 1e-9, 1 and 2 threads', async (seed) => {
      const jobs = scenarios(seed, 24, data);
      const js = jobs.map((j) => runSymphonyJs(j.ir, data, j.config));
      const one = await runNative(b, data, jobs, 1);
      const two = await runNative(b, data, jobs, 2);
      jobs.forEach((j, i) => {
        const label = `${j.ir.name} ${JSON.stringify(j.config)}`;
        expectParity(label, one[i] as SymphonyOutput, js[i] as SymphonyOutput);
        expectIdentical(`${label} (1 vs 2 threads)`, one[i] as SymphonyOutput, two[i] as SymphonyOutput);
      });
      const again = await runNative(b, data, jobs, 2);
      for (const [i, j] of jobs.entries()) {
        expectIdentical(`${j.ir.name} repeated`, two[i] as SymphonyOutput, again[i] as SymphonyOutput);
        expectIdentical(`${j.ir.name} js repeated`, js[i] as SymphonyOutput, runSymphonyJs(j.ir, data, j.config));
      }
    });

    it('the synchronous call agrees with the asynchronous one', async () => {
      const jobs = scenarios(9, 6, data);
      const asyncOut = await runNative(b, data, jobs, 2);
      const syncOut = b
        .runSymphoniesSync(
          toNativeDaily(b, data),
          jobs.map((j) => JSON.stringify(j.ir)),
          jobs.map((j) => configJson(j.config)),
          { threads: 1 },
        )
        .map((r) => {
          if (!r.ok) throw new Error(r.errorMessage);
          return fromNativeSymphony(r);
        });
      for (const [i, o] of syncOut.entries()) expectIdentical(`sync ${i}`, o, asyncOut[i] as SymphonyOutput);
    });

    it('runSymphonies gives the same book on both engines', async () => {
      const jobs = scenarios(4, 8, data);
      const files = jobs.map((j) => j.ir);
      const options = { fillAt: 'open' as const, commissionPct: 0.1, maxWorkers: 2 };
      const native = await runSymphonies(files, data, { ...options, engine: 'native' });
      const js = await runSymphonies(files, data, { ...options, engine: 'js' });
      expect(native.engine).toBe('native');
      native.files.forEach((f, i) => {
        expect(f.status).toBe('ok');
        expectParity(`file ${i}`, f.output as SymphonyOutput, js.files[i]?.output as SymphonyOutput);
      });
      const last = native.dates.length - 1;
      expect(native.consolidated(last)).toEqual(js.consolidated(last));
    });

    it('every rebalance rule agrees on both engines', async () => {
      const g = new Gen(99);
      const ir = resolveSymphony(g.symphony('rules'));
      const rules = ['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'none', { threshold: 0.05 }] as const;
      const jobs = rules.flatMap((rebalance) =>
        (['close', 'open'] as const).map((fillAt) => ({
          ir,
          config: { ...DEFAULT_SYMPHONY_CONFIG, rebalance, fillAt, commissionPct: 0.05 },
        })),
      );
      const native = await runNative(b, data, jobs, 2);
      jobs.forEach((j, i) => {
        const label = JSON.stringify(j.config.rebalance);
        expectParity(label, native[i] as SymphonyOutput, runSymphonyJs(j.ir, data, j.config));
      });
      const none = native[(rules.length - 2) * 2] as SymphonyOutput;
      expect(Array.from(none.rebalanceDays)).toEqual([0]);
    });

    it('deep trees from the DSL run on both engines (beyond serde_json default depth)', async () => {
      // 40 nested blocks: the IR nests 4 * 40 + 2 = 162 levels of arrays and objects.
      let node = '(asset "BBB")';
      for (let i = 0; i < 40; i++) node = `(weight-equal [(if (> (rsi "AAA" 10) 1) [${node}] [(asset "CCC")])])`;
      const compiled = compile(`(defsymphony "deep" {:rebalance-frequency :weekly} ${node})`, { file: 'deep.clj' });
      if (compiled.kind !== 'symphony') throw new Error('not a symphony');
      const jobs = [{ ir: compiled.ir, config: DEFAULT_SYMPHONY_CONFIG }];
      const js = runSymphonyJs(compiled.ir, data, DEFAULT_SYMPHONY_CONFIG);
      expectParity('deep, async', (await runNative(b, data, jobs, 1))[0] as SymphonyOutput, js);
      const sync = b.runSymphoniesSync(
        toNativeDaily(b, data),
        [JSON.stringify(compiled.ir)],
        [configJson(DEFAULT_SYMPHONY_CONFIG)],
        { threads: 1 },
      );
      if (!sync[0]?.ok) throw new Error(sync[0]?.errorMessage);
      expectParity('deep, sync', fromNativeSymphony(sync[0]), js);
    });

    it('a tree near the depth bound runs on both engines, synchronously too', () => {
      // 511 blocks nest 4 * 511 + 2 = 2046 levels (the bound is 2048).
      let root: SymphonyNode = { type: 'asset', ticker: 'BBB' };
      for (let i = 0; i < 511; i++) {
        root = {
          type: 'weight-equal',
          children: [
            {
              type: 'if',
              cond: { op: '>', left: { fn: 'rsi', ticker: 'AAA', window: 10 }, right: 1 },
              then: [root],
              else: [{ type: 'asset', ticker: 'CCC' }],
            },
          ],
        };
      }
      const ir: SymphonyIR = { version: 1, kind: 'symphony', name: 'deepest', tickers: ['AAA', 'BBB', 'CCC'], root };
      const small = makeData(3, 60);
      const js = runSymphonyJs(checkResolvedSymphony(ir), small, DEFAULT_SYMPHONY_CONFIG);
      const sync = b.runSymphoniesSync(
        toNativeDaily(b, small),
        [JSON.stringify(ir)],
        [configJson(DEFAULT_SYMPHONY_CONFIG)],
        { threads: 1 },
      );
      if (!sync[0]?.ok) throw new Error(sync[0]?.errorMessage);
      expectParity('deepest', fromNativeSymphony(sync[0]), js);
    });

    it('a document nested deeper than 2048 levels is a clear error on both engines', async () => {
      const json = `{"version":1,"kind":"symphony","name":"x","tickers":["AAA"],"root":${'['.repeat(3000)}1${']'.repeat(3000)}}`;
      const results = await b.runSymphonies(toNativeDaily(b, data), [json], [configJson(DEFAULT_SYMPHONY_CONFIG)], {
        threads: 1,
      });
      const failed = results[0];
      if (failed === undefined || failed.ok) throw new Error('expected a failed job');
      expect(failed.errorCode).toBe('ERR_TICKFORGE_VALIDATION');
      expect(failed.errorMessage).toContain('deeper than 2048 levels');
      let issues: { path: string; message: string }[] = [];
      try {
        checkResolvedSymphony(JSON.parse(json));
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        issues = (e as ValidationError).issues;
      }
      expect(issues).toHaveLength(1);
      expect(issues[0]?.path).toBe(`symphony.root${'[0]'.repeat(2047)}`);
      expect(issues[0]?.message).toContain('deeper than 2048 levels');
    });

    it('a failing job is reported per job', async () => {
      const results = await b.runSymphonies(
        toNativeDaily(b, data),
        [
          JSON.stringify({
            version: 1,
            kind: 'symphony',
            name: 'x',
            tickers: ['ZZZ'],
            root: { type: 'asset', ticker: 'ZZZ' },
          }),
        ],
        [configJson(DEFAULT_SYMPHONY_CONFIG)],
        { threads: 1 },
      );
      expect(results[0]?.ok).toBe(false);
    });
  });
}
