//! The multi-layer perceptron: parameters, initialisation and inference.

use crate::sparse::{self, sparse_affine_into, CsrMatrix, SparseRows, SPARSE_BELOW};
use crate::threads::Threads;
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array1, Array2, ArrayView2, ArrayViewMut2};
use rand::Rng;

/// Rows a wide network scores at a time on the sparse first layer: a training batch's
/// worth, so that the batch's activations stay in cache as they do in a step.
const SCORE_ROWS: usize = 256;

/// Inputs to score, with their non-zeros indexed once when they are wide and sparse enough
/// for the first layer to run sparse (the rule training batches follow, at the default
/// density [`SPARSE_BELOW`]): a dev set scored every epoch, or a test set scored by many
/// networks, is indexed once for all of them.
pub struct Inputs<'a> {
    dense: ArrayView2<'a, f32>,
    index: Option<CsrMatrix>,
}

impl<'a> Inputs<'a> {
    pub fn new(x: ArrayView2<'a, f32>) -> Self {
        let index = sparse::max_nnz(x.ncols(), x.len(), SPARSE_BELOW)
            .and_then(|max_nnz| CsrMatrix::from_dense_within(x, max_nnz));
        Inputs { dense: x, index }
    }

    pub fn dense(&self) -> ArrayView2<'a, f32> {
        self.dense
    }

    pub fn is_indexed(&self) -> bool {
        self.index.is_some()
    }
}

/// A fully connected network: ReLU on every hidden layer, linear output logits.
///
/// Weights are stored `(fan_in, fan_out)` so a batch `x` of shape `(n, fan_in)` maps to
/// `x · W + b`. Apply a sigmoid to the logits for probabilities ([`Mlp::predict_proba`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    /// `weights[l]` has shape `(sizes[l], sizes[l + 1])`.
    pub weights: Vec<Array2<f32>>,
    /// `biases[l]` has length `sizes[l + 1]`.
    pub biases: Vec<Array1<f32>>,
}

impl Mlp {
    /// A network with the given layer sizes, inputs first and outputs last
    /// (`[2, 10, 40, 30, 3]` is the seed network).
    ///
    /// Keras defaults: Glorot-uniform weights, `U(-l, l)` with `l = sqrt(6 / (fan_in +
    /// fan_out))`, drawn layer by layer in row-major order from `rng`; zero biases.
    ///
    /// # Panics
    /// If fewer than two sizes are given or any size is zero.
    pub fn new(sizes: &[usize], rng: &mut impl Rng) -> Self {
        assert!(
            sizes.len() >= 2,
            "an MLP needs at least an input and an output size"
        );
        assert!(
            sizes.iter().all(|&s| s > 0),
            "layer sizes must be positive: {sizes:?}"
        );
        let mut weights = Vec::with_capacity(sizes.len() - 1);
        let mut biases = Vec::with_capacity(sizes.len() - 1);
        for pair in sizes.windows(2) {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let limit = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
            weights.push(Array2::from_shape_simple_fn((fan_in, fan_out), || {
                rng.random_range(-limit..limit)
            }));
            biases.push(Array1::zeros(fan_out));
        }
        Mlp { weights, biases }
    }

