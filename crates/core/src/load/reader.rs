//! The streaming driver: line reading, format resolution, per-row parsing and validation, and the
//! report.

use super::decode::{self, Sniff};
use super::options::{ColumnRef, Format, Kind, LoadOptions, Policy};
use super::report::{Gaps, LoadReport, Skipped, SkippedRow, Spread};
use super::text::{detect_delimiter, parse_number, parse_time, Fields, TimeFormat};
use super::{Columns, Issue, LoadError, Loaded};
use crate::error::js_number;
use crate::timeframe::Timeframe;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::time::Instant;

/// Read buffer size.
const BUFFER: usize = 1 << 20;
/// Problems listed in the report or the error.
const FIRST_PROBLEMS: usize = 10;
const EST_MS: i64 = -5 * 3_600_000;

pub fn load_file(path: &str, options: &LoadOptions) -> Result<Loaded, LoadError> {
    check_not_columnar(path, options.format)?;
    let file = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
    load_reader(path, BufReader::with_capacity(BUFFER, file), options)
}

/// `cannot read the file (CODE)` with Node's code for the common causes, so that both parsers
/// word it identically.
fn io_error(path: &str, e: &std::io::Error) -> LoadError {
    let code = match e.kind() {
        std::io::ErrorKind::NotFound => "ENOENT",
        std::io::ErrorKind::PermissionDenied => "EACCES",
        _ if e.raw_os_error() == Some(21) => "EISDIR",
        _ => "EIO",
    };
    LoadError::at(path, format!("cannot read the file ({code})"))
}

fn check_not_columnar(path: &str, format: Format) -> Result<(), LoadError> {
    let lower = path.to_ascii_lowercase();
    let columnar = match format {
        Format::Arrow | Format::Parquet => true,
        Format::Auto => [".arrow", ".feather", ".arrows", ".parquet"]
            .iter()
            .any(|e| lower.ends_with(e)),
        _ => false,
    };
    if columnar {
        return Err(LoadError::at(
            path,
            "Arrow and Parquet files are read by the TypeScript loader, not the native CSV parser",
        ));
    }
    Ok(())
}

/// Physical lines of the input without line endings, the BOM removed from the first.
struct Lines<R> {
    input: R,
    buf: Vec<u8>,
    number: u64,
}

impl<R: BufRead> Lines<R> {
    /// The next non-blank line and its 1-based physical line number.
    fn next_line(&mut self, path: &str) -> Result<Option<u64>, LoadError> {
        loop {
            self.buf.clear();
            let n = self
                .input
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| io_error(path, &e))?;
            if n == 0 {
                return Ok(None);
            }
            self.number += 1;
            if self.buf.last() == Some(&b'\n') {
                self.buf.pop();
                if self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                }
            }
            if self.number == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3);
            }
            if !self.buf.iter().all(|&c| c == b' ' || c == b'\t') {
                return Ok(Some(self.number));
            }
        }
    }
}

#[derive(Clone, Copy)]
enum TimeSrc {
    Field(usize),
    /// MT5: `<DATE>` and `<TIME>` (absent: midnight), joined by a space.
    DateTime(usize, Option<usize>),
}

#[derive(Clone, Copy)]
enum Volume {
    None,
    Zero,
    Field(usize),
    /// Dukascopy: ask volume + bid volume.
    Sum(usize, usize),
}

