//! The listener's library as apps see it: the web app's playlists (the same records),
//! the saved play queue. Songs added to or taken out of a playlist are logged as
//! training signals, as in the web app (`interactions::record_playlist_edit`).

use serde_json::{json, Value};

use super::ctx::{empty, one, store_fail, Answer, Ctx};
use super::envelope::Fail;
use super::mine::{self, PlayQueue, PLAY_QUEUE_FIELD};
use super::views::{child, iso_time, Library};
use crate::catalog::SongId;
use crate::http::interactions::record_playlist_edit;
use crate::http::playlists::{PlaylistName, MAX_PLAYLISTS, MAX_SONGS};
use crate::store::{now_ms, Playlist, PlaylistId};

fn summary(p: &Playlist, lib: &Library, owner: &str) -> Value {
    let duration: u64 = p
        .songs
        .iter()
        .filter_map(|id| lib.catalog.get(id))
        .map(|s| s.duration_ms)
        .sum();
    json!({
        "id": p.id.to_string(),
        "name": p.name,
        "owner": owner,
        "public": p.public,
        "songCount": p.songs.len(),
        "duration": duration.div_ceil(1000),
        "created": iso_time(p.updated_ms),
        "changed": iso_time(p.updated_ms),
    })
}

fn full(p: &Playlist, lib: &Library, owner: &str) -> Value {
    let mut v = summary(p, lib, owner);
    let entry: Vec<Value> = p
        .songs
        .iter()
        .filter_map(|id| lib.catalog.get(id))
        .map(|s| child(s, None))
        .collect();
    if let Some(o) = v.as_object_mut() {
        o.insert("entry".into(), entry.into());
    }
    v
}

fn song_ids(lib: &Library, raw: &[&str]) -> Result<Vec<SongId>, Fail> {
    raw.iter()
        .map(|r| lib.song(r).map(|s| s.id.clone()))
        .collect()
}

async fn load(ctx: &Ctx, raw: &str) -> Result<Playlist, Fail> {
    let id = PlaylistId::parse(raw).map_err(|_| Fail::not_found(format!("no playlist {raw:?}")))?;
    ctx.state
        .store
        .playlist(&ctx.caller.id, &id)
        .await
        .map_err(store_fail)?
        .ok_or_else(|| Fail::not_found(format!("no playlist {raw:?}")))
}

pub async fn playlists(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let mut all = ctx
        .state
        .store
        .playlists(&ctx.caller.id)
        .await
        .map_err(store_fail)?;
    all.sort_by_key(|p| std::cmp::Reverse(p.updated_ms));
    let owner = ctx.caller.username.as_str();
    let playlist: Vec<Value> = all.iter().map(|p| summary(p, &lib, owner)).collect();
    one("playlists", json!({"playlist": playlist}))
}

pub async fn playlist(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let p = load(ctx, ctx.need("id")?).await?;
    one("playlist", full(&p, &lib, ctx.caller.username.as_str()))
}

/// `createPlaylist`: a new one with `name`, or with `playlistId` the songs of an
/// existing one replaced.
pub async fn create_playlist(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let songs = song_ids(&lib, &ctx.params.all("songId"))?;
    if songs.len() > MAX_SONGS {
        return Err(Fail::bad(format!(
            "a playlist holds at most {MAX_SONGS} songs"
        )));
    }
    let mut before = Vec::new();
    let playlist = if let Some(id) = ctx.params.get("playlistId") {
        let mut p = load(ctx, id).await?;
        before = std::mem::replace(&mut p.songs, songs);
        if let Some(name) = ctx.params.get("name") {
            p.name = PlaylistName::parse(name).map_err(Fail::from)?.0;
        }
        p.updated_ms = now_ms();
        p
    } else {
        let name = PlaylistName::parse(ctx.need("name")?).map_err(Fail::from)?;
        let count = ctx
            .state
            .store
            .playlists(&ctx.caller.id)
            .await
            .map_err(store_fail)?
            .len();
        if count >= MAX_PLAYLISTS {
            return Err(Fail::bad(format!(
                "a listener keeps at most {MAX_PLAYLISTS} playlists"
            )));
        }
        let id = PlaylistId::parse(&uuid::Uuid::new_v4().simple().to_string())
            .map_err(|e| Fail::generic(e.to_string()))?;
        Playlist {
            id,
            owner: ctx.caller.id.clone(),
            name: name.0,
            songs,
            updated_ms: now_ms(),
            public: false,
        }
    };
    ctx.state
        .store
        .put_playlist(&playlist)
        .await
        .map_err(store_fail)?;
    let p = &playlist;
    record_playlist_edit(&ctx.state, &p.owner, &p.id, &before, &p.songs, p.updated_ms).await;
    one(
        "playlist",
        full(&playlist, &lib, ctx.caller.username.as_str()),
    )
}

