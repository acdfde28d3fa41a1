//! Binary cross-entropy losses over `(logits, targets, observed)`, each returning the loss and
//! its gradient with respect to the logits.
//!
//! All take `logits` and `targets` of shape `(n, tasks)` and an `observed` mask of the same
//! shape. `targets` holds 0/1 where observed; what it holds elsewhere (NaN, -1, anything) is
//! never read. The `_into` forms write the gradient into a caller's buffer and allocate nothing.

use crate::fastmath::{exp_nonpositive, ln_1p_unit};
use crate::mlp::sigmoid;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Zip};

/// Keras's `epsilon()`: probabilities are clipped to `[EPS, 1 - EPS]` before the logarithm.
pub const KERAS_EPSILON: f32 = 1e-7;

/// Which loss a training run minimises.
#[derive(Clone, Debug, PartialEq)]
pub enum Loss {
    /// [`masked_bce`], optionally with one positive-class weight per task.
    Masked { pos_weight: Option<Vec<f32>> },
    /// [`seed_masked_bce`]: the original post's masked loss.
    SeedMasked,
    /// [`plain_bce`]: the original post's no-mask baseline, `-1` used as a target.
    Plain,
    /// [`plain_logit_bce`]: the same baseline as TensorFlow computes it for a sigmoid output,
    /// from the logits without clipping.
    PlainLogits,
}

impl Loss {
    /// The masked loss without class weights.
    pub fn masked() -> Self {
        Loss::Masked { pos_weight: None }
    }

    /// Loss value; the gradient with respect to the logits is written to `grad`.
    pub fn loss_and_grad_into(
        &self,
        logits: ArrayView2<f32>,
        targets: ArrayView2<f32>,
        observed: ArrayView2<bool>,
        grad: ArrayViewMut2<f32>,
    ) -> f32 {
        match self {
            Loss::Masked { pos_weight } => {
                masked_bce_into(logits, targets, observed, pos_weight.as_deref(), grad)
            }
            Loss::SeedMasked => seed_masked_bce_into(logits, targets, observed, grad),
            Loss::Plain => plain_bce_into(logits, targets, observed, grad),
            Loss::PlainLogits => plain_logit_bce_into(logits, targets, observed, grad),
        }
    }
}

/// Runs an `_into` loss with a fresh gradient buffer: the allocating forms.
fn with_new_grad(
    dim: (usize, usize),
    loss_into: impl FnOnce(ArrayViewMut2<f32>) -> f32,
) -> (f32, Array2<f32>) {
    let mut grad = Array2::zeros(dim);
    let loss = loss_into(grad.view_mut());
    (loss, grad)
}

fn check_shapes(
    logits: &ArrayView2<f32>,
    targets: &ArrayView2<f32>,
    observed: &ArrayView2<bool>,
    grad: &ArrayViewMut2<f32>,
) {
    assert_eq!(
        logits.dim(),
        targets.dim(),
        "logits and targets differ in shape"
    );
    assert_eq!(
        logits.dim(),
        observed.dim(),
        "logits and observed mask differ in shape"
    );
    assert_eq!(
        logits.dim(),
        grad.dim(),
        "gradient buffer has the wrong shape"
    );
}

/// The masked loss's cells, row-major with `width` tasks: returns the summed loss and writes
/// `scale ×` each cell's gradient.
fn masked_cells(
    z: &[f32],
    y: &[f32],
    o: &[bool],
    g: &mut [f32],
    pos_weight: Option<&[f32]>,
    width: usize,
    scale: f32,
) -> f64 {
    if let Some(weights) = pos_weight {
        let mut total = 0.0f64;
        let rows = z
            .chunks_exact(width)
            .zip(y.chunks_exact(width))
            .zip(o.chunks_exact(width))
            .zip(g.chunks_exact_mut(width));
        for (((z, y), o), g) in rows {
            for j in 0..width {
                let (loss, grad) = masked_cell(z[j], y[j], o[j], weights[j], scale);
                total += loss as f64;
                g[j] = grad;
            }
        }
        return total;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        return unsafe { unweighted_cells_avx2(z, y, o, g, scale) };
    }
    unweighted_cells(z, y, o, g, scale)
}

