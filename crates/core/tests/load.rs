//! Loader tests (docs/data.md): formats, times, validation, report, detection, streaming.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use tickforge_core::load::{load_file, text, LoadError, LoadOptions, Loaded};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Writes `content` to a unique file in the temp dir with the given extension.
fn temp_file(content: &[u8], ext: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("tickforge-load-{}-{n}.{ext}", std::process::id()));
    std::fs::write(&path, content).unwrap();
    path.to_string_lossy().into_owned()
}

fn load(content: &str, options: &str) -> Result<Loaded, LoadError> {
    load_bytes(content.as_bytes(), options)
}

fn load_bytes(content: &[u8], options: &str) -> Result<Loaded, LoadError> {
    let path = temp_file(content, "csv");
    let r = load_file(&path, &LoadOptions::from_json(options).unwrap());
    let _ = std::fs::remove_file(&path);
    r.map(|mut l| {
        l.report.path = "F".into();
        l
    })
    .map_err(|mut e| {
        for i in &mut e.issues {
            if let Some(rest) = i.path.strip_prefix(&path_prefix(&i.path)) {
                i.path = format!("F{rest}");
            }
        }
        e
    })
}

/// The temp path part of an issue path (everything before `:row`, or all of it).
fn path_prefix(p: &str) -> String {
    match p.rfind(':') {
        Some(k) if p[k + 1..].chars().all(|c| c.is_ascii_digit()) && k + 1 < p.len() => p[..k].to_string(),
        _ => p.to_string(),
    }
}

fn issues(e: &LoadError) -> Vec<(String, String)> {
    e.issues
        .iter()
        .map(|i| (i.path.clone(), i.message.clone()))
        .collect()
}

/// Epoch ms of a UTC date and time.
fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, ms: i64) -> f64 {
    (text::days_from_civil(y, mo, d) * 86_400_000 + h * 3_600_000 + mi * 60_000 + s * 1000 + ms) as f64
}

const T0: f64 = 1_704_153_600_000.0; // 2024-01-02T00:00:00Z

// ------------------------------------------------------------------------------------ formats

#[test]
fn dukascopy_epoch_ms() {
    let l = load(
        "time,ask,bid,ask_volume,bid_volume\n1704153600000,1.1002,1.1000,1.5,2.25\n1704153600100,1.1003,1.1001,1,1\n",
        r#"{"kind":"ticks"}"#,
    )
    .unwrap();
    assert_eq!(l.columns.time, vec![T0, T0 + 100.0]);
    assert_eq!(l.columns.bid, vec![1.1000, 1.1001]);
    assert_eq!(l.columns.ask, vec![1.1002, 1.1003]);
    assert_eq!(l.columns.volume, Some(vec![3.75, 2.0]));
    let r = &l.report;
    assert_eq!(r.format, "dukascopy");
    assert_eq!((r.rows_read, r.rows, r.incomplete), (2, 2, 0));
    assert_eq!((r.first, r.last), (Some(T0), Some(T0 + 100.0)));
    let s = r.spread.as_ref().unwrap();
    assert!((s.min - 0.0002).abs() < 1e-12 && (s.max - 0.0002).abs() < 1e-12);
    assert_eq!(r.timeframe, None);
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["rowsRead"], 2);
    assert_eq!(json["gaps"]["thresholdMs"], 600000.0);
    assert_eq!(json["gaps"]["largestAt"], serde_json::Value::Null);
    assert_eq!(json["engine"], "native");
    assert_eq!(json["fromCache"], false);
    assert!(json.get("timeframe").is_none());
}

#[test]
fn dukascopy_alternative_header_and_datetime() {
    let l = load(
        "Timestamp,AskPrice,BidPrice,AskVolume,BidVolume\n2024-01-02 00:00:00.250,1.2,1.1,1,2\n",
        "{}",
    )
    .unwrap();
    assert_eq!(l.report.format, "dukascopy");
    assert_eq!(l.columns.time, vec![T0 + 250.0]);
    assert_eq!(l.columns.volume, Some(vec![3.0]));
}

