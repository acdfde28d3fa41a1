//! Adam with the Keras defaults, and decoupled weight decay (AdamW, Loshchilov & Hutter
//! 2019) as Keras 3 applies it.

use crate::threads::Threads;

/// Adam state for a fixed list of parameter tensors, each seen as a flat slice.
///
/// Keras's update (the "epsilon hat" form): with `t` the 1-based step,
/// `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g²`,
/// `p -= lr · sqrt(1-b2^t)/(1-b1^t) · m / (sqrt(v) + eps)`.
///
/// With a weight decay `wd > 0` (AdamW), every parameter first shrinks by `lr · wd` of
/// itself, outside the gradient's moments, as Keras 3's `AdamW` does (biases included).
#[derive(Clone, Debug)]
pub struct Adam {
    pub lr: f32,
    pub weight_decay: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
    t: i32,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

impl Adam {
    /// Keras defaults but for the learning rate: beta1 0.9, beta2 0.999, epsilon 1e-7.
    /// `sizes` are the lengths of the parameter tensors, in the order they will be updated.
    pub fn new(lr: f32, sizes: &[usize]) -> Self {
        Adam {
            lr,
            weight_decay: 0.0,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-7,
            t: 0,
            m: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            v: sizes.iter().map(|&n| vec![0.0; n]).collect(),
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> i32 {
        self.t
    }

    /// Starts a step; returns the bias-corrected learning rate used by [`Adam::update`].
    pub fn begin_step(&mut self) -> f32 {
        self.t += 1;
        // In f64 so that the correction is exact to f32 precision even after many steps.
        let t = self.t;
        let correction =
            (1.0 - (self.beta2 as f64).powi(t)).sqrt() / (1.0 - (self.beta1 as f64).powi(t));
        (self.lr as f64 * correction) as f32
    }

    /// Updates parameter tensor `index` in place from its gradient.
    pub fn update(&mut self, index: usize, lr_t: f32, param: &mut [f32], grad: &[f32]) {
        self.update_shared(index, lr_t, param, grad, Threads::ONE)
    }

    /// [`Adam::update`] with the tensor cut into `threads` pieces, one a thread: every value's
    /// update is its own, so the same bits on any number. A tensor of fewer than
    /// [`SHARED_MIN`] values stays on the caller's thread (starting one would cost more).
    pub fn update_shared(
        &mut self,
        index: usize,
        lr_t: f32,
        param: &mut [f32],
        grad: &[f32],
        threads: Threads,
    ) {
        let rule = self.rule(lr_t);
        let (m, v) = (&mut self.m[index], &mut self.v[index]);
        assert!(
            param.len() == m.len() && grad.len() == m.len(),
            "tensor {index} changed size"
        );
        if threads == Threads::ONE || param.len() < SHARED_MIN {
            return update_on_cpu(rule, param, grad, m, v);
        }
        let piece = param
            .len()
            .div_ceil(threads.count())
            .next_multiple_of(PIECE_ALIGN);
        let pieces = param
            .chunks_mut(piece)
            .zip(grad.chunks(piece))
            .zip(m.chunks_mut(piece))
            .zip(v.chunks_mut(piece));
        threads.each(pieces.collect(), |(((p, g), m), v)| {
            update_on_cpu(rule, p, g, m, v)
        });
    }

    /// [`Adam::update`] of tensor `index`, a matrix of rows `g.len()` long, with each row's
    /// gradient made only when its turn comes: `grads.row(i, g)` writes row `i`'s into `g`
    /// (scratch). The same arithmetic on every value as [`Adam::update`] from the whole
    /// gradient, so the same bits, without the gradient ever being stored.
    pub fn update_by_rows(
        &mut self,
        index: usize,
        lr_t: f32,
        param: &mut [f32],
        g: &mut [f32],
        grad_row: impl RowGradients,
    ) {
        let rule = self.rule(lr_t);
        let (m, v) = (&mut self.m[index], &mut self.v[index]);
        let row_len = g.len();
        assert!(
            param.len() == m.len() && row_len > 0 && param.len().is_multiple_of(row_len),
            "tensor {index} changed size"
        );
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, which is all the function enables.
            return unsafe { update_by_rows_avx512(rule, param, g, m, v, grad_row) };
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, which is all the function enables.
            return unsafe { update_by_rows_avx2(rule, param, g, m, v, grad_row) };
        }
        update_by_rows(rule, param, g, m, v, grad_row)
    }

    fn rule(&self, lr_t: f32) -> Rule {
        Rule {
            b1: self.beta1,
            b2: self.beta2,
            eps: self.epsilon,
            decay: self.lr * self.weight_decay,
            lr_t,
        }
    }
}

/// A gradient made a row at a time, for [`Adam::update_by_rows`].
pub trait RowGradients {
    /// Row `i` of the gradient into `g`. Implementations mark it `#[inline(always)]`, so
    /// that it is compiled into the update's loop for the same CPU features.
    fn row(&mut self, i: usize, g: &mut [f32]);
}

/// [`update_by_rows`] compiled for AVX2, `grad_row` with it (the same bits, as
/// [`update_avx2`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_by_rows_avx2(
    rule: Rule,
    param: &mut [f32],
    g: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    grad_row: impl RowGradients,
) {
    update_by_rows(rule, param, g, m, v, grad_row)
}

/// [`update_by_rows`] compiled for AVX-512F: sixteen lanes a vector, the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn update_by_rows_avx512(
    rule: Rule,
    param: &mut [f32],
    g: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    grad_row: impl RowGradients,
) {
    update_by_rows(rule, param, g, m, v, grad_row)
}

