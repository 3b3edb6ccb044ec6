//! The node's catalog once it is loaded: a shared slot that every part of a node reads
//! (handlers, listener actors, the cluster gateway). Empty while the demo catalog is
//! generated at first start; replaced whole, never edited in place.

use std::sync::{Arc, RwLock};

use super::Catalog;

/// The catalog, once loaded. Empty while the demo catalog is being generated at first
/// start: handlers that need it answer 503 until then.
#[derive(Clone, Default)]
pub struct CatalogHandle(Arc<RwLock<Option<Arc<Catalog>>>>);

impl CatalogHandle {
    pub fn get(&self) -> Option<Arc<Catalog>> {
        match self.0.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set(&self, catalog: Arc<Catalog>) {
        match self.0.write() {
            Ok(mut g) => *g = Some(catalog),
            Err(poisoned) => *poisoned.into_inner() = Some(catalog),
        }
    }
}
