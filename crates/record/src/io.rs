//! The one way records reach disk and come back.
//!
//! Writing: [`write_atomic`] fills a temporary file beside the target (named for its writer,
//! [`crate::temp`], ending in the target's name so it keeps its extension), `fsync`s it,
//! renames it over the target and `fsync`s the folder: a reader sees the old file or the
//! new one, never half of one, even if the process is killed mid-write, and once it returns
//! the new file survives a crash of the machine (the rename and the data are both on disk).
//! Files get the user's umask, like any other file they create.
//!
//! Reading: [`read_json`] checks the record's `format` first, then parses it into its type;
//! an error names the file and the field path (`metrics.observed.tasks[0].auc`).

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use crate::temp::{is_temp, remove_temps, temp_path, TEMP_PREFIX};

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a masklab record: {field}: {message}")]
    Parse {
        path: PathBuf,
        /// The field path where parsing failed (`.` for the whole file).
        field: String,
        message: String,
    },
    #[error("{path}: format: record format {found:?}, this masklab reads format {expected} (rerun the sweep to rewrite it)")]
    Format {
        path: PathBuf,
        found: Option<u64>,
        expected: u32,
    },
}

impl RecordError {
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RecordError + '_ {
        move |source| RecordError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Writes a file atomically and durably: `fill` writes into a temporary file beside `path`,
/// which is synced, renamed to `path`, and its folder synced. On error the temporary file is
/// removed.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), RecordError> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        fill(&mut file)?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(RecordError::io(path))?;
    sync_parent(path)
}

/// Makes a rename or removal in `path`'s folder durable: `fsync` of the folder.
pub fn sync_parent(path: &Path) -> Result<(), RecordError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(RecordError::io(dir))
}

/// Writes `value` as pretty JSON (with a final newline), atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), RecordError> {
    write_json_bytes(path, serde_json::to_vec_pretty(value))
}

/// Writes `value` as compact JSON (one line), atomically: for records read by programs
/// more than by people, such as a grid of a hundred thousand runs.
pub fn write_json_compact(path: &Path, value: &impl Serialize) -> Result<(), RecordError> {
    write_json_bytes(path, serde_json::to_vec(value))
}

fn write_json_bytes(path: &Path, bytes: serde_json::Result<Vec<u8>>) -> Result<(), RecordError> {
    let bytes = bytes.map_err(|e| RecordError::Parse {
        path: path.into(),
        field: ".".into(),
        message: e.to_string(),
    })?;
    write_atomic(path, |w| {
        w.write_all(&bytes)?;
        w.write_all(b"\n")
    })
}

/// Reads a record: its `format` must be [`crate::FORMAT`], and it must parse as `T`.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, RecordError> {
    let bytes = std::fs::read(path).map_err(RecordError::io(path))?;
    parse_json(path, &bytes)
}

/// [`read_json`] on bytes already read; `path` names them in errors.
pub fn parse_json<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, RecordError> {
    let parse_error = |field: String, message: String| RecordError::Parse {
        path: path.into(),
        field,
        message,
    };
    // The format first, without building the document as a tree (a grid of 100,000 runs
    // would take hundreds of megabytes as `serde_json::Value`s); other fields are skipped.
    #[derive(serde::Deserialize)]
    struct Format {
        format: Option<serde_json::Value>,
    }
    let probe: Format =
        serde_json::from_slice(bytes).map_err(|e| parse_error(".".into(), e.to_string()))?;
    let found = probe.format.as_ref().and_then(serde_json::Value::as_u64);
    if found != Some(crate::FORMAT as u64) {
        return Err(RecordError::Format {
            path: path.into(),
            found,
            expected: crate::FORMAT,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        parse_error(field, e.into_inner().to_string())
    })?;
    de.end()
        .map_err(|e| parse_error(".".into(), e.to_string()))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// A record shaped like masklab's (a format, an id, a list of epochs).
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        format: u32,
        id: String,
        epochs: Vec<crate::outcome::Epoch>,
    }

    fn probe(id: &str) -> Probe {
        Probe {
            format: crate::FORMAT,
            id: id.into(),
            epochs: Vec::new(),
        }
    }

    #[test]
    fn a_record_round_trips_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("timing.json");
        write_json(&path, &probe("r1")).unwrap();
        let back: Probe = read_json(&path).unwrap();
        assert_eq!(back, probe("r1"));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("timing.json")]);
    }

    #[test]
    fn another_format_or_a_bad_field_is_an_error_naming_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.json");
        std::fs::write(&path, r#"{"format": 2, "id": "a", "epochs": []}"#).unwrap();
        let e = read_json::<Probe>(&path).unwrap_err().to_string();
        assert!(
            e.contains("history.json") && e.contains("record format Some(2)"),
            "{e}"
        );
        std::fs::write(&path, r#"{"id": "a", "epochs": []}"#).unwrap();
        assert!(read_json::<Probe>(&path)
            .unwrap_err()
            .to_string()
            .contains("format None"));
        let body = format!(
            r#"{{"format": {}, "id": "a", "epochs": [{{"epoch": 1, "train_loss": "x", "dev_loss": null}}]}}"#,
            crate::FORMAT
        );
        std::fs::write(&path, body).unwrap();
        let e = read_json::<Probe>(&path).unwrap_err().to_string();
        assert!(e.contains("epochs[0].train_loss"), "{e}");
        std::fs::write(&path, "{\"format\": 3, \"id\": ").unwrap();
        assert!(matches!(
            read_json::<Probe>(&path),
            Err(RecordError::Parse { .. })
        ));
    }

    #[test]
    #[cfg(unix)]
    fn records_get_the_permissions_of_any_new_file() {
        // A colleague on a shared cluster file system reads records as any other file:
        // the user's umask decides, not the 0600 of a private temporary file.
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_json(&path, &probe("a")).unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&plain));
    }

    #[test]
    fn a_failed_write_leaves_neither_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        let r = write_atomic(&path, |_| Err(std::io::Error::other("full")));
        assert!(r.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
