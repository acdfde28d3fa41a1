//! A sweep killed with SIGKILL at 20 seeded random moments, resumed after each, ends with
//! exactly the records of an uninterrupted sweep and no temporary file.

use crate::common::{all_records as records, experiment, spawn_sweep, sweep, SMALL};
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::Instant;

fn temporary_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            found.extend(temporary_files(&entry.path()));
        } else if name.starts_with(".masklab-tmp-") {
            found.push(entry.path().display().to_string());
        }
    }
    found
}

#[test]
fn a_sweep_killed_at_20_random_moments_resumes_to_the_uninterrupted_records() {
    let dir = tempfile::tempdir().unwrap();
    // 30 runs of about equal, short cost, so that kills land before, during and after them.
    let body = SMALL
        .replace("seeds = 3", "seeds = 5")
        .replace("rate = [0.0, 0.5]", "rate = [0.0, 0.3, 0.6]")
        .replace("epochs = 4", "epochs = 20");
    let file = experiment(dir.path(), "soak", &body);
    let reference = dir.path().join("reference");
    let clock = Instant::now();
    assert!(sweep(&file, &reference, &["--jobs", "2"]).status.success());
    let whole = clock.elapsed();
    let expected = records(&reference);
    assert_eq!(
        expected.keys().filter(|k| k.starts_with("run/")).count(),
        30
    );

    let out = dir.path().join("killed");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20_261_129);
    let mut progress = Vec::new();
    for _ in 0..20 {
        let mut child = spawn_sweep(&file, &out, "2", std::process::Stdio::null());
        // A moment within the first 30% of an uninterrupted sweep's time.
        std::thread::sleep(whole.mul_f64(rng.random_range(0.0..0.3)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let partial = records(&out);
        // Whatever a killed sweep left that counts as a record is the uninterrupted one's.
        for (path, bytes) in partial.iter().filter(|(p, _)| !p.ends_with(".csv")) {
            assert_eq!(Some(bytes), expected.get(path), "{path}");
        }
        progress.push(partial.keys().filter(|k| k.starts_with("run/")).count());
    }
    eprintln!("finished runs after each kill: {progress:?}");
    assert!(
        progress.iter().any(|&n| n > 0 && n < 30),
        "no kill landed mid-sweep: {progress:?}"
    );
    let resumed = sweep(&file, &out, &["--jobs", "2"]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let got = records(&out);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &expected {
        assert!(
            got.get(path) == Some(bytes),
            "{path} differs from the uninterrupted sweep's"
        );
    }
    assert_eq!(temporary_files(&out), Vec::<String>::new());
    // And the sweep has nothing left to do.
    let again = sweep(&file, &out, &["--jobs", "2", "--no-report"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("30 already done, 0 completed"));
}
