//! One HTTP/1.1 connection: the loop that moves bytes between the socket
//! and `proto_http::h1::Connection`, and runs the router for each request.
//!
//! The loop: feed what was read to the protocol machine; run each complete
//! request through the router in order (a handler that awaits nothing
//! finishes inline, on its first poll); flush every response produced by
//! that batch with one write (pipelined requests share a write); then read
//! what is there without waiting; when nothing is, give the buffers back to
//! the worker's pool and wait for the socket to become readable, bounded by
//! the machine's next deadline (idle, header or body timeout). See
//! [`serve_h1`] for what an idle connection keeps.

use super::body::StreamBody;
use super::future_pool::HandlerFuture;
use super::request::Request;
use super::response::{Payload, Response};
use super::router::{Router, Started};
use super::server::App;
use super::{buf_pool, write};
use bytes::{Bytes, BytesMut};
use io_core::AsyncStream;
use io_core::select::{Either, select};
use io_core::time::{Sleep, sleep_until};
use proto_http::StatusCode;
use proto_http::h1::{
    Body, BodyKind, Connection, Event, Header, RequestHead, RequestId, ResponseHead,
};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Response headers kept on the stack before spilling to a `Vec`.
const INLINE_HEADERS: usize = 16;

/// A request whose body is still arriving.
struct Pending {
    id: RequestId,
    head: RequestHead,
    body: BodyBuf,
}

/// A request body: one chunk kept as is (zero copy), several joined.
#[derive(Default)]
pub(super) enum BodyBuf {
    #[default]
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl BodyBuf {
    pub(super) fn push(&mut self, chunk: Bytes) {
        *self = match std::mem::take(self) {
            BodyBuf::Empty => BodyBuf::One(chunk),
            BodyBuf::One(first) => {
                let mut all = BytesMut::with_capacity(first.len() + chunk.len());
                all.extend_from_slice(&first);
                all.extend_from_slice(&chunk);
                BodyBuf::Many(all)
            }
            BodyBuf::Many(mut all) => {
                all.extend_from_slice(&chunk);
                BodyBuf::Many(all)
            }
        }
    }

    pub(super) fn into_bytes(self) -> Bytes {
        match self {
            BodyBuf::Empty => Bytes::new(),
            BodyBuf::One(b) => b,
            BodyBuf::Many(b) => b.freeze(),
        }
    }
}

/// Routes `req` and calls its handler, turning a panic in that call into
/// `500 Internal Server Error` so one bad request cannot take the worker
/// down. The handler's future (if any) is polled with [`poll_caught`].
pub(super) fn start_caught(router: &Router, req: Request) -> Started {
    // Captured by reference: moving the request into the closure would
    // copy it twice more on its way through `catch_unwind`.
    let mut req = Some(req);
    match catch_unwind(AssertUnwindSafe(|| req.take().map(|r| router.start(r)))) {
        Ok(Some(started)) => started,
        Ok(None) | Err(_) => Started::Done(internal_error()),
    }
}

/// Polls a handler's future, turning a panic into `500`.
pub(super) fn poll_caught(fut: &mut HandlerFuture, cx: &mut Context<'_>) -> Poll<Response> {
    match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *fut).poll(cx))) {
        Ok(p) => p,
        Err(_) => Poll::Ready(internal_error()),
    }
}

pub(super) fn internal_error() -> Response {
    tracing::error!("handler panicked; answering 500");
    Response::status(StatusCode::INTERNAL_SERVER_ERROR)
        .content_type("text/plain; charset=utf-8")
        .body("Internal Server Error")
}

/// Hands `resp` to the protocol machine as the answer to `id`.
fn send(conn: &mut Connection, id: RequestId, mut resp: Response) -> Option<StreamBody> {
    let sent = with_parts(&resp, |head, body| {
        let res = conn.send_response(id, head, body);
        if let Err(e) = &res {
            // The handler produced something unsendable (a bad header, a body on
            // a 204): answer 500 rather than nothing, so the client is not left
            // waiting and later pipelined responses keep their order.
            tracing::error!(error = %e, "invalid response from handler; answering 500");
            let _ = conn.send_response(
                id,
                ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR, &[("server", b"weft")]),
                Body::Empty,
            );
        }
        res.is_ok()
    });
    // A streamed body's pieces follow ([`stream_body`]).
    resp.take_stream().filter(|_| sent)
}

