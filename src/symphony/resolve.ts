/**
 * Symphony IR checks and parameter resolution (docs/symphony.md sections 1 and 8). Every problem
 * is collected so that one ValidationError lists them all, each at its JSON path (`symphony.root.
 * children[1].window`, `symphony.tickers[2]`; `params.maWindow` for given values).
 */
import { type Issue, ValidationError } from '../errors.js';
import { declared, describe, isPlainObject, paramSpecs, paramValues, suggest, unknownFields } from '../ir/validate.js';
import type { NumberOrParam, ParamSpec } from '../types.js';
import {
  MAX_SYMPHONY_DEPTH,
  REBALANCE_PERIODS,
  SYMPHONY_INDICATORS,
  SYMPHONY_NODE_TYPES,
  type SymphonyCondition,
  type SymphonyIR,
  type SymphonyNode,
  type SymphonyValue,
} from './types.js';

const ROOT = 'symphony';
const TOP_FIELDS = ['version', 'kind', 'name', 'params', 'rebalance', 'tickers', 'root'] as const;
const NODE_TYPES = SYMPHONY_NODE_TYPES;
const NODE_FIELDS: Readonly<Record<(typeof NODE_TYPES)[number], readonly string[]>> = {
  asset: ['type', 'ticker', 'name'],
  'weight-equal': ['type', 'children'],
  'weight-specified': ['type', 'weights', 'children'],
  'weight-inverse-volatility': ['type', 'window', 'children'],
  filter: ['type', 'fn', 'window', 'select', 'count', 'children'],
  group: ['type', 'name', 'children'],
  if: ['type', 'cond', 'then', 'else'],
};
const COMPARE_OPS = ['>', '<', '>=', '<=', '='] as const;
const REBALANCE = REBALANCE_PERIODS;

function oneOf(name: string, list: readonly string[]): string {
  return `(expected one of ${list.join(', ')})${suggest(name, list)}`;
}

/** How a numeric slot is checked once its value is known. */
type NumberRule = 'window' | 'count' | 'weight' | 'threshold' | 'constant';

function ruleProblem(rule: NumberRule, v: number): string | null {
  switch (rule) {
    case 'window':
      return Number.isInteger(v) && v >= 1 ? null : `window must be an integer >= 1, got ${v}`;
    case 'count':
      return Number.isInteger(v) && v >= 1 ? null : `count must be an integer >= 1, got ${v}`;
    case 'weight':
      return Number.isFinite(v) && v >= 0 ? null : `weight must be a finite number >= 0, got ${v}`;
    case 'threshold':
      return Number.isFinite(v) && v > 0 ? null : `threshold must be a finite number > 0, got ${v}`;
    case 'constant':
      return Number.isFinite(v) ? null : `constant must be a finite number, got ${v}`;
  }
}

/**
 * One pass over an IR. Mode `shape` checks structure and that param references name declared
 * params; mode `resolve` also substitutes them from `values` and applies section 1's checks;
 * mode `resolved` rejects any param reference (what an engine receives).
 */
