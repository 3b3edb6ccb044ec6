//! Accounts: sign up, log in, log out, who am I, and the onboarding preferences.
//!
//! Passwords are hashed with argon2id (the crate's defaults: 19 MiB, 2 passes) on the
//! blocking pool, at most [`MAX_CONCURRENT_HASHES`] at a time so a burst of sign-ins
//! cannot exhaust memory. A login for an unknown name still verifies against a dummy
//! hash, so response time does not reveal which usernames exist. Failed logins are
//! throttled by [`super::ratelimit`]. A successful sign-up or login starts a session
//! ([`super::session`]).

use std::sync::LazyLock;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use super::edge::ApiJson;
use super::error::ErrorBody;
use super::ratelimit::ClientAddr;
use super::session::{self, CurrentListener};
use super::{ApiError, AppState};
use crate::catalog::SongId;
use crate::store::{now_ms, Account, ListenerId, Preferences, Session, StoreError, Username};

/// Shortest password accepted at sign-up (NIST SP 800-63B's minimum).
const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted: bounds the hashing work one request can ask for.
const MAX_PASSWORD_CHARS: usize = 128;
/// Argon2 hashes running at once; each holds 19 MiB and a core for tens of ms, so more
/// than the cores only queues work in memory. Further requests wait their turn.
const MAX_CONCURRENT_HASHES: usize = 4;
/// Genres a listener may pick at onboarding.
const MAX_GENRES: usize = 12;
/// Seed songs a listener may pick at onboarding.
const MAX_SEED_SONGS: usize = 20;

/// How long a request waits for a hashing slot before it is turned away with 503: a
/// sign-up storm then sheds load instead of queueing work whose clients gave up.
const MAX_HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

static HASHING: Semaphore = Semaphore::const_new(MAX_CONCURRENT_HASHES);

/// A hashing slot, or 503 when none frees up within [`MAX_HASH_WAIT`].
async fn hashing_slot() -> Result<tokio::sync::SemaphorePermit<'static>, ApiError> {
    match tokio::time::timeout(MAX_HASH_WAIT, HASHING.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) => Err(ApiError::internal("password hashing is shut down")),
        Err(_) => Err(ApiError::unavailable(
            "too many sign-ups and logins right now; retry in a few seconds",
        )),
    }
}

