//! What the node tells browsers on every response, and the cross-site writes it refuses:
//! the protections that only matter because a browser carries the session cookie.
//!
//! - Every response: `X-Content-Type-Options: nosniff` (audio, art and JSON are never
//!   run as script or HTML), a `Content-Security-Policy` (the web app's own, else one
//!   that allows nothing), `frame-ancestors 'none'` and `X-Frame-Options: DENY` (no
//!   clickjacking), `Referrer-Policy: same-origin`, `Cross-Origin-Resource-Policy:
//!   same-origin` (other sites cannot embed our audio or art with the listener's cookie),
//!   and `Strict-Transport-Security` when the request came over https (as a trusted
//!   proxy says; never over plain http, where it would mean nothing).
//! - State-changing requests (POST, PUT, PATCH, DELETE) from another site are refused
//!   with 403 `cross_site`: `Sec-Fetch-Site` other than `same-origin`/`none`, or else an
//!   `Origin` that is not this host. A request with neither header — curl, apps,
//!   scripts — is no browser acting for someone else, and is allowed. `SameSite=Lax`
//!   already keeps the cookie off cross-site POSTs in current browsers; this also covers
//!   same-site attackers (a sibling subdomain) and older browsers.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::proxy::client_info;
use super::{ApiError, AppState};

/// The policy of every response that brings none of its own: nothing may load, run or
/// frame it (the web app's page sets its own, `http::web`).
const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'none'";
/// A year, with subdomains: browsers then never try plain http on this host.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Middleware: refuses cross-site writes, then adds the headers to the response.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_write(req.method()) {
        if let Err(e) = same_origin(req.headers()) {
            let mut response = e.into_response();
            add_headers(response.headers_mut(), false);
            return response;
        }
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let https = client_info(peer, req.headers(), &state.settings.trusted_proxies).https;
    let mut response = next.run(req).await;
    add_headers(response.headers_mut(), https);
    response
}

fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// `Ok` unless a browser says this request comes from another site.
pub fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.to_str().unwrap_or("") {
            "same-origin" | "none" => Ok(()),
            other => Err(cross_site(&format!("Sec-Fetch-Site: {other}"))),
        };
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let authority = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    let host = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let ours = [host(header::HOST.as_str()), host("x-forwarded-host")];
    if !authority.is_empty()
        && ours
            .iter()
            .flatten()
            .any(|h| h.eq_ignore_ascii_case(authority))
    {
        Ok(())
    } else {
        Err(cross_site(&format!("Origin: {origin}")))
    }
}

fn cross_site(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_site",
        format!(
            "a page on another site may not change anything here ({what}); \
             use the Spoofify app on this host"
        ),
    )
}

fn add_headers(h: &mut HeaderMap, https: bool) {
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(DEFAULT_CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_browsers_are_refused_and_others_allowed() {
        assert!(same_origin(&headers(&[])).is_ok(), "curl, apps");
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])).is_ok());
        assert!(same_origin(&headers(&[("sec-fetch-site", "cross-site")])).is_err());
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-site")])).is_err());
        let ok = headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(same_origin(&ok).is_ok());
        let evil = headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(same_origin(&evil).is_err());
        let null = headers(&[("origin", "null"), ("host", "127.0.0.1:8080")]);
        assert!(same_origin(&null).is_err());
    }
}
