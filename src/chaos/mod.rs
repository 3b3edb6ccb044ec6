//! `spoofify chaos`: one fault-injection experiment against a real cluster, end to
//! end, in the manner of Jepsen. It starts Redis and N nodes as real processes (on
//! loopback, or each node in its own network namespace), drives simulated listeners
//! against them, injects faults on a seeded schedule, heals, waits a quiet period,
//! then checks the history and the store's final state and writes a results
//! directory: `results.json`, `history.jsonl`, `report.html`, node and Redis logs.
//!
//! Modules: [`history`] (the operation log), [`workload`] (listeners + monitor),
//! [`faults`] (kinds, seeded schedule), [`topology`] (processes, injection),
//! [`netns`] (namespaces, nftables), [`check`] (safety checkers),
//! [`availability`] (unserved windows, per-fault figures, timeline), [`results`],
//! [`report`] (HTML + SVG).
//!
//! Bounded: the run stops after its phases (or `--max-requests`), and on SIGINT or
//! SIGTERM it heals, stops every process, removes its namespaces and still writes
//! what it has (verdict `unknown`).

pub mod availability;
pub mod check;
pub mod faults;
pub mod history;
pub mod netns;
pub mod report;
pub mod results;
pub mod topology;
pub mod workload;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::catalog::Catalog;
use crate::config::{Overrides, Settings};
use crate::model::{EngineKind, ListenerModel};
use crate::store::redis_process::Fsync;
use crate::store::{ListenerId, SharedStore};
use check::{FinalListener, ModelSeen};
use faults::{FaultKind, ScheduleSpec};
use history::{Event, Op, Phase};
use results::{Check, Results, RunSetup, Verdict};
use topology::Topology;
use workload::{Recorder, Shared, WorkloadSpec};

/// The experiment's options (`spoofify chaos --help`).
#[derive(clap::Args, Debug, Clone)]
pub struct ChaosArgs {
    /// Nodes in the cluster.
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Simulated listeners.
    #[arg(long, default_value_t = 50)]
    pub listeners: usize,
    /// Seconds of workload during which faults are injected, warm-up included (every
    /// fault is healed by its end).
    #[arg(long, default_value_t = 60.0)]
    pub fault_secs: f64,
    /// Seconds of workload after healing, before the checks.
    #[arg(long, default_value_t = 10.0)]
    pub quiet_secs: f64,
    /// Seconds at the start of the fault phase before the first fault; listeners arrive
    /// (sign up) over the first 80 % of it.
    #[arg(long, default_value_t = 8.0)]
    pub warmup_secs: f64,
    /// Fault kinds, comma-separated: kill, pause, partition-peers, partition-redis,
    /// isolate, lossy, slow, redis-restart [default: kill,pause,redis-restart; with
    /// --netns also partition-peers,partition-redis,isolate,lossy].
    #[arg(long, value_delimiter = ',')]
    pub faults: Option<Vec<FaultKind>>,
    /// Mean length of one fault, seconds (pauses last at least twice the heartbeat TTL).
    #[arg(long, default_value_t = 4.0)]
    pub fault_duration_secs: f64,
    /// Mean time from one fault's healing to the next fault, seconds.
    #[arg(long, default_value_t = 5.0)]
    pub fault_gap_secs: f64,
    /// How long Redis stays down in a redis-restart fault, seconds (it is SIGKILLed,
    /// then restarted on the same AOF).
    #[arg(long, default_value_t = 1.0)]
    pub redis_down_secs: f64,
    /// Seed of the fault schedule and the listeners: the same seed replays the same plan.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Redis's AOF fsync policy: always, everysec or no.
    #[arg(long, default_value = "always", value_parser = parse_fsync)]
    pub fsync: Fsync,
    /// Run each node in its own network namespace (root), so partitions and lossy
    /// links are real network faults.
    #[arg(long)]
    pub netns: bool,
    /// Results directory [default: chaos-results/<unix seconds>-seed<seed>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Songs in the synthetic catalog the nodes serve.
    #[arg(long, default_value_t = 2000)]
    pub songs: usize,
    /// Mean think time between a listen and the next feed request, ms.
    #[arg(long, default_value_t = 1000)]
    pub think_ms: u64,
    /// A request unanswered after this is an unknown outcome, ms.
    #[arg(long, default_value_t = 2000)]
    pub client_timeout_ms: u64,
    /// Stop the workload after this many requests in total.
    #[arg(long, default_value_t = 10_000_000)]
    pub max_requests: u64,
}

