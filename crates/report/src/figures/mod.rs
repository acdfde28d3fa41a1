//! PNG figures drawn with plotters, text in the embedded DejaVu Sans (no system fonts: the
//! same pixels on every machine).

mod boundaries;
mod curves;
mod drop_rate;
mod task_bars;

pub use boundaries::boundaries;
pub use curves::training_curves;
pub use drop_rate::metric_vs_drop_rate;
pub use task_bars::{task_bars, Layout, Panel};

use crate::error::ReportError;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// Registers the embedded font once per process.
pub(crate) fn fonts() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

/// The registry's colour of a strategy, so every figure reads the same way.
pub(crate) fn strategy_color(strategy: &str) -> RGBColor {
    match record::Strategy::from_name(strategy) {
        Some(s) => {
            let (r, g, b) = s.color();
            RGBColor(r, g, b)
        }
        None => RGBColor(127, 127, 127),
    }
}

/// Draws a figure into a temporary file beside `path` and renames it over `path`, so a
/// reader never sees half a picture.
pub fn atomic(
    path: &Path,
    draw: impl FnOnce(&Path) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let tmp = record::io::temp_path(path);
    let drawn = draw(&tmp).and_then(|()| {
        std::fs::rename(&tmp, path).map_err(|source| ReportError::Io {
            path: path.into(),
            source,
        })
    });
    if drawn.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    drawn
}

pub(crate) fn plot_error(path: &Path) -> impl Fn(String) -> ReportError + '_ {
    move |message| ReportError::Plot {
        path: path.into(),
        message,
    }
}

/// Shorthand for plotters' results.
pub(crate) fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> Result<T, String> {
    r.map_err(|e| format!("{e:?}"))
}

/// Draws a title line at the top of `area` and returns the rest.
pub(crate) fn titled<'a>(
    area: &DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>, String> {
    let (top, rest) = area.split_vertically(if subtitle.is_empty() { 50 } else { 76 });
    ok(top.draw(&Text::new(
        title.to_string(),
        (20, 12),
        ("sans-serif", 28).into_font().style(FontStyle::Bold),
    )))?;
    if !subtitle.is_empty() {
        ok(top.draw(&Text::new(
            subtitle.to_string(),
            (20, 46),
            ("sans-serif", 20),
        )))?;
    }
    Ok(rest)
}

/// Width in pixels of a legend entry.
fn entry_width(label: &str) -> i32 {
    60 + 11 * label.chars().count() as i32
}

/// Height a legend of `items` needs in an area `width` pixels wide (entries wrap).
pub(crate) fn legend_height(items: &[(String, RGBColor)], width: u32) -> u32 {
    let (mut rows, mut x) = (1, 20);
    for (label, _) in items {
        if x + entry_width(label) > width as i32 && x > 20 {
            rows += 1;
            x = 20;
        }
        x += entry_width(label);
    }
    34 * rows + 6
}

/// A legend of coloured swatches along `area`, wrapping onto further rows.
pub(crate) fn legend(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    items: &[(String, RGBColor)],
) -> Result<(), String> {
    let width = area.dim_in_pixel().0 as i32;
    let (mut x, mut y) = (20i32, 0i32);
    for (label, color) in items {
        if x + entry_width(label) > width && x > 20 {
            x = 20;
            y += 34;
        }
        ok(area.draw(&Rectangle::new(
            [(x, y + 14), (x + 34, y + 22)],
            color.filled(),
        )))?;
        ok(area.draw(&Text::new(
            label.clone(),
            (x + 42, y + 8),
            ("sans-serif", 20),
        )))?;
        x += entry_width(label);
    }
    Ok(())
}
