//! Lanes: one redis-crate cluster client per Redis Cluster master, so a failing master
//! holds up only its own slots (issue 13: "the rest see no interruption").
//!
//! The crate's cluster client (1.8.1) holds back *every* request while it rebuilds its
//! slot map, and it rebuilds it again and again while a master is down or cut off, so
//! with one client per store every listener waited out a failover (~4 s), not just
//! those on the failed master (README "Redis Cluster"). Here a store keeps one full
//! cluster client per master — a *lane* — and sends each call to the lane of the
//! master that owned its slot at the last topology read:
//!
//! - A call's slot comes from its key and the crate's own key-slot function
//!   (`Route::with_key`); the lane from [`Router`], which reads
//!   `CLUSTER SLOTS` every [`TOPOLOGY_EVERY`] (500 ms) and after a failed call. A shard keeps
//!   its lane across a failover (the promoted replica takes the lane that served its
//!   slots), so a failover never moves a slot between lanes.
//! - Every lane is still a whole cluster client: MOVED/ASK, reconnection and the
//!   failover itself are the crate's. A stale lane choice costs a redirect inside that
//!   lane, never correctness; routing stays the crate's, this only picks which client.
//! - Only the lane whose master failed enters the crate's recovery; the others never
//!   see an error, so they never refresh and never stall.
//! - A call with no slot (`PING`, `SCRIPT LOAD`: the crate would fan it out to every
//!   node) goes to each lane's own master, one call per lane; the first answer is
//!   returned once all succeeded. A call routed to "any node" goes to the first lane.
//! - Each lane has its own watchdog (`watch::ClusterHandle`).
//! - When a topology read shows a lane's shard under a new master (a failover), that
//!   lane is nudged in every lane set of the store ([`nudge`]): the crate never
//!   refreshes its slot map on a timeout, so without it calls for a partitioned
//!   master's slots kept going to the old master until the partition healed.
//!
//! Connections: every cluster client connects to every node of the cluster (masters
//! and replicas), so a lane set costs masters × nodes connections; a store has one
//! set for reads and light writes and, with `durability = "replicated"`, one per
//! durable connection (README "Redis Cluster" has the count).

use ::redis::cluster::ClusterClient;
use ::redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use ::redis::{Arg, Cmd, ErrorKind, Pipeline, RedisError, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex, RwLock, Weak};
use std::time::Duration;

use super::watch::ClusterHandle;

/// Slots in a Redis Cluster.
const SLOTS: u16 = 16384;
/// How often the topology is read when nothing fails.
/// Half a second: after a partitioned master's replica is promoted, this is most of
/// how long its lane waits to be nudged (README "Redis Cluster"); one small
/// `CLUSTER SLOTS` per lane each time.
pub(super) const TOPOLOGY_EVERY: Duration = Duration::from_millis(500);
/// How long a nudge may take before its lane's client counts as stuck and is rebuilt:
/// the other master answers MOVED in milliseconds, the new master the retry, and the
/// crate's slot refresh between them waits at most 1 s per node it asks (1–12 ms in
/// the chaos runs; the stuck clients of "The hang", README "Redis Cluster", never
/// answered, and were rebuilt only after 15 s of silence).
const NUDGE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one topology read from one lane may take.
const TOPOLOGY_READ_TIMEOUT: Duration = Duration::from_secs(1);
/// The most lanes a set keeps (a cluster with more masters shares lanes).
const MAX_LANES: usize = 16;
/// "No lane yet" in the slot table.
const NO_LANE: u16 = u16::MAX;

/// The slot of each master `Route`: the crate computes a key's slot
/// (`Route::with_key`) but keeps the number private, so it is looked up by value
/// (built once, 16384 entries).
static ROUTE_SLOTS: LazyLock<HashMap<Route, u16>> = LazyLock::new(|| {
    (0..SLOTS)
        .map(|slot| (Route::new(slot, SlotAddr::Master), slot))
        .collect()
});

/// Where a call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The lane of this slot.
    Slot(u16),
    /// Every lane's own master (the crate would fan the call out).
    Every,
    /// Any one lane.
    Any,
}

