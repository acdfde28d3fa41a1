//! Run logs: how a sweep keeps its runs' records, a line each, at a few hundred bytes a run.
//!
//! Each writer (an unsharded sweep, or one shard: [`writer_name`]) appends one
//! [`RunRecord`] line per finished attempt to its own `runs/<writer>.jsonl`, holding the
//! writer's lock, so no two processes ever write one log. A line is written with one
//! `write` call on a file opened for appending and synced (`fdatasync`) before the run
//! counts as written: a killed writer leaves at most one torn last line (no newline), which
//! readers skip and the next [`LogWriter::open`] cuts off.
//!
//! When a sweep finishes, [`LogWriter::seal`] compresses its log into
//! `runs/<writer>.<n>.jsonl.gz`, `n` one more than any sealed log of any writer in the
//! folder, so seal numbers order the logs in time. The gzip is written, synced, renamed into
//! place and the folder synced before the plain log is removed: after a crash at any point
//! the lines are in one of the two files.
//!
//! Readers ([`scan`], and [`crate::runs`] for the rule of which line counts) take the logs in
//! [`log_files`] order: sealed logs by seal number (numerically, `.2` before `.10`), then
//! open logs. A sealed log that does not decode (a zero-filled file a crash left on some
//! file systems) is reported as damaged, never read in part, and none of its lines count.

use crate::io::{parse_json, sync_parent, write_atomic, RecordError};
use crate::outcome::{files, RunRecord};
use flate2::read::MultiGzDecoder;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The log name of a sweep: `all`, or `shard-K-of-N`.
pub fn writer_name(shard: Option<(usize, usize)>) -> String {
    match shard {
        Some((k, n)) => format!("shard-{k}-of-{n}"),
        None => "all".into(),
    }
}

/// An open run log, appended to one line per run.
#[derive(Debug)]
pub struct LogWriter {
    path: PathBuf,
    file: File,
}

impl LogWriter {
    /// Opens (creating) `<out>/runs/<writer>.jsonl` for appending; a torn last line left by
    /// a killed writer is cut off first. The caller holds the writer's lock.
    pub fn open(out: &Path, writer: &str) -> Result<LogWriter, RecordError> {
        let dir = out.join(files::RUNS);
        std::fs::create_dir_all(&dir).map_err(RecordError::io(&dir))?;
        let path = dir.join(format!("{writer}.jsonl"));
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(RecordError::io(&path))?;
        let whole = end_of_last_line(&mut file).map_err(RecordError::io(&path))?;
        if whole < file.metadata().map_err(RecordError::io(&path))?.len() {
            file.set_len(whole).map_err(RecordError::io(&path))?;
        }
        Ok(LogWriter { path, file })
    }

    /// Appends `record` as one line.
    pub fn append(&mut self, record: &RunRecord) -> Result<(), RecordError> {
        let mut line = serde_json::to_vec(record).map_err(|e| RecordError::Parse {
            path: self.path.clone(),
            field: ".".into(),
            message: e.to_string(),
        })?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(RecordError::io(&self.path))
    }

    /// Compresses the log into `runs/<writer>.<n>.jsonl.gz`, with `n` one more than any
    /// sealed log in the folder, and removes the plain log once the gzip is durably in
    /// place. An empty log is just removed. Returns the sealed file.
    pub fn seal(self) -> Result<Option<PathBuf>, RecordError> {
        let LogWriter { path, file } = self;
        drop(file);
        let bytes = std::fs::read(&path).map_err(RecordError::io(&path))?;
        if bytes.is_empty() {
            std::fs::remove_file(&path).map_err(RecordError::io(&path))?;
            return Ok(None);
        }
        let stem = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".jsonl"))
            .unwrap_or_default()
            .to_string();
        let dir = path.parent().unwrap_or(Path::new("."));
        let next = log_files(dir.parent().unwrap_or(Path::new(".")))?
            .iter()
            .filter_map(|f| f.seal)
            .max()
            .map_or(1, |n| n + 1);
        let sealed = dir.join(format!("{stem}.{next}.jsonl.gz"));
        write_atomic(&sealed, |w| {
            let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
            gz.write_all(&bytes)?;
            gz.finish().map(|_| ())
        })?;
        std::fs::remove_file(&path).map_err(RecordError::io(&path))?;
        sync_parent(&path)?;
        Ok(Some(sealed))
    }
}

/// The length of the file up to and including its last newline (0 if it has none).
fn end_of_last_line(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    let mut end = len;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if let Some(i) = part.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// One run log of a results folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFile {
    pub path: PathBuf,
    /// The writer that wrote it (`all`, `shard-K-of-N`).
    pub writer: String,
    /// The seal number of a sealed log; `None` for an open one.
    pub seal: Option<u64>,
}

