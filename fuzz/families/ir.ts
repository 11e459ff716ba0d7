// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
/**
 * Strategy IR mutations: valid IRs with numbers swapped for edge values, strings swapped, keys
 * deleted or copied, expressions nested deeper and operations widened; run on both engines (and
 * for some cases asynchronously too), which must both refuse or both trade alike.
 */
import { generateTicks, referenceStrategy, type StrategyIR, type TickData } from '../../dist/index.js';
import { compare, runAsync, runSync, sameRun } from '../engines.js';
import { caseRng, EDGE_NUMBERS, EDGE_STRINGS, type Rng } from '../prng.js';
import type { Failure, Family } from '../types.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const crossOffsets: Json = {
  version: 1,
  name: 'cross-offsets',
  params: {
    fast: { default: 3, type: 'int', min: 1 },
    slow: { default: 8, type: 'int', min: 2 },
    lots: { default: 1 },
  },
  decision: { timeframe: 'M1', on: 'bar' },
  workers: [
    { id: 'f', kind: 'sma', timeframe: 'M1', params: { period: { param: 'fast' } } },
    { id: 's', kind: 'ema', timeframe: 'M1', params: { period: { param: 'slow' }, source: 'close' } },
    { id: 'm', kind: 'macd', timeframe: 'M1', params: { fast: 3, slow: 6, signal: 2 } },
  ],
  rules: [
    {
      when: {
        op: 'and',
        args: [
          { op: 'crossAbove', args: [{ worker: 'f' }, { worker: 's', offset: 1 }] },
          {
            op: '>',
            args: [
              { bar: 'close', offset: 2 },
              { op: '-', args: [{ bar: 'open' }, 0.0001] },
            ],
          },
        ],
      },
      then: [{ action: 'buy', lots: { param: 'lots' }, sl: { pips: 15 }, tp: { pips: 10 } }],
    },
    {
      when: {
        op: 'crossBelow',
        args: [
          { worker: 'm', output: 'macd' },
          { worker: 'm', output: 'signal', offset: 1 },
        ],
      },
      then: [{ action: 'close' }, { action: 'sell', lots: 1, trail: { pips: 8 }, sl: { pips: 12 } }],
    },
  ],
};

const pending: Json = {
  version: 1,
  name: 'pending-orders',
  decision: { timeframe: 'M1', on: 'tick' },
  workers: [
    { id: 'b', kind: 'bollinger', timeframe: 'M1', params: { period: 5, deviations: 1.5 } },
    { id: 'a', kind: 'atr', timeframe: 'M5', params: { period: 2 } },
  ],
  rules: [
    {
      when: {
        op: 'and',
        args: [
          { op: '==', args: [{ position: 'side' }, 0] },
          { op: '<', args: [{ quote: 'spread' }, 0.001] },
          { op: '>=', args: [{ time: 'minute' }, 0] },
        ],
      },
      then: [
        {
          action: 'buy',
          order: 'limit',
          price: { worker: 'b', output: 'lower' },
          risk: 1,
          sl: { pips: 10 },
          tp: { price: { worker: 'b', output: 'upper', offset: 3 } },
        },
      ],
    },
    {
      when: {
        op: 'or',
        args: [
          { op: '>', args: [{ position: 'pnlPips' }, 5] },
          { op: '<', args: [{ account: 'equity' }, { op: '*', args: [{ account: 'balance' }, 0.99] }] },
        ],
      },
      then: [{ action: 'close' }, { action: 'cancel' }],
    },
    {
      when: {
        op: '>',
        args: [
          { forming: 'high', timeframe: 'M5' },
          { op: '+', args: [{ bar: 'high', timeframe: 'M5' }, { worker: 'a' }] },
        ],
      },
      then: [
        {
          action: 'sell',
          order: 'stop',
          price: { op: 'neg', args: [{ op: 'neg', args: [{ quote: 'bid' }] }] },
          lots: 0.5,
        },
      ],
    },
  ],
};

export const BASES: readonly Json[] = [referenceStrategy as unknown as Json, crossOffsets, pending];
const DEPTHS = [2, 8, 60, 61, 62, 200, 247, 248, 255, 256, 257, 1000, 2000, 3000];
const WIDTHS = [2, 3, 100, 1023, 1024, 1025, 2000, 10_000];
const KEYS = ['op', 'args', 'worker', 'bar', 'offset', 'output', 'param', 'period', 'then', 'when', 'id', 'timeframe'];

function clone(v: Json): Json {
  return JSON.parse(JSON.stringify(v));
}

type Slot = { parent: Json[] | { [k: string]: Json }; key: string | number; value: Json };

