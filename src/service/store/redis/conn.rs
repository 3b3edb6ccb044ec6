//! The connection layer: one Redis server or a Redis Cluster behind one type, and
//! the one place that knows what "acknowledged" costs (`WAIT`).
//!
//! [`Conn`] is either a `ConnectionManager` (one server; reconnects by itself) or the
//! redis crate's own `cluster_async::ClusterConnection` (it learns the slot map from
//! the seeds, follows MOVED/ASK, reconnects and refreshes the topology on failover).
//! Both are `aio::ConnectionLike`, so every store method is written once against
//! `Conn` and routing is the cluster client's: a command goes to the master of its
//! key's slot, which is why every call keeps its keys under one hash tag (see the
//! key layout in the parent module).
//!
//! On a cluster a store keeps one such client per master, a lane ([`super::lanes`]), so
//! a failing master stalls only its own slots. Each client is watched
//! ([`super::watch`]): one whose calls have all failed without any answer — no reply,
//! not even a server's error — for 15 s is rebuilt from the seeds (issue 13: in one chaos run every node's cluster
//! client stopped answering after the third master kill while Redis itself was whole;
//! README "Redis Cluster"). A rebuild only replaces the client: calls in flight on the
//! old one fail (never acknowledged), and retries go to the new one.
//!
//! [`Durable`] is the write path for appends, leases and fencing epochs. With
//! `durability = "replicated"` the script and a `WAIT 1 <timeout>` go out as one
//! pipeline: the cluster client routes the whole pipeline by the script's key, so the
//! `WAIT` runs on the very connection (and server) that ran the script, and a retry
//! after MOVED or a dead master re-sends both — never a `WAIT` alone to a new master,
//! which would count that master's replicas for a write it never saw. Fewer than one
//! replica in time → [`StoreError::Unavailable`]: the write may exist on the master,
//! but it is not acknowledged, and the client's retry (same id) is idempotent.
//! The scripts run as `EVALSHA`, loaded on `NOSCRIPT` (a restarted or promoted
//! server) and tried once more.

use ::redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use ::redis::cluster::ClusterClientBuilder;
use ::redis::{Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, Script, ServerErrorKind, Value};
use std::sync::Arc;
use std::time::Duration;

use super::lanes::{ClusterLanes, Router};
use crate::config::Durability;

/// How long one connection attempt may take. Loopback or LAN Redis answers in
/// milliseconds; longer means it is not there.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command may wait for its reply. A paused or partitioned Redis would
/// otherwise hang callers forever; past this the call fails `Unavailable` (and, for
/// writes, may or may not have happened — callers do not acknowledge it).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// The same for one try of a cluster call (the client retries within
/// [`CLUSTER_OVERALL_TIMEOUT`]), and for each step of the crate's slot refresh — which
/// asks known nodes one at a time, a cut-off master perhaps first. Issue 13: with 5 s
/// every call to a partitioned master, and every refresh that asked it first, waited
/// 5 s; a healthy master answers in milliseconds, even on this loaded machine (p99
/// ≤ 51 ms). A durable call's try waits for its `WAIT` on top ([`Conn::cluster`]).
const CLUSTER_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Connection attempts on a cluster: a partitioned node drops the SYN, so this is
/// how long a refresh that reconnects to it waits.
const CLUSTER_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// A cluster call's whole budget, retries and redirections included. A failover takes
/// cluster-node-timeout + ~2 s (3.2–4.7 s measured with 2 s); the client retries
/// through it, so one call may span it, but never hangs past this.
const CLUSTER_OVERALL_TIMEOUT: Duration = Duration::from_secs(8);
/// Cluster retries (the crate's default is 16, with waits growing to minutes). With
/// the waits below, 16 retries span a failover (~3.5 s) within the overall budget.
const CLUSTER_RETRIES: u32 = 16;
/// The cluster client waits `rand(min .. min(max, 10 * 2^attempt))` ms before a retry.
/// The crate's minimum is 1280 ms, which (above our old 1000 ms cap) made every retry
/// wait 1.28 s: a listener on a failed-over master waited up to that long after its
/// slots had a new master. Measured with the failover test (README "Redis Cluster").
const CLUSTER_MIN_RETRY_WAIT_MS: u64 = 100;
const CLUSTER_MAX_RETRY_WAIT_MS: u64 = 500;
/// Reconnection attempts after a dropped connection, with exponential backoff from
/// `RECONNECT_MIN_DELAY` up to `RECONNECT_MAX_DELAY`; callers see `Unavailable` while
/// it retries, and the next call starts a new round.
const RECONNECT_RETRIES: usize = 3;
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(50);
const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);
/// Replicas that must confirm a write under `durability = "replicated"`. One: with one
/// replica per master that replica is the one promoted; with two (the recommended
/// layout) Redis promotes the most up-to-date one — ARCHITECTURE.md "Fencing on a Redis
/// Cluster" says what that guarantees and what it does not.
const REPLICAS_REQUIRED: i64 = 1;

/// One server or a cluster; cloning shares the connection(s).
#[derive(Clone)]
pub(super) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterLanes),
}

