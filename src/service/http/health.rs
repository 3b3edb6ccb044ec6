//! Liveness and readiness: `/healthz` answers as soon as the process serves HTTP;
//! `/readyz` only when the store answers and the catalog is loaded (on first start:
//! its first part).
//!
//! To anyone, `/readyz` says only ready or not (a store error can name hosts and
//! files); the details — the store's error, the catalog, how far the demo catalog's
//! generation has come — go to the log when not ready, and to operators
//! (`http::ops_auth`) in the body.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::ops_auth::Operator;
use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The process serves HTTP.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always "ok".
    status: &'static str,
    node: String,
}

/// Whether this node can serve the API; for operators, also what it waits for.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// "ready" or "not_ready".
    status: &'static str,
    /// The details, to operators only (the ops token, or an admin's session).
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<ReadinessDetails>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessDetails {
    node: String,
    store: StoreHealth,
    catalog: CatalogHealth,
}

/// Whether the request may see the details: an operator, checked without failing.
pub struct MaySeeDetails(bool);

impl FromRequestParts<AppState> for MaySeeDetails {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaySeeDetails(Operator::check(parts, state).await.is_ok()))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreHealth {
    ok: bool,
    /// Which backend: "embedded", "redis" or "redis-cluster".
    kind: &'static str,
    /// Why the store did not answer (absent when it did).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogHealth {
    loaded: bool,
    songs: usize,
    /// How far the demo catalog's generation has come (absent when none ran).
    generation: Option<GenerationView>,
}

/// Progress of the demo catalog generated at first start.
#[derive(Debug, Serialize, ToSchema)]
pub struct GenerationView {
    done: usize,
    total: usize,
    complete: bool,
    /// A song could not be made: the rest will not come.
    failed: bool,
    elapsed_ms: u64,
    /// Estimated time to completion (absent until it can be estimated).
    eta_ms: Option<u64>,
}

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process serves HTTP", body = Health)))]
async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        node: state.node_id.to_string(),
    })
}

#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "The store answers and the catalog is loaded", body = Readiness),
              (status = 503, description = "Not ready yet, or the store is down; an operator's request gets the details", body = Readiness)))]
#[tracing::instrument(skip_all)]
async fn readyz(
    State(state): State<AppState>,
    MaySeeDetails(operator): MaySeeDetails,
) -> (StatusCode, Json<Readiness>) {
    let error = state.store.ping().await.err().map(|e| e.to_string());
    let songs = state.catalog.get().map(|c| c.len());
    let ready = error.is_none() && songs.is_some_and(|n| n > 0);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let generation = state.catalog.generation().map(|g| GenerationView {
        done: g.done,
        total: g.total,
        complete: g.is_complete(),
        failed: g.failed,
        elapsed_ms: g.elapsed.as_millis() as u64,
        eta_ms: g.eta().map(|d| d.as_millis() as u64),
    });
    if let Some(e) = &error {
        tracing::warn!(error = %e, "not ready: the store does not answer");
    }
    let details = operator.then(|| ReadinessDetails {
        node: state.node_id.to_string(),
        store: StoreHealth {
            ok: error.is_none(),
            kind: state.store.kind(),
            error,
        },
        catalog: CatalogHealth {
            loaded: songs.is_some(),
            songs: songs.unwrap_or(0),
            generation,
        },
    });
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        details,
    };
    (status, Json(body))
}
