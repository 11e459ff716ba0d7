// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
/**
 * `defstrategy` (docs/dsl-strategy.md): every construct compiles to the IR it stands for, and every
 * mistake is reported at its line and column, with a hint where there is one, all at once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backtest } from '../src/backtest.js';
import { check, compile, type Diagnostic, DslError } from '../src/dsl/index.js';
import { generateTicks } from '../src/generate.js';
import { referenceStrategy } from '../src/strategies/reference.js';
import type { Action, Expr, StrategyIR } from '../src/types.js';

const root = join(__dirname, '..');

function strategy(src: string): StrategyIR {
  const r = compile(src, { file: 't.clj' });
  if (r.kind !== 'strategy') throw new Error('not a strategy');
  return r.ir;
}

/** Declarations shared by the expression and action tests. */
const PRELUDE = `(defstrategy t {:timeframe :M5}
  (param p 14 {:type :int :min 2})
  (param k 2.5)
  (worker rsi (rsi :M5 {:period p}))
  (worker env (envelope :M30 {:period 20 :percent 2}))
  (worker m (macd :H1 {:fast 12 :slow 26 :signal 9 :source :open}))`;

/** The IR of a condition. */
const cond = (text: string): Expr => strategy(`${PRELUDE}\n  (when ${text} (close)))`).rules[0]!.when;
/** The IR of a number expression (compared with 0 to make a condition). */
const value = (text: string): Expr => (cond(`(> ${text} 0)`) as { args: Expr[] }).args[0]!;
/** The IR of one action. */
const action = (text: string): Action => strategy(`${PRELUDE}\n  (when true ${text}))`).rules[0]!.then[0]!;

/** The diagnostics of a source, as `line:column message [hint]` strings. */
function problems(src: string): string[] {
  return check(src, { file: 't.clj' }).map(
    (d: Diagnostic) => `${d.line}:${d.column} ${d.message}${d.hint ? ` [${d.hint}]` : ''}`,
  );
}

/** The diagnostics of one rule placed after the prelude (line 7). */
const ruleProblems = (text: string): string[] => problems(`${PRELUDE}\n${text})`);

describe('defstrategy: the definition', () => {
  it('compiles the demo (examples/rsi-envelope.clj) to the reference strategy', () => {
    const src = readFileSync(join(root, 'examples', 'rsi-envelope.clj'), 'utf8');
    // The file names its instrument (`:symbol "EURUSD"`), which is metadata only.
    expect(strategy(src)).toEqual({ ...referenceStrategy, symbol: 'EURUSD' });
  });

  it('maps the name and options; absent options stay absent', () => {
    expect(strategy('(defstrategy "my strategy" {:timeframe :H4})')).toEqual({
      version: 1,
      name: 'my strategy',
      decision: { timeframe: 'H4' },
      rules: [],
    });
    expect(strategy('(defstrategy s {:symbol "GBPUSD" :timeframe :D1 :on :tick :params {} :workers []})')).toEqual({
      version: 1,
      name: 's',
      symbol: 'GBPUSD',
      params: {},
      decision: { timeframe: 'D1', on: 'tick' },
      workers: [],
      rules: [],
    });
  });

  it('compiles params with exactly the options given', () => {
    const ir = strategy(`(defstrategy s {:timeframe :M1}
      (param a 1)
      (param "b c" -2.5 {:type :float})
      (param d 10 {:type :int :min 2 :max 50})
      (param e 0.5 {:max 1}))`);
    expect(ir.params).toEqual({
      a: { default: 1 },
      'b c': { default: -2.5, type: 'float' },
      d: { default: 10, type: 'int', min: 2, max: 50 },
      e: { default: 0.5, max: 1 },
    });
    expect(Object.keys(ir.params!)).toEqual(['a', 'b c', 'd', 'e']);
  });

  it('compiles every worker kind, with params, param references and sources', () => {
    const ir = strategy(`(defstrategy s {:timeframe :M1}
      (param n 14)
      (worker a (sma :M1 {:period n :source :high}))
      (worker b (ema :M5 {:period 3}))
      (worker c (rsi :M15 {:period n}))
      (worker d (atr :M30 {:period 14}))
      (worker e (bollinger :H1 {:period 20 :deviations 2.5 :source :low}))
      (worker f (envelope :H4 {:period 20 :percent 0.5}))
      (worker g (macd :D1 {:fast 12 :slow 26 :signal 9})))`);
    expect(ir.workers).toEqual([
      { id: 'a', kind: 'sma', timeframe: 'M1', params: { period: { param: 'n' }, source: 'high' } },
      { id: 'b', kind: 'ema', timeframe: 'M5', params: { period: 3 } },
      { id: 'c', kind: 'rsi', timeframe: 'M15', params: { period: { param: 'n' } } },
      { id: 'd', kind: 'atr', timeframe: 'M30', params: { period: 14 } },
      { id: 'e', kind: 'bollinger', timeframe: 'H1', params: { period: 20, deviations: 2.5, source: 'low' } },
      { id: 'f', kind: 'envelope', timeframe: 'H4', params: { period: 20, percent: 0.5 } },
      { id: 'g', kind: 'macd', timeframe: 'D1', params: { fast: 12, slow: 26, signal: 9 } },
    ]);
  });

  it('keeps rules in order, each with all its actions', () => {
    const ir = strategy(`${PRELUDE}
      (when (> rsi 70) (close) (sell :lots 1))
      (when (< rsi 30) (cancel)))`);
    expect(ir.rules).toEqual([
      {
        when: { op: '>', args: [{ worker: 'rsi' }, 70] },
        then: [{ action: 'close' }, { action: 'sell', lots: 1 }],
      },
      { when: { op: '<', args: [{ worker: 'rsi' }, 30] }, then: [{ action: 'cancel' }] },
    ]);
  });
});

