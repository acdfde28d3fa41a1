//! One run: data -> split -> drop -> train -> evaluate on test -> record.

use crate::data::{prepare, DataCache};
use crate::plan::PlannedRun;
use ndarray::{Array2, ArrayView2, Axis};
use nn::{evaluate, keras_accuracy, masked_bce, Loss, Mlp, Trainer};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use record::outcome::{
    finite, BoundaryRecord, ByteGrid, Epoch, MetricSet, RunMetrics, TestPredictions,
};
use record::spec::{PosWeight, SelectBy};
use record::strategy::{DataTreatment, LossKind};
use record::Strategy;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Grid points per side of a decision-boundary map.
pub const BOUNDARY_RESOLUTION: usize = 61;

pub struct RunOutput {
    pub metrics: RunMetrics,
    pub history: Vec<Epoch>,
    pub boundary: Option<BoundaryRecord>,
}

/// Why a run did not finish. Every variant but `Interrupted` is recorded as the run's
/// failure reason.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("interrupted")]
    Interrupted,
    #[error("{0}")]
    Data(Arc<datagen::DataError>),
    #[error("cannot split {rows} rows with test rows {test:?}")]
    Split {
        rows: usize,
        test: datagen::TestRows,
    },
    #[error("no rows left to train on out of {rows}")]
    NoTrainingRows { rows: usize },
    #[error("mnar drops depend on the true labels, which this data set lacks")]
    NoTruthForMnar,
    #[error("a scaffold split needs molecules")]
    ScaffoldWithoutMolecules,
    #[error("a column split needs the split column's values, which this data source lacks")]
    NoSplitColumn,
    #[error("{0}")]
    MnarUnreachable(String),
    #[error("diverged: training loss is {loss} at epoch {epoch}")]
    Diverged { epoch: usize, loss: f64 },
}

/// One network, the tasks (columns) it predicts, and the rows it trains on.
struct Member {
    trainer: Trainer,
    tasks: Vec<usize>,
    x: Array2<f32>,
    y: Array2<f32>,
    observed: Array2<bool>,
    batch_rng: ChaCha8Rng,
}

