//! The cluster: which node owns which listener, and how a request gets there.
//!
//! ```text
//!   HTTP handler ──► Cluster::feed / notify
//!                      │ owner = rendezvous(listener, live set)      (placement)
//!                      ├─ owner is this node ─► Listeners (local actors)
//!                      └─ owner is a peer ───► peer's Gateway via ractor_cluster,
//!                                              with a deadline and a bound on
//!                                              requests in flight per peer
//!                       no answer in time ───► degraded feed, marked as such
//! ```
//!
//! Membership is decided in the store, not by ractor_cluster: each node refreshes a
//! heartbeat with a TTL ([`membership`]), and the live set is the nodes whose beat
//! holds (a paused or partitioned node keeps its TCP session but loses its beat).
//! Nodes in state "draining" stay reachable but own nothing. The one fast hint: a
//! peer whose ractor_cluster session closes after having been up (a killed process)
//! is left out of placement at once, until its gateway is back or a TTL has passed;
//! a wrong hint costs only an extra hand-off, since fencing keeps one writer. A peer
//! that stops answering routed requests and a probe is left out too, and a node that
//! cannot reach a majority owns nothing ([`reachability`]). When the live set
//! changes, each node retires the local actors it no longer owns (snapshot, stop), and
//! the new owners activate them on the next request from snapshot plus log; fencing
//! epochs make sure a stale actor's writes are refused. A node that could not beat
//! for a whole TTL drops its actors without writing anything.
//!
//! Only the gateway is cluster-addressable; listener actors stay local.

pub mod cooccurrence_job;
pub mod gateway;
pub mod link;
pub mod membership;
pub mod ops_history;
pub mod placement;
pub mod reachability;
pub mod routing;
pub mod scoring;
pub mod tls;
mod view;
pub mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use ractor::{ActorId, ActorRef};
use tokio::sync::{watch, Semaphore};

pub use routing::{ModelInfo, RoutedFeed};

use crate::catalog::CatalogHandle;
use crate::config::{MembershipSettings, Settings};
use crate::listener::{ListenerEnv, Listeners, RetireReason};
use crate::model::IndexCache;
use crate::store::{now_ms, ListenerId, LiveNode, NodeId, NodeInfo, SharedStore};
use link::Link;
use view::View;
use wire::{group_name, GatewayMsg};

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("could not start the listener supervisor: {0}")]
    Supervisor(String),
    #[error("could not start the cluster node server on {addr}: {reason}")]
    NodeServer { addr: String, reason: String },
    #[error("could not start the gateway: {0}")]
    Gateway(String),
}

/// This node's membership, placement and routing, shared by handlers and loops.
#[derive(Clone)]
pub struct Cluster(Arc<Inner>);

struct Inner {
    node_id: NodeId,
    http_addr: String,
    cluster_addr: Option<String>,
    cookie: String,
    started_ms: u64,
    store: SharedStore,
    index: IndexCache,
    listeners: Listeners,
    settings: MembershipSettings,
    view: RwLock<View>,
    draining: AtomicBool,
    /// Bounds on requests in flight per peer (see `max_inflight_per_peer`).
    peers: Mutex<HashMap<NodeId, Arc<Semaphore>>>,
    node_server: Mutex<Option<ActorRef<ractor_cluster::NodeServerMessage>>>,
    /// The cluster port (set once the node server is up).
    link: OnceLock<Arc<Link>>,
    /// The fast hint: peers whose cluster session closed after having been up, and
    /// since when. Left out of placement until their gateway is back or the TTL has
    /// passed (by then the heartbeat decides).
    hints: Mutex<Hints>,
    /// Node states, failovers and traffic samples for the operator page.
    ops: Mutex<ops_history::OpsHistory>,
    stop: watch::Sender<bool>,
}

/// Peers seen connected, peers suspected since their session closed, and peers that
/// stopped answering over the link (see [`reachability`]).
#[derive(Debug, Default)]
struct Hints {
    connected: std::collections::HashSet<NodeId>,
    suspect: HashMap<NodeId, Instant>,
    unresponsive: HashMap<NodeId, Instant>,
    probing: std::collections::HashSet<NodeId>,
    /// Whether the last view left this node in a minority (for logging the change).
    minority: bool,
}

impl Cluster {
    /// Starts the listener supervisor, the heartbeat and, when `cluster_addr` is set,
    /// the ractor_cluster node server and the gateway.
    pub async fn start(
        settings: &Settings,
        node_id: NodeId,
        http_addr: String,
        store: SharedStore,
        catalog: CatalogHandle,
    ) -> Result<Self, ClusterError> {
        let env = ListenerEnv {
            store: store.clone(),
            catalog: catalog.clone(),
            node_id: node_id.clone(),
            settings: settings.listeners.clone(),
            engine: settings.model.engine,
            index: IndexCache::new(catalog.clone()),
            takeover: crate::listener::TakeoverProbe::default(),
        };
        let index = env.index.clone();
        let takeover = env.takeover.clone();
        let (listeners, _join) = Listeners::start(env)
            .await
            .map_err(|e| ClusterError::Supervisor(e.to_string()))?;
        let cluster_addr =
            (!settings.cluster_addr.is_empty()).then(|| settings.cluster_addr.clone());
        let (stop, _) = watch::channel(false);
        let cluster = Cluster(Arc::new(Inner {
            node_id,
            http_addr,
            cluster_addr,
            cookie: settings.cluster_cookie.clone(),
            started_ms: now_ms(),
            store,
            index,
            listeners,
            settings: settings.membership.clone(),
            view: RwLock::new(View::default()),
            draining: AtomicBool::new(false),
            peers: Mutex::new(HashMap::new()),
            node_server: Mutex::new(None),
            link: OnceLock::new(),
            hints: Mutex::new(Hints::default()),
            ops: Mutex::new(ops_history::OpsHistory::default()),
            stop,
        }));
        let weak = Arc::downgrade(&cluster.0);
        takeover.install(move |id| {
            let inner = weak.upgrade()?;
            let view = match inner.view.read() {
                Ok(v) => v,
                Err(p) => p.into_inner(),
            };
            view.taken_over_by(&inner.node_id, id)
        });
        if cluster.0.cluster_addr.is_some() {
            membership::start_node_server(&cluster, &settings.cluster_link).await?;
        }
        membership::beat_once(&cluster).await;
        tokio::spawn(membership::run(cluster.clone()));
        tokio::spawn(ops_history::run(cluster.clone()));
        tokio::spawn(cooccurrence_job::run(
            cluster.0.store.clone(),
            cluster.0.node_id.clone(),
            cluster.0.index.cooc().clone(),
            settings.cooccurrence.clone(),
            cluster.0.stop.subscribe(),
        ));
        Ok(cluster)
    }

