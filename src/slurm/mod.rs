//! Slurm job arrays for a sweep: masklab stays a plain program; Slurm runs it.
//!
//! `array.sbatch` runs one `masklab sweep FILE --shard K/N --no-report` per array task; the
//! shards write to one results folder on a shared file system and together give exactly the
//! records of one unsharded sweep. `report.sbatch` runs `masklab report` once the array has
//! *ended*, however its tasks ended (`afterany`): a run that diverged is a result the report
//! lists, not a reason never to report. A task that was killed (time limit, `scancel`, a
//! node failure) is resubmitted with `masklab slurm FILE --resubmit K`, which cancels the
//! report job still waiting, submits task K, and a new report job after both arrays; the
//! task finishes only what is missing. The job ids are kept in `slurm/jobs`.
//!
//! Everything that goes into a script is checked first ([`args`]).

pub mod args;

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// What the scripts run, every path absolute (jobs start elsewhere).
#[derive(Debug)]
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
    /// Checks every value a script will carry (see [`args`]); the name is made plain.
    pub fn validated(mut self) -> anyhow::Result<Job> {
        self.name = args::job_name(&self.name);
        self.time = args::time_limit(&self.time)?;
        self.mem = self.mem.as_deref().map(args::memory).transpose()?;
        self.partition = self
            .partition
            .as_deref()
            .map(|p| args::name("--partition", p))
            .transpose()?;
        self.account = self
            .account
            .as_deref()
            .map(|a| args::name("--account", a))
            .transpose()?;
        args::output_path(args::path("--out", &self.out)?)?;
        args::path("the experiment file", &self.experiment)?;
        args::path("the masklab binary", &self.binary)?;
        args::path("the working folder", &self.workdir)?;
        Ok(self)
    }

    fn header(&self, name: &str, log: &str, extra: &[String]) -> String {
        let logs = self.out.join("slurm/logs");
        let logs = args::output_path(&logs.to_string_lossy()).expect("checked in validated");
        let mut lines = vec![
            "#!/bin/bash".to_string(),
            format!("#SBATCH --job-name={name}"),
            // `"<folder with % doubled>/<pattern>"`
            format!("#SBATCH --output={}/{log}\"", logs.trim_end_matches('"')),
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

    /// Submits the array, then the report after it ends (`afterany`); returns both job ids,
    /// which are kept in `slurm/jobs`.
    pub fn submit(&self, array: &Path, report: &Path) -> anyhow::Result<(String, String)> {
        let array_id = sbatch(&[], array)?;
        let report_id = sbatch(&[format!("--dependency=afterany:{array_id}")], report)?;
        write_jobs(&self.out, &Jobs::new(&array_id, &report_id))?;
        Ok((array_id, report_id))
    }
}

/// The jobs `masklab slurm --submit` (or `--resubmit`) last submitted, in `slurm/jobs`:
/// `array <id>` lines (every array whose end the report waits for) and a `report <id>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Jobs {
    pub arrays: Vec<String>,
    pub report: String,
}

impl Jobs {
    fn new(array: &str, report: &str) -> Jobs {
        Jobs {
            arrays: vec![array.to_string()],
            report: report.to_string(),
        }
    }

    fn text(&self) -> String {
        let mut t: String = self.arrays.iter().map(|a| format!("array {a}\n")).collect();
        t.push_str(&format!("report {}\n", self.report));
        t
    }

    fn parse(text: &str) -> Option<Jobs> {
        let mut jobs = Jobs {
            arrays: Vec::new(),
            report: String::new(),
        };
        for line in text.lines() {
            match line.split_once(' ')? {
                ("array", id) => jobs.arrays.push(id.to_string()),
                ("report", id) => jobs.report = id.to_string(),
                _ => return None,
            }
        }
        (!jobs.arrays.is_empty() && !jobs.report.is_empty()).then_some(jobs)
    }
}

fn jobs_path(out: &Path) -> PathBuf {
    out.join("slurm/jobs")
}

fn write_jobs(out: &Path, jobs: &Jobs) -> anyhow::Result<()> {
    let text = jobs.text();
    record::io::write_atomic(&jobs_path(out), |w| w.write_all(text.as_bytes()))?;
    Ok(())
}

