//! Serving a file over HTTP with validators and byte ranges (RFC 9110 §13–14).
//!
//! Browsers seek in audio by asking for byte ranges — Chromium bisects with
//! open-ended ranges (`bytes=N-`) and drops connections mid-body — so this answers:
//! - no `Range`, or one we may ignore (syntax error, several ranges): 200, whole file;
//! - one satisfiable range `a-b`, `a-` or `-n` (a suffix longer than the file means
//!   the whole file): 206 with `Content-Range`;
//! - a range starting at or past the end: 416 with `Content-Range: bytes */len`;
//! - `If-None-Match` matching the ETag: 304; `If-Range` not matching: 200, whole file.
//!
//! The body streams from the open file in chunks; when the client goes away the
//! stream is dropped and the file closed, so a dropped connection costs nothing.

use std::path::Path;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use http_range_header::{EndPosition, StartPosition};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

/// Bytes read from disk per body chunk: large enough for few syscalls, small enough
/// that a dropped client leaves little read for nothing.
const CHUNK_BYTES: usize = 64 * 1024;

/// What to send of a file of `len` bytes, decided from the request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    NotModified,
    Full,
    Partial { start: u64, end: u64 },
    Unsatisfiable,
}

/// A strong validator from the file's size and modification time.
pub fn etag(len: u64, modified: SystemTime) -> String {
    let nanos = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("\"{len:x}-{nanos:x}\"")
}

/// Decides the answer from `Range`, `If-Range` and `If-None-Match`.
pub fn select(headers: &HeaderMap, len: u64, etag: &str) -> Selection {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(inm) = text(header::IF_NONE_MATCH) {
        if inm.trim() == "*"
            || inm
                .split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        {
            return Selection::NotModified;
        }
    }
    let Some(range) = text(header::RANGE) else {
        return Selection::Full;
    };
    if let Some(if_range) = text(header::IF_RANGE) {
        if if_range.trim() != etag {
            return Selection::Full;
        }
    }
    let Ok(parsed) = http_range_header::parse_range_header(range) else {
        return Selection::Full;
    };
    let [one] = parsed.ranges.as_slice() else {
        return Selection::Full;
    };
    if len == 0 {
        return Selection::Unsatisfiable;
    }
    let last = len - 1;
    let (start, end) = match (one.start, one.end) {
        (StartPosition::FromLast(n), _) => (len.saturating_sub(n), last),
        (StartPosition::Index(a), EndPosition::LastByte) => (a, last),
        (StartPosition::Index(a), EndPosition::Index(b)) => (a, b.min(last)),
    };
    if start > last {
        return Selection::Unsatisfiable;
    }
    if start > end {
        // `a-b` with b < a is syntactically invalid: ignore the header.
        return Selection::Full;
    }
    Selection::Partial { start, end }
}

/// Builds the response for `path`, with `content_type`, honouring the request headers.
pub async fn serve_file(
    path: &Path,
    content_type: &'static str,
    headers: &HeaderMap,
) -> std::io::Result<Response> {
    let mut file = tokio::fs::File::open(path).await?;
    let meta = file.metadata().await?;
    let len = meta.len();
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let tag = etag(len, modified);
    let selection = select(headers, len, &tag);

    let builder = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, &tag)
        .header(header::LAST_MODIFIED, httpdate::fmt_http_date(modified))
        .header(header::CACHE_CONTROL, "private, max-age=3600");
    let response = match selection {
        Selection::NotModified => builder.status(StatusCode::NOT_MODIFIED).body(Body::empty()),
        Selection::Unsatisfiable => builder
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{len}"))
            .body(Body::empty()),
        Selection::Full => builder
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_LENGTH, len)
            .body(Body::from_stream(ReaderStream::with_capacity(
                file,
                CHUNK_BYTES,
            ))),
        Selection::Partial { start, end } => {
            file.seek(std::io::SeekFrom::Start(start)).await?;
            let count = end - start + 1;
            let body = ReaderStream::with_capacity(file.take(count), CHUNK_BYTES);
            builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_TYPE, content_type)
                .header(header::CONTENT_LENGTH, count)
                .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"))
                .body(Body::from_stream(body))
        }
    };
    response.map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(range: &str, len: u64) -> Selection {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(range).unwrap());
        select(&h, len, "\"t\"")
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(
            sel("bytes=0-9", 100),
            Selection::Partial { start: 0, end: 9 }
        );
        assert_eq!(
            sel("bytes=90-", 100),
            Selection::Partial { start: 90, end: 99 }
        );
        assert_eq!(
            sel("bytes=-10", 100),
            Selection::Partial { start: 90, end: 99 }
        );
        // A suffix longer than the file is the whole file, as a 206.
        assert_eq!(
            sel("bytes=-500", 100),
            Selection::Partial { start: 0, end: 99 }
        );
        // An end past the file is clamped.
        assert_eq!(
            sel("bytes=50-1000", 100),
            Selection::Partial { start: 50, end: 99 }
        );
        assert_eq!(sel("bytes=100-", 100), Selection::Unsatisfiable);
        assert_eq!(sel("bytes=200-300", 100), Selection::Unsatisfiable);
        // Headers we may ignore give the whole file.
        assert_eq!(sel("bytes=oops", 100), Selection::Full);
        assert_eq!(sel("items=0-5", 100), Selection::Full);
        assert_eq!(sel("bytes=0-1,5-9", 100), Selection::Full);
        assert_eq!(sel("bytes=9-3", 100), Selection::Full);
    }

    #[test]
    fn validators() {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"t\""));
        assert_eq!(select(&h, 100, "\"t\""), Selection::NotModified);
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_static("bytes=0-9"));
        h.insert(header::IF_RANGE, HeaderValue::from_static("\"old\""));
        assert_eq!(select(&h, 100, "\"t\""), Selection::Full);
    }
}
