//! Everything the recommender derives from a catalog, built once per catalog and
//! shared read-only (`Arc<CatalogIndex>`) by every listener model of a node.

use std::collections::HashMap;
use std::sync::Arc;

use super::cooccurrence::table::{CoocHandle, CoocNeighbours, CoocSlot};
use super::neighbours::Neighbours;
use super::quantize::FeatureIndex;
use crate::catalog::{Catalog, SongId};

#[derive(Debug)]
pub struct CatalogIndex {
    catalog: Arc<Catalog>,
    features: FeatureIndex,
    neighbours: Neighbours,
    /// Song indices, most popular first (ties: catalog order).
    popular: Vec<u32>,
    /// Song indices per genre, most popular first.
    by_genre: HashMap<String, Vec<u32>>,
    /// The latest co-occurrence table (learned from everyone; empty until published).
    cooc: CoocSlot,
}

impl CatalogIndex {
    pub fn build(catalog: Arc<Catalog>) -> Self {
        let songs = catalog.songs();
        let features = FeatureIndex::new(songs.iter().map(|s| s.features.scaled).collect());
        let neighbours = Neighbours::build(
            &(0..songs.len())
                .filter_map(|i| features.scaled(i).copied())
                .collect::<Vec<_>>(),
        );
        let mut popular: Vec<u32> = (0..songs.len() as u32).collect();
        popular.sort_by(|&a, &b| {
            songs[b as usize]
                .popularity
                .total_cmp(&songs[a as usize].popularity)
                .then(a.cmp(&b))
        });
        let mut by_genre: HashMap<String, Vec<u32>> = HashMap::new();
        for &i in &popular {
            by_genre
                .entry(songs[i as usize].genre.clone())
                .or_default()
                .push(i);
        }
        Self {
            catalog,
            features,
            neighbours,
            popular,
            by_genre,
            cooc: CoocSlot::default(),
        }
    }

    /// Reads co-occurrence tables from `handle` (a node's shared slot) from now on.
    pub fn with_cooc(mut self, handle: CoocHandle) -> Self {
        self.cooc = CoocSlot::new(handle);
        self
    }

    /// Where co-occurrence tables for this index are published.
    pub fn cooc_handle(&self) -> &CoocHandle {
        self.cooc.handle()
    }

    /// The latest co-occurrence table, resolved against this catalog.
    pub fn cooc(&self) -> Arc<CoocNeighbours> {
        self.cooc.get(&self.catalog)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn features(&self) -> &FeatureIndex {
        &self.features
    }

    pub fn neighbours(&self) -> &Neighbours {
        &self.neighbours
    }

    pub fn popular(&self) -> &[u32] {
        &self.popular
    }

    /// Songs of a genre, most popular first (empty for an unknown genre).
    pub fn genre(&self, genre: &str) -> &[u32] {
        self.by_genre.get(genre).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn index_of(&self, id: &SongId) -> Option<u32> {
        self.catalog.index_of(id).map(|i| i as u32)
    }

    pub fn len(&self) -> usize {
        self.catalog.len()
    }

    pub fn is_empty(&self) -> bool {
        self.catalog.is_empty()
    }
}