    /// Layer sizes, inputs first.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.weights[0].nrows()];
        sizes.extend(self.weights.iter().map(|w| w.ncols()));
        sizes
    }

    pub fn n_inputs(&self) -> usize {
        self.weights[0].nrows()
    }

    pub fn n_outputs(&self) -> usize {
        self.weights[self.weights.len() - 1].ncols()
    }

    /// Number of trainable parameters (weights and biases).
    pub fn n_params(&self) -> usize {
        self.weights.iter().map(|w| w.len()).sum::<usize>()
            + self.biases.iter().map(|b| b.len()).sum::<usize>()
    }

    /// Output logits for a batch `x` of shape `(n, n_inputs)`; any `n`, including 0.
    ///
    /// Scored on the kernels the network trains on. A network narrow enough for the tiled
    /// step ([`crate::tiled::suits`]) is evaluated on the tiled kernels: no BLAS, so its
    /// predictions are the same bits on every AVX2+FMA machine. A wider one reads wide,
    /// sparse inputs on the sparse first layer ([`Mlp::forward_inputs`]), and dense ones
    /// through BLAS ([`Mlp::forward_blas`]).
    pub fn forward(&self, x: ArrayView2<f32>) -> Array2<f32> {
        self.forward_inputs(&Inputs::new(x))
    }

    /// [`Mlp::forward`] of inputs indexed already. With an index (and a network too wide for
    /// the tiled kernels), rows are scored 256 at a time: the first layer on
    /// the sparse kernel a training step uses (each row's sum in the same order, so the same
    /// bits as in a step), the others through BLAS. Blocks start at the first row, so a set
    /// scored twice gives the same bits; BLAS's kernels depend on a product's shape, so a
    /// row scored in another set may differ in the last bits.
    pub fn forward_inputs(&self, inputs: &Inputs) -> Array2<f32> {
        let x = inputs.dense;
        assert_eq!(
            x.ncols(),
            self.n_inputs(),
            "input width does not match the network"
        );
        if crate::tiled::suits(&self.sizes()) {
            return crate::tiled::forward(self, x);
        }
        match &inputs.index {
            Some(index) => self.forward_sparse(index),
            None => self.forward_blas(x),
        }
    }

    /// Logits of indexed inputs, block by block of [`SCORE_ROWS`] rows.
    fn forward_sparse(&self, index: &CsrMatrix) -> Array2<f32> {
        let n = index.n_rows();
        let layers = self.weights.len();
        let mut out = Array2::zeros((n, self.n_outputs()));
        let mut acts: Vec<Array2<f32>> = self
            .weights
            .iter()
            .map(|w| Array2::zeros((SCORE_ROWS.min(n), w.ncols())))
            .collect();
        let (mut block, mut rows, mut tile) = (SparseRows::default(), Vec::new(), Vec::new());
        for start in (0..n).step_by(SCORE_ROWS) {
            let k = SCORE_ROWS.min(n - start);
            rows.clear();
            rows.extend(start..start + k);
            block.fill_from_rows(index, &rows, usize::MAX);
            for l in 0..layers {
                let (before, rest) = acts.split_at_mut(l);
                let (w, b, relu) = (self.weights[l].view(), &self.biases[l], l + 1 < layers);
                let z = rest[0].slice_mut(s![..k, ..]);
                if l == 0 {
                    sparse_affine_into(
                        &block,
                        w,
                        b.as_slice().expect("contiguous"),
                        relu,
                        z,
                        Threads::ONE,
                    );
                } else {
                    affine_into(before[l - 1].slice(s![..k, ..]), w, b, relu, z, &mut tile);
                }
            }
            out.slice_mut(s![start..start + k, ..])
                .assign(&acts[layers - 1].slice(s![..k, ..]));
        }
        out
    }

    /// Output logits through whole-batch BLAS products, whatever the network's width.
    pub fn forward_blas(&self, x: ArrayView2<f32>) -> Array2<f32> {
        assert_eq!(
            x.ncols(),
            self.n_inputs(),
            "input width does not match the network"
        );
        let mut a = x.to_owned();
        let mut tile = Vec::new();
        for (l, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            let mut z = Array2::zeros((a.nrows(), w.ncols()));
            let relu = l + 1 < self.weights.len();
            affine_into(a.view(), w.view(), b, relu, z.view_mut(), &mut tile);
            a = z;
        }
        a
    }

    /// Sigmoid probabilities for a batch, shape `(n, n_outputs)`.
    pub fn predict_proba(&self, x: ArrayView2<f32>) -> Array2<f32> {
        self.forward(x).mapv_into(sigmoid)
    }
}

/// Rows per tile: the elementwise passes walk `TILE_ROWS` rows at a time, so their inner loops
/// are `TILE_ROWS ×` the layer width long and vectorise even for narrow layers.
pub(crate) const TILE_ROWS: usize = 8;

/// `z = a · w + b`, then ReLU when `relu`; one pass after the product. `tile` is scratch space
/// (it is resized, which allocates only the first time it must grow).
pub(crate) fn affine_into(
    a: ArrayView2<f32>,
    w: ArrayView2<f32>,
    b: &Array1<f32>,
    relu: bool,
    mut z: ArrayViewMut2<f32>,
    tile: &mut Vec<f32>,
) {
    general_mat_mul(1.0, &a, &w, 0.0, &mut z);
    let b = b.as_slice().expect("biases are contiguous");
    let k = b.len();
    if k == 0 {
        return;
    }
    tile.clear();
    for _ in 0..TILE_ROWS {
        tile.extend_from_slice(b);
    }
    // The leading rows of a row-major buffer are one contiguous block: walk it flat.
    let flat = z
        .as_slice_mut()
        .expect("activation buffers are row-major and contiguous");
    let mut blocks = flat.chunks_exact_mut(k * TILE_ROWS);
    for block in &mut blocks {
        add_bias(block, tile, relu);
    }
    let rest = blocks.into_remainder();
    add_bias(rest, &tile[..rest.len()], relu);
}

#[inline(always)]
fn add_bias(values: &mut [f32], bias: &[f32], relu: bool) {
    if relu {
        for (v, &b) in values.iter_mut().zip(bias) {
            *v = (*v + b).max(0.0);
        }
    } else {
        for (v, &b) in values.iter_mut().zip(bias) {
            *v += b;
        }
    }
}

