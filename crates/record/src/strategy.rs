//! The strategy registry: every way of treating missing labels that masklab compares, with
//! its name, its place in tables and figures and its settable parameters. What a strategy
//! does in training lives in `runner::strategy`, one module each. A new strategy is a new
//! variant here; every `match` on it has no wildcard arm, so the compiler lists each place
//! it must reach.

use serde::{Deserialize, Serialize};

/// How a run treats missing labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// `masked_bce`: unobserved labels are ignored.
    Masked,
    /// The original post's masked loss, exactly.
    SeedMasked,
    /// The post's baseline: `-1` used as a target, Keras's clipped probabilities.
    Plain,
    /// The same baseline as today's TensorFlow Keras computes it from a sigmoid layer's
    /// logits (unclipped, unbounded below). Not in the default set.
    PlainLogits,
    /// Missing labels taken as negative.
    ImputeNegative,
    /// Rows with any missing label dropped.
    CompleteCase,
    /// One network per task, each trained on the rows where its task is observed.
    SingleTask,
    /// Durand et al. 2019: the masked loss re-weighted per row by its observed fraction.
    PartialBce,
    /// Cole et al. 2021: missing labels taken as negative, every target label-smoothed.
    AnLs,
    /// Cole et al. 2021: the masked loss plus expected-positive regularisation on the missing
    /// cells, against each task's observed positive rate.
    Epr,
    /// Kim et al. 2022: assume negative, then reject or correct the largest-loss missing
    /// cells of each batch.
    LargeLoss,
    /// Cole et al. 2021: a trainable table of label estimates for the missing training
    /// cells, learnt jointly with the network.
    Role,
    /// Self-training: train masked, take the sure predictions on missing training cells as
    /// labels, retrain from scratch.
    PseudoLabel,
    /// After Walter et al. 2022: an imputer that sees the row's other labels fills the
    /// missing training cells; the final network trains on them as soft targets.
    LabelConditional,
}

/// The settable parameters of a strategy that has any, as a run's spec records them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "of", rename_all = "kebab-case", deny_unknown_fields)]
pub enum StrategyParams {
    /// `partial-bce`: the row weight `g(p) = alpha·p^gamma + beta`, `p` the row's observed
    /// fraction.
    PartialBce { alpha: f64, beta: f64, gamma: f64 },
    /// `an-ls`: label smoothing of every target (a positive's is `1 − s`, a negative's `s`).
    AnLs { smoothing: f64 },
    /// `epr`: the weight of the expected-positive penalty.
    Epr { lambda: f64 },
    /// `large-loss`: what happens to the largest-loss assumed negatives, and the share of
    /// them, ramping per step from 0 after `warmup-epochs` to `max-rate` over `ramp-epochs`.
    #[serde(rename_all = "kebab-case")]
    LargeLoss {
        mode: LargeLossMode,
        max_rate: f64,
        warmup_epochs: f64,
        ramp_epochs: f64,
    },
    /// `role`: the weight of the expected-positive regulariser and the label table's learning
    /// rate as a multiple of the network's.
    #[serde(rename_all = "kebab-case")]
    Role { lambda: f64, table_lr: f64 },
    /// `label-conditional`: each observed label hidden from the imputer's input with
    /// probability `hide` in each of `copies` copies of the training rows; filled cells
    /// weigh `weight`.
    LabelConditional {
        hide: f64,
        copies: usize,
        weight: f64,
    },
    /// `pseudo-label`: missing cells predicted at or above `positive` become positives, at or
    /// below `negative` negatives, weighted `weight`, for `rounds` retrainings.
    PseudoLabel {
        positive: f64,
        negative: f64,
        weight: f64,
        rounds: usize,
    },
    /// `single-task`: what each task's network is early-stopped and selected on. Its one
    /// value, `per-task`, is recorded so that the runs of before (all networks in memory at
    /// once, stopped together on the macro dev score) keep ids of their own.
    SingleTask { selection: TaskSelection },
}

/// How `single-task`'s networks are selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskSelection {
    /// Each network is trained on its own, one after another, and stopped on its own task's
    /// dev score.
    PerTask,
}

