//! The cluster port: who may connect, how long a stranger may take, and which
//! sessions speak for which node.
//!
//! ractor_cluster's own listener binds every interface, does TLS handshakes one at a
//! time inside its accept loop, gives a connection unlimited time to answer the
//! cookie challenge, and retries a failed `accept` at once with a warning each time —
//! so a few hundred idle sockets exhaust a node's file descriptors and its log. So
//! this node runs the accept loop itself:
//!
//! - it binds only the configured cluster address;
//! - at most `max_pending_sessions` connections may be in their handshake (TLS, then
//!   the cookie challenge) at once — more are closed on arrival — and each has
//!   `handshake_timeout_ms` to finish both, or it is closed;
//! - a failing `accept` (no file descriptors left) backs off and is logged at most
//!   once every [`QUIET_FOR`], with the count of lines held back;
//! - outgoing connections are dialed here too, with the same deadline and, with TLS,
//!   the peer's node id as the name its certificate must carry.
//!
//! A connection is handed to ractor_cluster only once it is past TLS. ractor_cluster
//! still runs a listener of its own (the library has no switch for that); it is bound
//! to an ephemeral loopback port, and any session that did not come through this
//! module is stopped as soon as it opens.
//!
//! Trust: any peer that knows the cookie (and, with TLS, holds a cluster certificate)
//! can join a process group, so a group member `spoofify.gateway.<node>` is used only
//! when its session [`Link::vouches`] for `<node>` as the registry lists it; other
//! authenticated sessions that no registry node vouches for are closed
//! ([`Link::evict_strangers`]).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ractor::ActorRef;
use ractor_cluster::node::NodeServerSessionInformation;
use ractor_cluster::{NetworkStream, NodeEventSubscription, NodeServerMessage, NodeSessionMessage};
use rustls::pki_types::CertificateDer;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::timeout_at;

use super::lock;
use super::tls::{certifies, server_name, Tls};
use crate::config::ClusterLinkSettings;
use crate::store::{LiveNode, NodeId};

/// A repeated warning is written at most once per this long.
pub const QUIET_FOR: Duration = Duration::from_secs(10);
/// The longest pause between `accept` retries after errors.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// What proves a session's peer is the node it names.
#[derive(Debug, Clone)]
enum Proof {
    /// Nothing beyond the cookie (plain TCP, loopback only).
    Cookie,
    /// The client certificate an incoming TLS connection presented.
    Cert(CertificateDer<'static>),
    /// This node dialed that node's registry address (with TLS: and the server's
    /// certificate carries that node's name).
    Dialed(String),
}

/// One ractor_cluster session, as this module saw it open.
struct Session {
    actor: ActorRef<NodeSessionMessage>,
    peer_addr: String,
    is_server: bool,
    peer_name: Option<String>,
    authenticated: Option<Instant>,
    proof: Proof,
}

/// A connection handed to ractor_cluster that has not authenticated yet.
struct Waiting {
    done: Option<oneshot::Sender<bool>>,
    proof: Option<Proof>,
}

#[derive(Default)]
struct State {
    /// By ractor_cluster's session id (the `node_id` of its remote actors' ids).
    sessions: HashMap<u64, Session>,
    /// By (incoming, peer address).
    waiting: HashMap<(bool, String), Waiting>,
    dialing: HashSet<SocketAddr>,
}

/// A warning written at most once per [`QUIET_FOR`]; the lines held back are counted.
#[derive(Default)]
pub struct Quiet(Mutex<(Option<Instant>, u64)>);

impl Quiet {
    /// `Some(held back since the last line)` when a line may be written now.
    pub fn allow(&self) -> Option<u64> {
        let mut g = lock(&self.0);
        let (last, held) = &mut *g;
        if last.is_some_and(|t| t.elapsed() < QUIET_FOR) {
            *held += 1;
            return None;
        }
        *last = Some(Instant::now());
        Some(std::mem::take(held))
    }
}

/// This node's side of the cluster port.
pub struct Link {
    tls: Option<Tls>,
    handshake: Duration,
    pending: Arc<Semaphore>,
    state: Mutex<State>,
    accept_errors: Quiet,
    refused: Quiet,
}

impl Link {
    pub fn new(tls: Option<Tls>, settings: &ClusterLinkSettings) -> Arc<Self> {
        Arc::new(Self {
            tls,
            handshake: Duration::from_millis(settings.handshake_timeout_ms),
            pending: Arc::new(Semaphore::new(settings.max_pending_sessions)),
            state: Mutex::new(State::default()),
            accept_errors: Quiet::default(),
            refused: Quiet::default(),
        })
    }

    pub fn tls_enabled(&self) -> bool {
        self.tls.is_some()
    }

    /// The subscription ractor_cluster reports session events to.
    pub fn events(self: &Arc<Self>) -> Box<dyn NodeEventSubscription> {
        Box::new(Events(self.clone()))
    }

    fn refuse(&self, peer: SocketAddr, why: &str) {
        if let Some(held) = self.refused.allow() {
            tracing::warn!(%peer, held_back = held, "cluster port: closed a connection: {why}");
        }
    }

