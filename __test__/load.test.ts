import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative as relativePath } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { splitFields } from '../src/data/load/csv.js';
import { cachePath } from '../src/data/load/index.js';
import { parseDatetime, parseNumber, parseTime } from '../src/data/load/time.js';
import { ValidationError } from '../src/errors.js';
import { loadBars, loadBarsSync, loadTicks, loadTicksSync } from '../src/index.js';

const FIX = join(import.meta.dirname, 'fixtures', 'data');
const fx = (name: string) => join(FIX, name);
const f = (xs: number[]) => Float64Array.from(xs);
const JAN2 = 1704153600000; // 2024-01-02T00:00:00Z
const tmp = mkdtempSync(join(tmpdir(), 'tickforge-load-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of a fixture (or a text) in a temporary directory of its own. */
function place(name: string, text?: string): string {
  const dir = mkdtempSync(join(tmp, 'f-'));
  const p = join(dir, name);
  if (text === undefined) copyFileSync(fx(name), p);
  else writeFileSync(p, text);
  return p;
}

function issuesOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues;
  }
  throw new Error('expected a ValidationError');
}

const js = { engine: 'js' as const, cache: false };

describe('formats (js parser)', () => {
  it('dukascopy: volume = ask + bid volume, CRLF and blank lines', () => {
    const r = loadTicksSync(fx('dukascopy.csv'), js);
    expect(r.time).toEqual(f([JAN2, JAN2 + 250, JAN2 + 1000, JAN2 + 900_000]));
    expect(r.bid).toEqual(f([1.10002, 1.10003, 1.1001, 1.10015]));
    expect(r.ask).toEqual(f([1.10012, 1.10013, 1.1002, 1.10025]));
    expect(r.volume).toEqual(f([3.75, 1.75, 3, 2]));
    expect(r.report).toMatchObject({ format: 'dukascopy', kind: 'ticks', engine: 'js', rowsRead: 4, rows: 4 });
    expect(r.report.gaps).toEqual({ thresholdMs: 600000, count: 1, largestMs: 899000, largestAt: JAN2 + 900_000 });
    expect(r.report.spread?.min).toBeCloseTo(0.0001, 12);
  });

  it('histdata: EST by default, another timezone when given', () => {
    const r = loadTicksSync(fx('histdata.csv'), js);
    // 17:00:00.123 EST = 22:00:00.123 UTC
    expect(r.time).toEqual(
      f([JAN2 + 22 * 3_600_000 + 123, JAN2 + 22 * 3_600_000 + 1000, JAN2 + 22 * 3_600_000 + 1500]),
    );
    expect(r.volume).toEqual(f([0, 0, 5]));
    const utc = loadTicksSync(fx('histdata.csv'), { ...js, timezone: 'UTC' });
    expect(utc.time[0]).toBe(JAN2 + 17 * 3_600_000 + 123);
    const plus2 = loadTicksSync(fx('histdata.csv'), { ...js, timezone: '+02:00' });
    expect(plus2.time[0]).toBe(JAN2 + 15 * 3_600_000 + 123);
  });

  it('mt5 ticks: empty sides repeat, rows before both sides are incomplete, no volume', () => {
    const r = loadTicksSync(fx('mt5-ticks.csv'), js);
    expect(r.time).toEqual(f([JAN2 + 200, JAN2 + 300, JAN2 + 1000]));
    expect(r.bid).toEqual(f([1.10002, 1.10003, 1.10003]));
    expect(r.ask).toEqual(f([1.10012, 1.10012, 1.10014]));
    expect(r.volume).toBeUndefined();
    expect(r.report).toMatchObject({ format: 'mt5', rowsRead: 4, rows: 3, incomplete: 1 });
    expect(r.report.skipped.total).toBe(0);
  });

  it('mt5 bars: TICKVOL is the volume, the timeframe is detected', () => {
    const r = loadBarsSync(fx('mt5-bars.csv'), js);
    expect(r.timeframe).toBe('M1');
    expect(r.time).toEqual(f([JAN2, JAN2 + 60_000, JAN2 + 300_000]));
    expect(r.open).toEqual(f([1.1, 1.1005, 1.1008]));
    expect(r.high).toEqual(f([1.101, 1.1012, 1.1009]));
    expect(r.low).toEqual(f([1.099, 1.1001, 1.1]));
    expect(r.close).toEqual(f([1.1005, 1.1008, 1.1002]));
    expect(r.volume).toEqual(f([120, 98, 40]));
    expect(r.report.gaps).toEqual({ thresholdMs: 180000, count: 1, largestMs: 240000, largestAt: JAN2 + 300_000 });
  });

  it('mt5 bars without <TIME> are at midnight', () => {
    const p = place(
      'mt5-daily.csv',
      '<DATE>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\n2024.01.02\t1\t2\t0.5\t1.5\t10\n2024.01.03\t1\t2\t0.5\t1.5\t11\n',
    );
    const r = loadBarsSync(p, js);
    expect(r.time).toEqual(f([JAN2, JAN2 + 86_400_000]));
    expect(r.timeframe).toBe('D1');
  });

  it('generic csv: BOM, ; delimiter, quoted fields, datetime forms', () => {
    const r = loadTicksSync(fx('ticks-semicolon.csv'), js);
    expect(r.time).toEqual(f([JAN2 + 500, JAN2 + 1000, JAN2 + 2250]));
    expect(r.bid).toEqual(f([1.10002, 1.10003, 1.10004]));
    expect(r.ask).toEqual(f([1.10012, 1.10013, 1.10014]));
    expect(r.volume).toEqual(f([2, 0, 1.5]));
    expect(r.report.format).toBe('csv');
  });

  it('generic bars: epoch seconds, no volume column gives 0, H1 detected', () => {
    const r = loadBarsSync(fx('bars.csv'), { ...js, symbol: 'EURUSD' });
    expect(r.symbol).toBe('EURUSD');
    expect(r.timeframe).toBe('H1');
    expect(r.time).toEqual(f([JAN2, JAN2 + 3_600_000, JAN2 + 3 * 3_600_000]));
    expect(r.volume).toEqual(f([0, 0, 0]));
    expect(r.report.timeframe).toBe('H1');
  });

  it('generic csv: column mapping by name and index, header false', () => {
    const p = place('mapped.csv', 'when,b,a,q\n1704153600000,1.1,1.2,3\n');
    const r = loadTicksSync(p, { ...js, columns: { time: 'WHEN', bid: 1, ask: 'a', volume: 'q' } });
    expect([r.time[0], r.bid[0], r.ask[0], r.volume?.[0]]).toEqual([JAN2, 1.1, 1.2, 3]);
    const q = place('nohead.csv', '1704153600000,1.1,1.2\n1704153601000,1.1,1.3\n');
    const s = loadTicksSync(q, { ...js, header: false });
    expect(s.time).toEqual(f([JAN2, JAN2 + 1000]));
    expect(s.volume).toBeUndefined();
    expect(
      issuesOf(() => loadTicksSync(p, { ...js, columns: { time: 'when', bid: 1, ask: 2, volume: 'qty' } })),
    ).toEqual([{ path: p, message: "column 'qty' for volume is not in the header (columns: when, b, a, q)" }]);
    expect(issuesOf(() => loadTicksSync(q, { ...js, header: false, columns: { bid: 'b' } }))[0]?.message).toContain(
      'use an index',
    );
  });

  it('arrow: nanosecond timestamps truncated to ms', () => {
    const r = loadTicksSync(fx('ticks.arrow'), { engine: 'js' });
    expect(r.time).toEqual(f([JAN2, JAN2 + 250, JAN2 + 1000]));
    expect(r.bid).toEqual(f([1.10002, 1.10003, 1.1001]));
    expect(r.ask).toEqual(f([1.10012, 1.10013, 1.1002]));
    expect(r.volume).toEqual(f([1, 2.5, 0]));
    expect(r.report.format).toBe('arrow');
  });

  it('parquet (async only)', async () => {
    const r = await loadBars(fx('bars.parquet'));
    expect(r.timeframe).toBe('H1');
    expect(r.time).toEqual(f([JAN2, JAN2 + 3_600_000, JAN2 + 7_200_000]));
    expect(r.close).toEqual(f([1.1005, 1.1008, 1.1002]));
    expect(r.volume).toEqual(f([120, 98, 0]));
    expect(issuesOf(() => loadBarsSync(fx('bars.parquet')))[0]?.path).toBe('format');
  });

  it('async and sync give the same result', async () => {
    for (const name of ['dukascopy.csv', 'histdata.csv', 'mt5-ticks.csv', 'ticks-semicolon.csv']) {
      const a = await loadTicks(fx(name), js);
      const b = loadTicksSync(fx(name), js);
      expect({ ...a, report: { ...a.report, elapsedMs: 0 } }).toEqual({ ...b, report: { ...b.report, elapsedMs: 0 } });
    }
  });
});

