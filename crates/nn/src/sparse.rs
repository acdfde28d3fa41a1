//! The first layer on sparse inputs: molecular fingerprints have about 50 of 2,048 bits set,
//! so a dense product spends almost all its time multiplying zeros.
//!
//! Layout: a batch's non-zeros ([`SparseRows`]), indexed from its rows of a training set's
//! [`CsrMatrix`] or from a dense batch, both row by row and column by column.
//! Forward: `z[r] = b + Σ_j x[r,j] · W[j,:]`, the sum of the weight rows of row `r`'s set
//! columns. Backward: the weight gradient `Xᵀ·Δ` row `j` is `Σ_r x[r,j] · Δ[r,:]` over the
//! rows where column `j` is set; rows of columns absent from the batch are zero. The
//! gradient stays a full matrix, so Adam updates every weight exactly as it would after a
//! dense product.
//!
//! Every sum is held in registers a chunk of output columns at a time while it adds its
//! terms (`sums`). The forward pass sums each row of the batch in turn (`forward`).
//! The gradient is made by the batch's size (256 rows): a small batch's is walked column
//! by column while its deltas stay in cache (`walk`); a larger one's in blocks of rows
//! (`chunked`). Every sum adds its terms in one fixed order (columns, or rows,
//! ascending), so every way and every CPU gives the same bits; they equal the dense
//! path's up to float rounding.
//! Scoring ([`crate::Mlp::forward`]) reads wide, sparse inputs through the same forward
//! kernels, by the same rule ([`SPARSE_BELOW`]).

mod chunked;
mod forward;
mod sums;
mod walk;

pub use forward::{LargeBatches, Way};

use crate::threads::Threads;
use ndarray::{ArrayView2, ArrayViewMut2};
use std::ops::Range;
use sums::Terms;

/// The input density below which the first layer runs sparse, by default.
pub const SPARSE_BELOW: f32 = 0.1;

/// Inputs narrower than this always take the dense product (nothing to gain).
const SPARSE_MIN_INPUTS: usize = 64;

/// The most non-zeros `cells` inputs, `width` a row, may hold for the first layer to run
/// sparse at density `below`; `None` when it never does (too narrow, empty, or sparsity
/// off). The one rule for training batches and for inputs being scored.
pub(crate) fn max_nnz(width: usize, cells: usize, below: f32) -> Option<usize> {
    let off = width < SPARSE_MIN_INPUTS || cells == 0 || below <= 0.0;
    (!off).then_some((below * cells as f32) as usize)
}

/// The non-zeros of a batch, row by row for the forward pass and column by column for the
/// weight gradient. Indexing a batch makes its rows; its columns are grouped only when asked
/// ([`SparseRows::group_columns`]), which scoring never does.
#[derive(Clone, Debug, Default)]
pub struct SparseRows {
    rows: usize,
    cols: usize,
    /// Row by row: `row_starts[r]..row_starts[r + 1]` index row `r`'s entries in `col_of`
    /// and `row_values`, in column order.
    row_starts: Vec<usize>,
    col_of: Vec<u32>,
    row_values: Vec<f32>,
    /// Column by column: `starts[j]..starts[j + 1]` index column `j`'s entries in `row_of`
    /// and `values`, in row order.
    starts: Vec<usize>,
    row_of: Vec<u32>,
    values: Vec<f32>,
    /// Scratch: each column's next free slot.
    next: Vec<usize>,
    /// Whether the columns are grouped for the rows indexed now.
    grouped: bool,
}

