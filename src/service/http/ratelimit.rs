//! Login throttling: sign-in attempts are counted per username, per client address and
//! per known device in fixed windows (`[accounts] login_attempts` per
//! `login_window_secs`); once a count is used up, further attempts get 429 with
//! `Retry-After` until the window ends.
//!
//! An attempt is *reserved* before the password is hashed, in one step under the lock
//! (check and count together), so concurrent guesses cannot all pass the check before
//! any is counted; a successful login gives its reservation back, so a listener who signs
//! in often is never locked out by their own successes. Sign-ups are counted per address
//! the same way (each costs an argon2 hash) and are not given back.
//!
//! The per-username lock does not lock the owner out: a browser that signed in to that
//! account before carries a device cookie (`http::accounts`), and its attempts are
//! counted per device instead of per username and address — a guesser elsewhere (or
//! behind the same untrusted proxy) exhausts the username's and the address's counts,
//! not the owner's device's.
//!
//! Memory is bounded: at most [`MAX_TRACKED_KEYS`] keys per limiter. Expired windows are
//! purged as the map fills (at most once per [`PURGE_EVERY`]); when it is full of live
//! windows, the oldest eighth is evicted (the ones closest to expiring anyway) rather
//! than refusing new keys — a limiter must never fail closed for everyone.
//!
//! Counters live in this node's memory: in a cluster each node counts on its own, so
//! the cluster-wide bound is `nodes × login_attempts` per window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::AccountSettings;

/// Keys tracked at once per limiter (~100 bytes each). A flood of distinct keys beyond it
/// evicts the oldest windows (see the module doc).
const MAX_TRACKED_KEYS: usize = 100_000;
/// Expired windows are swept at most this often, and only when the map has grown past
/// [`PURGE_ABOVE`] keys: a sweep is a pass over the map under the lock.
const PURGE_EVERY: Duration = Duration::from_secs(10);
const PURGE_ABOVE: usize = 1_000;

