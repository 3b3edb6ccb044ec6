//! The HTTP surface of a node: the JSON API under `/api`, streaming, cover art,
//! health, and the embedded web app.
//!
//! Every route module exposes `routes() -> Router<AppState>`; [`router`] merges them
//! and adds the layers every request shares (a tracing span, a body-size limit,
//! a timeout for non-streaming requests). Only this module knows HTTP and JSON: the
//! handlers parse input into domain types and call library code.

pub mod accounts;
pub mod catalog;
pub mod cluster;
pub mod edge;
pub mod error;
pub mod feed;
pub mod health;
pub mod interactions;
pub mod library;
pub mod openapi;
pub mod playlists;
pub mod radio;
pub mod ratelimit;
pub mod search;
pub mod session;
pub mod state;
pub mod stream;
pub mod web;

pub use error::ApiError;
pub use state::AppState;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tower_http::trace::TraceLayer;

/// The node's whole router.
pub fn router(state: AppState) -> Router {
    let max_body = state.settings.http_limits.max_body_bytes;
    Router::new()
        .merge(health::routes())
        .merge(catalog::routes())
        .merge(stream::routes())
        .merge(feed::routes())
        .merge(interactions::routes())
        .merge(cluster::routes())
        .merge(accounts::routes())
        .merge(search::routes())
        .merge(playlists::routes())
        .merge(library::routes())
        .merge(radio::routes())
        .merge(openapi::routes())
        .merge(web::routes())
        .fallback(edge::not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(edge::json_errors))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
            }),
        )
        .with_state(state)
}
