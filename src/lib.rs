//! The `masklab` command line's library half: what the binary and its integration tests share.
//!
//! This package is the one place that picks the BLAS provider: the system OpenBLAS, linked
//! through `openblas-src` (its `system` feature) for ndarray's products and ndarray-linalg's
//! LAPACK calls.

extern crate openblas_src;

pub mod blas;
pub mod featurize;
pub mod slurm;
