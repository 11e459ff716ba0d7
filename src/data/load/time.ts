/** Time and number text grammars of docs/data.md sections 2 and 6, in integer arithmetic. */

export type TimeKind = 'epoch-ms' | 'epoch-s' | 'datetime';

const DAY_MS = 86_400_000;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = m > 2 ? m - 3 : m + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Digits of s[i, i+n) as an integer, or -1 when one is not a digit or the text is short. */
function digitsAt(s: string, i: number, n: number): number {
  if (i + n > s.length) return -1;
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Milliseconds from a run of fraction digits starting at i; returns [ms, end index]. */
function fraction(s: string, i: number): [number, number] {
  let ms = 0;
  let k = i;
  while (k < s.length && isDigit(s.charCodeAt(k))) {
    if (k - i < 3) ms = ms * 10 + (s.charCodeAt(k) - 48);
    k++;
  }
  const n = k - i;
  if (n === 1) ms *= 100;
  else if (n === 2) ms *= 10;
  return [ms, k];
}

/**
 * UTC epoch ms of a datetime text with the given offset (ms east of UTC), or null. A trailing `Z`
 * means UTC.
 */
export function parseDatetime(s: string, offsetMs: number): number | null {
  let i = 0;
  let y: number;
  let mo: number;
  let d: number;
  const c4 = s.charCodeAt(4);
  if (s.length >= 10 && s.charCodeAt(2) === 46 && s.charCodeAt(5) === 46) {
    // DD.MM.YYYY
    d = digitsAt(s, 0, 2);
    mo = digitsAt(s, 3, 2);
    y = digitsAt(s, 6, 4);
    i = 10;
  } else if (c4 === 45 || c4 === 46) {
    // YYYY-MM-DD or YYYY.MM.DD
    y = digitsAt(s, 0, 4);
    mo = digitsAt(s, 5, 2);
    d = digitsAt(s, 8, 2);
    if (s.charCodeAt(7) !== c4) return null;
    i = 10;
  } else {
    y = digitsAt(s, 0, 4);
    mo = digitsAt(s, 4, 2);
    d = digitsAt(s, 6, 2);
    i = 8;
  }
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let ms = 0;
  const sep = s.charCodeAt(i);
  if (sep === 84 || sep === 32) {
    // 'T' or ' '
    i++;
    if (s.charCodeAt(i + 2) === 58) {
      // HH:MM[:SS[.f…]]
      h = digitsAt(s, i, 2);
      mi = digitsAt(s, i + 3, 2);
      if (h < 0 || mi < 0) return null;
      i += 5;
      if (s.charCodeAt(i) === 58) {
        sec = digitsAt(s, i + 1, 2);
        if (sec < 0) return null;
        i += 3;
        if (s.charCodeAt(i) === 46) {
          const [f, end] = fraction(s, i + 1);
          if (end === i + 1) return null;
          ms = f;
          i = end;
        }
      }
    } else {
      // HHMMSS[f…]
      h = digitsAt(s, i, 2);
      mi = digitsAt(s, i + 2, 2);
      sec = digitsAt(s, i + 4, 2);
      if (h < 0 || mi < 0 || sec < 0) return null;
      const [f, end] = fraction(s, i + 6);
      ms = f;
      i = end;
    }
    if (h > 23 || mi > 59 || sec > 59) return null;
  }
  let offset = offsetMs;
  if (i < s.length && s.charCodeAt(i) === 90) {
    offset = 0;
    i++;
  }
  if (i !== s.length) return null;
  return daysFromCivil(y, mo, d) * DAY_MS + ((h * 60 + mi) * 60 + sec) * 1000 + ms - offset;
}

const MAX_TIME_MS = 8_640_000_000_000_000;

/** Epoch ms of 1 to 18 digits, or null. */
export function parseEpochMs(s: string): number | null {
  if (s.length < 1 || s.length > 18) return null;
  let v = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (!isDigit(c)) return null;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Epoch ms of epoch seconds (1 to 18 digits, optionally `.` and 1 to 3 digits), or null. */
export function parseEpochS(s: string): number | null {
  const dot = s.indexOf('.');
  const intLen = dot < 0 ? s.length : dot;
  if (intLen < 1 || intLen > 18) return null;
  const secs = digitsAt(s, 0, intLen);
  if (secs < 0) return null;
  if (dot < 0) return secs * 1000;
  const fl = s.length - dot - 1;
  if (fl < 1 || fl > 3) return null;
  const f = digitsAt(s, dot + 1, fl);
  if (f < 0) return null;
  return secs * 1000 + (fl === 1 ? f * 100 : fl === 2 ? f * 10 : f);
}

/**
 * UTC epoch ms of a time text, or null when it does not parse or lies beyond ±8.64e15 ms. Values
 * past 2^53 only occur with more digits than that range allows, so they are rejected either way.
 */
export function parseTime(s: string, kind: TimeKind, offsetMs: number): number | null {
  const t = kind === 'epoch-ms' ? parseEpochMs(s) : kind === 'epoch-s' ? parseEpochS(s) : parseDatetime(s, offsetMs);
  if (t === null || t < -MAX_TIME_MS || t > MAX_TIME_MS) return null;
  return t;
}

/** The `auto` time format decided from one time text. */
export function decideTimeKind(s: string): TimeKind {
  let digits = 0;
  let intDigits = 0;
  let dots = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (isDigit(c)) {
      digits++;
      if (dots === 0) intDigits++;
    } else if (c === 46) {
      dots++;
      if (dots > 1) return 'datetime';
    } else {
      return 'datetime';
    }
  }
  if (digits === 0) return 'datetime';
  if (dots === 0 && digits >= 11) return 'epoch-ms';
  if (intDigits <= 10) return 'epoch-s';
  return 'datetime';
}

/** Offset in ms east of UTC of a timezone option, or null when it is not one of the accepted forms. */
export function parseTimezone(tz: string): number | null {
  if (tz === 'UTC') return 0;
  if (tz === 'EST') return -5 * 3_600_000;
  if (tz.length !== 6 || tz.charCodeAt(3) !== 58) return null;
  const sign = tz[0] === '+' ? 1 : tz[0] === '-' ? -1 : 0;
  const h = digitsAt(tz, 1, 2);
  const m = digitsAt(tz, 4, 2);
  if (sign === 0 || h < 0 || m < 0 || h > 23 || m > 59) return null;
  return sign * (h * 60 + m) * 60_000;
}

/**
 * The number of a text matching `[+-]?(digits[.digits?]|.digits)([eE][+-]?digits)?`, else NaN
 * (a text that matches always parses to a number, possibly infinite).
 */
export function parseNumber(s: string): number {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 43 || c === 45) i++;
  let intDigits = 0;
  while (i < n && isDigit(s.charCodeAt(i))) {
    i++;
    intDigits++;
  }
  let fracDigits = 0;
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    while (i < n && isDigit(s.charCodeAt(i))) {
      i++;
      fracDigits++;
    }
  }
  if (intDigits === 0 && fracDigits === 0) return Number.NaN;
  if (i < n) {
    c = s.charCodeAt(i);
    if (c !== 101 && c !== 69) return Number.NaN;
    i++;
    c = s.charCodeAt(i);
    if (c === 43 || c === 45) i++;
    let expDigits = 0;
    while (i < n && isDigit(s.charCodeAt(i))) {
      i++;
      expDigits++;
    }
    if (expDigits === 0 || i !== n) return Number.NaN;
  }
  return Number(s);
}
