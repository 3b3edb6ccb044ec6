//! The Subsonic / OpenSubsonic API under `/rest/`, so existing apps (Symfonium, DSub,
//! Amperfy, Feishin, …) can browse, stream and — what Spoofify adds — get similar
//! songs, top songs and random songs from the listener's own model.
//!
//! Every method answers at `/rest/<method>` and `/rest/<method>.view`, to GET and to
//! POST with a form body, in XML (default) or JSON (`f=json`), always HTTP 200 with
//! `status` and, on failure, a Subsonic error code — never a 500 (`envelope`). Who
//! is calling comes from `apiKey`, or `u` with `p` or `t`+`s` (`auth`); the keys and
//! the app password are made in the web app (`keys`).
//!
//! The files: `params` (query + form), `envelope` (JSON/XML, errors), `secret`
//! (API keys, sealed app passwords), `auth`, `ctx` (what an endpoint gets and gives),
//! `views` (songs, albums, artists as apps see them), `mine` (the caller's stars,
//! queue, now playing), then the endpoints: `browse`, `media`, `scrobble` (listening
//! → interactions), `learned` (similar, top, random, starred, feed) and `library`
//! (playlists, play queue). Streams (`stream`, `download`) are routed apart from the
//! rest so the request timeout does not cut them.

mod auth;
mod browse;
mod ctx;
mod envelope;
pub mod keys;
mod learned;
mod library;
mod media;
mod mine;
mod params;
mod scrobble;
mod secret;
mod views;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use super::AppState;
use ctx::{Answer, Ctx, Reply};
use envelope::{Fail, Format};
use params::{BadBody, Params};

/// The OpenSubsonic extensions we implement (`getOpenSubsonicExtensions`).
const EXTENSIONS: &[(&str, &[u32])] = &[
    ("apiKeyAuthentication", &[1]),
    ("formPost", &[1]),
    // Ours: `getFeed` — the listener's feed, ranked by their own model.
    ("spoofifyFeed", &[1]),
];

/// Every method but the streams (those are in [`stream_routes`]).
pub fn routes() -> Router<AppState> {
    Router::new().route("/rest/{method}", get(rest).post(rest))
}

/// `stream` and `download`: outside the request timeout, like `/stream/{id}`.
pub fn stream_routes() -> Router<AppState> {
    Router::new()
        .route("/rest/stream", get(stream).post(stream))
        .route("/rest/stream.view", get(stream).post(stream))
        .route("/rest/download", get(download).post(download))
        .route("/rest/download.view", get(download).post(download))
}

async fn stream(
    state: State<AppState>,
    headers: HeaderMap,
    params: Result<Params, BadBody>,
) -> Response {
    answer(state, "stream", headers, params).await
}

async fn download(
    state: State<AppState>,
    headers: HeaderMap,
    params: Result<Params, BadBody>,
) -> Response {
    answer(state, "download", headers, params).await
}

/// A Subsonic method: `GET` or form `POST` to `/rest/<method>[.view]`.
#[utoipa::path(get, path = "/rest/{method}", tag = "subsonic",
    params(("method" = String, Path, description = "A Subsonic method, with or without `.view` (`ping`, `getAlbumList2`, `stream`, …)"),
           ("f" = Option<String>, Query, description = "`json`, or XML when absent"),
           ("apiKey" = Option<String>, Query, description = "An API key (OpenSubsonic apiKeyAuthentication); alone"),
           ("u" = Option<String>, Query, description = "Username, with `p` or `t`+`s`"),
           ("p" = Option<String>, Query, description = "Password or app password, plain or `enc:` + hex"),
           ("t" = Option<String>, Query, description = "md5(app password + s), hex"),
           ("s" = Option<String>, Query, description = "The token's salt")),
    responses((status = 200, description = "A `subsonic-response` (status ok or failed with a Subsonic error code); files for stream, download and getCoverArt",
                content((serde_json::Value = "application/json"), (String = "application/xml"), (String = "audio/ogg"), (String = "image/svg+xml"))),
              (status = 206, description = "A byte range of a stream", content_type = "audio/ogg", body = String),
              (status = 304, description = "Not modified (a stream's If-None-Match / If-Modified-Since)"),
              (status = 404, description = "No such method", content((serde_json::Value = "application/json"), (String = "application/xml"))),
              (status = 416, description = "A stream's range is past its end")))]
async fn rest(
    State(state): State<AppState>,
    Path(method): Path<String>,
    headers: HeaderMap,
    params: Result<Params, BadBody>,
) -> Response {
    answer(State(state), &method, headers, params).await
}

#[utoipa::path(post, path = "/rest/{method}", tag = "subsonic",
    params(("method" = String, Path, description = "A Subsonic method, with or without `.view`")),
    request_body(content = RestForm, content_type = "application/x-www-form-urlencoded",
                 description = "The same parameters as the query string (credentials included)"),
    responses((status = 200, description = "A `subsonic-response`, or a file",
                content((serde_json::Value = "application/json"), (String = "application/xml"), (String = "audio/ogg"), (String = "image/svg+xml"))),
              (status = 206, description = "A byte range of a stream", content_type = "audio/ogg", body = String),
              (status = 304, description = "Not modified"),
              (status = 404, description = "No such method", content((serde_json::Value = "application/json"), (String = "application/xml"))),
              (status = 413, description = "Body too large"),
              (status = 416, description = "A stream's range is past its end")))]
