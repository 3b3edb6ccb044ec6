//! A private `redis-server` process for tests, local clusters and the chaos harness.
//!
//! [`RedisProcess::start`] launches `/usr/bin/redis-server` bound to 127.0.0.1 only,
//! on a given port or a free one, with its own data directory (a fresh temporary one
//! unless given), AOF on with the chosen fsync policy and RDB snapshots off, then
//! waits — with a deadline — until it answers `PING`. [`RedisProcess::kill`] is a
//! crash (SIGKILL, nothing flushed beyond what the fsync policy already did);
//! [`RedisProcess::restart`] starts it again on the same port and directory, so it
//! replays its AOF. Dropping the handle kills the server and removes a temporary
//! directory it made.
//!
//! The calls block (briefly: the server is up in tens of milliseconds); async callers
//! may call them directly in tests or wrap them in `spawn_blocking`.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Where Debian's `redis-server` package installs the server.
pub const REDIS_SERVER_BIN: &str = "/usr/bin/redis-server";
/// How long a start may take until the server answers `PING`. Startup is ~20 ms; a
/// long AOF replay after a restart takes longer, and a slow CI box longer still.
const READY_DEADLINE: Duration = Duration::from_secs(20);
/// Pause between readiness probes.
const READY_POLL: Duration = Duration::from_millis(20);
/// One readiness probe's connect/read timeout.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// Attempts at a free port: another process can take the port between our probe and
/// the server's bind; then we pick another.
const FREE_PORT_ATTEMPTS: usize = 5;
/// A probe gives up on replies longer than this (`INFO server` is ~1.5 KB).
const PROBE_MAX_REPLY_BYTES: usize = 64 * 1024;
/// How much of the server's log an error quotes.
const LOG_TAIL_BYTES: usize = 2000;

/// The AOF fsync policy (`appendfsync`). See `store::redis` for what each means for
/// durability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// fsync before every reply: acknowledged writes survive a machine crash.
    Always,
    /// fsync once a second: a machine crash can lose the last ~second.
    EverySec,
    /// leave it to the OS.
    No,
}

impl Fsync {
    pub fn as_str(self) -> &'static str {
        match self {
            Fsync::Always => "always",
            Fsync::EverySec => "everysec",
            Fsync::No => "no",
        }
    }
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// A fixed port, or `None` for a free one.
    pub port: Option<u16>,
    pub fsync: Fsync,
    /// The data directory (kept on drop), or `None` for a fresh temporary one
    /// (removed on drop).
    pub dir: Option<PathBuf>,
    pub binary: PathBuf,
    /// Addresses to listen on (loopback by default; the chaos harness adds its
    /// bridge address so nodes in network namespaces reach it).
    pub bind: Vec<String>,
    /// More `--name value` arguments (a Redis Cluster node's `--cluster-enabled yes`).
    pub extra_args: Vec<String>,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            port: None,
            fsync: Fsync::Always,
            dir: None,
            binary: REDIS_SERVER_BIN.into(),
            bind: vec!["127.0.0.1".into()],
            extra_args: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RedisProcessError {
    #[error("cannot start {binary}: {source} (is redis-server installed? apt-get install -y redis-server)")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("redis-server: {0}")]
    Io(String),
    #[error("redis-server on port {port} did not become ready: {why}; log tail:\n{log_tail}")]
    NotReady {
        port: u16,
        why: String,
        log_tail: String,
    },
}

/// A running (or killed, awaiting restart) private redis-server.
#[derive(Debug)]
pub struct RedisProcess {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    owns_dir: bool,
    options: RedisOptions,
}

fn io_err(what: &str) -> impl Fn(std::io::Error) -> RedisProcessError + '_ {
    move |e| RedisProcessError::Io(format!("{what}: {e}"))
}

/// A port on 127.0.0.1 that nothing listens on right now (another process may
/// still take it before the caller binds it).
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

fn fresh_temp_dir() -> Result<PathBuf, RedisProcessError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("spoofify-redis-{}-{n}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir).map_err(io_err("creating a temp dir"))?;
    Ok(dir)
}

