//! Reports: tables and figures from a sweep's records.

use crate::common::{experiment, masklab, sweep, SMALL};

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
    assert_eq!(
        png_size(&out.join("boundaries.png")),
        (300 * 2 + 150, 300 * 3 + 130)
    );
    assert_eq!(png_size(&out.join("training_curves.png")), (1500, 640));
    assert!(!out.join("text_axes.png").exists());
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    // 2 strategies x 2 rates x (2 targets x 4 tasks x 4 metrics + keras) groups, 3 seeds each.
    assert_eq!(csv.lines().count(), 1 + 2 * 2 * (2 * 4 * 4 + 1));
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
    assert!(md.contains("at a drop rate of 0.5 the macro test accuracy against the true labels"));
    assert!(md.contains("![") && md.contains("(boundaries.png)"));

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
