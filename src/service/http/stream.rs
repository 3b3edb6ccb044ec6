//! `GET /stream/{id}?quality=low|normal|high`: a rendition of a song, with Range.
//!
//! A rendition that does not exist yet is transcoded first (the request waits for
//! it; see `media`), then served by `media::range` with ETag, Last-Modified and
//! byte ranges.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use utoipa::IntoParams;

use super::catalog::{find, loaded, CatalogReader};
use super::edge::ApiQuery;
use super::error::ErrorBody;
use super::{ApiError, AppState};
use crate::media::{range, Quality};

pub fn routes() -> Router<AppState> {
    Router::new().route("/stream/{id}", get(stream))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// "low", "normal" (default) or "high".
    quality: Option<String>,
}

#[utoipa::path(get, path = "/stream/{id}", tag = "catalog",
    params(("id" = String, Path, description = "Song id"), StreamQuery,
           ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1023`; others are ignored")),
    responses((status = 200, description = "The whole rendition", content_type = "audio/ogg", body = String),
              (status = 206, description = "The requested byte range", content_type = "audio/ogg", body = String),
              (status = 401, description = "Not signed in: the catalog is for listeners unless the node sets catalog.public", body = ErrorBody),
              (status = 304, description = "Not modified (If-None-Match / If-Modified-Since)"),
              (status = 400, description = "Not a song id, or an unknown quality", body = ErrorBody),
              (status = 404, description = "No such song", body = ErrorBody),
              (status = 416, description = "The range is past the end; Content-Range says the length"),
              (status = 503, description = "The catalog is still loading", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(song = %id))]
async fn stream(
    State(state): State<AppState>,
    _reader: CatalogReader,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let quality = match q.quality.as_deref() {
        None | Some("") => Quality::Normal,
        Some(s) => Quality::parse(s).ok_or_else(|| {
            ApiError::invalid(format!("quality must be low, normal or high, not {s:?}"))
        })?,
    };
    let catalog = loaded(&state)?;
    let song = find(&catalog, &id)?;
    let path = state.media.rendition(song, quality).await.map_err(|e| {
        tracing::error!(error = %e, "rendition unavailable");
        ApiError::internal(e.to_string())
    })?;
    range::serve_file(&path, "audio/ogg", &headers)
        .await
        .map_err(|e| ApiError::internal(format!("reading {}: {e}", path.display())))
}
