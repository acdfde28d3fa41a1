//! The tiled step's three kernels, on feature-major tiles (feature `f`, row `r` at
//! `f * TILE + r`; see the parent module):
//!
//! - [`combine`]: `out[o][r] = init[o] + Σ_j c(o, j) · inp[j][r]`, then ReLU or a mask. The
//!   forward product (`c = Wᵀ`) and the backward delta product (`c = W`) are both this.
//! - [`outer`]: `g[j][o][lane] += Σ_r a[j][r] · d[o][r]` over the rows `r` of each lane, a
//!   weight gradient kept as eight partial sums per weight across tiles, so that the
//!   horizontal sums happen once a step ([`fold_lanes`]), not once a tile.
//! - [`row_sums`]: `g[o] += Σ_r d[o][r]`, a bias gradient.
//!
//! Each runs over the first `vecs` vectors of [`LANES`] rows. The AVX2 versions keep a block
//! of outputs × rows in twelve registers while they walk the shared dimension, so each
//! value loaded feeds three or four multiply-adds. The portable versions compute the same
//! sums in the same order per output, without fused multiply-adds.

use super::TILE;

/// Rows per vector.
pub(crate) const LANES: usize = 8;
/// Outputs per register block in [`combine`].
const BLOCK_OUT: usize = 6;
/// Vectors of rows per register block in [`combine`].
const BLOCK_VECS: usize = 2;
/// Rows of `a` and of `d` per register block in [`outer`].
const OUTER_A: usize = 4;
const OUTER_D: usize = 3;

/// Which kernel set runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// AVX2 with fused multiply-add (x86-64 from about 2013 on).
    Avx2Fma,
    /// Plain Rust, on any CPU.
    Portable,
}

impl Isa {
    /// The fastest set this CPU runs; the same answer for the life of the process.
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Isa::Avx2Fma;
        }
        Isa::Portable
    }
}

/// A matrix read as `c(o, j) = data[o * row_stride + j * col_stride]`: a weight matrix or
/// its transpose, without copying.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Coef<'a> {
    data: &'a [f32],
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Coef<'a> {
    pub(crate) fn new(data: &'a [f32], row_stride: usize, col_stride: usize) -> Self {
        Coef {
            data,
            row_stride,
            col_stride,
        }
    }

    #[inline(always)]
    fn at(&self, o: usize, j: usize) -> f32 {
        self.data[o * self.row_stride + j * self.col_stride]
    }

    /// Whether every `c(o, j)` with `o < m`, `j < k` lies inside `data`.
    fn covers(&self, m: usize, k: usize) -> bool {
        m == 0 || k == 0 || (m - 1) * self.row_stride + (k - 1) * self.col_stride < self.data.len()
    }
}

/// What [`combine`] does to each sum before it stores it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Post<'a> {
    None,
    /// `max(v, 0)`.
    Relu,
    /// `v` where the same cell of this tile is positive, else 0 (ReLU's derivative, 0 at 0).
    MaskBy(&'a [f32]),
}

/// `out[o][r] = init[o] + Σ_{j<k} c(o, j) · inp[j][r]` for `o < m` and the first `vecs`
/// vectors of rows, then `post`. `init` absent means 0.
///
/// # Panics
/// If a tile or `coef` is too short for `m`, `k` and `vecs`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn combine(
    isa: Isa,
    out: &mut [f32],
    m: usize,
    coef: Coef,
    inp: &[f32],
    k: usize,
    init: Option<&[f32]>,
    post: Post,
    vecs: usize,
) {
    assert!(vecs * LANES <= TILE, "more rows than a tile");
    assert!(
        out.len() >= m * TILE && inp.len() >= k * TILE,
        "a tile is too short"
    );
    assert!(coef.covers(m, k), "coefficients too short");
    assert!(init.is_none_or(|b| b.len() >= m), "too few initial values");
    if let Post::MaskBy(mask) = post {
        assert!(mask.len() >= m * TILE, "mask tile too short");
    }
    match isa {
        // SAFETY: `Avx2Fma` is only chosen when the CPU has both features; every index is
        // inside the bounds asserted above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => unsafe { avx2::combine(out, m, coef, inp, k, init, post, vecs) },
        _ => portable::combine(out, m, coef, inp, k, init, post, vecs),
    }
}

