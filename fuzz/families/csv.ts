/**
 * CSV bytes: valid tick and bar files (the test fixtures and generated ones) with bytes flipped,
 * tokens inserted, lines duplicated, swapped or cut; loaded by the native and the TypeScript
 * loaders under both policies (sync, and for some cases async and as a stream), which must give
 * the same columns or both throw a TickforgeError.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadBars, loadBarsSync, loadTicks, loadTicksSync, TickforgeError } from '../../dist/index.js';
import { attempt, attemptAsync, foreign, type Outcome, summary } from '../outcome.js';
import { caseRng, type Rng } from '../prng.js';
import type { Failure, Family } from '../types.js';

type Kind = 'ticks' | 'bars';
type Loaded = Record<string, unknown> & { report: { rows: number; skipped: { total: number }; timeframe?: string } };

const FIXTURES = fileURLToPath(new URL('../../__test__/fixtures/data/', import.meta.url));
const FILES: readonly [string, Kind][] = [
  ['bad-ticks.csv', 'ticks'],
  ['dukascopy-jforex.csv', 'ticks'],
  ['dukascopy-node.csv', 'ticks'],
  ['dukascopy.csv', 'ticks'],
  ['histdata.csv', 'ticks'],
  ['mt5-ticks.csv', 'ticks'],
  ['mt5-ticks-utf16.csv', 'ticks'],
  ['ticks-semicolon.csv', 'ticks'],
  ['bad-bars.csv', 'bars'],
  ['bars.csv', 'bars'],
  ['mt5-bars.csv', 'bars'],
];

function generatedTicks(): Buffer {
  const lines = ['time,bid,ask,volume'];
  for (let i = 0; i < 60; i++) {
    const bid = 1.1 + 0.0001 * ((i * 37) % 11);
    lines.push(`${1_704_153_600_000 + i * 250},${bid.toFixed(5)},${(bid + 0.00012).toFixed(5)},${i % 4}`);
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

function generatedBars(): Buffer {
  const lines = ['time,open,high,low,close,volume'];
  for (let i = 0; i < 40; i++) {
    const o = 1.1 + 0.0001 * ((i * 17) % 9);
    lines.push(
      `2024-01-02 ${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')},${o.toFixed(5)},${(o + 0.0005).toFixed(5)},${(o - 0.0004).toFixed(5)},${(o + 0.0001).toFixed(5)},${i}`,
    );
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

let seeds: { name: string; kind: Kind; bytes: Buffer }[] | undefined;
function seedFiles() {
  seeds ??= [
    ...FILES.map(([name, kind]) => ({ name, kind, bytes: readFileSync(join(FIXTURES, name)) })),
    { name: 'generated-ticks.csv', kind: 'ticks' as const, bytes: generatedTicks() },
    { name: 'generated-bars.csv', kind: 'bars' as const, bytes: generatedBars() },
  ];
  return seeds;
}

const TOKENS = [
  ',',
  ';',
  '\t',
  '\n',
  '\r\n',
  '\r',
  '"',
  '""',
  'NaN',
  'nan',
  'Infinity',
  '-inf',
  '-0',
  '0',
  '1e308',
  '1e309',
  '-1e309',
  '5e-324',
  '2.4703282292062328e-324',
  '\uFEFF',
  '\0',
  '9'.repeat(400),
  '0.'.padEnd(500, '1'),
  '.',
  'e',
  '-',
  '+',
  ' ',
  '2024-02-30 25:61:61',
  '2024.13.01',
  '99999999999999999999',
  '-99999999999999999999',
  '1704153600000',
  '17041536000000000',
  '<DATE>',
  '\u00e9',
  '💥',
];
/** Bytes that are not UTF-8: a lone surrogate's encoding, a stray continuation, 0xFF. */
const RAW = [Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0x80]), Buffer.from([0xff, 0xfe]), Buffer.from([0xc3])];

