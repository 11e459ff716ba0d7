// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
/**
 * Tick columns with numeric edge cases (NaN, ±Infinity, -0, 1e308, denormals, unsorted or equal
 * times, one row, none, columns of different lengths) through backtestSync on both engines: both
 * refuse with a ValidationError naming the same path, or both run with the same trades.
 */
import { referenceStrategy, type StrategyIR, type TickData } from '../../dist/index.js';
import { compare, runSync } from '../engines.js';
import { caseRng, type Rng } from '../prng.js';
import type { Failure, Family } from '../types.js';

const scalper: StrategyIR = {
  version: 1,
  name: 'scalper',
  decision: { timeframe: 'M1', on: 'tick' },
  workers: [{ id: 'f', kind: 'sma', timeframe: 'M1', params: { period: 2 } }],
  rules: [
    {
      when: {
        op: 'and',
        args: [
          { op: '==', args: [{ position: 'side' }, 0] },
          { op: '>', args: [{ quote: 'mid' }, { op: '-', args: [{ worker: 'f' }, 1] }] },
        ],
      },
      then: [{ action: 'buy', lots: 1, sl: { pips: 2 }, tp: { pips: 2 } }],
    },
    {
      when: { op: '>', args: [{ position: 'pnlPips' }, 1] },
      then: [{ action: 'close' }],
    },
  ],
};

const VALUES = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  0,
  1e308,
  -1e308,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  -1,
  1,
  2 ** 53,
  8.64e15,
  8.64e15 + 1,
  -8.64e15,
];
const SIZES = [0, 1, 1, 2, 3, 10, 100, 1000, 5000];

interface Built {
  ticks: TickData;
  strategy: StrategyIR;
  note: string;
}

function column(n: number, f: (i: number) => number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

function poke(a: Float64Array, rng: Rng, v: number) {
  if (a.length > 0) a[rng.int(a.length)] = v;
}

export function build(seed: number, k: number): Built {
  const rng = caseRng('ticks', seed, k);
  const notes: string[] = [];
  // A million equal timestamps now and then (costly: one case in 200).
  const huge = rng.chance(0.005);
  const n = huge ? 1_000_000 : rng.pick(SIZES);
  const t0 = 1_704_153_600_000 + rng.int(1000);
  const step = rng.pick([0, 1, 100, 900, 60_000]);
  let wave = 0;
  const time = column(n, (i) => t0 + i * step);
  const bid = column(n, (i) => {
    wave = 1.1 + 0.001 * Math.sin(i / 7) + 0.0001 * ((i * 7919) % 13);
    return wave;
  });
  const ask = column(n, (i) => (bid[i] as number) + 0.00012);
  let volume: Float64Array | undefined = rng.chance(0.5) ? column(n, () => 1 + rng.int(5)) : undefined;
  notes.push(`n=${n} step=${step}${volume ? ' volume' : ''}`);
  const cols = { time, bid, ask } as Record<string, Float64Array>;
  if (volume) cols.volume = volume;
  const edits = huge ? rng.int(2) : rng.int(4);
  for (let e = 0; e < edits; e++) {
    const name = rng.pick(Object.keys(cols));
    const col = cols[name] as Float64Array;
    const r = rng.int(10);
    if (r < 5) {
      const v = rng.pick(VALUES);
      poke(col, rng, v);
      notes.push(`${name}[?]=${Object.is(v, -0) ? '-0' : v}`);
    } else if (r < 6 && n > 1) {
      const i = rng.int(n - 1);
      const tmp = time[i] as number;
      time[i] = time[i + 1] as number;
      time[i + 1] = tmp;
      notes.push(`swap time ${i}`);
    } else if (r < 7) {
      time.fill(t0);
      notes.push('equal times');
    } else if (r < 8 && n > 0) {
      cols[name] = col.subarray(0, rng.int(n));
      notes.push(`${name} shortened to ${cols[name]!.length}`);
    } else if (r < 9) {
      // Ask under bid, or the spread turned upside down at one row.
      if (n > 0) {
        const i = rng.int(n);
        ask[i] = (bid[i] as number) - 0.0001;
        notes.push(`ask<bid at ${i}`);
      }
    } else {
      const v = rng.pick(VALUES);
      col.fill(v);
      notes.push(`${name} all ${v}`);
    }
  }
  const ticks: TickData = { time: cols.time!, bid: cols.bid!, ask: cols.ask! };
  volume = cols.volume;
  if (volume) ticks.volume = volume;
  const strategy = rng.chance(0.5) ? scalper : referenceStrategy;
  return { ticks, strategy, note: `${strategy.name}: ${notes.join('; ')}` };
}

export const ticksFamily: Family = {
  name: 'ticks',
  async run(seed, k): Promise<Failure | null> {
    const { ticks, strategy } = build(seed, k);
    const r = runSync({ ticks, strategy });
    return compare('backtestSync', r.native, r.js, true);
  },
  describe(seed, k) {
    return build(seed, k).note;
  },
};
