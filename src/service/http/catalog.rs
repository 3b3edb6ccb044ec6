//! The catalog API: songs (paged, by genre), one song with its features, genres,
//! and generated cover art.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::sync::Arc;

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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Deserialize)]
struct ListQuery {
    genre: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

#[tracing::instrument(skip_all)]
async fn list_songs(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({"songs": page, "total": matching.len()})))
}

#[tracing::instrument(skip_all, fields(song = %id))]
async fn get_song(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let catalog = loaded(&state)?;
    let song = find(&catalog, &id)?;
    let mut raw = Map::new();
    let mut scaled = Map::new();
    for (i, name) in FEATURE_NAMES.iter().enumerate() {
        raw.insert((*name).into(), json!(song.features.raw[i]));
        scaled.insert((*name).into(), json!(song.features.scaled[i]));
    }
    let mut body = serde_json::to_value(SongView::from(song))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    body["features"] = Value::Object(raw);
    body["features_scaled"] = Value::Object(scaled);
    Ok(Json(body))
}

#[tracing::instrument(skip_all)]
async fn genres(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let catalog = loaded(&state)?;
    let list: Vec<Value> = catalog
        .genres()
        .into_iter()
        .map(|g| {
            let n = catalog.songs().iter().filter(|s| s.genre == g).count();
            json!({"name": g, "songs": n})
        })
        .collect();
    Ok(Json(json!({"genres": list})))
}

#[tracing::instrument(skip_all, fields(song = %id))]
async fn art(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
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
