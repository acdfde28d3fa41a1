//! Molecules end to end: a SMILES CSV with missing labels and one SMILES that does not
//! parse, swept with random and scaffold splits, reported with PR-AUC and the per-assay
//! figure.

use crate::common::{experiment, metric_records, spec_of, sweep, sweep_ok};

const SMILES: [&str; 20] = [
    "c1ccccc1",
    "Cc1ccccc1",
    "CCc1ccccc1",
    "Oc1ccccc1",
    "Nc1ccccc1",
    "c1ccncc1",
    "Cc1ccncc1",
    "C1CCCCC1",
    "CC1CCCCC1",
    "OC1CCCCC1",
    "CCO",
    "CCN",
    "CCCC",
    "CCCO",
    "CC(=O)O",
    "NCCO",
    "c1ccc2ccccc2c1",
    "Cc1ccc2ccccc2c1",
    "C1CCNCC1",
    "CC1CCNCC1",
];

#[test]
fn a_smiles_csv_sweeps_with_random_and_scaffold_splits_and_reports_pr_auc() {
    let dir = tempfile::tempdir().unwrap();
    // 120 molecules: `ring` is whether it has a ring, `nitrogen` whether it has N (missing on
    // every fourth row); then one unclosed ring, skipped (1 of 121 rows, under 1%).
    let mut csv = String::from("SMILES,ring,nitrogen\n");
    for i in 0..120 {
        let s = SMILES[i % SMILES.len()];
        let ring = s.contains('1') as u8;
        let n = if i % 4 == 3 {
            String::new()
        } else {
            (s.contains('N') || s.contains('n'))
                .to_string()
                .replace("true", "1")
                .replace("false", "0")
        };
        csv.push_str(&format!("{s},{ring},{n}\n"));
    }
    csv.push_str("C1CC,1,0\n");
    std::fs::write(dir.path().join("mols.csv"), csv).unwrap();
    let body = r#"
seed = 3
seeds = 2
strategies = ["masked", "single-task"]

[data]
source = "smiles-csv"
path = "mols.csv"
bits = 256

[missing]
rate = [0.0, 0.5]

[model]
hidden = [16]

[training]
epochs = 5
batch-size = 32
learning-rate = 0.01
pos-weight = "balanced"

[[variants]]
name = "random"
split = { test-fraction = 0.2, dev-fraction = 0.125 }

[[variants]]
name = "scaffold"
split = { test-fraction = 0.2, dev-fraction = 0.125, method = "scaffold" }
"#;
    let file = experiment(dir.path(), "mols", body);
    let out = dir.path().join("out");
    let result = sweep(&file, &out, &[]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    let records = metric_records(&out);
    assert_eq!(records.len(), 2 * 2 * 2 * 2);
    for (id, bytes) in &records {
        let m: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        let metrics = &m["outcome"]["ok"]["metrics"];
        // The skipped SMILES is said in every run's record, with its line.
        let warnings = metrics["warnings"].to_string();
        assert!(
            warnings.contains("1 of 121 SMILES") && warnings.contains("line 122: `C1CC`"),
            "{id}: {warnings}"
        );
        // Scored on the measured labels only: no truth, PR-AUC beside ROC-AUC.
        assert!(metrics["truth"].is_null());
        let pr = metrics["observed"]["pr_auc"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&pr), "{pr}");
        assert_eq!(
            metrics["train_rows"].as_u64().unwrap()
                + metrics["dev_rows"].as_u64().unwrap()
                + metrics["test_rows"].as_u64().unwrap(),
            120
        );
    }
    for f in [
        "assays_random.png",
        "assays_scaffold.png",
        "metric_vs_drop_rate_random.png",
        "metric_vs_drop_rate_scaffold.png",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(
        summary.contains(",observed,macro,pr_auc,"),
        "PR-AUC is summarised"
    );
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        md.contains("scored on the measured test labels only") && md.contains("### Macro PR-AUC"),
        "{md}"
    );
}

