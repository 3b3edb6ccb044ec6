//! The named `randomforest` crate (0.2) behind the [`Engine`] trait, set up to stay
//! usable: its fit is quadratic in the rows of a tree, so each tree draws at most
//! [`CrateParams::max_samples`] rows; the tree count is odd so votes cannot tie; the
//! probability is the vote share from `predict_individuals`; non-finite features are
//! rejected before `fit` (±inf panics it). The crate has no sample weights: rows
//! enter once each, whatever their weight. Its model is not `Clone`, so it is shared
//! with an `Arc`, and it saves with its own format (not serde).

use randomforest::criterion::Gini;
use randomforest::table::TableBuilder;
use randomforest::{RandomForestClassifier, RandomForestClassifierOptions};
use std::num::NonZeroUsize;
use std::sync::Arc;

use super::classifier::{validate, Engine, LabeledRow, ModelError};
use super::quantize::FeatureIndex;
use crate::catalog::FEATURE_COUNT;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrateParams {
    /// Trees; forced odd so that a majority exists. 31 trees of at most 128 rows fit
    /// in 0.4-0.6 s on a loaded 2-core box (`spoofify bench model`): the crate stays
    /// usable but far from a per-skip refit.
    pub trees: usize,
    /// Rows drawn per tree, at most: the crate's cost grows with its square.
    /// `None` = as many as there are rows (the crate's default, for comparison only).
    pub max_samples: Option<usize>,
}

impl Default for CrateParams {
    fn default() -> Self {
        Self {
            trees: 31,
            max_samples: Some(128),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CrateForest {
    fingerprint: u64,
    trees: usize,
    model: Arc<RandomForestClassifier>,
}

fn row_of(index: &FeatureIndex, song: u32) -> Option<[f64; FEATURE_COUNT]> {
    let r = index.scaled(song as usize)?;
    Some(std::array::from_fn(|f| r[f] as f64))
}

impl Engine for CrateForest {
    type Params = CrateParams;

    fn fit(
        index: &FeatureIndex,
        rows: &[LabeledRow],
        params: &CrateParams,
        seed: u64,
    ) -> Result<Self, ModelError> {
        validate(index, rows)?;
        let mut table = TableBuilder::new();
        for r in rows {
            let x = row_of(index, r.song).ok_or(ModelError::UnknownSong(r.song))?;
            table
                .add_row(&x, if r.positive { 1.0 } else { 0.0 })
                .map_err(|e| ModelError::Malformed(e.to_string()))?;
        }
        let table = table
            .build()
            .map_err(|e| ModelError::Malformed(e.to_string()))?;
        let trees = params.trees.max(1) | 1;
        let mut options = RandomForestClassifierOptions::new();
        options.seed(seed);
        if let Some(t) = NonZeroUsize::new(trees) {
            options.trees(t);
        }
        if let Some(m) = params.max_samples.and_then(NonZeroUsize::new) {
            options.max_samples(m);
        }
        let model = options.fit(Gini, table);
        Ok(Self {
            fingerprint: index.fingerprint(),
            trees,
            model: Arc::new(model),
        })
    }

    fn score(&self, index: &FeatureIndex, songs: &[u32], out: &mut [f32]) {
        for (song, o) in songs.iter().zip(out.iter_mut()) {
            *o = match row_of(index, *song) {
                Some(x) => {
                    let votes = self
                        .model
                        .predict_individuals(&x)
                        .filter(|&v| v >= 0.5)
                        .count();
                    votes as f32 / self.trees as f32
                }
                None => 0.0,
            };
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.fingerprint.to_le_bytes());
        out.extend_from_slice(&(self.trees as u32).to_le_bytes());
        // Writing into a Vec cannot fail.
        let _ = self.model.serialize(&mut out);
        out
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        if bytes.len() < 12 {
            return Err(ModelError::Malformed("too short".into()));
        }
        let (head, body) = bytes.split_at(12);
        let mut fp = [0u8; 8];
        fp.copy_from_slice(&head[..8]);
        let mut tr = [0u8; 4];
        tr.copy_from_slice(&head[8..]);
        let model = RandomForestClassifier::deserialize(body)
            .map_err(|e| ModelError::Malformed(e.to_string()))?;
        Ok(Self {
            fingerprint: u64::from_le_bytes(fp),
            trees: (u32::from_le_bytes(tr) as usize).max(1),
            model: Arc::new(model),
        })
    }

    fn fingerprint(&self) -> u64 {
        self.fingerprint
    }
}
