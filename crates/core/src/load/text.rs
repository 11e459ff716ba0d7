//! Field-level text handling shared by every format: line splitting with double quotes, the
//! number grammar, and integer time parsing (docs/data.md section 2).

/// Milliseconds in the JavaScript Date range; times outside ±this are unparseable.
const MAX_TIME_MS: i64 = 8_640_000_000_000_000;

/// How a time field is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    Auto,
    EpochMs,
    EpochS,
    Datetime,
}

impl TimeFormat {
    pub fn parse(s: &str) -> Option<TimeFormat> {
        match s {
            "auto" => Some(TimeFormat::Auto),
            "epoch-ms" => Some(TimeFormat::EpochMs),
            "epoch-s" => Some(TimeFormat::EpochS),
            "datetime" => Some(TimeFormat::Datetime),
            _ => None,
        }
    }

    /// The concrete format `auto` resolves to for a first data row's time text.
    pub fn detect(text: &[u8]) -> TimeFormat {
        let mut digits = 0usize;
        let mut int_digits = 0usize;
        let mut dots = 0usize;
        for &c in text {
            match c {
                b'0'..=b'9' => {
                    digits += 1;
                    if dots == 0 {
                        int_digits += 1;
                    }
                }
                b'.' => dots += 1,
                _ => return TimeFormat::Datetime,
            }
        }
        if digits == 0 {
            return TimeFormat::Datetime;
        }
        if dots == 0 && digits >= 11 {
            TimeFormat::EpochMs
        } else if dots <= 1 && int_digits <= 10 {
            TimeFormat::EpochS
        } else {
            TimeFormat::Datetime
        }
    }
}

/// Parses a timezone option to its offset from UTC in milliseconds.
pub fn parse_timezone(s: &str) -> Option<i64> {
    match s {
        "UTC" => return Some(0),
        "EST" => return Some(-5 * 3_600_000),
        _ => {}
    }
    let b = s.as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = digits_value(&b[1..3])?;
    let m = digits_value(&b[4..6])?;
    if h > 23 || m > 59 {
        return None;
    }
    Some(sign * (h * 3_600_000 + m * 60_000))
}

fn digits_value(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut v = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// Parses a time field to UTC epoch milliseconds; `offset_ms` is the timezone's offset, applied
/// to datetimes without a trailing `Z` only.
pub fn parse_time(text: &[u8], format: TimeFormat, offset_ms: i64) -> Option<i64> {
    let ms = match format {
        TimeFormat::EpochMs => digits_value(text)?,
        TimeFormat::EpochS => parse_epoch_s(text)?,
        TimeFormat::Datetime | TimeFormat::Auto => {
            let (local, z) = parse_datetime(text)?;
            if z {
                local
            } else {
                local - offset_ms
            }
        }
    };
    if (-MAX_TIME_MS..=MAX_TIME_MS).contains(&ms) {
        Some(ms)
    } else {
        None
    }
}

fn parse_epoch_s(text: &[u8]) -> Option<i64> {
    let (int, frac) = match text.iter().position(|&c| c == b'.') {
        Some(p) => (&text[..p], Some(&text[p + 1..])),
        None => (text, None),
    };
    let secs = digits_value(int)?;
    let mut ms = secs.checked_mul(1000)?;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 3 {
            return None;
        }
        let mut v = digits_value(f)?;
        for _ in f.len()..3 {
            v *= 10;
        }
        ms += v;
    }
    Some(ms)
}

/// Parses `DATE[(T| )TIME][Z]` to local epoch milliseconds and whether it ended in `Z`.
/// `DATE` is `YYYY-MM-DD`, `YYYY.MM.DD`, `YYYYMMDD` or the day-first `DD.MM.YYYY`.
fn parse_datetime(b: &[u8]) -> Option<(i64, bool)> {
    let (y, m, d, mut i) = if b.len() >= 10 && b[2] == b'.' && b[5] == b'.' {
        (
            digits_value(&b[6..10])?,
            digits_value(&b[3..5])?,
            digits_value(&b[0..2])?,
            10,
        )
    } else if b.len() >= 10 && (b[4] == b'-' || b[4] == b'.') {
        if b[7] != b[4] {
            return None;
        }
        (
            digits_value(&b[0..4])?,
            digits_value(&b[5..7])?,
            digits_value(&b[8..10])?,
            10,
        )
    } else if b.len() >= 8 {
        (
            digits_value(&b[0..4])?,
            digits_value(&b[4..6])?,
            digits_value(&b[6..8])?,
            8,
        )
    } else {
        return None;
    };
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let (mut hh, mut mm, mut ss, mut frac) = (0i64, 0i64, 0i64, 0i64);
    if i < b.len() && (b[i] == b'T' || b[i] == b' ') {
        i += 1;
        let t = &b[i..];
        let two = |k: usize| -> Option<i64> { t.get(k..k + 2).and_then(digits_value) };
        if t.len() >= 3 && t[2] == b':' {
            hh = two(0)?;
            mm = two(3)?;
            i += 5;
            if b.get(i) == Some(&b':') {
                ss = two(6)?;
                i += 3;
                if b.get(i) == Some(&b'.') {
                    i += 1;
                    let (f, n) = fraction(&b[i..]);
                    if n == 0 {
                        return None;
                    }
                    frac = f;
                    i += n;
                }
            }
        } else {
            hh = two(0)?;
            mm = two(2)?;
            ss = two(4)?;
            i += 6;
            let (f, n) = fraction(&b[i..]);
            frac = f;
            i += n;
        }
        if hh > 23 || mm > 59 || ss > 59 {
            return None;
        }
    }
    let z = b.get(i) == Some(&b'Z');
    if z {
        i += 1;
    }
    if i != b.len() {
        return None;
    }
    let days = days_from_civil(y, m, d);
    Some((
        days * 86_400_000 + hh * 3_600_000 + mm * 60_000 + ss * 1000 + frac,
        z,
    ))
}