function lineStarts(b: Buffer): number[] {
  const out = [0];
  for (let i = 0; i < b.length; i++) if (b[i] === 0x0a && i + 1 < b.length) out.push(i + 1);
  return out;
}

function mutate(b: Buffer, rng: Rng): Buffer {
  const pos = () => rng.int(b.length + 1);
  const r = rng.int(12);
  if (r < 1 && b.length > 0) {
    const c = Buffer.from(b);
    c[rng.int(c.length)] = rng.int(256);
    return c;
  }
  if (r < 4) {
    const p = pos();
    const tok = rng.chance(0.15) ? rng.pick(RAW) : Buffer.from(rng.pick(TOKENS));
    return Buffer.concat([b.subarray(0, p), tok, b.subarray(p)]);
  }
  if (r < 5) {
    const p = pos();
    return Buffer.concat([b.subarray(0, p), b.subarray(Math.min(b.length, p + 1 + rng.int(20)))]);
  }
  const starts = lineStarts(b);
  const line = (i: number) => b.subarray(starts[i], starts[i + 1] ?? b.length);
  if (r < 7) {
    // A line repeated: equal timestamps, up to a few thousand of them.
    const i = rng.int(starts.length);
    const times = rng.pick([1, 2, 10, 2000]);
    const l = line(i);
    const rep = Buffer.concat(
      Array.from({ length: times }, () => (l.at(-1) === 0x0a ? l : Buffer.concat([l, Buffer.from('\n')]))),
    );
    return Buffer.concat([b.subarray(0, starts[i]), rep, b.subarray(starts[i])]);
  }
  if (r < 8 && starts.length > 2) {
    // Two lines swapped: times out of order.
    const i = 1 + rng.int(starts.length - 2);
    const a = line(i);
    const c = line(i + 1);
    const cFixed = c.at(-1) === 0x0a ? c : Buffer.concat([c, Buffer.from('\n')]);
    return Buffer.concat([b.subarray(0, starts[i]), cFixed, a, b.subarray(starts[i + 2] ?? b.length)]);
  }
  if (r < 9) return b.subarray(0, pos());
  if (r < 10) {
    // One field of a line replaced by a token.
    const s = b.toString('latin1');
    const fields = [...s.matchAll(/[^,;\t\r\n]+/g)];
    if (fields.length === 0) return b;
    const f = rng.pick(fields);
    const at = f.index ?? 0;
    return Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(TOKENS)), b.subarray(at + f[0].length)]);
  }
  if (r < 11) return Buffer.alloc(0);
  // Only the header, or only the first data lines.
  return b.subarray(0, starts[Math.min(starts.length - 1, 1 + rng.int(3))] ?? b.length);
}

interface Built {
  name: string;
  kind: Kind;
  bytes: Buffer;
  options: Record<string, unknown>;
  asyncToo: boolean;
}

export function build(seed: number, k: number): Built {
  const rng = caseRng('csv', seed, k);
  const s = rng.pick(seedFiles());
  let bytes = s.bytes;
  const n = rng.int(4);
  for (let i = 0; i < n; i++) bytes = mutate(bytes, rng);
  const options: Record<string, unknown> = { cache: false };
  if (rng.chance(0.15)) options.format = rng.pick(['csv', 'mt5', 'dukascopy', 'histdata']);
  if (rng.chance(0.1)) options.timeFormat = rng.pick(['epoch-ms', 'epoch-s', 'datetime']);
  if (rng.chance(0.05)) options.timezone = rng.pick(['EST', '+02:00', '-05:00', '+99:00']);
  if (s.kind === 'bars' && rng.chance(0.2)) options.timeframe = rng.pick(['M1', 'M5', 'H1', 'D1']);
  if (rng.chance(0.05)) options.gapMs = rng.pick([0, 1, 1e300]);
  return { name: s.name, kind: s.kind, bytes, options, asyncToo: rng.chance(0.1) };
}

