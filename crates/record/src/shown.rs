//! Which runs a report draws on their own. Per variant, one setting (a drop rate and a
//! mechanism) for the figures of a single setting (training curves, per-task bars), and at
//! it one seed for the decision boundaries. The runner asks which runs keep a boundary grid;
//! the report asks which runs to draw: one rule, here, so the two cannot disagree.
//!
//! The rule: the grid's drop rate closest to 0.5 (the larger on a tie), the mechanism of
//! the first run at that rate in grid order, and the smallest seed. "Variant" here is the
//! setting group ([`crate::groups`]): a variant that is a grid over training settings gets a
//! shown setting per training setting.

use crate::groups::Groups;
use crate::spec::{DataSpec, RunSpec};

/// The setting a variant's single-setting figures show.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub variant: String,
    pub rate: f64,
    pub mechanism: String,
    /// The seed whose decision boundaries are drawn.
    pub seed: u64,
}

/// The shown setting of each variant of a grid.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shown {
    settings: Vec<Setting>,
    groups: Groups,
}

/// The rate figures of one drop rate show: the one closest to 0.5 (the larger on a tie).
pub fn representative_rate(rates: &[f64]) -> f64 {
    rates.iter().copied().fold(f64::NAN, |best, r| {
        let closer = (r - 0.5).abs() < (best - 0.5).abs();
        let tie_larger = (r - 0.5).abs() == (best - 0.5).abs() && r > best;
        if best.is_nan() || closer || tie_larger {
            r
        } else {
            best
        }
    })
}

impl Shown {
    /// The shown settings of the grid whose runs are `specs`, in grid order (every run of
    /// the grid, whichever shard or outcome: the choice must not depend on either).
    pub fn of<'a>(specs: impl IntoIterator<Item = &'a RunSpec> + Clone) -> Shown {
        let groups = Groups::of(specs.clone());
        let mut rates: Vec<(String, Vec<f64>, u64)> = Vec::new();
        for spec in specs.clone() {
            let rate = spec.missing.nominal_rate();
            let name = groups.name(spec);
            match rates.iter_mut().find(|(v, _, _)| *v == name) {
                Some((_, rs, seed)) => {
                    rs.push(rate);
                    *seed = (*seed).min(spec.seed);
                }
                None => rates.push((name, vec![rate], spec.seed)),
            }
        }
        let settings = rates
            .into_iter()
            .map(|(variant, rs, seed)| {
                let rate = representative_rate(&rs);
                let mechanism = specs
                    .clone()
                    .into_iter()
                    .find(|s| groups.name(s) == variant && s.missing.nominal_rate() == rate)
                    .map(|s| s.missing.mechanism_label())
                    .unwrap_or_default();
                Setting {
                    variant,
                    rate,
                    mechanism,
                    seed,
                }
            })
            .collect();
        Shown { settings, groups }
    }

    /// The setting group a run belongs to, as tables and figures name it.
    pub fn group(&self, spec: &RunSpec) -> String {
        self.groups.name(spec)
    }

    pub fn setting(&self, variant: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.variant == variant)
    }

    /// Whether a run is at its variant's shown setting (any seed).
    pub fn at_setting(&self, spec: &RunSpec) -> bool {
        self.setting(&self.group(spec)).is_some_and(|s| {
            spec.missing.nominal_rate() == s.rate && spec.missing.mechanism_label() == s.mechanism
        })
    }

    /// Whether a report draws this run's decision boundaries: 2-D data, at the shown
    /// setting and seed. Only these runs keep a boundary grid.
    pub fn draws_boundary(&self, spec: &RunSpec) -> bool {
        matches!(spec.data, DataSpec::Toy { .. })
            && self.at_setting(spec)
            && self
                .setting(&self.group(spec))
                .is_some_and(|s| s.seed == spec.seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_representative_rate_is_closest_to_a_half_the_larger_on_a_tie() {
        assert_eq!(representative_rate(&[0.0, 0.1, 0.3, 0.9]), 0.3);
        assert_eq!(representative_rate(&[0.25, 0.75]), 0.75);
        assert_eq!(representative_rate(&[0.75, 0.25]), 0.75);
        assert!(representative_rate(&[]).is_nan());
    }
}
