//! Display names and the people-search index in the embedded file (see
//! [`crate::store::people`]): `display_names` listener → name, and `people` (key,
//! listener) → (), one row per key a listener is found under. Each function is the
//! body of one transaction, so a name and its index rows change together.

use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata, WriteTransaction};
use std::path::Path;

use super::{accounts, At, DISPLAY_NAMES, PEOPLE, USERNAMES};
use crate::store::people::name_keys;
use crate::store::*;

/// Adds the rows of a new account (its username) in the account's transaction.
pub(super) fn index_new_account(
    txn: &WriteTransaction,
    p: &Path,
    account: &Account,
) -> StoreResult<()> {
    let mut people = txn.open_table(PEOPLE).at(p)?;
    for key in name_keys(&account.username, None) {
        people
            .insert((key.as_str(), account.id.as_str()), ())
            .at(p)?;
    }
    Ok(())
}

/// On the first open of a file made before the index existed: indexes every
/// account's username (there are no display names yet). Nothing when the index has
/// rows or there are no accounts.
pub(super) fn backfill(txn: &WriteTransaction, p: &Path) -> StoreResult<()> {
    let mut people = txn.open_table(PEOPLE).at(p)?;
    if !people.is_empty().at(p)? {
        return Ok(());
    }
    let usernames = txn.open_table(USERNAMES).at(p)?;
    let mut added = 0usize;
    for row in usernames.iter().at(p)? {
        let (name, id) = row.at(p)?;
        people.insert((name.value(), id.value()), ()).at(p)?;
        added += 1;
    }
    if added > 0 {
        tracing::info!(accounts = added, "people search index built");
    }
    Ok(())
}

fn read_name(
    table: &impl ReadableTable<&'static str, &'static str>,
    p: &Path,
    listener: &ListenerId,
) -> StoreResult<Option<DisplayName>> {
    match table.get(listener.as_str()).at(p)? {
        Some(v) => DisplayName::parse(v.value())
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("display name of {listener}: {e}"))),
        None => Ok(None),
    }
}

pub(super) fn display_name(
    txn: &ReadTransaction,
    p: &Path,
    listener: &ListenerId,
) -> StoreResult<Option<DisplayName>> {
    read_name(&txn.open_table(DISPLAY_NAMES).at(p)?, p, listener)
}

pub(super) fn set_display_name(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
    name: Option<&DisplayName>,
) -> StoreResult<()> {
    let Some(account) = accounts::by_id_in(txn, p, listener)? else {
        return Err(StoreError::NotFound(format!("account {listener}")));
    };
    let mut names = txn.open_table(DISPLAY_NAMES).at(p)?;
    let old = read_name(&names, p, listener)?;
    let mut people = txn.open_table(PEOPLE).at(p)?;
    let l = listener.as_str();
    for key in people::stale_keys(&account.username, old.as_ref(), name) {
        people.remove((key.as_str(), l)).at(p)?;
    }
    for key in name_keys(&account.username, name) {
        people.insert((key.as_str(), l), ()).at(p)?;
    }
    match name {
        Some(n) => names.insert(l, n.as_str()).at(p)?,
        None => names.remove(l).at(p)?,
    };
    Ok(())
}

pub(super) fn find_people(
    txn: &ReadTransaction,
    p: &Path,
    prefix: &str,
    limit: usize,
) -> StoreResult<Vec<ListenerId>> {
    let mut found: Vec<ListenerId> = Vec::new();
    if prefix.is_empty() || limit == 0 {
        return Ok(found);
    }
    let people = txn.open_table(PEOPLE).at(p)?;
    for row in people.range((prefix, "")..).at(p)? {
        let (k, _) = row.at(p)?;
        let (key, id) = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        let id = ListenerId::parse(id)
            .map_err(|e| StoreError::Corrupt(format!("people index row {key:?}: {e}")))?;
        if !found.contains(&id) {
            found.push(id);
            if found.len() == limit {
                break;
            }
        }
    }
    Ok(found)
}
