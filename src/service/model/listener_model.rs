//! [`ListenerModel`]: everything a listener actor keeps to recommend: the training
//! set built from the interaction log, the last log seq applied, the songs just
//! played, and the fitted model.
//!
//! Life cycle, as the actor drives it:
//!
//! ```text
//! from_snapshot_bytes (or new) ─▶ apply(entry) for each log entry after last_seq()
//!        ▲                               │ (debounced)
//!        │                    prepare_fit() ─▶ FitJob::run() on a blocking pool
//! to_snapshot_bytes()                    │
//!        └──────────── install(outcome) ◀┘          feed(...) at any time
//! ```
//!
//! Everything is deterministic: the same log applied to a new model gives the same
//! training input ([`ListenerModel::training_input`]) and, for the same seed, the same
//! fitted model. While the labels are too few or of one class the feed is cold start
//! (chosen genres and popularity); the model takes over at the first fit that works.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

use super::catalog_index::CatalogIndex;
use super::classifier::{LabeledRow, ModelError};
use super::engine::{EngineKind, Model};
use super::feed::{self, FeedContext, FeedItem, Ranking, Reason};
use super::labels::{TrainingRow, TrainingSet};
use crate::catalog::{Catalog, SongId};
use crate::store::types::{InteractionKind, LoggedInteraction, Preferences};

/// Songs of the latest interactions that are not offered again (capped at half the
/// catalog so a small catalog never runs dry).
pub const RECENT_WINDOW: usize = 200;
/// Labels needed before a model is fitted: fewer say too little to beat genres and
/// popularity.
pub const MIN_LABELS: usize = 4;
/// Latest interactions whose skip rate steers the exploration share.
pub const SKIP_RATE_WINDOW: usize = 20;
/// Version of the snapshot layout; bump on any change and keep reading old ones.
const SNAPSHOT_VERSION: u16 = 1;

/// Why the feed is still cold start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColdReason {
    TooFewLabels { labels: usize },
    OneClass,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FitStatus {
    Fitted {
        rows: usize,
    },
    Cold(ColdReason),
    /// The outcome covered an older log position than the installed model.
    Stale,
}

#[derive(Debug, Clone)]
struct Fitted {
    model: Model,
    rows: usize,
}

#[derive(Debug, Clone)]
pub struct ListenerModel {
    engine: EngineKind,
    seed: u64,
    training: TrainingSet,
    last_seq: u64,
    /// Songs of the latest interactions, newest last.
    recent: VecDeque<SongId>,
    fitted: Option<Fitted>,
    /// The log seq the last fit (or cold-start decision) covered.
    fit_seq: u64,
}

/// A fit taken out of the model so it can run off the async runtime.
#[derive(Debug, Clone)]
pub struct FitJob {
    engine: EngineKind,
    seed: u64,
    covers_seq: u64,
    rows: Result<Vec<LabeledRow>, ColdReason>,
}

/// The result of a [`FitJob`], to [`ListenerModel::install`].
#[derive(Debug, Clone)]
pub struct FitOutcome {
    covers_seq: u64,
    result: Result<(Model, usize), ColdReason>,
}

