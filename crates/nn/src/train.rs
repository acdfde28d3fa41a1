//! Training: forward, backward and Adam in preallocated buffers, with optional inverted
//! dropout after each hidden layer and decoupled weight decay.

use crate::adam::Adam;
use crate::dropout::Dropout;
use crate::mlp::{affine_into, Mlp, TILE_ROWS};
use crate::objective::{Batch, Objective};
use crate::relu_backward::relu_backward_and_column_sums;
use crate::sparse::{
    self, sparse_affine_large_into, sparse_weight_grad_into, CsrMatrix, LargeBatches, SparseRows,
    WeightGradRows, SPARSE_BELOW,
};
use crate::threads::Threads;
use crate::tiled::{self, TiledBuffers};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array1, Array2, ArrayView2};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// An [`Mlp`], its Adam state, and every buffer a training step needs.
///
/// Buffers are sized for `capacity` rows at construction; a step on a larger batch grows them
/// once. A step on `n <= capacity` rows allocates nothing.
pub struct Trainer {
    mlp: Mlp,
    adam: Adam,
    capacity: usize,
    /// `acts[l]`: output of layer `l` (after ReLU for hidden layers; logits for the last).
    acts: Vec<Array2<f32>>,
    /// `deltas[l]`: gradient of the loss with respect to layer `l`'s pre-activation.
    deltas: Vec<Array2<f32>>,
    grad_w: Vec<Array2<f32>>,
    grad_b: Vec<Array1<f32>>,
    // A gathered batch, for `step_rows`.
    batch_x: Array2<f32>,
    batch_y: Array2<f32>,
    batch_observed: Array2<bool>,
    order: Vec<usize>,
    /// Scratch for the elementwise passes, `TILE_ROWS ×` the widest layer.
    tile: Vec<f32>,
    /// Sparse first layer ([`crate::sparse`]): the batch's non-zeros, the input density
    /// below which they are used, and which rows of the first weight gradient hold values.
    pub(crate) sparse: SparseRows,
    sparse_below: f32,
    /// Rows of the first weight gradient that may hold values.
    dirty: Vec<bool>,
    /// The sparse first layer's weight gradient is left to [`Trainer::apply_adam`], which
    /// makes it a row at a time into `grad_row` as it updates that row (a step's path).
    first_grad_deferred: bool,
    grad_row: Vec<f32>,
    kernel: Kernel,
    tiled: TiledBuffers,
    dropout: Option<Dropout>,
    /// Threads a step on a batch of more than [`sparse::CACHED_ROWS`] rows may share.
    threads: Threads,
    /// The threads the last batch's gradients were made on, which Adam's update shares.
    shared: Threads,
    /// What the sparse first layer's forward pass keeps between large batches.
    large: LargeBatches,
}

/// How a [`Trainer`] computes a step's products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Whole-batch products through BLAS, with the sparse first layer where it applies.
    Blas,
    /// The batch in tiles of rows through kernels for narrow layers ([`crate::tiled`]).
    Tiled,
}

impl Kernel {
    /// The default for a network of these sizes: tiled when every layer is at most
    /// [`tiled::MAX_WIDTH`] wide, BLAS otherwise.
    pub fn for_sizes(sizes: &[usize]) -> Kernel {
        if tiled::suits(sizes) {
            Kernel::Tiled
        } else {
            Kernel::Blas
        }
    }
}

/// A training set's inputs as an epoch reads its batches.
#[derive(Clone, Copy)]
enum TrainInputs<'a> {
    /// Dense rows, and their non-zeros where indexed.
    Dense(ArrayView2<'a, f32>, Option<&'a CsrMatrix>),
    /// Only the non-zeros.
    Sparse(&'a CsrMatrix),
}

impl TrainInputs<'_> {
    fn rows(&self) -> usize {
        match self {
            TrainInputs::Dense(x, _) => x.nrows(),
            TrainInputs::Sparse(m) => m.n_rows(),
        }
    }

    fn width(&self) -> usize {
        match self {
            TrainInputs::Dense(x, _) => x.ncols(),
            TrainInputs::Sparse(m) => m.n_cols(),
        }
    }
}

/// A batch's inputs as a step reads them.
#[derive(Clone, Copy)]
enum Input<'a> {
    Dense(ArrayView2<'a, f32>),
    /// Indexed already into the trainer's sparse rows ([`SparseRows::fill_from_rows`]).
    Indexed {
        rows: usize,
        width: usize,
    },
}

