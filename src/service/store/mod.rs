//! Everything the service persists, behind one trait.
//!
//! [`Store`] is the only way the rest of the code reaches durable state: accounts,
//! sessions, per-listener interaction logs, model snapshots, fencing epochs, the node
//! registry with heartbeats, playlists and the catalog index. Two implementations
//! give the same semantics — [`redis::RedisStore`] for a cluster and
//! [`embedded::EmbeddedStore`] (one redb file in the data directory) for a single node
//! with zero setup — and one contract test suite (`tests/store_contract.rs`) runs
//! against both (Redis as one server and as a Redis Cluster). [`redis_process`] runs a
//! private `redis-server` for tests, local clusters and the chaos harness;
//! [`redis_cluster_process`] a private Redis Cluster of them.
//!
//! Invariants every implementation keeps:
//! - `append_interaction` returns only once the entry is durable, and is idempotent by
//!   the client's id: the same id again returns the first entry's sequence number
//!   with `duplicate: true` and writes nothing.
//! - A listener's log is append-only but for compaction: `compact_log` removes only
//!   entries that the listener's current snapshot covers, only for the holder of the
//!   current epoch, and always keeps the newest `keep_last` (at least one) entries, so
//!   sequence numbers never restart. Ids of removed entries leave the idempotency
//!   index with them: a retry is recognised while its entry is among the kept ones.
//! - `put_snapshot` writes only if the caller's epoch is the listener's current one
//!   (checked atomically with the write); otherwise it fails with [`StoreError::Fenced`].

mod codec;
pub mod embedded;
pub mod instrumented;
pub mod jobs;
pub mod people;
pub mod redis;
pub mod redis_cluster_process;
pub mod redis_process;
pub mod types;

pub use jobs::{JobField, JobName, LeaseGrant, LeaseHolder};
pub use types::*;

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

use crate::catalog::Song;

/// Errors from a store. `Fenced`, `Conflict` and `NotFound` are the caller's to
/// handle; `Unavailable` means the backend could not be reached or failed, and the
/// operation may or may not have happened (callers must not acknowledge it).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("fenced: epoch {held} is older than the current epoch {current}")]
    Fenced { held: u64, current: u64 },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// [`Store::append_checked`] as two steps: [`Store::session_check`], then (only if the
/// session signs its requests in) the append. The trait's default, and the Redis
/// store's way for older session keys (in no listener's hash slot).
pub async fn append_checked_in_two_steps<S: Store + ?Sized>(
    store: &S,
    session_key: &str,
    interaction: &Interaction,
    share: Option<&ActivityEntry>,
) -> StoreResult<CheckedAppend> {
    let check = store.session_check(session_key).await?;
    let Some(found) = check.as_ref().filter(|c| c.signs_in()) else {
        return Ok(CheckedAppend {
            check,
            appended: None,
        });
    };
    let listener = &found.session.listener;
    let appended = match share {
        Some(entry) => store.append_and_share(listener, interaction, entry).await?,
        None => (
            store.append_interaction(listener, interaction).await?,
            false,
        ),
    };
    Ok(CheckedAppend {
        check,
        appended: Some(appended),
    })
}

