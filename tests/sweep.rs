//! Sweeps: determinism, resume, shards, failure isolation, and bad experiment files.

use crate::common::{experiment, masklab, metric_records, sweep, SMALL};
use std::time::{Duration, Instant};

#[test]
fn records_are_identical_across_job_counts_and_forced_reruns() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "small", SMALL);
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    assert!(sweep(&file, &one, &["--jobs", "1"]).status.success());
    assert!(sweep(&file, &two, &["--jobs", "2"]).status.success());
    let a = metric_records(&one);
    assert_eq!(a.len(), 12);
    assert_eq!(a, metric_records(&two));
    let forced = sweep(&file, &two, &["--jobs", "2", "--force"]);
    assert!(String::from_utf8_lossy(&forced.stderr).contains("0 already done, 12 completed"));
    assert_eq!(a, metric_records(&two));
    // Every run folder holds its config, history and timing beside the metrics.
    for id in a.keys() {
        for f in ["config.json", "history.json", "timing.json"] {
            assert!(two.join("runs").join(id).join(f).is_file(), "{id}/{f}");
        }
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(two.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["runs"].as_array().unwrap().len(), 12);
    assert!(manifest["blas"].as_str().unwrap().contains("OpenBLAS"));
}

#[test]
fn a_rerun_skips_finished_runs_and_changed_settings_get_new_ids() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "small", SMALL);
    let out = dir.path().join("out");
    assert!(sweep(&file, &out, &[]).status.success());
    let again = sweep(&file, &out, &[]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("12 already done, 0 completed"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let changed = experiment(
        dir.path(),
        "small",
        &SMALL.replace("epochs = 4", "epochs = 5"),
    );
    let third = sweep(&changed, &out, &[]);
    assert!(String::from_utf8_lossy(&third.stderr).contains("0 already done, 12 completed"));
    assert_eq!(metric_records(&out).len(), 24);
}

#[test]
fn a_sweep_killed_at_any_moment_resumes_to_the_uninterrupted_records() {
    let dir = tempfile::tempdir().unwrap();
    // Slower runs, so the kill lands mid-sweep.
    let file = experiment(
        dir.path(),
        "slow",
        &SMALL.replace("epochs = 4", "epochs = 40"),
    );
    let reference = dir.path().join("reference");
    assert!(sweep(&file, &reference, &["--jobs", "2"]).status.success());
    let expected = metric_records(&reference);

    let out = dir.path().join("killed");
    for wanted in [2, 7] {
        let mut child = masklab()
            .arg("sweep")
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .args(["--jobs", "2"])
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while metric_records(&out).len() < wanted && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let partial = metric_records(&out);
        assert!(
            partial.len() < expected.len(),
            "the kill came too late to test anything"
        );
        // Whatever was written is a complete, correct record.
        for (id, bytes) in &partial {
            assert_eq!(Some(bytes), expected.get(id), "{id}");
        }
    }
    let resumed = sweep(&file, &out, &["--jobs", "2"]);
    assert!(resumed.status.success());
    assert!(!String::from_utf8_lossy(&resumed.stderr).contains(" 0 already done"));
    assert_eq!(metric_records(&out), expected);
}

#[test]
fn shards_together_equal_the_unsharded_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "small", SMALL);
    let (whole, sharded) = (dir.path().join("whole"), dir.path().join("sharded"));
    assert!(sweep(&file, &whole, &[]).status.success());
    let mut counts = Vec::new();
    for k in 0..3 {
        let before = metric_records(&sharded).len();
        assert!(sweep(&file, &sharded, &["--shard", &format!("{k}/3")])
            .status
            .success());
        counts.push(metric_records(&sharded).len() - before);
        assert!(sharded
            .join(format!("manifest-shard-{k}-of-3.json"))
            .is_file());
    }
    assert_eq!(counts, vec![4, 4, 4]);
    assert_eq!(metric_records(&sharded), metric_records(&whole));
    let bad = sweep(&file, &sharded, &["--shard", "3/3"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_diverging_run_is_recorded_as_failed_and_the_rest_complete() {
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL
        .replace("learning-rate = 0.01", "learning-rate = [0.01, 1e30]")
        .replace("rate = [0.0, 0.5]", "rate = 0.0");
    let file = experiment(dir.path(), "diverge", &body);
    let out = dir.path().join("out");
    let result = sweep(&file, &out, &[]);
    assert_eq!(result.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&result.stderr);
    let records = metric_records(&out);
    assert_eq!(records.len(), 12, "every run has a record, failed or not");
    let mut failed = 0;
    for (id, bytes) in &records {
        let record: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        let config: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.join("runs").join(id).join("config.json")).unwrap(),
        )
        .unwrap();
        let lr = config["spec"]["training"]["learning-rate"]
            .as_f64()
            .unwrap();
        if record["status"] == "failed" {
            failed += 1;
            // Only the absurd learning rate fails, with its reason, named on stderr too.
            assert_eq!(lr, 1e30);
            assert!(record["reason"]
                .as_str()
                .unwrap()
                .starts_with("diverged: training loss is NaN at epoch"));
            // In the summary, and the moment it failed (stderr is no terminal here).
            assert!(
                stderr.contains(&format!("failed: {id}: diverged")),
                "{stderr}"
            );
            assert!(stderr.contains(&format!("run {id} failed (")), "{stderr}");
        } else if lr == 0.01 {
            assert!(record["metrics"]["truth"]["accuracy"].as_f64().unwrap() > 0.5);
        }
    }
    assert!(
        failed >= 1,
        "the learning rate of 1e30 should diverge at least once"
    );
    assert!(
        stderr.contains(&format!("{} completed, {failed} failed", 12 - failed)),
        "{stderr}"
    );
}

