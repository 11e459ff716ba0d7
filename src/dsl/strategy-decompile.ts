/**
 * The strategy IR back to a `(defstrategy ...)` form. Compiling the printed form gives the same IR:
 * every optional field is written exactly when the IR has it (an explicit `type: "float"`, an
 * explicit offset 0, `order: "market"`, an empty `params` or `workers`), and a name the reader would
 * not give back as the same symbol is written as a string.
 */
import type { Action, Expr, Level, ParamSpec, StrategyIR, WorkerSpec } from '../types.js';
import type { Form } from './ast.js';
import { bool, isSymbolName, kw, list, map, nameForm, num, str, sym, vec } from './forms.js';
import { EXPRESSION_HEADS, kebab, OPERATOR_NAMES } from './strategy-forms.js';

class Decompiler {
  private readonly params: Set<string>;
  private readonly workers: Set<string>;

  constructor(ir: StrategyIR) {
    this.params = new Set(Object.keys(ir.params ?? {}));
    this.workers = new Set((ir.workers ?? []).map((w) => w.id));
  }

  strategy(ir: StrategyIR): Form {
    const options: Form[] = [];
    if (ir.symbol !== undefined) options.push(kw('symbol'), str(ir.symbol));
    options.push(kw('timeframe'), kw(ir.decision.timeframe));
    if (ir.decision.on !== undefined) options.push(kw('on'), kw(ir.decision.on));
    const params = ir.params === undefined ? undefined : Object.entries(ir.params);
    if (params !== undefined && params.length === 0) options.push(kw('params'), map([]));
    if (ir.workers !== undefined && ir.workers.length === 0) options.push(kw('workers'), vec([]));
    return list(
      sym('defstrategy'),
      nameForm(ir.name),
      map(options),
      ...(params ?? []).map(([name, spec]) => this.param(name, spec)),
      ...(ir.workers ?? []).map((w) => this.worker(w)),
      ...ir.rules.map((r) => list(sym('when'), this.expr(r.when), ...r.then.map((a) => this.action(a)))),
    );
  }

  private param(name: string, spec: ParamSpec): Form {
    const opts: Form[] = [];
    if (spec.type !== undefined) opts.push(kw('type'), kw(spec.type));
    if (spec.min !== undefined) opts.push(kw('min'), num(spec.min));
    if (spec.max !== undefined) opts.push(kw('max'), num(spec.max));
    const items = [sym('param'), nameForm(name), num(spec.default)];
    if (opts.length > 0) items.push(map(opts));
    return list(...items);
  }

  private worker(w: WorkerSpec): Form {
    const entries: Form[] = [];
    for (const [k, v] of Object.entries(w.params)) {
      entries.push(kw(k), typeof v === 'number' ? num(v) : typeof v === 'string' ? kw(v) : nameForm(v.param));
    }
    const spec = [sym(w.kind), kw(w.timeframe)];
    if (entries.length > 0) spec.push(map(entries));
    return list(sym('worker'), nameForm(w.id), list(...spec));
  }

  private action(a: Action): Form {
    if (a.action === 'close' || a.action === 'cancel') return list(sym(a.action));
    const items: Form[] = [sym(a.action)];
    if (a.lots !== undefined) items.push(kw('lots'), this.expr(a.lots));
    if (a.risk !== undefined) items.push(kw('risk'), this.expr(a.risk));
    if ((a.order === 'limit' || a.order === 'stop') && a.price !== undefined) {
      items.push(kw(a.order), this.expr(a.price));
    } else {
      if (a.order !== undefined) items.push(kw('order'), kw(a.order));
      if (a.price !== undefined) items.push(kw('price'), this.expr(a.price));
    }
    if (a.sl !== undefined) items.push(kw('sl'), this.level(a.sl));
    if (a.tp !== undefined) items.push(kw('tp'), this.level(a.tp));
    if (a.trail !== undefined) items.push(kw('trail'), list(sym('pips'), this.expr(a.trail.pips)));
    return list(...items);
  }

  private level(l: Level): Form {
    return 'pips' in l ? list(sym('pips'), this.expr(l.pips)) : list(sym('price'), this.expr(l.price));
  }

  /** A bare reference to a param or worker, spelled out when the name is both. */
  private ref(kind: 'param' | 'worker', name: string): Form {
    const both = this.params.has(name) && this.workers.has(name);
    return both ? list(sym(kind), nameForm(name)) : nameForm(name);
  }

  private expr(e: Expr): Form {
    if (typeof e === 'number') return num(e);
    if (typeof e === 'boolean') return bool(e);
    if ('op' in e) {
      return list(sym(OPERATOR_NAMES[e.op]), ...e.args.map((a) => this.expr(a)));
    }
    if ('param' in e) return this.ref('param', e.param);
    if ('worker' in e) {
      let base: Form;
      if (e.output !== undefined) {
        const head = isSymbolName(e.worker) && !EXPRESSION_HEADS.includes(e.worker) ? sym(e.worker) : str(e.worker);
        base = list(head, kw(e.output));
      } else {
        base = this.ref('worker', e.worker);
      }
      return e.offset === undefined ? base : list(sym('prev'), base, num(e.offset));
    }
    if ('bar' in e) {
      const items = [sym('bar'), kw(e.bar)];
      if (e.timeframe !== undefined) items.push(kw(e.timeframe));
      return e.offset === undefined ? list(...items) : list(sym('prev'), list(...items), num(e.offset));
    }
    if ('forming' in e) {
      const items = [sym('forming'), kw(e.forming)];
      if (e.timeframe !== undefined) items.push(kw(e.timeframe));
      return list(...items);
    }
    if ('quote' in e) return list(sym('tick'), kw(e.quote));
    if ('position' in e) return list(sym('position'), kw(kebab(e.position)));
    if ('account' in e) return list(sym('account'), kw(e.account));
    return list(sym('time'), kw(kebab(e.time)));
  }
}

/** The `(defstrategy ...)` form of an IR; `compile(printForms([form]))` gives the IR back. */
export function strategyToForm(ir: StrategyIR): Form {
  return new Decompiler(ir).strategy(ir);
}
