//! The endpoints that learn from the listener: similar songs (by song, by artist), top
//! songs, random songs weighted by their model, their stars, and the feed itself (the
//! Spoofify extension `getFeed`).
//!
//! Similar songs are the web app's radio (`model::radio`: candidates close to the seed
//! in audio and co-occurrence, re-ranked with the listener's own scores from their
//! owner actor via `cluster::scoring`, so any node answers). Top and random songs are
//! scored the same way. When the owner cannot answer in time they fall back to the
//! catalog's own order (closeness, popularity), as the web radio does.

use std::collections::HashSet;

use rand::Rng;
use serde_json::{json, Value};

use super::ctx::{one, Answer, Ctx};
use super::envelope::Fail;
use super::mine::{self, Stars, STARRED_FIELD};
use super::views::child;
use crate::catalog::Song;
use crate::cluster::routing::FeedError;
use crate::cluster::wire::{MAX_FEED_ITEMS, MAX_SCORE_SONGS};
use crate::model::radio::{self, Seed};
use crate::model::CatalogIndex;

/// Most songs a learned list holds.
const MAX_SONGS: usize = 100;

fn index(ctx: &Ctx) -> Result<std::sync::Arc<CatalogIndex>, Fail> {
    ctx.state
        .cluster
        .index()
        .ok_or_else(|| Fail::generic("the catalog is still loading; retry in a few seconds"))
}

/// The radio from `seed` for the caller, at most `limit` songs.
async fn radio_songs(ctx: &Ctx, index: &CatalogIndex, seed: &Seed, limit: usize) -> Vec<Value> {
    let candidates = radio::candidates(index, seed);
    let songs: Vec<u32> = candidates.iter().map(|c| c.song).collect();
    let personal = ctx.state.cluster.score(&ctx.caller.id, &songs).await;
    if let Err(why) = &personal {
        tracing::info!(reason = %why, "similar songs without the listener's scores");
    }
    let ranked = radio::rank(
        index,
        seed,
        &candidates,
        personal.as_ref().ok().map(Vec::as_slice),
        limit,
    );
    let catalog = index.catalog();
    ranked
        .into_iter()
        .filter_map(|i| catalog.get(&i.song_id).map(|s| child(s, None)))
        .collect()
}

pub async fn similar_songs(ctx: &Ctx) -> Answer {
    let index = index(ctx)?;
    let raw = ctx.need("id")?;
    let count = ctx.count("count", 50, 1, MAX_SONGS)?;
    let lib = ctx.library()?;
    let song = lib.song(raw)?;
    let i = index
        .index_of(&song.id)
        .ok_or_else(|| Fail::not_found(format!("no song {raw:?}")))?;
    let songs = radio_songs(ctx, &index, &Seed::Song(i), count).await;
    one("similarSongs", json!({"song": songs}))
}

pub async fn similar_songs_by_artist(ctx: &Ctx) -> Answer {
    let index = index(ctx)?;
    let count = ctx.count("count", 50, 1, MAX_SONGS)?;
    let lib = ctx.library()?;
    let name = lib.artist(ctx.need("id")?)?;
    let seed = Seed::artist(&index, name)
        .ok_or_else(|| Fail::not_found(format!("no songs by {name:?}")))?;
    let songs = radio_songs(ctx, &index, &seed, count).await;
    one("similarSongs2", json!({"song": songs}))
}

/// The caller's scores for these songs (`None` = leave out); popularity when their
/// owner cannot answer.
async fn scored<'s>(ctx: &Ctx, index: &CatalogIndex, songs: &[&'s Song]) -> Vec<(&'s Song, f32)> {
    let rows: Vec<Option<u32>> = songs.iter().map(|s| index.index_of(&s.id)).collect();
    let known: Vec<u32> = rows.iter().flatten().copied().collect();
    let scores = ctx.state.cluster.score(&ctx.caller.id, &known).await;
    match scores {
        Ok(scores) => {
            let mut it = scores.into_iter();
            songs
                .iter()
                .zip(rows)
                .filter_map(|(s, row)| row.and_then(|_| it.next().flatten()).map(|sc| (*s, sc)))
                .collect()
        }
        Err(why) => {
            tracing::info!(reason = %why, "ranking without the listener's scores");
            songs.iter().map(|s| (*s, s.popularity)).collect()
        }
    }
}

