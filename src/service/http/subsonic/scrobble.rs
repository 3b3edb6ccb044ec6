//! Listening from apps, as the same interactions the web app sends (through
//! `http::interactions::record`: counted, durable and idempotent before the answer,
//! then the owner's actor is told).
//!
//! - `scrobble submission=true` is a finish.
//! - `scrobble submission=false` is "now playing". When a listener's app starts another
//!   song more than [`SKIP_MARGIN_MS`] (or, for a song under a minute, half the song)
//!   before the end of the one it last said it played (and no finish for that one came),
//!   that one was skipped at the elapsed time — in the manner of ListenBrainz. What plays now is kept in an app field, so it holds across
//!   nodes, and shared with the listener's followers as "playing" (`http::activity`).
//! - `getNowPlaying`: the caller's own, then the followed friends playing now.
//! - `star`/`unstar` songs: a star is a like; an un-star is kept apart (`mine`).
//!   Albums and artists are starred in an app field.
//! - `setRating`: 4–5 is a like, 1–2 a dislike, 3 and 0 (no rating) teach nothing.
//!
//! Client ids are derived from what the app sent (song and time), so an app that
//! retries a scrobble does not log it twice.

use std::collections::HashSet;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::ctx::{empty, one, Answer, Ctx};
use super::envelope::Fail;
use super::mine::{self, NowPlaying, Stars, NOW_PLAYING_FIELD, STARRED_FIELD};
use super::views::{child, Library};
use crate::catalog::Song;
use crate::http::activity;
use crate::http::interactions::{record, Refused};
use crate::store::{now_ms, ActivityKind, ClientId, Interaction, InteractionKind};

/// A song left more than this long before its end was skipped.
pub const SKIP_MARGIN_MS: u64 = 30_000;

/// True when a song left after `elapsed` of its `duration` was skipped: more than
/// [`SKIP_MARGIN_MS`] before its end, or more than half of it when it is shorter than
/// twice that.
pub fn is_skip(elapsed_ms: u64, duration_ms: u64) -> bool {
    let margin = SKIP_MARGIN_MS.min(duration_ms / 2);
    elapsed_ms + margin < duration_ms
}

fn client_id(parts: &[&str]) -> Result<ClientId, Fail> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    ClientId::parse(&format!("subsonic-{hex}")).map_err(|e| Fail::generic(e.to_string()))
}

/// Appends one interaction for the caller; durable when it returns `Ok`.
async fn log(
    ctx: &Ctx,
    song: &Song,
    kind: InteractionKind,
    position_ms: u64,
    id: ClientId,
) -> Result<(), Fail> {
    let interaction = Interaction {
        id,
        song_id: song.id.clone(),
        kind,
        position_ms: position_ms.min(song.duration_ms),
        at_ms: now_ms(),
    };
    match record(&ctx.state, &ctx.caller.id, &interaction).await {
        Ok(_) => Ok(()),
        Err(Refused::RateLimited(_)) => Err(Fail::generic(
            "too many interactions this minute; nothing was stored — retry later",
        )),
        Err(Refused::Failed(e)) => Err(Fail::from(e)),
    }
}

pub async fn scrobble(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let ids = ctx.params.all("id");
    if ids.is_empty() {
        return Err(Fail::missing("id"));
    }
    let times = ctx.params.all("time");
    let submission = ctx.params.flag("submission", true);
    let player = ctx.params.get("c").unwrap_or("app").to_owned();
    for (i, raw) in ids.iter().enumerate() {
        let song = lib.song(raw)?;
        let time: Option<u64> = match times.get(i) {
            Some(t) => Some(
                t.parse()
                    .map_err(|_| Fail::bad(format!("time is not a number: {t:?}")))?,
            ),
            None => None,
        };
        if submission {
            finish(ctx, song, time).await?;
        } else {
            now_playing(ctx, &lib, song, time, &player).await?;
        }
    }
    empty()
}

async fn finish(ctx: &Ctx, song: &Song, time: Option<u64>) -> Result<(), Fail> {
    let at = time.unwrap_or_else(now_ms).to_string();
    let id = client_id(&["finish", song.id.as_str(), &at])?;
    log(ctx, song, InteractionKind::Finished, song.duration_ms, id).await?;
    let playing: Option<NowPlaying> =
        mine::field(&ctx.state, &ctx.caller.id, NOW_PLAYING_FIELD).await?;
    match playing {
        Some(mut p) if p.song == song.id.as_str() => {
            p.finished = true;
            mine::put_field(&ctx.state, &ctx.caller.id, NOW_PLAYING_FIELD, &p).await
        }
        // A finish for a song no app announced: the previous announcement may still
        // be a skip, decided when the next one comes.
        _ => Ok(()),
    }
}

async fn now_playing(
    ctx: &Ctx,
    lib: &Library,
    song: &Song,
    time: Option<u64>,
    player: &str,
) -> Result<(), Fail> {
    let started = time.unwrap_or_else(now_ms);
    let before: Option<NowPlaying> =
        mine::field(&ctx.state, &ctx.caller.id, NOW_PLAYING_FIELD).await?;
    if let Some(prev) = before {
        if started < prev.started_ms {
            // An announcement older than the one we have (a retry, a queue synced
            // late): neither a skip nor what plays now.
            return Ok(());
        }
        let same = prev.song == song.id.as_str() && prev.started_ms == started;
        if !same && !prev.finished && started > prev.started_ms {
            if let Ok(left) = lib.song(&prev.song) {
                let elapsed = started.saturating_sub(prev.started_ms);
                if is_skip(elapsed, left.duration_ms) {
                    let id = client_id(&["skip", &prev.song, &prev.started_ms.to_string()])?;
                    log(ctx, left, InteractionKind::Skipped, elapsed, id).await?;
                }
            }
        }
    }
    let now = NowPlaying {
        song: song.id.to_string(),
        started_ms: started,
        finished: false,
        player: player.to_owned(),
    };
    mine::put_field(&ctx.state, &ctx.caller.id, NOW_PLAYING_FIELD, &now).await?;
    // Friends see it too, if the listener shares (issue 17).
    activity::share(
        &ctx.state.store,
        &ctx.caller.id,
        &song.id,
        ActivityKind::Playing,
        started,
    )
    .await;
    Ok(())
}

