//! `POST /api/interactions`: one thing the signed-in listener did with a song.
//!
//! Validated here (id, song, kind, position), then appended to the listener's log in
//! the store; only once the append is durable do we answer 2xx (201, or 200 with
//! `"duplicate": true` when the client id was seen before — a retry is a no-op). Then
//! the owner actor is told the log grew; that may fail, which is fine: the actor
//! catches up from the log by the last sequence number it applied.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::catalog::{find, loaded};
use super::session::CurrentListener;
use super::{ApiError, AppState};
use crate::store::{now_ms, ClientId, Interaction, InteractionKind};

/// How far past a song's end a reported position may be (players report a little late).
const POSITION_SLACK_MS: u64 = 5_000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/interactions", post(create))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    id: String,
    song_id: String,
    kind: InteractionKind,
    #[serde(default)]
    position_ms: u64,
}

#[derive(Debug, Serialize)]
struct Created {
    id: String,
    seq: u64,
    duplicate: bool,
}

#[tracing::instrument(name = "interaction", skip_all, fields(listener = %who.id))]
async fn create(
    State(state): State<AppState>,
    who: CurrentListener,
    body: Result<Json<Body>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let Json(body) = body.map_err(|e| ApiError::invalid(e.body_text()))?;
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
    let appended = state
        .store
        .append_interaction(&who.id, &interaction)
        .await?;
    state.cluster.notify(&who.id);
    let status = if appended.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(Created {
            id: interaction.id.to_string(),
            seq: appended.seq,
            duplicate: appended.duplicate,
        }),
    ))
}