/// Runs one planned run to its metrics and history.
pub fn execute(
    run: &PlannedRun,
    cache: &DataCache,
    base_dir: &Path,
    stop: &AtomicBool,
) -> Result<RunOutput, RunError> {
    let base = cache.get(run, base_dir)?;
    let prepared = prepare(&base, run)?;
    let (data, rows) = (&prepared.data, &prepared.split);
    let spec = &run.spec;
    let tasks = data.n_tasks();
    let mut warnings = prepared.warnings.clone();
    if let Err(e) = data.require_observed(&rows.train, "train") {
        warnings.push(e.to_string());
    }

    let train = data.select(&rows.train);
    let dev = data.select(&rows.dev);
    let test = data.select(&rows.test);
    let mut members = members(
        spec.strategy,
        &train,
        &spec.hidden,
        spec.training.learning_rate as f32,
        spec.training.batch_size,
        run,
    );
    for m in &members {
        if m.x.nrows() == 0 {
            warnings.push(format!(
                "no training rows for task(s) {:?} under {}: that network keeps its initial weights",
                m.tasks.iter().map(|&t| data.task_names[t].as_str()).collect::<Vec<_>>(),
                spec.strategy.name()
            ));
        }
    }
    // Each network's loss: with pos-weight, weighted by its own training labels.
    let losses: Vec<Loss> = members
        .iter()
        .map(|m| match spec.strategy.loss() {
            LossKind::Masked => Loss::Masked {
                pos_weight: spec
                    .training
                    .pos_weight
                    .map(|PosWeight::Balanced| balanced_weights(&m.y, &m.observed)),
            },
            LossKind::SeedMasked => Loss::SeedMasked,
            LossKind::Plain => Loss::Plain,
            LossKind::PlainLogits => Loss::PlainLogits,
        })
        .collect();

    let t = &spec.training;
    let mut history = Vec::with_capacity(t.epochs);
    let mut best: Option<(f64, Vec<Mlp>)> = None;
    let mut since_best = 0;
    let mut epochs_run = 0;
    for epoch in 1..=t.epochs {
        if stop.load(Ordering::Relaxed) {
            return Err(RunError::Interrupted);
        }
        let mut total = 0.0;
        for (m, loss) in members.iter_mut().zip(&losses) {
            total += m.trainer.epoch(
                m.x.view(),
                m.y.view(),
                m.observed.view(),
                t.batch_size,
                loss,
                &mut m.batch_rng,
            ) as f64;
        }
        let train_loss = total / members.len() as f64;
        if !train_loss.is_finite() {
            return Err(RunError::Diverged {
                epoch,
                loss: train_loss,
            });
        }
        epochs_run = epoch;
        let evaluate_now = t.eval_every > 0 && epoch % t.eval_every == 0 && dev.n_rows() > 0;
        let (dev_loss, dev_auc) = if evaluate_now {
            let logits = predict(&members, dev.features.view(), tasks);
            let loss =
                masked_bce(logits.view(), dev.labels.view(), dev.observed.view(), None).0 as f64;
            let auc = (t.select_by == SelectBy::Auc)
                .then(|| evaluate(logits.view(), dev.labels.view(), dev.observed.view()).auc);
            (Some(loss), auc.map(finite).unwrap_or(None))
        } else {
            (None, None)
        };
        history.push(Epoch {
            epoch,
            train_loss,
            dev_loss,
            dev_auc,
        });
        // Lower is better: the loss, or the ROC-AUC negated (undefined: no better).
        let score = match t.select_by {
            SelectBy::Loss => dev_loss,
            SelectBy::Auc => evaluate_now.then(|| dev_auc.map_or(f64::INFINITY, |a| -a)),
        };
        if let (Some(patience), Some(score)) = (t.patience, score) {
            if best.as_ref().is_none_or(|(b, _)| score < *b) {
                best = Some((
                    score,
                    members.iter().map(|m| m.trainer.mlp().clone()).collect(),
                ));
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= patience {
                    break;
                }
            }
        }
    }
    let mlps: Vec<Mlp> = match best {
        Some((_, mlps)) => mlps,
        None => members.iter().map(|m| m.trainer.mlp().clone()).collect(),
    };
    let models: Vec<(Mlp, Vec<usize>)> = mlps
        .into_iter()
        .zip(members.iter().map(|m| m.tasks.clone()))
        .collect();
    let logits = predict_models(&models, test.features.view(), tasks);
    let observed = MetricSet::of(
        &evaluate(logits.view(), test.labels.view(), test.observed.view()),
        &data.task_names,
    );
    let truth = test.truth.as_ref().map(|truth| {
        let all = Array2::from_elem(truth.dim(), true);
        MetricSet::of(
            &evaluate(logits.view(), truth.view(), all.view()),
            &data.task_names,
        )
    });
    let boundary = run.keeps_boundary.then(|| {
        let r = BOUNDARY_RESOLUTION;
        let grid = Array2::from_shape_fn((r * r, 2), |(k, c)| if c == 0 { (k % r) as f32 } else { (k / r) as f32 } / (r - 1) as f32);
        let p = predict_models(&models, grid.view(), tasks).mapv(nn::mlp::sigmoid);
        BoundaryRecord {
            format: record::FORMAT,
            id: run.id.clone(),
            resolution: r,
            tasks: data.task_names.clone(),
            probabilities: (0..tasks)
                .map(|t| ByteGrid(p.column(t).iter().map(|&v| BoundaryRecord::quantise(v)).collect()))
                .collect(),
        }
    });
    Ok(RunOutput {
        boundary,
        metrics: RunMetrics {
            train_rows: rows.train.len(),
            dev_rows: rows.dev.len(),
            test_rows: rows.test.len(),
            train_observed_rate: data
                .observed_rate(&rows.train)
                .into_iter()
                .map(finite)
                .collect(),
            realised_drop_rate: prepared.realised_drop_rate.clone(),
            realised_drop_rate_overall: prepared.realised_drop_rate_overall,
            fitted_rows: members.iter().map(|m| m.x.nrows()).collect(),
            epochs_run,
            observed,
            truth,
            keras_accuracy: finite(keras_accuracy(
                logits.view(),
                test.labels.view(),
                test.observed.view(),
            )),
            warnings,
            test_predictions: spec.training.ensemble.then(|| {
                let probabilities: Vec<f32> = logits.iter().map(|&z| nn::mlp::sigmoid(z)).collect();
                let labels: Vec<Option<bool>> = test
                    .labels
                    .iter()
                    .zip(&test.observed)
                    .map(|(&y, &o)| o.then_some(y == 1.0))
                    .collect();
                TestPredictions::new(&rows.test, tasks, &labels, &probabilities)
            }),
        },
        history,
    })
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

/// The networks a strategy trains, with their training data.
fn members(
    strategy: Strategy,
    train: &datagen::Dataset,
    hidden: &[usize],
    lr: f32,
    batch: usize,
    run: &PlannedRun,
) -> Vec<Member> {
    let tasks = train.n_tasks();
    let sizes = |outputs: usize| [&[train.features.ncols()][..], hidden, &[outputs][..]].concat();
    let member = |index: usize,
                  task_list: Vec<usize>,
                  x: Array2<f32>,
                  y: Array2<f32>,
                  observed: Array2<bool>| {
        let mut init = ChaCha8Rng::seed_from_u64(run.streams.init);
        init.set_stream(index as u64);
        let mut batch_rng = ChaCha8Rng::seed_from_u64(run.streams.batches);
        batch_rng.set_stream(index as u64);
        // Dropout's masks: a stream of the batch-order seed of its own, far from the
        // networks' batch-order streams.
        let mut dropout_rng = ChaCha8Rng::seed_from_u64(run.streams.batches);
        dropout_rng.set_stream((1 << 32) + index as u64);
        let mlp = Mlp::new(&sizes(task_list.len()), &mut init);
        let t = &run.spec.training;
        Member {
            trainer: Trainer::new(mlp, lr, batch.min(x.nrows()).max(1))
                .with_dropout(t.dropout as f32, dropout_rng)
                .with_weight_decay(t.weight_decay as f32),
            tasks: task_list,
            x,
            y,
            observed,
            batch_rng,
        }
    };
    let all: Vec<usize> = (0..tasks).collect();
    match strategy.data() {
        DataTreatment::AsIs => {
            vec![member(
                0,
                all,
                train.features.clone(),
                train.labels.clone(),
                train.observed.clone(),
            )]
        }
        DataTreatment::ImputeNegative => {
            let y = ndarray::Zip::from(&train.labels)
                .and(&train.observed)
                .map_collect(|&l, &o| if o { l } else { 0.0 });
            vec![member(
                0,
                all,
                train.features.clone(),
                y,
                Array2::from_elem(train.labels.dim(), true),
            )]
        }
        DataTreatment::CompleteRows => {
            let keep: Vec<usize> = (0..train.n_rows())
                .filter(|&r| train.observed.row(r).iter().all(|&o| o))
                .collect();
            let d = train.select(&keep);
            vec![member(0, all, d.features, d.labels, d.observed)]
        }
        DataTreatment::PerTask => (0..tasks)
            .map(|t| {
                let keep: Vec<usize> = (0..train.n_rows())
                    .filter(|&r| train.observed[[r, t]])
                    .collect();
                let d = train.select(&keep);
                let y = d.labels.select(Axis(1), &[t]);
                let o = d.observed.select(Axis(1), &[t]);
                member(t, vec![t], d.features, y, o)
            })
            .collect(),
    }
}

fn predict(members: &[Member], x: ArrayView2<f32>, tasks: usize) -> Array2<f32> {
    let models: Vec<(&Mlp, &[usize])> = members
        .iter()
        .map(|m| (m.trainer.mlp(), m.tasks.as_slice()))
        .collect();
    assemble(&models, x, tasks)
}

fn predict_models(models: &[(Mlp, Vec<usize>)], x: ArrayView2<f32>, tasks: usize) -> Array2<f32> {
    let refs: Vec<(&Mlp, &[usize])> = models.iter().map(|(m, t)| (m, t.as_slice())).collect();
    assemble(&refs, x, tasks)
}

/// Logits of every task, each column from the network that predicts it.
fn assemble(models: &[(&Mlp, &[usize])], x: ArrayView2<f32>, tasks: usize) -> Array2<f32> {
    let mut out = Array2::zeros((x.nrows(), tasks));
    for (mlp, cols) in models {
        let logits = mlp.forward(x);
        for (k, &t) in cols.iter().enumerate() {
            out.column_mut(t).assign(&logits.column(k));
        }
    }
    out
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
