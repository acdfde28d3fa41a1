//! The original post's figure: for each task, the predicted probability over the unit square
//! as a heatmap with the true rule drawn on top, strategies side by side.

use super::{fonts, ok, plot_error, titled};
use crate::error::ReportError;
use crate::records::Run;
use plotters::prelude::*;
use std::path::Path;

/// The toy set's rules, as line segments over the unit square.
fn rule(task: &str) -> &'static [[(f64, f64); 2]] {
    match task {
        "y0" => &[[(0.0, 0.5), (1.0, 0.5)]], // y0 = x1 <= 0.5
        "y1" => &[[(0.5, 0.0), (0.5, 1.0)]], // y1 = x0 >= 0.5
        "y2" => &[[(0.0, 1.0), (1.0, 0.0)]], // y2 = x0 + x1 > 1
        // y3 = (y0 xor y1) or x0 < 0.1: the quadrant lines right of x0 = 0.1, and the
        // strip's edge where the xor alone is negative (x0 < 0.5, x1 > 0.5).
        "y3" => &[
            [(0.5, 0.0), (0.5, 1.0)],
            [(0.1, 0.5), (1.0, 0.5)],
            [(0.1, 0.5), (0.1, 1.0)],
        ],
        _ => &[],
    }
}

/// Blue (0) through white (0.5) to red (1).
fn heat(p: f32) -> RGBColor {
    let p = p.clamp(0.0, 1.0) as f64;
    let (from, to, t) = if p < 0.5 {
        ((49.0, 54.0, 149.0), (247.0, 247.0, 247.0), p * 2.0)
    } else {
        ((247.0, 247.0, 247.0), (165.0, 0.0, 38.0), p * 2.0 - 1.0)
    };
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

/// `runs`: one run per strategy, each with a boundary grid.
pub fn boundaries(
    runs: &[&Run],
    title: &str,
    subtitle: &str,
    path: &Path,
) -> Result<(), ReportError> {
    draw(runs, title, subtitle, path).map_err(plot_error(path))
}

fn draw(runs: &[&Run], title: &str, subtitle: &str, path: &Path) -> Result<(), String> {
    fonts();
    let runs: Vec<&Run> = runs
        .iter()
        .copied()
        .filter(|r| r.boundary.is_some())
        .collect();
    let Some(first) = runs.first().and_then(|r| r.boundary.as_ref()) else {
        return Err("no run has a boundary grid".into());
    };
    let tasks = first.tasks.clone();
    let cell = 300u32;
    // Wide enough for the subtitle too (about 9 px a character), when few strategies ran.
    let width = (cell * runs.len() as u32 + 150).max(40 + 9 * subtitle.chars().count() as u32);
    let root =
        BitMapBackend::new(path, (width, cell * tasks.len() as u32 + 130)).into_drawing_area();
    ok(root.fill(&WHITE))?;
    let body = titled(&root, title, subtitle)?;
    let (grid, scale) = body.split_horizontally(cell * runs.len() as u32 + 40);
    let cells = grid.split_evenly((tasks.len(), runs.len()));
    for (t, task) in tasks.iter().enumerate() {
        for (s, run) in runs.iter().enumerate() {
            let b = run.boundary.as_ref().expect("filtered");
            let mut chart = ok(ChartBuilder::on(&cells[t * runs.len() + s])
                .caption(
                    format!("{} · {task}", run.axes.strategy),
                    ("sans-serif", 18),
                )
                .margin(6)
                .x_label_area_size(24)
                .y_label_area_size(30)
                .build_cartesian_2d(0.0..1.0, 0.0..1.0))?;
            ok(chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(3)
                .y_labels(3)
                .label_style(("sans-serif", 13))
                .draw())?;
            let r = b.resolution;
            let step = 1.0 / (r - 1) as f64;
            ok(chart.draw_series((0..r * r).map(|k| {
                let (i, j) = (k % r, k / r);
                let (x, y) = (i as f64 * step, j as f64 * step);
                let corners = [
                    ((x - step / 2.0).max(0.0), (y - step / 2.0).max(0.0)),
                    ((x + step / 2.0).min(1.0), (y + step / 2.0).min(1.0)),
                ];
                Rectangle::new(corners, heat(b.probability(t, k)).filled())
            })))?;
            for line in rule(task) {
                ok(chart.draw_series(LineSeries::new(line.to_vec(), BLACK.stroke_width(2))))?;
            }
        }
    }
    // A colour scale for the probability.
    let (_, bar) = scale.split_vertically(40);
    let h = (cell * tasks.len() as u32).saturating_sub(80) as i32;
    for k in 0..h {
        let p = 1.0 - k as f32 / h as f32;
        ok(bar.draw(&Rectangle::new(
            [(30, k + 10), (55, k + 11)],
            heat(p).filled(),
        )))?;
    }
    for (p, label) in [(1.0, "1.0"), (0.5, "0.5"), (0.0, "0.0")] {
        let y = 10 + ((1.0 - p) * h as f64) as i32;
        ok(bar.draw(&Text::new(label, (60, y - 8), ("sans-serif", 15))))?;
    }
    ok(bar.draw(&Text::new("P(y=1)", (20, h + 20), ("sans-serif", 15))))?;
    ok(root.present())
}
