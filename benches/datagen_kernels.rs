//! Data generation and text featurisation.

use criterion::{Criterion, Throughput};
use datagen::mbti::{corpus_from_rows, generate_mbti, MbtiParams};
use datagen::molecule::ecfp::EcfpParams;
use datagen::molecule::features::{feature_matrix, Block};
use datagen::molecule::scaffold::scaffold_hash;
use datagen::molecule::Molecule;
use datagen::text::{hashed_counts, TfIdf};
use datagen::{toy, Mechanism, Rates};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

pub fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("datagen");

    group.throughput(Throughput::Elements(100_000));
    group.bench_function("toy_100k", |b| {
        b.iter(|| black_box(toy(100_000, false, &mut ChaCha8Rng::seed_from_u64(1))))
    });
    let data = toy(100_000, false, &mut ChaCha8Rng::seed_from_u64(1));
    let rows: Vec<usize> = (0..100_000).collect();
    group.bench_function("mcar_100k", |b| {
        b.iter(|| {
            let mut d = data.clone();
            Mechanism::Mcar(Rates::All(0.5)).apply(
                &mut d,
                &rows,
                &mut ChaCha8Rng::seed_from_u64(2),
            );
            black_box(d)
        })
    });

    // A generated corpus of about 8 MB in the Kaggle format.
    let params = MbtiParams {
        users: 1000,
        ..MbtiParams::default()
    };
    let corpus = corpus_from_rows(&generate_mbti(&params, &mut ChaCha8Rng::seed_from_u64(3)));
    let bytes: usize = corpus.texts.iter().map(|t| t.len()).sum();
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function("featurize", |b| {
        b.iter(|| {
            let counts = hashed_counts(&corpus.texts, 4096);
            let train: Vec<usize> = (0..800).collect();
            let fit = TfIdf::fit(
                counts.view(),
                &train,
                None,
                &mut ChaCha8Rng::seed_from_u64(4),
            );
            black_box(fit.transform(counts.view()))
        })
    });
    group.bench_function("tokenize_hash", |b| {
        b.iter(|| black_box(hashed_counts(&corpus.texts, 4096)))
    });

    // Tox21's 7,831 SMILES (data/tox21.csv.gz): parse, then ECFP4 into 2048 bits.
    let tox21 = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/tox21.csv.gz");
    let table = datagen::input::Input::from(tox21.as_path())
        .read()
        .unwrap_or_else(|e| panic!("{e}"));
    let smiles: Vec<String> = csv::Reader::from_reader(table.as_slice())
        .records()
        .map(|r| r.expect("a CSV record")[0].to_string())
        .collect();
    group.throughput(Throughput::Elements(smiles.len() as u64));
    group.sample_size(10);
    let params = EcfpParams::default();
    group.bench_function("ecfp", |b| {
        b.iter(|| {
            let molecules: Vec<Molecule> = smiles
                .iter()
                .filter_map(|s| Molecule::from_smiles(s).ok())
                .collect();
            black_box(feature_matrix(&molecules, &[Block::Ecfp(params)]))
        })
    });
    // The whole molecule feature set: parse, ECFP4, the 41 descriptors.
    group.bench_function("ecfp_descriptors", |b| {
        b.iter(|| {
            let molecules: Vec<Molecule> = smiles
                .iter()
                .filter_map(|s| Molecule::from_smiles(s).ok())
                .collect();
            black_box(feature_matrix(
                &molecules,
                &[Block::Ecfp(params), Block::Descriptors],
            ))
        })
    });
    // The scaffold keys a scaffold split groups by (not features; for the record).
    let molecules: Vec<Molecule> = smiles
        .iter()
        .filter_map(|s| Molecule::from_smiles(s).ok())
        .collect();
    group.bench_function("scaffolds", |b| {
        b.iter(|| black_box(molecules.iter().map(scaffold_hash).collect::<Vec<u64>>()))
    });
    group.finish();
}
