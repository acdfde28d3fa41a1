//! Sweeps: determinism, resume, shards, failure isolation, and bad experiment files.

use crate::common::{experiment, masklab, metric_records, spawn_sweep, sweep, sweep_ok, SMALL};
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
    // Each sweep sealed its log; the forced rerun added a second one of the same lines.
    let sealed: Vec<_> = std::fs::read_dir(two.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(sealed.len(), 2, "{sealed:?}");
    assert!(sealed.iter().all(|n| n.ends_with(".jsonl.gz")));
    // Every run has its history beside its metrics.
    for r in crate::common::run_records(&two).values() {
        assert_eq!(r.history.len(), 4, "{}", r.id);
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(two.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["runs"].as_array().unwrap().len(), 12);
    assert!(manifest["provenance"]["blas"]
        .as_str()
        .unwrap()
        .contains("OpenBLAS"));
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
    // The grid's 12 runs count; the logs keep the earlier grid's 12 as well.
    assert_eq!(metric_records(&out).len(), 12);
    assert_eq!(crate::common::line_counts(&out).len(), 24);
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
        let lr = crate::common::spec_of(&out, id).training.learning_rate;
        if record["outcome"].get("failed").is_some() {
            failed += 1;
            // Only the absurd learning rate fails, with its reason, named on stderr too.
            assert_eq!(lr, 1e30);
            assert!(record["outcome"]["failed"]["reason"]
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
            assert!(
                record["outcome"]["ok"]["metrics"]["truth"]["accuracy"]
                    .as_f64()
                    .unwrap()
                    > 0.5
            );
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
fn ctrl_c_stops_cleanly_and_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(
        dir.path(),
        "slow",
        &SMALL.replace("epochs = 4", "epochs = 400"),
    );
    let out = dir.path().join("out");
    let child = spawn_sweep(&file, &out, "2", std::process::Stdio::piped());
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

#[test]
fn an_edited_input_file_gives_new_runs_not_stale_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("x0,x1,y0,y1\n");
    for i in 0..60 {
        let (a, b) = (i as f32 / 60.0, ((i * 7) % 60) as f32 / 60.0);
        csv.push_str(&format!(
            "{a},{b},{},{}\n",
            (a > 0.5) as u8,
            (b > 0.5) as u8
        ));
    }
    std::fs::write(dir.path().join("data.csv"), &csv).unwrap();
    let body = SMALL
        .replace(
            "source = \"toy\"\nrows = 3000",
            "source = \"csv\"\npath = \"data.csv\"\nlabel-prefix = \"y\"",
        )
        .replace("test-rows = 500", "test-rows = 10")
        .replace("seeds = 3", "seeds = 1");
    let file = experiment(dir.path(), "csv", &body);
    let out = dir.path().join("out");
    assert!(sweep(&file, &out, &["--no-report"]).status.success());
    let first = metric_records(&out);
    assert_eq!(first.len(), 4);
    // The same path, other bytes: before, the run ids hashed the path and reused the records.
    std::fs::write(dir.path().join("data.csv"), csv.replace("0,1\n", "1,1\n")).unwrap();
    let again = sweep(&file, &out, &["--no-report"]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("0 already done, 4 completed"), "{stderr}");
    let now = metric_records(&out);
    assert_eq!(now.len(), 4);
    assert!(now.keys().all(|id| !first.contains_key(id)), "new ids");
    assert_eq!(crate::common::line_counts(&out).len(), 8);
}

#[test]
fn a_run_counts_as_done_only_when_its_line_parses_with_its_streams_and_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "small", SMALL);
    let out = dir.path().join("out");
    assert!(sweep(&file, &out, &["--no-report"]).status.success());
    let expected = metric_records(&out);
    // The sealed log, unpacked into an open one that the next sweep reads and appends to.
    let runs = out.join("runs");
    let sealed = runs.join("all.1.jsonl.gz");
    let text = std::process::Command::new("gzip")
        .args(["-dc"])
        .arg(&sealed)
        .output()
        .unwrap()
        .stdout;
    std::fs::remove_file(&sealed).unwrap();
    let mut lines: Vec<String> = String::from_utf8(text)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 12);
    let id = |line: &str| {
        serde_json::from_str::<serde_json::Value>(line).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Runs keeping a boundary grid: one seed, at the shown rate, for each strategy.
    let boundaries: Vec<String> = std::fs::read_dir(out.join("boundaries"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_string()
        })
        .collect();
    assert_eq!(boundaries.len(), 2, "{boundaries:?}");
    let others: Vec<usize> = (0..12)
        .filter(|&i| !boundaries.contains(&id(&lines[i])))
        .collect();
    // Another run's stream seeds; an older format; a field of the wrong type; a removed
    // boundary grid; and, last, a line torn in half by a killed writer.
    let mut moved: serde_json::Value = serde_json::from_str(&lines[others[0]]).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(&lines[others[1]]).unwrap();
    moved["streams"] = theirs["streams"].clone();
    lines[others[0]] = moved.to_string();
    lines[others[1]] = lines[others[1]].replace("\"format\":5", "\"format\":4");
    lines[others[2]] = lines[others[2]].replace("\"train_rows\":", "\"train_rows\":\"x\",\"was\":");
    std::fs::remove_file(
        out.join("boundaries")
            .join(format!("{}.json", boundaries[0])),
    )
    .unwrap();
    let torn = lines.remove(others[3]);
    let mut body = lines.join("\n") + "\n";
    body.push_str(&torn[..torn.len() / 2]);
    std::fs::write(runs.join("all.jsonl"), body).unwrap();
    // A dead writer's temporary file, of this host and PID namespace (pids above the
    // kernel's maximum never run).
    let me = record::temp::Owner::current();
    let leftover = out.join("boundaries").join(format!(
        ".masklab-tmp-{}+{}+4294967+1f.0.x.json",
        me.host, me.pid_ns
    ));
    std::fs::write(&leftover, "{").unwrap();
    let again = sweep(&file, &out, &["--no-report"]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("7 already done, 5 completed"), "{stderr}");
    assert_eq!(metric_records(&out), expected);
    assert!(
        !leftover.exists(),
        "a killed writer's temporary file is removed"
    );
    // The torn half line was cut off before the new lines were appended.
    assert_eq!(record::log::scan(&out, |_| {}).unwrap().torn, 0);
}

#[test]
fn a_second_sweep_on_the_same_folder_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(
        dir.path(),
        "slow",
        &SMALL.replace("epochs = 4", "epochs = 400"),
    );
    let out = dir.path().join("out");
    let mut first = spawn_sweep(&file, &out, "1", std::process::Stdio::null());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !out.join(".lock").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    let second = sweep(&file, &out, &["--jobs", "1"]);
    let shard = sweep(&file, &out, &["--shard", "0/2"]);
    first.kill().unwrap();
    first.wait().unwrap();
    for result in [second, shard] {
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(
                "another sweep is writing this results folder: an unsharded sweep by process"
            ),
            "{stderr}"
        );
        assert!(stderr.contains(&first.id().to_string()), "{stderr}");
    }
}