impl Trainer {
    /// A trainer for `mlp` with Adam at learning rate `lr` (Keras defaults otherwise), with
    /// buffers for batches of up to `capacity` rows.
    pub fn new(mlp: Mlp, lr: f32, capacity: usize) -> Self {
        let sizes = mlp.sizes();
        let tensor_sizes: Vec<usize> = mlp
            .weights
            .iter()
            .zip(&mlp.biases)
            .flat_map(|(w, b)| [w.len(), b.len()])
            .collect();
        let outputs = &sizes[1..];
        Trainer {
            adam: Adam::new(lr, &tensor_sizes),
            capacity,
            acts: outputs
                .iter()
                .map(|&k| Array2::zeros((capacity, k)))
                .collect(),
            deltas: outputs
                .iter()
                .map(|&k| Array2::zeros((capacity, k)))
                .collect(),
            grad_w: mlp.weights.iter().map(|w| Array2::zeros(w.dim())).collect(),
            grad_b: mlp.biases.iter().map(|b| Array1::zeros(b.len())).collect(),
            batch_x: Array2::zeros((capacity, sizes[0])),
            batch_y: Array2::zeros((capacity, mlp.n_outputs())),
            batch_observed: Array2::from_elem((capacity, mlp.n_outputs()), false),
            order: Vec::new(),
            tile: Vec::with_capacity(TILE_ROWS * sizes.iter().max().copied().unwrap_or(0)),
            sparse: SparseRows::default(),
            sparse_below: SPARSE_BELOW,
            dirty: vec![true; sizes[0]],
            first_grad_deferred: false,
            shared: Threads::ONE,
            large: LargeBatches::default(),
            grad_row: vec![0.0; sizes.get(1).copied().unwrap_or(0)],
            kernel: Kernel::for_sizes(&sizes),
            tiled: TiledBuffers::new(&sizes),
            dropout: None,
            threads: Threads::ONE,
            mlp,
        }
    }

    /// Lets a step on a batch of more than 256 rows (`sparse::CACHED_ROWS`) share `threads`: the
    /// sparse first layer's rows and weight-gradient rows, and the two products of each
    /// dense layer's backward pass side by side ([`crate::threads`]). The steps are the
    /// same bits on any number of threads.
    pub fn with_threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    /// Inverted dropout at `rate` (in `[0, 1)`) after every hidden layer, its masks drawn
    /// from `rng`. A network with dropout trains through whole-batch products
    /// ([`Kernel::Blas`]); `rate = 0` is no dropout.
    pub fn with_dropout(mut self, rate: f32, rng: ChaCha8Rng) -> Self {
        assert!(
            (0.0..1.0).contains(&rate),
            "dropout rate {rate} is outside [0, 1)"
        );
        if rate > 0.0 {
            let sizes = self.mlp.sizes();
            let widths = &sizes[1..sizes.len() - 1];
            self.dropout = Some(Dropout::new(rate, rng, widths, self.capacity));
            self.kernel = Kernel::Blas;
        }
        self
    }

    /// Decoupled weight decay (AdamW) at `decay` per unit of learning rate.
    pub fn with_weight_decay(mut self, decay: f32) -> Self {
        self.adam.weight_decay = decay;
        self
    }

    /// The current dropout masks, one per hidden layer (none without dropout).
    #[cfg(test)]
    pub(crate) fn dropout_masks(&self) -> Vec<Array2<f32>> {
        self.dropout
            .as_ref()
            .map_or(Vec::new(), |d| d.masks.clone())
    }

    /// Keeps the current dropout masks for the next steps instead of drawing new ones.
    #[cfg(test)]
    pub(crate) fn freeze_dropout(&mut self, frozen: bool) {
        if let Some(d) = self.dropout.as_mut() {
            d.frozen = frozen;
        }
    }

    /// Sets the input density below which the first layer runs sparse (0: never; default
    /// [`SPARSE_BELOW`]). Both paths compute the same sums, in different orders.
    pub fn with_sparse_below(mut self, density: f32) -> Self {
        self.sparse_below = density;
        self
    }

    /// Chooses how steps are computed (default [`Kernel::for_sizes`]). Both give the same
    /// sums up to float rounding; each is reproducible run to run. With dropout, steps are
    /// always whole-batch products.
    pub fn with_kernel(mut self, kernel: Kernel) -> Self {
        if self.dropout.is_none() {
            self.kernel = kernel;
        }
        self
    }

    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Whether this batch takes the sparse first layer; if so its non-zeros are indexed.
    fn index_sparse(&mut self, x: ArrayView2<f32>) -> bool {
        match self.max_sparse_nnz(x.ncols(), x.len()) {
            Some(max_nnz) => self.sparse.fill_from(x, max_nnz),
            None => false,
        }
    }