/// A shared handle to whichever store this node runs on.
pub type SharedStore = Arc<dyn Store>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A short name for logs and /readyz: "redis", "redis-cluster" or "embedded".
    fn kind(&self) -> &'static str;

    /// Succeeds when the backend answers.
    async fn ping(&self) -> StoreResult<()>;

    // ---- accounts -------------------------------------------------------------

    /// Creates an account; `Conflict` when the username is taken.
    async fn create_account(&self, account: &Account) -> StoreResult<()>;
    async fn account(&self, id: &ListenerId) -> StoreResult<Option<Account>>;
    async fn account_by_username(&self, username: &Username) -> StoreResult<Option<Account>>;
    /// Replaces the account's onboarding genres and seed songs.
    async fn set_preferences(&self, id: &ListenerId, prefs: &Preferences) -> StoreResult<()>;

    // ---- sessions -------------------------------------------------------------

    /// Stores a session keyed by the hash of its token; it expires after `ttl`.
    async fn put_session(&self, session: &Session, ttl: Duration) -> StoreResult<()>;
    async fn session(&self, token_hash: &str) -> StoreResult<Option<Session>>;
    /// The session stored under `key` and, if there is one, its account's username and
    /// current session epoch (`account: None` when the account is gone): what checking
    /// every signed-in request reads. One read transaction on the embedded store; on
    /// Redis one round trip when the key names its listener ([`session_key_listener`]:
    /// the session lives in the listener's hash slot, beside the account), two for an
    /// older key. A session whose record names another listener than its key is
    /// [`StoreError::Corrupt`].
    async fn session_check(&self, key: &str) -> StoreResult<Option<SessionCheck>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Rewrites a session with a fresh TTL only if it still exists (a refresh racing a
    /// logout must not bring the session back); false when it did not.
    async fn refresh_session(&self, session: &Session, ttl: Duration) -> StoreResult<bool>;
    /// Voids every session of the account (raises its session epoch) and, with
    /// `password_hash`, sets a new password in the same atomic step. Returns the new
    /// epoch; `NotFound` without the account.
    async fn revoke_sessions(
        &self,
        id: &ListenerId,
        password_hash: Option<&str>,
    ) -> StoreResult<u64>;

    // ---- interaction logs -------------------------------------------------------

    /// Appends durably and idempotently by `interaction.id` (see module docs).
    async fn append_interaction(
        &self,
        listener: &ListenerId,
        interaction: &Interaction,
    ) -> StoreResult<Appended>;
    /// [`Store::append_interaction`] and, only if the entry was new, what
    /// [`Store::push_activity`] does with `share` — in one durable step (one round trip
    /// and one fsync, not two). Returns the append and whether the activity entry was
    /// recorded. Finishes and likes take this path.
    async fn append_and_share(
        &self,
        listener: &ListenerId,
        interaction: &Interaction,
        share: &ActivityEntry,
    ) -> StoreResult<(Appended, bool)>;
    /// An interaction from a signed-in request: checks the session stored under
    /// `session_key` exactly as [`Store::session_check`] reads it and, only if it signs
    /// its requests in ([`SessionCheck::signs_in`]), appends to the session's
    /// listener's log — as [`Store::append_and_share`] with `share`, else as
    /// [`Store::append_interaction`]. Nothing is written for a session that does not.
    /// On Redis, for a key that names its listener ([`session_key_listener`]), the
    /// check and the append are one script — one round trip, one fsync wait, and no
    /// revocation can fall between them; elsewhere (this default: the embedded store,
    /// whose check is an inline read, and older keys) the check, then the append.
    async fn append_checked(
        &self,
        session_key: &str,
        interaction: &Interaction,
        share: Option<&ActivityEntry>,
    ) -> StoreResult<CheckedAppend> {
        append_checked_in_two_steps(self, session_key, interaction, share).await
    }

    /// Entries with `seq > after`, oldest first, at most `limit`.
    async fn read_interactions(
        &self,
        listener: &ListenerId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LoggedInteraction>>;
    /// The highest sequence number in the log (0 when empty).
    async fn last_seq(&self, listener: &ListenerId) -> StoreResult<u64>;
    /// Removes the oldest entries the current snapshot covers, keeping the newest
    /// `keep_last` (at least 1), at most [`COMPACTION_BATCH`] per call; only if `epoch`
    /// is the listener's current epoch (else [`StoreError::Fenced`], nothing removed).
    /// One atomic step with the checks. Bounds a listener's log to about `keep_last`
    /// entries plus what the latest snapshot does not cover yet.
    async fn compact_log(
        &self,
        listener: &ListenerId,
        epoch: u64,
        keep_last: u64,
    ) -> StoreResult<Compaction>;
    /// The sequence number through which the log was compacted (0 if never): entries
    /// up to it are gone from the log and live on only in snapshots.
    async fn log_floor(&self, listener: &ListenerId) -> StoreResult<u64>;

    // ---- fencing and snapshots ------------------------------------------------

    /// Takes a new fencing epoch for the listener (strictly greater than any before)
    /// and records `node` as its owner.
    async fn acquire_epoch(&self, listener: &ListenerId, node: &NodeId) -> StoreResult<u64>;
    /// The listener's current epoch (0 if never acquired).
    async fn current_epoch(&self, listener: &ListenerId) -> StoreResult<u64>;
    /// Writes the snapshot if `snapshot.epoch` is the current epoch, atomically.
    async fn put_snapshot(&self, listener: &ListenerId, snapshot: &Snapshot) -> StoreResult<()>;
    async fn snapshot(&self, listener: &ListenerId) -> StoreResult<Option<Snapshot>>;
    /// What a listener's actor does first when it activates: takes a new fencing epoch
    /// ([`Store::acquire_epoch`]), then reads the account, the latest snapshot and up
    /// to `page` log entries after what that snapshot covers — in that order, so the
    /// reads see nothing an older epoch's holder could still change (its snapshot
    /// writes and compactions are fenced once the epoch is taken). This default makes
    /// the four calls one after another; the Redis stores make them one atomic script
    /// (one round trip and one fsync instead of four round trips).
    async fn activate(
        &self,
        listener: &ListenerId,
        node: &NodeId,
        page: usize,
    ) -> StoreResult<Activated> {
        let epoch = self.acquire_epoch(listener, node).await?;
        let account = self.account(listener).await?;
        let snapshot = self.snapshot(listener).await?;
        let log_after = snapshot.as_ref().map_or(0, |s| s.covers_seq);
        let log = self.read_interactions(listener, log_after, page).await?;
        Ok(Activated {
            epoch,
            account,
            snapshot,
            log_after,
            log,
        })
    }
    /// The listener's writer journal, oldest step first (see [`WriterEvent`]).
    async fn writer_journal(&self, listener: &ListenerId) -> StoreResult<Vec<WriterEvent>>;

    // ---- node registry ----------------------------------------------------------

    /// Registers or refreshes the node; its entry expires `ttl` after the last beat.
    async fn heartbeat(&self, node: &NodeInfo, ttl: Duration) -> StoreResult<()>;
    /// Nodes whose heartbeat has not expired, with the age of their last beat.
    async fn live_nodes(&self) -> StoreResult<Vec<LiveNode>>;
    async fn deregister(&self, node: &NodeId) -> StoreResult<()>;

    // ---- playlists ----------------------------------------------------------------

    async fn put_playlist(&self, playlist: &Playlist) -> StoreResult<()>;
    async fn playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<Option<Playlist>>;
    async fn playlists(&self, owner: &ListenerId) -> StoreResult<Vec<Playlist>>;
    /// `NotFound` when the owner has no such playlist.
    async fn delete_playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<()>;

    // ---- catalog index ----------------------------------------------------------------

    /// Replaces the stored catalog with these songs.
    async fn put_catalog(&self, songs: &[Song]) -> StoreResult<()>;
    async fn catalog(&self) -> StoreResult<Vec<Song>>;

    // ---- listener registry (see [`jobs`]) -----------------------------------------

    /// Listeners whose log has an entry, in id order, strictly after `after`, at most
    /// `limit`. Every listener is recorded here before its first append is durable.
    async fn listeners(
        &self,
        after: Option<&ListenerId>,
        limit: usize,
    ) -> StoreResult<Vec<ListenerId>>;

    // ---- cluster-wide background jobs (see [`jobs`]) ------------------------------

    /// Takes the job's lease for `holder` when it is free or expired (a new fencing
    /// epoch, strictly greater than any before), renews it when `holder` already
    /// holds it (same epoch, TTL reset), or reports who holds it.
    async fn acquire_job_lease(
        &self,
        job: &JobName,
        holder: &LeaseHolder,
        ttl: Duration,
    ) -> StoreResult<LeaseGrant>;
    /// Gives the lease up at once if `holder` holds it with `epoch`; otherwise nothing.
    async fn release_job_lease(
        &self,
        job: &JobName,
        holder: &LeaseHolder,
        epoch: u64,
    ) -> StoreResult<()>;
    /// Writes these fields of the job's state (others are kept) if `epoch` is the
    /// job's current fencing epoch, atomically with the check; otherwise
    /// [`StoreError::Fenced`] and nothing is written. At most
    /// [`jobs::MAX_JOB_FIELDS_PER_WRITE`] fields.
    async fn put_job_state(
        &self,
        job: &JobName,
        epoch: u64,
        fields: &[JobField],
    ) -> StoreResult<()>;
    /// One field of the job's state.
    async fn job_state_field(&self, job: &JobName, field: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Every field of the job's state, in field order.
    async fn job_state(&self, job: &JobName) -> StoreResult<Vec<JobField>>;

    // ---- Subsonic apps: API keys and per-listener app fields ----------------------

    /// Stores an API key (its hash, findable by [`Store::api_key`], and listed under
    /// its listener). Durable before it returns.
    async fn put_api_key(&self, key: &ApiKey) -> StoreResult<()>;
    /// The key whose SHA-256 (hex) is `hash`, if it exists and was not revoked.
    async fn api_key(&self, hash: &str) -> StoreResult<Option<ApiKey>>;
    /// The listener's keys in id order.
    async fn api_keys(&self, listener: &ListenerId) -> StoreResult<Vec<ApiKey>>;
    /// Revokes the listener's key with this id; false when there was none.
    async fn delete_api_key(&self, listener: &ListenerId, id: &str) -> StoreResult<bool>;
    /// Sets (or with `None` removes) one of the listener's app fields: the sealed app
    /// password, the saved play queue, what the listener's apps play now.
    async fn put_app_field(
        &self,
        listener: &ListenerId,
        field: &str,
        value: Option<&[u8]>,
    ) -> StoreResult<()>;
    /// One of the listener's app fields.
    async fn app_field(&self, listener: &ListenerId, field: &str) -> StoreResult<Option<Vec<u8>>>;

    // ---- social graph (issue 17) ----------------------------------------------------
    //
    // Each listener keeps its own side of every edge (whom it follows, who follows it,
    // whom it blocked), so every call's keys are one listener's; an edge is written on
    // both sides, one after the other, each step safe to retry. Lists are newest first.

    /// `follower` follows `followee` (again: kept as it was), unless `followee` has
    /// blocked `follower` ([`FollowOutcome::Blocked`], nothing written; checked
    /// atomically with the followee's side). Durable before it returns.
    async fn follow(
        &self,
        follower: &ListenerId,
        followee: &ListenerId,
    ) -> StoreResult<FollowOutcome>;
    /// Removes the edge on both sides (nothing when there was none).
    async fn unfollow(&self, follower: &ListenerId, followee: &ListenerId) -> StoreResult<()>;
    /// Whom `listener` follows, most recently followed first, at most `limit`.
    async fn following(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>>;
    /// Who follows `listener`, most recent first, at most `limit`.
    async fn followers(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>>;
    /// `blocker` blocks `blocked`: recorded on the blocker's side first, then every
    /// follow between the two, either way, is removed.
    async fn block(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<()>;
    async fn unblock(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<()>;
    /// Whom `listener` blocked, most recent first, at most `limit`.
    async fn blocked(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>>;
    /// Whether `blocker` has blocked `blocked`.
    async fn is_blocked(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<bool>;

    // ---- privacy and activity (issue 17) --------------------------------------------

    /// The listener's privacy settings (the default, sharing nothing, if never set).
    async fn privacy(&self, listener: &ListenerId) -> StoreResult<Privacy>;
    async fn set_privacy(&self, listener: &ListenerId, privacy: &Privacy) -> StoreResult<()>;
    /// Adds an entry to the listener's activity list (capped at [`ACTIVITY_CAP`],
    /// newest kept) if the listener's privacy lets it be recorded at `entry.at_ms`,
    /// checked atomically with the write; false when it was not recorded. The same
    /// entry as the newest one is not added twice (a retried call). Durable before it
    /// returns.
    async fn push_activity(
        &self,
        listener: &ListenerId,
        entry: &ActivityEntry,
    ) -> StoreResult<bool>;
    /// The listener's own activity, newest first, at most `limit`, whatever its
    /// privacy (for the listener itself and for the model).
    async fn activity(
        &self,
        listener: &ListenerId,
        limit: usize,
    ) -> StoreResult<Vec<ActivityEntry>>;
    /// `owner`'s activity as `viewer` may see it, newest first, at most `limit`:
    /// nothing while `owner` does not share or has blocked `viewer` (both checked in
    /// the same read). The one read the friend feed merges over followees.
    async fn visible_activity(
        &self,
        owner: &ListenerId,
        viewer: &ListenerId,
        limit: usize,
    ) -> StoreResult<Vec<ActivityEntry>>;

    // ---- people: display names and people search (issue 17) ------------------------
    //
    // Every account is in the name index (see [`people`]) from `create_account` on.

    /// The listener's display name, if they set one.
    async fn display_name(&self, listener: &ListenerId) -> StoreResult<Option<DisplayName>>;
    /// Sets the listener's display name (`None`: clears it, so the username shows) and
    /// indexes it for people search; `NotFound` without the account. Durable before it
    /// returns.
    async fn set_display_name(
        &self,
        listener: &ListenerId,
        name: Option<&DisplayName>,
    ) -> StoreResult<()>;
    /// People search: listeners with a current name key (see [`people::name_keys`])
    /// that starts with `prefix` (as [`people::normalize`] makes it), in key order,
    /// each listener once, at most `limit`. One bounded range read of the index (no
    /// scan of the accounts); an empty prefix finds no one.
    async fn find_people(&self, prefix: &str, limit: usize) -> StoreResult<Vec<ListenerId>>;
}

/// The shortest TTL stored, in ms. Redis rejects `PX 0`; both stores clamp to this,
/// so a zero TTL means "expires at once" in both.
const MIN_TTL_MS: u64 = 1;

/// A TTL as the whole milliseconds both stores keep.
fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis())
        .unwrap_or(u64::MAX)
        .max(MIN_TTL_MS)
}

/// The embedded store's file name inside the data directory.
pub const EMBEDDED_FILE: &str = "store.redb";

/// Opens the store the settings name: Redis when `settings.redis` is set, a Redis
/// Cluster when `settings.redis_cluster` is, otherwise
/// the embedded store file `store.redb` in the data directory (created if missing).
/// An unreachable Redis is [`StoreError::Unavailable`] naming the URL (password hidden).
/// With `metrics.enabled`, the store is wrapped in [`instrumented::Instrumented`].
pub async fn open(settings: &crate::config::Settings) -> StoreResult<SharedStore> {
    let store: SharedStore =
        if settings.redis.is_empty() && settings.redis_cluster.trim().is_empty() {
            let path = settings.data_dir.join(EMBEDDED_FILE);
            Arc::new(embedded::EmbeddedStore::open(&path).await?)
        } else {
            Arc::new(
                redis::RedisStore::connect_to(
                    &redis_target(settings),
                    settings.durability,
                    Duration::from_millis(settings.durability_timeout_ms),
                )
                .await?,
            )
        };
    Ok(if settings.metrics.enabled {
        Arc::new(instrumented::Instrumented::new(store))
    } else {
        store
    })
}

/// The Redis the settings name: a cluster's seeds when `redis_cluster` is set.
fn redis_target(settings: &crate::config::Settings) -> redis::RedisTarget {
    let seeds = settings.redis_cluster_urls();
    if seeds.is_empty() {
        redis::RedisTarget::Server(settings.redis_url())
    } else {
        redis::RedisTarget::Cluster(seeds)
    }
}

/// True when a log read can return nothing whatever the log holds: no room (`limit`
/// 0), or nothing after the highest possible seq. Both backends answer it without a
/// round trip.
pub(crate) fn empty_read(after: u64, limit: usize) -> bool {
    limit == 0 || after == u64::MAX
}
