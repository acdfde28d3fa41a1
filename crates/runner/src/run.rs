//! One run: data -> split -> drop -> train -> evaluate on test -> record.

use crate::data::{prepare, DataCache};
use crate::plan::PlannedRun;
use crate::strategy;
use ndarray::{Array2, ArrayView2, Axis};
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
struct Member<'a> {
    trainer: Trainer,
    net: strategy::Network<'a>,
    /// The network's dense training inputs indexed once, when its first layer runs sparse.
    index: Option<nn::sparse::CsrMatrix>,
    batch_rng: ChaCha8Rng,
}

/// Runs one planned run to its metrics and history.
pub fn execute(
    run: &PlannedRun,
    cache: &DataCache,
    base_dir: &Path,
    stop: &AtomicBool,
    threads: nn::Threads,
) -> Result<RunOutput, RunError> {
    let base = cache.get(run, base_dir)?;
    let prepared = prepare(&base, run)?;
    let (train, dev, test) = (&prepared.train, &prepared.dev, &prepared.test);
    let rows = &prepared.split;
    let spec = &run.spec;
    let tasks = train.n_tasks();
    let mut warnings = prepared.warnings.clone();
    let all_train_rows: Vec<usize> = (0..train.n_rows()).collect();
    if let Err(e) = train.require_observed(&all_train_rows, "train") {
        warnings.push(e.to_string());
    }
    let context = strategy::Context {
        train,
        train_sparse: prepared.train_sparse.as_ref(),
        dev,
        training: &spec.training,
        params: spec.params,
        seed: run.streams.init,
    };
    let not_applicable = strategy::not_applicable(spec.strategy, &context);
    let grid = run.keeps_boundary.then(boundary_grid);
    let test_inputs = nn::mlp::Inputs::new(test.features.view());
    let grid_inputs = grid.as_ref().map(|g| nn::mlp::Inputs::new(g.view()));
    let job = Job {
        run,
        threads,
        data: train,
        inputs: Inputs {
            test: &test_inputs,
            grid: grid_inputs.as_ref(),
        },
        stop,
    };
    let trained = match &not_applicable {
        Some(_) => Trained::nothing(test.n_rows(), tasks),
        None => match strategy::networks(spec.strategy, &context) {
            strategy::Networks::Together(networks) => {
                in_stages(networks, &context, &job, &mut warnings)?
            }
            strategy::Networks::OneByOne { count, build } => {
                one_by_one(count, &*build, dev, &job, &mut warnings)?
            }
        },
    };
    let Trained {
        history,
        fitted_rows,
        filled_labels,
        logits,
        grid_logits,
    } = trained;
    let epochs_run = history.len();
    let scored = |metrics: MetricSet| match &not_applicable {
        Some(reason) => metrics.unscored(reason),
        None => metrics,
    };
    let observed = scored(MetricSet::of(
        &evaluate(logits.view(), test.labels.view(), test.observed.view()),
        &train.task_names,
    ));
    let truth = test.truth.as_ref().map(|truth| {
        let all = Array2::from_elem(truth.dim(), true);
        scored(MetricSet::of(
            &evaluate(logits.view(), truth.view(), all.view()),
            &train.task_names,
        ))
    });
    // No grid logits where the strategy did not apply: nothing was trained to draw.
    let boundary = grid_logits.map(|z| {
        let r = BOUNDARY_RESOLUTION;
        let p = z.mapv(nn::mlp::sigmoid);
        BoundaryRecord {
            format: record::FORMAT,
            id: run.id.clone(),
            resolution: r,
            tasks: train.task_names.clone(),
            probabilities: (0..tasks)
                .map(|t| {
                    ByteGrid(
                        p.column(t)
                            .iter()
                            .map(|&v| BoundaryRecord::quantise(v))
                            .collect(),
                    )
                })
                .collect(),
        }
    });
    Ok(RunOutput {
        boundary,
        metrics: RunMetrics {
            train_rows: rows.train.len(),
            dev_rows: rows.dev.len(),
            test_rows: rows.test.len(),
            train_observed_rate: train
                .observed_rate(&all_train_rows)
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
            ))
            .filter(|_| not_applicable.is_none()),
            warnings,
            test_predictions: (spec.training.ensemble && not_applicable.is_none()).then(|| {
                let probabilities: Vec<f32> = logits.iter().map(|&z| nn::mlp::sigmoid(z)).collect();
                let labels: Vec<Option<bool>> = test
                    .labels
                    .iter()
                    .zip(&test.observed)
                    .map(|(&y, &o)| o.then_some(y == 1.0))
                    .collect();
                TestPredictions::new(&rows.test, tasks, &labels, &probabilities)
            }),
            not_applicable,
        },
        history,
    })
}

