//! Cluster-wide background jobs and the listener registry in the embedded file. Each
//! function is the body of one transaction, so a lease check and its write, or an
//! epoch check and a state write, are one atomic step. Lease expiry is a stored time
//! (ms since the Unix epoch) compared with this process's clock.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use std::path::Path;

use super::{At, JOB_EPOCHS, JOB_LEASES, JOB_STATE, LISTENERS};
use crate::store::codec::{from_json, to_json};
use crate::store::*;

#[derive(Serialize, Deserialize)]
struct StoredLease {
    holder: String,
    epoch: u64,
    expires_ms: u64,
}

pub(super) fn register_listener(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
) -> StoreResult<()> {
    let mut t = txn.open_table(LISTENERS).at(p)?;
    t.insert(listener.as_str(), ()).at(p)?;
    Ok(())
}

pub(super) fn listeners(
    txn: &ReadTransaction,
    p: &Path,
    after: Option<&ListenerId>,
    limit: usize,
) -> StoreResult<Vec<ListenerId>> {
    let t = txn.open_table(LISTENERS).at(p)?;
    let range = match after {
        Some(a) => t.range::<&str>((
            std::ops::Bound::Excluded(a.as_str()),
            std::ops::Bound::Unbounded,
        )),
        None => t.range::<&str>(..),
    }
    .at(p)?;
    range
        .take(limit)
        .map(|entry| {
            let (k, _) = entry.at(p)?;
            ListenerId::parse(k.value())
                .map_err(|e| StoreError::Corrupt(format!("listener registry: {e}")))
        })
        .collect()
}

pub(super) fn acquire_lease(
    txn: &WriteTransaction,
    p: &Path,
    job: &JobName,
    holder: &LeaseHolder,
    ttl_ms: u64,
    now: u64,
) -> StoreResult<LeaseGrant> {
    let mut leases = txn.open_table(JOB_LEASES).at(p)?;
    let current: Option<StoredLease> = match leases.get(job.as_str()).at(p)? {
        Some(v) => Some(from_json(v.value(), "job lease")?),
        None => None,
    };
    let expires_ms = now.saturating_add(ttl_ms);
    let epoch = match current {
        Some(l) if l.expires_ms > now && l.holder != holder.as_str() => {
            return Ok(LeaseGrant::Busy { holder: l.holder });
        }
        Some(l) if l.expires_ms > now => l.epoch,
        _ => {
            let mut epochs = txn.open_table(JOB_EPOCHS).at(p)?;
            let next = epochs.get(job.as_str()).at(p)?.map_or(0, |v| v.value()) + 1;
            epochs.insert(job.as_str(), next).at(p)?;
            next
        }
    };
    let lease = StoredLease {
        holder: holder.as_str().to_owned(),
        epoch,
        expires_ms,
    };
    let bytes = to_json(&lease, "job lease")?;
    leases.insert(job.as_str(), bytes.as_slice()).at(p)?;
    Ok(LeaseGrant::Held { epoch })
}

pub(super) fn release_lease(
    txn: &WriteTransaction,
    p: &Path,
    job: &JobName,
    holder: &LeaseHolder,
    epoch: u64,
) -> StoreResult<()> {
    let mut leases = txn.open_table(JOB_LEASES).at(p)?;
    let ours = match leases.get(job.as_str()).at(p)? {
        Some(v) => {
            let l: StoredLease = from_json(v.value(), "job lease")?;
            l.holder == holder.as_str() && l.epoch == epoch
        }
        None => false,
    };
    if ours {
        leases.remove(job.as_str()).at(p)?;
    }
    Ok(())
}

pub(super) fn put_state(
    txn: &WriteTransaction,
    p: &Path,
    job: &JobName,
    epoch: u64,
    fields: &[JobField],
) -> StoreResult<()> {
    jobs::check_write_size(fields)?;
    let current = txn
        .open_table(JOB_EPOCHS)
        .at(p)?
        .get(job.as_str())
        .at(p)?
        .map_or(0, |v| v.value());
    if current != epoch {
        return Err(StoreError::Fenced {
            held: epoch,
            current,
        });
    }
    let mut state = txn.open_table(JOB_STATE).at(p)?;
    for (name, bytes) in fields {
        state
            .insert((job.as_str(), name.as_str()), bytes.as_slice())
            .at(p)?;
    }
    Ok(())
}

pub(super) fn state_field(
    txn: &ReadTransaction,
    p: &Path,
    job: &JobName,
    field: &str,
) -> StoreResult<Option<Vec<u8>>> {
    let state = txn.open_table(JOB_STATE).at(p)?;
    let value = state.get((job.as_str(), field)).at(p)?;
    Ok(value.map(|v| v.value().to_vec()))
}

pub(super) fn state(txn: &ReadTransaction, p: &Path, job: &JobName) -> StoreResult<Vec<JobField>> {
    let state = txn.open_table(JOB_STATE).at(p)?;
    let j = job.as_str();
    // Field names are non-empty strings, so ("", …] starts at a job's first field.
    state
        .range((j, "")..)
        .at(p)?
        .map(|entry| {
            let (k, v) = entry.at(p)?;
            Ok((
                k.value().0.to_owned(),
                k.value().1.to_owned(),
                v.value().to_vec(),
            ))
        })
        .take_while(|r: &StoreResult<(String, String, Vec<u8>)>| {
            r.as_ref().map_or(true, |(owner, _, _)| owner == j)
        })
        .map(|r| r.map(|(_, name, bytes)| (name, bytes)))
        .collect()
}
