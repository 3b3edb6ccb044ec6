//! `GET /api/radio?song=ID&limit=N` or `?artist=NAME`: a radio grown from a song or an
//! artist for the signed-in listener (`model::radio`).
//!
//! Candidates close to the seed (audio and co-occurrence) are computed here, on any
//! node; the listener's own scores for them come from the listener's owner actor,
//! routed like the feed (`cluster::scoring`). When the owner cannot answer in time
//! the radio is ranked by closeness alone and says so (`"degraded": true`).
//!
//! `{"items": [{"song": {...}, "reason"}], "seed": {"kind", "song"|"artist"},
//!   "degraded": bool, "degraded_reason": str|null, "served_by": node_id}`

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::catalog::{loaded, SongView};
use super::edge::ApiQuery;
use super::session::CurrentListener;
use super::{ApiError, AppState};
use crate::catalog::SongId;
use crate::model::radio::{self, Seed};
use crate::model::CatalogIndex;

/// Items when the client does not ask.
const DEFAULT_LIMIT: usize = 25;
/// Most items one request may ask for: bounds the ranking work and the reply (a radio
/// fills a play queue; the client asks again from the last song for more).
const MAX_LIMIT: usize = 100;
/// Longest artist name accepted, in characters.
const MAX_ARTIST_CHARS: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/radio", get(radio))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RadioParams {
    /// The seed song's id (give `song` or `artist`, not both).
    pub song: Option<String>,
    /// The seed artist's name, matched without regard to case.
    pub artist: Option<String>,
    /// At most this many songs (default 25, at most 100).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RadioItem {
    #[schema(value_type = super::catalog::SongView)]
    pub song: SongView,
    /// Why this song is on the radio, for people.
    pub reason: String,
}

/// What the radio grew from.
#[derive(Debug, Serialize, ToSchema)]
pub struct RadioSeedView {
    /// "song" or "artist".
    pub kind: &'static str,
    #[schema(value_type = Option<super::catalog::SongView>)]
    pub song: Option<SongView>,
    pub artist: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RadioResponse {
    pub items: Vec<RadioItem>,
    pub seed: RadioSeedView,
    /// True when the listener's own model could not be asked: ranked by closeness
    /// to the seed alone.
    pub degraded: bool,
    pub degraded_reason: Option<String>,
    pub served_by: String,
}

fn seed_of(index: &CatalogIndex, params: &RadioParams) -> Result<(Seed, RadioSeedView), ApiError> {
    let all = index.catalog().songs();
    match (&params.song, &params.artist) {
        (Some(song), None) => {
            let id = SongId::parse(song).map_err(|e| ApiError::invalid(e.to_string()))?;
            let i = index
                .index_of(&id)
                .ok_or_else(|| ApiError::not_found(format!("no song {id}")))?;
            Ok((
                Seed::Song(i),
                RadioSeedView {
                    kind: "song",
                    song: Some(SongView::from(&all[i as usize])),
                    artist: None,
                },
            ))
        }
        (None, Some(artist)) => {
            if artist.trim().is_empty() || artist.chars().count() > MAX_ARTIST_CHARS {
                return Err(ApiError::invalid(format!(
                    "artist must be 1-{MAX_ARTIST_CHARS} characters"
                )));
            }
            let seed = Seed::artist(index, artist)
                .ok_or_else(|| ApiError::not_found("no songs by that artist"))?;
            let name = match &seed {
                Seed::Artist { name, .. } => name.clone(),
                Seed::Song(_) => artist.clone(),
            };
            Ok((
                seed,
                RadioSeedView {
                    kind: "artist",
                    song: None,
                    artist: Some(name),
                },
            ))
        }
        _ => Err(ApiError::invalid(
            "give either song=ID or artist=NAME (exactly one)",
        )),
    }
}

#[utoipa::path(get, path = "/api/radio", tag = "feed", params(RadioParams),
    responses((status = 200, description = "Songs close to the seed, re-ranked for the listener; never the seed song, never a song twice", body = RadioResponse),
              (status = 400, description = "Neither or both of song and artist, or limit out of range", body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody),
              (status = 404, description = "No such song, or no songs by that artist", body = super::error::ErrorBody),
              (status = 503, description = "The catalog is still loading", body = super::error::ErrorBody)))]
#[tracing::instrument(name = "radio", skip_all, fields(listener = %who.id))]
async fn radio(
    State(state): State<AppState>,
    who: CurrentListener,
    ApiQuery(params): ApiQuery<RadioParams>,
) -> Result<Json<RadioResponse>, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be 1..={MAX_LIMIT}")));
    }
    loaded(&state)?;
    let index = state.cluster.index().ok_or_else(|| {
        ApiError::unavailable("the catalog is still loading; retry in a few seconds")
    })?;
    let (seed, seed_view) = seed_of(&index, &params)?;
    let candidates = radio::candidates(&index, &seed);
    let songs: Vec<u32> = candidates.iter().map(|c| c.song).collect();
    let personal = state.cluster.score(&who.id, &songs).await;
    if let Err(why) = &personal {
        tracing::info!(reason = %why, "serving a radio without the listener's scores");
    }
    let ranked = radio::rank(
        &index,
        &seed,
        &candidates,
        personal.as_ref().ok().map(Vec::as_slice),
        limit,
    );
    let catalog = index.catalog();
    Ok(Json(RadioResponse {
        items: ranked
            .into_iter()
            .filter_map(|i| {
                Some(RadioItem {
                    song: SongView::from(catalog.get(&i.song_id)?),
                    reason: i.reason.to_string(),
                })
            })
            .collect(),
        seed: seed_view,
        degraded: personal.is_err(),
        degraded_reason: personal.err(),
        served_by: state.node_id.to_string(),
    }))
}
