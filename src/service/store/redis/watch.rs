//! The watched cluster client: one redis-crate cluster client that is rebuilt from
//! the seeds when it has stopped answering.
//!
//! Issue 13: in one chaos run every node's cluster client stopped answering after the
//! third master kill while Redis itself was whole (README "Redis Cluster", the hang).
//! A client whose calls have all failed without any answer — no reply, not even a
//! server's error such as MOVED — for [`CLUSTER_STUCK_AFTER`] is rebuilt: a new
//! client, a new task. Calls in flight on the old one fail (never acknowledged), and
//! retries go to the new one. A lane may sit idle for long, so silence counts only
//! from the first of the failing calls. Each lane of [`super::lanes`] is one of these.
//!
//! A call unanswered for [`POKE_EVERY`] also wakes the client's task
//! ([`ClusterHandle::poke`]), so the crate sends the retries it has queued.

use ::redis::aio::ConnectionLike;
use ::redis::cluster::ClusterClient;
use ::redis::cluster_async::ClusterConnection;
use ::redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use ::redis::{Cmd, ErrorKind, Pipeline, RedisError, Value};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// How long a cluster client may answer nothing at all while calls to it fail before
/// it is rebuilt from the seeds. Past a call's whole budget (8 s, `conn`)
/// and a failover (~4 s): a lane whose master fails over answers again once its
/// client has refreshed its slot map, well within it, so only a stuck client gets here.
const CLUSTER_STUCK_AFTER: Duration = Duration::from_secs(15);
/// How long building a new cluster client may take (the crate's connect has no overall
/// deadline of its own), and the least time between two rebuild attempts.
const CLUSTER_REBUILD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a call may go unanswered before it wakes its client, and how often then
/// (at most once per period per client; see [`ClusterHandle::poke`]).
const POKE_EVERY: Duration = Duration::from_millis(250);

/// A cluster client and its watchdog (see the module docs); cloning shares both. A
/// store has one per master and connection ([`super::lanes`]).
#[derive(Clone)]
pub(super) struct ClusterHandle(Arc<ClusterShared>);

struct ClusterShared {
    /// What a rebuild connects with (the seeds and every setting above).
    client: ClusterClient,
    /// The client in use; a rebuild swaps it.
    conn: RwLock<ClusterConnection>,
    watch: Mutex<Watch>,
}

struct Watch {
    /// Since when every call has failed without an answer (`None` after an answer).
    /// A lane may sit idle for long, so silence counts only while calls fail.
    failing_since: Option<Instant>,
    /// When a rebuild last started (none runs while the previous one does).
    last_rebuild: Option<Instant>,
    rebuilding: bool,
    /// When the client was last woken ([`ClusterHandle::poke`]).
    last_poke: Option<Instant>,
}

/// Whether the call got an answer from Redis: a reply, or an error a server sent
/// (MOVED, NOSCRIPT, WRONGTYPE, …). Timeouts, I/O errors and "no connection" are not.
pub(super) fn answered<T>(result: &Result<T, RedisError>) -> bool {
    match result {
        Ok(_) => true,
        Err(e) => matches!(e.kind(), ErrorKind::Server(_)) || e.code().is_some(),
    }
}

impl ClusterHandle {
    /// A new cluster client over `client`'s seeds, watched.
    pub(super) async fn connect(client: &ClusterClient) -> Result<Self, RedisError> {
        let conn = client.get_async_connection().await?;
        Ok(Self(Arc::new(ClusterShared {
            client: client.clone(),
            conn: RwLock::new(conn),
            watch: Mutex::new(Watch {
                failing_since: None,
                last_rebuild: None,
                rebuilding: false,
                last_poke: None,
            }),
        })))
    }

