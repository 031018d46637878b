//! HTTP/1.1 and HTTP/2 as Sans-IO state machines.
//!
//! Nothing in this crate touches a socket, reads a clock, sleeps or spawns.
//! The caller moves bytes and time in and out; the state machines decide.
//! That makes every behaviour testable deterministically (see the in-memory
//! client/server pair with virtual time under `tests/`), and lets the same
//! code run on epoll, io_uring or blocking sockets.
//!
//! # Layout
//!
//! - [`h1`]: HTTP/1.1 (RFC 9112). A server [`h1::Connection`], a client
//!   [`h1::client::ClientConnection`] (for tests and load generation), and the
//!   stateless codec below them ([`h1::decode_request`],
//!   [`h1::decode_response`]).
//! - [`h2`]: HTTP/2 (RFC 9113) and HPACK (RFC 7541): a server
//!   [`h2::ServerConnection`] (prior knowledge or h2c upgrade, see
//!   [`h2::upgrade`]) over the frame codec and HPACK.
//! - [`header`]: vocabulary both share ([`Method`], [`StatusCode`], token and
//!   field-value character classes of RFC 9110).
//! - [`error`]: the two error types. [`ProtoError`]: the peer broke the
//!   protocol; fatal and sticky, carrying the status code to answer with.
//!   [`UserError`]: the caller misused the API; nothing changes on the wire.
//!
//! # The drain rule
//!
//! After any `handle_*` call or command (`send_response`, ...), drain the
//! outputs until they are empty: `poll_event` (handling an event may issue
//! commands), then `poll_transmit`, then `poll_timeout`. The connection never
//! buffers input itself and bounds the work of one `handle_input` call (a
//! batch of events, at most [`h1::Config::max_pipelined`] requests ahead, a
//! pause while a protocol switch is pending): while the read buffer still
//! holds bytes and the last call consumed some, call `handle_input` again
//! after draining; and call it again after answering a request whenever the
//! buffer is not empty. [`h1::Connection::wants_input`] says whether reading
//! more from the socket is useful.
//!
//! ```
//! use std::time::Instant;
//! use bytes::{Bytes, BytesMut};
//! use proto_http::StatusCode;
//! use proto_http::h1::{Body, Config, Connection, Event, ResponseHead};
//!
//! // Stand-ins for a socket: what the peer sends, and what we write back.
//! let mut incoming: Vec<&[u8]> = vec![b"GET /hi HTTP/1.1\r\nHost: a\r\n\r\nGET /again", b" HTTP/1.1\r\nHost: a\r\n\r\n"];
//! incoming.reverse();
//! let mut wire = Vec::new();
//!
//! let mut conn = Connection::new(Config::default());
//! let mut rbuf = BytesMut::with_capacity(8192);
//! let mut wbuf = BytesMut::with_capacity(8192);
//! loop {
//!     let now = Instant::now(); // your loop's clock; read once per wake-up
//!     conn.set_date_unix(1_700_000_000); // your cached wall clock, for `Date`
//!     // Input: a read returned data, or EOF (or the timer fired:
//!     // conn.handle_timeout(now)).
//!     match incoming.pop() {
//!         Some(bytes) => rbuf.extend_from_slice(bytes),
//!         None => conn.handle_eof(now),
//!     }
//!     // Parse in bounded batches; drain events after each (answering them
//!     // queues output), until the connection stops consuming.
//!     loop {
//!         let before = rbuf.len();
//!         conn.handle_input(now, &mut rbuf);
//!         while let Some(event) = conn.poll_event() {
//!             match event {
//!                 Event::Request { id, head } => {
//!                     let body = Bytes::copy_from_slice(head.path());
//!                     conn.send_response(id, ResponseHead::new(StatusCode::OK, &[]), Body::Full(body))?;
//!                 }
//!                 Event::Error { error, .. } => eprintln!("bad request: {error}"),
//!                 _ => {}
//!             }
//!         }
//!         if rbuf.is_empty() || rbuf.len() == before {
//!             break;
//!         }
//!     }
//!     if conn.poll_transmit(&mut wbuf) > 0 {
//!         wire.extend_from_slice(&wbuf); // write(2) it; keep what did not fit
//!         wbuf.clear();
//!     }
//!     if let Some(_deadline) = conn.poll_timeout() {
//!         // (re)arm a timer; when it fires call conn.handle_timeout(now)
//!     }
//!     if conn.is_closed() {
//!         break; // close the socket
//!     }
//! }
//! let wire = String::from_utf8(wire).unwrap();
//! assert!(wire.starts_with("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nDate: Tue, 14 Nov 2023 22:13:20 GMT\r\n\r\n/hi"));
//! assert!(wire.ends_with("\r\n\r\n/again"));
//! # Ok::<(), proto_http::UserError>(())
//! ```
//!
//! # Choices made (and why)
//!
//! - **Strict parsing.** Lines must end in CRLF (RFC 9112 §2.2 allows, but
//!   does not require, accepting a bare LF); obs-fold is rejected (§5.2);
//!   every control character except HTAB is rejected in field values
//!   (RFC 9110 §5.5 requires it for CR, LF and NUL); `Content-Length` with
//!   `Transfer-Encoding`, differing lengths, `chunked` not last or applied
//!   twice, and `Transfer-Encoding` in HTTP/1.0 are all rejected (§6.1,
//!   §6.3). Leniency is where request smuggling lives.
//! - **Split-independent verdicts.** The parser decides only on complete
//!   lines, or on a prefix already over a limit, so the outcome of any input
//!   does not depend on how reads split it. This is checked by property
//!   tests and by the `h1_request` / `h1_server_conn` fuzz targets.
//! - **Zero-copy, no per-request allocation.** Heads are a `Bytes` slice of
//!   the read buffer plus an inline index of field ranges (heap only beyond
//!   [`h1::INLINE_FIELDS`] fields); body pieces are `Bytes` slices; responses
//!   are encoded into a reused buffer. Events carry the head inline, not
//!   boxed, for the same reason. `tests/h1_alloc.rs` counts allocations.
//! - **100-continue** is sent when the application asks
//!   ([`h1::Connection::send_continue`], i.e. when it starts reading the
//!   body) or right away with [`h1::ContinuePolicy::Immediate`]. A final
//!   response sent instead closes the connection if the body never started,
//!   since the client may or may not send it.
//! - **Timers without a clock.** The idle (keep-alive) timer starts from the
//!   latest `now` passed to a `handle_*` call when the connection becomes
//!   idle; call `handle_timeout(now)` (a no-op when nothing is due) before
//!   answering if your handler may have run long. The header timer counts
//!   from the first byte of a head and is never refreshed (slow-loris); the
//!   body timer is refreshed by progress.
//! - **Protocol switch hand-over.** A request with `Upgrade` (listed in
//!   `Connection`) or `CONNECT` pauses parsing after its body. Answering 101
//!   (or 2xx to CONNECT) yields [`h1::Event::Switched`]; the bytes after the
//!   request are still in the caller's buffer, ready for the next protocol
//!   (h11's `trailing_data`). Any other answer resumes HTTP/1.1.

pub mod error;
pub mod gzip;
pub mod h1;
pub mod h2;
pub mod header;

pub use error::{ProtoError, ProtoErrorKind, UserError};
pub use header::{Method, StatusCode};
