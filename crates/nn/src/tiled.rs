//! The training step for small networks: the batch walked in tiles of rows, feature-major,
//! through kernels written for skinny shapes.
//!
//! Why: in the seed network (2-10-40-30-3, batch 5000) every product has one dimension of a
//! few to a few dozen, where BLAS runs at about half its large-matrix rate and each call
//! packs and passes over the whole batch. Here a tile of rows goes through every layer
//! while it is in cache, and the kernels vectorise over rows, which are many, never over
//! features, which are few.
//!
//! Layout: a tile is [`TILE`] rows. In a tile, a layer's values are stored feature-major:
//! feature `f` of row `r` at `f * TILE + r`, so every inner loop runs over contiguous rows,
//! eight lanes at a time, whatever the layer's width. The forward pass keeps every tile's
//! activations (tile `t` of a layer of width `k` at `t * k * TILE`): the loss is computed
//! over the whole batch (its mean needs every logit), and backward reads them per tile.
//! Deltas live for one tile at a time. In a last, partial tile the rows past the batch are
//! zero in the input and in every activation and delta, so they add exactly nothing.
//!
//! The kernels (`kernels`) have an AVX2+FMA version, chosen when the CPU has it, and a
//! portable one. Sums run in a fixed order, so a step is reproducible run to run; it equals
//! the BLAS path up to float rounding (tested), and the two kernel sets differ from each
//! other by rounding only.

pub(crate) mod kernels;

use crate::mlp::Mlp;
use crate::objective::{Batch, Objective};
use kernels::{Coef, Isa, Post};
use ndarray::{s, Array1, Array2, ArrayView2};

/// Rows per tile: a multiple of the kernels' row block, small enough that a tile of the
/// widest layer a tiled network may have stays in the core's L2 cache.
pub const TILE: usize = 192;

/// The widest layer (inputs included) for which [`crate::Trainer`] chooses this path.
pub const MAX_WIDTH: usize = 64;

/// Whether a network of these layer sizes takes the tiled step by default.
pub fn suits(sizes: &[usize]) -> bool {
    sizes.iter().all(|&k| k <= MAX_WIDTH)
}

/// The tiled step's own buffers; they grow to the largest batch seen and are then reused.
#[derive(Debug)]
pub(crate) struct TiledBuffers {
    isa: Isa,
    /// The input, tile by tile, feature-major.
    input: Vec<f32>,
    /// `acts[l]`: output of layer `l` for every tile (after ReLU for hidden layers).
    acts: Vec<Vec<f32>>,
    /// `deltas[l]`: one tile's gradient with respect to layer `l`'s pre-activation.
    deltas: Vec<Vec<f32>>,
    /// `grad_lanes[l]`: layer `l`'s weight gradient as [`kernels::LANES`] partial sums a
    /// weight, folded into the gradient once a step.
    grad_lanes: Vec<Vec<f32>>,
    /// Row-major logits and their loss gradient, the shapes the loss takes.
    logits: Array2<f32>,
    grad_logits: Array2<f32>,
}

impl TiledBuffers {
    pub(crate) fn new(sizes: &[usize]) -> Self {
        let outputs = sizes[sizes.len() - 1];
        TiledBuffers {
            isa: Isa::detect(),
            input: Vec::new(),
            acts: vec![Vec::new(); sizes.len() - 1],
            deltas: sizes[1..].iter().map(|&k| vec![0.0; k * TILE]).collect(),
            grad_lanes: sizes
                .windows(2)
                .map(|w| vec![0.0; w[0] * w[1] * kernels::LANES])
                .collect(),
            logits: Array2::zeros((0, outputs)),
            grad_logits: Array2::zeros((0, outputs)),
        }
    }

    /// The portable kernels, whatever the CPU (for tests that compare the two sets).
    #[cfg(test)]
    pub(crate) fn portable(mut self) -> Self {
        self.isa = Isa::Portable;
        self
    }

    fn ensure(&mut self, sizes: &[usize], n: usize) {
        let tiles = n.div_ceil(TILE);
        let grow = |v: &mut Vec<f32>, len: usize| {
            if v.len() < len {
                v.resize(len, 0.0);
            }
        };
        grow(&mut self.input, tiles * TILE * sizes[0]);
        for (acts, &k) in self.acts.iter_mut().zip(&sizes[1..]) {
            grow(acts, tiles * TILE * k);
        }
        if self.logits.nrows() < n {
            let outputs = sizes[sizes.len() - 1];
            self.logits = Array2::zeros((n, outputs));
            self.grad_logits = Array2::zeros((n, outputs));
        }
    }
}

