//! The tidy table of every run's metrics, and its aggregation over seeds, with polars.

use crate::error::ReportError;
use crate::records::Run;
use crate::stats::ci95_half_width;
use polars::prelude::*;
use record::outcome::Metric;
use std::path::Path;

/// Columns a summary is grouped by: every axis but the seed.
pub const GROUP_KEYS: [&str; 11] = [
    "variant",
    "strategy",
    "mechanism",
    "rate",
    "hidden",
    "epochs",
    "batch_size",
    "learning_rate",
    "target",
    "task",
    "metric",
];

/// One row per run × target × task × metric: `target` is `truth` (the labels before any were
/// dropped) or `observed` (what the labeller provided); `task` is a task name or `macro`; the
/// Keras-style pooled accuracy is `observed`/`all`/`keras_accuracy`. An undefined metric is null.
pub fn tidy(runs: &[Run]) -> Result<DataFrame, ReportError> {
    let mut cols: [Vec<String>; 8] = Default::default(); // run_id variant strategy mechanism hidden target task metric
    let (mut seed, mut epochs, mut batch) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rate, mut lr, mut value) = (Vec::new(), Vec::new(), Vec::<Option<f64>>::new());
    let mut push = |run: &Run, target: &str, task: &str, metric: &str, v: Option<f64>| {
        let a = &run.axes;
        for (c, s) in
            cols.iter_mut()
                .zip([&run.id, &a.variant, &a.strategy, &a.mechanism, &a.hidden])
        {
            c.push(s.clone());
        }
        cols[5].push(target.into());
        cols[6].push(task.into());
        cols[7].push(metric.into());
        seed.push(a.seed);
        epochs.push(a.epochs);
        batch.push(a.batch_size);
        rate.push(a.rate);
        lr.push(a.learning_rate);
        value.push(v.filter(|v| v.is_finite()));
    };
    for run in runs {
        let sets = [
            ("truth", run.metrics.truth.as_ref()),
            ("observed", Some(&run.metrics.observed)),
        ];
        for (target, set) in sets {
            let Some(set) = set else { continue };
            for task in &set.tasks {
                for m in Metric::ALL {
                    push(run, target, &task.task, m.name(), task.get(m));
                }
            }
            for m in Metric::ALL {
                push(run, target, "macro", m.name(), set.get(m));
            }
        }
        push(
            run,
            "observed",
            "all",
            "keras_accuracy",
            run.metrics.keras_accuracy,
        );
    }
    let [run_id, variant, strategy, mechanism, hidden, target, task, metric] = cols;
    Ok(df!(
        "run_id" => run_id,
        "variant" => variant,
        "strategy" => strategy,
        "seed" => seed,
        "mechanism" => mechanism,
        "rate" => rate,
        "hidden" => hidden,
        "epochs" => epochs,
        "batch_size" => batch,
        "learning_rate" => lr,
        "target" => target,
        "task" => task,
        "metric" => metric,
        "value" => value,
    )?)
}

