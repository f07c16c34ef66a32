//! Accepting connections without letting slow or silent clients hold them: a cap on open
//! connections, a header-read timeout and an idle timeout.
//!
//! - The cap: a connection takes a slot before it is accepted and gives it back when its socket
//!   closes (a WebSocket keeps its slot for its whole life). At the cap the server stops
//!   accepting: new connections wait in the kernel's backlog, while the open ones, keep-alive
//!   connections included, go on being served. Below the open-files limit, so a flood can never
//!   leave the process without file descriptors for its databases or for `/healthz`.
//! - Header-read timeout: once the first byte of a request has arrived, all its headers must
//!   follow within this time, however slowly they trickle (slowloris).
//! - Head limits: a request line over 8 KiB is answered 414, a head over 64 KiB or 100 headers
//!   431, with the contract's error body, by the connection itself as the head arrives (see
//!   [`head`]); then the connection closes.
//! - Idle timeout: a connection with no request in progress is closed after this long.
//! - Body timeout (applied by the routers, which read bodies): a request whose body pauses
//!   this long is refused.
//!
//! Handlers are never timed: a request in progress (headers read, response not finished) and
//! an upgraded connection (WebSocket, which keeps its own ping and idle rules) are left alone.
//!
//! Every request also gets the peer's address as `ConnectInfo<SocketAddr>`, as
//! `axum::serve` with connect info would give it.

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use axum::{Router, ServiceExt};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;

mod head;

use head::{HeadScan, TooLarge};
pub use head::{MAX_HEAD, MAX_HEADERS, MAX_REQUEST_LINE};

/// Connection settings of every service.
#[derive(Clone, Debug, Default, Args, Serialize, Deserialize)]
#[group(id = "connections")]
pub struct ConnectionSettings {
    /// Seconds a client has to send all headers of a request once its first byte arrived. [default: 10]
    #[arg(long, env = "GOCHAT_HEADER_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_timeout_secs: Option<u64>,

    /// Seconds a connection may stay open with no request in progress. [default: 60]
    #[arg(long, env = "GOCHAT_IDLE_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout_secs: Option<u64>,

    /// Seconds a request's body may pause (no byte arriving) before the request is refused.
    /// [default: 30]
    #[arg(long, env = "GOCHAT_BODY_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_timeout_secs: Option<u64>,

    /// Most connections open at once, WebSockets included; further ones wait to be accepted.
    /// [default: 3/4 of the open-files limit]
    #[arg(long, env = "GOCHAT_MAX_CONNECTIONS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
}

/// The limits one server applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    /// Applied by the routers ([`crate::runtime::Runtime::api_layers`]): a body is read by its
    /// handler, not by the connection.
    pub body_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub fn from_settings(settings: &ConnectionSettings) -> Self {
        let secs = |value: Option<u64>, default: u64| Duration::from_secs(value.unwrap_or(default).max(1));
        Self {
            header_timeout: secs(settings.header_timeout_secs, 10),
            idle_timeout: secs(settings.idle_timeout_secs, 60),
            body_timeout: secs(settings.body_timeout_secs, 30),
            max_connections: settings.max_connections.unwrap_or_else(default_max_connections).max(1),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::from_settings(&ConnectionSettings::default())
    }
}

/// Three quarters of the open-files limit: the rest is for databases, the broker, the client's
/// files and a margin.
fn default_max_connections() -> usize {
    open_files_limit().map_or(768, |n| n / 4 * 3)
}

/// The soft `RLIMIT_NOFILE` of this process, as Linux reports it.
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The limits of this process's server, set from its settings when its runtime is built. One
/// process serves one listener (each service binary, or the all-in-one binary), like it has one
/// metrics recorder.
static CONFIGURED: RwLock<Option<Limits>> = RwLock::new(None);

pub fn configure(limits: Limits) {
    *CONFIGURED.write().expect("listener limits lock poisoned") = Some(limits);
}

fn configured() -> Limits {
    CONFIGURED
        .read()
        .expect("listener limits lock poisoned")
        .unwrap_or_default()
}

