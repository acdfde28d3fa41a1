//! Every strategy end to end: each runs on every kind of data source, its runs reproduce
//! bit for bit whatever the job count, and the two-stage one (`pseudo-label`) does what it
//! says on data whose truth is known.

use crate::common::{experiment, metric_records, run_records, spec_of, sweep, sweep_ok, SMALL};
use record::Strategy;

fn all_strategies() -> String {
    let names: Vec<String> = Strategy::ALL
        .iter()
        .map(|s| format!("\"{}\"", s.name()))
        .collect();
    format!("strategies = [{}]", names.join(", "))
}

#[test]
fn every_strategy_runs_on_every_source_and_reproduces_whatever_the_job_count() {
    let dir = tempfile::tempdir().unwrap();
    let toy = SMALL
        .replace(
            "strategies = [\"masked\", \"single-task\"]",
            &all_strategies(),
        )
        .replace("seeds = 3", "seeds = 1")
        .replace("rate = [0.0, 0.5]", "rate = 0.6");
    let text = toy.replace(
        "source = \"toy\"\nrows = 3000",
        "source = \"mbti-generated\"\nusers = 300\nposts-per-user = 5\nwords-per-post = 12\ndims = 64",
    ).replace("test-rows = 500", "test-rows = 60");
    let mut csv = String::from("SMILES,ring,nitrogen\n");
    let smiles = [
        "c1ccccc1",
        "Nc1ccccc1",
        "CCO",
        "CCN",
        "C1CCNCC1",
        "CCCC",
        "c1ccncc1",
        "OC1CCCCC1",
    ];
    for i in 0..160 {
        let s = smiles[i % smiles.len()];
        let ring = s.contains('1') as u8;
        let n = if i % 3 == 0 {
            String::new()
        } else {
            ((s.contains('N') || s.contains('n')) as u8).to_string()
        };
        csv.push_str(&format!("{s},{ring},{n}\n"));
    }
    std::fs::write(dir.path().join("mols.csv"), csv).unwrap();
    let molecules = toy
        .replace("source = \"toy\"\nrows = 3000", "source = \"smiles-csv\"\npath = \"mols.csv\"\nbits = 128\nfeatures = [\"ecfp\", \"descriptors\"]")
        .replace("test-rows = 500", "test-rows = 40");
    for (name, body) in [("toy", &toy), ("text", &text), ("molecules", &molecules)] {
        let file = experiment(dir.path(), name, body);
        let (one, two) = (
            dir.path().join(format!("{name}-1")),
            dir.path().join(format!("{name}-2")),
        );
        let first = sweep(&file, &one, &["--jobs", "1", "--no-report"]);
        assert!(
            first.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&first.stderr)
        );
        assert!(sweep(&file, &two, &["--jobs", "2", "--no-report"])
            .status
            .success());
        let records = metric_records(&one);
        assert_eq!(records.len(), Strategy::ALL.len(), "{name}");
        assert_eq!(
            records,
            metric_records(&two),
            "{name}: bit-identical across job counts"
        );
        for (id, r) in run_records(&one) {
            let strategy = spec_of(&one, &id).strategy;
            let metrics = r
                .metrics()
                .unwrap_or_else(|| panic!("{name} {strategy}: failed"));
            assert!(
                metrics.headline().auc.is_some(),
                "{name} {strategy}: no ROC-AUC"
            );
        }
    }
}

#[test]
fn pseudo_label_retrains_on_its_sure_predictions_and_stays_with_masked_on_the_toy_truth() {
    // The toy rules are learnt almost perfectly from half the labels, so the first stage's
    // sure predictions are nearly all right, and the second stage (on the observed labels
    // and those) should score with the masked model against the truth.
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL
        .replace(
            "strategies = [\"masked\", \"single-task\"]",
            "strategies = [\"masked\", \"pseudo-label\"]",
        )
        .replace("seeds = 3", "seeds = 2")
        .replace("rate = [0.0, 0.5]", "rate = 0.8")
        .replace("epochs = 4", "epochs = 30")
        .replace(
            "learning-rate = 0.01",
            "learning-rate = 0.01\n\n[model]\nhidden = [16, 16]",
        );
    let file = experiment(dir.path(), "pseudo", &body);
    let out = dir.path().join("out");
    sweep_ok(&file, &out, &["--no-report"]);
    let mut truth_auc = std::collections::BTreeMap::new();
    for (id, r) in run_records(&out) {
        let spec = spec_of(&out, &id);
        let m = r.metrics().unwrap();
        // Two stages of 30 epochs each, the history running on.
        let expected_epochs = if spec.strategy == Strategy::PseudoLabel {
            60
        } else {
            30
        };
        assert_eq!(r.history.len(), expected_epochs, "{}", spec.strategy);
        assert_eq!(r.history.last().unwrap().epoch, expected_epochs);
        let auc = m.truth.as_ref().unwrap().auc.unwrap();
        truth_auc
            .entry(spec.strategy)
            .or_insert_with(Vec::new)
            .push(auc);
    }
    let mean = |s: Strategy| truth_auc[&s].iter().sum::<f64>() / truth_auc[&s].len() as f64;
    assert!(mean(Strategy::Masked) > 0.95, "{truth_auc:?}");
    assert!(
        mean(Strategy::PseudoLabel) > mean(Strategy::Masked) - 0.02,
        "{truth_auc:?}"
    );
}

