/**
 * Grid expansion (docs/optimization.md, "Grid"): lists and ranges per parameter, the cartesian
 * product in key order with the last key varying fastest, constraints, and seeded sampling. Every
 * problem is collected into one ValidationError, each at the path where it occurs.
 */

import { Sfc32 } from '../data/generate.js';
import { type Issue, ValidationError } from '../errors.js';
import { declared, describe, isPlainObject, resolveParams, suggest, unknownFields } from '../ir/validate.js';
import type { Params, StrategyIR } from '../types.js';

export type GridValue = number[] | { from: number; to: number; step: number };
export type Grid = Record<string, GridValue>;
export type Constraint = ((p: Params) => boolean) | string;

export interface ExpandOptions {
  /** Values for the parameters the grid does not list (the grid overrides them). */
  base?: Params;
  /** What owns the parameters, in messages (default `strategy`). */
  owner?: 'strategy' | 'symphony';
  constraints?: Constraint[];
  sample?: { count: number; seed: number };
}

/** Largest grid expanded without sampling, and largest sample; beyond it a typo is more likely than intent. */
export const MAX_COMBINATIONS = 10_000_000;
/** Bad values reported per grid key before the rest are summarised in one line. */
const REPORT_PER_KEY = 3;
const TWO_32 = 0x1_0000_0000;

const COMPARE: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};
// Operands hold no whitespace and no operator characters, so `a < b < c` fails to parse instead of
// being read as a comparison with a strange name.
const CONSTRAINT_RE = /^\s*([^\s<>=!]+)\s*(<=|>=|==|!=|<|>)\s*([^\s<>=!]+)\s*$/;
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** One grid axis: its size and the value at each position. */
interface Axis {
  key: string;
  size: number;
  at(k: number): number;
  /** Positions worth checking against the parameter's spec (every problem shows up at one of them). */
  probes(): number[];
}

const round12 = (x: number): number => Number(x.toPrecision(12));

/** Number of `k >= 0` with `from + k * step <= to + step * 1e-9`, computed without enumerating. */
function rangeCount(from: number, to: number, step: number): number {
  const limit = to + step * 1e-9;
  let k = Math.floor((limit - from) / step);
  // The division can be off by one either way in floating point; settle on the exact rule.
  while (from + (k + 1) * step <= limit) k++;
  while (k > 0 && from + k * step > limit) k--;
  return k + 1;
}

function listAxis(key: string, values: number[]): Axis {
  return { key, size: values.length, at: (k) => values[k] as number, probes: () => values.map((_, i) => i) };
}

function rangeAxis(key: string, from: number, to: number, step: number): Axis {
  const size = rangeCount(from, to, step);
  // Small axes are materialised once so expanding a grid does not call toPrecision per combination.
  const cache =
    size <= MAX_COMBINATIONS ? Float64Array.from({ length: size }, (_, k) => round12(from + k * step)) : null;
  const at = cache ? (k: number) => cache[k] as number : (k: number) => round12(from + k * step);
  // Values increase, so min and max problems show at the ends, and a non-integer at k = 0 or 1.
  const probes = () => [...new Set([0, Math.min(1, size - 1), size - 1])];
  return { key, size, at, probes };
}

/** Parses one grid entry into an axis, or records why it cannot. */
function parseAxis(key: string, v: unknown, issues: Issue[]): Axis | null {
  const path = `grid.${key}`;
  if (Array.isArray(v)) {
    if (v.length === 0) {
      issues.push({ path, message: 'empty list (give at least one value)' });
      return null;
    }
    let ok = true;
    const seen = new Map<number, number>();
    v.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        issues.push({ path: `${path}[${i}]`, message: `expected a finite number, got ${describe(x)}` });
        ok = false;
        return;
      }
      // A repeated value would run the same combinations twice and skew the ranking's ties.
      const first = seen.get(x);
      if (first !== undefined) {
        issues.push({ path: `${path}[${i}]`, message: `duplicate value ${x} (also at [${first}])` });
        ok = false;
      } else seen.set(x, i);
    });
    return ok ? listAxis(key, v as number[]) : null;
  }
  if (!isPlainObject(v)) {
    issues.push({ path, message: `expected a list of numbers or { from, to, step }, got ${describe(v)}` });
    return null;
  }
  const before = issues.length;
  unknownFields(v, ['from', 'to', 'step'], path, issues);
  const num = (k: 'from' | 'to' | 'step'): number | null => {
    if (!Object.hasOwn(v, k) || v[k] === undefined) {
      issues.push({ path: `${path}.${k}`, message: 'missing required field' });
      return null;
    }
    const x = v[k];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      issues.push({ path: `${path}.${k}`, message: `expected a finite number, got ${describe(x)}` });
      return null;
    }
    return x;
  };
  const from = num('from');
  const to = num('to');
  const step = num('step');
  if (step !== null && step <= 0) issues.push({ path: `${path}.step`, message: 'must be > 0' });
  if (from !== null && to !== null && from > to)
    issues.push({ path: `${path}.from`, message: `must be <= to (${to})` });
  if (issues.length > before || from === null || to === null || step === null) return null;
  return rangeAxis(key, from, to, step);
}

