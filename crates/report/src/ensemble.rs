//! Ensembles: a setting's seeds scored together. Where every run of a group (the runs that
//! differ only in their seed) recorded its test predictions (`training.ensemble = true`)
//! on the same test rows, the group's ensemble is the mean of their predicted
//! probabilities, summed in grid order, scored against the observed test labels as a
//! single run is. DeepTox, SNN and the Tox21 leaderboard's best entries are such averages;
//! the summary's `ensemble` rows say which numbers are.

use record::outcome::{Metric, MetricSet, TestPredictions};

/// The metrics of the mean of `members`' probabilities; `None` unless there are at least
/// two, on the same rows with the same labels.
pub fn score(members: &[&TestPredictions], task_names: &[String]) -> Option<MetricSet> {
    let first = members.first()?;
    let same = members
        .iter()
        .all(|m| m.rows == first.rows && m.tasks == first.tasks && m.labels == first.labels);
    if members.len() < 2 || !same || first.tasks != task_names.len() {
        return None;
    }
    let mut mean = vec![0.0f64; first.labels.len()];
    for m in members {
        for (acc, p) in mean.iter_mut().zip(m.probabilities()) {
            *acc += p;
        }
    }
    let n = members.len() as f64;
    // Scored as logits, which nn's metrics take: a monotone map, so rankings are the
    // probabilities' own; clamped where a stored probability is exactly 0 or 1.
    let logits: Vec<f32> = mean
        .iter()
        .map(|s| {
            let p = (s / n).clamp(1e-7, 1.0 - 1e-7);
            (p / (1.0 - p)).ln() as f32
        })
        .collect();
    let labels = first.labels();
    let rows = labels.len() / first.tasks;
    let shape = (rows, first.tasks);
    let logits = ndarray::Array2::from_shape_vec(shape, logits).ok()?;
    let y = ndarray::Array2::from_shape_vec(
        shape,
        labels
            .iter()
            .map(|l| l.map_or(0.0, |v| v as u8 as f32))
            .collect(),
    )
    .ok()?;
    let observed =
        ndarray::Array2::from_shape_vec(shape, labels.iter().map(Option::is_some).collect())
            .ok()?;
    let metrics = nn::evaluate(logits.view(), y.view(), observed.view());
    Some(MetricSet::of(&metrics, task_names))
}

/// `(task, metric, value)` of a metric set: every task, then `macro`.
pub fn values(set: &MetricSet) -> Vec<(String, Metric, Option<f64>)> {
    let mut out = Vec::new();
    for t in &set.tasks {
        for m in Metric::ALL {
            out.push((t.task.clone(), m, t.get(m)));
        }
    }
    for m in Metric::ALL {
        out.push(("macro".to_string(), m, set.get(m)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(probabilities: &[f32]) -> TestPredictions {
        // Four rows, one task: labels 1, 0, 1, not observed.
        TestPredictions::new(
            &[10, 11, 12, 13],
            1,
            &[Some(true), Some(false), Some(true), None],
            probabilities,
        )
    }

    #[test]
    fn the_mean_of_the_members_is_scored_by_hand() {
        // Member a ranks row 2 below row 1 (AUC 0.5); member b ranks it above; their mean
        // (0.6, 0.45, 0.5) puts both positives above the negative: AUC 1.
        let a = member(&[0.9, 0.5, 0.3, 0.1]);
        let b = member(&[0.3, 0.4, 0.7, 0.9]);
        let names = vec!["y".to_string()];
        let set = score(&[&a, &b], &names).unwrap();
        assert_eq!(set.auc, Some(1.0));
        assert_eq!(set.tasks[0].n, 3, "the unobserved row is not scored");
        // Alone, member a's AUC is 0.5; one member is no ensemble.
        assert!(score(&[&a], &names).is_none());
        // Other test rows: no ensemble.
        let other = TestPredictions::new(
            &[1, 2, 3, 4],
            1,
            &[Some(true), Some(false), Some(true), None],
            &[0.5; 4],
        );
        assert!(score(&[&a, &other], &names).is_none());
    }
}
