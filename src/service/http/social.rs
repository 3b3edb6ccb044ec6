//! The social graph and privacy as the web app and API clients see them (issue 17):
//! following and followers, blocking, privacy settings, and profile pages.
//!
//! - `PUT`/`DELETE /api/me/following/{username}`, `GET /api/me/following`,
//!   `GET /api/me/followers`: asymmetric follows. Following someone who blocked you is
//!   404, as if they did not exist (nothing of a blocker is visible to the blocked);
//!   following someone you blocked is 409 (unblock first); following yourself is 400.
//! - `PUT`/`DELETE /api/me/blocked/{username}`, `GET /api/me/blocked`: a block also
//!   ends every follow between the two, either way.
//! - `GET`/`PUT /api/me/privacy`: `share_activity` (asked at onboarding; off until the
//!   listener says yes) and `private_session` (on for [`PRIVATE_SESSION`], or until
//!   logout; nothing new is shared meanwhile).
//! - `GET /api/users/{username}`: a profile: the name, whether you follow them, their
//!   public playlists, and — only while they share — their recently finished songs;
//!   404 for a listener who blocked you.
//! - `GET`/`PUT /api/me/profile`: your display name (1–40 characters, no control
//!   characters; `null` or blank goes back to the username), shown wherever others
//!   see you: activity, profiles, people search, follower lists.
//!
//! A playlist is private until its owner makes it public (`playlists`); a profile
//! lists only public ones, to anyone the owner has not blocked.
//! Lists read at most [`MAX_LIST`] entries, newest first: a listener followed by
//! thousands costs a bounded read.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::catalog::SongView;
use super::edge::ApiJson;
use super::error::ErrorBody;
use super::session::CurrentListener;
use super::time::iso_time;
use super::{ApiError, AppState};
use crate::store::{
    now_ms, Account, ActivityKind, DisplayName, FollowOutcome, ListenerId, Privacy, SharedStore,
    Username, MAX_DISPLAY_NAME_CHARS,
};

/// How long a private session lasts unless the listener ends it (or logs out) sooner.
pub const PRIVATE_SESSION: Duration = Duration::from_secs(6 * 60 * 60);
/// The most entries a following/followers/blocked list returns (newest first): a
/// page for a person, and a fixed cost for someone followed by thousands.
const MAX_LIST: usize = 500;
/// Recently finished songs a profile shows.
const PROFILE_RECENT: usize = 10;
/// Activity entries a profile scans for finished songs.
const PROFILE_SCAN: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/me/following/{username}", put(follow).delete(unfollow))
        .route("/api/me/following", get(following))
        .route("/api/me/followers", get(followers))
        .route("/api/me/blocked/{username}", put(block).delete(unblock))
        .route("/api/me/blocked", get(blocked))
        .route("/api/me/privacy", get(privacy).put(set_privacy))
        .route("/api/users/{username}", get(profile))
        .route("/api/me/profile", get(my_profile).put(set_profile))
}

/// Another listener as lists show them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub username: String,
    /// The name they chose, or their username if they did not.
    pub display_name: String,
}

impl UserView {
    pub fn new(account: &Account, display: Option<&DisplayName>) -> Self {
        Self {
            username: account.username.to_string(),
            display_name: display
                .map_or_else(|| account.username.to_string(), |d| d.as_str().to_owned()),
        }
    }

    /// The account as others see it (its display name read from the store).
    pub async fn of(store: &SharedStore, account: &Account) -> Result<Self, ApiError> {
        let display = store.display_name(&account.id).await?;
        Ok(Self::new(account, display.as_ref()))
    }
}

/// The listeners of these ids as others see them, in order (ids whose account is gone
/// are left out).
pub async fn user_views(
    store: &SharedStore,
    ids: &[ListenerId],
) -> Result<Vec<UserView>, ApiError> {
    let accounts = accounts_of(store, ids).await?;
    futures::future::try_join_all(accounts.iter().map(|a| UserView::of(store, a))).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<UserView>,
}

/// The listener named in the path, or 400 (not a username) / 404 (no such listener).
async fn named(state: &AppState, raw: &str) -> Result<Account, ApiError> {
    let name = Username::parse(raw).map_err(|e| ApiError::invalid(e.to_string()))?;
    state
        .store
        .account_by_username(&name)
        .await?
        .ok_or_else(|| no_user(&name))
}

fn no_user(name: &Username) -> ApiError {
    ApiError::not_found(format!("no listener named {name}"))
}

