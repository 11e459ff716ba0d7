/** A small seeded PRNG (mulberry32) and the helpers the families draw with. */

export type Rng = {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
};

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Each case's own stream: the same (family, seed, case) always draws the same values. */
export function caseRng(family: string, seed: number, k: number): Rng {
  let h = 0x9e3779b9;
  for (let i = 0; i < family.length; i++) h = mix(h, family.charCodeAt(i));
  h = mix(h, seed >>> 0);
  h = mix(h, Math.floor(seed / 2 ** 32) >>> 0);
  h = mix(h, k >>> 0);
  return mulberry32(h);
}

export function mulberry32(state: number): Rng {
  let a = state >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(items.length)] as (typeof items)[number];
    },
  };
}

/** The numbers every numeric slot is tried with. */
export const EDGE_NUMBERS: readonly number[] = [
  0,
  -1,
  1,
  2,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 40,
  2 ** 52,
  2 ** 53 + 2,
  1e300,
  -1e300,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  5e-324,
  100000,
  100001,
  99999,
  1023,
  1024,
  1025,
  255,
  256,
  257,
  -100000,
];

export const EDGE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\uD800',
  '\uDC00',
  'a\uD800b',
  '\u0000',
  'M1',
  'M5',
  'H1',
  'D1',
  'W1',
  'value',
  'close',
  'upper',
  'lower',
  'signal',
  'x'.repeat(10_000),
  '__proto__',
  'constructor',
  'param',
  'rsi',
  'env',
  '💥',
  'NaN',
];
