//! The operator page (`#/ops`) in a real headless Chromium against a real node: an
//! admin finds it from a nav link (shown to admins only) and sees the node up since its
//! start with its listener actors, the placement line and live charts that move with
//! the traffic; a listener who is no admin has no such link, is told the page is for
//! operators when they go there anyway, and `/api/ops` refuses them. Screenshots go under
//! `test-artifacts/screenshots/ops/`.

mod support;

use serde_json::json;
use support::app::{self, Api};
use support::browser::{self as driver, Browser};

const PASSWORD: &str = "operators only please";
const ADMIN: &str = "opsadmin";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ops_page_shows_nodes_and_live_charts_to_admins_only() {
    let node = app::start_app(app::TestCatalog::Synthetic, |s| {
        s.admins = vec![ADMIN.into()];
    });
    let base = node.base.clone();

    // The API first: no credential, a plain listener, an admin.
    let anon = reqwest::get(format!("{base}/api/ops")).await.expect("GET");
    assert_eq!(anon.status(), 401);
    let (mut listener, _) = Api::onboarded(&base, "opsuser").await;
    assert_eq!(listener.get("/api/ops").await.status, 403);

    // Traffic while the page is open: feeds and interactions from a few listeners.
    let traffic_base = base.clone();
    let traffic = tokio::spawn(async move {
        let mut apis = Vec::new();
        for i in 0..3 {
            apis.push(
                Api::onboarded(&traffic_base, &format!("opsload{i}"))
                    .await
                    .0,
            );
        }
        for round in 0u32.. {
            for (i, api) in apis.iter_mut().enumerate() {
                let feed = api.get("/api/feed?limit=3").await;
                if let Some(song) = feed.body["items"][0]["song"]["id"].as_str() {
                    let _ = api
                        .post(
                            "/api/interactions",
                            json!({"id": format!("ops-{i}-{round:06}"), "song_id": song, "kind": "skipped", "position_ms": 1000}),
                        )
                        .await;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });

    let browser = Browser::start("ops", 1280, 900).await;
    browser.run(move |b| Box::pin(ops_page(b, base))).await;
    traffic.abort();
    eprintln!(
        "screenshots: {}",
        driver::screenshot_dir().join("ops").display()
    );
}

/// Signs up and onboards, then waits for the feed.
async fn sign_up_and_onboard(b: &mut Browser, username: &str) {
    driver::sign_up_and_onboard(b, username, PASSWORD).await;
    b.until("the feed", "return document.getElementById('feed')")
        .await;
}

async fn ops_page(b: &mut Browser, base: String) {
    // A plain listener first: told the page is for operators.
    b.goto(&base).await;
    sign_up_and_onboard(b, &app::unique_name("opsplain")).await;
    let link = b
        .js(
            "const li = document.getElementById('nav-ops-item'); return !!li && li.hidden && li.offsetParent === null;",
            vec![],
        )
        .await;
    assert_eq!(link, json!(true), "a plain listener sees no operator link");
    b.js("location.hash = '#/ops'; return true;", vec![]).await;
    b.until(
        "the operators-only notice",
        "return document.querySelector('#ops')?.textContent.includes('Operators only')",
    )
    .await;
    b.shot("not-an-admin").await;

    // Sign out, then up as the admin.
    b.click("#logout").await;
    b.until(
        "the sign-in page",
        "return document.getElementById('to-signup')",
    )
    .await;
    sign_up_and_onboard(b, ADMIN).await;
    b.until(
        "the operator link in the nav",
        "const li = document.getElementById('nav-ops-item'); return !!li && !li.hidden && li.offsetParent !== null;",
    )
    .await;
    b.click("#nav-ops").await;
    let row = b
        .until(
            "this node listed as up",
            "const r = document.querySelector('#ops-nodes tbody tr'); return r && r.dataset.state === 'up' && r.textContent",
        )
        .await;
    assert!(row.as_str().unwrap_or("").contains("(this node)"), "{row}");
    b.until(
        "the placement line",
        "return document.getElementById('ops-placement')?.textContent.includes('busiest / mean')",
    )
    .await;
    b.until(
        "no failover yet",
        "return document.getElementById('ops-failovers')?.textContent.includes('No failover')",
    )
    .await;
    // The charts fill and show traffic (the page polls every 2 s, a sample a second).
    b.until_within(
        "charts with several samples and traffic",
        "const f = document.getElementById('ops-chart-rate'); const i = document.getElementById('ops-chart-interactions'); \
         return f && Number(f.dataset.points) >= 4 && document.querySelector('#ops-chart-rate path.line') \
           && i && Number(i.dataset.max) > 0 && Number(f.dataset.max) > 0 && document.querySelector('#ops-chart-p99 path.line');",
        std::time::Duration::from_secs(40),
    )
    .await;
    let listeners = b
        .js(
            "return document.querySelector('#ops-nodes tbody tr td.num').textContent",
            vec![],
        )
        .await;
    assert!(
        listeners
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .is_some(),
        "listener actors per node: {listeners}"
    );
    b.shot("ops-admin").await;
}
