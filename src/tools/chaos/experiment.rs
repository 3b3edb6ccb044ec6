//! The phases of one experiment, in the order `run` calls them: bring the cluster up,
//! start the workload, inject faults and heal them, stay quiet, stop and collect the
//! final state, judge it. Each phase hands the next what it made.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spoofify_service::catalog::Catalog;
use spoofify_service::config::Settings;
use spoofify_service::store::redis_process::Fsync;
use spoofify_service::store::SharedStore;
use tokio::task::JoinHandle;

use super::args::{ChaosArgs, HEARTBEAT_TTL_S};

/// The shortest redis-master-* fault: cluster-node-timeout (2 s) + the election and
/// the clients' topology refresh (3.2–4.7 s measured), with margin.
const MIN_REDIS_FAILOVER_S: f64 = 7.0;
use super::check::{self, FinalListener};
use super::faults::{self, ScheduleSpec};
use super::history::Event;
use super::results::{Availability, Check, RedisMark, Results, RunSetup, Verdict};
use super::topology::{ClusterSpec, Topology};
use super::workload::{self, Recorder, Shared, WorkloadSpec};
use super::{availability, finals, inject, ChaosError};

/// How often the membership monitor polls `/api/cluster` on every node.
const MONITOR_EVERY: Duration = Duration::from_millis(250);
/// How long a fresh cluster may take to answer `/readyz` on every node.
const READY_DEADLINE: Duration = Duration::from_secs(90);
/// How long stopped nodes get to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Phase 1's result: Redis and the nodes, up and ready, serving the catalog.
pub(super) struct Cluster {
    pub topo: Topology,
    pub store: SharedStore,
    pub catalog: Arc<Catalog>,
    /// (node id, base URL) of every node.
    pub nodes: Vec<(String, String)>,
}

/// Phase 1: Redis, the catalog written to it, every node started and ready.
pub(super) async fn start_cluster(args: &ChaosArgs, out: &Path) -> Result<Cluster, ChaosError> {
    let exe = std::env::current_exe().map_err(|e| ChaosError::Setup(format!("own binary: {e}")))?;
    let mut topo = Topology::create(
        out,
        args.nodes,
        args.fsync,
        args.netns,
        exe,
        args.redis_cluster.then_some(ClusterSpec {
            durability: args.durability,
            replicas_per_master: args.redis_replicas,
            lag: Duration::from_secs_f64(args.redis_lag_secs),
        }),
    )?;
    let settings = Settings::load(None, &topo.store_overrides())?;
    let store = spoofify_service::store::open(&settings).await?;
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
    wait_cluster_ready(&nodes, &store, READY_DEADLINE).await?;
    tracing::info!(nodes = args.nodes, "cluster ready; workload starting");
    Ok(Cluster {
        topo,
        store,
        catalog,
        nodes,
    })
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

/// Phase 2's result: the simulated listeners and the membership monitor, running.
pub(super) struct Workload {
    pub recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
    shared: Arc<Shared>,
    monitor: JoinHandle<()>,
    clients: Vec<JoinHandle<()>>,
}

/// Phase 2: every simulated listener and the monitor started.
pub(super) fn start_workload(args: &ChaosArgs, cluster: &Cluster) -> Result<Workload, ChaosError> {
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
            cluster.nodes.clone(),
            cluster.catalog.clone(),
            recorder.clone(),
            stop.clone(),
        )
        .map_err(|e| ChaosError::Setup(format!("http client: {e}")))?,
    );
    let monitor = tokio::spawn(workload::monitor(shared.clone(), MONITOR_EVERY));
    let clients = (0..args.listeners)
        .map(|i| tokio::spawn(workload::listener(shared.clone(), i)))
        .collect();
    Ok(Workload {
        recorder,
        stop,
        shared,
        monitor,
        clients,
    })
}

/// What phases 3 and 4 learned: whether the run was interrupted, and notes for the report.
pub(super) struct FaultPhase {
    pub interrupted: bool,
    pub notes: Vec<String>,
}

/// Phases 3 and 4: the seeded faults injected and healed on schedule, then the quiet
/// period; SIGINT/SIGTERM cuts either short (and is noted).
pub(super) async fn faults_then_quiet(
    args: &ChaosArgs,
    topo: &mut Topology,
    recorder: &Recorder,
) -> FaultPhase {
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
            min_redis_failover_s: MIN_REDIS_FAILOVER_S,
        },
        args.seed,
    );
    let mut notes = Vec::new();
    let mut interrupted = tokio::select! {
        r = inject::inject_all(topo, &schedule, recorder, args.fault_secs) => { notes.extend(r); false }
        _ = spoofify_service::node::shutdown_signal() => true,
    };
    tokio::task::block_in_place(|| topo.heal_all());
    if interrupted {
        notes
            .push("interrupted (SIGINT/SIGTERM): the run stopped early; nothing is claimed".into());
    } else {
        tracing::info!(secs = args.quiet_secs, "faults healed; quiet period");
        // The Redis Cluster keeps being watched: an old master may rejoin only now.
        let quiet_end = recorder.now_ms() + (args.quiet_secs * 1000.0) as u64;
        tokio::select! {
            _ = inject::watch_topology_until(topo, recorder, quiet_end) => {}
            _ = spoofify_service::node::shutdown_signal() => {
                interrupted = true;
                notes.push("interrupted during the quiet period; nothing is claimed".into());
            }
        }
    }
    FaultPhase { interrupted, notes }
}

/// Phase 5's result: the history and the cluster's final state.
pub(super) struct Collected {
    pub history: Vec<Event>,
    pub finals: Vec<FinalListener>,
    pub end_ms: u64,
}

