//! What each strategy does in training, one module each: the networks it trains, the rows
//! and targets each sees, and the objective each batch minimises. [`networks`] is the
//! registry's one entry point; the training loop (`run::execute`) trains what it returns and
//! never names a strategy.
//!
//! Objectives are [`nn::Objective`]s: the fixed losses of [`nn::Loss`] for the baselines,
//! and for the partial-label methods values with their own state (the step, priors from
//! the training labels, permanently corrected cells) built on [`nn::weighted_bce_into`].

mod an_ls;
pub(crate) mod baselines;
mod cell_targets;
mod epr;
mod label_conditional;
mod large_loss;
mod partial_bce;
mod pseudo_label;
mod role;

use datagen::Dataset;
use ndarray::{Array2, ArrayView2, CowArray, Ix2};
use nn::sparse::CsrMatrix;
use nn::Objective;
use record::outcome::FilledLabels;
use record::spec::TrainingSpec;
use record::strategy::StrategyParams;
use record::Strategy;

/// One network to train: the tasks (label columns) it predicts, its training rows, and
/// the objective its batches minimise.
pub struct Network<'a> {
    pub tasks: Vec<usize>,
    /// The training inputs: the run's own where the network trains on every training row
    /// (borrowed: MUV's are 74,000 × 2,089, kept as their non-zeros), or the network's
    /// own rows.
    pub x: Inputs<'a>,
    /// `(rows, tasks.len())`: 0/1 where observed.
    pub y: Array2<f32>,
    pub observed: Array2<bool>,
    pub objective: Box<dyn Objective + Send>,
    /// The dev rows as this network sees them (its inputs, and the cells it is scored on
    /// for early stopping), when they are not the run's dev split.
    pub dev: Option<Dataset>,
}

/// A network's training inputs.
pub enum Inputs<'a> {
    Dense(CowArray<'a, f32, Ix2>),
    /// Only the non-zeros ([`Context::train_sparse`]).
    Sparse(&'a CsrMatrix),
}

impl Inputs<'_> {
    pub fn nrows(&self) -> usize {
        match self {
            Inputs::Dense(x) => x.nrows(),
            Inputs::Sparse(m) => m.n_rows(),
        }
    }

    pub fn ncols(&self) -> usize {
        match self {
            Inputs::Dense(x) => x.ncols(),
            Inputs::Sparse(m) => m.n_cols(),
        }
    }
}

impl<'a> From<ArrayView2<'a, f32>> for Inputs<'a> {
    fn from(x: ArrayView2<'a, f32>) -> Self {
        Inputs::Dense(x.into())
    }
}

impl From<Array2<f32>> for Inputs<'_> {
    fn from(x: Array2<f32>) -> Self {
        Inputs::Dense(x.into())
    }
}

/// Whether a strategy reads the training inputs as dense rows (`train.features`): it
/// selects, extends or scores them. The others train on every training row as it is
/// ([`Context::train_inputs`]), which a run may keep as its non-zeros alone.
pub fn reads_dense_train(strategy: Strategy) -> bool {
    match strategy {
        Strategy::CompleteCase
        | Strategy::SingleTask
        | Strategy::PseudoLabel
        | Strategy::LabelConditional => true,
        Strategy::Masked
        | Strategy::SeedMasked
        | Strategy::Plain
        | Strategy::PlainLogits
        | Strategy::ImputeNegative
        | Strategy::PartialBce
        | Strategy::AnLs
        | Strategy::Epr
        | Strategy::LargeLoss
        | Strategy::Role => false,
    }
}

/// What a strategy is built from.
pub struct Context<'a> {
    /// The training split. Its `features` are the inputs only where the strategy
    /// [`reads_dense_train`] or `train_sparse` is `None`; otherwise they have no columns.
    pub train: &'a Dataset,
    /// The training inputs as their non-zeros alone, where the run kept them so.
    pub train_sparse: Option<&'a CsrMatrix>,
    pub dev: &'a Dataset,
    pub training: &'a TrainingSpec,
    /// The run's strategy parameters (`Some` exactly for a strategy that has them).
    pub params: Option<StrategyParams>,
    /// The run's initialisation seed, for a strategy's own trainable state.
    pub seed: u64,
}

impl<'a> Context<'a> {
    /// Every training row's inputs, as the run keeps them.
    pub fn train_inputs(&self) -> Inputs<'a> {
        match self.train_sparse {
            Some(m) => Inputs::Sparse(m),
            None => self.train.features.view().into(),
        }
    }

    /// Optimiser steps in one epoch over `rows` training rows.
    pub fn steps_per_epoch(&self, rows: usize) -> usize {
        rows.div_ceil(self.training.batch_size.max(1)).max(1)
    }
}

/// A first stage's networks, and how they are trained.
pub enum Networks<'a> {
    /// Trained together, epoch by epoch, and stopped together on the dev split's score.
    Together(Vec<Network<'a>>),
    /// Trained one after another, each stopped on its own tasks' dev score; network `k` is
    /// built by `build(k)` when its turn comes, so memory holds one at a time (one network
    /// a task is 617 networks on ToxCast).
    OneByOne {
        count: usize,
        build: Box<dyn Fn(usize) -> Network<'a> + 'a>,
    },
}

