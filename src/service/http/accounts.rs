//! Accounts: sign up, log in, log out (here or everywhere), change the password, who am
//! I, and the onboarding preferences.
//!
//! Passwords are hashed with argon2id on a fixed pool ([`super::password`]). Attempts
//! are throttled by [`super::ratelimit`]: reserved before hashing, given back on
//! success. A successful sign-up or login starts a session ([`super::session`]) and
//! marks the browser as a known device of the account.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::edge::ApiJson;
use super::error::ErrorBody;
use super::password::{self, Password};
use super::proxy::ClientInfo;
use super::ratelimit::address_key;
use super::session::{self, CurrentListener};
use super::social;
use super::{ApiError, AppState};
use crate::catalog::SongId;
use crate::store::{now_ms, Account, ListenerId, Preferences, Session, StoreError, Username};

/// Shortest password accepted at sign-up (NIST SP 800-63B's minimum).
const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted: bounds the hashing work one request can ask for.
const MAX_PASSWORD_CHARS: usize = 128;
/// Genres a listener may pick at onboarding.
const MAX_GENRES: usize = 12;
/// Seed songs a listener may pick at onboarding.
const MAX_SEED_SONGS: usize = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/signup", post(signup))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me/logout-all", post(logout_all))
        .route("/api/me/password", post(change_password))
        .route("/api/me", get(me))
        .route("/api/me/preferences", put(set_preferences))
}

/// Sign-up and login body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    /// 3–32 characters: a-z, 0-9, '_', '-', '.' (upper case is folded to lower case).
    pub username: String,
    /// 8–128 characters.
    pub password: String,
}

/// The signed-in listener.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub username: String,
    /// The name others see: the one set in settings, or the username.
    pub display_name: String,
    /// Whether this account is one of the node's admins (config `admins`): the web app
    /// shows them the operator page.
    pub admin: bool,
    pub preferences: PreferencesView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreferencesView {
    pub genres: Vec<String>,
    pub seed_songs: Vec<String>,
    /// False until the listener has picked genres.
    pub onboarded: bool,
}

/// Onboarding choices: genres from `GET /api/genres`, optional seed songs.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PreferencesInput {
    pub genres: Vec<String>,
    #[serde(default)]
    pub seed_songs: Vec<String>,
}

impl Me {
    /// The account as its owner sees it. The display name is read from the store; if
    /// that read fails the username stands in (a name is no reason to fail a login).
    async fn of(state: &AppState, a: &Account) -> Self {
        let display = match state.store.display_name(&a.id).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "display name not read; showing the username");
                None
            }
        };
        Self {
            id: a.id.to_string(),
            username: a.username.to_string(),
            display_name: display.map_or_else(|| a.username.to_string(), String::from),
            admin: super::ops_auth::is_admin(state, &a.username),
            preferences: PreferencesView {
                genres: a.preferences.genres.clone(),
                seed_songs: a
                    .preferences
                    .seed_songs
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                onboarded: a.preferences.onboarded,
            },
        }
    }
}

/// What can go wrong here: an ordinary API error, or too many attempts (429 with
/// `Retry-After`).
#[derive(Debug, thiserror::Error)]
enum AccountError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("too many attempts; retry in {0:?}")]
    RateLimited(Duration),
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        Self::Api(e.into())
    }
}

impl IntoResponse for AccountError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::RateLimited(retry) => {
                let secs = retry.as_secs().max(1);
                let e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("too many failed attempts; try again in {secs} s"),
                );
                ([(header::RETRY_AFTER, secs.to_string())], e).into_response()
            }
        }
    }
}