impl SparseRows {
    /// Indexes the non-zeros of `x` row by row, reusing this value's buffers; one pass over
    /// `x`, which stops (returning false) as soon as more than `max_nnz` non-zeros are found.
    pub fn fill_from(&mut self, x: ArrayView2<f32>, max_nnz: usize) -> bool {
        let (n, d) = x.dim();
        self.clear_rows(n, d);
        for row in x.rows() {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    if self.col_of.len() == max_nnz {
                        return false;
                    }
                    self.col_of.push(j as u32);
                    self.row_values.push(v);
                }
            }
            self.row_starts.push(self.col_of.len());
        }
        true
    }

    /// Indexes rows `rows` of `m`, in that order, as [`SparseRows::fill_from`] indexes the
    /// same rows gathered densely (the same entries in the same order), reading only their
    /// non-zeros; false, indexing nothing, when they hold more than `max_nnz`.
    pub fn fill_from_rows(&mut self, m: &CsrMatrix, rows: &[usize], max_nnz: usize) -> bool {
        let nnz: usize = rows.iter().map(|&r| m.starts[r + 1] - m.starts[r]).sum();
        if nnz > max_nnz {
            return false;
        }
        self.clear_rows(rows.len(), m.cols);
        for &r in rows {
            let range = m.starts[r]..m.starts[r + 1];
            self.col_of.extend_from_slice(&m.col_of[range.clone()]);
            self.row_values.extend_from_slice(&m.values[range]);
            self.row_starts.push(self.col_of.len());
        }
        true
    }

    fn clear_rows(&mut self, n: usize, d: usize) {
        (self.rows, self.cols, self.grouped) = (n, d, false);
        self.row_starts.clear();
        self.row_starts.push(0);
        self.col_of.clear();
        self.row_values.clear();
    }

    /// Groups the indexed entries by column, keeping row order within each, for the weight
    /// gradient ([`sparse_weight_grad_into`]); once for each batch indexed.
    pub fn group_columns(&mut self) {
        if !self.grouped {
            self.regroup();
            self.grouped = true;
        }
    }

    /// Panics unless the columns are grouped for the rows indexed now: a weight gradient
    /// must not read another batch's.
    fn assert_columns_grouped(&self) {
        assert!(
            self.grouped,
            "the batch's columns are not grouped (group_columns)"
        );
    }

    /// Groups the entries (in row order) by column, keeping row order within each.
    fn regroup(&mut self) {
        let d = self.cols;
        self.starts.clear();
        self.starts.resize(d + 1, 0);
        for &j in &self.col_of {
            self.starts[j as usize + 1] += 1;
        }
        for j in 0..d {
            self.starts[j + 1] += self.starts[j];
        }
        let nnz = self.col_of.len();
        self.row_of.resize(nnz, 0);
        self.values.resize(nnz, 0.0);
        self.next.clear();
        self.next.extend_from_slice(&self.starts[..d]);
        for r in 0..self.rows {
            let entries = self.row_starts[r]..self.row_starts[r + 1];
            for (&j, &v) in self.col_of[entries.clone()]
                .iter()
                .zip(&self.row_values[entries])
            {
                let at = &mut self.next[j as usize];
                self.row_of[*at] = r as u32;
                self.values[*at] = v;
                *at += 1;
            }
        }
    }

    pub fn n_rows(&self) -> usize {
        self.rows
    }

    pub fn nnz(&self) -> usize {
        self.col_of.len()
    }

    fn n_columns(&self) -> usize {
        self.cols
    }

    /// Column `j`'s entries, as indices into the column-ordered entries.
    fn column_range(&self, j: usize) -> Range<usize> {
        self.starts[j]..self.starts[j + 1]
    }

    /// Where row `r`'s entries begin (the non-zeros of the rows before it).
    fn row_start(&self, r: usize) -> usize {
        self.row_starts[r]
    }

    /// Where column `j`'s entries begin.
    fn column_start(&self, j: usize) -> usize {
        self.starts[j]
    }

    /// The rows of column `j`'s entries from entry `from` on.
    fn column_rows(&self, j: usize, from: usize) -> &[u32] {
        &self.row_of[from..self.starts[j + 1]]
    }

    /// Row `r`'s terms of the forward sum: the rows of `w` (`stride` wide) of its set
    /// columns.
    #[inline(always)]
    fn row_terms<'a>(&'a self, r: usize, w: &'a [f32], stride: usize) -> Terms<'a> {
        let entries = self.row_starts[r]..self.row_starts[r + 1];
        Terms {
            src: w,
            stride,
            index: &self.col_of[entries.clone()],
            base: 0,
            values: &self.row_values[entries],
        }
    }

    /// The values of column-ordered `entries` (of one column).
    #[inline(always)]
    fn entry_values(&self, entries: Range<usize>) -> &[f32] {
        &self.values[entries]
    }

    /// The weight gradient's terms of column-ordered `entries` (of one column): the rows
    /// of `delta` (`stride` wide, its first row the batch's row `first`) of their rows.
    #[inline(always)]
    fn entry_terms<'a>(
        &'a self,
        entries: Range<usize>,
        first: usize,
        delta: &'a [f32],
        stride: usize,
    ) -> Terms<'a> {
        Terms {
            src: delta,
            stride,
            index: &self.row_of[entries.clone()],
            base: first as u32,
            values: &self.values[entries],
        }
    }
}

