/**
 * A pool of workers (child processes or worker threads) that run backtest jobs. Each worker holds
 * one copy of the market data, sent once when it starts; jobs then carry only the strategy, the
 * params and the config. A job that throws fails alone; a worker that dies fails only the job it
 * was running and is replaced; a job past its timeout is killed (processes) or stopped at its next
 * deadline check with `terminate()` as the backstop (threads).
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { loadNative, nativeLoadFailure } from '../engine/native.js';
import type { EngineName } from '../engine/select.js';
import { TickforgeError, ValidationError } from '../errors.js';
import { runLogger } from '../log.js';
import type { MarketData } from '../types.js';
import { processEntry, threadEntry } from './entry.js';
import {
  columnsOf,
  type FromWorker,
  type PoolError,
  type PoolJob,
  type PoolKind,
  type PoolResult,
  type PoolStatus,
  shapeOf,
  type ToWorker,
} from './protocol.js';

export interface WorkerPoolOptions {
  kind: PoolKind;
  /** Number of workers. */
  size: number;
  engine: EngineName;
  /** Sent to every worker once, when it starts. */
  market: MarketData;
  /** Correlation id: in every log record of the workers (and given to them as TICKFORGE_RUN_ID). */
  runId: string;
  /** Per job; `Infinity` for none. */
  timeoutMs: number;
  /**
   * Testing aid: honour `params.__fault` (1 throws, 2 exits the worker with code 7, 3 hangs in a
   * loop without stop checks). Without it the parameter is passed on like any other.
   */
  allowFaults?: boolean;
  /**
   * Threads: how long past its timeout, or past a cancel, a job may take to answer before its
   * worker is terminated. Default 2000 ms.
   */
  graceMs?: number;
  /**
   * Threads: how long after a cancel a running job may take to answer before its worker is
   * terminated, so that a cancelled batch settles promptly even if a job misses its stop checks.
   * Default `graceMs` when given, else 50 ms.
   */
  cancelGraceMs?: number;
  /** Extra environment variables for the workers, e.g. `TICKFORGE_LOG_LEVEL`. */
  env?: Record<string, string | undefined>;
  /**
   * Processes: receives the children's stderr (their log records) instead of it going to this
   * process's stderr. Worker threads write their log records to the process's stderr directly.
   */
  onStderr?: (text: string) => void;
  /** Processes: Node options for the children, e.g. `--max-old-space-size=512`. */
  execArgv?: string[];
}

export interface PoolRunOptions {
  /** Stops dispatching; running jobs are stopped and, like queued ones, become `cancelled`. */
  signal?: AbortSignal;
  /** Called once per job as its outcome is known (in completion order). */
  onDone?: (result: PoolResult) => void;
  /**
   * Threads: on abort, terminate the workers of running jobs at once instead of asking them to
   * stop (child processes are always killed), for a caller that ends the pool after an abort and
   * must not wait for a thread to answer. The pool replaces them if it runs another batch.
   */
  killOnAbort?: boolean;
}

/** The longest a cancelled thread job may take to answer by default. */
const CANCEL_GRACE_MS = 50;
/** Elements per market data message to a child: large single messages cross the pipe far slower. */
const CHUNK = 262_144;
const CLOSE_GRACE_MS = 2000;
/** setTimeout's largest delay. */
const MAX_DELAY = 2 ** 31 - 1;

interface Endpoint {
  readonly pid: number;
  readonly threadId: number | undefined;
  post(msg: ToWorker, transfer?: ArrayBuffer[]): Promise<void>;
  /** SIGKILL or terminate(): for a worker that may be stuck in a job. */
  kill(): void;
  /** For an idle worker: lets it exit on its own. */
  shutdown(): void;
  setRef(on: boolean): void;
}

interface EndpointEvents {
  message(m: FromWorker): void;
  exit(description: string): void;
}

function workerEnv(o: WorkerPoolOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...o.env })) if (v !== undefined) env[k] = v;
  env.TICKFORGE_RUN_ID = o.runId;
  // The pool's engine is already decided; the environment override must not change it again.
  env.TICKFORGE_ENGINE = o.engine;
  return env;
}

