/**
 * Runs a campaign: each family's cases go to child processes in batches; a child that dies (a
 * signal or an exit code) has the batch re-run one case at a time to name the case; a case that
 * runs past the watchdog is a hang.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Crash, FamilyName } from './types.js';
import type { BatchRequest, WorkerMessage } from './worker.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface CampaignOptions {
  families: readonly (FamilyName | 'selftest')[];
  seed: number;
  /** Cases from .. from+cases-1 of each family (ignored with `only`). */
  cases: number;
  /** The first case (default 0): a long campaign goes on where an earlier one stopped. */
  from?: number;
  /** Run just these case numbers. */
  only?: number[];
  /** Cases per child process. */
  batch?: number;
  /** Child processes at once. */
  jobs?: number;
  /** A case running longer than this is a hang. */
  hangMs?: number;
  /** Cases to leave out, as `family:case` (known crashes waiting for a fix). */
  skip?: readonly string[];
  /** Start no batch after this many ms from the start (a batch under way finishes). */
  budgetMs?: number;
  onCrash?: (c: Crash) => void;
  onProgress?: (family: string, done: number, total: number) => void;
}

export interface CampaignResult {
  crashes: Crash[];
  /** Cases run per family. */
  ran: Record<string, number>;
  wallMs: number;
}

interface BatchOutcome {
  /** Cases with a verdict (passed or failed in-process). */
  finished: Set<number>;
  crashes: Crash[];
  /** The child died or hung: the case under way, and how. */
  death?: { case: number | undefined; kind: 'signal' | 'exit' | 'hang'; detail: string };
}

function runBatch(
  family: FamilyName | 'selftest',
  seed: number,
  cases: number[],
  hangMs: number,
): Promise<BatchOutcome> {
  return new Promise((resolve) => {
    const out: BatchOutcome = { finished: new Set(), crashes: [] };
    let current: number | undefined;
    let stderr = '';
    let settled = false;
    const child: ChildProcess = fork(WORKER, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, TICKFORGE_LOG_LEVEL: 'silent', LOG_LEVEL: 'silent' },
    });
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        if (settled) return;
        out.death = { case: current, kind: 'hang', detail: `no verdict within ${hangMs / 1000} s` };
        child.kill('SIGKILL');
      }, hangMs);
    };
    arm();
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'start') {
        current = m.case;
        arm();
      } else {
        out.finished.add(m.case);
        current = undefined;
        if (m.failure) out.crashes.push({ family, seed, case: m.case, kind: m.failure.kind, detail: m.failure.detail });
      }
    });
    child.on('exit', (code, signal) => {
      settled = true;
      if (timer) clearTimeout(timer);
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      if (!out.death && out.finished.size < cases.length) {
        out.death = signal
          ? { case: current, kind: 'signal', detail: `killed by ${signal}${tail ? `: ${tail}` : ''}` }
          : { case: current, kind: 'exit', detail: `exited with code ${code}${tail ? `: ${tail}` : ''}` };
      }
      resolve(out);
    });
    child.send({ family, seed, cases } satisfies BatchRequest);
  });
}

/** Runs `cases`, splitting off and naming any case that kills or hangs its process. */
async function runCases(
  family: FamilyName | 'selftest',
  seed: number,
  cases: number[],
  hangMs: number,
): Promise<Crash[]> {
  const crashes: Crash[] = [];
  let rest = cases;
  while (rest.length > 0) {
    const b = await runBatch(family, seed, rest, hangMs);
    crashes.push(...b.crashes);
    if (!b.death) return crashes;
    const unfinished = rest.filter((k) => !b.finished.has(k));
    const suspect = b.death.case;
    if (b.death.kind === 'hang' && suspect !== undefined) {
      crashes.push({ family, seed, case: suspect, kind: 'hang', detail: b.death.detail });
      rest = unfinished.filter((k) => k !== suspect);
      continue;
    }
    // A death: the case under way alone first; if it survives alone, every unfinished case alone.
    const alone = suspect === undefined ? [] : [suspect];
    let named = false;
    for (const k of alone.length ? alone : unfinished) {
      const one = await runBatch(family, seed, [k], hangMs);
      crashes.push(...one.crashes);
      if (one.death) {
        named = true;
        crashes.push({ family, seed, case: k, kind: one.death.kind, detail: one.death.detail });
      }
    }
    if (!named && alone.length) {
      for (const k of unfinished.filter((x) => x !== suspect)) {
        const one = await runBatch(family, seed, [k], hangMs);
        crashes.push(...one.crashes);
        if (one.death) {
          named = true;
          crashes.push({ family, seed, case: k, kind: one.death.kind, detail: one.death.detail });
        }
      }
      rest = [];
    } else {
      rest = unfinished.filter((x) => x !== suspect);
    }
    if (!named) {
      crashes.push({
        family,
        seed,
        case: suspect ?? unfinished[0] ?? -1,
        kind: b.death.kind,
        detail: `${b.death.detail} (in a batch; no case dies alone)`,
      });
    }
  }
  return crashes;
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const t0 = performance.now();
  const batch = o.batch ?? 250;
  const jobs = Math.max(1, o.jobs ?? 2);
  const hangMs = o.hangMs ?? 30_000;
  const skip = new Set(o.skip ?? []);
  const crashes: Crash[] = [];
  const ran: Record<string, number> = {};
  const work: { family: FamilyName | 'selftest'; cases: number[] }[] = [];
  for (const family of o.families) {
    const list = (o.only ?? Array.from({ length: o.cases }, (_, i) => (o.from ?? 0) + i)).filter(
      (k) => !skip.has(`${family}:${k}`),
    );
    ran[family] = 0;
    for (let i = 0; i < list.length; i += batch) work.push({ family, cases: list.slice(i, i + batch) });
  }
  const totals: Record<string, number> = {};
  for (const w of work) totals[w.family] = (totals[w.family] ?? 0) + w.cases.length;
  let next = 0;
  const stopAt = o.budgetMs === undefined ? Number.POSITIVE_INFINITY : t0 + o.budgetMs;
  const lane = async () => {
    while (next < work.length && performance.now() < stopAt) {
      const w = work[next++]!;
      const found = await runCases(w.family, o.seed, w.cases, hangMs);
      ran[w.family] = (ran[w.family] ?? 0) + w.cases.length;
      for (const c of found) {
        crashes.push(c);
        o.onCrash?.(c);
      }
      o.onProgress?.(w.family, ran[w.family]!, totals[w.family]!);
    }
  };
  await Promise.all(Array.from({ length: jobs }, lane));
  crashes.sort((a, b) => a.family.localeCompare(b.family) || a.case - b.case);
  return { crashes, ran, wallMs: performance.now() - t0 };
}

export function replayCommand(c: Pick<Crash, 'family' | 'seed' | 'case'>): string {
  return `npm run fuzz -- --family ${c.family} --seed ${c.seed} --case ${c.case}`;
}

export function formatCrash(c: Crash): string {
  return `CRASH family=${c.family} seed=${c.seed} case=${c.case} kind=${c.kind}\n  ${c.detail}\n  replay: ${replayCommand(c)}`;
}
