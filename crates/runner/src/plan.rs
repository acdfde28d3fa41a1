//! Experiment files, stage two: validation into the grid of fully resolved runs.
//!
//! Every rule is checked for the whole grid before anything runs or is written. Each run's
//! random streams are derived here, from the experiment seed and the parts of the run's
//! settings each stream depends on, so no result depends on thread count or run order.

use crate::config::{MechanismKind, RawData, RawExperiment, RawVariant, Seeds, Source, Strategy};
use crate::error::ConfigError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Bumped whenever a run's meaning changes, so old records are not mistaken for new ones.
pub const RECORD_FORMAT: u32 = 2;

/// A fully resolved data source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum DataSpec {
    Toy {
        rows: usize,
    },
    MbtiGenerated {
        users: usize,
        posts_per_user: usize,
        words_per_post: usize,
        signal: f64,
        dims: usize,
        svd_dims: Option<usize>,
    },
    MbtiCsv {
        path: PathBuf,
        dims: usize,
        svd_dims: Option<usize>,
    },
    Csv {
        path: PathBuf,
        label_columns: Option<Vec<String>>,
        label_prefix: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SplitSpec {
    pub test_rows: Option<usize>,
    pub test_fraction: Option<f64>,
    pub dev_fraction: f64,
    pub drop_test: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MissingSpec {
    pub mechanism: MechanismKind,
    /// One rate for all tasks (the overall rate, for mnar and block).
    pub rate: Option<f64>,
    /// One rate per task.
    pub task_rates: Option<Vec<f64>>,
    /// mnar only.
    pub mnar_skew: Option<f64>,
}

impl MissingSpec {
    /// The mean of the requested per-task drop rates: the x axis of drop-rate figures.
    pub fn nominal_rate(&self) -> f64 {
        match (&self.rate, &self.task_rates) {
            (Some(r), _) => *r,
            (None, Some(rates)) if !rates.is_empty() => {
                rates.iter().sum::<f64>() / rates.len() as f64
            }
            _ => 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TrainingSpec {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub eval_every: usize,
    pub patience: Option<usize>,
}

/// Everything that determines one run's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunSpec {
    pub format: u32,
    pub experiment: String,
    /// The variant's name, when the experiment has variants.
    pub variant: Option<String>,
    pub experiment_seed: u64,
    pub seed: u64,
    pub data: DataSpec,
    pub split: SplitSpec,
    pub missing: MissingSpec,
    pub hidden: Vec<usize>,
    pub training: TrainingSpec,
    pub strategy: Strategy,
}

/// Seeds of a run's independent random streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Streams {
    /// Generating the data (and the SVD's projection): depends on data settings and seed.
    pub data: u64,
    /// Train/dev/test rows: also on the split settings.
    pub split: u64,
    /// Which labels are dropped: also on the missingness settings.
    pub drops: u64,
    /// Initial weights: on the seed and the architecture.
    pub init: u64,
    /// Batch order: on the seed and the training settings.
    pub batches: u64,
}

/// A run of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRun {
    /// Hash of the resolved settings: the run's folder name.
    pub id: String,
    pub spec: RunSpec,
    pub streams: Streams,
}

/// A validated experiment.
#[derive(Clone, Debug)]
pub struct Plan {
    pub name: String,
    pub description: String,
    pub source_path: PathBuf,
    pub runs: Vec<PlannedRun>,
}

fn hash_hex(parts: &[&dyn erased::Json]) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(p.json().as_bytes());
        h.update(b"\0");
    }
    h.finalize()
}

/// Object-safe JSON serialisation for hashing heterogeneous parts.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("plain data serialises")
        }
    }
}

fn stream(parts: &[&dyn erased::Json]) -> u64 {
    u64::from_le_bytes(hash_hex(parts).as_bytes()[..8].try_into().expect("8 bytes"))
}

impl RunSpec {
    /// The run's id: a hash of its resolved settings.
    pub fn id(&self) -> String {
        hash_hex(&[self]).to_hex()[..16].to_string()
    }

