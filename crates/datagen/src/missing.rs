//! Label-missingness mechanisms, each with per-task rates.

use crate::Dataset;
use rand::Rng;

/// How labels go missing. Rates are per task: one value for every task, or one per task
/// (see [`Rates`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Mechanism {
    /// Missing completely at random: each label dropped independently with its task's rate.
    Mcar(Rates),
    /// The first `rate ×` (eligible rows) of the eligible rows, in the order given (file
    /// order, usually), lose that task's label: how the original post dropped labels, in
    /// contiguous slices at the start. The realised rate among the eligible rows is the rate.
    Prefix(Rates),
    /// Missing not at random: the drop probability depends on the true label, modelling a
    /// labeller who skips when the object is absent (`negative` above `positive`).
    Mnar { positive: Rates, negative: Rates },
    /// Whole rows lose every label with probability `rate` (a labeller who skipped an item).
    Block(f64),
}

/// Rates in `[0, 1]`: one for all tasks, or one per task.
#[derive(Clone, Debug, PartialEq)]
pub enum Rates {
    All(f64),
    PerTask(Vec<f64>),
}

impl Rates {
    /// The rate of task `t`.
    ///
    /// # Panics
    /// If per-task rates do not cover `t` (validate with [`Mechanism::check`] first).
    pub fn of(&self, t: usize) -> f64 {
        match self {
            Rates::All(r) => *r,
            Rates::PerTask(r) => r[t],
        }
    }

    fn check(&self, tasks: usize, what: &str) -> Result<(), String> {
        let values: Vec<f64> = match self {
            Rates::All(r) => vec![*r],
            Rates::PerTask(r) if r.len() != tasks => {
                return Err(format!("{what}: {} rates given for {tasks} tasks", r.len()));
            }
            Rates::PerTask(r) => r.clone(),
        };
        match values.iter().find(|r| !(0.0..=1.0).contains(*r)) {
            Some(bad) => Err(format!("{what}: rate {bad} is outside [0, 1]")),
            None => Ok(()),
        }
    }
}

/// The highest overall MNAR drop rate reachable at `skew` for tasks of these prevalences
/// (shares of positives): the larger of `r+` and `r- = skew · r+` must stay at most 1, so a
/// task reaches at most `(p + (1 - p) · skew) / max(1, skew)`, and the overall rate is
/// bounded by the lowest task's.
pub fn mnar_reachable_rate(prevalence: &[f64], skew: f64) -> f64 {
    prevalence
        .iter()
        .map(|&p| (p + (1.0 - p) * skew) / skew.max(1.0))
        .fold(1.0, f64::min)
}

/// MNAR at an overall `rate` per task, matched to each task's prevalence `p`:
/// `r+ = rate / (p + (1 - p) · skew)` for positives and `r- = skew · r+` for negatives, so
/// that `p · r+ + (1 - p) · r- = rate`. A rate that would need a probability above 1 is an
/// error that says which rate is reachable.
pub fn mnar_calibrated(prevalence: &[f64], rate: f64, skew: f64) -> Result<Mechanism, String> {
    let (mut positive, mut negative) = (Vec::new(), Vec::new());
    for &p in prevalence {
        let r_pos = rate / (p + (1.0 - p) * skew);
        let r_neg = skew * r_pos;
        if r_pos > 1.0 + 1e-12 || r_neg > 1.0 + 1e-12 {
            return Err(format!(
                "an overall mnar drop rate of {rate} cannot be reached at skew {skew}: with these \
                 labels' prevalences the highest reachable rate is {:.4}",
                mnar_reachable_rate(prevalence, skew)
            ));
        }
        positive.push(r_pos.min(1.0));
        negative.push(r_neg.min(1.0));
    }
    Ok(Mechanism::Mnar {
        positive: Rates::PerTask(positive),
        negative: Rates::PerTask(negative),
    })
}

impl Mechanism {
    /// Checks the rates: each in `[0, 1]`, and per-task lists as long as the tasks.
    pub fn check(&self, tasks: usize) -> Result<(), String> {
        match self {
            Mechanism::Mcar(r) => r.check(tasks, "mcar"),
            Mechanism::Prefix(r) => r.check(tasks, "prefix"),
            Mechanism::Mnar { positive, negative } => {
                positive.check(tasks, "mnar positive")?;
                negative.check(tasks, "mnar negative")
            }
            Mechanism::Block(r) => Rates::All(*r).check(tasks, "block"),
        }
    }

