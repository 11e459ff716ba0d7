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

const captures = new Map<string, string[]>();

/**
 * The logger of one call. When the call's records are being captured (a batch keeps each
 * scenario's own lines), they go to the capture at `info` and above as well as to stderr.
 */
export function runLogger(runId: string): Logger {
  const lines = captures.get(runId);
  if (!lines) return logger().child({ runId });
  const sink = { write: (line: string) => void lines.push(line.trimEnd()) };
  const level = logger().level;
  const streams: pino.StreamEntry[] = [{ level: 'info', stream: sink }];
  if (level !== 'silent') streams.push({ level: level as pino.Level, stream: pino.destination(2) });
  return pino({ level: 'info', base: { lib: 'tickforge' } }, pino.multistream(streams)).child({ runId });
}

/** Starts keeping every record logged under `runId`; the returned array fills as they come. */
export function startCapture(runId: string): string[] {
  const lines: string[] = [];
  captures.set(runId, lines);
  return lines;
}

export function stopCapture(runId: string): void {
  captures.delete(runId);
}
