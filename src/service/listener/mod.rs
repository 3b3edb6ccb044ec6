//! Listener actors: one per active listener, each owning that listener's model.
//!
//! ```text
//!   ListenerSupervisor (one per node)
//!     ├── ListenerActor(alice)   spawned linked on first request, passivated when idle
//!     ├── ListenerActor(bob)
//!     └── …
//! ```
//!
//! A listener actor is activated on demand: it takes a fencing epoch, loads the
//! latest snapshot and replays the log after it (in `post_start`, so a slow load never
//! blocks the supervisor's mailbox), fits, and then answers feeds. New interactions
//! reach it only as a "the log grew" notification: it catches up from the store by
//! the last sequence number it applied, so a lost notification loses nothing.
//!
//! When a child fails, the supervisor restarts it from the store after a backoff; a
//! listener that fails more than its restart budget within a window is left down for
//! a cooldown and served a degraded feed (the log says why). A child that stops on
//! purpose (passivated, handed off, fenced, drained) is simply forgotten.
//!
//! Messages here are local-only (`RactorMessage`): per-listener actors are never
//! cluster-addressable (ractor_cluster would mirror each of them onto every peer).
//! Other nodes reach a listener through the cluster gateway (`crate::cluster`).
//!
//! A feed also learns from the people the listener follows: `friends` reads their
//! shared finishes and likes from the store (bounded, cached briefly) for `model::social`.

pub mod actor;
pub mod friends;
pub mod model_port;
pub mod supervisor;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ractor::rpc::CallResult;
use ractor::{Actor, ActorRef};

pub use actor::{FeedAnswer, ListenerMsg, ListenerStatus, RetireReason};
pub use supervisor::{Activation, SupervisorMsg};

use crate::catalog::CatalogHandle;
use crate::config::ListenerSettings;
use crate::store::{ListenerId, NodeId, SharedStore};

/// What every listener actor on a node shares.
#[derive(Clone)]
pub struct ListenerEnv {
    pub store: SharedStore,
    pub catalog: CatalogHandle,
    pub node_id: NodeId,
    pub settings: ListenerSettings,
    /// The classifier new listener models use (setting `[model] engine`).
    pub engine: crate::model::EngineKind,
    /// The node's catalog index, shared by every listener's model.
    pub index: crate::model::IndexCache,
    /// Whether an activating listener was last placed on a node the cluster lost.
    pub takeover: TakeoverProbe,
}

type LostOwnerTest = Box<dyn Fn(&ListenerId) -> Option<bool> + Send + Sync>;

/// How often, and how many times, an undecided takeover is asked again.
const TAKEOVER_RECHECK: Duration = Duration::from_millis(100);
const TAKEOVER_RECHECKS: u32 = 100;

/// Tells an activating actor whether its listener was last placed on a node the
/// cluster lost (it counts `spoofify_listeners_taken_over_total`). The cluster layer
/// installs the test once it exists (it owns the view the answer needs); until then,
/// and on a single node, nothing is a takeover. The test answers `None` while this
/// node's view does not place the listener here yet (a peer whose view caught up
/// first forwarded it): then it is asked again until it knows, for up to 10 s.
#[derive(Clone, Default)]
pub struct TakeoverProbe(Arc<std::sync::OnceLock<LostOwnerTest>>);

impl TakeoverProbe {
    /// Sets the test; a second call is ignored.
    pub fn install(&self, test: impl Fn(&ListenerId) -> Option<bool> + Send + Sync + 'static) {
        let _ = self.0.set(Box::new(test));
    }

    /// Counts the activation of `id` as a takeover if it was one, now or once this
    /// node's view has caught up.
    pub fn count_if_taken_over(&self, id: &ListenerId) {
        match self.0.get().map(|test| test(id)) {
            None | Some(Some(false)) => {}
            Some(Some(true)) => crate::telemetry::metrics::listener_taken_over(),
            Some(None) => {
                let (probe, id) = (self.clone(), id.clone());
                tokio::spawn(async move {
                    for _ in 0..TAKEOVER_RECHECKS {
                        tokio::time::sleep(TAKEOVER_RECHECK).await;
                        match probe.0.get().and_then(|test| test(&id)) {
                            Some(true) => {
                                crate::telemetry::metrics::listener_taken_over();
                                return;
                            }
                            Some(false) => return,
                            None => {}
                        }
                    }
                });
            }
        }
    }
}

