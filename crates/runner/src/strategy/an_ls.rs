//! `an-ls`: Cole et al., "Multi-Label Learning from Single Positive Labels", CVPR 2021:
//! "assume negative" with label smoothing. Every missing label is taken as a negative, and
//! every target is smoothed as the paper's code does (`loss_an_ls`): a positive's target is
//! `1 − s`, a negative's `s` (s = 0.1: 0.9 and 0.1), averaged over all cells.

use super::{Context, Network};
use ndarray::{Array2, ArrayViewMut2};
use nn::{weighted_bce_into, Batch, Objective};
use record::strategy::StrategyParams;

pub fn networks<'a>(cx: &Context<'a>) -> Vec<Network<'a>> {
    let Some(StrategyParams::AnLs { smoothing }) = cx.params else {
        unreachable!("an-ls runs carry their parameters")
    };
    let train = cx.train;
    let y = super::filled(train.labels.view(), train.observed.view(), 0.0);
    vec![Network {
        tasks: (0..train.n_tasks()).collect(),
        x: cx.train_inputs(),
        observed: Array2::from_elem(y.dim(), true),
        y,
        objective: Box::new(AnLs {
            smoothing: smoothing as f32,
        }),
        dev: None,
    }]
}

pub struct AnLs {
    pub smoothing: f32,
}

impl Objective for AnLs {
    fn loss_and_grad_into(&mut self, batch: Batch<'_>, grad: ArrayViewMut2<f32>) -> f32 {
        let s = self.smoothing;
        // Missing cells arrive already filled with 0; any left unobserved count as 0 too.
        let targets =
            super::filled(batch.labels, batch.observed, 0.0).mapv(|t| t * (1.0 - 2.0 * s) + s);
        let weights = Array2::ones(batch.logits.dim());
        weighted_bce_into(
            batch.logits,
            targets.view(),
            weights.view(),
            batch.logits.len() as f32,
            grad,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::gradcheck::{assert_gradient_matches, batch_of};
    use ndarray::array;

    #[test]
    fn hand_computed_smoothed_targets() {
        // z = 0 everywhere: BCE = ln 2 whatever the target; gradients (0.5 − t)/cells with
        // t = 0.9 for a positive and 0.1 for a negative or a missing label.
        let z = array![[0.0f32, 0.0]];
        let y = array![[1.0f32, f32::NAN]];
        let o = array![[true, false]];
        let mut g = Array2::zeros(z.dim());
        let loss = AnLs { smoothing: 0.1 }.loss_and_grad_into(batch_of(&z, &y, &o), g.view_mut());
        assert!((loss - std::f32::consts::LN_2).abs() < 1e-6);
        assert!((g[[0, 0]] + 0.2).abs() < 1e-6 && (g[[0, 1]] - 0.2).abs() < 1e-6);
    }

    #[test]
    fn without_smoothing_it_is_impute_negative() {
        let z = array![[0.3f32, -1.2], [2.0, -0.4]];
        let y = array![[1.0f32, 0.0], [f32::NAN, 1.0]];
        let o = array![[true, true], [false, true]];
        let mut g = Array2::zeros(z.dim());
        let loss = AnLs { smoothing: 0.0 }.loss_and_grad_into(batch_of(&z, &y, &o), g.view_mut());
        let filled = array![[1.0f32, 0.0], [0.0, 1.0]];
        let all = Array2::from_elem(z.dim(), true);
        let (want, _) = nn::masked_bce(z.view(), filled.view(), all.view(), None);
        assert!((loss - want).abs() < 1e-6);
    }

    #[test]
    fn gradient_matches_central_differences() {
        assert_gradient_matches(&mut AnLs { smoothing: 0.1 }, 5);
    }
}