/// Forward, loss and backward on a batch, in tiles: the loss, with the gradients written
/// into `grad_w` and `grad_b` (which have the shapes of the network's weights and biases).
#[allow(clippy::too_many_arguments)]
pub(crate) fn compute_gradients(
    mlp: &Mlp,
    buf: &mut TiledBuffers,
    x: ArrayView2<f32>,
    y: ArrayView2<f32>,
    observed: ArrayView2<bool>,
    rows: Option<&[usize]>,
    loss: &mut dyn Objective,
    grad_w: &mut [Array2<f32>],
    grad_b: &mut [Array1<f32>],
) -> f32 {
    let sizes = mlp.sizes();
    let layers = sizes.len() - 1;
    let n = x.nrows();
    forward_tiles(mlp, buf, x);
    let isa = buf.isa;

    let value = loss.loss_and_grad_into(
        Batch {
            logits: buf.logits.slice(s![..n, ..]),
            labels: y,
            observed,
            rows,
        },
        buf.grad_logits.slice_mut(s![..n, ..]),
    );

    for lanes in buf.grad_lanes.iter_mut() {
        lanes.fill(0.0);
    }
    for g in grad_b.iter_mut() {
        g.fill(0.0);
    }
    for (t, r0) in (0..n).step_by(TILE).enumerate() {
        let rows = TILE.min(n - r0);
        let vecs = rows.div_ceil(kernels::LANES);
        gather_transposed(
            buf.grad_logits.slice(s![r0..r0 + rows, ..]),
            &mut buf.deltas[layers - 1],
            vecs,
        );
        for l in (0..layers).rev() {
            let (k_in, k_out) = (sizes[l], sizes[l + 1]);
            let inp = if l == 0 {
                &buf.input[t * TILE * k_in..(t + 1) * TILE * k_in]
            } else {
                &buf.acts[l - 1][t * TILE * k_in..(t + 1) * TILE * k_in]
            };
            let (below, from_l) = buf.deltas.split_at_mut(l);
            let delta = &from_l[0];
            let gb = grad_b[l].as_slice_mut().expect("contiguous");
            kernels::row_sums(isa, gb, delta, vecs);
            kernels::outer(isa, &mut buf.grad_lanes[l], inp, k_in, delta, k_out, vecs);
            if l > 0 {
                // Backward: prev[j] = Σ_o W[j, o] · delta[o], zero where the ReLU was off.
                let w = mlp.weights[l].as_slice().expect("weights are contiguous");
                let coef = Coef::new(w, k_out, 1);
                let prev = &mut below[l - 1];
                kernels::combine(
                    isa,
                    prev,
                    k_in,
                    coef,
                    delta,
                    k_out,
                    None,
                    Post::MaskBy(inp),
                    vecs,
                );
            }
        }
    }
    for (lanes, g) in buf.grad_lanes.iter().zip(grad_w.iter_mut()) {
        kernels::fold_lanes(lanes, g.as_slice_mut().expect("contiguous"));
    }
    value
}

/// The forward pass over every tile of `x`, keeping each tile's activations (backward reads
/// them) and writing the logits into `buf.logits[..n]`.
fn forward_tiles(mlp: &Mlp, buf: &mut TiledBuffers, x: ArrayView2<f32>) {
    let sizes = mlp.sizes();
    let layers = sizes.len() - 1;
    let n = x.nrows();
    buf.ensure(&sizes, n);
    let isa = buf.isa;
    for (t, r0) in (0..n).step_by(TILE).enumerate() {
        let rows = TILE.min(n - r0);
        let vecs = rows.div_ceil(kernels::LANES);
        let input = &mut buf.input[t * TILE * sizes[0]..(t + 1) * TILE * sizes[0]];
        gather_transposed(x.slice(s![r0..r0 + rows, ..]), input, vecs);
        for l in 0..layers {
            let (k_in, k_out) = (sizes[l], sizes[l + 1]);
            let (before, rest) = buf.acts.split_at_mut(l);
            let inp = if l == 0 {
                &buf.input[t * TILE * k_in..(t + 1) * TILE * k_in]
            } else {
                &before[l - 1][t * TILE * k_in..(t + 1) * TILE * k_in]
            };
            let out = &mut rest[0][t * TILE * k_out..(t + 1) * TILE * k_out];
            let w = mlp.weights[l].as_slice().expect("weights are contiguous");
            let bias = mlp.biases[l].as_slice().expect("biases are contiguous");
            let post = if l + 1 < layers {
                Post::Relu
            } else {
                Post::None
            };
            // Forward: out[o] = b[o] + Σ_j W[j, o] · in[j], so c(o, j) = W[j, o].
            let coef = Coef::new(w, 1, k_out);
            kernels::combine(isa, out, k_out, coef, inp, k_in, Some(bias), post, vecs);
            zero_padding(out, k_out, rows, vecs);
        }
        let last = &buf.acts[layers - 1][t * TILE * sizes[layers]..];
        scatter_transposed(last, buf.logits.slice_mut(s![r0..r0 + rows, ..]));
    }
}

