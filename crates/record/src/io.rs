//! The one way records reach disk and come back.
//!
//! Writing: [`write_atomic`] fills a temporary file beside the target (named
//! `.masklab-tmp-<pid>-<n>.<name>`, so it keeps the target's extension and is recognisable as
//! masklab's) and renames it over the target: a reader sees the old file or the new one,
//! never half of one, even if the process is killed mid-write. Files get the user's umask,
//! like any other file they create.
//!
//! Reading: [`read_json`] checks the record's `format` first, then parses it into its type;
//! an error names the file and the field path (`metrics.observed.tasks[0].auc`).

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The prefix of every temporary file masklab writes.
pub const TEMP_PREFIX: &str = ".masklab-tmp-";

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

/// Writes a file atomically: `fill` writes into a temporary file beside `path`, which is
/// then renamed to `path`. On error the temporary file is removed.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), RecordError> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        fill(&mut file)?;
        file.into_inner().map_err(|e| e.into_error())?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(RecordError::io(path))
}

/// A fresh temporary path beside `path`, ending in `path`'s own file name (so tools that
/// choose a format by extension, like an image encoder, see the right one).
pub fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!("{TEMP_PREFIX}{}-{n}.{name}", std::process::id()))
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

/// Whether a file name is one of masklab's temporary files.
pub fn is_temp(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

/// The process id a temporary file name was written by.
fn temp_owner(name: &str) -> Option<u32> {
    name.strip_prefix(TEMP_PREFIX)?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// Removes masklab's temporary files directly inside `dir` that no running process is
/// writing: those of a process that has ended (a killed sweep's leftovers), and with
/// `all` every one. Returns how many were removed.
pub fn remove_temps(dir: &Path, all: bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_temp(&name) {
            continue;
        }
        let orphan = all || temp_owner(&name).is_none_or(|pid| !process_alive(pid));
        if orphan && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether a process with this id runs on this machine (our own counts as running).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        proc.join(pid.to_string()).exists()
    } else {
        true // no way to tell: leave it
    }
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
    fn temporary_files_of_ended_processes_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mine = temp_path(&dir.path().join("a.json"));
        std::fs::write(&mine, "x").unwrap();
        // Process ids above the kernel's maximum (4194304) never run.
        let dead = dir.path().join(format!("{TEMP_PREFIX}4294967-0.b.json"));
        std::fs::write(&dead, "x").unwrap();
        std::fs::write(dir.path().join("c.json"), "x").unwrap();
        assert_eq!(remove_temps(dir.path(), false), 1);
        assert!(mine.exists() && !dead.exists());
        assert_eq!(remove_temps(dir.path(), true), 1);
        assert!(!mine.exists() && dir.path().join("c.json").exists());
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
