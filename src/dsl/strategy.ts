// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
/**
 * `defstrategy`: a form to the strategy IR (docs/dsl-strategy.md), and back (strategy-decompile.ts).
 *
 * The compiler reports every problem it finds through the Diagnostics collector, each at the form
 * that causes it, and keeps going: a bad clause, expression or action does not hide the next one.
 * When the DSL checks pass, the IR still goes through `parseStrategy`, so no invalid IR leaves
 * this module; an issue found only there is reported at the clause the IR path points into.
 */
import { ValidationError } from '../errors.js';
import { KIND_OUTPUTS, KIND_PARAMS, parseStrategy, WORKER_KINDS, workerParamProblems } from '../ir/validate.js';
import {
  type Action,
  type Expr,
  type Level,
  type Op,
  type OrderType,
  type ParamSpec,
  type PriceSource,
  type Rule,
  type StrategyIR,
  TIMEFRAMES,
  type Timeframe,
  type WorkerKind,
  type WorkerSpec,
} from '../types.js';
import { describeForm, type Form, type FormOf } from './ast.js';
import { type Diagnostics, nearMiss } from './errors.js';
import { isSymbolName } from './forms.js';
import {
  ACTIONS,
  BAR_FIELDS,
  CLAUSES,
  EXPRESSION_HEADS,
  OPERATORS,
  OPTION_KEYS,
  ORDER_OPTIONS,
  ORDER_TYPES,
  PARAM_OPTION_KEYS,
  STATE_FIELDS,
  STATE_KEYS,
  type StateHead,
  WEEKDAYS,
} from './strategy-forms.js';

export { strategyToForm } from './strategy-decompile.js';

type ListForm = FormOf<'list'>;
type Ty = 'number' | 'boolean';
interface Typed {
  e: Expr;
  ty: Ty;
}

const ID_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const SOURCES = ['open', 'high', 'low', 'close'] as const;
const ARITH = new Set(['+', '-', '*', '/', 'min', 'max']);
const COMPARE = new Set(['>', '>=', '<', '<=', '=', 'not=']);
/** Heads allowed inside cross-above / cross-below besides references and numbers. */
const CROSS_OK = new Set(['+', '-', '*', '/', 'abs', 'min', 'max', 'prev', 'bar', 'param', 'worker']);
const CROSS_RULE =
  'the arguments of a cross may contain only numbers, params, worker and bar references and + - * / abs min max';
/** Spellings from other languages, with the operator this one uses. */
const ALIASES: Readonly<Record<string, string>> = {
  '==': '=',
  '!=': 'not=',
  '<>': 'not=',
  neg: '-',
  '&&': 'and',
  '||': 'or',
  '!': 'not',
  quote: 'tick',
  crossover: 'cross-above',
  crossunder: 'cross-below',
  offset: 'prev',
};

const kwList = (names: readonly string[]) => names.map((n) => `:${n}`).join(' ');

