//! The failover benchmark (a measurement, not a pass/fail timing test; `#[ignore]`d
//! so CI does not run it): 3 node processes on a private Redis, ≥ 1000 listeners
//! with a few interactions each and active actors; SIGKILL the node owning the most,
//! then poll every affected listener's feed through the survivors and print the time
//! from the kill to its first normal (not degraded) feed — p50 and p99 — the
//! activation rate during recovery, and resident memory per active listener.
//!
//!   scripts/bench-failover            (release build; LISTENERS=2000 to change the count)

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use support::cluster::*;

/// Requests in flight from the benchmark client: enough to keep 3 nodes busy on a
/// 2-core box without measuring the client's own queueing.
const CONCURRENCY: usize = 64;
/// Pause between polls of one affected listener's feed.
const POLL: Duration = Duration::from_millis(20);

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark: run with scripts/bench-failover"]
async fn failover_benchmark() {
    let n: usize = std::env::var("LISTENERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1200);
    let mut c = TestCluster::start(3).await;
    let ls = c.listeners("bench", n).await;
    let songs = Arc::new(c.song_ids().await);
    let bases = Arc::new(c.bases());
    let rss_before: HashMap<String, u64> = c
        .nodes
        .values()
        .map(|p| (p.id.clone(), rss_kb(p.child.id())))
        .collect();

    // Three interactions each, then a feed each (activates every actor).
    let http = c.http.clone();
    let started = Instant::now();
    let owners: Vec<(TestListener, Option<String>)> = stream::iter(ls.iter().cloned().enumerate())
        .map(|(i, l)| {
            let (http, songs, bases) = (http.clone(), songs.clone(), bases.clone());
            async move {
                for j in 0..3 {
                    let base = &bases[(i + j) % bases.len()].1;
                    let cid = format!("bench-{i}-{j}-abcdefgh");
                    interact(
                        &http,
                        base,
                        &l,
                        &cid,
                        &songs[(i * 7 + j) % songs.len()],
                        "finished",
                    )
                    .await;
                }
                let f = feed(&http, &bases[i % bases.len()].1, &l).await;
                let owner = f.and_then(|f| f["ranked_by"].as_str().map(str::to_owned));
                (l, owner)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let warm_secs = started.elapsed().as_secs_f64();
    let mut per_node: HashMap<String, usize> = HashMap::new();
    for (_, o) in &owners {
        *per_node
            .entry(o.clone().unwrap_or_else(|| "degraded".into()))
            .or_default() += 1;
    }
    println!("warm-up: {n} listeners x (3 interactions + 1 feed) in {warm_secs:.1}s; owners {per_node:?}");
    for p in c.nodes.values() {
        let grown = rss_kb(p.child.id()).saturating_sub(rss_before[&p.id]);
        let active = per_node.get(&p.id).copied().unwrap_or(0).max(1);
        println!(
            "memory {}: +{} KB RSS for {active} active listeners = {:.1} KB per listener",
            p.id,
            grown,
            grown as f64 / active as f64
        );
    }

    let victim = per_node
        .iter()
        .filter(|(k, _)| k.starts_with('n'))
        .max_by_key(|(_, v)| **v)
        .map(|(k, _)| k.clone())
        .expect("an owner");
    let affected: Vec<TestListener> = owners
        .iter()
        .filter(|(_, o)| o.as_deref() == Some(victim.as_str()))
        .map(|(l, _)| l.clone())
        .collect();
    c.nodes[&victim].signal("-KILL");
    let t0 = Instant::now();
    drop(c.nodes.remove(&victim));
    let survivors = Arc::new(c.bases());
    let times: Vec<Option<f64>> = stream::iter(affected.iter().cloned().enumerate())
        .map(|(i, l)| {
            let (http, survivors, victim) = (http.clone(), survivors.clone(), victim.clone());
            async move {
                let deadline = Duration::from_secs(60);
                loop {
                    let base = &survivors[i % survivors.len()].1;
                    if let Some(f) = feed(&http, base, &l).await {
                        if f["degraded"] == false && f["ranked_by"] != victim.as_str() {
                            return Some(t0.elapsed().as_secs_f64());
                        }
                    }
                    if t0.elapsed() > deadline {
                        return None;
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        })
        .buffer_unordered(affected.len().max(1))
        .collect()
        .await;
    let mut ok: Vec<f64> = times.iter().flatten().copied().collect();
    ok.sort_by(f64::total_cmp);
    let unserved = times.len() - ok.len();
    let first = ok.first().copied().unwrap_or(f64::NAN);
    let last = ok.last().copied().unwrap_or(f64::NAN);
    println!(
        "failover: killed {victim} owning {} listeners; SIGKILL -> first normal feed p50 {:.3}s p99 {:.3}s max {:.3}s; {unserved} never served",
        affected.len(),
        pct(&ok, 0.5),
        pct(&ok, 0.99),
        last
    );
    println!(
        "activations during recovery: {} in {:.3}s (first to last) = {:.0}/s over {} survivors",
        ok.len(),
        last - first,
        ok.len() as f64 / (last - first).max(1e-3),
        survivors.len()
    );
    assert_eq!(unserved, 0, "some listeners were never served again");
}