    /// The run's stream seeds, from the experiment seed, the settings each depends on, and
    /// the stream's purpose. Runs that differ only in strategy share data, drops and init,
    /// so strategies are compared on identical inputs.
    pub fn streams(&self) -> Streams {
        let (e, s) = (&self.experiment_seed, &self.seed);
        Streams {
            data: stream(&[e, &"data", &self.data, s]),
            split: stream(&[e, &"split", &self.data, &self.split, s]),
            drops: stream(&[e, &"drops", &self.data, &self.split, &self.missing, s]),
            init: stream(&[e, &"init", &self.hidden, s]),
            batches: stream(&[e, &"batches", &self.training, s]),
        }
    }
}

/// The number of tasks a data source has, for checking per-task rates.
fn task_count(data: &DataSpec, base: &Path, path: &Path) -> Result<usize, ConfigError> {
    Ok(match data {
        DataSpec::Toy { .. } => 3,
        DataSpec::MbtiGenerated { .. } | DataSpec::MbtiCsv { .. } => 4,
        DataSpec::Csv {
            path: csv,
            label_columns,
            label_prefix,
        } => {
            let labels = match (label_columns, label_prefix) {
                (Some(c), _) => datagen::csvio::LabelColumns::Named(c.clone()),
                (None, Some(p)) => datagen::csvio::LabelColumns::Prefix(p.clone()),
                (None, None) => unreachable!("checked by validate"),
            };
            let full = base.join(csv);
            datagen::csvio::load_csv(&full, &labels)
                .map_err(|e| ConfigError {
                    path: path.into(),
                    key: "data.path".into(),
                    line: None,
                    rule: e.to_string(),
                })?
                .n_tasks()
        }
    })
}

/// Reads and validates an experiment file into its plan.
pub fn load_plan(path: &Path) -> Result<Plan, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.into(),
        key: "(file)".into(),
        line: None,
        rule: format!("cannot read: {e}"),
    })?;
    let raw: RawExperiment = toml::from_str(&text).map_err(|e| parse_error(path, &text, &e))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "experiment".into());
    validate(raw, &name, path, &text)
}

/// Turns a TOML error into one line naming the key and line.
fn parse_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let key = line
        .and_then(|l| text.lines().nth(l - 1))
        .and_then(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
        .map(|k| format!("{}{k}", table_at(text, line.unwrap_or(1))))
        .unwrap_or_else(|| "(file)".into());
    ConfigError {
        path: path.into(),
        key,
        line,
        rule: e.message().trim().to_string(),
    }
}

/// The `[table].` prefix in force at a 1-based line.
fn table_at(text: &str, line: usize) -> String {
    text.lines()
        .take(line)
        .filter_map(|l| l.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']')))
        .last()
        .map(|t| format!("{}.", t.trim()))
        .unwrap_or_default()
}

/// The 1-based line where a dotted key is set, if it is written in the file.
fn line_of(text: &str, key: &str) -> Option<usize> {
    let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key));
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_string();
        } else if current == table && t.split_once('=').is_some_and(|(k, _)| k.trim() == leaf) {
            return Some(i + 1);
        }
    }
    None
}

