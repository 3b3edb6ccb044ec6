//! Cluster-wide background jobs (lease, fencing epoch, state) and the listener
//! registry in Redis. A job's keys share the hash tag `{job:<name>}`; the registry is
//! one sorted set under `{listeners}` (all scores 0, so `ZRANGE … BYLEX` pages it in
//! id order).

use ::redis::{Script, Value};
use std::sync::LazyLock;
use std::time::Duration;

use super::{keys, Durable, RedisStore};
use crate::store::*;

static ACQUIRE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/acquire_job_lease.lua")));
static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/release_job_lease.lua")));
static PUT_STATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("../lua/put_job_state.lua")));

/// Records a listener in the registry (idempotent).
pub(super) async fn register_listener(s: &RedisStore, listener: &ListenerId) -> StoreResult<()> {
    let _: i64 = ::redis::cmd("ZADD")
        .arg(keys::LISTENER_REGISTRY)
        .arg("NX")
        .arg(0)
        .arg(listener.as_str())
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("register listener"))?;
    Ok(())
}

pub(super) async fn listeners(
    s: &RedisStore,
    after: Option<&ListenerId>,
    limit: usize,
) -> StoreResult<Vec<ListenerId>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let from = after.map_or_else(|| "-".to_owned(), |a| format!("({a}"));
    let names: Vec<String> = ::redis::cmd("ZRANGE")
        .arg(keys::LISTENER_REGISTRY)
        .arg(from)
        .arg("+")
        .arg("BYLEX")
        .arg("LIMIT")
        .arg(0)
        .arg(limit)
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("list listeners"))?;
    names
        .iter()
        .map(|n| {
            ListenerId::parse(n).map_err(|e| StoreError::Corrupt(format!("listener registry: {e}")))
        })
        .collect()
}

pub(super) async fn acquire_lease(
    s: &RedisStore,
    job: &JobName,
    holder: &LeaseHolder,
    ttl: Duration,
) -> StoreResult<LeaseGrant> {
    let call = Durable::new(&ACQUIRE)
        .key(keys::job(job, "lease"))
        .key(keys::job(job, "epoch"))
        .arg(holder.as_str())
        .arg(ttl_millis(ttl));
    let reply: Value = s.durable(call, "acquire job lease").await?;
    match reply {
        Value::Array(v) => match v.as_slice() {
            [Value::Int(1), Value::Int(epoch)] => Ok(LeaseGrant::Held {
                epoch: u64::try_from(*epoch)
                    .map_err(|_| StoreError::Corrupt("job epoch is negative".into()))?,
            }),
            [Value::Int(0), Value::BulkString(h)] => Ok(LeaseGrant::Busy {
                holder: String::from_utf8_lossy(h).into_owned(),
            }),
            _ => Err(StoreError::Corrupt("job lease: malformed reply".into())),
        },
        _ => Err(StoreError::Corrupt("job lease: malformed reply".into())),
    }
}

pub(super) async fn release_lease(
    s: &RedisStore,
    job: &JobName,
    holder: &LeaseHolder,
    epoch: u64,
) -> StoreResult<()> {
    let _: i64 = RELEASE
        .key(keys::job(job, "lease"))
        .arg(format!("{holder}|{epoch}"))
        .invoke_async(&mut s.conn())
        .await
        .map_err(s.err("release job lease"))?;
    Ok(())
}

pub(super) async fn put_state(
    s: &RedisStore,
    job: &JobName,
    epoch: u64,
    fields: &[JobField],
) -> StoreResult<()> {
    jobs::check_write_size(fields)?;
    let mut call = Durable::new(&PUT_STATE)
        .key(keys::job(job, "epoch"))
        .key(keys::job(job, "state"))
        .arg(epoch);
    for (name, bytes) in fields {
        call = call.arg(name.as_str()).arg_bytes(bytes);
    }
    let (written, current): (i64, u64) = s.durable(call, "put job state").await?;
    match written {
        1 => Ok(()),
        _ => Err(StoreError::Fenced {
            held: epoch,
            current,
        }),
    }
}

pub(super) async fn state_field(
    s: &RedisStore,
    job: &JobName,
    field: &str,
) -> StoreResult<Option<Vec<u8>>> {
    ::redis::cmd("HGET")
        .arg(keys::job(job, "state"))
        .arg(field)
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("read job state field"))
}

pub(super) async fn state(s: &RedisStore, job: &JobName) -> StoreResult<Vec<JobField>> {
    let mut fields: Vec<JobField> = ::redis::cmd("HGETALL")
        .arg(keys::job(job, "state"))
        .query_async(&mut s.conn())
        .await
        .map_err(s.err("read job state"))?;
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(fields)
}