class SymphonyChecker {
  readonly issues: Issue[] = [];
  private paramNames: string[] = [];
  private readonly named: { ticker: string; path: string }[] = [];
  private values: Record<string, number> = {};
  /** Resolve mode: the given values were rejected, so param-derived numbers are not checked. */
  private valuesBad = false;
  constructor(
    private readonly mode: 'shape' | 'resolve' | 'resolved',
    private readonly given?: unknown,
  ) {}

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** Checks `input`; returns the substituted copy (meaningful when there are no issues). */
  run(input: unknown): SymphonyIR | null {
    if (!isPlainObject(input)) {
      this.add(ROOT, `expected a symphony object, got ${describe(input)}`);
      return null;
    }
    for (const k of Object.keys(input)) {
      if (!(TOP_FIELDS as readonly string[]).includes(k))
        this.add(`${ROOT}.${k}`, `unknown field '${k}' ${oneOf(k, TOP_FIELDS)}`);
    }
    if (!Object.hasOwn(input, 'version')) this.add(`${ROOT}.version`, 'missing required field');
    else if (input.version !== 1)
      this.add(`${ROOT}.version`, `unsupported version ${describe(input.version)} (expected 1)`);
    if (!Object.hasOwn(input, 'kind')) this.add(`${ROOT}.kind`, 'missing required field');
    else if (input.kind !== 'symphony') this.add(`${ROOT}.kind`, `expected 'symphony', got ${describe(input.kind)}`);
    if (input.name !== undefined && input.name !== null && typeof input.name !== 'string') {
      this.add(`${ROOT}.name`, `expected a string, got ${describe(input.name)}`);
    }

    let params: Record<string, ParamSpec> | undefined;
    if (input.params !== undefined && input.params !== null) params = this.params(input.params, `${ROOT}.params`);
    if (this.mode === 'resolve') {
      const before = this.issues.length;
      this.values = paramValues(params ?? {}, this.given, 'symphony', this.issues);
      this.valuesBad = this.issues.length > before;
    }

    let rebalance: SymphonyIR['rebalance'];
    if (input.rebalance !== undefined && input.rebalance !== null)
      rebalance = this.rebalance(input.rebalance, `${ROOT}.rebalance`);

    let tickers: string[] = [];
    if (!Object.hasOwn(input, 'tickers')) this.add(`${ROOT}.tickers`, 'missing required field');
    else tickers = this.tickers(input.tickers, `${ROOT}.tickers`);

    let root: SymphonyNode | null = null;
    if (!Object.hasOwn(input, 'root')) this.add(`${ROOT}.root`, 'missing required field');
    else root = this.node(input.root, `${ROOT}.root`);

    const listed = new Set(tickers);
    for (const { ticker, path } of this.named) {
      if (!listed.has(ticker)) {
        this.add(path, `ticker '${ticker}' is not listed in symphony.tickers${suggest(ticker, tickers)}`);
      }
    }
    if (root === null) return null;
    const out: SymphonyIR = {
      version: 1,
      kind: 'symphony',
      name: typeof input.name === 'string' ? input.name : '',
      tickers: [...tickers],
      root,
    };
    if (this.mode === 'shape' && params !== undefined) out.params = params;
    if (rebalance !== undefined) out.rebalance = rebalance;
    return out;
  }

  private params(v: unknown, path: string): Record<string, ParamSpec> | undefined {
    const checked = paramSpecs(v, path, this.issues, true);
    if (checked === undefined) return undefined;
    this.paramNames.push(...checked.names);
    return checked.specs;
  }

  private rebalance(v: unknown, path: string): SymphonyIR['rebalance'] {
    if (typeof v === 'string') {
      if ((REBALANCE as readonly string[]).includes(v)) return v as 'daily';
      this.add(path, `unknown rebalance rule '${v}' ${oneOf(v, [...REBALANCE, '{ threshold }'])}`);
      return undefined;
    }
    if (!isPlainObject(v)) {
      this.add(path, `expected ${REBALANCE.join(', ')} or { threshold }, got ${describe(v)}`);
      return undefined;
    }
    unknownFields(v, ['threshold'], path, this.issues);
    if (!Object.hasOwn(v, 'threshold')) {
      this.add(`${path}.threshold`, 'missing required field');
      return undefined;
    }
    const t = this.number(v.threshold, `${path}.threshold`, 'threshold');
    return t === undefined ? undefined : { threshold: t };
  }

  private tickers(v: unknown, path: string): string[] {
    if (!Array.isArray(v)) {
      this.add(path, `expected a list of ticker names, got ${describe(v)}`);
      return [];
    }
    const out: string[] = [];
    v.forEach((t, i) => {
      if (typeof t !== 'string' || t === '') {
        this.add(`${path}[${i}]`, `expected a non-empty ticker name, got ${describe(t)}`);
        return;
      }
      const prev = out[out.length - 1];
      if (prev !== undefined && !(prev < t)) {
        this.add(
          `${path}[${i}]`,
          prev === t
            ? `duplicate ticker '${t}'`
            : `'${t}' is out of order (tickers are sorted ascending; it comes before '${prev}')`,
        );
      }
      out.push(t);
    });
    return out;
  }

