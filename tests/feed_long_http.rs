//! Issue 11 over HTTP, on the default install: a real `spoofify serve` process on an
//! empty data directory (so the default demo catalog), one listener with a steady
//! taste — three genres plus the faster half of a fourth, about a third of the
//! catalog — who finishes what they like and skips the rest, 40 rounds of 10 through
//! `GET /api/feed` and `POST /api/interactions`. Asserted: every round is a full,
//! non-degraded page; no song twice within 20 consecutive items; at least 30
//! distinct in any 100; from round 6 on the liked share is at least 0.6 and at least
//! twice the catalog's base rate; favorites and "because you finished" name songs
//! this listener finished.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::{json, Value};
use support::node::{wait_ready, NodeProcess};
use support::wait::wait_for;

/// Demo generation takes about a minute in release; a debug build is much slower.
const READY_DEADLINE: Duration = Duration::from_secs(900);
const ROUNDS: usize = 40;
/// The default node's demo catalog (`catalog.demo_songs`).
const DEFAULT_SONGS: u64 = 400;
const PAGE: usize = 10;

/// One catalog song as the test needs it.
#[derive(Clone)]
struct SongInfo {
    title: String,
    genre: String,
    tempo: f64,
    duration_ms: u64,
}

/// Three genres, plus songs of a fourth at or above its median tempo.
struct Taste {
    genres: Vec<String>,
    fast_genre: String,
    fast_from: f64,
}

impl Taste {
    fn likes(&self, s: &SongInfo) -> bool {
        self.genres.contains(&s.genre) || (s.genre == self.fast_genre && s.tempo >= self.fast_from)
    }
}

/// The first taste (genres taken cyclically from each starting genre) that likes
/// about a third of the catalog.
fn about_a_third(songs: &HashMap<String, SongInfo>) -> (Taste, f64) {
    let mut genres: Vec<String> = songs.values().map(|s| s.genre.clone()).collect();
    genres.sort();
    genres.dedup();
    let n = genres.len();
    assert!(n >= 4, "only {n} genres");
    for first in 0..n {
        let g = |i: usize| genres[(first + i) % n].clone();
        let mut tempos: Vec<f64> = songs
            .values()
            .filter(|s| s.genre == g(3))
            .map(|s| s.tempo)
            .collect();
        tempos.sort_by(f64::total_cmp);
        let taste = Taste {
            genres: vec![g(0), g(1), g(2)],
            fast_genre: g(3),
            fast_from: tempos[tempos.len() / 2],
        };
        let base = songs.values().filter(|s| taste.likes(s)).count() as f64 / songs.len() as f64;
        if (0.25..=0.36).contains(&base) {
            return (taste, base);
        }
    }
    panic!("no taste of about a third of the catalog");
}

struct Api {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Api {
    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = req
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.client.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.post(format!("{}{path}", self.base)).json(&body))
            .await
    }
}

