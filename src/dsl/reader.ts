/**
 * The reader: DSL text to forms. Lists `( )`, vectors `[ ]`, maps `{ }`, keywords `:k`, strings,
 * numbers (integers, decimals, a sign, an exponent), `true` `false` `nil`, symbols, `;` comments,
 * and commas as whitespace. A syntax error throws a DslError with the file, line and column.
 *
 * Hand-written rather than generated: the grammar is a dozen token kinds, and a direct scanner
 * gives exact locations and one clear message per mistake, which is what the checker builds on.
 */

import { LIMITS } from '../ir/limits.js';
import type { Form, Loc } from './ast.js';
import { DslError, diagnosticAt } from './errors.js';

export interface ReadOptions {
  /** Shown in every location (default `<input>`). */
  file?: string;
  /** Keep `;` comments as `comment` forms (the formatter needs them). */
  comments?: boolean;
}

/**
 * Deeper nesting than this is refused with an error instead of exhausting the stack: room for an
 * expression as deep as the strategy limit allows (checked on the IR, at the form it comes from)
 * inside the forms around it (`defstrategy`, `when`, `cond`, an order's options).
 */
export const MAX_DEPTH = LIMITS.expressionDepth + 8;

const DELIMS = new Set(['(', ')', '[', ']', '{', '}', '"', ';']);
const CLOSE_OF: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const KIND_OF = { '(': 'list', '[': 'vector', '{': 'map' } as const;
const NUMBER = /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/;
/** What a symbol starts with. */
export const SYMBOL_START = /^[A-Za-z_*+!\-?<>=/.&%$]/;

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',' || c === '\f' || c === '\v';
}

class Reader {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  constructor(
    private readonly src: string,
    private readonly file: string,
    private readonly comments: boolean,
  ) {}

  private loc(start: number, line: number, column: number): Loc {
    return { file: this.file, line, column, start, end: this.pos };
  }

  private fail(start: number, line: number, column: number, message: string, hint?: string): never {
    const loc: Loc = { file: this.file, line, column, start, end: Math.max(this.pos, start + 1) };
    throw new DslError([diagnosticAt(loc, message, hint)], this.src);
  }

  private advance(): string {
    const c = this.src[this.pos] as string;
    this.pos++;
    if (c === '\n') {
      this.line++;
      this.lineStart = this.pos;
    }
    return c;
  }

  /** Skips whitespace; returns a comment form when one is met and comments are kept. */
  private skip(): Form | null {
    while (this.pos < this.src.length) {
      const c = this.src[this.pos] as string;
      if (isSpace(c)) {
        this.advance();
      } else if (c === ';') {
        const start = this.pos;
        const line = this.line;
        const column = start - this.lineStart + 1;
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
        if (this.comments) {
          const text = this.src.slice(start, this.pos).replace(/^;+ ?/, '').trimEnd();
          return { kind: 'comment', text, loc: this.loc(start, line, column) };
        }
      } else {
        return null;
      }
    }
    return null;
  }

  readAll(): Form[] {
    const out: Form[] = [];
    for (;;) {
      const comment = this.skip();
      if (comment) {
        out.push(comment);
        continue;
      }
      if (this.pos >= this.src.length) return out;
      const c = this.src[this.pos] as string;
      if (c === ')' || c === ']' || c === '}') {
        const column = this.pos - this.lineStart + 1;
        const line = this.line;
        const start = this.pos;
        this.advance();
        this.fail(start, line, column, `unexpected \`${c}\` with nothing open`, 'remove it or add the opening bracket');
      }
      out.push(this.readForm(0));
    }
  }

