//! `GET /api/radio` against a real node (synthetic catalog): a song radio and an
//! artist radio are what the contract says (never the seed, never a song twice, a
//! reason on every item, ranked by the listener's own actor), bad input is a JSON
//! 4xx, and the OpenAPI document describes the route.

mod support;

use std::collections::HashSet;

use serde_json::{json, Value};
use support::app::{shared_app, unique_name, Api};

const PASSWORD: &str = "radio radio radio";

async fn signed_in() -> Api {
    let mut api = Api::new(&shared_app().base);
    let r = api
        .post(
            "/api/signup",
            json!({"username": unique_name("radio"), "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    api
}

fn item_ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["song"]["id"].as_str().expect("song id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_song_radio_never_repeats_and_never_plays_the_seed() {
    let mut api = signed_in().await;
    let songs = api.get("/api/songs?limit=5").await;
    let seed = songs.body["songs"][0]["id"]
        .as_str()
        .expect("a song")
        .to_owned();
    let r = api.get(&format!("/api/radio?song={seed}&limit=10")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let ids = item_ids(&r.body);
    assert_eq!(ids.len(), 10);
    assert!(!ids.contains(&seed), "the seed is not on its own radio");
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "no song twice"
    );
    assert_eq!(r.body["seed"]["kind"], "song");
    assert_eq!(r.body["seed"]["song"]["id"], seed.as_str());
    assert_eq!(
        r.body["degraded"], false,
        "ranked by the listener's own actor: {:?}",
        r.body
    );
    for item in r.body["items"].as_array().unwrap() {
        let reason = item["reason"].as_str().unwrap_or("");
        assert!(
            reason.starts_with("sounds like") || reason.starts_with("listeners who finished"),
            "{reason}"
        );
    }

    // A song the listener just rejected stays off their radio.
    let rejected = ids[0].clone();
    let r = api
        .post(
            "/api/interactions",
            json!({"id": format!("radio-skip-{}", unique_name("x")), "song_id": rejected,
                   "kind": "disliked", "position_ms": 1000}),
        )
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
    let again = api.get(&format!("/api/radio?song={seed}&limit=10")).await;
    assert_eq!(again.status, 200);
    assert!(
        !item_ids(&again.body).contains(&rejected),
        "{:?}",
        item_ids(&again.body)
    );
}

#[tokio::test]
async fn an_artist_radio_has_the_artist_and_others() {
    let mut api = signed_in().await;
    let songs = api.get("/api/songs?limit=1").await;
    let artist = songs.body["songs"][0]["artist"]
        .as_str()
        .expect("artist")
        .to_owned();
    let r = api
        .get(&format!(
            "/api/radio?artist={}&limit=12",
            artist.to_uppercase().replace(' ', "%20")
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["seed"]["artist"],
        artist.as_str(),
        "matched without case"
    );
    let items = r.body["items"].as_array().expect("items");
    assert!(!items.is_empty());
    let by_artist = items
        .iter()
        .filter(|i| i["song"]["artist"] == artist.as_str())
        .count();
    assert!(by_artist >= 1, "the artist is on their radio");
    let ids = item_ids(&r.body);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
}

#[tokio::test]
async fn bad_radio_requests_are_json_errors() {
    let mut api = signed_in().await;
    for (path, status, code) in [
        ("/api/radio", 400, "invalid_input"),
        ("/api/radio?song=syn-0001&artist=x", 400, "invalid_input"),
        ("/api/radio?song=syn-0001&limit=0", 400, "invalid_input"),
        ("/api/radio?song=syn-0001&limit=101", 400, "invalid_input"),
        ("/api/radio?song=NOT%20AN%20ID", 400, "invalid_input"),
        ("/api/radio?song=no-such-song", 404, "not_found"),
        ("/api/radio?artist=Nobody%20At%20All", 404, "not_found"),
    ] {
        let r = api.get(path).await;
        assert_eq!(r.status.as_u16(), status, "{path}: {:?}", r.body);
        assert_eq!(r.body["error"]["code"], code, "{path}: {:?}", r.body);
    }
    let mut anonymous = Api::new(&shared_app().base);
    let r = anonymous.get("/api/radio?song=syn-0001").await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn the_openapi_document_describes_the_radio() {
    let mut api = Api::new(&shared_app().base);
    let doc = api.get("/api/openapi.json").await;
    let radio = &doc.body["paths"]["/api/radio"]["get"];
    assert!(radio.is_object(), "documented");
    let params: Vec<&str> = radio["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(params, ["song", "artist", "limit"]);
    assert!(radio["responses"]["200"].is_object() && radio["responses"]["404"].is_object());
}
