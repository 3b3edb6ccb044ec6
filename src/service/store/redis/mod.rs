//! The Redis store: what a cluster of nodes shares.
//!
//! One server or a Redis Cluster (`redis` / `redis_cluster` settings): `conn` hides
//! which, so every method below is written once. On one server a multiplexed
//! `ConnectionManager` (reconnects by itself) carries every call; on a cluster the
//! redis crate's `cluster_async` client routes each call to its slot's master and
//! handles MOVED/ASK, reconnection and failover — one such client per master
//! (`lanes`), so a failing master holds up only its own slots. Steps that must be atomic are Lua
//! scripts (`src/store/lua/*.lua`, loaded by SHA and re-sent when a restarted or
//! promoted server has forgotten them).
//!
//! ## One slot per call
//! Every call touches keys of one hash tag only, so a cluster never answers CROSSSLOT:
//! a listener's keys share `{L}`, the node registry `{nodes}`, the listener registry
//! `{listeners}`, people search's index `{people}`, a job `{job:<name>}`; a session whose
//! key names its listener shares `{L}` (so its check reads it and the account in one
//! pipeline); usernames, older sessions, devices and the catalog are single keys. Where one operation spans tags it is several calls, each safe alone (an
//! append registers the listener first; an account claims its username first).
//! Scripts declare every key they touch (`live_nodes` reads the ids first). Nothing
//! scans the key space (no `KEYS`/`SCAN`), so nothing must visit every master.
//!
//! ## Retries re-send
//! The cluster client re-sends a call after a connection error, MOVED, TRYAGAIN or
//! CLUSTERDOWN, so any call may run twice. Each one is safe to: appends are idempotent
//! by client id; a second `acquire_epoch` skips a number (a newer epoch still fences
//! the older); a re-sent username claim finds its own id (taken back, see
//! `accounts::claim_username`); a re-sent account write finds its own call token.
//!
//! ## Key layout
//! Everything lives under `spoofify:`. Per-listener keys carry the listener id as a
//! hash tag, so a listener's keys share one Redis Cluster slot and a script may touch
//! several of them:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `spoofify:{L}:account` | hash | `core` (id, username, argon2id hash, created), `prefs` (JSON), `epoch` (sessions before it are void), `display` (the display name, if set) |
//! | `spoofify:username:<name>` | string | the listener id that owns the name (claimed with `SET NX`) |
//! | `spoofify:{L}:session:<token hash>` | string, `PX` TTL | the session (JSON), for a key `<L>.<token hash>` (tokens made since 2026-12-06: `<L>.<random>`) |
//! | `spoofify:session:<token hash>` | string, `PX` TTL | an older session, or a device record (JSON) |
//! | `spoofify:{L}:log` | stream | interactions; entry id `<seq>-0`, field `i` = JSON |
//! | `spoofify:{L}:log-ids` | hash | client id → seq (the idempotency record) |
//! | `spoofify:{L}:log-floor` | string | seq the log was compacted through (`compact_log.lua`) |
//! | `spoofify:{L}:epoch` | string | the fencing epoch (`INCR`) |
//! | `spoofify:{L}:owner` | string | the node that took the current epoch |
//! | `spoofify:{L}:snapshot` | hash | `epoch`, `covers_seq`, `bytes` |
//! | `spoofify:{L}:writers` | list | the writer journal: `a\|ms\|epoch\|node`, `w\|ms\|epoch\|covers_seq`, `f\|ms\|epoch\|current` (capped) |
//! | `spoofify:{L}:playlists` | hash | playlist id → playlist (JSON) |
//! | `spoofify:{L}:apikeys` | hash | API key id → ApiKey (JSON; Subsonic apps) |
//! | `spoofify:apikey:<hash>` | string | ApiKey (JSON): the lookup by key hash |
//! | `spoofify:{L}:app` | hash | app fields: sealed app password, play queue, now playing |
//! | `spoofify:{L}:following` | sorted set | followee id, score = when followed (ms); `social` |
//! | `spoofify:{L}:followers` | sorted set | follower id, score = when (ms) |
//! | `spoofify:{L}:blocked` | sorted set | blocked id, score = when (ms) |
//! | `spoofify:{L}:privacy` | hash | `share` (1/0), `private_until` (ms) |
//! | `spoofify:{L}:activity` | list | activity entries (JSON), newest first, capped at `ACTIVITY_CAP` |
//! | `spoofify:{nodes}:registry` | set | node ids that have beaten (on a Redis Cluster also under `{nodes-1}` and `{nodes-2}`: three copies, see `shared`) |
//! | `spoofify:{nodes}:node:<id>` | string, `PX` TTL | `{info, ttl_ms}` (JSON); copies as above |
//! | `spoofify:catalog` | string | the catalog, `Vec<Song>` in bincode |
//! | `spoofify:{people}:names` | sorted set (scores 0) | people search: `name key\0listener` per key a listener is found under (`people`) |
//! | `spoofify:{listeners}:registry` | sorted set (scores 0) | every listener with a log (added before its first append) |
//! | `spoofify:{job:<name>}:lease` | string, `PX` TTL | a background job's lease: `holder\|epoch` |
//! | `spoofify:{job:<name>}:epoch` | string | the job's fencing epoch (`INCR` on each new lease) |
//! | `spoofify:{job:<name>}:state` | hash | the job's state fields, written only with the current epoch |
//!
//! A stream per listener keeps sequence numbers equal to entry ids, so "read after
//! seq N" is one `XRANGE`, and nothing ever trims it (no `MAXLEN`). Node keys share
//! the `{nodes}` tag so `live_nodes` is one script over one slot (per copy).
//!
//! ## Scripts
//! - `append.lua`: if the client id is in `log-ids`, return its seq with
//!   duplicate=true; else take the next seq, `XADD` the entry and record the id (and,
//!   for a finish or like, share it: `social`). For `POST /api/interactions` it first
//!   checks the request's session in the same step (`Store::append_checked`: the
//!   session key and the account hash sit in the listener's slot) and writes nothing
//!   unless the session signs in — one round trip and one fsync wait per interaction.
//! - `acquire_epoch.lua` (after `take_epoch.lua`, which `activate.lua` begins with too):
//!   `INCR` the epoch, record the owner, journal the activation.
//! - `put_snapshot.lua`: write the snapshot only if the epoch counter equals the
//!   writer's epoch; else report the current epoch (→ [`StoreError::Fenced`]).
//!   Either way the outcome is journaled in the same step (Redis's clock: `TIME`).
//! - `live_nodes.lua`: list registry members whose heartbeat key holds, with its
//!   remaining TTL (age = TTL − remaining, by Redis's own clock), and drop expired ones.
//! - `follow.lua`, `edge_add.lua`, `edge_remove.lua`, `block.lua`, `set_privacy.lua`,
//!   `push_activity.lua`, `visible_activity.lua`: the social graph's steps, one
//!   listener's side each (see `social`).
//! - `acquire_job_lease.lua`, `release_job_lease.lua`, `put_job_state.lua`: a job's
//!   lease (new epoch when free, renewal by its holder), and its state written only
//!   with the current epoch — the listener epochs' fencing, for cluster-wide jobs.
//! - `create_account.lua`, `set_preferences.lua`, `revoke_sessions.lua`,
//!   `release_username.lua`: write an account hash only if absent / only if present; undo a username claim only if it
//!   is still ours. (The username key and the account live in different slots, so
//!   account creation is claim-then-write, with the claim released if the write fails.)
//!
//! ## What "durable" means here
//! A reply means the write reached Redis's AOF *buffer* as one unit (scripts are
//! atomic in the AOF too). Whether it is on disk depends on the server's policy:
//! - `appendfsync always`: Redis fsyncs the AOF before it sends the reply, so an
//!   acknowledged append survives a crash of Redis or of the machine. This is the
//!   policy under which "an acknowledged interaction is never lost" holds.
//! - `appendfsync everysec` (Redis's default): the reply can precede the fsync by up
//!   to ~1 s (2 s if the disk stalls); a Redis *process* crash loses nothing (the
//!   kernel has the data), but a machine crash or power loss can lose the last second
//!   of acknowledged writes.
//! - `appendfsync no` / AOF off: no durability claim at all.
//!
//! Redis 7.0 (Debian 12) has no `WAITAOF`, so the client cannot ask for the fsync
//! per write; the operator's config decides, and the chaos harness states which policy
//! it ran under.
//!
//! The AOF is one machine's. Replication is asynchronous: a master that dies before
//! its replica copied a write loses it at failover (the replica is promoted without
//! it and the old master discards it when it rejoins). `durability = "replicated"`
//! closes that gap for appends, leases, fencing epochs and fenced writes: they are
//! acknowledged only after `WAIT` confirms a replica has them (`conn::Durable`), and a
//! write that is not confirmed in time is `Unavailable` (503), never acknowledged.
//!
//! Everything read back is parsed again: a value that does not decode, a key of the
//! wrong type or a malformed reply becomes [`StoreError::Corrupt`], never a panic.

