//! Settings: one typed struct, loaded in layers.
//!
//! `config/default.toml` (compiled in, so the binary runs from any directory) <
//! the `--config` file < `SPOOFIFY_*` environment variables (nested keys joined with
//! `__`) < command-line flags. Tests build a [`Settings`] the same way and override
//! fields (port 0, a private Redis, a temporary data directory).

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

mod engine;
mod link;
mod redis;
pub use engine::{EngineKind, UnknownEngine};
pub use link::{cookie_weakness, ClusterLinkSettings, MIN_COOKIE_LEN, SHIPPED_COOKIES};
pub use redis::{cluster_seeds, Durability, UnknownDurability, DEFAULT_DURABILITY_TIMEOUT_MS};

/// The compiled-in defaults; the same file ships in `config/default.toml`.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub node_id: String,
    pub http: String,
    pub data_dir: PathBuf,
    pub redis: String,
    /// The Redis password, when `redis` names none (from `redis_password_file` or
    /// `SPOOFIFY_REDIS_PASSWORD`, so it never shows in `ps`).
    #[serde(default)]
    pub redis_password: String,
    #[serde(default)]
    pub redis_password_file: String,
    /// A Redis Cluster instead of one server: comma-separated seed URLs (`redis` empty).
    #[serde(default)]
    pub redis_cluster: String,
    /// When appends, leases and fencing-epoch writes are acknowledged (`config::redis`).
    #[serde(default)]
    pub durability: Durability,
    /// How long `durability = "replicated"` waits for a replica before the write fails.
    #[serde(default = "redis::default_durability_timeout_ms")]
    pub durability_timeout_ms: u64,
    pub cluster_addr: String,
    pub cluster_cookie: String,
    /// Read the cookie from this file instead (wins over `cluster_cookie`).
    #[serde(default)]
    pub cluster_cookie_file: String,
    #[serde(default)]
    pub cluster_link: ClusterLinkSettings,
    pub log: LogSettings,
    pub catalog: CatalogSettings,
    pub http_limits: HttpLimits,
    pub accounts: AccountSettings,
    pub listeners: ListenerSettings,
    pub membership: MembershipSettings,
    #[serde(default)]
    pub model: ModelSettings,
    #[serde(default)]
    pub cooccurrence: CooccurrenceSettings,
    /// Prometheus metrics at `/metrics` (`telemetry::metrics`).
    #[serde(default)]
    pub metrics: MetricsSettings,
    /// Proxies (CIDRs) whose `X-Forwarded-For`/`Forwarded`/`X-Forwarded-Proto` are
    /// believed; default none: the TCP peer is the client (`http::proxy`).
    #[serde(default)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The bearer token operator endpoints accept (`http::ops_auth`); empty = none does.
    #[serde(default)]
    pub ops_token: OpsToken,
    /// Read the ops token from this file instead (wins over `ops_token`).
    #[serde(default)]
    pub ops_token_file: String,
    /// Usernames whose sessions may use the operator endpoints.
    #[serde(default)]
    pub admins: Vec<String>,
    /// The Subsonic API for apps (`http::subsonic`).
    #[serde(default)]
    pub subsonic: SubsonicSettings,
}

/// Settings of the Subsonic API (`/rest/`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SubsonicSettings {
    /// A file whose contents (a secret of 16+ characters) key the encryption of app
    /// passwords at rest. Empty: `app-password.key` in the data directory, made on
    /// first use — fine for one node; a cluster must give every node the same file.
    pub app_password_key_file: String,
}

/// The co-occurrence job's timing (`cluster::cooccurrence_job`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CooccurrenceSettings {
    /// One round (take or renew the lease; read new log entries; count; persist;
    /// publish) this often. Nodes that do not hold the job reload the published
    /// table at the same pace.
    pub interval_ms: u64,
    /// The job's lease lasts this long without renewal: how long the job pauses after
    /// its holder dies before another node takes over. Must exceed `interval_ms`.
    pub lease_ttl_ms: u64,
}

impl Default for CooccurrenceSettings {
    fn default() -> Self {
        Self {
            interval_ms: 10_000,
            lease_ttl_ms: 45_000,
        }
    }
}

