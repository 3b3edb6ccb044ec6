//! Routing: a feed or a "log grew" notification goes to the listener's owner — the
//! local actors or the owner's gateway — with a deadline, a bound on requests in
//! flight per peer, and a degraded answer (popular in the listener's genres, marked
//! as such) whenever the owner cannot answer in time. Never a false answer: a
//! degraded feed says it is degraded.

use std::sync::Arc;

use ractor::rpc::CallResult;
use tokio::sync::Semaphore;

use super::wire::{checked_items, FeedReply, FeedRequest, GatewayMsg, LogGrew, Wire};
use super::{lock, Cluster};
use crate::listener::Unserved;
use crate::model::{degraded_feed, RankedItem};
use crate::store::{ListenerId, NodeId};

/// What the owner's model has seen, for the feed's `model` field.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub epoch: u64,
    pub applied_seq: u64,
    pub training_rows: u64,
    pub fitted_rows: u64,
    /// `None` from an older peer that does not send it.
    pub training_digest: Option<u64>,
}

/// A feed, wherever it was ranked.
#[derive(Debug, Clone)]
pub struct RoutedFeed {
    pub items: Vec<RankedItem>,
    /// Why it is degraded, if it is.
    pub degraded: Option<String>,
    /// The owner's model, when the owner answered.
    pub model: Option<ModelInfo>,
    /// The node whose actor ranked it (none when degraded).
    pub ranked_by: Option<NodeId>,
}

/// Why a node did not rank a feed.
enum Refused {
    /// The asked node does not own the listener in its own view.
    NotOwner(String),
    Other(String),
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the catalog is not loaded yet")]
    NotReady,
}

impl Cluster {
    /// The listener's feed from its owner, or a degraded one.
    #[tracing::instrument(skip(self), fields(node = %self.0.node_id))]
    pub async fn feed(&self, id: &ListenerId, limit: usize) -> Result<RoutedFeed, FeedError> {
        let mut owner = self.owner(id);
        let mut outcome = self.feed_from(owner.as_ref(), id, limit).await;
        if matches!(outcome, Err(Refused::NotOwner(_))) {
            // Our view and the owner's disagree: membership is changing. Re-read the
            // live set once and follow it; if it still points at a refusing node, the
            // answer is degraded.
            super::view::refresh_view(self, None).await;
            let again = self.owner(id);
            if again != owner {
                owner = again;
                outcome = self.feed_from(owner.as_ref(), id, limit).await;
            }
        }
        let outcome = outcome.map_err(|r| match r {
            Refused::NotOwner(why) | Refused::Other(why) => why,
        });
        match outcome {
            Ok(feed) => Ok(feed),
            Err(why) => {
                tracing::info!(listener = %id, owner = ?owner.as_ref().map(|o| o.as_str()), reason = %why, "serving a degraded feed");
                self.degraded(id, limit, why).await
            }
        }
    }

    async fn feed_from(
        &self,
        owner: Option<&NodeId>,
        id: &ListenerId,
        limit: usize,
    ) -> Result<RoutedFeed, Refused> {
        match owner {
            None => Err(Refused::Other(
                "no live node owns this listener right now".into(),
            )),
            Some(o) if o == &self.0.node_id => {
                self.local_feed(id, limit).await.map_err(Refused::Other)
            }
            Some(o) => self.remote_feed(o, id, limit).await,
        }
    }

