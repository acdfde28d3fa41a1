//! `partial-bce`: Durand, Mehrasa & Mori, "Learning a Deep ConvNet for Multi-label
//! Classification with Partial Labels", CVPR 2019, eq. (2)-(3).
//!
//! Per row `i` with observed fraction `p_i` of its `T` labels, the loss is
//! `g(p_i)/T · Σ_j m_ij · BCE_ij`, averaged over the batch's rows, with
//! `g(p) = α·p^γ + β` (α = −4.45, β = 5.45, γ = 1, so g(1) = 1: a fully labelled row counts
//! as in the masked loss, a sparsely labelled one up to β times more per label). A row
//! with no observed label adds nothing but still counts in the mean.

use super::{all_rows, Context, Network};
use ndarray::{Array2, ArrayViewMut2, Zip};
use nn::{weighted_bce_into, Batch, Objective};
use record::strategy::StrategyParams;

pub fn networks<'a>(cx: &Context<'a>) -> Vec<Network<'a>> {
    let Some(StrategyParams::PartialBce { alpha, beta, gamma }) = cx.params else {
        unreachable!("partial-bce runs carry their parameters")
    };
    all_rows(
        cx,
        Box::new(PartialBce {
            alpha: alpha as f32,
            beta: beta as f32,
            gamma: gamma as f32,
        }),
    )
}

pub struct PartialBce {
    pub alpha: f32,
    pub beta: f32,
    pub gamma: f32,
}

impl PartialBce {
    /// The weight `g(p)` of a row whose observed fraction is `p`.
    pub fn g(&self, p: f32) -> f32 {
        self.alpha * p.powf(self.gamma) + self.beta
    }
}

impl Objective for PartialBce {
    fn loss_and_grad_into(&mut self, batch: Batch<'_>, grad: ArrayViewMut2<f32>) -> f32 {
        let (n, tasks) = batch.logits.dim();
        let mut weights = Array2::zeros((n, tasks));
        for (mut w, o) in weights.rows_mut().into_iter().zip(batch.observed.rows()) {
            let observed = o.iter().filter(|&&o| o).count();
            let row_weight = self.g(observed as f32 / tasks as f32) / tasks as f32;
            Zip::from(&mut w)
                .and(&o)
                .for_each(|w, &o| *w = if o { row_weight } else { 0.0 });
        }
        let targets = super::filled(batch.labels, batch.observed, 0.0);
        weighted_bce_into(batch.logits, targets.view(), weights.view(), n as f32, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::gradcheck::{assert_gradient_matches, batch_of};
    use ndarray::array;

    fn paper() -> PartialBce {
        PartialBce {
            alpha: -4.45,
            beta: 5.45,
            gamma: 1.0,
        }
    }

    #[test]
    fn hand_computed_rows() {
        // Two rows, two tasks, logits 0 (BCE = ln 2 per observed cell).
        // Row 0 fully observed: g(1) = 1, weight 1/2 per cell -> ln 2.
        // Row 1 half observed: g(0.5) = 3.225, weight 1.6125 on its one cell -> 1.6125·ln 2.
        // Mean over 2 rows: (1 + 1.6125)/2 · ln 2 = 0.905423.
        let z = array![[0.0f32, 0.0], [0.0, 0.0]];
        let y = array![[1.0f32, 0.0], [1.0, f32::NAN]];
        let o = array![[true, true], [true, false]];
        let mut g = Array2::zeros(z.dim());
        let loss = paper().loss_and_grad_into(batch_of(&z, &y, &o), g.view_mut());
        assert!((loss - 0.905_423).abs() < 1e-5, "{loss}");
        // d/dz = w·(σ − y)/n: row 1's observed cell 1.6125·(0.5 − 1)/2.
        assert!((g[[1, 0]] + 0.403_125).abs() < 1e-6);
        assert_eq!(g[[1, 1]], 0.0);
    }

    #[test]
    fn fully_observed_batches_give_the_masked_loss() {
        let z = array![[0.3f32, -1.2, 2.0], [-0.4, 0.9, -3.0]];
        let y = array![[1.0f32, 0.0, 1.0], [0.0, 1.0, 1.0]];
        let o = Array2::from_elem(z.dim(), true);
        let mut g = Array2::zeros(z.dim());
        let loss = paper().loss_and_grad_into(batch_of(&z, &y, &o), g.view_mut());
        let (want, want_g) = nn::masked_bce(z.view(), y.view(), o.view(), None);
        assert!((loss - want).abs() < 1e-6);
        assert!(g.iter().zip(&want_g).all(|(a, b)| (a - b).abs() < 1e-6));
    }

    #[test]
    fn gradient_matches_central_differences() {
        assert_gradient_matches(&mut paper(), 3);
    }
}
