//! What the people a listener follows played lately, read from the store for the
//! feed's social source (`model::social`), bounded and cached per actor.
//!
//! Read: the newest [`MAX_FRIENDS`] followees, and of each the newest
//! [`MAX_ENTRIES_PER_FRIEND`] activity entries *as this listener may see them*
//! (`Store::visible_activity`: nothing of someone who does not share or who blocked
//! the listener — checked by the store in the same read), finishes and likes only.
//! At most 50 × 2 store reads, done concurrently, once per [`FRIENDS_TTL`]: feeds in
//! between reuse them, so a feed stays fast. A store error degrades to no friends
//! (logged), never fails the feed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;

use crate::model::social::{FriendAct, FriendSignal, MAX_ENTRIES_PER_FRIEND, MAX_FRIENDS};
use crate::store::{now_ms, ActivityKind, ListenerId, SharedStore, StoreError};

/// How long read friends' signals are reused. Short, so a friend who stops sharing
/// leaves the feed within moments (tests: a tenth of a second).
pub const FRIENDS_TTL: Duration = if cfg!(test) {
    Duration::from_millis(100)
} else {
    Duration::from_secs(30)
};

/// One actor's friends' signals and when they were read.
#[derive(Debug, Default)]
pub struct FriendCache {
    read_at: Option<Instant>,
    signals: Arc<Vec<FriendSignal>>,
}

impl FriendCache {
    /// The friends' signals, read again when older than [`FRIENDS_TTL`].
    pub async fn get(&mut self, store: &SharedStore, me: &ListenerId) -> Arc<Vec<FriendSignal>> {
        if self.read_at.is_some_and(|t| t.elapsed() < FRIENDS_TTL) {
            return self.signals.clone();
        }
        let signals = match read(store, me).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(listener = %me, error = %e, "friends not read; the feed goes on without them");
                Vec::new()
            }
        };
        self.signals = Arc::new(signals);
        self.read_at = Some(Instant::now());
        self.signals.clone()
    }
}

async fn read(store: &SharedStore, me: &ListenerId) -> Result<Vec<FriendSignal>, StoreError> {
    let followees = store.following(me, MAX_FRIENDS).await?;
    let now = now_ms();
    let reads = followees.iter().map(|f| async move {
        let entries = store
            .visible_activity(f, me, MAX_ENTRIES_PER_FRIEND)
            .await?;
        if entries.is_empty() {
            return Ok(None);
        }
        let Some(account) = store.account(f).await? else {
            return Ok(None);
        };
        let acts = entries.into_iter().filter_map(|e| {
            let act = match e.kind {
                ActivityKind::Finished => FriendAct::Finished,
                ActivityKind::Liked => FriendAct::Liked,
                ActivityKind::Playing => return None,
            };
            Some((e.song_id, act, e.at_ms))
        });
        Ok::<_, StoreError>(Some(FriendSignal::from_activity(
            account.username.to_string(),
            acts,
            now,
        )))
    });
    let mut out = Vec::new();
    for r in join_all(reads).await {
        if let Some(s) = r? {
            out.push(s);
        }
    }
    Ok(out)
}