/// A new password must be 8–128 characters.
fn parse_new_password(s: String) -> Result<Password, ApiError> {
    let n = s.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(ApiError::invalid(format!(
            "password must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(Password(s))
}

/// A password offered at login only needs to be of a length we would hash.
fn parse_offered_password(s: String) -> Result<Password, ApiError> {
    if s.is_empty() || s.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::invalid(format!(
            "password must be 1-{MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(Password(s))
}

/// Usernames are case-insensitive: folded to lower case, then validated.
fn parse_username(raw: &str) -> Result<Username, ApiError> {
    Username::parse(&raw.trim().to_lowercase()).map_err(|e| ApiError::invalid(e.to_string()))
}

#[utoipa::path(post, path = "/api/signup", tag = "accounts", request_body = Credentials,
    responses((status = 201, description = "Account created and signed in (session cookie set)", body = Me),
              (status = 400, description = "Invalid username or password", body = ErrorBody),
              (status = 409, description = "Username taken", body = ErrorBody),
              (status = 413, description = "Body too large", body = ErrorBody), (status = 415, description = "Body not sent as JSON", body = ErrorBody),
              (status = 429, description = "Too many sign-ups from this address; see Retry-After", body = ErrorBody),
              (status = 503, description = "Too busy hashing passwords, or the store is down; retry", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn signup(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, AccountError> {
    let username = parse_username(&body.username)?;
    let password = parse_new_password(body.password)?;
    if let Some(addr) = client.addr {
        state
            .limits
            .signups_by_address
            .reserve(&address_key(addr))
            .map_err(AccountError::RateLimited)?;
    }
    if state.store.account_by_username(&username).await?.is_some() {
        return Err(taken(&username).into());
    }
    let password_hash = password::hash(password).await?;
    let account = Account {
        id: new_listener_id()?,
        username: username.clone(),
        password_hash,
        created_ms: now_ms(),
        preferences: Preferences::default(),
        session_epoch: 0,
    };
    match state.store.create_account(&account).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(taken(&username).into()),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(listener = %account.id, "signed up");
    let cookies = start_session(&state, &account, &headers, client, None).await?;
    Ok((
        StatusCode::CREATED,
        AppendHeaders(cookies),
        Json(Me::of(&state, &account).await),
    )
        .into_response())
}

fn taken(username: &Username) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "username_taken",
        format!("the username {username:?} is taken; pick another"),
    )
}

fn new_listener_id() -> Result<ListenerId, ApiError> {
    ListenerId::parse(&uuid::Uuid::new_v4().simple().to_string())
        .map_err(|e| ApiError::internal(e.to_string()))
}

#[utoipa::path(post, path = "/api/login", tag = "accounts", request_body = Credentials,
    responses((status = 200, description = "Signed in (session cookie set)", body = Me),
              (status = 400, description = "Malformed JSON, or a username or password no account could have", body = ErrorBody),
              (status = 401, description = "Wrong username or password", body = ErrorBody),
              (status = 413, description = "Body too large", body = ErrorBody), (status = 415, description = "Body not sent as JSON", body = ErrorBody),
              (status = 429, description = "Too many failed attempts for this username or address; see Retry-After", body = ErrorBody),
              (status = 503, description = "Too busy hashing passwords, or the store is down; retry", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, AccountError> {
    let username = parse_username(&body.username)?;
    let password = parse_offered_password(body.password)?;
    let limits = &state.limits;
    let account = state.store.account_by_username(&username).await?;
    // A browser that signed in to this account before is counted on its own.
    let device = match (&account, session::device_token(&headers)) {
        (Some(a), Some(token)) => known_device(&state, a, &token).await?,
        _ => None,
    };
    let (limiter, key) = match &device {
        Some(hash) => (&limits.by_device, format!("device:{hash}")),
        None => (&limits.by_username, username.as_str().to_owned()),
    };
    // A known device is counted on its own only: behind a proxy that is not in
    // `trusted_proxies` every client shares one address, and failures there must not
    // lock out browsers that signed in before.
    let addr_key = client.addr.filter(|_| device.is_none()).map(address_key);
    // Reserve before hashing (check and count in one step), per address, then per
    // username or device; an attempt refused by the second does not use up the first.
    if let Some(k) = &addr_key {
        limits
            .by_address
            .reserve(k)
            .map_err(AccountError::RateLimited)?;
    }
    if let Err(retry) = limiter.reserve(&key) {
        if let Some(k) = &addr_key {
            limits.by_address.release(k);
        }
        return Err(AccountError::RateLimited(retry));
    }
    let stored_hash = account.as_ref().map(|a| a.password_hash.clone());
    let verified = password::verify(password, stored_hash).await;
    let account = match (account, verified) {
        (Some(a), Ok(true)) => a,
        (_, Err(e)) => {
            // Not an attempt: nothing was checked.
            limiter.release(&key);
            if let Some(k) = &addr_key {
                limits.by_address.release(k);
            }
            return Err(e.into());
        }
        _ => {
            tracing::info!(known_device = device.is_some(), "failed login");
            return Err(ApiError::unauthorized("wrong username or password").into());
        }
    };
    limiter.release(&key);
    if let Some(k) = &addr_key {
        limits.by_address.release(k);
    }
    tracing::info!(listener = %account.id, "logged in");
    let cookies = start_session(&state, &account, &headers, client, device).await?;
    Ok((AppendHeaders(cookies), Json(Me::of(&state, &account).await)).into_response())
}

/// The device's store key when `token` marks a browser that signed in to `account`.
async fn known_device(
    state: &AppState,
    account: &Account,
    token: &str,
) -> Result<Option<String>, ApiError> {
    let hash = session::hash_device_token(token);
    let record = state.store.session(&hash).await?;
    Ok(record.filter(|r| r.listener == account.id).map(|_| hash))
}

/// Stores a new session (and, unless the browser is a known device already, a device
/// record) and returns the `Set-Cookie` values for them.
async fn start_session(
    state: &AppState,
    account: &Account,
    headers: &HeaderMap,
    client: ClientInfo,
    device: Option<String>,
) -> Result<Vec<(header::HeaderName, HeaderValue)>, ApiError> {
    let secure = session::is_secure_context(headers, client.https);
    let token = session::new_session_token(&account.id);
    let record = Session {
        token_hash: session::hash_token(&token),
        listener: account.id.clone(),
        created_ms: now_ms(),
        epoch: account.session_epoch,
    };
    let ttl = session::session_ttl(state);
    state.store.put_session(&record, ttl).await?;
    let mut cookies = vec![(header::SET_COOKIE, session::set_cookie(&token, secure, ttl))];
    if device.is_none() {
        let token = session::new_token();
        let record = Session {
            token_hash: session::hash_device_token(&token),
            listener: account.id.clone(),
            created_ms: now_ms(),
            epoch: 0,
        };
        state
            .store
            .put_session(&record, session::DEVICE_TTL)
            .await?;
        cookies.push((
            header::SET_COOKIE,
            session::set_device_cookie(&token, secure),
        ));
    }
    Ok(cookies)
}

#[utoipa::path(post, path = "/api/logout", tag = "accounts",
    responses((status = 204, description = "Signed out; the session is deleted and the cookie cleared"),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = session::session_token(&headers) {
        let hash = session::hash_token(&token);
        // Logging out ends a private session (issue 17).
        if let Some(s) = state.store.session(&hash).await? {
            social::end_private_session(&state.store, &s.listener).await?;
        }
        match state.store.delete_session(&hash).await {
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok((StatusCode::NO_CONTENT, AppendHeaders(clear_cookies())).into_response())
}

/// Clears the session cookie under both names (whichever this browser holds).
fn clear_cookies() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::SET_COOKIE, session::clear_cookie(true)),
        (header::SET_COOKIE, session::clear_cookie(false)),
    ]
}

#[utoipa::path(post, path = "/api/me/logout-all", tag = "accounts",
    responses((status = 204, description = "Every session of this account has ended, this one included; the cookie is cleared"),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn logout_all(
    State(state): State<AppState>,
    me: CurrentListener,
) -> Result<Response, ApiError> {
    state.store.revoke_sessions(&me.id, None).await?;
    social::end_private_session(&state.store, &me.id).await?;
    tracing::info!("logged out everywhere");
    Ok((StatusCode::NO_CONTENT, AppendHeaders(clear_cookies())).into_response())
}

/// A password change: the current password, and the new one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    /// 8–128 characters.
    pub new_password: String,
}

#[utoipa::path(post, path = "/api/me/password", tag = "accounts", request_body = PasswordChange,
    responses((status = 200, description = "Changed; every other session has ended and this browser has a new one", body = Me),
              (status = 400, description = "The new password is too short or too long", body = ErrorBody),
              (status = 401, description = "Not signed in, or the current password is wrong", body = ErrorBody),
              (status = 413, description = "Body too large", body = ErrorBody), (status = 415, description = "Body not sent as JSON", body = ErrorBody),
              (status = 429, description = "Too many wrong passwords; see Retry-After", body = ErrorBody),
              (status = 503, description = "Too busy hashing passwords, or the store is down; retry", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn change_password(
    State(state): State<AppState>,
    me: CurrentListener,
    client: ClientInfo,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<Response, AccountError> {
    let current = parse_offered_password(body.current_password)?;
    let new = parse_new_password(body.new_password)?;
    let account = state
        .store
        .account(&me.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    // A stolen session must not become a way around the login limit.
    let key = format!("password:{}", me.id);
    let limiter = &state.limits.by_username;
    limiter.reserve(&key).map_err(AccountError::RateLimited)?;
    if !password::verify(current, Some(account.password_hash.clone())).await? {
        return Err(ApiError::unauthorized("the current password is wrong").into());
    }
    limiter.release(&key);
    let hash = password::hash(new).await?;
    let epoch = state.store.revoke_sessions(&me.id, Some(&hash)).await?;
    tracing::info!("password changed; other sessions ended");
    let account = Account {
        session_epoch: epoch,
        ..account
    };
    let device = session::device_token(&headers).map(|t| session::hash_device_token(&t));
    let cookies = start_session(&state, &account, &headers, client, device).await?;
    Ok((AppendHeaders(cookies), Json(Me::of(&state, &account).await)).into_response())
}

#[utoipa::path(get, path = "/api/me", tag = "accounts",
    responses((status = 200, body = Me), (status = 401, description = "Not signed in", body = ErrorBody), (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn me(State(state): State<AppState>, me: CurrentListener) -> Result<Json<Me>, ApiError> {
    let account = state
        .store
        .account(&me.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    Ok(Json(Me::of(&state, &account).await))
}

#[utoipa::path(put, path = "/api/me/preferences", tag = "accounts", request_body = PreferencesInput,
    responses((status = 200, description = "Saved; the listener is onboarded", body = Me),
              (status = 400, description = "Malformed JSON, an unknown genre or song, or too many", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody), (status = 413, description = "Body too large", body = ErrorBody), (status = 415, description = "Body not sent as JSON", body = ErrorBody), (status = 503, description = "The catalog is still loading, or the store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn set_preferences(
    State(state): State<AppState>,
    me: CurrentListener,
    ApiJson(body): ApiJson<PreferencesInput>,
) -> Result<Json<Me>, ApiError> {
    let prefs = validate_preferences(&state, body)?;
    state.store.set_preferences(&me.id, &prefs).await?;
    let account = state
        .store
        .account(&me.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    Ok(Json(Me::of(&state, &account).await))
}

/// Genres must be the catalog's (matched without regard to case, stored in the catalog's
/// spelling), songs must exist; duplicates are dropped.
fn validate_preferences(
    state: &AppState,
    input: PreferencesInput,
) -> Result<Preferences, ApiError> {
    let catalog = super::catalog::loaded(state)?;
    if input.genres.is_empty() || input.genres.len() > MAX_GENRES {
        return Err(ApiError::invalid(format!("pick 1-{MAX_GENRES} genres")));
    }
    if input.seed_songs.len() > MAX_SEED_SONGS {
        return Err(ApiError::invalid(format!(
            "pick at most {MAX_SEED_SONGS} songs"
        )));
    }
    let known = catalog.genres();
    let mut genres: Vec<String> = Vec::new();
    for g in &input.genres {
        let found = known.iter().find(|k| k.eq_ignore_ascii_case(g.trim()));
        match found {
            Some(k) if !genres.contains(k) => genres.push(k.clone()),
            Some(_) => {}
            None => return Err(ApiError::invalid(format!("unknown genre {g:?}"))),
        }
    }
    let mut seed_songs: Vec<SongId> = Vec::new();
    for s in &input.seed_songs {
        let id = SongId::parse(s).map_err(|e| ApiError::invalid(e.to_string()))?;
        if catalog.get(&id).is_none() {
            return Err(ApiError::invalid(format!("unknown song {s:?}")));
        }
        if !seed_songs.contains(&id) {
            seed_songs.push(id);
        }
    }
    Ok(Preferences {
        genres,
        seed_songs,
        onboarded: true,
    })
}