/// The most rows whose weight gradient is walked column by column ([`walk`]): their
/// deltas (`rows × width` floats, 512 KB at width 512) stay in a core's L2 cache, and so,
/// for a step, the gradient is made a row at a time inside Adam ([`WeightGradRows`]), each
/// row reading any of them. Larger batches' are made in blocks of rows ([`chunked`]), and
/// their forward pass packs the weights by chunks of columns first
/// (when that is the faster way here: [`LargeBatches`]).
pub(crate) const CACHED_ROWS: usize = 256;

/// A matrix's non-zeros row by row (compressed sparse rows), made once for a training set
/// so that each batch is indexed from its rows' non-zeros ([`SparseRows::fill_from_rows`])
/// instead of being copied densely and scanned whole.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CsrMatrix {
    cols: usize,
    /// `starts[r]..starts[r + 1]` index row `r`'s entries, in column order.
    starts: Vec<usize>,
    col_of: Vec<u32>,
    values: Vec<f32>,
}

impl CsrMatrix {
    pub fn from_dense(x: ArrayView2<f32>) -> CsrMatrix {
        Self::from_dense_within(x, usize::MAX).expect("no bound on the non-zeros")
    }

    /// `x`'s non-zeros, or `None` as soon as more than `max_nnz` are found (so a dense
    /// matrix costs a partial scan, not an index as large as itself).
    pub fn from_dense_within(x: ArrayView2<f32>, max_nnz: usize) -> Option<CsrMatrix> {
        let mut m = CsrMatrix {
            cols: x.ncols(),
            starts: Vec::with_capacity(x.nrows() + 1),
            ..CsrMatrix::default()
        };
        m.starts.push(0);
        for row in x.rows() {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    if m.values.len() == max_nnz {
                        return None;
                    }
                    m.col_of.push(j as u32);
                    m.values.push(v);
                }
            }
            m.starts.push(m.values.len());
        }
        Some(m)
    }

    /// An empty matrix of `cols` columns, its rows added by [`CsrMatrix::push_row`].
    pub fn with_columns(cols: usize) -> CsrMatrix {
        CsrMatrix {
            cols,
            starts: vec![0],
            ..CsrMatrix::default()
        }
    }

    /// Adds a row from its cells `(column, value)`, columns ascending and below the width;
    /// a cell equal to `0.0` (either sign) is left out, as [`CsrMatrix::from_dense`] leaves
    /// it, so rows built either way are the same entries.
    ///
    /// # Panics
    /// If a column is out of order or out of range.
    pub fn push_row(&mut self, cells: impl IntoIterator<Item = (u32, f32)>) {
        let mut last = None;
        for (j, v) in cells {
            assert!((j as usize) < self.cols, "column {j} of {}", self.cols);
            assert!(last.is_none_or(|l| l < j), "column {j} is out of order");
            last = Some(j);
            if v != 0.0 {
                self.col_of.push(j);
                self.values.push(v);
            }
        }
        self.starts.push(self.values.len());
    }

    /// Row `r` written into `out` (the width long): its values, and 0 elsewhere.
    pub fn dense_row_into(&self, r: usize, out: &mut [f32]) {
        assert_eq!(out.len(), self.cols, "a row is {} wide", self.cols);
        out.fill(0.0);
        let entries = self.starts[r]..self.starts[r + 1];
        for (&j, &v) in self.col_of[entries.clone()]
            .iter()
            .zip(&self.values[entries])
        {
            out[j as usize] = v;
        }
    }

    pub fn n_rows(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn n_cols(&self) -> usize {
        self.cols
    }

    pub fn nnz(&self) -> usize {
        self.values.len()
    }
}

/// `z = x · w + b` for sparse `x`, then ReLU when `relu`, its rows shared by `threads`
/// (the same bits on any number).
///
/// # Panics
/// If `w` is not `x`'s width × `b.len()`, or `z` has too few rows or a different width.
pub fn sparse_affine_into(
    x: &SparseRows,
    w: ArrayView2<f32>,
    b: &[f32],
    relu: bool,
    z: ArrayViewMut2<f32>,
    threads: Threads,
) {
    sparse_affine_large_into(x, w, b, relu, z, threads, &mut LargeBatches::default())
}

