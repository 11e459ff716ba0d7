import { type Issue, ValidationError } from './errors.js';
import { INSTRUMENT_DEFAULTS, PRESETS, preset } from './instruments.js';
import type { Instrument, RunConfig } from './types.js';

export type TimeInput = number | string | Date;

/** What a caller may give; everything else comes from the symbol's preset and the defaults. */
export interface RunSettings {
  symbol?: string;
  instrument?: Partial<Instrument>;
  account?: { balance?: number; leverage?: number };
  start?: TimeInput | null;
  end?: TimeInput | null;
  fillAt?: 'open' | 'close';
  periodsPerYear?: number;
  profile?: boolean;
}

/** Epoch milliseconds from a number, an ISO date string (UTC unless it says otherwise) or a Date. */
export function toEpochMs(value: TimeInput, path: string): number {
  const ms = typeof value === 'number' ? value : value instanceof Date ? value.getTime() : parseIsoUtc(value);
  if (!Number.isFinite(ms)) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw ValidationError.at(path, `${shown} is not a valid time (epoch ms or ISO date)`);
  }
  return ms;
}

/** Whether a leading `YYYY-MM-DD` names a real day (Date.parse rolls 2020-02-30 over to March). */
function realDay(s: string): boolean {
  const m = /^(\d{4})-(\d\d)-(\d\d)/.exec(s);
  if (!m) return true;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return mo >= 1 && mo <= 12 && d >= 1 && d <= last;
}

function parseIsoUtc(s: string): number {
  if (!realDay(s)) return Number.NaN;
  // A date-time without a zone is read as UTC, never as the machine's local time.
  const hasZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(s);
  const iso = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(s) && !hasZone ? `${s.replace(' ', 'T')}Z` : s;
  return Date.parse(iso);
}

/** Fills defaults and checks what the caller gave; the engines re-check the finished config. */
export function buildRunConfig(settings: RunSettings, dataSymbol: string | undefined): RunConfig {
  const issues: Issue[] = [];
  const symbol = (settings.instrument?.symbol ?? settings.symbol ?? dataSymbol ?? 'EURUSD').toUpperCase();
  const p = preset(symbol);
  const given = settings.instrument ?? {};
  if (!p && given.pipSize === undefined) {
    issues.push({
      path: 'instrument.pipSize',
      message: `required for symbol '${symbol}', which has no preset (presets: ${Object.keys(PRESETS).join(', ')})`,
    });
  }
  const leverage = settings.account?.leverage;
  if (leverage !== undefined && !(Number.isFinite(leverage) && leverage >= 1)) {
    issues.push({ path: 'account.leverage', message: `${leverage} is not a number >= 1` });
  }
  if (given.marginRate !== undefined && leverage !== undefined) {
    issues.push({
      path: 'account.leverage',
      message: 'give either account.leverage or instrument.marginRate, not both',
    });
  }
  let start: number | null = null;
  let end: number | null = null;
  try {
    start = settings.start == null ? null : toEpochMs(settings.start, 'start');
    end = settings.end == null ? null : toEpochMs(settings.end, 'end');
  } catch (e) {
    if (e instanceof ValidationError) issues.push(...e.issues);
    else throw e;
  }
  if (issues.length > 0) throw new ValidationError(issues);

  const instrument: Instrument = {
    ...INSTRUMENT_DEFAULTS,
    pipSize: p?.pipSize ?? 0,
    contractSize: p?.contractSize ?? 1,
    ...(leverage !== undefined ? { marginRate: 1 / leverage } : {}),
    ...given,
    symbol,
  };
  return {
    instrument,
    account: { balance: settings.account?.balance ?? 10_000 },
    start,
    end,
    fillAt: settings.fillAt ?? 'open',
    periodsPerYear: settings.periodsPerYear ?? 252,
    profile: settings.profile ?? false,
  };
}