/// Whether the node records Prometheus metrics and serves them at `/metrics`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// Off: nothing is recorded and `/metrics` answers 404 (to measure what they cost).
    pub enabled: bool,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// The operator token: compared in constant time, never printed.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpsToken(pub String);

impl std::fmt::Debug for OpsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "OpsToken(none)"
        } else {
            "OpsToken(..)"
        })
    }
}

/// The recommender's settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModelSettings {
    /// Which classifier listener models use: "histogram" (default) or "randomforest".
    #[serde(default)]
    pub engine: EngineKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogSettings {
    pub demo_songs: usize,
    pub demo_seed: u64,
    /// Songs, streams and art without signing in; default: listeners only.
    #[serde(default)]
    pub public: bool,
}

/// Limits of the HTTP edge (`http::serve` applies the connection ones, `http::router`
/// the request ones); `config/default.toml` says why each default is what it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpLimits {
    pub max_body_bytes: usize,
    pub request_timeout_ms: u64,
    pub header_read_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub max_connections: usize,
    pub max_requests_per_connection: u32,
    pub interactions_per_minute: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountSettings {
    pub session_ttl_secs: u64,
    pub login_attempts: u32,
    pub login_window_secs: u64,
}

/// Per-listener actors: passivation, fit debouncing, snapshots, restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListenerSettings {
    pub idle_passivation_secs: u64,
    pub fit_debounce_ms: u64,
    pub snapshot_every: u64,
    /// Log entries kept after compaction; older ones live on only in the snapshot.
    pub log_keep: u64,
    pub restart_budget: u32,
    pub restart_window_secs: u64,
    pub restart_backoff_ms: u64,
    pub degraded_cooldown_secs: u64,
}

/// Cluster membership (heartbeats in the store) and routing between nodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembershipSettings {
    pub heartbeat_interval_ms: u64,
    pub heartbeat_ttl_ms: u64,
    pub route_deadline_ms: u64,
    pub max_inflight_per_peer: usize,
    pub drain_grace_ms: u64,
}

/// Shortest operator token accepted: it guards cluster details, so it must not be guessable.
const MIN_OPS_TOKEN_CHARS: usize = 24;

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_cluster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub durability: Option<Durability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_addr: Option<String>,
}

