//! A real cluster for tests and the failover benchmark: a private Redis (AOF on) and
//! `spoofify serve` node processes on loopback, each with its own data directory and
//! ports; listeners are created directly in the store (account + session), so a test
//! can drive hundreds of them over HTTP without paying for password hashing.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use spoofify_service::config::{Overrides, Settings};
use spoofify_service::store::redis_cluster_process::{ClusterOptions, RedisCluster};
use spoofify_service::store::redis_process::{Fsync, RedisProcess};
use spoofify_service::store::*;

use super::{free_port, poll_until};

/// Settings every test node gets (env layer), tuned so membership reacts quickly.
pub const NODE_ENV: &[(&str, &str)] = &[
    ("SPOOFIFY_CATALOG__DEMO_SONGS", "24"),
    ("SPOOFIFY_MEMBERSHIP__HEARTBEAT_INTERVAL_MS", "250"),
    ("SPOOFIFY_MEMBERSHIP__HEARTBEAT_TTL_MS", "1500"),
    ("SPOOFIFY_MEMBERSHIP__DRAIN_GRACE_MS", "800"),
    ("SPOOFIFY_LISTENERS__SNAPSHOT_EVERY", "3"),
    ("SPOOFIFY_LISTENERS__FIT_DEBOUNCE_MS", "50"),
    ("SPOOFIFY_OPS_TOKEN", OPS_TOKEN),
];

/// The operator token of the test clusters (`/api/cluster`, `/readyz` details).
pub const OPS_TOKEN: &str = "test-cluster-operator-token-0123456789";

/// How the nodes of a [`TestCluster`] are started.
#[derive(Clone, Debug, Default)]
pub struct NodeOpts {
    /// Mutual TLS between nodes and a strong cookie, from `spoofify cluster certs`
    /// output in `<root>/certs` (each node's certificate made as it is spawned).
    pub tls: bool,
    /// More environment for every node (e.g. a short handshake deadline).
    pub env: Vec<(String, String)>,
    /// `ulimit -n` for the node processes.
    pub fd_limit: Option<u32>,
}

