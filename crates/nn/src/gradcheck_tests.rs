//! Every parameter's gradient, for each loss, against central differences of an independent
//! f64 reference (a loop forward pass and the losses written out from their definitions).

use crate::{Kernel, Loss, Mlp, Trainer};
use ndarray::Array2;
use rand::{Rng, RngCore, SeedableRng};
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
    reference_loss_with_masks(params, sizes, x, y, o, loss, None)
}

/// The reference loss with each hidden layer's outputs multiplied by a dropout mask.
fn reference_loss_with_masks(
    params: &[Vec<f64>],
    sizes: &[usize],
    x: &Array2<f32>,
    y: &Array2<f32>,
    o: &Array2<bool>,
    loss: &Loss,
    masks: Option<&[Array2<f32>]>,
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
                        let keep = masks.map_or(1.0, |m| m[l][[i, k]] as f64);
                        z.max(0.0) * keep
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

/// The check through both kernels: the tiled step (the default for this small network) and
/// whole-batch BLAS.
fn check(loss: Loss, seed: u64) {
    for kernel in [Kernel::Tiled, Kernel::Blas] {
        check_with(loss.clone(), seed, &[3, 5, 4, 2], kernel, |rng| {
            rng.random_range(-1.5f32..1.5)
        });
    }
}

/// The check on a network of `sizes`, inputs drawn by `input`.
fn check_with(
    mut loss: Loss,
    seed: u64,
    sizes: &[usize],
    kernel: Kernel,
    input: impl Fn(&mut ChaCha8Rng) -> f32,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut mlp = Mlp::new(sizes, &mut rng);
    for b in mlp.biases.iter_mut() {
        b.mapv_inplace(|_| rng.random_range(-0.3..0.3)); // non-zero biases exercise their path
    }
    let n = 7;
    let x = Array2::from_shape_simple_fn((n, sizes[0]), || input(&mut rng));
    let outputs = sizes[sizes.len() - 1];
    let y = Array2::from_shape_simple_fn((n, outputs), || rng.random_range(0..2u8) as f32);
    let o = Array2::from_shape_fn((n, outputs), |(i, j)| (i + 2 * j) % 4 != 1);
    let mut trainer = Trainer::new(mlp.clone(), 1e-3, n).with_kernel(kernel);
    let analytic_loss = trainer.compute_gradients(x.view(), y.view(), o.view(), &mut loss);

    let mut params: Vec<Vec<f64>> = Vec::new();
    let mut analytic: Vec<Vec<f32>> = Vec::new();
    for l in 0..sizes.len() - 1 {
        params.push(mlp.weights[l].iter().map(|&v| v as f64).collect());
        params.push(mlp.biases[l].iter().map(|&v| v as f64).collect());
        analytic.push(trainer.grad_weights()[l].iter().copied().collect());
        analytic.push(trainer.grad_biases()[l].iter().copied().collect());
    }
    let base = reference_loss(&params, sizes, &x, &y, &o, &loss);
    assert!(
        (base - analytic_loss as f64).abs() < 1e-5 * base.abs().max(1.0),
        "{loss:?} {kernel:?}: loss {analytic_loss} vs {base}"
    );

    let h = 1e-5;
    let mut checked = 0;
    for tensor in 0..params.len() {
        for k in 0..params[tensor].len() {
            let original = params[tensor][k];
            params[tensor][k] = original + h;
            let up = reference_loss(&params, sizes, &x, &y, &o, &loss);
            params[tensor][k] = original - h;
            let down = reference_loss(&params, sizes, &x, &y, &o, &loss);
            params[tensor][k] = original;
            let numeric = (up - down) / (2.0 * h);
            let got = analytic[tensor][k] as f64;
            assert!(
                (numeric - got).abs() <= 1e-4 + 1e-3 * numeric.abs(),
                "{loss:?} {kernel:?}: tensor {tensor} entry {k}: analytic {got} vs numeric {numeric}"
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

#[test]
fn the_sparse_first_layer_gradients_match_central_differences() {
    // 96 inputs, about 6% of them set (fingerprint-like: mostly 1, a few counts): the
    // trainer takes the sparse first layer for these.
    let bits = |rng: &mut ChaCha8Rng| {
        let u: f32 = rng.random();
        if u < 0.05 {
            1.0
        } else if u < 0.06 {
            3.0
        } else {
            0.0
        }
    };
    check_with(Loss::masked(), 7, &[96, 6, 3], Kernel::Blas, bits);
    check_with(Loss::Plain, 8, &[96, 6, 3], Kernel::Blas, bits);
}

#[test]
fn sparse_and_dense_first_layers_train_alike() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (n, d) = (64, 300);
    let x = Array2::from_shape_simple_fn((n, d), || (rng.random::<f32>() < 0.03) as u8 as f32);
    let y = Array2::from_shape_fn((n, 2), |(i, j)| {
        ((x[[i, j]] + x[[i, j + 5]]) > 0.0) as u8 as f32
    });
    let o = Array2::from_elem((n, 2), true);
    let mlp = Mlp::new(&[d, 16, 2], &mut rng);
    let mut sparse = Trainer::new(mlp.clone(), 1e-2, 16);
    let mut dense = Trainer::new(mlp, 1e-2, 16).with_sparse_below(0.0);
    let (mut ra, mut rb) = (ChaCha8Rng::seed_from_u64(1), ChaCha8Rng::seed_from_u64(1));
    for _ in 0..20 {
        let a = sparse.epoch(
            x.view(),
            y.view(),
            o.view(),
            16,
            &mut Loss::masked(),
            &mut ra,
        );
        let b = dense.epoch(
            x.view(),
            y.view(),
            o.view(),
            16,
            &mut Loss::masked(),
            &mut rb,
        );
        assert!((a - b).abs() < 1e-4 * b.abs().max(1.0), "{a} vs {b}");
    }
    assert!(sparse.sparse.nnz() > 0, "the sparse path was taken");
    for (ws, wd) in sparse.mlp().weights.iter().zip(&dense.mlp().weights) {
        for (a, b) in ws.iter().zip(wd) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
    }
}

/// The masks are the stream's words taken one at a time, layer by layer, row by row: a
/// word at or above `rate · 2^32` keeps its unit. Batches smaller than the capacity and
/// layers of odd width (words that do not fill the generator's blocks) included.
#[test]
fn dropout_masks_are_the_stream_word_by_word() {
    let sizes = [20, 7, 5, 3];
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mlp = Mlp::new(&sizes, &mut rng);
    let (rate, capacity) = (0.3f32, 11);
    let mut trainer =
        Trainer::new(mlp, 1e-3, capacity).with_dropout(rate, ChaCha8Rng::seed_from_u64(14));
    let mut words = ChaCha8Rng::seed_from_u64(14);
    let threshold = (rate as f64 * 4_294_967_296.0) as u64;
    let scale = 1.0 / (1.0 - rate);
    let mut loss = Loss::masked();
    for n in [9, 4, 11] {
        let x = Array2::from_shape_simple_fn((n, sizes[0]), || rng.random_range(-1.0f32..1.0));
        let y = Array2::from_shape_simple_fn((n, 3), || rng.random_range(0..2u8) as f32);
        let o = Array2::from_elem((n, 3), true);
        trainer.step(x.view(), y.view(), o.view(), &mut loss);
        for (mask, &width) in trainer.dropout_masks().iter().zip(&sizes[1..3]) {
            let expected = Array2::from_shape_simple_fn((n, width), || {
                match words.next_u32() as u64 >= threshold {
                    true => scale,
                    false => 0.0,
                }
            });
            assert_eq!(mask.slice(ndarray::s![..n, ..]), expected, "batch of {n}");
        }
    }
}

#[test]
fn dropout_gradients_match_central_differences_through_the_same_masks() {
    let sizes = [20, 8, 6, 3];
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mlp = Mlp::new(&sizes, &mut rng);
    let n = 9;
    let x = Array2::from_shape_simple_fn((n, sizes[0]), || rng.random_range(-1.0f32..1.0));
    let y = Array2::from_shape_simple_fn((n, 3), || rng.random_range(0..2u8) as f32);
    let o = Array2::from_shape_fn((n, 3), |(i, j)| (i + j) % 3 != 0);
    let mut loss = Loss::masked();
    let mut trainer = Trainer::new(mlp.clone(), 1e-3, n)
        .with_dropout(0.4, ChaCha8Rng::seed_from_u64(12))
        .with_kernel(Kernel::Tiled);
    assert_eq!(
        trainer.kernel(),
        Kernel::Blas,
        "dropout trains through BLAS"
    );
    let value = trainer.compute_gradients(x.view(), y.view(), o.view(), &mut loss);
    let masks = trainer.dropout_masks();
    // Some units dropped, the others scaled by 1 / (1 - 0.4).
    let cells: Vec<f32> = masks
        .iter()
        .flat_map(|m| {
            m.slice(ndarray::s![..n, ..])
                .iter()
                .copied()
                .collect::<Vec<f32>>()
        })
        .collect();
    assert!(
        cells.contains(&0.0)
            && cells
                .iter()
                .all(|&v| v == 0.0 || (v - 1.0 / 0.6).abs() < 1e-6)
    );
    let mut params: Vec<Vec<f64>> = Vec::new();
    let mut analytic: Vec<Vec<f32>> = Vec::new();
    for l in 0..sizes.len() - 1 {
        params.push(mlp.weights[l].iter().map(|&v| v as f64).collect());
        params.push(mlp.biases[l].iter().map(|&v| v as f64).collect());
        analytic.push(trainer.grad_weights()[l].iter().copied().collect());
        analytic.push(trainer.grad_biases()[l].iter().copied().collect());
    }
    let f = |p: &[Vec<f64>]| reference_loss_with_masks(p, &sizes, &x, &y, &o, &loss, Some(&masks));
    assert!((f(&params) - value as f64).abs() < 1e-5);
    let h = 1e-5;
    for tensor in 0..params.len() {
        for k in 0..params[tensor].len() {
            let original = params[tensor][k];
            params[tensor][k] = original + h;
            let up = f(&params);
            params[tensor][k] = original - h;
            let down = f(&params);
            params[tensor][k] = original;
            let numeric = (up - down) / (2.0 * h);
            let got = analytic[tensor][k] as f64;
            assert!(
                (numeric - got).abs() <= 1e-4 + 1e-3 * numeric.abs(),
                "tensor {tensor} entry {k}: analytic {got} vs numeric {numeric}"
            );
        }
    }
    // Frozen, the next step sees the same masks; unfrozen, new ones.
    trainer.freeze_dropout(true);
    let again = trainer.compute_gradients(x.view(), y.view(), o.view(), &mut loss);
    assert_eq!(again, value);
    trainer.freeze_dropout(false);
    trainer.compute_gradients(x.view(), y.view(), o.view(), &mut loss);
    assert_ne!(trainer.dropout_masks(), masks);
}

#[test]
fn training_with_dropout_is_reproducible_and_rate_zero_is_none() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let (n, d) = (40, 12);
    let x = Array2::from_shape_simple_fn((n, d), || rng.random_range(-1.0f32..1.0));
    let y = Array2::from_shape_fn((n, 2), |(i, j)| ((x[[i, j]] > 0.0) as u8) as f32);
    let o = Array2::from_elem((n, 2), true);
    let mlp = Mlp::new(&[d, 16, 2], &mut rng);
    // Five epochs in the same batch order.
    let five_epochs = |mut t: Trainer| {
        let mut order = ChaCha8Rng::seed_from_u64(6);
        for _ in 0..5 {
            t.epoch(
                x.view(),
                y.view(),
                o.view(),
                8,
                &mut Loss::masked(),
                &mut order,
            );
        }
        t.into_mlp()
    };
    let train = |rate: f32, decay: f32| {
        five_epochs(
            Trainer::new(mlp.clone(), 1e-2, 8)
                .with_kernel(Kernel::Blas)
                .with_dropout(rate, ChaCha8Rng::seed_from_u64(5))
                .with_weight_decay(decay),
        )
    };
    assert_eq!(
        train(0.5, 1e-4),
        train(0.5, 1e-4),
        "the same streams, the same weights"
    );
    assert_ne!(train(0.5, 0.0), train(0.0, 0.0));
    assert_ne!(train(0.0, 1e-2), train(0.0, 0.0));
    // Rate 0 is the plain trainer.
    let plain = five_epochs(Trainer::new(mlp.clone(), 1e-2, 8).with_kernel(Kernel::Blas));
    assert_eq!(plain, train(0.0, 0.0));
}
