//! The one operation the sparse kernels are made of: a sum of scaled rows of a matrix,
//! `dst[i] = start[i] + Σ_t values[t] · src[(index[t] - base) · stride + i]`, added term by
//! term in order, for a chunk of columns (`dst.len()` of them).
//!
//! The forward pass sums weight rows (one term per non-zero of an input row); the weight
//! gradient sums delta rows (one term per row where an input column is set). The vector
//! versions keep a whole chunk of sums in registers while they walk the terms, so each
//! term costs a load of the source row and no load or store of the sums: AVX-512 holds
//! up to 256 columns in sixteen registers, AVX2 64 in eight. Every version multiplies and
//! adds separately (no fused multiply-add), each column's terms in the same order, so they
//! give the same bits; a term of value 1 adds its row as it is (the product would be
//! exact).

/// Columns of the chunks the chunked kernels pack ([`super::chunked`]): eight AVX2
/// registers, or four AVX-512 ones.
pub(crate) const CHUNK: usize = 64;
/// Lanes of an AVX2 register.
const LANES: usize = 8;
/// Lanes of an AVX-512 register.
const LANES_512: usize = 16;
/// The widest chunk the AVX-512 version holds: sixteen registers.
const WIDE_512: usize = 256;

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

/// The columns of a row `k` wide as chunks `(at, width)` that `isa` sums in registers:
/// `widest` wide (at most [`Isa::widest`], a multiple of its lanes), then a register wide,
/// then single columns.
pub(crate) fn chunks(isa: Isa, k: usize, widest: usize) -> impl Iterator<Item = (usize, usize)> {
    let lanes = isa.lanes();
    debug_assert!(widest <= isa.widest() && widest.is_multiple_of(lanes));
    let full = k / widest * widest;
    let vectors = full + (k - full) / lanes * lanes;
    let wide = (0..full).step_by(widest).map(move |at| (at, widest));
    let one = (full..vectors).step_by(lanes).map(move |at| (at, lanes));
    wide.chain(one).chain((vectors..k).map(|at| (at, 1)))
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
    Avx512,
    Avx2,
    Portable,
}

impl Isa {
    /// The widest version this CPU runs.
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Isa::Avx512;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Isa::Avx2;
        }
        Isa::Portable
    }

    /// Every version this CPU runs, the widest first.
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Isa> {
        let all = [Isa::Avx512, Isa::Avx2, Isa::Portable];
        let detected = all
            .iter()
            .position(|&i| i == Isa::detect())
            .expect("listed");
        all[detected..].to_vec()
    }

    /// Columns a register holds (1 for the portable version, which has no chunk size).
    fn lanes(self) -> usize {
        match self {
            Isa::Avx512 => LANES_512,
            Isa::Avx2 => LANES,
            Isa::Portable => 1,
        }
    }

    /// Whether [`sum_group_into`] sums groups of chunks `width` wide on this version.
    pub(crate) fn sums_groups(self, width: usize) -> bool {
        cfg!(target_arch = "x86_64") && self == Isa::Avx512 && width == CHUNK
    }

    /// The widest chunk the version sums in registers.
    pub(crate) fn widest(self) -> usize {
        match self {
            Isa::Avx512 => WIDE_512,
            Isa::Avx2 | Isa::Portable => CHUNK,
        }
    }
}

/// The sum of `terms`, from `start`, into `dst` (its columns the first `dst.len()` of each
/// source row).
///
/// # Safety
/// With a vector version, the CPU has its features, and every term's row of `src` holds
/// the chunk (`(index[t] - base) · stride + dst.len() <= src.len()`, `dst.len() <=
/// stride`): the caller's bounds, which the portable version checks itself. `values` is
/// as long as `index`, a `Start::At` slice as long as `dst`, and a `Start::FirstTerm` sum
/// has a term.
#[inline(always)]
pub(crate) unsafe fn sum_into(isa: Isa, terms: Terms, start: Start, dst: &mut [f32]) {
    debug_assert_eq!(terms.index.len(), terms.values.len());
    debug_assert!(dst.len() <= terms.stride);
    match (isa, dst.len()) {
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, WIDE_512) => unsafe {
            avx512::sum::<{ WIDE_512 / LANES_512 }>(terms, start, dst)
        },
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, CHUNK) => unsafe { avx512::sum::<{ CHUNK / LANES_512 }>(terms, start, dst) },
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, LANES_512) => unsafe { avx512::sum::<1>(terms, start, dst) },
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, CHUNK) => unsafe { avx2::sum::<{ CHUNK / LANES }>(terms, start, dst) },
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, LANES) => unsafe { avx2::sum::<1>(terms, start, dst) },
        _ => portable(terms, start, dst),
    }
}

