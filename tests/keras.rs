//! masklab against Keras itself: for fixed weights, a fixed batch and targets holding -1,
//! each loss's value and every weight's gradient, and one Adam step, equal Keras 3's to
//! 1e-5 relative. Keras's numbers come from `scripts/keras_reference.py`; `just test-keras`
//! makes a Python environment with Keras, writes them, and runs this test. Without
//! `MASKLAB_KERAS_REFERENCE` the test is skipped (it is `#[ignore]`d in `just test`).

use ndarray::{Array1, Array2};
use nn::{Loss, Mlp, Trainer};
use serde_json::Value;

fn matrix(v: &Value) -> Array2<f32> {
    let rows: Vec<Vec<f32>> = serde_json::from_value(v.clone()).unwrap();
    let (n, m) = (rows.len(), rows.first().map_or(0, Vec::len));
    Array2::from_shape_vec((n, m), rows.into_iter().flatten().collect()).unwrap()
}

fn vector(v: &Value) -> Array1<f32> {
    Array1::from(serde_json::from_value::<Vec<f32>>(v.clone()).unwrap())
}

/// Every element within 1e-5 of Keras's, relative (1e-8 absolute for elements near zero).
fn assert_close<'a>(
    what: &str,
    ours: impl IntoIterator<Item = &'a f32>,
    keras: impl IntoIterator<Item = &'a f32>,
) {
    let (ours, keras): (Vec<f32>, Vec<f32>) = (
        ours.into_iter().copied().collect(),
        keras.into_iter().copied().collect(),
    );
    // A zip would stop at the shorter side and pass a shape mismatch.
    assert_eq!(
        ours.len(),
        keras.len(),
        "{what}: masklab has {} elements, Keras {}",
        ours.len(),
        keras.len()
    );
    for (i, (&a, &b)) in ours.iter().zip(&keras).enumerate() {
        let tolerance = 1e-5 * b.abs().max(1e-3);
        assert!(
            (a - b).abs() <= tolerance,
            "{what}[{i}]: masklab {a} vs Keras {b}"
        );
    }
}

#[test]
#[ignore = "needs Keras: run `just test-keras`"]
fn losses_gradients_and_an_adam_step_equal_keras() {
    let path = std::env::var("MASKLAB_KERAS_REFERENCE")
        .expect("MASKLAB_KERAS_REFERENCE names the JSON that scripts/keras_reference.py wrote");
    let reference: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let x = matrix(&reference["x"]);
    let stored = matrix(&reference["y"]);
    // -1 is a missing label only here, at the boundary: masklab gets a mask and NaN.
    let observed = stored.mapv(|v| v != -1.0);
    let y = stored.mapv(|v| if v == -1.0 { f32::NAN } else { v });
    let mlp = Mlp {
        weights: reference["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(matrix)
            .collect(),
        biases: reference["biases"]
            .as_array()
            .unwrap()
            .iter()
            .map(vector)
            .collect(),
    };
    let lr = reference["adam"]["learning_rate"].as_f64().unwrap() as f32;
    let mut losses = [
        ("masked", Loss::masked()),
        ("seed-masked", Loss::SeedMasked),
        ("plain", Loss::Plain),
        ("plain-logits", Loss::PlainLogits),
    ];
    for (name, loss) in losses.iter_mut() {
        let keras = &reference["losses"][*name];
        let mut trainer = Trainer::new(mlp.clone(), lr, x.nrows());
        let value = trainer.compute_gradients(x.view(), y.view(), observed.view(), loss);
        let want = keras["value"].as_f64().unwrap() as f32;
        assert_close(&format!("{name} loss"), [&value], [&want]);
        let layers = keras["grad_weights"].as_array().unwrap().len();
        assert_eq!(trainer.grad_weights().len(), layers, "{name}: layers");
        assert_eq!(trainer.grad_biases().len(), layers, "{name}: layers");
        for (l, (gw, gb)) in trainer
            .grad_weights()
            .iter()
            .zip(trainer.grad_biases())
            .enumerate()
        {
            let (kw, kb) = (
                matrix(&keras["grad_weights"][l]),
                vector(&keras["grad_biases"][l]),
            );
            assert_close(&format!("{name} dW{l}"), gw.iter(), kw.iter());
            assert_close(&format!("{name} db{l}"), gb.iter(), kb.iter());
        }
    }
    for (key, decay) in [
        ("adam", 0.0),
        (
            "adamw",
            reference["adamw"]["weight_decay"].as_f64().unwrap() as f32,
        ),
    ] {
        let mut trainer = Trainer::new(mlp.clone(), lr, x.nrows()).with_weight_decay(decay);
        trainer.compute_gradients(x.view(), y.view(), observed.view(), &mut Loss::masked());
        trainer.apply_adam();
        let layers = reference[key]["weights"].as_array().unwrap().len();
        assert_eq!(trainer.mlp().weights.len(), layers, "{key}: layers");
        for (l, (w, b)) in trainer
            .mlp()
            .weights
            .iter()
            .zip(&trainer.mlp().biases)
            .enumerate()
        {
            let (kw, kb) = (
                matrix(&reference[key]["weights"][l]),
                vector(&reference[key]["biases"][l]),
            );
            assert_close(&format!("{key} W{l}"), w.iter(), kw.iter());
            assert_close(&format!("{key} b{l}"), b.iter(), kb.iter());
        }
    }
    eprintln!(
        "equal to Keras {} ({} backend, JAX {}) within 1e-5 relative: 4 losses, their gradients, one Adam step, one AdamW step",
        reference["keras_version"], reference["backend"], reference["jax_version"]
    );
}