pub struct NodeProc {
    pub id: String,
    pub base: String,
    /// Its cluster address (`127.0.0.1:port`).
    pub cluster: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl NodeProc {
    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The log without its colour codes.
    pub fn log_plain(&self) -> String {
        let text = self.log_text();
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// What the nodes keep their state in.
pub enum StateTier {
    /// One redis-server.
    Server(RedisProcess),
    /// A Redis Cluster (3 masters + 3 replicas).
    Cluster(RedisCluster),
}

impl StateTier {
    /// The node flag naming it: `--redis URL` or `--redis-cluster SEEDS`.
    fn node_flag(&self) -> [String; 2] {
        match self {
            StateTier::Server(r) => ["--redis".into(), r.url()],
            StateTier::Cluster(c) => ["--redis-cluster".into(), c.seed_list()],
        }
    }

    /// The Redis Cluster, when the nodes run on one.
    pub fn cluster(&mut self) -> Option<&mut RedisCluster> {
        match self {
            StateTier::Cluster(c) => Some(c),
            StateTier::Server(_) => None,
        }
    }
}

pub struct TestCluster {
    pub redis: StateTier,
    /// Node data dirs and logs; kept after the test when `KEEP_CLUSTER_DIR` is set.
    pub root: PathBuf,
    _dir: Option<tempfile::TempDir>,
    pub store: SharedStore,
    pub nodes: HashMap<String, NodeProc>,
    pub http: reqwest::Client,
    pub opts: NodeOpts,
}

/// A listener the test drives: its id and session cookie.
#[derive(Clone, Debug)]
pub struct TestListener {
    pub id: ListenerId,
    pub cookie: String,
}

impl TestCluster {
    /// Redis plus `n` nodes (`n1`…), all ready.
    pub async fn start(n: usize) -> Self {
        Self::start_with(n, NodeOpts::default()).await
    }

    /// Like [`Self::start`], the nodes started as `opts` says.
    pub async fn start_with(n: usize, opts: NodeOpts) -> Self {
        let redis = RedisProcess::start_temp(Fsync::Always).expect("redis-server");
        Self::start_on(StateTier::Server(redis), n, opts).await
    }

    /// `n` nodes on a fresh Redis Cluster (3 masters + 3 replicas, AOF `always`).
    pub async fn start_on_redis_cluster(n: usize, opts: NodeOpts) -> Self {
        Self::start_on_redis_cluster_with(n, opts, ClusterOptions::default()).await
    }

    /// `n` nodes on a fresh Redis Cluster laid out as `redis` says.
    pub async fn start_on_redis_cluster_with(
        n: usize,
        opts: NodeOpts,
        redis: ClusterOptions,
    ) -> Self {
        let cluster = tokio::task::spawn_blocking(|| RedisCluster::start(redis))
            .await
            .expect("join")
            .expect("redis cluster");
        Self::start_on(StateTier::Cluster(cluster), n, opts).await
    }

    /// `n` nodes on `redis`, all ready; the catalog written first.
    pub async fn start_on(redis: StateTier, n: usize, opts: NodeOpts) -> Self {
        let [flag, value] = redis.node_flag();
        let overrides = match flag.as_str() {
            "--redis" => Overrides {
                redis: Some(value),
                ..Default::default()
            },
            _ => Overrides {
                redis_cluster: Some(value),
                ..Default::default()
            },
        };
        let settings = Settings::load(None, &overrides).expect("settings");
        let store = spoofify_service::store::open(&settings)
            .await
            .expect("store");
        let dir = tempfile::tempdir().expect("tempdir");
        let (root, _dir) = if std::env::var_os("KEEP_CLUSTER_DIR").is_some() {
            let root = dir.keep();
            eprintln!("cluster dir kept: {}", root.display());
            (root, None)
        } else {
            (dir.path().to_owned(), Some(dir))
        };
        let mut c = TestCluster {
            redis,
            root,
            _dir,
            store,
            nodes: HashMap::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            opts,
        };
        // A small synthetic catalog in Redis (no audio needed here): every node loads it.
        c.store
            .put_catalog(&synthetic_songs(40))
            .await
            .expect("catalog");
        for i in 1..=n {
            c.spawn_node(&format!("n{i}"));
        }
        for i in 1..=n {
            c.wait_ready(&format!("n{i}")).await;
        }
        c.wait_live(n).await;
        c
    }

    /// Where `spoofify cluster certs` output goes when the nodes use TLS.
    pub fn certs_dir(&self) -> PathBuf {
        self.root.join("certs")
    }

    pub fn spawn_node(&mut self, id: &str) {
        let http = free_port();
        let cport = free_port();
        let dir = self.root.join(id);
        std::fs::create_dir_all(&dir).expect("node dir");
        let log = dir.join("node.log");
        let exe = env!("CARGO_BIN_EXE_spoofify");
        let mut cmd = match self.opts.fd_limit {
            Some(n) => {
                let mut c = Command::new("sh");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), exe]);
                c
            }
            None => Command::new(exe),
        };
        cmd.arg("serve")
            .args(["--http", &format!("127.0.0.1:{http}")])
            .args(["--cluster-addr", &format!("127.0.0.1:{cport}")])
            .args(["--node-id", id])
            .args(self.redis.node_flag())
            .arg("--data-dir")
            .arg(&dir)
            .env(
                "RUST_LOG",
                std::env::var("TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"));
        for (k, v) in NODE_ENV {
            cmd.env(k, v);
        }
        if self.opts.tls {
            let certs = self.certs_dir();
            let made = spoofify_tools::certs::make(&certs, &[id.to_string()]).expect("certs");
            let (_, cert, key) = &made.nodes[0];
            cmd.env("SPOOFIFY_CLUSTER_LINK__TLS_CERT", cert)
                .env("SPOOFIFY_CLUSTER_LINK__TLS_KEY", key)
                .env("SPOOFIFY_CLUSTER_LINK__TLS_CA", &made.ca)
                .env(
                    "SPOOFIFY_CLUSTER_COOKIE",
                    std::fs::read_to_string(&made.cookie)
                        .expect("cookie")
                        .trim(),
                );
        }
        for (k, v) in &self.opts.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn spoofify");
        self.nodes.insert(
            id.to_owned(),
            NodeProc {
                id: id.to_owned(),
                base: format!("http://127.0.0.1:{http}"),
                cluster: format!("127.0.0.1:{cport}"),
                child,
                log,
            },
        );
    }

    pub async fn add_node(&mut self, id: &str) {
        self.spawn_node(id);
        self.wait_ready(id).await;
    }