/// Rows a [`forward`] pass takes at a time: its buffers stay this size however many rows
/// it is given.
const FORWARD_CHUNK: usize = 16 * TILE;

/// Logits of `x` through the tiled kernels, chunk by chunk (each tile is computed alone, so
/// chunking changes no value): inference on the same arithmetic as the tiled step, with no
/// BLAS, so that a tiled network's predictions are the same on every AVX2+FMA machine.
pub(crate) fn forward(mlp: &Mlp, x: ArrayView2<f32>) -> Array2<f32> {
    let n = x.nrows();
    let mut out = Array2::zeros((n, mlp.n_outputs()));
    let mut buf = TiledBuffers::new(&mlp.sizes());
    for r0 in (0..n).step_by(FORWARD_CHUNK) {
        let rows = FORWARD_CHUNK.min(n - r0);
        forward_tiles(mlp, &mut buf, x.slice(s![r0..r0 + rows, ..]));
        out.slice_mut(s![r0..r0 + rows, ..])
            .assign(&buf.logits.slice(s![..rows, ..]));
    }
    out
}

/// Copies `rows × k` row-major values into a feature-major tile (`k × TILE`), zeroing the
/// rows from `rows` up to `vecs` whole vectors.
fn gather_transposed(block: ArrayView2<f32>, tile: &mut [f32], vecs: usize) {
    let (rows, k) = block.dim();
    for (r, row) in block.rows().into_iter().enumerate() {
        for (f, &v) in row.iter().enumerate() {
            tile[f * TILE + r] = v;
        }
    }
    zero_padding(tile, k, rows, vecs);
}

/// Copies a feature-major tile's first rows into a row-major block.
fn scatter_transposed(tile: &[f32], mut block: ndarray::ArrayViewMut2<f32>) {
    for (r, mut row) in block.rows_mut().into_iter().enumerate() {
        for (f, v) in row.iter_mut().enumerate() {
            *v = tile[f * TILE + r];
        }
    }
}

