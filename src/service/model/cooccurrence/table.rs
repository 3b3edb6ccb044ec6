//! The published co-occurrence output and how the recommender reads it.
//!
//! [`CoocTable`] is what the job persists (field `top` of its state) and every node
//! loads: each song's best partners by song id, so it survives catalog changes.
//! [`CoocHandle`] is a node's shared slot for the latest table (the job publishes,
//! readers take an `Arc`). [`CoocNeighbours`] is a table resolved against one
//! catalog (song indices), built lazily by [`crate::model::CatalogIndex::cooc`]
//! whenever a new table is published.
//!
//! How the feed and radio use it: as a candidate source (the partners of the
//! listener's latest finishes, reason "listeners who finished X also finished
//! this") and as a ranking feature — the song's [`Affinity`] to those finishes —
//! blended into the ranking score by [`blend`].

use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, RwLock};

use crate::catalog::{Catalog, SongId};

/// Latest finishes whose co-occurrence partners count (as candidates and for the
/// affinity feature).
pub const COOC_SEEDS: usize = 20;
/// Largest weight of the affinity feature next to a model probability (or a
/// cold-start score), both in [0, 1]: what a listener starts with, and keeps while
/// the feature keeps predicting what they finish ([`predictive_weight`]). Chosen
/// with `spoofify eval`'s co-occurrence section: large enough to lift listeners with
/// few labels, small enough that a confident model still decides.
pub const COOC_WEIGHT: f32 = 0.6;
/// Affinity mass (sum of the affinities of the songs heard lately) that the prior —
/// "the feature is as good as it can be" — weighs, in [`predictive_weight`]: a
/// newcomer's first few plays do not yet say whether everyone's listening fits them.
pub const COOC_PRIOR_MASS: f32 = 1.0;
/// How far above the listener's overall finish rate the songs with affinity must be
/// finished (as a share of what is left up to 1) for the full weight: 1 = only when
/// they finish every song the feature points at. Chosen with `spoofify eval` (demo
/// catalog, independent tastes: 0.5 kept 1–6 points of extra skips, 1.0 keeps 0–4)
/// and `spoofify eval --cooccurrence` (shared clusters: the lift stays positive).
pub const COOC_FULL_SKILL_LIFT: f32 = 1.0;
/// Largest table bytes decoded: 5 000 songs × 24 partners ≈ 2 MB; more is corruption.
const MAX_TABLE_BYTES: usize = 64 * 1024 * 1024;

/// One song's partners, best first, with similarity in (0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoocEntry {
    pub song: SongId,
    pub neighbours: Vec<(SongId, f32)>,
}

/// The published table. `version` grows with each publication by the job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoocTable {
    pub version: u64,
    pub entries: Vec<CoocEntry>,
}

#[derive(Debug, thiserror::Error)]
#[error("malformed co-occurrence table: {0}")]
pub struct MalformedTable(String);

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_TABLE_BYTES>()
}

impl CoocTable {
    pub fn to_bytes(&self) -> Vec<u8> {
        // Encoding owned plain data cannot fail short of the limit; an empty vector
        // then reads back as malformed rather than crashing the job.
        bincode::serde::encode_to_vec(self, config()).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MalformedTable> {
        bincode::serde::decode_from_slice(bytes, config())
            .map(|(t, _)| t)
            .map_err(|e| MalformedTable(e.to_string()))
    }

    /// Pairs published (each counted from both sides).
    pub fn links(&self) -> usize {
        self.entries.iter().map(|e| e.neighbours.len()).sum()
    }
}

/// A node's slot for the latest table; clones share it.
#[derive(Debug, Clone, Default)]
pub struct CoocHandle(Arc<RwLock<Arc<CoocTable>>>);

impl CoocHandle {
    pub fn publish(&self, table: CoocTable) {
        let mut slot = self.0.write().unwrap_or_else(|p| p.into_inner());
        *slot = Arc::new(table);
    }

    pub fn get(&self) -> Arc<CoocTable> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A table resolved against one catalog: partners by song index.
#[derive(Debug, Default)]
pub struct CoocNeighbours {
    by_song: Vec<Vec<(u32, f32)>>,
}

impl CoocNeighbours {
    /// Resolves a table; songs the catalog lacks are left out.
    pub fn resolve(table: &CoocTable, catalog: &Catalog) -> Self {
        let mut by_song = vec![Vec::new(); catalog.len()];
        for e in &table.entries {
            let Some(a) = catalog.index_of(&e.song) else {
                continue;
            };
            by_song[a] = e
                .neighbours
                .iter()
                .filter_map(|(b, sim)| Some((catalog.index_of(b)? as u32, *sim)))
                .collect();
        }
        Self { by_song }
    }

    /// A song's partners, best first (empty when none or unknown).
    pub fn of(&self, song: u32) -> &[(u32, f32)] {
        self.by_song.get(song as usize).map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.by_song.iter().all(Vec::is_empty)
    }

