/**
 * The pure-TypeScript parser of the CSV-like formats (docs/data.md sections 2, 3 and 6), the twin
 * of crates/core/src/load: text is fed in chunks, each complete physical line is split and checked
 * as it arrives.
 */

import { ValidationError } from '../../errors.js';
import { Collector } from './collector.js';
import type { Delimiter, Resolved } from './options.js';
import { decideTimeKind, parseNumber, parseTime, type TimeKind } from './time.js';
import type { TimeFormat } from './types.js';

export type CsvFormat = 'dukascopy' | 'histdata' | 'mt5' | 'csv';

const EST_MS = -5 * 3_600_000;
const TIME_NAMES = ['time', 'timestamp', 'date', 'datetime'];
/** Dukascopy headers, lower-cased: with ask and bid volumes, then without volumes. */
const DUKASCOPY_HEADERS = [
  ['time', 'ask', 'bid', 'ask_volume', 'bid_volume'],
  ['timestamp', 'askprice', 'bidprice', 'askvolume', 'bidvolume'],
  ['gmt time', 'ask', 'bid', 'askvolume', 'bidvolume'],
  ['timestamp', 'askprice', 'bidprice'],
];
const HISTDATA_LINE = /^\d{8} \d{9},/;

/** ASCII-only lower case, as Rust's `to_ascii_lowercase`. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** Whether c is trimmed around fields: a space or a tab that is not the delimiter. */
function isTrim(c: number, d: number): boolean {
  return (c === 32 || c === 9) && c !== d;
}

function trim(s: string, d: number): string {
  const n = s.length;
  if (n === 0 || (!isTrim(s.charCodeAt(0), d) && !isTrim(s.charCodeAt(n - 1), d))) return s;
  let a = 0;
  let b = n;
  while (a < b && isTrim(s.charCodeAt(a), d)) a++;
  while (b > a && isTrim(s.charCodeAt(b - 1), d)) b--;
  return s.slice(a, b);
}

/**
 * The fields of one line. Unquoted fields are trimmed of spaces and tabs; a field whose trimmed
 * text starts with `"` runs to the closing `"` (`""` is one `"`, the end of the line closes it)
 * and the trimmed text after the closing quote up to the delimiter is appended.
 */
export function splitFields(line: string, delim: Delimiter): string[] {
  const d = delim.charCodeAt(0);
  if (line.indexOf('"') < 0) {
    const parts = line.split(delim);
    for (let k = 0; k < parts.length; k++) parts[k] = trim(parts[k] as string, d);
    return parts;
  }
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    while (i < n && isTrim(line.charCodeAt(i), d)) i++;
    let text = '';
    if (i < n && line.charCodeAt(i) === 34) {
      i++;
      let from = i;
      while (i < n) {
        if (line.charCodeAt(i) === 34) {
          text += line.slice(from, i);
          if (i + 1 < n && line.charCodeAt(i + 1) === 34) {
            text += '"';
            i += 2;
            from = i;
          } else {
            i++;
            from = -1;
            break;
          }
        } else {
          i++;
        }
      }
      if (from >= 0) text += line.slice(from, n);
      const tail = i;
      while (i < n && line.charCodeAt(i) !== d) i++;
      text += trim(line.slice(tail, i), d);
    } else {
      const start = i;
      while (i < n && line.charCodeAt(i) !== d) i++;
      text = trim(line.slice(start, i), d);
    }
    out.push(text);
    if (i < n) i++;
    else return out;
  }
}

/** The format `auto` picks from the first non-blank line (the extension rule is applied before). */
export function detectFormat(firstLine: string): CsvFormat {
  if (firstLine.startsWith('<DATE>')) return 'mt5';
  if (isDukascopyHeader(firstLine)) return 'dukascopy';
  if (HISTDATA_LINE.test(firstLine)) return 'histdata';
  return 'csv';
}

function headerNames(line: string, delim: Delimiter): string[] {
  return splitFields(line, delim).map(asciiLower);
}

