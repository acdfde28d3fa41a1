//! A run's data: the source loaded or generated once per sweep, then split, featurised and
//! dropped for each run.

use crate::run::RunError;
use datagen::input::Input;
use datagen::mbti::{corpus_from_rows, generate_mbti, load_mbti, MbtiParams, TextCorpus};
use datagen::molecule::descriptors::Standardizer;
use datagen::molecule::features::FeatureRows;
use datagen::text::{featurize_counts, hashed_counts};
use datagen::{csvio, split, toy, DataError, Dataset, Mechanism, Rates, Split, TestRows};
use ndarray::{Array2, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use record::spec::{DataSpec, MechanismKind, MissingSpec, SplitMethod};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use crate::plan::PlannedRun;
use crate::strategy;
use nn::sparse::CsrMatrix;

/// A data source as loaded, before any split.
pub enum Base {
    Table(Dataset),
    /// Molecules' features and labels, with each molecule's SMILES for its scaffold key.
    Molecules {
        /// The labels, and the features' names; the features themselves are `table`'s
        /// (`data.features` has no columns).
        data: Dataset,
        /// The features, each row's stored cells: a run takes each part's rows from it
        /// dense, or its training rows as their non-zeros alone ([`prepare`]).
        table: Box<FeatureRows>,
        /// The descriptor columns, as computed: each run standardises them on its own
        /// training rows.
        descriptors: Option<std::ops::Range<usize>>,
        /// Each molecule's SMILES as the file writes it.
        smiles: Vec<String>,
        /// Each molecule's scaffold key, made from `smiles` when a scaffold split first
        /// asks (a tenth of MUV's loading time, which random splits do not need).
        scaffolds: OnceLock<Vec<u64>>,
        /// What the loader skipped, said in each run's record: `None` when nothing was.
        skipped: Option<String>,
        /// Each molecule's value in the split column, where a column split reads one.
        split_values: Option<Vec<String>>,
    },
    Text {
        corpus: TextCorpus,
        counts: Array2<f32>,
        svd_dims: Option<usize>,
    },
}

impl Base {
    pub fn n_rows(&self) -> usize {
        match self {
            Base::Table(d) | Base::Molecules { data: d, .. } => d.n_rows(),
            Base::Text { corpus, .. } => corpus.texts.len(),
        }
    }

    /// The share of positives per task in the true labels, where every label is known.
    pub fn prevalence(&self) -> Option<Vec<f64>> {
        let truth = match self {
            Base::Table(d) | Base::Molecules { data: d, .. } => d.truth.as_ref()?,
            Base::Text { corpus, .. } => {
                if !corpus.observed.iter().all(|&o| o) {
                    return None;
                }
                &corpus.labels
            }
        };
        let n = truth.nrows().max(1) as f64;
        Some(
            truth
                .columns()
                .into_iter()
                .map(|c| c.iter().filter(|&&v| v == 1.0).count() as f64 / n)
                .collect(),
        )
    }
}

type Slot = Arc<OnceLock<Result<Arc<Base>, Arc<DataError>>>>;

/// Sources shared by the runs of a sweep, each built once, by whichever run asks first: a
/// file once for every seed, a generated source once for each data stream.
#[derive(Default)]
pub struct DataCache {
    slots: Mutex<HashMap<String, Slot>>,
    /// Where sources are built: a pool on every core (made on first use). A sweep's runs are
    /// on a pool of one thread a job, where a source's parallel parts (featurising
    /// molecules) would run on `--jobs` threads, one with `--jobs 1`.
    builders: OnceLock<rayon::ThreadPool>,
}

impl DataCache {
    pub fn get(&self, run: &PlannedRun, base_dir: &Path) -> Result<Arc<Base>, RunError> {
        // A file is read and featurised once for all seeds; a generated source once a stream.
        let stream = run.spec.data.is_generated().then_some(run.streams.data);
        let key = serde_json::to_string(&(&run.spec.data, stream)).expect("serialises");
        let slot = self
            .slots
            .lock()
            .expect("no panics while held")
            .entry(key)
            .or_default()
            .clone();
        slot.get_or_init(|| {
            let builders = self.builders.get_or_init(|| {
                rayon::ThreadPoolBuilder::new()
                    .thread_name(|i| format!("masklab-data-{i}"))
                    .build()
                    .expect("a thread pool")
            });
            // Handed over from a thread of no pool: a sweep's worker waiting on another
            // pool's `install` would take up its own pool's next run meanwhile, and that
            // run, asking for this same source, would wait on this very slot for ever.
            std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        builders.install(|| build(&run.spec.data, run.streams.data, base_dir))
                    })
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .map(Arc::new)
            .map_err(Arc::new)
        })
        .clone()
        .map_err(RunError::Data)
    }
}

