//! Reading what the runner wrote, through the record types both share ([`record`]):
//! `grid.json` names the experiment's current runs, the run logs hold their records
//! ([`record::log`]), and `boundaries/` the grids a figure draws.
//!
//! The logs are read by the one rule of which line counts ([`record::runs`]), streaming:
//! every successful run's metrics go into the
//! tidy table ([`TidyTable`], compact) and are dropped; only the runs a figure draws on
//! their own ([`Results::kept`]: at their variant's shown setting, or at its lowest drop
//! rate) are kept whole. A damaged line or boundary grid is listed in the report, never
//! read as a default; its run counts as missing until a sweep writes it again.

use crate::error::ReportError;
use crate::tables::TidyTable;
use record::io::read_json;
use record::outcome::{files, BoundaryRecord, Outcome, RunMetrics};
use record::runs::read_counted;
use record::shown::Shown;
use record::spec::RunSpec;
use record::sweep::{GridRecord, Manifest};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

pub use record::outcome::Epoch;

/// One finished run that a figure draws on its own.
#[derive(Clone, Debug)]
pub struct Run {
    pub id: String,
    pub spec: RunSpec,
    pub axes: Axes,
    pub metrics: RunMetrics,
    pub history: Vec<Epoch>,
    /// For the runs whose decision boundaries are drawn; `None` when its grid is damaged.
    pub boundary: Option<BoundaryRecord>,
}

/// The settings runs differ in; grouping over everything but `seed` aggregates over seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Axes {
    pub variant: String,
    pub strategy: String,
    pub seed: u64,
    /// The mechanism as a reader names it (`mnar (skew 3)`).
    pub mechanism: String,
    /// The nominal drop rate: the one rate, or the mean of the per-task rates.
    pub rate: f64,
    pub hidden: String,
    pub epochs: u64,
    pub batch_size: u64,
    pub learning_rate: f64,
}

impl Axes {
    /// A run's axes; `group` is its setting group's name ([`record::groups`]), which tables
    /// and figures call its variant.
    pub fn of(spec: &RunSpec, group: String) -> Axes {
        Axes {
            variant: group,
            strategy: spec.strategy.name().to_string(),
            seed: spec.seed,
            mechanism: spec.missing.mechanism_label(),
            rate: spec.missing.nominal_rate(),
            hidden: format!("{:?}", spec.hidden).replace(' ', ""),
            epochs: spec.training.epochs as u64,
            batch_size: spec.training.batch_size as u64,
            learning_rate: spec.training.learning_rate,
        }
    }
}

/// What the report knows of one variant's successful runs.
#[derive(Clone, Debug, Default)]
pub struct Variant {
    pub name: String,
    pub seeds: BTreeSet<u64>,
    /// Drop rates with a successful run, ascending.
    pub rates: Vec<f64>,
    /// The grid's lowest drop rate for this variant (the per-assay figure's setting).
    pub lowest_rate: f64,
}

/// A drop setting in words.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingWords {
    /// As figures and findings name it ([`record::spec::MissingSpec::setting_phrase`]).
    pub phrase: String,
    /// Where rates are given per task, the table's rate cell (`prefix drops of y0 2.06%`).
    pub per_task: Option<String>,
}

/// Everything in a results folder.
pub struct Results {
    pub dir: PathBuf,
    pub experiment: String,
    pub description: String,
    /// Every successful run of the current grid, as table rows.
    pub table: TidyTable,
    /// Successful runs a figure draws on their own, in grid order.
    pub kept: Vec<Run>,
    /// The setting each variant's single-setting figures show.
    pub shown: Shown,
    /// Variants in grid order.
    pub variants: Vec<Variant>,
    /// Runs of the grid with a successful record.
    pub done: usize,
    /// Runs of the grid whose records are all failures, with the last reason.
    pub failed: Vec<(String, String)>,
    /// Runs of the grid with no record yet.
    pub missing: usize,
    /// Records that exist but could not be read, with the error (the run is rerun by the
    /// next sweep).
    pub damaged: Vec<String>,
    pub manifests: Vec<Manifest>,
    /// Manifests of an older format or of an earlier sweep with another shard count, each
    /// as `file: why` (a warning, never a failure).
    pub passed_over_manifests: Vec<String>,
    pub experiment_toml: Option<String>,
    /// The task names, as the first successful run's metrics list them (the truth where
    /// known).
    pub tasks: Vec<String>,
    /// Each drop setting in words, by (variant, mechanism, nominal rate bits).
    pub rate_descriptions: HashMap<(String, String, u64), SettingWords>,
    /// Why a strategy did not apply at a setting (`0 complete rows`) and in how many of its
    /// runs (seeds), by (variant, mechanism, nominal rate bits, strategy): such runs are
    /// reported as not applicable, never scored.
    pub not_applicable: HashMap<(String, String, u64, String), (String, usize)>,
}

impl Results {
    pub fn task_names(&self) -> Vec<String> {
        self.tasks.clone()
    }

    /// Seeds with a successful run, over all variants.
    pub fn seeds(&self) -> BTreeSet<u64> {
        self.variants
            .iter()
            .flat_map(|v| v.seeds.iter().copied())
            .collect()
    }
}