/// The inputs a run's final models are scored on, each indexed once for all of them: the
/// test rows and, for a run that keeps its boundary, the boundary grid.
#[derive(Clone, Copy)]
struct Inputs<'a> {
    test: &'a nn::mlp::Inputs<'a>,
    grid: Option<&'a nn::mlp::Inputs<'a>>,
}

/// What training left for scoring: the history, rows per network, filled labels, and the
/// final models' logits on the [`Inputs`] (the models themselves are not kept).
struct Trained {
    history: Vec<Epoch>,
    fitted_rows: Vec<usize>,
    filled_labels: Option<record::outcome::FilledLabels>,
    logits: Array2<f32>,
    grid_logits: Option<Array2<f32>>,
}

impl Trained {
    /// Nothing trained (a strategy that does not apply): logits of 0.
    fn nothing(rows: usize, tasks: usize) -> Trained {
        Trained {
            history: Vec::new(),
            fitted_rows: vec![0],
            filled_labels: None,
            logits: Array2::zeros((rows, tasks)),
            grid_logits: None,
        }
    }
}

/// The boundary map's points, row by row over [0, 1]².
fn boundary_grid() -> Array2<f32> {
    let r = BOUNDARY_RESOLUTION;
    Array2::from_shape_fn((r * r, 2), |(k, c)| {
        (if c == 0 { k % r } else { k / r }) as f32 / (r - 1) as f32
    })
}

/// Warns of a network with no training row: it keeps its initial weights.
fn warn_if_empty(
    net: &strategy::Network,
    data: &datagen::Dataset,
    strategy: record::Strategy,
    warnings: &mut Vec<String>,
) {
    if net.x.nrows() == 0 {
        warnings.push(format!(
            "no training rows for task(s) {:?} under {}: that network keeps its initial weights",
            net.tasks
                .iter()
                .map(|&t| data.task_names[t].as_str())
                .collect::<Vec<_>>(),
            strategy.name()
        ));
    }
}

/// What training a run's networks reads besides the networks themselves.
struct Job<'a> {
    run: &'a PlannedRun,
    /// Threads each network's steps may share ([`nn::Trainer::with_threads`]).
    threads: nn::Threads,
    /// The run's training rows after drops (its task names, for warnings).
    data: &'a datagen::Dataset,
    inputs: Inputs<'a>,
    stop: &'a AtomicBool,
}

