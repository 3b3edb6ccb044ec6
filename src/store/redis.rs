//! The Redis store: what a cluster of nodes shares.
//!
//! One multiplexed connection (`redis::aio::ConnectionManager`, which reconnects by
//! itself) carries every call. Steps that must be atomic are Lua scripts
//! (`src/store/lua/*.lua`, loaded by SHA and re-sent when a restarted server has
//! forgotten them).
//!
//! ## Key layout
//! Everything lives under `spoofify:`. Per-listener keys carry the listener id as a
//! hash tag, so a listener's keys share one Redis Cluster slot and a script may touch
//! several of them:
//!
//! | key | type | holds |
//! |---|---|---|
//! | `spoofify:{L}:account` | hash | `core` (id, username, argon2id hash, created), `prefs` (JSON) |
//! | `spoofify:username:<name>` | string | the listener id that owns the name (claimed with `SET NX`) |
//! | `spoofify:session:<token hash>` | string, `PX` TTL | the session (JSON) |
//! | `spoofify:{L}:log` | stream | interactions; entry id `<seq>-0`, field `i` = JSON |
//! | `spoofify:{L}:log-ids` | hash | client id → seq (the idempotency record) |
//! | `spoofify:{L}:epoch` | string | the fencing epoch (`INCR`) |
//! | `spoofify:{L}:owner` | string | the node that took the current epoch |
//! | `spoofify:{L}:snapshot` | hash | `epoch`, `covers_seq`, `bytes` |
//! | `spoofify:{L}:playlists` | hash | playlist id → playlist (JSON) |
//! | `spoofify:{nodes}:registry` | set | node ids that have beaten |
//! | `spoofify:{nodes}:node:<id>` | string, `PX` TTL | `{info, ttl_ms}` (JSON) |
//! | `spoofify:catalog` | string | the catalog, `Vec<Song>` in bincode |
//!
//! A stream per listener keeps sequence numbers equal to entry ids, so "read after
//! seq N" is one `XRANGE`, and nothing ever trims it (no `MAXLEN`). Node keys share
//! the `{nodes}` tag so `live_nodes` is one script over one slot.
//!
//! ## Scripts
//! - `append.lua`: if the client id is in `log-ids`, return its seq with
//!   duplicate=true; else take the next seq, `XADD` the entry and record the id.
//! - `put_snapshot.lua`: write the snapshot only if the epoch counter equals the
//!   writer's epoch; else report the current epoch (→ [`StoreError::Fenced`]).
//! - `live_nodes.lua`: list registry members whose heartbeat key holds, with its
//!   remaining TTL (age = TTL − remaining, by Redis's own clock), and drop expired ones.
//! - `create_account.lua`, `set_preferences.lua`, `release_username.lua`: write an
//!   account hash only if absent / only if present; undo a username claim only if it
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
//! it ran under. Replication (`WAIT`) is not used: a replica is not a second disk.
//!
//! Everything read back is parsed again: a value that does not decode, a key of the
//! wrong type or a malformed reply becomes [`StoreError::Corrupt`], never a panic.

use async_trait::async_trait;
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{AsyncCommands, ErrorKind, RedisError, Script, Value};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use std::time::Duration;

use super::codec::{from_bincode, from_json, playlist_of, to_bincode, to_json};
use super::embedded::MIN_TTL_MS;
use super::*;
use crate::catalog::Song;

/// How long one connection attempt may take. Loopback or LAN Redis answers in
/// milliseconds; longer means it is not there.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command may wait for its reply. A paused or partitioned Redis would
/// otherwise hang callers forever; past this the call fails `Unavailable` (and, for
/// writes, may or may not have happened — callers do not acknowledge it).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Reconnection attempts after a dropped connection, with exponential backoff from
/// `RECONNECT_MIN_DELAY` up to `RECONNECT_MAX_DELAY`; callers see `Unavailable` while
/// it retries, and the next call starts a new round.
const RECONNECT_RETRIES: usize = 3;
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(50);
const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);

static APPEND: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/append.lua")));
static PUT_SNAPSHOT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/put_snapshot.lua")));
static LIVE_NODES: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/live_nodes.lua")));
static CREATE_ACCOUNT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/create_account.lua")));
static SET_PREFERENCES: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/set_preferences.lua")));
static RELEASE_USERNAME: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/release_username.lua")));

