//! The embedded store: everything in one redb file (`store.redb` in the data
//! directory), so a single node runs with no server to set up.
//!
//! It keeps the same semantics as the Redis store for everything in the [`Store`]
//! trait. How:
//! - **Durability, with group commit.** Every write is one redb write transaction,
//!   run on the store's one writer thread ([`group`]). The writer takes every write
//!   waiting at that moment as a batch, commits each in its own transaction without an
//!   fsync, makes the last commit of the batch `Durability::Immediate` (redb: a durable
//!   commit persists the non-durable ones before it), and only then answers the whole
//!   batch. So a call that returned `Ok` survives a crash of the process or the
//!   machine, and concurrent writers share one fsync instead of queueing for one each.
//! - **Atomicity.** redb serializes write transactions, so each check-then-write
//!   (username taken?, client id seen?, epoch current?) happens inside the one
//!   transaction that writes; a failed check drops the transaction, writing nothing.
//! - **TTLs.** Sessions and heartbeats store their expiry time (ms since the Unix
//!   epoch); readers treat anything past it as absent. Expired sessions are purged a
//!   bounded batch at a time by later `put_session` calls (via an expiry index), and
//!   expired heartbeats by later `heartbeat` calls.
//! - **Async.** redb is blocking; reads run on tokio's blocking pool
//!   (`spawn_blocking`), writes on the writer thread, keeping the caller's tracing span.
//!   The exceptions are point reads on every request's path, which run inline
//!   ([`EmbeddedStore::read_inline`]; a few microseconds from redb's cache, where the
//!   hand-off to the blocking pool and waking the task again cost more than the reads):
//!   `session_check` (two point reads) and, in `read_interactions`, the check for
//!   anything after the caller's seq (a listener's actor asks before every feed and is
//!   almost always caught up).
//!
//! Tables (keys → values; JSON unless noted):
//! `accounts` listener → Account · `usernames` username → listener ·
//! `sessions` token hash → {session, expires_ms} · `session_expiry` (expires_ms, token
//! hash) → () · `log` (listener, seq) → Interaction · `log_ids` (listener, client id) →
//! seq · `log_floor` listener → seq compacted through · `epochs` listener → u64 · `owners` listener → node · `snapshots` listener →
//! Snapshot (bincode) · `writers` (listener, n) → WriterEvent (the writer journal, capped) · `nodes` node → {info, beat_ms, ttl_ms} · `playlists` (owner,
//! playlist) → Playlist · `catalog` "songs" → Vec<Song> (bincode) · `listeners`
//! listener → () (the registry; written in the append's transaction) · `job_leases`
//! job → {holder, epoch, expires_ms} · `job_epochs` job → u64 · `job_state` (job,
//! field) → bytes · `api_keys` key hash → ApiKey · `api_key_ids` (listener, key id) →
//! key hash · `app_fields` (listener, field) → bytes (Subsonic apps) · `following`
//! (follower, followee) → ms · `followers` (followee, follower) → ms · `blocked`
//! (blocker, blocked) → ms · `privacy` listener → Privacy · `activity` (listener, n) →
//! ActivityEntry (capped; the social graph, [`social`]) · `display_names` listener →
//! name · `people` (name key, listener) → () (people search, [`people`]; built for
//! existing accounts on the first open that has it).

mod accounts;
mod apps;
mod group;
mod jobs;
mod log;
mod people;
mod shared;
mod social;

use async_trait::async_trait;
use redb::{Database, Durability, ReadTransaction, TableDefinition, WriteTransaction};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::catalog::Song;
use accounts::StoredSession;
use shared::StoredBeat;

