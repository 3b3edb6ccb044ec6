//! This node's view of the cluster: the live set read from the store's heartbeats,
//! narrowed by disconnect hints and unanswered probes to the nodes listeners are
//! placed on, and when this node last beat successfully. Membership, the gateway,
//! reachability probes and routing all refresh it through [`refresh_view`]; it calls
//! none of them.

use std::time::{Duration, Instant};

use super::placement::majority_placement;
use super::{lock, Cluster};
use crate::store::{LiveNode, NodeId};

/// The live set as this node last read it.
#[derive(Debug, Default, Clone)]
pub(super) struct View {
    pub(super) nodes: Vec<LiveNode>,
    /// Nodes that own listeners: live and not draining, sorted.
    pub(super) placement: Vec<NodeId>,
    pub(super) last_ok_beat: Option<Instant>,
}

/// Reads the live set into the view; `beat` is when a successful heartbeat started.
pub(super) async fn refresh_view(cluster: &Cluster, beat: Option<Instant>) {
    let mut nodes = match cluster.0.store.live_nodes().await {
        Ok(nodes) => nodes,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the live set");
            return;
        }
    };
    nodes.sort_by(|a, b| a.info.id.cmp(&b.info.id));
    let ttl_ms = cluster.0.settings.heartbeat_ttl_ms;
    let suspects = update_hints(cluster, &nodes);
    let candidates: Vec<_> = nodes
        .iter()
        .filter(|n| n.info.state == "up" && n.heartbeat_age_ms < ttl_ms)
        .map(|n| n.info.id.clone())
        .collect();
    let any = !candidates.is_empty();
    let placement = majority_placement(candidates, &suspects);
    {
        let mut hints = lock(&cluster.0.hints);
        let minority = any && placement.is_empty();
        if minority != hints.minority {
            hints.minority = minority;
            if minority {
                tracing::warn!(suspects = ?suspects.iter().map(|n| n.as_str()).collect::<Vec<_>>(), "this node reaches no majority of the live set: owning nothing until it does");
            } else {
                tracing::info!("this node reaches a majority again");
            }
        }
    }
    let mut view = match cluster.0.view.write() {
        Ok(v) => v,
        Err(p) => p.into_inner(),
    };
    let last_ok_beat = beat.or(view.last_ok_beat);
    let ids = |ns: &[LiveNode]| ns.iter().map(|n| n.info.id.clone()).collect::<Vec<_>>();
    if ids(&view.nodes) != ids(&nodes) {
        crate::telemetry::metrics::membership_changed();
    }
    lock(&cluster.0.ops).observe(&nodes, crate::store::now_ms());
    *view = View {
        nodes,
        placement,
        last_ok_beat,
    };
}

/// Updates the disconnect hints from which peers' gateways are visible now; returns
/// the peers to leave out of placement.
fn update_hints(cluster: &Cluster, nodes: &[LiveNode]) -> Vec<NodeId> {
    if cluster.0.cluster_addr.is_none() {
        return Vec::new();
    }
    let ttl = Duration::from_millis(cluster.0.settings.heartbeat_ttl_ms);
    let mut hints = lock(&cluster.0.hints);
    for n in nodes.iter().filter(|n| n.info.id != cluster.0.node_id) {
        let id = &n.info.id;
        let reached = n
            .info
            .cluster_addr
            .as_deref()
            .is_some_and(|a| cluster.gateway_at(id, a).is_some());
        if reached {
            hints.connected.insert(id.clone());
            hints.suspect.remove(id);
        } else if hints.connected.remove(id) {
            tracing::info!(peer = %id, "cluster session to peer closed: leaving it out of placement until it is back");
            hints.suspect.insert(id.clone(), Instant::now());
        }
    }
    hints.suspect.retain(|_, since| since.elapsed() < ttl);
    let mut out: Vec<_> = hints.suspect.keys().cloned().collect();
    out.extend(
        hints
            .unresponsive
            .keys()
            .filter(|p| !hints.suspect.contains_key(*p))
            .cloned(),
    );
    out
}
