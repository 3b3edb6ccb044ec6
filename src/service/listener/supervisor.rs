//! The per-node listener supervisor: spawns listener actors linked to itself,
//! restarts failed ones from the store with backoff and a restart budget, and
//! forgets the ones that stop on purpose.
//!
//! It overrides `handle_supervisor_evt` (ractor's default would stop the supervisor,
//! and with it every listener of the node, when any one child exits). Activation is
//! cheap here — `pre_start` of a listener builds an empty state — so one mailbox can
//! activate thousands of listeners a second; their loading runs in their own tasks.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};

use super::actor::{ListenerActor, ListenerArgs, ListenerMsg};
use super::{ListenerEnv, Registry};
use crate::store::{ListenerId, StoreError};

/// The largest restart backoff, however many failures came before.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

#[derive(ractor_cluster::RactorMessage)]
pub enum SupervisorMsg {
    /// The listener's actor, spawning it if needed.
    Activate(ListenerId, RpcReplyPort<Activation>),
    /// Internal: the backoff after a failure has passed.
    Restart(ListenerId),
}

/// The answer to an activation.
#[derive(Debug)]
pub enum Activation {
    Active(ActorRef<ListenerMsg>),
    /// Out of restart budget (or could not spawn): the reason, for the degraded answer.
    Degraded(String),
}

pub struct ListenerSupervisor;

pub struct SupervisorArgs {
    pub env: ListenerEnv,
    pub registry: Registry,
}

pub struct SupervisorState {
    env: ListenerEnv,
    registry: Registry,
    by_actor: HashMap<ActorId, ListenerId>,
    failures: HashMap<ListenerId, Failures>,
}

#[derive(Default)]
struct Failures {
    at: VecDeque<Instant>,
    degraded_until: Option<(Instant, String)>,
}

