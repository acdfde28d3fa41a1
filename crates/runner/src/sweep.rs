//! Sweeps: the runs of a plan, in parallel, skipping finished ones, with provenance.

use crate::data::DataCache;
use crate::error::{io_error, SweepError};
use crate::plan::{Plan, PlannedRun};
use crate::run::{execute, RunError};
use crate::store::{is_complete, write_json, write_run, MetricsRecord};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Facts about the program and machine that the runner cannot know itself.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Provenance {
    pub masklab_version: String,
    pub git_revision: Option<String>,
    pub blas: String,
}

#[derive(Clone, Debug)]
pub struct SweepOptions {
    pub out: PathBuf,
    /// Runs at once; BLAS is single-threaded inside each.
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

#[derive(Serialize)]
struct RunEntry {
    id: String,
    status: &'static str,
    wall_seconds: f64,
}

#[derive(Serialize)]
struct Manifest<'a> {
    experiment: &'a str,
    #[serde(flatten)]
    provenance: &'a Provenance,
    host_cores: usize,
    jobs: usize,
    shard: Option<String>,
    started_unix: u64,
    ended_unix: u64,
    runs: Vec<RunEntry>,
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
    std::fs::create_dir_all(opts.out.join("runs")).map_err(io_error(&opts.out))?;
    let source = std::fs::read_to_string(&plan.source_path).map_err(io_error(&plan.source_path))?;
    write_text(&opts.out.join("experiment.toml"), &source)?;
    let grid: Vec<_> = plan
        .runs
        .iter()
        .map(|r| serde_json::json!({ "id": r.id, "spec": r.spec }))
        .collect();
    write_json(
        &opts.out.join("grid.json"),
        &serde_json::json!({ "experiment": plan.name, "description": plan.description, "runs": grid }),
    )?;

    let mine = shard_runs(plan, opts.shard);
    let todo: Vec<&PlannedRun> = mine
        .iter()
        .copied()
        .filter(|r| opts.force || !is_complete(&opts.out, &r.id))
        .collect();
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
    let entries = Mutex::new(Vec::new());
    let failures = Mutex::new(Vec::new());
    let write_error = Mutex::new(None);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs.max(1))
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
            let outcome = execute(run, &cache, &base_dir, stop);
            let wall = clock.elapsed().as_secs_f64();
            let (history, boundary, record) = match outcome {
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
                        out.history,
                        out.boundary,
                        MetricsRecord::Ok {
                            id: run.id.clone(),
                            metrics: out.metrics,
                        },
                    )
                }
                Err(RunError::Failed(reason)) => {
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
                    (
                        Vec::new(),
                        None,
                        MetricsRecord::Failed {
                            id: run.id.clone(),
                            reason,
                        },
                    )
                }
            };
            if let Err(e) = write_run(&opts.out, run, &history, boundary.as_ref(), &record, wall) {
                stop.store(true, Ordering::Relaxed);
                write_error.lock().expect("not poisoned").get_or_insert(e);
                return;
            }
            let status = if matches!(record, MetricsRecord::Ok { .. }) {
                "ok"
            } else {
                "failed"
            };
            entries.lock().expect("not poisoned").push(RunEntry {
                id: run.id.clone(),
                status,
                wall_seconds: wall,
            });
            bar.inc(1);
        })
    });
    bar.finish_and_clear();
    if let Some(e) = write_error.into_inner().expect("not poisoned") {
        return Err(e);
    }
    let mut entries = entries.into_inner().expect("not poisoned");
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    summary.failed = failures.into_inner().expect("not poisoned");
    summary.failed.sort();
    summary.completed = entries.len() - summary.failed.len();
    summary.interrupted = todo.len() - entries.len();

    let manifest_name = match opts.shard {
        Some((k, n)) => format!("manifest-shard-{k}-of-{n}.json"),
        None => "manifest.json".into(),
    };
    let manifest = Manifest {
        experiment: &plan.name,
        provenance: &opts.provenance,
        host_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        jobs: opts.jobs,
        shard: opts.shard.map(|(k, n)| format!("{k}/{n}")),
        started_unix: started,
        ended_unix: unix_now(),
        runs: entries,
    };
    write_json(&opts.out.join(manifest_name), &manifest)?;
    Ok(summary)
}

fn write_text(path: &std::path::Path, text: &str) -> Result<(), SweepError> {
    datagen::csvio::write_atomic(path, |w| Ok(w.write_all(text.as_bytes())?)).map_err(|e| {
        SweepError::Io {
            path: path.into(),
            source: std::io::Error::other(e.to_string()),
        }
    })
}

/// Prints a line above the progress bar, or plainly when there is no bar (output not a
/// terminal: indicatif's own `println` would then print nothing).
fn say(bar: &ProgressBar, line: String) {
    bar.suspend(|| eprintln!("{line}"));
}
