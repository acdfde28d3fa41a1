//! The first layer on sparse inputs: molecular fingerprints have about 50 of 2,048 bits set,
//! so a dense product spends almost all its time multiplying zeros.
//!
//! Layout: a batch is gathered as usual (row-major, `n × inputs`), then indexed by column
//! ([`SparseRows`]: for each input column, the rows where it is non-zero and the values).
//! Forward: `z[r] = b + Σ_j x[r,j] · W[j,:]`, a sum of the weight rows of the set bits,
//! walked column by column so that each weight row is read once per block of
//! `BLOCK_ROWS` rows while the block's outputs (`BLOCK_ROWS × width`, a few hundred KB)
//! stay in cache. Backward: the weight gradient `Xᵀ·Δ` row `j` is `Σ_r x[r,j] · Δ[r,:]`
//! over the rows where column `j` is set, block by block in a larger batch; rows of columns
//! absent from the batch are zero. The gradient stays a full matrix, so
//! Adam updates every weight exactly as it would after a dense product. Sums run in a fixed
//! order: results are reproducible, and equal the dense path's up to float rounding.
//! Scoring ([`crate::Mlp::forward`]) reads wide, sparse inputs through the same forward
//! kernel, by the same rule ([`SPARSE_BELOW`]).

use ndarray::{ArrayView2, ArrayViewMut2};
use std::ops::Range;

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

/// The non-zeros of a batch, column by column (compressed sparse columns).
#[derive(Clone, Debug, Default)]
pub struct SparseRows {
    rows: usize,
    /// `starts[j]..starts[j + 1]` index column `j`'s entries.
    starts: Vec<usize>,
    row_of: Vec<u32>,
    values: Vec<f32>,
    // Scratch: the entries in row order, and each column's next free slot.
    scratch: Vec<(u32, u32, f32)>,
    next: Vec<usize>,
}

impl SparseRows {
    /// Indexes the non-zeros of `x`, reusing this value's buffers; one pass over `x`, which
    /// stops (returning false) as soon as more than `max_nnz` non-zeros are found.
    pub fn fill_from(&mut self, x: ArrayView2<f32>, max_nnz: usize) -> bool {
        let (n, d) = x.dim();
        self.rows = n;
        // Row by row first (the order x is stored in), then regrouped by column.
        self.scratch.clear();
        for (r, row) in x.rows().into_iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    if self.scratch.len() == max_nnz {
                        return false;
                    }
                    self.scratch.push((j as u32, r as u32, v));
                }
            }
        }
        self.regroup(d);
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
        self.rows = rows.len();
        self.scratch.clear();
        for (k, &r) in rows.iter().enumerate() {
            let range = m.starts[r]..m.starts[r + 1];
            for (&j, &v) in m.col_of[range.clone()].iter().zip(&m.values[range]) {
                self.scratch.push((j, k as u32, v));
            }
        }
        self.regroup(m.cols);
        true
    }

    /// Groups the scratch entries (in row order) by column, keeping row order within each.
    fn regroup(&mut self, d: usize) {
        self.starts.clear();
        self.starts.resize(d + 1, 0);
        for &(j, _, _) in &self.scratch {
            self.starts[j as usize + 1] += 1;
        }
        for j in 0..d {
            self.starts[j + 1] += self.starts[j];
        }
        let nnz = self.scratch.len();
        self.row_of.resize(nnz, 0);
        self.values.resize(nnz, 0.0);
        self.next.clear();
        self.next.extend_from_slice(&self.starts[..d]);
        for &(j, r, v) in &self.scratch {
            let at = &mut self.next[j as usize];
            self.row_of[*at] = r;
            self.values[*at] = v;
            *at += 1;
        }
    }

    pub fn n_rows(&self) -> usize {
        self.rows
    }

    pub fn nnz(&self) -> usize {
        self.row_of.len()
    }

    /// Entries `range` (of one column) as (row, value).
    #[inline(always)]
    fn entries(&self, range: Range<usize>) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.row_of[range.clone()]
            .iter()
            .zip(&self.values[range])
            .map(|(&r, &v)| (r as usize, v))
    }

    /// Where each block of rows ends ([`BLOCK_ROWS`] rows a block, the last one shorter).
    fn block_ends(&self) -> impl Iterator<Item = usize> {
        let n = self.rows;
        (0..n)
            .step_by(BLOCK_ROWS)
            .map(move |start| (start + BLOCK_ROWS).min(n))
    }

    fn n_columns(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }
}

