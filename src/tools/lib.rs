//! Spoofify's tools: what is run around the service rather than in it. They drive a
//! node the way its users do (over HTTP, or through the service's own library) and
//! never reach inside it; the service knows nothing of them.
//!
//! - [`sim`]: simulated listeners with hidden tastes, the synthetic catalog, and
//!   `spoofify eval` (recommendation quality against baselines).
//! - [`bench`]: `spoofify bench ...`, figures printed side by side.
//! - [`chaos`]: `spoofify chaos`, fault injection against a real cluster, with a
//!   checked verdict and a report.
//! - [`loadgen`]: `spoofify loadgen`, simulated listeners over HTTP in a closed or
//!   open loop, with HDR histograms, JSON/CSV results and an SVG plot.
//! - [`certs`]: `spoofify cluster certs`, a cluster CA and node certificates for TLS
//!   between nodes.

pub mod bench;
pub mod certs;
pub mod chaos;
pub mod loadgen;
pub mod sim;
pub mod svg;
