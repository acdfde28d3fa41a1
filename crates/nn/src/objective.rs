//! What a training step minimises: an [`Objective`] sees a batch's logits, labels and
//! observed mask (and which training rows the batch holds) and returns the loss with its
//! gradient with respect to the logits.
//!
//! The fixed losses ([`Loss`]) are objectives without state. Strategies for missing labels
//! that need more (targets and weights that depend on the step or on the current
//! predictions, trainable label estimates, priors from the training labels) implement it
//! themselves, usually on top of [`weighted_bce_into`]: binary cross-entropy with a soft
//! target and a weight per cell.

use crate::fastmath::{exp_nonpositive, ln_1p_unit};
use crate::loss::Loss;
use ndarray::{ArrayView2, ArrayViewMut2, Zip};

/// A batch as an objective sees it; every array is `(rows, tasks)`.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    pub logits: ArrayView2<'a, f32>,
    /// 0/1 where observed; anything elsewhere (never to be read there).
    pub labels: ArrayView2<'a, f32>,
    pub observed: ArrayView2<'a, bool>,
    /// The batch's rows in the training set, in order, when it was gathered from one
    /// ([`crate::Trainer::step_rows`], [`crate::Trainer::epoch`]); `None` for a batch given
    /// whole.
    pub rows: Option<&'a [usize]>,
}