describe('defstrategy: cond', () => {
  const A: Expr = { op: '>', args: [{ worker: 'rsi' }, 70] };
  const B: Expr = { op: '<', args: [{ worker: 'rsi' }, 30] };
  const C: Expr = { op: '>', args: [{ param: 'k' }, 1] };
  const not = (e: Expr): Expr => ({ op: 'not', args: [e] });

  it('gives one rule per clause, each excluding the clauses before it', () => {
    const ir = strategy(`${PRELUDE}
      (cond (> rsi 70) (sell :lots 1)
            (< rsi 30) (do (close) (buy :lots 1))
            (> k 1) (close)
            :else (cancel)))`);
    expect(ir.rules).toEqual([
      { when: A, then: [{ action: 'sell', lots: 1 }] },
      { when: { op: 'and', args: [not(A), B] }, then: [{ action: 'close' }, { action: 'buy', lots: 1 }] },
      { when: { op: 'and', args: [not(A), not(B), C] }, then: [{ action: 'close' }] },
      { when: { op: 'and', args: [not(A), not(B), not(C)] }, then: [{ action: 'cancel' }] },
    ]);
  });

  it(':else after one clause is its negation; a lone :else is always true', () => {
    expect(strategy(`${PRELUDE}\n (cond (> rsi 70) (close) :else (cancel)))`).rules).toEqual([
      { when: A, then: [{ action: 'close' }] },
      { when: not(A), then: [{ action: 'cancel' }] },
    ]);
    expect(strategy(`${PRELUDE}\n (cond :else (close)))`).rules).toEqual([{ when: true, then: [{ action: 'close' }] }]);
  });
});

