import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Atr,
  type Bar,
  Bollinger,
  createIndicator,
  Ema,
  Envelope,
  type Indicator,
  type IndicatorSpec,
  Macd,
  outputNames,
  Rsi,
  Sma,
} from '../src/engine/js/indicators.js';
import type { PriceSource } from '../src/types.js';

const FIXTURE = new URL('./fixtures/talib.json', import.meta.url);

const bar = (close: number, extra: Partial<Bar> = {}): Bar => ({
  time: 0,
  open: close,
  high: close,
  low: close,
  close,
  volume: 0,
  ...extra,
});

/** Feeds closes and returns output `k` after each update. */
function run(ind: Indicator, closes: number[], k = 0): number[] {
  return closes.map((c) => {
    ind.update(bar(c));
    return ind.output(k);
  });
}

/** A deterministic random walk with consistent OHLC (no dependence on the generator under test). */
function walk(n: number, seed: number): Bar[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const out: Bar[] = [];
  let close = 100;
  for (let i = 0; i < n; i++) {
    const open = close;
    close = open + (rnd() - 0.5) * 2;
    const high = Math.max(open, close) + rnd() * 0.5;
    const low = Math.min(open, close) - rnd() * 0.5;
    out.push({ time: i * 60000, open, high, low, close, volume: 1 });
  }
  return out;
}

const relClose = (got: number, want: number, tol: number) => Math.abs(got - want) <= tol * Math.abs(want) + 1e-12;