/// Large-loss modification (Kim et al. 2022): LL-R, LL-Ct, LL-Cp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LargeLossMode {
    /// The cells leave the loss for this step.
    Reject,
    /// The cells count as positives for this step.
    Correct,
    /// The cells become positives for the rest of training.
    Permanent,
}

impl Strategy {
    /// Every strategy, in display order (tables, legends).
    pub const ALL: [Strategy; 14] = [
        Strategy::Masked,
        Strategy::SeedMasked,
        Strategy::Plain,
        Strategy::PlainLogits,
        Strategy::ImputeNegative,
        Strategy::CompleteCase,
        Strategy::SingleTask,
        Strategy::PartialBce,
        Strategy::AnLs,
        Strategy::Epr,
        Strategy::LargeLoss,
        Strategy::Role,
        Strategy::PseudoLabel,
        Strategy::LabelConditional,
    ];

    /// The partial-label strategies, beside `masked` in their comparisons.
    pub const PARTIAL_LABEL: [Strategy; 7] = [
        Strategy::PartialBce,
        Strategy::AnLs,
        Strategy::Epr,
        Strategy::LargeLoss,
        Strategy::Role,
        Strategy::PseudoLabel,
        Strategy::LabelConditional,
    ];

    /// The strategies an experiment runs when it names none.
    pub const DEFAULT: [Strategy; 6] = [
        Strategy::Masked,
        Strategy::SeedMasked,
        Strategy::Plain,
        Strategy::ImputeNegative,
        Strategy::CompleteCase,
        Strategy::SingleTask,
    ];

