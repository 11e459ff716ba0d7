/**
 * A CI-sized fuzz run (fuzz/): fixed seeds, a few hundred cases per family, no crash allowed.
 * Long campaigns: `npm run fuzz -- --cases N --seed S` (RELIABILITY.md).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { format } from '../dist/index.js';
import { build as dslCase } from '../fuzz/families/dsl.js';
import { type CampaignOptions, formatCrash, runCampaign } from '../fuzz/supervisor.js';
import type { FamilyName } from '../fuzz/types.js';

/** Known crashes waiting for a fix, as `family:case` of the seeds below (none at present). */
const KNOWN: string[] = [];

const CI: Record<FamilyName, { seed: number; cases: number }> = {
  ir: { seed: 20_261_202, cases: 600 },
  csv: { seed: 20_261_202, cases: 600 },
  dsl: { seed: 20_261_202, cases: 800 },
  ticks: { seed: 20_261_202, cases: 500 },
};

async function campaign(family: FamilyName, extra: Partial<CampaignOptions> = {}) {
  const r = await runCampaign({ families: [family], ...CI[family], batch: 150, jobs: 2, skip: KNOWN, ...extra });
  return r;
}

describe('fuzzing (CI size)', () => {
  for (const family of Object.keys(CI) as FamilyName[]) {
    it(`${family}: ${CI[family].cases} cases, no crash`, async () => {
      const r = await campaign(family);
      expect(r.crashes.map(formatCrash)).toEqual([]);
      expect(r.ran[family]).toBe(CI[family].cases - KNOWN.filter((k) => k.startsWith(`${family}:`)).length);
    });
  }

  it('the supervisor names a throwing, an aborting, a hanging and an exiting case', async () => {
    const r = await runCampaign({ families: ['selftest'], seed: 1, cases: 6, batch: 6, hangMs: 2000 });
    expect(r.crashes.map((c) => [c.case, c.kind])).toEqual([
      [1, 'exception'],
      [2, 'signal'],
      [3, 'hang'],
      [4, 'exit'],
    ]);
    expect(r.crashes[1]?.detail).toContain('SIGABRT');
    expect(formatCrash(r.crashes[0]!)).toContain('npm run fuzz -- --family selftest --seed 1 --case 1');
  });
});

describe('tickforge check on mutated files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tickforge-fuzz-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports problems with exit 1 or passes with exit 0, never a crash', () => {
    const files = [0, 1, 2].map((k) => {
      const f = join(dir, `case-${k}.clj`);
      writeFileSync(f, dslCase(CI.dsl.seed, k).text);
      return f;
    });
    for (const f of files) {
      const r = spawnSync(process.execPath, ['bin/tickforge.cjs', 'check', f], { encoding: 'utf8', timeout: 30_000 });
      expect(r.signal, f).toBeNull();
      expect([0, 1], `${f}: ${r.stderr}`).toContain(r.status);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/TypeError|RangeError|ReferenceError|\n\s+at /);
    }
  });
});

describe('crashes the campaigns found stay fixed', () => {
  it('format prints deep and wide text in time linear in its size (dsl seed 2 case 6399 hung 30 s)', () => {
    const deep = (n: number) =>
      `(defsymphony "x" {:rebalance-threshold ${'(- '.repeat(256)}(and ${'0.05 '.repeat(n)})${')'.repeat(256)}} (asset "SPY"))`;
    const t0 = performance.now();
    const out = format(deep(10_000));
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(format(out)).toBe(out);
  });
});