#[test]
fn histdata_est_and_timezone() {
    let data = "20240102 170000123,1.10412,1.10420,0\n20240102 170001000,1.10413,1.10421,2\n";
    let l = load(data, "{}").unwrap();
    assert_eq!(l.report.format, "histdata");
    assert_eq!(
        l.columns.time,
        vec![utc(2024, 1, 2, 22, 0, 0, 123), utc(2024, 1, 2, 22, 0, 1, 0)]
    );
    assert_eq!(l.columns.bid, vec![1.10412, 1.10413]);
    assert_eq!(l.columns.volume, Some(vec![0.0, 2.0]));
    assert_eq!(l.report.rows_read, 2);
    let l = load(data, r#"{"timezone":"+02:00"}"#).unwrap();
    assert_eq!(l.columns.time[0], utc(2024, 1, 2, 15, 0, 0, 123));
    let l = load(data, r#"{"format":"histdata","timezone":"UTC"}"#).unwrap();
    assert_eq!(l.columns.time[0], utc(2024, 1, 2, 17, 0, 0, 123));
    let e = load(data, r#"{"kind":"bars"}"#).unwrap_err();
    assert_eq!(
        issues(&e),
        vec![("F".into(), "HistData files hold ticks, not bars".into())]
    );
}

#[test]
fn mt5_ticks_carry_forward_and_incomplete() {
    let data = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n\
        2024.01.02\t00:00:00.100\t1.1000\t\t\t\t2\n\
        2024.01.02\t00:00:00.200\t\t\t\t\t4\n\
        2024.01.02\t00:00:00.300\t\t1.1002\t\t\t4\n\
        2024.01.02\t00:00:00.400\t1.1001\t\t\t\t2\n\
        2024.01.02\t00:00:00.500\t\t1.1003\t\t\t4\n";
    let l = load(data, r#"{"kind":"ticks"}"#).unwrap();
    assert_eq!(l.report.format, "mt5");
    assert_eq!(l.report.incomplete, 2);
    assert_eq!(l.report.rows_read, 5);
    assert_eq!(l.report.rows, 3);
    assert_eq!(l.report.skipped.total, 0);
    assert_eq!(l.columns.time, vec![T0 + 300.0, T0 + 400.0, T0 + 500.0]);
    assert_eq!(l.columns.bid, vec![1.1000, 1.1001, 1.1001]);
    assert_eq!(l.columns.ask, vec![1.1002, 1.1002, 1.1003]);
    assert_eq!(l.columns.volume, None);
    // An incomplete file never fails under policy error.
    let l = load(
        "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n2024.01.02\t00:00:00\t\t1.1\t\t\t4\n",
        r#"{"policy":"error"}"#,
    )
    .unwrap();
    assert_eq!((l.report.incomplete, l.report.rows), (1, 0));
    assert!(l.report.spread.is_none() && l.report.first.is_none());
}

#[test]
fn mt5_bars_with_and_without_time() {
    let data = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n\
        2024.01.02\t00:00:00\t1.1\t1.2\t1.0\t1.15\t120\t0\t5\n\
        2024.01.02\t00:05:00\t1.15\t1.25\t1.1\t1.2\t80\t0\t5\n\
        2024.01.02\t00:15:00\t1.2\t1.3\t1.1\t1.25\t70\t0\t5\n";
    let l = load(data, r#"{"kind":"bars"}"#).unwrap();
    assert_eq!(l.columns.time, vec![T0, T0 + 300_000.0, T0 + 900_000.0]);
    assert_eq!(l.columns.open, vec![1.1, 1.15, 1.2]);
    assert_eq!(l.columns.close, vec![1.15, 1.2, 1.25]);
    assert_eq!(l.columns.volume, Some(vec![120.0, 80.0, 70.0]));
    assert_eq!(l.report.timeframe.as_deref(), Some("M5"));
    assert_eq!(l.report.gaps.threshold_ms, 900_000.0);
    assert!(l.report.spread.is_none());
    let daily = "<DATE>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n\
        2024.01.02\t1.1\t1.2\t1.0\t1.15\t120\t0\t5\n2024.01.03\t1.1\t1.2\t1.0\t1.15\t120\t0\t5\n";
    let l = load(daily, r#"{"kind":"bars"}"#).unwrap();
    assert_eq!(l.columns.time, vec![T0, T0 + 86_400_000.0]);
    assert_eq!(l.report.timeframe.as_deref(), Some("D1"));
    // A tick file loaded as bars names the missing column.
    let e = load("<DATE>\t<TIME>\t<BID>\t<ASK>\n", r#"{"kind":"bars"}"#).unwrap_err();
    assert_eq!(
        e.issues[0].message,
        "the MT5 header has no <OPEN> column (header: <DATE> <TIME> <BID> <ASK>)"
    );
}

#[test]
fn csv_names_indices_and_no_header() {
    let l = load(
        "Timestamp,Bid,Ask\n1704153600,1.1,1.2\n1704153601,1.1,1.3\n",
        "{}",
    )
    .unwrap();
    assert_eq!(l.report.format, "csv");
    assert_eq!(l.columns.time, vec![T0, T0 + 1000.0]);
    assert_eq!(l.columns.volume, None);
    let l = load(
        "a,b,c,d\n1.2,1.1,x,2024-01-02T00:00:00Z\n",
        r#"{"columns":{"time":"D","bid":1,"ask":"a"}}"#,
    )
    .unwrap();
    assert_eq!(
        (l.columns.time[0], l.columns.bid[0], l.columns.ask[0]),
        (T0, 1.1, 1.2)
    );
    let l = load("1704153600000,1.1,1.2,7\n", r#"{"header":false}"#).unwrap();
    assert_eq!(l.columns.volume, Some(vec![7.0]));
    assert_eq!(l.report.rows_read, 1);
    let l = load(
        "1.1;1.2;1704153600000\n",
        r#"{"header":false,"columns":{"time":2,"bid":0,"ask":1}}"#,
    )
    .unwrap();
    assert_eq!((l.columns.time[0], l.columns.bid[0]), (T0, 1.1));
    let e = load(
        "1704153600000,1.1,1.2\n",
        r#"{"header":false,"columns":{"time":"time"}}"#,
    )
    .unwrap_err();
    assert!(e.issues[0].message.contains("no header"), "{e}");
    // Bars without volume get 0.
    let l = load(
        "date;open;high;low;close\n2024-01-02;1;2;0.5;1.5\n2024-01-03;1;2;0.5;1.5\n",
        r#"{"kind":"bars"}"#,
    )
    .unwrap();
    assert_eq!(l.columns.volume, Some(vec![0.0, 0.0]));
    assert_eq!(l.report.timeframe.as_deref(), Some("D1"));
    // Missing columns are named with the header.
    let e = load("time,bid\n1,1\n", "{}").unwrap_err();
    assert_eq!(
        issues(&e),
        vec![(
            "F".into(),
            "the header has no ask column (columns: time, bid)".into()
        )]
    );
    let e = load("time,bid,ask\n1,1,1\n", r#"{"columns":{"volume":"qty"}}"#).unwrap_err();
    assert_eq!(
        e.issues[0].message,
        "column 'qty' for volume is not in the header (columns: time, bid, ask)"
    );
}

#[test]
fn csv_delimiters_and_quotes() {
    for (d, opt) in [(";", "{}"), ("\t", "{}"), ("\t", r#"{"delimiter":"\t"}"#)] {
        let data = format!("time{d}bid{d}ask\n1704153600000{d}1.1{d}1.2\n");
        let l = load(&data, opt).unwrap();
        assert_eq!(l.columns.ask, vec![1.2], "delimiter {d:?}");
    }
    let l = load(
        "\"time\",\"note\",\"bid\",\"ask\"\n\"2024-01-02 00:00\",\"a, \"\"b\"\"\", \"1.1\" ,\"1.2\"\n",
        "{}",
    )
    .unwrap();
    assert_eq!(
        (l.columns.time[0], l.columns.bid[0], l.columns.ask[0]),
        (T0, 1.1, 1.2)
    );
    let mut f = text::Fields::default();
    let line = b"\"a,b\",\"x\"\"y\" , c ,\"q\"tail,";
    f.split(line, b',');
    let got: Vec<&[u8]> = (0..f.len()).map(|k| f.get(line, k)).collect();
    assert_eq!(got, vec![&b"a,b"[..], b"x\"y", b"c", b"qtail", b""]);
    assert_eq!(text::detect_delimiter(b"a;b;c,d"), b';');
    assert_eq!(text::detect_delimiter(b"a\tb,c\td"), b'\t');
    assert_eq!(text::detect_delimiter(b"a,b;c"), b',');
    assert_eq!(text::detect_delimiter(b"abc"), b',');
}

#[test]
fn crlf_bom_and_blank_lines() {
    let data = b"\xEF\xBB\xBFtime,bid,ask\r\n\r\n1704153600000,1.1,1.2\r\n  \r\n1704153600000,1.1,x\r\n";
    let l = load_bytes(data, r#"{"policy":"skip"}"#).unwrap();
    assert_eq!(l.report.format, "csv");
    assert_eq!((l.report.rows_read, l.report.rows), (2, 1));
    assert_eq!(l.report.skipped.first[0].row, 5);
    assert_eq!(l.report.skipped.first[0].message, "ask \"x\" is not a number");
    let l = load_bytes(
        b"\xEF\xBB\xBFtime,ask,bid,ask_volume,bid_volume\r\n1704153600000,2,1,0,0\r\n",
        "{}",
    )
    .unwrap();
    assert_eq!(l.report.format, "dukascopy");
    assert_eq!(l.columns.ask, vec![2.0]);
}

// ------------------------------------------------------------------------------------ times

fn one_time(t: &str, options: &str) -> Result<f64, LoadError> {
    load(&format!("time,bid,ask\n{t},1,2\n"), options).map(|l| l.columns.time[0])
}

#[test]
fn time_formats() {
    let cases: &[(&str, &str, f64)] = &[
        ("1704153600000", "{}", T0),
        ("1704153600", "{}", T0),
        ("1704153600.5", "{}", T0 + 500.0),
        ("1704153600.123", "{}", T0 + 123.0),
        ("1704153600", r#"{"timeFormat":"epoch-ms"}"#, 1_704_153_600.0),
        (
            "1704153600000",
            r#"{"timeFormat":"epoch-s"}"#,
            1_704_153_600_000_000.0,
        ),
        ("2024-01-02", "{}", T0),
        ("2024.01.02", "{}", T0),
        ("20240102", r#"{"timeFormat":"datetime"}"#, T0),
        ("2024-01-02T13:45", "{}", T0 + 49_500_000.0),
        ("2024-01-02 13:45:07", "{}", T0 + 49_507_000.0),
        ("2024-01-02 13:45:07.1", "{}", T0 + 49_507_100.0),
        ("2024-01-02 13:45:07.123999", "{}", T0 + 49_507_123.0),
        ("20240102 134507", "{}", T0 + 49_507_000.0),
        ("20240102T134507999", "{}", T0 + 49_507_999.0),
        ("2024-01-02T00:00:00Z", "{}", T0),
        ("2024-01-02Z", "{}", T0),
        ("2024-02-29 00:00", "{}", utc(2024, 2, 29, 0, 0, 0, 0)),
        ("1970-01-01", "{}", 0.0),
        ("1969-12-31 23:59:59.999", "{}", -1.0),
        ("2024-01-02 02:00", r#"{"timezone":"+02:00"}"#, T0),
        ("2024-01-01 19:00", r#"{"timezone":"EST"}"#, T0),
        ("2024-01-01 19:30", r#"{"timezone":"-04:30"}"#, T0),
        ("2024-01-02T00:00:00Z", r#"{"timezone":"+02:00"}"#, T0),
        ("1704153600000", r#"{"timezone":"+02:00"}"#, T0),
    ];
    for &(t, o, want) in cases {
        assert_eq!(
            one_time(t, o).unwrap_or_else(|e| panic!("{t} {o}: {e}")),
            want,
            "{t} {o}"
        );
    }
    // `auto` reads "20240102" as epoch seconds (digits only, 10 or fewer).
    assert_eq!(one_time("20240102", "{}").unwrap(), 20_240_102_000.0);
    let bad = [
        "2024-13-01",
        "2024-02-30",
        "2023-02-29",
        "2024-01-02 24:00",
        "2024-01-02 12:60",
        "2024-01-02 12:00:60",
        "2024-01-02 12:00:00.",
        "2024-01-02X",
        "2024-01-0",
        "2024/01/02",
        "2024-01.02",
        "abc",
        "",
        "2024-01-02 12:00 Z",
    ];
    for t in bad {
        let e = one_time(t, r#"{"timeFormat":"datetime"}"#).unwrap_err();
        assert_eq!(
            e.issues[0].message,
            format!("unparseable: time \"{t}\" is not a valid time"),
            "{t}"
        );
    }
    for (t, f) in [
        ("1704153600.1234", "epoch-s"),
        ("1704153600.", "epoch-s"),
        ("-5", "epoch-s"),
        ("1.5", "epoch-ms"),
        ("99999999999999999", "epoch-ms"),
    ] {
        assert!(
            one_time(t, &format!(r#"{{"timeFormat":"{f}"}}"#)).is_err(),
            "{t} {f}"
        );
    }
    for (tz, ok) in [
        ("UTC", true),
        ("EST", true),
        ("+14:00", true),
        ("-00:30", true),
        ("+24:00", false),
        ("CET", false),
        ("+2:00", false),
    ] {
        assert_eq!(
            LoadOptions::from_json(&format!(r#"{{"timezone":"{tz}"}}"#)).is_ok(),
            ok,
            "{tz}"
        );
    }
}

#[test]
fn auto_time_format_is_decided_by_the_first_data_row() {
    assert_eq!(
        text::TimeFormat::detect(b"1704153600000"),
        text::TimeFormat::EpochMs
    );
    assert_eq!(
        text::TimeFormat::detect(b"17041536000"),
        text::TimeFormat::EpochMs
    );
    assert_eq!(text::TimeFormat::detect(b"1704153600"), text::TimeFormat::EpochS);
    assert_eq!(
        text::TimeFormat::detect(b"1704153600.5"),
        text::TimeFormat::EpochS
    );
    assert_eq!(
        text::TimeFormat::detect(b"17041536000.5"),
        text::TimeFormat::Datetime
    );
    assert_eq!(text::TimeFormat::detect(b"1.2.3"), text::TimeFormat::Datetime);
    assert_eq!(
        text::TimeFormat::detect(b"2024-01-02"),
        text::TimeFormat::Datetime
    );
    // The second row is read with the first row's format.
    let e = load("time,bid,ask\n1704153600000,1,2\n2024-01-02,1,2\n", "{}").unwrap_err();
    assert_eq!(e.issues[0].path, "F:3");
}

#[test]
fn number_grammar() {
    for (s, v) in [
        ("1", 1.0),
        ("1.", 1.0),
        (".5", 0.5),
        ("+1e3", 1000.0),
        ("-2.5E-1", -0.25),
        ("0001.10", 1.1),
    ] {
        assert_eq!(text::parse_number(s.as_bytes()), Some(v), "{s}");
    }
    for s in [
        "", ".", "+", "1e", "1e+", "abc", "0x10", "inf", "NaN", "Infinity", "1,5", "1 5", "--1", "1.2.3",
    ] {
        assert_eq!(text::parse_number(s.as_bytes()), None, "{s}");
    }
    assert_eq!(text::parse_number(b"1e400"), Some(f64::INFINITY));
}

// ------------------------------------------------------------------------------------ validation

const TICKS_WITH_PROBLEMS: &str = "time,bid,ask,volume\n\
    1704153600000,1.1,1.2,1\n\
    1704153600000,abc,1.2,1\n\
    1704153600001,1.1\n\
    1704153600002,0,1.2,1\n\
    \n\
    1704153600003,1.3,1.2,1\n\
    1704153600004,1.1,1.2,-1\n\
    1704153599999,1.1,1.2,1\n\
    1704153600000,1.1,1.2,1\n\
    1704153600000,1.1,1.2,2\n\
    1704153600005,1e400,1.2,1\n";

#[test]
fn validation_reasons_in_both_policies() {
    let expected: Vec<(u64, &str, &str)> = vec![
        (3, "unparseable", "bid \"abc\" is not a number"),
        (4, "unparseable", "expected at least 4 fields, found 2"),
        (5, "bad_price", "bid 0 is not a positive finite price"),
        (7, "crossed", "ask 1.2 is below bid 1.3"),
        (8, "bad_price", "volume -1 is not a finite non-negative volume"),
        (
            9,
            "time_backwards",
            "time 1704153599999 is earlier than the previous row's 1704153600000 (row 2)",
        ),
        (10, "duplicate", "same time and values as row 2"),
        (12, "bad_price", "bid Infinity is not a positive finite price"),
    ];
    let l = load(TICKS_WITH_PROBLEMS, r#"{"policy":"skip"}"#).unwrap();
    let r = &l.report;
    assert_eq!((r.rows_read, r.rows, r.skipped.total), (10, 2, 8));
    let got: Vec<(u64, &str, &str)> = r
        .skipped
        .first
        .iter()
        .map(|s| (s.row, s.reason.as_str(), s.message.as_str()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(r.skipped.by_reason["unparseable"], 2);
    assert_eq!(r.skipped.by_reason["bad_price"], 3);
    assert_eq!(r.skipped.by_reason.len(), 5);
    assert_eq!(l.columns.time, vec![T0, T0]);
    assert_eq!(l.columns.volume, Some(vec![1.0, 2.0]));

    let e = load(TICKS_WITH_PROBLEMS, r#"{"policy":"error"}"#).unwrap_err();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(row, reason, m)| (format!("F:{row}"), format!("{reason}: {m}")))
        .collect();
    assert_eq!(issues(&e), want);
}

#[test]
fn bar_validation() {
    let data = "time,open,high,low,close,volume\n\
        2024-01-02 00:00,1,2,0.5,1.5,10\n\
        2024-01-02 00:01,1,1.4,0.5,1.5,10\n\
        2024-01-02 00:02,1,2,1.2,1.5,10\n\
        2024-01-02 00:03,1,2,0.5,1.5,-3\n\
        2024-01-02 00:04,1,2,0.5,-1.5,3\n\
        2024-01-02 00:00,1,2,0.5,1.5,10\n\
        2024-01-02 00:05,1,2,0.5,1.5,10\n";
    let l = load(data, r#"{"kind":"bars","policy":"skip"}"#).unwrap();
    let got: Vec<(u64, &str, &str)> = l
        .report
        .skipped
        .first
        .iter()
        .map(|s| (s.row, s.reason.as_str(), s.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, "bad_bar", "high 1.4 is below max(open, close) (1.5)"),
            (4, "bad_bar", "low 1.2 is above min(open, close) (1)"),
            (5, "bad_bar", "volume -3 is not a finite non-negative volume"),
            (6, "bad_price", "close -1.5 is not a positive finite price"),
            (7, "duplicate", "same time and values as row 2"),
        ]
    );
    assert_eq!(l.columns.time, vec![T0, T0 + 300_000.0]);
    assert_eq!(l.report.timeframe.as_deref(), Some("M5"));
    let e = load(data, r#"{"kind":"bars"}"#).unwrap_err();
    assert_eq!(e.issues.len(), 5);
    assert_eq!(e.issues[0].path, "F:3");
}

#[test]
fn more_than_ten_problems() {
    let mut data = String::from("time,bid,ask\n");
    for i in 0..25 {
        data.push_str(&format!("{},x,1\n", 1_704_153_600_000u64 + i));
    }
    data.push_str("1704153700000,1,2\n");
    let e = load(&data, "{}").unwrap_err();
    assert_eq!(e.issues.len(), 11);
    assert_eq!(e.issues[9].path, "F:11");
    assert_eq!(issues(&e)[10], ("F".into(), "25 problems in total".into()));
    let l = load(&data, r#"{"policy":"skip"}"#).unwrap();
    assert_eq!(
        (
            l.report.skipped.total,
            l.report.skipped.first.len(),
            l.report.rows
        ),
        (25, 10, 1)
    );
}

// ------------------------------------------------------------------------------------ report

#[test]
fn gaps_and_spread() {
    let data = "time,bid,ask\n0,1,1.5\n1000,1,1.25\n700000,1,1.5\n701000,1,2\n2000000,1,1.5\n";
    let l = load(data, r#"{"timeFormat":"epoch-ms"}"#).unwrap();
    let g = &l.report.gaps;
    assert_eq!(
        (g.threshold_ms, g.count, g.largest_ms, g.largest_at),
        (600_000.0, 2, 1_299_000.0, Some(2_000_000.0))
    );
    let l = load(data, r#"{"timeFormat":"epoch-ms","gapMs":1000}"#).unwrap();
    assert_eq!((l.report.gaps.count, l.report.gaps.largest_ms), (2, 1_299_000.0));
    let l = load(data, r#"{"timeFormat":"epoch-ms","gapMs":999}"#).unwrap();
    assert_eq!(l.report.gaps.count, 4);
    let s = l.report.spread.unwrap();
    assert_eq!((s.min, s.max, s.mean), (0.25, 1.0, 0.55));
}

#[test]
fn bar_timeframe_detection() {
    let bars = |times: &[&str]| {
        let mut s = String::from("time,open,high,low,close\n");
        for t in times {
            s.push_str(&format!("{t},1,1,1,1\n"));
        }
        s
    };
    let l = load(
        &bars(&["2024-01-02 00:00", "2024-01-02 04:00", "2024-01-02 12:00"]),
        r#"{"kind":"bars"}"#,
    )
    .unwrap();
    assert_eq!(l.report.timeframe.as_deref(), Some("H4"));
    assert_eq!(l.report.gaps.threshold_ms, 3.0 * 14_400_000.0);
    let odd = bars(&["2024-01-02 00:00", "2024-01-02 00:02"]);
    let e = load(&odd, r#"{"kind":"bars"}"#).unwrap_err();
    assert_eq!(
        issues(&e),
        vec![("F".into(), "the smallest step between bars, 120000 ms, is not a timeframe (M1, M5, M15, M30, H1, H4, D1); pass timeframe".into())]
    );
    let l = load(&odd, r#"{"kind":"bars","timeframe":"M1"}"#).unwrap();
    assert_eq!(l.report.timeframe.as_deref(), Some("M1"));
    assert_eq!(l.report.gaps.threshold_ms, 180_000.0);
    let e = load(&bars(&["2024-01-02 00:00"]), r#"{"kind":"bars"}"#).unwrap_err();
    assert!(e.issues[0].message.starts_with("cannot detect the timeframe"));
}

// ------------------------------------------------------------------------------------ detection and errors

#[test]
fn detection_and_file_errors() {
    let e = load_file(
        "/nonexistent/tickforge.csv",
        &LoadOptions::from_json("{}").unwrap(),
    )
    .unwrap_err();
    assert_eq!(e.issues[0].path, "/nonexistent/tickforge.csv");
    assert_eq!(e.issues[0].message, "cannot read the file (ENOENT)");
    let dir = std::env::temp_dir().to_string_lossy().into_owned();
    let e = load_file(&dir, &LoadOptions::from_json("{}").unwrap()).unwrap_err();
    assert_eq!(e.issues[0].message, "cannot read the file (EISDIR)");
    let e = load("\n  \n", "{}").unwrap_err();
    assert_eq!(
        issues(&e),
        vec![("F".into(), "the file is empty (no non-blank line)".into())]
    );
    let path = temp_file(b"x", "parquet");
    let e = load_file(&path, &LoadOptions::from_json("{}").unwrap()).unwrap_err();
    assert!(e.issues[0].message.contains("TypeScript"));
    let _ = std::fs::remove_file(&path);
    let e = load("time,bid,ask\n1,1,1\n", r#"{"format":"dukascopy"}"#).unwrap_err();
    assert!(e.issues[0].message.contains("is not a Dukascopy header"), "{e}");
    assert!(LoadOptions::from_json(r#"{"format":"xlsx"}"#).is_err());
    assert!(LoadOptions::from_json(r#"{"columns":{"bid":-1}}"#).is_err());
    assert!(LoadOptions::from_json(r#"{"columns":{"open":1}}"#).is_err());
    // A HistData-like line without the exact shape is generic CSV (and its header fails).
    let e = load("20240102 17000012,1,2,0\n", "{}").unwrap_err();
    assert!(
        e.issues[0].message.starts_with("the header has no time column"),
        "{e}"
    );
    // Explicit formats and options accept nulls.
    let l = load(
        "time,bid,ask\n1704153600000,1,2\n",
        r#"{"kind":"ticks","format":"csv","columns":{"time":null},"header":null,"delimiter":null,"timeFormat":"auto","timezone":null,"policy":"error","gapMs":null,"timeframe":null}"#,
    )
    .unwrap();
    assert_eq!(l.report.rows, 1);
}

// ------------------------------------------------------------------------------------ streaming

#[test]
fn streams_two_million_rows() {
    const N: u64 = 2_000_000;
    let path = temp_file(b"", "csv");
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        w.write_all(b"time,ask,bid,ask_volume,bid_volume\n").unwrap();
        let mut line = String::with_capacity(64);
        for i in 0..N {
            use std::fmt::Write as _;
            line.clear();
            let bid = 10_000 + (i % 1000);
            let _ = writeln!(
                line,
                "{},1.{:05},1.{:05},{}.5,1",
                1_704_153_600_000 + i * 250,
                bid + 3,
                bid,
                i % 7
            );
            w.write_all(line.as_bytes()).unwrap();
        }
    }
    let l = load_file(&path, &LoadOptions::from_json("{}").unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    let r = &l.report;
    assert_eq!((r.rows_read, r.rows, r.skipped.total), (N, N, 0));
    assert_eq!(l.columns.time.len(), N as usize);
    assert_eq!(l.columns.time[1_234_567], T0 + 1_234_567.0 * 250.0);
    assert_eq!(l.columns.bid[1_234_567], 1.10567);
    assert_eq!(l.columns.ask[1_234_567], 1.1057);
    assert_eq!(l.columns.volume.as_ref().unwrap()[1_234_567], 5.5 + 1.0);
    assert_eq!(r.last, Some(T0 + (N - 1) as f64 * 250.0));
    assert_eq!(r.gaps.count, 0);
}

// ------------------------------------------------------------------------------- real-world input

fn fixture(name: &str) -> String {
    format!(
        "{}/../../__test__/fixtures/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for u in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_files_load_like_utf8() {
    let o = LoadOptions::from_json(r#"{"kind":"ticks"}"#).unwrap();
    let a = load_file(&fixture("mt5-ticks.csv"), &o).unwrap();
    let b = load_file(&fixture("mt5-ticks-utf16.csv"), &o).unwrap();
    assert_eq!(a.columns, b.columns);
    assert_eq!(b.report.format, "mt5");
    assert_eq!(
        (a.report.rows_read, a.report.rows),
        (b.report.rows_read, b.report.rows)
    );

    // Both byte orders, a non-ASCII character and a row long enough to cross decode chunks.
    let long = "x".repeat(70_000);
    let text = format!("time,bid,ask,note\n1704153600000,1.1,1.2,é\n1704153600100,1.1,1.2,{long}\r\n1704153600200,1.1,1.3,𝄞\n");
    let plain = load(&text, "{}").unwrap();
    for be in [false, true] {
        let l = load_bytes(&utf16(&text, be), "{}").unwrap();
        assert_eq!(l.columns, plain.columns);
        assert_eq!(l.report.rows, 3);
    }
    // Row numbers and messages are those of the decoded text.
    let e = load_bytes(&utf16("time,bid,ask\n\n1704153600000,1.1,x\n", false), "{}").unwrap_err();
    assert_eq!(
        issues(&e),
        vec![("F:3".into(), "unparseable: ask \"x\" is not a number".into())]
    );
    // A byte order mark alone is an empty file.
    let e = load_bytes(&[0xFF, 0xFE], "{}").unwrap_err();
    assert_eq!(e.issues[0].message, "the file is empty (no non-blank line)");
}

#[test]
fn binary_and_cr_only_files_are_refused() {
    let cases: [(&[u8], &str, &str); 7] = [
        (
            b"\x1F\x8B\x08\x00\x00\x00",
            "{}",
            "not a text file (looks like gzip)",
        ),
        (
            b"ARROW1\0\0",
            r#"{"format":"csv"}"#,
            "not a text file (looks like Arrow)",
        ),
        (
            b"\xFF\xFF\xFF\xFF\x10\0",
            r#"{"format":"mt5"}"#,
            "not a text file (looks like Arrow)",
        ),
        (
            b"PAR1\x15\x04",
            r#"{"format":"dukascopy"}"#,
            "not a text file (looks like Parquet)",
        ),
        (
            b"\n\ntime,bid\0,ask\n1,1,1\n",
            "{}",
            "not a text file (looks like binary data)",
        ),
        // UTF-16 without a byte order mark reads as text with NUL bytes.
        (
            b"t\0i\0m\0e\0\n\0",
            "{}",
            "not a text file (looks like binary data)",
        ),
        (
            b"time,bid,ask\r1704153600000,1,2\r",
            "{}",
            "lines end with CR only; convert them to LF or CRLF",
        ),
    ];
    for (bytes, options, message) in cases {
        let e = load_bytes(bytes, options).unwrap_err();
        assert_eq!(issues(&e), vec![("F".into(), message.into())], "{options}");
    }
    // Short files and CRLF files are unaffected.
    assert_eq!(
        load("PAR", "{}").unwrap_err().issues[0].message,
        "the header has no time column (columns: par)"
    );
    assert_eq!(
        load("time,bid,ask\r\n1704153600000,1,2\r\n", "{}")
            .unwrap()
            .report
            .rows,
        1
    );
    // NUL bytes after the first line are ordinary (unparseable) text.
    let l = load_bytes(
        b"time,bid,ask\n1704153600000,1,2\n17041536000\x0000,1,2\n",
        r#"{"policy":"skip"}"#,
    )
    .unwrap();
    assert_eq!((l.report.rows, l.report.skipped.total), (1, 1));
}

#[test]
fn dukascopy_jforex_and_node_headers() {
    let l = load_file(
        &fixture("dukascopy-jforex.csv"),
        &LoadOptions::from_json("{}").unwrap(),
    )
    .unwrap();
    assert_eq!(l.report.format, "dukascopy");
    assert_eq!(
        l.columns.time,
        vec![
            utc(2024, 1, 1, 22, 0, 0, 123),
            utc(2024, 1, 1, 22, 0, 0, 456),
            utc(2024, 1, 2, 0, 0, 1, 0)
        ]
    );
    assert_eq!(l.columns.bid, vec![1.1039, 1.10391, 1.104]);
    assert_eq!(l.columns.ask, vec![1.10412, 1.10413, 1.1042]);
    assert_eq!(l.columns.volume, Some(vec![2.1, 2.25, 5.0]));
    let l = load(
        "GMT TIME , ASK,Bid,askvolume,BIDVOLUME\n02.01.2024 00:00,1.2,1.1,1,1\n",
        "{}",
    )
    .unwrap();
    assert_eq!((l.report.format.as_str(), l.columns.time[0]), ("dukascopy", T0));

    let l = load_file(
        &fixture("dukascopy-node.csv"),
        &LoadOptions::from_json("{}").unwrap(),
    )
    .unwrap();
    assert_eq!(l.report.format, "dukascopy");
    assert_eq!(l.columns.time, vec![T0, T0 + 250.0, T0 + 1000.0]);
    assert_eq!(l.columns.bid, vec![1.10002, 1.10003, 1.1001]);
    assert_eq!(l.columns.volume, None);
    let e = load(
        "timestamp,askPrice,bidPrice\n1704153600000,1.2\n",
        r#"{"format":"dukascopy"}"#,
    )
    .unwrap_err();
    assert_eq!(
        issues(&e),
        vec![(
            "F:2".into(),
            "unparseable: expected at least 3 fields, found 2".into()
        )]
    );
}

#[test]
fn day_first_dates() {
    let t = |s: &str| one_time(s, r#"{"timeFormat":"datetime"}"#).ok();
    assert_eq!(t("02.01.2024"), Some(T0));
    assert_eq!(t("01.01.2024 22:00:00.123"), Some(utc(2024, 1, 1, 22, 0, 0, 123)));
    assert_eq!(t("29.02.2024T23:59:59Z"), Some(utc(2024, 2, 29, 23, 59, 59, 0)));
    assert_eq!(t("02.01.2024 000000"), Some(T0));
    for bad in [
        "30.02.2024",
        "02.13.2024",
        "2.01.2024",
        "02.01.24",
        "02-01-2024",
        "02.01.2024x",
    ] {
        assert_eq!(t(bad), None, "{bad}");
    }
    assert_eq!(
        one_time("02.01.2024 02:00", r#"{"timezone":"+02:00"}"#).ok(),
        Some(T0)
    );
}

#[test]
fn one_wild_time_does_not_drop_the_rest() {
    let rows = |times: &[f64]| {
        let mut s = String::from("time,bid,ask\n");
        for t in times {
            s.push_str(&format!("{t},1.1,1.2\n"));
        }
        s
    };
    let future = T0 + 1e10;
    let data = rows(&[T0, T0 + 1.0, future, T0 + 2.0, T0 + 3.0, T0 + 4.0]);
    let l = load(&data, r#"{"policy":"skip"}"#).unwrap();
    assert_eq!(l.columns.time, vec![T0, T0 + 1.0, T0 + 2.0, T0 + 3.0, T0 + 4.0]);
    assert_eq!(l.report.skipped.by_reason.get("time_backwards"), Some(&1));
    let first = &l.report.skipped.first[0];
    assert_eq!(first.row, 4);
    assert_eq!(
        first.message,
        "time 1714153600000 is later than the next row's 1704153600002 (row 5)"
    );
    let e = load(&data, "{}").unwrap_err();
    assert_eq!(
        issues(&e),
        vec![(
            "F:4".into(),
            "time_backwards: time 1714153600000 is later than the next row's 1704153600002 (row 5)".into()
        )]
    );
    // A genuine step back is still the later row's problem.
    let l = load(&rows(&[T0 + 1.0, T0 + 2.0, T0, T0 + 3.0]), r#"{"policy":"skip"}"#).unwrap();
    assert_eq!(l.columns.time, vec![T0 + 1.0, T0 + 2.0, T0 + 3.0]);
    assert_eq!(
        l.report.skipped.first[0].message,
        "time 1704153600000 is earlier than the previous row's 1704153600002 (row 3)"
    );
    // A wild first row; a wild last row has no next row and is kept.
    let l = load(&rows(&[future, T0, T0 + 1.0]), r#"{"policy":"skip"}"#).unwrap();
    assert_eq!(l.columns.time, vec![T0, T0 + 1.0]);
    let l = load(&rows(&[T0, T0 + 1.0, future]), r#"{"policy":"skip"}"#).unwrap();
    assert_eq!(l.columns.time, vec![T0, T0 + 1.0, future]);
    // A problem row between them ends the look-ahead: problems stay in row order.
    let mut data = rows(&[T0, future]);
    data.push_str("x,1,1\n");
    data.push_str(&format!("{},1.1,1.2\n", T0 + 2.0));
    let l = load(&data, r#"{"policy":"skip"}"#).unwrap();
    assert_eq!(l.columns.time, vec![T0, future]);
    let got: Vec<(u64, &str)> = l
        .report
        .skipped
        .first
        .iter()
        .map(|p| (p.row, p.reason.as_str()))
        .collect();
    assert_eq!(got, vec![(4, "unparseable"), (5, "time_backwards")]);
}

#[test]
fn mt5_trade_only_ticks_are_incomplete() {
    let data = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\n\
        2024.01.02\t00:00:00.100\t1.1000\t1.1002\t\t\t6\n\
        2024.01.02\t00:00:00.200\t\t\t1.1001\t3\t88\n\
        2024.01.02\t00:00:00.300\t\t1.1003\t\t\t4\n\
        2024.01.02\t00:00:00.400\t\t\t1.1002\t1\t88\n";
    let l = load(data, "{}").unwrap();
    assert_eq!(l.columns.time, vec![T0 + 100.0, T0 + 300.0]);
    assert_eq!(l.columns.ask, vec![1.1002, 1.1003]);
    assert_eq!(
        (
            l.report.rows_read,
            l.report.rows,
            l.report.incomplete,
            l.report.skipped.total
        ),
        (4, 2, 2, 0)
    );
    // Trade-only ticks between a wild row and the next quote do not end the look-ahead.
    let data = "<DATE>\t<TIME>\t<BID>\t<ASK>\n\
        2024.01.02\t00:00:00.100\t1.1\t1.2\n\
        2024.03.02\t00:00:00.200\t1.1\t1.2\n\
        2024.01.02\t00:00:00.250\t\t\n\
        2024.01.02\t00:00:00.300\t1.1\t1.2\n";
    let l = load(data, r#"{"policy":"skip"}"#).unwrap();
    assert_eq!(l.columns.time, vec![T0 + 100.0, T0 + 300.0]);
    assert_eq!((l.report.incomplete, l.report.skipped.first[0].row), (1, 3));
}
