//! The fault phase's clock: each planned fault injected at its time and healed at
//! its end, every step recorded in the history. On a Redis Cluster the topology is
//! polled throughout (and through the quiet period after), and every change — a
//! master failed, a replica promoted, an old master rejoined — is recorded as a
//! `redis-topology` event, as is each thing the harness itself did to the cluster
//! (a master killed, its replication cut for a forced lag, a partition cut or healed).

use std::time::Duration;

use super::faults::PlannedFault;
use super::history::{Event, Op, Phase};
use super::topology::Topology;
use super::workload::Recorder;

/// Injects the schedule's faults one by one at their times; returns notes on faults
/// that could not be injected.
pub(super) async fn inject_all(
    topo: &mut Topology,
    schedule: &[PlannedFault],
    rec: &Recorder,
    phase_secs: f64,
) -> Vec<String> {
    let mut notes = Vec::new();
    let phase_start = rec.now_ms();
    let at = |s: f64| phase_start + (s * 1000.0) as u64;
    for (n, f) in schedule.iter().enumerate() {
        sleep_until_ms(rec, at(f.at_s)).await;
        let target = if f.kind.targets_redis() {
            "redis".to_string()
        } else {
            topo.nodes[f.node].id.clone()
        };
        let mut e = Event::new(rec.now_ms(), Op::Fault, Phase::Invoke);
        e.node = Some(target.clone());
        e.detail = Some(f.kind.as_str().into());
        e.seq = Some(n as u64);
        rec.record(e.clone());
        tracing::info!(kind = %f.kind, %target, secs = f.duration_s, "fault");
        // Signals, nft and restarts block briefly: keep them off the async workers.
        let injected = tokio::task::block_in_place(|| topo.inject(f.kind, f.node));
        record_redis_actions(topo, rec);
        match injected {
            Ok(()) => {
                e.t_ms = rec.now_ms();
                e.phase = Phase::Ok;
                rec.record(e.clone());
            }
            Err(err) => {
                e.t_ms = rec.now_ms();
                e.phase = Phase::Fail;
                e.detail = Some(format!("{}: {err}", f.kind));
                rec.record(e);
                notes.push(format!(
                    "fault {n} ({} on {target}) not injected: {err}",
                    f.kind
                ));
                continue;
            }
        }
        watch_topology_until(topo, rec, at(f.at_s + f.duration_s)).await;
        let mut h = Event::new(rec.now_ms(), Op::Heal, Phase::Ok);
        h.node = Some(target.clone());
        h.detail = Some(f.kind.as_str().into());
        h.seq = Some(n as u64);
        let healed = tokio::task::block_in_place(|| topo.heal(f.kind, f.node));
        record_redis_actions(topo, rec);
        if let Err(err) = healed {
            h.phase = Phase::Fail;
            h.detail = Some(format!("{}: {err}", f.kind));
            notes.push(format!(
                "fault {n} ({} on {target}) not healed cleanly: {err}",
                f.kind
            ));
        }
        h.t_ms = rec.now_ms();
        rec.record(h);
    }
    watch_topology_until(topo, rec, at(phase_secs)).await;
    notes
}

/// How often the Redis Cluster's topology is read during a run.
const TOPOLOGY_POLL_MS: u64 = 250;

/// Records what the harness just did to the Redis Cluster (see the module docs).
fn record_redis_actions(topo: &mut Topology, rec: &Recorder) {
    for what in std::mem::take(&mut topo.redis_actions) {
        record_redis_event(rec, what);
    }
}

fn record_redis_event(rec: &Recorder, what: String) {
    tracing::info!(change = %what, "redis cluster");
    let mut e = Event::new(rec.now_ms(), Op::RedisTopology, Phase::Info);
    e.node = Some("redis".into());
    e.detail = Some(what);
    rec.record(e);
}

/// Waits until `t_ms`; on a Redis Cluster, records every change of its topology as a
/// `redis-topology` event for the timeline. A reading no node answered is skipped
/// (the next one catches up), never the end of the watch.
pub(super) async fn watch_topology_until(topo: &mut Topology, rec: &Recorder, t_ms: u64) {
    loop {
        if !topo.is_redis_cluster() {
            return sleep_until_ms(rec, t_ms).await;
        }
        let changes = tokio::task::block_in_place(|| topo.redis_topology_changes());
        for what in changes {
            record_redis_event(rec, what);
        }
        let now = rec.now_ms();
        if now >= t_ms {
            return;
        }
        tokio::time::sleep(Duration::from_millis(TOPOLOGY_POLL_MS.min(t_ms - now))).await;
    }
}

async fn sleep_until_ms(rec: &Recorder, t_ms: u64) {
    let now = rec.now_ms();
    if t_ms > now {
        tokio::time::sleep(Duration::from_millis(t_ms - now)).await;
    }
}
