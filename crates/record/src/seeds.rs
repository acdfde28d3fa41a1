//! A run's identity: its id and its stream seeds, both hashes of its resolved settings.
//! Here, beside the spec, so that everyone who reads records (the sweep, `status`, the
//! report) can tell which of a run's lines were written for these settings
//! ([`crate::runs`]).

use crate::spec::{DataSpec, RunSpec, Streams};

fn hash(parts: &[&dyn erased::Json]) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(p.json().as_bytes());
        h.update(b"\0");
    }
    h.finalize()
}

/// Object-safe JSON serialisation for hashing heterogeneous parts.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("plain data serialises")
        }
    }
}

fn stream(parts: &[&dyn erased::Json]) -> u64 {
    u64::from_le_bytes(hash(parts).as_bytes()[..8].try_into().expect("8 bytes"))
}

/// The run's id: a hash of its resolved settings (input files by their content hash).
pub fn run_id(spec: &RunSpec) -> String {
    hash(&[spec]).to_hex()[..16].to_string()
}

/// The run's stream seeds, from the experiment seed, the settings each depends on, and the
/// stream's purpose. Runs that differ only in strategy share data, drops and init, so
/// strategies are compared on identical inputs. An input file counts by its content, not its
/// path: the same table moved, or gzipped, gives the same streams.
pub fn streams(spec: &RunSpec) -> Streams {
    let (e, s) = (&spec.experiment_seed, &spec.seed);
    let identity = path_free(&spec.data);
    let data: &dyn erased::Json = match &identity {
        Some(v) => v,
        None => &spec.data,
    };
    Streams {
        data: data_stream(spec.experiment_seed, &spec.data, spec.seed),
        split: stream(&[e, &"split", data, &spec.split, s]),
        drops: stream(&[e, &"drops", data, &spec.split, &spec.missing, s]),
        init: stream(&[e, &"init", &spec.hidden, s]),
        batches: stream(&[e, &"batches", &spec.training, s]),
    }
}

/// The seed of the stream that generates a source's data.
pub fn data_stream(experiment_seed: u64, data: &DataSpec, seed: u64) -> u64 {
    let identity = path_free(data);
    let d: &dyn erased::Json = match &identity {
        Some(v) => v,
        None => data,
    };
    stream(&[&experiment_seed, &"data", d, &seed])
}

/// A file source's settings without where its file lives (its content hash stands for it),
/// the version of masklab's molecule reading, and the descriptor block (which change what
/// ran, not the rows or the random draws: a run with descriptors is split, and loses
/// labels, as the same run without them); `None` for a generated source, which is hashed as
/// it is.
fn path_free(data: &DataSpec) -> Option<serde_json::Value> {
    let mut value = serde_json::to_value(data).expect("plain data serialises");
    let map = value.as_object_mut()?;
    map.remove("path")?;
    map.remove("chemistry");
    map.remove("features");
    map.remove("descriptors");
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{MechanismKind, MissingSpec, SplitMethod, SplitSpec, TrainingSpec};
    use crate::Strategy;

    fn molecules(path: &str, chemistry: u32) -> RunSpec {
        RunSpec {
            format: crate::FORMAT,
            experiment: "e".into(),
            variant: None,
            experiment_seed: 1,
            seed: 0,
            data: DataSpec::SmilesCsv {
                path: path.into(),
                content_hash: "abc".into(),
                smiles_column: "SMILES".into(),
                label_columns: None,
                radius: 2,
                bits: 2048,
                counts: false,
                split_column: None,
                chemistry,
                invariants: Default::default(),
                features: crate::spec::ecfp_only(),
                descriptors: None,
            },
            split: SplitSpec {
                test_rows: None,
                test_fraction: Some(0.1),
                dev_fraction: 0.1,
                drop_test: false,
                method: SplitMethod::Random,
                column: None,
            },
            missing: MissingSpec {
                mechanism: MechanismKind::Mcar,
                rate: Some(0.0),
                task_rates: None,
                mnar_skew: None,
            },
            hidden: vec![8],
            training: TrainingSpec {
                epochs: 1,
                batch_size: 8,
                learning_rate: 0.01,
                eval_every: 1,
                patience: None,
                pos_weight: None,
                dropout: 0.0,
                weight_decay: 0.0,
                select_by: Default::default(),
                ensemble: false,
            },
            strategy: Strategy::Masked,
            params: None,
        }
    }

    #[test]
    fn a_new_way_of_reading_molecules_is_a_new_run_on_the_same_draws() {
        let (old, new) = (molecules("t.csv", 1), molecules("t.csv", 2));
        assert_ne!(run_id(&old), run_id(&new));
        assert_eq!(streams(&old), streams(&new));
        // Where the file lives changes what ran's name, not the draws either.
        let moved = molecules("data/t.csv.gz", 2);
        assert_ne!(run_id(&moved), run_id(&new));
        assert_eq!(streams(&moved), streams(&new));
    }

    #[test]
    fn the_descriptor_block_is_a_new_run_on_the_same_draws_and_old_ids_stay() {
        let plain = molecules("t.csv", 3);
        let mut with = plain.clone();
        if let DataSpec::SmilesCsv {
            features,
            descriptors,
            ..
        } = &mut with.data
        {
            features.push(crate::spec::FeatureBlock::Descriptors);
            *descriptors = Some(crate::spec::DESCRIPTORS);
        }
        assert_ne!(run_id(&plain), run_id(&with));
        assert_eq!(streams(&plain), streams(&with));
        // The fingerprint alone is written as before the blocks existed.
        let json = serde_json::to_string(&plain.data).unwrap();
        assert!(
            !json.contains("features") && !json.contains("descriptors"),
            "{json}"
        );
    }
}
