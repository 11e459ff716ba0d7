//! Strategy IR, parameters and run configuration: what parses, and where each error points.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tickforge_core::{compile, parse_params, ErrorKind, RunConfig, Strategy, Timeframe};

fn parse_err(strategy: &Value) -> (ErrorKind, String, String) {
    let e = Strategy::from_json(&strategy.to_string()).unwrap_err();
    (e.kind, e.path, e.message)
}

fn compile_err(strategy: &Value, params: &[(&str, f64)]) -> (ErrorKind, String, String) {
    let s = Strategy::from_json(&strategy.to_string()).expect("parses");
    let params: BTreeMap<String, f64> = params.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let e = compile(&s, &params).unwrap_err();
    (e.kind, e.path, e.message)
}

fn with_rule(mut strategy: Value, when: Value) -> Value {
    strategy["rules"] = json!([{ "when": when, "then": [{ "action": "close" }] }]);
    strategy
}

#[test]
fn the_reference_strategy_compiles_with_its_histories_sized() {
    let s = Strategy::from_json(&reference(2.0).to_string()).unwrap();
    assert_eq!(s.name, "rsi-envelope");
    let p = compile(&s, &BTreeMap::new()).unwrap();
    assert_eq!(p.decision_timeframe(), Timeframe::M5);
    assert_eq!(p.used_timeframes(), vec![Timeframe::M5, Timeframe::M30]);
    assert_eq!(p.tick_base(), Timeframe::M5);
    let depths: Vec<(&str, usize, usize)> = p
        .workers()
        .iter()
        .map(|w| (w.id.as_str(), w.depth, w.outputs))
        .collect();
    assert_eq!(depths, vec![("rsi", 1, 1), ("env", 1, 3)]);
    assert_eq!(p.bar_depth(Timeframe::M5), 1);
    assert_eq!(p.bar_depth(Timeframe::M30), 0);
}

#[test]
fn offsets_and_crosses_deepen_the_histories() {
    let s = with_rule(
        reference(2.0),
        op(
            "and",
            vec![
                op(
                    "crossAbove",
                    vec![
                        json!({ "worker": "rsi", "offset": 2 }),
                        json!({ "bar": "close", "timeframe": "H1" }),
                    ],
                ),
                op(
                    ">",
                    vec![
                        json!({ "worker": "env", "output": "upper", "offset": 4 }),
                        0.into(),
                    ],
                ),
            ],
        ),
    );
    let p = compile(&Strategy::from_json(&s.to_string()).unwrap(), &BTreeMap::new()).unwrap();
    assert_eq!((p.workers()[0].depth, p.workers()[1].depth), (4, 5));
    assert_eq!(p.bar_depth(Timeframe::H1), 2);
    assert_eq!(
        p.used_timeframes(),
        vec![Timeframe::M5, Timeframe::M30, Timeframe::H1]
    );
}

#[test]
fn shape_errors_name_their_path() {
    let mut s = reference(2.0);
    s["workers"][1]["kind"] = "rsii".into();
    let (kind, path, message) = parse_err(&s);
    assert_eq!(
        (kind, path.as_str()),
        (ErrorKind::Strategy, "strategy.workers[1].kind")
    );
    assert!(
        message.starts_with("unknown variant `rsii`, expected one of `sma`"),
        "{message}"
    );

    let mut s = reference(2.0);
    s["version"] = 2.into();
    assert_eq!(parse_err(&s).1, "strategy.version");

    let mut s = reference(2.0);
    s["decision"]["timeframe"] = "M2".into();
    assert_eq!(parse_err(&s).1, "strategy.decision.timeframe");

    let mut s = reference(2.0);
    s["workers"][0]["id"] = "2fast".into();
    assert_eq!(parse_err(&s).1, "strategy.workers[0].id");

    let mut s = reference(2.0);
    s["rules"][1]["then"] = json!([]);
    assert_eq!(parse_err(&s).1, "strategy.rules[1].then");

    let mut s = reference(2.0);
    s["rules"][0]["then"][0]["action"] = "hold".into();
    assert_eq!(parse_err(&s).1, "strategy.rules[0].then[0].action");

    let mut s = reference(2.0);
    s["rules"][0]["then"][0]["sl"] = json!({ "pips": 1, "price": 1 });
    assert_eq!(parse_err(&s).1, "strategy.rules[0].then[0].sl");

    let mut s = reference(2.0);
    s["params"]["slPips"]["default"] = "x".into();
    let (_, path, message) = parse_err(&s);
    assert_eq!(path, "strategy.params.slPips.default");
    assert_eq!(message, "invalid type: string \"x\", expected f64");

    let mut s = reference(2.0);
    s["params"]["rsiPeriod"]["default"] = 1.into();
    let (_, path, message) = parse_err(&s);
    assert_eq!(
        (path.as_str(), message.as_str()),
        ("strategy.params.rsiPeriod.default", "1 is below the minimum 2")
    );

    let mut s = reference(2.0);
    s["extra"] = 1.into();
    assert!(parse_err(&s).2.starts_with("unknown field `extra`"));
}

