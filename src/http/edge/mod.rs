//! The server's edge: which connections it takes, and what it reads of each before hyper does.
//!
//! hyper, as `axum::serve` runs it, has no header-read or idle timeout, no cap on connections, and
//! answers a request head it cannot parse (a URI over its fixed 64 KiB limit, a head over its
//! buffer, a malformed request line) itself, with an empty body. So every accepted connection goes
//! through an [`EdgeStream`] that reads the request heads first:
//!
//! - A head is held back until it is complete, then checked with `httparse` (the parser hyper
//!   uses) against our own, lower limits: a request line over `max_request_line_bytes` is refused
//!   with `414`, a head over `max_header_bytes` or with too many headers with `431`, a malformed
//!   one with `400`, each with a problem document. hyper never sees a refused head: it sees the
//!   connection end after the requests before it, answers those, and closes, and the problem is
//!   written after them. A head that passes goes to hyper unchanged.
//! - The body's framing (`Content-Length` or chunked) tells where the next head starts. A framing
//!   the stream does not follow (an upgrade, `CONNECT`, an unknown transfer coding, an invalid
//!   chunk) makes it stop checking that connection and pass everything to hyper, which then
//!   decides as before (answering its own errors without a body).
//! - A head must be complete within `header_read_timeout_ms` of its first byte (of the
//!   connection's start for the first request): otherwise `408` and the connection is closed. A
//!   connection with no request in flight and nothing read or written for `idle_timeout_ms` is
//!   closed. hyper's own header timeout is not used: it runs from the end of the previous
//!   response, so it would make the idle time and the head's time one setting.
//! - At most `max_connections` connections are served at once; beyond that the listener stops
//!   accepting, and new connections wait in the kernel's backlog until one closes (refusing them
//!   would need accepting them first, which is what the cap is there to bound; a client that
//!   waits is served as soon as there is room, and the timeouts above bound how long any
//!   connection can hold a place).

mod framing;
mod stream;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::Settings;

pub use stream::EdgeStream;

/// The limits every connection is held to.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time to send a complete request head; `None`: unlimited.
    pub header_read_timeout: Option<Duration>,
    /// Time a connection may stay open with nothing to do; `None`: unlimited.
    pub idle_timeout: Option<Duration>,
    /// Connections served at once.
    pub max_connections: usize,
    /// Longest request line (method, target, version).
    pub max_request_line: usize,
    /// Largest request head (request line and headers).
    pub max_head: usize,
}

impl Limits {
    /// The limits configured in `settings` (0 turns a timeout or the cap off).
    pub fn of(settings: &Settings) -> Self {
        let millis = |ms: u64| (ms > 0).then(|| Duration::from_millis(ms));
        Self {
            header_read_timeout: millis(settings.header_read_timeout_ms),
            idle_timeout: millis(settings.idle_timeout_ms),
            max_connections: match settings.max_connections {
                0 => Semaphore::MAX_PERMITS,
                n => n.min(Semaphore::MAX_PERMITS),
            },
            max_request_line: settings.max_request_line_bytes.max(64),
            max_head: settings
                .max_header_bytes
                .max(settings.max_request_line_bytes)
                .max(256),
        }
    }
}

/// Headers a head may have (hyper's default limit too).
const MAX_HEADERS: usize = 100;

/// A TCP listener that accepts only while fewer than `max_connections` connections are open.
pub struct EdgeListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    limits: Arc<Limits>,
}

impl EdgeListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener, limits: Limits) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(limits.max_connections)),
            limits: Arc::new(limits),
        }
    }
}

impl axum::serve::Listener for EdgeListener {
    type Io = EdgeStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // The semaphore is never closed; waiting on it is what holds new connections back.
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return std::future::pending().await;
        };
        loop {
            match self.inner.accept().await {
                Ok((tcp, addr)) => {
                    let _ = tcp.set_nodelay(true);
                    return (EdgeStream::new(tcp, permit, self.limits.clone()), addr);
                }
                Err(e) => {
                    // As axum's own listener: a connection reset before it was accepted is the
                    // client's business; anything else (out of file descriptors) waits a moment.
                    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
                    if !matches!(
                        e.kind(),
                        ConnectionAborted | ConnectionRefused | ConnectionReset
                    ) {
                        tracing::error!("accept error: {e}");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}