describe('defstrategy: expressions', () => {
  it('literals and names', () => {
    expect(value('3.5')).toBe(3.5);
    expect(value('-2')).toBe(-2);
    expect(cond('true')).toBe(true);
    expect(cond('false')).toBe(false);
    expect(value('p')).toEqual({ param: 'p' });
    expect(value('"k"')).toEqual({ param: 'k' });
    expect(value('rsi')).toEqual({ worker: 'rsi' });
    expect(value('(param p)')).toEqual({ param: 'p' });
    expect(value('(worker rsi)')).toEqual({ worker: 'rsi' });
  });

  it('worker outputs', () => {
    for (const o of ['lower', 'middle', 'upper']) expect(value(`(env :${o})`)).toEqual({ worker: 'env', output: o });
    for (const o of ['macd', 'signal', 'hist']) expect(value(`(m :${o})`)).toEqual({ worker: 'm', output: o });
    expect(value('(rsi :value)')).toEqual({ worker: 'rsi', output: 'value' });
    expect(value('("env" :upper)')).toEqual({ worker: 'env', output: 'upper' });
  });

  it('bars, the forming bar and prev', () => {
    for (const f of ['time', 'open', 'high', 'low', 'close', 'volume'])
      expect(value(`(bar :${f})`)).toEqual({ bar: f });
    expect(value('(bar :close :H1)')).toEqual({ bar: 'close', timeframe: 'H1' });
    expect(value('(forming :high)')).toEqual({ forming: 'high' });
    expect(value('(forming :low :D1)')).toEqual({ forming: 'low', timeframe: 'D1' });
    expect(value('(prev rsi 1)')).toEqual({ worker: 'rsi', offset: 1 });
    expect(value('(prev rsi 0)')).toEqual({ worker: 'rsi', offset: 0 });
    expect(value('(prev (env :upper) 2)')).toEqual({ worker: 'env', output: 'upper', offset: 2 });
    expect(value('(prev (bar :close) 1)')).toEqual({ bar: 'close', offset: 1 });
    expect(value('(prev (bar :open :H4) 3)')).toEqual({ bar: 'open', timeframe: 'H4', offset: 3 });
    expect(value('(prev (prev rsi 1) 2)')).toEqual({ worker: 'rsi', offset: 3 });
  });

  it('quotes, position, account and time, with kebab-case keywords', () => {
    for (const q of ['bid', 'ask', 'mid', 'spread']) expect(value(`(tick :${q})`)).toEqual({ quote: q });
    expect(value('(position :side)')).toEqual({ position: 'side' });
    expect(value('(position :lots)')).toEqual({ position: 'lots' });
    expect(value('(position :entry-price)')).toEqual({ position: 'entryPrice' });
    expect(value('(position :pnl)')).toEqual({ position: 'pnl' });
    expect(value('(position :pnl-pips)')).toEqual({ position: 'pnlPips' });
    expect(value('(account :balance)')).toEqual({ account: 'balance' });
    expect(value('(account :equity)')).toEqual({ account: 'equity' });
    expect(value('(time :hour)')).toEqual({ time: 'hour' });
    expect(value('(time :minute)')).toEqual({ time: 'minute' });
    expect(value('(time :weekday)')).toEqual({ time: 'weekday' });
    expect(value('(time :minute-of-day)')).toEqual({ time: 'minuteOfDay' });
  });

  it('arithmetic', () => {
    expect(value('(+ rsi 1)')).toEqual({ op: '+', args: [{ worker: 'rsi' }, 1] });
    expect(value('(+ 1 2 3)')).toEqual({ op: '+', args: [1, 2, 3] });
    expect(value('(- rsi p)')).toEqual({ op: '-', args: [{ worker: 'rsi' }, { param: 'p' }] });
    expect(value('(- rsi)')).toEqual({ op: 'neg', args: [{ worker: 'rsi' }] });
    expect(value('(* 2 k)')).toEqual({ op: '*', args: [2, { param: 'k' }] });
    expect(value('(/ rsi 100)')).toEqual({ op: '/', args: [{ worker: 'rsi' }, 100] });
    expect(value('(abs (- rsi 50))')).toEqual({ op: 'abs', args: [{ op: '-', args: [{ worker: 'rsi' }, 50] }] });
    expect(value('(min 1 2)')).toEqual({ op: 'min', args: [1, 2] });
    expect(value('(max 1 2 3)')).toEqual({ op: 'max', args: [1, 2, 3] });
  });

  it('comparisons, logic and crosses', () => {
    for (const [dsl, ir] of [
      ['>', '>'],
      ['>=', '>='],
      ['<', '<'],
      ['<=', '<='],
      ['=', '=='],
      ['not=', '!='],
    ]) {
      expect(cond(`(${dsl} rsi 50)`)).toEqual({ op: ir, args: [{ worker: 'rsi' }, 50] });
    }
    const gt: Expr = { op: '>', args: [{ worker: 'rsi' }, 50] };
    expect(cond('(and (> rsi 50) true)')).toEqual({ op: 'and', args: [gt, true] });
    expect(cond('(or (> rsi 50) false (> rsi 50))')).toEqual({ op: 'or', args: [gt, false, gt] });
    expect(cond('(not (> rsi 50))')).toEqual({ op: 'not', args: [gt] });
    expect(cond('(cross-above rsi 30)')).toEqual({ op: 'crossAbove', args: [{ worker: 'rsi' }, 30] });
    expect(cond('(cross-below (bar :close) (* (env :lower) (- 1 (abs k))))')).toEqual({
      op: 'crossBelow',
      args: [
        { bar: 'close' },
        {
          op: '*',
          args: [
            { worker: 'env', output: 'lower' },
            { op: '-', args: [1, { op: 'abs', args: [{ param: 'k' }] }] },
          ],
        },
      ],
    });
    expect(cond('(cross-above (prev rsi 1) (min p 3))')).toEqual({
      op: 'crossAbove',
      args: [
        { worker: 'rsi', offset: 1 },
        { op: 'min', args: [{ param: 'p' }, 3] },
      ],
    });
  });

  it('hour-between, plain and wrapping past midnight', () => {
    const hour: Expr = { time: 'hour' };
    expect(cond('(hour-between 8 17)')).toEqual({
      op: 'and',
      args: [
        { op: '<=', args: [8, hour] },
        { op: '<', args: [hour, 17] },
      ],
    });
    expect(cond('(hour-between 22 3)')).toEqual({
      op: 'or',
      args: [
        { op: '>=', args: [hour, 22] },
        { op: '<', args: [hour, 3] },
      ],
    });
  });

  it('weekday-in, with numbers or day keywords', () => {
    const day = (d: number): Expr => ({ op: '==', args: [{ time: 'weekday' }, d] });
    expect(cond('(weekday-in :mon)')).toEqual(day(1));
    expect(cond('(weekday-in :sun :mon :tue :wed :thu :fri :sat)')).toEqual({
      op: 'or',
      args: [0, 1, 2, 3, 4, 5, 6].map(day),
    });
    expect(cond('(weekday-in 1 :fri)')).toEqual({ op: 'or', args: [day(1), day(5)] });
  });
});