/// Validates a raw experiment into its plan.
pub fn validate(
    raw: RawExperiment,
    name: &str,
    path: &Path,
    text: &str,
) -> Result<Plan, ConfigError> {
    let err = |key: &str, rule: String| ConfigError {
        path: path.into(),
        key: key.into(),
        line: line_of(text, key),
        rule,
    };
    let base = path.parent().unwrap_or(Path::new("."));

    let seeds: Vec<u64> = match raw.seeds {
        Seeds::Count(0) => return Err(err("seeds", "at least one seed is needed".into())),
        Seeds::Count(n) => (0..n).collect(),
        Seeds::List(v) if v.is_empty() => {
            return Err(err("seeds", "an empty list sweeps over nothing".into()))
        }
        Seeds::List(v) => v,
    };
    let mut strategies = raw.strategies.0.clone();
    let mut seen = std::collections::HashSet::new();
    strategies.retain(|s| seen.insert(*s));
    let variants: Vec<RawVariant> = if raw.variants.is_empty() {
        vec![RawVariant {
            name: String::new(),
            data: None,
            split: None,
            missing: None,
            model: None,
            training: None,
        }]
    } else {
        raw.variants.clone()
    };
    let mut names = std::collections::HashSet::new();
    let mut runs = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        let named = !raw.variants.is_empty();
        if named && (v.name.is_empty() || !names.insert(v.name.clone())) {
            return Err(err(
                "variants.name",
                format!(
                    "variant {} needs a name of its own (got `{}`)",
                    i + 1,
                    v.name
                ),
            ));
        }
        // A key of a section the variant replaces is named inside the variant.
        let in_variant = |key: &str| match key.split('.').next() {
            Some("data") => v.data.is_some(),
            Some("split") => v.split.is_some(),
            Some("missing") => v.missing.is_some(),
            Some("model") => v.model.is_some(),
            Some("training") => v.training.is_some(),
            _ => false,
        };
        let verr = |key: &str, rule: String| {
            if named && in_variant(key) {
                ConfigError {
                    path: path.into(),
                    key: format!("variants[{}].{key}", i + 1),
                    line: None,
                    rule,
                }
            } else {
                err(key, rule)
            }
        };
        let section = Sections {
            data: v.data.as_ref().unwrap_or(&raw.data),
            split: v.split.as_ref().unwrap_or(&raw.split),
            missing: v.missing.as_ref().unwrap_or(&raw.missing),
            model: v.model.as_ref().unwrap_or(&raw.model),
            training: v.training.as_ref().unwrap_or(&raw.training),
        };
        let variant = named.then(|| v.name.clone());
        runs.extend(variant_runs(
            &section,
            variant,
            &strategies,
            &seeds,
            raw.seed,
            name,
            base,
            path,
            &verr,
        )?);
    }
    Ok(Plan {
        name: name.into(),
        description: raw.description,
        source_path: path.into(),
        runs,
    })
}

type ErrFn<'a> = dyn Fn(&str, String) -> ConfigError + 'a;

/// The sections one variant runs with.
struct Sections<'a> {
    data: &'a crate::config::RawData,
    split: &'a crate::config::RawSplit,
    missing: &'a crate::config::RawMissing,
    model: &'a crate::config::RawModel,
    training: &'a crate::config::RawTraining,
}

