//! Adam with the Keras defaults, and decoupled weight decay (AdamW, Loshchilov & Hutter
//! 2019) as Keras 3 applies it.

/// Adam state for a fixed list of parameter tensors, each seen as a flat slice.
///
/// Keras's update (the "epsilon hat" form): with `t` the 1-based step,
/// `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g²`,
/// `p -= lr · sqrt(1-b2^t)/(1-b1^t) · m / (sqrt(v) + eps)`.
///
/// With a weight decay `wd > 0` (AdamW), every parameter first shrinks by `lr · wd` of
/// itself, outside the gradient's moments, as Keras 3's `AdamW` does (biases included).
///
/// Rows of one tensor may lag ([`Adam::start_lagging`]): a row whose gradient is zero in a
/// step is left as it is, and the steps it missed are replayed, with a zero gradient, when
/// it is next read ([`Adam::catch_up`]). Each value goes through the same operations in the
/// same order as if it were updated every step, so the bits are the same; the row's
/// weights and moments are read from memory once for all the steps it missed.
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
    /// The bias-corrected learning rate of every step begun: `rates[t - 1]` for step `t`.
    rates: Vec<f32>,
    lagging: Option<Lagging>,
}

/// The tensor whose rows may lag, and the last step applied to each row.
#[derive(Clone, Debug)]
struct Lagging {
    index: usize,
    row_len: usize,
    through: Vec<i32>,
    /// A zero gradient row, for the steps replayed.
    zeros: Vec<f32>,
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
            rates: Vec::new(),
            lagging: None,
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
        let lr_t = (self.lr as f64 * correction) as f32;
        self.rates.push(lr_t);
        lr_t
    }

    /// Updates parameter tensor `index` in place from its gradient.
    ///
    /// # Panics
    /// If `index` is the lagging tensor and some row of it lags (catch it up first).
    pub fn update(&mut self, index: usize, lr_t: f32, param: &mut [f32], grad: &[f32]) {
        self.all_rows_step(index);
        let rule = self.rule(lr_t);
        let (m, v) = (&mut self.m[index], &mut self.v[index]);
        assert!(
            param.len() == m.len() && grad.len() == m.len(),
            "tensor {index} changed size"
        );
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, which is all the function enables.
            return unsafe { update_avx2(rule, param, grad, m, v) };
        }
        update(rule, param, grad, m, v)
    }

    /// [`Adam::update`] of tensor `index`, a matrix of rows `g.len()` long, with each row's
    /// gradient made only when its turn comes: `grads.row(i, g)` writes row `i`'s into `g`
    /// (scratch). The same arithmetic on every value as [`Adam::update`] from the whole
    /// gradient, so the same bits, without the gradient ever being stored.
    ///
    /// # Panics
    /// As [`Adam::update`].
    pub fn update_by_rows(
        &mut self,
        index: usize,
        lr_t: f32,
        param: &mut [f32],
        g: &mut [f32],
        grad_row: impl RowGradients,
    ) {
        self.all_rows_step(index);
        let rule = self.rule(lr_t);
        let (m, v) = (&mut self.m[index], &mut self.v[index]);
        let row_len = g.len();
        assert!(
            param.len() == m.len() && row_len > 0 && param.len().is_multiple_of(row_len),
            "tensor {index} changed size"
        );
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, which is all the function enables.
            return unsafe { update_by_rows_avx2(rule, param, g, m, v, grad_row) };
        }
        update_by_rows(rule, param, g, m, v, grad_row)
    }

    /// Lets the rows of tensor `index`, a matrix of rows `row_len` long, lag: from now on
    /// [`Adam::update_rows`] updates only the rows it is given, and [`Adam::catch_up`]
    /// brings rows up to date, until [`Adam::stop_lagging`].
    pub fn start_lagging(&mut self, index: usize, row_len: usize) {
        let len = self.m[index].len();
        assert!(
            row_len > 0 && len.is_multiple_of(row_len),
            "tensor {index} is not made of rows {row_len} long"
        );
        self.lagging = Some(Lagging {
            index,
            row_len,
            through: vec![self.t; len / row_len],
            zeros: vec![0.0; row_len],
        });
    }

    /// Whether some tensor's rows may lag.
    pub fn is_lagging(&self) -> bool {
        self.lagging.is_some()
    }

    /// Replays on rows `rows` of the lagging tensor (`param`) the steps each has missed, with
    /// a zero gradient, so that they are up to date with the last step begun.
    pub fn catch_up(&mut self, param: &mut [f32], rows: impl Iterator<Item = usize>) {
        let Some(lag) = self.lagging.as_mut() else {
            return;
        };
        let rule = Rule {
            b1: self.beta1,
            b2: self.beta2,
            eps: self.epsilon,
            decay: self.lr * self.weight_decay,
            lr_t: 0.0,
        };
        let Lagging {
            index,
            row_len: k,
            through,
            zeros,
        } = lag;
        let (m, v) = (&mut self.m[*index], &mut self.v[*index]);
        for i in rows {
            let missed = &self.rates[through[i] as usize..self.t as usize];
            through[i] = self.t;
            if missed.is_empty() {
                continue;
            }
            let span = i * *k..(i + 1) * *k;
            let (p, m, v) = (&mut param[span.clone()], &mut m[span.clone()], &mut v[span]);
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, which is all the function enables.
                unsafe { replay_avx2(rule, missed, p, zeros, m, v) };
                continue;
            }
            replay(rule, missed, p, zeros, m, v);
        }
    }

    /// Catches every row of the lagging tensor up ([`Adam::catch_up`]) and stops letting
    /// them lag.
    pub fn stop_lagging(&mut self, param: &mut [f32]) {
        if let Some(lag) = &self.lagging {
            let rows = lag.through.len();
            self.catch_up(param, 0..rows);
            self.lagging = None;
        }
    }

    /// [`Adam::update_by_rows`] of the lagging tensor, of rows `rows` only (each up to date
    /// until this step, [`Adam::catch_up`]); the others lag behind by this step. Rows left
    /// out must have a zero gradient in this step, for their replay to be this update.
    pub fn update_rows(
        &mut self,
        lr_t: f32,
        param: &mut [f32],
        g: &mut [f32],
        grad_row: impl RowGradients,
        rows: impl Iterator<Item = usize>,
    ) {
        let rule = self.rule(lr_t);
        let lag = self.lagging.as_mut().expect("a tensor lags");
        assert_eq!(g.len(), lag.row_len, "rows of another length");
        let (m, v) = (&mut self.m[lag.index], &mut self.v[lag.index]);
        let rows = rows.inspect(|&i| {
            assert_eq!(lag.through[i], self.t - 1, "row {i} lags: catch it up first");
            lag.through[i] = self.t;
        });
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, which is all the function enables.
            return unsafe { update_some_rows_avx2(rule, param, g, m, v, grad_row, rows) };
        }
        update_some_rows(rule, param, g, m, v, grad_row, rows)
    }

    /// Records that every row of tensor `index` takes this step, when it is the lagging
    /// tensor, whose rows must then all be up to date.
    fn all_rows_step(&mut self, index: usize) {
        if let Some(lag) = self.lagging.as_mut().filter(|l| l.index == index) {
            assert!(
                lag.through.iter().all(|&s| s == self.t - 1),
                "rows of tensor {index} lag: catch them up before a whole update"
            );
            lag.through.fill(self.t);
        }
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

/// [`update_some_rows`] compiled for AVX2 (the same bits, as [`update_avx2`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_some_rows_avx2(
    rule: Rule,
    param: &mut [f32],
    g: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    grad_row: impl RowGradients,
    rows: impl Iterator<Item = usize>,
) {
    update_some_rows(rule, param, g, m, v, grad_row, rows)
}

