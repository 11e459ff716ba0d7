// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
/**
 * Engine parity for pending orders, risk sizing and trailing stops: the seeded scenarios of
 * `helpers/scenarios.ts` with their buy/sell actions rewritten (seeded) into limit and stop orders,
 * risk-sized orders and trailing stops, plus cancel actions. Native and pure-TS results must agree
 * (trades and rejections exactly, floats within 1e-9 relative), each engine must repeat itself
 * bitwise, and profiled runs must count the same steps.
 */
import { describe, expect, it } from 'vitest';
import { type BacktestOptions, type BacktestResult, backtestSync } from '../src/backtest.js';
import type { Action, EngineOutput, Expr, RejectReason, Rule, StrategyIR } from '../src/types.js';
import { expectIdenticalFast, expectSameOutput } from './helpers/compare.js';
import { buildScenario, Rng, type Scenario } from './helpers/scenarios.js';

type RunOptions = Omit<BacktestOptions, 'engine' | 'signal'>;
type Engine = 'native' | 'js';

const run = (options: RunOptions, engine: Engine): BacktestResult => backtestSync({ ...options, engine });

const PIPS: Record<string, number> = { EURUSD: 0.0001, GBPUSD: 0.0001, USDJPY: 0.01, XAUUSD: 0.1 };

const op = (o: string, ...args: Expr[]): Expr => ({ op: o, args }) as Expr;

type OrderAction = Extract<Action, { action: 'buy' | 'sell' }>;

/** How a scenario's orders are rewritten. */
interface Plan {
  /** Every buy/sell becomes a limit or stop order (so every trade entered through a fill). */
  allPending: boolean;
  pending: number;
  risk: number;
  trail: number;
  cancel: number;
}

/** Rewrites one buy/sell action; `pip` is the instrument's pip size. */
function rewrite(rng: Rng, a: OrderAction, pip: number, plan: Plan): OrderAction {
  const out: OrderAction = { ...a };
  const dir = a.action === 'buy' ? 1 : -1;
  if (plan.allPending || rng.chance(plan.pending)) {
    const stop = rng.chance(0.5);
    out.order = stop ? 'stop' : 'limit';
    // Buy limits and sell stops below the market, buy stops and sell limits above it; now and then
    // on the wrong side (a fill at the next event), from a bar, or invalid.
    const q: Expr = { quote: dir === 1 ? 'ask' : 'bid' };
    const away = (stop ? dir : -dir) * rng.int(-3, 40) * pip;
    const r = rng.float();
    if (r < 0.7) out.price = op('+', q, away);
    else if (r < 0.85) out.price = op('+', { bar: dir === (stop ? 1 : -1) ? 'high' : 'low' }, away / 4);
    else if (r < 0.95) out.price = op('+', { quote: 'mid' }, away);
    else out.price = rng.chance(0.5) ? 0 : op('-', { bar: 'close', offset: 2 }, { bar: 'close', offset: 2 });
  }
  if (a.sl !== undefined && rng.chance(plan.risk)) {
    delete out.lots;
    out.risk = rng.chance(0.8) ? rng.pick([0.25, 0.5, 1, 2, 5]) : op('/', { account: 'balance' }, 5000);
  }
  if (rng.chance(plan.trail)) {
    const r = rng.float();
    out.trail = { pips: r < 0.85 ? rng.int(2, 40) : r < 0.95 ? rng.range(1, 10) : 0 };
  }
  return out;
}

