//! Hidden tastes: how much a simulated listener wants a song, as a utility in [0, 1]
//! that a [`super::Listener`] turns into a play or a skip (with noise).
//!
//! Tastes read what a real listener would hear: the genre, the tempo in BPM, and the
//! energy (loudness, onsets, brightness, noisiness, little dynamic range — catalog
//! z-scores, so it means the same in any catalog).

use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

use spoofify_service::catalog::{Catalog, Song};

/// Half-width of a tempo-driven listener's liked range (BPM).
const TEMPO_WIDTH_BPM: f32 = 12.0;
/// Energy z-score beyond which an energy-driven listener is happy.
const ENERGY_THRESHOLD: f32 = 0.5;
/// Utility of a song in / outside a loyal listener's genres.
const IN_GENRE: f32 = 0.95;
const OUT_OF_GENRE: f32 = 0.03;
/// A drifting taste starts moving at this interaction and has moved after `DRIFT_SPAN`
/// more: late enough that the listener has favorites to unlearn (issue 11: a taste
/// that changes after 200 interactions).
pub const DRIFT_START: u32 = 200;
pub const DRIFT_SPAN: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TasteShape {
    GenreLoyal,
    Tempo,
    Energy,
    Mixed,
    Drifting,
}

impl TasteShape {
    pub const ALL: [TasteShape; 5] = [
        TasteShape::GenreLoyal,
        TasteShape::Tempo,
        TasteShape::Energy,
        TasteShape::Mixed,
        TasteShape::Drifting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TasteShape::GenreLoyal => "genre-loyal",
            TasteShape::Tempo => "tempo",
            TasteShape::Energy => "energy",
            TasteShape::Mixed => "mixed",
            TasteShape::Drifting => "drifting",
        }
    }
}

impl fmt::Display for TasteShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Taste {
    /// Loves a genre or two, hardly anything else.
    Genres { genres: Vec<String> },
    /// Wants a tempo, whatever the genre.
    Tempo { centre_bpm: f32 },
    /// Wants high-energy (or calm) music.
    Energy { high: bool },
    /// A genre, or else the right energy.
    Mixed { genre: String, high: bool },
    /// Moves from one taste to another as it listens.
    Drifting { from: Box<Taste>, to: Box<Taste> },
}

impl Taste {
    /// Draws a taste of the given shape that fits the catalog.
    pub fn draw(shape: TasteShape, catalog: &Catalog, rng: &mut impl Rng) -> Taste {
        let genres = catalog.genres();
        let pick = |rng: &mut dyn rand::RngCore| genres.choose(rng).cloned().unwrap_or_default();
        match shape {
            TasteShape::GenreLoyal => {
                let mut g = vec![pick(rng)];
                if rng.random_bool(0.5) {
                    let other = pick(rng);
                    if other != g[0] {
                        g.push(other);
                    }
                }
                Taste::Genres { genres: g }
            }
            TasteShape::Tempo => {
                let centre_bpm = catalog
                    .songs()
                    .choose(rng)
                    .map_or(120.0, |s| s.features.raw[0]);
                Taste::Tempo { centre_bpm }
            }
            TasteShape::Energy => Taste::Energy {
                high: rng.random_bool(0.5),
            },
            TasteShape::Mixed => Taste::Mixed {
                genre: pick(rng),
                high: rng.random_bool(0.5),
            },
            TasteShape::Drifting => {
                // Two genres, then two others (as broad as a steady genre-loyal
                // listener's taste at most; none in common, the hardest change).
                let mut order: Vec<String> = genres.to_vec();
                order.shuffle(rng);
                let from: Vec<String> = order.iter().take(2).cloned().collect();
                let to: Vec<String> = order.iter().skip(2).take(2).cloned().collect();
                Taste::Drifting {
                    from: Box::new(Taste::Genres { genres: from }),
                    to: Box::new(Taste::Genres { genres: to }),
                }
            }
        }
    }

    /// How much the listener wants the song after `heard` interactions, in [0, 1].
    pub fn utility(&self, song: &Song, heard: u32) -> f32 {
        match self {
            Taste::Genres { genres } => {
                if genres.contains(&song.genre) {
                    IN_GENRE
                } else {
                    OUT_OF_GENRE
                }
            }
            Taste::Tempo { centre_bpm } => {
                let d = (song.features.raw[0] - centre_bpm) / TEMPO_WIDTH_BPM;
                (-d * d).exp()
            }
            Taste::Energy { high } => {
                let e = energy(song);
                let x = if *high { e } else { -e };
                sigmoid(6.0 * (x - ENERGY_THRESHOLD))
            }
            Taste::Mixed { genre, high } => {
                let g = if *genre == song.genre { IN_GENRE } else { 0.0 };
                let e = Taste::Energy { high: *high }.utility(song, heard);
                g.max(e)
            }
            Taste::Drifting { from, to } => {
                let a = (heard.saturating_sub(DRIFT_START) as f32 / DRIFT_SPAN as f32).min(1.0);
                (1.0 - a) * from.utility(song, heard) + a * to.utility(song, heard)
            }
        }
    }

    /// The genres this taste would pick at onboarding (the first taste of a drift).
    pub fn stated_genres(&self) -> Vec<String> {
        match self {
            Taste::Genres { genres } => genres.clone(),
            Taste::Mixed { genre, .. } => vec![genre.clone()],
            Taste::Drifting { from, .. } => from.stated_genres(),
            Taste::Tempo { .. } | Taste::Energy { .. } => Vec::new(),
        }
    }
}

/// Energy as a catalog z-score: loud, busy, bright, noisy, compressed.
pub fn energy(song: &Song) -> f32 {
    let z = &song.features.scaled;
    (z[1] + z[6] + z[2] + z[4] - z[7]) / 5.0
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
