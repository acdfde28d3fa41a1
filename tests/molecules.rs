//! Molecules end to end: a SMILES CSV with missing labels and one SMILES that does not
//! parse, swept with random and scaffold splits, reported with PR-AUC and the per-assay
//! figure.

use crate::common::{experiment, metric_records, sweep};

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
