//! [`ListenerModel`]: everything a listener actor keeps to recommend: the training
//! set built from the interaction log, the listening history (what played when, for
//! the rotation of favorites and the mix), the last log seq applied, and the fitted
//! model.
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
//! training input ([`ListenerModel::training_input`]), the same history (both behind
//! [`ListenerModel::input_digest`]) and, for the same seed, the same fitted model. While the labels are too few or of one class the feed is cold start
//! (chosen genres and popularity); the model takes over at the first fit that works.

use serde::{Deserialize, Serialize};

use super::catalog_index::CatalogIndex;
use super::classifier::{LabeledRow, ModelError};
use super::context::{FeedContext, LastResort, RestedFavorite};
use super::cooccurrence::table as cooccurrence;
use super::engine::{EngineKind, Model};
use super::feed::{self, FeedItem, Ranking};
use super::history::{Fnv, History};
use super::labels::{TrainingRow, TrainingSet};
use super::mix::MixSignals;
use super::reason::Reason;
use super::rotation::{self, Evidence, Standing, REPLAY_MIN_PLAYS};
use super::social::{FriendSignal, Friends};
use crate::catalog::Catalog;
use crate::store::types::{InteractionKind, LoggedInteraction, Preferences};

/// Labels needed before a model is fitted: fewer say too little to beat genres and
/// popularity.
pub const MIN_LABELS: usize = 4;
/// For this many interactions after the listener's taste moved, favorites from
/// before the move are not replayed and only finishes since the move seed new
/// candidates; after that the usual rules (the model, the neighbourhood's approval)
/// decide which old favorites come back.
pub const SHIFT_HOLD_PLAYS: u64 = 100;
/// Songs of a genre finished since the taste moved before favorites of that genre
/// from before the move come back.
pub const GENRE_BACK_FINISHES: u32 = 2;
/// Latest interactions whose skip rate steers the exploration share.
pub const SKIP_RATE_WINDOW: usize = 20;
/// Version of the snapshot layout; bump on any change. An older snapshot is refused
/// ([`ModelError::Malformed`]): the actor then rebuilds from the whole log, which is
/// exact (the log is never trimmed) — version 1 had no listening history, version 2
/// no taste-shift mark, version 3 counted the mark in listening plays only, version
/// 4 did not know when a song was first finished.
const SNAPSHOT_VERSION: u16 = 5;

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
    history: History,
    last_seq: u64,
    fitted: Option<Fitted>,
    /// The log seq the last fit (or cold-start decision) covered.
    fit_seq: u64,
    /// Whether a repeat play weighs more than a single finish (always, but for the
    /// ablation rows of `spoofify eval --signals`). Not in snapshots.
    repeat_weighting: bool,
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

/// The snapshot's first field, read alone to tell versions apart.
#[derive(Deserialize)]
struct SnapshotVersion {
    version: u16,
}

