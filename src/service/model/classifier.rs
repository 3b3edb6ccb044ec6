//! What every classifier engine meets: the training row, the error, the [`Engine`]
//! trait, and the checks every fit shares (so no engine sees empty, one-class or
//! non-finite data). The engines (`hist_forest`, `crate_forest`) depend on this file;
//! `engine` picks one of them.

use super::quantize::FeatureIndex;
use crate::catalog::FEATURE_NAMES;

/// One training row: a song (its index in the catalog), its label and its weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabeledRow {
    pub song: u32,
    pub positive: bool,
    pub weight: f32,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("no training rows")]
    Empty,
    #[error("only one class in the training rows ({positives} positive, {negatives} negative)")]
    OneClass { positives: usize, negatives: usize },
    #[error("song index {0} is not in the catalog")]
    UnknownSong(u32),
    #[error("song index {song} has a non-finite {feature}")]
    NonFinite { song: u32, feature: &'static str },
    #[error("row {0} has a weight that is not a positive finite number")]
    BadWeight(usize),
    #[error("malformed model bytes: {0}")]
    Malformed(String),
    #[error("the model was fitted on a different catalog (fingerprint {found:#x}, catalog {expected:#x})")]
    CatalogMismatch { found: u64, expected: u64 },
}

/// A binary classifier over catalog songs. Scores are probabilities in [0, 1] that
/// the listener finishes the song.
pub trait Engine: Sized {
    type Params: Clone + Default;

    /// Fits on the rows; the rows must pass [`validate`] (engines call it).
    fn fit(
        index: &FeatureIndex,
        rows: &[LabeledRow],
        params: &Self::Params,
        seed: u64,
    ) -> Result<Self, ModelError>;

    /// Writes one probability per song into `out` (same length as `songs`). Unknown
    /// songs score 0.
    fn score(&self, index: &FeatureIndex, songs: &[u32], out: &mut [f32]);

    fn to_bytes(&self) -> Vec<u8>;

    fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError>;

    /// The catalog quantization the model was fitted on.
    fn fingerprint(&self) -> u64;
}

/// Rejects what no engine can learn from: no rows, one class, unknown songs, bad
/// weights, and non-finite features (±inf panics the `randomforest` crate).
pub fn validate(index: &FeatureIndex, rows: &[LabeledRow]) -> Result<(), ModelError> {
    if rows.is_empty() {
        return Err(ModelError::Empty);
    }
    let mut positives = 0;
    for (i, r) in rows.iter().enumerate() {
        if r.song as usize >= index.len() {
            return Err(ModelError::UnknownSong(r.song));
        }
        if let Some(f) = index.non_finite_feature(r.song as usize) {
            return Err(ModelError::NonFinite {
                song: r.song,
                feature: FEATURE_NAMES[f],
            });
        }
        if !(r.weight.is_finite() && r.weight > 0.0) {
            return Err(ModelError::BadWeight(i));
        }
        positives += r.positive as usize;
    }
    let negatives = rows.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(ModelError::OneClass {
            positives,
            negatives,
        });
    }
    Ok(())
}
