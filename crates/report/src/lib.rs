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
//! let written = report::report("results/drop_rates".as_ref())?;
//! println!("{} figures", written.figures.len());
//! # Ok::<(), report::ReportError>(())
//! ```

mod error;
pub mod figures;
mod markdown;
pub mod records;
pub mod stats;
pub mod tables;

pub use error::ReportError;

use records::{read_results, Run};
use std::path::{Path, PathBuf};
use tables::{summarise, summary_rows, tidy, write_frame, Summary};

/// What a report wrote.
#[derive(Debug)]
pub struct Written {
    pub figures: Vec<PathBuf>,
    pub report: PathBuf,
    pub runs: usize,
}

/// The setting figures of one drop rate show: the rate closest to 0.5 (the larger on a tie).
fn representative_rate(rates: &[f64]) -> f64 {
    rates.iter().copied().fold(f64::NAN, |best, r| {
        if best.is_nan() || (r - 0.5).abs() <= (best - 0.5).abs() {
            r
        } else {
            best
        }
    })
}

/// Writes the tables, figures and `REPORT.md` of the results folder `dir`.
pub fn report(dir: &Path) -> Result<Written, ReportError> {
    let results = read_results(dir)?;
    let frame = tidy(&results.runs)?;
    let summary = summarise(&frame)?;
    write_frame(&frame, &dir.join("runs.parquet"))?;
    write_frame(&summary, &dir.join("summary.csv"))?;
    write_frame(&summary, &dir.join("summary.parquet"))?;
    let rows = summary_rows(&summary)?;
    let target = if rows.iter().any(|r| r.target == "truth") {
        "truth"
    } else {
        "observed"
    };
    let tasks: Vec<String> = results.runs[0]
        .metrics
        .pointer(&format!("/{target}/tasks"))
        .and_then(|t| t.as_array())
        .map(|t| {
            t.iter()
                .filter_map(|x| x.get("task").and_then(|n| n.as_str()).map(String::from))
                .collect()
        })
        .unwrap_or_default();

    let mut figures: Vec<(String, String)> = Vec::new();
    let mut variants: Vec<String> = results
        .runs
        .iter()
        .map(|r| r.axes.variant.clone())
        .collect();
    variants.dedup();
    let mut seen = std::collections::HashSet::new();
    variants.retain(|v| seen.insert(v.clone()));
    for variant in &variants {
        let suffix = if variant.is_empty() {
            String::new()
        } else {
            format!("_{variant}")
        };
        let label = if variant.is_empty() {
            results.experiment.clone()
        } else {
            format!("{} · {variant}", results.experiment)
        };
        let runs: Vec<&Run> = results
            .runs
            .iter()
            .filter(|r| &r.axes.variant == variant)
            .collect();
        let seeds: std::collections::BTreeSet<u64> = runs.iter().map(|r| r.axes.seed).collect();
        let vrows: Vec<Summary> = rows
            .iter()
            .filter(|r| &r.variant == variant)
            .cloned()
            .collect();
        let mut rates: Vec<f64> = runs.iter().map(|r| r.axes.rate).collect();
        rates.sort_by(f64::total_cmp);
        rates.dedup();
        if rates.len() > 1 {
            let file = format!("metric_vs_drop_rate{suffix}.png");
            figures::metric_vs_drop_rate(
                &vrows,
                &tasks,
                &format!("{label} ({} seeds)", seeds.len()),
                &dir.join(&file),
            )?;
            figures.push((
                file,
                format!("{label}: accuracy and ROC-AUC against the drop rate"),
            ));
        }
        let rate = representative_rate(&rates);
        let mechanism = runs
            .iter()
            .find(|r| r.axes.rate == rate)
            .map(|r| r.axes.mechanism.clone())
            .unwrap_or_default();
        let at_rate: Vec<&Run> = runs
            .iter()
            .copied()
            .filter(|r| r.axes.rate == rate && r.axes.mechanism == mechanism)
            .collect();
        let first_seed = seeds.iter().next().copied().unwrap_or(0);
        let one_seed: Vec<&Run> = at_rate
            .iter()
            .copied()
            .filter(|r| r.axes.seed == first_seed)
            .collect();
        if one_seed.iter().any(|r| r.boundary.is_some()) {
            let file = format!("boundaries{suffix}.png");
            let subtitle = format!("predicted P(y=1) over the unit square, true rule in black; {mechanism} drop rate {}, seed {first_seed}", markdown::fmt_rate(rate));
            figures::boundaries(
                &one_seed,
                &format!("{label}: decision boundaries"),
                &subtitle,
                &dir.join(&file),
            )?;
            figures.push((
                file,
                format!(
                    "{label}: decision boundaries at drop rate {} (seed {first_seed})",
                    markdown::fmt_rate(rate)
                ),
            ));
        }
        if at_rate.iter().any(|r| !r.history.is_empty()) {
            let file = format!("training_curves{suffix}.png");
            figures::training_curves(
                &at_rate,
                &format!(
                    "{label}: training curves at {mechanism} drop rate {} ({} seeds)",
                    markdown::fmt_rate(rate),
                    seeds.len()
                ),
                &dir.join(&file),
            )?;
            figures.push((
                file,
                format!(
                    "{label}: training and dev loss per epoch at drop rate {}",
                    markdown::fmt_rate(rate)
                ),
            ));
        }
        if runs.iter().any(|r| r.data_source.starts_with("mbti")) {
            let file = format!("text_axes{suffix}.png");
            let majority: Vec<f64> = (0..tasks.len())
                .map(|t| {
                    let shares: Vec<f64> = at_rate
                        .iter()
                        .filter_map(|r| {
                            let task = r.metrics.pointer(&format!("/{target}/tasks/{t}"))?;
                            let (n, p) =
                                (task.get("n")?.as_f64()?, task.get("n_positive")?.as_f64()?);
                            (n > 0.0).then(|| (p / n).max(1.0 - p / n))
                        })
                        .collect();
                    shares.iter().sum::<f64>() / shares.len().max(1) as f64
                })
                .collect();
            let setting: Vec<Summary> = vrows
                .iter()
                .filter(|r| r.rate == rate && r.mechanism == mechanism)
                .cloned()
                .collect();
            figures::text_axes(
                &setting,
                &tasks,
                &majority,
                &format!(
                    "{label}: personality axes at {mechanism} drop rate {} ({} seeds)",
                    markdown::fmt_rate(rate),
                    seeds.len()
                ),
                &dir.join(&file),
            )?;
            figures.push((
                file,
                format!("{label}: per-axis metrics beside the majority-class baseline"),
            ));
        }
    }
    let text = markdown::report(&results, &rows, &figures, target);
    let report_path = dir.join("REPORT.md");
    let io = |source| ReportError::Io {
        path: report_path.clone(),
        source,
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(io)?;
    tmp.persist(&report_path).map_err(|e| io(e.error))?;
    Ok(Written {
        figures: figures.into_iter().map(|(f, _)| dir.join(f)).collect(),
        report: report_path,
        runs: results.runs.len(),
    })
}
