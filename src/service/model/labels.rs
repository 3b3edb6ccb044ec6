//! A listener's interactions reduced to one weighted label per song.
//!
//! Rules: finished, liked, added to a playlist and finished from a search are
//! positive; a skip before [`EARLY_SKIP_FRACTION`] of
//! the song (or before [`EARLY_SKIP_MS`] when the length is unknown) and a dislike are
//! negative; a later skip and a removal from a playlist are weaker negatives. A song
//! played again and again weighs more ([`repeat_factor`], applied with the history).
//! A song heard again takes its latest
//! signal. Older signals weigh less (half-life [`RECENCY_HALF_LIFE`] interactions), so
//! a drifting taste is followed.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::catalog::{Catalog, SongId};
use crate::store::types::{Interaction, InteractionKind};

/// A skip before this share of the song means "not for me".
pub const EARLY_SKIP_FRACTION: f64 = 0.5;
/// Without a known length, a skip before 30 s is early.
pub const EARLY_SKIP_MS: u64 = 30_000;
/// Weights by signal: explicit feedback counts more than listening behaviour.
pub const WEIGHT_FINISHED: f32 = 1.0;
pub const WEIGHT_LIKED: f32 = 1.5;
pub const WEIGHT_DISLIKED: f32 = 1.5;
pub const WEIGHT_EARLY_SKIP: f32 = 1.0;
/// A late skip is weak evidence: the listener got far into the song.
pub const WEIGHT_LATE_SKIP: f32 = 0.3;
/// Putting a song in a playlist is a deliberate "keep this": the strongest positive.
pub const WEIGHT_PLAYLIST_ADD: f32 = 2.0;
/// Taking one out says "not any more" — weaker than a dislike (playlists are tidied
/// for many reasons), stronger than a late skip.
pub const WEIGHT_PLAYLIST_REMOVE: f32 = 0.7;
/// A finish the listener went looking for (started from a search).
pub const WEIGHT_SEARCH_FINISHED: f32 = 1.5;
/// Each play of a song beyond its first adds this share to its positive weight (a
/// song the listener keeps coming back to says more than one finish) …
pub const REPEAT_BONUS: f32 = 0.25;
/// … for at most this many repeats (so a favorite weighs at most twice a finish).
pub const MAX_REPEATS_COUNTED: u32 = 4;
/// Interactions after which a signal's weight halves. Short, because favorites the
/// listener still likes are replayed (see `rotation`), which renews their signal:
/// what fades is what the listener no longer comes back to.
pub const RECENCY_HALF_LIFE: f64 = 30.0;
/// Old signals never weigh less than this share: they still say something.
pub const MIN_RECENCY: f64 = 0.05;
/// After the listener's taste moved (`History::shift_at`), signals from before the
/// move weigh this much more (as well as their recency).
pub const BEFORE_SHIFT_WEIGHT: f64 = 0.1;
/// Songs remembered, at most (the oldest are forgotten): bounds memory, fit time and
/// snapshot size for a listener with a very long history.
pub const MAX_TRACKED_SONGS: usize = 5_000;

/// The latest signal for one song.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub kind: InteractionKind,
    pub position_ms: u64,
    /// Position of the interaction among all this listener's applied interactions.
    pub order: u64,
}

/// What a model is fitted on: one row per song.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRow {
    pub song_id: SongId,
    pub positive: bool,
    pub weight: f32,
}

/// A fingerprint of a training input (FNV-1a over each row's song, label and weight,
/// in order): two inputs with the same digest are, for all practical purposes, the
/// same rows. The chaos checker compares an actor's digest with one rebuilt from the log.
pub fn digest(rows: &[TrainingRow]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(PRIME);
        }
    };
    for r in rows {
        eat(r.song_id.as_str().as_bytes());
        eat(&[0xff, u8::from(r.positive)]);
        eat(&r.weight.to_bits().to_le_bytes());
    }
    h
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingSet {
    latest: BTreeMap<SongId, Signal>,
    /// Interactions recorded so far (the next one's order).
    recorded: u64,
}

