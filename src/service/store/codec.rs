//! How records become bytes and back, shared by both stores.
//!
//! Small records (accounts, sessions, interactions, playlists, node info) are JSON:
//! readable with `redis-cli` when an operator or the chaos harness looks at a key.
//! Bulky or float-heavy data (the catalog, snapshots in the embedded file) is
//! bincode 2 through serde. Everything read back from a backend is input like any
//! other: decoding never panics, and bad bytes become [`StoreError::Corrupt`] naming
//! what was being read.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{ListenerId, Playlist, StoreError};

/// Upper bound on one bincode-decoded value. The largest thing we keep this way is
/// the catalog (a few hundred songs ≈ 100 KB) or a model snapshot (≈ 1 MB); a length
/// prefix claiming more than this is corruption, and the limit stops a bad prefix
/// from making the decoder allocate gigabytes.
pub const MAX_BINARY_VALUE_BYTES: usize = 256 * 1024 * 1024;

fn bincode_config() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MAX_BINARY_VALUE_BYTES>,
> {
    bincode::config::standard().with_limit::<MAX_BINARY_VALUE_BYTES>()
}

pub fn to_json<T: Serialize>(value: &T, what: &str) -> Result<Vec<u8>, StoreError> {
    // Serializing our own records cannot fail except for non-string map keys, which
    // none of them has; still, report rather than panic.
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(format!("encoding {what}: {e}")))
}

pub fn from_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub fn to_bincode<T: Serialize>(value: &T, what: &str) -> Result<Vec<u8>, StoreError> {
    bincode::serde::encode_to_vec(value, bincode_config())
        .map_err(|e| StoreError::Corrupt(format!("encoding {what}: {e}")))
}

pub fn from_bincode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    let (value, used) = bincode::serde::decode_from_slice(bytes, bincode_config())
        .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))?;
    if used != bytes.len() {
        return Err(StoreError::Corrupt(format!(
            "{what}: {} trailing bytes",
            bytes.len() - used
        )));
    }
    Ok(value)
}

/// Decodes a playlist read under `owner`, checking it names that owner: a playlist
/// filed under the wrong listener would leak one listener's data to another.
pub fn playlist_of(bytes: &[u8], owner: &ListenerId) -> Result<Playlist, StoreError> {
    let playlist: Playlist = from_json(bytes, "playlist")?;
    if &playlist.owner != owner {
        return Err(StoreError::Corrupt(format!(
            "playlist {} stored under {owner} names owner {}",
            playlist.id, playlist.owner
        )));
    }
    Ok(playlist)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Snapshot, Username};

    #[test]
    fn bad_bytes_are_corrupt_not_panics() {
        assert!(matches!(
            from_json::<Username>(b"\"NO SPACES\"", "username"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            from_bincode::<Snapshot>(&[0xff; 9], "snapshot"),
            Err(StoreError::Corrupt(_))
        ));
        let snap = Snapshot {
            epoch: 3,
            covers_seq: 9,
            bytes: vec![1, 2, 3],
        };
        let bytes = to_bincode(&snap, "snapshot").unwrap();
        assert_eq!(from_bincode::<Snapshot>(&bytes, "snapshot").unwrap(), snap);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(from_bincode::<Snapshot>(&longer, "snapshot").is_err());
    }

    #[test]
    fn interaction_kinds_keep_their_names_and_old_entries_decode() {
        use crate::store::types::{Interaction, InteractionKind};
        // An entry as written before the playlist and search kinds existed.
        let old =
            br#"{"id":"abcdefgh","song_id":"s1","kind":"finished","position_ms":5,"at_ms":7}"#;
        let i: Interaction = from_json(old, "interaction").unwrap();
        assert_eq!(i.kind, InteractionKind::Finished);
        for (kind, name) in [
            (InteractionKind::Finished, "finished"),
            (InteractionKind::Skipped, "skipped"),
            (InteractionKind::Liked, "liked"),
            (InteractionKind::Disliked, "disliked"),
            (InteractionKind::AddedToPlaylist, "added_to_playlist"),
            (
                InteractionKind::RemovedFromPlaylist,
                "removed_from_playlist",
            ),
            (InteractionKind::SearchFinished, "search_finished"),
        ] {
            let json = to_json(&kind, "kind").unwrap();
            assert_eq!(json, format!("\"{name}\"").into_bytes());
            assert_eq!(from_json::<InteractionKind>(&json, "kind").unwrap(), kind);
        }
        assert!(from_json::<InteractionKind>(b"\"replayed\"", "kind").is_err());
        // Snapshots carry kinds by position: the first four keep theirs.
        let pos = to_bincode(&InteractionKind::Disliked, "kind").unwrap();
        assert_eq!(pos, [3]);
    }
}
