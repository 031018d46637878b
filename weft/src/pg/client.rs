//! [`Client`]: the pool-backed entry point, a sub-pool of connections per
//! worker.

use std::fmt;
use std::marker::PhantomData;

use proto_pg::message::backend::TransactionStatus;
use proto_pg::types::ToSql;

use super::config::Config;
use super::conn::Connection;
use super::error::Error;
use super::row::Row;
use super::statement::ToStatement;
use crate::pool::{self, Pool, Pooled};
use crate::rt::{Backend, DefaultBackend};

/// Opens PostgreSQL connections for a [`Pool`]: connect (hosts in order),
/// an empty query as the health check, and on return a reset only when
/// the session was changed.
///
/// Reset on return: a connection still inside a transaction (or with
/// abandoned requests in flight) gets `ROLLBACK`; one whose session
/// changed (`SET`, `PREPARE`, `LISTEN`, `DECLARE`, a reported parameter
/// differing from its start-up value, SQL mentioning temporary tables,
/// `set_config` or session advisory locks) gets `DISCARD ALL`, which also empties the
/// statement cache. Both are queued ahead of anything the next user
/// sends, so FIFO order makes them take effect first. A connection that is
/// closed or mid-COPY is discarded.
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
        Connection::connect::<B>(&self.config).await
    }

    async fn check(&self, conn: &mut Connection) -> Result<(), Error> {
        conn.batch_execute("").await
    }

    fn is_reusable(&self, conn: &Connection) -> bool {
        conn.reset_for_reuse()
    }
}

impl Connection {
    /// Makes the connection fit for another user (see [`Manager`]);
    /// false if it must be closed instead.
    pub(crate) fn reset_for_reuse(&self) -> bool {
        let (rollback, discard) = {
            let mut st = self.shared.state.borrow_mut();
            if st.error.is_some() || st.proto.is_copy_in() {
                return false;
            }
            let in_tx = st.proto.transaction_status() != TransactionStatus::Idle;
            let busy = !st.proto.pending_requests().is_empty();
            let discard = st.session.is_changed();
            if discard {
                st.cache.clear();
                st.session.reset();
            }
            (in_tx || busy, discard)
        };
        if rollback {
            self.fire("ROLLBACK");
        }
        if discard {
            self.fire("DISCARD ALL");
        }
        !self.is_closed()
    }
}

/// A connection checked out of a [`Client`]'s pool; it goes back (reset
/// if needed) when dropped.
pub type PooledConnection<B = DefaultBackend> = Pooled<Manager<B>>;

/// A PostgreSQL client: `Clone + Send + Sync`, usable from every worker,
/// with a pool of connections per worker ([`pool::Config`] limits apply
/// per worker).
///
/// The query methods check a connection out for the one call;
/// [`get`](Self::get) checks one out for longer (transactions, COPY,
/// LISTEN, prepared statements reused across calls).
///
/// ```no_run
/// use weft::pg::Client;
///
/// let client = Client::connect("postgres://weft@127.0.0.1:54329/weft")?;
/// weft::rt::block_on(async {
///     let row = client.query_one("SELECT $1::int4 + 1", &[&41i32]).await?;
///     assert_eq!(row.get::<i32>(0)?, 42);
///     let conn = client.get().await?;
///     let tx = conn.transaction().await?;
///     tx.execute("CREATE TEMP TABLE t (x int)", &[]).await?;
///     tx.commit().await?;
///     Ok::<_, weft::pg::Error>(())
/// })?;
/// # Ok::<_, weft::pg::Error>(())
/// ```
pub struct Client<B: Backend = DefaultBackend> {
    pool: Pool<Manager<B>>,
}

impl<B: Backend> Clone for Client<B> {
    fn clone(&self) -> Self {
        Client {
            pool: self.pool.clone(),
        }
    }
}

impl<B: Backend> fmt::Debug for Client<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("pool", &self.pool).finish()
    }
}

impl Client<DefaultBackend> {
    /// A client on the default backend. Connects lazily.
    pub fn new(config: Config) -> Self {
        Client::with_backend(config)
    }

    /// A client for a DSN (URL or key=value) on the default backend.
    pub fn connect(dsn: &str) -> Result<Self, Error> {
        Ok(Client::new(Config::parse(dsn)?))
    }
}

impl<B: Backend> Client<B> {
    /// A client on backend `B`. Connects lazily.
    pub fn with_backend(config: Config) -> Self {
        let pool_config = config.pool.clone();
        Client {
            pool: Pool::new(Manager::new(config), pool_config),
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
    pub async fn get(&self) -> Result<PooledConnection<B>, Error> {
        self.pool.get().await.map_err(|e| match e {
            pool::Error::Timeout => Error::PoolTimeout,
            pool::Error::Backend(e) => e,
        })
    }

    /// [`Connection::query`] on a pooled connection.
    pub async fn query(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<Vec<Row>, Error> {
        self.get().await?.query(stmt, params).await
    }

    /// [`Connection::query_one`] on a pooled connection.
    pub async fn query_one(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<Row, Error> {
        self.get().await?.query_one(stmt, params).await
    }

    /// [`Connection::query_opt`] on a pooled connection.
    pub async fn query_opt(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<Option<Row>, Error> {
        self.get().await?.query_opt(stmt, params).await
    }

    /// [`Connection::execute`] on a pooled connection.
    pub async fn execute(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<u64, Error> {
        self.get().await?.execute(stmt, params).await
    }

    /// [`Connection::batch_execute`] on a pooled connection.
    pub async fn batch_execute(&self, sql: &str) -> Result<(), Error> {
        self.get().await?.batch_execute(sql).await
    }
}
