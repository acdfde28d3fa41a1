//! The tidy table of every run's metrics, and its aggregation over seeds; written with polars.

use crate::error::ReportError;
use crate::records::Axes;
use crate::stats::ci95_half_width;
use polars::prelude::*;
use record::outcome::Metric;
use record::outcome::RunMetrics;
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

/// The tidy table: one row per run × target × task × metric. `target` is `truth` (the
/// labels before any were dropped) or `observed` (what the labeller provided); `task` is a
/// task name or `macro`; the Keras-style pooled accuracy is `observed`/`all`/
/// `keras_accuracy`. An undefined metric is null.
///
/// Held compactly while the records stream in: each run's settings once, each row as a
/// run index, three small codes and a value (16 bytes), so a sweep of 100,000 runs (four
/// million rows) fits in tens of megabytes. Strings are made only for a batch of rows at
/// a time, when `runs.parquet` is written.
#[derive(Debug, Default)]
pub struct TidyTable {
    names: Vec<String>,
    codes: std::collections::HashMap<String, u32>,
    runs: Vec<RunKeys>,
    rows: Vec<Row>,
    /// Per run, its test predictions and task names, where it recorded them.
    predictions: Vec<Option<(record::outcome::TestPredictions, Vec<String>)>>,
}

/// A run's columns, with its text settings as codes into the table's names.
#[derive(Debug)]
struct RunKeys {
    /// Place in the grid: rows are written, and values summed, in grid order.
    grid_index: usize,
    id: String,
    text: [u32; 4], // variant, strategy, mechanism, hidden
    seed: u64,
    rate: f64,
    epochs: u64,
    batch_size: u64,
    learning_rate: f64,
    /// The run's rows: `rows[first..first + count]`.
    first: usize,
    count: usize,
}

#[derive(Clone, Copy, Debug)]
struct Row {
    run: u32,
    task: u32,
    target: u8,
    metric: u8,
    /// NaN: undefined (non-finite values are undefined).
    value: f64,
}

const TARGETS: [&str; 3] = ["truth", "observed", "filled"];
/// The `filled` target's rows: the filled training labels' accuracy against the truth,
/// and the share of missing training labels filled.
const FILLED: u8 = 2;
/// The target of the rows that score a group's seeds as one ensemble (observed labels).
pub const ENSEMBLE: &str = "ensemble";
/// The metrics of a metric set, then the pooled Keras accuracy, then the share of missing
/// training labels a strategy filled.
fn metric_name(code: u8) -> &'static str {
    match Metric::ALL.get(code as usize) {
        Some(m) => m.name(),
        None if code == KERAS => "keras_accuracy",
        None => "filled_share",
    }
}
const KERAS: u8 = Metric::ALL.len() as u8;
const FILLED_SHARE: u8 = KERAS + 1;

impl TidyTable {
    fn code(&mut self, name: &str) -> u32 {
        if let Some(&c) = self.codes.get(name) {
            return c;
        }
        let c = self.names.len() as u32;
        self.names.push(name.to_string());
        self.codes.insert(name.to_string(), c);
        c
    }

    /// Adds a successful run's rows; `grid_index` is its place in the grid.
    pub fn push_run(&mut self, grid_index: usize, id: &str, a: &Axes, metrics: &RunMetrics) {
        let run = self.runs.len() as u32;
        let first = self.rows.len();
        let text = [
            self.code(&a.variant),
            self.code(&a.strategy),
            self.code(&a.mechanism),
            self.code(&a.hidden),
        ];
        let sets = [metrics.truth.as_ref(), Some(&metrics.observed)];
        for (target, set) in sets.into_iter().enumerate() {
            let Some(set) = set else { continue };
            for task in &set.tasks {
                let code = self.code(&task.task);
                for (m, metric) in Metric::ALL.iter().enumerate() {
                    self.push(run, target as u8, code, m as u8, task.get(*metric));
                }
            }
            let code = self.code("macro");
            for (m, metric) in Metric::ALL.iter().enumerate() {
                self.push(run, target as u8, code, m as u8, set.get(*metric));
            }
        }
        let all = self.code("all");
        self.push(run, 1, all, KERAS, metrics.keras_accuracy);
        if let Some(f) = &metrics.filled_labels {
            let accuracy = Metric::ALL
                .iter()
                .position(|m| *m == Metric::Accuracy)
                .expect("accuracy is a metric") as u8;
            self.push(run, FILLED, all, accuracy, f.accuracy);
            let share = (f.missing > 0).then(|| f.filled as f64 / f.missing as f64);
            self.push(run, FILLED, all, FILLED_SHARE, share);
        }
        self.predictions
            .push(metrics.test_predictions.clone().map(|p| {
                let names = metrics
                    .observed
                    .tasks
                    .iter()
                    .map(|t| t.task.clone())
                    .collect();
                (p, names)
            }));
        self.runs.push(RunKeys {
            grid_index,
            id: id.to_string(),
            text,
            seed: a.seed,
            rate: a.rate,
            epochs: a.epochs,
            batch_size: a.batch_size,
            learning_rate: a.learning_rate,
            first,
            count: self.rows.len() - first,
        });
    }

