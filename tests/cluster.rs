//! The cluster with real processes and a real Redis: failover after SIGKILL loses no
//! acknowledged interaction (over plain TCP and over mutual TLS), a joiner takes its share, a drained node fails no
//! request, and a paused node's stale actors write nothing after it wakes.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use support::cluster::*;
use support::poll_until;

/// Enough for the TTL (1.5 s here) to expire, the survivors to see it, and activation.
const FAILOVER_DEADLINE: Duration = Duration::from_secs(30);

/// Posts `k` interactions per listener, round-robin over the nodes; returns the
/// acknowledged client ids and the last acknowledged seq per listener.
async fn drive(
    c: &TestCluster,
    ls: &[TestListener],
    k: usize,
    tag: &str,
) -> HashMap<String, (Vec<String>, u64)> {
    let bases = c.bases();
    let songs = c.song_ids().await;
    let mut acked = HashMap::new();
    for (i, l) in ls.iter().enumerate() {
        let entry: &mut (Vec<String>, u64) = acked.entry(l.id.to_string()).or_default();
        for j in 0..k {
            let base = &bases[(i + j) % bases.len()].1;
            let cid = format!("{tag}-{i}-{j}-abcdefgh");
            let kind = if j % 2 == 0 { "finished" } else { "skipped" };
            if let Some(seq) =
                interact(&c.http, base, l, &cid, &songs[(i + j) % songs.len()], kind).await
            {
                entry.0.push(cid);
                entry.1 = entry.1.max(seq);
            }
        }
    }
    acked
}

/// A normal (not degraded) feed for `l` from any of `bases`, once it reflects `seq`.
async fn normal_feed(
    c: &TestCluster,
    bases: &[(String, String)],
    l: &TestListener,
    seq: u64,
) -> Option<Value> {
    normal_feed_from(c, l, seq, || {
        vec![bases[fastrand_index(bases.len())].1.clone()]
    })
    .await
}

/// A normal feed for `l` reflecting `seq` that every one of `bases` gets ranked by the
/// same node: the nodes agree on its owner.
async fn agreed_feed(
    c: &TestCluster,
    bases: &[(String, String)],
    l: &TestListener,
    seq: u64,
) -> Option<Value> {
    normal_feed_from(c, l, seq, || bases.iter().map(|(_, b)| b.clone()).collect()).await
}

/// Polls until every base `ask` names (asked anew on each try) answers `l` with a normal
/// feed reflecting `seq`, all ranked by the same node; that feed.
async fn normal_feed_from(
    c: &TestCluster,
    l: &TestListener,
    seq: u64,
    ask: impl Fn() -> Vec<String>,
) -> Option<Value> {
    let http = c.http.clone();
    poll_until(FAILOVER_DEADLINE, || {
        let http = http.clone();
        let l = l.clone();
        let bases = ask();
        async move {
            let mut agreed: Option<Value> = None;
            for base in &bases {
                let f = feed(&http, base, &l).await?;
                let ok = f["degraded"] == false && f["model"]["applied_seq"].as_u64()? >= seq;
                if !ok
                    || agreed
                        .as_ref()
                        .is_some_and(|a| a["ranked_by"] != f["ranked_by"])
                {
                    return None;
                }
                agreed = Some(f);
            }
            agreed
        }
    })
    .await
}

fn fastrand_index(n: usize) -> usize {
    (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0) as usize)
        % n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_failover_loses_no_acknowledged_interaction() {
    sigkill_failover(TestCluster::start(3).await).await;
}

/// The same flow with mutual TLS between the nodes and a strong cookie.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_failover_over_tls_loses_no_acknowledged_interaction() {
    let opts = NodeOpts {
        tls: true,
        ..Default::default()
    };
    let c = TestCluster::start_with(3, opts).await;
    for n in c.nodes.values() {
        assert!(n.log_plain().contains("tls=true"), "{}: no TLS", n.id);
    }
    // Every node routes feeds to the others over the link: some feed it serves was
    // ranked by another node.
    let ls = c.listeners("tlsr", 12).await;
    for (id, base) in c.bases() {
        let routed = poll_until(FAILOVER_DEADLINE, || {
            let (http, base, ls, id) = (c.http.clone(), base.clone(), ls.clone(), id.clone());
            async move {
                for l in &ls {
                    let f = feed(&http, &base, l).await?;
                    if f["degraded"] == false && f["ranked_by"].as_str()? != id {
                        return Some(());
                    }
                }
                None
            }
        })
        .await;
        assert!(
            routed.is_some(),
            "{id} never got a feed ranked by another node"
        );
    }
    sigkill_failover(c).await;
}

