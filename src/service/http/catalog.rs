//! The catalog API: songs (paged, by genre), one song with its features, genres,
//! and generated cover art.
//!
//! The catalog — and with it search, streams and art — is for signed-in listeners
//! unless the node sets `catalog.public = true` ([`CatalogReader`]): a music library is
//! somebody's, and a public node is an open relay for its audio.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::edge::ApiQuery;
use super::error::ErrorBody;
use super::session::CurrentListener;
use super::{ApiError, AppState};
use crate::catalog::{demo, Catalog, Song, SongId, FEATURE_NAMES};

/// Most songs one page may hold: keeps responses small for phones.
const MAX_PAGE: usize = 500;
const DEFAULT_PAGE: usize = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/songs", get(list_songs))
        .route("/api/songs/{id}", get(get_song))
        .route("/api/genres", get(genres))
        .route("/art/{id}", get(art))
}

/// A song as every endpoint shows it (also its OpenAPI schema, named `Song`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Song)]
pub struct SongView {
    pub id: String,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub genre: String,
    pub duration_ms: u64,
    pub year: Option<u16>,
    /// A prior in [0, 1].
    pub popularity: f32,
    /// Cover art URL.
    pub art: String,
    /// Audio URL (add `?quality=low|normal|high`).
    pub stream: String,
}

impl From<&Song> for SongView {
    fn from(s: &Song) -> Self {
        Self {
            id: s.id.to_string(),
            title: s.title.clone(),
            artist: s.artist.clone(),
            album: s.album.clone(),
            genre: s.genre.clone(),
            duration_ms: s.duration_ms,
            year: s.year,
            popularity: s.popularity,
            art: format!("/art/{}", s.id),
            stream: format!("/stream/{}", s.id),
        }
    }
}

/// Proof that the request may read the catalog: the catalog is public, or a listener is
/// signed in (401 otherwise).
#[derive(Debug, Clone, Copy)]
pub struct CatalogReader;

impl FromRequestParts<AppState> for CatalogReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.settings.catalog.public {
            return Ok(CatalogReader);
        }
        CurrentListener::from_request_parts(parts, state)
            .await
            .map(|_| CatalogReader)
    }
}

/// The loaded catalog, or 503 while it is being generated or imported.
pub fn loaded(state: &AppState) -> Result<Arc<Catalog>, ApiError> {
    state.catalog.get().ok_or_else(|| {
        ApiError::unavailable("the catalog is still loading; retry in a few seconds")
    })
}

/// Parses a song id from the path and finds the song, or answers 400/404.
pub fn find<'c>(catalog: &'c Catalog, raw: &str) -> Result<&'c Song, ApiError> {
    let id = SongId::parse(raw).map_err(|e| ApiError::invalid(e.to_string()))?;
    catalog
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("no song with id {id}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only songs of this genre (any case); empty or absent = all.
    genre: Option<String>,
    /// Songs per page (default 50, at most 500).
    limit: Option<usize>,
    /// Songs to skip (default 0).
    offset: Option<usize>,
}

/// One page of songs.
#[derive(Debug, Serialize, ToSchema)]
pub struct SongList {
    songs: Vec<SongView>,
    /// How many songs match, of which `songs` is one page.
    total: usize,
}

/// A song with its audio features, keyed by feature name (`tempo_bpm`, …).
#[derive(Debug, Serialize, ToSchema)]
pub struct SongDetail {
    #[serde(flatten)]
    song: SongView,
    /// As measured, in physical units (BPM, LUFS, Hz, …).
    features: BTreeMap<String, f32>,
    /// Z-scores over the catalog: what the recommender compares.
    features_scaled: BTreeMap<String, f32>,
}

/// A genre and how many songs it has.
#[derive(Debug, Serialize, ToSchema)]
pub struct Genre {
    name: String,
    songs: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GenreList {
    genres: Vec<Genre>,
}

#[utoipa::path(get, path = "/api/songs", tag = "catalog", params(ListQuery),
    responses((status = 200, body = SongList),
              (status = 401, description = "Not signed in: the catalog is for listeners unless the node sets catalog.public", body = ErrorBody),
              (status = 400, description = "limit or offset out of range or not a number", body = ErrorBody),
              (status = 503, description = "The catalog is still loading", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn list_songs(
    State(state): State<AppState>,
    _reader: CatalogReader,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<SongList>, ApiError> {
    let catalog = loaded(&state)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::invalid(format!("limit must be 1..={MAX_PAGE}")));
    }
    let genre = q.genre.filter(|g| !g.is_empty());
    let matching: Vec<&Song> = catalog
        .songs()
        .iter()
        .filter(|s| {
            genre
                .as_deref()
                .is_none_or(|g| s.genre.eq_ignore_ascii_case(g))
        })
        .collect();
    let page: Vec<SongView> = matching
        .iter()
        .skip(q.offset.unwrap_or(0))
        .take(limit)
        .map(|s| SongView::from(*s))
        .collect();
    Ok(Json(SongList {
        songs: page,
        total: matching.len(),
    }))
}

#[utoipa::path(get, path = "/api/songs/{id}", tag = "catalog",
    params(("id" = String, Path, description = "Song id")),
    responses((status = 200, body = SongDetail),
              (status = 401, description = "Not signed in: the catalog is for listeners unless the node sets catalog.public", body = ErrorBody),
              (status = 400, description = "Not a song id", body = ErrorBody),
              (status = 404, description = "No such song", body = ErrorBody),
              (status = 503, description = "The catalog is still loading", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(song = %id))]
async fn get_song(
    State(state): State<AppState>,
    _reader: CatalogReader,
    Path(id): Path<String>,
) -> Result<Json<SongDetail>, ApiError> {
    let catalog = loaded(&state)?;
    let song = find(&catalog, &id)?;
    let named = |values: &[f32]| -> BTreeMap<String, f32> {
        FEATURE_NAMES
            .iter()
            .zip(values)
            .map(|(name, v)| ((*name).to_owned(), *v))
            .collect()
    };
    Ok(Json(SongDetail {
        song: SongView::from(song),
        features: named(&song.features.raw),
        features_scaled: named(&song.features.scaled),
    }))
}

#[utoipa::path(get, path = "/api/genres", tag = "catalog",
    responses((status = 200, body = GenreList),
              (status = 401, description = "Not signed in: the catalog is for listeners unless the node sets catalog.public", body = ErrorBody),
              (status = 503, description = "The catalog is still loading", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn genres(
    State(state): State<AppState>,
    _reader: CatalogReader,
) -> Result<Json<GenreList>, ApiError> {
    let catalog = loaded(&state)?;
    let genres = catalog
        .genres()
        .into_iter()
        .map(|name| {
            let songs = catalog.songs().iter().filter(|s| s.genre == name).count();
            Genre { name, songs }
        })
        .collect();
    Ok(Json(GenreList { genres }))
}

#[utoipa::path(get, path = "/art/{id}", tag = "catalog",
    params(("id" = String, Path, description = "Song id")),
    responses((status = 200, description = "The song's cover art", content_type = "image/svg+xml", body = String),
              (status = 401, description = "Not signed in: the catalog is for listeners unless the node sets catalog.public", body = ErrorBody),
              (status = 400, description = "Not a song id", body = ErrorBody),
              (status = 404, description = "No such song", body = ErrorBody),
              (status = 503, description = "The catalog is still loading", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(song = %id))]
async fn art(
    State(state): State<AppState>,
    _reader: CatalogReader,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let catalog = loaded(&state)?;
    let song = find(&catalog, &id)?;
    let svg = demo::cover_svg(song);
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        svg,
    )
        .into_response())
}
