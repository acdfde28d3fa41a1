//! Reports: tables and figures from a sweep's records.

use crate::common::{experiment, masklab, metric_records, sweep, SMALL};

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(path: &std::path::Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn a_toy_sweep_reports_tables_figures_and_findings() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "small", SMALL);
    let out = dir.path().join("out");
    let result = sweep(&file, &out, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(
        png_size(&out.join("metric_vs_drop_rate.png")),
        (420 * 4 + 40, 1000)
    );
    // Two strategies: as wide as the subtitle needs, three tasks high.
    let (width, height) = png_size(&out.join("boundaries.png"));
    assert!(width >= 300 * 2 + 150, "{width}");
    assert_eq!(height, 300 * 3 + 130);
    assert_eq!(png_size(&out.join("training_curves.png")), (1500, 640));
    assert!(!out.join("text_axes.png").exists());
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    // 2 strategies x 2 rates x (2 targets x 4 tasks x 5 metrics + keras) groups, 3 seeds each.
    assert_eq!(csv.lines().count(), 1 + 2 * 2 * (2 * 4 * 5 + 1));
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.contains(",3,") || l.contains(",0,3,")),
        "n = 3 seeds per group"
    );
    for f in ["runs.parquet", "summary.parquet"] {
        assert!(std::fs::metadata(out.join(f)).unwrap().len() > 100);
    }
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(md.starts_with("# small\n"));
    assert!(md.contains("12 runs reported (0 failed, 0 not yet run)"));
    // Findings name the setting as the figures do.
    assert!(
        md.contains("with mcar drops of 50% the macro test accuracy against the true labels"),
        "{md}"
    );
    assert!(md.contains("![") && md.contains("(boundaries.png)"));

    // The summary's numbers are the records' numbers: for each strategy and rate, the mean
    // of the three seeds' macro accuracy against the truth, recomputed from the run records.
    let mut table = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = table.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let lines: Vec<Vec<String>> = table
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let mut by_setting: std::collections::BTreeMap<(String, String), Vec<f64>> = Default::default();
    for (id, bytes) in metric_records(&out) {
        let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let spec = crate::common::spec_of(&out, &id);
        let key = (
            spec.strategy.name().to_string(),
            spec.missing.rate.unwrap().to_string(),
        );
        by_setting.entry(key).or_default().push(
            m["outcome"]["ok"]["metrics"]["truth"]["accuracy"]
                .as_f64()
                .unwrap(),
        );
    }
    assert_eq!(by_setting.len(), 4);
    for ((strategy, rate), values) in &by_setting {
        let f = lines
            .iter()
            .find(|f| {
                f[col("strategy")] == *strategy
                    && f[col("rate")].parse::<f64>().unwrap().to_string() == *rate
                    && f[col("target")] == "truth"
                    && f[col("task")] == "macro"
                    && f[col("metric")] == "accuracy"
            })
            .unwrap_or_else(|| panic!("no summary row for {strategy} at {rate}"));
        let line = f.join(",");
        let mean = values.iter().sum::<f64>() / 3.0;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        let number = |name: &str| f[col(name)].parse::<f64>().unwrap();
        assert!((number("mean") - mean).abs() < 1e-12, "{line}");
        assert!((number("std") - sd).abs() < 1e-12, "{line}");
        // t(0.975, 2) = 4.303
        assert!(
            (number("ci95_high") - (mean + 4.303 * sd / 3f64.sqrt())).abs() < 1e-9,
            "{line}"
        );
        assert!(mean > 0.5 && mean <= 1.0, "{strategy} at {rate}: {mean}");
    }

    // `masklab report` regenerates the same tables from the records alone.
    let before = std::fs::read(out.join("summary.csv")).unwrap();
    std::fs::remove_file(out.join("summary.csv")).unwrap();
    let again = masklab().arg("report").arg(&out).output().unwrap();
    assert!(again.status.success());
    assert_eq!(std::fs::read(out.join("summary.csv")).unwrap(), before);
}

