//! Subsonic apps in Redis: an API key is findable by its hash (`spoofify:apikey:<hash>`,
//! an untagged single key like a session) and listed under its listener
//! (`spoofify:{L}:apikeys`, key id → JSON); app fields are `spoofify:{L}:app` (a hash).
//! The two keys of an API key live in different slots, so they are written one after
//! the other: the lookup key first on create and removed first on revoke, so a key is
//! never usable without being listed for revoking.

use ::redis::AsyncCommands;

use super::{keys, RedisStore};
use crate::store::codec::{from_json, to_json};
use crate::store::*;

fn lookup(hash: &str) -> String {
    format!("spoofify:apikey:{hash}")
}

pub(super) async fn put_api_key(s: &RedisStore, key: &ApiKey) -> StoreResult<()> {
    let bytes = to_json(key, "api key")?;
    let mut conn = s.conn();
    let _: () = conn
        .set(lookup(&key.hash), bytes.as_slice())
        .await
        .map_err(s.err("put api key"))?;
    let _: i64 = conn
        .hset(keys::listener(&key.listener, "apikeys"), &key.id, bytes)
        .await
        .map_err(s.err("list api key"))?;
    Ok(())
}

pub(super) async fn api_key(s: &RedisStore, hash: &str) -> StoreResult<Option<ApiKey>> {
    let bytes: Option<Vec<u8>> = s
        .conn()
        .get(lookup(hash))
        .await
        .map_err(s.err("read api key"))?;
    bytes.map(|b| from_json(&b, "api key")).transpose()
}

pub(super) async fn api_keys(s: &RedisStore, listener: &ListenerId) -> StoreResult<Vec<ApiKey>> {
    let all: Vec<(String, Vec<u8>)> = s
        .conn()
        .hgetall(keys::listener(listener, "apikeys"))
        .await
        .map_err(s.err("read api keys"))?;
    let mut out = all
        .iter()
        .map(|(_, b)| from_json::<ApiKey>(b, "api key"))
        .collect::<StoreResult<Vec<_>>>()?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

pub(super) async fn delete_api_key(
    s: &RedisStore,
    listener: &ListenerId,
    id: &str,
) -> StoreResult<bool> {
    let list = keys::listener(listener, "apikeys");
    let mut conn = s.conn();
    let bytes: Option<Vec<u8>> = conn.hget(&list, id).await.map_err(s.err("read api key"))?;
    let Some(bytes) = bytes else {
        return Ok(false);
    };
    let key: ApiKey = from_json(&bytes, "api key")?;
    let _: i64 = conn
        .del(lookup(&key.hash))
        .await
        .map_err(s.err("revoke api key"))?;
    let removed: i64 = conn
        .hdel(&list, id)
        .await
        .map_err(s.err("unlist api key"))?;
    Ok(removed > 0)
}

pub(super) async fn put_app_field(
    s: &RedisStore,
    listener: &ListenerId,
    field: &str,
    value: Option<&[u8]>,
) -> StoreResult<()> {
    let key = keys::listener(listener, "app");
    let mut conn = s.conn();
    match value {
        Some(v) => {
            let _: i64 = conn
                .hset(key, field, v)
                .await
                .map_err(s.err("put app field"))?;
        }
        None => {
            let _: i64 = conn
                .hdel(key, field)
                .await
                .map_err(s.err("delete app field"))?;
        }
    }
    Ok(())
}

pub(super) async fn app_field(
    s: &RedisStore,
    listener: &ListenerId,
    field: &str,
) -> StoreResult<Option<Vec<u8>>> {
    s.conn()
        .hget(keys::listener(listener, "app"), field)
        .await
        .map_err(s.err("read app field"))
}
