//! `pseudo-label`: self-training (Lee, "Pseudo-Label", ICML 2013 workshop; in the
//! partial-label setting, e.g. Durand et al. 2019, section 3.3). The first stage trains with
//! the masked loss. Each further stage (`rounds`, default 1) labels the missing training
//! cells the last stage is sure of, `p ≥ positive` (0.9) as 1 and `p ≤ negative` (0.1) as
//! 0, and trains a network from a fresh initialisation on the observed labels (weight 1)
//! and those pseudo-labels (weight `weight`, 0.5): the weighted mean of the cells' BCE.

use super::cell_targets::CellTargets;
use super::{all_rows, Context, Filled, Network, NextStage, Stage};
use ndarray::{Array2, ArrayView2};
use nn::Loss;
use record::strategy::StrategyParams;

struct Params {
    positive: f32,
    negative: f32,
    weight: f32,
    rounds: usize,
}

fn params(cx: &Context) -> Params {
    let Some(StrategyParams::PseudoLabel {
        positive,
        negative,
        weight,
        rounds,
    }) = cx.params
    else {
        unreachable!("pseudo-label runs carry their parameters")
    };
    Params {
        positive: positive as f32,
        negative: negative as f32,
        weight: weight as f32,
        rounds,
    }
}

/// The first stage: the masked loss.
pub fn networks<'a>(cx: &Context<'a>) -> Vec<Network<'a>> {
    all_rows(cx, Box::new(Loss::masked()))
}

/// After stage `index`, the next one while rounds remain.
pub fn next_stage<'a>(cx: &Context<'a>, done: &Stage) -> Option<NextStage<'a>> {
    let p = params(cx);
    if done.index >= p.rounds {
        return None;
    }
    let probabilities = (done.predict)(cx.train.features.view());
    let (targets, weights) = pseudo_labelled(
        cx.train.labels.view(),
        cx.train.observed.view(),
        probabilities.view(),
        &p,
    );
    let filled = Filled {
        cells: ndarray::Zip::from(&weights)
            .and(&cx.train.observed)
            .map_collect(|&w, &o| w > 0.0 && !o),
        targets: targets.clone(),
    };
    Some(NextStage {
        networks: all_rows(cx, Box::new(CellTargets { targets, weights })),
        filled: Some(filled),
    })
}

/// Per training cell: the target (the label, or the pseudo-label) and its weight (1 where
/// observed, `weight` where pseudo-labelled, 0 where neither).
fn pseudo_labelled(
    labels: ArrayView2<f32>,
    observed: ArrayView2<bool>,
    probabilities: ArrayView2<f32>,
    p: &Params,
) -> (Array2<f32>, Array2<f32>) {
    let mut targets = Array2::zeros(labels.dim());
    let mut weights = Array2::zeros(labels.dim());
    for ((ij, &o), &prob) in observed.indexed_iter().zip(probabilities.iter()) {
        if o {
            targets[ij] = labels[ij];
            weights[ij] = 1.0;
        } else if prob >= p.positive {
            targets[ij] = 1.0;
            weights[ij] = p.weight;
        } else if prob <= p.negative {
            weights[ij] = p.weight;
        }
    }
    (targets, weights)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn sure_cells_are_labelled_and_weighted_the_rest_left_out() {
        let labels = array![[1.0f32, f32::NAN, f32::NAN, f32::NAN]];
        let observed = array![[true, false, false, false]];
        let probabilities = array![[0.2f32, 0.95, 0.05, 0.5]];
        let p = Params {
            positive: 0.9,
            negative: 0.1,
            weight: 0.5,
            rounds: 1,
        };
        let (t, w) = pseudo_labelled(labels.view(), observed.view(), probabilities.view(), &p);
        // The observed label stays whatever the network thinks; 0.95 -> 1, 0.05 -> 0,
        // 0.5 -> left out.
        assert_eq!(t, array![[1.0f32, 1.0, 0.0, 0.0]]);
        assert_eq!(w, array![[1.0f32, 0.5, 0.5, 0.0]]);
    }
}
