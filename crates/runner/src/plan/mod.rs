//! Experiment files, stage two: validation into the grid of fully resolved runs.
//!
//! Every rule is checked for the whole grid before anything runs or is written:
//! `resolve` resolves and checks each section, `options` the strategies' parameters,
//! `grid` forms the product of the axes and each run's id and stream seeds, `lines`
//! finds where a key is written. Each run's random
//! streams are derived from the experiment seed and the parts of the run's settings each
//! stream depends on, so no result depends on thread count or run order.

mod grid;
mod lines;
mod options;
mod resolve;

use crate::config::{RawExperiment, RawVariant, Seeds};
use crate::error::ConfigError;
use record::spec::{
    DataSpec, MechanismKind, MissingSpec, RunSpec, SplitMethod, Streams, TrainingSpec,
};
use record::Strategy;
use resolve::{no_repeats, ErrFn};
use std::path::{Path, PathBuf};

pub use grid::{run_id, streams};

/// A run of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedRun {
    /// Hash of the resolved settings: the run's folder name.
    pub id: String,
    pub spec: RunSpec,
    pub streams: Streams,
    /// Whether the run keeps its decision-boundary grid: a report draws it
    /// ([`record::shown::Shown::draws_boundary`], decided over the whole grid).
    pub keeps_boundary: bool,
}

/// A validated experiment.
#[derive(Clone, Debug)]
pub struct Plan {
    pub name: String,
    pub description: String,
    pub source_path: PathBuf,
    pub runs: Vec<PlannedRun>,
}

/// Names that become file and folder names: `[A-Za-z0-9._-]+`, not `.` or `..`.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Reads and validates an experiment file into its plan.
pub fn load_plan(path: &Path) -> Result<Plan, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.into(),
        key: "(file)".into(),
        line: None,
        rule: format!("cannot read: {e}"),
    })?;
    let raw: RawExperiment =
        toml::from_str(&text).map_err(|e| lines::parse_error(path, &text, &e))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    validate(raw, &name, path, &text)
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
        line: lines::line_of(text, key),
        rule,
    };
    if !is_safe_name(name) {
        return Err(err(
            "(file name)",
            format!("the experiment's name `{name}` (the file name without .toml) names its results folder: use letters, digits, `.`, `_` and `-`, not `.` or `..`"),
        ));
    }
    let base = path.parent().unwrap_or(Path::new("."));

    let seeds: Vec<u64> = match raw.seeds {
        Seeds::Count(0) => return Err(err("seeds", "at least one seed is needed".into())),
        Seeds::Count(n) => (0..n).collect(),
        Seeds::List(v) if v.is_empty() => {
            return Err(err("seeds", "an empty list sweeps over nothing".into()))
        }
        Seeds::List(v) => v,
    };
    no_repeats("seeds", &seeds, resolve::plain, &err)?;
    let strategies = raw.strategies.0.clone();
    no_repeats("strategies", &strategies, |s| s.name().into(), &err)?;
    let options = options::resolve(&raw.strategy_options, &strategies, &err)?;
    let named = !raw.variants.is_empty();
    let variants: Vec<RawVariant> = if named {
        raw.variants.clone()
    } else {
        vec![RawVariant {
            name: String::new(),
            data: None,
            split: None,
            missing: None,
            model: None,
            training: None,
        }]
    };
    let mut names = std::collections::HashSet::new();
    let mut runs = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        if named && !is_safe_name(&v.name) {
            return Err(ConfigError {
                path: path.into(),
                key: format!("variants[{}].name", i + 1),
                line: None,
                rule: format!(
                    "`{}` names files: use letters, digits, `.`, `_` and `-`, not `.` or `..`",
                    v.name
                ),
            });
        }
        if named && !names.insert(v.name.clone()) {
            return Err(ConfigError {
                path: path.into(),
                key: format!("variants[{}].name", i + 1),
                line: None,
                rule: format!("variant name `{}` is used twice", v.name),
            });
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
        let common = Common {
            variant: named.then(|| v.name.clone()),
            strategies: &strategies,
            options: &options,
            seeds: &seeds,
            experiment_seed: raw.seed,
            name,
            base,
        };
        runs.extend(variant_runs(&section, &common, &verr)?);
    }
    // A safety net under the per-axis checks: no run is planned (and counted) twice.
    let mut ids = std::collections::HashSet::new();
    if let Some(dup) = runs.iter().find(|r| !ids.insert(r.id.clone())) {
        return Err(err(
            "variants",
            format!(
                "run {} is planned twice: two variants resolve to the same settings",
                dup.id
            ),
        ));
    }
    let shown = record::shown::Shown::of(runs.iter().map(|r| &r.spec));
    let runs: Vec<PlannedRun> = runs
        .into_iter()
        .map(|r| PlannedRun {
            keeps_boundary: shown.draws_boundary(&r.spec),
            ..r
        })
        .collect();
    Ok(Plan {
        name: name.into(),
        description: raw.description,
        source_path: path.into(),
        runs,
    })
}

/// The sections one variant runs with.
struct Sections<'a> {
    data: &'a crate::config::RawData,
    split: &'a crate::config::RawSplit,
    missing: &'a crate::config::RawMissing,
    model: &'a crate::config::RawModel,
    training: &'a crate::config::RawTraining,
}

/// What every variant shares.
struct Common<'a> {
    variant: Option<String>,
    strategies: &'a [Strategy],
    options: &'a options::StrategyOptions,
    seeds: &'a [u64],
    experiment_seed: u64,
    name: &'a str,
    base: &'a Path,
}