impl Conn {
    /// A multiplexed, self-reconnecting connection to the server at `url`.
    pub(super) async fn single(url: &str) -> Result<Self, RedisError> {
        let client = ::redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(RECONNECT_MIN_DELAY)
            .set_max_delay(RECONNECT_MAX_DELAY);
        Ok(Self::Single(
            ConnectionManager::new_with_config(client, config).await?,
        ))
    }

    /// The cluster's lanes over `seeds` (any reachable one gives the slot map);
    /// `router` is the store's, shared by all its connections ([`super::lanes`]).
    /// `wait` is how long a call may block in `WAIT` (zero for a connection that sends
    /// none): one try may take that on top of [`CLUSTER_RESPONSE_TIMEOUT`].
    pub(super) async fn cluster(
        seeds: &[String],
        router: Arc<Router>,
        wait: Duration,
    ) -> Result<Self, RedisError> {
        let client = ClusterClientBuilder::new(seeds.to_vec())
            .connection_timeout(CLUSTER_CONNECT_TIMEOUT)
            .response_timeout(CLUSTER_RESPONSE_TIMEOUT + wait)
            .overall_response_timeout(Some(CLUSTER_OVERALL_TIMEOUT))
            .retries(CLUSTER_RETRIES)
            .min_retry_wait(CLUSTER_MIN_RETRY_WAIT_MS)
            .max_retry_wait(CLUSTER_MAX_RETRY_WAIT_MS)
            .build()?;
        Ok(Self::Cluster(ClusterLanes::connect(client, router).await?))
    }

    pub(super) fn is_cluster(&self) -> bool {
        matches!(self, Conn::Cluster(_))
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(lanes) => Box::pin(lanes.command(cmd)),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(lanes) => Box::pin(lanes.pipeline(pipeline, offset, count)),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(_) => 0,
        }
    }
}

/// What an acknowledged write waits for.
#[derive(Debug, Clone, Copy)]
pub(super) struct WritePolicy {
    pub durability: Durability,
    pub timeout: Duration,
}

impl Default for WritePolicy {
    fn default() -> Self {
        Self {
            durability: Durability::Local,
            timeout: Duration::from_millis(crate::config::DEFAULT_DURABILITY_TIMEOUT_MS),
        }
    }
}

/// Why a durable write was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub(super) enum DurableError {
    #[error(transparent)]
    Redis(#[from] RedisError),
    #[error("not replicated: {confirmed} of {REPLICAS_REQUIRED} replica(s) confirmed within {timeout_ms} ms")]
    NotReplicated { confirmed: i64, timeout_ms: u128 },
}

/// One script call on the durable write path: `EVALSHA sha nkeys keys… args…`.
pub(super) struct Durable<'s> {
    script: &'s Script,
    keys: Vec<String>,
    args: Vec<Vec<u8>>,
}

impl<'s> Durable<'s> {
    pub(super) fn new(script: &'s Script) -> Self {
        Self {
            script,
            keys: Vec::new(),
            args: Vec::new(),
        }
    }

    pub(super) fn key(mut self, key: String) -> Self {
        self.keys.push(key);
        self
    }

    pub(super) fn arg(mut self, arg: impl ToString) -> Self {
        self.args.push(arg.to_string().into_bytes());
        self
    }

    pub(super) fn arg_bytes(mut self, arg: &[u8]) -> Self {
        self.args.push(arg.to_vec());
        self
    }

    fn evalsha(&self) -> Cmd {
        let mut cmd = ::redis::cmd("EVALSHA");
        cmd.arg(self.script.get_hash()).arg(self.keys.len());
        for k in &self.keys {
            cmd.arg(k);
        }
        for a in &self.args {
            cmd.arg(a.as_slice());
        }
        cmd
    }

    /// Runs the script; under `replicated`, returns only once a replica confirmed it.
    pub(super) async fn invoke<T: ::redis::FromRedisValue>(
        &self,
        conn: &mut Conn,
        policy: WritePolicy,
    ) -> Result<T, DurableError> {
        match self.try_invoke(conn, policy).await {
            Err(DurableError::Redis(e))
                if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) =>
            {
                self.script.load_async(conn).await?;
                self.try_invoke(conn, policy).await
            }
            other => other,
        }
    }

    async fn try_invoke<T: ::redis::FromRedisValue>(
        &self,
        conn: &mut Conn,
        policy: WritePolicy,
    ) -> Result<T, DurableError> {
        match policy.durability {
            Durability::Local => Ok(self.evalsha().query_async(conn).await?),
            Durability::Replicated => {
                let timeout_ms = policy.timeout.as_millis();
                let mut pipe = ::redis::pipe();
                pipe.add_command(self.evalsha())
                    .cmd("WAIT")
                    .arg(REPLICAS_REQUIRED)
                    .arg(u64::try_from(timeout_ms).unwrap_or(u64::MAX));
                let (reply, confirmed): (T, i64) = pipe.query_async(conn).await?;
                if confirmed >= REPLICAS_REQUIRED {
                    Ok(reply)
                } else {
                    Err(DurableError::NotReplicated {
                        confirmed,
                        timeout_ms,
                    })
                }
            }
        }
    }
}
