//! The accept loop: HTTP/1.1 connections served by hyper with the warp filter as the
//! service, under limits that a client cannot stretch.
//!
//! - A request's head must arrive within the header timeout: counted from the accept for
//!   a new connection, from the first byte for the next request on a kept-alive one. A
//!   request's body has the same time, counted from its head.
//! - A kept-alive connection with no request in progress is closed after the idle timeout;
//!   so is one whose client stops reading its answer for that long.
//! - At most `max_connections` are open. A new connection beyond that closes the oldest
//!   one that has no request in flight (idle, or still sending its head), so that idle or
//!   slow connections are what gives way, never a request being answered; when every
//!   connection has a request in flight, the new one waits for one of them to end.
//! - Accept errors (out of file descriptors) back off instead of spinning, and are logged
//!   at most once a second.
//! - On shutdown: accepting stops, idle connections close, requests in flight get a
//!   bounded time to finish.
//!
//! Only HTTP/1.1 (and 1.0) is spoken: no cleartext HTTP/2, which browsers never use and
//! proxies do not send to an upstream by default.
//!
//! With TLS ([`Options::tls`]), the handshake happens in the connection's task, under the
//! header timeout counted from the accept (a client that never finishes it is dropped like
//! one that never sends a head), and the connection counts towards the cap from its
//! accept. A client that speaks plain HTTP to a TLS port gets a `400` JSON answer naming
//! the mistake (`https_required`) and the connection is closed.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;

/// The most bytes a request's head (request line and headers) may take; more is 431.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// File descriptors kept out of the connection cap: the store's files or database
/// connections, the listener, standard streams, the runtime's own.
pub const FD_RESERVE: u64 = 64;

/// The limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time for a request's head (and, from the head on, its body).
    pub header_timeout: Duration,
    /// Time a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    /// The most connections open at once.
    pub max_connections: usize,
    /// Time requests in flight get to finish on shutdown.
    pub shutdown_grace: Duration,
}

/// What else a listener does besides serving HTTP.
#[derive(Default, Clone)]
pub struct Options {
    /// TLS on every connection.
    pub tls: Option<TlsAcceptor>,
    /// Kept equal to the number of open connections (for the metrics).
    pub open_connections: Option<&'static AtomicUsize>,
}

/// An error a service or a body may fail with.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the accept loop serves: a hyper service of [`RequestBody`] requests, cloned for
/// each connection, whose answers are sent from the connection's task. Every such service
/// is one (`warp::service` wrapped in `hyper_util`'s `TowerToHyperService`, say).
pub trait Service:
    hyper::service::Service<
        hyper::Request<RequestBody>,
        Response = hyper::Response<Self::Body>,
        Error: Into<BoxError>,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
    /// The answers' body.
    type Body: Body<Data: Send, Error: Into<BoxError>> + Unpin + Send + 'static;
}

impl<S, B> Service for S
where
    S: hyper::service::Service<hyper::Request<RequestBody>, Response = hyper::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data: Send, Error: Into<BoxError>> + Unpin + Send + 'static,
{
    type Body = B;
}

/// Raises the soft limit of open files to the hard limit; the resulting soft limit.
///
/// # Errors
///
/// The limit could not be read or set.
pub fn raise_file_limit() -> io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// `wanted` connections, lowered to fit under `file_limit` with [`FD_RESERVE`] kept free
/// (half the limit at least, one connection at least).
pub fn connection_cap(wanted: usize, file_limit: u64) -> usize {
    let room = file_limit
        .saturating_sub(FD_RESERVE)
        .max(file_limit / 2)
        .max(1);
    wanted
        .min(usize::try_from(room).unwrap_or(usize::MAX))
        .max(1)
}

/// Serves `filter` on `listener` under `limits` until `shutdown` resolves, then stops
/// accepting, closes idle connections and waits up to `limits.shutdown_grace` for the
/// requests in flight.
pub async fn serve<S: Service>(
    listener: TcpListener,
    service: S,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    serve_with(listener, service, limits, Options::default(), shutdown).await;
}

