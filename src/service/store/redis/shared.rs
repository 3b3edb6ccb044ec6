//! What all listeners share in Redis: the node registry (heartbeat keys with `PX`
//! TTLs plus a registry set under the `{nodes}` hash tag — on a Redis Cluster in three
//! copies, see [`COPIES`]), playlists and the catalog.

use ::redis::{AsyncCommands, Script, Value};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use std::time::Duration;

use super::{keys, RedisStore};
use crate::catalog::Song;
use crate::store::codec::{from_bincode, from_json, playlist_of, to_bincode, to_json};
use crate::store::*;

static LIVE_NODES: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/live_nodes.lua")));

#[derive(Serialize, Deserialize)]
struct StoredBeat {
    info: NodeInfo,
    ttl_ms: u64,
}

/// The registry's copies. On a Redis Cluster every beat is written to all three
/// tags and the live set is read from any two: a write quorum and a read quorum of
/// three always share a copy, so a node is never judged dead while its last beat
/// holds on a copy a reader could not reach. The tags' slots (9928, 14676, 2359) lie
/// in the three thirds of the slot space, i.e. on three masters in the usual even
/// split; when one master dies, beats and reads go on through the other two instead
/// of failing for the whole failover (3–5 s, past the default heartbeat TTL of 1.5 s:
/// every node would drop every listener). One server keeps the single `{nodes}` copy.
const COPIES: [&str; 3] = [keys::NODES_TAG, "nodes-1", "nodes-2"];
/// Copies a beat must reach, and copies a live-set read must hear from, on a cluster.
const QUORUM: usize = 2;

/// The copies this store uses and how many must answer.
fn copies(s: &RedisStore) -> (&'static [&'static str], usize) {
    if s.conn.is_cluster() {
        (&COPIES, QUORUM)
    } else {
        (&COPIES[..1], 1)
    }
}

