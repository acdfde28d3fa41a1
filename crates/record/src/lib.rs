//! `record`: the one contract between the stage that runs experiments and the stage that
//! reports them.
//!
//! Every file a sweep writes is a type here, and the report reads it back through the same
//! type: the schema exists once. Each record carries [`FORMAT`]; a record of another format,
//! or one that does not parse, is an error naming the file and the field ([`RecordError`]),
//! never a silent default.
//!
//! * [`spec`]: a fully resolved run ([`RunSpec`]) and its parts; its id and stream seeds.
//! * [`strategy`]: the registry of strategies, their names, order and what each does.
//! * [`outcome`]: what one run wrote (`config.json`, `history.json`, `metrics.json`, ...).
//! * [`sweep`]: what a sweep wrote about itself (`grid.json`, manifests).
//! * [`io`]: the atomic writer every file goes through, and the typed reader.
//!
//! ```
//! use record::{io, outcome::TimingRecord};
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("timing.json");
//! io::write_json(&path, &TimingRecord::new("abc".into(), 1.5))?;
//! let back: TimingRecord = io::read_json(&path)?;
//! assert_eq!(back.wall_seconds, 1.5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod io;
pub mod outcome;
pub mod spec;
pub mod strategy;
pub mod sweep;

pub use io::RecordError;
pub use spec::RunSpec;
pub use strategy::Strategy;

/// The record format. Bumped whenever a record's fields or a run's meaning change, so that
/// old records are refused (and rerun), never misread.
///
/// 3: one typed contract; input files hashed into run ids; every record carries its format.
/// 4: PR-AUC (average precision) beside ROC-AUC.
pub const FORMAT: u32 = 4;
