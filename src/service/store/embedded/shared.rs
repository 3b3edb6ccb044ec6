//! What all listeners share in the embedded file: the node registry (heartbeats with
//! stored expiry times), playlists and the catalog. Each function is the body of one
//! transaction.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use std::path::Path;

use super::{At, CATALOG, CATALOG_KEY, NODES, PLAYLISTS};
use crate::catalog::Song;
use crate::store::codec::{from_bincode, from_json, playlist_of, to_bincode, to_json};
use crate::store::*;

#[derive(Serialize, Deserialize)]
pub(super) struct StoredBeat {
    pub info: NodeInfo,
    pub beat_ms: u64,
    pub ttl_ms: u64,
}

impl StoredBeat {
    fn holds_at(&self, now: u64) -> bool {
        self.beat_ms.saturating_add(self.ttl_ms) > now
    }
}

pub(super) fn heartbeat(txn: &WriteTransaction, p: &Path, beat: &StoredBeat) -> StoreResult<()> {
    let now = beat.beat_ms;
    let mut nodes = txn.open_table(NODES).at(p)?;
    // Forget beats that expired (the registry is a handful of nodes).
    nodes
        .retain(|_, v| {
            from_json::<StoredBeat>(v, "heartbeat")
                .map(|b| b.holds_at(now))
                .unwrap_or(false)
        })
        .at(p)?;
    let bytes = to_json(beat, "heartbeat")?;
    nodes
        .insert(beat.info.id.as_str(), bytes.as_slice())
        .at(p)?;
    Ok(())
}

pub(super) fn live_nodes(txn: &ReadTransaction, p: &Path, now: u64) -> StoreResult<Vec<LiveNode>> {
    let nodes = txn.open_table(NODES).at(p)?;
    let mut live = Vec::new();
    for entry in nodes.iter().at(p)? {
        let (_, v) = entry.at(p)?;
        let beat: StoredBeat = from_json(v.value(), "heartbeat")?;
        if beat.holds_at(now) {
            let heartbeat_age_ms = now.saturating_sub(beat.beat_ms);
            live.push(LiveNode {
                info: beat.info,
                heartbeat_age_ms,
            });
        }
    }
    Ok(live)
}

pub(super) fn deregister(txn: &WriteTransaction, p: &Path, node: &NodeId) -> StoreResult<()> {
    txn.open_table(NODES).at(p)?.remove(node.as_str()).at(p)?;
    Ok(())
}

pub(super) fn put_playlist(
    txn: &WriteTransaction,
    p: &Path,
    playlist: &Playlist,
) -> StoreResult<()> {
    let bytes = to_json(playlist, "playlist")?;
    let key = (playlist.owner.as_str(), playlist.id.as_str());
    txn.open_table(PLAYLISTS)
        .at(p)?
        .insert(key, bytes.as_slice())
        .at(p)?;
    Ok(())
}

pub(super) fn playlist(
    txn: &ReadTransaction,
    p: &Path,
    owner: &ListenerId,
    id: &PlaylistId,
) -> StoreResult<Option<Playlist>> {
    let playlists = txn.open_table(PLAYLISTS).at(p)?;
    match playlists.get((owner.as_str(), id.as_str())).at(p)? {
        Some(v) => Ok(Some(playlist_of(v.value(), owner)?)),
        None => Ok(None),
    }
}

/// The owner's playlists in id order (the table's key order).
pub(super) fn playlists(
    txn: &ReadTransaction,
    p: &Path,
    owner: &ListenerId,
) -> StoreResult<Vec<Playlist>> {
    let playlists = txn.open_table(PLAYLISTS).at(p)?;
    let mut out = Vec::new();
    for entry in playlists.range((owner.as_str(), "")..).at(p)? {
        let (k, v) = entry.at(p)?;
        if k.value().0 != owner.as_str() {
            break;
        }
        out.push(playlist_of(v.value(), owner)?);
    }
    Ok(out)
}

pub(super) fn delete_playlist(
    txn: &WriteTransaction,
    p: &Path,
    owner: &ListenerId,
    id: &PlaylistId,
) -> StoreResult<()> {
    let mut playlists = txn.open_table(PLAYLISTS).at(p)?;
    let removed = playlists
        .remove((owner.as_str(), id.as_str()))
        .at(p)?
        .is_some();
    if removed {
        Ok(())
    } else {
        Err(StoreError::NotFound(format!("playlist {id} of {owner}")))
    }
}

pub(super) fn put_catalog(txn: &WriteTransaction, p: &Path, songs: &[Song]) -> StoreResult<()> {
    let bytes = to_bincode(&songs, "catalog")?;
    txn.open_table(CATALOG)
        .at(p)?
        .insert(CATALOG_KEY, bytes.as_slice())
        .at(p)?;
    Ok(())
}

pub(super) fn catalog(txn: &ReadTransaction, p: &Path) -> StoreResult<Vec<Song>> {
    let catalog = txn.open_table(CATALOG).at(p)?;
    match catalog.get(CATALOG_KEY).at(p)? {
        Some(v) => from_bincode(v.value(), "catalog"),
        None => Ok(Vec::new()),
    }
}
