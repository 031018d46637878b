//! [`Client`]: the pool-backed entry point, one multiplexed connection per
//! worker for ordinary commands plus exclusive connections on demand.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use proto_resp::{Cmd, Frame};

use super::commands::Commands;
use super::config::Config;
use super::conn::{BatchFuture, CmdFuture, Connection, is_blocking, leaves_session_state};
use super::error::Error;
use super::from_resp::{FromResp, check};
use super::pubsub::PubSub;
use crate::pool::{self, Pool, Pooled};
use crate::rt::{Backend, DefaultBackend, time};

/// Opens Redis connections for a [`Pool`]: connect and handshake, enable
/// client-side caching if configured, `PING` as the health check, and
/// refuse connections that are closed or carry session state.
pub struct Manager<B: Backend = DefaultBackend> {
    config: Config,
    _b: PhantomData<fn() -> B>,
}

impl<B: Backend> Manager<B> {
    /// A manager connecting with `config`.
    pub fn new(config: Config) -> Self {
        Manager {
            config,
            _b: PhantomData,
        }
    }

    /// The connection settings.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

impl<B: Backend> fmt::Debug for Manager<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("config", &self.config)
            .field("backend", &B::NAME)
            .finish()
    }
}

impl<B: Backend> pool::Manager for Manager<B> {
    type Connection = Connection;
    type Error = Error;

    async fn connect(&self) -> Result<Connection, Error> {
        let conn = Connection::connect::<B>(&self.config).await?;
        if self.config.readonly {
            // Cluster replica reads (cluster specification, "Scaling reads
            // using replica nodes"); not session state a pool must reset,
            // as every connection of this pool carries it.
            check(conn.send(&Cmd::new("READONLY"), false)?.await?)?;
        }
        if let Some(cb) = &self.config.on_invalidate {
            conn.enable_tracking(cb.clone()).await?;
        }
        Ok(conn)
    }

    async fn check(&self, conn: &mut Connection) -> Result<(), Error> {
        conn.ping().await.map(drop)
    }

    fn is_reusable(&self, conn: &Connection) -> bool {
        conn.is_reusable()
    }
}

impl pool::Multiplexed for Connection {
    fn is_closed(&self) -> bool {
        Connection::is_closed(self)
    }
}

/// A connection checked out of a [`Client`]'s pool for exclusive use.
pub type PooledConnection<B = DefaultBackend> = Pooled<Manager<B>>;

fn pool_error(e: pool::Error<Error>) -> Error {
    match e {
        pool::Error::Timeout => Error::PoolTimeout,
        pool::Error::Backend(e) => e,
    }
}

static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// A Redis client: `Clone + Send + Sync`, usable from every worker.
///
/// - Ordinary commands ([`Commands`]) go through one multiplexed
///   connection per worker, opened lazily from the pool on first use and
///   replaced when it breaks: all the handlers of a worker pipeline their
///   requests on it, and replies come back to that worker.
/// - Blocking commands (`BLPOP`, `XREAD BLOCK`, `WAIT`, ...) run on a
///   connection checked out for the call, so they stall no one else.
/// - [`acquire`](Client::acquire) checks out a connection for exclusive
///   use (`WATCH`/`MULTI`/`EXEC`, long blocking loops); it returns to the
///   pool when dropped, unless it was left in a state another user must
///   not inherit.
/// - [`pubsub`](Client::pubsub) opens a dedicated subscriber.
/// - Commands that would leave state on the shared connection for the
///   worker's other callers to inherit (`WATCH`, a lone `MULTI`, `SELECT`,
///   `AUTH`, `HELLO`, `RESET`, `CLIENT TRACKING|REPLY`,
///   `READONLY`/`READWRITE`, `SUBSCRIBE` and its kin) are refused with
///   [`Error::Unsupported`]: use [`acquire`](Client::acquire),
///   [`Pipeline::atomic`](super::Pipeline::atomic),
///   [`pubsub`](Client::pubsub) or [`Config::on_invalidate`]. A batch
///   that leaves such state behind (say `SELECT 1` then `SET`) runs as
///   written, and the shared connection is then replaced, so that nobody
///   inherits it.
///
/// [`Config::response_timeout`] bounds each command; a timed-out request's
/// reply is discarded when it arrives, so the shared connection stays in
/// step.
///
/// ```no_run
/// use weft::redis::{Client, Commands};
///
/// let client = Client::from_url("redis://127.0.0.1:6379")?;
/// weft::rt::block_on(async {
///     client.set("visits", 0).await?;
///     let n = client.incr("visits").await?;
///     assert_eq!(n, 1);
///     Ok::<_, weft::redis::Error>(())
/// })?;
/// # Ok::<_, weft::redis::Error>(())
/// ```
pub struct Client<B: Backend = DefaultBackend> {
    id: u64,
    pool: Pool<Manager<B>>,
    /// This worker's multiplexed connection, kept in its sub-pool.
    shared: pool::Shared<Manager<B>>,
}

