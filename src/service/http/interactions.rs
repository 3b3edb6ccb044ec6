//! `POST /api/interactions`: one thing the signed-in listener did with a song.
//!
//! Validated here (id, song, kind, position), then appended to the listener's log in
//! the store; only once the append is durable do we answer 2xx (201, or 200 with
//! `"duplicate": true` when the client id was seen before — a retry is a no-op). Then
//! the owner actor is told the log grew; that may fail, which is fine: the actor
//! catches up from the log by the last sequence number it applied.
//!
//! A finish or a like that was not logged before is also shared with the listener's
//! followers (`activity::share`; only if the listener shares).
//!
//! Each listener may log `http_limits.interactions_per_minute` per node; beyond it the
//! answer is 429 with `Retry-After`, decided before anything is written (nothing is
//! acknowledged that was not made durable, and nothing refused is stored).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::activity;
use super::catalog::{find, loaded};
use super::edge::ApiJson;
use super::error::ErrorBody;
use super::session::CurrentListener;
use super::{ApiError, AppState};
use crate::store::{
    now_ms, ActivityKind, Appended, ClientId, Interaction, InteractionKind, ListenerId,
};

/// How far past a song's end a reported position may be (players report a little late).
const POSITION_SLACK_MS: u64 = 5_000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/interactions", post(create))
}

/// One interaction as the client reports it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInteraction {
    /// Made by the client, unique per listener (e.g. a UUID): sending the same id
    /// again is a no-op.
    id: String,
    song_id: String,
    /// "finished", "skipped", "liked" or "disliked".
    #[schema(value_type = String, pattern = "^(finished|skipped|liked|disliked)$")]
    kind: InteractionKind,
    /// Where in the song it happened (default 0).
    #[serde(default)]
    position_ms: u64,
}

/// The interaction is durable in the listener's log.
#[derive(Debug, Serialize, ToSchema)]
pub struct Acknowledged {
    id: String,
    /// Its position in the listener's log.
    seq: u64,
    /// True when this id was logged before (nothing new was written).
    duplicate: bool,
}

#[utoipa::path(post, path = "/api/interactions", tag = "feed", request_body = NewInteraction,
    responses((status = 201, description = "Logged durably", body = Acknowledged),
              (status = 200, description = "Logged before under this id; nothing new was written", body = Acknowledged),
              (status = 400, description = "Malformed or invalid (id, kind, position past the song's end)", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "No such song", body = ErrorBody),
              (status = 413, description = "Body too large", body = ErrorBody),
              (status = 415, description = "Body not sent as JSON", body = ErrorBody),
              (status = 429, description = "Too many interactions from this listener this minute; not stored; retry with the same id after Retry-After", body = ErrorBody),
              (status = 503, description = "Not stored (the catalog is loading or the store is down); retry with the same id", body = ErrorBody)))]
#[tracing::instrument(name = "interaction", skip_all, fields(listener = %who.id))]
async fn create(
    State(state): State<AppState>,
    who: CurrentListener,
    ApiJson(body): ApiJson<NewInteraction>,
) -> Result<Response, ApiError> {
    let id = ClientId::parse(&body.id).map_err(|e| ApiError::invalid(e.to_string()))?;
    let catalog = loaded(&state)?;
    let song = find(&catalog, &body.song_id)?;
    if body.position_ms > song.duration_ms + POSITION_SLACK_MS {
        return Err(ApiError::invalid(format!(
            "position_ms {} is past the song's end ({} ms)",
            body.position_ms, song.duration_ms
        )));
    }
    let interaction = Interaction {
        id,
        song_id: song.id.clone(),
        kind: body.kind,
        position_ms: body.position_ms,
        at_ms: now_ms(),
    };
    let appended = match record(&state, &who.id, &interaction).await {
        Ok(a) => a,
        Err(Refused::RateLimited(response)) => return Ok(response),
        Err(Refused::Failed(e)) => return Err(e),
    };
    let status = if appended.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(Acknowledged {
            id: interaction.id.to_string(),
            seq: appended.seq,
            duplicate: appended.duplicate,
        }),
    )
        .into_response())
}

/// Why [`record`] stored nothing.
#[derive(Debug)]
pub enum Refused {
    /// Over the listener's per-minute limit: the 429 answer, with `Retry-After`.
    RateLimited(Response),
    /// The store failed (nothing acknowledged; retry with the same id).
    Failed(ApiError),
}

/// The one path an interaction takes into the log, for the web app and for Subsonic
/// apps alike: counted against the listener's per-minute limit before anything is
/// written, appended durably (idempotent by client id), then the owner is told.
pub async fn record(
    state: &AppState,
    listener: &ListenerId,
    interaction: &Interaction,
) -> Result<Appended, Refused> {
    // Counted before anything is written: a refused interaction is not stored, and the
    // client retries it with the same id.
    let key = listener.to_string();
    if let Err(retry) = state.limits.interactions.reserve(&key) {
        let secs = retry.as_secs().max(1);
        let per_minute = state.settings.http_limits.interactions_per_minute;
        let e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "more than {per_minute} interactions this minute; nothing was stored — \
                 retry with the same id in {secs} s"
            ),
        );
        return Err(Refused::RateLimited(
            ([(header::RETRY_AFTER, secs.to_string())], e).into_response(),
        ));
    }
    match state.store.append_interaction(listener, interaction).await {
        Ok(a) => {
            state.cluster.notify(listener);
            crate::telemetry::metrics::interaction_acknowledged();
            if !a.duplicate {
                share_with_friends(state, listener, interaction).await;
            }
            Ok(a)
        }
        Err(e) => {
            // Nothing stored: the retry should not pay twice.
            state.limits.interactions.release(&key);
            Err(Refused::Failed(e.into()))
        }
    }
}

/// Finishes and likes go to the listener's activity for the people who follow them
/// (if the listener shares; see `activity`). A retry (duplicate) was shared the first
/// time.
async fn share_with_friends(state: &AppState, listener: &ListenerId, interaction: &Interaction) {
    let kind = match interaction.kind {
        InteractionKind::Finished => ActivityKind::Finished,
        InteractionKind::Liked => ActivityKind::Liked,
        _ => return,
    };
    activity::share(
        &state.store,
        listener,
        &interaction.song_id,
        kind,
        interaction.at_ms,
    )
    .await;
}
