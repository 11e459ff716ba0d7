/**
 * How every command that runs work stops on SIGINT and SIGTERM, in one place.
 *
 * The first signal aborts the command's AbortSignal: the run stops at its next check, keeps what
 * finished, and the command prints and writes that (marked partial) as usual, its pools ended.
 * The process then exits with 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM. A
 * second signal while stopping exits at once with the same code (pool workers leave by themselves
 * when their parent is gone). A command that is not wrapped keeps Node's default: it dies.
 */
import { CancelledError } from '../errors.js';

export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

const SIGNALS = Object.keys(SIGNAL_EXIT_CODES) as StopSignal[];

/**
 * After a stopped command has printed and written its results, the process is given this long to
 * leave on its own (flushing what it writes) before it is made to.
 */
const EXIT_GRACE_MS = 2000;

export interface Stop {
  /** Aborted by the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The first stop signal received, if any. */
  readonly received: StopSignal | undefined;
}

let received: StopSignal | undefined;

/** The exit code a stop signal asks for, once one was received; otherwise undefined. */
export function stopExitCode(): number | undefined {
  return received === undefined ? undefined : SIGNAL_EXIT_CODES[received];
}

/** Whether `e` is what a run throws when its signal stops it. */
function isCancellation(e: unknown, signal: AbortSignal): boolean {
  if (e instanceof CancelledError || e === signal.reason) return true;
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'CancelledError' || name === 'AbortError';
}

/**
 * Wraps a command's action: `action` receives a `Stop` whose signal the first SIGINT or SIGTERM
 * aborts, and should hand that signal to the work it starts. A cancellation the action lets
 * through after a stop (a single run has nothing finished to keep) is reported in one line.
 */
export function stoppable<A extends unknown[]>(
  action: (stop: Stop, ...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const controller = new AbortController();
    const stop: Stop = {
      signal: controller.signal,
      get received() {
        return received;
      },
    };
    const handlers = SIGNALS.map((name) => {
      const handler = () => {
        if (received !== undefined) process.exit(SIGNAL_EXIT_CODES[received]);
        received = name;
        process.stderr.write(
          `\ntickforge: ${name} received, stopping; finished results are kept (send it again to exit at once)\n`,
        );
        controller.abort(new CancelledError(`stopped by ${name}`));
      };
      process.on(name, handler);
      return [name, handler] as const;
    });
    try {
      await action(stop, ...args);
    } catch (e) {
      if (received === undefined || !isCancellation(e, controller.signal)) throw e;
      process.stderr.write(`tickforge: stopped by ${received} before any result was finished\n`);
    } finally {
      const code = stopExitCode();
      if (code === undefined) {
        for (const [name, handler] of handlers) process.off(name, handler);
      } else {
        // The handlers stay: a signal from here on exits at once.
        process.exitCode = code;
        setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
      }
    }
  };
}
