//! The sparse forward pass, a row of the batch at a time: each output row is the bias
//! plus the weight rows of its input row's set columns, summed a chunk of columns at a
//! time in registers ([`sums`]: 256 columns with AVX-512, 64 with AVX2), then ReLU while
//! the row is in cache.
//!
//! The outputs are written once each and never read back, so the batch's size does not
//! matter; the weight rows a row reads (about 50 of 2 KB for a fingerprint) come from the
//! last-level cache for its first chunk and from L2 for the others. (The column walk this
//! replaced added each weight row to the outputs of the rows that set its column, and so
//! read and wrote a 2 KB output row for every term.)

use super::sums::{chunks, sum_into, Isa, Start};
use super::SparseRows;
use crate::threads::{row_parts, Threads};

/// `z[r] = b + Σ_j x[r,j] · w[j,:]`, then ReLU when `relu`, for every row of `x`
/// (`w` the inputs × `b.len()`, `z` row-major, rows `b.len()` wide). Each row's terms are
/// added in column order, so the same bits on every version; `threads` share the rows, cut
/// where they hold equal shares of the non-zeros.
pub(super) fn affine(
    x: &SparseRows,
    w: &[f32],
    b: &[f32],
    relu: bool,
    z: &mut [f32],
    threads: Threads,
) {
    let (k, n) = (b.len(), x.n_rows());
    assert!(w.len() == x.n_columns() * k && z.len() >= n * k);
    let cuts = threads.cuts(n, |r| x.row_start(r));
    let parts = row_parts(&mut z[..n * k], k, &cuts);
    threads.each(parts, |(rows, part)| {
        rows_affine(x, w, b, relu, rows.start, part)
    });
}

/// [`affine`] for the rows from `first` on that `z` holds.
fn rows_affine(x: &SparseRows, w: &[f32], b: &[f32], relu: bool, first: usize, z: &mut [f32]) {
    let k = b.len();
    let isa = Isa::detect();
    for (i, out) in z.chunks_exact_mut(k.max(1)).enumerate() {
        for (at, width) in chunks(isa, k, isa.widest()) {
            let terms = x.row_terms(first + i, &w[at..], k);
            // SAFETY: `isa` is the CPU's; a row's columns `j` are below `x.n_columns()`,
            // so `j · k + at + width <= w.len()` (asserted by `affine`).
            unsafe {
                sum_into(
                    isa,
                    terms,
                    Start::At(&b[at..at + width]),
                    &mut out[at..][..width],
                )
            };
        }
        if relu {
            out.iter_mut().for_each(|o| *o = o.max(0.0));
        }
    }
}
