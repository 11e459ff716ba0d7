// biome-ignore-all lint/suspicious/noThenProperty: `then` is the symphony IR's field name
/**
 * `defsymphony`: every construct compiles to the IR written out here, every kind of mistake is
 * reported at its line and column with its hint (all of a file's mistakes at once), and IR ->
 * DSL -> IR is the identity on valid IRs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { check, compile, type Diagnostic, format, toDsl } from '../src/dsl/index.js';
import { symphonyToForm } from '../src/dsl/symphony.js';
import { resolveSymphony } from '../src/symphony/resolve.js';
import type { SymphonyIR, SymphonyNode, SymphonyValue } from '../src/symphony/types.js';
import type { NumberOrParam, ParamSpec } from '../src/types.js';

const ir = (source: string, tickers?: string[]): SymphonyIR => {
  const r = compile(source, { file: 's.clj', ...(tickers ? { tickers } : {}) });
  if (r.kind !== 'symphony') throw new Error('not a symphony');
  return r.ir;
};

/** The root node of `(defsymphony "s" OPTIONS NODE)`. */
const root = (node: string, options = ''): SymphonyNode => ir(`(defsymphony "s" ${options} ${node})`).root;

type Found = { at: string; message: string; hint?: string };
const shown = (d: Diagnostic): Found => ({
  at: `${d.line}:${d.column}`,
  message: d.message,
  ...(d.hint ? { hint: d.hint } : {}),
});
const problems = (source: string, tickers?: string[]): Found[] =>
  check(source, { file: 's.clj', ...(tickers ? { tickers } : {}) }).map(shown);

/** The problems of a one-line node inside `(defsymphony "s" NODE)`; columns count from the line's start. */
const nodeProblems = (node: string, options = ''): Found[] =>
  problems(options ? `(defsymphony "s" ${options}\n${node})` : `(defsymphony "s"\n${node})`);