/// [`unweighted_cells`] compiled for AVX2: eight lanes where the baseline has four. The
/// arithmetic is the same IEEE operations in the same order (Rust never fuses a multiply
/// and an add by itself), so the results are bit-identical (tested).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn unweighted_cells_avx2(
    z: &[f32],
    y: &[f32],
    o: &[bool],
    g: &mut [f32],
    scale: f32,
) -> f64 {
    unweighted_cells(z, y, o, g, scale)
}

/// The masked loss's cells without task weights, as [`masked_cells`].
#[inline(always)]
fn unweighted_cells(z: &[f32], y: &[f32], o: &[bool], g: &mut [f32], scale: f32) -> f64 {
    // Blocks of cells on the stack, each stage a simple loop over the block, so that each
    // loop vectorises on its own.
    const BLOCK: usize = 256;
    let mut total = 0.0f64;
    let (mut zs, mut ys, mut ms, mut es, mut losses) = (
        [0f32; BLOCK],
        [0f32; BLOCK],
        [0f32; BLOCK],
        [0f32; BLOCK],
        [0f32; BLOCK],
    );
    for (((z, y), o), g) in z
        .chunks(BLOCK)
        .zip(y.chunks(BLOCK))
        .zip(o.chunks(BLOCK))
        .zip(g.chunks_mut(BLOCK))
    {
        let n = z.len();
        // An unobserved cell's logit and target never enter the arithmetic: select 0 first.
        for i in 0..n {
            let observed = o[i];
            zs[i] = if observed { z[i] } else { 0.0 };
            ys[i] = if observed { y[i] } else { 0.0 };
            ms[i] = if observed { scale } else { 0.0 };
        }
        for i in 0..n {
            es[i] = exp_nonpositive(-zs[i].abs());
        }
        for i in 0..n {
            let (z, y, e) = (zs[i], ys[i], es[i]);
            let log1p_e = ln_1p_unit(e);
            let inv = 1.0 / (1.0 + e);
            let p = if z >= 0.0 { inv } else { e * inv };
            // `max` and `exp_nonpositive` swallow a NaN; `z - z` (0, or NaN for a NaN or
            // infinite logit) puts it back, so a diverged network cannot report a finite loss.
            #[allow(clippy::eq_op)] // deliberately z - z: NaN for a NaN or infinite z
            let poison = z - z;
            // softplus(±z) = max(±z, 0) + ln(1 + e^-|z|).
            losses[i] = (y * ((-z).max(0.0) + log1p_e) + (1.0 - y) * (z.max(0.0) + log1p_e))
                * ms[i]
                + poison;
            g[i] = (p - y) * ms[i] + poison;
        }
        let mut lanes = [0f32; 8];
        for chunk in losses[..n].chunks(8) {
            for (acc, &v) in lanes.iter_mut().zip(chunk) {
                *acc += v;
            }
        }
        total += lanes.iter().map(|&v| v as f64).sum::<f64>();
    }
    // The losses were scaled to keep the loop uniform; the caller divides the sum itself.
    total / scale as f64
}

/// One cell of the masked loss: `(loss, scale × d loss / dz)`, both 0 when unobserved.
#[inline(always)]
fn masked_cell(z: f32, y: f32, observed: bool, w: f32, scale: f32) -> (f32, f32) {
    // An unobserved cell's target never enters the arithmetic: select 0 first.
    let y = if observed { y } else { 0.0 };
    let z = if observed { z } else { 0.0 };
    #[allow(clippy::eq_op)] // deliberately z - z: NaN for a NaN or infinite logit
    let poison = z - z; // which `max` would swallow
                        // One exponential serves loss and gradient: softplus(±z) = max(±z, 0) + ln(1 + e^-|z|)
                        // and σ(z) from the same e^-|z|.
    let e = exp_nonpositive(-z.abs());
    let log1p_e = ln_1p_unit(e);
    let (sp_pos, sp_neg) = (z.max(0.0) + log1p_e, (-z).max(0.0) + log1p_e);
    let inv = 1.0 / (1.0 + e);
    let p = if z >= 0.0 { inv } else { e * inv };
    let loss = w * y * sp_neg + (1.0 - y) * sp_pos;
    let grad = (w * y * (p - 1.0) + (1.0 - y) * p) * scale;
    if observed {
        (loss + poison, grad + poison)
    } else {
        (0.0, 0.0)
    }
}