/**
 * Keeps the first few issues per grid key (`grid.x[3]` counts under `grid.x`) and summarises the
 * rest in one line at the key, so a long bad list or range stays readable.
 */
function capPerKey(found: Issue[]): Issue[] {
  const byKey = new Map<string, Issue[]>();
  for (const i of found) {
    const key = i.path.replace(/\[\d+\]$/, '');
    const list = byKey.get(key) ?? [];
    if (!list.some((j) => j.path === i.path && j.message === i.message)) list.push(i);
    byKey.set(key, list);
  }
  const out: Issue[] = [];
  for (const [key, list] of byKey) {
    out.push(...list.slice(0, REPORT_PER_KEY));
    if (list.length > REPORT_PER_KEY) out.push({ path: key, message: `… and ${list.length - REPORT_PER_KEY} more` });
  }
  return out;
}

/** A constraint as a predicate, or the issue that makes it unusable. */
function compileConstraint(
  c: unknown,
  i: number,
  names: readonly string[],
  issues: Issue[],
  owner: 'strategy' | 'symphony',
): ((p: Params) => boolean) | null {
  const path = `constraints[${i}]`;
  if (typeof c === 'function') {
    const f = c as (p: Params) => unknown;
    return (p) => {
      try {
        return Boolean(f(p));
      } catch (e) {
        // One throwing predicate would throw for every combination; stop at the first with context.
        const msg = e instanceof Error ? e.message : String(e);
        throw ValidationError.at(path, `threw for ${JSON.stringify(p)}: ${msg}`);
      }
    };
  }
  if (typeof c !== 'string') {
    issues.push({ path, message: `expected a function or a string '<a> <op> <b>', got ${describe(c)}` });
    return null;
  }
  const m = CONSTRAINT_RE.exec(c);
  if (m === null) {
    issues.push({
      path,
      message: `cannot parse '${c}' (expected '<a> <op> <b>' with parameter names or numbers and op one of < <= > >= == !=)`,
    });
    return null;
  }
  const [, left, op, right] = m as unknown as [string, string, string, string];
  let ok = true;
  const operand = (tok: string): ((p: Params) => number) | null => {
    if (NUMBER_RE.test(tok)) {
      const x = Number(tok);
      return () => x;
    }
    if (!names.includes(tok)) {
      const list = declared(names, owner);
      issues.push({ path, message: `unknown parameter '${tok}' (${list})${suggest(tok, names)}` });
      ok = false;
      return null;
    }
    return (p) => p[tok] as number;
  };
  const a = operand(left);
  const b = operand(right);
  const cmp = COMPARE[op] as (x: number, y: number) => boolean;
  if (!ok || a === null || b === null) return null;
  return (p) => cmp(a(p), b(p));
}

/**
 * A random index in `[0, n)` from sfc32: `next() % n` while `n` fits in 32 bits, otherwise a 53-bit
 * draw `(next() & 0x1fffff) * 2^32 + next()` taken modulo `n` (grids beyond 2^32 need more bits).
 */
function draw(rng: Sfc32, n: number): number {
  if (n <= TWO_32) return rng.next() % n;
  const hi = rng.next() & 0x1fffff;
  return (hi * TWO_32 + rng.next()) % n;
}

/**
 * Positions `0..size-1` of the cartesian product kept by sampling, ascending.
 *
 * The algorithm (it fixes which combinations a seed selects, so it must not change):
 * a partial Fisher-Yates shuffle over the virtual array `P = [0, 1, …, size-1]` with
 * `rng = new Sfc32(seed)`: for `i = 0, 1, …`: `j = i + draw(rng, size - i)`; swap `P[i]` and `P[j]`;
 * the candidate `P[i]` is kept when `accept(P[i])`; stop once `count` are kept or every position has
 * been drawn. The kept positions are then sorted ascending (grid order). A uniformly random prefix
 * of a permutation, filtered, is a uniform sample without replacement of the accepted positions, so
 * constraints and sampling compose. Only moved entries of `P` are stored (a Map), switching to a
 * dense array when that is smaller; either storage gives the same result.
 */
