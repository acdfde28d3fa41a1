//! Metrics over observed labels only, per task and macro-averaged, plus the number Keras's
//! `binary_accuracy` prints on data holding `-1`.
//!
//! A prediction is positive when `σ(z) > 0.5` (Keras's threshold). ROC-AUC ranks by logit, so
//! probabilities that round to 0 or 1 in `f32` do not create false ties.

use crate::mlp::sigmoid;
use ndarray::{ArrayView1, ArrayView2, Axis};

/// Why a metric has no value for a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undefined {
    /// No observed label for the task in this split.
    NoObservedLabel,
    /// Every observed label is of one class: ROC-AUC and balanced accuracy need both.
    OneClass,
    /// A score (logit) of an observed label is NaN: no ranking or threshold is defined.
    NanScore,
}

impl std::fmt::Display for Undefined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Undefined::NoObservedLabel => "no observed label",
            Undefined::OneClass => "only one class observed",
            Undefined::NanScore => "a predicted score is NaN",
        })
    }
}

/// Metrics of one task over its observed labels. Undefined values are NaN, with the reason in
/// `undefined`.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskMetrics {
    pub n_observed: usize,
    pub n_positive: usize,
    pub accuracy: f64,
    /// Mean of the true-positive and true-negative rates.
    pub balanced_accuracy: f64,
    /// ROC-AUC, ties by average rank (the Mann-Whitney statistic).
    pub auc: f64,
    /// PR-AUC as average precision, `Σ (R_k - R_{k-1}) P_k` over the distinct score
    /// thresholds from the highest down (scikit-learn's `average_precision_score`).
    pub pr_auc: f64,
    /// Mean binary cross-entropy, computed stably from logits.
    pub bce: f64,
    /// Set when `auc` and `balanced_accuracy` (and with no label, every metric) are NaN.
    pub undefined: Option<Undefined>,
}

/// Per-task metrics and their macro averages. A macro average is the mean over the tasks where
/// that metric is defined (NaN when it is defined for none); `n_auc_defined` says how many.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    pub tasks: Vec<TaskMetrics>,
    pub accuracy: f64,
    pub balanced_accuracy: f64,
    pub auc: f64,
    pub pr_auc: f64,
    pub bce: f64,
    pub n_auc_defined: usize,
}

/// Panics unless the three arrays share one shape: a caller's bug, not bad data.
fn check_shapes(logits: &ArrayView2<f32>, labels: &ArrayView2<f32>, observed: &ArrayView2<bool>) {
    assert_eq!(
        logits.dim(),
        labels.dim(),
        "logits and labels differ in shape"
    );
    assert_eq!(
        logits.dim(),
        observed.dim(),
        "logits and observed mask differ in shape"
    );
}

/// Scores `logits` `(n, tasks)` against 0/1 `labels` where `observed`.
pub fn evaluate(
    logits: ArrayView2<f32>,
    labels: ArrayView2<f32>,
    observed: ArrayView2<bool>,
) -> Metrics {
    check_shapes(&logits, &labels, &observed);
    let tasks: Vec<TaskMetrics> = (0..logits.ncols())
        .map(|j| {
            task_metrics(
                logits.index_axis(Axis(1), j),
                labels.index_axis(Axis(1), j),
                observed.index_axis(Axis(1), j),
            )
        })
        .collect();
    let mean_defined = |f: fn(&TaskMetrics) -> f64| {
        let values: Vec<f64> = tasks.iter().map(f).filter(|v| !v.is_nan()).collect();
        if values.is_empty() {
            f64::NAN
        } else {
            values.iter().sum::<f64>() / values.len() as f64
        }
    };
    Metrics {
        accuracy: mean_defined(|t| t.accuracy),
        balanced_accuracy: mean_defined(|t| t.balanced_accuracy),
        auc: mean_defined(|t| t.auc),
        pr_auc: mean_defined(|t| t.pr_auc),
        bce: mean_defined(|t| t.bce),
        n_auc_defined: tasks.iter().filter(|t| !t.auc.is_nan()).count(),
        tasks,
    }
}