impl Actor for ListenerSupervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        _me: ActorRef<SupervisorMsg>,
        args: SupervisorArgs,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        Ok(SupervisorState {
            env: args.env,
            registry: args.registry,
            by_actor: HashMap::new(),
            failures: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        me: ActorRef<SupervisorMsg>,
        msg: SupervisorMsg,
        st: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::Activate(id, reply) => {
                let answer = activate(&me, st, id).await;
                let _ = reply.send(answer);
            }
            SupervisorMsg::Restart(id) => {
                if let Activation::Degraded(why) = activate(&me, st, id.clone()).await {
                    tracing::warn!(listener = %id, reason = %why, "restart skipped");
                }
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        me: ActorRef<SupervisorMsg>,
        evt: SupervisionEvent,
        st: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match evt {
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                if let Some(id) = forget(st, cell.get_id()) {
                    tracing::debug!(listener = %id, reason = reason.as_deref().unwrap_or("stopped"), "listener stopped");
                }
            }
            SupervisionEvent::ActorFailed(cell, err) => {
                if let Some(id) = forget(st, cell.get_id()) {
                    if is_store_outage(&err) {
                        // Not this listener's fault, and restarting now would only fail
                        // again: no count against its budget, no restart; the next
                        // request activates it once the store answers.
                        tracing::warn!(listener = %id, error = %err, "listener stopped: the store is unreachable; it restarts on the next request");
                    } else {
                        on_failure(&me, st, id, &err.to_string());
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

async fn activate(
    me: &ActorRef<SupervisorMsg>,
    st: &mut SupervisorState,
    id: ListenerId,
) -> Activation {
    if let Some(a) = lookup(&st.registry, &id) {
        return Activation::Active(a);
    }
    if let Some(f) = st.failures.get_mut(&id) {
        match &f.degraded_until {
            Some((until, why)) if Instant::now() < *until => {
                return Activation::Degraded(why.clone())
            }
            Some(_) => {
                f.degraded_until = None;
                f.at.clear();
            }
            None => {}
        }
    }
    let args = ListenerArgs {
        id: id.clone(),
        env: st.env.clone(),
    };
    match Actor::spawn_linked(None, ListenerActor, args, me.get_cell()).await {
        Ok((actor, _join)) => {
            st.by_actor.insert(actor.get_id(), id.clone());
            write_registry(&st.registry, |m| {
                m.insert(id, actor.clone());
            });
            Activation::Active(actor)
        }
        Err(e) => {
            tracing::error!(listener = %id, error = %e, "could not spawn a listener actor");
            Activation::Degraded(format!("could not start the listener: {e}"))
        }
    }
}

fn forget(st: &mut SupervisorState, actor: ActorId) -> Option<ListenerId> {
    let id = st.by_actor.remove(&actor)?;
    write_registry(&st.registry, |m| {
        if m.get(&id).is_some_and(|a| a.get_id() == actor) {
            m.remove(&id);
        }
    });
    Some(id)
}

/// Whether an actor failed because the store could not be reached (an outage of the
/// environment, e.g. Redis restarting) rather than because of the listener's data.
/// Such failures must not spend the restart budget: a Redis restart would otherwise
/// leave every listener that was asked for during it degraded for the whole cooldown.
fn is_store_outage(err: &ActorProcessingErr) -> bool {
    match err.downcast_ref::<StoreError>() {
        Some(e) => matches!(e, StoreError::Unavailable(_)),
        None => err.to_string().contains("store unavailable"),
    }
}

/// Counts the failure; restarts after a backoff, or — past the budget — leaves the
/// listener degraded for the cooldown and logs why.
fn on_failure(me: &ActorRef<SupervisorMsg>, st: &mut SupervisorState, id: ListenerId, err: &str) {
    let s = &st.env.settings;
    let window = Duration::from_secs(s.restart_window_secs);
    let f = st.failures.entry(id.clone()).or_default();
    let now = Instant::now();
    f.at.push_back(now);
    while f
        .at
        .front()
        .is_some_and(|t| now.duration_since(*t) > window)
    {
        f.at.pop_front();
    }
    let n = f.at.len() as u32;
    if n > s.restart_budget {
        let why = format!(
            "failed {n} times within {}s (last: {err})",
            s.restart_window_secs
        );
        tracing::error!(listener = %id, failures = n, error = %err, cooldown_secs = s.degraded_cooldown_secs,
            "listener out of restart budget; serving its degraded feed until the cooldown ends");
        f.degraded_until = Some((now + Duration::from_secs(s.degraded_cooldown_secs), why));
        return;
    }
    let backoff = Duration::from_millis(s.restart_backoff_ms)
        .saturating_mul(1 << (n.saturating_sub(1)).min(16))
        .min(MAX_BACKOFF);
    tracing::warn!(listener = %id, failures = n, error = %err, backoff_ms = backoff.as_millis() as u64, "listener failed; restarting from the store");
    crate::telemetry::metrics::listener_restarted();
    me.send_after(backoff, move || SupervisorMsg::Restart(id));
}

fn lookup(registry: &Registry, id: &ListenerId) -> Option<ActorRef<ListenerMsg>> {
    match registry.read() {
        Ok(g) => g.get(id).cloned(),
        Err(p) => p.into_inner().get(id).cloned(),
    }
}

fn write_registry(
    registry: &Registry,
    f: impl FnOnce(&mut HashMap<ListenerId, ActorRef<ListenerMsg>>),
) {
    match registry.write() {
        Ok(mut g) => f(&mut g),
        Err(p) => f(&mut p.into_inner()),
    }
}

#[cfg(test)]
mod outage_tests {
    use super::*;

    #[test]
    fn only_an_unreachable_store_is_an_outage() {
        let outage: ActorProcessingErr = Box::new(StoreError::Unavailable("redis: refused".into()));
        assert!(is_store_outage(&outage));
        let corrupt: ActorProcessingErr = Box::new(StoreError::Corrupt("bad snapshot".into()));
        assert!(!is_store_outage(&corrupt));
        let other: ActorProcessingErr = "model failed to load".into();
        assert!(!is_store_outage(&other));
    }
}
