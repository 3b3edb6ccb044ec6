//! Browsing the catalog: folders, indexes, artists, albums, songs, genres, album lists
//! and search — all read from one catalog snapshot per request.

use std::collections::{BTreeMap, HashMap};

use rand::seq::SliceRandom;
use serde_json::{json, Value};

use super::ctx::{one, Answer, Ctx};
use super::envelope::Fail;
use super::mine::{self, Stars, STARRED_FIELD};
use super::views::{album_id, artist_id, child, Album, Library};
use crate::http::search;

/// The one music folder.
const FOLDER_ID: u32 = 1;
const IGNORED_ARTICLES: &str = "The El La Los Las Le Les";

pub fn license() -> Answer {
    one(
        "license",
        json!({"valid": true, "email": "", "licenseExpires": "2999-12-31T00:00:00.000Z"}),
    )
}

pub fn music_folders() -> Answer {
    one(
        "musicFolders",
        json!({"musicFolder": [{"id": FOLDER_ID, "name": "Music"}]}),
    )
}

/// Artists grouped by first letter (`getArtists` and, the same shape, `getIndexes`).
fn index(lib: &Library) -> Vec<Value> {
    let mut by: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for name in lib.artists() {
        let first = name
            .chars()
            .next()
            .filter(|c| c.is_alphabetic())
            .map_or_else(|| "#".to_owned(), |c| c.to_uppercase().collect());
        by.entry(first)
            .or_default()
            .push(lib.artist_view(name, None));
    }
    by.into_iter()
        .map(|(name, artist)| json!({"name": name, "artist": artist}))
        .collect()
}

pub fn artists(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    one(
        "artists",
        json!({"ignoredArticles": IGNORED_ARTICLES, "index": index(&lib)}),
    )
}

pub fn indexes(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    one(
        "indexes",
        json!({"ignoredArticles": IGNORED_ARTICLES, "lastModified": 0, "index": index(&lib)}),
    )
}

pub async fn artist(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let name = lib.artist(ctx.need("id")?)?;
    let stars: Stars = mine::field(&ctx.state, &ctx.caller.id, STARRED_FIELD)
        .await?
        .unwrap_or_default();
    let mut v = lib.artist_view(name, stars.artists.get(&artist_id(name)).copied());
    let albums: Vec<Value> = lib
        .albums()
        .iter()
        .filter(|a| a.artist == name)
        .map(|a| a.view(stars.albums.get(&a.id).copied()))
        .collect();
    if let Some(o) = v.as_object_mut() {
        o.insert("album".into(), albums.into());
    }
    one("artist", v)
}

pub fn artist_info(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let name = lib.artist(ctx.need("id")?)?;
    // Similar artists: those sharing the artist's genres, most songs first.
    let genres: Vec<&str> = lib
        .catalog
        .songs()
        .iter()
        .filter(|s| s.artist == name)
        .map(|s| s.genre.as_str())
        .collect();
    let count = ctx.count("count", 20, 0, 100)?;
    let mut others: HashMap<&str, usize> = HashMap::new();
    for s in lib.catalog.songs() {
        if s.artist != name && genres.contains(&s.genre.as_str()) {
            *others.entry(s.artist.as_str()).or_default() += 1;
        }
    }
    let mut others: Vec<(&str, usize)> = others.into_iter().collect();
    others.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let similar: Vec<Value> = others
        .into_iter()
        .take(count)
        .map(|(n, _)| lib.artist_view(n, None))
        .collect();
    one("artistInfo2", json!({"similarArtist": similar}))
}

pub async fn album(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let album = lib.album(ctx.need("id")?)?;
    let log = mine::log(&ctx.state, &ctx.caller.id).await?;
    let stars: Stars = mine::field(&ctx.state, &ctx.caller.id, STARRED_FIELD)
        .await?
        .unwrap_or_default();
    let starred = mine::starred_songs(&log, &stars);
    let mut v = album.view(stars.albums.get(&album.id).copied());
    let songs: Vec<Value> = album
        .songs
        .iter()
        .map(|s| child(s, starred.get(&s.id).copied()))
        .collect();
    if let Some(o) = v.as_object_mut() {
        o.insert("song".into(), songs.into());
    }
    one("album", v)
}

pub fn album_info(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let album = lib.album(ctx.need("id")?)?;
    one(
        "albumInfo",
        json!({"notes": format!("{} by {}", album.name, album.artist)}),
    )
}

pub fn song(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let s = lib.song(ctx.need("id")?)?;
    one("song", child(s, None))
}

pub fn genres(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let mut by: BTreeMap<&str, (usize, Vec<String>)> = BTreeMap::new();
    for s in lib.catalog.songs() {
        let e = by.entry(s.genre.as_str()).or_default();
        e.0 += 1;
        e.1.push(album_id(&s.artist, &s.album));
    }
    let genre: Vec<Value> = by
        .into_iter()
        .map(|(name, (songs, mut albums))| {
            albums.sort_unstable();
            albums.dedup();
            json!({"value": name, "songCount": songs, "albumCount": albums.len()})
        })
        .collect();
    one("genres", json!({"genre": genre}))
}

pub fn songs_by_genre(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let genre = ctx.need("genre")?;
    let count = ctx.count("count", 10, 0, 500)?;
    let offset = ctx.count("offset", 0, 0, usize::MAX >> 1)?;
    let songs: Vec<Value> = lib
        .catalog
        .songs()
        .iter()
        .filter(|s| s.genre.eq_ignore_ascii_case(genre))
        .skip(offset)
        .take(count)
        .map(|s| child(s, None))
        .collect();
    one("songsByGenre", json!({"song": songs}))
}