/// The named listener as `me` may see them: 404 when they blocked `me`.
async fn visible_to(state: &AppState, me: &ListenerId, raw: &str) -> Result<Account, ApiError> {
    let them = named(state, raw).await?;
    if state.store.is_blocked(&them.id, me).await? {
        return Err(no_user(&them.username));
    }
    Ok(them)
}

/// The accounts of these ids, in order (ids whose account is gone are left out).
pub async fn accounts_of(
    store: &SharedStore,
    ids: &[ListenerId],
) -> Result<Vec<Account>, ApiError> {
    let found = futures::future::try_join_all(ids.iter().map(|id| store.account(id))).await?;
    Ok(found.into_iter().flatten().collect())
}

async fn user_list(store: &SharedStore, ids: &[ListenerId]) -> Result<Json<UserList>, ApiError> {
    Ok(Json(UserList {
        users: user_views(store, ids).await?,
    }))
}

#[utoipa::path(put, path = "/api/me/following/{username}", tag = "social",
    params(("username" = String, Path, description = "Whom to follow")),
    responses((status = 204, description = "Following (again: nothing changes)"),
              (status = 400, description = "Not a username, or yourself", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "No such listener (or they blocked you)", body = ErrorBody),
              (status = 409, description = "You blocked this listener; unblock first", body = ErrorBody),
              (status = 503, description = "The store is down; nothing acknowledged", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn follow(
    State(state): State<AppState>,
    me: CurrentListener,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let them = named(&state, &username).await?;
    if them.id == me.id {
        return Err(ApiError::invalid("you cannot follow yourself"));
    }
    if state.store.is_blocked(&me.id, &them.id).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("you blocked {}; unblock them first", them.username),
        ));
    }
    match state.store.follow(&me.id, &them.id).await? {
        FollowOutcome::Followed => Ok(StatusCode::NO_CONTENT),
        FollowOutcome::Blocked => Err(no_user(&them.username)),
    }
}