/// Binary cross-entropy over the observed cells only, divided by their number.
///
/// Per observed cell with logit `z`, label `y` and task weight `w` (1 without weights):
/// `w·y·softplus(-z) + (1-y)·softplus(z)`, the stable form of
/// `-(w·y·log σ(z) + (1-y)·log(1-σ(z)))`. A batch with no observed cell has loss 0 and a zero
/// gradient.
///
/// # Panics
/// If shapes differ or `pos_weight` is not one weight per task.
pub fn masked_bce(
    logits: ArrayView2<f32>,
    targets: ArrayView2<f32>,
    observed: ArrayView2<bool>,
    pos_weight: Option<&[f32]>,
) -> (f32, Array2<f32>) {
    with_new_grad(logits.dim(), |grad| {
        masked_bce_into(logits, targets, observed, pos_weight, grad)
    })
}

/// [`masked_bce`] writing the gradient into `grad`.
pub fn masked_bce_into(
    logits: ArrayView2<f32>,
    targets: ArrayView2<f32>,
    observed: ArrayView2<bool>,
    pos_weight: Option<&[f32]>,
    mut grad: ArrayViewMut2<f32>,
) -> f32 {
    check_shapes(&logits, &targets, &observed, &grad);
    if let Some(w) = pos_weight {
        assert_eq!(w.len(), logits.ncols(), "one positive weight per task");
    }
    let n_observed = observed.iter().filter(|&&o| o).count();
    if n_observed == 0 {
        grad.fill(0.0);
        return 0.0;
    }
    let scale = 1.0 / n_observed as f32;
    let total = match (
        logits.as_slice(),
        targets.as_slice(),
        observed.as_slice(),
        grad.as_slice_mut(),
    ) {
        (Some(z), Some(y), Some(o), Some(g)) => {
            masked_cells(z, y, o, g, pos_weight, logits.ncols(), scale)
        }
        _ => {
            // Views that are not row-major blocks: the same arithmetic, one row at a time.
            let mut total = 0.0;
            let rows = logits
                .rows()
                .into_iter()
                .zip(targets.rows())
                .zip(observed.rows())
                .zip(grad.rows_mut());
            for (((z, y), o), mut g) in rows {
                let (z, y, o) = (z.to_vec(), y.to_vec(), o.to_vec());
                let mut g_row = vec![0.0; z.len()];
                total += masked_cells(&z, &y, &o, &mut g_row, pos_weight, z.len(), scale);
                g.assign(&ndarray::ArrayView1::from(&g_row));
            }
            total
        }
    };
    (total / n_observed as f64) as f32
}

/// The original post's masked loss, `BCE(y·m, σ(z)·m)` with Keras's clipping, averaged over
/// **all** cells: an unobserved cell contributes the constant `-log(1 - 1e-7)` and no gradient.
pub fn seed_masked_bce(
    logits: ArrayView2<f32>,
    targets: ArrayView2<f32>,
    observed: ArrayView2<bool>,
) -> (f32, Array2<f32>) {
    with_new_grad(logits.dim(), |grad| {
        seed_masked_bce_into(logits, targets, observed, grad)
    })
}

/// [`seed_masked_bce`] writing the gradient into `grad`.
pub fn seed_masked_bce_into(
    logits: ArrayView2<f32>,
    targets: ArrayView2<f32>,
    observed: ArrayView2<bool>,
    grad: ArrayViewMut2<f32>,
) -> f32 {
    // Unobserved: target y·m = 0 and prediction σ(z)·m = 0, which clipping turns into EPS.
    clipped_bce_into(logits, targets, observed, grad, false)
}

/// The original post's baseline without a mask: Keras's clipped binary cross-entropy averaged
/// over all cells, with an unobserved label entering the arithmetic as the target `-1`.
pub fn plain_bce(
    logits: ArrayView2<f32>,
    targets: ArrayView2<f32>,
    observed: ArrayView2<bool>,
) -> (f32, Array2<f32>) {
    with_new_grad(logits.dim(), |grad| {
        plain_bce_into(logits, targets, observed, grad)
    })
}

/// [`plain_bce`] writing the gradient into `grad`.
pub fn plain_bce_into(
    logits: ArrayView2<f32>,
    targets: ArrayView2<f32>,
    observed: ArrayView2<bool>,
    grad: ArrayViewMut2<f32>,
) -> f32 {
    clipped_bce_into(logits, targets, observed, grad, true)
}

