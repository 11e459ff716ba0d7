/**
 * Fifty symphony files for the symphony benchmark: seven shapes of real Composer symphonies
 * (trend following, nested RSI guards, sector momentum, filters over groups, inverse-volatility
 * risk parity, drawdown guards, dual momentum), each varied in windows, thresholds and tickers.
 */

export const BENCH_TICKERS = [
  'BIL',
  'EEM',
  'EFA',
  'GLD',
  'IEF',
  'QQQ',
  'SOXL',
  'SPY',
  'SQQQ',
  'TLT',
  'TMF',
  'TQQQ',
  'UVXY',
  'VNQ',
  'XLE',
  'XLF',
  'XLK',
  'XLP',
  'XLU',
  'XLV',
] as const;

const SECTORS = ['XLE', 'XLF', 'XLK', 'XLP', 'XLU', 'XLV', 'VNQ', 'EEM', 'EFA'];
const RISK_ON = ['SPY', 'QQQ', 'TQQQ', 'SOXL', 'XLK'];

function pick<T>(list: readonly T[], i: number): T {
  return list[i % list.length] as T;
}

function assets(tickers: string[]): string {
  return tickers.map((t) => `(asset "${t}")`).join(' ');
}

const SHAPES: Array<(i: number) => string> = [
  (i) => `(defsymphony "trend ${i}" {:rebalance-frequency :daily}
  (weight-equal
    [(if (> (current-price "${pick(RISK_ON, i)}") (moving-average-price "${pick(RISK_ON, i)}" {:window ${100 + 20 * (i % 6)}}))
       [(weight-equal [${assets([pick(RISK_ON, i + 1), pick(RISK_ON, i + 2)])}])]
       [(if (> (rsi "TLT" {:window ${10 + (i % 5)}}) 50) [(asset "TLT")] [(asset "BIL")])])]))`,
  (i) => `(defsymphony "rsi guard ${i}" {:rebalance-frequency :daily}
  (if (> (rsi "TQQQ" {:window 10}) ${76 + (i % 6)})
    [(asset "UVXY")]
    [(if (> (current-price "SPY") (moving-average-price "SPY" {:window 200}))
       [(if (< (rsi "TQQQ" {:window 10}) ${28 + (i % 5)})
          [(asset "TQQQ")]
          [(weight-specified 60 (asset "TQQQ") 40 (asset "TMF"))])]
       [(filter (rsi {:window ${8 + (i % 7)}}) (select-bottom 1) [${assets(['TQQQ', 'SOXL', 'SQQQ', 'TLT'])}])])]))`,
  (i) => `(defsymphony "sector momentum ${i}" {:rebalance-frequency :weekly}
  (filter (cumulative-return {:window ${20 + 10 * (i % 6)}}) (select-top ${2 + (i % 3)})
    [${assets(SECTORS)}]))`,
  (i) => `(defsymphony "group rotation ${i}" {:rebalance-frequency :daily}
  (filter (stdev-return {:window ${10 + (i % 10)}}) (select-bottom 1)
    [(group "Growth" [(weight-equal [${assets(['QQQ', 'XLK'])}])])
     (group "Defensive" [(weight-equal [${assets(['XLP', 'XLU', 'XLV'])}])])
     (group "Bonds" [(weight-inverse-volatility ${15 + (i % 10)} [${assets(['TLT', 'IEF'])}])])
     (group "Trend" [(if (> (exponential-moving-average-price "SPY" {:window 20}) (moving-average-price "SPY" {:window 50}))
                        [(asset "SPY")] [(asset "BIL")])])]))`,
  (i) => `(defsymphony "risk parity ${i}" {:rebalance-threshold 0.0${2 + (i % 5)}}
  (weight-inverse-volatility ${20 + (i % 40)} [${assets(['SPY', 'TLT', 'GLD', 'IEF', pick(SECTORS, i)])}]))`,
  (i) => `(defsymphony "drawdown guard ${i}" {:rebalance-frequency :monthly}
  (if (> (max-drawdown "SPY" {:window ${30 + (i % 4) * 10}}) ${8 + (i % 5)})
    [(weight-equal [${assets(['BIL', 'IEF'])}])]
    [(if (< (stdev-price "QQQ" {:window 21}) (stdev-price "QQQ" {:window 63}))
       [(weight-specified 0.7 (asset "QQQ") 0.3 (asset "GLD"))]
       [(weight-equal [${assets(['SPY', 'GLD', 'TLT'])}])])]))`,
  (i) => `(defsymphony "dual momentum ${i}" {:rebalance-frequency :monthly}
  (if (> (moving-average-return "SPY" {:window ${63 + (i % 4) * 21}}) (moving-average-return "BIL" {:window ${63 + (i % 4) * 21}}))
    [(filter (cumulative-return {:window ${126 + (i % 3) * 21}}) (select-top 1) [${assets(['SPY', 'EFA', 'EEM'])}])]
    [(filter (moving-average-return {:window 21}) (select-top 1) [${assets(['TLT', 'IEF', 'BIL'])}])]))`,
];

/** `count` files (default 50), the shapes in turn. */
export function benchSymphonyFiles(count = 50): Array<{ path: string; source: string }> {
  return Array.from({ length: count }, (_, i) => ({
    path: `bench/${String(i).padStart(2, '0')}.clj`,
    source: `${(SHAPES[i % SHAPES.length] as (i: number) => string)(Math.floor(i / SHAPES.length))}\n`,
  }));
}
