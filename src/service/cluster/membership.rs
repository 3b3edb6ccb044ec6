//! Membership: heartbeats with a TTL in the store decide the live set.
//!
//! Every `heartbeat_interval_ms` this node refreshes its registry entry (state,
//! addresses, active listener count), reads the live set back, and:
//! - if its own last successful beat is older than the TTL (the store was unreachable,
//!   or the process was paused), drops every local listener actor **without writing**
//!   — another node may already own them — before doing anything else;
//! - when the placement set changed, hands off (snapshot, stop) the local listeners
//!   it no longer owns;
//! - dials peers it has no session with (the lower node id dials, so each pair has one
//!   connection; [`super::link`] does the dialing); ractor_cluster disconnects are only
//!   a hint, the TTL decides;
//! - closes authenticated sessions that no registry node vouches for.

use std::time::{Duration, Instant};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ractor::Actor;
use ractor_cluster::node::NodeConnectionMode;
use ractor_cluster::{IncomingEncryptionMode, NodeServer, NodeServerMessage};
use tokio::net::TcpListener;

use super::gateway::Gateway;
use super::link::Link;
use super::tls::Tls;
use super::view::View;
use super::view::{note_beat, refresh_view};
use super::{lock, Cluster, ClusterError};
use crate::config::ClusterLinkSettings;
use crate::listener::RetireReason;

/// An authenticated session no registry node vouches for is closed after this long
/// at the earliest (or two heartbeat TTLs), so a node that just registered is never
/// mistaken for a stranger.
const EVICTION_GRACE: Duration = Duration::from_secs(10);
/// A peer we failed to dial is retried after this long.
const REDIAL_AFTER: Duration = Duration::from_secs(1);

/// The largest frame a peer may send (ractor_cluster's default is 16 MiB); a gateway
/// payload is at most 1 MiB ([`super::wire`]).
const MAX_FRAME: u64 = 2 << 20;

/// Starts the ractor_cluster node server, this node's accept loop on `cluster_addr`
/// ([`super::link`]) and its gateway.
pub(super) async fn start_node_server(
    cluster: &Cluster,
    link_settings: &ClusterLinkSettings,
) -> Result<(), ClusterError> {
    let addr = cluster.0.cluster_addr.clone().unwrap_or_default();
    let bad = |reason: String| ClusterError::NodeServer {
        addr: addr.clone(),
        reason,
    };
    let sock: std::net::SocketAddr = addr.parse().map_err(|e| bad(format!("{e}")))?;
    if sock.port() == 0 {
        return Err(bad(
            "an explicit port is needed: peers find it in the registry".into(),
        ));
    }
    let tls =
        Tls::load(link_settings, cluster.0.node_id.as_str()).map_err(|e| bad(e.to_string()))?;
    let listener = TcpListener::bind(sock)
        .await
        .map_err(|e| bad(e.to_string()))?;
    // ractor_cluster always runs a listener of its own: keep it on an ephemeral
    // loopback port (sessions arriving there are stopped, see `link`).
    let loopback: IpAddr = if sock.is_ipv6() {
        Ipv6Addr::LOCALHOST.into()
    } else {
        Ipv4Addr::LOCALHOST.into()
    };
    let server = NodeServer::new(
        0,
        cluster.0.cookie.clone(),
        cluster.0.node_id.to_string(),
        sock.ip().to_string(),
        tls.as_ref()
            .map(|t| IncomingEncryptionMode::Tls(t.acceptor.clone())),
        Some(NodeConnectionMode::Isolated),
    )
    .with_listen_addr(loopback)
    .with_max_inbound_frame_size(MAX_FRAME);
    let (server_ref, _) = Actor::spawn(None, server, ())
        .await
        .map_err(|e| bad(e.to_string()))?;
    let link = Link::new(tls, link_settings);
    server_ref
        .cast(NodeServerMessage::SubscribeToEvents {
            id: "spoofify.link".into(),
            subscription: link.events(),
        })
        .map_err(|e| bad(e.to_string()))?;
    tokio::spawn(
        link.clone()
            .serve(listener, server_ref.clone(), cluster.0.stop.subscribe()),
    );
    let _ = cluster.0.link.set(link);
    *lock(&cluster.0.node_server) = Some(server_ref);
    Actor::spawn(None, Gateway, cluster.clone())
        .await
        .map_err(|e| ClusterError::Gateway(e.to_string()))?;
    tracing::info!(%addr, tls = cluster.0.link.get().is_some_and(|l| l.tls_enabled()), "cluster node server and gateway up");
    Ok(())
}