/// Loads or generates a source from its stream seed. File sources are read relative to
/// `base_dir` (the experiment file's folder).
pub fn build(spec: &DataSpec, seed: u64, base_dir: &Path) -> Result<Base, DataError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok(match spec {
        DataSpec::Toy { rows, correlated } => Base::Table(toy(*rows, *correlated, &mut rng)),
        DataSpec::Csv {
            path,
            content_hash,
            label_columns,
            label_prefix,
        } => {
            let labels = match (label_columns, label_prefix) {
                (Some(c), _) => csvio::LabelColumns::Named(c.clone()),
                (None, Some(p)) => csvio::LabelColumns::Prefix(p.clone()),
                (None, None) => csvio::LabelColumns::Named(Vec::new()),
            };
            let full = base_dir.join(path);
            Base::Table(csvio::load_csv(checked(&full, content_hash), &labels)?)
        }
        DataSpec::SmilesCsv {
            path,
            smiles_column,
            label_columns,
            radius,
            bits,
            counts,
            content_hash,
            split_column,
            chemistry: _,
            invariants,
            features: blocks,
            descriptors: _,
        } => {
            let options = datagen::molecule::SmilesOptions {
                smiles_column: smiles_column.clone(),
                label_columns: label_columns.clone(),
                split_column: split_column.clone(),
                listing: false,
            };
            let full = base_dir.join(path);
            let loaded =
                datagen::molecule::load_smiles_csv(checked(&full, content_hash), &options)?;
            let params = datagen::molecule::ecfp::EcfpParams {
                radius: *radius,
                bits: *bits,
                counts: *counts,
                invariants: match invariants {
                    record::spec::Invariants::Masklab => {
                        datagen::molecule::ecfp::Invariants::Masklab
                    }
                    record::spec::Invariants::Rdkit => datagen::molecule::ecfp::Invariants::Rdkit,
                },
            };
            let (table, feature_names, descriptors) =
                feature_blocks(blocks, &loaded.molecules, &params);
            let complete = loaded.observed.iter().all(|&o| o);
            let skipped = (!loaded.skipped.is_empty()).then(|| {
                let first: Vec<String> = loaded
                    .skipped
                    .iter()
                    .take(5)
                    .map(|(line, smiles, why)| format!("line {line}: `{smiles}` ({why})"))
                    .collect();
                format!(
                    "{} of {} SMILES in {} did not parse and were skipped: {}",
                    loaded.skipped.len(),
                    loaded.skipped.len() + loaded.molecules.len(),
                    path.display(),
                    first.join("; ")
                )
            });
            Base::Molecules {
                skipped,
                split_values: loaded
                    .split_values
                    .map(|v| v.into_iter().map(|(value, _)| value).collect()),
                descriptors,
                data: Dataset {
                    feature_names,
                    features: Array2::zeros((table.n_rows(), 0)),
                    truth: complete.then(|| loaded.labels.clone()),
                    labels: loaded.labels,
                    observed: loaded.observed,
                    task_names: loaded.task_names,
                },
                smiles: loaded.smiles,
                table,
                scaffolds: OnceLock::new(),
            }
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
            content_hash,
        } => {
            let full = base_dir.join(path);
            let corpus = load_mbti(checked(&full, content_hash))?;
            let counts = hashed_counts(&corpus.texts, *dims);
            Base::Text {
                corpus,
                counts,
                svd_dims: *svd_dims,
            }
        }
    })
}

