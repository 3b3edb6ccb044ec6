//! This node's view of the cluster: the live set read from the store's heartbeats,
//! narrowed by disconnect hints and unanswered probes to the nodes listeners are
//! placed on, and when this node last beat successfully. Membership, the gateway,
//! reachability probes and routing all refresh it through [`refresh_view`]; it calls
//! none of them.

use std::time::{Duration, Instant};

use super::placement::{majority_placement, owner};
use super::{lock, Cluster};
use crate::store::{ListenerId, LiveNode, NodeId};

/// How long a node that left placement without draining counts as lost: a listener
/// first activated here within that time, that the lost node owned, was taken over.
const LOST_WINDOW: Duration = Duration::from_secs(300);

/// The live set as this node last read it.
#[derive(Debug, Default, Clone)]
pub(super) struct View {
    pub(super) nodes: Vec<LiveNode>,
    /// Nodes that own listeners: live and not draining, sorted.
    pub(super) placement: Vec<NodeId>,
    pub(super) last_ok_beat: Option<Instant>,
    /// Nodes that left placement without draining (dead, paused, cut off), and when.
    pub(super) lost: Vec<(NodeId, Instant)>,
}

impl View {
    /// Whether `listener`, now owned by `me`, was taken over from a node lost within
    /// [`LOST_WINDOW`]: `None` while this view does not place it on `me` yet (a peer
    /// with a fresher view forwarded it here first; ask again after the next refresh).
    pub(super) fn taken_over_by(&self, me: &NodeId, listener: &ListenerId) -> Option<bool> {
        if owner(listener, &self.placement) != Some(me) {
            return None;
        }
        Some(self.owner_was_lost(listener))
    }

    /// Whether `listener` was placed on a node lost within [`LOST_WINDOW`]: its owner
    /// over today's placement plus the lost nodes is one of them.
    pub(super) fn owner_was_lost(&self, listener: &ListenerId) -> bool {
        if self.lost.is_empty() {
            return false;
        }
        let mut before = self.placement.clone();
        before.extend(self.lost.iter().map(|(n, _)| n.clone()));
        before.sort();
        before.dedup();
        owner(listener, &before).is_some_and(|o| self.lost.iter().any(|(n, _)| n == o))
    }
}

/// The lost nodes after a view change: those that left `old` placement without a
/// draining entry in `nodes`, plus earlier ones not back and not expired.
fn lost_nodes(
    old: &View,
    nodes: &[LiveNode],
    placement: &[NodeId],
    now: Instant,
) -> Vec<(NodeId, Instant)> {
    let draining = |id: &NodeId| {
        nodes
            .iter()
            .any(|n| &n.info.id == id && n.info.state == "draining")
    };
    let mut lost: Vec<(NodeId, Instant)> = old
        .lost
        .iter()
        .filter(|(n, at)| !placement.contains(n) && now.duration_since(*at) < LOST_WINDOW)
        .cloned()
        .collect();
    for n in &old.placement {
        if !placement.contains(n) && !draining(n) && !lost.iter().any(|(l, _)| l == n) {
            lost.push((n.clone(), now));
        }
    }
    lost
}

