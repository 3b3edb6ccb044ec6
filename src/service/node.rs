//! One node, wired together: settings → store → HTTP server, then the catalog.
//!
//! The HTTP server starts first so `/healthz` answers at once; the catalog is loaded
//! from the store, or — on first start with an empty catalog — generated from the
//! demo seed on the blocking pool and published in parts: the first part (every album
//! represented) as soon as it is made, at which point `/readyz` turns 200 and the log
//! prints the URL to open, then the rest as it comes, each part saved to the store and
//! swapped in whole. The log draws a progress bar meanwhile and `/readyz` reports it.
//! A first start that was interrupted resumes with the songs it had already made. Listener actors and cluster membership start with the node
//! (`crate::cluster`). One shutdown signal (SIGINT/SIGTERM) first drains the node
//! (announce "draining", hand listeners off with snapshots, deregister) while HTTP
//! still serves, then stops the server gracefully: in-flight requests finish.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::catalog::demo::{self, Parts};
use crate::catalog::generation::Generation;
use crate::catalog::{Catalog, CatalogHandle, Song};
use crate::cluster::Cluster;
use crate::config::Settings;
use crate::http::ratelimit::LoginLimiter;
use crate::http::{self, AppState};
use crate::media::Media;
use crate::store::{self, NodeId};

/// Parts waiting to be saved and published; when the store is slower than that, the
/// generator waits for it rather than queueing whole catalogs in memory.
const PUBLISH_QUEUE: usize = 2;
/// The log shows the progress bar this many times over a whole generation (every 5 %).
const PROGRESS_LINES: usize = 20;

/// A running node's address and handles, for tests and the CLI.
pub struct Node {
    pub addr: SocketAddr,
    pub state: AppState,
}

/// Runs a node until SIGINT or SIGTERM: builds the async runtime, starts the node,
/// serves and drains — `spoofify serve`. Synchronous on purpose: the binary then calls
/// no async code of this crate, so its build does not compile the node's futures a
/// second time (README, "Build time").
pub fn run(settings: Settings) -> anyhow::Result<()> {
    let rt = runtime()?;
    let served = rt.block_on(async {
        let (node, listener) = start(settings).await?;
        serve(node, listener, shutdown_signal()).await
    });
    // The node has drained. A first start's demo generation may still be running on
    // the blocking pool: leave it (the parts saved so far are kept, and the next start
    // resumes from them) rather than wait minutes for it to finish.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    served
}

/// The multi-threaded async runtime the commands run on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Binds the HTTP listener and builds the state; the caller drives [`serve`].
pub async fn start(settings: Settings) -> anyhow::Result<(Node, TcpListener)> {
    let node_id = NodeId::parse(&settings.node_id())
        .with_context(|| format!("node id {:?}", settings.node_id()))?;
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data dir {}", settings.data_dir.display()))?;
    if settings.metrics.enabled {
        crate::telemetry::metrics::install()?;
    }
    let store = store::open(&settings).await.context("opening the store")?;
    let listener = TcpListener::bind(&settings.http)
        .await
        .with_context(|| format!("binding HTTP to {}", settings.http))?;
    let addr = listener.local_addr()?;
    let catalog = CatalogHandle::default();
    let cluster = Cluster::start(
        &settings,
        node_id.clone(),
        addr.to_string(),
        store.clone(),
        catalog.clone(),
    )
    .await
    .context("starting listener actors and cluster membership")?;
    let state = AppState {
        cluster,
        limits: Arc::new(LoginLimiter::new(
            &settings.accounts,
            settings.http_limits.interactions_per_minute,
        )),
        media: Media::new(&settings.data_dir),
        settings: Arc::new(settings),
        node_id,
        store,
        catalog,
    };
    Ok((Node { addr, state }, listener))
}

