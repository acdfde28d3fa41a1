//! Train / dev / test splits.

use rand::seq::SliceRandom;
use rand::Rng;

/// Which rows are the test set.
#[derive(Clone, Debug, PartialEq)]
pub enum TestRows {
    /// The last `k` rows in file order (the post: the last 3,000).
    Last(usize),
    /// A fraction of the rows, drawn at random.
    Fraction(f64),
}

/// Row indices of the three splits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub dev: Vec<usize>,
    pub test: Vec<usize>,
}

/// The sizes `(train, dev, test)` that [`split`] gives `n` rows, without drawing them; for
/// checking a configuration before anything runs. `None` when more test rows are asked for
/// than exist or a fraction is outside `[0, 1]`.
pub fn split_sizes(n: usize, test: &TestRows, dev_fraction: f64) -> Option<(usize, usize, usize)> {
    if !(0.0..=1.0).contains(&dev_fraction) {
        return None;
    }
    let k = match *test {
        TestRows::Last(k) if k <= n => k,
        TestRows::Fraction(f) if (0.0..=1.0).contains(&f) => (f * n as f64).round() as usize,
        _ => return None,
    };
    let rest = n - k;
    let n_dev = (dev_fraction * rest as f64).round() as usize;
    Some((rest - n_dev, n_dev, k))
}

/// Splits `n` rows: first the test rows, then `dev_fraction` of the rest (rounded) for dev,
/// and the remainder for training, all shuffled by `rng`.
///
/// `dev_fraction = 0.1` is what the original post meant (train on 90%); its code passed
/// `test_size=0.9` to scikit-learn and so trained on 10%, which is `dev_fraction = 0.9`.
///
/// # Panics
/// If a fraction is outside `[0, 1]` or more test rows are asked for than exist.
pub fn split(n: usize, test: &TestRows, dev_fraction: f64, rng: &mut impl Rng) -> Split {
    assert!(
        (0.0..=1.0).contains(&dev_fraction),
        "dev fraction {dev_fraction} is outside [0, 1]"
    );
    let Some((_, n_dev, k)) = split_sizes(n, test, dev_fraction) else {
        panic!("cannot split {n} rows with {test:?} test rows and dev fraction {dev_fraction}");
    };
    let (mut rest, test): (Vec<usize>, Vec<usize>) = match *test {
        TestRows::Last(_) => ((0..n - k).collect(), (n - k..n).collect()),
        TestRows::Fraction(_) => {
            let mut all: Vec<usize> = (0..n).collect();
            all.shuffle(rng);
            let test = all.split_off(n - k);
            (all, test)
        }
    };
    rest.shuffle(rng);
    let train = rest.split_off(n_dev);
    Split {
        train,
        dev: rest,
        test,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn sorted(mut v: Vec<usize>) -> Vec<usize> {
        v.sort_unstable();
        v
    }

    #[test]
    fn the_posts_split_as_written_and_as_meant() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let written = split(100_000, &TestRows::Last(3000), 0.9, &mut rng);
        assert_eq!(written.test, (97_000..100_000).collect::<Vec<_>>());
        assert_eq!(written.train.len(), 9700);
        assert_eq!(written.dev.len(), 87_300);
        let meant = split(100_000, &TestRows::Last(3000), 0.1, &mut rng);
        assert_eq!(meant.train.len(), 87_300);
        let all = sorted([meant.train.clone(), meant.dev.clone(), meant.test.clone()].concat());
        assert_eq!(all, (0..100_000).collect::<Vec<_>>());
    }

    #[test]
    fn fractions_partition_and_seed_decides() {
        let a = split(
            1000,
            &TestRows::Fraction(0.2),
            0.25,
            &mut ChaCha8Rng::seed_from_u64(3),
        );
        assert_eq!((a.train.len(), a.dev.len(), a.test.len()), (600, 200, 200));
        assert_eq!(
            sorted([a.train.clone(), a.dev.clone(), a.test.clone()].concat()),
            (0..1000).collect::<Vec<_>>()
        );
        assert_eq!(
            a,
            split(
                1000,
                &TestRows::Fraction(0.2),
                0.25,
                &mut ChaCha8Rng::seed_from_u64(3)
            )
        );
        assert_ne!(
            a,
            split(
                1000,
                &TestRows::Fraction(0.2),
                0.25,
                &mut ChaCha8Rng::seed_from_u64(4)
            )
        );
    }

    #[test]
    fn empty_splits_are_allowed() {
        let s = split(
            10,
            &TestRows::Last(0),
            0.0,
            &mut ChaCha8Rng::seed_from_u64(0),
        );
        assert!(s.test.is_empty() && s.dev.is_empty());
        assert_eq!(s.train.len(), 10);
        let s = split(
            0,
            &TestRows::Fraction(0.5),
            0.5,
            &mut ChaCha8Rng::seed_from_u64(0),
        );
        assert!(s.train.is_empty() && s.dev.is_empty() && s.test.is_empty());
    }

    #[test]
    fn split_sizes_are_the_sizes_split_gives() {
        for (n, test, dev) in [
            (100_000, TestRows::Last(3000), 0.9),
            (1001, TestRows::Fraction(0.2), 0.1),
            (10, TestRows::Fraction(1.0), 0.1),
            (10, TestRows::Last(10), 0.0),
            (7, TestRows::Fraction(0.0), 1.0),
        ] {
            let s = split(n, &test, dev, &mut ChaCha8Rng::seed_from_u64(3));
            assert_eq!(
                split_sizes(n, &test, dev),
                Some((s.train.len(), s.dev.len(), s.test.len()))
            );
        }
        assert_eq!(split_sizes(5, &TestRows::Last(6), 0.1), None);
        assert_eq!(split_sizes(5, &TestRows::Fraction(1.5), 0.1), None);
    }
}