    fn push(&mut self, run: u32, target: u8, task: u32, metric: u8, value: Option<f64>) {
        let value = value.filter(|v| v.is_finite()).unwrap_or(f64::NAN);
        self.rows.push(Row {
            run,
            task,
            target,
            metric,
            value,
        });
    }

    pub fn height(&self) -> usize {
        self.rows.len()
    }

    /// Runs in grid order.
    fn runs_in_grid_order(&self) -> Vec<&RunKeys> {
        let mut runs: Vec<&RunKeys> = self.runs.iter().collect();
        runs.sort_by_key(|r| r.grid_index);
        runs
    }

    /// Rows `rows` (in grid order of their runs) as a frame with the columns of `runs.parquet`.
    fn frame(&self, rows: &[Row]) -> Result<DataFrame, ReportError> {
        let name = |c: u32| self.names[c as usize].as_str();
        let run = |r: &Row| &self.runs[r.run as usize];
        let text = |k: usize| -> Vec<&str> { rows.iter().map(|r| name(run(r).text[k])).collect() };
        Ok(df!(
            "run_id" => rows.iter().map(|r| run(r).id.as_str()).collect::<Vec<_>>(),
            "variant" => text(0),
            "strategy" => text(1),
            "seed" => rows.iter().map(|r| run(r).seed).collect::<Vec<_>>(),
            "mechanism" => text(2),
            "rate" => rows.iter().map(|r| run(r).rate).collect::<Vec<_>>(),
            "hidden" => text(3),
            "epochs" => rows.iter().map(|r| run(r).epochs).collect::<Vec<_>>(),
            "batch_size" => rows.iter().map(|r| run(r).batch_size).collect::<Vec<_>>(),
            "learning_rate" => rows.iter().map(|r| run(r).learning_rate).collect::<Vec<_>>(),
            "target" => rows.iter().map(|r| TARGETS[r.target as usize]).collect::<Vec<_>>(),
            "task" => rows.iter().map(|r| name(r.task)).collect::<Vec<_>>(),
            "metric" => rows.iter().map(|r| metric_name(r.metric)).collect::<Vec<_>>(),
            "value" => rows.iter().map(|r| (!r.value.is_nan()).then_some(r.value)).collect::<Vec<_>>(),
        )?)
    }

    /// Writes the table as Parquet, atomically, a batch of rows at a time (runs in grid
    /// order), so that only one batch is ever held as strings.
    pub fn write_parquet(&self, path: &Path) -> Result<(), ReportError> {
        const BATCH_ROWS: usize = 1 << 17;
        let mut ordered: Vec<Row> = Vec::with_capacity(BATCH_ROWS);
        let runs = self.runs_in_grid_order();
        record::io::write_atomic(path, |w| {
            let fail = |e: ReportError| std::io::Error::other(e.to_string());
            let schema = self.frame(&[]).map_err(fail)?.schema().as_ref().clone();
            let mut writer = ParquetWriter::new(w)
                .batched(&schema)
                .map_err(|e| fail(e.into()))?;
            let mut flush = |rows: &mut Vec<Row>| -> std::io::Result<()> {
                let frame = self.frame(rows).map_err(fail)?;
                rows.clear();
                writer.write_batch(&frame).map_err(|e| fail(e.into()))
            };
            for run in &runs {
                ordered.extend_from_slice(&self.rows[run.first..run.first + run.count]);
                if ordered.len() >= BATCH_ROWS {
                    flush(&mut ordered)?;
                }
            }
            if !ordered.is_empty() || self.rows.is_empty() {
                flush(&mut ordered)?;
            }
            writer.finish().map(|_| ()).map_err(|e| fail(e.into()))
        })?;
        Ok(())
    }