/// [`serve`], with TLS or a connection gauge as `options` say.
pub async fn serve_with<S: Service>(
    listener: TcpListener,
    service: S,
    limits: Limits,
    options: Options,
    shutdown: impl Future<Output = ()>,
) {
    let registry = Arc::new(Registry {
        gauge: options.open_connections,
        ..Registry::default()
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut accept_errors = ErrorLog::default();
    let mut next_id = 0u64;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(err) => {
                accept_errors.log(&err);
                if !matches!(
                    err.kind(),
                    io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::Interrupted
                ) {
                    // Out of file descriptors, most likely: give connections time to
                    // end instead of spinning on the same error.
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
                continue;
            }
        };
        // Make room: evict the oldest connection without a request in flight (the new
        // one is served at once, the evicted one closes right after), or wait for one to
        // end. One eviction at a time, so that a burst of connections never holds more
        // than the cap and two.
        loop {
            while tasks.try_join_next().is_some() {}
            let closed = registry.closed.notified();
            let (open, evicting) = registry.counts();
            if open < limits.max_connections || (evicting == 0 && registry.evict_oldest_idle()) {
                break;
            }
            tokio::select! {
                () = &mut shutdown => {
                    drop(stream);
                    return stop(tasks, &stop_tx, limits).await;
                }
                () = closed => {}
                () = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
        }
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let conn = registry.insert(next_id);
        tasks.spawn(serve_connection(
            stream,
            options.tls.clone(),
            service.clone(),
            conn,
            Arc::clone(&registry),
            limits,
            stop_rx.clone(),
        ));
    }
    drop(listener);
    stop(tasks, &stop_tx, limits).await;
}

/// Tells every connection to close when idle, and waits for them for the grace time;
/// the rest are dropped.
async fn stop(mut tasks: JoinSet<()>, stop: &watch::Sender<bool>, limits: Limits) {
    let _ = stop.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = tasks.len(),
            "requests still in flight after the shutdown grace time; closing them"
        );
        tasks.shutdown().await;
    }
}

async fn serve_connection<S: Service>(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    service: S,
    conn: Arc<Conn>,
    registry: Arc<Registry>,
    limits: Limits,
    stop: watch::Receiver<bool>,
) {
    let _registered = Registered {
        registry,
        id: conn.id,
    };
    // The client address the connection's requests are served with
    // (`crate::audit::client_addr`: the audit trail and the last use of tokens), set once
    // for the connection: hyper polls each request's answer inside the connection's
    // future. It is the TCP peer: a proxy in front is what it names, and no
    // `X-Forwarded-For` is read.
    let peer = stream.peer_addr().ok().map(|addr| addr.ip());
    crate::audit::with_client(peer, serve_stream(stream, tls, service, conn, limits, stop)).await;
}

/// [`serve_connection`]'s work: the TLS handshake when there is TLS, then HTTP.
async fn serve_stream<S: Service>(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    service: S,
    conn: Arc<Conn>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let Some(acceptor) = tls else {
        return serve_http(stream, service, conn, limits, stop).await;
    };
    // The handshake has the time a head has, from the accept.
    let deadline = conn.deadline(&limits).unwrap_or_else(Instant::now);
    let handshake = tokio::time::timeout_at(deadline, handshake(stream, acceptor));
    let stream = tokio::select! {
        result = handshake => match result {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                tracing::debug!(%err, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                return;
            }
        },
        () = conn.evicted.notified() => {
            tracing::debug!("connection closed during its TLS handshake to make room");
            return;
        }
        _ = stop.changed() => return,
    };
    serve_http(stream, service, conn, limits, stop).await;
}

/// The TLS handshake; a client that sends plain HTTP instead is answered `400`.
async fn handshake(
    mut stream: TcpStream,
    acceptor: TlsAcceptor,
) -> io::Result<tokio_rustls::server::TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    // Every TLS connection starts with a handshake record (content type 22).
    if stream.peek(&mut first).await? == 1 && first[0] != 22 {
        refuse_plain_http(&mut stream).await?;
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "plain HTTP on the TLS port",
        ));
    }
    acceptor.accept(stream).await
}