/// [`sparse_affine_into`] with what a batch of more than 256 rows (`CACHED_ROWS`) keeps
/// from one call to the next ([`LargeBatches`]: the faster way once timed, and its memory).
pub fn sparse_affine_large_into(
    x: &SparseRows,
    w: ArrayView2<f32>,
    b: &[f32],
    relu: bool,
    mut z: ArrayViewMut2<f32>,
    threads: Threads,
    large: &mut LargeBatches,
) {
    let k = b.len();
    assert_eq!(
        w.dim(),
        (x.n_columns(), k),
        "weights do not match the inputs"
    );
    assert!(
        z.nrows() >= x.n_rows() && z.ncols() == k,
        "outputs do not match"
    );
    let w = w.as_slice().expect("weights are row-major and contiguous");
    let z = z
        .as_slice_mut()
        .expect("activations are row-major and contiguous");
    match x.n_rows() > CACHED_ROWS {
        true => forward::large_affine(x, w, b, relu, z, threads, large),
        false => forward::affine(x, w, b, relu, z, threads),
    }
}

/// The weight gradient `xᵀ · delta` into `grad` (`inputs × k`). Rows of columns absent from
/// `x` are zero; `dirty[j]` says whether row `j` may hold a value from an earlier call, so
/// that only those are cleared. A batch of more than `CACHED_ROWS` (256) rows has its gradient
/// rows shared by `threads` (the same bits on any number).
///
/// # Panics
/// If `x`'s columns are not grouped ([`SparseRows::group_columns`]), `delta` has fewer rows
/// than `x` or another width than `k`, or `grad` and `dirty` are not `x`'s width (× `k`).
pub fn sparse_weight_grad_into(
    x: &SparseRows,
    delta: ArrayView2<f32>,
    grad: &mut [f32],
    k: usize,
    dirty: &mut [bool],
    threads: Threads,
) {
    let d = x.n_columns();
    x.assert_columns_grouped();
    assert!(
        delta.nrows() >= x.n_rows() && delta.ncols() == k,
        "deltas do not match"
    );
    assert!(
        grad.len() == d * k && dirty.len() == d,
        "gradient does not match"
    );
    let delta = delta
        .as_slice()
        .expect("deltas are row-major and contiguous");
    for j in 0..d {
        let set = x.starts[j] < x.starts[j + 1];
        if !set && dirty[j] {
            grad[j * k..(j + 1) * k].fill(0.0);
        }
        dirty[j] = set;
    }
    if x.n_rows() > CACHED_ROWS {
        chunked::weight_grad(x, delta, grad, k, threads);
    } else {
        walk::weight_grad(x, delta, grad, k);
    }
}

/// The weight gradient `xᵀ · delta` a row at a time (`delta` row-major, the whole buffer),
/// for Adam to update each row as it is made ([`crate::Adam::update_by_rows`]).
pub(crate) struct WeightGradRows<'a> {
    isa: sums::Isa,
    x: &'a SparseRows,
    delta: &'a [f32],
}

impl<'a> WeightGradRows<'a> {
    /// # Panics
    /// If `x`'s columns are not grouped, or `delta` holds fewer than `x`'s rows of `k`.
    pub(crate) fn new(x: &'a SparseRows, delta: &'a [f32], k: usize) -> Self {
        x.assert_columns_grouped();
        assert!(delta.len() >= x.n_rows() * k, "deltas do not match");
        let isa = sums::Isa::detect();
        WeightGradRows { isa, x, delta }
    }
}

