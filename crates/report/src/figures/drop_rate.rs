//! Metric against drop rate: a panel per task plus the macro mean, a line per series with
//! its 95% CI band.

use super::{fonts, legend, legend_height, ok, plot_error, strategy_color, strategy_items, titled};
use crate::error::ReportError;
use crate::tables::Summary;
use plotters::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;

/// `rows` are summary rows of one variant; figures accuracy and ROC-AUC against the truth
/// (or against the observed labels when the truth is unknown).
pub fn metric_vs_drop_rate(
    rows: &[Summary],
    tasks: &[String],
    title: &str,
    path: &Path,
) -> Result<(), ReportError> {
    draw(rows, tasks, title, path).map_err(plot_error(path))
}

fn draw(rows: &[Summary], tasks: &[String], title: &str, path: &Path) -> Result<(), String> {
    fonts();
    let target = super::target_of(rows);
    // The variant's own tasks (variants may differ: the correlated toy set has a fourth),
    // in the experiment's order, then any it adds.
    let mut tasks: Vec<String> = tasks
        .iter()
        .filter(|t| rows.iter().any(|r| &r.task == *t))
        .cloned()
        .collect();
    for r in rows {
        if r.target == target
            && !matches!(r.task.as_str(), "macro" | "all")
            && !tasks.contains(&r.task)
        {
            tasks.push(r.task.clone());
        }
    }
    let mechanisms: Vec<String> = rows
        .iter()
        .map(|r| r.mechanism.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // One line per strategy, in the registry's order and colour, in every panel.
    let series: Vec<String> =
        record::Strategy::in_display_order(rows.iter().map(|r| r.strategy.as_str()))
            .into_iter()
            .map(String::from)
            .collect();
    let rates: Vec<f64> = rows.iter().map(|r| r.rate).collect();
    let (x0, x1) = (
        rates.iter().cloned().fold(f64::INFINITY, f64::min),
        rates.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
    );
    // A panel per task and the macro mean; with a second axis (several mechanisms), a panel
    // per mechanism of the macro mean instead, so no line hides another.
    // (More than six tasks, say Tox21's twelve assays: the macro mean alone; the per-task
    // numbers are in the summary and the per-assay figure.)
    let panels: Vec<(String, Option<String>)> = if mechanisms.len() > 1 {
        mechanisms
            .iter()
            .map(|m| ("macro".to_string(), Some(m.clone())))
            .collect()
    } else if tasks.len() > 6 {
        vec![("macro".to_string(), None)]
    } else {
        tasks
            .iter()
            .cloned()
            .chain(["macro".to_string()])
            .map(|t| (t, None))
            .collect()
    };
    // With a truth, accuracy reads well; scored on measured labels alone (often rare
    // positives, as Tox21's assays), ROC-AUC and PR-AUC do.
    let metrics = if target == "truth" {
        [("accuracy", "accuracy"), ("auc", "ROC-AUC")]
    } else {
        [("auc", "ROC-AUC"), ("pr_auc", "PR-AUC")]
    };
    let width = (420 * panels.len() as u32 + 40).max(900);
    let root = BitMapBackend::new(path, (width, 1000)).into_drawing_area();
    ok(root.fill(&WHITE))?;
    let against = if target == "truth" {
        "the true labels"
    } else {
        "the observed labels"
    };
    let body = titled(
        &root,
        title,
        &format!(
            "test metrics against {against} by drop rate; mean over seeds with 95% CI (Student t)"
        ),
    )?;
    let names: Vec<&str> = series.iter().map(String::as_str).collect();
    let items = strategy_items(&names, |s| {
        rows.iter()
            .any(|r| r.strategy == s && r.target == target && r.mean.is_some())
    });
    let (grid, bottom) =
        body.split_vertically(body.dim_in_pixel().1 - legend_height(&items, width));
    let cells = grid.split_evenly((metrics.len(), panels.len()));
    for (m, (metric, metric_name)) in metrics.iter().enumerate() {
        for (p, (task, mechanism)) in panels.iter().enumerate() {
            let mine: Vec<&Summary> = rows
                .iter()
                .filter(|r| r.target == target && &r.task == task && r.metric == *metric)
                .filter(|r| mechanism.as_ref().is_none_or(|m| &r.mechanism == m))
                .collect();
            let caption = match mechanism {
                Some(m) => format!("{m}: macro {metric_name}"),
                None => format!("{task}: {metric_name}"),
            };
            let (y0, y1) = y_range(rows, target, metric, &panels);
            let mut chart = ok(ChartBuilder::on(&cells[m * panels.len() + p])
                .caption(caption, ("sans-serif", 22))
                .margin(12)
                .x_label_area_size(42)
                .y_label_area_size(56)
                .build_cartesian_2d(x0 - 0.02..x1 + 0.02, y0..y1))?;
            ok(chart
                .configure_mesh()
                .x_desc(if target == "truth" {
                    "drop rate"
                } else {
                    "extra drop rate (share of the measured labels dropped)"
                })
                .y_desc(*metric_name)
                .label_style(("sans-serif", 16))
                .axis_desc_style(("sans-serif", 18))
                .light_line_style(WHITE.mix(0.0))
                .draw())?;
            // The first series (masked, in the usual order) last, on top, and a little wider.
            for (i, s) in series.iter().enumerate().rev() {
                let mut pts: Vec<&Summary> =
                    mine.iter().copied().filter(|r| &r.strategy == s).collect();
                pts.sort_by(|a, b| a.rate.total_cmp(&b.rate));
                let c = strategy_color(s);
                let band: Vec<(f64, f64)> = pts
                    .iter()
                    .filter_map(|r| r.ci95_high.map(|h| (r.rate, h.min(y1))))
                    .chain(
                        pts.iter()
                            .rev()
                            .filter_map(|r| r.ci95_low.map(|l| (r.rate, l.max(y0)))),
                    )
                    .collect();
                if band.len() >= 4 {
                    ok(chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.18)))))?;
                }
                let line: Vec<(f64, f64)> = pts
                    .iter()
                    .filter_map(|r| r.mean.map(|v| (r.rate, v)))
                    .collect();
                ok(chart.draw_series(LineSeries::new(
                    line.clone(),
                    c.stroke_width(if i == 0 { 3 } else { 2 }),
                )))?;
                ok(chart.draw_series(line.iter().map(|&pt| Circle::new(pt, 3, c.filled()))))?;
            }
        }
    }
    legend(&bottom, &items)?;
    ok(root.present())
}