#[test]
fn a_column_split_takes_its_parts_from_the_file_gzipped_or_not() {
    let dir = tempfile::tempdir().unwrap();
    // 80 molecules: every tenth in test, every tenth but one in validation, the rest train;
    // an ID column that is neither label nor feature.
    let mut csv = String::from("ID,split,SMILES,ring\n");
    let mut parts = [0u64; 3];
    for i in 0..80 {
        let s = SMILES[i % SMILES.len()];
        let (part, name) = match i % 10 {
            0 => (2, "test"),
            1 => (1, "validation"),
            _ => (0, "train"),
        };
        parts[part] += 1;
        csv.push_str(&format!("N{i},{name},{s},{}\n", s.contains('1') as u8));
    }
    let body = |path: &str| {
        format!(
            r#"
seed = 3
seeds = 1
strategies = ["masked"]

[data]
source = "smiles-csv"
path = "{path}"
label-columns = ["ring"]
bits = 128

[split]
method = "column"

[missing]
rate = 0.0

[model]
hidden = [8]

[training]
epochs = 3
batch-size = 16
learning-rate = 0.01
patience = 2
"#
        )
    };
    std::fs::write(dir.path().join("mols.csv"), &csv).unwrap();
    let gz = std::process::Command::new("gzip")
        .args(["-k", "-n"])
        .arg(dir.path().join("mols.csv"))
        .status()
        .unwrap();
    assert!(gz.success());
    let mut outcomes = Vec::new();
    for path in ["mols.csv", "mols.csv.gz"] {
        let file = experiment(dir.path(), &path.replace('.', "_"), &body(path));
        let out = dir.path().join(format!("out_{path}"));
        sweep_ok(&file, &out, &["--no-report"]);
        let records = metric_records(&out);
        assert_eq!(records.len(), 1);
        let (_, bytes) = records.into_iter().next().unwrap();
        let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let metrics = m["outcome"]["ok"]["metrics"].clone();
        let rows = |k: &str| metrics[k].as_u64().unwrap();
        assert_eq!(
            [rows("train_rows"), rows("dev_rows"), rows("test_rows")],
            parts
        );
        outcomes.push((m["streams"].clone(), metrics));
    }
    assert_eq!(
        outcomes[0], outcomes[1],
        "the same table, gzipped, gives the same run"
    );
}

#[test]
fn descriptors_join_the_fingerprint_or_stand_alone_on_the_same_draws() {
    let dir = tempfile::tempdir().unwrap();
    // 160 molecules; `ring` is whether one has a ring, which the descriptor NumRings says.
    let mut csv = String::from("SMILES,ring\n");
    for i in 0..160 {
        let s = SMILES[i % SMILES.len()];
        csv.push_str(&format!("{s},{}\n", s.contains('1') as u8));
    }
    std::fs::write(dir.path().join("mols.csv"), csv).unwrap();
    let variant = |name: &str, features: &str| {
        format!(
            "[[variants]]\nname = \"{name}\"\ndata = {{ source = \"smiles-csv\", path = \"mols.csv\", bits = 128{features} }}\n"
        )
    };
    let body = format!(
        r#"
seed = 5
seeds = 2
strategies = ["masked"]

[data]
source = "smiles-csv"
path = "mols.csv"
bits = 128

[split]
test-fraction = 0.25
dev-fraction = 0.2

[missing]
rate = 0.0

[model]
hidden = [16]

[training]
epochs = 30
batch-size = 16
learning-rate = 0.01

{}{}{}"#,
        variant("ecfp", ""),
        variant("both", ", features = [\"ecfp\", \"descriptors\"]"),
        variant("descriptors", ", features = [\"descriptors\"]"),
    );
    let file = experiment(dir.path(), "features", &body);
    let out = dir.path().join("out");
    sweep_ok(&file, &out, &["--no-report"]);
    let records = crate::common::run_records(&out);
    assert_eq!(records.len(), 3 * 2);
    // Per seed: three runs (three ids), one split and one set of drops.
    let mut by_seed: std::collections::BTreeMap<u64, Vec<&record::outcome::RunRecord>> =
        Default::default();
    for (id, r) in &records {
        by_seed.entry(spec_of(&out, id).seed).or_default().push(r);
    }
    for runs in by_seed.values() {
        assert_eq!(runs.len(), 3);
        assert!(runs.iter().all(|r| r.streams.split == runs[0].streams.split
            && r.streams.drops == runs[0].streams.drops));
    }
    // The descriptors alone carry `ring`, standardised, into a working model.
    for (id, r) in &records {
        let auc = r.metrics().unwrap().observed.auc.unwrap();
        let data = serde_json::to_string(&spec_of(&out, id).data).unwrap();
        if data.contains("descriptors") {
            assert!(auc > 0.95, "{data}: test ROC-AUC {auc}");
        }
    }
}