export function samplePositions(
  size: number,
  count: number,
  seed: number,
  accept: (pos: number) => boolean = () => true,
  maxDraws = Number.POSITIVE_INFINITY,
): { positions: number[]; draws: number } {
  const rng = new Sfc32(seed);
  let sparse: Map<number, number> | null = new Map();
  let dense: Uint32Array | null = null;
  const get = (k: number): number => (dense ? (dense[k] as number) : (sparse?.get(k) ?? k));
  const set = (k: number, v: number): void => {
    if (dense) dense[k] = v;
    else sparse?.set(k, v);
  };
  const kept: number[] = [];
  let i = 0;
  for (; i < size && kept.length < count && i < maxDraws; i++) {
    const j = i + draw(rng, size - i);
    const pj = get(j);
    set(j, get(i));
    // P[i] is consumed here and never read again, so it need not be stored.
    if (accept(pj)) kept.push(pj);
    if (sparse && size <= MAX_COMBINATIONS && sparse.size * 4 > size) {
      dense = Uint32Array.from({ length: size }, (_, k) => k);
      for (const [k, v] of sparse) dense[k] = v;
      sparse = null;
    }
  }
  kept.sort((x, y) => x - y);
  return { positions: kept, draws: i };
}

/**
 * Expands `grid` against a validated strategy. Returns the combinations in grid order (after
 * constraints and sampling) and `gridSize`, the size of the full cartesian product. Each combination
 * holds every strategy parameter: the grid's value, else `base`, else the default.
 */
export function expandGrid(
  strategy: StrategyIR,
  grid: Grid,
  options: ExpandOptions = {},
): { combos: Params[]; gridSize: number } {
  const issues: Issue[] = [];
  const specs = strategy.params ?? {};
  const names = Object.keys(specs);
  const owner = options.owner ?? 'strategy';

  // ---- the grid's axes
  const axes: Axis[] = [];
  if (!isPlainObject(grid)) {
    issues.push({ path: 'grid', message: `expected an object of parameter values, got ${describe(grid)}` });
  } else {
    for (const [key, v] of Object.entries(grid)) {
      if (!Object.hasOwn(specs, key)) {
        const list = declared(names, owner);
        issues.push({ path: `grid.${key}`, message: `unknown parameter (${list})${suggest(key, names)}` });
        continue;
      }
      const axis = parseAxis(key, v, issues);
      if (axis) axes.push(axis);
    }
  }

  // ---- each value against its parameter's spec (type, min, max), through resolveParams itself
  const specOnly: StrategyIR = { ...strategy, workers: [] };
  const valueIssues: Issue[] = [];
  for (const axis of axes) {
    const listed = Array.isArray((grid as Grid)[axis.key]);
    for (const k of axis.probes()) {
      try {
        resolveParams(specOnly, { [axis.key]: axis.at(k) });
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        const path = listed ? `grid.${axis.key}[${k}]` : `grid.${axis.key}`;
        for (const i of e.issues) valueIssues.push({ path, message: i.message });
      }
    }
  }
  issues.push(...capPerKey(valueIssues));

  // ---- base values, and the options
  const base = options.base ?? {};
  const fixed: Params = {};
  try {
    Object.assign(fixed, resolveParams(specOnly, base));
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    issues.push(...e.issues);
  }

  const rawConstraints: unknown = options.constraints ?? [];
  const predicates: ((p: Params) => boolean)[] = [];
  if (!Array.isArray(rawConstraints)) {
    issues.push({ path: 'constraints', message: `expected a list of constraints, got ${describe(rawConstraints)}` });
  } else {
    rawConstraints.forEach((c, i) => {
      const f = compileConstraint(c, i, names, issues, owner);
      if (f) predicates.push(f);
    });
  }

  const sample: unknown = options.sample;
  let count = Number.POSITIVE_INFINITY;
  let seed = 0;
  if (sample !== undefined) {
    if (!isPlainObject(sample)) {
      issues.push({ path: 'sample', message: `expected { count, seed }, got ${describe(sample)}` });
    } else {
      unknownFields(sample, ['count', 'seed'], 'sample', issues);
      const c = sample.count;
      const s = sample.seed;
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 1) {
        issues.push({ path: 'sample.count', message: `expected an integer >= 1, got ${describe(c)}` });
      } else count = c;
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 0xffffffff) {
        issues.push({ path: 'sample.seed', message: `expected an integer in [0, 2^32), got ${describe(s)}` });
      } else seed = s;
    }
  }

  // ---- size guard
  let gridSize = 1;
  for (const a of axes) gridSize *= a.size;
  if (issues.length === 0) {
    if (gridSize > Number.MAX_SAFE_INTEGER) {
      issues.push({
        path: 'grid',
        message: `${gridSize} combinations is beyond what can be numbered; narrow the grid`,
      });
    } else if (gridSize > MAX_COMBINATIONS && count > MAX_COMBINATIONS) {
      const n = gridSize.toLocaleString('en-US');
      const limit = MAX_COMBINATIONS.toLocaleString('en-US');
      const hint =
        count === Number.POSITIVE_INFINITY
          ? 'narrow the grid or add sample: { count, seed }'
          : `sample.count must be <= ${limit}`;
      issues.push({ path: 'grid', message: `${n} combinations exceed the limit of ${limit}; ${hint}` });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);

  // ---- combinations
  // Key order of every combination is the strategy's declaration order, whatever the grid's order.
  const template: Params = {};
  for (const n of names) template[n] = fixed[n] as number;
  const comboAt = (pos: number): Params => {
    const p: Params = { ...template };
    for (let d = axes.length - 1; d >= 0; d--) {
      const a = axes[d] as Axis;
      p[a.key] = a.at(pos % a.size);
      pos = Math.floor(pos / a.size);
    }
    return p;
  };
  const accepted = (p: Params): boolean => predicates.every((f) => f(p));

  const combos: Params[] = [];
  if (count >= gridSize) {
    for (let pos = 0; pos < gridSize; pos++) {
      const p = comboAt(pos);
      if (accepted(p)) combos.push(p);
    }
  } else {
    const cache = new Map<number, Params>();
    const accept = (pos: number): boolean => {
      const p = comboAt(pos);
      if (!accepted(p)) return false;
      cache.set(pos, p);
      return true;
    };
    // Grids too big to enumerate bound the search, so constraints that keep almost nothing fail loudly.
    const maxDraws = gridSize > MAX_COMBINATIONS ? MAX_COMBINATIONS : Number.POSITIVE_INFINITY;
    const { positions, draws } = samplePositions(gridSize, count, seed, accept, maxDraws);
    if (positions.length < count && draws >= maxDraws) {
      throw ValidationError.at(
        'constraints',
        `only ${positions.length} of ${draws.toLocaleString('en-US')} sampled combinations pass the constraints (sample.count is ${count}); narrow the grid`,
      );
    }
    for (const pos of positions) combos.push(cache.get(pos) as Params);
  }

  checkWorkers(strategy, combos, new Set(axes.map((a) => a.key)));
  return { combos, gridSize };
}

