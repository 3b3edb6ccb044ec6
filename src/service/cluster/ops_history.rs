//! What the operator page shows beyond the live set: each node's state and since when
//! (up, draining, or gone once it left the live set), recent failovers with how long
//! they took, and this node's request rate, p99 and interactions/s over the last
//! minutes, one sample a second (from `telemetry::metrics::Reading`).
//!
//! The view feeds it each live set it reads ([`OpsHistory::observe`]); a loop samples
//! the totals every second ([`run`]). Nothing here is persisted: a restarted node
//! starts a fresh history.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::{lock, Cluster};
use crate::store::{now_ms, LiveNode};
use crate::telemetry::metrics::Reading;

/// Samples kept: ten minutes at one a second.
const SAMPLES: usize = 600;
/// Failovers kept.
const FAILOVERS: usize = 20;
/// Gone nodes are shown this long after they left.
const GONE_KEPT_MS: u64 = 3_600_000;

/// A node as this node last saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeState {
    /// "up", "draining" or "gone".
    pub state: String,
    /// Since when (ms since the epoch) it has been in that state, as far as this node saw.
    pub since_ms: u64,
    pub listeners: u64,
    pub http_addr: String,
    /// Its last heartbeat as last read (ms since the epoch).
    pub last_beat_ms: u64,
}

/// A node that left the live set without draining first.
#[derive(Debug, Clone, PartialEq)]
pub struct Failover {
    pub node: String,
    /// Its last heartbeat (ms since the epoch).
    pub last_beat_ms: u64,
    /// When this node took it out of placement: its listeners are re-placed from here on.
    pub detected_ms: u64,
    /// Listeners it had at its last beat (now activated by their new owners on demand).
    pub listeners: u64,
}

impl Failover {
    /// From the lost node's last beat to its listeners being re-placed.
    pub fn duration_ms(&self) -> u64 {
        self.detected_ms.saturating_sub(self.last_beat_ms)
    }
}

/// One second of this node's traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t_ms: u64,
    pub requests_per_s: f64,
    /// None in a second without requests.
    pub p99_ms: Option<f64>,
    pub interactions_per_s: f64,
}

#[derive(Debug, Default)]
pub struct OpsHistory {
    nodes: BTreeMap<String, NodeState>,
    failovers: VecDeque<Failover>,
    samples: VecDeque<Sample>,
}

impl OpsHistory {
    /// Folds in a live set just read (`nodes` with their heartbeat ages).
    pub fn observe(&mut self, live: &[LiveNode], now: u64) {
        for n in live {
            let id = n.info.id.to_string();
            let entry = self.nodes.get(&id);
            let since = match entry {
                Some(e) if e.state == n.info.state => e.since_ms,
                // First seen: up since it started, or draining since we saw it.
                None if n.info.state == "up" => n.info.started_ms,
                _ => now,
            };
            self.nodes.insert(
                id,
                NodeState {
                    state: n.info.state.clone(),
                    since_ms: since,
                    listeners: n.info.listeners,
                    http_addr: n.info.http_addr.clone(),
                    last_beat_ms: now.saturating_sub(n.heartbeat_age_ms),
                },
            );
        }
        let live_ids: Vec<String> = live.iter().map(|n| n.info.id.to_string()).collect();
        for (id, st) in self.nodes.iter_mut() {
            if st.state == "gone" || live_ids.contains(id) {
                continue;
            }
            if st.state == "up" {
                // Gone without draining: a failover. Its last beat is when we last saw it.
                self.failovers.push_back(Failover {
                    node: id.clone(),
                    last_beat_ms: st.last_beat_ms,
                    detected_ms: now,
                    listeners: st.listeners,
                });
                while self.failovers.len() > FAILOVERS {
                    self.failovers.pop_front();
                }
            }
            st.state = "gone".into();
            st.since_ms = now;
        }
        self.nodes
            .retain(|_, st| st.state != "gone" || now.saturating_sub(st.since_ms) < GONE_KEPT_MS);
    }

    fn push_sample(&mut self, s: Sample) {
        self.samples.push_back(s);
        while self.samples.len() > SAMPLES {
            self.samples.pop_front();
        }
    }

    pub fn nodes(&self) -> Vec<(String, NodeState)> {
        self.nodes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn failovers(&self) -> Vec<Failover> {
        self.failovers.iter().rev().cloned().collect()
    }

    pub fn samples(&self) -> Vec<Sample> {
        self.samples.iter().copied().collect()
    }
}

/// Samples this node's traffic once a second until the cluster stops.
pub(super) async fn run(cluster: Cluster) {
    let mut stop = cluster.0.stop.subscribe();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last = (Reading::now(), std::time::Instant::now());
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let now = Reading::now();
        let secs = last.1.elapsed().as_secs_f64().max(0.001);
        let sample = Sample {
            t_ms: now_ms(),
            requests_per_s: now.requests.saturating_sub(last.0.requests) as f64 / secs,
            p99_ms: now.p99_since(&last.0).map(|s| s * 1000.0),
            interactions_per_s: now.interactions.saturating_sub(last.0.interactions) as f64 / secs,
        };
        lock(&cluster.0.ops).push_sample(sample);
        last = (now, std::time::Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NodeId, NodeInfo};

    fn node(id: &str, state: &str, started: u64) -> LiveNode {
        LiveNode {
            info: NodeInfo {
                id: NodeId::parse(id).expect("id"),
                http_addr: "127.0.0.1:1".into(),
                cluster_addr: None,
                state: state.into(),
                listeners: 7,
                started_ms: started,
            },
            heartbeat_age_ms: 0,
        }
    }

    #[test]
    fn a_lost_node_is_a_failover_and_a_drained_one_is_not() {
        let mut h = OpsHistory::default();
        h.observe(
            &[
                node("a", "up", 100),
                node("b", "up", 100),
                node("c", "up", 100),
            ],
            1_000,
        );
        h.observe(
            &[
                node("a", "up", 100),
                node("b", "draining", 100),
                node("c", "up", 100),
            ],
            2_000,
        );
        h.observe(&[node("a", "up", 100), node("c", "up", 100)], 3_000);
        assert!(
            h.failovers().is_empty(),
            "draining then gone is no failover"
        );
        h.observe(&[node("a", "up", 100)], 4_000);
        let f = h.failovers();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].node, "c");
        assert_eq!(f[0].detected_ms, 4_000);
        assert_eq!(
            f[0].duration_ms(),
            1_000,
            "last beat read at 3000 with age 0"
        );
        assert_eq!(f[0].listeners, 7);
        let states: BTreeMap<_, _> = h.nodes().into_iter().collect();
        assert_eq!(states["a"].state, "up");
        assert_eq!(states["a"].since_ms, 100);
        assert_eq!(states["b"].state, "gone");
        assert_eq!(states["b"].since_ms, 3_000);
        assert_eq!(states["c"].state, "gone");
    }
}
