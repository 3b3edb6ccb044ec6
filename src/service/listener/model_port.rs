//! The seam between a listener actor and the recommender (`crate::model`).
//!
//! The actor needs a few things from a model: fold a logged interaction into the
//! training input, prepare a fit (cheap, in the actor) and run it (CPU, on the
//! blocking pool), install the outcome, rank a feed, and go to and from snapshot
//! bytes. [`ModelPort`] wraps [`ListenerModel`] with exactly that surface.

use crate::catalog::{Catalog, SongId};
use crate::model::listener_model::mix;
use crate::model::ranked::{to_ranked, RankedItem};
use crate::model::social::FriendSignal;
use crate::model::{CatalogIndex, EngineKind, FitJob, ListenerModel};
use crate::store::{ListenerId, LoggedInteraction, Preferences};

/// A listener's model: training input, last applied log seq, fitted model.
pub struct ModelPort {
    model: ListenerModel,
    /// Feeds asked so far: varies the exploration seed between refreshes.
    feeds: u64,
}

/// A seed per listener that every node computes the same way.
fn listener_seed(id: &ListenerId) -> u64 {
    id.as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| mix(h, u64::from(b)))
}

impl ModelPort {
    pub fn new(id: &ListenerId, engine: EngineKind) -> Self {
        Self {
            model: ListenerModel::new(engine, listener_seed(id)),
            feeds: 0,
        }
    }

    /// Rebuilds from snapshot bytes; `None` (with the reason logged by the caller)
    /// when they do not decode — the caller then replays the whole log.
    pub fn from_snapshot(bytes: &[u8], index: &CatalogIndex) -> Result<Self, String> {
        ListenerModel::from_snapshot_bytes(bytes, index)
            .map(|model| Self { model, feeds: 0 })
            .map_err(|e| e.to_string())
    }

    pub fn snapshot_bytes(&self) -> Vec<u8> {
        self.model.to_snapshot_bytes()
    }

    /// Folds one logged interaction in; entries at or before `applied_seq` are ignored.
    pub fn apply(&mut self, logged: &LoggedInteraction) -> bool {
        self.model.apply(logged)
    }

    /// The last log seq folded in.
    pub fn applied_seq(&self) -> u64 {
        self.model.last_seq()
    }

    /// Rows of the training input (one per song, its latest signal).
    pub fn training_rows(&self, catalog: &Catalog) -> usize {
        self.model.training_input(catalog).len()
    }

    /// The fingerprint of what the log built: training input and listening history
    /// (see [`ListenerModel::input_digest`]).
    pub fn training_digest(&self, catalog: &Catalog) -> u64 {
        self.model.input_digest(catalog)
    }

    /// Songs of the training input, oldest first.
    pub fn training_songs(&self, catalog: &Catalog) -> Vec<SongId> {
        self.model
            .training_input(catalog)
            .into_iter()
            .map(|r| r.song_id)
            .collect()
    }

    pub fn needs_refit(&self) -> bool {
        self.model.needs_refit()
    }

    /// What a fit needs (cheap); run it with [`run_fit`] on the blocking pool.
    pub fn prepare_fit(&self, index: &CatalogIndex) -> FitJob {
        self.model.prepare_fit(index)
    }

    pub fn install(&mut self, outcome: crate::model::listener_model::FitOutcome) {
        self.model.install(outcome);
    }

    /// Rows the installed model was fitted on (0 in cold start).
    pub fn fitted_rows(&self) -> usize {
        self.model.fitted_rows().unwrap_or(0)
    }

    /// Ranks up to `limit` songs with the installed model (cold start without one),
    /// learning also from what the people the listener follows played (`friends`:
    /// only followees who share; empty = none).
    pub fn feed(
        &mut self,
        index: &CatalogIndex,
        prefs: &Preferences,
        limit: usize,
        friends: &[FriendSignal],
    ) -> Vec<RankedItem> {
        self.feeds += 1;
        let seed = mix(self.model.last_seq(), self.feeds);
        to_ranked(
            self.model
                .feed_with_friends(index, prefs, limit, seed, friends),
        )
    }
}

/// Latest songs (by their latest signal) a radio leaves out: just heard.
const RADIO_RECENT_EXCLUDED: usize = 20;

impl ModelPort {
    /// The listener's own scores for radio candidates (catalog indices): the model's
    /// (cold start without one); `None` for songs rejected lately or just heard, which
    /// a radio leaves out.
    pub fn radio_scores(
        &self,
        index: &CatalogIndex,
        prefs: &Preferences,
        songs: &[u32],
    ) -> Vec<Option<f32>> {
        let rows = self.model.training_input(index.catalog());
        let mut excluded = vec![false; index.len()];
        let recent_from = rows.len().saturating_sub(RADIO_RECENT_EXCLUDED);
        for (i, row) in rows.iter().enumerate() {
            if !row.positive || i >= recent_from {
                if let Some(s) = index.index_of(&row.song_id) {
                    excluded[s as usize] = true;
                }
            }
        }
        let seed = mix(self.model.last_seq(), self.feeds);
        let scores =
            self.model
                .score_songs(index, prefs, songs, crate::model::Ranking::Model, seed);
        songs
            .iter()
            .zip(scores)
            .map(|(&s, score)| {
                (!excluded.get(s as usize).copied().unwrap_or(true)).then_some(score)
            })
            .collect()
    }
}

/// The heavy part of a fit: pure CPU, call it on the blocking pool.
pub fn run_fit(job: FitJob, index: &CatalogIndex) -> crate::model::listener_model::FitOutcome {
    let started = std::time::Instant::now();
    let outcome = job.run(index);
    crate::telemetry::metrics::model_fit(started.elapsed());
    outcome
}
