//! Benchmarks a user can run (`spoofify bench ...`): each prints its figures side by
//! side from one run, because these machines are shared and noisy.
//!
//! - [`model`]: the model engines: fit and score time, AUC, model size.
//! - [`appends`]: durable appends per second on each store backend.

pub mod appends;
pub mod model;