describe('detection', () => {
  it('auto picks each format from the first line or the extension', () => {
    const formats: Record<string, string> = {
      'dukascopy.csv': 'dukascopy',
      'histdata.csv': 'histdata',
      'mt5-ticks.csv': 'mt5',
      'ticks-semicolon.csv': 'csv',
      'ticks.arrow': 'arrow',
    };
    for (const [name, format] of Object.entries(formats)) {
      expect(loadTicksSync(fx(name), js).report.format).toBe(format);
    }
  });

  it('a tick format loaded as bars is an error', () => {
    expect(issuesOf(() => loadBarsSync(fx('histdata.csv'), js))).toEqual([
      { path: fx('histdata.csv'), message: 'HistData files hold ticks, not bars' },
    ]);
    expect(issuesOf(() => loadBarsSync(fx('mt5-ticks.csv'), js))[0]?.message).toContain('no <OPEN> column');
  });

  it('time formats: auto decides from the first data row', () => {
    const s = place('secs.csv', 'time,bid,ask\n1704153600.5,1,2\n1704153601,1,2\n');
    expect(loadTicksSync(s, js).time).toEqual(f([JAN2 + 500, JAN2 + 1000]));
    const iso = place('iso.csv', 'time,bid,ask\n2024-01-02T00:00:00.1239Z,1,2\n2024.01.02 00:00:01,1,2\n');
    expect(loadTicksSync(iso, { ...js, timezone: '-05:00' }).time).toEqual(
      f([JAN2 + 123, JAN2 + 1000 + 5 * 3_600_000]),
    );
  });
});