    /// The most non-zeros a batch of `cells` inputs, `width` a row, may have for the first
    /// layer to run sparse; `None` when it never does (too narrow, empty, sparsity off, or
    /// the tiled kernels).
    fn max_sparse_nnz(&self, width: usize, cells: usize) -> Option<usize> {
        if self.kernel == Kernel::Tiled {
            return None;
        }
        sparse::max_nnz(width, cells, self.sparse_below)
    }

    /// The index [`Trainer::epoch_indexed`] reads `x`'s batches from, when this trainer's
    /// first layer would run sparse on `x` (wide enough, and sparse enough overall): one
    /// pass over `x`, to be made once for all of a training run's epochs.
    pub fn index_inputs(&self, x: ArrayView2<f32>) -> Option<CsrMatrix> {
        let max_nnz = self.max_sparse_nnz(x.ncols(), x.len())?;
        CsrMatrix::from_dense_within(x, max_nnz)
    }

    /// [`Trainer::index_sparse`] for rows of an indexed matrix: the same decision, made from
    /// the rows' non-zero counts.
    fn index_sparse_rows(&mut self, m: &CsrMatrix, rows: &[usize]) -> bool {
        match self.max_sparse_nnz(m.n_cols(), rows.len() * m.n_cols()) {
            Some(max_nnz) => self.sparse.fill_from_rows(m, rows, max_nnz),
            None => false,
        }
    }

    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    pub fn into_mlp(self) -> Mlp {
        self.mlp
    }

    pub fn adam(&self) -> &Adam {
        &self.adam
    }

    /// Gradients of the last [`Trainer::compute_gradients`] call, one per weight matrix.
    pub fn grad_weights(&self) -> &[Array2<f32>] {
        &self.grad_w
    }

    /// Gradients of the last [`Trainer::compute_gradients`] call, one per bias vector.
    pub fn grad_biases(&self) -> &[Array1<f32>] {
        &self.grad_b
    }

    /// One training step on a batch: forward, loss, backward, Adam. Returns the loss before
    /// the update. `x` is `(n, inputs)`; `y` and `observed` are `(n, outputs)`.
    pub fn step(
        &mut self,
        x: ArrayView2<f32>,
        y: ArrayView2<f32>,
        observed: ArrayView2<bool>,
        loss: &mut dyn Objective,
    ) -> f32 {
        let value = self.gradients(Input::Dense(x), y, observed, None, loss, true);
        self.apply_adam();
        value
    }

    /// A step on the rows `rows` of a dataset, gathered into the trainer's own batch buffers.
    pub fn step_rows(
        &mut self,
        x: ArrayView2<f32>,
        y: ArrayView2<f32>,
        observed: ArrayView2<bool>,
        rows: &[usize],
        loss: &mut dyn Objective,
    ) -> f32 {
        self.step_rows_indexed(x, None, y, observed, rows, loss)
    }

    /// [`Trainer::step_rows`], the inputs read from `indexed`'s non-zeros when given and the first layer runs sparse:
    /// the same sums in the same order as from the dense rows).
    pub fn step_rows_indexed(
        &mut self,
        x: ArrayView2<f32>,
        indexed: Option<&CsrMatrix>,
        y: ArrayView2<f32>,
        observed: ArrayView2<bool>,
        rows: &[usize],
        loss: &mut dyn Objective,
    ) -> f32 {
        self.step_rows_of(TrainInputs::Dense(x, indexed), y, observed, rows, loss)
    }

    /// A step on rows `rows` of `inputs`.
    fn step_rows_of(
        &mut self,
        inputs: TrainInputs,
        y: ArrayView2<f32>,
        observed: ArrayView2<bool>,
        rows: &[usize],
        loss: &mut dyn Objective,
    ) -> f32 {
        let n = rows.len();
        self.ensure_capacity(n);
        let index = match inputs {
            TrainInputs::Dense(_, indexed) => indexed,
            TrainInputs::Sparse(m) => self.takes_index(m).then_some(m),
        };
        let from_index = index.is_some_and(|m| self.index_sparse_rows(m, rows));
        let mut bx = std::mem::take(&mut self.batch_x);
        let mut by = std::mem::take(&mut self.batch_y);
        let mut bo = std::mem::take(&mut self.batch_observed);
        for (k, &r) in rows.iter().enumerate() {
            if !from_index {
                match inputs {
                    TrainInputs::Dense(x, _) => bx.row_mut(k).assign(&x.row(r)),
                    TrainInputs::Sparse(m) => {
                        m.dense_row_into(r, bx.row_mut(k).into_slice().expect("row-major"))
                    }
                }
            }
            by.row_mut(k).assign(&y.row(r));
            bo.row_mut(k).assign(&observed.row(r));
        }
        let input = match from_index {
            true => Input::Indexed {
                rows: n,
                width: inputs.width(),
            },
            false => Input::Dense(bx.slice(s![..n, ..])),
        };
        let value = self.gradients(
            input,
            by.slice(s![..n, ..]),
            bo.slice(s![..n, ..]),
            Some(rows),
            loss,
            true,
        );
        self.apply_adam();
        (self.batch_x, self.batch_y, self.batch_observed) = (bx, by, bo);
        value
    }