    pub(super) fn current(&self) -> ClusterConnection {
        self.0
            .conn
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(super) async fn command(&self, cmd: &Cmd) -> Result<Value, RedisError> {
        let mut conn = self.current();
        let result = self.awake(conn.req_packed_command(cmd)).await;
        self.observe(&result);
        result
    }

    pub(super) async fn pipeline(
        &self,
        pipeline: &Pipeline,
        offset: usize,
        count: usize,
    ) -> Result<Vec<Value>, RedisError> {
        let mut conn = self.current();
        let result = self
            .awake(conn.req_packed_commands(pipeline, offset, count))
            .await;
        self.observe(&result);
        result
    }

    pub(super) async fn route(&self, cmd: Cmd, routing: RoutingInfo) -> Result<Value, RedisError> {
        let mut conn = self.current();
        let result = self.awake(conn.route_command(cmd, routing)).await;
        self.observe(&result);
        result
    }

    /// Runs `call`, waking the client every [`POKE_EVERY`] while it has no answer.
    async fn awake<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, RedisError>>,
    ) -> Result<T, RedisError> {
        tokio::pin!(call);
        loop {
            match tokio::time::timeout(POKE_EVERY, &mut call).await {
                Ok(result) => return result,
                Err(_) => self.poke(),
            }
        }
    }

    /// Wakes the client's task with a `PING` (its answer does not matter).
    ///
    /// Why (issue 13, the store test's partition row): the crate (1.8.1) puts a call
    /// whose try timed out back on a queue that it reads only when its task runs for
    /// something else — a new call, an answer, a reconnect. When every caller of a
    /// client waits on a cut-off master, nothing else comes, so those retries sat
    /// unsent until each call's whole budget (8 s) ran out, even after the slot map
    /// named the promoted replica. Any message to the client runs its task, which sends
    /// the queued retries (to the new master once the slot map was re-read).
    fn poke(&self) {
        let now = Instant::now();
        {
            let mut watch = self
                .0
                .watch
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if watch
                .last_poke
                .is_some_and(|t| now.duration_since(t) < POKE_EVERY)
            {
                return;
            }
            watch.last_poke = Some(now);
        }
        let mut conn = self.current();
        tokio::spawn(async move {
            let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
            let _ = conn.route_command(::redis::cmd("PING"), routing).await;
        });
    }

    /// Records how a call went; starts a rebuild if the client has been silent too long.
    fn observe<T>(&self, result: &Result<T, RedisError>) {
        let now = Instant::now();
        let mut watch = self
            .0
            .watch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if answered(result) {
            watch.failing_since = None;
            return;
        }
        let silent = now.duration_since(*watch.failing_since.get_or_insert(now));
        let recently = watch
            .last_rebuild
            .is_some_and(|t| now.duration_since(t) < CLUSTER_REBUILD_TIMEOUT);
        if silent < CLUSTER_STUCK_AFTER || watch.rebuilding || recently {
            return;
        }
        watch.rebuilding = true;
        watch.last_rebuild = Some(now);
        drop(watch);
        tracing::warn!(
            silent_ms = silent.as_millis() as u64,
            "redis cluster client answered nothing while calls failed: rebuilding it from the seeds"
        );
        let this = self.clone();
        tokio::spawn(async move { this.rebuild().await });
    }

    /// Rebuilds the client now (unless a rebuild runs or ran within
    /// [`CLUSTER_REBUILD_TIMEOUT`]): the caller knows it is stuck — a nudge after a
    /// failover (`lanes`) that a healthy master should have answered in milliseconds
    /// got no answer.
    pub(super) fn rebuild_now(&self, why: &'static str) {
        let now = Instant::now();
        let mut watch = self
            .0
            .watch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let recently = watch
            .last_rebuild
            .is_some_and(|t| now.duration_since(t) < CLUSTER_REBUILD_TIMEOUT);
        if watch.rebuilding || recently {
            return;
        }
        watch.rebuilding = true;
        watch.last_rebuild = Some(now);
        drop(watch);
        tracing::warn!(
            why,
            "redis cluster client stuck: rebuilding it from the seeds"
        );
        let this = self.clone();
        tokio::spawn(async move { this.rebuild().await });
    }

    async fn rebuild(self) {
        let built = tokio::time::timeout(
            CLUSTER_REBUILD_TIMEOUT,
            self.0.client.get_async_connection(),
        )
        .await;
        let mut watch = self
            .0
            .watch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        watch.rebuilding = false;
        match built {
            Ok(Ok(conn)) => {
                *self
                    .0
                    .conn
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = conn;
                watch.failing_since = None;
                tracing::warn!("redis cluster client rebuilt");
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "redis cluster client not rebuilt"),
            Err(_) => tracing::warn!(
                timeout_ms = CLUSTER_REBUILD_TIMEOUT.as_millis() as u64,
                "redis cluster client not rebuilt in time"
            ),
        }
    }
}
