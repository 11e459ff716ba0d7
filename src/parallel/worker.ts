/**
 * One worker of a WorkerPool: a child process (fork, IPC with advanced serialization) or a worker
 * thread (which may also serve the symphony runner's messages). It receives the market data once,
 * then runs one job at a time through the public backtest path, so its results are those of
 * `backtest` on the same input. A child process leaves by itself when its parent dies, also in the
 * middle of a job.
 *
 * Started from the TypeScript source under tests (through tsx) and as `dist/parallel-worker.*`
 * from the published bundle; see entry.ts.
 */
import { isMainThread, parentPort, threadId } from 'node:worker_threads';
import { type BacktestOptions, backtestHere } from '../backtest.js';
import { CancelledError, TimeoutError } from '../errors.js';
import { runLogger } from '../log.js';
import { isSymphonyMessage, onSymphonyMessage } from '../symphony/thread-worker.js';
import type { EngineOutput, MarketData, Params } from '../types.js';
import {
  errorOf,
  type FromWorker,
  type InitMessage,
  marketFrom,
  type PoolJob,
  settingsOf,
  type ToWorker,
} from './protocol.js';

type Send = (msg: FromWorker) => void;

/**
 * An AbortSignal look-alike whose `aborted` reads a flag the pool sets from another thread. The
 * pure-TS engine runs synchronously, so no message (and no real AbortController) can reach it
 * mid-run; a shared memory read at each of its stop checks can. `abort` events serve the native
 * engine, whose run leaves this thread's event loop free to receive the pool's cancel message.
 */
class FlagSignal extends EventTarget {
  readonly reason = undefined;
  onabort = null;
  constructor(private readonly flag: Int32Array) {
    super();
  }
  get aborted(): boolean {
    return Atomics.load(this.flag, 0) !== 0;
  }
  throwIfAborted(): void {
    if (this.aborted) throw new CancelledError();
  }
  fire(): void {
    this.dispatchEvent(new Event('abort'));
  }
}

interface Ready {
  init: InitMessage;
  market: MarketData;
  signal?: FlagSignal;
}

let ready: Ready | undefined;
let pendingInit: InitMessage | undefined;
const pendingColumns: Record<string, Float64Array> = {};

function start(init: InitMessage, columns: Record<string, Float64Array>, send: Send): void {
  const t0 = performance.now();
  const market = marketFrom(init.shape, columns);
  const signal = init.stopFlag ? new FlagSignal(new Int32Array(init.stopFlag)) : undefined;
  ready = signal ? { init, market, signal } : { init, market };
  runLogger(init.runId).info(
    {
      kind: init.kind,
      engine: init.engine,
      pid: process.pid,
      threadId,
      rows: columns.time?.length ?? 0,
      ms: performance.now() - t0,
    },
    'pool worker ready',
  );
  send({ type: 'ready', pid: process.pid, threadId });
}

/**
 * Testing aid: `params.__fault` (only with allowFaults) 1 throws, 2 exits the worker, 3 hangs,
 * 4 waits 250 ms and then runs the job normally (a job known to finish after quick ones).
 */
function applyFault(params: Params, allowFaults: boolean): Params {
  if (!allowFaults || !Object.hasOwn(params, '__fault')) return params;
  const { __fault: fault, ...rest } = params;
  if (fault === 1) throw new Error('injected fault: the job threw');
  if (fault === 2) process.exit(7);
  if (fault === 3) {
    // A loop without any stop check, so only a hard kill (or terminate) can end it.
    for (;;) {
      /* never returns */
    }
  }
  if (fault === 4) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
  return rest;
}

function optionsOf(r: Ready, job: PoolJob): Omit<BacktestOptions, 'signal'> {
  const params = applyFault(job.params, r.init.allowFaults);
  const data = r.market.kind === 'ticks' ? { ticks: r.market.ticks } : { bars: r.market.bars };
  return {
    ...settingsOf(job.config),
    ...data,
    strategy: job.strategy,
    params,
    engine: r.init.engine,
    runId: r.init.runId,
  };
}

function completed(job: PoolJob, out: EngineOutput): FromWorker {
  const msg: FromWorker = {
    type: 'result',
    index: job.index,
    status: 'completed',
    metrics: out.metrics,
    tradeCount: out.trades.length,
  };
  if (job.keepOutput) {
    msg.output = {
      trades: out.trades,
      equity: out.equity,
      metrics: out.metrics,
      rejections: out.rejections,
      profile: out.profile,
      events: out.events,
    };
  }
  return msg;
}

