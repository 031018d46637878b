//! The Redis driver: multiplexed connections on the worker's own event loop,
//! typed commands, pipelines, transactions, scripts, scans and streams.
//!
//! Built on [`proto_resp`]'s Sans-IO connection (handshake with `HELLO 3`
//! and RESP2 fallback, `AUTH`, `SELECT`, FIFO reply matching, push
//! routing). This module adds the I/O and the API:
//!
//! - [`Client`]: the entry point for handlers. `Clone + Send + Sync`;
//!   built on a [`pool::Pool`](crate::pool::Pool) with one sub-pool per
//!   worker. Ordinary commands go through one multiplexed connection per
//!   worker (so every handler of a worker pipelines on it, and replies come
//!   back to that worker); blocking commands and [`Client::acquire`] get a
//!   connection of their own.
//! - [`Connection`]: one socket, owned by a task on the worker that opened
//!   it, shared by any number of callers (clones of the handle). Concurrent
//!   calls are pipelined: whatever was queued during one executor round
//!   goes out in one write, and replies are matched first-in first-out.
//! - [`Commands`]: typed commands (strings, keys and expiry, hashes, lists,
//!   sets, sorted sets, scripting, scans, streams, publish) plus
//!   [`query_cmd`](Commands::query_cmd) for anything else, decoded through
//!   [`FromResp`] (`()`, `bool`, integers, floats, `String`, `Vec<u8>`,
//!   `Bytes`, `Option`, `Vec`, `HashMap`, `HashSet`, tuples, raw
//!   [`Frame`]).
//! - [`Pipeline`]: explicit batches and `MULTI`/`EXEC` transactions
//!   ([`Error::TransactionAborted`] when a `WATCH`ed key changed);
//!   [`Script`]: `EVALSHA` with automatic `NOSCRIPT` recovery; [`Scan`]:
//!   cursor iteration over `SCAN`/`HSCAN`/`SSCAN`/`ZSCAN`.
//! - [`ClusterClient`]: Redis Cluster (slot map, `MOVED`/`ASK`, per-slot
//!   splitting, pipelines grouped per node, replica reads, sharded pub/sub
//!   with [`ClusterPubSub`]); [`SentinelClient`]: a Sentinel-managed
//!   primary followed across failovers. Both implement [`Commands`].
//! - [`PubSub`]: `SUBSCRIBE`/`PSUBSCRIBE`/`SSUBSCRIBE` on a dedicated
//!   connection that reconnects with backoff and re-subscribes;
//!   [`Connection::enable_tracking`] / [`Config::on_invalidate`]:
//!   client-side caching invalidations delivered to a callback (RESP3).
//!
//! # Why one shared connection per worker
//!
//! Redis executes commands one at a time, so throughput comes from keeping
//! the socket full, not from more sockets: one pipelined connection per
//! worker carries every handler's requests with one `write` and one `read`
//! per executor round. Exclusive connections exist for what would disturb
//! other users of a shared one: `WATCH` (connection state), and blocking
//! commands (they hold every later request behind them). [`Client`]
//! refuses the commands that would leave state on its shared connection
//! (`WATCH`, a lone `MULTI`, `SELECT`, `SUBSCRIBE`, ...; see its docs)
//! rather than let the worker's other callers inherit it.
//!
//! # Cancellation and timeouts
//!
//! A reply is never handed to the wrong request. Dropping a command's
//! future (or timing it out with [`rt::time::timeout`](crate::rt::time))
//! abandons it: its reply is read and thrown away when it arrives. For a
//! blocking command (`BLPOP`, `XREAD BLOCK`, ...) that would stall every
//! later request, so abandoning one closes the connection instead.
//!
//! ```no_run
//! use weft::redis::{Commands, Config, Connection};
//! use weft::rt::DefaultBackend;
//!
//! weft::rt::block_on(async {
//!     let config: Config = "redis://127.0.0.1:6379/0".parse()?;
//!     let conn = Connection::connect::<DefaultBackend>(&config).await?;
//!     conn.set("greeting", "hello").await?;
//!     let v: Option<String> = conn.get("greeting").await?;
//!     assert_eq!(v.as_deref(), Some("hello"));
//!     Ok::<_, weft::redis::Error>(())
//! })
//! .unwrap();
//! ```

mod client;
mod cluster;
mod commands;
mod config;
mod conn;
mod error;
mod from_resp;
mod pipeline;
mod pubsub;
mod scan;
mod script;
mod sentinel;

pub use client::{Client, ClientBatchFuture, ClientFuture, Manager, PooledConnection};
pub use cluster::{
    ClusterClient, ClusterConfig, ClusterFuture, ClusterPubSub, ReadFrom, SLOTS, key_slot,
};
pub use commands::{
    Commands, Expiry, SetCondition, SetOptions, StreamEntry, StreamReadOptions, StreamReadReply,
    cmd,
};
pub use config::{Config, InvalidationCallback};
pub use conn::{BatchFuture, CmdFuture, Connection, PushHandler, ReplyFuture};
pub use error::{Error, ServerError};
pub use from_resp::FromResp;
pub use pipeline::Pipeline;
pub use proto_resp::{Cmd, CmdArg, Frame, Protocol};
pub use pubsub::{Message, MessageKind, PubSub};
pub use scan::{Scan, ScanOptions};
pub use script::Script;
pub use sentinel::{SentinelClient, SentinelConfig};