describe('defstrategy: actions', () => {
  it('buy and sell with lots or risk, levels in pips or price, and a trailing stop', () => {
    expect(action('(buy :lots 1)')).toEqual({ action: 'buy', lots: 1 });
    expect(action('(sell :lots (* k 2) :sl (pips 20) :tp (price (+ (tick :bid) 0.01)))')).toEqual({
      action: 'sell',
      lots: { op: '*', args: [{ param: 'k' }, 2] },
      sl: { pips: 20 },
      tp: { price: { op: '+', args: [{ quote: 'bid' }, 0.01] } },
    });
    expect(action('(buy :risk 1.5 :sl (price (- (tick :ask) 0.002)) :trail (pips k))')).toEqual({
      action: 'buy',
      risk: 1.5,
      sl: { price: { op: '-', args: [{ quote: 'ask' }, 0.002] } },
      trail: { pips: { param: 'k' } },
    });
  });

  it('pending orders: :limit / :stop, and the long form with :order and :price', () => {
    expect(action('(buy :lots 1 :limit (- (tick :ask) 0.001))')).toEqual({
      action: 'buy',
      order: 'limit',
      price: { op: '-', args: [{ quote: 'ask' }, 0.001] },
      lots: 1,
    });
    expect(action('(sell :lots 1 :stop (bar :low))')).toEqual({
      action: 'sell',
      order: 'stop',
      price: { bar: 'low' },
      lots: 1,
    });
    expect(action('(buy :lots 1 :order :limit :price 1.1)')).toEqual({
      action: 'buy',
      order: 'limit',
      price: 1.1,
      lots: 1,
    });
    expect(action('(buy :order :market :lots 1)')).toEqual({ action: 'buy', order: 'market', lots: 1 });
  });

  it('close and cancel', () => {
    expect(action('(close)')).toEqual({ action: 'close' });
    expect(action('(cancel)')).toEqual({ action: 'cancel' });
  });
});

