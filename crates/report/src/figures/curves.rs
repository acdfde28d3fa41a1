//! Training curves: each strategy's training loss and the dev masked loss, per epoch, mean
//! over seeds.

use super::{fonts, legend, legend_height, ok, plot_error, strategy_color, titled, LegendItem};
use crate::error::ReportError;
use crate::records::Run;
use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// `runs` are those of one setting (one drop rate), any number of seeds per strategy.
pub fn training_curves(runs: &[&Run], title: &str, path: &Path) -> Result<(), ReportError> {
    draw(runs, title, path).map_err(plot_error(path))
}

/// Mean over runs of one value per epoch, for epochs every run reached.
fn mean_curve(
    runs: &[&Run],
    value: impl Fn(&crate::records::Epoch) -> Option<f64>,
) -> Vec<(f64, f64)> {
    let epochs = runs.iter().map(|r| r.history.len()).min().unwrap_or(0);
    (0..epochs)
        .filter_map(|e| {
            let vals: Vec<f64> = runs.iter().filter_map(|r| value(&r.history[e])).collect();
            (vals.len() == runs.len() && !vals.is_empty()).then(|| {
                (
                    runs[0].history[e].epoch as f64,
                    vals.iter().sum::<f64>() / vals.len() as f64,
                )
            })
        })
        .collect()
}

/// The legend entry of strategy `s`, which trained in `trained` of its `all` seeds.
/// Single-task's line at an epoch is the mean over the networks still training then (each
/// stops on its own dev score), so late epochs speak for few tasks: its entry says so.
fn legend_item(s: &str, trained: usize, all: usize) -> LegendItem {
    let mut notes = Vec::new();
    if trained > 0 && s == record::Strategy::SingleTask.name() {
        notes.push("each epoch: mean over its networks still training".to_string());
    }
    if trained > 0 && trained < all {
        notes.push(format!(
            "{trained} of {all} seeds; not applicable in the others"
        ));
    }
    let item = LegendItem::strategy(s, trained > 0);
    match notes.is_empty() {
        true => item,
        false => item.noted(&notes.join("; ")),
    }
}

fn draw(runs: &[&Run], title: &str, path: &Path) -> Result<(), String> {
    fonts();
    let strategies =
        record::Strategy::in_display_order(runs.iter().map(|r| r.axes.strategy.as_str()));
    // A run with no history trained nothing (a strategy that did not apply to its split):
    // the mean is over the seeds that trained, and the legend says how many those are.
    let mut items = Vec::with_capacity(strategies.len());
    let curves: Vec<Curve> = strategies
        .iter()
        .map(|s| {
            let all = runs.iter().filter(|r| r.axes.strategy == *s).count();
            let trained: Vec<&Run> = runs
                .iter()
                .copied()
                .filter(|r| r.axes.strategy == *s && !r.history.is_empty())
                .collect();
            items.push(legend_item(s, trained.len(), all));
            (
                *s,
                mean_curve(&trained, |e| Some(e.train_loss)),
                mean_curve(&trained, |e| e.dev_loss),
            )
        })
        .collect();
    let root = BitMapBackend::new(path, (1500, 640)).into_drawing_area();
    ok(root.fill(&WHITE))?;
    let body = titled(&root, title, "mean over seeds; dev loss is the masked BCE on the dev split's observed labels, one yardstick for all")?;
    let (grid, bottom) =
        body.split_vertically(body.dim_in_pixel().1 - legend_height(&items, body.dim_in_pixel().0));
    let panels = grid.split_evenly((1, 2));
    for (k, (name, pick)) in [
        ("training loss (each strategy's own)", 0usize),
        ("dev masked loss", 1),
    ]
    .into_iter()
    .enumerate()
    {
        let pts: Vec<(f64, f64)> = curves
            .iter()
            .flat_map(|c| if pick == 0 { c.1.clone() } else { c.2.clone() })
            .collect();
        if pts.is_empty() {
            ok(panels[k].draw(&Text::new(
                format!("{name}: not recorded (eval-every = 0)"),
                (40, 60),
                ("sans-serif", 20),
            )))?;
            continue;
        }
        let x1 = pts.iter().map(|p| p.0).fold(1.0, f64::max);
        let ((mut y0, mut y1), off_axis) = y_range(&curves, pick);
        if y1 - y0 < 1e-9 {
            (y0, y1) = (y0 - 0.5, y1 + 0.5);
        }
        // Losses that span decades (a collapsed baseline next to converged models) read
        // best on a log axis; a loss that goes negative (the plain baseline's) cannot.
        if y0 > 0.0 && y1 / y0 > 20.0 {
            let chart = ok(ChartBuilder::on(&panels[k])
                .caption(format!("{name} (log scale)"), ("sans-serif", 22))
                .margin(14)
                .margin_right(36)
                .x_label_area_size(44)
                .y_label_area_size(86)
                .build_cartesian_2d(1.0..x1, log_axis(y0 * 0.8, y1 * 1.25)))?;
            draw_lines(chart, &curves, pick, f64::NEG_INFINITY)?;
        } else {
            let pad = 0.04 * (y1 - y0);
            let chart = ok(ChartBuilder::on(&panels[k])
                .caption(name, ("sans-serif", 22))
                .margin(14)
                .margin_right(36)
                .x_label_area_size(44)
                .y_label_area_size(86)
                .build_cartesian_2d(1.0..x1, y0 - pad..y1 + pad))?;
            draw_lines(chart, &curves, pick, y0 - pad)?;
            // At the top right, where falling losses leave room.
            let right = panels[k].dim_in_pixel().0 as i32 - 36 - 12;
            for (i, (s, lowest)) in off_axis.iter().enumerate() {
                let color = strategy_color(s);
                let style = TextStyle::from(("sans-serif", 18).into_font())
                    .color(&color)
                    .pos(Pos::new(HPos::Right, VPos::Top));
                ok(panels[k].draw(&Text::new(
                    format!("{s}: down to {}, below this axis", short(*lowest)),
                    (right, 58 + 24 * i as i32),
                    style,
                )))?;
            }
        }
    }
    legend(&bottom, &items)?;
    ok(root.present())
}

