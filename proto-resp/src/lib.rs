//! RESP2/RESP3 codec and client connection state, Sans-IO.
//!
//! `proto-resp` speaks the Redis serialization protocol without touching a
//! socket, a clock or a thread. It has two layers:
//!
//! * [`codec`]: stateless decoding and encoding of every RESP2 and RESP3
//!   type ([`Frame`]). [`codec::decode`] returns a borrowed [`FrameRef`] and
//!   the bytes it used, or `Ok(None)` for incomplete input;
//!   [`codec::Decoder::decode_bytes`] splits one frame off the read buffer
//!   and returns an owned [`Frame`] whose strings are zero-copy `Bytes`
//!   slices of it. Requests, inline commands included, decode with
//!   [`codec::Decoder::decode_request`]; commands encode with
//!   [`codec::encode_command`] or [`Cmd`], replies with [`codec::encode`]
//!   (or [`codec::encode_resp2`] for a client that stayed on RESP2).
//! * [`Connection`]: the client state machine. It performs the handshake
//!   (`HELLO 3 [AUTH ..] [SETNAME ..]`, falling back to RESP2 `AUTH` /
//!   `CLIENT SETNAME` / `SELECT` when the server does not know `HELLO`),
//!   matches pipelined replies to requests first-in first-out, and routes
//!   pushes (pub/sub messages, client-side caching invalidations) apart,
//!   including RESP2 subscribed mode where messages are plain arrays.
//!
//! # The drain rule
//!
//! After every input (`handle_input`, `handle_eof`, `handle_timeout`) and
//! every command (`send`, `send_args`), drain the outputs until they are
//! empty: write what [`Connection::poll_transmit`] appends, re-arm the timer
//! from [`Connection::poll_timeout`], and take every [`Connection::poll_event`].
//! The machine never does I/O itself, so anything left undrained simply
//! waits. A run loop, here against an in-memory "server":
//!
//! ```
//! use std::time::Instant;
//! use bytes::BytesMut;
//! use proto_resp::{Config, Connection, Event, Frame};
//!
//! let mut conn = Connection::new(Config::new(), Instant::now());
//! let get = conn.send_args(&["GET", "greeting"]).unwrap(); // held until the handshake ends
//!
//! // What the server would answer: the HELLO map, then the GET reply and a
//! // push, arriving in two arbitrary reads.
//! let server: &[&[u8]] = &[
//!     b"%1\r\n$5\r\nproto\r\n:3\r\n$5\r",
//!     b"\nhello\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$8\r\ngreeting\r\n",
//! ];
//!
//! let mut wire = BytesMut::new(); // bytes to write to the socket
//! let mut rbuf = BytesMut::new(); // bytes read from the socket
//! let mut events = Vec::new();
//! for read in server {
//!     // Drain: transmit, timer, events.
//!     while conn.poll_transmit(&mut wire) {}
//!     let _next_timer = conn.poll_timeout();
//!     while let Some(ev) = conn.poll_event() {
//!         events.push(ev);
//!     }
//!     // "Read" from the socket and hand the bytes in.
//!     rbuf.extend_from_slice(read);
//!     conn.handle_input(Instant::now(), &mut rbuf).expect("protocol error");
//! }
//! while conn.poll_transmit(&mut wire) {}
//! while let Some(ev) = conn.poll_event() {
//!     events.push(ev);
//! }
//!
//! assert!(wire.starts_with(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n"));
//! assert!(wire.ends_with(b"*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n"));
//! assert!(matches!(events[0], Event::Ready { .. }));
//! assert!(matches!(&events[1], Event::Reply { id, frame: Frame::BulkString(b) }
//!     if *id == get && b == "hello"));
//! assert!(matches!(&events[2], Event::Push { .. }));
//! ```
//!
//! A driver may instead pull events as it decodes them:
//! [`Connection::next_event`] decodes only the frames the next event takes,
//! and [`Connection::next_replies`] splits a run of plain replies straight
//! into a `Vec` (a pipeline's replies, with no event per reply) and stops
//! at anything else. Calling them until `next_event` returns nothing
//! leaves the machine as `handle_input` followed by draining `poll_event`
//! would (still drain `poll_transmit`).
//!
//! # Errors
//!
//! A server's per-request error (`-ERR ...`, `-WRONGTYPE ...`, a bulk
//! error) is an [`Event::Reply`] for that request: check
//! [`Frame::is_error`]. An [`Error`] means the connection is unusable: the
//! server broke the protocol (malformed bytes, a reply nobody asked for, a
//! frame over the limits) or refused the handshake. It is sticky, and the
//! caller must fail every outstanding request and drop the connection.
//! Misusing the API (sending on a failed connection, `MONITOR`, `CLIENT
//! REPLY OFF`, whose replies cannot be matched FIFO) is a [`UsageError`].
//! All of them convert into `std::io::Error`.
//!
//! # Limits
//!
//! Every length, count and depth read from the wire is checked against
//! [`Limits`] before anything is trusted or allocated: bulk payloads
//! (default 512 MiB), aggregate element counts (16 Mi), nesting depth (128)
//! and line length (1 MiB). Aggregates reserve at most one slot per three
//! buffered bytes, whatever count they announce, and the decoder is an
//! explicit-stack loop, so hostile input costs neither memory up front nor
//! stack. An in-limit bulk length simply waits (`Ok(None)`) for its bytes:
//! lower `max_bulk_len` to bound the read buffer more tightly.
//!
//! # Design notes
//!
//! * One [`Frame`] enum, generic over its byte-string type, serves as both
//!   the borrowed view (`Frame<&[u8]>`, alias [`FrameRef`]) and the owned
//!   frame (`Frame<Bytes>`, the default), so encoders and helpers exist once.
//!   The DESIGN's `decode(&[u8]) -> Frame<'_>` is [`codec::decode`].
//! * Owned decoding first measures a frame ([`codec::Decoder::frame_len`],
//!   no allocation), then splits exactly those bytes off the read buffer and
//!   builds the frame from them, so strings are `Bytes` slices sharing the
//!   read allocation. [`codec::StreamDecoder`] (used by [`Connection`])
//!   keeps the measuring cursor between reads, so a large reply arriving in
//!   many reads is scanned once, not once per read.
//! * Subscribe-family commands are confirmed once per channel; the
//!   connection gathers the confirmations into one [`Event::Reply`] (an
//!   array of them). It tracks confirmed subscriptions so that `UNSUBSCRIBE`
//!   without arguments expects the right number of confirmations and RESP2
//!   message arrays are told apart from replies. `RESET` returns the
//!   connection to RESP2 and unsubscribes; it also logs out, so drivers
//!   should not send it on an authenticated connection.
//! * RESP3 streamed strings and aggregates (`$?`, `*?`) are rejected with
//!   [`DecodeErrorKind::StreamedUnsupported`]: Redis never sends them.

mod cmd;
pub mod codec;
mod conn;
mod error;
mod event;
mod frame;
pub mod invariants;
mod limits;

pub use cmd::{Cmd, CmdArg, CmdArgs};
pub use codec::Protocol;
pub use conn::{Config, Connection};
pub use error::{DecodeError, DecodeErrorKind, Error, UsageError};
pub use event::{Event, ReqId};
pub use frame::{Frame, FrameRef};
pub use limits::Limits;