/// `g[(j * k_out + o) * LANES + lane] += Σ_r a[j][r] · d[o][r]` for `j < k_in`, `o < k_out`,
/// over the rows `r ≡ lane (mod LANES)` of the first `vecs` vectors.
///
/// # Panics
/// If `g` or a tile is too short.
pub(crate) fn outer(
    isa: Isa,
    g: &mut [f32],
    a: &[f32],
    k_in: usize,
    d: &[f32],
    k_out: usize,
    vecs: usize,
) {
    assert!(vecs * LANES <= TILE, "more rows than a tile");
    assert!(g.len() >= k_in * k_out * LANES, "gradient lanes too short");
    assert!(
        a.len() >= k_in * TILE && d.len() >= k_out * TILE,
        "a tile is too short"
    );
    match isa {
        // SAFETY: as in `combine`.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => unsafe { avx2::outer(g, a, k_in, d, k_out, vecs) },
        _ => portable::outer(g, a, k_in, d, k_out, vecs),
    }
}

/// `g[i] = ` the sum of `lanes[i * LANES..(i + 1) * LANES]`, in the order the AVX2
/// horizontal sum takes: lanes `l` and `l + 4`, then the two halves of that, then the pair.
pub(crate) fn fold_lanes(lanes: &[f32], g: &mut [f32]) {
    for (out, l) in g.iter_mut().zip(lanes.chunks_exact(LANES)) {
        let quarter = [l[0] + l[4], l[1] + l[5], l[2] + l[6], l[3] + l[7]];
        let half = [quarter[0] + quarter[2], quarter[1] + quarter[3]];
        *out = half[0] + half[1];
    }
}

/// `g[o] += Σ_r d[o][r]` for `o < g.len()`, over the first `vecs` vectors of rows.
///
/// # Panics
/// If the tile is too short.
pub(crate) fn row_sums(isa: Isa, g: &mut [f32], d: &[f32], vecs: usize) {
    assert!(vecs * LANES <= TILE, "more rows than a tile");
    assert!(d.len() >= g.len() * TILE, "a tile is too short");
    match isa {
        // SAFETY: as in `combine`.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2Fma => unsafe { avx2::row_sums(g, d, vecs) },
        _ => portable::row_sums(g, d, vecs),
    }
}

mod portable {
    use super::{Coef, Post, LANES, TILE};

    #[allow(clippy::too_many_arguments)]
    pub(super) fn combine(
        out: &mut [f32],
        m: usize,
        coef: Coef,
        inp: &[f32],
        k: usize,
        init: Option<&[f32]>,
        post: Post,
        vecs: usize,
    ) {
        let rows = vecs * LANES;
        for o in 0..m {
            let row = &mut out[o * TILE..o * TILE + rows];
            row.fill(init.map_or(0.0, |b| b[o]));
            for j in 0..k {
                let c = coef.at(o, j);
                for (v, &x) in row.iter_mut().zip(&inp[j * TILE..j * TILE + rows]) {
                    *v += c * x;
                }
            }
            match post {
                Post::None => {}
                Post::Relu => row.iter_mut().for_each(|v| *v = v.max(0.0)),
                Post::MaskBy(mask) => {
                    for (v, &a) in row.iter_mut().zip(&mask[o * TILE..o * TILE + rows]) {
                        *v = if a > 0.0 { *v } else { 0.0 };
                    }
                }
            }
        }
    }

    pub(super) fn outer(
        g: &mut [f32],
        a: &[f32],
        k_in: usize,
        d: &[f32],
        k_out: usize,
        vecs: usize,
    ) {
        let rows = vecs * LANES;
        for j in 0..k_in {
            let aj = &a[j * TILE..j * TILE + rows];
            for o in 0..k_out {
                let lanes = &mut g[(j * k_out + o) * LANES..(j * k_out + o + 1) * LANES];
                let dj = &d[o * TILE..o * TILE + rows];
                for (av, dv) in aj.chunks_exact(LANES).zip(dj.chunks_exact(LANES)) {
                    for ((s, &x), &y) in lanes.iter_mut().zip(av).zip(dv) {
                        *s += x * y;
                    }
                }
            }
        }
    }

