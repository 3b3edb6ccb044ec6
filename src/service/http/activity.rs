//! Friend activity (issue 17): what the people you follow play, finish and like.
//!
//! - Written: [`share`] adds an entry to the listener's own capped list in the store
//!   when an interaction is acknowledged (`interactions::record`: finished, liked; the
//!   web app and Subsonic scrobbles alike) and on a "now playing" signal
//!   (`POST /api/me/now-playing` from the web player, a Subsonic scrobble with
//!   `submission=false`). The store records nothing while the listener does not share
//!   or runs a private session (checked atomically with the write).
//! - Read: [`friend_activity`] merges the followees' own lists when asked — a
//!   read-time merge, never a copy per follower — so a listener followed by thousands
//!   pays one list push per song, and a reader pays at most [`MAX_FOLLOWEES_READ`]
//!   bounded list reads (the most recently followed), each one slot of the store.
//!   What the followee does not share, or shares with everyone but a viewer they
//!   blocked, is filtered in the same store read (`Store::visible_activity`).
//! - `GET /api/activity`: the merged list, newest first.
//! - `GET /api/activity/stream`: the same, live, as server-sent events. The handler
//!   polls the merge every [`POLL_EVERY`] and sends what is newer than what it sent.
//!   Why polling the store rather than pushing from the writer: the writer of a
//!   friend's entry can be any node, and the reader's stream can be on any node (the
//!   load balancer picks; a reconnect may land elsewhere). Polling the store — the
//!   one place every node shares — needs no fan-out between nodes, no subscription
//!   that a node's death can lose, and works the same on the embedded store. Its
//!   cost is bounded: one merge (≤ [`MAX_FOLLOWEES_READ`] small reads) per open
//!   stream per [`POLL_EVERY`], and an entry shows up within that interval plus a
//!   read. Each event's id is the entry's time, so the browser's `EventSource`, which
//!   reconnects by itself with `Last-Event-ID`, resumes where it was — on whichever
//!   node it reaches. A stream ends after [`STREAM_LIFETIME`] (the browser reconnects,
//!   and the session is checked again), and as soon as its session ends: each poll
//!   first checks that the session still exists with the account's session epoch, so
//!   a logout (or "log out everywhere", or a new password) on any node ends the stream
//!   within one [`POLL_EVERY`] plus a read, and the browser's reconnect gets 401.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::stream::{self, Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::catalog::{find, loaded, SongView};
use super::edge::{ApiJson, ApiQuery};
use super::error::ErrorBody;
use super::session::{self, hash_token, session_token, Checked, CurrentListener};
use super::social::UserView;
use super::time::iso_time;
use super::{ApiError, AppState};
use crate::catalog::{Catalog, SongId};
use crate::store::{now_ms, ActivityEntry, ActivityKind, InteractionKind, ListenerId, SharedStore};

/// The most followees one merge reads (the most recently followed): bounds a read for
/// someone who follows thousands.
pub const MAX_FOLLOWEES_READ: usize = 200;
/// Followees read at once during a merge.
const READ_CONCURRENCY: usize = 16;
/// Items `GET /api/activity` returns unless asked.
const DEFAULT_LIMIT: usize = 50;
/// The most items one request may ask for.
const MAX_LIMIT: usize = 200;
/// How often an open stream looks for new entries: the "within 2 s" of the issue
/// with room for a slow read.
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// Entries one poll of a stream reads: more new entries than this within one poll
/// interval are sent as the newest this many.
const POLL_LIMIT: usize = 50;
/// How long one stream stays open before the browser is made to reconnect.
const STREAM_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// A comment line this often keeps proxies and the node's idle timeout from closing
/// a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/activity", get(list))
        .route("/api/me/now-playing", post(now_playing))
}

/// The live stream, kept apart: it is exempt from the request timeout.
pub fn stream_routes() -> Router<AppState> {
    Router::new().route("/api/activity/stream", get(live))
}

/// Records that `listener` did `kind` with `song` at `at_ms`, if their privacy lets it
/// be shared; true when recorded. Failures are logged, not returned: the interaction
/// it rides on is already acknowledged, and a missing activity entry only hides one
/// What of an interaction the listener's followers see: finishes (from anywhere) and
/// likes; nothing else is shared.
pub fn shared_kind(kind: InteractionKind) -> Option<ActivityKind> {
    match kind {
        InteractionKind::Finished | InteractionKind::SearchFinished => Some(ActivityKind::Finished),
        InteractionKind::Liked => Some(ActivityKind::Liked),
        _ => None,
    }
}

