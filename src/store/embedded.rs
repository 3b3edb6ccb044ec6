//! The embedded store: everything in one redb file (`store.redb` in the data
//! directory), so a single node runs with no server to set up.
//!
//! It keeps the same semantics as the Redis store for everything in the [`Store`]
//! trait. How:
//! - **Durability.** Every write is one redb write transaction committed with
//!   `Durability::Immediate` (redb fsyncs before `commit` returns), so a call that
//!   returned `Ok` survives a crash of the process or the machine.
//! - **Atomicity.** redb serializes write transactions, so each check-then-write
//!   (username taken?, client id seen?, epoch current?) happens inside the one
//!   transaction that writes; a failed check drops the transaction, writing nothing.
//! - **TTLs.** Sessions and heartbeats store their expiry time (ms since the Unix
//!   epoch); readers treat anything past it as absent. Expired sessions are purged a
//!   bounded batch at a time by later `put_session` calls (via an expiry index), and
//!   expired heartbeats by later `heartbeat` calls.
//! - **Async.** redb is blocking; each call runs on tokio's blocking pool
//!   (`spawn_blocking`), keeping the caller's tracing span.
//!
//! Tables (keys → values; JSON unless noted):
//! `accounts` listener → Account · `usernames` username → listener ·
//! `sessions` token hash → {session, expires_ms} · `session_expiry` (expires_ms, token
//! hash) → () · `log` (listener, seq) → Interaction · `log_ids` (listener, client id) →
//! seq · `epochs` listener → u64 · `owners` listener → node · `snapshots` listener →
//! Snapshot (bincode) · `nodes` node → {info, beat_ms, ttl_ms} · `playlists` (owner,
//! playlist) → Playlist · `catalog` "songs" → Vec<Song> (bincode).

use async_trait::async_trait;
use redb::{
    Database, Durability, ReadTransaction, ReadableTable, TableDefinition, WriteTransaction,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::codec::{from_bincode, from_json, playlist_of, to_bincode, to_json};
use super::*;
use crate::catalog::Song;

const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");
const USERNAMES: TableDefinition<&str, &str> = TableDefinition::new("usernames");
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
const SESSION_EXPIRY: TableDefinition<(u64, &str), ()> = TableDefinition::new("session_expiry");
const LOG: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("log");
const LOG_IDS: TableDefinition<(&str, &str), u64> = TableDefinition::new("log_ids");
const EPOCHS: TableDefinition<&str, u64> = TableDefinition::new("epochs");
const OWNERS: TableDefinition<&str, &str> = TableDefinition::new("owners");
const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshots");
const NODES: TableDefinition<&str, &[u8]> = TableDefinition::new("nodes");
const PLAYLISTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("playlists");
const CATALOG: TableDefinition<&str, &[u8]> = TableDefinition::new("catalog");
const CATALOG_KEY: &str = "songs";

/// How many expired sessions one `put_session` removes at most. Purging rides on
/// logins, so it must stay cheap per call; at one login per expiry this still keeps
/// up, and a backlog (after a long downtime) drains over the next logins.
const SESSION_PURGE_BATCH: usize = 64;

/// The shortest TTL stored. Redis rejects `PX 0`; both stores clamp to this so a
/// zero TTL means "expires at once" in both.
pub(crate) const MIN_TTL_MS: u64 = 1;

#[derive(Serialize, Deserialize)]
struct StoredSession {
    session: Session,
    expires_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct StoredBeat {
    info: NodeInfo,
    beat_ms: u64,
    ttl_ms: u64,
}

/// The single-file store. Cloning shares the open database.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    path: PathBuf,
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

fn ttl_ms(ttl: Duration) -> u64 {
    (ttl.as_millis() as u64).max(MIN_TTL_MS)
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store file at `path`, and its parent directory.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let path = path.to_path_buf();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| Self::open_blocking(path)))
            .await
            .map_err(|e| StoreError::Unavailable(format!("embedded store open task: {e}")))?
    }

    fn open_blocking(path: PathBuf) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("creating data dir {}: {e}", dir.display()))
            })?;
        }
        let db = Database::create(&path).map_err(|e| backend(&path, e))?;
        // Create every table once, so read transactions never meet a missing table.
        let mut txn = db.begin_write().map_err(|e| backend(&path, e))?;
        txn.set_durability(Durability::Immediate);
        {
            let p = &path;
            txn.open_table(ACCOUNTS).map_err(|e| backend(p, e))?;
            txn.open_table(USERNAMES).map_err(|e| backend(p, e))?;
            txn.open_table(SESSIONS).map_err(|e| backend(p, e))?;
            txn.open_table(SESSION_EXPIRY).map_err(|e| backend(p, e))?;
            txn.open_table(LOG).map_err(|e| backend(p, e))?;
            txn.open_table(LOG_IDS).map_err(|e| backend(p, e))?;
            txn.open_table(EPOCHS).map_err(|e| backend(p, e))?;
            txn.open_table(OWNERS).map_err(|e| backend(p, e))?;
            txn.open_table(SNAPSHOTS).map_err(|e| backend(p, e))?;
            txn.open_table(NODES).map_err(|e| backend(p, e))?;
            txn.open_table(PLAYLISTS).map_err(|e| backend(p, e))?;
            txn.open_table(CATALOG).map_err(|e| backend(p, e))?;
        }
        txn.commit().map_err(|e| backend(&path, e))?;
        tracing::info!(path = %path.display(), "embedded store open");
        Ok(Self { db: Arc::new(db), path })
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
                let txn = this.db.begin_read().map_err(|e| backend(&this.path, e))?;
                f(&txn, &this.path)
            })
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("embedded store task: {e}")))?
    }

    /// Runs `f` in a write transaction on the blocking pool and commits it durably
    /// when `f` succeeds; when `f` fails nothing is written.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction, &Path) -> StoreResult<T> + Send + 'static,
    {
        let this = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let mut txn = this.db.begin_write().map_err(|e| backend(&this.path, e))?;
                txn.set_durability(Durability::Immediate);
                match f(&txn, &this.path) {
                    Ok(out) => {
                        txn.commit().map_err(|e| backend(&this.path, e))?;
                        Ok(out)
                    }
                    Err(e) => {
                        // Nothing of a failed check is kept; an abort error changes nothing.
                        let _ = txn.abort();
                        Err(e)
                    }
                }
            })
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("embedded store task: {e}")))?
    }
}

