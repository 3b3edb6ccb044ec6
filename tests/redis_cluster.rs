//! The state tier beyond one Redis, with real servers: `durability = "replicated"`
//! acknowledges only what a replica confirmed (and an unconfirmed write is retried
//! idempotently), and a SIGKILLed Redis Cluster master (two replicas each) fails over
//! under real `spoofify serve` nodes without losing an acknowledged interaction, its
//! listeners served again within cluster-node-timeout + 3 s while the other masters'
//! listeners see no interruption (also when the dead master held the node registry,
//! and at the store with a partition), and six master faults in a row leave no client
//! stuck.

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
use support::{poll_until, wait_for, wait_until};

const DURABILITY_TIMEOUT: Duration = Duration::from_millis(300);

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// The node registry's first copy, as the store lays it out.
const NODES_REGISTRY_KEY: &str = "spoofify:{nodes}:registry";

/// The most one request for a listener on a healthy master may take while another
/// master fails over (3–5 s here). Measured (2026-12-07, shared 2-core machine, load
/// 7–10): with `cluster-require-full-coverage no` the slowest such request took
/// 6–73 ms (store and nodes, kill and partition, two runs each); with Redis's default every node
/// answered CLUSTERDOWN from the master's FAIL to the promotion and they took up to
/// 1.0–1.3 s (p99 0.7–1.1 s), which this bound catches.
const OTHERS_BOUND: Duration = Duration::from_millis(500);

/// How soon after a partitioned master's replica was promoted its listeners must be
/// served again at the store: measured 1.3–3.1 s (2026-12-07, shared 2-core machine,
/// load ~9): the lanes' topology read (every 500 ms), the nudge, the crate's slot
/// refresh (which may first ask the cut-off master: 1 s), and a try already sent to
/// the old master timing out (1 s + the `WAIT` timeout).
const PARTITION_BACK_AFTER_PROMOTION: Duration = Duration::from_secs(4);

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
    // The master of the node registry's first copy: the worst master to lose (before
    // the registry had three copies, every node's heartbeats failed until the
    // failover, so every node dropped every listener).
    let victim = cluster.master_of_key(NODES_REGISTRY_KEY).unwrap();
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
    // The others (listeners, and sessions, on the other masters) must see no
    // interruption: each request sent during the failover answered, within
    // OTHERS_BOUND (below); and nothing anyone sent after the bound failed.
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
            if back > 1000 {
                let around: Vec<_> = trace
                    .iter()
                    .filter(|(s, _, _)| *s > -500 && *s < 4000)
                    .collect();
                eprintln!("slow other {}: {around:?}", l.id);
            }
            others_ms.push(back);
        }
        if trace.iter().any(|(sent, _, ok)| *sent > bound_ms && !ok) {
            failed_late.push(format!("{}: {trace:?}", l.id));
        }
    }
    recovery_ms.sort_unstable();
    others_ms.sort_unstable();
    // Per request sent after the kill until the failover: how long it took, per group;
    // on the other masters none may fail or take past OTHERS_BOUND.
    let (mut took_victim, mut took_others, mut others_bad) = (Vec::new(), Vec::new(), Vec::new());
    for ((l, _, trace), hit) in results.iter().zip(&on_victim) {
        for (sent, done, ok) in trace
            .iter()
            .filter(|(s, d, _)| *d >= 0 && *s <= promoted_ms as i128)
        {
            let took = (done - sent) as u128;
            if *hit {
                took_victim.push(took);
            } else {
                took_others.push(took);
                if !ok || took > OTHERS_BOUND.as_millis() {
                    others_bad.push(format!("{}: sent {sent} ms, took {took} ms, ok {ok}", l.id));
                }
            }
        }
    }
    eprintln!(
        "request ms during the failover: on the killed master {}; on the others {}",
        spread(&mut took_victim),
        spread(&mut took_others)
    );
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
        others_bad.is_empty(),
        "listeners on the other masters interrupted: {others_bad:#?}"
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

/// An nftables table of this test's own (the chaos harness has its own): it drops
/// every packet from or to one Redis node's own loopback address.
const CUT_TABLE: &str = "spoofify_test_redis_cut";

/// A Redis Cluster for the fault tests: two replicas per master (after a failover the
/// promoted replica still has one, so `replicated` writes go on), each server on its
/// own loopback address so one can be cut off by address.
async fn fault_cluster() -> spoofify_service::store::redis_cluster_process::RedisCluster {
    tokio::task::spawn_blocking(|| {
        spoofify_service::store::redis_cluster_process::RedisCluster::start(ClusterOptions {
            replicas_per_master: 2,
            own_loopback_ips: true,
            ..ClusterOptions::default()
        })
    })
    .await
    .expect("join")
    .expect("start a redis cluster")
}

