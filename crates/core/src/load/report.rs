//! The load report of docs/data.md section 4, serialized with the TypeScript field names.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedRow {
    pub row: u64,
    pub reason: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub total: u64,
    /// Only reasons that occurred.
    pub by_reason: BTreeMap<String, u64>,
    pub first: Vec<SkippedRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gaps {
    pub threshold_ms: f64,
    pub count: u64,
    pub largest_ms: f64,
    pub largest_at: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub min: f64,
    pub mean: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    pub path: String,
    pub format: String,
    pub kind: String,
    pub engine: String,
    pub from_cache: bool,
    pub elapsed_ms: f64,
    pub rows_read: u64,
    pub rows: u64,
    pub skipped: Skipped,
    pub incomplete: u64,
    pub first: Option<f64>,
    pub last: Option<f64>,
    pub gaps: Gaps,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeframe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spread: Option<Spread>,
}

impl LoadReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}
