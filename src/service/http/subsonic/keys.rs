//! The web app's side of Subsonic apps: API keys (`/api/me/api-keys`) and the app
//! password (`/api/me/app-password`), for the signed-in listener.
//!
//! A key is shown once, at creation; the store keeps its SHA-256 only, and revoking
//! deletes it. The app password is shown once too, but kept sealed (`secret`) because
//! token auth needs it; making a new one replaces the old, and DELETE revokes it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::secret::{self, APP_PASSWORD_FIELD};
use crate::http::edge::ApiJson;
use crate::http::error::ErrorBody;
use crate::http::session::CurrentListener;
use crate::http::{ApiError, AppState};
use crate::store::{now_ms, ApiKey};

/// Keys one listener may hold.
const MAX_KEYS: usize = 20;
const MAX_NAME_CHARS: usize = 60;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/me/api-keys", get(list).post(create))
        .route("/api/me/api-keys/{id}", delete(revoke))
        .route(
            "/api/me/app-password",
            post(new_app_password).delete(revoke_app_password),
        )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// What the key is for ("Phone"), 0-60 characters.
    #[serde(default)]
    name: String,
}

/// A new key: `key` is shown only now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    id: String,
    name: String,
    key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    id: String,
    name: String,
    created_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    keys: Vec<ApiKeyView>,
}

/// The app password: shown only now.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppPassword {
    password: String,
    username: String,
}

#[utoipa::path(get, path = "/api/me/api-keys", tag = "apps",
    responses((status = 200, description = "The listener's API keys (never the keys themselves)", body = ApiKeyList),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn list(
    State(state): State<AppState>,
    me: CurrentListener,
) -> Result<Json<ApiKeyList>, ApiError> {
    let keys = state.store.api_keys(&me.id).await?;
    Ok(Json(ApiKeyList {
        keys: keys
            .into_iter()
            .map(|k| ApiKeyView {
                id: k.id,
                name: k.name,
                created_ms: k.created_ms,
            })
            .collect(),
    }))
}

#[utoipa::path(post, path = "/api/me/api-keys", tag = "apps", request_body = NewApiKey,
    responses((status = 201, description = "A new key, shown only in this answer", body = CreatedApiKey),
              (status = 400, description = "Malformed JSON, a name too long, or too many keys", body = ErrorBody),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 413, description = "Body too large", body = ErrorBody),
              (status = 415, description = "Body not sent as JSON", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn create(
    State(state): State<AppState>,
    me: CurrentListener,
    ApiJson(body): ApiJson<NewApiKey>,
) -> Result<impl IntoResponse, ApiError> {
    let name = body.name.trim().to_owned();
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!(
            "a key's name is 0-{MAX_NAME_CHARS} characters with no control characters"
        )));
    }
    if state.store.api_keys(&me.id).await?.len() >= MAX_KEYS {
        return Err(ApiError::invalid(format!(
            "a listener holds at most {MAX_KEYS} API keys; revoke one first"
        )));
    }
    let (key, id) = secret::new_api_key();
    state
        .store
        .put_api_key(&ApiKey {
            id: id.clone(),
            listener: me.id.clone(),
            hash: secret::hash_key(&key),
            name: name.clone(),
            created_ms: now_ms(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedApiKey { id, name, key })))
}

#[utoipa::path(delete, path = "/api/me/api-keys/{id}", tag = "apps",
    params(("id" = String, Path, description = "The key's id (from the list)")),
    responses((status = 204, description = "Revoked: apps using it are refused from now on"),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 404, description = "No such key of yours", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn revoke(
    State(state): State<AppState>,
    me: CurrentListener,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.delete_api_key(&me.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no such API key"))
    }
}

#[utoipa::path(post, path = "/api/me/app-password", tag = "apps",
    responses((status = 201, description = "A new app password (replacing any old one), shown only in this answer", body = AppPassword),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 503, description = "The store is down, or the app password key is unusable", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn new_app_password(
    State(state): State<AppState>,
    me: CurrentListener,
) -> Result<impl IntoResponse, ApiError> {
    let password = secret::new_app_password();
    let sealed = secret::seal(&state.settings, &me.id, &password).map_err(|e| {
        tracing::error!(error = %e, "cannot seal an app password");
        ApiError::unavailable(e.to_string())
    })?;
    state
        .store
        .put_app_field(&me.id, APP_PASSWORD_FIELD, Some(&sealed))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AppPassword {
            password,
            username: me.username.to_string(),
        }),
    ))
}

#[utoipa::path(delete, path = "/api/me/app-password", tag = "apps",
    responses((status = 204, description = "Revoked (or there was none)"),
              (status = 401, description = "Not signed in", body = ErrorBody),
              (status = 503, description = "The store is down", body = ErrorBody)))]
#[tracing::instrument(skip_all, fields(listener = %me.id))]
async fn revoke_app_password(
    State(state): State<AppState>,
    me: CurrentListener,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .put_app_field(&me.id, APP_PASSWORD_FIELD, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
