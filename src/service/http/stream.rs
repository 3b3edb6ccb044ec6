//! `GET /stream/{id}?quality=low|normal|high`: a rendition of a song, with Range.
//!
//! A rendition that does not exist yet is transcoded first (the request waits for
//! it; see `media`), then served by `media::range` with ETag, Last-Modified and
//! byte ranges.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::catalog::{find, loaded};
use super::{ApiError, AppState};
use crate::media::{range, Quality};

pub fn routes() -> Router<AppState> {
    Router::new().route("/stream/{id}", get(stream))
}

#[derive(Debug, Deserialize)]
struct StreamQuery {
    quality: Option<String>,
}

#[tracing::instrument(skip_all, fields(song = %id))]
async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<StreamQuery>,
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
