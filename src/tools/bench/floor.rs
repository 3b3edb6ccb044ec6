//! `spoofify bench floor`: a bare axum server answering a constant JSON body — the
//! floor `scripts/bench` compares Spoofify's hot paths with (same machine, same run,
//! same load generator). No middleware, no state, no store: only what any axum
//! service pays per request.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(clap::Args, Debug)]
pub struct FloorArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8099")]
    pub addr: String,
}

async fn constant() -> Json<Value> {
    Json(
        json!({"items": [{"song": {"id": "floor-0001", "title": "Floor"}, "score": 1.0}], "degraded": false}),
    )
}

/// Serves until the process is stopped.
pub fn run(args: &FloorArgs) -> anyhow::Result<()> {
    spoofify_service::node::runtime()?.block_on(serve(args))
}

async fn serve(args: &FloorArgs) -> anyhow::Result<()> {
    let app = Router::new().route("/", get(constant));
    let listener = tokio::net::TcpListener::bind(&args.addr).await?;
    eprintln!(
        "bench floor: serving a constant on http://{}/",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