/// Runs `call` on every copy at once; the first `quorum` successes (in the order they
/// arrive), or the last error once a quorum can no longer be reached. Calls still
/// running then are dropped (each is idempotent).
async fn on_quorum<T, F, Fut>(s: &RedisStore, op: &str, call: F) -> StoreResult<Vec<T>>
where
    F: Fn(&'static str) -> Fut,
    Fut: std::future::Future<Output = StoreResult<T>>,
{
    use futures::StreamExt;
    let (tags, quorum) = copies(s);
    let mut running: futures::stream::FuturesUnordered<_> = tags.iter().map(|t| call(t)).collect();
    let (mut ok, mut failed) = (Vec::new(), 0);
    let mut last_err = None;
    while let Some(result) = running.next().await {
        match result {
            Ok(v) => {
                ok.push(v);
                if ok.len() >= quorum {
                    return Ok(ok);
                }
            }
            Err(e) => {
                failed += 1;
                last_err = Some(e);
                if tags.len() - failed < quorum {
                    break;
                }
            }
        }
    }
    Err(last_err.unwrap_or_else(|| {
        StoreError::Unavailable(format!(
            "redis at {} ({op}): no quorum of registry copies",
            s.url
        ))
    }))
}

pub(super) async fn heartbeat(s: &RedisStore, node: &NodeInfo, ttl: Duration) -> StoreResult<()> {
    let ttl_ms = ttl_millis(ttl);
    let beat = to_json(
        &StoredBeat {
            info: node.clone(),
            ttl_ms,
        },
        "heartbeat",
    )?;
    on_quorum(s, "heartbeat", |tag| {
        let beat = beat.clone();
        async move {
            // A plain pipeline, not MULTI/EXEC: inside a transaction a MOVED (a stale
            // slot map right after a failover) aborts the whole EXEC, which the cluster
            // client does not retry — a failed beat in the chaos run (issue 13). Each
            // command alone is retried on MOVED; both are idempotent, and a reader that
            // sees the id without the beat simply skips it.
            let _: () = ::redis::pipe()
                .cmd("SET")
                .arg(keys::node_in(tag, node.id.as_str()))
                .arg(beat)
                .arg("PX")
                .arg(ttl_ms)
                .ignore()
                .sadd(keys::node_registry(tag), node.id.as_str())
                .ignore()
                .query_async(&mut s.conn())
                .await
                .map_err(s.err("heartbeat"))?;
            Ok(())
        }
    })
    .await?;
    Ok(())
}

/// The live set: the union of a quorum of copies, each node with its freshest beat.
pub(super) async fn live_nodes(s: &RedisStore) -> StoreResult<Vec<LiveNode>> {
    let copies = on_quorum(s, "live nodes", |tag| live_nodes_in(s, tag)).await?;
    let mut live: Vec<LiveNode> = Vec::new();
    for node in copies.into_iter().flatten() {
        match live.iter_mut().find(|n| n.info.id == node.info.id) {
            Some(seen) if seen.heartbeat_age_ms <= node.heartbeat_age_ms => {}
            Some(seen) => *seen = node,
            None => live.push(node),
        }
    }
    live.sort_by(|a, b| a.info.id.cmp(&b.info.id));
    Ok(live)
}

/// The live set as one copy of the registry has it.
async fn live_nodes_in(s: &RedisStore, tag: &str) -> StoreResult<Vec<LiveNode>> {
    // Two steps so the script declares every key it touches (a Redis Cluster needs
    // that); a node registered in between is simply seen on the next call.
    let registry = keys::node_registry(tag);
    let ids: Vec<String> = s
        .conn()
        .smembers(&registry)
        .await
        .map_err(s.err("live nodes"))?;
    let mut call = LIVE_NODES.key(&registry);
    for id in &ids {
        call.key(keys::node_in(tag, id)).arg(id);
    }
    let flat: Vec<Value> = call
        .invoke_async(&mut s.conn())
        .await
        .map_err(s.err("live nodes"))?;
    let mut live = Vec::with_capacity(flat.len() / 2);
    for pair in flat.chunks(2) {
        let [Value::BulkString(body), Value::Int(remaining)] = pair else {
            return Err(StoreError::Corrupt("live nodes: malformed reply".into()));
        };
        let beat: StoredBeat = from_json(body, "heartbeat")?;
        let heartbeat_age_ms = beat.ttl_ms.saturating_sub((*remaining).max(0) as u64);
        live.push(LiveNode {
            info: beat.info,
            heartbeat_age_ms,
        });
    }
    Ok(live)
}

/// Removes the node from every copy it can reach; fails without a quorum.
pub(super) async fn deregister(s: &RedisStore, node: &NodeId) -> StoreResult<()> {
    on_quorum(s, "deregister", |tag| async move {
        let _: () = ::redis::pipe()
            .del(keys::node_in(tag, node.as_str()))
            .ignore()
            .srem(keys::node_registry(tag), node.as_str())
            .ignore()
            .query_async(&mut s.conn())
            .await
            .map_err(s.err("deregister"))?;
        Ok(())
    })
    .await?;
    Ok(())
}

pub(super) async fn put_playlist(s: &RedisStore, playlist: &Playlist) -> StoreResult<()> {
    let _: i64 = s
        .conn()
        .hset(
            keys::listener(&playlist.owner, "playlists"),
            playlist.id.as_str(),
            to_json(playlist, "playlist")?,
        )
        .await
        .map_err(s.err("put playlist"))?;
    Ok(())
}

pub(super) async fn playlist(
    s: &RedisStore,
    owner: &ListenerId,
    id: &PlaylistId,
) -> StoreResult<Option<Playlist>> {
    let bytes: Option<Vec<u8>> = s
        .conn()
        .hget(keys::listener(owner, "playlists"), id.as_str())
        .await
        .map_err(s.err("read playlist"))?;
    bytes.map(|b| playlist_of(&b, owner)).transpose()
}

pub(super) async fn playlists(s: &RedisStore, owner: &ListenerId) -> StoreResult<Vec<Playlist>> {
    let all: Vec<(Vec<u8>, Vec<u8>)> = s
        .conn()
        .hgetall(keys::listener(owner, "playlists"))
        .await
        .map_err(s.err("read playlists"))?;
    let mut out = all
        .iter()
        .map(|(_, body)| playlist_of(body, owner))
        .collect::<StoreResult<Vec<_>>>()?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

pub(super) async fn delete_playlist(
    s: &RedisStore,
    owner: &ListenerId,
    id: &PlaylistId,
) -> StoreResult<()> {
    let removed: i64 = s
        .conn()
        .hdel(keys::listener(owner, "playlists"), id.as_str())
        .await
        .map_err(s.err("delete playlist"))?;
    match removed {
        0 => Err(StoreError::NotFound(format!("playlist {id} of {owner}"))),
        _ => Ok(()),
    }
}

pub(super) async fn put_catalog(s: &RedisStore, songs: &[Song]) -> StoreResult<()> {
    let bytes = to_bincode(&songs, "catalog")?;
    let _: () = s
        .conn()
        .set(keys::CATALOG, bytes)
        .await
        .map_err(s.err("put catalog"))?;
    Ok(())
}

pub(super) async fn catalog(s: &RedisStore) -> StoreResult<Vec<Song>> {
    let bytes: Option<Vec<u8>> = s
        .conn()
        .get(keys::CATALOG)
        .await
        .map_err(s.err("read catalog"))?;
    match bytes {
        Some(b) => from_bincode(&b, "catalog"),
        None => Ok(Vec::new()),
    }
}
