//! `report`: what a user opens after a sweep.
//!
//! [`report()`] reads the files the runner wrote in an experiment's results folder (it does
//! not link `nn` or `runner`), and writes beside them:
//! * `runs.parquet`: one row per run × target × task × metric;
//! * `summary.csv` and `summary.parquet`: mean, std, n and a 95% Student-t interval over
//!   seeds, grouped by every other axis (undefined metrics skipped and counted);
//! * PNG figures ([`figures`]) and `REPORT.md`.
//!
//! ```no_run
//! let written = report::report("results/drop_rates".as_ref(), &Default::default())?;
//! println!("{} figures", written.figures.len());
//! # Ok::<(), report::ReportError>(())
//! ```

mod ensemble;
mod error;
pub mod figures;
mod markdown;
pub mod records;
pub mod stats;
pub mod tables;

pub use error::ReportError;

use records::{read_results, Run};
use std::path::{Path, PathBuf};
use tables::{summary_frame, write_frame, Summary};

/// What a report wrote.
#[derive(Debug)]
pub struct Written {
    pub figures: Vec<PathBuf>,
    pub report: PathBuf,
    pub runs: usize,
}

/// The drop setting as a reader names it ([`record::spec::MissingSpec::setting_phrase`]).
fn setting_phrase(run: &Run, tasks: &[String], target: &str) -> String {
    run.spec.missing.setting_phrase(tasks, target == "truth")
}

/// Per task, the mean over `runs` of `f(share of positives among the scored test labels)`.
fn mean_positive_share(runs: &[&Run], tasks: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
    (0..tasks)
        .map(|t| {
            let shares: Vec<f64> = runs
                .iter()
                .filter_map(|r| {
                    let task = r.metrics.headline().tasks.get(t)?;
                    let (n, p) = (task.n as f64, task.n_positive as f64);
                    (n > 0.0).then(|| f(p / n))
                })
                .collect();
            shares.iter().sum::<f64>() / shares.len().max(1) as f64
        })
        .collect()
}

