//! Resolving one variant's raw sections into specs, checking each rule on the way. What a
//! rule needs to know of the data (rows, tasks) comes from [`SourceFacts`].

use crate::config::{Axis, RawData, RawMissing, RawSplit, RawTraining, Source};
use crate::error::ConfigError;
use record::spec::{DataSpec, MechanismKind, MissingSpec, SplitMethod, SplitSpec};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

pub type ErrFn<'a> = dyn Fn(&str, String) -> ConfigError + 'a;

/// Facts about a data source that validation needs.
pub struct SourceFacts {
    pub rows: usize,
    pub tasks: usize,
    /// A split column's value and file line per row, and the file's name, when one was read.
    pub split_values: Option<(Vec<(String, u64)>, String)>,
}

/// A repeated value in a sweep axis would run (and count) the same runs twice. `show`
/// writes a value as the file would.
pub fn no_repeats<T: PartialEq>(
    key: &str,
    values: &[T],
    show: impl Fn(&T) -> String,
    err: &ErrFn,
) -> Result<(), ConfigError> {
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(err(
                key,
                format!("`{}` is listed twice: each value of a sweep axis must be distinct, or its runs would be counted twice", show(v)),
            ));
        }
    }
    Ok(())
}

pub fn plain<T: std::fmt::Display>(v: &T) -> String {
    v.to_string()
}

pub fn listed<T: Debug>(v: &T) -> String {
    format!("{v:?}").replace(' ', "")
}

/// A number that must be finite (TOML allows `nan` and `inf`).
pub fn finite(key: &str, values: &[f64], err: &ErrFn) -> Result<(), ConfigError> {
    match values.iter().find(|v| !v.is_finite()) {
        Some(v) => Err(err(key, format!("{v} is not a finite number"))),
        None => Ok(()),
    }
}

/// The content hash of an input file (of its data, decompressed): runs on an edited file get
/// new ids.
fn content_hash(path: &Path, err: &ErrFn) -> Result<String, ConfigError> {
    let (_, hash) = datagen::input::Input::from(path)
        .read_and_hash()
        .map_err(|e| err("data.path", e.to_string()))?;
    Ok(hash)
}

