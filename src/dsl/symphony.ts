/**
 * `defsymphony`: Composer's allocation-tree language compiled to the symphony IR
 * (docs/dsl-symphony.md, docs/symphony.md). The checker walks every form and reports every
 * problem at the form that causes it; the IR it builds is then passed through `resolveSymphony`
 * with the declared defaults, so that no invalid IR leaves this module.
 */
import { ValidationError } from '../errors.js';
import { resolveSymphony } from '../symphony/resolve.js';
import {
  DEFAULT_WINDOWS,
  type RebalancePeriod,
  SYMPHONY_INDICATORS,
  type SymphonyCompare,
  type SymphonyCondition,
  type SymphonyIndicator,
  type SymphonyIR,
  type SymphonyNode,
  type SymphonyValue,
} from '../symphony/types.js';
import type { NumberOrParam, ParamSpec } from '../types.js';
import { describeForm, type Form, type FormOf } from './ast.js';
import { type Diagnostics, nearMiss } from './errors.js';
import {
  COMPARE_ALIASES,
  COMPARE_OPS,
  FREQUENCIES,
  NODE_OPS,
  type NodeOp,
  OPTION_KEYS,
  PARAM_KEYS,
  SELECT_OPS,
  UNSUPPORTED_OPS,
} from './symphony-forms.js';

export { symphonyToForm } from './symphony-decompile.js';

type ListForm = FormOf<'list'>;

export interface SymphonyContext {
  /** Tickers present in the data; naming any other ticker is an error. */
  tickers?: readonly string[];
}

/** How a literal number in a numeric slot is checked. */
type NumberRule = 'window' | 'count' | 'weight' | 'threshold' | 'constant';

const USAGE: Readonly<Record<NodeOp, string>> = {
  asset: '(asset "SPY") or (asset "SPY" "Full name")',
  'weight-equal': '(weight-equal [NODES])',
  'weight-specified': '(weight-specified W1 NODE1 W2 NODE2 ...) or (weight-specified [W1 W2 ...] [NODE1 NODE2 ...])',
  'weight-inverse-volatility': '(weight-inverse-volatility {:window N} [NODES])',
  filter: '(filter (rsi {:window 10}) (select-top 1) [NODES])',
  group: '(group "Name" [NODES])',
  if: '(if CONDITION [THEN-NODES] [ELSE-NODES])',
};

const ARITY: Readonly<Record<NodeOp, readonly [number, number]>> = {
  asset: [1, 2],
  'weight-equal': [1, 1],
  'weight-specified': [2, Number.POSITIVE_INFINITY],
  'weight-inverse-volatility': [2, 2],
  filter: [3, 3],
  group: [2, 2],
  if: [2, 3],
};

const isIndicator = (name: string): name is SymphonyIndicator =>
  (SYMPHONY_INDICATORS as readonly string[]).includes(name);
const isNodeOp = (name: string): name is NodeOp => (NODE_OPS as readonly string[]).includes(name);
const isCompare = (name: string): name is SymphonyCompare => (COMPARE_OPS as readonly string[]).includes(name);
const isSelect = (name: string): boolean => (SELECT_OPS as readonly string[]).includes(name);

function headName(form: Form): string | null {
  if (form.kind !== 'list') return null;
  const head = form.items[0];
  return head?.kind === 'symbol' ? head.name : null;
}

