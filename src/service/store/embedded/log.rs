//! Interaction logs, fencing epochs and snapshots in the embedded file: each function
//! is the body of one transaction, so every check and its write are one atomic step.

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use std::path::Path;

use super::{At, EPOCHS, LOG, LOG_FLOOR, LOG_IDS, OWNERS, SNAPSHOTS, WRITERS};
use crate::store::codec::{from_bincode, from_json, to_bincode, to_json};
use crate::store::*;

fn last_seq_in(
    table: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    p: &Path,
    listener: &str,
) -> StoreResult<u64> {
    let mut range = table.range((listener, 0)..=(listener, u64::MAX)).at(p)?;
    match range.next_back() {
        Some(entry) => Ok(entry.at(p)?.0.value().1),
        None => Ok(0),
    }
}

pub(super) fn append(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
    interaction: &Interaction,
) -> StoreResult<Appended> {
    let mut ids = txn.open_table(LOG_IDS).at(p)?;
    let key = (listener.as_str(), interaction.id.as_str());
    if let Some(seq) = ids.get(key).at(p)? {
        return Ok(Appended {
            seq: seq.value(),
            duplicate: true,
        });
    }
    let mut log = txn.open_table(LOG).at(p)?;
    let seq = last_seq_in(&log, p, listener.as_str())? + 1;
    let bytes = to_json(interaction, "interaction")?;
    log.insert((listener.as_str(), seq), bytes.as_slice())
        .at(p)?;
    ids.insert(key, seq).at(p)?;
    Ok(Appended {
        seq,
        duplicate: false,
    })
}

/// Entries with `after < seq`, oldest first, at most `limit` (`after < u64::MAX`).
pub(super) fn read(
    txn: &ReadTransaction,
    p: &Path,
    listener: &ListenerId,
    after: u64,
    limit: usize,
) -> StoreResult<Vec<LoggedInteraction>> {
    let log = txn.open_table(LOG).at(p)?;
    let l = listener.as_str();
    log.range((l, after + 1)..=(l, u64::MAX))
        .at(p)?
        .take(limit)
        .map(|entry| {
            let (k, v) = entry.at(p)?;
            let interaction = from_json(v.value(), "interaction")?;
            Ok(LoggedInteraction {
                seq: k.value().1,
                interaction,
            })
        })
        .collect()
}

pub(super) fn last_seq(txn: &ReadTransaction, p: &Path, listener: &ListenerId) -> StoreResult<u64> {
    last_seq_in(&txn.open_table(LOG).at(p)?, p, listener.as_str())
}

/// Removes covered entries past the newest `keep_last` (see [`Store::compact_log`]).
pub(super) fn compact(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
    epoch: u64,
    keep_last: u64,
) -> StoreResult<Compaction> {
    let current = epoch_in(&txn.open_table(EPOCHS).at(p)?, p, listener)?;
    if current != epoch {
        return Err(StoreError::Fenced {
            held: epoch,
            current,
        });
    }
    let l = listener.as_str();
    let mut floors = txn.open_table(LOG_FLOOR).at(p)?;
    let floor = floors.get(l).at(p)?.map(|v| v.value()).unwrap_or(0);
    let covers = match snapshot_in(txn, p, listener)? {
        Some(snap) => snap.covers_seq,
        None => 0,
    };
    let mut log = txn.open_table(LOG).at(p)?;
    let last = last_seq_in(&log, p, l)?;
    let target = covers
        .min(last.saturating_sub(keep_last.max(1)))
        .min(floor.saturating_add(COMPACTION_BATCH));
    if target <= floor {
        return Ok(Compaction {
            through: floor,
            removed: 0,
        });
    }
    let mut ids = txn.open_table(LOG_IDS).at(p)?;
    let mut removed = 0;
    for seq in floor + 1..=target {
        if let Some(entry) = log.remove((l, seq)).at(p)? {
            let interaction: Interaction = from_json(entry.value(), "interaction")?;
            ids.remove((l, interaction.id.as_str())).at(p)?;
            removed += 1;
        }
    }
    floors.insert(l, target).at(p)?;
    Ok(Compaction {
        through: target,
        removed,
    })
}

pub(super) fn floor(txn: &ReadTransaction, p: &Path, listener: &ListenerId) -> StoreResult<u64> {
    Ok(txn
        .open_table(LOG_FLOOR)
        .at(p)?
        .get(listener.as_str())
        .at(p)?
        .map(|v| v.value())
        .unwrap_or(0))
}

