/**
 * Error classes a caller can tell apart: bad input (ValidationError, with every problem and where
 * it is) versus a defect inside an engine (EngineError).
 */

export type ErrorCode =
  | 'ERR_TICKFORGE_VALIDATION'
  | 'ERR_TICKFORGE_ENGINE'
  | 'ERR_TICKFORGE_PANIC'
  | 'ERR_TICKFORGE_CANCELLED'
  | 'ERR_TICKFORGE_TIMEOUT'
  | 'ERR_TICKFORGE_NATIVE_UNAVAILABLE';

export interface Issue {
  /** Where the problem is: `ticks.bid[5]`, `strategy.workers[1].kind`, `params.rsiPeriod`, `file:line:column`. */
  path: string;
  message: string;
}

/**
 * Every error the library throws or reports. Each class names itself with a literal, so `name`
 * stays the class name in the bundled package too (a bundler may rename the class itself).
 */
export class TickforgeError extends Error {
  override name = 'TickforgeError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export class ValidationError extends TickforgeError {
  override name = 'ValidationError';
  readonly issues: Issue[];
  constructor(issues: Issue[]) {
    super('ERR_TICKFORGE_VALIDATION', issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
    this.issues = issues;
  }

  static at(path: string, message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }
}

/** A defect inside an engine (a Rust panic or an unexpected exception); not the caller's input. */
export class EngineError extends TickforgeError {
  override name = 'EngineError';
  constructor(code: 'ERR_TICKFORGE_ENGINE' | 'ERR_TICKFORGE_PANIC', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The caller's AbortSignal fired before the run finished. */
export class CancelledError extends TickforgeError {
  override name = 'CancelledError';
  constructor(message = 'the run was cancelled') {
    super('ERR_TICKFORGE_CANCELLED', message);
  }
}

/** The run passed its `timeoutMs`. */
export class TimeoutError extends TickforgeError {
  override name = 'TimeoutError';
  constructor(message = 'the run timed out') {
    super('ERR_TICKFORGE_TIMEOUT', message);
  }
}
