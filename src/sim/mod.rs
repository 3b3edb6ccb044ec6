//! Simulated listeners with hidden tastes, reused by eval, the load generator and chaos.

pub mod eval;