/// Writes the tables, figures and `REPORT.md` of the results folder `dir`.
///
/// `writer` is the program writing the report, which `REPORT.md` names beside the sweeps'
/// own provenance (a report can be rewritten by a later masklab from the same records).
pub fn report(dir: &Path, writer: &record::sweep::Provenance) -> Result<Written, ReportError> {
    let results = read_results(dir)?;
    let rows = results.table.summarise();
    results.table.write_parquet(&dir.join("runs.parquet"))?;
    let summary = summary_frame(&rows)?;
    write_frame(&summary, &dir.join("summary.csv"))?;
    write_frame(&summary, &dir.join("summary.parquet"))?;
    let target = figures::target_of(&rows);
    let tasks = results.task_names();

    let mut figures: Vec<(String, String)> = Vec::new();
    for facts in &results.variants {
        let variant = &facts.name;
        // A file name: a setting group's name (`wide · hidden [64,32]`) in plain characters.
        let suffix = if variant.is_empty() {
            String::new()
        } else {
            let plain: String = variant
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            format!(
                "_{}",
                plain
                    .split('_')
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join("_")
            )
        };
        let label = if variant.is_empty() {
            results.experiment.clone()
        } else {
            format!("{} · {variant}", results.experiment)
        };
        let runs: Vec<&Run> = results
            .kept
            .iter()
            .filter(|r| &r.axes.variant == variant)
            .collect();
        let seeds = &facts.seeds;
        let vrows: Vec<Summary> = rows
            .iter()
            .filter(|r| &r.variant == variant)
            .cloned()
            .collect();
        let rates = &facts.rates;
        if rates.len() > 1 {
            let file = format!("metric_vs_drop_rate{suffix}.png");
            figures::atomic(&dir.join(&file), |p| {
                figures::metric_vs_drop_rate(
                    &vrows,
                    &tasks,
                    &format!("{label} ({} seeds)", seeds.len()),
                    p,
                )
            })?;
            figures.push((
                file,
                format!("{label}: accuracy and ROC-AUC against the drop rate"),
            ));
        }
        let Some(shown) = results.shown.setting(variant) else {
            continue;
        };
        let (rate, mechanism) = (shown.rate, shown.mechanism.clone());
        let at_rate: Vec<&Run> = runs
            .iter()
            .copied()
            .filter(|r| results.shown.at_setting(&r.spec))
            .collect();
        // The setting as a reader names it: `mcar drops of 50%`, `prefix drops of y0 2.06%`.
        let setting = at_rate
            .first()
            .map(|r| setting_phrase(r, &tasks, target))
            .unwrap_or_default();
        let first_seed = shown.seed;
        let one_seed: Vec<&Run> = at_rate
            .iter()
            .copied()
            .filter(|r| results.shown.draws_boundary(&r.spec))
            .collect();
        if one_seed.iter().any(|r| r.boundary.is_some()) {
            let file = format!("boundaries{suffix}.png");
            let subtitle = format!(
                "predicted P(y=1) over the unit square, true rule in black; {setting}, seed {first_seed}"
            );
            figures::atomic(&dir.join(&file), |p| {
                figures::boundaries(
                    &one_seed,
                    &format!("{label}: decision boundaries"),
                    &subtitle,
                    p,
                )
            })?;
            figures.push((
                file,
                format!("{label}: decision boundaries with {setting} (seed {first_seed})"),
            ));
        }
        if at_rate.iter().any(|r| !r.history.is_empty()) {
            let file = format!("training_curves{suffix}.png");
            let title = format!(
                "{label}: training curves, {setting} ({} seeds)",
                seeds.len()
            );
            figures::atomic(&dir.join(&file), |p| {
                figures::training_curves(&at_rate, &title, p)
            })?;
            figures.push((
                file,
                format!("{label}: training and dev loss per epoch with {setting}"),
            ));
        }
        if runs.iter().any(|r| r.spec.data.is_text()) {
            let file = format!("text_axes{suffix}.png");
            let majority = mean_positive_share(&at_rate, tasks.len(), |p| p.max(1.0 - p));
            let title = format!(
                "{label}: personality axes, {setting} ({} seeds)",
                seeds.len()
            );
            let at_setting: Vec<Summary> = vrows
                .iter()
                .filter(|r| r.rate == rate && r.mechanism == mechanism)
                .cloned()
                .collect();
            let panels = [
                figures::Panel {
                    metric: "accuracy",
                    name: "accuracy",
                    baseline: majority,
                },
                figures::Panel {
                    metric: "balanced_accuracy",
                    name: "balanced accuracy",
                    baseline: vec![0.5; tasks.len()],
                },
                figures::Panel {
                    metric: "auc",
                    name: "ROC-AUC",
                    baseline: vec![0.5; tasks.len()],
                },
            ];
            let layout = figures::Layout {
                grid: (1, 3),
                size: (1700, 620),
                title: &title,
                subtitle: "per axis on the test split, mean over seeds with 95% CI; grey: the majority-class baseline",
                baseline_name: "majority class",
            };
            figures::atomic(&dir.join(&file), |p| {
                figures::task_bars(&at_setting, &tasks, &panels, &layout, p)
            })?;
            figures.push((
                file,
                format!("{label}: per-axis metrics beside the majority-class baseline"),
            ));
        }
        if runs
            .iter()
            .any(|r| matches!(r.spec.data, record::spec::DataSpec::SmilesCsv { .. }))
        {
            // Per assay, with the labels as measured (the lowest extra drop rate).
            let lowest = facts.lowest_rate;
            let at_lowest: Vec<&Run> = runs
                .iter()
                .copied()
                .filter(|r| r.axes.rate == lowest)
                .collect();
            let setting = at_lowest
                .first()
                .map(|r| setting_phrase(r, &tasks, target))
                .unwrap_or_default();
            let file = format!("assays{suffix}.png");
            let positives = mean_positive_share(&at_lowest, tasks.len(), |p| p);
            let many = tasks.len() > figures::MANY_TASKS;
            let title = if many {
                format!(
                    "{label}: ROC-AUC and PR-AUC of the {} assays, {setting} ({} seeds)",
                    tasks.len(),
                    seeds.len()
                )
            } else {
                format!(
                    "{label}: ROC-AUC and PR-AUC per assay, {setting} ({} seeds)",
                    seeds.len()
                )
            };
            let at_setting: Vec<Summary> =
                vrows.iter().filter(|r| r.rate == lowest).cloned().collect();
            let panels = [
                figures::Panel {
                    metric: "auc",
                    name: "ROC-AUC (grey: chance, 0.5)",
                    baseline: vec![0.5; tasks.len()],
                },
                figures::Panel {
                    metric: "pr_auc",
                    name: "PR-AUC (grey: chance, the share of positives)",
                    baseline: positives,
                },
            ];
            if many {
                let layout = figures::Layout {
                    grid: (2, 1),
                    size: (1900, 1200),
                    title: &title,
                    subtitle: "each point an assay's mean over seeds on its measured test labels; box: quartiles and median, whiskers: extremes; grey line: chance (median over assays)",
                    baseline_name: "chance",
                };
                let skipped: Vec<(String, String)> = results
                    .not_applicable
                    .iter()
                    .filter(|((v, _, r, _), (_, runs))| {
                        v == variant && *r == lowest.to_bits() && *runs >= seeds.len()
                    })
                    .map(|((_, _, _, s), (why, _))| (s.clone(), why.clone()))
                    .collect();
                figures::atomic(&dir.join(&file), |p| {
                    figures::task_spread(&at_setting, &tasks, &panels, &layout, &skipped, p)
                })?;
                figures.push((
                    file,
                    format!("{label}: the spread of per-assay ROC-AUC and PR-AUC by strategy"),
                ));
            } else {
                let layout = figures::Layout {
                    grid: (2, 1),
                    size: (1900, 1000),
                    title: &title,
                    subtitle: "on the measured test labels only, mean over seeds with 95% CI",
                    baseline_name: "chance",
                };
                figures::atomic(&dir.join(&file), |p| {
                    figures::task_bars(&at_setting, &tasks, &panels, &layout, p)
                })?;
                figures.push((
                    file,
                    format!("{label}: ROC-AUC and PR-AUC per assay by strategy"),
                ));
            }
        }
    }
    let text = markdown::report(&results, &rows, &figures, target, writer);
    let report_path = dir.join("REPORT.md");
    record::io::write_atomic(&report_path, |w| w.write_all(text.as_bytes()))?;
    for m in &results.passed_over_manifests {
        eprintln!("warning: passed over an earlier sweep's manifest: {m}");
    }
    for damaged in &results.damaged {
        eprintln!("warning: {damaged} (left out of the report; the next sweep runs it again)");
    }
    Ok(Written {
        figures: figures.into_iter().map(|(f, _)| dir.join(f)).collect(),
        report: report_path,
        runs: results.done,
    })
}
