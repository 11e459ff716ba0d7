use std::fmt;

/// What kind of input an error is about; `Cancelled` and `Timeout` are stops, not input problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Data,
    Strategy,
    Params,
    Config,
    Cancelled,
    Timeout,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Data => "data",
            ErrorKind::Strategy => "strategy",
            ErrorKind::Params => "params",
            ErrorKind::Config => "config",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Timeout => "timeout",
        }
    }
}

/// An error that names where the problem is (`ticks.bid[5]`, `strategy.workers[1].kind`,
/// `params.rsiPeriod`, `config.instrument.pipSize`) and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub path: String,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }
    pub fn data(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Data, path, message)
    }
    pub fn strategy(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Strategy, path, message)
    }
    pub fn params(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Params, path, message)
    }
    pub fn config(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, path, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for Error {}

/// Formats a number as JavaScript's `String(x)` does, so both engines word their errors
/// identically: plain digits for decimal exponents in [-6, 21), exponent notation (`1e-7`, `1.5e+21`)
/// outside, shortest round-trip digits in both.
pub fn js_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return "0".into();
    }
    let exp = format!("{x:e}");
    let (mantissa, e) = exp.split_once('e').unwrap_or((&exp, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    if (-6..21).contains(&e) {
        format!("{x}")
    } else if e < 0 {
        format!("{mantissa}e{e}")
    } else {
        format!("{mantissa}e+{e}")
    }
}

/// The message a panic was raised with (`panic!("...")` or a formatted one), else a generic one.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "engine panicked".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::js_number;

    #[test]
    fn formats_numbers_like_javascript() {
        let cases = [
            (1.1, "1.1"),
            (1700000000000.0, "1700000000000"),
            (-3.0, "-3"),
            (0.0000001, "1e-7"),
            (0.000001, "0.000001"),
            (1.5e-7, "1.5e-7"),
            (1e21, "1e+21"),
            (1.25e22, "1.25e+22"),
            (123456789012345680000.0, "123456789012345680000"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
            (-0.0, "0"),
        ];
        for (x, want) in cases {
            assert_eq!(js_number(x), want, "{x}");
        }
    }
}
