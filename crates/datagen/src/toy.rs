//! The seed toy set: points in the unit square and three linear rules; in its correlated
//! form a fourth task that is a function of the other labels as well as of the point.

use crate::Dataset;
use ndarray::Array2;
use rand::Rng;

/// Task names of the toy set, in column order.
pub const TOY_TASKS: [&str; 3] = ["y0", "y1", "y2"];

/// The toy set's task names, with `y3` when correlated.
pub fn toy_tasks(correlated: bool) -> Vec<&'static str> {
    let mut tasks = TOY_TASKS.to_vec();
    if correlated {
        tasks.push("y3");
    }
    tasks
}

/// `n` points uniform in `[0,1]²` with labels `y0 = x1 <= 0.5`, `y1 = x0 >= 0.5`,
/// `y2 = x0 + x1 > 1`, every label observed. Coordinates are drawn row by row, `x0` first.
/// `correlated` adds `y3 = (y0 xor y1) or x0 < 0.1`: a checkerboard in x, which a network
/// must learn from y3's own labels, but a plain function of the row's other labels.
pub fn toy(n: usize, correlated: bool, rng: &mut impl Rng) -> Dataset {
    let features = Array2::from_shape_simple_fn((n, 2), || rng.random::<f32>());
    let tasks = toy_tasks(correlated);
    let labels = Array2::from_shape_fn((n, tasks.len()), |(i, t)| {
        let (x0, x1) = (features[[i, 0]], features[[i, 1]]);
        let (y0, y1) = (x1 <= 0.5, x0 >= 0.5);
        let positive = match t {
            0 => y0,
            1 => y1,
            2 => x0 + x1 > 1.0,
            _ => (y0 != y1) || x0 < 0.1,
        };
        positive as u8 as f32
    });
    Dataset::complete(
        features,
        labels,
        vec!["x0".into(), "x1".into()],
        tasks.iter().map(|s| s.to_string()).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn rules_hold_and_classes_are_balanced() {
        let d = toy(20_000, false, &mut ChaCha8Rng::seed_from_u64(1));
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
        let a = toy(100, false, &mut ChaCha8Rng::seed_from_u64(9));
        assert_eq!(a, toy(100, false, &mut ChaCha8Rng::seed_from_u64(9)));
        assert_ne!(a, toy(100, false, &mut ChaCha8Rng::seed_from_u64(10)));
    }

    #[test]
    fn the_correlated_task_follows_the_other_labels_and_the_point() {
        let plain = toy(5_000, false, &mut ChaCha8Rng::seed_from_u64(3));
        let d = toy(5_000, true, &mut ChaCha8Rng::seed_from_u64(3));
        // The same points and first three labels as the plain set.
        assert_eq!(d.features, plain.features);
        assert_eq!(d.labels.slice(ndarray::s![.., ..3]), plain.labels);
        assert_eq!(d.task_names, ["y0", "y1", "y2", "y3"]);
        let mut positives = 0.0;
        for i in 0..d.n_rows() {
            let (y0, y1) = (d.labels[[i, 0]] == 1.0, d.labels[[i, 1]] == 1.0);
            assert_eq!(
                d.labels[[i, 3]] == 1.0,
                (y0 != y1) || d.features[[i, 0]] < 0.1
            );
            positives += d.labels[[i, 3]];
        }
        // Half the square is xor-positive, plus the strip x0 < 0.1's other half: 55%.
        let share = positives / d.n_rows() as f32;
        assert!((share - 0.55).abs() < 0.02, "{share}");
    }
}