const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");
const USERNAMES: TableDefinition<&str, &str> = TableDefinition::new("usernames");
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
const SESSION_EXPIRY: TableDefinition<(u64, &str), ()> = TableDefinition::new("session_expiry");
const LOG: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("log");
const LOG_IDS: TableDefinition<(&str, &str), u64> = TableDefinition::new("log_ids");
const LOG_FLOOR: TableDefinition<&str, u64> = TableDefinition::new("log_floor");
const EPOCHS: TableDefinition<&str, u64> = TableDefinition::new("epochs");
const OWNERS: TableDefinition<&str, &str> = TableDefinition::new("owners");
const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshots");
const WRITERS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("writers");
const NODES: TableDefinition<&str, &[u8]> = TableDefinition::new("nodes");
const PLAYLISTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("playlists");
const CATALOG: TableDefinition<&str, &[u8]> = TableDefinition::new("catalog");
const CATALOG_KEY: &str = "songs";
const LISTENERS: TableDefinition<&str, ()> = TableDefinition::new("listeners");
const JOB_LEASES: TableDefinition<&str, &[u8]> = TableDefinition::new("job_leases");
const JOB_EPOCHS: TableDefinition<&str, u64> = TableDefinition::new("job_epochs");
const JOB_STATE: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("job_state");
const API_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("api_keys");
const API_KEY_IDS: TableDefinition<(&str, &str), &str> = TableDefinition::new("api_key_ids");
const APP_FIELDS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("app_fields");
const FOLLOWING: TableDefinition<(&str, &str), u64> = TableDefinition::new("following");
const FOLLOWERS: TableDefinition<(&str, &str), u64> = TableDefinition::new("followers");
const BLOCKED: TableDefinition<(&str, &str), u64> = TableDefinition::new("blocked");
const PRIVACY: TableDefinition<&str, &[u8]> = TableDefinition::new("privacy");
const ACTIVITY: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("activity");
const DISPLAY_NAMES: TableDefinition<&str, &str> = TableDefinition::new("display_names");
const PEOPLE: TableDefinition<(&str, &str), ()> = TableDefinition::new("people");

/// How many expired sessions one `put_session` removes at most. Purging rides on
/// logins, so it must stay cheap per call; at one login per expiry this still keeps
/// up, and a backlog (after a long downtime) drains over the next logins.
const SESSION_PURGE_BATCH: usize = 64;

/// The single-file store. Cloning shares the open database.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    path: PathBuf,
    writer: group::Writer,
}

fn backend(path: &Path, e: impl Into<redb::Error>) -> StoreError {
    match e.into() {
        redb::Error::Corrupted(msg) => {
            StoreError::Corrupt(format!("embedded store {}: {msg}", path.display()))
        }
        redb::Error::DatabaseAlreadyOpen => StoreError::Unavailable(format!(
            "embedded store {}: already open (another spoofify process uses this data dir?)",
            path.display()
        )),
        other => StoreError::Unavailable(format!("embedded store {}: {other}", path.display())),
    }
}

/// `.at(path)`: a redb error, turned into a [`StoreError`] naming the file.
trait At<T> {
    fn at(self, path: &Path) -> StoreResult<T>;
}