/// How to read each data row of a resolved file.
struct Plan {
    format: Format,
    delim: u8,
    /// Whether the first non-blank line is a header (not data).
    header: bool,
    time: TimeSrc,
    time_format: TimeFormat,
    offset_ms: i64,
    /// Prices in output order with their column names: bid, ask or open, high, low, close.
    prices: Vec<(&'static str, usize)>,
    volume: Volume,
    /// MT5 ticks: an empty bid or ask repeats the previous row's.
    carry: bool,
    min_fields: usize,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn detect_format(first: &[u8]) -> Format {
    if first.starts_with(b"<DATE>") {
        return Format::Mt5;
    }
    if is_dukascopy_header(first) {
        return Format::Dukascopy;
    }
    let histdata = first.len() > 18
        && first[..8].iter().all(u8::is_ascii_digit)
        && first[8] == b' '
        && first[9..18].iter().all(u8::is_ascii_digit)
        && first[18] == b',';
    if histdata {
        Format::Histdata
    } else {
        Format::Csv
    }
}

fn header_names(first: &[u8], delim: u8) -> Vec<String> {
    let mut f = Fields::default();
    f.split(first, delim);
    (0..f.len())
        .map(|k| lossy(f.get(first, k)).to_ascii_lowercase())
        .collect()
}

/// Dukascopy headers, lower-cased: with ask and bid volumes, then without volumes.
const DUKASCOPY_HEADERS: [&[&str]; 4] = [
    &["time", "ask", "bid", "ask_volume", "bid_volume"],
    &["timestamp", "askprice", "bidprice", "askvolume", "bidvolume"],
    &["gmt time", "ask", "bid", "askvolume", "bidvolume"],
    &["timestamp", "askprice", "bidprice"],
];

/// The Dukascopy header `first` is, if any: `Some(true)` when it has the two volume columns.
fn dukascopy_header(first: &[u8]) -> Option<bool> {
    let names = header_names(first, b',');
    DUKASCOPY_HEADERS
        .iter()
        .find(|h| names.len() == h.len() && names.iter().zip(h.iter()).all(|(a, b)| a == b))
        .map(|h| h.len() == 5)
}

fn is_dukascopy_header(first: &[u8]) -> bool {
    dukascopy_header(first).is_some()
}

fn plan(path: &str, first: &[u8], options: &LoadOptions) -> Result<Plan, LoadError> {
    let format = match options.format {
        Format::Auto => detect_format(first),
        f => f,
    };
    let kind = options.kind;
    let offset_ms = options.timezone_ms.unwrap_or(0);
    let err = |m: String| LoadError::at(path, m);
    let ticks_only = |name: &str| -> Result<(), LoadError> {
        if kind == Kind::Bars {
            return Err(err(format!("{name} files hold ticks, not bars")));
        }
        Ok(())
    };
    match format {
        Format::Dukascopy => {
            ticks_only("Dukascopy")?;
            let Some(volumes) = dukascopy_header(first) else {
                return Err(err(format!(
                    "the first line \"{}\" is not a Dukascopy header (time,ask,bid,ask_volume,bid_volume)",
                    lossy(first)
                )));
            };
            Ok(Plan {
                format,
                delim: b',',
                header: true,
                time: TimeSrc::Field(0),
                time_format: options.time_format,
                offset_ms,
                prices: vec![("bid", 2), ("ask", 1)],
                volume: if volumes { Volume::Sum(3, 4) } else { Volume::None },
                carry: false,
                min_fields: if volumes { 5 } else { 3 },
            })
        }
        Format::Histdata => {
            ticks_only("HistData")?;
            Ok(Plan {
                format,
                delim: b',',
                header: false,
                time: TimeSrc::Field(0),
                time_format: TimeFormat::Datetime,
                offset_ms: options.timezone_ms.unwrap_or(EST_MS),
                prices: vec![("bid", 1), ("ask", 2)],
                volume: Volume::Field(3),
                carry: false,
                min_fields: 4,
            })
        }
        Format::Mt5 => {
            let names = header_names(first, b'\t');
            let find = |n: &str| names.iter().position(|x| x == n);
            let need = |n: &'static str| -> Result<usize, LoadError> {
                find(n).ok_or_else(|| {
                    err(format!(
                        "the MT5 header has no {} column (header: {})",
                        n.to_ascii_uppercase(),
                        lossy(first).replace('\t', " ")
                    ))
                })
            };
            let date = need("<date>")?;
            let (prices, volume, carry, time) = match kind {
                Kind::Ticks => (
                    vec![("bid", need("<bid>")?), ("ask", need("<ask>")?)],
                    Volume::None,
                    true,
                    Some(need("<time>")?),
                ),
                Kind::Bars => (
                    vec![
                        ("open", need("<open>")?),
                        ("high", need("<high>")?),
                        ("low", need("<low>")?),
                        ("close", need("<close>")?),
                    ],
                    Volume::Field(need("<tickvol>")?),
                    false,
                    find("<time>"),
                ),
            };
            Ok(finish(Plan {
                format,
                delim: b'\t',
                header: true,
                time: TimeSrc::DateTime(date, time),
                time_format: TimeFormat::Datetime,
                offset_ms,
                prices,
                volume,
                carry,
                min_fields: 0,
            }))
        }
        Format::Csv => csv_plan(path, first, options, offset_ms),
        Format::Auto | Format::Arrow | Format::Parquet => {
            check_not_columnar(path, format)?;
            Err(err(format!("unknown format '{}'", format.as_str())))
        }
    }
}

/// Sets `min_fields` to one more than the largest column index the plan reads.
fn finish(mut p: Plan) -> Plan {
    let mut max = match p.time {
        TimeSrc::Field(i) => i,
        TimeSrc::DateTime(d, t) => d.max(t.unwrap_or(0)),
    };
    for &(_, i) in &p.prices {
        max = max.max(i);
    }
    match p.volume {
        Volume::Field(i) => max = max.max(i),
        Volume::Sum(a, b) => max = max.max(a).max(b),
        Volume::None | Volume::Zero => {}
    }
    p.min_fields = max + 1;
    p
}

fn csv_plan(path: &str, first: &[u8], options: &LoadOptions, offset_ms: i64) -> Result<Plan, LoadError> {
    let delim = options.delimiter.unwrap_or_else(|| detect_delimiter(first));
    let names = header_names(first, delim);
    let roles: &[&'static str] = match options.kind {
        Kind::Ticks => &["time", "bid", "ask", "volume"],
        Kind::Bars => &["time", "open", "high", "low", "close", "volume"],
    };
    let given = |role: &str| options.columns.iter().find(|(r, _)| r == role).map(|(_, c)| c);
    let listing = || names.join(", ");
    let mut index = Vec::with_capacity(roles.len());
    for (pos, &role) in roles.iter().enumerate() {
        let col = match given(role) {
            Some(ColumnRef::Index(i)) => Some(*i),
            Some(ColumnRef::Name(n)) => {
                if !options.header {
                    return Err(LoadError::at(
                        path,
                        format!("column '{n}' for {role} is named, but the file has no header (header: false); use an index"),
                    ));
                }
                let lower = n.to_ascii_lowercase();
                Some(names.iter().position(|x| *x == lower).ok_or_else(|| {
                    LoadError::at(
                        path,
                        format!(
                            "column '{n}' for {role} is not in the header (columns: {})",
                            listing()
                        ),
                    )
                })?)
            }
            None if options.header => {
                let defaults: &[&str] = if role == "time" {
                    &["time", "timestamp", "date", "datetime"]
                } else {
                    std::slice::from_ref(&roles[pos])
                };
                defaults.iter().find_map(|d| names.iter().position(|x| x == d))
            }
            None => {
                if role == "volume" && names.len() <= pos {
                    None
                } else {
                    Some(pos)
                }
            }
        };
        if col.is_none() && role != "volume" {
            return Err(LoadError::at(
                path,
                format!("the header has no {role} column (columns: {})", listing()),
            ));
        }
        index.push(col);
    }
    let volume = match (index[roles.len() - 1], options.kind) {
        (Some(i), _) => Volume::Field(i),
        (None, Kind::Ticks) => Volume::None,
        (None, Kind::Bars) => Volume::Zero,
    };
    let prices = roles[1..roles.len() - 1]
        .iter()
        .zip(&index[1..roles.len() - 1])
        .map(|(&r, i)| (r, i.unwrap_or(0)))
        .collect();
    Ok(finish(Plan {
        format: Format::Csv,
        delim,
        header: options.header,
        time: TimeSrc::Field(index[0].unwrap_or(0)),
        time_format: options.time_format,
        offset_ms,
        prices,
        volume,
        carry: false,
        min_fields: 0,
    }))
}

/// Problems counted while reading.
struct Problems {
    skipped: Skipped,
}

impl Problems {
    fn add(&mut self, row: u64, reason: &str, message: String) {
        self.skipped.total += 1;
        *self.skipped.by_reason.entry(reason.to_string()).or_insert(0) += 1;
        if self.skipped.first.len() < FIRST_PROBLEMS {
            self.skipped.first.push(SkippedRow {
                row,
                reason: reason.to_string(),
                message,
            });
        }
    }
}

/// The kept columns and the time checks, with one row held back: a row that passed its value
/// checks waits for the next such row, which decides whether the held row's time is a wild one.
struct Sink {
    kind: Kind,
    has_volume: bool,
    n_prices: usize,
    cols: Columns,
    vol: Vec<f64>,
    /// The last kept row and its number.
    last: Option<(u64, Row)>,
    /// The row waiting for the next one.
    held: Option<(u64, Row)>,
    problems: Problems,
}

impl Sink {
    /// A row that failed a check: the held row is settled first, so problems stay in row order.
    fn problem(&mut self, row: u64, reason: &str, message: String) {
        self.settle_held();
        self.problems.add(row, reason, message);
    }