#[test]
fn label_conditional_fills_a_rare_task_from_the_others_on_the_correlated_toy_truth() {
    // y3 = (y0 xor y1) or x0 < 0.1 keeps 0.5% of its labels, the other tasks half of theirs:
    // the imputer reads y3 off the row's other labels, so its fill is mostly right, and the
    // final network (features only) learns the checkerboard from it.
    let dir = tempfile::tempdir().unwrap();
    let body = r#"
seed = 5
seeds = 2
strategies = ["masked", "label-conditional"]

[data]
source = "toy"
rows = 20000
correlated = true

[split]
test-rows = 3000
dev-fraction = 0.1

[missing]
task-rates = [0.5, 0.5, 0.5, 0.995]

[model]
hidden = [10, 40, 30]

[training]
epochs = 60
batch-size = 500
learning-rate = 0.005
"#;
    let file = experiment(dir.path(), "correlated", body);
    let out = dir.path().join("out");
    sweep_ok(&file, &out, &["--no-report"]);
    for (id, r) in run_records(&out) {
        let spec = spec_of(&out, &id);
        let m = r.metrics().unwrap();
        let y3 = &m.truth.as_ref().unwrap().tasks[3];
        assert_eq!(y3.task, "y3");
        match spec.strategy {
            Strategy::LabelConditional => {
                let filled = m.filled_labels.as_ref().expect("label-conditional fills");
                // Every missing training label is filled (all four tasks'), most of them rightly.
                assert_eq!(filled.filled, filled.missing);
                assert!(filled.accuracy.unwrap() > 0.85, "{filled:?}");
                assert!(y3.auc.unwrap() > 0.8, "{y3:?}");
            }
            _ => assert!(m.filled_labels.is_none()),
        }
    }
}

#[test]
fn complete_case_without_a_complete_row_is_reported_as_not_applicable_not_scored() {
    let dir = tempfile::tempdir().unwrap();
    // Assay a is measured on even rows only, b on odd rows only: no row has both.
    let smiles = ["c1ccccc1", "Nc1ccccc1", "CCO", "CCN", "C1CCNCC1", "CCCC"];
    let mut csv = String::from("SMILES,a,b\n");
    for i in 0..180 {
        let s = smiles[i % smiles.len()];
        let label = ((i / 2) % 2).to_string();
        let (a, b) = if i % 2 == 0 {
            (label.as_str(), "")
        } else {
            ("", label.as_str())
        };
        csv.push_str(&format!("{s},{a},{b}\n"));
    }
    std::fs::write(dir.path().join("mols.csv"), csv).unwrap();
    let body = SMALL
        .replace(
            "strategies = [\"masked\", \"single-task\"]",
            "strategies = [\"masked\", \"complete-case\"]",
        )
        .replace("seeds = 3", "seeds = 2")
        .replace(
            "source = \"toy\"\nrows = 3000",
            "source = \"smiles-csv\"\npath = \"mols.csv\"\nbits = 64",
        )
        .replace("test-rows = 500", "test-rows = 40");
    let file = experiment(dir.path(), "gaps", &body);
    let out = dir.path().join("out");
    sweep_ok(&file, &out, &[]);
    let mut seen = 0;
    for (id, r) in run_records(&out) {
        let metrics = r.metrics().expect("every run finishes");
        match spec_of(&out, &id).strategy {
            Strategy::CompleteCase => {
                seen += 1;
                assert_eq!(metrics.not_applicable.as_deref(), Some("0 complete rows"));
                assert_eq!((metrics.observed.auc, metrics.keras_accuracy), (None, None));
                assert!(metrics
                    .observed
                    .tasks
                    .iter()
                    .all(|t| t.auc.is_none() && t.n > 0));
            }
            _ => {
                assert_eq!(metrics.not_applicable, None);
                assert!(metrics.observed.auc.is_some());
            }
        }
    }
    assert_eq!(seen, 4, "2 seeds × 2 rates");
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        report.contains("| not applicable, 0 complete rows |"),
        "{report}"
    );
    assert!(
        report.contains("complete-case is not applicable"),
        "{report}"
    );
    assert!(!report.contains("ROC-AUC was undefined"), "{report}");
}
