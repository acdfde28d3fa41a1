//! `REPORT.md`: what ran, the findings stated with their numbers, the summary tables and the
//! figures.

use crate::records::{Results, SettingWords};
use crate::tables::Summary;
use std::collections::BTreeSet;
use std::fmt::Write;

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// A drop rate in at most four decimals: 0.0127, not 0.012666666666666666.
pub fn fmt_rate(rate: f64) -> String {
    let s = format!("{rate:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() {
        "0".into()
    } else {
        s.into()
    }
}

/// How a drop setting reads in prose and tables, as the figures name it: `with mcar drops
/// of 50%`, `with extra mcar drops of 90%` (labels missing in the data already), `with
/// prefix drops of y0 2.06%`; in a table, the plain rate unless rates are given per task.
/// Also which strategies did not apply at a setting, which a table says instead of a number.
pub struct RateLabels {
    words: std::collections::HashMap<(String, String, u64), SettingWords>,
    not_applicable: std::collections::HashMap<(String, String, u64, String), (String, usize)>,
}

impl RateLabels {
    pub fn of(results: &Results) -> RateLabels {
        RateLabels {
            words: results.rate_descriptions.clone(),
            not_applicable: results.not_applicable.clone(),
        }
    }

    fn words(&self, variant: &str, mechanism: &str, rate: f64) -> Option<&SettingWords> {
        self.words
            .get(&(variant.into(), mechanism.into(), rate.to_bits()))
    }

    /// Why `strategy` did not apply at the setting, and in how many runs, if it did not.
    fn not_applicable(
        &self,
        variant: &str,
        mechanism: &str,
        rate: f64,
        strategy: &str,
    ) -> Option<(&str, usize)> {
        self.not_applicable
            .get(&(
                variant.into(),
                mechanism.into(),
                rate.to_bits(),
                strategy.into(),
            ))
            .map(|(why, runs)| (why.as_str(), *runs))
    }

    /// `with mcar drops of 50%`.
    fn phrase(&self, variant: &str, mechanism: &str, rate: f64) -> String {
        match self.words(variant, mechanism, rate) {
            Some(w) => format!("with {}", w.phrase),
            None => format!("at a drop rate of {}", fmt_rate(rate)),
        }
    }

    /// A table cell: `0.5`, or `prefix drops of y0 2.06%`.
    fn cell(&self, variant: &str, mechanism: &str, rate: f64) -> String {
        match self
            .words(variant, mechanism, rate)
            .and_then(|w| w.per_task.clone())
        {
            Some(d) => d,
            None => fmt_rate(rate),
        }
    }
}

fn fmt_ci(r: &Summary) -> String {
    match (r.mean, r.ci95_low, r.ci95_high) {
        (Some(m), Some(lo), Some(hi)) => format!("{m:.3} [{lo:.3}, {hi:.3}]"),
        (Some(m), _, _) => format!("{m:.3}"),
        _ => "undefined".into(),
    }
}

/// The summary row of `strategy`'s `metric` on `task` at a point of the grid: a setting
/// (variant, mechanism) and a rate.
fn find<'a>(
    rows: &'a [Summary],
    (variant, mechanism, rate): (&str, &str, f64),
    strategy: &str,
    target: &str,
    task: &str,
    metric: &str,
) -> Option<&'a Summary> {
    rows.iter().find(|r| {
        r.variant == variant
            && r.mechanism == mechanism
            && r.rate == rate
            && r.strategy == strategy
            && r.target == target
            && r.task == task
            && r.metric == metric
    })
}

/// Settings (variant, mechanism) in the summary, and their rates.
fn settings(rows: &[Summary]) -> Vec<(String, String, Vec<f64>)> {
    let keys: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.variant.clone(), r.mechanism.clone()))
        .collect();
    keys.into_iter()
        .map(|(v, m)| {
            let mut rates: Vec<f64> = rows
                .iter()
                .filter(|r| r.variant == v && r.mechanism == m)
                .map(|r| r.rate)
                .collect();
            rates.sort_by(f64::total_cmp);
            rates.dedup();
            (v, m, rates)
        })
        .collect()
}

/// The strategies present, in the registry's order.
fn strategies(rows: &[Summary]) -> Vec<String> {
    record::Strategy::in_display_order(rows.iter().map(|r| r.strategy.as_str()))
        .into_iter()
        .map(String::from)
        .collect()
}

