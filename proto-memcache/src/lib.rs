//! memcached client protocol, Sans-IO: the text, meta and binary protocols
//! of memcached 1.6 as a codec plus a client [`Connection`] state machine,
//! with no I/O, no clock and no runtime.
//!
//! # Layers
//!
//! - Codecs, stateless and fuzzable: [`text`], [`meta`] and [`binary`] each
//!   have request encoders that validate everything (keys, value size,
//!   flags) *before* writing a byte, a reply `decode(&[u8], &Limits)` that
//!   returns `Ok(None)` for incomplete input ([`DecodeResult`]), and a reply
//!   encoder (for tests, fuzzing and server authors). Decoded frames are
//!   generic over the byte container: `Reply<&[u8]>` borrows the input,
//!   `Reply<Bytes>` is what the connection hands out.
//! - [`Connection`]: one connection speaks one [`Protocol`] flavour chosen at
//!   construction. Commands (`get`, `store`, `delete`, `incr`, `touch`,
//!   `flush_all`, `version`, `stats`, `verbosity`, `noop`, `quit`, raw `meta`) return
//!   a [`ReqId`]; each request completes with exactly one
//!   [`Event::Response`] carrying a flavour-independent [`Response`], or an
//!   [`Event::Aborted`] if the connection fails first.
//!
//! # Example
//!
//! The bytes that would go to and come from the server are shown inline:
//!
//! ```
//! use std::time::Instant;
//! use bytes::BytesMut;
//! use proto_memcache::{Config, Connection, Event, Protocol, Response};
//!
//! let mut conn = Connection::new(Config::new(Protocol::Text));
//! let set = conn.set(b"greeting", b"hello")?;
//! let get = conn.get(&[&b"greeting"[..], b"absent"])?;
//!
//! let mut out = BytesMut::new();
//! let _ = conn.poll_transmit(&mut out);
//! assert_eq!(&out[..], b"set greeting 0 0 5\r\nhello\r\nget greeting absent\r\n");
//!
//! // What the server answers, possibly in pieces.
//! let mut input = BytesMut::from(&b"STORED\r\nVALUE greeting 0 5\r\nhel"[..]);
//! conn.handle_input(Instant::now(), &mut input)?;
//! input.extend_from_slice(b"lo\r\nEND\r\n");
//! conn.handle_input(Instant::now(), &mut input)?;
//!
//! assert_eq!(conn.poll_event(), Some(Event::Response { id: set, response: Response::Stored }));
//! let Some(Event::Response { id, response: Response::Values(items) }) = conn.poll_event() else {
//!     panic!("expected the get's hits");
//! };
//! assert_eq!(id, get);
//! assert_eq!(items.len(), 1); // "absent" missed
//! assert_eq!(&items[0].value[..], b"hello"); // a slice of `input`'s memory, not a copy
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The drain rule and a run loop
//!
//! After any `handle_*` call or command, drain [`Connection::poll_transmit`]
//! (write those bytes), [`Connection::poll_timeout`] and
//! [`Connection::poll_event`] until each is empty. A blocking driver over
//! `std::net::TcpStream`:
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use std::time::Instant;
//! use bytes::BytesMut;
//! use proto_memcache::{Config, Connection, Event, Protocol, ReqId, Response};
//!
//! fn wait(conn: &mut Connection, sock: &mut TcpStream, rbuf: &mut BytesMut, id: ReqId)
//!     -> std::io::Result<Response>
//! {
//!     let mut wbuf = BytesMut::new();
//!     loop {
//!         // Drain: bytes to write, then events.
//!         if conn.poll_transmit(&mut wbuf) > 0 {
//!             sock.write_all(&wbuf)?;
//!             wbuf.clear();
//!         }
//!         while let Some(ev) = conn.poll_event() {
//!             match ev {
//!                 Event::Response { id: got, response } if got == id => return Ok(response),
//!                 Event::Aborted { error, .. } => return Err(error.into()),
//!                 _ => {} // another request's answer: hand it to its waiter
//!             }
//!         }
//!         // memcached has no protocol timers: poll_timeout() is always None.
//!         let mut tmp = [0u8; 16 * 1024];
//!         let n = sock.read(&mut tmp)?;
//!         if n == 0 {
//!             conn.handle_eof()?;
//!             continue;
//!         }
//!         rbuf.extend_from_slice(&tmp[..n]);
//!         conn.handle_input(Instant::now(), rbuf)?;
//!     }
//! }
//!
//! let mut sock = TcpStream::connect("127.0.0.1:11211")?;
//! let mut conn = Connection::new(Config::new(Protocol::Meta));
//! let mut rbuf = BytesMut::new();
//! let id = conn.get(&[&b"a"[..], b"b", b"c"])?;
//! let response = wait(&mut conn, &mut sock, &mut rbuf, id)?;
//! # let _ = response;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Matching replies to requests
//!
//! memcached answers the requests of one connection in order. How the
//! [`Connection`] pairs them (the rules live in one place, `conn/state.rs`):
//!
//! - Text: first in, first out. `noreply` requests get no answer from the
//!   server, so they complete at once with [`Response::NoReply`]; their
//!   event can come before those of earlier requests. (protocol.txt warns a
//!   malformed request may still be answered with an error; this crate
//!   never sends one, since it validates first.)
//! - Meta: every `mg`/`ms`/`md`/`ma` carries an opaque `O<n>` the connection
//!   assigns. A single-key retrieval is a plain `mg`, answered `VA` or
//!   `EN`. A multi-get is the text `get k1 k2…` line (`gets`, `gat`, `gats`
//!   likewise), which memcached serves on the same connection: its `VALUE`
//!   lines and `END` carry no opaque and belong, first in first out, to
//!   the first non-quiet request, which that line is (one line and one
//!   reply per hit instead of an `mg`/`VA` per key). A
//!   `noreply` item command is sent with `q` and followed by its
//!   own `mn`: it completes at the `MN` with [`Response::NoReply`] or with
//!   the reply `q` let through (`NS`, `NF`, `EX`). Error lines
//!   (`SERVER_ERROR object too large for cache`…) carry no opaque, even for
//!   non-quiet commands; the per-request `mn` is what keeps them
//!   attributable. Raw quiet commands sent through [`Connection::meta`] are
//!   the caller's to close with [`Connection::noop`]; an error line that
//!   could belong to the quiet commands of more than one request fails the
//!   connection with [`ProtocolError::AmbiguousError`] rather than guess.
//! - Binary: every packet carries the opaque; multi-gets are `GetKQ` per key
//!   then `Noop` (a single key is a plain `GetK`). `noreply` uses the quiet opcodes (`SetQ`…); the connection
//!   closes each run of them with one `Noop` at the next
//!   [`Connection::poll_transmit`], whose answer settles them (errors carry
//!   their opaque, so one `Noop` for many is safe).
//!
//! A server's per-request error (`ERROR`, `CLIENT_ERROR`, `SERVER_ERROR`, a
//! binary non-zero status) is a [`Response::Error`] for that request; the
//! connection goes on. A protocol violation (unparsable bytes, a reply no
//! request can take, a hostile length) is a [`ProtocolError`]: fatal and
//! sticky, every waiting request gets an [`Event::Aborted`].
//!
//! # Limits
//!
//! [`Limits`] bound keys (250 bytes, no whitespace or control characters;
//! checked before encoding, a [`UsageError`]), values (1 MiB, both ways),
//! reply lines, keys per request and `STAT` lines. A reply's announced
//! length (`VALUE`/`VA` byte count, binary body length) is checked as soon
//! as its header is read, before anything is buffered for it.
//!
//! # Notes on the server (memcached 1.6.18, checked against a live one)
//!
//! - The binary protocol is still served: the default `-B auto` negotiates
//!   per connection from the first byte (`0x80`); `-B ascii` disables it.
//!   Upstream deprecates it in favour of meta commands.
//! - Binary `Verbosity` is not implemented by memcached (it answers
//!   "Unknown command" late and drops the connection), so
//!   [`Connection::verbosity`] refuses it in the binary flavour.
//! - The meta `E` flag (set CAS) and `md … x` arrived after 1.6.18, which
//!   answers `CLIENT_ERROR invalid flag`; [`meta::Flag::NewCas`] is offered
//!   for newer servers.
//! - A `set` larger than the server's item size fails with
//!   `SERVER_ERROR object too large for cache` and the old item is dropped.
//! - In quiet mode `mg` suppresses `EN` only, `ms` suppresses `HD`, `md`
//!   suppresses `HD` (a miss still answers `NF`), `ma` suppresses success.
//! - Text `noreply` suppresses errors of well-formed requests too (a
//!   too-large `set`, a non-numeric `incr`): such requests complete with
//!   [`Response::NoReply`] and the failure is invisible.
//!
//! # Differences from the workspace's design sketch
//!
//! - No timers: memcached has no handshake or keepalive, so `poll_timeout`
//!   is always `None` and `handle_timeout` does nothing; request deadlines
//!   are the driver's, which poisons the connection with
//!   [`Connection::abort`].
//! - One [`Response`] type for the three flavours, so a driver (and a pool
//!   mixing servers) need not care which one a connection speaks; raw meta
//!   replies stay available through [`Connection::meta`].
#![forbid(unsafe_code)]

pub mod binary;
pub mod check;
mod conn;
pub mod error;
pub mod event;
pub mod key;
pub mod limits;
pub mod meta;
pub mod text;
mod wire;

pub use conn::{Config, Connection, Protocol, StoreOptions};
pub use error::{DecodeError, DecodeResult, KeyError, ProtocolError, UsageError};
pub use event::{Event, Item, ReqId, Response, ServerError, ServerErrorKind, Stat};
pub use key::validate_key;
pub use limits::Limits;
pub use text::encode::{GetMode, StoreMode};
