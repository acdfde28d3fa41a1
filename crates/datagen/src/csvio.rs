//! Any CSV: feature columns plus 0/1 label columns (`-1` or empty for missing), and an
//! exporter so another tool can train on exactly the data of an experiment.

use crate::input::Input;
use crate::{DataError, Dataset};
use ndarray::Array2;
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

/// Which columns hold labels; every other column is a feature.
#[derive(Clone, Debug, PartialEq)]
pub enum LabelColumns {
    /// Exactly these columns, in this order.
    Named(Vec<String>),
    /// Every column whose name starts with this prefix, in file order.
    Prefix(String),
}

/// Reads a headed CSV into a [`Dataset`]. A file with no missing label also gets its labels
/// as the truth; otherwise the truth is unknown.
pub fn load_csv<'a>(
    input: impl Into<Input<'a>>,
    labels: &LabelColumns,
) -> Result<Dataset, DataError> {
    let input = input.into();
    let path = input.path;
    let bytes = input.read()?;
    let mut reader = csv_reader(&bytes);
    let header = read_header(&mut reader, path)?;
    let label_idx: Vec<usize> = match labels {
        LabelColumns::Named(names) => names
            .iter()
            .map(|name| column_index(&header, name, path))
            .collect::<Result<_, _>>()?,
        LabelColumns::Prefix(prefix) => header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.starts_with(prefix.as_str()))
            .map(|(i, _)| i)
            .collect(),
    };
    if label_idx.is_empty() {
        let wanted = match labels {
            LabelColumns::Named(_) => "(an empty list)".to_string(),
            LabelColumns::Prefix(p) => format!("`{p}*`"),
        };
        return Err(DataError::NoLabelColumns {
            path: path.into(),
            wanted,
        });
    }
    let feature_idx: Vec<usize> = (0..header.len())
        .filter(|i| !label_idx.contains(i))
        .collect();
    if feature_idx.is_empty() {
        return Err(DataError::NoFeatureColumns { path: path.into() });
    }

    let (mut features, mut label_values, mut observed) = (Vec::new(), Vec::new(), Vec::new());
    for_each_record(&mut reader, path, |record, line| {
        for &i in &feature_idx {
            let raw = record[i].trim();
            match raw.parse::<f32>() {
                Ok(v) if v.is_finite() => features.push(v),
                _ => {
                    return Err(DataError::BadFeature {
                        path: path.into(),
                        line,
                        column: header[i].clone(),
                        value: raw.into(),
                    })
                }
            }
        }
        for &i in &label_idx {
            let (value, seen) = match parse_label(&record[i], path, line, &header[i])? {
                Some(v) => (v, true),
                None => (f32::NAN, false),
            };
            label_values.push(value);
            observed.push(seen);
        }
        Ok(())
    })?;
    let rows = observed.len() / label_idx.len();
    if rows == 0 {
        return Err(DataError::NoRows { path: path.into() });
    }
    let features = Array2::from_shape_vec((rows, feature_idx.len()), features)
        .expect("row-major by construction");
    let labels = Array2::from_shape_vec((rows, label_idx.len()), label_values)
        .expect("row-major by construction");
    let observed = Array2::from_shape_vec((rows, label_idx.len()), observed)
        .expect("row-major by construction");
    let complete = observed.iter().all(|&o| o);
    Ok(Dataset {
        features,
        truth: complete.then(|| labels.clone()),
        labels,
        observed,
        feature_names: feature_idx.iter().map(|&i| header[i].clone()).collect(),
        task_names: label_idx.iter().map(|&i| header[i].clone()).collect(),
    })
}

/// Calls `f` with each record and its 1-based line, stopping at the first error.
pub(crate) fn for_each_record(
    reader: &mut csv::Reader<&[u8]>,
    path: &Path,
    mut f: impl FnMut(&csv::StringRecord, u64) -> Result<(), DataError>,
) -> Result<(), DataError> {
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => f(&record, record.position().map_or(0, |p| p.line()))?,
            Err(e) => return Err(DataError::from_csv(path, e)),
        }
    }
}

/// The index of the header column `name`, or an error naming the file and column, and
/// what the header has instead.
pub(crate) fn column_index(header: &[String], name: &str, path: &Path) -> Result<usize, DataError> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| DataError::MissingColumn {
            path: path.into(),
            column: name.into(),
            header: header_hint(header, name),
        })
}

/// Header columns a missing-column error lists, at most: ToxCast's header has 618.
const HINT_COLUMNS: usize = 6;