/// The no-mask baseline as TensorFlow's Keras computes `binary_crossentropy` when the
/// prediction comes straight from a sigmoid layer: it takes the layer's logits and calls
/// `sigmoid_cross_entropy_with_logits`, `max(z, 0) - z·t + ln(1 + e^-|z|)`, with no clipping.
/// With `t = -1` that is `max(z, 0) + z + ln(1 + e^-|z|)`, which has no lower bound: its
/// gradient `σ(z) + 1` never vanishes, so every missing label keeps pushing its logit down.
/// Averaged over all cells.
pub fn plain_logit_bce(
    logits: ArrayView2<f32>,
    targets: ArrayView2<f32>,
    observed: ArrayView2<bool>,
) -> (f32, Array2<f32>) {
    with_new_grad(logits.dim(), |grad| {
        plain_logit_bce_into(logits, targets, observed, grad)
    })
}

/// [`plain_logit_bce`] writing the gradient into `grad`.
pub fn plain_logit_bce_into(
    logits: ArrayView2<f32>,
    targets: ArrayView2<f32>,
    observed: ArrayView2<bool>,
    mut grad: ArrayViewMut2<f32>,
) -> f32 {
    check_shapes(&logits, &targets, &observed, &grad);
    let cells = logits.len();
    if cells == 0 {
        return 0.0;
    }
    let scale = 1.0 / cells as f32;
    let mut total = 0.0f64;
    Zip::from(&mut grad)
        .and(&logits)
        .and(&targets)
        .and(&observed)
        .for_each(|g, &z, &y, &o| {
            let t = if o { y } else { -1.0 };
            total += (z.max(0.0) - z * t + (-z.abs()).exp().ln_1p()) as f64;
            *g = (sigmoid(z) - t) * scale;
        });
    (total / cells as f64) as f32
}

