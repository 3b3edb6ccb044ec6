//! Social listening in two real headless Chromium sessions against one real node
//! (demo catalog, audio that plays): A finds B in search and follows B from B's
//! profile; B (who chose to share at onboarding) plays a song and A's friend-activity
//! sidebar shows it within 2 s, by the live stream; with B's private session on (the
//! player says so) A sees nothing new; after B blocks A, A sees nothing of B — not in
//! the sidebar, not in the activity list, not B's profile. And the names and lists a
//! listener would look for: B sets a display name in settings and makes a playlist
//! public; A finds B by a prefix of that name, sees it on B's profile with only the
//! public playlist, blocks B and unblocks from the blocked list in settings; a
//! plain listener has no operator link. Screenshots go under
//! `test-artifacts/screenshots/social/` and `.../social-names/`.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_public_playlists_and_the_blocked_list_in_the_web_app() {
    let node = app::start_app(app::TestCatalog::Synthetic, |_| {});
    let a = Browser::start("social-names", 1400, 900).await;
    let b = Browser::start("social-names-b", 1400, 900).await;
    let base = node.base.clone();
    a.run(move |a| Box::pin(names(a, b, base))).await;
    eprintln!(
        "screenshots: {}",
        driver::screenshot_dir().join("social-names").display()
    );
}

async fn go(b: &Browser, hash: &str) {
    b.js(&format!("location.hash = '{hash}'; return true;"), vec![])
        .await;
}

async fn names(a: &mut Browser, mut b: Browser, base: String) {
    let an = app::unique_name("ann");
    let bn = app::unique_name("ben");
    join(a, &base, &an, false).await;
    join(&mut b, &base, &bn, true).await;
    let no_link = a
        .js(
            "return document.getElementById('nav-ops-item').hidden;",
            vec![],
        )
        .await;
    assert_eq!(
        no_link,
        serde_json::json!(true),
        "no operator link for a listener"
    );
    // A word of B's new name that no other listener has.
    let word = format!("Wren{}", &bn[4..]);
    let shown = format!("Bea {word}");

    // ---- B: a display name in settings --------------------------------------------------
    go(&b, "#/settings").await;
    b.until(
        "the display-name form",
        "const i = document.getElementById('display-name'); return !!i && i.placeholder !== '';",
    )
    .await;
    b.js(
        "document.getElementById('display-name').removeAttribute('maxlength'); document.getElementById('display-name').value = 'x'.repeat(41); return true;",
        vec![],
    )
    .await;
    b.click("#save-display-name").await;
    b.until(
        "the length error",
        "return document.getElementById('display-name-status').textContent.includes('at most 40');",
    )
    .await;
    b.js(
        "document.getElementById('display-name').value = ''; return true;",
        vec![],
    )
    .await;
    b.type_into("#display-name", &shown).await;
    b.click("#save-display-name").await;
    b.until(
        "the new name in the nav",
        &format!("return document.getElementById('user-name').textContent === '{shown}';"),
    )
    .await;
    b.shot("settings-display-name").await;

    // ---- B: one public playlist, one private --------------------------------------------
    let private = b
        .js(
            "return fetch('/api/playlists', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({name: 'Only mine'})}).then(r => r.status);",
            vec![],
        )
        .await;
    assert_eq!(private, 201);
    go(&b, "#/playlists").await;
    b.type_into("#new-playlist-name", "Shared road trip").await;
    b.click("#create-playlist").await;
    b.until(
        "the new playlist, private",
        "const c = document.getElementById('playlist-public'); return !!c && !c.checked;",
    )
    .await;
    b.click("#playlist-public").await;
    b.until(
        "the playlist public, as the server says",
        "const id = location.hash.split('/')[2]; return fetch('/api/playlists/' + id).then(r => r.json()).then(p => p.public === true && document.getElementById('playlist-public').checked);",
    )
    .await;
    b.shot("playlist-public").await;

    // ---- A finds B by a prefix of the display name --------------------------------------
    go(a, "#/search").await;
    let prefix = word[..word.len() - 3].to_lowercase();
    a.type_into("#search-input", &prefix).await;
    let found = a
        .until(
            "B among the people, by display name",
            &format!("const p = document.querySelector('#search-people [data-user=\"{bn}\"]'); return p && p.textContent;"),
        )
        .await;
    assert_eq!(found.as_str(), Some(shown.as_str()));
    a.shot("people-by-display-name").await;
    a.click(&format!("#search-people [data-user=\"{bn}\"]"))
        .await;
    let profile = a
        .until(
            "B's profile with its public playlist",
            "const l = document.getElementById('profile-playlists'); return l && [document.getElementById('profile-name').textContent, [...l.children].map(x => x.textContent)];",
        )
        .await;
    assert_eq!(
        profile,
        serde_json::json!([shown, ["Shared road trip (0 songs)"]]),
        "the display name, and only the public playlist"
    );
    a.shot("profile-public-playlists").await;

    // ---- A blocks B, then unblocks from the list in settings ----------------------------
    a.click("#block-btn").await;
    a.until(
        "B blocked",
        "return document.getElementById('block-btn').textContent === 'Unblock';",
    )
    .await;
    go(a, "#/settings").await;
    a.until(
        "B in the blocked list, by display name",
        &format!("const li = document.querySelector('#blocked-list [data-user=\"{bn}\"]'); return li && li.textContent.includes('{shown}');"),
    )
    .await;
    a.shot("blocked-list").await;
    a.click(&format!("#blocked-list [data-user=\"{bn}\"] button"))
        .await;
    a.until(
        "the blocked list empty",
        "return !!document.getElementById('blocked-empty');",
    )
    .await;
    let left = a
        .js(
            "return fetch('/api/me/blocked').then(r => r.json()).then(j => j.users.length);",
            vec![],
        )
        .await;
    assert_eq!(left, 0, "unblocked on the server");
    let errors = a.js("return window.__errors;", vec![]).await;
    assert_eq!(errors, serde_json::json!([]), "uncaught errors in A's page");
    let errors = b.js("return window.__errors;", vec![]).await;
    assert_eq!(errors, serde_json::json!([]), "uncaught errors in B's page");
    let _ = b.client.clone().close().await;
}
