//! `masklab`: reproducible experiments in multi-task learning with missing labels.

use anyhow::Context;
use clap::{Parser, Subcommand};
use runner::sweep::{parse_shard, sweep, Provenance, SweepOptions};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an experiment file's grid; finished runs are skipped, so rerunning resumes
    Sweep {
        /// The experiment file (TOML)
        file: PathBuf,
        /// Runs at once, at least 1 [default: the number of cores]
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        jobs: Option<u32>,
        /// Run only the K-th of N shares of the grid (0 <= K < N), e.g. for a Slurm job array
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Rerun runs that already have a complete record
        #[arg(long)]
        force: bool,
        /// Print the grid and exit without running anything
        #[arg(long)]
        dry_run: bool,
        /// Results folder [default: results/<file stem>]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Skip the report (tables, figures, REPORT.md) after the sweep
        #[arg(long)]
        no_report: bool,
    },
    /// Write the tables, figures and REPORT.md of a results folder
    Report {
        /// The experiment's results folder, e.g. results/drop_rates
        dir: PathBuf,
    },
    /// Write (and with --submit, submit) a Slurm job array of N shards and a report job
    /// that runs after it ends; --resubmit K reruns task K and replaces the report job
    Slurm {
        /// The experiment file (TOML)
        file: PathBuf,
        /// Array tasks, each a `--shard K/N` of the grid (at most one per run)
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..), required_unless_present = "resubmit")]
        shards: Option<u32>,
        /// Cores per array task (its --jobs)
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        cpus_per_task: u32,
        /// Time limit per array task, HH:MM:SS
        #[arg(long, default_value = "01:00:00")]
        time: String,
        #[arg(long)]
        partition: Option<String>,
        #[arg(long)]
        account: Option<String>,
        /// Memory per array task, as sbatch takes it (e.g. 4G)
        #[arg(long)]
        mem: Option<String>,
        /// Results folder on a shared file system [default: results/<file stem>]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Submit with sbatch (otherwise print the commands)
        #[arg(long)]
        submit: bool,
        /// Resubmit array tasks K (e.g. 0 or 0,3) of the submitted array: cancels the report
        /// job still waiting and submits a new one after both arrays
        #[arg(long, value_name = "K", conflicts_with_all = ["submit", "shards"])]
        resubmit: Option<String>,
    },
    /// Runs done, failed and missing (per shard where shards ran), and whether the report
    /// is current
    Status {
        /// The experiment's results folder, e.g. results/drop_rates
        dir: PathBuf,
    },
    /// Write a SMILES file's features as a sweep computes them: per line, the SMILES, its
    /// scaffold key, its ECFP fingerprint and (--descriptors) its descriptors, or why it
    /// was skipped
    Featurize {
        /// A CSV (or .csv.gz) with a SMILES column
        file: PathBuf,
        /// Where to write: .parquet, or CSV otherwise [default: FILE's stem + .features.csv]
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value = "SMILES")]
        smiles_column: String,
        /// ECFP radius (2: ECFP4)
        #[arg(long, default_value_t = 2)]
        radius: usize,
        /// Folded length
        #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1..))]
        bits: u32,
        /// Counts instead of bits
        #[arg(long)]
        counts: bool,
        /// Use masklab's atom invariants (Rogers & Hahn's plus the valence) instead of
        /// RDKit's Morgan invariants, the default
        #[arg(long)]
        masklab_invariants: bool,
        /// Add the 41 molecular descriptors (RDKit's properties), one column each
        #[arg(long)]
        descriptors: bool,
    },
    /// Print the linked BLAS and its thread setting
    Info,
}