/// The blocks' features side by side, their names, and where the descriptors are.
fn feature_blocks(
    blocks: &[record::spec::FeatureBlock],
    molecules: &[datagen::molecule::Molecule],
    params: &datagen::molecule::ecfp::EcfpParams,
) -> (
    Box<FeatureRows>,
    Vec<String>,
    Option<std::ops::Range<usize>>,
) {
    use datagen::molecule::{descriptors, features::Block};
    let mut table = Vec::new();
    let mut names = Vec::new();
    let mut descriptor_columns = None;
    for block in blocks {
        match block {
            record::spec::FeatureBlock::Ecfp => {
                table.push(Block::Ecfp(*params));
                names.extend((0..params.bits).map(|j| format!("ecfp{j}")));
            }
            record::spec::FeatureBlock::Descriptors => {
                descriptor_columns = Some(names.len()..names.len() + descriptors::NAMES.len());
                table.push(Block::Descriptors);
                names.extend(descriptors::NAMES.iter().map(|n| n.to_string()));
            }
        }
    }
    let features = Box::new(datagen::molecule::features::feature_rows(molecules, &table));
    (features, names, descriptor_columns)
}

/// Each molecule's scaffold key, from the SMILES the loader parsed, on all cores (each
/// molecule on its own: the same keys in any order).
fn scaffold_keys(smiles: &[String]) -> Vec<u64> {
    use datagen::molecule::{scaffold::scaffold_hash, Molecule};
    smiles
        .par_iter()
        .map(|s| scaffold_hash(&Molecule::from_smiles(s).expect("the loader kept it")))
        .collect()
}

/// The rows of each part of a predefined split, in file order.
fn by_column(
    values: &[String],
    column: Option<&record::spec::ColumnSplit>,
) -> Result<Split, RunError> {
    let column = column.ok_or(RunError::NoSplitColumn)?;
    let mut parts: [Vec<usize>; 3] = Default::default();
    for (row, value) in values.iter().enumerate() {
        // Planning checked every value; one that is not known here is not this file's.
        let part = column.part(value).ok_or(RunError::NoSplitColumn)?;
        parts[part].push(row);
    }
    let [train, dev, test] = parts;
    Ok(Split { train, dev, test })
}

/// An input file that must still have the content hash the sweep was planned with.
fn checked<'a>(path: &'a Path, content_hash: &'a str) -> Input<'a> {
    Input {
        path,
        content_hash: Some(content_hash),
    }
}

/// A run's data after split, features and drops: each part's rows, in the split's order.
pub struct Prepared {
    /// Said in the run's record.
    pub warnings: Vec<String>,
    /// The training split; its `features` have no columns where `train_sparse` holds them.
    pub train: Dataset,
    /// The training inputs as their non-zeros alone: a molecule run whose strategy trains
    /// on every training row as it is (not [`strategy::reads_dense_train`]) never makes
    /// them dense (MUV's would be 622 MB a run).
    pub train_sparse: Option<CsrMatrix>,
    pub dev: Dataset,
    pub test: Dataset,
    pub split: Split,
    /// Per task, the share of labels observed before the drops that the drops removed,
    /// among the rows they could touch; and the same over all tasks.
    pub realised_drop_rate: Vec<Option<f64>>,
    pub realised_drop_rate_overall: Option<f64>,
}

