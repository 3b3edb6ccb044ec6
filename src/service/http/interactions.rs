//! `POST /api/interactions`: one thing the signed-in listener did with a song.
//!
//! Validated here (id, song, kind, position, where the play started), then appended to the listener's log in
//! the store. The session is checked in the append's own store step
//! (`Store::append_checked`; on Redis the one `append.lua` call — one round trip and one
//! fsync wait per interaction instead of two): nothing is written for a session that does
//! not sign in, and such a request is answered 401 whatever else is wrong with it. The
//! append runs on the node that took the request (the owner actor is only told the log
//! grew), so no unchecked body ever goes to another node. Only once the append is
//! durable do we answer 2xx (201, or 200 with
//! `"duplicate": true` when the client id was seen before — a retry is a no-op). Then
//! the owner actor is told the log grew; that may fail, which is fine: the actor
//! catches up from the log by the last sequence number it applied.
//!
//! A finish or a like that was not logged before is also shared with the listener's
//! followers in the same durable step (`Store::append_and_share`; only if the
//! listener shares).
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
use super::session::{self, SessionKey};
use super::{ApiError, AppState};
use crate::catalog::SongId;
use crate::store::{
    now_ms, session_key_listener, ActivityEntry, Appended, CheckedAppend, ClientId, Interaction,
    InteractionKind, ListenerId, PlaylistId,
};

/// How far past a song's end a reported position may be (players report a little late).
const POSITION_SLACK_MS: u64 = 5_000;
/// Most interactions one playlist edit logs (a playlist made or replaced with many
/// songs at once says less per song, and must not eat the listener's rate limit).
pub const MAX_PLAYLIST_SIGNALS: usize = 20;

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
    /// "finished", "skipped", "liked" or "disliked". (Playlist edits are logged by
    /// the playlist endpoints themselves, never reported by a client.)
    #[schema(value_type = String, pattern = "^(finished|skipped|liked|disliked)$")]
    kind: ReportedKind,
    /// Where in the song it happened (default 0).
    #[serde(default)]
    position_ms: u64,
    /// Where the play was started: "feed", "search", "radio", "playlist", "library"
    /// or "queue" (default: unknown). A finish of a song started from a search is
    /// logged as `search_finished`, a stronger signal than a finish from the feed.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(feed|search|radio|playlist|library|queue)$")]
    source: Option<PlaySource>,
}

/// What a client may report: what happened while listening, and likes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportedKind {
    Finished,
    Skipped,
    Liked,
    Disliked,
}

/// Where a play was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaySource {
    Feed,
    Search,
    Radio,
    Playlist,
    Library,
    Queue,
}

/// The kind logged for what a client reported: a finish started from a search is a
/// `search_finished`; everything else is logged as reported.
pub fn logged_kind(kind: ReportedKind, source: Option<PlaySource>) -> InteractionKind {
    match (kind, source) {
        (ReportedKind::Finished, Some(PlaySource::Search)) => InteractionKind::SearchFinished,
        (ReportedKind::Finished, _) => InteractionKind::Finished,
        (ReportedKind::Skipped, _) => InteractionKind::Skipped,
        (ReportedKind::Liked, _) => InteractionKind::Liked,
        (ReportedKind::Disliked, _) => InteractionKind::Disliked,
    }
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
              (status = 400, description = "Malformed or invalid (id, an unknown kind or source, position past the song's end)", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "No such song", body = ErrorBody),
              (status = 413, description = "Body too large", body = ErrorBody),
              (status = 415, description = "Body not sent as JSON", body = ErrorBody),
              (status = 429, description = "Too many interactions from this listener this minute; not stored; retry with the same id after Retry-After", body = ErrorBody),
              (status = 503, description = "Not stored (the catalog is loading or the store is down); retry with the same id", body = ErrorBody)))]
#[tracing::instrument(name = "interaction", skip_all, fields(listener = tracing::field::Empty))]
async fn create(
    State(state): State<AppState>,
    SessionKey(key): SessionKey,
    body: Result<ApiJson<NewInteraction>, ApiError>,
) -> Result<Response, ApiError> {
    // A key that names its listener (every session since they do) is checked in the
    // append's own store step; an older one first, as every other handler does.
    let Some(listener) = session_key_listener(&key) else {
        let who = session::verify(&state, &key).await?;
        tracing::Span::current().record("listener", tracing::field::display(&who.id));
        let interaction = interaction(&state, body?.0)?;
        return answer(&interaction, record(&state, &who.id, &interaction).await);
    };
    tracing::Span::current().record("listener", tracing::field::display(&listener));
    // A request whose session does not sign in is answered 401 whatever else is wrong
    // with it, as when the session is checked before the body is read.
    let interaction = match body.and_then(|ApiJson(b)| interaction(&state, b)) {
        Ok(i) => i,
        Err(e) => {
            session::verify(&state, &key).await?;
            return Err(e);
        }
    };
    answer(
        &interaction,
        record_checked(&state, &key, &listener, &interaction).await,
    )
}

