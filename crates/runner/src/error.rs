//! Errors of reading an experiment file and of running a sweep.

use std::path::PathBuf;

/// A bad experiment file: the file, the key, the line where known, and the rule broken.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {}{key}: {rule}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct ConfigError {
    pub path: PathBuf,
    /// Dotted key, such as `training.epochs`.
    pub key: String,
    pub line: Option<usize>,
    pub rule: String,
}

/// A sweep that could not be carried out (as opposed to a run that failed, which is recorded).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Data(#[from] datagen::DataError),
    #[error("--shard {0}: expected K/N with 0 <= K < N")]
    BadShard(String),
    #[error("--jobs 0: at least one job is needed")]
    NoJobs,
    #[error(transparent)]
    Record(#[from] record::RecordError),
    #[error("{path}: another sweep is writing this results folder: {holder}")]
    Locked { path: PathBuf, holder: String },
    #[error("{path}: this file system ({file_system}) does not support the lock masklab takes (flock: {source}); a sweep never runs unlocked. Put the results folder on a file system with flock support (Lustre mounted with -o flock, NFSv4, or a local disk): see the README's `Locks on cluster file systems`")]
    LockUnsupported {
        path: PathBuf,
        file_system: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    BadArgument(String),
}

impl SweepError {
    /// Errors of what the user asked for (a bad file or argument, a folder in use), as
    /// opposed to what happened while running: the command line exits 2 for these.
    pub fn is_usage(&self) -> bool {
        match self {
            SweepError::Config(_)
            | SweepError::BadShard(_)
            | SweepError::NoJobs
            | SweepError::Locked { .. }
            | SweepError::BadArgument(_) => true,
            SweepError::Io { .. }
            | SweepError::Data(_)
            | SweepError::Record(_)
            | SweepError::LockUnsupported { .. } => false,
        }
    }
}

pub(crate) fn io_error(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    }
}
