//! Indicators against TA-Lib reference values and against small cases worked out by hand.

use serde_json::Value;
use tickforge_core::indicators::{
    Atr, Bollinger, Ema, Envelope, Indicator, IndicatorSpec, Macd, Rsi, Sma, Source,
};
use tickforge_core::Bar;

const FIXTURE: &str = include_str!("../../../__test__/fixtures/talib.json");
const REL_TOL: f64 = 1e-9;

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("talib.json parses")
}

fn column(v: &Value, name: &str) -> Vec<f64> {
    v["input"][name]
        .as_array()
        .unwrap_or_else(|| panic!("input.{name} is an array"))
        .iter()
        .map(|x| x.as_f64().expect("input values are numbers"))
        .collect()
}

fn fixture_bars(v: &Value) -> Vec<Bar> {
    let (time, open, high, low, close) = (
        column(v, "time"),
        column(v, "open"),
        column(v, "high"),
        column(v, "low"),
        column(v, "close"),
    );
    (0..time.len())
        .map(|i| Bar {
            time: time[i],
            open: open[i],
            high: high[i],
            low: low[i],
            close: close[i],
            volume: 0.0,
        })
        .collect()
}

fn usize_param(params: &Value, name: &str) -> usize {
    params[name]
        .as_u64()
        .unwrap_or_else(|| panic!("integer param {name}")) as usize
}

fn f64_param(params: &Value, name: &str) -> f64 {
    params[name]
        .as_f64()
        .unwrap_or_else(|| panic!("number param {name}"))
}

fn spec_of(kind: &str, p: &Value) -> IndicatorSpec {
    let source = Source::Close;
    match kind {
        "sma" => IndicatorSpec::Sma {
            period: usize_param(p, "period"),
            source,
        },
        "ema" => IndicatorSpec::Ema {
            period: usize_param(p, "period"),
            source,
        },
        "rsi" => IndicatorSpec::Rsi {
            period: usize_param(p, "period"),
            source,
        },
        "atr" => IndicatorSpec::Atr {
            period: usize_param(p, "period"),
        },
        "bollinger" => IndicatorSpec::Bollinger {
            period: usize_param(p, "period"),
            deviations: f64_param(p, "deviations"),
            source,
        },
        "envelope" => IndicatorSpec::Envelope {
            period: usize_param(p, "period"),
            percent: f64_param(p, "percent"),
            source,
        },
        "macd" => IndicatorSpec::Macd {
            fast: usize_param(p, "fast"),
            slow: usize_param(p, "slow"),
            signal: usize_param(p, "signal"),
            source,
        },
        other => panic!("unknown kind {other} in fixture"),
    }
}

