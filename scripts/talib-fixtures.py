#!/usr/bin/env python3
"""Writes __test__/fixtures/talib.json: TA-Lib reference values for every indicator kind.

Requires:  pip install ta-lib numpy
Run from anywhere:  python3 scripts/talib-fixtures.py

The input is a deterministic random walk of 300 OHLC bars around 1.1 (numpy seeded), so the
file is reproducible. Both engines check their indicators against it; NaN (not ready) is written
as null.
"""

import json
import math
from pathlib import Path

import numpy as np
import talib

BARS = 300
SEED = 20240607
START_TIME_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
STEP_MS = 300_000  # M5

OUT = Path(__file__).resolve().parent.parent / "__test__" / "fixtures" / "talib.json"


def make_input():
    rng = np.random.default_rng(SEED)
    # Steps of about 5 pips per bar keep Bollinger variances well above rounding noise.
    steps = rng.normal(0.0, 0.0005, BARS)
    # A gentle pull towards 1.1 keeps the walk "around" it for any seed.
    close = np.empty(BARS)
    open_ = np.empty(BARS)
    level = 1.1
    for i in range(BARS):
        open_[i] = level
        level = level + steps[i] - 0.02 * (level - 1.1)
        close[i] = level
    wick_up = np.abs(rng.normal(0.0, 0.0003, BARS))
    wick_down = np.abs(rng.normal(0.0, 0.0003, BARS))
    high = np.maximum(open_, close) + wick_up
    low = np.minimum(open_, close) - wick_down
    # Round to 5 digits like a real EURUSD feed; rounding keeps the ordering since the wicks are
    # added after max/min and rounding is monotone.
    open_, high, low, close = (np.round(a, 5) for a in (open_, high, low, close))
    time = START_TIME_MS + STEP_MS * np.arange(BARS, dtype=np.int64)
    assert np.all(high >= np.maximum(open_, close))
    assert np.all(low <= np.minimum(open_, close))
    assert np.all(low > 0)
    return time, open_, high, low, close


def series(values):
    return [None if math.isnan(v) else float(v) for v in values]


def cases(high, low, close):
    out = []
    for period in (1, 10, 30):
        out.append(("sma", {"period": period}, {"value": talib.SMA(close, timeperiod=period)}))
    for period in (10, 30):
        out.append(("ema", {"period": period}, {"value": talib.EMA(close, timeperiod=period)}))
    for period in (2, 14):
        out.append(("rsi", {"period": period}, {"value": talib.RSI(close, timeperiod=period)}))
    out.append(("atr", {"period": 14}, {"value": talib.ATR(high, low, close, timeperiod=14)}))

    upper, middle, lower = talib.BBANDS(close, timeperiod=20, nbdevup=2.0, nbdevdn=2.0, matype=0)
    out.append(
        (
            "bollinger",
            {"period": 20, "deviations": 2.0},
            {"upper": upper, "middle": middle, "lower": lower},
        )
    )

    percent = 2.0
    middle = talib.SMA(close, timeperiod=20)
    out.append(
        (
            "envelope",
            {"period": 20, "percent": percent},
            {
                "upper": middle * (1.0 + percent / 100.0),
                "middle": middle,
                "lower": middle * (1.0 - percent / 100.0),
            },
        )
    )

    macd, signal, hist = talib.MACD(close, fastperiod=12, slowperiod=26, signalperiod=9)
    out.append(
        (
            "macd",
            {"fast": 12, "slow": 26, "signal": 9},
            {"macd": macd, "signal": signal, "hist": hist},
        )
    )
    return [
        {"kind": kind, "params": params, "outputs": {name: series(v) for name, v in outputs.items()}}
        for kind, params, outputs in out
    ]


def main():
    time, open_, high, low, close = make_input()
    doc = {
        "input": {
            "time": [int(t) for t in time],
            "open": [float(x) for x in open_],
            "high": [float(x) for x in high],
            "low": [float(x) for x in low],
            "close": [float(x) for x in close],
        },
        "cases": cases(high, low, close),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # repr-exact floats: json writes the shortest string that round-trips.
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(doc['cases'])} cases, ta-lib {talib.__ta_version__.decode()})")


if __name__ == "__main__":
    main()
