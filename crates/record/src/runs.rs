//! Which line of a run id counts: the one rule that the sweep, `status`, the report and the
//! tests all use.
//!
//! A run id may have several lines across the run logs: a failed attempt and a later
//! success, a success recomputed by `sweep --force`, or lines written under other stream
//! seeds (by a masklab that derived them differently). The line that counts is **the latest
//! successful attempt whose stream seeds are the run's**, in log order ([`log_files`]:
//! sealed logs by seal number, then open logs; within a log, later lines are later); where
//! there is none, the latest failed attempt with the run's seeds says why the run failed.
//! Lines with other seeds, lines of ids the caller does not expect, and every line of a
//! damaged log never count.
//!
//! Reading is two passes over the logs, so that a reader holds one record at a time: the
//! first finds each id's counting line, the second parses and hands on only those.

use crate::io::RecordError;
use crate::log::{log_files, read_lines, LogEnd, LogFile, Scan};
use crate::outcome::RunRecord;
use crate::spec::Streams;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// A line's place: (log index in [`log_files`] order, line number).
type Place = (usize, usize);

/// Reads the counting line of every run id that `expected` knows (it gives the run's stream
/// seeds), handing each to `each`, in log order. The [`Scan`] says what was passed over.
pub fn read_counted(
    out: &Path,
    expected: impl Fn(&str) -> Option<Streams>,
    mut each: impl FnMut(RunRecord),
) -> Result<Scan, RecordError> {
    let logs = log_files(out)?;
    let mut scan = Scan::default();
    let mut latest_ok: HashMap<String, Place> = HashMap::new();
    let mut latest_failed: HashMap<String, Place> = HashMap::new();
    for (index, log) in logs.iter().enumerate() {
        scan.note_modified(log);
        let mut found: Vec<(String, bool, usize)> = Vec::new();
        let end = read_lines(log, |number, line| {
            if let Some(r) = scan.parse(log, number, line) {
                if expected(&r.id) == Some(r.streams) {
                    let ok = r.is_ok();
                    found.push((r.id, ok, number));
                }
            }
        })?;
        // A damaged log's lines never count.
        if !matches!(end, LogEnd::Damaged(_)) {
            for (id, ok, number) in found {
                let latest = if ok {
                    &mut latest_ok
                } else {
                    &mut latest_failed
                };
                latest.insert(id, (index, number));
            }
        }
        scan.note_end(log, end);
    }
    for (id, place) in latest_failed {
        latest_ok.entry(id).or_insert(place);
    }
    let counting: HashSet<Place> = latest_ok.into_values().collect();
    // Only logs holding a counting line are read again (never a damaged one: none of its
    // lines counts).
    let needed: HashSet<usize> = counting.iter().map(|&(log, _)| log).collect();
    for (index, log) in logs.iter().enumerate() {
        if !needed.contains(&index) {
            continue;
        }
        hand_on(log, index, &counting, &mut each)?;
    }
    Ok(scan)
}

/// The second pass over one log: parses only its counting lines.
fn hand_on(
    log: &LogFile,
    index: usize,
    counting: &HashSet<Place>,
    each: &mut impl FnMut(RunRecord),
) -> Result<(), RecordError> {
    let mut quiet = Scan::default(); // what the first pass already counted
    read_lines(log, |number, line| {
        if counting.contains(&(index, number)) {
            if let Some(r) = quiet.parse(log, number, line) {
                each(r);
            }
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::LogWriter;
    use crate::outcome::{Outcome, RunRecord};

    fn streams(seed: u64) -> Streams {
        Streams {
            data: seed,
            split: 2,
            drops: 3,
            init: 4,
            batches: 5,
        }
    }

    fn failed(id: &str, seed: u64, reason: &str) -> RunRecord {
        RunRecord::failed(id.into(), streams(seed), reason.into())
    }

    /// A successful record, told apart by its `train_rows`.
    fn ok(id: &str, seed: u64, rows: usize) -> RunRecord {
        let mut r = crate::outcome::tests::ok_record(id, streams(seed));
        if let Outcome::Ok { metrics } = &mut r.outcome {
            metrics.train_rows = rows;
        }
        r
    }

    fn counted(out: &Path) -> (HashMap<String, String>, Scan) {
        let mut seen = HashMap::new();
        let scan = read_counted(
            out,
            |id| (id != "stranger").then_some(streams(1)),
            |r| {
                let what = match &r.outcome {
                    Outcome::Ok { metrics } => format!("ok {}", metrics.train_rows),
                    Outcome::Failed { reason } => format!("failed {reason}"),
                };
                assert!(seen.insert(r.id.clone(), what).is_none(), "one line an id");
            },
        )
        .unwrap();
        (seen, scan)
    }

    fn write(out: &Path, writer: &str, records: &[RunRecord], seal: bool) {
        let mut log = LogWriter::open(out, writer).unwrap();
        for r in records {
            log.append(r).unwrap();
        }
        if seal {
            log.seal().unwrap();
        }
    }

    #[test]
    fn the_latest_success_with_the_runs_seeds_counts_in_numeric_seal_order() {
        let out = tempfile::tempdir().unwrap();
        // Seals 1..=10, each a newer attempt of "a"; seal 10 must win over seal 2
        // (a name sort would put `all.10` before `all.2`).
        for rows in 1..=10 {
            write(out.path(), "all", &[ok("a", 1, rows)], true);
        }
        assert!(out.path().join("runs/all.10.jsonl.gz").exists());
        // "b": a success, then a forced rerun under other seeds, then a failure.
        write(
            out.path(),
            "shard-0-of-2",
            &[ok("b", 1, 7), ok("b", 9, 8), failed("b", 1, "diverged")],
            true,
        );
        // "c": only failures; the latest counts. "d": only lines of other seeds.
        write(
            out.path(),
            "all",
            &[
                failed("c", 1, "first"),
                failed("c", 1, "second"),
                ok("d", 9, 1),
                ok("stranger", 1, 1),
            ],
            false,
        );
        let (seen, scan) = counted(out.path());
        assert_eq!(seen["a"], "ok 10");
        assert_eq!(seen["b"], "ok 7");
        assert_eq!(seen["c"], "failed second");
        assert!(!seen.contains_key("d") && !seen.contains_key("stranger"));
        assert!(scan.damaged_logs.is_empty() && scan.damaged.is_empty());
    }

    #[test]
    fn a_damaged_sealed_log_is_named_and_none_of_its_lines_count() {
        let out = tempfile::tempdir().unwrap();
        write(out.path(), "all", &[ok("a", 1, 1), ok("b", 1, 1)], true);
        write(out.path(), "all", &[ok("a", 1, 2)], true);
        // What a crash can leave on some file systems: the right length, all zeros.
        let second = out.path().join("runs/all.2.jsonl.gz");
        let len = std::fs::metadata(&second).unwrap().len() as usize;
        std::fs::write(&second, vec![0u8; len]).unwrap();
        let (seen, scan) = counted(out.path());
        assert_eq!(seen["a"], "ok 1", "the damaged newer line does not count");
        assert_eq!(seen["b"], "ok 1");
        assert_eq!(scan.damaged_logs.len(), 1);
        assert_eq!(scan.damaged_logs[0].0.path, second);
        assert!(
            scan.damaged_logs[0].1.contains("gzip"),
            "{}",
            scan.damaged_logs[0].1
        );
        let aside = crate::log::set_aside(&scan.damaged_logs[0].0).unwrap();
        assert!(aside.ends_with("runs/damaged/all.2.jsonl.gz") && !second.exists());
        let (_, scan) = counted(out.path());
        assert!(scan.damaged_logs.is_empty());
    }
}
