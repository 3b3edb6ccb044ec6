//! `spoofify bench store`: durable appends on every state tier, side by side in one
//! run. Appends (`Store::append_interaction`, the write every interaction is) from many
//! concurrent writers over many listeners, for a fixed time, on: the embedded store
//! with group commit (as a node runs it) and with one fsync per append (as before
//! group commit); one redis-server; one with a replica and `durability =
//! "replicated"`; a Redis Cluster (3 masters + 3 replicas) with "local"; the same with
//! "replicated". Every server runs AOF `appendfsync always`. Prints appends/s, p50 and
//! p99 side by side. This is the store alone (no HTTP, no actors).

use std::sync::Arc;
use std::time::{Duration, Instant};

use spoofify_service::config::Durability;
use spoofify_service::store::embedded::EmbeddedStore;
use spoofify_service::store::redis::{RedisStore, RedisTarget};
use spoofify_service::store::redis_cluster_process::{ClusterOptions, RedisCluster};
use spoofify_service::store::redis_process::{Fsync, RedisOptions, RedisProcess};
use spoofify_service::store::*;

#[derive(Debug, Clone, clap::Args)]
pub struct StoreBenchArgs {
    /// Seconds of appends per configuration.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Concurrent writers.
    #[arg(long, default_value_t = 64)]
    pub writers: usize,
    /// Listeners the appends are spread over.
    #[arg(long, default_value_t = 200)]
    pub listeners: usize,
    /// How long "replicated" waits for a replica (ms).
    #[arg(long, default_value_t = 500)]
    pub durability_timeout_ms: u64,
}

/// One configuration's figures.
#[derive(Debug, Clone)]
pub struct StoreBenchRow {
    pub name: &'static str,
    pub appends_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub failed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreBenchError {
    #[error(transparent)]
    Process(#[from] spoofify_service::store::redis_process::RedisProcessError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("replica never came online: {0}")]
    Replica(String),
}

async fn measure(
    name: &'static str,
    store: SharedStore,
    args: &StoreBenchArgs,
) -> Result<StoreBenchRow, StoreBenchError> {
    // Client ids unique per configuration (the cluster rows share one cluster).
    let run = name.len() * 1000 + usize::from(name.contains("replicated"));
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..args.writers.max(1) {
        let store = store.clone();
        let listeners = args.listeners.max(1);
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut failed, mut n) = (Vec::new(), 0usize, 0usize);
            while Instant::now() < until {
                let l = ListenerId::parse(&format!("bench-{}", (w + n * 7919) % listeners));
                let id = ClientId::parse(&format!("bench-{run}-{w}-{n}"));
                let song = spoofify_service::catalog::SongId::parse("bench-song");
                let (Ok(l), Ok(id), Ok(song_id)) = (l, id, song) else {
                    failed += 1;
                    break;
                };
                let i = Interaction {
                    id,
                    song_id,
                    kind: InteractionKind::Finished,
                    position_ms: 1000,
                    at_ms: now_ms(),
                };
                let t = Instant::now();
                match store.append_interaction(&l, &i).await {
                    Ok(_) => lat.push(t.elapsed()),
                    Err(_) => failed += 1,
                }
                n += 1;
            }
            (lat, failed)
        }));
    }
    let (mut lat, mut failed) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((l, f)) = t.await {
            lat.extend(l);
            failed += f;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(StoreBenchRow {
        name,
        appends_per_s: lat.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        failed,
    })
}

fn wait_replica_online(master: u16) -> Result<(), StoreBenchError> {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let out = std::process::Command::new(
            spoofify_service::store::redis_cluster_process::REDIS_CLI_BIN,
        )
        .args(["-p", &master.to_string(), "INFO", "replication"])
        .output()
        .map_err(|e| StoreBenchError::Replica(e.to_string()))?;
        if String::from_utf8_lossy(&out.stdout).contains("state=online") {
            return Ok(());
        }
        if Instant::now() > until {
            return Err(StoreBenchError::Replica(format!("master on port {master}")));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs every configuration in turn and returns their figures.
pub async fn bench(args: &StoreBenchArgs) -> Result<Vec<StoreBenchRow>, StoreBenchError> {
    let timeout = Duration::from_millis(args.durability_timeout_ms);
    let mut rows = Vec::new();

    let dir = std::env::temp_dir().join(format!("spoofify-bench-store-{}", std::process::id()));
    let grouped = EmbeddedStore::open(&dir.join("grouped.redb")).await?;
    rows.push(measure("embedded, group commit", Arc::new(grouped), args).await?);
    let single = EmbeddedStore::open_without_group_commit(&dir.join("single.redb")).await?;
    rows.push(measure("embedded, one fsync per append", Arc::new(single), args).await?);
    let _ = std::fs::remove_dir_all(&dir);

    let master = RedisProcess::start_temp(Fsync::Always)?;
    let target = RedisTarget::Server(master.url());
    let store = RedisStore::connect_to(&target, Durability::Local, timeout).await?;
    rows.push(measure("1 redis, local", Arc::new(store), args).await?);
    let replica = RedisProcess::start(RedisOptions {
        extra_args: vec![
            "--replicaof".into(),
            "127.0.0.1".into(),
            master.port().to_string(),
        ],
        ..RedisOptions::default()
    })?;
    wait_replica_online(master.port())?;
    let store = RedisStore::connect_to(&target, Durability::Replicated, timeout).await?;
    rows.push(measure("1 redis + replica, replicated", Arc::new(store), args).await?);
    drop((replica, master));

    let cluster = RedisCluster::start(ClusterOptions::default())?;
    let target = RedisTarget::Cluster(cluster.seeds());
    let store = RedisStore::connect_to(&target, Durability::Local, timeout).await?;
    rows.push(measure("cluster 3+3, local", Arc::new(store), args).await?);
    let store = RedisStore::connect_to(&target, Durability::Replicated, timeout).await?;
    rows.push(measure("cluster 3+3, replicated", Arc::new(store), args).await?);
    Ok(rows)
}

/// `spoofify bench store`: runs [`bench`] and prints the table.
pub fn run(args: &StoreBenchArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let rows = rt.block_on(bench(args))?;
    println!(
        "appends for {} s, {} writers over {} listeners, AOF appendfsync always",
        args.seconds, args.writers, args.listeners
    );
    println!(
        "{:<32} {:>10} {:>9} {:>9} {:>7}",
        "configuration", "appends/s", "p50 ms", "p99 ms", "failed"
    );
    for r in rows {
        println!(
            "{:<32} {:>10.0} {:>9.2} {:>9.2} {:>7}",
            r.name, r.appends_per_s, r.p50_ms, r.p99_ms, r.failed
        );
    }
    Ok(())
}
