//! What a sweep records of each run: a [`RunRecord`] line in a run log ([`crate::log`]), and
//! for the 2-D runs a report draws, a [`BoundaryRecord`] in `boundaries/<id>.json`.
//! Undefined metrics are `null` with the reason beside them.

use crate::spec::Streams;
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

/// A value as records hold it: `None` where it is not finite (undefined).
pub fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

impl MetricSet {
    /// The record of nn's metrics, tasks named by `names` (an undefined value is `None`).
    pub fn of(m: &nn::metrics::Metrics, names: &[String]) -> MetricSet {
        MetricSet {
            tasks: m
                .tasks
                .iter()
                .zip(names)
                .map(|(t, name)| TaskRecord {
                    task: name.clone(),
                    n: t.n_observed,
                    n_positive: t.n_positive,
                    accuracy: finite(t.accuracy),
                    balanced_accuracy: finite(t.balanced_accuracy),
                    auc: finite(t.auc),
                    pr_auc: finite(t.pr_auc),
                    bce: finite(t.bce),
                    undefined: t.undefined.map(|u| u.to_string()),
                })
                .collect(),
            accuracy: finite(m.accuracy),
            balanced_accuracy: finite(m.balanced_accuracy),
            auc: finite(m.auc),
            pr_auc: finite(m.pr_auc),
            bce: finite(m.bce),
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
    /// The same labels counted, no metric given: for a run whose strategy did not apply.
    pub fn unscored(self, reason: &str) -> MetricSet {
        MetricSet {
            tasks: self
                .tasks
                .into_iter()
                .map(|t| TaskRecord {
                    accuracy: None,
                    balanced_accuracy: None,
                    auc: None,
                    pr_auc: None,
                    bce: None,
                    undefined: Some(reason.to_string()),
                    ..t
                })
                .collect(),
            accuracy: None,
            balanced_accuracy: None,
            auc: None,
            pr_auc: None,
            bce: None,
        }
    }

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
    /// The test predictions, where the run's settings ask for them (`ensemble = true`), so
    /// that a report can score the seeds' average.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_predictions: Option<TestPredictions>,
    /// For a strategy that fills missing training labels (pseudo-label, label-conditional):
    /// how many it filled and, where the truth is known, how many it filled rightly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filled_labels: Option<FilledLabels>,
    /// Why the run's strategy could not be applied (complete-case with no complete training
    /// row: "0 complete rows"); its metrics are then all undefined, and reports say this
    /// instead of scoring it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
}

/// The missing training labels a strategy filled in, checked against the truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilledLabels {
    /// Missing training cells.
    pub missing: usize,
    /// Of those, the cells given a label (a target of weight above 0).
    pub filled: usize,
    /// The share of filled cells whose target (rounded at 0.5) is the true label; `None`
    /// without the truth or with nothing filled.
    pub accuracy: Option<f64>,
}

/// A run's test-set predictions, compactly: two bytes a probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestPredictions {
    /// blake3 of the test rows' indices in the source: runs whose test sets are the same
    /// rows share it.
    pub rows: String,
    pub tasks: usize,
    /// Per cell, row-major: `0`, `1`, or `.` for a label not observed.
    pub labels: String,
    /// Per cell, row-major: the probability as a 16-bit integer, `round(p × 65535)`, little
    /// endian (within 1/131070 of the model's).
    pub probabilities: ByteGrid,
}

impl TestPredictions {
    /// Quantises probabilities (row-major, `tasks` a row) with their labels.
    pub fn new(
        rows: &[usize],
        tasks: usize,
        labels: &[Option<bool>],
        probabilities: &[f32],
    ) -> Self {
        let mut hasher = blake3::Hasher::new();
        for &r in rows {
            hasher.update(&(r as u64).to_le_bytes());
        }
        TestPredictions {
            rows: hasher.finalize().to_hex().to_string(),
            tasks,
            labels: labels
                .iter()
                .map(|l| match l {
                    Some(true) => '1',
                    Some(false) => '0',
                    None => '.',
                })
                .collect(),
            probabilities: ByteGrid(
                probabilities
                    .iter()
                    .flat_map(|p| {
                        let q = (p.clamp(0.0, 1.0) * 65535.0).round() as u16;
                        q.to_le_bytes()
                    })
                    .collect(),
            ),
        }
    }

    /// The probabilities as stored, row-major.
    pub fn probabilities(&self) -> Vec<f64> {
        self.probabilities
            .0
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as f64 / 65535.0)
            .collect()
    }

    /// The labels, row-major: `None` where not observed.
    pub fn labels(&self) -> Vec<Option<bool>> {
        self.labels
            .chars()
            .map(|c| match c {
                '1' => Some(true),
                '0' => Some(false),
                _ => None,
            })
            .collect()
    }
}

impl RunMetrics {
    /// The metric set figures and findings use: the truth where known.
    pub fn headline(&self) -> &MetricSet {
        self.truth.as_ref().unwrap_or(&self.observed)
    }
}

