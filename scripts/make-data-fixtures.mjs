// Writes the Arrow and Parquet fixtures of __test__/fixtures/data (their expected columns are in
// __test__/load.test.ts). Run: node scripts/make-data-fixtures.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Float64, makeData, makeVector, Table, TimestampNanosecond, tableToIPC, vectorFromArray } from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', '__test__', 'fixtures', 'data');

// ticks.arrow: a nanosecond Timestamp column (sub-millisecond digits are truncated on load).
const ns = [1704153600000123456n, 1704153600250999999n, 1704153601000000000n];
const time = makeVector(makeData({ type: new TimestampNanosecond(), length: ns.length, data: BigInt64Array.from(ns) }));
const ticks = new Table({
  time,
  bid: vectorFromArray([1.10002, 1.10003, 1.1001], new Float64()),
  ask: vectorFromArray([1.10012, 1.10013, 1.1002], new Float64()),
  volume: vectorFromArray([1, 2.5, 0], new Float64()),
});
writeFileSync(join(out, 'ticks.arrow'), tableToIPC(ticks, 'file'));

// bars.parquet: TIMESTAMP_MILLIS times, H1 bars.
const h = 3_600_000;
const t0 = 1704153600000;
const buf = parquetWriteBuffer({
  columnData: [
    {
      name: 'Time',
      data: [BigInt(t0), BigInt(t0 + h), BigInt(t0 + 2 * h)],
      type: 'INT64',
      converted_type: 'TIMESTAMP_MILLIS',
    },
    { name: 'Open', data: [1.1, 1.1005, 1.1008], type: 'DOUBLE' },
    { name: 'High', data: [1.101, 1.1012, 1.1009], type: 'DOUBLE' },
    { name: 'Low', data: [1.099, 1.1001, 1.1], type: 'DOUBLE' },
    { name: 'Close', data: [1.1005, 1.1008, 1.1002], type: 'DOUBLE' },
    { name: 'Volume', data: [120, 98, 0], type: 'DOUBLE' },
  ],
});
writeFileSync(join(out, 'bars.parquet'), new Uint8Array(buf));
console.log('wrote ticks.arrow and bars.parquet to', out);