#[allow(clippy::too_many_arguments)]
fn variant_runs(
    sec: &Sections,
    variant: Option<String>,
    strategies: &[Strategy],
    seeds: &[u64],
    experiment_seed: u64,
    name: &str,
    base: &Path,
    path: &Path,
    err: &ErrFn,
) -> Result<Vec<PlannedRun>, ConfigError> {
    let data = resolve_data(sec.data, err)?;
    let tasks = task_count(&data, base, path)?;
    let split = resolve_split(sec.split, &data, err)?;
    let hidden = sec.model.hidden.0.clone();
    if hidden.iter().flatten().any(|&h| h == 0) {
        return Err(err(
            "model.hidden",
            "hidden layer sizes must be at least 1".into(),
        ));
    }
    let t = sec.training;
    if t.epochs.0.contains(&0) {
        return Err(err("training.epochs", "epochs must be at least 1".into()));
    }
    if t.batch_size.0.contains(&0) {
        return Err(err(
            "training.batch-size",
            "batch size must be at least 1".into(),
        ));
    }
    if let Some(lr) = t
        .learning_rate
        .0
        .iter()
        .find(|lr| !(lr.is_finite() && **lr > 0.0))
    {
        return Err(err(
            "training.learning-rate",
            format!("learning rate {lr} must be a positive number"),
        ));
    }
    if t.patience == Some(0) {
        return Err(err(
            "training.patience",
            "patience must be at least 1 evaluation".into(),
        ));
    }
    if t.patience.is_some() && t.eval_every == 0 {
        return Err(err(
            "training.patience",
            "early stopping needs dev evaluations: set eval-every >= 1".into(),
        ));
    }
    if t.patience.is_some() && split.dev_fraction == 0.0 {
        return Err(err(
            "training.patience",
            "early stopping needs a dev split: dev-fraction > 0".into(),
        ));
    }
    let missing = resolve_missing(sec.missing, tasks, err)?;

    let mut runs = Vec::new();
    for m in &missing {
        for h in &hidden {
            for &epochs in &t.epochs.0 {
                for &batch_size in &t.batch_size.0 {
                    for &lr in &t.learning_rate.0 {
                        for &strategy in strategies {
                            for &seed in seeds {
                                let spec = RunSpec {
                                    format: RECORD_FORMAT,
                                    experiment: name.into(),
                                    variant: variant.clone(),
                                    experiment_seed,
                                    seed,
                                    data: data.clone(),
                                    split: split.clone(),
                                    missing: m.clone(),
                                    hidden: h.clone(),
                                    training: TrainingSpec {
                                        epochs,
                                        batch_size,
                                        learning_rate: lr,
                                        eval_every: t.eval_every,
                                        patience: t.patience,
                                    },
                                    strategy,
                                };
                                runs.push(PlannedRun {
                                    id: spec.id(),
                                    streams: spec.streams(),
                                    spec,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(runs)
}

fn resolve_data(d: &RawData, err: &ErrFn) -> Result<DataSpec, ConfigError> {
    let allowed: &[&str] = match d.source {
        Source::Toy => &["rows"],
        Source::MbtiGenerated => &[
            "users",
            "posts-per-user",
            "words-per-post",
            "signal",
            "dims",
            "svd-dims",
        ],
        Source::MbtiCsv => &["path", "dims", "svd-dims"],
        Source::Csv => &["path", "label-columns", "label-prefix"],
    };
    let given = [
        ("rows", d.rows.is_some()),
        ("users", d.users.is_some()),
        ("posts-per-user", d.posts_per_user.is_some()),
        ("words-per-post", d.words_per_post.is_some()),
        ("signal", d.signal.is_some()),
        ("path", d.path.is_some()),
        ("label-columns", d.label_columns.is_some()),
        ("label-prefix", d.label_prefix.is_some()),
        ("dims", d.dims.is_some()),
        ("svd-dims", d.svd_dims.is_some()),
    ];
    if let Some((key, _)) = given.iter().find(|(k, g)| *g && !allowed.contains(k)) {
        let source = serde_json::to_string(&d.source).expect("serialises");
        return Err(err(
            &format!("data.{key}"),
            format!(
                "not used with source = {source} (it takes: {})",
                allowed.join(", ")
            ),
        ));
    }
    let positive = |key: &str, v: Option<usize>, default: usize| match v.unwrap_or(default) {
        0 => Err(err(&format!("data.{key}"), "must be at least 1".into())),
        n => Ok(n),
    };
    let path = |d: &RawData| {
        d.path
            .clone()
            .map(PathBuf::from)
            .ok_or_else(|| err("data.path", "this source needs a path".into()))
    };
    Ok(match d.source {
        Source::Toy => DataSpec::Toy {
            rows: positive("rows", d.rows, 100_000)?,
        },
        Source::MbtiGenerated => {
            let signal = d.signal.unwrap_or(0.08);
            if !(0.0..=1.0).contains(&signal) {
                return Err(err(
                    "data.signal",
                    format!("signal {signal} is outside [0, 1]"),
                ));
            }
            DataSpec::MbtiGenerated {
                users: positive("users", d.users, 2000)?,
                posts_per_user: positive("posts-per-user", d.posts_per_user, 50)?,
                words_per_post: positive("words-per-post", d.words_per_post, 12)?,
                signal,
                dims: positive("dims", d.dims, 1024)?,
                svd_dims: d
                    .svd_dims
                    .map(|k| positive("svd-dims", Some(k), 1))
                    .transpose()?,
            }
        }
        Source::MbtiCsv => DataSpec::MbtiCsv {
            path: path(d)?,
            dims: positive("dims", d.dims, 1024)?,
            svd_dims: d
                .svd_dims
                .map(|k| positive("svd-dims", Some(k), 1))
                .transpose()?,
        },
        Source::Csv => {
            if d.label_columns.is_none() == d.label_prefix.is_none() {
                return Err(err(
                    "data.label-columns",
                    "give exactly one of label-columns and label-prefix".into(),
                ));
            }
            DataSpec::Csv {
                path: path(d)?,
                label_columns: d.label_columns.clone(),
                label_prefix: d.label_prefix.clone(),
            }
        }
    })
}

fn resolve_split(
    s: &crate::config::RawSplit,
    data: &DataSpec,
    err: &ErrFn,
) -> Result<SplitSpec, ConfigError> {
    if s.test_rows.is_some() && s.test_fraction.is_some() {
        return Err(err(
            "split.test-rows",
            "give test-rows or test-fraction, not both".into(),
        ));
    }
    let fraction_ok = |key: &str, f: Option<f64>| match f {
        Some(f) if !(0.0..=1.0).contains(&f) => {
            Err(err(key, format!("fraction {f} is outside [0, 1]")))
        }
        _ => Ok(()),
    };
    fraction_ok("split.test-fraction", s.test_fraction)?;
    fraction_ok("split.dev-fraction", s.dev_fraction)?;
    let test_rows = match (s.test_rows, s.test_fraction) {
        (None, None) => Some(3000),
        (rows, _) => rows,
    };
    if let (Some(k), DataSpec::Toy { rows }) = (test_rows, data) {
        if k >= *rows {
            return Err(err(
                "split.test-rows",
                format!("{k} test rows leave none to train on out of {rows}"),
            ));
        }
    }
    Ok(SplitSpec {
        test_rows,
        test_fraction: s.test_fraction,
        dev_fraction: s.dev_fraction.unwrap_or(0.1),
        drop_test: s.drop_test,
    })
}

fn resolve_missing(
    m: &crate::config::RawMissing,
    tasks: usize,
    err: &ErrFn,
) -> Result<Vec<MissingSpec>, ConfigError> {
    let rate_ok = |key: &str, r: f64| {
        if (0.0..=1.0).contains(&r) {
            Ok(())
        } else {
            Err(err(key, format!("rate {r} is outside [0, 1]")))
        }
    };
    if let Some(rates) = &m.rate {
        rates
            .0
            .iter()
            .try_for_each(|&r| rate_ok("missing.rate", r))?;
    }
    if let Some(lists) = &m.task_rates {
        for list in &lists.0 {
            if list.len() != tasks {
                return Err(err(
                    "missing.task-rates",
                    format!("{} rates given for {tasks} tasks", list.len()),
                ));
            }
            list.iter()
                .try_for_each(|&r| rate_ok("missing.task-rates", r))?;
        }
    }
    if m.rate.is_some() && m.task_rates.is_some() {
        return Err(err(
            "missing.task-rates",
            "give rate or task-rates, not both".into(),
        ));
    }
    if let Some(skews) = &m.mnar_skew {
        if let Some(s) = skews.0.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(err(
                "missing.mnar-skew",
                format!("skew {s} must be a positive number"),
            ));
        }
    }
    let mut out = Vec::new();
    for &mechanism in &m.mechanism.0 {
        let uses_task_rates = matches!(mechanism, MechanismKind::Mcar | MechanismKind::Prefix);
        if m.task_rates.is_some() && !uses_task_rates {
            return Err(err(
                "missing.task-rates",
                format!(
                    "{mechanism:?} takes one overall rate; per-task rates are for mcar and prefix"
                )
                .to_lowercase(),
            ));
        }
        let skews: Vec<Option<f64>> = match (mechanism, &m.mnar_skew) {
            (MechanismKind::Mnar, Some(s)) => s.0.iter().map(|&v| Some(v)).collect(),
            (MechanismKind::Mnar, None) => vec![Some(3.0)],
            _ => vec![None],
        };
        let rate_settings: Vec<(Option<f64>, Option<Vec<f64>>)> = match (&m.rate, &m.task_rates) {
            (_, Some(lists)) => lists.0.iter().map(|l| (None, Some(l.clone()))).collect(),
            (Some(rates), None) => rates.0.iter().map(|&r| (Some(r), None)).collect(),
            (None, None) => vec![(Some(0.0), None)],
        };
        for (rate, task_rates) in &rate_settings {
            for skew in &skews {
                out.push(MissingSpec {
                    mechanism,
                    rate: *rate,
                    task_rates: task_rates.clone(),
                    mnar_skew: *skew,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Result<Plan, ConfigError> {
        let raw: RawExperiment = toml::from_str(text).unwrap();
        validate(raw, "t", Path::new("t.toml"), text)
    }

    const BASE: &str = "seeds = 2\nstrategies = [\"masked\", \"plain\"]\n[data]\nsource = \"toy\"\nrows = 100\n[split]\ntest-rows = 10\n[missing]\nrate = [0.1, 0.2, 0.3]\n";

    #[test]
    fn the_grid_is_the_product_of_the_axes_with_documented_defaults() {
        let p = plan(BASE).unwrap();
        assert_eq!(p.runs.len(), 2 * 2 * 3);
        let s = &p.runs[0].spec;
        assert_eq!(s.hidden, vec![10, 40, 30]);
        assert_eq!(
            (
                s.training.epochs,
                s.training.batch_size,
                s.training.learning_rate
            ),
            (2000, 5000, 1e-3)
        );
        assert_eq!(s.split.dev_fraction, 0.1);
        let ids: std::collections::HashSet<_> = p.runs.iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids.len(), 12, "run ids are unique");
        assert_eq!(plan(BASE).unwrap().runs[5].id, p.runs[5].id, "and stable");
    }

    #[test]
    fn strategies_share_data_drops_and_init_but_seeds_do_not() {
        let p = plan(BASE).unwrap();
        let find = |strategy: Strategy, seed: u64, rate: f64| {
            p.runs
                .iter()
                .find(|r| {
                    r.spec.strategy == strategy
                        && r.spec.seed == seed
                        && r.spec.missing.rate == Some(rate)
                })
                .unwrap()
                .streams
        };
        let (a, b) = (
            find(Strategy::Masked, 0, 0.1),
            find(Strategy::Plain, 0, 0.1),
        );
        assert_eq!(a, b);
        let c = find(Strategy::Masked, 1, 0.1);
        assert!(
            a.data != c.data && a.drops != c.drops && a.init != c.init && a.batches != c.batches
        );
        let d = find(Strategy::Masked, 0, 0.2);
        assert_eq!((a.data, a.split, a.init), (d.data, d.split, d.init));
        assert_ne!(a.drops, d.drops);
    }

    #[test]
    fn per_task_rates_must_match_the_tasks_and_mechanism() {
        let text = BASE.replace("rate = [0.1, 0.2, 0.3]", "task-rates = [0.1, 0.2]");
        assert_eq!(plan(&text).unwrap_err().rule, "2 rates given for 3 tasks");
        let text = BASE.replace(
            "rate = [0.1, 0.2, 0.3]",
            "mechanism = \"block\"\ntask-rates = [0.1, 0.2, 0.3]",
        );
        assert!(plan(&text)
            .unwrap_err()
            .rule
            .contains("per-task rates are for mcar and prefix"));
        let text = BASE.replace(
            "rate = [0.1, 0.2, 0.3]",
            "task-rates = [[0.1, 0.2, 0.3], [0.0, 0.0, 0.5]]",
        );
        assert_eq!(plan(&text).unwrap().runs.len(), 2 * 2 * 2);
    }

    #[test]
    fn keys_that_do_not_fit_the_source_are_refused() {
        let text = BASE.replace("rows = 100", "rows = 100\nusers = 5");
        let e = plan(&text).unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("data.users", Some(6)));
        assert!(e.rule.starts_with("not used with source = \"toy\""));
        let e = plan(&BASE.replace("test-rows = 10", "test-rows = 100")).unwrap_err();
        assert_eq!(e.rule, "100 test rows leave none to train on out of 100");
    }
}