    pub(super) fn row_sums(g: &mut [f32], d: &[f32], vecs: usize) {
        let rows = vecs * LANES;
        for (o, v) in g.iter_mut().enumerate() {
            *v += d[o * TILE..o * TILE + rows].iter().sum::<f32>();
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Coef, Post, BLOCK_OUT, BLOCK_VECS, LANES, OUTER_A, OUTER_D, TILE};
    use std::arch::x86_64::*;

    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn combine(
        out: &mut [f32],
        m: usize,
        coef: Coef,
        inp: &[f32],
        k: usize,
        init: Option<&[f32]>,
        post: Post,
        vecs: usize,
    ) {
        let (out, inp) = (out.as_mut_ptr(), inp.as_ptr());
        let mut o = 0;
        while o < m {
            let block = (m - o).min(BLOCK_OUT);
            match block {
                1 => combine_outputs::<1>(out, o, coef, inp, k, init, post, vecs),
                2 => combine_outputs::<2>(out, o, coef, inp, k, init, post, vecs),
                3 => combine_outputs::<3>(out, o, coef, inp, k, init, post, vecs),
                4 => combine_outputs::<4>(out, o, coef, inp, k, init, post, vecs),
                5 => combine_outputs::<5>(out, o, coef, inp, k, init, post, vecs),
                _ => combine_outputs::<BLOCK_OUT>(out, o, coef, inp, k, init, post, vecs),
            }
            o += block;
        }
    }

    /// Outputs `o0 .. o0 + R`, every row, in blocks of `BLOCK_VECS` vectors then single ones.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn combine_outputs<const R: usize>(
        out: *mut f32,
        o0: usize,
        coef: Coef,
        inp: *const f32,
        k: usize,
        init: Option<&[f32]>,
        post: Post,
        vecs: usize,
    ) {
        let mut v = 0;
        while v + BLOCK_VECS <= vecs {
            combine_block::<R, BLOCK_VECS>(out, o0, coef, inp, k, init, post, v);
            v += BLOCK_VECS;
        }
        while v < vecs {
            combine_block::<R, 1>(out, o0, coef, inp, k, init, post, v);
            v += 1;
        }
    }

