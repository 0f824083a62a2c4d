//! Connections: the accept loop in front of the router. A client that opens a connection and
//! sends nothing, or trickles a request's headers, is cut off (`[connections]`
//! `idle_timeout_secs`, `header_read_timeout_secs`); at most `max_connections` are open — at
//! the cap the longest-idle one is closed for the newcomer (as nginx reuses keep-alive
//! connections), and when every connection is busy the newcomer gets a quick 503 while the
//! health checks are still answered. Running out of file descriptors is handled the same way.
//!
//! Hand-written over hyper's HTTP/1 connection rather than `axum::serve`, which has none of
//! these; hyper's own `header_read_timeout` also runs while a kept-alive connection waits, so
//! it cannot tell an idle client from a slow one. Here both clocks are the connection's own.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tower::ServiceExt;

use crate::config::ConnectionsConfig;

/// Connections over the cap, all busy, served one health check or a 503 at most.
const OVERFLOW: usize = 64;
/// How long an overflow connection may take to send its one request.
const OVERFLOW_HEADER_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections sampled for the longest-idle one (the cap is reached rarely, and an attacker's
/// idle sockets then fill most of the table, so a sample finds one).
const SAMPLE: usize = 64;

/// The clocks of one connection.
struct Conn {
    /// Requests being answered (more than one when pipelined).
    busy: AtomicUsize,
    /// When the connection last became idle (opened, or finished a response), in ms since
    /// [`Table::epoch`].
    idle_since: AtomicU64,
    /// When the next request's first byte arrived (ms since the epoch, plus one), 0 = none yet.
    head_started: AtomicU64,
    /// Told to close (evicted, or the server is stopping).
    close: Notify,
    /// A request's first byte arrived: the connection's clock changed.
    head: Notify,
    /// Chosen to make room: closes at once, and is not chosen twice.
    evicted: std::sync::atomic::AtomicBool,
    /// Its index in [`Table::slots`].
    slot: AtomicUsize,
}

impl Conn {
    /// When this connection is to be closed unless something happens before: `None` while it
    /// is answering a request (the request timeout bounds that).
    fn deadline(&self, t: &Table) -> Option<Instant> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        let head = self.head_started.load(Ordering::Acquire);
        Some(if head > 0 {
            t.at(head - 1) + t.header_read_timeout
        } else {
            t.at(self.idle_since.load(Ordering::Acquire)) + t.idle_timeout
        })
    }

    fn is_idle(&self) -> bool {
        self.busy.load(Ordering::Acquire) == 0
            && self.head_started.load(Ordering::Acquire) == 0
            && !self.evicted.load(Ordering::Acquire)
    }
}

/// Every open connection, for the cap and for eviction.
struct Table {
    epoch: Instant,
    slots: Mutex<Vec<Arc<Conn>>>,
    max: usize,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    overflow: Arc<Semaphore>,
    /// Signalled when the last connection closes.
    empty: Notify,
    rng: AtomicU64,
}

