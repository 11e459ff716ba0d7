/**
 * Strategy IR checks (docs/semantics.md section 4): structure, types of expressions, references and
 * the worker parameter table of section 3. Every problem is collected so that one ValidationError
 * lists them all, each at the path where it occurs.
 */
import { type Issue, ValidationError } from '../errors.js';
import { type ParamSpec, type Params, type StrategyIR, TIMEFRAMES, type WorkerKind } from '../types.js';
import { isWellFormed, LIMITS } from './limits.js';

export const WORKER_KINDS: readonly WorkerKind[] = ['sma', 'ema', 'rsi', 'atr', 'bollinger', 'envelope', 'macd'];

/** Outputs of each kind, in the order the indicator reports them (section 3). */
export const KIND_OUTPUTS: Readonly<Record<WorkerKind, readonly string[]>> = {
  sma: ['value'],
  ema: ['value'],
  rsi: ['value'],
  atr: ['value'],
  bollinger: ['upper', 'middle', 'lower'],
  envelope: ['upper', 'middle', 'lower'],
  macd: ['macd', 'signal', 'hist'],
};

/** Parameters of each kind: the numeric ones, and whether `source` is accepted. */
const KIND_PARAMS: Readonly<Record<WorkerKind, { numbers: readonly string[]; source: boolean }>> = {
  sma: { numbers: ['period'], source: true },
  ema: { numbers: ['period'], source: true },
  rsi: { numbers: ['period'], source: true },
  atr: { numbers: ['period'], source: false },
  bollinger: { numbers: ['period', 'deviations'], source: true },
  envelope: { numbers: ['period', 'percent'], source: true },
  macd: { numbers: ['fast', 'slow', 'signal'], source: true },
};

const SOURCES = ['open', 'high', 'low', 'close'] as const;
const BAR_FIELDS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;
const QUOTES = ['bid', 'ask', 'mid', 'spread'] as const;
const POSITION_FIELDS = ['side', 'lots', 'entryPrice', 'pnl', 'pnlPips'] as const;
const ACCOUNT_FIELDS = ['balance', 'equity'] as const;
const TIME_FIELDS = ['hour', 'minute', 'weekday', 'minuteOfDay'] as const;
const ORDER_TYPES = ['market', 'limit', 'stop'] as const;
const ARITH_OPS = ['+', '-', '*', '/', 'min', 'max'] as const;
const COMPARE_OPS = ['>', '>=', '<', '<=', '==', '!='] as const;
const OPS = [...ARITH_OPS, ...COMPARE_OPS, 'and', 'or', 'not', 'neg', 'abs', 'crossAbove', 'crossBelow'] as const;
/** Keys that select an expression form, in the order they are recognised. */
const EXPR_FORMS = ['op', 'param', 'worker', 'bar', 'forming', 'quote', 'position', 'account', 'time'] as const;
const ID_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

// ---------------------------------------------------------------- helpers

/** Edit distance counting an adjacent transposition as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = [];
  for (let i = 0; i <= m; i++) d.push(Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= m; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      row[j] = v;
    }
  }
  return at(m, n);
}

/** `; did you mean 'x'?` for the closest candidate within a small distance, else ''. */
export function suggest(name: string, candidates: readonly string[]): string {
  // No candidate is long: a much longer name is no near miss, and its distance would cost
  // time in proportion to its length.
  if (name.length > 64) return '';
  let best = '';
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  // Short names tolerate one edit, longer ones two; a case-only difference counts as a near miss.
  const limit = best.length <= 4 ? 1 : 2;
  if (best !== '' && best !== name && bestD <= limit) return `; did you mean '${best}'?`;
  return '';
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'object') return 'an object';
  return typeof v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function has(o: Record<string, unknown>, k: string): boolean {
  return Object.hasOwn(o, k);
}

function oneOf(name: string, list: readonly string[]): string {
  return `(expected one of ${list.join(', ')})${suggest(name, list)}`;
}

/** Reports every key of `o` outside `allowed` as an unknown field. */
export function unknownFields(
  o: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  issues: Issue[],
): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k))
      issues.push({ path: `${path}.${k}`, message: `unknown field '${k}' ${oneOf(k, allowed)}` });
  }
}

