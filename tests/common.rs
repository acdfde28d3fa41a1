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

/// Every run's `metrics.json`, by run id.
pub fn metric_records(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut records = BTreeMap::new();
    let Ok(dirs) = std::fs::read_dir(out.join("runs")) else {
        return records;
    };
    for entry in dirs {
        let dir = entry.unwrap().path();
        if let Ok(bytes) = std::fs::read(dir.join("metrics.json")) {
            records.insert(
                dir.file_name().unwrap().to_string_lossy().into_owned(),
                bytes,
            );
        }
    }
    records
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