/// The findings paragraph, generated from the numbers.
pub fn findings(rows: &[Summary], target: &str, labels: &RateLabels) -> String {
    let mut out = String::new();
    // Against a truth, accuracy; against measured labels alone (rare positives), ROC-AUC.
    let (metric, metric_name) = if target == "truth" {
        ("accuracy", "accuracy")
    } else {
        ("auc", "ROC-AUC")
    };
    let strategies = strategies(rows);
    let against = if target == "truth" {
        "against the true labels"
    } else {
        "against the observed labels"
    };
    for (variant, mechanism, rates) in settings(rows) {
        let setting = match (variant.is_empty(), mechanism.as_str()) {
            (true, m) => format!("Under {m} missingness"),
            (false, m) => format!("In the `{variant}` variant ({m})"),
        };
        let (Some(&lo), Some(&hi)) = (rates.first(), rates.last()) else {
            continue;
        };
        let at = |rate: f64| -> Vec<(String, &Summary)> {
            let mut v: Vec<(String, &Summary)> = strategies
                .iter()
                .filter_map(|s| {
                    find(
                        rows,
                        (&variant, &mechanism, rate),
                        s,
                        target,
                        "macro",
                        metric,
                    )
                    .map(|r| (s.clone(), r))
                })
                .filter(|(_, r)| r.mean.is_some())
                .collect();
            v.sort_by(|a, b| {
                b.1.mean
                    .partial_cmp(&a.1.mean)
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            v
        };
        let top = at(hi);
        if top.is_empty() {
            continue;
        }
        let listing: Vec<String> = top
            .iter()
            .map(|(s, r)| format!("{s} {}", fmt_ci(r)))
            .collect();
        let _ = write!(
            out,
            "{setting}, {} the macro test {metric_name} {against} (mean over {} seeds, 95% CI) ranks: {}. ",
            labels.phrase(&variant, &mechanism, hi),
            top[0].1.n + top[0].1.n_undefined,
            listing.join("; ")
        );
        let mean_of = |s: &str| top.iter().find(|(n, _)| n == s).and_then(|(_, r)| r.mean);
        if let (Some(m), Some(i)) = (mean_of("masked"), mean_of("impute-negative")) {
            let _ = write!(
                out,
                "The gap between masked and impute-negative there is {:+.3}. ",
                m - i
            );
        }
        if let (Some(m), Some(p)) = (mean_of("masked"), mean_of("plain")) {
            let _ = write!(out, "Masked minus plain: {:+.3}. ", m - p);
        }
        if rates.len() > 1 {
            let low = at(lo);
            if let (Some(best), Some(worst)) = (low.first(), low.last()) {
                let _ = write!(
                    out,
                    "{} the strategies are within {:.3} of each other ({} best at {:.3}, {} lowest at {:.3}). ",
                    capitalised(&labels.phrase(&variant, &mechanism, lo)),
                    best.1.mean.unwrap_or(0.0) - worst.1.mean.unwrap_or(0.0),
                    best.0,
                    best.1.mean.unwrap_or(0.0),
                    worst.0,
                    worst.1.mean.unwrap_or(0.0)
                );
            }
            for s in &strategies {
                let start = find(rows, (&variant, &mechanism, lo), s, target, "macro", metric)
                    .and_then(|x| x.mean);
                if start.is_none_or(|m| m < 0.9) {
                    continue; // only a fall from above 0.9 is news
                }
                let below = rates.iter().find(|&&r| {
                    find(rows, (&variant, &mechanism, r), s, target, "macro", metric)
                        .and_then(|x| x.mean)
                        .is_some_and(|m| m < 0.9)
                });
                if let Some(r) = below {
                    let _ = write!(
                        out,
                        "{s} first falls below 0.9 {}. ",
                        labels.phrase(&variant, &mechanism, *r)
                    );
                }
            }
        }
        for s in &strategies {
            let skipped: Vec<(f64, (&str, usize))> = rates
                .iter()
                .filter_map(|&r| Some((r, labels.not_applicable(&variant, &mechanism, r, s)?)))
                .collect();
            if let Some((_, (why, _))) = skipped.first() {
                let runs: usize = skipped.iter().map(|(_, (_, n))| n).sum();
                let at = if skipped.len() == rates.len() {
                    "at any drop rate here".to_string()
                } else {
                    let at: Vec<String> = skipped
                        .iter()
                        .map(|(r, _)| labels.phrase(&variant, &mechanism, *r))
                        .collect();
                    at.join(", ")
                };
                let _ = write!(
                    out,
                    "{s} is not applicable {at} ({why}; {runs} runs): those runs are not scored, not counted as chance. "
                );
            }
        }
        let undefined: u64 = rows
            .iter()
            .filter(|r| r.variant == variant && r.mechanism == mechanism && r.metric == "auc")
            .filter(|r| {
                labels
                    .not_applicable(&r.variant, &r.mechanism, r.rate, &r.strategy)
                    .is_none()
            })
            .map(|r| r.n_undefined)
            .sum();
        if undefined > 0 {
            let _ = write!(out, "ROC-AUC was undefined (a single class, or no label) in {undefined} task-runs; those are left out of the means, not counted as any value. ");
        }
        out.push_str("\n\n");
    }
    out
}

/// A Markdown table: a row per (variant, mechanism, rate), a column per strategy.
pub fn table(
    rows: &[Summary],
    target: &str,
    task: &str,
    metric: &str,
    labels: &RateLabels,
) -> String {
    let strategies = strategies(rows);
    let mut out = String::new();
    let _ = writeln!(out, "| setting | drop rate | {} |", strategies.join(" | "));
    let _ = writeln!(out, "|---|---|{}", "---|".repeat(strategies.len()));
    for (variant, mechanism, rates) in settings(rows) {
        for rate in rates {
            let setting = if variant.is_empty() {
                mechanism.clone()
            } else {
                format!("{variant} ({mechanism})")
            };
            let cells: Vec<String> = strategies
                .iter()
                .map(|s| {
                    let found = find(rows, (&variant, &mechanism, rate), s, target, task, metric);
                    match (labels.not_applicable(&variant, &mechanism, rate, s), found) {
                        (Some((why, _)), None) => format!("not applicable, {why}"),
                        (Some((why, _)), Some(r)) if r.mean.is_none() => {
                            format!("not applicable, {why}")
                        }
                        (Some((_, skipped)), Some(r)) => format!(
                            "{} ({} of {} seeds; not applicable in the rest)",
                            fmt_ci(r),
                            r.n,
                            r.n as usize + skipped
                        ),
                        (None, found) => found.map(fmt_ci).unwrap_or_else(|| "–".into()),
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "| {setting} | {} | {} |",
                labels.cell(&variant, &mechanism, rate),
                cells.join(" | ")
            );
        }
    }
    out
}

/// `git <rev>`, and whether the tree had uncommitted changes.
fn revision(p: &record::sweep::Provenance) -> String {
    match (&p.git_revision, p.git_dirty) {
        (Some(rev), Some(true)) => format!("git {rev} with uncommitted changes"),
        (Some(rev), Some(false)) => format!("git {rev}"),
        (Some(rev), None) => format!("git {rev}, not known whether clean"),
        (None, _) => "no git revision".to_string(),
    }
}

/// The whole report.
pub fn report(
    results: &Results,
    rows: &[Summary],
    figures: &[(String, String)],
    target: &str,
    writer: &record::sweep::Provenance,
) -> String {
    let mut out = String::new();
    let labels = RateLabels::of(results);
    let _ = writeln!(out, "# {}\n", results.experiment);
    if !results.description.is_empty() {
        let _ = writeln!(out, "{}\n", results.description);
    }
    let seeds: BTreeSet<u64> = results.seeds();
    let _ = writeln!(out, "## What ran\n");
    let _ = writeln!(
        out,
        "- {} runs reported ({} failed, {} not yet run), strategies {}, {} seeds ({:?}).",
        results.done,
        results.failed.len(),
        results.missing,
        strategies(rows).join(", "),
        seeds.len(),
        seeds
    );
    for m in &results.manifests {
        let walls: f64 = m.runs.iter().map(|r| r.wall_seconds).sum();
        let elapsed = m.ended_unix.saturating_sub(m.started_unix);
        let p = &m.provenance;
        let revision = revision(p);
        let _ = writeln!(
            out,
            "- Sweep{}: masklab {} ({revision}), {} jobs on {} cores, {} runs executed in {elapsed} s wall ({walls:.1} s summed over runs). BLAS: `{}`.",
            m.shard.as_ref().map(|s| format!(" shard {s}")).unwrap_or_default(),
            p.masklab_version,
            m.jobs,
            m.host_cores,
            m.runs.len(),
            p.blas,
        );
    }
    for m in &results.passed_over_manifests {
        let _ = writeln!(out, "- Passed over (an earlier sweep's manifest): {m}.");
    }
    let _ = writeln!(
        out,
        "- Report written by masklab {} ({}).",
        writer.masklab_version,
        revision(writer)
    );
    if let Some(toml) = &results.experiment_toml {
        let _ = writeln!(
            out,
            "\n<details><summary>The experiment file</summary>\n\n```toml\n{}\n```\n</details>\n",
            toml.trim_end()
        );
    }
    if target == "observed" {
        let _ = writeln!(out, "There is no truth beyond the labels as measured: test predictions are scored on the measured test labels only (test rows keep every measured label unless the experiment drops test labels too).\n");
    }
    let _ = writeln!(out, "## Findings\n\n{}", findings(rows, target, &labels));
    let what = if target == "truth" {
        "the true test labels"
    } else {
        "the observed test labels"
    };
    let _ = writeln!(out, "## Summary\n\nMean over seeds with its 95% confidence interval (Student t). Full table: `summary.csv`; every run's metrics: `runs.parquet`.\n");
    let _ = writeln!(
        out,
        "### Macro accuracy against {what}\n\n{}",
        table(rows, target, "macro", "accuracy", &labels)
    );
    let _ = writeln!(
        out,
        "### Macro ROC-AUC against {what}\n\n{}",
        table(rows, target, "macro", "auc", &labels)
    );
    if target == "observed" {
        let _ = writeln!(
            out,
            "### Macro PR-AUC (average precision) against {what}\n\n{}",
            table(rows, target, "macro", "pr_auc", &labels)
        );
    }
    let _ = writeln!(
        out,
        "### Keras-style pooled accuracy (missing test labels count as wrong)\n\n{}",
        table(rows, "observed", "all", "keras_accuracy", &labels)
    );
    if rows.iter().any(|r| r.target == crate::tables::ENSEMBLE) {
        let _ = writeln!(
            out,
            "### Ensembles: the seeds' mean predicted probability, one model per setting\n\nEach cell scores the average of the setting's seeds' test probabilities (all of its seeds, on their shared test rows) against the observed test labels: one number, no interval. The tables above are single models.\n\nMacro ROC-AUC:\n\n{}\nMacro PR-AUC:\n\n{}",
            table(rows, crate::tables::ENSEMBLE, "macro", "auc", &labels),
            table(rows, crate::tables::ENSEMBLE, "macro", "pr_auc", &labels)
        );
    }
    let filled: Vec<Summary> = rows
        .iter()
        .filter(|r| r.target == "filled")
        .cloned()
        .collect();
    if !filled.is_empty() {
        let _ = writeln!(
            out,
            "### Filled training labels\n\nThe strategies that fill missing training labels before their last stage: the share of the missing training labels they filled, and the share of those filled rightly (the target rounded at 0.5 against the true label, where the truth is known).\n\nShare filled:\n\n{}\nFilled rightly:\n\n{}",
            table(&filled, "filled", "all", "filled_share", &labels),
            table(&filled, "filled", "all", "accuracy", &labels)
        );
    }
    if !figures.is_empty() {
        let _ = writeln!(out, "## Figures\n");
        for (file, caption) in figures {
            let _ = writeln!(out, "**{caption}**\n\n![{caption}]({file})\n");
        }
    }
    if !results.damaged.is_empty() {
        let _ = writeln!(out, "## Damaged records\n\nThese records could not be read. A damaged run line leaves its run out (counted as not yet run); a damaged boundary grid leaves its map out. The next sweep runs them again.\n");
        for d in &results.damaged {
            let _ = writeln!(out, "- {d}");
        }
        out.push('\n');
    }
    if !results.failed.is_empty() {
        let _ = writeln!(out, "## Failed runs\n");
        for (id, reason) in &results.failed {
            let _ = writeln!(out, "- `{id}`: {reason}");
        }
    }
    out
}
