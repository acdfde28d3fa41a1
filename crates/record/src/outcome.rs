//! What one run writes into `runs/<id>/`: `config.json` ([`ConfigRecord`]), `history.json`
//! ([`HistoryRecord`]), `boundary.json` for 2-D data ([`BoundaryRecord`]), `timing.json`
//! ([`TimingRecord`], kept apart so that the others are byte-identical between sweeps) and,
//! written last, `metrics.json` ([`MetricsRecord`]). Undefined metrics are `null` with the
//! reason beside them.

use crate::spec::{RunSpec, Streams};
use crate::FORMAT;
use serde::{Deserialize, Serialize};

/// Metrics of one task. `None` (JSON `null`) is an undefined value, never a number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRecord {
    pub task: String,
    /// Observed labels scored.
    pub n: usize,
    pub n_positive: usize,
    pub accuracy: Option<f64>,
    pub balanced_accuracy: Option<f64>,
    pub auc: Option<f64>,
    /// Average precision (PR-AUC).
    pub pr_auc: Option<f64>,
    pub bce: Option<f64>,
    /// Why some metrics are null.
    pub undefined: Option<String>,
}

/// Per-task metrics and their macro means (over tasks where defined) against one set of
/// test labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSet {
    pub tasks: Vec<TaskRecord>,
    pub accuracy: Option<f64>,
    pub balanced_accuracy: Option<f64>,
    pub auc: Option<f64>,
    pub pr_auc: Option<f64>,
    pub bce: Option<f64>,
}

/// The metrics a task record and a metric set both carry, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Accuracy,
    BalancedAccuracy,
    Auc,
    PrAuc,
    Bce,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::Accuracy,
        Metric::BalancedAccuracy,
        Metric::Auc,
        Metric::PrAuc,
        Metric::Bce,
    ];

    /// The column name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BalancedAccuracy => "balanced_accuracy",
            Metric::Auc => "auc",
            Metric::PrAuc => "pr_auc",
            Metric::Bce => "bce",
        }
    }
}

impl TaskRecord {
    pub fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::Accuracy => self.accuracy,
            Metric::BalancedAccuracy => self.balanced_accuracy,
            Metric::Auc => self.auc,
            Metric::PrAuc => self.pr_auc,
            Metric::Bce => self.bce,
        }
    }
}

impl MetricSet {
    pub fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::Accuracy => self.accuracy,
            Metric::BalancedAccuracy => self.balanced_accuracy,
            Metric::Auc => self.auc,
            Metric::PrAuc => self.pr_auc,
            Metric::Bce => self.bce,
        }
    }
}

/// What a finished run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMetrics {
    pub train_rows: usize,
    pub dev_rows: usize,
    pub test_rows: usize,
    /// Realised share of observed labels per task among the training rows.
    pub train_observed_rate: Vec<Option<f64>>,
    /// Realised share of the labels that were observed before the drops and are missing
    /// after them, among the rows drops could touch; per task, and over all tasks.
    pub realised_drop_rate: Vec<Option<f64>>,
    pub realised_drop_rate_overall: Option<f64>,
    /// Rows the networks were trained on (fewer than `train_rows` for complete-case and
    /// single-task), per network.
    pub fitted_rows: Vec<usize>,
    pub epochs_run: usize,
    /// Against the test labels a labeller provided.
    pub observed: MetricSet,
    /// Against the true test labels, where known.
    pub truth: Option<MetricSet>,
    /// What Keras's binary accuracy would print on the test set with `-1` for missing labels.
    pub keras_accuracy: Option<f64>,
    pub warnings: Vec<String>,
}

impl RunMetrics {
    /// The metric set figures and findings use: the truth where known.
    pub fn headline(&self) -> &MetricSet {
        self.truth.as_ref().unwrap_or(&self.observed)
    }
}

/// `metrics.json`: a run's outcome, written last. A run is complete when this file parses,
/// its format is current and its id is its folder's name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsRecord {
    pub format: u32,
    pub id: String,
    pub outcome: Outcome,
}

/// `{"ok": {"metrics": ...}}` or `{"failed": {"reason": ...}}`. (Externally tagged, so a
/// reading error can name the field's whole path, `outcome.ok.metrics.train_rows`.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Outcome {
    Ok { metrics: Box<RunMetrics> },
    Failed { reason: String },
}

impl MetricsRecord {
    pub fn ok(id: String, metrics: RunMetrics) -> Self {
        MetricsRecord {
            format: FORMAT,
            id,
            outcome: Outcome::Ok {
                metrics: Box::new(metrics),
            },
        }
    }

    pub fn failed(id: String, reason: String) -> Self {
        MetricsRecord {
            format: FORMAT,
            id,
            outcome: Outcome::Failed { reason },
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self.outcome, Outcome::Ok { .. })
    }
}

/// `config.json`: the resolved settings and the stream seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigRecord {
    pub format: u32,
    pub id: String,
    pub spec: RunSpec,
    pub streams: Streams,
}

/// One epoch of the training history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Epoch {
    pub epoch: usize,
    /// The strategy's own training loss (mean over networks for single-task).
    pub train_loss: f64,
    /// Masked BCE on the dev split: one yardstick for every strategy.
    pub dev_loss: Option<f64>,
}

/// `history.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryRecord {
    pub format: u32,
    pub id: String,
    pub epochs: Vec<Epoch>,
}

/// `boundary.json`: predicted probabilities over a grid of the unit square, for 2-D data in
/// `[0,1]²`: `probabilities[task][j * resolution + i]` at `(x0, x1) = (i, j) / (resolution - 1)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundaryRecord {
    pub format: u32,
    pub id: String,
    pub resolution: usize,
    pub tasks: Vec<String>,
    pub probabilities: Vec<Vec<f32>>,
}

/// `timing.json`: the run's wall time (apart, so the other records are reproducible bytes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimingRecord {
    pub format: u32,
    pub id: String,
    pub wall_seconds: f64,
}

impl TimingRecord {
    pub fn new(id: String, wall_seconds: f64) -> Self {
        TimingRecord {
            format: FORMAT,
            id,
            wall_seconds,
        }
    }
}

/// The files of a run folder, by name.
pub mod files {
    pub const CONFIG: &str = "config.json";
    pub const HISTORY: &str = "history.json";
    pub const BOUNDARY: &str = "boundary.json";
    pub const TIMING: &str = "timing.json";
    pub const METRICS: &str = "metrics.json";
}
