//! The node's catalog index, built once per loaded catalog and shared by every
//! listener: features quantized, song neighbours, popularity. Rebuilt only when a new
//! catalog is published in the [`CatalogHandle`].

use std::sync::{Arc, Mutex};

use super::cooccurrence::CoocHandle;
use super::CatalogIndex;
use crate::catalog::{Catalog, CatalogHandle};

/// A catalog and the index built from it.
type BuiltIndex = (Arc<Catalog>, Arc<CatalogIndex>);

/// The node's catalog index, built once per loaded catalog and shared.
#[derive(Clone, Default)]
pub struct IndexCache {
    catalog: CatalogHandle,
    built: Arc<Mutex<Option<BuiltIndex>>>,
    /// Where the co-occurrence job publishes; every index built here reads from it.
    cooc: CoocHandle,
}

impl IndexCache {
    pub fn new(catalog: CatalogHandle) -> Self {
        Self {
            catalog,
            built: Arc::default(),
            cooc: CoocHandle::default(),
        }
    }

    /// The node's co-occurrence slot (the job publishes tables into it).
    pub fn cooc(&self) -> &CoocHandle {
        &self.cooc
    }

    /// The index of the loaded catalog (`None` until one is loaded). The first call
    /// after a catalog is published builds it (milliseconds for thousands of songs).
    pub fn get(&self) -> Option<Arc<CatalogIndex>> {
        let catalog = self.catalog.get()?;
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        match &*built {
            Some((c, index)) if Arc::ptr_eq(c, &catalog) => Some(index.clone()),
            _ => {
                let index =
                    Arc::new(CatalogIndex::build(catalog.clone()).with_cooc(self.cooc.clone()));
                *built = Some((catalog, index.clone()));
                Some(index)
            }
        }
    }
}
