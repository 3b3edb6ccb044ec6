//! What every handler can reach: settings, the store, the catalog once it is loaded,
//! and the media directory.

use std::sync::Arc;

use super::ratelimit::LoginLimiter;
use crate::catalog::CatalogHandle;
use crate::cluster::Cluster;
use crate::config::Settings;
use crate::media::Media;
use crate::store::{NodeId, SharedStore};

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
