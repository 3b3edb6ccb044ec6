//! Login sessions: the token, the cookie that carries it, and [`CurrentListener`], the
//! extractor every signed-in handler uses to learn who is calling.
//!
//! A session token is the listener's id, a dot and 32 random bytes (hex) in the cookie.
//! The store keeps only the SHA-256 of the token (after the listener id, which places
//! the session beside the account: one read checks both, [`check`]), so a leaked store
//! dump cannot be replayed as cookies, and because sessions live in the store any node
//! can serve any browser. Tokens from before the id was in them still work. The cookie is
//! `HttpOnly` (no script can read it), `SameSite=Lax` (not sent on cross-site
//! sub-requests or form posts). In a secure context — https (a trusted proxy says so,
//! `http::proxy`) or a loopback host, which browsers treat as secure — it is
//! `__Host-spoofify_session` with `Secure`: no other host or path, and nothing sent over
//! plain http, can set or overwrite it. Over plain http on another address it cannot
//! be (browsers drop `Secure` cookies there), so it is `spoofify_session` without it.
//!
//! A session is valid while it exists in the store *and* its epoch is the account's:
//! "log out everywhere" and a password change raise the epoch, voiding every session at
//! once. Sliding expiry rewrites a session only if it still exists, so a refresh racing a
//! logout cannot bring it back.
//!
//! A *device* cookie (`__Host-spoofify_device`), set at each login, marks a browser that
//! signed in to an account before; the login limiter counts that browser's attempts on
//! their own, so a guesser elsewhere cannot lock the owner out (`http::ratelimit`). The
//! store keeps only the SHA-256 of `device:` + its token, so it can never pass as a
//! session token.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};
use crate::store::{now_ms, ListenerId, Session, SessionCheck, StoreError, Username};

/// The cookie's name in a secure context, and elsewhere (see the module doc).
pub const SESSION_COOKIE: &str = "__Host-spoofify_session";
pub const SESSION_COOKIE_PLAIN: &str = "spoofify_session";
/// The device cookie's names, likewise.
pub const DEVICE_COOKIE: &str = "__Host-spoofify_device";
pub const DEVICE_COOKIE_PLAIN: &str = "spoofify_device";
/// A device is remembered this long after its last login.
pub const DEVICE_TTL: Duration = Duration::from_secs(400 * 24 * 3600);

/// Random bytes in a session token: 256 bits cannot be guessed.
const TOKEN_BYTES: usize = 32;

/// A session older than this (or than half its TTL, when that is shorter) is written
/// again with a fresh TTL when used, so an active listener stays signed in (sliding
/// expiry) at the cost of at most one store write per session per hour.
const REFRESH_AFTER_MS: u64 = 3600 * 1000;

/// When a session is due for its sliding refresh.
fn refresh_after_ms(state: &AppState) -> u64 {
    REFRESH_AFTER_MS.min(state.settings.accounts.session_ttl_secs.saturating_mul(500))
}

/// The signed-in listener making the request. Rejects with 401
/// `{"error":{"code":"unauthorized",...}}` when there is no valid session.
#[derive(Debug, Clone)]
pub struct CurrentListener {
    pub id: ListenerId,
    pub username: Username,
}

impl FromRequestParts<AppState> for CurrentListener {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SessionKey(key) = SessionKey::from_request_parts(parts, state).await?;
        verify(state, &key).await
    }
}

/// The store key of the request's session (see [`hash_token`]), *not checked yet*:
/// for a handler that checks the session in the same store step as its write
/// ([`crate::store::Store::append_checked`], `POST /api/interactions`). Rejects with
/// 401 only when the request has no session cookie at all. The handler must answer
/// nothing but 401 ([`verify`], [`refused`]) to a request whose session turns out not
/// to sign in.
#[derive(Debug, Clone)]
pub struct SessionKey(pub String);

impl FromRequestParts<AppState> for SessionKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        let token = session_token(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("sign in first: this request has no session"))?;
        Ok(SessionKey(hash_token(&token)))
    }
}