/// Sends the pieces of `body`, the answer to `id`, as `stream` takes them
/// (the head is queued already), then its end. `false` when the
/// connection must close: the write failed or stalled, or producing the
/// body panicked (the client sees the body cut short). Boxed by the
/// caller, so an ordinary connection's task does not carry its state.
async fn stream_body<S: AsyncStream>(
    stream: &S,
    conn: &mut Connection,
    id: RequestId,
    mut body: StreamBody,
    wbuf: &mut BytesMut,
    stall: Option<Duration>,
) -> bool {
    loop {
        // Write what is queued: the head, then each piece, before asking
        // for the next (the producer waits for a slow client).
        if conn.poll_transmit(wbuf) > 0 {
            match write::write_all(stream, std::mem::take(wbuf), stall).await {
                Ok(buf) => *wbuf = buf,
                Err(e) => {
                    tracing::debug!(%e, "h1 write failed or stalled; closing");
                    return false;
                }
            }
            wbuf.clear();
            conn.supply_transmit_buffer(|| std::mem::take(wbuf));
        }
        match std::future::poll_fn(|cx| body.poll_next(cx)).await {
            Ok(Some(piece)) => {
                if conn.send_body_chunk(id, piece).is_err() {
                    return false;
                }
            }
            Ok(None) => return conn.send_end(id).is_ok(),
            Err(()) => return false,
        }
    }
}

