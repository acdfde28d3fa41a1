//! A hidden layer's backward pass after its delta product: through dropout's mask and
//! ReLU's derivative in one pass, with the bias gradient (the deltas' column sums) made in
//! the same pass.
//!
//! The sums' order is fixed: each column is summed into `TILE_ROWS` partial sums (row `r`
//! into partial `r % TILE_ROWS`, rows in order), which are then added in order. The pass
//! stays on one thread: split by columns between two (the same sums), a step at batch 4096
//! measured slower, its deltas made by the other thread's product.

use crate::mlp::TILE_ROWS;
use ndarray::{ArrayView2, ArrayViewMut2};

/// `delta` (n × k) times `mask` (dropout's multipliers, when given), zeroed where `acts`
/// (the layer's outputs) is not positive; `bias_grad` its column sums. `tile` is scratch.
pub(crate) fn relu_backward_and_column_sums(
    mut delta: ArrayViewMut2<f32>,
    acts: ArrayView2<f32>,
    mask: Option<ArrayView2<f32>>,
    bias_grad: &mut [f32],
    tile: &mut Vec<f32>,
) {
    let k = bias_grad.len();
    tile.clear();
    tile.resize(k * TILE_ROWS, 0.0);
    let delta = delta.as_slice_mut().expect("contiguous");
    let acts = acts.as_slice().expect("contiguous");
    let mask = mask.map(|m| m.to_slice().expect("contiguous"));
    // `TILE_ROWS` rows at a time, so the inner loop is `TILE_ROWS × k` long and vectorises
    // for narrow layers too.
    let block = k * TILE_ROWS;
    for (i, d) in delta.chunks_mut(block).enumerate() {
        let at = i * block..i * block + d.len();
        let mask = mask.map(|m| &m[at.clone()]);
        accumulate(d, &acts[at], mask, &mut tile[..d.len()]);
    }
    bias_grad.fill(0.0);
    for partials in tile.chunks_exact(k) {
        for (g, &v) in bias_grad.iter_mut().zip(partials) {
            *g += v;
        }
    }
}

/// `delta` through the mask and ReLU's derivative, added to `sums`.
#[inline(always)]
fn accumulate(delta: &mut [f32], acts: &[f32], mask: Option<&[f32]>, sums: &mut [f32]) {
    match mask {
        Some(mask) => {
            for (((d, &a), &m), s) in delta.iter_mut().zip(acts).zip(mask).zip(sums.iter_mut()) {
                // A dropped unit's activation is 0, so ReLU's derivative zeroes it too; a
                // kept one is scaled as it was forward.
                let through = *d * m;
                *d = if a > 0.0 { through } else { 0.0 };
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