/// The logistic function, computed without overflow for any finite input.
#[inline]
pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn glorot_init_respects_limits_and_zero_biases() {
        let mlp = Mlp::new(&[2, 10, 40, 30, 3], &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(mlp.sizes(), vec![2, 10, 40, 30, 3]);
        assert_eq!(
            mlp.n_params(),
            2 * 10 + 10 + 10 * 40 + 40 + 40 * 30 + 30 + 30 * 3 + 3
        );
        for w in &mlp.weights {
            let limit = (6.0 / (w.nrows() + w.ncols()) as f32).sqrt();
            assert!(w.iter().all(|v| v.abs() <= limit));
            // A uniform draw fills its range: the extreme is close to the limit.
            let max = w.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(max > 0.8 * limit, "max {max} limit {limit}");
        }
        assert!(mlp.biases.iter().all(|b| b.iter().all(|&v| v == 0.0)));
    }

    #[test]
    fn forward_matches_a_loop_reference() {
        let mlp = Mlp::new(&[3, 5, 2], &mut ChaCha8Rng::seed_from_u64(2));
        let x = Array2::from_shape_fn((4, 3), |(i, j)| (i as f32 - 1.5) * 0.7 + j as f32 * 0.3);
        let out = mlp.forward(x.view());
        for i in 0..4 {
            let h: Vec<f32> = (0..5)
                .map(|k| {
                    (0..3)
                        .map(|j| x[[i, j]] * mlp.weights[0][[j, k]])
                        .sum::<f32>()
                        .max(0.0)
                })
                .collect();
            for o in 0..2 {
                let z: f32 = (0..5).map(|k| h[k] * mlp.weights[1][[k, o]]).sum();
                assert!((out[[i, o]] - z).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn forward_accepts_empty_batch() {
        let mlp = Mlp::new(&[2, 4, 3], &mut ChaCha8Rng::seed_from_u64(3));
        assert_eq!(mlp.forward(Array2::zeros((0, 2)).view()).dim(), (0, 3));
        // Rows are independent: an empty batch beside one row changes nothing of that row's
        // output, and a batch of one row twice gives it twice.
        let x = Array2::from_shape_vec((1, 2), vec![0.3f32, -0.7]).unwrap();
        let one = mlp.forward(x.view());
        let twice = mlp.forward(ndarray::concatenate![ndarray::Axis(0), x, x].view());
        assert_eq!(twice.row(0), one.row(0));
        assert_eq!(twice.row(1), one.row(0));
        assert!(one.iter().all(|v| v.is_finite()));
    }

    /// Fingerprint-like rows: about 3% of 200 bits set (a few at 2.5), then 3 descriptor
    /// columns set in every row.
    fn fingerprints(n: usize, rng: &mut impl Rng) -> Array2<f32> {
        Array2::from_shape_fn((n, 203), |(_, j)| {
            let u: f32 = rng.random();
            match j {
                200.. => u - 0.5,
                _ if u < 0.025 => 1.0,
                _ if u < 0.03 => 2.5,
                _ => 0.0,
            }
        })
    }

    #[test]
    fn wide_sparse_inputs_are_scored_on_the_sparse_first_layer() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mlp = Mlp::new(&[203, 96, 80, 5], &mut rng);
        // Two full blocks and a part: 600 rows.
        let x = fingerprints(600, &mut rng);
        let inputs = Inputs::new(x.view());
        assert!(inputs.is_indexed());
        let (sparse, dense) = (mlp.forward_inputs(&inputs), mlp.forward_blas(x.view()));
        assert_eq!(mlp.forward(x.view()), sparse);
        for (a, b) in sparse.iter().zip(&dense) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    #[test]
    fn the_sparse_first_layer_sums_each_row_in_column_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut mlp = Mlp::new(&[203, 7], &mut rng);
        mlp.biases[0].mapv_inplace(|_| rng.random::<f32>() - 0.5);
        let x = fingerprints(300, &mut rng);
        let got = mlp.forward(x.view());
        for r in 0..x.nrows() {
            for o in 0..7 {
                // The order of a training step's sparse kernel: the bias, then each set
                // column's weight (times its value unless it is 1), columns ascending.
                let mut want = mlp.biases[0][o];
                for (j, &v) in x.row(r).iter().enumerate() {
                    let w = mlp.weights[0][[j, o]];
                    match v {
                        0.0 => {}
                        1.0 => want += w,
                        _ => want += v * w,
                    }
                }
                assert_eq!(got[[r, o]].to_bits(), want.to_bits(), "row {r} output {o}");
            }
        }
    }

    #[test]
    fn dense_or_narrow_inputs_go_through_blas() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        // Wide but dense (text's SVD components): not indexed, BLAS's bits.
        let mlp = Mlp::new(&[128, 96, 4], &mut rng);
        let x = Array2::from_shape_fn((50, 128), |_| rng.random::<f32>() - 0.5);
        assert!(!Inputs::new(x.view()).is_indexed());
        assert_eq!(mlp.forward(x.view()), mlp.forward_blas(x.view()));
        // Sparse but narrower than the sparse kernel's minimum.
        let narrow = Array2::from_shape_fn((50, 40), |(r, j)| ((r + j) % 37 == 0) as u8 as f32);
        assert!(!Inputs::new(narrow.view()).is_indexed());
        // No rows: nothing to index, no logits.
        assert!(!Inputs::new(Array2::zeros((0, 203)).view()).is_indexed());
        let wide = Mlp::new(&[203, 96, 4], &mut rng);
        assert_eq!(wide.forward(Array2::zeros((0, 203)).view()).dim(), (0, 4));
    }

    #[test]
    fn sigmoid_is_stable_at_extremes() {
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7);
    }
}