async fn sigkill_failover(mut c: TestCluster) {
    let ls = c.listeners("fo", 45).await;
    let acked = drive(&c, &ls, 4, "a").await;
    let bases = c.bases();
    let mut owner: HashMap<String, String> = HashMap::new();
    for l in &ls {
        let seq = acked[l.id.as_str()].1;
        // The owner as every node routes it: a single feed may come from a node whose
        // view of the members was a moment behind (a disagreement that heals by
        // itself), and then names an owner the listener does not keep.
        let f = agreed_feed(&c, &bases, l, seq).await.expect(
            "a normal feed, ranked by the same node whichever node is asked, before the kill",
        );
        owner.insert(
            l.id.to_string(),
            f["ranked_by"].as_str().unwrap().to_owned(),
        );
    }
    let victim = "n2".to_string();
    let affected: Vec<&TestListener> = ls
        .iter()
        .filter(|l| owner[l.id.as_str()] == victim)
        .collect();
    assert!(!affected.is_empty(), "n2 owned no listener: {owner:?}");

    c.nodes[&victim].signal("-KILL");
    drop(c.nodes.remove(&victim));
    let survivors = c.bases();
    for l in &affected {
        let (ids, seq) = &acked[l.id.as_str()];
        let f = normal_feed(&c, &survivors, l, *seq)
            .await
            .unwrap_or_else(|| panic!("{} never got a normal feed after the kill", l.id));
        assert_ne!(f["ranked_by"], victim.as_str());
        assert_eq!(
            f["model"]["training_rows"].as_u64().unwrap(),
            ids.len() as u64,
            "training input of {}",
            l.id
        );
        // And the log holds every acknowledged interaction.
        let log = c.store.read_interactions(&l.id, 0, 1000).await.unwrap();
        for id in ids {
            assert!(
                log.iter().any(|e| e.interaction.id.as_str() == id),
                "{id} acknowledged but not in the log"
            );
        }
    }
    // Unaffected listeners kept their owner's actor and lost nothing either.
    for l in ls.iter().filter(|l| owner[l.id.as_str()] != victim) {
        let f = normal_feed(&c, &survivors, l, acked[l.id.as_str()].1)
            .await
            .expect("unaffected feed");
        assert_eq!(f["ranked_by"].as_str().unwrap(), owner[l.id.as_str()]);
    }
    // The survivors counted the takeovers: each affected listener was activated on a
    // survivor (a view disagreement may activate one twice); nothing else was. A
    // survivor whose view had not caught up when a peer forwarded it a listener counts
    // it once it has, so the sum is waited for.
    let moved = affected.len() as f64;
    let last = std::sync::Mutex::new(0.0);
    let taken_over = poll_until(Duration::from_secs(15), || async {
        let mut sum = 0.0;
        for (_, base) in &survivors {
            let text = c
                .http
                .get(format!("{base}/metrics"))
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            sum += text
                .lines()
                .find_map(|l| l.strip_prefix("spoofify_listeners_taken_over_total "))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
        }
        *last.lock().unwrap() = sum;
        (sum >= moved).then_some(sum)
    })
    .await
    .unwrap_or_else(|| *last.lock().unwrap());
    assert!(
        taken_over >= affected.len() as f64 && taken_over <= 2.0 * affected.len() as f64,
        "{taken_over} takeovers counted for {} listeners moved",
        affected.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_joiner_takes_its_share_and_a_drained_node_fails_no_request() {
    let mut c = TestCluster::start(3).await;
    let ls = c.listeners("sj", 80).await;
    let acked = drive(&c, &ls, 2, "b").await;
    c.add_node("n4").await;
    c.wait_live(4).await;
    let bases = c.bases();
    let mut on_n4 = 0;
    for l in &ls {
        // Every node routes it to the same owner (views settle after the join).
        let f = agreed_feed(&c, &bases, l, acked[l.id.as_str()].1)
            .await
            .expect("a normal feed, ranked by the same node whichever node is asked");
        if f["ranked_by"] == "n4" {
            on_n4 += 1;
        }
    }
    assert!(
        (8..=36).contains(&on_n4),
        "the joiner took {on_n4} of 80 listeners"
    );

    // Drain n4 while a client keeps using the other nodes: nothing may fail.
    let others: Vec<(String, String)> =
        bases.iter().filter(|(id, _)| id != "n4").cloned().collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let http = c.http.clone();
    let load = {
        let (stop, ls, others) = (stop.clone(), ls.clone(), others.clone());
        let songs = c.song_ids().await;
        tokio::spawn(async move {
            let (mut ok, mut failed, mut degraded, mut i) = (0u32, 0u32, 0u32, 0usize);
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let l = &ls[i % ls.len()];
                let base = &others[i % others.len()].1;
                match feed(&http, base, l).await {
                    Some(f) if f["degraded"] == true => {
                        eprintln!("degraded during the drain: {}", f["degraded_reason"]);
                        degraded += 1
                    }
                    Some(_) => ok += 1,
                    None => failed += 1,
                }
                let cid = format!("drain-{i}-abcdefgh");
                match interact(&http, base, l, &cid, &songs[i % songs.len()], "finished").await {
                    Some(_) => ok += 1,
                    None => failed += 1,
                }
                i += 1;
            }
            (ok, failed, degraded)
        })
    };
    let n4 = c.nodes.get_mut("n4").unwrap();
    n4.signal("-TERM");
    let exited = poll_until(Duration::from_secs(20), || {
        let done = n4.child.try_wait().ok().flatten().is_some();
        async move { done.then_some(()) }
    })
    .await;
    assert!(exited.is_some(), "n4 did not exit after SIGTERM");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (ok, failed, degraded) = load.await.unwrap();
    eprintln!("during the drain: {ok} ok, {failed} failed, {degraded} degraded feeds");
    assert_eq!(failed, 0, "requests failed during the drain");
    assert!(ok > 0);
    assert!(
        c.nodes["n4"].log_text().contains("drained"),
        "n4 did not report a drain"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paused_node_past_its_ttl_writes_nothing_when_it_wakes() {
    let c = TestCluster::start(3).await;
    let ls = c.listeners("ps", 30).await;
    let acked = drive(&c, &ls, 2, "c").await;
    let bases = c.bases();
    let mut before: HashMap<String, (String, u64)> = HashMap::new();
    for l in &ls {
        // The owner as every node routes it (see `sigkill_failover`).
        let f = agreed_feed(&c, &bases, l, acked[l.id.as_str()].1)
            .await
            .expect("a normal feed, ranked by the same node whichever node is asked");
        before.insert(
            l.id.to_string(),
            (
                f["ranked_by"].as_str().unwrap().to_owned(),
                f["model"]["epoch"].as_u64().unwrap(),
            ),
        );
    }
    let paused: Vec<&TestListener> = ls
        .iter()
        .filter(|l| before[l.id.as_str()].0 == "n3")
        .collect();
    assert!(!paused.is_empty());

    c.nodes["n3"].signal("-STOP");
    let awake: Vec<(String, String)> = bases.iter().filter(|(id, _)| id != "n3").cloned().collect();
    let songs = c.song_ids().await;
    for (i, l) in paused.iter().enumerate() {
        let seq = acked[l.id.as_str()].1;
        let f = normal_feed(&c, &awake, l, seq)
            .await
            .expect("moved while n3 is paused");
        assert!(f["model"]["epoch"].as_u64().unwrap() > before[l.id.as_str()].1);
        // Enough new entries that the new owner snapshots (snapshot_every = 3).
        for j in 0..4 {
            let cid = format!("pause-{i}-{j}-abcdefgh");
            interact(
                &c.http,
                &awake[j % awake.len()].1,
                l,
                &cid,
                &songs[j % songs.len()],
                "finished",
            )
            .await
            .expect("ack");
        }
    }
    c.nodes["n3"].signal("-CONT");
    let log = poll_until(Duration::from_secs(10), || {
        let t = c.nodes["n3"].log_text();
        async move { t.contains("lease lapsed").then_some(t) }
    })
    .await;
    assert!(log.is_some(), "n3 did not notice its lease lapsed");
    for l in &paused {
        let old_epoch = before[l.id.as_str()].1;
        // The new owner snapshots after its fit of the new entries (a busy machine may
        // take a while); the store fences any write of the woken node, so the snapshot
        // ends up, and stays, with the new owner's epoch.
        let store = c.store.clone();
        let newer = poll_until(Duration::from_secs(20), || {
            let (store, id) = (store.clone(), l.id.clone());
            async move {
                let s = store.snapshot(&id).await.ok()??;
                (s.epoch > old_epoch).then_some(s)
            }
        })
        .await;
        assert!(
            newer.is_some(),
            "no snapshot of {} from the new owner (the paused node's epoch was {old_epoch})",
            l.id
        );
    }
    for l in &paused {
        let old_epoch = before[l.id.as_str()].1;
        let s = c
            .store
            .snapshot(&l.id)
            .await
            .unwrap()
            .expect("the new owner's snapshot");
        assert!(
            s.epoch > old_epoch,
            "a snapshot of {} carries the paused node's epoch {old_epoch}",
            l.id
        );
    }
}
