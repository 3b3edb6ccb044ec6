//! Fault kinds and the seeded schedule that says which fault hits which target
//! when, and for how long. The schedule is a pure function of the options and the
//! seed, so `--seed` reproduces a run's faults exactly.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// SIGKILL a node; restart it when the fault ends.
    Kill,
    /// SIGSTOP a node for longer than the heartbeat TTL; SIGCONT when it ends.
    Pause,
    /// Cut a node off from the other nodes (needs --netns).
    PartitionPeers,
    /// Cut a node off from Redis (needs --netns).
    PartitionRedis,
    /// Cut a node off from the other nodes and from Redis; clients still reach it
    /// (needs --netns).
    Isolate,
    /// Drop a share of a node's packets at random (needs --netns).
    Lossy,
    /// Delay a node's packets with `tc netem` (needs --netns and a kernel with netem).
    Slow,
    /// SIGKILL Redis and restart it on the same AOF.
    RedisRestart,
    /// SIGKILL a Redis Cluster master (a replica is promoted); restart it when the
    /// fault ends (it rejoins as a replica). Needs --redis-cluster.
    RedisMasterKill,
    /// Cut a Redis Cluster master off from its replicas, the other masters and the
    /// nodes (nftables on loopback), then heal. Needs --redis-cluster and root.
    RedisMasterPartition,
}

impl FaultKind {
    pub const ALL: [FaultKind; 10] = [
        FaultKind::Kill,
        FaultKind::Pause,
        FaultKind::PartitionPeers,
        FaultKind::PartitionRedis,
        FaultKind::Isolate,
        FaultKind::Lossy,
        FaultKind::Slow,
        FaultKind::RedisRestart,
        FaultKind::RedisMasterKill,
        FaultKind::RedisMasterPartition,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::PartitionPeers => "partition-peers",
            FaultKind::PartitionRedis => "partition-redis",
            FaultKind::Isolate => "isolate",
            FaultKind::Lossy => "lossy",
            FaultKind::Slow => "slow",
            FaultKind::RedisRestart => "redis-restart",
            FaultKind::RedisMasterKill => "redis-master-kill",
            FaultKind::RedisMasterPartition => "redis-master-partition",
        }
    }

    /// Kinds that need each node in its own network namespace.
    pub fn needs_netns(self) -> bool {
        matches!(
            self,
            FaultKind::PartitionPeers
                | FaultKind::PartitionRedis
                | FaultKind::Isolate
                | FaultKind::Lossy
                | FaultKind::Slow
        )
    }

    /// Whether the fault hits Redis rather than a node.
    pub fn targets_redis(self) -> bool {
        matches!(
            self,
            FaultKind::RedisRestart | FaultKind::RedisMasterKill | FaultKind::RedisMasterPartition
        )
    }

    /// Kinds that act on a Redis Cluster master (`--redis-cluster`).
    pub fn needs_redis_cluster(self) -> bool {
        matches!(
            self,
            FaultKind::RedisMasterKill | FaultKind::RedisMasterPartition
        )
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FaultKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown fault kind {s:?}; one of: {}", all.join(", "))
            })
    }
}

/// One fault on the schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedFault {
    /// Seconds after the workload started.
    pub at_s: f64,
    pub kind: FaultKind,
    /// Node index (ignored for Redis faults).
    pub node: usize,
    /// How long the fault lasts before it is healed.
    pub duration_s: f64,
}

/// How faults are spread over the fault phase.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSpec {
    pub kinds: Vec<FaultKind>,
    pub nodes: usize,
    /// Length of the fault phase; every fault is healed before it ends.
    pub phase_s: f64,
    /// Time before the first fault (the workload warms up).
    pub warmup_s: f64,
    /// Mean time from one fault's healing to the next fault.
    pub gap_s: f64,
    /// Mean fault length; pauses are at least `min_pause_s` (past the heartbeat TTL).
    pub duration_s: f64,
    pub min_pause_s: f64,
    /// How long a redis-restart keeps Redis down (not drawn: a crash-restart).
    pub redis_down_s: f64,
    /// The shortest Redis Cluster master fault: past cluster-node-timeout plus the
    /// election, so a replica is promoted.
    pub min_redis_failover_s: f64,
}

/// The seeded schedule: faults one at a time (so each one's effect can be read off
/// the plots), kinds taken in a shuffled round-robin so every enabled kind occurs
/// once before any occurs twice, targets and durations drawn from the seed.
pub fn plan(spec: &ScheduleSpec, seed: u64) -> Vec<PlannedFault> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x00c4_a05f);
    let mut out = Vec::new();
    if spec.kinds.is_empty() || spec.nodes == 0 {
        return out;
    }
    let mut t = spec.warmup_s;
    let mut bag: Vec<FaultKind> = Vec::new();
    loop {
        if bag.is_empty() {
            bag = spec.kinds.clone();
            bag.shuffle(&mut rng);
        }
        let kind = bag[bag.len() - 1];
        let jitter = rng.random_range(0.75..1.25);
        let mut duration = spec.duration_s * jitter;
        if kind == FaultKind::Pause {
            duration = duration.max(spec.min_pause_s);
        }
        if kind == FaultKind::RedisRestart {
            duration = spec.redis_down_s;
        }
        if kind.needs_redis_cluster() {
            // Long enough for the cluster to notice and promote a replica.
            duration = duration.max(spec.min_redis_failover_s);
        }
        if t + duration > spec.phase_s {
            break;
        }
        bag.pop();
        out.push(PlannedFault {
            at_s: t,
            kind,
            node: rng.random_range(0..spec.nodes),
            duration_s: duration,
        });
        t += duration + spec.gap_s * rng.random_range(0.75..1.25);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kinds: &[FaultKind]) -> ScheduleSpec {
        ScheduleSpec {
            kinds: kinds.to_vec(),
            nodes: 3,
            phase_s: 40.0,
            warmup_s: 5.0,
            gap_s: 4.0,
            duration_s: 4.0,
            min_pause_s: 3.5,
            redis_down_s: 1.0,
            min_redis_failover_s: 6.0,
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        let s = spec(&[FaultKind::Kill, FaultKind::Pause, FaultKind::PartitionPeers]);
        assert_eq!(plan(&s, 7), plan(&s, 7));
        assert_ne!(plan(&s, 7), plan(&s, 8));
    }

    #[test]
    fn every_kind_occurs_faults_do_not_overlap_and_end_in_the_phase() {
        let s = spec(&[FaultKind::Kill, FaultKind::Pause, FaultKind::PartitionPeers]);
        for seed in 0..50 {
            let p = plan(&s, seed);
            for k in &s.kinds {
                assert!(p.iter().any(|f| f.kind == *k), "seed {seed}: no {k}");
            }
            for w in p.windows(2) {
                assert!(
                    w[0].at_s + w[0].duration_s < w[1].at_s,
                    "seed {seed}: overlap"
                );
            }
            let last = p.last().unwrap();
            assert!(last.at_s + last.duration_s <= s.phase_s);
            assert!(p.iter().all(|f| f.node < 3 && f.at_s >= 5.0));
            assert!(p
                .iter()
                .filter(|f| f.kind == FaultKind::Pause)
                .all(|f| f.duration_s >= 3.5));
        }
    }

    #[test]
    fn kinds_parse_by_name() {
        assert_eq!("partition-redis".parse(), Ok(FaultKind::PartitionRedis));
        assert!("meteor".parse::<FaultKind>().unwrap_err().contains("kill"));
    }
}
