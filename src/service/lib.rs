//! The Spoofify service: everything one node runs. A self-hostable music streaming
//! service that learns each listener's taste.
//!
//! The parts, in layers: each may use the layers below it and none above
//! (`tests/layers.rs` fails the build's tests when that stops being true).
//!
//! 9. [`admin`]: the catalog commands run on a data dir while no node runs on it.
//! 8. [`node`]: wiring one node together: store, catalog, cluster, HTTP, shutdown.
//! 7. [`http`]: the axum routes — handlers only; the one place that knows HTTP and JSON.
//! 6. [`cluster`]: membership by heartbeats in the store, rendezvous placement, the one
//!    cluster-addressable gateway per node, routing with deadlines, drain.
//! 5. [`listener`]: one actor per active listener owning its model, and the per-node
//!    supervisor that activates, restarts and passivates them.
//! 4. [`model`]: interactions turned into a per-listener classifier; candidates and
//!    ranking. Plain synchronous code: no actors, no HTTP.
//! 3. [`store`]: everything the service persists, behind one trait, with a Redis and an
//!    embedded (single-file) implementation. [`media`]: audio renditions on disk and
//!    HTTP Range streaming of them.
//! 2. [`catalog`]: songs, their metadata and audio features; the demo generator, audio
//!    analysis and the import of a real music folder.
//! 1. [`audio`]: decoding and encoding audio files.
//! 0. [`config`]: typed settings loaded in layers (default file < file < env < flags);
//!    [`telemetry`]: logs and Prometheus metrics.

pub mod admin;
pub mod audio;
pub mod catalog;
pub mod cluster;
pub mod config;
pub mod http;
pub mod listener;
pub mod media;
pub mod model;
pub mod node;
pub mod store;
pub mod telemetry;
