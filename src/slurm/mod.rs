//! Slurm job arrays for a sweep: masklab stays a plain program; Slurm runs it.
//!
//! `array.sbatch` runs one `masklab sweep FILE --shard K/N --no-report` per array task; the
//! shards write to one results folder on a shared file system and together give exactly the
//! records of one unsharded sweep. `report.sbatch` runs `masklab report` once the array has
//! succeeded. A task that was killed (time limit, `scancel`, a node failure) is resubmitted
//! with `sbatch --array=K array.sbatch` and finishes only what is missing.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// What the scripts run, every path absolute (jobs start elsewhere).
pub struct Job {
    pub name: String,
    pub experiment: PathBuf,
    pub out: PathBuf,
    pub binary: PathBuf,
    pub workdir: PathBuf,
    pub shards: u32,
    pub cpus_per_task: u32,
    pub time: String,
    pub partition: Option<String>,
    pub account: Option<String>,
    pub mem: Option<String>,
}

/// A path as a single-quoted shell word.
fn quoted(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

impl Job {
    fn header(&self, name: &str, log: &str, extra: &[String]) -> String {
        let mut lines = vec![
            "#!/bin/bash".to_string(),
            format!("#SBATCH --job-name={name}"),
            format!(
                "#SBATCH --output={}",
                self.out.join("slurm/logs").join(log).display()
            ),
        ];
        lines.extend(extra.iter().cloned());
        if let Some(p) = &self.partition {
            lines.push(format!("#SBATCH --partition={p}"));
        }
        if let Some(a) = &self.account {
            lines.push(format!("#SBATCH --account={a}"));
        }
        lines.push("set -euo pipefail".into());
        lines.push(format!("cd {}", quoted(&self.workdir)));
        lines.join("\n") + "\n"
    }

    /// The job array's script.
    pub fn array_script(&self) -> String {
        let mut extra = vec![
            format!("#SBATCH --array=0-{}", self.shards - 1),
            format!("#SBATCH --cpus-per-task={}", self.cpus_per_task),
            format!("#SBATCH --time={}", self.time),
        ];
        if let Some(m) = &self.mem {
            extra.push(format!("#SBATCH --mem={m}"));
        }
        self.header(&format!("masklab-{}", self.name), "%x-%A_%a.out", &extra)
            + &format!(
                "exec {} sweep {} --out {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" --jobs \"${{SLURM_CPUS_PER_TASK:-{}}}\" --no-report\n",
                quoted(&self.binary),
                quoted(&self.experiment),
                quoted(&self.out),
                self.shards,
                self.cpus_per_task
            )
    }

    /// The report job's script.
    pub fn report_script(&self) -> String {
        let extra = vec![
            "#SBATCH --cpus-per-task=1".to_string(),
            format!("#SBATCH --time={}", self.time),
        ];
        self.header(
            &format!("masklab-{}-report", self.name),
            "%x-%j.out",
            &extra,
        ) + &format!(
            "exec {} report {}\n",
            quoted(&self.binary),
            quoted(&self.out)
        )
    }

    /// Writes `OUT/slurm/array.sbatch` and `OUT/slurm/report.sbatch` (and the log folder).
    pub fn write(&self) -> anyhow::Result<(PathBuf, PathBuf)> {
        let dir = self.out.join("slurm");
        std::fs::create_dir_all(dir.join("logs"))
            .with_context(|| format!("creating {}", dir.display()))?;
        let array = dir.join("array.sbatch");
        let report = dir.join("report.sbatch");
        for (path, text) in [
            (&array, self.array_script()),
            (&report, self.report_script()),
        ] {
            record::io::write_atomic(path, |w| w.write_all(text.as_bytes()))?;
        }
        Ok((array, report))
    }

    /// Submits the array, then the report with `--dependency=afterok`; returns both job ids.
    pub fn submit(&self, array: &Path, report: &Path) -> anyhow::Result<(String, String)> {
        let array_id = sbatch(&[], array)?;
        let report_id = sbatch(&[format!("--dependency=afterok:{array_id}")], report)?;
        Ok((array_id, report_id))
    }
}

/// `sbatch --parsable ARGS SCRIPT`, returning the job id.
fn sbatch(args: &[String], script: &Path) -> anyhow::Result<String> {
    let out = std::process::Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .arg(script)
        .output()
        .context("running sbatch (is Slurm's client installed and a cluster reachable?)")?;
    if !out.status.success() {
        bail!(
            "sbatch {}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // --parsable prints `id` or `id;cluster`.
    let id = text.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() {
        bail!("sbatch {} printed no job id", script.display());
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            name: "small".into(),
            experiment: "/w/exp's/small.toml".into(),
            out: "/shared/results/small".into(),
            binary: "/w/target/release/masklab".into(),
            workdir: "/w".into(),
            shards: 4,
            cpus_per_task: 2,
            time: "00:10:00".into(),
            partition: Some("short".into()),
            account: None,
            mem: Some("2G".into()),
        }
    }

    #[test]
    fn the_array_runs_one_shard_per_task_and_the_report_runs_once() {
        let a = job().array_script();
        assert!(
            a.starts_with("#!/bin/bash\n#SBATCH --job-name=masklab-small\n"),
            "{a}"
        );
        for line in [
            "#SBATCH --array=0-3",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --time=00:10:00",
            "#SBATCH --mem=2G",
            "#SBATCH --partition=short",
            "#SBATCH --output=/shared/results/small/slurm/logs/%x-%A_%a.out",
        ] {
            assert!(a.contains(line), "{line} in\n{a}");
        }
        assert!(!a.contains("--account"));
        assert!(a.ends_with("exec '/w/target/release/masklab' sweep '/w/exp'\\''s/small.toml' --out '/shared/results/small' --shard \"${SLURM_ARRAY_TASK_ID}/4\" --jobs \"${SLURM_CPUS_PER_TASK:-2}\" --no-report\n"), "{a}");
        let r = job().report_script();
        assert!(
            r.contains("#SBATCH --job-name=masklab-small-report")
                && r.ends_with("exec '/w/target/release/masklab' report '/shared/results/small'\n"),
            "{r}"
        );
    }
}