/// One probe over a fresh connection: `PING` answered `+PONG` (so not `-LOADING`
/// an AOF) and `INFO server` names `pid` as the process. The identity check matters:
/// when our server fails to bind, another one may answer on that port.
fn answers_as(port: u16, pid: u32) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut conn) = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(PROBE_TIMEOUT));
    if conn.write_all(b"PING\r\nINFO server\r\n").is_err() {
        return false;
    }
    let expected = format!("process_id:{pid}\r\n");
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    while reply.len() < PROBE_MAX_REPLY_BYTES {
        let text = String::from_utf8_lossy(&reply);
        if reply.len() >= 5 && !text.starts_with("+PONG") {
            return false;
        }
        if let Some(i) = text.find("process_id:") {
            if text[i..].contains("\r\n") {
                return text[i..].starts_with(&expected);
            }
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
        }
    }
    false
}

fn log_tail(dir: &Path) -> String {
    let mut text = String::new();
    for name in ["redis.log", "redis.out"] {
        if let Ok(mut f) = File::open(dir.join(name)) {
            let mut all = String::new();
            let _ = f.read_to_string(&mut all);
            let start = all.len().saturating_sub(LOG_TAIL_BYTES);
            let start = (start..all.len())
                .find(|i| all.is_char_boundary(*i))
                .unwrap_or(all.len());
            text.push_str(&all[start..]);
        }
    }
    text
}

impl RedisProcess {
    /// Starts a server as `options` say and waits until it answers `PING`.
    pub fn start(options: RedisOptions) -> Result<Self, RedisProcessError> {
        let (dir, owns_dir) = match &options.dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(io_err("creating the data dir"))?;
                (d.clone(), false)
            }
            None => (fresh_temp_dir()?, true),
        };
        let mut this = Self {
            child: None,
            port: 0,
            dir,
            owns_dir,
            options,
        };
        let attempts = if this.options.port.is_some() {
            1
        } else {
            FREE_PORT_ATTEMPTS
        };
        let mut last_err = None;
        for _ in 0..attempts {
            this.port = match this.options.port {
                Some(p) => p,
                None => free_port().map_err(io_err("finding a free port"))?,
            };
            match this.spawn_and_wait() {
                Ok(()) => return Ok(this),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| RedisProcessError::Io("no start attempted".into())))
    }

    /// Starts a temporary server with the given fsync policy on a free port.
    pub fn start_temp(fsync: Fsync) -> Result<Self, RedisProcessError> {
        Self::start(RedisOptions {
            fsync,
            ..RedisOptions::default()
        })
    }

    fn spawn_and_wait(&mut self) -> Result<(), RedisProcessError> {
        let out = File::create(self.dir.join("redis.out")).map_err(io_err("creating redis.out"))?;
        let err = out.try_clone().map_err(io_err("creating redis.out"))?;
        let binary = self.options.binary.display().to_string();
        let loopback_only = self
            .options
            .bind
            .iter()
            .all(|a| a == "127.0.0.1" || a == "::1" || a == "localhost");
        let child = Command::new(&self.options.binary)
            .current_dir(&self.dir)
            .args(["--port", &self.port.to_string()])
            .arg("--bind")
            .args(&self.options.bind)
            // Protected mode refuses every client not on loopback; a non-loopback
            // bind address is a deliberate choice (the chaos harness's own bridge).
            .args(["--protected-mode", if loopback_only { "yes" } else { "no" }])
            .arg("--dir")
            .arg(&self.dir)
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                self.options.fsync.as_str(),
            ])
            .args(["--save", "", "--daemonize", "no"])
            .args(&self.options.extra_args)
            .arg("--logfile")
            .arg(self.dir.join("redis.log"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| RedisProcessError::Spawn { binary, source })?;
        self.child = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), RedisProcessError> {
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            let Some(child) = self.child.as_mut() else {
                return Err(self.not_ready("it is not running".into()));
            };
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Err(self.not_ready(format!("it exited with {status}")));
            }
            if answers_as(self.port, child.id()) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.kill();
                return Err(self.not_ready(format!("no PONG within {READY_DEADLINE:?}")));
            }
            std::thread::sleep(READY_POLL);
        }
    }

    fn not_ready(&self, why: String) -> RedisProcessError {
        RedisProcessError::NotReady {
            port: self.port,
            why,
            log_tail: log_tail(&self.dir),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The server's data directory (AOF, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the server with SIGKILL (a crash: no shutdown save) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server if it runs, then starts it again on the same port and data
    /// directory (it replays its AOF) and waits until it answers.
    pub fn restart(&mut self) -> Result<(), RedisProcessError> {
        self.kill();
        self.spawn_and_wait()
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
