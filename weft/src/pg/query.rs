//! Queries: `prepare`, `query`, `query_one`, `query_opt`, `execute`,
//! `query_raw` (streaming), `simple_query`, `batch_execute`.
//!
//! Extended-query flow ("Extended Query", 55.2.3): a statement is prepared
//! once per connection (`Parse` + `Describe` + `Sync`, learning the
//! parameter types the server inferred and the result columns) and kept in
//! the connection's LRU cache; each execution is then `Bind` (parameters
//! encoded for the server's types, all results requested in binary) +
//! `Execute` + `Sync`, one round trip.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::sync::Arc;

use proto_pg::message::backend::CommandTag;
use proto_pg::types::{ToSql, TypeError};
use proto_pg::{Event, Format, Oid};

use super::conn::{Connection, Op};
use super::error::Error;
use super::row::Row;
use super::statement::{Column, Inner, Statement, ToStatement};
use super::stream::RowStream;
use crate::rt::time;

/// SQLSTATE `invalid_sql_statement_name`: the server does not know the
/// prepared statement (it was deallocated).
const INVALID_STATEMENT: &str = "26000";

impl Connection {
    /// Runs `fut` under the connection's query timeout, if one is set.
    pub(crate) async fn timed<T>(
        &self,
        fut: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let limit = self.shared.state.borrow().query_timeout;
        match limit {
            None => fut.await,
            Some(d) => time::timeout(d, fut).await.unwrap_or(Err(Error::Timeout)),
        }
    }

    /// Prepares `sql` (or returns it from the statement cache).
    pub async fn prepare(&self, sql: &str) -> Result<Statement, Error> {
        self.timed(self.prepare_typed_inner(sql, &[])).await
    }

    /// Prepares `sql` with some parameter types given (0 lets the server
    /// infer one). Bypasses the cache when types are given.
    pub async fn prepare_typed(&self, sql: &str, types: &[Oid]) -> Result<Statement, Error> {
        self.timed(self.prepare_typed_inner(sql, types)).await
    }