    async fn local_feed(&self, id: &ListenerId, limit: usize) -> Result<RoutedFeed, String> {
        match self
            .0
            .listeners
            .feed(id, limit, self.route_deadline())
            .await
        {
            Ok(a) => Ok(RoutedFeed {
                items: a.items,
                degraded: None,
                model: Some(ModelInfo {
                    epoch: a.status.epoch,
                    applied_seq: a.status.applied_seq,
                    training_rows: a.status.training_rows as u64,
                    fitted_rows: a.status.fitted_rows as u64,
                    training_digest: Some(a.status.training_digest),
                }),
                ranked_by: Some(self.0.node_id.clone()),
            }),
            Err(Unserved::NotReady) => Err("the catalog is not loaded yet".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    pub(super) fn peer_bound(&self, node: &NodeId) -> Arc<Semaphore> {
        lock(&self.0.peers)
            .entry(node.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.0.settings.max_inflight_per_peer)))
            .clone()
    }

    async fn remote_feed(
        &self,
        owner: &NodeId,
        id: &ListenerId,
        limit: usize,
    ) -> Result<RoutedFeed, Refused> {
        let other = |why: String| Refused::Other(why);
        let gateway = self
            .gateway_of(owner)
            .ok_or_else(|| other(format!("no connection to the owner {owner}")))?;
        let bound = self.peer_bound(owner);
        let _permit = bound
            .try_acquire()
            .map_err(|_| other(format!("too many requests in flight to {owner}")))?;
        let req = FeedRequest {
            listener: id.to_string(),
            limit: limit as u32,
        };
        let started = std::time::Instant::now();
        let call = gateway
            .call(
                |r| GatewayMsg::Feed(Wire::ok(req), r),
                Some(self.route_deadline()),
            )
            .await;
        crate::telemetry::metrics::forwarded("feed", started.elapsed());
        let reply = match call {
            Ok(CallResult::Success(Wire(Ok(reply)))) => reply,
            Ok(CallResult::Success(Wire(Err(e)))) => return Err(other(e)),
            Ok(CallResult::Timeout) => {
                self.doubt(owner);
                return Err(other(format!("the owner {owner} did not answer in time")));
            }
            Ok(CallResult::SenderError) | Err(_) => {
                self.doubt(owner);
                return Err(other(format!("the owner {owner} is unreachable")));
            }
        };
        let (items, model) = match reply {
            FeedReply::Served {
                items,
                epoch,
                applied_seq,
                training_rows,
                fitted_rows,
            } => (
                items,
                ModelInfo {
                    epoch,
                    applied_seq,
                    training_rows,
                    fitted_rows,
                    training_digest: None,
                },
            ),
            FeedReply::ServedWithDigest {
                items,
                epoch,
                applied_seq,
                training_rows,
                fitted_rows,
                training_digest,
            } => (
                items,
                ModelInfo {
                    epoch,
                    applied_seq,
                    training_rows,
                    fitted_rows,
                    training_digest: Some(training_digest),
                },
            ),
            FeedReply::Unserved(why) => {
                return Err(other(format!(
                    "the owner {owner} could not serve it: {why}"
                )))
            }
            FeedReply::NotOwner => {
                return Err(Refused::NotOwner(format!(
                    "{owner} does not own it (membership is changing)"
                )))
            }
        };
        Ok(RoutedFeed {
            items: checked_items(items, limit),
            degraded: None,
            model: Some(model),
            ranked_by: Some(owner.clone()),
        })
    }

    async fn degraded(
        &self,
        id: &ListenerId,
        limit: usize,
        why: String,
    ) -> Result<RoutedFeed, FeedError> {
        let index = self.0.index.get().ok_or(FeedError::NotReady)?;
        // Without preferences the degraded feed is plain popularity; still an answer.
        let prefs = match self.0.store.account(id).await {
            Ok(Some(a)) => a.preferences,
            _ => Default::default(),
        };
        Ok(RoutedFeed {
            items: degraded_feed(&index, &prefs, limit),
            degraded: Some(why),
            model: None,
            ranked_by: None,
        })
    }

    /// Tells the owner that the listener's log grew. Best effort: a lost notification
    /// costs nothing, the owner catches up from the log before its next feed.
    pub fn notify(&self, id: &ListenerId) {
        match self.owner(id) {
            Some(o) if o == self.0.node_id => self.0.listeners.notify(id),
            Some(o) => {
                if let Some(gw) = self.gateway_of(&o) {
                    let _ = gw.cast(GatewayMsg::Interact(Wire::ok(LogGrew {
                        listener: id.to_string(),
                    })));
                }
            }
            None => {}
        }
    }
}