/// Trains networks together, stage by stage (one stage for most strategies; the history
/// runs on across stages), and scores the last stage's models.
fn in_stages<'a>(
    mut networks: Vec<strategy::Network<'a>>,
    context: &strategy::Context<'a>,
    job: &Job,
    warnings: &mut Vec<String>,
) -> Result<Trained, RunError> {
    let Job {
        run,
        threads,
        data,
        inputs,
        stop,
    } = *job;
    let spec = &run.spec;
    let tasks = data.n_tasks();
    for net in &networks {
        warn_if_empty(net, data, spec.strategy, warnings);
    }
    let mut history: Vec<Epoch> = Vec::new();
    let mut stage = 0;
    let mut filled_labels = None;
    loop {
        let stage_dev = networks.first_mut().and_then(|n| n.dev.take());
        let fitted_rows = networks.iter().map(|n| n.x.nrows()).collect();
        let mut members: Vec<Member> = networks
            .into_iter()
            .enumerate()
            .map(|(index, net)| member(net, run, stage, index, threads))
            .collect();
        let dev_data = stage_dev.as_ref().unwrap_or(context.dev);
        let dev_x = nn::mlp::Inputs::new(dev_data.features.view());
        let dev = DevRows::of(dev_data, &dev_x);
        let fitted = fit(&mut members, dev, &spec.training, tasks, stop)?;
        let offset = history.len();
        history.extend(fitted.history.into_iter().map(|e| Epoch {
            epoch: e.epoch + offset,
            ..e
        }));
        let models = &fitted.models;
        let predict = |x: ArrayView2<f32>| {
            predict_models(models, &nn::mlp::Inputs::new(x), tasks).mapv(nn::mlp::sigmoid)
        };
        let done = strategy::Stage {
            index: stage,
            predict: &predict,
        };
        match strategy::next_stage(spec.strategy, context, &done) {
            Some(next) => {
                networks = next.networks;
                filled_labels = next.filled.map(|f| f.score(context.train));
                stage += 1;
            }
            None => {
                return Ok(Trained {
                    history,
                    fitted_rows,
                    filled_labels,
                    logits: predict_models(models, inputs.test, tasks),
                    grid_logits: inputs.grid.map(|g| predict_models(models, g, tasks)),
                })
            }
        }
    }
}

/// Trains `count` networks one after another, each built when its turn comes, stopped on
/// the dev rows of its own tasks, and scored on the inputs before the next is built: memory
/// holds one network at a time. Epoch `e` of the history averages the networks that ran
/// it (its dev figures, those evaluated at `e`).
fn one_by_one<'a>(
    count: usize,
    build: &dyn Fn(usize) -> strategy::Network<'a>,
    dev: &datagen::Dataset,
    job: &Job,
    warnings: &mut Vec<String>,
) -> Result<Trained, RunError> {
    let Job {
        run,
        threads,
        data,
        inputs,
        stop,
    } = *job;
    let tasks = data.n_tasks();
    let mut logits = Array2::zeros((inputs.test.dense().nrows(), tasks));
    let mut grid_logits = inputs
        .grid
        .map(|g| Array2::zeros((g.dense().nrows(), tasks)));
    let dev_x = nn::mlp::Inputs::new(dev.features.view());
    let mut histories = Vec::with_capacity(count);
    let mut fitted_rows = Vec::with_capacity(count);
    for index in 0..count {
        let mut net = build(index);
        warn_if_empty(&net, data, run.spec.strategy, warnings);
        fitted_rows.push(net.x.nrows());
        // The network's tasks, numbered within its own dev columns while it trains.
        let local = (0..net.tasks.len()).collect();
        let own = std::mem::replace(&mut net.tasks, local);
        let y = dev.labels.select(Axis(1), &own);
        let observed = dev.observed.select(Axis(1), &own);
        let dev_rows = DevRows {
            x: &dev_x,
            y: y.view(),
            observed: observed.view(),
        };
        let mut members = [member(net, run, 0, index, threads)];
        let fitted = fit(&mut members, dev_rows, &run.spec.training, own.len(), stop)?;
        let (mlp, _) = &fitted.models[0];
        let place = |out: &mut Array2<f32>, x: &nn::mlp::Inputs| {
            let z = mlp.forward_inputs(x);
            for (k, &t) in own.iter().enumerate() {
                out.column_mut(t).assign(&z.column(k));
            }
        };
        place(&mut logits, inputs.test);
        if let (Some(out), Some(g)) = (grid_logits.as_mut(), inputs.grid) {
            place(out, g);
        }
        histories.push(fitted.history);
    }
    Ok(Trained {
        history: merged(&histories),
        fitted_rows,
        filled_labels: None,
        logits,
        grid_logits,
    })
}