/// How long one beat (and, after it, one read of the live set) may take: a third of
/// the TTL, so a beat that hangs — on a Redis Cluster, a call to a master that is
/// failing over or cut off — is given up and tried again on the next tick, two or
/// three times before the lease lapses, instead of holding the loop for a store call's
/// whole budget (8 s) while the lease runs out (issue 13: "heartbeat lease lapsed"
/// after one slow beat). A beat given up may still land; the lease counts only from
/// the start of a beat that returned.
fn beat_budget(ttl: Duration) -> Duration {
    ttl / 3
}

/// Refreshes the heartbeat and the view once.
pub(super) async fn beat_once(cluster: &Cluster) {
    let ttl = Duration::from_millis(cluster.0.settings.heartbeat_ttl_ms);
    let budget = beat_budget(ttl);
    let beat_started = Instant::now();
    match tokio::time::timeout(budget, cluster.0.store.heartbeat(&cluster.info(), ttl)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "heartbeat failed");
            return;
        }
        Err(_) => {
            tracing::warn!(
                budget_ms = budget.as_millis() as u64,
                "heartbeat failed: no quorum of registry copies within its budget"
            );
            return;
        }
    }
    // The beat holds from `beat_started` whether or not the live set can be read now:
    // the lease is this node's own beat, not its view of the others.
    note_beat(cluster, beat_started);
    if tokio::time::timeout(budget, refresh_view(cluster, Some(beat_started)))
        .await
        .is_err()
    {
        tracing::warn!(
            budget_ms = budget.as_millis() as u64,
            "could not read the live set within the beat budget"
        );
    }
}

/// The membership loop; ends when the cluster is stopped.
#[tracing::instrument(name = "membership", skip_all, fields(node = %cluster.0.node_id))]
pub(super) async fn run(cluster: Cluster) {
    let mut stop = cluster.0.stop.subscribe();
    let mut tick = tokio::time::interval(Duration::from_millis(
        cluster.0.settings.heartbeat_interval_ms,
    ));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_placement = cluster.view().placement;
    let mut dialed: std::collections::HashMap<String, Instant> = Default::default();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let before = cluster.view();
        if before.last_ok_beat.is_some()
            && !cluster.lease_held(&before)
            && cluster.0.listeners.active_count() > 0
        {
            let n = cluster
                .0
                .listeners
                .retire_where(RetireReason::LostLease, |_| true, cluster.route_deadline())
                .await;
            tracing::warn!(
                dropped = n,
                "heartbeat lease lapsed: dropped every local listener without writing"
            );
        }
        beat_once(&cluster).await;
        let view = cluster.view();
        if view.placement != last_placement {
            tracing::info!(live = ?view.placement.iter().map(|n| n.as_str()).collect::<Vec<_>>(), "placement set changed");
            last_placement = view.placement.clone();
            let c = cluster.clone();
            tokio::spawn(async move {
                let n =
                    c.0.listeners
                        .retire_where(
                            RetireReason::HandedOff,
                            |id| !c.owns(id),
                            c.route_deadline(),
                        )
                        .await;
                if n > 0 {
                    tracing::info!(
                        handed_off = n,
                        "handed off listeners this node no longer owns"
                    );
                }
            });
        }
        cluster.reprobe(&view.nodes);
        if let Some(link) = cluster.0.link.get() {
            let grace =
                Duration::from_millis(2 * cluster.0.settings.heartbeat_ttl_ms).max(EVICTION_GRACE);
            link.evict_strangers(&cluster.0.node_id, &view.nodes, grace);
        }
        dial_peers(&cluster, &view, &mut dialed);
    }
}

/// Dials every live peer with a higher id that has no trusted gateway visible yet.
fn dial_peers(
    cluster: &Cluster,
    view: &View,
    dialed: &mut std::collections::HashMap<String, Instant>,
) {
    let Some(server) = lock(&cluster.0.node_server).clone() else {
        return;
    };
    let Some(link) = cluster.0.link.get().cloned() else {
        return;
    };
    for node in &view.nodes {
        let id = &node.info.id;
        let Some(addr) = node.info.cluster_addr.clone() else {
            continue;
        };
        if id <= &cluster.0.node_id || cluster.gateway_at(id, &addr).is_some() {
            continue;
        }
        let Ok(sock) = addr.parse::<std::net::SocketAddr>() else {
            continue;
        };
        if dialed
            .get(&addr)
            .is_some_and(|t| t.elapsed() < REDIAL_AFTER)
        {
            continue;
        }
        dialed.insert(addr.clone(), Instant::now());
        let (link, server, peer) = (link.clone(), server.clone(), id.clone());
        tokio::spawn(async move {
            match link.dial(server, peer.clone(), sock).await {
                Ok(()) => tracing::info!(%peer, %addr, "dialed peer"),
                Err(e) => tracing::debug!(%peer, %addr, error = %e, "could not dial peer"),
            }
        });
    }
}
