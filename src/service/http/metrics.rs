//! `GET /metrics`: the node's Prometheus metrics (text exposition format, rendered by
//! `telemetry::metrics`), and [`record`], the middleware that times every request by
//! method, route template (axum's [`MatchedPath`], never the raw path) and status class.
//!
//! For operators ([`Operator`]): the bearer ops token or an admin's session. While the
//! HTTP listener is on loopback, where only this machine can reach it, /metrics is open
//! without a credential (a local Prometheus needs no token). With `metrics.enabled =
//! false` nothing is recorded and /metrics answers 404.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::error::ErrorBody;
use super::ops_auth::Operator;
use super::{ApiError, AppState};
use crate::telemetry::metrics;

/// The content type of the text exposition format.
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

#[utoipa::path(get, path = "/metrics", tag = "cluster",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain"),
              (status = 401, description = "Off loopback, no operator credential: send the ops token as a bearer token, or sign in as an admin", body = ErrorBody),
              (status = 403, description = "A wrong token, or a listener who is not an admin", body = ErrorBody),
              (status = 404, description = "Metrics are off on this node (metrics.enabled = false)", body = ErrorBody),
              (status = 503, description = "The store is down (checking an admin's session)", body = ErrorBody)))]
pub async fn scrape(State(state): State<AppState>, mut parts: Parts) -> Result<Response, ApiError> {
    if !on_loopback(&state.settings.http) {
        Operator::check(&mut parts, &state).await?;
    }
    if metrics::handle().is_none() {
        return Err(ApiError::not_found("metrics are off on this node"));
    }
    set_gauges(&state);
    let body = metrics::render().unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, EXPOSITION)], body).into_response())
}

/// The gauges, read from the node right before a scrape.
fn set_gauges(state: &AppState) {
    let listeners = state.cluster.listeners();
    let ids = listeners.active_ids();
    let owned = ids.iter().filter(|id| state.cluster.owns(id)).count();
    metrics::set_gauges(
        ids.len(),
        owned,
        state.cluster.live_nodes().len(),
        listeners.largest_mailbox(),
    );
}

/// Whether the configured HTTP address is on loopback only (`127.0.0.1:…`, `[::1]:…`,
/// `localhost:…`). A wildcard or any other address is not.
pub fn on_loopback(http: &str) -> bool {
    if let Ok(addr) = http.parse::<SocketAddr>() {
        return addr.ip().is_loopback();
    }
    if let Ok(ip) = http.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    http.rsplit_once(':')
        .is_some_and(|(host, _)| host.eq_ignore_ascii_case("localhost"))
}

/// Times the request: method, route template, status class (see module docs).
pub async fn record(req: Request, next: Next) -> Response {
    if metrics::handle().is_none() {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = req.method().clone();
    // A clone of the matched template is a reference count, not a copy of the text.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    metrics::http_request(
        method.as_str(),
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::on_loopback;

    #[test]
    fn only_loopback_addresses_count() {
        assert!(on_loopback("127.0.0.1:8080"));
        assert!(on_loopback("[::1]:8080"));
        assert!(on_loopback("localhost:8080"));
        assert!(!on_loopback("0.0.0.0:8080"));
        assert!(!on_loopback("[::]:8080"));
        assert!(!on_loopback("10.1.2.3:8080"));
        assert!(!on_loopback("example.org:8080"));
    }
}
