//! `GET /api/ops`: what the operator page (`/#/ops` in the web app) draws — every node
//! with its state (up, draining, gone) and since when, listener actors per node, the
//! placement balance, recent failovers with their durations, and this node's request
//! rate, p99 and interactions/s, one sample a second (`cluster::ops_history`). For
//! operators only ([`Operator`]). Node states and failovers are as the answering node
//! saw them since it started; the samples are that node's own traffic.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::ops_auth::Operator;
use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/ops", get(ops))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpsNode {
    id: String,
    /// "up", "draining" or "gone".
    state: String,
    /// Since when it has been in that state (ms since the epoch), as far as the
    /// answering node saw.
    since_ms: u64,
    /// Its listener actors at its last heartbeat.
    listeners: u64,
    http_addr: String,
    /// Its last heartbeat (ms since the epoch).
    last_beat_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Placement {
    /// Nodes that own listeners (up).
    owners: usize,
    /// Listener actors on those nodes together.
    listeners: u64,
    /// The busiest node's actors over the mean (1 = perfectly even; 0 without listeners).
    balance: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpsFailover {
    node: String,
    last_beat_ms: u64,
    /// When the answering node re-placed the lost node's listeners.
    detected_ms: u64,
    /// From the last beat to the re-placement.
    duration_ms: u64,
    /// Listeners it had at its last beat.
    listeners: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpsSample {
    t_ms: u64,
    requests_per_s: f64,
    /// Null in a second without requests.
    p99_ms: Option<f64>,
    interactions_per_s: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpsView {
    /// The node that answered.
    #[serde(rename = "self")]
    this: String,
    nodes: Vec<OpsNode>,
    placement: Placement,
    /// Newest first.
    failovers: Vec<OpsFailover>,
    /// The answering node's traffic, oldest first, one a second (up to ten minutes).
    samples: Vec<OpsSample>,
}

#[utoipa::path(get, path = "/api/ops", tag = "cluster",
    responses((status = 200, body = OpsView),
              (status = 401, description = "No operator credential: send the ops token as a bearer token, or sign in as an admin", body = ErrorBody),
              (status = 403, description = "A wrong token, or a listener who is not an admin", body = ErrorBody),
              (status = 503, description = "The store is down (checking an admin's session)", body = ErrorBody)))]
#[tracing::instrument(name = "ops_view", skip_all)]
pub async fn ops(State(state): State<AppState>, _operator: Operator) -> Json<OpsView> {
    let (nodes, failovers, samples) = state.cluster.ops_history();
    let up: Vec<u64> = nodes
        .iter()
        .filter(|(_, n)| n.state == "up")
        .map(|(_, n)| n.listeners)
        .collect();
    let total: u64 = up.iter().sum();
    let balance = match (up.iter().max(), up.len()) {
        (Some(&max), n) if total > 0 => max as f64 / (total as f64 / n as f64),
        _ => 0.0,
    };
    Json(OpsView {
        this: state.node_id.to_string(),
        placement: Placement {
            owners: up.len(),
            listeners: total,
            balance,
        },
        nodes: nodes
            .into_iter()
            .map(|(id, n)| OpsNode {
                id,
                state: n.state,
                since_ms: n.since_ms,
                listeners: n.listeners,
                http_addr: n.http_addr,
                last_beat_ms: n.last_beat_ms,
            })
            .collect(),
        failovers: failovers
            .into_iter()
            .map(|f| OpsFailover {
                duration_ms: f.duration_ms(),
                node: f.node,
                last_beat_ms: f.last_beat_ms,
                detected_ms: f.detected_ms,
                listeners: f.listeners,
            })
            .collect(),
        samples: samples
            .into_iter()
            .map(|s| OpsSample {
                t_ms: s.t_ms,
                requests_per_s: s.requests_per_s,
                p99_ms: s.p99_ms,
                interactions_per_s: s.interactions_per_s,
            })
            .collect(),
    })
}
