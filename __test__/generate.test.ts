import { describe, expect, it } from 'vitest';
import { generateBarColumns, generateTickColumns, Sfc32 } from '../src/data/generate.js';
import { validateBars, validateTicks } from '../src/data/validate.js';
import { ValidationError } from '../src/errors.js';
import { generateBars, generateTicks, MAX_GENERATED_ROWS } from '../src/generate.js';
import { TIMEFRAME_MS, TIMEFRAMES, type Timeframe } from '../src/types.js';

const DAY = 86_400_000;
const weekday = (t: number) => (Math.floor(t / DAY) + 4) % 7;
const JAN1 = Date.UTC(2024, 0, 1); // a Monday

/** Section 9 transcribed literally with Sfc32.next(), to check the inlined generator loop. */
function referenceTicks(o: {
  start: number;
  days: number;
  seed: number;
  startPrice: number;
  digits: number;
  meanIntervalMs: number;
  stepPoints: number;
}) {
  const g = new Sfc32(o.seed);
  const scale = 10 ** o.digits;
  let pts = Math.floor(o.startPrice * scale + 0.5);
  const minPts = Math.max(1, Math.floor(scale / 100));
  let t = o.start;
  const end = o.start + o.days * DAY;
  let vol = 1;
  const span = 2 * o.stepPoints + 1;
  const time: number[] = [];
  const bid: number[] = [];
  const ask: number[] = [];
  let volChanges = 0;
  for (;;) {
    let r = g.next();
    t = t + 1 + (r % (2 * o.meanIntervalMs - 1));
    const day = Math.floor(t / DAY);
    const wd = (day + 4) % 7;
    if (wd === 6) t = (day + 2) * DAY + (r % 1000);
    else if (wd === 0) t = (day + 1) * DAY + (r % 1000);
    if (t >= end) break;
    r = g.next();
    if (r % 20000 === 0) {
      vol = 1 + (g.next() % 3);
      volChanges++;
    }
    pts = pts + ((Math.floor(r / 256) % span) - o.stepPoints) * vol;
    if (pts < minPts) pts = minPts + (minPts - pts);
    r = g.next();
    let spread = 8 + (r % 5);
    if (Math.floor(t / 3600000) % 24 === 21) spread = spread * 3;
    time.push(t);
    bid.push(pts / scale);
    ask.push((pts + spread) / scale);
  }
  return { time, bid, ask, volChanges };
}

function referenceBars(o: {
  timeframe: Timeframe;
  start: number;
  count: number;
  seed: number;
  startPrice: number;
  digits: number;
  stepPoints: number;
}) {
  const tf = TIMEFRAME_MS[o.timeframe];
  const g = new Sfc32(o.seed);
  const scale = 10 ** o.digits;
  const minPts = Math.max(1, Math.floor(scale / 100));
  const stepScale = Math.floor((Math.sqrt(tf / 60000) * o.stepPoints) / 2) + 1;
  let t = Math.floor(o.start / tf) * tf;
  let close = Math.floor(o.startPrice * scale + 0.5);
  const rows: number[][] = [];
  while (rows.length < o.count) {
    // Step bar by bar over weekends, as the text says.
    while (weekday(t) === 0 || weekday(t) === 6) t += tf;
    const open = close;
    let high = open;
    let low = open;
    for (let k = 0; k < 8; k++) {
      const r = g.next();
      close = close + ((r % 7) - 3) * stepScale;
      if (close < minPts) close = minPts + (minPts - close);
      high = Math.max(high, close);
      low = Math.min(low, close);
    }
    const volume = 1 + (g.next() % 1000);
    rows.push([t, open / scale, high / scale, low / scale, close / scale, volume]);
    t += tf;
  }
  return rows;
}