/// Where `cmd` goes: the slot of its key (the first argument, or for a script the
/// first declared key), by the crate's own key-slot function. The crate's command
/// table (`RoutingInfo::for_routable`) is private, so the commands the store sends
/// are told apart here; a command not listed whose first argument is not a key would
/// only cost a redirect inside a lane, never a wrong answer.
fn target_of_cmd(cmd: &Cmd) -> Target {
    let mut args = cmd.args_iter().map(|a| match a {
        Arg::Simple(b) => b,
        _ => &b""[..],
    });
    let name = args.next().unwrap_or_default().to_ascii_uppercase();
    let key = match name.as_slice() {
        b"PING" | b"SCRIPT" | b"FLUSHALL" | b"FLUSHDB" => return Target::Every,
        b"EVAL" | b"EVALSHA" | b"EVAL_RO" | b"EVALSHA_RO" | b"FCALL" | b"FCALL_RO" => {
            let _script = args.next();
            let keys = args
                .next()
                .and_then(|n| std::str::from_utf8(n).ok()?.parse::<u64>().ok());
            match keys {
                Some(n) if n > 0 => args.next(),
                _ => None,
            }
        }
        b"WAIT" | b"WAITAOF" | b"MULTI" | b"EXEC" | b"DISCARD" | b"CLUSTER" | b"TIME" | b"INFO"
        | b"CLIENT" | b"ECHO" | b"READONLY" | b"READWRITE" | b"ASKING" | b"SELECT" | b"AUTH"
        | b"HELLO" | b"CONFIG" | b"COMMAND" => None,
        _ => args.next(),
    };
    match key.and_then(|k| ROUTE_SLOTS.get(&Route::with_key(k, SlotAddr::Master))) {
        Some(&slot) => Target::Slot(slot),
        None => Target::Any,
    }
}

/// A pipeline goes where its first keyed command goes (the crate routes it so too).
fn target_of_pipeline(pipeline: &Pipeline) -> Target {
    pipeline
        .cmd_iter()
        .map(target_of_cmd)
        .find(|t| matches!(t, Target::Slot(_)))
        .unwrap_or(Target::Any)
}

/// The slot of `key` by the crate's own function.
#[cfg(test)]
pub(super) fn slot_of_key(key: &str) -> u16 {
    ROUTE_SLOTS
        .get(&Route::with_key(key, SlotAddr::Master))
        .copied()
        .unwrap_or(0)
}

/// One master in a `CLUSTER SLOTS` reply: its address and slot ranges.
type Masters = Vec<(String, Vec<(u16, u16)>)>;

/// Parses `CLUSTER SLOTS`: `[[start, end, [host, port, id, …], replica…], …]`.
fn parse_slots(value: &Value) -> Option<Masters> {
    let Value::Array(ranges) = value else {
        return None;
    };
    let mut by_master: Vec<(String, Vec<(u16, u16)>)> = Vec::new();
    for range in ranges {
        let Value::Array(parts) = range else {
            return None;
        };
        let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(master))) =
            (parts.first(), parts.get(1), parts.get(2))
        else {
            return None;
        };
        let host = match master.first()? {
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            Value::SimpleString(s) => s.clone(),
            _ => return None,
        };
        let Some(Value::Int(port)) = master.get(1) else {
            return None;
        };
        let (start, end) = (u16::try_from(*start).ok()?, u16::try_from(*end).ok()?);
        if start > end || end >= SLOTS {
            return None;
        }
        let addr = format!("{host}:{port}");
        match by_master.iter_mut().find(|(a, _)| *a == addr) {
            Some((_, r)) => r.push((start, end)),
            None => by_master.push((addr, vec![(start, end)])),
        }
    }
    Some(by_master)
}

/// Which lane serves which slot; shared by every lane set of one store.
#[derive(Default)]
pub(super) struct Router {
    table: RwLock<Table>,
    /// Wakes the topology task early (a call failed).
    wake: tokio::sync::Notify,
    /// One lane per set only: every call on lane 0 (`SPOOFIFY_REDIS_LANES=off`, the
    /// A/B switch of README "Redis Cluster").
    single: bool,
    /// Every lane set of the store, to nudge when a lane's master changed.
    sets: Mutex<Vec<Weak<LanesShared>>>,
}

#[derive(Default, Clone)]
struct Table {
    /// The lane of each slot (`NO_LANE` when unknown: lane 0 takes it).
    lane_of_slot: Arc<Vec<u16>>,
    /// A slot each lane serves (to reach its master), `None` for a lane with none now.
    slot_of_lane: Vec<Option<u16>>,
    /// The lane of each master address at the last read.
    lane_of_master: HashMap<String, usize>,
}

