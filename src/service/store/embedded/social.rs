//! The social graph, privacy and activity in the embedded file. Each listener's side
//! of an edge is a row keyed by (listener, other) holding the time it was made, so a
//! listener's lists are one range read; each function is the body of one transaction
//! (so here, unlike Redis, both sides of an edge change in one step).

use redb::{ReadTransaction, ReadableTable, Table, TableDefinition, WriteTransaction};
use std::path::Path;

use super::{At, ACTIVITY, BLOCKED, FOLLOWERS, FOLLOWING, PRIVACY};
use crate::store::codec::{from_json, to_json};
use crate::store::*;

type Edges = TableDefinition<'static, (&'static str, &'static str), u64>;

pub(super) fn follow(
    txn: &WriteTransaction,
    p: &Path,
    follower: &ListenerId,
    followee: &ListenerId,
    now: u64,
) -> StoreResult<FollowOutcome> {
    let blocked = txn.open_table(BLOCKED).at(p)?;
    if blocked
        .get((followee.as_str(), follower.as_str()))
        .at(p)?
        .is_some()
    {
        return Ok(FollowOutcome::Blocked);
    }
    add_edge(
        &mut txn.open_table(FOLLOWING).at(p)?,
        p,
        follower,
        followee,
        now,
    )?;
    add_edge(
        &mut txn.open_table(FOLLOWERS).at(p)?,
        p,
        followee,
        follower,
        now,
    )?;
    Ok(FollowOutcome::Followed)
}

/// Adds `(from, to)` unless present (a repeated follow keeps its first time).
fn add_edge(
    table: &mut Table<(&str, &str), u64>,
    p: &Path,
    from: &ListenerId,
    to: &ListenerId,
    now: u64,
) -> StoreResult<()> {
    let key = (from.as_str(), to.as_str());
    if table.get(key).at(p)?.is_none() {
        table.insert(key, now).at(p)?;
    }
    Ok(())
}

fn remove_edge(
    txn: &WriteTransaction,
    p: &Path,
    table: Edges,
    from: &ListenerId,
    to: &ListenerId,
) -> StoreResult<()> {
    txn.open_table(table)
        .at(p)?
        .remove((from.as_str(), to.as_str()))
        .at(p)?;
    Ok(())
}

pub(super) fn unfollow(
    txn: &WriteTransaction,
    p: &Path,
    follower: &ListenerId,
    followee: &ListenerId,
) -> StoreResult<()> {
    remove_edge(txn, p, FOLLOWING, follower, followee)?;
    remove_edge(txn, p, FOLLOWERS, followee, follower)
}

pub(super) fn block(
    txn: &WriteTransaction,
    p: &Path,
    blocker: &ListenerId,
    blocked: &ListenerId,
    now: u64,
) -> StoreResult<()> {
    add_edge(
        &mut txn.open_table(BLOCKED).at(p)?,
        p,
        blocker,
        blocked,
        now,
    )?;
    unfollow(txn, p, blocker, blocked)?;
    unfollow(txn, p, blocked, blocker)
}

pub(super) fn unblock(
    txn: &WriteTransaction,
    p: &Path,
    blocker: &ListenerId,
    blocked: &ListenerId,
) -> StoreResult<()> {
    remove_edge(txn, p, BLOCKED, blocker, blocked)
}

/// `from`'s edges in `table`, newest first (ties: larger id first, as Redis's
/// reverse score order), at most `limit`.
pub(super) fn edges(
    txn: &ReadTransaction,
    p: &Path,
    table: Edges,
    from: &ListenerId,
    limit: usize,
) -> StoreResult<Vec<ListenerId>> {
    let table = txn.open_table(table).at(p)?;
    let mut all = Vec::new();
    for entry in table.range((from.as_str(), "")..).at(p)? {
        let (k, v) = entry.at(p)?;
        let (owner, other) = k.value();
        if owner != from.as_str() {
            break;
        }
        let other = ListenerId::parse(other)
            .map_err(|e| StoreError::Corrupt(format!("social edge of {from}: {e}")))?;
        all.push((v.value(), other));
    }
    all.sort_by(|a, b| b.cmp(a));
    Ok(all.into_iter().take(limit).map(|(_, id)| id).collect())
}

