//! For text data: per-axis balanced accuracy and ROC-AUC by strategy, beside the
//! majority-class baseline (which scores 0.5 on both; its plain accuracy is the majority
//! share, shown in the accuracy panel).

use super::{fonts, legend, ok, plot_error, strategy_color, titled};
use crate::error::ReportError;
use crate::tables::Summary;
use plotters::prelude::*;
use std::path::Path;

/// `rows`: summary rows of one setting; `majority[t]`: the majority-class share of task t's
/// test labels.
pub fn text_axes(
    rows: &[Summary],
    tasks: &[String],
    majority: &[f64],
    title: &str,
    path: &Path,
) -> Result<(), ReportError> {
    draw(rows, tasks, majority, title, path).map_err(plot_error(path))
}

fn draw(
    rows: &[Summary],
    tasks: &[String],
    majority: &[f64],
    title: &str,
    path: &Path,
) -> Result<(), String> {
    fonts();
    let target = if rows.iter().any(|r| r.target == "truth") {
        "truth"
    } else {
        "observed"
    };
    let strategies = record::Strategy::in_display_order(rows.iter().map(|r| r.strategy.as_str()));
    let root = BitMapBackend::new(path, (1700, 620)).into_drawing_area();
    ok(root.fill(&WHITE))?;
    let body = titled(&root, title, "per axis on the test split, mean over seeds with 95% CI; grey: the majority-class baseline")?;
    let (grid, bottom) = body.split_vertically(body.dim_in_pixel().1 - 40);
    let panels = grid.split_evenly((1, 3));
    let width = strategies.len() + 1; // bars per axis, the baseline last
    for (k, (metric, name)) in [
        ("accuracy", "accuracy"),
        ("balanced_accuracy", "balanced accuracy"),
        ("auc", "ROC-AUC"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut chart = ok(ChartBuilder::on(&panels[k])
            .caption(name, ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..tasks.len() as f64, 0.0..1.0))?;
        ok(chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(tasks.len() * 2 + 1)
            .x_label_formatter(&|x| {
                let i = x.floor() as usize;
                if (x - i as f64 - 0.5).abs() < 1e-6 && i < tasks.len() {
                    tasks[i].clone()
                } else {
                    String::new()
                }
            })
            .label_style(("sans-serif", 16))
            .draw())?;
        for (t, task) in tasks.iter().enumerate() {
            let bar = |j: usize| {
                let w = 0.8 / width as f64;
                let x = t as f64 + 0.1 + j as f64 * w;
                (x, x + w * 0.9)
            };
            for (j, s) in strategies.iter().enumerate() {
                let Some(r) = rows.iter().find(|r| {
                    r.target == target && &r.task == task && r.metric == metric && r.strategy == *s
                }) else {
                    continue;
                };
                let Some(mean) = r.mean else { continue };
                let (x0, x1) = bar(j);
                ok(chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, 0.0), (x1, mean)],
                    strategy_color(s).filled(),
                ))))?;
                if let (Some(lo), Some(hi)) = (r.ci95_low, r.ci95_high) {
                    let xm = (x0 + x1) / 2.0;
                    ok(chart.draw_series(std::iter::once(PathElement::new(
                        vec![(xm, lo.max(0.0)), (xm, hi.min(1.0))],
                        BLACK.stroke_width(2),
                    ))))?;
                }
            }
            let baseline = if metric == "accuracy" {
                majority.get(t).copied().unwrap_or(0.5)
            } else {
                0.5
            };
            let (x0, x1) = bar(strategies.len());
            ok(chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x1, baseline)],
                RGBColor(170, 170, 170).filled(),
            ))))?;
        }
    }
    let mut items: Vec<(String, RGBColor)> = strategies
        .iter()
        .map(|s| (s.to_string(), strategy_color(s)))
        .collect();
    items.push(("majority class".into(), RGBColor(170, 170, 170)));
    legend(&bottom, &items)?;
    ok(root.present())
}
