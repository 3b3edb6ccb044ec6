//! The cluster port under attack, with real node processes: what it binds, what it
//! refuses to start with, and rogue peers — built here on ractor_cluster, as an
//! attacker would — that send absurd limits, join another node's gateway group,
//! hold idle connections open, present the wrong cookie or no valid certificate.
//! And the secrets nodes share come from files, never the command line.

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use ractor_cluster::node::NodeConnectionMode;
use ractor_cluster::{NodeServer, NodeServerMessage};
use spoofify_service::cluster::wire::{
    group_name, FeedReply, FeedRequest, GatewayMsg, ScoreReply, Wire, WireItem,
};
use spoofify_service::store::NodeId;
use support::cluster::*;
use support::{free_port, poll_until, wait_for};

/// The shipped default cookie: what a test cluster without TLS runs with.
const DEFAULT_COOKIE: &str = "spoofify-dev-cookie";

/// Rogue peers live in this test process's one `ractor::pg` registry: one at a time.
static ROGUE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A ractor_cluster node of the attacker's, in this process.
struct Rogue {
    server: ActorRef<NodeServerMessage>,
}

impl Rogue {
    async fn start(name: &str, cookie: &str) -> Self {
        let ns = NodeServer::new(
            0,
            cookie.into(),
            name.into(),
            "127.0.0.1".into(),
            None,
            Some(NodeConnectionMode::Isolated),
        )
        .with_listen_addr([127, 0, 0, 1].into());
        let (server, _) = Actor::spawn(None, ns, ()).await.expect("rogue node server");
        Self { server }
    }

    async fn connect(&self, addr: &str) {
        ractor_cluster::client_connect(&self.server, addr)
            .await
            .expect("rogue connects over TCP");
    }

    /// Sessions that authenticated (ractor_cluster lists only those).
    async fn sessions(&self) -> usize {
        ractor::call_t!(self.server, NodeServerMessage::GetSessions, 2000)
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// `node`'s gateway as this rogue sees it, once its session is up.
    fn gateway(node: &str) -> Option<ActorRef<GatewayMsg>> {
        let node = NodeId::parse(node).ok()?;
        ractor::pg::get_members(&group_name(&node))
            .into_iter()
            .find(|c| !c.get_id().is_local())
            .map(ActorRef::from)
    }
}

impl Drop for Rogue {
    fn drop(&mut self) {
        self.server.stop(None);
    }
}

/// Waits (up to 15 s) until the rogue sees `node`'s gateway: its session is up.
async fn rogue_sees(node: &str) -> ActorRef<GatewayMsg> {
    wait_for(
        &format!("the rogue to see {node}'s gateway"),
        Duration::from_secs(15),
        || async { Rogue::gateway(node) },
    )
    .await
}

/// The inodes of the listening TCP sockets in /proc/net/tcp{,6}, with their address.
fn listening_sockets() -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != "0A" {
                continue; // not LISTEN
            }
            out.insert(f[9].to_string(), decode_addr(f[1], v6));
        }
    }
    out
}

/// `0100007F:1F90` → `127.0.0.1:8080` (IPv6 shown as its hex words).
fn decode_addr(hex: &str, v6: bool) -> String {
    let (ip, port) = hex.split_once(':').expect("addr:port");
    let port = u16::from_str_radix(port, 16).expect("port");
    if v6 {
        return format!("[{ip}]:{port}");
    }
    let n = u32::from_str_radix(ip, 16).expect("ip");
    let b = n.to_le_bytes();
    format!("{}.{}.{}.{}:{port}", b[0], b[1], b[2], b[3])
}

