//! The one operation the chunked kernels ([`super::chunked`]) are made of: a sum of scaled
//! rows of a matrix, `dst[i] = start[i] + Σ_t values[t] · src[(index[t] - base) · stride + i]`,
//! added term by term in order, for a chunk of columns (`dst.len()` of them).
//!
//! The forward pass sums weight rows (one term per non-zero of an input row); the weight
//! gradient sums delta rows (one term per row where an input column is set). The AVX2
//! version keeps a whole chunk of [`CHUNK`] sums in eight registers while it walks the
//! terms, so each term costs a load of the source row and no load or store of the sums.
//! Both versions multiply and add separately (no fused multiply-add) in the same order,
//! so they give the same bits; a term of value 1 adds its row as it is (the product would
//! be exact).

/// Columns a chunk sums at once: eight AVX2 registers of eight lanes.
pub(crate) const CHUNK: usize = 64;
/// Lanes of an AVX2 register: the width of the chunks that follow the full ones.
const LANES: usize = 8;

/// Where a sum starts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Start<'a> {
    /// At these values (a bias), one for each column of the chunk.
    At(&'a [f32]),
    /// At its first term (there must be one).
    FirstTerm,
    /// At what the destination holds (a sum carried on).
    Dst,
}

/// The columns of a row `k` wide as chunks `(at, width)`: [`CHUNK`] wide, then eight wide,
/// then single columns.
pub(crate) fn chunks(k: usize) -> impl Iterator<Item = (usize, usize)> {
    let full = k / CHUNK * CHUNK;
    let eights = full + (k - full) / LANES * LANES;
    let wide = (0..full).step_by(CHUNK).map(|at| (at, CHUNK));
    let eight = (full..eights).step_by(LANES).map(|at| (at, LANES));
    wide.chain(eight).chain((eights..k).map(|at| (at, 1)))
}

/// The terms of a sum: `values[t] · src[(index[t] - base) · stride ..]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Terms<'a> {
    pub src: &'a [f32],
    pub stride: usize,
    pub index: &'a [u32],
    /// Subtracted from every index (the first row of a block of rows in `src`).
    pub base: u32,
    pub values: &'a [f32],
}

/// Which version runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    Avx2,
    Portable,
}

impl Isa {
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Isa::Avx2;
        }
        Isa::Portable
    }
}

/// The sum of `terms`, from `start`, into `dst` (its columns the first `dst.len()` of each
/// source row).
///
/// # Safety
/// With [`Isa::Avx2`], the CPU has AVX2, and every `index[t] - base` is a row of `src`
/// (`(index[t] - base + 1) · stride <= src.len()`, `dst.len() <= stride`): the caller's
/// bounds, which the portable version checks itself. `values` is as long as `index`, a
/// `Start::At` slice as long as `dst`, and a `Start::FirstTerm` sum has a term.
#[inline(always)]
pub(crate) unsafe fn sum_into(isa: Isa, terms: Terms, start: Start, dst: &mut [f32]) {
    debug_assert_eq!(terms.index.len(), terms.values.len());
    debug_assert!(dst.len() <= terms.stride);
    match (isa, dst.len()) {
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, CHUNK) => unsafe { avx2::sum::<{ CHUNK / LANES }>(terms, start, dst) },
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, LANES) => unsafe { avx2::sum::<1>(terms, start, dst) },
        _ => portable(terms, start, dst),
    }
}

/// Asks for the cache lines of `s` ahead of their use (nothing off x86-64).
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
pub(crate) fn prefetch(s: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in s.chunks(16) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch reads nothing and faults on nothing; the address is in `s`.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
    }
}