describe('defstrategy: checks', () => {
  it('reports unknown clauses, operators, keywords and kinds with near-miss hints', () => {
    expect(problems('(defstrategy s {:timeframe :M5}\n  (parm x 1))')).toEqual([
      '2:4 unknown clause `parm` [did you mean `param`?]',
    ]);
    expect(ruleProblems('(when (crosss-above rsi 30) (close))')).toEqual([
      '7:8 unknown operator `crosss-above` [did you mean `cross-above`?]',
    ]);
    expect(ruleProblems('(when (== rsi 30) (close))')).toEqual(['7:8 unknown operator `==` [did you mean `=`?]']);
    expect(ruleProblems('(when (< (bar :clse) 1) (close))')).toEqual([
      '7:15 unknown bar field `:clse` [did you mean `:close`?]',
    ]);
    expect(ruleProblems('(when (< (position :entryPrice) 1) (close))')).toEqual([
      '7:20 unknown position field `:entryPrice` [did you mean `:entry-price`?]',
    ]);
    expect(ruleProblems('(when (< (env :lowr) 1) (close))')).toEqual([
      '7:15 unknown output `:lowr` of envelope worker `env` [did you mean `:lower`?]',
    ]);
    expect(ruleProblems('(when true (buy :lost 1))')).toEqual(
      [
        '7:17 unknown order option `:lost` [did you mean `:lots`?]',
        '7:12 `buy` needs `:lots` or `:risk` [e.g. (buy :lots 1)]',
      ].sort(),
    );
    expect(ruleProblems('(when true (by :lots 1))')).toEqual(['7:13 unknown action `by` [did you mean `buy`?]']);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (worker w (emaa :M5 {:period 3})))')).toEqual([
      '2:14 unknown worker kind `emaa` [did you mean `ema`?]',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (worker w (ema :M5 {:perod 3})))')).toEqual(
      [
        '2:23 unknown ema parameter `:perod` [did you mean `:period`?]',
        '2:22 ema needs `:period` [add :period to the parameter map]',
      ].sort(),
    );
    expect(problems('(defstrategy s {:timeframe :M5 :onn :bar})')).toEqual([
      '1:32 unknown option `:onn` [did you mean `:on`?]',
    ]);
  });

  it('reports invalid timeframes and missing :timeframe', () => {
    expect(problems('(defstrategy s {:timeframe :M7})')).toEqual([
      '1:28 unknown timeframe `:M7` [did you mean `:M1`?]',
    ]);
    expect(problems('(defstrategy s {:timeframe "M5"})')).toEqual([
      '1:28 a timeframe is written as a keyword [write `:M5`]',
    ]);
    expect(problems('(defstrategy s {:on :bar})')).toEqual([
      '1:16 missing option `:timeframe` (the decision timeframe) [add :timeframe :M5]',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (worker w (ema :W1 {:period 3})))')).toEqual([
      '2:18 unknown timeframe `:W1` [did you mean `:M1`?]',
    ]);
  });

  it('reports unknown and duplicate names, and a name that is both a param and a worker', () => {
    expect(ruleProblems('(when (> rsj 1) (close))')).toEqual(['7:10 unknown name `rsj` [did you mean `rsi`?]']);
    expect(ruleProblems('(when (> (rsj :value) 1) (close))')).toEqual([
      '7:11 unknown operator `rsj` [did you mean `rsi`?]',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (param a 1)\n  (param a 2))')).toEqual([
      '3:10 param `a` is declared twice [first declared at 2:10]',
    ]);
    expect(
      problems(
        '(defstrategy s {:timeframe :M5}\n  (worker w (ema :M5 {:period 3}))\n  (worker w (sma :M5 {:period 3})))',
      ),
    ).toEqual(['3:11 worker `w` is declared twice [first declared at 2:11]']);
    const both = `(defstrategy s {:timeframe :M5}
  (param fast 12)
  (worker fast (ema :M5 {:period fast}))
  (when (> fast 1) (close))
  (when (> (worker fast) (param fast)) (close)))`;
    expect(problems(both)).toEqual([
      '4:12 `fast` names both a param and a worker [write (param fast) or (worker fast)]',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (worker w (ema :M5 {:period q})))')).toEqual([
      '2:31 unknown param `q` [no params are declared]',
    ]);
  });

  it('reports wrong arity', () => {
    expect(ruleProblems('(when (> rsi) (close))')).toEqual(['7:7 `>` takes exactly 2 arguments, got 1']);
    expect(ruleProblems('(when (and (> rsi 1)) (close))')).toEqual([
      '7:7 `and` takes at least 2 arguments, got 1 [with one condition, write it alone]',
    ]);
    expect(ruleProblems('(when (> (+ rsi) 1) (close))')).toEqual(['7:10 `+` takes at least 2 arguments, got 1']);
    expect(ruleProblems('(when (> (abs 1 2) 1) (close))')).toEqual(['7:10 `abs` takes exactly 1 argument, got 2']);
    expect(ruleProblems('(when (> (position) 1) (close))')).toEqual([
      '7:10 `position` takes exactly 1 argument, got 0 [write (position :side)]',
    ]);
    expect(ruleProblems('(when true (close 1))')).toEqual(['7:19 `close` takes no arguments']);
    expect(ruleProblems('(when true)')).toEqual(['7:1 when needs at least one action after its condition']);
  });

  it('reports type mismatches (number vs boolean) and misplaced forms', () => {
    expect(ruleProblems('(when rsi (close))')).toEqual([
      '7:7 expected a boolean expression, got a number expression [compare it, e.g. (> rsi 70)]',
    ]);
    expect(ruleProblems('(when (> (< rsi 1) 1) (close))')).toEqual([
      '7:10 expected a number expression, got a boolean expression',
    ]);
    expect(ruleProblems('(when true (buy :lots (> rsi 1)))')).toEqual([
      '7:23 expected a number expression, got a boolean expression',
    ]);
    expect(ruleProblems('(when (> :rsi 1) (close))')).toEqual(['7:10 a keyword is not an expression: `:rsi`']);
    expect(ruleProblems('(when (> env 1) (close))')).toEqual([
      '7:10 `env` is a envelope worker with several outputs; name one [write (env :upper), (env :middle), (env :lower)]',
    ]);
    expect(ruleProblems('(when (> (prev (tick :bid) 1) 1) (close))')).toEqual([
      '7:16 prev takes a worker or a bar reference [write (prev rsi 1), (prev (env :upper) 2) or (prev (bar :close :H1) 1)]',
    ]);
    expect(ruleProblems('(when (> (prev rsi -1) 1) (close))')).toEqual([
      '7:20 the offset of prev is a non-negative integer, got number -1',
    ]);
    expect(ruleProblems('(when (cross-above (tick :bid) 1) (close))')).toEqual([
      '7:21 `tick` is not allowed inside cross-above [the arguments of a cross may contain only numbers, params, worker and bar references and + - * / abs min max]',
    ]);
    expect(ruleProblems('(when (hour-between 8 8) (close))')).toEqual([
      '7:7 an empty hour range: 8 to 8 [the range is from <= hour < to]',
    ]);
    expect(ruleProblems('(when (weekday-in :monday) (close))')).toEqual([
      '7:19 unknown weekday `:monday` [one of :sun :mon :tue :wed :thu :fri :sat]',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (param a "x"))')[0]).toMatch(
      /^2:12 expected the default value of param `a` \(a number\), got string "x"/,
    );
    expect(problems('(defstrategy s {:timeframe :M5}\n  (param a 1 {:type int}))')).toEqual([
      '2:21 a param type is written as a keyword [write `:int`]',
    ]);
    expect(problems('(defstrategy s [:timeframe :M5])')).toEqual([
      '1:16 defstrategy needs an options map after the name [e.g. {:timeframe :M5 :on :bar}]',
    ]);
  });

  it('reports order options: lots and risk, risk without sl, a price on a market order', () => {
    expect(ruleProblems('(when true (buy :lots 1 :risk 2 :sl (pips 10)))')).toEqual([
      '7:25 give either `:lots` or `:risk`, not both',
    ]);
    expect(ruleProblems('(when true (buy :risk 2))')).toEqual([
      '7:17 `:risk` (percent of equity lost at the stop-loss) needs `:sl` [add :sl (pips N) or :sl (price X)]',
    ]);
    expect(ruleProblems('(when true (sell :sl (pips 10)))')).toEqual([
      '7:12 `sell` needs `:lots` or `:risk` [e.g. (sell :lots 1)]',
    ]);
    expect(ruleProblems('(when true (buy :lots 1 :price 1.1))')).toEqual([
      '7:25 a market order has no price [for a pending order write :limit PRICE or :stop PRICE (or :order :limit :price PRICE)]',
    ]);
    expect(ruleProblems('(when true (buy :lots 1 :order :market :price 1.1))')).toEqual([
      '7:40 a market order has no price [for a pending order write :limit PRICE or :stop PRICE (or :order :limit :price PRICE)]',
    ]);
    expect(ruleProblems('(when true (buy :lots 1 :order :stop))')).toEqual([
      '7:25 a stop order needs a price [add :price PRICE, or write :stop PRICE]',
    ]);
    expect(ruleProblems('(when true (buy :lots 1 :limit 1.1 :stop 1.2))')).toEqual([
      '7:36 give one of `:limit` and `:stop`, not both',
    ]);
    expect(ruleProblems('(when true (buy :lots 1 :limit 1.1 :price 1.2))')).toEqual([
      '7:36 `:limit` already sets the order type and price [give either :limit PRICE or :order :limit :price PRICE]',
    ]);
    expect(ruleProblems('(when true (buy :lots 1 :lots 2))')).toEqual([
      '7:25 option `:lots` is given twice [first given at 7:17]',
    ]);
    expect(ruleProblems('(when true (buy :lots :sl (pips 1)))')).toEqual(['7:17 option `:lots` needs a value']);
    expect(ruleProblems('(when true (buy :lots 1 :sl 20))')).toEqual([
      '7:29 expected (pips E) or (price E) for `:sl`, got number 20',
    ]);
    expect(ruleProblems('(when true (buy :lots 1 :trail (price 1)))')).toEqual([
      '7:32 a trailing stop is a distance: `:trail` takes (pips E)',
    ]);
  });

  it('reports worker parameter values and param specs at the value', () => {
    expect(problems('(defstrategy s {:timeframe :M5}\n  (worker w (ema :M5 {:period 0})))')).toEqual([
      '2:31 period must be an integer from 1 to 100000, got 0',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (worker w (macd :M5 {:fast 26 :slow 12 :signal 9})))')).toEqual(
      ['2:30 fast (26) must be less than slow (12)'],
    );
    expect(problems('(defstrategy s {:timeframe :M5}\n  (param a 1.5 {:type :int :min 2}))')).toEqual([
      '2:12 the default of int param `a` is not an integer: 1.5',
      '2:12 default 1.5 is below min 2',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (param a 1 {:min 3 :max 2}))')).toEqual([
      '2:20 min 3 is above max 2',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (worker "a b" (ema :M5 {:period 3})))')).toEqual([
      '2:11 invalid worker id `a b`: letters, digits, `_` and `-`, not starting with a digit or `-`',
    ]);
  });

  it('reports every problem of a file at once, sorted by position', () => {
    const src = `(defstrategy s
  {:timeframe :M7}
  (param p 1)
  (param p 2)
  (worker w (emaa :M5 {:period 3}))
  (when (and (crosss-above w 30) rsi) (buy :lost 1))
  (cond (> p 1) (close) :else))`;
    expect(problems(src)).toEqual([
      '2:15 unknown timeframe `:M7` [did you mean `:M1`?]',
      '4:10 param `p` is declared twice [first declared at 3:10]',
      '5:14 unknown worker kind `emaa` [did you mean `ema`?]',
      '6:15 unknown operator `crosss-above` [did you mean `cross-above`?]',
      '6:34 unknown name `rsi`',
      '6:39 `buy` needs `:lots` or `:risk` [e.g. (buy :lots 1)]',
      '6:44 unknown order option `:lost` [did you mean `:lots`?]',
      '7:25 this cond condition has no action after it [cond takes CONDITION ACTION pairs]',
    ]);
    let error: unknown;
    try {
      compile(src, { file: 't.clj' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DslError);
    const text = (error as DslError).format();
    expect(text).toContain('t.clj:6:15: error: unknown operator `crosss-above`');
    expect(text).toContain('6 |   (when (and (crosss-above w 30) rsi) (buy :lost 1))');
    expect(text).toContain('  |               ^^^^^^^^^^^^');
    expect(text).toContain('  = did you mean `cross-above`?');
  });

  it('reports misplaced forms: maps, keywords, do, :else, names', () => {
    expect(problems('(defstrategy s {:symbol "" :timeframe :M5})')).toEqual([
      '1:25 the symbol option is empty [e.g. "EURUSD"]',
    ]);
    expect(problems('(defstrategy s {:symbol EURUSD :timeframe :M5})')).toEqual([
      '1:25 the symbol option is a string, got symbol EURUSD [write "EURUSD"]',
    ]);
    expect(problems('(defstrategy {:timeframe :M5})')).toEqual([
      '1:14 defstrategy needs a name first: (defstrategy my-strategy {:timeframe :M5} ...)',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (param a 1 [:type :int]))')).toEqual([
      '2:14 expected an options map like {:type :int :min 2}, got vector',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (worker w (ema :M5 [:period 3])))')).toEqual([
      '2:22 expected a map of indicator parameters, like {:period 14}, got vector',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (when true (buy :lots 1))\n  42)')).toEqual([
      '3:3 expected a clause: (param ...), (worker ...), (when ...) or (cond ...), got number 42',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (buy :lots 1))')).toEqual([
      '2:4 unknown clause `buy` [an action runs inside a rule: (when CONDITION (buy ...))]',
    ]);
    expect(ruleProblems('(when true (do (close)))')).toEqual([
      '7:13 (do ...) groups the actions of a cond clause [in when, list the actions one after another: (when C (close) (buy ...))]',
    ]);
    expect(ruleProblems('(when (> rsi 1) (< rsi 2) (close))')).toEqual([
      '7:18 unknown action `<` [a rule has one condition; combine conditions with (and ...)]',
    ]);
    expect(ruleProblems('(cond :else (close) (> rsi 1) (cancel))')).toEqual([
      '7:7 `:else` must be the last clause of cond',
    ]);
    expect(problems('(defstrategy s {:timeframe :M5}\n  (when (> x 1) (close)))')).toEqual([
      '2:12 unknown name `x` (no params or workers are declared)',
    ]);
    expect(ruleProblems('(when (> (p :value) 1) (close))')).toEqual([
      '7:11 `p` is a param, not a worker: it has no outputs [write p]',
    ]);
    expect(ruleProblems('(when (> (rsi :upper) 1) (close))')).toEqual([
      '7:15 unknown output `:upper` of rsi worker `rsi` [its outputs: :value]',
    ]);
  });
});

describe('defstrategy: the demo file runs like the hand-written IR', () => {
  const ticks = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days: 12, seed: 5, stepPoints: 8 });
  const src = readFileSync(join(root, 'examples', 'rsi-envelope.clj'), 'utf8');
  const fromDsl = strategy(src);
  for (const engine of ['native', 'js'] as const) {
    it(`gives identical results on the ${engine} engine`, async () => {
      const a = await backtest({ ticks, strategy: fromDsl, engine, account: { balance: 10_000 } });
      const b = await backtest({ ticks, strategy: referenceStrategy, engine, account: { balance: 10_000 } });
      expect(a.trades.length).toBeGreaterThan(0);
      expect(a.trades).toEqual(b.trades);
      expect(a.rejections).toEqual(b.rejections);
      expect(a.metrics).toEqual(b.metrics);
      expect(a.equity).toEqual(b.equity);
      expect(a.events).toBe(b.events);
    });
  }
});
