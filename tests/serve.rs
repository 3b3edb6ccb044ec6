//! The README's run command, end to end: a real `spoofify serve` process on an empty
//! data directory generates the demo catalog, answers health at once and readiness
//! once the first part is published (the log then prints the URL to open), adds the
//! rest in the background with its progress on `/readyz` until it lists 400 songs by
//! ≥ 40 artists in ≥ 12 genres, streams with Range, and stops cleanly on SIGTERM.

mod support;

use std::time::Duration;

use support::node::{wait_ready, NodeProcess};
use support::wait_for;

/// The first part is ready in ≤ 90 s in release on an idle machine; CI shares its cores
/// and a debug build is much slower.
const READY_DEADLINE: Duration = Duration::from_secs(600);
/// The whole default catalog (400 songs) in the background, on a busy machine.
const COMPLETE_DEADLINE: Duration = Duration::from_secs(1800);
const DEFAULT_SONGS: u64 = 400;
const OPS_TOKEN: &str = "serve-test-operator-token-0123456789";

/// A client that sends a new listener's session cookie and the operator token.
async fn signed_in_operator(client: &reqwest::Client, base: &str) -> reqwest::Client {
    let r = client
        .post(format!("{base}/api/signup"))
        .json(&serde_json::json!({"username": "readme-listener", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("spoofify_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    headers.insert(
        "authorization",
        format!("Bearer {OPS_TOKEN}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_node_serves_the_demo_catalog_and_streams_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = NodeProcess::start_with(dir.path(), &[], |cmd| {
        cmd.env("SPOOFIFY_OPS_TOKEN", OPS_TOKEN);
    });
    let client = reqwest::Client::new();
    let base = node.base.clone();

    // Health answers long before the catalog is ready.
    wait_for("healthz 200", Duration::from_secs(30), || async {
        let r = client.get(format!("{base}/healthz")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    wait_ready(&client, &base, READY_DEADLINE).await;
    // From here on as a signed-in listener (the catalog is for listeners) and as the
    // operator (the details of /readyz).
    let client = signed_in_operator(&client, &base).await;

    // Ready on the first part: the log says where to open it, and /readyz reports the
    // generation of the rest.
    let log = std::fs::read_to_string(dir.path().join("node.log")).unwrap();
    assert!(
        log.contains(&format!("catalog ready: open {base}")),
        "no URL in the log:\n{log}"
    );
    assert!(
        log.contains("demo catalog ["),
        "no progress bar in the log:\n{log}"
    );
    let ready: serde_json::Value = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let generation = &ready["details"]["catalog"]["generation"];
    assert_eq!(generation["total"], DEFAULT_SONGS, "{ready}");
    let first = ready["details"]["catalog"]["songs"].as_u64().unwrap();
    let first_part = spoofify_service::catalog::demo::Parts::FIRST_START.first as u64;
    assert!((first_part..=DEFAULT_SONGS).contains(&first), "{ready}");

    // The rest arrives in the background; the catalog only grows.
    let seen = std::cell::Cell::new(first);
    let seen = &seen;
    wait_for("the whole demo catalog", COMPLETE_DEADLINE, || {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let r: serde_json::Value = client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            assert_eq!(r["status"], "ready", "{r}");
            assert_eq!(
                r["details"]["catalog"]["generation"]["failed"], false,
                "{r}"
            );
            let songs = r["details"]["catalog"]["songs"].as_u64()?;
            assert!(
                songs >= seen.get(),
                "the catalog shrank: {songs} after {}",
                seen.get()
            );
            seen.set(songs);
            (songs == DEFAULT_SONGS && r["details"]["catalog"]["generation"]["complete"] == true)
                .then_some(())
        }
    })
    .await;

    let songs: serde_json::Value = client
        .get(format!("{base}/api/songs?limit=500"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total = songs["total"].as_u64().unwrap();
    assert_eq!(total, DEFAULT_SONGS);
    let list = songs["songs"].as_array().unwrap();
    let distinct = |key: &str| {
        let mut v: Vec<String> = list.iter().map(|s| s[key].to_string()).collect();
        v.sort();
        v.dedup();
        v.len()
    };
    assert!(distinct("genre") >= 12, "only {} genres", distinct("genre"));
    assert!(
        distinct("artist") >= 40,
        "only {} artists",
        distinct("artist")
    );
    for s in list {
        let ms = s["duration_ms"].as_u64().unwrap();
        assert!(
            (29_000..=91_000).contains(&ms),
            "duration {ms} of {}",
            s["id"]
        );
    }

    let id = list[0]["id"].as_str().unwrap();
    let detail: serde_json::Value = client
        .get(format!("{base}/api/songs/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(detail["features"]["tempo_bpm"].as_f64().unwrap() > 40.0);

    // Streaming: full, open-ended, suffix, bounded, unsatisfiable, conditional.
    let url = format!("{base}/stream/{id}?quality=high");
    let full = client.get(&url).send().await.unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], "audio/ogg");
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    let etag = full.headers()["etag"].to_str().unwrap().to_owned();
    assert!(full.headers().contains_key("last-modified"));
    let body = full.bytes().await.unwrap();
    let len = body.len() as u64;
    assert!(len > 10_000 && &body[..4] == b"OggS");

    let r = client
        .get(&url)
        .header("range", "bytes=100-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 100-{}/{len}", len - 1).as_str()
    );
    assert_eq!(r.bytes().await.unwrap()[..], body[100..]);

    let r = client
        .get(&url)
        .header("range", "bytes=-500")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap()[..], body[body.len() - 500..]);

    let r = client
        .get(&url)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap()[..], body[10..20]);

    let r = client
        .get(&url)
        .header("range", format!("bytes={len}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes */{len}").as_str()
    );

    let r = client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);

    // A client that drops mid-body costs the node nothing: it keeps answering.
    for _ in 0..20 {
        let mut r = client
            .get(&url)
            .header("range", "bytes=0-")
            .send()
            .await
            .unwrap();
        let _first = r.chunk().await.unwrap();
        drop(r);
    }

    // Renditions made on first request: concurrent requests all get the same file.
    let low = format!("{base}/stream/{id}?quality=low");
    let (a, b) = tokio::join!(client.get(&low).send(), client.get(&low).send());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.status(), b.status()),
        (reqwest::StatusCode::OK, reqwest::StatusCode::OK)
    );
    let (a, b) = (a.bytes().await.unwrap(), b.bytes().await.unwrap());
    assert_eq!(a, b);
    assert!(
        (a.len() as u64) < len,
        "low ({}) should be smaller than high ({len})",
        a.len()
    );

    // Bad input: clear 4xx JSON errors.
    let r = client
        .get(format!("{base}/stream/{id}?quality=ultra"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "invalid_input");
    let r = client
        .get(format!("{base}/api/songs/NOT%20AN%20ID"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client
        .get(format!("{base}/api/songs/demo-9999"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let art = client.get(format!("{base}/art/{id}")).send().await.unwrap();
    assert_eq!(art.status(), 200);
    assert_eq!(art.headers()["content-type"], "image/svg+xml");

    let status = node
        .terminate(Duration::from_secs(20))
        .expect("node exits on SIGTERM");
    assert!(status.success(), "exit status {status:?}");
}

/// Stopping a node during its first start's demo generation takes seconds, not the
/// generation's remaining minutes; the next start resumes where it stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_the_first_generation_stops_at_once_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut node = NodeProcess::start(dir.path(), &[]);
    wait_ready(&client, &node.base, READY_DEADLINE).await;
    let status = node
        .terminate(Duration::from_secs(15))
        .expect("node exits within 15 s of SIGTERM while generating");
    assert!(status.success(), "exit status {status:?}");

    // Restarted on the same data dir: ready again, with the songs made so far.
    let node = NodeProcess::start(dir.path(), &[]);
    wait_ready(&client, &node.base, READY_DEADLINE).await;
}
