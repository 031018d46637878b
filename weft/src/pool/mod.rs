//! Per-worker connection pools shared by the drivers.
//!
//! A [`Pool`] is a cheap, `Clone + Send + Sync` handle holding the
//! configuration and a [`Manager`] (how to connect, health-check and judge a
//! returned connection). The connections themselves are not shared between
//! threads: each worker lazily gets its own sub-pool, kept in a thread-local
//! keyed by the pool's id, so [`Pool::get`] on worker `k` returns a
//! connection whose socket is registered on worker `k`'s event loop. No
//! lock is taken on the hot path and connections need not be `Send`.
//!
//! Within a worker:
//!
//! - at most [`Config::max_open`] connections exist (idle, in use or being
//!   opened); at most [`Config::max_idle`] are kept idle;
//! - idle connections are reused most-recently-used first, so surplus ones
//!   age out: a small task per sub-pool closes them after
//!   [`Config::idle_timeout`] and closes any connection older than
//!   [`Config::max_lifetime`]. It sleeps until the next expiry, never
//!   polls;
//! - a caller that finds no idle connection and no free slot parks on a
//!   FIFO wait queue. A returned connection is handed straight to the first
//!   waiter; a freed slot wakes the first waiter, which then connects. A
//!   waiter whose deadline fires (or whose future is dropped) leaves the
//!   queue and passes on anything it was handed, so no wake-up is lost;
//! - [`Config::acquire_timeout`] bounds the whole acquisition
//!   ([`Error::Timeout`]);
//! - a failed connect is reported to the caller that attempted it
//!   ([`Error::Backend`]); further attempts wait for a jittered exponential
//!   backoff, and only one attempt at a time is made until one succeeds;
//! - when a [`Pooled`] guard drops, the connection goes back if
//!   [`Manager::is_reusable`] says so (a broken, poisoned or
//!   desynchronised connection is closed and its slot freed).
//!
//! A sub-pool lives as long as the worker's runtime (the executor that
//! created it) and the pool: when that runtime ends, its idle connections
//! are closed and the next runtime on the thread starts afresh. On the
//! `std` backend every served connection runs its own runtime on its own
//! thread, so there the pool only reuses connections within one served
//! connection.
//!
//! Dropping the last [`Pool`] handle closes the pool on every worker.
//! Connections never leave the worker that opened them, so the dropping
//! thread only sets a flag and wakes each worker's reaper task (wakers
//! work across threads); each reaper then, on its own worker, removes its
//! sub-pool from the thread and closes its idle connections and its
//! [shared](Shared) connection (requests in flight on that one still
//! finish). A connection still checked out is closed when it is returned.
//!
//! [`Shared`] keeps one connection per worker that many callers use at
//! once (the drivers' pipelined connections).
//!
//! ```
//! use std::convert::Infallible;
//! use weft::pool::{Config, Manager, Pool};
//!
//! struct Numbers;
//!
//! impl Manager for Numbers {
//!     type Connection = u32;
//!     type Error = Infallible;
//!     async fn connect(&self) -> Result<u32, Infallible> {
//!         Ok(7)
//!     }
//! }
//!
//! let pool = Pool::new(Numbers, Config::default().max_open(2));
//! weft::rt::block_on(async {
//!     let conn = pool.get().await.unwrap();
//!     assert_eq!(*conn, 7);
//!     drop(conn); // back to this worker's idle list
//!     assert_eq!(pool.state().idle, 1);
//! });
//! ```

pub(crate) mod backoff;
mod shared;
mod sub;
#[cfg(test)]
mod tests;

pub use shared::{Lease, Multiplexed, Shared};

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::rt::time;
use sub::SubPool;

/// How a pool opens, checks and judges its connections.
///
/// The manager is shared by every worker (`Send + Sync`); the connections it
/// makes stay on the worker that made them (no `Send` bound).
pub trait Manager: Send + Sync + 'static {
    /// The pooled connection.
    type Connection: 'static;
    /// Why connecting or checking failed.
    type Error: 'static;

    /// Opens a connection on the current worker.
    fn connect(&self) -> impl Future<Output = Result<Self::Connection, Self::Error>>;

    /// Checks that an idle connection still works before it is handed out
    /// (after it sat idle for [`Config::check_after_idle`]). A failure
    /// discards it. The default accepts every connection.
    fn check(&self, conn: &mut Self::Connection) -> impl Future<Output = Result<(), Self::Error>> {
        let _ = conn;
        async { Ok(()) }
    }

    /// Whether a connection can be reused: false for a broken, poisoned or
    /// desynchronised one, which is then closed. Called when a connection
    /// is returned and again before an idle one is handed out. The default
    /// says yes.
    fn is_reusable(&self, conn: &Self::Connection) -> bool {
        let _ = conn;
        true
    }
}