    pub fn node_id(&self) -> &NodeId {
        &self.0.node_id
    }

    pub fn listeners(&self) -> &Listeners {
        &self.0.listeners
    }

    pub fn route_deadline(&self) -> Duration {
        Duration::from_millis(self.0.settings.route_deadline_ms)
    }

    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::SeqCst)
    }

    /// The live nodes as last read from the store (with their heartbeat ages).
    pub fn live_nodes(&self) -> Vec<LiveNode> {
        self.view().nodes
    }

    /// Node states since when, recent failovers and this node's traffic samples.
    pub fn ops_history(
        &self,
    ) -> (
        Vec<(String, ops_history::NodeState)>,
        Vec<ops_history::Failover>,
        Vec<ops_history::Sample>,
    ) {
        let h = lock(&self.0.ops);
        (h.nodes(), h.failovers(), h.samples())
    }

    fn view(&self) -> View {
        match self.0.view.read() {
            Ok(v) => v.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// `node`'s gateway, if a session that speaks for `node` (as the registry lists it
    /// in this node's view) carries one; a group member from any other session — a
    /// peer that joined someone else's group — is never used.
    pub(super) fn gateway_of(&self, node: &NodeId) -> Option<ActorRef<GatewayMsg>> {
        let addr = self
            .view()
            .nodes
            .iter()
            .find(|n| &n.info.id == node)?
            .info
            .cluster_addr
            .clone()?;
        self.gateway_at(node, &addr)
    }

    /// `node`'s gateway, `node` being registered at `cluster_addr` (see [`Self::gateway_of`]).
    pub(super) fn gateway_at(
        &self,
        node: &NodeId,
        cluster_addr: &str,
    ) -> Option<ActorRef<GatewayMsg>> {
        let link = self.0.link.get()?;
        ractor::pg::get_members(&group_name(node))
            .into_iter()
            .find(|c| match c.get_id() {
                ActorId::Remote { node_id, .. } => {
                    link.vouches(node_id, &self.0.node_id, node, cluster_addr)
                }
                ActorId::Local(_) => false,
            })
            .map(ActorRef::from)
    }

    fn lease_held(&self, view: &View) -> bool {
        let ttl = Duration::from_millis(self.0.settings.heartbeat_ttl_ms);
        view.last_ok_beat.is_some_and(|t| t.elapsed() < ttl)
    }

    /// The owner of `id` in this node's view, or `None` when nobody owns it right now
    /// (no live node, or this node lost its lease and must not decide).
    pub fn owner(&self, id: &ListenerId) -> Option<NodeId> {
        let view = self.view();
        if !self.lease_held(&view) {
            return None;
        }
        placement::owner(id, &view.placement).cloned()
    }

    /// Whether this node owns `id` now.
    pub fn owns(&self, id: &ListenerId) -> bool {
        self.owner(id).as_ref() == Some(&self.0.node_id)
    }

    fn info(&self) -> NodeInfo {
        NodeInfo {
            id: self.0.node_id.clone(),
            http_addr: self.0.http_addr.clone(),
            cluster_addr: self.0.cluster_addr.clone(),
            state: if self.is_draining() { "draining" } else { "up" }.into(),
            listeners: self.0.listeners.active_count() as u64,
            started_ms: self.0.started_ms,
        }
    }

    /// Drains this node (on SIGTERM): announce "draining" so peers stop placing
    /// listeners here, keep serving through a grace period, hand every local listener
    /// off (snapshot, stop), deregister, stop the loops. HTTP keeps answering meanwhile
    /// (routing to the new owners); the caller shuts it down afterwards.
    #[tracing::instrument(skip_all, fields(node = %self.0.node_id))]
    pub async fn drain(&self) {
        self.0.draining.store(true, Ordering::SeqCst);
        membership::beat_once(self).await;
        tracing::info!("draining: announced; waiting for peers to see it");
        tokio::time::sleep(Duration::from_millis(self.0.settings.drain_grace_ms)).await;
        let n = self
            .0
            .listeners
            .retire_where(RetireReason::Drained, |_| true, self.route_deadline())
            .await;
        let _ = self.0.stop.send(true);
        if let Err(e) = self.0.store.deregister(&self.0.node_id).await {
            tracing::warn!(error = %e, "could not deregister; the heartbeat will expire instead");
        }
        tracing::info!(handed_off = n, "drained");
    }

    /// Stops the loops, the listener actors and the node server (no snapshots: call
    /// [`Cluster::drain`] first for a clean exit).
    pub fn shutdown(&self) {
        let _ = self.0.stop.send(true);
        self.0.listeners.stop();
        if let Some(server) = lock(&self.0.node_server).take() {
            server.stop(None);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