/// Keras's `binary_crossentropy` on probabilities: `p` clipped to `[EPS, 1-EPS]`, then
/// `-(t·ln p + (1-t)·ln(1-p))`, mean over all cells. The gradient flows only where `p` lies
/// inside the clipping range (as `clip_by_value`'s does), and is then `(p - t)/cells`.
/// An unobserved cell is either a real prediction against the target `-1`
/// (`minus_one_as_target`, the plain baseline) or, as the post's mask makes it, the target 0
/// against a constant prediction 0 (clipped to EPS) that carries no gradient.
fn clipped_bce_into(
    logits: ArrayView2<f32>,
    targets: ArrayView2<f32>,
    observed: ArrayView2<bool>,
    mut grad: ArrayViewMut2<f32>,
    minus_one_as_target: bool,
) -> f32 {
    check_shapes(&logits, &targets, &observed, &grad);
    let cells = logits.len();
    if cells == 0 {
        return 0.0;
    }
    let scale = 1.0 / cells as f32;
    let mut total = 0.0f64;
    Zip::from(&mut grad)
        .and(&logits)
        .and(&targets)
        .and(&observed)
        .for_each(|g, &z, &y, &o| {
            let (t, p) = match (o, minus_one_as_target) {
                (true, _) => (y, Some(sigmoid(z))),
                (false, true) => (-1.0, Some(sigmoid(z))),
                (false, false) => (0.0, None),
            };
            let raw = p.unwrap_or(0.0);
            let clipped = raw.clamp(KERAS_EPSILON, 1.0 - KERAS_EPSILON);
            let (t64, c64) = (t as f64, clipped as f64);
            total -= t64 * c64.ln() + (1.0 - t64) * (1.0 - c64).ln();
            let flows = p.is_some() && raw == clipped;
            *g = if flows { (raw - t) * scale } else { 0.0 };
        });
    (total / cells as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Plain BCE on 0/1 targets, straight from the definition in f64.
    fn reference_bce(z: &[f32], y: &[f32]) -> f64 {
        let n = z.len() as f64;
        z.iter()
            .zip(y)
            .map(|(&z, &y)| {
                let p = 1.0 / (1.0 + (-(z as f64)).exp());
                -(y as f64 * p.ln() + (1.0 - y as f64) * (1.0 - p).ln())
            })
            .sum::<f64>()
            / n
    }

    #[test]
    fn masked_with_nothing_missing_is_plain_bce() {
        let z = array![[0.3f32, -1.2, 2.0], [-0.4, 0.9, -3.0]];
        let y = array![[1.0f32, 0.0, 1.0], [0.0, 0.0, 1.0]];
        let all = Array2::from_elem(z.dim(), true);
        let (loss, grad) = masked_bce(z.view(), y.view(), all.view(), None);
        let expected = reference_bce(z.as_slice().unwrap(), y.as_slice().unwrap());
        assert!(
            (loss as f64 - expected).abs() < 1e-6,
            "{loss} vs {expected}"
        );
        // d/dz of the mean is (σ(z) - y) / cells.
        for ((g, &z), &y) in grad.iter().zip(&z).zip(&y) {
            assert!((g - (sigmoid(z) - y) / 6.0).abs() < 1e-7);
        }
        // Clipping never bites at these logits, so the post's losses agree as well.
        let (seed, seed_grad) = seed_masked_bce(z.view(), y.view(), all.view());
        let (plain, _) = plain_bce(z.view(), y.view(), all.view());
        assert!((seed as f64 - expected).abs() < 1e-6 && (plain as f64 - expected).abs() < 1e-6);
        assert!(seed_grad
            .iter()
            .zip(&grad)
            .all(|(a, b)| (a - b).abs() < 1e-7));
    }

    #[test]
    fn the_avx2_build_of_the_masked_loss_is_bit_identical_to_the_baseline() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            use rand::{Rng, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
            let n = 3 * 1000 + 7;
            let z: Vec<f32> = (0..n).map(|_| rng.random_range(-30.0f32..30.0)).collect();
            let y: Vec<f32> = (0..n).map(|_| rng.random_range(0..2u8) as f32).collect();
            let o: Vec<bool> = (0..n).map(|_| rng.random::<f32>() > 0.3).collect();
            let (mut g1, mut g2) = (vec![0.0; n], vec![0.0; n]);
            let base = unweighted_cells(&z, &y, &o, &mut g1, 0.01);
            // SAFETY: checked above.
            let wide = unsafe { unweighted_cells_avx2(&z, &y, &o, &mut g2, 0.01) };
            assert_eq!(base.to_bits(), wide.to_bits());
            assert!(g1.iter().zip(&g2).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    }

    #[test]
    fn hand_computed_masked_value() {
        // Observed cells: z=0,y=1 -> ln 2; z=ln 3,y=0 -> ln(1+3) = ln 4. Mean = (ln2+ln4)/2.
        let z = array![[0.0f32, 3f32.ln()]];
        let y = array![[1.0f32, 0.0]];
        let obs = array![[true, true]];
        let (loss, grad) = masked_bce(z.view(), y.view(), obs.view(), None);
        assert!((loss - (2f32.ln() + 4f32.ln()) / 2.0).abs() < 1e-6);
        assert!((grad[[0, 0]] - (-0.5 / 2.0)).abs() < 1e-7);
        assert!((grad[[0, 1]] - (0.75 / 2.0)).abs() < 1e-7);
        // A positive weight of 3 on the first task triples its positive term.
        let (weighted, wgrad) = masked_bce(z.view(), y.view(), obs.view(), Some(&[3.0, 1.0]));
        assert!((weighted - (3.0 * 2f32.ln() + 4f32.ln()) / 2.0).abs() < 1e-6);
        assert!((wgrad[[0, 0]] - 3.0 * -0.5 / 2.0).abs() < 1e-7);
    }

    #[test]
    fn masked_ignores_added_unobserved_cells_whatever_they_hold() {
        let z = array![[0.5f32, -0.7], [1.5, 0.2]];
        let y = array![[1.0f32, 0.0], [0.0, 1.0]];
        let obs = array![[true, true], [true, true]];
        let (base, base_grad) = masked_bce(z.view(), y.view(), obs.view(), None);
        // Add a column and a row of unobserved cells holding NaN, -1 and a huge logit.
        let z2 = array![
            [0.5f32, -0.7, 80.0],
            [1.5, 0.2, -3.0],
            [f32::NAN, 1e30, 0.0]
        ];
        let y2 = array![
            [1.0f32, 0.0, f32::NAN],
            [0.0, 1.0, -1.0],
            [-1.0, f32::NAN, 7.0]
        ];
        let obs2 = array![
            [true, true, false],
            [true, true, false],
            [false, false, false]
        ];
        let (loss, grad) = masked_bce(z2.view(), y2.view(), obs2.view(), None);
        assert_eq!(loss, base);
        for i in 0..2 {
            for j in 0..2 {
                assert_eq!(grad[[i, j]], base_grad[[i, j]]);
            }
        }
        assert!(grad.iter().all(|g| g.is_finite()));
        assert_eq!(grad[[2, 0]], 0.0);
        assert_eq!(grad[[0, 2]], 0.0);
    }

    #[test]
    fn all_masked_batch_has_zero_loss_and_gradient() {
        let z = array![[1.0f32, f32::NAN], [-2.0, 3.0]];
        let y = array![[f32::NAN, -1.0], [-1.0, f32::NAN]];
        let none = Array2::from_elem(z.dim(), false);
        let (loss, grad) = masked_bce(z.view(), y.view(), none.view(), None);
        assert_eq!(loss, 0.0);
        assert!(grad.iter().all(|&g| g == 0.0));
        let empty = Array2::<f32>::zeros((0, 3));
        let (loss, _) = masked_bce(
            empty.view(),
            empty.view(),
            Array2::from_elem((0, 3), false).view(),
            None,
        );
        assert_eq!(loss, 0.0);
    }

    #[test]
    fn a_non_finite_observed_logit_gives_a_non_finite_loss() {
        // Regression: the fast masked loss once turned a NaN logit into a finite loss of 0.
        let y = array![[1.0f32, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]];
        let obs = Array2::from_elem((1, 9), true);
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut z = Array2::zeros((1, 9));
            z[[0, 4]] = bad;
            for w in [None, Some(&[1.0f32; 9][..])] {
                let (loss, grad) = masked_bce(z.view(), y.view(), obs.view(), w);
                assert!(
                    !loss.is_finite() && !grad[[0, 4]].is_finite(),
                    "{bad} {w:?}: {loss}"
                );
            }
            assert!(
                !seed_masked_bce(z.view(), y.view(), obs.view())
                    .0
                    .is_finite()
                    || bad.is_infinite()
            );
            // An unobserved non-finite logit is ignored by the masked loss.
            let (loss, _) = masked_bce(
                z.view(),
                y.view(),
                Array2::from_shape_fn((1, 9), |(_, j)| j != 4).view(),
                None,
            );
            assert!(loss.is_finite());
        }
    }

    #[test]
    fn plain_from_logits_is_unbounded_below_for_missing_labels() {
        // z = 0, t = -1: 0 + 0 + ln 2; gradient σ(0) + 1 = 1.5.
        let (loss, grad) = plain_logit_bce(
            array![[0.0f32]].view(),
            array![[f32::NAN]].view(),
            array![[false]].view(),
        );
        assert!((loss - 2f32.ln()).abs() < 1e-6);
        assert!((grad[[0, 0]] - 1.5).abs() < 1e-7);
        // Far below: loss ≈ z, gradient still 1.
        let (loss, grad) = plain_logit_bce(
            array![[-50.0f32]].view(),
            array![[0.0f32]].view(),
            array![[false]].view(),
        );
        assert!((loss + 50.0).abs() < 1e-4 && (grad[[0, 0]] - 1.0).abs() < 1e-6);
        // On observed 0/1 targets it is ordinary BCE.
        let z = array![[0.3f32, -1.2]];
        let y = array![[1.0f32, 0.0]];
        let all = array![[true, true]];
        let (a, _) = plain_logit_bce(z.view(), y.view(), all.view());
        let (b, _) = masked_bce(z.view(), y.view(), all.view(), None);
        assert!((a - b).abs() < 1e-6);
    }

    #[test]
    fn plain_uses_minus_one_as_target() {
        // One unobserved cell at z = 0: p = 1/2, target -1: -(-ln ½ + 2 ln ½) = -ln ½ = ln 2;
        // gradient (p - t) = 1.5.
        let z = array![[0.0f32]];
        let y = array![[f32::NAN]];
        let (loss, grad) = plain_bce(z.view(), y.view(), array![[false]].view());
        assert!((loss - 2f32.ln()).abs() < 1e-6);
        assert!((grad[[0, 0]] - 1.5).abs() < 1e-7);
    }

    #[test]
    fn seed_masked_counts_masked_cells_in_the_mean_with_a_constant() {
        // Two cells, one observed (z = 0, y = 1 -> ln 2), one masked (-ln(1 - 1e-7) in f32).
        let z = array![[0.0f32, 5.0]];
        let y = array![[1.0f32, -1.0]];
        let (loss, grad) = seed_masked_bce(z.view(), y.view(), array![[true, false]].view());
        let masked_const = -((1.0 - KERAS_EPSILON) as f64).ln();
        let expected = (2f64.ln() + masked_const) / 2.0;
        assert!((loss as f64 - expected).abs() < 1e-7);
        assert!((grad[[0, 0]] - (-0.5 / 2.0)).abs() < 1e-7);
        assert_eq!(grad[[0, 1]], 0.0);
    }

    #[test]
    fn clipping_stops_the_gradient_and_bounds_the_loss() {
        // σ(40) rounds to 1 in f32: clipped to 1 - 1e-7, loss -ln(1e-7) for target 0, no gradient.
        let z = array![[40.0f32]];
        let y = array![[0.0f32]];
        let (loss, grad) = plain_bce(z.view(), y.view(), array![[true]].view());
        let expected = -(1.0 - (1.0 - KERAS_EPSILON) as f64).ln();
        assert!(
            (loss as f64 - expected).abs() < 1e-3,
            "{loss} vs {expected}"
        );
        assert_eq!(grad[[0, 0]], 0.0);
        // The stable masked form has no such ceiling: ~40 and a full gradient.
        let (masked, mgrad) = masked_bce(z.view(), y.view(), array![[true]].view(), None);
        assert!((masked - 40.0).abs() < 1e-4);
        assert!((mgrad[[0, 0]] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn loss_enum_computes_each_loss_as_computed_by_hand() {
        // One row, z = [0.2, -0.3], y0 = 1 observed, y1 unobserved. By hand (f64):
        // σ(0.2) = 0.549834, σ(-0.3) = 0.425557;
        // observed cell: -ln σ(0.2) = ln(1 + e^-0.2) = 0.598139, gradient σ(0.2) - 1.
        // masked: the mean over the one observed cell.
        // seed-masked: (0.598139 - ln(1 - 1e-7)) / 2.
        // plain (target -1, clipped probabilities): ln p - 2 ln(1 - p) at p = σ(-0.3)
        //   = -0.854355 + 2 · 0.554355 = 0.254355; mean (0.598139 + 0.254355) / 2;
        //   its gradient in z is (p - y)/2 = (0.425557 + 1) / 2.
        // plain-logits: max(z,0) - z·y + ln(1 + e^-|z|) = -0.3 + 0.854355 = 0.554355.
        let z = array![[0.2f32, -0.3]];
        let y = array![[1.0f32, f32::NAN]];
        let obs = array![[true, false]];
        let (s0, s1) = (1.0 / (1.0 + (-0.2f64).exp()), 1.0 / (1.0 + 0.3f64.exp()));
        let cell0 = (1.0 + (-0.2f64).exp()).ln();
        let plain1 = s1.ln() - 2.0 * (1.0 - s1).ln();
        let logit1 = -0.3 + (1.0 + (-0.3f64).exp()).ln();
        let cases: [(Loss, f64, [f64; 2]); 4] = [
            (Loss::masked(), cell0, [s0 - 1.0, 0.0]),
            (
                Loss::SeedMasked,
                (cell0 - (1.0 - 1e-7f32 as f64).ln()) / 2.0,
                [(s0 - 1.0) / 2.0, 0.0],
            ),
            (
                Loss::Plain,
                (cell0 + plain1) / 2.0,
                [(s0 - 1.0) / 2.0, (s1 + 1.0) / 2.0],
            ),
            (
                Loss::PlainLogits,
                (cell0 + logit1) / 2.0,
                [(s0 - 1.0) / 2.0, (s1 + 1.0) / 2.0],
            ),
        ];
        assert!((cell0 - 0.598139).abs() < 1e-6 && (plain1 - 0.254355).abs() < 1e-6);
        for (loss, value, grad) in cases {
            let mut g = Array2::zeros((1, 2));
            let got = loss.loss_and_grad_into(z.view(), y.view(), obs.view(), g.view_mut());
            assert!(
                (got as f64 - value).abs() < 1e-6,
                "{loss:?}: {got} vs {value}"
            );
            for (k, want) in grad.iter().enumerate() {
                assert!(
                    (g[[0, k]] as f64 - want).abs() < 1e-6,
                    "{loss:?} grad {k}: {} vs {want}",
                    g[[0, k]]
                );
            }
        }
    }
}
