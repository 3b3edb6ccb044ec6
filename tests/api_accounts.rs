//! The account-facing JSON API against a real node: sign-up, login, logout and
//! sessions; onboarding; search; playlists; likes and history; that one listener cannot
//! read or change another's playlists, interactions or feed; that bad input gets 4xx
//! JSON errors; and that login throttling kicks in.

mod support;

use serde_json::{json, Value};
use support::app::{header, shared_app, unique_name, urlencode, Api, LOGIN_ATTEMPTS};

const PASSWORD: &str = "correct horse battery";

fn ids(songs: &Value) -> Vec<String> {
    songs
        .as_array()
        .expect("an array")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn signup_login_logout_and_sessions() {
    let base = &shared_app().base;
    let mut api = Api::new(base);
    let name = unique_name("Alice");
    let r = api
        .post(
            "/api/signup",
            json!({"username": name, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let lower = name.to_lowercase();
    assert_eq!(
        r.body["username"],
        lower.as_str(),
        "usernames fold to lower case"
    );
    assert_eq!(r.body["preferences"]["onboarded"], false);
    // On a loopback host the cookie is `__Host-` and `Secure` (tests/http_hardening.rs).
    let cookie = header(&r.headers, "set-cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let me = api.get("/api/me").await;
    assert_eq!(
        (me.status.as_u16(), me.body["username"].as_str()),
        (200, Some(lower.as_str()))
    );

    // The same name again, in any case, is taken.
    let mut other = Api::new(base);
    let r = other
        .post(
            "/api/signup",
            json!({"username": lower.to_uppercase(), "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (409, "username_taken"),
        "{:?}",
        r.body
    );

    let song = api.get("/api/songs?limit=1").await.body["songs"][0]["id"].clone();
    assert!(song.is_string(), "a song to play");

    // Logout ends the session on the server, not just in this client.
    let old = api.cookie().map(str::to_owned);
    let r = api.post("/api/logout", json!({})).await;
    assert_eq!(r.status, 204);
    api.set_cookie(old.clone());
    let r = api.get("/api/me").await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "unauthorized"));
    // An interaction checks its session in the append itself: from the ended session
    // nothing is stored, and the answer is 401 whatever else is wrong with the request;
    // so is one from a made-up token naming the listener.
    let play = json!({"id": "after-logout-1", "song_id": song, "kind": "finished"});
    let forged = old
        .as_deref()
        .and_then(|t| t.split_once('.'))
        .map(|(listener, _)| format!("{listener}.{}", "ab".repeat(32)));
    assert!(forged.is_some(), "a session token names its listener");
    for (cookie, body, why) in [
        (old.clone(), play.clone(), "logged out"),
        (
            old.clone(),
            json!({"id": "x", "kind": "loved"}),
            "logged out, bad body",
        ),
        (forged.clone(), play.clone(), "forged"),
        (forged, json!({"id": "after-logout-2"}), "forged, bad body"),
    ] {
        api.set_cookie(cookie);
        let r = api.post("/api/interactions", body).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (401, "unauthorized"),
            "{why}: {:?}",
            r.body
        );
    }
    api.set_cookie(old);

    let r = api
        .post(
            "/api/login",
            json!({"username": lower, "password": "wrong password"}),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (401, "unauthorized"));
    let r = api
        .post(
            "/api/login",
            json!({"username": name, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(api.get("/api/me").await.status, 200);
    // Signed in again: the interaction refused above was never stored (new, not a
    // duplicate), and a bad body from a valid session is 400, not 401.
    let r = api.post("/api/interactions", play).await;
    assert_eq!(
        (r.status.as_u16(), &r.body["duplicate"]),
        (201, &json!(false)),
        "{:?}",
        r.body
    );
    let r = api
        .post("/api/interactions", json!({"id": "x", "kind": "loved"}))
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);

    // Behind a TLS proxy the cookie is Secure.
    let r = api
        .raw(
            api.client()
                .post(format!("{base}/api/login"))
                .header("x-forwarded-proto", "https")
                .json(&json!({"username": lower, "password": PASSWORD})),
        )
        .await;
    assert!(header(&r.headers, "set-cookie").contains("Secure"));

    // A made-up session token is refused.
    let mut forger = Api::new(base);
    forger.set_cookie(Some("00".repeat(32)));
    assert_eq!(forger.get("/api/me").await.status, 401);
}

#[tokio::test]
async fn onboarding_validates_against_the_catalog() {
    let base = &shared_app().base;
    let mut api = Api::new(base);
    api.signup(&unique_name("onboard"), PASSWORD).await;
    let genres = api.get("/api/genres").await.body;
    let genre = genres["genres"][0]["name"].as_str().unwrap().to_owned();
    let songs = api
        .get(&format!("/api/songs?genre={genre}&limit=2"))
        .await
        .body;
    let seed = songs["songs"][0]["id"].as_str().unwrap().to_owned();

    for (body, why) in [
        (json!({"genres": []}), "no genre"),
        (json!({"genres": ["no-such-genre"]}), "unknown genre"),
        (
            json!({"genres": [genre], "seed_songs": ["no-such-song"]}),
            "unknown song",
        ),
        (
            json!({"genres": [genre], "seed_songs": ["Bad Id!"]}),
            "malformed song id",
        ),
        (json!({"genres": "rock"}), "wrong type"),
    ] {
        let r = api.put("/api/me/preferences", body).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "invalid_input"),
            "{why}: {:?}",
            r.body
        );
    }
    let r = api
        .put(
            "/api/me/preferences",
            json!({"genres": [genre.to_uppercase(), genre], "seed_songs": [seed]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let prefs = &api.get("/api/me").await.body["preferences"];
    assert_eq!(prefs["onboarded"], true);
    assert_eq!(
        prefs["genres"],
        json!([genre]),
        "catalog spelling, no duplicates"
    );
    assert_eq!(prefs["seed_songs"], json!([seed]));
}

#[tokio::test]
async fn bad_input_gets_json_errors() {
    let base = &shared_app().base;
    let mut api = Api::new(base);
    let url = format!("{base}/api/signup");

    let cases = [
        (
            api.client()
                .post(&url)
                .header("content-type", "application/json")
                .body("{not json"),
            400,
            "invalid_json",
        ),
        (
            api.client()
                .post(&url)
                .body(r#"{"username":"abc","password":"12345678"}"#),
            415,
            "unsupported_media_type",
        ),
        (
            api.client()
                .post(&url)
                .json(&json!({"username": "ab", "password": PASSWORD})),
            400,
            "invalid_input",
        ),
        (
            api.client()
                .post(&url)
                .json(&json!({"username": "has space", "password": PASSWORD})),
            400,
            "invalid_input",
        ),
        (
            api.client()
                .post(&url)
                .json(&json!({"username": unique_name("short"), "password": "1234567"})),
            400,
            "invalid_input",
        ),
        (
            api.client().post(&url).json(&json!({"username": "abc"})),
            400,
            "invalid_input",
        ),
        (
            api.client()
                .post(&url)
                .json(&json!({"username": "abc", "password": "x".repeat(100_000)})),
            413,
            "body_too_large",
        ),
        (
            api.client().get(format!("{base}/api/no-such-thing")),
            404,
            "not_found",
        ),
        (
            api.client().delete(format!("{base}/api/me")),
            405,
            "method_not_allowed",
        ),
        (
            api.client().get(format!("{base}/api/songs?limit=0")),
            401,
            "unauthorized",
        ),
        (
            api.client().get(format!("{base}/api/playlists")),
            401,
            "unauthorized",
        ),
        (
            api.client().get(format!("{base}/api/feed")),
            401,
            "unauthorized",
        ),
        (
            api.client()
                .post(format!("{base}/api/interactions"))
                .json(&json!({})),
            401,
            "unauthorized",
        ),
    ];
    // The catalog's bad queries, signed in (without a session they are 401 first).
    let mut reader = Api::new(base);
    reader.signup(&unique_name("reader"), PASSWORD).await;
    let signed_in = [
        reader
            .client()
            .get(format!("{base}/api/search?q={}", "x".repeat(101))),
        reader
            .client()
            .get(format!("{base}/api/search?q=a&limit=zero")),
        reader.client().get(format!("{base}/api/songs?limit=0")),
    ];
    for req in signed_in {
        let r = reader.raw(req).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "invalid_input"),
            "{:?}",
            r.body
        );
    }
    for (req, status, code) in cases {
        let r = api.raw(req).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code),
            "{:?}",
            r.body
        );
        assert!(header(&r.headers, "content-type").starts_with("application/json"));
        assert!(!r.body["error"]["message"].as_str().unwrap_or("").is_empty());
    }

    // Signed in: playlist and history validation.
    let (mut api, _) = Api::onboarded(base, "badinput").await;
    for body in [
        json!({"name": "   "}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "a\u{7}b"}),
        json!({"name": "ok", "songs": ["nope"]}),
    ] {
        let r = api.post("/api/playlists", body).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "invalid_input"),
            "{:?}",
            r.body
        );
    }
    let r = api.get("/api/history?limit=0").await;
    assert_eq!(r.status, 400);
    let r = api
        .post(
            "/api/interactions",
            json!({"id": "short", "song_id": "x", "kind": "finished", "position_ms": 0}),
        )
        .await;
    assert!(
        r.status.is_client_error() && !r.code().is_empty(),
        "{:?}",
        r.body
    );
    let r = api
        .post("/api/interactions", json!({"id": uuid::Uuid::new_v4().to_string(), "song_id": "demo-0001", "kind": "loved", "position_ms": 0}))
        .await;
    assert!(
        r.status.is_client_error() && !r.code().is_empty(),
        "{:?}",
        r.body
    );
}

#[tokio::test]
async fn failed_logins_are_throttled_per_username_and_per_address() {
    let base = &shared_app().base;
    let mut api = Api::new(base);
    let name = unique_name("target");
    api.signup(&name, PASSWORD).await;

    // Per username: the attacker moves between addresses, the account still locks.
    for i in 0..LOGIN_ATTEMPTS {
        let mut attacker = Api::new(base);
        let r = attacker
            .post(
                "/api/login",
                json!({"username": name, "password": format!("guess {i}")}),
            )
            .await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let mut attacker = Api::new(base);
    let r = attacker
        .post(
            "/api/login",
            json!({"username": name, "password": "guess again"}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (429, "rate_limited"),
        "{:?}",
        r.body
    );
    let retry: u64 = header(&r.headers, "retry-after")
        .parse()
        .expect("Retry-After seconds");
    assert!(retry >= 1);
    // While locked, even the right password waits: guessing gains nothing.
    let r = Api::new(base)
        .post(
            "/api/login",
            json!({"username": name, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 429);

    // Per address: one address trying many names.
    let mut sprayer = Api::new(base);
    for i in 0..LOGIN_ATTEMPTS {
        let r = sprayer
            .post(
                "/api/login",
                json!({"username": unique_name(&format!("nobody{i}")), "password": "guess"}),
            )
            .await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let r = sprayer
        .post(
            "/api/login",
            json!({"username": unique_name("another"), "password": "guess"}),
        )
        .await;
    assert_eq!(r.status, 429);
    // Other addresses are unaffected.
    let mut other = Api::new(base);
    let fresh = unique_name("fresh");
    other.signup(&fresh, PASSWORD).await;
    let r = other
        .post(
            "/api/login",
            json!({"username": fresh, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn search_matches_title_artist_album_and_genre() {
    let base = &shared_app().base;
    let mut api = Api::new(base);
    api.signup(&unique_name("searcher"), PASSWORD).await;
    let songs = api.get("/api/songs?limit=500").await.body["songs"].clone();
    let song = &songs[3];
    let title = song["title"].as_str().unwrap();
    let word = title.split_whitespace().next().unwrap();
    let r = api
        .get(&format!("/api/search?q={}", urlencode(title)))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["songs"][0]["title"], song["title"], "{:?}", r.body);
    let r = api
        .get(&format!(
            "/api/search?q={}",
            urlencode(&word.to_uppercase())
        ))
        .await;
    assert!(ids(&r.body["songs"]).contains(&song["id"].as_str().unwrap().to_owned()));

    let genre = song["genre"].as_str().unwrap();
    let r = api
        .get(&format!("/api/search?q={}&limit=100", urlencode(genre)))
        .await;
    let in_genre = songs
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["genre"] == genre)
        .count();
    assert!(r.body["total"].as_u64().unwrap() as usize >= in_genre);
    let artist = song["artist"].as_str().unwrap();
    let r = api
        .get(&format!("/api/search?q={}", urlencode(artist)))
        .await;
    assert!(r.body["songs"].as_array().unwrap().iter().all(|s| {
        let text = format!(
            "{} {} {} {}",
            s["title"], s["artist"], s["album"], s["genre"]
        )
        .to_lowercase();
        artist
            .split_whitespace()
            .all(|w| text.contains(&w.to_lowercase()))
    }));
    let r = api.get("/api/search?q=zzqqxxnothing").await;
    assert_eq!(
        (
            r.body["total"].as_u64(),
            r.body["songs"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let r = api.get("/api/search?q=").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn playlists_create_edit_reorder_and_delete() {
    let base = &shared_app().base;
    let (mut api, _) = Api::onboarded(base, "pl").await;
    let songs = ids(&api.get("/api/songs?limit=5").await.body["songs"]);
    let (a, b, c) = (songs[0].as_str(), songs[1].as_str(), songs[2].as_str());

    let r = api
        .post(
            "/api/playlists",
            json!({"name": "  Road trip  ", "songs": [a]}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["name"], "Road trip");
    let id = r.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/playlists/{id}");

    api.post(&format!("{path}/songs"), json!({"song_id": b}))
        .await;
    let r = api
        .post(
            &format!("{path}/songs"),
            json!({"song_id": c, "position": 0}),
        )
        .await;
    let order = |r: &support::app::Reply| -> Vec<String> {
        r.body["songs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["song_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(order(&r), [c, a, b]);
    assert_eq!(
        r.body["songs"][0]["song"]["id"], c,
        "entries carry the song"
    );

    let r = api
        .put(&format!("{path}/songs"), json!({"songs": [a, b, c]}))
        .await;
    assert_eq!(order(&r), [a, b, c]);
    let r = api
        .put(&format!("{path}/songs"), json!({"songs": [a, b]}))
        .await;
    assert_eq!(r.status, 400, "a reorder must keep the same songs");
    let r = api
        .put(&format!("{path}/songs"), json!({"songs": [a, a, c]}))
        .await;
    assert_eq!(r.status, 400);

    let r = api.delete(&format!("{path}/songs/1")).await;
    assert_eq!(order(&r), [a, c]);
    assert_eq!(api.delete(&format!("{path}/songs/9")).await.status, 404);
    assert_eq!(
        api.post(
            &format!("{path}/songs"),
            json!({"song_id": a, "position": 7})
        )
        .await
        .status,
        400
    );

    let r = api.patch(&path, json!({"name": "Sunday"})).await;
    assert_eq!(r.body["name"], "Sunday");
    let list = api.get("/api/playlists").await;
    let mine = &list.body["playlists"][0];
    assert_eq!(
        (mine["id"].as_str(), mine["song_count"].as_u64()),
        (Some(id.as_str()), Some(2))
    );

    assert_eq!(api.delete(&path).await.status, 204);
    assert_eq!(api.get(&path).await.status, 404);
    assert_eq!(api.delete(&path).await.status, 404);
}

#[tokio::test]
async fn one_listener_cannot_reach_anothers_data() {
    let base = &shared_app().base;
    let (mut alice, _) = Api::onboarded(base, "alice").await;
    let (mut bob, _) = Api::onboarded(base, "bob").await;
    let song = ids(&alice.get("/api/songs?limit=3").await.body["songs"])[0].clone();

    let p = alice
        .post(
            "/api/playlists",
            json!({"name": "Private", "songs": [song]}),
        )
        .await;
    let path = format!("/api/playlists/{}", p.body["id"].as_str().unwrap());
    for r in [
        bob.get(&path).await,
        bob.patch(&path, json!({"name": "Mine now"})).await,
        bob.post(&format!("{path}/songs"), json!({"song_id": song}))
            .await,
        bob.put(&format!("{path}/songs"), json!({"songs": [song]}))
            .await,
        bob.delete(&format!("{path}/songs/0")).await,
        bob.delete(&path).await,
    ] {
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (404, "not_found"),
            "{:?}",
            r.body
        );
    }
    assert_eq!(bob.get("/api/playlists").await.body["playlists"], json!([]));
    let still = alice.get(&path).await;
    assert_eq!(
        (
            still.body["name"].as_str(),
            still.body["songs"].as_array().map(Vec::len)
        ),
        (Some("Private"), Some(1))
    );

    // Interactions: Alice's land in Alice's log only; Bob reusing her client id makes
    // his own entry (ids are per listener), and neither sees the other's.
    let id = uuid::Uuid::new_v4().to_string();
    let r = alice
        .post(
            "/api/interactions",
            json!({"id": id, "song_id": song, "kind": "liked", "position_ms": 1200}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["duplicate"], false);
    let again = alice
        .post(
            "/api/interactions",
            json!({"id": id, "song_id": song, "kind": "liked", "position_ms": 1200}),
        )
        .await;
    assert_eq!(
        (again.body["duplicate"].as_bool(), again.body["seq"].clone()),
        (Some(true), r.body["seq"].clone())
    );
    let r = bob
        .post(
            "/api/interactions",
            json!({"id": id, "song_id": song, "kind": "disliked", "position_ms": 0}),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["duplicate"].as_bool()),
        (201, Some(false)),
        "{:?}",
        r.body
    );

    let a_likes = alice.get("/api/likes").await.body;
    assert_eq!(a_likes["songs"][0]["song"]["id"], song.as_str());
    assert_eq!(bob.get("/api/likes").await.body["songs"], json!([]));
    let b_hist = bob.get("/api/history").await.body;
    let kinds: Vec<&str> = b_hist["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["disliked"], "Bob sees only his own history");
    let a_hist = alice.get("/api/history").await.body;
    let kinds: Vec<&str> = a_hist["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    // Her like, and the song she put in her playlist (a training signal too).
    assert_eq!(kinds, ["liked", "added_to_playlist"]);

    // Feed: each listener's own, and only with a session.
    for api in [&mut alice, &mut bob] {
        let r = api.get("/api/feed?limit=5").await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let mut anon = Api::new(base);
    assert_eq!(anon.get("/api/feed?limit=5").await.status, 401);
    assert_eq!(anon.get("/api/history").await.status, 401);
    assert_eq!(anon.get("/api/likes").await.status, 401);
}

#[tokio::test]
async fn likes_follow_the_latest_rating_and_history_is_newest_first() {
    let base = &shared_app().base;
    let (mut api, _) = Api::onboarded(base, "likes").await;
    let songs = ids(&api.get("/api/songs?limit=3").await.body["songs"]);
    for (song, kind, pos) in [
        (&songs[0], "liked", 10),
        (&songs[1], "liked", 20),
        (&songs[0], "disliked", 30),
        (&songs[2], "finished", 40),
        (&songs[1], "skipped", 50),
    ] {
        let r = api
            .post("/api/interactions", json!({"id": uuid::Uuid::new_v4().to_string(), "song_id": song, "kind": kind, "position_ms": pos}))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let likes = api.get("/api/likes").await.body;
    assert_eq!(
        ids(&Value::Array(
            likes["songs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["song"].clone())
                .collect()
        )),
        [songs[1].clone()]
    );
    let hist = api.get("/api/history?limit=2").await.body;
    let got: Vec<(String, u64)> = hist["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_owned(),
                i["position_ms"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("skipped".to_owned(), 50), ("finished".to_owned(), 40)]
    );
}

#[tokio::test]
async fn playlist_edits_and_search_plays_are_logged_as_training_signals() {
    let base = &shared_app().base;
    let (mut api, _) = Api::onboarded(base, "signals").await;
    let songs = ids(&api.get("/api/songs?limit=3").await.body["songs"]);
    let (a, b, c) = (songs[0].as_str(), songs[1].as_str(), songs[2].as_str());
    let kinds = |h: &Value| -> Vec<(String, String)> {
        h["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["kind"].as_str().unwrap().to_owned(),
                    i["song"]["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    // Only listening and ratings come from clients; unknown kinds and sources are 400.
    for (kind, source) in [
        ("added_to_playlist", json!(null)),
        ("search_finished", json!(null)),
        ("replayed", json!(null)),
        ("finished", json!("somewhere")),
        ("finished", json!(3)),
    ] {
        let r = api
            .post("/api/interactions", json!({"id": uuid::Uuid::new_v4().to_string(), "song_id": c, "kind": kind, "position_ms": 0, "source": source}))
            .await;
        // (A number where a name belongs is rejected by the JSON reader itself.)
        assert!(
            r.status == 400 && ["invalid_input", "invalid_json"].contains(&r.code()),
            "{kind} from {source}: {:?}",
            r.body
        );
    }
    // A finish of a song started from a search is its own kind; other sources are plain.
    for (song, source) in [(c, "search"), (b, "feed")] {
        let r = api
            .post("/api/interactions", json!({"id": uuid::Uuid::new_v4().to_string(), "song_id": song, "kind": "finished", "position_ms": 1000, "source": source}))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let r = api
        .post("/api/interactions", json!({"id": uuid::Uuid::new_v4().to_string(), "song_id": a, "kind": "skipped", "position_ms": 1000, "source": "search"}))
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);

    // Playlist edits: made with a, then b added, then a removed; a reorder says nothing.
    let p = api
        .post("/api/playlists", json!({"name": "Mine", "songs": [a]}))
        .await;
    assert_eq!(p.status, 201, "{:?}", p.body);
    let path = format!("/api/playlists/{}", p.body["id"].as_str().unwrap());
    let r = api
        .post(&format!("{path}/songs"), json!({"song_id": b}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = api
        .put(&format!("{path}/songs"), json!({"songs": [b, a]}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = api.delete(&format!("{path}/songs/1")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    let hist = api.get("/api/history?limit=10").await.body;
    let s = |k: &str, id: &str| (k.to_owned(), id.to_owned());
    assert_eq!(
        kinds(&hist),
        [
            s("removed_from_playlist", a),
            s("added_to_playlist", b),
            s("added_to_playlist", a),
            s("skipped", a),
            s("finished", b),
            s("search_finished", c),
        ]
    );
}

#[tokio::test]
async fn openapi_and_the_web_app_are_served() {
    let base = &shared_app().base;
    let mut api = Api::new(base);
    let doc = api.get("/api/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/signup",
        "/api/login",
        "/api/me/preferences",
        "/api/search",
        "/api/playlists/{id}/songs/{index}",
        "/api/feed",
        "/api/interactions",
        "/api/history",
    ] {
        assert!(
            doc.body["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }

    let page = api.client().get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(header(page.headers(), "content-security-policy").contains("script-src 'self'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("/app/js/app.js"));
    let js = api
        .client()
        .get(format!("{base}/app/js/player.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(js.headers(), "content-type"),
        "text/javascript; charset=utf-8"
    );
    let missing = api
        .client()
        .get(format!("{base}/app/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
