//! Reading what the runner wrote, through the record types both share ([`record`]):
//! `grid.json` names the experiment's current runs, and each `runs/<id>/` holds its
//! records. A record of another format or one that does not parse is never read as a
//! default: a damaged `metrics.json` or `grid.json` is an error naming the file and the
//! field; a damaged `history.json` or `boundary.json` beside good metrics keeps the run's
//! metrics, leaves its curve or map out, and is listed in the report.

use crate::error::ReportError;
use record::io::read_json;
use record::outcome::{files, BoundaryRecord, HistoryRecord, MetricsRecord, Outcome, RunMetrics};
use record::spec::RunSpec;
use record::sweep::{GridRecord, Manifest};
use std::path::{Path, PathBuf};

pub use record::outcome::Epoch;

/// One finished run, as far as the report cares.
#[derive(Clone, Debug)]
pub struct Run {
    pub id: String,
    pub spec: RunSpec,
    pub axes: Axes,
    pub metrics: RunMetrics,
    /// Empty when the history record is damaged.
    pub history: Vec<Epoch>,
    pub boundary: Option<BoundaryRecord>,
}

/// The settings runs differ in; grouping over everything but `seed` aggregates over seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Axes {
    pub variant: String,
    pub strategy: String,
    pub seed: u64,
    /// The mechanism as a reader names it (`mnar (skew 3)`).
    pub mechanism: String,
    /// The nominal drop rate: the one rate, or the mean of the per-task rates.
    pub rate: f64,
    pub hidden: String,
    pub epochs: u64,
    pub batch_size: u64,
    pub learning_rate: f64,
}

impl Axes {
    pub fn of(spec: &RunSpec) -> Axes {
        Axes {
            variant: spec.variant.clone().unwrap_or_default(),
            strategy: spec.strategy.name().to_string(),
            seed: spec.seed,
            mechanism: spec.missing.mechanism_label(),
            rate: spec.missing.nominal_rate(),
            hidden: format!("{:?}", spec.hidden).replace(' ', ""),
            epochs: spec.training.epochs as u64,
            batch_size: spec.training.batch_size as u64,
            learning_rate: spec.training.learning_rate,
        }
    }
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
    /// Records that exist but could not be read, with the error (the run is rerun by the
    /// next sweep).
    pub damaged: Vec<String>,
    pub manifests: Vec<Manifest>,
    pub experiment_toml: Option<String>,
}

impl Results {
    /// The tasks' names, as the first run's metrics list them (the truth where known).
    pub fn task_names(&self) -> Vec<String> {
        self.runs
            .first()
            .map(|r| {
                r.metrics
                    .headline()
                    .tasks
                    .iter()
                    .map(|t| t.task.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Reads a results folder.
pub fn read_results(dir: &Path) -> Result<Results, ReportError> {
    let grid: GridRecord = read_json(&dir.join("grid.json"))?;
    let mut results = Results {
        dir: dir.into(),
        experiment: grid.experiment,
        description: grid.description,
        runs: Vec::new(),
        failed: Vec::new(),
        missing: 0,
        damaged: Vec::new(),
        manifests: Vec::new(),
        experiment_toml: std::fs::read_to_string(dir.join("experiment.toml")).ok(),
    };
    for entry in grid.runs {
        let run_dir = dir.join("runs").join(&entry.id);
        let metrics_path = run_dir.join(files::METRICS);
        if !metrics_path.is_file() {
            results.missing += 1;
            continue;
        }
        let record: MetricsRecord = read_json(&metrics_path)?;
        if record.id != entry.id {
            return Err(ReportError::BadRecord {
                path: metrics_path,
                message: format!("id: `{}` in the folder of run `{}`", record.id, entry.id),
            });
        }
        let metrics = match record.outcome {
            Outcome::Failed { reason } => {
                results.failed.push((entry.id, reason));
                continue;
            }
            Outcome::Ok { metrics } => *metrics,
        };
        let history = match read_json::<HistoryRecord>(&run_dir.join(files::HISTORY)) {
            Ok(h) => h.epochs,
            Err(e) => {
                results.damaged.push(e.to_string());
                Vec::new()
            }
        };
        let boundary_path = run_dir.join(files::BOUNDARY);
        let boundary = match boundary_path.is_file() {
            false => None,
            true => match read_json::<BoundaryRecord>(&boundary_path) {
                Ok(b) => Some(b),
                Err(e) => {
                    results.damaged.push(e.to_string());
                    None
                }
            },
        };
        results.runs.push(Run {
            axes: Axes::of(&entry.spec),
            id: entry.id,
            spec: entry.spec,
            metrics,
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