impl crate::adam::RowGradients for WeightGradRows<'_> {
    #[inline(always)]
    fn row(&mut self, j: usize, g: &mut [f32]) {
        walk::grad_row(self.isa, self.x, self.delta, j, g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};
    use rand::{Rng, SeedableRng};

    fn sparse_input(n: usize, d: usize, rng: &mut impl Rng) -> Array2<f32> {
        Array2::from_shape_fn((n, d), |_| {
            let u: f32 = rng.random();
            if u < 0.05 {
                1.0
            } else if u < 0.06 {
                2.5
            } else {
                0.0
            }
        })
    }

    #[test]
    fn forward_and_weight_gradient_equal_the_dense_products() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (n, d, k) = (33, 200, 81);
        let x = sparse_input(n, d, &mut rng);
        let w = Array2::from_shape_fn((d, k), |_| rng.random_range(-1.0f32..1.0));
        let b = Array1::from_shape_fn(k, |_| rng.random_range(-1.0f32..1.0));
        let mut csr = SparseRows::default();
        assert!(csr.fill_from(x.view(), usize::MAX));
        csr.group_columns();
        assert_eq!(csr.nnz(), x.iter().filter(|&&v| v != 0.0).count());
        let mut z = Array2::zeros((n, k));
        sparse_affine_into(
            &csr,
            w.view(),
            b.as_slice().unwrap(),
            true,
            z.view_mut(),
            Threads::ONE,
        );
        let dense = (x.dot(&w) + &b).mapv(|v| v.max(0.0));
        for (a, e) in z.iter().zip(&dense) {
            assert!((a - e).abs() < 1e-4, "{a} vs {e}");
        }
        let delta = Array2::from_shape_fn((n, k), |_| rng.random_range(-1.0f32..1.0));
        let mut grad = vec![7.0f32; d * k]; // garbage where the previous batch wrote
        let mut dirty = vec![true; d];
        sparse_weight_grad_into(&csr, delta.view(), &mut grad, k, &mut dirty, Threads::ONE);
        let dense_grad = x.t().dot(&delta);
        for (a, e) in grad.iter().zip(&dense_grad) {
            assert!((a - e).abs() < 1e-4, "{a} vs {e}");
        }
        // A second, different batch: the first batch's rows are cleared, not accumulated.
        let x2 = sparse_input(n, d, &mut rng);
        assert!(csr.fill_from(x2.view(), usize::MAX));
        csr.group_columns();
        sparse_weight_grad_into(&csr, delta.view(), &mut grad, k, &mut dirty, Threads::ONE);
        let dense_grad = x2.t().dot(&delta);
        for (a, e) in grad.iter().zip(&dense_grad) {
            assert!((a - e).abs() < 1e-4, "{a} vs {e}");
        }
    }

    /// The forward pass's sums are exactly the column-ordered sum, term by term: with
    /// columns set in every row (descriptors) beside sparse ones, rows and outputs of any
    /// count (outputs in full chunks, eight-wide ones and single ones), and a batch of one
    /// row; ReLU after. Batches of more than `CACHED_ROWS` rows both ways (in place, and
    /// packed into memory that held another call's weights, of another size), and as a
    /// trainer runs them, timed then chosen.
    #[test]
    fn the_forward_pass_is_the_column_ordered_sum_bit_for_bit() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        let mut timed = LargeBatches::default();
        for (n, k) in [
            (23, 37),
            (8, 32),
            (1, 20),
            (256, 24),
            (589, 24),
            (300, 139),
            (40, 512),
        ] {
            let d = 120;
            let full = |j: usize| (40..47).contains(&j) || j >= 110;
            let x = Array2::from_shape_fn((n, d), |(_, j)| {
                let u: f32 = rng.random();
                match (full(j), u < 0.05) {
                    (true, _) => rng.random_range(0.1f32..3.0) * if u < 0.5 { -1.0 } else { 1.0 },
                    (false, true) => 1.0,
                    (false, false) => 0.0,
                }
            });
            let w = Array2::from_shape_fn((d, k), |_| rng.random_range(-1.0f32..1.0));
            let b: Vec<f32> = (0..k).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let mut expected = Array2::from_shape_fn((n, k), |(_, o)| b[o]);
            for j in 0..d {
                for r in 0..n {
                    if x[[r, j]] != 0.0 {
                        for o in 0..k {
                            expected[[r, o]] += x[[r, j]] * w[[j, o]];
                        }
                    }
                }
            }
            let mut sparse = SparseRows::default();
            assert!(sparse.fill_from(x.view(), usize::MAX));
            sparse.group_columns();
            let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            let ways = [Way::InPlace, Way::Packed].map(LargeBatches::always);
            for (relu, threads, way) in [false, true]
                .into_iter()
                .flat_map(|r| [1, 2, 3].map(|t| (r, t)))
                .flat_map(|(r, t)| [0, 1, 2].map(|way| (r, t, way)))
            {
                let mut z = Array2::from_elem((n, k), f32::NAN);
                let threads = Threads::new(threads);
                let (wv, zv) = (w.view(), z.view_mut());
                let large = match way {
                    2 => &mut timed,
                    _ => &mut ways[way].clone(),
                };
                sparse_affine_large_into(&sparse, wv, &b, relu, zv, threads, large);
                let expected = expected.mapv(|v| if relu { v.max(0.0) } else { v });
                assert_eq!(
                    bits(&z),
                    bits(&expected),
                    "{n} rows, {k} outputs, {relu}, {threads:?}"
                );
            }
        }
    }

    #[test]
    fn the_weight_gradient_is_the_row_ordered_sum_bit_for_bit_whole_or_a_row_at_a_time() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(10);
        for k in [19, 139, 300] {
            weight_gradient_bit_for_bit(&mut rng, k);
        }
    }

    fn weight_gradient_bit_for_bit(rng: &mut impl Rng, k: usize) {
        let d = 90;
        let mut grad = vec![f32::NAN; d * k];
        let mut dirty = vec![true; d];
        // Batches of several sizes one after another: rows a batch leaves unset must be
        // zeroed after a batch that set them.
        for n in [40, 545, 2100, 257, 7] {
            let mut x = sparse_input(n, d, rng);
            // Columns set in every row (descriptors), seven side by side, whose gradient
            // rows are summed a group at a time; and one set in the rows of a first block
            // of rows only.
            for ((r, j), v) in x.indexed_iter_mut() {
                let full = (70..77).contains(&j) || (j == 80 && r < 1500);
                if full {
                    *v = if r % 3 == 0 {
                        1.0
                    } else {
                        rng.random_range(-2.0f32..2.0)
                    };
                }
            }
            let delta = Array2::from_shape_fn((n, k), |_| rng.random_range(-1.0f32..1.0));
            let mut expected = vec![0.0f32; d * k];
            for j in 0..d {
                let mut first = true;
                for r in (0..n).filter(|&r| x[[r, j]] != 0.0) {
                    for o in 0..k {
                        let term = x[[r, j]] * delta[[r, o]];
                        let e = &mut expected[j * k + o];
                        *e = if first { term } else { *e + term };
                    }
                    first = false;
                }
            }
            let mut sparse = SparseRows::default();
            assert!(sparse.fill_from(x.view(), usize::MAX));
            sparse.group_columns();
            let bits = |a: &[f32]| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            // Shared by threads or not; the last call leaves `grad` and `dirty` for the next
            // batch as one call would.
            for threads in [2, 3, 1].map(Threads::new) {
                let (mut g, mut dirty_before) = (grad.clone(), dirty.clone());
                sparse_weight_grad_into(
                    &sparse,
                    delta.view(),
                    &mut g,
                    k,
                    &mut dirty_before,
                    threads,
                );
                assert_eq!(bits(&g), bits(&expected), "{n} rows, {k} wide, {threads:?}");
            }
            sparse_weight_grad_into(
                &sparse,
                delta.view(),
                &mut grad,
                k,
                &mut dirty,
                Threads::ONE,
            );
            // Adam's row at a time (a step's path for a small batch) gives the same rows.
            let mut rows = WeightGradRows::new(&sparse, delta.as_slice().unwrap(), k);
            let mut g = vec![0.0; k];
            for j in 0..d {
                crate::adam::RowGradients::row(&mut rows, j, &mut g);
                assert_eq!(
                    bits(&g),
                    bits(&expected[j * k..(j + 1) * k]),
                    "{n} rows, row {j}"
                );
            }
        }
    }

    #[test]
    fn rows_indexed_from_the_csr_equal_the_dense_batch_indexed() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let x = sparse_input(50, 300, &mut rng);
        let m = CsrMatrix::from_dense(x.view());
        assert_eq!((m.n_rows(), m.n_cols()), (50, 300));
        assert_eq!(m.nnz(), x.iter().filter(|&&v| v != 0.0).count());
        let rows = [7, 3, 3, 49, 0, 21];
        let dense = x.select(ndarray::Axis(0), &rows);
        let (mut a, mut b) = (SparseRows::default(), SparseRows::default());
        assert!(a.fill_from(dense.view(), usize::MAX));
        assert!(b.fill_from_rows(&m, &rows, usize::MAX));
        a.group_columns();
        b.group_columns();
        assert_eq!(a.n_columns(), 300);
        assert_eq!(
            (a.rows, &a.starts, &a.row_of, &a.values),
            (b.rows, &b.starts, &b.row_of, &b.values)
        );
        assert_eq!(
            (&a.row_starts, &a.col_of, &a.row_values),
            (&b.row_starts, &b.col_of, &b.row_values)
        );
        // The same limit on non-zeros, decided the same way.
        let nnz = a.nnz();
        assert!(b.fill_from_rows(&m, &rows, nnz));
        assert!(!b.fill_from_rows(&m, &rows, nnz - 1));
        assert!(!a.fill_from(dense.view(), nnz - 1));
        assert!(b.fill_from_rows(&m, &[], 0));
        assert_eq!((b.n_rows(), b.nnz()), (0, 0));
    }

    #[test]
    fn rows_pushed_cell_by_cell_equal_the_dense_matrix_indexed() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let mut x = sparse_input(20, 70, &mut rng);
        x[[3, 5]] = -0.0; // left out either way
        let mut m = CsrMatrix::with_columns(70);
        for row in x.rows() {
            m.push_row((0..70u32).map(|j| (j, row[j as usize])));
        }
        let indexed = CsrMatrix::from_dense(x.view());
        assert_eq!(
            (&m.starts, &m.col_of, &m.values, m.cols),
            (
                &indexed.starts,
                &indexed.col_of,
                &indexed.values,
                indexed.cols
            )
        );
        let mut row = vec![f32::NAN; 70];
        for r in 0..20 {
            m.dense_row_into(r, &mut row);
            let want: Vec<f32> = x
                .row(r)
                .iter()
                .map(|&v| if v == 0.0 { 0.0 } else { v })
                .collect();
            assert_eq!(row, want);
        }
        let empty = CsrMatrix::with_columns(4);
        assert_eq!((empty.n_rows(), empty.n_cols(), empty.nnz()), (0, 4, 0));
    }

    #[test]
    #[should_panic(expected = "out of order")]
    fn a_row_out_of_column_order_is_refused() {
        // The cell out of order is a zero, which the row would leave out: still refused.
        CsrMatrix::with_columns(5).push_row([(3, 1.0), (1, 0.0)]);
    }

    #[test]
    fn an_empty_row_is_the_bias_and_an_empty_batch_is_nothing() {
        let mut csr = SparseRows::default();
        assert!(csr.fill_from(Array2::<f32>::zeros((2, 3)).view(), 0));
        assert!(
            !csr.fill_from(Array2::<f32>::ones((2, 3)).view(), 5),
            "6 non-zeros > 5"
        );
        assert!(csr.fill_from(Array2::<f32>::zeros((2, 3)).view(), 0));
        let (w, b) = (Array2::from_elem((3, 2), 1.0f32), [0.5f32, -0.5]);
        let mut z = Array2::from_elem((2, 2), 9.0f32);
        sparse_affine_into(&csr, w.view(), &b, false, z.view_mut(), Threads::new(2));
        assert_eq!(z, ndarray::array![[0.5, -0.5], [0.5, -0.5]]);
        assert!(csr.fill_from(Array2::<f32>::zeros((0, 3)).view(), 0));
        assert_eq!((csr.n_rows(), csr.nnz()), (0, 0));
    }

    /// A batch is indexed row by row; its weight gradient needs its columns grouped, and
    /// says so rather than read another batch's.
    #[test]
    #[should_panic(expected = "columns are not grouped")]
    fn a_weight_gradient_of_ungrouped_columns_is_refused() {
        let mut rows = SparseRows::default();
        assert!(rows.fill_from(Array2::<f32>::eye(3).view(), usize::MAX));
        rows.group_columns();
        assert!(rows.fill_from(Array2::<f32>::ones((2, 3)).view(), usize::MAX));
        let (delta, mut grad, mut dirty) =
            (Array2::<f32>::ones((2, 4)), vec![0.0; 12], vec![false; 3]);
        sparse_weight_grad_into(&rows, delta.view(), &mut grad, 4, &mut dirty, Threads::ONE);
    }
}