/// Resubmits array tasks `tasks` (e.g. `0` or `0,3`) of the array in `out/slurm`: cancels
/// the report job if it still waits, submits the tasks, and a report job after every array
/// (the old one and the new). Returns the new jobs and what became of the old report job.
pub fn resubmit(out: &Path, tasks: &str) -> anyhow::Result<(Jobs, String)> {
    let tasks = args::tasks(tasks)?;
    let path = jobs_path(out);
    let old = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| Jobs::parse(&t))
        .with_context(|| {
            format!(
                "{}: no submitted jobs recorded here (submit with --submit first)",
                path.display()
            )
        })?;
    let cancelled = cancel_if_pending(&old.report)?;
    let dir = out.join("slurm");
    let array_id = sbatch(&[format!("--array={tasks}")], &dir.join("array.sbatch"))?;
    let mut arrays = old.arrays.clone();
    arrays.push(array_id);
    let report_id = sbatch(
        &[format!("--dependency=afterany:{}", arrays.join(":"))],
        &dir.join("report.sbatch"),
    )?;
    let jobs = Jobs {
        arrays,
        report: report_id,
    };
    write_jobs(out, &jobs)?;
    Ok((jobs, cancelled))
}

/// Cancels a job that is still pending; says what became of it.
fn cancel_if_pending(job: &str) -> anyhow::Result<String> {
    let state = std::process::Command::new("squeue")
        .args(["-h", "-o", "%T", "-j", job])
        .output()
        .context("running squeue (is Slurm's client installed and a cluster reachable?)")?;
    let state = String::from_utf8_lossy(&state.stdout).trim().to_string();
    if state != "PENDING" {
        let was = if state.is_empty() {
            "ended"
        } else {
            state.as_str()
        };
        return Ok(format!(
            "the earlier report job {job} was left as it is ({was})"
        ));
    }
    let out = std::process::Command::new("scancel")
        .arg(job)
        .output()
        .context("running scancel")?;
    if !out.status.success() {
        bail!(
            "scancel {job}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(format!(
        "cancelled the earlier report job {job}, which was still waiting"
    ))
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

    #[test]
    fn a_hostile_argument_is_refused_and_a_percent_in_the_folder_is_literal() {
        let injected = Job {
            mem: Some("4G\necho INJECTED".into()),
            ..job()
        };
        let e = injected.validated().unwrap_err().to_string();
        assert!(e.starts_with("--mem: "), "{e}");
        let e = Job {
            time: "banana".into(),
            ..job()
        }
        .validated()
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("--time: `banana`"), "{e}");
        let odd = Job {
            out: "/shared/100%/run".into(),
            name: "my exp".into(),
            ..job()
        }
        .validated()
        .unwrap();
        let a = odd.array_script();
        assert!(a.contains("#SBATCH --job-name=masklab-my_exp\n"), "{a}");
        assert!(
            a.contains("#SBATCH --output=\"/shared/100%%/run/slurm/logs/%x-%A_%a.out\"\n"),
            "{a}"
        );
        assert!(
            a.lines().all(|l| l.starts_with("#")
                || l.starts_with("set ")
                || l.starts_with("cd ")
                || l.starts_with("exec ")),
            "{a}"
        );
    }

    #[test]
    fn the_jobs_file_round_trips() {
        let jobs = Jobs {
            arrays: vec!["12".into(), "15".into()],
            report: "16".into(),
        };
        assert_eq!(Jobs::parse(&jobs.text()), Some(jobs));
        assert_eq!(Jobs::parse("array 1\n"), None);
    }

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
            "#SBATCH --output=\"/shared/results/small/slurm/logs/%x-%A_%a.out\"",
        ] {
            assert!(a.contains(line), "{line} in\n{a}");
        }
        assert!(!a.contains("--account"));
        assert!(a.ends_with("exec '/w/target/release/masklab' sweep '/w/exp'\\''s/small.toml' --out '/shared/results/small' --shard \"${SLURM_ARRAY_TASK_ID}/4\" --jobs \"${SLURM_CPUS_PER_TASK:-2}\" --no-report\n"), "{a}");
        let r = job().report_script();
        assert!(r.contains("#SBATCH --output=\"/shared/results/small/slurm/logs/%x-%j.out\""));
        assert!(
            r.contains("#SBATCH --job-name=masklab-small-report")
                && r.ends_with("exec '/w/target/release/masklab' report '/shared/results/small'\n"),
            "{r}"
        );
    }
}
