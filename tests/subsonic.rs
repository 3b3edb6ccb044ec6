//! The Subsonic / OpenSubsonic API (`/rest/`) against a real node, driven by
//! py-opensonic — a client library from PyPI that nobody here wrote, installed into a
//! virtualenv by `scripts/opensonic` — through `tests/subsonic/client.py`.
//!
//! Every endpoint answers in JSON (through the library) and XML (by hand) with each
//! way to sign in (API key, `u`+`p` plain and `enc:`, `u`+`t`+`s` with the app password),
//! and the errors are Subsonic codes; scrobbles from the app become the interactions
//! the web app shows and its feed learns from; a listener who skips a genre gets none of
//! it among similar songs; streams are byte-exact with Range, by GET and by POST.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use support::app::{shared_app, unique_name, Api};
use support::wait_for;

const PASSWORD: &str = "subsonic subsonic subsonic";
/// The actor learns within seconds; five builds share two cores.
const LEARN_DEADLINE: Duration = Duration::from_secs(60);

/// A signed-up listener with an API key and an app password.
struct Listener {
    api: Api,
    user: String,
    key: String,
    app_password: String,
}

async fn listener(prefix: &str) -> Listener {
    let mut api = Api::new(&shared_app().base);
    let user = unique_name(prefix);
    api.signup(&user, PASSWORD).await;
    let r = api
        .put("/api/me/preferences", json!({"genres": ["jazz"]}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = api.post("/api/me/api-keys", json!({"name": "test"})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let key = r.body["key"].as_str().expect("key").to_owned();
    let r = api.post("/api/me/app-password", json!({})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let app_password = r.body["password"].as_str().expect("password").to_owned();
    Listener {
        api,
        user,
        key,
        app_password,
    }
}

impl Listener {
    fn config(&self, extra: Value) -> Value {
        let base = &shared_app().base;
        let (host, port) = base.rsplit_once(':').expect("base has a port");
        let mut cfg = json!({
            "host": host, "port": port.parse::<u16>().expect("port"),
            "user": self.user, "password": PASSWORD,
            "api_key": self.key, "app_password": self.app_password,
        });
        if let (Some(c), Some(e)) = (cfg.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        cfg
    }

    /// A JSON call by hand (API key).
    async fn rest(&self, method: &str, params: &[(&str, &str)]) -> Value {
        let mut q: Vec<(&str, &str)> = vec![
            ("apiKey", &self.key),
            ("f", "json"),
            ("v", "1.16.1"),
            ("c", "t"),
        ];
        q.extend_from_slice(params);
        let r = self
            .api
            .client()
            .get(format!("{}/rest/{method}", shared_app().base))
            .query(&q)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.expect("json");
        body["subsonic-response"].clone()
    }

    async fn history(&mut self) -> Vec<Value> {
        let r = self.api.get("/api/history?limit=500").await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["items"].as_array().expect("items").clone()
    }

    /// Waits until the listener's actor has applied everything in their log.
    async fn learned(&mut self) -> Value {
        let last = self
            .history()
            .await
            .first()
            .map_or(0, |e| e["seq"].as_u64().unwrap_or(0));
        let base = shared_app().base.clone();
        let cookie = self.api.cookie_header().expect("a session");
        let client = self.api.client().clone();
        wait_for(
            "the actor to apply the app's interactions",
            LEARN_DEADLINE,
            || {
                let (client, base, cookie) = (client.clone(), base.clone(), cookie.clone());
                async move {
                    let r = client
                        .get(format!("{base}/api/feed?limit=20"))
                        .header("cookie", cookie)
                        .send()
                        .await
                        .ok()?;
                    let feed: Value = r.json().await.ok()?;
                    (feed["model"]["applied_seq"].as_u64()? >= last).then_some(feed)
                }
            },
        )
        .await
    }
}

/// Runs `client.py <command>` with the listener's config; its JSON answer.
async fn client(command: &str, cfg: Value) -> Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let command = command.to_owned();
    tokio::task::spawn_blocking(move || {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), cfg.to_string()).expect("write config");
        let out = std::process::Command::new(root.join("scripts/opensonic"))
            .arg(root.join("tests/subsonic/client.py"))
            .arg(&command)
            .arg(file.path())
            .output()
            .expect("run scripts/opensonic (CPython with venv and pip)");
        assert!(
            out.status.success(),
            "client.py {command} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("client.py prints JSON")
    })
    .await
    .expect("client task")
}

/// Puts a rendition file in place for `song` (the synthetic catalog has no audio):
/// every quality, the same deterministic bytes. Returns them.
fn rendition(song: &str) -> Vec<u8> {
    let bytes: Vec<u8> = (0..150_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let dir = Path::new(&shared_app().data_dir).join("media").join(song);
    std::fs::create_dir_all(&dir).expect("media dir");
    for q in ["low", "normal", "high"] {
        let path = dir.join(format!("{q}.ogg"));
        if !path.exists() {
            let tmp = dir.join(format!("{q}.{}.tmp", unique_name("w")));
            std::fs::write(&tmp, &bytes).expect("write rendition");
            std::fs::rename(&tmp, &path).expect("place rendition");
        }
    }
    bytes
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_in_json_and_xml_with_each_way_to_sign_in() {
    let me = listener("sub-cov").await;
    // A listener with no app password, for error 41.
    let mut plain = Api::new(&shared_app().base);
    let plain_user = unique_name("sub-plain");
    plain.signup(&plain_user, PASSWORD).await;
    rendition("syn-0000");
    let song = me.rest("getSong", &[("id", "syn-0000")]).await;
    assert_eq!(song["status"], "ok", "{song}");
    let song = &song["song"];
    let cfg = me.config(json!({
        "song": "syn-0000", "other_song": "syn-0005",
        "album": song["albumId"], "artist": song["artistId"], "artist_name": song["artist"],
        "genre": song["genre"], "query": song["title"], "plain_user": plain_user,
    }));
    let out = client("coverage", cfg).await;
    let failures = out["failures"].as_array().expect("failures");
    assert!(
        failures.is_empty(),
        "{} of {} checks failed:\n{}",
        failures.len(),
        out["checks"],
        failures
            .iter()
            .map(|f| f.as_str().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(out["checks"].as_u64().unwrap_or(0) > 200, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrobbles_from_an_app_are_the_web_apps_interactions_and_change_its_feed() {
    let mut me = listener("sub-scrob").await;
    let before = me.learned().await;
    let before_ids: Vec<Value> = before["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["song"]["id"].clone())
        .collect();
    let t0 = spoofify_service::store::now_ms() - 3_600_000;
    // syn-0001 starts, syn-0002 starts 7 s later (skip at 7 s); syn-0002 is finished;
    // syn-0003 starts and is finished; syn-0004 starts 60 s before the end of nothing.
    let actions = json!([
        {"op": "now", "id": "syn-0001", "time_ms": t0},
        {"op": "now", "id": "syn-0002", "time_ms": t0 + 7_000},
        {"op": "finish", "id": "syn-0002", "time_ms": t0 + 7_000},
        {"op": "now", "id": "syn-0003", "time_ms": t0 + 60_000},
        {"op": "finish", "id": "syn-0003", "time_ms": t0 + 60_000},
        {"op": "now", "id": "syn-0004", "time_ms": t0 + 120_000},
        {"op": "star", "id": "syn-0004"},
    ]);
    client(
        "listen",
        me.config(json!({"actions": actions, "auth": "token"})),
    )
    .await;
    let history = me.history().await;
    let seen: Vec<(String, String, u64)> = history
        .iter()
        .rev()
        .map(|e| {
            (
                e["song"]["id"].as_str().unwrap_or("").to_owned(),
                e["kind"].as_str().unwrap_or("").to_owned(),
                e["position_ms"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let d = |i: u64| 30_000 + 1_000 * i; // the synthetic songs' durations
    assert_eq!(
        seen,
        vec![
            ("syn-0001".into(), "skipped".into(), 7_000),
            ("syn-0002".into(), "finished".into(), d(2)),
            ("syn-0003".into(), "finished".into(), d(3)),
            ("syn-0004".into(), "liked".into(), 0),
        ],
        "the web app's history shows the app's listening"
    );
    // A retrying app (the same scrobbles again) logs nothing new, but the star (a new
    // event each time) is a new like.
    client(
        "listen",
        me.config(json!({"actions": actions, "auth": "apikey"})),
    )
    .await;
    let again = me.history().await;
    assert_eq!(again.len(), history.len() + 1, "{again:?}");
    // The listener's model learned them: the feed is ranked by a model that applied
    // every one, and it changed.
    let after = me.learned().await;
    assert!(
        after["model"]["training_rows"].as_u64().unwrap_or(0)
            > before["model"]["training_rows"].as_u64().unwrap_or(0),
        "{before}\n{after}"
    );
    let after_ids: Vec<Value> = after["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["song"]["id"].clone())
        .collect();
    assert_ne!(before_ids, after_ids, "the feed changed");
    assert!(
        !after_ids.contains(&json!("syn-0001")),
        "the skipped song rests"
    );
    // getFeed (our extension) is that feed.
    let feed = me.rest("getFeed", &[("count", "20")]).await;
    assert_eq!(feed["status"], "ok", "{feed}");
    assert!(!feed["feed"]["song"].as_array().expect("songs").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_who_skips_a_genre_gets_none_of_it_among_similar_songs() {
    let mut me = listener("sub-skip").await;
    // The synthetic catalog: song i has genre ["ambient", "jazz", "rock", "techno"][i % 4].
    let rock: Vec<String> = (0..24)
        .filter(|i| i % 4 == 2)
        .map(|i| format!("syn-{i:04}"))
        .collect();
    let jazz: Vec<String> = (0..24)
        .filter(|i| i % 4 == 1)
        .map(|i| format!("syn-{i:04}"))
        .collect();
    // Before: a jazz seed's similar songs include rock (the audio is close enough).
    let seed = "syn-0005";
    let cfg = me.config(json!({"id": seed, "count": 50}));
    let before = client("similar", cfg.clone()).await;
    let genres = |v: &Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .expect("songs")
            .iter()
            .map(|s| s["genre"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert!(
        genres(&before, "similar").contains(&"rock".to_owned()),
        "{before}"
    );
    // The app plays: every rock song is started and abandoned after 4 s for the next
    // song, twice over; jazz songs are played through.
    let mut t = spoofify_service::store::now_ms() - 7_200_000;
    let mut actions = Vec::new();
    for _ in 0..2 {
        for (r, j) in rock.iter().zip(&jazz) {
            actions.push(json!({"op": "now", "id": r, "time_ms": t}));
            t += 4_000;
            actions.push(json!({"op": "now", "id": j, "time_ms": t}));
            actions.push(json!({"op": "finish", "id": j, "time_ms": t}));
            t += 60_000;
        }
    }
    client("listen", me.config(json!({"actions": actions}))).await;
    let skipped = me
        .history()
        .await
        .iter()
        .filter(|e| e["kind"] == "skipped")
        .count();
    assert_eq!(skipped, rock.len() * 2);
    me.learned().await;
    let after = client("similar", cfg).await;
    let similar = genres(&after, "similar");
    assert!(!similar.is_empty(), "{after}");
    assert!(
        !similar.contains(&"rock".to_owned()),
        "rock among similar songs: {after}"
    );
    // By artist as well.
    let artist = me.rest("getSong", &[("id", seed)]).await["song"]["artistId"]
        .as_str()
        .expect("artistId")
        .to_owned();
    let by_artist = client("similar", me.config(json!({"artist": artist, "count": 50}))).await;
    assert!(
        !genres(&by_artist, "similar2").contains(&"rock".to_owned()),
        "{by_artist}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_byte_exact_with_ranges_by_get_and_post() {
    let me = listener("sub-range").await;
    let bytes = rendition("syn-0007");
    let len = bytes.len();
    // Through the library: whole, then a range.
    let out = client(
        "stream",
        me.config(json!({"id": "syn-0007", "range": "bytes=100-4099"})),
    )
    .await;
    assert_eq!(out["whole_status"], 200, "{out}");
    assert_eq!(out["whole_type"], "audio/ogg");
    assert_eq!(out["whole_sha256"], sha256(&bytes).as_str());
    assert_eq!(out["range_status"], 206, "{out}");
    assert_eq!(out["content_range"], format!("bytes 100-4099/{len}"));
    assert_eq!(out["range_sha256"], sha256(&bytes[100..4100]).as_str());
    // By hand: open-ended and suffix ranges, GET and form POST, with and without .view.
    let base = &shared_app().base;
    let http = reqwest::Client::new();
    for (range, want, first) in [
        ("bytes=0-0", 1usize, 0usize),
        ("bytes=140000-", len - 140_000, 140_000),
        ("bytes=-500", 500, len - 500),
        ("bytes=10-19", 10, 10),
    ] {
        for (post, path) in [
            (false, "stream"),
            (true, "stream.view"),
            (true, "download"),
            (false, "download.view"),
        ] {
            let creds = [
                ("u", me.user.as_str()),
                ("p", PASSWORD),
                ("id", "syn-0007"),
                ("c", "t"),
                ("v", "1.16.1"),
            ];
            let url = format!("{base}/rest/{path}");
            let req = if post {
                http.post(&url).form(&creds)
            } else {
                http.get(&url).query(&creds)
            };
            let r = req.header("range", range).send().await.expect("stream");
            assert_eq!(r.status(), 206, "{path} {range}");
            assert_eq!(r.headers()["accept-ranges"], "bytes");
            let body = r.bytes().await.expect("body");
            assert_eq!(body.len(), want, "{path} {range}");
            assert_eq!(
                &body[..],
                &bytes[first..first + want],
                "{path} {range}: the bytes"
            );
        }
    }
    // Past the end: 416 with the length.
    let r = http
        .get(format!("{base}/rest/stream"))
        .query(&[("apiKey", me.key.as_str()), ("id", "syn-0007")])
        .header("range", format!("bytes={len}-"))
        .send()
        .await
        .expect("stream");
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"], format!("bytes */{len}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_listed_without_secrets_and_revoking_refuses_the_app() {
    let mut me = listener("sub-keys").await;
    let ok = me.rest("ping", &[]).await;
    assert_eq!(ok["status"], "ok", "{ok}");
    let r = me.api.get("/api/me/api-keys").await;
    assert_eq!(r.status, 200);
    let keys = r.body["keys"].as_array().expect("keys").clone();
    assert_eq!(keys.len(), 1);
    assert!(
        !r.body.to_string().contains(&me.key),
        "the list never shows a key"
    );
    let id = keys[0]["id"].as_str().expect("id");
    let r = me.api.delete(&format!("/api/me/api-keys/{id}")).await;
    assert_eq!(r.status, 204);
    let refused = me.rest("ping", &[]).await;
    assert_eq!(refused["status"], "failed");
    assert_eq!(refused["error"]["code"], 44);
    // The app password: a new one replaces the old; revoking leaves token auth with 41.
    let old = me.app_password.clone();
    let r = me.api.post("/api/me/app-password", json!({})).await;
    assert_eq!(r.status, 201);
    assert_ne!(r.body["password"], old.as_str());
    let http = reqwest::Client::new();
    let ping = |pw: String| {
        let (http, user, base) = (http.clone(), me.user.clone(), shared_app().base.clone());
        async move {
            let v: Value = http
                .get(format!("{base}/rest/ping.view"))
                .query(&[("u", user.as_str()), ("p", pw.as_str()), ("f", "json")])
                .send()
                .await
                .expect("ping")
                .json()
                .await
                .expect("json");
            v["subsonic-response"].clone()
        }
    };
    assert_eq!(
        ping(old).await["error"]["code"],
        40,
        "the old app password is void"
    );
    let new = r.body["password"].as_str().expect("password").to_owned();
    assert_eq!(ping(new.clone()).await["status"], "ok");
    let r = me.api.delete("/api/me/app-password").await;
    assert_eq!(r.status, 204);
    assert_eq!(ping(new).await["error"]["code"], 40);
    // Nothing is readable without a session.
    let mut anon = Api::new(&shared_app().base);
    assert_eq!(anon.get("/api/me/api-keys").await.status, 401);
    assert_eq!(
        anon.post("/api/me/app-password", json!({})).await.status,
        401
    );
}