#[test]
fn dry_run_prints_the_grid_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "small", SMALL);
    let out = dir.path().join("out");
    let result = sweep(&file, &out, &["--dry-run"]);
    assert!(result.status.success());
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.starts_with("small: 12 runs in the grid, 12 in this shard"));
    assert_eq!(stdout.lines().count(), 13);
    assert!(!out.exists());
}

#[test]
fn each_bad_experiment_file_gets_one_clear_error_and_nothing_is_written() {
    let cases: [(&str, &str, &str); 9] = [
        (
            "[training]\nepoch = 3",
            "epochs = 4",
            "line 17: training.epoch: unknown field `epoch`, expected one of `epochs`",
        ),
        (
            "[training]\nepochs = \"ten\"",
            "epochs = 4",
            "line 17: training.epochs: invalid type: string \"ten\", expected usize",
        ),
        (
            "",
            "rate = [0.0, 0.5]",
            "line 14: missing.rate: rate 1.5 is outside [0, 1]",
        ),
        (
            "",
            "rate = [0.0, 0.5]",
            "line 14: missing.rate: an empty list sweeps over nothing",
        ),
        (
            "",
            "epochs = 4",
            "line 17: training.epochs: epochs must be at least 1",
        ),
        (
            "[model]\nhidden = [10, 0]",
            "",
            "line 17: model.hidden: hidden layer sizes must be at least 1",
        ),
        (
            "",
            "strategies = [\"masked\", \"single-task\"]",
            "line 4: strategies: in the list: unknown variant `magic`, expected one of `masked`",
        ),
        (
            "",
            "source = \"toy\"",
            "line 7: data.source: unknown variant `images`",
        ),
        (
            "",
            "[missing]",
            "line 13: (file): unclosed table, expected `]`",
        ),
    ];
    let replacements = [
        "epochs = 4",
        "epochs = 4",
        "rate = [0.0, 1.5]",
        "rate = []",
        "epochs = 0",
        "",
        "strategies = [\"masked\", \"magic\"]",
        "source = \"images\"",
        "[missing",
    ];
    for ((append, find, expected), replace) in cases.iter().zip(replacements) {
        let dir = tempfile::tempdir().unwrap();
        let mut body = if find.is_empty() {
            SMALL.to_string()
        } else {
            SMALL.replacen(find, replace, 1)
        };
        if !append.is_empty() {
            body = body.replace(
                "[training]\nepochs = 4\nbatch-size = 256\nlearning-rate = 0.01\n",
                "",
            );
            body.push_str(append);
            body.push('\n');
        }
        let file = experiment(dir.path(), "bad", &body);
        let out = dir.path().join("out");
        let result = sweep(&file, &out, &[]);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{expected}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: {}: ", file.display())),
            "{stderr}"
        );
        assert!(
            stderr.contains(expected),
            "wanted `{expected}` in:\n{stderr}\n---\n{body}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(!out.exists(), "nothing may be written for a bad file");
    }
}

#[test]
fn ctrl_c_stops_cleanly_and_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(
        dir.path(),
        "slow",
        &SMALL.replace("epochs = 4", "epochs = 400"),
    );
    let out = dir.path().join("out");
    let child = masklab()
        .arg("sweep")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(["--jobs", "2"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while metric_records(&out).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("rerun the same command to resume"),
        "{stderr}"
    );
    let done = metric_records(&out).len();
    assert!((1..12).contains(&done), "{done} runs done");
}

#[test]
fn a_task_without_training_labels_is_a_printed_and_recorded_warning() {
    let dir = tempfile::tempdir().unwrap();
    let text = SMALL
        .replace("seeds = 3", "seeds = 1")
        .replace("rate = [0.0, 0.5]", "task-rates = [0.0, 0.0, 1.0]")
        .replace(r#"["masked", "single-task"]"#, r#"["masked"]"#);
    let file = experiment(dir.path(), "unlabelled", &text);
    let out = dir.path().join("out");
    let result = sweep(&file, &out, &[]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    let warning = "task `y2` has no observed label in the train split";
    assert!(stderr.contains(warning), "{stderr}");
    let records = metric_records(&out);
    assert_eq!(records.len(), 1);
    let record = String::from_utf8_lossy(records.values().next().unwrap());
    assert!(record.contains(warning), "{record}");
}
