//! `GET /metrics` on real nodes: every metric the node declares is there with its type
//! (histograms with buckets, never summaries) and the conventional labels (route
//! templates, status classes, store backend and operation); the number of series is
//! the same after 10 and after 200 listeners; `promtool check metrics` accepts the
//! output; off loopback the endpoint wants the ops token or an admin's session.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use spoofify_service::telemetry::metrics::names;
use support::app::{start_app, Api, TestCatalog};
use support::node::{wait_ready, NodeProcess};

const OPS_TOKEN: &str = "metrics-test-token-0123456789abcdef";

/// One listener's round: sign up, onboard, a feed, an interaction, another feed.
async fn listener_round(base: &str, n: usize) {
    let (mut api, _) = Api::onboarded(base, &format!("m{n}")).await;
    let feed = api.get("/api/feed?limit=5").await;
    assert_eq!(feed.status, 200, "{:?}", feed.body);
    let song = feed.body["items"][0]["song"]["id"]
        .as_str()
        .expect("a song in the feed")
        .to_owned();
    let r = api
        .post(
            "/api/interactions",
            json!({"id": format!("client-{n:04}"), "song_id": song, "kind": "finished"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(api.get("/api/feed?limit=5").await.status, 200);
    assert_eq!(api.get(&format!("/api/songs/{song}")).await.status, 200);
}

async fn scrape(client: &reqwest::Client, base: &str) -> String {
    let r = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(r.status(), 200);
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(ct.starts_with("text/plain"), "content type {ct}");
    r.text().await.expect("body")
}

/// Series: every sample line, with its labels.
fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s).to_owned())
        .collect()
}

fn type_of(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("# TYPE {name} ")))
        .map(str::to_owned)
}

fn promtool_check(text: &str, dir: &std::path::Path) {
    let Ok(out) = std::process::Command::new("promtool")
        .arg("--version")
        .output()
    else {
        eprintln!(
            "SKIPPED: `promtool check metrics` — promtool is not installed (Debian package \
             `prometheus`; scripts/setup installs it)"
        );
        return;
    };
    assert!(out.status.success());
    let file = dir.join("metrics.txt");
    std::fs::write(&file, text).expect("write metrics");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("promtool check metrics < {}", file.display()))
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_named_typed_bounded_and_lint_clean() {
    let dir = support::app::seeded_data_dir().await;
    let node = NodeProcess::start_with(dir.path(), &[], |c| {
        // The co-occurrence job runs often, so its store operations are seen before the
        // first count (it would otherwise add its series later, listeners or not).
        c.env("SPOOFIFY_COOCCURRENCE__INTERVAL_MS", "200")
            .env("SPOOFIFY_COOCCURRENCE__LEASE_TTL_MS", "2000")
            // The tests play the proxy: each Api claims its own address.
            .env("SPOOFIFY_TRUSTED_PROXIES", "[\"127.0.0.1/32\"]");
    });
    let client = reqwest::Client::new();
    wait_ready(&client, &node.base, Duration::from_secs(60)).await;

    // Loopback: open without a token.
    for n in 0..10 {
        listener_round(&node.base, n).await;
    }
    // Wait for the co-occurrence job to have written (its state operation shows), and
    // for the listeners' fits to be over, then count.
    support::wait_until(
        "the job and the fits to have run",
        Duration::from_secs(30),
        || {
            let (client, base) = (client.clone(), node.base.clone());
            async move {
                let text = scrape(&client, &base).await;
                text.contains(r#"op="put_job_state""#)
                    && text.contains("spoofify_model_fit_seconds_count")
            }
        },
    )
    .await;
    let _ = scrape(&client, &node.base).await;
    let after_10 = scrape(&client, &node.base).await;

    // Names and types.
    for name in names::HISTOGRAMS {
        assert_eq!(
            type_of(&after_10, name).as_deref(),
            Some("histogram"),
            "{name}"
        );
    }
    // Store errors are labelled by backend and operation: none happened, none shows.
    for name in names::COUNTERS
        .iter()
        .filter(|n| **n != names::STORE_ERRORS)
    {
        assert_eq!(
            type_of(&after_10, name).as_deref(),
            Some("counter"),
            "{name}"
        );
    }
    for name in names::GAUGES {
        assert_eq!(type_of(&after_10, name).as_deref(), Some("gauge"), "{name}");
    }
    assert!(!after_10.contains("quantile="), "summaries are not wanted");
    // Labels: route templates and status classes, never raw paths.
    let s = series(&after_10);
    let has = |needle: &str| s.iter().any(|l| l.contains(needle));
    assert!(
        has(
            r#"spoofify_http_request_duration_seconds_bucket{method="GET",route="/api/feed",status="2xx",le="0.005"}"#
        ),
        "{after_10}"
    );
    assert!(
        has(r#"route="/api/songs/{id}""#),
        "route templates: {after_10}"
    );
    assert!(!has("syn-0"), "no raw paths or song ids in labels");
    // An interaction's append checks its session in the same store step.
    assert!(has(
        r#"spoofify_store_operation_seconds_bucket{backend="embedded",op="append_checked""#
    ));
    assert!(has(r#"spoofify_feeds_served_total{kind="cold"}"#));
    assert!(
        after_10.contains("spoofify_interactions_acknowledged_total 10\n"),
        "{after_10}"
    );
    let actors: f64 = after_10
        .lines()
        .find_map(|l| l.strip_prefix("spoofify_listener_actors "))
        .expect("actors gauge")
        .parse()
        .expect("a number");
    assert_eq!(actors, 10.0);
    promtool_check(&after_10, dir.path());

    // 190 more listeners doing the same: not one more series.
    for n in 10..200 {
        listener_round(&node.base, n).await;
    }
    let after_200 = scrape(&client, &node.base).await;
    let s200 = series(&after_200);
    let new: Vec<_> = s200.difference(&s).collect();
    let gone: Vec<_> = s.difference(&s200).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "series changed with listeners: new {new:?}, gone {gone:?}"
    );
    assert!(after_200.contains("spoofify_interactions_acknowledged_total 200\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_metrics_need_the_ops_token_or_an_admin() {
    let app = start_app(TestCatalog::Synthetic, |s| {
        s.http = "0.0.0.0:0".into();
        s.ops_token = spoofify_service::config::OpsToken(OPS_TOKEN.into());
        s.admins = vec!["metricsadmin".into()];
    });
    let client = reqwest::Client::new();
    let get = |auth: Option<String>| {
        let mut req = client.get(format!("{}/metrics", app.base));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req
    };
    let none = get(None).send().await.expect("GET");
    assert_eq!(none.status(), 401);
    let wrong = get(Some("Bearer not-the-token".into()))
        .send()
        .await
        .expect("GET");
    assert_eq!(wrong.status(), 403);
    let right = get(Some(format!("Bearer {OPS_TOKEN}")))
        .send()
        .await
        .expect("GET");
    assert_eq!(right.status(), 200);
    assert!(right
        .text()
        .await
        .expect("body")
        .contains("# TYPE spoofify_http_request_duration_seconds histogram"));

    let mut listener = Api::new(&app.base);
    listener
        .signup("metricsuser", "correct horse battery")
        .await;
    let r = listener.get("/metrics").await;
    assert_eq!(r.status, 403);
    let mut admin = Api::new(&app.base);
    admin.signup("metricsadmin", "correct horse battery").await;
    let r = admin.get("/metrics").await;
    assert_eq!(r.status, 200);
}
