//! What a node tells its operators: logs (tracing, a human format by default and JSON
//! by setting) and Prometheus metrics ([`metrics`], recorded through per-thread
//! [`shards`]).

pub mod metrics;
mod shards;

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber once; later calls (tests) are ignored.
/// `RUST_LOG`, when set, overrides the configured filter. Either way ractor_cluster
/// logs errors only unless the filter names it: it logs every TCP session at info and
/// every failed accept at warn, which under a connection storm is gigabytes a minute.
pub fn init(settings: &LogSettings) {
    let directives = std::env::var("RUST_LOG")
        .ok()
        .filter(|f| EnvFilter::try_new(f).is_ok())
        .unwrap_or_else(|| settings.filter.clone());
    let filter = EnvFilter::try_new(with_quiet_cluster(&directives))
        .unwrap_or_else(|_| EnvFilter::new("info,ractor_cluster=error"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// `directives` with `ractor_cluster=error` added unless they name ractor_cluster.
fn with_quiet_cluster(directives: &str) -> String {
    if directives.contains("ractor_cluster") {
        directives.to_string()
    } else if directives.trim().is_empty() {
        "ractor_cluster=error".to_string()
    } else {
        format!("{directives},ractor_cluster=error")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ractor_cluster_is_quiet_unless_named() {
        assert_eq!(
            super::with_quiet_cluster("info"),
            "info,ractor_cluster=error"
        );
        assert_eq!(
            super::with_quiet_cluster("info,ractor_cluster=debug"),
            "info,ractor_cluster=debug"
        );
    }
}
