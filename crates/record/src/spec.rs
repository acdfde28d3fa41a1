//! A fully resolved run: everything that determines its results. The runner resolves an
//! experiment file into these; its run id is a hash of the [`RunSpec`].

use crate::strategy::Strategy;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The version of masklab's molecule reading, recorded in every molecule source's spec:
/// 1: SMILES as written; 2: Kekulé rings perceived as aromatic, stereo marks between aromatic
/// atoms read as aromatic bonds; 3: Murcko scaffolds as RDKit's (double-bonded atoms and
/// charges kept) keyed by a canonical form.
pub const CHEMISTRY: u32 = 3;

/// The version of masklab's molecular descriptors (`datagen::molecule::descriptors`),
/// recorded in the spec of a source that uses them: 1: RDKit's 41 C++ properties.
pub const DESCRIPTORS: u32 = 1;

/// A block of molecule features; a source's blocks are concatenated in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureBlock {
    /// The folded ECFP fingerprint (`radius`, `bits`, `counts`, `invariants`).
    Ecfp,
    /// The molecular descriptors, standardised on each run's training rows.
    Descriptors,
}

/// The feature blocks when none are given: the fingerprint alone.
pub fn ecfp_only() -> Vec<FeatureBlock> {
    vec![FeatureBlock::Ecfp]
}

fn is_ecfp_only(blocks: &[FeatureBlock]) -> bool {
    blocks == [FeatureBlock::Ecfp]
}

/// ECFP atom invariants: masklab's (Rogers & Hahn's plus the valence) or RDKit's Morgan.
/// `Default` is what a record written before the choice existed used (masklab's); what an
/// experiment file gets when it says nothing is `datagen`'s `EcfpParams` default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariants {
    #[default]
    Masklab,
    Rdkit,
}

impl Invariants {
    pub fn is_masklab(&self) -> bool {
        *self == Invariants::Masklab
    }
}

/// A fully resolved data source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DataSpec {
    Toy {
        rows: usize,
        /// With the task `y3`, a function of the others (left out when false, so that older
        /// settings keep their ids).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        correlated: bool,
    },
    #[serde(rename_all = "kebab-case")]
    MbtiGenerated {
        users: usize,
        posts_per_user: usize,
        words_per_post: usize,
        signal: f64,
        dims: usize,
        svd_dims: Option<usize>,
    },
    #[serde(rename_all = "kebab-case")]
    MbtiCsv {
        path: PathBuf,
        /// blake3 of the file's bytes: an edited file gives new run ids.
        content_hash: String,
        dims: usize,
        svd_dims: Option<usize>,
    },
    /// Molecules: a SMILES column and label columns, featurised as ECFP fingerprints.
    #[serde(rename_all = "kebab-case")]
    SmilesCsv {
        path: PathBuf,
        /// blake3 of the file's bytes.
        content_hash: String,
        smiles_column: String,
        /// `None`: every column but the SMILES.
        label_columns: Option<Vec<String>>,
        radius: usize,
        bits: usize,
        counts: bool,
        /// The column a `column` split reads (left out when there is none, so that older
        /// settings keep their ids).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        split_column: Option<String>,
        /// How masklab reads molecules ([`CHEMISTRY`]): part of the run id, so runs made by a
        /// masklab that read them differently are never taken for this one's (0 in records
        /// written before it was recorded). Not part of the stream seeds: the same table
        /// is split the same way.
        #[serde(default)]
        chemistry: u32,
        /// ECFP atom invariants (left out when masklab's, so that older settings keep their
        /// ids).
        #[serde(default, skip_serializing_if = "Invariants::is_masklab")]
        invariants: Invariants,
        /// The feature blocks, in order (left out when the fingerprint alone, so that older
        /// settings keep their ids).
        #[serde(default = "ecfp_only", skip_serializing_if = "is_ecfp_only")]
        features: Vec<FeatureBlock>,
        /// The descriptors' version ([`DESCRIPTORS`]) when a block uses them: part of the
        /// run id, so runs made with other definitions are never taken for these.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        descriptors: Option<u32>,
    },
    #[serde(rename_all = "kebab-case")]
    Csv {
        path: PathBuf,
        /// blake3 of the file's bytes: an edited file gives new run ids.
        content_hash: String,
        label_columns: Option<Vec<String>>,
        label_prefix: Option<String>,
    },
}

