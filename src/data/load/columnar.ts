/**
 * Arrow IPC and Parquet files (docs/data.md sections 2 and 6): columns found by name as in `csv`,
 * times as Timestamp (any unit, to ms truncated toward zero), Date or epoch-ms numbers, the values
 * checked by the same Collector as the CSV formats.
 */

import { readFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { ValidationError } from '../../errors.js';
import { Collector } from './collector.js';
import { asciiLower } from './csv.js';
import type { Resolved } from './options.js';
import { readError } from './read.js';
import { finish, type Loaded } from './report.js';

const TIME_NAMES = ['time', 'timestamp', 'date', 'datetime'];

/** One column: the value of row i as a number, or null for a null or an unsupported value. */
type Getter = (i: number) => number | null | undefined;

interface Source {
  names: string[];
  rows: number;
  column(index: number): Getter;
}

function pick(file: string, opts: Resolved, fieldNames: string[]): Record<string, number> {
  const names = fieldNames.map(asciiLower);
  const listing = () => names.join(', ');
  const cols = opts.columns ?? {};
  const roles =
    opts.kind === 'ticks' ? ['time', 'bid', 'ask', 'volume'] : ['time', 'open', 'high', 'low', 'close', 'volume'];
  const idx: Record<string, number> = {};
  for (const role of roles) {
    const ref = cols[role];
    let k = -1;
    if (typeof ref === 'number') {
      k = ref;
      if (k >= names.length) {
        throw ValidationError.at(file, `column ${String(ref)} for ${role} is not in the file (columns: ${listing()})`);
      }
    } else if (typeof ref === 'string') {
      k = names.indexOf(asciiLower(ref));
      if (k < 0)
        throw ValidationError.at(file, `column '${ref}' for ${role} is not in the header (columns: ${listing()})`);
    } else {
      for (const d of role === 'time' ? TIME_NAMES : [role]) {
        k = names.indexOf(d);
        if (k >= 0) break;
      }
      if (k < 0 && role !== 'volume') {
        throw ValidationError.at(file, `the header has no ${role} column (columns: ${listing()})`);
      }
    }
    if (k >= 0) idx[role] = k;
  }
  return idx;
}

function collect(file: string, format: string, opts: Resolved, src: Source): Loaded {
  const idx = pick(file, opts, src.names);
  const hasVolume = idx.volume !== undefined;
  const c = new Collector(opts.kind, opts.kind === 'bars' || hasVolume);
  const time = src.column(idx.time as number);
  const order =
    opts.kind === 'ticks'
      ? hasVolume
        ? ['bid', 'ask', 'volume']
        : ['bid', 'ask']
      : hasVolume
        ? ['open', 'high', 'low', 'close', 'volume']
        : ['open', 'high', 'low', 'close'];
  const getters = order.map((n) => src.column(idx[n] as number));
  const v = [0, 0, 0, 0, 0];
  rows: for (let i = 0; i < src.rows; i++) {
    const row = i + 1;
    c.rowsRead++;
    const t = time(i);
    if (t === null || t === undefined) {
      c.problem(row, 'unparseable', 'time is null');
      continue;
    }
    for (let k = 0; k < getters.length; k++) {
      const x = (getters[k] as Getter)(i);
      if (x === null || x === undefined) {
        c.problem(row, 'unparseable', `${order[k] as string} is null`);
        continue rows;
      }
      v[k] = x;
    }
    if (opts.kind === 'ticks') c.tick(row, t, v[0] as number, v[1] as number, hasVolume ? (v[2] as number) : 0);
    else
      c.bar(row, t, v[0] as number, v[1] as number, v[2] as number, v[3] as number, hasVolume ? (v[4] as number) : 0);
  }
  return finish(file, format, opts, c);
}

// ---------------------------------------------------------------- Arrow

const NS_PER_UNIT = [1000n, 1n, 1000n, 1000000n]; // divisors to ms of SECOND (multiplier), MILLI, MICRO, NANO

interface ArrowVector {
  length: number;
  type: { typeId: number; unit?: number };
  data: Array<{ length: number; offset: number; values: ArrayLike<unknown>; getValid(i: number): boolean }>;
  get(i: number): unknown;
}

function arrowGetter(vec: ArrowVector, Type: Record<string, number>): Getter {
  const typeId = vec.type.typeId;
  const unit = vec.type.unit ?? 1;
  const chunkOf = (i: number): [ArrowVector['data'][number], number] => {
    let j = i;
    for (const d of vec.data) {
      if (j < d.length) return [d, j];
      j -= d.length;
    }
    throw new RangeError('row out of range');
  };
  if (typeId === Type.Timestamp) {
    return (i) => {
      const [d, j] = chunkOf(i);
      if (!d.getValid(j)) return null;
      const raw = d.values[d.offset + j];
      const b = typeof raw === 'bigint' ? raw : BigInt(raw as number);
      if (unit === 0) return Number(b * 1000n);
      return Number(b / (NS_PER_UNIT[unit] as bigint));
    };
  }
  return (i) => {
    const x = vec.get(i);
    if (x === null || x === undefined) return null;
    if (typeof x === 'number') return x;
    if (typeof x === 'bigint') return Number(x);
    if (x instanceof Date) return x.getTime();
    return null;
  };
}

export async function loadArrow(file: string, opts: Resolved): Promise<Loaded> {
  return loadArrowSync(file, opts);
}

export function loadArrowSync(file: string, opts: Resolved): Loaded {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw readError(file, e);
  }
  return arrowFromBytes(file, bytes, opts);
}

