//! One node, wired together: settings → store → HTTP server, then the catalog.
//!
//! The HTTP server starts first so `/healthz` answers at once; the catalog is loaded
//! from the store, or — on first start with an empty catalog — generated from the
//! demo seed on the blocking pool, saved, and then published, at which point
//! `/readyz` turns 200. Listener actors and cluster membership start with the node
//! (`crate::cluster`). One shutdown signal (SIGINT/SIGTERM) first drains the node
//! (announce "draining", hand listeners off with snapshots, deregister) while HTTP
//! still serves, then stops the server gracefully: in-flight requests finish.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::catalog::CatalogHandle;
use crate::catalog::{demo, Catalog};
use crate::cluster::Cluster;
use crate::config::Settings;
use crate::http::ratelimit::LoginLimiter;
use crate::http::{self, AppState};
use crate::media::Media;
use crate::store::{self, NodeId, SharedStore};

/// A running node's address and handles, for tests and the CLI.
pub struct Node {
    pub addr: SocketAddr,
    pub state: AppState,
}

/// Binds the HTTP listener and builds the state; the caller drives [`serve`].
pub async fn start(settings: Settings) -> anyhow::Result<(Node, TcpListener)> {
    let node_id = NodeId::parse(&settings.node_id())
        .with_context(|| format!("node id {:?}", settings.node_id()))?;
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data dir {}", settings.data_dir.display()))?;
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
        limits: Arc::new(LoginLimiter::new(&settings.accounts)),
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
    tokio::spawn(async move {
        if let Err(e) = load_catalog(&state).await {
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
    // Connection info gives handlers the client's address (login throttling per address).
    let app = http::router(node.state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("HTTP server");
    cluster.shutdown();
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Loads the catalog from the store, generating the demo catalog first if it is empty.
async fn load_catalog(state: &AppState) -> anyhow::Result<()> {
    let mut songs = state.store.catalog().await.context("reading the catalog")?;
    if songs.is_empty() {
        songs = generate_demo(&state.settings, &state.store).await?;
    }
    let catalog = Arc::new(Catalog::new(songs));
    tracing::info!(
        songs = catalog.len(),
        genres = catalog.genres().len(),
        "catalog ready"
    );
    state.catalog.set(catalog);
    Ok(())
}

async fn generate_demo(
    settings: &Settings,
    store: &SharedStore,
) -> anyhow::Result<Vec<crate::catalog::Song>> {
    let (dir, n, seed) = (
        settings.data_dir.clone(),
        settings.catalog.demo_songs,
        settings.catalog.demo_seed,
    );
    tracing::info!(
        songs = n,
        seed,
        "empty catalog: generating the demo catalog"
    );
    let started = std::time::Instant::now();
    let songs = tokio::task::spawn_blocking(move || {
        let progress = |done: usize, total: usize| {
            if done.is_multiple_of(20) || done == total {
                tracing::info!(done, total, "generating demo catalog");
            }
        };
        demo::generate(&dir, n, seed, &progress)
    })
    .await
    .context("demo generation task")??;
    tracing::info!(
        songs = songs.len(),
        secs = started.elapsed().as_secs_f32(),
        "demo catalog generated"
    );
    store
        .put_catalog(&songs)
        .await
        .context("saving the catalog")?;
    Ok(songs)
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