    /// Accepts connections on `listener` until `stop` turns true.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        server: ActorRef<NodeServerMessage>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut backoff = Duration::from_millis(10);
        loop {
            let accepted = tokio::select! {
                r = listener.accept() => r,
                _ = stop.changed() => return,
            };
            match accepted {
                Ok((stream, peer)) => {
                    backoff = Duration::from_millis(10);
                    let Ok(permit) = self.pending.clone().try_acquire_owned() else {
                        drop(stream);
                        self.refuse(peer, "too many connections in their handshake");
                        continue;
                    };
                    tokio::spawn(self.clone().admit(stream, peer, server.clone(), permit));
                }
                Err(e) => {
                    if let Some(held) = self.accept_errors.allow() {
                        tracing::warn!(error = %e, held_back = held, "cluster port: accept failed; backing off");
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                }
            }
        }
    }

    /// One incoming connection: TLS, then the cookie challenge, within the deadline.
    async fn admit(
        self: Arc<Self>,
        stream: TcpStream,
        peer: SocketAddr,
        server: ActorRef<NodeServerMessage>,
        _permit: OwnedSemaphorePermit,
    ) {
        let deadline = tokio::time::Instant::now() + self.handshake;
        let _ = stream.set_nodelay(true);
        let Ok(local) = stream.local_addr() else {
            return;
        };
        let (net, proof) = match &self.tls {
            None => (
                NetworkStream::Raw {
                    peer_addr: peer,
                    local_addr: local,
                    stream,
                },
                Proof::Cookie,
            ),
            Some(tls) => match timeout_at(deadline, tls.acceptor.accept(stream)).await {
                Ok(Ok(s)) => {
                    let cert = s
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| c.clone().into_owned());
                    let Some(cert) = cert else {
                        return self.refuse(peer, "no client certificate");
                    };
                    let net = NetworkStream::TlsServer {
                        peer_addr: peer,
                        local_addr: local,
                        stream: s,
                    };
                    (net, Proof::Cert(cert))
                }
                Ok(Err(e)) => return self.refuse(peer, &format!("TLS handshake failed: {e}")),
                Err(_) => return self.refuse(peer, "TLS handshake deadline passed"),
            },
        };
        if !self
            .hand_over(&server, net, true, peer, proof, deadline)
            .await
        {
            self.refuse(peer, "no successful cookie challenge before the deadline");
        }
    }

    /// Dials `node` at its registry address; `Ok` once the session is authenticated.
    pub async fn dial(
        self: Arc<Self>,
        server: ActorRef<NodeServerMessage>,
        node: NodeId,
        addr: SocketAddr,
    ) -> Result<(), String> {
        if !lock(&self.state).dialing.insert(addr) {
            return Err("a dial is already under way".into());
        }
        let out = self.dial_once(&server, &node, addr).await;
        lock(&self.state).dialing.remove(&addr);
        out
    }