mod accounts;
mod apps;
mod conn;
mod jobs;
mod keys;
mod lanes;
mod log;
mod people;
mod shared;
mod social;
mod watch;

use ::redis::{ErrorKind, RedisError};
use async_trait::async_trait;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::*;
use crate::catalog::Song;
use crate::config::Durability;
use conn::{Conn, Durable, DurableError, WritePolicy};

/// Which Redis to connect to.
#[derive(Debug, Clone)]
pub enum RedisTarget {
    /// One server: `redis://host:port/db`.
    Server(String),
    /// A Redis Cluster: seed URLs (any reachable one is enough to find the rest).
    Cluster(Vec<String>),
}

/// Connections that carry `durability = "replicated"` writes. A `WAIT` blocks its
/// connection until a replica answers, and everything queued behind it waits too; on
/// one multiplexed connection replicated writes would go one at a time. Spread over
/// several, their waits overlap (measured: see README "Redis Cluster").
const DURABLE_CONNECTIONS: usize = 8;

/// The Redis-backed store. Cloning shares the connections.
#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    /// Where replicated writes go, round-robin (empty with `durability = "local"`:
    /// they use `conn`).
    durable_conns: Arc<[Conn]>,
    next_durable: Arc<std::sync::atomic::AtomicUsize>,
    /// The server URL (or the cluster's seeds) with any password hidden, for errors and logs.
    url: String,
    policy: WritePolicy,
    /// Listeners this process put in the registry, and when (see `ensure_registered`).
    registered: Arc<std::sync::Mutex<HashMap<ListenerId, Instant>>>,
}