/** "did you mean `:x`?" for a keyword near-miss. */
function nearKeyword(name: string, candidates: readonly string[]): string | undefined {
  return nearMiss(name, candidates)?.replace(/`([^`]+)`/, '`:$1`');
}

function isName(f: Form | undefined): f is FormOf<'symbol'> | FormOf<'string'> {
  return f !== undefined && (f.kind === 'symbol' || f.kind === 'string');
}

function nameOf(f: FormOf<'symbol'> | FormOf<'string'>): string {
  return f.kind === 'symbol' ? f.name : f.value;
}

function headName(f: Form): string | undefined {
  if (f.kind !== 'list') return undefined;
  const h = f.items[0];
  return h?.kind === 'symbol' ? h.name : undefined;
}

function where(f: Form): string {
  return `${f.loc.line}:${f.loc.column}`;
}

/** Sets `obj[key]` as an own data property, whatever the key (`__proto__` included). */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

class StrategyCompiler {
  private readonly params = new Map<string, Form>();
  private readonly workers = new Map<string, { kind: WorkerKind | null; form: Form }>();
  /** IR path prefixes and the forms they come from, to place issues found by `parseStrategy`. */
  private readonly origins: [string, Form][] = [];

  constructor(private readonly diags: Diagnostics) {}

  private error(at: Form, message: string, hint?: string): void {
    this.diags.at(at, message, hint);
  }

  compile(def: ListForm): StrategyIR | null {
    const before = this.diags.list.length;
    const items = def.items;
    let i = 1;
    let name: string | null = null;
    const nameForm = items[1];
    if (isName(nameForm)) {
      name = nameOf(nameForm);
      this.origins.push(['strategy.name', nameForm]);
      i = 2;
    } else {
      this.error(nameForm ?? def, 'defstrategy needs a name first: (defstrategy my-strategy {:timeframe :M5} ...)');
    }
    let options: ReturnType<StrategyCompiler['options']> | null = null;
    const optForm = items[i];
    if (optForm?.kind === 'map') {
      options = this.options(optForm);
      i++;
    } else {
      this.error(optForm ?? def, 'defstrategy needs an options map after the name', 'e.g. {:timeframe :M5 :on :bar}');
      // Something in the options' place that is not a clause is taken as the (bad) options.
      if (optForm !== undefined && optForm.kind !== 'list') i++;
    }

    const clauses = items.slice(i);
    const paramClauses: ListForm[] = [];
    const workerClauses: ListForm[] = [];
    const ruleClauses: ListForm[] = [];
    for (const c of clauses) {
      const head = c.kind === 'list' ? c.items[0] : undefined;
      if (c.kind !== 'list' || head?.kind !== 'symbol') {
        this.error(
          head ?? c,
          `expected a clause: (param ...), (worker ...), (when ...) or (cond ...), got ${describeForm(head ?? c)}`,
        );
        continue;
      }
      switch (head.name) {
        case 'param':
          paramClauses.push(c);
          break;
        case 'worker':
          workerClauses.push(c);
          break;
        case 'when':
        case 'cond':
          ruleClauses.push(c);
          break;
        default: {
          let hint = nearMiss(head.name, CLAUSES);
          if (!hint && (ACTIONS as readonly string[]).includes(head.name)) {
            hint = 'an action runs inside a rule: (when CONDITION (buy ...))';
          }
          this.error(head, `unknown clause \`${head.name}\``, hint ?? 'clauses are param, worker, when and cond');
        }
      }
    }

    // Declarations first, so that every name is known wherever it is used.
    const specs: [string, ParamSpec, ListForm][] = [];
    for (const c of paramClauses) {
      const p = this.paramClause(c);
      if (p) specs.push([p[0], p[1], c]);
    }
    for (const c of workerClauses) this.declareWorker(c);
    const workers: WorkerSpec[] = [];
    for (const c of workerClauses) {
      const w = this.workerClause(c);
      if (w) {
        this.origins.push([`strategy.workers[${workers.length}]`, c]);
        workers.push(w);
      }
    }
    const rules: Rule[] = [];
    for (const c of ruleClauses) {
      for (const [rule, at] of headName(c) === 'when' ? this.whenClause(c) : this.condClause(c)) {
        this.origins.push([`strategy.rules[${rules.length}]`, at]);
        rules.push(rule);
      }
    }

    if (this.diags.list.length > before || name === null || options === null || options.timeframe === null) {
      return null;
    }
    let params: Record<string, ParamSpec> | undefined;
    if (specs.length > 0 || options.emptyParams) {
      params = {};
      for (const [n, spec, c] of specs) {
        setOwn(params, n, spec);
        this.origins.push([`strategy.params.${n}`, c]);
      }
    }
    const decision: StrategyIR['decision'] = { timeframe: options.timeframe };
    if (options.on !== undefined) decision.on = options.on;
    const ordered: StrategyIR = {
      version: 1,
      name,
      ...(options.symbol !== undefined && { symbol: options.symbol }),
      ...(params !== undefined && { params }),
      decision,
      ...((workers.length > 0 || options.emptyWorkers) && { workers }),
      rules,
    };
    try {
      return parseStrategy(ordered);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      for (const issue of e.issues) this.error(this.origin(issue.path, def), `${issue.message} (at ${issue.path})`);
      return null;
    }
  }

  /** The form an IR path comes from: the longest recorded prefix, else the whole definition. */
  private origin(path: string, def: Form): Form {
    let best: [string, Form] | undefined;
    for (const o of this.origins) {
      const [prefix] = o;
      const next = path[prefix.length];
      if (path.startsWith(prefix) && (next === undefined || next === '.' || next === '[')) {
        if (!best || prefix.length > best[0].length) best = o;
      }
    }
    return best ? best[1] : def;
  }

  // ---------------------------------------------------------------- options and declarations

  private options(m: FormOf<'map'>): {
    timeframe: Timeframe | null;
    on?: 'bar' | 'tick';
    symbol?: string;
    emptyParams: boolean;
    emptyWorkers: boolean;
  } {
    const out: ReturnType<StrategyCompiler['options']> = { timeframe: null, emptyParams: false, emptyWorkers: false };
    const seen = this.keyedPairs(m.items, 'option', OPTION_KEYS);
    this.origins.push(['strategy.decision', m], ['strategy.symbol', m]);
    const tf = seen.get('timeframe');
    if (tf) out.timeframe = this.keyword(tf.value, 'timeframe', TIMEFRAMES);
    else this.error(m, 'missing option `:timeframe` (the decision timeframe)', 'add :timeframe :M5');
    const on = seen.get('on');
    if (on) {
      const v = this.keyword(on.value, 'decision trigger', ['bar', 'tick'] as const);
      if (v) out.on = v;
    }
    const symbol = seen.get('symbol');
    if (symbol) {
      if (symbol.value.kind === 'string' && symbol.value.value !== '') out.symbol = symbol.value.value;
      else if (symbol.value.kind === 'string') this.error(symbol.value, 'the symbol option is empty', 'e.g. "EURUSD"');
      else {
        const hint = symbol.value.kind === 'symbol' ? `write "${symbol.value.name}"` : undefined;
        this.error(symbol.value, `the symbol option is a string, got ${describeForm(symbol.value)}`, hint);
      }
    }
    const params = seen.get('params');
    if (params) {
      if (params.value.kind === 'map' && params.value.items.length === 0) out.emptyParams = true;
      else {
        this.error(
          params.value,
          '`:params` only takes `{}` (a strategy whose IR has an empty params object)',
          'declare params with (param NAME DEFAULT) clauses',
        );
      }
    }
    const workers = seen.get('workers');
    if (workers) {
      if (workers.value.kind === 'vector' && workers.value.items.length === 0) out.emptyWorkers = true;
      else {
        this.error(
          workers.value,
          '`:workers` only takes `[]` (a strategy whose IR has an empty workers array)',
          'declare workers with (worker ID (KIND TIMEFRAME {...})) clauses',
        );
      }
    }
    return out;
  }

  /**
   * Keyword/value pairs (of a map's items): each key a known keyword, given once. Reports the
   * problems and returns the good pairs by name.
   */
  private keyedPairs(
    items: Form[],
    what: string,
    allowed: readonly string[],
    fallbackHint?: string,
  ): Map<string, { key: Form; value: Form }> {
    const seen = new Map<string, { key: Form; value: Form }>();
    for (let i = 0; i + 1 < items.length; i += 2) {
      const key = items[i] as Form;
      const value = items[i + 1] as Form;
      if (key.kind !== 'keyword') {
        this.error(key, `expected an ${what} keyword (${kwList(allowed)}), got ${describeForm(key)}`);
        continue;
      }
      if (!allowed.includes(key.name)) {
        this.error(
          key,
          `unknown ${what} \`:${key.name}\``,
          nearKeyword(key.name, allowed) ?? fallbackHint ?? `one of ${kwList(allowed)}`,
        );
        continue;
      }
      const first = seen.get(key.name);
      if (first) {
        this.error(key, `${what} \`:${key.name}\` is given twice`, `first given at ${where(first.key)}`);
        continue;
      }
      seen.set(key.name, { key, value });
    }
    return seen;
  }

  /** A keyword among `allowed`, or null after reporting what is wrong with `f`. */
  private keyword<T extends string>(f: Form, what: string, allowed: readonly T[]): T | null {
    if (f.kind === 'keyword') {
      if ((allowed as readonly string[]).includes(f.name)) return f.name as T;
      this.error(f, `unknown ${what} \`:${f.name}\``, nearKeyword(f.name, allowed) ?? `one of ${kwList(allowed)}`);
      return null;
    }
    if (isName(f) && (allowed as readonly string[]).includes(nameOf(f))) {
      this.error(f, `a ${what} is written as a keyword`, `write \`:${nameOf(f)}\``);
      return null;
    }
    this.error(f, `expected a ${what} keyword (${kwList(allowed)}), got ${describeForm(f)}`);
    return null;
  }

  /** `(param NAME DEFAULT OPTS?)`: the name and spec, or null after reporting. */
  private paramClause(c: ListForm): [string, ParamSpec] | null {
    const [, nameF, defF, optsF, extra] = c.items;
    const usage = 'a param is (param NAME DEFAULT) or (param NAME DEFAULT {:type :int :min 1 :max 50})';
    if (extra) this.error(extra, 'too many arguments to param', usage);
    if (!isName(nameF)) {
      this.error(
        nameF ?? c,
        `expected a param name (a symbol or a string)${nameF ? `, got ${describeForm(nameF)}` : ''}`,
        usage,
      );
      return null;
    }
    const name = nameOf(nameF);
    const first = this.params.get(name);
    if (first) this.error(nameF, `param \`${name}\` is declared twice`, `first declared at ${where(first)}`);
    else this.params.set(name, nameF);
    if (defF?.kind !== 'number') {
      this.error(
        defF ?? c,
        `expected the default value of param \`${name}\` (a number)${defF ? `, got ${describeForm(defF)}` : ''}`,
        usage,
      );
      return null;
    }
    const spec: ParamSpec = { default: defF.value };
    if (optsF === undefined) return first ? null : [name, spec];
    if (optsF.kind !== 'map') {
      this.error(optsF, `expected an options map like {:type :int :min 2}, got ${describeForm(optsF)}`);
      return null;
    }
    const opts = this.keyedPairs(optsF.items, 'param option', PARAM_OPTION_KEYS);
    const type = opts.get('type');
    let ok = true;
    if (type) {
      const t = this.keyword(type.value, 'param type', ['int', 'float'] as const);
      if (t) spec.type = t;
      else ok = false;
    }
    const bound = (k: 'min' | 'max'): Form | undefined => {
      const o = opts.get(k);
      if (!o) return undefined;
      if (o.value.kind !== 'number') {
        this.error(o.value, `expected a number for \`:${k}\`, got ${describeForm(o.value)}`);
        ok = false;
        return undefined;
      }
      spec[k] = o.value.value;
      return o.value;
    };
    const minF = bound('min');
    const maxF = bound('max');
    if (spec.type === 'int' && !Number.isInteger(spec.default)) {
      this.error(defF, `the default of int param \`${name}\` is not an integer: ${defF.text}`);
    }
    if (minF && spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) {
      this.error(minF, `min ${spec.min} is above max ${spec.max}`);
    } else {
      if (spec.min !== undefined && spec.default < spec.min)
        this.error(defF, `default ${defF.text} is below min ${spec.min}`);
      if (maxF && spec.max !== undefined && spec.default > spec.max) {
        this.error(defF, `default ${defF.text} is above max ${spec.max}`);
      }
    }
    return ok && !first ? [name, spec] : null;
  }

  /** Records a worker's id and kind (when they are valid), so rules can refer to it. */
  private declareWorker(c: ListForm): void {
    const idF = c.items[1];
    if (!isName(idF)) return;
    const id = nameOf(idF);
    if (!ID_RE.test(id)) return;
    const first = this.workers.get(id);
    if (first) {
      this.error(idF, `worker \`${id}\` is declared twice`, `first declared at ${where(first.form)}`);
      return;
    }
    const spec = c.items[2];
    const kindF = spec?.kind === 'list' ? spec.items[0] : undefined;
    const kind =
      kindF?.kind === 'symbol' && (WORKER_KINDS as readonly string[]).includes(kindF.name)
        ? (kindF.name as WorkerKind)
        : null;
    this.workers.set(id, { kind, form: idF });
  }

  /** `(worker ID (KIND TIMEFRAME PARAMS?))`. */
  private workerClause(c: ListForm): WorkerSpec | null {
    const [, idF, specF, extra] = c.items;
    const usage = 'a worker is (worker ID (KIND TIMEFRAME {PARAMS})), e.g. (worker rsi (rsi :M5 {:period 14}))';
    if (extra) this.error(extra, 'too many arguments to worker', usage);
    let id: string | null = null;
    if (!isName(idF)) {
      this.error(idF ?? c, `expected a worker id${idF ? `, got ${describeForm(idF)}` : ''}`, usage);
    } else if (!ID_RE.test(nameOf(idF))) {
      this.error(
        idF,
        `invalid worker id \`${nameOf(idF)}\`: letters, digits, \`_\` and \`-\`, not starting with a digit or \`-\``,
      );
    } else if (this.workers.get(nameOf(idF))?.form === idF) {
      id = nameOf(idF);
    }
    if (specF?.kind !== 'list' || specF.items[0]?.kind !== 'symbol') {
      this.error(specF ?? c, `expected the worker's indicator, like (rsi :M5 {:period 14})`, usage);
      return null;
    }
    const [kindF, tfF, paramsF, more] = specF.items as [FormOf<'symbol'>, ...(Form | undefined)[]];
    if (more) this.error(more, 'too many arguments to the indicator', usage);
    let kind: WorkerKind | null = null;
    if ((WORKER_KINDS as readonly string[]).includes(kindF.name)) kind = kindF.name as WorkerKind;
    else {
      this.error(
        kindF,
        `unknown worker kind \`${kindF.name}\``,
        nearMiss(kindF.name, WORKER_KINDS) ?? `kinds: ${WORKER_KINDS.join(' ')}`,
      );
    }
    let timeframe: Timeframe | null = null;
    if (!tfF) this.error(specF, 'missing the worker timeframe', `e.g. (${kindF.name} :M5 {...})`);
    else timeframe = this.keyword(tfF, 'timeframe', TIMEFRAMES);
    if (paramsF !== undefined && paramsF.kind !== 'map') {
      this.error(paramsF, `expected a map of indicator parameters, like {:period 14}, got ${describeForm(paramsF)}`);
      return null;
    }
    if (kind === null) return null;
    const spec = KIND_PARAMS[kind];
    const allowed = spec.source ? [...spec.numbers, 'source'] : [...spec.numbers];
    const pairs = this.keyedPairs(
      paramsF?.items ?? [],
      `${kind} parameter`,
      allowed,
      `${kind} takes ${kwList(allowed)}`,
    );
    const params: WorkerSpec['params'] = {};
    const literal: Record<string, number | undefined> = {};
    const valueForms = new Map<string, Form>();
    let ok = true;
    for (const k of allowed) {
      const p = pairs.get(k);
      if (!p) {
        if (k !== 'source') {
          this.error(paramsF ?? specF, `${kind} needs \`:${k}\``, `add :${k} to the parameter map`);
          ok = false;
        }
        continue;
      }
      valueForms.set(k, p.value);
      if (k === 'source') {
        const s = this.keyword(p.value, 'price source', SOURCES);
        if (s) params.source = s as PriceSource;
        else ok = false;
        continue;
      }
      const v = p.value;
      if (v.kind === 'number') {
        params[k] = v.value;
        literal[k] = v.value;
      } else if (isName(v)) {
        const ref = nameOf(v);
        if (this.params.has(ref)) params[k] = { param: ref };
        else {
          ok = false;
          const isWorker = this.workers.has(ref);
          this.error(
            v,
            isWorker
              ? `\`${ref}\` is a worker; an indicator parameter is a number or a param`
              : `unknown param \`${ref}\``,
            isWorker ? undefined : (nearMiss(ref, [...this.params.keys()]) ?? this.declaredParams()),
          );
        }
      } else {
        ok = false;
        this.error(v, `expected a number or a param name for \`:${k}\`, got ${describeForm(v)}`);
      }
    }
    for (const p of workerParamProblems(kind, literal)) {
      this.error(valueForms.get(p.key) ?? specF, p.message);
      ok = false;
    }
    if (!ok || id === null || timeframe === null) return null;
    return { id, kind, timeframe, params };
  }

  private declaredParams(): string {
    return this.params.size > 0 ? `params: ${[...this.params.keys()].join(', ')}` : 'no params are declared';
  }

  // ---------------------------------------------------------------- rules

  private whenClause(c: ListForm): [Rule, Form][] {
    const [, condF, ...actionFs] = c.items;
    if (!condF) {
      this.error(c, 'when needs a condition and at least one action', 'e.g. (when (> rsi 70) (sell :lots 1))');
      return [];
    }
    const cond = this.expect(condF, 'boolean', null);
    if (actionFs.length === 0) this.error(c, 'when needs at least one action after its condition');
    const then = this.actions(actionFs, false);
    return cond && then && actionFs.length > 0 ? [[{ when: cond.e, then }, c]] : [];
  }

  /** `(cond C1 A1 C2 A2 ... :else AE)`: one rule per clause, each excluding the conditions before it. */
  private condClause(c: ListForm): [Rule, Form][] {
    const items = c.items.slice(1);
    if (items.length === 0) {
      this.error(c, 'cond needs at least one condition and its action', 'e.g. (cond (> rsi 70) (sell :lots 1))');
      return [];
    }
    const out: [Rule, Form][] = [];
    const earlier: (Expr | null)[] = [];
    for (let i = 0; i < items.length; i += 2) {
      const test = items[i] as Form;
      const act = items[i + 1];
      if (act === undefined) {
        this.error(test, 'this cond condition has no action after it', 'cond takes CONDITION ACTION pairs');
        break;
      }
      const isElse = test.kind === 'keyword' && test.name === 'else';
      if (isElse && i + 2 < items.length) this.error(test, '`:else` must be the last clause of cond');
      const cond = isElse ? null : this.expect(test, 'boolean', null);
      let then: Action[] | null;
      if (headName(act) === 'do') {
        const inner = (act as ListForm).items.slice(1);
        if (inner.length === 0) this.error(act, '(do ...) needs at least one action');
        then = inner.length > 0 ? this.actions(inner, true) : null;
      } else {
        then = this.actions([act], true);
      }
      const prior = earlier.every((e) => e !== null) ? (earlier as Expr[]) : null;
      if (then && prior && (isElse || cond)) {
        const nots: Expr[] = prior.map((e) => ({ op: 'not', args: [structuredClone(e)] }));
        let when: Expr;
        if (isElse) {
          when = nots.length === 0 ? true : nots.length === 1 ? (nots[0] as Expr) : { op: 'and', args: nots };
        } else {
          const e = (cond as Typed).e;
          when = nots.length === 0 ? e : { op: 'and', args: [...nots, structuredClone(e)] };
        }
        out.push([{ when, then }, test]);
      }
      earlier.push(isElse ? null : (cond?.e ?? null));
    }
    return out;
  }

  private actions(forms: Form[], inCond: boolean): Action[] | null {
    const out: Action[] = [];
    let ok = true;
    for (const f of forms) {
      const a = this.action(f, inCond);
      if (a) out.push(a);
      else ok = false;
    }
    return ok ? out : null;
  }

  private action(f: Form, inCond: boolean): Action | null {
    const usage = 'an action is (buy ...), (sell ...), (close) or (cancel)';
    const head = f.kind === 'list' ? f.items[0] : undefined;
    if (f.kind !== 'list' || head?.kind !== 'symbol') {
      this.error(head ?? f, `expected an action, got ${describeForm(head ?? f)}`, usage);
      return null;
    }
    switch (head.name) {
      case 'buy':
      case 'sell':
        return this.order(f, head.name);
      case 'close':
      case 'cancel': {
        const extra = f.items[1];
        if (extra) {
          this.error(extra, `\`${head.name}\` takes no arguments`);
          return null;
        }
        return { action: head.name };
      }
      case 'do':
        this.error(
          head,
          inCond ? '(do ...) cannot be nested' : '(do ...) groups the actions of a cond clause',
          inCond ? undefined : 'in when, list the actions one after another: (when C (close) (buy ...))',
        );
        return null;
      default: {
        let hint = nearMiss(head.name, ACTIONS);
        if (!hint && (EXPRESSION_HEADS.includes(head.name) || this.workers.has(head.name))) {
          hint = 'a rule has one condition; combine conditions with (and ...)';
        }
        this.error(head, `unknown action \`${head.name}\``, hint ?? usage);
        return null;
      }
    }
  }

  /** `(buy OPTS...)` / `(sell OPTS...)`. */
  private order(f: ListForm, side: 'buy' | 'sell'): Action | null {
    const before = this.diags.list.length;
    const opts = new Map<string, { key: Form; value: Form }>();
    /** Options written, with a value or not (a missing value is reported once, not as a missing option). */
    const mentioned = new Set<string>();
    const items = f.items;
    for (let i = 1; i < items.length; ) {
      const key = items[i] as Form;
      if (key.kind !== 'keyword') {
        this.error(key, `expected an order option (${kwList(ORDER_OPTIONS)}), got ${describeForm(key)}`);
        i++;
        continue;
      }
      const value = items[i + 1];
      const valueIsOption =
        value?.kind === 'keyword' && key.name !== 'order' && (ORDER_OPTIONS as readonly string[]).includes(value.name);
      if (!(ORDER_OPTIONS as readonly string[]).includes(key.name)) {
        this.error(
          key,
          `unknown order option \`:${key.name}\``,
          nearKeyword(key.name, ORDER_OPTIONS) ?? `one of ${kwList(ORDER_OPTIONS)}`,
        );
        i += value === undefined || valueIsOption ? 1 : 2;
        continue;
      }
      mentioned.add(key.name);
      if (value === undefined || valueIsOption) {
        this.error(key, `option \`:${key.name}\` needs a value`);
        i++;
        continue;
      }
      const first = opts.get(key.name);
      if (first) this.error(key, `option \`:${key.name}\` is given twice`, `first given at ${where(first.key)}`);
      else opts.set(key.name, { key, value });
      i += 2;
    }

    const num = (name: string): Expr | undefined => {
      const o = opts.get(name);
      return o ? this.expect(o.value, 'number', null)?.e : undefined;
    };
    const lots = opts.get('lots');
    const risk = opts.get('risk');
    const limit = opts.get('limit');
    const stop = opts.get('stop');
    const orderOpt = opts.get('order');
    const priceOpt = opts.get('price');
    const sl = opts.get('sl');

    let order: OrderType | undefined;
    let price: Expr | undefined;
    if (limit && stop) this.error(stop.key, 'give one of `:limit` and `:stop`, not both');
    const pending = limit ?? stop;
    if (pending) {
      order = limit ? 'limit' : 'stop';
      price = num(limit ? 'limit' : 'stop');
      for (const other of [orderOpt, priceOpt]) {
        if (other) {
          this.error(
            other.key,
            `\`:${pending === limit ? 'limit' : 'stop'}\` already sets the order type and price`,
            'give either :limit PRICE or :order :limit :price PRICE',
          );
        }
      }
    } else {
      if (orderOpt) order = this.keyword(orderOpt.value, 'order type', ORDER_TYPES) ?? undefined;
      if (priceOpt) {
        price = num('price');
        if (order === 'market' || (!orderOpt && order === undefined)) {
          this.error(
            priceOpt.key,
            'a market order has no price',
            'for a pending order write :limit PRICE or :stop PRICE (or :order :limit :price PRICE)',
          );
        }
      } else if (orderOpt && (order === 'limit' || order === 'stop')) {
        this.error(orderOpt.key, `a ${order} order needs a price`, `add :price PRICE, or write :${order} PRICE`);
      }
    }

    if (lots && risk) this.error(risk.key, 'give either `:lots` or `:risk`, not both');
    else if (!mentioned.has('lots') && !mentioned.has('risk'))
      this.error(f, `\`${side}\` needs \`:lots\` or \`:risk\``, `e.g. (${side} :lots 1)`);
    if (risk && !mentioned.has('sl')) {
      this.error(
        risk.key,
        '`:risk` (percent of equity lost at the stop-loss) needs `:sl`',
        'add :sl (pips N) or :sl (price X)',
      );
    }
    const lotsE = num('lots');
    const riskE = num('risk');
    const slE = sl ? this.level(sl.value, 'sl', true) : undefined;
    const tpO = opts.get('tp');
    const tpE = tpO ? this.level(tpO.value, 'tp', true) : undefined;
    const trailO = opts.get('trail');
    const trailE = trailO ? this.level(trailO.value, 'trail', false) : undefined;
    if (this.diags.list.length > before) return null;

    const a: Action = { action: side };
    if (order !== undefined) a.order = order;
    if (price !== undefined) a.price = price;
    if (lotsE !== undefined) a.lots = lotsE;
    if (riskE !== undefined) a.risk = riskE;
    if (slE) a.sl = slE;
    if (tpE) a.tp = tpE;
    if (trailE) a.trail = trailE as { pips: Expr };
    return a;
  }

  /** `(pips E)` or `(price E)` (only pips for a trailing stop). */
  private level(f: Form, what: string, priceAllowed: boolean): Level | undefined {
    const forms = priceAllowed ? '(pips E) or (price E)' : '(pips E)';
    const head = headName(f);
    const args = f.kind === 'list' ? f.items.slice(1) : [];
    if (head !== 'pips' && head !== 'price') {
      this.error(f, `expected ${forms} for \`:${what}\`, got ${describeForm(f)}`);
      return undefined;
    }
    if (head === 'price' && !priceAllowed) {
      this.error(f, `a trailing stop is a distance: \`:${what}\` takes (pips E)`);
      return undefined;
    }
    if (args.length !== 1) {
      this.error(f, `\`${head}\` takes exactly 1 argument, got ${args.length}`);
      return undefined;
    }
    const e = this.expect(args[0] as Form, 'number', null);
    if (!e) return undefined;
    return head === 'pips' ? { pips: e.e } : { price: e.e };
  }

  // ---------------------------------------------------------------- expressions

  private expect(f: Form, want: Ty, cross: string | null): Typed | null {
    const r = this.expr(f, cross);
    if (!r) return null;
    if (r.ty !== want) {
      const hint = want === 'boolean' ? 'compare it, e.g. (> rsi 70)' : undefined;
      this.error(f, `expected a ${want} expression, got a ${r.ty} expression`, hint);
      return null;
    }
    return r;
  }

  private expr(f: Form, cross: string | null): Typed | null {
    switch (f.kind) {
      case 'number':
        return { e: f.value, ty: 'number' };
      case 'boolean':
        if (cross) {
          this.error(f, `true/false is not allowed inside ${cross}`, CROSS_RULE);
          return null;
        }
        return { e: f.value, ty: 'boolean' };
      case 'symbol':
      case 'string':
        return this.nameRef(f, nameOf(f));
      case 'keyword':
        this.error(
          f,
          `a keyword is not an expression: \`:${f.name}\``,
          f.name === 'else' ? '`:else` is the last condition of a cond' : undefined,
        );
        return null;
      case 'nil':
        this.error(f, 'nil is not an expression');
        return null;
      case 'vector':
      case 'map':
        this.error(
          f,
          `a ${f.kind} is not an expression`,
          'expressions are numbers, true/false, names and lists like (> rsi 70)',
        );
        return null;
      case 'list':
        return this.list(f, cross);
      case 'comment':
        return null;
    }
  }

  private knownNames(): string[] {
    return [...this.params.keys(), ...this.workers.keys()];
  }

  /** A bare name: a param or a worker (its only output, or its `value`). */
  private nameRef(f: Form, name: string): Typed | null {
    const isParam = this.params.has(name);
    const isWorker = this.workers.has(name);
    if (isParam && isWorker) {
      this.error(f, `\`${name}\` names both a param and a worker`, `write (param ${name}) or (worker ${name})`);
      return null;
    }
    if (isParam) return { e: { param: name }, ty: 'number' };
    if (isWorker) return this.bareWorker(f, name);
    let hint = nearMiss(name, this.knownNames());
    if (!hint && EXPRESSION_HEADS.includes(name)) hint = `\`${name}\` is an operator: write (${name} ...)`;
    if (!hint && (ACTIONS as readonly string[]).includes(name)) hint = `\`${name}\` is an action: write (${name} ...)`;
    const declared = this.knownNames().length > 0 ? '' : ' (no params or workers are declared)';
    this.error(f, `unknown name \`${name}\`${declared}`, hint);
    return null;
  }

  private bareWorker(f: Form, id: string): Typed | null {
    const kind = this.workers.get(id)?.kind;
    if (kind) {
      const outs = KIND_OUTPUTS[kind];
      if (outs.length > 1) {
        const ref = isSymbolName(id) && !EXPRESSION_HEADS.includes(id) ? id : JSON.stringify(id);
        this.error(
          f,
          `\`${id}\` is a ${kind} worker with several outputs; name one`,
          `write ${outs.map((o) => `(${ref} :${o})`).join(', ')}`,
        );
        return null;
      }
    }
    return { e: { worker: id }, ty: 'number' };
  }

  private list(f: ListForm, cross: string | null): Typed | null {
    const head = f.items[0];
    const args = f.items.slice(1);
    if (!head) {
      this.error(f, 'an empty list is not an expression');
      return null;
    }
    if (head.kind === 'string') return this.outputRef(f, head, head.value, args);
    if (head.kind !== 'symbol') {
      this.error(head, `expected an operator or a worker at the head of the list, got ${describeForm(head)}`);
      return null;
    }
    const name = head.name;
    const builtin = EXPRESSION_HEADS.includes(name);
    if (!builtin) {
      if (this.workers.has(name)) return this.outputRef(f, head, name, args);
      if (this.params.has(name)) {
        this.error(head, `\`${name}\` is a param, not a worker: it has no outputs`, `write ${name}`);
        return null;
      }
      const alias = ALIASES[name];
      let hint = alias ? `did you mean \`${alias}\`?` : nearMiss(name, [...EXPRESSION_HEADS, ...this.workers.keys()]);
      if (!hint && (ACTIONS as readonly string[]).includes(name)) {
        hint = 'an action goes after the condition: (when CONDITION ACTION...)';
      }
      this.error(head, `unknown operator \`${name}\``, hint);
      return null;
    }
    if (cross && !CROSS_OK.has(name)) {
      this.error(head, `\`${name}\` is not allowed inside ${cross}`, CROSS_RULE);
      return null;
    }
    if (name in OPERATORS) return this.op(f, name, args, cross);
    switch (name) {
      case 'param':
      case 'worker':
        return this.explicitRef(f, name, args);
      case 'bar':
      case 'forming':
        return this.barRef(f, name, args);
      case 'prev':
        return this.prev(f, args, cross);
      case 'hour-between':
        return this.hourBetween(f, args);
      case 'weekday-in':
        return this.weekdayIn(f, args);
      default:
        return this.state(f, name as StateHead, args);
    }
  }

  private arity(f: ListForm, name: string, n: number, min: number, max: number, usage?: string): boolean {
    if (n >= min && n <= max) return true;
    const want =
      min === max
        ? `exactly ${min} argument${min === 1 ? '' : 's'}`
        : max === Number.POSITIVE_INFINITY
          ? `at least ${min} argument${min === 1 ? '' : 's'}`
          : `${min} to ${max} arguments`;
    this.error(f, `\`${name}\` takes ${want}, got ${n}`, usage);
    return false;
  }

  private op(f: ListForm, name: string, args: Form[], cross: string | null): Typed | null {
    const n = args.length;
    let op = OPERATORS[name] as Op;
    let argTy: Ty = 'number';
    let ty: Ty = 'number';
    let inner = cross;
    let ok: boolean;
    if (name === '-') {
      ok = this.arity(f, name, n, 1, Number.POSITIVE_INFINITY);
      if (n === 1) op = 'neg';
    } else if (ARITH.has(name)) ok = this.arity(f, name, n, 2, Number.POSITIVE_INFINITY);
    else if (name === 'abs') ok = this.arity(f, name, n, 1, 1);
    else if (COMPARE.has(name)) {
      ok = this.arity(f, name, n, 2, 2);
      ty = 'boolean';
    } else if (name === 'and' || name === 'or') {
      ok = this.arity(
        f,
        name,
        n,
        2,
        Number.POSITIVE_INFINITY,
        n === 1 ? 'with one condition, write it alone' : undefined,
      );
      argTy = 'boolean';
      ty = 'boolean';
    } else if (name === 'not') {
      ok = this.arity(f, name, n, 1, 1);
      argTy = 'boolean';
      ty = 'boolean';
    } else {
      ok = this.arity(f, name, n, 2, 2);
      ty = 'boolean';
      inner = name;
    }
    const out: Expr[] = [];
    for (const a of args) {
      const r = this.expect(a, argTy, inner);
      if (r) out.push(r.e);
      else ok = false;
    }
    return ok ? { e: { op, args: out }, ty } : null;
  }

  /** `(param NAME)` / `(worker NAME)`: a reference spelled out (for a name that is both). */
  private explicitRef(f: ListForm, what: 'param' | 'worker', args: Form[]): Typed | null {
    if (!this.arity(f, what, args.length, 1, 1, `write (${what} NAME)`)) return null;
    const nameF = args[0] as Form;
    if (!isName(nameF)) {
      this.error(nameF, `expected a ${what} name, got ${describeForm(nameF)}`);
      return null;
    }
    const name = nameOf(nameF);
    if (what === 'param') {
      if (this.params.has(name)) return { e: { param: name }, ty: 'number' };
      this.error(nameF, `unknown param \`${name}\``, nearMiss(name, [...this.params.keys()]) ?? this.declaredParams());
      return null;
    }
    if (this.workers.has(name)) return this.bareWorker(nameF, name);
    this.error(nameF, `unknown worker \`${name}\``, nearMiss(name, [...this.workers.keys()]) ?? this.declaredWorkers());
    return null;
  }

  private declaredWorkers(): string {
    return this.workers.size > 0 ? `workers: ${[...this.workers.keys()].join(', ')}` : 'no workers are declared';
  }

  /** `(ID :output)`. */
  private outputRef(f: ListForm, head: Form, id: string, args: Form[]): Typed | null {
    const w = this.workers.get(id);
    if (!w) {
      const isParam = this.params.has(id);
      this.error(
        head,
        isParam ? `\`${id}\` is a param, not a worker: it has no outputs` : `unknown worker \`${id}\``,
        isParam ? undefined : (nearMiss(id, [...this.workers.keys()]) ?? this.declaredWorkers()),
      );
      return null;
    }
    const outs = w.kind ? KIND_OUTPUTS[w.kind] : null;
    const usage = `read an output as (${head.kind === 'string' ? JSON.stringify(id) : id} :${outs?.[0] ?? 'value'})`;
    if (!this.arity(f, id, args.length, 1, 1, usage)) return null;
    const outF = args[0] as Form;
    if (outs === null) {
      if (outF.kind === 'keyword') return { e: { worker: id, output: outF.name }, ty: 'number' };
      this.error(outF, `expected an output keyword, got ${describeForm(outF)}`);
      return null;
    }
    if (outF.kind === 'keyword' && !outs.includes(outF.name)) {
      this.error(
        outF,
        `unknown output \`:${outF.name}\` of ${w.kind} worker \`${id}\``,
        nearKeyword(outF.name, outs) ?? `its outputs: ${kwList(outs)}`,
      );
      return null;
    }
    const output = this.keyword(outF, 'worker output', outs);
    return output ? { e: { worker: id, output }, ty: 'number' } : null;
  }

  /** `(bar :field :TF?)` / `(forming :field :TF?)`. */
  private barRef(f: ListForm, name: 'bar' | 'forming', args: Form[]): Typed | null {
    if (!this.arity(f, name, args.length, 1, 2, `write (${name} :close) or (${name} :close :H1)`)) return null;
    const field = this.keyword(args[0] as Form, 'bar field', BAR_FIELDS);
    const tf = args[1] ? this.keyword(args[1], 'timeframe', TIMEFRAMES) : undefined;
    if (field === null || tf === null) return null;
    const e: Expr = name === 'bar' ? { bar: field } : { forming: field };
    if (tf !== undefined) (e as { timeframe?: Timeframe }).timeframe = tf;
    return { e, ty: 'number' };
  }

  /** `(prev X K)`: the worker or bar reference X, K updates earlier. */
  private prev(f: ListForm, args: Form[], cross: string | null): Typed | null {
    const usage = 'write (prev rsi 1), (prev (env :upper) 2) or (prev (bar :close :H1) 1)';
    if (!this.arity(f, 'prev', args.length, 2, 2, usage)) return null;
    const [xF, kF] = args as [Form, Form];
    let k: number | null = null;
    if (kF.kind === 'number' && Number.isInteger(kF.value) && kF.value >= 0) k = kF.value;
    else this.error(kF, `the offset of prev is a non-negative integer, got ${describeForm(kF)}`);
    const x = this.expr(xF, cross);
    if (!x) return null;
    const e = x.e;
    if (typeof e !== 'object' || !('worker' in e || 'bar' in e)) {
      this.error(xF, 'prev takes a worker or a bar reference', usage);
      return null;
    }
    if (k === null) return null;
    const ref = e as { offset?: number };
    return { e: { ...e, offset: (ref.offset ?? 0) + k } as Expr, ty: 'number' };
  }

  /** `(tick :bid)`, `(position :side)`, `(account :equity)`, `(time :hour)`. */
  private state(f: ListForm, head: StateHead, args: Form[]): Typed | null {
    const fields = STATE_FIELDS[head];
    const names = Object.keys(fields);
    if (!this.arity(f, head, args.length, 1, 1, `write (${head} :${names[0]})`)) return null;
    const k = this.keyword(args[0] as Form, `${head} field`, names);
    if (k === null) return null;
    return { e: { [STATE_KEYS[head]]: fields[k] } as Expr, ty: 'number' };
  }

  /** `(hour-between A B)`: A <= hour < B, wrapping past midnight when A > B. */
  private hourBetween(f: ListForm, args: Form[]): Typed | null {
    if (!this.arity(f, 'hour-between', args.length, 2, 2, 'write (hour-between 8 17)')) return null;
    const hours: number[] = [];
    for (const a of args) {
      if (a.kind === 'number' && a.value >= 0 && a.value <= 24) hours.push(a.value);
      else this.error(a, `expected an hour (a number from 0 to 24), got ${describeForm(a)}`);
    }
    if (hours.length !== 2) return null;
    const [from, to] = hours as [number, number];
    if (from === to) {
      this.error(f, `an empty hour range: ${from} to ${to}`, 'the range is from <= hour < to');
      return null;
    }
    const hour: Expr = { time: 'hour' };
    const e: Expr =
      from < to
        ? {
            op: 'and',
            args: [
              { op: '<=', args: [from, hour] },
              { op: '<', args: [{ time: 'hour' }, to] },
            ],
          }
        : {
            op: 'or',
            args: [
              { op: '>=', args: [hour, from] },
              { op: '<', args: [{ time: 'hour' }, to] },
            ],
          };
    return { e, ty: 'boolean' };
  }

  /** `(weekday-in D...)`: the weekday is one of the days (0 or :sun = Sunday ... 6 or :sat). */
  private weekdayIn(f: ListForm, args: Form[]): Typed | null {
    if (!this.arity(f, 'weekday-in', args.length, 1, Number.POSITIVE_INFINITY, 'write (weekday-in :mon :fri)')) {
      return null;
    }
    const days: number[] = [];
    for (const a of args) {
      if (a.kind === 'number' && Number.isInteger(a.value) && a.value >= 0 && a.value <= 6) days.push(a.value);
      else if (a.kind === 'keyword') {
        const d = this.keyword(a, 'weekday', WEEKDAYS);
        if (d) days.push(WEEKDAYS.indexOf(d));
      } else this.error(a, `expected a weekday (:sun ... :sat or 0 to 6), got ${describeForm(a)}`);
    }
    if (days.length !== args.length) return null;
    const eq = (d: number): Expr => ({ op: '==', args: [{ time: 'weekday' }, d] });
    return { e: days.length === 1 ? eq(days[0] as number) : { op: 'or', args: days.map(eq) }, ty: 'boolean' };
  }
}

/** Compiles a `(defstrategy ...)` form; reports every problem through `diags` and returns null then. */
export function compileStrategyForm(def: ListForm, diags: Diagnostics): StrategyIR | null {
  return new StrategyCompiler(diags).compile(def);
}