const COLUMNS = { ticks: ['time', 'bid', 'ask', 'volume'], bars: ['time', 'open', 'high', 'low', 'close', 'volume'] };

/** The first way two loads differ, or null. */
function diff(kind: Kind, a: Loaded, b: Loaded): string | null {
  for (const c of COLUMNS[kind]) {
    const x = a[c] as Float64Array | undefined;
    const y = b[c] as Float64Array | undefined;
    if ((x === undefined) !== (y === undefined))
      return `column ${c}: ${x ? 'only the first' : 'only the second'} has it`;
    if (!x || !y) continue;
    if (x.length !== y.length) return `column ${c}: ${x.length} rows vs ${y.length}`;
    for (let i = 0; i < x.length; i++) {
      if (!Object.is(x[i], y[i])) return `${c}[${i}]: ${x[i]} vs ${y[i]}`;
    }
  }
  if (a.report.skipped.total !== b.report.skipped.total) {
    return `skipped ${a.report.skipped.total} vs ${b.report.skipped.total}`;
  }
  if (a.report.timeframe !== b.report.timeframe) return `timeframe ${a.report.timeframe} vs ${b.report.timeframe}`;
  return null;
}

function agree(label: string, kind: Kind, a: Outcome<Loaded>, b: Outcome<Loaded>): Failure | null {
  const f = foreign(`${label} (first)`, a) ?? foreign(`${label} (second)`, b);
  if (f) return f;
  if (a.ok && b.ok) {
    const d = diff(kind, a.value, b.value);
    return d ? { kind: 'disagree', detail: `${label}: ${d}` } : null;
  }
  if (!a.ok && !b.ok && a.error instanceof TickforgeError && b.error instanceof TickforgeError) return null;
  return { kind: 'disagree', detail: `${label}: ${summary(a)} / ${summary(b)}` };
}

let dir: string | undefined;
function caseFile(name: string): string {
  dir ??= join(tmpdir(), `tickforge-fuzz-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

function chunks(bytes: Buffer, rng: Rng): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < bytes.length) {
    const n = 1 + rng.int(64);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

export const csvFamily: Family = {
  name: 'csv',
  async run(seed, k): Promise<Failure | null> {
    const c = build(seed, k);
    const file = caseFile(c.name);
    writeFileSync(file, c.bytes);
    const sync = c.kind === 'ticks' ? loadTicksSync : loadBarsSync;
    const load = c.kind === 'ticks' ? loadTicks : loadBars;
    for (const policy of ['error', 'skip'] as const) {
      const o = (engine: 'native' | 'js') => ({ ...c.options, policy, engine });
      const native = attempt(() => sync(file, o('native') as never) as unknown as Loaded);
      const js = attempt(() => sync(file, o('js') as never) as unknown as Loaded);
      const f = agree(`${policy} sync native/js`, c.kind, native, js);
      if (f) return f;
      if (!c.asyncToo) continue;
      const an = await attemptAsync(async () => (await load(file, o('native') as never)) as unknown as Loaded);
      const aj = await attemptAsync(async () => (await load(file, o('js') as never)) as unknown as Loaded);
      const rng = caseRng('csv-stream', seed, k);
      const st = await attemptAsync(
        async () => (await load(Readable.from(chunks(c.bytes, rng)), o('js') as never)) as unknown as Loaded,
      );
      const g =
        agree(`${policy} async native/js`, c.kind, an, aj) ??
        agree(`${policy} native sync/async`, c.kind, native, an) ??
        agree(`${policy} js file/stream`, c.kind, js, st);
      if (g) return g;
    }
    return null;
  },
  describe(seed, k) {
    const c = build(seed, k);
    const text = JSON.stringify(c.bytes.toString('latin1'));
    return `${c.kind} from ${c.name}, options ${JSON.stringify(c.options)}, ${c.bytes.length} bytes (latin1): ${text.length > 3000 ? `${text.slice(0, 3000)}...` : text}`;
  },
};
