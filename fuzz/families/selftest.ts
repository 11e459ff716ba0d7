/**
 * The supervisor's own check: case 1 throws a TypeError, case 2 aborts its process (SIGABRT),
 * case 3 never ends, case 4 exits with code 3; every other case passes.
 */
import type { Failure, Family } from '../types.js';

export const selftestFamily: Family = {
  name: 'selftest',
  async run(_seed, k): Promise<Failure | null> {
    if (k === 1) return { kind: 'exception', detail: `TypeError: ${new TypeError('planted').message}` };
    if (k === 2) process.abort();
    if (k === 3) await new Promise(() => setInterval(() => {}, 1000));
    if (k === 4) process.exit(3);
    return null;
  },
};