/// Rows of a batch the sparse kernels take at a time: a block's outputs or deltas
/// (`BLOCK_ROWS × width` floats, 512 KB at width 512) stay in a core's L2 while the block's
/// columns are walked. A larger batch is walked block by block, each row's terms still in
/// the same order, so the results are the same bits as one walk over the whole batch.
pub(crate) const BLOCK_ROWS: usize = 256;

/// The batch's entries block of rows by block, column by column: for each column, a cursor
/// at its first entry in the block to come (each column's entries are in row order).
struct RowBlocks<'a> {
    x: &'a SparseRows,
    cursor: Vec<usize>,
}

impl<'a> RowBlocks<'a> {
    fn new(x: &'a SparseRows) -> Self {
        let cursor = x.starts[..x.n_columns()].to_vec();
        RowBlocks { x, cursor }
    }

    /// Column `j`'s entries in rows below `end` not yet taken; blocks are taken in order.
    #[inline(always)]
    fn take(&mut self, j: usize, end: usize) -> Range<usize> {
        let (from, last) = (self.cursor[j], self.x.starts[j + 1]);
        let to = if end == self.x.rows {
            last
        } else {
            let rows = &self.x.row_of[from..last];
            from + rows.iter().take_while(|&&r| (r as usize) < end).count()
        };
        self.cursor[j] = to;
        from..to
    }

    /// The columns with entries in the block of rows ending at `end`, in column order, each
    /// with the range of those entries.
    #[inline(always)]
    fn columns(&mut self, end: usize) -> impl Iterator<Item = (usize, Range<usize>)> + use<'_, 'a> {
        (0..self.x.n_columns()).filter_map(move |j| {
            let entries = self.take(j, end);
            (!entries.is_empty()).then_some((j, entries))
        })
    }
}

/// A matrix's non-zeros row by row (compressed sparse rows), made once for a training set
/// so that each batch is indexed from its rows' non-zeros ([`SparseRows::fill_from_rows`])
/// instead of being copied densely and scanned whole.
#[derive(Clone, Debug, Default)]
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

/// `z = x · w + b` for sparse `x`, then ReLU when `relu`.
pub fn sparse_affine_into(
    x: &SparseRows,
    w: ArrayView2<f32>,
    b: &[f32],
    relu: bool,
    z: ArrayViewMut2<f32>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, which is all the function enables.
        return unsafe { sparse_affine_avx2(x, w, b, relu, z) };
    }
    sparse_affine(x, w, b, relu, z)
}

/// [`sparse_affine`] compiled for AVX2: eight lanes a vector instead of four, the same
/// operations on every value (no fused multiply-add), so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sparse_affine_avx2(
    x: &SparseRows,
    w: ArrayView2<f32>,
    b: &[f32],
    relu: bool,
    z: ArrayViewMut2<f32>,
) {
    sparse_affine(x, w, b, relu, z)
}

#[inline(always)]
fn sparse_affine(
    x: &SparseRows,
    w: ArrayView2<f32>,
    b: &[f32],
    relu: bool,
    mut z: ArrayViewMut2<f32>,
) {
    let w = w.as_slice().expect("weights are row-major and contiguous");
    let k = b.len();
    let z = z
        .as_slice_mut()
        .expect("activations are row-major and contiguous");
    for out in z.chunks_exact_mut(k.max(1)).take(x.n_rows()) {
        out.copy_from_slice(b);
    }
    let mut blocks = RowBlocks::new(x);
    for end in x.block_ends() {
        for (j, entries) in blocks.columns(end) {
            let w_row = &w[j * k..(j + 1) * k];
            for (r, v) in x.entries(entries) {
                let out = &mut z[r * k..(r + 1) * k];
                if v == 1.0 {
                    for (o, &wv) in out.iter_mut().zip(w_row) {
                        *o += wv;
                    }
                } else {
                    for (o, &wv) in out.iter_mut().zip(w_row) {
                        *o += v * wv;
                    }
                }
            }
        }
    }
    if relu {
        z[..x.n_rows() * k].iter_mut().for_each(|o| *o = o.max(0.0));
    }
}