#[test]
fn mnar_realises_the_overall_rate_it_was_asked_for_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL
        .replace("rate = [0.0, 0.5]", "mechanism = \"mnar\"\nrate = 0.6")
        .replace("seeds = 3", "seeds = 1")
        .replace(r#"["masked", "single-task"]"#, r#"["masked"]"#);
    let file = experiment(dir.path(), "mnar", &body);
    let out = dir.path().join("out");
    assert!(sweep(&file, &out, &["--no-report"]).status.success());
    let records = metric_records(&out);
    let record: serde_json::Value =
        serde_json::from_slice(records.values().next().unwrap()).unwrap();
    let metrics = &record["outcome"]["ok"]["metrics"];
    let overall = metrics["realised_drop_rate_overall"].as_f64().unwrap();
    // 2,500 eligible rows x 3 tasks: the realised share is within sampling error of 0.6.
    assert!((overall - 0.6).abs() < 0.03, "{overall}");
    let per_task = metrics["realised_drop_rate"].as_array().unwrap();
    assert_eq!(per_task.len(), 3);
}

#[test]
fn the_manifest_records_the_revision_and_whether_the_tree_was_clean() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        assert!(std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
            .status
            .success());
    };
    let file = experiment(
        dir.path(),
        "small",
        &SMALL
            .replace("seeds = 3", "seeds = 1")
            .replace("rate = [0.0, 0.5]", "rate = 0.0"),
    );
    git(&["init", "-q"]);
    git(&["add", "small.toml"]);
    git(&["commit", "-q", "-m", "x"]);
    let manifest = |out: &str| -> serde_json::Value {
        let result = masklab()
            .current_dir(dir.path())
            .args([
                "sweep",
                "small.toml",
                "--no-report",
                "--force",
                "--out",
                out,
            ])
            .output()
            .unwrap();
        assert!(result.status.success());
        serde_json::from_slice(&std::fs::read(dir.path().join(out).join("manifest.json")).unwrap())
            .unwrap()
    };
    let clean = manifest("results/a");
    assert_eq!(
        clean["provenance"]["git_dirty"], false,
        "results/ does not make a tree dirty"
    );
    assert_eq!(
        clean["provenance"]["git_revision"].as_str().unwrap().len(),
        40
    );
    std::fs::write(
        &file,
        std::fs::read_to_string(&file).unwrap() + "\n# edited\n",
    )
    .unwrap();
    assert_eq!(manifest("results/b")["provenance"]["git_dirty"], true);
}