#[derive(Serialize, Deserialize)]
struct SnapshotV2 {
    version: u16,
    engine: EngineKind,
    seed: u64,
    training: TrainingSet,
    history: History,
    last_seq: u64,
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
            history: History::default(),
            last_seq: 0,
            fitted: None,
            fit_seq: 0,
            repeat_weighting: true,
        }
    }

    /// Turns the repeat weighting off or on (an evaluation's ablation; the product
    /// never turns it off).
    pub fn set_repeat_weighting(&mut self, on: bool) {
        self.repeat_weighting = on;
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
        self.history.record(&entry.interaction);
        true
    }

    /// What a fit would be trained on: one row per song, oldest first.
    pub fn training_input(&self, catalog: &Catalog) -> Vec<TrainingRow> {
        // The labels count every interaction, playlist edits included; the history
        // counts listening only: each side compares orders in its own count.
        let shift = self.history.shift_at();
        let mut rows = self
            .training
            .rows_since_shift(catalog, self.history.shift_at_entry());
        // A repeat play weighs more than a single finish (`labels::repeat_factor`) —
        // only when it was played since the taste last moved: the old favorites'
        // many plays must not outweigh the new taste.
        let repeats = rows
            .iter_mut()
            .filter(|r| r.positive && self.repeat_weighting);
        for r in repeats {
            if let Some(h) = self.history.get(&r.song_id) {
                if shift.is_none_or(|at| h.last_order >= at) {
                    r.weight *= super::labels::repeat_factor(h.plays);
                }
            }
        }
        // A favorite from before a recent move, finished again since (the feed was
        // still replaying the old favorites while the move went unnoticed, and a
        // listener finishes some of them out of habit): what it says is about the old
        // taste, so it weighs as the signals from before the move do. Its skips are
        // news and keep their weight.
        if self.fresh_shift_entry().is_some() {
            let signals_before = self.history.shift_at_entry();
            for r in rows.iter_mut().filter(|r| r.positive) {
                let after = self
                    .training
                    .signal(&r.song_id)
                    .is_some_and(|s| signals_before.is_some_and(|at| s.order >= at));
                if after && self.history.favorite_from_before_shift(&r.song_id) {
                    r.weight *= super::labels::BEFORE_SHIFT_WEIGHT as f32;
                }
            }
        }
        rows
    }

    /// Where the listener's taste moved, while that is recent enough to hold the old
    /// favorites back ([`SHIFT_HOLD_PLAYS`]), as an order of the training set (all
    /// interactions, playlist edits included).
    fn fresh_shift_entry(&self) -> Option<u64> {
        self.history
            .shift_at()
            .filter(|&at| self.history.applied() < at + SHIFT_HOLD_PLAYS)
            .and(self.history.shift_at_entry())
    }

    /// The preferences the feed follows: the genres chosen at onboarding stop
    /// counting once the listener's taste has moved away from them.
    fn effective_prefs(&self, prefs: &Preferences) -> Preferences {
        let mut p = prefs.clone();
        if self.history.shift_at().is_some() {
            p.genres.clear();
        }
        p
    }

    /// The weight this listener's feed gives the co-occurrence feature: how well it
    /// predicted what they finished so far (`cooccurrence::table::predictive_weight`).
    pub fn cooc_weight(&self, index: &CatalogIndex) -> f32 {
        self.feed_parts(index).cooc_weight
    }

    /// What the listener has heard, per song.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// A fingerprint of everything the log built: the training input and the
    /// listening history. An actor and a rebuild from the same log agree on it (the
    /// chaos `model-input` check).
    pub fn input_digest(&self, catalog: &Catalog) -> u64 {
        let mut h = Fnv::new();
        h.eat(&super::labels::digest(&self.training_input(catalog)).to_le_bytes());
        h.eat(&self.history.digest().to_le_bytes());
        h.0
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
        self.feed_social(index, prefs, limit, seed, ranking, &[])
    }

    /// One page that also learns from the people the listener follows
    /// (`model::social`): `friends` are followees who share their listening.
    pub fn feed_with_friends(
        &self,
        index: &CatalogIndex,
        prefs: &Preferences,
        limit: usize,
        seed: u64,
        friends: &[FriendSignal],
    ) -> Vec<FeedItem> {
        self.feed_social(index, prefs, limit, seed, Ranking::Model, friends)
    }

    /// A page ranked with `ranking`, with friends' signals (empty: none).
    pub fn feed_social(
        &self,
        index: &CatalogIndex,
        prefs: &Preferences,
        limit: usize,
        seed: u64,
        ranking: Ranking,
        friends: &[FriendSignal],
    ) -> Vec<FeedItem> {
        let parts = self.feed_parts(index);
        let prefs = self.effective_prefs(prefs);
        let model = self.model_for(index);
        let friends = parts.friends(index, friends, model);
        let ctx = parts.context(index, &prefs, model, &friends);
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
        self.score_songs_social(index, prefs, songs, ranking, seed, &[])
    }

    /// [`Self::score_songs`] with friends' signals (empty: none), as
    /// [`Self::feed_social`] ranks.
    pub fn score_songs_social(
        &self,
        index: &CatalogIndex,
        prefs: &Preferences,
        songs: &[u32],
        ranking: Ranking,
        seed: u64,
        friends: &[FriendSignal],
    ) -> Vec<f32> {
        let parts = self.feed_parts(index);
        let prefs = self.effective_prefs(prefs);
        let model = self.model_for(index);
        let friends = parts.friends(index, friends, model);
        let ctx = parts.context(index, &prefs, model, &friends);
        let mut out = vec![0.0f32; songs.len()];
        let all = index.catalog().songs();
        match (ranking, ctx.model) {
            (Ranking::ModelOnly, Some(m)) => m.score(index.features(), songs, &mut out),
            (Ranking::Model, Some(m)) => {
                m.score(index.features(), songs, &mut out);
                for (s, o) in songs.iter().zip(out.iter_mut()) {
                    *o = feed::blended(&ctx, *s, *o);
                }
            }
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
        if ranking == Ranking::Model {
            ctx.friends.blend_scores(songs, &mut out);
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
        let mut standing = vec![None; index.len()];
        let mut rested = Vec::new();
        let mut last_resort: Vec<(LastResort, u64)> = Vec::new();
        let mut favorites = 0;
        let evidence = rotation::evidence(&self.history, |id| index.index_of(id));
        let fresh_shift = self.fresh_shift_entry();
        // Last heard (by the training set's order) before the taste moved, while that
        // is recent.
        let from_before = |order: u64| fresh_shift.is_some_and(|at| order < at);
        // A favorite from before the taste moved comes back only once the listener
        // has taken to its genre again since: at least [`GENRE_BACK_FINISHES`]
        // songs of it finished since the move, more than skipped.
        let shift = self.history.shift_at();
        let mut genres_since: std::collections::HashMap<&str, (u32, u32)> = Default::default();
        if let Some(at) = shift {
            for (id, h) in self.history.songs().filter(|(_, h)| h.last_order >= at) {
                if let Some(song) = index.catalog().get(id) {
                    let e = genres_since.entry(song.genre.as_str()).or_default();
                    if h.skips_in_a_row == 0 && h.plays > 0 {
                        e.0 += 1;
                    } else {
                        e.1 += 1;
                    }
                }
            }
        }
        let genre_back = |genre: &str| {
            genres_since
                .get(genre)
                .is_some_and(|&(f, s)| f >= GENRE_BACK_FINISHES && f > s)
        };
        let songs = index.catalog().songs();
        let stale = |i: u32, order: u64| {
            shift.is_some_and(|at| order < at) && !genre_back(songs[i as usize].genre.as_str())
        };
        for (id, h) in self.history.songs() {
            let Some(i) = index.index_of(id) else {
                continue;
            };
            let duration = index.catalog().songs()[i as usize].duration_ms;
            let st = rotation::standing(&self.history, h, duration);
            favorites += usize::from(st.is_favorite());
            let since_plays = self.history.since(h).plays;
            let approved =
                || rotation::approval(index, &evidence, i) >= rotation::MIN_NEIGHBOURHOOD_APPROVAL;
            match st {
                Standing::Rested if approved() && !stale(i, h.last_order) => {
                    rested.push(RestedFavorite {
                        song: i,
                        since_plays,
                        liked: h.liked,
                    })
                }
                Standing::Rested | Standing::Cooling | Standing::Resting
                    if since_plays >= REPLAY_MIN_PLAYS =>
                {
                    let favorite = st.is_favorite();
                    let early_favorite =
                        st == Standing::Cooling && approved() && !stale(i, h.last_order);
                    last_resort.push((
                        LastResort {
                            song: i,
                            favorite,
                            early_favorite,
                        },
                        since_plays,
                    ));
                }
                _ => {}
            }
            standing[i as usize] = Some(st);
        }
        let mut positives = Vec::new();
        let mut negatives = Vec::new();
        for row in self.training_input(index.catalog()).into_iter().rev() {
            let Some(i) = index.index_of(&row.song_id) else {
                continue;
            };
            let order = self.training.signal(&row.song_id).map_or(0, |s| s.order);
            // A favorite from before the move, finished again since, is the old
            // taste: it seeds nothing while the move is recent (see `training_input`).
            let old_favorite =
                fresh_shift.is_some() && self.history.favorite_from_before_shift(&row.song_id);
            if row.positive && !from_before(order) && !old_favorite {
                positives.push(i);
            } else if !row.positive {
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
        // Favorites before skipped songs; the longest away first.
        last_resort.sort_by(|(a, sa), (b, sb)| {
            b.favorite
                .cmp(&a.favorite)
                .then(sb.cmp(sa))
                .then(a.song.cmp(&b.song))
        });
        let heard: Vec<(u32, bool)> = evidence.iter().map(|e| (e.song, e.finished)).collect();
        let cooc_weight =
            cooccurrence::predictive_weight(&index.cooc(), &positives, &heard, index.len());
        FeedParts {
            cooc_weight,
            standing,
            rested,
            last_resort: last_resort.into_iter().map(|(r, _)| r).collect(),
            positives,
            negatives,
            recent_skip_rate,
            mix: MixSignals::read(&self.history, favorites),
            evidence,
            since_shift: fresh_shift.and(
                self.history
                    .shift_at()
                    .map(|at| self.history.applied().saturating_sub(at)),
            ),
        }
    }

    /// Serializes the whole state (bincode 2 over serde), model included.
    pub fn to_snapshot_bytes(&self) -> Vec<u8> {
        let snap = SnapshotV2 {
            version: SNAPSHOT_VERSION,
            engine: self.engine,
            seed: self.seed,
            training: self.training.clone(),
            history: self.history.clone(),
            last_seq: self.last_seq,
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
        let (head, _): (SnapshotVersion, usize) =
            bincode::serde::decode_from_slice(bytes, bincode::config::standard())
                .map_err(|e| ModelError::Malformed(e.to_string()))?;
        if head.version != SNAPSHOT_VERSION {
            return Err(ModelError::Malformed(format!(
                "snapshot version {} (expected {SNAPSHOT_VERSION}); rebuild from the log",
                head.version
            )));
        }
        let (snap, _): (SnapshotV2, usize) =
            bincode::serde::decode_from_slice(bytes, bincode::config::standard())
                .map_err(|e| ModelError::Malformed(e.to_string()))?;
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
            history: snap.history,
            last_seq: snap.last_seq,
            fitted,
            fit_seq,
            repeat_weighting: true,
        })
    }
}

/// What a feed reads from the listener's state, computed once per page.
struct FeedParts {
    standing: Vec<Option<Standing>>,
    rested: Vec<RestedFavorite>,
    last_resort: Vec<LastResort>,
    evidence: Vec<Evidence>,
    positives: Vec<u32>,
    negatives: Vec<u32>,
    recent_skip_rate: f32,
    mix: MixSignals,
    cooc_weight: f32,
    since_shift: Option<u64>,
}

impl FeedParts {
    /// The friends' signals weighed against this listener (`model::social`).
    fn friends(
        &self,
        index: &CatalogIndex,
        signals: &[FriendSignal],
        model: Option<&Model>,
    ) -> Friends {
        Friends::weigh(index, signals, &self.positives, &self.negatives, model)
    }

    fn context<'a>(
        &'a self,
        index: &'a CatalogIndex,
        prefs: &'a Preferences,
        model: Option<&'a Model>,
        friends: &'a Friends,
    ) -> FeedContext<'a> {
        FeedContext {
            index,
            prefs,
            standing: &self.standing,
            rested: &self.rested,
            last_resort: &self.last_resort,
            positives: &self.positives,
            negatives: &self.negatives,
            model,
            recent_skip_rate: self.recent_skip_rate,
            mix: self.mix,
            evidence: &self.evidence,
            friends,
            cooc_weight: self.cooc_weight,
            since_shift: self.since_shift,
        }
    }
}

/// SplitMix64 of two words: a fit seed that follows the log position.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
