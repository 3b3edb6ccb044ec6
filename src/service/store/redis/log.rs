//! Interaction logs (one stream per listener), fencing epochs and snapshots in Redis.

use ::redis::{AsyncCommands, Script, Value};
use std::sync::LazyLock;

use super::accounts::{account_from_fields, AccountFields};
use super::{keys, Durable, RedisStore};
use crate::store::codec::{from_json, to_json};
use crate::store::*;

static APPEND: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/append.lua")));
static COMPACT_LOG: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/compact_log.lua")));
static ACQUIRE_EPOCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("../lua/take_epoch.lua"),
        include_str!("../lua/acquire_epoch.lua")
    ))
});
static PUT_SNAPSHOT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/put_snapshot.lua")));
static ACTIVATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("../lua/take_epoch.lua"),
        include_str!("../lua/activate.lua")
    ))
});

/// One field of an `HMGET` reply: absent, or its bytes.
type Field = Option<Vec<u8>>;

fn parse_u64(bytes: &[u8], what: &str) -> StoreResult<u64> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("{what}: not a number")))
}

/// Parses an `XRANGE` reply: `[[id, [field, value, ...]], ...]`.
fn parse_log_entries(reply: Value) -> StoreResult<Vec<LoggedInteraction>> {
    let bad = |why: &str| StoreError::Corrupt(format!("interaction log: {why}"));
    let Value::Array(entries) = reply else {
        return Err(bad("reply is not a list"));
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Array(parts) = entry else {
            return Err(bad("entry is not a list"));
        };
        let [Value::BulkString(id), Value::Array(fields)] = parts.as_slice() else {
            return Err(bad("entry is not [id, fields]"));
        };
        let seq = std::str::from_utf8(id)
            .ok()
            .and_then(|s| s.strip_suffix("-0"))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| bad("entry id is not <seq>-0"))?;
        let body = match fields.as_slice() {
            [Value::BulkString(name), Value::BulkString(body)] if name == b"i" => body,
            _ => return Err(bad("entry fields are not [i, json]")),
        };
        out.push(LoggedInteraction {
            seq,
            interaction: from_json(body, "interaction")?,
        });
    }
    Ok(out)
}

#[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
pub(super) async fn append_interaction(
    s: &RedisStore,
    listener: &ListenerId,
    interaction: &Interaction,
) -> StoreResult<Appended> {
    let (appended, _) = append(s, listener, interaction, None).await?;
    Ok(appended)
}

#[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
pub(super) async fn append_and_share(
    s: &RedisStore,
    listener: &ListenerId,
    interaction: &Interaction,
    share: &ActivityEntry,
) -> StoreResult<(Appended, bool)> {
    append(s, listener, interaction, Some(share)).await
}

#[tracing::instrument(level = "debug", skip_all)]
pub(super) async fn append_checked(
    s: &RedisStore,
    session_key: &str,
    interaction: &Interaction,
    share: Option<&ActivityEntry>,
) -> StoreResult<CheckedAppend> {
    // An older key lives in no listener's slot: the check and the append cannot be one
    // script there (and on a Redis Cluster not even one transaction).
    let Some(listener) = session_key_listener(session_key) else {
        return append_checked_in_two_steps(s, session_key, interaction, share).await;
    };
    s.ensure_registered(&listener).await?;
    let mut call = Durable::new(&APPEND)
        .key(keys::listener(&listener, "log"))
        .key(keys::listener(&listener, "log-ids"))
        .key(keys::session(session_key))
        .key(keys::listener(&listener, "account"))
        .arg(interaction.id.as_str())
        .arg_bytes(&to_json(interaction, "interaction")?)
        .arg(listener.as_str());
    if let Some(entry) = share {
        call = super::social::share_keys(call, &listener, entry)?;
    }
    type Reply = (Field, Field, Option<u64>, i64, u64, i64, i64);
    let (session, core, epoch, appended, seq, duplicate, shared): Reply = s
        .durable(call, "append interaction (session checked)")
        .await?;
    // A session that is not JSON or names another listener is `Corrupt` here (the
    // script wrote nothing for it).
    let check = super::accounts::session_check_from(session_key, session, core, epoch)?;
    if appended != 1 {
        return Ok(CheckedAppend {
            check,
            appended: None,
        });
    }
    // The script applied `SessionCheck::signs_in`; what it read must say the same.
    if !check.as_ref().is_some_and(SessionCheck::signs_in) {
        return Err(StoreError::Corrupt(format!(
            "append.lua appended for {listener} with a session that does not sign in"
        )));
    }
    let appended = Appended {
        seq,
        duplicate: duplicate == 1,
    };
    Ok(CheckedAppend {
        check,
        appended: Some((appended, shared == 1)),
    })
}

