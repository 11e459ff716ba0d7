/**
 * The fuzzing supervisor: `npm run fuzz -- --cases N --seed S [--family ir|csv|dsl|ticks] [--case K]`.
 * Prints every crash with its family, seed, case and replay command; exits 1 if there is one.
 * `--case K` runs that one case (in a child process, as in a campaign) and prints its input.
 */
import { parseArgs } from 'node:util';
import { loadFamily } from './families/index.js';
import { formatCrash, runCampaign } from './supervisor.js';
import { FAMILY_NAMES, type FamilyName } from './types.js';

const USAGE = `usage: npm run fuzz -- --cases N --seed S [--family ir|csv|dsl|ticks] [--case K]
  [--from K] [--batch B] [--jobs J] [--hang-ms MS] [--seconds T] [--show]
  --from K: the campaign runs cases K .. K+N-1 (to go on where an earlier one stopped)
  --seconds T: start no batch after T seconds (the figures then count the cases run)`;

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name}: expected a non-negative integer, got ${v}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

async function main() {
  const { values } = parseArgs({
    options: {
      cases: { type: 'string' },
      from: { type: 'string' },
      seed: { type: 'string' },
      family: { type: 'string', multiple: true },
      case: { type: 'string', multiple: true },
      batch: { type: 'string' },
      jobs: { type: 'string' },
      'hang-ms': { type: 'string' },
      seconds: { type: 'string' },
      show: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const families = (values.family ?? [...FAMILY_NAMES]).flatMap((f) => f.split(','));
  for (const f of families) {
    if (!(FAMILY_NAMES as readonly string[]).includes(f) && f !== 'selftest') {
      console.error(`--family: unknown family ${f} (one of ${FAMILY_NAMES.join(', ')})\n${USAGE}`);
      process.exit(2);
    }
  }
  const seed = int('seed', values.seed, 1);
  const cases = int('cases', values.cases, 1000);
  const only = values.case?.map((c) => int('case', c, 0));
  if (only && (values.show || only.length === 1)) {
    for (const f of families) {
      const fam = await loadFamily(f as FamilyName);
      for (const k of only)
        console.log(`${f} seed=${seed} case=${k} input: ${fam.describe?.(seed, k) ?? '(not printable)'}`);
    }
  }
  const started = new Date();
  console.log(
    `fuzz: families ${families.join(',')}, seed ${seed}, ${only ? `cases ${only.join(',')}` : `${cases} cases each`}`,
  );
  let lastPrint = 0;
  const result = await runCampaign({
    families: families as FamilyName[],
    seed,
    cases,
    from: int('from', values.from, 0),
    only,
    batch: int('batch', values.batch, 250),
    jobs: int('jobs', values.jobs, 2),
    hangMs: int('hang-ms', values['hang-ms'], 30_000),
    budgetMs: values.seconds === undefined ? undefined : int('seconds', values.seconds, 0) * 1000,
    onCrash: (c) => console.log(formatCrash(c)),
    onProgress: (family, done, total) => {
      const now = Date.now();
      if (done === total || now - lastPrint > 10_000) {
        lastPrint = now;
        console.log(`  ${family}: ${done}/${total} cases (${((now - started.getTime()) / 1000).toFixed(0)} s)`);
      }
    },
  });
  const per = Object.entries(result.ran)
    .map(([f, n]) => `${f} ${n}`)
    .join(', ');
  console.log(
    `fuzz: done in ${(result.wallMs / 1000).toFixed(1)} s; cases ${per}; ${result.crashes.length} crash${result.crashes.length === 1 ? '' : 'es'}`,
  );
  if (result.crashes.length > 0) {
    console.log('\ncrashes:');
    for (const c of result.crashes) console.log(formatCrash(c));
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
