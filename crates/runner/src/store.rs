//! The results folder: `<out>/runs/<run-id>/` per run, written file by file, each atomically
//! through [`record::io`], `metrics.json` last.
//!
//! A run is complete only when every file it should have parses as its record type, in the
//! current format, with the id of its folder: anything less (a file missing, truncated,
//! from an older masklab, or moved from another folder) and the run is run again.

use crate::error::SweepError;
use crate::plan::PlannedRun;
use record::io::{read_json, remove_temps, write_json};
use record::outcome::{
    files, BoundaryRecord, ConfigRecord, Epoch, HistoryRecord, MetricsRecord, TimingRecord,
};
use std::path::{Path, PathBuf};

pub fn run_dir(out: &Path, id: &str) -> PathBuf {
    out.join("runs").join(id)
}

/// Whether the run writes a decision-boundary grid (2-D toy data).
pub fn has_boundary(run: &PlannedRun) -> bool {
    matches!(run.spec.data, record::spec::DataSpec::Toy { .. })
}

/// True when the run has a complete, successful record (see the module docs).
pub fn is_complete(out: &Path, run: &PlannedRun) -> bool {
    let dir = run_dir(out, &run.id);
    let id_is = |id: &str| id == run.id;
    let metrics = read_json::<MetricsRecord>(&dir.join(files::METRICS));
    let Ok(metrics) = metrics else { return false };
    if !(metrics.is_ok() && id_is(&metrics.id)) {
        return false;
    }
    let config_ok = read_json::<ConfigRecord>(&dir.join(files::CONFIG))
        .is_ok_and(|c| id_is(&c.id) && c.spec == run.spec && c.streams == run.streams);
    let history_ok =
        read_json::<HistoryRecord>(&dir.join(files::HISTORY)).is_ok_and(|h| id_is(&h.id));
    let timing_ok = read_json::<TimingRecord>(&dir.join(files::TIMING)).is_ok_and(|t| id_is(&t.id));
    let boundary_ok = !has_boundary(run)
        || read_json::<BoundaryRecord>(&dir.join(files::BOUNDARY)).is_ok_and(|b| id_is(&b.id));
    config_ok && history_ok && timing_ok && boundary_ok
}

/// Clears what an interrupted attempt at this run left: temporary files of ended processes.
pub fn clear_leftovers(out: &Path, id: &str) {
    remove_temps(&run_dir(out, id), false);
}

/// Writes a finished run's files, `metrics.json` last.
pub fn write_run(
    out: &Path,
    run: &PlannedRun,
    history: Vec<Epoch>,
    boundary: Option<&BoundaryRecord>,
    record: &MetricsRecord,
    wall_seconds: f64,
) -> Result<(), SweepError> {
    let dir = run_dir(out, &run.id);
    std::fs::create_dir_all(&dir).map_err(crate::error::io_error(&dir))?;
    if let Some(b) = boundary {
        write_json(&dir.join(files::BOUNDARY), b)?;
    }
    write_json(
        &dir.join(files::CONFIG),
        &ConfigRecord {
            format: record::FORMAT,
            id: run.id.clone(),
            spec: run.spec.clone(),
            streams: run.streams,
        },
    )?;
    write_json(
        &dir.join(files::HISTORY),
        &HistoryRecord {
            format: record::FORMAT,
            id: run.id.clone(),
            epochs: history,
        },
    )?;
    write_json(
        &dir.join(files::TIMING),
        &TimingRecord::new(run.id.clone(), wall_seconds),
    )?;
    write_json(&dir.join(files::METRICS), record)?;
    Ok(())
}
