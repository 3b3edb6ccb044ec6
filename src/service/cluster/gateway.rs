//! The gateway: the one cluster-addressable actor of a node.
//!
//! Peers find it through `ractor::pg` under the group [`group_name`] of this node
//! (the named registry is local-only) and send it [`GatewayMsg`]s for listeners this
//! node owns. It never waits on a listener itself: each feed request is answered by
//! its own task, so one slow activation cannot stall the node's whole inbound path.
//! A request for a listener this node does not own (by its own view of the live set)
//! is answered `NotOwner` rather than served, so a lagging view never creates a
//! second writer. Every request is checked before use ([`super::wire`]): a peer's
//! listener id is parsed and its limit clamped to the HTTP API's.

use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::wire::{group_name, FeedReply, GatewayMsg, ScoreReply, Wire, WireItem};
use super::Cluster;
use crate::store::ListenerId;

pub struct Gateway;

impl Actor for Gateway {
    type Msg = GatewayMsg;
    type State = Cluster;
    type Arguments = Cluster;

    async fn pre_start(
        &self,
        me: ActorRef<GatewayMsg>,
        cluster: Cluster,
    ) -> Result<Cluster, ActorProcessingErr> {
        ractor::pg::join(group_name(cluster.node_id()), vec![me.get_cell()]);
        Ok(cluster)
    }

    async fn handle(
        &self,
        _me: ActorRef<GatewayMsg>,
        msg: GatewayMsg,
        cluster: &mut Cluster,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            GatewayMsg::Feed(Wire(req), reply) => {
                let cluster = cluster.clone();
                tokio::spawn(async move {
                    let answer = match req.and_then(|r| r.checked()) {
                        Ok((id, limit)) => serve_feed(&cluster, &id, limit).await,
                        Err(e) => FeedReply::Unserved(e),
                    };
                    let _ = reply.send(Wire::ok(answer));
                });
            }
            GatewayMsg::Interact(Wire(Ok(grew))) => {
                if let Ok(id) = ListenerId::parse(&grew.listener) {
                    cluster.listeners().notify(&id);
                }
            }
            GatewayMsg::Interact(Wire(Err(e))) => {
                tracing::warn!(error = %e, "dropped a malformed notification from a peer");
            }
            GatewayMsg::Ping(Wire(n), reply) => {
                let _ = reply.send(Wire(n));
            }
            GatewayMsg::Score(Wire(req), reply) => {
                let cluster = cluster.clone();
                tokio::spawn(async move {
                    let answer = match req {
                        Ok(req) => super::scoring::serve_score(&cluster, req).await,
                        Err(e) => ScoreReply::Unserved(e),
                    };
                    let _ = reply.send(Wire::ok(answer));
                });
            }
        }
        Ok(())
    }
}

/// Serves a checked request (`limit` within `1..=MAX_FEED_ITEMS`).
#[tracing::instrument(name = "gateway_feed", skip(cluster))]
async fn serve_feed(cluster: &Cluster, id: &ListenerId, limit: usize) -> FeedReply {
    let id = id.clone();
    if !cluster.owns(&id) {
        // The sender's view says we own it and ours does not: ours may be one beat
        // behind. Re-read the live set once before refusing.
        super::view::refresh_view(cluster, None).await;
        if !cluster.owns(&id) {
            return FeedReply::NotOwner;
        }
    }
    match cluster
        .listeners()
        .feed(&id, limit, cluster.route_deadline())
        .await
    {
        Ok(answer) => FeedReply::ServedWithDigest {
            items: answer
                .items
                .into_iter()
                .map(|i| WireItem {
                    song_id: i.song_id.to_string(),
                    score: i.score,
                    reason: i.reason,
                })
                .collect(),
            epoch: answer.status.epoch,
            applied_seq: answer.status.applied_seq,
            training_rows: answer.status.training_rows as u64,
            fitted_rows: answer.status.fitted_rows as u64,
            training_digest: answer.status.training_digest,
        },
        Err(e) => FeedReply::Unserved(e.to_string()),
    }
}