    /// Outputs `o0 .. o0 + R` for the rows of vectors `v0 .. v0 + V`, summed in registers.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn combine_block<const R: usize, const V: usize>(
        out: *mut f32,
        o0: usize,
        coef: Coef,
        inp: *const f32,
        k: usize,
        init: Option<&[f32]>,
        post: Post,
        v0: usize,
    ) {
        let col0 = v0 * LANES;
        let mut acc = [[_mm256_setzero_ps(); V]; R];
        if let Some(b) = init {
            for (i, row) in acc.iter_mut().enumerate() {
                *row = [_mm256_set1_ps(b[o0 + i]); V];
            }
        }
        // Each output's coefficients, walked with stride `col_stride` (bounds: `covers`).
        let mut starts = [coef.data.as_ptr(); R];
        for (i, p) in starts.iter_mut().enumerate() {
            *p = p.add((o0 + i) * coef.row_stride);
        }
        for j in 0..k {
            let src = inp.add(j * TILE + col0);
            let mut xs = [_mm256_setzero_ps(); V];
            for (q, x) in xs.iter_mut().enumerate() {
                *x = _mm256_loadu_ps(src.add(q * LANES));
            }
            for (row, &p) in acc.iter_mut().zip(&starts) {
                let c = _mm256_broadcast_ss(&*p.add(j * coef.col_stride));
                for (a, &x) in row.iter_mut().zip(&xs) {
                    *a = _mm256_fmadd_ps(c, x, *a);
                }
            }
        }
        let zero = _mm256_setzero_ps();
        for (i, row) in acc.iter().enumerate() {
            let at = (o0 + i) * TILE + col0;
            for (q, &sum) in row.iter().enumerate() {
                let value = match post {
                    Post::None => sum,
                    Post::Relu => _mm256_max_ps(sum, zero),
                    Post::MaskBy(mask) => {
                        let a = _mm256_loadu_ps(mask.as_ptr().add(at + q * LANES));
                        _mm256_and_ps(sum, _mm256_cmp_ps::<_CMP_GT_OQ>(a, zero))
                    }
                };
                _mm256_storeu_ps(out.add(at + q * LANES), value);
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn outer(
        g: &mut [f32],
        a: &[f32],
        k_in: usize,
        d: &[f32],
        k_out: usize,
        vecs: usize,
    ) {
        let (a, d) = (a.as_ptr(), d.as_ptr());
        let mut o = 0;
        while o < k_out {
            let block = (k_out - o).min(OUTER_D);
            match block {
                1 => outer_columns::<1>(g, a, k_in, d, k_out, o, vecs),
                2 => outer_columns::<2>(g, a, k_in, d, k_out, o, vecs),
                _ => outer_columns::<OUTER_D>(g, a, k_in, d, k_out, o, vecs),
            }
            o += block;
        }
    }

    /// Gradient columns `o0 .. o0 + O`, every row of `g`, `BLOCK_OUT` rows at a time.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn outer_columns<const O: usize>(
        g: &mut [f32],
        a: *const f32,
        k_in: usize,
        d: *const f32,
        k_out: usize,
        o0: usize,
        vecs: usize,
    ) {
        let mut j = 0;
        while j < k_in {
            let block = (k_in - j).min(OUTER_A);
            match block {
                1 => outer_block::<1, O>(g, a, j, d, k_out, o0, vecs),
                2 => outer_block::<2, O>(g, a, j, d, k_out, o0, vecs),
                3 => outer_block::<3, O>(g, a, j, d, k_out, o0, vecs),
                _ => outer_block::<OUTER_A, O>(g, a, j, d, k_out, o0, vecs),
            }
            j += block;
        }
    }

    /// The lanes of `g[j0 + i][o0 + p]` for `i < J`, `p < O`, summed over the rows in
    /// registers.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn outer_block<const J: usize, const O: usize>(
        g: &mut [f32],
        a: *const f32,
        j0: usize,
        d: *const f32,
        k_out: usize,
        o0: usize,
        vecs: usize,
    ) {
        let lanes = g.as_mut_ptr();
        let at = |i: usize, p: usize| ((j0 + i) * k_out + o0 + p) * LANES;
        let mut acc = [[_mm256_setzero_ps(); O]; J];
        for (i, row) in acc.iter_mut().enumerate() {
            for (p, s) in row.iter_mut().enumerate() {
                *s = _mm256_loadu_ps(lanes.add(at(i, p)));
            }
        }
        for v in 0..vecs {
            let col = v * LANES;
            let mut ds = [_mm256_setzero_ps(); O];
            for (p, dv) in ds.iter_mut().enumerate() {
                *dv = _mm256_loadu_ps(d.add((o0 + p) * TILE + col));
            }
            for (i, row) in acc.iter_mut().enumerate() {
                let av = _mm256_loadu_ps(a.add((j0 + i) * TILE + col));
                for (s, &dv) in row.iter_mut().zip(&ds) {
                    *s = _mm256_fmadd_ps(av, dv, *s);
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            for (p, &sum) in row.iter().enumerate() {
                _mm256_storeu_ps(lanes.add(at(i, p)), sum);
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn row_sums(g: &mut [f32], d: &[f32], vecs: usize) {
        for (o, out) in g.iter_mut().enumerate() {
            let mut acc = _mm256_setzero_ps();
            for v in 0..vecs {
                acc = _mm256_add_ps(acc, _mm256_loadu_ps(d.as_ptr().add(o * TILE + v * LANES)));
            }
            *out += horizontal_sum(acc);
        }
    }

    /// The sum of eight lanes, in a fixed order: halves, then quarters, then the last pair.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn horizontal_sum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<1>(s, s));
        _mm_cvtss_f32(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn tile(rng: &mut ChaCha8Rng, k: usize) -> Vec<f32> {
        (0..k * TILE)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect()
    }

    fn isas() -> Vec<Isa> {
        let mut v = vec![Isa::Portable];
        if Isa::detect() != Isa::Portable {
            v.push(Isa::detect());
        }
        v
    }

    /// Every kernel against a slow f64 loop, for output and shared sizes that hit every
    /// block remainder and a row count that is not a whole number of blocks.
    #[test]
    fn kernels_match_a_loop_reference() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let vecs = TILE / LANES - 1;
        let rows = vecs * LANES;
        // Outputs 1..=12 with inputs spread over 2..=13, and one wide layer: every remainder
        // of `combine`'s 6-output blocks, and of `outer`'s 4 x 3 blocks in both dimensions.
        let shapes: Vec<(usize, usize)> = (1..=12)
            .map(|m| (m, (m * 5) % 13 + 1))
            .chain([(13, 40)])
            .collect();
        for (modulus, dim) in [(6, 0), (4, 0), (3, 0), (4, 1), (3, 1)] {
            let seen: std::collections::BTreeSet<usize> =
                shapes.iter().map(|&(m, k)| [m, k][dim] % modulus).collect();
            assert_eq!(seen.len(), modulus, "remainders mod {modulus} of dim {dim}");
        }
        for isa in isas() {
            for &(m, k) in &shapes {
                let inp = tile(&mut rng, k);
                let mask = tile(&mut rng, m);
                let w: Vec<f32> = (0..m * k).map(|_| rng.random_range(-1.0f32..1.0)).collect();
                let bias: Vec<f32> = (0..m).map(|_| rng.random_range(-1.0f32..1.0)).collect();
                // c(o, j) = w[j * m + o]: a weight matrix read transposed, as forward does.
                let coef = Coef::new(&w, 1, m);
                for post in [Post::None, Post::Relu, Post::MaskBy(&mask)] {
                    let mut out = vec![f32::NAN; m * TILE];
                    combine(isa, &mut out, m, coef, &inp, k, Some(&bias), post, vecs);
                    for o in 0..m {
                        for r in 0..rows {
                            let sum = bias[o] as f64
                                + (0..k)
                                    .map(|j| w[j * m + o] as f64 * inp[j * TILE + r] as f64)
                                    .sum::<f64>();
                            let want = match post {
                                Post::None => sum,
                                Post::Relu => sum.max(0.0),
                                Post::MaskBy(a) if a[o * TILE + r] > 0.0 => sum,
                                Post::MaskBy(_) => 0.0,
                            };
                            let got = out[o * TILE + r] as f64;
                            assert!(
                                (got - want).abs() < 1e-5,
                                "{isa:?} {m}x{k}: {got} vs {want}"
                            );
                        }
                        // Rows past `vecs` are not written.
                        assert!(out[o * TILE + rows].is_nan());
                    }
                }

                let a = tile(&mut rng, k);
                let d = tile(&mut rng, m);
                let mut lanes = vec![0.5f32 / LANES as f32; k * m * LANES];
                outer(isa, &mut lanes, &a, k, &d, m, vecs);
                let mut g = vec![f32::NAN; k * m];
                fold_lanes(&lanes, &mut g);
                for j in 0..k {
                    for o in 0..m {
                        let want = 0.5
                            + (0..rows)
                                .map(|r| a[j * TILE + r] as f64 * d[o * TILE + r] as f64)
                                .sum::<f64>();
                        let got = g[j * m + o] as f64;
                        assert!(
                            (got - want).abs() < 1e-4,
                            "{isa:?} outer {k}x{m}: {got} vs {want}"
                        );
                    }
                }

                let mut sums = vec![1.0f32; m];
                row_sums(isa, &mut sums, &d, vecs);
                for o in 0..m {
                    let want = 1.0 + (0..rows).map(|r| d[o * TILE + r] as f64).sum::<f64>();
                    assert!((sums[o] as f64 - want).abs() < 1e-4, "{isa:?} row sums");
                }
            }
        }
    }

    #[test]
    fn relu_and_mask_send_nan_and_zero_where_tensorflow_does() {
        for isa in isas() {
            let mut inp = vec![0.0f32; TILE];
            inp[..4].copy_from_slice(&[f32::NAN, -1.0, 0.0, 2.0]);
            let w = [1.0f32];
            let mut out = vec![7.0f32; TILE];
            combine(
                isa,
                &mut out,
                1,
                Coef::new(&w, 1, 1),
                &inp,
                1,
                None,
                Post::Relu,
                1,
            );
            // max(v, 0) as Rust's f32::max: a NaN sum gives 0, as the BLAS path's ReLU does.
            assert_eq!(&out[..4], &[0.0, 0.0, 0.0, 2.0], "{isa:?}");
            let mut mask = vec![0.0f32; TILE];
            mask[..4].copy_from_slice(&[1.0, f32::NAN, 0.0, 3.0]);
            combine(
                isa,
                &mut out,
                1,
                Coef::new(&w, 1, 1),
                &inp,
                1,
                None,
                Post::MaskBy(&mask),
                1,
            );
            assert!(
                out[0].is_nan(),
                "{isa:?}: a NaN delta under an active unit stays NaN"
            );
            assert_eq!(&out[1..4], &[0.0, 0.0, 2.0], "{isa:?}");
        }
    }
}
