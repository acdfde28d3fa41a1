//! PNG figures drawn with plotters, text in the embedded DejaVu Sans (no system fonts: the
//! same pixels on every machine).

mod boundaries;
mod curves;
mod drop_rate;
mod task_bars;
mod task_spread;

pub use boundaries::boundaries;
pub use curves::training_curves;
pub use drop_rate::metric_vs_drop_rate;
pub use task_bars::{task_bars, Layout, Panel};
pub use task_spread::{five_numbers, task_spread};

/// Tasks beyond which a figure shows their spread instead of a bar each.
pub const MANY_TASKS: usize = 24;

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

/// The target summary rows are drawn against: the truth where they have it, else the
/// observed labels.
pub(crate) fn target_of(rows: &[crate::tables::Summary]) -> &'static str {
    if rows.iter().any(|r| r.target == "truth") {
        "truth"
    } else {
        "observed"
    }
}

/// The outline's colour of a legend entry with nothing drawn for it.
const NOT_DRAWN_GREY: RGBColor = RGBColor(150, 150, 150);

/// What a legend entry shows beside its label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Swatch {
    /// A bar in the colour of what the entry's lines, bars or points are drawn in.
    Filled(RGBColor),
    /// Nothing is drawn for the entry (a strategy that did not apply): an empty,
    /// crossed-out box, since a filled grey one would look like the grey where two
    /// strategies' translucent confidence bands overlap.
    NotDrawn,
}

/// One entry of a [`legend`].
#[derive(Clone, Debug)]
pub(crate) struct LegendItem {
    label: String,
    swatch: Swatch,
    /// The heading it goes under: a strategy's family.
    group: Option<&'static str>,
}

impl LegendItem {
    /// A strategy in its colour; one with nothing drawn (`drawn` false: a strategy that
    /// did not apply has no line) reads "(not applicable, no line)" beside an empty box.
    pub(crate) fn strategy(name: &str, drawn: bool) -> LegendItem {
        let (label, swatch) = match drawn {
            true => (name.to_string(), Swatch::Filled(strategy_color(name))),
            false => (
                format!("{name} (not applicable, no line)"),
                Swatch::NotDrawn,
            ),
        };
        LegendItem {
            label,
            swatch,
            group: group_of(name),
        }
    }

    /// The entry with `note` after its label, in brackets.
    pub(crate) fn noted(mut self, note: &str) -> LegendItem {
        self.label = format!("{} ({note})", self.label);
        self
    }

    /// Anything else drawn in `color` (a reference bar), under no heading.
    pub(crate) fn other(label: impl Into<String>, color: RGBColor) -> LegendItem {
        LegendItem {
            label: label.into(),
            swatch: Swatch::Filled(color),
            group: None,
        }
    }
}

/// Legend entries for `strategies`, [`LegendItem::strategy`] each.
pub(crate) fn strategy_items(strategies: &[&str], drawn: impl Fn(&str) -> bool) -> Vec<LegendItem> {
    strategies
        .iter()
        .map(|&s| LegendItem::strategy(s, drawn(s)))
        .collect()
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

/// The heading of a strategy's legend entry: strategies by family, so that a legend of a
/// dozen strategies reads as the baselines, then the partial-label methods.
fn group_of(strategy: &str) -> Option<&'static str> {
    record::Strategy::from_name(strategy).map(|s| {
        if s.is_partial_label() {
            "partial-label methods:"
        } else {
            "masked and the usual alternatives:"
        }
    })
}