/** Index of the first element that differs (Object.is), -1 when equal; fast on long columns. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const tickOpts = {
  start: JAN1,
  days: 10,
  seed: 7,
  startPrice: 1.1,
  digits: 5,
  meanIntervalMs: 900,
  stepPoints: 3,
};

describe('Sfc32', () => {
  it('produces the reference sequence', () => {
    // Checked against an independent arbitrary-precision transcription of section 9.
    const g = new Sfc32(7);
    expect([g.next(), g.next(), g.next(), g.next(), g.next()]).toEqual([
      191098398, 3644188337, 1327743077, 1350888573, 1001040862,
    ]);
  });

  it('stays in u32 range and is deterministic per seed', () => {
    for (const seed of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) {
      const a = new Sfc32(seed);
      const b = new Sfc32(seed);
      for (let i = 0; i < 1000; i++) {
        const x = a.next();
        expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true);
        expect(b.next()).toBe(x);
      }
    }
    expect(new Sfc32(1).next()).not.toBe(new Sfc32(2).next());
  });

  it('rejects a seed outside [0, 2^32)', () => {
    for (const seed of [-1, 2 ** 32, 1.5, Number.NaN]) expect(() => new Sfc32(seed)).toThrow(ValidationError);
  });
});

describe('generateTickColumns', () => {
  const cols = generateTickColumns(tickOpts);
  const n = cols.time.length;

  it('matches a literal transcription of section 9, volume changes included', () => {
    const ref = referenceTicks(tickOpts);
    expect(ref.volChanges).toBeGreaterThan(0);
    expect(n).toBe(ref.time.length);
    expect(firstDiff(cols.time, ref.time)).toBe(-1);
    expect(firstDiff(cols.bid, ref.bid)).toBe(-1);
    expect(firstDiff(cols.ask, ref.ask)).toBe(-1);
  });

  it('matches the transcription near the price floor and with other options', () => {
    const o = {
      start: JAN1 + 3 * DAY + 12345,
      days: 3,
      seed: 99,
      startPrice: 0.02,
      digits: 4,
      meanIntervalMs: 5000,
      stepPoints: 40,
    };
    const got = generateTickColumns(o);
    const ref = referenceTicks(o);
    expect(got.time.length).toBe(ref.time.length);
    expect(firstDiff(got.time, ref.time)).toBe(-1);
    expect(firstDiff(got.bid, ref.bid)).toBe(-1);
    expect(firstDiff(got.ask, ref.ask)).toBe(-1);
    // The reflection at minPts = floor(10000 / 100) = 100 points keeps bids at or above 0.01.
    expect(Math.min(...got.bid)).toBeGreaterThanOrEqual(0.01);
  });

  it('is deterministic and depends on the seed', () => {
    const again = generateTickColumns(tickOpts);
    expect(firstDiff(again.time, cols.time)).toBe(-1);
    expect(firstDiff(again.bid, cols.bid)).toBe(-1);
    expect(firstDiff(again.ask, cols.ask)).toBe(-1);
    const other = generateTickColumns({ ...tickOpts, seed: 8 });
    expect(firstDiff(other.bid.subarray(0, 100), cols.bid.subarray(0, 100))).toBeGreaterThanOrEqual(0);
  });

  it('has about one tick per mean interval on weekdays', () => {
    // 10 days from a Monday: 8 weekdays of 86400000 / 900 = 96000 ticks each.
    expect(n).toBeGreaterThan(8 * 96000 * 0.98);
    expect(n).toBeLessThan(8 * 96000 * 1.02);
    expect(cols.time.length).toBe(cols.bid.length);
    expect(cols.time.length).toBe(cols.ask.length);
  });

  it('is strictly increasing, inside [start, end), and never on a weekend', () => {
    const end = tickOpts.start + tickOpts.days * DAY;
    let prev = -Infinity;
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const t = cols.time[i] as number;
      if (!(t > prev && t >= tickOpts.start && t < end && Number.isInteger(t))) bad++;
      const wd = weekday(t);
      if (wd === 0 || wd === 6) bad++;
      prev = t;
    }
    expect(bad).toBe(0);
  });

  it('lands the first tick after a weekend within the first second of Monday', () => {
    const fromSat = generateTickColumns({ ...tickOpts, start: JAN1 + 5 * DAY, days: 3 });
    expect(fromSat.time[0]).toBeGreaterThanOrEqual(JAN1 + 7 * DAY);
    expect(fromSat.time[0]).toBeLessThan(JAN1 + 7 * DAY + 1000);
    // Only a weekend: nothing to emit.
    expect(generateTickColumns({ ...tickOpts, start: JAN1 + 5 * DAY, days: 2 }).time.length).toBe(0);
  });

  it('keeps ask above bid with a spread of 8..12 points, tripled at 21:00 UTC', () => {
    const spreads = new Set<number>();
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const b = cols.bid[i] as number;
      const a = cols.ask[i] as number;
      const sp = Math.round((a - b) * 1e5);
      const hour = Math.floor((cols.time[i] as number) / 3600000) % 24;
      const ok = hour === 21 ? sp >= 24 && sp <= 36 && sp % 3 === 0 : sp >= 8 && sp <= 12;
      if (!(a > b) || !ok || !(b > 0)) bad++;
      spreads.add(sp);
    }
    expect(bad).toBe(0);
    expect([...spreads].sort((x, y) => x - y)).toEqual([8, 9, 10, 11, 12, 24, 27, 30, 33, 36]);
  });

  it('prices are whole points', () => {
    for (let i = 0; i < n; i += 97) {
      const p = (cols.bid[i] as number) * 1e5;
      expect(Math.abs(p - Math.round(p))).toBeLessThan(1e-6);
    }
  });

  it('passes validateTicks', () => {
    expect(() => validateTicks({ time: cols.time, bid: cols.bid, ask: cols.ask })).not.toThrow();
  });

  it('returns compact columns when the estimate was too large', () => {
    // A weekend-only range is estimated at a few dozen ticks and yields none.
    const none = generateTickColumns({ ...tickOpts, start: JAN1 + 5 * DAY, days: 2 });
    expect(none.time.buffer.byteLength).toBe(0);
  });
});

describe('generateBarColumns', () => {
  const base = {
    start: JAN1 + 4 * DAY + 13 * 3600000 + 1234,
    count: 500,
    seed: 11,
    startPrice: 1.2345,
    digits: 5,
    stepPoints: 3,
  };

  for (const timeframe of TIMEFRAMES) {
    it(`${timeframe}: matches section 9, aligned, weekday-only, consistent`, () => {
      const o = { ...base, timeframe };
      const tf = TIMEFRAME_MS[timeframe];
      const b = generateBarColumns(o);
      const ref = referenceBars(o);
      expect(b.time.length).toBe(o.count);
      for (const col of [b.time, b.open, b.high, b.low, b.close, b.volume]) expect(col.length).toBe(o.count);
      expect(Array.from(b.time)).toEqual(ref.map((r) => r[0]));
      expect(Array.from(b.open)).toEqual(ref.map((r) => r[1]));
      expect(Array.from(b.high)).toEqual(ref.map((r) => r[2]));
      expect(Array.from(b.low)).toEqual(ref.map((r) => r[3]));
      expect(Array.from(b.close)).toEqual(ref.map((r) => r[4]));
      expect(Array.from(b.volume)).toEqual(ref.map((r) => r[5]));

      // The first bar is the bucket of start (a Friday, so no skip).
      expect(b.time[0]).toBe(Math.floor(o.start / tf) * tf);
      let bad = 0;
      for (let i = 0; i < o.count; i++) {
        const t = b.time[i] as number;
        const op = b.open[i] as number;
        const hi = b.high[i] as number;
        const lo = b.low[i] as number;
        const cl = b.close[i] as number;
        const v = b.volume[i] as number;
        if (t % tf !== 0) bad++;
        if (weekday(t) === 0 || weekday(t) === 6) bad++;
        if (!(hi >= Math.max(op, cl) && lo <= Math.min(op, cl) && lo > 0)) bad++;
        if (!(Number.isInteger(v) && v >= 1 && v <= 1000)) bad++;
        if (i > 0) {
          const prev = b.time[i - 1] as number;
          // Consecutive bars are one timeframe apart unless a weekend lies between.
          const gapOk = t - prev === tf || weekday(prev + tf) >= 6 || weekday(prev + tf) === 0;
          if (!(t > prev) || !gapOk) bad++;
          if (op !== b.close[i - 1]) bad++;
        }
      }
      expect(bad).toBe(0);
      expect(() => validateBars({ timeframe, ...b })).not.toThrow();
    });
  }

  it('starts on Monday when the start falls on a weekend', () => {
    const b = generateBarColumns({ ...base, timeframe: 'H1', start: JAN1 + 5 * DAY + 7 * 3600000, count: 3 });
    expect(Array.from(b.time)).toEqual([JAN1 + 7 * DAY, JAN1 + 7 * DAY + 3600000, JAN1 + 7 * DAY + 7200000]);
    expect(b.open[0]).toBe(1.2345);
  });

  it('D1 bars skip Saturday and Sunday', () => {
    const b = generateBarColumns({ ...base, timeframe: 'D1', start: JAN1, count: 6 });
    expect(Array.from(b.time)).toEqual([0, 1, 2, 3, 4, 7].map((d) => JAN1 + d * DAY));
  });

  it('steps scale with the timeframe: floor(sqrt(tf / 1 min) * stepPoints / 2) + 1 points', () => {
    // M1, stepPoints 3: floor(1.5) + 1 = 2 points, so every move is a multiple of 2 points
    // (the start price is a whole number of points and no reflection happens at 1.2345).
    const m1 = generateBarColumns({ ...base, timeframe: 'M1', count: 200 });
    // H4: floor(sqrt(240) * 1.5) + 1 = floor(23.24) + 1 = 24 points.
    const h4 = generateBarColumns({ ...base, timeframe: 'H4', count: 200 });
    for (const [b, step] of [
      [m1, 2],
      [h4, 24],
    ] as const) {
      for (let i = 0; i < 200; i++) {
        const moved = Math.round(((b.close[i] as number) - 1.2345) * 1e5);
        expect(Math.abs(moved % step)).toBe(0);
      }
    }
  });

  it('is deterministic and depends on the seed', () => {
    const o = { ...base, timeframe: 'M15' as const };
    expect(generateBarColumns(o)).toEqual(generateBarColumns(o));
    expect(generateBarColumns({ ...o, seed: 12 }).close).not.toEqual(generateBarColumns(o).close);
  });
});

describe('generator sizes', () => {
  it('refuses a size past the row limit on both engines instead of allocating it', () => {
    for (const engine of ['native', 'js'] as const) {
      expect(() => generateBars({ count: 2 ** 40, engine })).toThrow(
        /^count: 1099511627776 is not an integer from 1 to 100000000$/,
      );
      expect(() => generateTicks({ days: 1e6, meanIntervalMs: 1, engine })).toThrow(ValidationError);
      expect(generateBars({ count: 3, engine }).time.length).toBe(3);
    }
    expect(MAX_GENERATED_ROWS).toBe(100_000_000);
  });
});
