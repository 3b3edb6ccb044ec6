//! `spoofify bench appends`: durable interaction appends straight to the store, side by
//! side in one run — the embedded store with group commit (as a node runs it), the
//! embedded store with one fsync per write (as it was before), and a private Redis with
//! `appendfsync always` — at the same number of concurrent clients, each appending to
//! its own listener's log. Prints appends/s, p50 and p99 per backend and the ratios.
//!
//! This measures the store alone (no HTTP, no actors): what the durable path can do on
//! this disk. `scripts/bench` measures `POST /api/interactions` end to end.

use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use spoofify_service::catalog::SongId;
use spoofify_service::store::embedded::EmbeddedStore;
use spoofify_service::store::redis::RedisStore;
use spoofify_service::store::redis_process::{Fsync, RedisProcess};
use spoofify_service::store::{
    now_ms, ClientId, Interaction, InteractionKind, ListenerId, SharedStore,
};

#[derive(clap::Args, Debug)]
pub struct AppendsArgs {
    /// Concurrent clients, each appending to its own listener.
    #[arg(long, default_value_t = 50)]
    pub clients: usize,
    /// Seconds each backend is measured.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Skip the Redis run (no `redis-server` on this machine).
    #[arg(long)]
    pub no_redis: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One backend's figures.
#[derive(Debug, Serialize)]
pub struct AppendFigures {
    pub backend: &'static str,
    pub appends: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub fn run(args: &AppendsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.clients > 0 && args.seconds > 0,
        "clients and seconds must be > 0"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let figures = rt.block_on(measure_all(args))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
        return Ok(());
    }
    println!(
        "spoofify bench appends: {} clients, {} s per backend, each append durable before it returns",
        args.clients, args.seconds
    );
    println!(
        "{:<34} {:>10} {:>10} {:>10} {:>12}",
        "backend", "appends/s", "p50 ms", "p99 ms", "vs 1 fsync"
    );
    let base = figures
        .iter()
        .find(|f| f.backend == UNBATCHED)
        .map(|f| f.per_second)
        .unwrap_or(f64::NAN);
    for f in &figures {
        println!(
            "{:<34} {:>10.0} {:>10.2} {:>10.2} {:>11.1}x",
            f.backend,
            f.per_second,
            f.p50_ms,
            f.p99_ms,
            f.per_second / base
        );
    }
    Ok(())
}

const GROUPED: &str = "embedded, group commit";
const UNBATCHED: &str = "embedded, one fsync per append";
const REDIS: &str = "redis, appendfsync always";

async fn measure_all(args: &AppendsArgs) -> anyhow::Result<Vec<AppendFigures>> {
    let dir = std::env::temp_dir().join(format!("spoofify-bench-appends-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut out = Vec::new();
    let grouped: SharedStore = Arc::new(EmbeddedStore::open(&dir.join("grouped.redb")).await?);
    out.push(measure(GROUPED, grouped, args).await?);
    let unbatched: SharedStore =
        Arc::new(EmbeddedStore::open_without_group_commit(&dir.join("unbatched.redb")).await?);
    out.push(measure(UNBATCHED, unbatched, args).await?);
    if !args.no_redis {
        let redis = RedisProcess::start_temp(Fsync::Always)?;
        let store: SharedStore = Arc::new(RedisStore::connect(&redis.url()).await?);
        out.push(measure(REDIS, store, args).await?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(out)
}

/// `clients` tasks append for `args.seconds`; latencies of every append.
async fn measure(
    backend: &'static str,
    store: SharedStore,
    args: &AppendsArgs,
) -> anyhow::Result<AppendFigures> {
    let run = Duration::from_secs(args.seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.clients)
        .map(|c| {
            let store = store.clone();
            tokio::spawn(async move {
                let listener = ListenerId::parse(&format!("bench-{c:05}"))?;
                let song = SongId::parse("demo-0001")?;
                let mut latencies = Vec::new();
                let mut n = 0u64;
                while started.elapsed() < run {
                    n += 1;
                    let it = Interaction {
                        id: ClientId::parse(&format!("b{c:05}-{n:09}"))?,
                        song_id: song.clone(),
                        kind: InteractionKind::Finished,
                        position_ms: 180_000,
                        at_ms: now_ms(),
                    };
                    let t = Instant::now();
                    store.append_interaction(&listener, &it).await?;
                    latencies.push(t.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(AppendFigures {
        backend,
        appends: all.len(),
        per_second: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}
