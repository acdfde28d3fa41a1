//! Every result the README quotes is a committed result: each three-decimal number in its
//! prose and tables is the correctly rounded value of a row of a `results/*/summary.csv`
//! (a mean or an interval bound), or of the difference of two such means; a quoted
//! interval, `0.992 [0.990, 0.994]`, is one row's mean and bounds together.
//!
//! Which summaries a number may come from: those of the experiments its section has named
//! so far (`results/<name>/` or `experiments/<name>.toml`). Exempt, as the README marks
//! them: the `## Speed` section (bench and timing figures, each beside its command), code
//! blocks, numbers with a unit after them (`ms`, `s`, `×`), lines of published numbers
//! (they say `published`), and the blog post's own numbers (`the post's 0.527`).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One row of a committed summary, as the README may quote it.
struct Row {
    task: String,
    metric: String,
    /// Mean and bounds, as `{:.3}`.
    mean: Option<String>,
    low: Option<String>,
    high: Option<String>,
    /// The mean unrounded, for differences.
    raw_mean: Option<f64>,
    /// Rows of the same target, task and metric share a group (differences stay inside).
    group: usize,
}

impl Row {
    /// Whether a paragraph can be quoting this row: macro and pooled rows always; a task's
    /// row where the paragraph names the task; balanced accuracy, BCE and Keras's pooled
    /// accuracy only where it names them (so a "macro accuracy" is never matched by a
    /// balanced accuracy).
    fn in_view(&self, text: &str) -> bool {
        let task = matches!(self.task.as_str(), "macro" | "all")
            || text.contains(&format!("`{}`", self.task))
            || text.contains(&format!(" {} ", self.task));
        let metric = match self.metric.as_str() {
            "accuracy" | "auc" | "pr_auc" => true,
            "balanced_accuracy" => text.contains("balanced accuracy"),
            "bce" => text.contains("BCE"),
            _ => text.contains("Keras"),
        };
        task && metric
    }
}

fn three(v: f64) -> String {
    format!("{v:.3}")
}

fn rows(summary: &Path) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(summary).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (target, task, metric) = (col("target"), col("task"), col("metric"));
    let (mean, low, high) = (col("mean"), col("ci95_low"), col("ci95_high"));
    let mut groups: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.unwrap();
        let num = |i: usize| row[i].parse::<f64>().ok();
        let key = (
            row[target].to_string(),
            row[task].to_string(),
            row[metric].to_string(),
        );
        let next = groups.len();
        let group = *groups.entry(key).or_insert(next);
        out.push(Row {
            task: row[task].to_string(),
            metric: row[metric].to_string(),
            mean: num(mean).map(three),
            low: num(low).map(three),
            high: num(high).map(three),
            raw_mean: num(mean),
            group,
        });
    }
    out
}

/// Whether `number` is a rounded mean or bound of a row in view, or the rounded difference
/// of two means of one group in view.
fn quotes_a_value(rows: &[&Row], number: &str) -> bool {
    let value = rows.iter().any(|r| {
        [&r.mean, &r.low, &r.high]
            .iter()
            .any(|v| v.as_deref() == Some(number))
    });
    value
        || rows.iter().enumerate().any(|(i, a)| {
            rows[i + 1..].iter().any(|b| {
                a.group == b.group
                    && matches!((a.raw_mean, b.raw_mean), (Some(x), Some(y)) if three((x - y).abs()) == number)
            })
        })
}

/// Whether `(m, l, h)` is one row's mean and interval.
fn quotes_an_interval(rows: &[&Row], iv: &(String, String, String)) -> bool {
    rows.iter().any(|r| {
        r.mean.as_deref() == Some(&iv.0)
            && r.low.as_deref() == Some(&iv.1)
            && r.high.as_deref() == Some(&iv.2)
    })
}

/// A three-decimal number in a text: where it starts and its digits.
fn numbers(text: &str) -> Vec<(usize, &str)> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    for i in 0..b.len().saturating_sub(4) {
        let starts = i == 0 || !(b[i - 1].is_ascii_digit() || b[i - 1] == b'.');
        let shape = b[i].is_ascii_digit()
            && b[i + 1] == b'.'
            && b[i + 2..i + 5].iter().all(u8::is_ascii_digit);
        let ends = b.get(i + 5).is_none_or(|c| !c.is_ascii_digit());
        if starts && shape && ends {
            found.push((i, &text[i..i + 5]));
        }
    }
    found
}

