//! Login sessions: the token, the cookie that carries it, and [`CurrentListener`], the
//! extractor every signed-in handler uses to learn who is calling.
//!
//! A session token is 32 random bytes (hex in the cookie). The store keeps only the
//! SHA-256 of the token, so a leaked store dump cannot be replayed as cookies, and
//! because sessions live in the store any node can serve any browser. The cookie is
//! `HttpOnly` (no script can read it), `SameSite=Lax` (not sent on cross-site
//! sub-requests or form posts) and `Secure` when the request came over TLS through a
//! proxy (`X-Forwarded-Proto: https` or `Forwarded: proto=https`).

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};
use crate::store::{now_ms, ListenerId, Session, Username};

/// The cookie's name.
pub const SESSION_COOKIE: &str = "spoofify_session";

/// Random bytes in a session token: 256 bits cannot be guessed.
const TOKEN_BYTES: usize = 32;

/// A session older than this is written again with a fresh TTL when used, so an active
/// listener stays signed in (sliding expiry) at the cost of at most one store write per
/// session per hour.
const REFRESH_AFTER_MS: u64 = 3600 * 1000;

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
        let token = session_token(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("sign in first: this request has no session"))?;
        let hash = hash_token(&token);
        let session = state
            .store
            .session(&hash)
            .await?
            .ok_or_else(|| ApiError::unauthorized("your session has ended; sign in again"))?;
        let account = state
            .store
            .account(&session.listener)
            .await?
            .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
        if now_ms().saturating_sub(session.created_ms) > REFRESH_AFTER_MS {
            refresh(state, session).await;
        }
        Ok(CurrentListener {
            id: account.id,
            username: account.username,
        })
    }
}

/// Rewrites the session with a new timestamp and a full TTL. A failure only shortens the
/// session's life, so it is logged, not returned.
async fn refresh(state: &AppState, mut session: Session) {
    session.created_ms = now_ms();
    if let Err(e) = state.store.put_session(&session, session_ttl(state)).await {
        tracing::warn!(error = %e, "could not refresh a session");
    }
}

/// How long a session lives without use, from the `[accounts]` settings.
pub fn session_ttl(state: &AppState) -> Duration {
    Duration::from_secs(state.settings.accounts.session_ttl_secs)
}

/// A new random session token, hex-encoded.
pub fn new_token() -> String {
    let bytes: [u8; TOKEN_BYTES] = rand::random();
    hex(&bytes)
}

/// What the store keys a session by: the SHA-256 of its token, hex-encoded.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session token from the request's cookies, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// True when the browser reached us over TLS through a proxy that says so.
pub fn is_secure(headers: &HeaderMap) -> bool {
    let header_says = |name: &str, pred: &dyn Fn(&str) -> bool| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(pred)
    };
    header_says("x-forwarded-proto", &|v| {
        v.split(',')
            .next()
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
    }) || header_says("forwarded", &|v| {
        v.split([';', ','])
            .any(|kv| kv.trim().eq_ignore_ascii_case("proto=https"))
    })
}

/// The `Set-Cookie` value that hands the browser its session.
pub fn set_cookie(token: &str, secure: bool, ttl: Duration) -> HeaderValue {
    build_cookie(token, secure, ttl.as_secs())
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    build_cookie("", secure, 0)
}

fn build_cookie(value: &str, secure: bool, max_age_secs: u64) -> HeaderValue {
    let max_age = i64::try_from(max_age_secs).unwrap_or(i64::MAX);
    let cookie = Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
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
    fn secure_only_when_a_proxy_says_https() {
        let mut h = HeaderMap::new();
        assert!(!is_secure(&h));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(is_secure(&h));
        let mut h = HeaderMap::new();
        h.insert(
            "forwarded",
            HeaderValue::from_static("for=1.2.3.4;proto=https"),
        );
        assert!(is_secure(&h));
        h.insert("forwarded", HeaderValue::from_static("proto=http"));
        assert!(!is_secure(&h));
    }
}
