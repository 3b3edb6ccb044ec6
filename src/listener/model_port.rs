//! The seam between a listener actor and the recommender (`crate::model`).
//!
//! The actor needs a few things from a model: fold a logged interaction into the
//! training input, prepare a fit (cheap, in the actor) and run it (CPU, on the
//! blocking pool), install the outcome, rank a feed, and go to and from snapshot
//! bytes. [`ModelPort`] wraps [`ListenerModel`] with exactly that surface, and
//! [`IndexCache`] keeps the node's one [`CatalogIndex`] (features quantized, song
//! neighbours) shared by every listener, rebuilt only when the catalog changes.

use std::sync::{Arc, Mutex};

use crate::catalog::{Catalog, SongId};
use crate::http::CatalogHandle;
use crate::model::listener_model::mix;
use crate::model::{CatalogIndex, EngineKind, FitJob, ListenerModel};
use crate::store::{ListenerId, LoggedInteraction, Preferences};

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

/// A catalog and the index built from it.
type BuiltIndex = (Arc<Catalog>, Arc<CatalogIndex>);

/// The node's catalog index, built once per loaded catalog and shared.
#[derive(Clone, Default)]
pub struct IndexCache {
    catalog: CatalogHandle,
    built: Arc<Mutex<Option<BuiltIndex>>>,
}

impl IndexCache {
    pub fn new(catalog: CatalogHandle) -> Self {
        Self {
            catalog,
            built: Arc::default(),
        }
    }

    /// The index of the loaded catalog (`None` until one is loaded). The first call
    /// after a catalog is published builds it (milliseconds for thousands of songs).
    pub fn get(&self) -> Option<Arc<CatalogIndex>> {
        let catalog = self.catalog.get()?;
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        match &*built {
            Some((c, index)) if Arc::ptr_eq(c, &catalog) => Some(index.clone()),
            _ => {
                let index = Arc::new(CatalogIndex::build(catalog.clone()));
                *built = Some((catalog, index.clone()));
                Some(index)
            }
        }
    }
}

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

    /// The fingerprint of the training input (see [`crate::model::labels::digest`]).
    pub fn training_digest(&self, catalog: &Catalog) -> u64 {
        crate::model::labels::digest(&self.model.training_input(catalog))
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

    /// Ranks up to `limit` songs with the installed model (cold start without one).
    pub fn feed(
        &mut self,
        index: &CatalogIndex,
        prefs: &Preferences,
        limit: usize,
    ) -> Vec<RankedItem> {
        self.feeds += 1;
        let seed = mix(self.model.last_seq(), self.feeds);
        to_ranked(self.model.feed(index, prefs, limit, seed))
    }
}

/// The heavy part of a fit: pure CPU, call it on the blocking pool.
pub fn run_fit(job: FitJob, index: &CatalogIndex) -> crate::model::listener_model::FitOutcome {
    job.run(index)
}

fn to_ranked(items: Vec<crate::model::FeedItem>) -> Vec<RankedItem> {
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
