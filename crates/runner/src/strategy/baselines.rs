//! The strategies masklab started from: the masked loss, the original post's two losses,
//! imputing negatives, dropping incomplete rows, and one network per task.

use super::{all_rows, Context, Network};
use datagen::Dataset;
use ndarray::{Array2, Axis};
use nn::Loss;
use record::spec::PosWeight;

/// The masked loss, with the run's positive weights if any.
pub fn masked<'a>(cx: &Context<'a>) -> Vec<Network<'a>> {
    let train = cx.train;
    one_loss(cx, masked_loss(cx, &train.labels, &train.observed))
}

/// Every row as observed, minimising one of the fixed losses.
pub fn one_loss<'a>(cx: &Context<'a>, loss: Loss) -> Vec<Network<'a>> {
    all_rows(cx, Box::new(loss))
}

/// Missing labels become observed negatives.
pub fn impute_negative<'a>(cx: &Context<'a>) -> Vec<Network<'a>> {
    let train = cx.train;
    let y = super::filled(train.labels.view(), train.observed.view(), 0.0);
    let observed = Array2::from_elem(y.dim(), true);
    let loss = masked_loss(cx, &y, &observed);
    vec![Network {
        tasks: (0..train.n_tasks()).collect(),
        x: cx.train_inputs(),
        y,
        observed,
        objective: Box::new(loss),
        dev: None,
    }]
}

/// Only the rows with every label observed.
pub fn complete_case<'a>(cx: &Context<'a>) -> Vec<Network<'a>> {
    let train = cx.train;
    let d = train.select(&complete_rows(train));
    let loss = masked_loss(cx, &d.labels, &d.observed);
    vec![Network {
        tasks: (0..train.n_tasks()).collect(),
        x: d.features.into(),
        y: d.labels,
        observed: d.observed,
        objective: Box::new(loss),
        dev: None,
    }]
}

/// The training rows with every label observed.
pub fn complete_rows(train: &Dataset) -> Vec<usize> {
    (0..train.n_rows())
        .filter(|&r| train.observed.row(r).iter().all(|&o| o))
        .collect()
}

/// Task `t`'s network (one network per task), on the rows where that task is observed.
pub fn single_task<'a>(cx: &Context<'a>, t: usize) -> Network<'a> {
    let train = cx.train;
    let keep: Vec<usize> = (0..train.n_rows())
        .filter(|&r| train.observed[[r, t]])
        .collect();
    let y = train.labels.select(Axis(1), &[t]).select(Axis(0), &keep);
    let observed = Array2::from_elem((keep.len(), 1), true);
    let loss = masked_loss(cx, &y, &observed);
    Network {
        tasks: vec![t],
        x: train.features.select(Axis(0), &keep).into(),
        y,
        observed,
        objective: Box::new(loss),
        dev: None,
    }
}

/// The masked loss, weighted (with `pos-weight`) by the network's own training labels.
fn masked_loss(cx: &Context, y: &Array2<f32>, observed: &Array2<bool>) -> Loss {
    Loss::Masked {
        pos_weight: cx
            .training
            .pos_weight
            .map(|PosWeight::Balanced| balanced_weights(y, observed)),
    }
}

/// Per task, negatives / positives among the observed labels (1 where a task has no
/// observed positive or negative: nothing to balance).
fn balanced_weights(y: &Array2<f32>, observed: &Array2<bool>) -> Vec<f32> {
    (0..y.ncols())
        .map(|t| {
            let (mut pos, mut neg) = (0usize, 0usize);
            for (v, &o) in y.column(t).iter().zip(observed.column(t)) {
                if o {
                    if *v == 1.0 {
                        pos += 1
                    } else {
                        neg += 1
                    }
                }
            }
            if pos == 0 || neg == 0 {
                1.0
            } else {
                neg as f32 / pos as f32
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn balanced_weights_count_observed_labels_only() {
        // Task 0: 1 positive, 3 negatives observed (one unobserved positive ignored) -> 3.
        // Task 1: no positive observed -> 1.
        let y = array![
            [1.0f32, 0.0],
            [0.0, 0.0],
            [0.0, f32::NAN],
            [0.0, 0.0],
            [1.0, 0.0]
        ];
        let o = array![
            [true, true],
            [true, true],
            [true, false],
            [true, true],
            [false, true]
        ];
        assert_eq!(balanced_weights(&y, &o), vec![3.0, 1.0]);
    }
}
