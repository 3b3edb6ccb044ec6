//! Accounts, usernames and sessions in the embedded file: each function is the body
//! of one transaction.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use std::path::Path;

use super::{At, ACCOUNTS, SESSIONS, SESSION_EXPIRY, SESSION_PURGE_BATCH, USERNAMES};
use crate::store::codec::{from_json, to_json};
use crate::store::*;

#[derive(Serialize, Deserialize)]
pub(super) struct StoredSession {
    pub session: Session,
    pub expires_ms: u64,
}

/// Reads an account by id from any transaction's accounts table.
fn get(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &str,
    p: &Path,
) -> StoreResult<Option<Account>> {
    let Some(bytes) = table.get(id).at(p)? else {
        return Ok(None);
    };
    let account: Account = from_json(bytes.value(), "account")?;
    if account.id.as_str() != id {
        return Err(StoreError::Corrupt(format!(
            "account stored under {id} names {}",
            account.id
        )));
    }
    Ok(Some(account))
}

pub(super) fn create(txn: &WriteTransaction, p: &Path, account: &Account) -> StoreResult<()> {
    let mut usernames = txn.open_table(USERNAMES).at(p)?;
    let mut accounts = txn.open_table(ACCOUNTS).at(p)?;
    if usernames.get(account.username.as_str()).at(p)?.is_some() {
        let taken = format!("username {} is taken", account.username);
        return Err(StoreError::Conflict(taken));
    }
    if accounts.get(account.id.as_str()).at(p)?.is_some() {
        return Err(StoreError::Conflict(format!(
            "account {} exists",
            account.id
        )));
    }
    let bytes = to_json(account, "account")?;
    usernames
        .insert(account.username.as_str(), account.id.as_str())
        .at(p)?;
    accounts
        .insert(account.id.as_str(), bytes.as_slice())
        .at(p)?;
    Ok(())
}

pub(super) fn by_id(
    txn: &ReadTransaction,
    p: &Path,
    id: &ListenerId,
) -> StoreResult<Option<Account>> {
    get(&txn.open_table(ACCOUNTS).at(p)?, id.as_str(), p)
}

/// The account, read inside a write transaction.
pub(super) fn by_id_in(
    txn: &WriteTransaction,
    p: &Path,
    id: &ListenerId,
) -> StoreResult<Option<Account>> {
    get(&txn.open_table(ACCOUNTS).at(p)?, id.as_str(), p)
}

pub(super) fn by_username(
    txn: &ReadTransaction,
    p: &Path,
    username: &Username,
) -> StoreResult<Option<Account>> {
    let usernames = txn.open_table(USERNAMES).at(p)?;
    let Some(id) = usernames.get(username.as_str()).at(p)? else {
        return Ok(None);
    };
    let id = ListenerId::parse(id.value())
        .map_err(|e| StoreError::Corrupt(format!("username {username}: {e}")))?;
    get(&txn.open_table(ACCOUNTS).at(p)?, id.as_str(), p)
}

pub(super) fn set_preferences(
    txn: &WriteTransaction,
    p: &Path,
    id: &ListenerId,
    prefs: Preferences,
) -> StoreResult<()> {
    let mut accounts = txn.open_table(ACCOUNTS).at(p)?;
    let Some(mut account) = get(&accounts, id.as_str(), p)? else {
        return Err(StoreError::NotFound(format!("account {id}")));
    };
    account.preferences = prefs;
    let bytes = to_json(&account, "account")?;
    accounts.insert(id.as_str(), bytes.as_slice()).at(p)?;
    Ok(())
}

pub(super) fn put_session(
    txn: &WriteTransaction,
    p: &Path,
    stored: &StoredSession,
    now: u64,
) -> StoreResult<()> {
    purge_sessions(txn, p, now)?;
    let token = stored.session.token_hash.as_str();
    let bytes = to_json(stored, "session")?;
    let mut sessions = txn.open_table(SESSIONS).at(p)?;
    sessions.insert(token, bytes.as_slice()).at(p)?;
    let mut index = txn.open_table(SESSION_EXPIRY).at(p)?;
    index.insert((stored.expires_ms, token), ()).at(p)?;
    Ok(())
}

