//! `role`: regularised online label estimation (Cole et al., "Multi-Label Learning from
//! Single Positive Labels", CVPR 2021, section 3; the paper's code: `loss_role`,
//! `LabelEstimator`). Beside the network, a table holds a label estimate `ŷ = σ(θ)` for
//! every missing training cell, one value each, and the two teach each other:
//!
//! - the network: `½·BCE(y, p)` on observed cells, `½·BCE(ŷ, p)` on missing ones with the
//!   estimate held fixed, plus `½·R(p)`;
//! - the table: `½·BCE(p, ŷ)` with the prediction held fixed, plus `½·R(ŷ)`;
//!
//! with the BCE terms averaged over the batch's cells and `R` the expected-positive
//! regulariser adapted to known priors, as `epr`'s: `λ·(1/T) Σ_j (mean over the batch's
//! missing cells of task j − π_j)²`, `π_j` the observed positive rate. The paper's code
//! regularises the positives per image; masklab's labels have negatives too and each task
//! its own rate. The table learns with Adam at `table-lr` (10) times the network's learning
//! rate, every entry updated every step as a dense parameter is. Estimates start uniform in
//! `[0.4, 0.6]` (the paper's `w = 0.1`), drawn from the run's initialisation seed.

use super::epr::observed_positive_rates;
use super::{all_rows, Context, Network};
use ndarray::{Array2, ArrayViewMut2};
use nn::mlp::sigmoid;
use nn::objective::bce_cell;
use nn::{Adam, Batch, Objective};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use record::strategy::StrategyParams;

pub fn networks<'a>(cx: &Context<'a>) -> Vec<Network<'a>> {
    let Some(StrategyParams::Role { lambda, table_lr }) = cx.params else {
        unreachable!("role runs carry their parameters")
    };
    let train = cx.train;
    let mut rng = ChaCha8Rng::seed_from_u64(cx.seed);
    rng.set_stream(1 << 40); // far from every network's streams
    let objective = Role::new(
        &train.observed,
        observed_positive_rates(&train.labels, &train.observed),
        lambda as f32,
        cx.training.learning_rate as f32 * table_lr as f32,
        &mut rng,
    );
    all_rows(cx, Box::new(objective))
}

pub struct Role {
    lambda: f32,
    priors: Vec<Option<f32>>,
    /// `starts[r]`: the table slot of training row `r`'s first missing cell.
    starts: Vec<usize>,
    /// The estimates' logits, one per missing training cell, row by row.
    pub table: Vec<f32>,
    adam: Adam,
    grad: Vec<f32>,
}

impl Role {
    pub fn new(
        observed: &Array2<bool>,
        priors: Vec<Option<f32>>,
        lambda: f32,
        table_lr: f32,
        rng: &mut impl Rng,
    ) -> Role {
        let mut starts = Vec::with_capacity(observed.nrows() + 1);
        starts.push(0);
        for row in observed.rows() {
            let missing = row.iter().filter(|&&o| !o).count();
            starts.push(starts.last().unwrap() + missing);
        }
        let cells = *starts.last().unwrap();
        let q = (0.6f32 / 0.4).ln(); // logit(0.5 + w), w = 0.1
        let table = (0..cells)
            .map(|_| q * rng.random_range(-1.0f32..1.0))
            .collect();
        Role {
            lambda,
            priors,
            starts,
            table,
            adam: Adam::new(table_lr, &[cells]),
            grad: vec![0.0; cells],
        }
    }
}