  /** A numeric slot: a number, or `{ param }` (substituted in `resolve` mode). */
  private number(v: unknown, path: string, rule: NumberRule): NumberOrParam | undefined {
    if (typeof v === 'number') {
      if (this.mode !== 'shape') {
        const problem = ruleProblem(rule, v);
        if (problem) {
          this.add(path, problem);
          return undefined;
        }
      } else if (!Number.isFinite(v)) {
        this.add(path, `expected a finite number, got ${v}`);
        return undefined;
      }
      return v;
    }
    if (isPlainObject(v) && Object.hasOwn(v, 'param')) {
      unknownFields(v, ['param'], path, this.issues);
      const name = v.param;
      if (typeof name !== 'string') {
        this.add(`${path}.param`, `expected a parameter name, got ${describe(name)}`);
        return undefined;
      }
      if (this.mode === 'resolved') {
        this.add(path, `unresolved parameter reference '${name}' (resolve the symphony before running it)`);
        return undefined;
      }
      if (!this.paramNames.includes(name)) {
        this.add(
          path,
          `unknown parameter '${name}' (${declared(this.paramNames, 'symphony')})${suggest(name, this.paramNames)}`,
        );
        return undefined;
      }
      if (this.mode === 'shape') return { param: name };
      if (this.valuesBad) return undefined;
      const x = this.values[name] as number;
      const problem = ruleProblem(rule, x);
      if (problem) {
        this.add(path, `${problem} (from param '${name}')`);
        return undefined;
      }
      return x;
    }
    this.add(path, `expected a number or { param }, got ${describe(v)}`);
    return undefined;
  }

  private list(v: unknown, path: string): SymphonyNode[] | null {
    if (!Array.isArray(v)) {
      this.add(path, `expected a list of nodes, got ${describe(v)}`);
      return null;
    }
    if (v.length === 0) {
      this.add(path, 'expected at least one node');
      return null;
    }
    const out: SymphonyNode[] = [];
    let ok = true;
    v.forEach((c, i) => {
      const n = this.node(c, `${path}[${i}]`);
      if (n) out.push(n);
      else ok = false;
    });
    return ok ? out : null;
  }