impl<B: Backend> Clone for Client<B> {
    fn clone(&self) -> Self {
        Client {
            id: self.id,
            pool: self.pool.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<B: Backend> fmt::Debug for Client<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("pool", &self.pool)
            .finish()
    }
}

impl Client<DefaultBackend> {
    /// A client on the default backend. Connects lazily.
    pub fn new(config: Config) -> Self {
        Client::with_backend(config)
    }

    /// A client for `redis://...` on the default backend.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        Ok(Client::new(Config::from_url(url)?))
    }
}

impl<B: Backend> Client<B> {
    /// A client on backend `B`. Connects lazily.
    pub fn with_backend(config: Config) -> Self {
        let pool_config = config.pool.clone();
        let pool = Pool::new(Manager::new(config), pool_config);
        Client {
            id: NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed),
            // Callers get clones of the connection, so a retired one is
            // never handed to anyone else.
            shared: pool::Shared::new(pool.clone()),
            pool,
        }
    }

    /// The connection settings.
    pub fn config(&self) -> &Config {
        self.pool.manager().config()
    }

    /// The current worker's pool counters.
    pub fn pool_state(&self) -> pool::State {
        self.pool.state()
    }

    /// A connection of this worker for exclusive use, within the pool's
    /// acquire deadline ([`Error::PoolTimeout`]).
    pub async fn acquire(&self) -> Result<PooledConnection<B>, Error> {
        self.pool.get().await.map_err(pool_error)
    }

    /// A dedicated subscriber (not pooled).
    pub async fn pubsub(&self) -> Result<PubSub<B>, Error> {
        PubSub::connect(self.config().clone()).await
    }

    /// This worker's shared connection if it is open, without waiting.
    pub(crate) fn shared_now(&self) -> Option<Connection> {
        self.shared.now().map(|l| (*l).clone())
    }

    /// Stops handing out `lease`'s connection if the commands just queued
    /// on it left connection state behind (see [`Client`]): callers
    /// already queued on it finish there, later ones get a new one.
    fn retire_if_dirty(&self, lease: &pool::Lease<Manager<B>>) {
        if !lease.is_reusable() {
            self.shared.retire(lease);
        }
    }

    /// This worker's multiplexed connection, opened (through the pool) if
    /// there is none, it broke or it is older than the pool's
    /// `max_lifetime`. Concurrent first callers wait for one connect
    /// instead of racing (see [`pool::Shared`]).
    pub async fn shared(&self) -> Result<Connection, Error> {
        let lease = self.shared.get().await.map_err(pool_error)?;
        Ok((*lease).clone())
    }
}

/// The future of a [`Client`] command: on the fast path (the worker's
/// shared connection is open) the command was queued when it was called;
/// otherwise it first waits for a connection.
pub struct ClientFuture<T> {
    inner: ClientInner<T>,
    deadline: Option<time::Sleep>,
}

enum ClientInner<T> {
    Ready(CmdFuture<T>),
    Later(Pin<Box<dyn Future<Output = Result<T, Error>>>>),
}

impl<T> fmt::Debug for ClientFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientFuture").finish_non_exhaustive()
    }
}

impl<T: FromResp> Future for ClientFuture<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let res = match &mut this.inner {
            ClientInner::Ready(f) => Pin::new(f).poll(cx),
            ClientInner::Later(f) => f.as_mut().poll(cx),
        };
        or_timeout(res, &mut this.deadline, cx)
    }
}

