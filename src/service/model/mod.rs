//! The recommender: interactions turned into a per-listener classifier, and the feed
//! ranked with it.
//!
//! How the parts fit (data flows down):
//!
//! - [`catalog_index`]: built once per catalog and shared (`Arc`): quantized features
//!   ([`quantize`]), content neighbours ([`neighbours`]), popularity and genre lists.
//! - [`labels`]: a listener's interactions reduced to one weighted label per song.
//! - [`classifier`]: the small trait every classifier meets. Two engines meet it:
//!   [`hist_forest`] (built for this workload, the default) and [`crate_forest`] (the
//!   `randomforest` crate); [`engine`]'s [`Model`] is the one a setting chose
//!   ([`EngineKind`]).
//! - [`history`]: what a listener has heard, per song (plays, skips in a row, when),
//!   folded from the log like the labels.
//! - [`rotation`]: when a heard song may come back (favorites rest in plays and time,
//!   skips rest, repeated skips ban); [`mix`]: how many slots of a page are familiar.
//! - [`context`]: what one page's ranking knows about the listener;
//!   [`candidates`]: where new songs come from, each source with its [`Reason`]
//!   ([`reason`]); [`feed`]: one page — candidates scored, favorites mixed in,
//!   exploration, diversity; [`search`]: after a taste moved, which genres a page
//!   tries (Thompson sampling over genres).
//! - [`cooccurrence`]: learning from everyone — item-to-item co-occurrence over all
//!   listeners' logs (counted by a cluster job), published as a table the index
//!   shares; a candidate source and a ranking feature for the feed and radio.
//! - [`social`]: learning from the people a listener follows — their shared finishes
//!   and likes, weighted by how close their taste is, as a candidate source and a
//!   ranking feature (the caller passes only followees who share).
//! - [`radio`]: a radio from a seed song or artist: songs close to the seed by audio
//!   and co-occurrence, re-ranked with the listener's scores, never the same twice.
//! - [`listener_model`]: [`ListenerModel`], the state a listener actor owns: training
//!   set, history, last applied log seq, fitted model; snapshots to and from bytes.
//!
//! Nothing here knows about HTTP, actors or the cluster: it is plain, synchronous,
//! deterministic library code (fits are meant to run on a blocking pool).

pub mod candidates;
pub mod catalog_index;
pub mod classifier;
pub mod context;
pub mod cooccurrence;
pub mod crate_forest;
pub mod engine;
pub mod feed;
pub mod hist_forest;
pub mod history;
pub mod index_cache;
pub mod labels;
pub mod listener_model;
pub mod mix;
pub mod neighbours;
pub mod quantize;
pub mod radio;
pub mod ranked;
pub mod reason;
pub mod rotation;
pub mod search;
pub mod social;

pub use catalog_index::CatalogIndex;
pub use classifier::{Engine, LabeledRow, ModelError};
pub use engine::{EngineKind, Model};
pub use feed::{FeedItem, Ranking};
pub use index_cache::IndexCache;
pub use labels::TrainingRow;
pub use listener_model::{ColdReason, FitJob, FitOutcome, FitStatus, ListenerModel};
pub use quantize::FeatureIndex;
pub use ranked::{degraded_feed, RankedItem};
pub use reason::Reason;