fn variant_runs(sec: &Sections, c: &Common, err: &ErrFn) -> Result<Vec<PlannedRun>, ConfigError> {
    let split_column = (sec.split.method == SplitMethod::Column)
        .then(|| sec.split.column.as_deref().unwrap_or("split"));
    let (data, facts) = resolve::data(sec.data, c.base, split_column, err)?;
    let split = resolve::split(sec.split, &data, &facts, err)?;
    resolve::hidden(&sec.model.hidden, err)?;
    let t = sec.training;
    let has_dev = match &split.column {
        Some(c) => !c.dev.is_empty(),
        None => split.dev_fraction > 0.0,
    };
    resolve::training(t, has_dev, c.strategies, err)?;
    let missing = resolve::missing(sec.missing, facts.tasks, err)?;
    check_mnar_reachable(&missing, &data, c, err)?;

    let mut runs = Vec::new();
    let training = training_settings(t);
    for m in &missing {
        for h in &sec.model.hidden.0 {
            for training in &training {
                for &strategy in c.strategies {
                    for &seed in c.seeds {
                        runs.push(grid::planned(RunSpec {
                            format: record::FORMAT,
                            experiment: c.name.into(),
                            variant: c.variant.clone(),
                            experiment_seed: c.experiment_seed,
                            seed,
                            data: data.clone(),
                            split: split.clone(),
                            missing: m.clone(),
                            hidden: h.clone(),
                            training: training.clone(),
                            strategy,
                            params: c.options.params(strategy),
                        }));
                    }
                }
            }
        }
    }
    Ok(runs)
}

/// The product of the training axes, in the order the grid has always had them (epochs,
/// then batch size, then learning rate, then dropout, then weight decay).
fn training_settings(t: &crate::config::RawTraining) -> Vec<TrainingSpec> {
    let mut out = Vec::new();
    for &epochs in &t.epochs.0 {
        for &batch_size in &t.batch_size.0 {
            for &learning_rate in &t.learning_rate.0 {
                for &dropout in &t.dropout.0 {
                    for &weight_decay in &t.weight_decay.0 {
                        out.push(TrainingSpec {
                            epochs,
                            batch_size,
                            learning_rate,
                            eval_every: t.eval_every,
                            patience: t.patience,
                            pos_weight: t.pos_weight,
                            dropout,
                            weight_decay,
                            select_by: t.select_by,
                            ensemble: t.ensemble,
                        });
                    }
                }
            }
        }
    }
    out
}

/// An overall MNAR rate the skew cannot reach (a drop probability would pass 1) is a
/// configuration error. The prevalences are those of the data as the first seed makes it;
/// a run whose rows differ enough to miss the bound fails with the same reason.
fn check_mnar_reachable(
    missing: &[MissingSpec],
    data: &DataSpec,
    c: &Common,
    err: &ErrFn,
) -> Result<(), ConfigError> {
    let mnar: Vec<&MissingSpec> = missing
        .iter()
        .filter(|m| m.mechanism == MechanismKind::Mnar)
        .collect();
    if mnar.is_empty() {
        return Ok(());
    }
    let seed = grid::data_stream(c.experiment_seed, data, c.seeds[0]);
    let base = crate::data::build(data, seed, c.base).map_err(|e| err("data", e.to_string()))?;
    let Some(prevalence) = base.prevalence() else {
        return Err(err(
            "missing.mechanism",
            "mnar drops depend on the true labels, which this data set lacks".into(),
        ));
    };
    for m in mnar {
        let (rate, skew) = (m.rate.unwrap_or(0.0), m.mnar_skew.unwrap_or(3.0));
        let reachable = datagen::mnar_reachable_rate(&prevalence, skew);
        if rate > reachable {
            return Err(err(
                "missing.rate",
                format!("an overall mnar drop rate of {rate} cannot be reached at skew {skew}: with these labels' prevalences the highest reachable rate is {reachable:.4}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::RawExperiment;

    fn plan(text: &str) -> Result<Plan, ConfigError> {
        let raw: RawExperiment = toml::from_str(text).unwrap();
        validate(raw, "t", Path::new("t.toml"), text)
    }

    const BASE: &str = "seeds = 2\nstrategies = [\"masked\", \"plain\"]\n[data]\nsource = \"toy\"\nrows = 100\n[split]\ntest-rows = 10\n[missing]\nrate = [0.1, 0.2, 0.3]\n";

    #[test]
    fn strategy_options_reach_their_strategys_runs_and_change_only_their_ids() {
        let both = BASE.replace("\"plain\"]", "\"epr\"]");
        let default = plan(&both).unwrap();
        let set = plan(&format!(
            "{both}[strategy-options]\nepr = {{ lambda = 2.0 }}\n"
        ))
        .unwrap();
        use record::strategy::StrategyParams;
        for (a, b) in default.runs.iter().zip(&set.runs) {
            match a.spec.strategy {
                Strategy::Epr => {
                    assert_eq!(a.spec.params, Some(StrategyParams::Epr { lambda: 1.0 }));
                    assert_eq!(b.spec.params, Some(StrategyParams::Epr { lambda: 2.0 }));
                    assert_ne!(a.id, b.id);
                    // Same data, drops, initialisation and batches: only the objective differs.
                    assert_eq!(a.streams, b.streams);
                }
                _ => {
                    assert_eq!((a.spec.params, b.spec.params), (None, None));
                    assert_eq!(a.id, b.id);
                }
            }
        }
    }

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
        assert_eq!(
            e.rule,
            "leaves no rows to train on: of 100 rows, 100 test and 0 dev"
        );
    }
}