/** `strategy has: a, b` or `symphony has no params`: the names an unknown parameter is not among. */
export function declared(names: readonly string[], owner: 'strategy' | 'symphony'): string {
  return names.length > 0 ? `${owner} has: ${names.join(', ')}` : `${owner} has no params`;
}

/**
 * Checks an object of parameter specs `{ NAME: { default, type?, min?, max? } }` at `path`, adding
 * problems to `issues`. Returns every declared name and each spec that is an object (`default` NaN
 * when missing or invalid), or undefined when `v` is not an object. With `nullIsAbsent` an optional
 * field given as null counts as left out; without it, null is a wrong value.
 */
export function paramSpecs(
  v: unknown,
  path: string,
  issues: Issue[],
  nullIsAbsent: boolean,
): { names: string[]; specs: Record<string, ParamSpec> } | undefined {
  if (!isPlainObject(v)) {
    issues.push({ path, message: `expected an object of parameter specs, got ${describe(v)}` });
    return undefined;
  }
  const names: string[] = [];
  const specs: Record<string, ParamSpec> = {};
  for (const [name, spec] of Object.entries(v)) {
    const p = `${path}.${name}`;
    names.push(name);
    if (!isPlainObject(spec)) {
      issues.push({ path: p, message: `expected { default, type?, min?, max? }, got ${describe(spec)}` });
      continue;
    }
    const absent = (k: string): boolean =>
      !Object.hasOwn(spec, k) || spec[k] === undefined || (nullIsAbsent && spec[k] === null);
    unknownFields(spec, ['default', 'type', 'min', 'max'], p, issues);
    const num = (k: string): number | undefined => {
      if (absent(k)) return undefined;
      const x = spec[k];
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        issues.push({ path: `${p}.${k}`, message: `expected a finite number, got ${describe(x)}` });
        return undefined;
      }
      return x;
    };
    if (!Object.hasOwn(spec, 'default')) issues.push({ path: `${p}.default`, message: 'missing required field' });
    const def = num('default');
    const min = num('min');
    const max = num('max');
    let type: 'int' | 'float' | undefined;
    if (!absent('type')) {
      if (spec.type === 'int' || spec.type === 'float') type = spec.type;
      else {
        issues.push({
          path: `${p}.type`,
          message: `unknown parameter type ${describe(spec.type)} (expected one of int, float)`,
        });
      }
    }
    if (min !== undefined && max !== undefined && min > max) {
      issues.push({ path: `${p}.min`, message: `min ${min} is above max ${max}` });
    }
    if (def !== undefined) {
      if (type === 'int' && !Number.isInteger(def))
        issues.push({ path: `${p}.default`, message: `${def} is not an integer` });
      if (min !== undefined && def < min) issues.push({ path: `${p}.default`, message: `${def} is below min ${min}` });
      if (max !== undefined && def > max) issues.push({ path: `${p}.default`, message: `${def} is above max ${max}` });
    }
    const out: ParamSpec = { default: def ?? Number.NaN };
    if (type !== undefined) out.type = type;
    if (min !== undefined) out.min = min;
    if (max !== undefined) out.max = max;
    specs[name] = out;
  }
  return { names, specs };
}

/**
 * Reports every key and string value under `v` that holds a lone UTF-16 surrogate (such text has
 * no UTF-8 form, so no engine could read it back). Iterative, and it stops at the nesting a
 * strategy may have: anything deeper is refused by the structural checks.
 */
export function malformedStrings(v: unknown, path: string, issues: Issue[]): void {
  const maxDepth = 2 * LIMITS.expressionDepth + 8;
  const stack: [unknown, string, number][] = [[v, path, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [x, p, depth] = top;
    if (typeof x === 'string') {
      if (!isWellFormed(x)) issues.push({ path: p, message: 'the string holds a lone UTF-16 surrogate' });
      continue;
    }
    if (typeof x !== 'object' || x === null || depth > maxDepth) continue;
    if (Array.isArray(x)) {
      for (let i = x.length - 1; i >= 0; i--) stack.push([x[i], `${p}[${i}]`, depth + 1]);
      continue;
    }
    const entries = Object.entries(x);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, value] = entries[i] as [string, unknown];
      if (!isWellFormed(k)) issues.push({ path: `${p}.${k}`, message: 'the key holds a lone UTF-16 surrogate' });
      stack.push([value, `${p}.${k}`, depth + 1]);
    }
  }
}