/// Reads an account by id inside any transaction's accounts table.
fn get_account(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &str,
    p: &Path,
) -> StoreResult<Option<Account>> {
    let Some(bytes) = table.get(id).map_err(|e| backend(p, e))? else {
        return Ok(None);
    };
    let account: Account = from_json(bytes.value(), "account")?;
    if account.id.as_str() != id {
        return Err(StoreError::Corrupt(format!(
            "account stored under {id} names {}",
            account.id
        )));
    }
    Ok(Some(account))
}

fn last_seq_in(
    table: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    listener: &str,
    p: &Path,
) -> StoreResult<u64> {
    let mut range = table
        .range((listener, 0)..=(listener, u64::MAX))
        .map_err(|e| backend(p, e))?;
    match range.next_back() {
        Some(entry) => Ok(entry.map_err(|e| backend(p, e))?.0.value().1),
        None => Ok(0),
    }
}

/// Removes up to [`SESSION_PURGE_BATCH`] sessions whose expiry has passed.
fn purge_sessions(txn: &WriteTransaction, now: u64, p: &Path) -> StoreResult<()> {
    let mut index = txn.open_table(SESSION_EXPIRY).map_err(|e| backend(p, e))?;
    let mut sessions = txn.open_table(SESSIONS).map_err(|e| backend(p, e))?;
    let due: Vec<(u64, String)> = index
        .range(..(now, ""))
        .map_err(|e| backend(p, e))?
        .take(SESSION_PURGE_BATCH)
        .map(|entry| {
            let (k, _) = entry.map_err(|e| backend(p, e))?;
            let (at, token) = k.value();
            Ok((at, token.to_owned()))
        })
        .collect::<StoreResult<_>>()?;
    for (at, token) in due {
        index.remove((at, token.as_str())).map_err(|e| backend(p, e))?;
        // The session may have been stored again with a later expiry since.
        let expired = match sessions.get(token.as_str()).map_err(|e| backend(p, e))? {
            Some(v) => from_json::<StoredSession>(v.value(), "session")
                .map(|s| s.expires_ms <= now)
                .unwrap_or(true),
            None => false,
        };
        if expired {
            sessions.remove(token.as_str()).map_err(|e| backend(p, e))?;
        }
    }
    Ok(())
}