/// Serves `app` on `listener` with this process's limits until `shutdown`, then stops
/// accepting and lets requests in progress finish.
pub async fn serve(listener: TcpListener, app: Router, shutdown: CancellationToken) -> io::Result<()> {
    serve_with(listener, app, configured(), shutdown).await
}

/// [`serve`] with explicit limits.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let app = tower::Layer::layer(&axum::middleware::from_fn(track), app);
    let listener = Capped {
        inner: listener,
        slots: Arc::new(Semaphore::new(limits.max_connections)),
        limits,
    };
    axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// A TCP listener that accepts only while a connection slot is free.
struct Capped {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    limits: Limits,
}

impl Listener for Capped {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Connection, SocketAddr) {
        loop {
            let slot = self
                .slots
                .clone()
                .acquire_owned()
                .await
                .expect("the slots semaphore is never closed");
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    // Nagle's algorithm off: chat frames are small, and one written behind another
                    // must not wait for the peer's delayed ACK (about 40 ms on Linux).
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(error = %e, "TCP_NODELAY not set");
                    }
                    return (Connection::new(stream, slot, self.limits), addr);
                }
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // Most likely out of file descriptors (EMFILE): wait for some to be closed.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// What a request knows of its connection.
#[derive(Clone)]
struct Peer {
    addr: SocketAddr,
    activity: Arc<Activity>,
}

impl Connected<IncomingStream<'_, Capped>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Capped>) -> Self {
        Self {
            addr: *stream.remote_addr(),
            activity: stream.io().activity.clone(),
        }
    }
}

/// Middleware: tells the connection when a request is in progress, and hands handlers the
/// peer's address.
async fn track(ConnectInfo(peer): ConnectInfo<Peer>, mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(ConnectInfo(peer.addr));
    let busy = Busy::start(peer.activity.clone());
    let response = next.run(request).await;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        peer.activity.upgraded.store(true, Ordering::Relaxed);
    }
    // The request is over once hyper has sent (and dropped) the whole body.
    response.map(|body| Body::new(WithBusy { body, _busy: busy }))
}

/// Where a connection is between requests.
struct Activity {
    /// Set once the connection became a WebSocket: no more HTTP timeouts.
    upgraded: AtomicBool,
    phase: Mutex<Phase>,
}

struct Phase {
    /// Requests whose response is not finished.
    in_flight: usize,
    /// When the last response finished (or the connection was accepted).
    idle_since: Instant,
    /// When the first byte of the next request arrived, if it has.
    request_began: Option<Instant>,
    /// What has arrived of the next request's head.
    head: HeadScan,
    /// The waiting reader, woken when a request ends so that it arms the idle timer (hyper does
    /// not read again by itself while its last read is pending).
    reader: Option<Waker>,
}

impl Activity {
    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().expect("connection phase lock poisoned")
    }

    /// When the connection is to be closed if nothing happens (`None` while a request is in
    /// progress); `reader` is woken when that changes.
    fn deadline(&self, limits: &Limits, reader: &Waker) -> Option<Instant> {
        let mut phase = self.phase();
        if !phase.reader.as_ref().is_some_and(|w| w.will_wake(reader)) {
            phase.reader = Some(reader.clone());
        }
        if phase.in_flight > 0 {
            return None;
        }
        Some(match phase.request_began {
            Some(began) => began + limits.header_timeout,
            None => phase.idle_since + limits.idle_timeout,
        })
    }

    /// Takes `bytes` that just arrived; says when they make the head being read too large.
    fn bytes_arrived(&self, bytes: &[u8]) -> Option<TooLarge> {
        let mut phase = self.phase();
        if phase.in_flight > 0 {
            return None;
        }
        if phase.request_began.is_none() {
            phase.request_began = Some(Instant::now());
            phase.head = HeadScan::default();
        }
        phase.head.read(bytes)
    }
}

/// A request in progress; dropped with the response body.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: Arc<Activity>) -> Self {
        {
            let mut phase = activity.phase();
            phase.in_flight += 1;
            phase.request_began = None;
        }
        Self(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut phase = self.0.phase();
        phase.in_flight -= 1;
        if phase.in_flight == 0 {
            phase.idle_since = Instant::now();
            if let Some(reader) = phase.reader.take() {
                reader.wake();
            }
        }
    }
}

