//! A new listener's whole journey in a real headless Chromium against a real node:
//! sign up → onboarding → feed → play a song to its end → skip another → refresh and
//! see the feed change → search → make a playlist and play it → likes and history →
//! log out and back in. Every step saves a screenshot under
//! `test-artifacts/screenshots/` (see `support::browser::screenshot_dir`).

mod support;

use std::time::Duration;

use fantoccini::key::Key;
use serde_json::{json, Value};
use support::browser::Browser;

const PASSWORD: &str = "listening is fun";

/// Player state as the page sees it.
const PLAYER_STATE: &str =
    "const p = window.spoofify.player; return p && {song: p.current?.id ?? null, \
    playing: !p.audio.paused, t: p.audio.currentTime, pending: window.spoofify.outbox.pending};";

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_listener_signs_up_listens_searches_and_keeps_a_playlist() {
    let node = support::app::start_app(support::app::TestCatalog::Demo, |_| {});
    let browser = Browser::start("journey", 1280, 860).await;
    let base = node.base.clone();
    browser.run(move |b| Box::pin(journey(b, base))).await;
    eprintln!(
        "screenshots: {}",
        support::browser::screenshot_dir().join("journey").display()
    );
}

async fn journey(b: &mut Browser, base: String) {
    let username = support::app::unique_name("listener");

    // ---- sign up ------------------------------------------------------------------
    b.goto(&base).await;
    b.find("#login").await;
    b.shot("login").await;
    b.click("#to-signup").await;
    b.type_into("#signup-username", &username).await;
    b.type_into("#signup-password", PASSWORD).await;
    b.shot("signup").await;
    b.click("#signup-submit").await;

    // ---- onboarding: two genres and a favourite -----------------------------------
    b.until(
        "the genre picker",
        "return document.querySelectorAll('.genre').length >= 2",
    )
    .await;
    b.click(".genre:nth-child(1)").await;
    b.click(".genre:nth-child(2)").await;
    b.until(
        "songs of the chosen genres",
        "return document.querySelectorAll('.seed').length",
    )
    .await;
    b.click(".seed").await;
    b.shot("onboarding").await;
    b.click("#onboarding-continue").await;

    // ---- the feed -----------------------------------------------------------------
    let first_feed = b
        .until("the first feed", "const g = document.getElementById('feed'); return g && g.getAttribute('aria-busy') === 'false' && g.dataset.songs")
        .await;
    let first_feed: Vec<String> = first_feed
        .as_str()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    assert!(first_feed.len() >= 4, "feed too short: {first_feed:?}");
    let cards = b.js("return [...document.querySelectorAll('#feed .card')].map(c => [c.querySelector('.card-title').textContent, c.querySelector('.card-reason').textContent, c.querySelector('img.cover').naturalWidth])", vec![]).await;
    for card in cards.as_array().unwrap() {
        assert!(
            !card[0].as_str().unwrap().is_empty() && !card[1].as_str().unwrap().is_empty(),
            "title and reason: {card}"
        );
    }
    b.until("cover art to load", "return [...document.querySelectorAll('#feed img.cover')].slice(0, 4).every(i => i.complete && i.naturalWidth > 0)").await;
    b.shot("feed").await;

    // ---- play the first song to its end --------------------------------------------
    b.click("#feed .card:nth-child(1) .card-play").await;
    b.until(
        "the first song playing",
        &format!("const p = window.spoofify.player; return p.current?.id === {:?} && !p.audio.paused && p.audio.currentTime > 0.3;", first_feed[0]),
    )
    .await;
    b.shot("playing").await;
    // Scrub to the end like a person with a keyboard: focus the seek bar and press End.
    let scrub = b.find("#scrub").await;
    scrub
        .send_keys(&char::from(Key::End).to_string())
        .await
        .expect("End on the seek bar");
    b.until_within(
        "the first song to end and the next to start",
        &format!(
            "const p = window.spoofify.player; return p.current?.id !== {:?} && !p.audio.paused;",
            first_feed[0]
        ),
        Duration::from_secs(60),
    )
    .await;
    let second = b.js(PLAYER_STATE, vec![]).await["song"]
        .as_str()
        .unwrap()
        .to_owned();

    // ---- skip the second one part-way ----------------------------------------------
    b.until(
        "the second song past 1 s",
        "return window.spoofify.player.audio.currentTime > 1.0",
    )
    .await;
    b.click("#next").await;
    b.until("the third song playing", &format!("const p = window.spoofify.player; return p.current?.id !== {second:?} && !p.audio.paused;")).await;
    b.until(
        "the outbox to drain",
        "return window.spoofify.outbox.pending === 0 && window.spoofify.outbox.acked >= 2",
    )
    .await;
    b.shot("after-skip").await;

    // What the node recorded, read back through the page's own session.
    let history = b.until("history with the finish and the skip", "return fetch('/api/history').then(r => r.json()).then(h => h.items.length >= 2 && h.items)").await;
    let history = history.as_array().unwrap();
    let find = |kind: &str, song: &str| {
        history
            .iter()
            .find(|i| i["kind"] == kind && i["song"]["id"] == song)
            .cloned()
    };
    assert!(
        find("finished", &first_feed[0]).is_some(),
        "finish not recorded: {history:?}"
    );
    let skip = find("skipped", &second).unwrap_or_else(|| panic!("skip not recorded: {history:?}"));
    assert!(
        skip["position_ms"].as_u64().unwrap() >= 1000,
        "skip position: {skip}"
    );

    // ---- refresh: the feed changes after listening ---------------------------------
    b.click("#refresh-feed").await;
    let refreshed = b
        .until("a refreshed feed that differs", &format!("const g = document.getElementById('feed'); return g && g.getAttribute('aria-busy') === 'false' && g.dataset.songs !== {:?} && g.dataset.songs", first_feed.join(",")))
        .await;
    let refreshed: Vec<String> = refreshed
        .as_str()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_ne!(refreshed, first_feed);
    assert!(
        !refreshed.contains(&first_feed[0]),
        "a just-finished song came straight back: {refreshed:?}"
    );
    b.shot("feed-refreshed").await;

    // ---- like what is playing ------------------------------------------------------
    let liked = b.js(PLAYER_STATE, vec![]).await["song"]
        .as_str()
        .unwrap()
        .to_owned();
    b.click("#like").await;

    // ---- search as you type ---------------------------------------------------------
    b.click("#nav-search").await;
    let target = b
        .js(
            "return fetch('/api/songs?limit=50').then(r => r.json()).then(s => s.songs[7])",
            vec![],
        )
        .await;
    let title = target["title"].as_str().unwrap().to_owned();
    let query: String = title.chars().take(title.len().min(5)).collect();
    b.type_into("#search-input", &query).await;
    b.until("search results for what was typed", &format!("return [...document.querySelectorAll('#search-results .song-row')].some(r => r.dataset.songId === {:?})", target["id"].as_str().unwrap())).await;
    b.shot("search").await;

    // ---- a playlist: create from search, add a second song, play it -----------------
    let rows = strs(&b.js("return [...document.querySelectorAll('#search-results .song-row')].map(r => r.dataset.songId)", vec![]).await);
    b.click("#search-results .song-row:nth-child(1) .row-actions .icon-btn")
        .await;
    b.type_into("#dialog-new-playlist", "Late night").await;
    b.find("#dialog-new-playlist")
        .await
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    b.until(
        "the dialog to close",
        "return !document.getElementById('add-to-playlist')",
    )
    .await;
    b.click("#nav-home").await;
    b.until(
        "the feed again",
        "return document.querySelectorAll('#feed .card').length",
    )
    .await;
    b.click("#feed .card:nth-child(2) .card-actions .icon-btn")
        .await;
    b.click("#add-to-playlist .dialog-item").await;
    b.until(
        "the dialog to close",
        "return !document.getElementById('add-to-playlist')",
    )
    .await;
    let second_in_playlist = b
        .js(
            "return document.querySelector('#feed .card:nth-child(2)').dataset.songId",
            vec![],
        )
        .await;

    b.click("#nav-playlists").await;
    b.click(".playlist-link").await;
    let in_list = b.until("two songs in the playlist", "const r = [...document.querySelectorAll('#playlist-songs .song-row')].map(r => r.dataset.songId); return r.length === 2 && r").await;
    assert_eq!(
        strs(&in_list),
        [
            rows[0].clone(),
            second_in_playlist.as_str().unwrap().to_owned()
        ]
    );
    // Reorder with the keyboard-reachable buttons, then play.
    b.click("#playlist-songs .song-row:nth-child(2) [data-move='up']")
        .await;
    b.until(
        "the new order",
        &format!(
            "return document.querySelector('#playlist-songs .song-row').dataset.songId === {:?}",
            second_in_playlist.as_str().unwrap()
        ),
    )
    .await;
    b.shot("playlist").await;
    b.click("#play-playlist").await;
    b.until("the playlist playing", &format!("const p = window.spoofify.player; return p.source.startsWith('playlist:') && p.current?.id === {:?} && !p.audio.paused", second_in_playlist.as_str().unwrap())).await;
    b.shot("playlist-playing").await;

    // ---- library: likes and history -------------------------------------------------
    b.click("#nav-library").await;
    b.until("the liked song", &format!("return [...document.querySelectorAll('#likes .song-row')].some(r => r.dataset.songId === {liked:?})")).await;
    b.shot("likes").await;
    b.click("#tab-history").await;
    b.until("history badges", "const t = document.getElementById('history')?.innerText || ''; return t.includes('Finished') && t.includes('Skipped at')").await;
    b.shot("history").await;

    // ---- the layout on a phone -----------------------------------------------------
    b.client.set_window_size(390, 844).await.expect("resize");
    b.click("#nav-home").await;
    b.until(
        "the feed",
        "return document.querySelectorAll('#feed .card').length",
    )
    .await;
    b.shot("feed-phone").await;
    b.client.set_window_size(1280, 860).await.expect("resize");

    // ---- log out and back in --------------------------------------------------------
    b.click("#logout").await;
    b.until(
        "the login page",
        "return !!document.getElementById('login')",
    )
    .await;
    let me = b
        .js("return fetch('/api/me').then(r => r.status)", vec![])
        .await;
    assert_eq!(me, json!(401), "the session is gone after logging out");
    b.shot("logged-out").await;
    b.type_into("#login-username", &username).await;
    b.type_into("#login-password", PASSWORD).await;
    b.click("#login-submit").await;
    b.until(
        "the feed after signing back in",
        "return document.querySelectorAll('#feed .card').length",
    )
    .await;
    let name = b
        .js(
            "return document.getElementById('user-name').textContent",
            vec![],
        )
        .await;
    assert_eq!(name, json!(username));
    let playlists = b.js("return fetch('/api/playlists').then(r => r.json()).then(p => p.playlists.map(x => x.name))", vec![]).await;
    assert_eq!(
        playlists,
        json!(["Late night"]),
        "the playlist survived the new session"
    );
    b.shot("signed-back-in").await;

    let errors = b.js("return window.__errors || []", vec![]).await;
    assert_eq!(errors, json!([]), "uncaught errors in the page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_playlists_library_and_the_phone_layout() {
    let node = support::app::start_app(support::app::TestCatalog::Synthetic, |_| {});
    let browser = Browser::start("pages", 1280, 860).await;
    let base = node.base.clone();
    browser.run(move |b| Box::pin(pages(b, base))).await;
    eprintln!(
        "screenshots: {}",
        support::browser::screenshot_dir().join("pages").display()
    );
}

/// Search, playlists (create from the dialog, add, open), the library, and the phone
/// layout, on a synthetic catalog: no audio or feed needed, so this runs in seconds and
/// pins down the pages that do not play.
async fn pages(b: &mut Browser, base: String) {
    let username = support::app::unique_name("pages");
    b.goto(&base).await;
    b.find("#login").await;
    b.shot("login").await;
    b.click("#to-signup").await;
    b.type_into("#signup-username", &username).await;
    b.type_into("#signup-password", "listening is fun").await;
    b.shot("signup").await;
    b.click("#signup-submit").await;
    b.until(
        "genres",
        "return document.querySelectorAll('.genre').length >= 2",
    )
    .await;
    b.click(".genre:nth-child(1)").await;
    b.click(".genre:nth-child(3)").await;
    b.until("seeds", "return document.querySelectorAll('.seed').length")
        .await;
    b.click(".seed").await;
    b.shot("onboarding").await;
    b.click("#onboarding-continue").await;
    b.until(
        "home with its feed (or its error)",
        "return location.hash === '#/' && document.querySelector('#feed .card, #feed .empty')",
    )
    .await;
    b.shot("home").await;
    b.click("#nav-search").await;
    b.type_into("#search-input", "blue").await;
    b.until(
        "results",
        "return document.querySelectorAll('#search-results .song-row').length",
    )
    .await;
    b.shot("search").await;
    b.click("#search-results .song-row:nth-child(1) .row-actions .icon-btn")
        .await;
    b.type_into("#dialog-new-playlist", "Late night").await;
    b.shot("dialog").await;
    b.find("#dialog-new-playlist")
        .await
        .send_keys(&char::from(Key::Enter).to_string())
        .await
        .unwrap();
    b.until(
        "dialog closed",
        "return !document.getElementById('add-to-playlist')",
    )
    .await;
    b.click("#search-results .song-row:nth-child(2) .row-actions .icon-btn")
        .await;
    b.click("#add-to-playlist .dialog-item").await;
    b.until(
        "dialog closed",
        "return !document.getElementById('add-to-playlist')",
    )
    .await;
    b.click("#nav-playlists").await;
    b.click(".playlist-link").await;
    b.until(
        "2 songs",
        "return document.querySelectorAll('#playlist-songs .song-row').length === 2",
    )
    .await;
    b.click("#rename-playlist").await;
    // The name is selected when the field opens, so typing replaces it.
    let input = b.find("#rename-input").await;
    input
        .send_keys(&format!("Quiet hours{}", char::from(Key::Enter)))
        .await
        .unwrap();
    b.until(
        "the new name",
        "return document.getElementById('playlist-title')?.textContent === 'Quiet hours'",
    )
    .await;
    b.shot("playlist").await;
    b.click("#nav-library").await;
    b.until(
        "the likes list",
        "return document.getElementById('likes')?.getAttribute('aria-busy') === 'false'",
    )
    .await;
    b.shot("library").await;
    b.client.set_window_size(390, 844).await.unwrap();
    b.click("#nav-search").await;
    b.type_into("#search-input", "jazz").await;
    b.until(
        "jazz results",
        "return document.getElementById('search-summary')?.textContent.includes('jazz')",
    )
    .await;
    b.shot("search-phone").await;
    let errors = b.js("return window.__errors", vec![]).await;
    assert_eq!(errors, json!([]), "uncaught errors in the page");
}
