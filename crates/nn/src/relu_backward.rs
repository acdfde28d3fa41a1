//! A hidden layer's backward pass after its delta product: through dropout and ReLU's
//! derivative in one pass, with the bias gradient (the deltas' column sums) made in the
//! same pass.
//!
//! Dropout's mask is not read back: a unit whose output is positive was kept (a dropped
//! one's output is 0), so its delta is scaled by the kept units' scale, and every other
//! unit's delta is 0 either way, dropped or cut by ReLU. That is the same value on every
//! unit as multiplying by the mask, without reading it (at batch 4096, 8 MB a layer).
//!
//! The sums' order is fixed: each column is summed into `TILE_ROWS` partial sums (row `r`
//! into partial `r % TILE_ROWS`, rows in order), which are then added in order. The pass
//! stays on one thread: split by columns between two (the same sums), a step at batch 4096
//! measured slower, its deltas made by the other thread's product.

use crate::mlp::TILE_ROWS;
use ndarray::{ArrayView2, ArrayViewMut2};

/// `delta` (n × k) zeroed where `acts` (the layer's outputs, after dropout) is not
/// positive and elsewhere times `kept` (dropout's scale of a kept unit, when there is
/// dropout); `bias_grad` its column sums. `tile` is scratch.
pub(crate) fn relu_backward_and_column_sums(
    mut delta: ArrayViewMut2<f32>,
    acts: ArrayView2<f32>,
    kept: Option<f32>,
    bias_grad: &mut [f32],
    tile: &mut Vec<f32>,
) {
    let k = bias_grad.len();
    tile.clear();
    tile.resize(k * TILE_ROWS, 0.0);
    let delta = delta.as_slice_mut().expect("contiguous");
    let acts = acts.as_slice().expect("contiguous");
    // `TILE_ROWS` rows at a time, so the inner loop is `TILE_ROWS × k` long and vectorises
    // for narrow layers too.
    let block = k * TILE_ROWS;
    for (i, d) in delta.chunks_mut(block).enumerate() {
        let acts = &acts[i * block..i * block + d.len()];
        accumulate(d, acts, kept, &mut tile[..d.len()]);
    }
    bias_grad.fill(0.0);
    for partials in tile.chunks_exact(k) {
        for (g, &v) in bias_grad.iter_mut().zip(partials) {
            *g += v;
        }
    }
}

/// `delta` through dropout and ReLU's derivative, added to `sums`.
#[inline(always)]
fn accumulate(delta: &mut [f32], acts: &[f32], kept: Option<f32>, sums: &mut [f32]) {
    match kept {
        Some(scale) => {
            for ((d, &a), s) in delta.iter_mut().zip(acts).zip(sums.iter_mut()) {
                // Positive only if kept, and then scaled as it was forward.
                *d = if a > 0.0 { *d * scale } else { 0.0 };
                *s += *d;
            }
        }
        None => {
            for ((d, &a), s) in delta.iter_mut().zip(acts).zip(sums.iter_mut()) {
                *d = if a > 0.0 { *d } else { 0.0 };
                *s += *d;
            }
        }
    }
}
