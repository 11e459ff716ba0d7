/**
 * The pure-TypeScript engine on worker threads: each thread receives the run's daily data, then
 * runs one resolved symphony at a time; results are kept by file index, so they come back in file
 * order whatever order the threads finish in. A file past its timeout has its thread terminated
 * (the engine runs synchronously, so nothing else can stop it) and replaced; an abort terminates
 * every thread and keeps what finished.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { threadEntry } from '../parallel/entry.js';
import type { DailyData, SymphonyIR, SymphonyOutput, SymphonyRunConfig } from './types.js';

export type SymphonyToWorker =
  | { type: 'symphony-init'; run: number; data: DailyData }
  | { type: 'symphony-job'; index: number; ir: SymphonyIR; config: SymphonyRunConfig; hang?: true };

export type SymphonyFromWorker =
  | { type: 'symphony-ready'; run: number }
  | {
      type: 'symphony-result';
      index: number;
      output?: SymphonyOutput;
      error?: { type: string; message: string; stack: string };
    };

export type ThreadOutcome =
  | { status: 'fulfilled'; output: SymphonyOutput }
  | { status: 'rejected' | 'timed_out' | 'cancelled'; error: { type: string; message: string; stack: string } };

export interface ThreadRunOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Called after each file settles, with how many have. */
  onSettled?: (settled: number) => void;
}

/**
 * A thread with permanent listeners that forward to whichever run holds it. Threads outlive a run
 * (starting one means loading the engine, which costs more than a small batch): a run hands its
 * healthy threads back, and idle threads are unref'd so they never keep the process alive.
 */
interface Thread {
  worker: Worker;
  onMessage: ((m: SymphonyFromWorker) => void) | null;
  onGone: ((why: string) => void) | null;
}

/**
 * Testing aid, off unless a test sets it: a file for which `hang` returns true runs on its thread
 * until the thread is terminated (its timeout or an abort), so a test of those paths does not
 * depend on how long a real file takes. Not part of the package's API.
 */
export const threadFaults: { hang: ((ir: SymphonyIR) => boolean) | null } = { hang: null };

const idle: Thread[] = [];
let runs = 0;
const MAX_IDLE = Math.max(1, availableParallelism());

function startThread(): Thread {
  const entry = threadEntry();
  const worker = new Worker(entry.code, { eval: entry.eval });
  const t: Thread = { worker, onMessage: null, onGone: null };
  worker.on('message', (m: SymphonyFromWorker) => t.onMessage?.(m));
  worker.on('error', (e: Error) => t.onGone?.(`${e.name}: ${e.message}`));
  worker.on('exit', (code) => {
    const at = idle.indexOf(t);
    if (at >= 0) idle.splice(at, 1);
    t.onGone?.(`the worker thread exited (code ${code})`);
  });
  return t;
}

function takeThread(): Thread {
  const t = idle.pop() ?? startThread();
  t.worker.ref();
  return t;
}

function giveBack(t: Thread): void {
  t.onMessage = null;
  t.onGone = null;
  if (idle.length >= MAX_IDLE) {
    void t.worker.terminate();
    return;
  }
  t.worker.unref();
  idle.push(t);
}

function kill(t: Thread): void {
  t.onMessage = null;
  t.onGone = null;
  void t.worker.terminate();
}

interface Slot {
  thread: Thread;
  job: number | null;
  timer: NodeJS.Timeout | null;
}

function problem(type: string, message: string) {
  return { type, message, stack: `${type}: ${message}` };
}

/** Runs `jobs` (file index and resolved IR) on `threads` worker threads; one outcome per job index. */
export function runOnThreads(
  jobs: Array<{ index: number; ir: SymphonyIR }>,
  data: DailyData,
  config: SymphonyRunConfig,
  threads: number,
  options: ThreadRunOptions = {},
): Promise<Map<number, ThreadOutcome>> {
  const outcomes = new Map<number, ThreadOutcome>();
  const queue = [...jobs];
  const slots: Slot[] = [];
  const { signal, timeoutMs } = options;
  const run = ++runs;

  return new Promise((resolve) => {
    let finished = false;
    const settle = (index: number, outcome: ThreadOutcome) => {
      if (outcomes.has(index)) return;
      outcomes.set(index, outcome);
      options.onSettled?.(outcomes.size);
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      for (const s of slots) {
        if (s.timer) clearTimeout(s.timer);
        // A thread still running a file cannot be interrupted (the engine is synchronous).
        if (s.job === null || outcomes.has(s.job)) giveBack(s.thread);
        else kill(s.thread);
      }
      for (const j of jobs) {
        if (!outcomes.has(j.index))
          settle(j.index, { status: 'cancelled', error: problem('CancelledError', 'cancelled') });
      }
      resolve(outcomes);
    };
    const done = () => outcomes.size === jobs.length;

    const dispatch = (slot: Slot) => {
      if (finished) return;
      const next = queue.shift();
      if (next === undefined) {
        slot.job = null;
        if (done()) finish();
        return;
      }
      slot.job = next.index;
      if (timeoutMs !== undefined) {
        slot.timer = setTimeout(() => {
          settle(next.index, {
            status: 'timed_out',
            error: problem('TimeoutError', `file passed ${timeoutMs} ms`),
          });
          replace(slot);
        }, timeoutMs);
      }
      const msg: SymphonyToWorker = { type: 'symphony-job', index: next.index, ir: next.ir, config };
      if (threadFaults.hang?.(next.ir)) msg.hang = true;
      slot.thread.worker.postMessage(msg);
    };

    const spawn = (): Slot => {
      const thread = takeThread();
      const slot: Slot = { thread, job: null, timer: null };
      thread.onMessage = (m) => {
        if (m.type === 'symphony-ready') {
          // A thread handed back before it answered an earlier run's data answers that one too.
          if (m.run === run && slot.job === null) dispatch(slot);
          return;
        }
        if (slot.job !== m.index) return;
        if (slot.timer) clearTimeout(slot.timer);
        slot.timer = null;
        if (m.output) settle(m.index, { status: 'fulfilled', output: m.output });
        else settle(m.index, { status: 'rejected', error: m.error ?? problem('Error', 'no result') });
        dispatch(slot);
      };
      thread.onGone = (why) => {
        // A thread that fails or ends on its own loses only its running file; the rest go on.
        if (finished || !slots.includes(slot)) return;
        if (slot.job !== null && !outcomes.has(slot.job)) {
          settle(slot.job, { status: 'rejected', error: problem('EngineError', why) });
        }
        replace(slot);
      };
      // Every run sends its data; the thread answers `symphony-ready` once it holds it.
      const init: SymphonyToWorker = { type: 'symphony-init', run, data };
      thread.worker.postMessage(init);
      return slot;
    };

    const replace = (slot: Slot) => {
      if (slot.timer) clearTimeout(slot.timer);
      const at = slots.indexOf(slot);
      if (at >= 0) slots.splice(at, 1);
      kill(slot.thread);
      if (finished) return;
      if (done()) return finish();
      // With nothing queued, the files still open are running on the other threads.
      if (queue.length > 0) slots.push(spawn());
    };

    const onAbort = () => finish();
    if (signal?.aborted) return finish();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (jobs.length === 0) return finish();
    for (let i = 0; i < Math.min(threads, jobs.length); i++) slots.push(spawn());
  });
}