/// Splits, featurises (fitted on the training rows) and drops labels, each from its stream.
pub fn prepare(base: &Base, run: &PlannedRun) -> Result<Prepared, RunError> {
    let spec = &run.spec;
    let n = base.n_rows();
    let test = match (spec.split.test_rows, spec.split.test_fraction) {
        (Some(k), _) => TestRows::Last(k),
        (None, Some(f)) => TestRows::Fraction(f),
        (None, None) => TestRows::Last(0),
    };
    match datagen::split_sizes(n, &test, spec.split.dev_fraction) {
        None => return Err(RunError::Split { rows: n, test }),
        Some((0, ..)) => return Err(RunError::NoTrainingRows { rows: n }),
        Some(_) => {}
    }
    let rows = match (spec.split.method, base) {
        (
            SplitMethod::Scaffold,
            Base::Molecules {
                smiles, scaffolds, ..
            },
        ) => datagen::molecule::scaffold::scaffold_split(
            scaffolds.get_or_init(|| scaffold_keys(smiles)),
            spec.split.test_fraction.unwrap_or(0.0),
            spec.split.dev_fraction,
        ),
        (SplitMethod::Scaffold, _) => return Err(RunError::ScaffoldWithoutMolecules),
        (
            SplitMethod::Column,
            Base::Molecules {
                split_values: Some(values),
                ..
            },
        ) => by_column(values, spec.split.column.as_ref())?,
        (SplitMethod::Column, _) => return Err(RunError::NoSplitColumn),
        (SplitMethod::Random, _) => split(
            n,
            &test,
            spec.split.dev_fraction,
            &mut ChaCha8Rng::seed_from_u64(run.streams.split),
        ),
    };
    if rows.train.is_empty() {
        return Err(RunError::NoTrainingRows { rows: n });
    }
    // The labels the drops act on; the inputs stay where they are (the cached base's, or
    // the text features fitted for this run) until each part's rows are selected from them.
    let (mut data, standardizer) = match base {
        Base::Table(d) => (without_features(d), None),
        Base::Molecules {
            data: d,
            table,
            descriptors,
            ..
        } => (
            without_features(d),
            descriptors
                .as_ref()
                .map(|c| Standardizer::fit_cells(|r, j| table.get(r, j), c.clone(), &rows.train)),
        ),
        Base::Text {
            corpus,
            counts,
            svd_dims,
        } => {
            let mut rng = ChaCha8Rng::seed_from_u64(run.streams.split);
            rng.set_stream(1);
            let d = featurize_counts(corpus, counts.view(), &rows.train, *svd_dims, &mut rng);
            (d, None)
        }
    };
    let mut eligible = [rows.train.clone(), rows.dev.clone()].concat();
    if spec.split.drop_test {
        eligible.extend(&rows.test);
    }
    eligible.sort_unstable(); // file order: the prefix mechanism and the drop stream see rows in one order
    let mechanism = mechanism(&data, &eligible, &run.spec.missing)?;
    let before = observed_counts(&data, &eligible);
    mechanism.apply(
        &mut data,
        &eligible,
        &mut ChaCha8Rng::seed_from_u64(run.streams.drops),
    );
    let after = observed_counts(&data, &eligible);
    let share = |b: usize, a: usize| (b > 0).then(|| (b - a) as f64 / b as f64);
    let warnings = match base {
        Base::Molecules {
            skipped: Some(s), ..
        } => vec![s.clone()],
        _ => Vec::new(),
    };
    // The cached base's inputs, where `data` has none of its own (text's are this run's).
    let part = |rows: &[usize]| {
        let mut part = data.select(rows);
        match base {
            Base::Table(d) => part.features = d.features.select(Axis(0), rows),
            Base::Molecules { table, .. } => part.features = table.dense_rows(rows),
            Base::Text { .. } => {}
        }
        if let Some(s) = &standardizer {
            s.apply(&mut part.features);
        }
        part
    };
    let train_sparse = match base {
        Base::Molecules { table, .. } if !strategy::reads_dense_train(spec.strategy) => {
            Some(sparse_rows(table, &rows.train, standardizer.as_ref()))
        }
        _ => None,
    };
    let train = match train_sparse {
        Some(_) => data.select(&rows.train), // no columns: the inputs are `train_sparse`
        None => part(&rows.train),
    };
    Ok(Prepared {
        warnings,
        train,
        train_sparse,
        dev: part(&rows.dev),
        test: part(&rows.test),
        realised_drop_rate: before
            .iter()
            .zip(&after)
            .map(|(&b, &a)| share(b, a))
            .collect(),
        realised_drop_rate_overall: share(before.iter().sum(), after.iter().sum()),
        split: rows,
    })
}