// ---------------------------------------------------------------- worker parameter table

/**
 * Problems with a worker's numeric parameters against section 3. `values` holds the known numbers;
 * a missing entry (an unresolved param reference) skips the checks that need it.
 */
export function workerParamProblems(
  kind: WorkerKind,
  values: Record<string, number | undefined>,
): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  const { min, max } = LIMITS.period;
  const period = (k: string) => {
    const v = values[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) {
      out.push({ key: k, message: `${k} must be an integer from ${min} to ${max}, got ${String(v)}` });
    }
  };
  for (const k of KIND_PARAMS[kind].numbers) {
    if (k === 'period' || k === 'fast' || k === 'slow' || k === 'signal') period(k);
  }
  if (kind === 'bollinger') {
    const v = values.deviations;
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) {
      out.push({ key: 'deviations', message: `deviations must be a finite number > 0, got ${String(v)}` });
    }
  }
  if (kind === 'envelope') {
    const v = values.percent;
    if (v !== undefined && !(v > 0 && v < 100)) {
      out.push({ key: 'percent', message: `percent must be > 0 and < 100, got ${String(v)}` });
    }
  }
  if (kind === 'macd') {
    const f = values.fast;
    const s = values.slow;
    if (f !== undefined && s !== undefined && Number.isInteger(f) && Number.isInteger(s) && !(f < s)) {
      out.push({ key: 'fast', message: `fast (${f}) must be less than slow (${s})` });
    }
  }
  return out;
}

// ---------------------------------------------------------------- strategy

type Ty = 'number' | 'boolean';

class StrategyChecker {
  readonly issues: Issue[] = [];
  paramNames: string[] = [];
  /** Declared worker ids (first declaration wins) with their kind when it is valid. */
  workers = new Map<string, WorkerKind | null>();

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  run(input: unknown): void {
    const P = 'strategy';
    if (!isPlainObject(input)) {
      this.add(P, `expected a strategy object, got ${describe(input)}`);
      return;
    }
    malformedStrings(input, P, this.issues);
    unknownFields(input, ['version', 'name', 'symbol', 'params', 'decision', 'workers', 'rules'], P, this.issues);
    if (!has(input, 'version')) this.add(`${P}.version`, 'missing required field');
    else if (input.version !== 1)
      this.add(`${P}.version`, `unsupported version ${describe(input.version)} (expected 1)`);
    if (!has(input, 'name')) this.add(`${P}.name`, 'missing required field');
    else if (typeof input.name !== 'string') this.add(`${P}.name`, `expected a string, got ${describe(input.name)}`);
    if (has(input, 'symbol') && input.symbol !== undefined) {
      if (typeof input.symbol !== 'string' || input.symbol === '') {
        this.add(`${P}.symbol`, `expected a non-empty string, got ${describe(input.symbol)}`);
      }
    }

    if (has(input, 'params') && input.params !== undefined) this.params(input.params, `${P}.params`);
    if (!has(input, 'decision')) this.add(`${P}.decision`, 'missing required field');
    else this.decision(input.decision, `${P}.decision`);
    if (has(input, 'workers') && input.workers !== undefined) this.workerList(input.workers, `${P}.workers`);
    if (!has(input, 'rules')) this.add(`${P}.rules`, 'missing required field');
    else this.rules(input.rules, `${P}.rules`);
  }

  params(v: unknown, path: string): void {
    const checked = paramSpecs(v, path, this.issues, false);
    if (checked !== undefined) this.paramNames.push(...checked.names);
  }

