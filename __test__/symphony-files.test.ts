/**
 * The symphony files in __test__/fixtures/symphonies: each compiles, prints to a fixed point,
 * round-trips IR -> DSL -> IR, and allocates as worked out by hand on small daily data (short
 * windows through the files' params). Every expected weight below is a literal derived in its
 * comment from the prices and docs/symphony.md; none is computed by an engine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, format, toDsl } from '../src/dsl/index.js';
import { compileSymphonySource } from '../src/dsl/symphony-register.js';
import { alignDaily, DAY_MS, type DailySeries } from '../src/symphony/data.js';
import { nativeSymphony } from '../src/symphony/native.js';
import { runSymphonies } from '../src/symphony/run.js';
import type { DailyData, SymphonyIR } from '../src/symphony/types.js';

const DIR = new URL('./fixtures/symphonies/', import.meta.url);
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.clj'))
  .sort();
const source = (file: string): string => readFileSync(new URL(file, DIR), 'utf8');

const N = 25;
const DAY0 = Date.UTC(2024, 0, 1);
const day = (t: number): number => DAY0 + t * DAY_MS;
const flat = (v: number): number[] => new Array<number>(N).fill(v);
/** Prices whose daily returns alternate +a, -a, +a, ... from 100 (flat from day `flatFrom` on). */
function alternating(a: number, flatFrom = N): number[] {
  const xs = [100];
  for (let i = 1; i < N; i++) {
    const prev = xs[i - 1] as number;
    xs.push(i >= flatFrom ? prev : prev * (i % 2 === 1 ? 1 + a : 1 - a));
  }
  return xs;
}

/** Daily data from closes (open = close); NaN before a ticker's first bar. */
function daily(closes: Record<string, number[]>): DailyData {
  const series: Record<string, DailySeries> = {};
  for (const [ticker, xs] of Object.entries(closes)) {
    expect(xs, ticker).toHaveLength(N);
    const time: number[] = [];
    const close: number[] = [];
    xs.forEach((x, t) => {
      if (Number.isNaN(x)) return;
      time.push(day(t));
      close.push(x);
    });
    series[ticker] = { time, open: close, close };
  }
  return alignDaily(series);
}

interface Case {
  params: Record<string, number>;
  closes: Record<string, number[]>;
  /** [day, target weights]; tickers left out have weight 0 (whatever is missing from 1 is cash). */
  expected: [number, Record<string, number>][];
}