function spawnProcess(o: WorkerPoolOptions, on: EndpointEvents): Endpoint {
  const entry = processEntry();
  const child: ChildProcess = fork(entry.file, [], {
    // Not the parent's options: an inspector port or an eval script must not be inherited.
    execArgv: [...entry.execArgv, ...(o.execArgv ?? [])],
    env: workerEnv(o),
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', o.onStderr ? 'pipe' : 'inherit', 'ipc'],
  });
  const stderr = child.stderr as Socket | null;
  if (stderr && o.onStderr) {
    const sink = o.onStderr;
    stderr.setEncoding('utf8');
    stderr.on('data', (text: string) => sink(text));
  }
  let exited = false;
  const exit = (description: string) => {
    if (exited) return;
    exited = true;
    on.exit(description);
  };
  child.on('message', (m) => on.message(m as FromWorker));
  // A piped stderr is drained before the exit is reported, so captured log records are complete.
  // ('close' would say the same, but it is not emitted after the IPC channel was disconnected.)
  const drained = new Promise<void>((resolve) => {
    if (!stderr || stderr.destroyed) resolve();
    else stderr.once('close', () => resolve());
  });
  child.on('exit', (code, signal) => {
    void drained.then(() => exit(signal ? `signal ${signal}` : `code ${code}`));
  });
  child.on('error', (e) => {
    // A process that never started emits no 'close'.
    if (child.pid === undefined) exit(`spawn error: ${e.message}`);
  });
  return {
    pid: child.pid ?? -1,
    threadId: undefined,
    post: (msg) =>
      new Promise<void>((resolve) => {
        if (!child.connected) return resolve();
        try {
          child.send(msg, () => resolve());
        } catch {
          // The channel closed meanwhile; the exit handler reports the worker.
          resolve();
        }
      }),
    kill: () => {
      child.kill('SIGKILL');
    },
    shutdown: () => {
      if (child.connected) child.disconnect();
      else child.kill('SIGKILL');
    },
    setRef: (ref) => {
      if (ref) {
        child.ref();
        child.channel?.ref();
        stderr?.ref();
      } else {
        child.unref();
        child.channel?.unref();
        stderr?.unref();
      }
    },
  };
}

function spawnThread(o: WorkerPoolOptions, on: EndpointEvents): Endpoint {
  const entry = threadEntry();
  // A thread inherits the process's Node options; `--input-type` (a parent run with `-e`) only
  // applies to string input, and a thread started from a file refuses to start with it.
  const execArgv = entry.eval ? undefined : withoutInputType(process.execArgv);
  const worker = new Worker(entry.code, { eval: entry.eval, env: workerEnv(o), execArgv });
  let lastError: string | undefined;
  worker.on('message', (m: FromWorker) => on.message(m));
  worker.on('error', (e: Error & { code?: string }) => {
    lastError = `${e.code ?? e.name}: ${e.message}`;
  });
  worker.on('exit', (code) => on.exit(lastError ? `code ${code} (${lastError})` : `code ${code}`));
  return {
    pid: process.pid,
    threadId: worker.threadId,
    post: (msg, transfer) => {
      worker.postMessage(msg, transfer);
      return Promise.resolve();
    },
    kill: () => void worker.terminate(),
    // terminate() would drop log lines the thread is still writing; it leaves on its own instead.
    shutdown: () => worker.postMessage({ type: 'close' } satisfies ToWorker),
    setRef: (ref) => (ref ? worker.ref() : worker.unref()),
  };
}

type SlotState = 'starting' | 'idle' | 'busy' | 'dying' | 'dead';

interface Running {
  pos: number;
  job: PoolJob;
  started: number;
  timer?: NodeJS.Timeout;
}

class Slot {
  state: SlotState = 'starting';
  running: Running | null = null;
  wasReady = false;
  stopFlag: Int32Array | undefined;
  endpoint!: Endpoint;
  readonly exited: Promise<void>;
  markExited!: () => void;
  constructor() {
    this.exited = new Promise<void>((resolve) => {
      this.markExited = resolve;
    });
  }
  get live(): boolean {
    return this.state === 'starting' || this.state === 'idle' || this.state === 'busy';
  }
  clearTimer(): void {
    if (this.running?.timer) clearTimeout(this.running.timer);
  }
}