  decision(v: unknown, path: string): void {
    if (!isPlainObject(v)) {
      this.add(path, `expected { timeframe, on? }, got ${describe(v)}`);
      return;
    }
    unknownFields(v, ['timeframe', 'on'], path, this.issues);
    if (!has(v, 'timeframe')) this.add(`${path}.timeframe`, 'missing required field');
    else this.timeframe(v.timeframe, `${path}.timeframe`);
    if (has(v, 'on') && v.on !== undefined && v.on !== 'bar' && v.on !== 'tick') {
      this.add(`${path}.on`, `unknown decision trigger ${describe(v.on)} (expected one of bar, tick)`);
    }
  }

  timeframe(v: unknown, path: string): void {
    if (typeof v !== 'string') this.add(path, `expected a timeframe string, got ${describe(v)}`);
    else if (!(TIMEFRAMES as readonly string[]).includes(v)) {
      this.add(path, `unknown timeframe '${v}' ${oneOf(v, TIMEFRAMES)}`);
    }
  }

  workerList(v: unknown, path: string): void {
    if (!Array.isArray(v)) {
      this.add(path, `expected an array of workers, got ${describe(v)}`);
      return;
    }
    v.forEach((w, i) => {
      this.worker(w, `${path}[${i}]`);
    });
  }

  worker(w: unknown, path: string): void {
    if (!isPlainObject(w)) {
      this.add(path, `expected { id, kind, timeframe, params }, got ${describe(w)}`);
      return;
    }
    unknownFields(w, ['id', 'kind', 'timeframe', 'params'], path, this.issues);
    let kind: WorkerKind | null = null;
    if (!has(w, 'kind')) this.add(`${path}.kind`, 'missing required field');
    else if (typeof w.kind !== 'string' || !(WORKER_KINDS as readonly string[]).includes(w.kind)) {
      const name = typeof w.kind === 'string' ? `'${w.kind}'` : describe(w.kind);
      this.add(`${path}.kind`, `unknown worker kind ${name} ${oneOf(String(w.kind), WORKER_KINDS)}`);
    } else kind = w.kind as WorkerKind;

    if (!has(w, 'id')) this.add(`${path}.id`, 'missing required field');
    else if (typeof w.id !== 'string' || !ID_RE.test(w.id)) {
      this.add(
        `${path}.id`,
        `invalid worker id ${describe(w.id)} (letters, digits, '_' and '-', not starting with a digit or '-')`,
      );
    } else if (this.workers.has(w.id)) this.add(`${path}.id`, `duplicate worker id '${w.id}'`);
    else this.workers.set(w.id, kind);

    if (!has(w, 'timeframe')) this.add(`${path}.timeframe`, 'missing required field');
    else this.timeframe(w.timeframe, `${path}.timeframe`);

    const pp = `${path}.params`;
    if (!has(w, 'params')) {
      this.add(pp, 'missing required field');
      return;
    }
    if (!isPlainObject(w.params)) {
      this.add(pp, `expected an object of worker parameters, got ${describe(w.params)}`);
      return;
    }
    if (kind === null) return;
    const spec = KIND_PARAMS[kind];
    const allowed = spec.source ? [...spec.numbers, 'source'] : [...spec.numbers];
    const params = w.params;
    for (const k of Object.keys(params)) {
      if (!allowed.includes(k)) {
        this.add(
          `${pp}.${k}`,
          `unknown parameter '${k}' for ${kind} (expected one of ${allowed.join(', ')})${suggest(k, allowed)}`,
        );
      }
    }
    const literal: Record<string, number | undefined> = {};
    for (const k of spec.numbers) {
      if (!has(params, k)) {
        this.add(`${pp}.${k}`, `missing required parameter '${k}' for ${kind}`);
        continue;
      }
      const x = params[k];
      if (typeof x === 'number') {
        if (!Number.isFinite(x)) this.add(`${pp}.${k}`, `expected a finite number, got ${String(x)}`);
        else literal[k] = x;
      } else if (isPlainObject(x) && has(x, 'param')) {
        unknownFields(x, ['param'], `${pp}.${k}`, this.issues);
        this.paramRef(x.param, `${pp}.${k}.param`);
      } else {
        this.add(`${pp}.${k}`, `expected a number or { "param": name }, got ${describe(x)}`);
      }
    }
    if (spec.source && has(params, 'source')) {
      const s = params.source;
      if (typeof s !== 'string' || !(SOURCES as readonly string[]).includes(s)) {
        this.add(`${pp}.source`, `unknown source ${describe(s)} ${oneOf(String(s), SOURCES)}`);
      }
    }
    for (const p of workerParamProblems(kind, literal)) this.add(`${pp}.${p.key}`, p.message);
  }