/// [`sum_into`] one column at a time.
#[inline(always)]
fn portable(terms: Terms, start: Start, dst: &mut [f32]) {
    let w = dst.len();
    let row = |t: usize| {
        let from = (terms.index[t] - terms.base) as usize * terms.stride;
        &terms.src[from..from + w]
    };
    let first = match start {
        Start::At(s) => {
            dst.copy_from_slice(s);
            0
        }
        Start::Dst => 0,
        Start::FirstTerm => {
            let x = terms.values[0];
            for (d, &s) in dst.iter_mut().zip(row(0)) {
                *d = x * s;
            }
            1
        }
    };
    for (t, &x) in terms.values.iter().enumerate().skip(first) {
        if x == 1.0 {
            for (d, &s) in dst.iter_mut().zip(row(t)) {
                *d += s;
            }
        } else {
            for (d, &s) in dst.iter_mut().zip(row(t)) {
                *d += x * s;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Start, Terms, LANES};
    use std::arch::x86_64::*;

    /// [`super::sum_into`] for `V` registers of columns, the sums held in registers.
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) unsafe fn sum<const V: usize>(terms: Terms, start: Start, dst: &mut [f32]) {
        debug_assert_eq!(dst.len(), V * LANES);
        let src = terms.src.as_ptr();
        let row = |t: usize| {
            src.add((*terms.index.get_unchecked(t) - terms.base) as usize * terms.stride)
        };
        let mut acc = [_mm256_setzero_ps(); V];
        let first = match start {
            Start::At(s) => {
                for (v, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_loadu_ps(s.as_ptr().add(v * LANES));
                }
                0
            }
            Start::Dst => {
                for (v, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_loadu_ps(dst.as_ptr().add(v * LANES));
                }
                0
            }
            Start::FirstTerm => {
                let (p, x) = (row(0), _mm256_set1_ps(terms.values[0]));
                for (v, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_mul_ps(x, _mm256_loadu_ps(p.add(v * LANES)));
                }
                1
            }
        };
        for t in first..terms.index.len() {
            let (p, x) = (row(t), *terms.values.get_unchecked(t));
            if x == 1.0 {
                for (v, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_add_ps(*a, _mm256_loadu_ps(p.add(v * LANES)));
                }
            } else {
                let x = _mm256_set1_ps(x);
                for (v, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_add_ps(*a, _mm256_mul_ps(x, _mm256_loadu_ps(p.add(v * LANES))));
                }
            }
        }
        let out = dst.as_mut_ptr();
        for (v, a) in acc.iter().enumerate() {
            _mm256_storeu_ps(out.add(v * LANES), *a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_column_once_widest_first() {
        let c: Vec<_> = chunks(2 * CHUNK + 2 * LANES + 3).collect();
        assert_eq!(c[..2], [(0, CHUNK), (CHUNK, CHUNK)]);
        assert_eq!(c[2..4], [(128, 8), (136, 8)]);
        assert_eq!(c[4..], [(144, 1), (145, 1), (146, 1)]);
        assert_eq!(chunks(0).count(), 0);
        assert_eq!(
            chunks(5).collect::<Vec<_>>(),
            [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)]
        );
    }

    /// Every version and width gives the term-by-term sum's bits, from a start, from the
    /// first term or from what the destination holds, with terms of value 1 and others.
    #[test]
    fn each_version_is_the_term_by_term_sum_bit_for_bit() {
        let stride = 150;
        let src: Vec<f32> = (0..stride * 10)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let (index, base) = ([5u32, 2, 10, 5, 7], 2);
        let values = [1.0f32, -0.3, 2.5, 1.0, 0.7];
        let bias: Vec<f32> = (0..stride).map(|i| i as f32 * 0.01 - 0.4).collect();
        let row = |t: usize, at: usize| (index[t] - base) as usize * stride + at;
        for (at, w) in chunks(stride - 11).chain([(0, 3)]) {
            let terms = Terms {
                src: &src[at..],
                stride,
                index: &index,
                base,
                values: &values,
            };
            for start in [Start::At(&bias[at..at + w]), Start::FirstTerm, Start::Dst] {
                let mut expected: Vec<f32> = match start {
                    Start::At(b) => b.to_vec(),
                    Start::FirstTerm => src[row(0, at)..][..w]
                        .iter()
                        .map(|&s| values[0] * s)
                        .collect(),
                    Start::Dst => bias[..w].iter().map(|b| b * 3.0).collect(),
                };
                let first = usize::from(matches!(start, Start::FirstTerm));
                for t in first..index.len() {
                    for (i, e) in expected.iter_mut().enumerate() {
                        *e += values[t] * src[row(t, at) + i];
                    }
                }
                for isa in [Isa::detect(), Isa::Portable] {
                    let mut dst: Vec<f32> = bias[..w].iter().map(|b| b * 3.0).collect();
                    // SAFETY: the detected set; every row is inside `src[at..]`.
                    unsafe { sum_into(isa, terms, start, &mut dst) };
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(
                        bits(&dst),
                        bits(&expected),
                        "{isa:?} {start:?} at {at}, {w} wide"
                    );
                }
            }
        }
    }
}