  private node(v: unknown, path: string): SymphonyNode | null {
    if (!isPlainObject(v)) {
      this.add(path, `expected a node object, got ${describe(v)}`);
      return null;
    }
    const type = v.type;
    if (typeof type !== 'string' || !(NODE_TYPES as readonly string[]).includes(type)) {
      const name = typeof type === 'string' ? type : '';
      this.add(
        `${path}.type`,
        type === undefined
          ? 'missing required field'
          : `unknown node type ${describe(type)} ${oneOf(name, NODE_TYPES)}`,
      );
      return null;
    }
    const t = type as (typeof NODE_TYPES)[number];
    const before = this.issues.length;
    unknownFields(v, NODE_FIELDS[t], path, this.issues);
    const need = (k: string): boolean => {
      if (v[k] === undefined || v[k] === null) {
        this.add(`${path}.${k}`, 'missing required field');
        return false;
      }
      return true;
    };
    switch (t) {
      case 'asset': {
        if (!need('ticker')) return null;
        if (typeof v.ticker !== 'string' || v.ticker === '') {
          this.add(`${path}.ticker`, `expected a ticker name, got ${describe(v.ticker)}`);
          return null;
        }
        this.named.push({ ticker: v.ticker, path: `${path}.ticker` });
        if (v.name !== undefined && v.name !== null && typeof v.name !== 'string') {
          this.add(`${path}.name`, `expected a string or null, got ${describe(v.name)}`);
        }
        const out: SymphonyNode = { type: 'asset', ticker: v.ticker };
        if (v.name !== undefined) out.name = v.name as string | null;
        return this.issues.length > before ? null : out;
      }
      case 'weight-equal': {
        const children = need('children') ? this.list(v.children, `${path}.children`) : null;
        return children && this.issues.length === before ? { type: 'weight-equal', children } : null;
      }
      case 'group': {
        if (need('name') && typeof v.name !== 'string')
          this.add(`${path}.name`, `expected a string, got ${describe(v.name)}`);
        const children = need('children') ? this.list(v.children, `${path}.children`) : null;
        return children && this.issues.length === before ? { type: 'group', name: v.name as string, children } : null;
      }
      case 'weight-specified': {
        const children = need('children') ? this.list(v.children, `${path}.children`) : null;
        const weights: NumberOrParam[] = [];
        if (need('weights')) {
          if (!Array.isArray(v.weights)) {
            this.add(`${path}.weights`, `expected a list of weights, got ${describe(v.weights)}`);
          } else {
            v.weights.forEach((w, i) => {
              const x = this.number(w, `${path}.weights[${i}]`, 'weight');
              if (x !== undefined) weights.push(x);
            });
            if (Array.isArray(v.children) && v.weights.length !== v.children.length) {
              this.add(
                `${path}.weights`,
                `${v.weights.length} weights for ${v.children.length} children (they must have the same length)`,
              );
            }
          }
        }
        if (this.mode !== 'shape' && this.issues.length === before) {
          let s = 0;
          for (const w of weights) s = s + (w as number);
          if (!(s > 0)) this.add(`${path}.weights`, 'the weights must have a positive sum');
        }
        return children && this.issues.length === before ? { type: 'weight-specified', weights, children } : null;
      }
      case 'weight-inverse-volatility': {
        const window = need('window') ? this.number(v.window, `${path}.window`, 'window') : undefined;
        const children = need('children') ? this.list(v.children, `${path}.children`) : null;
        return children && window !== undefined && this.issues.length === before
          ? { type: 'weight-inverse-volatility', window, children }
          : null;
      }
      case 'filter': {
        let fn: (typeof SYMPHONY_INDICATORS)[number] | undefined;
        if (need('fn')) fn = this.fn(v.fn, `${path}.fn`);
        let window: NumberOrParam | undefined;
        if (v.window !== undefined && v.window !== null) window = this.number(v.window, `${path}.window`, 'window');
        if (fn === 'current-price' && window !== undefined) this.add(`${path}.window`, 'current-price takes no window');
        if (need('select') && v.select !== 'top' && v.select !== 'bottom') {
          this.add(`${path}.select`, `expected 'top' or 'bottom', got ${describe(v.select)}`);
        }
        const count = need('count') ? this.number(v.count, `${path}.count`, 'count') : undefined;
        const children = need('children') ? this.list(v.children, `${path}.children`) : null;
        if (!children || fn === undefined || count === undefined || this.issues.length > before) return null;
        const out: SymphonyNode = { type: 'filter', fn, select: v.select as 'top', count, children };
        if (window !== undefined) out.window = window;
        return out;
      }
      case 'if': {
        const cond = need('cond') ? this.condition(v.cond, `${path}.cond`) : null;
        const then = need('then') ? this.list(v.then, `${path}.then`) : null;
        let otherwise: SymphonyNode[] | null = null;
        if (v.else !== undefined && v.else !== null) otherwise = this.list(v.else, `${path}.else`);
        if (!cond || !then || this.issues.length > before) return null;
        const out: SymphonyNode = { type: 'if', cond, then };
        if (otherwise) out.else = otherwise;
        else if (v.else === null) out.else = null;
        return out;
      }
    }
  }

  private fn(v: unknown, path: string): (typeof SYMPHONY_INDICATORS)[number] | undefined {
    if (typeof v === 'string' && (SYMPHONY_INDICATORS as readonly string[]).includes(v)) {
      return v as (typeof SYMPHONY_INDICATORS)[number];
    }
    const name = typeof v === 'string' ? v : '';
    this.add(path, `unknown indicator ${describe(v)} ${oneOf(name, SYMPHONY_INDICATORS)}`);
    return undefined;
  }

  private condition(v: unknown, path: string): SymphonyCondition | null {
    if (!isPlainObject(v)) {
      this.add(path, `expected { op, left, right }, got ${describe(v)}`);
      return null;
    }
    const before = this.issues.length;
    unknownFields(v, ['op', 'left', 'right'], path, this.issues);
    if (v.op === undefined) this.add(`${path}.op`, 'missing required field');
    else if (typeof v.op !== 'string' || !(COMPARE_OPS as readonly string[]).includes(v.op)) {
      this.add(`${path}.op`, `unknown comparison ${describe(v.op)} ${oneOf(String(v.op), COMPARE_OPS)}`);
    }
    const left = Object.hasOwn(v, 'left') ? this.value(v.left, `${path}.left`) : undefined;
    if (!Object.hasOwn(v, 'left')) this.add(`${path}.left`, 'missing required field');
    const right = Object.hasOwn(v, 'right') ? this.value(v.right, `${path}.right`) : undefined;
    if (!Object.hasOwn(v, 'right')) this.add(`${path}.right`, 'missing required field');
    if (left === undefined || right === undefined || this.issues.length > before) return null;
    return { op: v.op as SymphonyCondition['op'], left, right };
  }