#[test]
fn expression_shape_errors_name_their_path() {
    let cases = [
        (
            json!({ "op": "xor", "args": [true, false] }),
            "strategy.rules[0].when.op",
        ),
        (
            json!({ "op": "not", "args": [true, false] }),
            "strategy.rules[0].when.args",
        ),
        (
            json!({ "op": "and", "args": [true, { "bar": "closed" }] }),
            "strategy.rules[0].when.args[1].bar",
        ),
        (
            json!({ "op": "and", "args": [true, { "worker": "rsi", "offset": -1 }] }),
            "strategy.rules[0].when.args[1].offset",
        ),
        (
            json!({ "op": "and", "args": [true, { "worker": "rsi", "shift": 1 }] }),
            "strategy.rules[0].when.args[1].shift",
        ),
        (
            json!({ "op": "and", "args": [true, { "bar": "close", "timeframe": "M2" }] }),
            "strategy.rules[0].when.args[1].timeframe",
        ),
        (
            json!({ "op": "and", "args": [true, "rsi"] }),
            "strategy.rules[0].when.args[1]",
        ),
        (
            json!({ "op": "and", "args": [true, { "quote": "last" }] }),
            "strategy.rules[0].when.args[1].quote",
        ),
        (json!({ "nothing": 1 }), "strategy.rules[0].when"),
    ];
    for (when, expected) in cases {
        let (kind, path, message) = parse_err(&with_rule(reference(2.0), when.clone()));
        assert_eq!(
            (kind, path.as_str()),
            (ErrorKind::Strategy, expected),
            "{when}: {message}"
        );
    }
}

#[test]
fn reference_errors_are_found_at_compile_time() {
    let when = op(
        "and",
        vec![
            flat(),
            op("<", vec![json!({ "worker": "rsi" }), json!({ "worker": "rsii" })]),
        ],
    );
    let (kind, path, message) = compile_err(&with_rule(reference(2.0), when), &[]);
    assert_eq!(kind, ErrorKind::Strategy);
    assert_eq!(path, "strategy.rules[0].when.args[1].args[1].worker");
    assert_eq!(message, "unknown worker 'rsii' (workers: rsi, env)");

    let when = op("<", vec![json!({ "worker": "env", "output": "top" }), 1.into()]);
    let (_, path, message) = compile_err(&with_rule(reference(2.0), when), &[]);
    assert_eq!(path, "strategy.rules[0].when.args[0].output");
    assert_eq!(
        message,
        "unknown output 'top' of worker 'env' (outputs: upper, middle, lower)"
    );

    let when = op("<", vec![json!({ "worker": "env" }), 1.into()]);
    assert_eq!(
        compile_err(&with_rule(reference(2.0), when), &[]).1,
        "strategy.rules[0].when.args[0]"
    );

    let when = op("<", vec![json!({ "param": "nope" }), 1.into()]);
    assert_eq!(
        compile_err(&with_rule(reference(2.0), when), &[]).1,
        "strategy.rules[0].when.args[0].param"
    );

    let mut s = reference(2.0);
    s["workers"][1]["id"] = "rsi".into();
    let (_, path, message) = compile_err(&s, &[]);
    assert_eq!(path, "strategy.workers[1].id");
    assert!(message.contains("duplicate"), "{message}");
}