/// Reads a results folder.
pub fn read_results(dir: &Path) -> Result<Results, ReportError> {
    let grid: GridRecord = read_json(&dir.join("grid.json"))?;
    let shown = Shown::of(grid.runs.iter().map(|e| &e.spec));
    let index: HashMap<&str, usize> = grid
        .runs
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    let mut variants: Vec<Variant> = Vec::new();
    for e in &grid.runs {
        let name = shown.group(&e.spec);
        let rate = e.spec.missing.nominal_rate();
        match variants.iter_mut().find(|v| v.name == name) {
            Some(v) => v.lowest_rate = v.lowest_rate.min(rate),
            None => variants.push(Variant {
                name,
                lowest_rate: rate,
                ..Default::default()
            }),
        }
    }
    // 0: no record, 1: success, 2: failures only.
    let mut state = vec![0u8; grid.runs.len()];
    let mut reasons: HashMap<usize, String> = HashMap::new();
    let mut table = TidyTable::default();
    let mut kept: Vec<(usize, Run)> = Vec::new();
    let mut tasks: Vec<String> = Vec::new();
    let mut rate_descriptions = HashMap::new();
    let mut not_applicable = HashMap::new();
    let expected: HashMap<&str, record::spec::Streams> = grid
        .runs
        .iter()
        .map(|e| (e.id.as_str(), record::seeds::streams(&e.spec)))
        .collect();
    // One line per run of the grid: the one that counts (record::runs).
    let scan = read_counted(
        dir,
        |id| expected.get(id).copied(),
        |record| {
            let Some(&i) = index.get(record.id.as_str()) else {
                return;
            };
            let spec = &grid.runs[i].spec;
            let metrics = match record.outcome {
                Outcome::Failed { reason } => {
                    state[i] = 2;
                    reasons.insert(i, reason);
                    return;
                }
                Outcome::Ok { metrics } => *metrics,
            };
            state[i] = 1;
            let axes = Axes::of(spec, shown.group(spec));
            table.push_run(i, &record.id, &axes, &metrics);
            if tasks.is_empty() {
                tasks = metrics
                    .headline()
                    .tasks
                    .iter()
                    .map(|t| t.task.clone())
                    .collect();
            }
            let mut at_lowest = false;
            if let Some(v) = variants.iter_mut().find(|v| v.name == axes.variant) {
                v.seeds.insert(axes.seed);
                if !v.rates.contains(&axes.rate) {
                    v.rates.push(axes.rate);
                }
                at_lowest = axes.rate == v.lowest_rate;
            }
            let key = (
                axes.variant.clone(),
                axes.mechanism.clone(),
                axes.rate.to_bits(),
            );
            if let Some(reason) = &metrics.not_applicable {
                let (v, m, r) = key.clone();
                let entry = not_applicable
                    .entry((v, m, r, axes.strategy.clone()))
                    .or_insert((reason.clone(), 0));
                entry.1 += 1;
            }
            rate_descriptions.entry(key).or_insert_with(|| {
                let names: Vec<String> = metrics
                    .headline()
                    .tasks
                    .iter()
                    .map(|t| t.task.clone())
                    .collect();
                SettingWords {
                    phrase: spec.missing.setting_phrase(&names, metrics.truth.is_some()),
                    per_task: spec
                        .missing
                        .task_rates
                        .is_some()
                        .then(|| spec.missing.describe(&names)),
                }
            });
            if shown.at_setting(spec) || at_lowest {
                kept.push((
                    i,
                    Run {
                        id: record.id,
                        spec: spec.clone(),
                        axes,
                        metrics,
                        history: record.history,
                        boundary: None,
                    },
                ));
            }
        },
    )?;
    for v in &mut variants {
        v.rates.sort_by(f64::total_cmp);
    }
    let mut damaged: Vec<String> = scan
        .damaged_logs
        .iter()
        .map(|(log, why)| {
            format!(
                "{}: damaged log ({why}): none of its lines counts; the next sweep sets it aside and reruns its runs",
                log.path.display()
            )
        })
        .collect();
    damaged.extend(scan.damaged.iter().map(|e| e.to_string()));
    kept.sort_by_key(|(i, _)| *i);
    let mut kept: Vec<Run> = kept.into_iter().map(|(_, r)| r).collect();
    for run in kept.iter_mut().filter(|r| shown.draws_boundary(&r.spec)) {
        let path = dir.join(files::BOUNDARIES).join(format!("{}.json", run.id));
        match read_json::<BoundaryRecord>(&path) {
            Ok(b) if b.id == run.id => run.boundary = Some(b),
            Ok(b) => damaged.push(format!(
                "{}: id: `{}` for run `{}`",
                path.display(),
                b.id,
                run.id
            )),
            Err(e) => damaged.push(e.to_string()),
        }
    }
    let failed = (0..grid.runs.len())
        .filter(|&i| state[i] == 2)
        .map(|i| {
            (
                grid.runs[i].id.clone(),
                reasons.remove(&i).unwrap_or_default(),
            )
        })
        .collect();
    let mut results = Results {
        dir: dir.into(),
        experiment: grid.experiment,
        description: grid.description,
        table,
        kept,
        shown,
        variants,
        done: state.iter().filter(|&&s| s == 1).count(),
        failed,
        missing: state.iter().filter(|&&s| s == 0).count(),
        damaged,
        manifests: Vec::new(),
        passed_over_manifests: Vec::new(),
        experiment_toml: std::fs::read_to_string(dir.join("experiment.toml")).ok(),
        tasks,
        rate_descriptions,
        not_applicable,
    };
    let manifests = record::sweep::read_manifests(dir)?;
    results.manifests = manifests.current;
    results.passed_over_manifests = manifests.passed_over;
    if results.done == 0 {
        return Err(ReportError::NoRuns { dir: dir.into() });
    }
    Ok(results)
}
