//! The catalog: every song the node can stream, with its metadata and the audio
//! features the recommender learns from.
//!
//! Songs come from two places — the seeded demo generator ([`demo`]) and the import
//! of a real music folder ([`import`]) — and both go through the same audio
//! analysis ([`analysis`]), so a feature means the same thing whatever its source.
//! A `Catalog` is read-only once built: an `Arc<Catalog>` is shared by the HTTP
//! handlers and the recommender. On first start the demo catalog is published in parts
//! (each a new `Catalog` swapped in whole; [`generation`] says how far it has come).

pub mod analysis;
pub mod demo;
pub mod features;
pub mod generation;
pub mod handle;
pub mod import;
pub mod song;

pub use features::{FeatureVector, Features, FEATURE_COUNT, FEATURE_NAMES};
pub use handle::CatalogHandle;
pub use song::{Song, SongId, SongIdError, SongSource};

use std::collections::HashMap;

/// All songs of a node, indexed by id, with the feature scaling fitted to them.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    songs: Vec<Song>,
    by_id: HashMap<SongId, usize>,
}

impl Catalog {
    /// Builds a catalog from songs; the scaled features are (re)computed over exactly
    /// these songs so that every feature has mean 0 and unit variance in this catalog.
    pub fn new(mut songs: Vec<Song>) -> Self {
        songs.sort_by(|a, b| a.id.cmp(&b.id));
        songs.dedup_by(|a, b| a.id == b.id);
        features::scale_catalog(&mut songs);
        let by_id = songs
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        Self { songs, by_id }
    }

    pub fn songs(&self) -> &[Song] {
        &self.songs
    }

    pub fn len(&self) -> usize {
        self.songs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.songs.is_empty()
    }

    pub fn get(&self, id: &SongId) -> Option<&Song> {
        self.by_id.get(id).map(|&i| &self.songs[i])
    }

    /// The song's position in [`Catalog::songs`]: a dense index the model uses as a row id.
    pub fn index_of(&self, id: &SongId) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Distinct artists.
    pub fn artist_count(&self) -> usize {
        let artists: std::collections::HashSet<&str> =
            self.songs.iter().map(|s| s.artist.as_str()).collect();
        artists.len()
    }

    /// Distinct albums (an album is an artist's: two artists' "Greatest Hits" are two).
    pub fn album_count(&self) -> usize {
        let albums: std::collections::HashSet<(&str, &str)> = self
            .songs
            .iter()
            .map(|s| (s.artist.as_str(), s.album.as_str()))
            .collect();
        albums.len()
    }

    /// Distinct genres, sorted.
    pub fn genres(&self) -> Vec<String> {
        let mut g: Vec<String> = self.songs.iter().map(|s| s.genre.clone()).collect();
        g.sort();
        g.dedup();
        g
    }
}
