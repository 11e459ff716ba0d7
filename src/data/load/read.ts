/** Feeding a file to the TypeScript CSV parser: streamed (async) or read in chunks (sync). */

import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ValidationError } from '../../errors.js';
import { type CsvFormat, CsvParser } from './csv.js';
import type { Resolved } from './options.js';
import { finish, type Loaded } from './report.js';

const CHUNK = 1 << 20;

const READ_CODES = ['ENOENT', 'EACCES', 'EISDIR'];

/** `FILE: cannot read the file (CODE)`, CODE ENOENT, EACCES, EISDIR, else EIO. */
export function readError(file: string, e: unknown): ValidationError {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  const shown = code !== undefined && READ_CODES.includes(code) ? code : 'EIO';
  return ValidationError.at(file, `cannot read the file (${shown})`);
}

export function parseCsvSync(file: string, opts: Resolved, format: CsvFormat | 'auto'): Loaded {
  const parser = new CsvParser(file, opts, format);
  const decoder = new StringDecoder('utf8');
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
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK });
  try {
    for await (const chunk of stream) parser.feed(chunk as string);
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    throw readError(file, e);
  } finally {
    stream.destroy();
  }
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
  const decoder = new StringDecoder('utf8');
  if (first !== undefined) parser.feed(decoder.write(Buffer.from(first)));
  try {
    for await (const chunk of chunks) {
      parser.feed(typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk)));
    }
  } catch (e) {
    if (e instanceof ValidationError) throw e;
    throw ValidationError.at(name, `cannot read the stream: ${e instanceof Error ? e.message : String(e)}`);
  }
  parser.feed(decoder.end());
  const r = parser.end();
  return finish(name, r.format, opts, r.collector);
}