impl LogFile {
    /// `<writer>.jsonl` or `<writer>.<n>.jsonl.gz`; anything else is not a log.
    fn of_name(path: PathBuf) -> Option<LogFile> {
        let name = path.file_name()?.to_str()?.to_string();
        if crate::io::is_temp(&name) {
            return None;
        }
        if let Some(writer) = name.strip_suffix(".jsonl") {
            return Some(LogFile {
                writer: writer.to_string(),
                path,
                seal: None,
            });
        }
        let (writer, n) = name.strip_suffix(".jsonl.gz")?.rsplit_once('.')?;
        Some(LogFile {
            writer: writer.to_string(),
            seal: Some(n.parse().ok()?),
            path,
        })
    }

    fn order(&self) -> (bool, u64, &str) {
        (self.seal.is_none(), self.seal.unwrap_or(0), &self.writer)
    }
}

/// The run logs of a results folder, oldest first: sealed logs by seal number (numerically),
/// then open logs; ties by writer name.
pub fn log_files(out: &Path) -> Result<Vec<LogFile>, RecordError> {
    let dir = out.join(files::RUNS);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RecordError::io(&dir)(e)),
    };
    let mut logs: Vec<LogFile> = entries
        .flatten()
        .filter_map(|e| LogFile::of_name(e.path()))
        .collect();
    logs.sort_by(|a, b| a.order().cmp(&b.order()));
    Ok(logs)
}

/// How reading a log ended.
#[derive(Debug)]
pub enum LogEnd {
    Whole,
    /// A torn last line (a writer killed mid-line), or a sealed log cut short: what came
    /// before was read.
    Torn,
    /// The log does not decode: nothing of it may be trusted.
    Damaged(String),
}

/// Hands each whole line of `log` to `each` with its line number (from 1).
pub fn read_lines(
    log: &LogFile,
    mut each: impl FnMut(usize, &[u8]),
) -> Result<LogEnd, RecordError> {
    let file = File::open(&log.path).map_err(RecordError::io(&log.path))?;
    let gz = log.seal.is_some();
    let mut reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::new(MultiGzDecoder::new(BufReader::new(file))))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) if line.last() != Some(&b'\n') => return Ok(LogEnd::Torn),
            Ok(_) => each(number, &line),
            Err(e) if gz && e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(LogEnd::Torn)
            }
            Err(e) if gz => return Ok(LogEnd::Damaged(e.to_string())),
            Err(e) => return Err(RecordError::io(&log.path)(e)),
        }
    }
    Ok(LogEnd::Whole)
}

/// A log line's place in error messages: `runs/all.1.jsonl.gz: line 3`.
pub fn line_name(log: &LogFile, number: usize) -> PathBuf {
    PathBuf::from(format!("{}: line {number}", log.path.display()))
}

/// What [`scan`] passed over besides the records it handed on.
#[derive(Debug, Default)]
pub struct Scan {
    /// Lines of another record format (an older masklab's; their runs have other ids).
    pub other_format: usize,
    /// Torn last lines (a writer killed mid-line).
    pub torn: usize,
    /// Lines that do not parse, each as an error naming the log, the line and the field.
    pub damaged: Vec<RecordError>,
    /// Sealed logs that do not decode; none of their lines is handed on.
    pub damaged_logs: Vec<(LogFile, String)>,
    /// When a log was last written.
    pub newest: Option<SystemTime>,
}

impl Scan {
    /// Notes how a log's reading ended.
    pub fn note_end(&mut self, log: &LogFile, end: LogEnd) {
        match end {
            LogEnd::Whole => {}
            LogEnd::Torn => self.torn += 1,
            LogEnd::Damaged(why) => self.damaged_logs.push((log.clone(), why)),
        }
    }

    /// Notes when a log was last written.
    pub fn note_modified(&mut self, log: &LogFile) {
        let modified = std::fs::metadata(&log.path).and_then(|m| m.modified()).ok();
        self.newest = self.newest.max(modified);
    }

    /// Parses a line, counting it as another format or damaged when it is not a record.
    pub fn parse(&mut self, log: &LogFile, number: usize, line: &[u8]) -> Option<RunRecord> {
        match parse_json::<RunRecord>(&line_name(log, number), line) {
            Ok(record) => Some(record),
            Err(RecordError::Format { .. }) => {
                self.other_format += 1;
                None
            }
            Err(e) => {
                self.damaged.push(e);
                None
            }
        }
    }
}

/// Reads every line of every run log of `out` and hands each record to `each`: every
/// attempt, whichever counts (see [`crate::runs`] for that, which also holds one record at
/// a time). A log's records are handed on once the whole log has read, so that a damaged
/// sealed log is reported with none of its lines handed on; this holds one log's records
/// at a time. Only failing to read a log is an error.
pub fn scan(out: &Path, mut each: impl FnMut(RunRecord)) -> Result<Scan, RecordError> {
    let mut scan = Scan::default();
    for log in log_files(out)? {
        scan.note_modified(&log);
        let mut records = Vec::new();
        let end = read_lines(&log, |number, line| {
            records.extend(scan.parse(&log, number, line))
        })?;
        let damaged = matches!(end, LogEnd::Damaged(_));
        scan.note_end(&log, end);
        if !damaged {
            records.into_iter().for_each(&mut each);
        }
    }
    Ok(scan)
}