/// The interaction a valid request reports: 400 (or 404 for an unknown song, 503
/// while the catalog loads) otherwise.
fn interaction(state: &AppState, body: NewInteraction) -> Result<Interaction, ApiError> {
    let id = ClientId::parse(&body.id).map_err(|e| ApiError::invalid(e.to_string()))?;
    let catalog = loaded(state)?;
    let song = find(&catalog, &body.song_id)?;
    if body.position_ms > song.duration_ms + POSITION_SLACK_MS {
        return Err(ApiError::invalid(format!(
            "position_ms {} is past the song's end ({} ms)",
            body.position_ms, song.duration_ms
        )));
    }
    Ok(Interaction {
        id,
        song_id: song.id.clone(),
        kind: logged_kind(body.kind, body.source),
        position_ms: body.position_ms,
        at_ms: now_ms(),
    })
}

/// 201 (or 200 for a duplicate) once durable; the refusal's answer otherwise.
fn answer(
    interaction: &Interaction,
    recorded: Result<Appended, Refused>,
) -> Result<Response, ApiError> {
    let appended = match recorded {
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
    /// The store failed (nothing acknowledged; retry with the same id), or (only from
    /// a request whose session is checked with the append) the session does not sign
    /// in: 401.
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
        return Err(Refused::RateLimited(too_many(state, retry)));
    }
    // Finishes and likes go to the listener's activity for the people who follow them
    // (if the listener shares; see `activity`) in the same durable step as the append;
    // a retry (duplicate) was shared the first time.
    let appended = match shared_entry(interaction) {
        Some(entry) => state
            .store
            .append_and_share(listener, interaction, &entry)
            .await
            .map(|(a, _)| a),
        None => state.store.append_interaction(listener, interaction).await,
    };
    match appended {
        Ok(a) => Ok(acknowledged(state, listener, a)),
        Err(e) => {
            // Nothing stored: the retry should not pay twice.
            state.limits.interactions.release(&key);
            Err(Refused::Failed(e.into()))
        }
    }
}

/// [`record`] for a request whose session is checked in the append's own store step
/// (`Store::append_checked`: on Redis one script, one round trip): the session stored
/// under `session_key`, which names `listener`, must sign in, else nothing is written
/// and the answer is 401. The rate limit is counted before (as in [`record`]); an
/// over-limit request gets its 429 only once its session was checked (401 before
/// anything else).
async fn record_checked(
    state: &AppState,
    session_key: &str,
    listener: &ListenerId,
    interaction: &Interaction,
) -> Result<Appended, Refused> {
    let key = listener.to_string();
    if let Err(retry) = state.limits.interactions.reserve(&key) {
        session::verify(state, session_key)
            .await
            .map_err(Refused::Failed)?;
        return Err(Refused::RateLimited(too_many(state, retry)));
    }
    let share = shared_entry(interaction);
    let done = state
        .store
        .append_checked(session_key, interaction, share.as_ref())
        .await;
    match done {
        Ok(CheckedAppend {
            check,
            appended: Some((a, _)),
        }) => {
            let a = acknowledged(state, listener, a);
            if let Some(check) = check {
                session::refresh_if_due(state, check.session).await;
            }
            Ok(a)
        }
        Ok(CheckedAppend { check, .. }) => {
            state.limits.interactions.release(&key);
            Err(Refused::Failed(session::refused(check)))
        }
        Err(e) => {
            state.limits.interactions.release(&key);
            Err(Refused::Failed(e.into()))
        }
    }
}

/// The 429 answer for an interaction over the listener's per-minute limit (nothing is
/// written then; the client retries with the same id after `retry`).
fn too_many(state: &AppState, retry: std::time::Duration) -> Response {
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
    ([(header::RETRY_AFTER, secs.to_string())], e).into_response()
}

/// What a finish or a like shares with the listener's followers (see `activity`).
fn shared_entry(interaction: &Interaction) -> Option<ActivityEntry> {
    activity::shared_kind(interaction.kind).map(|kind| ActivityEntry {
        song_id: interaction.song_id.clone(),
        kind,
        at_ms: interaction.at_ms,
    })
}

/// After a durable append: the owner is told the log grew, and it is counted.
fn acknowledged(state: &AppState, listener: &ListenerId, appended: Appended) -> Appended {
    state.cluster.notify(listener);
    crate::telemetry::metrics::interaction_acknowledged();
    appended
}