/// `split_column`: the column a `column` split reads, loaded with the data.
pub fn data(
    d: &RawData,
    base: &Path,
    split_column: Option<&str>,
    err: &ErrFn,
) -> Result<(DataSpec, SourceFacts), ConfigError> {
    let allowed: &[&str] = match d.source {
        Source::Toy => &["rows", "correlated"],
        Source::MbtiGenerated => &[
            "users",
            "posts-per-user",
            "words-per-post",
            "signal",
            "dims",
            "svd-dims",
        ],
        Source::MbtiCsv => &["path", "dims", "svd-dims"],
        Source::Csv => &["path", "label-columns", "label-prefix"],
        Source::SmilesCsv => &[
            "path",
            "smiles-column",
            "label-columns",
            "radius",
            "bits",
            "counts",
            "invariants",
            "features",
        ],
    };
    let given = [
        ("rows", d.rows.is_some()),
        ("correlated", d.correlated.is_some()),
        ("users", d.users.is_some()),
        ("posts-per-user", d.posts_per_user.is_some()),
        ("words-per-post", d.words_per_post.is_some()),
        ("signal", d.signal.is_some()),
        ("path", d.path.is_some()),
        ("label-columns", d.label_columns.is_some()),
        ("label-prefix", d.label_prefix.is_some()),
        ("dims", d.dims.is_some()),
        ("svd-dims", d.svd_dims.is_some()),
        ("smiles-column", d.smiles_column.is_some()),
        ("radius", d.radius.is_some()),
        ("bits", d.bits.is_some()),
        ("counts", d.counts.is_some()),
        ("invariants", d.invariants.is_some()),
        ("features", d.features.is_some()),
    ];
    if let Some((key, _)) = given.iter().find(|(k, g)| *g && !allowed.contains(k)) {
        let source = serde_json::to_string(&d.source).expect("serialises");
        return Err(err(
            &format!("data.{key}"),
            format!(
                "not used with source = {source} (it takes: {})",
                allowed.join(", ")
            ),
        ));
    }
    let positive = |key: &str, v: Option<usize>, default: usize| match v.unwrap_or(default) {
        0 => Err(err(&format!("data.{key}"), "must be at least 1".into())),
        n => Ok(n),
    };
    let svd_dims = d
        .svd_dims
        .map(|k| positive("svd-dims", Some(k), 1))
        .transpose()?;
    let default_dims = datagen::text::TextParams::default().dims;
    let path = |d: &RawData| {
        d.path
            .clone()
            .map(PathBuf::from)
            .ok_or_else(|| err("data.path", "this source needs a path".into()))
    };
    let load_error = |e: datagen::DataError| err("data.path", e.to_string());
    Ok(match d.source {
        Source::Toy => {
            let rows = positive("rows", d.rows, 100_000)?;
            let correlated = d.correlated.unwrap_or(false);
            (
                DataSpec::Toy { rows, correlated },
                SourceFacts {
                    rows,
                    tasks: datagen::toy_tasks(correlated).len(),
                    split_values: None,
                },
            )
        }
        Source::MbtiGenerated => {
            let signal = d.signal.unwrap_or(0.08);
            if !(0.0..=1.0).contains(&signal) {
                return Err(err(
                    "data.signal",
                    format!("signal {signal} is outside [0, 1]"),
                ));
            }
            let users = positive("users", d.users, 2000)?;
            let spec = DataSpec::MbtiGenerated {
                users,
                posts_per_user: positive("posts-per-user", d.posts_per_user, 50)?,
                words_per_post: positive("words-per-post", d.words_per_post, 12)?,
                signal,
                dims: positive("dims", d.dims, default_dims)?,
                svd_dims,
            };
            (
                spec,
                SourceFacts {
                    rows: users,
                    tasks: 4,
                    split_values: None,
                },
            )
        }
        Source::MbtiCsv => {
            let file = path(d)?;
            let full = base.join(&file);
            let content_hash = content_hash(&full, err)?;
            let corpus = datagen::mbti::load_mbti(&full).map_err(load_error)?;
            let facts = SourceFacts {
                rows: corpus.texts.len(),
                tasks: corpus.task_names.len(),
                split_values: None,
            };
            let spec = DataSpec::MbtiCsv {
                path: file,
                content_hash,
                dims: positive("dims", d.dims, default_dims)?,
                svd_dims,
            };
            (spec, facts)
        }
        Source::SmilesCsv => {
            if let Some(c) = &d.label_columns {
                no_repeats("data.label-columns", c, plain, err)?;
            }
            let features = d.features.clone().unwrap_or_else(record::spec::ecfp_only);
            if features.is_empty() {
                return Err(err("data.features", "give at least one block".into()));
            }
            if let Some(i) = (1..features.len()).find(|&i| features[..i].contains(&features[i])) {
                let name = format!("{:?}", features[i]).to_lowercase();
                return Err(err(
                    "data.features",
                    format!("`{name}` is listed twice: each block is given once"),
                ));
            }
            let file = path(d)?;
            let full = base.join(&file);
            let content_hash = content_hash(&full, err)?;
            let options = datagen::molecule::SmilesOptions {
                smiles_column: d.smiles_column.clone().unwrap_or_else(|| "SMILES".into()),
                label_columns: d.label_columns.clone(),
                split_column: split_column.map(String::from),
                listing: false,
            };
            let loaded =
                datagen::molecule::load_smiles_csv(&full, &options).map_err(|e| match &e {
                    // The key that names that column, which the file may call otherwise.
                    datagen::DataError::MissingColumn { column, .. }
                        if *column == options.smiles_column =>
                    {
                        err("data.smiles-column", e.to_string())
                    }
                    _ => load_error(e),
                })?;
            let facts = SourceFacts {
                rows: loaded.molecules.len(),
                tasks: loaded.task_names.len(),
                split_values: loaded.split_values.map(|v| (v, full.display().to_string())),
            };
            let defaults = datagen::molecule::ecfp::EcfpParams::default();
            let spec = DataSpec::SmilesCsv {
                path: file,
                content_hash,
                smiles_column: options.smiles_column,
                label_columns: d.label_columns.clone(),
                radius: d.radius.unwrap_or(defaults.radius),
                bits: positive("bits", d.bits, defaults.bits)?,
                counts: d.counts.unwrap_or(defaults.counts),
                split_column: split_column.map(String::from),
                chemistry: record::spec::CHEMISTRY,
                invariants: d.invariants.unwrap_or(match defaults.invariants {
                    datagen::molecule::ecfp::Invariants::Masklab => {
                        record::spec::Invariants::Masklab
                    }
                    datagen::molecule::ecfp::Invariants::Rdkit => record::spec::Invariants::Rdkit,
                }),
                descriptors: features
                    .contains(&record::spec::FeatureBlock::Descriptors)
                    .then_some(record::spec::DESCRIPTORS),
                features,
            };
            (spec, facts)
        }
        Source::Csv => {
            let labels = match (&d.label_columns, &d.label_prefix) {
                (Some(c), None) => {
                    no_repeats("data.label-columns", c, plain, err)?;
                    datagen::csvio::LabelColumns::Named(c.clone())
                }
                (None, Some(p)) => datagen::csvio::LabelColumns::Prefix(p.clone()),
                _ => {
                    return Err(err(
                        "data.label-columns",
                        "give exactly one of label-columns and label-prefix".into(),
                    ))
                }
            };
            let file = path(d)?;
            let full = base.join(&file);
            let content_hash = content_hash(&full, err)?;
            let loaded = datagen::csvio::load_csv(&full, &labels).map_err(load_error)?;
            let facts = SourceFacts {
                rows: loaded.n_rows(),
                tasks: loaded.n_tasks(),
                split_values: None,
            };
            let spec = DataSpec::Csv {
                path: file,
                content_hash,
                label_columns: d.label_columns.clone(),
                label_prefix: d.label_prefix.clone(),
            };
            (spec, facts)
        }
    })
}