pub(super) fn acquire_epoch(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
    node: &NodeId,
) -> StoreResult<u64> {
    let mut epochs = txn.open_table(EPOCHS).at(p)?;
    let current = epochs.get(listener.as_str()).at(p)?.map(|v| v.value());
    let next = current.unwrap_or(0) + 1;
    epochs.insert(listener.as_str(), next).at(p)?;
    let mut owners = txn.open_table(OWNERS).at(p)?;
    owners.insert(listener.as_str(), node.as_str()).at(p)?;
    journal(
        txn,
        p,
        listener,
        next,
        WriterStep::Activated {
            node: node.to_string(),
        },
    )?;
    Ok(next)
}

fn epoch_in(
    table: &impl ReadableTable<&'static str, u64>,
    p: &Path,
    listener: &ListenerId,
) -> StoreResult<u64> {
    Ok(table
        .get(listener.as_str())
        .at(p)?
        .map(|v| v.value())
        .unwrap_or(0))
}

pub(super) fn current_epoch(
    txn: &ReadTransaction,
    p: &Path,
    listener: &ListenerId,
) -> StoreResult<u64> {
    epoch_in(&txn.open_table(EPOCHS).at(p)?, p, listener)
}

pub(super) fn put_snapshot(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
    snapshot: &Snapshot,
) -> StoreResult<()> {
    let current = epoch_in(&txn.open_table(EPOCHS).at(p)?, p, listener)?;
    if current != snapshot.epoch {
        return Err(StoreError::Fenced {
            held: snapshot.epoch,
            current,
        });
    }
    let bytes = to_bincode(snapshot, "snapshot")?;
    let mut snapshots = txn.open_table(SNAPSHOTS).at(p)?;
    snapshots
        .insert(listener.as_str(), bytes.as_slice())
        .at(p)?;
    journal(
        txn,
        p,
        listener,
        snapshot.epoch,
        WriterStep::Wrote {
            covers_seq: snapshot.covers_seq,
        },
    )
}

/// Appends one step to the listener's writer journal, dropping the oldest past the cap.
fn journal(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
    epoch: u64,
    step: WriterStep,
) -> StoreResult<()> {
    let mut table = txn.open_table(WRITERS).at(p)?;
    let l = listener.as_str();
    let (first, next) = {
        let mut range = table.range((l, 0)..=(l, u64::MAX)).at(p)?;
        let first = match range.next() {
            Some(e) => Some(e.at(p)?.0.value().1),
            None => None,
        };
        let last = match range.next_back() {
            Some(e) => Some(e.at(p)?.0.value().1),
            None => first,
        };
        (first, last.map_or(0, |n| n + 1))
    };
    let event = WriterEvent {
        at_ms: now_ms(),
        epoch,
        step,
    };
    table
        .insert((l, next), to_json(&event, "writer event")?.as_slice())
        .at(p)?;
    if let Some(first) = first {
        if next - first + 1 > WRITER_JOURNAL_CAP as u64 {
            table.remove((l, first)).at(p)?;
        }
    }
    Ok(())
}

pub(super) fn writer_journal(
    txn: &ReadTransaction,
    p: &Path,
    listener: &ListenerId,
) -> StoreResult<Vec<WriterEvent>> {
    let table = txn.open_table(WRITERS).at(p)?;
    let l = listener.as_str();
    table
        .range((l, 0)..=(l, u64::MAX))
        .at(p)?
        .map(|entry| from_json(entry.at(p)?.1.value(), "writer event"))
        .collect()
}

pub(super) fn snapshot(
    txn: &ReadTransaction,
    p: &Path,
    listener: &ListenerId,
) -> StoreResult<Option<Snapshot>> {
    let snapshots = txn.open_table(SNAPSHOTS).at(p)?;
    match snapshots.get(listener.as_str()).at(p)? {
        Some(v) => Ok(Some(from_bincode(v.value(), "snapshot")?)),
        None => Ok(None),
    }
}

/// The listener's snapshot, read inside a write transaction.
fn snapshot_in(
    txn: &WriteTransaction,
    p: &Path,
    listener: &ListenerId,
) -> StoreResult<Option<Snapshot>> {
    let snapshots = txn.open_table(SNAPSHOTS).at(p)?;
    let snapshot = match snapshots.get(listener.as_str()).at(p)? {
        Some(v) => Some(from_bincode(v.value(), "snapshot")?),
        None => None,
    };
    Ok(snapshot)
}
