/** Forms read from DSL text. Every form keeps where it came from. */

export interface Loc {
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column, in UTF-16 code units. */
  column: number;
  /** Offsets into the source: the form spans `[start, end)`. */
  start: number;
  end: number;
}

export type Form =
  | { kind: 'list'; items: Form[]; loc: Loc }
  | { kind: 'vector'; items: Form[]; loc: Loc }
  /** Keys and values alternate in `items` (the reader rejects an odd count). */
  | { kind: 'map'; items: Form[]; loc: Loc }
  | { kind: 'keyword'; name: string; loc: Loc }
  | { kind: 'symbol'; name: string; loc: Loc }
  | { kind: 'string'; value: string; loc: Loc }
  /** `text` is the literal as written (the formatter keeps it). */
  | { kind: 'number'; value: number; text: string; loc: Loc }
  | { kind: 'boolean'; value: boolean; loc: Loc }
  | { kind: 'nil'; loc: Loc }
  /** Only when read with `comments: true`; `text` starts after the `;` run. */
  | { kind: 'comment'; text: string; loc: Loc };

export type FormKind = Form['kind'];
export type FormOf<K extends FormKind> = Extract<Form, { kind: K }>;

/** A location for forms made by a program rather than read from a file. */
export const NO_LOC: Loc = { file: '<generated>', line: 0, column: 0, start: 0, end: 0 };

export function isForm<K extends FormKind>(form: Form | undefined, kind: K): form is FormOf<K> {
  return form !== undefined && form.kind === kind;
}

/** Drops comment forms at every depth (what checkers and compilers read). */
export function withoutComments(forms: Form[]): Form[] {
  const out: Form[] = [];
  for (const f of forms) {
    if (f.kind === 'comment') continue;
    if (f.kind === 'list' || f.kind === 'vector' || f.kind === 'map') {
      out.push({ ...f, items: withoutComments(f.items) });
    } else {
      out.push(f);
    }
  }
  return out;
}

/** How a form is named in messages: `list`, `vector`, `keyword :x`, `symbol foo`, ... */
export function describeForm(form: Form): string {
  switch (form.kind) {
    case 'keyword':
      return `keyword :${form.name}`;
    case 'symbol':
      return `symbol ${form.name}`;
    case 'string':
      return `string ${JSON.stringify(form.value)}`;
    case 'number':
      return `number ${form.text}`;
    case 'boolean':
      return `boolean ${form.value}`;
    default:
      return form.kind;
  }
}
