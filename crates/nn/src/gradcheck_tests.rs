//! Every parameter's gradient, for each loss, against central differences of an independent
//! f64 reference (a loop forward pass and the losses written out from their definitions).

use crate::{Loss, Mlp, Trainer};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const EPS: f64 = 1e-7; // Keras's clipping epsilon

fn reference_loss(
    params: &[Vec<f64>],
    sizes: &[usize],
    x: &Array2<f32>,
    y: &Array2<f32>,
    o: &Array2<bool>,
    loss: &Loss,
) -> f64 {
    let layers = sizes.len() - 1;
    let (n, tasks) = y.dim();
    let mut total = 0.0;
    let mut observed = 0usize;
    for i in 0..n {
        let mut a: Vec<f64> = x.row(i).iter().map(|&v| v as f64).collect();
        for l in 0..layers {
            let (w, b) = (&params[2 * l], &params[2 * l + 1]);
            let (fin, fout) = (sizes[l], sizes[l + 1]);
            a = (0..fout)
                .map(|k| {
                    let z = b[k] + (0..fin).map(|j| a[j] * w[j * fout + k]).sum::<f64>();
                    if l + 1 < layers {
                        z.max(0.0)
                    } else {
                        z
                    }
                })
                .collect();
        }
        for t in 0..tasks {
            let p = 1.0 / (1.0 + (-a[t]).exp());
            let clip = |p: f64| p.clamp(EPS, 1.0 - EPS);
            let bce = |t: f64, p: f64| -(t * p.ln() + (1.0 - t) * (1.0 - p).ln());
            let obs = o[[i, t]];
            let label = y[[i, t]] as f64;
            total += match loss {
                Loss::Masked { pos_weight } if obs => {
                    let w = pos_weight.as_ref().map_or(1.0, |w| w[t] as f64);
                    -(w * label * p.ln() + (1.0 - label) * (1.0 - p).ln())
                }
                Loss::Masked { .. } => 0.0,
                Loss::SeedMasked if obs => bce(label, clip(p)),
                Loss::SeedMasked => bce(0.0, clip(0.0)),
                Loss::Plain => bce(if obs { label } else { -1.0 }, clip(p)),
                Loss::PlainLogits => {
                    let (z, t) = (a[t], if obs { label } else { -1.0 });
                    z.max(0.0) - z * t + (1.0 + (-z.abs()).exp()).ln()
                }
            };
            observed += obs as usize;
        }
    }
    match loss {
        Loss::Masked { .. } => total / observed as f64,
        _ => total / (n * tasks) as f64,
    }
}

fn check(loss: Loss, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sizes = [3usize, 5, 4, 2];
    let mut mlp = Mlp::new(&sizes, &mut rng);
    for b in mlp.biases.iter_mut() {
        b.mapv_inplace(|_| rng.random_range(-0.3..0.3)); // non-zero biases exercise their path
    }
    let n = 7;
    let x = Array2::from_shape_simple_fn((n, 3), || rng.random_range(-1.5f32..1.5));
    let y = Array2::from_shape_simple_fn((n, 2), || rng.random_range(0..2u8) as f32);
    let o = Array2::from_shape_fn((n, 2), |(i, j)| (i + 2 * j) % 4 != 1);
    let mut trainer = Trainer::new(mlp.clone(), 1e-3, n);
    let analytic_loss = trainer.compute_gradients(x.view(), y.view(), o.view(), &loss);

    let mut params: Vec<Vec<f64>> = Vec::new();
    let mut analytic: Vec<Vec<f32>> = Vec::new();
    for l in 0..sizes.len() - 1 {
        params.push(mlp.weights[l].iter().map(|&v| v as f64).collect());
        params.push(mlp.biases[l].iter().map(|&v| v as f64).collect());
        analytic.push(trainer.grad_weights()[l].iter().copied().collect());
        analytic.push(trainer.grad_biases()[l].iter().copied().collect());
    }
    let base = reference_loss(&params, &sizes, &x, &y, &o, &loss);
    assert!(
        (base - analytic_loss as f64).abs() < 1e-5 * base.abs().max(1.0),
        "{loss:?}: loss {analytic_loss} vs {base}"
    );

    let h = 1e-5;
    let mut checked = 0;
    for tensor in 0..params.len() {
        for k in 0..params[tensor].len() {
            let original = params[tensor][k];
            params[tensor][k] = original + h;
            let up = reference_loss(&params, &sizes, &x, &y, &o, &loss);
            params[tensor][k] = original - h;
            let down = reference_loss(&params, &sizes, &x, &y, &o, &loss);
            params[tensor][k] = original;
            let numeric = (up - down) / (2.0 * h);
            let got = analytic[tensor][k] as f64;
            assert!(
                (numeric - got).abs() <= 1e-4 + 1e-3 * numeric.abs(),
                "{loss:?}: tensor {tensor} entry {k}: analytic {got} vs numeric {numeric}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, mlp.n_params());
}

#[test]
fn masked_bce_gradients_match_central_differences() {
    check(Loss::masked(), 1);
    check(Loss::masked(), 2);
}

#[test]
fn weighted_masked_bce_gradients_match_central_differences() {
    check(
        Loss::Masked {
            pos_weight: Some(vec![2.5, 0.4]),
        },
        3,
    );
}

#[test]
fn seed_masked_bce_gradients_match_central_differences() {
    check(Loss::SeedMasked, 4);
}

#[test]
fn plain_bce_gradients_match_central_differences() {
    check(Loss::Plain, 5);
}

#[test]
fn plain_logit_bce_gradients_match_central_differences() {
    check(Loss::PlainLogits, 6);
}
