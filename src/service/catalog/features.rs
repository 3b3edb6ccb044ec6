//! Audio features: what the recommender knows about how a song sounds.
//!
//! The raw vector is in physical units (BPM, LUFS, Hz, …) as the analysis measured it;
//! the scaled vector is z-scored over the catalog, so models see comparable ranges.
//! The order of [`FEATURE_NAMES`] is part of stored data: append, never reorder.

use serde::{Deserialize, Serialize};

pub const FEATURE_COUNT: usize = 8;

/// Names and units of the raw features, in vector order.
pub const FEATURE_NAMES: [&str; FEATURE_COUNT] = [
    "tempo_bpm",
    "loudness_lufs",
    "spectral_centroid_hz",
    "spectral_rolloff_hz",
    "spectral_flatness",
    "zero_crossing_rate",
    "onset_rate_hz",
    "dynamic_range_db",
];

pub type FeatureVector = [f32; FEATURE_COUNT];

/// A song's features: raw (as measured) and scaled (over the catalog).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Features {
    pub raw: FeatureVector,
    pub scaled: FeatureVector,
}

impl Features {
    pub fn from_raw(raw: FeatureVector) -> Self {
        Self {
            raw,
            scaled: [0.0; FEATURE_COUNT],
        }
    }
}

/// Z-scores every feature over the given songs (mean 0, unit variance); a constant
/// feature scales to 0. Non-finite raw values are treated as the feature's mean.
pub fn scale_catalog(songs: &mut [super::Song]) {
    if songs.is_empty() {
        return;
    }
    for f in 0..FEATURE_COUNT {
        let vals: Vec<f64> = songs
            .iter()
            .map(|s| s.features.raw[f] as f64)
            .filter(|v| v.is_finite())
            .collect();
        let n = vals.len().max(1) as f64;
        let mean = vals.iter().sum::<f64>() / n;
        let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let sd = var.sqrt();
        for s in songs.iter_mut() {
            let v = s.features.raw[f] as f64;
            let z = if !v.is_finite() || sd < 1e-12 {
                0.0
            } else {
                (v - mean) / sd
            };
            s.features.scaled[f] = z as f32;
        }
    }
}