pub(super) fn is_blocked(
    txn: &ReadTransaction,
    p: &Path,
    blocker: &ListenerId,
    blocked: &ListenerId,
) -> StoreResult<bool> {
    let table = txn.open_table(BLOCKED).at(p)?;
    Ok(table
        .get((blocker.as_str(), blocked.as_str()))
        .at(p)?
        .is_some())
}

fn read_privacy(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    p: &Path,
    listener: &ListenerId,
) -> StoreResult<Privacy> {
    match table.get(listener.as_str()).at(p)? {
        Some(v) => from_json(v.value(), "privacy"),
        None => Ok(Privacy::default()),
    }
}

pub(super) fn privacy(
    txn: &ReadTransaction,
    p: &Path,
    listener: &ListenerId,
) -> StoreResult<Privacy> {
    read_privacy(&txn.open_table(PRIVACY).at(p)?, p, listener)
}

pub(super) fn set_privacy(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
    privacy: &Privacy,
) -> StoreResult<()> {
    let bytes = to_json(privacy, "privacy")?;
    txn.open_table(PRIVACY)
        .at(p)?
        .insert(listener.as_str(), bytes.as_slice())
        .at(p)?;
    Ok(())
}

pub(super) fn push_activity(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
    entry: &ActivityEntry,
) -> StoreResult<bool> {
    let privacy = read_privacy(&txn.open_table(PRIVACY).at(p)?, p, listener)?;
    if !privacy.records_at(entry.at_ms) {
        return Ok(false);
    }
    let mut table = txn.open_table(ACTIVITY).at(p)?;
    let l = listener.as_str();
    let (newest, oldest) = {
        let mut rows = table.range((l, 0)..=(l, u64::MAX)).at(p)?;
        let newest = match rows.next_back() {
            Some(row) => {
                let (k, v) = row.at(p)?;
                Some((
                    k.value().1,
                    from_json::<ActivityEntry>(v.value(), "activity")?,
                ))
            }
            None => None,
        };
        let oldest = match rows.next() {
            Some(row) => Some(row.at(p)?.0.value().1),
            None => newest.as_ref().map(|(n, _)| *n),
        };
        (newest, oldest)
    };
    if let Some((_, last)) = &newest {
        if last == entry {
            return Ok(true);
        }
    }
    let next = newest.map(|(n, _)| n + 1).unwrap_or(1);
    let bytes = to_json(entry, "activity")?;
    table.insert((l, next), bytes.as_slice()).at(p)?;
    // Keep the newest ACTIVITY_CAP: rows are numbered without gaps, so everything
    // below `next - CAP + 1` goes (usually one row).
    let keep_from = (next + 1).saturating_sub(ACTIVITY_CAP as u64);
    if let Some(oldest) = oldest {
        for n in oldest..keep_from {
            table.remove((l, n)).at(p)?;
        }
    }
    Ok(true)
}

pub(super) fn activity(
    txn: &ReadTransaction,
    p: &Path,
    listener: &ListenerId,
    limit: usize,
) -> StoreResult<Vec<ActivityEntry>> {
    let table = txn.open_table(ACTIVITY).at(p)?;
    let l = listener.as_str();
    let mut out = Vec::new();
    for row in table.range((l, 0)..=(l, u64::MAX)).at(p)?.rev().take(limit) {
        let (_, v) = row.at(p)?;
        out.push(from_json(v.value(), "activity")?);
    }
    Ok(out)
}

pub(super) fn visible_activity(
    txn: &ReadTransaction,
    p: &Path,
    owner: &ListenerId,
    viewer: &ListenerId,
    limit: usize,
) -> StoreResult<Vec<ActivityEntry>> {
    let shares = privacy(txn, p, owner)?.share_activity;
    if !shares || is_blocked(txn, p, owner, viewer)? {
        return Ok(Vec::new());
    }
    activity(txn, p, owner, limit)
}