/// Rows `rows` of `table` as their non-zeros, with `standardizer`'s columns standardised:
/// the same entries as the non-zeros of those rows made dense and standardised.
fn sparse_rows(
    table: &FeatureRows,
    rows: &[usize],
    standardizer: Option<&Standardizer>,
) -> CsrMatrix {
    let mut m = CsrMatrix::with_columns(table.width());
    for &r in rows {
        let (columns, values) = table.row_cells(r);
        let cells = columns.iter().copied().zip(values.iter().copied());
        match standardizer {
            None => m.push_row(cells),
            Some(s) => {
                let fitted = s.columns();
                let (start, end) = (fitted.start as u32, fitted.end as u32);
                // Every fitted column, stored or not: a standardised 0 is rarely 0.
                let inside = fitted.map(|j| (j as u32, s.standardized(j, table.get(r, j))));
                let before = cells.clone().take_while(|&(j, _)| j < start);
                let after = cells.skip_while(|&(j, _)| j < end);
                m.push_row(before.chain(inside).chain(after));
            }
        }
    }
    m
}

/// `d`'s labels without its inputs (no columns), for the drops to act on: a run never
/// copies a whole input table, only each part's rows ([`Prepared`]).
fn without_features(d: &Dataset) -> Dataset {
    Dataset {
        features: Array2::zeros((d.n_rows(), 0)),
        labels: d.labels.clone(),
        observed: d.observed.clone(),
        truth: d.truth.clone(),
        task_names: d.task_names.clone(),
        feature_names: d.feature_names.clone(),
    }
}

/// Observed labels per task among `rows`.
fn observed_counts(data: &Dataset, rows: &[usize]) -> Vec<usize> {
    (0..data.n_tasks())
        .map(|t| rows.iter().filter(|&&r| data.observed[[r, t]]).count())
        .collect()
}

