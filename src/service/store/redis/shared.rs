//! What all listeners share in Redis: the node registry (heartbeat keys with `PX`
//! TTLs plus a registry set, all under the `{nodes}` hash tag), playlists and the
//! catalog.

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

pub(super) async fn heartbeat(s: &RedisStore, node: &NodeInfo, ttl: Duration) -> StoreResult<()> {
    let ttl_ms = ttl_millis(ttl);
    let beat = to_json(
        &StoredBeat {
            info: node.clone(),
            ttl_ms,
        },
        "heartbeat",
    )?;
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
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("heartbeat"))?;
    Ok(())
}

pub(super) async fn live_nodes(s: &RedisStore) -> StoreResult<Vec<LiveNode>> {
    // Two steps so the script declares every key it touches (a Redis Cluster needs
    // that); a node registered in between is simply seen on the next call.
    let ids: Vec<String> = s
        .conn()
        .smembers(keys::NODE_REGISTRY)
        .await
        .map_err(s.err("live nodes"))?;
    let mut call = LIVE_NODES.key(keys::NODE_REGISTRY);
    for id in &ids {
        call.key(keys::node(id)).arg(id);
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
    live.sort_by(|a, b| a.info.id.cmp(&b.info.id));
    Ok(live)
}

pub(super) async fn deregister(s: &RedisStore, node: &NodeId) -> StoreResult<()> {
    let _: () = ::redis::pipe()
        .atomic()
        .del(keys::node(node.as_str()))
        .ignore()
        .srem(keys::NODE_REGISTRY, node.as_str())
        .ignore()
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("deregister"))?;
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
