//! `large-loss`: Kim, Kim, Akata & Lee, "Large Loss Matters in Weakly Supervised
//! Multi-Label Classification", CVPR 2022. Training starts from "assume negative" (every
//! missing label a negative, the mean BCE over all cells); in each batch the missing cells
//! with the largest loss, a share that grows with training, are taken to be mislabelled
//! positives and are rejected from the loss (`reject`, LL-R), counted as positives for this
//! step (`correct`, LL-Ct), or made positives for the rest of training (`permanent`, LL-Cp).
//!
//! The paper raises the share per epoch over a few epochs; masklab trains for many more,
//! so the share ramps per step: 0 during `warmup-epochs`, then linearly to `max-rate`
//! (default 3% of the batch's missing cells) over `ramp-epochs`, then constant.

use super::{all_rows, Context, Network};
use ndarray::{Array2, ArrayViewMut2};
use nn::{weighted_bce_into, Batch, Objective};
use record::strategy::{LargeLossMode, StrategyParams};

pub fn networks<'a>(cx: &Context<'a>) -> Vec<Network<'a>> {
    let Some(StrategyParams::LargeLoss {
        mode,
        max_rate,
        warmup_epochs,
        ramp_epochs,
    }) = cx.params
    else {
        unreachable!("large-loss runs carry their parameters")
    };
    let steps = cx.steps_per_epoch(cx.train.n_rows()) as f64;
    let train = cx.train;
    all_rows(
        cx,
        Box::new(LargeLoss {
            mode,
            max_rate,
            warmup_steps: (warmup_epochs * steps).round() as u64,
            ramp_steps: (ramp_epochs * steps).round() as u64,
            step: 0,
            corrected: Array2::from_elem((train.n_rows(), train.n_tasks()), false),
        }),
    )
}

pub struct LargeLoss {
    pub mode: LargeLossMode,
    pub max_rate: f64,
    pub warmup_steps: u64,
    pub ramp_steps: u64,
    /// Steps taken so far.
    pub step: u64,
    /// `permanent`: the training cells already made positive (rows × tasks).
    pub corrected: Array2<bool>,
}

impl LargeLoss {
    /// The share of missing cells modified at step `step` (counted from 0).
    pub fn rate(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return 0.0;
        }
        if self.ramp_steps == 0 {
            return self.max_rate;
        }
        let into = (step - self.warmup_steps + 1) as f64;
        self.max_rate * (into / self.ramp_steps as f64).min(1.0)
    }
}

