//! Interactions turned into a per-listener classifier; candidates and ranking.

pub mod bench;