/// One attempt at a run, as a line of a run log ([`crate::log`]): its stream seeds, its
/// outcome and its training history. The run's settings are its entry in `grid.json` (the
/// id is a hash of them and of the input files' bytes), so they are not repeated here. A
/// line holds nothing that differs between two sweeps of the same file: wall times are in
/// the manifests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    pub format: u32,
    pub id: String,
    pub streams: Streams,
    pub outcome: Outcome,
    /// Per-epoch losses; empty for a failed run.
    pub history: Vec<Epoch>,
}

/// `{"ok": {"metrics": ...}}` or `{"failed": {"reason": ...}}`. (Externally tagged, so a
/// reading error can name the field's whole path, `outcome.ok.metrics.train_rows`.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Outcome {
    Ok { metrics: Box<RunMetrics> },
    Failed { reason: String },
}

impl RunRecord {
    pub fn ok(id: String, streams: Streams, metrics: RunMetrics, history: Vec<Epoch>) -> Self {
        RunRecord {
            format: FORMAT,
            id,
            streams,
            outcome: Outcome::Ok {
                metrics: Box::new(metrics),
            },
            history,
        }
    }

    pub fn failed(id: String, streams: Streams, reason: String) -> Self {
        RunRecord {
            format: FORMAT,
            id,
            streams,
            outcome: Outcome::Failed { reason },
            history: Vec::new(),
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self.outcome, Outcome::Ok { .. })
    }

    /// The metrics of a successful run.
    pub fn metrics(&self) -> Option<&RunMetrics> {
        match &self.outcome {
            Outcome::Ok { metrics } => Some(metrics),
            Outcome::Failed { .. } => None,
        }
    }
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
    /// Macro ROC-AUC on the dev split, where early stopping selects by it (left out
    /// otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_auc: Option<f64>,
}

/// `boundaries/<id>.json`: predicted probabilities over a grid of the unit square, for the
/// 2-D runs a report draws ([`crate::shown`]): task `t`'s probability at `(x0, x1) = (i, j)
/// / (resolution - 1)` is [`BoundaryRecord::probability`]`(t, j * resolution + i)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundaryRecord {
    pub format: u32,
    pub id: String,
    pub resolution: usize,
    pub tasks: Vec<String>,
    /// Per task, each probability as a byte (`round(p × 255)`): 256 shades are more than a
    /// picture shows, at a fifth of the bytes of four decimals.
    pub probabilities: Vec<ByteGrid>,
}

impl BoundaryRecord {
    /// The byte a probability is stored as (clamped to `[0, 1]`; NaN as 0).
    pub fn quantise(p: f32) -> u8 {
        (p.clamp(0.0, 1.0) * 255.0).round() as u8
    }

    /// Task `task`'s probability at grid point `k`, as stored (within 1/510 of the model's).
    pub fn probability(&self, task: usize, k: usize) -> f32 {
        self.probabilities[task].0[k] as f32 / 255.0
    }
}

/// Bytes written as one base64 string (standard alphabet, padded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteGrid(pub Vec<u8>);

impl Serialize for ByteGrid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ByteGrid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine;
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(ByteGrid)
            .map_err(|e| serde::de::Error::custom(format!("not base64: {e}")))
    }
}

/// Where a sweep's records live in its results folder.
pub mod files {
    /// Run logs ([`crate::log`]): `runs/<writer>.jsonl`, sealed as `runs/<writer>.<n>.jsonl.gz`.
    pub const RUNS: &str = "runs";
    /// Boundary grids: `boundaries/<id>.json`.
    pub const BOUNDARIES: &str = "boundaries";
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A successful record with one task and plain numbers, for tests of the logs.
    pub(crate) fn ok_record(id: &str, streams: Streams) -> RunRecord {
        let set = MetricSet {
            tasks: vec![TaskRecord {
                task: "y0".into(),
                n: 10,
                n_positive: 5,
                accuracy: Some(0.9),
                balanced_accuracy: Some(0.9),
                auc: Some(0.95),
                pr_auc: Some(0.94),
                bce: Some(0.3),
                undefined: None,
            }],
            accuracy: Some(0.9),
            balanced_accuracy: Some(0.9),
            auc: Some(0.95),
            pr_auc: Some(0.94),
            bce: Some(0.3),
        };
        let metrics = RunMetrics {
            filled_labels: None,
            not_applicable: None,
            train_rows: 100,
            dev_rows: 10,
            test_rows: 10,
            train_observed_rate: vec![Some(1.0)],
            realised_drop_rate: vec![Some(0.0)],
            realised_drop_rate_overall: Some(0.0),
            fitted_rows: vec![100],
            epochs_run: 1,
            observed: set,
            truth: None,
            keras_accuracy: None,
            test_predictions: None,
            warnings: Vec::new(),
        };
        RunRecord::ok(id.into(), streams, metrics, Vec::new())
    }
}
