; The reference strategy (src/strategies/reference.ts) in the strategy DSL
; (docs/dsl-strategy.md): RSI on M5 and a 2% envelope on M30, one position at a time.
(defstrategy rsi-envelope
  {:symbol "EURUSD" :timeframe :M5 :on :bar}
  (param rsiPeriod 14 {:type :int :min 2})
  (param slPips 20)
  (param tpPips 40)
  (param lots 1)
  (worker rsi (rsi :M5 {:period rsiPeriod}))
  (worker env (envelope :M30 {:period 20 :percent 2.0}))
  ; long: flat, RSI oversold and the close under the lower band
  (when (and (= (position :side) 0) (< rsi 30) (< (bar :close) (env :lower)))
    (buy :lots lots :sl (pips slPips) :tp (pips tpPips)))
  ; short: the mirror image
  (when (and (= (position :side) 0) (> rsi 70) (> (bar :close) (env :upper)))
    (sell :lots lots :sl (pips slPips) :tp (pips tpPips))))
