//! `datagen`: everything an experiment trains on, reproducibly from a seed.
//!
//! * [`Dataset`]: features, 0/1 labels with an explicit observed mask, task names, and the
//!   truth before any label was dropped, where known. `-1` (or an empty cell) means "missing"
//!   only at the file boundary.
//! * Sources: the seed toy set ([`toy`]); MBTI-style text, generated ([`mbti::generate_mbti`])
//!   or loaded from the Kaggle CSV ([`mbti::load_mbti`]) and turned into features by
//!   [`text::featurize`] (type codes removed; see [`text`]); any CSV ([`csvio::load_csv`]),
//!   and the exporter [`csvio::write_csv`].
//! * [`Mechanism`]: how labels go missing (MCAR, prefix, MNAR, block) with per-task rates.
//! * [`molecule`]: SMILES parsed into graphs (`purr`), ECFP fingerprints, Bemis–Murcko
//!   scaffolds and the scaffold split, and the Tox21-style SMILES CSV loader.
//! * [`split()`]: train / dev / test rows.
//! * [`input`]: input files read once, checked against their planned content hash, `.gz`
//!   or plain.
//!
//! Every random function takes `rng: &mut impl Rng`; nothing here seeds itself.
//!
//! ```
//! # extern crate openblas_src;
//! use datagen::{split, toy, Mechanism, Rates, TestRows};
//! use rand::SeedableRng;
//!
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
//! let mut data = toy(10_000, false, &mut rng);
//! let rows = split(data.n_rows(), &TestRows::Last(3000), 0.1, &mut rng);
//! let eligible = [rows.train.clone(), rows.dev.clone()].concat();
//! Mechanism::Mcar(Rates::All(0.5)).apply(&mut data, &eligible, &mut rng);
//! let train_rate = data.observed_rate(&rows.train)[0];
//! assert!((train_rate - 0.5).abs() < 0.05);
//! assert_eq!(data.observed_rate(&rows.test), vec![1.0; 3]); // test rows keep their labels
//! ```

pub mod csvio;
mod dataset;
mod error;
pub mod input;
pub mod mbti;
mod missing;
pub mod molecule;
mod split;
pub mod svd;
pub mod text;
mod toy;

#[cfg(test)]
extern crate openblas_src;

pub use dataset::Dataset;
pub use error::DataError;
pub use missing::{mnar_calibrated, mnar_reachable_rate, Mechanism, Rates};
pub use split::{split, split_sizes, Split, TestRows};
pub use toy::{toy, toy_tasks, TOY_TASKS};
