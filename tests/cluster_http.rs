//! The feed, interactions and cluster endpoints on one node (Redis-backed, real
//! process): validation, idempotent appends, the actor's view of the log, `/api/cluster`.

mod support;

use serde_json::{json, Value};
use support::cluster::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactions_are_validated_durable_and_idempotent() {
    let c = TestCluster::start(1).await;
    let base = c.bases()[0].1.clone();
    let l = &c.listeners("http", 1).await[0];
    let songs = c.song_ids().await;
    let post = |body: Value, cookie: Option<String>| {
        let mut r = c.http.post(format!("{base}/api/interactions")).json(&body);
        if let Some(ck) = cookie {
            r = r.header("cookie", ck);
        }
        r.send()
    };
    let ok = json!({"id": "first-interaction", "song_id": songs[0], "kind": "finished", "position_ms": 1000});
    assert_eq!(post(ok.clone(), None).await.unwrap().status(), 401);
    let r = post(ok.clone(), Some(l.cookie.clone())).await.unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["seq"], 1);
    let again = post(ok, Some(l.cookie.clone())).await.unwrap();
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (again["seq"].as_u64(), again["duplicate"].as_bool()),
        (Some(1), Some(true))
    );
    for (bad, status) in [
        (
            json!({"id": "short", "song_id": songs[0], "kind": "finished"}),
            400,
        ),
        (
            json!({"id": "another-interaction", "song_id": "no-such-song", "kind": "finished"}),
            404,
        ),
        (
            json!({"id": "another-interaction", "song_id": songs[0], "kind": "loved"}),
            400,
        ),
        (
            json!({"id": "another-interaction", "song_id": songs[0], "kind": "skipped", "position_ms": 999_999_999u64}),
            400,
        ),
    ] {
        let r = post(bad.clone(), Some(l.cookie.clone())).await.unwrap();
        assert_eq!(r.status(), status, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{body}");
    }
    assert_eq!(
        c.store.last_seq(&l.id).await.unwrap(),
        1,
        "a rejected interaction was logged"
    );

    let f = feed(&c.http, &base, l).await.expect("feed");
    assert_eq!(f["degraded"], false);
    assert_eq!(f["served_by"], "n1");
    assert_eq!(f["model"]["applied_seq"], 1);
    assert_eq!(f["items"].as_array().unwrap().len(), 5);
    assert!(f["items"][0]["song"]["id"].is_string());
    let r = c
        .http
        .get(format!("{base}/api/feed?limit=0"))
        .header("cookie", &l.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let cl: Value = c
        .http
        .get(format!("{base}/api/cluster"))
        .bearer_auth(support::cluster::OPS_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cl["self"], "n1");
    assert_eq!(cl["nodes"][0]["id"], "n1");
    assert_eq!(cl["nodes"][0]["state"], "up");
    assert_eq!(cl["local_listeners"], 1);
}