impl Objective for LargeLoss {
    fn loss_and_grad_into(&mut self, batch: Batch<'_>, grad: ArrayViewMut2<f32>) -> f32 {
        let (z, o) = (batch.logits, batch.observed);
        let (n, tasks) = z.dim();
        let row = |i: usize| batch.rows.map_or(i, |rows| rows[i]);
        let mut targets = super::filled(batch.labels, o, 0.0);
        let mut weights = Array2::<f32>::ones((n, tasks));
        // Candidates: missing cells not yet corrected for good; their assumed-negative loss
        // rises with the logit, so the largest losses are the largest logits.
        let mut candidates = Vec::new();
        for i in 0..n {
            for j in 0..tasks {
                if o[[i, j]] {
                    continue;
                }
                if self.mode == LargeLossMode::Permanent && self.corrected[[row(i), j]] {
                    targets[[i, j]] = 1.0;
                } else {
                    candidates.push((i, j));
                }
            }
        }
        let k = (self.rate(self.step) * candidates.len() as f64).floor() as usize;
        // Largest logit first; ties in cell order, so a step is deterministic.
        candidates.sort_by(|a, b| z[[b.0, b.1]].total_cmp(&z[[a.0, a.1]]).then(a.cmp(b)));
        for &(i, j) in &candidates[..k] {
            match self.mode {
                LargeLossMode::Reject => weights[[i, j]] = 0.0,
                LargeLossMode::Correct => targets[[i, j]] = 1.0,
                LargeLossMode::Permanent => {
                    targets[[i, j]] = 1.0;
                    self.corrected[[row(i), j]] = true;
                }
            }
        }
        self.step += 1;
        weighted_bce_into(z, targets.view(), weights.view(), (n * tasks) as f32, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::gradcheck::{assert_gradient_matches, batch_of};
    use ndarray::array;

    fn large_loss(mode: LargeLossMode, max_rate: f64, rows: usize) -> LargeLoss {
        LargeLoss {
            mode,
            max_rate,
            warmup_steps: 0,
            ramp_steps: 0,
            step: 0,
            corrected: Array2::from_elem((rows, 4), false),
        }
    }

    #[test]
    fn the_share_ramps_per_step_after_the_warm_up() {
        let mut ll = large_loss(LargeLossMode::Reject, 0.03, 1);
        ll.warmup_steps = 10;
        ll.ramp_steps = 100;
        assert_eq!(ll.rate(0), 0.0);
        assert_eq!(ll.rate(9), 0.0);
        assert!((ll.rate(10) - 0.0003).abs() < 1e-12);
        assert!((ll.rate(59) - 0.015).abs() < 1e-12);
        assert_eq!(ll.rate(109), 0.03);
        assert_eq!(ll.rate(10_000), 0.03);
    }

    /// Four missing cells with logits 3, 1, −1, −2 and one observed positive at 0; share
    /// 0.5 -> the two largest (3 and 1) are modified.
    fn batch() -> (Array2<f32>, Array2<f32>, Array2<bool>) {
        let z = array![[3.0f32, 0.0], [1.0, -1.0], [-2.0, 0.0]];
        let y = array![[f32::NAN, 1.0], [f32::NAN, f32::NAN], [f32::NAN, 1.0]];
        let o = array![[false, true], [false, false], [false, true]];
        (z, y, o)
    }

    fn softplus(z: f64) -> f64 {
        z.max(0.0) + (-z.abs()).exp().ln_1p()
    }

    #[test]
    fn reject_drops_the_largest_losses_from_the_sum() {
        let (z, y, o) = batch();
        let mut ll = large_loss(LargeLossMode::Reject, 0.5, 3);
        let mut g = Array2::zeros(z.dim());
        let loss = ll.loss_and_grad_into(batch_of(&z, &y, &o), g.view_mut());
        // Left: the positives at 0 (ln 2 each), negatives at −1 and −2; mean over 6 cells.
        let want = (2.0 * 2f64.ln() + softplus(-1.0) + softplus(-2.0)) / 6.0;
        assert!((loss as f64 - want).abs() < 1e-6, "{loss} vs {want}");
        assert_eq!((g[[0, 0]], g[[1, 0]]), (0.0, 0.0));
    }

    #[test]
    fn correct_makes_them_positives_for_one_step_and_permanent_for_good() {
        let (z, y, o) = batch();
        let want =
            (2.0 * 2f64.ln() + softplus(-3.0) + softplus(-1.0) + softplus(-1.0) + softplus(-2.0))
                / 6.0;
        for mode in [LargeLossMode::Correct, LargeLossMode::Permanent] {
            let mut ll = large_loss(mode, 0.5, 3);
            let mut g = Array2::zeros(z.dim());
            let loss = ll.loss_and_grad_into(batch_of(&z, &y, &o), g.view_mut());
            assert!(
                (loss as f64 - want).abs() < 1e-6,
                "{mode:?}: {loss} vs {want}"
            );
            // Next step with the share at 0: correct forgets, permanent remembers.
            ll.max_rate = 0.0;
            let loss = ll.loss_and_grad_into(batch_of(&z, &y, &o), g.view_mut());
            let an =
                (2.0 * 2f64.ln() + softplus(3.0) + softplus(1.0) + softplus(-1.0) + softplus(-2.0))
                    / 6.0;
            let expected = if mode == LargeLossMode::Correct {
                an
            } else {
                want
            };
            assert!(
                (loss as f64 - expected).abs() < 1e-6,
                "{mode:?} later: {loss}"
            );
        }
    }

    #[test]
    fn permanent_corrections_follow_the_training_rows() {
        let (z, y, o) = batch();
        let mut ll = large_loss(LargeLossMode::Permanent, 0.25, 10);
        let mut g = Array2::zeros(z.dim());
        let rows = [7usize, 2, 5];
        let batch = Batch {
            rows: Some(&rows),
            ..batch_of(&z, &y, &o)
        };
        ll.loss_and_grad_into(batch, g.view_mut());
        // One cell (share 0.25 of 4): batch row 0, task 0 -> training row 7.
        let marked: Vec<(usize, usize)> = ll
            .corrected
            .indexed_iter()
            .filter(|(_, &c)| c)
            .map(|(ij, _)| ij)
            .collect();
        assert_eq!(marked, vec![(7, 0)]);
    }

    #[test]
    fn gradient_matches_central_differences() {
        for mode in [LargeLossMode::Reject, LargeLossMode::Correct] {
            // The share is fixed and the checked logits stay in their order, so each step
            // picks the same cells.
            assert_gradient_matches(&mut large_loss(mode, 0.3, 6), 11);
        }
    }
}