#[inline(always)]
fn update_by_rows(
    rule: Rule,
    param: &mut [f32],
    g: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    mut grad_row: impl RowGradients,
) {
    let k = g.len();
    let rows = param
        .chunks_exact_mut(k)
        .zip(m.chunks_exact_mut(k))
        .zip(v.chunks_exact_mut(k));
    for (i, ((p, m), v)) in rows.enumerate() {
        grad_row.row(i, g);
        update(rule, p, g, m, v);
    }
}

/// [`update`] in the widest build this CPU runs (all give the same bits).
fn update_on_cpu(rule: Rule, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512F, which is all the function enables.
        return unsafe { update_avx512(rule, param, grad, m, v) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, which is all the function enables.
        return unsafe { update_avx2(rule, param, grad, m, v) };
    }
    update(rule, param, grad, m, v)
}

/// The fewest values a shared update splits between threads: a MUV step's first layer
/// (1.07 M) is split, its 512 × 128 layer (65 K) is not.
pub const SHARED_MIN: usize = 1 << 18;

/// The pieces a shared update cuts a tensor into are multiples of this many values (a
/// cache line's), so that no two threads write one line.
const PIECE_ALIGN: usize = 16;

/// One step's constants.
#[derive(Clone, Copy)]
struct Rule {
    b1: f32,
    b2: f32,
    eps: f32,
    decay: f32,
    lr_t: f32,
}

/// [`update`] compiled for AVX2: eight lanes a vector, the same operations on every value
/// (no fused multiply-add), so the same bits as the portable build.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_avx2(rule: Rule, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    update(rule, param, grad, m, v)
}

/// [`update`] compiled for AVX-512F: sixteen lanes a vector, the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn update_avx512(rule: Rule, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    update(rule, param, grad, m, v)
}

#[inline(always)]
fn update(rule: Rule, param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
    let Rule {
        b1,
        b2,
        eps,
        decay,
        lr_t,
    } = rule;
    for (((p, &g), m), v) in param
        .iter_mut()
        .zip(grad)
        .zip(m.iter_mut())
        .zip(v.iter_mut())
    {
        if decay != 0.0 {
            *p -= decay * *p;
        }
        *m = flushed(b1 * *m + (1.0 - b1) * g);
        *v = flushed(b2 * *v + (1.0 - b2) * g * g);
        *p -= lr_t * *m / (v.sqrt() + eps);
    }
}

