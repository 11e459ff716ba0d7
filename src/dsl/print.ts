/**
 * The canonical printer: forms to text. A form that fits in the line width and holds no comment
 * is printed on one line; otherwise a list keeps its head (and its first argument, when that is
 * an atom or fits on the line) on the first line and puts each further argument on its own line, indented two columns;
 * vectors and maps put each item (each key with its value) on its own line under the first.
 * A keyword followed by its value stays on one line. Comments are kept, each on a line of its own.
 * Printing what this prints gives the same text again.
 */
import type { Form } from './ast.js';

export interface PrintOptions {
  /** Target line width (default 80). */
  width?: number;
}

function escapeString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function atom(form: Form): string {
  switch (form.kind) {
    case 'number':
      return form.text;
    case 'string':
      return escapeString(form.value);
    case 'keyword':
      return `:${form.name}`;
    case 'symbol':
      return form.name;
    case 'boolean':
      return form.value ? 'true' : 'false';
    case 'nil':
      return 'nil';
    case 'comment':
      return form.text === '' ? ';' : `; ${form.text}`;
    default:
      throw new Error(`not an atom: ${form.kind}`);
  }
}

const OPEN = { list: '(', vector: '[', map: '{' } as const;
const CLOSE = { list: ')', vector: ']', map: '}' } as const;

function isColl(form: Form): form is Extract<Form, { kind: 'list' | 'vector' | 'map' }> {
  return form.kind === 'list' || form.kind === 'vector' || form.kind === 'map';
}

/**
 * The one-line text of a form if it is at most `budget` characters long and holds no comment, else
 * null. It stops as soon as the budget is spent, so asking at every level of a deep or wide tree
 * costs the line width, not the size of the subtree.
 */
function flat(form: Form, budget: number): string | null {
  if (form.kind === 'comment') return null;
  if (!isColl(form)) {
    const t = atom(form);
    return t.length <= budget ? t : null;
  }
  let left = budget - 2;
  if (left < 0) return null;
  const parts: string[] = [];
  for (const item of form.items) {
    if (parts.length > 0) left--;
    const t = flat(item, left);
    if (t === null) return null;
    left -= t.length;
    parts.push(t);
  }
  return `${OPEN[form.kind]}${parts.join(' ')}${CLOSE[form.kind]}`;
}

class Printer {
  constructor(private readonly width: number) {}

  render(form: Form, indent: number): string {
    const one = flat(form, this.width - indent);
    if (one !== null) return one;
    if (!isColl(form)) return atom(form);
    if (form.items.length === 0) return `${OPEN[form.kind]}${CLOSE[form.kind]}`;
    return form.kind === 'list' ? this.list(form.items, indent) : this.block(form.kind, form.items, indent);
  }

  /** Items as lines; a keyword (or, in a map, any key) joins the value after it. */
  private lines(items: Form[], start: number, indent: number, pairAll: boolean): string[] {
    const out: string[] = [];
    for (let i = start; i < items.length; i++) {
      const item = items[i] as Form;
      const next = items[i + 1];
      const pairs =
        item.kind !== 'comment' &&
        next !== undefined &&
        next.kind !== 'comment' &&
        (pairAll || (item.kind === 'keyword' && next.kind !== 'keyword'));
      if (pairs) {
        const key = this.render(item, indent);
        const value = this.render(next, indent + key.length + 1);
        out.push(key.includes('\n') ? `${key}\n${' '.repeat(indent)}${value}` : `${key} ${value}`);
        i++;
      } else {
        out.push(this.render(item, indent));
      }
    }
    return out;
  }

  private join(
    open: string,
    first: string,
    rest: string[],
    indent: number,
    close: string,
    lastIsComment: boolean,
  ): string {
    const pad = ' '.repeat(indent);
    let text = open + first;
    for (const line of rest) text += `\n${pad}${line}`;
    return lastIsComment ? `${text}\n${pad}${close}` : text + close;
  }

  private list(items: Form[], indent: number): string {
    const head = items[0] as Form;
    if (head.kind === 'comment') {
      const rest = this.lines(items, 0, indent + 1, false);
      return this.join('(', rest[0] as string, rest.slice(1), indent + 1, ')', true);
    }
    let first = this.render(head, indent + 1);
    let from = 1;
    const arg = items[1];
    if (head.kind === 'symbol' && arg !== undefined && arg.kind !== 'comment') {
      const argText = flat(arg, this.width - (indent + 1 + first.length + 1));
      if (!isColl(arg) || argText !== null) {
        first += ` ${argText ?? atom(arg)}`;
        from = 2;
      }
    }
    const rest = this.lines(items, from, indent + 2, false);
    const last = items[items.length - 1] as Form;
    return this.join('(', first, rest, indent + 2, ')', last.kind === 'comment' && from < items.length);
  }

  private block(kind: 'vector' | 'map', items: Form[], indent: number): string {
    const lines = this.lines(items, 0, indent + 1, kind === 'map');
    const last = items[items.length - 1] as Form;
    return this.join(OPEN[kind], lines[0] as string, lines.slice(1), indent + 1, CLOSE[kind], last.kind === 'comment');
  }
}

/** Prints top-level forms: a blank line between forms, none after a comment. Ends with a newline. */
export function printForms(forms: Form[], options: PrintOptions = {}): string {
  const p = new Printer(options.width ?? 80);
  let out = '';
  forms.forEach((form, i) => {
    if (i > 0) out += (forms[i - 1] as Form).kind === 'comment' ? '\n' : '\n\n';
    out += p.render(form, 0);
  });
  return forms.length > 0 ? `${out}\n` : '';
}

/** One form's canonical text at a given indent (no trailing newline). */
export function printForm(form: Form, options: PrintOptions & { indent?: number } = {}): string {
  return new Printer(options.width ?? 80).render(form, options.indent ?? 0);
}