describe('text grammars', () => {
  it('parses times with integer arithmetic', () => {
    expect(parseDatetime('2024-02-29', 0)).toBe(Date.UTC(2024, 1, 29));
    expect(parseDatetime('2023-02-29', 0)).toBeNull();
    expect(parseDatetime('1969-12-31T23:59:59.999', 0)).toBe(-1);
    expect(parseDatetime('20240102 000000999999', 0)).toBe(JAN2 + 999);
    expect(parseDatetime('2024-01-02 24:00', 0)).toBeNull();
    expect(parseDatetime('2024-01-02 12:00:00.', 0)).toBeNull();
    expect(parseDatetime('2024-01-02t12:00', 0)).toBeNull();
    expect(parseTime('1704153600', 'epoch-s', 0)).toBe(JAN2);
    expect(parseTime('1704153600.', 'epoch-s', 0)).toBeNull();
    expect(parseTime('-1', 'epoch-ms', 0)).toBeNull();
    expect(parseTime('99999999999999999', 'epoch-ms', 0)).toBeNull();
  });

  it('parses the number grammar only', () => {
    expect(parseNumber('1.')).toBe(1);
    expect(parseNumber('-.5e2')).toBe(-50);
    expect(parseNumber('1e999')).toBe(Number.POSITIVE_INFINITY);
    for (const bad of ['', '.', 'e5', '1e', '0x10', 'Infinity', 'NaN', '1,5', ' 1']) {
      expect(Number.isNaN(parseNumber(bad))).toBe(true);
    }
  });

  it('splits quoted fields', () => {
    expect(splitFields(' "a,b" , "x""y" ,z', ',')).toEqual(['a,b', 'x"y', 'z']);
    expect(splitFields('"1"x ,2', ',')).toEqual(['1x', '2']);
    expect(splitFields('"open,2', ',')).toEqual(['open,2']);
  });
});