describe('hand-computed cases', () => {
  it('sma: mean of the last n values', () => {
    // period 3: (1+2+3)/3 = 2, (2+3+4)/3 = 3, (3+4+5)/3 = 4
    expect(run(new Sma(3, 'close'), [1, 2, 3, 4, 5])).toEqual([NaN, NaN, 2, 3, 4]);
    expect(run(new Sma(1, 'close'), [7, 8])).toEqual([7, 8]);
  });

  it('ema: seeded with the mean of the first n values, then (x - ema) * k + ema', () => {
    // period 3, k = 2 / 4 = 0.5; seed (1+2+3)/3 = 2; then (4-2)*0.5+2 = 3, (10-3)*0.5+3 = 6.5
    expect(run(new Ema(3, 'close'), [1, 2, 3, 4, 10])).toEqual([NaN, NaN, 2, 3, 6.5]);
    // period 1: k = 1, the value itself
    expect(run(new Ema(1, 'close'), [3, 5, 4])).toEqual([3, 5, 4]);
  });

  it('rsi: Wilder smoothing after n changes, ready after n + 1 values', () => {
    // period 2, closes 1 2 4 3 3: changes +1 +2 -1 0.
    // After 2 changes: ag = (1+2)/2 = 1.5, al = 0 -> 100 * 1.5/1.5 = 100.
    // -1: ag = (1.5*1 + 0)/2 = 0.75, al = (0*1 + 1)/2 = 0.5 -> 100 * 0.75/1.25 = 60.
    // 0: ag = 0.375, al = 0.25 -> 100 * 0.375/0.625 = 60.
    expect(run(new Rsi(2, 'close'), [1, 2, 4, 3, 3])).toEqual([NaN, NaN, 100, 60, 60]);
    // All losses: ag = 0 -> 0.
    expect(run(new Rsi(2, 'close'), [5, 4, 3, 2])).toEqual([NaN, NaN, 0, 0]);
  });

  it('rsi: a flat series is 0 (ag + al within 1e-8 of zero)', () => {
    expect(run(new Rsi(3, 'close'), [2, 2, 2, 2, 2, 2])).toEqual([NaN, NaN, NaN, 0, 0, 0]);
    // Changes of 1e-9 keep ag + al below 1e-8: still 0.
    expect(run(new Rsi(1, 'close'), [1, 1 + 1e-9])).toEqual([NaN, 0]);
  });

  it('atr: true range with the previous close, Wilder smoothing', () => {
    const atr = new Atr(2);
    const seq: Bar[] = [
      bar(10, { high: 10.5, low: 9.5 }), // sets prevClose = 10
      bar(11, { high: 12, low: 9 }), // tr = max(3, |12-10| = 2, |9-10| = 1) = 3
      bar(11, { high: 11.5, low: 10.5 }), // tr = max(1, 0.5, 0.5) = 1 -> atr = (3+1)/2 = 2
      bar(14, { high: 15, low: 14 }), // tr = max(1, |15-11| = 4, 3) = 4 -> atr = (2*1 + 4)/2 = 3
      bar(8, { high: 9, low: 7 }), // gap down: tr = max(2, 5, |7-14| = 7) = 7 -> (3 + 7)/2 = 5
    ];
    const out = seq.map((b) => {
      atr.update(b);
      return atr.output(0);
    });
    expect(out).toEqual([NaN, NaN, 2, 3, 5]);
  });

  it('bollinger: population deviation from sums, zero width when flat', () => {
    const bb = new Bollinger(2, 2, 'close');
    bb.update(bar(1));
    expect([bb.output(0), bb.output(1), bb.output(2)]).toEqual([NaN, NaN, NaN]);
    // [1, 3]: mean 2, sumSq 10, var = 10/2 - 4 = 1, sd 1 -> 2 ± 2
    bb.update(bar(3));
    expect([bb.output(0), bb.output(1), bb.output(2)]).toEqual([4, 2, 0]);
    // [3, 3]: sumSq = 10 - 1 + 9 = 18, var = 9 - 9 = 0 -> sd 0
    bb.update(bar(3));
    expect([bb.output(0), bb.output(1), bb.output(2)]).toEqual([3, 3, 3]);
  });

  it('envelope: sma times (1 ± percent / 100)', () => {
    const env = new Envelope(2, 10, 'close');
    env.update(bar(100));
    expect(env.output(1)).toBeNaN();
    // middle (100+200)/2 = 150; 150 * 1.1 = 165; 150 * 0.9 = 135
    env.update(bar(200));
    expect([env.output(0), env.output(1), env.output(2)]).toEqual([150 * (1 + 10 / 100), 150, 150 * (1 - 10 / 100)]);
    expect(env.output(0)).toBeCloseTo(165, 12);
    expect(env.output(2)).toBeCloseTo(135, 12);
  });

  it('macd: TA-Lib alignment, ready after slow + signal - 1 values', () => {
    // fast 2, slow 3, signal 2: kf = 2/3, ks = 1/2, kg = 2/3.
    const m = new Macd(2, 3, 2, 'close');
    const out = [1, 4, 2, 8, 5].map((x) => {
      m.update(bar(x));
      return [m.output(0), m.output(1), m.output(2)];
    });
    for (let i = 0; i < 3; i++) expect(out[i]).toEqual([NaN, NaN, NaN]);
    // count 3: slow = (1+4+2)/3 = 7/3, fast = (4+2)/2 = 3, m = 2/3 (first m, no signal yet)
    // count 4: fast = (8-3)*2/3 + 3 = 19/3, slow = (8-7/3)/2 + 7/3 = 31/6, m = 7/6;
    //          signal = (2/3 + 7/6)/2 = 11/12, hist = 7/6 - 11/12 = 1/4
    const [m4, s4, h4] = out[3] as number[];
    expect(m4).toBeCloseTo(7 / 6, 13);
    expect(s4).toBeCloseTo(11 / 12, 13);
    expect(h4).toBeCloseTo(1 / 4, 13);
    // count 5: fast = (5-19/3)*2/3 + 19/3 = 49/9, slow = (5-31/6)/2 + 31/6 = 61/12, m = 13/36;
    //          signal = (13/36 - 11/12)*2/3 + 11/12 = 59/108, hist = 13/36 - 59/108 = -20/108
    const [m5, s5, h5] = out[4] as number[];
    expect(m5).toBeCloseTo(13 / 36, 13);
    expect(s5).toBeCloseTo(59 / 108, 13);
    expect(h5).toBeCloseTo(-20 / 108, 13);
  });

  it('macd with signal 1: the signal is m itself', () => {
    const m = new Macd(1, 2, 1, 'close');
    // fast 1 = x; slow seeds at (1+3)/2 = 2; m = 3 - 2 = 1; signal = 1/1 = 1; hist 0
    expect(run(m, [1, 3], 0)).toEqual([NaN, 1]);
    expect(m.output(1)).toBe(1);
    expect(m.output(2)).toBe(0);
  });

  it('reads the configured source', () => {
    const b: Bar = { time: 0, open: 1, high: 4, low: 0.5, close: 2, volume: 9 };
    const sources: [PriceSource, number][] = [
      ['open', 1],
      ['high', 4],
      ['low', 0.5],
      ['close', 2],
    ];
    for (const [source, want] of sources) {
      for (const kind of ['sma', 'ema'] as const) {
        const ind = createIndicator({ kind, period: 1, source });
        ind.update(b);
        expect(ind.output(0)).toBe(want);
      }
      const env = createIndicator({ kind: 'envelope', period: 1, percent: 50, source });
      env.update(b);
      expect(env.output(1)).toBe(want);
    }
  });

  it('returns NaN for an output index it does not have', () => {
    const s = new Sma(1, 'close');
    s.update(bar(1));
    expect(s.output(1)).toBeNaN();
    const bb = new Bollinger(1, 2, 'close');
    bb.update(bar(1));
    expect(bb.output(3)).toBeNaN();
  });
});

describe('readiness and names', () => {
  const specs: [IndicatorSpec, number, string[]][] = [
    [{ kind: 'sma', period: 5, source: 'close' }, 5, ['value']],
    [{ kind: 'ema', period: 5, source: 'close' }, 5, ['value']],
    [{ kind: 'rsi', period: 5, source: 'close' }, 6, ['value']],
    [{ kind: 'atr', period: 5 }, 6, ['value']],
    [{ kind: 'bollinger', period: 5, deviations: 2, source: 'close' }, 5, ['upper', 'middle', 'lower']],
    [{ kind: 'envelope', period: 5, percent: 1, source: 'close' }, 5, ['upper', 'middle', 'lower']],
    [{ kind: 'macd', fast: 3, slow: 7, signal: 4, source: 'close' }, 10, ['macd', 'signal', 'hist']],
  ];
  const bars = walk(40, 3);

  for (const [spec, readyAfter, names] of specs) {
    it(`${spec.kind}: every output is first ready after ${readyAfter} bars`, () => {
      expect(outputNames(spec)).toEqual(names);
      const ind = createIndicator(spec);
      bars.forEach((b, i) => {
        ind.update(b);
        for (let k = 0; k < names.length; k++) {
          expect(Number.isNaN(ind.output(k))).toBe(i + 1 < readyAfter);
        }
      });
    });
  }
});

