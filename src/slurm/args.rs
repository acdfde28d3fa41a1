//! What `masklab slurm` writes into `#SBATCH` lines, checked first: Slurm's own formats for
//! the time limit and memory, plain names for partition, account and job name, and paths
//! without characters a batch script or Slurm's file-name patterns would misread. A value
//! that breaks a rule is refused with the option, the value and the rule, so that nothing a
//! user types can become a line of shell.

use anyhow::{bail, Result};
use std::path::Path;

/// A time limit as sbatch takes it: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or
/// `UNLIMITED` / `INFINITE`.
pub fn time_limit(value: &str) -> Result<String> {
    let rule = "a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS";
    if ["unlimited", "infinite"].contains(&value.to_ascii_lowercase().as_str()) {
        return Ok(value.to_string());
    }
    let numbers = |s: &str| -> Option<Vec<u64>> {
        s.split(':')
            .map(|p| {
                (!p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| p.parse().ok())
                    .flatten()
            })
            .collect()
    };
    let ok = match value.split_once('-') {
        Some((days, rest)) => {
            numbers(days).is_some_and(|d| d.len() == 1)
                && numbers(rest).is_some_and(|p| (1..=3).contains(&p.len()))
        }
        None => numbers(value).is_some_and(|p| (1..=3).contains(&p.len())),
    };
    if !ok || value.is_empty() {
        bail!("--time: `{}` is not {rule}", value.escape_debug());
    }
    Ok(value.to_string())
}

/// Memory as sbatch takes it: a whole number with an optional unit K, M, G or T.
pub fn memory(value: &str) -> Result<String> {
    let digits = value.trim_end_matches(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't']);
    let unit_len = value.len() - digits.len();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || unit_len > 1 {
        bail!(
            "--mem: `{}` is not a Slurm memory size: a whole number with an optional unit K, M, G or T (e.g. 4G)",
            value.escape_debug()
        );
    }
    Ok(value.to_string())
}

/// A partition or account name: letters, digits, `_`, `-` and `.`.
pub fn name(option: &str, value: &str) -> Result<String> {
    if value.is_empty()
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        bail!(
            "{option}: `{}` is not a Slurm name: letters, digits, `_`, `-` and `.` only",
            value.escape_debug()
        );
    }
    Ok(value.to_string())
}

/// A job name from the experiment's name: anything but letters, digits, `_`, `-`, `.` as `_`.
pub fn job_name(experiment: &str) -> String {
    experiment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A path that goes into a script: no control characters (a newline would end the
/// `#SBATCH` line and start a shell line) and valid UTF-8.
pub fn path<'a>(what: &str, p: &'a Path) -> Result<&'a str> {
    let Some(text) = p.to_str() else {
        bail!("{what}: `{}` is not valid UTF-8", p.display());
    };
    if text.chars().any(char::is_control) {
        bail!(
            "{what}: `{}` holds a control character, which a batch script cannot carry",
            text.escape_debug()
        );
    }
    Ok(text)
}

/// A path for an `#SBATCH --output=` line: `%` doubled (Slurm reads `%x`, `%j`, ... as
/// patterns and `%%` as a `%`), and double-quoted, which sbatch takes off. A `"` or `\` in
/// the path is refused: sbatch's quoting has no escape for the one, and the other turns
/// Slurm's patterns off.
pub fn output_path(p: &str) -> Result<String> {
    if p.contains(['"', '\\']) {
        bail!(
            "--out: `{}`: a results folder for Slurm may not contain `\"` or `\\` (sbatch's --output cannot carry them)",
            p.escape_debug()
        );
    }
    Ok(format!("\"{}\"", p.replace('%', "%%")))
}

/// Array task numbers to resubmit: `K` or `K,K,...`.
pub fn tasks(value: &str) -> Result<String> {
    let ok = !value.is_empty()
        && value
            .split(',')
            .all(|t| !t.is_empty() && t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        bail!(
            "--resubmit: `{}` is not a list of array task numbers (e.g. 0 or 0,3)",
            value.escape_debug()
        );
    }
    Ok(value.to_string())
}

/// The array's size: at most one shard per run. Returns the shards to use and, when fewer
/// than asked, the sentence that says so.
pub fn shards(asked: u32, runs: usize) -> (u32, Option<String>) {
    let runs = u32::try_from(runs).unwrap_or(u32::MAX).max(1);
    if asked > runs {
        (
            runs,
            Some(format!(
                "{asked} shards asked for a grid of {runs} runs: using {runs} (a shard with no run would only queue)"
            )),
        )
    } else {
        (asked, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_formats_are_checked_and_control_characters_refused() {
        for ok in [
            "90",
            "10:00",
            "01:00:00",
            "2-0",
            "2-12:30",
            "1-00:00:00",
            "UNLIMITED",
        ] {
            assert_eq!(time_limit(ok).unwrap(), ok);
        }
        for bad in [
            "banana",
            "",
            "1:2:3:4",
            "-1",
            "1-",
            "01:00:00\necho x",
            "1 h",
        ] {
            let e = time_limit(bad).unwrap_err().to_string();
            assert!(
                e.starts_with("--time: ") && e.contains("Slurm time limit"),
                "{e}"
            );
        }
        for ok in ["4G", "512M", "1000", "2t"] {
            assert!(memory(ok).is_ok(), "{ok}");
        }
        for bad in ["4G\necho INJECTED", "4GB", "G", "-4G", "4.5G", ""] {
            let e = memory(bad).unwrap_err().to_string();
            assert!(e.starts_with("--mem: "), "{e}");
        }
        assert!(memory("4G\necho INJECTED")
            .unwrap_err()
            .to_string()
            .contains("4G\\necho INJECTED"));
        assert!(name("--partition", "short-1.a_b").is_ok());
        assert!(name("--partition", "short\n#SBATCH --x").is_err());
        assert!(name("--account", "a b").is_err());
        assert_eq!(job_name("drop rates\n"), "drop_rates_");
        assert!(path("--out", Path::new("/r/a\nb")).is_err());
        assert_eq!(output_path("/r/100%/x").unwrap(), "\"/r/100%%/x\"");
        assert!(output_path("/r/a\"b").is_err());
        assert_eq!(shards(4, 40), (4, None));
        let (n, said) = shards(100_000, 1);
        assert_eq!(n, 1);
        assert!(said
            .unwrap()
            .contains("100000 shards asked for a grid of 1 runs"));
    }
}