/** The Dukascopy header `line` is, if any: true when it has the two volume columns, else null. */
function dukascopyHeader(line: string): boolean | null {
  const names = headerNames(line, ',');
  const h = DUKASCOPY_HEADERS.find((h) => h.length === names.length && h.every((name, k) => names[k] === name));
  return h === undefined ? null : h.length === 5;
}

function isDukascopyHeader(line: string): boolean {
  return dukascopyHeader(line) !== null;
}

/** The delimiter of `csv` when not given: the most frequent in the first line, ties in order `,` `;` tab. */
export function detectDelimiter(firstLine: string): Delimiter {
  let best: Delimiter = ',';
  let bestCount = 0;
  for (const d of [',', ';', '\t'] as const) {
    const c = firstLine.split(d).length - 1;
    if (c > bestCount) {
      best = d;
      bestCount = c;
    }
  }
  return best;
}

/** How each data row of a resolved file is read. */
interface Plan {
  format: CsvFormat;
  delim: Delimiter;
  /** Whether the first non-blank line is a header. */
  header: boolean;
  /** The time field, or MT5's date and time fields (time -1: none). */
  time: number;
  timeOfDay: number | null;
  timeFormat: TimeFormat;
  offsetMs: number;
  /** Prices in output order: bid, ask or open, high, low, close. */
  prices: Array<[string, number]>;
  /** 'none' (ticks without volume), 'zero' (bars without volume), a field, or Dukascopy's two. */
  volume: 'none' | 'zero' | number | [number, number];
  carry: boolean;
  minFields: number;
}

function withMinFields(p: Omit<Plan, 'minFields'>): Plan {
  let max = Math.max(p.time, p.timeOfDay ?? 0);
  for (const [, i] of p.prices) max = Math.max(max, i);
  if (typeof p.volume === 'number') max = Math.max(max, p.volume);
  else if (Array.isArray(p.volume)) max = Math.max(max, p.volume[0], p.volume[1]);
  return { ...p, minFields: max + 1 };
}

function plan(file: string, first: string, o: Resolved, requested: CsvFormat | 'auto'): Plan {
  const format = requested === 'auto' ? detectFormat(first) : requested;
  const offsetMs = o.offsetMs ?? 0;
  const err = (m: string) => ValidationError.at(file, m);
  const ticksOnly = (name: string) => {
    if (o.kind === 'bars') throw err(`${name} files hold ticks, not bars`);
  };
  if (format === 'dukascopy') {
    ticksOnly('Dukascopy');
    const volumes = dukascopyHeader(first);
    if (volumes === null) {
      throw err(`the first line "${first}" is not a Dukascopy header (time,ask,bid,ask_volume,bid_volume)`);
    }
    return {
      format,
      delim: ',',
      header: true,
      time: 0,
      timeOfDay: null,
      timeFormat: o.timeFormat,
      offsetMs,
      prices: [
        ['bid', 2],
        ['ask', 1],
      ],
      volume: volumes ? [3, 4] : 'none',
      carry: false,
      minFields: volumes ? 5 : 3,
    };
  }
  if (format === 'histdata') {
    ticksOnly('HistData');
    return {
      format,
      delim: ',',
      header: false,
      time: 0,
      timeOfDay: null,
      timeFormat: 'datetime',
      offsetMs: o.offsetMs ?? EST_MS,
      prices: [
        ['bid', 1],
        ['ask', 2],
      ],
      volume: 3,
      carry: false,
      minFields: 4,
    };
  }
  if (format === 'mt5') {
    const names = headerNames(first, '\t');
    const find = (n: string) => names.indexOf(n);
    const need = (n: string): number => {
      const k = find(n);
      if (k < 0) {
        throw err(`the MT5 header has no ${n.toUpperCase()} column (header: ${first.replaceAll('\t', ' ')})`);
      }
      return k;
    };
    const date = need('<date>');
    if (o.kind === 'ticks') {
      const prices: Array<[string, number]> = [
        ['bid', need('<bid>')],
        ['ask', need('<ask>')],
      ];
      const time = need('<time>');
      return withMinFields({
        format,
        delim: '\t',
        header: true,
        time: date,
        timeOfDay: time,
        timeFormat: 'datetime',
        offsetMs,
        prices,
        volume: 'none',
        carry: true,
      });
    }
    const prices: Array<[string, number]> = [
      ['open', need('<open>')],
      ['high', need('<high>')],
      ['low', need('<low>')],
      ['close', need('<close>')],
    ];
    const volume = need('<tickvol>');
    const time = find('<time>');
    return withMinFields({
      format,
      delim: '\t',
      header: true,
      time: date,
      timeOfDay: time >= 0 ? time : null,
      timeFormat: 'datetime',
      offsetMs,
      prices,
      volume,
      carry: false,
    });
  }
  return csvPlan(file, first, o, offsetMs);
}