#[test]
fn status_counts_runs_per_shard_and_says_whether_the_report_is_current() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "small", SMALL);
    let out = dir.path().join("out");
    let status = || {
        let o = masklab().arg("status").arg(&out).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    assert!(sweep(&file, &out, &["--shard", "0/2", "--no-report"])
        .status
        .success());
    let s = status();
    assert!(
        s.starts_with("small: 12 runs in the grid: 6 done, 0 failed, 6 missing\n"),
        "{s}"
    );
    assert!(
        s.contains(
            "  shard 0/2: 6 done, 0 failed, 0 missing\n  shard 1/2: 0 done, 0 failed, 6 missing\n"
        ),
        "{s}"
    );
    assert!(s.contains("report: not written"), "{s}");
    assert!(sweep(&file, &out, &["--shard", "1/2"]).status.success());
    let s = status();
    assert!(
        s.contains("12 done, 0 failed, 0 missing") && s.contains("report: current"),
        "{s}"
    );
    // A rerun of one run after the report (its boundary grid is gone): the report is stale.
    let grid = std::fs::read_dir(out.join("boundaries"))
        .unwrap()
        .next()
        .unwrap();
    std::fs::remove_file(grid.unwrap().path()).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert!(sweep(&file, &out, &["--no-report"]).status.success());
    assert!(status().contains("report: stale"));
}

/// Whether this process may make PID namespaces (`unshare --pid --fork --mount-proc`: root,
/// as CI runs).
fn can_unshare() -> bool {
    std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn shards_in_separate_pid_namespaces_never_touch_each_others_files() {
    // Two nodes, or two containers of one node, sharing a results folder: each shard is
    // pid 1 of its own namespace, and neither can see the other's processes.
    if !can_unshare() {
        eprintln!("skipped: `unshare --pid --fork --mount-proc` needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "ns", SMALL);
    let bin = env!("CARGO_BIN_EXE_masklab");
    for round in 0..12 {
        let out = dir.path().join(format!("out{round}"));
        let shard = |k: usize| {
            std::process::Command::new("unshare")
                .args(["--pid", "--fork", "--mount-proc", bin, "sweep"])
                .arg(&file)
                .arg("--out")
                .arg(&out)
                .args(["--jobs", "1", "--no-report", "--shard", &format!("{k}/2")])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (shard(0), shard(1));
        for (k, child) in [a, b].into_iter().enumerate() {
            let result = child.wait_with_output().unwrap();
            assert!(
                result.status.success(),
                "round {round}, shard {k}/2: {}",
                String::from_utf8_lossy(&result.stderr)
            );
        }
        assert_eq!(
            metric_records(&out).len(),
            12,
            "round {round}: every run done"
        );
        let temps: Vec<String> = walk(&out)
            .into_iter()
            .filter(|n| n.contains(".masklab-tmp-"))
            .collect();
        assert!(temps.is_empty(), "round {round}: {temps:?}");
    }
}

/// Every file under `dir`, as paths relative to it.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path.display().to_string());
        }
    }
    found
}

/// The system calls of `cmd` that make files durable, as `strace -f` prints them.
fn durability_trace(dir: &std::path::Path, args: &[&std::ffi::OsStr]) -> Option<Vec<String>> {
    let trace = dir.join("trace.txt");
    let status = std::process::Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=openat,fsync,fdatasync,rename,renameat,renameat2,unlink,unlinkat",
            "-o",
        ])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_masklab"))
        .args(args)
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    assert!(status.success(), "the traced sweep failed");
    Some(
        std::fs::read_to_string(trace)
            .unwrap()
            .lines()
            .map(String::from)
            .collect(),
    )
}

