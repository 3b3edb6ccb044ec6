//! Accounts, usernames and sessions in Redis.

use ::redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use std::time::Duration;

use super::{keys, RedisStore};
use crate::store::codec::{from_json, to_json};
use crate::store::*;
use ::redis::Script;

static CREATE_ACCOUNT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/create_account.lua")));
static SET_PREFERENCES: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/set_preferences.lua")));
static REVOKE_SESSIONS: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/revoke_sessions.lua")));
static RELEASE_USERNAME: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/release_username.lua")));

/// The account fields other than preferences (kept apart so that setting
/// preferences is one `HSET` on an existing hash).
#[derive(Serialize, Deserialize)]
struct AccountCore {
    id: ListenerId,
    username: Username,
    password_hash: String,
    created_ms: u64,
}

pub(super) async fn create_account(s: &RedisStore, account: &Account) -> StoreResult<()> {
    let core = AccountCore {
        id: account.id.clone(),
        username: account.username.clone(),
        password_hash: account.password_hash.clone(),
        created_ms: account.created_ms,
    };
    let (core, prefs) = (
        to_json(&core, "account")?,
        to_json(&account.preferences, "preferences")?,
    );
    let name_key = keys::username(account.username.as_str());
    if !claim_username(s, &name_key, account).await? {
        return Err(StoreError::Conflict(format!(
            "username {} is taken",
            account.username
        )));
    }
    let call_token = uuid::Uuid::new_v4().simple().to_string();
    let written: Result<i64, StoreError> = CREATE_ACCOUNT
        .key(keys::listener(&account.id, "account"))
        .arg(core)
        .arg(prefs)
        .arg(call_token)
        .invoke_async(&mut s.conn())
        .await
        .map_err(s.err("create account"));
    if !matches!(written, Ok(1)) {
        // Best effort: if this fails too, the name stays claimed by an id with no
        // account, which lookups treat as "no such account".
        let released: Result<i64, _> = RELEASE_USERNAME
            .key(&name_key)
            .arg(account.id.as_str())
            .invoke_async(&mut s.conn())
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, username = %account.username, "could not release username claim");
        }
    }
    match written? {
        1 => Ok(()),
        _ => Err(StoreError::Conflict(format!(
            "account {} exists",
            account.id
        ))),
    }
}

/// Claims the username for `account.id` (`SET NX`). A claim already holding this id
/// with no account behind it is ours: a claim the client re-sent after a lost reply
/// (the cluster client retries), or an earlier attempt whose account write failed.
/// Listener ids are fresh per sign-up, so no one else can hold that id.
async fn claim_username(s: &RedisStore, name_key: &str, account: &Account) -> StoreResult<bool> {
    let set: Option<String> = ::redis::cmd("SET")
        .arg(name_key)
        .arg(account.id.as_str())
        .arg("NX")
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("claim username"))?;
    if set.is_some() {
        return Ok(true);
    }
    let holder: Option<String> = s
        .conn()
        .get(name_key)
        .await
        .map_err(s.err("claim username"))?;
    if holder.as_deref() != Some(account.id.as_str()) {
        return Ok(false);
    }
    Ok(self::account(s, &account.id).await?.is_none())
}

pub(super) async fn account(s: &RedisStore, id: &ListenerId) -> StoreResult<Option<Account>> {
    let fields: AccountFields = ::redis::cmd("HMGET")
        .arg(keys::listener(id, "account"))
        .arg("core")
        .arg("prefs")
        .arg("epoch")
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("read account"))?;
    account_from_fields(id, fields)
}

/// An account hash's `core`, `prefs` and `epoch` fields, as `HMGET` answers them.
pub(super) type AccountFields = (Option<Vec<u8>>, Option<Vec<u8>>, Option<u64>);

/// The account those fields hold (`None` without its `core`).
pub(super) fn account_from_fields(
    id: &ListenerId,
    (core, prefs, epoch): AccountFields,
) -> StoreResult<Option<Account>> {
    let Some(core) = core else {
        return Ok(None);
    };
    let core = account_core(id, &core)?;
    let preferences = match prefs {
        Some(p) => from_json(&p, "preferences")?,
        None => {
            return Err(StoreError::Corrupt(format!(
                "account {id} has no preferences"
            )))
        }
    };
    Ok(Some(Account {
        id: core.id,
        username: core.username,
        password_hash: core.password_hash,
        created_ms: core.created_ms,
        preferences,
        session_epoch: epoch.unwrap_or(0),
    }))
}

pub(super) async fn account_by_username(
    s: &RedisStore,
    username: &Username,
) -> StoreResult<Option<Account>> {
    let id: Option<String> = s
        .conn()
        .get(keys::username(username.as_str()))
        .await
        .map_err(s.err("read username"))?;
    let Some(id) = id else {
        return Ok(None);
    };
    let id = ListenerId::parse(&id)
        .map_err(|e| StoreError::Corrupt(format!("username {username}: {e}")))?;
    // A claim whose account write never happened reads as no account.
    let account = account(s, &id).await?;
    match account {
        Some(a) if &a.username != username => Err(StoreError::Corrupt(format!(
            "username {username} points at {id}, whose name is {}",
            a.username
        ))),
        other => Ok(other),
    }
}

pub(super) async fn set_preferences(
    s: &RedisStore,
    id: &ListenerId,
    prefs: &Preferences,
) -> StoreResult<()> {
    let written: i64 = SET_PREFERENCES
        .key(keys::listener(id, "account"))
        .arg(to_json(prefs, "preferences")?)
        .invoke_async(&mut s.conn())
        .await
        .map_err(s.err("set preferences"))?;
    match written {
        1 => Ok(()),
        _ => Err(StoreError::NotFound(format!("account {id}"))),
    }
}

