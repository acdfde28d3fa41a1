//! The sparse kernels for a batch of up to [`super::CACHED_ROWS`] rows: walked column by
//! column, so that each weight row (2 KB at width 512) is read once, whole and in order,
//! while the batch's outputs or deltas (`rows × width` floats, 512 KB at 256 × 512) stay
//! in cache. Compiled for AVX2 when the CPU has it: eight lanes a vector, the same
//! operations on every value (no fused multiply-add), so the same bits.

use super::SparseRows;

/// `z[r] = b + Σ_j x[r,j] · w[j,:]` for every row of `x` (`z` row-major, rows `b.len()`
/// wide), column by column.
pub(super) fn affine(x: &SparseRows, w: &[f32], b: &[f32], z: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, which is all the function enables.
        return unsafe { affine_avx2(x, w, b, z) };
    }
    affine_body(x, w, b, z)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn affine_avx2(x: &SparseRows, w: &[f32], b: &[f32], z: &mut [f32]) {
    affine_body(x, w, b, z)
}

#[inline(always)]
fn affine_body(x: &SparseRows, w: &[f32], b: &[f32], z: &mut [f32]) {
    let k = b.len();
    for out in z.chunks_exact_mut(k.max(1)).take(x.n_rows()) {
        out.copy_from_slice(b);
    }
    for j in 0..x.n_columns() {
        let w_row = &w[j * k..(j + 1) * k];
        for (r, v) in x.column_entries(j) {
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

/// Every row of the weight gradient `xᵀ · delta` that `x` sets ([`grad_row`]), into `grad`
/// (rows `k` wide); the other rows are left as they are.
pub(super) fn weight_grad(x: &SparseRows, delta: &[f32], grad: &mut [f32], k: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, which is all the function enables.
        return unsafe { weight_grad_avx2(x, delta, grad, k) };
    }
    weight_grad_body(x, delta, grad, k)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn weight_grad_avx2(x: &SparseRows, delta: &[f32], grad: &mut [f32], k: usize) {
    weight_grad_body(x, delta, grad, k)
}

#[inline(always)]
fn weight_grad_body(x: &SparseRows, delta: &[f32], grad: &mut [f32], k: usize) {
    for (j, g) in grad
        .chunks_exact_mut(k.max(1))
        .enumerate()
        .take(x.n_columns())
    {
        if x.column_entries(j).next().is_some() {
            grad_row(x, delta, j, g);
        }
    }
}

/// Row `j` of the weight gradient, `Σ_r x[r,j] · delta[r,:]` over the rows where column
/// `j` is set, in row order, into `g` (`delta` row-major, rows `g.len()` wide): the first
/// term sets `g`, the others add to it; zero where column `j` is set in no row.
#[inline(always)]
pub(super) fn grad_row(x: &SparseRows, delta: &[f32], j: usize, g: &mut [f32]) {
    let k = g.len();
    let mut entries = x.column_entries(j);
    let Some((r, v)) = entries.next() else {
        g.fill(0.0);
        return;
    };
    for (gv, &dv) in g.iter_mut().zip(&delta[r * k..(r + 1) * k]) {
        *gv = v * dv;
    }
    for (r, v) in entries {
        for (gv, &dv) in g.iter_mut().zip(&delta[r * k..(r + 1) * k]) {
            *gv += v * dv;
        }
    }
}
