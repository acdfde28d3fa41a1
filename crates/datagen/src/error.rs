//! What can go wrong reading data, each variant naming the file, the line and the rule.

use std::path::PathBuf;

/// A data error. Lines are 1-based and count the header as line 1.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: input changed since the sweep was planned (its content hash differs; plan the sweep again to run on the new file)")]
    InputChanged { path: PathBuf },
    #[error("{path}: the file is empty (a header line is required)")]
    Empty { path: PathBuf },
    #[error("{path}: line 2: the file has a header but no data rows")]
    NoRows { path: PathBuf },
    #[error("{path}: {count} of {rows} SMILES do not parse (at most 1% may be skipped): {lines}")]
    BadSmiles {
        path: PathBuf,
        count: usize,
        rows: usize,
        lines: String,
    },
    #[error("{path}: line {line}: not valid UTF-8")]
    InvalidUtf8 { path: PathBuf, line: u64 },
    #[error("{path}: line 1: required column `{column}` is missing from the header ({header})")]
    MissingColumn {
        path: PathBuf,
        column: String,
        /// What the header has instead: its first columns, and one that differs only in case.
        header: String,
    },
    #[error("{path}: line 1: column `{column}` appears more than once in the header")]
    DuplicateColumn { path: PathBuf, column: String },
    #[error("{path}: line {line}: {found} fields where the header has {expected}")]
    Ragged {
        path: PathBuf,
        line: u64,
        expected: usize,
        found: usize,
    },
    #[error("{path}: line {line}: column `{column}`: `{value}` is not a finite number")]
    BadFeature {
        path: PathBuf,
        line: u64,
        column: String,
        value: String,
    },
    #[error("{path}: line {line}: column `{column}`: label `{value}` is not 0, 1, -1 or empty")]
    BadLabel {
        path: PathBuf,
        line: u64,
        column: String,
        value: String,
    },
    #[error("{path}: line {line}: type `{value}` is not four MBTI letters (I/E, N/S, T/F, J/P; X for a blank axis)")]
    BadType {
        path: PathBuf,
        line: u64,
        value: String,
    },
    #[error("{path}: line {line}: malformed CSV: {message}")]
    Malformed {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: no label columns: none named {wanted}")]
    NoLabelColumns { path: PathBuf, wanted: String },
    #[error("{path}: no feature columns: every column is a label")]
    NoFeatureColumns { path: PathBuf },
    #[error("task `{task}` has no observed label in the {split} split: nothing to learn it from")]
    NoObservedLabel { task: String, split: String },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl DataError {
    /// Maps a `csv` crate error to the variant that names the rule broken.
    pub(crate) fn from_csv(path: &std::path::Path, err: csv::Error) -> DataError {
        let path = path.to_path_buf();
        let line = err.position().map_or(0, |p| p.line());
        match err.into_kind() {
            csv::ErrorKind::Io(source) => DataError::Io { path, source },
            csv::ErrorKind::Utf8 { pos, .. } => DataError::InvalidUtf8 {
                path,
                line: pos.map_or(line, |p| p.line()),
            },
            csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => DataError::Ragged {
                path,
                line: pos.map_or(line, |p| p.line()),
                expected: expected_len as usize,
                found: len as usize,
            },
            other => DataError::Malformed {
                path,
                line,
                message: format!("{other:?}"),
            },
        }
    }
}