/// Reads the plain request's head (up to [`MAX_HEADER_BYTES`]), answers `400` with the
/// JSON error body, and reads what follows for a moment, so that the client reads the
/// answer rather than a reset.
async fn refuse_plain_http(stream: &mut TcpStream) -> io::Result<()> {
    const ANSWER: &str = "{\"message\":\"This port speaks HTTPS: use https:// to reach it.\",\"error\":\"https_required\"}";
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while head.len() < MAX_HEADER_BYTES && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{ANSWER}",
        ANSWER.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await?;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while stream.read(&mut buf).await.is_ok_and(|n| n > 0) {}
    })
    .await;
    Ok(())
}

/// Serves HTTP/1.1 on one connection's (plain or TLS) stream until it ends, times out,
/// is evicted or the server stops.
async fn serve_http<S, IO>(
    stream: IO,
    service: S,
    conn: Arc<Conn>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) where
    S: Service,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(Tracked {
        inner: stream,
        conn: Arc::clone(&conn),
    });
    let per_request = {
        let conn = Arc::clone(&conn);
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let guard = InFlight::start(&conn);
            let request = request.map(|body| RequestBody::new(body, limits.header_timeout));
            let answer = service.call(request);
            async move {
                let response = answer.await?;
                Ok::<_, S::Error>(response.map(|body| Guarded {
                    inner: body,
                    _guard: guard,
                }))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(true)
        .header_read_timeout(None)
        .max_buf_size(2 * MAX_HEADER_BYTES)
        .max_header_size(MAX_HEADER_BYTES);
    let connection = builder.serve_connection(io, per_request);
    let mut connection = std::pin::pin!(connection);
    let mut stopping = false;
    // One timer for the connection's life, moved to each new deadline (a day away while a
    // request is handled).
    let mut timer = std::pin::pin!(tokio::time::sleep(limits.header_timeout));
    loop {
        let deadline = conn
            .deadline(&limits)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%err, "connection ended");
                }
                return;
            }
            () = timer.as_mut() => {
                if conn.deadline(&limits).is_some_and(|at| at <= Instant::now()) {
                    tracing::debug!("connection timed out");
                    return;
                }
            }
            () = conn.changed.notified() => {}
            () = conn.evicted.notified() => {
                if conn.state().in_flight == 0 {
                    tracing::debug!("idle connection closed to make room");
                    return;
                }
                // A request came in the meantime: it stays, and may be asked again.
                conn.evicting.store(false, Ordering::Relaxed);
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// The open connections, oldest first.
#[derive(Default)]
struct Registry {
    conns: Mutex<BTreeMap<u64, Arc<Conn>>>,
    /// A connection left.
    closed: Notify,
    /// Told the number of connections whenever it changes.
    gauge: Option<&'static AtomicUsize>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connections open, and those of them told to close.
    fn counts(&self) -> (usize, usize) {
        let conns = self.lock();
        let evicting = conns
            .values()
            .filter(|conn| conn.evicting.load(Ordering::Relaxed))
            .count();
        (conns.len(), evicting)
    }

    fn insert(&self, id: u64) -> Arc<Conn> {
        let conn = Arc::new(Conn::new(id));
        let mut conns = self.lock();
        conns.insert(id, Arc::clone(&conn));
        if let Some(gauge) = self.gauge {
            gauge.store(conns.len(), Ordering::Relaxed);
        }
        conn
    }

    /// Tells the oldest connection with no request in flight to close (it leaves the
    /// registry when it has); whether there was one not told already.
    fn evict_oldest_idle(&self) -> bool {
        let conns = self.lock();
        let victim = conns
            .values()
            .find(|conn| !conn.evicting.load(Ordering::Relaxed) && conn.state().in_flight == 0);
        match victim {
            Some(conn) => {
                conn.evicting.store(true, Ordering::Relaxed);
                conn.evicted.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Removes a connection from the registry when its task ends, however it ends.
struct Registered {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut conns = self.registry.lock();
        conns.remove(&self.id);
        if let Some(gauge) = self.registry.gauge {
            gauge.store(conns.len(), Ordering::Relaxed);
        }
        drop(conns);
        self.registry.closed.notify_one();
    }
}

/// One connection's activity, shared by its IO, its requests and its task.
struct Conn {
    id: u64,
    state: Mutex<State>,
    /// Something that moves a deadline happened.
    changed: Notify,
    /// Asked to close to make room.
    evicted: Notify,
    evicting: AtomicBool,
}

struct State {
    /// Requests whose answer is not completely handed to hyper.
    in_flight: usize,
    /// Requests answered.
    served: u64,
    /// Since when the connection has had no request in flight.
    idle_since: Instant,
    /// The first byte of the next request, once it came.
    head_started: Option<Instant>,
    /// Since when a write has waited for the client to read.
    write_blocked: Option<Instant>,
}

impl Conn {
    fn new(id: u64) -> Conn {
        Conn {
            id,
            state: Mutex::new(State {
                in_flight: 0,
                served: 0,
                idle_since: Instant::now(),
                head_started: None,
                write_blocked: None,
            }),
            changed: Notify::new(),
            evicted: Notify::new(),
            evicting: AtomicBool::new(false),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When the connection is to be closed if nothing changes; none while a request is
    /// being handled (its body has its own deadline).
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let state = self.state();
        if let Some(blocked) = state.write_blocked {
            return Some(blocked + limits.idle_timeout);
        }
        if state.in_flight > 0 {
            return None;
        }
        Some(match state.head_started {
            Some(first_byte) => first_byte + limits.header_timeout,
            None if state.served == 0 => state.idle_since + limits.header_timeout,
            None => state.idle_since + limits.idle_timeout,
        })
    }

    fn read(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let mut state = self.state();
        if state.in_flight == 0 && state.head_started.is_none() {
            state.head_started = Some(Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    fn write_blocked(&self, blocked: bool) {
        let mut state = self.state();
        if blocked == state.write_blocked.is_some() {
            return;
        }
        state.write_blocked = blocked.then(Instant::now);
        drop(state);
        self.changed.notify_one();
    }
}

/// A request in flight, from its head until its answer's body is handed to hyper whole.
struct InFlight {
    conn: Arc<Conn>,
}

impl InFlight {
    fn start(conn: &Arc<Conn>) -> InFlight {
        conn.state().in_flight += 1;
        conn.changed.notify_one();
        InFlight {
            conn: Arc::clone(conn),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.conn.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        state.served += 1;
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
            state.head_started = None;
        }
        drop(state);
        self.conn.changed.notify_one();
    }
}

/// The connection's stream, telling its connection when bytes come and when writes wait.
struct Tracked<IO> {
    inner: IO,
    conn: Arc<Conn>,
}

impl<IO: AsyncRead + Unpin> AsyncRead for Tracked<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            self.conn.read(buf.filled().len() - before);
        }
        result
    }
}

impl<IO> Tracked<IO> {
    fn track<T>(&self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        self.conn.write_blocked(result.is_pending());
        result
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Tracked<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.track(result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.track(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_flush(cx);
        self.track(result)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A request body that must arrive whole before its deadline; after it, reading fails
/// (the handlers answer 400 for an unreadable body).
pub struct RequestBody {
    inner: Incoming,
    timer: Pin<Box<Sleep>>,
}

impl RequestBody {
    fn new(inner: Incoming, time: Duration) -> RequestBody {
        RequestBody {
            inner,
            timer: Box::pin(tokio::time::sleep(time)),
        }
    }
}

impl Body for RequestBody {
    type Data = bytes::Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err("the request body came too slowly".into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// An answer's body that ends its request's [`InFlight`] when hyper drops it.
struct Guarded<B> {
    inner: B,
    _guard: InFlight,
}

impl<B: Body + Unpin> Body for Guarded<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Accept errors, logged at most once a second with the count since the last line.
#[derive(Default)]
struct ErrorLog {
    last: Option<Instant>,
    suppressed: u64,
}

impl ErrorLog {
    fn log(&mut self, err: &io::Error) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < Duration::from_secs(1))
        {
            self.suppressed += 1;
            return;
        }
        tracing::warn!(%err, repeated = self.suppressed, "accept error");
        self.last = Some(now);
        self.suppressed = 0;
    }
}