describe('against direct (non-incremental) definitions', () => {
  const bars = walk(500, 42);
  const closes = bars.map((b) => b.close);

  it('sma and envelope over a wrapping ring', () => {
    for (const n of [1, 2, 7, 20]) {
      const sma = new Sma(n, 'close');
      const env = new Envelope(n, 2.5, 'close');
      bars.forEach((b, i) => {
        sma.update(b);
        env.update(b);
        if (i + 1 < n) return;
        let s = 0;
        for (let j = i + 1 - n; j <= i; j++) s += closes[j] as number;
        expect(relClose(sma.output(0), s / n, 1e-12)).toBe(true);
        // The envelope's middle is the same rolling sum: identical bits.
        expect(env.output(1)).toBe(sma.output(0));
        expect(env.output(0)).toBe(sma.output(0) * (1 + 2.5 / 100));
        expect(env.output(2)).toBe(sma.output(0) * (1 - 2.5 / 100));
      });
    }
  });

  it('bollinger against a two-pass deviation', () => {
    const n = 20;
    const bb = new Bollinger(n, 2.5, 'close');
    bars.forEach((b, i) => {
      bb.update(b);
      if (i + 1 < n) return;
      const w = closes.slice(i + 1 - n, i + 1);
      const mean = w.reduce((a, x) => a + x, 0) / n;
      const sd = Math.sqrt(w.reduce((a, x) => a + (x - mean) * (x - mean), 0) / n);
      expect(relClose(bb.output(1), mean, 1e-12)).toBe(true);
      expect(relClose(bb.output(0), mean + 2.5 * sd, 1e-9)).toBe(true);
      expect(relClose(bb.output(2), mean - 2.5 * sd, 1e-9)).toBe(true);
    });
  });
});

interface FixtureCase {
  kind: IndicatorSpec['kind'];
  params: Record<string, number | string>;
  outputs: Record<string, (number | null)[]>;
}

interface Fixture {
  input: { time: number[]; open: number[]; high: number[]; low: number[]; close: number[] };
  cases: FixtureCase[];
}

function specOf(c: FixtureCase): IndicatorSpec {
  const p = c.params;
  const num = (k: string) => {
    const v = p[k];
    if (typeof v !== 'number') throw new Error(`${c.kind}: param ${k} missing in fixture`);
    return v;
  };
  const source = (p.source ?? 'close') as PriceSource;
  switch (c.kind) {
    case 'sma':
    case 'ema':
    case 'rsi':
      return { kind: c.kind, period: num('period'), source };
    case 'atr':
      return { kind: 'atr', period: num('period') };
    case 'bollinger':
      return { kind: 'bollinger', period: num('period'), deviations: num('deviations'), source };
    case 'envelope':
      return { kind: 'envelope', period: num('period'), percent: num('percent'), source };
    case 'macd':
      return { kind: 'macd', fast: num('fast'), slow: num('slow'), signal: num('signal'), source };
  }
}

describe.skipIf(!existsSync(FIXTURE))('TA-Lib reference values (__test__/fixtures/talib.json)', () => {
  const fx = (existsSync(FIXTURE) ? JSON.parse(readFileSync(FIXTURE, 'utf8')) : { input: {}, cases: [] }) as Fixture;

  it('covers every kind', () => {
    const kinds = new Set(fx.cases.map((c) => c.kind));
    for (const k of ['sma', 'ema', 'rsi', 'atr', 'bollinger', 'macd'] as const) expect(kinds.has(k)).toBe(true);
  });

  for (const c of fx.cases) {
    it(`${c.kind} ${JSON.stringify(c.params)}`, () => {
      const spec = specOf(c);
      const names = outputNames(spec);
      expect(Object.keys(c.outputs).sort()).toEqual([...names].sort());
      const ind = createIndicator(spec);
      const { time, open, high, low, close } = fx.input;
      const problems: string[] = [];
      for (let i = 0; i < time.length; i++) {
        ind.update({
          time: time[i] as number,
          open: open[i] as number,
          high: high[i] as number,
          low: low[i] as number,
          close: close[i] as number,
          volume: 0,
        });
        names.forEach((name, k) => {
          const want = c.outputs[name]?.[i];
          const got = ind.output(k);
          const ok = want === null || want === undefined ? Number.isNaN(got) : relClose(got, want, 1e-9);
          if (!ok && problems.length < 5) problems.push(`${name}[${i}]: got ${got}, want ${want}`);
        });
      }
      expect(problems).toEqual([]);
    });
  }
});
