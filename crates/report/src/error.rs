//! What can stop a report.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a record masklab wrote: {message}")]
    BadRecord { path: PathBuf, message: String },
    #[error("{dir}: no finished runs to report (run `masklab sweep` first)")]
    NoRuns { dir: PathBuf },
    #[error(transparent)]
    Record(#[from] record::RecordError),
    #[error("tables: {0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error("{path}: drawing failed: {message}")]
    Plot { path: PathBuf, message: String },
}
