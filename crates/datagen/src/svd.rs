//! Truncated SVD by randomized range finding (Halko, Martinsson and Tropp, 2011), on
//! ndarray-linalg's LAPACK QR and SVD.

use ndarray::{s, Array1, Array2, ArrayView2};
use ndarray_linalg::{QR, SVD};
use rand::Rng;

/// The top right-singular vectors of a training matrix, to project any rows onto.
#[derive(Clone, Debug)]
pub struct TruncatedSvd {
    /// `(k, d)`: the top `k` right-singular vectors as rows.
    pub components: Array2<f32>,
    /// The top `k` singular values, largest first.
    pub singular_values: Array1<f32>,
}

const OVERSAMPLE: usize = 10;
const POWER_ITERATIONS: usize = 4;

impl TruncatedSvd {
    /// Fits `k` components of `x` (`n × d`, not centred, as scikit-learn's TruncatedSVD).
    /// `k` is capped at `min(n, d)`. The random test matrix is drawn from `rng`.
    pub fn fit(x: ArrayView2<f32>, k: usize, rng: &mut impl Rng) -> Self {
        let (n, d) = x.dim();
        let k = k.min(n).min(d);
        let l = (k + OVERSAMPLE).min(n).min(d);
        if l == 0 {
            return TruncatedSvd {
                components: Array2::zeros((0, d)),
                singular_values: Array1::zeros(0),
            };
        }
        let omega = Array2::from_shape_simple_fn((d, l), || rng.random_range(-1.0f32..1.0));
        let mut q = orthonormal(x.dot(&omega));
        for _ in 0..POWER_ITERATIONS {
            let z = orthonormal(x.t().dot(&q));
            q = orthonormal(x.dot(&z));
        }
        let b = q.t().dot(&x); // l × d
        let (_, sigma, vt) = b
            .svd(false, true)
            .expect("LAPACK SVD of a small dense matrix");
        let vt = vt.expect("asked for V^T");
        TruncatedSvd {
            components: vt.slice(s![..k, ..]).to_owned(),
            singular_values: sigma.slice(s![..k]).to_owned(),
        }
    }

    /// Projects rows of `x` (`m × d`) onto the components: `m × k`.
    pub fn transform(&self, x: ArrayView2<f32>) -> Array2<f32> {
        x.dot(&self.components.t())
    }
}

/// An orthonormal basis of the columns of `y` (thin QR).
fn orthonormal(y: Array2<f32>) -> Array2<f32> {
    let cols = y.ncols().min(y.nrows());
    let (q, _) = y.qr().expect("LAPACK QR");
    q.slice(s![.., ..cols]).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn matches_exact_svd_on_a_low_rank_matrix() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // Rank 5 signal with singular values well apart, plus small noise.
        let (n, d, r) = (300, 80, 5);
        let u = orthonormal(Array2::from_shape_simple_fn((n, r), || {
            rng.random_range(-1.0f32..1.0)
        }));
        let v = orthonormal(Array2::from_shape_simple_fn((d, r), || {
            rng.random_range(-1.0f32..1.0)
        }));
        let sig = Array2::from_diag(&Array1::from(vec![50.0f32, 30.0, 20.0, 10.0, 5.0]));
        let noise = Array2::from_shape_simple_fn((n, d), || rng.random_range(-0.01f32..0.01));
        let x = u.dot(&sig).dot(&v.t()) + noise;
        let (_, exact, _) = x.svd(false, false).unwrap();
        let fit = TruncatedSvd::fit(x.view(), 3, &mut rng);
        for i in 0..3 {
            assert!(
                (fit.singular_values[i] - exact[i]).abs() < 1e-3 * exact[i],
                "{i}: {} vs {}",
                fit.singular_values[i],
                exact[i]
            );
        }
        // Components are orthonormal, and projecting recovers the top directions' energy.
        let gram = fit.components.dot(&fit.components.t());
        for i in 0..3 {
            for j in 0..3 {
                assert!((gram[[i, j]] - if i == j { 1.0 } else { 0.0 }).abs() < 1e-4);
            }
        }
        let z = fit.transform(x.view());
        let energy: f32 = z.iter().map(|v| v * v).sum();
        assert!((energy - (2500.0 + 900.0 + 400.0)).abs() < 1.0, "{energy}");
    }

    #[test]
    fn k_is_capped_and_empty_input_is_fine() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x = Array2::from_shape_simple_fn((4, 6), || rng.random_range(-1.0f32..1.0));
        assert_eq!(
            TruncatedSvd::fit(x.view(), 10, &mut rng).components.dim(),
            (4, 6)
        );
        // With k >= rank the projection keeps every row's energy (the rows lie in the span).
        let full = TruncatedSvd::fit(x.view(), 10, &mut rng);
        let (before, after): (f32, f32) = (
            x.iter().map(|v| v * v).sum(),
            full.transform(x.view()).iter().map(|v| v * v).sum(),
        );
        assert!(
            (before - after).abs() < 1e-3 * before,
            "{before} vs {after}"
        );
        let empty = TruncatedSvd::fit(Array2::<f32>::zeros((0, 6)).view(), 3, &mut rng);
        assert_eq!(empty.components.dim(), (0, 6));
        // Transforming rows with no components gives rows of no features, not garbage.
        assert_eq!(empty.transform(x.view()).dim(), (4, 0));
    }
}