/** An Arrow IPC file or stream already in memory; `file` names it in messages. */
export function arrowFromBytes(file: string, bytes: Uint8Array, opts: Resolved): Loaded {
  let table: { numRows: number; schema: { fields: Array<{ name: string }> }; getChildAt(i: number): unknown };
  try {
    table = arrow.tableFromIPC(bytes) as typeof table;
  } catch (e) {
    throw ValidationError.at(file, `not an Arrow IPC file (${e instanceof Error ? e.message : String(e)})`);
  }
  const src: Source = {
    names: table.schema.fields.map((f) => f.name),
    rows: table.numRows,
    column: (k) => arrowGetter(table.getChildAt(k) as ArrowVector, arrow.Type as unknown as Record<string, number>),
  };
  return collect(file, 'arrow', opts, src);
}

// ---------------------------------------------------------------- Parquet

interface ParquetElement {
  name: string;
  converted_type?: string;
  logical_type?: { type?: string; unit?: string };
}

/** The divisor from a 64-bit timestamp column's unit to ms (1 for ms or plain integers). */
function parquetDivisor(e: ParquetElement): bigint {
  const unit = e.logical_type?.type === 'TIMESTAMP' ? e.logical_type.unit : undefined;
  if (unit === 'NANOS') return 1000000n;
  if (unit === 'MICROS' || e.converted_type === 'TIMESTAMP_MICROS') return 1000n;
  return 1n;
}

function parquetValue(x: unknown, divisor: bigint): number | null {
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint') return Number(x / divisor);
  if (x instanceof Date) return x.getTime();
  return null;
}

export async function loadParquet(file: string, opts: Resolved, bytes?: Uint8Array): Promise<Loaded> {
  const hp = await import('hyparquet');
  let rows: Record<string, unknown>[];
  let names: string[];
  let elements: ParquetElement[] = [];
  try {
    const buffer =
      bytes === undefined
        ? await hp.asyncBufferFromFile(file)
        : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const metadata = await hp.parquetMetadataAsync(buffer);
    elements = hp.parquetSchema(metadata).children.map((c: { element: ParquetElement }) => c.element);
    names = elements.map((e) => e.name);
    rows = (await hp.parquetReadObjects({ file: buffer, metadata })) as Record<string, unknown>[];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== undefined) throw readError(file, e);
    throw ValidationError.at(file, `not a Parquet file (${e instanceof Error ? e.message : String(e)})`);
  }
  const src: Source = {
    names,
    rows: rows.length,
    column: (k) => {
      const name = names[k] as string;
      const divisor = parquetDivisor(elements[k] as ParquetElement);
      return (i) => parquetValue((rows[i] as Record<string, unknown>)[name], divisor);
    },
  };
  return collect(file, 'parquet', opts, src);
}
