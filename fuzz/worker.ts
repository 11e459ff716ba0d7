/**
 * A child process of the supervisor: runs the cases it is sent, one after another, reporting the
 * start and the verdict of each over IPC so that a death or a hang is pinned on the case under way.
 */
import { loadFamily } from './families/index.js';
import { describeError } from './outcome.js';
import type { FamilyName } from './types.js';

export interface BatchRequest {
  family: FamilyName | 'selftest';
  seed: number;
  cases: number[];
}

export type WorkerMessage =
  | { type: 'start'; case: number }
  | { type: 'done'; case: number; failure: { kind: 'exception' | 'disagree'; detail: string } | null };

function send(m: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    process.send?.(m, undefined, {}, () => resolve());
  });
}

process.once('message', async (req: BatchRequest) => {
  const family = await loadFamily(req.family);
  for (const k of req.cases) {
    await send({ type: 'start', case: k });
    let failure: { kind: 'exception' | 'disagree'; detail: string } | null;
    try {
      failure = await family.run(req.seed, k);
    } catch (e) {
      failure = { kind: 'exception', detail: `harness: ${describeError(e)}` };
    }
    await send({ type: 'done', case: k, failure });
  }
  process.disconnect?.();
  process.exit(0);
});
