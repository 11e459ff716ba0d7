/** What a family's case reports, and what the supervisor records. */

export type CrashKind = 'signal' | 'exit' | 'hang' | 'exception' | 'disagree';

/** One case's failure, as the family found it (a case that passes returns null). */
export interface Failure {
  kind: 'exception' | 'disagree';
  detail: string;
}

export interface Family {
  name: string;
  /** Runs case `k` of `seed`; resolves to null when the case passes. */
  run(seed: number, k: number): Promise<Failure | null>;
  /** What case `k` fed in, short enough to print (for `--case K`). */
  describe?(seed: number, k: number): string;
}

export interface Crash {
  family: string;
  seed: number;
  case: number;
  kind: CrashKind;
  detail: string;
}

export const FAMILY_NAMES = ['ir', 'csv', 'dsl', 'ticks'] as const;
export type FamilyName = (typeof FAMILY_NAMES)[number];