/// Metrics of one task (one column) over its observed entries.
pub fn task_metrics(
    logits: ArrayView1<f32>,
    labels: ArrayView1<f32>,
    observed: ArrayView1<bool>,
) -> TaskMetrics {
    let pairs: Vec<(f32, bool)> = logits
        .iter()
        .zip(labels)
        .zip(observed)
        .filter(|(_, &o)| o)
        .map(|((&z, &y), _)| (z, y == 1.0))
        .collect();
    let n = pairs.len();
    let n_pos = pairs.iter().filter(|p| p.1).count();
    if pairs.iter().any(|p| p.0.is_nan()) {
        return TaskMetrics {
            n_observed: n,
            n_positive: n_pos,
            accuracy: f64::NAN,
            balanced_accuracy: f64::NAN,
            auc: f64::NAN,
            pr_auc: f64::NAN,
            bce: f64::NAN,
            undefined: Some(Undefined::NanScore),
        };
    }
    if n == 0 {
        return TaskMetrics {
            n_observed: 0,
            n_positive: 0,
            accuracy: f64::NAN,
            balanced_accuracy: f64::NAN,
            auc: f64::NAN,
            pr_auc: f64::NAN,
            bce: f64::NAN,
            undefined: Some(Undefined::NoObservedLabel),
        };
    }
    let (mut tp, mut tn, mut bce) = (0usize, 0usize, 0.0f64);
    for &(z, y) in &pairs {
        let predicted = sigmoid(z) > 0.5;
        tp += (predicted && y) as usize;
        tn += (!predicted && !y) as usize;
        let z = z as f64;
        // Stable -log σ(z) for positives, -log(1-σ(z)) for negatives.
        let signed = if y { -z } else { z };
        bce += signed.max(0.0) + (-signed.abs()).exp().ln_1p();
    }
    let n_neg = n - n_pos;
    let one_class = n_pos == 0 || n_neg == 0;
    TaskMetrics {
        n_observed: n,
        n_positive: n_pos,
        accuracy: (tp + tn) as f64 / n as f64,
        balanced_accuracy: if one_class {
            f64::NAN
        } else {
            (tp as f64 / n_pos as f64 + tn as f64 / n_neg as f64) / 2.0
        },
        auc: if one_class {
            f64::NAN
        } else {
            roc_auc(&pairs, n_pos)
        },
        pr_auc: if one_class {
            f64::NAN
        } else {
            average_precision(&pairs, n_pos)
        },
        bce: bce / n as f64,
        undefined: one_class.then_some(Undefined::OneClass),
    }
}

/// Mann-Whitney U / (n_pos · n_neg) with average ranks for tied scores.
fn roc_auc(pairs: &[(f32, bool)], n_pos: usize) -> f64 {
    let mut sorted: Vec<(f32, bool)> = pairs.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut positive_rank_sum = 0.0f64;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j share their average.
        let average_rank = (i + 1 + j) as f64 / 2.0;
        positive_rank_sum += average_rank * sorted[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    let n_neg = sorted.len() - n_pos;
    let u = positive_rank_sum - (n_pos * (n_pos + 1)) as f64 / 2.0;
    u / (n_pos as f64 * n_neg as f64)
}

/// Average precision: walking the distinct scores from the highest down, each threshold adds
/// its precision times the recall it gains; tied scores enter together.
fn average_precision(pairs: &[(f32, bool)], n_pos: usize) -> f64 {
    let mut sorted: Vec<(f32, bool)> = pairs.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp, mut ap, mut last_recall) = (0usize, 0usize, 0.0f64, 0.0f64);
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            tp += sorted[j].1 as usize;
            fp += !sorted[j].1 as usize;
            j += 1;
        }
        let recall = tp as f64 / n_pos as f64;
        ap += (recall - last_recall) * tp as f64 / (tp + fp) as f64;
        last_recall = recall;
        i = j;
    }
    ap
}

