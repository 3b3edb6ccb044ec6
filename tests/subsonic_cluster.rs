//! The Subsonic API on a cluster of real node processes over a real Redis: any node
//! answers an app, and its scrobbles reach the owner's actor like the web app's
//! interactions; when the owner is SIGKILLed in the middle of an app's scrobbles and
//! stream, no acknowledged scrobble is lost, a retried one is not counted twice, and
//! the stream resumes byte-exact from another node with a Range request (what an app,
//! like the web player, does when its connection drops).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use support::cluster::*;
use support::poll_until;

/// The TTL (1.5 s here) expires, survivors see it, the listener is activated again.
const FAILOVER_DEADLINE: Duration = Duration::from_secs(30);
/// A rendition big enough that a kill lands in the middle of its stream.
const RENDITION_BYTES: u32 = 24 << 20;

/// An app's API key for `l`, created through the web API of `base`.
async fn api_key(c: &TestCluster, base: &str, l: &TestListener) -> String {
    let r = c
        .http
        .post(format!("{base}/api/me/api-keys"))
        .header("cookie", &l.cookie)
        .json(&serde_json::json!({"name": "cluster test"}))
        .send()
        .await
        .expect("create a key");
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.expect("json");
    body["key"].as_str().expect("key").to_owned()
}

/// A JSON Subsonic call with an API key; the `subsonic-response`, or `None` when the
/// node did not answer (dead, or the connection dropped).
async fn rest(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    method: &str,
    params: &[(&str, String)],
) -> Option<Value> {
    let mut q: Vec<(&str, String)> = vec![
        ("apiKey", key.to_owned()),
        ("f", "json".into()),
        ("v", "1.16.1".into()),
        ("c", "cluster-test".into()),
    ];
    q.extend_from_slice(params);
    let r = http
        .get(format!("{base}/rest/{method}"))
        .query(&q)
        .send()
        .await
        .ok()?;
    let body: Value = r.json().await.ok()?;
    Some(body["subsonic-response"].clone())
}

/// A finish scrobble of `song` at `time`; true when the app got `status: ok`.
async fn scrobble(http: &reqwest::Client, base: &str, key: &str, song: &str, time: u64) -> bool {
    let params = [
        ("id", song.to_owned()),
        ("time", time.to_string()),
        ("submission", "true".into()),
    ];
    rest(http, base, key, "scrobble", &params)
        .await
        .is_some_and(|r| r["status"] == "ok")
}

/// The songs of the listener's history through the web API, newest first.
async fn history(c: &TestCluster, base: &str, l: &TestListener) -> Option<Vec<String>> {
    let r = c
        .http
        .get(format!("{base}/api/history?limit=500"))
        .header("cookie", &l.cookie)
        .send()
        .await
        .ok()?;
    let body: Value = r.json().await.ok()?;
    body["items"]
        .as_array()?
        .iter()
        .map(|e| Some(e["song"]["id"].as_str()?.to_owned()))
        .collect()
}