#[test]
fn a_text_sweep_reports_the_personality_axes() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"
seeds = 2
strategies = ["masked", "impute-negative"]
[data]
source = "mbti-generated"
users = 300
posts-per-user = 10
dims = 256
svd-dims = 16
[split]
test-fraction = 0.3
[missing]
rate = 0.5
[model]
hidden = [16]
[training]
epochs = 5
batch-size = 64
learning-rate = 0.01
"#;
    let file = experiment(dir.path(), "text", body);
    let out = dir.path().join("out");
    let result = sweep(&file, &out, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(png_size(&out.join("text_axes.png")), (1700, 620));
    assert!(!out.join("boundaries.png").exists() && !out.join("metric_vs_drop_rate.png").exists());
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(md.contains("introvert") || md.contains("text_axes.png"));
}

#[test]
fn reporting_a_folder_without_runs_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let result = masklab().arg("report").arg(dir.path()).output().unwrap();
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("grid.json") && stderr.contains("No such file"),
        "{stderr}"
    );
}

#[test]
fn a_damaged_run_line_is_listed_and_left_out_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let (file, out) = swept_small(dir.path());
    let before = std::fs::read(out.join("summary.csv")).unwrap();
    // The sealed log, unpacked, with one run's line damaged (a negative row count).
    let runs = out.join("runs");
    let text = unpack(&runs.join("all.1.jsonl.gz"));
    std::fs::remove_file(runs.join("all.1.jsonl.gz")).unwrap();
    let damaged = text.replacen("\"train_rows\":", "\"train_rows\":-", 1);
    std::fs::write(runs.join("all.jsonl"), &damaged).unwrap();
    let again = masklab().arg("report").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: ")
            && stderr.contains("all.jsonl: line 1")
            && stderr.contains("outcome.ok.metrics.train_rows"),
        "{stderr}"
    );
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        md.contains("## Damaged records") && md.contains("all.jsonl: line 1"),
        "{md}"
    );
    assert!(
        md.contains("11 runs reported (0 failed, 1 not yet run)"),
        "{md}"
    );
    // The next sweep runs it again, and the report is whole.
    let rerun = sweep(&file, &out, &[]);
    assert!(String::from_utf8_lossy(&rerun.stderr).contains("11 already done, 1 completed"));
    assert_eq!(std::fs::read(out.join("summary.csv")).unwrap(), before);
}

/// The small toy experiment swept into `dir/out`: its file and results folder.
fn swept_small(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let file = experiment(dir, "small", SMALL);
    let out = dir.join("out");
    let result = sweep(&file, &out, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    (file, out)
}

/// The lines of a sealed log, unpacked.
fn unpack(gz: &std::path::Path) -> String {
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(gz)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", gz.display());
    String::from_utf8(out.stdout).unwrap()
}

/// `text` gzipped into `gz`.
fn pack(gz: &std::path::Path, text: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    std::fs::write(gz, out.stdout).unwrap();
}

#[test]
fn a_forced_rerun_reaches_the_report_and_lines_of_other_seeds_never_count() {
    let dir = tempfile::tempdir().unwrap();
    let (file, out) = swept_small(dir.path());
    let honest = std::fs::read(out.join("summary.csv")).unwrap();
    // An older line's numbers altered by hand: what a sweep of an earlier masklab, whose
    // results differed, leaves behind.
    let first = out.join("runs/all.1.jsonl.gz");
    let altered = unpack(&first).replace("\"accuracy\":0.", "\"accuracy\":0.0");
    pack(&first, &altered);
    assert!(masklab()
        .arg("report")
        .arg(&out)
        .status()
        .unwrap()
        .success());
    assert_ne!(std::fs::read(out.join("summary.csv")).unwrap(), honest);
    // `--force` recomputes every run: its lines are the latest and the report reads them.
    assert!(sweep(&file, &out, &["--force"]).status.success());
    assert_eq!(std::fs::read(out.join("summary.csv")).unwrap(), honest);
    // A newer line under other stream seeds (and altered numbers) is not the run's.
    let forced = unpack(&out.join("runs/all.2.jsonl.gz"));
    let strangers = forced
        .replace("\"streams\":{\"data\":", "\"streams\":{\"data\":1")
        .replace("\"accuracy\":0.", "\"accuracy\":0.0");
    std::fs::write(out.join("runs/all.jsonl"), strangers).unwrap();
    assert!(masklab()
        .arg("report")
        .arg(&out)
        .status()
        .unwrap()
        .success());
    assert_eq!(std::fs::read(out.join("summary.csv")).unwrap(), honest);
    let status = masklab().arg("status").arg(&out).output().unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains("12 done, 0 failed, 0 missing"));
}