function slots(root: Json): Slot[] {
  const out: Slot[] = [];
  const stack: Json[] = [root];
  while (stack.length > 0) {
    const v = stack.pop() as Json;
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push({ parent: v, key: i, value: x });
        stack.push(x);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        out.push({ parent: v, key: k, value: v[k] as Json });
        stack.push(v[k] as Json);
      }
    }
  }
  return out;
}

function set(s: Slot, v: Json) {
  (s.parent as Record<string | number, Json>)[s.key] = v;
}

const isExpr = (v: Json): boolean =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && ('op' in v || 'worker' in v || 'bar' in v);

function wrap(e: Json, depth: number, rng: Rng): Json {
  const op = rng.pick(['+', 'neg', 'and', 'max', 'abs']);
  let v = e;
  for (let i = 1; i < depth; i++) {
    if (op === 'neg' || op === 'abs') v = { op, args: [v] };
    else if (op === 'and') v = { op: 'and', args: [v, true] };
    else v = { op, args: [v, 0] };
  }
  return v;
}

/** A mutation that keeps the tree's size: a value swapped, deleted or copied. */
function mutate(root: Json, rng: Rng): void {
  const all = slots(root);
  if (all.length === 0) return;
  const r = rng.int(78);
  if (r < 30) {
    const nums = all.filter((s) => typeof s.value === 'number');
    if (nums.length) set(rng.pick(nums), rng.pick(EDGE_NUMBERS));
  } else if (r < 50) {
    const strs = all.filter((s) => typeof s.value === 'string');
    if (strs.length) set(rng.pick(strs), rng.pick(EDGE_STRINGS));
  } else if (r < 60) {
    const s = rng.pick(all);
    if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
    else delete s.parent[s.key as string];
  } else if (r < 68) {
    // Copy a value under another key or duplicate an array element.
    const s = rng.pick(all);
    if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 0, clone(s.value));
    else s.parent[rng.pick(KEYS)] = clone(s.value);
  } else {
    // Replace any value with a value of another type.
    const s = rng.pick(all);
    set(s, rng.pick<Json>([null, true, [], {}, 'x', 1, { param: 'nope' }, { op: '+', args: [] }]));
  }
}

/** Nests an expression deeper or widens an operation (at most once a case: sizes multiply). */
function reshape(all: Slot[], rng: Rng, deeper: boolean): void {
  if (deeper) {
    const exprs = all.filter((s) => isExpr(s.value));
    if (exprs.length) {
      const s = rng.pick(exprs);
      set(s, wrap(s.value, rng.pick(DEPTHS), rng));
    }
  } else {
    const ops = all.filter((s) => isExpr(s.value) && Array.isArray((s.value as { args?: Json }).args));
    if (ops.length) {
      const s = rng.pick(ops);
      const args = (s.value as { args: Json[] }).args;
      const width = rng.pick(WIDTHS);
      const seedArg = args.length ? args : [1];
      (s.value as { args: Json[] }).args = Array.from({ length: width }, (_, i) => clone(seedArg[i % seedArg.length]!));
    }
  }
}

const tickCache = new Map<number, TickData>();
function ticksFor(seed: number): TickData {
  let t = tickCache.get(seed);
  if (!t) {
    t = generateTicks({ days: 0.05, seed });
    tickCache.set(seed, t);
  }
  return t;
}

export function build(seed: number, k: number): { strategy: Json; tickSeed: number; asyncToo: boolean } {
  const rng = caseRng('ir', seed, k);
  const strategy = clone(rng.pick(BASES));
  const n = rng.int(3);
  for (let i = 0; i < n; i++) mutate(strategy, rng);
  if (n === 0 || rng.chance(0.3)) reshape(slots(strategy), rng, rng.chance(0.5));
  return { strategy, tickSeed: rng.int(4), asyncToo: rng.chance(0.1) };
}

export const irFamily: Family = {
  name: 'ir',
  async run(seed, k): Promise<Failure | null> {
    const { strategy, tickSeed, asyncToo } = build(seed, k);
    const options = { ticks: ticksFor(tickSeed), strategy: strategy as unknown as StrategyIR };
    const sync = runSync(options);
    const f = compare('backtestSync', sync.native, sync.js, false);
    if (f || !asyncToo) return f;
    const a = await runAsync(options);
    return (
      compare('backtest', a.native, a.js, false) ??
      sameRun('native sync/async', sync.native, a.native) ??
      sameRun('js sync/async', sync.js, a.js)
    );
  },
  describe(seed, k) {
    const s = JSON.stringify(build(seed, k).strategy);
    return s.length > 4000 ? `${s.slice(0, 4000)}... (${s.length} chars)` : s;
  },
};
