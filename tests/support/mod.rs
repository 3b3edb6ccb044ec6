//! The one test harness every integration test shares: starting real nodes (in-process
//! or as processes), real clusters on a private Redis, a store under test on either
//! backend, a headless browser, and waiting on conditions with deadlines.
//!
//! - [`wait`]: poll a condition until it holds or a deadline passes (never sleep and hope).
//! - [`store`]: a store on either backend that a test can restart.
//! - [`node`]: one `spoofify serve` process on free ports.
//! - [`app`]: an in-process node shared by a test binary, and a JSON client with a session.
//! - [`cluster`]: a private Redis and N node processes; listeners made directly in the store.
//! - [`browser`]: headless Chromium through chromedriver, with screenshots.
#![allow(dead_code)] // each test binary uses a different subset

pub mod app;
pub mod browser;
pub mod cluster;
pub mod node;
pub mod store;
pub mod wait;

pub use wait::{poll_until, wait_for, wait_until};

/// A free loopback port (bound, read, released), as the service's own tools pick one.
pub fn free_port() -> u16 {
    spoofify_service::store::redis_process::free_port().expect("a free loopback port")
}