/// [`CurrentListener`] for the session stored under `key`: [`check`], then the
/// sliding refresh when it is due; 401 when the session does not sign in.
pub async fn verify(state: &AppState, key: &str) -> Result<CurrentListener, ApiError> {
    match check(state, key).await? {
        Checked::Valid { session, username } => {
            let id = session.listener.clone();
            refresh_if_due(state, session).await;
            Ok(CurrentListener { id, username })
        }
        Checked::Ended(why) => Err(ApiError::unauthorized(why.message())),
    }
}

/// The 401 for a session check that did not sign in (what a store step that checked
/// the session itself read: [`crate::store::CheckedAppend::check`]).
pub fn refused(found: Option<SessionCheck>) -> ApiError {
    match judge(found) {
        Checked::Ended(why) => ApiError::unauthorized(why.message()),
        // The store refused a session this rule accepts: its rule and ours differ.
        Checked::Valid { .. } => ApiError::from(StoreError::Corrupt(
            "the store refused a session that signs in".to_owned(),
        )),
    }
}

/// Rewrites a valid session with a fresh TTL when it is due (sliding expiry).
pub async fn refresh_if_due(state: &AppState, session: Session) {
    if now_ms().saturating_sub(session.created_ms) > refresh_after_ms(state) {
        refresh(state, session).await;
    }
}

/// What [`check`] found.
#[derive(Debug)]
pub enum Checked {
    /// The session signs its requests in.
    Valid {
        session: Session,
        username: Username,
    },
    Ended(Ended),
}

/// Why a session no longer signs its requests in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// No such session (logged out, expired, never existed).
    Gone,
    /// Its account no longer exists.
    AccountGone,
    /// Its epoch is not the account's: logged out everywhere, or a new password.
    Voided,
}

impl Ended {
    /// What the 401 answer says.
    pub fn message(self) -> &'static str {
        match self {
            Ended::Gone => "your session has ended; sign in again",
            Ended::AccountGone => "this account no longer exists",
            Ended::Voided => {
                "this session was ended (logged out everywhere, or a new password); sign in again"
            }
        }
    }
}

/// Whether the session stored under `key` (see [`hash_token`]) still signs its requests
/// in: it exists, its account does, and its epoch is the account's (see the module
/// docs). One store read ([`crate::store::Store::session_check`]); for every signed-in
/// request ([`CurrentListener`]) and for open activity streams, which end with their
/// session (`http::activity`).
pub async fn check(state: &AppState, key: &str) -> Result<Checked, StoreError> {
    Ok(judge(state.store.session_check(key).await?))
}

/// What a session check's reading means ([`SessionCheck::signs_in`], with the reason
/// when it does not).
pub fn judge(found: Option<SessionCheck>) -> Checked {
    let Some(found) = found else {
        return Checked::Ended(Ended::Gone);
    };
    let signs_in = found.signs_in();
    match found.account {
        None => Checked::Ended(Ended::AccountGone),
        Some(_) if !signs_in => Checked::Ended(Ended::Voided),
        Some(account) => Checked::Valid {
            session: found.session,
            username: account.username,
        },
    }
}

/// Rewrites the session with a new timestamp and a full TTL, if it still exists. A
/// failure only shortens the session's life, so it is logged, not returned.
async fn refresh(state: &AppState, mut session: Session) {
    session.created_ms = now_ms();
    match state
        .store
        .refresh_session(&session, session_ttl(state))
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::debug!("a session ended while it was being refreshed"),
        Err(e) => tracing::warn!(error = %e, "could not refresh a session"),
    }
}

/// How long a session lives without use, from the `[accounts]` settings.
pub fn session_ttl(state: &AppState) -> Duration {
    Duration::from_secs(state.settings.accounts.session_ttl_secs)
}

/// A new random token, hex-encoded (a device's; a session's is [`new_session_token`]).
pub fn new_token() -> String {
    let bytes: [u8; TOKEN_BYTES] = rand::random();
    hex(&bytes)
}

/// A new session token for `listener`: `<listener>.<random hex>`. The listener part
/// lets the store keep the session beside the account ([`hash_token`]); it proves
/// nothing — the random part does.
pub fn new_session_token(listener: &ListenerId) -> String {
    format!("{listener}.{}", new_token())
}