/// Serves until `shutdown` resolves, loading the catalog in the background.
pub async fn serve(
    node: Node,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = node.state.clone();
    let url = open_url(node.addr);
    tokio::spawn(async move {
        if let Err(e) = load_catalog(&state, &url).await {
            tracing::error!(
                error = format!("{e:#}"),
                "catalog could not be loaded; /readyz stays 503"
            );
        }
    });
    tracing::info!(addr = %node.addr, node = %node.state.node_id, store = node.state.store.kind(), "serving");
    let cluster = node.state.cluster.clone();
    let drain = cluster.clone();
    // On the signal, drain first (hand listeners off while still serving), then stop HTTP.
    let shutdown = async move {
        shutdown.await;
        drain.drain().await;
    };
    let open_files = http::serve::raise_open_file_limit();
    let limits = http::serve::Limits::new(&node.state.settings.http_limits, open_files);
    tracing::info!(
        max_connections = limits.max_connections,
        open_files,
        "HTTP connection limits"
    );
    let app = http::router(node.state);
    let served = http::serve::serve(listener, app, limits, shutdown)
        .await
        .context("HTTP server");
    cluster.shutdown();
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// The address a person opens: a wildcard bind is reached on loopback.
fn open_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Loads the catalog from the store; generates the demo catalog when the store has none
/// (or has an interrupted first start's part of it).
async fn load_catalog(state: &AppState, url: &str) -> anyhow::Result<()> {
    let stored = state.store.catalog().await.context("reading the catalog")?;
    let settings = &state.settings;
    let (n, seed) = (settings.catalog.demo_songs, settings.catalog.demo_seed);
    let made = if stored.is_empty() {
        Some(Vec::new())
    } else {
        demo::resumable(&settings.data_dir, n, seed, &stored)
    };
    match made {
        Some(made) if made.len() < n => generate_demo(state, made, url).await,
        _ => {
            publish(state, stored, Some(url));
            Ok(())
        }
    }
}

/// Generates the demo catalog (the songs not in `made`) on the blocking pool, saving and
/// publishing it part by part.
async fn generate_demo(state: &AppState, made: Vec<Song>, url: &str) -> anyhow::Result<()> {
    let settings = &state.settings;
    let (dir, n, seed) = (
        settings.data_dir.clone(),
        settings.catalog.demo_songs,
        settings.catalog.demo_seed,
    );
    if made.is_empty() {
        tracing::info!(
            songs = n,
            seed,
            "empty catalog: generating the demo catalog"
        );
    } else {
        tracing::info!(
            songs = n,
            seed,
            made = made.len(),
            "resuming the demo catalog's generation"
        );
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Song>>(PUBLISH_QUEUE);
    let handle = state.catalog.clone();
    let started = std::time::Instant::now();
    let task = tokio::task::spawn_blocking(move || {
        let every = (n / PROGRESS_LINES).max(1);
        let progress = |done: usize, total: usize| {
            let generation = Generation {
                done,
                total,
                elapsed: started.elapsed(),
                failed: false,
            };
            handle.set_generation(generation);
            if done.is_multiple_of(every) || done == total {
                tracing::info!("demo catalog {generation}");
            }
        };
        // A closed channel means the node is going away: nothing left to publish to.
        let mut publish = |songs: &[Song]| {
            let _ = tx.blocking_send(songs.to_vec());
        };
        demo::generate_parts(
            &dir,
            n,
            seed,
            made,
            Parts::FIRST_START,
            &progress,
            &mut publish,
        )
    });
    let mut url = Some(url);
    while let Some(songs) = rx.recv().await {
        // The store keeps each part, so a restart resumes rather than starting over.
        if let Err(e) = state.store.put_catalog(&songs).await {
            tracing::error!(
                error = format!("{e:#}"),
                "could not save the demo catalog; serving it from memory"
            );
        }
        publish(state, songs, url.take());
    }
    let outcome = task.await.context("demo generation task")?;
    let mut generation = state.catalog.generation();
    match outcome {
        Ok(songs) => {
            tracing::info!(
                songs = songs.len(),
                secs = started.elapsed().as_secs_f32(),
                "demo catalog generated"
            );
            Ok(())
        }
        Err(e) => {
            if let Some(g) = generation.as_mut() {
                g.failed = true;
                state.catalog.set_generation(*g);
            }
            Err(e).context("generating the demo catalog (the songs made so far are served)")
        }
    }
}

/// Swaps in a new catalog made of `songs`; with `url`, announces that the node is ready.
fn publish(state: &AppState, songs: Vec<Song>, url: Option<&str>) {
    let catalog = Arc::new(Catalog::new(songs));
    let (songs, genres) = (catalog.len(), catalog.genres().len());
    let (artists, albums) = (catalog.artist_count(), catalog.album_count());
    state.catalog.set(catalog);
    match url {
        Some(url) => tracing::info!(songs, genres, artists, albums, "catalog ready: open {url}"),
        None => tracing::info!(songs, genres, artists, albums, "catalog grew"),
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}