/// The y range of panel `pick`'s lines (0: training loss, 1: dev loss), and the strategies
/// left below it with their lowest values. Every loss is a cross-entropy, never negative,
/// but the `-1`-as-target baseline's (plain's), which is unbounded below: where its fall
/// would squash every other line flat at the top of the axis (their span under a quarter
/// of the whole), the axis spans the others and zero, and the fallen lines leave it.
fn y_range<'a>(curves: &[Curve<'a>], pick: usize) -> ((f64, f64), Vec<(&'a str, f64)>) {
    let line = |c: &Curve<'a>| if pick == 0 { c.1.clone() } else { c.2.clone() };
    let span = |pts: &mut dyn Iterator<Item = (f64, f64)>| {
        pts.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        })
    };
    let whole = span(&mut curves.iter().flat_map(line));
    let (fallen, kept): (Vec<_>, Vec<_>) = curves
        .iter()
        .filter(|c| !line(c).is_empty())
        .partition(|c| line(c).iter().any(|p| p.1 < 0.0));
    if fallen.is_empty() || kept.is_empty() {
        return (whole, Vec::new());
    }
    let (lo, hi) = span(&mut kept.iter().flat_map(|c| line(c)));
    let lo = lo.min(0.0);
    if hi - lo >= 0.25 * (whole.1 - whole.0) {
        return (whole, Vec::new());
    }
    let lowest = |c: &Curve<'a>| span(&mut line(c).into_iter()).0;
    ((lo, hi), fallen.iter().map(|c| (c.0, lowest(c))).collect())
}

/// `line` up to where it first falls below `floor`, ending at the crossing (interpolated).
fn until_below(line: &[(f64, f64)], floor: f64) -> Vec<(f64, f64)> {
    let mut kept: Vec<(f64, f64)> = Vec::with_capacity(line.len());
    for &(x, y) in line {
        if y >= floor {
            kept.push((x, y));
            continue;
        }
        if let Some(&(px, py)) = kept.last() {
            kept.push((px + (x - px) * (py - floor) / (py - y), floor));
        }
        break;
    }
    kept
}

/// A log axis over `lo..hi` (both positive) labelled at 1, 2 and 5 of every decade it
/// crosses, with a light line at each other whole multiple: plotters' own key points leave
/// the lower decades of a span such as 0.15..7 unlabelled and crowd light lines near its top.
fn log_axis(lo: f64, hi: f64) -> WithKeyPoints<LogCoord<f64>> {
    let (bold, light) = log_ticks(lo, hi);
    (lo..hi)
        .log_scale()
        .with_key_points(bold)
        .with_light_points(light)
}

/// The labelled ticks (1, 2, 5 × a power of ten) and the light lines (the other whole
/// multiples) inside `lo..=hi`, ascending.
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let (mut bold, mut light) = (Vec::new(), Vec::new());
    for decade in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
        for k in 1..10 {
            // `k * 10^d` from a string, so 0.3 is the nearest f64 to 0.3, not 3 × 0.1.
            let v: f64 = format!("{k}e{decade}").parse().expect("a number");
            if v < lo || v > hi {
                continue;
            }
            match k {
                1 | 2 | 5 => bold.push(v),
                _ => light.push(v),
            }
        }
    }
    (bold, light)
}

