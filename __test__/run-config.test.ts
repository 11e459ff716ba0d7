// biome-ignore-all lint/suspicious/noExplicitAny: the tests edit deep copies of JSON documents
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { validateRunConfig } from '../src/run-config.js';
import type { RunConfig } from '../src/types.js';

const good = (): RunConfig => ({
  instrument: {
    symbol: 'EURUSD',
    pipSize: 0.0001,
    contractSize: 100_000,
    lotStep: 0.01,
    minLot: 0.01,
    maxLot: 100,
    marginRate: 0.01,
    commissionPerLot: 0,
    commissionPercent: 0,
    slippagePips: 0,
    spreadPips: 1,
  },
  account: { balance: 10_000 },
  start: null,
  end: null,
  fillAt: 'open',
  periodsPerYear: 252,
  profile: false,
});

function issues(c: unknown): string[] {
  try {
    validateRunConfig(c);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a ValidationError');
}

describe('validateRunConfig', () => {
  it('accepts section 7 example and returns a copy', () => {
    const c = good();
    const out = validateRunConfig(c);
    expect(out).toEqual(c);
    expect(out.instrument).not.toBe(c.instrument);
    const timed = {
      ...good(),
      start: 1_700_000_000_000,
      end: 1_700_000_000_000,
      fillAt: 'close' as const,
      profile: true,
    };
    expect(validateRunConfig(timed)).toEqual(timed);
  });

  it('rejects a non-object', () => {
    expect(issues(null)).toEqual(['config: expected a run configuration object, got null']);
  });

  it('requires every field and rejects unknown ones', () => {
    const c = good() as unknown as Record<string, any>;
    delete c.profile;
    delete c.instrument.spreadPips;
    c.leverage = 100;
    c.instrument.pipsize = 0.0001;
    expect(issues(c)).toEqual([
      "config.leverage: unknown field 'leverage' (expected one of instrument, account, start, end, fillAt, periodsPerYear, profile)",
      'config.profile: missing required field',
      "config.instrument.pipsize: unknown field 'pipsize' (expected one of symbol, pipSize, contractSize, lotStep, minLot, maxLot, marginRate, commissionPerLot, commissionPercent, slippagePips, spreadPips); did you mean 'pipSize'?",
      'config.instrument.spreadPips: missing required field',
    ]);
  });

  it('collects every range problem at its path', () => {
    const c = good() as unknown as Record<string, any>;
    c.instrument.pipSize = 0;
    c.instrument.contractSize = -1;
    c.instrument.lotStep = Number.NaN;
    c.instrument.marginRate = 1.5;
    c.instrument.commissionPerLot = -1;
    c.instrument.slippagePips = Number.POSITIVE_INFINITY;
    c.instrument.symbol = 5;
    c.account.balance = 0;
    c.periodsPerYear = '252';
    c.fillAt = 'mid';
    c.profile = 1;
    expect(issues(c)).toEqual([
      'config.instrument.symbol: expected a string, got 5',
      'config.instrument.pipSize: expected a positive finite number, got 0',
      'config.instrument.contractSize: expected a positive finite number, got -1',
      'config.instrument.lotStep: expected a positive finite number, got NaN',
      'config.instrument.commissionPerLot: expected a non-negative finite number, got -1',
      'config.instrument.slippagePips: expected a non-negative finite number, got Infinity',
      'config.instrument.marginRate: expected a number > 0 and <= 1, got 1.5',
      'config.account.balance: expected a positive finite number, got 0',
      "config.fillAt: expected 'open' or 'close', got 'mid'",
      "config.periodsPerYear: expected a positive finite number, got '252'",
      'config.profile: expected a boolean, got 1',
    ]);
  });

  it('checks minLot <= maxLot and start <= end', () => {
    const c = { ...good(), start: 2000, end: 1000 };
    c.instrument.minLot = 5;
    c.instrument.maxLot = 1;
    expect(issues(c)).toEqual([
      'config.instrument.minLot: 5 is above maxLot (1)',
      'config.start: 2000 is after end (1000)',
    ]);
    expect(issues({ ...good(), start: 'yesterday' })).toEqual([
      "config.start: expected epoch milliseconds or null, got 'yesterday'",
    ]);
    expect(issues({ ...good(), marginRate: 0 })[0]).toMatch(/^config\.marginRate: unknown field/);
  });
});
