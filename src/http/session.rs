//! PLACEHOLDER until the `web` branch's session module is merged (it replaces this
//! file wholesale): the [`CurrentListener`] extractor with the same public shape,
//! resolving the `spoofify_session` cookie through the store's sessions.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::{ApiError, AppState};
use crate::store::{ListenerId, Username};

pub const SESSION_COOKIE: &str = "spoofify_session";

/// What the store keys a session by (the real module: SHA-256 hex of the token).
pub fn hash_token(token: &str) -> String {
    token.to_owned()
}

/// The signed-in listener making the request; 401 otherwise.
#[derive(Debug, Clone)]
pub struct CurrentListener {
    pub id: ListenerId,
    pub username: Username,
}

impl FromRequestParts<AppState> for CurrentListener {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == SESSION_COOKIE)
            .map(|(_, v)| v.to_owned())
            .ok_or_else(|| ApiError::unauthorized("sign in first: this request has no session"))?;
        let session = state
            .store
            .session(&hash_token(&token))
            .await?
            .ok_or_else(|| ApiError::unauthorized("your session has ended; sign in again"))?;
        let account = state
            .store
            .account(&session.listener)
            .await?
            .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
        Ok(CurrentListener {
            id: account.id,
            username: account.username,
        })
    }
}