/** The candidate `nearMiss` suggests for `name`, if any. */
function closest<T extends string>(name: string, candidates: readonly T[]): T | undefined {
  const hint = nearMiss(name, candidates);
  const found = hint ? /`([^`]+)`/.exec(hint)?.[1] : undefined;
  return candidates.find((c) => c === found);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function arityText(min: number, max: number): string {
  if (max === Number.POSITIVE_INFINITY) return `at least ${plural(min, 'argument')}`;
  if (min === max) return plural(min, 'argument');
  return `${min} or ${max} arguments`;
}

/** An example call of an indicator with a ticker, for hints. */
function indicatorExample(fn: SymphonyIndicator, ticker = 'SPY'): string {
  if (fn === 'current-price') return `(current-price "${ticker}")`;
  return `(${fn} "${ticker}" {:window ${DEFAULT_WINDOWS[fn]}})`;
}

class SymphonyCompiler {
  private readonly params = new Map<string, ParamSpec>();
  private readonly named: string[] = [];
  /** The form each JSON path of the IR came from, to place the IR checker's issues. */
  private readonly where = new Map<string, Form>();

  constructor(
    private readonly diags: Diagnostics,
    private readonly ctx: SymphonyContext,
  ) {}

  private error(form: Form, message: string, hint?: string): void {
    this.diags.at(form, message, hint);
  }

  compile(def: ListForm): SymphonyIR | null {
    const items = def.items;
    let i = 1;
    let name: string | null = null;
    const nameForm = items[1];
    if (nameForm === undefined) {
      this.error(def, '`defsymphony` needs a name and a root node', 'write (defsymphony "Name" {OPTIONS} NODE)');
      return null;
    }
    if (nameForm.kind === 'string') {
      name = nameForm.value;
      i = 2;
    } else if (nameForm.kind === 'symbol') {
      name = nameForm.name;
      i = 2;
    } else if (nameForm.kind === 'map' || nameForm.kind === 'list' || nameForm.kind === 'vector') {
      this.error(nameForm, "missing the symphony's name before this form", 'write (defsymphony "Name" ...)');
    } else {
      this.error(nameForm, `the symphony's name must be a string, got ${describeForm(nameForm)}`);
      i = 2;
    }

    let rebalance: SymphonyIR['rebalance'];
    let params: Record<string, ParamSpec> | undefined;
    const optionsForm = items[i];
    if (optionsForm?.kind === 'map') {
      const options = this.options(optionsForm);
      rebalance = options.rebalance;
      params = options.params;
      i++;
    }

    const rest = items.slice(i);
    const rootForm = rest[0];
    if (rootForm === undefined) {
      this.error(def, 'missing the root node', 'write (defsymphony "Name" {OPTIONS} (weight-equal [NODES]))');
    }
    for (const extra of rest.slice(1)) {
      this.error(
        extra,
        extra.kind === 'map'
          ? 'the options map comes right after the name'
          : 'a symphony has one root node; this is a second one',
        extra.kind === 'map' ? undefined : 'wrap the nodes in (weight-equal [NODES])',
      );
    }
    const root = rootForm === undefined ? null : this.node(rootForm, 'symphony.root');
    if (root === null || name === null) return null;

    return {
      version: 1,
      kind: 'symphony',
      name,
      ...(params !== undefined ? { params } : {}),
      ...(rebalance !== undefined ? { rebalance } : {}),
      tickers: [...new Set(this.named)].sort(),
      root,
    };
  }

  // ------------------------------------------------------------------ options

  private options(form: FormOf<'map'>): { rebalance?: SymphonyIR['rebalance']; params?: Record<string, ParamSpec> } {
    const out: { rebalance?: SymphonyIR['rebalance']; params?: Record<string, ParamSpec> } = {};
    const entries: { key: string; keyForm: Form; value: Form }[] = [];
    const seen = new Set<string>();
    for (let k = 0; k + 1 < form.items.length; k += 2) {
      const keyForm = form.items[k] as Form;
      const value = form.items[k + 1] as Form;
      if (keyForm.kind !== 'keyword') {
        this.error(
          keyForm,
          `an option's key is a keyword, got ${describeForm(keyForm)}`,
          keyForm.kind === 'symbol' || keyForm.kind === 'string'
            ? `write :${keyForm.kind === 'symbol' ? keyForm.name : keyForm.value}`
            : undefined,
        );
        continue;
      }
      const key = keyForm.name;
      if (!(OPTION_KEYS as readonly string[]).includes(key)) {
        this.error(
          keyForm,
          `unknown option \`:${key}\``,
          nearMiss(
            `:${key}`,
            OPTION_KEYS.map((o) => `:${o}`),
          ) ?? `the options are ${OPTION_KEYS.map((o) => `:${o}`).join(' ')}`,
        );
        continue;
      }
      if (seen.has(key)) {
        this.error(keyForm, `option \`:${key}\` is given twice`);
        continue;
      }
      seen.add(key);
      entries.push({ key, keyForm, value });
    }
    // Params first: the threshold may name one.
    for (const e of entries) if (e.key === 'params') out.params = this.paramSpecs(e.value);

    let frequency: { key: string; value: RebalancePeriod | null } | null = null;
    let drift: string | null = null;
    let threshold: NumberOrParam | null = null;
    const exclusive = (keyForm: Form, key: string, other: string): void =>
      this.error(
        keyForm,
        `\`:${key}\` and \`:${other}\` exclude each other`,
        'rebalance on a calendar or on drift, not both (a drift threshold goes with :rebalance-frequency :none)',
      );
    const calendar = (f: RebalancePeriod | null): boolean => f !== null && f !== 'none';
    for (const e of entries) {
      switch (e.key) {
        case 'asset-class':
          if (e.value.kind !== 'string' && e.value.kind !== 'keyword') {
            this.error(e.value, `\`:asset-class\` takes a string such as "EQUITIES", got ${describeForm(e.value)}`);
          }
          break;
        case 'rebalance':
        case 'rebalance-frequency': {
          if (frequency !== null) {
            this.error(e.keyForm, `\`:${e.key}\` repeats \`:${frequency.key}\``, 'keep one of them');
            break;
          }
          const f = this.frequency(e.value, e.key);
          frequency = { key: e.key, value: f };
          if (drift !== null && calendar(f)) exclusive(e.keyForm, e.key, drift);
          break;
        }
        case 'rebalance-threshold':
        case 'rebalance-corridor-width': {
          // Composer writes `:rebalance-corridor-width nil` for no corridor.
          if (e.key === 'rebalance-corridor-width' && e.value.kind === 'nil') break;
          if (drift !== null) {
            this.error(e.keyForm, `\`:${e.key}\` repeats \`:${drift}\``, 'keep one of them');
            break;
          }
          drift = e.key;
          if (frequency !== null && calendar(frequency.value)) {
            exclusive(e.keyForm, e.key, frequency.key);
            break;
          }
          const what = e.key === 'rebalance-threshold' ? 'the rebalance threshold' : 'the corridor width';
          threshold = this.number(e.value, 'symphony.rebalance.threshold', 'threshold', what);
          break;
        }
        default:
          // Composer's other metadata (`:asset-classes`, `:description`, `:id`, `:name`) is dropped.
          break;
      }
    }
    if (threshold !== null) out.rebalance = { threshold };
    else if (frequency !== null && frequency.value !== null) out.rebalance = frequency.value;
    return out;
  }

  private frequency(form: Form, key: string): RebalancePeriod | null {
    this.where.set('symphony.rebalance', form);
    const expected = ':daily, :weekly, :monthly, :quarterly, :yearly or :none';
    if (form.kind === 'keyword') {
      if ((FREQUENCIES as readonly string[]).includes(form.name)) return form.name as RebalancePeriod;
      this.error(
        form,
        `unknown rebalance frequency \`:${form.name}\``,
        nearMiss(
          `:${form.name}`,
          FREQUENCIES.map((f) => `:${f}`),
        ) ?? `expected ${expected}`,
      );
      return null;
    }
    if (form.kind === 'string' && (FREQUENCIES as readonly string[]).includes(form.value)) {
      this.error(form, 'a rebalance frequency is a keyword', `write :${form.value}`);
      return null;
    }
    if (form.kind === 'number' || form.kind === 'symbol') {
      this.error(
        form,
        `\`:${key}\` takes ${expected}, got ${describeForm(form)}`,
        'a drift threshold is written :rebalance-threshold 0.05',
      );
      return null;
    }
    this.error(form, `\`:${key}\` takes ${expected}, got ${describeForm(form)}`);
    return null;
  }

  private paramSpecs(form: Form): Record<string, ParamSpec> | undefined {
    if (form.kind !== 'map') {
      this.error(
        form,
        `\`:params\` takes a map of NAME DEFAULT pairs, got ${describeForm(form)}`,
        'write :params {window 20}',
      );
      return undefined;
    }
    const out: Record<string, ParamSpec> = {};
    for (let k = 0; k + 1 < form.items.length; k += 2) {
      const keyForm = form.items[k] as Form;
      const value = form.items[k + 1] as Form;
      if (keyForm.kind !== 'symbol') {
        const bare = keyForm.kind === 'keyword' ? keyForm.name : keyForm.kind === 'string' ? keyForm.value : null;
        this.error(
          keyForm,
          `a param's name is a symbol, got ${describeForm(keyForm)}`,
          bare !== null ? `write ${bare}` : undefined,
        );
        continue;
      }
      const name = keyForm.name;
      if (this.params.has(name)) {
        this.error(keyForm, `param \`${name}\` is declared twice`);
        continue;
      }
      const spec = this.paramSpec(value, name);
      this.where.set(`symphony.params.${name}`, keyForm);
      this.where.set(`params.${name}`, keyForm);
      // A param whose spec is wrong still counts as declared, so its uses are not reported too.
      this.params.set(name, spec ?? { default: Number.NaN });
      if (spec !== null) out[name] = spec;
    }
    return out;
  }

  private paramSpec(form: Form, name: string): ParamSpec | null {
    if (form.kind === 'number') return { default: form.value };
    if (form.kind !== 'map') {
      this.error(
        form,
        `param \`${name}\` takes a default number or {:default N :type :int :min N :max N}, got ${describeForm(form)}`,
      );
      return null;
    }
    const fields: Partial<Record<(typeof PARAM_KEYS)[number], Form>> = {};
    let ok = true;
    for (let k = 0; k + 1 < form.items.length; k += 2) {
      const keyForm = form.items[k] as Form;
      const value = form.items[k + 1] as Form;
      const key = keyForm.kind === 'keyword' ? keyForm.name : null;
      if (key === null || !(PARAM_KEYS as readonly string[]).includes(key)) {
        this.error(
          keyForm,
          key === null
            ? `a param spec's key is a keyword, got ${describeForm(keyForm)}`
            : `unknown param field \`:${key}\``,
          (key !== null
            ? nearMiss(
                `:${key}`,
                PARAM_KEYS.map((p) => `:${p}`),
              )
            : undefined) ?? 'the fields are :default :type :min :max',
        );
        ok = false;
        continue;
      }
      const field = key as (typeof PARAM_KEYS)[number];
      if (fields[field] !== undefined) {
        this.error(keyForm, `param field \`:${field}\` is given twice`);
        ok = false;
        continue;
      }
      fields[field] = value;
    }
    const numeric = (field: 'default' | 'min' | 'max'): number | undefined => {
      const f = fields[field];
      if (f === undefined) return undefined;
      if (f.kind !== 'number') {
        this.error(f, `\`:${field}\` of param \`${name}\` must be a number, got ${describeForm(f)}`);
        ok = false;
        return undefined;
      }
      return f.value;
    };
    const def = numeric('default');
    const min = numeric('min');
    const max = numeric('max');
    if (fields.default === undefined) {
      this.error(form, `param \`${name}\` has no \`:default\``, 'write {:default 20 ...}');
      ok = false;
    }
    let type: 'int' | 'float' | undefined;
    const typeForm = fields.type;
    if (typeForm !== undefined) {
      if (typeForm.kind === 'keyword' && (typeForm.name === 'int' || typeForm.name === 'float')) type = typeForm.name;
      else {
        const bare =
          typeForm.kind === 'string' || typeForm.kind === 'symbol'
            ? typeForm.kind === 'string'
              ? typeForm.value
              : typeForm.name
            : null;
        this.error(
          typeForm,
          `\`:type\` of param \`${name}\` is :int or :float, got ${describeForm(typeForm)}`,
          bare === 'int' || bare === 'float' ? `write :${bare}` : undefined,
        );
        ok = false;
      }
    }
    if (min !== undefined && max !== undefined && min > max) {
      this.error(fields.min as Form, `param \`${name}\`: min ${min} is above max ${max}`);
      ok = false;
    }
    if (def !== undefined) {
      const at = fields.default as Form;
      if (type === 'int' && !Number.isInteger(def)) {
        this.error(at, `param \`${name}\` is an :int but its default ${def} is not an integer`);
        ok = false;
      }
      if (min !== undefined && def < min) {
        this.error(at, `param \`${name}\`: default ${def} is below min ${min}`);
        ok = false;
      }
      if (max !== undefined && def > max) {
        this.error(at, `param \`${name}\`: default ${def} is above max ${max}`);
        ok = false;
      }
    }
    if (!ok || def === undefined) return null;
    const spec: ParamSpec = { default: def };
    if (type !== undefined) spec.type = type;
    if (min !== undefined) spec.min = min;
    if (max !== undefined) spec.max = max;
    return spec;
  }

  // ------------------------------------------------------------------ numbers, tickers, windows

  /** A numeric slot: a literal (checked by `rule`) or a declared param's name. */
  private number(form: Form, path: string, rule: NumberRule, what: string): NumberOrParam | null {
    this.where.set(path, form);
    if (form.kind === 'number') {
      const v = form.value;
      switch (rule) {
        case 'window':
        case 'count':
          if (!Number.isInteger(v) || v < 1) {
            this.error(form, `${what} must be a positive integer, got ${form.text}`);
            return null;
          }
          break;
        case 'weight':
          if (v < 0) {
            this.error(form, `a weight cannot be negative, got ${form.text}`);
            return null;
          }
          break;
        case 'threshold':
          if (!(v > 0)) {
            this.error(form, `${what} must be above 0, got ${form.text}`);
            return null;
          }
          break;
        case 'constant':
          break;
      }
      return v;
    }
    if (form.kind === 'symbol') return this.paramRef(form);
    this.error(form, `${what} must be a number or a param, got ${describeForm(form)}`);
    return null;
  }

  private paramRef(form: FormOf<'symbol'>): NumberOrParam | null {
    const name = form.name;
    if (this.params.has(name)) return { param: name };
    const declared = [...this.params.keys()];
    const hint =
      nearMiss(name, declared) ??
      (declared.length === 0
        ? `declare it in the options: {:params {${name} 10}}`
        : `declared params: ${declared.join(', ')}`);
    this.error(form, `unknown param \`${name}\``, hint);
    return null;
  }

  private ticker(form: Form | undefined, path: string): string | null {
    if (form === undefined) return null;
    this.where.set(path, form);
    if (form.kind === 'symbol') {
      this.error(form, `a ticker is a string, got symbol ${form.name}`, `write "${form.name}"`);
      return null;
    }
    if (form.kind !== 'string') {
      this.error(form, `expected a ticker string such as "SPY", got ${describeForm(form)}`);
      return null;
    }
    if (form.value === '') {
      this.error(form, 'a ticker cannot be empty');
      return null;
    }
    const t = form.value;
    this.named.push(t);
    const data = this.ctx.tickers;
    if (data !== undefined && !data.includes(t)) {
      const hint =
        nearMiss(t, data) ??
        (data.length === 0
          ? 'the data has no tickers'
          : data.length <= 12
            ? `the data has: ${data.join(', ')}`
            : undefined);
      this.error(form, `ticker \`${t}\` is not in the data`, hint);
    }
    return t;
  }

  /**
   * A window: `N`, a param, or `{:window N}`. `{}` stands for a window left to the engine's
   * default (absent from the IR) and is accepted only where `allowEmpty`.
   */
  private window(form: Form, path: string, allowEmpty: boolean): NumberOrParam | 'absent' | null {
    if (form.kind === 'number' || form.kind === 'symbol') return this.number(form, path, 'window', 'a window');
    if (form.kind !== 'map') {
      this.error(form, `expected a window: N or {:window N}, got ${describeForm(form)}`);
      return null;
    }
    let value: Form | undefined;
    let ok = true;
    for (let k = 0; k + 1 < form.items.length; k += 2) {
      const keyForm = form.items[k] as Form;
      if (keyForm.kind === 'keyword' && keyForm.name === 'window') {
        if (value !== undefined) {
          this.error(keyForm, '`:window` is given twice');
          ok = false;
        }
        value = form.items[k + 1] as Form;
        continue;
      }
      const name = keyForm.kind === 'keyword' ? keyForm.name : null;
      this.error(
        keyForm,
        name === null ? `expected the key :window, got ${describeForm(keyForm)}` : `unknown key \`:${name}\``,
        (name !== null ? nearMiss(`:${name}`, [':window']) : undefined) ?? 'the only key is :window',
      );
      ok = false;
    }
    if (value === undefined) {
      if (allowEmpty && form.items.length === 0) return 'absent';
      if (ok) this.error(form, 'missing `:window`', 'write {:window 10}');
      return null;
    }
    const w = this.number(value, path, 'window', 'a window');
    return ok ? w : null;
  }

  // ------------------------------------------------------------------ nodes

  /** A vector of nodes, or a single node standing for a one-element list. */
  private nodeList(form: Form, path: string, what: string): SymphonyNode[] | null {
    this.where.set(path, form);
    if (form.kind === 'list') {
      const n = this.node(form, `${path}[0]`);
      return n === null ? null : [n];
    }
    if (form.kind !== 'vector') {
      this.error(
        form,
        `expected a vector of nodes for ${what}, got ${describeForm(form)}`,
        form.kind === 'string' ? `write [(asset "${form.value}")]` : 'write [NODE ...]',
      );
      return null;
    }
    if (form.items.length === 0) {
      this.error(form, `${what} has no nodes`, 'put at least one node inside, e.g. [(asset "BIL")]');
      return null;
    }
    const out: SymphonyNode[] = [];
    let ok = true;
    form.items.forEach((item, i) => {
      const n = this.node(item, `${path}[${i}]`);
      if (n === null) ok = false;
      else out.push(n);
    });
    return ok ? out : null;
  }

  private node(form: Form, path: string): SymphonyNode | null {
    this.where.set(path, form);
    if (form.kind !== 'list') {
      if (form.kind === 'vector') {
        this.error(
          form,
          'a vector where a node is expected',
          'vectors hold the nodes of weight-equal, group, filter and the branches of if; wrap it in (weight-equal [...])',
        );
      } else if (form.kind === 'string') {
        this.error(form, `a string where a node is expected`, `write (asset "${form.value}")`);
      } else {
        this.error(form, `expected a node such as (asset "SPY"), got ${describeForm(form)}`);
      }
      return null;
    }
    const head = form.items[0];
    if (head === undefined) {
      this.error(form, 'an empty list where a node is expected');
      return null;
    }
    if (head.kind !== 'symbol') {
      this.error(head, `a node starts with an operator such as asset or weight-equal, got ${describeForm(head)}`);
      return null;
    }
    const op = head.name;
    if (isNodeOp(op)) return this.nodeOf(op, form, path);
    if (isCompare(op)) {
      this.error(form, 'a condition where a node is expected', 'conditions go in (if CONDITION [THEN] [ELSE])');
    } else if (isIndicator(op)) {
      this.error(
        form,
        `indicator \`${op}\` where a node is expected`,
        'indicators go in a condition or a filter score',
      );
    } else if (isSelect(op)) {
      this.error(form, `\`${op}\` outside a filter`, `write (filter (rsi {:window 10}) (${op} 1) [NODES])`);
    } else if (Object.hasOwn(UNSUPPORTED_OPS, op)) {
      this.error(head, `\`${op}\` where a node is expected`, UNSUPPORTED_OPS[op]);
    } else {
      const guess = closest(op, NODE_OPS);
      this.error(
        head,
        `unknown operator \`${op}\``,
        nearMiss(op, NODE_OPS) ??
          nearMiss(op, [...SYMPHONY_INDICATORS, ...SELECT_OPS]) ??
          `the nodes are ${NODE_OPS.join(', ')}`,
      );
      // Keep checking what is inside: as the operator it resembles, or every vector of nodes.
      if (guess !== undefined) this.nodeOf(guess, form, path);
      else {
        form.items.forEach((item, i) => {
          if (item.kind === 'vector') this.nodeList(item, `${path}.children[${i}]`, 'this list');
        });
      }
    }
    return null;
  }

  private nodeOf(op: NodeOp, form: ListForm, path: string): SymphonyNode | null {
    const args = form.items.slice(1);
    const [min, max] = ARITY[op];
    let ok = true;
    if (args.length < min) {
      this.error(form, `\`${op}\` takes ${arityText(min, max)}, got ${args.length}`, `write ${USAGE[op]}`);
      ok = false;
    } else if (args.length > max) {
      this.error(
        args[max] as Form,
        `\`${op}\` takes ${arityText(min, max)}, got ${args.length}`,
        op === 'weight-equal' || op === 'group' || op === 'weight-inverse-volatility'
          ? `put the nodes in one vector: ${USAGE[op]}`
          : `write ${USAGE[op]}`,
      );
      ok = false;
    }
    let node: SymphonyNode | null = null;
    switch (op) {
      case 'asset': {
        const ticker = this.ticker(args[0], `${path}.ticker`);
        const nameForm = args[1];
        let name: string | null | undefined;
        if (nameForm?.kind === 'string') name = nameForm.value;
        else if (nameForm?.kind === 'nil') name = null;
        else if (nameForm !== undefined) {
          this.error(nameForm, `an asset's name is a string or nil, got ${describeForm(nameForm)}`);
          ok = false;
        }
        if (ticker !== null) {
          node = { type: 'asset', ticker };
          if (name !== undefined) node.name = name;
        }
        break;
      }
      case 'weight-equal': {
        const children = args[0] && this.nodeList(args[0], `${path}.children`, '`weight-equal`');
        if (children) node = { type: 'weight-equal', children };
        break;
      }
      case 'group': {
        const nameForm = args[0];
        let name: string | null = null;
        if (nameForm?.kind === 'string') name = nameForm.value;
        else if (nameForm !== undefined) {
          this.error(
            nameForm,
            `a group's name is a string, got ${describeForm(nameForm)}`,
            nameForm.kind === 'symbol' ? `write "${nameForm.name}"` : undefined,
          );
        }
        const children = args[1] && this.nodeList(args[1], `${path}.children`, '`group`');
        if (children && name !== null) node = { type: 'group', name, children };
        break;
      }
      case 'weight-inverse-volatility': {
        let window: NumberOrParam | 'absent' | null = null;
        if (args[0]) window = this.window(args[0], `${path}.window`, false);
        const children = args[1] && this.nodeList(args[1], `${path}.children`, '`weight-inverse-volatility`');
        if (children && window !== null && window !== 'absent') {
          node = { type: 'weight-inverse-volatility', window, children };
        }
        break;
      }
      case 'weight-specified':
        node = this.weightSpecified(form, args, path);
        break;
      case 'filter':
        node = this.filter(args, path);
        break;
      case 'if':
        node = this.ifNode(args, path);
        break;
    }
    return ok ? node : null;
  }

  private weightSpecified(form: ListForm, args: Form[], path: string): SymphonyNode | null {
    if (args.length === 0) return null;
    const weights: (NumberOrParam | null)[] = [];
    let children: SymphonyNode[] | null;
    let weightsAt: Form = form;
    const first = args[0] as Form;
    if (first.kind === 'vector') {
      if (args.length !== 2) {
        this.error(
          args.length < 2 ? form : (args[2] as Form),
          `\`weight-specified\` with a vector of weights takes 2 arguments, got ${args.length}`,
          'write (weight-specified [W1 W2 ...] [NODE1 NODE2 ...])',
        );
        first.items.forEach((w, i) => {
          this.number(w, `${path}.weights[${i}]`, 'weight', 'a weight');
        });
        if (args[1] !== undefined) this.nodeList(args[1], `${path}.children`, '`weight-specified`');
        return null;
      }
      weightsAt = first;
      this.where.set(`${path}.weights`, first);
      first.items.forEach((w, i) => {
        weights.push(this.number(w, `${path}.weights[${i}]`, 'weight', 'a weight'));
      });
      children = this.nodeList(args[1] as Form, `${path}.children`, '`weight-specified`');
      if (first.items.length === 0) {
        this.error(first, '`weight-specified` has no weights', 'give one weight per node');
        return null;
      }
      if (children !== null && first.items.length !== children.length) {
        this.error(
          first,
          `${plural(first.items.length, 'weight')} for ${plural(children.length, 'node')}`,
          'give one weight per node',
        );
        return null;
      }
    } else {
      children = [];
      let ok = true;
      for (let k = 0; k < args.length; k += 2) {
        const w = args[k] as Form;
        const n = args[k + 1];
        weights.push(this.number(w, `${path}.weights[${k / 2}]`, 'weight', 'a weight'));
        if (n === undefined) {
          this.error(
            w,
            'this weight has no node after it',
            'write weight/node pairs: (weight-specified 60 NODE1 40 NODE2)',
          );
          ok = false;
          break;
        }
        const child = this.node(n, `${path}.children[${k / 2}]`);
        if (child === null) ok = false;
        else children.push(child);
      }
      if (!ok) children = null;
    }
    if (children === null || weights.some((w) => w === null)) return null;
    const ws = weights as NumberOrParam[];
    if (ws.every((w) => typeof w === 'number')) {
      let s = 0;
      for (const w of ws as number[]) s = s + w;
      if (!(s > 0)) {
        this.error(weightsAt, 'the weights sum to 0', 'give at least one node a positive weight');
        return null;
      }
    }
    return { type: 'weight-specified', weights: ws, children };
  }

  private filter(args: Form[], path: string): SymphonyNode | null {
    const scoreForm = args[0];
    const selectForm = args[1];
    const childrenForm = args[2];
    const score = scoreForm === undefined ? null : this.score(scoreForm, path);
    const select = selectForm === undefined ? null : this.select(selectForm, path);
    const children = childrenForm === undefined ? null : this.nodeList(childrenForm, `${path}.children`, '`filter`');
    if (score === null || select === null || children === null) return null;
    return {
      type: 'filter',
      fn: score.fn,
      ...(score.window !== undefined ? { window: score.window } : {}),
      select: select.select,
      count: select.count,
      children,
    };
  }

  /** A filter's score: `(FN {:window N})`, `(FN N)`, `(FN)`. */
  private score(form: Form, path: string): { fn: SymphonyIndicator; window?: NumberOrParam } | null {
    this.where.set(`${path}.fn`, form);
    const usage = 'write (rsi {:window 10})';
    if (form.kind !== 'list') {
      if (form.kind === 'symbol' && isIndicator(form.name)) {
        this.error(form, 'a filter score is an indicator call', `write (${form.name} {:window N})`);
      } else {
        this.error(form, `a filter score is an indicator such as (rsi {:window 10}), got ${describeForm(form)}`);
      }
      return null;
    }
    const head = form.items[0];
    if (head?.kind !== 'symbol') {
      this.error(form, 'a filter score is an indicator such as (rsi {:window 10})', usage);
      return null;
    }
    const name = head.name;
    let ok = true;
    let fn: SymphonyIndicator;
    if (isIndicator(name)) fn = name;
    else {
      if (isNodeOp(name) || isCompare(name) || isSelect(name)) {
        this.error(form, `a filter score is an indicator, got \`${name}\``, usage);
        return null;
      }
      this.error(
        head,
        `unknown indicator \`${name}\``,
        nearMiss(name, SYMPHONY_INDICATORS) ?? `the indicators are ${SYMPHONY_INDICATORS.join(', ')}`,
      );
      const guess = closest(name, SYMPHONY_INDICATORS);
      if (guess === undefined) return null;
      // Keep checking the arguments as the indicator it resembles.
      fn = guess;
      ok = false;
    }
    let args = form.items.slice(1);
    const tickerArg = args[0];
    if (tickerArg?.kind === 'string') {
      this.error(
        tickerArg,
        'a filter score takes no ticker: it is computed on each child',
        fn === 'current-price' ? 'write (current-price)' : `write (${fn} {:window N})`,
      );
      ok = false;
      args = args.slice(1);
    }
    if (fn === 'current-price') {
      // A window, as Composer exports may write one, is checked and dropped.
      if (args[0] !== undefined && this.window(args[0], `${path}.window`, true) === null) ok = false;
      if (args.length > 1) {
        this.error(args[1] as Form, `a filter score takes at most a window, got ${args.length} arguments`, usage);
        ok = false;
      }
      return ok ? { fn } : null;
    }
    if (args.length > 1) {
      this.error(args[1] as Form, `a filter score takes at most a window, got ${args.length} arguments`, usage);
      ok = false;
    }
    if (args[0] === undefined) return ok ? { fn, window: DEFAULT_WINDOWS[fn] } : null;
    const w = this.window(args[0], `${path}.window`, true);
    if (w === null || !ok) return null;
    return w === 'absent' ? { fn } : { fn, window: w };
  }

  private select(form: Form, path: string): { select: 'top' | 'bottom'; count: NumberOrParam } | null {
    this.where.set(`${path}.select`, form);
    const op = headName(form);
    if (op === null || !isSelect(op)) {
      const hint =
        op !== null
          ? (nearMiss(op, SELECT_OPS) ?? 'write (select-top N) or (select-bottom N)')
          : 'write (select-top 1)';
      this.error(form, `a filter selects with (select-top N) or (select-bottom N), got ${describeForm(form)}`, hint);
      const guess = op === null ? undefined : closest(op, SELECT_OPS);
      const count = form.kind === 'list' ? form.items[1] : undefined;
      if (guess !== undefined && count !== undefined) this.number(count, `${path}.count`, 'count', 'the count');
      return null;
    }
    const list = form as ListForm;
    const args = list.items.slice(1);
    if (args.length !== 1) {
      this.error(
        args.length === 0 ? list : (args[1] as Form),
        `\`${op}\` takes 1 argument, got ${args.length}`,
        `write (${op} 1)`,
      );
      return null;
    }
    const count = this.number(args[0] as Form, `${path}.count`, 'count', 'the count');
    if (count === null) return null;
    return { select: op === 'select-top' ? 'top' : 'bottom', count };
  }

  private ifNode(args: Form[], path: string): SymphonyNode | null {
    const condForm = args[0];
    const thenForm = args[1];
    const elseForm = args[2];
    const cond = condForm === undefined ? null : this.condition(condForm, `${path}.cond`);
    const then = thenForm === undefined ? null : this.nodeList(thenForm, `${path}.then`, 'the then branch');
    let otherwise: SymphonyNode[] | null | undefined;
    let ok = true;
    if (elseForm?.kind === 'nil') otherwise = null;
    else if (elseForm !== undefined) {
      otherwise = this.nodeList(elseForm, `${path}.else`, 'the else branch');
      if (otherwise === null) ok = false;
    }
    if (cond === null || then === null || !ok) return null;
    const node: SymphonyNode = { type: 'if', cond, then };
    if (otherwise !== undefined) node.else = otherwise;
    return node;
  }

  // ------------------------------------------------------------------ conditions and values

  private condition(form: Form, path: string): SymphonyCondition | null {
    this.where.set(path, form);
    const op = headName(form);
    const example = '(> (current-price "SPY") (moving-average-price "SPY" {:window 200}))';
    if (op === null) {
      this.error(form, `expected a condition such as (> A B), got ${describeForm(form)}`, `write ${example}`);
      return null;
    }
    if (!isCompare(op)) {
      if (isNodeOp(op)) {
        this.error(form, 'a node where a condition is expected', `a condition compares two values: ${example}`);
      } else if (isIndicator(op)) {
        this.error(
          form,
          `indicator \`${op}\` where a condition is expected`,
          `compare it: (> ${indicatorExample(op)} 50)`,
        );
      } else if (Object.hasOwn(COMPARE_ALIASES, op)) {
        this.error((form as ListForm).items[0] as Form, `unknown comparison \`${op}\``, COMPARE_ALIASES[op]);
        // Keep checking the values it compares.
        (form as ListForm).items.slice(1).forEach((v, i) => {
          this.value(v, `${path}[${i}]`);
        });
      } else if (Object.hasOwn(UNSUPPORTED_OPS, op)) {
        this.error((form as ListForm).items[0] as Form, `unknown comparison \`${op}\``, UNSUPPORTED_OPS[op]);
        // Keep checking the conditions it combines.
        (form as ListForm).items.slice(1).forEach((c, i) => {
          this.condition(c, `${path}[${i}]`);
        });
      } else {
        this.error(
          (form as ListForm).items[0] as Form,
          `unknown comparison \`${op}\``,
          nearMiss(op, COMPARE_OPS) ?? 'the comparisons are > < >= <= =',
        );
        // Keep checking the values it compares.
        (form as ListForm).items.slice(1).forEach((v, i) => {
          this.value(v, `${path}[${i}]`);
        });
      }
      return null;
    }
    const args = (form as ListForm).items.slice(1);
    if (args.length !== 2) {
      this.error(
        args.length < 2 ? form : (args[2] as Form),
        `\`${op}\` compares 2 values, got ${args.length}`,
        `write (${op} A B)`,
      );
    }
    const left = args[0] === undefined ? null : this.value(args[0], `${path}.left`);
    const right = args[1] === undefined ? null : this.value(args[1], `${path}.right`);
    if (left === null || right === null || args.length !== 2) return null;
    return { op, left, right };
  }

  private value(form: Form, path: string): SymphonyValue | null {
    this.where.set(path, form);
    switch (form.kind) {
      case 'number':
        return form.value;
      case 'symbol':
        if (!this.params.has(form.name) && isIndicator(form.name)) {
          this.error(form, `indicator \`${form.name}\` needs a ticker`, `write ${indicatorExample(form.name)}`);
          return null;
        }
        return this.paramRef(form);
      case 'string':
        this.error(form, 'a string where a value is expected', `write (current-price "${form.value}")`);
        return null;
      case 'list':
        break;
      default:
        this.error(
          form,
          `expected a number, a param or an indicator such as (rsi "SPY" {:window 14}), got ${describeForm(form)}`,
        );
        return null;
    }
    const head = form.items[0];
    const op = head?.kind === 'symbol' ? head.name : null;
    if (op === null) {
      this.error(form, 'expected an indicator such as (rsi "SPY" {:window 14})');
      return null;
    }
    if (isCompare(op)) {
      this.error(form, 'a condition where a value is expected', 'conditions do not nest; nest ifs instead');
      return null;
    }
    if (isNodeOp(op)) {
      this.error(
        form,
        'a node where a value is expected',
        'a value is a number, a param or an indicator such as (current-price "SPY")',
      );
      return null;
    }
    if (!isIndicator(op)) {
      this.error(
        head as Form,
        `unknown indicator \`${op}\``,
        nearMiss(op, SYMPHONY_INDICATORS) ?? `the indicators are ${SYMPHONY_INDICATORS.join(', ')}`,
      );
      // Keep checking the arguments as the indicator it resembles.
      const guess = closest(op, SYMPHONY_INDICATORS);
      if (guess !== undefined) this.indicator(guess, form, path);
      return null;
    }
    return this.indicator(op, form, path);
  }

  /** `(FN "TICKER")`, `(FN "TICKER" N)`, `(FN "TICKER" {:window N})`. */
  private indicator(fn: SymphonyIndicator, form: ListForm, path: string): SymphonyValue | null {
    const args = form.items.slice(1);
    const tickerForm = args[0];
    if (tickerForm === undefined || tickerForm.kind === 'map' || tickerForm.kind === 'number') {
      this.error(form, `\`${fn}\` in a condition needs a ticker`, `write ${indicatorExample(fn)}`);
      return null;
    }
    const ticker = this.ticker(tickerForm, `${path}.ticker`);
    let ok = ticker !== null;
    if (fn === 'current-price') {
      // Composer exports may give current-price a window (`10`, `{:window 2}`); it has none, so a
      // well-formed one is checked and dropped.
      if (args[1] !== undefined && this.window(args[1], `${path}.window`, true) === null) ok = false;
      if (args.length > 2) {
        this.error(
          args[2] as Form,
          `\`${fn}\` takes a ticker, got ${args.length} arguments`,
          `write ${indicatorExample(fn)}`,
        );
        ok = false;
      }
      return ok ? { fn, ticker: ticker as string } : null;
    }
    if (args.length > 2) {
      this.error(
        args[2] as Form,
        `\`${fn}\` takes a ticker and a window, got ${args.length} arguments`,
        `write ${indicatorExample(fn)}`,
      );
      ok = false;
    }
    let window: NumberOrParam | 'absent' | null = DEFAULT_WINDOWS[fn];
    if (args[1] !== undefined) window = this.window(args[1], `${path}.window`, true);
    if (!ok || window === null) return null;
    return window === 'absent' ? { fn, ticker: ticker as string } : { fn, ticker: ticker as string, window };
  }

  // ------------------------------------------------------------------ IR check

  /** The form an IR path (`symphony.root.children[1].window`) came from: its longest known prefix. */
  formAt(path: string): Form | undefined {
    let p = path;
    for (;;) {
      const f = this.where.get(p);
      if (f !== undefined) return f;
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) return undefined;
      p = p.slice(0, cut);
    }
  }
}

/**
 * Compiles one `(defsymphony ...)` form. Every problem goes to `diags`; the result is null when
 * there was any. With `ctx.tickers`, every ticker the symphony names must be among them.
 */
export function compileSymphonyForm(def: ListForm, diags: Diagnostics, ctx: SymphonyContext): SymphonyIR | null {
  const before = diags.list.length;
  const c = new SymphonyCompiler(diags, ctx);
  const ir = c.compile(def);
  if (ir === null || diags.list.length > before) return null;
  try {
    resolveSymphony(ir);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    for (const issue of e.issues) diags.at(c.formAt(issue.path) ?? def, `${issue.message} (at ${issue.path})`);
    return null;
  }
  return ir;
}