/// [`update_by_rows`] of rows `rows` only.
#[inline(always)]
fn update_some_rows(
    rule: Rule,
    param: &mut [f32],
    g: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    mut grad_row: impl RowGradients,
    rows: impl Iterator<Item = usize>,
) {
    let k = g.len();
    for i in rows {
        let span = i * k..(i + 1) * k;
        grad_row.row(i, g);
        update(rule, &mut param[span.clone()], g, &mut m[span.clone()], &mut v[span]);
    }
}

/// [`replay`] compiled for AVX2 (the same bits, as [`update_avx2`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn replay_avx2(
    rule: Rule,
    rates: &[f32],
    param: &mut [f32],
    zeros: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    replay(rule, rates, param, zeros, m, v)
}

/// The steps of learning rates `rates`, in order, with a zero gradient.
#[inline(always)]
fn replay(
    rule: Rule,
    rates: &[f32],
    param: &mut [f32],
    zeros: &[f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    for &lr_t in rates {
        update(Rule { lr_t, ..rule }, param, zeros, m, v);
    }
}

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
        *m = b1 * *m + (1.0 - b1) * g;
        *v = b2 * *v + (1.0 - b2) * g * g;
        *p -= lr_t * *m / (v.sqrt() + eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn lagging_rows_caught_up_are_rows_updated_every_step() {
        // 4 rows of 3; in each step some rows have a zero gradient and, lagging, are
        // skipped; each is caught up before it is updated again, and all at the end.
        let present: [&[usize]; 5] = [&[0, 1, 2, 3], &[1], &[], &[1, 3], &[0]];
        let (mut eager, mut lazy) = (Adam::new(0.01, &[12]), Adam::new(0.01, &[12]));
        eager.weight_decay = 0.1;
        lazy.weight_decay = 0.1;
        lazy.start_lagging(0, 3);
        let (mut p, mut q) = ([0.3f32; 12], [0.3f32; 12]);
        let mut scratch = [0.0f32; 3];
        for (s, rows) in present.iter().enumerate() {
            let g: Vec<f32> = (0..12)
                .map(|i| match rows.contains(&(i / 3)) {
                    true => ((i * 7 + s * 5) % 11) as f32 * 0.1 - 0.4,
                    false => 0.0,
                })
                .collect();
            let lr_t = eager.begin_step();
            eager.update(0, lr_t, &mut p, &g);
            lazy.catch_up(&mut q, rows.iter().copied());
            let lr_t = lazy.begin_step();
            lazy.update_rows(lr_t, &mut q, &mut scratch, Rows(&g), rows.iter().copied());
        }
        // Row 2 was last updated in the first step: it lags by four.
        assert_ne!(p[6..9], q[6..9]);
        lazy.stop_lagging(&mut q);
        assert!(!lazy.is_lagging());
        assert_eq!(p, q);
        assert_eq!((eager.m, eager.v), (lazy.m, lazy.v));
    }

    #[test]
    #[should_panic(expected = "lag")]
    fn a_whole_update_of_lagging_rows_is_refused() {
        let mut adam = Adam::new(0.01, &[4]);
        adam.start_lagging(0, 2);
        let mut p = [0.5f32; 4];
        let mut scratch = [0.0f32; 2];
        let lr_t = adam.begin_step();
        adam.update_rows(lr_t, &mut p, &mut scratch, Rows(&[1.0; 4]), [0].into_iter());
        let lr_t = adam.begin_step();
        adam.update(0, lr_t, &mut p, &[1.0; 4]);
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