/// Moves a damaged log aside, into `runs/damaged/`, where readers do not look; returns
/// where it went.
pub fn set_aside(log: &LogFile) -> Result<PathBuf, RecordError> {
    let runs = log.path.parent().unwrap_or(Path::new("."));
    let dir = runs.join("damaged");
    std::fs::create_dir_all(&dir).map_err(RecordError::io(&dir))?;
    let name = log.path.file_name().unwrap_or_default().to_string_lossy();
    let mut target = dir.join(&*name);
    for n in 1.. {
        if !target.exists() {
            break;
        }
        target = dir.join(format!("{name}.{n}"));
    }
    std::fs::rename(&log.path, &target).map_err(RecordError::io(&log.path))?;
    sync_parent(&log.path)?;
    sync_parent(&target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Outcome, RunRecord};
    use crate::spec::Streams;

    fn record(id: &str, reason: &str) -> RunRecord {
        let streams = Streams {
            data: 1,
            split: 2,
            drops: 3,
            init: 4,
            batches: 5,
        };
        RunRecord::failed(id.into(), streams, reason.into())
    }

    fn read_all(out: &Path) -> (Vec<String>, Scan) {
        let mut ids = Vec::new();
        let scan = scan(out, |r| ids.push(r.id)).unwrap();
        (ids, scan)
    }

    #[test]
    fn lines_round_trip_through_open_and_sealed_logs_in_name_order() {
        let out = tempfile::tempdir().unwrap();
        let mut log = LogWriter::open(out.path(), "all").unwrap();
        log.append(&record("a", "x")).unwrap();
        log.append(&record("b", "y")).unwrap();
        let sealed = log.seal().unwrap().unwrap();
        assert!(sealed.ends_with("runs/all.1.jsonl.gz"));
        let mut log = LogWriter::open(out.path(), "all").unwrap();
        log.append(&record("c", "z")).unwrap();
        drop(log);
        let (ids, scan) = read_all(out.path());
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(
            (scan.torn, scan.other_format, scan.damaged.len()),
            (0, 0, 0)
        );
        let mut back = Vec::new();
        super::scan(out.path(), |r| back.push(r)).unwrap();
        assert!(matches!(&back[2].outcome, Outcome::Failed { reason } if reason == "z"));
        // A second seal takes the next number; an empty log seals to nothing.
        let log = LogWriter::open(out.path(), "all").unwrap();
        assert!(log
            .seal()
            .unwrap()
            .unwrap()
            .ends_with("runs/all.2.jsonl.gz"));
        let log = LogWriter::open(out.path(), "all").unwrap();
        assert_eq!(log.seal().unwrap(), None);
        assert_eq!(read_all(out.path()).0, ["a", "b", "c"]);
    }

    #[test]
    fn a_torn_last_line_is_skipped_then_cut_off_by_the_next_writer() {
        let out = tempfile::tempdir().unwrap();
        let mut log = LogWriter::open(out.path(), "shard-0-of-2").unwrap();
        log.append(&record("a", "x")).unwrap();
        drop(log);
        let path = out.path().join("runs/shard-0-of-2.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"format":5,"id":"b","str"#).unwrap();
        drop(f);
        let (ids, scan) = read_all(out.path());
        assert_eq!((ids, scan.torn), (vec!["a".to_string()], 1));
        let mut log = LogWriter::open(out.path(), "shard-0-of-2").unwrap();
        log.append(&record("c", "y")).unwrap();
        drop(log);
        let (ids, scan) = read_all(out.path());
        assert_eq!(
            (ids, scan.torn),
            (vec!["a".to_string(), "c".to_string()], 0)
        );
    }

    #[test]
    fn old_formats_are_counted_and_damaged_lines_named_by_log_line_and_field() {
        let out = tempfile::tempdir().unwrap();
        let mut log = LogWriter::open(out.path(), "all").unwrap();
        log.append(&record("a", "x")).unwrap();
        drop(log);
        let path = out.path().join("runs/all.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"format\":4,\"id\":\"old\"}\n").unwrap();
        let bad = format!("{{\"format\":{},\"id\":7}}\n", crate::FORMAT);
        f.write_all(bad.as_bytes()).unwrap();
        drop(f);
        let (ids, scan) = read_all(out.path());
        assert_eq!(ids, ["a"]);
        assert_eq!(scan.other_format, 1);
        let message = scan.damaged[0].to_string();
        assert!(
            message.contains("all.jsonl: line 3") && message.contains("id"),
            "{message}"
        );
    }

    #[test]
    fn a_folder_without_logs_reads_as_empty() {
        let out = tempfile::tempdir().unwrap();
        let (ids, scan) = read_all(out.path());
        assert!(ids.is_empty() && scan.newest.is_none());
    }
}
