//! What a sweep writes about itself at the top of its results folder: `grid.json`
//! ([`GridRecord`]: the experiment's current runs, which the report reads), and one manifest
//! per sweep or shard ([`Manifest`]: provenance and wall times).

use crate::spec::RunSpec;
use serde::{Deserialize, Serialize};

/// `grid.json`: the runs of the experiment file as last swept, in grid order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridRecord {
    pub format: u32,
    pub experiment: String,
    pub description: String,
    pub runs: Vec<GridEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridEntry {
    pub id: String,
    pub spec: RunSpec,
}

/// Facts about the program and machine that the runner cannot know itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub masklab_version: String,
    /// `git rev-parse HEAD` of the working tree the binary ran in, if any.
    pub git_revision: Option<String>,
    /// Whether that tree had uncommitted changes (`None`: not known).
    pub git_dirty: Option<bool>,
    pub blas: String,
}

/// A run as the sweep that executed it saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestRun {
    pub id: String,
    pub status: RunStatus,
    pub wall_seconds: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    Ok,
    Failed,
}

/// `manifest.json` or `manifest-shard-K-of-N.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub experiment: String,
    pub provenance: Provenance,
    pub host_cores: usize,
    pub jobs: usize,
    /// `K/N` for a shard.
    pub shard: Option<String>,
    pub started_unix: u64,
    pub ended_unix: u64,
    /// The runs this sweep executed (not those it found finished).
    pub runs: Vec<ManifestRun>,
}

impl Manifest {
    /// The file name a sweep of this shard writes.
    pub fn file_name(shard: Option<(usize, usize)>) -> String {
        match shard {
            Some((k, n)) => format!("manifest-shard-{k}-of-{n}.json"),
            None => "manifest.json".into(),
        }
    }
}
