//! Playlists: create, list, get, rename, make public or private, add a song, remove
//! one, reorder, delete.
//!
//! The store keys playlists by owner, so a listener can only ever reach their own: an
//! id that belongs to someone else is simply not found (404), which also hides that it
//! exists. Songs are checked against the catalog when added. Edits are
//! read-modify-write of the whole playlist; two tabs editing the same playlist at the
//! same instant can lose one edit (last write wins), which is acceptable for a personal
//! list. Songs are removed by position, since a playlist may hold a song twice.
//! Adding a song and removing one are also training signals: logged as interactions
//! through the one interaction path (`interactions::record_playlist_edit`).
//! A playlist is private until its owner makes it public (`"public": true` when
//! creating, or `PATCH`); public ones are listed on the owner's profile (`social`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalog::{loaded, SongView};
use super::edge::ApiJson;
use super::error::ErrorBody;
use super::interactions::record_playlist_edit;
use super::session::CurrentListener;
use super::{ApiError, AppState};
use crate::catalog::SongId;
use crate::store::{now_ms, ListenerId, Playlist, PlaylistId};

/// Longest playlist name, in characters.
const MAX_NAME_CHARS: usize = 100;
/// Playlists one listener may keep; bounds what one account can make the store hold.
pub const MAX_PLAYLISTS: usize = 200;
/// Songs in one playlist; keeps a playlist's record and its JSON small.
pub const MAX_SONGS: usize = 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/playlists", get(list).post(create))
        .route(
            "/api/playlists/{id}",
            get(show).patch(rename).delete(remove_playlist),
        )
        .route("/api/playlists/{id}/songs", post(add_song).put(reorder))
        .route("/api/playlists/{id}/songs/{index}", delete(remove_song))
}

/// A playlist name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistName(pub String);

