//! Criterion benchmarks of masklab's kernels, one module per topic. Inputs come from fixed
//! seeds; OpenBLAS runs on one thread, as it does inside a sweep.

use criterion::{criterion_group, criterion_main};

mod datagen_kernels;
mod nn_kernels;

criterion_group!(benches, nn_kernels::bench, datagen_kernels::bench);
criterion_main!(benches);
