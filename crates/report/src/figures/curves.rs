//! Training curves: each strategy's training loss and the dev masked loss, per epoch, mean
//! over seeds.

use super::{fonts, legend, legend_height, ok, plot_error, strategy_color, strategy_items, titled};
use crate::error::ReportError;
use crate::records::Run;
use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
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

fn draw(runs: &[&Run], title: &str, path: &Path) -> Result<(), String> {
    fonts();
    let strategies =
        record::Strategy::in_display_order(runs.iter().map(|r| r.axes.strategy.as_str()));
    let curves: Vec<Curve> = strategies
        .iter()
        .map(|s| {
            let mine: Vec<&Run> = runs
                .iter()
                .copied()
                .filter(|r| r.axes.strategy == *s)
                .collect();
            (
                *s,
                mean_curve(&mine, |e| Some(e.train_loss)),
                mean_curve(&mine, |e| e.dev_loss),
            )
        })
        .collect();
    let root = BitMapBackend::new(path, (1500, 640)).into_drawing_area();
    ok(root.fill(&WHITE))?;
    let body = titled(&root, title, "mean over seeds; dev loss is the masked BCE on the dev split's observed labels, one yardstick for all")?;
    let items = strategy_items(&strategies, |s| {
        runs.iter()
            .any(|r| r.axes.strategy == s && !r.history.is_empty())
    });
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
        let (mut y0, mut y1) = pts
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.1), hi.max(p.1))
            });
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
            draw_lines(chart, &curves, pick)?;
        } else {
            let pad = 0.04 * (y1 - y0);
            let chart = ok(ChartBuilder::on(&panels[k])
                .caption(name, ("sans-serif", 22))
                .margin(14)
                .margin_right(36)
                .x_label_area_size(44)
                .y_label_area_size(86)
                .build_cartesian_2d(1.0..x1, y0 - pad..y1 + pad))?;
            draw_lines(chart, &curves, pick)?;
        }
    }
    legend(&bottom, &items)?;
    ok(root.present())
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
/// a log loss axis alike.
fn draw_lines<'b, Y>(
    mut chart: ChartContext<'_, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, Y>>,
    curves: &[Curve<'_>],
    pick: usize,
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
            line.clone(),
            strategy_color(s).stroke_width(2),
        )))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