  private readForm(depth: number): Form {
    const start = this.pos;
    const line = this.line;
    const column = start - this.lineStart + 1;
    const c = this.src[this.pos] as string;
    if (c === '(' || c === '[' || c === '{') return this.readColl(c, depth, start, line, column);
    if (c === '"') return this.readString(start, line, column);
    // A token: everything up to whitespace or a delimiter.
    while (this.pos < this.src.length) {
      const d = this.src[this.pos] as string;
      if (isSpace(d) || DELIMS.has(d)) break;
      this.pos++;
    }
    const text = this.src.slice(start, this.pos);
    const loc = this.loc(start, line, column);
    if (text.startsWith(':')) {
      const name = text.slice(1);
      if (name === '' || name.includes(':')) this.fail(start, line, column, `invalid keyword \`${text}\``);
      return { kind: 'keyword', name, loc };
    }
    if (/^[+-]?\.\d/.test(text)) {
      const fixed = text.replace('.', '0.');
      this.fail(start, line, column, `invalid number \`${text}\``, `write \`${fixed}\``);
    }
    if (/^[+-]?\d/.test(text)) {
      if (!NUMBER.test(text)) {
        this.fail(start, line, column, `invalid number \`${text}\``, 'write numbers as 12, -3.5 or 1.5e-3');
      }
      const value = Number(text);
      if (!Number.isFinite(value)) this.fail(start, line, column, `number \`${text}\` is out of range`);
      return { kind: 'number', value, text, loc };
    }
    if (text === 'true' || text === 'false') return { kind: 'boolean', value: text === 'true', loc };
    if (text === 'nil') return { kind: 'nil', loc };
    if (!SYMBOL_START.test(text)) {
      this.fail(start, line, column, `unexpected character \`${text[0] ?? ''}\``);
    }
    return { kind: 'symbol', name: text, loc };
  }

  private readColl(open: '(' | '[' | '{', depth: number, start: number, line: number, column: number): Form {
    if (depth >= MAX_DEPTH) this.fail(start, line, column, `nesting deeper than ${MAX_DEPTH} levels`);
    this.advance();
    const close = CLOSE_OF[open] as string;
    const items: Form[] = [];
    for (;;) {
      const comment = this.skip();
      if (comment) {
        items.push(comment);
        continue;
      }
      if (this.pos >= this.src.length) {
        this.pos = start + 1;
        this.fail(start, line, column, `\`${open}\` is never closed`, `add \`${close}\``);
      }
      const c = this.src[this.pos] as string;
      if (c === close) {
        this.advance();
        break;
      }
      if (c === ')' || c === ']' || c === '}') {
        const l = this.line;
        const col = this.pos - this.lineStart + 1;
        const s = this.pos;
        this.pos++;
        this.fail(s, l, col, `\`${c}\` closes \`${open}\` opened at ${line}:${column}`, `expected \`${close}\``);
      }
      items.push(this.readForm(depth + 1));
    }
    const kind = KIND_OF[open];
    const loc = this.loc(start, line, column);
    if (kind === 'map') {
      const entries = items.filter((f) => f.kind !== 'comment');
      if (entries.length % 2 !== 0) {
        const last = entries[entries.length - 1] as Form;
        throw new DslError(
          [
            diagnosticAt(
              last.loc,
              'a map needs a value for every key; this key has none',
              'add the value or remove the key',
            ),
          ],
          this.src,
        );
      }
    }
    return { kind, items, loc };
  }

  private readString(start: number, line: number, column: number): Form {
    this.advance();
    let value = '';
    for (;;) {
      if (this.pos >= this.src.length) {
        this.pos = start + 1;
        this.fail(start, line, column, 'string is never closed', 'add the closing `"`');
      }
      const c = this.advance();
      if (c === '"') break;
      if (c !== '\\') {
        value += c;
        continue;
      }
      const escStart = this.pos - 1;
      const escLine = this.line;
      const escCol = escStart - this.lineStart + 1;
      const e = this.pos < this.src.length ? this.advance() : '';
      if (e === 'n') value += '\n';
      else if (e === 't') value += '\t';
      else if (e === 'r') value += '\r';
      else if (e === '"' || e === '\\') value += e;
      else if (e === 'u') {
        const hex = this.src.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex))
          this.fail(escStart, escLine, escCol, 'invalid `\\u` escape: four hex digits expected');
        this.pos += 4;
        value += String.fromCharCode(Number.parseInt(hex, 16));
      } else {
        this.fail(
          escStart,
          escLine,
          escCol,
          `invalid escape \`\\${e}\` in a string`,
          'use \\n \\t \\r \\" \\\\ or \\uXXXX',
        );
      }
    }
    return { kind: 'string', value, loc: this.loc(start, line, column) };
  }
}

/** Reads every top-level form of `source`. Throws DslError on a syntax error. */
export function read(source: string, options: ReadOptions = {}): Form[] {
  return new Reader(source, options.file ?? '<input>', options.comments ?? false).readAll();
}
