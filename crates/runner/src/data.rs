//! A run's data: the source loaded or generated once per sweep, then split, featurised and
//! dropped for each run.

use crate::plan::{DataSpec, PlannedRun};
use datagen::mbti::{corpus_from_rows, generate_mbti, load_mbti, MbtiParams, TextCorpus};
use datagen::text::{hashed_counts, TfIdf};
use datagen::{csvio, split, toy, Dataset, Mechanism, Rates, Split, TestRows};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

/// A data source as loaded, before any split.
pub enum Base {
    Table(Dataset),
    Text {
        corpus: TextCorpus,
        counts: Array2<f32>,
        svd_dims: Option<usize>,
    },
}

type Slot = Arc<OnceLock<Result<Arc<Base>, String>>>;

/// Sources shared by the runs of a sweep, each built once, by whichever run asks first.
#[derive(Default)]
pub struct DataCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl DataCache {
    pub fn get(&self, run: &PlannedRun, base_dir: &Path) -> Result<Arc<Base>, String> {
        let key = serde_json::to_string(&(&run.spec.data, run.streams.data)).expect("serialises");
        let slot = self
            .slots
            .lock()
            .expect("no panics while held")
            .entry(key)
            .or_default()
            .clone();
        slot.get_or_init(|| build(&run.spec.data, run.streams.data, base_dir).map(Arc::new))
            .clone()
    }
}

fn build(spec: &DataSpec, seed: u64, base_dir: &Path) -> Result<Base, String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok(match spec {
        DataSpec::Toy { rows } => Base::Table(toy(*rows, &mut rng)),
        DataSpec::Csv {
            path,
            label_columns,
            label_prefix,
        } => {
            let labels = match (label_columns, label_prefix) {
                (Some(c), _) => csvio::LabelColumns::Named(c.clone()),
                (None, Some(p)) => csvio::LabelColumns::Prefix(p.clone()),
                (None, None) => return Err("csv source without label columns".into()),
            };
            Base::Table(csvio::load_csv(&base_dir.join(path), &labels).map_err(|e| e.to_string())?)
        }
        DataSpec::MbtiGenerated {
            users,
            posts_per_user,
            words_per_post,
            signal,
            dims,
            svd_dims,
        } => {
            let params = MbtiParams {
                users: *users,
                posts_per_user: *posts_per_user,
                words_per_post: *words_per_post,
                signal: *signal,
                ..MbtiParams::default()
            };
            let corpus = corpus_from_rows(&generate_mbti(&params, &mut rng));
            let counts = hashed_counts(&corpus.texts, *dims);
            Base::Text {
                corpus,
                counts,
                svd_dims: *svd_dims,
            }
        }
        DataSpec::MbtiCsv {
            path,
            dims,
            svd_dims,
        } => {
            let corpus = load_mbti(&base_dir.join(path)).map_err(|e| e.to_string())?;
            let counts = hashed_counts(&corpus.texts, *dims);
            Base::Text {
                corpus,
                counts,
                svd_dims: *svd_dims,
            }
        }
    })
}

/// A run's data after split, features and drops.
pub struct Prepared {
    pub data: Dataset,
    pub split: Split,
}

/// Splits, featurises (fitted on the training rows) and drops labels, each from its stream.
pub fn prepare(base: &Base, run: &PlannedRun) -> Result<Prepared, String> {
    let spec = &run.spec;
    let n = match base {
        Base::Table(d) => d.n_rows(),
        Base::Text { corpus, .. } => corpus.texts.len(),
    };
    let test = match (spec.split.test_rows, spec.split.test_fraction) {
        (Some(k), _) if k > n => return Err(format!("{k} test rows asked of a data set of {n}")),
        (Some(k), _) => TestRows::Last(k),
        (None, Some(f)) => TestRows::Fraction(f),
        (None, None) => TestRows::Last(0),
    };
    let rows = split(
        n,
        &test,
        spec.split.dev_fraction,
        &mut ChaCha8Rng::seed_from_u64(run.streams.split),
    );
    let mut data = match base {
        Base::Table(d) => d.clone(),
        Base::Text {
            corpus,
            counts,
            svd_dims,
        } => {
            let mut rng = ChaCha8Rng::seed_from_u64(run.streams.split);
            rng.set_stream(1);
            let tfidf = TfIdf::fit(counts.view(), &rows.train, *svd_dims, &mut rng);
            let features = tfidf.transform(counts.view());
            let complete = corpus.observed.iter().all(|&o| o);
            Dataset {
                feature_names: (0..features.ncols()).map(|j| format!("f{j}")).collect(),
                features,
                truth: complete.then(|| corpus.labels.clone()),
                labels: corpus.labels.clone(),
                observed: corpus.observed.clone(),
                task_names: corpus.task_names.clone(),
            }
        }
    };
    let mut eligible = [rows.train.clone(), rows.dev.clone()].concat();
    if spec.split.drop_test {
        eligible.extend(&rows.test);
    }
    eligible.sort_unstable(); // file order: the prefix mechanism and the drop stream see rows in one order
    let mechanism = mechanism(&data, &eligible, &run.spec.missing)?;
    mechanism.apply(
        &mut data,
        &eligible,
        &mut ChaCha8Rng::seed_from_u64(run.streams.drops),
    );
    Ok(Prepared { data, split: rows })
}

/// The datagen mechanism of a run's missingness settings. MNAR's overall `rate` is matched by
/// choosing per-task rates for positives and negatives from each task's prevalence among the
/// eligible rows: `r+ = rate / (p + (1-p)·skew)`, `r- = skew · r+` (both capped at 1).
fn mechanism(
    data: &Dataset,
    eligible: &[usize],
    m: &crate::plan::MissingSpec,
) -> Result<Mechanism, String> {
    use crate::config::MechanismKind as K;
    let rates = match (&m.rate, &m.task_rates) {
        (_, Some(r)) => Rates::PerTask(r.clone()),
        (Some(r), None) => Rates::All(*r),
        (None, None) => Rates::All(0.0),
    };
    Ok(match m.mechanism {
        K::Mcar => Mechanism::Mcar(rates),
        K::Prefix => Mechanism::Prefix(rates),
        K::Block => Mechanism::Block(m.rate.unwrap_or(0.0)),
        K::Mnar => {
            let truth = data
                .truth
                .as_ref()
                .ok_or("mnar needs the true labels, which this data set lacks")?;
            let (rate, skew) = (m.rate.unwrap_or(0.0), m.mnar_skew.unwrap_or(3.0));
            let (mut pos, mut neg) = (Vec::new(), Vec::new());
            for t in 0..data.n_tasks() {
                let p = if eligible.is_empty() {
                    0.5
                } else {
                    eligible.iter().filter(|&&r| truth[[r, t]] == 1.0).count() as f64
                        / eligible.len() as f64
                };
                let r_pos = rate / (p + (1.0 - p) * skew);
                pos.push(r_pos.min(1.0));
                neg.push((skew * r_pos).min(1.0));
            }
            Mechanism::Mnar {
                positive: Rates::PerTask(pos),
                negative: Rates::PerTask(neg),
            }
        }
    })
}
