//! `masklab featurize`: a SMILES file's features as a sweep computes them, written out to
//! inspect or reuse: per input line, the SMILES, its Bemis–Murcko scaffold key, its folded
//! ECFP fingerprint (bits or counts) and, when asked, its 41 descriptors (one column each,
//! named as RDKit names them, as computed: a sweep standardises them on its training rows),
//! or why the line was skipped.
//!
//! The molecules are read, perceived and fingerprinted by the functions a sweep's
//! `smiles-csv` source uses (`datagen::molecule`), with the same defaults. Parquet keeps the
//! fingerprint as two list columns (`positions`, `values`); CSV as one `features` column of
//! `position:value` pairs separated by spaces.

use anyhow::Context;
use datagen::molecule::descriptors::{self, descriptors as descriptors_of};
use datagen::molecule::ecfp::{ecfp, EcfpParams};
use datagen::molecule::scaffold::scaffold_hash;
use datagen::molecule::{load_smiles_csv, SmilesOptions};
use polars::prelude::*;
use std::path::Path;

/// One input line's features.
struct Line {
    line: u64,
    smiles: String,
    scaffold: Option<String>,
    features: Vec<(usize, f32)>,
    descriptors: Option<[f64; 41]>,
    skipped: Option<String>,
}

/// Reads `file` (`.csv` or `.csv.gz`) and writes its features to `out` (`.parquet`, else
/// CSV). Returns (molecules, skipped lines).
pub fn featurize(
    file: &Path,
    smiles_column: &str,
    params: &EcfpParams,
    with_descriptors: bool,
    out: &Path,
) -> anyhow::Result<(usize, usize)> {
    // Only the SMILES is read: other columns (labels, identifiers) are left as they are.
    let options = SmilesOptions {
        smiles_column: smiles_column.to_string(),
        label_columns: Some(Vec::new()),
        listing: true,
        ..SmilesOptions::default()
    };
    let loaded = load_smiles_csv(file, &options)?;
    let mut lines: Vec<Line> = loaded
        .molecules
        .iter()
        .zip(&loaded.lines)
        .zip(&loaded.smiles)
        .map(|((m, &line), smiles)| Line {
            line,
            smiles: smiles.clone(),
            scaffold: Some(format!("{:016x}", scaffold_hash(m))),
            features: ecfp(m, params),
            descriptors: with_descriptors.then(|| descriptors_of(m)),
            skipped: None,
        })
        .collect();
    lines.extend(loaded.skipped.iter().map(|(line, smiles, why)| Line {
        line: *line,
        smiles: smiles.clone(),
        scaffold: None,
        features: Vec::new(),
        descriptors: None,
        skipped: Some(why.clone()),
    }));
    lines.sort_by_key(|l| l.line);
    let frame = frame(
        &lines,
        out.extension().is_some_and(|e| e == "parquet"),
        with_descriptors,
    )?;
    report::tables::write_frame(&frame, out)
        .with_context(|| format!("writing {}", out.display()))?;
    Ok((loaded.molecules.len(), loaded.skipped.len()))
}

fn frame(lines: &[Line], lists: bool, with_descriptors: bool) -> anyhow::Result<DataFrame> {
    let mut columns = vec![
        Column::new(
            "line".into(),
            lines.iter().map(|l| l.line).collect::<Vec<_>>(),
        ),
        Column::new(
            "smiles".into(),
            lines.iter().map(|l| l.smiles.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "scaffold".into(),
            lines
                .iter()
                .map(|l| l.scaffold.as_deref())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "skipped".into(),
            lines
                .iter()
                .map(|l| l.skipped.as_deref())
                .collect::<Vec<_>>(),
        ),
    ];
    if lists {
        let positions: Vec<Series> = lines
            .iter()
            .map(|l| {
                Series::new(
                    "".into(),
                    l.features.iter().map(|f| f.0 as u32).collect::<Vec<_>>(),
                )
            })
            .collect();
        let values: Vec<Series> = lines
            .iter()
            .map(|l| {
                Series::new(
                    "".into(),
                    l.features.iter().map(|f| f.1).collect::<Vec<_>>(),
                )
            })
            .collect();
        columns.push(Column::new("positions".into(), positions));
        columns.push(Column::new("values".into(), values));
    } else {
        let text: Vec<String> = lines
            .iter()
            .map(|l| {
                l.features
                    .iter()
                    .map(|(p, v)| format!("{p}:{v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        columns.push(Column::new("features".into(), text));
    }
    if with_descriptors {
        for (j, name) in descriptors::NAMES.iter().enumerate() {
            let values: Vec<Option<f64>> =
                lines.iter().map(|l| l.descriptors.map(|d| d[j])).collect();
            columns.push(Column::new((*name).into(), values));
        }
    }
    Ok(DataFrame::new(lines.len(), columns)?)
}