/// How long a listener counts as registered by this process before its next append
/// registers it again (cheap insurance against a registry write lost in a failover).
const REGISTERED_FOR: Duration = Duration::from_secs(300);
/// Most listeners remembered as registered; past it the memory starts over.
const REGISTERED_MAX: usize = 65_536;

/// The URL with the userinfo part (`user:password@`) replaced, fit for errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl RedisTarget {
    /// How errors and logs name it (passwords hidden).
    pub fn shown(&self) -> String {
        match self {
            RedisTarget::Server(url) => redact_url(url),
            RedisTarget::Cluster(seeds) => format!(
                "cluster {}",
                seeds
                    .iter()
                    .map(|s| redact_url(s))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://host:port/db`) and checks it answers;
    /// writes are acknowledged as `durability = "local"`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_to(
            &RedisTarget::Server(url.to_owned()),
            Durability::Local,
            Duration::from_millis(crate::config::DEFAULT_DURABILITY_TIMEOUT_MS),
        )
        .await
    }

    /// Connects to a server or a cluster and checks it answers (every node, for a
    /// cluster). With `Durability::Replicated`, appends, leases and fencing-epoch
    /// writes wait up to `timeout` for a replica (see `conn`).
    #[tracing::instrument(skip_all, fields(redis = %target.shown(), durability = durability.as_str()))]
    pub async fn connect_to(
        target: &RedisTarget,
        durability: Durability,
        timeout: Duration,
    ) -> StoreResult<Self> {
        let shown = target.shown();
        let unavailable =
            |e: RedisError| StoreError::Unavailable(format!("cannot reach Redis at {shown}: {e}"));
        let router = Arc::new(lanes::Router::from_env());
        let connect = |wait: Duration| {
            let router = router.clone();
            async move {
                match target {
                    RedisTarget::Server(url) => Conn::single(url).await,
                    RedisTarget::Cluster(seeds) => Conn::cluster(seeds, router, wait).await,
                }
                .map_err(unavailable)
            }
        };
        let conn = connect(Duration::ZERO).await?;
        let mut durable_conns = Vec::new();
        if durability == Durability::Replicated {
            for _ in 0..DURABLE_CONNECTIONS {
                durable_conns.push(connect(timeout).await?);
            }
        }
        let store = Self {
            conn,
            durable_conns: durable_conns.into(),
            next_durable: Arc::default(),
            url: shown.clone(),
            policy: WritePolicy {
                durability,
                timeout,
            },
            registered: Arc::default(),
        };
        store.ping().await?;
        tracing::info!(cluster = store.conn.is_cluster(), "redis store connected");
        Ok(store)
    }

    /// Puts `listener` in the registry unless this process did so recently: an append
    /// costs one round trip, not two, for a listener already known.
    async fn ensure_registered(&self, listener: &ListenerId) -> StoreResult<()> {
        let now = Instant::now();
        let fresh = |map: &HashMap<ListenerId, Instant>| {
            map.get(listener)
                .is_some_and(|at| now.duration_since(*at) < REGISTERED_FOR)
        };
        if self.registered.lock().is_ok_and(|map| fresh(&map)) {
            return Ok(());
        }
        jobs::register_listener(self, listener).await?;
        if let Ok(mut map) = self.registered.lock() {
            if map.len() >= REGISTERED_MAX {
                map.clear();
            }
            map.insert(listener.clone(), now);
        }
        Ok(())
    }

    fn conn(&self) -> Conn {
        self.conn.clone()
    }

    /// Runs a script on the durable write path (appends, leases, fencing epochs).
    async fn durable<T: ::redis::FromRedisValue>(
        &self,
        call: Durable<'_>,
        op: &str,
    ) -> StoreResult<T> {
        let mut conn = match self.durable_conns.len() {
            0 => self.conn(),
            n => {
                let i = self
                    .next_durable
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.durable_conns[i % n].clone()
            }
        };
        match call.invoke(&mut conn, self.policy).await {
            Ok(v) => Ok(v),
            Err(DurableError::Redis(e)) => Err(self.err(op)(e)),
            Err(e @ DurableError::NotReplicated { .. }) => Err(StoreError::Unavailable(format!(
                "redis at {} ({op}): {e}",
                self.url
            ))),
        }
    }

    /// Maps a Redis error: wrong key types and unexpected reply shapes are corrupt
    /// data; everything else means Redis could not do it.
    fn err(&self, op: &str) -> impl Fn(RedisError) -> StoreError + '_ {
        let op = op.to_owned();
        move |e: RedisError| {
            let corrupt = matches!(e.kind(), ErrorKind::UnexpectedReturnType | ErrorKind::Parse)
                || matches!(e.code(), Some("WRONGTYPE") | Some("CORRUPT"));
            if corrupt {
                StoreError::Corrupt(format!("redis {op}: {e}"))
            } else {
                StoreError::Unavailable(format!("redis at {} ({op}): {e}", self.url))
            }
        }
    }
}

