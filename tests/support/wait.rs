//! Waiting on a condition with a deadline: poll, and fail with what was awaited.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often a condition is polled: often enough to add little to a test's time,
/// rarely enough not to load the node under test.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Polls `check` until it gives `Some`, or `None` once `deadline` has passed.
pub async fn poll_until<T, F, Fut>(deadline: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if start.elapsed() > deadline {
            return None;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Polls `check` until it gives `Some`; fails the test naming `what` after `deadline`.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    match poll_until(deadline, check).await {
        Some(v) => v,
        None => panic!("timed out after {deadline:?} waiting for {what}"),
    }
}

/// Polls `check` until it is true; fails the test naming `what` after `deadline`.
pub async fn wait_until<F, Fut>(what: &str, deadline: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    wait_for(what, deadline, || {
        let fut = check();
        async move { fut.await.then_some(()) }
    })
    .await
}
