//! A real node started in-process for the web and API tests, and a small JSON client
//! that keeps one listener's session cookie.
//!
//! The node runs `spoofify_service::node::start` + `serve` on 127.0.0.1:0 with a temporary data
//! directory and a small demo catalog, on its own thread and runtime, so one node can
//! serve every test of a binary (each `#[tokio::test]` has its own runtime, which would
//! otherwise end the server with the first test). Tests wait for `/readyz` with a
//! deadline. Logs stay quiet unless `TEST_LOG` is set.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use spoofify_service::config::{Overrides, Settings};

/// Songs in the test catalog: enough for several genres and a feed that can change,
/// few enough that generating them stays quick.
pub const DEMO_SONGS: usize = 24;
/// Generating the demo catalog in a debug build is slow; readiness may take this long.
pub const READY_DEADLINE: Duration = Duration::from_secs(600);
/// Failed logins allowed per window in the test node (small, so the limit is reachable).
pub const LOGIN_ATTEMPTS: u32 = 5;

/// A running node: its base URL; its data directory lives as long as the process.
pub struct TestApp {
    pub base: String,
    pub data_dir: std::path::PathBuf,
}

/// Which catalog the node starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestCatalog {
    /// The real demo catalog, generated at first start (audio that plays).
    Demo,
    /// Songs with metadata and features but no audio, stored before the node starts:
    /// instant, for tests of the JSON API that never stream.
    Synthetic,
}

/// The node shared by the tests of this binary (synthetic catalog), started on first use.
pub fn shared_app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(|| start_app(TestCatalog::Synthetic, |_| {}))
}

/// Starts a node on its own thread and runtime, blocking until `/readyz` is 200.
pub fn start_app(catalog: TestCatalog, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    init_logs();
    let dir = tempfile::tempdir().expect("temp dir").keep();
    let overrides = Overrides {
        http: Some("127.0.0.1:0".into()),
        data_dir: Some(dir.clone()),
        ..Default::default()
    };
    let mut settings = Settings::load(None, &overrides).expect("settings");
    settings.catalog.demo_songs = DEMO_SONGS;
    settings.accounts.login_attempts = LOGIN_ATTEMPTS;
    // The tests play the proxy: each `Api` claims its own address in X-Forwarded-For.
    settings.trusted_proxies = vec!["127.0.0.1/32".parse().expect("CIDR")];
    tweak(&mut settings);
    // Everything async happens on the node's own thread: callers may be inside a runtime.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            if catalog == TestCatalog::Synthetic {
                seed_synthetic_catalog(&settings).await;
            }
            let (node, listener) = spoofify_service::node::start(settings)
                .await
                .expect("node starts");
            let base = format!("http://{}", node.addr);
            let server = tokio::spawn(spoofify_service::node::serve(
                node,
                listener,
                std::future::pending(),
            ));
            wait_ready(&base).await;
            tx.send(base).expect("report the address");
            server.await.expect("server task").expect("node serves");
        });
    });
    let base = rx
        .recv_timeout(READY_DEADLINE + Duration::from_secs(30))
        .expect("the node started and became ready");
    TestApp {
        base,
        data_dir: dir,
    }
}

/// Genres of the synthetic catalog; songs are spread over them round-robin.
const SYNTHETIC_GENRES: [&str; 4] = ["ambient", "jazz", "rock", "techno"];
const WORDS: [&str; 12] = [
    "Blue", "Night", "River", "Echo", "Golden", "Static", "Paper", "Moon", "Signal", "Velvet",
    "Harbor", "Ember",
];

/// A fresh data dir whose embedded store already holds the synthetic catalog, so a
/// node started on it serves at once and no demo generation competes for the cores.
pub async fn seeded_data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let overrides = Overrides {
        data_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let settings = Settings::load(None, &overrides).expect("settings");
    seed_synthetic_catalog(&settings).await;
    dir
}

/// Writes `DEMO_SONGS` songs (metadata and features, no audio) into the node's store.
pub async fn seed_synthetic_catalog(settings: &Settings) {
    use spoofify_service::catalog::{Features, Song, SongId, SongSource};
    let songs: Vec<Song> = (0..DEMO_SONGS)
        .map(|i| {
            let genre = SYNTHETIC_GENRES[i % SYNTHETIC_GENRES.len()];
            let g = (i % SYNTHETIC_GENRES.len()) as f32;
            Song {
                id: SongId::parse(&format!("syn-{i:04}")).expect("id"),
                title: format!(
                    "{} {}",
                    WORDS[i % WORDS.len()],
                    WORDS[(i * 7 + 3) % WORDS.len()]
                ),
                artist: format!("The {} Band", WORDS[(i * 5 + 1) % WORDS.len()]),
                album: format!("{} Sessions", WORDS[(i * 3 + 2) % WORDS.len()]),
                genre: genre.to_owned(),
                duration_ms: 30_000 + 1_000 * i as u64,
                year: Some(2000 + i as u16),
                source: SongSource::Imported {
                    path: format!("/nonexistent/{i}.ogg").into(),
                    size: 0,
                    mtime_ms: 0,
                },
                features: Features::from_raw([
                    80.0 + 20.0 * g + i as f32,
                    -20.0 + 3.0 * g,
                    1000.0 + 400.0 * g,
                    3000.0 + 500.0 * g,
                    0.1 + 0.05 * g,
                    0.05 + 0.01 * g,
                    1.0 + 0.5 * g,
                    8.0 + g,
                ]),
                popularity: (i as f32 * 0.37).fract(),
            }
        })
        .collect();
    let store = spoofify_service::store::open(settings)
        .await
        .expect("open the store");
    store.put_catalog(&songs).await.expect("store the catalog");
}