describe('validation', () => {
  const badTicks = fx('bad-ticks.csv');
  const expectedTicks = [
    [3, 'unparseable', 'bid "abc" is not a number'],
    [4, 'unparseable', 'expected at least 4 fields, found 2'],
    [5, 'unparseable', 'expected at least 4 fields, found 2'],
    [6, 'unparseable', 'time "x1704153600400" is not a valid time'],
    [7, 'bad_price', 'bid 0 is not a positive finite price'],
    [8, 'bad_price', 'volume -1 is not a finite non-negative volume'],
    [9, 'crossed', 'ask 1.1003 is below bid 1.1005'],
    // Row 10 (800) is later than row 11 (700), which is not before the last kept row: row 10 is
    // the wild one, so rows 11 and 12 are kept.
    [10, 'time_backwards', "time 1704153600800 is later than the next row's 1704153600700 (row 11)"],
    [15, 'unparseable', 'volume "1x" is not a number'],
    [16, 'bad_price', 'ask -1.1003 is not a positive finite price'],
  ] as const;

  it("policy 'error': the first 10 problems with their rows, then the total", () => {
    const issues = issuesOf(() => loadTicksSync(badTicks, js));
    expect(issues).toEqual([
      ...expectedTicks.map(([row, reason, message]) => ({
        path: `${badTicks}:${row}`,
        message: `${reason}: ${message}`,
      })),
    ]);
  });

  it("policy 'skip': the same rows are dropped and counted", () => {
    const r = loadTicksSync(badTicks, { ...js, policy: 'skip' });
    expect(r.report.skipped.first).toEqual(expectedTicks.map(([row, reason, message]) => ({ row, reason, message })));
    expect(r.report.skipped.total).toBe(10);
    expect(r.report.skipped.byReason).toEqual({
      bad_price: 3,
      crossed: 1,
      time_backwards: 1,
      unparseable: 5,
    });
    expect(r.report.rowsRead).toBe(14);
    expect(r.report.rows).toBe(4);
    expect(r.time).toEqual(f([JAN2, JAN2 + 700, JAN2 + 800, JAN2 + 800]));
    expect(r.ask).toEqual(f([1.1002, 1.1003, 1.1003, 1.1004]));
  });

  it('bars: bad_bar, bad_price, duplicate, time_backwards, unparseable', () => {
    const p = fx('bad-bars.csv');
    const expected = [
      [3, 'bad_bar', 'high 1.0999 is below max(open, close) (1.1005)'],
      [4, 'bad_bar', 'low 1.1001 is above min(open, close) (1.1)'],
      [5, 'bad_bar', 'volume -5 is not a finite non-negative volume'],
      [6, 'bad_price', 'open -1.1 is not a positive finite price'],
      [8, 'duplicate', 'same time and values as row 7'],
      [10, 'time_backwards', "time 1704153840000 is earlier than the previous row's 1704153900000 (row 9)"],
      [11, 'unparseable', 'time "2024-02-30 00:06" is not a valid time'],
      [12, 'bad_bar', 'volume Infinity is not a finite non-negative volume'],
    ] as const;
    expect(issuesOf(() => loadBarsSync(p, js))).toEqual(
      expected.map(([row, reason, message]) => ({ path: `${p}:${row}`, message: `${reason}: ${message}` })),
    );
    const r = loadBarsSync(p, { ...js, policy: 'skip', timeframe: 'M1' });
    expect(r.report.skipped.first).toEqual(expected.map(([row, reason, message]) => ({ row, reason, message })));
    expect(r.time).toEqual(f([JAN2, JAN2 + 300_000, JAN2 + 300_000, JAN2 + 480_000]));
    expect(issuesOf(() => loadBarsSync(p, { ...js, policy: 'skip' }))[0]?.message).toContain(
      '180000 ms, is not a timeframe',
    );
  });

  it('empty files and option errors', () => {
    const e = place('empty.csv', '\n  \n');
    expect(issuesOf(() => loadTicksSync(e, js))).toEqual([
      { path: e, message: 'the file is empty (no non-blank line)' },
    ]);
    expect(issuesOf(() => loadTicksSync(fx('nope.csv'), js))).toEqual([
      { path: fx('nope.csv'), message: 'cannot read the file (ENOENT)' },
    ]);
    const bad: Array<[object, string]> = [
      [{ format: 'xlsx' }, 'options.format'],
      [{ timezone: 'Europe/Paris' }, 'options.timezone'],
      [{ timezone: '+2:00' }, 'options.timezone'],
      [{ columns: { price: 1 } }, 'options.columns.price'],
      [{ columns: { bid: -1 } }, 'options.columns.bid'],
      [{ gapMs: 0 }, 'options.gapMs'],
      [{ policy: 'ignore' }, 'options.policy'],
      [{ frobnicate: true }, 'options.frobnicate'],
    ];
    for (const [o, path] of bad) {
      expect(issuesOf(() => loadTicksSync(fx('dukascopy.csv'), o as never))[0]?.path).toBe(path);
    }
  });

  it('gaps use gapMs when given', () => {
    const r = loadTicksSync(fx('dukascopy.csv'), { ...js, gapMs: 500 });
    expect(r.report.gaps).toEqual({ thresholdMs: 500, count: 2, largestMs: 899000, largestAt: JAN2 + 900_000 });
  });
});