impl Router {
    /// A router with lanes, or with one lane per set when the environment says
    /// `SPOOFIFY_REDIS_LANES=off` (an experiment switch, not a setting).
    pub(super) fn from_env() -> Self {
        let single = std::env::var("SPOOFIFY_REDIS_LANES").is_ok_and(|v| v == "off" || v == "0");
        if single {
            tracing::info!("redis cluster lanes off: one cluster client per connection");
        }
        Self {
            single,
            ..Self::default()
        }
    }

    fn table(&self) -> Table {
        self.table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// How many lanes the last topology needs.
    pub(super) fn lanes(&self) -> usize {
        if self.single {
            return 1;
        }
        self.table().slot_of_lane.len().max(1)
    }

    /// The lane that carries calls meant for lane `lane` (lane 0 when lanes are off).
    fn carrier(&self, lane: usize) -> usize {
        if self.single {
            0
        } else {
            lane
        }
    }

    fn lane_of(&self, slot: u16) -> usize {
        if self.single {
            return 0;
        }
        let table = self
            .table
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match table.lane_of_slot.get(usize::from(slot)) {
            Some(&l) if l != NO_LANE => usize::from(l),
            _ => 0,
        }
    }

    /// Takes a new topology. A master keeps its lane; a new master (a promoted
    /// replica) takes the lane that served its first slot if no remaining master
    /// holds that lane; otherwise it gets a new lane (up to [`MAX_LANES`]). Returns the
    /// lanes whose master changed (a failover), each with a slot it serves now.
    fn apply(&self, masters: &Masters) -> Vec<(usize, u16)> {
        let mut table = self
            .table
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let old = table.clone();
        let mut assign: HashMap<String, usize> = HashMap::new();
        let mut claimed: HashSet<usize> = HashSet::new();
        for (addr, _) in masters {
            if let Some(&l) = old.lane_of_master.get(addr) {
                if claimed.insert(l) {
                    assign.insert(addr.clone(), l);
                }
            }
        }
        for (addr, ranges) in masters {
            if assign.contains_key(addr) {
                continue;
            }
            let first = ranges.first().map_or(0, |r| r.0);
            let before = old
                .lane_of_slot
                .get(usize::from(first))
                .copied()
                .filter(|l| *l != NO_LANE)
                .map(usize::from);
            let lane = match before {
                Some(l) if !claimed.contains(&l) => l,
                _ => (0..MAX_LANES)
                    .find(|l| !claimed.contains(l) && !old.lane_of_master.values().any(|v| v == l))
                    .or_else(|| (0..MAX_LANES).find(|l| !claimed.contains(l)))
                    .unwrap_or(claimed.len() % MAX_LANES),
            };
            claimed.insert(lane);
            assign.insert(addr.clone(), lane);
        }
        let lanes = assign
            .values()
            .max()
            .map_or(1, |m| m + 1)
            .max(old.slot_of_lane.len());
        let mut lane_of_slot = vec![NO_LANE; usize::from(SLOTS)];
        let mut slot_of_lane = vec![None; lanes];
        for (addr, ranges) in masters {
            let lane = assign[addr];
            for &(a, b) in ranges {
                for s in a..=b {
                    lane_of_slot[usize::from(s)] = lane as u16;
                }
                slot_of_lane[lane].get_or_insert(a);
            }
        }
        let mut changed = Vec::new();
        if assign != old.lane_of_master {
            tracing::info!(lanes = ?assign, "redis cluster lanes: masters changed");
            for (addr, &lane) in &assign {
                let before = old.lane_of_master.iter().find(|(_, l)| **l == lane);
                let moved = before.is_some_and(|(a, _)| a != addr);
                if let (true, Some(slot)) = (moved, slot_of_lane[lane]) {
                    changed.push((lane, slot));
                }
            }
        }
        *table = Table {
            lane_of_slot: Arc::new(lane_of_slot),
            slot_of_lane,
            lane_of_master: assign,
        };
        changed
    }

    /// A master changed on `lane` (a failover): tells that lane's client in every set
    /// to re-read its slot map now (see [`nudge`]).
    fn nudge_sets(&self, changed: &[(usize, u16)]) {
        let table = self.table();
        let sets: Vec<_> = {
            let mut sets = self
                .sets
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            sets.retain(|w| w.strong_count() > 0);
            sets.iter().filter_map(Weak::upgrade).collect()
        };
        for &(lane, slot) in changed {
            // A slot of another master: the crate routes there by its own map, and that
            // master answers MOVED for `slot`.
            let Some(elsewhere) = table
                .slot_of_lane
                .iter()
                .enumerate()
                .filter(|(l, _)| *l != lane)
                .find_map(|(_, s)| *s)
            else {
                continue;
            };
            for set in &sets {
                let carrier = self.carrier(lane);
                let Some(handle) = ClusterLanes(set.clone()).lanes().get(carrier).cloned() else {
                    continue;
                };
                tokio::spawn(nudge(handle, slot, elsewhere));
            }
        }
    }
}

/// A key whose slot is `slot` (found by trying `{0}`, `{1}`, …: ~16 384 tries at most
/// on average, once per failover).
fn key_in_slot(slot: u16) -> Option<String> {
    (0u32..1_000_000)
        .map(|n| format!("spoofify:{{slot-{n}}}"))
        .find(|k| ROUTE_SLOTS.get(&Route::with_key(k.as_bytes(), SlotAddr::Master)) == Some(&slot))
}

/// Makes a lane's client re-read its slot map at once, by the crate's own mechanism: a
/// key of `slot` sent to the master of `elsewhere` comes back MOVED, which makes the
/// crate refresh its slot map (and follow the redirect to the new master).
///
/// Why it is needed (issue 13): a master cut off by a partition answers nothing, and
/// the crate treats a timeout as "retry the same node", never as a reason to refresh.
/// After the replica's promotion every call for those slots still went to the old
/// master until a MOVED happened to arrive — in the chaos runs after the partition
/// healed (19.7–28.2 s after the fault).
async fn nudge(handle: ClusterHandle, slot: u16, elsewhere: u16) {
    let Some(key) = key_in_slot(slot) else {
        return;
    };
    let mut cmd = ::redis::cmd("EXISTS");
    cmd.arg(&key);
    let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::new(
        elsewhere,
        SlotAddr::Master,
    )));
    let started = std::time::Instant::now();
    match tokio::time::timeout(NUDGE_TIMEOUT, handle.route(cmd, routing)).await {
        Ok(Ok(_)) => tracing::info!(
            slot,
            took_ms = started.elapsed().as_millis() as u64,
            "redis cluster lane nudged after a failover: slot map re-read"
        ),
        Ok(Err(e)) => {
            tracing::warn!(slot, error = %e, "redis cluster lane nudge failed");
            if !super::watch::answered::<()>(&Err(e)) {
                handle.rebuild_now("a nudge after a failover got no answer");
            }
        }
        Err(_) => {
            tracing::warn!(
                slot,
                timeout_ms = NUDGE_TIMEOUT.as_millis() as u64,
                "redis cluster lane nudge unanswered"
            );
            handle.rebuild_now("a nudge after a failover went unanswered");
        }
    }
}