function csvPlan(file: string, first: string, o: Resolved, offsetMs: number): Plan {
  const delim = o.delimiter ?? detectDelimiter(first);
  const names = headerNames(first, delim);
  const roles =
    o.kind === 'ticks' ? ['time', 'bid', 'ask', 'volume'] : ['time', 'open', 'high', 'low', 'close', 'volume'];
  const cols = o.columns ?? {};
  const listing = () => names.join(', ');
  const index: Array<number | null> = [];
  roles.forEach((role, pos) => {
    const ref = cols[role];
    let col: number | null;
    if (typeof ref === 'number') col = ref;
    else if (typeof ref === 'string') {
      if (!o.header) {
        throw ValidationError.at(
          file,
          `column '${ref}' for ${role} is named, but the file has no header (header: false); use an index`,
        );
      }
      const k = names.indexOf(asciiLower(ref));
      if (k < 0)
        throw ValidationError.at(file, `column '${ref}' for ${role} is not in the header (columns: ${listing()})`);
      col = k;
    } else if (o.header) {
      const defaults = role === 'time' ? TIME_NAMES : [role];
      col = null;
      for (const d of defaults) {
        const k = names.indexOf(d);
        if (k >= 0) {
          col = k;
          break;
        }
      }
    } else {
      col = role === 'volume' && names.length <= pos ? null : pos;
    }
    if (col === null && role !== 'volume') {
      throw ValidationError.at(file, `the header has no ${role} column (columns: ${listing()})`);
    }
    index.push(col);
  });
  const v = index[roles.length - 1] ?? null;
  const prices = roles.slice(1, -1).map((r, k): [string, number] => [r, index[k + 1] ?? 0]);
  return withMinFields({
    format: 'csv',
    delim,
    header: o.header,
    time: index[0] ?? 0,
    timeOfDay: null,
    timeFormat: o.timeFormat,
    offsetMs,
    prices,
    volume: v !== null ? v : o.kind === 'ticks' ? 'none' : 'zero',
    carry: false,
  });
}

export interface CsvResult {
  format: CsvFormat;
  collector: Collector;
}

/** Parses one file fed as text chunks; `end()` returns the collected rows. */
export class CsvParser {
  private carry = '';
  private lineNo = 0;
  private plan: Plan | null = null;
  private collector: Collector | null = null;
  private timeKind: TimeKind | null = null;
  private readonly carried: Array<number | null> = [null, null, null, null];
  private readonly prices = [0, 0, 0, 0];
  private readonly given = [true, true, true, true];

  constructor(
    private readonly file: string,
    private readonly opts: Resolved,
    private readonly format: CsvFormat | 'auto',
  ) {}

