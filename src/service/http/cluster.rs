//! `GET /api/cluster`: the live nodes as this node sees them — state, heartbeat age,
//! active listener actors — and which one answered. For operators and dashboards;
//! it reads the registry in the store, so every node gives the same picture.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::{ApiError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/cluster", get(cluster))
}

#[derive(Debug, Serialize)]
struct NodeView {
    id: String,
    state: String,
    heartbeat_age_ms: u64,
    listeners: u64,
    http_addr: String,
    cluster_addr: Option<String>,
}

#[derive(Debug, Serialize)]
struct ClusterView {
    nodes: Vec<NodeView>,
    #[serde(rename = "self")]
    this: String,
    /// This node's own count right now (the registry's is as of its last beat).
    local_listeners: usize,
}

#[tracing::instrument(name = "cluster_view", skip_all)]
async fn cluster(State(state): State<AppState>) -> Result<Json<ClusterView>, ApiError> {
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