/// `append.lua` without the session check, with the activity keys and arguments when
/// the entry is to be shared.
async fn append(
    s: &RedisStore,
    listener: &ListenerId,
    interaction: &Interaction,
    share: Option<&ActivityEntry>,
) -> StoreResult<(Appended, bool)> {
    // Registered first (idempotent), so every listener with a log is in the registry
    // even if this process dies between the two steps. A separate command: the
    // registry and the log live in different slots. Once per listener and process
    // (and again after a while; see `registered`), not a round trip per append.
    s.ensure_registered(listener).await?;
    let mut call = Durable::new(&APPEND)
        .key(keys::listener(listener, "log"))
        .key(keys::listener(listener, "log-ids"))
        .arg(interaction.id.as_str())
        .arg_bytes(&to_json(interaction, "interaction")?)
        .arg("");
    if let Some(entry) = share {
        call = super::social::share_keys(call, listener, entry)?;
    }
    let (seq, duplicate, shared): (u64, i64, i64) = s.durable(call, "append interaction").await?;
    Ok((
        Appended {
            seq,
            duplicate: duplicate == 1,
        },
        shared == 1,
    ))
}

#[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
pub(super) async fn read_interactions(
    s: &RedisStore,
    listener: &ListenerId,
    after: u64,
    limit: usize,
) -> StoreResult<Vec<LoggedInteraction>> {
    if crate::store::empty_read(after, limit) {
        return Ok(Vec::new());
    }
    let reply: Value = ::redis::cmd("XRANGE")
        .arg(keys::listener(listener, "log"))
        .arg(format!("{}-0", after + 1))
        .arg("+")
        .arg("COUNT")
        .arg(limit)
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("read log"))?;
    parse_log_entries(reply)
}

pub(super) async fn last_seq(s: &RedisStore, listener: &ListenerId) -> StoreResult<u64> {
    let reply: Value = ::redis::cmd("XREVRANGE")
        .arg(keys::listener(listener, "log"))
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("read last seq"))?;
    Ok(parse_log_entries(reply)?
        .first()
        .map(|e| e.seq)
        .unwrap_or(0))
}

#[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
pub(super) async fn compact_log(
    s: &RedisStore,
    listener: &ListenerId,
    epoch: u64,
    keep_last: u64,
) -> StoreResult<Compaction> {
    let reply: Vec<u64> = COMPACT_LOG
        .key(keys::listener(listener, "epoch"))
        .key(keys::listener(listener, "snapshot"))
        .key(keys::listener(listener, "log"))
        .key(keys::listener(listener, "log-ids"))
        .key(keys::listener(listener, "log-floor"))
        .arg(epoch)
        .arg(keep_last)
        .arg(COMPACTION_BATCH)
        .invoke_async(&mut s.conn())
        .await
        .map_err(s.err("compact log"))?;
    match reply.as_slice() {
        [0, current] => Err(StoreError::Fenced {
            held: epoch,
            current: *current,
        }),
        [1, through, removed] => Ok(Compaction {
            through: *through,
            removed: *removed,
        }),
        _ => Err(StoreError::Corrupt(format!(
            "compact log of {listener}: unexpected reply {reply:?}"
        ))),
    }
}