/// A normal feed of `l` from `base` once the owner's actor applied `seq`.
async fn feed_after(c: &TestCluster, base: &str, l: &TestListener, seq: u64) -> Option<Value> {
    poll_until(FAILOVER_DEADLINE, || {
        let (http, base, l) = (c.http.clone(), base.to_owned(), l.clone());
        async move {
            let f = feed(&http, &base, &l).await?;
            let ok = f["degraded"] == false && f["model"]["applied_seq"].as_u64()? >= seq;
            ok.then_some(f)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn any_node_answers_an_app_and_its_scrobbles_reach_the_owners_actor() {
    let c = TestCluster::start(3).await;
    let bases = c.bases();
    let l = c.listeners("subc", 1).await.remove(0);
    let key = api_key(&c, &bases[0].1, &l).await;
    let songs = c.song_ids().await;
    let t0 = spoofify_service::store::now_ms();
    // Six finishes, each through another node.
    for (i, song) in songs.iter().take(6).enumerate() {
        let base = &bases[i % bases.len()].1;
        assert!(
            scrobble(&c.http, base, &key, song, t0 + i as u64 * 1000).await,
            "scrobble {i} through {base}"
        );
    }
    // Every node serves the learned endpoints, answered by the owner's model.
    for (id, base) in &bases {
        let r = rest(
            &c.http,
            base,
            &key,
            "getRandomSongs",
            &[("size", "5".into())],
        )
        .await
        .expect("an answer");
        assert_eq!(r["status"], "ok", "{id}: {r}");
        assert_eq!(r["randomSongs"]["song"].as_array().map(Vec::len), Some(5));
        let r = rest(
            &c.http,
            base,
            &key,
            "getSimilarSongs",
            &[("id", songs[0].clone())],
        )
        .await
        .expect("an answer");
        assert_eq!(r["status"], "ok", "{id}: {r}");
    }
    // The owner's actor applied all six, whichever node the web app asks.
    let f = feed_after(&c, &bases[2].1, &l, 6).await.expect("the feed");
    let owner = f["ranked_by"].as_str().expect("ranked_by").to_owned();
    assert!(bases.iter().any(|(id, _)| *id == owner), "owner {owner}");
    let h = history(&c, &bases[1].1, &l).await.expect("history");
    assert_eq!(h.len(), 6, "{h:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_owner_dying_mid_scrobble_and_mid_stream_loses_nothing_acknowledged() {
    let c = TestCluster::start(3).await;
    let bases = c.bases();
    let l = c.listeners("subk", 1).await.remove(0);
    let key = api_key(&c, &bases[0].1, &l).await;
    let songs = c.song_ids().await;
    // The same rendition on every node (the synthetic catalog has no audio).
    let song = songs[7].clone();
    let bytes: Vec<u8> = (0..RENDITION_BYTES)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for (id, _) in &bases {
        let dir = c.root.join(id).join("media").join(&song);
        std::fs::create_dir_all(&dir).expect("media dir");
        for q in ["low", "normal", "high"] {
            std::fs::write(dir.join(format!("{q}.ogg")), &bytes).expect("rendition");
        }
    }
    // The owner: the node whose actor ranks the listener's feed.
    assert!(scrobble(&c.http, &bases[0].1, &key, &songs[0], 1_000_000).await);
    let owner = feed_after(&c, &bases[0].1, &l, 1).await.expect("feed")["ranked_by"]
        .as_str()
        .expect("ranked_by")
        .to_owned();
    let owner_base = c.nodes[&owner].base.clone();
    let survivor = bases
        .iter()
        .find(|(id, _)| *id != owner)
        .expect("a survivor")
        .1
        .clone();

    // A stream from the owner, partly read.
    let mut stream = c
        .http
        .get(format!("{owner_base}/rest/stream"))
        .query(&[("apiKey", key.as_str()), ("id", song.as_str())])
        .send()
        .await
        .expect("stream starts");
    assert_eq!(stream.status(), 200);
    let mut got: Vec<u8> = Vec::new();
    while got.len() < 256 << 10 {
        let chunk = stream.chunk().await.expect("a chunk").expect("more bytes");
        got.extend_from_slice(&chunk);
    }

    // Scrobbles through the owner; it is killed after the tenth.
    let mut acked: Vec<(String, u64)> = vec![(songs[0].clone(), 1_000_000)];
    let mut refused: Vec<(String, u64)> = Vec::new();
    for i in 1..30u64 {
        let (song, time) = (
            songs[(i as usize) % songs.len()].clone(),
            1_000_000 + i * 1000,
        );
        if i == 10 {
            c.nodes[&owner].signal("-KILL");
        }
        if scrobble(&c.http, &owner_base, &key, &song, time).await {
            acked.push((song, time));
        } else {
            refused.push((song, time));
        }
    }
    assert!(!refused.is_empty(), "the killed node kept acknowledging");

    // The stream was cut; the rest comes from a survivor with a Range, byte-exact.
    while let Ok(Some(chunk)) = stream.chunk().await {
        got.extend_from_slice(&chunk);
    }
    assert!(
        got.len() < bytes.len(),
        "the whole stream arrived before the kill"
    );
    assert_eq!(&got[..], &bytes[..got.len()], "bytes before the cut");
    let r = c
        .http
        .get(format!("{survivor}/rest/stream"))
        .query(&[("apiKey", key.as_str()), ("id", song.as_str())])
        .header("range", format!("bytes={}-", got.len()))
        .send()
        .await
        .expect("resume");
    assert_eq!(r.status(), 206);
    let rest_bytes = r.bytes().await.expect("the rest");
    assert_eq!(&rest_bytes[..], &bytes[got.len()..], "the resumed bytes");

    // The app retries what was refused on a survivor, and one acknowledged scrobble
    // again (a retry after a lost answer): each lands once.
    for (song, time) in refused.iter().chain(acked.last()) {
        assert!(
            scrobble(&c.http, &survivor, &key, song, *time).await,
            "retry of {song} at {time} on a survivor"
        );
    }
    let all = acked.len() + refused.len();
    let f = feed_after(&c, &survivor, &l, all as u64)
        .await
        .expect("the new owner applied every scrobble");
    assert_ne!(f["ranked_by"], owner.as_str(), "ranked by the dead node");
    let h = history(&c, &survivor, &l).await.expect("history");
    // Each scrobble was of another song: the history holds each exactly once.
    let seen: BTreeSet<&String> = h.iter().collect();
    assert_eq!(h.len(), all, "a retried scrobble counted twice: {h:?}");
    for (song, time) in acked.iter().chain(&refused) {
        assert!(seen.contains(song), "lost {song} (scrobbled at {time})");
    }
}
