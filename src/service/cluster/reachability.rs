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
                super::view::refresh_view(&c, None).await;
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
                    super::view::refresh_view(&c, None).await;
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