/// What a header without `name` has: its first columns, and a column that differs from
/// `name` only in case (MoleculeNet's own files call their SMILES column `smiles`).
pub(crate) fn header_hint(header: &[String], name: &str) -> String {
    let shown: Vec<String> = header
        .iter()
        .take(HINT_COLUMNS)
        .map(|h| format!("`{h}`"))
        .collect();
    let mut hint = match header.len() {
        0 => "the header is empty".to_string(),
        n if n > HINT_COLUMNS => format!("it has {}, … ({n} columns)", shown.join(", ")),
        _ => format!("it has {}", shown.join(", ")),
    };
    if let Some(near) = header.iter().find(|h| h.eq_ignore_ascii_case(name)) {
        hint.push_str(&format!("; `{near}` differs only in case"));
    }
    hint
}

/// A label cell: `Some(0.0 | 1.0)` when measured, `None` when missing (empty, `-1`, `NA`),
/// an error naming the file, line and column otherwise.
pub(crate) fn parse_label(
    cell: &str,
    path: &Path,
    line: u64,
    column: &str,
) -> Result<Option<f32>, DataError> {
    match cell.trim() {
        "1" | "1.0" => Ok(Some(1.0)),
        "0" | "0.0" => Ok(Some(0.0)),
        "" | "-1" | "-1.0" | "NA" | "nan" | "NaN" => Ok(None),
        other => Err(DataError::BadLabel {
            path: path.into(),
            line,
            column: column.into(),
            value: other.into(),
        }),
    }
}

/// A CSV reader with a header over bytes already read ([`Input::read`]).
pub(crate) fn csv_reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes)
}

