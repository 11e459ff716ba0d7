/**
 * Symphony IR back to `defsymphony` forms. Compiling the printed forms gives an IR deep-equal to
 * the input for every valid IR: windows are written as `{:window N}` (an absent window as `{}`),
 * weights as `(weight-specified [W...] [NODES])`, an `else` of null as `nil`, an asset's name as
 * written (absent, a string or `nil`), and the rebalance rule as `:rebalance-frequency` or
 * `:rebalance-threshold`.
 */
import type { SymphonyCondition, SymphonyIR, SymphonyNode, SymphonyValue } from '../symphony/types.js';
import type { NumberOrParam, ParamSpec } from '../types.js';
import type { Form } from './ast.js';
import { isSymbolName, kw, list, map, nil, num, str, sym, vec } from './forms.js';

function paramName(name: string): Form {
  if (!isSymbolName(name)) throw new Error(`param name ${JSON.stringify(name)} cannot be written as a DSL symbol`);
  return sym(name);
}

function number(v: NumberOrParam): Form {
  return typeof v === 'number' ? num(v) : paramName(v.param);
}

function windowMap(w: NumberOrParam | undefined): Form {
  return w === undefined ? map([]) : map([kw('window'), number(w)]);
}

function paramSpec(spec: ParamSpec): Form {
  const keys = Object.keys(spec).filter((k) => spec[k as keyof ParamSpec] !== undefined);
  if (keys.length === 1 && keys[0] === 'default') return num(spec.default);
  const items: Form[] = [kw('default'), num(spec.default)];
  if (spec.type !== undefined) items.push(kw('type'), kw(spec.type));
  if (spec.min !== undefined) items.push(kw('min'), num(spec.min));
  if (spec.max !== undefined) items.push(kw('max'), num(spec.max));
  return map(items);
}

function value(v: SymphonyValue): Form {
  if (typeof v === 'number') return num(v);
  if ('param' in v) return paramName(v.param);
  if (v.fn === 'current-price') {
    if (v.window !== undefined) throw new Error('current-price takes no window');
    return list(sym(v.fn), str(v.ticker));
  }
  return list(sym(v.fn), str(v.ticker), windowMap(v.window));
}

function condition(c: SymphonyCondition): Form {
  return list(sym(c.op), value(c.left), value(c.right));
}

function nodes(children: SymphonyNode[]): Form {
  return vec(children.map(node));
}

function node(n: SymphonyNode): Form {
  switch (n.type) {
    case 'asset': {
      const items = [sym('asset'), str(n.ticker)];
      if (n.name === null) items.push(nil());
      else if (n.name !== undefined) items.push(str(n.name));
      return list(...items);
    }
    case 'weight-equal':
      return list(sym('weight-equal'), nodes(n.children));
    case 'weight-specified':
      return list(sym('weight-specified'), vec(n.weights.map(number)), nodes(n.children));
    case 'weight-inverse-volatility':
      return list(sym('weight-inverse-volatility'), windowMap(n.window), nodes(n.children));
    case 'filter': {
      let score: Form;
      if (n.fn === 'current-price') {
        if (n.window !== undefined) throw new Error('current-price takes no window');
        score = list(sym(n.fn));
      } else {
        score = list(sym(n.fn), windowMap(n.window));
      }
      const select = list(sym(n.select === 'top' ? 'select-top' : 'select-bottom'), number(n.count));
      return list(sym('filter'), score, select, nodes(n.children));
    }
    case 'group':
      return list(sym('group'), str(n.name), nodes(n.children));
    case 'if': {
      const items = [sym('if'), condition(n.cond), nodes(n.then)];
      if (n.else === null) items.push(nil());
      else if (n.else !== undefined) items.push(nodes(n.else));
      return list(...items);
    }
  }
}

/** The `(defsymphony ...)` form of an IR. Throws for a param name that is not a DSL symbol. */
export function symphonyToForm(ir: SymphonyIR): Form {
  const options: Form[] = [];
  const r = ir.rebalance;
  if (r !== undefined) {
    if (typeof r === 'string') options.push(kw('rebalance-frequency'), kw(r));
    else options.push(kw('rebalance-threshold'), number(r.threshold));
  }
  if (ir.params !== undefined) {
    const specs: Form[] = [];
    for (const [name, spec] of Object.entries(ir.params)) specs.push(paramName(name), paramSpec(spec));
    options.push(kw('params'), map(specs));
  }
  const items: Form[] = [sym('defsymphony'), str(ir.name)];
  if (options.length > 0) items.push(map(options));
  items.push(node(ir.root));
  return list(...items);
}