/// Keras's `binary_accuracy` on data where a missing label is stored as `-1`: the share of all
/// cells whose thresholded prediction equals the stored target. An unobserved cell can never
/// equal `-1`, so it always counts as wrong. NaN for an empty array.
pub fn keras_accuracy(
    logits: ArrayView2<f32>,
    labels: ArrayView2<f32>,
    observed: ArrayView2<bool>,
) -> f64 {
    check_shapes(&logits, &labels, &observed);
    if logits.is_empty() {
        return f64::NAN;
    }
    let correct = ndarray::Zip::from(&logits)
        .and(&labels)
        .and(&observed)
        .fold(0usize, |acc, &z, &y, &o| {
            acc + (o && (sigmoid(z) > 0.5) == (y == 1.0)) as usize
        });
    correct as f64 / logits.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    fn one_task(z: &[f32], y: &[f32], o: &[bool]) -> TaskMetrics {
        task_metrics(
            Array1::from(z.to_vec()).view(),
            Array1::from(y.to_vec()).view(),
            Array1::from(o.to_vec()).view(),
        )
    }

    #[test]
    fn auc_with_ties_by_hand() {
        // Scores: pos {0.8, 0.5, 0.5}, neg {0.5, 0.2}. Pairs (pos, neg): 0.8 beats both (2),
        // each 0.5 ties the 0.5 (0.5) and beats 0.2 (1): U = 2 + 1.5 + 1.5 = 5 of 6.
        let m = one_task(
            &[0.8, 0.5, 0.5, 0.5, 0.2],
            &[1., 1., 1., 0., 0.],
            &[true; 5],
        );
        assert!((m.auc - 5.0 / 6.0).abs() < 1e-12, "{}", m.auc);
        // All scores tied: 0.5.
        let m = one_task(&[1.0; 4], &[1., 0., 1., 0.], &[true; 4]);
        assert_eq!(m.auc, 0.5);
        // Perfect and reversed rankings.
        assert_eq!(
            one_task(&[-1., -2., 3., 4.], &[0., 0., 1., 1.], &[true; 4]).auc,
            1.0
        );
        assert_eq!(
            one_task(&[-1., -2., 3., 4.], &[1., 1., 0., 0.], &[true; 4]).auc,
            0.0
        );
    }

    #[test]
    fn accuracy_balanced_accuracy_and_bce_by_hand() {
        // Labels 1,1,1,0 with predictions +,+,-,- : acc 3/4; TPR 2/3, TNR 1 -> bal (2/3+1)/2.
        // The fifth entry is unobserved and wrong, so it must not count.
        let z = [2.0, 0.5, -1.0, -3.0, 9.0];
        let m = one_task(&z, &[1., 1., 1., 0., 0.], &[true, true, true, true, false]);
        assert_eq!(m.n_observed, 4);
        assert_eq!(m.n_positive, 3);
        assert_eq!(m.accuracy, 0.75);
        assert!((m.balanced_accuracy - (2.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
        let sp = |x: f64| (1.0 + x.exp()).ln();
        let bce = (sp(-2.0) + sp(-0.5) + sp(1.0) + sp(-3.0)) / 4.0;
        assert!((m.bce - bce).abs() < 1e-9);
        assert_eq!(m.undefined, None);
    }

    #[test]
    fn single_class_and_unlabelled_tasks_are_nan_with_a_reason() {
        let m = one_task(&[0.3, -0.2], &[1., 1.], &[true, true]);
        assert!(m.auc.is_nan() && m.balanced_accuracy.is_nan());
        assert_eq!(m.accuracy, 0.5);
        assert_eq!(m.undefined, Some(Undefined::OneClass));
        let m = one_task(&[0.3, -0.2], &[1., 0.], &[false, false]);
        assert!(m.accuracy.is_nan() && m.auc.is_nan() && m.bce.is_nan());
        assert_eq!(m.undefined, Some(Undefined::NoObservedLabel));
        assert_eq!(m.undefined.unwrap().to_string(), "no observed label");
    }

    #[test]
    fn average_precision_by_hand() {
        // Scores 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.6 (neg): thresholds add
        // 0.5 · 1 + 0 + 0.5 · 2/3 + 0 = 0.8333...
        let logits = array![[0.9f32], [0.8], [0.7], [0.6]];
        let labels = array![[1.0f32], [0.0], [1.0], [0.0]];
        let observed = ndarray::Array2::from_elem((4, 1), true);
        let m = &evaluate(logits.view(), labels.view(), observed.view()).tasks[0];
        assert!((m.pr_auc - 5.0 / 6.0).abs() < 1e-12, "{}", m.pr_auc);
        // A tie between the top positive and a negative enters as one threshold:
        // recall 0.5 at precision 1/2, then recall 1 at precision 2/3: 0.25 + 1/3.
        let logits = array![[0.9f32], [0.9], [0.7], [0.1]];
        let m = &evaluate(logits.view(), labels.view(), observed.view()).tasks[0];
        assert!(
            (m.pr_auc - (0.25 + 1.0 / 3.0)).abs() < 1e-12,
            "{}",
            m.pr_auc
        );
        // A perfect ranking is 1; positives ranked last give their share at the end.
        let logits = array![[0.9f32], [0.1], [0.8], [0.2]];
        let m = &evaluate(logits.view(), labels.view(), observed.view()).tasks[0];
        assert_eq!(m.pr_auc, 1.0);
        let logits = array![[0.1f32], [0.9], [0.2], [0.8]];
        let m = &evaluate(logits.view(), labels.view(), observed.view()).tasks[0];
        // Thresholds 0.9, 0.8 (no recall), 0.2: recall 0.5 at 1/3, 0.1: recall 1 at 2/4.
        assert!(
            (m.pr_auc - (0.5 / 3.0 + 0.5 * 0.5)).abs() < 1e-12,
            "{}",
            m.pr_auc
        );
        // One class: undefined, like ROC-AUC.
        let all_neg = array![[0.0f32], [0.0], [0.0], [0.0]];
        assert!(
            evaluate(logits.view(), all_neg.view(), observed.view()).tasks[0]
                .pr_auc
                .is_nan()
        );
    }

    #[test]
    fn a_nan_score_makes_the_task_undefined_not_arbitrary() {
        // Before: the NaN sorted last under total_cmp and the AUC came out 1.0 here.
        let logits = array![[0.1f32], [f32::NAN], [0.3], [-2.0]];
        let labels = array![[0.0f32], [1.0], [1.0], [0.0]];
        let observed = ndarray::Array2::from_elem((4, 1), true);
        let m = &evaluate(logits.view(), labels.view(), observed.view()).tasks[0];
        assert!(m.auc.is_nan() && m.accuracy.is_nan() && m.balanced_accuracy.is_nan());
        assert_eq!(m.undefined, Some(Undefined::NanScore));
        assert_eq!((m.n_observed, m.n_positive), (4, 2));
        // An unobserved cell's NaN score is not looked at.
        let observed = array![[true], [false], [true], [true]];
        let m = &evaluate(logits.view(), labels.view(), observed.view()).tasks[0];
        assert_eq!((m.auc, m.undefined), (1.0, None));
    }

    #[test]
    fn macro_averages_skip_undefined_tasks() {
        let z = array![[1.0f32, 1.0, 0.0], [-1.0, 2.0, 0.0]];
        let y = array![[1.0f32, 1.0, 0.0], [0.0, 1.0, 0.0]];
        let o = array![[true, true, false], [true, true, false]];
        let m = evaluate(z.view(), y.view(), o.view());
        assert_eq!(m.tasks[0].auc, 1.0);
        assert!(m.tasks[1].auc.is_nan());
        assert_eq!(m.auc, 1.0);
        assert_eq!(m.n_auc_defined, 1);
        assert_eq!(m.accuracy, 1.0); // tasks 0 and 1 both perfect, task 2 undefined
    }

    #[test]
    fn keras_accuracy_counts_unobserved_cells_as_wrong() {
        let z = array![[1.0f32, -1.0], [1.0, 1.0]];
        let y = array![[1.0f32, 0.0], [0.0, f32::NAN]];
        let o = array![[true, true], [true, false]];
        // Correct: (0,0), (0,1). Wrong: (1,0) by prediction, (1,1) unobserved.
        assert_eq!(keras_accuracy(z.view(), y.view(), o.view()), 0.5);
    }
}