impl TrainingSet {
    pub fn record(&mut self, i: &Interaction) {
        let signal = Signal {
            kind: i.kind,
            position_ms: i.position_ms,
            order: self.recorded,
        };
        self.recorded += 1;
        self.latest.insert(i.song_id.clone(), signal);
        // Evict in batches so the sort is amortized over many records.
        if self.latest.len() > MAX_TRACKED_SONGS + MAX_TRACKED_SONGS / 10 {
            let mut orders: Vec<u64> = self.latest.values().map(|s| s.order).collect();
            orders.sort_unstable();
            let cutoff = orders[orders.len() - MAX_TRACKED_SONGS];
            self.latest.retain(|_, s| s.order >= cutoff);
        }
    }

    pub fn len(&self) -> usize {
        self.latest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }

    pub fn signal(&self, song: &SongId) -> Option<&Signal> {
        self.latest.get(song)
    }

    /// Songs with their latest signal, oldest first.
    pub fn by_recency(&self) -> Vec<(&SongId, &Signal)> {
        let mut v: Vec<_> = self.latest.iter().collect();
        v.sort_by_key(|(_, s)| s.order);
        v
    }

    /// The rows a model is fitted on, oldest first. Songs the catalog does not know
    /// are left out (they have no features).
    pub fn rows(&self, catalog: &Catalog) -> Vec<TrainingRow> {
        self.rows_since_shift(catalog, None)
    }

    /// [`Self::rows`], with the signals older than `shift_at` (where the listener's
    /// taste moved) weighed [`BEFORE_SHIFT_WEIGHT`] as much.
    pub fn rows_since_shift(&self, catalog: &Catalog, shift_at: Option<u64>) -> Vec<TrainingRow> {
        self.by_recency()
            .into_iter()
            .filter_map(|(id, s)| {
                let duration = catalog.get(id)?.duration_ms;
                let (positive, base) = label(s, duration);
                let age = (self.recorded - 1 - s.order) as f64;
                let mut recency = 0.5f64.powf(age / RECENCY_HALF_LIFE).max(MIN_RECENCY);
                if shift_at.is_some_and(|at| s.order < at) {
                    recency *= BEFORE_SHIFT_WEIGHT;
                }
                Some(TrainingRow {
                    song_id: id.clone(),
                    positive,
                    weight: (base as f64 * recency) as f32,
                })
            })
            .collect()
    }
}

/// True when a skip came early enough to mean "not for me".
pub fn is_early_skip(position_ms: u64, duration_ms: u64) -> bool {
    if duration_ms == 0 {
        position_ms < EARLY_SKIP_MS
    } else {
        (position_ms as f64) < EARLY_SKIP_FRACTION * duration_ms as f64
    }
}

/// The label and base weight of a signal.
pub fn label(s: &Signal, duration_ms: u64) -> (bool, f32) {
    match s.kind {
        InteractionKind::Finished => (true, WEIGHT_FINISHED),
        InteractionKind::Liked => (true, WEIGHT_LIKED),
        InteractionKind::Disliked => (false, WEIGHT_DISLIKED),
        InteractionKind::Skipped if is_early_skip(s.position_ms, duration_ms) => {
            (false, WEIGHT_EARLY_SKIP)
        }
        InteractionKind::Skipped => (false, WEIGHT_LATE_SKIP),
        InteractionKind::AddedToPlaylist => (true, WEIGHT_PLAYLIST_ADD),
        InteractionKind::RemovedFromPlaylist => (false, WEIGHT_PLAYLIST_REMOVE),
        InteractionKind::SearchFinished => (true, WEIGHT_SEARCH_FINISHED),
    }
}

/// How much more a positive row weighs when its song was played (finished or liked)
/// `plays` times: 1 for one play, [`REPEAT_BONUS`] more per repeat, up to
/// [`MAX_REPEATS_COUNTED`] repeats.
pub fn repeat_factor(plays: u32) -> f32 {
    1.0 + REPEAT_BONUS * plays.saturating_sub(1).min(MAX_REPEATS_COUNTED) as f32
}
