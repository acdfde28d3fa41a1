//! The results folder's records: run logs in `runs/` ([`record::log`]), a line per finished
//! attempt, and `boundaries/<id>.json` for the runs that keep a boundary grid, each written
//! atomically before its run's line.
//!
//! A run is complete when its counting line ([`record::runs`]: the latest success with its
//! stream seeds) exists and, if it keeps a boundary grid, that grid parses with its id:
//! anything less (no line, a failure, a torn or damaged line, a line of an older format, a
//! line in a damaged log, a missing grid) and the run is run again. The logs are read once,
//! at the start of a sweep ([`Done::read`]).

use crate::error::SweepError;
use crate::plan::PlannedRun;
use record::io::{read_json, write_json};
use record::log::{LogFile, LogWriter};
use record::outcome::{files, BoundaryRecord, Outcome, RunRecord};
use record::runs::read_counted;
use record::spec::Streams;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Where a run's boundary grid is kept.
pub fn boundary_path(out: &Path, id: &str) -> PathBuf {
    out.join(files::BOUNDARIES).join(format!("{id}.json"))
}

/// What the logs of a results folder say about each run id, by the one rule of which
/// line counts ([`record::runs`]).
#[derive(Debug, Default)]
pub struct Done {
    /// Ids whose counting line is a success.
    ok: HashSet<String>,
    /// Ids whose counting line is a failure, with its reason.
    failed: HashMap<String, String>,
    /// Sealed logs that do not decode, with why: their runs count as not done.
    pub damaged_logs: Vec<(LogFile, String)>,
    /// When a log was last written.
    pub newest: Option<SystemTime>,
}

impl Done {
    /// Reads every run log of `out` for these runs.
    pub fn read<'a>(
        out: &Path,
        runs: impl IntoIterator<Item = &'a PlannedRun>,
    ) -> Result<Done, SweepError> {
        let expected: HashMap<&str, Streams> = runs
            .into_iter()
            .map(|r| (r.id.as_str(), r.streams))
            .collect();
        let mut done = Done::default();
        let scan = read_counted(
            out,
            |id| expected.get(id).copied(),
            |r: RunRecord| match r.outcome {
                Outcome::Ok { .. } => {
                    done.ok.insert(r.id);
                }
                Outcome::Failed { reason } => {
                    done.failed.insert(r.id, reason);
                }
            },
        )?;
        done.newest = scan.newest;
        done.damaged_logs = scan.damaged_logs;
        Ok(done)
    }

    /// True when the run has a complete, successful record (see the module docs).
    pub fn is_complete(&self, out: &Path, run: &PlannedRun) -> bool {
        self.ok.contains(&run.id)
            && (!run.keeps_boundary
                || read_json::<BoundaryRecord>(&boundary_path(out, &run.id))
                    .is_ok_and(|b| b.id == run.id))
    }

    /// The reason of the run's counting failure, when it has no success.
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