/// song from friends.
pub async fn share(
    store: &SharedStore,
    listener: &ListenerId,
    song_id: &SongId,
    kind: ActivityKind,
    at_ms: u64,
) -> bool {
    let entry = ActivityEntry {
        song_id: song_id.clone(),
        kind,
        at_ms,
    };
    match store.push_activity(listener, &entry).await {
        Ok(recorded) => recorded,
        Err(e) => {
            tracing::warn!(error = %e, %listener, "activity entry not recorded");
            false
        }
    }
}

/// The newest entries, at most `limit`, of the people `me` follows, as `me` may see
/// them, newest first.
pub async fn friend_activity(
    store: &SharedStore,
    me: &ListenerId,
    limit: usize,
) -> Result<Vec<(ListenerId, ActivityEntry)>, ApiError> {
    let followees = store.following(me, MAX_FOLLOWEES_READ).await?;
    let lists: Vec<(ListenerId, Vec<ActivityEntry>)> = stream::iter(followees)
        .map(|f| async move {
            let entries = store.visible_activity(&f, me, limit).await?;
            Ok::<_, ApiError>((f, entries))
        })
        .buffered(READ_CONCURRENCY)
        .try_collect()
        .await?;
    let mut all: Vec<(ListenerId, ActivityEntry)> = lists
        .into_iter()
        .flat_map(|(f, entries)| entries.into_iter().map(move |e| (f.clone(), e)))
        .collect();
    all.sort_by(|a, b| b.1.at_ms.cmp(&a.1.at_ms).then_with(|| a.0.cmp(&b.0)));
    all.truncate(limit);
    Ok(all)
}

/// One friend's entry as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivityItem {
    pub user: UserView,
    #[schema(value_type = super::catalog::SongView)]
    pub song: SongView,
    /// "playing", "finished" or "liked".
    #[schema(value_type = String, pattern = "^(playing|finished|liked)$")]
    pub kind: ActivityKind,
    /// When (RFC 3339).
    pub at: String,
    /// The same time in ms since the Unix epoch.
    pub at_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityFeed {
    pub items: Vec<ActivityItem>,
}

/// Display names of listeners, looked up once per request or stream.
#[derive(Default)]
struct Names(HashMap<ListenerId, Option<UserView>>);

impl Names {
    /// The listener as others see them; `None` when the account is gone (remembered).
    /// A store error is not remembered: the caller asks again later.
    async fn of(
        &mut self,
        store: &SharedStore,
        id: &ListenerId,
    ) -> Result<Option<UserView>, ApiError> {
        if let Some(known) = self.0.get(id) {
            return Ok(known.clone());
        }
        let found = match store.account(id).await? {
            Some(a) => Some(UserView::of(store, &a).await?),
            None => None,
        };
        self.0.insert(id.clone(), found.clone());
        Ok(found)
    }
}

