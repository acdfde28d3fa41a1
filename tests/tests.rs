//! Integration tests of the `masklab` binary and library, one module per area.

mod blas;
mod common;
mod report;
mod sweep;