#[utoipa::path(delete, path = "/api/me/following/{username}", tag = "social",
    params(("username" = String, Path, description = "Whom to stop following")),
    responses((status = 204, description = "Not following (any more)"),
              (status = 400, description = "Not a username", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "No such listener", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn unfollow(
    State(state): State<AppState>,
    me: CurrentListener,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let them = named(&state, &username).await?;
    state.store.unfollow(&me.id, &them.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/me/following", tag = "social",
    responses((status = 200, description = "Whom you follow, most recent first", body = UserList),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn following(
    State(state): State<AppState>,
    me: CurrentListener,
) -> Result<Json<UserList>, ApiError> {
    let ids = state.store.following(&me.id, MAX_LIST).await?;
    user_list(&state.store, &ids).await
}

#[utoipa::path(get, path = "/api/me/followers", tag = "social",
    responses((status = 200, description = "Who follows you, most recent first (at most 500)", body = UserList),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn followers(
    State(state): State<AppState>,
    me: CurrentListener,
) -> Result<Json<UserList>, ApiError> {
    let ids = state.store.followers(&me.id, MAX_LIST).await?;
    user_list(&state.store, &ids).await
}

#[utoipa::path(put, path = "/api/me/blocked/{username}", tag = "social",
    params(("username" = String, Path, description = "Whom to block")),
    responses((status = 204, description = "Blocked; follows between you, either way, are gone"),
              (status = 400, description = "Not a username, or yourself", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "No such listener", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn block(
    State(state): State<AppState>,
    me: CurrentListener,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let them = named(&state, &username).await?;
    if them.id == me.id {
        return Err(ApiError::invalid("you cannot block yourself"));
    }
    state.store.block(&me.id, &them.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/me/blocked/{username}", tag = "social",
    params(("username" = String, Path, description = "Whom to unblock")),
    responses((status = 204, description = "Not blocked (any more); earlier follows do not come back"),
              (status = 400, description = "Not a username", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "No such listener", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn unblock(
    State(state): State<AppState>,
    me: CurrentListener,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let them = named(&state, &username).await?;
    state.store.unblock(&me.id, &them.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/me/blocked", tag = "social",
    responses((status = 200, description = "Whom you blocked, most recent first", body = UserList),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn blocked(
    State(state): State<AppState>,
    me: CurrentListener,
) -> Result<Json<UserList>, ApiError> {
    let ids = state.store.blocked(&me.id, MAX_LIST).await?;
    user_list(&state.store, &ids).await
}

/// Privacy settings as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrivacyView {
    /// Whether the people who follow you see what you play, finish and like.
    pub share_activity: bool,
    /// Whether a private session runs now (nothing new is shared).
    pub private_session: bool,
    /// When the private session ends by itself (RFC 3339), if one runs.
    pub private_session_ends: Option<String>,
}

impl PrivacyView {
    fn of(p: &Privacy, now: u64) -> Self {
        let running = p.private_session_until_ms.filter(|&until| until > now);
        Self {
            share_activity: p.share_activity,
            private_session: running.is_some(),
            private_session_ends: running.map(iso_time),
        }
    }
}

/// A change of privacy settings; an absent field stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivacyChange {
    pub share_activity: Option<bool>,
    /// True starts a private session (for 6 hours or until logout; one already running
    /// keeps its end), false ends it.
    pub private_session: Option<bool>,
}

#[utoipa::path(get, path = "/api/me/privacy", tag = "social",
    responses((status = 200, body = PrivacyView),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn privacy(
    State(state): State<AppState>,
    me: CurrentListener,
) -> Result<Json<PrivacyView>, ApiError> {
    let p = state.store.privacy(&me.id).await?;
    Ok(Json(PrivacyView::of(&p, now_ms())))
}

#[utoipa::path(put, path = "/api/me/privacy", tag = "social", request_body = PrivacyChange,
    responses((status = 200, description = "Saved", body = PrivacyView),
              (status = 400, description = "Malformed or unknown fields", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 413, description = "Body too large", body = ErrorBody),
              (status = 415, description = "Body not sent as JSON", body = ErrorBody),
              (status = 503, description = "The store is down; nothing saved", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn set_privacy(
    State(state): State<AppState>,
    me: CurrentListener,
    ApiJson(change): ApiJson<PrivacyChange>,
) -> Result<Json<PrivacyView>, ApiError> {
    let now = now_ms();
    let mut p = state.store.privacy(&me.id).await?;
    if let Some(share) = change.share_activity {
        p.share_activity = share;
    }
    match change.private_session {
        Some(true) if p.private_at(now) => {}
        Some(true) => {
            let length = u64::try_from(PRIVATE_SESSION.as_millis()).unwrap_or(u64::MAX);
            p.private_session_until_ms = Some(now.saturating_add(length));
        }
        Some(false) => p.private_session_until_ms = None,
        None => {}
    }
    state.store.set_privacy(&me.id, &p).await?;
    Ok(Json(PrivacyView::of(&p, now)))
}

/// Ends the listener's private session, if one runs (on logout).
pub async fn end_private_session(
    store: &SharedStore,
    listener: &ListenerId,
) -> Result<(), ApiError> {
    let mut p = store.privacy(listener).await?;
    if p.private_session_until_ms.is_some() {
        p.private_session_until_ms = None;
        store.set_privacy(listener, &p).await?;
    }
    Ok(())
}

/// One of a profile's playlists.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfilePlaylist {
    pub id: String,
    pub name: String,
    pub songs: usize,
}

/// A song a listener finished, and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct FinishedSong {
    #[schema(value_type = super::catalog::SongView)]
    pub song: SongView,
    /// RFC 3339.
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub user: UserView,
    /// Whether this is your own profile.
    pub me: bool,
    /// Whether you follow them.
    pub following: bool,
    /// Whether they follow you.
    pub follows_you: bool,
    /// Whether you blocked them.
    pub blocked: bool,
    /// Whether they share their activity (if not, `recently_finished` is empty).
    pub shares_activity: bool,
    /// Their public playlists, most recently changed first.
    pub playlists: Vec<ProfilePlaylist>,
    /// Songs they finished lately, newest first.
    pub recently_finished: Vec<FinishedSong>,
}

#[utoipa::path(get, path = "/api/users/{username}", tag = "social",
    params(("username" = String, Path, description = "Whose profile")),
    responses((status = 200, body = Profile),
              (status = 400, description = "Not a username", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "No such listener (or they blocked you)", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn profile(
    State(state): State<AppState>,
    me: CurrentListener,
    Path(username): Path<String>,
) -> Result<Json<Profile>, ApiError> {
    let them = visible_to(&state, &me.id, &username).await?;
    let store = &state.store;
    let own = them.id == me.id;
    let shares = own || store.privacy(&them.id).await?.share_activity;
    let recent = if !shares {
        Vec::new()
    } else if own {
        store.activity(&them.id, PROFILE_SCAN).await?
    } else {
        store
            .visible_activity(&them.id, &me.id, PROFILE_SCAN)
            .await?
    };
    // Public playlists are the owner's own choice, shown whether or not they share
    // their listening (`visible_to` already refused a viewer they blocked).
    let mut playlists: Vec<_> = store
        .playlists(&them.id)
        .await?
        .into_iter()
        .filter(|p| p.public)
        .collect();
    playlists.sort_by_key(|p| std::cmp::Reverse(p.updated_ms));
    let catalog = state.catalog.get();
    let recently_finished = recent
        .iter()
        .filter(|e| e.kind == ActivityKind::Finished)
        .filter_map(|e| {
            let song = catalog.as_ref()?.get(&e.song_id)?;
            Some(FinishedSong {
                song: SongView::from(song),
                at: iso_time(e.at_ms),
            })
        })
        .take(PROFILE_RECENT)
        .collect();
    Ok(Json(Profile {
        user: UserView::of(store, &them).await?,
        me: own,
        following: !own && is_following(store, &me.id, &them.id).await?,
        follows_you: !own && is_following(store, &them.id, &me.id).await?,
        blocked: !own && store.is_blocked(&me.id, &them.id).await?,
        shares_activity: shares,
        playlists: playlists
            .iter()
            .map(|p| ProfilePlaylist {
                id: p.id.to_string(),
                name: p.name.clone(),
                songs: p.songs.len(),
            })
            .collect(),
        recently_finished,
    }))
}

/// Whether `a` follows `b` (within the newest [`MAX_LIST`] of `a`'s follows).
async fn is_following(
    store: &SharedStore,
    a: &ListenerId,
    b: &ListenerId,
) -> Result<bool, ApiError> {
    Ok(store.following(a, MAX_LIST).await?.contains(b))
}

/// Your name as others see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyProfile {
    pub username: String,
    /// What others see: the display name you set, or your username.
    pub display_name: String,
    /// Whether you set a display name (false: `display_name` is your username).
    pub custom: bool,
}

/// A new display name; `null` or blank goes back to the username.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    /// 1-40 characters, no control characters; spaces at either end are dropped.
    pub display_name: Option<String>,
}

/// The display name a listener asked for: `None` to go back to the username, or 400
/// with what is wrong.
pub fn parse_display_name(raw: Option<&str>) -> Result<Option<DisplayName>, ApiError> {
    let Some(name) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(ApiError::invalid(format!(
            "a display name is at most {MAX_DISPLAY_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "a display name cannot hold control characters (line breaks, tabs, ...)",
        ));
    }
    DisplayName::parse(name)
        .map(Some)
        .map_err(|e| ApiError::invalid(e.to_string()))
}

async fn my_profile_of(store: &SharedStore, me: &CurrentListener) -> Result<MyProfile, ApiError> {
    let display = store.display_name(&me.id).await?;
    Ok(MyProfile {
        username: me.username.to_string(),
        custom: display.is_some(),
        display_name: display.map_or_else(|| me.username.to_string(), String::from),
    })
}

#[utoipa::path(get, path = "/api/me/profile", tag = "social",
    responses((status = 200, body = MyProfile),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn my_profile(
    State(state): State<AppState>,
    me: CurrentListener,
) -> Result<Json<MyProfile>, ApiError> {
    Ok(Json(my_profile_of(&state.store, &me).await?))
}

#[utoipa::path(put, path = "/api/me/profile", tag = "social", request_body = ProfileChange,
    responses((status = 200, description = "Saved; others see the new name at once", body = MyProfile),
              (status = 400, description = "Too long, a control character, malformed JSON or unknown fields", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 413, description = "Body too large", body = ErrorBody),
              (status = 415, description = "Body not sent as JSON", body = ErrorBody),
              (status = 503, description = "The store is down; nothing saved", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn set_profile(
    State(state): State<AppState>,
    me: CurrentListener,
    ApiJson(change): ApiJson<ProfileChange>,
) -> Result<Json<MyProfile>, ApiError> {
    let name = parse_display_name(change.display_name.as_deref())?;
    state
        .store
        .set_display_name(&me.id, name.as_ref())
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound(_) => {
                ApiError::unauthorized("this account no longer exists")
            }
            other => other.into(),
        })?;
    Ok(Json(my_profile_of(&state.store, &me).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_bounded_and_plain() {
        assert_eq!(parse_display_name(None).unwrap(), None);
        assert_eq!(parse_display_name(Some("   ")).unwrap(), None);
        assert_eq!(
            parse_display_name(Some("  Ann Ray "))
                .unwrap()
                .unwrap()
                .as_str(),
            "Ann Ray"
        );
        let long = "x".repeat(MAX_DISPLAY_NAME_CHARS + 1);
        let e = parse_display_name(Some(&long)).unwrap_err();
        assert!(e.message.contains("at most 40"), "{}", e.message);
        let e = parse_display_name(Some("Ann\u{0}Ray")).unwrap_err();
        assert!(e.message.contains("control"), "{}", e.message);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
