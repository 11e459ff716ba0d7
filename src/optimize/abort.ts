/**
 * Waiting on work without letting a slow stop delay the caller: a batch settles as soon as its
 * signal fires, whatever the engine still has to do to stop the job it was running.
 */
import { CancelledError } from '../errors.js';
import { runLogger } from '../log.js';
import type { WorkerPool } from '../parallel/pool.js';

/** The outcome of `untilAborted`: the work's value or error, or the abort that came first. */
export type Raced<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'aborted' };

/**
 * Settles with the work's outcome, or with `aborted` as soon as `signal` fires (or at once if it
 * already has). The work is not stopped here: give it the same signal. Its late outcome is
 * observed, so a rejection after the abort is never reported as unhandled.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<Raced<T>> {
  const settled = work.then(
    (value): Raced<T> => ({ kind: 'value', value }),
    (error: unknown): Raced<T> => ({ kind: 'error', error }),
  );
  if (!signal) return settled;
  if (signal.aborted) return Promise.resolve({ kind: 'aborted' });
  return new Promise<Raced<T>>((resolve) => {
    const onAbort = () => resolve({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    void settled.then((r) => {
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    });
  });
}

/** Whether an error is the library's cancellation (a job stopped by its signal). */
export function isCancellation(e: unknown): boolean {
  return e instanceof CancelledError || (e as { name?: unknown } | null)?.name === 'CancelledError';
}

/**
 * Ends a pool at the end of a call. Normally its workers leave on their own and the call waits
 * for them; after an abort they are killed at once (SIGKILL, terminate()) and the call returns
 * without waiting for their exits, which the pool still awaits in the background (keeping the
 * process alive until then). Killed workers run nothing more.
 */
export async function closePool(pool: WorkerPool | undefined, signal: AbortSignal | undefined): Promise<void> {
  if (!pool) return;
  if (!signal?.aborted) return pool.close();
  pool.close({ force: true }).catch((e: unknown) => {
    runLogger(pool.runId).warn({ err: e }, 'closing a cancelled worker pool failed');
  });
}