/// A training objective over batches.
pub trait Objective {
    /// The batch's loss; writes d loss / d logits into `grad` (the logits' shape). Called
    /// once per training step, so an objective may keep state across steps.
    fn loss_and_grad_into(&mut self, batch: Batch<'_>, grad: ArrayViewMut2<f32>) -> f32;
}

impl Objective for Loss {
    fn loss_and_grad_into(&mut self, batch: Batch<'_>, grad: ArrayViewMut2<f32>) -> f32 {
        Loss::loss_and_grad_into(self, batch.logits, batch.labels, batch.observed, grad)
    }
}

/// `Σ w·BCE(t, σ(z)) / norm` over every cell, with soft targets `t` in `[0, 1]` and weights
/// `w ≥ 0`; writes the gradient `w·(σ(z) − t) / norm`. A cell of weight 0 never enters the
/// arithmetic (its logit may be anything). `norm = 0` gives loss 0 and a zero gradient.
/// Per cell, `t·softplus(−z) + (1 − t)·softplus(z)`, the stable form.
///
/// # Panics
/// If the shapes differ.
pub fn weighted_bce_into(
    logits: ArrayView2<f32>,
    targets: ArrayView2<f32>,
    weights: ArrayView2<f32>,
    norm: f32,
    mut grad: ArrayViewMut2<f32>,
) -> f32 {
    let dim = logits.dim();
    assert!(
        targets.dim() == dim && weights.dim() == dim && grad.dim() == dim,
        "logits, targets, weights and gradient differ in shape"
    );
    if norm == 0.0 {
        grad.fill(0.0);
        return 0.0;
    }
    let scale = 1.0 / norm;
    let mut total = 0.0f64;
    Zip::from(&mut grad)
        .and(&logits)
        .and(&targets)
        .and(&weights)
        .for_each(|g, &z, &t, &w| {
            if w == 0.0 {
                *g = 0.0;
                return;
            }
            let (loss, p) = bce_cell(z, t);
            total += (w * loss) as f64;
            *g = w * (p - t) * scale;
        });
    (total * scale as f64) as f32
}

/// One cell's `t·softplus(−z) + (1 − t)·softplus(z)` and `σ(z)`, from one exponential.
/// A NaN or infinite logit gives a NaN loss (so a diverged network cannot look finite).
#[inline]
pub fn bce_cell(z: f32, t: f32) -> (f32, f32) {
    #[allow(clippy::eq_op)] // deliberately z - z: NaN for a NaN or infinite logit
    let poison = z - z;
    let e = exp_nonpositive(-z.abs());
    let log1p_e = ln_1p_unit(e);
    let inv = 1.0 / (1.0 + e);
    let p = if z >= 0.0 { inv } else { e * inv };
    let loss = t * ((-z).max(0.0) + log1p_e) + (1.0 - t) * (z.max(0.0) + log1p_e);
    (loss + poison, p + poison)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::masked_bce;
    use ndarray::{array, Array2};

    /// `Σ w·BCE / norm` straight from the definition, in f64.
    fn reference(z: &Array2<f32>, t: &Array2<f32>, w: &Array2<f32>, norm: f64) -> f64 {
        let mut total = 0.0;
        for ((&z, &t), &w) in z.iter().zip(t).zip(w) {
            let p = 1.0 / (1.0 + (-(z as f64)).exp());
            total -= w as f64 * (t as f64 * p.ln() + (1.0 - t as f64) * (1.0 - p).ln());
        }
        total / norm
    }

    #[test]
    fn hand_computed_weighted_soft_target_value() {
        // One cell, z = 0: σ = 0.5, BCE = ln 2 whatever the target; weight 3, norm 2:
        // loss 1.5·ln 2 = 1.03972, gradient 3·(0.5 − 0.2)/2 = 0.45.
        let (z, t, w) = (array![[0.0f32]], array![[0.2f32]], array![[3.0f32]]);
        let mut g = Array2::zeros((1, 1));
        let loss = weighted_bce_into(z.view(), t.view(), w.view(), 2.0, g.view_mut());
        assert!((loss - 1.039_720_8).abs() < 1e-6, "{loss}");
        assert!((g[[0, 0]] - 0.45).abs() < 1e-7);
    }

    #[test]
    fn matches_the_definition_and_its_central_differences() {
        let z = array![[0.3f32, -1.2, 2.0], [-0.4, 0.9, -3.0]];
        let t = array![[1.0f32, 0.05, 0.7], [0.0, 0.95, 0.5]];
        let w = array![[1.0f32, 0.5, 0.0], [2.0, 1.0, 0.25]];
        let mut g = Array2::zeros(z.dim());
        let loss = weighted_bce_into(z.view(), t.view(), w.view(), 4.0, g.view_mut());
        assert!((loss as f64 - reference(&z, &t, &w, 4.0)).abs() < 1e-6);
        let h = 1e-3;
        for k in 0..z.len() {
            let (mut up, mut down) = (z.clone(), z.clone());
            up.as_slice_mut().unwrap()[k] += h;
            down.as_slice_mut().unwrap()[k] -= h;
            let numeric =
                (reference(&up, &t, &w, 4.0) - reference(&down, &t, &w, 4.0)) / (2.0 * h as f64);
            let analytic = g.as_slice().unwrap()[k] as f64;
            assert!(
                (numeric - analytic).abs() < 1e-4,
                "cell {k}: {numeric} vs {analytic}"
            );
        }
    }

    #[test]
    fn with_observed_weights_and_their_count_it_is_the_masked_loss() {
        let z = array![[0.3f32, -1.2, 2.0], [-0.4, 0.9, -3.0]];
        let y = array![[1.0f32, 0.0, f32::NAN], [0.0, 1.0, 1.0]];
        let o = array![[true, true, false], [true, true, true]];
        let w = o.mapv(|o| o as u8 as f32);
        let t = Zip::from(&y)
            .and(&o)
            .map_collect(|&y, &o| if o { y } else { 0.0 });
        let mut g = Array2::zeros(z.dim());
        let loss = weighted_bce_into(z.view(), t.view(), w.view(), 5.0, g.view_mut());
        let (want, want_g) = masked_bce(z.view(), y.view(), o.view(), None);
        assert!((loss - want).abs() < 1e-6);
        assert!(g.iter().zip(&want_g).all(|(a, b)| (a - b).abs() < 1e-7));
    }

    #[test]
    fn zero_weight_cells_never_enter_and_zero_norm_is_zero() {
        let z = array![[f32::NAN, 1.0]];
        let t = array![[0.0f32, 1.0]];
        let w = array![[0.0f32, 1.0]];
        let mut g = Array2::from_elem(z.dim(), 9.0);
        let loss = weighted_bce_into(z.view(), t.view(), w.view(), 1.0, g.view_mut());
        assert!(loss.is_finite() && g[[0, 0]] == 0.0);
        let loss = weighted_bce_into(z.view(), t.view(), w.view(), 0.0, g.view_mut());
        assert_eq!((loss, g[[0, 1]]), (0.0, 0.0));
        // A non-finite logit with weight is not hidden.
        let w = array![[1.0f32, 1.0]];
        let loss = weighted_bce_into(z.view(), t.view(), w.view(), 1.0, g.view_mut());
        assert!(loss.is_nan());
    }
}