  paramRef(name: unknown, path: string): void {
    if (typeof name !== 'string') {
      this.add(path, `expected a parameter name, got ${describe(name)}`);
      return;
    }
    if (!this.paramNames.includes(name)) {
      this.add(
        path,
        `unknown parameter '${name}' (${declared(this.paramNames, 'strategy')})${suggest(name, this.paramNames)}`,
      );
    }
  }

  rules(v: unknown, path: string): void {
    if (!Array.isArray(v)) {
      this.add(path, `expected an array of rules, got ${describe(v)}`);
      return;
    }
    v.forEach((r, i) => {
      const p = `${path}[${i}]`;
      if (!isPlainObject(r)) {
        this.add(p, `expected { when, then }, got ${describe(r)}`);
        return;
      }
      unknownFields(r, ['when', 'then'], p, this.issues);
      if (!has(r, 'when')) this.add(`${p}.when`, 'missing required field');
      else this.expect(r.when, `${p}.when`, 'boolean', null);
      if (!has(r, 'then')) this.add(`${p}.then`, 'missing required field');
      else if (!Array.isArray(r.then)) this.add(`${p}.then`, `expected an array of actions, got ${describe(r.then)}`);
      else if (r.then.length === 0) this.add(`${p}.then`, 'a rule needs at least one action');
      else {
        r.then.forEach((a, j) => {
          this.action(a, `${p}.then[${j}]`);
        });
      }
    });
  }

  action(a: unknown, path: string): void {
    if (!isPlainObject(a)) {
      this.add(path, `expected an action object, got ${describe(a)}`);
      return;
    }
    if (!has(a, 'action')) {
      this.add(`${path}.action`, 'missing required field');
      return;
    }
    const kind = a.action;
    if (kind === 'close' || kind === 'cancel') {
      unknownFields(a, ['action'], path, this.issues);
      return;
    }
    if (kind !== 'buy' && kind !== 'sell') {
      this.add(
        `${path}.action`,
        `unknown action ${describe(kind)} ${oneOf(String(kind), ['buy', 'sell', 'close', 'cancel'])}`,
      );
      return;
    }
    unknownFields(a, ['action', 'order', 'price', 'lots', 'risk', 'sl', 'tp', 'trail'], path, this.issues);
    let order = 'market';
    if (has(a, 'order') && a.order !== undefined) {
      if (typeof a.order !== 'string' || !(ORDER_TYPES as readonly string[]).includes(a.order)) {
        this.add(`${path}.order`, `unknown order type ${describe(a.order)} ${oneOf(String(a.order), ORDER_TYPES)}`);
        order = '';
      } else order = a.order;
    }
    const hasPrice = has(a, 'price') && a.price !== undefined;
    if (order === 'market' && hasPrice) {
      this.add(`${path}.price`, "a market order takes no price (use order 'limit' or 'stop')");
    } else if ((order === 'limit' || order === 'stop') && !hasPrice) {
      this.add(`${path}.price`, `missing required field (a ${order} order needs a price)`);
    }
    if (hasPrice) this.expect(a.price, `${path}.price`, 'number', null);
    const hasLots = has(a, 'lots') && a.lots !== undefined;
    const hasRisk = has(a, 'risk') && a.risk !== undefined;
    if (hasLots && hasRisk) this.add(path, "give either 'lots' or 'risk', not both");
    else if (!hasLots && !hasRisk) this.add(`${path}.lots`, 'missing required field');
    if (hasLots) this.expect(a.lots, `${path}.lots`, 'number', null);
    if (hasRisk) {
      this.expect(a.risk, `${path}.risk`, 'number', null);
      if (!has(a, 'sl') || a.sl === undefined) {
        this.add(`${path}.sl`, "missing required field ('risk' is measured at the stop-loss)");
      }
    }
    if (has(a, 'trail') && a.trail !== undefined) {
      const tr = a.trail;
      const tp = `${path}.trail`;
      if (!isPlainObject(tr)) this.add(tp, `expected { "pips": Expr }, got ${describe(tr)}`);
      else {
        unknownFields(tr, ['pips'], tp, this.issues);
        if (!has(tr, 'pips')) this.add(`${tp}.pips`, 'missing required field');
        else this.expect(tr.pips, `${tp}.pips`, 'number', null);
      }
    }
    for (const k of ['sl', 'tp'] as const) {
      if (!has(a, k) || a[k] === undefined) continue;
      const lv = a[k];
      const lp = `${path}.${k}`;
      if (!isPlainObject(lv)) {
        this.add(lp, `expected { "pips": Expr } or { "price": Expr }, got ${describe(lv)}`);
        continue;
      }
      const hp = has(lv, 'pips');
      const hq = has(lv, 'price');
      unknownFields(lv, ['pips', 'price'], lp, this.issues);
      if (hp && hq) this.add(lp, "give either 'pips' or 'price', not both");
      else if (!hp && !hq) this.add(lp, 'expected { "pips": Expr } or { "price": Expr }');
      if (hp) this.expect(lv.pips, `${lp}.pips`, 'number', null);
      if (hq) this.expect(lv.price, `${lp}.price`, 'number', null);
    }
  }

