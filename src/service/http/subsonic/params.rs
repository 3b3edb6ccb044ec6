//! A Subsonic request's parameters: the query string and, for a POST, the form body
//! (clients send credentials in either), read once into name/value pairs. Repeated
//! names (`id=a&id=b`) keep every value in order.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, Method};

/// The request's parameters, query first, then the form body.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

/// A body that could not be read or parsed: answered as a Subsonic error, not a 4xx
/// (clients read the code from a 200).
#[derive(Debug)]
pub struct BadBody(pub String);

impl axum::response::IntoResponse for BadBody {
    fn into_response(self) -> axum::response::Response {
        super::envelope::fail(
            super::envelope::Format::Xml,
            &super::envelope::Fail::bad(self.0),
        )
    }
}

impl Params {
    /// The first value of `name`, if any (empty values count as absent).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// True when `name` is present at all, even empty.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// Every non-empty value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `name` as a number; `Err` names the parameter when it is not one.
    pub fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("parameter {name} is not a valid number: {v:?}")),
        }
    }

    /// `name` as a boolean (`true`/`false`, `1`/`0`); absent → `default`.
    pub fn flag(&self, name: &str, default: bool) -> bool {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            Some("true") | Some("1") => true,
            Some("false") | Some("0") => false,
            _ => default,
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = BadBody;

    async fn from_request(req: Request, state: &S) -> Result<Self, BadBody> {
        let mut pairs: Vec<(String, String)> = req
            .uri()
            .query()
            .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
            .unwrap_or_default();
        let form = req.method() == Method::POST
            && req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| {
                    v.to_ascii_lowercase()
                        .starts_with("application/x-www-form-urlencoded")
                });
        if form {
            let body = Bytes::from_request(req, state)
                .await
                .map_err(|e| BadBody(e.body_text()))?;
            let more: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|e| BadBody(format!("the form body is not url-encoded: {e}")))?;
            pairs.extend(more);
        }
        Ok(Self(pairs))
    }
}