/// Counts events per key in fixed windows.
#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    window: Duration,
    max_keys: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    entries: HashMap<String, Window>,
    last_purge: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self::with_capacity(max, window, MAX_TRACKED_KEYS)
    }

    /// A limiter tracking at most `max_keys` keys (tests use a small one).
    pub fn with_capacity(max: u32, window: Duration, max_keys: usize) -> Self {
        Self {
            max,
            window,
            max_keys: max_keys.max(8),
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                last_purge: Instant::now(),
            }),
        }
    }

    /// Reserves one event for the key: `Err(retry_after)` when its window is used up,
    /// else the event is counted at once (give it back with [`RateLimiter::release`]).
    pub fn reserve(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut inner = self.lock();
        if let Some(w) = inner.entries.get_mut(key) {
            if now - w.started >= self.window {
                *w = Window {
                    started: now,
                    count: 0,
                };
            }
            if w.count >= self.max {
                return Err(self.window.saturating_sub(now - w.started));
            }
            w.count += 1;
            return Ok(());
        }
        self.make_room(&mut inner, now);
        inner.entries.insert(
            key.to_owned(),
            Window {
                started: now,
                count: 1,
            },
        );
        Ok(())
    }

    /// True when the key's window is used up (nothing is counted).
    pub fn is_exhausted(&self, key: &str) -> bool {
        let now = Instant::now();
        let inner = self.lock();
        inner
            .entries
            .get(key)
            .is_some_and(|w| now - w.started < self.window && w.count >= self.max)
    }

    /// Gives back one reserved event (the attempt succeeded).
    pub fn release(&self, key: &str) {
        let mut inner = self.lock();
        if let Some(w) = inner.entries.get_mut(key) {
            w.count = w.count.saturating_sub(1);
        }
    }

    /// Keys tracked now (for tests and logs).
    pub fn tracked(&self) -> usize {
        self.lock().entries.len()
    }

    /// Purges expired windows now and then; when the map is full of live ones, evicts
    /// the oldest eighth.
    fn make_room(&self, inner: &mut Inner, now: Instant) {
        let len = inner.entries.len();
        let due = len >= PURGE_ABOVE.min(self.max_keys) && now - inner.last_purge >= PURGE_EVERY;
        if due || len >= self.max_keys {
            inner.entries.retain(|_, w| now - w.started < self.window);
            inner.last_purge = now;
        }
        if inner.entries.len() >= self.max_keys {
            let mut starts: Vec<Instant> = inner.entries.values().map(|w| w.started).collect();
            let cut = starts.len() / 8;
            let (_, nth, _) = starts.select_nth_unstable(cut);
            let cutoff = *nth;
            inner.entries.retain(|_, w| w.started > cutoff);
            tracing::warn!(
                kept = inner.entries.len(),
                "login limiter full of live windows; evicted the oldest"
            );
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The limiters the routes share: failed logins per username, per address and per known
/// device, sign-ups per address, and interactions per listener.
#[derive(Debug)]
pub struct LoginLimiter {
    pub by_username: RateLimiter,
    pub by_address: RateLimiter,
    pub by_device: RateLimiter,
    pub signups_by_address: RateLimiter,
    /// Interactions logged per listener per minute (`http_limits.interactions_per_minute`).
    pub interactions: RateLimiter,
}

/// The interaction limit's window.
const INTERACTION_WINDOW: Duration = Duration::from_secs(60);

impl LoginLimiter {
    pub fn new(settings: &AccountSettings, interactions_per_minute: u32) -> Self {
        let window = Duration::from_secs(settings.login_window_secs);
        let max = settings.login_attempts;
        Self {
            by_username: RateLimiter::new(max, window),
            by_address: RateLimiter::new(max, window),
            by_device: RateLimiter::new(max, window),
            signups_by_address: RateLimiter::new(max, window),
            interactions: RateLimiter::new(interactions_per_minute, INTERACTION_WINDOW),
        }
    }
}

/// The key an address is counted under: IPv4 as is, IPv6 by its /64 (one subscriber
/// usually holds a whole /64, so counting single addresses would count nothing).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_max_then_refuses_until_the_window_ends() {
        let l = RateLimiter::new(3, Duration::from_millis(200));
        for _ in 0..3 {
            assert!(l.reserve("a").is_ok());
        }
        let retry = l.reserve("a").unwrap_err();
        assert!(retry <= Duration::from_millis(200));
        assert!(l.reserve("b").is_ok(), "other keys are not affected");
        std::thread::sleep(Duration::from_millis(220));
        assert!(l.reserve("a").is_ok(), "a new window starts");
        assert!(l.reserve("a").is_ok());
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_limit() {
        let l = std::sync::Arc::new(RateLimiter::new(10, Duration::from_secs(60)));
        let granted: usize = (0..60)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || l.reserve("victim").is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum();
        assert_eq!(granted, 10);
    }

    #[test]
    fn released_reservations_do_not_count() {
        let l = RateLimiter::new(2, Duration::from_secs(60));
        for _ in 0..10 {
            l.reserve("owner").unwrap();
            l.release("owner");
        }
        assert!(!l.is_exhausted("owner"));
    }

    #[test]
    fn a_full_map_evicts_instead_of_refusing_new_keys() {
        let l = RateLimiter::with_capacity(1, Duration::from_secs(600), 64);
        for i in 0..1000 {
            assert!(l.reserve(&format!("k{i}")).is_ok(), "key {i} refused");
        }
        assert!(l.tracked() <= 64);
        // The newest key's window is still live.
        assert!(l.reserve("k999").is_err());
    }

    #[test]
    fn expired_windows_are_purged() {
        let l = RateLimiter::with_capacity(1, Duration::from_millis(50), 64);
        for i in 0..63 {
            l.reserve(&format!("k{i}")).unwrap();
        }
        std::thread::sleep(Duration::from_millis(60));
        l.reserve("x").unwrap();
        l.reserve("y").unwrap();
        assert!(l.tracked() <= 2, "{} tracked", l.tracked());
    }

    #[test]
    fn ipv6_counts_per_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_eq!(address_key("10.0.0.1".parse().unwrap()), "10.0.0.1");
    }
}