fn parse_fsync(s: &str) -> Result<Fsync, String> {
    match s {
        "always" => Ok(Fsync::Always),
        "everysec" => Ok(Fsync::EverySec),
        "no" => Ok(Fsync::No),
        _ => Err(format!("fsync must be always, everysec or no, not {s:?}")),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error("invalid options: {0}")]
    Options(String),
    #[error(transparent)]
    Topology(#[from] topology::TopologyError),
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("settings: {0}")]
    Config(#[from] crate::config::ConfigError),
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

/// The heartbeat TTL chaos nodes run with (see `topology`); pauses last longer.
const HEARTBEAT_TTL_S: f64 = 1.5;

impl ChaosArgs {
    fn kinds(&self) -> Vec<FaultKind> {
        self.faults.clone().unwrap_or_else(|| {
            let mut k = vec![FaultKind::Kill, FaultKind::Pause, FaultKind::RedisRestart];
            if self.netns {
                k.extend([
                    FaultKind::PartitionPeers,
                    FaultKind::PartitionRedis,
                    FaultKind::Isolate,
                    FaultKind::Lossy,
                ]);
            }
            k
        })
    }

    /// Checks what can be checked before anything starts.
    pub fn validate(&self) -> Result<(), ChaosError> {
        let bad = |s: String| Err(ChaosError::Options(s));
        if !(1..=20).contains(&self.nodes) {
            return bad(format!("--nodes must be 1..=20, not {}", self.nodes));
        }
        if !(1..=100_000).contains(&self.listeners) {
            return bad("--listeners must be 1..=100000".into());
        }
        for (name, v) in [
            ("--fault-secs", self.fault_secs),
            ("--quiet-secs", self.quiet_secs),
            ("--warmup-secs", self.warmup_secs),
            ("--fault-duration-secs", self.fault_duration_secs),
            ("--fault-gap-secs", self.fault_gap_secs),
            ("--redis-down-secs", self.redis_down_secs),
        ] {
            if !v.is_finite() || !(0.0..=86_400.0).contains(&v) {
                return bad(format!("{name} must be 0..=86400 seconds, not {v}"));
            }
        }
        if self.songs < 50 {
            return bad("--songs must be at least 50".into());
        }
        if self.client_timeout_ms < 100 {
            return bad("--client-timeout-ms must be at least 100".into());
        }
        for k in self.kinds() {
            if k.needs_netns() && !self.netns {
                return bad(format!(
                    "fault {k} needs --netns (each node in its own network namespace; root)"
                ));
            }
            if k == FaultKind::Slow && !netns::netem_available() {
                return bad(
                    "fault slow needs tc netem, which this kernel does not offer (try lossy)"
                        .into(),
                );
            }
            if matches!(k, FaultKind::PartitionPeers | FaultKind::Isolate) && self.nodes < 2 {
                return bad("partition-peers needs at least 2 nodes".into());
            }
        }
        Ok(())
    }

    fn command_line(&self) -> String {
        let kinds: Vec<&str> = self.kinds().iter().map(|k| k.as_str()).collect();
        format!(
            "spoofify chaos --nodes {} --listeners {} --fault-secs {} --quiet-secs {} --warmup-secs {} --faults {} --fault-duration-secs {} --fault-gap-secs {} --redis-down-secs {} --seed {} --fsync {} --songs {} --think-ms {} --client-timeout-ms {}{}",
            self.nodes,
            self.listeners,
            self.fault_secs,
            self.quiet_secs,
            self.warmup_secs,
            kinds.join(","),
            self.fault_duration_secs,
            self.fault_gap_secs,
            self.redis_down_secs,
            self.seed,
            self.fsync.as_str(),
            self.songs,
            self.think_ms,
            self.client_timeout_ms,
            if self.netns { " --netns" } else { "" }
        )
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ChaosError + '_ {
    move |source| ChaosError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Where the results go: `--out`, or `chaos-results/<unix seconds>-seed<seed>`
/// (sorts by start time).
pub fn out_dir(args: &ChaosArgs) -> PathBuf {
    args.out.clone().unwrap_or_else(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        PathBuf::from("chaos-results").join(format!("{secs}-seed{}", args.seed))
    })
}

/// Runs one experiment; see the module docs. `Ok` carries the results whatever the
/// verdict; `Err` means the experiment itself could not run.
pub async fn run(args: &ChaosArgs) -> Result<(Results, PathBuf), ChaosError> {
    args.validate()?;
    let began = Instant::now();
    let started_at = httpdate::fmt_http_date(std::time::SystemTime::now());
    let out = out_dir(args);
    std::fs::create_dir_all(&out).map_err(io_err(&out))?;
    let out = out.canonicalize().map_err(io_err(&out))?;
    let exe = std::env::current_exe().map_err(|e| ChaosError::Setup(format!("own binary: {e}")))?;
    tracing::info!(out = %out.display(), "chaos run starting");

    let mut topo = Topology::create(&out, args.nodes, args.fsync, args.netns, exe)?;
    let settings = Settings::load(
        None,
        &Overrides {
            redis: Some(topo.redis_url_local()),
            ..Default::default()
        },
    )?;
    let store = crate::store::open(&settings).await?;
    let catalog = Arc::new(crate::sim::synthetic_catalog(args.songs, args.seed));
    store.put_catalog(catalog.songs()).await?;
    for i in 0..args.nodes {
        topo.start_node(i)?;
    }
    let nodes: Vec<(String, String)> = topo
        .nodes
        .iter()
        .map(|n| (n.id.clone(), n.base()))
        .collect();
    wait_cluster_ready(&nodes, &store, Duration::from_secs(90)).await?;
    tracing::info!(nodes = args.nodes, "cluster ready; workload starting");

    let recorder = Arc::new(Recorder::new(Instant::now()));
    let stop = Arc::new(AtomicBool::new(false));
    // Tags usernames and client ids, so runs against one Redis never collide.
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let spec = WorkloadSpec {
        listeners: args.listeners,
        seed: args.seed,
        think: Duration::from_millis(args.think_ms),
        client_timeout: Duration::from_millis(args.client_timeout_ms),
        max_requests: args.max_requests,
        ramp: Duration::from_secs_f64(args.warmup_secs * 0.8),
        tag: tag.chars().take(8).collect(),
    };
    let shared = Arc::new(
        Shared::new(
            spec,
            nodes.clone(),
            catalog.clone(),
            recorder.clone(),
            stop.clone(),
        )
        .map_err(|e| ChaosError::Setup(format!("http client: {e}")))?,
    );
    let monitor = tokio::spawn(workload::monitor(
        shared.clone(),
        Duration::from_millis(250),
    ));
    let mut clients = Vec::with_capacity(args.listeners);
    for i in 0..args.listeners {
        clients.push(tokio::spawn(workload::listener(shared.clone(), i)));
    }

    let schedule = faults::plan(
        &ScheduleSpec {
            kinds: args.kinds(),
            nodes: args.nodes,
            phase_s: args.fault_secs,
            warmup_s: args.warmup_secs,
            gap_s: args.fault_gap_secs,
            duration_s: args.fault_duration_secs,
            min_pause_s: HEARTBEAT_TTL_S * 2.0,
            redis_down_s: args.redis_down_secs,
        },
        args.seed,
    );
    let mut notes = Vec::new();
    let mut interrupted = tokio::select! {
        r = inject_all(&mut topo, &schedule, &recorder, args) => { notes.extend(r); false }
        _ = crate::node::shutdown_signal() => true,
    };
    tokio::task::block_in_place(|| topo.heal_all());
    if interrupted {
        notes
            .push("interrupted (SIGINT/SIGTERM): the run stopped early; nothing is claimed".into());
    } else {
        tracing::info!(secs = args.quiet_secs, "faults healed; quiet period");
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs_f64(args.quiet_secs)) => {}
            _ = crate::node::shutdown_signal() => {
                interrupted = true;
                notes.push("interrupted during the quiet period; nothing is claimed".into());
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let join_deadline = Duration::from_millis(args.client_timeout_ms * 10 + 5000);
    for c in clients {
        let _ = tokio::time::timeout(join_deadline, c).await;
    }
    let _ = monitor.await;
    let end_ms = recorder.now_ms();

    tracing::info!("collecting the final state");
    let accounts: Vec<workload::SignedUp> = shared
        .accounts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .flatten()
        .cloned()
        .collect();
    // An interrupted run is wanted gone: skip asking every actor for its model.
    let finals = collect_finals(&store, &catalog, &nodes, &accounts, !interrupted).await;
    let history = recorder.snapshot();
    topo.stop_nodes(Duration::from_secs(10));

    let mut checks = check::check_all(&history, &finals);
    let avail = availability::availability(&history, end_ms);
    checks.push(Check {
        name: "served-again".into(),
        valid: if avail.never_served_again == 0 {
            Verdict::Valid
        } else {
            Verdict::Invalid
        },
        violations: avail.never_served_again,
        examined: avail.listeners_affected,
        rule: "every listener that went unserved got a normal feed again before the end".into(),
        examples: avail
            .per_listener
            .iter()
            .filter(|l| {
                l.windows
                    .last()
                    .is_some_and(|w| w.end_s * 1000.0 >= end_ms as f64)
            })
            .take(20)
            .map(|l| {
                format!(
                    "{}: no normal feed after {:.1} s",
                    l.listener,
                    l.windows.last().map_or(0.0, |w| w.start_s)
                )
            })
            .collect(),
    });
    let mut valid = Verdict::all(checks.iter().map(|c| c.valid));
    if interrupted && valid == Verdict::Valid {
        valid = Verdict::Unknown;
    }
    notes.push(match args.fsync {
        Fsync::Always => "Redis fsyncs its AOF before every reply (appendfsync always): an acknowledged write survives Redis being killed.".into(),
        Fsync::EverySec => "Redis fsyncs its AOF once a second (appendfsync everysec): killing Redis may lose up to a second of acknowledged writes, which `lost` would report.".into(),
        Fsync::No => "Redis leaves fsync to the OS (appendfsync no): killing only the Redis process loses nothing the OS holds, a machine crash may.".into(),
    });
    let restarts: Vec<String> = topo
        .starts()
        .iter()
        .map(|(n, s)| format!("{n}: started {s}x"))
        .collect();
    notes.push(format!("node starts: {}", restarts.join(", ")));
    let fault_outcomes = availability::faults(&history, &avail, end_ms);
    let results = Results {
        valid,
        setup: RunSetup {
            seed: args.seed,
            nodes: args.nodes,
            listeners: args.listeners,
            fsync: args.fsync.as_str().into(),
            netns: args.netns,
            fault_kinds: args.kinds().iter().map(|k| k.as_str().to_owned()).collect(),
            fault_secs: args.fault_secs,
            quiet_secs: args.quiet_secs,
            started_at,
            command: args.command_line(),
        },
        duration_s: began.elapsed().as_secs_f64(),
        checks,
        availability: avail,
        faults: fault_outcomes,
        ops: availability::op_counts(&history),
        timeline: availability::timeline(&history, end_ms),
        notes,
    };
    write_results(&out, &results, &history)?;
    drop(topo);
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

/// Injects the schedule's faults one by one at their times; returns notes on faults
/// that could not be injected.
async fn inject_all(
    topo: &mut Topology,
    schedule: &[faults::PlannedFault],
    rec: &Recorder,
    args: &ChaosArgs,
) -> Vec<String> {
    let mut notes = Vec::new();
    let phase_start = rec.now_ms();
    let at = |s: f64| phase_start + (s * 1000.0) as u64;
    for (n, f) in schedule.iter().enumerate() {
        sleep_until_ms(rec, at(f.at_s)).await;
        let target = if f.kind.targets_redis() {
            "redis".to_string()
        } else {
            topo.nodes[f.node].id.clone()
        };
        let mut e = Event::new(rec.now_ms(), Op::Fault, Phase::Invoke);
        e.node = Some(target.clone());
        e.detail = Some(f.kind.as_str().into());
        e.seq = Some(n as u64);
        rec.record(e.clone());
        tracing::info!(kind = %f.kind, %target, secs = f.duration_s, "fault");
        // Signals, nft and restarts block briefly: keep them off the async workers.
        match tokio::task::block_in_place(|| topo.inject(f.kind, f.node)) {
            Ok(()) => {
                e.t_ms = rec.now_ms();
                e.phase = Phase::Ok;
                rec.record(e.clone());
            }
            Err(err) => {
                e.t_ms = rec.now_ms();
                e.phase = Phase::Fail;
                e.detail = Some(format!("{}: {err}", f.kind));
                rec.record(e);
                notes.push(format!(
                    "fault {n} ({} on {target}) not injected: {err}",
                    f.kind
                ));
                continue;
            }
        }
        sleep_until_ms(rec, at(f.at_s + f.duration_s)).await;
        let mut h = Event::new(rec.now_ms(), Op::Heal, Phase::Ok);
        h.node = Some(target.clone());
        h.detail = Some(f.kind.as_str().into());
        h.seq = Some(n as u64);
        if let Err(err) = tokio::task::block_in_place(|| topo.heal(f.kind, f.node)) {
            h.phase = Phase::Fail;
            h.detail = Some(format!("{}: {err}", f.kind));
            notes.push(format!(
                "fault {n} ({} on {target}) not healed cleanly: {err}",
                f.kind
            ));
        }
        h.t_ms = rec.now_ms();
        rec.record(h);
    }
    sleep_until_ms(rec, at(args.fault_secs)).await;
    notes
}

async fn sleep_until_ms(rec: &Recorder, t_ms: u64) {
    let now = rec.now_ms();
    if t_ms > now {
        tokio::time::sleep(Duration::from_millis(t_ms - now)).await;
    }
}

/// Waits until every node answers `/readyz` and the registry lists them all.
async fn wait_cluster_ready(
    nodes: &[(String, String)],
    store: &SharedStore,
    deadline: Duration,
) -> Result<(), ChaosError> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .map_err(|e| ChaosError::Setup(format!("http client: {e}")))?;
    let until = Instant::now() + deadline;
    loop {
        let mut ready = 0;
        for (_, base) in nodes {
            if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
                if r.status() == 200 {
                    ready += 1;
                }
            }
        }
        let live = store.live_nodes().await.map(|l| l.len()).unwrap_or(0);
        if ready == nodes.len() && live >= nodes.len() {
            return Ok(());
        }
        if Instant::now() > until {
            return Err(ChaosError::Setup(format!(
                "the cluster was not ready within {deadline:?}: {ready}/{} nodes ready, {live} live (see the node logs in the results directory)",
                nodes.len()
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Reads each listener's log and writer journal, rebuilds its training input, and
/// asks the cluster for a normal feed to see what the listener's actor holds.
async fn collect_finals(
    store: &SharedStore,
    catalog: &Arc<Catalog>,
    nodes: &[(String, String)],
    accounts: &[workload::SignedUp],
    ask_models: bool,
) -> Vec<FinalListener> {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
    {
        Ok(h) => h,
        Err(_) => return Vec::new(),
    };
    let mut finals: Vec<FinalListener> = futures::stream::iter(accounts.iter().cloned())
        .map(|a| {
            let (http, store, catalog) = (http.clone(), store.clone(), catalog.clone());
            let workload::SignedUp { name, id, cookie } = a;
            async move {
                let Ok(lid) = ListenerId::parse(&id) else {
                    return FinalListener {
                        name,
                        ..Default::default()
                    };
                };
                let log = retry(|| store.read_interactions(&lid, 0, usize::MAX / 2)).await;
                let journal = retry(|| store.writer_journal(&lid)).await;
                let expected_digest = log.as_ref().map(|log| {
                    let mut m = ListenerModel::new(EngineKind::default(), 0);
                    for e in log {
                        m.apply(e);
                    }
                    format!(
                        "{:016x}",
                        crate::model::labels::digest(&m.training_input(&catalog))
                    )
                });
                let model = if ask_models {
                    final_model(&http, nodes, &cookie).await
                } else {
                    None
                };
                FinalListener {
                    name,
                    log,
                    journal,
                    model,
                    expected_digest,
                }
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    finals.sort_by(|a, b| a.name.cmp(&b.name));
    finals
}

/// A store read, tried up to 5 times 200 ms apart (the harness's connection may be
/// reconnecting after a Redis restart); `None` if it never succeeds.
async fn retry<T, F, Fut>(mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::store::StoreError>>,
{
    for attempt in 0..5 {
        match f().await {
            Ok(v) => return Some(v),
            Err(e) => {
                tracing::warn!(attempt, error = %e, "final state: store read failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    None
}

/// A normal feed's `model` within 20 s, trying the nodes in turn.
async fn final_model(
    http: &reqwest::Client,
    nodes: &[(String, String)],
    cookie: &str,
) -> Option<ModelSeen> {
    let until = Instant::now() + Duration::from_secs(20);
    let mut i = 0;
    while Instant::now() < until {
        let (_, base) = &nodes[i % nodes.len()];
        i += 1;
        let got = async {
            let r = http
                .get(format!("{base}/api/feed?limit=1"))
                .header("cookie", cookie)
                .send()
                .await
                .ok()?;
            let v: serde_json::Value = r.json().await.ok()?;
            if v["degraded"] != false {
                return None;
            }
            Some(ModelSeen {
                applied_seq: v["model"]["applied_seq"].as_u64()?,
                training_digest: v["model"]["training_digest"].as_str().map(str::to_owned),
            })
        }
        .await;
        if got.is_some() {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

/// The verdict and headline figures, for the terminal.
pub fn summary(r: &Results) -> String {
    let mut s = format!(
        "verdict: {} ({} nodes, {} listeners, seed {}, fsync {}, {:.0} s)\n",
        match r.valid {
            Verdict::Valid => "VALID",
            Verdict::Invalid => "INVALID",
            Verdict::Unknown => "UNKNOWN",
        },
        r.setup.nodes,
        r.setup.listeners,
        r.setup.seed,
        r.setup.fsync,
        r.duration_s
    );
    for c in &r.checks {
        s.push_str(&format!(
            "  {:<13} {:<8} {} violations / {} examined\n",
            c.name,
            c.valid.as_str(),
            c.violations,
            c.examined
        ));
        for e in c.examples.iter().take(3) {
            s.push_str(&format!("      {e}\n"));
        }
    }
    let a = &r.availability;
    s.push_str(&format!(
        "  unserved windows: {} over {} listeners; p50 {:.2} s, p99 {:.2} s, max {:.2} s; feeds normal {}/{}\n",
        a.windows, a.listeners_affected, a.p50_s, a.p99_s, a.max_s, a.feeds_normal, a.feeds
    ));
    for f in &r.faults {
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2} s"));
        s.push_str(&format!(
            "  fault {:<16} {:<6} at {:>6.1} s for {:>4.1} s: detected after {}, recovered after {}, {} listeners affected\n",
            f.kind,
            f.target,
            f.start_s,
            f.end_s - f.start_s,
            opt(f.detected_after_s),
            opt(f.recovered_after_s),
            f.affected_listeners
        ));
    }
    for o in &r.ops {
        s.push_str(&format!(
            "  op {:<9} {} invoked, {} ok, {} fail, {} info; p50 {:.0} ms, p99 {:.0} ms\n",
            o.op, o.invoked, o.ok, o.fail, o.info, o.p50_ms, o.p99_ms
        ));
    }
    for n in &r.notes {
        s.push_str(&format!("  note: {n}\n"));
    }
    s
}