impl FitJob {
    /// The heavy part: fits the model. Pure; call it on a blocking pool.
    pub fn run(self, index: &CatalogIndex) -> FitOutcome {
        let result = self.rows.and_then(|rows| {
            match Model::fit(self.engine, index.features(), &rows, self.seed) {
                Ok(m) => Ok((m, rows.len())),
                Err(ModelError::OneClass { .. }) => Err(ColdReason::OneClass),
                Err(e) => {
                    tracing::warn!(error = %e, "model fit failed; staying on cold start");
                    Err(ColdReason::TooFewLabels { labels: rows.len() })
                }
            }
        });
        FitOutcome {
            covers_seq: self.covers_seq,
            result,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SnapshotV1 {
    version: u16,
    engine: EngineKind,
    seed: u64,
    training: TrainingSet,
    last_seq: u64,
    recent: Vec<SongId>,
    fit_seq: u64,
    /// Model bytes and the rows it was fitted on.
    model: Option<(Vec<u8>, u64)>,
}

impl ListenerModel {
    pub fn new(engine: EngineKind, seed: u64) -> Self {
        Self {
            engine,
            seed,
            training: TrainingSet::default(),
            last_seq: 0,
            recent: VecDeque::new(),
            fitted: None,
            fit_seq: 0,
        }
    }

    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// The last log seq applied (0 = none): catch up from the entry after it.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// True while the feed is cold start (no fitted model).
    pub fn is_cold(&self) -> bool {
        self.fitted.is_none()
    }

    /// True when entries were applied since the last fit.
    pub fn needs_refit(&self) -> bool {
        self.fit_seq < self.last_seq
    }

    /// Applies one log entry; entries at or before [`Self::last_seq`] are ignored
    /// (returns false), so replaying the log is harmless.
    pub fn apply(&mut self, entry: &LoggedInteraction) -> bool {
        if entry.seq <= self.last_seq {
            return false;
        }
        self.last_seq = entry.seq;
        self.training.record(&entry.interaction);
        self.recent.push_back(entry.interaction.song_id.clone());
        if self.recent.len() > RECENT_WINDOW {
            self.recent.pop_front();
        }
        true
    }

    /// What a fit would be trained on: one row per song, oldest first.
    pub fn training_input(&self, catalog: &Catalog) -> Vec<TrainingRow> {
        self.training.rows(catalog)
    }

    /// Takes what a fit needs (cheap); run the job with [`FitJob::run`].
    pub fn prepare_fit(&self, index: &CatalogIndex) -> FitJob {
        let rows: Vec<LabeledRow> = self
            .training_input(index.catalog())
            .into_iter()
            .filter_map(|r| {
                Some(LabeledRow {
                    song: index.index_of(&r.song_id)?,
                    positive: r.positive,
                    weight: r.weight,
                })
            })
            .collect();
        let positives = rows.iter().filter(|r| r.positive).count();
        let rows = if rows.len() < MIN_LABELS {
            Err(ColdReason::TooFewLabels { labels: rows.len() })
        } else if positives == 0 || positives == rows.len() {
            Err(ColdReason::OneClass)
        } else {
            Ok(rows)
        };
        FitJob {
            engine: self.engine,
            seed: mix(self.seed, self.last_seq),
            covers_seq: self.last_seq,
            rows,
        }
    }

    /// Installs a fit's outcome unless a newer one is already in.
    pub fn install(&mut self, outcome: FitOutcome) -> FitStatus {
        if outcome.covers_seq < self.fit_seq {
            return FitStatus::Stale;
        }
        self.fit_seq = outcome.covers_seq;
        match outcome.result {
            Ok((model, rows)) => {
                self.fitted = Some(Fitted { model, rows });
                FitStatus::Fitted { rows }
            }
            Err(reason) => {
                self.fitted = None;
                FitStatus::Cold(reason)
            }
        }
    }

    /// Fits in place (prepare, run, install) — for callers already off the runtime.
    pub fn refit(&mut self, index: &CatalogIndex) -> FitStatus {
        let outcome = self.prepare_fit(index).run(index);
        self.install(outcome)
    }

    /// Rows the installed model was fitted on (None in cold start).
    pub fn fitted_rows(&self) -> Option<usize> {
        self.fitted.as_ref().map(|f| f.rows)
    }

    /// One page of the feed, ranked by the model (cold start without one).
    pub fn feed(
        &self,
        index: &CatalogIndex,
        prefs: &Preferences,
        limit: usize,
        seed: u64,
    ) -> Vec<FeedItem> {
        self.feed_ranked(index, prefs, limit, seed, Ranking::Model)
    }

    /// A page ranked another way (the baselines of `spoofify eval`).
    pub fn feed_ranked(
        &self,
        index: &CatalogIndex,
        prefs: &Preferences,
        limit: usize,
        seed: u64,
        ranking: Ranking,
    ) -> Vec<FeedItem> {
        let parts = self.feed_parts(index);
        let ctx = FeedContext {
            index,
            prefs,
            excluded: &parts.excluded,
            positives: &parts.positives,
            negatives: &parts.negatives,
            model: self.model_for(index),
            recent_skip_rate: parts.recent_skip_rate,
        };
        feed::build(&ctx, limit, seed, ranking)
    }

    /// Scores given songs the way a feed ranked with `ranking` would (no exclusions,
    /// no diversity): for ranking metrics.
    pub fn score_songs(
        &self,
        index: &CatalogIndex,
        prefs: &Preferences,
        songs: &[u32],
        ranking: Ranking,
        seed: u64,
    ) -> Vec<f32> {
        let parts = self.feed_parts(index);
        let ctx = FeedContext {
            index,
            prefs,
            excluded: &parts.excluded,
            positives: &parts.positives,
            negatives: &parts.negatives,
            model: self.model_for(index),
            recent_skip_rate: parts.recent_skip_rate,
        };
        let mut out = vec![0.0f32; songs.len()];
        let all = index.catalog().songs();
        match (ranking, ctx.model) {
            (Ranking::Model, Some(m)) => m.score(index.features(), songs, &mut out),
            (Ranking::Content, _) if !parts.positives.is_empty() => {
                for (s, o) in songs.iter().zip(out.iter_mut()) {
                    *o = feed::content_score(&ctx, *s);
                }
            }
            (Ranking::Popularity, _) => {
                for (s, o) in songs.iter().zip(out.iter_mut()) {
                    *o = all.get(*s as usize).map_or(0.0, |x| x.popularity);
                }
            }
            (Ranking::Random, _) => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = (mix(seed, i as u64) >> 40) as f32 / (1u64 << 24) as f32;
                }
            }
            _ => {
                for (s, o) in songs.iter().zip(out.iter_mut()) {
                    *o = feed::cold_score(&ctx, *s, &Reason::Popular);
                }
            }
        }
        out
    }

    fn model_for(&self, index: &CatalogIndex) -> Option<&Model> {
        self.fitted
            .as_ref()
            .map(|f| &f.model)
            .filter(|m| m.fingerprint() == index.features().fingerprint())
    }

    fn feed_parts(&self, index: &CatalogIndex) -> FeedParts {
        let n = index.len();
        let mut excluded = vec![false; n];
        let window = RECENT_WINDOW.min(n / 2);
        for id in self.recent.iter().rev().take(window) {
            if let Some(i) = index.index_of(id) {
                excluded[i as usize] = true;
            }
        }
        let mut positives = Vec::new();
        let mut negatives = Vec::new();
        for row in self.training_input(index.catalog()).into_iter().rev() {
            let Some(i) = index.index_of(&row.song_id) else {
                continue;
            };
            if row.positive {
                positives.push(i);
            } else {
                // A rejected song is not offered again.
                excluded[i as usize] = true;
                negatives.push(i);
            }
        }
        // Latest signals only (a song's latest interaction stands for it).
        let latest: Vec<bool> = self
            .training
            .by_recency()
            .into_iter()
            .rev()
            .take(SKIP_RATE_WINDOW)
            .map(|(_, s)| matches!(s.kind, InteractionKind::Skipped | InteractionKind::Disliked))
            .collect();
        let recent_skip_rate = if latest.len() < SKIP_RATE_WINDOW {
            0.0
        } else {
            latest.iter().filter(|&&x| x).count() as f32 / latest.len() as f32
        };
        FeedParts {
            excluded,
            positives,
            negatives,
            recent_skip_rate,
        }
    }

    /// Serializes the whole state (bincode 2 over serde), model included.
    pub fn to_snapshot_bytes(&self) -> Vec<u8> {
        let snap = SnapshotV1 {
            version: SNAPSHOT_VERSION,
            engine: self.engine,
            seed: self.seed,
            training: self.training.clone(),
            last_seq: self.last_seq,
            recent: self.recent.iter().cloned().collect(),
            fit_seq: self.fit_seq,
            model: self
                .fitted
                .as_ref()
                .map(|f| (f.model.to_bytes(), f.rows as u64)),
        };
        // Encoding owned plain data into a Vec cannot fail.
        bincode::serde::encode_to_vec(&snap, bincode::config::standard()).unwrap_or_default()
    }

    /// Reads a snapshot back. A model fitted on another catalog is dropped (the next
    /// [`Self::refit`] rebuilds it from the training set, which is kept).
    pub fn from_snapshot_bytes(bytes: &[u8], index: &CatalogIndex) -> Result<Self, ModelError> {
        let (snap, _): (SnapshotV1, usize) =
            bincode::serde::decode_from_slice(bytes, bincode::config::standard())
                .map_err(|e| ModelError::Malformed(e.to_string()))?;
        if snap.version != SNAPSHOT_VERSION {
            return Err(ModelError::Malformed(format!(
                "snapshot version {} (expected {SNAPSHOT_VERSION})",
                snap.version
            )));
        }
        let mut fit_seq = snap.fit_seq;
        let fitted = match snap.model {
            Some((bytes, rows)) => {
                let model = Model::from_bytes(&bytes)?;
                if model.fingerprint() == index.features().fingerprint() {
                    Some(Fitted {
                        model,
                        rows: rows as usize,
                    })
                } else {
                    fit_seq = 0;
                    None
                }
            }
            None => None,
        };
        Ok(Self {
            engine: snap.engine,
            seed: snap.seed,
            training: snap.training,
            last_seq: snap.last_seq,
            recent: snap.recent.into_iter().collect(),
            fitted,
            fit_seq,
        })
    }
}

struct FeedParts {
    excluded: Vec<bool>,
    positives: Vec<u32>,
    negatives: Vec<u32>,
    recent_skip_rate: f32,
}

/// SplitMix64 of two words: a fit seed that follows the log position.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