    /// One epoch: the rows in an order shuffled by `rng`, in batches of `batch_size` (the last
    /// may be smaller). Returns the mean of the batch losses weighted by batch size, which is
    /// what Keras reports as the epoch's training loss.
    pub fn epoch(
        &mut self,
        x: ArrayView2<f32>,
        y: ArrayView2<f32>,
        observed: ArrayView2<bool>,
        batch_size: usize,
        loss: &mut dyn Objective,
        rng: &mut impl Rng,
    ) -> f32 {
        self.epoch_indexed(x, None, y, observed, batch_size, loss, rng)
    }

    /// [`Trainer::epoch`], with `x`'s non-zeros indexed once ([`CsrMatrix::from_dense`] of
    /// `x`) so that sparse batches are read from them: the same steps, bit for bit, without
    /// copying and scanning each batch's dense rows.
    ///
    /// # Panics
    /// If `indexed` is not `x`'s shape.
    #[allow(clippy::too_many_arguments)]
    pub fn epoch_indexed(
        &mut self,
        x: ArrayView2<f32>,
        indexed: Option<&CsrMatrix>,
        y: ArrayView2<f32>,
        observed: ArrayView2<bool>,
        batch_size: usize,
        loss: &mut dyn Objective,
        rng: &mut impl Rng,
    ) -> f32 {
        if let Some(m) = indexed {
            assert_eq!(
                (m.n_rows(), m.n_cols()),
                x.dim(),
                "the index is of another matrix"
            );
        }
        let inputs = TrainInputs::Dense(x, indexed);
        self.epoch_of(inputs, y, observed, batch_size, loss, rng)
    }

    /// [`Trainer::epoch_indexed`] on a training set kept only as its non-zeros: the same
    /// steps, bit for bit, as on its dense rows and their index (a batch the first layer
    /// takes dense is written out from the non-zeros), without the dense rows in memory.
    pub fn epoch_sparse(
        &mut self,
        x: &CsrMatrix,
        y: ArrayView2<f32>,
        observed: ArrayView2<bool>,
        batch_size: usize,
        loss: &mut dyn Objective,
        rng: &mut impl Rng,
    ) -> f32 {
        let inputs = TrainInputs::Sparse(x);
        self.epoch_of(inputs, y, observed, batch_size, loss, rng)
    }

    /// Whether batches of `m` are read from its non-zeros when sparse enough: the rule
    /// [`Trainer::index_inputs`] applies to the dense matrix (`m` as a whole under the
    /// density limit).
    fn takes_index(&self, m: &CsrMatrix) -> bool {
        self.max_sparse_nnz(m.n_cols(), m.n_rows() * m.n_cols())
            .is_some_and(|max_nnz| m.nnz() <= max_nnz)
    }

    fn epoch_of(
        &mut self,
        inputs: TrainInputs,
        y: ArrayView2<f32>,
        observed: ArrayView2<bool>,
        batch_size: usize,
        loss: &mut dyn Objective,
        rng: &mut impl Rng,
    ) -> f32 {
        assert!(batch_size > 0, "batch size must be positive");
        let n = inputs.rows();
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        order.extend(0..n);
        order.shuffle(rng);
        let mut total = 0.0f64;
        for rows in order.chunks(batch_size) {
            total += self.step_rows_of(inputs, y, observed, rows, loss) as f64 * rows.len() as f64;
        }
        self.order = order;
        if n == 0 {
            0.0
        } else {
            (total / n as f64) as f32
        }
    }

    fn ensure_capacity(&mut self, n: usize) {
        if n <= self.capacity {
            return;
        }
        let grown = Trainer::new(self.mlp.clone(), self.adam.lr, n);
        self.capacity = n;
        if let Some(d) = self.dropout.as_mut() {
            d.grow(n);
        }
        self.acts = grown.acts;
        self.deltas = grown.deltas;
        self.batch_x = grown.batch_x;
        self.batch_y = grown.batch_y;
        self.batch_observed = grown.batch_observed;
    }

    /// Forward and backward on a batch without updating: the loss, with the gradients left in
    /// [`Trainer::grad_weights`] and [`Trainer::grad_biases`].
    pub fn compute_gradients(
        &mut self,
        x: ArrayView2<f32>,
        y: ArrayView2<f32>,
        observed: ArrayView2<bool>,
        loss: &mut dyn Objective,
    ) -> f32 {
        self.gradients(Input::Dense(x), y, observed, None, loss, false)
    }