pub fn split(
    s: &RawSplit,
    data: &DataSpec,
    facts: &SourceFacts,
    err: &ErrFn,
) -> Result<SplitSpec, ConfigError> {
    if s.method == SplitMethod::Column {
        return column_split(s, data, facts, err);
    }
    refuse_given(
        &[
            ("split.column", s.column.is_some()),
            ("split.train-values", s.train_values.is_some()),
            ("split.dev-values", s.dev_values.is_some()),
            ("split.test-values", s.test_values.is_some()),
        ],
        "only a column split (method = \"column\") reads a column",
        err,
    )?;
    if s.method == SplitMethod::Scaffold {
        if !matches!(data, DataSpec::SmilesCsv { .. }) {
            return Err(err(
                "split.method",
                "a scaffold split needs molecules: source = \"smiles-csv\"".into(),
            ));
        }
        if s.test_fraction.is_none() {
            return Err(err(
                "split.method",
                "a scaffold split takes test-fraction (whole scaffold groups), not test-rows"
                    .into(),
            ));
        }
    }
    if s.test_rows.is_some() && s.test_fraction.is_some() {
        return Err(err(
            "split.test-rows",
            "give test-rows or test-fraction, not both".into(),
        ));
    }
    for (key, f) in [
        ("split.test-fraction", s.test_fraction),
        ("split.dev-fraction", s.dev_fraction),
    ] {
        if let Some(f) = f.filter(|f| !(0.0..=1.0).contains(f)) {
            return Err(err(key, format!("fraction {f} is outside [0, 1]")));
        }
    }
    let test_rows = match (s.test_rows, s.test_fraction) {
        (None, None) => Some(3000),
        (rows, _) => rows,
    };
    let spec = SplitSpec {
        test_rows,
        test_fraction: s.test_fraction,
        dev_fraction: s.dev_fraction.unwrap_or(0.1),
        drop_test: s.drop_test,
        method: s.method,
        column: None,
    };
    let (test, test_key) = match (spec.test_rows, spec.test_fraction) {
        (Some(k), _) => (datagen::TestRows::Last(k), "split.test-rows"),
        (None, Some(f)) => (datagen::TestRows::Fraction(f), "split.test-fraction"),
        (None, None) => unreachable!("defaulted above"),
    };
    let n = facts.rows;
    match datagen::split_sizes(n, &test, spec.dev_fraction) {
        None => Err(err(
            test_key,
            format!(
                "{} test rows asked of a data set of {n} rows",
                test_rows.unwrap_or(0)
            ),
        )),
        Some((0, dev, k)) => {
            let key = if k == n {
                test_key
            } else {
                "split.dev-fraction"
            };
            Err(err(
                key,
                format!("leaves no rows to train on: of {n} rows, {k} test and {dev} dev"),
            ))
        }
        Some(_) => Ok(spec),
    }
}

/// The first of `keys` that was given, as an error with `rule`.
fn refuse_given(keys: &[(&str, bool)], rule: &str, err: &ErrFn) -> Result<(), ConfigError> {
    match keys.iter().find(|(_, given)| *given) {
        Some((key, _)) => Err(err(key, rule.into())),
        None => Ok(()),
    }
}