/// Per epoch, the mean of the histories that reached it: train losses over those, dev
/// figures over those that have one (summed in network order).
fn merged(histories: &[Vec<Epoch>]) -> Vec<Epoch> {
    let epochs = histories.iter().map(Vec::len).max().unwrap_or(0);
    let mean = |values: Vec<f64>| {
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    (0..epochs)
        .map(|e| {
            let at: Vec<&Epoch> = histories.iter().filter_map(|h| h.get(e)).collect();
            Epoch {
                epoch: e + 1,
                train_loss: mean(at.iter().map(|x| x.train_loss).collect()).unwrap_or(f64::NAN),
                dev_loss: mean(at.iter().filter_map(|x| x.dev_loss).collect()),
                dev_auc: mean(at.iter().filter_map(|x| x.dev_auc).collect()),
            }
        })
        .collect()
}

/// The rows a fit is scored on each epoch, with the labels of the fitted networks' tasks.
#[derive(Clone, Copy)]
struct DevRows<'a, 'x> {
    x: &'a nn::mlp::Inputs<'x>,
    y: ArrayView2<'a, f32>,
    observed: ArrayView2<'a, bool>,
}

impl<'a, 'x> DevRows<'a, 'x> {
    fn of(d: &'a datagen::Dataset, x: &'a nn::mlp::Inputs<'x>) -> Self {
        DevRows {
            x,
            y: d.labels.view(),
            observed: d.observed.view(),
        }
    }

    /// Whether some task has an observed positive and an observed negative, so that the
    /// macro ROC-AUC is defined.
    fn auc_defined(&self) -> bool {
        self.y
            .columns()
            .into_iter()
            .zip(self.observed.columns())
            .any(|(y, o)| {
                let (mut pos, mut neg) = (false, false);
                for (&v, &seen) in y.iter().zip(o) {
                    if seen {
                        pos |= v == 1.0;
                        neg |= v != 1.0;
                    }
                }
                pos && neg
            })
    }
}

/// What fitting the networks gave: the kept weights with the tasks each predicts.
struct Fit {
    history: Vec<Epoch>,
    models: Vec<(Mlp, Vec<usize>)>,
}

/// Trains the networks epoch by epoch, evaluating on the dev rows and keeping the best
/// weights when early stopping is on: by the dev masked loss, or by the macro ROC-AUC when
/// asked and defined (dev rows with a single class, as a rare task's may be, select by
/// the loss).
fn fit(
    members: &mut [Member],
    dev: DevRows,
    t: &record::spec::TrainingSpec,
    tasks: usize,
    stop: &AtomicBool,
) -> Result<Fit, RunError> {
    let mut history = Vec::with_capacity(t.epochs);
    let mut best: Option<(f64, Vec<Mlp>)> = None;
    let mut since_best = 0;
    let select_by_auc = t.select_by == SelectBy::Auc && dev.auc_defined();
    for epoch in 1..=t.epochs {
        if stop.load(Ordering::Relaxed) {
            return Err(RunError::Interrupted);
        }
        let mut total = 0.0;
        for m in members.iter_mut() {
            let net = &mut m.net;
            let (y, observed) = (net.y.view(), net.observed.view());
            let (objective, rng) = (net.objective.as_mut(), &mut m.batch_rng);
            total += match &net.x {
                strategy::Inputs::Dense(x) => {
                    let index = m.index.as_ref();
                    let x = x.view();
                    m.trainer
                        .epoch_indexed(x, index, y, observed, t.batch_size, objective, rng)
                }
                strategy::Inputs::Sparse(x) => {
                    m.trainer
                        .epoch_sparse(x, y, observed, t.batch_size, objective, rng)
                }
            } as f64;
        }
        let train_loss = total / members.len() as f64;
        if !train_loss.is_finite() {
            return Err(RunError::Diverged {
                epoch,
                loss: train_loss,
            });
        }
        let evaluate_now =
            t.eval_every > 0 && epoch % t.eval_every == 0 && dev.x.dense().nrows() > 0;
        let (dev_loss, dev_auc) = if evaluate_now {
            let logits = predict(members, dev.x, tasks);
            let loss = masked_bce(logits.view(), dev.y, dev.observed, None).0 as f64;
            let auc = (t.select_by == SelectBy::Auc)
                .then(|| evaluate(logits.view(), dev.y, dev.observed).auc);
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
        let score = match select_by_auc {
            false => dev_loss,
            true => evaluate_now.then(|| dev_auc.map_or(f64::INFINITY, |a| -a)),
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

/// A stage's network ready to train, with its own initialisation, batch-order and dropout
/// streams (by its index). Stage 0 uses the streams masklab has always used; a later
/// stage's are far from them (a fresh initialisation, a new batch order).
fn member<'a>(
    net: strategy::Network<'a>,
    run: &PlannedRun,
    stage: usize,
    index: usize,
    threads: nn::Threads,
) -> Member<'a> {
    let spec = &run.spec;
    let t = &spec.training;
    let stream = |seed: u64, k: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(k);
        rng
    };
    let index = ((stage as u64) << 33) + index as u64;
    let mut init = stream(run.streams.init, index);
    // Dropout's masks: a stream of the batch-order seed of its own, far from the networks'
    // batch-order streams.
    let dropout_rng = stream(run.streams.batches, (1 << 32) + index);
    let sizes = [&[net.x.ncols()][..], &spec.hidden, &[net.tasks.len()][..]].concat();
    let capacity = t.batch_size.min(net.x.nrows()).max(1);
    let trainer = Trainer::new(
        Mlp::new(&sizes, &mut init),
        t.learning_rate as f32,
        capacity,
    )
    .with_dropout(t.dropout as f32, dropout_rng)
    .with_weight_decay(t.weight_decay as f32)
    .with_threads(threads);
    Member {
        index: match &net.x {
            strategy::Inputs::Dense(x) => trainer.index_inputs(x.view()),
            strategy::Inputs::Sparse(_) => None, // indexed already
        },
        trainer,
        net,
        batch_rng: stream(run.streams.batches, index),
    }
}

fn predict(members: &[Member], x: &nn::mlp::Inputs, tasks: usize) -> Array2<f32> {
    let models: Vec<(&Mlp, &[usize])> = members
        .iter()
        .map(|m| (m.trainer.mlp(), m.net.tasks.as_slice()))
        .collect();
    assemble(&models, x, tasks)
}

fn predict_models(models: &[(Mlp, Vec<usize>)], x: &nn::mlp::Inputs, tasks: usize) -> Array2<f32> {
    let refs: Vec<(&Mlp, &[usize])> = models.iter().map(|(m, t)| (m, t.as_slice())).collect();
    assemble(&refs, x, tasks)
}

/// Logits of every task, each column from the network that predicts it.
fn assemble(models: &[(&Mlp, &[usize])], x: &nn::mlp::Inputs, tasks: usize) -> Array2<f32> {
    let mut out = Array2::zeros((x.dense().nrows(), tasks));
    for (mlp, cols) in models {
        let logits = mlp.forward_inputs(x);
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
    use std::sync::atomic::AtomicUsize;

    /// The masked loss, counting how many of its networks are alive at once.
    struct Counted {
        alive: Arc<AtomicUsize>,
    }

    impl Counted {
        fn new(alive: &Arc<AtomicUsize>, most: &Arc<AtomicUsize>) -> Counted {
            let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            Counted {
                alive: alive.clone(),
            }
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.alive.fetch_sub(1, Ordering::SeqCst);
        }
    }

    impl nn::Objective for Counted {
        fn loss_and_grad_into(
            &mut self,
            batch: nn::objective::Batch<'_>,
            grad: ndarray::ArrayViewMut2<f32>,
        ) -> f32 {
            nn::Loss::Masked { pos_weight: None }.loss_and_grad_into(
                batch.logits,
                batch.labels,
                batch.observed,
                grad,
            )
        }
    }

    fn toy_run(extra: &str) -> PlannedRun {
        let text = format!(
            "seeds = 1\nstrategies = [\"single-task\"]\n[data]\nsource = \"toy\"\nrows = 300\n[split]\ntest-rows = 60\n[missing]\nrate = 0.3\n[training]\nepochs = 30\nbatch-size = 32\n{extra}"
        );
        let raw: crate::config::RawExperiment = toml::from_str(&text).unwrap();
        let plan = crate::plan::validate(raw, "t", Path::new("t.toml"), &text).unwrap();
        plan.runs.into_iter().next().unwrap()
    }

    #[test]
    fn one_by_one_holds_one_network_at_a_time_and_stops_each_on_its_own() {
        let run = toy_run("eval-every = 1\npatience = 2\nselect-by = \"auc\"\n");
        let base = DataCache::default().get(&run, Path::new(".")).unwrap();
        let prepared = prepare(&base, &run).unwrap();
        let (train, dev, test) = (&prepared.train, &prepared.dev, &prepared.test);
        let (alive, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let context = strategy::Context {
            train,
            train_sparse: None,
            dev,
            training: &run.spec.training,
            params: run.spec.params,
            seed: run.streams.init,
        };
        let build = |t: usize| strategy::Network {
            objective: Box::new(Counted::new(&alive, &most)),
            ..strategy::baselines::single_task(&context, t)
        };
        let test_inputs = nn::mlp::Inputs::new(test.features.view());
        let inputs = Inputs {
            test: &test_inputs,
            grid: None,
        };
        let mut warnings = Vec::new();
        let stop = AtomicBool::new(false);
        let job = Job {
            run: &run,
            threads: nn::Threads::ONE,
            data: train,
            inputs,
            stop: &stop,
        };
        let trained = one_by_one(3, &build, dev, &job, &mut warnings).unwrap();
        assert_eq!(
            most.load(Ordering::SeqCst),
            1,
            "one network alive at a time"
        );
        assert_eq!(alive.load(Ordering::SeqCst), 0);
        assert_eq!(trained.fitted_rows.len(), 3);
        // Each task's logits are those of a network trained and stopped alone on it.
        for t in 0..3 {
            let net = strategy::baselines::single_task(&context, t);
            let local = strategy::Network {
                tasks: vec![0],
                ..net
            };
            let y = dev.labels.select(Axis(1), &[t]);
            let o = dev.observed.select(Axis(1), &[t]);
            let dev_x = nn::mlp::Inputs::new(dev.features.view());
            let dev_rows = DevRows {
                x: &dev_x,
                y: y.view(),
                observed: o.view(),
            };
            let mut members = [member(local, &run, 0, t, nn::Threads::ONE)];
            let alone = fit(&mut members, dev_rows, &run.spec.training, 1, &stop).unwrap();
            let z = alone.models[0].0.forward(test.features.view());
            assert_eq!(trained.logits.column(t), z.column(0), "task {t}");
        }
    }

    #[test]
    fn merged_histories_average_the_networks_that_reached_each_epoch() {
        let epoch = |e, loss, dev: Option<f64>| Epoch {
            epoch: e,
            train_loss: loss,
            dev_loss: dev,
            dev_auc: dev.map(|d| 1.0 - d),
        };
        let a = vec![epoch(1, 1.0, Some(0.5)), epoch(2, 0.5, None)];
        let b = vec![epoch(1, 3.0, Some(0.7))];
        let m = merged(&[a, b]);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].train_loss, m[0].dev_loss), (2.0, Some(0.6)));
        assert!((m[0].dev_auc.unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(
            (m[1].train_loss, m[1].dev_loss, m[1].dev_auc),
            (0.5, None, None)
        );
    }

    #[test]
    fn the_roc_auc_selects_only_where_some_task_has_both_classes() {
        let x = Array2::<f32>::zeros((3, 1));
        let x = nn::mlp::Inputs::new(x.view());
        let dev = |y: Array2<f32>, o: Array2<bool>| {
            let d = DevRows {
                x: &x,
                y: y.view(),
                observed: o.view(),
            };
            d.auc_defined()
        };
        let all = Array2::from_elem((3, 2), true);
        assert!(dev(array![[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]], all.clone()));
        assert!(!dev(array![[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], all));
        // The only positive is not observed.
        let o = array![[false, true], [true, true], [true, true]];
        assert!(!dev(array![[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]], o));
    }
}