/// The networks a strategy trains on a run's training split.
pub fn networks<'a>(strategy: Strategy, cx: &'a Context<'a>) -> Networks<'a> {
    Networks::Together(match strategy {
        Strategy::Masked => baselines::masked(cx),
        Strategy::SeedMasked => baselines::one_loss(cx, nn::Loss::SeedMasked),
        Strategy::Plain => baselines::one_loss(cx, nn::Loss::Plain),
        Strategy::PlainLogits => baselines::one_loss(cx, nn::Loss::PlainLogits),
        Strategy::ImputeNegative => baselines::impute_negative(cx),
        Strategy::CompleteCase => baselines::complete_case(cx),
        Strategy::SingleTask => {
            return Networks::OneByOne {
                count: cx.train.n_tasks(),
                build: Box::new(|t| baselines::single_task(cx, t)),
            }
        }
        Strategy::PartialBce => partial_bce::networks(cx),
        Strategy::AnLs => an_ls::networks(cx),
        Strategy::Epr => epr::networks(cx),
        Strategy::LargeLoss => large_loss::networks(cx),
        Strategy::PseudoLabel => pseudo_label::networks(cx),
        Strategy::Role => role::networks(cx),
        Strategy::LabelConditional => label_conditional::networks(cx),
    })
}

/// Why a strategy cannot be applied to a run's training split at all, if it cannot: such a
/// run is recorded as not applicable rather than scored.
pub fn not_applicable(strategy: Strategy, cx: &Context) -> Option<String> {
    (strategy == Strategy::CompleteCase && baselines::complete_rows(cx.train).is_empty())
        .then(|| "0 complete rows".to_string())
}

/// A fitted stage, as the next one is made from it.
pub struct Stage<'a> {
    /// 0 for the first stage.
    pub index: usize,
    /// The stage's fitted networks: predicted probabilities `(rows, tasks)` for inputs
    /// of the width they were trained on.
    pub predict: &'a dyn Fn(ArrayView2<f32>) -> Array2<f32>,
}

/// The stage after a fitted one.
pub struct NextStage<'a> {
    pub networks: Vec<Network<'a>>,
    /// The missing training labels this stage trains on, as the last one filled them.
    pub filled: Option<Filled>,
}

/// Labels a strategy filled in for missing training cells.
pub struct Filled {
    /// `(rows, tasks)`: the target of each cell (read where `cells` is true).
    pub targets: Array2<f32>,
    /// The cells given a label.
    pub cells: Array2<bool>,
}

impl Filled {
    /// How many of `train`'s missing cells were filled, and how many rightly (the target
    /// rounded at 0.5 against the truth, where known).
    pub fn score(&self, train: &Dataset) -> FilledLabels {
        let (mut missing, mut filled, mut right) = (0usize, 0usize, 0usize);
        for ((ij, &o), &f) in train.observed.indexed_iter().zip(&self.cells) {
            if o {
                continue;
            }
            missing += 1;
            if f {
                filled += 1;
                if let Some(t) = &train.truth {
                    right += ((self.targets[ij] >= 0.5) == (t[ij] == 1.0)) as usize;
                }
            }
        }
        FilledLabels {
            missing,
            filled,
            accuracy: (train.truth.is_some() && filled > 0).then(|| right as f64 / filled as f64),
        }
    }
}

/// The stage after `done`, for a strategy that trains in stages; `None` when training is
/// complete (after one stage, for most).
pub fn next_stage<'a>(strategy: Strategy, cx: &Context<'a>, done: &Stage) -> Option<NextStage<'a>> {
    match strategy {
        Strategy::PseudoLabel => pseudo_label::next_stage(cx, done),
        Strategy::LabelConditional => label_conditional::next_stage(cx, done),
        Strategy::Masked
        | Strategy::SeedMasked
        | Strategy::Plain
        | Strategy::PlainLogits
        | Strategy::ImputeNegative
        | Strategy::CompleteCase
        | Strategy::SingleTask
        | Strategy::PartialBce
        | Strategy::AnLs
        | Strategy::Epr
        | Strategy::LargeLoss
        | Strategy::Role => None,
    }
}

/// Every training row and task, labels as observed, with `objective`.
fn all_rows<'a>(cx: &Context<'a>, objective: Box<dyn Objective + Send>) -> Vec<Network<'a>> {
    let train = cx.train;
    vec![Network {
        tasks: (0..train.n_tasks()).collect(),
        x: cx.train_inputs(),
        y: train.labels.clone(),
        observed: train.observed.clone(),
        objective,
        dev: None,
    }]
}

/// Observed labels where observed and `fill` elsewhere, as numbers a loss may read.
fn filled(labels: ArrayView2<f32>, observed: ArrayView2<bool>, fill: f32) -> Array2<f32> {
    ndarray::Zip::from(labels)
        .and(observed)
        .map_collect(|&y, &o| if o { y } else { fill })
}

#[cfg(test)]
mod gradcheck;

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn filled_labels_are_counted_on_missing_cells_and_checked_against_the_truth() {
        let train = Dataset {
            features: Array2::zeros((2, 1)),
            labels: array![[1.0f32, f32::NAN], [f32::NAN, f32::NAN]],
            observed: array![[true, false], [false, false]],
            task_names: vec!["a".into(), "b".into()],
            feature_names: vec!["x".into()],
            truth: Some(array![[1.0f32, 1.0], [0.0, 0.0]]),
        };
        // Three missing cells; two filled: (0, 1) rightly as 0.7, (1, 0) wrongly as 0.6.
        // The observed cell's "fill" is ignored.
        let f = Filled {
            targets: array![[0.0f32, 0.7], [0.6, 0.0]],
            cells: array![[true, true], [true, false]],
        };
        let s = f.score(&train);
        assert_eq!((s.missing, s.filled, s.accuracy), (3, 2, Some(0.5)));
        let unknown = Dataset {
            truth: None,
            ..train
        };
        assert_eq!(f.score(&unknown).accuracy, None);
    }
}
