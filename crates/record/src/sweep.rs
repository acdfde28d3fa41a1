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

/// A results folder's manifests: those of its latest sweeps, and those passed over.
#[derive(Debug, Default)]
pub struct Manifests {
    /// `manifest.json` and the shard manifests of the latest shard count, in name order.
    pub current: Vec<Manifest>,
    /// Manifests that do not parse (an older format) or belong to a sweep of another shard
    /// count, each as `file: why`: a warning and a line in the report, never a failure.
    pub passed_over: Vec<String>,
}

impl Manifests {
    /// The shard count of the latest sharded sweep, if any.
    pub fn shard_count(&self) -> Option<usize> {
        self.current
            .iter()
            .find_map(|m| m.shard.as_deref().and_then(shard_count))
    }
}

/// `K/N` -> N.
fn shard_count(shard: &str) -> Option<usize> {
    shard.split_once('/')?.1.parse().ok()
}

/// Reads every `manifest*.json` of `dir`. The sharded ones that count are those of the shard
/// count of the sharded manifest that ended last; the rest are passed over, as are any that
/// do not parse. Only failing to list the folder is an error.
pub fn read_manifests(dir: &std::path::Path) -> Result<Manifests, crate::RecordError> {
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(crate::RecordError::io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("manifest") && n.ends_with(".json"))
        })
        .collect();
    paths.sort();
    let mut found = Manifests::default();
    let mut read = Vec::new();
    for path in paths {
        match crate::io::read_json::<Manifest>(&path) {
            Ok(m) => read.push((path, m)),
            Err(e) => found.passed_over.push(e.to_string()),
        }
    }
    let latest = read
        .iter()
        .filter(|(_, m)| m.shard.is_some())
        .max_by_key(|(_, m)| m.ended_unix)
        .and_then(|(_, m)| m.shard.as_deref().and_then(shard_count));
    for (path, m) in read {
        let n = m.shard.as_deref().and_then(shard_count);
        match (n, latest) {
            (Some(n), Some(latest)) if n != latest => found.passed_over.push(format!(
                "{}: a sweep of {n} shards, before the latest sharded sweep's {latest}",
                path.display()
            )),
            _ => found.current.push(m),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(shard: Option<&str>, ended: u64) -> Manifest {
        Manifest {
            format: crate::FORMAT,
            experiment: "e".into(),
            provenance: Provenance::default(),
            host_cores: 2,
            jobs: 1,
            shard: shard.map(String::from),
            started_unix: ended - 1,
            ended_unix: ended,
            runs: Vec::new(),
        }
    }

    #[test]
    fn manifests_of_an_older_format_or_another_shard_count_are_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, m: &Manifest| crate::io::write_json(&dir.path().join(name), m);
        write("manifest.json", &manifest(None, 5)).unwrap();
        write("manifest-shard-0-of-4.json", &manifest(Some("0/4"), 10)).unwrap();
        write("manifest-shard-0-of-2.json", &manifest(Some("0/2"), 20)).unwrap();
        write("manifest-shard-1-of-2.json", &manifest(Some("1/2"), 21)).unwrap();
        std::fs::write(
            dir.path().join("manifest-shard-3-of-4.json"),
            r#"{"format": 4, "runs": []}"#,
        )
        .unwrap();
        let m = read_manifests(dir.path()).unwrap();
        assert_eq!(m.current.len(), 3);
        assert_eq!(m.shard_count(), Some(2));
        assert_eq!(m.passed_over.len(), 2, "{:?}", m.passed_over);
        assert!(m.passed_over.iter().any(
            |p| p.contains("manifest-shard-3-of-4.json") && p.contains("record format Some(4)")
        ));
        assert!(m
            .passed_over
            .iter()
            .any(|p| p.contains("manifest-shard-0-of-4.json") && p.contains("4 shards")));
    }
}
