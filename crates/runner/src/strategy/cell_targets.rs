//! An objective with a target and a weight for every training cell, looked up by the
//! batch's rows: how the two-stage strategies train their last stage on observed labels
//! and the labels their first stage filled in.

use ndarray::{Array2, ArrayViewMut2};
use nn::{weighted_bce_into, Batch, Objective};

/// BCE with a target and a weight per training cell, looked up by the batch's rows; the
/// batch's weighted mean.
pub struct CellTargets {
    pub targets: Array2<f32>,
    pub weights: Array2<f32>,
}

impl Objective for CellTargets {
    fn loss_and_grad_into(&mut self, batch: Batch<'_>, grad: ArrayViewMut2<f32>) -> f32 {
        let whole: Vec<usize>;
        let rows = match batch.rows {
            Some(rows) => rows,
            None => {
                whole = (0..batch.logits.nrows()).collect();
                &whole
            }
        };
        let targets = self.targets.select(ndarray::Axis(0), rows);
        let weights = self.weights.select(ndarray::Axis(0), rows);
        let norm = weights.sum();
        weighted_bce_into(batch.logits, targets.view(), weights.view(), norm, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::gradcheck::assert_gradient_matches;
    use ndarray::array;

    #[test]
    fn the_objective_is_the_weighted_mean_over_the_batch_rows() {
        // Training rows 0..3; the batch holds rows 2 and 0. Logits 0: BCE ln 2 per cell, so
        // the weighted mean is ln 2 whatever the weights.
        let mut w = CellTargets {
            targets: array![[1.0f32], [0.0], [0.0]],
            weights: array![[1.0f32], [9.0], [0.5]],
        };
        let z = array![[0.0f32], [0.0]];
        let labels = Array2::zeros((2, 1));
        let observed = Array2::from_elem((2, 1), false);
        let rows = [2usize, 0];
        let mut g = Array2::zeros((2, 1));
        let batch = Batch {
            logits: z.view(),
            labels: labels.view(),
            observed: observed.view(),
            rows: Some(&rows),
        };
        let loss = w.loss_and_grad_into(batch, g.view_mut());
        assert!((loss - std::f32::consts::LN_2).abs() < 1e-6);
        // Row 2 (weight 0.5, target 0): 0.5·0.5/1.5; row 0 (weight 1, target 1): −0.5/1.5.
        assert!((g[[0, 0]] - 0.25 / 1.5).abs() < 1e-6 && (g[[1, 0]] + 0.5 / 1.5).abs() < 1e-6);
    }

    #[test]
    fn gradient_matches_central_differences() {
        // A batch given whole reads the tables' first rows.
        let mut w = CellTargets {
            targets: Array2::from_shape_fn((6, 4), |(i, j)| ((i + j) % 2) as f32),
            weights: Array2::from_shape_fn((6, 4), |(i, j)| [1.0, 0.5, 0.0][(i * 4 + j) % 3]),
        };
        assert_gradient_matches(&mut w, 13);
    }
}