const CASES: Record<string, Case> = {
  'tqqq-long-term.clj': {
    params: { 'ma-long': 4, 'ma-short': 3, 'rsi-window': 3 },
    closes: {
      SPY: [
        100, 101, 102, 103, 104, 105, 106, 107, 103, 102, 104, 103, 104, 105, 106, 107, 104, 104, 104, 104, 104, 104,
        104, 104, 104,
      ],
      TQQQ: [
        50, 51, 52, 53, 52, 53, 54, 55, 50, 52, 51, 50.5, 51.5, 52.5, 53.5, 54.5, 52, 52, 52, 52, 52, 52, 52, 52, 52,
      ],
      SPXL: [50, 50, 50, 50, 51, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50],
      SQQQ: [
        20, 20, 20, 20, 20, 20, 20, 20, 21, 22, 23, 24, 23.5, 23, 22.5, 22, 21.5, 21.5, 21.5, 21.5, 21.5, 21.5, 21.5,
        21.5, 21.5,
      ],
      BSV: [25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25.5, 26, 26, 26, 26, 26, 26, 26, 26, 26],
      UVXY: flat(10),
      TECL: flat(30),
      UPRO: flat(40),
    },
    expected: [
      // Day 0: SMA(4) of SPY needs 4 closes -> NaN, so `>` is false; RSI(3) needs 4 closes -> both
      // RSI tests false; SMA(3) of TQQQ needs 3 closes -> false; the last else: TQQQ.
      [0, { TQQQ: 1 }],
      // Day 3: SPY 103 > SMA4 (100+101+102+103)/4 = 101.5. TQQQ changes +1 +1 +1: ag = 1, al = 0,
      // RSI 100 > 79 -> UVXY.
      [3, { UVXY: 1 }],
      // Day 4: SPY 104 > SMA4 102.5. TQQQ -1: ag = (1*2 + 0)/3 = 2/3, al = (0*2 + 1)/3 = 1/3, RSI
      // 66.7 <= 79. SPXL 50 50 50 50 51: the first three changes are 0 (ag = al = 0), then +1:
      // ag = 1/3, al = 0, RSI 100 > 80 -> UVXY.
      [4, { UVXY: 1 }],
      // Day 5: SPY 105 > 103.5. TQQQ +1: ag = (4/3 + 1)/3 = 7/9, al = (2/3)/3 = 2/9, RSI 77.8 <= 79.
      // SPXL -1: ag = 2/9, al = 1/3, RSI = (2/9)/(5/9) = 40 <= 80 -> TQQQ.
      [5, { TQQQ: 1 }],
      // Day 6: TQQQ +1: ag = (14/9 + 1)/3 = 23/27, al = 4/27, RSI 85.2 > 79 -> UVXY.
      [6, { UVXY: 1 }],
      // Day 8: SPY 103 < SMA4 (105+106+107+103)/4 = 105.25. TQQQ day 7 (+1): ag = 73/81,
      // al = 8/81; day 8 (-5): ag = 146/243, al = (16/81 + 5)/3 = 421/243, RSI = 146/567 = 25.7
      // < 31 -> TECL.
      [8, { TECL: 1 }],
      // Day 9: SPY 102 < SMA4 104.5. TQQQ +2: ag = (292/243 + 2)/3 = 778/729, al = 842/729, RSI
      // 778/1620 = 48.0 >= 31. SPY: ag = 1, al = 0 through day 7; day 8 (-4): ag = 2/3, al = 4/3;
      // day 9 (-1): ag = 4/9, al = 11/9, RSI = 4/15 = 26.7 < 30 -> UPRO.
      [9, { UPRO: 1 }],
      // Day 10: SPY 104 vs SMA4 (107+103+102+104)/4 = 104: not above. TQQQ -1: ag = 1556/2187,
      // al = 2413/2187, RSI 39.2 >= 31. SPY +2: ag = 26/27, al = 22/27, RSI 54.2 >= 30.
      // TQQQ 51 vs SMA3 (50+52+51)/3 = 51: not below -> TQQQ.
      [10, { TQQQ: 1 }],
      // Day 11: SPY 103 vs SMA4 103: not above. TQQQ -0.5: ag = 3112/6561, al = 5919.5/6561, RSI
      // 34.5 >= 31. SPY -1: ag = 52/81, al = 71/81, RSI 42.3 >= 30. TQQQ 50.5 < SMA3 51.17 ->
      // filter top 1 by RSI(3): SQQQ rose 21 22 23 24 after flat days (al = 0) -> RSI 100; BSV flat
      // -> ag = al = 0 -> RSI 0 -> SQQQ.
      [11, { SQQQ: 1 }],
      // Day 12: SPY 104 > SMA4 (102+104+103+104)/4 = 103.25. TQQQ +1: ag = 0.6495, al = 0.6015,
      // RSI 51.9 <= 79; SPXL has been flat since day 5: ag and al both shrink by 2/3 a day, RSI
      // stays 40 <= 80 -> TQQQ.
      [12, { TQQQ: 1 }],
      // Day 15: SPY 107 > SMA4 105.5. TQQQ +1 on days 13-15: ag 0.7664, 0.8442, 0.8962 and al
      // 0.4010, 0.2673, 0.1782 -> RSI = 0.8962/1.0744 = 83.4 > 79 -> UVXY.
      [15, { UVXY: 1 }],
      // Day 16: SPY 104 < SMA4 (105+106+107+104)/4 = 105.5. TQQQ -2.5: ag = 0.8962*2/3 = 0.5975,
      // al = (0.1782*2 + 2.5)/3 = 0.9521, RSI 38.6 >= 31. SPY -3 (ag 0.9293, al 0.1731 on day 15):
      // ag = 0.6195, al = 1.1154, RSI 35.7 >= 30. TQQQ 52 < SMA3 (53.5+54.5+52)/3 = 53.33 ->
      // filter: BSV rose 25 -> 25.5 -> 26 after flat days (al = 0) -> RSI 100; SQQQ has fallen
      // since day 12 -> RSI 19.6 -> BSV.
      [16, { BSV: 1 }],
      // Day 18: SPY 104 < SMA4 104.75; RSIs unchanged by flat days (38.6, 35.7). TQQQ 52 vs SMA3
      // (52+52+52)/3 = 52: not below -> TQQQ.
      [18, { TQQQ: 1 }],
    ],
  },

  'hedged-leveraged-bonds-stocks.clj': {
    params: { 'trend-window': 3, 'mom-window': 3, 'vol-window': 3, 'vol-limit': 2 },
    closes: {
      SPY: [
        100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 109, 104, 110, 103, 109, 108.5, 108, 107.5, 107, 106.5, 106,
        105.5, 105, 104.5, 104,
      ],
      TLT: [
        100, 100.5, 101, 101.5, 102, 102.5, 103, 103.5, 104, 104.5, 105, 105.5, 106, 105, 104, 103, 102, 101, 100, 99,
        98, 97, 96, 95, 94,
      ],
      UPRO: flat(40),
      TMF: flat(10),
      BIL: flat(91.5),
      BTAL: flat(20),
    },
    expected: [
      // Day 1: SMA3 and cumulative-return(3) not ready -> both tests false -> core BIL (80%);
      // stdev-return(3) needs 3 returns -> hedge test false, its 20% stays in cash.
      [1, { BIL: 0.8 }],
      // Day 5: SPY 105 > SMA3 (103+104+105)/3 = 104 -> core 55/45: UPRO 0.8*0.55 = 0.44, TMF
      // 0.8*0.45 = 0.36. Returns 1/102, 1/103, 1/104 differ by ~0.01 pt -> stdev 0.008% <= 2 -> cash.
      [5, { UPRO: 0.44, TMF: 0.36 }],
      // Day 11: SPY 104 < SMA3 (109+109+104)/3 = 107.33; TLT 105.5/104 - 1 = +1.44% > 0 -> 40/60:
      // UPRO 0.32, TMF 0.48. Returns +0.926%, 0%, -4.587%: mean -1.220%, deviations 2.146, 1.220,
      // -3.367 -> variance (4.605 + 1.489 + 11.335)/3 = 5.810 -> stdev 2.41% > 2 -> BTAL 0.2.
      [11, { UPRO: 0.32, TMF: 0.48, BTAL: 0.2 }],
      // Day 13: SPY 103 < SMA3 105.67; TLT 105/105 - 1 = 0, not > 0 -> BIL 0.8. Returns +5.77%,
      // -6.36%, +5.83% -> stdev 5.35% > 2 -> BTAL 0.2.
      [13, { BIL: 0.8, BTAL: 0.2 }],
      // Day 14: SPY 109 > SMA3 (110+103+109)/3 = 107.33 -> 55/45; stdev 5.73% > 2 -> BTAL.
      [14, { UPRO: 0.44, TMF: 0.36, BTAL: 0.2 }],
      // Day 17: SPY 107.5 < SMA3 108; TLT 101/104 - 1 < 0 -> BIL. Returns all ~-0.46% -> stdev
      // 0.002% -> hedge in cash.
      [17, { BIL: 0.8 }],
    ],
  },

  'sector-momentum.clj': {
    params: { 'trend-window': 3, 'mom-window': 5, 'top-n': 2 },
    closes: {
      SPY: [
        100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 113, 111, 109, 107, 105, 103,
        101, 99, 97,
      ],
      XLK: [
        100, 102, 104, 106, 108, 110, 112, 114, 116, 118, 120, 122, 124, 126, 128, 130, 132, 134, 136, 138, 140, 142,
        144, 146, 148,
      ],
      XLE: [
        100, 100, 100, 100, 100, 100, 100, 100, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 144, 148, 152,
        156, 160, 164,
      ],
      XLF: [
        100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121,
        122, 123, 124,
      ],
      XLV: [
        100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121,
        122, 123, 124,
      ],
      XLU: [
        100, 99.5, 99, 98.5, 98, 97.5, 97, 96.5, 96, 95.5, 95, 94.5, 94, 93.5, 93, 92.5, 92, 91.5, 91, 90.5, 90, 89.5,
        89, 88.5, 88,
      ],
      SHY: flat(80),
    },
    expected: [
      // Day 1: SMA3 not ready -> SHY.
      [1, { SHY: 1 }],
      // Day 3: SPY 103 > SMA3 102 -> filter; cumulative-return(5) needs 6 closes -> every score
      // NaN -> nothing eligible -> all cash.
      [3, {}],
      // Day 5: returns over 5 days: XLK 110/100 -> 10%, XLF and XLV 105/100 -> 5% (equal), XLE 0%,
      // XLU -2.5%. Top 2: XLK, then the XLF/XLV tie goes to the label first in order: XLF.
      [5, { XLK: 0.5, XLF: 0.5 }],
      // Day 10: XLK 120/110 -> 9.09%, XLE 108/100 -> 8%, XLF 110/105 -> 4.76% -> XLK and XLE.
      [10, { XLK: 0.5, XLE: 0.5 }],
      // Day 16: SPY 113 < SMA3 (114+115+113)/3 = 114 -> SHY.
      [16, { SHY: 1 }],
    ],
  },

  'golden-cross.clj': {
    params: { fast: 2, slow: 4 },
    closes: {
      SPY: [
        100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 106, 103, 100, 97, 94, 91, 88, 85, 82, 79, 76, 73, 70, 67, 64,
      ],
      QQQ: [
        200, 200, 200, 200, 200, 200, 210, 220, 230, 240, 230, 220, 210, 200, 190, 190, 190, 190, 190, 190, 190, 190,
        190, 190, 190,
      ],
      IEF: flat(95),
    },
    expected: [
      // Day 2: SMA4 not ready -> both tests false -> IEF in both halves: 0.5 + 0.5.
      [2, { IEF: 1 }],
      // Day 3: SPY SMA2 (102+103)/2 = 102.5 > SMA4 101.5 -> SPY. QQQ flat 200: EMA2 = 200 (seed
      // (200+200)/2, then unchanged) and SMA4 = 200; 200 >= 200 -> QQQ.
      [3, { SPY: 0.5, QQQ: 0.5 }],
      // Day 10: SPY SMA2 (109+106)/2 = 107.5 and SMA4 (107+108+109+106)/4 = 107.5: not above ->
      // IEF. QQQ EMA2 (k = 2/3) from 200: 206.67, 215.56, 225.19, 235.06, then
      // (230 - 235.06)*2/3 + 235.06 = 231.69 >= SMA4 (220+230+240+230)/4 = 230 -> QQQ.
      [10, { IEF: 0.5, QQQ: 0.5 }],
      // Day 11: SPY SMA2 104.5 < SMA4 106.5 -> IEF; QQQ EMA2 (220 - 231.69)*2/3 + 231.69 = 223.90
      // < SMA4 (230+240+230+220)/4 = 230 -> IEF.
      [11, { IEF: 1 }],
    ],
  },

  'rsi-mean-reversion.clj': {
    params: { 'rsi-window': 3 },
    closes: {
      QQQ: [
        100, 101, 102, 103, 102, 99, 100, 103, 106, 109, 112, 115, 118, 118, 118, 118, 118, 118, 118, 118, 118, 118,
        118, 118, 118,
      ],
      SPY: [50, 49, 48, 47, 46, 48, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50],
      TQQQ: flat(30),
      SQQQ: flat(15),
      UPRO: flat(60),
      BIL: flat(91.5),
    },
    expected: [
      // Day 2: RSI(3) needs 4 closes -> every test false -> BIL.
      [2, { BIL: 1 }],
      // Day 3: QQQ +1 +1 +1 -> RSI 100: not < 30, > 70 -> SQQQ.
      [3, { SQQQ: 1 }],
      // Day 4: QQQ -1: ag = 2/3, al = 1/3, RSI 66.7 (neither); SPY fell every day: ag = 0 ->
      // RSI 0 < 30 -> UPRO.
      [4, { UPRO: 1 }],
      // Day 5: QQQ -3: ag = 4/9, al = (2/3 + 3)/3 = 11/9, RSI = 4/15 = 26.7 < 30 -> TQQQ.
      [5, { TQQQ: 1 }],
      // Day 6: QQQ +1: ag = 17/27, al = 22/27, RSI 43.6 (neither). SPY day 5 (+2): ag = 2/3,
      // al = 2/3; day 6 (+2): ag = 10/9, al = 4/9, RSI 71.4 >= 30 -> BIL.
      [6, { BIL: 1 }],
      // Day 7: QQQ +3: ag = (34/27 + 3)/3 = 115/81, al = 44/81, RSI = 115/159 = 72.3 > 70 -> SQQQ.
      [7, { SQQQ: 1 }],
    ],
  },

  'risk-parity.clj': {
    params: { 'vol-window': 4 },
    closes: {
      SPY: alternating(0.01),
      TLT: alternating(0.02),
      GLD: alternating(0.04, 10),
      DBC: alternating(0.01),
      VNQ: alternating(0.03),
    },
    expected: [
      // Day 3: stdev-return(4) needs 4 returns (5 closes) -> no child eligible -> all cash.
      [3, {}],
      // Day 4: the last 4 returns are +a, -a, +a, -a: mean 0, population stdev a. SPY 1%, TLT 2%,
      // GLD 4%; the Real assets sleeve (DBC 1% and VNQ 3% in step, rebalanced daily) moves
      // (1% + 3%)/2 = 2%. Inverse vols 1, 1/2, 1/4, 1/2 sum to 2.25: SPY 1/2.25 = 4/9, TLT 2/9,
      // GLD 1/9, sleeve 2/9 split equally: DBC 1/9, VNQ 1/9.
      [4, { SPY: 4 / 9, TLT: 2 / 9, GLD: 1 / 9, DBC: 1 / 9, VNQ: 1 / 9 }],
      // Day 13: GLD has not moved since day 9: its last 4 returns are 0 -> stdev 0 -> left out.
      // 1 + 1/2 + 1/2 = 2: SPY 1/2, TLT 1/4, sleeve 1/4 -> DBC 1/8, VNQ 1/8.
      [13, { SPY: 0.5, TLT: 0.25, DBC: 0.125, VNQ: 0.125 }],
    ],
  },

  'dual-momentum.clj': {
    params: { lookback: 5, 'bond-window': 3 },
    closes: {
      SPY: [
        100, 102, 104, 106, 108, 110, 112, 114, 116, 118, 120, 122, 124, 121, 118, 115, 112, 109, 106, 103, 100, 97, 94,
        91, 88,
      ],
      VEU: [
        100, 103, 106, 109, 112, 115, 118, 121, 124, 124, 124, 124, 124, 124, 124, 124, 124, 124, 124, 124, 124, 124,
        124, 124, 124,
      ],
      BIL: [
        100, 100.1, 100.2, 100.3, 100.4, 100.5, 100.6, 100.7, 100.8, 100.9, 101, 101.1, 101.2, 101.3, 101.4, 101.5,
        101.6, 101.7, 101.8, 101.9, 102, 102.1, 102.2, 102.3, 102.4,
      ],
      AGG: [
        100, 100.5, 101, 101.5, 102, 102.5, 103, 103.5, 104, 104.5, 105, 105.5, 106, 106.5, 107, 107.5, 108, 108.5, 109,
        109.5, 110, 110.5, 111, 111.5, 112,
      ],
      TLT: [
        100, 102, 101, 103, 102.5, 102, 101.5, 101, 100.5, 100, 99.5, 99, 98.5, 98, 97.5, 97, 96.5, 96, 95.5, 95, 94.5,
        94, 93.5, 93, 92.5,
      ],
    },
    expected: [
      // Day 2: cumulative-return(5) NaN -> else; moving-average-return(3) needs 3 returns -> NaN
      // for both bonds -> all cash.
      [2, {}],
      // Day 3: AGG returns 0.5/100, 0.5/100.5, 0.5/101 -> mean 0.4975%; TLT +2%, -0.980%, +1.980%
      // -> mean 0.9999% -> TLT.
      [3, { TLT: 1 }],
      // Day 4: TLT's window is now -0.980%, +1.980%, -0.485% -> 0.171% < AGG 0.495% -> AGG.
      [4, { AGG: 1 }],
      // Day 9: SPY 118/108 - 1 = 9.26% > BIL 100.9/100.4 - 1 = 0.50% -> filter: VEU 124/112 - 1 =
      // 10.71% beats SPY 9.26% -> VEU.
      [9, { VEU: 1 }],
      // Day 10: SPY 120/110 - 1 = 9.09% > 0.50%; VEU 124/115 - 1 = 7.83% -> SPY.
      [10, { SPY: 1 }],
      // Day 14: SPY 118/118 - 1 = 0 < BIL 101.4/100.9 - 1 = 0.50% -> bonds: AGG +0.47% a day, TLT
      // -0.5 a day (-0.51%) -> AGG.
      [14, { AGG: 1 }],
    ],
  },

  'max-drawdown-guard.clj': {
    params: { 'dd-window': 5, 'dd-limit': 10 },
    closes: {
      QQQ: [
        100, 101, 102, 103, 104, 105, 106, 107, 108, 100, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107,
        108, 109,
      ],
      SPY: [
        100, 102, 104, 92, 93, 95, 97, 99, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115,
        116, 117,
      ],
      SHY: flat(82),
      GLD: flat(180),
      TQQQ: flat(45),
    },
    expected: [
      // Day 4: max-drawdown(5) needs 6 closes -> both tests false -> TQQQ.
      [4, { TQQQ: 1 }],
      // Day 5: QQQ 100..105 only rose -> 0. SPY 100 102 104 92 93 95: peak 104, trough 92 ->
      // (104 - 92)/104 = 11.5% > 10 -> weights 0.5/0.5 of a 1.0 sum: QQQ 0.5, SHY 0.5.
      [5, { QQQ: 0.5, SHY: 0.5 }],
      // Day 8: SPY window 92 93 95 97 99 101 only rises -> 0; QQQ 0 -> TQQQ.
      [8, { TQQQ: 1 }],
      // Day 10: QQQ window 105 106 107 108 100 95: (108 - 95)/108 = 12.0% > 10 -> Defensive:
      // SHY 0.5, GLD 0.5.
      [10, { SHY: 0.5, GLD: 0.5 }],
      // Day 14: QQQ window 100 95 96 97 98 99: (100 - 95)/100 = 5% <= 10; SPY rising -> TQQQ.
      [14, { TQQQ: 1 }],
    ],
  },

  'dip-buyer.clj': {
    params: { 'rsi-window': 3, 'ma-window': 3 },
    closes: {
      SPY: [
        100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 116, 113,
        110, 107, 104,
      ],
      XLE: [
        100, 99, 98, 97, 100, 103, 106, 109, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112,
        112, 112,
      ],
      XLF: [
        100, 101, 102, 103, 102, 101, 100, 99, 98, 100, 102, 104, 106, 108, 110, 112, 114, 116, 118, 120, 122, 124, 126,
        128, 130,
      ],
      XLK: [
        100, 101, 102, 103, 104, 105, 106, 107, 108, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100,
        100, 100, 100,
      ],
      SOXX: [
        100, 102, 104, 106, 108, 110, 112, 114, 116, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100,
        100, 100, 100,
      ],
      BIL: flat(91.5),
    },
    expected: [
      // Day 1: SMA3 not ready -> BIL.
      [1, { BIL: 1 }],
      // Day 2: SPY 102 > SMA3 101 -> filter; RSI(3) needs 4 values -> none eligible -> all cash.
      [2, {}],
      // Day 3: the groups are ranked by their own simulated series (RSI does not depend on the
      // series' scale). Energy = XLE fell 3 days -> RSI 0; Financials = XLF rose -> 100; Tech
      // (daily-rebalanced half XLK, half SOXX) rose every day -> 100. Bottom 1: Energy.
      [3, { XLE: 1 }],
      // Day 5: XLE +3 +3 after three -1: ag = 1 then 5/3, al = 2/3 then 4/9 -> RSI 78.9. XLF
      // -1 -1 after three +1: ag = 2/3 then 4/9, al = 1/3 then 5/9 -> RSI 44.4. Tech 100 ->
      // Financials.
      [5, { XLF: 1 }],
      // Day 9: Tech rose about 1.5% a day to 1.1194 on day 8 (ag ~ 0.0149, al = 0), then XLK
      // -7.4% and SOXX -13.8%: the sleeve fell to 1.0007 (loss 0.1187): ag = 0.0149*2/3 = 0.0099,
      // al = 0.1187/3 = 0.0396 -> RSI 20.1. XLF +2 after five falls: ag = 550/729, al = 422/729 ->
      // 56.6; XLE flat (ratio kept) 95.2 -> Tech: XLK 0.5, SOXX 0.5.
      [9, { XLK: 0.5, SOXX: 0.5 }],
      // Day 20: SPY 116 < SMA3 (118+119+116)/3 = 117.67 -> BIL.
      [20, { BIL: 1 }],
    ],
  },

  'volatility-switch.clj': {
    params: { 'vol-window': 4, 'vol-cap': 3, 'trend-window': 3 },
    closes: {
      QQQ: [
        100, 101, 102, 103, 104, 105, 106, 105.5, 105, 104.5, 104, 110, 100, 112, 98, 98, 98, 98, 98, 98, 98, 98, 98,
        98, 98,
      ],
      TQQQ: flat(40),
      TLT: flat(95),
      BIL: flat(91.5),
    },
    expected: [
      // Day 3: stdev-return(4) needs 4 returns -> `<` false -> TLT/BIL half each.
      [3, { TLT: 0.5, BIL: 0.5 }],
      // Day 4: returns 1/100 .. 1/103 (~1% each) -> stdev 0.01% < 3; moving-average-return(3)
      // ~0.98% > 0 -> TQQQ.
      [4, { TQQQ: 1 }],
      // Day 10: returns ~-0.47% each -> stdev 0.003% < 3; average -0.476% <= 0 -> QQQ.
      [10, { QQQ: 1 }],
      // Day 14: returns +5.77%, -9.09%, +12%, -12.5%: mean -0.956%, deviations 6.725, -8.135,
      // 12.956, -11.544 -> variance (45.23 + 66.18 + 167.85 + 133.27)/4 = 103.13 -> stdev 10.16%
      // >= 3 -> TLT/BIL.
      [14, { TLT: 0.5, BIL: 0.5 }],
      // Day 18: QQQ flat since day 14 -> 4 zero returns -> stdev 0 < 3; average 0, not > 0 -> QQQ.
      [18, { QQQ: 1 }],
    ],
  },

  'inflation-hedge.clj': {
    params: { short: 3, long: 5, calm: 2 },
    closes: {
      GLD: [
        100, 102, 104, 106, 108, 110, 112, 114, 111, 108, 105, 102, 99, 96, 93, 90, 87, 84, 81, 78, 75, 72, 69, 66, 63,
      ],
      TIP: flat(110),
      DBC: [20, 20, 20, 20, 20, 20, 25, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18],
    },
    expected: [
      // Day 1: SMA5 not ready -> TIP 60%; stdev-price(3) needs 3 closes -> the if without else
      // holds its 40% in cash.
      [1, { TIP: 0.6 }],
      // Day 2: DBC 20 20 20 -> stdev 0 < 2 -> DBC 0.4; GLD still TIP.
      [2, { TIP: 0.6, DBC: 0.4 }],
      // Day 4: GLD EMA3 (k = 1/2): seed (100+102+104)/3 = 102, then 104, 106 > SMA5 (100+..+108)/5
      // = 104 -> GLD 0.6; DBC stdev 0 -> 0.4.
      [4, { GLD: 0.6, DBC: 0.4 }],
      // Day 6: EMA3 110 > SMA5 108 -> GLD. DBC 20 20 25: mean 21.67, deviations -1.67 -1.67 3.33
      // -> variance (2.78 + 2.78 + 11.11)/3 = 5.56 -> stdev 2.36 >= 2 -> 40% cash.
      [6, { GLD: 0.6 }],
      // Day 9: EMA3 112 (day 7), (111 - 112)/2 + 112 = 111.5, (108 - 111.5)/2 + 111.5 = 109.75 <
      // SMA5 (110+112+114+111+108)/5 = 111 -> TIP. DBC 18 18 18 -> stdev 0 -> DBC.
      [9, { TIP: 0.6, DBC: 0.4 }],
    ],
  },

  'balanced-60-40.clj': {
    params: {},
    closes: {
      VTI: Array.from({ length: N }, (_, t) => 200 + t),
      BND: Array.from({ length: N }, (_, t) => (t < 5 ? Number.NaN : 72 + 0.1 * (t - 5))),
      TLT: Array.from({ length: N }, (_, t) => 95 - 0.2 * t),
    },
    expected: [
      // Day 0: 60/40 -> VTI 0.6; Bonds 0.4 split equally, but BND has no price before day 5 -> its
      // 0.2 is cash; TLT 0.2.
      [0, { VTI: 0.6, TLT: 0.2 }],
      // Day 5: BND priced -> VTI 0.6, BND 0.2, TLT 0.2.
      [5, { VTI: 0.6, BND: 0.2, TLT: 0.2 }],
    ],
  },

  'best-of-breed.clj': {
    params: { window: 3, n: 2 },
    closes: {
      QQQ: [
        100, 102, 104, 106, 108, 110, 112, 114, 116, 118, 118, 118, 118, 118, 118, 118, 118, 118, 118, 118, 118, 118,
        118, 118, 118,
      ],
      XLK: Array.from({ length: N }, (_, t) => 100 + 3 * t),
      ARKK: [
        100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 96, 101, 106, 111, 116, 121, 126, 131, 136, 141, 146, 151, 156, 161,
        166,
      ],
      VTV: Array.from({ length: N }, (_, t) => 100 + 0.5 * t),
      XLF: Array.from({ length: N }, (_, t) => 100 + 0.5 * t),
      BIL: flat(100),
    },
    expected: [
      // Day 2: the outer filter's scores need 3 returns -> its half is cash; BIL 0.5.
      [2, { BIL: 0.5 }],
      // Day 3: Growth's inner filter had no scores on days 0-2 (cumulative-return(3) needs 4
      // closes), so Growth held cash and its series stayed 1: average return 0. Value (VTV/XLF,
      // both +0.5 a day) averages 0.4975% -> Value: VTV 0.25, XLF 0.25, BIL 0.5.
      [3, { VTV: 0.25, XLF: 0.25, BIL: 0.5 }],
      // Day 4: on day 3 Growth picked XLK 9% and QQQ 6% (ARKK -3%), so its day-4 return is
      // (108/106 - 1 + 112/109 - 1)/2 = (1.887% + 2.752%)/2 = 2.320%; average of 0, 0, 2.320% =
      // 0.773% > Value 0.495% -> Growth, which today picks XLK 112/103 (8.7%) and QQQ 108/102
      // (5.9%): QQQ 0.25, XLK 0.25, BIL 0.5.
      [4, { QQQ: 0.25, XLK: 0.25, BIL: 0.5 }],
      // Day 11: Growth's returns on days 9-11 (XLK with QQQ, QQQ flat from day 9): 2.07%, 1.18%,
      // 1.15% -> average 1.47% > Value 0.48% -> Growth; today ARKK 101/92 (9.8%) and XLK 133/124
      // (7.3%) beat QQQ 118/116 (1.7%): ARKK 0.25, XLK 0.25, BIL 0.5.
      [11, { ARKK: 0.25, XLK: 0.25, BIL: 0.5 }],
    ],
  },
};