/// Key names (see the module docs for the layout).
mod keys {
    use crate::store::ListenerId;

    pub const NODE_REGISTRY: &str = "spoofify:{nodes}:registry";
    pub const NODE_PREFIX: &str = "spoofify:{nodes}:node:";
    pub const CATALOG: &str = "spoofify:catalog";

    pub fn listener(l: &ListenerId, what: &str) -> String {
        format!("spoofify:{{{l}}}:{what}")
    }
    pub fn username(name: &str) -> String {
        format!("spoofify:username:{name}")
    }
    pub fn session(token_hash: &str) -> String {
        format!("spoofify:session:{token_hash}")
    }
    pub fn node(id: &str) -> String {
        format!("{NODE_PREFIX}{id}")
    }
}

/// The account fields other than preferences (kept apart so that setting
/// preferences is one `HSET` on an existing hash).
#[derive(Serialize, Deserialize)]
struct AccountCore {
    id: ListenerId,
    username: Username,
    password_hash: String,
    created_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct StoredBeat {
    info: NodeInfo,
    ttl_ms: u64,
}

/// The Redis-backed store. Cloning shares the connection.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    /// The server URL with any password hidden, for errors and logs.
    url: String,
}

/// The URL with the userinfo part (`user:password@`) replaced, fit for errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://host:port/db`) and checks it answers.
    #[tracing::instrument(skip_all, fields(url = %redact_url(url)))]
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let shown = redact_url(url);
        let unavailable = |e: RedisError| {
            StoreError::Unavailable(format!("cannot reach Redis at {shown}: {e}"))
        };
        let client = ::redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(RECONNECT_MIN_DELAY)
            .set_max_delay(RECONNECT_MAX_DELAY);
        let conn = ConnectionManager::new_with_config(client, config).await.map_err(unavailable)?;
        let store = Self { conn, url: shown };
        store.ping().await?;
        tracing::info!("redis store connected");
        Ok(store)
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
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

fn ttl_ms(ttl: Duration) -> u64 {
    (ttl.as_millis() as u64).max(MIN_TTL_MS)
}

fn parse_u64(bytes: &[u8], what: &str) -> StoreResult<u64> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("{what}: not a number")))
}

/// Parses an `XRANGE` reply: `[[id, [field, value, ...]], ...]`.
fn parse_log_entries(reply: Value) -> StoreResult<Vec<LoggedInteraction>> {
    let bad = |why: &str| StoreError::Corrupt(format!("interaction log: {why}"));
    let Value::Array(entries) = reply else {
        return Err(bad("reply is not a list"));
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Array(parts) = entry else {
            return Err(bad("entry is not a list"));
        };
        let [Value::BulkString(id), Value::Array(fields)] = parts.as_slice() else {
            return Err(bad("entry is not [id, fields]"));
        };
        let seq = std::str::from_utf8(id)
            .ok()
            .and_then(|s| s.strip_suffix("-0"))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| bad("entry id is not <seq>-0"))?;
        let body = match fields.as_slice() {
            [Value::BulkString(name), Value::BulkString(body)] if name == b"i" => body,
            _ => return Err(bad("entry fields are not [i, json]")),
        };
        out.push(LoggedInteraction { seq, interaction: from_json(body, "interaction")? });
    }
    Ok(out)
}

