//! The weight gradient of a batch of up to [`super::CACHED_ROWS`] rows, walked column by
//! column while the batch's deltas (`rows × width` floats, 512 KB at 256 × 512) stay in
//! cache: each gradient row is the sum of the delta rows of the rows that set its column,
//! a chunk of columns at a time in registers ([`super::sums`]). A step makes these rows one
//! at a time inside Adam's update ([`super::WeightGradRows`]).

use super::sums::{chunks, sum_into, Isa, Start};
use super::SparseRows;

/// Every row of the weight gradient `xᵀ · delta` that `x` sets ([`grad_row`]), into `grad`
/// (rows `k` wide); the other rows are left as they are.
pub(super) fn weight_grad(x: &SparseRows, delta: &[f32], grad: &mut [f32], k: usize) {
    let isa = Isa::detect();
    assert!(delta.len() >= x.n_rows() * k, "deltas do not match");
    for (j, g) in grad
        .chunks_exact_mut(k.max(1))
        .enumerate()
        .take(x.n_columns())
    {
        if !x.column_range(j).is_empty() {
            grad_row(isa, x, delta, j, g);
        }
    }
}

/// Row `j` of the weight gradient, `Σ_r x[r,j] · delta[r,:]` over the rows where column
/// `j` is set, in row order, into `g` (`delta` row-major, rows `g.len()` wide, at least
/// `x`'s rows of them): the first term sets `g`, the others add to it, a chunk of columns
/// at a time held in registers ([`sum_into`]); zero where column `j` is set in no row.
#[inline(always)]
pub(super) fn grad_row(isa: Isa, x: &SparseRows, delta: &[f32], j: usize, g: &mut [f32]) {
    let k = g.len();
    let entries = x.column_range(j);
    if entries.is_empty() {
        g.fill(0.0);
        return;
    }
    debug_assert!(delta.len() >= x.n_rows() * k);
    for (at, width) in chunks(isa, k, isa.widest()) {
        let terms = x.entry_terms(entries.clone(), 0, &delta[at..], k);
        // SAFETY: `isa` is the CPU's; each entry's row `r` is below `x.n_rows()`, so
        // `r · k + at + width <= delta.len()` (the callers' bound on `delta`).
        unsafe { sum_into(isa, terms, Start::FirstTerm, &mut g[at..at + width]) };
    }
}