impl Settings {
    /// Loads defaults < `file` < `SPOOFIFY_*` env < `overrides`, then validates.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file(path));
        }
        let fig = fig
            .merge(Env::prefixed("SPOOFIFY_").split("__"))
            .merge(Serialized::defaults(overrides));
        let mut settings: Settings = fig.extract().map_err(|e| ConfigError(e.to_string()))?;
        settings.read_secret_files()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Replaces secrets given as files by the files' contents.
    fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        if !self.cluster_cookie_file.is_empty() {
            self.cluster_cookie =
                link::read_secret("cluster_cookie_file", Path::new(&self.cluster_cookie_file))?;
        }
        if !self.redis_password_file.is_empty() {
            self.redis_password =
                link::read_secret("redis_password_file", Path::new(&self.redis_password_file))?;
        }
        if !self.ops_token_file.is_empty() {
            self.ops_token = OpsToken(link::read_secret(
                "ops_token_file",
                Path::new(&self.ops_token_file),
            )?);
        }
        Ok(())
    }

    /// The Redis URL to connect with: `redis` plus `redis_password` when set.
    pub fn redis_url(&self) -> String {
        link::with_password(&self.redis, &self.redis_password)
    }

    /// The Redis Cluster's seed URLs, each with `redis_password` when set; empty when
    /// no cluster is configured.
    pub fn redis_cluster_urls(&self) -> Vec<String> {
        cluster_seeds(&self.redis_cluster)
            .iter()
            .map(|seed| link::with_password(seed, &self.redis_password))
            .collect()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.http
            .parse::<std::net::SocketAddr>()
            .map_err(|e| ConfigError(format!("http = {:?}: {e}", self.http)))?;
        if !self.cluster_addr.is_empty() {
            self.cluster_addr
                .parse::<std::net::SocketAddr>()
                .map_err(|e| ConfigError(format!("cluster_addr = {:?}: {e}", self.cluster_addr)))?;
            self.cluster_link.check()?;
            link::check_exposure(&self.cluster_addr, &self.cluster_cookie, &self.cluster_link)?;
        }
        redis::check(
            &self.redis,
            &self.redis_cluster,
            self.durability,
            self.durability_timeout_ms,
        )?;
        let m = &self.membership;
        if m.heartbeat_interval_ms == 0 || m.heartbeat_ttl_ms < 2 * m.heartbeat_interval_ms {
            return Err(ConfigError(
                "membership.heartbeat_ttl_ms must be at least twice heartbeat_interval_ms (> 0)"
                    .into(),
            ));
        }
        let c = &self.cooccurrence;
        if c.interval_ms == 0 || c.lease_ttl_ms < 2 * c.interval_ms {
            return Err(ConfigError(
                "cooccurrence.lease_ttl_ms must be at least twice interval_ms (> 0)".into(),
            ));
        }
        if self.listeners.restart_budget == 0
            || self.listeners.snapshot_every == 0
            || self.listeners.log_keep == 0
        {
            return Err(ConfigError(
                "listeners.restart_budget, listeners.snapshot_every and listeners.log_keep must be > 0"
                    .into(),
            ));
        }
        if !self.ops_token.0.is_empty() && self.ops_token.0.chars().count() < MIN_OPS_TOKEN_CHARS {
            return Err(ConfigError(format!(
                "ops_token must be at least {MIN_OPS_TOKEN_CHARS} characters (use a random one)"
            )));
        }
        let h = &self.http_limits;
        if h.max_body_bytes == 0
            || h.request_timeout_ms == 0
            || h.header_read_timeout_ms == 0
            || h.idle_timeout_ms == 0
            || h.max_connections == 0
            || h.max_requests_per_connection == 0
            || h.interactions_per_minute == 0
        {
            return Err(ConfigError(
                "every http_limits value must be > 0 (a zero would refuse or never end everything)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The node id: the configured one, or one derived from the HTTP address.
    pub fn node_id(&self) -> String {
        if self.node_id.is_empty() {
            format!("node-{}", self.http.replace([':', '.'], "-"))
        } else {
            self.node_id.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_flags_win() {
        let s = Settings::load(None, &Overrides::default()).unwrap();
        assert_eq!(s.http, "127.0.0.1:8080");
        assert_eq!(s.catalog.demo_songs, 400);
        let o = Overrides {
            http: Some("127.0.0.1:0".into()),
            ..Default::default()
        };
        let s = Settings::load(None, &o).unwrap();
        assert_eq!(s.http, "127.0.0.1:0");
    }

    #[test]
    fn bad_values_are_rejected_with_the_key() {
        let o = Overrides {
            http: Some("not-an-address".into()),
            ..Default::default()
        };
        let e = Settings::load(None, &o).unwrap_err().to_string();
        assert!(e.contains("http"), "{e}");
        let o = Overrides {
            redis: Some("localhost:6379".into()),
            ..Default::default()
        };
        assert!(Settings::load(None, &o).is_err());
    }

    #[test]
    fn a_cluster_off_loopback_needs_a_strong_cookie_and_tls() {
        let o = Overrides {
            cluster_addr: Some("10.1.2.3:7100".into()),
            ..Default::default()
        };
        let e = Settings::load(None, &o).unwrap_err().to_string();
        assert!(e.contains("cookie") && e.contains("shipped"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let cookie = dir.path().join("cookie");
        std::fs::write(&cookie, "q8Vd0Zr2LmN5xTb7Ka9WcE1fGh3JpS4uYi6\n").unwrap();
        let file = dir.path().join("node.toml");
        std::fs::write(
            &file,
            format!("cluster_cookie_file = {:?}\n", cookie.display().to_string()),
        )
        .unwrap();
        let e = Settings::load(Some(&file), &o).unwrap_err().to_string();
        assert!(e.contains("TLS"), "{e}");
        let loopback = Overrides {
            cluster_addr: Some("127.0.0.1:7100".into()),
            ..Default::default()
        };
        let s = Settings::load(Some(&file), &loopback).unwrap();
        assert_eq!(s.cluster_cookie, "q8Vd0Zr2LmN5xTb7Ka9WcE1fGh3JpS4uYi6");
    }
}