describe('defsymphony: compiling', () => {
  it('compiles the example of the language reference', () => {
    const source = `(defsymphony "TQQQ trend"
  {:asset-class "EQUITIES" :rebalance-frequency :daily :params {ma-window 200 rsi-window {:default 10 :type :int :min 2}}}
  (weight-equal
    [(if (> (current-price "SPY") (moving-average-price "SPY" {:window ma-window}))
       [(if (> (rsi "TQQQ" {:window rsi-window}) 79)
          [(asset "UVXY" "ProShares Ultra VIX Short-Term Futures ETF")]
          [(asset "TQQQ" "ProShares UltraPro QQQ")])]
       [(filter (rsi {:window 10}) (select-bottom 1)
          [(asset "SQQQ") (asset "BSV" nil)])])]))`;
    expect(ir(source)).toEqual({
      version: 1,
      kind: 'symphony',
      name: 'TQQQ trend',
      params: { 'ma-window': { default: 200 }, 'rsi-window': { default: 10, type: 'int', min: 2 } },
      rebalance: 'daily',
      tickers: ['BSV', 'SPY', 'SQQQ', 'TQQQ', 'UVXY'],
      root: {
        type: 'weight-equal',
        children: [
          {
            type: 'if',
            cond: {
              op: '>',
              left: { fn: 'current-price', ticker: 'SPY' },
              right: { fn: 'moving-average-price', ticker: 'SPY', window: { param: 'ma-window' } },
            },
            then: [
              {
                type: 'if',
                cond: { op: '>', left: { fn: 'rsi', ticker: 'TQQQ', window: { param: 'rsi-window' } }, right: 79 },
                then: [{ type: 'asset', ticker: 'UVXY', name: 'ProShares Ultra VIX Short-Term Futures ETF' }],
                else: [{ type: 'asset', ticker: 'TQQQ', name: 'ProShares UltraPro QQQ' }],
              },
            ],
            else: [
              {
                type: 'filter',
                fn: 'rsi',
                window: 10,
                select: 'bottom',
                count: 1,
                children: [
                  { type: 'asset', ticker: 'SQQQ' },
                  { type: 'asset', ticker: 'BSV', name: null },
                ],
              },
            ],
          },
        ],
      },
    });
  });

  it('keeps an asset name absent, a string or null as written', () => {
    const node = root('(weight-equal [(asset "A") (asset "B" "Bee fund") (asset "C" nil)])');
    expect(node).toEqual({
      type: 'weight-equal',
      children: [
        { type: 'asset', ticker: 'A' },
        { type: 'asset', ticker: 'B', name: 'Bee fund' },
        { type: 'asset', ticker: 'C', name: null },
      ],
    });
    expect('name' in ((node as { children: SymphonyNode[] }).children[0] as object)).toBe(false);
  });

  it('writes the header: a name (string or symbol), no options, version, kind, sorted unique tickers', () => {
    expect(ir('(defsymphony my-symphony (weight-equal [(asset "b") (asset "B") (asset "a") (asset "B")]))')).toEqual({
      version: 1,
      kind: 'symphony',
      name: 'my-symphony',
      tickers: ['B', 'a', 'b'],
      root: {
        type: 'weight-equal',
        children: [
          { type: 'asset', ticker: 'b' },
          { type: 'asset', ticker: 'B' },
          { type: 'asset', ticker: 'a' },
          { type: 'asset', ticker: 'B' },
        ],
      },
    });
    const plain = ir('(defsymphony "x" {} (asset "SPY"))');
    expect(Object.keys(plain)).toEqual(['version', 'kind', 'name', 'tickers', 'root']);
  });

  it('compiles both forms of weight-specified to weights and children', () => {
    const want = {
      type: 'weight-specified',
      weights: [60, 40],
      children: [
        { type: 'asset', ticker: 'SPY' },
        { type: 'asset', ticker: 'TLT' },
      ],
    };
    expect(root('(weight-specified 60 (asset "SPY") 40 (asset "TLT"))')).toEqual(want);
    expect(root('(weight-specified [60 40] [(asset "SPY") (asset "TLT")])')).toEqual(want);
    expect(root('(weight-specified [0 1] [(asset "SPY") (asset "TLT")])')).toMatchObject({ weights: [0, 1] });
  });

  it('compiles weight-inverse-volatility with a positional or a map window', () => {
    const want = {
      type: 'weight-inverse-volatility',
      window: 20,
      children: [
        { type: 'asset', ticker: 'SPY' },
        { type: 'asset', ticker: 'TLT' },
      ],
    };
    expect(root('(weight-inverse-volatility 20 [(asset "SPY") (asset "TLT")])')).toEqual(want);
    expect(root('(weight-inverse-volatility {:window 20} [(asset "SPY") (asset "TLT")])')).toEqual(want);
  });

  it('compiles filter scores: map window, positional window, default window, current-price, {}', () => {
    const kids = '[(asset "A") (asset "B")]';
    const children = [
      { type: 'asset', ticker: 'A' },
      { type: 'asset', ticker: 'B' },
    ];
    expect(root(`(filter (cumulative-return {:window 30}) (select-top 1) ${kids})`)).toEqual({
      type: 'filter',
      fn: 'cumulative-return',
      window: 30,
      select: 'top',
      count: 1,
      children,
    });
    expect(root(`(filter (stdev-return 5) (select-bottom 2) ${kids})`)).toEqual({
      type: 'filter',
      fn: 'stdev-return',
      window: 5,
      select: 'bottom',
      count: 2,
      children,
    });
    // The default window is written into the IR.
    expect(root(`(filter (moving-average-return) (select-top 1) ${kids})`)).toMatchObject({ window: 21 });
    expect(root(`(filter (max-drawdown) (select-bottom 1) ${kids})`)).toMatchObject({ window: 60 });
    const byPrice = root(`(filter (current-price) (select-top 1) ${kids})`);
    expect(byPrice).toEqual({ type: 'filter', fn: 'current-price', select: 'top', count: 1, children });
    // `{}` leaves the window to the engine (absent from the IR).
    expect('window' in root(`(filter (rsi {}) (select-top 1) ${kids})`)).toBe(false);
  });

  it('compiles group and a single node where a vector is expected', () => {
    expect(root('(group "Bonds" (asset "TLT"))')).toEqual({
      type: 'group',
      name: 'Bonds',
      children: [{ type: 'asset', ticker: 'TLT' }],
    });
    expect(root('(if (> 1 0) (asset "A") (asset "B"))')).toEqual({
      type: 'if',
      cond: { op: '>', left: 1, right: 0 },
      then: [{ type: 'asset', ticker: 'A' }],
      else: [{ type: 'asset', ticker: 'B' }],
    });
  });

  it('compiles an if without else (no else key) and with a nil else (else: null)', () => {
    const noElse = root('(if (< (rsi "SPY") 30) [(asset "UPRO")])');
    expect(noElse).toEqual({
      type: 'if',
      cond: { op: '<', left: { fn: 'rsi', ticker: 'SPY', window: 14 }, right: 30 },
      then: [{ type: 'asset', ticker: 'UPRO' }],
    });
    expect('else' in noElse).toBe(false);
    expect(root('(if (< (rsi "SPY") 30) [(asset "UPRO")] nil)')).toMatchObject({ else: null });
  });

  it('compiles every comparison and every kind of value', () => {
    const cond = (text: string) => (root(`(if ${text} [(asset "X")])`) as { cond: unknown }).cond;
    for (const op of ['>', '<', '>=', '<=', '=']) {
      expect(cond(`(${op} (current-price "SPY") 400.5)`)).toEqual({
        op,
        left: { fn: 'current-price', ticker: 'SPY' },
        right: 400.5,
      });
    }
    // Map window, positional window, Composer's default window for every indicator.
    expect(cond('(> (exponential-moving-average-price "QQQ" {:window 8}) (moving-average-price "QQQ" 50))')).toEqual({
      op: '>',
      left: { fn: 'exponential-moving-average-price', ticker: 'QQQ', window: 8 },
      right: { fn: 'moving-average-price', ticker: 'QQQ', window: 50 },
    });
    const defaults: [string, number][] = [
      ['rsi', 14],
      ['moving-average-price', 200],
      ['exponential-moving-average-price', 12],
      ['moving-average-return', 21],
      ['cumulative-return', 60],
      ['stdev-return', 6],
      ['stdev-price', 6],
      ['max-drawdown', 60],
    ];
    for (const [fn, window] of defaults) {
      expect(cond(`(< (${fn} "SPY") -2.5)`)).toEqual({ op: '<', left: { fn, ticker: 'SPY', window }, right: -2.5 });
    }
    expect(cond('(= (stdev-price "SPY" {}) 0)')).toEqual({
      op: '=',
      left: { fn: 'stdev-price', ticker: 'SPY' },
      right: 0,
    });
  });

  it('compiles options: rebalance frequency (and its alias), threshold, asset class', () => {
    for (const f of ['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'none'] as const) {
      expect(ir(`(defsymphony "s" {:rebalance-frequency :${f}} (asset "A"))`).rebalance).toBe(f);
      expect(ir(`(defsymphony "s" {:rebalance :${f}} (asset "A"))`).rebalance).toBe(f);
    }
    expect(ir('(defsymphony "s" {:rebalance-threshold 0.05} (asset "A"))').rebalance).toEqual({ threshold: 0.05 });
    const withClass = ir('(defsymphony "s" {:asset-class "EQUITIES"} (asset "A"))');
    expect(Object.keys(withClass)).toEqual(['version', 'kind', 'name', 'tickers', 'root']);
  });

  it("compiles Composer's corridor width to a threshold, with :none or alone", () => {
    const corridor = { threshold: 0.05 };
    expect(
      ir('(defsymphony "s" {:rebalance-frequency :none :rebalance-corridor-width 0.05} (asset "A"))').rebalance,
    ).toEqual(corridor);
    expect(ir('(defsymphony "s" {:rebalance-corridor-width 0.05 :rebalance :none} (asset "A"))').rebalance).toEqual(
      corridor,
    );
    expect(ir('(defsymphony "s" {:rebalance-corridor-width 0.05} (asset "A"))').rebalance).toEqual(corridor);
    expect(
      ir('(defsymphony "s" {:rebalance-frequency :none :rebalance-threshold 0.05} (asset "A"))').rebalance,
    ).toEqual(corridor);
    // Composer writes nil for no corridor.
    expect(
      ir('(defsymphony "s" {:rebalance-frequency :none :rebalance-corridor-width nil} (asset "A"))').rebalance,
    ).toBe('none');
    expect(ir('(defsymphony "s" {:rebalance-corridor-width w :params {w 0.1}} (asset "A"))').rebalance).toEqual({
      threshold: { param: 'w' },
    });
    expect(
      problems('(defsymphony "s" {:rebalance-frequency :daily :rebalance-corridor-width 0.05} (asset "A"))'),
    ).toEqual([
      {
        at: '1:47',
        message: '`:rebalance-corridor-width` and `:rebalance-frequency` exclude each other',
        hint: 'rebalance on a calendar or on drift, not both (a drift threshold goes with :rebalance-frequency :none)',
      },
    ]);
    expect(problems('(defsymphony "s" {:rebalance-corridor-width 0.05 :rebalance :monthly} (asset "A"))')).toEqual([
      {
        at: '1:50',
        message: '`:rebalance` and `:rebalance-corridor-width` exclude each other',
        hint: 'rebalance on a calendar or on drift, not both (a drift threshold goes with :rebalance-frequency :none)',
      },
    ]);
    expect(problems('(defsymphony "s" {:rebalance-threshold 0.1 :rebalance-corridor-width 0.05} (asset "A"))')).toEqual(
      [{ at: '1:44', message: '`:rebalance-corridor-width` repeats `:rebalance-threshold`', hint: 'keep one of them' }],
    );
    expect(problems('(defsymphony "s" {:rebalance-corridor-width 0} (asset "A"))')).toEqual([
      { at: '1:45', message: 'the corridor width must be above 0, got 0' },
    ]);
  });

  it("accepts and drops Composer's metadata options; other keys stay errors", () => {
    const meta = ir(
      '(defsymphony "s" {:id "abc123" :name "S" :description "A test" :asset-class "EQUITIES" :asset-classes ["EQUITIES" "CRYPTO"] :rebalance-frequency :quarterly} (asset "A"))',
    );
    expect(Object.keys(meta)).toEqual(['version', 'kind', 'name', 'rebalance', 'tickers', 'root']);
    expect(meta.name).toBe('s');
    expect(meta.rebalance).toBe('quarterly');
    expect(problems('(defsymphony "s" {:descripton "x" :colour "red"} (asset "A"))')).toEqual([
      { at: '1:19', message: 'unknown option `:descripton`', hint: 'did you mean `:description`?' },
      {
        at: '1:35',
        message: 'unknown option `:colour`',
        hint: 'the options are :asset-class :asset-classes :description :id :name :rebalance-frequency :rebalance :rebalance-threshold :rebalance-corridor-width :params',
      },
    ]);
  });

  it('drops the window Composer exports write on current-price', () => {
    const c = (text: string) => (root(`(if ${text} [(asset "A")])`) as Extract<SymphonyNode, { type: 'if' }>).cond.left;
    expect(c('(> (current-price "SPY" 10) 1)')).toEqual({ fn: 'current-price', ticker: 'SPY' });
    expect(c('(> (current-price "SPY" {:window 2}) 1)')).toEqual({ fn: 'current-price', ticker: 'SPY' });
    expect(c('(> (current-price "SPY" {}) 1)')).toEqual({ fn: 'current-price', ticker: 'SPY' });
    expect(nodeProblems('(if (> (current-price "SPY" {:window 0}) 1) [(asset "A")])')).toEqual([
      { at: '2:38', message: 'a window must be a positive integer, got 0' },
    ]);
    expect(nodeProblems('(if (> (current-price "SPY" 2 3) 1) [(asset "A")])')).toEqual([
      { at: '2:31', message: '`current-price` takes a ticker, got 3 arguments', hint: 'write (current-price "SPY")' },
    ]);
  });

  it('compiles 40 nested if blocks (deeper than 128 levels of IR)', () => {
    let node = '(asset "SPY")';
    for (let i = 0; i < 40; i++) node = `(weight-equal [(if (> (rsi "SPY" 10) 1) [${node}] [(asset "BIL")])])`;
    const deep = ir(`(defsymphony "deep" ${node})`);
    expect(deep.tickers).toEqual(['BIL', 'SPY']);
    expect(toDsl(deep)).toContain('(rsi "SPY" {:window 10})');
  });

  it('lets params stand wherever a number does', () => {
    const source = `(defsymphony "p"
  {:rebalance-threshold band
   :params {band 0.05 w {:default 20 :type :int :min 2 :max 250} n {:default 1 :type :int} a 60 b 40 level 70}}
  (weight-specified [a b]
    [(if (> (rsi "SPY" w) level)
       [(filter (cumulative-return {:window w}) (select-top n) [(asset "A") (asset "B")])])
     (weight-inverse-volatility w [(asset "C") (asset "D")])]))`;
    expect(ir(source)).toEqual({
      version: 1,
      kind: 'symphony',
      name: 'p',
      params: {
        band: { default: 0.05 },
        w: { default: 20, type: 'int', min: 2, max: 250 },
        n: { default: 1, type: 'int' },
        a: { default: 60 },
        b: { default: 40 },
        level: { default: 70 },
      },
      rebalance: { threshold: { param: 'band' } },
      tickers: ['A', 'B', 'C', 'D', 'SPY'],
      root: {
        type: 'weight-specified',
        weights: [{ param: 'a' }, { param: 'b' }],
        children: [
          {
            type: 'if',
            cond: { op: '>', left: { fn: 'rsi', ticker: 'SPY', window: { param: 'w' } }, right: { param: 'level' } },
            then: [
              {
                type: 'filter',
                fn: 'cumulative-return',
                window: { param: 'w' },
                select: 'top',
                count: { param: 'n' },
                children: [
                  { type: 'asset', ticker: 'A' },
                  { type: 'asset', ticker: 'B' },
                ],
              },
            ],
          },
          {
            type: 'weight-inverse-volatility',
            window: { param: 'w' },
            children: [
              { type: 'asset', ticker: 'C' },
              { type: 'asset', ticker: 'D' },
            ],
          },
        ],
      },
    });
    // A param may be compared with another param or a constant.
    const cmp = ir('(defsymphony "q" {:params {lo 1 hi 2}} (if (< lo hi) [(asset "A")]))').root as { cond: unknown };
    expect(cmp.cond).toEqual({ op: '<', left: { param: 'lo' }, right: { param: 'hi' } });
  });

  it('keeps comments out of the IR and accepts the tickers of the data', () => {
    const source = `; leading comment
(defsymphony "c" ; name
  (weight-equal [(asset "SPY") ; stocks
                 (asset "TLT")]))`;
    expect(ir(source, ['SPY', 'TLT', 'GLD']).tickers).toEqual(['SPY', 'TLT']);
  });
});

describe('defsymphony: errors', () => {
  it('reports every problem of a file at once, in source order', () => {
    const source = `(defsymphony "many"
  {:rebalance-frequncy :daily :params {w 10}}
  (weight-equl
    [(asset SPY)
     (if (>> (rsi "SPY" {:windw 10}) 70) [(asset "A")])
     (select-top 1)
     (filter (rsii) (select-top 0) [(asset "B")])
     (if (asset "C") [(> 1 2)] [(asset "D")])
     (weight-specified [1 -2] [(asset "E")])
     (weight-specified 0 (asset "F") 0 (asset "G"))
     (weight-inverse-volatility wx [(asset "H")])]))`;
    expect(problems(source, ['A', 'B', 'C', 'D', 'E', 'F', 'H', 'SPY'])).toEqual([
      { at: '2:4', message: 'unknown option `:rebalance-frequncy`', hint: 'did you mean `:rebalance-frequency`?' },
      { at: '3:4', message: 'unknown operator `weight-equl`', hint: 'did you mean `weight-equal`?' },
      { at: '4:13', message: 'a ticker is a string, got symbol SPY', hint: 'write "SPY"' },
      { at: '5:11', message: 'unknown comparison `>>`', hint: 'did you mean `>`?' },
      { at: '5:26', message: 'unknown key `:windw`', hint: 'did you mean `:window`?' },
      {
        at: '6:6',
        message: '`select-top` outside a filter',
        hint: 'write (filter (rsi {:window 10}) (select-top 1) [NODES])',
      },
      { at: '7:15', message: 'unknown indicator `rsii`', hint: 'did you mean `rsi`?' },
      { at: '7:33', message: 'the count must be a positive integer, got 0' },
      {
        at: '8:10',
        message: 'a node where a condition is expected',
        hint: 'a condition compares two values: (> (current-price "SPY") (moving-average-price "SPY" {:window 200}))',
      },
      {
        at: '8:23',
        message: 'a condition where a node is expected',
        hint: 'conditions go in (if CONDITION [THEN] [ELSE])',
      },
      { at: '9:24', message: '2 weights for 1 node', hint: 'give one weight per node' },
      { at: '9:27', message: 'a weight cannot be negative, got -2' },
      { at: '10:6', message: 'the weights sum to 0', hint: 'give at least one node a positive weight' },
      { at: '10:47', message: 'ticker `G` is not in the data', hint: 'did you mean `A`?' },
      { at: '11:33', message: 'unknown param `wx`', hint: 'did you mean `w`?' },
    ]);
  });

  it('points at the ticker missing from the data, with a near miss among the data tickers', () => {
    const source = '(defsymphony "t"\n  (if (> (rsi "SPYY" 10) 50) [(asset "TQQ")] [(asset "BIL")]))';
    expect(problems(source, ['SPY', 'TQQQ', 'BIL'])).toEqual([
      { at: '2:15', message: 'ticker `SPYY` is not in the data', hint: 'did you mean `SPY`?' },
      { at: '2:38', message: 'ticker `TQQ` is not in the data', hint: 'did you mean `TQQQ`?' },
    ]);
    expect(problems(source, ['QQQ'])[0]).toEqual({
      at: '2:15',
      message: 'ticker `SPYY` is not in the data',
      hint: 'the data has: QQQ',
    });
    expect(problems(source)).toEqual([]);
  });

  it('checks arity', () => {
    expect(nodeProblems('(asset)')).toEqual([
      {
        at: '2:1',
        message: '`asset` takes 1 or 2 arguments, got 0',
        hint: 'write (asset "SPY") or (asset "SPY" "Full name")',
      },
    ]);
    expect(nodeProblems('(asset "A" "name" "extra")')).toEqual([
      {
        at: '2:19',
        message: '`asset` takes 1 or 2 arguments, got 3',
        hint: 'write (asset "SPY") or (asset "SPY" "Full name")',
      },
    ]);
    expect(nodeProblems('(weight-equal (asset "A") (asset "B"))')).toEqual([
      {
        at: '2:27',
        message: '`weight-equal` takes 1 argument, got 2',
        hint: 'put the nodes in one vector: (weight-equal [NODES])',
      },
    ]);
    expect(nodeProblems('(filter (rsi) [(asset "A")])')).toEqual([
      {
        at: '2:1',
        message: '`filter` takes 3 arguments, got 2',
        hint: 'write (filter (rsi {:window 10}) (select-top 1) [NODES])',
      },
      {
        at: '2:15',
        message: 'a filter selects with (select-top N) or (select-bottom N), got vector',
        hint: 'write (select-top 1)',
      },
    ]);
    expect(nodeProblems('(if (> 1 0))')).toEqual([
      {
        at: '2:1',
        message: '`if` takes 2 or 3 arguments, got 1',
        hint: 'write (if CONDITION [THEN-NODES] [ELSE-NODES])',
      },
    ]);
    expect(nodeProblems('(if (> 1) [(asset "A")])')).toEqual([
      { at: '2:5', message: '`>` compares 2 values, got 1', hint: 'write (> A B)' },
    ]);
    expect(nodeProblems('(filter (rsi) (select-top) [(asset "A")])')).toEqual([
      { at: '2:15', message: '`select-top` takes 1 argument, got 0', hint: 'write (select-top 1)' },
    ]);
    expect(nodeProblems('(weight-specified [1 2] [(asset "A") (asset "B")] (asset "C"))')).toEqual([
      {
        at: '2:51',
        message: '`weight-specified` with a vector of weights takes 2 arguments, got 3',
        hint: 'write (weight-specified [W1 W2 ...] [NODE1 NODE2 ...])',
      },
    ]);
    expect(nodeProblems('(weight-specified 1 (asset "A") 2)')).toEqual([
      {
        at: '2:33',
        message: 'this weight has no node after it',
        hint: 'write weight/node pairs: (weight-specified 60 NODE1 40 NODE2)',
      },
    ]);
  });

  it('checks argument types', () => {
    expect(nodeProblems('(asset 42)')).toEqual([
      { at: '2:8', message: 'expected a ticker string such as "SPY", got number 42' },
    ]);
    expect(nodeProblems('(asset "")')).toEqual([{ at: '2:8', message: 'a ticker cannot be empty' }]);
    expect(nodeProblems('(asset "A" :name)')).toEqual([
      { at: '2:12', message: "an asset's name is a string or nil, got keyword :name" },
    ]);
    expect(nodeProblems('(weight-equal "SPY")')).toEqual([
      {
        at: '2:15',
        message: 'expected a vector of nodes for `weight-equal`, got string "SPY"',
        hint: 'write [(asset "SPY")]',
      },
    ]);
    expect(nodeProblems('(weight-equal [])')).toEqual([
      {
        at: '2:15',
        message: '`weight-equal` has no nodes',
        hint: 'put at least one node inside, e.g. [(asset "BIL")]',
      },
    ]);
    expect(nodeProblems('(group Bonds [(asset "A")])')).toEqual([
      { at: '2:8', message: "a group's name is a string, got symbol Bonds", hint: 'write "Bonds"' },
    ]);
    expect(nodeProblems('(weight-inverse-volatility "20" [(asset "A")])')).toEqual([
      { at: '2:28', message: 'expected a window: N or {:window N}, got string "20"' },
    ]);
    expect(nodeProblems('(weight-specified ["60"] [(asset "A")])')).toEqual([
      { at: '2:20', message: 'a weight must be a number or a param, got string "60"' },
    ]);
    expect(nodeProblems('(if (> "SPY" 3) [(asset "A")])')).toEqual([
      { at: '2:8', message: 'a string where a value is expected', hint: 'write (current-price "SPY")' },
    ]);
    expect(nodeProblems('(if (> :x 3) [(asset "A")])')).toEqual([
      {
        at: '2:8',
        message: 'expected a number, a param or an indicator such as (rsi "SPY" {:window 14}), got keyword :x',
      },
    ]);
    expect(nodeProblems('(if (> rsi 3) [(asset "A")])')).toEqual([
      { at: '2:8', message: 'indicator `rsi` needs a ticker', hint: 'write (rsi "SPY" {:window 14})' },
    ]);
    expect(nodeProblems('(if (> (rsi {:window 3}) 3) [(asset "A")])')).toEqual([
      { at: '2:8', message: '`rsi` in a condition needs a ticker', hint: 'write (rsi "SPY" {:window 14})' },
    ]);
    expect(nodeProblems('(if (> (rsi SPY) 3) [(asset "A")])')).toEqual([
      { at: '2:13', message: 'a ticker is a string, got symbol SPY', hint: 'write "SPY"' },
    ]);
  });

  it('tells nodes, conditions and values apart', () => {
    expect(nodeProblems('(if (asset "A") [(asset "B")])')).toMatchObject([
      { at: '2:5', message: 'a node where a condition is expected' },
    ]);
    expect(nodeProblems('(if (rsi "A") [(asset "B")])')).toEqual([
      {
        at: '2:5',
        message: 'indicator `rsi` where a condition is expected',
        hint: 'compare it: (> (rsi "SPY" {:window 14}) 50)',
      },
    ]);
    expect(nodeProblems('(if 1 [(asset "B")])')).toMatchObject([
      { at: '2:5', message: 'expected a condition such as (> A B), got number 1' },
    ]);
    expect(nodeProblems('(weight-equal [(> 1 2)])')).toMatchObject([
      { at: '2:16', message: 'a condition where a node is expected' },
    ]);
    expect(nodeProblems('(weight-equal [(rsi "A")])')).toEqual([
      {
        at: '2:16',
        message: 'indicator `rsi` where a node is expected',
        hint: 'indicators go in a condition or a filter score',
      },
    ]);
    expect(nodeProblems('(weight-equal [[(asset "A")]])')).toMatchObject([
      { at: '2:16', message: 'a vector where a node is expected' },
    ]);
    expect(nodeProblems('(weight-equal ["SPY"])')).toEqual([
      { at: '2:16', message: 'a string where a node is expected', hint: 'write (asset "SPY")' },
    ]);
    expect(nodeProblems('(if (> (> 1 2) 0) [(asset "A")])')).toMatchObject([
      { at: '2:8', message: 'a condition where a value is expected' },
    ]);
    expect(nodeProblems('(if (> (asset "A") 0) [(asset "A")])')).toMatchObject([
      { at: '2:8', message: 'a node where a value is expected' },
    ]);
    expect(nodeProblems('(if (and (> 1 2) (> 3 4)) [(asset "A")])')).toEqual([
      {
        at: '2:6',
        message: 'unknown comparison `and`',
        hint: 'combine conditions by nesting: (if A [(if B [...] [...])] [...])',
      },
    ]);
    expect(nodeProblems('(if (== (rsi "A" 10) 50) [(asset "A")])')).toEqual([
      { at: '2:6', message: 'unknown comparison `==`', hint: 'did you mean `=`?' },
    ]);
    const noNotEqual =
      'there is no not-equal in symphonies: write (if (= A B) [ELSE-NODES] [THEN-NODES]), swapping the branches';
    for (const op of ['!=', 'not=', '<>']) {
      expect(nodeProblems(`(if (${op} (rsi "A" 10) 50) [(asset "A")])`)).toEqual([
        { at: '2:6', message: `unknown comparison \`${op}\``, hint: noNotEqual },
      ]);
    }
    // The values under an alias are still checked.
    expect(nodeProblems('(if (== (rsi "A" 0) 50) [(asset "A")])')).toEqual([
      { at: '2:6', message: 'unknown comparison `==`', hint: 'did you mean `=`?' },
      { at: '2:18', message: 'a window must be a positive integer, got 0' },
    ]);
    expect(nodeProblems('(select-bottom 2)')).toMatchObject([
      { at: '2:1', message: '`select-bottom` outside a filter' },
    ]);
    expect(nodeProblems('(frobnicate [(asset "A")])')).toEqual([
      {
        at: '2:2',
        message: 'unknown operator `frobnicate`',
        hint: 'the nodes are asset, weight-equal, weight-specified, weight-inverse-volatility, filter, group, if',
      },
    ]);
  });

  it('checks filter scores and selections', () => {
    expect(nodeProblems('(filter (rsi "SPY" 10) (select-top 1) [(asset "A")])')).toEqual([
      {
        at: '2:14',
        message: 'a filter score takes no ticker: it is computed on each child',
        hint: 'write (rsi {:window N})',
      },
    ]);
    // A window on current-price (as Composer exports write one) is checked and dropped.
    expect(nodeProblems('(filter (current-price 5) (select-top 1) [(asset "A")])')).toEqual([]);
    expect(nodeProblems('(filter (current-price 0) (select-top 1) [(asset "A")])')).toEqual([
      { at: '2:24', message: 'a window must be a positive integer, got 0' },
    ]);
    expect(nodeProblems('(filter rsi (select-top 1) [(asset "A")])')).toEqual([
      { at: '2:9', message: 'a filter score is an indicator call', hint: 'write (rsi {:window N})' },
    ]);
    expect(nodeProblems('(filter (rsi) (select-topp 1) [(asset "A")])')).toEqual([
      {
        at: '2:15',
        message: 'a filter selects with (select-top N) or (select-bottom N), got list',
        hint: 'did you mean `select-top`?',
      },
    ]);
    expect(nodeProblems('(filter (rsi) (select-top n) [(asset "A")])')).toEqual([
      { at: '2:27', message: 'unknown param `n`', hint: 'declare it in the options: {:params {n 10}}' },
    ]);
  });

  it('checks windows, counts, weights and thresholds written as numbers', () => {
    expect(nodeProblems('(if (> (rsi "A" 0) 1) [(asset "A")])')).toEqual([
      { at: '2:17', message: 'a window must be a positive integer, got 0' },
    ]);
    expect(nodeProblems('(if (> (rsi "A" {:window 2.5}) 1) [(asset "A")])')).toEqual([
      { at: '2:26', message: 'a window must be a positive integer, got 2.5' },
    ]);
    expect(nodeProblems('(weight-inverse-volatility -3 [(asset "A")])')).toEqual([
      { at: '2:28', message: 'a window must be a positive integer, got -3' },
    ]);
    expect(nodeProblems('(filter (rsi) (select-bottom 1.5) [(asset "A")])')).toEqual([
      { at: '2:30', message: 'the count must be a positive integer, got 1.5' },
    ]);
    expect(nodeProblems('(weight-specified [0 0] [(asset "A") (asset "B")])')).toEqual([
      { at: '2:19', message: 'the weights sum to 0', hint: 'give at least one node a positive weight' },
    ]);
    expect(nodeProblems('(weight-specified [1 2 3] [(asset "A") (asset "B")])')).toEqual([
      { at: '2:19', message: '3 weights for 2 nodes', hint: 'give one weight per node' },
    ]);
    expect(nodeProblems('(weight-inverse-volatility {:window 3 :windw 4} [(asset "A")])')).toEqual([
      { at: '2:39', message: 'unknown key `:windw`', hint: 'did you mean `:window`?' },
    ]);
    expect(nodeProblems('(weight-inverse-volatility {} [(asset "A")])')).toEqual([
      { at: '2:28', message: 'missing `:window`', hint: 'write {:window 10}' },
    ]);
    expect(problems('(defsymphony "s" {:rebalance-threshold 0} (asset "A"))')).toEqual([
      { at: '1:40', message: 'the rebalance threshold must be above 0, got 0' },
    ]);
  });

  it('checks the options map', () => {
    expect(problems('(defsymphony "s" {:rebalance-frequency :weekly :rebalance-threshold 0.1} (asset "A"))')).toEqual([
      {
        at: '1:48',
        message: '`:rebalance-threshold` and `:rebalance-frequency` exclude each other',
        hint: 'rebalance on a calendar or on drift, not both (a drift threshold goes with :rebalance-frequency :none)',
      },
    ]);
    expect(problems('(defsymphony "s" {:rebalance-frequency :quartely} (asset "A"))')).toEqual([
      { at: '1:40', message: 'unknown rebalance frequency `:quartely`', hint: 'did you mean `:quarterly`?' },
    ]);
    expect(problems('(defsymphony "s" {:rebalance-frequency :hourly} (asset "A"))')).toEqual([
      {
        at: '1:40',
        message: 'unknown rebalance frequency `:hourly`',
        hint: 'expected :daily, :weekly, :monthly, :quarterly, :yearly or :none',
      },
    ]);
    expect(problems('(defsymphony "s" {:rebalance-frequency :dayly} (asset "A"))')).toEqual([
      { at: '1:40', message: 'unknown rebalance frequency `:dayly`', hint: 'did you mean `:daily`?' },
    ]);
    expect(problems('(defsymphony "s" {:rebalance "daily"} (asset "A"))')).toEqual([
      { at: '1:30', message: 'a rebalance frequency is a keyword', hint: 'write :daily' },
    ]);
    expect(problems('(defsymphony "s" {:rebalance 0.05} (asset "A"))')).toEqual([
      {
        at: '1:30',
        message: '`:rebalance` takes :daily, :weekly, :monthly, :quarterly, :yearly or :none, got number 0.05',
        hint: 'a drift threshold is written :rebalance-threshold 0.05',
      },
    ]);
    expect(problems('(defsymphony "s" {:rebalance :daily :rebalance-frequency :daily} (asset "A"))')).toEqual([
      { at: '1:37', message: '`:rebalance-frequency` repeats `:rebalance`', hint: 'keep one of them' },
    ]);
    expect(problems('(defsymphony "s" {:asset-class "X" :asset-class "Y"} (asset "A"))')).toEqual([
      { at: '1:36', message: 'option `:asset-class` is given twice' },
    ]);
    expect(problems('(defsymphony "s" {:assetclass "X" rebalance :daily} (asset "A"))')).toEqual([
      { at: '1:19', message: 'unknown option `:assetclass`', hint: 'did you mean `:asset-class`?' },
      { at: '1:35', message: "an option's key is a keyword, got symbol rebalance", hint: 'write :rebalance' },
    ]);
  });

  it('checks params', () => {
    // A param with a wrong spec counts as declared: its uses are not reported as well.
    expect(
      problems('(defsymphony "s" {:params {w {:default 2.5 :type :int}}} (if (> (rsi "A" w) 1) [(asset "A")]))'),
    ).toEqual([{ at: '1:40', message: 'param `w` is an :int but its default 2.5 is not an integer' }]);
    expect(problems('(defsymphony "s" {:params {w {:default 5 :min 10 :max 2}}} (asset "A"))')).toEqual([
      { at: '1:40', message: 'param `w`: default 5 is below min 10' },
      { at: '1:40', message: 'param `w`: default 5 is above max 2' },
      { at: '1:47', message: 'param `w`: min 10 is above max 2' },
    ]);
    expect(problems('(defsymphony "s" {:params {w {:defualt 5 :type "int"}}} (asset "A"))')).toEqual([
      { at: '1:30', message: 'param `w` has no `:default`', hint: 'write {:default 20 ...}' },
      { at: '1:31', message: 'unknown param field `:defualt`', hint: 'did you mean `:default`?' },
      { at: '1:48', message: '`:type` of param `w` is :int or :float, got string "int"', hint: 'write :int' },
    ]);
    expect(problems('(defsymphony "s" {:params {:w 5 w 1 w 2}} (asset "A"))')).toEqual([
      { at: '1:28', message: "a param's name is a symbol, got keyword :w", hint: 'write w' },
      { at: '1:37', message: 'param `w` is declared twice' },
    ]);
    expect(
      problems('(defsymphony "s" {:params {window 20 level 3}} (if (> (rsi "A" windw) levl) [(asset "A")]))'),
    ).toEqual([
      { at: '1:64', message: 'unknown param `windw`', hint: 'did you mean `window`?' },
      { at: '1:71', message: 'unknown param `levl`', hint: 'did you mean `level`?' },
    ]);
  });

  it('validates the compiled IR with the params at their defaults, at the form that holds the param', () => {
    // A non-integer param default used as a window passes the DSL checks (params are not
    // literals) and is caught by resolveSymphony at the window's form.
    expect(problems('(defsymphony "s" {:params {w 2.5}}\n  (if (> (rsi "A" w) 50) [(asset "A")]))')).toEqual([
      {
        at: '2:19',
        message: "window must be an integer >= 1, got 2.5 (from param 'w') (at symphony.root.cond.left.window)",
      },
    ]);
    expect(
      problems('(defsymphony "s" {:params {a 0 b 0}} (weight-specified [a b] [(asset "A") (asset "B")]))'),
    ).toEqual([{ at: '1:56', message: 'the weights must have a positive sum (at symphony.root.weights)' }]);
  });

  it('checks the definition itself', () => {
    expect(problems('(defsymphony)')).toEqual([
      {
        at: '1:1',
        message: '`defsymphony` needs a name and a root node',
        hint: 'write (defsymphony "Name" {OPTIONS} NODE)',
      },
    ]);
    expect(problems('(defsymphony "s" {})')).toEqual([
      {
        at: '1:1',
        message: 'missing the root node',
        hint: 'write (defsymphony "Name" {OPTIONS} (weight-equal [NODES]))',
      },
    ]);
    expect(problems('(defsymphony "s" (asset "A") (asset "B"))')).toEqual([
      {
        at: '1:30',
        message: 'a symphony has one root node; this is a second one',
        hint: 'wrap the nodes in (weight-equal [NODES])',
      },
    ]);
    expect(problems('(defsymphony {:rebalance :daily} (asset "A"))')).toEqual([
      { at: '1:14', message: "missing the symphony's name before this form", hint: 'write (defsymphony "Name" ...)' },
    ]);
    expect(problems('(defsymphony 42 (asset "A"))')).toEqual([
      { at: '1:14', message: "the symphony's name must be a string, got number 42" },
    ]);
  });

  it('formats a diagnostic with its excerpt and hint', () => {
    try {
      compile('(defsymphony "s"\n  (weight-equl [(asset "A")]))', { file: 'f.clj' });
      expect.unreachable();
    } catch (e) {
      expect((e as { format(): string }).format()).toBe(
        [
          'f.clj:2:4: error: unknown operator `weight-equl`',
          '  |',
          '2 |   (weight-equl [(asset "A")]))',
          '  |    ^^^^^^^^^^^',
          '  = did you mean `weight-equal`?',
        ].join('\n'),
      );
    }
  });
});

describe('defsymphony: damaged files', () => {
  const DIR = new URL('./fixtures/symphonies/', import.meta.url);
  const sources = readdirSync(DIR)
    .filter((f) => f.endsWith('.clj'))
    .map((f) => readFileSync(new URL(f, DIR), 'utf8'));
  const PIECES = [
    '(',
    ')',
    '[',
    ']',
    '{',
    '}',
    'nil',
    '0',
    '-1',
    '2.5',
    '"X"',
    '""',
    ':window',
    ':params',
    'w',
    'asset',
    'if',
    'filter',
    'group',
    'weight-specified',
    '(select-top 1)',
    '(rsi)',
    '(current-price)',
    '(> 1 2)',
    '{}',
    '[]',
    '()',
    '{w 3}',
    '{:default 1.5 :type :int}',
    'true',
    ':daily',
    ':rebalance-threshold',
  ];

  it('never throws anything but diagnostics, and whatever compiles is a valid IR', () => {
    const edit = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('delete', 'replace', 'insert'),
      piece: fc.constantFrom(...PIECES),
    });
    fc.assert(
      fc.property(fc.nat({ max: sources.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 4 }), (i, edits) => {
        const parts = (sources[i] as string).split(/(\s+)/);
        for (const e of edits) {
          const j = e.at % parts.length;
          if (e.kind === 'delete') parts[j] = '';
          else if (e.kind === 'replace') parts[j] = e.piece;
          else parts.splice(j, 0, ` ${e.piece} `);
        }
        const text = parts.join('');
        const found = check(text, { file: 'f.clj' });
        for (const d of found) {
          expect(d.line).toBeGreaterThanOrEqual(1);
          expect(d.column).toBeGreaterThanOrEqual(1);
          expect(d.message).not.toBe('');
        }
        if (found.length === 0) {
          const r = compile(text, { file: 'f.clj' });
          if (r.kind === 'symphony') expect(() => resolveSymphony(r.ir)).not.toThrow();
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('defsymphony: printing', () => {
  it('prints an IR as DSL text that compiles back to it', () => {
    const value: SymphonyIR = {
      version: 1,
      kind: 'symphony',
      name: 'all "the" forms\n',
      params: { w: { default: 3, type: 'int', min: 1, max: 9 }, k: { default: 1 }, t: { default: 0.1, type: 'float' } },
      rebalance: { threshold: { param: 't' } },
      tickers: ['A', 'B', 'C'],
      root: {
        type: 'weight-specified',
        weights: [{ param: 'k' }, 2.5, -0],
        children: [
          {
            type: 'if',
            cond: { op: '<=', left: { fn: 'rsi', ticker: 'A' }, right: -0 },
            then: [{ type: 'asset', ticker: 'A', name: null }],
            else: null,
          },
          {
            type: 'filter',
            fn: 'current-price',
            select: 'bottom',
            count: { param: 'k' },
            children: [
              { type: 'group', name: '', children: [{ type: 'asset', ticker: 'B', name: 'b' }] },
              { type: 'weight-inverse-volatility', window: { param: 'w' }, children: [{ type: 'asset', ticker: 'C' }] },
            ],
          },
          { type: 'weight-equal', children: [{ type: 'asset', ticker: 'A' }] },
        ],
      },
    };
    const text = toDsl(value);
    expect(text).toBe(`(defsymphony "all \\"the\\" forms\\n"
  {:rebalance-threshold t
   :params {w {:default 3 :type :int :min 1 :max 9}
            k 1
            t {:default 0.1 :type :float}}}
  (weight-specified [k 2.5 -0]
    [(if (<= (rsi "A" {}) -0) [(asset "A" nil)] nil)
     (filter (current-price)
       (select-bottom k)
       [(group "" [(asset "B" "b")])
        (weight-inverse-volatility {:window w} [(asset "C")])])
     (weight-equal [(asset "A")])]))
`);
    expect(ir(text)).toEqual(value);
    expect(format(text)).toBe(text);
  });

  it('refuses a param name the reader cannot read back as a symbol', () => {
    const bad: SymphonyIR = {
      version: 1,
      kind: 'symphony',
      name: 'x',
      params: { '2x': { default: 1 } },
      tickers: ['A'],
      root: { type: 'weight-specified', weights: [{ param: '2x' }], children: [{ type: 'asset', ticker: 'A' }] },
    };
    expect(() => symphonyToForm(bad)).toThrow(/param name "2x"/);
  });

  it('round-trips generated IRs: IR -> DSL -> IR is the identity', () => {
    const PARAMS = ['w', 'n', 'level', 'ma-window', 'k*'];
    const INDICATORS = [
      'rsi',
      'moving-average-price',
      'exponential-moving-average-price',
      'moving-average-return',
      'cumulative-return',
      'stdev-return',
      'stdev-price',
      'max-drawdown',
    ] as const;
    const ticker = fc.oneof(fc.constantFrom('SPY', 'QQQ', 'TLT', 'BIL'), fc.string({ minLength: 1, maxLength: 6 }));
    const param = fc.constantFrom(...PARAMS).map((p): NumberOrParam => ({ param: p }));
    const window = fc.oneof(fc.integer({ min: 1, max: 300 }), param);
    const count = fc.oneof(fc.integer({ min: 1, max: 5 }), param);
    const constant = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), param);
    const value: fc.Arbitrary<SymphonyValue> = fc.oneof(
      constant,
      fc.record({ fn: fc.constant('current-price' as const), ticker }),
      fc.record({ fn: fc.constantFrom(...INDICATORS), ticker, window }, { requiredKeys: ['fn', 'ticker'] }),
    );
    const { node } = fc.letrec<{ node: SymphonyNode; list: SymphonyNode[] }>((tie) => {
      const list = fc.array(tie('node'), { minLength: 1, maxLength: 3 }) as fc.Arbitrary<SymphonyNode[]>;
      return {
        list,
        node: fc.oneof(
          { depthSize: 'small', withCrossShrink: true },
          fc.record(
            { type: fc.constant('asset' as const), ticker, name: fc.option(fc.string(), { nil: null }) },
            {
              requiredKeys: ['type', 'ticker'],
            },
          ),
          fc.record({ type: fc.constant('weight-equal' as const), children: list }),
          list.chain((children) =>
            fc
              .array(fc.oneof(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0.01, max: 1, noNaN: true }), param), {
                minLength: children.length,
                maxLength: children.length,
              })
              .map((weights): SymphonyNode => ({ type: 'weight-specified', weights, children })),
          ),
          fc.record({ type: fc.constant('weight-inverse-volatility' as const), window, children: list }),
          fc.oneof(
            fc.record(
              {
                type: fc.constant('filter' as const),
                fn: fc.constantFrom(...INDICATORS),
                window,
                select: fc.constantFrom('top' as const, 'bottom' as const),
                count,
                children: list,
              },
              { requiredKeys: ['type', 'fn', 'select', 'count', 'children'] },
            ),
            fc.record({
              type: fc.constant('filter' as const),
              fn: fc.constant('current-price' as const),
              select: fc.constantFrom('top' as const, 'bottom' as const),
              count,
              children: list,
            }),
          ),
          fc.record({ type: fc.constant('group' as const), name: fc.string(), children: list }),
          fc.record(
            {
              type: fc.constant('if' as const),
              cond: fc.record({
                op: fc.constantFrom('>' as const, '<' as const, '>=' as const, '<=' as const, '=' as const),
                left: value,
                right: value,
              }),
              then: list,
              else: fc.option(list, { nil: null }),
            },
            { requiredKeys: ['type', 'cond', 'then'] },
          ),
        ) as fc.Arbitrary<SymphonyNode>,
      };
    });
    const spec: fc.Arbitrary<ParamSpec> = fc.record(
      {
        default: fc.constant(5),
        type: fc.constantFrom('int' as const, 'float' as const),
        min: fc.constant(1),
        max: fc.constant(10),
      },
      { requiredKeys: ['default'] },
    );
    const rebalance = fc.option(
      fc.oneof(
        fc.constantFrom('daily' as const, 'weekly' as const, 'monthly' as const),
        fc.record({ threshold: fc.oneof(fc.double({ min: 0.001, max: 1, noNaN: true }), param) }),
      ),
      { nil: undefined },
    );
    const names = (n: SymphonyNode, out: Set<string>): void => {
      const visitValue = (v: SymphonyValue) => {
        if (typeof v === 'object' && 'ticker' in v) out.add(v.ticker);
      };
      if (n.type === 'asset') out.add(n.ticker);
      if (n.type === 'if') {
        visitValue(n.cond.left);
        visitValue(n.cond.right);
        for (const c of [...n.then, ...(n.else ?? [])]) names(c, out);
      } else if ('children' in n) for (const c of n.children) names(c, out);
    };
    const irs = fc
      .record({
        name: fc.string(),
        specs: fc.tuple(spec, spec, spec, spec, spec),
        rebalance,
        root: node,
      })
      .map(({ name, specs, rebalance, root }): SymphonyIR => {
        const params: Record<string, ParamSpec> = {};
        PARAMS.forEach((p, i) => {
          params[p] = specs[i] as ParamSpec;
        });
        const set = new Set<string>();
        names(root, set);
        return {
          version: 1,
          kind: 'symphony',
          name,
          params,
          ...(rebalance !== undefined ? { rebalance } : {}),
          tickers: [...set].sort(),
          root,
        };
      })
      .filter((v) => {
        try {
          resolveSymphony(v);
          return true;
        } catch {
          return false;
        }
      });
    fc.assert(
      fc.property(irs, (v) => {
        const text = toDsl(v);
        expect(ir(text)).toEqual(v);
        expect(format(text)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
