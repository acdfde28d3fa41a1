//! Integration tests of the `masklab` binary and library, one module per area.

mod bad_input;
mod blas;
mod common;
mod keras;
mod molecules;
mod readme;
mod report;
mod slurm;
mod soak;
mod strategies;
mod sweep;