    /// [`Trainer::compute_gradients`], telling the objective which training rows the batch
    /// holds when it was gathered from a training set; with `defer_first`, a sparse first
    /// layer's weight gradient is left to [`Trainer::apply_adam`] (a step's path) when the
    /// batch's deltas stay in cache ([`sparse::CACHED_ROWS`]).
    fn gradients(
        &mut self,
        input: Input,
        y: ArrayView2<f32>,
        observed: ArrayView2<bool>,
        rows: Option<&[usize]>,
        loss: &mut dyn Objective,
        defer_first: bool,
    ) -> f32 {
        let (n, width) = match input {
            Input::Dense(x) => x.dim(),
            Input::Indexed { rows, width } => (rows, width),
        };
        assert_eq!(
            width,
            self.mlp.n_inputs(),
            "input width does not match the network"
        );
        assert_eq!(
            y.dim(),
            (n, self.mlp.n_outputs()),
            "targets do not match the batch"
        );
        if let (Kernel::Tiled, Input::Dense(x)) = (self.kernel, input) {
            return tiled::compute_gradients(
                &self.mlp,
                &mut self.tiled,
                x,
                y,
                observed,
                rows,
                loss,
                &mut self.grad_w,
                &mut self.grad_b,
            );
        }
        self.ensure_capacity(n);
        let layers = self.mlp.weights.len();
        // The dense input, where the first layer reads it (not when its rows were indexed).
        let (x, sparse) = match input {
            Input::Dense(x) => (Some(x), self.index_sparse(x)),
            Input::Indexed { .. } => (None, true),
        };
        let threads = match n > sparse::CACHED_ROWS {
            true => self.threads,
            false => Threads::ONE,
        };
        self.shared = threads;

        for l in 0..layers {
            let (before, rest) = self.acts.split_at_mut(l);
            let relu = l + 1 < layers;
            if l == 0 && sparse {
                sparse_affine_large_into(
                    &self.sparse,
                    self.mlp.weights[0].view(),
                    self.mlp.biases[0].as_slice().expect("contiguous"),
                    relu,
                    rest[0].slice_mut(s![..n, ..]),
                    threads,
                    &mut self.large,
                );
            } else {
                let input = if l == 0 {
                    x.expect("a dense first layer reads the dense input")
                } else {
                    before[l - 1].slice(s![..n, ..])
                };
                let (weights, biases) = (self.mlp.weights[l].view(), &self.mlp.biases[l]);
                let (z, tile) = (rest[0].slice_mut(s![..n, ..]), &mut self.tile);
                let forward = || affine_into(input, weights, biases, relu, z, tile);
                if l == 1 && sparse && threads.count() > 1 {
                    // Only the weight gradient reads the batch's columns: they are grouped
                    // on a second thread while this one runs the first dense product.
                    let batch = &mut self.sparse;
                    threads.join(forward, || batch.group_columns());
                } else {
                    forward();
                }
            }
            if let (true, Some(d)) = (relu, self.dropout.as_mut()) {
                d.apply(l, rest[0].slice_mut(s![..n, ..]), threads);
            }
        }

        let value = loss.loss_and_grad_into(
            Batch {
                logits: self.acts[layers - 1].slice(s![..n, ..]),
                labels: y,
                observed,
                rows,
            },
            self.deltas[layers - 1].slice_mut(s![..n, ..]),
        );
        column_sums_into(
            self.deltas[layers - 1].slice(s![..n, ..]),
            &mut self.grad_b[layers - 1],
        );

        for l in (1..layers).rev() {
            // The weight gradient and the deltas below: two products side by side.
            let (below, from_l) = self.deltas.split_at_mut(l);
            let delta = from_l[0].slice(s![..n, ..]);
            let mut prev = below[l - 1].slice_mut(s![..n, ..]);
            let (input, weights) = (self.acts[l - 1].slice(s![..n, ..]), &self.mlp.weights[l]);
            let grad = &mut self.grad_w[l];
            threads.join(
                || general_mat_mul(1.0, &input.t(), &delta, 0.0, grad),
                || general_mat_mul(1.0, &delta, &weights.t(), 0.0, &mut prev),
            );
            // Through dropout and ReLU's derivative, with the bias gradient.
            let kept = self.dropout.as_ref().map(Dropout::kept_scale);
            relu_backward_and_column_sums(
                prev,
                input,
                kept,
                self.grad_b[l - 1].as_slice_mut().expect("contiguous"),
                &mut self.tile,
            );
        }
        // The first layer's weight gradient (no gradient with respect to the inputs is
        // needed). A row at a time inside Adam reads any of the batch's deltas for each
        // row; past a few hundred rows they outgrow the cache, and the gradient is made
        // whole, a chunk of columns at a time, instead.
        if sparse {
            // The batch's columns, which only the weight gradient reads.
            self.sparse.group_columns();
        }
        let delta = self.deltas[0].slice(s![..n, ..]);
        if sparse && defer_first && n <= sparse::CACHED_ROWS {
            self.first_grad_deferred = true;
        } else if sparse {
            let k = self.grad_w[0].ncols();
            let grad = self.grad_w[0].as_slice_mut().expect("contiguous");
            sparse_weight_grad_into(&self.sparse, delta, grad, k, &mut self.dirty, threads);
        } else {
            let x = x.expect("a dense first layer reads the dense input");
            general_mat_mul(1.0, &x.t(), &delta, 0.0, &mut self.grad_w[0]);
            self.dirty.fill(true);
        }
        value
    }

