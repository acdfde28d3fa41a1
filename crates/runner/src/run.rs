//! One run: data -> split -> drop -> train -> evaluate on test -> record.

use crate::data::{prepare, DataCache};
use crate::plan::PlannedRun;
use crate::strategy;
use ndarray::{Array2, ArrayView2};
use nn::{evaluate, keras_accuracy, masked_bce, Mlp, Trainer};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use record::outcome::{
    finite, BoundaryRecord, ByteGrid, Epoch, MetricSet, RunMetrics, TestPredictions,
};
use record::spec::SelectBy;
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

/// A strategy's network (its tasks, training rows and objective) with its trainer and
/// batch order.
struct Member {
    trainer: Trainer,
    net: strategy::Network,
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
    let context = strategy::Context {
        train: &train,
        dev: &dev,
        training: &spec.training,
        params: spec.params,
        seed: run.streams.init,
    };
    let mut networks = strategy::networks(spec.strategy, &context);
    for net in &networks {
        if net.x.nrows() == 0 {
            warnings.push(format!(
                "no training rows for task(s) {:?} under {}: that network keeps its initial weights",
                net.tasks.iter().map(|&t| data.task_names[t].as_str()).collect::<Vec<_>>(),
                spec.strategy.name()
            ));
        }
    }
    // Stage by stage (one for most strategies); the history runs on across stages.
    let mut history: Vec<Epoch> = Vec::new();
    let mut stage = 0;
    let mut fitted_rows;
    let mut filled_labels = None;
    let models = loop {
        let stage_dev = networks.first_mut().and_then(|n| n.dev.take());
        let mut members = members(networks, run, stage);
        fitted_rows = members.iter().map(|m| m.net.x.nrows()).collect();
        let fitted = fit(
            &mut members,
            stage_dev.as_ref().unwrap_or(&dev),
            &spec.training,
            tasks,
            stop,
        )?;
        let offset = history.len();
        history.extend(fitted.history.into_iter().map(|e| Epoch {
            epoch: e.epoch + offset,
            ..e
        }));
        let predict =
            |x: ArrayView2<f32>| predict_models(&fitted.models, x, tasks).mapv(nn::mlp::sigmoid);
        let done = strategy::Stage {
            index: stage,
            predict: &predict,
        };
        match strategy::next_stage(spec.strategy, &context, &done) {
            Some(next) => {
                networks = next.networks;
                filled_labels = next.filled.map(|f| f.score(&train));
                stage += 1;
            }
            None => break fitted.models,
        }
    };
    let epochs_run = history.len();
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
            fitted_rows,
            filled_labels,
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

/// What fitting the networks gave: the kept weights with the tasks each predicts.
struct Fit {
    history: Vec<Epoch>,
    models: Vec<(Mlp, Vec<usize>)>,
}

/// Trains the networks epoch by epoch, evaluating on the dev split and keeping the best
/// weights when early stopping is on (by the dev masked loss or macro ROC-AUC).
fn fit(
    members: &mut [Member],
    dev: &datagen::Dataset,
    t: &record::spec::TrainingSpec,
    tasks: usize,
    stop: &AtomicBool,
) -> Result<Fit, RunError> {
    let mut history = Vec::with_capacity(t.epochs);
    let mut best: Option<(f64, Vec<Mlp>)> = None;
    let mut since_best = 0;
    for epoch in 1..=t.epochs {
        if stop.load(Ordering::Relaxed) {
            return Err(RunError::Interrupted);
        }
        let mut total = 0.0;
        for m in members.iter_mut() {
            let net = &mut m.net;
            total += m.trainer.epoch(
                net.x.view(),
                net.y.view(),
                net.observed.view(),
                t.batch_size,
                net.objective.as_mut(),
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
        let evaluate_now = t.eval_every > 0 && epoch % t.eval_every == 0 && dev.n_rows() > 0;
        let (dev_loss, dev_auc) = if evaluate_now {
            let logits = predict(members, dev.features.view(), tasks);
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
    let models = mlps
        .into_iter()
        .zip(members.iter().map(|m| m.net.tasks.clone()))
        .collect();
    Ok(Fit { history, models })
}

/// A stage's networks ready to train, each with its own initialisation, batch-order and
/// dropout streams. Stage 0 uses the streams masklab has always used; a later stage's are
/// far from them (a fresh initialisation, a new batch order).
fn members(networks: Vec<strategy::Network>, run: &PlannedRun, stage: usize) -> Vec<Member> {
    let spec = &run.spec;
    let t = &spec.training;
    let offset = (stage as u64) << 33;
    networks
        .into_iter()
        .enumerate()
        .map(|(index, net)| {
            let stream = |seed: u64, k: u64| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(k);
                rng
            };
            let index = offset + index as u64;
            let mut init = stream(run.streams.init, index);
            // Dropout's masks: a stream of the batch-order seed of its own, far from the
            // networks' batch-order streams.
            let dropout_rng = stream(run.streams.batches, (1 << 32) + index);
            let sizes = [&[net.x.ncols()][..], &spec.hidden, &[net.tasks.len()][..]].concat();
            let capacity = t.batch_size.min(net.x.nrows()).max(1);
            Member {
                trainer: Trainer::new(
                    Mlp::new(&sizes, &mut init),
                    t.learning_rate as f32,
                    capacity,
                )
                .with_dropout(t.dropout as f32, dropout_rng)
                .with_weight_decay(t.weight_decay as f32),
                net,
                batch_rng: stream(run.streams.batches, index),
            }
        })
        .collect()
}

fn predict(members: &[Member], x: ArrayView2<f32>, tasks: usize) -> Array2<f32> {
    let models: Vec<(&Mlp, &[usize])> = members
        .iter()
        .map(|m| (m.trainer.mlp(), m.net.tasks.as_slice()))
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