#[allow(dead_code)] // documents the POST form of `rest`
async fn rest_post() {}

/// A form body: the method's parameters, e.g. these (any others the method takes).
#[derive(utoipa::ToSchema)]
#[allow(dead_code, non_snake_case)] // a schema only: `Params` reads the body
struct RestForm {
    f: Option<String>,
    apiKey: Option<String>,
    u: Option<String>,
    p: Option<String>,
    t: Option<String>,
    s: Option<String>,
    v: Option<String>,
    c: Option<String>,
    id: Option<String>,
}

#[tracing::instrument(name = "subsonic", skip_all, fields(method = %method))]
async fn answer(
    State(state): State<AppState>,
    method: &str,
    headers: HeaderMap,
    params: Result<Params, BadBody>,
) -> Response {
    let name = method.strip_suffix(".view").unwrap_or(method).to_owned();
    let params = match params {
        Ok(p) => p,
        Err(BadBody(why)) => {
            return envelope::fail(Format::Xml, &Fail::bad(why));
        }
    };
    let format = Format::parse(params.get("f"));
    if !known(&name) {
        let mut r = envelope::fail(format, &Fail::not_found(format!("unknown method {name:?}")));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    }
    // Answered to anyone: clients ask before they log in.
    if name == "getOpenSubsonicExtensions" {
        let list: Vec<_> = EXTENSIONS
            .iter()
            .map(|(n, v)| json!({"name": n, "versions": v}))
            .collect();
        return envelope::ok(format, vec![("openSubsonicExtensions", list.into())]);
    }
    let caller = match auth::authenticate(&state, &params).await {
        Ok(c) => c,
        Err(f) => return envelope::fail(format, &f),
    };
    let ctx = Ctx {
        state,
        params,
        caller,
        headers,
    };
    match dispatch(&ctx, &name).await {
        Ok(Reply::Payload(p)) => envelope::ok(format, p),
        Ok(Reply::File(r)) => r.into_response(),
        Err(f) => envelope::fail(format, &f),
    }
}

/// The methods we answer (names as Subsonic spells them).
const METHODS: &[&str] = &[
    "ping",
    "getLicense",
    "getOpenSubsonicExtensions",
    "getMusicFolders",
    "getIndexes",
    "getArtists",
    "getArtist",
    "getArtistInfo2",
    "getAlbum",
    "getAlbumInfo2",
    "getSong",
    "getGenres",
    "getSongsByGenre",
    "getAlbumList2",
    "search3",
    "getCoverArt",
    "stream",
    "download",
    "scrobble",
    "star",
    "unstar",
    "setRating",
    "getSimilarSongs",
    "getSimilarSongs2",
    "getTopSongs",
    "getRandomSongs",
    "getStarred2",
    "getPlaylists",
    "getPlaylist",
    "createPlaylist",
    "updatePlaylist",
    "deletePlaylist",
    "getPlayQueue",
    "savePlayQueue",
    "getNowPlaying",
    "getUser",
    "getFeed",
];

fn known(name: &str) -> bool {
    METHODS.contains(&name)
}

async fn dispatch(ctx: &Ctx, name: &str) -> Answer {
    match name {
        "ping" => ctx::empty(),
        "getLicense" => browse::license(),
        "getMusicFolders" => browse::music_folders(),
        "getIndexes" => browse::indexes(ctx),
        "getArtists" => browse::artists(ctx),
        "getArtist" => browse::artist(ctx).await,
        "getArtistInfo2" => browse::artist_info(ctx),
        "getAlbum" => browse::album(ctx).await,
        "getAlbumInfo2" => browse::album_info(ctx),
        "getSong" => browse::song(ctx),
        "getGenres" => browse::genres(ctx),
        "getSongsByGenre" => browse::songs_by_genre(ctx),
        "getAlbumList2" => browse::album_list(ctx).await,
        "search3" => browse::search(ctx),
        "getUser" => browse::user(ctx),
        "getCoverArt" => media::cover_art(ctx).await,
        "stream" => media::stream(ctx, false).await,
        "download" => media::stream(ctx, true).await,
        "scrobble" => scrobble::scrobble(ctx).await,
        "star" => scrobble::star(ctx, true).await,
        "unstar" => scrobble::star(ctx, false).await,
        "setRating" => scrobble::set_rating(ctx).await,
        "getNowPlaying" => scrobble::now_playing_list(ctx).await,
        "getSimilarSongs" => learned::similar_songs(ctx).await,
        "getSimilarSongs2" => learned::similar_songs_by_artist(ctx).await,
        "getTopSongs" => learned::top_songs(ctx).await,
        "getRandomSongs" => learned::random_songs(ctx).await,
        "getStarred2" => learned::starred(ctx).await,
        "getFeed" => learned::feed(ctx).await,
        "getPlaylists" => library::playlists(ctx).await,
        "getPlaylist" => library::playlist(ctx).await,
        "createPlaylist" => library::create_playlist(ctx).await,
        "updatePlaylist" => library::update_playlist(ctx).await,
        "deletePlaylist" => library::delete_playlist(ctx).await,
        "getPlayQueue" => library::play_queue(ctx).await,
        "savePlayQueue" => library::save_play_queue(ctx).await,
        other => Err(Fail::not_found(format!("unknown method {other:?}"))),
    }
}