/// The datagen mechanism of a run's missingness settings. MNAR's overall rate is matched
/// to each task's prevalence among the eligible rows ([`datagen::mnar_calibrated`]).
fn mechanism(data: &Dataset, eligible: &[usize], m: &MissingSpec) -> Result<Mechanism, RunError> {
    let rates = match (&m.rate, &m.task_rates) {
        (_, Some(r)) => Rates::PerTask(r.clone()),
        (Some(r), None) => Rates::All(*r),
        (None, None) => Rates::All(0.0),
    };
    Ok(match m.mechanism {
        MechanismKind::Mcar => Mechanism::Mcar(rates),
        MechanismKind::Prefix => Mechanism::Prefix(rates),
        MechanismKind::Block => Mechanism::Block(m.rate.unwrap_or(0.0)),
        MechanismKind::Mnar => {
            let truth = data.truth.as_ref().ok_or(RunError::NoTruthForMnar)?;
            let prevalence: Vec<f64> = (0..data.n_tasks())
                .map(|t| {
                    let positives = eligible.iter().filter(|&&r| truth[[r, t]] == 1.0).count();
                    positives as f64 / eligible.len().max(1) as f64
                })
                .collect();
            datagen::mnar_calibrated(
                &prevalence,
                m.rate.unwrap_or(0.0),
                m.mnar_skew.unwrap_or(3.0),
            )
            .map_err(RunError::MnarUnreachable)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(data: &str) -> Vec<PlannedRun> {
        let text = format!(
            "seeds = 2\nstrategies = [\"masked\"]\n[data]\n{data}\n[split]\ntest-rows = 2\n[missing]\nrate = 0.0\n[training]\nepochs = 1\n"
        );
        let raw: crate::config::RawExperiment = toml::from_str(&text).unwrap();
        let dir = std::env::temp_dir();
        crate::plan::validate(raw, "t", &dir.join("t.toml"), &text)
            .unwrap()
            .runs
    }

    /// The planned runs of a small CSV source written into `dir`.
    fn csv_runs(dir: &Path) -> Vec<PlannedRun> {
        let csv = dir.join("table.csv");
        std::fs::write(&csv, "a,y\n0.1,1\n0.2,0\n0.3,1\n0.4,0\n0.5,1\n0.6,0\n").unwrap();
        planned(&format!(
            "source = \"csv\"\npath = \"{}\"\nlabel-columns = [\"y\"]",
            csv.display()
        ))
    }

    #[test]
    fn a_file_is_built_once_for_all_seeds_and_a_generated_source_once_a_stream() {
        let dir = tempfile::tempdir().unwrap();
        let file = csv_runs(dir.path());
        let toy = planned("source = \"toy\"\nrows = 40");
        for (runs, shared) in [(file, true), (toy, false)] {
            assert_ne!(runs[0].streams.data, runs[1].streams.data);
            let cache = DataCache::default();
            let (a, b) = (
                cache.get(&runs[0], dir.path()).unwrap(),
                cache.get(&runs[1], dir.path()).unwrap(),
            );
            assert_eq!(Arc::ptr_eq(&a, &b), shared);
        }
    }

    /// A run that trains on every row keeps its training inputs as non-zeros only: the
    /// entries of the dense, standardised rows another strategy's run of the same seed
    /// gets (the fingerprint's and every descriptor's, standardised zeros included).
    #[test]
    fn sparse_training_inputs_are_the_dense_ones_non_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let smiles = [
            "c1ccccc1",
            "CCO",
            "Oc1ccncc1",
            "CC(=O)O",
            "C1CCNCC1",
            "CCCC",
            "NCCO",
        ];
        let mut csv = String::from("SMILES,y\n");
        for i in 0..40 {
            csv.push_str(&format!("{},{}\n", smiles[i % smiles.len()], i % 2));
        }
        std::fs::write(dir.path().join("mols.csv"), &csv).unwrap();
        let data = format!(
            "source = \"smiles-csv\"\npath = \"{}\"\nbits = 128\nfeatures = [\"ecfp\", \"descriptors\"]",
            dir.path().join("mols.csv").display()
        );
        let text = format!(
            "seeds = 1\nstrategies = [\"masked\", \"single-task\"]\n[data]\n{data}\n[split]\ntest-rows = 5\n[missing]\nrate = 0.3\n[training]\nepochs = 1\n"
        );
        let raw: crate::config::RawExperiment = toml::from_str(&text).unwrap();
        let runs = crate::plan::validate(raw, "t", &dir.path().join("t.toml"), &text)
            .unwrap()
            .runs;
        let cache = DataCache::default();
        let prepared: Vec<Prepared> = runs
            .iter()
            .map(|run| prepare(&cache.get(run, dir.path()).unwrap(), run).unwrap())
            .collect();
        let (sparse, dense) = (&prepared[0], &prepared[1]);
        let m = sparse
            .train_sparse
            .as_ref()
            .expect("masked keeps non-zeros");
        assert!(dense.train_sparse.is_none(), "single-task reads dense rows");
        assert_eq!(sparse.train.features.ncols(), 0);
        assert_eq!(m, &CsrMatrix::from_dense(dense.train.features.view()));
        assert_eq!(m.n_cols(), 128 + 41);
        let bits = |d: &Dataset| d.labels.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&sparse.train), bits(&dense.train), "the same drops");
        assert_eq!(sparse.train.observed, dense.train.observed);
    }

    /// A sweep's worker building a source while its pool holds another run of the same
    /// source (one thread, `--jobs 1`) must not take that run up and wait on itself.
    #[test]
    fn runs_of_one_source_on_a_pool_of_one_thread_do_not_wait_on_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let runs = csv_runs(dir.path());
        let (done, finished) = std::sync::mpsc::channel();
        let base_dir = dir.path().to_path_buf();
        std::thread::spawn(move || {
            let cache = DataCache::default();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            let built: Vec<_> = pool.install(|| {
                runs.par_iter()
                    .with_max_len(1)
                    .map(|run| cache.get(run, &base_dir).unwrap())
                    .collect()
            });
            done.send(built.len()).unwrap();
        });
        let waited = std::time::Duration::from_secs(60);
        assert_eq!(
            finished.recv_timeout(waited),
            Ok(2),
            "the runs waited on each other"
        );
    }
}