#[async_trait]
impl Store for EmbeddedStore {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|txn, p| {
            txn.open_table(CATALOG).map_err(|e| backend(p, e))?;
            Ok(())
        })
        .await
    }

    async fn create_account(&self, account: &Account) -> StoreResult<()> {
        let account = account.clone();
        let bytes = to_json(&account, "account")?;
        self.write(move |txn, p| {
            let mut usernames = txn.open_table(USERNAMES).map_err(|e| backend(p, e))?;
            let mut accounts = txn.open_table(ACCOUNTS).map_err(|e| backend(p, e))?;
            if usernames.get(account.username.as_str()).map_err(|e| backend(p, e))?.is_some() {
                return Err(StoreError::Conflict(format!("username {} is taken", account.username)));
            }
            if accounts.get(account.id.as_str()).map_err(|e| backend(p, e))?.is_some() {
                return Err(StoreError::Conflict(format!("account {} exists", account.id)));
            }
            usernames
                .insert(account.username.as_str(), account.id.as_str())
                .map_err(|e| backend(p, e))?;
            accounts.insert(account.id.as_str(), bytes.as_slice()).map_err(|e| backend(p, e))?;
            Ok(())
        })
        .await
    }

    async fn account(&self, id: &ListenerId) -> StoreResult<Option<Account>> {
        let id = id.clone();
        self.read(move |txn, p| {
            let accounts = txn.open_table(ACCOUNTS).map_err(|e| backend(p, e))?;
            get_account(&accounts, id.as_str(), p)
        })
        .await
    }

    async fn account_by_username(&self, username: &Username) -> StoreResult<Option<Account>> {
        let username = username.clone();
        self.read(move |txn, p| {
            let usernames = txn.open_table(USERNAMES).map_err(|e| backend(p, e))?;
            let Some(id) = usernames.get(username.as_str()).map_err(|e| backend(p, e))? else {
                return Ok(None);
            };
            let id = ListenerId::parse(id.value())
                .map_err(|e| StoreError::Corrupt(format!("username {username}: {e}")))?;
            let accounts = txn.open_table(ACCOUNTS).map_err(|e| backend(p, e))?;
            get_account(&accounts, id.as_str(), p)
        })
        .await
    }

    async fn set_preferences(&self, id: &ListenerId, prefs: &Preferences) -> StoreResult<()> {
        let (id, prefs) = (id.clone(), prefs.clone());
        self.write(move |txn, p| {
            let mut accounts = txn.open_table(ACCOUNTS).map_err(|e| backend(p, e))?;
            let Some(mut account) = get_account(&accounts, id.as_str(), p)? else {
                return Err(StoreError::NotFound(format!("account {id}")));
            };
            account.preferences = prefs;
            let bytes = to_json(&account, "account")?;
            accounts.insert(id.as_str(), bytes.as_slice()).map_err(|e| backend(p, e))?;
            Ok(())
        })
        .await
    }

    async fn put_session(&self, session: &Session, ttl: Duration) -> StoreResult<()> {
        let now = now_ms();
        let stored = StoredSession { session: session.clone(), expires_ms: now + ttl_ms(ttl) };
        let bytes = to_json(&stored, "session")?;
        self.write(move |txn, p| {
            purge_sessions(txn, now, p)?;
            let token = stored.session.token_hash.as_str();
            let mut sessions = txn.open_table(SESSIONS).map_err(|e| backend(p, e))?;
            sessions.insert(token, bytes.as_slice()).map_err(|e| backend(p, e))?;
            let mut index = txn.open_table(SESSION_EXPIRY).map_err(|e| backend(p, e))?;
            index.insert((stored.expires_ms, token), ()).map_err(|e| backend(p, e))?;
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let token = token_hash.to_owned();
        self.read(move |txn, p| {
            let sessions = txn.open_table(SESSIONS).map_err(|e| backend(p, e))?;
            let Some(v) = sessions.get(token.as_str()).map_err(|e| backend(p, e))? else {
                return Ok(None);
            };
            let stored: StoredSession = from_json(v.value(), "session")?;
            Ok((stored.expires_ms > now_ms()).then_some(stored.session))
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token = token_hash.to_owned();
        self.write(move |txn, p| {
            let mut sessions = txn.open_table(SESSIONS).map_err(|e| backend(p, e))?;
            let removed = sessions.remove(token.as_str()).map_err(|e| backend(p, e))?;
            if let Some(v) = removed {
                if let Ok(stored) = from_json::<StoredSession>(v.value(), "session") {
                    let mut index = txn.open_table(SESSION_EXPIRY).map_err(|e| backend(p, e))?;
                    index.remove((stored.expires_ms, token.as_str())).map_err(|e| backend(p, e))?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn append_interaction(
        &self,
        listener: &ListenerId,
        interaction: &Interaction,
    ) -> StoreResult<Appended> {
        let (listener, cid) = (listener.clone(), interaction.id.clone());
        let bytes = to_json(interaction, "interaction")?;
        self.write(move |txn, p| {
            let mut ids = txn.open_table(LOG_IDS).map_err(|e| backend(p, e))?;
            let key = (listener.as_str(), cid.as_str());
            if let Some(seq) = ids.get(key).map_err(|e| backend(p, e))? {
                return Ok(Appended { seq: seq.value(), duplicate: true });
            }
            let mut log = txn.open_table(LOG).map_err(|e| backend(p, e))?;
            let seq = last_seq_in(&log, listener.as_str(), p)? + 1;
            log.insert((listener.as_str(), seq), bytes.as_slice()).map_err(|e| backend(p, e))?;
            ids.insert(key, seq).map_err(|e| backend(p, e))?;
            Ok(Appended { seq, duplicate: false })
        })
        .await
    }

    async fn read_interactions(
        &self,
        listener: &ListenerId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LoggedInteraction>> {
        let listener = listener.clone();
        if limit == 0 || after == u64::MAX {
            return Ok(Vec::new());
        }
        self.read(move |txn, p| {
            let log = txn.open_table(LOG).map_err(|e| backend(p, e))?;
            let l = listener.as_str();
            log.range((l, after + 1)..=(l, u64::MAX))
                .map_err(|e| backend(p, e))?
                .take(limit)
                .map(|entry| {
                    let (k, v) = entry.map_err(|e| backend(p, e))?;
                    let seq = k.value().1;
                    let interaction = from_json(v.value(), "interaction")?;
                    Ok(LoggedInteraction { seq, interaction })
                })
                .collect()
        })
        .await
    }

    async fn last_seq(&self, listener: &ListenerId) -> StoreResult<u64> {
        let listener = listener.clone();
        self.read(move |txn, p| {
            let log = txn.open_table(LOG).map_err(|e| backend(p, e))?;
            last_seq_in(&log, listener.as_str(), p)
        })
        .await
    }

    async fn acquire_epoch(&self, listener: &ListenerId, node: &NodeId) -> StoreResult<u64> {
        let (listener, node) = (listener.clone(), node.clone());
        self.write(move |txn, p| {
            let mut epochs = txn.open_table(EPOCHS).map_err(|e| backend(p, e))?;
            let current = epochs.get(listener.as_str()).map_err(|e| backend(p, e))?;
            let next = current.map(|v| v.value()).unwrap_or(0) + 1;
            epochs.insert(listener.as_str(), next).map_err(|e| backend(p, e))?;
            let mut owners = txn.open_table(OWNERS).map_err(|e| backend(p, e))?;
            owners.insert(listener.as_str(), node.as_str()).map_err(|e| backend(p, e))?;
            Ok(next)
        })
        .await
    }

    async fn current_epoch(&self, listener: &ListenerId) -> StoreResult<u64> {
        let listener = listener.clone();
        self.read(move |txn, p| {
            let epochs = txn.open_table(EPOCHS).map_err(|e| backend(p, e))?;
            let current = epochs.get(listener.as_str()).map_err(|e| backend(p, e))?;
            Ok(current.map(|v| v.value()).unwrap_or(0))
        })
        .await
    }

    async fn put_snapshot(&self, listener: &ListenerId, snapshot: &Snapshot) -> StoreResult<()> {
        let listener = listener.clone();
        let held = snapshot.epoch;
        let bytes = to_bincode(snapshot, "snapshot")?;
        self.write(move |txn, p| {
            let epochs = txn.open_table(EPOCHS).map_err(|e| backend(p, e))?;
            let current = epochs.get(listener.as_str()).map_err(|e| backend(p, e))?;
            let current = current.map(|v| v.value()).unwrap_or(0);
            if current != held {
                return Err(StoreError::Fenced { held, current });
            }
            let mut snapshots = txn.open_table(SNAPSHOTS).map_err(|e| backend(p, e))?;
            snapshots.insert(listener.as_str(), bytes.as_slice()).map_err(|e| backend(p, e))?;
            Ok(())
        })
        .await
    }

    async fn snapshot(&self, listener: &ListenerId) -> StoreResult<Option<Snapshot>> {
        let listener = listener.clone();
        self.read(move |txn, p| {
            let snapshots = txn.open_table(SNAPSHOTS).map_err(|e| backend(p, e))?;
            match snapshots.get(listener.as_str()).map_err(|e| backend(p, e))? {
                Some(v) => Ok(Some(from_bincode(v.value(), "snapshot")?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn heartbeat(&self, node: &NodeInfo, ttl: Duration) -> StoreResult<()> {
        let now = now_ms();
        let beat = StoredBeat { info: node.clone(), beat_ms: now, ttl_ms: ttl_ms(ttl) };
        let bytes = to_json(&beat, "heartbeat")?;
        self.write(move |txn, p| {
            let mut nodes = txn.open_table(NODES).map_err(|e| backend(p, e))?;
            // Drop beats that expired (the registry is a handful of nodes).
            nodes
                .retain(|_, v| {
                    from_json::<StoredBeat>(v, "heartbeat")
                        .map(|b| b.beat_ms + b.ttl_ms > now)
                        .unwrap_or(false)
                })
                .map_err(|e| backend(p, e))?;
            nodes.insert(beat.info.id.as_str(), bytes.as_slice()).map_err(|e| backend(p, e))?;
            Ok(())
        })
        .await
    }

    async fn live_nodes(&self) -> StoreResult<Vec<LiveNode>> {
        self.read(|txn, p| {
            let nodes = txn.open_table(NODES).map_err(|e| backend(p, e))?;
            let now = now_ms();
            let mut live = Vec::new();
            for entry in nodes.iter().map_err(|e| backend(p, e))? {
                let (_, v) = entry.map_err(|e| backend(p, e))?;
                let beat: StoredBeat = from_json(v.value(), "heartbeat")?;
                if beat.beat_ms + beat.ttl_ms > now {
                    let heartbeat_age_ms = now.saturating_sub(beat.beat_ms);
                    live.push(LiveNode { info: beat.info, heartbeat_age_ms });
                }
            }
            Ok(live)
        })
        .await
    }

    async fn deregister(&self, node: &NodeId) -> StoreResult<()> {
        let node = node.clone();
        self.write(move |txn, p| {
            let mut nodes = txn.open_table(NODES).map_err(|e| backend(p, e))?;
            nodes.remove(node.as_str()).map_err(|e| backend(p, e))?;
            Ok(())
        })
        .await
    }

    async fn put_playlist(&self, playlist: &Playlist) -> StoreResult<()> {
        let (owner, id) = (playlist.owner.clone(), playlist.id.clone());
        let bytes = to_json(playlist, "playlist")?;
        self.write(move |txn, p| {
            let mut playlists = txn.open_table(PLAYLISTS).map_err(|e| backend(p, e))?;
            playlists
                .insert((owner.as_str(), id.as_str()), bytes.as_slice())
                .map_err(|e| backend(p, e))?;
            Ok(())
        })
        .await
    }

    async fn playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<Option<Playlist>> {
        let (owner, id) = (owner.clone(), id.clone());
        self.read(move |txn, p| {
            let playlists = txn.open_table(PLAYLISTS).map_err(|e| backend(p, e))?;
            let key = (owner.as_str(), id.as_str());
            match playlists.get(key).map_err(|e| backend(p, e))? {
                Some(v) => Ok(Some(playlist_of(v.value(), &owner)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn playlists(&self, owner: &ListenerId) -> StoreResult<Vec<Playlist>> {
        let owner = owner.clone();
        self.read(move |txn, p| {
            let playlists = txn.open_table(PLAYLISTS).map_err(|e| backend(p, e))?;
            let mut out = Vec::new();
            for entry in playlists.range((owner.as_str(), "")..).map_err(|e| backend(p, e))? {
                let (k, v) = entry.map_err(|e| backend(p, e))?;
                if k.value().0 != owner.as_str() {
                    break;
                }
                out.push(playlist_of(v.value(), &owner)?);
            }
            Ok(out)
        })
        .await
    }

    async fn delete_playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<()> {
        let (owner, id) = (owner.clone(), id.clone());
        self.write(move |txn, p| {
            let mut playlists = txn.open_table(PLAYLISTS).map_err(|e| backend(p, e))?;
            let removed = playlists
                .remove((owner.as_str(), id.as_str()))
                .map_err(|e| backend(p, e))?;
            match removed {
                Some(_) => Ok(()),
                None => Err(StoreError::NotFound(format!("playlist {id} of {owner}"))),
            }
        })
        .await
    }

    async fn put_catalog(&self, songs: &[Song]) -> StoreResult<()> {
        let bytes = to_bincode(&songs, "catalog")?;
        self.write(move |txn, p| {
            let mut catalog = txn.open_table(CATALOG).map_err(|e| backend(p, e))?;
            catalog.insert(CATALOG_KEY, bytes.as_slice()).map_err(|e| backend(p, e))?;
            Ok(())
        })
        .await
    }

    async fn catalog(&self) -> StoreResult<Vec<Song>> {
        self.read(|txn, p| {
            let catalog = txn.open_table(CATALOG).map_err(|e| backend(p, e))?;
            match catalog.get(CATALOG_KEY).map_err(|e| backend(p, e))? {
                Some(v) => from_bincode(v.value(), "catalog"),
                None => Ok(Vec::new()),
            }
        })
        .await
    }
}