async fn wait_ready(base: &str) {
    let client = reqwest::Client::new();
    let url = format!("{base}/readyz");
    wait_for(
        &format!("{url} to answer 200 (see TEST_LOG=info)"),
        READY_DEADLINE,
        || async {
            let r = client
                .get(&url)
                .timeout(Duration::from_secs(5))
                .send()
                .await;
            r.ok().filter(|r| r.status() == 200).map(|_| ())
        },
    )
    .await
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
    });
}

pub use super::wait_for;

/// A unique username for a test (usernames are global in the shared node).
pub fn unique_name(prefix: &str) -> String {
    let n: u32 = rand::random();
    format!("{prefix}-{n:08x}")
}

/// `s` percent-encoded for a URL's query (everything but unreserved characters).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One browser's worth of API access: a client, its session and device cookies, and the
/// address it claims through `X-Forwarded-For` (the test node trusts loopback as its
/// proxy), so tests that count attempts per address do not disturb each other.
pub struct Api {
    pub base: String,
    client: reqwest::Client,
    cookie: Option<String>,
    /// The device cookie (`name=value`), kept like a browser keeps it.
    pub device: Option<String>,
    pub forwarded_for: String,
}

/// The session cookie's names: in a secure context (loopback is one) and elsewhere.
pub const SESSION_COOKIES: [&str; 2] = ["__Host-spoofify_session", "spoofify_session"];
const DEVICE_COOKIES: [&str; 2] = ["__Host-spoofify_device", "spoofify_device"];

/// The `Cookie` header that carries a session token.
pub fn session_cookie(token: &str) -> String {
    format!("{}={token}", SESSION_COOKIES[0])
}

/// A response: status, headers and the JSON body (Null when there is none).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The error code of a JSON error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Api {
    pub fn new(base: &str) -> Self {
        let [a, b, c]: [u8; 3] = rand::random();
        Self {
            base: base.to_owned(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            cookie: None,
            device: None,
            forwarded_for: format!("10.{a}.{b}.{}", c.max(1)),
        }
    }

    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    pub fn set_cookie(&mut self, value: Option<String>) {
        self.cookie = value;
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&mut self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&mut self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&mut self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn send(&mut self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-forwarded-for", &self.forwarded_for);
        if let Some(c) = self.cookie_header() {
            req = req.header(COOKIE, c);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.finish(req).await
    }

    /// Sends a raw request (for malformed bodies and odd headers).
    pub async fn raw(&mut self, req: reqwest::RequestBuilder) -> Reply {
        let mut req = req.header("x-forwarded-for", &self.forwarded_for);
        if let Some(c) = self.cookie_header() {
            req = req.header(COOKIE, c);
        }
        self.finish(req).await
    }

    /// The `Cookie` header this browser sends, if it holds any cookie.
    pub fn cookie_header(&self) -> Option<String> {
        let session = self.cookie.as_deref().map(session_cookie);
        let cookies: Vec<String> = session.into_iter().chain(self.device.clone()).collect();
        (!cookies.is_empty()).then(|| cookies.join("; "))
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    async fn finish(&mut self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        for v in headers.get_all(SET_COOKIE) {
            let v = v.to_str().unwrap_or_default();
            let pair = v.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if SESSION_COOKIES.contains(&name) {
                // Logout clears both names; an empty value under either ends the session.
                self.cookie = (!value.is_empty()).then(|| value.to_owned());
            } else if DEVICE_COOKIES.contains(&name) && !value.is_empty() {
                self.device = Some(pair.to_owned());
            }
        }
        let bytes = res.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Signs up (and so in); panics unless 201.
    pub async fn signup(&mut self, username: &str, password: &str) -> Value {
        let r = self
            .post(
                "/api/signup",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status, 201, "signup {username}: {:?}", r.body);
        r.body
    }

    /// Signs up a fresh listener and completes onboarding with the catalog's first genre.
    pub async fn onboarded(base: &str, prefix: &str) -> (Api, String) {
        let mut api = Api::new(base);
        let name = unique_name(prefix);
        api.signup(&name, "correct horse battery").await;
        let genres = api.get("/api/genres").await;
        let genre = genres.body["genres"][0]["name"]
            .as_str()
            .expect("a genre")
            .to_owned();
        let r = api
            .put("/api/me/preferences", json!({"genres": [genre]}))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        (api, name)
    }
}

/// The header value as text, or "".
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .unwrap_or("")
}
