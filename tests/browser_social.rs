//! Social listening in two real headless Chromium sessions against one real node
//! (demo catalog, audio that plays): A finds B in search and follows B from B's
//! profile; B (who chose to share at onboarding) plays a song and A's friend-activity
//! sidebar shows it within 2 s, by the live stream; with B's private session on (the
//! player says so) A sees nothing new; after B blocks A, A sees nothing of B — not in
//! the sidebar, not in the activity list, not B's profile. Screenshots go under
//! `test-artifacts/screenshots/social/`.

mod support;

use std::time::{Duration, Instant};

use support::app;
use support::browser::{self as driver, Browser};

const PASSWORD: &str = "friends listen too";
/// The bound for a friend's song to reach the sidebar.
const LIVE_DEADLINE: Duration = Duration::from_secs(2);
/// How long A watches for something that must not come: longer than the live bound
/// plus a poll, so it would have arrived had it been shared.
const QUIET_WINDOW: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_friend_sees_a_song_live_unless_private_or_blocked() {
    let node = app::start_app(app::TestCatalog::Demo, |_| {});
    let a = Browser::start("social", 1400, 900).await;
    let b = Browser::start("social-b", 1400, 900).await;
    let base = node.base.clone();
    a.run(move |a| Box::pin(social(a, b, base))).await;
    eprintln!(
        "screenshots: {}",
        driver::screenshot_dir().join("social").display()
    );
}

/// Signs up and onboards, answering the sharing question with `share`.
async fn join(b: &mut Browser, base: &str, username: &str, share: bool) {
    b.goto(base).await;
    driver::sign_up_and_pick_a_genre(b, username, PASSWORD).await;
    if share {
        // A real click: scrolled into view, the box must clear the sticky action bar.
        b.click("#onboarding-share").await;
        b.until(
            "the sharing box ticked",
            "return document.getElementById('onboarding-share').checked;",
        )
        .await;
    }
    b.click("#onboarding-continue").await;
    b.until(
        "the feed and the friend sidebar",
        "const g = document.getElementById('feed'); return g && g.getAttribute('aria-busy') === 'false' && !document.getElementById('friends').hidden;",
    )
    .await;
}

/// Makes `b` play a song other than the one it plays now; returns its id.
async fn play_another(b: &Browser) -> String {
    let before = b
        .js("return window.spoofify.player.current?.id ?? null;", vec![])
        .await;
    if before.is_null() {
        b.click("#feed .card:nth-child(1) .card-play").await;
    } else {
        b.click("#next").await;
    }
    let playing = b
        .until(
            "a new song playing",
            &format!("const p = window.spoofify.player; return p.current && p.current.id !== {before} && !p.audio.paused && p.current.id;"),
        )
        .await;
    playing.as_str().expect("song id").to_owned()
}

fn sidebar_has(user: &str, song: &str) -> String {
    format!(
        "return !!document.querySelector('#friend-activity .friend-item[data-user=\"{user}\"][data-song-id=\"{song}\"]');"
    )
}

/// Watches `a`'s sidebar for `QUIET_WINDOW`; panics if `song` of `user` shows up.
async fn stays_away(a: &Browser, user: &str, song: &str, why: &str) {
    let until = Instant::now() + QUIET_WINDOW;
    while Instant::now() < until {
        let shown = a.js(&sidebar_has(user, song), vec![]).await;
        assert_eq!(
            shown,
            serde_json::json!(false),
            "{why}: A saw {song} of {user}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn social(a: &mut Browser, mut b: Browser, base: String) {
    let an = app::unique_name("alice");
    let bn = app::unique_name("bob");
    join(a, &base, &an, false).await;
    join(&mut b, &base, &bn, true).await;

    // ---- A finds B in search and follows from the profile ---------------------------
    a.js("location.hash = '#/search'; return true;", vec![])
        .await;
    a.type_into("#search-input", &bn).await;
    a.until(
        "B among the people",
        &format!("return !!document.querySelector('#search-people [data-user=\"{bn}\"]');"),
    )
    .await;
    a.click(&format!("#search-people [data-user=\"{bn}\"]"))
        .await;
    a.until(
        "B's profile",
        "return !!document.getElementById('follow-btn');",
    )
    .await;
    a.click("#follow-btn").await;
    a.until(
        "following B",
        "return document.getElementById('follow-btn').getAttribute('aria-pressed') === 'true';",
    )
    .await;
    a.shot("profile-following").await;

    // ---- B plays: A sees it live -------------------------------------------------------
    let started = Instant::now();
    let song = play_another(&b).await;
    a.until_within(
        "B's song in A's sidebar within 2 s",
        &sidebar_has(&bn, &song),
        LIVE_DEADLINE,
    )
    .await;
    eprintln!(
        "B's song reached A's sidebar {:?} after B pressed play",
        started.elapsed()
    );
    a.shot("sidebar-live").await;

    // ---- B's private session: the player says so, A sees nothing new ------------------
    b.js("location.hash = '#/settings'; return true;", vec![])
        .await;
    b.click("#private-session").await;
    b.until(
        "the private-session badge",
        "return !document.getElementById('private-badge').hidden;",
    )
    .await;
    b.shot("private-session").await;
    let hidden = play_another(&b).await;
    stays_away(a, &bn, &hidden, "private session").await;

    // ---- B ends it and blocks A: A sees nothing of B -----------------------------------
    b.click("#private-badge").await;
    b.until(
        "the badge gone",
        "return document.getElementById('private-badge').hidden;",
    )
    .await;
    b.js(
        &format!("location.hash = '#/users/{an}'; return true;"),
        vec![],
    )
    .await;
    b.until(
        "A's profile",
        "return !!document.getElementById('block-btn');",
    )
    .await;
    b.click("#block-btn").await;
    b.until(
        "A blocked",
        "return document.getElementById('block-btn').textContent === 'Unblock';",
    )
    .await;
    let after_block = play_another(&b).await;
    stays_away(a, &bn, &after_block, "blocked").await;
    let listed = a
        .js(
            &format!("return fetch('/api/activity').then(r => r.json()).then(j => j.items.filter(i => i.user.username === '{bn}').length);"),
            vec![],
        )
        .await;
    assert_eq!(listed, 0, "A's activity still lists B after the block");
    // A is still on B's profile from following: leave it, then come back.
    a.js("location.hash = '#/library'; return true;", vec![])
        .await;
    a.until("the library", "return !document.getElementById('profile');")
        .await;
    a.js(
        &format!("location.hash = '#/users/{bn}'; return true;"),
        vec![],
    )
    .await;
    a.until(
        "B's profile is gone for A",
        "const p = document.getElementById('profile'); return !!p && p.textContent.includes('No such listener');",
    )
    .await;
    a.shot("blocked").await;
    let errors = a.js("return window.__errors;", vec![]).await;
    assert_eq!(errors, serde_json::json!([]), "uncaught errors in A's page");
    let errors = b.js("return window.__errors;", vec![]).await;
    assert_eq!(errors, serde_json::json!([]), "uncaught errors in B's page");
    let _ = b.client.clone().close().await;
}
