//! What the calling listener has that apps show: stars (songs from the log's likes;
//! albums and artists, and un-starred songs, in app fields), plays from the log, the
//! saved play queue and what their apps play now.
//!
//! The interaction log stays the truth for songs: a star is a `liked` interaction
//! like the web app's heart. Un-starring is no dislike (the listener did like the song
//! then), so it is kept apart, as the time of the un-star: a song shows as starred
//! while its latest like is newer than its latest un-star.

use std::collections::{BTreeMap, HashMap};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::ctx::store_fail;
use super::envelope::Fail;
use crate::catalog::SongId;
use crate::http::library::read_range;
use crate::http::AppState;
use crate::store::{InteractionKind, ListenerId, LoggedInteraction};

/// The most log entries one request reads (the latest ones).
const MAX_LOG_SCAN: u64 = 20_000;

pub const STARRED_FIELD: &str = "starred";
pub const NOW_PLAYING_FIELD: &str = "now_playing";
pub const PLAY_QUEUE_FIELD: &str = "play_queue";

/// Albums and artists starred, and songs un-starred: id → ms.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Stars {
    #[serde(default)]
    pub albums: BTreeMap<String, u64>,
    #[serde(default)]
    pub artists: BTreeMap<String, u64>,
    #[serde(default)]
    pub unstarred_songs: BTreeMap<String, u64>,
}

/// What one of the listener's apps said it plays (the latest `scrobble submission=false`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NowPlaying {
    pub song: String,
    pub started_ms: u64,
    /// True once a finish (`submission=true`) for it came.
    pub finished: bool,
    pub player: String,
}

/// A saved play queue.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PlayQueue {
    pub songs: Vec<String>,
    pub current: Option<String>,
    pub position_ms: u64,
    pub changed_ms: u64,
    pub changed_by: String,
}

pub async fn field<T: DeserializeOwned>(
    state: &AppState,
    listener: &ListenerId,
    name: &str,
) -> Result<Option<T>, Fail> {
    let bytes = state
        .store
        .app_field(listener, name)
        .await
        .map_err(store_fail)?;
    // A field that no longer parses (an older shape) counts as unset.
    Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
}

pub async fn put_field<T: Serialize>(
    state: &AppState,
    listener: &ListenerId,
    name: &str,
    value: &T,
) -> Result<(), Fail> {
    let bytes = serde_json::to_vec(value).map_err(|e| Fail::generic(e.to_string()))?;
    state
        .store
        .put_app_field(listener, name, Some(&bytes))
        .await
        .map_err(store_fail)
}

/// The listener's latest log entries, oldest first.
pub async fn log(state: &AppState, listener: &ListenerId) -> Result<Vec<LoggedInteraction>, Fail> {
    let last = state.store.last_seq(listener).await.map_err(store_fail)?;
    read_range(
        &state.store,
        listener,
        last.saturating_sub(MAX_LOG_SCAN),
        last,
    )
    .await
    .map_err(Fail::from)
}

/// Songs starred now, with the time of the like.
pub fn starred_songs(log: &[LoggedInteraction], stars: &Stars) -> HashMap<SongId, u64> {
    let mut latest: HashMap<SongId, (bool, u64)> = HashMap::new();
    for e in log {
        let liked = match e.interaction.kind {
            InteractionKind::Liked => true,
            InteractionKind::Disliked => false,
            _ => continue,
        };
        latest.insert(e.interaction.song_id.clone(), (liked, e.interaction.at_ms));
    }
    latest
        .into_iter()
        .filter(|(id, (liked, at))| {
            *liked
                && stars
                    .unstarred_songs
                    .get(id.as_str())
                    .is_none_or(|un| un < at)
        })
        .map(|(id, (_, at))| (id, at))
        .collect()
}

/// Finished plays per song, and the time of each song's latest play.
pub fn plays(log: &[LoggedInteraction]) -> HashMap<SongId, (u64, u64)> {
    let mut out: HashMap<SongId, (u64, u64)> = HashMap::new();
    for e in log {
        if e.interaction.kind.is_finish() {
            let entry = out.entry(e.interaction.song_id.clone()).or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(e.interaction.at_ms);
        }
    }
    out
}
