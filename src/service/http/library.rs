//! The listener's own library, read from their interaction log (the log is the truth;
//! nothing here keeps state): `GET /api/likes` — songs whose latest like/dislike is a
//! like, newest first — and `GET /api/history` — the latest plays and skips.

use std::collections::HashMap;

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
use crate::catalog::SongId;
use crate::store::{InteractionKind, ListenerId, LoggedInteraction, SharedStore};

/// Log entries read per store call while scanning for likes.
const LOG_PAGE: usize = 1000;
/// The most log entries one likes request scans (newest win); a listener with a longer
/// log sees likes from this many of their latest interactions.
const MAX_LOG_SCAN: u64 = 50_000;
/// History entries when the client does not ask for a number.
const DEFAULT_HISTORY: usize = 50;
/// Most history entries one request may ask for.
const MAX_HISTORY: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/likes", get(likes))
        .route("/api/history", get(history))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LikedSong {
    #[schema(value_type = super::catalog::SongView)]
    pub song: SongView,
    pub liked_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Likes {
    pub songs: Vec<LikedSong>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryParams {
    /// Entries to return, newest first (default 50, at most 500).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub seq: u64,
    /// "finished", "skipped", "liked" or "disliked".
    pub kind: String,
    pub position_ms: u64,
    pub at_ms: u64,
    #[schema(value_type = super::catalog::SongView)]
    pub song: SongView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub items: Vec<HistoryEntry>,
}

#[utoipa::path(get, path = "/api/likes", tag = "library",
    responses((status = 200, body = Likes), (status = 401, description = "Not signed in", body = ErrorBody), (status = 503, description = "The catalog is still loading, or the store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn likes(
    State(state): State<AppState>,
    me: CurrentListener,
) -> Result<Json<Likes>, ApiError> {
    let catalog = loaded(&state)?;
    let last = state.store.last_seq(&me.id).await?;
    let entries = read_range(
        &state.store,
        &me.id,
        last.saturating_sub(MAX_LOG_SCAN),
        last,
    )
    .await?;
    let mut latest: HashMap<SongId, (u64, bool, u64)> = HashMap::new();
    for e in &entries {
        let liked = match e.interaction.kind {
            InteractionKind::Liked => true,
            InteractionKind::Disliked => false,
            _ => continue,
        };
        latest.insert(
            e.interaction.song_id.clone(),
            (e.seq, liked, e.interaction.at_ms),
        );
    }
    let mut liked: Vec<(u64, SongId, u64)> = latest
        .into_iter()
        .filter(|(_, (_, liked, _))| *liked)
        .map(|(id, (seq, _, at))| (seq, id, at))
        .collect();
    liked.sort_by_key(|l| std::cmp::Reverse(l.0));
    let songs = liked
        .into_iter()
        .filter_map(|(_, id, at)| {
            catalog.get(&id).map(|s| LikedSong {
                song: SongView::from(s),
                liked_ms: at,
            })
        })
        .collect();
    Ok(Json(Likes { songs }))
}

#[utoipa::path(get, path = "/api/history", tag = "library", params(HistoryParams),
    responses((status = 200, body = History),
              (status = 400, description = "limit out of range or not a number", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody), (status = 503, description = "The catalog is still loading, or the store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn history(
    State(state): State<AppState>,
    me: CurrentListener,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> Result<Json<History>, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_HISTORY);
    if !(1..=MAX_HISTORY).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be 1-{MAX_HISTORY}")));
    }
    let catalog = loaded(&state)?;
    let last = state.store.last_seq(&me.id).await?;
    let entries = read_range(
        &state.store,
        &me.id,
        last.saturating_sub(limit as u64),
        last,
    )
    .await?;
    let items = entries
        .into_iter()
        .rev()
        .filter_map(|e| {
            let song = catalog.get(&e.interaction.song_id)?;
            Some(HistoryEntry {
                seq: e.seq,
                kind: kind_name(e.interaction.kind).to_owned(),
                position_ms: e.interaction.position_ms,
                at_ms: e.interaction.at_ms,
                song: SongView::from(song),
            })
        })
        .collect();
    Ok(Json(History { items }))
}

fn kind_name(kind: InteractionKind) -> &'static str {
    match kind {
        InteractionKind::Finished => "finished",
        InteractionKind::Skipped => "skipped",
        InteractionKind::Liked => "liked",
        InteractionKind::Disliked => "disliked",
        InteractionKind::AddedToPlaylist => "added_to_playlist",
        InteractionKind::RemovedFromPlaylist => "removed_from_playlist",
        InteractionKind::SearchFinished => "search_finished",
    }
}

/// Entries with `after < seq <= until`, oldest first, in pages (also read by `subsonic`).
pub async fn read_range(
    store: &SharedStore,
    listener: &ListenerId,
    after: u64,
    until: u64,
) -> Result<Vec<LoggedInteraction>, ApiError> {
    let mut out = Vec::new();
    let mut cursor = after;
    while cursor < until {
        let page = store.read_interactions(listener, cursor, LOG_PAGE).await?;
        let Some(last) = page.last().map(|e| e.seq) else {
            break;
        };
        out.extend(page.into_iter().filter(|e| e.seq <= until));
        if last <= cursor {
            break; // a store that does not advance would loop forever
        }
        cursor = last;
    }
    Ok(out)
}