#[test]
fn featurize_lists_each_line_and_both_spellings_of_a_molecule_give_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mols.csv");
    // Aromatic and Kekulé spellings of toluene, 2-pyridone and naphthalene, and a line that
    // does not parse (listed, not refused); no label column is needed.
    std::fs::write(
        &file,
        "SMILES\nCc1ccccc1\nCC1=CC=CC=C1\nO=c1cccc[nH]1\nO=C1C=CC=CN1\nC1CC\nc1ccc2ccccc2c1\nC1=CC=C2C=CC=CC2=C1\n",
    )
    .unwrap();
    let result = crate::common::masklab()
        .arg("featurize")
        .arg(&file)
        .args(["--counts"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    assert!(stderr.contains("6 molecules, 1 lines skipped"), "{stderr}");
    let csv = std::fs::read_to_string(dir.path().join("mols.features.csv")).unwrap();
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 7);
    // (line, smiles, scaffold, skipped, features)
    for (a, b) in [(0, 1), (2, 3), (5, 6)] {
        assert_eq!(
            rows[a][2], rows[b][2],
            "scaffold of {} and {}",
            rows[a][1], rows[b][1]
        );
        assert_eq!(
            rows[a][4], rows[b][4],
            "features of {} and {}",
            rows[a][1], rows[b][1]
        );
        assert!(!rows[a][4].is_empty());
    }
    assert_eq!((rows[4][0].as_str(), rows[4][1].as_str()), ("6", "C1CC"));
    assert!(rows[4][3].contains("ring closure") && rows[4][4].is_empty());
    let parquet = dir.path().join("mols.parquet");
    let result = crate::common::masklab()
        .arg("featurize")
        .arg(&file)
        .arg("--out")
        .arg(&parquet)
        .output()
        .unwrap();
    assert!(result.status.success());
    assert_eq!(&std::fs::read(&parquet).unwrap()[..4], b"PAR1");
    // masklab's invariants give other identifiers (the same molecules, other positions).
    let masklab = dir.path().join("masklab.csv");
    let result = crate::common::masklab()
        .arg("featurize")
        .arg(&file)
        .args(["--counts", "--masklab-invariants", "--out"])
        .arg(&masklab)
        .output()
        .unwrap();
    assert!(result.status.success());
    let other = std::fs::read_to_string(&masklab).unwrap();
    assert_eq!(other.lines().count(), csv.lines().count());
    assert_ne!(other, csv);
    // With --descriptors: one column per descriptor, RDKit's values (ethanol, phenol from
    // RDKit 2026.09.1), both spellings alike, nothing for the skipped line.
    std::fs::write(
        &file,
        "SMILES,ID\nCCO,a\nOc1ccccc1,b\nOC1=CC=CC=C1,c\nC1CC,d\n",
    )
    .unwrap();
    let with = dir.path().join("with.csv");
    let result = crate::common::masklab()
        .arg("featurize")
        .arg(&file)
        .args(["--descriptors", "--out"])
        .arg(&with)
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let mut reader = csv::Reader::from_path(&with).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(header.len(), 5 + 41);
    let value = |row: usize, name: &str| rows[row][column(name)].parse::<f64>().unwrap();
    assert!((value(0, "exactmw") - 46.041864812).abs() < 1e-9);
    assert!((value(0, "CrippenClogP") - -0.0014).abs() < 1e-9);
    assert!((value(1, "tpsa") - 20.23).abs() < 1e-9);
    assert!((value(1, "CrippenClogP") - 1.3922).abs() < 1e-9);
    assert_eq!(
        rows[1].iter().skip(4).collect::<Vec<_>>(),
        rows[2].iter().skip(4).collect::<Vec<_>>()
    );
    assert!(rows[3][column("exactmw")].is_empty());
}