pub(super) async fn log_floor(s: &RedisStore, listener: &ListenerId) -> StoreResult<u64> {
    let bytes: Option<Vec<u8>> = s
        .conn()
        .get(keys::listener(listener, "log-floor"))
        .await
        .map_err(s.err("read log floor"))?;
    bytes
        .map(|b| parse_u64(&b, "log floor"))
        .transpose()
        .map(|f| f.unwrap_or(0))
}

#[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
pub(super) async fn acquire_epoch(
    s: &RedisStore,
    listener: &ListenerId,
    node: &NodeId,
) -> StoreResult<u64> {
    let call = Durable::new(&ACQUIRE_EPOCH)
        .key(keys::listener(listener, "epoch"))
        .key(keys::listener(listener, "owner"))
        .key(keys::listener(listener, "writers"))
        .arg(node.as_str())
        .arg(WRITER_JOURNAL_CAP);
    s.durable(call, "acquire epoch").await
}

pub(super) async fn current_epoch(s: &RedisStore, listener: &ListenerId) -> StoreResult<u64> {
    let bytes: Option<Vec<u8>> = s
        .conn()
        .get(keys::listener(listener, "epoch"))
        .await
        .map_err(s.err("read epoch"))?;
    bytes
        .map(|b| parse_u64(&b, "epoch"))
        .transpose()
        .map(|e| e.unwrap_or(0))
}

#[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
pub(super) async fn put_snapshot(
    s: &RedisStore,
    listener: &ListenerId,
    snapshot: &Snapshot,
) -> StoreResult<()> {
    let call = Durable::new(&PUT_SNAPSHOT)
        .key(keys::listener(listener, "epoch"))
        .key(keys::listener(listener, "snapshot"))
        .key(keys::listener(listener, "writers"))
        .arg(snapshot.epoch)
        .arg(snapshot.covers_seq)
        .arg_bytes(&snapshot.bytes)
        .arg(WRITER_JOURNAL_CAP);
    let (written, current): (i64, u64) = s.durable(call, "put snapshot").await?;
    match written {
        1 => Ok(()),
        _ => Err(StoreError::Fenced {
            held: snapshot.epoch,
            current,
        }),
    }
}

/// [`Store::activate`] in one atomic script (`activate.lua`): the epoch as
/// [`acquire_epoch`] takes it (durable under the write policy), then the account, the
/// snapshot and the log page after it — one round trip. Every key is in the
/// listener's hash slot, so it runs as is on a Redis Cluster.
#[tracing::instrument(level = "debug", skip_all, fields(listener = %listener))]
pub(super) async fn activate(
    s: &RedisStore,
    listener: &ListenerId,
    node: &NodeId,
    page: usize,
) -> StoreResult<Activated> {
    let call = Durable::new(&ACTIVATE)
        .key(keys::listener(listener, "epoch"))
        .key(keys::listener(listener, "owner"))
        .key(keys::listener(listener, "writers"))
        .key(keys::listener(listener, "account"))
        .key(keys::listener(listener, "snapshot"))
        .key(keys::listener(listener, "log"))
        .arg(node.as_str())
        .arg(WRITER_JOURNAL_CAP)
        .arg(page);
    let (epoch, account, snap, log): (u64, AccountFields, (Field, Field, Field), Value) =
        s.durable(call, "activate").await?;
    let snapshot = snapshot_from_fields(listener, snap)?;
    let log_after = snapshot.as_ref().map_or(0, |s| s.covers_seq);
    Ok(Activated {
        epoch,
        account: account_from_fields(listener, account)?,
        snapshot,
        log_after,
        log: parse_log_entries(log)?,
    })
}

pub(super) async fn snapshot(
    s: &RedisStore,
    listener: &ListenerId,
) -> StoreResult<Option<Snapshot>> {
    let fields: (Field, Field, Field) = ::redis::cmd("HMGET")
        .arg(keys::listener(listener, "snapshot"))
        .arg("epoch")
        .arg("covers_seq")
        .arg("bytes")
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("read snapshot"))?;
    snapshot_from_fields(listener, fields)
}