/// Zeroes the rows of a partial tile's last vector that lie past the batch.
fn zero_padding(tile: &mut [f32], k: usize, rows: usize, vecs: usize) {
    let padded = vecs * kernels::LANES;
    if rows < padded {
        for f in 0..k {
            tile[f * TILE + rows..f * TILE + padded].fill(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Loss, Trainer};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Gradients of the tiled step (both kernel sets) against the BLAS step's, on a network
    /// and batch whose sizes hit every remainder: widths not a multiple of the kernels'
    /// blocks, and a batch of two tiles and a part of a vector.
    #[test]
    fn tiled_gradients_equal_the_blas_step_up_to_rounding() {
        let mut rng = ChaCha8Rng::seed_from_u64(31);
        let sizes = [5, 13, 7, 9, 3];
        let mut mlp = Mlp::new(&sizes, &mut rng);
        for b in mlp.biases.iter_mut() {
            b.mapv_inplace(|_| rng.random_range(-0.3..0.3));
        }
        let n = 2 * TILE + 13;
        let x = Array2::from_shape_simple_fn((n, 5), || rng.random_range(-1.0f32..1.0));
        let y = Array2::from_shape_simple_fn((n, 3), || rng.random_range(0..2u8) as f32);
        let o = Array2::from_shape_simple_fn((n, 3), || rng.random::<f32>() > 0.2);
        for mut loss in [Loss::masked(), Loss::Plain, Loss::PlainLogits] {
            let mut blas = Trainer::new(mlp.clone(), 1e-3, n).with_kernel(crate::Kernel::Blas);
            let want = blas.compute_gradients(x.view(), y.view(), o.view(), &mut loss);
            for portable in [false, true] {
                let mut buf = TiledBuffers::new(&sizes);
                if portable {
                    buf = buf.portable();
                }
                let mut gw: Vec<_> = mlp.weights.iter().map(|w| Array2::zeros(w.dim())).collect();
                let mut gb: Vec<_> = mlp.biases.iter().map(|b| Array1::zeros(b.len())).collect();
                let got = compute_gradients(
                    &mlp,
                    &mut buf,
                    x.view(),
                    y.view(),
                    o.view(),
                    None,
                    &mut loss,
                    &mut gw,
                    &mut gb,
                );
                assert!(
                    (got - want).abs() <= 1e-6 * want.abs(),
                    "{loss:?}: {got} vs {want}"
                );
                let pairs = gw
                    .iter()
                    .zip(blas.grad_weights())
                    .map(|(a, b)| (a.view(), b.view()));
                let bias_pairs = gb.iter().zip(blas.grad_biases()).map(|(a, b)| {
                    (
                        a.view().insert_axis(ndarray::Axis(0)),
                        b.view().insert_axis(ndarray::Axis(0)),
                    )
                });
                for (l, (a, b)) in pairs.chain(bias_pairs).enumerate() {
                    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
                    for (u, v) in a.iter().zip(b.iter()) {
                        assert!(
                            (u - v).abs() <= 1e-5 * scale,
                            "{loss:?} portable={portable} tensor {l}: {u} vs {v}"
                        );
                    }
                }
            }
        }
    }

    /// Inference on the tiled kernels equals BLAS inference up to rounding, for any row
    /// count (none, a part of a vector, several chunks), and is the same chunked or not.
    #[test]
    fn tiled_forward_equals_blas_up_to_rounding_and_chunks_change_nothing() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let sizes = [5, 13, 7, 9, 3];
        let mut mlp = Mlp::new(&sizes, &mut rng);
        for b in mlp.biases.iter_mut() {
            b.mapv_inplace(|_| rng.random_range(-0.3..0.3));
        }
        let n = 2 * FORWARD_CHUNK + TILE + 3;
        let x = Array2::from_shape_simple_fn((n, 5), || rng.random_range(-1.0f32..1.0));
        for rows in [0, 3, TILE + 5, n] {
            let part = x.slice(s![..rows, ..]);
            let (got, want) = (forward(&mlp, part), mlp.forward_blas(part));
            assert_eq!(got.dim(), (rows, 3));
            for (a, b) in got.iter().zip(&want) {
                assert!(
                    (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                    "{rows} rows: {a} vs {b}"
                );
            }
            assert_eq!(mlp.forward(part), got, "Mlp::forward takes the tiled path");
        }
        // Row r's logits do not depend on the rows around it (chunk and tile boundaries).
        let all = forward(&mlp, x.view());
        let tail = forward(&mlp, x.slice(s![FORWARD_CHUNK + 7.., ..]));
        assert_eq!(all.slice(s![FORWARD_CHUNK + 7.., ..]), tail);
    }

    #[test]
    fn a_step_is_bit_identical_run_to_run_and_the_padding_adds_nothing() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let sizes = [2, 10, 40, 30, 3];
        let mlp = Mlp::new(&sizes, &mut rng);
        let n = TILE + 5;
        let x = Array2::from_shape_simple_fn((n, 2), || rng.random::<f32>());
        let y = Array2::from_shape_simple_fn((n, 3), || rng.random_range(0..2u8) as f32);
        let o = Array2::from_elem((n, 3), true);
        let run = |rows: usize| {
            let mut t = Trainer::new(mlp.clone(), 1e-3, n).with_kernel(crate::Kernel::Tiled);
            let s = s![..rows, ..];
            let v = t.compute_gradients(x.slice(s), y.slice(s), o.slice(s), &mut Loss::masked());
            (v, t.grad_weights().to_vec(), t.grad_biases().to_vec())
        };
        assert_eq!(run(n), run(n));
        // A batch of TILE + 5 rows and one of TILE + 8 whose last three rows have no
        // observed label give the same gradient sums over the same rows, so rows past the
        // batch in the last vector add nothing.
        let mut o8 = Array2::from_elem((TILE + 8, 3), true);
        o8.slice_mut(s![TILE + 5.., ..]).fill(false);
        let x8 = Array2::from_shape_fn((TILE + 8, 2), |(i, j)| x[[i.min(n - 1), j]]);
        let y8 = Array2::from_shape_fn((TILE + 8, 3), |(i, j)| y[[i.min(n - 1), j]]);
        let mut t8 = Trainer::new(mlp.clone(), 1e-3, TILE + 8).with_kernel(crate::Kernel::Tiled);
        t8.compute_gradients(x8.view(), y8.view(), o8.view(), &mut Loss::masked());
        let (_, gw, gb) = run(n);
        assert_eq!(t8.grad_weights(), &gw[..]);
        assert_eq!(t8.grad_biases(), &gb[..]);
    }
}