pub async fn top_songs(ctx: &Ctx) -> Answer {
    let index = index(ctx)?;
    let artist = ctx.need("artist")?;
    let count = ctx.count("count", 50, 1, MAX_SONGS)?;
    let catalog = index.catalog();
    let songs: Vec<&Song> = catalog
        .songs()
        .iter()
        .filter(|s| s.artist.eq_ignore_ascii_case(artist))
        .take(MAX_SCORE_SONGS)
        .collect();
    let mut ranked = scored(ctx, &index, &songs).await;
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let song: Vec<Value> = ranked
        .into_iter()
        .take(count)
        .map(|(s, _)| child(s, None))
        .collect();
    one("topSongs", json!({"song": song}))
}

/// Random songs, drawn with weights from the listener's model: a random pool (within
/// the genre and years asked), scored, then drawn without replacement with weights
/// falling with the score's rank — liked-like songs come often, others still now and
/// then, banned ones (repeatedly skipped) never.
pub async fn random_songs(ctx: &Ctx) -> Answer {
    let index = index(ctx)?;
    let size = ctx.count("size", 10, 1, 500)?;
    let genre = ctx.params.get("genre");
    let from: Option<u16> = ctx.params.number("fromYear").map_err(Fail::bad)?;
    let to: Option<u16> = ctx.params.number("toYear").map_err(Fail::bad)?;
    let catalog = index.catalog();
    let mut pool: Vec<&Song> = catalog
        .songs()
        .iter()
        .filter(|s| genre.is_none_or(|g| s.genre.eq_ignore_ascii_case(g)))
        .filter(|s| from.is_none_or(|f| s.year.is_some_and(|y| y >= f)))
        .filter(|s| to.is_none_or(|t| s.year.is_some_and(|y| y <= t)))
        .collect();
    rand::seq::SliceRandom::shuffle(pool.as_mut_slice(), &mut rand::rng());
    pool.truncate(MAX_SCORE_SONGS.min(size * 8).max(size));
    let mut ranked = scored(ctx, &index, &pool).await;
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    // Efraimidis–Spirakis: key = u^(1/w), keep the largest keys.
    let half = (ranked.len() as f64 / 4.0).max(1.0);
    let mut rng = rand::rng();
    let mut keyed: Vec<(f64, &Song)> = ranked
        .iter()
        .enumerate()
        .map(|(rank, (s, _))| {
            let w = 1.0 / (1.0 + rank as f64 / half).powi(2);
            let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
            (u.powf(1.0 / w), *s)
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
    let song: Vec<Value> = keyed
        .into_iter()
        .take(size)
        .map(|(_, s)| child(s, None))
        .collect();
    one("randomSongs", json!({"song": song}))
}

pub async fn starred(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let log = mine::log(&ctx.state, &ctx.caller.id).await?;
    let stars: Stars = mine::field(&ctx.state, &ctx.caller.id, STARRED_FIELD)
        .await?
        .unwrap_or_default();
    let mut songs: Vec<(&Song, u64)> = mine::starred_songs(&log, &stars)
        .into_iter()
        .filter_map(|(id, at)| lib.catalog.get(&id).map(|s| (s, at)))
        .collect();
    songs.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
    let song: Vec<Value> = songs.iter().map(|(s, at)| child(s, Some(*at))).collect();
    let album: Vec<Value> = lib
        .albums()
        .iter()
        .filter_map(|a| stars.albums.get(&a.id).map(|at| a.view(Some(*at))))
        .collect();
    let artist: Vec<Value> = lib
        .artists()
        .into_iter()
        .filter_map(|n| {
            stars
                .artists
                .get(&super::views::artist_id(n))
                .map(|at| lib.artist_view(n, Some(*at)))
        })
        .collect();
    one(
        "starred2",
        json!({"song": song, "album": album, "artist": artist}),
    )
}

/// The Spoofify extension: the listener's feed, ranked by their own model.
pub async fn feed(ctx: &Ctx) -> Answer {
    let count = ctx.count("count", 20, 1, MAX_FEED_ITEMS)?;
    let lib = ctx.library()?;
    let routed = ctx
        .state
        .cluster
        .feed(&ctx.caller.id, count)
        .await
        .map_err(|e| match e {
            FeedError::NotReady => Fail::generic("the catalog is still loading"),
        })?;
    let mut seen = HashSet::new();
    let song: Vec<Value> = routed
        .items
        .into_iter()
        .filter(|i| seen.insert(i.song_id.clone()))
        .filter_map(|i| {
            let s = lib.catalog.get(&i.song_id)?;
            let mut v = child(s, None);
            if let Some(o) = v.as_object_mut() {
                o.insert("reason".into(), i.reason.into());
            }
            Some(v)
        })
        .collect();
    one(
        "feed",
        json!({"song": song, "degraded": routed.degraded.is_some()}),
    )
}
