//! Central-difference checks of a strategy objective's gradient, on a fixed random batch
//! with a third of its labels missing.

use ndarray::{Array2, ArrayView2};
use nn::{Batch, Objective};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A batch over whole arrays, as the trainer passes one given whole.
pub fn batch_of<'a>(z: &'a Array2<f32>, y: &'a Array2<f32>, o: &'a Array2<bool>) -> Batch<'a> {
    Batch {
        logits: z.view(),
        labels: y.view(),
        observed: o.view(),
        rows: None,
    }
}

fn loss_at(
    objective: &mut dyn Objective,
    z: ArrayView2<f32>,
    y: &Array2<f32>,
    o: &Array2<bool>,
) -> f64 {
    let mut g = Array2::zeros(z.dim());
    let batch = Batch {
        logits: z,
        labels: y.view(),
        observed: o.view(),
        rows: None,
    };
    objective.loss_and_grad_into(batch, g.view_mut()) as f64
}

/// Checks `objective`'s gradient against central differences of its loss (step 1e-2 in
/// f32; tolerance 2e-3 absolute plus 2% relative). The objective must give the same
/// value for the same batch on every call.
pub fn assert_gradient_matches(objective: &mut dyn Objective, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (n, tasks) = (6, 4);
    let z = Array2::from_shape_simple_fn((n, tasks), || rng.random_range(-3.0f32..3.0));
    let o = Array2::from_shape_simple_fn((n, tasks), || rng.random::<f32>() > 0.33);
    let y = Array2::from_shape_fn((n, tasks), |(i, j)| {
        if o[[i, j]] {
            rng.random_range(0..2u8) as f32
        } else {
            f32::NAN
        }
    });
    let mut analytic = Array2::zeros(z.dim());
    objective.loss_and_grad_into(batch_of(&z, &y, &o), analytic.view_mut());
    let h = 1e-2f32;
    for k in 0..z.len() {
        let (mut up, mut down) = (z.clone(), z.clone());
        up.as_slice_mut().unwrap()[k] += h;
        down.as_slice_mut().unwrap()[k] -= h;
        let numeric = (loss_at(objective, up.view(), &y, &o)
            - loss_at(objective, down.view(), &y, &o))
            / (2.0 * h as f64);
        let a = analytic.as_slice().unwrap()[k] as f64;
        assert!(
            (numeric - a).abs() <= 2e-3 + 0.02 * a.abs(),
            "cell {k}: central difference {numeric}, analytic {a}"
        );
    }
}
