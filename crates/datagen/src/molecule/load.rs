//! A CSV of molecules: a SMILES column plus 0/1 label columns (empty, `-1` or `NA` for a
//! label that was not measured), as MoleculeNet distributes Tox21.

use super::Molecule;
use crate::csvio::{column_index, csv_reader, for_each_record, parse_label, read_header};
use crate::input::Input;
use crate::DataError;
use ndarray::Array2;
use rayon::prelude::*;

/// Which columns to read.
#[derive(Clone, Debug, PartialEq)]
pub struct SmilesOptions {
    /// The SMILES column's name (default `SMILES`).
    pub smiles_column: String,
    /// Label columns by name, in this order; `None`: every other column.
    pub label_columns: Option<Vec<String>>,
    /// A column whose values are kept as they are (a predefined split's).
    pub split_column: Option<String>,
    /// Reading to list features (`masklab featurize`): a file without label columns is read,
    /// and any share of unreadable SMILES is skipped and listed rather than refused.
    pub listing: bool,
}

impl Default for SmilesOptions {
    fn default() -> Self {
        SmilesOptions {
            smiles_column: "SMILES".into(),
            label_columns: None,
            split_column: None,
            listing: false,
        }
    }
}

/// The molecules that parsed, their labels, and what was skipped.
#[derive(Clone, Debug)]
pub struct SmilesCsv {
    pub molecules: Vec<Molecule>,
    /// 0/1, NaN where not measured.
    pub labels: Array2<f32>,
    pub observed: Array2<bool>,
    pub task_names: Vec<String>,
    /// Rows whose SMILES did not parse: `(file line, SMILES, reason)`.
    pub skipped: Vec<(u64, String, String)>,
    /// The split column's value and file line of each molecule, when one was asked for.
    pub split_values: Option<Vec<(String, u64)>>,
    /// The file line and SMILES (as written) of each molecule.
    pub lines: Vec<u64>,
    pub smiles: Vec<String>,
}

/// One CSV row as read, before its SMILES is parsed.
struct Row {
    line: u64,
    smiles: String,
    split_value: Option<String>,
    /// `None` where the label was not measured.
    labels: Vec<Option<f32>>,
}

/// The most unparseable SMILES a file may have: 1% of its rows.
pub const MAX_SKIPPED_SHARE: f64 = 0.01;

