//! The experiment's options (`spoofify chaos --help`): what they mean, their checks
//! before anything starts, and the command line that reproduces a run.

use std::path::PathBuf;

use spoofify_service::store::redis_process::Fsync;

use super::faults::FaultKind;
use super::{netns, ChaosError};

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
    /// Keep state in a Redis Cluster (3 masters, each with --redis-replicas replicas)
    /// the harness starts, instead of one Redis; enables redis-master-kill and
    /// redis-master-partition.
    #[arg(long)]
    pub redis_cluster: bool,
    /// Replicas per Redis Cluster master (1..=3). With 2 a promoted replica still has a
    /// replica, so "replicated" writes go on right after a failover (ARCHITECTURE.md
    /// "Fencing on a Redis Cluster").
    #[arg(long, default_value_t = 2)]
    pub redis_replicas: usize,
    /// Forced replica lag: a redis-master-kill first drops everything the master sends
    /// its replicas (nftables; root), waits this long, then kills the master, so writes
    /// it took in that time never reached a replica (what "local" loses; "replicated"
    /// refuses them). 0 = off.
    #[arg(long, default_value_t = 0.0)]
    pub redis_lag_secs: f64,
    /// The nodes' `durability`: local or replicated (see README "Redis Cluster").
    #[arg(long, default_value = "local")]
    pub durability: spoofify_service::config::Durability,
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

/// The heartbeat TTL chaos nodes run with (see `topology`); pauses last longer.
pub(super) const HEARTBEAT_TTL_S: f64 = 1.5;

impl ChaosArgs {
    pub(super) fn kinds(&self) -> Vec<FaultKind> {
        self.faults.clone().unwrap_or_else(|| {
            if self.redis_cluster {
                return vec![
                    FaultKind::Kill,
                    FaultKind::Pause,
                    FaultKind::RedisMasterKill,
                    FaultKind::RedisMasterPartition,
                ];
            }
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
            ("--redis-lag-secs", self.redis_lag_secs),
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
        if !(1..=3).contains(&self.redis_replicas) {
            return bad(format!(
                "--redis-replicas must be 1..=3, not {}",
                self.redis_replicas
            ));
        }
        if self.redis_lag_secs > 0.0 && !self.redis_cluster {
            return bad("--redis-lag-secs needs --redis-cluster".into());
        }
        if self.redis_lag_secs > 10.0 {
            return bad("--redis-lag-secs must be at most 10 (a lag, not an outage)".into());
        }
        if self.redis_cluster && self.netns {
            return bad("--redis-cluster runs on loopback; --netns is for one Redis".into());
        }
        for k in self.kinds() {
            if k.needs_redis_cluster() != self.redis_cluster && k.targets_redis() {
                return bad(format!(
                    "fault {k} {} --redis-cluster",
                    if self.redis_cluster {
                        "does not apply with"
                    } else {
                        "needs"
                    }
                ));
            }
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

    pub(super) fn command_line(&self) -> String {
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
        ) + &if self.redis_cluster {
            let lag = if self.redis_lag_secs > 0.0 {
                format!(" --redis-lag-secs {}", self.redis_lag_secs)
            } else {
                String::new()
            };
            format!(
                " --redis-cluster --redis-replicas {} --durability {}{lag}",
                self.redis_replicas,
                self.durability.as_str()
            )
        } else {
            String::new()
        }
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
