//! The results folder: `<out>/runs/<run-id>/` per run, written file by file, each atomically.
//!
//! A run folder holds `config.json` (resolved settings and stream seeds), `history.json`
//! (per-epoch losses), `timing.json` (wall time, kept apart so that metrics are byte-identical
//! between sweeps) and, written last, `metrics.json`: a run is complete when its
//! `metrics.json` exists with status `ok`.

use crate::error::{io_error, SweepError};
use crate::plan::{PlannedRun, RunSpec, Streams};
use crate::run::{Boundary, Epoch, RunMetrics};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize)]
pub struct ConfigRecord {
    pub id: String,
    pub spec: RunSpec,
    pub streams: Streams,
}

/// `metrics.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum MetricsRecord {
    Ok { id: String, metrics: RunMetrics },
    Failed { id: String, reason: String },
}

pub fn run_dir(out: &Path, id: &str) -> PathBuf {
    out.join("runs").join(id)
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), SweepError> {
    let bytes = serde_json::to_vec_pretty(value).expect("plain data serialises");
    datagen::csvio::write_atomic(path, |w| {
        w.write_all(&bytes)?;
        w.write_all(b"\n")?;
        Ok(())
    })
    .map_err(|e| SweepError::Io {
        path: path.into(),
        source: std::io::Error::other(e.to_string()),
    })
}

/// True when the run has a complete, successful record.
pub fn is_complete(out: &Path, id: &str) -> bool {
    let path = run_dir(out, id).join("metrics.json");
    std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<MetricsRecord>(&b).ok())
        .is_some_and(|r| matches!(r, MetricsRecord::Ok { .. }))
}

/// Writes a finished run's files, `metrics.json` last.
pub fn write_run(
    out: &Path,
    run: &PlannedRun,
    history: &[Epoch],
    boundary: Option<&Boundary>,
    record: &MetricsRecord,
    wall_seconds: f64,
) -> Result<(), SweepError> {
    let dir = run_dir(out, &run.id);
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    if let Some(b) = boundary {
        let bytes = serde_json::to_vec(b).expect("plain data serialises");
        datagen::csvio::write_atomic(&dir.join("boundary.json"), |w| Ok(w.write_all(&bytes)?))
            .map_err(|e| SweepError::Io {
                path: dir.join("boundary.json"),
                source: std::io::Error::other(e.to_string()),
            })?;
    }
    write_json(
        &dir.join("config.json"),
        &ConfigRecord {
            id: run.id.clone(),
            spec: run.spec.clone(),
            streams: run.streams,
        },
    )?;
    write_json(&dir.join("history.json"), &history)?;
    write_json(
        &dir.join("timing.json"),
        &serde_json::json!({ "wall_seconds": wall_seconds }),
    )?;
    write_json(&dir.join("metrics.json"), record)
}