#[test]
fn sealing_syncs_the_gzip_and_its_folder_before_the_plain_log_goes() {
    // After a node crash, a rename and an unlink may reach the disk while the data they
    // point at does not: the gzip must be synced before its rename, and the folder after
    // it, before the plain log is removed.
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "small", SMALL);
    let out = dir.path().join("out");
    let args = [
        "sweep".as_ref(),
        file.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--no-report".as_ref(),
    ];
    let Some(lines) = durability_trace(dir.path(), &args) else {
        eprintln!("skipped: strace is not installed (`just test` installs it)");
        return;
    };
    // fd -> path, as opened (the last opening of an fd wins).
    let mut fds: std::collections::HashMap<String, String> = Default::default();
    let mut events: Vec<String> = Vec::new();
    for line in &lines {
        let call = line
            .split_once(' ')
            .map_or(line.as_str(), |(_, c)| c.trim_start());
        if call.starts_with("openat(") {
            let path = call.split('"').nth(1).unwrap_or_default().to_string();
            if let Some(fd) = call
                .rsplit("= ")
                .next()
                .filter(|f| f.parse::<i32>().is_ok())
            {
                fds.insert(fd.to_string(), path);
            }
        } else if call.starts_with("fsync(") || call.starts_with("fdatasync(") {
            let fd = call.split(['(', ')']).nth(1).unwrap_or_default();
            events.push(format!("sync {}", fds.get(fd).cloned().unwrap_or_default()));
        } else if call.starts_with("rename") {
            let to = call.split('"').nth(3).unwrap_or_default();
            events.push(format!("rename {to}"));
        } else if call.starts_with("unlink") {
            events.push(format!(
                "unlink {}",
                call.split('"').nth(1).unwrap_or_default()
            ));
        }
    }
    let at = |pred: &dyn Fn(&str) -> bool, what: &str| {
        events
            .iter()
            .position(|e| pred(e))
            .unwrap_or_else(|| panic!("no {what} in {events:#?}"))
    };
    let renamed = at(
        &|e| e.starts_with("rename") && e.ends_with("runs/all.1.jsonl.gz"),
        "rename of the sealed log",
    );
    let synced_file = at(
        &|e| {
            e.starts_with("sync ") && e.contains(".masklab-tmp-") && e.ends_with(".all.1.jsonl.gz")
        },
        "sync of the gzip",
    );
    let unlinked = at(
        &|e| e.starts_with("unlink") && e.ends_with("runs/all.jsonl"),
        "unlink of the plain log",
    );
    let synced_dir = events[renamed..unlinked]
        .iter()
        .any(|e| e.starts_with("sync ") && e.ends_with("/runs"));
    assert!(
        synced_file < renamed,
        "the gzip is synced before its rename: {events:#?}"
    );
    assert!(
        synced_dir,
        "the folder is synced between the rename and the unlink: {events:#?}"
    );
    // Every line of a run is synced as it is written, and every atomic write too.
    assert!(events
        .iter()
        .any(|e| e.starts_with("sync ") && e.ends_with("runs/all.jsonl")));
    assert!(events
        .iter()
        .any(|e| e.starts_with("sync ") && e.contains("grid.json")));
}