/// Exit codes: 0 success, 1 a run failed or an I/O error, 2 a bad experiment file or
/// argument, 130 interrupted.
fn main() -> ExitCode {
    masklab::blas::pin_kernels();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // One line, like every other error: clap's first line names the argument and
            // the rule; its usage block follows on `--help`.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("error: bad arguments");
            eprintln!("{first}");
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print(); // --help, --version
            return ExitCode::SUCCESS;
        }
    };
    masklab::blas::use_single_thread();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            let config = e
                .downcast_ref::<runner::SweepError>()
                .is_some_and(runner::SweepError::is_usage);
            ExitCode::from(if config { 2 } else { 1 })
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Info => {
            println!("masklab {}", env!("CARGO_PKG_VERSION"));
            println!(
                "blas: {} ({} thread)",
                masklab::blas::config(),
                masklab::blas::threads()
            );
            println!("blas kernels: {}", masklab::blas::kernels());
            Ok(ExitCode::SUCCESS)
        }
        Command::Sweep {
            file,
            jobs,
            shard,
            force,
            dry_run,
            out,
            no_report,
        } => {
            let (plan, out) = plan_and_out(&file, out)?;
            let shard = shard.as_deref().map(parse_shard).transpose()?;
            if dry_run {
                print_grid(&plan, shard);
                return Ok(ExitCode::SUCCESS);
            }
            let stop = Arc::new(AtomicBool::new(false));
            let handler_stop = stop.clone();
            ctrlc::set_handler(move || {
                eprintln!("\nstopping: runs in progress are abandoned, finished ones are kept...");
                handler_stop.store(true, Ordering::Relaxed);
            })
            .context("installing the Ctrl-C handler")?;
            let opts = SweepOptions {
                out: out.clone(),
                jobs: jobs.map_or_else(
                    || std::thread::available_parallelism().map_or(1, |n| n.get()),
                    |j| j as usize,
                ),
                shard,
                force,
                progress: std::io::stderr().is_terminal(),
                provenance: provenance(),
            };
            let summary = sweep(&plan, &opts, &stop)?;
            eprintln!(
                "{}: {} runs planned, {} already done, {} completed, {} failed -> {}",
                plan.name,
                summary.planned,
                summary.skipped,
                summary.completed,
                summary.failed.len(),
                out.display()
            );
            if summary.interrupted > 0 {
                eprintln!(
                    "interrupted with {} runs left; rerun the same command to resume",
                    summary.interrupted
                );
                return Ok(ExitCode::from(130));
            }
            if !no_report && summary.completed + summary.skipped > 0 {
                write_report(&out)?;
            }
            if !summary.failed.is_empty() {
                for (id, reason) in &summary.failed {
                    eprintln!("failed: {id}: {reason}");
                }
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Slurm {
            file,
            shards,
            cpus_per_task,
            time,
            partition,
            account,
            mem,
            out,
            submit,
            resubmit,
        } => {
            let (plan, out) = plan_and_out(&file, out)?;
            let out = std::path::absolute(&out).context("resolving the results folder")?;
            let bad = |e: anyhow::Error| runner::SweepError::BadArgument(format!("{e:#}"));
            if let Some(tasks) = resubmit {
                let tasks = masklab::slurm::args::tasks(&tasks).map_err(bad)?;
                let (jobs, old_report) = masklab::slurm::resubmit(&out, &tasks)?;
                println!("{old_report}");
                println!(
                    "submitted array task(s) {tasks} as job {} and report job {} (after arrays {} end)",
                    jobs.arrays.last().map_or("", String::as_str),
                    jobs.report,
                    jobs.arrays.join(", ")
                );
                return Ok(ExitCode::SUCCESS);
            }
            let (shards, fewer) =
                masklab::slurm::args::shards(shards.unwrap_or(1), plan.runs.len());
            if let Some(said) = fewer {
                eprintln!("note: {said}");
            }
            let job = masklab::slurm::Job {
                name: plan.name.clone(),
                experiment: std::path::absolute(&file).context("resolving the experiment file")?,
                out,
                binary: std::env::current_exe().context("finding the masklab binary")?,
                workdir: std::env::current_dir().context("reading the current folder")?,
                shards,
                cpus_per_task,
                time,
                partition,
                account,
                mem,
            }
            .validated()
            .map_err(bad)?;
            let (array, report) = job.write().context("writing the Slurm scripts")?;
            if !submit {
                println!(
                    "wrote {} and {}; submit with:",
                    array.display(),
                    report.display()
                );
                println!("  id=$(sbatch --parsable {})", array.display());
                println!("  sbatch --dependency=afterany:$id {}", report.display());
                println!(
                    "or let masklab submit both (and keep their ids for --resubmit): masklab slurm {} --shards {shards} --submit",
                    file.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            let (array_id, report_id) = job.submit(&array, &report)?;
            println!("submitted job array {array_id} ({shards} tasks) and report job {report_id} (after the array ends, however its tasks end)");
            println!(
                "follow with: squeue -j {array_id},{report_id}   or   masklab status {}",
                job.out.display()
            );
            println!(
                "a task that did not finish: masklab slurm {} --resubmit K (reruns only what is missing, and replaces the report job)",
                file.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { dir } => {
            let s = runner::status::status(&dir)?;
            let line = |c: &runner::status::Counts| {
                format!(
                    "{} done, {} failed, {} missing",
                    c.done, c.failed, c.missing
                )
            };
            println!(
                "{}: {} runs in the grid: {}",
                s.experiment,
                s.runs,
                line(&s.all)
            );
            for (k, n, c) in &s.shards {
                println!("  shard {k}/{n}: {}", line(c));
            }
            for (id, reason) in &s.failures {
                println!("failed: {id}: {reason}");
            }
            for log in &s.damaged_logs {
                println!("damaged log: {log} (its runs count as not done; the next sweep sets it aside and reruns them)");
            }
            for m in &s.passed_over {
                println!("passed over: {m}");
            }
            println!(
                "report: {}",
                match s.report {
                    runner::status::ReportState::NotWritten => "not written (masklab report DIR)",
                    runner::status::ReportState::Stale =>
                        "stale: records are newer (masklab report DIR)",
                    runner::status::ReportState::Current => "current",
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Featurize {
            file,
            out,
            smiles_column,
            radius,
            bits,
            counts,
            masklab_invariants,
            descriptors,
        } => {
            let out = out.unwrap_or_else(|| {
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let stem = name.trim_end_matches(".gz").trim_end_matches(".csv");
                file.with_file_name(format!("{stem}.features.csv"))
            });
            let params = datagen::molecule::ecfp::EcfpParams {
                radius,
                bits: bits as usize,
                counts,
                invariants: if masklab_invariants {
                    datagen::molecule::ecfp::Invariants::Masklab
                } else {
                    datagen::molecule::ecfp::Invariants::Rdkit
                },
            };
            let (molecules, skipped) =
                masklab::featurize::featurize(&file, &smiles_column, &params, descriptors, &out)
                    .map_err(|e| match e.downcast::<datagen::DataError>() {
                        Ok(data) => anyhow::Error::from(runner::SweepError::Data(data)),
                        Err(other) => other,
                    })?;
            eprintln!(
                "{}: {molecules} molecules, {skipped} lines skipped -> {}",
                file.display(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { dir } => {
            write_report(&dir)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// This program, as records and reports name it.
/// The validated experiment, and its results folder: `out`, or `results/<file stem>`.
fn plan_and_out(
    file: &std::path::Path,
    out: Option<PathBuf>,
) -> anyhow::Result<(runner::plan::Plan, PathBuf)> {
    let plan = runner::plan::load_plan(file).map_err(runner::SweepError::from)?;
    let out = out.unwrap_or_else(|| PathBuf::from("results").join(&plan.name));
    Ok((plan, out))
}

fn provenance() -> Provenance {
    Provenance {
        masklab_version: env!("CARGO_PKG_VERSION").into(),
        git_revision: git(&["rev-parse", "HEAD"]),
        git_dirty: git_dirty(),
        blas: masklab::blas::config(),
    }
}

fn write_report(dir: &std::path::Path) -> anyhow::Result<()> {
    let written = report::report(dir, &provenance())
        .with_context(|| format!("reporting {}", dir.display()))?;
    eprintln!(
        "report: {} runs -> {} ({} figures)",
        written.runs,
        written.report.display(),
        written.figures.len()
    );
    Ok(())
}

/// The grid, one line a run. Write errors (a closed pipe, say) just end the listing.
fn print_grid(plan: &runner::plan::Plan, shard: Option<(usize, usize)>) {
    use std::io::Write;
    let mine = runner::sweep::shard_runs(plan, shard);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}: {} runs in the grid, {} in this shard",
        plan.name,
        plan.runs.len(),
        mine.len()
    );
    for r in mine {
        let s = &r.spec;
        let line = writeln!(
            out,
            "{}  strategy={} seed={} mechanism={} rate={} hidden={:?} epochs={} batch={} lr={}",
            r.id,
            s.strategy.name(),
            s.seed,
            s.missing.mechanism.name(),
            s.missing.nominal_rate(),
            s.hidden,
            s.training.epochs,
            s.training.batch_size,
            s.training.learning_rate
        );
        if line.is_err() {
            return;
        }
    }
}

/// What a git command prints in the current folder, if it succeeds.
fn git(args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Whether tracked files outside `results/` differ from the revision: results folders are
/// what a sweep writes, not what determines it.
fn git_dirty() -> Option<bool> {
    git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":!results",
    ])
    .map(|s| !s.is_empty())
}