/// A response body that keeps its request counted as in progress until it is dropped.
struct WithBusy {
    body: Body,
    _busy: Busy,
}

impl HttpBody for WithBusy {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// An accepted socket with its slot and its timers. Reads fail with `TimedOut` once the
/// connection has been idle, or reading one request's headers, for too long; hyper then closes it.
pub struct Connection {
    stream: TcpStream,
    activity: Arc<Activity>,
    limits: Limits,
    /// The idle and header timeouts' deadline, armed at the first read that waits. Dropped once
    /// the connection is upgraded, so that a WebSocket keeps neither it nor, through the waker
    /// it holds until it fires, the memory of the finished HTTP connection task (1.4 KiB).
    timer: Option<Pin<Box<Sleep>>>,
    /// Given back when the socket closes, whoever holds it then (hyper, or a WebSocket).
    _slot: OwnedSemaphorePermit,
    /// Set when a request head broke a limit: the connection answers it and closes.
    refusal: Option<Refusal>,
}

/// The answer to a head over the limits, in progress.
struct Refusal {
    too_large: TooLarge,
    /// Whether hyper has flushed its output since: the answer goes after all of it.
    hyper_flushed: bool,
    /// Bytes of the answer written so far.
    written: usize,
}

impl Connection {
    fn new(stream: TcpStream, slot: OwnedSemaphorePermit, limits: Limits) -> Self {
        let now = Instant::now();
        Self {
            stream,
            activity: Arc::new(Activity {
                upgraded: AtomicBool::new(false),
                phase: Mutex::new(Phase {
                    in_flight: 0,
                    idle_since: now,
                    request_began: None,
                    head: HeadScan::default(),
                    reader: None,
                }),
            }),
            limits,
            timer: None,
            _slot: slot,
            refusal: None,
        }
    }