    /// The name used in experiment files, records and reports.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Masked => "masked",
            Strategy::SeedMasked => "seed-masked",
            Strategy::Plain => "plain",
            Strategy::PlainLogits => "plain-logits",
            Strategy::ImputeNegative => "impute-negative",
            Strategy::CompleteCase => "complete-case",
            Strategy::SingleTask => "single-task",
            Strategy::PartialBce => "partial-bce",
            Strategy::AnLs => "an-ls",
            Strategy::Epr => "epr",
            Strategy::LargeLoss => "large-loss",
            Strategy::Role => "role",
            Strategy::PseudoLabel => "pseudo-label",
            Strategy::LabelConditional => "label-conditional",
        }
    }

    /// The strategy's parameters as the papers set them, for a strategy that has any.
    pub fn default_params(self) -> Option<StrategyParams> {
        match self {
            Strategy::PartialBce => Some(StrategyParams::PartialBce {
                alpha: -4.45,
                beta: 5.45,
                gamma: 1.0,
            }),
            Strategy::AnLs => Some(StrategyParams::AnLs { smoothing: 0.1 }),
            Strategy::Epr => Some(StrategyParams::Epr { lambda: 1.0 }),
            Strategy::LargeLoss => Some(StrategyParams::LargeLoss {
                mode: LargeLossMode::Reject,
                max_rate: 0.03,
                warmup_epochs: 1.0,
                ramp_epochs: 10.0,
            }),
            Strategy::Role => Some(StrategyParams::Role {
                lambda: 1.0,
                table_lr: 10.0,
            }),
            Strategy::PseudoLabel => Some(StrategyParams::PseudoLabel {
                positive: 0.9,
                negative: 0.1,
                weight: 0.5,
                rounds: 1,
            }),
            Strategy::LabelConditional => Some(StrategyParams::LabelConditional {
                hide: 0.5,
                copies: 2,
                weight: 0.5,
            }),
            Strategy::SingleTask => Some(StrategyParams::SingleTask {
                selection: TaskSelection::PerTask,
            }),
            Strategy::Masked
            | Strategy::SeedMasked
            | Strategy::Plain
            | Strategy::PlainLogits
            | Strategy::ImputeNegative
            | Strategy::CompleteCase => None,
        }
    }

    /// The strategy of a name, if any.
    pub fn from_name(name: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Names of strategies put in display order (each once); unknown names go last, in the
    /// order given.
    pub fn in_display_order<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        for n in names {
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out.sort_by_key(|n| Strategy::from_name(n).map_or(usize::MAX, |s| s.order()));
        out
    }

    /// Whether the strategy's loss takes positive-class weights (only the masked loss
    /// does; the post's losses are kept as they were).
    pub fn takes_pos_weight(self) -> bool {
        match self {
            Strategy::Masked
            | Strategy::ImputeNegative
            | Strategy::CompleteCase
            | Strategy::SingleTask => true,
            Strategy::SeedMasked
            | Strategy::Plain
            | Strategy::PlainLogits
            | Strategy::PartialBce
            | Strategy::AnLs
            | Strategy::Epr
            | Strategy::LargeLoss
            | Strategy::Role
            | Strategy::PseudoLabel
            | Strategy::LabelConditional => false,
        }
    }

    /// Whether the strategy is one of the partial-label methods ([`Strategy::PARTIAL_LABEL`]).
    pub fn is_partial_label(self) -> bool {
        Strategy::PARTIAL_LABEL.contains(&self)
    }

    /// Position in tables and legends.
    pub fn order(self) -> usize {
        Strategy::ALL
            .iter()
            .position(|&s| s == self)
            .expect("ALL lists every strategy")
    }

    /// A colour per strategy (RGB), the same in every figure.
    pub fn color(self) -> (u8, u8, u8) {
        match self {
            Strategy::Masked => (31, 119, 180),
            Strategy::SeedMasked => (23, 190, 207),
            Strategy::Plain => (214, 39, 40),
            Strategy::PlainLogits => (140, 86, 75),
            Strategy::ImputeNegative => (255, 127, 14),
            Strategy::CompleteCase => (148, 103, 189),
            Strategy::SingleTask => (44, 160, 44),
            Strategy::PartialBce => (188, 189, 34),
            Strategy::AnLs => (227, 119, 194),
            Strategy::Epr => (230, 190, 0),
            Strategy::LargeLoss => (0, 0, 128),
            Strategy::Role => (255, 187, 120),
            Strategy::PseudoLabel => (0, 128, 128),
            Strategy::LabelConditional => (128, 0, 0),
        }
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_from_name() {
        for s in Strategy::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.name()));
            assert_eq!(serde_json::from_str::<Strategy>(&json).unwrap(), s);
            assert_eq!(Strategy::from_name(s.name()), Some(s));
        }
        assert_eq!(Strategy::from_name("mask"), None);
        assert!(serde_json::from_str::<Strategy>("\"mask\"").is_err());
    }

    #[test]
    fn names_are_put_in_display_order_once() {
        let got =
            Strategy::in_display_order(["single-task", "x", "masked", "single-task", "plain"]);
        assert_eq!(got, vec!["masked", "plain", "single-task", "x"]);
    }

    #[test]
    fn order_and_colours_are_distinct_and_default_is_a_subset() {
        let orders: std::collections::HashSet<_> =
            Strategy::ALL.iter().map(|s| s.order()).collect();
        let colors: std::collections::HashSet<_> =
            Strategy::ALL.iter().map(|s| s.color()).collect();
        assert_eq!((orders.len(), colors.len()), (14, 14));
        assert!(Strategy::DEFAULT.iter().all(|s| Strategy::ALL.contains(s)));
        assert!(!Strategy::DEFAULT.contains(&Strategy::PlainLogits));
    }

    #[test]
    fn the_partial_label_strategies_and_single_task_have_parameters() {
        for s in Strategy::ALL {
            assert_eq!(
                s.default_params().is_some(),
                Strategy::PARTIAL_LABEL.contains(&s) || s == Strategy::SingleTask,
                "{s}"
            );
        }
        // g(1) = alpha + beta = 1: a fully labelled row weighs as in the masked loss.
        let Some(StrategyParams::PartialBce { alpha, beta, .. }) =
            Strategy::PartialBce.default_params()
        else {
            panic!("partial-bce has its parameters")
        };
        assert!((alpha + beta - 1.0).abs() < 1e-12);
    }
}
