//! `runner`: experiment files, and sweeps over their grids that run in parallel, give the
//! same records whatever the thread count, and resume where they stopped.
//!
//! An experiment is read in two stages ([`config`] the raw TOML, [`plan`] its validation
//! into fully resolved runs); [`run::execute`] carries one run from data to metrics;
//! [`sweep::sweep`] runs a plan's grid on a rayon pool and keeps the results folder
//! ([`store`]).
//!
//! ```no_run
//! # extern crate openblas_src;
//! use runner::{plan::load_plan, sweep::{sweep, SweepOptions}};
//! use std::sync::atomic::AtomicBool;
//!
//! let plan = load_plan("experiments/drop_rates.toml".as_ref())?;
//! let opts = SweepOptions {
//!     out: "results/drop_rates".into(),
//!     jobs: 2,
//!     shard: None,
//!     force: false,
//!     progress: true,
//!     provenance: Default::default(),
//! };
//! let summary = sweep(&plan, &opts, &AtomicBool::new(false))?;
//! println!("{} runs done, {} failed", summary.completed, summary.failed.len());
//! # Ok::<(), runner::SweepError>(())
//! ```

pub mod config;
mod data;
mod error;
mod fsinfo;
pub mod lock;
pub mod plan;
pub mod run;
pub mod status;
pub mod store;
pub mod strategy;
pub mod sweep;

#[cfg(test)]
extern crate openblas_src;

pub use error::{ConfigError, SweepError};