    /// A row that passed its value checks. The held row is a `time_backwards` problem when its
    /// time is later than this row's and this row's time is not before the last kept row's;
    /// otherwise it is settled by the last kept row. This row is held next.
    fn candidate(&mut self, row_no: u64, row: Row) {
        if let Some((held_no, held)) = self.held.take() {
            let next_fits = self.last.as_ref().map_or(true, |(_, l)| row.time >= l.time);
            if held.time > row.time && next_fits {
                self.problems.add(
                    held_no,
                    "time_backwards",
                    format!(
                        "time {} is later than the next row's {} (row {row_no})",
                        js_number(held.time),
                        js_number(row.time)
                    ),
                );
            } else {
                self.settle(held_no, held);
            }
        }
        self.held = Some((row_no, row));
    }

    fn settle_held(&mut self) {
        if let Some((no, row)) = self.held.take() {
            self.settle(no, row);
        }
    }

    /// Checks a row's time against the last kept row's, then keeps it or counts its problem.
    fn settle(&mut self, row_no: u64, row: Row) {
        if let Some((prev_no, prev)) = self.last.as_ref() {
            let n = self.n_prices;
            if row.time < prev.time {
                let message = format!(
                    "time {} is earlier than the previous row's {} (row {prev_no})",
                    js_number(row.time),
                    js_number(prev.time)
                );
                self.problems.add(row_no, "time_backwards", message);
                return;
            }
            if row.time == prev.time && row.prices[..n] == prev.prices[..n] && row.volume == prev.volume {
                let message = format!("same time and values as row {prev_no}");
                self.problems.add(row_no, "duplicate", message);
                return;
            }
        }
        let cols = &mut self.cols;
        cols.time.push(row.time);
        match self.kind {
            Kind::Ticks => {
                cols.bid.push(row.prices[0]);
                cols.ask.push(row.prices[1]);
            }
            Kind::Bars => {
                cols.open.push(row.prices[0]);
                cols.high.push(row.prices[1]);
                cols.low.push(row.prices[2]);
                cols.close.push(row.prices[3]);
            }
        }
        if self.has_volume {
            self.vol.push(row.volume);
        }
        self.last = Some((row_no, row));
    }
}

/// One parsed row: time, up to four prices, volume.
struct Row {
    time: f64,
    prices: [f64; 4],
    volume: f64,
}

enum Parsed {
    Row(Row),
    Incomplete,
    Problem(&'static str, String),
}

struct RowParser {
    plan: Plan,
    fields: Fields,
    time_text: Vec<u8>,
    carried: [Option<f64>; 4],
}

impl RowParser {
    fn parse(&mut self, line: &[u8]) -> Parsed {
        let p = &self.plan;
        let f = &mut self.fields;
        f.split(line, p.delim);
        if f.len() < p.min_fields {
            return Parsed::Problem(
                "unparseable",
                format!("expected at least {} fields, found {}", p.min_fields, f.len()),
            );
        }
        let time_text: &[u8] = match p.time {
            TimeSrc::Field(i) => f.get(line, i),
            TimeSrc::DateTime(d, t) => {
                self.time_text.clear();
                self.time_text.extend_from_slice(f.get(line, d));
                if let Some(t) = t {
                    self.time_text.push(b' ');
                    self.time_text.extend_from_slice(f.get(line, t));
                }
                &self.time_text
            }
        };
        if self.plan.time_format == TimeFormat::Auto {
            self.plan.time_format = TimeFormat::detect(time_text);
        }
        let p = &self.plan;
        let Some(time) = parse_time(time_text, p.time_format, p.offset_ms) else {
            return Parsed::Problem(
                "unparseable",
                format!("time \"{}\" is not a valid time", lossy(time_text)),
            );
        };
        let mut prices = [0.0; 4];
        let mut given = [true; 4];
        for (k, &(name, i)) in p.prices.iter().enumerate() {
            let text = f.get(line, i);
            if p.carry && text.is_empty() {
                given[k] = false;
                continue;
            }
            match parse_number(text) {
                Some(v) => prices[k] = v,
                None => {
                    return Parsed::Problem(
                        "unparseable",
                        format!("{name} \"{}\" is not a number", lossy(text)),
                    )
                }
            }
        }
        let number = |name: &str, i: usize| -> Result<f64, Parsed> {
            let text = f.get(line, i);
            parse_number(text).ok_or_else(|| {
                Parsed::Problem(
                    "unparseable",
                    format!("{name} \"{}\" is not a number", lossy(text)),
                )
            })
        };
        let volume = match p.volume {
            Volume::None | Volume::Zero => 0.0,
            Volume::Field(i) => match number("volume", i) {
                Ok(v) => v,
                Err(e) => return e,
            },
            Volume::Sum(a, b) => {
                let av = match number("ask_volume", a) {
                    Ok(v) => v,
                    Err(e) => return e,
                };
                match number("bid_volume", b) {
                    Ok(bv) => av + bv,
                    Err(e) => return e,
                }
            }
        };
        if p.carry {
            if !given[..p.prices.len()].iter().any(|&g| g) {
                return Parsed::Incomplete;
            }
            let mut complete = true;
            for k in 0..p.prices.len() {
                if given[k] {
                    self.carried[k] = Some(prices[k]);
                } else {
                    match self.carried[k] {
                        Some(v) => prices[k] = v,
                        None => complete = false,
                    }
                }
            }
            if !complete {
                return Parsed::Incomplete;
            }
        }
        Parsed::Row(Row {
            time: time as f64,
            prices,
            volume,
        })
    }
}

fn bad_price(name: &str, v: f64) -> Option<(&'static str, String)> {
    if v.is_finite() && v > 0.0 {
        None
    } else {
        Some((
            "bad_price",
            format!("{name} {} is not a positive finite price", js_number(v)),
        ))
    }
}

fn bad_volume(reason: &'static str, v: f64) -> Option<(&'static str, String)> {
    if v.is_finite() && v >= 0.0 {
        None
    } else {
        Some((
            reason,
            format!("volume {} is not a finite non-negative volume", js_number(v)),
        ))
    }
}

/// The first of `bad_price`, `crossed`, `bad_bar` a row fails, if any.
fn check_values(kind: Kind, has_volume: bool, r: &Row) -> Option<(&'static str, String)> {
    match kind {
        Kind::Ticks => {
            let (bid, ask) = (r.prices[0], r.prices[1]);
            bad_price("bid", bid)
                .or_else(|| bad_price("ask", ask))
                .or_else(|| {
                    if has_volume {
                        bad_volume("bad_price", r.volume)
                    } else {
                        None
                    }
                })
                .or_else(|| {
                    (ask < bid).then(|| {
                        (
                            "crossed",
                            format!("ask {} is below bid {}", js_number(ask), js_number(bid)),
                        )
                    })
                })
        }
        Kind::Bars => {
            let [o, h, l, c] = r.prices;
            bad_price("open", o)
                .or_else(|| bad_price("high", h))
                .or_else(|| bad_price("low", l))
                .or_else(|| bad_price("close", c))
                .or_else(|| {
                    (h < o.max(c)).then(|| {
                        (
                            "bad_bar",
                            format!(
                                "high {} is below max(open, close) ({})",
                                js_number(h),
                                js_number(o.max(c))
                            ),
                        )
                    })
                })
                .or_else(|| {
                    (l > o.min(c)).then(|| {
                        (
                            "bad_bar",
                            format!(
                                "low {} is above min(open, close) ({})",
                                js_number(l),
                                js_number(o.min(c))
                            ),
                        )
                    })
                })
                .or_else(|| bad_volume("bad_bar", r.volume))
        }
    }
}

pub fn load_reader<R: BufRead>(path: &str, mut input: R, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let started = Instant::now();
    check_not_columnar(path, options.format)?;
    let head = decode::read_head(&mut input).map_err(|e| io_error(path, &e))?;
    match decode::sniff(&head) {
        Sniff::Text => load_text(path, Cursor::new(head).chain(input), options, started),
        Sniff::Utf16(big_endian) => {
            let rest = Cursor::new(head[2..].to_vec()).chain(input);
            load_text(path, decode::Utf16::new(rest, big_endian), options, started)
        }
        Sniff::Binary(what) => Err(LoadError::at(
            path,
            format!("not a text file (looks like {what})"),
        )),
    }
}

/// Loads UTF-8 text: the first non-blank line decides the plan, the rest are data rows.
fn load_text<R: BufRead>(
    path: &str,
    input: R,
    options: &LoadOptions,
    started: Instant,
) -> Result<Loaded, LoadError> {
    let mut lines = Lines {
        input,
        buf: Vec::with_capacity(256),
        number: 0,
    };
    let Some(first_number) = lines.next_line(path)? else {
        return Err(LoadError::at(path, "the file is empty (no non-blank line)"));
    };
    if lines.buf.contains(&0) {
        return Err(LoadError::at(path, "not a text file (looks like binary data)"));
    }
    if lines.buf.contains(&b'\r') {
        return Err(LoadError::at(
            path,
            "lines end with CR only; convert them to LF or CRLF",
        ));
    }
    let plan = plan(path, &lines.buf, options)?;
    let kind = options.kind;
    let format = plan.format;
    let has_volume = !matches!(plan.volume, Volume::None);
    let n_prices = plan.prices.len();
    let mut parser = RowParser {
        plan,
        fields: Fields::default(),
        time_text: Vec::new(),
        carried: [None; 4],
    };
    let mut sink = Sink {
        kind,
        has_volume,
        n_prices,
        cols: Columns::default(),
        vol: Vec::new(),
        last: None,
        held: None,
        problems: Problems {
            skipped: Skipped::default(),
        },
    };
    let mut rows_read = 0u64;
    let mut incomplete = 0u64;
    let mut pending = if parser.plan.header {
        None
    } else {
        Some(first_number)
    };
    loop {
        let row_no = match pending.take() {
            Some(n) => n,
            None => match lines.next_line(path)? {
                Some(n) => n,
                None => break,
            },
        };
        rows_read += 1;
        match parser.parse(&lines.buf) {
            Parsed::Row(row) => match check_values(kind, has_volume, &row) {
                Some((reason, message)) => sink.problem(row_no, reason, message),
                None => sink.candidate(row_no, row),
            },
            Parsed::Incomplete => incomplete += 1,
            Parsed::Problem(reason, message) => sink.problem(row_no, reason, message),
        }
    }
    sink.settle_held();
    let Sink {
        mut cols,
        vol,
        problems,
        ..
    } = sink;
    let skipped = problems.skipped;
    if options.policy == Policy::Error && skipped.total > 0 {
        let mut issues: Vec<Issue> = skipped
            .first
            .iter()
            .map(|p| Issue {
                path: format!("{path}:{}", p.row),
                message: format!("{}: {}", p.reason, p.message),
            })
            .collect();
        if skipped.total > FIRST_PROBLEMS as u64 {
            issues.push(Issue {
                path: path.to_string(),
                message: format!("{} problems in total", skipped.total),
            });
        }
        return Err(LoadError { issues });
    }
    if has_volume {
        cols.volume = Some(vol);
    }
    let times = &cols.time;
    let timeframe = match kind {
        Kind::Ticks => None,
        Kind::Bars => Some(match options.timeframe {
            Some(tf) => tf,
            None => detect_timeframe(path, times)?,
        }),
    };
    let threshold = options.gap_ms.unwrap_or(match timeframe {
        Some(tf) => 3.0 * tf.ms(),
        None => 600_000.0,
    });
    let mut gaps = Gaps {
        threshold_ms: threshold,
        count: 0,
        largest_ms: 0.0,
        largest_at: None,
    };
    for w in times.windows(2) {
        let d = w[1] - w[0];
        if d > threshold {
            gaps.count += 1;
            if d > gaps.largest_ms {
                gaps.largest_ms = d;
                gaps.largest_at = Some(w[1]);
            }
        }
    }
    let spread = if kind == Kind::Ticks && !times.is_empty() {
        let (mut min, mut max, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
        for (b, a) in cols.bid.iter().zip(&cols.ask) {
            let s = a - b;
            min = min.min(s);
            max = max.max(s);
            sum += s;
        }
        Some(Spread {
            min,
            mean: sum / times.len() as f64,
            max,
        })
    } else {
        None
    };
    let report = LoadReport {
        path: path.to_string(),
        format: format.as_str().to_string(),
        kind: kind.as_str().to_string(),
        engine: "native".into(),
        from_cache: false,
        elapsed_ms: 0.0,
        rows_read,
        rows: times.len() as u64,
        skipped,
        incomplete,
        first: times.first().copied(),
        last: times.last().copied(),
        gaps,
        timeframe: timeframe.map(|t| t.as_str().to_string()),
        spread,
    };
    let mut loaded = Loaded {
        columns: cols,
        report,
    };
    loaded.report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(loaded)
}

/// The timeframe whose length is the smallest positive step between consecutive times.
fn detect_timeframe(path: &str, times: &[f64]) -> Result<Timeframe, LoadError> {
    let step = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&d| d > 0.0)
        .fold(f64::INFINITY, f64::min);
    if !step.is_finite() {
        return Err(LoadError::at(
            path,
            "cannot detect the timeframe: fewer than two distinct bar times; pass timeframe",
        ));
    }
    Timeframe::ALL
        .into_iter()
        .find(|tf| tf.ms() == step)
        .ok_or_else(|| {
            LoadError::at(
                path,
                format!(
                    "the smallest step between bars, {} ms, is not a timeframe (M1, M5, M15, M30, H1, H4, D1); pass timeframe",
                    js_number(step)
                ),
            )
        })
}
