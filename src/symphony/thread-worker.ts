/**
 * The thread side of `runOnThreads`: keeps the daily data it was given and runs each resolved
 * symphony it receives with the pure-TypeScript engine, sending the output back (copied: an
 * output array may view the data the thread keeps). Loaded by the pool's worker entry (src/parallel/worker.ts), which routes these
 * messages here.
 */
import { parentPort } from 'node:worker_threads';
import { runSymphonyJs } from './engine.js';
import type { SymphonyFromWorker, SymphonyToWorker } from './threads.js';
import type { DailyData } from './types.js';

let data: DailyData | null = null;

export function isSymphonyMessage(msg: unknown): msg is SymphonyToWorker {
  const type = (msg as { type?: unknown } | null)?.type;
  return type === 'symphony-init' || type === 'symphony-job';
}

export function onSymphonyMessage(msg: SymphonyToWorker): void {
  if (msg.type === 'symphony-init') {
    data = msg.data;
    const ready: SymphonyFromWorker = { type: 'symphony-ready', run: msg.run };
    parentPort?.postMessage(ready);
    return;
  }
  let reply: SymphonyFromWorker;
  try {
    if (!data) throw new Error('a symphony job arrived before the data');
    // Testing aid (see threadFaults in threads.ts): busy until the thread is terminated.
    if (msg.hang) for (;;) {}
    const output = runSymphonyJs(msg.ir, data, msg.config);
    reply = { type: 'symphony-result', index: msg.index, output };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    reply = {
      type: 'symphony-result',
      index: msg.index,
      error: { type: err.name, message: err.message, stack: err.stack ?? `${err.name}: ${err.message}` },
    };
  }
  parentPort?.postMessage(reply);
}
