//! Sweeps: the runs of a plan, in parallel, skipping finished ones, with provenance.

use crate::data::DataCache;
use crate::error::{io_error, SweepError};
use crate::plan::{Plan, PlannedRun};
use crate::run::{execute, RunError};
use crate::store::{write_run, Done};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use record::io::{remove_temps, write_atomic, write_json, write_json_compact};
use record::log::{writer_name, LogWriter};
use record::outcome::{files, RunRecord};
use record::sweep::{GridEntry, GridRecord, Manifest, ManifestRun, RunStatus};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub use record::sweep::Provenance;

#[derive(Clone, Debug)]
pub struct SweepOptions {
    pub out: PathBuf,
    /// Runs at once; BLAS is single-threaded inside each, and the cores they leave idle
    /// are shared by each run's steps.
    pub jobs: usize,
    /// `(k, n)`: take runs `k, k+n, k+2n, ...` of the grid.
    pub shard: Option<(usize, usize)>,
    /// Rerun finished runs.
    pub force: bool,
    pub progress: bool,
    pub provenance: Provenance,
}

/// Parses `K/N` with `0 <= K < N`.
pub fn parse_shard(s: &str) -> Result<(usize, usize), SweepError> {
    let bad = || SweepError::BadShard(s.to_string());
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || k >= n {
        return Err(bad());
    }
    Ok((k, n))
}

#[derive(Debug, Default)]
pub struct SweepSummary {
    pub planned: usize,
    pub skipped: usize,
    pub completed: usize,
    pub failed: Vec<(String, String)>,
    pub interrupted: usize,
}