/**
 * Section 3's worker checks on each combination (periods >= 1, macd fast < slow, …). They depend
 * only on the grid parameters each worker references, so a combination is checked only when it
 * gives some worker values not seen yet.
 * A problem traced to a grid parameter is reported at `grid.<name>`, with the worker path in the
 * message and the offending values.
 */
function checkWorkers(strategy: StrategyIR, combos: Params[], gridKeys: Set<string>): void {
  // The grid keys each worker reads: a worker's verdict depends on those values only.
  const keysOf = (strategy.workers ?? []).map((w) => {
    const names = new Set<string>();
    for (const v of Object.values(w.params)) {
      if (isPlainObject(v) && typeof v.param === 'string' && gridKeys.has(v.param)) names.add(v.param);
    }
    return [...names];
  });
  const perWorker = keysOf.filter((names) => names.length > 0);
  const refs = [...new Set(perWorker.flat())];
  const seen = perWorker.map(() => new Set<string>());
  const found: Issue[] = [];
  for (const [c, p] of combos.entries()) {
    // A combination is checked when it gives some worker values not checked yet (the first one
    // always, for the workers without grid keys): a problem is found at the first combination
    // that has it, not again for every combination that repeats it.
    let fresh = c === 0;
    perWorker.forEach((names, w) => {
      const key = names.map((n) => p[n]).join(',');
      const done = seen[w] as Set<string>;
      if (!done.has(key)) {
        done.add(key);
        fresh = true;
      }
    });
    if (!fresh) continue;
    try {
      resolveParams(strategy, p);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      for (const i of e.issues) {
        // The values that give the problem: those of its worker's grid keys.
        const worker = /^strategy\.workers\[(\d+)\]/.exec(i.path)?.[1];
        const names = worker === undefined ? refs : (keysOf[Number(worker)] ?? refs);
        const values = names.map((n) => `${n}=${p[n]}`).join(', ');
        const origin = /\(from param '([^']+)'\)$/.exec(i.message)?.[1];
        if (origin !== undefined && gridKeys.has(origin)) {
          found.push({ path: `grid.${origin}`, message: `${i.path}: ${i.message} with ${values}` });
        } else found.push({ path: i.path, message: values ? `${i.message} with ${values}` : i.message });
      }
    }
    // Without grid-dependent workers every combination shares the first one's verdict.
    if (refs.length === 0) break;
  }
  if (found.length > 0) throw new ValidationError(capPerKey(found));
}