/// Runs `nft` with `rules` on stdin (or none); whether it succeeded.
fn nft(args: &[&str], rules: Option<&str>) -> bool {
    use std::io::Write;
    let Ok(mut child) = Command::new("nft")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    else {
        return false;
    };
    if let (Some(text), Some(mut input)) = (rules, child.stdin.take()) {
        let _ = input.write_all(text.as_bytes());
    }
    child.wait().is_ok_and(|s| s.success())
}

/// Cuts Redis node `i` (its own loopback address) off from everything.
fn cut_off(i: usize) -> bool {
    let ip = spoofify_service::store::redis_cluster_process::own_loopback_ip(i);
    let rules = format!(
        "table inet {CUT_TABLE} {{\n chain input {{ type filter hook input priority -10; policy accept;\n  ip saddr {ip} drop\n  ip daddr {ip} drop\n }}\n}}\n"
    );
    nft(&["-f", "-"], Some(&rules))
}

fn heal_cut() -> bool {
    nft(&["delete", "table", "inet", CUT_TABLE], None)
}

/// What one writer saw: when its last append was acknowledged, and its last error.
#[derive(Default)]
struct WriterState {
    last_ack: Option<Instant>,
    last_error: Option<(Instant, String)>,
    acked: Vec<String>,
}

/// Issue 13's chaos rerun hung after its third master kill: every cluster client (the
/// nodes' and the harness's idle one) stopped answering while Redis said
/// `cluster_state:ok`. Here: six master faults in a row (kills and, where nftables
/// works, partitions), each healed (the old master back as a replica) before the
/// next, under continuous appends and reads through one `replicated` store, with a
/// second store left idle throughout. After every fault every writer must be
/// acknowledged again within the bound, and at the end the idle store must answer and
/// every acknowledged append be in its log, once. (This load did not trigger the hang,
/// with or without the store's watchdog; the chaos run did — README "Redis Cluster".)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_master_faults_never_leave_a_client_stuck() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("redis=info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let mut cluster = fault_cluster().await;
    let store = Arc::new(cluster_store(&cluster).await);
    let idle = cluster_store(&cluster).await;
    let can_cut = heal_cut() || nft(&["list", "tables"], None);

    let writers = 24;
    let ls: Vec<ListenerId> = (0..writers).map(|i| lid(&format!("L-rf{i}"))).collect();
    let states: Arc<Vec<std::sync::Mutex<WriterState>>> =
        Arc::new((0..writers).map(|_| Default::default()).collect());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (i, l) in ls.iter().cloned().enumerate() {
        let (store, states, stop) = (store.clone(), states.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut j = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let cid = format!("rf-{i}-{j}-abcdefgh");
                let kind = if j.is_multiple_of(2) {
                    InteractionKind::Finished
                } else {
                    InteractionKind::Skipped
                };
                let res = store
                    .append_interaction(&l, &interaction(&cid, "s1", kind))
                    .await;
                let read = store.read_interactions(&l, 0, 5).await;
                {
                    let mut st = states[i].lock().expect("state");
                    match (res, read) {
                        (Ok(_), Ok(_)) => {
                            st.last_ack = Some(Instant::now());
                            st.acked.push(cid);
                        }
                        (Ok(_), Err(e)) => {
                            st.acked.push(cid);
                            st.last_error = Some((Instant::now(), format!("read: {e}")));
                        }
                        (Err(e), _) => st.last_error = Some((Instant::now(), e.to_string())),
                    }
                }
                j += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }

    let bound = Duration::from_secs(15);
    let rounds = 6;
    for round in 0..rounds {
        let partition = can_cut && round % 2 == 1;
        let masters = cluster.masters().expect("masters");
        let victim = masters[round % masters.len()];
        let what = if partition { "partition" } else { "kill" };
        let t0 = Instant::now();
        eprintln!("round {round}: {what} of node {victim} (masters {masters:?})");
        if partition {
            assert!(cut_off(victim), "nft cut");
            cluster.set_cut(vec![victim]);
        } else {
            cluster.node(victim).kill();
        }
        let promoted = poll_until(Duration::from_secs(30), || {
            let ok = cluster
                .masters()
                .is_ok_and(|m| m.len() == masters.len() && !m.contains(&victim));
            async move { ok.then_some(()) }
        })
        .await;
        assert!(
            promoted.is_some(),
            "round {round}: no replica promoted in 30 s"
        );
        eprintln!("round {round}: promoted after {:?}", t0.elapsed());
        tokio::time::sleep(Duration::from_secs(2)).await;
        if partition {
            assert!(heal_cut(), "nft heal");
            cluster.set_cut(Vec::new());
        } else {
            cluster.node(victim).restart().expect("restart");
        }
        let healed = Instant::now();
        tokio::task::block_in_place(|| cluster.wait_whole(Duration::from_secs(60)))
            .expect("whole again");
        eprintln!("round {round}: whole {:?} after the heal", healed.elapsed());
        let back = poll_until(bound, || {
            let all = states.iter().all(|s| {
                s.lock()
                    .expect("state")
                    .last_ack
                    .is_some_and(|t| t > healed)
            });
            async move { all.then_some(()) }
        })
        .await;
        if back.is_none() {
            let now = Instant::now();
            let stuck: Vec<String> = states
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let s = s.lock().expect("state");
                    s.last_ack.is_none_or(|t| t <= healed).then(|| {
                        format!(
                            "{}: last ack {:?} ago, last error {:?}",
                            ls[i],
                            s.last_ack.map(|t| now - t),
                            s.last_error.as_ref().map(|(t, e)| (now - *t, e.clone()))
                        )
                    })
                })
                .collect();
            panic!(
                "round {round} ({what}): writers not acknowledged within {bound:?} of the heal:\n{}",
                stuck.join("\n")
            );
        }
        eprintln!("round {round}: every writer acknowledged again");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        t.await.expect("writer");
    }

    // The idle store answers, and every acknowledged append is in the log once.
    for (i, l) in ls.iter().enumerate() {
        let log = wait_for("the idle store to read a log", bound, || async {
            idle.read_interactions(l, 0, 100_000).await.ok()
        })
        .await;
        let seen: std::collections::HashSet<String> =
            log.iter().map(|e| e.interaction.id.to_string()).collect();
        assert_eq!(seen.len(), log.len(), "duplicates in {l}");
        let st = states[i].lock().expect("state");
        let lost: Vec<&String> = st.acked.iter().filter(|c| !seen.contains(*c)).collect();
        assert!(lost.is_empty(), "{l}: acknowledged but lost: {lost:?}");
    }
}