/// Pool limits and timings; every limit is per worker.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Most connections open at once (idle, in use or connecting). Default 16.
    pub max_open: usize,
    /// Most idle connections kept. Default 16.
    pub max_idle: usize,
    /// Connections older than this are closed when returned or found idle.
    /// Default 30 minutes.
    pub max_lifetime: Option<Duration>,
    /// Idle connections unused this long are closed. Default 5 minutes.
    pub idle_timeout: Option<Duration>,
    /// How long [`Pool::get`] may wait for a connection. Default 5 seconds.
    pub acquire_timeout: Duration,
    /// An idle connection unused this long is checked with
    /// [`Manager::check`] before it is handed out. Default 30 seconds;
    /// `None` never checks.
    pub check_after_idle: Option<Duration>,
    /// The first reconnect delay after a failed connect. Default 50 ms.
    pub backoff_base: Duration,
    /// The longest reconnect delay. Default 5 seconds.
    pub backoff_max: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_open: 16,
            max_idle: 16,
            max_lifetime: Some(Duration::from_secs(30 * 60)),
            idle_timeout: Some(Duration::from_secs(5 * 60)),
            acquire_timeout: Duration::from_secs(5),
            check_after_idle: Some(Duration::from_secs(30)),
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_secs(5),
        }
    }
}

impl Config {
    /// Sets [`Config::max_open`] (at least 1); lowers `max_idle` to match.
    pub fn max_open(mut self, n: usize) -> Self {
        self.max_open = n.max(1);
        self.max_idle = self.max_idle.min(self.max_open);
        self
    }

    /// Sets [`Config::max_idle`].
    pub fn max_idle(mut self, n: usize) -> Self {
        self.max_idle = n;
        self
    }

    /// Sets [`Config::max_lifetime`].
    pub fn max_lifetime(mut self, d: Option<Duration>) -> Self {
        self.max_lifetime = d;
        self
    }

    /// Sets [`Config::idle_timeout`].
    pub fn idle_timeout(mut self, d: Option<Duration>) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Sets [`Config::acquire_timeout`].
    pub fn acquire_timeout(mut self, d: Duration) -> Self {
        self.acquire_timeout = d;
        self
    }

    /// Sets [`Config::check_after_idle`].
    pub fn check_after_idle(mut self, d: Option<Duration>) -> Self {
        self.check_after_idle = d;
        self
    }

    /// Sets the reconnect backoff: `base` doubled per consecutive failure,
    /// capped at `max`, with jitter.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max.max(base);
        self
    }
}

/// Why [`Pool::get`] returned no connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error<E> {
    /// No connection became available before the acquire deadline.
    Timeout,
    /// The manager failed to connect.
    Backend(E),
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout => f.write_str("timed out waiting for a pooled connection"),
            Error::Backend(e) => write!(f, "connecting failed: {e}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Timeout => None,
            Error::Backend(e) => Some(e),
        }
    }
}

impl<E: Into<std::io::Error>> From<Error<E>> for std::io::Error {
    fn from(e: Error<E>) -> Self {
        match e {
            Error::Timeout => std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "timed out waiting for a pooled connection",
            ),
            Error::Backend(e) => e.into(),
        }
    }
}

/// A snapshot of the current worker's sub-pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct State {
    /// Connections open (idle, in use or connecting).
    pub open: usize,
    /// Idle connections.
    pub idle: usize,
    /// Connects in progress.
    pub connecting: usize,
    /// Callers parked waiting for a connection.
    pub waiters: usize,
    /// Consecutive failed connects (0 once one succeeds).
    pub failures: u32,
}

/// What every worker's sub-pool of one pool shares (the sub-pools keep it
/// alive, so it outlives the last [`Pool`] handle).
pub(crate) struct Common<M> {
    id: u64,
    manager: M,
    config: Config,
    /// Set when the last [`Pool`] handle is dropped.
    closed: AtomicBool,
    /// Each live sub-pool's reaper task, by sub-pool id: woken (from any
    /// thread) when the pool closes.
    reapers: Mutex<HashMap<u64, Waker>>,
}

