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

/// Deterministic generated cover art for a song (placeholder).
pub fn cover_svg(song: &Song) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><title>{}</title></svg>",
        song.id
    )
}