/// One request of a listener during a master fault: when it was sent (ms after the
/// fault), how long it took and whether it was acknowledged.
#[derive(Clone, Copy, Debug)]
struct Req {
    sent_ms: i128,
    took_ms: u128,
    ok: bool,
}

/// p50 / p99 / max of `v` (sorted here), as text.
fn spread(v: &mut [u128]) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.sort_unstable();
    let at = |p: usize| v[((v.len() * p).div_ceil(100)).max(1) - 1];
    format!(
        "n={} p50={} p99={} max={}",
        v.len(),
        at(50),
        at(99),
        at(100)
    )
}

/// The property issue 13 asks for beside the failover bound: while one Redis Cluster
/// master is down (SIGKILL, then — where nftables works — cut off from everything),
/// listeners whose slots sit on the *other* masters see no interruption. 24 listeners
/// spread over the three masters each make one request (a `replicated` append and a
/// read of their log, what an interaction costs the store) every 50 ms through one
/// store, from 2 s before each fault until the shard has failed over and a further
/// 2 s. Every request for the other masters' listeners must succeed, and each within
/// [`OTHERS_BOUND`] — well under a failover (~4 s); the figures per group are printed
/// (README "Redis Cluster").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_master_fault_does_not_interrupt_the_other_masters_listeners() {
    let mut cluster = fault_cluster().await;
    let store = Arc::new(cluster_store(&cluster).await);
    let can_cut = heal_cut() || nft(&["list", "tables"], None);
    let ls: Vec<ListenerId> = (0..24).map(|i| lid(&format!("L-ni{i}"))).collect();
    let mut failures = Vec::new();
    let faults: &[&str] = if can_cut {
        &["kill", "partition"]
    } else {
        &["kill"]
    };
    for (round, what) in faults.iter().enumerate() {
        let masters = cluster.masters().expect("masters");
        let victim = masters[round % masters.len()];
        let hit: Vec<bool> = ls
            .iter()
            .map(|l| cluster.master_of_key(&log_key(l)).expect("master") == victim)
            .collect();
        assert!(hit.iter().any(|h| *h) && hit.iter().any(|h| !h));
        let fault_at = Instant::now() + Duration::from_secs(2);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for (i, l) in ls.iter().cloned().enumerate() {
            let (store, stop) = (store.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut reqs = Vec::new();
                let mut j = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let cid = format!("ni-{round}-{i}-{j}-abcdefgh");
                    let sent = Instant::now();
                    let ok = store
                        .append_interaction(&l, &interaction(&cid, "s1", InteractionKind::Finished))
                        .await
                        .is_ok()
                        && store.read_interactions(&l, 0, 5).await.is_ok();
                    reqs.push(Req {
                        sent_ms: ms_since(fault_at, sent),
                        took_ms: sent.elapsed().as_millis(),
                        ok,
                    });
                    j += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                reqs
            }));
        }
        tokio::time::sleep_until(fault_at.into()).await;
        // The fault and the wait for its failover run redis-cli and block: off the
        // runtime's workers (block_in_place), so the drivers' timings are the store's.
        let promoted = tokio::task::block_in_place(|| {
            if *what == "partition" {
                assert!(cut_off(victim), "nft cut");
                cluster.set_cut(vec![victim]);
            } else {
                cluster.node(victim).kill();
            }
            let by = Instant::now() + Duration::from_secs(30);
            while Instant::now() < by {
                if cluster
                    .masters()
                    .is_ok_and(|m| m.len() == masters.len() && !m.contains(&victim))
                {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            false
        });
        assert!(promoted, "{what}: no replica promoted in 30 s");
        let failover_ms = fault_at.elapsed().as_millis();
        // Past the failover, until the killed master's listeners are served again
        // (bounded), and 2 s more.
        tokio::time::sleep(Duration::from_secs(7)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut per: Vec<Vec<Req>> = Vec::new();
        for t in tasks {
            per.push(t.await.expect("driver"));
        }
        // Requests in flight at the fault or sent after it, until the failover was seen.
        let window =
            |r: &&Req| r.sent_ms + r.took_ms as i128 >= 0 && r.sent_ms <= failover_ms as i128;
        let (mut on_victim, mut others, mut before) = (Vec::new(), Vec::new(), Vec::new());
        let (mut victim_failed, mut others_failed) = (0, Vec::new());
        for (reqs, h) in per.iter().zip(&hit) {
            before.extend(
                reqs.iter()
                    .filter(|r| r.sent_ms + (r.took_ms as i128) < 0)
                    .map(|r| r.took_ms),
            );
            for r in reqs.iter().filter(window) {
                if *h {
                    on_victim.push(r.took_ms);
                    victim_failed += usize::from(!r.ok);
                } else {
                    others.push(r.took_ms);
                    if !r.ok {
                        others_failed.push(*r);
                    }
                }
            }
        }
        let slow: Vec<(i128, u128)> = per
            .iter()
            .zip(&hit)
            .filter(|(_, h)| !**h)
            .flat_map(|(reqs, _)| reqs.iter().filter(window))
            .filter(|r| r.took_ms > OTHERS_BOUND.as_millis())
            .map(|r| (r.sent_ms, r.took_ms))
            .collect();
        // When each listener on the faulty master was served again: the first request
        // it sent after the fault that succeeded, at its completion.
        let mut back: Vec<u128> = per
            .iter()
            .zip(&hit)
            .filter(|(_, h)| **h)
            .filter_map(|(reqs, _)| {
                reqs.iter()
                    .find(|r| r.sent_ms >= 0 && r.ok)
                    .map(|r| (r.sent_ms + r.took_ms as i128).max(0) as u128)
            })
            .collect();
        eprintln!(
            "{what} of node {victim}: failover seen after {failover_ms} ms; request ms before the fault: {}; \
             during it, on the faulty master ({victim_failed} failed): {}; on the others ({} failed): {}; \
             faulty master's listeners served again after (ms): {}",
            spread(&mut before),
            spread(&mut on_victim),
            others_failed.len(),
            spread(&mut others),
            spread(&mut back)
        );
        // The faulty master's listeners must all be served again, each (with 10 of
        // them, p99 is the slowest): after a kill within issue 13's bound,
        // cluster-node-timeout + 3 s of the fault; after a partition within
        // `PARTITION_BACK_AFTER_PROMOTION` of the promotion — Redis's own failover of a
        // cut-off master took 3.9–4.8 s here, most of that bound already. Before the
        // lanes were nudged and the clients woken, a partition's listeners were not
        // served again within 7 s of the promotion (README "Redis Cluster").
        let victims = hit.iter().filter(|h| **h).count();
        let bound_ms = if *what == "partition" {
            failover_ms + PARTITION_BACK_AFTER_PROMOTION.as_millis()
        } else {
            u128::from(DEFAULT_NODE_TIMEOUT_MS) + 3000
        };
        if back.len() < victims || back.iter().any(|b| *b > bound_ms) {
            failures.push(format!(
                "{what}: the faulty master's listeners served again after {back:?} ms ({} of {victims}), past {bound_ms} ms",
                back.len()
            ));
        }
        if !others_failed.is_empty() || !slow.is_empty() {
            failures.push(format!(
                "{what}: on the other masters {} requests failed ({others_failed:?}) and {} took over {OTHERS_BOUND:?} (sent ms after the fault, took ms: {slow:?})",
                others_failed.len(),
                slow.len()
            ));
        }
        // Heal before the next fault: the old master back, as a replica.
        if *what == "partition" {
            assert!(heal_cut(), "nft heal");
            cluster.set_cut(Vec::new());
        } else {
            cluster.node(victim).restart().expect("restart");
        }
        tokio::task::block_in_place(|| cluster.wait_whole(Duration::from_secs(60)))
            .expect("whole again");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
