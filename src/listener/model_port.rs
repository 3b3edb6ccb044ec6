//! The seam between a listener actor and the recommender.
//!
//! The actor only needs five things from a model: fold one logged interaction into
//! the training input, refit (off the async runtime), rank a feed, serialize itself
//! into snapshot bytes and come back from them. [`ModelPort`] is that surface. Until
//! the real per-listener model (`crate::model`) is merged, it is backed by a trivial
//! placeholder — "popular songs in the genres this listener likes" — which exists
//! only so the actor path can be built and tested end to end; swapping in the real
//! model means changing the bodies in this file and nothing in the actor.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, SongId};
use crate::store::{InteractionKind, LoggedInteraction, Preferences};

/// How many recent plays the feed avoids repeating (placeholder ranking).
const RECENT_PLAYS: usize = 20;

/// One ranked feed entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedItem {
    pub song_id: SongId,
    pub score: f32,
    pub reason: String,
}

/// One row of training input: what the listener did, and where it sits in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRow {
    pub seq: u64,
    pub song_id: SongId,
    pub kind: InteractionKind,
    pub position_ms: u64,
}

/// A fitted model: immutable once built, shared with `Arc` so the actor keeps
/// answering with the previous one while the next fit runs.
#[derive(Debug, Default)]
pub struct Fitted {
    /// Placeholder: net preference per genre (+1 finished/liked, -1 skipped/disliked).
    genre_weight: HashMap<String, f32>,
    /// How many rows it was fitted on.
    pub rows: usize,
}

/// A listener's training input and its current fitted model.
#[derive(Debug, Default)]
pub struct ModelPort {
    rows: Vec<TrainingRow>,
    fitted: Arc<Fitted>,
}

#[derive(Debug, thiserror::Error)]
#[error("snapshot bytes could not be decoded: {0}")]
pub struct SnapshotDecodeError(String);

impl ModelPort {
    /// Folds one logged interaction into the training input (not yet into the model).
    pub fn apply(&mut self, logged: &LoggedInteraction) {
        self.rows.push(TrainingRow {
            seq: logged.seq,
            song_id: logged.interaction.song_id.clone(),
            kind: logged.interaction.kind,
            position_ms: logged.interaction.position_ms,
        });
    }

    /// The training input, oldest first.
    pub fn training_input(&self) -> &[TrainingRow] {
        &self.rows
    }

    /// A copy of the training input for a fit on the blocking pool.
    pub fn fit_input(&self) -> Vec<TrainingRow> {
        self.rows.clone()
    }

    /// Fits a model from `rows`: CPU work, run it on the blocking pool.
    pub fn fit(rows: &[TrainingRow], catalog: &Catalog) -> Fitted {
        let mut genre_weight: HashMap<String, f32> = HashMap::new();
        for row in rows {
            let Some(song) = catalog.get(&row.song_id) else {
                continue;
            };
            let w = match row.kind {
                InteractionKind::Finished | InteractionKind::Liked => 1.0,
                InteractionKind::Skipped | InteractionKind::Disliked => -1.0,
            };
            *genre_weight.entry(song.genre.clone()).or_default() += w;
        }
        Fitted {
            genre_weight,
            rows: rows.len(),
        }
    }

    /// Installs a freshly fitted model.
    pub fn install(&mut self, fitted: Fitted) {
        self.fitted = Arc::new(fitted);
    }

    /// Rows the current model was fitted on.
    pub fn fitted_rows(&self) -> usize {
        self.fitted.rows
    }

    /// Ranks up to `limit` songs with the current model.
    pub fn feed(&self, catalog: &Catalog, prefs: &Preferences, limit: usize) -> Vec<RankedItem> {
        let recent: Vec<&SongId> = self
            .rows
            .iter()
            .rev()
            .take(RECENT_PLAYS)
            .map(|r| &r.song_id)
            .collect();
        let mut scored: Vec<RankedItem> = catalog
            .songs()
            .iter()
            .filter(|s| !recent.contains(&&s.id))
            .map(|s| {
                let learned = self
                    .fitted
                    .genre_weight
                    .get(&s.genre)
                    .copied()
                    .unwrap_or(0.0);
                let chosen = if prefs.genres.contains(&s.genre) {
                    1.0
                } else {
                    0.0
                };
                let score = learned.tanh() + chosen + s.popularity;
                let reason = if learned > 0.0 {
                    "you finish songs like this"
                } else if chosen > 0.0 {
                    "in a genre you picked"
                } else {
                    "popular"
                };
                RankedItem {
                    song_id: s.id.clone(),
                    score,
                    reason: reason.to_owned(),
                }
            })
            .collect();
        scored.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.song_id.cmp(&b.song_id))
        });
        scored.truncate(limit);
        scored
    }

    /// Serializes the training input (the placeholder's whole state) for a snapshot.
    pub fn snapshot_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.rows).unwrap_or_default()
    }

    /// Rebuilds from snapshot bytes; the caller refits.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Self, SnapshotDecodeError> {
        let rows: Vec<TrainingRow> =
            serde_json::from_slice(bytes).map_err(|e| SnapshotDecodeError(e.to_string()))?;
        Ok(Self {
            rows,
            fitted: Arc::default(),
        })
    }
}

/// The degraded feed: popular songs in the listener's chosen genres, no model.
pub fn degraded_feed(catalog: &Catalog, prefs: &Preferences, limit: usize) -> Vec<RankedItem> {
    ModelPort::default().feed(catalog, prefs, limit)
}
