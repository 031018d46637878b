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
use super::transaction::Transaction;
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
            // A deferred BEGIN never sent (its transaction leaked) needs
            // no ROLLBACK: drop it.
            st.begin = None;
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

impl pool::Multiplexed for Connection {
    fn is_closed(&self) -> bool {
        Connection::is_closed(self)
    }
}

/// A connection checked out of a [`Client`]'s pool; it goes back (reset
/// if needed) when dropped.
pub type PooledConnection<B = DefaultBackend> = Pooled<Manager<B>>;

fn pool_error(e: pool::Error<Error>) -> Error {
    match e {
        pool::Error::Timeout => Error::PoolTimeout,
        pool::Error::Backend(e) => e,
    }
}

/// Statements that only read or write rows: the first keyword of a
/// statement that may run on a worker's shared connection.
const SHAREABLE_VERBS: &[&str] = &[
    "select", "insert", "update", "delete", "with", "values", "table", "merge", "show",
];

/// Whether `sql` may run on the worker's shared connection, pipelined with
/// other callers' statements: a statement that cannot change the session
/// (settings, prepared statements, cursors, `LISTEN`, temporary tables,
/// advisory locks, the random seed) nor open a transaction. Judged on the
/// text, conservatively: the first keyword must be a plain data statement
/// ([`SHAREABLE_VERBS`]; a leading comment does not count as one), no word
/// may name a session-changing function or `TEMP`/`TEMPORARY` (anything
/// beginning with `temp`), and with the simple query protocol (`simple`,
/// where one string may hold several statements, "Multiple Statements in
/// a Simple Query", 55.2.2.1) nothing may follow a `;`. A false "no" only
/// costs an exclusive checkout.
pub(crate) fn shareable(sql: &str, simple: bool) -> bool {
    // Bytes, not chars: every byte of a multi-byte character is >= 0x80,
    // so it separates words as the character would.
    let b = sql.as_bytes();
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let start = b
        .iter()
        .position(|&c| !(c.is_ascii_whitespace() || c == b'('))
        .unwrap_or(b.len());
    let end = b[start..]
        .iter()
        .position(|&c| !is_word(c))
        .map_or(b.len(), |n| start + n);
    let first = &b[start..end];
    if !SHAREABLE_VERBS
        .iter()
        .any(|v| first.eq_ignore_ascii_case(v.as_bytes()))
    {
        return false;
    }
    if simple
        && let Some(i) = sql.find(';')
        && !sql[i + 1..]
            .trim_matches(|c: char| c.is_ascii_whitespace() || c == ';')
            .is_empty()
    {
        return false;
    }
    let starts = |w: &[u8], prefix: &[u8]| {
        w.len() >= prefix.len() && w[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    let mut i = 0;
    while i < b.len() {
        if !is_word(b[i]) {
            i += 1;
            continue;
        }
        let w0 = i;
        while i < b.len() && is_word(b[i]) {
            i += 1;
        }
        let w = &b[w0..i];
        // Only words starting with these letters can be flagged.
        let flagged = match w[0].to_ascii_lowercase() {
            b't' => starts(w, b"temp"),
            b's' => w.eq_ignore_ascii_case(b"set_config") || w.eq_ignore_ascii_case(b"setseed"),
            b'p' => starts(w, b"pg_advisory") || starts(w, b"pg_try_advisory"),
            b'd' => starts(w, b"dblink"),
            _ => false,
        };
        if flagged {
            return false;
        }
    }
    true
}

/// A PostgreSQL client: `Clone + Send + Sync`, usable from every worker,
/// with a pool of connections per worker ([`pool::Config`] limits apply
/// per worker).
///
/// # One shared connection per worker
///
/// The one-shot methods ([`query`](Self::query),
/// [`query_one`](Self::query_one), [`query_opt`](Self::query_opt),
/// [`execute`](Self::execute), [`batch_execute`](Self::batch_execute))
/// run plain data statements (`SELECT`, `INSERT`, `UPDATE`, `DELETE`,
/// `WITH`, ...) on the worker's shared connection ([`pool::Shared`]): one
/// connection of the worker's pool that all its handlers pipeline their
/// statements on, each statement its own `Bind`/`Execute`/`Sync` block
/// answered in order ("Pipelining", 55.2.4), so an error in one aborts
/// nobody else's. It is opened on the first call on each worker, replaced
/// when it breaks (the call that saw the error gets it; the next call
/// gets a new connection) and after [`pool::Config::max_lifetime`].
///
/// A statement on a shared connection must not change what the session
/// does for the statements pipelined behind it, and those are already on
/// the wire when its reply comes. So safety is decided before sending:
///
/// - statements that may change the session or a transaction (`SET`,
///   `BEGIN`, `PREPARE`, `LISTEN`, `DECLARE`, DDL, `CALL`, `DO`, temporary
///   tables, `set_config`, advisory locks, several statements in one
///   [`batch_execute`](Self::batch_execute), ...: anything not shown to be
///   a plain data statement) run on a connection checked out of the pool
///   for that call, exactly as [`get`](Self::get) does, and that
///   connection is reset when it goes back (`ROLLBACK`, `DISCARD ALL`; see
///   [`Manager`]). So `client.batch_execute("SET search_path TO x")` or
///   `client.batch_execute("BEGIN")` has no effect on later calls, as
///   before;
/// - as a backstop, a shared connection that nonetheless reports a changed
///   session or an open transaction after a call (a function that ran
///   `SET`, say) is retired: no new call is sent on it, and once the calls
///   in flight on it finish it goes back to the pool and is reset there.
///   Statements already pipelined behind it ran in the changed session,
///   and a change the server does not report (a function setting
///   `search_path`, which PostgreSQL before 18 does not report) is not
///   seen at all, as for the pool's reset: keep session changes out of
///   functions called through the one-shot methods.
///
/// [`get`](Self::get) checks a connection out for exclusive use
/// (transactions, COPY, `LISTEN`, statements reused across calls); it
/// returns to the pool when dropped. The shared connection is one of the
/// worker's [`pool::Config::max_open`] connections; when the pool is full
/// and a [`get`](Self::get) has to wait, the shared connection is handed
/// to it once its calls in flight are done (later one-shot calls open or
/// wait for another), so even `max_open(1)` serves both kinds of use.
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
    shared: pool::Shared<Manager<B>>,
}

impl<B: Backend> Clone for Client<B> {
    fn clone(&self) -> Self {
        Client {
            pool: self.pool.clone(),
            shared: self.shared.clone(),
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

/// A use of a worker's shared connection.
type Lease<B> = pool::Lease<Manager<B>>;

impl<B: Backend> Client<B> {
    /// A client on backend `B`. Connects lazily.
    pub fn with_backend(config: Config) -> Self {
        let pool_config = config.pool.clone();
        let pool = Pool::new(Manager::new(config), pool_config);
        Client {
            // Callers only ever hold leases (no handle escapes a call), so
            // a retired shared connection can go back to the pool.
            shared: pool::Shared::lending(pool.clone()),
            pool,
        }
    }

    /// The connection settings.
    pub fn config(&self) -> &Config {
        self.pool.manager().config()
    }

    /// The current worker's pool counters (the shared connection counts
    /// as one open connection, not idle).
    pub fn pool_state(&self) -> pool::State {
        self.pool.state()
    }

    /// A connection of this worker for exclusive use, within the pool's
    /// acquire deadline ([`Error::PoolTimeout`]).
    pub async fn get(&self) -> Result<PooledConnection<B>, Error> {
        self.pool.get().await.map_err(pool_error)
    }

    /// Starts a transaction (`BEGIN`) on a connection checked out of the
    /// pool for it (never the shared one); the connection goes back when
    /// the transaction ends or is dropped (dropped unfinished: rolled
    /// back).
    pub async fn transaction(&self) -> Result<PooledTransaction<B>, Error> {
        let conn = self.get().await?;
        let tx = conn.transaction().await?;
        Ok(PooledTransaction { tx, conn })
    }

    /// The worker's shared connection for a statement judged
    /// [`shareable`], or `None`: check one out instead.
    async fn shared_for(&self, sql: &str, simple: bool) -> Result<Option<Lease<B>>, Error> {
        if !shareable(sql, simple) {
            return Ok(None);
        }
        if let Some(lease) = self.shared.now() {
            return Ok(Some(lease));
        }
        self.shared.get().await.map(Some).map_err(pool_error)
    }

    /// After a call on the shared connection: retire it if it broke, or
    /// if the session changed or a transaction is open after all (see the
    /// type's docs).
    fn settle<T>(&self, lease: &Lease<B>, res: &Result<T, Error>) {
        let broken = lease.is_closed() || res.as_ref().err().is_some_and(Error::is_closed);
        if broken
            || lease.session_changed()
            || lease.transaction_status() != TransactionStatus::Idle
        {
            self.shared.retire(lease);
        }
    }

    /// [`Connection::query`] on the worker's shared connection (or, for a
    /// statement that may change the session, a pooled one; see the type's
    /// docs).
    pub async fn query(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<Vec<Row>, Error> {
        match self.shared_for(stmt.sql(), false).await? {
            Some(conn) => {
                let res = conn.query(stmt, params).await;
                self.settle(&conn, &res);
                res
            }
            None => self.get().await?.query(stmt, params).await,
        }
    }

    /// [`Connection::query_one`], as [`query`](Self::query).
    pub async fn query_one(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<Row, Error> {
        match self.shared_for(stmt.sql(), false).await? {
            Some(conn) => {
                let res = conn.query_one(stmt, params).await;
                self.settle(&conn, &res);
                res
            }
            None => self.get().await?.query_one(stmt, params).await,
        }
    }

    /// [`Connection::query_opt`], as [`query`](Self::query).
    pub async fn query_opt(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<Option<Row>, Error> {
        match self.shared_for(stmt.sql(), false).await? {
            Some(conn) => {
                let res = conn.query_opt(stmt, params).await;
                self.settle(&conn, &res);
                res
            }
            None => self.get().await?.query_opt(stmt, params).await,
        }
    }

    /// [`Connection::execute`], as [`query`](Self::query).
    pub async fn execute(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<u64, Error> {
        match self.shared_for(stmt.sql(), false).await? {
            Some(conn) => {
                let res = conn.execute(stmt, params).await;
                self.settle(&conn, &res);
                res
            }
            None => self.get().await?.execute(stmt, params).await,
        }
    }

    /// [`Connection::batch_execute`], as [`query`](Self::query): a single
    /// data statement runs on the shared connection; several statements,
    /// or any that may change the session or open a transaction, on a
    /// pooled connection (reset when it goes back).
    pub async fn batch_execute(&self, sql: &str) -> Result<(), Error> {
        match self.shared_for(sql, true).await? {
            Some(conn) => {
                let res = conn.batch_execute(sql).await;
                self.settle(&conn, &res);
                res
            }
            None => self.get().await?.batch_execute(sql).await,
        }
    }
}

/// A transaction on a connection of its own from a [`Client`]'s pool
/// ([`Client::transaction`]). Derefs to the [`Transaction`] (queries,
/// savepoints); [`commit`](Self::commit) or [`rollback`](Self::rollback)
/// ends it, dropping it unfinished rolls it back, and then the connection
/// goes back to the pool.
pub struct PooledTransaction<B: Backend = DefaultBackend> {
    // Dropped in this order: the transaction queues its ROLLBACK (if
    // unfinished) before the connection is returned.
    tx: Transaction,
    conn: PooledConnection<B>,
}

impl<B: Backend> fmt::Debug for PooledTransaction<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledTransaction")
            .field("tx", &self.tx)
            .field("conn", &*self.conn)
            .finish()
    }
}

impl<B: Backend> std::ops::Deref for PooledTransaction<B> {
    type Target = Transaction;

    fn deref(&self) -> &Transaction {
        &self.tx
    }
}

impl<B: Backend> PooledTransaction<B> {
    /// [`Transaction::commit`], then the connection goes back to the pool.
    pub async fn commit(self) -> Result<(), Error> {
        let PooledTransaction { tx, conn } = self;
        let res = tx.commit().await;
        drop(conn);
        res
    }

    /// [`Transaction::rollback`], then the connection goes back to the
    /// pool.
    pub async fn rollback(self) -> Result<(), Error> {
        let PooledTransaction { tx, conn } = self;
        let res = tx.rollback().await;
        drop(conn);
        res
    }
}

#[cfg(test)]
mod tests {
    use super::shareable;

    #[test]
    fn plain_data_statements_are_shareable() {
        for sql in [
            "SELECT 1",
            "  select id, randomnumber FROM world WHERE id = $1",
            "(SELECT 1) UNION (SELECT 2)",
            "INSERT INTO t VALUES ($1)",
            "update world SET randomnumber = $1 WHERE id = $2",
            "DELETE FROM t",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "VALUES (1)",
            "TABLE fortune",
            "SHOW server_version",
        ] {
            assert!(shareable(sql, false), "{sql}");
        }
        assert!(shareable("SELECT 1;", true));
        assert!(
            shareable("SELECT 'a;b'", false),
            "extended: one statement anyway"
        );
    }

    #[test]
    fn session_and_transaction_changes_are_not() {
        for sql in [
            "SET search_path TO x",
            "set local x = 1",
            "BEGIN",
            "START TRANSACTION",
            "COMMIT",
            "PREPARE p AS SELECT 1",
            "LISTEN chan",
            "DECLARE c CURSOR FOR SELECT 1",
            "CREATE TEMP TABLE t (x int)",
            "CREATE TABLE t (x int)",
            "SELECT * INTO TEMPORARY t FROM x",
            "SELECT set_config('search_path', 'x', false)",
            "SELECT pg_advisory_lock(1)",
            "select pg_try_advisory_lock(1)",
            "SELECT setseed(0.5)",
            "DO $$ BEGIN PERFORM 1; END $$",
            "CALL proc()",
            "DISCARD ALL",
            "RESET ALL",
            "/* SELECT */ SET x = 1",
            "-- SELECT\nSET x = 1",
            "",
            "EXPLAIN ANALYZE SELECT 1",
        ] {
            assert!(!shareable(sql, false), "{sql}");
            assert!(!shareable(sql, true), "{sql}");
        }
        // Several statements in one simple query.
        assert!(!shareable("SELECT 1; SET search_path TO x", true));
        assert!(!shareable("SELECT 1;BEGIN", true));
        // Non-ASCII characters separate words.
        assert!(shareable("SELECT 'été' AS \u{e9}t\u{e9} FROM t", false));
        assert!(!shareable("SELECT \u{e9}temp_x FROM t", false));
        assert!(!shareable("SELECT x FROM \u{e9}pg_advisory_lock(1)", false));
    }
}