/// What the store keys a session by: the SHA-256 of its token, hex-encoded, after
/// `<listener>.` when the token starts with one (see
/// [`crate::store::session_key_listener`]). The hash covers the whole token, so a
/// token naming another listener matches no session of theirs.
pub fn hash_token(token: &str) -> String {
    let digest = hex(&Sha256::digest(token.as_bytes()));
    match token
        .split_once('.')
        .and_then(|(l, _)| ListenerId::parse(l).ok())
    {
        Some(listener) => format!("{listener}.{digest}"),
        None => digest,
    }
}

/// What the store keys a device by: the SHA-256 of `device:` + its token (never equal
/// to a session's key, so a device token is no session token).
pub fn hash_device_token(token: &str) -> String {
    hash_token(&format!("device:{token}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session token from the request's cookies, if any (either name).
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE).or_else(|| cookie_value(headers, SESSION_COOKIE_PLAIN))
}

/// The device token from the request's cookies, if any (either name).
pub fn device_token(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, DEVICE_COOKIE).or_else(|| cookie_value(headers, DEVICE_COOKIE_PLAIN))
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// True when the browser treats this origin as secure: https (as a trusted proxy says,
/// `https`), or a loopback host (`Host: 127.0.0.1:…`, `localhost`, `[::1]`).
pub fn is_secure_context(headers: &HeaderMap, https: bool) -> bool {
    if https {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `Set-Cookie` value that hands the browser its session.
pub fn set_cookie(token: &str, secure: bool, ttl: Duration) -> HeaderValue {
    build_cookie(
        session_name(secure),
        token,
        secure,
        ttl.as_secs(),
        SameSite::Lax,
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    build_cookie(session_name(secure), "", secure, 0, SameSite::Lax)
}

/// The `Set-Cookie` value that marks this browser as a device that signed in before.
pub fn set_device_cookie(token: &str, secure: bool) -> HeaderValue {
    let name = if secure {
        DEVICE_COOKIE
    } else {
        DEVICE_COOKIE_PLAIN
    };
    build_cookie(name, token, secure, DEVICE_TTL.as_secs(), SameSite::Strict)
}

fn session_name(secure: bool) -> &'static str {
    if secure {
        SESSION_COOKIE
    } else {
        SESSION_COOKIE_PLAIN
    }
}

fn build_cookie(
    name: &'static str,
    value: &str,
    secure: bool,
    max_age_secs: u64,
    same_site: SameSite,
) -> HeaderValue {
    let max_age = i64::try_from(max_age_secs).unwrap_or(i64::MAX);
    let cookie = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(same_site)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    // The token is hex and the attributes are ASCII, so this cannot fail; an empty
    // value (the cookie is simply not set) is the harmless fallback.
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), TOKEN_BYTES * 2);
        assert_ne!(a, b);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), a);
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn session_keys_name_their_listener() {
        let me = ListenerId::parse("l-42").unwrap();
        let token = new_session_token(&me);
        let key = hash_token(&token);
        assert_eq!(crate::store::session_key_listener(&key), Some(me.clone()));
        assert_ne!(hash_token(&token.replacen("l-42", "l-43", 1)), key);
        // Device tokens and tokens from before name no listener.
        assert_eq!(
            crate::store::session_key_listener(&hash_device_token(&new_token())),
            None
        );
        assert_eq!(crate::store::session_key_listener(&hash_token("abc")), None);
    }

    #[test]
    fn cookie_is_found_among_others_and_has_the_right_attributes() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; spoofify_session=tok; b=2"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("tok"));
        let c = set_cookie("tok", false, Duration::from_secs(60));
        let c = c.to_str().unwrap();
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"),
            "{c}"
        );
        assert!(set_cookie("t", true, Duration::from_secs(1))
            .to_str()
            .unwrap()
            .contains("Secure"));
    }

    #[test]
    fn secure_context_on_https_or_a_loopback_host() {
        let mut h = HeaderMap::new();
        assert!(!is_secure_context(&h, false));
        assert!(is_secure_context(&h, true));
        for host in ["127.0.0.1:8080", "localhost", "[::1]:80", "LOCALHOST:1"] {
            h.insert(header::HOST, HeaderValue::from_static(host));
            assert!(is_secure_context(&h, false), "{host}");
        }
        h.insert(header::HOST, HeaderValue::from_static("192.168.1.5:8080"));
        assert!(!is_secure_context(&h, false));
    }
}