  /** Checks `e` and that its type is `want`. `cross` names the enclosing cross operator, if any. */
  expect(e: unknown, path: string, want: Ty, cross: string | null, depth = 1): void {
    const t = this.expr(e, path, cross, depth);
    if (t !== null && t !== want) this.add(path, `expected a ${want} expression, got a ${t} expression`);
  }

  /** Type of `e` at `depth` levels (1 for a whole expression), or null when it is malformed (already reported). */
  expr(e: unknown, path: string, cross: string | null, depth: number): Ty | null {
    if (typeof e === 'number') {
      if (!Number.isFinite(e)) {
        this.add(path, `expected a finite number, got ${String(e)}`);
        return null;
      }
      return 'number';
    }
    if (typeof e === 'boolean') {
      if (cross !== null) this.crossRestriction(path, cross, 'true/false');
      return 'boolean';
    }
    if (!isPlainObject(e)) {
      this.add(path, `expected an expression (number, true/false or object), got ${describe(e)}`);
      return null;
    }
    const form = EXPR_FORMS.find((k) => has(e, k));
    if (form === undefined) {
      const near = Object.keys(e)
        .map((k) => suggest(k, EXPR_FORMS))
        .find((s) => s !== '');
      this.add(path, `unknown expression (expected an object with one of ${EXPR_FORMS.join(', ')})${near ?? ''}`);
      return null;
    }
    switch (form) {
      case 'param':
        unknownFields(e, ['param'], path, this.issues);
        this.paramRef(e.param, `${path}.param`);
        return 'number';
      case 'worker':
        this.workerRef(e, path);
        return 'number';
      case 'bar':
        unknownFields(e, ['bar', 'timeframe', 'offset'], path, this.issues);
        this.enumField(e.bar, `${path}.bar`, 'bar field', BAR_FIELDS);
        if (has(e, 'timeframe') && e.timeframe !== undefined) this.timeframe(e.timeframe, `${path}.timeframe`);
        this.offset(e, path);
        return 'number';
      case 'forming':
        unknownFields(e, ['forming', 'timeframe'], path, this.issues);
        if (cross !== null) this.crossRestriction(path, cross, "'forming'");
        this.enumField(e.forming, `${path}.forming`, 'bar field', BAR_FIELDS);
        if (has(e, 'timeframe') && e.timeframe !== undefined) this.timeframe(e.timeframe, `${path}.timeframe`);
        return 'number';
      case 'quote':
      case 'position':
      case 'account':
      case 'time': {
        unknownFields(e, [form], path, this.issues);
        if (cross !== null) this.crossRestriction(path, cross, `'${form}'`);
        const list =
          form === 'quote'
            ? QUOTES
            : form === 'position'
              ? POSITION_FIELDS
              : form === 'account'
                ? ACCOUNT_FIELDS
                : TIME_FIELDS;
        this.enumField(e[form], `${path}.${form}`, `${form} field`, list);
        return 'number';
      }
      case 'op':
        return this.op(e, path, cross, depth);
    }
  }