async fn catalog(api: &Api) -> HashMap<String, SongInfo> {
    let mut out = HashMap::new();
    let mut offset = 0;
    loop {
        let (status, page) = api
            .get(&format!("/api/songs?limit=500&offset={offset}"))
            .await;
        assert_eq!(status, 200, "{page}");
        let list = page["songs"].as_array().expect("songs").clone();
        for s in &list {
            let id = s["id"].as_str().unwrap().to_owned();
            let (status, detail) = api.get(&format!("/api/songs/{id}")).await;
            assert_eq!(status, 200, "{detail}");
            out.insert(
                id,
                SongInfo {
                    title: s["title"].as_str().unwrap().to_owned(),
                    genre: s["genre"].as_str().unwrap().to_owned(),
                    tempo: detail["features"]["tempo_bpm"].as_f64().unwrap(),
                    duration_ms: s["duration_ms"].as_u64().unwrap(),
                },
            );
        }
        offset += list.len();
        if list.is_empty() || offset as u64 >= page["total"].as_u64().unwrap() {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_rounds_over_http_never_loop_and_stay_liked() {
    let dir = tempfile::tempdir().unwrap();
    // The simulated listener reacts at machine speed, far above a person's
    // per-minute interaction limit: lift it (this test is about the feed).
    let node = NodeProcess::start_with(dir.path(), &[], |c| {
        c.env("SPOOFIFY_HTTP_LIMITS__INTERACTIONS_PER_MINUTE", "100000");
    });
    let client = reqwest::Client::new();
    wait_ready(&client, &node.base, READY_DEADLINE).await;

    let signup = client
        .post(format!("{}/api/signup", node.base))
        .json(&json!({"username": "steady", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    assert!(signup.status().is_success(), "{}", signup.status());
    let cookie = signup.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let api = Api {
        client,
        base: node.base.clone(),
        cookie,
    };
    // The default node publishes its demo catalog in parts: listen to all of it.
    wait_for("the whole default catalog", READY_DEADLINE, || async {
        let (status, page) = api.get("/api/songs?limit=1").await;
        (status == 200 && page["total"].as_u64()? >= DEFAULT_SONGS).then_some(())
    })
    .await;
    let songs = catalog(&api).await;
    assert!(songs.len() >= 150, "only {} songs", songs.len());
    let (taste, base) = about_a_third(&songs);
    let need = 0.6f64.max(2.0 * base);
    let (status, body) = api
        .send(
            api.client
                .put(format!("{}/api/me/preferences", api.base))
                .json(&json!({"genres": taste.genres})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let mut served: Vec<String> = Vec::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut shares = Vec::new();
    for round in 1..=ROUNDS {
        let (status, feed) = api.get(&format!("/api/feed?limit={PAGE}")).await;
        assert_eq!(status, 200, "{feed}");
        assert_eq!(feed["degraded"], false, "round {round}: {feed}");
        let items = feed["items"].as_array().unwrap();
        assert_eq!(items.len(), PAGE, "round {round}: a short page");
        let mut liked = 0;
        for (i, item) in items.iter().enumerate() {
            let id = item["song"]["id"].as_str().unwrap().to_owned();
            let song = &songs[&id];
            let reason = item["reason"].as_str().unwrap();
            if reason.starts_with("a favorite") {
                assert!(finished.contains(&id), "round {round}: {reason} for {id}");
            }
            if let Some(rest) = reason.strip_prefix("because you finished \u{201c}") {
                let title = rest.trim_end_matches('\u{201d}');
                assert!(
                    finished.iter().any(|f| songs[f].title == title),
                    "round {round}: {reason}: never finished"
                );
            }
            let (kind, position_ms) = if taste.likes(song) {
                liked += 1;
                ("finished", song.duration_ms)
            } else {
                ("skipped", 3_000)
            };
            let (status, body) = api
                .post(
                    "/api/interactions",
                    json!({"id": format!("steady-r{round:02}-i{i:02}"), "song_id": id, "kind": kind,
                           "position_ms": position_ms}),
                )
                .await;
            assert!((200..300).contains(&status), "{status} {body}");
            if kind == "finished" {
                finished.insert(id.clone());
            }
            served.push(id);
        }
        shares.push(liked as f64 / PAGE as f64);
    }

    for (i, w) in served.windows(20).enumerate() {
        let distinct: HashSet<&String> = w.iter().collect();
        assert_eq!(
            distinct.len(),
            20,
            "a song twice within items {i}..{}",
            i + 20
        );
    }
    for (i, w) in served.windows(100).enumerate() {
        let distinct = w.iter().collect::<HashSet<_>>().len();
        assert!(
            distinct >= 30,
            "{distinct} distinct in items {i}..{}",
            i + 100
        );
    }
    for (r, share) in shares.iter().enumerate().skip(5) {
        assert!(
            *share >= need,
            "round {}: liked share {share} < {need:.2} (base rate {base:.2}); rounds {shares:?}",
            r + 1
        );
    }
    eprintln!("base rate {base:.2}; liked share per round {shares:?}");
}
