//! Display names and the people-search index in Redis (see [`crate::store::people`]).
//! The name is the `display` field of the account hash `{L}:account`; the index is one
//! sorted set, `spoofify:{people}:names`, all scores 0, members `key\0listener`, read
//! with `ZRANGEBYLEX` from the prefix on (bounded by `LIMIT`). The index has its own
//! hash tag, so on a cluster a name change is several calls: new keys are added first,
//! then the name is set, then old keys are removed, each safe to re-send. A reader
//! keeps only entries whose key is among the listener's current keys, so an entry
//! left behind by a failed step (or by a sign-up that failed after indexing its
//! username) is never shown.

use ::redis::Script;
use std::collections::HashSet;
use std::sync::LazyLock;

use super::{keys, Durable, RedisStore};
use crate::store::people::{self, name_keys};
use crate::store::*;

static PEOPLE_INDEX: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/people_index.lua")));
static SET_DISPLAY_NAME: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/set_display_name.lua")));

/// Adds (`add`) or removes (`rem`) index entries of `listener` under `keys`.
async fn index(
    s: &RedisStore,
    op: &str,
    listener: &ListenerId,
    name_keys: &[String],
) -> StoreResult<()> {
    if name_keys.is_empty() {
        return Ok(());
    }
    let mut call = Durable::new(&PEOPLE_INDEX)
        .key(keys::PEOPLE.to_owned())
        .arg(op);
    for key in name_keys {
        call = call.arg(people::entry(key, listener));
    }
    let _: i64 = s.durable(call, "people index").await?;
    Ok(())
}

/// Reads the `username` (from the account's core) and display name of `listener` in
/// one call; `None` without the account.
async fn names(
    s: &RedisStore,
    listener: &ListenerId,
) -> StoreResult<Option<(Username, Option<DisplayName>)>> {
    let Some(account) = super::accounts::account(s, listener).await? else {
        return Ok(None);
    };
    Ok(Some((account.username, display_name(s, listener).await?)))
}

/// Indexes a new account's username (before the account is written: see the module docs).
pub(super) async fn index_new_account(s: &RedisStore, account: &Account) -> StoreResult<()> {
    index(s, "add", &account.id, &name_keys(&account.username, None)).await
}

/// Best effort: drops the index entry of a sign-up that was refused, unless an account
/// with this id exists after all (a re-sent sign-up). Readers skip it either way.
pub(super) async fn unindex_failed_signup(s: &RedisStore, account: &Account) {
    if !matches!(super::accounts::account(s, &account.id).await, Ok(None)) {
        return;
    }
    let keys = name_keys(&account.username, None);
    if let Err(e) = index(s, "rem", &account.id, &keys).await {
        tracing::debug!(error = %e, "a refused sign-up's people-index entry stays (skipped by readers)");
    }
}

pub(super) async fn display_name(
    s: &RedisStore,
    listener: &ListenerId,
) -> StoreResult<Option<DisplayName>> {
    let raw: Option<String> = ::redis::cmd("HGET")
        .arg(keys::listener(listener, "account"))
        .arg("display")
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("read display name"))?;
    raw.map(|n| {
        DisplayName::parse(&n)
            .map_err(|e| StoreError::Corrupt(format!("display name of {listener}: {e}")))
    })
    .transpose()
}

pub(super) async fn set_display_name(
    s: &RedisStore,
    listener: &ListenerId,
    name: Option<&DisplayName>,
) -> StoreResult<()> {
    let Some((username, old)) = names(s, listener).await? else {
        return Err(StoreError::NotFound(format!("account {listener}")));
    };
    index(s, "add", listener, &name_keys(&username, name)).await?;
    let set = Durable::new(&SET_DISPLAY_NAME)
        .key(keys::listener(listener, "account"))
        .arg(name.map(DisplayName::as_str).unwrap_or(""));
    let written: i64 = s.durable(set, "set display name").await?;
    if written != 1 {
        return Err(StoreError::NotFound(format!("account {listener}")));
    }
    let stale = people::stale_keys(&username, old.as_ref(), name);
    if let Err(e) = index(s, "rem", listener, &stale).await {
        // The name is set; the old keys' entries are skipped by readers until a later
        // change removes them.
        tracing::warn!(error = %e, %listener, "old display name left in the people index");
    }
    Ok(())
}

pub(super) async fn find_people(
    s: &RedisStore,
    prefix: &str,
    limit: usize,
) -> StoreResult<Vec<ListenerId>> {
    if prefix.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let mut upper = prefix.as_bytes().to_vec();
    upper.push(0xff);
    let mut min = b"[".to_vec();
    min.extend_from_slice(prefix.as_bytes());
    let mut max = b"(".to_vec();
    max.extend_from_slice(&upper[..]);
    let raw: Vec<String> = ::redis::cmd("ZRANGEBYLEX")
        .arg(keys::PEOPLE)
        .arg(min)
        .arg(max)
        .arg("LIMIT")
        .arg(0)
        .arg(people::candidates_for(limit))
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("find people"))?;
    let mut candidates: Vec<(String, ListenerId)> = Vec::with_capacity(raw.len());
    for entry in &raw {
        let (key, id) = people::parse_entry(entry)?;
        candidates.push((key.to_owned(), id));
    }
    let mut ids: Vec<ListenerId> = Vec::new();
    for (_, id) in &candidates {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let current = futures::future::try_join_all(ids.iter().map(|id| names(s, id))).await?;
    let valid: HashSet<(String, ListenerId)> = ids
        .iter()
        .zip(current)
        .filter_map(|(id, names)| {
            let (username, display) = names?;
            Some(
                name_keys(&username, display.as_ref())
                    .into_iter()
                    .map(move |k| (k, id.clone())),
            )
        })
        .flatten()
        .collect();
    let mut found: Vec<ListenerId> = Vec::new();
    for c in candidates {
        if valid.contains(&c) && !found.contains(&c.1) {
            found.push(c.1);
            if found.len() == limit {
                break;
            }
        }
    }
    Ok(found)
}
