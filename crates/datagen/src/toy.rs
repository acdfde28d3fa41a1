//! The seed toy set: points in the unit square and three linear rules.

use crate::Dataset;
use ndarray::Array2;
use rand::Rng;

/// Task names of the toy set, in column order.
pub const TOY_TASKS: [&str; 3] = ["y0", "y1", "y2"];

/// `n` points uniform in `[0,1]²` with labels `y0 = x1 <= 0.5`, `y1 = x0 >= 0.5`,
/// `y2 = x0 + x1 > 1`, every label observed. Coordinates are drawn row by row, `x0` first.
pub fn toy(n: usize, rng: &mut impl Rng) -> Dataset {
    let features = Array2::from_shape_simple_fn((n, 2), || rng.random::<f32>());
    let labels = Array2::from_shape_fn((n, 3), |(i, t)| {
        let (x0, x1) = (features[[i, 0]], features[[i, 1]]);
        let positive = match t {
            0 => x1 <= 0.5,
            1 => x0 >= 0.5,
            _ => x0 + x1 > 1.0,
        };
        positive as u8 as f32
    });
    Dataset::complete(
        features,
        labels,
        vec!["x0".into(), "x1".into()],
        TOY_TASKS.iter().map(|s| s.to_string()).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn rules_hold_and_classes_are_balanced() {
        let d = toy(20_000, &mut ChaCha8Rng::seed_from_u64(1));
        for i in 0..d.n_rows() {
            let (x0, x1) = (d.features[[i, 0]], d.features[[i, 1]]);
            assert!((0.0..1.0).contains(&x0) && (0.0..1.0).contains(&x1));
            assert_eq!(d.labels[[i, 0]] == 1.0, x1 <= 0.5);
            assert_eq!(d.labels[[i, 1]] == 1.0, x0 >= 0.5);
            assert_eq!(d.labels[[i, 2]] == 1.0, x0 + x1 > 1.0);
        }
        for t in 0..3 {
            let share = d.labels.column(t).sum() / d.n_rows() as f32;
            assert!((share - 0.5).abs() < 0.02, "task {t}: {share}");
        }
        assert!(d.observed.iter().all(|&o| o));
    }

    #[test]
    fn same_seed_same_data() {
        let a = toy(100, &mut ChaCha8Rng::seed_from_u64(9));
        assert_eq!(a, toy(100, &mut ChaCha8Rng::seed_from_u64(9)));
        assert_ne!(a, toy(100, &mut ChaCha8Rng::seed_from_u64(10)));
    }
}
