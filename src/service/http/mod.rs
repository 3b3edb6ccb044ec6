//! The HTTP surface of a node: the JSON API under `/api`, streaming, cover art,
//! health, and the embedded web app.
//!
//! Every route module exposes `routes() -> Router<AppState>`; [`router`] merges them
//! and adds the layers every request shares (a tracing span, a body-size limit,
//! a timeout for non-streaming requests, the browser protections of [`browser_guard`],
//! request metrics by route template from [`metrics::record`]). [`serve`] is the listener under it: the
//! connection cap and the connection timeouts. Only this module knows HTTP and JSON:
//! the handlers parse input into domain types and call library code.

pub mod accounts;
pub mod activity;
pub mod browser_guard;
pub mod catalog;
pub mod cluster;
pub mod edge;
pub mod error;
pub mod feed;
pub mod health;
pub mod interactions;
pub mod library;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod ops_auth;
pub mod password;
pub mod playlists;
pub mod proxy;
pub mod radio;
pub mod ratelimit;
pub mod search;
pub mod serve;
pub mod session;
pub mod social;
pub mod state;
pub mod stream;
pub mod subsonic;
pub mod time;
pub mod web;

pub use error::ApiError;
pub use state::AppState;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The node's whole router.
pub fn router(state: AppState) -> Router {
    let limits = &state.settings.http_limits;
    let max_body = limits.max_body_bytes;
    let request_timeout = Duration::from_millis(limits.request_timeout_ms);
    // Every route but the streams answers 503 once it has run for the request timeout
    // (reading the body included); a stream is bounded by the connection's idle timeout.
    let timed = Router::new()
        .merge(health::routes())
        .merge(catalog::routes())
        .merge(feed::routes())
        .merge(interactions::routes())
        .merge(cluster::routes())
        .merge(metrics::routes())
        .merge(ops::routes())
        .merge(accounts::routes())
        .merge(search::routes())
        .merge(playlists::routes())
        .merge(library::routes())
        .merge(radio::routes())
        .merge(social::routes())
        .merge(activity::routes())
        .merge(openapi::routes())
        .merge(web::routes())
        // Subsonic apps (`/rest/`, and their keys under `/api/me`).
        .merge(subsonic::routes())
        .merge(subsonic::keys::routes())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ));
    Router::new()
        .merge(timed)
        .merge(stream::routes())
        .merge(subsonic::stream_routes())
        .merge(activity::stream_routes())
        .fallback(edge::not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(edge::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            browser_guard::guard,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(axum::middleware::from_fn(metrics::record))
        .with_state(state)
}