    async fn prepare_typed_inner(&self, sql: &str, types: &[Oid]) -> Result<Statement, Error> {
        self.gate().await?;
        let use_cache = types.is_empty();
        if use_cache && let Some(s) = self.shared.state.borrow_mut().cache.get(sql) {
            // Noted when it was prepared: the session stays marked until
            // a reset, which also empties the cache.
            return Ok(s);
        }
        self.note_sql(sql);
        let name = self.next_name("s");
        let mut op = self.submit_in_block(false, |p, ids| {
            ids.push(p.prepare(&name, sql, types)?);
            ids.push(p.sync()?);
            Ok(())
        })?;
        let mut params = Vec::new();
        let mut columns = Vec::new();
        let mut error = None;
        while let Some(ev) = op.next().await {
            match ev? {
                Event::ParameterDescription { types, .. } => params = types.types().collect(),
                Event::RowDescription { columns: cols, .. } => {
                    columns = cols
                        .iter()
                        .map(|f| Column::new(f.name, f.type_oid, f.table_oid, f.column_id))
                        .collect()
                }
                Event::Failed { error: e, .. } => {
                    error.get_or_insert(Error::Db(e));
                }
                _ => {}
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        let stmt = Statement(Arc::new(Inner {
            name,
            sql: sql.to_owned(),
            params,
            columns: Arc::from(columns),
        }));
        if use_cache {
            let evicted = self.shared.state.borrow_mut().cache.insert(stmt.clone());
            if let Some(old) = evicted
                && !Arc::ptr_eq(&old.0, &stmt.0)
            {
                self.close_statement(&old);
            }
        }
        Ok(stmt)
    }

    /// Closes a statement on the server, without waiting.
    fn close_statement(&self, stmt: &Statement) {
        if let Ok(op) = self.submit(false, |p, ids| {
            ids.push(p.close_statement(&stmt.0.name)?);
            ids.push(p.sync()?);
            Ok(())
        }) {
            op.detach();
        }
    }

    async fn resolve(&self, stmt: &(impl ToStatement + ?Sized)) -> Result<Statement, Error> {
        match stmt.statement() {
            Some(s) => Ok(s.clone()),
            None => {
                let cached = self.shared.state.borrow_mut().cache.get(stmt.sql());
                match cached {
                    Some(s) => Ok(s),
                    // Boxed: the rare path keeps its state out of every
                    // query's future.
                    None => Box::pin(self.prepare_typed_inner(stmt.sql(), &[])).await,
                }
            }
        }
    }

    /// Queues `Bind` + `Execute` + `Sync` for `stmt`, one protocol
    /// request.
    pub(crate) fn start(
        &self,
        stmt: &Statement,
        params: &[&dyn ToSql],
        format: Format,
        stream: bool,
    ) -> Result<Op, Error> {
        let types = &stmt.0.params;
        if types.len() != params.len() {
            return Err(Error::ParamCount {
                expected: types.len(),
                got: params.len(),
            });
        }
        for (p, &t) in params.iter().zip(types) {
            if !p.accepts(t) {
                return Err(Error::Type(TypeError::WrongType {
                    oid: t,
                    rust: "the parameter's Rust type",
                }));
            }
        }
        self.submit_in_block(stream, |p, ids| {
            ids.push(p.bind_execute_sync(
                "",
                &stmt.0.name,
                &[format],
                params.len(),
                |i, b| Ok(params[i].to_sql(types[i], format, b)?),
                &[format],
                0,
            )?);
            Ok(())
        })
    }

    /// Runs a statement and collects its rows and command tag, preparing
    /// it again once if the server forgot it.
    async fn run(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
        format: Format,
        limit: usize,
    ) -> Result<Collected, Error> {
        self.gate().await?;
        let mut s = self.resolve(stmt).await?;
        let mut retried = false;
        loop {
            let op = self.start(&s, params, format, false)?;
            match collect(op, &s.0.columns, format, limit).await {
                Err(e) if !retried && e.code() == Some(INVALID_STATEMENT) => {
                    retried = true;
                    self.shared.state.borrow_mut().cache.remove(&s);
                    s = Box::pin(self.prepare_typed_inner(s.sql(), &[])).await?;
                }
                Err(e) => return Err(e),
                Ok(r) => {
                    if self.shared.state.borrow().cache.capacity() == 0
                        && stmt.statement().is_none()
                    {
                        self.close_statement(&s);
                    }
                    return Ok(r);
                }
            }
        }
    }

    /// Runs a statement and returns all its rows (values in binary
    /// format). `stmt` is SQL text (prepared through the cache) or a
    /// [`Statement`]; `params` are encoded for the types the server
    /// inferred, in binary.
    pub async fn query(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<Vec<Row>, Error> {
        self.timed(self.run(stmt, params, Format::Binary, usize::MAX))
            .await
            .map(|r| r.rows)
    }

    /// As [`query`](Self::query), with parameters and results in text
    /// format.
    pub async fn query_text(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<Vec<Row>, Error> {
        self.timed(self.run(stmt, params, Format::Text, usize::MAX))
            .await
            .map(|r| r.rows)
    }

    /// Runs a statement that must return exactly one row.
    pub async fn query_one(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<Row, Error> {
        let mut r = self
            .timed(self.run(stmt, params, Format::Binary, 1))
            .await?;
        match r.total {
            1 => Ok(r.rows.pop().expect("one row")),
            got => Err(Error::RowCount {
                expected: "exactly 1",
                got,
            }),
        }
    }

    /// Runs a statement that must return at most one row.
    pub async fn query_opt(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<Option<Row>, Error> {
        let mut r = self
            .timed(self.run(stmt, params, Format::Binary, 1))
            .await?;
        match r.total {
            0 | 1 => Ok(r.rows.pop()),
            got => Err(Error::RowCount {
                expected: "at most 1",
                got,
            }),
        }
    }

    /// Runs a statement and returns the number of rows it affected (from
    /// the command tag; 0 for commands that report none).
    pub async fn execute(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<u64, Error> {
        let r = self
            .timed(self.run(stmt, params, Format::Binary, 0))
            .await?;
        Ok(r.tag
            .as_deref()
            .and_then(|t| CommandTag(t).rows())
            .unwrap_or(0))
    }

    /// Runs a statement and streams its rows: at most
    /// [`Config::stream_buffer_rows`](super::Config) are buffered, however
    /// large the result (the driver stops reading the socket until the
    /// consumer catches up). Dropping the stream early cancels the query.
    pub async fn query_raw(
        &self,
        stmt: &(impl ToStatement + ?Sized),
        params: &[&dyn ToSql],
    ) -> Result<RowStream, Error> {
        self.timed(async {
            self.gate().await?;
            let s = self.resolve(stmt).await?;
            let op = self.start(&s, params, Format::Binary, true)?;
            Ok(RowStream::new(op, s.0.columns.clone(), Format::Binary))
        })
        .await
    }

    /// Runs one or more `;`-separated statements with the simple query
    /// protocol (no parameters) and returns the rows of all of them, in
    /// text format.
    pub async fn simple_query(&self, sql: &str) -> Result<Vec<Row>, Error> {
        self.note_sql(sql);
        self.timed(async {
            self.gate().await?;
            self.begin_now().await?;
            let op = self.submit(false, |p, ids| {
                ids.push(p.simple_query(sql)?);
                Ok(())
            })?;
            collect(op, &Arc::from(Vec::new()), Format::Text, usize::MAX)
                .await
                .map(|r| r.rows)
        })
        .await
    }

    /// Runs one or more `;`-separated statements with the simple query
    /// protocol, discarding any rows.
    pub async fn batch_execute(&self, sql: &str) -> Result<(), Error> {
        self.note_sql(sql);
        self.timed(async {
            self.gate().await?;
            self.begin_now().await?;
            let op = self.submit(false, |p, ids| {
                ids.push(p.simple_query(sql)?);
                Ok(())
            })?;
            collect(op, &Arc::from(Vec::new()), Format::Text, 0)
                .await
                .map(drop)
        })
        .await
    }

    /// Sends a simple query without waiting for it; its results are
    /// discarded (`ROLLBACK` on drop, pool resets).
    pub(crate) fn fire(&self, sql: &str) {
        if let Ok(op) = self.submit(false, |p, ids| {
            ids.push(p.simple_query(sql)?);
            Ok(())
        }) {
            op.detach();
        }
    }
}

/// Reads an operation to its end: rows (at most `limit` kept; the rest
/// are counted and dropped), the last command tag, and the first error
/// (after reading to the end, so the connection stays in step).
/// `columns` is replaced by any `RowDescription` that arrives (simple
/// queries describe their own rows).
pub(crate) async fn collect(
    mut op: Op,
    columns: &Arc<[Column]>,
    format: Format,
    limit: usize,
) -> Result<Collected, Error> {
    let mut rows = Vec::new();
    let mut tag = None;
    let mut error = None;
    let mut cols = columns.clone();
    let mut extra = 0usize;
    let mut batch = VecDeque::new();
    while poll_fn(|cx| op.poll_batch(cx, &mut batch)).await? {
        // Room for the batch's rows at once (at most one event in it is
        // not a row per request).
        rows.reserve(batch.len().min(limit - rows.len()));
        for ev in batch.drain(..) {
            match ev {
                Event::Row { row, .. } => {
                    if rows.len() < limit {
                        rows.push(Row::new(cols.clone(), row, format));
                    } else {
                        extra += 1;
                    }
                }
                Event::RowDescription { columns: c, .. } => {
                    cols = c
                        .iter()
                        .map(|f| Column::new(f.name, f.type_oid, f.table_oid, f.column_id))
                        .collect::<Vec<_>>()
                        .into();
                }
                Event::CommandComplete { tag: t, .. } => tag = Some(t),
                Event::Failed { error: e, .. } => {
                    error.get_or_insert(Error::Db(e));
                }
                _ => {}
            }
        }
    }
    if let Some(e) = error {
        return Err(e);
    }
    Ok(Collected {
        total: rows.len() + extra,
        rows,
        tag,
    })
}

/// What [`collect`] read.
pub(crate) struct Collected {
    pub(crate) rows: Vec<Row>,
    pub(crate) tag: Option<String>,
    /// Rows received, kept or not.
    pub(crate) total: usize,
}

/// Reads an operation to its end; returns the last command tag or the
/// first error.
pub(crate) async fn collect_op(op: &mut Op) -> Result<Option<String>, Error> {
    let mut tag = None;
    let mut error = None;
    while let Some(ev) = op.next().await {
        match ev? {
            Event::CommandComplete { tag: t, .. } => tag = Some(t),
            Event::Failed { error: e, .. } => {
                error.get_or_insert(Error::Db(e));
            }
            _ => {}
        }
    }
    match error {
        Some(e) => Err(e),
        None => Ok(tag),
    }
}
