//! A ranked feed entry as the rest of a node sees it (song, score, the reason in
//! words), and the degraded feed: what any node can rank for a listener without that
//! listener's actor (cold start: chosen genres and popularity, no model).

use super::{CatalogIndex, EngineKind, FeedItem, ListenerModel};
use crate::catalog::SongId;
use crate::store::Preferences;

/// The engine listener actors fit with: the histogram forest (milliseconds per fit).
/// The degraded feed is a cold-start feed: no model is fitted, so the engine is moot.
const DEGRADED_ENGINE: EngineKind = EngineKind::Histogram;

/// One ranked feed entry.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedItem {
    pub song_id: SongId,
    pub score: f32,
    pub reason: String,
}

/// The feed's items with their reasons in words.
pub fn to_ranked(items: Vec<FeedItem>) -> Vec<RankedItem> {
    items
        .into_iter()
        .map(|i| RankedItem {
            song_id: i.song_id,
            score: i.score,
            reason: i.reason.to_string(),
        })
        .collect()
}

/// The degraded feed: cold start (the listener's chosen genres and popularity), no
/// model — what a node can answer without the listener's actor.
pub fn degraded_feed(index: &CatalogIndex, prefs: &Preferences, limit: usize) -> Vec<RankedItem> {
    to_ranked(ListenerModel::new(DEGRADED_ENGINE, 0).feed(index, prefs, limit, 0))
}
