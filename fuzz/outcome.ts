/** Running one call and telling a tickforge refusal from a crash. */
import { TickforgeError, ValidationError } from '../dist/index.js';
import type { Failure } from './types.js';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function attempt<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

export async function attemptAsync<T>(f: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (error) {
    return { ok: false, error };
  }
}

export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const stack = (e.stack ?? '').split('\n').slice(1, 4).join(' | ');
    return `${e.constructor.name}(${e.name}): ${e.message.slice(0, 300)}${stack ? ` @ ${stack}` : ''}`;
  }
  return `non-Error thrown: ${String(e).slice(0, 300)}`;
}

/** A thrown value that is not a tickforge error, as a failure; null when it is one. */
export function foreign(label: string, o: Outcome<unknown>): Failure | null {
  if (o.ok || o.error instanceof TickforgeError) return null;
  return { kind: 'exception', detail: `${label}: ${describeError(o.error)}` };
}

export function isValidation(e: unknown): e is ValidationError {
  return e instanceof ValidationError;
}

/** One line for an outcome, in disagreement reports. */
export function summary(o: Outcome<unknown>): string {
  if (o.ok) return 'ran';
  const e = o.error;
  if (e instanceof ValidationError) return `ValidationError at ${e.issues[0]?.path ?? '?'}: ${e.message.slice(0, 200)}`;
  if (e instanceof Error) return `${e.name}: ${e.message.slice(0, 200)}`;
  return String(e);
}
