//! The state tier beyond one Redis, with real servers: `durability = "replicated"`
//! acknowledges only what a replica confirmed (and an unconfirmed write is retried
//! idempotently), and a SIGKILLed Redis Cluster master (two replicas each) fails over
//! under real `spoofify serve` nodes without losing an acknowledged interaction, its
//! listeners served again within cluster-node-timeout + 3 s (the others too: see the
//! known gap in that test).

mod support;

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use spoofify_service::config::Durability;
use spoofify_service::store::redis::{RedisStore, RedisTarget};
use spoofify_service::store::redis_cluster_process::{ClusterOptions, DEFAULT_NODE_TIMEOUT_MS};
use spoofify_service::store::redis_process::{Fsync, RedisOptions, RedisProcess};
use spoofify_service::store::*;
use support::cluster::*;
use support::store::{cluster_store, interaction, lid, start_redis_cluster};
use support::wait_until;

const DURABILITY_TIMEOUT: Duration = Duration::from_millis(300);

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// The log key of a listener, as the store lays it out (for finding its master).
fn log_key(l: &ListenerId) -> String {
    format!("spoofify:{{{l}}}:log")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicated_appends_wait_for_a_replica_and_retry_idempotently() {
    let master = RedisProcess::start_temp(Fsync::Always).expect("redis-server");
    let target = RedisTarget::Server(master.url());
    let replicated = RedisStore::connect_to(&target, Durability::Replicated, DURABILITY_TIMEOUT)
        .await
        .expect("connect");
    let local = RedisStore::connect_to(&target, Durability::Local, DURABILITY_TIMEOUT)
        .await
        .expect("connect");
    let l = lid("L-dur");
    let first = interaction("c-dur-0001", "s1", InteractionKind::Finished);

    // No replica: "local" acknowledges, "replicated" refuses within its timeout.
    let started = Instant::now();
    match replicated.append_interaction(&l, &first).await {
        Err(StoreError::Unavailable(msg)) => assert!(msg.contains("not replicated"), "{msg}"),
        other => panic!("no replica, yet {other:?}"),
    }
    assert!(started.elapsed() < DURABILITY_TIMEOUT * 10);
    assert!(matches!(
        replicated
            .acquire_epoch(&l, &NodeId::parse("n1").unwrap())
            .await,
        Err(StoreError::Unavailable(_))
    ));
    let second = interaction("c-dur-0002", "s2", InteractionKind::Skipped);
    assert_eq!(local.append_interaction(&l, &second).await.unwrap().seq, 2);

    // A replica attaches: the same client id, retried, is acknowledged as the entry
    // the unconfirmed attempt wrote (no second entry), and new writes pass.
    let replica = RedisProcess::start(RedisOptions {
        extra_args: vec![
            "--replicaof".into(),
            "127.0.0.1".into(),
            master.port().to_string(),
        ],
        ..RedisOptions::default()
    })
    .expect("replica");
    let store = replicated.clone();
    wait_until(
        "the replicated append to pass",
        Duration::from_secs(20),
        || {
            let (store, l, first) = (store.clone(), l.clone(), first.clone());
            async move { store.append_interaction(&l, &first).await.is_ok() }
        },
    )
    .await;
    let again = replicated.append_interaction(&l, &first).await.unwrap();
    assert_eq!((again.seq, again.duplicate), (1, true));
    let third = interaction("c-dur-0003", "s3", InteractionKind::Finished);
    assert_eq!(
        replicated.append_interaction(&l, &third).await.unwrap().seq,
        3
    );
    assert_eq!(
        replicated.read_interactions(&l, 0, 10).await.unwrap().len(),
        3
    );
    drop(replica);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_cluster_a_stalled_replica_fails_only_its_masters_writes() {
    let mut cluster = start_redis_cluster().await;
    let store = cluster_store(&cluster).await;
    // Two listeners on different masters.
    let ids: Vec<ListenerId> = (0..40).map(|i| lid(&format!("L-st{i}"))).collect();
    let by_master: Vec<(ListenerId, usize)> = ids
        .iter()
        .map(|l| (l.clone(), cluster.master_of_key(&log_key(l)).unwrap()))
        .collect();
    let (stalled_l, master) = by_master[0].clone();
    let (other_l, _) = by_master
        .iter()
        .find(|(_, m)| *m != master)
        .cloned()
        .expect("listeners on two masters");
    for (i, l) in [&stalled_l, &other_l].iter().enumerate() {
        let a = interaction(&format!("c-stall-a{i}"), "s1", InteractionKind::Finished);
        assert_eq!(store.append_interaction(l, &a).await.unwrap().seq, 1);
    }
    let replica = cluster.replicas_of(master).unwrap()[0];
    let pid = cluster.node(replica).pid().expect("replica runs");
    signal(pid, "-STOP");
    let b = interaction("c-stall-b0", "s2", InteractionKind::Finished);
    let refused = store.append_interaction(&stalled_l, &b).await;
    let other = store
        .append_interaction(
            &other_l,
            &interaction("c-stall-b1", "s2", InteractionKind::Skipped),
        )
        .await;
    signal(pid, "-CONT");
    assert!(
        matches!(refused, Err(StoreError::Unavailable(ref m)) if m.contains("not replicated")),
        "{refused:?}"
    );
    assert_eq!(other.unwrap().seq, 2, "the other master's writes pass");
    let retried = store.append_interaction(&stalled_l, &b).await.unwrap();
    assert_eq!((retried.seq, retried.duplicate), (2, true));
}

/// One listener's traffic during the failover: per request, when it was sent and when
/// it was answered (ms after the kill; negative before it) and whether it was
/// acknowledged.
type Trace = Vec<(i128, i128, bool)>;

/// Milliseconds from `start` to `t` (negative before it).
fn ms_since(start: Instant, t: Instant) -> i128 {
    if t >= start {
        t.duration_since(start).as_millis() as i128
    } else {
        -(start.duration_since(t).as_millis() as i128)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_redis_master_fails_over_and_loses_no_acknowledged_interaction() {
    let opts = NodeOpts {
        env: vec![
            ("SPOOFIFY_DURABILITY".into(), "replicated".into()),
            ("SPOOFIFY_DURABILITY_TIMEOUT_MS".into(), "2000".into()),
            // Ten posts a second per listener.
            (
                "SPOOFIFY_HTTP_LIMITS__INTERACTIONS_PER_MINUTE".into(),
                "6000".into(),
            ),
        ],
        ..Default::default()
    };
    // Two replicas per master: after the failover the promoted replica still has one,
    // so "replicated" writes to its slots go on without the old master.
    let redis = ClusterOptions {
        replicas_per_master: 2,
        ..ClusterOptions::default()
    };
    let mut c = TestCluster::start_on_redis_cluster_with(2, opts, redis).await;
    let ls = c.listeners("rk", 24).await;
    let songs = c.song_ids().await;
    let bases = c.bases();
    let cluster = c.redis.cluster().expect("a redis cluster");
    let victim = cluster.master_of_key(&log_key(&ls[0].id)).unwrap();
    let on_victim: Vec<bool> = ls
        .iter()
        .map(|l| cluster.master_of_key(&log_key(&l.id)).unwrap() == victim)
        .collect();
    assert!(on_victim.iter().any(|v| !v), "every listener on one master");

    // Every listener posts an interaction every 100 ms, from 2 s before the kill to
    // 16 s after; acknowledged client ids are kept.
    let start = Instant::now() + Duration::from_secs(2);
    let until = start + Duration::from_secs(16);
    let mut tasks = Vec::new();
    for (i, l) in ls.iter().cloned().enumerate() {
        let (http, songs, base) = (
            c.http.clone(),
            songs.clone(),
            bases[i % bases.len()].1.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut acked, mut trace) = (Vec::new(), Trace::new());
            let mut j = 0;
            while Instant::now() < until {
                let cid = format!("fo-{i}-{j}-abcdefgh");
                let sent = Instant::now();
                let kind = if j % 2 == 0 { "finished" } else { "skipped" };
                let ok = interact(&http, &base, &l, &cid, &songs[j % songs.len()], kind)
                    .await
                    .is_some();
                trace.push((ms_since(start, sent), ms_since(start, Instant::now()), ok));
                if ok {
                    acked.push(cid);
                }
                j += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (l, acked, trace)
        }));
    }
    tokio::time::sleep_until(start.into()).await;
    let cluster = c.redis.cluster().expect("a redis cluster");
    cluster.node(victim).kill();
    // A replica takes over and the other follows it; the old master stays down until
    // the drivers are done (no orchestrator brings it back).
    let key = log_key(&ls[0].id);
    let promoted_by = Instant::now() + Duration::from_secs(30);
    while cluster.master_of_key(&key).ok().is_none_or(|m| m == victim) {
        assert!(
            Instant::now() < promoted_by,
            "no replica promoted within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    cluster
        .wait_serving(Duration::from_secs(20))
        .expect("a replica promoted");
    let promoted_ms = start.elapsed().as_millis();
    eprintln!("failover done {promoted_ms} ms after the kill");
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("driver"));
    }

    // A listener is served again when the first request it sent after the kill is
    // acknowledged: for those on the killed master none can be before a replica is
    // promoted (a request may fail, or wait inside the store's retries, until then).
    // KNOWN GAP (README "Redis Cluster"): the others are interrupted too. The redis
    // crate's cluster client (1.8.1) holds back every request while it rebuilds its
    // slot map, which it does again and again while a master is down, so their
    // requests in flight fail or wait until the failover. Asserted for them: served
    // again within the same bound, and nothing they sent after it failed.
    let bound_ms = i128::from(DEFAULT_NODE_TIMEOUT_MS) + 3000;
    let (mut recovery_ms, mut others_ms) = (Vec::new(), Vec::new());
    let mut failed_late = Vec::new();
    for ((l, _, trace), hit) in results.iter().zip(&on_victim) {
        let back = trace
            .iter()
            .find(|(sent, _, ok)| *sent >= 0 && *ok)
            .map(|(_, done, _)| *done);
        let back = back.unwrap_or_else(|| panic!("{} never served again: {trace:?}", l.id));
        if *hit {
            recovery_ms.push(back);
        } else {
            others_ms.push(back);
        }
        if trace.iter().any(|(sent, _, ok)| *sent > bound_ms && !ok) {
            failed_late.push(format!("{}: {trace:?}", l.id));
        }
    }
    recovery_ms.sort_unstable();
    others_ms.sort_unstable();
    eprintln!(
        "served again after the kill (ms): on the killed master {recovery_ms:?}; the others {others_ms:?}"
    );
    // The bound: p99 of the recovery within cluster-node-timeout + 3 s (with a handful
    // of listeners, p99 is the slowest).
    let p99 = |v: &[i128]| v[(v.len() * 99).div_ceil(100) - 1];
    assert!(
        p99(&recovery_ms) <= bound_ms,
        "listeners on the killed master served again after {recovery_ms:?} ms, past {bound_ms} ms"
    );
    assert!(
        p99(&others_ms) <= bound_ms,
        "listeners on other masters served again after {others_ms:?} ms, past {bound_ms} ms"
    );
    assert!(
        failed_late.is_empty(),
        "requests failed after the failover: {failed_late:#?}"
    );

    // Every acknowledged interaction is in the log, once (read with the old master
    // back as a replica, so the cluster is whole).
    let cluster = c.redis.cluster().expect("a redis cluster");
    cluster
        .node(victim)
        .restart()
        .expect("restart the old master");
    cluster
        .wait_whole(Duration::from_secs(60))
        .expect("whole again");
    let store: SharedStore = Arc::new(cluster_store(cluster).await);
    let mut lost = HashMap::new();
    for (l, acked, _) in &results {
        let log = store.read_interactions(&l.id, 0, 10_000).await.unwrap();
        let mut seen = std::collections::HashSet::new();
        for e in &log {
            assert!(
                seen.insert(e.interaction.id.to_string()),
                "duplicate in {}",
                l.id
            );
        }
        let missing = acked
            .iter()
            .filter(|id| !seen.contains(id.as_str()))
            .count();
        if missing > 0 {
            lost.insert(l.id.to_string(), missing);
        }
    }
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}
