//! `nn`: the neural-network core of masklab.
//!
//! A small multi-layer perceptron trained with Adam on one of the binary cross-entropy losses,
//! which differ only in how they treat *unobserved* labels, plus metrics that skip unobserved
//! labels. Products run on BLAS (the provider is chosen by the final binary), or for networks
//! whose layers are all narrow, on [`tiled`]'s kernels, which carry a tile of rows through
//! every layer (about 1.7× faster on the seed network).
//!
//! * [`Mlp`]: any layer sizes, ReLU hidden layers, linear output logits, Glorot-uniform weights
//!   and zero biases (the Keras defaults), `f32` throughout; it scores inputs on the kernels
//!   it trains on ([`mlp::Inputs`]: wide, sparse inputs indexed once for the sparse first
//!   layer).
//! * [`Trainer`]: a network, its Adam state and preallocated buffers; one [`Trainer::step`]
//!   does forward, backward and the Adam update without allocating ([`Kernel`]: BLAS or
//!   tiled, chosen by the layer widths).
//! * [`Threads`]: the cores a step on a large batch may share ([`Trainer::with_threads`]),
//!   split only between whole outputs, so the same bits on any number.
//! * [`loss`]: [`masked_bce`] (the idea masklab is about), [`seed_masked_bce`] and [`plain_bce`]
//!   (the original post's two formulations, kept for faithful reproduction).
//! * [`objective`]: what a training step minimises, an [`Objective`] that sees each batch's
//!   logits, labels, mask and training rows (the losses are objectives; strategies with
//!   state build theirs on [`weighted_bce_into`]).
//! * [`metrics`]: accuracy, balanced accuracy, ROC-AUC and mean BCE per task over observed
//!   labels only, macro-averaged; and [`metrics::keras_accuracy`], the number Keras prints.
//!
//! Missing labels are never a magic number here: every function takes the 0/1 labels and a
//! separate `observed` mask, and an unobserved cell's label is never read by the arithmetic.
//!
//! ```
//! # extern crate openblas_src;
//! use ndarray::array;
//! use nn::{Loss, Mlp, Trainer};
//! use rand::SeedableRng;
//!
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
//! let mlp = Mlp::new(&[2, 8, 2], &mut rng);
//! let mut trainer = Trainer::new(mlp, 1e-2, 4);
//! let x = array![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
//! let y = array![[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
//! // The second task's label is missing on the last row.
//! let observed = array![[true, true], [true, true], [true, true], [true, false]];
//! let first = trainer.step(x.view(), y.view(), observed.view(), &mut Loss::masked());
//! for _ in 0..300 {
//!     trainer.step(x.view(), y.view(), observed.view(), &mut Loss::masked());
//! }
//! let last = trainer.step(x.view(), y.view(), observed.view(), &mut Loss::masked());
//! assert!(last < first);
//! ```

pub mod adam;
mod dropout;
mod fastmath;
pub mod loss;
pub mod metrics;
pub mod mlp;
pub mod objective;
mod relu_backward;
pub mod sparse;
pub mod threads;
pub mod tiled;
pub mod train;

#[cfg(test)]
extern crate openblas_src;
#[cfg(test)]
mod gradcheck_tests;

pub use adam::Adam;
pub use loss::{masked_bce, plain_bce, plain_logit_bce, seed_masked_bce, Loss};
pub use metrics::{evaluate, keras_accuracy, Metrics, TaskMetrics};
pub use mlp::Mlp;
pub use objective::{weighted_bce_into, Batch, Objective};
pub use threads::Threads;
pub use train::{Kernel, Trainer};