/// `x`, or 0 where it is subnormal (below `f32::MIN_POSITIVE` in size). A weight that a
/// batch rarely reaches (an ECFP bit few molecules set) has a zero gradient step after step,
/// so its first moment shrinks by `b1` each step and is subnormal some 800 steps later;
/// arithmetic on subnormals takes a microcode assist a value on x86, which made MUV's
/// training steps several times slower. The moment is then 1e-38 of its size and moves its
/// weight by less than the weight's last bit; flushed, it stays an exact 0 and costs
/// nothing. Branch-free, so the loop stays vectorised.
#[inline(always)]
fn flushed(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each vector build the CPU runs (AVX-512F, AVX2) gives the portable build's bits, over
    /// values of every size, with and without weight decay, and a length that leaves a
    /// tail after the full vectors.
    #[test]
    fn every_build_gives_the_portable_bits() {
        let n = 16 * 5 + 11;
        let values = |s: usize| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    let x = ((i * 37 + s * 11) % 97) as f32 - 48.0;
                    x * [1e-3, 1.0, 1e-20, 7.0][(i + s) % 4]
                })
                .collect()
        };
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for decay in [0.0, 0.01] {
            let rule = Rule {
                b1: 0.9,
                b2: 0.999,
                eps: 1e-7,
                decay,
                lr_t: 1e-3,
            };
            let grad = values(4);
            let v0: Vec<f32> = values(3).iter().map(|x| x.abs()).collect();
            let (mut p, mut m, mut v) = (values(1), values(2), v0.clone());
            update(rule, &mut p, &grad, &mut m, &mut v);
            #[cfg(target_arch = "x86_64")]
            for build in ["avx512f", "avx2"] {
                let (mut q, mut mq, mut vq) = (values(1), values(2), v0.clone());
                // SAFETY: each build runs only on a CPU with its features.
                match build {
                    "avx512f" if std::arch::is_x86_feature_detected!("avx512f") => unsafe {
                        update_avx512(rule, &mut q, &grad, &mut mq, &mut vq)
                    },
                    "avx2" if std::arch::is_x86_feature_detected!("avx2") => unsafe {
                        update_avx2(rule, &mut q, &grad, &mut mq, &mut vq)
                    },
                    _ => continue,
                }
                assert_eq!(bits(&q), bits(&p), "{build} weights, decay {decay}");
                assert_eq!(bits(&mq), bits(&m), "{build} first moments, decay {decay}");
                assert_eq!(bits(&vq), bits(&v), "{build} second moments, decay {decay}");
            }
        }
    }

    #[test]
    fn weight_decay_shrinks_before_the_adam_step() {
        // Two steps of AdamW by hand: p1 = p0 - lr·wd·p0 - lr·g/|g| (Adam's first step),
        // then the same with the second step's moments.
        let (lr, wd) = (0.1f32, 0.5f32);
        let mut adam = Adam::new(lr, &[1]);
        adam.weight_decay = wd;
        let mut p = [2.0f32];
        let g = [0.5f32];
        let lr_t = adam.begin_step();
        adam.update(0, lr_t, &mut p, &g);
        let step1 = lr_t * 0.05 / ((0.001f32 * 0.25).sqrt() + 1e-7);
        let expected = 2.0 - lr * wd * 2.0 - step1;
        assert!((p[0] - expected).abs() < 1e-6, "{} vs {expected}", p[0]);
        // No decay: the plain Adam step.
        let mut plain = Adam::new(lr, &[1]);
        let mut q = [2.0f32];
        let lr_t = plain.begin_step();
        plain.update(0, lr_t, &mut q, &g);
        assert!((q[0] - (2.0 - step1)).abs() < 1e-6);
    }

    #[test]
    fn first_step_moves_each_parameter_by_lr_against_its_gradient_sign() {
        // After one step m = 0.1 g, v = 0.001 g², corrected lr = lr sqrt(0.001)/0.1, so the
        // step is lr · g/|g| (up to epsilon): the well-known Adam first step.
        let mut adam = Adam::new(0.01, &[3]);
        let mut p = [1.0f32, -2.0, 0.5];
        let lr_t = adam.begin_step();
        adam.update(0, lr_t, &mut p, &[0.3, -4.0, 0.0]);
        assert!((p[0] - 0.99).abs() < 1e-6);
        assert!((p[1] + 1.99).abs() < 1e-6);
        assert_eq!(p[2], 0.5);
    }

    struct Rows<'a>(&'a [f32]);

    impl RowGradients for Rows<'_> {
        fn row(&mut self, i: usize, g: &mut [f32]) {
            g.copy_from_slice(&self.0[i * g.len()..(i + 1) * g.len()])
        }
    }

    /// A tensor large enough to be shared between threads (and of a length that is no
    /// multiple of the pieces' alignment) gets the same bits on any number of them.
    #[test]
    fn an_update_shared_by_threads_is_the_same_bits_as_on_one() {
        let n = SHARED_MIN + 37;
        let grad = |s: usize| -> Vec<f32> {
            (0..n)
                .map(|i| ((i * 7 + s * 5) % 23) as f32 * 0.01 - 0.11)
                .collect()
        };
        let run = |threads: usize| {
            let mut adam = Adam::new(0.01, &[n]);
            adam.weight_decay = 0.1;
            let mut p: Vec<f32> = (0..n).map(|i| (i % 13) as f32 * 0.1 - 0.6).collect();
            for s in 0..3 {
                let lr_t = adam.begin_step();
                adam.update_shared(0, lr_t, &mut p, &grad(s), Threads::new(threads));
            }
            (p, adam.m, adam.v)
        };
        let one = run(1);
        for threads in [2, 3] {
            assert!(run(threads) == one, "{threads} threads");
        }
    }

    #[test]
    fn updating_row_by_row_is_updating_the_whole_tensor() {
        let grads: Vec<Vec<f32>> = (0..3)
            .map(|s| {
                (0..12)
                    .map(|i| ((i * 7 + s * 5) % 11) as f32 * 0.1 - 0.4)
                    .collect()
            })
            .collect();
        let (mut whole, mut by_rows) = (Adam::new(0.01, &[12]), Adam::new(0.01, &[12]));
        whole.weight_decay = 0.1;
        by_rows.weight_decay = 0.1;
        let (mut p, mut q) = ([0.3f32; 12], [0.3f32; 12]);
        let mut scratch = [0.0f32; 4];
        for g in &grads {
            let lr_t = whole.begin_step();
            whole.update(0, lr_t, &mut p, g);
            let lr_t = by_rows.begin_step();
            by_rows.update_by_rows(0, lr_t, &mut q, &mut scratch, Rows(g));
        }
        assert_eq!(p, q);
        assert_eq!((whole.m, whole.v), (by_rows.m, by_rows.v));
    }

    #[test]
    fn a_moment_that_would_be_subnormal_is_zero() {
        // m = 1.2e-38 (just above the smallest normal) and a zero gradient: b1·m = 1.08e-38
        // is subnormal, so m becomes 0; v stays normal and keeps its b2 decay. The weight
        // moves by lr_t·1.08e-38/(sqrt(v)+eps), far below its last bit, either way.
        let mut adam = Adam::new(1e-3, &[2]);
        adam.m[0] = vec![1.2e-38, 0.5];
        adam.v[0] = vec![1e-6, 1e-6];
        let mut p = [0.25f32, 0.25];
        let lr_t = adam.begin_step();
        adam.update(0, lr_t, &mut p, &[0.0, 0.0]);
        assert_eq!(adam.m[0][0], 0.0);
        assert_eq!(adam.m[0][1], 0.45);
        assert_eq!(adam.v[0], [0.999f32 * 1e-6; 2]);
        assert_eq!(p[0], 0.25);
        // The same through the row-by-row update, and with a subnormal g² in v.
        let mut by_rows = Adam::new(1e-3, &[2]);
        by_rows.m[0] = vec![1.2e-38, 0.0];
        let mut q = [0.25f32, 0.25];
        let lr_t = by_rows.begin_step();
        by_rows.update_by_rows(0, lr_t, &mut q, &mut [0.0; 1], Rows(&[0.0, 1e-19]));
        assert_eq!(by_rows.m[0], [0.0, (1.0 - 0.9f32) * 1e-19]);
        assert_eq!(by_rows.v[0], [0.0, 0.0], "(1-b2)·1e-38 is subnormal");
    }

    #[test]
    fn matches_hand_computed_second_step() {
        // Two steps on one parameter with gradients 1 then 2, computed in f64 by hand:
        let (lr, b1, b2, eps) = (1e-3f64, 0.9f64, 0.999f64, 1e-7f64);
        let (mut p, mut m, mut v) = (0.0f64, 0.0, 0.0);
        for (t, g) in [(1, 1.0f64), (2, 2.0)] {
            m = b1 * m + (1.0 - b1) * g;
            v = b2 * v + (1.0 - b2) * g * g;
            p -= lr * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t)) * m / (v.sqrt() + eps);
        }
        let mut adam = Adam::new(1e-3, &[1]);
        let mut q = [0.0f32];
        for g in [1.0f32, 2.0] {
            let lr_t = adam.begin_step();
            adam.update(0, lr_t, &mut q, &[g]);
        }
        assert!((q[0] as f64 - p).abs() < 1e-8, "{} vs {p}", q[0]);
        assert_eq!(adam.steps(), 2);
    }
}