impl<M> Common<M> {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// The user-facing handles share this; its drop closes the pool.
struct Handle<M>(Arc<Common<M>>);

impl<M> Drop for Handle<M> {
    /// The last [`Pool`] handle is gone: every worker's reaper is woken to
    /// close that worker's idle connections and its shared connection
    /// (each on its own thread: connections never leave their worker).
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        let reapers =
            std::mem::take(&mut *self.0.reapers.lock().unwrap_or_else(|e| e.into_inner()));
        for (_, w) in reapers {
            w.wake();
        }
    }
}

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// A connection pool with one sub-pool per worker; see the [module
/// docs](self).
pub struct Pool<M: Manager> {
    handle: Arc<Handle<M>>,
}

impl<M: Manager> Clone for Pool<M> {
    fn clone(&self) -> Self {
        Pool {
            handle: self.handle.clone(),
        }
    }
}

impl<M: Manager> fmt::Debug for Pool<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("id", &self.common().id)
            .field("config", &self.common().config)
            .finish_non_exhaustive()
    }
}

impl<M: Manager> Pool<M> {
    /// A pool of connections made by `manager`. Nothing connects until the
    /// first [`get`](Self::get) on each worker.
    pub fn new(manager: M, config: Config) -> Self {
        Pool {
            handle: Arc::new(Handle(Arc::new(Common {
                id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
                manager,
                config,
                closed: AtomicBool::new(false),
                reapers: Mutex::new(HashMap::new()),
            }))),
        }
    }

    fn common(&self) -> &Arc<Common<M>> {
        &self.handle.0
    }

    /// The manager.
    pub fn manager(&self) -> &M {
        &self.common().manager
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.common().config
    }

    /// A connection living on the current worker, waiting at most
    /// [`Config::acquire_timeout`].
    ///
    /// # Panics
    ///
    /// Outside of a Weft runtime.
    pub async fn get(&self) -> Result<Pooled<M>, Error<M::Error>> {
        self.get_until(Instant::now() + self.common().config.acquire_timeout)
            .await
    }

    /// As [`get`](Self::get), giving up at `deadline`.
    pub async fn get_until(&self, deadline: Instant) -> Result<Pooled<M>, Error<M::Error>> {
        let sub = SubPool::current(self.common());
        match time::timeout_at(deadline, sub.acquire()).await {
            Ok(res) => res,
            Err(time::Elapsed) => Err(Error::Timeout),
        }
    }

    /// The current worker's sub-pool counters (all zero before its first
    /// [`get`](Self::get)).
    pub fn state(&self) -> State {
        SubPool::<M>::existing(self.common().id).map_or_else(State::default, |s| s.state())
    }
}

#[derive(Debug, Clone, Copy)]
struct Meta {
    created: Instant,
}

/// A connection checked out of a [`Pool`]; it goes back when dropped.
pub struct Pooled<M: Manager> {
    conn: Option<M::Connection>,
    meta: Meta,
    sub: Rc<SubPool<M>>,
}

impl<M: Manager> Pooled<M> {
    /// Takes the connection out of the pool for good; its slot is freed.
    pub fn detach(mut this: Self) -> M::Connection {
        let conn = this.conn.take().expect("connection present until drop");
        this.sub.forget_one();
        conn
    }

    /// Closes the connection instead of returning it (its slot is freed).
    pub fn discard(mut this: Self) {
        let conn = this.conn.take();
        this.sub.forget_one();
        drop(conn);
    }

    /// How long ago the connection was opened.
    pub fn age(this: &Self) -> Duration {
        this.meta.created.elapsed()
    }
}

impl<M: Manager> Deref for Pooled<M> {
    type Target = M::Connection;

    fn deref(&self) -> &M::Connection {
        self.conn.as_ref().expect("connection present until drop")
    }
}

impl<M: Manager> DerefMut for Pooled<M> {
    fn deref_mut(&mut self) -> &mut M::Connection {
        self.conn.as_mut().expect("connection present until drop")
    }
}

impl<M: Manager> Drop for Pooled<M> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.sub.release(conn, self.meta);
        }
    }
}

impl<M: Manager> fmt::Debug for Pooled<M>
where
    M::Connection: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pooled")
            .field("conn", &self.conn)
            .field("age", &self.meta.created.elapsed())
            .finish()
    }
}