/// One store connection's lanes: a cluster client per master (see the module docs).
#[derive(Clone)]
pub(super) struct ClusterLanes(Arc<LanesShared>);

struct LanesShared {
    client: ClusterClient,
    router: Arc<Router>,
    lanes: RwLock<Vec<ClusterHandle>>,
    /// Held while lanes are added.
    grow: tokio::sync::Mutex<()>,
}

impl ClusterLanes {
    /// A lane set over `client`. `router` is the store's: the first set reads the
    /// topology (through its first lane) and starts the task that keeps it current.
    pub(super) async fn connect(
        client: ClusterClient,
        router: Arc<Router>,
    ) -> Result<Self, RedisError> {
        let first = ClusterHandle::connect(&client).await?;
        let this = Self(Arc::new(LanesShared {
            client,
            router,
            lanes: RwLock::new(vec![first]),
            grow: tokio::sync::Mutex::new(()),
        }));
        this.0
            .router
            .sets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Arc::downgrade(&this.0));
        if this.0.router.table().slot_of_lane.is_empty() {
            let masters = this.read_topology().await.ok_or_else(|| {
                RedisError::from((
                    ErrorKind::ClusterConnectionNotFound,
                    "no node answered CLUSTER SLOTS",
                ))
            })?;
            this.0.router.apply(&masters);
            tokio::spawn(keep_topology(Arc::downgrade(&this.0)));
        }
        let wanted = this.0.router.lanes();
        this.lane(wanted - 1).await?;
        Ok(this)
    }

    fn lanes(&self) -> Vec<ClusterHandle> {
        self.0
            .lanes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Lane `i`, connecting lanes up to it first if the topology grew.
    async fn lane(&self, i: usize) -> Result<ClusterHandle, RedisError> {
        if let Some(h) = self.lanes().get(i) {
            return Ok(h.clone());
        }
        let _grow = self.0.grow.lock().await;
        while self.lanes().len() <= i {
            let h = ClusterHandle::connect(&self.0.client).await?;
            self.0
                .lanes
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(h);
        }
        Ok(self.lanes()[i].clone())
    }

    /// Reads `CLUSTER SLOTS` from every lane's own master at once; the first answer
    /// that arrives in time is believed. (A master cut off in a minority may still
    /// call itself master for a while; believing it costs at most a nudge and a lane
    /// choice that the crate corrects with a redirect, never a wrong answer.)
    async fn read_topology(&self) -> Option<Masters> {
        let table = self.0.router.table();
        let lanes = self.lanes();
        let reads = (0..table.slot_of_lane.len().max(1)).map(|i| {
            let h = &lanes[self.0.router.carrier(i).min(lanes.len() - 1)];
            let routing = match table.slot_of_lane.get(i).copied().flatten() {
                Some(slot) => RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(
                    Route::new(slot, SlotAddr::Master),
                )),
                None if i == 0 => RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
                None => return futures::future::Either::Left(async { None }),
            };
            let mut conn = h.current();
            futures::future::Either::Right(async move {
                let mut cmd = ::redis::cmd("CLUSTER");
                cmd.arg("SLOTS");
                let read =
                    tokio::time::timeout(TOPOLOGY_READ_TIMEOUT, conn.route_command(cmd, routing));
                match read.await {
                    Ok(Ok(v)) => parse_slots(&v).filter(|m| !m.is_empty()),
                    _ => None,
                }
            })
        });
        // The first answer to arrive: a lane whose master is cut off answers nothing,
        // and waiting for it (in lane order, before) held every read for its timeout.
        use futures::StreamExt;
        let mut reads: futures::stream::FuturesUnordered<_> = reads.collect();
        while let Some(read) = reads.next().await {
            if read.is_some() {
                return read;
            }
        }
        None
    }

    async fn on_lane<T, F, Fut>(&self, lane: usize, call: F) -> Result<T, RedisError>
    where
        F: FnOnce(ClusterHandle) -> Fut,
        Fut: std::future::Future<Output = Result<T, RedisError>>,
    {
        let result = call(self.lane(lane).await?).await;
        if result.is_err() {
            self.0.router.wake.notify_one();
        }
        result
    }

    pub(super) async fn command(&self, cmd: &Cmd) -> Result<Value, RedisError> {
        match target_of_cmd(cmd) {
            Target::Slot(slot) => {
                let lane = self.0.router.lane_of(slot);
                self.on_lane(lane, |h| async move { h.command(cmd).await })
                    .await
            }
            Target::Any => {
                self.on_lane(0, |h| async move { h.command(cmd).await })
                    .await
            }
            Target::Every => self.every(cmd).await,
        }
    }

    pub(super) async fn pipeline(
        &self,
        pipeline: &Pipeline,
        offset: usize,
        count: usize,
    ) -> Result<Vec<Value>, RedisError> {
        let lane = match target_of_pipeline(pipeline) {
            Target::Slot(slot) => self.0.router.lane_of(slot),
            Target::Any | Target::Every => 0,
        };
        self.on_lane(lane, |h| async move {
            h.pipeline(pipeline, offset, count).await
        })
        .await
    }

    /// A call with no slot, sent to each lane's own master (see the module docs).
    async fn every(&self, cmd: &Cmd) -> Result<Value, RedisError> {
        let table = self.0.router.table();
        let mut calls = Vec::new();
        for (lane, slot) in table.slot_of_lane.iter().enumerate() {
            let Some(slot) = *slot else { continue };
            let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::new(
                slot,
                SlotAddr::Master,
            )));
            let cmd = cmd.clone();
            let carrier = self.0.router.carrier(lane);
            calls.push(self.on_lane(carrier, move |h| async move { h.route(cmd, routing).await }));
        }
        if calls.is_empty() {
            return self
                .on_lane(0, |h| async move { h.command(cmd).await })
                .await;
        }
        let mut first = None;
        for result in futures::future::join_all(calls).await {
            let value = result?;
            first.get_or_insert(value);
        }
        first.ok_or_else(|| RedisError::from((ErrorKind::ClusterConnectionNotFound, "no lane")))
    }
}

