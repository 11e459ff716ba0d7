/**
 * Loading from streams: the same columns and report as from the file, whatever the chunking, for
 * CSV-like formats (parsed as they arrive) and for Arrow and Parquet (detected by magic bytes).
 */
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { loadBars, loadTicks } from '../src/index.js';

const FIX = join(import.meta.dirname, 'fixtures', 'data');

/** The file's bytes in chunks of `size` (splitting lines, fields and UTF-8 sequences anywhere). */
function chunked(file: string, size: number): Readable {
  const bytes = readFileSync(join(FIX, file));
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

const columnsOf = (d: object) =>
  Object.fromEntries(Object.entries(d).filter(([k]) => k !== 'report' && k !== 'symbol' && k !== 'timeframe'));

describe('loading from a stream', () => {
  it.each([
    'dukascopy.csv',
    'histdata.csv',
    'mt5-ticks.csv',
    'ticks-semicolon.csv',
    'mt5-ticks-utf16.csv',
    'dukascopy-jforex.csv',
    'dukascopy-node.csv',
  ])('%s gives the file load’s columns and counts, in any chunking', async (file) => {
    const fromFile = await loadTicks(join(FIX, file), { engine: 'js', cache: false });
    for (const size of [1, 7, 4096]) {
      const fromStream = await loadTicks(chunked(file, size), { name: file });
      expect(columnsOf(fromStream)).toEqual(columnsOf(fromFile));
      expect(fromStream.report).toMatchObject({
        path: file,
        format: fromFile.report.format,
        rows: fromFile.report.rows,
        rowsRead: fromFile.report.rowsRead,
        engine: 'js',
        fromCache: false,
      });
    }
  });

  it('reads bars from an fs stream and Arrow and Parquet by their magic bytes', async () => {
    const bars = await loadBars(createReadStream(join(FIX, 'mt5-bars.csv')));
    const barsFile = await loadBars(join(FIX, 'mt5-bars.csv'), { cache: false });
    expect(columnsOf(bars)).toEqual(columnsOf(barsFile));
    expect(bars.timeframe).toBe(barsFile.timeframe);

    const arrow = await loadTicks(chunked('ticks.arrow', 100));
    expect(columnsOf(arrow)).toEqual(columnsOf(await loadTicks(join(FIX, 'ticks.arrow'))));
    expect(arrow.report.format).toBe('arrow');

    const parquet = await loadBars(chunked('bars.parquet', 64));
    expect(columnsOf(parquet)).toEqual(columnsOf(await loadBars(join(FIX, 'bars.parquet'))));
    expect(parquet.report.format).toBe('parquet');
  });

  it('decodes UTF-16 streams by their byte order mark, split anywhere', async () => {
    const fromFile = await loadTicks(join(FIX, 'mt5-ticks.csv'), { engine: 'js', cache: false });
    const le = readFileSync(join(FIX, 'mt5-ticks-utf16.csv'));
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(le.subarray(2)).swap16()]);
    for (const bytes of [le, be]) {
      for (const size of [1, 3, 5]) {
        const parts: Uint8Array[] = [];
        for (let i = 0; i < bytes.length; i += size) parts.push(new Uint8Array(bytes.subarray(i, i + size)));
        const r = await loadTicks(Readable.from(parts));
        expect(columnsOf(r)).toEqual(columnsOf(fromFile));
        expect(r.report).toMatchObject({ format: 'mt5', rows: fromFile.report.rows });
      }
    }
  });

  it('refuses binary streams up front', async () => {
    const cases: Array<[Buffer[], object, string]> = [
      [[Buffer.from([0x1f]), Buffer.from([0x8b, 8, 0])], {}, 'feed: not a text file (looks like gzip)'],
      [[Buffer.from('PAR1\u0015\u0004')], { format: 'csv' }, 'feed: not a text file (looks like Parquet)'],
      [[Buffer.from('ARROW1\0\0')], { format: 'dukascopy' }, 'feed: not a text file (looks like Arrow)'],
      [[Buffer.from('time,bid\0,ask\n')], {}, 'feed: not a text file (looks like binary data)'],
      [[Buffer.from('time,bid,ask\r1,1,1\r')], {}, 'feed: lines end with CR only; convert them to LF or CRLF'],
    ];
    for (const [parts, o, message] of cases) {
      const e = await loadTicks(Readable.from(parts), { name: 'feed', ...o }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).message).toBe(message);
    }
  });

  it('names the stream in row errors, and reports a failing stream', async () => {
    const bad = Readable.from([Buffer.from('time,bid,ask\n1704067200000,1.1,1.0\n')]);
    const e = await loadTicks(bad, { name: 'feed', format: 'csv' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ValidationError);
    expect((e as ValidationError).issues[0]?.path).toBe('feed:2');

    const broken = new Readable({
      read() {
        this.destroy(new Error('socket hang up'));
      },
    });
    const e2 = await loadTicks(broken).catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(ValidationError);
    expect((e2 as ValidationError).message).toContain('<stream>: cannot read the stream: socket hang up');
  });
});
