//! The sparse forward pass, a row of the batch at a time: each output row is the bias
//! plus the weight rows of its input row's set columns, summed a chunk of columns at a
//! time in registers ([`sums`]: 256 columns with AVX-512, 64 with AVX2), then ReLU while
//! the row is in cache.
//!
//! The outputs are written once each and never read back; the weight rows a row reads
//! (about 50 of 2 KB for a fingerprint, 90 with descriptors) come from the last-level cache
//! for its first chunk and from L2 for the others. (The column walk this replaced added
//! each weight row to the outputs of the rows that set its column, and so read and wrote a
//! 2 KB output row for every term.)
//!
//! A batch of more than [`super::CACHED_ROWS`] rows reads the weights often enough that
//! packing them first may pay ([`packed_affine`]): each chunk of 64 columns of every weight
//! row, contiguous (535 KB for MUV's 2,089 inputs), then every row of the batch summed from
//! that chunk while it sits in L2. Read in place, a chunk is 256 bytes every 2 KB, which
//! fill a quarter of L2's sets and thrash. The same terms in the same order, so the same
//! bits. Which way is faster depends on the CPU (`nn/muv_first_layer_*`: about a fifth
//! less time packed on an Intel Xeon; on an AMD Zen 4, packing made a MUV step about a
//! fifth slower, its four AVX-512 registers of sums waiting on the adds' latency), so a
//! trainer times both on its first large batches and keeps the faster ([`LargeBatches`]).

use super::sums::{chunks, sum_into, Isa, Start, CHUNK};
use super::SparseRows;
use crate::threads::{row_parts, Threads};
use std::time::{Duration, Instant};

/// Calls each way is timed before one is kept. Five, alternated: a slow spell of up to
/// four batches (another process, say) leaves each way's median untouched. With three, a
/// run on a noisy Zen 4 once kept the slower way.
const TRIALS: usize = 5;

/// The two ways of a large batch's forward pass, which give the same bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// Each row summed from the weights in place.
    InPlace,
    /// The weights packed by chunks of 64 columns first.
    Packed,
}

/// What a caller keeps between large batches' forward passes: the packed weights, and
/// which way runs. The first `2 × TRIALS` calls alternate the ways and time them; then the
/// one with the lower median runs.
#[derive(Clone, Debug, Default)]
pub struct LargeBatches {
    packed: Vec<f32>,
    tried: [Vec<Duration>; 2],
    chosen: Option<Way>,
}

impl LargeBatches {
    /// Always `way` (no timing): to measure or test one way.
    pub fn always(way: Way) -> Self {
        let chosen = Some(way);
        LargeBatches {
            chosen,
            ..Self::default()
        }
    }

    /// The way the next call runs.
    fn next(&self) -> Way {
        if let Some(way) = self.chosen {
            return way;
        }
        match self.tried[0].len() <= self.tried[1].len() {
            true => Way::InPlace,
            false => Way::Packed,
        }
    }

    /// Records a timed call; after the last trial, keeps the faster way.
    fn record(&mut self, way: Way, took: Duration) {
        if self.chosen.is_some() {
            return;
        }
        self.tried[way as usize].push(took);
        if self.tried.iter().all(|t| t.len() == TRIALS) {
            let median = |t: &mut Vec<Duration>| {
                t.sort();
                t[TRIALS / 2]
            };
            let (in_place, packed) = (median(&mut self.tried[0]), median(&mut self.tried[1]));
            let way = if packed < in_place {
                Way::Packed
            } else {
                Way::InPlace
            };
            self.chosen = Some(way);
            if way == Way::InPlace {
                self.packed = Vec::new();
            }
        }
    }
}

/// [`affine`] for a batch of more than [`super::CACHED_ROWS`] rows, the way `large` says.
pub(super) fn large_affine(
    x: &SparseRows,
    w: &[f32],
    b: &[f32],
    relu: bool,
    z: &mut [f32],
    threads: Threads,
    large: &mut LargeBatches,
) {
    let way = large.next();
    let started = Instant::now();
    match way {
        Way::InPlace => affine(x, w, b, relu, z, threads),
        Way::Packed => packed_affine(x, w, b, relu, z, threads, &mut large.packed),
    }
    large.record(way, started.elapsed());
}

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
    assert!(w.len() == x.n_columns() * b.len());
    each_part_of_rows(x, z, b.len(), threads, |first, part| {
        rows_affine(x, w, b, relu, first, part)
    });
}

