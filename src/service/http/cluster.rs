//! `GET /api/cluster`: the live nodes as this node sees them — state, heartbeat age,
//! active listener actors — and which one answered. For operators only
//! ([`Operator`]: it names every node's addresses); it reads the registry in the store,
//! so every node gives the same picture.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::ops_auth::Operator;
use super::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/cluster", get(cluster))
}

/// A live node as the registry in the store has it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NodeView {
    id: String,
    /// "up" or "draining".
    state: String,
    /// How long ago the node last beat.
    heartbeat_age_ms: u64,
    /// Its active listener actors as of its last beat.
    listeners: u64,
    http_addr: String,
    cluster_addr: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterView {
    nodes: Vec<NodeView>,
    /// The node that answered.
    #[serde(rename = "self")]
    this: String,
    /// This node's own count right now (the registry's is as of its last beat).
    local_listeners: usize,
}

#[utoipa::path(get, path = "/api/cluster", tag = "cluster",
    responses((status = 200, body = ClusterView),
              (status = 401, description = "No operator credential: send the ops token as a bearer token, or sign in as an admin", body = ErrorBody),
              (status = 403, description = "A wrong token, or a listener who is not an admin", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(name = "cluster_view", skip_all)]
async fn cluster(
    State(state): State<AppState>,
    _operator: Operator,
) -> Result<Json<ClusterView>, ApiError> {
    let mut nodes = state.store.live_nodes().await?;
    nodes.sort_by(|a, b| a.info.id.cmp(&b.info.id));
    Ok(Json(ClusterView {
        nodes: nodes
            .into_iter()
            .map(|n| NodeView {
                id: n.info.id.to_string(),
                state: n.info.state,
                heartbeat_age_ms: n.heartbeat_age_ms,
                listeners: n.info.listeners,
                http_addr: n.info.http_addr,
                cluster_addr: n.info.cluster_addr,
            })
            .collect(),
        this: state.node_id.to_string(),
        local_listeners: state.cluster.listeners().active_count(),
    }))
}