/// `res`, or [`Error::Timeout`] when it is pending and `deadline` passed.
fn or_timeout<T>(
    res: Poll<Result<T, Error>>,
    deadline: &mut Option<time::Sleep>,
    cx: &mut Context<'_>,
) -> Poll<Result<T, Error>> {
    if res.is_ready() {
        return res;
    }
    match deadline.as_mut().map(|d| Pin::new(d).poll(cx)) {
        Some(Poll::Ready(())) => Poll::Ready(Err(Error::Timeout)),
        _ => Poll::Pending,
    }
}

/// The future of a [`Client`] batch (pipeline): on the fast path the
/// commands were queued when it was made; otherwise it first waits for a
/// connection.
pub struct ClientBatchFuture {
    inner: BatchInner,
    deadline: Option<time::Sleep>,
}

enum BatchInner {
    Ready(BatchFuture),
    Later(Pin<Box<dyn Future<Output = Result<Vec<Frame>, Error>>>>),
}

impl fmt::Debug for ClientBatchFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBatchFuture").finish_non_exhaustive()
    }
}

impl Future for ClientBatchFuture {
    type Output = Result<Vec<Frame>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let res = match &mut this.inner {
            BatchInner::Ready(f) => Pin::new(f).poll(cx),
            BatchInner::Later(f) => f.as_mut().poll(cx),
        };
        or_timeout(res, &mut this.deadline, cx)
    }
}

impl<B: Backend> Commands for Client<B> {
    type Fut<T: FromResp + 'static> = ClientFuture<T>;
    type BatchFut = ClientBatchFuture;

    fn query_cmd<T: FromResp + 'static>(&self, cmd: Cmd) -> ClientFuture<T> {
        if leaves_session_state(&cmd) {
            return ClientFuture {
                inner: ClientInner::Later(Box::pin(async {
                    Err(Error::Unsupported(
                        "a command that changes the connection's state (WATCH, MULTI, SELECT, \
                         AUTH, HELLO, RESET, CLIENT TRACKING/REPLY, READONLY, SUBSCRIBE) on a \
                         Client's shared connection; use Client::acquire, Pipeline::atomic, \
                         Client::pubsub or Config::on_invalidate",
                    ))
                })),
                deadline: None,
            };
        }
        let deadline = self.config().response_timeout.map(time::sleep);
        if is_blocking(&cmd) {
            // A connection of its own, so nobody queues behind it. If the
            // caller gives up, the connection is closed, not reused.
            let pool = self.pool.clone();
            return ClientFuture {
                inner: ClientInner::Later(Box::pin(async move {
                    let conn = pool.get().await.map_err(pool_error)?;
                    conn.query::<T>(&cmd).await
                })),
                deadline,
            };
        }
        if let Some(conn) = self.shared_now() {
            return ClientFuture {
                inner: ClientInner::Ready(conn.into_query(&cmd)),
                deadline,
            };
        }
        let client = self.clone();
        ClientFuture {
            inner: ClientInner::Later(Box::pin(async move {
                client.shared().await?.query::<T>(&cmd).await
            })),
            deadline,
        }
    }

    fn query_batch<'a>(&self, cmds: impl IntoIterator<Item = &'a Cmd>) -> ClientBatchFuture {
        let deadline = self.config().response_timeout.map(time::sleep);
        let inner = match self.shared.now() {
            Some(lease) => {
                let fut = lease.send_batch(cmds);
                self.retire_if_dirty(&lease);
                BatchInner::Ready(fut)
            }
            None => {
                let cmds: Vec<Cmd> = cmds.into_iter().cloned().collect();
                let client = self.clone();
                BatchInner::Later(Box::pin(async move {
                    let lease = client.shared.get().await.map_err(pool_error)?;
                    let fut = lease.send_batch(&cmds);
                    client.retire_if_dirty(&lease);
                    fut.await
                }))
            }
        };
        ClientBatchFuture { inner, deadline }
    }
}

impl<B: Backend> Commands for Pooled<Manager<B>> {
    type Fut<T: FromResp + 'static> = CmdFuture<T>;
    type BatchFut = BatchFuture;

    fn query_cmd<T: FromResp + 'static>(&self, cmd: Cmd) -> CmdFuture<T> {
        self.query(&cmd)
    }

    fn query_batch<'a>(&self, cmds: impl IntoIterator<Item = &'a Cmd>) -> BatchFuture {
        self.send_batch(cmds)
    }
}