/// The snapshot a hash's `epoch`, `covers_seq` and `bytes` fields hold.
fn snapshot_from_fields(
    listener: &ListenerId,
    fields: (Field, Field, Field),
) -> StoreResult<Option<Snapshot>> {
    match fields {
        (None, None, None) => Ok(None),
        (Some(epoch), Some(covers), Some(bytes)) => Ok(Some(Snapshot {
            epoch: parse_u64(&epoch, "snapshot epoch")?,
            covers_seq: parse_u64(&covers, "snapshot covers_seq")?,
            bytes,
        })),
        _ => Err(StoreError::Corrupt(format!(
            "snapshot of {listener}: missing fields"
        ))),
    }
}

pub(super) async fn writer_journal(
    s: &RedisStore,
    listener: &ListenerId,
) -> StoreResult<Vec<WriterEvent>> {
    let lines: Vec<String> = s
        .conn()
        .lrange(keys::listener(listener, "writers"), 0, -1)
        .await
        .map_err(s.err("read writer journal"))?;
    lines.iter().map(|l| parse_journal_line(l)).collect()
}

/// Parses `a|ms|epoch|node`, `w|ms|epoch|covers_seq` or `f|ms|epoch|current`.
fn parse_journal_line(line: &str) -> StoreResult<WriterEvent> {
    let bad = || StoreError::Corrupt(format!("writer journal entry {line:?}"));
    let mut parts = line.splitn(4, '|');
    let (Some(tag), Some(ms), Some(epoch), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let at_ms = ms.parse().map_err(|_| bad())?;
    let epoch = epoch.parse().map_err(|_| bad())?;
    let step = match tag {
        "a" => WriterStep::Activated {
            node: rest.to_owned(),
        },
        "w" => WriterStep::Wrote {
            covers_seq: rest.parse().map_err(|_| bad())?,
        },
        "f" => WriterStep::Fenced {
            current: rest.parse().map_err(|_| bad())?,
        },
        _ => return Err(bad()),
    };
    Ok(WriterEvent { at_ms, epoch, step })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_lines_parse_or_are_corrupt() {
        let e = parse_journal_line("a|1700000000123|4|n2").unwrap();
        assert_eq!(
            (e.at_ms, e.epoch, e.step),
            (
                1_700_000_000_123,
                4,
                WriterStep::Activated { node: "n2".into() }
            )
        );
        let w = parse_journal_line("w|5|4|17").unwrap();
        assert_eq!(w.step, WriterStep::Wrote { covers_seq: 17 });
        let f = parse_journal_line("f|5|3|4").unwrap();
        assert_eq!(f.step, WriterStep::Fenced { current: 4 });
        for bad in ["", "a|1|2", "x|1|2|3", "w|1|2|many", "a|soon|2|n1"] {
            assert!(
                matches!(parse_journal_line(bad), Err(StoreError::Corrupt(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn malformed_log_replies_are_corrupt() {
        let entry = |id: &[u8], body: &[u8]| {
            Value::Array(vec![
                Value::BulkString(id.to_vec()),
                Value::Array(vec![
                    Value::BulkString(b"i".to_vec()),
                    Value::BulkString(body.to_vec()),
                ]),
            ])
        };
        let bad_id = Value::Array(vec![entry(b"12-1", b"{}")]);
        assert!(matches!(
            parse_log_entries(bad_id),
            Err(StoreError::Corrupt(_))
        ));
        let bad_body = Value::Array(vec![entry(b"1-0", b"not json")]);
        assert!(matches!(
            parse_log_entries(bad_body),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            parse_log_entries(Value::Int(3)),
            Err(StoreError::Corrupt(_))
        ));
        assert!(parse_log_entries(Value::Array(vec![])).unwrap().is_empty());
    }
}
