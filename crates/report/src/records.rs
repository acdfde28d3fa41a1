//! Reading what the runner wrote: `grid.json` names the experiment's current runs, and each
//! `runs/<id>/` holds `config.json`, `metrics.json`, `history.json` and, for 2-D data,
//! `boundary.json`. These are read as JSON with structs of the report's own, so the report
//! depends on the files, not on the runner's or nn's types.

use crate::error::ReportError;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One finished run, as far as the report cares.
#[derive(Clone, Debug)]
pub struct Run {
    pub id: String,
    pub axes: Axes,
    /// `metrics.json`'s `metrics` object.
    pub metrics: Value,
    pub history: Vec<Epoch>,
    pub boundary: Option<Boundary>,
    pub data_source: String,
}

/// The settings runs differ in; grouping over everything but `seed` aggregates over seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Axes {
    pub variant: String,
    pub strategy: String,
    pub seed: u64,
    pub mechanism: String,
    pub rate: f64,
    pub hidden: String,
    pub epochs: u64,
    pub batch_size: u64,
    pub learning_rate: f64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Epoch {
    pub epoch: usize,
    pub train_loss: Option<f64>,
    pub dev_loss: Option<f64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Boundary {
    pub resolution: usize,
    pub tasks: Vec<String>,
    pub probabilities: Vec<Vec<f32>>,
}

/// Everything in a results folder.
pub struct Results {
    pub dir: PathBuf,
    pub experiment: String,
    pub description: String,
    /// Runs of the current grid with a successful record, in grid order.
    pub runs: Vec<Run>,
    /// Runs of the grid that failed, with their reasons.
    pub failed: Vec<(String, String)>,
    /// Runs of the grid with no record yet.
    pub missing: usize,
    pub manifests: Vec<Value>,
    pub experiment_toml: Option<String>,
}

fn read_json(path: &Path) -> Result<Value, ReportError> {
    let bytes = std::fs::read(path).map_err(|source| ReportError::Io {
        path: path.into(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| ReportError::BadRecord {
        path: path.into(),
        message: e.to_string(),
    })
}

fn field<'a>(v: &'a Value, pointer: &str, path: &Path) -> Result<&'a Value, ReportError> {
    v.pointer(pointer).ok_or_else(|| ReportError::BadRecord {
        path: path.into(),
        message: format!("no {pointer}"),
    })
}

/// The nominal drop rate: the one rate, or the mean of the per-task rates.
fn nominal_rate(missing: &Value) -> f64 {
    if let Some(r) = missing.get("rate").and_then(Value::as_f64) {
        return r;
    }
    match missing.get("task-rates").and_then(Value::as_array) {
        Some(rates) if !rates.is_empty() => {
            rates.iter().filter_map(Value::as_f64).sum::<f64>() / rates.len() as f64
        }
        _ => 0.0,
    }
}

fn axes(spec: &Value, path: &Path) -> Result<Axes, ReportError> {
    let s = |p: &str| field(spec, p, path).map(|v| v.as_str().unwrap_or_default().to_string());
    let u = |p: &str| field(spec, p, path).map(|v| v.as_u64().unwrap_or_default());
    let f = |p: &str| field(spec, p, path).map(|v| v.as_f64().unwrap_or(f64::NAN));
    let missing = field(spec, "/missing", path)?;
    let mut mechanism = s("/missing/mechanism")?;
    if let Some(skew) = missing.get("mnar-skew").and_then(Value::as_f64) {
        mechanism = format!("{mechanism} (skew {skew})");
    }
    Ok(Axes {
        variant: spec
            .get("variant")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        strategy: s("/strategy")?,
        seed: u("/seed")?,
        mechanism,
        rate: nominal_rate(missing),
        hidden: field(spec, "/hidden", path)?.to_string(),
        epochs: u("/training/epochs")?,
        batch_size: u("/training/batch-size")?,
        learning_rate: f("/training/learning-rate")?,
    })
}

/// Reads a results folder.
pub fn read_results(dir: &Path) -> Result<Results, ReportError> {
    let grid_path = dir.join("grid.json");
    let grid = read_json(&grid_path)?;
    let entries = field(&grid, "/runs", &grid_path)?
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut results = Results {
        dir: dir.into(),
        experiment: grid
            .get("experiment")
            .and_then(Value::as_str)
            .unwrap_or("experiment")
            .to_string(),
        description: grid
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        runs: Vec::new(),
        failed: Vec::new(),
        missing: 0,
        manifests: Vec::new(),
        experiment_toml: std::fs::read_to_string(dir.join("experiment.toml")).ok(),
    };
    for entry in &entries {
        let id = entry
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let run_dir = dir.join("runs").join(&id);
        let metrics_path = run_dir.join("metrics.json");
        if !metrics_path.is_file() {
            results.missing += 1;
            continue;
        }
        let record = read_json(&metrics_path)?;
        if record.get("status").and_then(Value::as_str) != Some("ok") {
            let reason = record
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string();
            results.failed.push((id, reason));
            continue;
        }
        let spec = field(entry, "/spec", &grid_path)?;
        let history_path = run_dir.join("history.json");
        let history: Vec<Epoch> =
            serde_json::from_value(read_json(&history_path)?).map_err(|e| {
                ReportError::BadRecord {
                    path: history_path.clone(),
                    message: e.to_string(),
                }
            })?;
        let boundary_path = run_dir.join("boundary.json");
        let boundary = match boundary_path.is_file() {
            true => Some(
                serde_json::from_value(read_json(&boundary_path)?).map_err(|e| {
                    ReportError::BadRecord {
                        path: boundary_path.clone(),
                        message: e.to_string(),
                    }
                })?,
            ),
            false => None,
        };
        results.runs.push(Run {
            axes: axes(spec, &grid_path)?,
            metrics: field(&record, "/metrics", &metrics_path)?.clone(),
            data_source: spec
                .pointer("/data/source")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            id,
            history,
            boundary,
        });
    }
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| ReportError::Io {
            path: dir.into(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("manifest") && n.ends_with(".json"))
        })
        .collect();
    manifests.sort();
    for m in manifests {
        results.manifests.push(read_json(&m)?);
    }
    if results.runs.is_empty() {
        return Err(ReportError::NoRuns { dir: dir.into() });
    }
    Ok(results)
}