/// Whether the number at `at..at + 5` is exempt by what stands beside it.
fn exempt(text: &str, at: usize) -> bool {
    let after = &text[at + 5..];
    let before = &text[..at];
    ["ms", " ms", " s ", " s,", " s)", "×", " µs", " GFLOP"]
        .iter()
        .any(|unit| after.starts_with(unit))
        || before.ends_with("post's ")
        || before.ends_with("post's ~")
}

/// `m [l, h]` (with optional bold around `m`) starting at `at`: the three numbers.
fn interval(text: &str, at: usize) -> Option<(String, String, String)> {
    let rest = text[at + 5..].trim_start_matches('*');
    let rest = rest.strip_prefix(" [")?;
    let (l, rest) = rest.split_at_checked(5)?;
    let rest = rest.strip_prefix(", ")?;
    let h = rest.get(..5)?;
    rest[5..]
        .starts_with(']')
        .then(|| (text[at..at + 5].into(), l.into(), h.into()))
}

/// The experiments a line names (`results/<x>/`, `experiments/<x>.toml`).
fn named(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (prefix, end) in [("results/", '/'), ("experiments/", '.')] {
        for (i, _) in line.match_indices(prefix) {
            let rest = &line[i + prefix.len()..];
            if let Some(stop) = rest.find(end) {
                let name = &rest[..stop];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    names.push(name.to_string());
                }
            }
        }
    }
    names
}

#[test]
fn every_result_the_readme_quotes_is_a_committed_result() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let mut summaries: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut in_scope: Vec<String> = Vec::new();
    let (mut in_code, mut in_speed) = (false, false);
    let mut checked = 0;
    let mut failures = Vec::new();
    // A paragraph (or bullet) at a time, so an interval broken over two lines reads whole.
    let mut paragraphs: Vec<(usize, String)> = Vec::new();
    for (i, line) in readme.lines().enumerate() {
        let starts = line.trim().is_empty()
            || line.starts_with('#')
            || line.starts_with("- ")
            || line.starts_with('|')
            || line.starts_with("```")
            || paragraphs.is_empty();
        if starts {
            paragraphs.push((i + 1, line.to_string()));
        } else {
            let last = paragraphs.last_mut().unwrap();
            last.1.push(' ');
            last.1.push_str(line.trim_start());
        }
    }
    for (line_number, text) in &paragraphs {
        if text.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if text.starts_with("## ") {
            in_scope.clear();
            in_speed = text.starts_with("## Speed");
        }
        for name in named(text) {
            let path = Path::new(ROOT)
                .join("results")
                .join(&name)
                .join("summary.csv");
            if path.is_file() && !summaries.contains_key(&name) {
                summaries.insert(name.clone(), rows(&path));
            }
            in_scope.push(name);
        }
        if in_code || in_speed || text.contains("published") {
            continue;
        }
        let mut seen = HashSet::new();
        let scope: Vec<&Row> = in_scope
            .iter()
            .filter(|n| seen.insert(n.as_str()))
            .filter_map(|n| summaries.get(n))
            .flat_map(|rows| rows.iter().filter(|r| r.in_view(text)))
            .collect();
        let mut skip_until = 0;
        for (at, number) in numbers(text) {
            if at < skip_until || exempt(text, at) {
                continue;
            }
            checked += 1;
            if let Some(iv) = interval(text, at) {
                skip_until = at + text[at..].find(']').unwrap_or(0);
                if !quotes_an_interval(&scope, &iv) {
                    failures.push(format!(
                        "README.md line {line_number}: `{} [{}, {}]` is no row's mean and interval in {in_scope:?}",
                        iv.0, iv.1, iv.2
                    ));
                }
                continue;
            }
            if !quotes_a_value(&scope, number) {
                failures.push(format!(
                    "README.md line {line_number}: `{number}` is no rounded mean, bound or difference of means in {in_scope:?}"
                ));
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} numbers found: is the parser reading the README?"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} quoted numbers:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_checker_reads_intervals_units_and_names() {
    let text = "masked **0.992 [0.990, 0.994]** and 0.681 ms, the post's 0.527, 1.00×";
    let found: Vec<&str> = numbers(text).into_iter().map(|(_, n)| n).collect();
    assert_eq!(found, ["0.992", "0.990", "0.994", "0.681", "0.527"]);
    let at = text.find("0.992").unwrap();
    assert_eq!(
        interval(text, at),
        Some(("0.992".into(), "0.990".into(), "0.994".into()))
    );
    assert!(exempt(text, text.find("0.681").unwrap()));
    assert!(exempt(text, text.find("0.527").unwrap()));
    assert!(!exempt(text, at));
    assert_eq!(
        named("see [`results/tox21/REPORT.md`] and experiments/tox21_probe.toml"),
        ["tox21", "tox21_probe"]
    );
}
