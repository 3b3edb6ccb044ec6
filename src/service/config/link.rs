//! The cluster link's settings and the secrets nodes share.
//!
//! The cluster port carries every listener's feed between nodes, so it is guarded in
//! layers: the listener binds only the configured address; a node with a
//! non-loopback cluster address refuses to start unless the cookie is strong (not a
//! shipped value, at least [`MIN_COOKIE_LEN`] characters) and mutual TLS is configured
//! (a cluster CA and this node's certificate: `spoofify cluster certs`). Secrets can
//! come from files or the environment so they are never needed on a command line:
//! `cluster_cookie_file` / `SPOOFIFY_CLUSTER_COOKIE`, `redis_password_file` /
//! `SPOOFIFY_REDIS_PASSWORD`.

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The shortest cookie accepted off loopback.
pub const MIN_COOKIE_LEN: usize = 32;

/// Cookies this repository has shipped (defaults, examples): public, so never strong.
pub const SHIPPED_COOKIES: &[&str] = &["spoofify-dev-cookie", "spoofify-local-cluster"];

/// `[cluster_link]`: unauthenticated sessions and TLS between nodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterLinkSettings {
    /// A connection that has not finished the TLS handshake and the cookie
    /// challenge within this is closed.
    pub handshake_timeout_ms: u64,
    /// Connections still in their handshake at once, at most; more are closed at once.
    pub max_pending_sessions: usize,
    /// PEM files: this node's certificate (chain), its private key, and the cluster
    /// CA that signs every node's certificate. All three or none; required when the
    /// cluster address is not loopback.
    pub tls_cert: String,
    pub tls_key: String,
    pub tls_ca: String,
}

impl Default for ClusterLinkSettings {
    fn default() -> Self {
        Self {
            handshake_timeout_ms: 5000,
            max_pending_sessions: 64,
            tls_cert: String::new(),
            tls_key: String::new(),
            tls_ca: String::new(),
        }
    }
}

impl ClusterLinkSettings {
    /// Whether TLS files are configured (all three: see [`Self::check`]).
    pub fn tls_enabled(&self) -> bool {
        !self.tls_cert.is_empty()
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let set = [&self.tls_cert, &self.tls_key, &self.tls_ca]
            .iter()
            .filter(|p| !p.is_empty())
            .count();
        if set != 0 && set != 3 {
            return Err(ConfigError(
                "cluster_link.tls_cert, tls_key and tls_ca go together: set all three or none"
                    .into(),
            ));
        }
        if self.handshake_timeout_ms == 0 || self.max_pending_sessions == 0 {
            return Err(ConfigError(
                "cluster_link.handshake_timeout_ms and max_pending_sessions must be > 0".into(),
            ));
        }
        Ok(())
    }
}

/// Why `cookie` is not strong enough for a cluster reachable off loopback, if it is not.
pub fn cookie_weakness(cookie: &str) -> Option<String> {
    if SHIPPED_COOKIES.contains(&cookie) {
        return Some("it is a value shipped with Spoofify (public)".into());
    }
    if cookie.chars().count() < MIN_COOKIE_LEN {
        return Some(format!("it is shorter than {MIN_COOKIE_LEN} characters"));
    }
    let distinct: std::collections::HashSet<char> = cookie.chars().collect();
    if distinct.len() < 10 {
        return Some("it has fewer than 10 distinct characters (not random)".into());
    }
    None
}

/// The off-loopback rules: a strong cookie and TLS.
pub(super) fn check_exposure(
    cluster_addr: &str,
    cookie: &str,
    link: &ClusterLinkSettings,
) -> Result<(), ConfigError> {
    let Ok(addr) = cluster_addr.parse::<SocketAddr>() else {
        return Ok(()); // reported by the caller
    };
    if addr.ip().is_loopback() {
        return Ok(());
    }
    if let Some(why) = cookie_weakness(cookie) {
        return Err(ConfigError(format!(
            "cluster_addr {cluster_addr} is not loopback, so the cluster cookie must be strong, \
             and it is not: {why}. Set at least {MIN_COOKIE_LEN} random characters in \
             cluster_cookie_file or SPOOFIFY_CLUSTER_COOKIE (`spoofify cluster certs` writes one)"
        )));
    }
    if !link.tls_enabled() {
        return Err(ConfigError(format!(
            "cluster_addr {cluster_addr} is not loopback, so TLS between nodes is required: set \
             cluster_link.tls_cert, tls_key and tls_ca (`spoofify cluster certs --out DIR --nodes ...`)"
        )));
    }
    Ok(())
}

/// A secret read from a file: its content without surrounding whitespace; never empty.
pub(super) fn read_secret(key: &str, path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("{key} = {}: {e}", path.display())))?;
    let secret = text.trim().to_string();
    if secret.is_empty() {
        return Err(ConfigError(format!(
            "{key} = {}: the file is empty",
            path.display()
        )));
    }
    Ok(secret)
}

/// `url` with `password` as its credentials when it has none (percent-encoded).
pub(super) fn with_password(url: &str, password: &str) -> String {
    if password.is_empty() {
        return url.to_string();
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    if rest[..authority_end].contains('@') {
        return url.to_string(); // the URL names its own credentials
    }
    let mut enc = String::new();
    for b in password.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{scheme}://:{enc}@{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_cookies_are_named() {
        assert!(cookie_weakness("spoofify-dev-cookie").is_some());
        assert!(cookie_weakness("spoofify-local-cluster").is_some());
        assert!(cookie_weakness("short").is_some());
        assert!(cookie_weakness(&"a".repeat(40)).is_some());
        assert!(cookie_weakness("q8Vd0Zr2LmN5xTb7Ka9WcE1fGh3JpS4uYi6").is_none());
    }

    #[test]
    fn a_password_goes_into_a_url_without_credentials() {
        assert_eq!(
            with_password("redis://10.0.0.5:6379/0", "p@ss word"),
            "redis://:p%40ss%20word@10.0.0.5:6379/0"
        );
        assert_eq!(with_password("redis://u:x@h:1", "y"), "redis://u:x@h:1");
        assert_eq!(with_password("redis://h:1", ""), "redis://h:1");
    }
}
