//! Market data files (docs/data.md) for Node.js: the streaming CSV-like parsers of
//! `tickforge_core::load`, run on a thread of their own (never the libuv pool) or on the calling
//! thread. Every outcome, a failed load included, comes back as data.

// Under `cfg(test)` napi-derive registers nothing, so the exported items look unused.
#![cfg_attr(test, allow(dead_code))]

use crate::{CODE_PANIC, CODE_VALIDATION};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::panic::{catch_unwind, AssertUnwindSafe};
use tickforge_core::load::{load_file, Issue, LoadError, LoadOptions, Loaded};
use tickforge_core::panic_message;

/// A load's outcome. `ok: true`: `time`, the kind's columns (ticks `bid`, `ask`, `volume` when
/// the file has one; bars `open`, `high`, `low`, `close`, `volume`) and `reportJson` (the
/// LoadReport of docs/data.md section 4) are set. `ok: false`: `errorCode`
/// (ERR_TICKFORGE_VALIDATION or ERR_TICKFORGE_PANIC), `errorMessage` and, for validation errors,
/// `issuesJson` (`[{ path, message }]`, paths `file` or `file:row`) are set.
#[napi(object)]
pub struct NativeLoadResult {
    pub ok: bool,
    pub time: Option<Float64Array>,
    pub bid: Option<Float64Array>,
    pub ask: Option<Float64Array>,
    pub volume: Option<Float64Array>,
    pub open: Option<Float64Array>,
    pub high: Option<Float64Array>,
    pub low: Option<Float64Array>,
    pub close: Option<Float64Array>,
    pub report_json: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub issues_json: Option<String>,
}

/// A finished load, before its columns become typed arrays on the JavaScript thread.
enum Outcome {
    Loaded(Box<Loaded>),
    Invalid(LoadError),
    Panicked(String),
}

fn run(path: &str, options_json: &str) -> Outcome {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let options = LoadOptions::from_json(options_json)?;
        load_file(path, &options)
    }));
    match result {
        Ok(Ok(loaded)) => Outcome::Loaded(Box::new(loaded)),
        Ok(Err(e)) => Outcome::Invalid(e),
        Err(payload) => Outcome::Panicked(format!("loader panicked: {}", panic_message(payload.as_ref()))),
    }
}

fn empty(ok: bool) -> NativeLoadResult {
    NativeLoadResult {
        ok,
        time: None,
        bid: None,
        ask: None,
        volume: None,
        open: None,
        high: None,
        low: None,
        close: None,
        report_json: None,
        error_code: None,
        error_message: None,
        issues_json: None,
    }
}

/// Moves the columns into typed arrays (no copy) or turns the failure into error fields.
fn to_js(outcome: Outcome) -> NativeLoadResult {
    match outcome {
        Outcome::Loaded(loaded) => {
            let Loaded { columns: c, report } = *loaded;
            let ticks = report.kind == "ticks";
            let mut r = empty(true);
            r.report_json = Some(report.to_json());
            r.time = Some(Float64Array::new(c.time));
            r.volume = c.volume.map(Float64Array::new);
            if ticks {
                r.bid = Some(Float64Array::new(c.bid));
                r.ask = Some(Float64Array::new(c.ask));
            } else {
                r.open = Some(Float64Array::new(c.open));
                r.high = Some(Float64Array::new(c.high));
                r.low = Some(Float64Array::new(c.low));
                r.close = Some(Float64Array::new(c.close));
            }
            r
        }
        Outcome::Invalid(e) => {
            let mut r = empty(false);
            r.error_code = Some(CODE_VALIDATION.to_string());
            r.error_message = Some(e.to_string());
            r.issues_json =
                Some(serde_json::to_string::<Vec<Issue>>(&e.issues).unwrap_or_else(|_| "[]".into()));
            r
        }
        Outcome::Panicked(message) => {
            let mut r = empty(false);
            r.error_code = Some(CODE_PANIC.to_string());
            r.error_message = Some(message);
            r
        }
    }
}

/// Loads a CSV-like market data file on a thread of its own (never the libuv pool); resolves on
/// the JavaScript thread. `optionsJson`: `{ kind, format, columns, header, delimiter, timeFormat,
/// timezone, policy, gapMs, timeframe }`, missing fields taking the defaults of docs/data.md.
#[napi(ts_return_type = "Promise<NativeLoadResult>")]
pub fn load_csv<'env>(env: &'env Env, path: String, options_json: String) -> Result<Object<'env>> {
    type Settle = Box<dyn FnOnce(Env) -> Result<NativeLoadResult> + Send>;
    let (deferred, promise) = env.create_deferred::<NativeLoadResult, Settle>()?;
    let settle = |outcome: Outcome| -> Settle { Box::new(move |_| Ok(to_js(outcome))) };
    // The deferred reaches the thread through a channel, so that it is still here to report the
    // failure if the thread cannot start.
    let (send, receive) = std::sync::mpsc::channel::<napi::JsDeferred<NativeLoadResult, Settle>>();
    let started = std::thread::Builder::new()
        .name("tickforge-load".into())
        .spawn(move || {
            if let Ok(deferred) = receive.recv() {
                deferred.resolve(settle(run(&path, &options_json)));
            }
        });
    match started {
        Ok(_) => {
            // The thread is waiting on the channel, so the send cannot fail.
            let _ = send.send(deferred);
        }
        Err(e) => deferred.resolve(settle(Outcome::Panicked(format!(
            "could not start the load thread: {e}"
        )))),
    }
    Ok(promise)
}

/// `loadCsv` on the calling thread.
#[napi]
pub fn load_csv_sync(path: String, options_json: String) -> NativeLoadResult {
    to_js(run(&path, &options_json))
}