  enumField(v: unknown, path: string, what: string, list: readonly string[]): void {
    if (typeof v !== 'string' || !list.includes(v)) {
      this.add(path, `unknown ${what} ${describe(v)} ${oneOf(String(v), list)}`);
    }
  }

  offset(e: Record<string, unknown>, path: string): void {
    if (!has(e, 'offset') || e.offset === undefined) return;
    const k = e.offset;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > LIMITS.offset.max) {
      this.add(`${path}.offset`, `expected an integer from 0 to ${LIMITS.offset.max}, got ${describe(k)}`);
    }
  }

  workerRef(e: Record<string, unknown>, path: string): void {
    unknownFields(e, ['worker', 'output', 'offset'], path, this.issues);
    this.offset(e, path);
    const id = e.worker;
    if (typeof id !== 'string') {
      this.add(`${path}.worker`, `expected a worker id, got ${describe(id)}`);
      return;
    }
    if (!this.workers.has(id)) {
      const ids = [...this.workers.keys()];
      const list = ids.length > 0 ? `workers: ${ids.join(', ')}` : 'no workers declared';
      this.add(`${path}.worker`, `unknown worker '${id}' (${list})${suggest(id, ids)}`);
      return;
    }
    const kind = this.workers.get(id);
    if (kind === null || kind === undefined) return;
    const outs = KIND_OUTPUTS[kind];
    if (!has(e, 'output') || e.output === undefined) {
      if (outs.length > 1) {
        this.add(
          `${path}.output`,
          `${kind} worker '${id}' has several outputs; 'output' is required (one of ${outs.join(', ')})`,
        );
      }
      return;
    }
    const o = e.output;
    if (typeof o !== 'string' || !outs.includes(o)) {
      this.add(
        `${path}.output`,
        `unknown output ${describe(o)} for ${kind} worker '${id}' (outputs: ${outs.join(', ')})${suggest(String(o), outs)}`,
      );
    }
  }

  crossRestriction(path: string, cross: string, what: string): void {
    this.add(
      path,
      `${what} is not allowed inside ${cross} (its arguments may contain only numbers, params, worker and bar references and + - * / neg abs min max)`,
    );
  }

  op(e: Record<string, unknown>, path: string, cross: string | null, depth: number): Ty | null {
    unknownFields(e, ['op', 'args'], path, this.issues);
    const op = e.op;
    if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
      this.add(`${path}.op`, `unknown operator ${describe(op)} ${oneOf(String(op), OPS)}`);
      return null;
    }
    const ap = `${path}.args`;
    if (!has(e, 'args')) {
      this.add(ap, 'missing required field');
      return null;
    }
    const args = e.args;
    if (!Array.isArray(args)) {
      this.add(ap, `expected an array of arguments, got ${describe(args)}`);
      return null;
    }
    if (args.length > LIMITS.operationArgs) {
      this.add(ap, `${args.length} arguments, more than the limit of ${LIMITS.operationArgs}`);
      return null;
    }
    // Checked before the arguments are, so a deep document never deepens this recursion.
    if (depth >= LIMITS.expressionDepth) {
      this.add(path, `the expression nests deeper than ${LIMITS.expressionDepth} levels (the limit)`);
      return null;
    }
    const arith = (ARITH_OPS as readonly string[]).includes(op) || op === 'neg' || op === 'abs';
    if (cross !== null && !arith) this.crossRestriction(path, cross, `operator '${op}'`);
    let argTy: Ty;
    let result: Ty;
    let arity: 'one' | 'two' | 'many';
    if (op === 'neg' || op === 'abs') [argTy, result, arity] = ['number', 'number', 'one'];
    else if (arith) [argTy, result, arity] = ['number', 'number', 'many'];
    else if ((COMPARE_OPS as readonly string[]).includes(op)) [argTy, result, arity] = ['number', 'boolean', 'two'];
    else if (op === 'and' || op === 'or') [argTy, result, arity] = ['boolean', 'boolean', 'many'];
    else if (op === 'not') [argTy, result, arity] = ['boolean', 'boolean', 'one'];
    else [argTy, result, arity] = ['number', 'boolean', 'two'];
    const n = args.length;
    if (arity === 'one' && n !== 1) this.add(ap, `'${op}' takes exactly 1 argument, got ${n}`);
    else if (arity === 'two' && n !== 2) this.add(ap, `'${op}' takes exactly 2 arguments, got ${n}`);
    else if (arity === 'many' && n < 2) this.add(ap, `'${op}' takes at least 2 arguments, got ${n}`);
    const inner = op === 'crossAbove' || op === 'crossBelow' ? op : cross;
    args.forEach((a, i) => {
      this.expect(a, `${ap}[${i}]`, argTy, inner, depth + 1);
    });
    return result;
  }
}