    /// Mean, sample standard deviation, count and 95% Student-t interval over seeds,
    /// grouped by every other axis ([`GROUP_KEYS`] order). Undefined values are skipped and
    /// counted in `n_undefined`, never averaged in; values are summed in grid order.
    pub fn summarise(&self) -> Vec<Summary> {
        // Runs that differ only in their seed share a group.
        let mut run_group: Vec<u32> = vec![0; self.runs.len()];
        let mut groups: std::collections::HashMap<([u32; 4], [u64; 4]), u32> = Default::default();
        for (i, r) in self.runs.iter().enumerate() {
            let key = (
                r.text,
                [
                    r.rate.to_bits(),
                    r.epochs,
                    r.batch_size,
                    r.learning_rate.to_bits(),
                ],
            );
            let next = groups.len() as u32;
            run_group[i] = *groups.entry(key).or_insert(next);
        }
        // Cells of (group, target, task, metric): the values in grid order, and the undefined.
        type Cell = (Vec<(usize, f64)>, u64);
        let mut cells: std::collections::HashMap<(u32, u8, u32, u8), Cell> = Default::default();
        for row in &self.rows {
            let run = &self.runs[row.run as usize];
            let cell = cells
                .entry((
                    run_group[row.run as usize],
                    row.target,
                    row.task,
                    row.metric,
                ))
                .or_default();
            if row.value.is_nan() {
                cell.1 += 1;
            } else {
                cell.0.push((run.grid_index, row.value));
            }
        }
        // One run per group names its settings.
        let mut example: Vec<usize> = vec![usize::MAX; groups.len()];
        for (i, &g) in run_group.iter().enumerate() {
            if example[g as usize] == usize::MAX {
                example[g as usize] = i;
            }
        }
        let name = |c: u32| self.names[c as usize].clone();
        let mut rows: Vec<(SummaryKey, Summary)> = cells
            .into_iter()
            .map(|((group, target, task, metric), (mut values, undefined))| {
                values.sort_by_key(|&(grid_index, _)| grid_index);
                let values: Vec<f64> = values.into_iter().map(|(_, v)| v).collect();
                let r = &self.runs[example[group as usize]];
                let n = values.len();
                let mean = (n > 0).then(|| values.iter().sum::<f64>() / n as f64);
                let std = mean.filter(|_| n > 1).map(|m| {
                    (values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1) as f64).sqrt()
                });
                let half = ci95_half_width(std.unwrap_or(f64::NAN), n);
                let (low, high) = match mean {
                    Some(m) if half.is_finite() => (Some(m - half), Some(m + half)),
                    _ => (None, None),
                };
                let summary = Summary {
                    mean,
                    std,
                    n: n as u64,
                    n_undefined: undefined,
                    ci95_low: low,
                    ci95_high: high,
                    ..self.setting_row(
                        r,
                        TARGETS[target as usize],
                        &name(task),
                        metric_name(metric),
                    )
                };
                (SummaryKey::of(&summary), summary)
            })
            .collect();
        rows.extend(self.ensembles(&run_group, &example));
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows.into_iter().map(|(_, s)| s).collect()
    }

    /// A summary row of run `r`'s setting, without statistics.
    fn setting_row(&self, r: &RunKeys, target: &str, task: &str, metric: &str) -> Summary {
        let name = |c: u32| self.names[c as usize].clone();
        Summary {
            variant: name(r.text[0]),
            strategy: name(r.text[1]),
            mechanism: name(r.text[2]),
            rate: r.rate,
            hidden: name(r.text[3]),
            epochs: r.epochs,
            batch_size: r.batch_size,
            learning_rate: r.learning_rate,
            target: target.to_string(),
            task: task.to_string(),
            metric: metric.to_string(),
            mean: None,
            std: None,
            n: 0,
            n_undefined: 0,
            ci95_low: None,
            ci95_high: None,
        }
    }

    /// The `ensemble` rows of each group whose runs all recorded their test predictions
    /// ([`crate::ensemble`]): one value per task and metric, `n` the members.
    fn ensembles(&self, run_group: &[u32], example: &[usize]) -> Vec<(SummaryKey, Summary)> {
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); example.len()];
        for (i, &g) in run_group.iter().enumerate() {
            members[g as usize].push(i);
        }
        let mut out = Vec::new();
        for (group, mut runs) in members.into_iter().enumerate() {
            runs.sort_by_key(|&i| self.runs[i].grid_index);
            let Some(predictions) = runs
                .iter()
                .map(|&i| self.predictions[i].as_ref())
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            let sets: Vec<&record::outcome::TestPredictions> =
                predictions.iter().map(|(p, _)| p).collect();
            let Some(set) = crate::ensemble::score(&sets, &predictions[0].1) else {
                continue;
            };
            let r = &self.runs[example[group]];
            for (task, metric, value) in crate::ensemble::values(&set) {
                let summary = Summary {
                    mean: value,
                    n: runs.len() as u64,
                    n_undefined: value.is_none() as u64,
                    ..self.setting_row(r, ENSEMBLE, &task, metric.name())
                };
                out.push((SummaryKey::of(&summary), summary));
            }
        }
        out
    }
}