/// Reads a SMILES CSV. Rows whose SMILES does not parse are skipped and listed; more than
/// 1% of them is an error naming the file and the first lines.
pub fn load_smiles_csv<'a>(
    input: impl Into<Input<'a>>,
    options: &SmilesOptions,
) -> Result<SmilesCsv, DataError> {
    let input = input.into();
    let path = input.path;
    let bytes = input.read()?;
    let mut reader = csv_reader(&bytes);
    let header = read_header(&mut reader, path)?;
    let column = |name: &str| column_index(&header, name, path);
    let smiles_idx = column(&options.smiles_column)?;
    let split_idx = options.split_column.as_deref().map(column).transpose()?;
    let label_idx: Vec<usize> = match &options.label_columns {
        Some(names) => names.iter().map(|n| column(n)).collect::<Result<_, _>>()?,
        None => (0..header.len())
            .filter(|&i| i != smiles_idx && Some(i) != split_idx)
            .collect(),
    };
    if label_idx.is_empty() && !options.listing {
        return Err(DataError::NoLabelColumns {
            path: path.into(),
            wanted: "(any column besides the SMILES)".into(),
        });
    }
    // The file is read in order first (a bad label stops at its line), then the SMILES are
    // parsed on all cores: each molecule is its own, so the result is the same in any order.
    let mut records: Vec<Row> = Vec::new();
    for_each_record(&mut reader, path, |record, line| {
        let mut labels = Vec::with_capacity(label_idx.len());
        for &i in &label_idx {
            labels.push(parse_label(&record[i], path, line, &header[i])?);
        }
        records.push(Row {
            line,
            smiles: record[smiles_idx].trim().to_string(),
            split_value: split_idx.map(|i| record[i].trim().to_string()),
            labels,
        });
        Ok(())
    })?;
    let rows = records.len();
    let parsed: Vec<_> = records
        .par_iter()
        .map(|r| Molecule::from_smiles(&r.smiles))
        .collect();
    let (mut molecules, mut labels, mut observed, mut skipped) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut split_values, mut lines, mut written) = (Vec::new(), Vec::new(), Vec::new());
    for (row, molecule) in records.into_iter().zip(parsed) {
        match molecule {
            Ok(m) => {
                molecules.push(m);
                lines.push(row.line);
                written.push(row.smiles);
                if let Some(value) = row.split_value {
                    split_values.push((value, row.line));
                }
                for label in row.labels {
                    labels.push(label.unwrap_or(f32::NAN));
                    observed.push(label.is_some());
                }
            }
            Err(e) => skipped.push((row.line, row.smiles, e.to_string())),
        }
    }
    if rows == 0 {
        return Err(DataError::NoRows { path: path.into() });
    }
    if !options.listing && skipped.len() as f64 > MAX_SKIPPED_SHARE * rows as f64 {
        return Err(DataError::BadSmiles {
            path: path.into(),
            count: skipped.len(),
            rows,
            lines: skipped
                .iter()
                .take(5)
                .map(|s| format!("line {}: `{}` ({})", s.0, s.1, s.2))
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    let n = molecules.len();
    Ok(SmilesCsv {
        molecules,
        labels: Array2::from_shape_vec((n, label_idx.len()), labels).expect("row-major"),
        observed: Array2::from_shape_vec((n, label_idx.len()), observed).expect("row-major"),
        task_names: label_idx.iter().map(|&i| header[i].clone()).collect(),
        skipped,
        split_values: split_idx.map(|_| split_values),
        lines,
        smiles: written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, body: &str) -> std::path::PathBuf {
        let p = dir.path().join("m.csv");
        std::fs::write(&p, body).unwrap();
        p
    }

    #[test]
    fn labels_with_gaps_and_a_skipped_smiles() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = String::from("SMILES,a,b\nCCO,1,\nc1ccccc1,NA,0\n");
        for _ in 0..200 {
            body.push_str("CC,0,1\n");
        }
        body.push_str("C1CC,1,1\n"); // an unclosed ring: skipped (1 of 203 rows < 1%)
        let d = load_smiles_csv(&write(&dir, &body), &SmilesOptions::default()).unwrap();
        assert_eq!(d.molecules.len(), 202);
        assert_eq!(d.task_names, vec!["a", "b"]);
        assert_eq!(
            (d.observed[[0, 0]], d.observed[[0, 1]], d.observed[[1, 0]]),
            (true, false, false)
        );
        assert_eq!(d.labels[[1, 1]], 0.0);
        assert!(d.labels[[0, 1]].is_nan());
        assert_eq!(d.skipped.len(), 1);
        assert_eq!(d.skipped[0].0, 204);
    }

    #[test]
    fn too_many_bad_smiles_a_missing_column_and_an_empty_file_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let e = load_smiles_csv(
            &write(&dir, "SMILES,a\nCC,1\nC1CC,0\nCXC,1\n"),
            &SmilesOptions::default(),
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("2 of 3 SMILES do not parse")
                && text.contains("line 3: `C1CC`")
                && text.contains("line 4: `CXC`"),
            "{text}"
        );
        let e = load_smiles_csv(&write(&dir, "smiles,a\nCC,1\n"), &SmilesOptions::default())
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("required column `SMILES` is missing from the header (it has `smiles`, `a`; `smiles` differs only in case)"),
            "{e}"
        );
        let e = load_smiles_csv(&write(&dir, ""), &SmilesOptions::default()).unwrap_err();
        assert!(matches!(e, DataError::Empty { .. }));
        let e = load_smiles_csv(&write(&dir, "SMILES,a\n"), &SmilesOptions::default()).unwrap_err();
        assert!(matches!(e, DataError::NoRows { .. }));
        let opts = SmilesOptions {
            smiles_column: "s".into(),
            label_columns: Some(vec!["b".into()]),
            split_column: None,
            listing: false,
        };
        let d = load_smiles_csv(&write(&dir, "a,s,b\n1,CC,0\n"), &opts).unwrap();
        assert_eq!(
            (d.task_names.clone(), d.labels[[0, 0]]),
            (vec!["b".to_string()], 0.0)
        );
    }

    #[test]
    fn the_shipped_tox21_file_loads() {
        let path = crate::mbti::tests::data_path("tox21.csv.gz");
        let d = load_smiles_csv(&path, &SmilesOptions::default()).unwrap();
        assert_eq!(d.task_names.len(), 12);
        assert_eq!(d.molecules.len() + d.skipped.len(), 7831);
        assert!(
            d.skipped.is_empty(),
            "purr reads every Tox21 SMILES: {:?}",
            d.skipped.first()
        );
        // 17.1% of the labels are missing (data/README.md).
        let missing = d.observed.iter().filter(|&&o| !o).count() as f64 / d.observed.len() as f64;
        assert!((missing - 0.171).abs() < 0.005, "{missing}");
    }
}