pub async fn update_playlist(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let mut p = load(ctx, ctx.need("playlistId")?).await?;
    if let Some(name) = ctx.params.get("name") {
        p.name = PlaylistName::parse(name).map_err(Fail::from)?.0;
    }
    let before = p.songs.clone();
    let mut remove: Vec<usize> = Vec::new();
    for raw in ctx.params.all("songIndexToRemove") {
        let i: usize = raw
            .parse()
            .map_err(|_| Fail::bad(format!("songIndexToRemove is not an index: {raw:?}")))?;
        if i >= p.songs.len() {
            return Err(Fail::bad(format!("no song at index {i}")));
        }
        remove.push(i);
    }
    remove.sort_unstable();
    remove.dedup();
    for i in remove.into_iter().rev() {
        p.songs.remove(i);
    }
    p.songs
        .extend(song_ids(&lib, &ctx.params.all("songIdToAdd"))?);
    if p.songs.len() > MAX_SONGS {
        return Err(Fail::bad(format!(
            "a playlist holds at most {MAX_SONGS} songs"
        )));
    }
    p.updated_ms = now_ms();
    ctx.state.store.put_playlist(&p).await.map_err(store_fail)?;
    record_playlist_edit(&ctx.state, &p.owner, &p.id, &before, &p.songs, p.updated_ms).await;
    empty()
}

pub async fn delete_playlist(ctx: &Ctx) -> Answer {
    let p = load(ctx, ctx.need("id")?).await?;
    ctx.state
        .store
        .delete_playlist(&ctx.caller.id, &p.id)
        .await
        .map_err(store_fail)?;
    empty()
}

pub async fn play_queue(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    // No saved queue: an empty one.
    let q = mine::field::<PlayQueue>(&ctx.state, &ctx.caller.id, PLAY_QUEUE_FIELD)
        .await?
        .unwrap_or_default();
    let entry: Vec<Value> = q
        .songs
        .iter()
        .filter_map(|id| lib.song(id).ok())
        .map(|s| child(s, None))
        .collect();
    let mut v = json!({
        "entry": entry,
        "position": q.position_ms,
        "username": ctx.caller.username.to_string(),
        "changed": iso_time(q.changed_ms),
        "changedBy": q.changed_by,
    });
    if let (Some(o), Some(c)) = (v.as_object_mut(), q.current) {
        o.insert("current".into(), c.into());
    }
    one("playQueue", v)
}

pub async fn save_play_queue(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let songs: Vec<String> = song_ids(&lib, &ctx.params.all("id"))?
        .into_iter()
        .map(|s| s.to_string())
        .take(MAX_SONGS)
        .collect();
    let current = ctx.params.get("current").map(str::to_owned);
    if let Some(c) = &current {
        if !songs.contains(c) {
            return Err(Fail::bad("current must be one of the queue's ids"));
        }
    }
    let q = PlayQueue {
        songs,
        current,
        position_ms: ctx
            .params
            .number("position")
            .map_err(Fail::bad)?
            .unwrap_or(0),
        changed_ms: now_ms(),
        changed_by: ctx.params.get("c").unwrap_or("app").to_owned(),
    };
    mine::put_field(&ctx.state, &ctx.caller.id, PLAY_QUEUE_FIELD, &q).await?;
    empty()
}