pub(super) fn session(
    txn: &ReadTransaction,
    p: &Path,
    token: &str,
    now: u64,
) -> StoreResult<Option<Session>> {
    let sessions = txn.open_table(SESSIONS).at(p)?;
    let Some(v) = sessions.get(token).at(p)? else {
        return Ok(None);
    };
    let stored: StoredSession = from_json(v.value(), "session")?;
    Ok((stored.expires_ms > now).then_some(stored.session))
}

/// The session under `key` and its account, in one read transaction
/// (`Store::session_check`).
pub(super) fn session_check(
    txn: &ReadTransaction,
    p: &Path,
    key: &str,
    now: u64,
) -> StoreResult<Option<SessionCheck>> {
    let Some(session) = session(txn, p, key, now)? else {
        return Ok(None);
    };
    session_fits_key(key, &session)?;
    let account = by_id(txn, p, &session.listener)?.map(|a| SessionAccount {
        username: a.username,
        session_epoch: a.session_epoch,
    });
    Ok(Some(SessionCheck { session, account }))
}

pub(super) fn delete_session(txn: &WriteTransaction, p: &Path, token: &str) -> StoreResult<()> {
    let mut sessions = txn.open_table(SESSIONS).at(p)?;
    let Some(v) = sessions.remove(token).at(p)? else {
        return Ok(());
    };
    // A corrupt record is removed all the same; its index entry ages out in a purge.
    if let Ok(stored) = from_json::<StoredSession>(v.value(), "session") {
        let mut index = txn.open_table(SESSION_EXPIRY).at(p)?;
        index.remove((stored.expires_ms, token)).at(p)?;
    }
    Ok(())
}

/// Removes up to [`SESSION_PURGE_BATCH`] sessions whose expiry has passed.
fn purge_sessions(txn: &WriteTransaction, p: &Path, now: u64) -> StoreResult<()> {
    let mut index = txn.open_table(SESSION_EXPIRY).at(p)?;
    let mut sessions = txn.open_table(SESSIONS).at(p)?;
    let due: Vec<(u64, String)> = index
        .range(..(now, ""))
        .at(p)?
        .take(SESSION_PURGE_BATCH)
        .map(|entry| {
            let (k, _) = entry.at(p)?;
            let (at, token) = k.value();
            Ok((at, token.to_owned()))
        })
        .collect::<StoreResult<_>>()?;
    for (at, token) in due {
        index.remove((at, token.as_str())).at(p)?;
        // The session may have been stored again with a later expiry since.
        let expired = match sessions.get(token.as_str()).at(p)? {
            Some(v) => from_json::<StoredSession>(v.value(), "session")
                .map(|s| s.expires_ms <= now)
                .unwrap_or(true),
            None => false,
        };
        if expired {
            sessions.remove(token.as_str()).at(p)?;
        }
    }
    Ok(())
}

/// Writes the session again only if it exists and has not expired.
pub(super) fn refresh_session(
    txn: &WriteTransaction,
    p: &Path,
    stored: &StoredSession,
    now: u64,
) -> StoreResult<bool> {
    let token = stored.session.token_hash.as_str();
    let live = {
        let sessions = txn.open_table(SESSIONS).at(p)?;
        let found = sessions.get(token).at(p)?;
        match found {
            Some(v) => from_json::<StoredSession>(v.value(), "session")
                .map(|s| s.expires_ms > now)
                .unwrap_or(false),
            None => false,
        }
    };
    if live {
        put_session(txn, p, stored, now)?;
    }
    Ok(live)
}

/// Raises the account's session epoch and, with `password_hash`, sets a new password.
pub(super) fn revoke_sessions(
    txn: &WriteTransaction,
    p: &Path,
    id: &ListenerId,
    password_hash: Option<String>,
) -> StoreResult<u64> {
    let mut accounts = txn.open_table(ACCOUNTS).at(p)?;
    let Some(mut account) = get(&accounts, id.as_str(), p)? else {
        return Err(StoreError::NotFound(format!("account {id}")));
    };
    account.session_epoch = account.session_epoch.saturating_add(1);
    if let Some(hash) = password_hash {
        account.password_hash = hash;
    }
    let bytes = to_json(&account, "account")?;
    accounts.insert(id.as_str(), bytes.as_slice()).at(p)?;
    Ok(account.session_epoch)
}
