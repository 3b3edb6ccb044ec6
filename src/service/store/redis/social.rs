//! The social graph, privacy and activity in Redis. Each listener keeps its own side
//! of every edge under its own tag — `{L}:following`, `{L}:followers`, `{L}:blocked`
//! (sorted sets, score = when, ms) — plus `{L}:privacy` (a hash: `share`,
//! `private_until`) and `{L}:activity` (a list, newest at the head, capped). So every
//! call touches one slot, and a listener followed by thousands costs one list push per
//! activity: friends merge the followees' lists when they read (no per-follower copy).
//!
//! An edge has two sides in two slots, written one after the other on the durable
//! path, each step a script that is safe to re-send:
//! - follow: the followee's side first (refused there, atomically, when the followee
//!   blocked the follower), then the follower's;
//! - block: the blocker's side first (the block holds from then on, and its follows
//!   either way go), then the blocked listener's side loses its follows of the blocker.
//!
//! A follow racing a block of the same pair can leave a stale `following` entry on the
//! blocked side; what it could expose is checked where it is read (`visible_activity`
//! checks the block in the owner's slot, in the same script as the read).

use ::redis::{AsyncCommands, Script};
use std::sync::LazyLock;

use super::{keys, Durable, RedisStore};
use crate::store::codec::{from_json, to_json};
use crate::store::*;

static FOLLOW: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/follow.lua")));
static EDGE_ADD: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/edge_add.lua")));
static EDGE_REMOVE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/edge_remove.lua")));
static BLOCK: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/block.lua")));
static SET_PRIVACY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/set_privacy.lua")));
static PUSH_ACTIVITY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/push_activity.lua")));
static VISIBLE_ACTIVITY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/visible_activity.lua")));

const FOLLOWING: &str = "following";
const FOLLOWERS: &str = "followers";
const BLOCKED: &str = "blocked";
const PRIVACY: &str = "privacy";
const ACTIVITY: &str = "activity";

fn parse_ids(ids: Vec<String>, whose: &ListenerId) -> StoreResult<Vec<ListenerId>> {
    ids.iter()
        .map(|id| {
            ListenerId::parse(id)
                .map_err(|e| StoreError::Corrupt(format!("social edge of {whose}: {e}")))
        })
        .collect()
}

fn parse_entries(raw: Vec<Vec<u8>>) -> StoreResult<Vec<ActivityEntry>> {
    raw.iter().map(|b| from_json(b, "activity")).collect()
}

pub(super) async fn follow(
    s: &RedisStore,
    follower: &ListenerId,
    followee: &ListenerId,
) -> StoreResult<FollowOutcome> {
    let now = now_ms();
    let theirs = Durable::new(&FOLLOW)
        .key(keys::listener(followee, BLOCKED))
        .key(keys::listener(followee, FOLLOWERS))
        .arg(follower.as_str())
        .arg(now);
    let followed: i64 = s.durable(theirs, "follow").await?;
    if followed == 0 {
        return Ok(FollowOutcome::Blocked);
    }
    let ours = Durable::new(&EDGE_ADD)
        .key(keys::listener(follower, FOLLOWING))
        .arg(followee.as_str())
        .arg(now);
    let _: i64 = s.durable(ours, "follow").await?;
    Ok(FollowOutcome::Followed)
}

/// Removes `member` from `owner`'s zsets named in `which` (one slot).
async fn remove_edges(
    s: &RedisStore,
    owner: &ListenerId,
    which: &[&str],
    member: &ListenerId,
    op: &str,
) -> StoreResult<()> {
    let mut call = Durable::new(&EDGE_REMOVE);
    for w in which {
        call = call.key(keys::listener(owner, w));
    }
    let _: i64 = s.durable(call.arg(member.as_str()), op).await?;
    Ok(())
}

pub(super) async fn unfollow(
    s: &RedisStore,
    follower: &ListenerId,
    followee: &ListenerId,
) -> StoreResult<()> {
    remove_edges(s, follower, &[FOLLOWING], followee, "unfollow").await?;
    remove_edges(s, followee, &[FOLLOWERS], follower, "unfollow").await
}

pub(super) async fn block(
    s: &RedisStore,
    blocker: &ListenerId,
    blocked: &ListenerId,
) -> StoreResult<()> {
    let ours = Durable::new(&BLOCK)
        .key(keys::listener(blocker, BLOCKED))
        .key(keys::listener(blocker, FOLLOWERS))
        .key(keys::listener(blocker, FOLLOWING))
        .arg(blocked.as_str())
        .arg(now_ms());
    let _: i64 = s.durable(ours, "block").await?;
    remove_edges(s, blocked, &[FOLLOWING, FOLLOWERS], blocker, "block").await
}

pub(super) async fn unblock(
    s: &RedisStore,
    blocker: &ListenerId,
    blocked: &ListenerId,
) -> StoreResult<()> {
    remove_edges(s, blocker, &[BLOCKED], blocked, "unblock").await
}

