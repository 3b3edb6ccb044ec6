//! Scores from a listener's own model for given songs — what a radio is re-ranked
//! with — fetched from the listener's owner the way a feed is (`routing`): the local
//! actor, or the owner's gateway with the route deadline and the per-peer bound on
//! requests in flight. Any failure is an `Err` saying why; the caller then serves
//! without personal scores and says it is degraded. Never two writers: a node asked
//! for a listener it does not own answers `NotOwner` instead of activating it.

use std::sync::Arc;

use ractor::rpc::CallResult;

use super::wire::{checked_scores, GatewayMsg, ScoreReply, ScoreRequest, Wire};
use super::Cluster;
use crate::catalog::SongId;
use crate::model::CatalogIndex;
use crate::store::{ListenerId, NodeId};

impl Cluster {
    /// This node's catalog index (co-occurrence included), once the catalog is loaded.
    pub fn index(&self) -> Option<Arc<CatalogIndex>> {
        self.0.index.get()
    }

    /// The listener's own scores for `songs` (catalog indices of this node's catalog;
    /// `None` = leave the song out), from the listener's owner.
    #[tracing::instrument(skip(self, songs), fields(node = %self.0.node_id, songs = songs.len()))]
    pub async fn score(&self, id: &ListenerId, songs: &[u32]) -> Result<Vec<Option<f32>>, String> {
        let index = self
            .0
            .index
            .get()
            .ok_or_else(|| "the catalog is not loaded yet".to_owned())?;
        match self.owner(id) {
            None => Err("no live node owns this listener right now".into()),
            Some(o) if o == self.0.node_id => self
                .0
                .listeners
                .score(id, songs.to_vec(), self.route_deadline())
                .await
                .map_err(|e| e.to_string()),
            Some(o) => self.remote_score(&o, id, songs, &index).await,
        }
    }

    async fn remote_score(
        &self,
        owner: &NodeId,
        id: &ListenerId,
        songs: &[u32],
        index: &CatalogIndex,
    ) -> Result<Vec<Option<f32>>, String> {
        let gateway = self
            .gateway_of(owner)
            .ok_or_else(|| format!("no connection to the owner {owner}"))?;
        let bound = self.peer_bound(owner);
        let _permit = bound
            .try_acquire()
            .map_err(|_| format!("too many requests in flight to {owner}"))?;
        let all = index.catalog().songs();
        let req = ScoreRequest {
            listener: id.to_string(),
            songs: songs
                .iter()
                .filter_map(|&s| all.get(s as usize).map(|x| x.id.to_string()))
                .collect(),
        };
        let started = std::time::Instant::now();
        let call = gateway
            .call(
                |r| GatewayMsg::Score(Wire::ok(req), r),
                Some(self.route_deadline()),
            )
            .await;
        crate::telemetry::metrics::forwarded("score", started.elapsed());
        match call {
            Ok(CallResult::Success(Wire(Ok(ScoreReply::Scored(scores)))))
                if scores.len() == songs.len() =>
            {
                Ok(checked_scores(scores))
            }
            Ok(CallResult::Success(Wire(Ok(ScoreReply::Scored(_))))) => {
                Err(format!("the owner {owner} answered for other songs"))
            }
            Ok(CallResult::Success(Wire(Ok(ScoreReply::Unserved(why))))) => {
                Err(format!("the owner {owner} could not serve it: {why}"))
            }
            Ok(CallResult::Success(Wire(Ok(ScoreReply::NotOwner)))) => {
                Err(format!("{owner} does not own it (membership is changing)"))
            }
            Ok(CallResult::Success(Wire(Err(e)))) => Err(e),
            Ok(CallResult::Timeout) => {
                self.doubt(owner);
                Err(format!("the owner {owner} did not answer in time"))
            }
            Ok(CallResult::SenderError) | Err(_) => {
                self.doubt(owner);
                Err(format!("the owner {owner} is unreachable"))
            }
        }
    }
}

/// The gateway's side: scores for a listener this node owns.
#[tracing::instrument(name = "gateway_score", skip_all, fields(listener = %req.listener))]
pub(super) async fn serve_score(cluster: &Cluster, req: ScoreRequest) -> ScoreReply {
    let id = match req.checked() {
        Ok(id) => id,
        Err(e) => return ScoreReply::Unserved(e),
    };
    if !cluster.owns(&id) {
        super::view::refresh_view(cluster, None).await;
        if !cluster.owns(&id) {
            return ScoreReply::NotOwner;
        }
    }
    let Some(index) = cluster.0.index.get() else {
        return ScoreReply::Unserved("the catalog is not loaded yet".into());
    };
    // Songs this catalog does not know are left out (None), in place.
    let resolved: Vec<Option<u32>> = req
        .songs
        .iter()
        .map(|s| SongId::parse(s).ok().and_then(|s| index.index_of(&s)))
        .collect();
    let known: Vec<u32> = resolved.iter().flatten().copied().collect();
    match cluster
        .0
        .listeners
        .score(&id, known, cluster.route_deadline())
        .await
    {
        Ok(scores) => {
            let mut scores = scores.into_iter();
            ScoreReply::Scored(
                resolved
                    .iter()
                    .map(|r| r.and_then(|_| scores.next().flatten()))
                    .collect(),
            )
        }
        Err(e) => ScoreReply::Unserved(e.to_string()),
    }
}
