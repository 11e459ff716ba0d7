/** Feeding a file to the TypeScript CSV parser: streamed (async) or read in chunks (sync). */

import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ValidationError } from '../../errors.js';
import { type CsvFormat, CsvParser } from './csv.js';
import type { Resolved } from './options.js';
import { finish, type Loaded } from './report.js';

const CHUNK = 1 << 20;
/** How many leading bytes decide the encoding or refuse a binary file. */
const HEAD = 6;

/** What the first bytes of a CSV-like input say: an encoding, or what a binary file looks like. */
export function sniff(head: Uint8Array): 'utf8' | 'utf16le' | 'utf16be' | { binary: string } {
  const at = (bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (at([0xff, 0xfe])) return 'utf16le';
  if (at([0xfe, 0xff])) return 'utf16be';
  if (at([0x1f, 0x8b])) return { binary: 'gzip' };
  if (at([0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]) || at([0xff, 0xff, 0xff, 0xff])) return { binary: 'Arrow' };
  if (at([0x50, 0x41, 0x52, 0x31])) return { binary: 'Parquet' };
  return 'utf8';
}

/**
 * Bytes to text: the first bytes are held until `HEAD` of them (or the end) decide between UTF-8,
 * UTF-16 LE or BE (by the byte order mark, which is dropped) and a refused binary file. UTF-16 BE
 * is byte-swapped and decoded as LE, an odd byte waiting for its pair.
 */
class BytesToText {
  private head: Buffer = Buffer.alloc(0);
  private decoder: StringDecoder | null = null;
  private bigEndian = false;
  private odd: Buffer | null = null;

  constructor(private readonly file: string) {}

  write(bytes: Uint8Array): string {
    if (this.decoder === null) {
      this.head = Buffer.concat([this.head, bytes]);
      return this.head.length < HEAD ? '' : this.start();
    }
    return this.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  end(): string {
    const text = this.decoder === null ? this.start() : '';
    return text + (this.decoder as StringDecoder).end();
  }

  private start(): string {
    const kind = sniff(this.head);
    if (typeof kind === 'object') throw ValidationError.at(this.file, `not a text file (looks like ${kind.binary})`);
    this.decoder = new StringDecoder(kind === 'utf8' ? 'utf8' : 'utf16le');
    this.bigEndian = kind === 'utf16be';
    const rest = kind === 'utf8' ? this.head : this.head.subarray(2);
    this.head = Buffer.alloc(0);
    return this.decode(rest);
  }

  private decode(bytes: Buffer): string {
    const decoder = this.decoder as StringDecoder;
    if (!this.bigEndian) return decoder.write(bytes);
    const all = this.odd === null ? Buffer.from(bytes) : Buffer.concat([this.odd, bytes]);
    const even = all.length & ~1;
    this.odd = even < all.length ? all.subarray(even) : null;
    return decoder.write(all.subarray(0, even).swap16());
  }
}

const READ_CODES = ['ENOENT', 'EACCES', 'EISDIR'];

/** `FILE: cannot read the file (CODE)`, CODE ENOENT, EACCES, EISDIR, else EIO. */
export function readError(file: string, e: unknown): ValidationError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const shown = code !== undefined && READ_CODES.includes(code) ? code : 'EIO';
  return ValidationError.at(file, `cannot read the file (${shown})`);
}

export function parseCsvSync(file: string, opts: Resolved, format: CsvFormat | 'auto'): Loaded {
  const parser = new CsvParser(file, opts, format);
  const decoder = new BytesToText(file);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw readError(file, e);
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, CHUNK, null);
      } catch (e) {
        throw readError(file, e);
      }
      if (n === 0) break;
      parser.feed(decoder.write(buf.subarray(0, n)));
    }
    parser.feed(decoder.end());
  } finally {
    closeSync(fd);
  }
  const r = parser.end();
  return finish(file, r.format, opts, r.collector);
}

export async function parseCsv(file: string, opts: Resolved, format: CsvFormat | 'auto'): Promise<Loaded> {
  const parser = new CsvParser(file, opts, format);
  const decoder = new BytesToText(file);
  const stream = createReadStream(file, { highWaterMark: CHUNK });
  try {
    for await (const chunk of stream) parser.feed(decoder.write(chunk as Buffer));
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    throw readError(file, e);
  } finally {
    stream.destroy();
  }
  parser.feed(decoder.end());
  const r = parser.end();
  return finish(file, r.format, opts, r.collector);
}

/** A stream's chunks (Buffers or strings), as the TypeScript CSV parser reads them. */
export type ChunkSource = AsyncIterable<Buffer | Uint8Array | string>;

/** Parses CSV text from a stream; `name` stands for the file in every message. */
export async function parseCsvStream(
  name: string,
  chunks: ChunkSource,
  opts: Resolved,
  format: CsvFormat | 'auto',
  first?: Uint8Array,
): Promise<Loaded> {
  const parser = new CsvParser(name, opts, format);
  const decoder = new BytesToText(name);
  if (first !== undefined) parser.feed(decoder.write(first));
  try {
    for await (const chunk of chunks) {
      parser.feed(decoder.write(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk));
    }
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    throw ValidationError.at(name, `cannot read the stream: ${e instanceof Error ? e.message : String(e)}`);
  }
  parser.feed(decoder.end());
  const r = parser.end();
  return finish(name, r.format, opts, r.collector);
}