/// Records that a heartbeat started at `beat` succeeded (the lease), before the live
/// set is read: a slow or failed read must not cost the lease.
pub(super) fn note_beat(cluster: &Cluster, beat: Instant) {
    let mut view = match cluster.0.view.write() {
        Ok(v) => v,
        Err(p) => p.into_inner(),
    };
    if view.last_ok_beat.is_none_or(|t| t < beat) {
        view.last_ok_beat = Some(beat);
    }
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
    let last_ok_beat = match (beat, view.last_ok_beat) {
        (Some(b), Some(v)) => Some(b.max(v)),
        (b, v) => b.or(v),
    };
    let ids = |ns: &[LiveNode]| ns.iter().map(|n| n.info.id.clone()).collect::<Vec<_>>();
    if ids(&view.nodes) != ids(&nodes) {
        crate::telemetry::metrics::membership_changed();
    }
    lock(&cluster.0.ops).observe(&nodes, crate::store::now_ms());
    let lost = lost_nodes(&view, &nodes, &placement, Instant::now());
    *view = View {
        nodes,
        placement,
        last_ok_beat,
        lost,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NodeInfo;

    fn id(s: &str) -> NodeId {
        NodeId::parse(s).expect("node id")
    }

    fn live(s: &str, state: &str) -> LiveNode {
        LiveNode {
            info: NodeInfo {
                id: id(s),
                http_addr: String::new(),
                cluster_addr: None,
                state: state.into(),
                listeners: 0,
                started_ms: 0,
            },
            heartbeat_age_ms: 0,
        }
    }

    fn view(placement: &[&str], lost: Vec<(NodeId, Instant)>) -> View {
        View {
            placement: placement.iter().map(|s| id(s)).collect(),
            lost,
            ..View::default()
        }
    }

    #[test]
    fn a_node_gone_without_draining_is_lost_and_owned_what_moved() {
        let now = Instant::now();
        let before = view(&["n1", "n2", "n3"], vec![]);
        let placement = vec![id("n1"), id("n2")];
        let lost = lost_nodes(
            &before,
            &[live("n1", "up"), live("n2", "up")],
            &placement,
            now,
        );
        assert_eq!(
            lost.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["n3"]
        );
        let after = View {
            placement: placement.clone(),
            lost,
            ..View::default()
        };
        let all = [id("n1"), id("n2"), id("n3")];
        let mut moved = 0;
        for i in 0..300 {
            let l = ListenerId::parse(&format!("l{i}")).expect("listener id");
            let was_n3 = owner(&l, &all).is_some_and(|o| o.as_str() == "n3");
            assert_eq!(after.owner_was_lost(&l), was_n3, "listener {l}");
            moved += usize::from(was_n3);
        }
        assert!(moved > 50, "n3 owned {moved} of 300");
    }

    #[test]
    fn a_takeover_is_unknown_until_the_view_places_the_listener_here() {
        let now = Instant::now();
        let all = [id("n1"), id("n2"), id("n3")];
        // A view that has not seen n3 go yet, and the one after.
        let stale = view(&["n1", "n2", "n3"], vec![]);
        let fresh = view(&["n1", "n2"], vec![(id("n3"), now)]);
        let mut checked = 0;
        for i in 0..300 {
            let l = ListenerId::parse(&format!("l{i}")).expect("listener id");
            if owner(&l, &all).map(NodeId::as_str) != Some("n3") {
                continue;
            }
            let Some(heir) = owner(&l, &fresh.placement).cloned() else {
                continue;
            };
            assert_eq!(stale.taken_over_by(&heir, &l), None, "listener {l}");
            assert_eq!(fresh.taken_over_by(&heir, &l), Some(true), "listener {l}");
            let other = if heir.as_str() == "n1" {
                id("n2")
            } else {
                id("n1")
            };
            assert_eq!(fresh.taken_over_by(&other, &l), None, "listener {l}");
            checked += 1;
        }
        assert!(checked > 50, "n3 owned {checked} of 300");
    }

    #[test]
    fn a_drained_node_is_not_lost_and_a_returning_one_stops_being() {
        let now = Instant::now();
        let before = view(&["n1", "n2"], vec![]);
        let placement = vec![id("n1")];
        let lost = lost_nodes(
            &before,
            &[live("n1", "up"), live("n2", "draining")],
            &placement,
            now,
        );
        assert!(lost.is_empty(), "a drained node counted as lost");
        let before = view(&["n1"], vec![(id("n2"), now)]);
        let back = vec![id("n1"), id("n2")];
        assert!(lost_nodes(&before, &[live("n1", "up"), live("n2", "up")], &back, now).is_empty());
        let stale = view(&["n1"], vec![(id("n2"), now)]);
        let later = now + LOST_WINDOW + Duration::from_secs(1);
        assert!(lost_nodes(&stale, &[live("n1", "up")], &[id("n1")], later).is_empty());
    }
}
