//! How the catalog looks to a Subsonic app: songs as `Child`, albums as `AlbumID3`,
//! artists as `ArtistID3`, with stable ids.
//!
//! A song's id is its catalog id. Albums and artists have no id of their own in the
//! catalog, so theirs are derived: `ar-` + 16 hex digits of SHA-256(artist), `al-` +
//! the same of (artist, album) — an album is its artist's. [`Library`] groups one
//! catalog snapshot once per request to answer by them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::envelope::Fail;
use crate::catalog::{Catalog, Song, SongId};
use crate::media::Quality;

/// Every song is served as this (the renditions are Ogg Vorbis).
pub const CONTENT_TYPE: &str = "audio/ogg";

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn artist_id(artist: &str) -> String {
    format!("ar-{}", short_hash(&[artist]))
}

pub fn album_id(artist: &str, album: &str) -> String {
    format!("al-{}", short_hash(&[artist, album]))
}

/// A song as a Subsonic `Child`; `starred` (ms) when the listener starred it.
pub fn child(s: &Song, starred_ms: Option<u64>) -> Value {
    let mut v = json!({
        "id": s.id.to_string(),
        "parent": album_id(&s.artist, &s.album),
        "isDir": false,
        "title": s.title,
        "album": s.album,
        "artist": s.artist,
        "genre": s.genre,
        "coverArt": album_id(&s.artist, &s.album),
        "duration": s.duration_ms.div_ceil(1000),
        "bitRate": Quality::Normal.nominal_kbps(),
        "contentType": CONTENT_TYPE,
        "suffix": "ogg",
        "albumId": album_id(&s.artist, &s.album),
        "artistId": artist_id(&s.artist),
        "type": "music",
        "mediaType": "song",
        "isVideo": false,
        "playCount": 0,
    });
    if let Some(obj) = v.as_object_mut() {
        if let Some(y) = s.year {
            obj.insert("year".into(), y.into());
        }
        if let Some(ms) = starred_ms {
            obj.insert("starred".into(), iso_time(ms).into());
        }
    }
    v
}

pub use crate::http::time::iso_time;

/// One album: its songs in catalog order.
pub struct Album<'c> {
    pub id: String,
    pub name: &'c str,
    pub artist: &'c str,
    pub songs: Vec<&'c Song>,
}

impl Album<'_> {
    pub fn view(&self, starred_ms: Option<u64>) -> Value {
        let first = self.songs.first();
        let mut v = json!({
            "id": self.id,
            "name": self.name,
            "title": self.name,
            "album": self.name,
            "artist": self.artist,
            "artistId": artist_id(self.artist),
            "coverArt": self.id,
            "songCount": self.songs.len(),
            "duration": self.songs.iter().map(|s| s.duration_ms).sum::<u64>().div_ceil(1000),
            "created": iso_time(0),
            "isDir": true,
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(s) = first {
                obj.insert("genre".into(), s.genre.clone().into());
                if let Some(y) = s.year {
                    obj.insert("year".into(), y.into());
                }
            }
            if let Some(ms) = starred_ms {
                obj.insert("starred".into(), iso_time(ms).into());
            }
        }
        v
    }
}

/// One catalog snapshot grouped by artist and album.
pub struct Library {
    pub catalog: Arc<Catalog>,
}

impl Library {
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }

    pub fn song(&self, raw: &str) -> Result<&Song, Fail> {
        let id = SongId::parse(raw).map_err(|_| Fail::not_found(format!("no song {raw:?}")))?;
        self.catalog
            .get(&id)
            .ok_or_else(|| Fail::not_found(format!("no song {raw:?}")))
    }

    /// Albums keyed by (artist, name), songs in catalog order.
    pub fn albums(&self) -> Vec<Album<'_>> {
        let mut by: BTreeMap<(&str, &str), Vec<&Song>> = BTreeMap::new();
        for s in self.catalog.songs() {
            by.entry((s.artist.as_str(), s.album.as_str()))
                .or_default()
                .push(s);
        }
        by.into_iter()
            .map(|((artist, name), songs)| Album {
                id: album_id(artist, name),
                name,
                artist,
                songs,
            })
            .collect()
    }

    pub fn album(&self, id: &str) -> Result<Album<'_>, Fail> {
        self.albums()
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| Fail::not_found(format!("no album {id:?}")))
    }

    /// Artist names in name order.
    pub fn artists(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .catalog
            .songs()
            .iter()
            .map(|s| s.artist.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    pub fn artist(&self, id: &str) -> Result<&str, Fail> {
        self.artists()
            .into_iter()
            .find(|a| artist_id(a) == id)
            .ok_or_else(|| Fail::not_found(format!("no artist {id:?}")))
    }

    pub fn artist_view(&self, name: &str, starred_ms: Option<u64>) -> Value {
        let albums = self
            .albums()
            .into_iter()
            .filter(|a| a.artist == name)
            .count();
        let mut m = Map::new();
        m.insert("id".into(), artist_id(name).into());
        m.insert("name".into(), name.into());
        m.insert("albumCount".into(), albums.into());
        m.insert("coverArt".into(), artist_id(name).into());
        if let Some(ms) = starred_ms {
            m.insert("starred".into(), iso_time(ms).into());
        }
        Value::Object(m)
    }

    /// A song whose cover stands for this id: a song's own, an album's first song's, or
    /// an artist's first song's.
    pub fn cover_song(&self, id: &str) -> Result<&Song, Fail> {
        if let Some(s) = SongId::parse(id)
            .ok()
            .and_then(|sid| self.catalog.get(&sid))
        {
            return Ok(s);
        }
        let songs = self.catalog.songs();
        if id.starts_with("al-") {
            if let Some(s) = songs.iter().find(|s| album_id(&s.artist, &s.album) == id) {
                return Ok(s);
            }
        }
        if id.starts_with("ar-") {
            if let Some(s) = songs.iter().find(|s| artist_id(&s.artist) == id) {
                return Ok(s);
            }
        }
        Err(Fail::not_found(format!("no cover art {id:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        assert_eq!(album_id("A", "B"), album_id("A", "B"));
        assert_ne!(album_id("A", "B"), album_id("AB", ""));
        assert!(artist_id("A").starts_with("ar-") && artist_id("A").len() == 19);
    }
}
