//! Reachability: peers that stopped answering over the cluster link, and the
//! majority rule.
//!
//! A partition between nodes leaves every heartbeat in the store fresh, so the
//! store alone would keep an unreachable node in placement and its listeners
//! degraded for as long as the partition lasts. So: when a request routed to a peer
//! times out (or cannot be sent), the peer is probed with a `Ping` over the same link;
//! if that fails too, the peer is *unresponsive* and left out of placement until a
//! probe (repeated every heartbeat) succeeds or the peer leaves the registry. A
//! slow-but-alive peer answers the probe (the gateway answers pings without waiting
//! on any listener), so overload does not move listeners around.
//!
//! The majority rule keeps a cut-off node from taking listeners itself: a node acts
//! on its placement only while the peers it can reach, itself included, are a strict
//! majority of the live set; otherwise it owns nothing and serves degraded feeds
//! (the majority side has taken its listeners over, and fencing refuses any write
//! the minority side would still attempt).

use std::time::{Duration, Instant};

use ractor::rpc::CallResult;

use super::wire::{GatewayMsg, Wire};
use super::{lock, Cluster};
use crate::store::{LiveNode, NodeId};

/// How long a probe waits for a peer's answer. The link's round trip is well under a
/// millisecond on a LAN; this only has to outlast a busy scheduler.
const PROBE_DEADLINE: Duration = Duration::from_millis(300);

impl Cluster {
    /// A request routed to `peer` got no answer: probe it, and if the probe fails
    /// too, leave it out of placement (see the module docs).
    pub(super) fn doubt(&self, peer: &NodeId) {
        if !lock(&self.0.hints).probing.insert(peer.clone()) {
            return; // a probe is already on its way
        }
        let (c, peer) = (self.clone(), peer.clone());
        tokio::spawn(async move {
            let answered = c.ping(&peer).await;
            let newly = {
                let mut hints = lock(&c.0.hints);
                hints.probing.remove(&peer);
                !answered
                    && hints
                        .unresponsive
                        .insert(peer.clone(), Instant::now())
                        .is_none()
            };
            if newly {
                tracing::warn!(%peer, "peer does not answer over the cluster link: leaving it out of placement until it does");
                super::membership::refresh_view(&c, None).await;
            }
        });
    }

    /// Probes every unresponsive peer again (each heartbeat); forgets the ones that
    /// left the registry, brings back the ones that answer.
    pub(super) fn reprobe(&self, live: &[LiveNode]) {
        let peers: Vec<NodeId> = {
            let mut hints = lock(&self.0.hints);
            hints
                .unresponsive
                .retain(|p, _| live.iter().any(|n| &n.info.id == p));
            hints
                .unresponsive
                .keys()
                .filter(|p| !hints.probing.contains(*p))
                .cloned()
                .collect()
        };
        for peer in peers {
            lock(&self.0.hints).probing.insert(peer.clone());
            let c = self.clone();
            tokio::spawn(async move {
                let answered = c.ping(&peer).await;
                let back = {
                    let mut hints = lock(&c.0.hints);
                    hints.probing.remove(&peer);
                    answered && hints.unresponsive.remove(&peer).is_some()
                };
                if back {
                    tracing::info!(%peer, "peer answers again: back in placement");
                    super::membership::refresh_view(&c, None).await;
                }
            });
        }
    }

    /// One round trip to the peer's gateway.
    async fn ping(&self, peer: &NodeId) -> bool {
        let Some(gateway) = self.gateway_of(peer) else {
            return false;
        };
        let nonce = Instant::now().elapsed().as_nanos() as u64 ^ rand::random::<u64>();
        matches!(
            gateway
                .call(|r| GatewayMsg::Ping(Wire::ok(nonce), r), Some(PROBE_DEADLINE))
                .await,
            Ok(CallResult::Success(Wire(Ok(n)))) if n == nonce
        )
    }
}

/// The nodes this node may place listeners on: the candidates it does not suspect,
/// or none at all when those (itself included) are not a strict majority of the
/// candidates — then this node may be the one cut off, and must not act.
pub(super) fn majority_placement(candidates: Vec<NodeId>, suspects: &[NodeId]) -> Vec<NodeId> {
    let total = candidates.len();
    let reachable: Vec<NodeId> = candidates
        .into_iter()
        .filter(|n| !suspects.contains(n))
        .collect();
    if reachable.len() * 2 > total {
        reachable
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &[&str]) -> Vec<NodeId> {
        s.iter().map(|s| NodeId::parse(s).unwrap()).collect()
    }

    #[test]
    fn the_majority_side_drops_the_suspect_and_the_minority_owns_nothing() {
        let all = ids(&["n1", "n2", "n3"]);
        // n1 cannot reach n2: n1 and n3 are a majority.
        assert_eq!(
            majority_placement(all.clone(), &ids(&["n2"])),
            ids(&["n1", "n3"])
        );
        // n2 reaches neither: alone it is a minority and places nothing.
        assert!(majority_placement(all.clone(), &ids(&["n1", "n3"])).is_empty());
        assert_eq!(majority_placement(all.clone(), &[]), all);
        // Two nodes that lose each other both stand down until the store decides.
        assert!(majority_placement(ids(&["n1", "n2"]), &ids(&["n2"])).is_empty());
        assert_eq!(majority_placement(ids(&["n1"]), &[]), ids(&["n1"]));
        assert!(majority_placement(Vec::new(), &[]).is_empty());
    }
}