function stopped(job: PoolJob, e: unknown): FromWorker {
  const error = errorOf(e);
  if (e instanceof TimeoutError) return { type: 'result', index: job.index, status: 'timed_out', error };
  if (e instanceof CancelledError) return { type: 'result', index: job.index, status: 'cancelled' };
  if (ready) runLogger(ready.init.runId).warn({ index: job.index, error: error.message }, 'pool job failed');
  return { type: 'result', index: job.index, status: 'failed', error };
}

/**
 * Processes: a child whose parent is gone has nobody to answer, so it leaves. The parent's death
 * closes the IPC channel ('disconnect'), but that event waits for the event loop, which a
 * pure-TS job keeps busy; the engine's stop checks read this signal, whose `aborted` also asks
 * the kernel for the parent's pid (a child whose parent died is re-parented). Either way the job
 * stops at its next check and the process exits. A native job leaves the event loop free, so the
 * 'disconnect' handler ends the process at once.
 */
class ParentSignal extends EventTarget {
  readonly reason = undefined;
  onabort = null;
  private gone = false;
  private readonly parent = process.ppid;
  get orphaned(): boolean {
    if (!this.gone && process.ppid !== this.parent) this.gone = true;
    return this.gone;
  }
  get aborted(): boolean {
    return this.orphaned;
  }
  throwIfAborted(): void {
    if (this.aborted) throw new CancelledError();
  }
  /** The channel closed: the running job (if any) stops at its next check. */
  disconnected(): void {
    if (this.gone) return;
    this.gone = true;
    this.dispatchEvent(new Event('abort'));
  }
}

const parentSignal = process.send && isMainThread ? new ParentSignal() : undefined;

function leaveIfOrphaned(): void {
  if (parentSignal?.orphaned) process.exit(0);
}

/**
 * Processes: the parent enforces the timeout and cancels by killing this process; the job only
 * watches for the parent's death. Threads: the engine's own deadline and the shared stop flag end
 * the job at its next check.
 */
async function runJob(job: PoolJob, timeoutMs: number | undefined, send: Send): Promise<void> {
  if (!ready) throw new Error('job before init');
  const signal = ready.signal ?? parentSignal;
  try {
    const options: BacktestOptions = { ...optionsOf(ready, job), signal: signal as unknown as AbortSignal };
    if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
    const out = await backtestHere(options);
    leaveIfOrphaned();
    send(completed(job, out));
  } catch (e) {
    leaveIfOrphaned();
    send(stopped(job, e));
  }
}

function onMessage(msg: ToWorker, send: Send): void {
  switch (msg.type) {
    case 'init':
      if (msg.columns) start(msg, msg.columns, send);
      else {
        pendingInit = msg;
        for (const [name, length] of Object.entries(msg.shape.columns)) pendingColumns[name] = new Float64Array(length);
      }
      return;
    case 'chunk':
      pendingColumns[msg.column]?.set(msg.data, msg.at);
      return;
    case 'start':
      if (!pendingInit) throw new Error('start before init');
      start(pendingInit, pendingColumns, send);
      pendingInit = undefined;
      return;
    case 'job':
      void runJob(msg.job, msg.timeoutMs, send);
      return;
    case 'cancel':
      ready?.signal?.fire();
      return;
    case 'close':
      // Threads: let the event loop run dry rather than being terminated, so log lines still
      // being written reach stderr.
      parentPort?.close();
      return;
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  // The same thread entry serves the symphony runner (src/symphony/threads.ts).
  port.on('message', (msg: ToWorker) => {
    if (isSymphonyMessage(msg)) onSymphonyMessage(msg);
    else onMessage(msg, (m) => port.postMessage(m));
  });
} else if (process.send) {
  const send: Send = (m) => {
    process.send?.(m);
  };
  process.on('message', (msg) => onMessage(msg as ToWorker, send));
  // The pool closes an idle worker by closing the channel; a parent that dies closes it as well,
  // also in the middle of a job (see ParentSignal).
  process.on('disconnect', () => {
    parentSignal?.disconnected();
    process.exit(0);
  });
  // A Ctrl-C reaches the whole process group; the parent decides what its workers do (it stops
  // them, or its death closes the channel), so the interrupt alone does not end a worker.
  process.on('SIGINT', () => {
    leaveIfOrphaned();
  });
}
