//! Per-task spread, for data sets with too many tasks for a bar each (ToxCast's 617): for
//! each strategy, the distribution of its per-task means over seeds as a box (quartiles,
//! median line, whiskers to the extremes) over the points themselves; one panel per metric.
//! A strategy that did not apply says so in its column instead of a box.

use super::{fonts, ok, plot_error, strategy_color, titled, Layout, Panel};
use crate::error::ReportError;
use crate::tables::Summary;
use plotters::prelude::*;
use std::path::Path;

/// The five numbers a box draws: minimum, lower quartile, median, upper quartile, maximum
/// (quartiles by linear interpolation between order statistics); `None` for no value.
pub fn five_numbers(values: &[f64]) -> Option<[f64; 5]> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let pos = q * (v.len() - 1) as f64;
        let (i, frac) = (pos.floor() as usize, pos.fract());
        let next = v[(i + 1).min(v.len() - 1)];
        v[i] + frac * (next - v[i])
    };
    Some([v[0], at(0.25), at(0.5), at(0.75), v[v.len() - 1]])
}

/// `rows`: summary rows of one setting; `not_applicable`: (strategy, why) for those that
/// did not apply there.
pub fn task_spread(
    rows: &[Summary],
    tasks: &[String],
    panels: &[Panel],
    layout: &Layout,
    not_applicable: &[(String, String)],
    path: &Path,
) -> Result<(), ReportError> {
    draw(rows, tasks, panels, layout, not_applicable, path).map_err(plot_error(path))
}

fn draw(
    rows: &[Summary],
    tasks: &[String],
    panels: &[Panel],
    layout: &Layout,
    not_applicable: &[(String, String)],
    path: &Path,
) -> Result<(), String> {
    fonts();
    let target = super::target_of(rows);
    let strategies = record::Strategy::in_display_order(
        rows.iter()
            .map(|r| r.strategy.as_str())
            .chain(not_applicable.iter().map(|(s, _)| s.as_str())),
    );
    let root = BitMapBackend::new(path, layout.size).into_drawing_area();
    ok(root.fill(&WHITE))?;
    let body = titled(&root, layout.title, layout.subtitle)?;
    let areas = body.split_evenly(layout.grid);
    let n = strategies.len();
    for (k, panel) in panels.iter().enumerate() {
        let mut chart = ok(ChartBuilder::on(&areas[k])
            .caption(panel.name, ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..n as f64, 0.0..1.0))?;
        ok(chart
            .configure_mesh()
            .disable_x_mesh()
            // One light line between labelled ones (every 0.05): plotters' nine made a grey
            // hatching every 0.01 that the faint points sat on.
            .y_max_light_lines(1)
            .x_labels(n * 2 + 1)
            .x_label_formatter(&|x| {
                let i = x.floor() as usize;
                if (x - i as f64 - 0.5).abs() < 1e-6 && i < n {
                    strategies[i].to_string()
                } else {
                    String::new()
                }
            })
            .label_style(("sans-serif", 16))
            .draw())?;
        // The baseline: its median over tasks, as a grey line across the panel.
        if let Some([_, _, median, _, _]) = five_numbers(&panel.baseline) {
            ok(chart.draw_series(std::iter::once(PathElement::new(
                vec![(0.0, median), (n as f64, median)],
                RGBColor(150, 150, 150).stroke_width(2),
            ))))?;
        }
        for (j, s) in strategies.iter().enumerate() {
            let x = j as f64 + 0.5;
            if let Some((_, why)) = not_applicable.iter().find(|(n, _)| n == s) {
                ok(chart.draw_series(std::iter::once(Text::new(
                    format!("not applicable: {why}"),
                    (j as f64 + 0.08, 0.5),
                    ("sans-serif", 15).into_font().color(&BLACK),
                ))))?;
                continue;
            }
            let values: Vec<f64> = tasks
                .iter()
                .filter_map(|task| {
                    rows.iter()
                        .find(|r| {
                            r.target == target
                                && &r.task == task
                                && r.metric == panel.metric
                                && r.strategy == *s
                        })
                        .and_then(|r| r.mean)
                })
                .collect();
            let Some([lo, q1, median, q3, hi]) = five_numbers(&values) else {
                continue;
            };
            let color = strategy_color(s);
            // The points, spread across the column in task order so that they do not pile up.
            let spread = values.len().max(2) as f64 - 1.0;
            ok(chart.draw_series(values.iter().enumerate().map(|(i, &v)| {
                let dx = (i as f64 / spread - 0.5) * 0.5;
                Circle::new((x + dx, v), 2, color.mix(0.35).filled())
            })))?;
            let (x0, x1) = (x - 0.3, x + 0.3);
            ok(chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, q1), (x1, q3)],
                color.stroke_width(3),
            ))))?;
            for (a, b) in [
                ((x0, median), (x1, median)),
                ((x, hi), (x, q3)),
                ((x, q1), (x, lo)),
            ] {
                ok(chart.draw_series(std::iter::once(PathElement::new(
                    vec![a, b],
                    BLACK.stroke_width(2),
                ))))?;
            }
            // Left of the whisker, at the top of the column.
            ok(chart.draw_series(std::iter::once(Text::new(
                format!("median {median:.3}"),
                (x - 0.45, 0.99),
                ("sans-serif", 13).into_font().color(&BLACK),
            ))))?;
        }
    }
    ok(root.present())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_numbers_by_hand() {
        // 1..=5: quartiles at positions 1, 2 and 3 of 0..4.
        assert_eq!(
            five_numbers(&[5.0, 1.0, 3.0, 2.0, 4.0]),
            Some([1.0, 2.0, 3.0, 4.0, 5.0])
        );
        // Four values: the lower quartile a quarter of the way from 1 to 2 (position 0.75).
        let [_, q1, median, q3, _] = five_numbers(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!((q1, median, q3), (1.75, 2.5, 3.25));
        assert_eq!(five_numbers(&[f64::NAN]), None);
        assert_eq!(five_numbers(&[0.7]), Some([0.7; 5]));
    }
}
