//! Social listening over HTTP (issue 17): the follow and block rules, privacy,
//! friend activity (order, bounds, what is hidden), profiles, people in search, bad
//! input — on one in-process node — and across two real node processes on Redis:
//! a follow made on node A is seen on node B, and a friend's song started on node A
//! reaches a live stream on node B within 2 s.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::app::*;
use support::cluster::*;

const PASSWORD: &str = "correct horse battery";

async fn person(prefix: &str) -> (Api, String) {
    Api::onboarded(&shared_app().base, prefix).await
}

fn names(body: &Value) -> Vec<String> {
    body["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["username"].as_str().expect("username").to_owned())
        .collect()
}

async fn songs(api: &mut Api) -> Vec<String> {
    let r = api.get("/api/songs?limit=20").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["songs"]
        .as_array()
        .expect("songs")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

/// (username, song id, kind) of each item of `GET /api/activity`.
async fn activity(api: &mut Api, query: &str) -> Vec<(String, String, String)> {
    let r = api.get(&format!("/api/activity{query}")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["user"]["username"].as_str().expect("user").to_owned(),
                i["song"]["id"].as_str().expect("song").to_owned(),
                i["kind"].as_str().expect("kind").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_are_one_way_and_blocks_end_them() {
    let (mut a, an) = person("fa").await;
    let (mut b, bn) = person("fb").await;

    assert_eq!(
        a.put(&format!("/api/me/following/{bn}"), json!({}))
            .await
            .status,
        204
    );
    assert_eq!(
        a.put(&format!("/api/me/following/{bn}"), json!({}))
            .await
            .status,
        204,
        "again: nothing changes"
    );
    assert_eq!(
        names(&a.get("/api/me/following").await.body),
        vec![bn.clone()]
    );
    assert_eq!(
        names(&b.get("/api/me/followers").await.body),
        vec![an.clone()]
    );
    assert!(
        names(&b.get("/api/me/following").await.body).is_empty(),
        "one way"
    );
    assert!(names(&a.get("/api/me/followers").await.body).is_empty());
    let profile = a.get(&format!("/api/users/{bn}")).await;
    assert_eq!(profile.status, 200);
    assert_eq!(profile.body["following"], true);
    assert_eq!(profile.body["follows_you"], false);
    assert_eq!(profile.body["user"]["display_name"], bn.as_str());

    // Bad input.
    let me = a.put(&format!("/api/me/following/{an}"), json!({})).await;
    assert_eq!((me.status.as_u16(), me.code()), (400, "invalid_input"));
    let bad = a.put("/api/me/following/NOT%20A%20NAME", json!({})).await;
    assert_eq!((bad.status.as_u16(), bad.code()), (400, "invalid_input"));
    let nobody = a
        .put("/api/me/following/nobody-at-all-here", json!({}))
        .await;
    assert_eq!(nobody.status, 404);
    let mut anonymous = Api::new(&shared_app().base);
    assert_eq!(
        anonymous
            .put(&format!("/api/me/following/{bn}"), json!({}))
            .await
            .status,
        401
    );
    assert_eq!(anonymous.get("/api/activity").await.status, 401);

    // B blocks A: the follow is gone, A cannot follow again nor see B at all.
    assert_eq!(
        b.put(&format!("/api/me/blocked/{an}"), json!({}))
            .await
            .status,
        204
    );
    assert!(names(&a.get("/api/me/following").await.body).is_empty());
    assert!(names(&b.get("/api/me/followers").await.body).is_empty());
    assert_eq!(
        names(&b.get("/api/me/blocked").await.body),
        vec![an.clone()]
    );
    assert_eq!(
        a.put(&format!("/api/me/following/{bn}"), json!({}))
            .await
            .status,
        404,
        "a blocked listener cannot follow"
    );
    assert_eq!(a.get(&format!("/api/users/{bn}")).await.status, 404);
    let search = a.get(&format!("/api/search?q={bn}")).await;
    assert_eq!(search.status, 200);
    assert!(search.body["people"].as_array().unwrap().is_empty());
    let r = b.put(&format!("/api/me/following/{an}"), json!({})).await;
    assert_eq!(
        r.status, 409,
        "the blocker must unblock first: {:?}",
        r.body
    );

    assert_eq!(b.delete(&format!("/api/me/blocked/{an}")).await.status, 204);
    assert_eq!(
        a.put(&format!("/api/me/following/{bn}"), json!({}))
            .await
            .status,
        204
    );
    let search = a.get(&format!("/api/search?q={}", bn.to_uppercase())).await;
    assert_eq!(
        search.body["people"][0]["username"],
        bn.as_str(),
        "people are found by name"
    );
    assert_eq!(
        a.delete(&format!("/api/me/following/{bn}")).await.status,
        204
    );
    assert!(names(&a.get("/api/me/following").await.body).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_is_shared_only_as_the_listener_chooses() {
    let (mut a, _) = person("aa").await;
    let (mut b, bn) = person("ab").await;
    let (mut c, _) = person("ac").await;
    let s = songs(&mut b).await;
    assert_eq!(
        a.put(&format!("/api/me/following/{bn}"), json!({}))
            .await
            .status,
        204
    );

    // Nothing is shared until B says so.
    let p = b.get("/api/me/privacy").await;
    assert_eq!(
        (&p.body["share_activity"], &p.body["private_session"]),
        (&json!(false), &json!(false))
    );
    let r = b
        .post("/api/me/now-playing", json!({"song_id": s[0]}))
        .await;
    assert_eq!((r.status.as_u16(), &r.body["shared"]), (200, &json!(false)));
    assert!(activity(&mut a, "").await.is_empty());

    let r = b
        .put("/api/me/privacy", json!({"share_activity": true}))
        .await;
    assert_eq!(r.body["share_activity"], true, "{:?}", r.body);
    let r = b
        .post("/api/me/now-playing", json!({"song_id": s[1]}))
        .await;
    assert_eq!(r.body["shared"], true);
    let r = b
        .post(
            "/api/interactions",
            json!({"id": "social-finish-0001", "song_id": s[2], "kind": "finished"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = b
        .post(
            "/api/interactions",
            json!({"id": "social-skip-0001", "song_id": s[3], "kind": "skipped"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        activity(&mut a, "").await,
        vec![
            (bn.clone(), s[2].clone(), "finished".into()),
            (bn.clone(), s[1].clone(), "playing".into()),
        ],
        "newest first; skips are not shared"
    );
    let r = a.get("/api/activity").await;
    let at = r.body["items"][0]["at"].as_str().unwrap();
    assert!(at.ends_with('Z') && at.contains('T'), "RFC 3339: {at}");
    assert_eq!(activity(&mut a, "?limit=1").await.len(), 1);
    for bad in ["?limit=0", "?limit=201", "?limit=many"] {
        let r = a.get(&format!("/api/activity{bad}")).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "invalid_input"),
            "{bad}"
        );
    }
    assert!(
        activity(&mut c, "").await.is_empty(),
        "only followed people show"
    );
    let r = b
        .post("/api/me/now-playing", json!({"song_id": "no-such-song"}))
        .await;
    assert_eq!(r.status, 404);
    let r = b.post("/api/me/now-playing", json!({"song": s[0]})).await;
    assert_eq!(r.status, 400);
    let r = b
        .put("/api/me/privacy", json!({"share_activity": "yes"}))
        .await;
    assert_eq!(r.status, 400);

    // The profile shows what B finished, to anyone B did not block.
    let profile = c.get(&format!("/api/users/{bn}")).await;
    assert_eq!(profile.body["shares_activity"], true);
    assert_eq!(
        profile.body["recently_finished"][0]["song"]["id"],
        s[2].as_str()
    );

    // A private session shares nothing new, says so, and ends at logout.
    let r = b
        .put("/api/me/privacy", json!({"private_session": true}))
        .await;
    assert_eq!(r.body["private_session"], true);
    assert!(r.body["private_session_ends"].is_string());
    let r = b
        .post("/api/me/now-playing", json!({"song_id": s[4]}))
        .await;
    assert_eq!(r.body["shared"], false);
    assert_eq!(activity(&mut a, "").await[0].1, s[2], "nothing new");
    assert_eq!(b.post("/api/logout", json!({})).await.status, 204);
    let r = b
        .post("/api/login", json!({"username": bn, "password": PASSWORD}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        b.get("/api/me/privacy").await.body["private_session"],
        false
    );
    b.post("/api/me/now-playing", json!({"song_id": s[5]}))
        .await;
    assert_eq!(activity(&mut a, "").await[0].1, s[5]);

    // Order and bounds over many entries.
    for i in 0..12 {
        b.post("/api/me/now-playing", json!({"song_id": s[i % 3]}))
            .await;
    }
    let r = a.get("/api/activity?limit=200").await;
    let times: Vec<u64> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["at_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(times.len(), 15);
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    assert_eq!(activity(&mut a, "?limit=5").await.len(), 5);

    // B blocks C: nothing of B for C. B stops sharing: nothing for A either.
    assert_eq!(
        b.put(&format!("/api/me/blocked/{}", "x".repeat(2)), json!({}))
            .await
            .status,
        400
    );
    let cn = c.get("/api/me").await.body["username"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        c.put(&format!("/api/me/following/{bn}"), json!({}))
            .await
            .status,
        204
    );
    assert!(!activity(&mut c, "").await.is_empty());
    assert_eq!(
        b.put(&format!("/api/me/blocked/{cn}"), json!({}))
            .await
            .status,
        204
    );
    assert!(activity(&mut c, "").await.is_empty());
    assert_eq!(c.get(&format!("/api/users/{bn}")).await.status, 404);
    b.put("/api/me/privacy", json!({"share_activity": false}))
        .await;
    assert!(
        activity(&mut a, "").await.is_empty(),
        "nothing while not sharing"
    );
    let profile = a.get(&format!("/api/users/{bn}")).await;
    assert_eq!(profile.body["shares_activity"], false);
    assert!(profile.body["recently_finished"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// Reads server-sent events until one names `song`, or the deadline passes.
async fn wait_for_event(
    stream: &mut reqwest::Response,
    song: &str,
    deadline: Duration,
) -> Option<Value> {
    let until = Instant::now() + deadline;
    let mut text = String::new();
    loop {
        let left = until.checked_duration_since(Instant::now())?;
        let chunk = tokio::time::timeout(left, stream.chunk())
            .await
            .ok()?
            .ok()??;
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            let data: String = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim)
                .collect();
            if let Ok(v) = serde_json::from_str::<Value>(&data) {
                if v["song"]["id"] == song {
                    return Some(v);
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_and_activity_hold_across_nodes_and_stream_live() {
    let c = TestCluster::start(2).await;
    let bases = c.bases();
    let (node_a, node_b) = (bases[0].1.clone(), bases[1].1.clone());
    let people = c.listeners("soc", 2).await;
    let (a, b) = (&people[0], &people[1]);
    let songs = c.song_ids().await;
    let http = &c.http;
    let send = |m: reqwest::Method, base: &str, path: &str, who: &TestListener, body: Value| {
        http.request(m, format!("{base}{path}"))
            .header("cookie", &who.cookie)
            .json(&body)
            .send()
    };
    use reqwest::Method;

    let r = send(Method::PUT, &node_a, "/api/me/following/soc1", a, json!({}))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r: Value = send(Method::GET, &node_b, "/api/me/following", a, json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["users"][0]["username"], "soc1",
        "node B sees node A's follow"
    );
    let r = send(
        Method::PUT,
        &node_b,
        "/api/me/privacy",
        b,
        json!({"share_activity": true}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);

    // A listens live on node B; B starts a song on node A.
    let mut stream = http
        .get(format!("{node_b}/api/activity/stream"))
        .header("cookie", &a.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(header(stream.headers(), "content-type").starts_with("text/event-stream"));
    let started = Instant::now();
    let r = send(
        Method::POST,
        &node_a,
        "/api/me/now-playing",
        b,
        json!({"song_id": songs[3]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let event = wait_for_event(&mut stream, &songs[3], Duration::from_secs(2))
        .await
        .expect("the friend's song reached the stream on the other node within 2 s");
    eprintln!("live activity across nodes after {:?}", started.elapsed());
    assert_eq!(event["user"]["username"], "soc1");
    assert_eq!(event["kind"], "playing");

    // A finish acknowledged on node A is in the merged list on node B.
    assert!(interact(
        http,
        &node_a,
        b,
        "social-cluster-finish",
        &songs[4],
        "finished"
    )
    .await
    .is_some());
    let r: Value = send(Method::GET, &node_b, "/api/activity", a, json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["items"][0]["song"]["id"], songs[4].as_str());
    assert_eq!(r["items"][0]["kind"], "finished");
}