/** One `run()` call: its jobs, their results and the queue position. */
class Batch {
  readonly results: (PoolResult | undefined)[];
  next = 0;
  done = 0;
  stopped = false;
  finished = false;
  constructor(
    readonly jobs: PoolJob[],
    private readonly onDone: ((r: PoolResult) => void) | undefined,
    private readonly resolve: (r: PoolResult[]) => void,
    private readonly reject: (e: unknown) => void,
  ) {
    this.results = new Array(jobs.length);
  }
  get queued(): boolean {
    return !this.stopped && this.next < this.jobs.length;
  }
  /** Records a job's outcome; returns an error thrown by `onDone`, if any. */
  record(pos: number, r: PoolResult): unknown {
    if (this.finished || this.results[pos] !== undefined) return undefined;
    this.results[pos] = r;
    this.done++;
    try {
      this.onDone?.(r);
    } catch (e) {
      return e;
    }
    return undefined;
  }
  maybeFinish(): void {
    if (this.finished || this.done < this.jobs.length) return;
    this.finished = true;
    this.resolve(this.results as PoolResult[]);
  }
  fail(e: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.stopped = true;
    this.reject(e);
  }
}

function outcome(job: PoolJob, status: PoolStatus, started: number | undefined, error?: PoolError): PoolResult {
  const r: PoolResult = {
    index: job.index,
    status,
    elapsedMs: started === undefined ? 0 : performance.now() - started,
  };
  if (error) r.error = error;
  return r;
}

export class WorkerPool {
  readonly kind: PoolKind;
  readonly size: number;
  readonly engine: EngineName;
  readonly runId: string;
  private readonly options: WorkerPoolOptions;
  private readonly graceMs: number;
  private readonly cancelGraceMs: number;
  private readonly log: Logger;
  private readonly slots = new Set<Slot>();
  private batch: Batch | null = null;
  private holds = 0;
  private closing: Promise<void> | undefined;
  private closed = false;
  private startFailure: string | undefined;
  private readonly readyWaiters = new Set<() => void>();
  private readonly pids = new Set<number>();
  private readonly threadIds = new Set<number>();

  constructor(options: WorkerPoolOptions) {
    const { kind, size, engine, timeoutMs, market } = options;
    if (kind !== 'processes' && kind !== 'threads') {
      throw ValidationError.at('kind', `'${String(kind)}' is not one of processes, threads`);
    }
    if (!(Number.isInteger(size) && size >= 1)) throw ValidationError.at('size', `${size} is not an integer >= 1`);
    if (engine !== 'native' && engine !== 'js') {
      throw ValidationError.at('engine', `'${String(engine)}' is not one of native, js`);
    }
    if (!(timeoutMs > 0)) throw ValidationError.at('timeoutMs', `${timeoutMs} is not a positive number`);
    if (market?.kind !== 'ticks' && market?.kind !== 'bars') throw ValidationError.at('market', 'no market data');
    const graceMs = options.graceMs ?? 2000;
    if (!(Number.isFinite(graceMs) && graceMs >= 0)) {
      throw ValidationError.at('graceMs', `${graceMs} is not a finite non-negative number`);
    }
    const cancelGraceMs = options.cancelGraceMs ?? options.graceMs ?? CANCEL_GRACE_MS;
    if (!(Number.isFinite(cancelGraceMs) && cancelGraceMs >= 0)) {
      throw ValidationError.at('cancelGraceMs', `${cancelGraceMs} is not a finite non-negative number`);
    }
    if (engine === 'native' && !loadNative()) {
      throw new TickforgeError(
        'ERR_TICKFORGE_NATIVE_UNAVAILABLE',
        `the native engine could not be loaded (${nativeLoadFailure()})`,
      );
    }
    this.kind = kind;
    this.size = size;
    this.engine = engine;
    this.runId = options.runId;
    this.options = options;
    this.graceMs = graceMs;
    this.cancelGraceMs = cancelGraceMs;
    this.log = runLogger(options.runId);
    for (let i = 0; i < size; i++) this.spawn();
    this.log.info({ kind, size, engine }, 'worker pool starting');
  }

  /** Process ids of every child this pool started (processes mode), dead or alive. */
  get childPids(): number[] {
    return [...this.pids];
  }

  /** Thread ids of every worker thread this pool started (threads mode), dead or alive. */
  get workerThreadIds(): number[] {
    return [...this.threadIds];
  }

