//! Sweeps on a real Slurm cluster (`just test-slurm` starts one when none answers): a job
//! array of shards plus a dependent report job gives exactly the records of a local sweep,
//! and a cancelled shard, resubmitted, finishes only what is missing.

use crate::common::{all_records, experiment, line_counts, masklab, run_records, sweep, SMALL};
use std::path::Path;
use std::time::{Duration, Instant};

/// Every run's record and boundary grid, and the grid (the summary is compared apart: a
/// cancelled report job writes none).
fn records(out: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut all = all_records(out);
    all.remove("summary.csv");
    all
}

fn run(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Waits until none of `jobs` is queued or running.
fn wait_for(jobs: &[&str], limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let queued = run(std::process::Command::new("squeue").args([
            "-h",
            "-o",
            "%i",
            "-j",
            &jobs.join(","),
        ]));
        if queued.trim().is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "jobs {jobs:?} still queued: {queued}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The word after `marker` in `masklab slurm --submit`'s output: a job id.
fn id_after(stdout: &str, marker: &str) -> String {
    let rest = stdout
        .split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("no `{marker}` in {stdout}"));
    rest.split_whitespace().next().unwrap().to_string()
}

/// Submits the 4-shard array and its report job: `(array id, report id)`.
fn submit(file: &Path, out: &Path) -> (String, String) {
    let stdout = run(masklab()
        .arg("slurm")
        .arg(file)
        .args(["--shards", "4", "--time", "00:10:00", "--submit", "--out"])
        .arg(out));
    assert!(stdout.starts_with("submitted job array "), "{stdout}");
    (
        id_after(&stdout, "job array "),
        id_after(&stdout, "report job "),
    )
}

#[test]
#[ignore = "needs a Slurm cluster: run `just test-slurm`"]
fn a_job_array_gives_the_local_records_and_a_cancelled_shard_resumes() {
    let dir = tempfile::tempdir().unwrap();
    // 2 strategies x 2 rates x 10 seeds = 40 short runs.
    let file = experiment(
        dir.path(),
        "cluster",
        &SMALL.replace("seeds = 3", "seeds = 10"),
    );
    let local = dir.path().join("local");
    assert!(sweep(&file, &local, &[]).status.success());
    let expected = records(&local);
    assert_eq!(
        expected.keys().filter(|k| k.starts_with("run/")).count(),
        40
    );

    let clock = Instant::now();
    let out = dir.path().join("slurm");
    let (array, report) = submit(&file, &out);
    wait_for(&[&array, &report], Duration::from_secs(300));
    eprintln!(
        "4 array tasks and the report job: {:.1} s",
        clock.elapsed().as_secs_f64()
    );
    assert_eq!(
        records(&out),
        expected,
        "the cluster's records are the local sweep's"
    );
    assert_eq!(
        std::fs::read(out.join("summary.csv")).unwrap(),
        std::fs::read(local.join("summary.csv")).unwrap()
    );
    let logs: Vec<String> = std::fs::read_dir(out.join("slurm/logs"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert!(
        logs.iter().any(|l| l.contains("report: 40 runs")),
        "the report job wrote the report: {logs:?}"
    );
    let status = run(masklab().arg("status").arg(&out));
    assert!(
        status.contains("40 runs in the grid: 40 done, 0 failed, 0 missing")
            && status.contains("report: current"),
        "{status}"
    );
    assert!(
        status.contains("shard 3/4: 10 done, 0 failed, 0 missing"),
        "{status}"
    );

    // The fault: shard 0 cancelled while it runs, then resubmitted alone.
    let slow = experiment(
        dir.path(),
        "slow",
        &SMALL
            .replace("seeds = 3", "seeds = 10")
            .replace("epochs = 4", "epochs = 150"),
    );
    let slow_local = dir.path().join("slow_local");
    assert!(sweep(&slow, &slow_local, &[]).status.success());
    let out = dir.path().join("fault");
    let (array, report) = submit(&slow, &out);
    let grid: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("grid.json")).unwrap_or_default())
            .unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(120);
    let shard0 = |grid: &serde_json::Value| -> Vec<String> {
        grid["runs"]
            .as_array()
            .map(|r| {
                r.iter()
                    .step_by(4)
                    .map(|e| e["id"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let done = |ids: &[String]| {
        let records = run_records(&out);
        ids.iter().filter(|id| records.contains_key(*id)).count()
    };
    let mut ids = shard0(&grid);
    while (ids.is_empty() || done(&ids) < 2) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        if ids.is_empty() {
            if let Ok(bytes) = std::fs::read(out.join("grid.json")) {
                ids = shard0(&serde_json::from_slice(&bytes).unwrap());
            }
        }
    }
    assert!(
        done(&ids) >= 2 && done(&ids) < 10,
        "shard 0 should be part way: {} of 10",
        done(&ids)
    );
    run(std::process::Command::new("scancel").arg(format!("{array}_0")));
    // The report job runs once the array has ended, however its tasks ended.
    wait_for(&[&array, &report], Duration::from_secs(300));
    let records_then = run_records(&out);
    let finished: Vec<&String> = ids
        .iter()
        .filter(|id| records_then.contains_key(*id))
        .collect();
    assert!(
        finished.len() < 10,
        "the cancel came too late: shard 0 finished"
    );
    let md = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(
        md.contains(&format!("0 failed, {} not yet run", 10 - finished.len())),
        "the first report job reported what had finished: {md}"
    );
    let status = run(masklab().arg("status").arg(&out));
    assert!(
        status.contains(&format!(
            "shard 0/4: {} done, 0 failed, {} missing",
            finished.len(),
            10 - finished.len()
        )),
        "{status}"
    );
    // Resubmit shard 0 only, as the README says: a new report job follows it.
    let said = run(masklab()
        .arg("slurm")
        .arg(&slow)
        .args(["--resubmit", "0", "--out"])
        .arg(&out));
    assert!(said.contains("was left as it is"), "{said}");
    let submitted = said
        .lines()
        .find(|l| l.starts_with("submitted"))
        .unwrap_or_else(|| panic!("{said}"));
    let (again, new_report) = (
        id_after(submitted, "as job "),
        id_after(submitted, "report job "),
    );
    assert_ne!(new_report, report);
    wait_for(&[&again, &new_report], Duration::from_secs(300));
    assert_eq!(
        std::fs::read(out.join("summary.csv")).unwrap(),
        std::fs::read(slow_local.join("summary.csv")).unwrap(),
        "the new report job reported every run"
    );
    assert_eq!(
        records(&out),
        records(&slow_local),
        "after the resubmission, the local sweep's records"
    );
    // A run computed again would have a second line in the logs.
    let lines = line_counts(&out);
    for id in &finished {
        assert_eq!(
            lines.get(*id),
            Some(&1),
            "{id} was finished before the cancel and must not be recomputed"
        );
    }
    eprintln!(
        "cancelled shard 0 with {} of 10 runs done; the resubmission ran the other {}",
        finished.len(),
        10 - finished.len()
    );
}

#[test]
#[ignore = "needs a Slurm cluster: run `just test-slurm`"]
fn a_diverging_run_does_not_block_the_report_job() {
    let dir = tempfile::tempdir().unwrap();
    // Half the runs at a learning rate of 1e30, which diverges.
    let file = experiment(
        dir.path(),
        "diverge",
        &SMALL.replace("learning-rate = 0.01", "learning-rate = [0.01, 1e30]"),
    );
    let out = dir.path().join("out");
    let (array, report) = submit(&file, &out);
    wait_for(&[&array, &report], Duration::from_secs(300));
    let md = std::fs::read_to_string(out.join("REPORT.md"))
        .expect("the report job ran although array tasks failed");
    assert!(
        md.contains("## Failed runs") && md.contains("diverged"),
        "{md}"
    );
    let status = run(masklab().arg("status").arg(&out));
    assert!(status.contains("report: current"), "{status}");
}

#[test]
fn more_shards_than_runs_are_clamped_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let file = experiment(dir.path(), "small", SMALL);
    let out = dir.path().join("out");
    let result = masklab()
        .arg("slurm")
        .arg(&file)
        .args(["--shards", "100000", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    assert!(
        stderr.contains("100000 shards asked for a grid of 12 runs: using 12"),
        "{stderr}"
    );
    let script = std::fs::read_to_string(out.join("slurm/array.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-11\n"), "{script}");
    assert!(
        script.contains("--shard \"${SLURM_ARRAY_TASK_ID}/12\""),
        "{script}"
    );
}

#[test]
fn the_cluster_script_never_stops_a_process_it_did_not_start() {
    let state = tempfile::tempdir().unwrap();
    // A stranger: a process of the same name the script's `started` file names, but
    // not the one it started (its pid was reused), and a line with no pid at all.
    let mut stranger = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let pid = stranger.id();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start: u64 = stat
        .rsplit(") ")
        .next()
        .unwrap()
        .split(' ')
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    std::fs::write(
        state.path().join("started"),
        format!("sleep {pid} {}\nslurmd\nslurmctld {pid}\n", start + 1),
    )
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/slurm-cluster.sh");
    let out = std::process::Command::new("bash")
        .args([script, "stop"])
        .env("MASKLAB_SLURM_STATE", state.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok(),
        "the stranger still runs: {said}"
    );
    assert!(said.contains(&format!("not stopping pid {pid}")), "{said}");
    assert!(!state.path().join("started").exists());
    // The same process, named with its real start time, is the script's own and is stopped.
    std::fs::write(
        state.path().join("started"),
        format!("sleep {pid} {start}\n"),
    )
    .unwrap();
    let out = std::process::Command::new("bash")
        .args([script, "stop"])
        .env("MASKLAB_SLURM_STATE", state.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("stopping sleep ({pid})")));
    let status = stranger.wait().unwrap();
    assert!(!status.success(), "killed");
}