/// Runs the fixture case `kind` and compares every output with TA-Lib. Returns how many cases
/// of that kind the fixture holds, so a kind silently missing from the file fails the test.
fn check_kind(kind: &str) -> usize {
    let v = fixture();
    let bars = fixture_bars(&v);
    let mut checked = 0;
    for case in v["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["kind"] == kind)
    {
        let spec = spec_of(kind, &case["params"]);
        let names = spec.output_names();
        let expected: Vec<Vec<Option<f64>>> = names
            .iter()
            .map(|name| {
                case["outputs"][*name]
                    .as_array()
                    .unwrap_or_else(|| panic!("{kind} output {name}"))
                    .iter()
                    .map(Value::as_f64)
                    .collect()
            })
            .collect();
        let mut ind = Indicator::new(&spec);
        for (i, bar) in bars.iter().enumerate() {
            ind.update(bar);
            for (o, name) in names.iter().enumerate() {
                let got = ind.output(o);
                match expected[o][i] {
                    None => assert!(got.is_nan(), "{spec:?} {name}[{i}]: expected NaN, got {got}"),
                    Some(want) => {
                        let err = (got - want).abs();
                        assert!(
                            err <= REL_TOL * want.abs(),
                            "{spec:?} {name}[{i}]: got {got}, TA-Lib {want} (diff {err:e})"
                        );
                    }
                }
            }
        }
        checked += 1;
    }
    assert!(checked > 0, "fixture has no {kind} case");
    checked
}

#[test]
fn sma_matches_talib() {
    assert_eq!(check_kind("sma"), 3);
}

#[test]
fn ema_matches_talib() {
    assert_eq!(check_kind("ema"), 2);
}

#[test]
fn rsi_matches_talib() {
    assert_eq!(check_kind("rsi"), 2);
}

#[test]
fn atr_matches_talib() {
    assert_eq!(check_kind("atr"), 1);
}

#[test]
fn bollinger_matches_talib() {
    assert_eq!(check_kind("bollinger"), 1);
}

#[test]
fn envelope_matches_talib() {
    assert_eq!(check_kind("envelope"), 1);
}

#[test]
fn macd_matches_talib() {
    assert_eq!(check_kind("macd"), 1);
}

#[test]
fn output_names_per_kind() {
    let s = Source::Close;
    assert_eq!(
        IndicatorSpec::Sma { period: 3, source: s }.output_names(),
        ["value"]
    );
    assert_eq!(
        IndicatorSpec::Ema { period: 3, source: s }.output_names(),
        ["value"]
    );
    assert_eq!(
        IndicatorSpec::Rsi { period: 3, source: s }.output_names(),
        ["value"]
    );
    assert_eq!(IndicatorSpec::Atr { period: 3 }.output_names(), ["value"]);
    let bands = ["upper", "middle", "lower"];
    assert_eq!(
        IndicatorSpec::Bollinger {
            period: 3,
            deviations: 2.0,
            source: s
        }
        .output_names(),
        bands
    );
    assert_eq!(
        IndicatorSpec::Envelope {
            period: 3,
            percent: 1.0,
            source: s
        }
        .output_names(),
        bands
    );
    assert_eq!(
        IndicatorSpec::Macd {
            fast: 2,
            slow: 3,
            signal: 2,
            source: s
        }
        .output_names(),
        ["macd", "signal", "hist"]
    );
}

#[test]
fn sma_of_small_series() {
    let mut sma = Sma::new(3);
    sma.update(1.0);
    assert!(sma.value().is_nan());
    sma.update(2.0);
    assert!(sma.value().is_nan());
    sma.update(3.0);
    assert_eq!(sma.value(), 2.0); // (1 + 2 + 3) / 3
    sma.update(4.0);
    assert_eq!(sma.value(), 3.0); // (2 + 3 + 4) / 3
}

#[test]
fn sma_of_period_one_is_the_value() {
    let mut sma = Sma::new(1);
    for x in [1.1, 1.23456, 0.3, 7.0] {
        sma.update(x);
        assert_eq!(sma.value(), x);
    }
}

#[test]
fn ema_seed_equals_sma_then_smooths() {
    let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
    let mut ema = Ema::new(3);
    let mut sma = Sma::new(3);
    for &x in &xs[..2] {
        ema.update(x);
        assert!(ema.value().is_nan());
    }
    ema.update(xs[2]);
    sma.update(xs[0]);
    sma.update(xs[1]);
    sma.update(xs[2]);
    assert_eq!(ema.value(), sma.value());
    assert_eq!(ema.value(), 2.0);
    // k = 2 / (3 + 1) = 0.5: (4 - 2) * 0.5 + 2 = 3, then (5 - 3) * 0.5 + 3 = 4.
    ema.update(xs[3]);
    assert_eq!(ema.value(), 3.0);
    ema.update(xs[4]);
    assert_eq!(ema.value(), 4.0);
}

#[test]
fn rsi_of_rising_series_is_100() {
    let mut rsi = Rsi::new(3);
    for (i, x) in [1.0, 2.0, 3.0, 5.0, 8.0, 9.0].into_iter().enumerate() {
        rsi.update(x);
        if i < 3 {
            assert!(rsi.value().is_nan(), "not ready before n + 1 values");
        } else {
            assert_eq!(rsi.value(), 100.0);
        }
    }
}

#[test]
fn rsi_of_falling_series_is_0() {
    let mut rsi = Rsi::new(2);
    for x in [9.0, 8.0, 6.0, 5.5, 1.0] {
        rsi.update(x);
    }
    assert_eq!(rsi.value(), 0.0);
}

#[test]
fn rsi_of_constant_series_is_0() {
    // No gain and no loss: TA-Lib's zero rule gives 0 rather than 0 / 0.
    let mut rsi = Rsi::new(2);
    for _ in 0..6 {
        rsi.update(1.1);
    }
    assert_eq!(rsi.value(), 0.0);
}

#[test]
fn rsi_wilder_smoothing_by_hand() {
    // Changes: +2, -1, +3. First average over 2 changes: ag = 2 / 2 = 1, al = 1 / 2 = 0.5,
    // value = 100 * 1 / 1.5. Then ag = (1 * 1 + 3) / 2 = 2, al = (0.5 * 1 + 0) / 2 = 0.25,
    // value = 100 * 2 / 2.25.
    let mut rsi = Rsi::new(2);
    rsi.update(10.0);
    rsi.update(12.0);
    assert!(rsi.value().is_nan());
    rsi.update(11.0);
    assert_eq!(rsi.value(), 100.0 * (1.0 / 1.5));
    rsi.update(14.0);
    assert_eq!(rsi.value(), 100.0 * (2.0 / 2.25));
}

#[test]
fn atr_true_range_uses_previous_close() {
    // TRs: bar 2: max(11 - 9, |11 - 10|, |9 - 10|) = 2; bar 3 gaps up: max(16 - 15, |16 - 10|,
    // |15 - 10|) = 6. ATR(2) = (2 + 6) / 2 = 4; next TR = max(1, |15 - 15.5|, |14 - 15.5|) = 1.5,
    // ATR = (4 * 1 + 1.5) / 2 = 2.75.
    let mut atr = Atr::new(2);
    atr.update(10.5, 9.5, 10.0);
    atr.update(11.0, 9.0, 10.0);
    assert!(atr.value().is_nan());
    atr.update(16.0, 15.0, 15.5);
    assert_eq!(atr.value(), 4.0);
    atr.update(15.0, 14.0, 14.5);
    assert_eq!(atr.value(), 2.75);
}

#[test]
fn bollinger_population_deviation() {
    // 2, 4, 6: mean 4, population variance (4 + 0 + 4) / 3 = 8 / 3 via sumSq / n - mean^2
    // = 56 / 3 - 16.
    let mut bb = Bollinger::new(3, 2.0);
    bb.update(2.0);
    bb.update(4.0);
    assert!(bb.middle().is_nan() && bb.upper().is_nan() && bb.lower().is_nan());
    bb.update(6.0);
    let sd = (56.0_f64 / 3.0 - 16.0).sqrt();
    assert_eq!(bb.middle(), 4.0);
    assert_eq!(bb.upper(), 4.0 + 2.0 * sd);
    assert_eq!(bb.lower(), 4.0 - 2.0 * sd);
}

#[test]
fn bollinger_flat_window_has_zero_width() {
    let mut bb = Bollinger::new(4, 2.0);
    for _ in 0..6 {
        bb.update(1.1);
    }
    assert_eq!(bb.upper(), bb.middle());
    assert_eq!(bb.lower(), bb.middle());
}

#[test]
fn envelope_bands_are_percent_of_sma() {
    let mut env = Envelope::new(2, 10.0);
    env.update(100.0);
    assert!(env.middle().is_nan());
    env.update(200.0);
    assert_eq!(env.middle(), 150.0);
    assert_eq!(env.upper(), 150.0 * (1.0 + 10.0 / 100.0));
    assert_eq!(env.lower(), 150.0 * (1.0 - 10.0 / 100.0));
}

#[test]
fn macd_not_ready_before_slow_plus_signal_minus_one() {
    let (fast, slow, signal) = (3, 5, 4);
    let mut macd = Macd::new(fast, slow, signal);
    let ready = slow + signal - 1;
    for i in 1..=20 {
        macd.update(1.0 + (i as f64) * 0.01 + if i % 3 == 0 { 0.02 } else { 0.0 });
        if i < ready {
            assert!(
                macd.macd().is_nan() && macd.signal().is_nan() && macd.hist().is_nan(),
                "bar {i}"
            );
        } else {
            assert!(!macd.macd().is_nan() && !macd.signal().is_nan(), "bar {i}");
            assert_eq!(macd.hist(), macd.macd() - macd.signal());
        }
    }
}

#[test]
fn macd_seeding_by_hand() {
    // fast 2, slow 3, signal 2 on 1, 2, 3, 5, 8.
    // Bar 3: slow = (1 + 2 + 3) / 3 = 2, fast = (2 + 3) / 2 = 2.5, m = 0.5 (first m).
    // Bar 4: fast = (5 - 2.5) * (2 / 3) + 2.5, slow = (5 - 2) * 0.5 + 2 = 3.5; signal seeds with
    // (0.5 + m4) / 2.
    let mut macd = Macd::new(2, 3, 2);
    for x in [1.0, 2.0, 3.0] {
        macd.update(x);
    }
    assert!(macd.macd().is_nan());
    macd.update(5.0);
    let kf = 2.0 / 3.0;
    let fast4 = (5.0 - 2.5) * kf + 2.5;
    let m4 = fast4 - 3.5;
    let sig4 = (0.5 + m4) / 2.0;
    assert_eq!(macd.macd(), m4);
    assert_eq!(macd.signal(), sig4);
    assert_eq!(macd.hist(), m4 - sig4);
    macd.update(8.0);
    let fast5 = (8.0 - fast4) * kf + fast4;
    let slow5 = (8.0 - 3.5) * 0.5 + 3.5;
    let m5 = fast5 - slow5;
    let sig5 = (m5 - sig4) * (2.0 / 3.0) + sig4;
    assert_eq!(macd.macd(), m5);
    assert_eq!(macd.signal(), sig5);
}

#[test]
fn indicator_reads_its_source_and_ignores_unknown_outputs() {
    let bar = Bar {
        time: 0.0,
        open: 1.0,
        high: 4.0,
        low: 0.5,
        close: 2.0,
        volume: 1.0,
    };
    let mut high = Indicator::new(&IndicatorSpec::Sma {
        period: 1,
        source: Source::High,
    });
    high.update(&bar);
    assert_eq!(high.output(0), 4.0);
    assert!(high.output(1).is_nan());
    let mut open = Indicator::new(&IndicatorSpec::Ema {
        period: 1,
        source: Source::Open,
    });
    open.update(&bar);
    assert_eq!(open.output(0), 1.0);
    let mut low = Indicator::new(&IndicatorSpec::Envelope {
        period: 1,
        percent: 50.0,
        source: Source::Low,
    });
    low.update(&bar);
    assert_eq!(low.output(1), 0.5);
    assert_eq!(low.output(0), 0.75);
    assert_eq!(low.output(2), 0.25);
}

#[test]
fn enum_matches_the_concrete_struct_bit_for_bit() {
    let v = fixture();
    let bars = fixture_bars(&v);
    let mut via_enum = Indicator::new(&IndicatorSpec::Bollinger {
        period: 20,
        deviations: 2.0,
        source: Source::Close,
    });
    let mut direct = Bollinger::new(20, 2.0);
    for bar in &bars {
        via_enum.update(bar);
        direct.update(bar.close);
        assert_eq!(via_enum.output(0).to_bits(), direct.upper().to_bits());
        assert_eq!(via_enum.output(2).to_bits(), direct.lower().to_bits());
    }
}