/// The y range of `metric`'s panels: one range across them, so they compare at a glance,
/// from the rows they draw (the tasks of no panel, such as each of Tox21's assays when the
/// panel is their macro mean, would stretch it and flatten the lines).
fn y_range(
    rows: &[Summary],
    target: &str,
    metric: &str,
    panels: &[(String, Option<String>)],
) -> (f64, f64) {
    let drawn = || {
        rows.iter()
            .filter(|r| r.target == target && r.metric == metric)
            .filter(|r| {
                panels
                    .iter()
                    .any(|(t, m)| &r.task == t && m.as_ref().is_none_or(|m| &r.mechanism == m))
            })
    };
    let y_min = drawn()
        .filter_map(|r| r.ci95_low.or(r.mean))
        .fold(1.0f64, f64::min)
        .max(0.0);
    let y0 = (y_min - 0.02).clamp(0.0, 0.9);
    let y_max = drawn()
        .filter_map(|r| r.ci95_high.or(r.mean))
        .fold(0.0f64, f64::max);
    (y0, (y_max + 0.05).min(1.005).max(y0 + 0.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(task: &str, low: f64, mean: f64, high: f64) -> Summary {
        Summary {
            variant: String::new(),
            strategy: "masked".into(),
            mechanism: "mcar".into(),
            rate: 0.0,
            hidden: "[512,128]".into(),
            epochs: 10,
            batch_size: 64,
            learning_rate: 1e-3,
            target: "observed".into(),
            task: task.into(),
            metric: "pr_auc".into(),
            mean: Some(mean),
            std: None,
            n: 3,
            n_undefined: 0,
            ci95_low: Some(low),
            ci95_high: Some(high),
        }
    }

    /// A macro-only panel spans its own rows (from 0.02 below the lowest bound to 0.05
    /// above the highest), not an assay's that it does not draw.
    #[test]
    fn the_y_range_spans_the_rows_the_panels_draw() {
        let rows = [
            row("macro", 0.04, 0.14, 0.25),
            row("MUV-466", 0.0, 0.6, 0.99),
        ];
        let panels = [("macro".to_string(), None)];
        let (y0, y1) = y_range(&rows, "observed", "pr_auc", &panels);
        assert!(
            (y0 - 0.02).abs() < 1e-12 && (y1 - 0.30).abs() < 1e-12,
            "{y0} {y1}"
        );
        // Drawn, the assay's panel stretches the range to the top (at most 1.005).
        let both = [panels[0].clone(), ("MUV-466".to_string(), None)];
        let (y0, y1) = y_range(&rows, "observed", "pr_auc", &both);
        assert!(y0 == 0.0 && y1 == 1.005, "{y0} {y1}");
    }
}