/// The weight gradient `xᵀ · delta` into `grad` (`inputs × k`). Rows of columns absent from
/// `x` are zero; `dirty[j]` says whether row `j` may hold a value from an earlier call, so
/// that only those are cleared.
pub fn sparse_weight_grad_into(
    x: &SparseRows,
    delta: ArrayView2<f32>,
    grad: &mut [f32],
    k: usize,
    dirty: &mut [bool],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, which is all the function enables.
        return unsafe { sparse_weight_grad_avx2(x, delta, grad, k, dirty) };
    }
    sparse_weight_grad(x, delta, grad, k, dirty)
}

/// [`sparse_weight_grad`] compiled for AVX2 (the same bits, as [`sparse_affine_avx2`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sparse_weight_grad_avx2(
    x: &SparseRows,
    delta: ArrayView2<f32>,
    grad: &mut [f32],
    k: usize,
    dirty: &mut [bool],
) {
    sparse_weight_grad(x, delta, grad, k, dirty)
}

#[inline(always)]
fn sparse_weight_grad(
    x: &SparseRows,
    delta: ArrayView2<f32>,
    grad: &mut [f32],
    k: usize,
    dirty: &mut [bool],
) {
    let delta = delta
        .as_slice()
        .expect("deltas are row-major and contiguous");
    for j in 0..x.n_columns() {
        if x.starts[j] == x.starts[j + 1] && dirty[j] {
            grad[j * k..(j + 1) * k].fill(0.0);
        }
        dirty[j] = x.starts[j] < x.starts[j + 1];
    }
    // Block by block, each row's terms in row order, as `weight_grad_row` sums them.
    let mut blocks = RowBlocks::new(x);
    for end in x.block_ends() {
        for (j, entries) in blocks.columns(end) {
            let first = entries.start == x.starts[j];
            sum_delta_rows(x, delta, entries, first, &mut grad[j * k..(j + 1) * k]);
        }
    }
}

/// The weight gradient `xᵀ · delta` a row at a time (`delta` row-major, the whole buffer),
/// for Adam to update each row as it is made ([`crate::Adam::update_by_rows`]).
pub(crate) struct WeightGradRows<'a> {
    pub x: &'a SparseRows,
    pub delta: &'a [f32],
}

impl crate::adam::RowGradients for WeightGradRows<'_> {
    #[inline(always)]
    fn row(&mut self, j: usize, g: &mut [f32]) {
        weight_grad_row(self.x, self.delta, j, g)
    }
}

/// Row `j` of the weight gradient `xᵀ · delta` into `g` (`delta` row-major, rows `g.len()`
/// long): `Σ_r x[r,j] · delta[r,:]` over the rows where column `j` is set, in row order;
/// zero where it is set in none.
#[inline(always)]
fn weight_grad_row(x: &SparseRows, delta: &[f32], j: usize, g: &mut [f32]) {
    let entries = x.starts[j]..x.starts[j + 1];
    if entries.is_empty() {
        g.fill(0.0);
    } else {
        sum_delta_rows(x, delta, entries, true, g);
    }
}

