//! The limits of a strategy, shared with the TypeScript validator through `limits.json` at the
//! crate root: both engines refuse exactly what lies outside them (docs/semantics.md section 4.6).
//! Nothing is allocated in proportion to a user-given number before it is checked against these.

use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Range {
    pub min: usize,
    pub max: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Max {
    pub max: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Every indicator period (`period`, MACD's `fast`, `slow`, `signal`).
    pub period: Range,
    /// How many closed bars (or indicator values) back a reference may read.
    pub offset: Max,
    /// Levels of one expression, a leaf being level 1.
    pub expression_depth: usize,
    /// Arguments of one operation.
    pub operation_args: usize,
}

impl Limits {
    /// Arrays and objects a strategy document may nest: the expression levels (an object and its
    /// `args` array each) plus the strategy's own levels above and around an expression. Checked
    /// on the raw JSON before it is parsed, so no parser recursion is unbounded.
    pub fn json_depth(&self) -> usize {
        2 * self.expression_depth + 8
    }
}

/// The limits in force.
pub fn limits() -> &'static Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    LIMITS.get_or_init(|| {
        serde_json::from_str(include_str!("../limits.json")).expect("limits.json is valid (tested)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_file_parses_to_sane_limits() {
        let l = limits();
        assert!(l.period.min >= 1 && l.period.min <= l.period.max);
        assert!(l.expression_depth >= 2 && l.operation_args >= 2);
        assert!(l.json_depth() > 2 * l.expression_depth);
    }
}
