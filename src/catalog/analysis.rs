//! Audio analysis: decoded audio in, a raw feature vector out.
//! (Placeholder with the agreed signatures; the real one lands from the audio branch.)

use std::path::Path;

use super::FeatureVector;
use crate::media::codec::Pcm;

#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub features: FeatureVector,
    pub duration_ms: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AnalysisError(String);

pub fn analyze_pcm(pcm: &Pcm) -> Analysis {
    let _ = pcm;
    Analysis {
        features: [0.0; super::FEATURE_COUNT],
        duration_ms: 0,
    }
}

pub fn analyze_file(path: &Path) -> Result<Analysis, AnalysisError> {
    Err(AnalysisError(format!("cannot analyse {}", path.display())))
}
