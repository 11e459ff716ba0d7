/** Checks of the fully specified run configuration both engines receive (docs/semantics.md section 7). */
import { type Issue, ValidationError } from './errors.js';
import { describe, isPlainObject, unknownFields } from './ir/validate.js';
import type { Instrument, RunConfig } from './types.js';

const INSTRUMENT_KEYS = [
  'symbol',
  'pipSize',
  'contractSize',
  'lotStep',
  'minLot',
  'maxLot',
  'marginRate',
  'commissionPerLot',
  'commissionPercent',
  'slippagePips',
  'spreadPips',
] as const;
const POSITIVE = ['pipSize', 'contractSize', 'lotStep', 'minLot', 'maxLot'] as const;
const NON_NEGATIVE = ['commissionPerLot', 'commissionPercent', 'slippagePips', 'spreadPips'] as const;
const TOP_KEYS = ['instrument', 'account', 'start', 'end', 'fillAt', 'periodsPerYear', 'profile'] as const;

/** Validates a run configuration; throws one ValidationError listing every problem. */
export function validateRunConfig(c: unknown): RunConfig {
  const issues: Issue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  const P = 'config';
  if (!isPlainObject(c)) throw ValidationError.at(P, `expected a run configuration object, got ${describe(c)}`);
  unknownFields(c, TOP_KEYS, P, issues);
  for (const k of TOP_KEYS) if (!Object.hasOwn(c, k)) add(`${P}.${k}`, 'missing required field');

  /** A number that passes `ok`, or undefined after reporting. */
  const num = (o: Record<string, unknown>, k: string, path: string, ok: (x: number) => boolean, what: string) => {
    if (!Object.hasOwn(o, k)) return undefined;
    const x = o[k];
    if (typeof x !== 'number' || !ok(x)) {
      add(`${path}.${k}`, `expected ${what}, got ${describe(x)}`);
      return undefined;
    }
    return x;
  };
  const positive = (x: number) => Number.isFinite(x) && x > 0;
  const nonNegative = (x: number) => Number.isFinite(x) && x >= 0;

  const IP = `${P}.instrument`;
  if (Object.hasOwn(c, 'instrument')) {
    const ins = c.instrument;
    if (!isPlainObject(ins)) add(IP, `expected an instrument object, got ${describe(ins)}`);
    else {
      unknownFields(ins, INSTRUMENT_KEYS, IP, issues);
      for (const k of INSTRUMENT_KEYS) if (!Object.hasOwn(ins, k)) add(`${IP}.${k}`, 'missing required field');
      if (Object.hasOwn(ins, 'symbol') && typeof ins.symbol !== 'string') {
        add(`${IP}.symbol`, `expected a string, got ${describe(ins.symbol)}`);
      }
      for (const k of POSITIVE) num(ins, k, IP, positive, 'a positive finite number');
      for (const k of NON_NEGATIVE) num(ins, k, IP, nonNegative, 'a non-negative finite number');
      num(ins, 'marginRate', IP, (x) => x > 0 && x <= 1, 'a number > 0 and <= 1');
      const lo = ins.minLot;
      const hi = ins.maxLot;
      if (positive(lo as number) && positive(hi as number) && (lo as number) > (hi as number)) {
        add(`${IP}.minLot`, `${String(lo)} is above maxLot (${String(hi)})`);
      }
    }
  }

  const AP = `${P}.account`;
  if (Object.hasOwn(c, 'account')) {
    const acc = c.account;
    if (!isPlainObject(acc)) add(AP, `expected { balance }, got ${describe(acc)}`);
    else {
      unknownFields(acc, ['balance'], AP, issues);
      if (!Object.hasOwn(acc, 'balance')) add(`${AP}.balance`, 'missing required field');
      num(acc, 'balance', AP, positive, 'a positive finite number');
    }
  }

  const time = (k: 'start' | 'end') => {
    if (!Object.hasOwn(c, k)) return null;
    const x = c[k];
    if (x === null) return null;
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      add(`${P}.${k}`, `expected epoch milliseconds or null, got ${describe(x)}`);
      return null;
    }
    return x;
  };
  const start = time('start');
  const end = time('end');
  if (start !== null && end !== null && start > end) add(`${P}.start`, `${start} is after end (${end})`);
  if (Object.hasOwn(c, 'fillAt') && c.fillAt !== 'open' && c.fillAt !== 'close') {
    add(`${P}.fillAt`, `expected 'open' or 'close', got ${describe(c.fillAt)}`);
  }
  num(c, 'periodsPerYear', P, positive, 'a positive finite number');
  if (Object.hasOwn(c, 'profile') && typeof c.profile !== 'boolean') {
    add(`${P}.profile`, `expected a boolean, got ${describe(c.profile)}`);
  }
  if (issues.length > 0) throw new ValidationError(issues);

  const ins = c.instrument as Instrument;
  return {
    instrument: { ...ins },
    account: { balance: (c.account as { balance: number }).balance },
    start,
    end,
    fillAt: c.fillAt as 'open' | 'close',
    periodsPerYear: c.periodsPerYear as number,
    profile: c.profile as boolean,
  };
}