/// `owner`'s zset `which`, newest first, at most `limit`.
pub(super) async fn edges(
    s: &RedisStore,
    owner: &ListenerId,
    which: &str,
    limit: usize,
) -> StoreResult<Vec<ListenerId>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let stop = isize::try_from(limit - 1).unwrap_or(isize::MAX);
    let ids: Vec<String> = s
        .conn()
        .zrevrange(keys::listener(owner, which), 0, stop)
        .await
        .map_err(s.err("read social edges"))?;
    parse_ids(ids, owner)
}

pub(super) async fn following(
    s: &RedisStore,
    l: &ListenerId,
    limit: usize,
) -> StoreResult<Vec<ListenerId>> {
    edges(s, l, FOLLOWING, limit).await
}

pub(super) async fn followers(
    s: &RedisStore,
    l: &ListenerId,
    limit: usize,
) -> StoreResult<Vec<ListenerId>> {
    edges(s, l, FOLLOWERS, limit).await
}

pub(super) async fn blocked(
    s: &RedisStore,
    l: &ListenerId,
    limit: usize,
) -> StoreResult<Vec<ListenerId>> {
    edges(s, l, BLOCKED, limit).await
}

pub(super) async fn is_blocked(
    s: &RedisStore,
    blocker: &ListenerId,
    blocked: &ListenerId,
) -> StoreResult<bool> {
    let score: Option<f64> = s
        .conn()
        .zscore(keys::listener(blocker, BLOCKED), blocked.as_str())
        .await
        .map_err(s.err("read block"))?;
    Ok(score.is_some())
}

pub(super) async fn privacy(s: &RedisStore, l: &ListenerId) -> StoreResult<Privacy> {
    let (share, until): (Option<String>, Option<String>) = ::redis::cmd("HMGET")
        .arg(keys::listener(l, PRIVACY))
        .arg("share")
        .arg("private_until")
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("read privacy"))?;
    let private_session_until_ms = until
        .map(|u| {
            u.parse::<u64>()
                .map_err(|_| StoreError::Corrupt(format!("privacy of {l}: bad private_until")))
        })
        .transpose()?;
    Ok(Privacy {
        share_activity: share.as_deref() == Some("1"),
        private_session_until_ms,
    })
}

pub(super) async fn set_privacy(
    s: &RedisStore,
    l: &ListenerId,
    privacy: &Privacy,
) -> StoreResult<()> {
    let until = privacy
        .private_session_until_ms
        .map(|u| u.to_string())
        .unwrap_or_default();
    let call = Durable::new(&SET_PRIVACY)
        .key(keys::listener(l, PRIVACY))
        .arg(if privacy.share_activity { "1" } else { "0" })
        .arg(until);
    let _: i64 = s.durable(call, "set privacy").await?;
    Ok(())
}

/// Adds the activity keys and arguments `append.lua` shares an entry with (the same
/// ones `push_activity.lua` takes).
pub(super) fn share_keys<'s>(
    call: Durable<'s>,
    l: &ListenerId,
    entry: &ActivityEntry,
) -> StoreResult<Durable<'s>> {
    Ok(call
        .key(keys::listener(l, PRIVACY))
        .key(keys::listener(l, ACTIVITY))
        .arg_bytes(&to_json(entry, "activity")?)
        .arg(entry.at_ms)
        .arg(ACTIVITY_CAP))
}

pub(super) async fn push_activity(
    s: &RedisStore,
    l: &ListenerId,
    entry: &ActivityEntry,
) -> StoreResult<bool> {
    let call = share_keys(Durable::new(&PUSH_ACTIVITY), l, entry)?;
    let recorded: i64 = s.durable(call, "push activity").await?;
    Ok(recorded == 1)
}

pub(super) async fn activity(
    s: &RedisStore,
    l: &ListenerId,
    limit: usize,
) -> StoreResult<Vec<ActivityEntry>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let stop = isize::try_from(limit - 1).unwrap_or(isize::MAX);
    let raw: Vec<Vec<u8>> = s
        .conn()
        .lrange(keys::listener(l, ACTIVITY), 0, stop)
        .await
        .map_err(s.err("read activity"))?;
    parse_entries(raw)
}

pub(super) async fn visible_activity(
    s: &RedisStore,
    owner: &ListenerId,
    viewer: &ListenerId,
    limit: usize,
) -> StoreResult<Vec<ActivityEntry>> {
    let raw: Vec<Vec<u8>> = VISIBLE_ACTIVITY
        .key(keys::listener(owner, PRIVACY))
        .key(keys::listener(owner, BLOCKED))
        .key(keys::listener(owner, ACTIVITY))
        .arg(viewer.as_str())
        .arg(limit)
        .invoke_async(&mut s.conn())
        .await
        .map_err(s.err("read visible activity"))?;
    parse_entries(raw)
}
