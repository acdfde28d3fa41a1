//! The results folder's records: run logs in `runs/` ([`record::log`]), a line per finished
//! attempt, and `boundaries/<id>.json` for the runs that keep a boundary grid, each written
//! atomically before its run's line.
//!
//! A run is complete when a log holds a successful line with its id and its stream seeds
//! and, if it keeps a boundary grid, that grid parses with its id: anything less (no line,
//! a failure, a torn or damaged line, a line of an older format, a missing grid) and the
//! run is run again. The logs are read once, at the start of a sweep ([`Done::read`]).

use crate::error::SweepError;
use crate::plan::PlannedRun;
use record::io::{read_json, write_json};
use record::log::{scan, LogWriter};
use record::outcome::{files, BoundaryRecord, Outcome, RunRecord};
use record::spec::Streams;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Where a run's boundary grid is kept.
pub fn boundary_path(out: &Path, id: &str) -> PathBuf {
    out.join(files::BOUNDARIES).join(format!("{id}.json"))
}

/// What the logs of a results folder say about each run id.
#[derive(Debug, Default)]
pub struct Done {
    /// Ids with a successful line, and the stream seeds of each such line.
    ok: HashMap<String, Vec<Streams>>,
    /// Ids whose lines are all failures, with the last reason.
    failed: HashMap<String, String>,
    /// When a log was last written.
    pub newest: Option<SystemTime>,
}

impl Done {
    /// Reads every run log of `out` once.
    pub fn read(out: &Path) -> Result<Done, SweepError> {
        let mut done = Done::default();
        let scan = scan(out, |r: RunRecord| match r.outcome {
            Outcome::Ok { .. } => {
                done.failed.remove(&r.id);
                let streams = done.ok.entry(r.id).or_default();
                if !streams.contains(&r.streams) {
                    streams.push(r.streams);
                }
            }
            Outcome::Failed { reason } => {
                if !done.ok.contains_key(&r.id) {
                    done.failed.insert(r.id, reason);
                }
            }
        })?;
        done.newest = scan.newest;
        Ok(done)
    }

    /// True when the run has a complete, successful record (see the module docs).
    pub fn is_complete(&self, out: &Path, run: &PlannedRun) -> bool {
        self.ok
            .get(&run.id)
            .is_some_and(|s| s.contains(&run.streams))
            && (!run.keeps_boundary
                || read_json::<BoundaryRecord>(&boundary_path(out, &run.id))
                    .is_ok_and(|b| b.id == run.id))
    }

    /// The reason of the run's last failure, when it has no success.
    pub fn failure(&self, id: &str) -> Option<&str> {
        self.failed.get(id).map(String::as_str)
    }
}

/// Writes a finished attempt: its boundary grid (if any), then its line in `log`.
pub fn write_run(
    out: &Path,
    log: &Mutex<LogWriter>,
    record: &RunRecord,
    boundary: Option<&BoundaryRecord>,
) -> Result<(), SweepError> {
    if let Some(b) = boundary {
        let dir = out.join(files::BOUNDARIES);
        std::fs::create_dir_all(&dir).map_err(crate::error::io_error(&dir))?;
        write_json(&boundary_path(out, &record.id), b)?;
    }
    log.lock().expect("not poisoned").append(record)?;
    Ok(())
}