/// The entries as items, oldest or newest first as given. Entries of songs no longer in
/// the catalog or of accounts that are gone are left out; a store error fails the whole
/// batch, so a stream can send it again whole on its next poll.
async fn items(
    store: &SharedStore,
    catalog: &Catalog,
    names: &mut Names,
    entries: &[(ListenerId, ActivityEntry)],
) -> Result<Vec<ActivityItem>, ApiError> {
    let mut out = Vec::with_capacity(entries.len());
    for (who, e) in entries {
        let Some(song) = catalog.get(&e.song_id) else {
            continue;
        };
        let Some(user) = names.of(store, who).await? else {
            continue;
        };
        out.push(ActivityItem {
            user,
            song: SongView::from(song),
            kind: e.kind,
            at: iso_time(e.at_ms),
            at_ms: e.at_ms,
        });
    }
    Ok(out)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ActivityParams {
    /// Items to return, newest first (default 50, at most 200).
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/activity", tag = "social", params(ActivityParams),
    responses((status = 200, description = "What the people you follow played, finished and liked, newest first", body = ActivityFeed),
              (status = 400, description = "limit out of range or not a number", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 503, description = "The catalog is still loading, or the store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn list(
    State(state): State<AppState>,
    me: CurrentListener,
    ApiQuery(params): ApiQuery<ActivityParams>,
) -> Result<Json<ActivityFeed>, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be 1-{MAX_LIMIT}")));
    }
    let catalog = loaded(&state)?;
    let entries = friend_activity(&state.store, &me.id, limit).await?;
    let items = items(&state.store, &catalog, &mut Names::default(), &entries).await?;
    Ok(Json(ActivityFeed { items }))
}

/// What the web player starts playing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NowPlayingInput {
    pub song_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NowPlayingAck {
    /// Whether friends will see it (false while not sharing or in a private session).
    pub shared: bool,
}

#[utoipa::path(post, path = "/api/me/now-playing", tag = "social", request_body = NowPlayingInput,
    responses((status = 200, description = "Noted; shared with followers if your privacy allows", body = NowPlayingAck),
              (status = 400, description = "Malformed body or song id", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "No such song", body = ErrorBody),
              (status = 413, description = "Body too large", body = ErrorBody),
              (status = 415, description = "Body not sent as JSON", body = ErrorBody),
              (status = 503, description = "The catalog is still loading", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn now_playing(
    State(state): State<AppState>,
    me: CurrentListener,
    ApiJson(body): ApiJson<NowPlayingInput>,
) -> Result<Json<NowPlayingAck>, ApiError> {
    let catalog = loaded(&state)?;
    let song = find(&catalog, &body.song_id)?;
    let shared = share(
        &state.store,
        &me.id,
        &song.id,
        ActivityKind::Playing,
        now_ms(),
    )
    .await;
    Ok(Json(NowPlayingAck { shared }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StreamParams {
    /// Send only entries newer than this (ms since the Unix epoch; default: now). The
    /// browser's `Last-Event-ID` on a reconnect wins when it is later.
    pub after: Option<u64>,
}

/// What a stream has sent so far.
struct Cursor {
    /// The newest entry time sent.
    at_ms: u64,
    /// Entries sent with exactly that time (two friends in one millisecond).
    sent_at: HashSet<(ListenerId, SongId, ActivityKind)>,
}

impl Cursor {
    /// The entries not sent yet, oldest first. The cursor stays where it is until
    /// [`Cursor::sent`] says they went out.
    fn unsent(
        &self,
        entries: Vec<(ListenerId, ActivityEntry)>,
    ) -> Vec<(ListenerId, ActivityEntry)> {
        let mut new: Vec<_> = entries
            .into_iter()
            .filter(|(who, e)| {
                // A fresh cursor's time is exclusive (the stream starts after it); once
                // it moved, its own millisecond may still hold entries not sent yet.
                e.at_ms > self.at_ms
                    || (e.at_ms == self.at_ms
                        && !self.sent_at.is_empty()
                        && !self
                            .sent_at
                            .contains(&(who.clone(), e.song_id.clone(), e.kind)))
            })
            .collect();
        new.reverse();
        new
    }

    /// Moves the cursor past these entries (oldest first), which were sent.
    fn sent(&mut self, entries: &[(ListenerId, ActivityEntry)]) {
        for (who, e) in entries {
            if e.at_ms > self.at_ms {
                self.at_ms = e.at_ms;
                self.sent_at.clear();
            }
            self.sent_at
                .insert((who.clone(), e.song_id.clone(), e.kind));
        }
    }
}

/// One open stream's state between polls.
struct Live {
    state: AppState,
    me: ListenerId,
    /// The hash of the stream's session token (checked before each poll).
    session: String,
    cursor: Cursor,
    names: Names,
    ends: tokio::time::Instant,
    tick: tokio::time::Interval,
}

impl Live {
    /// False once the stream's session has ended (logged out, here or on any node; all
    /// sessions voided). A store that cannot answer keeps the stream open: the next
    /// poll asks again.
    async fn session_lives(&self) -> bool {
        match session::check(&self.state, &self.session).await {
            Ok(Checked::Valid { session, .. }) => session.listener == self.me,
            Ok(Checked::Ended(why)) => {
                tracing::debug!(?why, "the session ended; ending its activity stream");
                false
            }
            // The store is down: the stream lives on and asks again at the next poll.
            Err(_) => true,
        }
    }

    /// Waits for the next poll and returns its events (none is fine); `None` once the
    /// stream's lifetime is over.
    async fn next(&mut self) -> Option<Vec<Event>> {
        self.tick.tick().await;
        if tokio::time::Instant::now() >= self.ends || !self.session_lives().await {
            return None;
        }
        let Some(catalog) = self.state.catalog.get() else {
            return Some(Vec::new());
        };
        let store = &self.state.store;
        let entries = match friend_activity(store, &self.me, POLL_LIMIT).await {
            Ok(e) => e,
            Err(e) => {
                tracing::debug!(error = %e, "activity poll failed; trying again");
                return Some(Vec::new());
            }
        };
        let new = self.cursor.unsent(entries);
        let items = match items(store, &catalog, &mut self.names, &new).await {
            Ok(items) => items,
            Err(e) => {
                // The cursor stays: the next poll sends these entries again, whole.
                tracing::debug!(error = %e, "activity names could not be read; trying again");
                return Some(Vec::new());
            }
        };
        self.cursor.sent(&new);
        Some(
            items
                .iter()
                .filter_map(|item| {
                    Event::default()
                        .event("activity")
                        .id(item.at_ms.to_string())
                        .json_data(item)
                        .ok()
                })
                .collect(),
        )
    }
}

#[utoipa::path(get, path = "/api/activity/stream", tag = "social", params(StreamParams),
    responses((status = 200, description = "Server-sent events: `activity` events (data: an ActivityItem as JSON, id: its time in ms), newest friend activity as it happens; the stream ends after a few minutes (EventSource reconnects) or within a second of its session ending (logout)", content_type = "text/event-stream", body = String),
              (status = 400, description = "after is not a number", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn live(
    State(state): State<AppState>,
    me: CurrentListener,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<StreamParams>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let after = match (params.after, resumed) {
        // From this millisecond on: the cursor is exclusive, and a friend's song may
        // start in the very millisecond the stream opened.
        (None, None) => now_ms().saturating_sub(1),
        (a, r) => a.unwrap_or(0).max(r.unwrap_or(0)),
    };
    // The extractor found a session in these headers; an empty hash would match none.
    let session = session_token(&headers)
        .map(|t| hash_token(&t))
        .unwrap_or_default();
    let mut tick = tokio::time::interval(POLL_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let live = Live {
        state,
        me: me.id,
        session,
        cursor: Cursor {
            at_ms: after,
            sent_at: HashSet::new(),
        },
        names: Names::default(),
        ends: tokio::time::Instant::now() + STREAM_LIFETIME,
        tick,
    };
    let events = stream::unfold(live, |mut live| async move {
        let batch = live.next().await?;
        Some((stream::iter(batch.into_iter().map(Ok)), live))
    })
    .flatten();
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(who: &str, song: &str, at_ms: u64) -> (ListenerId, ActivityEntry) {
        (
            ListenerId::parse(who).unwrap(),
            ActivityEntry {
                song_id: SongId::parse(song).unwrap(),
                kind: ActivityKind::Playing,
                at_ms,
            },
        )
    }

    /// What a stream sends from these entries when it can send them.
    fn take_new(
        c: &mut Cursor,
        entries: Vec<(ListenerId, ActivityEntry)>,
    ) -> Vec<(ListenerId, ActivityEntry)> {
        let new = c.unsent(entries);
        c.sent(&new);
        new
    }

    #[test]
    fn a_cursor_sends_each_entry_once_oldest_first_even_within_one_ms() {
        let mut c = Cursor {
            at_ms: 100,
            sent_at: HashSet::new(),
        };
        let first = take_new(
            &mut c,
            vec![e("b", "s2", 102), e("a", "s1", 101), e("a", "s0", 100)],
        );
        assert_eq!(first, vec![e("a", "s1", 101), e("b", "s2", 102)]);
        assert!(take_new(&mut c, vec![e("b", "s2", 102), e("a", "s1", 101)]).is_empty());
        let same_ms = take_new(&mut c, vec![e("c", "s3", 102), e("b", "s2", 102)]);
        assert_eq!(same_ms, vec![e("c", "s3", 102)]);
        assert!(take_new(&mut c, vec![e("c", "s3", 102), e("b", "s2", 102)]).is_empty());
    }

    #[test]
    fn entries_a_stream_could_not_send_are_offered_again() {
        let mut c = Cursor {
            at_ms: 100,
            sent_at: HashSet::new(),
        };
        let batch = vec![e("b", "s2", 102), e("a", "s1", 101)];
        let offered = c.unsent(batch.clone());
        assert_eq!(offered, vec![e("a", "s1", 101), e("b", "s2", 102)]);
        // Not sent (a friend's name could not be read): the next poll offers them again.
        assert_eq!(c.unsent(batch.clone()), offered);
        c.sent(&offered);
        assert!(c.unsent(batch).is_empty());
    }
}