/** Validates a strategy (section 4) and returns a copy typed as the IR; throws one ValidationError with every problem. */
export function parseStrategy(input: unknown): StrategyIR {
  const c = new StrategyChecker();
  c.run(input);
  if (c.issues.length > 0) throw new ValidationError(c.issues);
  return structuredClone(input) as StrategyIR;
}

/**
 * Parameter values: each spec's default, overridden by the values in `given`, each checked
 * against its spec. Problems go to `issues` at `params.NAME`; `owner` names what declares the
 * params in the message for an unknown one.
 */
export function paramValues(
  specs: Readonly<Record<string, ParamSpec>>,
  given: unknown,
  owner: 'strategy' | 'symphony',
  issues: Issue[],
): Params {
  const names = Object.keys(specs);
  const out: Params = {};
  for (const n of names) out[n] = (specs[n] as ParamSpec).default;
  if (given !== undefined && given !== null) {
    if (!isPlainObject(given)) {
      issues.push({ path: 'params', message: `expected an object of parameter values, got ${describe(given)}` });
    } else {
      for (const [name, v] of Object.entries(given)) {
        const path = `params.${name}`;
        const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
        if (spec === undefined) {
          issues.push({ path, message: `unknown parameter (${declared(names, owner)})${suggest(name, names)}` });
          continue;
        }
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          issues.push({ path, message: `expected a finite number, got ${describe(v)}` });
          continue;
        }
        let ok = true;
        if (spec.type === 'int' && !Number.isInteger(v)) {
          issues.push({ path, message: `${v} is not an integer` });
          ok = false;
        }
        if (spec.min !== undefined && v < spec.min) {
          issues.push({ path, message: `${v} is below min ${spec.min}` });
          ok = false;
        }
        if (spec.max !== undefined && v > spec.max) {
          issues.push({ path, message: `${v} is above max ${spec.max}` });
          ok = false;
        }
        if (ok) out[name] = v;
      }
    }
  }
  return out;
}

/**
 * Parameter values for a run: the strategy's defaults overridden by `given`, each checked against
 * its spec, then the substituted worker parameters against section 3.
 */
export function resolveParams(ir: StrategyIR, given: unknown): Params {
  const issues: Issue[] = [];
  const out = paramValues(ir.params ?? {}, given, 'strategy', issues);
  if (issues.length > 0) throw new ValidationError(issues);

  (ir.workers ?? []).forEach((w, i) => {
    const values: Record<string, number | undefined> = {};
    const from: Record<string, string> = {};
    for (const k of KIND_PARAMS[w.kind].numbers) {
      const x = w.params[k];
      if (typeof x === 'number') values[k] = x;
      else if (isPlainObject(x) && typeof x.param === 'string') {
        values[k] = out[x.param];
        from[k] = x.param;
      }
    }
    for (const p of workerParamProblems(w.kind, values)) {
      const origin = from[p.key] !== undefined ? ` (from param '${from[p.key]}')` : '';
      issues.push({ path: `strategy.workers[${i}].params.${p.key}`, message: `${p.message}${origin}` });
    }
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return out;
}

/** A worker's numeric parameter after substitution (the IR and params must have been validated). */
export function workerNumber(value: unknown, params: Params): number {
  if (typeof value === 'number') return value;
  const name = (value as { param: string }).param;
  return params[name] as number;
}

export { KIND_PARAMS };