  feed(text: string): void {
    let start = 0;
    let nl = text.indexOf('\n');
    if (nl < 0) {
      this.carry += text;
      return;
    }
    if (this.carry.length > 0) {
      this.line(this.carry + text.slice(0, nl), true);
      this.carry = '';
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    while (nl >= 0) {
      this.line(text.slice(start, nl), true);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.carry = text.slice(start);
  }

  end(): CsvResult {
    if (this.carry.length > 0) this.line(this.carry, false);
    this.carry = '';
    if (this.plan === null) throw ValidationError.at(this.file, 'the file is empty (no non-blank line)');
    return { format: this.plan.format, collector: this.collector as Collector };
  }

  private line(raw: string, ended: boolean): void {
    this.lineNo++;
    let text = ended && raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (this.lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (isBlank(text)) return;
    const row = this.lineNo;
    if (this.plan === null) {
      if (text.includes('\0')) throw ValidationError.at(this.file, 'not a text file (looks like binary data)');
      if (text.includes('\r'))
        throw ValidationError.at(this.file, 'lines end with CR only; convert them to LF or CRLF');
      const p = plan(this.file, text, this.opts, this.format);
      this.plan = p;
      if (p.timeFormat !== 'auto') this.timeKind = p.timeFormat;
      this.collector = new Collector(this.opts.kind, p.volume !== 'none');
      if (p.header) return;
    }
    this.row(text, row);
  }

  private row(line: string, row: number): void {
    const p = this.plan as Plan;
    const c = this.collector as Collector;
    c.rowsRead++;
    const f = splitFields(line, p.delim);
    if (f.length < p.minFields) {
      c.problem(row, 'unparseable', `expected at least ${String(p.minFields)} fields, found ${String(f.length)}`);
      return;
    }
    const timeText =
      p.timeOfDay === null ? (f[p.time] as string) : `${f[p.time] as string} ${f[p.timeOfDay] as string}`;
    if (this.timeKind === null) this.timeKind = decideTimeKind(timeText);
    const t = parseTime(timeText, this.timeKind, p.offsetMs);
    if (t === null) {
      c.problem(row, 'unparseable', `time "${timeText}" is not a valid time`);
      return;
    }
    const prices = this.prices;
    const given = this.given;
    for (let k = 0; k < p.prices.length; k++) {
      const [name, i] = p.prices[k] as [string, number];
      const text = f[i] as string;
      if (p.carry && text.length === 0) {
        given[k] = false;
        continue;
      }
      given[k] = true;
      const x = parseNumber(text);
      if (Number.isNaN(x)) {
        c.problem(row, 'unparseable', `${name} "${text}" is not a number`);
        return;
      }
      prices[k] = x;
    }
    let volume = 0;
    const vol = p.volume;
    if (typeof vol === 'number') {
      const text = f[vol] as string;
      volume = parseNumber(text);
      if (Number.isNaN(volume)) {
        c.problem(row, 'unparseable', `volume "${text}" is not a number`);
        return;
      }
    } else if (Array.isArray(vol)) {
      const at = f[vol[0]] as string;
      const av = parseNumber(at);
      if (Number.isNaN(av)) {
        c.problem(row, 'unparseable', `ask_volume "${at}" is not a number`);
        return;
      }
      const bt = f[vol[1]] as string;
      const bv = parseNumber(bt);
      if (Number.isNaN(bv)) {
        c.problem(row, 'unparseable', `bid_volume "${bt}" is not a number`);
        return;
      }
      volume = av + bv;
    }
    if (p.carry) {
      let any = false;
      for (let k = 0; k < p.prices.length; k++) if (given[k]) any = true;
      if (!any) {
        c.incomplete++;
        return;
      }
      let complete = true;
      for (let k = 0; k < p.prices.length; k++) {
        if (given[k]) this.carried[k] = prices[k] as number;
        else {
          const v = this.carried[k] as number | null;
          if (v === null) complete = false;
          else prices[k] = v;
        }
      }
      if (!complete) {
        c.incomplete++;
        return;
      }
    }
    if (c.kind === 'ticks') c.tick(row, t, prices[0] as number, prices[1] as number, volume);
    else c.bar(row, t, prices[0] as number, prices[1] as number, prices[2] as number, prices[3] as number, volume);
  }
}
