//! `record`: the one contract between the stage that runs experiments and the stage that
//! reports them.
//!
//! Every file a sweep writes is a type here, and the report reads it back through the same
//! type: the schema exists once. Each record carries [`FORMAT`]; a record of another format,
//! or one that does not parse, is an error naming the file and the field ([`RecordError`]),
//! never a silent default.
//!
//! * [`spec`]: a fully resolved run ([`RunSpec`]) and its parts.
//! * [`seeds`]: a run's id and stream seeds, hashes of its spec.
//! * [`strategy`]: the registry of strategies, their names, order and what each does.
//! * [`outcome`]: what a run leaves: a [`outcome::RunRecord`] (its outcome and history) and,
//!   for the 2-D runs a report draws, a [`outcome::BoundaryRecord`].
//! * [`log`]: run logs, a line per run, sealed as gzip when a sweep ends.
//! * [`runs`]: which line of a run id counts (the latest success with the run's seeds).
//! * [`groups`]: the setting groups a report aggregates seeds over, and their names.
//! * [`shown`]: which runs a report draws on their own (and so which keep a boundary grid).
//! * [`sweep`]: what a sweep wrote about itself (`grid.json`, manifests).
//! * [`io`]: the atomic, durable writer every file goes through, and the typed reader.
//! * [`temp`]: temporary files named for their writer, and which of them may be cleared.
//!
//! ```
//! use record::{log, outcome::RunRecord, spec::Streams};
//! let out = tempfile::tempdir()?;
//! let streams = Streams { data: 1, split: 2, drops: 3, init: 4, batches: 5 };
//! let mut writer = log::LogWriter::open(out.path(), "all")?;
//! writer.append(&RunRecord::failed("abc".into(), streams, "diverged".into()))?;
//! writer.seal()?;
//! let mut ids = Vec::new();
//! log::scan(out.path(), |r| ids.push(r.id))?;
//! assert_eq!(ids, ["abc"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod groups;
pub mod io;
pub mod log;
pub mod outcome;
pub mod runs;
pub mod seeds;
pub mod shown;
pub mod spec;
pub mod strategy;
pub mod sweep;
pub mod temp;

pub use io::RecordError;
pub use spec::RunSpec;
pub use strategy::Strategy;

/// The record format. Bumped whenever a record's fields or a run's meaning change, so that
/// old records are refused (and rerun), never misread.
///
/// 3: one typed contract; input files hashed into run ids; every record carries its format.
/// 4: PR-AUC (average precision) beside ROC-AUC.
/// 5: runs as lines of run logs (no per-run folders); boundary grids as bytes, kept only
///    for the runs a report draws.
pub const FORMAT: u32 = 5;
