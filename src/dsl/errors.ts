/**
 * DSL diagnostics: every problem carries file, line and column, renders with a caret excerpt of
 * the offending source, and may suggest a near-miss name. A checker collects all of them and
 * throws one DslError.
 */
import { ValidationError } from '../errors.js';
import { suggest } from '../ir/validate.js';
import type { Form, Loc } from './ast.js';

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  /** Length of the underlined span on its first line (at least 1). */
  length: number;
  message: string;
  /** A short fix, e.g. "did you mean `cross-above`?". */
  hint?: string;
}

export class DslError extends ValidationError {
  readonly diagnostics: Diagnostic[];
  /** The source the diagnostics point into (for excerpts). */
  readonly source: string;
  constructor(diagnostics: Diagnostic[], source: string) {
    super(
      diagnostics.map((d) => ({
        path: `${d.file}:${d.line}:${d.column}`,
        message: d.hint ? `${d.message} (${d.hint})` : d.message,
      })),
    );
    this.name = 'DslError';
    this.diagnostics = diagnostics;
    this.source = source;
  }

  /** Every diagnostic with its excerpt, as `tickforge check` prints them. */
  format(): string {
    return this.diagnostics.map((d) => formatDiagnostic(d, this.source)).join('\n\n');
  }
}

export function diagnosticAt(loc: Loc, message: string, hint?: string): Diagnostic {
  const length = Math.max(1, loc.end - loc.start);
  const d: Diagnostic = { file: loc.file, line: loc.line, column: loc.column, length, message };
  if (hint) d.hint = hint;
  return d;
}

/** "did you mean `x`?" for a near-miss among `candidates`, else undefined. */
export function nearMiss(name: string, candidates: readonly string[]): string | undefined {
  const s = suggest(name, candidates);
  if (!s) return undefined;
  const m = /'([^']+)'|"([^"]+)"|`([^`]+)`/.exec(s);
  const found = m ? (m[1] ?? m[2] ?? m[3]) : undefined;
  return found ? `did you mean \`${found}\`?` : undefined;
}

/**
 * ```
 * file.clj:3:5: error: unknown operator `crosss-above`
 *   3 |   (crosss-above rsi 30)
 *     |    ^^^^^^^^^^^^
 *     = did you mean `cross-above`?
 * ```
 */
export function formatDiagnostic(d: Diagnostic, source: string): string {
  const head = `${d.file}:${d.line}:${d.column}: error: ${d.message}`;
  const lines = source.split(/\r?\n/);
  const text = lines[d.line - 1];
  if (text === undefined || d.line < 1) return d.hint ? `${head}\n  = ${d.hint}` : head;
  const num = String(d.line);
  const pad = ' '.repeat(num.length);
  const shown = text.replace(/\t/g, ' ');
  const room = Math.max(1, shown.length - (d.column - 1));
  const carets = '^'.repeat(Math.min(d.length, room));
  const out = [head, `${pad} |`, `${num} | ${shown}`, `${pad} | ${' '.repeat(Math.max(0, d.column - 1))}${carets}`];
  if (d.hint) out.push(`${pad} = ${d.hint}`);
  return out.join('\n');
}

/** Collects diagnostics while a checker walks forms. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  constructor(readonly source: string) {}
  at(form: Form | Loc, message: string, hint?: string): void {
    const loc = 'loc' in form ? form.loc : form;
    this.list.push(diagnosticAt(loc, message, hint));
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
  /** Throws every collected diagnostic at once, sorted by position. */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const sorted = [...this.list].sort((a, b) => a.line - b.line || a.column - b.column);
    throw new DslError(sorted, this.source);
  }
}