/// Keeps the store's topology current: every [`TOPOLOGY_EVERY`], or sooner after a
/// failed call; ends when the lane set is dropped.
async fn keep_topology(lanes: Weak<LanesShared>) {
    loop {
        let Some(shared) = lanes.upgrade() else {
            return;
        };
        let router = shared.router.clone();
        let this = ClusterLanes(shared);
        if let Some(masters) = this.read_topology().await {
            let changed = router.apply(&masters);
            if !changed.is_empty() {
                router.nudge_sets(&changed);
            }
        }
        drop(this);
        tokio::select! {
            _ = tokio::time::sleep(TOPOLOGY_EVERY) => {}
            _ = router.wake.notified() => {
                // At most one read per 100 ms while calls fail.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_calls_slot_is_the_crates() {
        // CLUSTER KEYSLOT values from Redis itself.
        assert_eq!(slot_of_key("foo"), 12182);
        assert_eq!(
            slot_of_key("spoofify:{nodes}:registry"),
            slot_of_key("nodes")
        );
        // The node registry's three copies (`shared`) sit in the three thirds of the
        // slot space: on three masters in an evenly split 3-master cluster.
        let thirds: Vec<u16> = ["nodes", "nodes-1", "nodes-2"]
            .iter()
            .map(|t| slot_of_key(&super::super::keys::node_registry(t)) / (SLOTS / 3 + 1))
            .collect();
        assert_eq!(thirds, [1, 2, 0]);
        let mut cmd = ::redis::cmd("XADD");
        cmd.arg("spoofify:{L1}:log").arg("*").arg("i").arg("x");
        assert_eq!(target_of_cmd(&cmd), Target::Slot(slot_of_key("L1")));
        assert_eq!(target_of_cmd(&::redis::cmd("PING")), Target::Every);
        let mut script = ::redis::cmd("EVALSHA");
        script
            .arg("abc")
            .arg(2)
            .arg("spoofify:{L2}:log")
            .arg("spoofify:{L2}:epoch");
        assert_eq!(target_of_cmd(&script), Target::Slot(slot_of_key("L2")));
        let mut wait = ::redis::cmd("WAIT");
        wait.arg(1).arg(100);
        assert_eq!(target_of_cmd(&wait), Target::Any);
        let mut pipe = ::redis::pipe();
        pipe.cmd("WAIT").arg(1).arg(10).cmd("GET").arg("{a}x");
        assert_eq!(target_of_pipeline(&pipe), Target::Slot(slot_of_key("a")));
    }

    fn masters(spec: &[(&str, u16, u16)]) -> Masters {
        spec.iter()
            .map(|(a, s, e)| ((*a).to_owned(), vec![(*s, *e)]))
            .collect()
    }

    #[test]
    fn a_promoted_replica_takes_its_shards_lane() {
        let r = Router::default();
        r.apply(&masters(&[
            ("a:1", 0, 5460),
            ("b:1", 5461, 10922),
            ("c:1", 10923, 16383),
        ]));
        let (la, lb, lc) = (r.lane_of(0), r.lane_of(6000), r.lane_of(16383));
        assert_eq!(HashSet::from([la, lb, lc]).len(), 3);
        // b fails over to d: d serves b's slots on b's lane; nothing else moves, and
        // b's lane is the one to nudge.
        let changed = r.apply(&masters(&[
            ("a:1", 0, 5460),
            ("d:1", 5461, 10922),
            ("c:1", 10923, 16383),
        ]));
        assert_eq!(
            (r.lane_of(0), r.lane_of(6000), r.lane_of(16383)),
            (la, lb, lc)
        );
        assert_eq!(changed, [(lb, 5461)]);
        assert_eq!(r.lanes(), 3);
        // A fourth master (resharding) gets a lane of its own.
        r.apply(&masters(&[
            ("a:1", 0, 4000),
            ("e:1", 4001, 5460),
            ("d:1", 5461, 10922),
            ("c:1", 10923, 16383),
        ]));
        assert_eq!(r.lanes(), 4);
        assert_eq!(r.lane_of(4500), 3);
        assert_eq!((r.lane_of(0), r.lane_of(6000)), (la, lb));
    }

    #[test]
    fn a_key_in_any_slot_is_found() {
        for slot in [0, 5461, 9928, 16383] {
            let key = key_in_slot(slot).expect("a key");
            assert_eq!(slot_of_key(&key), slot, "{key}");
        }
    }

    #[test]
    fn with_lanes_off_every_call_takes_lane_zero() {
        let r = Router {
            single: true,
            ..Router::default()
        };
        r.apply(&masters(&[
            ("a:1", 0, 5460),
            ("b:1", 5461, 10922),
            ("c:1", 10923, 16383),
        ]));
        assert_eq!(r.lanes(), 1);
        assert_eq!((r.lane_of(0), r.lane_of(6000), r.carrier(2)), (0, 0, 0));
    }
}