#[test]
fn a_zero_filled_sealed_log_is_named_then_set_aside_and_its_runs_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "small", SMALL);
    let out = dir.path().join("out");
    assert!(sweep(&file, &out, &["--shard", "0/2"]).status.success());
    assert!(sweep(&file, &out, &["--shard", "1/2"]).status.success());
    let whole = std::fs::read(out.join("summary.csv")).unwrap();
    // What a crash can leave on some file systems: the right length, all zeros.
    let log = out.join("runs/shard-0-of-2.1.jsonl.gz");
    let len = std::fs::metadata(&log).unwrap().len() as usize;
    std::fs::write(&log, vec![0u8; len]).unwrap();
    let report = masklab().arg("report").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&report.stderr);
    assert!(report.status.success(), "{stderr}");
    assert!(
        stderr.contains("shard-0-of-2.1.jsonl.gz: damaged log (invalid gzip header)"),
        "{stderr}"
    );
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        md.contains("6 runs reported (0 failed, 6 not yet run)"),
        "{md}"
    );
    let status = masklab().arg("status").arg(&out).output().unwrap();
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{said}");
    assert!(
        said.contains("6 done, 0 failed, 6 missing") && said.contains("damaged log:"),
        "{said}"
    );
    // The next sweep of that shard moves it aside and runs its runs again.
    let again = sweep(&file, &out, &["--shard", "0/2"]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("0 already done, 6 completed"), "{stderr}");
    assert!(out.join("runs/damaged/shard-0-of-2.1.jsonl.gz").exists());
    assert_eq!(std::fs::read(out.join("summary.csv")).unwrap(), whole);
}

#[test]
fn manifests_of_an_older_format_or_shard_count_are_a_warning_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "small", SMALL);
    let out = dir.path().join("out");
    for k in 0..2 {
        let shard = format!("{k}/2");
        assert!(sweep(&file, &out, &["--shard", &shard, "--no-report"])
            .status
            .success());
    }
    // An earlier sweep's manifests: four shards, one of them of an older format.
    let mut earlier: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest-shard-0-of-2.json")).unwrap())
            .unwrap();
    earlier["shard"] = "3/4".into();
    earlier["started_unix"] = 1.into();
    earlier["ended_unix"] = 2.into();
    std::fs::write(
        out.join("manifest-shard-3-of-4.json"),
        serde_json::to_vec(&earlier).unwrap(),
    )
    .unwrap();
    std::fs::write(out.join("manifest-shard-2-of-4.json"), r#"{"format": 4}"#).unwrap();
    let report = masklab().arg("report").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&report.stderr);
    assert!(report.status.success(), "{stderr}");
    assert!(
        stderr.contains("manifest-shard-2-of-4.json") && stderr.contains("warning: "),
        "{stderr}"
    );
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        md.contains("Passed over") && md.contains("manifest-shard-3-of-4.json"),
        "{md}"
    );
    let status = masklab().arg("status").arg(&out).output().unwrap();
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{said}");
    assert!(
        said.contains("shard 1/2:") && !said.contains("/4:"),
        "no phantom shards: {said}"
    );
}

