//! [`Listener`]: a simulated person with a hidden [`Taste`], who picks genres at
//! onboarding and then, song by song, finishes, likes, skips (early or late) or
//! dislikes — noisily, as people do. Seeded and deterministic.
//!
//! A listener tires of a song heard moments ago: within [`FATIGUE_PLAYS`] plays its
//! utility is cut to [`FATIGUE_FACTOR`] of itself, so a feed that loops is punished
//! the way a person would punish it.
//!
//! The quality eval drives it in-process; the load generator and the chaos harness
//! drive it through HTTP: ask [`Listener::react`] for each feed item and post the
//! [`Reaction`] as an interaction.

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

use super::taste::{Taste, TasteShape};
use spoofify_service::catalog::{Catalog, Song, SongId};
use spoofify_service::store::types::{InteractionKind, Preferences};

/// Chance of acting against taste either way: a loved song skipped, a disliked one
/// played through (the listener was busy, the song was short, …).
pub const NOISE: f32 = 0.06;
/// Share of finishes of a well-liked song that also get a like.
pub const LIKE_SHARE: f32 = 0.3;
/// Share of early skips that are an explicit dislike.
pub const DISLIKE_SHARE: f32 = 0.1;
/// Below this utility a skip comes early; above, late (the song was nearly right).
pub const EARLY_SKIP_UTILITY: f32 = 0.4;
/// A song heard within this many plays is a repeat the listener is tired of…
pub const FATIGUE_PLAYS: usize = 20;
/// …and keeps this share of its utility.
pub const FATIGUE_FACTOR: f32 = 0.3;

/// What the listener did with one song.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaction {
    pub kind: InteractionKind,
    pub position_ms: u64,
}

impl Reaction {
    /// A skip or a dislike: the listener moved on before the end.
    pub fn is_skip(&self) -> bool {
        matches!(
            self.kind,
            InteractionKind::Skipped | InteractionKind::Disliked
        )
    }
}

#[derive(Debug, Clone)]
pub struct Listener {
    pub shape: TasteShape,
    pub taste: Taste,
    rng: ChaCha8Rng,
    heard: u32,
    /// The latest [`FATIGUE_PLAYS`] songs, newest last.
    recent: VecDeque<SongId>,
}

impl Listener {
    /// A listener of the given shape whose taste is drawn to fit the catalog.
    pub fn new(shape: TasteShape, catalog: &Catalog, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let taste = Taste::draw(shape, catalog, &mut rng);
        Self {
            shape,
            taste,
            rng,
            heard: 0,
            recent: VecDeque::new(),
        }
    }

    /// Interactions so far.
    pub fn heard(&self) -> u32 {
        self.heard
    }

    /// Onboarding: the genres the listener says they like — their stated genres, or
    /// else the two genres whose songs they like most on average.
    pub fn onboarding(&mut self, catalog: &Catalog) -> Preferences {
        let mut genres = self.taste.stated_genres();
        if genres.is_empty() {
            let mut scored: Vec<(f32, String)> = catalog
                .genres()
                .into_iter()
                .map(|g| {
                    let (sum, n) = catalog
                        .songs()
                        .iter()
                        .filter(|s| s.genre == g)
                        .fold((0.0, 0), |(a, n), s| (a + self.utility(s), n + 1));
                    (sum / n.max(1) as f32, g)
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            genres = scored.into_iter().take(2).map(|(_, g)| g).collect();
        }
        // Some people also tick a genre they do not really care for.
        if self.rng.random_bool(0.3) {
            if let Some(g) = catalog.genres().choose(&mut self.rng) {
                if !genres.contains(g) {
                    genres.push(g.clone());
                }
            }
        }
        Preferences {
            genres,
            seed_songs: Vec::new(),
            onboarded: true,
        }
    }

    /// The hidden utility of a song right now, in [0, 1] (a song just heard is
    /// worth less: see [`FATIGUE_FACTOR`]).
    pub fn utility(&self, song: &Song) -> f32 {
        let u = self.taste.utility(song, self.heard);
        if self.recent.contains(&song.id) {
            u * FATIGUE_FACTOR
        } else {
            u
        }
    }

    /// Probability that the listener finishes the song right now.
    pub fn finish_probability(&self, song: &Song) -> f32 {
        NOISE + (1.0 - 2.0 * NOISE) * self.utility(song)
    }

    /// Listens to one song and says what happened.
    pub fn react(&mut self, song: &Song) -> Reaction {
        let u = self.utility(song);
        let p = self.finish_probability(song);
        self.heard += 1;
        self.recent.push_back(song.id.clone());
        if self.recent.len() > FATIGUE_PLAYS {
            self.recent.pop_front();
        }
        let d = song.duration_ms.max(1);
        if self.rng.random::<f32>() < p {
            let liked = self.rng.random::<f32>() < LIKE_SHARE * u;
            let kind = if liked {
                InteractionKind::Liked
            } else {
                InteractionKind::Finished
            };
            return Reaction {
                kind,
                position_ms: d,
            };
        }
        let (lo, hi) = if u < EARLY_SKIP_UTILITY {
            (0.03, 0.35)
        } else {
            (0.55, 0.9)
        };
        let position_ms = (d as f64 * self.rng.random_range(lo..hi)) as u64;
        let kind = if u < EARLY_SKIP_UTILITY && self.rng.random::<f32>() < DISLIKE_SHARE {
            InteractionKind::Disliked
        } else {
            InteractionKind::Skipped
        };
        Reaction { kind, position_ms }
    }
}
