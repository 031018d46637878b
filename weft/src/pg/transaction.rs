//! Transactions, savepoints and portals.

use std::cell::Cell;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use proto_pg::types::ToSql;
use proto_pg::{Event, Format};

use super::conn::Connection;
use super::error::Error;
use super::row::Row;
use super::statement::{Column, ToStatement};

/// Transaction isolation levels (`SET TRANSACTION ISOLATION LEVEL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IsolationLevel {
    /// `READ UNCOMMITTED` (behaves as `READ COMMITTED` in PostgreSQL).
    ReadUncommitted,
    /// `READ COMMITTED`, the server default.
    ReadCommitted,
    /// `REPEATABLE READ`.
    RepeatableRead,
    /// `SERIALIZABLE`.
    Serializable,
}

impl IsolationLevel {
    fn sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }
}

/// Options for `BEGIN`; made by [`Connection::build_transaction`].
#[derive(Debug, Clone)]
pub struct TransactionBuilder {
    conn: Connection,
    isolation: Option<IsolationLevel>,
    read_only: Option<bool>,
    deferrable: Option<bool>,
}

impl TransactionBuilder {
    /// Sets the isolation level.
    pub fn isolation_level(mut self, level: IsolationLevel) -> Self {
        self.isolation = Some(level);
        self
    }

    /// `READ ONLY` or `READ WRITE`.
    pub fn read_only(mut self, on: bool) -> Self {
        self.read_only = Some(on);
        self
    }

    /// `DEFERRABLE` or `NOT DEFERRABLE` (matters for serializable read-only).
    pub fn deferrable(mut self, on: bool) -> Self {
        self.deferrable = Some(on);
        self
    }

    /// Starts the transaction: `BEGIN` with the options goes out with the
    /// transaction's first statement, in the same sync block (one round
    /// trip saved); if it fails, that statement is not run and returns
    /// its error. Statements that cannot share a block (simple queries,
    /// COPY) send it on its own first. A transaction that runs no
    /// statement sends nothing.
    pub async fn start(self) -> Result<Transaction, Error> {
        let mut sql = String::from("BEGIN");
        let mut modes = Vec::new();
        if let Some(l) = self.isolation {
            modes.push(format!("ISOLATION LEVEL {}", l.sql()));
        }
        match self.read_only {
            Some(true) => modes.push("READ ONLY".into()),
            Some(false) => modes.push("READ WRITE".into()),
            None => {}
        }
        match self.deferrable {
            Some(true) => modes.push("DEFERRABLE".into()),
            Some(false) => modes.push("NOT DEFERRABLE".into()),
            None => {}
        }
        if !modes.is_empty() {
            sql.push(' ');
            sql.push_str(&modes.join(", "));
        }
        if let Some(e) = self.conn.error() {
            return Err(e);
        }
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let token = NEXT.fetch_add(1, Ordering::Relaxed);
        self.conn.defer_begin(token, sql);
        Ok(Transaction {
            conn: self.conn,
            savepoint: None,
            begin: Some(token),
            done: false,
        })
    }
}

/// An open transaction (or savepoint). Derefs to the [`Connection`], so
/// every query method works on it. [`commit`](Self::commit) or
/// [`rollback`](Self::rollback) ends it; dropping it unfinished rolls it
/// back (the `ROLLBACK` is queued at once, ahead of anything sent later).
pub struct Transaction {
    conn: Connection,
    savepoint: Option<String>,
    /// The token of this transaction's deferred `BEGIN` (none for a
    /// savepoint).
    begin: Option<u64>,
    done: bool,
}

impl fmt::Debug for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction")
            .field("savepoint", &self.savepoint)
            .field("done", &self.done)
            .finish()
    }
}

impl Deref for Transaction {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Connection {
    /// Starts a transaction (`BEGIN`).
    pub async fn transaction(&self) -> Result<Transaction, Error> {
        self.build_transaction().start().await
    }

