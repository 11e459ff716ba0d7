/** `tickforge check` and `tickforge fmt`: DSL files checked with excerpts, and printed canonically. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { compile, DslError, format } from '../dsl/index.js';

function readSource(file: string): { text: string } | { error: string } {
  try {
    return { text: readFileSync(file, 'utf8') };
  } catch (e) {
    return { error: `${file}: error: cannot read the file: ${(e as Error).message}` };
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Checks every file; prints each problem with its excerpt and a summary. Returns the exit code. */
export function checkFiles(files: string[], out: (s: string) => void, tickers?: readonly string[]): number {
  let bad = 0;
  let problems = 0;
  for (const file of files) {
    const src = readSource(file);
    if ('error' in src) {
      out(`${src.error}\n\n`);
      bad++;
      problems++;
      continue;
    }
    try {
      const r = compile(src.text, tickers ? { file, tickers } : { file });
      out(`${file}: ok (${r.kind} ${r.ir.name})\n`);
    } catch (e) {
      if (!(e instanceof DslError)) throw e;
      out(`${e.format()}\n\n`);
      bad++;
      problems += Math.max(1, e.diagnostics.length);
    }
  }
  const summary =
    bad === 0
      ? `checked ${plural(files.length, 'file')}: no errors`
      : `checked ${plural(files.length, 'file')}: ${plural(problems, 'error')} in ${plural(bad, 'file')}`;
  out(`${summary}\n`);
  return bad > 0 ? 1 : 0;
}

export interface FmtOptions {
  write?: boolean;
  check?: boolean;
}

/**
 * Prints each file's canonical text (with `==> file <==` headers for several files), or rewrites
 * the files (`write`), or only reports the files that are not canonical (`check`). Returns the
 * exit code: 1 for an unreadable file, a syntax error, or (with `check`) a file to reformat.
 */
export function fmtFiles(
  files: string[],
  opts: FmtOptions,
  out: (s: string) => void,
  err: (s: string) => void,
): number {
  if (opts.write && opts.check) {
    err('tickforge: fmt takes one of --write and --check\n');
    return 1;
  }
  let failed = 0;
  let changed = 0;
  files.forEach((file, i) => {
    const src = readSource(file);
    if ('error' in src) {
      err(`${src.error}\n`);
      failed++;
      return;
    }
    let text: string;
    try {
      text = format(src.text, { file });
    } catch (e) {
      if (!(e instanceof DslError)) throw e;
      err(`${e.format()}\n`);
      failed++;
      return;
    }
    const differs = text !== src.text;
    if (differs) changed++;
    if (opts.check) {
      if (differs) out(`${file}: not formatted\n`);
    } else if (opts.write) {
      if (differs) {
        writeFileSync(file, text);
        out(`formatted ${file}\n`);
      }
    } else {
      out(files.length > 1 ? `${i > 0 ? '\n' : ''}==> ${file} <==\n${text}` : text);
    }
  });
  if (opts.check) {
    out(
      changed === 0
        ? `${plural(files.length - failed, 'file')} already formatted\n`
        : `${plural(changed, 'file')} to reformat (run tickforge fmt --write)\n`,
    );
    return failed > 0 || changed > 0 ? 1 : 0;
  }
  return failed > 0 ? 1 : 0;
}

export function registerDsl(program: Command): void {
  program
    .command('check')
    .description('check DSL files (defstrategy, defsymphony): every problem with its line, column and excerpt')
    .argument('<files...>', '.clj files')
    .option('--tickers <list>', 'symphonies: the tickers the data has (comma-separated); any other is an error')
    .action((files: string[], opts: { tickers?: string }) => {
      const tickers = opts.tickers
        ?.split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '');
      const code = checkFiles(files, (s) => process.stdout.write(s), tickers);
      if (code !== 0) process.exitCode = code;
    });

  program
    .command('fmt')
    .description('print DSL files in canonical form (comments kept)')
    .argument('<files...>', '.clj files')
    .option('--write', 'rewrite the files in place')
    .option('--check', 'print nothing but the files that are not canonical; exit 1 if there are any')
    .action((files: string[], opts: FmtOptions) => {
      const code = fmtFiles(
        files,
        opts,
        (s) => process.stdout.write(s),
        (s) => process.stderr.write(s),
      );
      if (code !== 0) process.exitCode = code;
    });
}
