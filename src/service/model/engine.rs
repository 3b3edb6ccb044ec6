//! The engine chosen by the setting (`[model] engine`): a fitted model of either
//! forest behind one type, with its own byte format (a tag byte, then the engine's bytes).

use super::classifier::{Engine, LabeledRow, ModelError};
use super::crate_forest::{CrateForest, CrateParams};
use super::hist_forest::{HistForest, HistParams};
use super::quantize::FeatureIndex;
pub use crate::config::EngineKind;

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
