//! One HTTP/2 connection: the loop that moves bytes between the socket and
//! `proto_http::h2::ServerConnection`, running each stream's handler
//! concurrently on the worker.
//!
//! The connection task owns every handler future of its streams and polls
//! them itself, together with the socket's readiness, the protocol timer
//! and the shutdown latch, in one `poll_fn`: a handler that awaits nothing
//! finishes on its first poll; one that awaits a driver parks the whole
//! connection task until its socket (on the same worker) wakes it, while the
//! other streams keep being served. Responses are handed to the protocol
//! machine as they complete and written in one batch per wake-up.
//!
//! Memory while idle: like an HTTP/1.1 connection (see `conn::serve_h1`),
//! the task reads with [`AsyncStream::try_read`] into a buffer from the
//! worker's pool ([`buf_pool`]) and, when nothing is there, gives the buffer
//! back (unless it holds part of a frame) and waits for readability without
//! one. After [`SHRINK_AFTER`] with no stream open, the machine's and the
//! task's queues give back the room a burst of streams grew them to.

use super::body::StreamBody;
use super::conn::{BodyBuf, internal_error, poll_caught, start_caught, with_parts};
use super::future_pool::HandlerFuture;
use super::request::Request;
use super::response::Response;
use super::router::Started;
use super::server::App;
use super::{buf_pool, write};
use bytes::{Bytes, BytesMut};
use io_core::AsyncStream;
use proto_http::h1::RequestHead;
use proto_http::h2::frame::StreamId;
use proto_http::h2::{ErrorCode, Event, ServerConnection};
use std::future::Future;
use std::net::Shutdown;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// An accepted h2c upgrade: the decoded `HTTP2-Settings` and the request,
/// which becomes stream 1 (RFC 7540 §3.2).
pub(super) struct Upgrade {
    pub(super) settings: Vec<u8>,
    pub(super) req: Request,
    pub(super) is_head: bool,
}

/// A handler future of one stream.
type Running = (StreamId, HandlerFuture);

/// Queued body bytes of a stream below which its streamed body is asked
/// for the next piece.
const STREAM_QUEUE: usize = 64 * 1024;

/// Smallest read buffer: a whole frame at the default
/// `SETTINGS_MAX_FRAME_SIZE` (RFC 9113 §4.2) and its header.
const READ_BUFFER: usize = 16 * 1024 + 9;

/// Spare room below which the read buffer grows before a read.
const MIN_READ_ROOM: usize = 4096;

/// How long a connection stays without open streams before its queues give
/// back the room a burst grew them to ([`ServerConnection::shrink_idle`]).
const SHRINK_AFTER: Duration = Duration::from_secs(1);

/// What woke the connection task.
enum Wake {
    Handlers,
    Readable,
    Timer,
    Shutdown,
}

