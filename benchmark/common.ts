import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/** What the figures were measured on; BENCHMARKS.md quotes these with the numbers. */
export function machine() {
  let rustc = 'unknown';
  try {
    rustc = execSync('rustc --version', { encoding: 'utf8' }).trim();
  } catch {
    // rustc is not needed to run the benchmark
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    rustc,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
  };
}

export function writeResult(name: string, report: unknown): void {
  const dir = join('benchmark', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
}