/// Reads the leading digits of `b` as a millisecond fraction (digits after the third dropped):
/// returns the milliseconds and how many digits were consumed.
fn fraction(b: &[u8]) -> (i64, usize) {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut ms = 0i64;
    for k in 0..3 {
        ms = ms * 10 + b.get(k).filter(|_| k < n).map_or(0, |&c| i64::from(c - b'0'));
    }
    (ms, n)
}

/// Checks the number grammar `[+-]?(digits[.digits?]|.digits)([eE][+-]?digits)?` and parses
/// to the nearest double.
pub fn parse_number(b: &[u8]) -> Option<f64> {
    let n = b.len();
    let mut i = 0;
    if i < n && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < n && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < n && b[i] == b'.' {
        i += 1;
        while i < n && b[i].is_ascii_digit() {
            i += 1;
            frac_digits += 1;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < n && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < n && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < n && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != n {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse::<f64>().ok()
}

/// The fields of one line, as byte ranges into the line or into a scratch buffer (for lines with
/// quotes).
#[derive(Default)]
pub struct Fields {
    ranges: Vec<(usize, usize)>,
    scratch: Vec<u8>,
    quoted: bool,
}

fn is_trim(c: u8, delim: u8) -> bool {
    (c == b' ' || c == b'\t') && c != delim
}

fn trim(b: &[u8], delim: u8) -> (usize, usize) {
    let mut s = 0;
    let mut e = b.len();
    while s < e && is_trim(b[s], delim) {
        s += 1;
    }
    while e > s && is_trim(b[e - 1], delim) {
        e -= 1;
    }
    (s, e)
}

impl Fields {
    /// Splits `line` (without its line ending) at `delim`. Unquoted fields are trimmed of spaces
    /// and tabs; a field whose trimmed text starts with `"` runs to the closing `"` (`""` is one
    /// `"`, delimiters inside do not split) and the trimmed text after the closing quote up to the
    /// delimiter is appended.
    pub fn split(&mut self, line: &[u8], delim: u8) {
        self.ranges.clear();
        self.quoted = line.contains(&b'"');
        if !self.quoted {
            let mut start = 0;
            for (i, &c) in line.iter().enumerate() {
                if c == delim {
                    let (s, e) = trim(&line[start..i], delim);
                    self.ranges.push((start + s, start + e));
                    start = i + 1;
                }
            }
            let (s, e) = trim(&line[start..], delim);
            self.ranges.push((start + s, start + e));
            return;
        }
        self.scratch.clear();
        let n = line.len();
        let mut i = 0;
        loop {
            while i < n && is_trim(line[i], delim) {
                i += 1;
            }
            let begin = self.scratch.len();
            if i < n && line[i] == b'"' {
                i += 1;
                while i < n {
                    if line[i] == b'"' {
                        if i + 1 < n && line[i + 1] == b'"' {
                            self.scratch.push(b'"');
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    } else {
                        self.scratch.push(line[i]);
                        i += 1;
                    }
                }
                let tail_start = i;
                while i < n && line[i] != delim {
                    i += 1;
                }
                let (s, e) = trim(&line[tail_start..i], delim);
                self.scratch
                    .extend_from_slice(&line[tail_start + s..tail_start + e]);
            } else {
                let start = i;
                while i < n && line[i] != delim {
                    i += 1;
                }
                let (s, e) = trim(&line[start..i], delim);
                self.scratch.extend_from_slice(&line[start + s..start + e]);
            }
            self.ranges.push((begin, self.scratch.len()));
            if i < n {
                i += 1;
            } else {
                break;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Field `k` of the line last split from `line`.
    pub fn get<'a>(&'a self, line: &'a [u8], k: usize) -> &'a [u8] {
        let (s, e) = self.ranges[k];
        if self.quoted {
            &self.scratch[s..e]
        } else {
            &line[s..e]
        }
    }
}

/// Picks the delimiter of a first line: the most frequent of `,` `;` tab (ties in that order),
/// `,` when none occurs.
pub fn detect_delimiter(line: &[u8]) -> u8 {
    let mut best = b',';
    let mut best_count = 0;
    for d in [b',', b';', b'\t'] {
        let c = line.iter().filter(|&&x| x == d).count();
        if c > best_count {
            best = d;
            best_count = c;
        }
    }
    best
}
