//! Per-task bars: each strategy's mean (95% CI) per task, one panel per metric, beside a
//! baseline bar in grey (the majority class for text axes; chance or the positive share
//! for assays).

use super::{
    fonts, legend, legend_height, ok, plot_error, strategy_color, strategy_items, titled,
    LegendItem,
};
use crate::error::ReportError;
use crate::tables::Summary;
use plotters::prelude::*;
use std::path::Path;

/// One panel: a metric, its name, and the baseline's value per task.
pub struct Panel<'a> {
    pub metric: &'a str,
    pub name: &'a str,
    pub baseline: Vec<f64>,
}

/// How the figure is laid out and labelled.
pub struct Layout<'a> {
    /// Panels as `(rows, columns)`.
    pub grid: (usize, usize),
    pub size: (u32, u32),
    pub title: &'a str,
    pub subtitle: &'a str,
    pub baseline_name: &'a str,
}

/// `rows`: summary rows of one setting.
pub fn task_bars(
    rows: &[Summary],
    tasks: &[String],
    panels: &[Panel],
    layout: &Layout,
    path: &Path,
) -> Result<(), ReportError> {
    draw(rows, tasks, panels, layout, path).map_err(plot_error(path))
}

fn draw(
    rows: &[Summary],
    tasks: &[String],
    panels: &[Panel],
    layout: &Layout,
    path: &Path,
) -> Result<(), String> {
    fonts();
    let target = super::target_of(rows);
    let strategies = record::Strategy::in_display_order(rows.iter().map(|r| r.strategy.as_str()));
    let root = BitMapBackend::new(path, layout.size).into_drawing_area();
    ok(root.fill(&WHITE))?;
    let body = titled(&root, layout.title, layout.subtitle)?;
    let mut items = strategy_items(&strategies, |_| true);
    items.push(LegendItem::other(
        layout.baseline_name,
        RGBColor(170, 170, 170),
    ));
    let (grid, bottom) =
        body.split_vertically(body.dim_in_pixel().1 - legend_height(&items, body.dim_in_pixel().0));
    let areas = grid.split_evenly(layout.grid);
    let width = strategies.len() + 1; // bars per task, the baseline last
    for (k, panel) in panels.iter().enumerate() {
        let (metric, name) = (panel.metric, panel.name);
        let mut chart = ok(ChartBuilder::on(&areas[k])
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
            let baseline = panel.baseline.get(t).copied().unwrap_or(0.5);
            let (x0, x1) = bar(strategies.len());
            ok(chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x1, baseline)],
                RGBColor(170, 170, 170).filled(),
            ))))?;
        }
    }
    legend(&bottom, &items)?;
    ok(root.present())
}
