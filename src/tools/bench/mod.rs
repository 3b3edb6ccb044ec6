//! Benchmarks a user can run (`spoofify bench ...`): each prints its figures side by
//! side from one run, because these machines are shared and noisy.
//!
//! - [`model`]: the model engines: fit and score time, AUC, model size.
//! - [`store`]: durable appends on every state tier: embedded with and without group
//!   commit, one Redis, a Redis Cluster, durability local vs replicated.
//! - [`metrics`]: what the node's metrics calls cost per feed, off and on.
//! - [`floor`]: a bare axum server with a constant answer, the floor `scripts/bench`
//!   measures Spoofify's hot paths against.

pub mod floor;
pub mod metrics;
pub mod model;
pub mod store;