/** The scenario for `seed` with its orders rewritten. */
function orderScenario(seed: number): { sc: Scenario; plan: Plan } {
  const sc = buildScenario(seed);
  const rng = new Rng(seed ^ 0x0de5);
  const plan: Plan = {
    allPending: rng.chance(0.35),
    pending: rng.pick([0.3, 0.6, 0.9]),
    risk: rng.pick([0, 0.4, 0.8]),
    trail: rng.pick([0, 0.3, 0.6]),
    cancel: rng.pick([0, 0.3]),
  };
  const symbol = sc.options.ticks?.symbol ?? sc.options.bars?.symbol ?? 'EURUSD';
  const pip = PIPS[symbol] ?? 0.0001;
  const strategy = structuredClone(sc.options.strategy) as StrategyIR;
  strategy.rules = strategy.rules.map(
    (rule): Rule => ({
      when: rule.when,
      then: rule.then.map((a) => (a.action === 'buy' || a.action === 'sell' ? rewrite(rng, a, pip, plan) : a)),
    }),
  );
  if (rng.chance(plan.cancel)) {
    // Cancel whatever rests when a position is open and in profit, or now and then when flat.
    strategy.rules.push({
      when: rng.chance(0.5)
        ? op('and', op('!=', { position: 'side' }, 0), op('>', { position: 'pnlPips' }, rng.int(0, 10)))
        : op('==', { time: 'minute' }, rng.int(0, 59)),
      then: [{ action: 'cancel' }],
    });
  }
  strategy.symbol = symbol;
  return {
    sc: { ...sc, label: `${sc.label} | ${JSON.stringify(plan)}`, options: { ...sc.options, strategy } },
    plan,
  };
}

function labelled<T>(label: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error) e.message = `${label}\n${e.message}`;
    throw e;
  }
}

const SCENARIO_COUNT = 120;

const suite = {
  ticks: 0,
  bars: 0,
  trades: 0,
  pendingTrades: { ticks: 0, bars: 0 },
  trailed: 0,
  reasons: new Set<RejectReason>(),
};

function record(sc: Scenario, plan: Plan, out: EngineOutput): void {
  suite[sc.mode]++;
  suite.trades += out.trades.length;
  if (plan.allPending) suite.pendingTrades[sc.mode] += out.trades.length;
  for (const r of out.rejections) suite.reasons.add(r.reason);
  const trails = sc.options.strategy.rules.some((r) => r.then.some((a) => 'trail' in a && a.trail !== undefined));
  if (trails) suite.trailed += out.trades.filter((t) => t.reason === 'sl').length;
}

describe('seeded scenarios with pending orders, risk sizing and trailing stops: native == js', () => {
  for (let seed = 1; seed <= SCENARIO_COUNT; seed++) {
    const mode = seed % 2 === 0 ? 'ticks' : 'bars';
    it(`scenario ${seed} (${mode})`, () => {
      const { sc, plan } = orderScenario(seed);
      labelled(sc.label, () => {
        const native = run(sc.options, 'native');
        const js = run(sc.options, 'js');
        expectSameOutput(native, js);
        expectIdenticalFast(native, run(sc.options, 'native'));
        expectIdenticalFast(js, run(sc.options, 'js'));
        record(sc, plan, native);
      });
    });
  }

  it('exercised fills from pending orders in both modes, trailing exits and the rejection reasons', () => {
    expect(suite.ticks + suite.bars).toBe(SCENARIO_COUNT);
    expect(suite.trades).toBeGreaterThan(5_000);
    expect(suite.pendingTrades.ticks).toBeGreaterThan(300);
    expect(suite.pendingTrades.bars).toBeGreaterThan(300);
    expect(suite.trailed).toBeGreaterThan(200);
    expect([...suite.reasons].sort()).toEqual([
      'invalid_lots',
      'invalid_price',
      'invalid_sl',
      'invalid_tp',
      'margin',
      'max_lot',
      'min_lot',
    ]);
  });
});

describe('profile: true with pending orders and trailing stops', () => {
  it('changes no result and gives the same step counts on both engines', () => {
    for (let seed = 1; seed <= 16; seed++) {
      const { sc } = orderScenario(seed);
      labelled(sc.label, () => {
        const [n, j] = (['native', 'js'] as const).map((engine) => run({ ...sc.options, profile: true }, engine)) as [
          BacktestResult,
          BacktestResult,
        ];
        expectIdenticalFast(n, run(sc.options, 'native'));
        expectIdenticalFast(j, run(sc.options, 'js'));
        const counts = (r: BacktestResult) =>
          Object.fromEntries(Object.entries(r.profile ?? {}).map(([k, v]) => [k, v.count]));
        expect(counts(n)).toEqual(counts(j));
        expect(n.profile?.updatePrices.count).toBe(n.events);
      });
    }
  });
});