#[test]
fn a_grid_over_training_settings_or_task_rates_is_grouped_by_the_whole_setting() {
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL
        .replace("learning-rate = 0.01", "learning-rate = [0.01, 0.02]")
        .replace(
            "rate = [0.0, 0.5]",
            "mechanism = \"mcar\"\ntask-rates = [[0.25, 0.5, 0.75], [0.75, 0.5, 0.25]]",
        );
    let file = experiment(dir.path(), "grid", &body);
    let out = dir.path().join("out");
    let result = sweep(&file, &out, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    // 2 strategies x 2 learning rates x 2 drop settings, each its own group of 3 seeds.
    assert_eq!(
        csv.lines().count(),
        1 + 2 * 2 * 2 * (2 * 4 * 5 + 1),
        "{csv}"
    );
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.contains(",3,") || l.contains(",0,3,")),
        "n = 3 seeds per group, never 6"
    );
    for name in [
        "learning-rate 0.01 · task rates [0.25,0.5,0.75]",
        "learning-rate 0.02 · task rates [0.75,0.5,0.25]",
    ] {
        assert!(csv.contains(name), "{name} in\n{csv}");
    }
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        md.contains("learning-rate 0.02 · task rates [0.25,0.5,0.75]"),
        "{md}"
    );
    assert!(out
        .join("training_curves_learning-rate_0.01_task_rates_0.25_0.5_0.75.png")
        .exists());
}

#[test]
fn ensemble_rows_score_the_seeds_mean_where_they_share_their_test_rows() {
    let dir = tempfile::tempdir().unwrap();
    // A fixed table (a CSV): every seed's test set is its last 100 rows.
    let mut csv = String::from("x0,x1,y0,y1\n");
    for i in 0..400u32 {
        let (a, b) = ((i * 37 % 101) as f32 / 100.0, (i * 53 % 97) as f32 / 96.0);
        let y1 = if i % 5 == 0 {
            String::new()
        } else {
            ((a + b > 1.0) as u8).to_string()
        };
        csv.push_str(&format!("{a},{b},{},{y1}\n", (a > 0.5) as u8));
    }
    std::fs::write(dir.path().join("table.csv"), csv).unwrap();
    let body = |ensemble: bool| {
        format!(
            r#"
seed = 4
seeds = 3
strategies = ["masked"]

[data]
source = "csv"
path = "table.csv"
label-prefix = "y"

[split]
test-rows = 100

[model]
hidden = [8]

[training]
epochs = 30
batch-size = 32
learning-rate = 0.02
ensemble = {ensemble}
"#
        )
    };
    let file = crate::common::experiment(dir.path(), "ens", &body(true));
    let out = dir.path().join("out");
    let result = crate::common::sweep(&file, &out, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let ensemble: Vec<&str> = summary
        .lines()
        .filter(|l| l.contains(",ensemble,"))
        .collect();
    // Two tasks and macro, five metrics each; n = the three seeds.
    assert_eq!(ensemble.len(), 3 * 5, "{summary}");
    assert!(ensemble.iter().any(|l| l.contains(",ensemble,macro,auc,")));
    assert!(ensemble.iter().all(|l| l.contains(",3,")));
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(md.contains("### Ensembles"), "{md}");
    // Without the setting, nothing is recorded and no ensemble is reported.
    let plain = crate::common::experiment(dir.path(), "plain", &body(false));
    let out2 = dir.path().join("out2");
    assert!(crate::common::sweep(&plain, &out2, &[]).status.success());
    let summary = std::fs::read_to_string(out2.join("summary.csv")).unwrap();
    assert!(!summary.contains(",ensemble,"));
    for r in crate::common::run_records(&out2).values() {
        assert!(r.metrics().unwrap().test_predictions.is_none());
    }
}