pub async fn album_list(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let kind = ctx.need("type")?;
    let size = ctx.count("size", 10, 0, 500)?;
    let offset = ctx.count("offset", 0, 0, usize::MAX >> 1)?;
    let stars: Stars = mine::field(&ctx.state, &ctx.caller.id, STARRED_FIELD)
        .await?
        .unwrap_or_default();
    let mut albums = lib.albums();
    let year = |a: &Album| a.songs.first().and_then(|s| s.year).unwrap_or(0);
    match kind {
        "random" => albums.shuffle(&mut rand::rng()),
        "newest" => albums.sort_by_key(|a| std::cmp::Reverse(year(a))),
        "alphabeticalByName" => albums.sort_by_key(|a| a.name.to_lowercase()),
        "alphabeticalByArtist" => albums.sort_by_key(|a| a.artist.to_lowercase()),
        "highest" => albums.sort_by(|a, b| {
            let pop = |a: &Album| a.songs.iter().map(|s| s.popularity).sum::<f32>();
            pop(b).total_cmp(&pop(a))
        }),
        "frequent" | "recent" => {
            let log = mine::log(&ctx.state, &ctx.caller.id).await?;
            let plays = mine::plays(&log);
            let of = |a: &Album| -> (u64, u64) {
                a.songs
                    .iter()
                    .filter_map(|s| plays.get(&s.id))
                    .fold((0, 0), |(n, t), (pn, pt)| (n + pn, t.max(*pt)))
            };
            albums.retain(|a| of(a).0 > 0);
            if kind == "frequent" {
                albums.sort_by_key(|a| std::cmp::Reverse(of(a).0));
            } else {
                albums.sort_by_key(|a| std::cmp::Reverse(of(a).1));
            }
        }
        "starred" => albums.retain(|a| stars.albums.contains_key(&a.id)),
        "byGenre" => {
            let genre = ctx.need("genre")?;
            albums.retain(|a| a.songs.iter().any(|s| s.genre.eq_ignore_ascii_case(genre)));
        }
        "byYear" => {
            let from: u16 = ctx
                .params
                .number("fromYear")
                .map_err(Fail::bad)?
                .unwrap_or(0);
            let to: u16 = ctx
                .params
                .number("toYear")
                .map_err(Fail::bad)?
                .unwrap_or(u16::MAX);
            let (lo, hi) = (from.min(to), from.max(to));
            albums.retain(|a| (lo..=hi).contains(&year(a)));
        }
        other => return Err(Fail::bad(format!("unknown album list type {other:?}"))),
    }
    let album: Vec<Value> = albums
        .iter()
        .skip(offset)
        .take(size)
        .map(|a| a.view(stars.albums.get(&a.id).copied()))
        .collect();
    one("albumList2", json!({"album": album}))
}

pub fn search(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    // An empty query (some apps sync the library this way) matches everything.
    let query = ctx
        .params
        .get("query")
        .unwrap_or("")
        .trim_matches('"')
        .trim();
    let song_count = ctx.count("songCount", 20, 0, 500)?;
    let song_offset = ctx.count("songOffset", 0, 0, usize::MAX >> 1)?;
    let album_count = ctx.count("albumCount", 20, 0, 500)?;
    let album_offset = ctx.count("albumOffset", 0, 0, usize::MAX >> 1)?;
    let artist_count = ctx.count("artistCount", 20, 0, 500)?;
    let artist_offset = ctx.count("artistOffset", 0, 0, usize::MAX >> 1)?;
    let songs: Vec<&crate::catalog::Song> = if query.is_empty() {
        lib.catalog.songs().iter().collect()
    } else {
        search::rank(lib.catalog.songs(), query, usize::MAX >> 1).0
    };
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let matches = |text: &str| {
        let t = text.to_lowercase();
        words.iter().all(|w| t.contains(w.as_str()))
    };
    let artist: Vec<Value> = lib
        .artists()
        .into_iter()
        .filter(|a| matches(a))
        .skip(artist_offset)
        .take(artist_count)
        .map(|a| lib.artist_view(a, None))
        .collect();
    let album: Vec<Value> = lib
        .albums()
        .iter()
        .filter(|a| matches(&format!("{} {}", a.name, a.artist)))
        .skip(album_offset)
        .take(album_count)
        .map(|a| a.view(None))
        .collect();
    let song: Vec<Value> = songs
        .into_iter()
        .skip(song_offset)
        .take(song_count)
        .map(|s| child(s, None))
        .collect();
    one(
        "searchResult3",
        json!({"artist": artist, "album": album, "song": song}),
    )
}

pub fn user(ctx: &Ctx) -> Answer {
    let name = ctx
        .params
        .get("username")
        .unwrap_or(ctx.caller.username.as_str());
    if name != ctx.caller.username.as_str() {
        return Err(Fail::new(50, "you may only see your own user"));
    }
    one(
        "user",
        json!({
            "username": name, "scrobblingEnabled": true, "adminRole": false,
            "settingsRole": false, "downloadRole": true, "uploadRole": false,
            "playlistRole": true, "coverArtRole": false, "commentRole": false,
            "podcastRole": false, "streamRole": true, "jukeboxRole": false,
            "shareRole": false, "videoConversionRole": false, "folder": [FOLDER_ID],
        }),
    )
}
