//! Experiment files, stage one: the raw TOML as written, read strictly.
//!
//! Keys are kebab-case and unknown keys are errors. A value given as a list is a sweep axis
//! (see [`Axis`]); `hidden` and `task-rates` are lists by nature, so for them a list of lists
//! is the axis. Defaults follow the original post: MLP 2-10-40-30-3, Adam at 1e-3, batch
//! 5000, 2000 epochs.

use record::spec::MechanismKind;
use record::Strategy;
use serde::{Deserialize, Deserializer};

/// One value, or a list of values to sweep over.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis<T>(pub Vec<T>);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Axis<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // Through TOML's own value type, which (unlike JSON's) holds `nan` and `inf`, so
        // that validation can name them instead of a misleading type error.
        let value = toml::Value::deserialize(d)?;
        let one = T::deserialize(value.clone());
        match (one, &value) {
            (Ok(v), _) => Ok(Axis(vec![v])),
            (Err(_), toml::Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|item| {
                    T::deserialize(item.clone())
                        .map_err(|e| D::Error::custom(format!("in the list: {e}")))
                })
                .collect::<Result<Vec<T>, _>>()
                .map(Axis),
            (Err(_), toml::Value::Array(_)) => {
                Err(D::Error::custom("an empty list sweeps over nothing"))
            }
            (Err(e), _) => Err(D::Error::custom(e)),
        }
    }
}

impl<T> Axis<T> {
    pub fn one(v: T) -> Self {
        Axis(vec![v])
    }
}

/// The number of seeds (`seeds = 5` is 0..5) or the seeds themselves.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Seeds {
    Count(u64),
    List(Vec<u64>),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawExperiment {
    /// Free text, carried into the report.
    #[serde(default)]
    pub description: String,
    /// The experiment seed every run's random streams derive from. Default 0.
    #[serde(default)]
    pub seed: u64,
    /// Run seeds: a count or a list. Default 1 (seed 0).
    #[serde(default = "default_seeds")]
    pub seeds: Seeds,
    pub data: RawData,
    #[serde(default)]
    pub split: RawSplit,
    #[serde(default)]
    pub missing: RawMissing,
    #[serde(default)]
    pub model: RawModel,
    #[serde(default)]
    pub training: RawTraining,
    /// Default: the six of [`Strategy::DEFAULT`].
    #[serde(default = "default_strategies")]
    pub strategies: Axis<Strategy>,
    /// Parameters of the strategies that have any; each defaults to its paper's values.
    #[serde(default)]
    pub strategy_options: RawStrategyOptions,
    /// Named variants, each replacing whole sections of the settings above; the grid is
    /// the union of every variant's grid. None: the settings above are the one variant.
    #[serde(default)]
    pub variants: Vec<RawVariant>,
}

