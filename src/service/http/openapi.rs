//! The OpenAPI 3.1 document of the JSON API (and of `/stream`, `/art`, `/healthz`,
//! `/readyz`), served at `GET /api/openapi.json`.
//!
//! Every path comes from the `#[utoipa::path]` on the handler that serves it, and every
//! schema from the type the handler takes or returns, so the document cannot drift from
//! the code: a route that answers a status its annotation does not list is caught by
//! the schema-driven run in `tests/openapi_conformance.rs`. Errors everywhere are the
//! one [`ErrorBody`] of `http::error`.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use super::error::{ErrorBody, ErrorDetail};
use super::{
    accounts, activity, catalog, cluster, feed, health, interactions, library, metrics, ops,
    playlists, radio, search, social, stream, subsonic, AppState,
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(document))
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json")))]
async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The whole document. A new route module adds one line to `paths`: its handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Spoofify",
        description = "A self-hostable music streaming service that learns each listener's taste. \
            Sign in with POST /api/signup or /api/login; the session is an HttpOnly cookie. \
            Songs, streams and art need a session unless the node sets catalog.public; \
            /api/cluster needs an operator (Authorization: Bearer <ops_token>, or an admin's session). \
            Every error is {\"error\": {\"code\", \"message\"}} with a fitting 4xx/5xx status."
    ),
    paths(
        accounts::signup, accounts::login, accounts::logout, accounts::logout_all,
        accounts::change_password, accounts::me, accounts::set_preferences,
        catalog::list_songs, catalog::get_song, catalog::genres, catalog::art,
        search::search,
        stream::stream,
        feed::feed,
        interactions::create,
        playlists::list, playlists::create, playlists::show, playlists::rename,
        playlists::remove_playlist, playlists::add_song, playlists::remove_song, playlists::reorder,
        library::likes, library::history,
        radio::radio,
        // Social listening
        social::follow, social::unfollow, social::following, social::followers,
        social::block, social::unblock, social::blocked, social::privacy, social::set_privacy,
        social::profile, social::my_profile, social::set_profile,
        activity::list, activity::now_playing, activity::live,
        cluster::cluster,
        metrics::scrape,
        ops::ops,
        health::healthz, health::readyz,
        document,
        // Subsonic apps
        subsonic::rest, subsonic::rest_post,
        subsonic::keys::list, subsonic::keys::create, subsonic::keys::revoke,
        subsonic::keys::new_app_password, subsonic::keys::revoke_app_password,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "accounts", description = "Sign up, log in, onboarding"),
        (name = "catalog", description = "Songs, genres, search, cover art and audio"),
        (name = "feed", description = "Recommendations and what the listener did"),
        (name = "playlists", description = "The listener's playlists (only the owner sees one)"),
        (name = "library", description = "Likes and listening history"),
        (name = "social", description = "Following, blocking, privacy, profiles and friend activity"),
        (name = "cluster", description = "The live nodes, for operators"),
        (name = "health", description = "Liveness and readiness, for load balancers"),
        (name = "meta", description = "This document"),
        (name = "subsonic", description = "The Subsonic/OpenSubsonic API for apps: always 200 with a subsonic-response (XML, or JSON with f=json)"),
        (name = "apps", description = "API keys and the app password for Subsonic apps"),
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route the router serves outside the web app is in the document.
    #[test]
    fn every_served_route_is_documented() {
        let doc = ApiDoc::openapi();
        for path in [
            "/api/signup",
            "/api/login",
            "/api/logout",
            "/api/me",
            "/api/me/preferences",
            "/api/me/logout-all",
            "/api/me/password",
            "/api/songs",
            "/api/songs/{id}",
            "/api/genres",
            "/api/search",
            "/api/feed",
            "/api/interactions",
            "/api/playlists",
            "/api/playlists/{id}",
            "/api/playlists/{id}/songs",
            "/api/playlists/{id}/songs/{index}",
            "/api/likes",
            "/api/history",
            "/api/cluster",
            "/metrics",
            "/api/ops",
            "/api/openapi.json",
            "/art/{id}",
            "/stream/{id}",
            "/healthz",
            "/readyz",
            "/rest/{method}",
            "/api/me/api-keys",
            "/api/me/api-keys/{id}",
            "/api/me/app-password",
            "/api/me/following/{username}",
            "/api/me/following",
            "/api/me/followers",
            "/api/me/blocked/{username}",
            "/api/me/blocked",
            "/api/me/privacy",
            "/api/me/now-playing",
            "/api/users/{username}",
            "/api/me/profile",
            "/api/activity",
            "/api/activity/stream",
        ] {
            assert!(
                doc.paths.paths.contains_key(path),
                "{path} is not documented"
            );
        }
    }
}