/// The runs of this shard, in grid order.
pub fn shard_runs(plan: &Plan, shard: Option<(usize, usize)>) -> Vec<&PlannedRun> {
    plan.runs
        .iter()
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|(k, n)| i % n == k))
        .map(|(_, r)| r)
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs the plan's runs of this shard that have no complete record (all with `force`).
/// Failures are recorded and reported, never fatal to the other runs; `stop` ends the sweep
/// early (runs in progress are abandoned unwritten, finished ones are kept).
pub fn sweep(
    plan: &Plan,
    opts: &SweepOptions,
    stop: &AtomicBool,
) -> Result<SweepSummary, SweepError> {
    let started = unix_now();
    if opts.jobs == 0 {
        return Err(SweepError::NoJobs);
    }
    std::fs::create_dir_all(&opts.out).map_err(io_error(&opts.out))?;
    let _lock = crate::lock::lock(&opts.out, opts.shard)?;
    // A killed sweep's half-written files: only those provably of a dead process of this
    // host and PID namespace (another node's or container's may be a live shard's).
    for dir in [
        opts.out.clone(),
        opts.out.join(files::RUNS),
        opts.out.join(files::BOUNDARIES),
    ] {
        remove_temps(&dir);
    }
    let source = std::fs::read(&plan.source_path).map_err(io_error(&plan.source_path))?;
    write_atomic(&opts.out.join("experiment.toml"), |w| w.write_all(&source))?;
    let grid = GridRecord {
        format: record::FORMAT,
        experiment: plan.name.clone(),
        description: plan.description.clone(),
        runs: plan
            .runs
            .iter()
            .map(|r| GridEntry {
                id: r.id.clone(),
                spec: r.spec.clone(),
            })
            .collect(),
    };
    // Compact: a line per grid, a few hundred bytes per run.
    write_json_compact(&opts.out.join("grid.json"), &grid)?;

    let mine = shard_runs(plan, opts.shard);
    let mut done = Done::read(&opts.out, &plan.runs)?;
    set_aside_damaged(&done)?;
    if opts.force {
        done = Done::default();
    }
    let todo: Vec<&PlannedRun> = mine
        .iter()
        .copied()
        .filter(|r| !done.is_complete(&opts.out, r))
        .collect();
    drop(done);
    let log = Mutex::new(LogWriter::open(&opts.out, &writer_name(opts.shard))?);
    let mut summary = SweepSummary {
        planned: mine.len(),
        skipped: mine.len() - todo.len(),
        ..Default::default()
    };

    let bar = if opts.progress {
        ProgressBar::new(todo.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} runs, {elapsed} elapsed, ETA {eta} {msg}",
        )
        .expect("valid template"),
    );
    let base_dir = plan
        .source_path
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let cache = DataCache::default();
    // Cores the runs at once leave idle are shared by each run's steps (the same bits).
    let threads = nn::Threads::new(host_cores() / opts.jobs.max(1));
    let entries = Mutex::new(Vec::new());
    let failures = Mutex::new(Vec::new());
    let write_error = Mutex::new(None);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .expect("thread pool");
    pool.install(|| {
        // One run per task: runs differ in cost by several times, and rayon's default halving
        // of the list leaves one thread idle while the other finishes the dear half.
        todo.par_iter().with_max_len(1).for_each(|run| {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let clock = Instant::now();
            let outcome = execute(run, &cache, &base_dir, stop, threads);
            let wall = clock.elapsed().as_secs_f64();
            let (boundary, record) = match outcome {
                Err(RunError::Interrupted) => return,
                Ok(out) => {
                    for warning in &out.metrics.warnings {
                        say(
                            &bar,
                            format!(
                                "run {} ({}, seed {}): warning: {warning}",
                                run.id,
                                run.spec.strategy.name(),
                                run.spec.seed
                            ),
                        );
                    }
                    (
                        out.boundary,
                        RunRecord::ok(run.id.clone(), run.streams, out.metrics, out.history),
                    )
                }
                Err(e) => {
                    let reason = e.to_string();
                    say(
                        &bar,
                        format!(
                            "run {} failed ({}, seed {}): {reason}",
                            run.id,
                            run.spec.strategy.name(),
                            run.spec.seed
                        ),
                    );
                    failures
                        .lock()
                        .expect("not poisoned")
                        .push((run.id.clone(), reason.clone()));
                    (None, RunRecord::failed(run.id.clone(), run.streams, reason))
                }
            };
            let ok = record.is_ok();
            if let Err(e) = write_run(&opts.out, &log, &record, boundary.as_ref()) {
                stop.store(true, Ordering::Relaxed);
                write_error.lock().expect("not poisoned").get_or_insert(e);
                return;
            }
            entries.lock().expect("not poisoned").push(ManifestRun {
                id: run.id.clone(),
                status: if ok { RunStatus::Ok } else { RunStatus::Failed },
                wall_seconds: wall,
            });
            bar.inc(1);
        })
    });
    bar.finish_and_clear();
    if let Some(e) = write_error.into_inner().expect("not poisoned") {
        return Err(e);
    }
    // Every line is written: compress this sweep's log (a tenth of the bytes).
    log.into_inner().expect("not poisoned").seal()?;
    let mut entries = entries.into_inner().expect("not poisoned");
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    summary.failed = failures.into_inner().expect("not poisoned");
    summary.failed.sort();
    summary.completed = entries.len() - summary.failed.len();
    summary.interrupted = todo.len() - entries.len();

    let manifest = Manifest {
        format: record::FORMAT,
        experiment: plan.name.clone(),
        provenance: opts.provenance.clone(),
        host_cores: host_cores(),
        jobs: opts.jobs,
        shard: opts.shard.map(|(k, n)| format!("{k}/{n}")),
        started_unix: started,
        ended_unix: unix_now(),
        runs: entries,
    };
    write_json(&opts.out.join(Manifest::file_name(opts.shard)), &manifest)?;
    Ok(summary)
}

/// Moves the damaged sealed logs aside (their runs are run again), saying so.
fn set_aside_damaged(done: &Done) -> Result<(), SweepError> {
    for (log, why) in &done.damaged_logs {
        match record::log::set_aside(log) {
            Ok(to) => eprintln!(
                "warning: {}: damaged log ({why}); moved to {}, its runs are run again",
                log.path.display(),
                to.display()
            ),
            // Another shard set it aside first.
            Err(record::RecordError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Prints a line above the progress bar, or plainly when there is no bar (output not a
/// terminal: indicatif's own `println` would then print nothing).
fn say(bar: &ProgressBar, line: String) {
    bar.suspend(|| eprintln!("{line}"));
}

/// The cores this process may run on (its CPU affinity: a Slurm task's own).
fn host_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