/// `[strategy-options]`: one table per strategy with parameters, every key optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawStrategyOptions {
    /// `alpha` (-4.45), `beta` (5.45), `gamma` (1): the row weight `alpha·p^gamma + beta`.
    pub partial_bce: Option<RawPartialBce>,
    /// `smoothing` (0.1).
    pub an_ls: Option<RawAnLs>,
    /// `lambda` (1).
    pub epr: Option<RawEpr>,
    /// `mode` (`reject` | `correct` | `permanent`), `max-rate` (0.03), `warmup-epochs` (1),
    /// `ramp-epochs` (10).
    pub large_loss: Option<RawLargeLoss>,
    /// `lambda` (1), `table-lr` (10, times the network's learning rate).
    pub role: Option<RawRole>,
    /// `positive` (0.9), `negative` (0.1), `weight` (0.5), `rounds` (1).
    pub pseudo_label: Option<RawPseudoLabel>,
    /// `hide` (0.5), `copies` (2), `weight` (0.5).
    pub label_conditional: Option<RawLabelConditional>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawLabelConditional {
    pub hide: Option<f64>,
    pub copies: Option<usize>,
    pub weight: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRole {
    pub lambda: Option<f64>,
    pub table_lr: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPseudoLabel {
    pub positive: Option<f64>,
    pub negative: Option<f64>,
    pub weight: Option<f64>,
    pub rounds: Option<usize>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPartialBce {
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    pub gamma: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawAnLs {
    pub smoothing: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawEpr {
    pub lambda: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawLargeLoss {
    pub mode: Option<record::strategy::LargeLossMode>,
    pub max_rate: Option<f64>,
    pub warmup_epochs: Option<f64>,
    pub ramp_epochs: Option<f64>,
}

/// A variant: a name and the sections it replaces.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawVariant {
    pub name: String,
    pub data: Option<RawData>,
    pub split: Option<RawSplit>,
    pub missing: Option<RawMissing>,
    pub model: Option<RawModel>,
    pub training: Option<RawTraining>,
}

fn default_seeds() -> Seeds {
    Seeds::Count(1)
}

fn default_strategies() -> Axis<Strategy> {
    Axis(Strategy::DEFAULT.to_vec())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The seed toy set.
    Toy,
    /// A generated MBTI-style corpus with text features.
    MbtiGenerated,
    /// A Kaggle-format MBTI CSV with text features.
    MbtiCsv,
    /// Any CSV of features and 0/1/-1 labels.
    Csv,
    /// Molecules: a SMILES column and 0/1 label columns (empty, -1 or NA: not measured),
    /// featurised as ECFP fingerprints.
    SmilesCsv,
}

/// The data source; which keys apply depends on `source`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawData {
    pub source: Source,
    /// toy: rows (default 100,000).
    pub rows: Option<usize>,
    /// toy: add the task `y3`, a function of the other labels as well as of x (default
    /// false).
    pub correlated: Option<bool>,
    /// mbti-generated: users (default 2000), posts per user (50), words per post (12),
    /// signal (0.08): the share of words that carry an axis signal.
    pub users: Option<usize>,
    pub posts_per_user: Option<usize>,
    pub words_per_post: Option<usize>,
    pub signal: Option<f64>,
    /// mbti-csv and csv: the file, relative to the experiment file.
    pub path: Option<String>,
    /// csv: the label columns by name, or by a name prefix.
    pub label_columns: Option<Vec<String>>,
    pub label_prefix: Option<String>,
    /// smiles-csv: the SMILES column (default `SMILES`); labels are `label-columns` or every
    /// other column; ECFP radius (default 2), bits (2048) and counts instead of bits (false).
    pub smiles_column: Option<String>,
    pub radius: Option<usize>,
    pub bits: Option<usize>,
    pub counts: Option<bool>,
    /// smiles-csv: ECFP atom invariants, `rdkit` (RDKit's Morgan; the default) or
    /// `masklab` (Rogers & Hahn's plus the valence, the default before descriptors came).
    pub invariants: Option<record::spec::Invariants>,
    /// smiles-csv: the feature blocks, in order: `ecfp` (the fingerprint) and
    /// `descriptors` (RDKit's molecular properties, standardised on the training rows);
    /// default `["ecfp"]`.
    pub features: Option<Vec<record::spec::FeatureBlock>>,
    /// Text sources: hashing dimensions (default 4096, `datagen::text::TextParams`) and
    /// optional SVD dimensions.
    pub dims: Option<usize>,
    pub svd_dims: Option<usize>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawSplit {
    /// The last `test-rows` rows are the test set (default 3000 when neither is given)...
    pub test_rows: Option<usize>,
    /// ...or this fraction of rows, drawn at random.
    pub test_fraction: Option<f64>,
    /// Fraction of the non-test rows held out for dev (default 0.1: train on 90%).
    pub dev_fraction: Option<f64>,
    /// Drop labels from test rows too (default false: test keeps every label).
    #[serde(default)]
    pub drop_test: bool,
    /// `random` (default), `scaffold` (molecules: whole scaffold groups; with
    /// test-fraction) or `column` (molecules: a predefined split read from a column).
    #[serde(default)]
    pub method: record::spec::SplitMethod,
    /// `column` split: the column (default `split`) and the values that mean train (default
    /// `train`), dev (`validation`, `valid`, `dev`; `[]` for none) and test (`test`).
    pub column: Option<String>,
    pub train_values: Option<Vec<String>>,
    pub dev_values: Option<Vec<String>>,
    pub test_values: Option<Vec<String>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawMissing {
    /// Default mcar.
    #[serde(default = "default_mechanism")]
    pub mechanism: Axis<MechanismKind>,
    /// One drop rate for every task (the overall rate, for mnar). Default 0.
    pub rate: Option<Axis<f64>>,
    /// One rate per task (mcar, prefix); a list of such lists sweeps.
    pub task_rates: Option<Axis<Vec<f64>>>,
    /// mnar: how many times likelier a negative label is dropped than a positive one.
    /// Default 3.
    pub mnar_skew: Option<Axis<f64>>,
}

fn default_mechanism() -> Axis<MechanismKind> {
    Axis::one(MechanismKind::Mcar)
}

impl Default for RawMissing {
    fn default() -> Self {
        RawMissing {
            mechanism: default_mechanism(),
            rate: None,
            task_rates: None,
            mnar_skew: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawModel {
    /// Hidden layer sizes. Default [10, 40, 30].
    #[serde(default = "default_hidden")]
    pub hidden: Axis<Vec<usize>>,
}

fn default_hidden() -> Axis<Vec<usize>> {
    Axis::one(vec![10, 40, 30])
}

impl Default for RawModel {
    fn default() -> Self {
        RawModel {
            hidden: default_hidden(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawTraining {
    /// Default 2000 (the post).
    #[serde(default = "default_epochs")]
    pub epochs: Axis<usize>,
    /// Default 5000.
    #[serde(default = "default_batch")]
    pub batch_size: Axis<usize>,
    /// Adam's learning rate. Default 1e-3.
    #[serde(default = "default_lr")]
    pub learning_rate: Axis<f64>,
    /// Evaluate the dev split every this many epochs; 0 never. Default 1.
    #[serde(default = "default_eval_every")]
    pub eval_every: usize,
    /// Stop when the dev masked loss has not improved for this many evaluations, and keep
    /// the best weights. Default: no early stopping.
    pub patience: Option<usize>,
    /// `"balanced"`: weigh each task's positives by its negatives / positives among the
    /// observed training labels (masked loss only). Default: no weights.
    pub pos_weight: Option<record::spec::PosWeight>,
    /// Inverted dropout after every hidden layer, in [0, 1). Default 0 (none).
    #[serde(default = "zero")]
    pub dropout: Axis<f64>,
    /// Decoupled weight decay (AdamW), per unit of learning rate. Default 0 (Adam).
    #[serde(default = "zero")]
    pub weight_decay: Axis<f64>,
    /// What early stopping keeps the best weights by: `loss` (the dev masked loss, the
    /// default) or `auc` (the dev macro ROC-AUC).
    #[serde(default)]
    pub select_by: record::spec::SelectBy,
    /// Record each run's test predictions, so that the report adds, per setting, the
    /// metrics of its seeds' averaged predictions (where they share their test rows: a
    /// column split, a scaffold split, or `test-rows`). Default false.
    #[serde(default)]
    pub ensemble: bool,
}

fn zero() -> Axis<f64> {
    Axis::one(0.0)
}

fn default_epochs() -> Axis<usize> {
    Axis::one(2000)
}
fn default_batch() -> Axis<usize> {
    Axis::one(5000)
}
fn default_lr() -> Axis<f64> {
    Axis::one(1e-3)
}
fn default_eval_every() -> usize {
    1
}

impl Default for RawTraining {
    fn default() -> Self {
        RawTraining {
            epochs: default_epochs(),
            batch_size: default_batch(),
            learning_rate: default_lr(),
            eval_every: default_eval_every(),
            patience: None,
            pos_weight: None,
            dropout: zero(),
            weight_decay: zero(),
            select_by: Default::default(),
            ensemble: false,
        }
    }
}