/// A legend entry's place: its `x`, its row, and the group heading drawn before it, if any.
type LegendPlace = (i32, i32, Option<&'static str>);

/// Where each legend entry goes and the group headings drawn before entries that start a
/// group, entries wrapping at `width`; and the number of rows. Headings only when the items
/// span more than one group.
fn legend_layout(items: &[LegendItem], width: u32) -> (Vec<LegendPlace>, i32) {
    let groups: std::collections::BTreeSet<_> = items.iter().filter_map(|i| i.group).collect();
    let grouped = groups.len() > 1;
    let (mut row, mut x) = (0, 20);
    let mut placed = Vec::with_capacity(items.len());
    let mut last = None;
    for LegendItem { label, group, .. } in items {
        let group = *group;
        let heading = (grouped && group != last).then_some(group).flatten();
        if heading.is_some() && x > 20 {
            row += 1;
            x = 20;
        }
        let heading_width = heading.map_or(0, |h| 10 * h.chars().count() as i32 + 12);
        if x + heading_width + entry_width(label) > width as i32 && x > 20 {
            row += 1;
            x = 20;
        }
        placed.push((x + heading_width, row, heading));
        x += heading_width + entry_width(label);
        last = group;
    }
    (placed, row + 1)
}

/// Height a legend of `items` needs in an area `width` pixels wide (entries wrap).
pub(crate) fn legend_height(items: &[LegendItem], width: u32) -> u32 {
    let (_, rows) = legend_layout(items, width);
    34 * rows as u32 + 6
}

/// A legend of coloured swatches along `area`, wrapping onto further rows; strategies are
/// grouped under headings by family when both families are there.
pub(crate) fn legend(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    items: &[LegendItem],
) -> Result<(), String> {
    let (placed, _) = legend_layout(items, area.dim_in_pixel().0);
    for (item, &(x, row, heading)) in items.iter().zip(&placed) {
        let y = 34 * row;
        if let Some(h) = heading {
            ok(area.draw(&Text::new(
                h.to_string(),
                (20, y + 8),
                ("sans-serif", 20).into_font().style(FontStyle::Italic),
            )))?;
        }
        swatch(area, (x, y + 14), item.swatch)?;
        ok(area.draw(&Text::new(
            item.label.clone(),
            (x + 42, y + 8),
            ("sans-serif", 20),
        )))?;
    }
    Ok(())
}

/// A legend entry's swatch, 34 × 8 pixels from its top left corner: filled in the entry's
/// colour, or, for an entry with nothing drawn, a grey outline crossed by a diagonal.
fn swatch(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    (x, y): (i32, i32),
    swatch: Swatch,
) -> Result<(), String> {
    let corners = [(x, y), (x + 34, y + 8)];
    if let Swatch::Filled(color) = swatch {
        return ok(area.draw(&Rectangle::new(corners, color.filled())));
    }
    let line = NOT_DRAWN_GREY.stroke_width(2);
    ok(area.draw(&Rectangle::new(corners, line)))?;
    ok(area.draw(&PathElement::new(vec![(x, y + 8), (x + 34, y)], line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A strategy with nothing drawn stays under its family's heading: the entry after it
    /// does not start that family again, and a family of such entries alone still has one.
    #[test]
    fn an_entry_with_nothing_drawn_keeps_its_group() {
        let usual = Some("masked and the usual alternatives:");
        let partial = Some("partial-label methods:");
        let names = ["masked", "complete-case", "single-task", "partial-bce"];
        let items = strategy_items(&names, |s| s != "complete-case");
        let (placed, rows) = legend_layout(&items, 2000);
        let rows_and_headings: Vec<_> = placed.iter().map(|p| (p.1, p.2)).collect();
        assert_eq!(rows, 2);
        assert_eq!(
            rows_and_headings,
            [(0, usual), (0, None), (0, None), (1, partial)]
        );
        let items = strategy_items(&["complete-case", "partial-bce"], |_| false);
        let (placed, _) = legend_layout(&items, 2000);
        assert_eq!((placed[0].2, placed[1].2), (usual, partial));
    }

    /// A strategy with a line gets a filled swatch in its colour; one without gets an empty
    /// box (background inside, off its diagonal), so it cannot pass for a grey band.
    #[test]
    fn an_entry_with_nothing_drawn_is_an_empty_crossed_box() {
        fonts();
        let items = strategy_items(&["masked", "complete-case"], |s| s == "masked");
        assert_eq!(items[1].label, "complete-case (not applicable, no line)");
        let (width, height) = (800u32, 40u32);
        let mut pixels = vec![0u8; (width * height * 3) as usize];
        {
            let area = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
            area.fill(&WHITE).unwrap();
            legend(&area, &items).unwrap();
            area.present().unwrap();
        }
        let (placed, _) = legend_layout(&items, width);
        let at = |x: i32, y: i32| {
            let i = 3 * (y as usize * width as usize + x as usize);
            RGBColor(pixels[i], pixels[i + 1], pixels[i + 2])
        };
        let (filled, empty) = (placed[0].0, placed[1].0);
        assert_eq!(at(filled + 17, 18), strategy_color("masked"));
        // Inside the empty box, above its diagonal (which runs from bottom left to top
        // right): the background; on its outline: the outline's grey.
        assert_eq!(at(empty + 4, 16), WHITE);
        assert_eq!(at(empty + 17, 14), NOT_DRAWN_GREY);
    }
}
