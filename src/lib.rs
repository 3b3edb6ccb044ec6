//! Spoofify: a self-hostable music streaming service that learns each listener's taste.
//!
//! The parts, in the order a request meets them:
//!
//! - [`config`]: typed settings loaded in layers (default file < file < env < flags).
//! - [`http`]: the axum routes — health, catalog, streaming, accounts, feed, interactions.
//! - [`catalog`]: songs, their metadata and audio features; the demo generator, audio
//!   analysis and the import of a real music folder.
//! - [`media`]: audio renditions on disk and HTTP Range streaming of them.
//! - [`store`]: everything the service persists, behind one trait, with a Redis and an
//!   embedded (single-file) implementation.
//! - [`model`]: interactions turned into a per-listener classifier; candidates and ranking.
//! - [`cluster`]: membership by heartbeats in the store, rendezvous placement, the one
//!   cluster-addressable gateway per node, routing with deadlines, drain.
//! - [`listener`]: one actor per active listener owning its model, and the per-node
//!   supervisor that activates, restarts and passivates them.
//! - [`sim`]: simulated listeners with hidden tastes, reused by eval, load and chaos.
//! - [`node`]: wiring one node together: store, catalog, media, HTTP, shutdown.

pub mod catalog;
pub mod chaos;
pub mod cluster;
pub mod config;
pub mod http;
pub mod listener;
pub mod media;
pub mod model;
pub mod node;
pub mod sim;
pub mod store;
pub mod telemetry;