    /// Drops labels of `rows` (the rows eligible for dropping: training and dev, usually)
    /// from `data`, drawing from `rng`. Labels already missing stay missing. Rows are visited
    /// in the order given, so the same rows, seed and mechanism drop the same cells.
    ///
    /// # Panics
    /// If the rates fail [`Mechanism::check`], or MNAR is asked of data without the truth.
    pub fn apply(&self, data: &mut Dataset, rows: &[usize], rng: &mut impl Rng) {
        let tasks = data.n_tasks();
        if let Err(e) = self.check(tasks) {
            panic!("invalid mechanism: {e}");
        }
        if data.truth.is_none() && matches!(self, Mechanism::Mnar { .. }) {
            panic!("MNAR drops depend on the true label, which this dataset does not have");
        }
        match self {
            Mechanism::Mcar(rates) => {
                for &r in rows {
                    for t in 0..tasks {
                        if rng.random::<f64>() < rates.of(t) {
                            data.drop_label(r, t);
                        }
                    }
                }
            }
            Mechanism::Prefix(rates) => {
                for t in 0..tasks {
                    let k = (rates.of(t) * rows.len() as f64).round() as usize;
                    for &r in &rows[..k] {
                        data.drop_label(r, t);
                    }
                }
            }
            Mechanism::Mnar { positive, negative } => {
                for &r in rows {
                    for t in 0..tasks {
                        let truth = data.truth.as_ref().expect("checked above")[[r, t]];
                        let rate = if truth == 1.0 {
                            positive.of(t)
                        } else {
                            negative.of(t)
                        };
                        if rng.random::<f64>() < rate {
                            data.drop_label(r, t);
                        }
                    }
                }
            }
            Mechanism::Block(rate) => {
                for &r in rows {
                    if rng.random::<f64>() < *rate {
                        (0..tasks).for_each(|t| data.drop_label(r, t));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::toy;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const N: usize = 100_000;

    fn dropped(mech: &Mechanism, seed: u64) -> Dataset {
        let mut d = toy(N, false, &mut ChaCha8Rng::seed_from_u64(1));
        let rows: Vec<usize> = (0..N).collect();
        mech.apply(&mut d, &rows, &mut ChaCha8Rng::seed_from_u64(seed));
        d
    }

    /// Within 5 binomial standard errors.
    fn assert_rate(observed_rate: f64, drop_rate: f64, n: usize) {
        let realised = 1.0 - observed_rate;
        let se = (drop_rate * (1.0 - drop_rate) / n as f64).sqrt();
        assert!(
            (realised - drop_rate).abs() <= 5.0 * se + 1e-12,
            "realised {realised} vs requested {drop_rate}"
        );
    }

    #[test]
    fn mcar_realises_per_task_rates() {
        let d = dropped(&Mechanism::Mcar(Rates::PerTask(vec![0.1, 0.5, 0.95])), 2);
        let rows: Vec<usize> = (0..N).collect();
        for (rate, want) in d.observed_rate(&rows).into_iter().zip([0.1, 0.5, 0.95]) {
            assert_rate(rate, want, N);
        }
        // Dropped cells hold NaN; the truth is untouched.
        assert!(d
            .labels
            .iter()
            .zip(&d.observed)
            .all(|(l, &o)| o != l.is_nan()));
        assert_eq!(
            d.truth,
            toy(N, false, &mut ChaCha8Rng::seed_from_u64(1)).truth
        );
    }

    #[test]
    fn rate_zero_drops_nothing_and_seed_decides_the_cells() {
        for mech in [
            Mechanism::Mcar(Rates::All(0.0)),
            Mechanism::Prefix(Rates::All(0.0)),
            Mechanism::Mnar {
                positive: Rates::All(0.0),
                negative: Rates::All(0.0),
            },
            Mechanism::Block(0.0),
        ] {
            assert!(dropped(&mech, 3).observed.iter().all(|&o| o), "{mech:?}");
        }
        let mech = Mechanism::Mcar(Rates::All(0.3));
        assert_eq!(dropped(&mech, 4).observed, dropped(&mech, 4).observed);
        assert_ne!(dropped(&mech, 4).observed, dropped(&mech, 5).observed);
    }

    #[test]
    fn prefix_drops_the_first_rows_of_the_file() {
        // The post's slices: 2% of y0, and nothing of the others.
        let d = dropped(&Mechanism::Prefix(Rates::PerTask(vec![0.02, 0.0, 0.0])), 0);
        for r in 0..N {
            assert_eq!(d.observed[[r, 0]], r >= 2000, "row {r}");
            assert!(d.observed[[r, 1]] && d.observed[[r, 2]]);
        }
        // Only eligible rows are touched, and the prefix is a share of them: round(0.5 · 3) = 2.
        let mut d = toy(100, false, &mut ChaCha8Rng::seed_from_u64(1));
        Mechanism::Prefix(Rates::All(0.5)).apply(
            &mut d,
            &[10, 60, 70],
            &mut ChaCha8Rng::seed_from_u64(0),
        );
        assert_eq!(d.observed.iter().filter(|&&o| !o).count(), 2 * 3);
        assert!(!d.observed[[10, 0]] && !d.observed[[60, 2]] && d.observed[[70, 0]]);
    }

    #[test]
    fn mnar_depends_on_the_true_label() {
        let d = dropped(
            &Mechanism::Mnar {
                positive: Rates::All(0.1),
                negative: Rates::All(0.6),
            },
            6,
        );
        let truth = d.truth.as_ref().unwrap();
        for t in 0..3 {
            for (class, want) in [(1.0, 0.1), (0.0, 0.6)] {
                let rows: Vec<usize> = (0..N).filter(|&r| truth[[r, t]] == class).collect();
                assert_rate(d.observed_rate(&rows)[t], want, rows.len());
            }
        }
    }

    #[test]
    fn block_drops_whole_rows() {
        let d = dropped(&Mechanism::Block(0.25), 7);
        let empty_rows = (0..N).filter(|&r| !d.observed[[r, 0]]).count();
        for r in 0..N {
            let row = d.observed.row(r);
            assert!(
                row.iter().all(|&o| o) || row.iter().all(|&o| !o),
                "row {r} partly dropped"
            );
        }
        assert_rate(1.0 - empty_rows as f64 / N as f64, 0.25, N);
    }

    #[test]
    fn bad_rates_are_reported() {
        assert_eq!(
            Mechanism::Mcar(Rates::All(1.5)).check(3).unwrap_err(),
            "mcar: rate 1.5 is outside [0, 1]"
        );
        assert_eq!(
            Mechanism::Prefix(Rates::PerTask(vec![0.1]))
                .check(3)
                .unwrap_err(),
            "prefix: 1 rates given for 3 tasks"
        );
        assert!(Mechanism::Block(-0.1).check(3).is_err());
        assert!(Mechanism::Mcar(Rates::All(f64::NAN)).check(3).is_err());
    }

    #[test]
    fn mnar_calibration_matches_the_rate_and_refuses_what_it_cannot_reach() {
        // Balanced labels, skew 3: r+ = 0.5 / (0.5 + 1.5) = 0.25, r- = 0.75, and
        // 0.5 * 0.25 + 0.5 * 0.75 = 0.5. The most reachable: (0.5 + 1.5) / 3 = 2/3.
        let m = mnar_calibrated(&[0.5, 0.5], 0.5, 3.0).unwrap();
        assert_eq!(
            m,
            Mechanism::Mnar {
                positive: Rates::PerTask(vec![0.25, 0.25]),
                negative: Rates::PerTask(vec![0.75, 0.75]),
            }
        );
        assert!((mnar_reachable_rate(&[0.5, 0.2], 3.0) - 2.0 / 3.0).abs() < 1e-12);
        let e = mnar_calibrated(&[0.5, 0.5, 0.5], 0.9, 3.0).unwrap_err();
        assert!(e.contains("0.9") && e.contains("0.6667"), "{e}");
        // The realised rate on the toy data is the one asked for.
        let m = mnar_calibrated(&[0.5, 0.5, 0.5], 0.6, 3.0).unwrap();
        let d = dropped(&m, 5);
        let missing = 1.0
            - d.observed_rate(&(0..N).collect::<Vec<_>>())
                .iter()
                .sum::<f64>()
                / 3.0;
        assert!((missing - 0.6).abs() < 0.01, "realised {missing}");
    }
}