impl Objective for Role {
    fn loss_and_grad_into(&mut self, batch: Batch<'_>, mut grad: ArrayViewMut2<f32>) -> f32 {
        let (z, y, o) = (batch.logits, batch.labels, batch.observed);
        let (n, tasks) = z.dim();
        let cells = (n * tasks) as f32;
        let row = |i: usize| batch.rows.map_or(i, |rows| rows[i]);
        self.grad.fill(0.0);
        let mut loss = 0.0f64;
        // Per task: the missing cells' slots and batch rows, for the regularisers.
        let mut missing: Vec<Vec<(usize, usize)>> = vec![Vec::new(); tasks];
        for i in 0..n {
            let mut slot = self.starts[row(i)];
            for j in 0..tasks {
                if o[[i, j]] {
                    let (l, p) = bce_cell(z[[i, j]], y[[i, j]]);
                    loss += 0.5 * l as f64 / cells as f64;
                    grad[[i, j]] = 0.5 * (p - y[[i, j]]) / cells;
                    continue;
                }
                let estimate = sigmoid(self.table[slot]);
                let (to_net, p) = bce_cell(z[[i, j]], estimate);
                let (to_table, _) = bce_cell(self.table[slot], p);
                loss += 0.5 * (to_net + to_table) as f64 / cells as f64;
                grad[[i, j]] = 0.5 * (p - estimate) / cells;
                self.grad[slot] = 0.5 * (estimate - p) / cells;
                missing[j].push((i, slot));
                slot += 1;
            }
        }
        for (j, prior) in self.priors.iter().enumerate() {
            let (Some(prior), false) = (prior, missing[j].is_empty()) else {
                continue;
            };
            let m = missing[j].len() as f32;
            let scale = 0.5 * self.lambda / tasks as f32;
            let p_mean = missing[j]
                .iter()
                .map(|&(i, _)| sigmoid(z[[i, j]]))
                .sum::<f32>()
                / m;
            let e_mean = missing[j]
                .iter()
                .map(|&(_, s)| sigmoid(self.table[s]))
                .sum::<f32>()
                / m;
            loss += (scale * ((p_mean - prior).powi(2) + (e_mean - prior).powi(2))) as f64;
            for &(i, s) in &missing[j] {
                let p = sigmoid(z[[i, j]]);
                grad[[i, j]] += scale * 2.0 * (p_mean - prior) * p * (1.0 - p) / m;
                let e = sigmoid(self.table[s]);
                self.grad[s] += scale * 2.0 * (e_mean - prior) * e * (1.0 - e) / m;
            }
        }
        let lr_t = self.adam.begin_step();
        self.adam.update(0, lr_t, &mut self.table, &self.grad);
        loss as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::gradcheck::{assert_gradient_matches, batch_of};
    use ndarray::array;

    fn role(observed: &Array2<bool>, priors: Vec<Option<f32>>) -> Role {
        Role::new(
            observed,
            priors,
            1.0,
            0.0, // a table that stays put, for checks that call the objective repeatedly
            &mut ChaCha8Rng::seed_from_u64(1),
        )
    }

    #[test]
    fn the_table_holds_one_value_per_missing_training_cell_in_the_papers_range() {
        let o = array![
            [true, false, false],
            [true, true, true],
            [false, true, false]
        ];
        let r = role(&o, vec![None; 3]);
        assert_eq!((r.table.len(), r.starts.clone()), (4, vec![0, 2, 2, 4]));
        assert!(r.table.iter().all(|&t| (0.4..=0.6).contains(&sigmoid(t))));
    }

    #[test]
    fn hand_computed_value_and_gradients() {
        // One row, two tasks: task 0 observed positive at z = 0, task 1 missing at z = 0
        // with the estimate set to 0.8 (θ = ln 4); no prior, so no regulariser.
        let o = array![[true, false]];
        let mut r = role(&o, vec![None, None]);
        r.table[0] = 4f32.ln();
        let z = array![[0.0f32, 0.0]];
        let y = array![[1.0f32, f32::NAN]];
        let mut g = Array2::zeros(z.dim());
        let loss = r.loss_and_grad_into(batch_of(&z, &y, &o), g.view_mut());
        // ½·ln 2 for the observed cell; the missing one: ½·BCE(0.8, 0.5) = ½·ln 2 toward the
        // network and ½·BCE(0.5, σ(ln 4)) = ½·(−0.5·ln 0.8 − 0.5·ln 0.2) toward the table;
        // all over 2 cells.
        let to_table = -0.5 * (0.8f64.ln() + 0.2f64.ln());
        let want = (0.5 * 2f64.ln() + 0.5 * (2f64.ln() + to_table)) / 2.0;
        assert!((loss as f64 - want).abs() < 1e-6, "{loss} vs {want}");
        assert!((g[[0, 0]] + 0.125).abs() < 1e-7); // ½·(0.5 − 1)/2
        assert!((g[[0, 1]] + 0.075).abs() < 1e-7); // ½·(0.5 − 0.8)/2
        assert!((r.grad[0] - 0.075).abs() < 1e-7); // ½·(0.8 − 0.5)/2
    }

    #[test]
    fn the_table_moves_toward_the_network_and_the_prior() {
        // A confident network (z = 4) on a missing cell pulls the estimate up.
        let o = array![[false]];
        let mut r = Role::new(&o, vec![None], 1.0, 0.1, &mut ChaCha8Rng::seed_from_u64(3));
        let before = r.table[0];
        let (z, y) = (array![[4.0f32]], array![[f32::NAN]]);
        let mut g = Array2::zeros((1, 1));
        for _ in 0..5 {
            r.loss_and_grad_into(batch_of(&z, &y, &o), g.view_mut());
        }
        assert!(r.table[0] > before + 0.3, "{before} -> {}", r.table[0]);
    }

    #[test]
    fn gradient_matches_central_differences() {
        // The table's slots follow the training mask, so each call builds the table for the
        // check's own mask (the same table every time: a fixed seed, learning rate 0).
        assert_gradient_matches(&mut RoleOnCheckBatch, 17);
    }

    /// A `Role` built for whatever mask the gradient check passes, priors on three tasks.
    struct RoleOnCheckBatch;

    impl Objective for RoleOnCheckBatch {
        fn loss_and_grad_into(&mut self, batch: Batch<'_>, grad: ArrayViewMut2<f32>) -> f32 {
            let mut r = role(
                &batch.observed.to_owned(),
                vec![Some(0.2), None, Some(0.5), Some(0.9)],
            );
            r.loss_and_grad_into(batch, grad)
        }
    }
}
