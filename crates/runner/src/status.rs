//! What a results folder holds against its grid: runs done, failed (with reasons) and
//! missing, per shard where shards ran, and whether the report is current.

use crate::error::SweepError;
use crate::plan::{streams, PlannedRun};
use crate::store::Done;
use record::io::read_json;
use record::shown::Shown;
use record::sweep::GridRecord;
use std::path::Path;
use std::time::SystemTime;

/// Counts of one set of runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub done: usize,
    pub failed: usize,
    pub missing: usize,
}

/// Whether `REPORT.md` reflects the records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportState {
    NotWritten,
    /// A record is newer than the report.
    Stale,
    Current,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    pub experiment: String,
    pub runs: usize,
    pub all: Counts,
    /// `(k, n, counts)` for each shard count a manifest names.
    pub shards: Vec<(usize, usize, Counts)>,
    /// `(run id, reason)`.
    pub failures: Vec<(String, String)>,
    pub report: ReportState,
    /// Sealed logs that do not decode (`file: why`): their runs count as not done.
    pub damaged_logs: Vec<String>,
    /// Manifests passed over (`file: why`): an older format, or another shard count.
    pub passed_over: Vec<String>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Reads a results folder's status.
pub fn status(dir: &Path) -> Result<Status, SweepError> {
    let grid: GridRecord = read_json(&dir.join("grid.json"))?;
    let shown = Shown::of(grid.runs.iter().map(|e| &e.spec));
    let runs: Vec<PlannedRun> = grid
        .runs
        .iter()
        .map(|entry| PlannedRun {
            id: entry.id.clone(),
            streams: streams(&entry.spec),
            keeps_boundary: shown.draws_boundary(&entry.spec),
            spec: entry.spec.clone(),
        })
        .collect();
    let done = Done::read(dir, &runs)?;
    let mut kinds = Vec::with_capacity(grid.runs.len()); // 0 done, 1 failed, 2 missing
    let mut failures = Vec::new();
    for run in &runs {
        let kind = if done.is_complete(dir, run) {
            0
        } else if let Some(reason) = done.failure(&run.id) {
            failures.push((run.id.clone(), reason.to_string()));
            1
        } else {
            2
        };
        kinds.push(kind);
    }
    let newest = done.newest;
    let count = |pick: &dyn Fn(usize) -> bool| {
        let mut c = Counts::default();
        for (i, &k) in kinds.iter().enumerate() {
            if pick(i) {
                match k {
                    0 => c.done += 1,
                    1 => c.failed += 1,
                    _ => c.missing += 1,
                }
            }
        }
        c
    };
    // Shards of the latest sharded sweep only: earlier shard counts' manifests are passed
    // over, not listed as shards that never ran.
    let manifests = record::sweep::read_manifests(dir)?;
    let ns: Vec<usize> = manifests.shard_count().into_iter().collect();
    let shards = ns
        .iter()
        .flat_map(|&n| (0..n).map(move |k| (k, n)))
        .map(|(k, n)| (k, n, count(&|i| i % n == k)))
        .collect();
    let report = match modified(&dir.join("REPORT.md")) {
        None => ReportState::NotWritten,
        Some(written) if newest.is_some_and(|t| t > written) => ReportState::Stale,
        Some(_) => ReportState::Current,
    };
    Ok(Status {
        experiment: grid.experiment,
        runs: grid.runs.len(),
        all: count(&|_| true),
        shards,
        failures,
        report,
        damaged_logs: done
            .damaged_logs
            .iter()
            .map(|(log, why)| format!("{}: {why}", log.path.display()))
            .collect(),
        passed_over: manifests.passed_over,
    })
}