/// How many file descriptors a process holds.
fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The listening sockets a process holds.
fn listening_of(pid: u32) -> Vec<String> {
    let socks = listening_sockets();
    let mut out = Vec::new();
    if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let t = target.to_string_lossy();
            if let Some(inode) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                if let Some(addr) = socks.get(inode) {
                    out.push(addr.clone());
                }
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cluster_listener_binds_only_the_configured_address() {
    let _one = ROGUE.lock().await;
    let c = TestCluster::start(1).await;
    let n1 = &c.nodes["n1"];
    let port: u16 = n1.cluster.rsplit(':').next().unwrap().parse().unwrap();
    let pid = n1.child.id();
    let listening = wait_for(
        "the node's listening sockets",
        Duration::from_secs(10),
        || {
            let l = listening_of(pid);
            async move { (!l.is_empty()).then_some(l) }
        },
    )
    .await;
    assert!(
        listening.contains(&format!("127.0.0.1:{port}")),
        "the cluster port {port} is not on 127.0.0.1: {listening:?}"
    );
    for addr in &listening {
        assert!(
            addr.starts_with("127.0.0.1:"),
            "the node listens on {addr} (every listener: {listening:?}); only loopback was configured"
        );
    }
    // And nothing answers on the IPv6 loopback at the cluster port.
    assert!(
        tokio::net::TcpStream::connect(("::1", port)).await.is_err(),
        "the cluster port answers on [::1]"
    );
    // ractor_cluster's own listener (any other port but HTTP's) admits nobody, even
    // with the right cookie.
    let http_port = n1.base.rsplit(':').next().unwrap().to_string();
    let inner: Vec<_> = listening
        .iter()
        .filter(|a| !a.ends_with(&format!(":{port}")) && !a.ends_with(&format!(":{http_port}")))
        .collect();
    assert!(
        !inner.is_empty(),
        "no listener of ractor_cluster's own: {listening:?}"
    );
    for addr in inner {
        let rogue = Rogue::start("rogue-inner", DEFAULT_COOKIE).await;
        rogue.connect(addr).await;
        let joined = poll_until(Duration::from_secs(3), || async {
            Rogue::gateway("n1").map(|_| ())
        })
        .await;
        assert!(joined.is_none(), "{addr} let a peer reach the gateway");
        assert_eq!(rogue.sessions().await, 0, "{addr} kept a session");
    }
}

/// Runs `spoofify serve` with `env` and a non-loopback cluster address; returns its
/// stderr once it exits (it must, within 30 s).
fn serve_off_loopback(dir: &Path, env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let log = dir.join("refused.log");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_spoofify"));
    cmd.arg("serve")
        .args(["--http", &format!("127.0.0.1:{}", free_port())])
        // TEST-NET-3: never a local address, so a node that got past the checks
        // fails to bind it rather than listen somewhere else.
        .args(["--cluster-addr", &format!("203.0.113.7:{}", free_port())])
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "info")
        .env("SPOOFIFY_CATALOG__DEMO_SONGS", "12")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, std::fs::read_to_string(&log).unwrap_or_default());
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the node kept running with a cluster address off loopback and {env:?}; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn off_loopback_a_node_refuses_a_weak_cookie_and_plain_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let (status, log) = serve_off_loopback(dir.path(), &[]);
    assert!(!status.success());
    assert!(
        log.contains("cookie") && log.contains("shipped"),
        "no word of the cookie: {log}"
    );
    let (status, log) = serve_off_loopback(
        dir.path(),
        &[("SPOOFIFY_CLUSTER_COOKIE", "too-short-but-not-shipped")],
    );
    assert!(!status.success());
    assert!(log.contains("32"), "no word of the length: {log}");
    // A strong cookie from a file, no TLS: refused, TLS named.
    let certs = dir.path().join("certs");
    let made = spoofify_tools::certs::make(&certs, &["n1".into()]).unwrap();
    let cookie_file = made.cookie.to_string_lossy().to_string();
    let (status, log) = serve_off_loopback(
        dir.path(),
        &[
            ("SPOOFIFY_NODE_ID", "n1"),
            ("SPOOFIFY_CLUSTER_COOKIE_FILE", &cookie_file),
        ],
    );
    assert!(!status.success());
    assert!(log.contains("TLS"), "no word of TLS: {log}");
    // Strong cookie and TLS: past the checks; it then fails to bind the address it
    // was given (not local here) instead of listening anywhere else.
    let (cert, key) = (&made.nodes[0].1, &made.nodes[0].2);
    let (status, log) = serve_off_loopback(
        dir.path(),
        &[
            ("SPOOFIFY_NODE_ID", "n1"),
            ("SPOOFIFY_CLUSTER_COOKIE_FILE", &cookie_file),
            ("SPOOFIFY_CLUSTER_LINK__TLS_CERT", &cert.to_string_lossy()),
            ("SPOOFIFY_CLUSTER_LINK__TLS_KEY", &key.to_string_lossy()),
            ("SPOOFIFY_CLUSTER_LINK__TLS_CA", &made.ca.to_string_lossy()),
        ],
    );
    assert!(!status.success());
    assert!(
        log.contains("203.0.113.7")
            && !log.contains("cookie must")
            && !log.contains("TLS between nodes is required"),
        "expected a bind failure on the configured address: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peers_absurd_limit_is_clamped_and_the_node_lives() {
    let _one = ROGUE.lock().await;
    let mut c = TestCluster::start(1).await;
    let ls = c.listeners("absurd", 1).await;
    let rogue = Rogue::start("rogue-absurd", DEFAULT_COOKIE).await;
    rogue.connect(&c.nodes["n1"].cluster).await;
    let gw = rogue_sees("n1").await;
    let req = FeedRequest {
        listener: ls[0].id.to_string(),
        limit: u32::MAX,
    };
    let reply = gw
        .call(
            |r| GatewayMsg::Feed(Wire::ok(req), r),
            Some(Duration::from_secs(10)),
        )
        .await;
    let items = match reply {
        Ok(CallResult::Success(Wire(Ok(FeedReply::ServedWithDigest { items, .. }))))
        | Ok(CallResult::Success(Wire(Ok(FeedReply::Served { items, .. })))) => items,
        other => panic!("no feed for the absurd limit: {other:?}"),
    };
    assert!(
        (1..=100).contains(&items.len()),
        "{} items for one request",
        items.len()
    );
    let n1 = c.nodes.get_mut("n1").unwrap();
    assert!(
        n1.child.try_wait().unwrap().is_none(),
        "the node exited: {}",
        n1.log_text()
    );
    let r = c
        .http
        .get(format!("{}/healthz", c.nodes["n1"].base))
        .send()
        .await
        .expect("the node still answers");
    assert_eq!(r.status(), 200);
}

