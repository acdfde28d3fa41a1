//! Helpers shared by the integration tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn masklab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_masklab"))
}

/// Writes an experiment file into `dir` and returns its path.
pub fn experiment(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, body).unwrap();
    path
}

pub fn sweep(file: &Path, out: &Path, extra: &[&str]) -> Output {
    masklab()
        .arg("sweep")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// Starts a sweep in the background with `jobs` jobs, its stderr going to `stderr`.
pub fn spawn_sweep(
    file: &Path,
    out: &Path,
    jobs: &str,
    stderr: std::process::Stdio,
) -> std::process::Child {
    masklab()
        .arg("sweep")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(["--jobs", jobs])
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// Every run's record, by run id, as its log line's bytes: the line that counts
/// ([`record::runs`]).
pub fn metric_records(out: &Path) -> BTreeMap<String, Vec<u8>> {
    run_records(out)
        .into_iter()
        .map(|(id, r)| (id, serde_json::to_vec(&r).unwrap()))
        .collect()
}

/// Every run's record, by run id, for the runs of the folder's `grid.json`: the line that
/// counts, by the rule the sweep and the report use ([`record::runs`]).
pub fn run_records(out: &Path) -> BTreeMap<String, record::outcome::RunRecord> {
    if !out.join("grid.json").exists() {
        return BTreeMap::new(); // a sweep that has not started writing
    }
    let grid: record::sweep::GridRecord = record::io::read_json(&out.join("grid.json")).unwrap();
    let expected: BTreeMap<String, record::spec::Streams> = grid
        .runs
        .iter()
        .map(|e| (e.id.clone(), record::seeds::streams(&e.spec)))
        .collect();
    let mut records = BTreeMap::new();
    record::runs::read_counted(
        out,
        |id| expected.get(id).copied(),
        |r| {
            records.insert(r.id.clone(), r);
        },
    )
    .unwrap();
    records
}

/// A run's settings, from the results folder's `grid.json`.
pub fn spec_of(out: &Path, id: &str) -> record::RunSpec {
    let grid: record::sweep::GridRecord = record::io::read_json(&out.join("grid.json")).unwrap();
    grid.runs.into_iter().find(|e| e.id == id).unwrap().spec
}

/// Every run's record (`run/<id>`), every boundary grid (`boundaries/<id>.json`), the grid
/// and the summary table.
pub fn all_records(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files: BTreeMap<String, Vec<u8>> = metric_records(out)
        .into_iter()
        .map(|(id, bytes)| (format!("run/{id}"), bytes))
        .collect();
    for grid in std::fs::read_dir(out.join("boundaries"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = grid.file_name().to_string_lossy().into_owned();
        if !name.starts_with(".masklab-tmp-") {
            files.insert(
                format!("boundaries/{name}"),
                std::fs::read(grid.path()).unwrap(),
            );
        }
    }
    for top in ["grid.json", "summary.csv"] {
        if let Ok(bytes) = std::fs::read(out.join(top)) {
            files.insert(top.into(), bytes);
        }
    }
    files
}

/// How many lines each run id has across the run logs (a run computed twice has two).
pub fn line_counts(out: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    record::log::scan(out, |r| *counts.entry(r.id).or_default() += 1).unwrap();
    counts
}

/// A small toy sweep: 2 rates x 2 strategies x 3 seeds = 12 runs.
pub const SMALL: &str = r#"
seed = 7
seeds = 3
strategies = ["masked", "single-task"]

[data]
source = "toy"
rows = 3000

[split]
test-rows = 500

[missing]
rate = [0.0, 0.5]

[training]
epochs = 4
batch-size = 256
learning-rate = 0.01
"#;

/// [`sweep`], which must succeed: a failure shows the sweep's stderr.
pub fn sweep_ok(file: &Path, out: &Path, extra: &[&str]) -> Output {
    let result = sweep(file, out, extra);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    result
}
