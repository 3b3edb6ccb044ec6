//! The HTTP listener: our own accept loop over hyper's HTTP/1 connection, so that every
//! connection is bounded in number and in time (`[http_limits]`).
//!
//! - A connection cap ([`Limits::max_connections`]): beyond it a new connection gets a
//!   bare 503 and is closed, so sockets cannot pile up to the open-file limit. The close
//!   lingers (write side shut, what the client already sent read and dropped, for at
//!   most [`REFUSAL_LINGER`]) on at most [`REFUSAL_SLOTS`] refused sockets at a time:
//!   closing a socket with unread request bytes sends a reset, which can destroy the
//!   503 before the client reads it. Past those slots a refusal is a best-effort write.
//!   The node raises that limit to the hard one at start ([`raise_open_file_limit`]) and
//!   keeps the cap below it.
//! - A header-read timeout (hyper's, with a tokio timer): a client that does not send a
//!   whole request header in time — a half-sent header, or an idle keep-alive
//!   connection — is closed.
//! - An idle timeout: no byte moved either way for that long and the connection is
//!   dropped (a stalled stream reader; streams are exempt from the request timeout).
//! - A keep-alive limit: after `max_requests_per_connection` responses, the next says
//!   `Connection: close`.
//! - Graceful shutdown: on the signal, stop accepting, let in-flight requests finish
//!   (up to [`SHUTDOWN_GRACE`]), then close.
//!
//! The request timeout itself is a layer of the router (`http::router`), because it
//! exempts streams by route.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::config::HttpLimits;

/// In-flight requests get this long to finish after the shutdown signal; then their
/// connections are closed (a stream would otherwise hold the node up for minutes).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// After an accept error (out of file descriptors, mostly) the loop waits this long
/// before trying again, so it neither spins nor floods the log.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);
/// At most one warning per this long about refused connections or accept errors; the
/// count of what was not logged comes with the next one.
const WARN_EVERY: Duration = Duration::from_secs(10);
/// File descriptors kept free of HTTP connections when the cap is fitted to the
/// open-file limit: the store, the cluster link, media files, logs.
const RESERVED_FDS: u64 = 256;
/// Refused connections whose close may linger at once (their descriptors come out of
/// [`RESERVED_FDS`]).
const REFUSAL_SLOTS: usize = 32;
/// How long a refused connection's close may linger for the client's request bytes.
const REFUSAL_LINGER: Duration = Duration::from_millis(500);
/// What a connection beyond the cap is told before it is closed.
const OVER_CAPACITY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\
    retry-after: 1\r\ncontent-type: text/plain\r\ncontent-length: 32\r\n\r\n\
    too many connections; retry soon";

/// The connection limits in force (the settings, with the cap fitted to the fd limit).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_requests_per_connection: u32,
}

impl Limits {
    /// The settings' limits, the cap lowered to fit `open_files` (when known).
    pub fn new(settings: &HttpLimits, open_files: Option<u64>) -> Self {
        let fit = open_files
            .map(|n| n.saturating_sub(RESERVED_FDS).max(1))
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(usize::MAX);
        Self {
            max_connections: settings.max_connections.min(fit),
            header_read_timeout: Duration::from_millis(settings.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(settings.idle_timeout_ms),
            max_requests_per_connection: settings.max_requests_per_connection,
        }
    }
}

/// Raises this process's soft open-file limit to its hard limit (a default soft limit of
/// 1024 is what slow sockets exhaust first) and returns the limit now in force.
pub fn raise_open_file_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    let before = limit.current;
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            return before;
        }
        tracing::debug!(?before, now = ?limit.current, "raised the open-file limit");
    }
    limit.current
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains (see the module doc).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSAL_SLOTS));
    let graceful = GracefulShutdown::new();
    let mut warn = Throttled::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    warn.log(|skipped| tracing::warn!(error = %e, skipped, "accepting a connection failed"));
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(stream, &refusals);
            warn.log(|skipped| {
                tracing::warn!(
                    max = limits.max_connections,
                    skipped,
                    "connection cap reached; refusing new connections"
                )
            });
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = connection(stream, peer, app.clone(), limits);
        let watched = graceful.watch(connection.conn);
        let idle = connection.idle;
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                _ = watched => {}
                () = idle.expired(limits.idle_timeout) => {
                    tracing::debug!(%peer, "closing an idle connection");
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = SHUTDOWN_GRACE.as_secs(),
            "connections still open after the shutdown grace; closing them"
        );
    }
    Ok(())
}

/// Tells a connection beyond the cap it is refused: with a lingering close while a
/// refusal slot is free, else one write without waiting (the socket's send buffer
/// takes it or not).
fn refuse(stream: TcpStream, refusals: &Arc<Semaphore>) {
    let Ok(slot) = refusals.clone().try_acquire_owned() else {
        let _ = stream.try_write(OVER_CAPACITY);
        return;
    };
    tokio::spawn(async move {
        let _slot = slot;
        let mut stream = stream;
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            stream.write_all(OVER_CAPACITY).await?;
            stream.shutdown().await?;
            // Drain what the client sent until it closes, so our close is a FIN,
            // not a reset that could drop the 503 from its receive buffer.
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<_, io::Error>(())
        })
        .await;
    });
}

/// One connection being served, and the clock of its last activity.
struct Connection<C> {
    conn: C,
    idle: Activity,
}

fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
) -> Connection<impl hyper_util::server::graceful::GracefulConnection> {
    let idle = Activity::new();
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: idle.clone(),
    });
    let served = Arc::new(AtomicU32::new(0));
    let max_requests = limits.max_requests_per_connection;
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let n = served.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        let app = app.clone();
        async move {
            let mut response = app.oneshot(req).await?;
            if n >= max_requests {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(io, service);
    Connection { conn, idle }
}

/// When a connection last moved a byte, as milliseconds since `start`.
#[derive(Clone)]
struct Activity {
    start: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Resolves once nothing has moved for `idle`.
    async fn expired(&self, idle: Duration) {
        loop {
            let last = self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let deadline = last + idle;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

/// A socket that records its activity on every read or write that moves bytes.
struct Tracked {
    inner: TcpStream,
    activity: Activity,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A warning logged at most once per [`WARN_EVERY`], with how many were skipped.
#[derive(Default)]
struct Throttled {
    last: Option<Instant>,
    skipped: u64,
}

impl Throttled {
    fn log(&mut self, emit: impl FnOnce(u64)) {
        let now = Instant::now();
        if self.last.is_some_and(|t| now - t < WARN_EVERY) {
            self.skipped += 1;
            return;
        }
        emit(self.skipped);
        self.last = Some(now);
        self.skipped = 0;
    }
}