#[test]
fn the_sweep_recipe_shows_the_builds_progress() {
    // A new user's first `just sweep` builds for minutes: a quiet build looks hung.
    let justfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/justfile")).unwrap();
    let recipe: Vec<&str> = justfile
        .split("\nsweep FILE")
        .nth(1)
        .expect("a sweep recipe")
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .collect();
    let cargo: Vec<&&str> = recipe.iter().filter(|l| l.contains("cargo ")).collect();
    assert!(!cargo.is_empty(), "{recipe:?}");
    for line in cargo {
        assert!(!line.contains("--quiet") && !line.contains(" -q"), "{line}");
    }
}

#[test]
fn dropout_and_weight_decay_are_axes_whose_runs_reproduce_whatever_the_job_count() {
    let dir = tempfile::tempdir().unwrap();
    // A network wide enough for dropout to matter: 2-64-32-3.
    let body = SMALL
        .replace("rate = [0.0, 0.5]", "rate = 0.5")
        .replace("strategies = [\"masked\", \"single-task\"]", "strategies = [\"masked\"]")
        .replace(
            "learning-rate = 0.01",
            "learning-rate = 0.01\ndropout = [0.0, 0.3]\nweight-decay = [0.0, 0.01]\n\n[model]\nhidden = [64, 32]",
        );
    let file = experiment(dir.path(), "regularised", &body);
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    sweep_ok(&file, &one, &["--jobs", "1"]);
    assert!(sweep(&file, &two, &["--jobs", "2", "--no-report"])
        .status
        .success());
    let records = metric_records(&one);
    assert_eq!(records.len(), 2 * 2 * 3);
    assert_eq!(
        records,
        metric_records(&two),
        "bit-identical across job counts"
    );
    // The four settings differ, and the report names each group by what sets it apart.
    let auc = |r: &record::outcome::RunRecord| r.metrics().unwrap().headline().accuracy.unwrap();
    let runs = crate::common::run_records(&one);
    let mut by_setting = std::collections::BTreeMap::new();
    for (id, r) in &runs {
        let t = crate::common::spec_of(&one, id).training;
        by_setting
            .entry((t.dropout.to_bits(), t.weight_decay.to_bits()))
            .or_insert_with(Vec::new)
            .push(auc(r));
    }
    assert_eq!(by_setting.len(), 4);
    let summary = std::fs::read_to_string(one.join("summary.csv")).unwrap();
    assert!(
        summary.contains("dropout 0.3 · weight-decay 0.01"),
        "{}",
        summary.lines().take(3).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn early_stopping_can_select_by_the_dev_roc_auc() {
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL.replace(
        "learning-rate = 0.01",
        "learning-rate = 0.01\npatience = 2\nselect-by = \"auc\"",
    );
    let file = experiment(dir.path(), "by_auc", &body);
    let out = dir.path().join("out");
    sweep_ok(&file, &out, &["--no-report"]);
    let runs = crate::common::run_records(&out);
    assert_eq!(runs.len(), 12);
    for r in runs.values() {
        // Every evaluated epoch records the dev ROC-AUC beside the dev loss.
        assert!(r
            .history
            .iter()
            .all(|e| e.dev_loss.is_some() && e.dev_auc.is_some_and(|a| (0.0..=1.0).contains(&a))));
    }
    // A file that says nothing keeps its records as they were: no dev_auc written.
    let plain = experiment(
        dir.path(),
        "by_loss",
        &SMALL.replace("learning-rate = 0.01", "learning-rate = 0.01\npatience = 2"),
    );
    let out2 = dir.path().join("out2");
    assert!(sweep(&plain, &out2, &["--no-report"]).status.success());
    for r in crate::common::run_records(&out2).values() {
        assert!(r.history.iter().all(|e| e.dev_auc.is_none()));
    }
}