/// Calls `f` with `resp` as a protocol head (plus `server` and
/// `content-type`) and body, keeping up to [`INLINE_HEADERS`] headers on
/// the stack.
pub(super) fn with_parts<R>(resp: &Response, f: impl FnOnce(ResponseHead<'_>, Body) -> R) -> R {
    let fixed: [Header<'_>; 2] = [
        ("server", b"weft"),
        ("content-type", resp.content_type.unwrap_or("").as_bytes()),
    ];
    let fixed = if resp.content_type.is_some() {
        &fixed[..]
    } else {
        &fixed[..1]
    };
    let body = match &resp.body {
        Payload::Full(b) if b.is_empty() => Body::Empty,
        Payload::Full(b) => Body::Full(b.clone()),
        Payload::Stream(_) => Body::Stream { length: None },
    };
    if resp.headers.is_empty() {
        // The usual response: nothing to gather.
        return f(ResponseHead::new(resp.status, fixed), body);
    }
    let all = fixed
        .iter()
        .copied()
        .chain(resp.headers.iter().map(|(n, v)| (n.as_ref(), v.as_ref())));
    let mut inline: [Header<'_>; INLINE_HEADERS] = [("", b""); INLINE_HEADERS];
    let mut spilled: Vec<Header<'_>> = Vec::new();
    let mut n = 0;
    for h in all {
        if n < INLINE_HEADERS {
            inline[n] = h;
        } else {
            if spilled.is_empty() {
                spilled.extend_from_slice(&inline);
            }
            spilled.push(h);
        }
        n += 1;
    }
    let headers: &[Header<'_>] = if n <= INLINE_HEADERS {
        &inline[..n]
    } else {
        &spilled
    };
    f(ResponseHead::new(resp.status, headers), body)
}

/// How long a connection whose queues pipelining grew must stay idle
/// before it gives that memory back ([`Connection::shrink_idle`]).
/// Shrinking at every pause would re-allocate for every pipelined batch.
const SHRINK_AFTER: Duration = Duration::from_secs(1);

/// Serves one HTTP/1.1 connection until it closes.
///
/// Memory while idle (issue 3): the task keeps the protocol machine and a
/// few handles, and nothing else. It waits for the socket to become
/// readable without a buffer ([`AsyncStream::readable`]), takes a read
/// buffer from the worker's pool only then ([`buf_pool`]), and reads
/// with [`AsyncStream::try_read`]; when a read finds nothing, the read
/// buffer (if it holds no partial request) and the write buffer go back to
/// the pool before waiting. Everything held across an `await` is small:
/// the request is built and its handler called synchronously
/// ([`next_request`], [`start_caught`]), so the task keeps only the
/// handler's [`HandlerFuture`] (a pointer) while it runs.
pub(crate) async fn serve_h1<S: AsyncStream>(stream: S, app: Arc<App>) {
    let _ = stream.set_nodelay(true);
    let mut conn = Connection::new(app.h1.clone());
    // The idle timeout runs from the accept: a client that never sends a
    // byte is closed too.
    conn.handle_accept(Instant::now());
    // A response the connection itself writes (a 400 before any request
    // reached us) carries a Date too (RFC 9110 §6.6.1).
    conn.set_date_unix(crate::clock::unix_secs());
    // Both start unallocated: taken from the pool when needed.
    let mut rbuf = BytesMut::new();
    let mut wbuf = BytesMut::new();
    let mut pending: Option<Box<Pending>> = None;
    let shutdown = io_core::runtime::shutdown_signal();
    // The shutdown wait and the idle timer are kept from one idle wait to
    // the next: registering with the latch and the worker's timer map anew
    // for every request of a keep-alive connection cost a lock, a waker
    // clone, a map insert and a remove each time.
    let mut stop_wait = std::pin::pin!(shutdown.as_ref().map(|s| s.wait()));
    let mut idle_timer: Option<Sleep> = None;
    // Until the first bytes rule it out, the client may speak HTTP/2 with
    // prior knowledge (RFC 9113 §3.3).
    let mut fresh = true;
    // An accepted h2c upgrade: its settings and request, run on stream 1
    // once the 101 is written.
    let mut upgrade: Option<Box<super::h2::Upgrade>> = None;
    let cap = app.read_buffer;
    loop {
        // Run every complete request, in order.
        let mut progressed = false;
        loop {
            let (id, started) = {
                let Some((id, req)) =
                    next_request(&mut conn, &mut pending, &mut upgrade, &mut progressed)
                else {
                    break;
                };
                (id, start_caught(&app.router, req))
            };
            let mut resp = match started {
                Started::Done(resp) => resp,
                Started::Running(mut fut) => {
                    std::future::poll_fn(|cx| poll_caught(&mut fut, cx)).await
                }
            };
            if conn.in_flight() <= 1 && shutdown.as_ref().is_some_and(|s| s.is_set()) {
                // Shutting down: the connection closes once nothing is in
                // flight, so the last response says so (RFC 9112 §9.6) and
                // the client does not send another request into the close.
                resp = resp.header("connection", &b"close"[..]);
            }
            conn.set_date_unix(crate::clock::unix_secs());
            conn.supply_transmit_buffer(|| buf_pool::take(cap));
            if let Some(body) = send(&mut conn, id, resp) {
                let stall = app.h1.send_stall_timeout;
                let streamed = stream_body(&stream, &mut conn, id, body, &mut wbuf, stall);
                if !Box::pin(streamed).await {
                    return;
                }
            }
        }
        // Parsing pauses at the pipelining limit: resume once responses went out.
        if progressed && !rbuf.is_empty() && !conn.wants_close() {
            conn.handle_input(Instant::now(), &mut rbuf);
        }
        if conn.poll_transmit(&mut wbuf) > 0 {
            let stall = app.h1.send_stall_timeout;
            match write::write_all(&stream, std::mem::take(&mut wbuf), stall).await {
                Ok(buf) => wbuf = buf,
                Err(e) => {
                    tracing::debug!(%e, "h1 write failed or stalled; closing");
                    return;
                }
            }
            wbuf.clear();
            // The written buffer becomes the connection's transmit buffer
            // again (`poll_transmit` swapped it out for our empty one).
            conn.supply_transmit_buffer(|| std::mem::take(&mut wbuf));
        }
        if conn.is_switched() {
            if let Some(up) = upgrade.take() {
                let h2 = super::h2::serve_h2(&stream, app, rbuf, Some(*up));
                return Box::pin(h2).await;
            }
            return;
        }
        if conn.is_closed() {
            break;
        }
        if shutdown.as_ref().is_some_and(|s| s.is_set()) && conn.in_flight() == 0 {
            break;
        }
        // Events produced by the resumed parse above are handled before reading.
        if progressed {
            continue;
        }
        if rbuf.capacity() == 0 {
            rbuf = buf_pool::take(cap);
        } else if rbuf.is_empty() && rbuf.capacity() < cap {
            // All consumed: read into the whole buffer again rather than
            // its tail (no allocation: the parsed requests are gone).
            rbuf.reserve(cap);
        }
        match stream.try_read(&mut rbuf) {
            Ok(0) => conn.handle_eof(Instant::now()),
            Ok(_) => {
                if fresh {
                    match proto_http::h1::is_h2_preface(&rbuf) {
                        Some(true) => {
                            let h2 = super::h2::serve_h2(&stream, app, rbuf, None);
                            return Box::pin(h2).await;
                        }
                        // Too short to tell: read more first.
                        None => continue,
                        Some(false) => fresh = false,
                    }
                }
                conn.supply_transmit_buffer(|| buf_pool::take(cap));
                // The input may be answered by the machine itself (a 400):
                // with the current Date (once per read, not per request).
                conn.set_date_unix(crate::clock::unix_secs());
                conn.handle_input(Instant::now(), &mut rbuf);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                // Idle until the socket is readable: keep no empty buffer.
                if rbuf.is_empty() {
                    buf_pool::give(std::mem::take(&mut rbuf), cap);
                }
                buf_pool::give(std::mem::take(&mut wbuf), cap);
                if let Some(tx) = conn.take_transmit_buffer() {
                    buf_pool::give(tx, cap);
                }
                let deadline = conn.poll_timeout();
                let shrink_at = conn
                    .has_idle_excess()
                    .then(|| Instant::now() + SHRINK_AFTER);
                let wake_at = match (deadline, shrink_at) {
                    (Some(d), Some(s)) => Some(d.min(s)),
                    (d, s) => d.or(s),
                };
                match (wake_at, idle_timer.as_mut()) {
                    // An earlier deadline is still armed: let it fire (early,
                    // at worst: the timer branch below then finds nothing
                    // due and the next wait re-arms) rather than move it.
                    (Some(at), Some(t)) if t.deadline() <= at => {}
                    (Some(at), Some(t)) => t.reset(at),
                    (Some(at), None) => idle_timer = Some(sleep_until(at)),
                    (None, _) => idle_timer = None,
                }
                let woke = wait_readable(
                    &stream,
                    idle_timer.as_mut(),
                    stop_wait.as_mut().as_pin_mut(),
                )
                .await;
                match woke {
                    Woke::Readable => {}
                    // Shutting down: an idle keep-alive connection just closes.
                    Woke::Shutdown if conn.in_flight() == 0 => return,
                    // A request whose body is still arriving is in flight:
                    // read on (its response will say `close`), within the
                    // grace period, no longer waiting on the signal.
                    Woke::Shutdown => stop_wait.set(None),
                    Woke::Timer => {
                        idle_timer = None;
                        let now = Instant::now();
                        if shrink_at.is_some_and(|s| s <= now) {
                            conn.shrink_idle();
                        }
                        // A no-op unless the machine's own deadline passed
                        // (then it may answer 408, with the current Date).
                        conn.set_date_unix(crate::clock::unix_secs());
                        conn.handle_timeout(now);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// What ended an idle wait.
enum Woke {
    Readable,
    Timer,
    Shutdown,
}

/// Waits, holding no buffer, until `stream` is readable, `timer` fires or
/// the server shuts down (`stop`). A failure to wait counts as readable:
/// the read that follows reports it.
async fn wait_readable<S: AsyncStream, W: Future<Output = ()>>(
    stream: &S,
    timer: Option<&mut Sleep>,
    stop: Option<Pin<&mut W>>,
) -> Woke {
    let readable = stream.readable();
    match (timer, stop) {
        (Some(t), Some(stop)) => match select(stop, select(readable, t)).await {
            Either::Left(()) => Woke::Shutdown,
            Either::Right(Either::Left(_)) => Woke::Readable,
            Either::Right(Either::Right(())) => Woke::Timer,
        },
        (Some(t), None) => match select(readable, t).await {
            Either::Left(_) => Woke::Readable,
            Either::Right(()) => Woke::Timer,
        },
        (None, Some(stop)) => match select(stop, readable).await {
            Either::Left(()) => Woke::Shutdown,
            Either::Right(_) => Woke::Readable,
        },
        (None, None) => {
            let _ = readable.await;
            Woke::Readable
        }
    }
}

/// Hands out events until a request is complete and returns it (with its
/// body), or returns `None` when the events ran out. A request whose body is
/// still arriving waits in `pending` (boxed: only requests whose body spans
/// reads pay for it, and the connection task stays small). An accepted h2c
/// upgrade is answered `101` here and parked in `upgrade`. Synchronous, so
/// that no event or head is held across an `await` of the connection task.
fn next_request(
    conn: &mut Connection,
    pending: &mut Option<Box<Pending>>,
    upgrade: &mut Option<Box<super::h2::Upgrade>>,
    progressed: &mut bool,
) -> Option<(RequestId, Request)> {
    let mut cur: Option<Pending> = pending.take().map(|b| *b);
    while let Some(event) = conn.poll_event() {
        *progressed = true;
        match event {
            Event::Request { id, head } => {
                // A request without a body (most of them) is complete now:
                // built at once, without a stop in `Pending` (the head is
                // half a kilobyte, and every move of it is a copy). Its
                // `BodyEnd`, next, finds nothing pending and is skipped.
                if head.body_kind() == BodyKind::Length(0) && head.upgrade().is_none() {
                    return Some((id, Request::new(head, Bytes::new())));
                }
                if head.expects_continue() {
                    let _ = conn.send_continue(id);
                }
                cur = Some(Pending {
                    id,
                    head,
                    body: BodyBuf::Empty,
                });
            }
            Event::Body { id, chunk } => {
                if let Some(p) = cur.as_mut().filter(|p| p.id == id) {
                    p.body.push(chunk);
                }
            }
            Event::BodyEnd { id, trailers } => {
                if cur.as_ref().is_none_or(|p| p.id != id) {
                    continue;
                }
                let Some(p) = cur.take() else { continue };
                if p.head.upgrade().is_some() {
                    if let Some(settings) = proto_http::h2::upgrade::h2c_settings(&p.head) {
                        // RFC 7540 §3.2: 101, then HTTP/2 with this
                        // request on stream 1.
                        let is_head = p.head.method() == proto_http::Method::Head;
                        let req = Request::new(p.head, p.body.into_bytes());
                        *upgrade = Some(Box::new(super::h2::Upgrade {
                            settings,
                            req,
                            is_head,
                        }));
                        let switching: [Header<'_>; 2] =
                            [("connection", b"Upgrade"), ("upgrade", b"h2c")];
                        let head = ResponseHead::new(StatusCode::SWITCHING_PROTOCOLS, &switching);
                        let _ = conn.send_response(id, head, Body::Empty);
                        continue;
                    }
                }
                let mut req = Request::new(p.head, p.body.into_bytes());
                if let Some(t) = trailers {
                    req.set_trailers(t);
                }
                return Some((id, req));
            }
            Event::Error { error, .. } => {
                tracing::debug!(%error, "HTTP/1.1 protocol error; closing after the error response");
            }
            _ => {}
        }
    }
    if let Some(p) = cur {
        *pending = Some(Box::new(p));
    }
    None
}