#[async_trait]
impl Store for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> StoreResult<()> {
        let pong: String = ::redis::cmd("PING").query_async(&mut self.conn()).await.map_err(self.err("PING"))?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!("redis at {}: PING answered {pong:?}", self.url)))
        }
    }

    async fn create_account(&self, account: &Account) -> StoreResult<()> {
        let core = AccountCore {
            id: account.id.clone(),
            username: account.username.clone(),
            password_hash: account.password_hash.clone(),
            created_ms: account.created_ms,
        };
        let (core, prefs) = (to_json(&core, "account")?, to_json(&account.preferences, "preferences")?);
        let name_key = keys::username(account.username.as_str());
        let claimed: bool = ::redis::cmd("SET")
            .arg(&name_key)
            .arg(account.id.as_str())
            .arg("NX")
            .query_async::<Option<String>>(&mut self.conn())
            .await
            .map_err(self.err("claim username"))?
            .is_some();
        if !claimed {
            return Err(StoreError::Conflict(format!("username {} is taken", account.username)));
        }
        let written: Result<i64, StoreError> = CREATE_ACCOUNT
            .key(keys::listener(&account.id, "account"))
            .arg(core)
            .arg(prefs)
            .invoke_async(&mut self.conn())
            .await
            .map_err(self.err("create account"));
        if !matches!(written, Ok(1)) {
            // Best effort: if this fails too, the name stays claimed by an id with no
            // account, which lookups treat as "no such account".
            let released: Result<i64, _> = RELEASE_USERNAME
                .key(&name_key)
                .arg(account.id.as_str())
                .invoke_async(&mut self.conn())
                .await;
            if let Err(e) = released {
                tracing::warn!(error = %e, username = %account.username, "could not release username claim");
            }
        }
        match written? {
            1 => Ok(()),
            _ => Err(StoreError::Conflict(format!("account {} exists", account.id))),
        }
    }

    async fn account(&self, id: &ListenerId) -> StoreResult<Option<Account>> {
        let (core, prefs): (Option<Vec<u8>>, Option<Vec<u8>>) = ::redis::cmd("HMGET")
            .arg(keys::listener(id, "account"))
            .arg("core")
            .arg("prefs")
            .query_async(&mut self.conn())
            .await
            .map_err(self.err("read account"))?;
        let Some(core) = core else {
            return Ok(None);
        };
        let core: AccountCore = from_json(&core, "account")?;
        if &core.id != id {
            return Err(StoreError::Corrupt(format!("account stored under {id} names {}", core.id)));
        }
        let preferences = match prefs {
            Some(p) => from_json(&p, "preferences")?,
            None => return Err(StoreError::Corrupt(format!("account {id} has no preferences"))),
        };
        Ok(Some(Account {
            id: core.id,
            username: core.username,
            password_hash: core.password_hash,
            created_ms: core.created_ms,
            preferences,
        }))
    }

    async fn account_by_username(&self, username: &Username) -> StoreResult<Option<Account>> {
        let id: Option<String> = self
            .conn()
            .get(keys::username(username.as_str()))
            .await
            .map_err(self.err("read username"))?;
        let Some(id) = id else {
            return Ok(None);
        };
        let id = ListenerId::parse(&id)
            .map_err(|e| StoreError::Corrupt(format!("username {username}: {e}")))?;
        // A claim whose account write never happened reads as no account.
        let account = self.account(&id).await?;
        match account {
            Some(a) if &a.username != username => Err(StoreError::Corrupt(format!(
                "username {username} points at {id}, whose name is {}",
                a.username
            ))),
            other => Ok(other),
        }
    }

    async fn set_preferences(&self, id: &ListenerId, prefs: &Preferences) -> StoreResult<()> {
        let written: i64 = SET_PREFERENCES
            .key(keys::listener(id, "account"))
            .arg(to_json(prefs, "preferences")?)
            .invoke_async(&mut self.conn())
            .await
            .map_err(self.err("set preferences"))?;
        match written {
            1 => Ok(()),
            _ => Err(StoreError::NotFound(format!("account {id}"))),
        }
    }

    async fn put_session(&self, session: &Session, ttl: Duration) -> StoreResult<()> {
        let _: () = ::redis::cmd("SET")
            .arg(keys::session(&session.token_hash))
            .arg(to_json(session, "session")?)
            .arg("PX")
            .arg(ttl_ms(ttl))
            .query_async(&mut self.conn())
            .await
            .map_err(self.err("put session"))?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let bytes: Option<Vec<u8>> =
            self.conn().get(keys::session(token_hash)).await.map_err(self.err("read session"))?;
        bytes.map(|b| from_json(&b, "session")).transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let _: i64 = self.conn().del(keys::session(token_hash)).await.map_err(self.err("delete session"))?;
        Ok(())
    }

    async fn append_interaction(
        &self,
        listener: &ListenerId,
        interaction: &Interaction,
    ) -> StoreResult<Appended> {
        let (seq, duplicate): (u64, i64) = APPEND
            .key(keys::listener(listener, "log"))
            .key(keys::listener(listener, "log-ids"))
            .arg(interaction.id.as_str())
            .arg(to_json(interaction, "interaction")?)
            .invoke_async(&mut self.conn())
            .await
            .map_err(self.err("append interaction"))?;
        Ok(Appended { seq, duplicate: duplicate == 1 })
    }

    async fn read_interactions(
        &self,
        listener: &ListenerId,
        after: u64,
        limit: usize,
    ) -> StoreResult<Vec<LoggedInteraction>> {
        if limit == 0 || after == u64::MAX {
            return Ok(Vec::new());
        }
        let reply: Value = ::redis::cmd("XRANGE")
            .arg(keys::listener(listener, "log"))
            .arg(format!("{}-0", after + 1))
            .arg("+")
            .arg("COUNT")
            .arg(limit)
            .query_async(&mut self.conn())
            .await
            .map_err(self.err("read log"))?;
        parse_log_entries(reply)
    }

    async fn last_seq(&self, listener: &ListenerId) -> StoreResult<u64> {
        let reply: Value = ::redis::cmd("XREVRANGE")
            .arg(keys::listener(listener, "log"))
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut self.conn())
            .await
            .map_err(self.err("read last seq"))?;
        Ok(parse_log_entries(reply)?.first().map(|e| e.seq).unwrap_or(0))
    }

    async fn acquire_epoch(&self, listener: &ListenerId, node: &NodeId) -> StoreResult<u64> {
        let (epoch,): (u64,) = ::redis::pipe()
            .atomic()
            .incr(keys::listener(listener, "epoch"), 1)
            .set(keys::listener(listener, "owner"), node.as_str())
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(self.err("acquire epoch"))?;
        Ok(epoch)
    }

    async fn current_epoch(&self, listener: &ListenerId) -> StoreResult<u64> {
        let bytes: Option<Vec<u8>> = self
            .conn()
            .get(keys::listener(listener, "epoch"))
            .await
            .map_err(self.err("read epoch"))?;
        bytes.map(|b| parse_u64(&b, "epoch")).transpose().map(|e| e.unwrap_or(0))
    }

    async fn put_snapshot(&self, listener: &ListenerId, snapshot: &Snapshot) -> StoreResult<()> {
        let (written, current): (i64, u64) = PUT_SNAPSHOT
            .key(keys::listener(listener, "epoch"))
            .key(keys::listener(listener, "snapshot"))
            .arg(snapshot.epoch)
            .arg(snapshot.covers_seq)
            .arg(snapshot.bytes.as_slice())
            .invoke_async(&mut self.conn())
            .await
            .map_err(self.err("put snapshot"))?;
        match written {
            1 => Ok(()),
            _ => Err(StoreError::Fenced { held: snapshot.epoch, current }),
        }
    }

    async fn snapshot(&self, listener: &ListenerId) -> StoreResult<Option<Snapshot>> {
        let fields: (Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>) = ::redis::cmd("HMGET")
            .arg(keys::listener(listener, "snapshot"))
            .arg("epoch")
            .arg("covers_seq")
            .arg("bytes")
            .query_async(&mut self.conn())
            .await
            .map_err(self.err("read snapshot"))?;
        match fields {
            (None, None, None) => Ok(None),
            (Some(epoch), Some(covers), Some(bytes)) => Ok(Some(Snapshot {
                epoch: parse_u64(&epoch, "snapshot epoch")?,
                covers_seq: parse_u64(&covers, "snapshot covers_seq")?,
                bytes,
            })),
            _ => Err(StoreError::Corrupt(format!("snapshot of {listener}: missing fields"))),
        }
    }

    async fn heartbeat(&self, node: &NodeInfo, ttl: Duration) -> StoreResult<()> {
        let ttl_ms = ttl_ms(ttl);
        let beat = to_json(&StoredBeat { info: node.clone(), ttl_ms }, "heartbeat")?;
        let _: () = ::redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(keys::node(node.id.as_str()))
            .arg(beat)
            .arg("PX")
            .arg(ttl_ms)
            .ignore()
            .sadd(keys::NODE_REGISTRY, node.id.as_str())
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(self.err("heartbeat"))?;
        Ok(())
    }

    async fn live_nodes(&self) -> StoreResult<Vec<LiveNode>> {
        let flat: Vec<Value> = LIVE_NODES
            .key(keys::NODE_REGISTRY)
            .arg(keys::NODE_PREFIX)
            .invoke_async(&mut self.conn())
            .await
            .map_err(self.err("live nodes"))?;
        let mut live = Vec::with_capacity(flat.len() / 2);
        for pair in flat.chunks(2) {
            let [Value::BulkString(body), Value::Int(remaining)] = pair else {
                return Err(StoreError::Corrupt("live nodes: malformed reply".into()));
            };
            let beat: StoredBeat = from_json(body, "heartbeat")?;
            let heartbeat_age_ms = beat.ttl_ms.saturating_sub((*remaining).max(0) as u64);
            live.push(LiveNode { info: beat.info, heartbeat_age_ms });
        }
        live.sort_by(|a, b| a.info.id.cmp(&b.info.id));
        Ok(live)
    }

    async fn deregister(&self, node: &NodeId) -> StoreResult<()> {
        let _: () = ::redis::pipe()
            .atomic()
            .del(keys::node(node.as_str()))
            .ignore()
            .srem(keys::NODE_REGISTRY, node.as_str())
            .ignore()
            .query_async(&mut self.conn())
            .await
            .map_err(self.err("deregister"))?;
        Ok(())
    }

    async fn put_playlist(&self, playlist: &Playlist) -> StoreResult<()> {
        let _: i64 = self
            .conn()
            .hset(
                keys::listener(&playlist.owner, "playlists"),
                playlist.id.as_str(),
                to_json(playlist, "playlist")?,
            )
            .await
            .map_err(self.err("put playlist"))?;
        Ok(())
    }

    async fn playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<Option<Playlist>> {
        let bytes: Option<Vec<u8>> = self
            .conn()
            .hget(keys::listener(owner, "playlists"), id.as_str())
            .await
            .map_err(self.err("read playlist"))?;
        bytes.map(|b| playlist_of(&b, owner)).transpose()
    }

    async fn playlists(&self, owner: &ListenerId) -> StoreResult<Vec<Playlist>> {
        let all: Vec<(Vec<u8>, Vec<u8>)> = self
            .conn()
            .hgetall(keys::listener(owner, "playlists"))
            .await
            .map_err(self.err("read playlists"))?;
        let mut out = all
            .iter()
            .map(|(_, body)| playlist_of(body, owner))
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn delete_playlist(&self, owner: &ListenerId, id: &PlaylistId) -> StoreResult<()> {
        let removed: i64 = self
            .conn()
            .hdel(keys::listener(owner, "playlists"), id.as_str())
            .await
            .map_err(self.err("delete playlist"))?;
        match removed {
            0 => Err(StoreError::NotFound(format!("playlist {id} of {owner}"))),
            _ => Ok(()),
        }
    }

    async fn put_catalog(&self, songs: &[Song]) -> StoreResult<()> {
        let bytes = to_bincode(&songs, "catalog")?;
        let _: () = self.conn().set(keys::CATALOG, bytes).await.map_err(self.err("put catalog"))?;
        Ok(())
    }

    async fn catalog(&self) -> StoreResult<Vec<Song>> {
        let bytes: Option<Vec<u8>> =
            self.conn().get(keys::CATALOG).await.map_err(self.err("read catalog"))?;
        match bytes {
            Some(b) => from_bincode(&b, "catalog"),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(redact_url("redis://:s3cret@host:6379/0"), "redis://***@host:6379/0");
        assert_eq!(redact_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[test]
    fn keys_are_hash_tagged_per_listener() {
        let l = ListenerId::parse("abc").unwrap();
        assert_eq!(keys::listener(&l, "log"), "spoofify:{abc}:log");
        assert!(keys::node("n1").starts_with("spoofify:{nodes}:"));
    }

    #[test]
    fn malformed_log_replies_are_corrupt() {
        let entry = |id: &[u8], body: &[u8]| {
            Value::Array(vec![
                Value::BulkString(id.to_vec()),
                Value::Array(vec![Value::BulkString(b"i".to_vec()), Value::BulkString(body.to_vec())]),
            ])
        };
        let bad_id = Value::Array(vec![entry(b"12-1", b"{}")]);
        assert!(matches!(parse_log_entries(bad_id), Err(StoreError::Corrupt(_))));
        let bad_body = Value::Array(vec![entry(b"1-0", b"not json")]);
        assert!(matches!(parse_log_entries(bad_body), Err(StoreError::Corrupt(_))));
        assert!(matches!(parse_log_entries(Value::Int(3)), Err(StoreError::Corrupt(_))));
        assert!(parse_log_entries(Value::Array(vec![])).unwrap().is_empty());
    }
}