    /// Pending until the idle or header deadline (none while a request is in progress), then
    /// the error that makes hyper close the connection.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(deadline) = self.activity.deadline(&self.limits, cx.waker()) else {
            return Poll::Pending;
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle, or request headers too slow",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Answers a head over the limits in hyper's stead (hyper has seen none of it, and waits
    /// on this read): once hyper has flushed what it had to send, writes the answer and ends
    /// the sending side. Then drops whatever the client still sends until it closes (closing
    /// with bytes unread would reset the connection, and the client could lose the answer),
    /// or until the header timeout; then hyper is told the connection ended.
    fn poll_refuse(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let refusal = self.refusal.as_mut().expect("a refusal is in progress");
        if !refusal.hyper_flushed {
            return self.poll_deadline(cx);
        }
        let answer = refusal.too_large.answer();
        while refusal.written < answer.len() {
            match Pin::new(&mut self.stream).poll_write(cx, &answer[refusal.written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    refusal.written += n;
                    if refusal.written == answer.len() {
                        // Shutting a TCP socket's sending side does not wait.
                        let _ = Pin::new(&mut self.stream).poll_shutdown(cx);
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return self.poll_deadline(cx),
            }
        }
        let mut dropped = [0u8; 1024];
        let mut dropped = ReadBuf::new(&mut dropped);
        match Pin::new(&mut self.stream).poll_read(cx, &mut dropped) {
            Poll::Ready(Ok(())) if dropped.filled().is_empty() => Poll::Ready(Ok(())),
            Poll::Ready(Ok(())) => {
                // More to drop, after the other tasks have had their turn; but not past the
                // header timeout, which a client that never stops sending would otherwise
                // never reach (the timer is only asked when a read waits).
                if let Poll::Ready(timed_out) = self.poll_deadline(cx) {
                    return Poll::Ready(timed_out);
                }
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.poll_deadline(cx),
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.activity.upgraded.load(Ordering::Relaxed) {
            this.timer = None;
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        if this.refusal.is_some() {
            return this.poll_refuse(cx);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let arrived = &buf.filled()[before..];
                let too_large = (!arrived.is_empty())
                    .then(|| this.activity.bytes_arrived(arrived))
                    .flatten();
                if let Some(too_large) = too_large {
                    // hyper would answer the whole head with an empty body: it gets none of it.
                    buf.set_filled(before);
                    tracing::debug!(?too_large, "request head over the limits refused");
                    this.refusal = Some(Refusal {
                        too_large,
                        hyper_flushed: false,
                        written: 0,
                    });
                    return this.poll_refuse(cx);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    /// hyper flushes its connection only once its own buffer is empty, and after every read
    /// that waits: a refusal's answer, waiting on that, goes next.
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let flushed = ready!(Pin::new(&mut self.stream).poll_flush(cx));
        if let Some(refusal) = self.refusal.as_mut().filter(|r| !r.hyper_flushed) {
            refusal.hyper_flushed = true;
            cx.waker().wake_by_ref();
        }
        Poll::Ready(flushed)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";
    /// Bound on waits for something the server must do; never a pause before checking.
    const WAIT: Duration = Duration::from_secs(10);

    #[tokio::test]
    async fn accepted_connections_do_not_delay_small_writes() {
        let inner = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = inner.local_addr().unwrap();
        let mut listener = Capped {
            inner,
            slots: Arc::new(Semaphore::new(1)),
            limits: Limits::default(),
        };
        let _client = TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await;
        assert!(accepted.stream.nodelay().unwrap());
    }

    async fn start(limits: Limits) -> (SocketAddr, CancellationToken) {
        let app = Router::new().route(
            "/healthz",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { format!("ok {}", peer.ip()) }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        tokio::spawn(serve_with(listener, app, limits, shutdown.clone()));
        (addr, shutdown)
    }

    fn limits(header_ms: u64, idle_ms: u64, max_connections: usize) -> Limits {
        Limits {
            header_timeout: Duration::from_millis(header_ms),
            idle_timeout: Duration::from_millis(idle_ms),
            body_timeout: Duration::from_secs(30),
            max_connections,
        }
    }

    /// Sends one request on a keep-alive connection and reads its whole response.
    async fn healthz(stream: &mut TcpStream) -> String {
        stream.write_all(HEALTHZ).await.unwrap();
        let mut response = Vec::new();
        let mut chunk = [0u8; 1024];
        tokio::time::timeout(WAIT, async {
            loop {
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "closed before the response was complete");
                response.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&response);
                if text.contains("\r\n\r\n") && text.ends_with("127.0.0.1") {
                    return text.into_owned();
                }
            }
        })
        .await
        .expect("a response in time")
    }

    /// Waits until the server closes `stream` (end of file or reset).
    async fn closed_by_server(stream: &mut TcpStream) {
        let mut chunk = [0u8; 256];
        tokio::time::timeout(WAIT, async {
            loop {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await
        .expect("the server closed the connection");
    }

    #[tokio::test]
    async fn a_client_trickling_headers_is_closed_after_the_header_timeout() {
        let (addr, _stop) = start(limits(300, 60_000, 100)).await;
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
            .await
            .unwrap();
        let (mut reader, mut writer) = slow.into_split();
        // One more header line every 50 ms, as a slowloris does, until the server hangs up.
        let trickle = tokio::spawn(async move {
            let started = Instant::now();
            while writer.write_all(b"X-Slow: 1\r\n").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if started.elapsed() > WAIT {
                    break;
                }
            }
            started.elapsed()
        });
        let mut chunk = [0u8; 64];
        let read = tokio::time::timeout(WAIT, reader.read(&mut chunk)).await;
        assert!(matches!(read, Ok(Ok(0) | Err(_))), "the slow connection was closed");
        assert!(trickle.await.unwrap() < WAIT);
    }

    #[tokio::test]
    async fn silent_and_finished_connections_are_closed_after_the_idle_timeout() {
        let (addr, _stop) = start(limits(60_000, 300, 100)).await;
        let mut silent = TcpStream::connect(addr).await.unwrap();
        closed_by_server(&mut silent).await;

        let mut used = TcpStream::connect(addr).await.unwrap();
        assert!(healthz(&mut used).await.starts_with("HTTP/1.1 200"));
        closed_by_server(&mut used).await;
    }

    #[tokio::test]
    async fn a_handler_slower_than_the_timeouts_is_not_cut_off() {
        let app = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(600)).await;
                "done"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve_with(
            listener,
            app,
            limits(200, 200, 10),
            CancellationToken::new(),
        ));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        tokio::time::timeout(WAIT, stream.read_to_string(&mut response))
            .await
            .unwrap()
            .unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200") && response.ends_with("done"),
            "{response}"
        );
    }

    #[tokio::test]
    async fn past_the_cap_new_connections_wait_while_open_keep_alive_ones_are_served() {
        let (addr, _stop) = start(limits(2_000, 60_000, 2)).await;
        let mut keep_alive = TcpStream::connect(addr).await.unwrap();
        assert!(healthz(&mut keep_alive).await.starts_with("HTTP/1.1 200"));
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();

        // Both slots are taken: a third connection is not accepted until one frees up.
        let waiting = tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            healthz(&mut stream).await
        });
        // Meanwhile the open keep-alive connection is served as usual.
        for _ in 0..3 {
            assert!(healthz(&mut keep_alive).await.starts_with("HTTP/1.1 200"));
        }
        let mut probe = [0u8; 1];
        assert!(
            matches!(slow.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock),
            "the slow connection still holds its slot"
        );
        assert!(!waiting.is_finished(), "no third connection while both slots are taken");

        // Once the slow one is closed for taking too long, the waiting one is served.
        closed_by_server(&mut slow).await;
        let answer = tokio::time::timeout(WAIT, waiting).await.unwrap().unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    /// Sends `request` on `stream` and reads the answer until the server closes: its status
    /// line and its body.
    async fn refused(stream: &mut TcpStream, request: &[u8]) -> (String, serde_json::Value) {
        stream.write_all(request).await.unwrap();
        let mut response = Vec::new();
        tokio::time::timeout(WAIT, stream.read_to_end(&mut response))
            .await
            .expect("answered and closed in time")
            .expect("closed, not reset");
        let response = String::from_utf8(response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").expect("a complete head");
        assert!(
            head.to_ascii_lowercase().contains("\r\ncontent-type: application/json"),
            "{head}"
        );
        let status = head.lines().next().unwrap().to_owned();
        (status, serde_json::from_str(body).expect("a JSON body"))
    }

    /// A GET of `target` with a Host and `headers` (each line ending in CRLF).
    fn request(target: &str, headers: &str) -> Vec<u8> {
        format!("GET {target} HTTP/1.1\r\nHost: test\r\n{headers}\r\n").into_bytes()
    }

    /// An over-long URL gets 414 and a head too large (too long, or too many headers) 431, each
    /// with the contract's error body rather than hyper's empty one: also past hyper's own
    /// limits (a URL over 64 KiB, a head over 400 KiB), and while the client is still sending.
    #[tokio::test]
    async fn over_long_urls_and_heads_get_the_contracts_error_body() {
        let (addr, _stop) = start(limits(10_000, 60_000, 100)).await;
        let too_many: String = (0..MAX_HEADERS).map(|i| format!("X-H{i}: 1\r\n")).collect();
        for (sent, status) in [
            (
                request(&format!("/healthz?{}", "a".repeat(100_000)), ""),
                "HTTP/1.1 414 URI Too Long",
            ),
            (
                request(&format!("/{}", "a".repeat(MAX_REQUEST_LINE)), ""),
                "HTTP/1.1 414 URI Too Long",
            ),
            (
                request(&format!("/{}", "a".repeat(1_000_000)), ""),
                "HTTP/1.1 414 URI Too Long",
            ),
            (
                request("/healthz", &format!("Cookie: {}\r\n", "c".repeat(100_000))),
                "HTTP/1.1 431 Request Header Fields Too Large",
            ),
            (
                request("/healthz", &format!("Cookie: {}\r\n", "c".repeat(1_000_000))),
                "HTTP/1.1 431 Request Header Fields Too Large",
            ),
            (
                request("/healthz", &too_many),
                "HTTP/1.1 431 Request Header Fields Too Large",
            ),
        ] {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let (line, body) = refused(&mut stream, &sent).await;
            assert_eq!(line, status);
            assert_eq!(body["error"]["code"], "invalid_input", "{body}");
            assert!(body["error"]["message"].as_str().unwrap().contains("KiB"), "{body}");
        }
    }

    /// The limits hold for every request of a keep-alive connection, not only its first.
    #[tokio::test]
    async fn a_later_request_of_a_connection_over_the_limits_is_refused_the_same_way() {
        let (addr, _stop) = start(limits(10_000, 60_000, 100)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        assert!(healthz(&mut stream).await.starts_with("HTTP/1.1 200"));
        let (line, body) = refused(&mut stream, &request(&format!("/{}", "a".repeat(100_000)), "")).await;
        assert_eq!(line, "HTTP/1.1 414 URI Too Long");
        assert_eq!(body["error"]["code"], "invalid_input", "{body}");
    }

    /// Once refused, a connection drops what the client still sends only until the header
    /// timeout: a client that never stops sending is closed all the same, not drained forever.
    #[tokio::test]
    async fn a_refused_client_that_keeps_sending_is_closed_at_the_header_timeout() {
        let (addr, _stop) = start(limits(300, 60_000, 100)).await;
        let (mut reader, mut writer) = TcpStream::connect(addr).await.unwrap().into_split();
        let over_long = request(&format!("/{}", "a".repeat(MAX_REQUEST_LINE + 1)), "");
        // The refused head, then more for as long as the server takes it: ends once it hangs up.
        let flood = tokio::spawn(async move {
            let more = vec![b'a'; 64 * 1024];
            let mut sent = writer.write_all(&over_long).await;
            while sent.is_ok() {
                sent = writer.write_all(&more).await;
            }
            sent
        });
        let mut answer = Vec::new();
        let _ = reader.read_to_end(&mut answer).await;
        assert!(
            String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 414"),
            "answered first"
        );
        let ended = tokio::time::timeout(WAIT, flood).await;
        assert!(
            matches!(ended, Ok(Ok(Err(_)))),
            "the server closed the connection while the client was still sending"
        );
    }

    /// Right at the limits, requests are served as any other.
    #[tokio::test]
    async fn heads_at_the_limits_are_served() {
        let (addr, _stop) = start(limits(10_000, 60_000, 100)).await;
        let line = |target: &str| format!("GET {target} HTTP/1.1").len();
        let padding = MAX_REQUEST_LINE - line("/healthz?");
        let longest_url = format!("/healthz?{}", "a".repeat(padding));
        assert_eq!(line(&longest_url), MAX_REQUEST_LINE);
        // Host and 99 more: as many headers as are taken.
        let most_headers: String = (1..MAX_HEADERS).map(|i| format!("X-H{i}: 1\r\n")).collect();
        let head_so_far = request("/healthz", "Cookie: \r\n").len();
        let largest_head = format!("Cookie: {}\r\n", "c".repeat(MAX_HEAD - head_so_far));
        assert_eq!(request("/healthz", &largest_head).len(), MAX_HEAD);
        for sent in [
            request(&longest_url, ""),
            request("/healthz", &most_headers),
            request("/healthz", &largest_head),
        ] {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(&sent).await.unwrap();
            let mut response = vec![0u8; 1024];
            let n = tokio::time::timeout(WAIT, stream.read(&mut response))
                .await
                .unwrap()
                .unwrap();
            let response = String::from_utf8_lossy(&response[..n]);
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        }
    }

    #[test]
    fn defaults_are_sane() {
        let limits = Limits::default();
        assert_eq!(limits.header_timeout, Duration::from_secs(10));
        assert_eq!(limits.idle_timeout, Duration::from_secs(60));
        assert!(limits.max_connections >= 16, "{limits:?}");
        if let Some(files) = open_files_limit() {
            assert!(limits.max_connections < files);
        }
    }
}