/// Serves HTTP/2 on `stream` until the connection closes. `rbuf` holds what
/// was read already: the client preface (prior knowledge) or the bytes after
/// the upgrade request.
pub(super) async fn serve_h2<S: AsyncStream>(
    stream: &S,
    app: Arc<App>,
    rbuf: BytesMut,
    upgrade: Option<Upgrade>,
) {
    let router = &app.router;
    let mut handlers: Vec<Running> = Vec::new();
    let mut finished: Vec<(StreamId, Response)> = Vec::new();
    // Streamed bodies still producing, and pieces taken from them.
    let mut streaming: Vec<(StreamId, StreamBody)> = Vec::new();
    let mut pieces: Vec<(StreamId, Result<Option<Bytes>, ()>)> = Vec::new();
    let upgrade_started = upgrade.is_some();
    let mut conn = match upgrade {
        Some(up) => match ServerConnection::upgrade(app.h2.clone(), &up.settings, up.is_head) {
            Ok(c) => {
                match start_caught(router, up.req) {
                    Started::Done(resp) => finished.push((StreamId::new(1), resp)),
                    Started::Running(fut) => handlers.push((StreamId::new(1), fut)),
                }
                c
            }
            Err(e) => {
                tracing::debug!(%e, "invalid h2c upgrade settings");
                return;
            }
        },
        None => ServerConnection::new(app.h2.clone()),
    };
    let cap = app.read_buffer.max(READ_BUFFER);
    let mut rbuf = rbuf;
    let mut wbufs: Vec<Bytes> = Vec::new();
    // Requests whose body is still arriving.
    let mut pending: Vec<(StreamId, RequestHead, BodyBuf)> = Vec::new();
    let mut timer = io_core::time::sleep_until(Instant::now());
    let shutdown = io_core::runtime::shutdown_signal();
    let mut stop = pin!(async {
        match &shutdown {
            Some(s) => s.wait().await,
            None => std::future::pending().await,
        }
    });
    let mut stopping = false;
    // When the queues shrink if the connection stays without streams.
    let mut shrink_at: Option<Instant> = None;
    // After an h2c upgrade, the answer on stream 1 waits until the client
    // has sent something (its connection preface, RFC 7540 §3.2): a client
    // reads the 101 and what follows it with one buffer before it
    // switches to HTTP/2, and curl drops the connection when a large
    // response's first window of DATA arrives with the 101 and does not
    // fit there ("connection buffer size is too small to store data
    // following HTTP Upgrade response header"). Our SETTINGS go at once.
    let mut awaiting_preface = upgrade_started && rbuf.is_empty();
    let mut held: Vec<(StreamId, Response)> = Vec::new();
    if !rbuf.is_empty() {
        conn.handle_input(Instant::now(), &mut rbuf);
    }
    loop {
        // Events: collect bodies, start handlers on complete requests.
        while let Some(event) = conn.poll_event() {
            match event {
                // No body: started at once (its `End` comes next and finds
                // nothing pending), without parking the head.
                Event::Request {
                    stream,
                    head,
                    end_stream: true,
                } => match start_caught(router, Request::new(head, Bytes::new())) {
                    Started::Done(resp) => finished.push((stream, resp)),
                    Started::Running(fut) => handlers.push((stream, fut)),
                },
                Event::Request { stream, head, .. } => pending.push((stream, head, BodyBuf::Empty)),
                Event::Data { stream, data } => {
                    if let Some(p) = pending.iter_mut().find(|p| p.0 == stream) {
                        p.2.push(data);
                    }
                }
                Event::End { stream, .. } => {
                    let Some(i) = pending.iter().position(|p| p.0 == stream) else {
                        continue;
                    };
                    let (_, head, body) = pending.swap_remove(i);
                    let req = Request::new(head, body.into_bytes());
                    match start_caught(router, req) {
                        Started::Done(resp) => finished.push((stream, resp)),
                        Started::Running(fut) => handlers.push((stream, fut)),
                    }
                }
                Event::Reset { stream, code } => {
                    tracing::trace!(%stream, %code, "h2 stream reset");
                    pending.retain(|p| p.0 != stream);
                    handlers.retain(|h| h.0 != stream);
                    streaming.retain(|s| s.0 != stream);
                }
                Event::Error { error } => {
                    tracing::debug!(%error, "HTTP/2 protocol error; closing after GOAWAY");
                    pending.clear();
                    handlers.clear();
                    streaming.clear();
                }
                _ => {}
            }
        }
        if awaiting_preface {
            held.append(&mut finished);
        }
        if !finished.is_empty() {
            conn.set_date_unix(crate::clock::unix_secs());
            for (id, resp) in finished.drain(..) {
                if let Some(body) = send(&mut conn, id, resp) {
                    streaming.push((id, body));
                }
            }
        }
        for (id, piece) in pieces.drain(..) {
            let res = match piece {
                Ok(Some(data)) => conn.send_body_chunk(id, data),
                Ok(None) => conn.send_end(id),
                Err(()) => conn.send_reset(id, ErrorCode::InternalError),
            };
            if res.is_err() {
                // The stream is gone: dropping its body tells the producer.
                streaming.retain(|s| s.0 != id);
            }
        }
        // Input left over from a bounded `handle_input` call.
        if !rbuf.is_empty() && conn.wants_input() {
            let before = rbuf.len();
            conn.handle_input(Instant::now(), &mut rbuf);
            if rbuf.len() != before {
                continue;
            }
        }
        if conn.poll_transmit_vectored(&mut wbufs) > 0 {
            // A peer that stops reading stalls the write: bounded like a
            // zero flow-control window.
            match write::write_all_vectored(stream, wbufs, app.h2.send_stall_timeout).await {
                Ok(bufs) => wbufs = bufs,
                Err(e) => {
                    tracing::debug!(%e, "h2 write failed or stalled; closing");
                    return;
                }
            }
            // Draining output may have let the machine take more input.
            continue;
        }
        if conn.is_closed() {
            let _ = stream.shutdown(Shutdown::Write);
            return;
        }
        // Read what is there now, without waiting.
        let reading = conn.wants_input();
        if reading {
            if rbuf.capacity() == 0 {
                rbuf = buf_pool::take(cap);
            } else if rbuf.capacity() - rbuf.len() < MIN_READ_ROOM {
                // Room for a whole frame after a partial one (no
                // allocation once the parsed frames are gone).
                rbuf.reserve(cap);
            }
            match stream.try_read(&mut rbuf) {
                Ok(0) => {
                    conn.handle_eof(Instant::now());
                    continue;
                }
                Ok(_) => {
                    shrink_at = None;
                    if awaiting_preface {
                        awaiting_preface = false;
                        finished.append(&mut held);
                    }
                    conn.handle_input(Instant::now(), &mut rbuf);
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::debug!(%e, "h2 read failed");
                    return;
                }
            }
        }
        // Waiting: keep no empty read buffer (a partial frame stays).
        if rbuf.is_empty() {
            buf_pool::give(std::mem::take(&mut rbuf), cap);
        }
        let quiet = handlers.is_empty()
            && pending.is_empty()
            && streaming.is_empty()
            && conn.open_streams() == 0;
        if !quiet {
            shrink_at = None;
        } else if shrink_at.is_none() {
            shrink_at = Some(Instant::now() + SHRINK_AFTER);
        }
        let deadline = match (conn.poll_timeout(), shrink_at) {
            (Some(d), Some(s)) => Some(d.min(s)),
            (d, s) => d.or(s),
        };
        if let Some(d) = deadline {
            if timer.deadline() != d {
                timer.reset(d);
            }
        }
        let mut readable = pin!(reading.then(|| stream.readable()));
        let machine = &conn;
        let wake = std::future::poll_fn(|cx| {
            // The next piece of each streamed body whose queue is short.
            let mut i = 0;
            while i < streaming.len() {
                let (id, body) = &mut streaming[i];
                match machine.queued_body(*id) {
                    Some(n) if n < STREAM_QUEUE => match body.poll_next(cx) {
                        Poll::Ready(Ok(Some(data))) => {
                            pieces.push((*id, Ok(Some(data))));
                            i += 1;
                        }
                        Poll::Ready(end) => {
                            pieces.push((*id, end));
                            streaming.swap_remove(i);
                        }
                        Poll::Pending => i += 1,
                    },
                    // Full: asked again once the queue drained (every
                    // write or read goes round the loop).
                    Some(_) => i += 1,
                    None => {
                        streaming.swap_remove(i);
                    }
                }
            }
            if !pieces.is_empty() {
                return Poll::Ready(Wake::Handlers);
            }
            let mut i = 0;
            while i < handlers.len() {
                if let Poll::Ready(resp) = poll_caught(&mut handlers[i].1, cx) {
                    let (id, _) = handlers.swap_remove(i);
                    finished.push((id, resp));
                } else {
                    i += 1;
                }
            }
            if !finished.is_empty() {
                return Poll::Ready(Wake::Handlers);
            }
            if let Some(r) = readable.as_mut().as_pin_mut() {
                // An error of waiting itself counts as readable: the read
                // that follows reports what is wrong.
                if r.poll(cx).is_ready() {
                    return Poll::Ready(Wake::Readable);
                }
            }
            if deadline.is_some() && Pin::new(&mut timer).poll(cx).is_ready() {
                return Poll::Ready(Wake::Timer);
            }
            if !stopping && stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Shutdown);
            }
            Poll::Pending
        })
        .await;
        match wake {
            // Sent at the top of the loop; the read is tried there too.
            Wake::Handlers | Wake::Readable => {}
            Wake::Timer => {
                let now = Instant::now();
                if shrink_at.is_some_and(|s| s <= now) {
                    shrink_at = None;
                    conn.shrink_idle();
                    // All empty while no stream is open.
                    if handlers.is_empty() && finished.is_empty() && pending.is_empty() {
                        handlers = Vec::new();
                        finished = Vec::new();
                        pending = Vec::new();
                    }
                    wbufs = Vec::new();
                }
                // A no-op unless the machine's own deadline passed.
                conn.handle_timeout(now);
            }
            Wake::Shutdown => {
                // Graceful GOAWAY (RFC 9113 §6.8): open streams complete.
                stopping = true;
                conn.go_away();
            }
        }
    }
}

/// Hands `resp` to the machine as the answer on `id`; a response it cannot
/// send (bad header, body on 204) becomes a 500, and a stream that is gone
/// is skipped. A streamed body comes back, for its pieces to follow.
fn send(conn: &mut ServerConnection, id: StreamId, mut resp: Response) -> Option<StreamBody> {
    let res = with_parts(&resp, |head, body| conn.send_response(id, head, body));
    match res {
        Ok(()) => return resp.take_stream(),
        Err(proto_http::UserError::UnknownRequest) => {}
        Err(e) => {
            tracing::error!(error = %e, "invalid response from handler; answering 500");
            let fallback = internal_error();
            let res = with_parts(&fallback, |head, body| conn.send_response(id, head, body));
            if res.is_err() {
                let _ = conn.send_reset(id, ErrorCode::InternalError);
            }
        }
    }
    None
}