#[test]
fn types_are_checked() {
    let cases = [
        (json!(1), "strategy.rules[0].when"),
        (
            op("and", vec![true.into(), json!({ "quote": "bid" })]),
            "strategy.rules[0].when.args[1]",
        ),
        (
            op("<", vec![true.into(), 1.into()]),
            "strategy.rules[0].when.args[0]",
        ),
        (
            op("not", vec![op("+", vec![1.into(), 2.into()])]),
            "strategy.rules[0].when.args[0]",
        ),
        (
            op("crossAbove", vec![json!({ "quote": "bid" }), 1.into()]),
            "strategy.rules[0].when.args[0]",
        ),
        (
            op(
                "crossAbove",
                vec![
                    op("+", vec![json!({ "worker": "rsi" }), json!({ "time": "hour" })]),
                    1.into(),
                ],
            ),
            "strategy.rules[0].when.args[0].args[1]",
        ),
    ];
    for (when, expected) in cases {
        let (kind, path, message) = compile_err(&with_rule(reference(2.0), when.clone()), &[]);
        assert_eq!(
            (kind, path.as_str()),
            (ErrorKind::Strategy, expected),
            "{when}: {message}"
        );
    }
    let mut s = reference(2.0);
    s["rules"][0]["then"][0]["lots"] = op(">", vec![1.into(), 0.into()]);
    let (_, path, message) = compile_err(&s, &[]);
    assert_eq!(
        (path.as_str(), message.as_str()),
        (
            "strategy.rules[0].then[0].lots",
            "expected a number, got a boolean"
        )
    );
    let mut s = reference(2.0);
    s["rules"][0]["then"][0]["tp"] = json!({ "price": true });
    assert_eq!(compile_err(&s, &[]).1, "strategy.rules[0].then[0].tp.price");
}

