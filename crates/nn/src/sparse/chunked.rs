//! The weight gradient of a batch of more than [`super::CACHED_ROWS`] rows, whose deltas no
//! longer fit in cache: made a chunk of gradient columns at a time ([`chunks`], 64 wide),
//! for every gradient row in blocks of the batch's rows, each sum held in registers over
//! all its terms.
//!
//! Columns set in every row of a block (descriptors: 41 of MUV's 2,089 inputs, but 45% of
//! a batch's non-zeros) have their gradient rows summed [`GROUP`] at a time
//! ([`sum_group_into`], AVX-512), each packed delta row loaded once for all of them: the
//! same terms in the same order, so the same bits.
//!
//! A chunk's columns of the block's deltas are first copied out contiguously
//! ([`pack_columns`]). Read in place they would be 256 bytes every 2 KB, which land in an
//! eighth of L2's sets and thrash; packed, 1,024 rows make 256 KB and stay in L2 while
//! every gradient row reads them. The gradient rows a chunk writes, 256 bytes each, are
//! fetched a few rows ahead.

use super::sums::{chunks, prefetch, sum_group_into, sum_into, Isa, Start, CHUNK, GROUP};
use super::SparseRows;
use crate::threads::{row_parts, Threads};

/// Gradient rows ahead of the one being summed whose chunk is fetched.
const AHEAD: usize = 8;

/// Rows of deltas the weight gradient packs at a time: a chunk of them is 256 KB, which
/// stays in L2 beside the chunk's gradient rows while the columns read it.
const GRAD_BLOCK_ROWS: usize = 1024;

/// Every row of the weight gradient `xᵀ · delta` that `x` sets, `Σ_r x[r,j] · delta[r,:]`
/// over the rows where column `j` is set, in row order, into `grad` (rows `k` wide); the
/// other rows are left as they are. `threads` share the gradient rows, cut where they hold
/// equal shares of the non-zeros; each packs its own deltas.
pub(super) fn weight_grad(
    x: &SparseRows,
    delta: &[f32],
    grad: &mut [f32],
    k: usize,
    threads: Threads,
) {
    let (d, n) = (x.n_columns(), x.n_rows());
    assert!(delta.len() >= n * k && grad.len() == d * k);
    let blocks = ColumnBlocks::new(x);
    let cuts = threads.cuts(d, |j| x.column_start(j));
    let parts = row_parts(grad, k, &cuts);
    threads.each(parts, |(columns, part)| {
        gradient_rows(x, delta, &blocks, columns, part, k)
    });
}

/// [`weight_grad`]'s rows `columns` (the inputs' columns), which `grad` holds.
fn gradient_rows(
    x: &SparseRows,
    delta: &[f32],
    blocks: &ColumnBlocks,
    columns: std::ops::Range<usize>,
    grad: &mut [f32],
    k: usize,
) {
    let (n, offset) = (x.n_rows(), columns.start * k);
    let isa = Isa::detect();
    let mut packed = Vec::new();
    for (at, width) in chunks(isa, k, CHUNK) {
        let grouped = isa.sums_groups(width);
        for (first, pieces) in blocks.iter() {
            let from = pieces.partition_point(|p| p.0 < columns.start);
            let to = pieces.partition_point(|p| p.0 < columns.end);
            let pieces = &pieces[from..to];
            if pieces.is_empty() {
                continue;
            }
            let end = (first + GRAD_BLOCK_ROWS).min(n);
            pack_columns(&delta[first * k..end * k], k, at, width, &mut packed);
            // Whether a piece starts its column's sum (or carries on the block before's).
            let starts = |&(j, ref entries): &Piece| entries.start == x.column_start(j);
            // GROUP columns set in every row of the block, all starting or all carrying on.
            let group_at = |i: usize| {
                let group = pieces.get(i..i + GROUP).filter(|_| grouped)?;
                let full = |(_, entries): &Piece| entries.len() == end - first;
                let alike = group
                    .iter()
                    .all(|p| full(p) && starts(p) == starts(&group[0]));
                alike.then_some(group)
            };
            let mut i = 0;
            while i < pieces.len() {
                if let Some(&(ahead, _)) = pieces.get(i + AHEAD) {
                    prefetch(&grad[ahead * k - offset + at..][..width]);
                }
                if let Some(group) = group_at(i) {
                    let values = std::array::from_fn(|g| x.entry_values(group[g].1.clone()));
                    let rows = std::array::from_fn(|g| group[g].0 - columns.start);
                    let dst = disjoint_rows::<GROUP>(grad, k, rows, at, width);
                    // SAFETY: `isa` is the CPU's and sums groups this wide; each column's
                    // entries are rows `first..end` in order, the rows of `packed`.
                    unsafe { sum_group_into(isa, &packed, values, starts(&group[0]), dst) };
                    i += GROUP;
                    continue;
                }
                let (j, ref entries) = pieces[i];
                let terms = x.entry_terms(entries.clone(), first, &packed, width);
                let start = match starts(&pieces[i]) {
                    true => Start::FirstTerm,
                    false => Start::Dst,
                };
                let dst = &mut grad[j * k - offset + at..];
                // SAFETY: `isa` is the CPU's; the entries are of rows `first..end`, the
                // rows of `packed` (`width` wide), asserted by `weight_grad`.
                unsafe { sum_into(isa, terms, start, &mut dst[..width]) };
                i += 1;
            }
        }
    }
}

