//! Login throttling: failed sign-ins are counted per username and per client address in
//! fixed windows (`[accounts] login_attempts` per `login_window_secs`); once either
//! count is used up, further attempts get 429 with `Retry-After` until the window ends.
//!
//! Only failures count, so a listener who signs in often is never locked out, while a
//! password guesser gets `login_attempts` guesses per window per account and per
//! address. Sign-ups are counted per address the same way (each costs an argon2 hash).
//! Counters live in this node's memory: in a cluster each node counts on its own, so
//! the cluster-wide bound is `nodes × login_attempts` per window.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::config::AccountSettings;

/// Keys tracked at once per limiter. When full, expired windows are dropped; if it is
/// still full (a flood of distinct names), new keys are refused rather than evicting
/// live counters, which would let an attacker reset their own.
const MAX_TRACKED_KEYS: usize = 100_000;

/// Counts events per key in fixed windows.
#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    window: Duration,
    entries: Mutex<HashMap<String, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(retry_after)` when the key has used up its window.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let entries = self.lock();
        match entries.get(key) {
            Some(w) if self.live(w, now) && w.count >= self.max => {
                Err(self.window.saturating_sub(now - w.started))
            }
            None if entries.len() >= MAX_TRACKED_KEYS => Err(self.window),
            _ => Ok(()),
        }
    }

    /// Counts one event for the key.
    pub fn record(&self, key: &str) {
        let now = Instant::now();
        let mut entries = self.lock();
        if entries.len() >= MAX_TRACKED_KEYS && !entries.contains_key(key) {
            entries.retain(|_, w| now - w.started < self.window);
            if entries.len() >= MAX_TRACKED_KEYS {
                return;
            }
        }
        let w = entries.entry(key.to_owned()).or_insert(Window {
            started: now,
            count: 0,
        });
        if !self.live(w, now) {
            *w = Window {
                started: now,
                count: 0,
            };
        }
        w.count = w.count.saturating_add(1);
    }

    fn live(&self, w: &Window, now: Instant) -> bool {
        now - w.started < self.window
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
        match self.entries.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The limiters the account routes share: failed logins per username and per address,
/// and sign-ups per address.
#[derive(Debug)]
pub struct LoginLimiter {
    pub by_username: RateLimiter,
    pub by_address: RateLimiter,
    pub signups_by_address: RateLimiter,
}

impl LoginLimiter {
    pub fn new(settings: &AccountSettings) -> Self {
        let window = Duration::from_secs(settings.login_window_secs);
        let max = settings.login_attempts;
        Self {
            by_username: RateLimiter::new(max, window),
            by_address: RateLimiter::new(max, window),
            signups_by_address: RateLimiter::new(max, window),
        }
    }
}

/// The client's address: the TCP peer, or — when the peer is a proxy on this host —
/// the last address in `X-Forwarded-For` (the one that proxy appended). `None` when the
/// server was started without connection info.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = || {
            parts
                .headers
                .get("x-forwarded-for")?
                .to_str()
                .ok()?
                .rsplit(',')
                .next()?
                .trim()
                .parse::<IpAddr>()
                .ok()
        };
        Ok(match peer {
            Some(ip) if ip.is_loopback() => Some(forwarded().unwrap_or(ip)),
            other => other,
        }
        .map_or(ClientAddr(None), |ip| ClientAddr(Some(ip))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_max_then_refuses_until_the_window_ends() {
        let l = RateLimiter::new(3, Duration::from_millis(200));
        for _ in 0..3 {
            assert!(l.check("a").is_ok());
            l.record("a");
        }
        let retry = l.check("a").unwrap_err();
        assert!(retry <= Duration::from_millis(200));
        assert!(l.check("b").is_ok(), "other keys are not affected");
        std::thread::sleep(Duration::from_millis(220));
        assert!(l.check("a").is_ok(), "a new window starts");
        l.record("a");
        assert!(l.check("a").is_ok());
    }
}