/// `work(first, part)` for parts of the rows of `x`, one a thread, cut where they hold
/// equal shares of the non-zeros: `part` is the outputs `z` (rows `k` wide) of the rows
/// from `first` on.
fn each_part_of_rows(
    x: &SparseRows,
    z: &mut [f32],
    k: usize,
    threads: Threads,
    work: impl Fn(usize, &mut [f32]) + Sync,
) {
    let n = x.n_rows();
    assert!(z.len() >= n * k);
    let cuts = threads.cuts(n, |r| x.row_start(r));
    let parts = row_parts(&mut z[..n * k], k, &cuts);
    threads.each(parts, |(rows, part)| work(rows.start, part));
}

/// ReLU on `z` in place.
fn relu_in_place(z: &mut [f32]) {
    z.iter_mut().for_each(|o| *o = o.max(0.0));
}

/// [`affine`] by chunks of [`CHUNK`] columns of `w`, packed into `packed` first (resized
/// to `w`'s size): for each chunk, every row's sum, then ReLU on it when `relu`. The
/// threads pack a share of the chunks each, then sum a share of the rows each.
fn packed_affine(
    x: &SparseRows,
    w: &[f32],
    b: &[f32],
    relu: bool,
    z: &mut [f32],
    threads: Threads,
    packed: &mut Vec<f32>,
) {
    let (k, d) = (b.len(), x.n_columns());
    assert!(w.len() == d * k);
    let isa = Isa::detect();
    let chunks: Vec<(usize, usize)> = chunks(isa, k, CHUNK).collect();
    pack(w, d, &chunks, packed, threads);
    let packed: &[f32] = packed;
    each_part_of_rows(x, z, k, threads, |first, part| {
        for &(at, width) in &chunks {
            let chunk = &packed[at * d..(at + width) * d];
            for (i, out) in part.chunks_exact_mut(k).enumerate() {
                let terms = x.row_terms(first + i, chunk, width);
                let out = &mut out[at..at + width];
                // SAFETY: `isa` is the CPU's; a row's columns `j` are below `d`, so
                // `j · width + width <= chunk.len()`.
                unsafe { sum_into(isa, terms, Start::At(&b[at..at + width]), out) };
                if relu {
                    relu_in_place(out);
                }
            }
        }
    });
}

/// Each of `chunks` of the columns of `w` (`d` rows), row by row, into `packed`: chunk
/// `(at, width)` at `packed[at · d..]`, its row `j` `width` values at `j · width`. The
/// threads take a share of the chunks each.
fn pack(w: &[f32], d: usize, chunks: &[(usize, usize)], packed: &mut Vec<f32>, threads: Threads) {
    let k = w.len() / d.max(1);
    packed.resize(w.len(), 0.0);
    let cuts = threads.cuts(chunks.len(), |c| chunks.get(c).map_or(k, |&(at, _)| at));
    let mut parts = Vec::with_capacity(cuts.len());
    let mut rest = packed.as_mut_slice();
    for cut in cuts.windows(2) {
        let mine = &chunks[cut[0]..cut[1]];
        let columns: usize = mine.iter().map(|&(_, width)| width).sum();
        let (part, after) = rest.split_at_mut(columns * d);
        parts.push((mine, part));
        rest = after;
    }
    threads.each(parts, |(mine, part)| {
        let mut part = part;
        for &(at, width) in mine {
            let (chunk, after) = part.split_at_mut(width * d);
            for (j, row) in chunk.chunks_exact_mut(width).enumerate() {
                row.copy_from_slice(&w[j * k + at..][..width]);
            }
            part = after;
        }
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
            relu_in_place(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ways alternate for `TRIALS` calls each, then the lower median is kept for good.
    #[test]
    fn the_ways_alternate_until_the_faster_median_is_kept() {
        let ms = Duration::from_millis;
        let packed_wins = ([9, 9, 1, 2, 3], Way::Packed);
        let in_place_wins = ([1, 9, 9, 8, 8], Way::InPlace);
        for (packed_times, kept) in [packed_wins, in_place_wins] {
            let mut large = LargeBatches::default();
            for (in_place, packed) in [5, 6, 7, 30, 40].into_iter().zip(packed_times) {
                for (way, took) in [(Way::InPlace, in_place), (Way::Packed, packed)] {
                    assert_eq!(large.next(), way);
                    large.record(way, ms(took));
                }
            }
            assert_eq!(large.next(), kept);
            large.record(kept, ms(1000));
            assert_eq!(large.next(), kept);
        }
    }
}