/// Phase 5: the workload stopped, the final state read, the nodes stopped.
pub(super) async fn stop_and_collect(
    args: &ChaosArgs,
    load: Workload,
    cluster: &mut Cluster,
    interrupted: bool,
) -> Collected {
    load.stop.store(true, Ordering::Relaxed);
    let join_deadline = Duration::from_millis(args.client_timeout_ms * 10 + 5000);
    for c in load.clients {
        let _ = tokio::time::timeout(join_deadline, c).await;
    }
    let _ = load.monitor.await;
    let end_ms = load.recorder.now_ms();

    tracing::info!("collecting the final state");
    let accounts: Vec<workload::SignedUp> = load
        .shared
        .accounts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .flatten()
        .cloned()
        .collect();
    // An interrupted run is wanted gone: skip asking every actor for its model.
    let finals = finals::collect_finals(
        &cluster.store,
        &cluster.catalog,
        &cluster.nodes,
        &accounts,
        !interrupted,
    )
    .await;
    let history = load.recorder.snapshot();
    cluster.topo.stop_nodes(STOP_GRACE);
    Collected {
        history,
        finals,
        end_ms,
    }
}

/// When and how the run started, for the results.
pub(super) struct Started {
    pub at: Instant,
    pub http_date: String,
}

/// Phase 6: the checkers and the availability figures on what was collected, and the
/// verdict.
pub(super) fn judge(
    args: &ChaosArgs,
    started: &Started,
    collected: &Collected,
    phase: FaultPhase,
    topo: &Topology,
) -> Results {
    let Collected {
        history,
        finals,
        end_ms,
    } = collected;
    let end_ms = *end_ms;
    let mut checks = check::check_all(history, finals);
    let avail = availability::availability(history, end_ms);
    checks.push(served_again(&avail, end_ms));
    let mut valid = Verdict::all(checks.iter().map(|c| c.valid));
    if phase.interrupted && valid == Verdict::Valid {
        valid = Verdict::Unknown;
    }
    let mut notes = phase.notes;
    notes.push(fsync_note(args.fsync).into());
    if args.redis_cluster {
        notes.push(format!(
            "State in a Redis Cluster (3 masters, {} replica(s) each), durability \"{}\": {}",
            args.redis_replicas,
            args.durability.as_str(),
            match args.durability {
                spoofify_service::config::Durability::Replicated => "an interaction is acknowledged only once a replica has it (WAIT 1), so a killed or partitioned master loses nothing acknowledged; `lost` must be 0.",
                spoofify_service::config::Durability::Local => "an interaction is acknowledged once the master has it; a master killed or partitioned before its replica copied writes loses them at failover, and `lost` counts them (expected > 0: this run measures the loss, it does not claim safety).",
            }
        ));
        if args.redis_lag_secs > 0.0 {
            notes.push(format!(
                "FORCED REPLICA LAG: for {} s before each redis-master-kill everything the master sent its replicas was dropped (nftables), so whatever it took in that time never reached a replica. {}",
                args.redis_lag_secs,
                match args.durability {
                    spoofify_service::config::Durability::Replicated => "With \"replicated\" those writes are refused (503, retried), so `lost` must still be 0.",
                    spoofify_service::config::Durability::Local => "With \"local\" those writes were acknowledged and are lost at failover: `lost` counts them, and this run is INVALID by design — it measures what \"local\" loses, it claims no safety.",
                }
            ));
        }
        let changes: Vec<String> = redis_marks(history)
            .iter()
            .map(|m| format!("{:.1} s: {}", m.t_s, m.what))
            .collect();
        notes.push(format!("Redis topology changes: {}", changes.join("; ")));
    }
    let restarts: Vec<String> = topo
        .starts()
        .iter()
        .map(|(n, s)| format!("{n}: started {s}x"))
        .collect();
    notes.push(format!("node starts: {}", restarts.join(", ")));
    let fault_outcomes = availability::faults(history, &avail, end_ms);
    Results {
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
            started_at: started.http_date.clone(),
            command: args.command_line(),
        },
        duration_s: started.at.elapsed().as_secs_f64(),
        checks,
        availability: avail,
        faults: fault_outcomes,
        ops: availability::op_counts(history),
        timeline: availability::timeline(history, end_ms),
        redis_marks: redis_marks(history),
        notes,
    }
}

/// The Redis Cluster's topology changes and the harness's actions on it, in time order.
fn redis_marks(history: &[Event]) -> Vec<RedisMark> {
    history
        .iter()
        .filter(|e| e.op == super::history::Op::RedisTopology)
        .map(|e| RedisMark {
            t_s: e.t_ms as f64 / 1000.0,
            what: e.detail.clone().unwrap_or_default(),
        })
        .collect()
}

/// The `served-again` check: every listener that went unserved got a normal feed again.
fn served_again(avail: &Availability, end_ms: u64) -> Check {
    Check {
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
    }
}

/// What the fsync policy means for the `lost` check, in words.
fn fsync_note(fsync: Fsync) -> &'static str {
    match fsync {
        Fsync::Always => "Redis fsyncs its AOF before every reply (appendfsync always): an acknowledged write survives Redis being killed.",
        Fsync::EverySec => "Redis fsyncs its AOF once a second (appendfsync everysec): killing Redis may lose up to a second of acknowledged writes, which `lost` would report.",
        Fsync::No => "Redis leaves fsync to the OS (appendfsync no): killing only the Redis process loses nothing the OS holds, a machine crash may.",
    }
}
