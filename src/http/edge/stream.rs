//! One connection at the edge: request heads held back until whole and checked, the head and
//! idle timeouts, and the problem documents for refused heads.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};

use super::framing::{Chunk, Phase, Step, framing};
use super::{Limits, MAX_HEADERS};
use crate::error::{PROBLEM_JSON, Problem};

/// One accepted connection, read through the checks described in the module documentation.
pub struct EdgeStream {
    tcp: TcpStream,
    _permit: OwnedSemaphorePermit,
    limits: Arc<Limits>,
    phase: Phase,
    /// The head being read, not yet given to hyper.
    head: Vec<u8>,
    /// Where the line being scanned in `head` starts.
    line_start: usize,
    /// Bytes checked and not yet read by hyper (from `released_at` on).
    released: Vec<u8>,
    released_at: usize,
    scratch: Box<[u8]>,
    /// When the head being read started (its first byte, or the connection's start).
    head_started: Option<Instant>,
    /// A head was given to hyper and nothing has been written since.
    awaiting_response: bool,
    last_activity: Instant,
    timer: Pin<Box<Sleep>>,
    armed: Option<Instant>,
    /// The client closed, or the stream ends the connection: reads answer end of file.
    ended: bool,
    /// A refusal to write after hyper's last answer, and how much of it is written.
    refusal: Option<(Vec<u8>, usize)>,
    /// After a refusal, how many bytes were read and dropped while closing.
    lingering: Option<usize>,
    /// A flush found a deadline passed and woke the task for a read that has not come yet.
    woke_for_read: bool,
}

/// How long a refused connection is read (and what it sends dropped) before it is closed.
const LINGER: Duration = Duration::from_secs(2);

/// How much a refused connection may still send before it is closed.
const LINGER_BYTES: usize = 1024 * 1024;

impl EdgeStream {
    pub(super) fn new(tcp: TcpStream, permit: OwnedSemaphorePermit, limits: Arc<Limits>) -> Self {
        let now = Instant::now();
        Self {
            tcp,
            _permit: permit,
            limits,
            phase: Phase::Head,
            head: Vec::new(),
            line_start: 0,
            released: Vec::new(),
            released_at: 0,
            scratch: vec![0; 16 * 1024].into_boxed_slice(),
            head_started: Some(now),
            awaiting_response: false,
            last_activity: now,
            timer: Box::pin(tokio::time::sleep_until(now)),
            armed: None,
            ended: false,
            refusal: None,
            lingering: None,
            woke_for_read: false,
        }
    }

    /// Takes `input` through the framing, releasing what hyper may read.
    fn feed(&mut self, mut input: &[u8]) {
        while !input.is_empty() && !self.ended {
            match &mut self.phase {
                Phase::Transparent => {
                    self.released.extend_from_slice(input);
                    return;
                }
                Phase::Length(left) => {
                    let take = usize::try_from(*left).map_or(input.len(), |l| l.min(input.len()));
                    *left -= take as u64;
                    self.released.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    if *left == 0 {
                        self.phase = Phase::Head;
                    }
                }
                Phase::Chunked(Chunk::Data(left)) => {
                    let take = usize::try_from(*left).map_or(input.len(), |l| l.min(input.len()));
                    *left -= take as u64;
                    self.released.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    if *left == 0 {
                        self.phase = Phase::Chunked(Chunk::DataCr);
                    }
                }
                Phase::Chunked(chunk) => {
                    let (chunk, byte) = (*chunk, input[0]);
                    self.released.push(byte);
                    input = &input[1..];
                    self.phase = match chunk.step(byte) {
                        Step::Go(next) => Phase::Chunked(next),
                        Step::Done => Phase::Head,
                        Step::Invalid => Phase::Transparent,
                    };
                }
                Phase::Head => {
                    if self.head.is_empty() {
                        // Empty lines before a request line are allowed (RFC 9112 §2.2); hyper
                        // skips them.
                        let blank = input
                            .iter()
                            .take_while(|b| matches!(b, b'\r' | b'\n'))
                            .count();
                        self.released.extend_from_slice(&input[..blank]);
                        input = &input[blank..];
                        if input.is_empty() {
                            return;
                        }
                        if self.head_started.is_none() {
                            self.head_started = Some(Instant::now());
                        }
                    }
                    let before = self.head.len();
                    self.head.extend_from_slice(input);
                    match self.head_end() {
                        Some(end) => {
                            input = &input[end - before..];
                            self.head.truncate(end);
                            self.end_of_head();
                        }
                        None => {
                            input = &[];
                            self.check_partial_head();
                        }
                    }
                }
            }
        }
    }

