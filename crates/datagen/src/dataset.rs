//! The data model: features, 0/1 labels with an explicit observed mask, and the truth.

use ndarray::{Array2, Axis};

/// A multi-task binary dataset.
///
/// `labels[[i, t]]` is 0 or 1 where `observed[[i, t]]`, and NaN elsewhere, so that a label
/// that is not there can never pass for one. `truth`, where known (generated data, or data
/// whose labels were dropped here), holds every label before any was dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `(rows, features)`.
    pub features: Array2<f32>,
    /// `(rows, tasks)`: 0/1 where observed, NaN elsewhere.
    pub labels: Array2<f32>,
    /// `(rows, tasks)`.
    pub observed: Array2<bool>,
    pub task_names: Vec<String>,
    pub feature_names: Vec<String>,
    /// `(rows, tasks)`, every label 0/1, when the full truth is known.
    pub truth: Option<Array2<f32>>,
}

impl Dataset {
    /// A fully labelled dataset: every label observed, and the labels are the truth.
    pub fn complete(
        features: Array2<f32>,
        labels: Array2<f32>,
        feature_names: Vec<String>,
        task_names: Vec<String>,
    ) -> Self {
        assert_eq!(
            features.nrows(),
            labels.nrows(),
            "features and labels differ in rows"
        );
        assert!(
            labels.iter().all(|&v| v == 0.0 || v == 1.0),
            "labels must be 0 or 1"
        );
        Dataset {
            observed: Array2::from_elem(labels.dim(), true),
            truth: Some(labels.clone()),
            features,
            labels,
            task_names,
            feature_names,
        }
    }

    pub fn n_rows(&self) -> usize {
        self.features.nrows()
    }

    pub fn n_tasks(&self) -> usize {
        self.labels.ncols()
    }

    /// Marks a label unobserved (its value becomes NaN; the truth keeps it).
    pub fn drop_label(&mut self, row: usize, task: usize) {
        self.observed[[row, task]] = false;
        self.labels[[row, task]] = f32::NAN;
    }

    /// Share of labels observed, per task, over `rows`.
    pub fn observed_rate(&self, rows: &[usize]) -> Vec<f64> {
        (0..self.n_tasks())
            .map(|t| {
                let n = rows.iter().filter(|&&r| self.observed[[r, t]]).count();
                if rows.is_empty() {
                    f64::NAN
                } else {
                    n as f64 / rows.len() as f64
                }
            })
            .collect()
    }

    /// The rows `rows`, in that order, as a new dataset.
    pub fn select(&self, rows: &[usize]) -> Dataset {
        Dataset {
            features: self.features.select(Axis(0), rows),
            labels: self.labels.select(Axis(0), rows),
            observed: self.observed.select(Axis(0), rows),
            task_names: self.task_names.clone(),
            feature_names: self.feature_names.clone(),
            truth: self.truth.as_ref().map(|t| t.select(Axis(0), rows)),
        }
    }

    /// Errors if some task has no observed label among `rows` (a split named `split`). The
    /// runner turns this into a warning, printed and kept in the run's record, and still
    /// trains the other tasks: one label nobody provided should not sink a whole sweep, but
    /// that task's metrics describe an untrained output.
    pub fn require_observed(&self, rows: &[usize], split: &str) -> Result<(), crate::DataError> {
        for (t, name) in self.task_names.iter().enumerate() {
            if !rows.iter().any(|&r| self.observed[[r, t]]) {
                return Err(crate::DataError::NoObservedLabel {
                    task: name.clone(),
                    split: split.to_string(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn dropping_keeps_the_truth_and_poisons_the_label() {
        let mut d = Dataset::complete(
            array![[0.0f32], [1.0]],
            array![[1.0f32, 0.0], [0.0, 1.0]],
            vec!["x".into()],
            vec!["a".into(), "b".into()],
        );
        d.drop_label(1, 1);
        assert!(!d.observed[[1, 1]] && d.labels[[1, 1]].is_nan());
        assert_eq!(d.truth.as_ref().unwrap()[[1, 1]], 1.0);
        assert_eq!(d.observed_rate(&[0, 1]), vec![1.0, 0.5]);
        assert!(d.observed_rate(&[])[0].is_nan());
        assert!(d.require_observed(&[1], "train").is_err());
        d.drop_label(0, 1);
        let err = d.require_observed(&[0, 1], "train").unwrap_err();
        assert_eq!(
            err.to_string(),
            "task `b` has no observed label in the train split: nothing to learn it from"
        );
        assert!(d.require_observed(&[], "test").is_err());
    }
}
