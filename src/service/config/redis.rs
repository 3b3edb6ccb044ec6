//! The Redis tier's settings beyond one URL: a Redis Cluster's seed nodes and what
//! "acknowledged" means for the writes that matter (`durability`).
//!
//! Kept apart from the rest of `Settings` because they are read by one place only
//! (`store::open`) and checked together: replication is a promise only a Redis with
//! replicas can keep.

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// When an append, a lease or a fencing-epoch write is acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// When the Redis master has it (in its AOF as its fsync policy says). A master
    /// that dies before its replica copied the write loses it at failover.
    #[default]
    Local,
    /// Only after `WAIT` confirms at least one replica has it, within
    /// `durability_timeout_ms`; otherwise the write is not acknowledged (503) and the
    /// client retries it by its id.
    Replicated,
}

impl Durability {
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Local => "local",
            Durability::Replicated => "replicated",
        }
    }
}

/// A `durability` value that is neither "local" nor "replicated".
#[derive(Debug, thiserror::Error)]
#[error("unknown durability {0:?}: expected \"local\" or \"replicated\"")]
pub struct UnknownDurability(String);

impl std::str::FromStr for Durability {
    type Err = UnknownDurability;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local" => Ok(Durability::Local),
            "replicated" => Ok(Durability::Replicated),
            other => Err(UnknownDurability(other.to_owned())),
        }
    }
}

/// Default `durability_timeout_ms`: a replica on a LAN acknowledges in well under a
/// millisecond; 500 ms rides out a busy replica without holding requests for long.
pub const DEFAULT_DURABILITY_TIMEOUT_MS: u64 = 500;

pub fn default_durability_timeout_ms() -> u64 {
    DEFAULT_DURABILITY_TIMEOUT_MS
}

/// The seed URLs of `redis_cluster` (comma-separated), trimmed, empties dropped.
pub fn cluster_seeds(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_redis_url(url: &str) -> bool {
    url.starts_with("redis://") || url.starts_with("rediss://")
}

/// Checks `redis`, `redis_cluster` and the durability settings together.
pub fn check(
    redis: &str,
    redis_cluster: &str,
    durability: Durability,
    timeout_ms: u64,
) -> Result<(), ConfigError> {
    if !redis.is_empty() && !is_redis_url(redis) {
        return Err(ConfigError(format!(
            "redis = {redis:?}: expected a redis:// or rediss:// URL"
        )));
    }
    let seeds = cluster_seeds(redis_cluster);
    if let Some(bad) = seeds.iter().find(|s| !is_redis_url(s)) {
        return Err(ConfigError(format!(
            "redis_cluster: {bad:?} is not a redis:// or rediss:// URL (comma-separated seeds)"
        )));
    }
    if !redis_cluster.trim().is_empty() && seeds.is_empty() {
        return Err(ConfigError("redis_cluster names no seed URL".into()));
    }
    if !redis.is_empty() && !seeds.is_empty() {
        return Err(ConfigError(
            "redis and redis_cluster are both set: name one Redis (a server or a cluster)".into(),
        ));
    }
    if durability == Durability::Replicated && redis.is_empty() && seeds.is_empty() {
        return Err(ConfigError(
            "durability = \"replicated\" needs a Redis with replicas (redis or redis_cluster); \
             the embedded store has none"
                .into(),
        ));
    }
    if timeout_ms == 0 {
        return Err(ConfigError("durability_timeout_ms must be > 0".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_split_on_commas() {
        assert_eq!(
            cluster_seeds(" redis://a:1, ,redis://b:2 "),
            vec!["redis://a:1".to_owned(), "redis://b:2".to_owned()]
        );
        assert!(cluster_seeds("").is_empty());
    }

    #[test]
    fn combinations_are_checked() {
        let ok = |r, c, d| check(r, c, d, 500).is_ok();
        assert!(ok("", "", Durability::Local));
        assert!(ok("", "redis://a:1,redis://b:2", Durability::Replicated));
        assert!(ok("redis://a:1", "", Durability::Replicated));
        assert!(!ok("", "", Durability::Replicated));
        assert!(!ok("redis://a:1", "redis://b:2", Durability::Local));
        assert!(!ok("", "a:1", Durability::Local));
        assert!(!ok("", " , ", Durability::Local));
        assert!(check("redis://a:1", "", Durability::Local, 0).is_err());
    }
}