impl Table {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn at(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Conn>>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn open(&self) -> Arc<Conn> {
        let mut slots = self.lock();
        let conn = Arc::new(Conn {
            busy: AtomicUsize::new(0),
            idle_since: AtomicU64::new(self.now()),
            head_started: AtomicU64::new(0),
            close: Notify::new(),
            head: Notify::new(),
            evicted: std::sync::atomic::AtomicBool::new(false),
            slot: AtomicUsize::new(slots.len()),
        });
        slots.push(Arc::clone(&conn));
        conn
    }

    fn remove(&self, conn: &Conn) {
        let mut slots = self.lock();
        let i = conn.slot.load(Ordering::Relaxed);
        if i < slots.len() && std::ptr::eq(Arc::as_ptr(&slots[i]), conn) {
            slots.swap_remove(i);
            if let Some(moved) = slots.get(i) {
                moved.slot.store(i, Ordering::Relaxed);
            }
        }
        if slots.is_empty() {
            self.empty.notify_waiters();
        }
    }

    /// Closes the longest-idle connection of a sample (of all, if the sample has none idle);
    /// false when every connection is busy.
    fn evict_idle(&self) -> bool {
        let slots = self.lock();
        if slots.is_empty() {
            return false;
        }
        let oldest = |it: &mut dyn Iterator<Item = &Arc<Conn>>| {
            it.filter(|c| c.is_idle())
                .min_by_key(|c| c.idle_since.load(Ordering::Acquire))
                .cloned()
        };
        // xorshift: a cheap random start for the sample.
        let mut x = self.rng.load(Ordering::Relaxed) | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        let start = usize::try_from(x % slots.len() as u64).unwrap_or(0);
        let mut sample = slots
            .iter()
            .cycle()
            .skip(start)
            .take(SAMPLE.min(slots.len()));
        let victim = oldest(&mut sample).or_else(|| oldest(&mut slots.iter()));
        drop(slots);
        match victim {
            Some(c) => {
                c.evicted.store(true, Ordering::Release);
                c.close.notify_one();
                true
            }
            None => false,
        }
    }

    /// Tells every connection to finish what it is answering and close.
    fn close_all(&self) {
        for c in self.lock().iter() {
            c.close.notify_one();
        }
    }
}

/// The socket, noting when a request's first byte arrives on an idle connection.
struct Tracked {
    io: TcpStream,
    conn: Arc<Conn>,
    table: Arc<Table>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut this.io).poll_read(cx, buf);
        if buf.filled().len() > before
            && this.conn.busy.load(Ordering::Acquire) == 0
            && this.conn.head_started.load(Ordering::Acquire) == 0
        {
            this.conn
                .head_started
                .store(this.table.now() + 1, Ordering::Release);
            this.conn.head.notify_one();
        }
        poll
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Marks a connection busy for as long as it lives (one request being answered).
struct Busy {
    conn: Arc<Conn>,
    table: Arc<Table>,
}

impl Busy {
    fn new(conn: Arc<Conn>, table: Arc<Table>) -> Self {
        conn.busy.fetch_add(1, Ordering::AcqRel);
        conn.head_started.store(0, Ordering::Release);
        Self { conn, table }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.conn
            .idle_since
            .store(self.table.now(), Ordering::Release);
        self.conn.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Connections the kernel holds for the accept loop: a burst of new connections beyond it
/// is dropped by the kernel, and a health check caught in it waits a second for its retry
/// (the kernel caps it at `net.core.somaxconn`, 4,096 by default).
const BACKLOG: u32 = 4096;

/// Binds `addr` with a long accept backlog (tokio's default is 1,024).
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serves `router` on `listener` with the `[connections]` limits until `shutdown` resolves,
/// then lets in-flight requests finish and closes every connection.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ConnectionsConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let table = Arc::new(Table {
        epoch: Instant::now(),
        slots: Mutex::new(Vec::new()),
        max: limits.max_connections.max(1),
        header_read_timeout: Duration::from_secs(limits.header_read_timeout_secs.max(1)),
        idle_timeout: Duration::from_secs(limits.idle_timeout_secs.max(1)),
        overflow: Arc::new(Semaphore::new(OVERFLOW)),
        empty: Notify::new(),
        rng: AtomicU64::new(0x9E37_79B9_7F4A_7C15),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors: free one by closing the longest-idle connection,
                // else wait a moment. Another error (a client gone before its accept) passes.
                let out_of_fds = matches!(e.raw_os_error(), Some(24 | 23)); // EMFILE, ENFILE
                if out_of_fds && table.evict_idle() {
                    tokio::task::yield_now().await;
                } else {
                    tracing::warn!("accepting a connection failed: {e}");
                    if out_of_fds {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        if table.len() >= table.max && !table.evict_idle() {
            // Every connection is busy: a quick answer, not a wait.
            match Arc::clone(&table.overflow).try_acquire_owned() {
                Ok(permit) => {
                    let router = router.clone();
                    tokio::spawn(async move {
                        overflow(stream, peer, router).await;
                        drop(permit);
                    });
                }
                Err(_) => drop(stream),
            }
            continue;
        }
        let conn = table.open();
        let (router, table, stop) = (router.clone(), Arc::clone(&table), stop_rx.clone());
        tokio::spawn(async move {
            connection(
                stream,
                peer,
                router,
                Arc::clone(&conn),
                Arc::clone(&table),
                stop,
            )
            .await;
            table.remove(&conn);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    table.close_all();
    // In-flight requests are bounded by the request timeout; closing waits for them.
    while table.len() > 0 {
        let empty = table.empty.notified();
        if table.len() == 0 {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(100), empty).await;
    }
    Ok(())
}

/// One connection, kept alive until it idles out, is evicted, or the server stops.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    conn: Arc<Conn>,
    table: Arc<Table>,
    mut stop: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Tracked {
        io: stream,
        conn: Arc::clone(&conn),
        table: Arc::clone(&table),
    });
    let (c, t) = (Arc::clone(&conn), Arc::clone(&table));
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let busy = Busy::new(Arc::clone(&c), Arc::clone(&t));
        req.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        async move {
            let res = router.oneshot(req).await;
            drop(busy);
            res
        }
    });
    let mut http = pin!(
        hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(io, service)
    );
    let mut closing = false;
    loop {
        let deadline = conn.deadline(&table);
        let wait = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                // Busy: look again later (the request timeout bounds the request).
                None => tokio::time::sleep(table.header_read_timeout).await,
            }
        };
        tokio::select! {
            _ = http.as_mut() => return,
            () = conn.head.notified() => {}
            () = wait => {
                if conn.deadline(&table).is_some_and(|d| d <= Instant::now()) {
                    // Idle too long, or its headers are too slow: close now.
                    return;
                }
            }
            () = conn.close.notified(), if !closing => {
                closing = true;
                if conn.evicted.load(Ordering::Acquire) && conn.busy.load(Ordering::Acquire) == 0 {
                    return;
                }
                http.as_mut().graceful_shutdown();
            }
            _ = stop.changed(), if !closing => {
                closing = true;
                http.as_mut().graceful_shutdown();
            }
        }
    }
}

/// A connection over the cap while every other is busy: one request, no keep-alive, a short
/// header timeout. Health checks are answered; anything else is a 503 to retry shortly.
async fn overflow(stream: TcpStream, peer: SocketAddr, router: Router) {
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        async move {
            if matches!(req.uri().path(), "/healthz" | "/readyz") {
                router.oneshot(req).await
            } else {
                Ok::<Response, std::convert::Infallible>(busy_response())
            }
        }
    });
    let http = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(OVERFLOW_HEADER_TIMEOUT, http).await;
}

/// The error envelope's 503 for a connection over the cap.
fn busy_response() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1"), (header::CONNECTION, "close")],
        axum::Json(serde_json::json!({"error": {
            "code": "over_capacity",
            "message": "the server is at its connection limit; try again in a moment",
            "retry_after": 1,
        }})),
    )
        .into_response()
}
