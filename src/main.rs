//! The `spoofify` command: run a node, manage the catalog, measure the recommender.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use spoofify_service::config::{Durability, Overrides, Settings};

/// mimalloc instead of glibc's malloc: with many tasks on few threads glibc's arenas
/// contend (its lock and consolidation were ~20 % of a node's samples under load); a
/// per-thread-cache allocator cut the node's CPU per feed and per Redis interaction by
/// 10-17 % (jemalloc measured so; mimalloc matched jemalloc and builds in a tenth of the
/// time — README, "Hot paths against their floors").
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "spoofify",
    version,
    about = "A self-hostable music streaming service that learns each listener's taste.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// Plain `spoofify` runs a node: the same flags as `spoofify serve`.
    #[command(flatten)]
    node: NodeFlags,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Flags of the commands that run or touch a node's data (`serve`, `catalog ...`).
/// The tools (`eval`, `bench`, `chaos`) have their own.
#[derive(clap::Args, Debug, Clone, Default)]
struct NodeFlags {
    /// A TOML settings file layered over config/default.toml.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// HTTP listen address [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    http: Option<String>,
    /// Data directory: media, the embedded store, the catalog [default: ./data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Redis URL (redis://host:port); absent = the embedded store in the data dir.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// A Redis Cluster instead: comma-separated seed URLs (redis://h1:7000,redis://h2:7000).
    #[arg(long, value_name = "URLS")]
    redis_cluster: Option<String>,
    /// When writes are acknowledged: local (the Redis master has it) or replicated
    /// (a replica confirmed it with WAIT) [default: local].
    #[arg(long, value_name = "MODE")]
    durability: Option<Durability>,
    /// This node's id in the cluster [default: derived from --http].
    #[arg(long, value_name = "ID")]
    node_id: Option<String>,
    /// ractor_cluster listen address for node-to-node traffic.
    #[arg(long, value_name = "ADDR")]
    cluster_addr: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one node (the default when no command is given).
    Serve(NodeFlags),
    /// Manage the catalog: generate the demo catalog or import a music folder.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Benchmarks: print figures side by side.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Measure recommendation quality with simulated listeners.
    Eval(spoofify_tools::sim::eval::EvalArgs),
    /// Run a chaos experiment: Redis + N nodes, simulated listeners, seeded faults,
    /// checked verdict, results directory with report.html.
    Chaos(spoofify_tools::chaos::ChaosArgs),
    /// Load a node (or several) with simulated listeners: closed or open loop, HDR
    /// latency histograms, results as JSON/CSV and an SVG plot.
    Loadgen(spoofify_tools::loadgen::LoadgenArgs),
    /// Cluster administration: certificates for TLS between nodes.
    #[command(subcommand)]
    Cluster(ClusterCommand),
}

#[derive(Subcommand, Debug)]
enum ClusterCommand {
    /// Make a cluster CA, a certificate per node and a random cookie (mutual TLS
    /// between nodes; required when cluster_addr is not loopback).
    Certs(spoofify_tools::certs::CertsArgs),
}

