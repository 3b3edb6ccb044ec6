//! Who may use the operator endpoints (`/api/cluster`, the details of `/readyz`, and
//! later `/metrics` and an ops page): a request with `Authorization: Bearer <ops_token>`
//! (config `ops_token`, env `SPOOFIFY_OPS_TOKEN`), or from a signed-in listener whose
//! username is in config `admins`.
//!
//! [`Operator`] is the extractor a handler takes to require one: 401 without any
//! credential, 403 with a wrong token or a listener who is no admin. [`Operator::check`]
//! is the same test for handlers whose answer only changes (`/readyz`). The token is
//! compared in constant time (both sides hashed first, so length leaks nothing either).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use sha2::{Digest, Sha256};

use super::session::CurrentListener;
use super::{ApiError, AppState};

/// Proof that the request comes from an operator.
#[derive(Debug, Clone)]
pub enum Operator {
    /// The bearer token.
    Token,
    /// An admin's session (the username).
    Admin(String),
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Self::check(parts, state).await
    }
}

impl Operator {
    /// The operator behind the request, or why not (401/403, or 503 if the store is down).
    pub async fn check(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(offered) = bearer(parts) {
            let expected = &state.settings.ops_token.0;
            return if !expected.is_empty() && same_secret(offered.as_bytes(), expected.as_bytes()) {
                Ok(Operator::Token)
            } else {
                Err(forbidden("that operator token is not valid"))
            };
        }
        let listener = CurrentListener::from_request_parts(parts, state)
            .await
            .map_err(|e| match e.status {
                StatusCode::UNAUTHORIZED => ApiError::unauthorized(
                    "operators only: send Authorization: Bearer <ops_token>, or sign in as an admin",
                ),
                _ => e,
            })?;
        let name = listener.username.as_str();
        if is_admin(state, &listener.username) {
            Ok(Operator::Admin(name.to_owned()))
        } else {
            Err(forbidden("operators only: this account is not an admin"))
        }
    }
}

/// Whether `username` is one of the admins named in config `admins` (any case).
pub fn is_admin(state: &AppState, username: &crate::store::Username) -> bool {
    state
        .settings
        .admins
        .iter()
        .any(|a| a.eq_ignore_ascii_case(username.as_str()))
}

fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Equal secrets, compared without an early exit on the first differing byte.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_by_value() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }
}