/// A gateway of the attacker's: answers every feed with injected items.
struct RogueGateway {
    group: String,
    songs: Vec<String>,
    asked: Arc<AtomicUsize>,
}

impl Actor for RogueGateway {
    type Msg = GatewayMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, me: ActorRef<GatewayMsg>, _: ()) -> Result<(), ActorProcessingErr> {
        ractor::pg::join(self.group.clone(), vec![me.get_cell()]);
        Ok(())
    }

    async fn handle(
        &self,
        _me: ActorRef<GatewayMsg>,
        msg: GatewayMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            GatewayMsg::Feed(_, reply) => {
                self.asked.fetch_add(1, Ordering::SeqCst);
                let items = self
                    .songs
                    .iter()
                    .take(5)
                    .map(|s| WireItem {
                        song_id: s.clone(),
                        score: 99.0,
                        reason: "INJECTED by a rogue peer".into(),
                    })
                    .collect();
                let _ = reply.send(Wire::ok(FeedReply::ServedWithDigest {
                    items,
                    epoch: 1,
                    applied_seq: 1_000_000,
                    training_rows: 1,
                    fitted_rows: 1,
                    training_digest: 7,
                }));
            }
            GatewayMsg::Ping(Wire(n), reply) => {
                let _ = reply.send(Wire(n));
            }
            GatewayMsg::Score(_, reply) => {
                self.asked.fetch_add(1, Ordering::SeqCst);
                let _ = reply.send(Wire::ok(ScoreReply::Scored(vec![Some(99.0); 300])));
            }
            GatewayMsg::Interact(_) => {}
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rogue_in_another_nodes_gateway_group_gets_no_feed() {
    let _one = ROGUE.lock().await;
    let c = TestCluster::start(2).await;
    let ls = c.listeners("grp", 40).await;
    let asked = Arc::new(AtomicUsize::new(0));
    let rogue = Rogue::start("rogue-group", DEFAULT_COOKIE).await;
    let (_gw, _) = Actor::spawn(
        None,
        RogueGateway {
            group: "spoofify.gateway.n2".into(),
            songs: c.song_ids().await,
            asked: asked.clone(),
        },
        (),
    )
    .await
    .unwrap();
    rogue.connect(&c.nodes["n1"].cluster).await;
    rogue_sees("n1").await;
    // Give n1 a moment past the rogue's group sync, then ask n1 for every feed,
    // twice (n2 owns about half of them).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base = c.nodes["n1"].base.clone();
    let (mut injected, mut by_n2) = (0, 0);
    for _ in 0..2 {
        for l in &ls {
            let Some(f) = feed(&c.http, &base, l).await else {
                continue;
            };
            let text = f.to_string();
            if text.contains("INJECTED") {
                injected += 1;
            }
            if f["ranked_by"] == "n2" && f["degraded"] == false {
                by_n2 += 1;
            }
        }
    }
    assert_eq!(
        injected,
        0,
        "{injected} feeds carried the rogue's items ({} feed requests reached it)",
        asked.load(Ordering::SeqCst)
    );
    assert_eq!(
        asked.load(Ordering::SeqCst),
        0,
        "feeds were routed to the rogue"
    );
    assert!(by_n2 > 0, "no feed was ranked by the real n2");
    assert_eq!(rogue.sessions().await, 1, "the rogue's session is up");
    // No registry node vouches for the rogue's session: n1 closes it (after a grace
    // of 10 s that spares a node which has just registered).
    let closed = poll_until(Duration::from_secs(25), || {
        let r = &rogue;
        async move { (r.sessions().await == 0).then_some(()) }
    })
    .await;
    assert!(closed.is_some(), "n1 kept the rogue's session open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_connections_are_closed_and_health_keeps_answering() {
    let opts = NodeOpts {
        fd_limit: Some(1024),
        env: vec![(
            "SPOOFIFY_CLUSTER_LINK__HANDSHAKE_TIMEOUT_MS".into(),
            "2000".into(),
        )],
        ..Default::default()
    };
    let c = TestCluster::start_with(1, opts).await;
    let n1 = &c.nodes["n1"];
    let addr: SocketAddr = n1.cluster.parse().unwrap();
    let log_before = std::fs::metadata(&n1.log).map(|m| m.len()).unwrap_or(0);
    let pid = n1.child.id();
    let fds_before = fd_count(pid);
    // 1100 idle connections that never say a word.
    let opened = futures::future::join_all((0..1100).map(|_| async move {
        tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(addr))
            .await
            .ok()
            .and_then(|r| r.ok())
    }))
    .await;
    let conns: Vec<_> = opened.into_iter().flatten().collect();
    assert!(conns.len() > 100, "only {} connections opened", conns.len());
    // /healthz answers throughout, within a second each time.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let (mut ok, mut failed, mut most_fds) = (0, 0, 0);
    let until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < until {
        most_fds = most_fds.max(fd_count(pid));
        match http.get(format!("{}/healthz", n1.base)).send().await {
            Ok(r) if r.status() == 200 => ok += 1,
            _ => failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(failed, 0, "/healthz failed {failed} times ({ok} answered)");
    // The node closed every idle connection: at once when too many were in their
    // handshake, else at the 2 s deadline. Counted on the node's side (its open file
    // descriptors): a burst this size overflows the kernel's accept queue, and the
    // connections dropped there look open from this side although the node never
    // held them.
    let settled = poll_until(Duration::from_secs(15), || async move {
        let now = fd_count(pid);
        (now <= fds_before + 8).then_some(now)
    })
    .await;
    assert!(
        settled.is_some(),
        "the node still holds {} file descriptors ({fds_before} before the idle connections)",
        fd_count(pid)
    );
    assert!(
        most_fds <= fds_before + 64 + 32,
        "the node held {most_fds} file descriptors during the storm ({fds_before} before)"
    );
    drop(conns);
    let grew = std::fs::metadata(&n1.log).map(|m| m.len()).unwrap_or(0) - log_before;
    assert!(grew < 256 * 1024, "the log grew by {grew} bytes");
    // And the port still takes a real peer: a second node joins.
    let mut c = c;
    c.add_node("n2").await;
    c.wait_live(2).await;
    let ls = c.listeners("idle", 12).await;
    let base = c.nodes["n1"].base.clone();
    let ranked_by_n2 = poll_until(Duration::from_secs(20), || {
        let (http, base, ls) = (c.http.clone(), base.clone(), ls.clone());
        async move {
            for l in &ls {
                let f = feed(&http, &base, l).await?;
                if f["ranked_by"] == "n2" {
                    return Some(());
                }
            }
            None
        }
    })
    .await;
    assert!(ranked_by_n2.is_some(), "n1 never routed a feed to n2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_peer_with_the_wrong_cookie_is_refused() {
    let _one = ROGUE.lock().await;
    let c = TestCluster::start(1).await;
    let rogue = Rogue::start("rogue-cookie", "not-the-cookie-of-this-cluster").await;
    rogue.connect(&c.nodes["n1"].cluster).await;
    let joined = poll_until(Duration::from_secs(4), || async {
        Rogue::gateway("n1").map(|_| ())
    })
    .await;
    assert!(joined.is_none(), "a wrong cookie reached the gateway");
    assert_eq!(rogue.sessions().await, 0);
}

/// A rustls client configuration presenting `cert`/`key` and trusting `ca`.
fn client_tls(ca: &Path, cert: &Path, key: &Path) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let chain: Vec<_> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_tls_a_peer_without_a_valid_certificate_cannot_join() {
    let _one = ROGUE.lock().await;
    let c = TestCluster::start_with(
        1,
        NodeOpts {
            tls: true,
            ..Default::default()
        },
    )
    .await;
    let cookie = std::fs::read_to_string(c.certs_dir().join("cookie")).unwrap();
    let cookie = cookie.trim();
    // With the right cookie but plain TCP.
    let rogue = Rogue::start("rogue-plain", cookie).await;
    rogue.connect(&c.nodes["n1"].cluster).await;
    let joined = poll_until(Duration::from_secs(4), || async {
        Rogue::gateway("n1").map(|_| ())
    })
    .await;
    assert!(
        joined.is_none(),
        "plain TCP with the cookie reached the gateway"
    );
    assert_eq!(rogue.sessions().await, 0);
    drop(rogue);
    // With the right cookie and a certificate from another CA (trusting the real one).
    let other = c.root.join("other-ca");
    let made = spoofify_tools::certs::make(&other, &["n9".into()]).unwrap();
    let connector = client_tls(
        &c.certs_dir().join("ca.pem"),
        &made.nodes[0].1,
        &made.nodes[0].2,
    );
    let rogue = Rogue::start("n9", cookie).await;
    let name = rustls::pki_types::ServerName::try_from("n1").unwrap();
    let _ = ractor_cluster::client_connect_enc(
        &rogue.server,
        c.nodes["n1"].cluster.as_str(),
        connector,
        name,
    )
    .await;
    let joined = poll_until(Duration::from_secs(4), || async {
        Rogue::gateway("n1").map(|_| ())
    })
    .await;
    assert!(
        joined.is_none(),
        "a foreign certificate reached the gateway"
    );
    assert_eq!(rogue.sessions().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redis_password_comes_from_a_file_not_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut redis = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--requirepass", "s3cret pass/word", "--save", ""])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server");
    let pw = dir.path().join("redis-password");
    std::fs::write(&pw, "s3cret pass/word\n").unwrap();
    let http = free_port();
    let mut node = std::process::Command::new(env!("CARGO_BIN_EXE_spoofify"))
        .arg("serve")
        .args(["--http", &format!("127.0.0.1:{http}")])
        .args(["--redis", &format!("redis://127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .env("SPOOFIFY_REDIS_PASSWORD_FILE", &pw)
        .env("SPOOFIFY_CATALOG__DEMO_SONGS", "12")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("node.log")).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let ready = poll_until(Duration::from_secs(120), || {
        let client = client.clone();
        async move {
            let r = client
                .get(format!("http://127.0.0.1:{http}/readyz"))
                .send()
                .await
                .ok()?;
            (r.status() == 200).then_some(())
        }
    })
    .await;
    let log = std::fs::read_to_string(dir.path().join("node.log")).unwrap_or_default();
    let _ = node.kill();
    let _ = node.wait();
    let _ = redis.kill();
    let _ = redis.wait();
    assert!(ready.is_some(), "the node never became ready; log:\n{log}");
    assert!(!log.contains("s3cret"), "the password shows in the log");
}
