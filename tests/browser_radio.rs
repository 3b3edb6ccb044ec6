//! "Start radio" in a real headless Chromium against a real node (demo catalog, audio
//! that plays): from a feed card, the queue fills from `/api/radio` and the seed plays
//! first; from the now-playing bar, the playing song goes on and the radio follows it;
//! from a search result too. Never a song twice in the queue. Screenshots go under
//! `test-artifacts/screenshots/radio/`.

mod support;

use serde_json::Value;
use support::app;
use support::browser::{self as driver, Browser};

const PASSWORD: &str = "radio all night";

/// The player's queue as the page sees it (a JS function expression).
const QUEUE_FN: &str = "() => { const p = window.spoofify.player; return p && {source: p.source, \
    current: p.current?.id ?? null, queue: p.queue.map(s => s.id), playing: !p.audio.paused}; }";

fn queue_ids(state: &Value) -> Vec<String> {
    state["queue"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn assert_no_repeats(state: &Value) {
    let ids = queue_ids(state);
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        ids.len(),
        "a song twice in the queue: {ids:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_radio_from_a_card_the_player_and_search() {
    let node = app::start_app(app::TestCatalog::Demo, |_| {});
    let browser = Browser::start("radio", 1280, 860).await;
    let base = node.base.clone();
    browser.run(move |b| Box::pin(radio(b, base))).await;
    eprintln!(
        "screenshots: {}",
        driver::screenshot_dir().join("radio").display()
    );
}

async fn radio(b: &mut Browser, base: String) {
    // ---- sign up and onboard --------------------------------------------------------
    b.goto(&base).await;
    driver::sign_up_and_onboard(b, &app::unique_name("radio"), PASSWORD).await;
    let feed = b
        .until("the feed", "const g = document.getElementById('feed'); return g && g.getAttribute('aria-busy') === 'false' && g.dataset.songs")
        .await;
    let seed = feed.as_str().unwrap().split(',').next().unwrap().to_owned();

    // ---- "Start radio" on a feed card: the seed plays, the radio follows -----------
    b.click("#feed .card:nth-child(1) [data-action=radio]")
        .await;
    let state = b
        .until(
            "the radio to fill the queue and the seed to play",
            &format!("const p = window.spoofify.player; return p.source === 'radio:{seed}' && p.current?.id === {seed:?} && p.queue.length >= 6 && !p.audio.paused && p.audio.currentTime > 0.2 && ({QUEUE_FN})();"),
        )
        .await;
    assert_eq!(queue_ids(&state)[0], seed, "the seed first");
    assert!(!queue_ids(&state)[1..].contains(&seed), "the seed once");
    assert_no_repeats(&state);
    b.until("the radio toast", "return [...document.querySelectorAll('.toast')].some(t => t.textContent.startsWith('Radio from'))").await;
    b.shot("radio-from-card").await;

    // ---- "Start radio" from the now-playing bar: the song goes on ------------------
    b.click("#next").await;
    let playing = b
        .until("the next song playing", &format!("const p = window.spoofify.player; return p.current?.id !== {seed:?} && !p.audio.paused && p.current?.id;"))
        .await;
    let playing = playing.as_str().unwrap().to_owned();
    b.click("#now-radio").await;
    let state = b
        .until(
            "a radio from the playing song",
            &format!("const p = window.spoofify.player; return p.source === 'radio:{playing}' && p.current?.id === {playing:?} && p.queue.length >= 6 && ({QUEUE_FN})();"),
        )
        .await;
    assert_eq!(queue_ids(&state)[0], playing, "the playing song stays on");
    assert_no_repeats(&state);
    b.shot("radio-from-now-playing").await;

    // ---- from a search result ---------------------------------------------------------
    b.js("location.hash = '#/search'; return true;", vec![])
        .await;
    b.type_into("#search-input", "a").await;
    let first = b
        .until(
            "search results",
            "const r = document.querySelector('#view .song-row'); return r && r.dataset.songId",
        )
        .await;
    let first = first.as_str().unwrap().to_owned();
    b.click("#view .song-row:nth-child(1) [data-action=radio]")
        .await;
    let state = b
        .until(
            "a radio from the search result",
            &format!("const p = window.spoofify.player; return p.source === 'radio:{first}' && p.queue.length >= 6 && ({QUEUE_FN})();"),
        )
        .await;
    assert_no_repeats(&state);
    b.shot("radio-from-search").await;
}