const ENGINES = ['js', ...(nativeSymphony() ? (['native'] as const) : [])] as const;

function weightsOn(tickers: string[], weights: Float64Array, t: number): Record<string, number> {
  const out: Record<string, number> = {};
  tickers.forEach((k, i) => {
    out[k] = weights[t * tickers.length + i] as number;
  });
  return out;
}

describe('symphony files', () => {
  it('has at least 12 files, each with hand-checked days', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(12);
    expect(Object.keys(CASES).sort()).toEqual(FILES);
  });

  describe.each(FILES)('%s', (file) => {
    const src = source(file);

    it('compiles, formats to a fixed point and round-trips through toDsl', () => {
      const ir = compile(src, { file }).ir as SymphonyIR;
      expect(ir.kind).toBe('symphony');
      const once = format(src);
      expect(format(once)).toBe(once);
      expect(compile(once, { file }).ir).toEqual(ir);
      const text = toDsl(ir);
      expect(compile(text, { file }).ir).toEqual(ir);
      expect(format(text)).toBe(text);
      expect(compileSymphonySource(src, file)).toEqual(ir);
    });

    it.each(ENGINES)('allocates as worked out by hand (%s engine)', async (engine) => {
      const c = CASES[file] as Case;
      const data = daily(c.closes);
      const book = await runSymphonies([{ source: src, path: file, params: c.params }], data, {
        engine,
        parallelism: 'none',
      });
      const result = book.files[0];
      expect(result?.error).toBeUndefined();
      const out = result?.output;
      if (!out) throw new Error('no output');
      for (const [t, want] of c.expected) {
        const got = weightsOn(out.tickers, out.weights, t);
        for (const k of out.tickers) expect(got[k], `day ${t} ${k}`).toBeCloseTo(want[k] ?? 0, 9);
        for (const k of Object.keys(want)) expect(out.tickers, `day ${t}`).toContain(k);
        const signals = book.signals(day(t));
        expect(signals.date).toBe(day(t));
        for (const k of out.tickers) expect(signals.weights[k], `signals day ${t} ${k}`).toBeCloseTo(want[k] ?? 0, 9);
      }
    });
  });

  it('sweeps the 60/40 split through params', async () => {
    const c = CASES['balanced-60-40.clj'] as Case;
    const book = await runSymphonies(
      [
        {
          source: source('balanced-60-40.clj'),
          path: 'balanced-60-40.clj',
          params: { 'stock-weight': 30, 'bond-weight': 70 },
        },
      ],
      daily(c.closes),
      { engine: 'js' },
    );
    // 30/70 -> VTI 0.3; Bonds 0.7 split equally -> BND 0.35, TLT 0.35.
    const w = book.signals(day(6)).weights;
    expect(w.VTI).toBeCloseTo(0.3, 12);
    expect(w.BND).toBeCloseTo(0.35, 12);
    expect(w.TLT).toBeCloseTo(0.35, 12);
  });

  it('runs several files together and consolidates their allocations', async () => {
    const c1 = CASES['golden-cross.clj'] as Case;
    const c2 = CASES['inflation-hedge.clj'] as Case;
    const book = await runSymphonies(
      [
        { source: source('golden-cross.clj'), path: 'golden-cross.clj', params: c1.params },
        { source: source('inflation-hedge.clj'), path: 'inflation-hedge.clj', params: c2.params },
      ],
      daily({ ...c1.closes, ...c2.closes }),
      { engine: 'js' },
    );
    expect(book.files.map((f) => f.status)).toEqual(['ok', 'ok']);
    // Day 10: golden cross IEF 0.5, QQQ 0.5 (above). Inflation hedge: GLD EMA3
    // (105 - 109.75)/2 + 109.75 = 107.375 < SMA5 (112+114+111+108+105)/5 = 110 -> TIP 0.6; DBC flat
    // -> 0.4. The mean of the two: IEF 0.25, QQQ 0.25, TIP 0.3, DBC 0.2.
    const w = book.signals(day(10)).weights;
    expect(w).toEqual({
      DBC: expect.closeTo(0.2, 12),
      GLD: 0,
      IEF: expect.closeTo(0.25, 12),
      QQQ: expect.closeTo(0.25, 12),
      SPY: 0,
      TIP: expect.closeTo(0.3, 12),
    });
  });

  it('reports a file that does not compile with its location and runs the others', async () => {
    const c = CASES['golden-cross.clj'] as Case;
    const bad = source('golden-cross.clj').replace('moving-average-price "SPY"', 'moving-avrage-price "SPY"');
    const book = await runSymphonies(
      [
        { source: bad, path: 'bad.clj', params: c.params },
        { source: source('golden-cross.clj'), path: 'golden-cross.clj', params: c.params },
      ],
      daily(c.closes),
      { engine: 'js' },
    );
    expect(book.files[0]?.status).toBe('failed');
    expect(book.files[0]?.error).toMatchObject({ code: 'ERR_TICKFORGE_VALIDATION', file: 'bad.clj', line: 8 });
    expect(book.files[0]?.error?.message).toContain('unknown indicator `moving-avrage-price`');
    expect(book.files[1]?.status).toBe('ok');
  });
});