    /// Waits for node `id` to answer `/readyz` 200. A port picked free can be taken by
    /// another process before the node binds it (ports are picked, released, then
    /// bound by the child): a node that exits with "Address already in use" is
    /// started again on fresh ports, at most twice.
    pub async fn wait_ready(&mut self, id: &str) {
        for attempt in 0..3 {
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            loop {
                let base = self.nodes[id].base.clone();
                if let Ok(r) = self.http.get(format!("{base}/readyz")).send().await {
                    if r.status() == 200 {
                        return;
                    }
                }
                let node = self.nodes.get_mut(id).expect("node spawned");
                if matches!(node.child.try_wait(), Ok(Some(_))) {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "node {id} not ready; log:\n{}",
                    std::fs::read_to_string(&node.log).unwrap_or_default()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let log = std::fs::read_to_string(&self.nodes[id].log).unwrap_or_default();
            assert!(
                attempt < 2 && log.contains("Address already in use"),
                "node {id} exited before it was ready; log:\n{log}"
            );
            self.nodes.remove(id);
            self.spawn_node(id);
        }
    }

    /// Waits until the registry lists `n` nodes in state "up".
    pub async fn wait_live(&self, n: usize) {
        let store = self.store.clone();
        let ok = poll_until(Duration::from_secs(20), || {
            let store = store.clone();
            async move {
                let live = store.live_nodes().await.ok()?;
                (live.iter().filter(|l| l.info.state == "up").count() == n).then_some(())
            }
        })
        .await;
        assert!(ok.is_some(), "the live set never reached {n} nodes");
    }

    pub fn bases(&self) -> Vec<(String, String)> {
        let mut v: Vec<_> = self
            .nodes
            .values()
            .map(|n| (n.id.clone(), n.base.clone()))
            .collect();
        v.sort();
        v
    }

    /// Creates `n` listeners directly in the store, with a session each.
    pub async fn listeners(&self, prefix: &str, n: usize) -> Vec<TestListener> {
        let genres: Vec<String> = self
            .store
            .catalog()
            .await
            .expect("catalog")
            .iter()
            .map(|s| s.genre.clone())
            .collect();
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let id = ListenerId::parse(&format!("{prefix}{i}")).expect("id");
            let account = Account {
                id: id.clone(),
                username: Username::parse(&format!("{prefix}{i}")).expect("username"),
                password_hash: "not-a-real-hash".into(),
                created_ms: now_ms(),
                preferences: Preferences {
                    genres: vec![genres[i % genres.len()].clone()],
                    seed_songs: vec![],
                    onboarded: true,
                },
                session_epoch: 0,
            };
            self.store.create_account(&account).await.expect("account");
            // A token as the service mints one (`<listener>.<random>`): the session is
            // kept beside the account, in the listener's Redis Cluster slot.
            let token = spoofify_service::http::session::new_session_token(&id);
            let session = Session {
                token_hash: spoofify_service::http::session::hash_token(&token),
                listener: id.clone(),
                created_ms: now_ms(),
                epoch: 0,
            };
            self.store
                .put_session(&session, Duration::from_secs(3600))
                .await
                .expect("session");
            out.push(TestListener {
                id,
                cookie: format!("spoofify_session={token}"),
            });
        }
        out
    }

    pub async fn song_ids(&self) -> Vec<String> {
        self.store
            .catalog()
            .await
            .expect("catalog")
            .iter()
            .map(|s| s.id.to_string())
            .collect()
    }
}

/// Songs with metadata and features but no audio, in four genres.
pub fn synthetic_songs(n: usize) -> Vec<spoofify_service::catalog::Song> {
    use spoofify_service::catalog::{Features, Song, SongId, SongSource};
    (0..n)
        .map(|i| Song {
            id: SongId::parse(&format!("demo-{i:04}")).expect("song id"),
            title: format!("Song {i}"),
            artist: format!("Artist {}", i % 7),
            album: format!("Album {}", i % 5),
            genre: ["rock", "jazz", "ambient", "techno"][i % 4].into(),
            duration_ms: 180_000,
            year: None,
            source: SongSource::Imported {
                path: format!("synthetic/{i}.ogg").into(),
                size: 0,
                mtime_ms: 0,
            },
            features: Features::from_raw([
                i as f32,
                (i % 4) as f32,
                1.0,
                2.0,
                0.5,
                0.1,
                3.0,
                (i % 3) as f32,
            ]),
            popularity: (i % 10) as f32 / 10.0,
        })
        .collect()
}

/// Posts one interaction; `Some(seq)` when acknowledged (2xx).
pub async fn interact(
    http: &reqwest::Client,
    base: &str,
    l: &TestListener,
    client_id: &str,
    song: &str,
    kind: &str,
) -> Option<u64> {
    let r = http
        .post(format!("{base}/api/interactions"))
        .header("cookie", &l.cookie)
        .json(&serde_json::json!({"id": client_id, "song_id": song, "kind": kind, "position_ms": 1000}))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json::<Value>().await.ok()?["seq"].as_u64()
}

/// `GET /api/feed`; the JSON body when 200.
pub async fn feed(http: &reqwest::Client, base: &str, l: &TestListener) -> Option<Value> {
    let r = http
        .get(format!("{base}/api/feed?limit=5"))
        .header("cookie", &l.cookie)
        .send()
        .await
        .ok()?;
    if r.status() != 200 {
        return None;
    }
    r.json().await.ok()
}