#[derive(Subcommand, Debug)]
enum CatalogCommand {
    /// Generate the seeded demo catalog into the data directory (replaces the catalog).
    Demo {
        #[command(flatten)]
        node: NodeFlags,
        /// Number of songs.
        #[arg(long, default_value_t = 400)]
        songs: usize,
        /// Random seed: the same seed makes the same catalog.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Import a music folder (MP3, FLAC, Ogg Vorbis, WAV, AAC/M4A), recursively and incrementally.
    Import {
        #[command(flatten)]
        node: NodeFlags,
        /// The folder to scan.
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// The model engines side by side: fit and score time, AUC, model size.
    Model(spoofify_tools::bench::model::BenchArgs),
    /// Durable appends/s and p99 on every state tier side by side: embedded (group
    /// commit or not), one Redis, a Redis Cluster, durability local vs replicated.
    Store(spoofify_tools::bench::store::StoreBenchArgs),
    /// A bare axum server answering a constant JSON body: the floor for scripts/bench.
    Floor(spoofify_tools::bench::floor::FloorArgs),
    /// What the node's metrics calls cost per feed: nanoseconds, recorder off and on.
    Metrics(spoofify_tools::bench::metrics::MetricsBenchArgs),
}

impl NodeFlags {
    fn settings(&self) -> anyhow::Result<Settings> {
        let overrides = Overrides {
            node_id: self.node_id.clone(),
            http: self.http.clone(),
            data_dir: self.data_dir.clone(),
            redis: self.redis.clone(),
            redis_cluster: self.redis_cluster.clone(),
            durability: self.durability,
            cluster_addr: self.cluster_addr.clone(),
        };
        Ok(Settings::load(self.config.as_deref(), &overrides)?)
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => serve(&cli.node),
        Some(Command::Serve(flags)) => serve(&flags),
        Some(Command::Catalog(command)) => catalog(command),
        Some(Command::Bench(BenchCommand::Model(args))) => spoofify_tools::bench::model::run(&args),
        Some(Command::Bench(BenchCommand::Store(args))) => spoofify_tools::bench::store::run(&args),
        Some(Command::Bench(BenchCommand::Floor(args))) => spoofify_tools::bench::floor::run(&args),
        Some(Command::Bench(BenchCommand::Metrics(args))) => {
            spoofify_tools::bench::metrics::run(&args)
        }
        Some(Command::Loadgen(args)) => loadgen(args),
        Some(Command::Eval(args)) => spoofify_tools::sim::eval::run(&args),
        Some(Command::Chaos(args)) => chaos(&args),
        Some(Command::Cluster(ClusterCommand::Certs(args))) => {
            Ok(spoofify_tools::certs::run(&args)?)
        }
    }
}

/// Runs the experiment, prints the verdict and figures; exit status 1 when invalid,
/// 2 when unknown.
fn chaos(args: &spoofify_tools::chaos::ChaosArgs) -> anyhow::Result<()> {
    let log = spoofify_service::config::LogSettings {
        format: spoofify_service::config::LogFormat::Pretty,
        filter: "warn,spoofify_tools::chaos=info".into(),
    };
    spoofify_service::telemetry::init(&log);
    let (results, out) = spoofify_tools::chaos::run_blocking(args)?;
    println!("{}", spoofify_tools::chaos::summary(&results));
    println!("results: {}", out.display());
    println!("report:  {}", out.join("report.html").display());
    match results.valid {
        spoofify_tools::chaos::results::Verdict::Valid => Ok(()),
        spoofify_tools::chaos::results::Verdict::Invalid => std::process::exit(1),
        spoofify_tools::chaos::results::Verdict::Unknown => std::process::exit(2),
    }
}

/// Runs the load, prints the summary (a table, or one JSON line with `--json`).
fn loadgen(args: spoofify_tools::loadgen::LoadgenArgs) -> anyhow::Result<()> {
    let json = args.json;
    let summary = spoofify_tools::loadgen::run_blocking(args)?;
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        print!("{}", summary.table());
    }
    Ok(())
}

fn serve(flags: &NodeFlags) -> anyhow::Result<()> {
    let settings = flags.settings()?;
    spoofify_service::telemetry::init(&settings.log);
    spoofify_service::node::run(settings)
}

fn catalog(cmd: CatalogCommand) -> anyhow::Result<()> {
    let (CatalogCommand::Demo { node, .. } | CatalogCommand::Import { node, .. }) = &cmd;
    let settings = node.settings()?;
    spoofify_service::telemetry::init(&settings.log);
    match cmd {
        CatalogCommand::Demo { songs, seed, .. } => {
            let bar = progress_bar(songs as u64, "synthesising, encoding, analysing");
            let progress = |done: usize, _total: usize| bar.set_position(done as u64);
            let made = spoofify_service::admin::generate_demo(&settings, songs, seed, &progress)?;
            bar.finish_and_clear();
            println!(
                "generated {} songs in {} genres in {:.1} s into {}",
                made.songs,
                made.genres,
                made.elapsed.as_secs_f32(),
                settings.data_dir.display()
            );
        }
        CatalogCommand::Import { dir, .. } => {
            let bar = progress_bar(0, "analysing");
            let report =
                spoofify_service::admin::import_dir(&settings, &dir, &BarProgress(bar.clone()))?;
            bar.finish_and_clear();
            println!(
                "imported {} songs from {} in {:.1} s: {} analysed, {} unchanged, {} skipped; catalog now has {} songs",
                report.imported,
                dir.display(),
                report.elapsed.as_secs_f32(),
                report.analysed,
                report.unchanged,
                report.skipped.len(),
                report.catalog_songs
            );
            for s in &report.skipped {
                println!("  skipped {}: {}", s.path.display(), s.reason);
            }
        }
    }
    Ok(())
}

fn progress_bar(len: u64, message: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed}, eta {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

/// Shows import progress on a terminal bar.
struct BarProgress(indicatif::ProgressBar);

impl spoofify_service::catalog::import::ImportProgress for BarProgress {
    fn start(&self, files: usize) {
        self.0.set_length(files as u64);
    }
    fn file_done(&self, path: &std::path::Path) {
        self.0.inc(1);
        if let Some(name) = path.file_name() {
            self.0.set_message(name.to_string_lossy().into_owned());
        }
    }
}
