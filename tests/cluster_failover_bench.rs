//! The failover benchmark (a measurement, not a pass/fail timing test; `#[ignore]`d
//! so CI does not run it): 3 node processes on a private Redis, ≥ 1000 listeners
//! with a few interactions each and active actors; SIGKILL the node owning the most,
//! then poll every affected listener's feed through the survivors and print the time
//! from the kill to its first normal (not degraded) feed — p50 and p99 — the
//! activation rate during recovery, and resident memory per active listener.
//!
//! The activation rate is per surviving node, over that node's recovery window: the
//! affected listeners it served (a first normal feed ranked by it) divided by the time
//! from the first to the last of them. Next to it, from the node itself: its own
//! activation count and mean activation time (`spoofify_actors_activated_total`,
//! `spoofify_listener_activation_seconds`) and its CPU time over the recovery (from
//! `/proc`), i.e. CPU per takeover — the figure that holds when the machine is shared.
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

/// User + system CPU seconds of a process so far (`/proc/<pid>/stat`, USER_HZ = 100).
fn cpu_secs(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            // After the command: state is field 3, utime 14, stime 15 (1-based).
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Every series of a node's `/metrics` (name with labels → value).
async fn scrape(http: &reqwest::Client, base: &str) -> HashMap<String, f64> {
    let text = match http.get(format!("{base}/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_owned(), v.trim().parse::<f64>().ok()?))
        })
        .collect()
}

/// How much a series grew between two scrapes.
fn grew(before: &HashMap<String, f64>, after: &HashMap<String, f64>, key: &str) -> f64 {
    after.get(key).copied().unwrap_or(0.0) - before.get(key).copied().unwrap_or(0.0)
}

/// Count and mean (ms) of a histogram's observations between two scrapes; `labels`
/// as the exposition writes them (`{op="x"}`), or empty.
fn step(
    before: &HashMap<String, f64>,
    after: &HashMap<String, f64>,
    name: &str,
    labels: &str,
) -> String {
    let n = grew(before, after, &format!("{name}_count{labels}"));
    let sum = grew(before, after, &format!("{name}_sum{labels}"));
    format!("{n:.0} x {:.2} ms", 1e3 * sum / n.max(1.0))
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
    let survivor_procs: Vec<(String, String, u32)> = c
        .nodes
        .values()
        .filter(|p| p.id != victim)
        .map(|p| (p.id.clone(), p.base.clone(), p.child.id()))
        .collect();
    let mut before = HashMap::new();
    for (id, base, pid) in &survivor_procs {
        before.insert(id.clone(), (cpu_secs(*pid), scrape(&http, base).await));
    }
    let pids: Vec<String> = survivor_procs.iter().map(|p| p.2.to_string()).collect();
    println!(
        "survivor pids {}; load average before the kill: {}",
        pids.join(","),
        loadavg()
    );
    c.nodes[&victim].signal("-KILL");
    let t0 = Instant::now();
    drop(c.nodes.remove(&victim));
    let survivors = Arc::new(c.bases());
    // Per affected listener: when its first normal feed came and which node ranked it.
    let times: Vec<Option<(f64, String)>> = stream::iter(affected.iter().cloned().enumerate())
        .map(|(i, l)| {
            let (http, survivors, victim) = (http.clone(), survivors.clone(), victim.clone());
            async move {
                let deadline = Duration::from_secs(60);
                loop {
                    let base = &survivors[i % survivors.len()].1;
                    if let Some(f) = feed(&http, base, &l).await {
                        if f["degraded"] == false && f["ranked_by"] != victim.as_str() {
                            let by = f["ranked_by"].as_str().unwrap_or("?").to_owned();
                            return Some((t0.elapsed().as_secs_f64(), by));
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
    let mut after = HashMap::new();
    for (id, base, pid) in &survivor_procs {
        after.insert(id.clone(), (cpu_secs(*pid), scrape(&http, base).await));
    }
    let load_after = loadavg();
    let mut ok: Vec<f64> = times.iter().flatten().map(|(t, _)| *t).collect();
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
        "all survivors: {} first normal feeds in {:.3}s (first to last) = {:.0}/s over {} survivors",
        ok.len(),
        last - first,
        ok.len() as f64 / (last - first).max(1e-3),
        survivors.len()
    );
    for (id, _, _) in &survivor_procs {
        let mut mine: Vec<f64> = times
            .iter()
            .flatten()
            .filter(|(_, by)| by == id)
            .map(|(t, _)| *t)
            .collect();
        mine.sort_by(f64::total_cmp);
        let (Some(&a), Some(&b)) = (mine.first(), mine.last()) else {
            println!("node {id}: served none of the affected listeners");
            continue;
        };
        let (cpu0, m0) = &before[id];
        let (cpu1, m1) = &after[id];
        let activations = grew(m0, m1, "spoofify_listener_activation_seconds_count");
        let activation_sum = grew(m0, m1, "spoofify_listener_activation_seconds_sum");
        let taken = grew(m0, m1, "spoofify_listeners_taken_over_total");
        let cpu = cpu1 - cpu0;
        println!(
            "node {id}: {} takeovers served in {:.3}s ({:.3}s..{:.3}s after the kill) = {:.0} activations/s per node; \
             its own count: {activations:.0} activations ({:.0} takeovers), mean activation {:.2} ms; \
             CPU {cpu:.2}s over the recovery = {:.3} ms per activation ({:.0}/s per core)",
            mine.len(),
            b - a,
            a,
            b,
            mine.len() as f64 / (b - a).max(1e-3),
            taken,
            1e3 * activation_sum / activations.max(1.0),
            1e3 * cpu / activations.max(1.0),
            activations / cpu.max(1e-3),
        );
        // Where an activation's time went, from the node's own histograms.
        let store = "spoofify_store_operation_seconds";
        let backend = m1
            .keys()
            .find_map(|k| {
                k.strip_prefix(&format!("{store}_count{{backend=\""))?
                    .split('"')
                    .next()
            })
            .unwrap_or("redis")
            .to_owned();
        let ops: Vec<String> = [
            "activate",
            "acquire_epoch",
            "account",
            "snapshot",
            "read_interactions",
            "put_snapshot",
            "live_nodes",
        ]
        .iter()
        .map(|op| {
            let labels = format!("{{backend=\"{backend}\",op=\"{op}\"}}");
            format!("{op} {}", step(m0, m1, store, &labels))
        })
        .collect();
        let kinds: Vec<String> = ["personal", "cold", "degraded"]
            .iter()
            .map(|k| {
                let key = format!("spoofify_feeds_served_total{{kind=\"{k}\"}}");
                format!("{k} {:.0}", grew(m0, m1, &key))
            })
            .collect();
        println!(
            "  node {id} steps: store {}; model fit {}; forwarded feeds {}; feeds served {}",
            ops.join(", "),
            step(m0, m1, "spoofify_model_fit_seconds", ""),
            step(m0, m1, "spoofify_forward_seconds", "{op=\"feed\"}"),
            kinds.join(", "),
        );
    }
    println!("load average after the recovery: {load_after}");
    assert_eq!(unserved, 0, "some listeners were never served again");
}