  /** Workers started and not yet exited (including ones being killed). */
  get liveWorkers(): number {
    let n = 0;
    for (const s of this.slots) if (s.state !== 'dead') n++;
    return n;
  }

  /**
   * Resolves once no worker is still receiving its data (`run` does not need this; it hands out
   * jobs as workers become ready). Rejects if no worker could start.
   */
  async ready(): Promise<void> {
    if (this.closed) throw new Error('the worker pool is closed');
    this.hold();
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          const slots = [...this.slots];
          if (slots.some((s) => s.state === 'starting')) return;
          this.readyWaiters.delete(check);
          if (slots.some((s) => s.live)) resolve();
          else reject(new Error(`no pool worker could start: ${this.startFailure ?? 'the pool is closed'}`));
        };
        this.readyWaiters.add(check);
        check();
      });
    } finally {
      this.release();
    }
  }

  /** Runs the jobs on the workers; results come back in job order. One batch at a time. */
  async run(jobs: PoolJob[], options: PoolRunOptions = {}): Promise<PoolResult[]> {
    if (this.closed) throw new Error('the worker pool is closed');
    if (this.batch) throw new Error('the worker pool is already running a batch');
    const { signal, onDone } = options;
    const t0 = performance.now();
    const hard = options.killOnAbort === true;
    const onAbort = () => this.stop(hard);
    this.hold();
    try {
      return await new Promise<PoolResult[]>((resolve, reject) => {
        const batch = new Batch(jobs, onDone, resolve, reject);
        this.batch = batch;
        if (signal?.aborted) this.stop(hard);
        else signal?.addEventListener('abort', onAbort, { once: true });
        batch.maybeFinish();
        if (batch.finished) return;
        for (let live = this.liveCount(); live < this.size; live++) this.spawn();
        for (const s of this.slots) if (s.state === 'idle') this.dispatch(s);
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      const batch = this.batch;
      this.batch = null;
      // Workers killed for a timeout are reaped before the call returns. After an abort the call
      // returns at once: the killed workers can no longer run anything, and close() reaps them.
      if (!signal?.aborted) await Promise.all([...this.slots].filter((s) => s.state === 'dying').map((s) => s.exited));
      this.release();
      if (batch) this.log.info({ jobs: jobs.length, ...tally(batch), ms: performance.now() - t0 }, 'pool batch done');
    }
  }

  /**
   * Ends every worker and waits until all have exited. Also stops a batch still running. Idle
   * workers leave on their own (their last log lines written); with `force` every worker is killed
   * at once (SIGKILL, terminate()), for a caller that was aborted and must not wait on them.
   */
  close(options: { force?: boolean } = {}): Promise<void> {
    this.closing ??= this.shutdown();
    if (options.force) {
      for (const s of this.slots) {
        if (s.state === 'dead') continue;
        s.clearTimer();
        s.running = null;
        s.state = 'dying';
        s.endpoint.kill();
      }
    }
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    // Waiting for the exits must itself keep the process alive, or an unreferenced pool could let
    // Node leave with close() still pending.
    this.hold();
    this.stop(true);
    for (const s of this.slots) {
      if (s.state === 'idle') s.endpoint.shutdown();
      else if (s.live) this.kill(s);
    }
    // An idle child that does not leave on its own within the grace period is killed.
    const backstop = setTimeout(() => {
      for (const s of this.slots) if (s.state !== 'dead') s.endpoint.kill();
    }, CLOSE_GRACE_MS);
    try {
      await Promise.all([...this.slots].map((s) => s.exited));
    } finally {
      clearTimeout(backstop);
      this.release();
    }
    this.notifyReady();
  }

  // ------------------------------------------------------------------ workers

  private liveCount(): number {
    let n = 0;
    for (const s of this.slots) if (s.live) n++;
    return n;
  }

  private spawn(): Slot {
    const slot = new Slot();
    const events: EndpointEvents = {
      message: (m) => this.onMessage(slot, m),
      exit: (description) => this.onExit(slot, description),
    };
    slot.endpoint = this.kind === 'processes' ? spawnProcess(this.options, events) : spawnThread(this.options, events);
    if (this.kind === 'processes') this.pids.add(slot.endpoint.pid);
    else if (slot.endpoint.threadId !== undefined) this.threadIds.add(slot.endpoint.threadId);
    slot.endpoint.setRef(this.holds > 0);
    this.slots.add(slot);
    void this.sendData(slot);
    return slot;
  }

  private async sendData(slot: Slot): Promise<void> {
    const o = this.options;
    const base = {
      type: 'init' as const,
      runId: o.runId,
      engine: o.engine,
      kind: o.kind,
      allowFaults: o.allowFaults === true,
      shape: shapeOf(o.market),
    };
    if (this.kind === 'threads') {
      // Each thread gets its own copy, transferred rather than cloned.
      const columns: Record<string, Float64Array> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, col] of columnsOf(o.market)) {
        const copy = col.slice();
        columns[name] = copy;
        transfer.push(copy.buffer as ArrayBuffer);
      }
      const stopFlag = new SharedArrayBuffer(4);
      slot.stopFlag = new Int32Array(stopFlag);
      await slot.endpoint.post({ ...base, columns, stopFlag }, transfer);
      return;
    }
    await slot.endpoint.post(base);
    for (const [column, col] of columnsOf(o.market)) {
      for (let at = 0; at < col.length; at += CHUNK) {
        if (slot.state !== 'starting') return;
        await slot.endpoint.post({ type: 'chunk', column, at, data: col.subarray(at, at + CHUNK) });
      }
    }
    await slot.endpoint.post({ type: 'start' });
  }

  private hold(): void {
    if (this.holds++ === 0) for (const s of this.slots) s.endpoint.setRef(true);
  }

  /** Idle workers never keep the process alive; only a pending `run` or `ready` does. */
  private release(): void {
    if (--this.holds === 0) for (const s of this.slots) s.endpoint.setRef(false);
  }

  private notifyReady(): void {
    for (const check of [...this.readyWaiters]) check();
  }

  private who(slot: Slot): string {
    return this.kind === 'processes'
      ? `worker process ${slot.endpoint.pid}`
      : `worker thread ${slot.endpoint.threadId ?? '?'}`;
  }

  // ------------------------------------------------------------------ jobs

  private dispatch(slot: Slot): void {
    const b = this.batch;
    if (!b?.queued || slot.state !== 'idle') return;
    const pos = b.next++;
    const job = b.jobs[pos] as PoolJob;
    const running: Running = { pos, job, started: performance.now() };
    slot.state = 'busy';
    slot.running = running;
    const { timeoutMs } = this.options;
    // Processes are killed at the timeout; a thread first gets the engine's own deadline.
    const limit = this.kind === 'processes' ? timeoutMs : timeoutMs + this.graceMs;
    if (Number.isFinite(limit))
      running.timer = setTimeout(() => this.overdue(slot, running), Math.min(limit, MAX_DELAY));
    if (slot.stopFlag) Atomics.store(slot.stopFlag, 0, 0);
    const threadTimeout = this.kind === 'threads' && Number.isFinite(timeoutMs) ? { timeoutMs } : {};
    this.log.info({ index: job.index }, 'pool job started');
    void slot.endpoint.post({ type: 'job', job, ...threadTimeout });
  }

  private record(pos: number, r: PoolResult): void {
    const b = this.batch;
    if (!b) return;
    const thrown = b.record(pos, r);
    if (thrown !== undefined) this.abandon(thrown);
    else b.maybeFinish();
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.type === 'ready') {
      if (slot.state !== 'starting') return;
      slot.state = 'idle';
      slot.wasReady = true;
      this.notifyReady();
      this.dispatch(slot);
      return;
    }
    const running = slot.running;
    // A late answer from a worker already given up on (timed out, cancelled) is ignored.
    if (slot.state !== 'busy' || !running || running.job.index !== m.index) return;
    slot.clearTimer();
    slot.running = null;
    slot.state = 'idle';
    const r = outcome(running.job, m.status, running.started, m.error);
    if (m.metrics) r.metrics = m.metrics;
    if (m.tradeCount !== undefined) r.tradeCount = m.tradeCount;
    if (m.output) r.output = m.output;
    this.record(running.pos, r);
    this.dispatch(slot);
  }

  private onExit(slot: Slot, description: string): void {
    const previous = slot.state;
    const running = slot.running;
    slot.clearTimer();
    slot.running = null;
    slot.state = 'dead';
    this.slots.delete(slot);
    slot.markExited();
    if (previous === 'starting' && !this.closed) {
      this.startFailure = `${this.who(slot)} exited with ${description} before it was ready`;
      this.log.error({ worker: this.who(slot), exit: description }, 'pool worker failed to start');
    }
    if (running) {
      const message = `${this.who(slot)} exited with ${description} while running job ${running.job.index}`;
      this.log.warn({ index: running.job.index, exit: description }, 'pool worker crashed');
      this.record(running.pos, outcome(running.job, 'failed', running.started, { type: 'WorkerCrash', message }));
    } else if (previous === 'idle' && !this.closed) {
      this.log.warn({ worker: this.who(slot), exit: description }, 'idle pool worker exited');
    }
    this.notifyReady();
    const b = this.batch;
    if (!b || b.finished || this.closed) return;
    // A worker that never got ready is not replaced, so a broken set-up cannot loop.
    if (b.queued && slot.wasReady && this.liveCount() < this.size) this.spawn();
    if (this.liveCount() === 0 && !b.stopped && b.done < b.jobs.length) {
      this.abandon(new Error(`no pool worker could start: ${this.startFailure ?? description}`));
    }
  }

  /** The job ran past its limit: its worker is killed and a new one takes its place. */
  private overdue(slot: Slot, running: Running): void {
    if (slot.running !== running) return;
    const hard = this.kind === 'processes' ? 'its worker process was killed' : 'its worker thread was terminated';
    this.log.warn({ index: running.job.index, timeoutMs: this.options.timeoutMs }, 'pool job timed out');
    this.kill(slot);
    this.record(
      running.pos,
      outcome(running.job, 'timed_out', running.started, {
        type: 'TimeoutError',
        message: `the job ran past its ${this.options.timeoutMs} ms timeout; ${hard}`,
      }),
    );
    this.replace();
  }

  private kill(slot: Slot): void {
    slot.clearTimer();
    slot.running = null;
    slot.state = 'dying';
    slot.endpoint.kill();
  }

  /** Keeps the pool at its size while jobs are waiting. */
  private replace(): void {
    const b = this.batch;
    if (b?.queued && !this.closed && this.liveCount() < this.size) this.spawn();
  }

  /**
   * Cancellation: nothing more is started, queued jobs and running ones become `cancelled`. Running
   * jobs are killed in processes mode (and on close); a thread is asked through its stop flag and
   * answers at the job's next check, with terminate() as the backstop.
   */
  private stop(hard: boolean): void {
    const b = this.batch;
    if (!b || b.finished) return;
    const first = !b.stopped;
    b.stopped = true;
    const queued: number[] = [];
    for (; b.next < b.jobs.length; b.next++) queued.push(b.next);
    for (const s of this.slots) {
      const running = s.running;
      if (s.state !== 'busy' || !running) continue;
      if (hard || this.kind === 'processes') {
        this.kill(s);
        this.record(running.pos, outcome(running.job, 'cancelled', running.started));
      } else if (first) {
        if (s.stopFlag) Atomics.store(s.stopFlag, 0, 1);
        void s.endpoint.post({ type: 'cancel' });
        s.clearTimer();
        running.timer = setTimeout(() => {
          if (s.running !== running) return;
          this.kill(s);
          this.record(running.pos, outcome(running.job, 'cancelled', running.started));
        }, this.cancelGraceMs);
      }
    }
    for (const pos of queued) this.record(pos, outcome(b.jobs[pos] as PoolJob, 'cancelled', undefined));
    if (first) this.log.info({ queued: queued.length }, 'pool batch cancelled');
  }

  /** A fatal error for the batch (no worker can start, or `onDone` threw): stop and reject. */
  private abandon(e: unknown): void {
    const b = this.batch;
    if (!b || b.finished) return;
    b.fail(e);
    for (const s of this.slots) if (s.state === 'busy') this.kill(s);
  }
}

function tally(b: Batch): Record<PoolStatus, number> {
  const t: Record<PoolStatus, number> = { completed: 0, failed: 0, timed_out: 0, cancelled: 0 };
  for (const r of b.results) if (r) t[r.status]++;
  return t;
}

/** `args` without `--input-type=X` or `--input-type X`. */
function withoutInputType(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--input-type') i++;
    else if (!a.startsWith('--input-type=')) out.push(a);
  }
  return out;
}
