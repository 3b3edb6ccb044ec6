//! What every handler can reach: settings, the store, the catalog once it is loaded,
//! and the media directory.

use std::sync::{Arc, RwLock};

use super::ratelimit::LoginLimiter;
use crate::catalog::Catalog;
use crate::cluster::Cluster;
use crate::config::Settings;
use crate::media::Media;
use crate::store::{NodeId, SharedStore};

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

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub node_id: NodeId,
    pub store: SharedStore,
    pub catalog: CatalogHandle,
    /// Failed-login and sign-up counters (see `http::ratelimit`).
    pub limits: Arc<LoginLimiter>,
    pub media: Media,
    /// Membership, placement, routing and this node's listener actors.
    pub cluster: Cluster,
}
