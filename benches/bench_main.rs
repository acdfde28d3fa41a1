//! Criterion benchmarks of masklab's kernels, one module per topic. Inputs come from fixed
//! seeds; OpenBLAS runs on one thread and on the kernels it runs in a sweep.

use criterion::criterion_group;

mod datagen_kernels;
mod nn_kernels;

criterion_group!(benches, nn_kernels::bench, datagen_kernels::bench);

/// `criterion_main!`'s body, after pinning OpenBLAS's kernels as `masklab` does.
fn main() {
    masklab::blas::pin_kernels();
    eprintln!("blas: {}", masklab::blas::config());
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
