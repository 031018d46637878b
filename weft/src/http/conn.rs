//! One HTTP/1.1 connection: the loop that moves bytes between the socket
//! and `proto_http::h1::Connection`, and runs the router for each request.
//!
//! The loop: feed what was read to the protocol machine; run each complete
//! request through the router in order (a handler that awaits nothing
//! finishes inline, on its first poll); flush every response produced by
//! that batch with one write (pipelined requests share a write); then read,
//! bounded by the machine's next deadline (idle, header or body timeout).

use super::future_pool::HandlerFuture;
use super::request::Request;
use super::response::Response;
use super::router::{Router, Started};
use super::server::App;
use bytes::{Bytes, BytesMut};
use io_core::AsyncStream;
use io_core::select::{Either, select};
use io_core::time::timeout_at;
use proto_http::StatusCode;
use proto_http::h1::{
    Body, Connection, Event, Header, HttpDate, RequestHead, RequestId, ResponseHead,
};
use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Response headers kept on the stack before spilling to a `Vec`.
const INLINE_HEADERS: usize = 16;

thread_local! {
    /// The worker's `Date` value, re-formatted at most once a second.
    static DATE: Cell<Option<HttpDate>> = const { Cell::new(None) };
}

pub(super) fn current_date() -> HttpDate {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    DATE.with(|d| {
        let mut date = d.get().unwrap_or_else(|| HttpDate::from_unix(secs));
        if date.unix_secs() != secs {
            date.update_unix(secs);
        }
        d.set(Some(date));
        date
    })
}

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
    match catch_unwind(AssertUnwindSafe(|| router.start(req))) {
        Ok(started) => started,
        Err(_) => Started::Done(internal_error()),
    }
}

/// Polls a handler's future, turning a panic into `500`.
pub(super) fn poll_caught(fut: &mut HandlerFuture, cx: &mut Context<'_>) -> Poll<Response> {
    match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *fut).poll(cx))) {
        Ok(p) => p,
        Err(_) => Poll::Ready(internal_error()),
    }
}

/// Runs `req` through the router to its response.
async fn respond(router: &Router, req: Request) -> Response {
    match start_caught(router, req) {
        Started::Done(resp) => resp,
        Started::Running(mut fut) => std::future::poll_fn(|cx| poll_caught(&mut fut, cx)).await,
    }
}

pub(super) fn internal_error() -> Response {
    tracing::error!("handler panicked; answering 500");
    Response::status(StatusCode::INTERNAL_SERVER_ERROR)
        .content_type("text/plain; charset=utf-8")
        .body("Internal Server Error")
}

/// Hands `resp` to the protocol machine as the answer to `id`.
fn send(conn: &mut Connection, id: RequestId, resp: Response) {
    with_parts(&resp, |head, body| {
        if let Err(e) = conn.send_response(id, head, body) {
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
    });
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
    let body = if resp.body.is_empty() {
        Body::Empty
    } else {
        Body::Full(resp.body.clone())
    };
    f(ResponseHead::new(resp.status, headers), body)
}

/// Serves one HTTP/1.1 connection until it closes.
pub(crate) async fn serve_h1<S: AsyncStream>(stream: S, app: Arc<App>) {
    let _ = stream.set_nodelay(true);
    let mut conn = Connection::new(app.h1.clone());
    // A response the connection itself writes (a 400 before any request
    // reached us) carries a Date too (RFC 9110 §6.6.1).
    conn.set_date(&current_date());
    let mut rbuf = BytesMut::with_capacity(app.read_buffer);
    let mut wbuf = BytesMut::with_capacity(app.read_buffer);
    let mut pending: Option<Pending> = None;
    let shutdown = io_core::runtime::shutdown_signal();
    // Until the first bytes rule it out, the client may speak HTTP/2 with
    // prior knowledge (RFC 9113 §3.3).
    let mut fresh = true;
    // An accepted h2c upgrade: its settings and request, run on stream 1
    // once the 101 is written.
    let mut upgrade: Option<Box<super::h2::Upgrade>> = None;
    loop {
        // Run every complete request, in order.
        let mut progressed = false;
        while let Some(event) = conn.poll_event() {
            progressed = true;
            match event {
                Event::Request { id, head } => {
                    if head.expects_continue() {
                        let _ = conn.send_continue(id);
                    }
                    pending = Some(Pending {
                        id,
                        head,
                        body: BodyBuf::Empty,
                    });
                }
                Event::Body { id, chunk } => {
                    if let Some(p) = pending.as_mut().filter(|p| p.id == id) {
                        p.body.push(chunk);
                    }
                }
                Event::BodyEnd { id, .. } => {
                    let Some(p) = pending.take().filter(|p| p.id == id) else {
                        continue;
                    };
                    if p.head.upgrade().is_some() {
                        if let Some(settings) = proto_http::h2::upgrade::h2c_settings(&p.head) {
                            // RFC 7540 §3.2: 101, then HTTP/2 with this
                            // request on stream 1.
                            let is_head = p.head.method() == proto_http::Method::Head;
                            let req = Request::new(p.head, p.body.into_bytes());
                            upgrade = Some(Box::new(super::h2::Upgrade {
                                settings,
                                req,
                                is_head,
                            }));
                            let switching: [Header<'_>; 2] =
                                [("connection", b"Upgrade"), ("upgrade", b"h2c")];
                            let head =
                                ResponseHead::new(StatusCode::SWITCHING_PROTOCOLS, &switching);
                            let _ = conn.send_response(id, head, Body::Empty);
                            continue;
                        }
                    }
                    let req = Request::new(p.head, p.body.into_bytes());
                    let resp = respond(&app.router, req).await;
                    conn.set_date(&current_date());
                    send(&mut conn, id, resp);
                }
                Event::Error { error, .. } => {
                    tracing::debug!(%error, "HTTP/1.1 protocol error; closing after the error response");
                    conn.set_date(&current_date());
                }
                _ => {}
            }
        }
        // Parsing pauses at the pipelining limit: resume once responses went out.
        if progressed && !rbuf.is_empty() && !conn.wants_close() {
            conn.handle_input(Instant::now(), &mut rbuf);
        }
        if conn.poll_transmit(&mut wbuf) > 0 {
            let (res, buf) = stream.write_all(wbuf).await;
            wbuf = buf;
            wbuf.clear();
            if res.is_err() {
                return;
            }
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
        let read = stream.read(rbuf);
        let outcome = match (conn.poll_timeout(), &shutdown) {
            (Some(deadline), Some(stop)) => {
                match select(stop.wait(), timeout_at(deadline, read)).await {
                    Either::Left(()) => None,
                    Either::Right(r) => Some(r),
                }
            }
            (Some(deadline), None) => Some(timeout_at(deadline, read).await),
            (None, Some(stop)) => match select(stop.wait(), read).await {
                Either::Left(()) => None,
                Either::Right(r) => Some(Ok(r)),
            },
            (None, None) => Some(Ok(read.await)),
        };
        let now = Instant::now();
        match outcome {
            // Shutting down: an idle keep-alive connection just closes.
            None => return,
            Some(Err(_elapsed)) => {
                // The read future (and its buffer) was dropped.
                rbuf = BytesMut::with_capacity(app.read_buffer);
                conn.handle_timeout(now);
            }
            Some(Ok((Ok(0), buf))) => {
                rbuf = buf;
                conn.handle_eof(now);
            }
            Some(Ok((Ok(_), buf))) => {
                rbuf = buf;
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
                conn.handle_input(now, &mut rbuf);
            }
            Some(Ok((Err(_), _))) => return,
        }
    }
}