/// Logs what a saved playlist edit says about its owner's taste, through [`record`]:
/// each song now in the playlist that was not before is `added_to_playlist`, each
/// song no longer in it at all is `removed_from_playlist` (a reorder, or one copy of
/// a song held twice, says nothing). At most [`MAX_PLAYLIST_SIGNALS`] per edit. The
/// ids are derived from the edit (playlist, time, song, kind), so one edit logs each
/// signal once. Never fails the edit, which is saved already: a refusal (rate limit,
/// store down) is logged and the rest of the edit's signals are dropped.
pub async fn record_playlist_edit(
    state: &AppState,
    listener: &ListenerId,
    playlist: &PlaylistId,
    before: &[SongId],
    after: &[SongId],
    at_ms: u64,
) {
    for (song, kind) in playlist_signals(before, after) {
        let Some(id) = playlist_signal_id(playlist, at_ms, &song, kind) else {
            continue;
        };
        let interaction = Interaction {
            id,
            song_id: song,
            kind,
            position_ms: 0,
            at_ms,
        };
        if let Err(e) = record(state, listener, &interaction).await {
            let why = match e {
                Refused::RateLimited(_) => "rate limited".to_owned(),
                Refused::Failed(e) => e.to_string(),
            };
            tracing::warn!(%listener, %playlist, why, "playlist edit not logged as a signal");
            return;
        }
    }
}

/// The signals of a playlist edit, songs in the order they appear (added first).
pub fn playlist_signals(before: &[SongId], after: &[SongId]) -> Vec<(SongId, InteractionKind)> {
    use std::collections::HashSet;
    let was: HashSet<&SongId> = before.iter().collect();
    let is: HashSet<&SongId> = after.iter().collect();
    let mut seen = HashSet::new();
    let added = after
        .iter()
        .filter(|s| !was.contains(s))
        .map(|s| (s, InteractionKind::AddedToPlaylist));
    let removed = before
        .iter()
        .filter(|s| !is.contains(s))
        .map(|s| (s, InteractionKind::RemovedFromPlaylist));
    added
        .chain(removed)
        .filter(|(s, _)| seen.insert(*s))
        .take(MAX_PLAYLIST_SIGNALS)
        .map(|(s, k)| (s.clone(), k))
        .collect()
}

/// `pl` + the edit's time + an FNV-1a hash of playlist, song and kind: 8–64 id chars.
fn playlist_signal_id(
    playlist: &PlaylistId,
    at_ms: u64,
    song: &SongId,
    kind: InteractionKind,
) -> Option<ClientId> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let kind_byte = [u8::from(kind == InteractionKind::AddedToPlaylist)];
    for part in [
        playlist.as_str().as_bytes(),
        &[0xff],
        song.as_str().as_bytes(),
        &[0xff],
        &kind_byte,
    ] {
        for b in part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    // 18 to 34 characters of [0-9a-z]: always a valid client id.
    ClientId::parse(&format!("pl{at_ms:x}{h:016x}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<SongId> {
        v.iter().map(|s| SongId::parse(s).unwrap()).collect()
    }

    #[test]
    fn playlist_edits_become_add_and_remove_signals() {
        let sig = playlist_signals(&ids(&["a", "b", "b"]), &ids(&["b", "c", "a"]));
        assert_eq!(
            sig,
            vec![(ids(&["c"])[0].clone(), InteractionKind::AddedToPlaylist)]
        );
        let sig = playlist_signals(&ids(&["a", "b", "b"]), &ids(&["b"]));
        assert_eq!(
            sig,
            vec![(ids(&["a"])[0].clone(), InteractionKind::RemovedFromPlaylist)]
        );
        // Reorders and a second copy say nothing.
        assert!(playlist_signals(&ids(&["a", "b"]), &ids(&["b", "a", "a"])).is_empty());
        let many: Vec<String> = (0..50).map(|i| format!("s{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            playlist_signals(&[], &ids(&many)).len(),
            MAX_PLAYLIST_SIGNALS
        );
    }

    #[test]
    fn search_finishes_are_their_own_kind() {
        use PlaySource::*;
        assert_eq!(
            logged_kind(ReportedKind::Finished, Some(Search)),
            InteractionKind::SearchFinished
        );
        assert_eq!(
            logged_kind(ReportedKind::Finished, Some(Feed)),
            InteractionKind::Finished
        );
        assert_eq!(
            logged_kind(ReportedKind::Skipped, Some(Search)),
            InteractionKind::Skipped
        );
        assert_eq!(
            logged_kind(ReportedKind::Finished, None),
            InteractionKind::Finished
        );
        let p = PlaylistId::parse("p1").unwrap();
        let s = SongId::parse("s1").unwrap();
        let a = playlist_signal_id(&p, 99, &s, InteractionKind::AddedToPlaylist);
        let r = playlist_signal_id(&p, 99, &s, InteractionKind::RemovedFromPlaylist);
        assert_ne!(a, r);
        assert_eq!(
            a,
            playlist_signal_id(&p, 99, &s, InteractionKind::AddedToPlaylist)
        );
    }
}