/// A summary row's place: its [`GROUP_KEYS`], strings by content and floats totally.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SummaryKey(
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

impl SummaryKey {
    fn of(s: &Summary) -> Self {
        SummaryKey(
            s.variant.clone(),
            s.strategy.clone(),
            s.mechanism.clone(),
            Total(s.rate),
            s.hidden.clone(),
            s.epochs,
            s.batch_size,
            Total(s.learning_rate),
            s.target.clone(),
            s.task.clone(),
            s.metric.clone(),
        )
    }
}

/// The summary as a frame: the [`GROUP_KEYS`] columns, then the statistics.
pub fn summary_frame(rows: &[Summary]) -> Result<DataFrame, ReportError> {
    let text = |f: fn(&Summary) -> &str| -> Vec<&str> { rows.iter().map(f).collect() };
    Ok(df!(
        "variant" => text(|s| &s.variant),
        "strategy" => text(|s| &s.strategy),
        "mechanism" => text(|s| &s.mechanism),
        "rate" => rows.iter().map(|s| s.rate).collect::<Vec<_>>(),
        "hidden" => text(|s| &s.hidden),
        "epochs" => rows.iter().map(|s| s.epochs).collect::<Vec<_>>(),
        "batch_size" => rows.iter().map(|s| s.batch_size).collect::<Vec<_>>(),
        "learning_rate" => rows.iter().map(|s| s.learning_rate).collect::<Vec<_>>(),
        "target" => text(|s| &s.target),
        "task" => text(|s| &s.task),
        "metric" => text(|s| &s.metric),
        "mean" => rows.iter().map(|s| s.mean).collect::<Vec<_>>(),
        "std" => rows.iter().map(|s| s.std).collect::<Vec<_>>(),
        "n" => rows.iter().map(|s| s.n).collect::<Vec<_>>(),
        "n_undefined" => rows.iter().map(|s| s.n_undefined).collect::<Vec<_>>(),
        "ci95_low" => rows.iter().map(|s| s.ci95_low).collect::<Vec<_>>(),
        "ci95_high" => rows.iter().map(|s| s.ci95_high).collect::<Vec<_>>(),
    )?)
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
    pub hidden: String,
    pub epochs: u64,
    pub batch_size: u64,
    pub learning_rate: f64,
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

    fn table(runs: &[Run]) -> TidyTable {
        let mut t = TidyTable::default();
        for (i, r) in runs.iter().enumerate() {
            t.push_run(i, &r.id, &r.axes, &r.metrics);
        }
        t
    }

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
            axes: Axes::of(&spec, spec.variant.clone().unwrap_or_default()),
            spec,
            metrics: RunMetrics {
                filled_labels: None,
                not_applicable: None,
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
                test_predictions: None,
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
        let t = table(&runs);
        assert_eq!(t.height(), 4 * (2 * (2 * 5 + 5) + 1));
        let rows = t.summarise();
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
    fn a_table_row_is_the_24_bytes_the_readme_says() {
        assert_eq!(std::mem::size_of::<Row>(), 24);
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .unwrap();
        assert!(readme.contains("as table rows (24 bytes a row)"));
    }

    #[test]
    fn frames_are_written_as_csv_and_parquet() {
        let t = table(&[run("r0", 0, Some(0.5)), run("r1", 1, Some(0.7))]);
        let s = summary_frame(&t.summarise()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        write_frame(&s, &dir.path().join("summary.csv")).unwrap();
        t.write_parquet(&dir.path().join("runs.parquet")).unwrap();
        let csv = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
        assert!(csv.starts_with("variant,strategy,mechanism,rate,hidden,epochs,batch_size,learning_rate,target,task,metric,mean,std,n,n_undefined,ci95_low,ci95_high"));
        assert_eq!(csv.lines().count(), s.height() + 1);
        let back =
            ParquetReader::new(std::fs::File::open(dir.path().join("runs.parquet")).unwrap())
                .finish()
                .unwrap();
        assert_eq!(back.shape(), (t.height(), 14));
        assert_eq!(
            back.column("run_id").unwrap().str().unwrap().get(0),
            Some("r0")
        );
    }
}