/// Columns of the weight gradient [`sum_group_into`] makes together.
pub(crate) const GROUP: usize = 4;

/// [`GROUP`] sums over every row of `src` (packed rows `dst[g].len()` wide, one for each
/// value): `dst[g] = start + Σ_t values[g][t] · src row t`, rows in order, starting at the
/// first term when `first_term` and at what `dst[g]` holds otherwise. Each is exactly
/// [`sum_into`] of its terms (a term of value 1 multiplied by 1 is the row itself), with
/// each source row loaded once for all of them: four AVX-512 sums of [`CHUNK`] columns
/// hold sixteen registers, enough that the adds do not wait on one another. Columns set in
/// every row of a block (descriptors) are summed this way, where [`Isa::sums_groups`].
///
/// # Safety
/// As [`sum_into`]: the CPU's version, which sums groups of this width; `src` holds
/// `values[g].len()` rows (the same for every `g`, at least one when `first_term`) of the
/// destinations' width.
#[inline(always)]
pub(crate) unsafe fn sum_group_into(
    isa: Isa,
    src: &[f32],
    values: [&[f32]; GROUP],
    first_term: bool,
    dst: [&mut [f32]; GROUP],
) {
    let width = dst[0].len();
    let rows = values[0].len();
    debug_assert!(dst.iter().all(|d| d.len() == width) && values.iter().all(|v| v.len() == rows));
    debug_assert!(src.len() >= rows * width);
    match (isa, width) {
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx512, CHUNK) => unsafe {
            avx512_group::sum::<{ CHUNK / LANES_512 }>(src, values, first_term, dst)
        },
        _ => unreachable!("no sums of groups for {isa:?} at {width} columns"),
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512_group {
    use super::{GROUP, LANES_512 as LANES};
    use std::arch::x86_64::*;

    /// [`super::sum_group_into`] for `V` registers of columns a sum.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn sum<const V: usize>(
        src: &[f32],
        values: [&[f32]; GROUP],
        first_term: bool,
        dst: [&mut [f32]; GROUP],
    ) {
        let width = V * LANES;
        let row = |t: usize| -> [__m512; V] {
            let p = src.as_ptr().add(t * width);
            std::array::from_fn(|v| _mm512_loadu_ps(p.add(v * LANES)))
        };
        let mut acc = [[_mm512_setzero_ps(); V]; GROUP];
        let first = usize::from(first_term);
        if first_term {
            let d = row(0);
            for (sums, x) in acc.iter_mut().zip(&values) {
                let x = _mm512_set1_ps(*x.get_unchecked(0));
                for (a, d) in sums.iter_mut().zip(d) {
                    *a = _mm512_mul_ps(x, d);
                }
            }
        } else {
            for (sums, dst) in acc.iter_mut().zip(&dst) {
                for (v, a) in sums.iter_mut().enumerate() {
                    *a = _mm512_loadu_ps(dst.as_ptr().add(v * LANES));
                }
            }
        }
        for t in first..values[0].len() {
            let d = row(t);
            for (sums, x) in acc.iter_mut().zip(&values) {
                let x = _mm512_set1_ps(*x.get_unchecked(t));
                for (a, d) in sums.iter_mut().zip(d) {
                    *a = _mm512_add_ps(*a, _mm512_mul_ps(x, d));
                }
            }
        }
        for (sums, dst) in acc.iter().zip(dst) {
            for (v, a) in sums.iter().enumerate() {
                _mm512_storeu_ps(dst.as_mut_ptr().add(v * LANES), *a);
            }
        }
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

/// A module `$module` of [`sum_into`]'s vector version for CPU feature `$feature`, whose
/// registers hold `$lanes` columns, from its intrinsics: one body for every width.
macro_rules! vector_sums {
    (
        $module:ident, $feature:literal, $lanes:ident,
        $setzero:ident, $loadu:ident, $storeu:ident, $set1:ident, $add:ident, $mul:ident
    ) => {
        #[cfg(target_arch = "x86_64")]
        mod $module {
            use super::{$lanes as LANES, Start, Terms};
            use std::arch::x86_64::*;

            /// [`super::sum_into`] for `V` registers of columns, the sums held in registers.
            #[target_feature(enable = $feature)]
            #[inline]
            pub(super) unsafe fn sum<const V: usize>(terms: Terms, start: Start, dst: &mut [f32]) {
                debug_assert_eq!(dst.len(), V * LANES);
                let src = terms.src.as_ptr();
                let row = |t: usize| {
                    src.add((*terms.index.get_unchecked(t) - terms.base) as usize * terms.stride)
                };
                let mut acc = [$setzero(); V];
                let first = match start {
                    Start::At(s) => {
                        for (v, a) in acc.iter_mut().enumerate() {
                            *a = $loadu(s.as_ptr().add(v * LANES));
                        }
                        0
                    }
                    Start::Dst => {
                        for (v, a) in acc.iter_mut().enumerate() {
                            *a = $loadu(dst.as_ptr().add(v * LANES));
                        }
                        0
                    }
                    Start::FirstTerm => {
                        let (p, x) = (row(0), $set1(terms.values[0]));
                        for (v, a) in acc.iter_mut().enumerate() {
                            *a = $mul(x, $loadu(p.add(v * LANES)));
                        }
                        1
                    }
                };
                for t in first..terms.index.len() {
                    let (p, x) = (row(t), *terms.values.get_unchecked(t));
                    if x == 1.0 {
                        for (v, a) in acc.iter_mut().enumerate() {
                            *a = $add(*a, $loadu(p.add(v * LANES)));
                        }
                    } else {
                        let x = $set1(x);
                        for (v, a) in acc.iter_mut().enumerate() {
                            *a = $add(*a, $mul(x, $loadu(p.add(v * LANES))));
                        }
                    }
                }
                let out = dst.as_mut_ptr();
                for (v, a) in acc.iter().enumerate() {
                    $storeu(out.add(v * LANES), *a);
                }
            }
        }
    };
}

vector_sums!(
    avx2,
    "avx2",
    LANES,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_set1_ps,
    _mm256_add_ps,
    _mm256_mul_ps
);
vector_sums!(
    avx512,
    "avx512f",
    LANES_512,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_set1_ps,
    _mm512_add_ps,
    _mm512_mul_ps
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_column_once_widest_first() {
        let c: Vec<_> = chunks(Isa::Avx2, 2 * CHUNK + 2 * LANES + 3, CHUNK).collect();
        assert_eq!(c[..2], [(0, CHUNK), (CHUNK, CHUNK)]);
        assert_eq!(c[2..4], [(128, 8), (136, 8)]);
        assert_eq!(c[4..], [(144, 1), (145, 1), (146, 1)]);
        let c: Vec<_> = chunks(Isa::Avx512, 512 + 64 + 16 + 1, WIDE_512).collect();
        assert_eq!(c[..2], [(0, 256), (256, 256)]);
        assert_eq!(c[2..6], [(512, 16), (528, 16), (544, 16), (560, 16)]);
        assert_eq!(c[6..], [(576, 16), (592, 1)]);
        assert_eq!(chunks(Isa::Avx2, 0, CHUNK).count(), 0);
        assert_eq!(
            chunks(Isa::Avx2, 5, CHUNK).collect::<Vec<_>>(),
            [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)]
        );
        let portable: Vec<_> = chunks(Isa::Portable, 70, CHUNK).collect();
        assert_eq!(portable[..2], [(0, 64), (64, 1)]);
        assert_eq!(portable.len(), 7);
    }

    /// Every version and width gives the term-by-term sum's bits, from a start, from the
    /// first term or from what the destination holds, with terms of value 1 and others.
    #[test]
    fn each_version_is_the_term_by_term_sum_bit_for_bit() {
        let stride = 300;
        let src: Vec<f32> = (0..stride * 10)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let (index, base) = ([5u32, 2, 10, 5, 7], 2);
        let values = [1.0f32, -0.3, 2.5, 1.0, 0.7];
        let bias: Vec<f32> = (0..stride).map(|i| i as f32 * 0.01 - 0.4).collect();
        let row = |t: usize, at: usize| (index[t] - base) as usize * stride + at;
        let every_width = Isa::available().into_iter().flat_map(|isa| {
            let widths = [isa.widest(), CHUNK];
            widths.map(move |widest| chunks(isa, stride - 11, widest))
        });
        for (at, w) in every_width.flatten().chain([(0, 3)]) {
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
                for isa in Isa::available() {
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
