//! The HTTP edge under abuse (issue 15): every test here failed on the code before the
//! hardening and passes after it.
//!
//! - Connections: slow sockets do not starve `/healthz`; a half-sent header, a slow body,
//!   an idle connection are each closed or answered in bounded time; a connection cap;
//!   a keep-alive limit.

mod support;

use std::time::{Duration, Instant};

use spoofify_service::config::{Overrides, Settings};
use support::app::{start_app, TestCatalog};
use support::node::{wait_ready, NodeProcess};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The figure: with this many slow sockets open, `/healthz` still answers...
const SLOW_SOCKETS: usize = 2000;
/// ...within this.
const HEALTHZ_WITHIN: Duration = Duration::from_millis(100);
/// A typical default soft open-file limit, which the node process is started with.
const DEFAULT_SOFT_NOFILE: u64 = 1024;

/// The address `host:port` of a base URL.
fn authority(base: &str) -> &str {
    base.trim_start_matches("http://")
}

/// Reads from `stream` until a whole response head arrived, EOF, or `deadline`.
/// `None` on timeout; `Some("")` on EOF before anything came.
async fn read_head(stream: &mut TcpStream, deadline: Duration) -> Option<String> {
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    };
    tokio::time::timeout(deadline, read).await.ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// True once the peer closed `stream` (EOF or reset), within `deadline`.
async fn closed_within(stream: &mut TcpStream, deadline: Duration) -> bool {
    let mut chunk = [0u8; 1024];
    let wait = async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(deadline, wait).await.is_ok()
}

async fn get_healthz(base: &str) -> Option<String> {
    let mut s = TcpStream::connect(authority(base)).await.ok()?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .ok()?;
    read_head(&mut s, Duration::from_secs(5)).await
}

/// Raises this process's soft open-file limit to the hard one (the test opens thousands
/// of sockets itself).
fn raise_own_nofile() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut l = getrlimit(Resource::Nofile);
    l.current = l.maximum;
    setrlimit(Resource::Nofile, l.clone()).expect("raise RLIMIT_NOFILE");
    l.current.unwrap_or(u64::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_fast_with_2000_slow_sockets_open() {
    let nofile = raise_own_nofile();
    assert!(
        nofile > SLOW_SOCKETS as u64 + 200,
        "this machine's hard open-file limit ({nofile}) is too low for the test"
    );
    let dir = tempfile::tempdir().unwrap();
    // A catalog in the store beforehand, so no demo generation competes for the cores.
    let overrides = Overrides {
        data_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let settings = Settings::load(None, &overrides).unwrap();
    support::app::seed_synthetic_catalog(&settings).await;
    // The node starts with the usual default soft limit (and this machine's hard limit).
    let node = NodeProcess::start_with(dir.path(), &[], |cmd| {
        use std::os::unix::process::CommandExt;
        // SAFETY: only setrlimit (a system call) runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                use rustix::process::{getrlimit, setrlimit, Resource};
                let mut l = getrlimit(Resource::Nofile);
                l.current = Some(DEFAULT_SOFT_NOFILE);
                setrlimit(Resource::Nofile, l).map_err(std::io::Error::from)
            });
        }
    });
    let client = reqwest::Client::new();
    wait_ready(&client, &node.base, Duration::from_secs(60)).await;

    // Slowloris: each socket sends part of a header and then nothing more.
    let mut slow = Vec::with_capacity(SLOW_SOCKETS);
    for _ in 0..SLOW_SOCKETS {
        let mut s = TcpStream::connect(authority(&node.base))
            .await
            .expect("connect (the kernel's backlog accepts even when the node does not)");
        s.write_all(b"GET /api/songs HTTP/1.1\r\nhost: t\r\nx-slow: ")
            .await
            .expect("send a partial header");
        slow.push(s);
    }
    // Let the node's accept loop reach all of them.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let head = tokio::time::timeout(HEALTHZ_WITHIN * 20, get_healthz(&node.base)).await;
        let took = started.elapsed();
        let head = head.ok().flatten().unwrap_or_default();
        assert!(
            head.starts_with("HTTP/1.1 200"),
            "healthz with {SLOW_SOCKETS} slow sockets open: {head:?} after {took:?}"
        );
        times.push(took);
    }
    times.sort();
    eprintln!("healthz with {SLOW_SOCKETS} slow sockets open: {times:?}");
    assert!(
        times[times.len() / 2] <= HEALTHZ_WITHIN,
        "healthz took {times:?} (median over {HEALTHZ_WITHIN:?})"
    );
    drop(slow);
}

/// A node in this process with small connection limits.
fn limited_app(tweak: impl FnOnce(&mut spoofify_service::config::HttpLimits)) -> String {
    start_app(TestCatalog::Synthetic, |s| tweak(&mut s.http_limits)).base
}

#[tokio::test]
async fn a_half_sent_header_is_closed_after_the_header_timeout() {
    let base = limited_app(|l| l.header_read_timeout_ms = 300);
    let mut s = TcpStream::connect(authority(&base)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\nx-slow: ")
        .await
        .unwrap();
    assert!(
        closed_within(&mut s, Duration::from_secs(5)).await,
        "a half-sent header still holds its connection after 5 s"
    );
}

#[tokio::test]
async fn a_body_that_never_comes_is_answered_503_after_the_request_timeout() {
    let base = limited_app(|l| l.request_timeout_ms = 300);
    let mut s = TcpStream::connect(authority(&base)).await.unwrap();
    s.write_all(
        b"POST /api/login HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n\
          content-length: 100\r\n\r\n{\"user",
    )
    .await
    .unwrap();
    let head = read_head(&mut s, Duration::from_secs(5)).await;
    let head = head.expect("no answer within 5 s to a request whose body never ends");
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let base = limited_app(|l| {
        l.idle_timeout_ms = 300;
        l.header_read_timeout_ms = 60_000;
    });
    let mut s = TcpStream::connect(authority(&base)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    let head = read_head(&mut s, Duration::from_secs(5)).await.unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        closed_within(&mut s, Duration::from_secs(5)).await,
        "an idle keep-alive connection is still open after 5 s"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_are_refused_with_503() {
    const CAP: usize = 16;
    let base = limited_app(|l| l.max_connections = CAP);
    let mut held = Vec::new();
    for _ in 0..CAP {
        held.push(TcpStream::connect(authority(&base)).await.unwrap());
    }
    // The node has accepted them all once one more request on a held one is served.
    held[0]
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    let head = read_head(&mut held[0], Duration::from_secs(5))
        .await
        .unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let head = get_healthz(&base).await.unwrap_or_default();
    assert!(
        head.starts_with("HTTP/1.1 503"),
        "connection {} of a cap of {CAP}: {head:?}",
        CAP + 1
    );
    drop(held);
    // Capacity comes back once connections close.
    support::wait_for("a connection slot frees", Duration::from_secs(10), || {
        let base = base.clone();
        async move {
            let head = get_healthz(&base).await?;
            head.starts_with("HTTP/1.1 200").then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn keep_alive_ends_after_the_request_limit() {
    let base = limited_app(|l| l.max_requests_per_connection = 3);
    let mut s = TcpStream::connect(authority(&base)).await.unwrap();
    for i in 1..=3 {
        s.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
            .await
            .unwrap();
        let head = read_head(&mut s, Duration::from_secs(5))
            .await
            .unwrap()
            .to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert_eq!(
            head.contains("connection: close"),
            i == 3,
            "request {i}: {head}"
        );
    }
    assert!(closed_within(&mut s, Duration::from_secs(5)).await);
}
