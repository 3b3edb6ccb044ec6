//! Simulated listeners with hidden tastes, and the catalogs they can listen to.
//!
//! - [`synthetic`]: a seeded catalog whose genres form clusters in audio-feature
//!   space, like real audio features do (for tests, and when no demo catalog exists).
//! - [`taste`]: hidden tastes — genre-loyal, tempo-driven, mood/energy-driven, mixed,
//!   drifting — as a probability of finishing a song.
//! - [`listener`]: [`Listener`], which given a feed plays, skips or likes each song
//!   (with positions). The quality eval, the load generator and the chaos harness all
//!   drive listeners through it.
//! - [`quality`]: the quality benchmark's core over any `&Catalog`: long sessions,
//!   checkpoints of skip rate, liked share, distinct songs and NDCG@10; [`eval`] is its
//!   command (`spoofify eval`) and [`plot`] draws its curves as SVG.
//! - [`cooc_eval`]: `spoofify eval --cooccurrence`, the lift of learning from everyone
//!   on a population whose tastes come in shared clusters.
//! - [`social_eval`]: `spoofify eval --social`, the lift of friends' finishes on
//!   simulated friend graphs (and that nothing of a friend who does not share shows).
//! - [`signals_eval`]: `spoofify eval --signals`, what each training signal adds
//!   (playlist adds and removals, search finishes, repeat plays) as ablation rows.

pub mod cooc_eval;
pub mod eval;
pub mod listener;
pub mod plot;
pub mod quality;
pub mod signals_eval;
pub mod social_eval;
pub mod synthetic;
pub mod taste;

pub use listener::{Listener, Reaction};
pub use synthetic::synthetic_catalog;
pub use taste::{Taste, TasteShape};