    /// Each song's affinity to the seeds (newest first; the first
    /// [`COOC_SEEDS`] count): the best similarity to any of them, and which one.
    pub fn affinity(&self, seeds: &[u32], songs: usize) -> Affinity {
        let mut a = Affinity {
            score: vec![0.0; songs],
            via: vec![u32::MAX; songs],
        };
        for &seed in seeds.iter().take(COOC_SEEDS) {
            for &(nb, sim) in self.of(seed) {
                let i = nb as usize;
                if i < songs && sim > a.score[i] {
                    a.score[i] = sim;
                    a.via[i] = seed;
                }
            }
        }
        a
    }
}

/// Songs' affinity to a listener's latest finishes by co-occurrence.
#[derive(Debug, Clone)]
pub struct Affinity {
    score: Vec<f32>,
    via: Vec<u32>,
}

impl Affinity {
    /// In [0, 1]; 0 for songs no seed co-occurs with.
    pub fn of(&self, song: u32) -> f32 {
        self.score.get(song as usize).copied().unwrap_or(0.0)
    }

    /// The seed that gave the song its affinity.
    pub fn via(&self, song: u32) -> Option<u32> {
        self.via
            .get(song as usize)
            .copied()
            .filter(|&v| v != u32::MAX)
    }
}

/// A ranking score with the co-occurrence feature blended in at `weight` (see
/// [`predictive_weight`]).
pub fn blend(score: f32, affinity: f32, weight: f32) -> f32 {
    score + weight * affinity
}

/// The co-occurrence feature's weight for one listener: how well it predicted what
/// they finished so far. `heard` is the songs heard lately with whether their latest
/// interaction was a finish (or like); `positives` the latest finishes, newest first
/// (the seeds of the affinity, as in the feed).
///
/// Each heard song's affinity to the *other* seeds (a song is never its own
/// partner) is its prediction. Skill is how much more often the songs with affinity
/// were finished than everything heard: `(affinity-weighted finish rate − overall
/// finish rate) / (1 − overall)`, reaching 1 at [`COOC_FULL_SKILL_LIFT`]. The weight is
/// [`COOC_WEIGHT`] × skill, pulled towards the full weight by a prior of
/// [`COOC_PRIOR_MASS`] affinity. So a newcomer gets the full weight (that is where
/// co-occurrence lifts most), a listener whose taste the population shares keeps it,
/// and one whose co-occurring songs they skip as often as anything else loses it.
pub fn predictive_weight(
    cooc: &CoocNeighbours,
    positives: &[u32],
    heard: &[(u32, bool)],
    songs: usize,
) -> f32 {
    if cooc.is_empty() || positives.is_empty() || heard.is_empty() {
        return COOC_WEIGHT;
    }
    let affinity = cooc.affinity(positives, songs);
    let finished = heard.iter().filter(|(_, f)| *f).count() as f32;
    let base = finished / heard.len() as f32;
    let (mut hit, mut mass) = (0.0f32, 0.0f32);
    for &(s, f) in heard {
        let a = affinity.of(s);
        hit += a * f32::from(u8::from(f));
        mass += a;
    }
    let skill = if mass > 0.0 && base < 1.0 {
        let rate = hit / mass;
        ((rate - base) / (1.0 - base) / COOC_FULL_SKILL_LIFT).clamp(0.0, 1.0)
    } else if mass > 0.0 {
        // Everything heard was finished: nothing to tell the feature by.
        1.0
    } else {
        0.0
    };
    COOC_WEIGHT * (COOC_PRIOR_MASS + mass * skill) / (COOC_PRIOR_MASS + mass)
}

/// The table resolved for one catalog, rebuilt when a new table is published.
#[derive(Debug, Default)]
pub struct CoocSlot {
    handle: CoocHandle,
    resolved: Mutex<Option<(Arc<CoocTable>, Arc<CoocNeighbours>)>>,
}

impl CoocSlot {
    pub fn new(handle: CoocHandle) -> Self {
        Self {
            handle,
            resolved: Mutex::new(None),
        }
    }

    pub fn handle(&self) -> &CoocHandle {
        &self.handle
    }

    /// The latest table resolved against `catalog` (cached until the next publish).
    pub fn get(&self, catalog: &Catalog) -> Arc<CoocNeighbours> {
        let table = self.handle.get();
        let mut resolved = self.resolved.lock().unwrap_or_else(|p| p.into_inner());
        match &*resolved {
            Some((t, n)) if Arc::ptr_eq(t, &table) => n.clone(),
            _ => {
                let n = Arc::new(CoocNeighbours::resolve(&table, catalog));
                *resolved = Some((table, n.clone()));
                n
            }
        }
    }
}

/// Feed candidates learned from everyone: the partners of the latest finishes
/// (`positives`, newest first), each with the finish that brought it in.
pub fn candidates(index: &crate::model::CatalogIndex, positives: &[u32]) -> Vec<(u32, u32)> {
    let cooc = index.cooc();
    let mut out = Vec::new();
    for &seed in positives.iter().take(COOC_SEEDS) {
        out.extend(cooc.of(seed).iter().map(|&(nb, _)| (nb, seed)));
    }
    out
}

/// Blends the co-occurrence affinity feature into ranking scores (`scores[i]` is
/// `songs[i]`'s) at `weight` ([`predictive_weight`]), given the latest finishes,
/// newest first. No table, no change.
pub fn blend_scores(
    index: &crate::model::CatalogIndex,
    positives: &[u32],
    songs: &[u32],
    scores: &mut [f32],
    weight: f32,
) {
    let cooc = index.cooc();
    if cooc.is_empty() || positives.is_empty() || weight <= 0.0 {
        return;
    }
    let affinity = cooc.affinity(positives, index.len());
    for (s, score) in songs.iter().zip(scores.iter_mut()) {
        *score = blend(*score, affinity.of(*s), weight);
    }
}