impl DataSpec {
    /// The source's name as written in experiment files.
    pub fn source_name(&self) -> &'static str {
        match self {
            DataSpec::Toy { .. } => "toy",
            DataSpec::MbtiGenerated { .. } => "mbti-generated",
            DataSpec::MbtiCsv { .. } => "mbti-csv",
            DataSpec::SmilesCsv { .. } => "smiles-csv",
            DataSpec::Csv { .. } => "csv",
        }
    }

    /// Whether the source is drawn from the run's data stream (generated), rather than read
    /// from a file, which is the same whatever the stream.
    pub fn is_generated(&self) -> bool {
        match self {
            DataSpec::Toy { .. } | DataSpec::MbtiGenerated { .. } => true,
            DataSpec::MbtiCsv { .. } | DataSpec::Csv { .. } | DataSpec::SmilesCsv { .. } => false,
        }
    }

    /// Text sources get the per-axis figure.
    pub fn is_text(&self) -> bool {
        match self {
            DataSpec::MbtiGenerated { .. } | DataSpec::MbtiCsv { .. } => true,
            DataSpec::Toy { .. } | DataSpec::Csv { .. } | DataSpec::SmilesCsv { .. } => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SplitSpec {
    /// The last `test-rows` rows are the test set...
    pub test_rows: Option<usize>,
    /// ...or this fraction of rows, drawn at random.
    pub test_fraction: Option<f64>,
    /// Fraction of the non-test rows held out for dev.
    pub dev_fraction: f64,
    /// Drop labels from test rows too.
    pub drop_test: bool,
    /// Random rows, or whole Bemis–Murcko scaffold groups (molecules only). Left out of the
    /// record when random, so that older settings keep their ids and streams.
    #[serde(default, skip_serializing_if = "SplitMethod::is_random")]
    pub method: SplitMethod,
    /// For `method = "column"`: the column and the values that mean train, dev and test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<ColumnSplit>,
}

/// A predefined split read from a column of the data file (the Tox21 challenge's `split`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ColumnSplit {
    pub column: String,
    pub train: Vec<String>,
    pub dev: Vec<String>,
    pub test: Vec<String>,
}

impl ColumnSplit {
    /// Which part a row with this value goes to: 0 train, 1 dev, 2 test.
    pub fn part(&self, value: &str) -> Option<usize> {
        [&self.train, &self.dev, &self.test]
            .iter()
            .position(|values| values.iter().any(|v| v == value))
    }
}

/// How rows are assigned to train, dev and test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitMethod {
    #[default]
    Random,
    /// Whole scaffold groups, largest to train first; no test scaffold is seen in training.
    Scaffold,
    /// A predefined split from a column of the data file ([`ColumnSplit`]).
    Column,
}

impl SplitMethod {
    pub fn is_random(&self) -> bool {
        *self == SplitMethod::Random
    }

    pub fn name(self) -> &'static str {
        match self {
            SplitMethod::Random => "random",
            SplitMethod::Scaffold => "scaffold",
            SplitMethod::Column => "column",
        }
    }
}

/// Positive-class weights of the masked loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PosWeight {
    /// Per task, negatives / positives among the observed training labels.
    Balanced,
}

/// How labels go missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MechanismKind {
    /// Missing completely at random, per task.
    Mcar,
    /// A leading share of the eligible rows, per task.
    Prefix,
    /// Missing not at random: negatives dropped `mnar-skew` times as often as positives.
    Mnar,
    /// Whole rows.
    Block,
}

