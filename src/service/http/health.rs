//! Liveness and readiness: `/healthz` answers as soon as the process serves HTTP;
//! `/readyz` only when the store answers and the catalog is loaded (on first start:
//! its first part), with how far the demo catalog's generation has come.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"status": "ok", "node": state.node_id}))
}

#[tracing::instrument(skip_all)]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let store = match state.store.ping().await {
        Ok(()) => json!({"ok": true, "kind": state.store.kind()}),
        Err(e) => json!({"ok": false, "kind": state.store.kind(), "error": e.to_string()}),
    };
    let songs = state.catalog.get().map(|c| c.len());
    let ready = store["ok"] == json!(true) && songs.is_some_and(|n| n > 0);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let generating = state.catalog.generation().map(|g| {
        json!({
            "done": g.done,
            "total": g.total,
            "complete": g.is_complete(),
            "failed": g.failed,
            "elapsed_ms": g.elapsed.as_millis() as u64,
            "eta_ms": g.eta().map(|d| d.as_millis() as u64),
        })
    });
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "node": state.node_id,
        "store": store,
        "catalog": {
            "loaded": songs.is_some(),
            "songs": songs.unwrap_or(0),
            "generation": generating,
        },
    });
    (status, Json(body))
}