describe('cache', () => {
  it('the second load comes from the cache with identical columns', async () => {
    const p = place('dukascopy.csv');
    const a = loadTicksSync(p, { engine: 'js' });
    expect(a.report.fromCache).toBe(false);
    const b = loadTicksSync(p, { engine: 'js' });
    expect(b.report.fromCache).toBe(true);
    expect(b.time).toEqual(a.time);
    expect(b.bid).toEqual(a.bid);
    expect(b.ask).toEqual(a.ask);
    expect(b.volume).toEqual(a.volume);
    expect({ ...b.report, fromCache: false, elapsedMs: 0 }).toEqual({ ...a.report, elapsedMs: 0 });
    const c = await loadTicks(p, { engine: 'js' });
    expect(c.report.fromCache).toBe(true);
    expect(c.time).toEqual(a.time);
    // Reached by another spelling of the path, the report names the path as given.
    const relative = relativePath(process.cwd(), p);
    expect(loadTicksSync(relative, { engine: 'js' }).report).toMatchObject({ path: relative, fromCache: true });
  });

  it('is invalidated by the mtime and by options; cache: false neither reads nor writes', () => {
    const p = place('mt5-bars.csv');
    loadBarsSync(p, { engine: 'js' });
    expect(loadBarsSync(p, { engine: 'js' }).report.fromCache).toBe(true);
    utimesSync(p, new Date(), new Date(Date.now() + 5000));
    expect(loadBarsSync(p, { engine: 'js' }).report.fromCache).toBe(false);
    expect(loadBarsSync(p, { engine: 'js' }).report.fromCache).toBe(true);
    const other = loadBarsSync(p, { engine: 'js', timezone: '+02:00' });
    expect(other.report.fromCache).toBe(false);
    expect(other.time[0]).toBe(JAN2 - 7_200_000);
    expect(loadBarsSync(p, { engine: 'js', cache: false }).report.fromCache).toBe(false);
  });

  it('a corrupt or truncated cache is ignored and rewritten', () => {
    const p = place('dukascopy.csv');
    const a = loadTicksSync(p, { engine: 'js' });
    writeFileSync(cachePath(p), 'garbage\n');
    const b = loadTicksSync(p, { engine: 'js' });
    expect(b.report.fromCache).toBe(false);
    expect(b.time).toEqual(a.time);
    expect(loadTicksSync(p, { engine: 'js' }).report.fromCache).toBe(true);
    const bytes = readFileSync(cachePath(p));
    writeFileSync(cachePath(p), bytes.subarray(0, bytes.length - 8));
    expect(loadTicksSync(p, { engine: 'js' }).report.fromCache).toBe(false);
  });

  it('a read-only directory (or a cache path that cannot be written) still loads', () => {
    const dir = mkdtempSync(join(tmp, 'ro-'));
    const p = join(dir, 'histdata.csv');
    copyFileSync(fx('histdata.csv'), p);
    chmodSync(dir, 0o555);
    try {
      expect(loadTicksSync(p, { engine: 'js' }).report.rows).toBe(3);
      expect(loadTicksSync(p, { engine: 'js' }).report.rows).toBe(3);
    } finally {
      chmodSync(dir, 0o755);
    }
    const q = place('histdata.csv');
    mkdirSync(cachePath(q));
    expect(loadTicksSync(q, { engine: 'js' }).report.fromCache).toBe(false);
    expect(loadTicksSync(q, { engine: 'js' }).report.fromCache).toBe(false);
  });
});