/// A predefined split from a column: every value must mean train, dev or test, and train
/// and test (and dev, unless its values are `[]`) must have rows.
fn column_split(
    s: &RawSplit,
    data: &DataSpec,
    facts: &SourceFacts,
    err: &ErrFn,
) -> Result<SplitSpec, ConfigError> {
    if !matches!(data, DataSpec::SmilesCsv { .. }) {
        return Err(err(
            "split.method",
            "a column split reads a column of a molecule file: source = \"smiles-csv\"".into(),
        ));
    }
    refuse_given(
        &[
            ("split.test-rows", s.test_rows.is_some()),
            ("split.test-fraction", s.test_fraction.is_some()),
            ("split.dev-fraction", s.dev_fraction.is_some()),
        ],
        "a column split takes its parts from the column",
        err,
    )?;
    let owned = |v: &Option<Vec<String>>, default: &[&str]| {
        v.clone()
            .unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect())
    };
    let column = record::spec::ColumnSplit {
        column: s.column.clone().unwrap_or_else(|| "split".into()),
        train: owned(&s.train_values, &["train"]),
        dev: owned(&s.dev_values, &["validation", "valid", "dev"]),
        test: owned(&s.test_values, &["test"]),
    };
    let Some((values, file)) = &facts.split_values else {
        return Err(err(
            "split.column",
            "the data source read no split column".into(),
        ));
    };
    let mut counts = [0usize; 3];
    for (value, line) in values {
        match column.part(value) {
            Some(p) => counts[p] += 1,
            None => {
                return Err(err(
                    "split.column",
                    format!(
                        "{file}: line {line}: column `{}`: value `{value}` is none of the train values {:?}, dev values {:?} or test values {:?}",
                        column.column, column.train, column.dev, column.test
                    ),
                ))
            }
        }
    }
    for (part, (name, key, wanted)) in [
        ("train", "split.train-values", &column.train),
        ("dev", "split.dev-values", &column.dev),
        ("test", "split.test-values", &column.test),
    ]
    .iter()
    .enumerate()
    {
        if counts[part] == 0 && !(part == 1 && wanted.is_empty()) {
            return Err(err(
                key,
                format!(
                    "{file}: no row's `{}` is one of {wanted:?}: the {name} set would be empty",
                    column.column
                ),
            ));
        }
    }
    Ok(SplitSpec {
        test_rows: None,
        test_fraction: None,
        dev_fraction: 0.0,
        drop_test: s.drop_test,
        method: SplitMethod::Column,
        column: Some(column),
    })
}

pub fn missing(m: &RawMissing, tasks: usize, err: &ErrFn) -> Result<Vec<MissingSpec>, ConfigError> {
    let rate_ok = |key: &str, r: f64| {
        if (0.0..=1.0).contains(&r) {
            Ok(())
        } else {
            Err(err(key, format!("rate {r} is outside [0, 1]")))
        }
    };
    no_repeats(
        "missing.mechanism",
        &m.mechanism.0,
        |k| k.name().into(),
        err,
    )?;
    if let Some(rates) = &m.rate {
        finite("missing.rate", &rates.0, err)?;
        rates
            .0
            .iter()
            .try_for_each(|&r| rate_ok("missing.rate", r))?;
        no_repeats("missing.rate", &rates.0, plain, err)?;
    }
    if let Some(lists) = &m.task_rates {
        for list in &lists.0 {
            finite("missing.task-rates", list, err)?;
            if list.len() != tasks {
                return Err(err(
                    "missing.task-rates",
                    format!("{} rates given for {tasks} tasks", list.len()),
                ));
            }
            list.iter()
                .try_for_each(|&r| rate_ok("missing.task-rates", r))?;
        }
        no_repeats("missing.task-rates", &lists.0, listed, err)?;
    }
    if m.rate.is_some() && m.task_rates.is_some() {
        return Err(err(
            "missing.task-rates",
            "give rate or task-rates, not both".into(),
        ));
    }
    if let Some(skews) = &m.mnar_skew {
        finite("missing.mnar-skew", &skews.0, err)?;
        if let Some(s) = skews.0.iter().find(|s| **s <= 0.0) {
            return Err(err(
                "missing.mnar-skew",
                format!("skew {s} must be a positive number"),
            ));
        }
        no_repeats("missing.mnar-skew", &skews.0, plain, err)?;
        if !m.mechanism.0.contains(&MechanismKind::Mnar) {
            return Err(err(
                "missing.mnar-skew",
                "only mnar takes a skew; no mechanism here is mnar".into(),
            ));
        }
    }
    let mut out = Vec::new();
    for &mechanism in &m.mechanism.0 {
        if m.task_rates.is_some() && !mechanism.takes_task_rates() {
            return Err(err(
                "missing.task-rates",
                format!(
                    "{} takes one overall rate; per-task rates are for mcar and prefix",
                    mechanism.name()
                ),
            ));
        }
        let skews: Vec<Option<f64>> = match (mechanism, &m.mnar_skew) {
            (MechanismKind::Mnar, Some(s)) => s.0.iter().map(|&v| Some(v)).collect(),
            (MechanismKind::Mnar, None) => vec![Some(3.0)],
            _ => vec![None],
        };
        let rate_settings: Vec<(Option<f64>, Option<Vec<f64>>)> = match (&m.rate, &m.task_rates) {
            (_, Some(lists)) => lists.0.iter().map(|l| (None, Some(l.clone()))).collect(),
            (Some(rates), None) => rates.0.iter().map(|&r| (Some(r), None)).collect(),
            (None, None) => vec![(Some(0.0), None)],
        };
        for (rate, task_rates) in &rate_settings {
            for skew in &skews {
                out.push(MissingSpec {
                    mechanism,
                    rate: *rate,
                    task_rates: task_rates.clone(),
                    mnar_skew: *skew,
                });
            }
        }
    }
    Ok(out)
}