/// Each block of [`GRAD_BLOCK_ROWS`] rows' pieces: the columns set in it, in order, each
/// with the range of its entries in those rows; found once for every chunk.
struct ColumnBlocks {
    pieces: Vec<Piece>,
    /// Block `b`'s pieces are `pieces[ends[b]..ends[b + 1]]`.
    ends: Vec<usize>,
}

impl ColumnBlocks {
    fn new(x: &SparseRows) -> Self {
        let d = x.n_columns();
        let mut next: Vec<usize> = (0..d).map(|j| x.column_start(j)).collect();
        let (mut pieces, mut ends) = (Vec::new(), vec![0]);
        for first in (0..x.n_rows()).step_by(GRAD_BLOCK_ROWS) {
            let end = first + GRAD_BLOCK_ROWS;
            for (j, from) in next.iter_mut().enumerate() {
                let rest = x.column_rows(j, *from);
                let to = *from + rest.iter().take_while(|&&r| (r as usize) < end).count();
                if to > *from {
                    pieces.push((j, *from..to));
                    *from = to;
                }
            }
            ends.push(pieces.len());
        }
        ColumnBlocks { pieces, ends }
    }

    /// Each block's first row and pieces.
    fn iter(&self) -> impl Iterator<Item = (usize, &[Piece])> {
        self.ends
            .windows(2)
            .enumerate()
            .map(|(b, e)| (b * GRAD_BLOCK_ROWS, &self.pieces[e[0]..e[1]]))
    }
}

/// A column of the batch and the range of its entries in a block of rows.
type Piece = (usize, std::ops::Range<usize>);

/// Columns `at .. at + width` of rows `rows` (ascending) of row-major `m` (rows `k` wide),
/// each as its own slice.
fn disjoint_rows<const G: usize>(
    m: &mut [f32],
    k: usize,
    rows: [usize; G],
    at: usize,
    width: usize,
) -> [&mut [f32]; G] {
    let (mut rest, mut taken) = (m, 0);
    let mut out: [&mut [f32]; G] = std::array::from_fn(|_| Default::default());
    for (slot, r) in out.iter_mut().zip(rows) {
        let (_, from) = std::mem::take(&mut rest).split_at_mut(r * k + at - taken);
        let (row, after) = from.split_at_mut(width);
        (*slot, rest, taken) = (row, after, r * k + at + width);
    }
    out
}

/// Columns `at .. at + width` of row-major `m` (rows `k` wide), row by row, into `packed`.
fn pack_columns(m: &[f32], k: usize, at: usize, width: usize, packed: &mut Vec<f32>) {
    packed.clear();
    for row in m.chunks_exact(k) {
        packed.extend_from_slice(&row[at..at + width]);
    }
}