#[test]
fn run_parameters_are_checked_against_their_declarations() {
    let s = reference(2.0);
    let (kind, path, message) = compile_err(&s, &[("rsiPeriodd", 3.0)]);
    assert_eq!((kind, path.as_str()), (ErrorKind::Params, "params.rsiPeriodd"));
    assert_eq!(message, "unknown parameter (declared: rsiPeriod, slPips)");
    let (kind, path, message) = compile_err(&s, &[("rsiPeriod", 14.5)]);
    assert_eq!(
        (kind, path.as_str(), message.as_str()),
        (
            ErrorKind::Params,
            "params.rsiPeriod",
            "expected an integer, got 14.5"
        )
    );
    let (_, path, message) = compile_err(&s, &[("rsiPeriod", 1.0)]);
    assert_eq!(
        (path.as_str(), message.as_str()),
        ("params.rsiPeriod", "1 is below the minimum 2")
    );

    let ok = Strategy::from_json(&s.to_string()).unwrap();
    let params = parse_params(r#"{ "rsiPeriod": 7, "slPips": 12.5 }"#).unwrap();
    assert!(compile(&ok, &params).is_ok());

    let e = parse_params(r#"{ "rsiPeriod": "7" }"#).unwrap_err();
    assert_eq!(
        (e.kind, e.path.as_str(), e.message.as_str()),
        (
            ErrorKind::Params,
            "params.rsiPeriod",
            "expected a number, got string"
        )
    );
    assert_eq!(parse_params("[1]").unwrap_err().path, "params");
}

#[test]
fn worker_parameters_are_validated_after_substitution() {
    let mut s = reference(2.0);
    s["params"]["rsiPeriod"] = json!({ "default": 14 });
    let (kind, path, message) = compile_err(&s, &[("rsiPeriod", 0.0)]);
    assert_eq!(
        (kind, path.as_str()),
        (ErrorKind::Strategy, "strategy.workers[0].params.period")
    );
    assert_eq!(
        message,
        "expected an integer from 1 to 100000, got 0 (from parameter 'rsiPeriod')"
    );

    let cases = [
        (
            json!({ "id": "w", "kind": "envelope", "timeframe": "M5", "params": { "period": 5, "percent": 100 } }),
            "strategy.workers[2].params.percent",
        ),
        (
            json!({ "id": "w", "kind": "bollinger", "timeframe": "M5", "params": { "period": 5, "deviations": 0 } }),
            "strategy.workers[2].params.deviations",
        ),
        (
            json!({ "id": "w", "kind": "macd", "timeframe": "M5", "params": { "fast": 26, "slow": 12, "signal": 9 } }),
            "strategy.workers[2].params.fast",
        ),
        (
            json!({ "id": "w", "kind": "sma", "timeframe": "M5", "params": { "period": 2.5 } }),
            "strategy.workers[2].params.period",
        ),
        (
            json!({ "id": "w", "kind": "sma", "timeframe": "M5", "params": { "period": 5, "source": "hl2" } }),
            "strategy.workers[2].params.source",
        ),
        (
            json!({ "id": "w", "kind": "atr", "timeframe": "M5", "params": { "period": 5, "source": "close" } }),
            "strategy.workers[2].params.source",
        ),
        (
            json!({ "id": "w", "kind": "ema", "timeframe": "M5", "params": {} }),
            "strategy.workers[2].params",
        ),
    ];
    for (worker, expected) in cases {
        let mut s = reference(2.0);
        s["workers"].as_array_mut().unwrap().push(worker.clone());
        let (kind, path, message) = compile_err(&s, &[]);
        assert_eq!(
            (kind, path.as_str()),
            (ErrorKind::Strategy, expected),
            "{worker}: {message}"
        );
    }
}

#[test]
fn output_names_follow_the_indicators() {
    let s = json!({
        "version": 1,
        "decision": { "timeframe": "M5" },
        "workers": [
            { "id": "m", "kind": "macd", "timeframe": "M5", "params": { "fast": 3, "slow": 5, "signal": 2 } },
            { "id": "b", "kind": "bollinger", "timeframe": "M5", "params": { "period": 5, "deviations": 2 } }
        ],
        "rules": [{ "when": op("and", vec![
            op(">", vec![json!({ "worker": "m", "output": "hist" }), 0.into()]),
            op(">", vec![json!({ "worker": "b", "output": "middle" }), 0.into()]),
        ]), "then": [{ "action": "close" }] }]
    });
    let p = program(&s);
    assert_eq!(
        p.workers().iter().map(|w| w.outputs).collect::<Vec<_>>(),
        vec![3, 3]
    );
}

#[test]
fn run_config_parses_and_names_its_errors() {
    let text = r#"{
      "instrument": { "symbol": "EURUSD", "pipSize": 0.0001, "contractSize": 100000, "lotStep": 0.01,
                      "minLot": 0.01, "maxLot": 100, "marginRate": 0.01, "commissionPerLot": 0,
                      "commissionPercent": 0, "slippagePips": 0, "spreadPips": 1 },
      "account": { "balance": 10000 },
      "start": null, "end": null, "fillAt": "open", "periodsPerYear": 252, "profile": false
    }"#;
    assert_eq!(RunConfig::from_json(text).unwrap(), RunConfig::default());

    let e = RunConfig::from_json(&text.replace("\"pipSize\": 0.0001", "\"pipSize\": \"x\"")).unwrap_err();
    assert_eq!(
        (e.kind, e.to_string().as_str()),
        (
            ErrorKind::Config,
            "config.instrument.pipSize: invalid type: string \"x\", expected f64"
        )
    );
    let e = RunConfig::from_json(&text.replace("\"start\": null, ", "")).unwrap_err();
    assert_eq!(
        (e.path.as_str(), e.message.as_str()),
        ("config", "missing field `start`")
    );
    let e = RunConfig::from_json(&text.replace("\"fillAt\": \"open\"", "\"fillAt\": \"mid\"")).unwrap_err();
    assert_eq!(e.path, "config.fillAt");
    let e = RunConfig::from_json(&text.replace("\"balance\": 10000", "\"balance\": 10000, \"leverage\": 30"))
        .unwrap_err();
    assert_eq!(e.path, "config.account.leverage");

    let checks = [
        ("\"minLot\": 0.01", "\"minLot\": 200", "config.instrument.minLot"),
        (
            "\"marginRate\": 0.01",
            "\"marginRate\": 0",
            "config.instrument.marginRate",
        ),
        (
            "\"marginRate\": 0.01",
            "\"marginRate\": 1.5",
            "config.instrument.marginRate",
        ),
        (
            "\"contractSize\": 100000",
            "\"contractSize\": -1",
            "config.instrument.contractSize",
        ),
        (
            "\"slippagePips\": 0",
            "\"slippagePips\": -0.5",
            "config.instrument.slippagePips",
        ),
        (
            "\"periodsPerYear\": 252",
            "\"periodsPerYear\": 0",
            "config.periodsPerYear",
        ),
        (
            "\"start\": null, \"end\": null",
            "\"start\": 5, \"end\": 4",
            "config.start",
        ),
    ];
    for (from, to, path) in checks {
        let e = RunConfig::from_json(&text.replace(from, to)).unwrap_err();
        assert_eq!(
            (e.kind, e.path.as_str()),
            (ErrorKind::Config, path),
            "{to}: {}",
            e.message
        );
    }
}

#[test]
fn json_numbers_parse_exactly_as_javascript_does() {
    // The shortest round-trip form of 1.1 - 0.0005; JavaScript's JSON.parse (and Rust's
    // `str::parse`) give back exactly that double, and so must every JSON the engine reads.
    let x = 1.1 - 0.0005;
    assert_eq!(x.to_string(), "1.0995000000000001");
    let s = with_rule(reference(2.0), op("<", vec![json!({ "quote": "bid" }), x.into()]));
    let strategy = Strategy::from_json(&s.to_string()).unwrap();
    let tickforge_core::ir::Expr::Op { args, .. } = &strategy.rules[0].when else {
        panic!("an op")
    };
    assert_eq!(args[1], tickforge_core::ir::Expr::Number(x));
    assert_eq!(parse_params(&format!("{{\"p\": {x}}}")).unwrap()["p"], x);
}

#[test]
fn compiled_programs_and_configs_can_be_shared_across_threads() {
    fn shareable<T: Clone + Send + Sync>() {}
    shareable::<tickforge_core::Program>();
    shareable::<RunConfig>();
    shareable::<Strategy>();
}

/// `(> (+ (+ ... 1 ...)) 0)` with the leaf at level `depth`, as JSON text (serde_json's own
/// `Value` could not even be dropped at the deepest sizes without a deep stack).
fn nested_when(depth: usize) -> String {
    let n = depth - 2;
    let open = r#"{"op":"+","args":["#.repeat(n);
    let close = ",1]}".repeat(n);
    format!(r#"{{"op":">","args":[{open}1{close},0]}}"#)
}

fn strategy_with_when(when: &str) -> String {
    format!(
        r#"{{"version":1,"name":"deep","decision":{{"timeframe":"M5"}},"rules":[{{"when":{when},"then":[{{"action":"close"}}]}}]}}"#
    )
}

#[test]
fn the_shared_limits_bound_depth_width_offsets_and_periods() {
    // The stack the engine's threads have (an unoptimized build needs far more per level).
    std::thread::Builder::new()
        .stack_size(tickforge_core::THREAD_STACK_BYTES)
        .spawn(limits_hold)
        .unwrap()
        .join()
        .unwrap();
}

fn limits_hold() {
    let l = tickforge_core::limits::limits();
    assert!(Strategy::from_json(&strategy_with_when(&nested_when(l.expression_depth))).is_ok());
    let e = Strategy::from_json(&strategy_with_when(&nested_when(l.expression_depth + 1))).unwrap_err();
    assert_eq!(
        e.message,
        format!(
            "the expression nests deeper than {} levels (the limit)",
            l.expression_depth
        )
    );
    assert!(e.path.starts_with("strategy.rules[0].when.args[0]"));
    // Far deeper documents are refused before they are parsed: no recursion grows with them.
    let e = Strategy::from_json(&strategy_with_when(&nested_when(200_000))).unwrap_err();
    assert_eq!((e.kind, e.path.as_str()), (ErrorKind::Strategy, "strategy"));

    let wide = |n: usize| {
        let args = vec!["1"; n].join(",");
        strategy_with_when(&format!(
            r#"{{"op":">","args":[{{"op":"+","args":[{args}]}},0]}}"#
        ))
    };
    assert!(Strategy::from_json(&wide(l.operation_args)).is_ok());
    let e = Strategy::from_json(&wide(10_000)).unwrap_err();
    assert_eq!(e.path, "strategy.rules[0].when.args[0].args");

    let offset = |k: f64| {
        with_rule(
            reference(2.0),
            json!({ "op": ">", "args": [{ "bar": "close", "offset": k }, 0] }),
        )
    };
    assert!(Strategy::from_json(&offset(l.offset.max as f64).to_string()).is_ok());
    let (_, path, message) = parse_err(&offset(2f64.powi(40)));
    assert_eq!(path, "strategy.rules[0].when.args[0].offset");
    assert_eq!(
        message,
        format!(
            "expected an integer from 0 to {}, got 1099511627776",
            l.offset.max
        )
    );

    // A period of 2^32 or 2^52 would size a history of that many values: refused at compile time.
    for period in [2f64.powi(32), 2f64.powi(52), 1e300, (l.period.max + 1) as f64] {
        let mut s = reference(2.0);
        s["params"]["rsiPeriod"] = json!({ "default": 14 });
        let (_, path, _) = compile_err(&s, &[("rsiPeriod", period)]);
        assert_eq!(path, "strategy.workers[0].params.period");
    }
}
