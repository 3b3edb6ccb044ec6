//! A real headless Chromium, driven over WebDriver (chromedriver + fantoccini), with
//! helpers that wait on conditions with deadlines and save screenshots.
//!
//! Chromium and chromedriver come from Debian (`chromium`, `chromium-driver`; the
//! setup script installs them); `CHROME_BIN` and `CHROMEDRIVER` override the paths.
//! Each run uses a fresh profile directory. Tests run their steps through
//! [`Browser::run`], which closes the session (and so Chromium) whether the steps
//! pass or panic, then stops chromedriver, so a failed test leaves no browser behind.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use super::free_port;
use serde_json::{json, Value};

/// How long a single UI condition may take before the test fails.
pub const UI_DEADLINE: Duration = Duration::from_secs(30);
/// chromedriver answers /status within this long after it starts.
const DRIVER_DEADLINE: Duration = Duration::from_secs(30);

/// Where screenshots go: `test-artifacts/screenshots/` in the source tree (gitignored),
/// independent of the target directory, so a person can find them.
pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-artifacts/screenshots")
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    shots: usize,
    /// This test's screenshot folder: `screenshot_dir()/<test name>/`.
    shot_dir: PathBuf,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session with a `width`×`height` window;
    /// screenshots go to `screenshot_dir()/<name>/`, emptied first.
    pub async fn start(name: &str, width: u32, height: u32) -> Self {
        let chrome = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let chromedriver =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        assert!(
            std::path::Path::new(&chrome).exists() && std::path::Path::new(&chromedriver).exists(),
            "the browser tests need {chrome} and {chromedriver}: apt-get install -y chromium chromium-driver \
             (scripts/setup does this)"
        );
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {chromedriver}: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        let status = reqwest::Client::new();
        let start = Instant::now();
        loop {
            let ok = status
                .get(format!("{url}/status"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success());
            if ok.is_some() {
                break;
            }
            assert!(
                start.elapsed() < DRIVER_DEADLINE,
                "chromedriver did not start on {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--autoplay-policy=no-user-gesture-required".to_owned(),
            "--mute-audio".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chrome, "args": args},
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a WebDriver session with headless Chromium");
        let shot_dir = screenshot_dir().join(name);
        let _ = std::fs::remove_dir_all(&shot_dir);
        std::fs::create_dir_all(&shot_dir).expect("screenshot dir");
        Self {
            client,
            driver,
            _profile: profile,
            shots: 0,
            shot_dir,
        }
    }

    /// Runs `steps` against this browser, then ends the session (closing Chromium) and
    /// stops chromedriver, also when a step panics; the panic is then re-raised.
    pub async fn run<F>(mut self, steps: F)
    where
        F: for<'a> FnOnce(&'a mut Browser) -> futures::future::BoxFuture<'a, ()>,
    {
        use futures::FutureExt;
        let outcome = std::panic::AssertUnwindSafe(steps(&mut self))
            .catch_unwind()
            .await;
        let _ = self.client.clone().close().await;
        drop(self);
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Saves a numbered screenshot `NN-name.png` and returns its path.
    pub async fn shot(&mut self, name: &str) -> PathBuf {
        self.shots += 1;
        let png = self.client.screenshot().await.expect("screenshot");
        let path = self.shot_dir.join(format!("{:02}-{name}.png", self.shots));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until `script` returns something truthy; returns it. Fails with `what`.
    pub async fn until(&self, what: &str, script: &str) -> Value {
        self.until_within(what, script, UI_DEADLINE).await
    }

    pub async fn until_within(&self, what: &str, script: &str, deadline: Duration) -> Value {
        let start = Instant::now();
        loop {
            let v = self
                .client
                .execute(script, vec![])
                .await
                .unwrap_or(Value::Null);
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(_) => true,
            };
            if truthy {
                return v;
            }
            if start.elapsed() > deadline {
                let state = self.debug_state().await;
                panic!("timed out after {deadline:?} waiting for {what}\npage state: {state}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What a failing wait prints: the URL, the view's text and the player's state.
    async fn debug_state(&self) -> Value {
        self.client
            .execute(
                "const p = window.spoofify?.player; return {url: location.href, \
                 view: document.getElementById('view')?.innerText?.slice(0, 600), \
                 song: p?.current?.id, paused: p?.audio?.paused, t: p?.audio?.currentTime, \
                 pending: window.spoofify?.outbox?.pending, err: p?.audio?.error?.message};",
                vec![],
            )
            .await
            .unwrap_or(Value::Null)
    }

    /// Waits for an element to be present and returns it.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(UI_DEADLINE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Clicks the element `css` finds. The app re-renders lists (a feed refresh, a
    /// search result), so an element found a moment ago may be gone: find it again
    /// until the deadline.
    pub async fn click(&self, css: &str) {
        let deadline = std::time::Instant::now() + UI_DEADLINE;
        loop {
            let el = self.find(css).await;
            match el.click().await {
                Ok(()) => return,
                Err(e)
                    if e.is_stale_element_reference() && std::time::Instant::now() < deadline => {}
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// Types into an input, key by key (so `input` events fire as for a person).
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Signs up in the web app (from its sign-in page) and picks the first genre on the
/// onboarding page, leaving the rest of the page to the caller.
pub async fn sign_up_and_pick_a_genre(b: &mut Browser, username: &str, password: &str) {
    b.click("#to-signup").await;
    b.type_into("#signup-username", username).await;
    b.type_into("#signup-password", password).await;
    b.click("#signup-submit").await;
    b.until(
        "the genre picker",
        "return document.querySelectorAll('.genre').length >= 2",
    )
    .await;
    b.click(".genre:nth-child(1)").await;
}

/// Signs up in the web app (from its sign-in page) and onboards with the first genre
/// and one seed song, returning once the onboarding is sent.
pub async fn sign_up_and_onboard(b: &mut Browser, username: &str, password: &str) {
    sign_up_and_pick_a_genre(b, username, password).await;
    b.until(
        "songs of the chosen genre",
        "return document.querySelectorAll('.seed').length",
    )
    .await;
    b.click(".seed").await;
    b.click("#onboarding-continue").await;
}
