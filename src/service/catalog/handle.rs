//! The node's catalog once it is loaded: a shared slot that every part of a node reads
//! (handlers, listener actors, the cluster gateway), and how far the demo catalog's
//! generation is. Empty while the first part of the demo catalog is generated at first
//! start; replaced whole, never edited in place.

use std::sync::{Arc, RwLock};

use super::generation::Generation;
use super::Catalog;

/// The catalog as published, and how far its generation is. Empty while the first part
/// of the demo catalog is being generated at first start: handlers that need it answer
/// 503 until then. Publishing swaps in a whole new `Arc<Catalog>` at once; a reader
/// holds the snapshot it got for as long as it needs it (never a half-updated catalog).
#[derive(Clone, Default)]
pub struct CatalogHandle {
    published: Arc<RwLock<Option<Arc<Catalog>>>>,
    generation: Arc<RwLock<Option<Generation>>>,
}

impl CatalogHandle {
    pub fn get(&self) -> Option<Arc<Catalog>> {
        match self.published.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Publishes a catalog, replacing the one readers get from now on.
    pub fn set(&self, catalog: Arc<Catalog>) {
        match self.published.write() {
            Ok(mut g) => *g = Some(catalog),
            Err(poisoned) => *poisoned.into_inner() = Some(catalog),
        }
    }

    /// The demo catalog's generation while it runs (and once it ended), else `None`.
    pub fn generation(&self) -> Option<Generation> {
        match self.generation.read() {
            Ok(g) => *g,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    pub fn set_generation(&self, generation: Generation) {
        match self.generation.write() {
            Ok(mut g) => *g = Some(generation),
            Err(poisoned) => *poisoned.into_inner() = Some(generation),
        }
    }
}
