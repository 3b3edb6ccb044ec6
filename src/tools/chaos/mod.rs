//! `spoofify chaos`: one fault-injection experiment against a real cluster, end to
//! end, in the manner of Jepsen. It starts Redis and N nodes as real processes (on
//! loopback, or each node in its own network namespace), drives simulated listeners
//! against them, injects faults on a seeded schedule, heals, waits a quiet period,
//! then checks the history and the store's final state and writes a results
//! directory: `results.json`, `history.jsonl`, `report.html`, node and Redis logs.
//!
//! Modules: [`args`] (options and their checks), [`experiment`] (the phases of a
//! run), [`history`] (the operation log), [`workload`] (listeners + monitor),
//! [`faults`] (kinds, seeded schedule), [`inject`] (the fault clock), [`topology`]
//! (processes, injection), [`netns`] (namespaces, nftables), [`finals`] (the final
//! state), [`check`] (safety checkers), [`availability`] (unserved windows,
//! per-fault figures, timeline), [`results`], [`report`] (HTML with plots drawn by
//! `crate::svg`), [`summary`] (the terminal's).
//!
//! Bounded: the run stops after its phases (or `--max-requests`), and on SIGINT or
//! SIGTERM it heals, stops every process, removes its namespaces and still writes
//! what it has (verdict `unknown`).

pub mod args;
pub mod availability;
pub mod check;
mod experiment;
pub mod faults;
mod finals;
pub mod history;
mod inject;
pub mod netns;
pub mod report;
pub mod results;
mod summary;
pub mod topology;
pub mod workload;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use args::{out_dir, ChaosArgs};
use history::Event;
use results::Results;
pub use summary::summary;

#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error("invalid options: {0}")]
    Options(String),
    #[error(transparent)]
    Topology(#[from] topology::TopologyError),
    #[error("store: {0}")]
    Store(#[from] spoofify_service::store::StoreError),
    #[error("settings: {0}")]
    Config(#[from] spoofify_service::config::ConfigError),
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    History(#[from] history::HistoryError),
    #[error("writing {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// [`run`] on a runtime of its own, for the command line (the binary then compiles
/// none of the experiment's futures itself).
pub fn run_blocking(args: &ChaosArgs) -> anyhow::Result<(Results, PathBuf)> {
    Ok(spoofify_service::node::runtime()?.block_on(run(args))?)
}

/// Runs one experiment; see the module docs. `Ok` carries the results whatever the
/// verdict; `Err` means the experiment itself could not run.
pub async fn run(args: &ChaosArgs) -> Result<(Results, PathBuf), ChaosError> {
    args.validate()?;
    let started = experiment::Started {
        at: Instant::now(),
        http_date: httpdate::fmt_http_date(std::time::SystemTime::now()),
    };
    let out = out_dir(args);
    std::fs::create_dir_all(&out).map_err(io_err(&out))?;
    let out = out.canonicalize().map_err(io_err(&out))?;
    tracing::info!(out = %out.display(), "chaos run starting");

    let mut cluster = experiment::start_cluster(args, &out).await?;
    let load = experiment::start_workload(args, &cluster)?;
    let recorder = load.recorder.clone();
    let phase = experiment::faults_then_quiet(args, &mut cluster.topo, &recorder).await;
    let collected = experiment::stop_and_collect(args, load, &mut cluster, phase.interrupted).await;
    let results = experiment::judge(args, &started, &collected, phase, &cluster.topo);
    write_results(&out, &results, &collected.history)?;
    drop(cluster);
    Ok((results, out))
}

/// Writes `results.json`, `history.jsonl` and `report.html` into `out`.
pub fn write_results(out: &Path, results: &Results, history: &[Event]) -> Result<(), ChaosError> {
    let path = out.join("results.json");
    let json =
        serde_json::to_vec_pretty(results).map_err(|e| io_err(&path)(std::io::Error::other(e)))?;
    std::fs::write(&path, json).map_err(io_err(&path))?;
    history::write_jsonl(&out.join("history.jsonl"), history)?;
    let path = out.join("report.html");
    std::fs::write(&path, report::render(results)).map_err(io_err(&path))
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ChaosError + '_ {
    move |source| ChaosError::Io {
        path: path.display().to_string(),
        source,
    }
}
