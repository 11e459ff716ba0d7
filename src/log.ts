import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';

/**
 * One logger for the library, writing JSON lines to stderr so stdout stays free for results.
 * `TICKFORGE_LOG_LEVEL` sets the level (default `warn`; the CLI's `--verbose` sets `info`).
 */
let root: Logger | undefined;

export function logger(): Logger {
  root ??= pino({ level: process.env.TICKFORGE_LOG_LEVEL ?? 'warn', base: { lib: 'tickforge' } }, pino.destination(2));
  return root;
}

export function setLogLevel(level: string): void {
  logger().level = level;
}

/** A correlation id for one call: it is in every log record of the call and in its result. */
export function newRunId(): string {
  return randomUUID();
}

export function runLogger(runId: string): Logger {
  return logger().child({ runId });
}
