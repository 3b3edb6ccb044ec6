//! `GET /api/feed?limit=N`: the signed-in listener's feed, ranked by their own
//! listener actor wherever it lives, or a degraded one that says so.
//!
//! `{"items": [{"song": {...}, "score", "reason"}], "degraded": bool,
//!   "degraded_reason": str|null, "served_by": node_id, "ranked_by": node_id|null,
//!   "model": {"epoch", "applied_seq", "training_rows", "fitted_rows",
//!   "training_digest"}|null}`

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::catalog::{loaded, SongView};
use super::edge::ApiQuery;
use super::error::ErrorBody;
use super::session::CurrentListener;
use super::{ApiError, AppState};
use crate::cluster::routing::FeedError;
use crate::telemetry::metrics;

/// Items when the client does not ask.
const DEFAULT_LIMIT: usize = 20;
/// Most items one request may ask for: bounds ranking work and the reply size
/// (a feed also travels between nodes).
const MAX_LIMIT: usize = crate::cluster::wire::MAX_FEED_ITEMS;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/feed", get(feed))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Items to return (default 20, at most 100).
    limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedItem {
    song: SongView,
    score: f32,
    /// Why this song was chosen, for people.
    reason: String,
}

/// The listener model that ranked the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelView {
    epoch: u64,
    applied_seq: u64,
    training_rows: u64,
    fitted_rows: u64,
    /// Fingerprint of the training input, 16 hex digits (absent from an older owner).
    training_digest: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedResponse {
    items: Vec<FeedItem>,
    /// True when the listener's model could not be reached and this is a fallback.
    degraded: bool,
    /// Why the feed is degraded (null when it is not).
    degraded_reason: Option<String>,
    /// The node that answered.
    served_by: String,
    /// The node whose listener actor ranked the feed (null when degraded).
    ranked_by: Option<String>,
    model: Option<ModelView>,
}

#[utoipa::path(get, path = "/api/feed", tag = "feed", params(FeedQuery),
    responses((status = 200, body = FeedResponse),
              (status = 400, description = "limit out of range or not a number", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 503, description = "The catalog is still loading, or the store is down", body = ErrorBody)))]
#[tracing::instrument(name = "feed", skip_all, fields(listener = %who.id))]
async fn feed(
    State(state): State<AppState>,
    who: CurrentListener,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> Result<Json<FeedResponse>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be 1..={MAX_LIMIT}")));
    }
    let catalog = loaded(&state)?;
    let routed = state
        .cluster
        .feed(&who.id, limit)
        .await
        .map_err(|e| match e {
            FeedError::NotReady => {
                ApiError::unavailable("the catalog is still loading; retry in a few seconds")
            }
        })?;
    metrics::feed_served(match &routed.model {
        None => "degraded",
        Some(m) if m.fitted_rows == 0 => "cold",
        Some(_) => "personal",
    });
    let items = routed
        .items
        .into_iter()
        .filter_map(|i| {
            Some(FeedItem {
                song: SongView::from(catalog.get(&i.song_id)?),
                score: i.score,
                reason: i.reason,
            })
        })
        .collect();
    Ok(Json(FeedResponse {
        items,
        degraded: routed.degraded.is_some(),
        degraded_reason: routed.degraded,
        served_by: state.node_id.to_string(),
        ranked_by: routed.ranked_by.map(|n| n.to_string()),
        model: routed.model.map(|m| ModelView {
            epoch: m.epoch,
            applied_seq: m.applied_seq,
            training_rows: m.training_rows,
            fitted_rows: m.fitted_rows,
            training_digest: m.training_digest.map(|d| format!("{d:016x}")),
        }),
    }))
}