/// Why a local feed could not be served by the listener's actor.
#[derive(Debug, thiserror::Error)]
pub enum Unserved {
    #[error("the listener is degraded: {0}")]
    Degraded(String),
    #[error("the listener's actor did not answer in time")]
    Timeout,
    #[error("the listener's actor stopped before answering")]
    Stopped,
    #[error("the catalog is not loaded yet")]
    NotReady,
}

/// The active actors of this node, by listener.
pub(crate) type Registry = Arc<RwLock<HashMap<ListenerId, ActorRef<ListenerMsg>>>>;

/// A cheap handle to this node's listener actors, for HTTP handlers and the gateway.
#[derive(Clone)]
pub struct Listeners {
    registry: Registry,
    supervisor: ActorRef<SupervisorMsg>,
    /// Calls waiting on each listener's actor (queued or being handled), for the
    /// largest-mailbox gauge; an entry leaves when its count falls to zero.
    waiting: Arc<Mutex<HashMap<ListenerId, usize>>>,
}

/// Counts one call waiting on a listener's actor while it lives.
struct Waiting<'a> {
    map: &'a Mutex<HashMap<ListenerId, usize>>,
    id: &'a ListenerId,
}

impl<'a> Waiting<'a> {
    fn new(map: &'a Mutex<HashMap<ListenerId, usize>>, id: &'a ListenerId) -> Self {
        *lock(map).entry(id.clone()).or_default() += 1;
        Self { map, id }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut m = lock(self.map);
        if let Some(n) = m.get_mut(self.id) {
            *n -= 1;
            if *n == 0 {
                m.remove(self.id);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Listeners {
    /// Starts the node's listener supervisor.
    pub async fn start(
        env: ListenerEnv,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), ractor::SpawnErr> {
        let registry = Registry::default();
        let (supervisor, handle) = Actor::spawn(
            None,
            supervisor::ListenerSupervisor,
            supervisor::SupervisorArgs {
                env,
                registry: registry.clone(),
            },
        )
        .await?;
        let join = tokio::spawn(async move {
            let _ = handle.await;
        });
        Ok((
            Self {
                registry,
                supervisor,
                waiting: Arc::default(),
            },
            join,
        ))
    }

    fn active(&self, id: &ListenerId) -> Option<ActorRef<ListenerMsg>> {
        match self.registry.read() {
            Ok(g) => g.get(id).cloned(),
            Err(p) => p.into_inner().get(id).cloned(),
        }
    }

    /// Ids of the listeners with an actor on this node.
    pub fn active_ids(&self) -> Vec<ListenerId> {
        match self.registry.read() {
            Ok(g) => g.keys().cloned().collect(),
            Err(p) => p.into_inner().keys().cloned().collect(),
        }
    }

    /// The most calls waiting on any one listener actor of this node right now.
    pub fn largest_mailbox(&self) -> usize {
        lock(&self.waiting).values().copied().max().unwrap_or(0)
    }

    /// Active listener actors on this node.
    pub fn active_count(&self) -> usize {
        match self.registry.read() {
            Ok(g) => g.len(),
            Err(p) => p.into_inner().len(),
        }
    }

    /// The listener's actor, activating it if needed.
    async fn actor(
        &self,
        id: &ListenerId,
        deadline: Duration,
    ) -> Result<ActorRef<ListenerMsg>, Unserved> {
        if let Some(a) = self.active(id) {
            return Ok(a);
        }
        let call = self
            .supervisor
            .call(
                |reply| SupervisorMsg::Activate(id.clone(), reply),
                Some(deadline),
            )
            .await;
        match call {
            Ok(CallResult::Success(Activation::Active(a))) => Ok(a),
            Ok(CallResult::Success(Activation::Degraded(why))) => Err(Unserved::Degraded(why)),
            Ok(CallResult::Timeout) => Err(Unserved::Timeout),
            Ok(CallResult::SenderError) | Err(_) => Err(Unserved::Stopped),
        }
    }

    /// Ranks a feed with the listener's own model, activating its actor if needed.
    pub async fn feed(
        &self,
        id: &ListenerId,
        limit: usize,
        deadline: Duration,
    ) -> Result<FeedAnswer, Unserved> {
        let actor = self.actor(id, deadline).await?;
        let _waiting = Waiting::new(&self.waiting, id);
        match actor
            .call(|reply| ListenerMsg::Feed(limit, reply), Some(deadline))
            .await
        {
            Ok(CallResult::Success(Some(answer))) => Ok(answer),
            Ok(CallResult::Success(None)) => Err(Unserved::NotReady),
            Ok(CallResult::Timeout) => Err(Unserved::Timeout),
            Ok(CallResult::SenderError) | Err(_) => Err(Unserved::Stopped),
        }
    }

    /// The listener's own scores for songs (catalog indices; `None` = leave out),
    /// activating the actor if needed.
    pub async fn score(
        &self,
        id: &ListenerId,
        songs: Vec<u32>,
        deadline: Duration,
    ) -> Result<Vec<Option<f32>>, Unserved> {
        let actor = self.actor(id, deadline).await?;
        let _waiting = Waiting::new(&self.waiting, id);
        match actor
            .call(|reply| ListenerMsg::Score(songs, reply), Some(deadline))
            .await
        {
            Ok(CallResult::Success(Some(scores))) => Ok(scores),
            Ok(CallResult::Success(None)) => Err(Unserved::NotReady),
            Ok(CallResult::Timeout) => Err(Unserved::Timeout),
            Ok(CallResult::SenderError) | Err(_) => Err(Unserved::Stopped),
        }
    }

    /// Tells the listener's actor, if active here, that its log grew. An inactive
    /// listener needs nothing: activation reads the log.
    pub fn notify(&self, id: &ListenerId) {
        if let Some(a) = self.active(id) {
            let _ = a.cast(ListenerMsg::Notify);
        }
    }

    /// The actor's view of its training input, activating it if needed.
    pub async fn status(
        &self,
        id: &ListenerId,
        deadline: Duration,
    ) -> Result<ListenerStatus, Unserved> {
        let actor = self.actor(id, deadline).await?;
        let _waiting = Waiting::new(&self.waiting, id);
        match actor.call(ListenerMsg::Status, Some(deadline)).await {
            Ok(CallResult::Success(s)) => Ok(s),
            Ok(CallResult::Timeout) => Err(Unserved::Timeout),
            Ok(CallResult::SenderError) | Err(_) => Err(Unserved::Stopped),
        }
    }

    /// Retires (snapshot unless `reason` forbids writing, then stop) every active
    /// listener for which `pred` holds; resolves once they have stopped or `deadline`
    /// passed. Returns how many were asked to retire.
    pub async fn retire_where(
        &self,
        reason: RetireReason,
        pred: impl Fn(&ListenerId) -> bool,
        deadline: Duration,
    ) -> usize {
        let targets: Vec<(ListenerId, ActorRef<ListenerMsg>)> = match self.registry.read() {
            Ok(g) => g
                .iter()
                .filter(|(k, _)| pred(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Err(p) => p
                .into_inner()
                .iter()
                .filter(|(k, _)| pred(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        let n = targets.len();
        let calls = targets.into_iter().map(|(_, a)| async move {
            let _ = a
                .call(|r| ListenerMsg::Retire(reason, Some(r)), Some(deadline))
                .await;
        });
        futures::future::join_all(calls).await;
        n
    }

    /// Makes the listener's actor fail (fault injection for tests and chaos).
    pub fn inject_failure(&self, id: &ListenerId) -> bool {
        match self.active(id) {
            Some(a) => a.cast(ListenerMsg::Fail("injected failure".into())).is_ok(),
            None => false,
        }
    }

    /// Stops the supervisor and with it every listener actor (no snapshots: drain first).
    pub fn stop(&self) {
        self.supervisor.stop(Some("node stopping".into()));
    }
}