    /// A transaction with options (isolation level, read-only, deferrable).
    pub fn build_transaction(&self) -> TransactionBuilder {
        TransactionBuilder {
            conn: self.clone(),
            isolation: None,
            read_only: None,
            deferrable: None,
        }
    }
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Transaction {
    /// Commits (or releases the savepoint). A transaction that failed
    /// earlier cannot commit: the server rolls it back and this returns
    /// [`Error::RolledBack`].
    pub async fn commit(mut self) -> Result<(), Error> {
        self.done = true;
        if self.unstarted() {
            return Ok(());
        }
        let sql = match &self.savepoint {
            None => "COMMIT".to_owned(),
            Some(name) => format!("RELEASE SAVEPOINT {}", quote_ident(name)),
        };
        let conn = self.conn.clone();
        let tag = conn
            .timed(async {
                conn.gate().await?;
                let mut op = conn.submit(false, |p, ids| {
                    ids.push(p.simple_query(&sql)?);
                    Ok(())
                })?;
                super::query::collect_op(&mut op).await
            })
            .await?;
        if tag.as_deref() == Some("ROLLBACK") {
            return Err(Error::RolledBack);
        }
        Ok(())
    }

    /// Rolls back (to the savepoint, for a savepoint).
    pub async fn rollback(mut self) -> Result<(), Error> {
        self.done = true;
        if self.unstarted() {
            return Ok(());
        }
        self.conn.batch_execute(&self.rollback_sql()).await
    }

    /// True (and the deferred `BEGIN` dropped) when no statement of this
    /// transaction was sent: there is nothing to end on the server.
    fn unstarted(&self) -> bool {
        self.begin.is_some_and(|t| self.conn.take_begin(t))
    }

    fn rollback_sql(&self) -> String {
        match &self.savepoint {
            None => "ROLLBACK".into(),
            Some(name) => {
                let n = quote_ident(name);
                format!("ROLLBACK TO SAVEPOINT {n}; RELEASE SAVEPOINT {n}")
            }
        }
    }

    /// Opens a savepoint: a nested transaction that can be rolled back
    /// alone.
    pub async fn savepoint(&self, name: &str) -> Result<Transaction, Error> {
        self.conn
            .batch_execute(&format!("SAVEPOINT {}", quote_ident(name)))
            .await?;
        Ok(Transaction {
            conn: self.conn.clone(),
            savepoint: Some(name.to_owned()),
            begin: None,
            done: false,
        })
    }

    /// Binds `stmt` to a named portal, to fetch its rows a batch at a time
    /// with [`query_portal`](Self::query_portal). Portals live until the
    /// transaction ends.
    pub async fn bind(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<Portal, Error> {
        let s = match stmt.statement() {
            Some(s) => s.clone(),
            None => self.conn.prepare(stmt.sql()).await?,
        };
        let types = s.params();
        if types.len() != params.len() {
            return Err(Error::ParamCount {
                expected: types.len(),
                got: params.len(),
            });
        }
        let name = self.conn.next_name("p");
        let op = self.conn.submit_in_block(false, |p, ids| {
            ids.push(p.bind_with(
                &name,
                s.name(),
                &[Format::Binary],
                params.len(),
                |i, b| Ok(params[i].to_sql_checked(types[i], Format::Binary, b)?),
                &[Format::Binary],
            )?);
            ids.push(p.sync()?);
            Ok(())
        })?;
        super::query::collect(op, &s.0.columns, Format::Binary, 0).await?;
        Ok(Portal {
            conn: self.conn.clone(),
            name,
            columns: s.0.columns.clone(),
            done: Cell::new(false),
        })
    }

    /// Executes `portal` for at most `max_rows` rows (`Execute` with a row
    /// limit; the server answers `PortalSuspended` when more remain). An
    /// empty result means the portal is exhausted.
    pub async fn query_portal(&self, portal: &Portal, max_rows: u32) -> Result<Vec<Row>, Error> {
        if portal.done.get() {
            return Ok(Vec::new());
        }
        let mut op = self.conn.submit(false, |p, ids| {
            ids.push(p.execute(&portal.name, max_rows)?);
            ids.push(p.sync()?);
            Ok(())
        })?;
        let mut rows = Vec::new();
        let mut error = None;
        let mut suspended = false;
        while let Some(ev) = op.next().await {
            match ev? {
                Event::Row { row, .. } => {
                    rows.push(Row::new(portal.columns.clone(), row, Format::Binary))
                }
                Event::PortalSuspended { .. } => suspended = true,
                Event::Failed { error: e, .. } => {
                    error.get_or_insert(Error::Db(e));
                }
                _ => {}
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        if !suspended {
            portal.done.set(true);
        }
        Ok(rows)
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.done && !self.conn.is_closed() && !self.unstarted() {
            let sql = self.rollback_sql();
            self.conn.fire(&sql);
        }
    }
}

/// A named portal: a bound statement whose rows are fetched in batches
/// ([`Transaction::query_portal`]). Closed when dropped.
pub struct Portal {
    conn: Connection,
    name: String,
    columns: Arc<[Column]>,
    done: Cell<bool>,
}

impl fmt::Debug for Portal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Portal")
            .field("name", &self.name)
            .field("done", &self.done.get())
            .finish()
    }
}

impl Portal {
    /// True once an execution ran to the end of the result (no
    /// `PortalSuspended`).
    pub fn is_done(&self) -> bool {
        self.done.get()
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        if self.conn.is_closed() {
            return;
        }
        if let Ok(op) = self.conn.submit(false, |p, ids| {
            ids.push(p.close_portal(&self.name)?);
            ids.push(p.sync()?);
            Ok(())
        }) {
            op.detach();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, Connection, Error};
    use crate::rt::Backend;

    /// The test server (as the integration tests find it), or `None`.
    fn config() -> Option<Config> {
        let get = |v: &str| std::env::var(v).ok().filter(|s| !s.is_empty());
        match (get("WEFT_PG_HOST"), get("WEFT_PG_PORT"), get("WEFT_PG_DB")) {
            (Some(h), Some(p), Some(d)) => {
                Some(Config::new(h, p.parse().expect("WEFT_PG_PORT"), "weft").dbname(d))
            }
            _ => {
                assert_ne!(
                    std::env::var("WEFT_REQUIRE_SERVICES").as_deref(),
                    Ok("1"),
                    "WEFT_PG_HOST/PORT/DB unset"
                );
                eprintln!("skipped: WEFT_PG_HOST/WEFT_PG_PORT/WEFT_PG_DB unset");
                None
            }
        }
    }

    /// A deferred `BEGIN` that fails makes the server skip the statement
    /// sent in its sync block: the statement does not run outside the
    /// transaction, and reports the `BEGIN`'s error.
    #[test]
    fn failed_deferred_begin_skips_the_statement() {
        let Some(cfg) = config() else { return };
        crate::rt::DefaultBackend::block_on(async {
            let conn = Connection::connect::<crate::rt::DefaultBackend>(&cfg)
                .await
                .unwrap();
            conn.batch_execute("CREATE TEMP TABLE deferred_begin (x int4)")
                .await
                .unwrap();
            let ins = conn
                .prepare("INSERT INTO deferred_begin VALUES (1)")
                .await
                .unwrap();
            // Not something the builder makes: a syntax error stands in
            // for a BEGIN the server refuses.
            conn.defer_begin(u64::MAX, "BEGIN ISOLATION LEVEL NONSENSE".into());
            let e = conn.execute(&ins, &[]).await.unwrap_err();
            assert!(matches!(&e, Error::Db(d) if d.code == "42601"), "{e:?}");
            let n: i64 = conn
                .query_one("SELECT count(*) FROM deferred_begin", &[])
                .await
                .unwrap()
                .get(0)
                .unwrap();
            assert_eq!(n, 0, "the INSERT was skipped");
            assert_eq!(
                conn.transaction_status(),
                proto_pg::message::backend::TransactionStatus::Idle
            );
        });
    }
}