    async fn dial_once(
        &self,
        server: &ActorRef<NodeServerMessage>,
        node: &NodeId,
        addr: SocketAddr,
    ) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + self.handshake;
        let stream = timeout_at(deadline, TcpStream::connect(addr))
            .await
            .map_err(|_| "connect timed out".to_string())?
            .map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().map_err(|e| e.to_string())?;
        let net = match &self.tls {
            None => NetworkStream::Raw {
                peer_addr: addr,
                local_addr: local,
                stream,
            },
            Some(tls) => {
                let name = server_name(node.as_str()).map_err(|e| e.to_string())?;
                let s = timeout_at(deadline, tls.connector.connect(name, stream))
                    .await
                    .map_err(|_| "TLS handshake timed out".to_string())?
                    .map_err(|e| format!("TLS handshake failed: {e}"))?;
                NetworkStream::TlsClient {
                    peer_addr: addr,
                    local_addr: local,
                    stream: s,
                }
            }
        };
        let proof = Proof::Dialed(node.to_string());
        if self
            .hand_over(server, net, false, addr, proof, deadline)
            .await
        {
            Ok(())
        } else {
            Err("the cookie challenge did not succeed in time".into())
        }
    }

    /// Gives `stream` to ractor_cluster and waits for its session to authenticate;
    /// stops the session if it has not by `deadline`.
    async fn hand_over(
        &self,
        server: &ActorRef<NodeServerMessage>,
        stream: NetworkStream,
        is_server: bool,
        peer: SocketAddr,
        proof: Proof,
        deadline: tokio::time::Instant,
    ) -> bool {
        let key = (is_server, peer.to_string());
        let (tx, rx) = oneshot::channel();
        lock(&self.state).waiting.insert(
            key.clone(),
            Waiting {
                done: Some(tx),
                proof: Some(proof),
            },
        );
        let opened = server.cast(NodeServerMessage::ConnectionOpened {
            stream: Box::new(stream),
            is_server,
        });
        let authenticated =
            opened.is_ok() && matches!(timeout_at(deadline, rx).await, Ok(Ok(true)));
        let stale = {
            let mut st = lock(&self.state);
            st.waiting.remove(&key);
            if authenticated {
                None
            } else {
                st.sessions
                    .values()
                    .find(|s| s.is_server == is_server && s.peer_addr == key.1)
                    .map(|s| s.actor.clone())
            }
        };
        if let Some(actor) = stale {
            actor.stop(Some("handshake deadline".into()));
        }
        authenticated
    }

    /// Whether ractor_cluster's session `session` speaks for `node`, which the
    /// registry lists at `registry_addr`: authenticated, named `<node>@<its ip>`,
    /// connected the way the pair connects (the lower node id dials), and — with TLS —
    /// proven by a certificate for `node`; without TLS (loopback only) the peer
    /// address must be `node`'s.
    pub fn vouches(&self, session: u64, me: &NodeId, node: &NodeId, registry_addr: &str) -> bool {
        let Ok(addr) = registry_addr.parse::<SocketAddr>() else {
            return false;
        };
        let st = lock(&self.state);
        let Some(s) = st.sessions.get(&session) else {
            return false;
        };
        let Ok(peer) = s.peer_addr.parse::<SocketAddr>() else {
            return false;
        };
        let named = s.peer_name.as_deref() == Some(format!("{node}@{}", addr.ip()).as_str());
        if s.authenticated.is_none() || !named {
            return false;
        }
        match (&self.tls, &s.proof, s.is_server) {
            (Some(_), Proof::Cert(cert), true) => node < me && certifies(cert, node.as_str()),
            (Some(_), Proof::Dialed(n), false) => node > me && n == node.as_str() && peer == addr,
            (None, Proof::Cookie, true) => node < me && peer.ip() == addr.ip(),
            (None, Proof::Dialed(n), false) => node > me && n == node.as_str() && peer == addr,
            _ => false,
        }
    }

    /// Stops authenticated sessions (older than `grace`, so a node that just joined
    /// the registry is not mistaken) that no node of `live` vouches for.
    pub fn evict_strangers(&self, me: &NodeId, live: &[LiveNode], grace: Duration) {
        let strangers: Vec<_> = {
            let st = lock(&self.state);
            st.sessions
                .iter()
                .filter(|(_, s)| s.authenticated.is_some_and(|t| t.elapsed() > grace))
                .map(|(id, s)| {
                    (
                        *id,
                        s.actor.clone(),
                        s.peer_addr.clone(),
                        s.peer_name.clone(),
                    )
                })
                .collect()
        };
        for (id, actor, peer, name) in strangers {
            let known = live.iter().any(|n| {
                n.info.id != *me
                    && n.info
                        .cluster_addr
                        .as_deref()
                        .is_some_and(|a| self.vouches(id, me, &n.info.id, a))
            });
            if !known {
                if let Some(held) = self.refused.allow() {
                    tracing::warn!(%peer, name = ?name, held_back = held, "cluster port: closed a session no registry node vouches for");
                }
                actor.stop(Some("not a registry node".into()));
            }
        }
    }
}

/// ractor_cluster's session events, kept in the [`Link`]'s table.
struct Events(Arc<Link>);

impl NodeEventSubscription for Events {
    fn node_session_opened(&self, ses: NodeServerSessionInformation) {
        let proof = {
            let mut st = lock(&self.0.state);
            let proof = st
                .waiting
                .get_mut(&(ses.is_server, ses.peer_addr.clone()))
                .and_then(|w| w.proof.take());
            if let Some(proof) = proof.clone() {
                st.sessions.insert(
                    ses.node_id,
                    Session {
                        actor: ses.actor.clone(),
                        peer_addr: ses.peer_addr.clone(),
                        is_server: ses.is_server,
                        peer_name: None,
                        authenticated: None,
                        proof,
                    },
                );
            }
            proof
        };
        if proof.is_none() {
            // Not through this module: ractor_cluster's own (loopback) listener.
            ses.actor.stop(Some("not through the cluster port".into()));
        }
    }

    fn node_session_authenticated(&self, ses: NodeServerSessionInformation) {
        let mut st = lock(&self.0.state);
        if let Some(s) = st.sessions.get_mut(&ses.node_id) {
            s.authenticated = Some(Instant::now());
            s.peer_name = ses.peer_name.as_ref().map(|n| n.name.clone());
        }
        if let Some(w) = st.waiting.get_mut(&(ses.is_server, ses.peer_addr.clone())) {
            if let Some(done) = w.done.take() {
                let _ = done.send(true);
            }
        }
    }

    fn node_session_disconnected(&self, ses: NodeServerSessionInformation) {
        let mut st = lock(&self.0.state);
        st.sessions.remove(&ses.node_id);
        if let Some(w) = st.waiting.get_mut(&(ses.is_server, ses.peer_addr.clone())) {
            if let Some(done) = w.done.take() {
                let _ = done.send(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_warning_is_written_once_and_the_rest_counted() {
        let q = Quiet::default();
        assert_eq!(q.allow(), Some(0));
        for _ in 0..1000 {
            assert_eq!(q.allow(), None);
        }
        // Once the quiet time is over, the next line carries the count.
        lock(&q.0).0 = Some(Instant::now() - QUIET_FOR - Duration::from_millis(1));
        assert_eq!(q.allow(), Some(1000));
    }
}