pub async fn star(ctx: &Ctx, on: bool) -> Answer {
    let lib = ctx.library()?;
    let now = now_ms();
    let mut stars: Stars = mine::field(&ctx.state, &ctx.caller.id, STARRED_FIELD)
        .await?
        .unwrap_or_default();
    for raw in ctx.params.all("id") {
        let song = lib.song(raw)?;
        if on {
            let id = client_id(&["star", song.id.as_str(), &now.to_string()])?;
            log(ctx, song, InteractionKind::Liked, 0, id).await?;
        } else {
            stars.unstarred_songs.insert(song.id.to_string(), now);
        }
    }
    for raw in ctx.params.all("albumId") {
        let album = lib.album(raw)?;
        if on {
            stars.albums.insert(album.id, now);
        } else {
            stars.albums.remove(&album.id);
        }
    }
    for raw in ctx.params.all("artistId") {
        let artist = lib.artist(raw)?;
        let id = super::views::artist_id(artist);
        if on {
            stars.artists.insert(id, now);
        } else {
            stars.artists.remove(&id);
        }
    }
    mine::put_field(&ctx.state, &ctx.caller.id, STARRED_FIELD, &stars).await?;
    empty()
}

pub async fn set_rating(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let song = lib.song(ctx.need("id")?)?;
    let rating: i64 = ctx
        .params
        .number("rating")
        .map_err(Fail::bad)?
        .ok_or_else(|| Fail::missing("rating"))?;
    let kind = match rating {
        4 | 5 => InteractionKind::Liked,
        1 | 2 => InteractionKind::Disliked,
        0 | 3 => return empty(),
        _ => return Err(Fail::bad("rating must be 0-5")),
    };
    let id = client_id(&["rate", song.id.as_str(), &now_ms().to_string()])?;
    log(ctx, song, kind, 0, id).await?;
    empty()
}

/// What the caller's apps play now, then the followed friends who share and play
/// something now (issue 17).
pub async fn now_playing_list(ctx: &Ctx) -> Answer {
    let lib = ctx.library()?;
    let playing: Option<NowPlaying> =
        mine::field(&ctx.state, &ctx.caller.id, NOW_PLAYING_FIELD).await?;
    let mut entry = Vec::new();
    if let Some(p) = playing.filter(|p| !p.finished) {
        if let Ok(song) = lib.song(&p.song) {
            let age_ms = now_ms().saturating_sub(p.started_ms);
            if age_ms < song.duration_ms + SKIP_MARGIN_MS {
                let mut v = child(song, None);
                if let Some(o) = v.as_object_mut() {
                    o.insert("username".into(), ctx.caller.username.to_string().into());
                    o.insert("minutesAgo".into(), (age_ms / 60_000).into());
                    o.insert("playerId".into(), 0.into());
                    o.insert("playerName".into(), p.player.into());
                }
                entry.push(v);
            }
        }
    }
    entry.extend(friends_playing(ctx, &lib).await?);
    one("nowPlaying", json!({"entry": entry}))
}

/// Entries the caller's friends read for their feed: enough to find each friend's
/// latest.
const FRIENDS_SCAN: usize = 100;

/// The people the caller follows who share and are playing a song now: their newest
/// activity is "playing" and the song has not had time to end.
async fn friends_playing(ctx: &Ctx, lib: &Library) -> Result<Vec<Value>, Fail> {
    let store = &ctx.state.store;
    let recent = activity::friend_activity(store, &ctx.caller.id, FRIENDS_SCAN).await?;
    let now = now_ms();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (friend, e) in recent {
        if !seen.insert(friend.clone()) || e.kind != ActivityKind::Playing {
            continue;
        }
        let Ok(song) = lib.song(e.song_id.as_str()) else {
            continue;
        };
        let age_ms = now.saturating_sub(e.at_ms);
        if age_ms >= song.duration_ms + SKIP_MARGIN_MS {
            continue;
        }
        let Some(account) = store
            .account(&friend)
            .await
            .map_err(crate::http::ApiError::from)?
        else {
            continue;
        };
        let mut v = child(song, None);
        if let Some(o) = v.as_object_mut() {
            o.insert("username".into(), account.username.to_string().into());
            o.insert("minutesAgo".into(), (age_ms / 60_000).into());
            o.insert("playerId".into(), 0.into());
            o.insert("playerName".into(), "spoofify".into());
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_is_leaving_more_than_30_s_or_half_a_short_song_before_its_end() {
        assert!(is_skip(10_000, 240_000));
        assert!(is_skip(209_999, 240_000));
        assert!(!is_skip(210_000, 240_000));
        assert!(is_skip(7_000, 31_000));
        assert!(!is_skip(16_000, 31_000));
        assert!(!is_skip(0, 0));
    }
}