  private value(v: unknown, path: string): SymphonyValue | undefined {
    if (typeof v === 'number' || (isPlainObject(v) && Object.hasOwn(v, 'param'))) {
      return this.number(v, path, 'constant');
    }
    if (!isPlainObject(v)) {
      this.add(path, `expected a number, { param } or { fn, ticker, window? }, got ${describe(v)}`);
      return undefined;
    }
    const before = this.issues.length;
    unknownFields(v, ['fn', 'ticker', 'window'], path, this.issues);
    let fn: (typeof SYMPHONY_INDICATORS)[number] | undefined;
    if (v.fn === undefined) this.add(`${path}.fn`, 'missing required field');
    else fn = this.fn(v.fn, `${path}.fn`);
    if (v.ticker === undefined) this.add(`${path}.ticker`, 'missing required field');
    else if (typeof v.ticker !== 'string' || v.ticker === '') {
      this.add(`${path}.ticker`, `expected a ticker name, got ${describe(v.ticker)}`);
    } else this.named.push({ ticker: v.ticker, path: `${path}.ticker` });
    let window: NumberOrParam | undefined;
    if (v.window !== undefined && v.window !== null) window = this.number(v.window, `${path}.window`, 'window');
    if (fn === 'current-price' && window !== undefined) this.add(`${path}.window`, 'current-price takes no window');
    if (fn === undefined || this.issues.length > before) return undefined;
    const out: SymphonyValue = { fn, ticker: v.ticker as string };
    if (window !== undefined) out.window = window;
    return out;
  }
}

/**
 * The path of the first array or object (in document order) nested deeper than
 * `MAX_SYMPHONY_DEPTH` levels, `input` being level 1; null when there is none.
 */
function tooDeep(input: unknown): string | null {
  const walk = (v: unknown, depth: number): (string | number)[] | null => {
    if (v === null || typeof v !== 'object') return null;
    if (depth > MAX_SYMPHONY_DEPTH) return [];
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const p = walk(v[i], depth + 1);
        if (p !== null) {
          p.push(i);
          return p;
        }
      }
      return null;
    }
    for (const [k, x] of Object.entries(v)) {
      const p = walk(x, depth + 1);
      if (p !== null) {
        p.push(k);
        return p;
      }
    }
    return null;
  };
  const segments = walk(input, 1);
  if (segments === null) return null;
  let path = ROOT;
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i] as string | number;
    path += typeof s === 'number' ? `[${s}]` : `.${s}`;
  }
  return path;
}

/** One checker pass over `input`; throws one ValidationError with every problem it found. */
function checked(input: unknown, mode: 'shape' | 'resolve' | 'resolved', given?: unknown): SymphonyIR {
  const deep = tooDeep(input);
  if (deep !== null) {
    throw new ValidationError([
      {
        path: deep,
        message: `nested deeper than ${MAX_SYMPHONY_DEPTH} levels of arrays and objects (the limit of a symphony IR)`,
      },
    ]);
  }
  const c = new SymphonyChecker(mode, given);
  const out = c.run(input);
  if (c.issues.length > 0 || out === null) throw new ValidationError(c.issues);
  return out;
}

/**
 * Checks the shape of an IR given as JSON (types, required and unknown fields, node types,
 * indicator names, param references to declared params). Param references stay in place.
 */
export function validateSymphonyIR(json: unknown): SymphonyIR {
  return checked(json, 'shape');
}

/**
 * The IR an engine runs: every `{ param }` replaced by its value ('params' over the declared
 * defaults, checked like `resolveParams`), then section 1's checks. The result has no 'params'.
 */
export function resolveSymphony(ir: SymphonyIR, params?: Record<string, number>): SymphonyIR {
  return checked(ir, 'resolve', params);
}

/** Section 1's checks on an IR that must already be resolved (what the engines accept). */
export function checkResolvedSymphony(ir: unknown): SymphonyIR {
  return checked(ir, 'resolved');
}