/// The training settings, checked.
pub fn training(
    t: &RawTraining,
    has_dev: bool,
    strategies: &[record::Strategy],
    err: &ErrFn,
) -> Result<(), ConfigError> {
    if t.pos_weight.is_some() {
        if let Some(s) = strategies.iter().find(|s| !s.takes_pos_weight()) {
            return Err(err(
                "training.pos-weight",
                format!("pos-weight weighs the masked loss; `{}` uses the post's own loss, which takes none (leave it out of strategies or drop pos-weight)", s.name()),
            ));
        }
    }
    if t.epochs.0.contains(&0) {
        return Err(err("training.epochs", "epochs must be at least 1".into()));
    }
    no_repeats("training.epochs", &t.epochs.0, plain, err)?;
    if t.batch_size.0.contains(&0) {
        return Err(err(
            "training.batch-size",
            "batch size must be at least 1".into(),
        ));
    }
    no_repeats("training.batch-size", &t.batch_size.0, plain, err)?;
    finite("training.learning-rate", &t.learning_rate.0, err)?;
    if let Some(lr) = t.learning_rate.0.iter().find(|lr| **lr <= 0.0) {
        return Err(err(
            "training.learning-rate",
            format!("learning rate {lr} must be a positive number"),
        ));
    }
    no_repeats("training.learning-rate", &t.learning_rate.0, plain, err)?;
    finite("training.dropout", &t.dropout.0, err)?;
    if let Some(p) = t.dropout.0.iter().find(|p| !(0.0..1.0).contains(*p)) {
        return Err(err(
            "training.dropout",
            format!("dropout {p} is outside [0, 1): it is the share of hidden units dropped"),
        ));
    }
    no_repeats("training.dropout", &t.dropout.0, plain, err)?;
    finite("training.weight-decay", &t.weight_decay.0, err)?;
    if let Some(w) = t.weight_decay.0.iter().find(|w| **w < 0.0) {
        return Err(err(
            "training.weight-decay",
            format!("weight decay {w} must not be negative"),
        ));
    }
    no_repeats("training.weight-decay", &t.weight_decay.0, plain, err)?;
    if t.patience == Some(0) {
        return Err(err(
            "training.patience",
            "patience must be at least 1 evaluation".into(),
        ));
    }
    if t.patience.is_some() && t.eval_every == 0 {
        return Err(err(
            "training.patience",
            "early stopping needs dev evaluations: set eval-every >= 1".into(),
        ));
    }
    if t.select_by == record::spec::SelectBy::Auc && t.patience.is_none() {
        return Err(err(
            "training.select-by",
            "selecting by the dev ROC-AUC is early stopping's: set patience".into(),
        ));
    }
    if t.patience.is_some() && !has_dev {
        return Err(err(
            "training.patience",
            "early stopping needs a dev split: dev-fraction > 0".into(),
        ));
    }
    Ok(())
}

/// Hidden layer sizes: each at least 1, no architecture twice.
pub fn hidden(h: &Axis<Vec<usize>>, err: &ErrFn) -> Result<(), ConfigError> {
    if h.0.iter().flatten().any(|&n| n == 0) {
        return Err(err(
            "model.hidden",
            "hidden layer sizes must be at least 1".into(),
        ));
    }
    no_repeats("model.hidden", &h.0, listed, err)
}