/// The header's column names, refusing duplicates and a header-less file.
pub(crate) fn read_header(
    reader: &mut csv::Reader<&[u8]>,
    path: &Path,
) -> Result<Vec<String>, DataError> {
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| DataError::from_csv(path, e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.iter().all(|h| h.is_empty()) {
        return Err(DataError::Empty { path: path.into() });
    }
    let mut seen = HashSet::new();
    if let Some(dup) = header.iter().find(|h| !seen.insert(h.as_str())) {
        return Err(DataError::DuplicateColumn {
            path: path.into(),
            column: dup.clone(),
        });
    }
    Ok(header)
}

/// Writes `data` as CSV: feature columns, then label columns with `-1` for a missing label.
/// Values are written in the shortest form that reads back to the same `f32`. The file
/// appears whole or not at all (written to a temporary name, then renamed).
pub fn write_csv(data: &Dataset, path: &Path) -> Result<(), DataError> {
    write_atomic(path, |out| {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(data.feature_names.iter().chain(&data.task_names))?;
        let mut fields: Vec<String> = Vec::new();
        for r in 0..data.n_rows() {
            fields.clear();
            fields.extend(data.features.row(r).iter().map(|v| v.to_string()));
            for t in 0..data.n_tasks() {
                fields.push(if data.observed[[r, t]] {
                    format!("{}", data.labels[[r, t]] as i32)
                } else {
                    "-1".into()
                });
            }
            w.write_record(&fields)?;
        }
        w.flush()?;
        Ok(())
    })
}

/// Writes a file atomically and durably: `fill` writes into a temporary file beside `path`,
/// which is synced and renamed over `path` only when `fill` succeeds, and the folder synced,
/// so a reader never sees half a file, even if the process or the machine stops mid-write.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(), DataError> {
    let to_io = |e: Box<dyn std::error::Error>| std::io::Error::other(e.to_string());
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let result = (|| -> std::io::Result<()> {
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut buffered = std::io::BufWriter::new(tmp.as_file_mut());
            fill(&mut buffered).map_err(to_io)?;
            buffered.flush()?;
        }
        tmp.as_file().sync_all()?;
        tmp.persist(path).map_err(|e| e.error)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    result.map_err(|source| DataError::Write {
        path: path.into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn err(bytes: &[u8], labels: &LabelColumns) -> String {
        let dir = tempfile::tempdir().unwrap();
        load_csv(&write(&dir, "bad.csv", bytes), labels)
            .unwrap_err()
            .to_string()
            .replace(&dir.path().display().to_string(), "DIR")
    }

    #[test]
    fn loads_features_labels_and_missing_markers() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "d.csv", b"a,y_cat,b,y_dog\n0.5,1,2,-1\n-1.5,,3e2,0\n");
        let d = load_csv(&p, &LabelColumns::Prefix("y_".into())).unwrap();
        assert_eq!(d.feature_names, vec!["a", "b"]);
        assert_eq!(d.task_names, vec!["y_cat", "y_dog"]);
        assert_eq!(d.features, ndarray::array![[0.5f32, 2.0], [-1.5, 300.0]]);
        assert_eq!(d.observed, ndarray::array![[true, false], [false, true]]);
        assert_eq!((d.labels[[0, 0]], d.labels[[1, 1]]), (1.0, 0.0));
        assert!(d.labels[[0, 1]].is_nan() && d.truth.is_none());
        let named = load_csv(
            &p,
            &LabelColumns::Named(vec!["y_dog".into(), "y_cat".into()]),
        )
        .unwrap();
        assert_eq!(named.task_names, vec!["y_dog", "y_cat"]);
        assert_eq!(
            named.observed,
            ndarray::array![[false, true], [true, false]]
        );
    }

    #[test]
    fn export_then_import_round_trips_exactly() {
        let mut d = toy(500, false, &mut ChaCha8Rng::seed_from_u64(3));
        for r in (0..500).step_by(7) {
            d.drop_label(r, r % 3);
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_csv(&d, &p).unwrap();
        let back = load_csv(
            &p,
            &LabelColumns::Named(vec!["y0".into(), "y1".into(), "y2".into()]),
        )
        .unwrap();
        assert_eq!(back.features, d.features);
        assert_eq!(back.observed, d.observed);
        assert!(back
            .labels
            .iter()
            .zip(&d.labels)
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan())));
        // Nothing else is left in the folder: the temporary file was renamed.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn each_bad_input_names_file_line_and_rule() {
        let y = LabelColumns::Named(vec!["y".into()]);
        assert_eq!(
            err(b"", &y),
            "DIR/bad.csv: the file is empty (a header line is required)"
        );
        assert_eq!(
            err(b"a,b\n1,0\n", &y),
            "DIR/bad.csv: line 1: required column `y` is missing from the header (it has `a`, `b`)"
        );
        assert_eq!(
            err(b"a,Y,c,d,e,f,g\n1,0,0,0,0,0,0\n", &y),
            "DIR/bad.csv: line 1: required column `y` is missing from the header \
             (it has `a`, `Y`, `c`, `d`, `e`, `f`, … (7 columns); `Y` differs only in case)"
        );
        assert_eq!(
            err(b"a,a,y\n1,2,0\n", &y),
            "DIR/bad.csv: line 1: column `a` appears more than once in the header"
        );
        assert_eq!(
            err(b"a,y\n1,0\n2\n", &y),
            "DIR/bad.csv: line 3: 1 fields where the header has 2"
        );
        assert_eq!(
            err(b"a,y\n1,0\nx,1\n", &y),
            "DIR/bad.csv: line 3: column `a`: `x` is not a finite number"
        );
        assert_eq!(
            err(b"a,y\ninf,1\n", &y),
            "DIR/bad.csv: line 2: column `a`: `inf` is not a finite number"
        );
        assert_eq!(
            err(b"a,y\nNaN,1\n", &y),
            "DIR/bad.csv: line 2: column `a`: `NaN` is not a finite number"
        );
        assert_eq!(
            err(b"a,y\n1,2\n", &y),
            "DIR/bad.csv: line 2: column `y`: label `2` is not 0, 1, -1 or empty"
        );
        assert_eq!(
            err(b"a,y\n1,0\n\xff\xfe,1\n", &y),
            "DIR/bad.csv: line 3: not valid UTF-8"
        );
        assert_eq!(
            err(b"a,b\n1,0\n", &LabelColumns::Prefix("lab".into())),
            "DIR/bad.csv: no label columns: none named `lab*`"
        );
        assert_eq!(
            err(b"y\n1\n", &y),
            "DIR/bad.csv: no feature columns: every column is a label"
        );
    }

    #[test]
    fn a_failed_export_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("never.csv");
        let r = write_atomic(&p, |w| {
            w.write_all(b"half a file")?;
            Err("interrupted".into())
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_header_only_file_is_an_error_naming_line_2() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "h.csv", b"x0,y0\n");
        let e = load_csv(&path, &LabelColumns::Prefix("y".into())).unwrap_err();
        assert!(matches!(e, DataError::NoRows { .. }));
        assert!(
            e.to_string()
                .ends_with("h.csv: line 2: the file has a header but no data rows"),
            "{e}"
        );
    }
}