/// `Σ x[r,j] · delta[r,:]` over the non-empty `entries` of one column, in row order, into
/// `g`: the first term sets `g` when `first` (the column's first entry), else every term
/// adds to what `g` holds.
#[inline(always)]
fn sum_delta_rows(
    x: &SparseRows,
    delta: &[f32],
    entries: Range<usize>,
    first: bool,
    g: &mut [f32],
) {
    let k = g.len();
    let mut entries = x.entries(entries);
    if first {
        let (r, v) = entries.next().expect("a non-empty range");
        for (gv, &dv) in g.iter_mut().zip(&delta[r * k..(r + 1) * k]) {
            *gv = v * dv;
        }
    }
    for (r, v) in entries {
        for (gv, &dv) in g.iter_mut().zip(&delta[r * k..(r + 1) * k]) {
            *gv += v * dv;
        }
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
        assert_eq!(csr.nnz(), x.iter().filter(|&&v| v != 0.0).count());
        let mut z = Array2::zeros((n, k));
        sparse_affine_into(&csr, w.view(), b.as_slice().unwrap(), true, z.view_mut());
        let dense = (x.dot(&w) + &b).mapv(|v| v.max(0.0));
        for (a, e) in z.iter().zip(&dense) {
            assert!((a - e).abs() < 1e-4, "{a} vs {e}");
        }
        let delta = Array2::from_shape_fn((n, k), |_| rng.random_range(-1.0f32..1.0));
        let mut grad = vec![7.0f32; d * k]; // garbage where the previous batch wrote
        let mut dirty = vec![true; d];
        sparse_weight_grad_into(&csr, delta.view(), &mut grad, k, &mut dirty);
        let dense_grad = x.t().dot(&delta);
        for (a, e) in grad.iter().zip(&dense_grad) {
            assert!((a - e).abs() < 1e-4, "{a} vs {e}");
        }
        // A second, different batch: the first batch's rows are cleared, not accumulated.
        let x2 = sparse_input(n, d, &mut rng);
        assert!(csr.fill_from(x2.view(), usize::MAX));
        sparse_weight_grad_into(&csr, delta.view(), &mut grad, k, &mut dirty);
        let dense_grad = x2.t().dot(&delta);
        for (a, e) in grad.iter().zip(&dense_grad) {
            assert!((a - e).abs() < 1e-4, "{a} vs {e}");
        }
    }

    /// The forward pass's sums are exactly the column-ordered sum, term by term: with
    /// columns set in every row (descriptors) beside sparse ones, rows and outputs of any
    /// count, and a batch of one row.
    #[test]
    fn the_forward_pass_is_the_column_ordered_sum_bit_for_bit() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        let blocks = [BLOCK_ROWS, BLOCK_ROWS + 1, 2 * BLOCK_ROWS + 77];
        for (n, k) in [(23, 37), (8, 32), (1, 20)]
            .into_iter()
            .chain(blocks.map(|n| (n, 24)))
        {
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
            let mut z = Array2::zeros((n, k));
            sparse_affine_into(&sparse, w.view(), &b, false, z.view_mut());
            let bits = |a: &Array2<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&z), bits(&expected), "{n} rows, {k} outputs");
        }
    }

    #[test]
    fn the_weight_gradient_is_the_row_ordered_sum_bit_for_bit_in_blocks_or_not() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(10);
        let (d, k) = (90, 19);
        let mut grad = vec![f32::NAN; d * k];
        let mut dirty = vec![true; d];
        // One block, several (the last one short), then one again: rows a batch leaves
        // unset must be zeroed after a batch that set them.
        for n in [40, 2 * BLOCK_ROWS + 33, BLOCK_ROWS + 1, 7] {
            let x = sparse_input(n, d, &mut rng);
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
            sparse_weight_grad_into(&sparse, delta.view(), &mut grad, k, &mut dirty);
            let bits = |a: &[f32]| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&grad), bits(&expected), "{n} rows");
            // Adam's row at a time (a step's path for one block) gives the same rows.
            let mut rows = WeightGradRows {
                x: &sparse,
                delta: delta.as_slice().unwrap(),
            };
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
        assert_eq!(
            (a.rows, &a.starts, &a.row_of, &a.values),
            (b.rows, &b.starts, &b.row_of, &b.values)
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
        sparse_affine_into(&csr, w.view(), &b, false, z.view_mut());
        assert_eq!(z, ndarray::array![[0.5, -0.5], [0.5, -0.5]]);
        assert!(csr.fill_from(Array2::<f32>::zeros((0, 3)).view(), 0));
        assert_eq!((csr.n_rows(), csr.nnz()), (0, 0));
    }
}