    /// Adam update of every parameter from the stored gradients (and a deferred sparse
    /// first layer's from the batch's non-zeros and deltas, a row at a time).
    pub fn apply_adam(&mut self) {
        let lr_t = self.adam.begin_step();
        let deferred = std::mem::take(&mut self.first_grad_deferred);
        for (l, (w, b)) in self
            .mlp
            .weights
            .iter_mut()
            .zip(self.mlp.biases.iter_mut())
            .enumerate()
        {
            let w = w.as_slice_mut().expect("contiguous");
            if l == 0 && deferred {
                let delta = self.deltas[0].as_slice().expect("contiguous");
                let rows = WeightGradRows::new(&self.sparse, delta, b.len());
                self.adam
                    .update_by_rows(0, lr_t, w, &mut self.grad_row, rows);
            } else {
                let gw = self.grad_w[l].as_slice().expect("contiguous");
                self.adam.update_shared(2 * l, lr_t, w, gw, self.shared);
            }
            let gb = self.grad_b[l].as_slice().expect("contiguous");
            self.adam
                .update(2 * l + 1, lr_t, b.as_slice_mut().expect("contiguous"), gb);
        }
    }
}

/// Column sums of a row-major block into `out`.
fn column_sums_into(m: ArrayView2<f32>, out: &mut Array1<f32>) {
    let out = out.as_slice_mut().expect("contiguous");
    out.fill(0.0);
    if out.is_empty() {
        return;
    }
    for row in m.as_slice().expect("contiguous").chunks_exact(out.len()) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Loss;
    use ndarray::Axis;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn seed_data(n: usize, rng: &mut ChaCha8Rng) -> (Array2<f32>, Array2<f32>) {
        let x = Array2::from_shape_simple_fn((n, 2), || rng.random::<f32>());
        let y = Array2::from_shape_fn((n, 3), |(i, j)| {
            let (x0, x1) = (x[[i, 0]], x[[i, 1]]);
            let v = match j {
                0 => x1 <= 0.5,
                1 => x0 >= 0.5,
                _ => x0 + x1 > 1.0,
            };
            v as u8 as f32
        });
        (x, y)
    }

    fn train_seed_mlp(seed: u64, steps: usize) -> Mlp {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (x, y) = seed_data(5000, &mut rng);
        let observed = Array2::from_elem(y.dim(), true);
        let mut trainer = Trainer::new(Mlp::new(&[2, 10, 40, 30, 3], &mut rng), 1e-3, 1000);
        let rows: Vec<usize> = (0..5000).collect();
        for chunk in rows.chunks(1000).cycle().take(steps) {
            trainer.step_rows(
                x.view(),
                y.view(),
                observed.view(),
                chunk,
                &mut Loss::masked(),
            );
        }
        trainer.into_mlp()
    }

    #[test]
    fn same_seed_gives_bit_identical_weights_after_100_steps() {
        let a = train_seed_mlp(11, 100);
        let b = train_seed_mlp(11, 100);
        assert_eq!(a, b);
        assert_ne!(a, train_seed_mlp(12, 100));
    }

    #[test]
    fn step_rows_equals_step_on_the_gathered_batch() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (x, y) = seed_data(50, &mut rng);
        let observed = Array2::from_shape_fn(y.dim(), |(i, j)| (i + j) % 3 != 0);
        let mlp = Mlp::new(&[2, 6, 3], &mut rng);
        let rows = [7usize, 3, 40, 12];
        let mut a = Trainer::new(mlp.clone(), 1e-2, 2);
        let la = a.step_rows(
            x.view(),
            y.view(),
            observed.view(),
            &rows,
            &mut Loss::masked(),
        );
        let gx = x.select(Axis(0), &rows);
        let gy = y.select(Axis(0), &rows);
        let go = observed.select(Axis(0), &rows);
        let mut b = Trainer::new(mlp, 1e-2, 8);
        let lb = b.step(gx.view(), gy.view(), go.view(), &mut Loss::masked());
        assert_eq!(la, lb);
        assert_eq!(a.mlp(), b.mlp());
    }

    /// A step's sparse first layer, its weight gradient made row by row inside Adam, moves
    /// the network exactly as the stored gradient and Adam's update of it do, step after
    /// step, with weight decay and dropout, and leaves `grad_weights` as it was.
    #[test]
    fn a_step_with_the_deferred_first_gradient_equals_gradients_then_adam() {
        let mut rng = ChaCha8Rng::seed_from_u64(23);
        let (n, d) = (40, 400);
        // Fingerprint-like columns, and columns set in every row (descriptors), a run in the
        // middle and one at the end.
        let full = |j: usize| (50..56).contains(&j) || j >= 395;
        let x = Array2::from_shape_fn((n, d), |(_, j)| match rng.random::<f32>() {
            u if full(j) => u * 4.0 - 2.5,
            u if u < 0.04 => 1.0,
            u if u < 0.05 => u * 20.0 - 0.5,
            _ => 0.0,
        });
        let y = Array2::from_shape_simple_fn((n, 3), || rng.random_bool(0.3) as u8 as f32);
        let observed = Array2::from_shape_simple_fn((n, 3), || rng.random_bool(0.8));
        let mlp = Mlp::new(&[d, 24, 8, 3], &mut rng);
        let make = || {
            Trainer::new(mlp.clone(), 1e-2, n)
                .with_dropout(0.2, ChaCha8Rng::seed_from_u64(4))
                .with_weight_decay(0.01)
        };
        let (mut fused, mut stored) = (make(), make());
        for _ in 0..5 {
            let a = fused.step(x.view(), y.view(), observed.view(), &mut Loss::masked());
            let b =
                stored.compute_gradients(x.view(), y.view(), observed.view(), &mut Loss::masked());
            stored.apply_adam();
            assert_eq!(a, b);
            assert_eq!(fused.mlp(), stored.mlp());
        }
        assert!(stored.grad_weights()[0].iter().any(|&g| g != 0.0));
        assert!(
            fused.grad_weights()[0].iter().all(|&g| g == 0.0),
            "never computed whole"
        );
    }

    /// Epochs whose sparse batches are read from an index of the training inputs take the
    /// same steps, bit for bit, as epochs that gather and scan each dense batch: with and
    /// without dropout, and with rows dense enough that some batches fall back to the dense
    /// product.
    #[test]
    fn epochs_from_the_indexed_inputs_equal_epochs_from_the_dense_rows() {
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let (n, d) = (300, 200);
        let mut x = Array2::from_shape_simple_fn((n, d), || {
            let u: f32 = rng.random();
            if u < 0.03 {
                1.0
            } else if u < 0.04 {
                u * 10.0
            } else {
                0.0
            }
        });
        // A block of dense rows: a batch drawing many of them is over the density limit.
        x.slice_mut(s![..12, ..]).fill(0.5);
        let y = Array2::from_shape_simple_fn((n, 4), || rng.random_range(0..2u8) as f32);
        let o = Array2::from_shape_simple_fn((n, 4), || rng.random::<f32>() > 0.3);
        let index = CsrMatrix::from_dense(x.view());
        let mlp = Mlp::new(&[d, 32, 16, 4], &mut rng);
        for (dropout, decay) in [(0.0, 0.0), (0.2, 0.0), (0.2, 0.05)] {
            // The dense rows alone, with their index, or only the index (`None`, `Some`).
            let train = |indexed: Option<Option<&CsrMatrix>>, sparse_below: f32| {
                let mut t = Trainer::new(mlp.clone(), 1e-3, 32)
                    .with_dropout(dropout, ChaCha8Rng::seed_from_u64(3))
                    .with_weight_decay(decay)
                    .with_sparse_below(sparse_below)
                    .with_kernel(Kernel::Blas);
                let mut batches = ChaCha8Rng::seed_from_u64(4);
                let losses: Vec<f32> = (0..3)
                    .map(|_| {
                        let (xv, yv, ov, b) = (x.view(), y.view(), o.view(), &mut batches);
                        let loss = &mut Loss::masked();
                        match indexed {
                            Some(m) => t.epoch_indexed(xv, m, yv, ov, 32, loss, b),
                            None => t.epoch_sparse(&index, yv, ov, 32, loss, b),
                        }
                    })
                    .collect();
                (losses, t.into_mlp())
            };
            // At the default limit some batches are too dense and are taken dense; at a
            // limit below the whole matrix's density, every batch is.
            for below in [SPARSE_BELOW, 0.02] {
                let dense = train(Some(None), below);
                let why = format!("dropout {dropout}, decay {decay}, below {below}");
                let indexed = match below == SPARSE_BELOW {
                    true => Some(&index),
                    false => None, // what `index_inputs` gives over the limit
                };
                assert_eq!(train(Some(indexed), below), dense, "{why}");
                assert_eq!(train(None, below), dense, "only the non-zeros, {why}");
            }
        }
    }

    /// Steps on batches of more than `CACHED_ROWS` rows split their work between threads;
    /// every value is made by one of them whole, so the losses and weights are the same bits
    /// on one thread, two or three, sparse first layer or dense, with dropout or without.
    #[test]
    fn steps_shared_by_threads_are_the_same_bits_as_on_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let (n, d) = (1300, 150);
        let x = Array2::from_shape_simple_fn((n, d), || {
            let u: f32 = rng.random();
            if u < 0.04 {
                1.0
            } else if u < 0.05 {
                u * 7.0
            } else {
                0.0
            }
        });
        let y = Array2::from_shape_simple_fn((n, 3), || rng.random_range(0..2u8) as f32);
        let o = Array2::from_shape_simple_fn((n, 3), || rng.random::<f32>() > 0.4);
        let index = CsrMatrix::from_dense(x.view());
        let mlp = Mlp::new(&[d, 96, 40, 3], &mut rng);
        for (dropout, sparse_below) in [(0.0, SPARSE_BELOW), (0.2, SPARSE_BELOW), (0.2, 0.0)] {
            let train = |threads: usize| {
                let mut t = Trainer::new(mlp.clone(), 1e-3, 600)
                    .with_dropout(dropout, ChaCha8Rng::seed_from_u64(3))
                    .with_sparse_below(sparse_below)
                    .with_kernel(Kernel::Blas)
                    .with_threads(Threads::new(threads));
                let mut batches = ChaCha8Rng::seed_from_u64(4);
                let losses: Vec<u32> = (0..2)
                    .map(|_| {
                        let (xv, yv, ov) = (x.view(), y.view(), o.view());
                        let loss = &mut Loss::masked();
                        t.epoch_indexed(xv, Some(&index), yv, ov, 600, loss, &mut batches)
                            .to_bits()
                    })
                    .collect();
                let mlp = t.into_mlp();
                let bits = |a: &[f32]| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                let weights: Vec<Vec<u32>> = mlp
                    .weights
                    .iter()
                    .map(|w| bits(w.as_slice().unwrap()))
                    .chain(mlp.biases.iter().map(|b| bits(b.as_slice().unwrap())))
                    .collect();
                (losses, weights)
            };
            let one = train(1);
            for threads in [2, 3] {
                assert!(
                    train(threads) == one,
                    "{threads} threads, dropout {dropout}, sparse below {sparse_below}"
                );
            }
        }
    }

    #[test]
    fn the_seed_mlp_learns_the_three_seed_rules() {
        let mut rng = ChaCha8Rng::seed_from_u64(2024);
        let (x, y) = seed_data(20_000, &mut rng);
        let observed = Array2::from_elem(y.dim(), true);
        let mut trainer = Trainer::new(Mlp::new(&[2, 10, 40, 30, 3], &mut rng), 1e-2, 500);
        for _ in 0..40 {
            trainer.epoch(
                x.view(),
                y.view(),
                observed.view(),
                500,
                &mut Loss::masked(),
                &mut rng,
            );
        }
        let (tx, ty) = seed_data(5000, &mut rng);
        let logits = trainer.mlp().forward(tx.view());
        let m = crate::metrics::evaluate(
            logits.view(),
            ty.view(),
            Array2::from_elem(ty.dim(), true).view(),
        );
        for (j, t) in m.tasks.iter().enumerate() {
            assert!(t.accuracy >= 0.99, "task {j}: accuracy {}", t.accuracy);
        }
    }

    #[test]
    fn epoch_with_no_rows_is_a_no_op() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mlp = Mlp::new(&[2, 3, 1], &mut rng);
        let mut t = Trainer::new(mlp.clone(), 1e-3, 4);
        let e = Array2::<f32>::zeros((0, 2));
        let loss = t.epoch(
            e.view(),
            Array2::zeros((0, 1)).view(),
            Array2::from_elem((0, 1), false).view(),
            4,
            &mut Loss::masked(),
            &mut rng,
        );
        assert_eq!(loss, 0.0);
        assert_eq!(t.mlp(), &mlp);
    }
}
