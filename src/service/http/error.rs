//! The one error type of the JSON API: what handlers and the edge's extractors
//! return ([`ApiError`]), its body (`{"error": {"code": "...", "message": "..."}}`,
//! [`ErrorBody`]) and that body's OpenAPI schema — one definition for all three.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;

/// An error answered to the client. `code` is a stable machine-readable string.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 `invalid_input`: a value in the request is not acceptable. Every 400 but
    /// malformed JSON (`invalid_json`) has this code.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::NotFound(m) => Self::not_found(m),
            StoreError::Fenced { .. } => Self::new(StatusCode::CONFLICT, "fenced", e.to_string()),
            StoreError::Corrupt(_) | StoreError::Unavailable(_) => {
                tracing::error!(error = %e, "store failed");
                Self::unavailable("the store is unavailable; nothing was saved, please retry")
            }
        }
    }
}

/// Every error the API answers: `{"error": {"code", "message"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. "invalid_input", "unauthorized", "not_found",
    /// "rate_limited", "username_taken", "body_too_large", "unavailable".
    pub code: String,
    /// For people.
    pub message: String,
}

impl ApiError {
    /// The JSON body this error is answered with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}