/// Verified when the username is unknown, so that case costs the same time.
static DUMMY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash_blocking("not a real password").ok());

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/signup", post(signup))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
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
    fn from_account(a: &Account) -> Self {
        Self {
            id: a.id.to_string(),
            username: a.username.to_string(),
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

/// A password as typed, kept out of logs.
struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Password {
    /// A new password must be 8–128 characters.
    fn parse_new(s: String) -> Result<Self, ApiError> {
        let n = s.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
            return Err(ApiError::invalid(format!(
                "password must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters"
            )));
        }
        Ok(Self(s))
    }

    /// A password offered at login only needs to be of a length we would hash.
    fn parse_offered(s: String) -> Result<Self, ApiError> {
        if s.is_empty() || s.chars().count() > MAX_PASSWORD_CHARS {
            return Err(ApiError::invalid(format!(
                "password must be 1-{MAX_PASSWORD_CHARS} characters"
            )));
        }
        Ok(Self(s))
    }
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
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, AccountError> {
    let username = parse_username(&body.username)?;
    let password = Password::parse_new(body.password)?;
    let addr_key = addr.map(|a| a.to_string());
    if let Some(key) = &addr_key {
        state
            .limits
            .signups_by_address
            .check(key)
            .map_err(AccountError::RateLimited)?;
        state.limits.signups_by_address.record(key);
    }
    if state.store.account_by_username(&username).await?.is_some() {
        return Err(taken(&username).into());
    }
    let password_hash = hash_password(password).await?;
    let account = Account {
        id: new_listener_id()?,
        username: username.clone(),
        password_hash,
        created_ms: now_ms(),
        preferences: Preferences::default(),
    };
    match state.store.create_account(&account).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(taken(&username).into()),
        Err(e) => return Err(e.into()),
    }
    tracing::info!(listener = %account.id, "signed up");
    let cookie = start_session(&state, &account.id, &headers).await?;
    Ok((
        StatusCode::CREATED,
        [(header::SET_COOKIE, cookie)],
        Json(Me::from_account(&account)),
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
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, AccountError> {
    let username = parse_username(&body.username)?;
    let password = Password::parse_offered(body.password)?;
    let limits = &state.limits;
    let addr_key = addr.map(|a| a.to_string());
    limits
        .by_username
        .check(username.as_str())
        .map_err(AccountError::RateLimited)?;
    if let Some(key) = &addr_key {
        limits
            .by_address
            .check(key)
            .map_err(AccountError::RateLimited)?;
    }
    let account = state.store.account_by_username(&username).await?;
    let stored_hash = account.as_ref().map(|a| a.password_hash.clone());
    let verified = verify_password(password, stored_hash).await?;
    let account = match account {
        Some(a) if verified => a,
        _ => {
            limits.by_username.record(username.as_str());
            if let Some(key) = &addr_key {
                limits.by_address.record(key);
            }
            tracing::info!("failed login");
            return Err(ApiError::unauthorized("wrong username or password").into());
        }
    };
    tracing::info!(listener = %account.id, "logged in");
    let cookie = start_session(&state, &account.id, &headers).await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(Me::from_account(&account)),
    )
        .into_response())
}

/// Stores a new session and returns the `Set-Cookie` value for it.
async fn start_session(
    state: &AppState,
    listener: &ListenerId,
    headers: &HeaderMap,
) -> Result<axum::http::HeaderValue, ApiError> {
    let token = session::new_token();
    let record = Session {
        token_hash: session::hash_token(&token),
        listener: listener.clone(),
        created_ms: now_ms(),
    };
    let ttl = session::session_ttl(state);
    state.store.put_session(&record, ttl).await?;
    Ok(session::set_cookie(
        &token,
        session::is_secure(headers),
        ttl,
    ))
}

#[utoipa::path(post, path = "/api/logout", tag = "accounts",
    responses((status = 204, description = "Signed out; the session is deleted and the cookie cleared"),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = session::session_token(&headers) {
        match state
            .store
            .delete_session(&session::hash_token(&token))
            .await
        {
            Ok(()) | Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let cookie = session::clear_cookie(session::is_secure(&headers));
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
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
    Ok(Json(Me::from_account(&account)))
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
    Ok(Json(Me::from_account(&account)))
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

async fn hash_password(password: Password) -> Result<String, ApiError> {
    let _permit = hashing_slot().await?;
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(|| hash_blocking(&password.0)))
        .await
        .map_err(|e| ApiError::internal(format!("hashing task failed: {e}")))?
}

fn hash_blocking(password: &str) -> Result<String, ApiError> {
    // 16 bytes from the thread's CSPRNG (reseeded from the OS), the recommended salt size.
    let bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&bytes)
        .map_err(|e| ApiError::internal(format!("salt encoding failed: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("hashing failed: {e}")))
}

/// True when `phc` is present and the password matches it. Without a stored hash the
/// password is checked against a dummy hash anyway (and fails), to take the same time.
async fn verify_password(password: Password, phc: Option<String>) -> Result<bool, ApiError> {
    let _permit = hashing_slot().await?;
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        span.in_scope(|| {
            let real = phc.is_some();
            let Some(phc) = phc.or_else(|| DUMMY_HASH.clone()) else {
                return false;
            };
            let matches = match PasswordHash::new(&phc) {
                Ok(parsed) => Argon2::default()
                    .verify_password(password.0.as_bytes(), &parsed)
                    .is_ok(),
                Err(e) => {
                    tracing::error!(error = %e, "a stored password hash does not parse");
                    false
                }
            };
            real && matches
        })
    })
    .await
    .map_err(|e| ApiError::internal(format!("verification task failed: {e}")))
}