pub(super) async fn put_session(
    s: &RedisStore,
    session: &Session,
    ttl: Duration,
) -> StoreResult<()> {
    let _: () = ::redis::cmd("SET")
        .arg(keys::session(&session.token_hash))
        .arg(to_json(session, "session")?)
        .arg("PX")
        .arg(ttl_millis(ttl))
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("put session"))?;
    Ok(())
}

pub(super) async fn session(s: &RedisStore, token_hash: &str) -> StoreResult<Option<Session>> {
    let bytes: Option<Vec<u8>> = s
        .conn()
        .get(keys::session(token_hash))
        .await
        .map_err(s.err("read session"))?;
    bytes.map(|b| from_json(&b, "session")).transpose()
}

/// An account's `core` field as stored under `id`; it must name `id`.
fn account_core(id: &ListenerId, bytes: &[u8]) -> StoreResult<AccountCore> {
    let core: AccountCore = from_json(bytes, "account")?;
    if &core.id != id {
        return Err(StoreError::Corrupt(format!(
            "account stored under {id} names {}",
            core.id
        )));
    }
    Ok(core)
}

/// What a session check reads of an account: its `core` and `epoch` fields.
fn core_and_epoch(id: &ListenerId) -> ::redis::Cmd {
    let mut cmd = ::redis::cmd("HMGET");
    cmd.arg(keys::listener(id, "account"))
        .arg("core")
        .arg("epoch");
    cmd
}

/// An account's `core` and `epoch` fields, as `HMGET` returns them.
type CoreAndEpoch = (Option<Vec<u8>>, Option<u64>);

pub(super) async fn session_check(s: &RedisStore, key: &str) -> StoreResult<Option<SessionCheck>> {
    let (session, (core, epoch)): (Option<Session>, CoreAndEpoch) = match session_key_listener(key)
    {
        // Both keys in the listener's hash slot: one pipeline, one round trip.
        Some(listener) => {
            let (session, fields): (Option<Vec<u8>>, CoreAndEpoch) = ::redis::pipe()
                .get(keys::session(key))
                .add_command(core_and_epoch(&listener))
                .query_async(&mut s.conn())
                .await
                .map_err(s.err("check session"))?;
            let session = session.map(|b| from_json(&b, "session")).transpose()?;
            (session, fields)
        }
        // An older key, in no listener's slot: the account is a second round trip.
        None => match self::session(s, key).await? {
            None => (None, (None, None)),
            Some(session) => {
                let fields = core_and_epoch(&session.listener)
                    .query_async(&mut s.conn())
                    .await
                    .map_err(s.err("check session"))?;
                (Some(session), fields)
            }
        },
    };
    checked(key, session, core, epoch)
}

/// A [`SessionCheck`] from what was read under `key`: the session (JSON) and its
/// account's `core` and `epoch` fields (`append.lua` reads the same three).
pub(super) fn session_check_from(
    key: &str,
    session: Option<Vec<u8>>,
    core: Option<Vec<u8>>,
    epoch: Option<u64>,
) -> StoreResult<Option<SessionCheck>> {
    let session = session.map(|b| from_json(&b, "session")).transpose()?;
    checked(key, session, core, epoch)
}

fn checked(
    key: &str,
    session: Option<Session>,
    core: Option<Vec<u8>>,
    epoch: Option<u64>,
) -> StoreResult<Option<SessionCheck>> {
    let Some(session) = session else {
        return Ok(None);
    };
    session_fits_key(key, &session)?;
    let account = match core {
        None => None,
        Some(core) => Some(SessionAccount {
            username: account_core(&session.listener, &core)?.username,
            session_epoch: epoch.unwrap_or(0),
        }),
    };
    Ok(Some(SessionCheck { session, account }))
}

pub(super) async fn delete_session(s: &RedisStore, token_hash: &str) -> StoreResult<()> {
    let _: i64 = s
        .conn()
        .del(keys::session(token_hash))
        .await
        .map_err(s.err("delete session"))?;
    Ok(())
}

pub(super) async fn refresh_session(
    s: &RedisStore,
    session: &Session,
    ttl: Duration,
) -> StoreResult<bool> {
    // XX: only if the key still exists, so a refresh never resurrects a logged-out session.
    let written: Option<String> = ::redis::cmd("SET")
        .arg(keys::session(&session.token_hash))
        .arg(to_json(session, "session")?)
        .arg("PX")
        .arg(ttl_millis(ttl))
        .arg("XX")
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("refresh session"))?;
    Ok(written.is_some())
}

pub(super) async fn revoke_sessions(
    s: &RedisStore,
    id: &ListenerId,
    password_hash: Option<&str>,
) -> StoreResult<u64> {
    let core = match password_hash {
        None => String::new(),
        Some(hash) => {
            let Some(a) = account(s, id).await? else {
                return Err(StoreError::NotFound(format!("account {id}")));
            };
            let core = AccountCore {
                id: a.id,
                username: a.username,
                password_hash: hash.to_owned(),
                created_ms: a.created_ms,
            };
            String::from_utf8_lossy(&to_json(&core, "account")?).into_owned()
        }
    };
    let epoch: i64 = REVOKE_SESSIONS
        .key(keys::listener(id, "account"))
        .arg(core)
        .invoke_async(&mut s.conn())
        .await
        .map_err(s.err("revoke sessions"))?;
    u64::try_from(epoch).map_err(|_| StoreError::NotFound(format!("account {id}")))
}