impl<T, E: Into<redb::Error>> At<T> for Result<T, E> {
    fn at(self, path: &Path) -> StoreResult<T> {
        self.map_err(|e| backend(path, e))
    }
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store file at `path`, and its parent directory.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        Self::open_batched(path, group::MAX_BATCH).await
    }

    /// Like [`open`](Self::open), but every write pays its own fsync, as before group
    /// commit: for benchmarks that compare the two in one run.
    pub async fn open_without_group_commit(path: &Path) -> StoreResult<Self> {
        Self::open_batched(path, 1).await
    }

    async fn open_batched(path: &Path, max_batch: usize) -> StoreResult<Self> {
        let path = path.to_path_buf();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| Self::open_blocking(path, max_batch)))
            .await
            .map_err(|e| StoreError::Unavailable(format!("embedded store open task: {e}")))?
    }

    fn open_blocking(path: PathBuf, max_batch: usize) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("creating data dir {}: {e}", dir.display()))
            })?;
        }
        let db = Database::create(&path).at(&path)?;
        // Create every table once, so read transactions never meet a missing table.
        let mut txn = db.begin_write().at(&path)?;
        txn.set_durability(Durability::Immediate);
        {
            let p = &path;
            txn.open_table(ACCOUNTS).at(p)?;
            txn.open_table(USERNAMES).at(p)?;
            txn.open_table(SESSIONS).at(p)?;
            txn.open_table(SESSION_EXPIRY).at(p)?;
            txn.open_table(LOG).at(p)?;
            txn.open_table(LOG_IDS).at(p)?;
            txn.open_table(LOG_FLOOR).at(p)?;
            txn.open_table(EPOCHS).at(p)?;
            txn.open_table(OWNERS).at(p)?;
            txn.open_table(SNAPSHOTS).at(p)?;
            txn.open_table(WRITERS).at(p)?;
            txn.open_table(NODES).at(p)?;
            txn.open_table(PLAYLISTS).at(p)?;
            txn.open_table(CATALOG).at(p)?;
            txn.open_table(LISTENERS).at(p)?;
            txn.open_table(JOB_LEASES).at(p)?;
            txn.open_table(JOB_EPOCHS).at(p)?;
            txn.open_table(JOB_STATE).at(p)?;
            txn.open_table(API_KEYS).at(p)?;
            txn.open_table(API_KEY_IDS).at(p)?;
            txn.open_table(APP_FIELDS).at(p)?;
            txn.open_table(FOLLOWING).at(p)?;
            txn.open_table(FOLLOWERS).at(p)?;
            txn.open_table(BLOCKED).at(p)?;
            txn.open_table(PRIVACY).at(p)?;
            txn.open_table(ACTIVITY).at(p)?;
            txn.open_table(DISPLAY_NAMES).at(p)?;
            txn.open_table(PEOPLE).at(p)?;
            people::backfill(&txn, p)?;
        }
        txn.commit().at(&path)?;
        tracing::info!(path = %path.display(), "embedded store open");
        let writer = group::Writer::start(&path, max_batch)?;
        Ok(Self {
            db: Arc::new(db),
            path,
            writer,
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in a read transaction on the blocking pool.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction, &Path) -> StoreResult<T> + Send + 'static,
    {
        let this = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let txn = this.db.begin_read().at(&this.path)?;
                f(&txn, &this.path)
            })
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("embedded store task: {e}")))?
    }

    /// Runs `f` in a read transaction on the calling thread: only for a few point
    /// reads, which take less time than a trip through the blocking pool (see the
    /// module docs). A read transaction never waits for the writer (redb is MVCC).
    fn read_inline<T>(
        &self,
        f: impl FnOnce(&ReadTransaction, &Path) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let txn = self.db.begin_read().at(&self.path)?;
        f(&txn, &self.path)
    }

    /// Runs `f` in its own write transaction on the writer thread and answers once
    /// it is durable (group commit, see the module docs); when `f` fails nothing is
    /// written.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: Fn(&WriteTransaction, &Path) -> StoreResult<T> + Send + 'static,
    {
        self.writer.write(self.db.clone(), f).await
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|txn, p| txn.open_table(CATALOG).at(p).map(|_| ()))
            .await
    }

    async fn create_account(&self, account: &Account) -> StoreResult<()> {
        let account = account.clone();
        self.write(move |txn, p| {
            accounts::create(txn, p, &account)?;
            people::index_new_account(txn, p, &account)
        })
        .await
    }

    async fn account(&self, id: &ListenerId) -> StoreResult<Option<Account>> {
        let id = id.clone();
        self.read(move |txn, p| accounts::by_id(txn, p, &id)).await
    }

    async fn account_by_username(&self, username: &Username) -> StoreResult<Option<Account>> {
        let username = username.clone();
        self.read(move |txn, p| accounts::by_username(txn, p, &username))
            .await
    }

    async fn set_preferences(&self, id: &ListenerId, prefs: &Preferences) -> StoreResult<()> {
        let (id, prefs) = (id.clone(), prefs.clone());
        self.write(move |txn, p| accounts::set_preferences(txn, p, &id, prefs.clone()))
            .await
    }

    async fn put_session(&self, session: &Session, ttl: Duration) -> StoreResult<()> {
        let now = now_ms();
        let stored = StoredSession {
            session: session.clone(),
            expires_ms: now.saturating_add(ttl_millis(ttl)),
        };
        self.write(move |txn, p| accounts::put_session(txn, p, &stored, now))
            .await
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let token = token_hash.to_owned();
        self.read(move |txn, p| accounts::session(txn, p, &token, now_ms()))
            .await
    }

    async fn session_check(&self, key: &str) -> StoreResult<Option<SessionCheck>> {
        self.read_inline(|txn, p| accounts::session_check(txn, p, key, now_ms()))
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token = token_hash.to_owned();
        self.write(move |txn, p| accounts::delete_session(txn, p, &token))
            .await
    }

    async fn refresh_session(&self, session: &Session, ttl: Duration) -> StoreResult<bool> {
        let now = now_ms();
        let stored = StoredSession {
            session: session.clone(),
            expires_ms: now.saturating_add(ttl_millis(ttl)),
        };
        self.write(move |txn, p| accounts::refresh_session(txn, p, &stored, now))
            .await
    }

    async fn revoke_sessions(
        &self,
        id: &ListenerId,
        password_hash: Option<&str>,
    ) -> StoreResult<u64> {
        let (id, hash) = (id.clone(), password_hash.map(str::to_owned));
        self.write(move |txn, p| accounts::revoke_sessions(txn, p, &id, hash.clone()))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
    async fn append_interaction(
        &self,
        listener: &ListenerId,
        interaction: &Interaction,
    ) -> StoreResult<Appended> {
        let (listener, interaction) = (listener.clone(), interaction.clone());
        self.write(move |txn, p| {
            jobs::register_listener(txn, p, &listener)?;
            log::append(txn, p, &listener, &interaction)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
    async fn append_and_share(
        &self,
        listener: &ListenerId,
        interaction: &Interaction,
        share: &ActivityEntry,
    ) -> StoreResult<(Appended, bool)> {
        let (listener, interaction, share) = (listener.clone(), interaction.clone(), share.clone());
        self.write(move |txn, p| {
            jobs::register_listener(txn, p, &listener)?;
            let appended = log::append(txn, p, &listener, &interaction)?;
            let shared = !appended.duplicate && social::push_activity(txn, p, &listener, &share)?;
            Ok((appended, shared))
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
    async fn read_interactions(
        &self,
        listener: &ListenerId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LoggedInteraction>> {
        if super::empty_read(after, limit) {
            return Ok(Vec::new());
        }
        // The common case: a caught-up reader (a listener's actor asks before every
        // feed) finds nothing after `after`. One point read says so inline; only a read
        // with entries to decode goes through the blocking pool.
        if self.read_inline(|txn, p| log::last_seq(txn, p, listener))? <= after {
            return Ok(Vec::new());
        }
        let listener = listener.clone();
        self.read(move |txn, p| log::read(txn, p, &listener, after, limit))
            .await
    }

    async fn last_seq(&self, listener: &ListenerId) -> StoreResult<u64> {
        let listener = listener.clone();
        self.read(move |txn, p| log::last_seq(txn, p, &listener))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
    async fn compact_log(
        &self,
        listener: &ListenerId,
        epoch: u64,
        keep_last: u64,
    ) -> StoreResult<Compaction> {
        let listener = listener.clone();
        self.write(move |txn, p| log::compact(txn, p, &listener, epoch, keep_last))
            .await
    }

    async fn log_floor(&self, listener: &ListenerId) -> StoreResult<u64> {
        let listener = listener.clone();
        self.read(move |txn, p| log::floor(txn, p, &listener)).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
    async fn acquire_epoch(&self, listener: &ListenerId, node: &NodeId) -> StoreResult<u64> {
        let (listener, node) = (listener.clone(), node.clone());
        self.write(move |txn, p| log::acquire_epoch(txn, p, &listener, &node))
            .await
    }

    async fn current_epoch(&self, listener: &ListenerId) -> StoreResult<u64> {
        let listener = listener.clone();
        self.read(move |txn, p| log::current_epoch(txn, p, &listener))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
    async fn put_snapshot(&self, listener: &ListenerId, snapshot: &Snapshot) -> StoreResult<()> {
        let (listener, snapshot) = (listener.clone(), snapshot.clone());
        self.write(move |txn, p| log::put_snapshot(txn, p, &listener, &snapshot))
            .await
    }

    async fn writer_journal(&self, listener: &ListenerId) -> StoreResult<Vec<WriterEvent>> {
        let listener = listener.clone();
        self.read(move |txn, p| log::writer_journal(txn, p, &listener))
            .await
    }

    async fn snapshot(&self, listener: &ListenerId) -> StoreResult<Option<Snapshot>> {
        let listener = listener.clone();
        self.read(move |txn, p| log::snapshot(txn, p, &listener))
            .await
    }

    async fn heartbeat(&self, node: &NodeInfo, ttl: Duration) -> StoreResult<()> {
        let beat = StoredBeat {
            info: node.clone(),
            beat_ms: now_ms(),
            ttl_ms: ttl_millis(ttl),
        };
        self.write(move |txn, p| shared::heartbeat(txn, p, &beat))
            .await
    }

    async fn live_nodes(&self) -> StoreResult<Vec<LiveNode>> {
        self.read(|txn, p| shared::live_nodes(txn, p, now_ms()))
            .await
    }

    async fn deregister(&self, node: &NodeId) -> StoreResult<()> {
        let node = node.clone();
        self.write(move |txn, p| shared::deregister(txn, p, &node))
            .await
    }

    async fn put_playlist(&self, playlist: &Playlist) -> StoreResult<()> {
        let playlist = playlist.clone();
        self.write(move |txn, p| shared::put_playlist(txn, p, &playlist))
            .await
    }

    async fn playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<Option<Playlist>> {
        let (owner, id) = (owner.clone(), id.clone());
        self.read(move |txn, p| shared::playlist(txn, p, &owner, &id))
            .await
    }

    async fn playlists(&self, owner: &ListenerId) -> StoreResult<Vec<Playlist>> {
        let owner = owner.clone();
        self.read(move |txn, p| shared::playlists(txn, p, &owner))
            .await
    }

    async fn delete_playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<()> {
        let (owner, id) = (owner.clone(), id.clone());
        self.write(move |txn, p| shared::delete_playlist(txn, p, &owner, &id))
            .await
    }

    async fn put_catalog(&self, songs: &[Song]) -> StoreResult<()> {
        let songs = songs.to_vec();
        self.write(move |txn, p| shared::put_catalog(txn, p, &songs))
            .await
    }

    async fn catalog(&self) -> StoreResult<Vec<Song>> {
        self.read(shared::catalog).await
    }

    async fn listeners(
        &self,
        after: Option<&ListenerId>,
        limit: usize,
    ) -> StoreResult<Vec<ListenerId>> {
        let after = after.cloned();
        self.read(move |txn, p| jobs::listeners(txn, p, after.as_ref(), limit))
            .await
    }

    async fn acquire_job_lease(
        &self,
        job: &JobName,
        holder: &LeaseHolder,
        ttl: Duration,
    ) -> StoreResult<LeaseGrant> {
        let (job, holder, ttl_ms) = (job.clone(), holder.clone(), ttl_millis(ttl));
        self.write(move |txn, p| jobs::acquire_lease(txn, p, &job, &holder, ttl_ms, now_ms()))
            .await
    }

    async fn release_job_lease(
        &self,
        job: &JobName,
        holder: &LeaseHolder,
        epoch: u64,
    ) -> StoreResult<()> {
        let (job, holder) = (job.clone(), holder.clone());
        self.write(move |txn, p| jobs::release_lease(txn, p, &job, &holder, epoch))
            .await
    }

    async fn put_job_state(
        &self,
        job: &JobName,
        epoch: u64,
        fields: &[JobField],
    ) -> StoreResult<()> {
        let (job, fields) = (job.clone(), fields.to_vec());
        self.write(move |txn, p| jobs::put_state(txn, p, &job, epoch, &fields))
            .await
    }

    async fn job_state_field(&self, job: &JobName, field: &str) -> StoreResult<Option<Vec<u8>>> {
        let (job, field) = (job.clone(), field.to_owned());
        self.read(move |txn, p| jobs::state_field(txn, p, &job, &field))
            .await
    }

    async fn job_state(&self, job: &JobName) -> StoreResult<Vec<JobField>> {
        let job = job.clone();
        self.read(move |txn, p| jobs::state(txn, p, &job)).await
    }

    // ---- Subsonic apps ------------------------------------------------------------

    async fn put_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        let key = key.clone();
        self.write(move |txn, p| apps::put_api_key(txn, p, &key))
            .await
    }

    async fn api_key(&self, hash: &str) -> StoreResult<Option<ApiKey>> {
        let hash = hash.to_owned();
        self.read(move |txn, p| apps::api_key(txn, p, &hash)).await
    }

    async fn api_keys(&self, listener: &ListenerId) -> StoreResult<Vec<ApiKey>> {
        let listener = listener.clone();
        self.read(move |txn, p| apps::api_keys(txn, p, &listener))
            .await
    }

    async fn delete_api_key(&self, listener: &ListenerId, id: &str) -> StoreResult<bool> {
        let (listener, id) = (listener.clone(), id.to_owned());
        self.write(move |txn, p| apps::delete_api_key(txn, p, &listener, &id))
            .await
    }

    async fn put_app_field(
        &self,
        listener: &ListenerId,
        field: &str,
        value: Option<&[u8]>,
    ) -> StoreResult<()> {
        let (listener, field) = (listener.clone(), field.to_owned());
        let value = value.map(<[u8]>::to_vec);
        self.write(move |txn, p| apps::put_app_field(txn, p, &listener, &field, value.as_deref()))
            .await
    }

    async fn app_field(&self, listener: &ListenerId, field: &str) -> StoreResult<Option<Vec<u8>>> {
        let (listener, field) = (listener.clone(), field.to_owned());
        self.read(move |txn, p| apps::app_field(txn, p, &listener, &field))
            .await
    }

    // ---- social graph, privacy and activity -------------------------------------------

    async fn follow(
        &self,
        follower: &ListenerId,
        followee: &ListenerId,
    ) -> StoreResult<FollowOutcome> {
        let (a, b, now) = (follower.clone(), followee.clone(), now_ms());
        self.write(move |txn, p| social::follow(txn, p, &a, &b, now))
            .await
    }

    async fn unfollow(&self, follower: &ListenerId, followee: &ListenerId) -> StoreResult<()> {
        let (a, b) = (follower.clone(), followee.clone());
        self.write(move |txn, p| social::unfollow(txn, p, &a, &b))
            .await
    }

    async fn following(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>> {
        let l = listener.clone();
        self.read(move |txn, p| social::edges(txn, p, FOLLOWING, &l, limit))
            .await
    }

    async fn followers(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>> {
        let l = listener.clone();
        self.read(move |txn, p| social::edges(txn, p, FOLLOWERS, &l, limit))
            .await
    }

    async fn block(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<()> {
        let (a, b, now) = (blocker.clone(), blocked.clone(), now_ms());
        self.write(move |txn, p| social::block(txn, p, &a, &b, now))
            .await
    }

    async fn unblock(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<()> {
        let (a, b) = (blocker.clone(), blocked.clone());
        self.write(move |txn, p| social::unblock(txn, p, &a, &b))
            .await
    }

    async fn blocked(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>> {
        let l = listener.clone();
        self.read(move |txn, p| social::edges(txn, p, BLOCKED, &l, limit))
            .await
    }

    async fn is_blocked(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<bool> {
        let (a, b) = (blocker.clone(), blocked.clone());
        self.read(move |txn, p| social::is_blocked(txn, p, &a, &b))
            .await
    }

    async fn privacy(&self, listener: &ListenerId) -> StoreResult<Privacy> {
        let l = listener.clone();
        self.read(move |txn, p| social::privacy(txn, p, &l)).await
    }

    async fn set_privacy(&self, listener: &ListenerId, privacy: &Privacy) -> StoreResult<()> {
        let (l, privacy) = (listener.clone(), *privacy);
        self.write(move |txn, p| social::set_privacy(txn, p, &l, &privacy))
            .await
    }

    async fn push_activity(
        &self,
        listener: &ListenerId,
        entry: &ActivityEntry,
    ) -> StoreResult<bool> {
        let (l, entry) = (listener.clone(), entry.clone());
        self.write(move |txn, p| social::push_activity(txn, p, &l, &entry))
            .await
    }

    async fn activity(
        &self,
        listener: &ListenerId,
        limit: usize,
    ) -> StoreResult<Vec<ActivityEntry>> {
        let l = listener.clone();
        self.read(move |txn, p| social::activity(txn, p, &l, limit))
            .await
    }

    async fn visible_activity(
        &self,
        owner: &ListenerId,
        viewer: &ListenerId,
        limit: usize,
    ) -> StoreResult<Vec<ActivityEntry>> {
        let (o, v) = (owner.clone(), viewer.clone());
        self.read(move |txn, p| social::visible_activity(txn, p, &o, &v, limit))
            .await
    }

    async fn display_name(&self, listener: &ListenerId) -> StoreResult<Option<DisplayName>> {
        let l = listener.clone();
        self.read(move |txn, p| people::display_name(txn, p, &l))
            .await
    }

    async fn set_display_name(
        &self,
        listener: &ListenerId,
        name: Option<&DisplayName>,
    ) -> StoreResult<()> {
        let (l, name) = (listener.clone(), name.cloned());
        self.write(move |txn, p| people::set_display_name(txn, p, &l, name.as_ref()))
            .await
    }

    async fn find_people(&self, prefix: &str, limit: usize) -> StoreResult<Vec<ListenerId>> {
        let prefix = prefix.to_owned();
        self.read(move |txn, p| people::find_people(txn, p, &prefix, limit))
            .await
    }
}
