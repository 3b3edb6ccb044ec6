//! What an endpoint gets (the node, the parameters, who is calling, the request's
//! headers) and what it gives back (a payload for the envelope, or a file).

use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::auth::Caller;
use super::envelope::{Fail, Payload};
use super::params::Params;
use super::views::Library;
use crate::http::AppState;

pub struct Ctx {
    pub state: AppState,
    pub params: Params,
    pub caller: Caller,
    pub headers: HeaderMap,
}

pub enum Reply {
    /// Entries of `subsonic-response`.
    Payload(Payload),
    /// A file (stream, download, cover art) as is.
    File(Response),
}

pub type Answer = Result<Reply, Fail>;

/// An answer with no payload (`ping`, `scrobble`, …).
pub fn empty() -> Answer {
    Ok(Reply::Payload(Vec::new()))
}

/// An answer with one payload entry.
pub fn one(name: &'static str, value: Value) -> Answer {
    Ok(Reply::Payload(vec![(name, value)]))
}

impl Ctx {
    /// The required parameter `name`, or error 10.
    pub fn need(&self, name: &str) -> Result<&str, Fail> {
        self.params.get(name).ok_or_else(|| Fail::missing(name))
    }

    /// A number parameter (`default` when absent), clamped to `lo..=hi`; error 10 when
    /// it is not a number.
    pub fn count(&self, name: &str, default: usize, lo: usize, hi: usize) -> Result<usize, Fail> {
        let n: Option<i64> = self.params.number(name).map_err(Fail::bad)?;
        Ok(n.map_or(default, |n| n.clamp(lo as i64, hi as i64) as usize))
    }

    /// The loaded catalog grouped for Subsonic, or error 0 while it loads.
    pub fn library(&self) -> Result<Library, Fail> {
        self.state
            .catalog
            .get()
            .map(Library::new)
            .ok_or_else(|| Fail::generic("the catalog is still loading; retry in a few seconds"))
    }
}

/// A store failure as a Subsonic error (0: nothing was done; retry).
pub fn store_fail(e: crate::store::StoreError) -> Fail {
    Fail::generic(format!("the store is unavailable: {e}"))
}
