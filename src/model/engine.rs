//! The classifier trait every engine meets, the engine chosen by a setting, and the
//! checks every fit shares (so no engine sees empty, one-class or non-finite data).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::crate_forest::{CrateForest, CrateParams};
use super::hist_forest::{HistForest, HistParams};
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

/// Which engine a listener's model uses. `histogram` is the default: the benchmark
/// shows it fastest at equal AUC (README, "Model engines").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    #[default]
    Histogram,
    RandomForest,
}

impl EngineKind {
    pub const ALL: [EngineKind; 2] = [EngineKind::Histogram, EngineKind::RandomForest];

    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Histogram => "histogram",
            EngineKind::RandomForest => "randomforest",
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown model engine {0:?} (expected \"histogram\" or \"randomforest\")")]
pub struct UnknownEngine(pub String);

impl FromStr for EngineKind {
    type Err = UnknownEngine;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "histogram" | "hist" => Ok(EngineKind::Histogram),
            "randomforest" | "random-forest" | "random_forest" => Ok(EngineKind::RandomForest),
            _ => Err(UnknownEngine(s.to_owned())),
        }
    }
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

/// A fitted model of whichever engine the setting chose.
#[derive(Debug, Clone)]
pub enum Model {
    Histogram(HistForest),
    RandomForest(CrateForest),
}

/// First byte of [`Model::to_bytes`]: which engine wrote the rest.
const TAG_HISTOGRAM: u8 = 1;
const TAG_RANDOMFOREST: u8 = 2;

impl Model {
    /// Fits the chosen engine with its default parameters.
    pub fn fit(
        kind: EngineKind,
        index: &FeatureIndex,
        rows: &[LabeledRow],
        seed: u64,
    ) -> Result<Self, ModelError> {
        Ok(match kind {
            EngineKind::Histogram => {
                Model::Histogram(HistForest::fit(index, rows, &HistParams::default(), seed)?)
            }
            EngineKind::RandomForest => Model::RandomForest(CrateForest::fit(
                index,
                rows,
                &CrateParams::default(),
                seed,
            )?),
        })
    }

    pub fn kind(&self) -> EngineKind {
        match self {
            Model::Histogram(_) => EngineKind::Histogram,
            Model::RandomForest(_) => EngineKind::RandomForest,
        }
    }

    pub fn score(&self, index: &FeatureIndex, songs: &[u32], out: &mut [f32]) {
        match self {
            Model::Histogram(m) => m.score(index, songs, out),
            Model::RandomForest(m) => m.score(index, songs, out),
        }
    }

    pub fn fingerprint(&self) -> u64 {
        match self {
            Model::Histogram(m) => m.fingerprint(),
            Model::RandomForest(m) => m.fingerprint(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let (tag, body) = match self {
            Model::Histogram(m) => (TAG_HISTOGRAM, m.to_bytes()),
            Model::RandomForest(m) => (TAG_RANDOMFOREST, m.to_bytes()),
        };
        let mut out = Vec::with_capacity(body.len() + 1);
        out.push(tag);
        out.extend_from_slice(&body);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        match bytes.split_first() {
            Some((&TAG_HISTOGRAM, rest)) => Ok(Model::Histogram(HistForest::from_bytes(rest)?)),
            Some((&TAG_RANDOMFOREST, rest)) => {
                Ok(Model::RandomForest(CrateForest::from_bytes(rest)?))
            }
            Some((tag, _)) => Err(ModelError::Malformed(format!("unknown engine tag {tag}"))),
            None => Err(ModelError::Malformed("empty".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_kind_parses_and_prints() {
        for k in EngineKind::ALL {
            assert_eq!(k.to_string().parse::<EngineKind>(), Ok(k));
        }
        assert_eq!("random-forest".parse(), Ok(EngineKind::RandomForest));
        assert!("svm".parse::<EngineKind>().is_err());
        assert_eq!(EngineKind::default(), EngineKind::Histogram);
    }
}