impl PlaylistName {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let name = raw.trim();
        let n = name.chars().count();
        if n == 0 || n > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(ApiError::invalid(format!(
                "a playlist name is 1-{MAX_NAME_CHARS} characters with no control characters"
            )));
        }
        Ok(Self(name.to_owned()))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaylistSummary {
    pub id: String,
    pub name: String,
    pub song_count: usize,
    pub updated_ms: u64,
    /// Listed on your profile for others to see.
    pub public: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaylistList {
    pub playlists: Vec<PlaylistSummary>,
}

/// One position in a playlist; `song` is null if the song left the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaylistEntry {
    pub song_id: String,
    #[schema(value_type = Option<super::catalog::SongView>)]
    pub song: Option<SongView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaylistView {
    pub id: String,
    pub name: String,
    pub updated_ms: u64,
    /// Listed on your profile for others to see (false: only you see it).
    pub public: bool,
    pub songs: Vec<PlaylistEntry>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPlaylist {
    pub name: String,
    /// Songs to start with, in order.
    #[serde(default)]
    pub songs: Vec<String>,
    /// Listed on your profile for others to see (default: private).
    #[serde(default)]
    pub public: bool,
}

/// What to change: the name, whether it is public, or both (at least one).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PlaylistChange {
    pub name: Option<String>,
    /// True lists it on your profile for others to see; false makes it private.
    pub public: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddSong {
    pub song_id: String,
    /// Where to insert (0 = first); absent = at the end.
    pub position: Option<usize>,
}

/// The playlist's songs in their new order: the same songs as now, rearranged.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Reorder {
    pub songs: Vec<String>,
}

#[utoipa::path(get, path = "/api/playlists", tag = "playlists",
    responses((status = 200, body = PlaylistList), (status = 401, description = "Not signed in", body = ErrorBody), (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn list(
    State(state): State<AppState>,
    me: CurrentListener,
) -> Result<Json<PlaylistList>, ApiError> {
    let mut playlists = state.store.playlists(&me.id).await?;
    playlists.sort_by_key(|p| std::cmp::Reverse(p.updated_ms));
    let playlists = playlists
        .into_iter()
        .map(|p| PlaylistSummary {
            id: p.id.to_string(),
            name: p.name,
            song_count: p.songs.len(),
            updated_ms: p.updated_ms,
            public: p.public,
        })
        .collect();
    Ok(Json(PlaylistList { playlists }))
}

#[utoipa::path(post, path = "/api/playlists", tag = "playlists", request_body = NewPlaylist,
    responses((status = 201, body = PlaylistView), (status = 400, description = "Malformed JSON or an invalid value", body = ErrorBody), (status = 401, description = "Not signed in", body = ErrorBody), (status = 413, description = "Body too large", body = ErrorBody), (status = 415, description = "Body not sent as JSON", body = ErrorBody), (status = 503, description = "The catalog is still loading, or the store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn create(
    State(state): State<AppState>,
    me: CurrentListener,
    ApiJson(body): ApiJson<NewPlaylist>,
) -> Result<impl IntoResponse, ApiError> {
    let name = PlaylistName::parse(&body.name)?;
    let songs = known_songs(&state, &body.songs)?;
    if songs.len() > MAX_SONGS {
        return Err(too_many_songs());
    }
    if state.store.playlists(&me.id).await?.len() >= MAX_PLAYLISTS {
        return Err(ApiError::invalid(format!(
            "a listener keeps at most {MAX_PLAYLISTS} playlists"
        )));
    }
    let id = PlaylistId::parse(&uuid::Uuid::new_v4().simple().to_string())
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let playlist = Playlist {
        id,
        owner: me.id.clone(),
        name: name.0,
        songs,
        updated_ms: now_ms(),
        public: body.public,
    };
    state.store.put_playlist(&playlist).await?;
    let p = &playlist;
    record_playlist_edit(&state, &me.id, &p.id, &[], &p.songs, p.updated_ms).await;
    Ok((StatusCode::CREATED, Json(view(&state, playlist))))
}

#[utoipa::path(get, path = "/api/playlists/{id}", tag = "playlists",
    params(("id" = String, Path, description = "Playlist id")),
    responses((status = 200, body = PlaylistView), (status = 401, description = "Not signed in", body = ErrorBody), (status = 404, description = "No such playlist of yours", body = ErrorBody), (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn show(
    State(state): State<AppState>,
    me: CurrentListener,
    Path(id): Path<String>,
) -> Result<Json<PlaylistView>, ApiError> {
    let playlist = load(&state, &me.id, &id).await?;
    Ok(Json(view(&state, playlist)))
}

#[utoipa::path(patch, path = "/api/playlists/{id}", tag = "playlists", request_body = PlaylistChange,
    params(("id" = String, Path, description = "Playlist id")),
    responses((status = 200, body = PlaylistView), (status = 400, description = "Malformed JSON, an invalid value, or nothing to change", body = ErrorBody), (status = 401, description = "Not signed in", body = ErrorBody), (status = 404, description = "No such playlist of yours", body = ErrorBody), (status = 413, description = "Body too large", body = ErrorBody), (status = 415, description = "Body not sent as JSON", body = ErrorBody), (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn rename(
    State(state): State<AppState>,
    me: CurrentListener,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PlaylistChange>,
) -> Result<Json<PlaylistView>, ApiError> {
    if body.name.is_none() && body.public.is_none() {
        return Err(ApiError::invalid(
            "nothing to change: send \"name\", \"public\" or both",
        ));
    }
    let name = body.name.as_deref().map(PlaylistName::parse).transpose()?;
    let mut playlist = load(&state, &me.id, &id).await?;
    if let Some(name) = name {
        playlist.name = name.0;
    }
    if let Some(public) = body.public {
        playlist.public = public;
    }
    save(&state, playlist).await
}

#[utoipa::path(delete, path = "/api/playlists/{id}", tag = "playlists",
    params(("id" = String, Path, description = "Playlist id")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "Not signed in", body = ErrorBody), (status = 404, description = "No such playlist of yours", body = ErrorBody), (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn remove_playlist(
    State(state): State<AppState>,
    me: CurrentListener,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    state.store.delete_playlist(&me.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/playlists/{id}/songs", tag = "playlists", request_body = AddSong,
    params(("id" = String, Path, description = "Playlist id")),
    responses((status = 200, body = PlaylistView), (status = 400, description = "Malformed JSON or an invalid value", body = ErrorBody), (status = 401, description = "Not signed in", body = ErrorBody), (status = 404, description = "No such playlist of yours", body = ErrorBody), (status = 413, description = "Body too large", body = ErrorBody), (status = 415, description = "Body not sent as JSON", body = ErrorBody), (status = 503, description = "The catalog is still loading, or the store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn add_song(
    State(state): State<AppState>,
    me: CurrentListener,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddSong>,
) -> Result<Json<PlaylistView>, ApiError> {
    let mut song = known_songs(&state, std::slice::from_ref(&body.song_id))?;
    let mut playlist = load(&state, &me.id, &id).await?;
    if playlist.songs.len() >= MAX_SONGS {
        return Err(too_many_songs());
    }
    let at = body.position.unwrap_or(playlist.songs.len());
    if at > playlist.songs.len() {
        return Err(ApiError::invalid(format!(
            "position {at} is past the end ({} songs)",
            playlist.songs.len()
        )));
    }
    let before = playlist.songs.clone();
    if let Some(song) = song.pop() {
        playlist.songs.insert(at, song);
    }
    save_edit(&state, playlist, &before).await
}

#[utoipa::path(delete, path = "/api/playlists/{id}/songs/{index}", tag = "playlists",
    params(("id" = String, Path, description = "Playlist id"), ("index" = usize, Path, description = "Position, 0 = first")),
    responses((status = 200, body = PlaylistView),
              (status = 400, description = "The position is not a number", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "No such playlist of yours, or no song at that position", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn remove_song(
    State(state): State<AppState>,
    me: CurrentListener,
    Path((id, index)): Path<(String, String)>,
) -> Result<Json<PlaylistView>, ApiError> {
    let index: usize = index
        .parse()
        .map_err(|_| ApiError::invalid(format!("position {index:?} is not a number")))?;
    let mut playlist = load(&state, &me.id, &id).await?;
    if index >= playlist.songs.len() {
        return Err(ApiError::not_found(format!(
            "the playlist has no song at position {index}"
        )));
    }
    let before = playlist.songs.clone();
    playlist.songs.remove(index);
    save_edit(&state, playlist, &before).await
}

#[utoipa::path(put, path = "/api/playlists/{id}/songs", tag = "playlists", request_body = Reorder,
    params(("id" = String, Path, description = "Playlist id")),
    responses((status = 200, body = PlaylistView),
              (status = 400, description = "Malformed JSON, or not a rearrangement of the playlist's songs", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody), (status = 404, description = "No such playlist of yours", body = ErrorBody), (status = 413, description = "Body too large", body = ErrorBody), (status = 415, description = "Body not sent as JSON", body = ErrorBody), (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn reorder(
    State(state): State<AppState>,
    me: CurrentListener,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reorder>,
) -> Result<Json<PlaylistView>, ApiError> {
    let mut playlist = load(&state, &me.id, &id).await?;
    let mut proposed = body
        .songs
        .iter()
        .map(|s| SongId::parse(s).map_err(|e| ApiError::invalid(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let (mut before, mut after) = (playlist.songs.clone(), proposed.clone());
    before.sort();
    after.sort();
    if before != after {
        return Err(ApiError::invalid(
            "the new order must hold exactly the playlist's current songs; reload and retry",
        ));
    }
    std::mem::swap(&mut playlist.songs, &mut proposed);
    save(&state, playlist).await
}

fn parse_id(raw: &str) -> Result<PlaylistId, ApiError> {
    // A malformed id cannot name any playlist: the same 404 as someone else's.
    PlaylistId::parse(raw).map_err(|_| no_such_playlist())
}

fn no_such_playlist() -> ApiError {
    ApiError::not_found("you have no playlist with this id")
}

fn too_many_songs() -> ApiError {
    ApiError::invalid(format!("a playlist holds at most {MAX_SONGS} songs"))
}

/// The owner's playlist, or 404.
async fn load(state: &AppState, owner: &ListenerId, raw_id: &str) -> Result<Playlist, ApiError> {
    let id = parse_id(raw_id)?;
    state
        .store
        .playlist(owner, &id)
        .await?
        .ok_or_else(no_such_playlist)
}

async fn save(state: &AppState, mut playlist: Playlist) -> Result<Json<PlaylistView>, ApiError> {
    playlist.updated_ms = now_ms();
    state.store.put_playlist(&playlist).await?;
    Ok(Json(view(state, playlist)))
}

/// Saves an edit of the songs, then logs what it says about the owner's taste (a
/// song added, a song gone) as interactions.
async fn save_edit(
    state: &AppState,
    mut playlist: Playlist,
    before: &[SongId],
) -> Result<Json<PlaylistView>, ApiError> {
    playlist.updated_ms = now_ms();
    state.store.put_playlist(&playlist).await?;
    let p = &playlist;
    record_playlist_edit(state, &p.owner, &p.id, before, &p.songs, p.updated_ms).await;
    Ok(Json(view(state, playlist)))
}

/// Parses song ids and checks each is in the catalog (503 while it loads).
fn known_songs(state: &AppState, raw: &[String]) -> Result<Vec<SongId>, ApiError> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let catalog = loaded(state)?;
    raw.iter()
        .map(|s| {
            let id = SongId::parse(s).map_err(|e| ApiError::invalid(e.to_string()))?;
            match catalog.get(&id) {
                Some(_) => Ok(id),
                None => Err(ApiError::invalid(format!("unknown song {s:?}"))),
            }
        })
        .collect()
}

fn view(state: &AppState, p: Playlist) -> PlaylistView {
    let catalog = state.catalog.get();
    let songs = p
        .songs
        .iter()
        .map(|id| PlaylistEntry {
            song_id: id.to_string(),
            song: catalog.as_ref().and_then(|c| c.get(id)).map(SongView::from),
        })
        .collect();
    PlaylistView {
        id: p.id.to_string(),
        name: p.name,
        updated_ms: p.updated_ms,
        public: p.public,
        songs,
    }
}
