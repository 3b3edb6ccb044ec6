//! The seeded demo catalog generator. (To be written.)

use std::path::Path;

use super::Song;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("could not write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Progress callback: (songs done, songs total).
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Generates `songs` demo songs from `seed` into `data_dir`: synthesis, one encode
/// (the master), analysis. Deterministic for a seed.
pub fn generate(
    data_dir: &Path,
    songs: usize,
    seed: u64,
    progress: Progress<'_>,
) -> Result<Vec<Song>, DemoError> {
    let _ = (data_dir, songs, seed, progress);
    Ok(Vec::new())
}
