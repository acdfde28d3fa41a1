//! `epr`: expected positive regularisation (Cole et al., "Multi-Label Learning from Single
//! Positive Labels", CVPR 2021), adapted to known priors: the masked loss plus
//! `λ · (1/T) Σ_j (mean of p_ij over the batch's missing cells of task j − π_j)²`, with
//! `π_j` task `j`'s positive rate among its observed training labels. A task with no
//! missing cell in the batch, or no observed training label, adds nothing.

use super::{all_rows, Context, Network};
use ndarray::{Array2, ArrayViewMut2};
use nn::{mlp::sigmoid, weighted_bce_into, Batch, Objective};
use record::strategy::StrategyParams;

pub fn networks<'a>(cx: &Context<'a>) -> Vec<Network<'a>> {
    let Some(StrategyParams::Epr { lambda }) = cx.params else {
        unreachable!("epr runs carry their parameters")
    };
    let priors = observed_positive_rates(&cx.train.labels, &cx.train.observed);
    all_rows(
        cx,
        Box::new(Epr {
            lambda: lambda as f32,
            priors,
        }),
    )
}

/// Per task, the share of positives among its observed labels (`None`: none observed).
pub fn observed_positive_rates(y: &Array2<f32>, observed: &Array2<bool>) -> Vec<Option<f32>> {
    (0..y.ncols())
        .map(|t| {
            let (mut pos, mut seen) = (0usize, 0usize);
            for (&v, &o) in y.column(t).iter().zip(observed.column(t)) {
                if o {
                    seen += 1;
                    pos += (v == 1.0) as usize;
                }
            }
            (seen > 0).then(|| pos as f32 / seen as f32)
        })
        .collect()
}

pub struct Epr {
    pub lambda: f32,
    pub priors: Vec<Option<f32>>,
}

impl Objective for Epr {
    fn loss_and_grad_into(&mut self, batch: Batch<'_>, mut grad: ArrayViewMut2<f32>) -> f32 {
        let (z, o) = (batch.logits, batch.observed);
        let tasks = z.ncols();
        let weights = o.mapv(|o| o as u8 as f32);
        let targets = super::filled(batch.labels, o, 0.0);
        let n_observed = weights.sum();
        let mut loss = weighted_bce_into(
            z,
            targets.view(),
            weights.view(),
            n_observed,
            grad.view_mut(),
        );
        for (j, prior) in self.priors.iter().enumerate() {
            let Some(prior) = prior else { continue };
            let missing: Vec<usize> = (0..z.nrows()).filter(|&i| !o[[i, j]]).collect();
            if missing.is_empty() {
                continue;
            }
            let m = missing.len() as f32;
            let mean = missing.iter().map(|&i| sigmoid(z[[i, j]])).sum::<f32>() / m;
            let gap = mean - prior;
            loss += self.lambda / tasks as f32 * gap * gap;
            // d/dz_ij of λ/T·(mean − π)²: λ/T · 2(mean − π) · σ'(z_ij) / m.
            let scale = self.lambda / tasks as f32 * 2.0 * gap / m;
            for &i in &missing {
                let p = sigmoid(z[[i, j]]);
                grad[[i, j]] += scale * p * (1.0 - p);
            }
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::gradcheck::{assert_gradient_matches, batch_of};
    use ndarray::array;

    #[test]
    fn hand_computed_penalty() {
        // Task 0: one observed positive at z = 0 (BCE ln 2); task 1: one observed negative
        // at z = 0 (ln 2). Missing: task 0 at z = 0 (p = 0.5), prior 0.1 -> gap 0.4;
        // task 1 has no missing cell. Loss = ln 2 + λ/T·0.16 = 0.693147 + 0.08 (λ = 1, T = 2).
        let z = array![[0.0f32, 0.0], [0.0, 0.0]];
        let y = array![[1.0f32, 0.0], [f32::NAN, 0.0]];
        let o = array![[true, true], [false, true]];
        let mut epr = Epr {
            lambda: 1.0,
            priors: vec![Some(0.1), Some(0.5)],
        };
        let mut g = Array2::zeros(z.dim());
        let loss = epr.loss_and_grad_into(batch_of(&z, &y, &o), g.view_mut());
        assert!((loss - 0.773_147).abs() < 1e-5, "{loss}");
        // The missing cell: 1/2 · 2 · 0.4 · 0.25 = 0.1 (no BCE term).
        assert!((g[[1, 0]] - 0.1).abs() < 1e-6);
    }

    #[test]
    fn priors_are_observed_positive_rates() {
        let y = array![
            [1.0f32, 0.0, f32::NAN],
            [0.0, 0.0, f32::NAN],
            [1.0, f32::NAN, f32::NAN]
        ];
        let o = array![
            [true, true, false],
            [true, true, false],
            [true, false, false]
        ];
        let rates = observed_positive_rates(&y, &o);
        assert_eq!(rates, vec![Some(2.0 / 3.0), Some(0.0), None]);
    }

    #[test]
    fn gradient_matches_central_differences() {
        let mut epr = Epr {
            lambda: 1.0,
            priors: vec![Some(0.1), Some(0.3), None, Some(0.8)],
        };
        assert_gradient_matches(&mut epr, 7);
    }
}