/// Mean, sample standard deviation, count and 95% Student-t interval over seeds, grouped by
/// every other axis. Undefined (null) values are skipped and counted in `n_undefined`, never
/// averaged in.
pub fn summarise(tidy: &DataFrame) -> Result<DataFrame, ReportError> {
    // A plain ordered aggregation: polars' lazy engine would bring an async cloud stack
    // (object_store, reqwest, tokio) into the build for one group-by.
    let text = |name: &str| -> Result<Vec<String>, ReportError> {
        Ok(tidy
            .column(name)?
            .str()?
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect())
    };
    let float = |name: &str| -> Result<Vec<f64>, ReportError> {
        Ok(tidy
            .column(name)?
            .f64()?
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    };
    let whole = |name: &str| -> Result<Vec<u64>, ReportError> {
        Ok(tidy
            .column(name)?
            .u64()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let (variant, strategy, mechanism, hidden) = (
        text("variant")?,
        text("strategy")?,
        text("mechanism")?,
        text("hidden")?,
    );
    let (target, task, metric) = (text("target")?, text("task")?, text("metric")?);
    let (rate, lr) = (float("rate")?, float("learning_rate")?);
    let (epochs, batch) = (whole("epochs")?, whole("batch_size")?);
    let value: Vec<Option<f64>> = tidy.column("value")?.f64()?.iter().collect();
    // Keys in GROUP_KEYS order; floats ordered totally (there are no NaN keys).
    type Key = (
        String,
        String,
        String,
        Total,
        String,
        u64,
        u64,
        Total,
        String,
        String,
        String,
    );
    let mut groups: std::collections::BTreeMap<Key, (Vec<f64>, u64)> = Default::default();
    for i in 0..tidy.height() {
        let key = (
            variant[i].clone(),
            strategy[i].clone(),
            mechanism[i].clone(),
            Total(rate[i]),
            hidden[i].clone(),
            epochs[i],
            batch[i],
            Total(lr[i]),
            target[i].clone(),
            task[i].clone(),
            metric[i].clone(),
        );
        let entry = groups.entry(key).or_default();
        match value[i] {
            Some(v) => entry.0.push(v),
            None => entry.1 += 1,
        }
    }
    let mut cols: [Vec<String>; 7] = Default::default();
    let (mut rates, mut lrs, mut epochs, mut batches) = (vec![], vec![], vec![], vec![]);
    let (mut means, mut stds, mut ns, mut undefined) = (vec![], vec![], vec![], vec![]);
    for ((v, s, m, r, h, e, b, l, t, k, x), (values, missing)) in groups {
        for (c, text) in cols.iter_mut().zip([v, s, m, h, t, k, x]) {
            c.push(text);
        }
        rates.push(r.0);
        lrs.push(l.0);
        epochs.push(e);
        batches.push(b);
        let n = values.len();
        let mean = (n > 0).then(|| values.iter().sum::<f64>() / n as f64);
        let std = mean.filter(|_| n > 1).map(|m| {
            (values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1) as f64).sqrt()
        });
        means.push(mean);
        stds.push(std);
        ns.push(n as u64);
        undefined.push(missing);
    }
    let [variant, strategy, mechanism, hidden, target, task, metric] = cols;
    let mut summary = df!(
        "variant" => variant,
        "strategy" => strategy,
        "mechanism" => mechanism,
        "rate" => rates,
        "hidden" => hidden,
        "epochs" => epochs,
        "batch_size" => batches,
        "learning_rate" => lrs,
        "target" => target,
        "task" => task,
        "metric" => metric,
        "mean" => means,
        "std" => stds,
        "n" => ns,
        "n_undefined" => undefined,
    )?;
    let mean = summary.column("mean")?.f64()?.clone();
    let std = summary.column("std")?.f64()?.clone();
    let n = summary.column("n")?.u64()?.clone();
    let (mut low, mut high) = (Vec::new(), Vec::new());
    for ((m, s), n) in mean.iter().zip(std.iter()).zip(n.iter()) {
        let half = ci95_half_width(s.unwrap_or(f64::NAN), n.unwrap_or(0) as usize);
        let (lo, hi) = match m {
            Some(m) if half.is_finite() => (Some(m - half), Some(m + half)),
            _ => (None, None),
        };
        low.push(lo);
        high.push(hi);
    }
    summary.with_column(Column::new("ci95_low".into(), low))?;
    summary.with_column(Column::new("ci95_high".into(), high))?;
    Ok(summary)
}

/// An `f64` ordered by `total_cmp`, for group keys.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Total(f64);

impl Eq for Total {}

impl PartialOrd for Total {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Total {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A summary row, for figures and prose.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub variant: String,
    pub strategy: String,
    pub mechanism: String,
    pub rate: f64,
    pub target: String,
    pub task: String,
    pub metric: String,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub n: u64,
    pub n_undefined: u64,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
}

/// The summary frame as rows.
pub fn summary_rows(summary: &DataFrame) -> Result<Vec<Summary>, ReportError> {
    let s = |name: &str| -> Result<Vec<String>, ReportError> {
        Ok(summary
            .column(name)?
            .str()?
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect())
    };
    let f = |name: &str| -> Result<Vec<Option<f64>>, ReportError> {
        Ok(summary.column(name)?.f64()?.iter().collect())
    };
    let u = |name: &str| -> Result<Vec<u64>, ReportError> {
        Ok(summary
            .column(name)?
            .u64()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    let (variant, strategy, mechanism, target, task, metric) = (
        s("variant")?,
        s("strategy")?,
        s("mechanism")?,
        s("target")?,
        s("task")?,
        s("metric")?,
    );
    let (rate, mean, std, low, high) = (
        f("rate")?,
        f("mean")?,
        f("std")?,
        f("ci95_low")?,
        f("ci95_high")?,
    );
    let (n, undefined) = (u("n")?, u("n_undefined")?);
    Ok((0..summary.height())
        .map(|i| Summary {
            variant: variant[i].clone(),
            strategy: strategy[i].clone(),
            mechanism: mechanism[i].clone(),
            rate: rate[i].unwrap_or(f64::NAN),
            target: target[i].clone(),
            task: task[i].clone(),
            metric: metric[i].clone(),
            mean: mean[i],
            std: std[i],
            n: n[i],
            n_undefined: undefined[i],
            ci95_low: low[i],
            ci95_high: high[i],
        })
        .collect())
}

/// Writes a frame as CSV or Parquet (by extension), atomically.
pub fn write_frame(df: &DataFrame, path: &Path) -> Result<(), ReportError> {
    let mut frame = df.clone();
    let mut bytes = Vec::new();
    if path.extension().is_some_and(|e| e == "parquet") {
        ParquetWriter::new(&mut bytes).finish(&mut frame)?;
    } else {
        CsvWriter::new(&mut bytes).finish(&mut frame)?;
    }
    record::io::write_atomic(path, |w| std::io::Write::write_all(w, &bytes))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Axes, Run};

    fn run(id: &str, seed: u64, acc0: Option<f64>) -> Run {
        use record::outcome::{MetricSet, RunMetrics, TaskRecord};
        let task = |name: &str, acc: Option<f64>| TaskRecord {
            task: name.into(),
            n: 10,
            n_positive: 5,
            accuracy: acc,
            balanced_accuracy: acc,
            auc: None,
            pr_auc: None,
            bce: Some(0.5),
            undefined: None,
        };
        let set = MetricSet {
            tasks: vec![task("a", acc0), task("b", Some(1.0))],
            accuracy: Some(acc0.map(|a| (a + 1.0) / 2.0).unwrap_or(1.0)),
            balanced_accuracy: None,
            auc: None,
            pr_auc: None,
            bce: Some(0.5),
        };
        let spec: record::RunSpec = serde_json::from_value(serde_json::json!({
            "format": record::FORMAT, "experiment": "t", "variant": null, "experiment-seed": 0,
            "seed": seed, "data": {"source": "toy", "rows": 100},
            "split": {"test-rows": 10, "test-fraction": null, "dev-fraction": 0.1, "drop-test": false},
            "missing": {"mechanism": "mcar", "rate": 0.5, "task-rates": null, "mnar-skew": null},
            "hidden": [4],
            "training": {"epochs": 1, "batch-size": 8, "learning-rate": 0.01, "eval-every": 1, "patience": null},
            "strategy": "masked"
        }))
        .unwrap();
        Run {
            id: id.into(),
            axes: Axes::of(&spec),
            spec,
            metrics: RunMetrics {
                train_rows: 10,
                dev_rows: 0,
                test_rows: 10,
                train_observed_rate: vec![],
                realised_drop_rate: vec![],
                realised_drop_rate_overall: None,
                fitted_rows: vec![10],
                epochs_run: 1,
                observed: set.clone(),
                truth: Some(set),
                keras_accuracy: Some(0.25),
                warnings: vec![],
            },
            history: vec![],
            boundary: None,
        }
    }

    #[test]
    fn aggregation_by_hand_with_an_undefined_value_skipped_and_counted() {
        // Task a's accuracy over four seeds: 0.6, 0.7, 0.8 and one undefined.
        let runs = vec![
            run("r0", 0, Some(0.6)),
            run("r1", 1, Some(0.7)),
            run("r2", 2, Some(0.8)),
            run("r3", 3, None),
        ];
        let t = tidy(&runs).unwrap();
        assert_eq!(t.height(), 4 * (2 * (2 * 5 + 5) + 1));
        let rows = summary_rows(&summarise(&t).unwrap()).unwrap();
        let a = rows
            .iter()
            .find(|r| r.target == "truth" && r.task == "a" && r.metric == "accuracy")
            .unwrap();
        assert_eq!((a.n, a.n_undefined), (3, 1));
        assert!((a.mean.unwrap() - 0.7).abs() < 1e-12);
        assert!((a.std.unwrap() - 0.1).abs() < 1e-12);
        // Half-width t(0.975, 2) · 0.1 / sqrt 3 = 4.303 · 0.1 / 1.7320508 = 0.248434...
        let half = 4.303 * 0.1 / 3f64.sqrt();
        assert!((a.ci95_low.unwrap() - (0.7 - half)).abs() < 1e-12);
        assert!((a.ci95_high.unwrap() - (0.7 + half)).abs() < 1e-12);
        // A metric undefined in every run has no mean and no interval.
        let auc = rows
            .iter()
            .find(|r| r.task == "b" && r.metric == "auc")
            .unwrap();
        assert_eq!(
            (auc.mean, auc.n, auc.n_undefined, auc.ci95_low),
            (None, 0, 4, None)
        );
        let keras = rows.iter().find(|r| r.metric == "keras_accuracy").unwrap();
        assert_eq!((keras.mean, keras.std, keras.n), (Some(0.25), Some(0.0), 4));
    }

    #[test]
    fn frames_are_written_as_csv_and_parquet() {
        let t = tidy(&[run("r0", 0, Some(0.5)), run("r1", 1, Some(0.7))]).unwrap();
        let s = summarise(&t).unwrap();
        let dir = tempfile::tempdir().unwrap();
        write_frame(&s, &dir.path().join("summary.csv")).unwrap();
        write_frame(&t, &dir.path().join("runs.parquet")).unwrap();
        let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
        assert!(csv.starts_with("variant,strategy,mechanism,rate,hidden,epochs,batch_size,learning_rate,target,task,metric,mean,std,n,n_undefined,ci95_low,ci95_high"));
        assert_eq!(csv.lines().count(), s.height() + 1);
        let back =
            ParquetReader::new(std::fs::File::open(dir.path().join("runs.parquet")).unwrap())
                .finish()
                .unwrap();
        assert_eq!(back.shape(), t.shape());
    }
}
