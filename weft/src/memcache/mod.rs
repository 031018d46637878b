//! The memcached driver: pipelined connections on the worker's own event
//! loop, the text, meta and binary protocols, and a multi-server client
//! with consistent hashing and failover.
//!
//! Built on [`proto_memcache`]'s Sans-IO connection (encoding with key and
//! value checks, reply matching for the three protocol flavours). This
//! module adds the I/O and the API:
//!
//! - [`Connection`]: one socket, owned by a task on the worker that opened
//!   it, shared by any number of callers (clones of the handle). Concurrent
//!   calls are pipelined: whatever was queued during one executor round
//!   goes out in one write; each reply reaches the request it answers (the
//!   machine matches first in, first out, or by opaque, and the driver
//!   completes exactly the request id the machine names). Typed commands:
//!   `get`/`gets`/`gat`/`gats`/`get_multi`, `set`/`add`/`replace`/
//!   `append`/`prepend`/`cas`, `delete`, `incr`/`decr`, `touch`,
//!   `flush_all`, `version`, `stats`, `verbosity`, `noop`, and raw meta
//!   commands ([`Connection::meta`], [`Connection::meta_batch`] for quiet
//!   mode).
//! - [`Client`]: many servers behind one `Clone + Send + Sync` handle.
//!   Ketama consistent hashing compatible with libmemcached (weights
//!   included), one pipelined connection per worker and server from a
//!   [`pool::Pool`](crate::pool::Pool), multi-gets split per server and
//!   merged, and a [`Failover`] policy for servers that stop answering.
//!
//! # Protocol choice
//!
//! [`Config::protocol`] picks the flavour for every connection: meta (the
//! default; memcached 1.6's pipelining-friendly commands, replies matched
//! by opaque), text (the classic commands, replies in order) or binary
//! (deprecated upstream but still served). The typed API is the same for
//! all three; raw meta commands need the meta flavour.
//!
//! # Errors before sending
//!
//! A key longer than 250 bytes or holding whitespace or control characters
//! ([`Error::InvalidKey`]), and a value larger than the configured limit
//! (1 MiB, memcached's default item size; [`Error::ValueTooLarge`]) are
//! refused when the command is called: nothing is sent, the connection is
//! unaffected. A value close to the limit may still be refused by the
//! server (its item header counts too): that is [`Error::Server`].
//!
//! # Cancellation and timeouts
//!
//! Dropping a command's future (or timing it out) abandons it: its reply is
//! read and thrown away when it arrives, so later requests still get their
//! own. The [`Client`] applies [`Config::response_timeout`] to every call.
//!
//! ```no_run
//! use weft::memcache::{Config, Connection, Protocol, StoreOptions};
//! use weft::rt::DefaultBackend;
//!
//! weft::rt::block_on(async {
//!     let config = Config::default().protocol(Protocol::Meta);
//!     let addr = "127.0.0.1:11211".parse().unwrap();
//!     let conn = Connection::connect::<DefaultBackend>(addr, &config).await?;
//!     // Both requests leave in one write; each gets its own reply.
//!     let set = conn.set("greeting", "hello", StoreOptions::default());
//!     let get = conn.get("greeting");
//!     set.await?;
//!     let item = get.await?.expect("just stored");
//!     assert_eq!(&item.value[..], b"hello");
//!     Ok::<_, weft::memcache::Error>(())
//! })
//! .unwrap();
//! ```

mod client;
mod commands;
mod config;
mod conn;
mod error;
mod ketama;

pub use client::{Client, Manager, PooledConnection};
pub use commands::{CasOutcome, CmdFuture, MetaBatchFuture, Stats, StoreStatus};
pub use config::{Config, Failover, Protocol, Server};
pub use conn::{BatchFuture, Connection, ReplyFuture};
pub use error::Error;
pub use proto_memcache::meta;
pub use proto_memcache::{
    GetMode, Item, KeyError, Limits, Response, ServerError, ServerErrorKind, StoreMode,
    StoreOptions,
};
