//! The co-occurrence job over a real store (embedded and Redis): two job loops —
//! two nodes — share one store; exactly one counts, both publish the table; when the
//! holder dies without releasing, the other takes over after the lease TTL and goes
//! on from the persisted cursors; a node started later loads the table at once.

mod support;

use std::time::Duration;

use spoofify_service::cluster::cooccurrence_job::{self, JOB};
use spoofify_service::config::CooccurrenceSettings;
use spoofify_service::model::cooccurrence::{CoocHandle, CoocTable};
use spoofify_service::store::*;
use support::store::*;
use support::wait_until;
use tokio::sync::watch;

/// Fast rounds, short lease: a takeover within a couple of seconds.
fn settings() -> CooccurrenceSettings {
    CooccurrenceSettings {
        interval_ms: 100,
        lease_ttl_ms: 800,
    }
}

/// Generous: several test binaries build and run on two shared cores.
const DEADLINE: Duration = Duration::from_secs(30);

struct Node {
    handle: CoocHandle,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn start(store: &SharedStore, id: &str) -> Node {
    let handle = CoocHandle::default();
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(cooccurrence_job::run(
        store.clone(),
        NodeId::parse(id).unwrap(),
        handle.clone(),
        settings(),
        rx,
    ));
    Node { handle, stop, task }
}

/// Whether the table links `a` to `b`.
fn links(t: &CoocTable, a: &str, b: &str) -> bool {
    t.entries
        .iter()
        .any(|e| e.song.as_str() == a && e.neighbours.iter().any(|(n, _)| n.as_str() == b))
}

/// Three listeners finish `a` then `b` in one session (the pair's minimum support).
async fn listen_together(store: &SharedStore, tag: &str, a: &str, b: &str) {
    for l in 0..3 {
        let who = lid(&format!("{tag}-listener-{l}"));
        for (i, song) in [a, b].iter().enumerate() {
            let it = interaction(
                &format!("{tag}-{l}-{i}-client"),
                song,
                InteractionKind::Finished,
            );
            store.append_interaction(&who, &it).await.unwrap();
        }
    }
}

async fn wait_for_link(node: &Node, a: &str, b: &str, what: &str) {
    let handle = node.handle.clone();
    let (a, b) = (a.to_owned(), b.to_owned());
    wait_until(what, DEADLINE, || {
        let t = handle.get();
        let ok = links(&t, &a, &b);
        async move { ok }
    })
    .await;
}

async fn one_holder_then_takeover_then_reload(h: &mut Harness) {
    let store = h.store().clone();
    listen_together(&store, "first", "demo-0001", "demo-0002").await;
    let n1 = start(&store, "n1");
    let n2 = start(&store, "n2");
    wait_for_link(&n1, "demo-0001", "demo-0002", "node 1 to publish the pair").await;
    wait_for_link(&n2, "demo-0001", "demo-0002", "node 2 to publish the pair").await;

    // Exactly one of them holds the lease.
    let job = JobName::parse(JOB).unwrap();
    let probe = LeaseHolder::parse("probe/x").unwrap();
    let LeaseGrant::Busy { holder } = store
        .acquire_job_lease(&job, &probe, Duration::from_secs(60))
        .await
        .unwrap()
    else {
        panic!("nobody holds the job");
    };
    let (dead, survivor) = if holder.starts_with("n1/") {
        (n1, n2)
    } else {
        assert!(holder.starts_with("n2/"), "holder {holder}");
        (n2, n1)
    };
    let version_before = survivor.handle.get().version;

    // The holder dies without releasing; more listening happens meanwhile.
    dead.task.abort();
    let _ = dead.task.await;
    listen_together(&store, "second", "demo-0003", "demo-0004").await;
    wait_for_link(
        &survivor,
        "demo-0003",
        "demo-0004",
        "the survivor to take the job over and count the new pair",
    )
    .await;
    let after = survivor.handle.get();
    assert!(after.version > version_before, "a newer table");
    assert!(
        links(&after, "demo-0001", "demo-0002"),
        "what the dead holder counted survived (loaded from the store, not lost)"
    );
    // Nothing was counted twice: each pair still has exactly its 3 listeners, so its
    // similarity is 3 / sqrt(3 x 3) = 1.
    for e in &after.entries {
        for (_, sim) in &e.neighbours {
            assert!((sim - 1.0).abs() < 1e-6, "{}: {sim}", e.song);
        }
    }

    // A node started now (a restart) has the table at once, from the store.
    let late = start(&store, "n3");
    wait_for_link(
        &late,
        "demo-0003",
        "demo-0004",
        "a new node to load the table",
    )
    .await;

    for n in [survivor, late] {
        let _ = n.stop.send(true);
        tokio::time::timeout(DEADLINE, n.task)
            .await
            .expect("the job loop ends on the stop signal")
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_one_holder_then_takeover_then_reload() {
    let mut h = Harness::embedded().await;
    one_holder_then_takeover_then_reload(&mut h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_one_holder_then_takeover_then_reload() {
    let mut h = Harness::redis().await;
    one_holder_then_takeover_then_reload(&mut h).await;
}
