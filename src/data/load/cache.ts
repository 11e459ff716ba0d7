/**
 * The column cache beside a CSV-like file (docs/data.md sections 5 and 6): `FILE.tfcache`, a JSON
 * header line padded to 8 bytes, then the columns as little-endian float64.
 */

import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { logger } from '../../log.js';
import type { Columns, Loaded } from './report.js';
import type { LoadReport } from './types.js';

export const CACHE_VERSION = 1;

interface Header {
  version: number;
  size: number;
  mtimeMs: number;
  fingerprint: string;
  kind: string;
  columns: string[];
  rows: number;
  report: LoadReport;
}

export interface SourceStamp {
  size: number;
  mtimeMs: number;
}

export function cachePath(file: string): string {
  return `${file}.tfcache`;
}

export function fingerprint(optionsJson: string): string {
  return createHash('sha256').update(optionsJson).digest('hex');
}

export function stamp(file: string): SourceStamp | null {
  try {
    const st = statSync(file);
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}

const LE = endianness() === 'LE';

function column(buf: Buffer, offset: number, rows: number): Float64Array {
  const at = buf.byteOffset + offset;
  if (LE && at % 8 === 0) return new Float64Array(buf.buffer, at, rows);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = buf.readDoubleLE(offset + i * 8);
  return out;
}

/** The cached columns and report when the cache matches the source and options, else null. */
export function readCache(file: string, src: SourceStamp, fp: string): Loaded | null {
  let buf: Buffer;
  try {
    buf = readFileSync(cachePath(file));
  } catch {
    return null;
  }
  try {
    const nl = buf.indexOf(10);
    if (nl < 0 || (nl + 1) % 8 !== 0) return null;
    const h = JSON.parse(buf.toString('utf8', 0, nl)) as Header;
    if (
      h.version !== CACHE_VERSION ||
      h.size !== src.size ||
      h.mtimeMs !== src.mtimeMs ||
      h.fingerprint !== fp ||
      !Array.isArray(h.columns) ||
      !Number.isInteger(h.rows) ||
      h.rows < 0 ||
      typeof h.report !== 'object' ||
      h.report === null
    ) {
      return null;
    }
    const start = nl + 1;
    if (buf.length !== start + h.columns.length * h.rows * 8) return null;
    const columns: Columns = {};
    h.columns.forEach((name, k) => {
      columns[name] = column(buf, start + k * h.rows * 8, h.rows);
    });
    return { columns, report: h.report };
  } catch {
    return null;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Writes the cache (through a temporary file and a rename); a failure is logged only. */
export function writeCache(file: string, src: SourceStamp, fp: string, loaded: Loaded): void {
  const names = Object.keys(loaded.columns);
  const rows = loaded.report.rows;
  const header: Header = {
    version: CACHE_VERSION,
    size: src.size,
    mtimeMs: src.mtimeMs,
    fingerprint: fp,
    kind: loaded.report.kind,
    columns: names,
    rows,
    report: { ...loaded.report, fromCache: false },
  };
  let head = JSON.stringify(header);
  const len = Buffer.byteLength(head) + 1;
  head = `${head}${' '.repeat((8 - (len % 8)) % 8)}\n`;
  const target = cachePath(file);
  const tmp = `${target}.${String(process.pid)}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    writeAll(fd, Buffer.from(head));
    for (const name of names) {
      const col = loaded.columns[name] as Float64Array;
      if (LE) {
        writeAll(fd, new Uint8Array(col.buffer, col.byteOffset, col.byteLength));
      } else {
        const b = Buffer.allocUnsafe(col.length * 8);
        for (let i = 0; i < col.length; i++) b.writeDoubleLE(col[i] as number, i * 8);
        writeAll(fd, b);
      }
    }
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing was written
    }
    logger().warn({ path: target, err: e instanceof Error ? e.message : String(e) }, 'could not write the data cache');
  }
}
