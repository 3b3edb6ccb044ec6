//! The OpenAPI 3.1 document of the JSON API, served at `GET /api/openapi.json`.
//!
//! Paths and schemas are derived with utoipa from the handlers and the types they take
//! and return, so the document cannot drift from the code it describes. Routes whose
//! handlers live in modules without annotations (catalog, streaming, feed, interactions)
//! are described by the contract stubs in [`contract`] until those handlers carry their
//! own `#[utoipa::path]`.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use super::catalog::SongView;
use super::error::{ErrorBody, ErrorDetail};
use super::{accounts, library, playlists, radio, search, AppState};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(document))
}

async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Spoofify",
        description = "A self-hostable music streaming service that learns each listener's taste. \
            Sign in with POST /api/signup or /api/login; the session is an HttpOnly cookie. \
            Every error is {\"error\": {\"code\", \"message\"}} with a fitting 4xx/5xx status."
    ),
    paths(
        accounts::signup, accounts::login, accounts::logout, accounts::me, accounts::set_preferences,
        search::search,
        playlists::list, playlists::create, playlists::show, playlists::rename,
        playlists::remove_playlist, playlists::add_song, playlists::remove_song, playlists::reorder,
        library::likes, library::history,
        radio::radio,
        contract::songs, contract::song, contract::genres, contract::art, contract::stream,
        contract::feed, contract::interactions,
    ),
    components(schemas(ErrorBody, ErrorDetail, SongView)),
    tags(
        (name = "accounts", description = "Sign up, log in, onboarding"),
        (name = "catalog", description = "Songs, genres, search, cover art and audio"),
        (name = "feed", description = "Recommendations and what the listener did"),
        (name = "playlists", description = "The listener's playlists (only the owner sees one)"),
        (name = "library", description = "Likes and listening history"),
    )
)]
pub struct ApiDoc;

/// Descriptions of routes served by modules without utoipa annotations, written from
/// the interface contract in DESIGN.md. Never called.
#[allow(dead_code)]
mod contract {
    use serde::Serialize;
    use utoipa::ToSchema;

    use super::{ErrorBody, SongView};

    #[derive(Serialize, ToSchema)]
    pub struct SongList {
        songs: Vec<SongView>,
        total: usize,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Genre {
        name: String,
        songs: usize,
    }

    #[derive(Serialize, ToSchema)]
    pub struct GenreList {
        genres: Vec<Genre>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct FeedItem {
        song: SongView,
        score: f32,
        /// Why this song was chosen, for people.
        reason: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Feed {
        items: Vec<FeedItem>,
        /// True when the listener's model could not be reached and this is a fallback.
        degraded: bool,
        served_by: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct NewInteraction {
        /// Client-made unique id (e.g. a UUID): sending the same id again is a no-op.
        id: String,
        song_id: String,
        /// "finished", "skipped", "liked" or "disliked".
        kind: String,
        position_ms: u64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Acknowledged {
        seq: u64,
        duplicate: bool,
    }

    #[utoipa::path(get, path = "/api/songs", tag = "catalog",
        params(("genre" = Option<String>, Query), ("limit" = Option<usize>, Query), ("offset" = Option<usize>, Query)),
        responses((status = 200, body = SongList)))]
    fn songs() {}

    #[utoipa::path(get, path = "/api/songs/{id}", tag = "catalog",
        params(("id" = String, Path)),
        responses((status = 200, description = "The song and its audio features"), (status = 404, body = ErrorBody)))]
    fn song() {}

    #[utoipa::path(get, path = "/api/genres", tag = "catalog", responses((status = 200, body = GenreList)))]
    fn genres() {}

    #[utoipa::path(get, path = "/art/{id}", tag = "catalog", params(("id" = String, Path)),
        responses((status = 200, description = "SVG cover art", content_type = "image/svg+xml")))]
    fn art() {}

    #[utoipa::path(get, path = "/stream/{id}", tag = "catalog",
        params(("id" = String, Path), ("quality" = Option<String>, Query, description = "low, normal or high")),
        responses((status = 200, description = "Ogg Vorbis audio", content_type = "audio/ogg"),
                  (status = 206, description = "The requested byte range (HTTP Range)")))]
    fn stream() {}

    #[utoipa::path(get, path = "/api/feed", tag = "feed", params(("limit" = Option<usize>, Query)),
        responses((status = 200, body = Feed), (status = 401, body = ErrorBody)))]
    fn feed() {}

    #[utoipa::path(post, path = "/api/interactions", tag = "feed", request_body = NewInteraction,
        responses((status = 200, description = "Durable (same id again: duplicate = true)", body = Acknowledged),
                  (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
                  (status = 503, description = "Not stored; retry with the same id", body = ErrorBody)))]
    fn interactions() {}
}