    /// The index just past the empty line that ends the head, if it has arrived.
    fn head_end(&mut self) -> Option<usize> {
        while let Some(nl) = self.head[self.line_start..]
            .iter()
            .position(|b| *b == b'\n')
        {
            let line = &self.head[self.line_start..self.line_start + nl];
            let next = self.line_start + nl + 1;
            if self.line_start > 0 && (line.is_empty() || line == b"\r") {
                self.line_start = 0;
                return Some(next);
            }
            self.line_start = next;
        }
        None
    }

    /// Refuses a head that is already over a limit before it is complete.
    fn check_partial_head(&mut self) {
        let request_line = self.head.iter().position(|b| *b == b'\n');
        if request_line.is_none_or(|n| n > self.limits.max_request_line) {
            if self.head.len() > self.limits.max_request_line {
                self.refuse_uri();
            }
        } else if self.head.len() > self.limits.max_head {
            self.refuse_head_size();
        }
    }

    /// Checks a complete head; gives it to hyper with the framing of its body, or refuses it.
    fn end_of_head(&mut self) {
        let request_line = self.head.iter().position(|b| *b == b'\n').unwrap_or(0);
        if request_line > self.limits.max_request_line {
            return self.refuse_uri();
        }
        if self.head.len() > self.limits.max_head {
            return self.refuse_head_size();
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        let next = match request.parse(&self.head) {
            Ok(httparse::Status::Complete(_)) => framing(&request),
            // Cannot be (the head ends with an empty line), but hyper is the judge of it.
            Ok(httparse::Status::Partial) => Phase::Transparent,
            Err(httparse::Error::TooManyHeaders) => {
                return self.refuse(
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    format!("the request has more than {MAX_HEADERS} headers"),
                );
            }
            Err(e) => {
                return self.refuse(
                    StatusCode::BAD_REQUEST,
                    format!("the request line or a header is malformed: {e}"),
                );
            }
        };
        self.released.append(&mut self.head);
        self.phase = next;
        self.head_started = None;
        self.awaiting_response = true;
    }

    fn refuse_uri(&mut self) {
        let limit = self.limits.max_request_line;
        self.refuse(
            StatusCode::URI_TOO_LONG,
            format!(
                "the address is too long: the request line may have at most {limit} bytes \
                 (max_request_line_bytes); send long queries in a request body"
            ),
        );
    }

    fn refuse_head_size(&mut self) {
        let limit = self.limits.max_head;
        self.refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the request's headers are too large: at most {limit} bytes (max_header_bytes)"
            ),
        );
    }

    /// Ends the connection after the answers hyper owes, with a problem document for `status`.
    fn refuse(&mut self, status: StatusCode, detail: String) {
        let request_id = uuid::Uuid::new_v4().to_string();
        tracing::warn!(status = status.as_u16(), %request_id, "{detail}");
        let mut problem = Problem::new(status, detail);
        problem.request_id = Some(request_id.clone());
        let body = serde_json::to_vec(&problem).unwrap_or_else(|_| b"{}".to_vec());
        let mut answer = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {}\r\n\
             connection: close\r\nx-request-id: {request_id}\r\nx-content-type-options: nosniff\r\n\
             content-security-policy: default-src 'none'; frame-ancestors 'none'\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            body.len()
        )
        .into_bytes();
        answer.extend_from_slice(&body);
        self.refusal = Some((answer, 0));
        self.head = Vec::new();
        self.ended = true;
    }

    /// The next time a timeout may end the connection.
    fn deadline(&self) -> Option<Instant> {
        if let Some(started) = self.head_started {
            self.limits.header_read_timeout.map(|t| started + t)
        } else if matches!(self.phase, Phase::Head) && !self.awaiting_response {
            self.limits.idle_timeout.map(|t| self.last_activity + t)
        } else {
            None
        }
    }

    /// Arms the timer for the next deadline with this task's waker; `Ready` once it has passed.
    ///
    /// Called from writes too: after answering, hyper may wait for the socket without reading
    /// again (it read and got `Pending` while the handler ran), so a timer armed only by reads
    /// would never wake it. A timer already armed for an earlier time is left as it is: when it
    /// fires, the deadline is computed again (resetting it on every write would cost more).
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let Some(deadline) = self.deadline() else {
                return Poll::Pending;
            };
            if deadline <= Instant::now() {
                return Poll::Ready(());
            }
            if self
                .armed
                .is_none_or(|armed| armed > deadline || armed <= Instant::now())
            {
                self.timer.as_mut().reset(deadline);
                self.armed = Some(deadline);
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.armed = None;
        }
    }

    /// Applies the timeouts while the client sends nothing; `Ready` when the connection ends.
    fn poll_timeouts(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        std::task::ready!(self.poll_deadline(cx));
        if self.head_started.is_some() {
            self.refuse(
                StatusCode::REQUEST_TIMEOUT,
                "the request's head did not arrive in time (header_read_timeout_ms)".to_owned(),
            );
        } else {
            self.ended = true;
        }
        Poll::Ready(())
    }

    /// Writes what is left of the refusal.
    fn poll_refusal(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((answer, written)) = &mut self.refusal {
            if *written == answer.len() {
                self.refusal = None;
                break;
            }
            let n = std::task::ready!(Pin::new(&mut self.tcp).poll_write(cx, &answer[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    /// After a refusal: ends the sending side, then reads and drops what the client still sends,
    /// for a moment. Closing a socket with unread input makes the kernel reset the connection,
    /// and a reset can destroy the refusal before the client reads it (the client that sent a
    /// 90 KB address is still sending it).
    fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.lingering.is_none() {
            std::task::ready!(Pin::new(&mut self.tcp).poll_shutdown(cx))?;
            let until = Instant::now() + LINGER;
            self.timer.as_mut().reset(until);
            self.armed = None;
            self.lingering = Some(0);
        }
        loop {
            let mut buf = ReadBuf::new(&mut self.scratch);
            match Pin::new(&mut self.tcp).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                    let drained = self.lingering.unwrap_or(0) + buf.filled().len();
                    self.lingering = Some(drained);
                    if drained > LINGER_BYTES {
                        return Poll::Ready(Ok(()));
                    }
                }
                Poll::Ready(_) => return Poll::Ready(Ok(())),
                Poll::Pending => {
                    return self.timer.as_mut().poll(cx).map(Ok);
                }
            }
        }
    }

    fn wrote(&mut self, n: usize) {
        if n > 0 {
            self.last_activity = Instant::now();
            self.awaiting_response = false;
        }
    }
}

impl AsyncRead for EdgeStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.woke_for_read = false;
        loop {
            if this.released_at < this.released.len() {
                let n = out.remaining().min(this.released.len() - this.released_at);
                out.put_slice(&this.released[this.released_at..this.released_at + n]);
                this.released_at += n;
                if this.released_at == this.released.len() {
                    this.released.clear();
                    this.released_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.ended {
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut this.scratch);
            match Pin::new(&mut this.tcp).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => {
                    let n = buf.filled().len();
                    if n == 0 {
                        // The client is gone: hyper gets what it sent, as it would have.
                        this.ended = true;
                        this.released.append(&mut this.head);
                        continue;
                    }
                    this.last_activity = Instant::now();
                    let scratch = std::mem::take(&mut this.scratch);
                    this.feed(&scratch[..n]);
                    this.scratch = scratch;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    std::task::ready!(this.poll_timeouts(cx));
                }
            }
        }
    }
}

impl AsyncWrite for EdgeStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = std::task::ready!(Pin::new(&mut this.tcp).poll_write(cx, buf))?;
        this.wrote(written);
        Poll::Ready(Ok(written))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = std::task::ready!(Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs))?;
        this.wrote(written);
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // A deadline that has passed is acted on by the next read, which the wake-up brings; once
        // per read, so that a connection hyper does not read now cannot spin.
        if !this.woke_for_read && this.poll_deadline(cx).is_ready() {
            this.woke_for_read = true;
            cx.waker().wake_by_ref();
        }
        Pin::new(&mut this.tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // hyper shuts the connection down after its last answer: the refusal goes after it.
        let this = self.get_mut();
        let refused = this.refusal.is_some() || this.lingering.is_some();
        std::task::ready!(this.poll_refusal(cx))?;
        if !refused {
            return Pin::new(&mut this.tcp).poll_shutdown(cx);
        }
        this.poll_linger(cx)
    }
}

impl Drop for EdgeStream {
    fn drop(&mut self) {
        // hyper drops a connection it gave up on without shutting it down: the refusal still goes
        // out if the socket takes it at once.
        if let Some((answer, written)) = &self.refusal {
            let _ = self.tcp.try_write(&answer[*written..]);
        }
    }
}