/** UTF-16 bytes of a text with its byte order mark. */
function utf16(text: string, bigEndian: boolean): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const body = bigEndian ? Buffer.from(le).swap16() : le;
  return Buffer.concat([Buffer.from(bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]), body]);
}

/** A file of raw bytes in a temporary directory of its own. */
function placeBytes(name: string, bytes: Uint8Array): string {
  const p = join(mkdtempSync(join(tmp, 'b-')), name);
  writeFileSync(p, bytes);
  return p;
}

describe('real-world input (js parser)', () => {
  const cols = (d: object) => Object.fromEntries(Object.entries(d).filter(([k]) => k !== 'report'));

  it('UTF-16 files load like UTF-8 ones, sync and async, both byte orders', async () => {
    const a = loadTicksSync(fx('mt5-ticks.csv'), js);
    const b = loadTicksSync(fx('mt5-ticks-utf16.csv'), js);
    expect(cols(b)).toEqual(cols(a));
    expect(b.report).toMatchObject({ format: 'mt5', rows: a.report.rows, rowsRead: a.report.rowsRead });
    expect(cols(await loadTicks(fx('mt5-ticks-utf16.csv'), js))).toEqual(cols(a));

    const long = 'x'.repeat(70_000);
    const text = `time,bid,ask,note\n${JAN2},1.1,1.2,é\n${JAN2 + 100},1.1,1.2,${long}\r\n${JAN2 + 200},1.1,1.3,𝄞\n`;
    const plain = loadTicksSync(place('u8.csv', text), js);
    for (const be of [false, true]) {
      const p = placeBytes('u16.csv', utf16(text, be));
      expect(cols(loadTicksSync(p, js))).toEqual(cols(plain));
      expect(cols(await loadTicks(p, js))).toEqual(cols(plain));
    }
    const p = placeBytes('u16.csv', utf16(`time,bid,ask\n\n${JAN2},1.1,x\n`, false));
    expect(issuesOf(() => loadTicksSync(p, js))).toEqual([
      { path: `${p}:3`, message: 'unparseable: ask "x" is not a number' },
    ]);
    const bom = placeBytes('bom.csv', Buffer.from([0xff, 0xfe]));
    expect(issuesOf(() => loadTicksSync(bom, js))[0]?.message).toBe('the file is empty (no non-blank line)');
  });

  it('binary and CR-only files are refused with one clear error', () => {
    const cases: Array<[number[] | string, object, string]> = [
      [[0x1f, 0x8b, 8, 0, 0, 0], {}, 'not a text file (looks like gzip)'],
      ['ARROW1\0\0', { format: 'csv' }, 'not a text file (looks like Arrow)'],
      [[0xff, 0xff, 0xff, 0xff, 0x10, 0], { format: 'mt5' }, 'not a text file (looks like Arrow)'],
      [[0x50, 0x41, 0x52, 0x31, 0x15, 4], { format: 'dukascopy' }, 'not a text file (looks like Parquet)'],
      ['\n\ntime,bid\0,ask\n1,1,1\n', {}, 'not a text file (looks like binary data)'],
      ['t\0i\0m\0e\0\n\0', {}, 'not a text file (looks like binary data)'],
      [`time,bid,ask\r${JAN2},1,2\r`, {}, 'lines end with CR only; convert them to LF or CRLF'],
    ];
    for (const [bytes, o, message] of cases) {
      const p = placeBytes('bin.csv', typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes));
      expect(issuesOf(() => loadTicksSync(p, { ...js, ...o }))).toEqual([{ path: p, message }]);
    }
    expect(issuesOf(() => loadTicksSync(place('short.csv', 'PAR'), js))[0]?.message).toBe(
      'the header has no time column (columns: par)',
    );
    const nul = place('nul.csv', `time,bid,ask\n${JAN2},1,2\n17041536000\u000000,1,2\n`);
    expect(loadTicksSync(nul, { ...js, policy: 'skip' }).report).toMatchObject({ rows: 1, skipped: { total: 1 } });
  });

  it('Dukascopy JForex (day-first dates) and dukascopy-node (no volumes) headers', () => {
    const r = loadTicksSync(fx('dukascopy-jforex.csv'), js);
    const utc = Date.UTC;
    expect(r.report.format).toBe('dukascopy');
    expect(r.time).toEqual(
      f([utc(2024, 0, 1, 22, 0, 0, 123), utc(2024, 0, 1, 22, 0, 0, 456), utc(2024, 0, 2, 0, 0, 1)]),
    );
    expect(r.bid).toEqual(f([1.1039, 1.10391, 1.104]));
    expect(r.volume).toEqual(f([2.1, 2.25, 5]));
    const g = loadTicksSync(
      place('g.csv', 'GMT TIME , ASK,Bid,askvolume,BIDVOLUME\n02.01.2024 00:00,1.2,1.1,1,1\n'),
      js,
    );
    expect([g.report.format, g.time[0]]).toEqual(['dukascopy', JAN2]);

    const n = loadTicksSync(fx('dukascopy-node.csv'), js);
    expect(n.report.format).toBe('dukascopy');
    expect(n.time).toEqual(f([JAN2, JAN2 + 250, JAN2 + 1000]));
    expect(n.volume).toBeUndefined();
    const p = place('n.csv', `timestamp,askPrice,bidPrice\n${JAN2},1.2\n`);
    expect(issuesOf(() => loadTicksSync(p, { ...js, format: 'dukascopy' }))).toEqual([
      { path: `${p}:2`, message: 'unparseable: expected at least 3 fields, found 2' },
    ]);
  });

  it('day-first dates DD.MM.YYYY', () => {
    expect(parseDatetime('02.01.2024', 0)).toBe(JAN2);
    expect(parseDatetime('01.01.2024 22:00:00.123', 0)).toBe(Date.UTC(2024, 0, 1, 22, 0, 0, 123));
    expect(parseDatetime('29.02.2024T23:59:59Z', 3_600_000)).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
    expect(parseDatetime('02.01.2024 000000', 0)).toBe(JAN2);
    expect(parseDatetime('02.01.2024 02:00', 7_200_000)).toBe(JAN2);
    for (const bad of ['30.02.2024', '02.13.2024', '2.01.2024', '02.01.24', '02-01-2024', '02.01.2024x']) {
      expect(parseTime(bad, 'datetime', 0), bad).toBeNull();
    }
  });

  it('one wild time does not drop the rest under skip', () => {
    const rows = (times: number[]) => `time,bid,ask\n${times.map((t) => `${t},1.1,1.2\n`).join('')}`;
    const future = JAN2 + 1e10;
    const p = place('wild.csv', rows([JAN2, JAN2 + 1, future, JAN2 + 2, JAN2 + 3, JAN2 + 4]));
    const r = loadTicksSync(p, { ...js, policy: 'skip' });
    expect(r.time).toEqual(f([JAN2, JAN2 + 1, JAN2 + 2, JAN2 + 3, JAN2 + 4]));
    const message = "time 1714153600000 is later than the next row's 1704153600002 (row 5)";
    expect(r.report.skipped).toEqual({
      total: 1,
      byReason: { time_backwards: 1 },
      first: [{ row: 4, reason: 'time_backwards', message }],
    });
    expect(issuesOf(() => loadTicksSync(p, js))).toEqual([{ path: `${p}:4`, message: `time_backwards: ${message}` }]);

    const back = loadTicksSync(place('back.csv', rows([JAN2 + 1, JAN2 + 2, JAN2, JAN2 + 3])), {
      ...js,
      policy: 'skip',
    });
    expect(back.time).toEqual(f([JAN2 + 1, JAN2 + 2, JAN2 + 3]));
    expect(back.report.skipped.first[0]?.message).toBe(
      "time 1704153600000 is earlier than the previous row's 1704153600002 (row 3)",
    );
    const skip = { ...js, policy: 'skip' as const };
    expect(loadTicksSync(place('w1.csv', rows([future, JAN2, JAN2 + 1])), skip).time).toEqual(f([JAN2, JAN2 + 1]));
    expect(loadTicksSync(place('w2.csv', rows([JAN2, JAN2 + 1, future])), skip).time).toEqual(
      f([JAN2, JAN2 + 1, future]),
    );
    const mixed = loadTicksSync(place('w3.csv', `${rows([JAN2, future])}x,1,1\n${JAN2 + 2},1.1,1.2\n`), skip);
    expect(mixed.time).toEqual(f([JAN2, future]));
    expect(mixed.report.skipped.first.map((s) => [s.row, s.reason])).toEqual([
      [4, 'unparseable'],
      [5, 'time_backwards'],
    ]);
  });

  it('MT5 trade-only ticks (no bid, no ask) are incomplete', () => {
    const h = '<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n';
    const data = `${h}2024.01.02\t00:00:00.100\t1.1000\t1.1002\t\t\t6
2024.01.02\t00:00:00.200\t\t\t1.1001\t3\t88
2024.01.02\t00:00:00.300\t\t1.1003\t\t\t4
2024.01.02\t00:00:00.400\t\t\t1.1002\t1\t88
`;
    const r = loadTicksSync(place('t.csv', data), js);
    expect(r.time).toEqual(f([JAN2 + 100, JAN2 + 300]));
    expect(r.ask).toEqual(f([1.1002, 1.1003]));
    expect(r.report).toMatchObject({ rowsRead: 4, rows: 2, incomplete: 2, skipped: { total: 0 } });
    const wild = `<DATE>\t<TIME>\t<BID>\t<ASK>
2024.01.02\t00:00:00.100\t1.1\t1.2
2024.03.02\t00:00:00.200\t1.1\t1.2
2024.01.02\t00:00:00.250\t\t
2024.01.02\t00:00:00.300\t1.1\t1.2
`;
    const w = loadTicksSync(place('w.csv', wild), { ...js, policy: 'skip' });
    expect(w.time).toEqual(f([JAN2 + 100, JAN2 + 300]));
    expect([w.report.incomplete, w.report.skipped.first[0]?.row]).toEqual([1, 3]);
  });
});
