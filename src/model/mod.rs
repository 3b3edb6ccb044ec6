//! The recommender: interactions turned into a per-listener classifier, and the feed
//! ranked with it.
//!
//! How the parts fit (data flows down):
//!
//! - [`catalog_index`]: built once per catalog and shared (`Arc`): quantized features
//!   ([`quantize`]), content neighbours ([`neighbours`]), popularity and genre lists.
//! - [`labels`]: a listener's interactions reduced to one weighted label per song.
//! - [`engine`]: the small trait every classifier meets, and [`Model`], the engine
//!   chosen by a setting ([`EngineKind`]). Two engines: [`hist_forest`] (built for this
//!   workload, the default) and [`crate_forest`] (the `randomforest` crate).
//! - [`feed`]: candidates and ranking (diversity, nothing just played, exploration).
//! - [`listener_model`]: [`ListenerModel`], the state a listener actor owns: training
//!   set, last applied log seq, fitted model; snapshots to and from bytes.
//! - [`bench`]: `spoofify bench model`, the engines side by side.
//!
//! Nothing here knows about HTTP, actors or the cluster: it is plain, synchronous,
//! deterministic library code (fits are meant to run on a blocking pool).

pub mod bench;
pub mod catalog_index;
pub mod crate_forest;
pub mod engine;
pub mod feed;
pub mod hist_forest;
pub mod labels;
pub mod listener_model;
pub mod neighbours;
pub mod quantize;

pub use catalog_index::CatalogIndex;
pub use engine::{Engine, EngineKind, LabeledRow, Model, ModelError};
pub use feed::{FeedItem, Ranking, Reason};
pub use labels::TrainingRow;
pub use listener_model::{ColdReason, FitJob, FitStatus, ListenerModel};
pub use quantize::FeatureIndex;