impl MechanismKind {
    pub const ALL: [MechanismKind; 4] = [
        MechanismKind::Mcar,
        MechanismKind::Prefix,
        MechanismKind::Mnar,
        MechanismKind::Block,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MechanismKind::Mcar => "mcar",
            MechanismKind::Prefix => "prefix",
            MechanismKind::Mnar => "mnar",
            MechanismKind::Block => "block",
        }
    }

    /// Whether per-task rates apply (mnar and block take one overall rate).
    pub fn takes_task_rates(self) -> bool {
        match self {
            MechanismKind::Mcar | MechanismKind::Prefix => true,
            MechanismKind::Mnar | MechanismKind::Block => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MissingSpec {
    pub mechanism: MechanismKind,
    /// One rate for all tasks (the overall rate, for mnar and block).
    pub rate: Option<f64>,
    /// One rate per task.
    pub task_rates: Option<Vec<f64>>,
    /// mnar only.
    pub mnar_skew: Option<f64>,
}

impl MissingSpec {
    /// The mean of the requested per-task drop rates: the x axis of drop-rate figures.
    pub fn nominal_rate(&self) -> f64 {
        match (&self.rate, &self.task_rates) {
            (Some(r), _) => *r,
            (None, Some(rates)) if !rates.is_empty() => {
                rates.iter().sum::<f64>() / rates.len() as f64
            }
            _ => 0.0,
        }
    }

    /// The mechanism as a reader names it: `mcar`, `mnar (skew 3)`.
    pub fn mechanism_label(&self) -> String {
        match self.mnar_skew {
            Some(skew) => format!("{} (skew {skew})", self.mechanism.name()),
            None => self.mechanism.name().to_string(),
        }
    }

    /// The setting as every figure and finding names it. Where the data has true labels,
    /// [`MissingSpec::describe`] (`mcar drops of 50%`, `no drops`); where labels are
    /// missing in the data already, drops come on top of that: `extra mcar drops of 50%`,
    /// `no extra drops (labels as measured)`.
    pub fn setting_phrase(&self, tasks: &[String], has_truth: bool) -> String {
        let none = self.rate == Some(0.0)
            || self
                .task_rates
                .as_ref()
                .is_some_and(|r| r.iter().all(|&v| v == 0.0));
        match (has_truth, none) {
            (false, true) => "no extra drops (labels as measured)".into(),
            (false, false) => format!("extra {}", self.describe(tasks)),
            (true, true) => "no drops".into(),
            (true, false) => self.describe(tasks),
        }
    }

    /// The setting in words: `mcar drops of 50%`, or per task `prefix drops of y0 2%`.
    pub fn describe(&self, tasks: &[String]) -> String {
        let pct = |r: f64| {
            let s = format!("{:.2}", 100.0 * r);
            format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
        };
        match &self.task_rates {
            Some(rates) => {
                let parts: Vec<String> = rates
                    .iter()
                    .enumerate()
                    .filter(|(_, &r)| r > 0.0)
                    .map(|(t, &r)| {
                        let name = tasks.get(t).cloned().unwrap_or_else(|| format!("task {t}"));
                        format!("{name} {}", pct(r))
                    })
                    .collect();
                if parts.is_empty() {
                    "no drops".into()
                } else {
                    format!("{} drops of {}", self.mechanism_label(), parts.join(", "))
                }
            }
            None => format!(
                "{} drops of {}",
                self.mechanism_label(),
                pct(self.rate.unwrap_or(0.0))
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TrainingSpec {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub eval_every: usize,
    pub patience: Option<usize>,
    /// Left out of the record when unset, so that older settings keep their ids and streams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos_weight: Option<PosWeight>,
    /// Inverted dropout after every hidden layer (0: none; left out of the record then).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropout: f64,
    /// Decoupled weight decay, AdamW's (0: plain Adam; left out of the record then).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight_decay: f64,
    /// What early stopping watches on the dev split (left out when the masked loss).
    #[serde(default, skip_serializing_if = "SelectBy::is_loss")]
    pub select_by: SelectBy,
    /// Record the test predictions, so that the report scores each setting's seeds as an
    /// ensemble where they share their test rows (left out when false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ensemble: bool,
}

/// The dev-set yardstick early stopping keeps the best weights by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelectBy {
    /// The masked BCE on the dev split's observed labels (lower is better).
    #[default]
    Loss,
    /// The macro ROC-AUC over the tasks where it is defined (higher is better): the metric
    /// the report leads with.
    Auc,
}

impl SelectBy {
    pub fn is_loss(&self) -> bool {
        *self == SelectBy::Loss
    }
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// Everything that determines one run's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RunSpec {
    pub format: u32,
    pub experiment: String,
    /// The variant's name, when the experiment has variants.
    pub variant: Option<String>,
    pub experiment_seed: u64,
    pub seed: u64,
    pub data: DataSpec,
    pub split: SplitSpec,
    pub missing: MissingSpec,
    pub hidden: Vec<usize>,
    pub training: TrainingSpec,
    pub strategy: Strategy,
    /// The strategy's parameters, for a strategy that has any (left out otherwise, so that
    /// the other strategies keep their ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<crate::strategy::StrategyParams>,
}

/// Seeds of a run's independent random streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Streams {
    /// Generating the data (and the SVD's projection): depends on data settings and seed.
    pub data: u64,
    /// Train/dev/test rows: also on the split settings.
    pub split: u64,
    /// Which labels are dropped: also on the missingness settings.
    pub drops: u64,
    /// Initial weights: on the seed and the architecture.
    pub init: u64,
    /// Batch order: on the seed and the training settings.
    pub batches: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_reads_as_extra_drops_where_labels_are_missing_already() {
        let tasks: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let mcar = |rate| MissingSpec {
            mechanism: MechanismKind::Mcar,
            rate: Some(rate),
            task_rates: None,
            mnar_skew: None,
        };
        assert_eq!(mcar(0.9).setting_phrase(&tasks, true), "mcar drops of 90%");
        assert_eq!(
            mcar(0.9).setting_phrase(&tasks, false),
            "extra mcar drops of 90%"
        );
        assert_eq!(mcar(0.0).setting_phrase(&tasks, true), "no drops");
        assert_eq!(
            mcar(0.0).setting_phrase(&tasks, false),
            "no extra drops (labels as measured)"
        );
    }

    #[test]
    fn settings_are_described_as_a_reader_would_name_them() {
        let tasks: Vec<String> = ["y0", "y1", "y2"].map(String::from).to_vec();
        let as_written = MissingSpec {
            mechanism: MechanismKind::Prefix,
            rate: None,
            task_rates: Some(vec![0.0206, 0.0, 0.0]),
            mnar_skew: None,
        };
        assert_eq!(as_written.describe(&tasks), "prefix drops of y0 2.06%");
        let mnar = MissingSpec {
            mechanism: MechanismKind::Mnar,
            rate: Some(0.5),
            task_rates: None,
            mnar_skew: Some(3.0),
        };
        assert_eq!(mnar.describe(&tasks), "mnar (skew 3) drops of 50%");
        assert_eq!(mnar.nominal_rate(), 0.5);
        assert_eq!(as_written.nominal_rate(), 0.0206 / 3.0);
    }
}
