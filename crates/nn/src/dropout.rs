//! Inverted dropout (Srivastava et al. 2014) for training: each hidden unit of each row is
//! kept with probability `1 - rate` and scaled by `1 / (1 - rate)`, so evaluation uses the
//! network as it is.
//!
//! A mask is the seeded stream's next words, one a unit, row by row: a word at or above
//! `rate · 2^32` keeps its unit. Threads may share a large batch's rows; each takes its
//! rows' words from their place in the stream ([`ChaCha8Rng::set_word_pos`]), so the masks
//! are the same bits on any number of threads.

use crate::threads::{row_parts, Threads};
use ndarray::{Array2, ArrayViewMut2};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Words drawn at once: a stack buffer's worth, so a mask needs no scratch of its size.
const DRAWN_AT_ONCE: usize = 1024;

/// Dropout after every hidden layer, with its stream and the current batch's masks.
pub(crate) struct Dropout {
    rate: f32,
    /// Draws the masks: a seeded stream of its own, so reruns are bit-identical.
    rng: ChaCha8Rng,
    /// `masks[l]`: hidden layer `l`'s multipliers for the current batch (0 or `1/(1-rate)`).
    pub(crate) masks: Vec<Array2<f32>>,
    /// Reuse the current masks instead of drawing new ones (gradient checks).
    pub(crate) frozen: bool,
}

impl Dropout {
    /// Dropout at `rate` for hidden layers of `widths`, masks for `capacity` rows.
    pub(crate) fn new(rate: f32, rng: ChaCha8Rng, widths: &[usize], capacity: usize) -> Self {
        let masks = widths
            .iter()
            .map(|&k| Array2::zeros((capacity, k)))
            .collect();
        Dropout {
            rate,
            rng,
            masks,
            frozen: false,
        }
    }

    /// Grows every mask to `capacity` rows.
    pub(crate) fn grow(&mut self, capacity: usize) {
        for m in self.masks.iter_mut() {
            *m = Array2::zeros((capacity, m.ncols()));
        }
    }

    /// The multiplier of a kept unit, `1 / (1 - rate)`.
    pub(crate) fn kept_scale(&self) -> f32 {
        Keep::at(self.rate).scale
    }

    /// Draws layer `l`'s mask for the rows of `acts` (unless frozen) and applies it, the
    /// rows shared by `threads`.
    pub(crate) fn apply(&mut self, l: usize, mut acts: ArrayViewMut2<f32>, threads: Threads) {
        let (n, width) = acts.dim();
        let acts = acts
            .as_slice_mut()
            .expect("activations are row-major and contiguous");
        let mask = self.masks[l]
            .as_slice_mut()
            .expect("masks are row-major and contiguous");
        let mask = &mut mask[..n * width];
        if self.frozen {
            acts.iter_mut().zip(mask.iter()).for_each(|(a, &m)| *a *= m);
            return;
        }
        let keep = Keep::at(self.rate);
        let start = self.rng.get_word_pos();
        let cuts = threads.cuts(n, |r| r);
        let parts: Vec<_> = row_parts(mask, width, &cuts)
            .into_iter()
            .zip(row_parts(acts, width, &cuts))
            .collect();
        let rng = &self.rng;
        threads.each(parts, |((rows, mask), (_, acts))| {
            let mut words = rng.clone();
            words.set_word_pos(start + (rows.start * width) as u128);
            keep.draw_and_apply(&mut words, mask, acts);
        });
        self.rng.set_word_pos(start + (n * width) as u128);
    }
}

/// Which words keep a unit, and its scale when kept.
#[derive(Clone, Copy)]
struct Keep {
    threshold: u64,
    scale: f32,
}

impl Keep {
    fn at(rate: f32) -> Keep {
        Keep {
            threshold: (rate as f64 * 4_294_967_296.0) as u64,
            scale: 1.0 / (1.0 - rate),
        }
    }

    /// Fills `mask` from `words`' next words, one a unit in order, and multiplies `acts` by it.
    fn draw_and_apply(self, words: &mut ChaCha8Rng, mask: &mut [f32], acts: &mut [f32]) {
        let mut drawn = [0u32; DRAWN_AT_ONCE];
        for (mask, acts) in mask
            .chunks_mut(DRAWN_AT_ONCE)
            .zip(acts.chunks_mut(DRAWN_AT_ONCE))
        {
            // The stream's next words, as `next_u32` would give them one by one (rand_core's
            // block generators hand out the same words either way).
            let drawn = &mut drawn[..mask.len()];
            words.fill(drawn);
            for ((m, a), &word) in mask.iter_mut().zip(acts.iter_mut()).zip(drawn.iter()) {
                *m = if word as u64 >= self.threshold {
                    self.scale
                } else {
                    0.0
                };
                *a *= *m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    /// Split between threads at rows that do not fall on the generator's blocks (7 words a
    /// row), a batch's mask is still the stream's words in order, and the next batch goes on
    /// where it ended; the activations are scaled by it.
    #[test]
    fn masks_drawn_on_threads_are_the_stream_word_by_word() {
        let (rate, width) = (0.25f32, 7);
        let mut words = ChaCha8Rng::seed_from_u64(9);
        let keep = Keep::at(rate);
        for threads in [1, 2, 3] {
            let mut dropout = Dropout::new(rate, ChaCha8Rng::seed_from_u64(9), &[width], 400);
            words.set_word_pos(0);
            for n in [301, 5, 400] {
                let mut acts = Array2::from_elem((n, width), 2.0f32);
                dropout.apply(0, acts.view_mut(), Threads::new(threads));
                let expected = Array2::from_shape_simple_fn((n, width), || {
                    match words.next_u32() as u64 >= keep.threshold {
                        true => keep.scale,
                        false => 0.0,
                    }
                });
                let mask = dropout.masks[0].slice(ndarray::s![..n, ..]);
                assert_eq!(mask, expected, "{threads} threads, {n} rows");
                assert_eq!(acts, expected.mapv(|m| 2.0 * m));
            }
        }
    }
}