/// A tick value in at most three significant digits, without trailing zeros: `0.06`,
/// `0.8`, `-3500`, not `0.060000000001`.
fn short(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

type Curve<'a> = (&'a str, Vec<(f64, f64)>, Vec<(f64, f64)>);

/// The mesh and one line per strategy (`pick` 0: training loss, 1: dev loss), on a linear or
/// a log loss axis alike, each up to where it first falls below `floor` (plotters would run
/// it along the axis's bottom edge instead).
fn draw_lines<'b, Y>(
    mut chart: ChartContext<'_, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, Y>>,
    curves: &[Curve<'_>],
    pick: usize,
    floor: f64,
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    ok(chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss")
        // Epochs are whole numbers: `2000`, not `2000.0`; losses in three significant digits.
        .x_labels(6)
        .x_label_formatter(&|x| format!("{}", x.round() as i64))
        .y_label_formatter(&|y| short(*y))
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw())?;
    for (s, train, dev) in curves.iter().rev() {
        let line = if pick == 0 { train } else { dev };
        ok(chart.draw_series(LineSeries::new(
            until_below(line, floor),
            strategy_color(s).stroke_width(2),
        )))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_stops_where_it_falls_below_the_floor() {
        let line = [(1.0, 0.5), (2.0, -1.5), (3.0, 0.2)];
        assert_eq!(super::until_below(&line, -0.5), [(1.0, 0.5), (1.5, -0.5)]);
        assert_eq!(super::until_below(&line, -2.0), line);
        assert_eq!(super::until_below(&[(1.0, -3.0)], 0.0), []);
    }

    /// The legend says what a line is a mean over when that is not every seed, or (for
    /// single-task) not every task at every epoch; a strategy that never trained has no line.
    #[test]
    fn legend_entries_say_what_a_line_is_a_mean_over() {
        let label = |s, t, all| super::legend_item(s, t, all).label;
        assert_eq!(label("masked", 3, 3), "masked");
        assert_eq!(
            label("masked", 2, 3),
            "masked (2 of 3 seeds; not applicable in the others)"
        );
        assert_eq!(
            label("single-task", 3, 3),
            "single-task (each epoch: mean over its networks still training)"
        );
        assert_eq!(
            label("single-task", 1, 3),
            "single-task (each epoch: mean over its networks still training; \
             1 of 3 seeds; not applicable in the others)"
        );
        assert_eq!(
            label("single-task", 0, 3),
            "single-task (not applicable, no line)"
        );
    }

    /// Plain's fall leaves the axis only when it would squash the others flat.
    #[test]
    fn a_loss_far_below_zero_leaves_the_axis() {
        let curve = |s, pts: &[f64]| {
            let pts: Vec<(f64, f64)> = pts
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as f64, v))
                .collect();
            (s, pts.clone(), pts)
        };
        let curves = [
            curve("masked", &[0.6, 0.2, 0.1]),
            curve("plain", &[0.5, -9.0, -14.0]),
        ];
        let (range, off) = super::y_range(&curves, 0);
        assert_eq!(range, (0.0, 0.6));
        assert_eq!(off, [("plain", -14.0)]);
        // A small dip below zero (the original post's plain) stays on the axis.
        let curves = [
            curve("masked", &[0.6, 0.2, 0.1]),
            curve("plain", &[0.5, 0.0, -0.04]),
        ];
        assert_eq!(super::y_range(&curves, 0), ((-0.04, 0.6), vec![]));
        // No line is non-negative: nothing to keep on the axis instead.
        let curves = [curve("plain", &[0.5, -9.0])];
        assert_eq!(super::y_range(&curves, 1), ((-9.0, 0.5), vec![]));
    }

    #[test]
    fn log_ticks_label_every_decade_the_axis_crosses() {
        let (bold, light) = super::log_ticks(0.15, 7.4);
        assert_eq!(bold, [0.2, 0.5, 1.0, 2.0, 5.0]);
        assert_eq!(light, [0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 3.0, 4.0, 6.0, 7.0]);
        // A span inside one decade still gets its whole multiples.
        let (bold, light) = super::log_ticks(11.0, 48.0);
        assert_eq!(bold, [20.0]);
        assert_eq!(light, [30.0, 40.0]);
        // The ends count when they fall on a tick.
        assert_eq!(super::log_ticks(1.0, 10.0).0, [1.0, 2.0, 5.0, 10.0]);
    }

    #[test]
    fn ticks_are_short() {
        let cases = [
            (0.6000000000001, "0.6"),
            (0.06, "0.06"),
            (0.01, "0.01"),
            (-3500.0, "-3500"),
            (1.0, "1"),
            (0.123456, "0.123"),
            (0.0, "0"),
        ];
        for (v, want) in cases {
            assert_eq!(super::short(v), want, "{v}");
        }
    }
}
