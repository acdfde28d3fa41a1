//! The strategy registry: every way of treating missing labels that masklab compares, with
//! its name, its place in tables and figures, and what it does to the loss and the data. A
//! new strategy is a new variant here; every `match` on it has no wildcard arm, so the
//! compiler lists each place it must reach.

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
}

/// The training loss a strategy uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    /// Binary cross-entropy over observed labels only (from logits).
    Masked,
    /// The post's own masked loss.
    SeedMasked,
    /// Keras's `binary_crossentropy` on clipped probabilities, `-1` as a target.
    Plain,
    /// `sigmoid_cross_entropy_with_logits`, `-1` as a target.
    PlainLogits,
}

/// What a strategy does to the training data before the loss sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataTreatment {
    /// Every row, labels as observed (missing ones marked).
    AsIs,
    /// Missing labels become observed negatives.
    ImputeNegative,
    /// Only rows with every label observed.
    CompleteRows,
    /// A network per task on the rows where that task is observed.
    PerTask,
}

impl Strategy {
    /// Every strategy, in display order (tables, legends).
    pub const ALL: [Strategy; 7] = [
        Strategy::Masked,
        Strategy::SeedMasked,
        Strategy::Plain,
        Strategy::PlainLogits,
        Strategy::ImputeNegative,
        Strategy::CompleteCase,
        Strategy::SingleTask,
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
        match self.loss() {
            LossKind::Masked => true,
            LossKind::SeedMasked | LossKind::Plain | LossKind::PlainLogits => false,
        }
    }

    /// Position in tables and legends.
    pub fn order(self) -> usize {
        Strategy::ALL
            .iter()
            .position(|&s| s == self)
            .expect("ALL lists every strategy")
    }

    pub fn loss(self) -> LossKind {
        match self {
            Strategy::Masked
            | Strategy::ImputeNegative
            | Strategy::CompleteCase
            | Strategy::SingleTask => LossKind::Masked,
            Strategy::SeedMasked => LossKind::SeedMasked,
            Strategy::Plain => LossKind::Plain,
            Strategy::PlainLogits => LossKind::PlainLogits,
        }
    }

    pub fn data(self) -> DataTreatment {
        match self {
            Strategy::Masked | Strategy::SeedMasked | Strategy::Plain | Strategy::PlainLogits => {
                DataTreatment::AsIs
            }
            Strategy::ImputeNegative => DataTreatment::ImputeNegative,
            Strategy::CompleteCase => DataTreatment::CompleteRows,
            Strategy::SingleTask => DataTreatment::PerTask,
        }
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
        assert_eq!((orders.len(), colors.len()), (7, 7));
        assert!(Strategy::DEFAULT.iter().all(|s| Strategy::ALL.contains(s)));
        assert!(!Strategy::DEFAULT.contains(&Strategy::PlainLogits));
    }

    #[test]
    fn only_the_loss_baselines_change_the_loss_and_only_data_strategies_change_the_data() {
        use DataTreatment as D;
        use LossKind as L;
        let table = [
            (Strategy::Masked, L::Masked, D::AsIs),
            (Strategy::SeedMasked, L::SeedMasked, D::AsIs),
            (Strategy::Plain, L::Plain, D::AsIs),
            (Strategy::PlainLogits, L::PlainLogits, D::AsIs),
            (Strategy::ImputeNegative, L::Masked, D::ImputeNegative),
            (Strategy::CompleteCase, L::Masked, D::CompleteRows),
            (Strategy::SingleTask, L::Masked, D::PerTask),
        ];
        for (s, loss, data) in table {
            assert_eq!((s.loss(), s.data()), (loss, data), "{s}");
        }
    }
}