#[async_trait]
impl Store for RedisStore {
    fn kind(&self) -> &'static str {
        if self.conn.is_cluster() {
            "redis-cluster"
        } else {
            "redis"
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        let pong: String = ::redis::cmd("PING")
            .query_async(&mut self.conn())
            .await
            .map_err(self.err("PING"))?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!(
                "redis at {}: PING answered {pong:?}",
                self.url
            )))
        }
    }

    async fn create_account(&self, account: &Account) -> StoreResult<()> {
        // Indexed for people search first, so every account is in the index; the entry
        // of a sign-up refused for its name is removed again (readers skip it anyway).
        people::index_new_account(self, account).await?;
        let created = accounts::create_account(self, account).await;
        if matches!(created, Err(StoreError::Conflict(_))) {
            people::unindex_failed_signup(self, account).await;
        }
        created
    }

    async fn account(&self, id: &ListenerId) -> StoreResult<Option<Account>> {
        accounts::account(self, id).await
    }

    async fn account_by_username(&self, username: &Username) -> StoreResult<Option<Account>> {
        accounts::account_by_username(self, username).await
    }

    async fn set_preferences(&self, id: &ListenerId, prefs: &Preferences) -> StoreResult<()> {
        accounts::set_preferences(self, id, prefs).await
    }

    async fn put_session(&self, session: &Session, ttl: Duration) -> StoreResult<()> {
        accounts::put_session(self, session, ttl).await
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        accounts::session(self, token_hash).await
    }

    async fn session_check(&self, key: &str) -> StoreResult<Option<SessionCheck>> {
        accounts::session_check(self, key).await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        accounts::delete_session(self, token_hash).await
    }

    async fn refresh_session(&self, session: &Session, ttl: Duration) -> StoreResult<bool> {
        accounts::refresh_session(self, session, ttl).await
    }

    async fn revoke_sessions(
        &self,
        id: &ListenerId,
        password_hash: Option<&str>,
    ) -> StoreResult<u64> {
        accounts::revoke_sessions(self, id, password_hash).await
    }

    async fn append_interaction(
        &self,
        listener: &ListenerId,
        interaction: &Interaction,
    ) -> StoreResult<Appended> {
        log::append_interaction(self, listener, interaction).await
    }

    async fn append_and_share(
        &self,
        listener: &ListenerId,
        interaction: &Interaction,
        share: &ActivityEntry,
    ) -> StoreResult<(Appended, bool)> {
        log::append_and_share(self, listener, interaction, share).await
    }

    async fn append_checked(
        &self,
        session_key: &str,
        interaction: &Interaction,
        share: Option<&ActivityEntry>,
    ) -> StoreResult<CheckedAppend> {
        log::append_checked(self, session_key, interaction, share).await
    }

    async fn read_interactions(
        &self,
        listener: &ListenerId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LoggedInteraction>> {
        log::read_interactions(self, listener, after, limit).await
    }

    async fn last_seq(&self, listener: &ListenerId) -> StoreResult<u64> {
        log::last_seq(self, listener).await
    }

    async fn compact_log(
        &self,
        listener: &ListenerId,
        epoch: u64,
        keep_last: u64,
    ) -> StoreResult<Compaction> {
        log::compact_log(self, listener, epoch, keep_last).await
    }

    async fn log_floor(&self, listener: &ListenerId) -> StoreResult<u64> {
        log::log_floor(self, listener).await
    }

    async fn acquire_epoch(&self, listener: &ListenerId, node: &NodeId) -> StoreResult<u64> {
        log::acquire_epoch(self, listener, node).await
    }

    async fn current_epoch(&self, listener: &ListenerId) -> StoreResult<u64> {
        log::current_epoch(self, listener).await
    }

    async fn put_snapshot(&self, listener: &ListenerId, snapshot: &Snapshot) -> StoreResult<()> {
        log::put_snapshot(self, listener, snapshot).await
    }

    async fn writer_journal(&self, listener: &ListenerId) -> StoreResult<Vec<WriterEvent>> {
        log::writer_journal(self, listener).await
    }

    async fn snapshot(&self, listener: &ListenerId) -> StoreResult<Option<Snapshot>> {
        log::snapshot(self, listener).await
    }

    async fn activate(
        &self,
        listener: &ListenerId,
        node: &NodeId,
        page: usize,
    ) -> StoreResult<Activated> {
        log::activate(self, listener, node, page).await
    }

    async fn heartbeat(&self, node: &NodeInfo, ttl: Duration) -> StoreResult<()> {
        shared::heartbeat(self, node, ttl).await
    }

    async fn live_nodes(&self) -> StoreResult<Vec<LiveNode>> {
        shared::live_nodes(self).await
    }

    async fn deregister(&self, node: &NodeId) -> StoreResult<()> {
        shared::deregister(self, node).await
    }

    async fn put_playlist(&self, playlist: &Playlist) -> StoreResult<()> {
        shared::put_playlist(self, playlist).await
    }

    async fn playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<Option<Playlist>> {
        shared::playlist(self, owner, id).await
    }

    async fn playlists(&self, owner: &ListenerId) -> StoreResult<Vec<Playlist>> {
        shared::playlists(self, owner).await
    }

    async fn delete_playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<()> {
        shared::delete_playlist(self, owner, id).await
    }

    async fn put_catalog(&self, songs: &[Song]) -> StoreResult<()> {
        shared::put_catalog(self, songs).await
    }

    async fn catalog(&self) -> StoreResult<Vec<Song>> {
        shared::catalog(self).await
    }

    async fn listeners(
        &self,
        after: Option<&ListenerId>,
        limit: usize,
    ) -> StoreResult<Vec<ListenerId>> {
        jobs::listeners(self, after, limit).await
    }

    async fn acquire_job_lease(
        &self,
        job: &JobName,
        holder: &LeaseHolder,
        ttl: Duration,
    ) -> StoreResult<LeaseGrant> {
        jobs::acquire_lease(self, job, holder, ttl).await
    }

    async fn release_job_lease(
        &self,
        job: &JobName,
        holder: &LeaseHolder,
        epoch: u64,
    ) -> StoreResult<()> {
        jobs::release_lease(self, job, holder, epoch).await
    }

    async fn put_job_state(
        &self,
        job: &JobName,
        epoch: u64,
        fields: &[JobField],
    ) -> StoreResult<()> {
        jobs::put_state(self, job, epoch, fields).await
    }

    async fn job_state_field(&self, job: &JobName, field: &str) -> StoreResult<Option<Vec<u8>>> {
        jobs::state_field(self, job, field).await
    }

    async fn job_state(&self, job: &JobName) -> StoreResult<Vec<JobField>> {
        jobs::state(self, job).await
    }

    // ---- Subsonic apps ------------------------------------------------------------

    async fn put_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        apps::put_api_key(self, key).await
    }

    async fn api_key(&self, hash: &str) -> StoreResult<Option<ApiKey>> {
        apps::api_key(self, hash).await
    }

    async fn api_keys(&self, listener: &ListenerId) -> StoreResult<Vec<ApiKey>> {
        apps::api_keys(self, listener).await
    }

    async fn delete_api_key(&self, listener: &ListenerId, id: &str) -> StoreResult<bool> {
        apps::delete_api_key(self, listener, id).await
    }

    async fn put_app_field(
        &self,
        listener: &ListenerId,
        field: &str,
        value: Option<&[u8]>,
    ) -> StoreResult<()> {
        apps::put_app_field(self, listener, field, value).await
    }

    async fn app_field(&self, listener: &ListenerId, field: &str) -> StoreResult<Option<Vec<u8>>> {
        apps::app_field(self, listener, field).await
    }

    // ---- social graph, privacy and activity -------------------------------------------

    async fn follow(
        &self,
        follower: &ListenerId,
        followee: &ListenerId,
    ) -> StoreResult<FollowOutcome> {
        social::follow(self, follower, followee).await
    }

    async fn unfollow(&self, follower: &ListenerId, followee: &ListenerId) -> StoreResult<()> {
        social::unfollow(self, follower, followee).await
    }

    async fn following(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>> {
        social::following(self, listener, limit).await
    }

    async fn followers(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>> {
        social::followers(self, listener, limit).await
    }

    async fn block(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<()> {
        social::block(self, blocker, blocked).await
    }

    async fn unblock(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<()> {
        social::unblock(self, blocker, blocked).await
    }

    async fn blocked(&self, listener: &ListenerId, limit: usize) -> StoreResult<Vec<ListenerId>> {
        social::blocked(self, listener, limit).await
    }

    async fn is_blocked(&self, blocker: &ListenerId, blocked: &ListenerId) -> StoreResult<bool> {
        social::is_blocked(self, blocker, blocked).await
    }

    async fn privacy(&self, listener: &ListenerId) -> StoreResult<Privacy> {
        social::privacy(self, listener).await
    }

    async fn set_privacy(&self, listener: &ListenerId, privacy: &Privacy) -> StoreResult<()> {
        social::set_privacy(self, listener, privacy).await
    }

    async fn push_activity(
        &self,
        listener: &ListenerId,
        entry: &ActivityEntry,
    ) -> StoreResult<bool> {
        social::push_activity(self, listener, entry).await
    }

    async fn activity(
        &self,
        listener: &ListenerId,
        limit: usize,
    ) -> StoreResult<Vec<ActivityEntry>> {
        social::activity(self, listener, limit).await
    }

    async fn visible_activity(
        &self,
        owner: &ListenerId,
        viewer: &ListenerId,
        limit: usize,
    ) -> StoreResult<Vec<ActivityEntry>> {
        social::visible_activity(self, owner, viewer, limit).await
    }

    // ---- people: display names and search ----------------------------------------------

    async fn display_name(&self, listener: &ListenerId) -> StoreResult<Option<DisplayName>> {
        people::display_name(self, listener).await
    }

    async fn set_display_name(
        &self,
        listener: &ListenerId,
        name: Option<&DisplayName>,
    ) -> StoreResult<()> {
        people::set_display_name(self, listener, name).await
    }

    async fn find_people(&self, prefix: &str, limit: usize) -> StoreResult<Vec<ListenerId>> {
        people::find_people(self, prefix, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("redis://:s3cret@host:6379/0"),
            "redis://***@host:6379/0"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
