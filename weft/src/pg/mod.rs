//! The PostgreSQL driver: pipelined connections on the worker's own event
//! loop, prepared-statement caching, streaming, transactions, COPY,
//! LISTEN/NOTIFY, cancellation and a per-worker pool.
//!
//! Built on [`proto_pg`]'s Sans-IO connection (start-up with trust,
//! cleartext, MD5 and SCRAM-SHA-256 authentication, FIFO matching of
//! responses to requests, COPY, type conversions). This module adds the
//! I/O and the API:
//!
//! - [`Config`]: a DSN as a URL (`postgres://user:pass@host:port/db?...`)
//!   or libpq `key=value` pairs, with libpq's names (`host`, `port`,
//!   `user`, `password`, `dbname`, `application_name`, `connect_timeout`,
//!   `options`, `target_session_attrs`); several hosts are tried in order.
//!   There is no TLS: `sslmode=require` (or stricter) is refused with a
//!   clear error.
//! - [`Connection`]: one socket owned by a task on the worker that opened
//!   it, shared by any number of callers (clones of the handle).
//!   Concurrent calls are pipelined: whatever was queued during one
//!   executor round goes out in one write, and responses are matched first
//!   in, first out. [`query`](Connection::query),
//!   [`query_one`](Connection::query_one),
//!   [`query_opt`](Connection::query_opt),
//!   [`execute`](Connection::execute) take `&[&dyn ToSql]` parameters;
//!   statements are prepared once per connection and kept in an LRU cache
//!   (re-prepared after SQLSTATE `26000` or `DISCARD ALL`). Rows decode
//!   with [`Row::get`] by position or name.
//! - [`RowStream`] ([`query_raw`](Connection::query_raw)): rows as they
//!   arrive, with bounded memory (the driver stops reading the socket while
//!   the consumer is behind). [`Transaction`] (isolation levels,
//!   savepoints, portals with row limits; rolled back on drop),
//!   [`CopyIn`] / [`CopyOut`], [`Notifications`] for LISTEN/NOTIFY, and
//!   [`CancelToken`].
//! - [`Client`]: `Clone + Send + Sync`, a [`pool::Pool`](crate::pool::Pool)
//!   with a sub-pool per worker; a returned connection is reset only if
//!   its session changed.
//! - [`Error`]: server errors keep every field ([`DbError`]: severity,
//!   SQLSTATE, message, detail, hint, position, constraint, ...).
//!
//! # Cancellation and timeouts
//!
//! A response is never handed to the wrong request. Dropping an
//! operation's future (or hitting [`Config::query_timeout`]) abandons it:
//! its remaining responses are read and discarded, and when it is the only
//! operation in flight a `CancelRequest` goes to the server on a new
//! socket, so a `SELECT pg_sleep(10)` stops at once and the connection is
//! usable again. Later requests are held back until the cancelled one has
//! ended, so the cancel can hit nothing else.
//!
//! # Example
//!
//! ```no_run
//! use weft::pg::{Config, Connection};
//! use weft::rt::DefaultBackend;
//!
//! weft::rt::block_on(async {
//!     let config = Config::parse("host=127.0.0.1 port=54329 user=weft dbname=weft")?;
//!     let conn = Connection::connect::<DefaultBackend>(&config).await?;
//!     conn.batch_execute("CREATE TEMP TABLE users (id int4, name text)").await?;
//!     conn.execute("INSERT INTO users VALUES ($1, $2)", &[&1i32, &"ada"]).await?;
//!     let row = conn.query_one("SELECT id, name FROM users WHERE id = $1", &[&1i32]).await?;
//!     let name: &str = row.get("name")?;
//!     assert_eq!(name, "ada");
//!
//!     // Large results stream with bounded memory.
//!     let mut rows = conn.query_raw("SELECT generate_series(1, 1000000)", &[]).await?;
//!     let mut sum = 0i64;
//!     while let Some(row) = rows.next().await {
//!         sum += row?.get::<i32>(0)? as i64;
//!     }
//!     assert_eq!(sum, 500_000_500_000);
//!     Ok::<_, weft::pg::Error>(())
//! })
//! .unwrap();
//! ```

mod client;
mod config;
mod conn;
mod copy;
mod error;
mod notify;
mod query;
mod row;
mod statement;
mod stream;
mod transaction;

pub use client::{Client, Manager, PooledConnection, PooledTransaction};
pub use config::{Config, TargetSessionAttrs};
pub use conn::{CancelToken, Connection};
pub use copy::CopyIn;
pub use error::{DbError, Error};
pub use notify::{Notification, Notifications};
pub use proto_pg::message::backend::TransactionStatus;
pub use proto_pg::types::{self, FromSql, ToSql};
pub use proto_pg::{Format, Oid};
pub use row::{Row, RowIndex};
pub use statement::{Column, Statement, ToStatement};
pub use stream::{CopyOut, RowStream};
pub use transaction::{IsolationLevel, Portal, Transaction, TransactionBuilder};
