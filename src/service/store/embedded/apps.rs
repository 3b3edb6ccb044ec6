//! Subsonic apps in the embedded file: API keys (by hash, and listed per listener) and
//! per-listener app fields. Each function is the body of one transaction.

use redb::{ReadTransaction, WriteTransaction};
use std::path::Path;

use super::{At, API_KEYS, API_KEY_IDS, APP_FIELDS};
use crate::store::codec::{from_json, to_json};
use crate::store::*;

pub(super) fn put_api_key(txn: &WriteTransaction, p: &Path, key: &ApiKey) -> StoreResult<()> {
    let bytes = to_json(key, "api key")?;
    txn.open_table(API_KEYS)
        .at(p)?
        .insert(key.hash.as_str(), bytes.as_slice())
        .at(p)?;
    txn.open_table(API_KEY_IDS)
        .at(p)?
        .insert((key.listener.as_str(), key.id.as_str()), key.hash.as_str())
        .at(p)?;
    Ok(())
}

pub(super) fn api_key(txn: &ReadTransaction, p: &Path, hash: &str) -> StoreResult<Option<ApiKey>> {
    let keys = txn.open_table(API_KEYS).at(p)?;
    match keys.get(hash).at(p)? {
        Some(v) => Ok(Some(from_json(v.value(), "api key")?)),
        None => Ok(None),
    }
}

pub(super) fn api_keys(
    txn: &ReadTransaction,
    p: &Path,
    listener: &ListenerId,
) -> StoreResult<Vec<ApiKey>> {
    let ids = txn.open_table(API_KEY_IDS).at(p)?;
    let keys = txn.open_table(API_KEYS).at(p)?;
    let mut out = Vec::new();
    for entry in ids.range((listener.as_str(), "")..).at(p)? {
        let (k, v) = entry.at(p)?;
        if k.value().0 != listener.as_str() {
            break;
        }
        if let Some(bytes) = keys.get(v.value()).at(p)? {
            out.push(from_json(bytes.value(), "api key")?);
        }
    }
    Ok(out)
}

pub(super) fn delete_api_key(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
    id: &str,
) -> StoreResult<bool> {
    let mut ids = txn.open_table(API_KEY_IDS).at(p)?;
    let Some(hash) = ids
        .remove((listener.as_str(), id))
        .at(p)?
        .map(|v| v.value().to_owned())
    else {
        return Ok(false);
    };
    txn.open_table(API_KEYS)
        .at(p)?
        .remove(hash.as_str())
        .at(p)?;
    Ok(true)
}

pub(super) fn put_app_field(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
    field: &str,
    value: Option<&[u8]>,
) -> StoreResult<()> {
    let mut fields = txn.open_table(APP_FIELDS).at(p)?;
    let key = (listener.as_str(), field);
    match value {
        Some(v) => {
            fields.insert(key, v).at(p)?;
        }
        None => {
            fields.remove(key).at(p)?;
        }
    }
    Ok(())
}

pub(super) fn app_field(
    txn: &ReadTransaction,
    p: &Path,
    listener: &ListenerId,
    field: &str,
) -> StoreResult<Option<Vec<u8>>> {
    let fields = txn.open_table(APP_FIELDS).at(p)?;
    Ok(fields
        .get((listener.as_str(), field))
        .at(p)?
        .map(|v| v.value().to_vec()))
}
